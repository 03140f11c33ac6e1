//! The status page (`GET /`): plain HTML in Chinese, rendered on the server, readable without
//! JavaScript. The 合格率 per county first; then the registry's findings (漏报, 未及时关停, 无人巡检);
//! then per county each site's pages, message boards and accounts with their state, newest dates
//! and findings (a home page's or account's row carries the verdict, 合格/不合格, and its reasons);
//! then the exemptions in force and the agents and when each last pushed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use xunjian_shared::time::china_time;
use xunjian_shared::wire::{
    Observation, RegistryStatus, Severity, StatusReport, TargetKind, TargetStatus, VerdictStatus,
};

/// An agent silent this long is shown as 失联 (three default probe intervals).
const SILENT_AFTER_SECS: i64 = 15 * 60;

/// Pages listed one by one on the status page at most (a city's); beyond, a line per county.
pub const FULL_PAGE_AT_MOST: usize = 3000;

/// The status page for `scope`: every page for a city, a line per county for a province (the
/// pages are then counted, not copied).
pub fn render_for(store: &crate::store::Store, judged: &super::Judged, scope: &crate::people::Scope) -> String {
    let pages = store.snapshot().subjects().values().filter(|state| scope.sees(&state.county)).count();
    if pages <= FULL_PAGE_AT_MOST {
        return render(&super::status_report(store, judged, scope, super::Pages::Every));
    }
    let compact = std::cell::RefCell::new(Compact::default());
    let report = super::status_report(
        store,
        judged,
        scope,
        super::Pages::Kept(&|page| {
            compact.borrow_mut().add(page);
            false
        }),
    );
    render_with(&report, Some(&compact.borrow()))
}

/// Where a page shared by every caller of one scope gets its caller's own bar.
pub const CALLER_SLOT: &str = "<!--xunjian:caller-->";

/// Who is looking, and the way out: the name, role and counties, and a logout form.
pub fn caller_bar(caller: &super::Caller) -> String {
    let scope = match caller.scope.counties() {
        Some(counties) => counties.iter().map(|c| escape(c)).collect::<Vec<_>>().join("、"),
        None => "全部县区".to_string(),
    };
    let mut bar = format!("<p class=\"who\">{}（{}，{scope}）", escape(&caller.name), caller.role.label_zh());
    if caller.scope.is_all() {
        bar.push_str(" · <a href=\"/metrics\">/metrics</a>");
    }
    if let Some(csrf) = caller.csrf() {
        let _ = write!(
            bar,
            " · <form class=\"logout\" method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">退出登录</button></form>",
            escape(csrf)
        );
    }
    bar.push_str("</p>");
    bar
}

/// The pages of a province, counted instead of listed: per county, pages and pages with a
/// problem; and the totals of the summary line.
#[derive(Debug, Default)]
pub struct Compact {
    pub per_county: BTreeMap<String, (usize, usize)>,
    targets: std::collections::BTreeSet<(String, String)>,
    last_target: Option<(String, String)>,
    pages: usize,
    with_problems: usize,
    vetoes: usize,
}

impl Compact {
    /// Counts one page (its findings after exemptions).
    pub fn add(&mut self, page: &crate::view::Page<'_>) {
        let ok = page.ok();
        // A province's 50,000 pages come here: no string is copied for a county or target met
        // before (a target's pages come one after another).
        let line = match self.per_county.get_mut(&page.state.county) {
            Some(line) => line,
            None => self.per_county.entry(page.state.county.clone()).or_default(),
        };
        line.0 += 1;
        line.1 += usize::from(!ok);
        self.pages += 1;
        self.with_problems += usize::from(!ok);
        self.vetoes += page.findings.iter().filter(|f| f.severity == Severity::Veto).count();
        let (agent, target) = (&page.key.agent, &page.key.target);
        if self.last_target.as_ref().is_none_or(|(a, t)| a != agent || t != target) {
            self.targets.insert((agent.clone(), target.clone()));
            self.last_target = Some((agent.clone(), target.clone()));
        }
    }

    fn totals(&self) -> Totals {
        Totals {
            counties: self.per_county.len(),
            targets: self.targets.len(),
            pages: self.pages,
            with_problems: self.with_problems,
            vetoes: self.vetoes,
        }
    }
}

pub fn render(report: &StatusReport) -> String {
    render_with(report, None)
}

/// The page; with `compact`, a line per county instead of every page (a province).
pub fn render_with(report: &StatusReport, compact: Option<&Compact>) -> String {
    let mut html = String::with_capacity(64 * 1024);
    let generated = china_time(report.generated_at);
    let quarter = crate::report::Period::quarter_of(xunjian_shared::time::china_today(report.generated_at));
    let quarter_code = crate::report::period_code(quarter);
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>巡检 · 政府网站与政务新媒体监测</title><style>{STYLE}</style></head><body>\
         <header><h1>政府网站与政务新媒体巡检</h1><p><a href=\"/overview\">控制台（总览、问题台账、整改任务）</a> · 更新于 {generated}（刷新页面查看最新） · <a href=\"/api/v1/status\">/api/v1/status</a> · 问题台账：<a href=\"/api/v1/problems?status=open\">未解决</a>（<a href=\"/api/v1/problems.csv\">全部导出 Excel</a>） · 通报：<a class=\"report\" href=\"/api/v1/report?period={quarter_code}&amp;format=docx\">{quarter}通报（Word）</a>（<a href=\"/report\">其他时段与格式</a>）</p>{CALLER_SLOT}</header>"
    );
    let totals = compact.map(Compact::totals).unwrap_or_else(|| Totals::of(&report.targets));
    let failed = report.verdicts.iter().filter(|v| !v.pass).count();
    let _ = write!(
        html,
        "<section class=\"summary\"><div><b>{}</b>个县区</div><div><b>{}</b>个网站/账号</div><div><b>{}</b>个页面</div>\
         <div class=\"bad\"><b>{}</b>个页面有问题</div><div class=\"veto\"><b>{}</b>项单项否决</div><div class=\"veto\"><b>{failed}</b>个网站/账号不合格</div></section>",
        totals.counties, totals.targets, totals.pages, totals.with_problems, totals.vetoes
    );

    render_pass_ratios(&mut html, report);
    render_registry(&mut html, &report.registry);
    let verdicts: BTreeMap<(&str, &str, TargetKind, &str), &VerdictStatus> = report
        .verdicts
        .iter()
        .map(|v| ((v.county.as_str(), v.target.as_str(), v.kind, v.platform.as_deref().unwrap_or("")), v))
        .collect();

    let mut by_county: BTreeMap<&str, Vec<&TargetStatus>> = BTreeMap::new();
    for target in &report.targets {
        by_county.entry(target.county.as_str()).or_default().push(target);
    }
    if by_county.is_empty() && compact.is_none() {
        html.push_str(
            "<p class=\"empty\">尚未收到任何巡检数据。请确认各县区的 xunjian-agent 已配置 [collector] 并在运行。</p>",
        );
    }
    // A province does not fit on one page: a line per county that links to the county's page
    // in the console.
    if let Some(compact) = compact {
        let _ = write!(
            html,
            "<section class=\"county\"><h2>各县区<small>共 {} 个页面，逐页情况见各县区页面</small></h2><table><thead><tr><th>县区</th><th>页面</th><th>有问题的页面</th></tr></thead><tbody>",
            compact.pages
        );
        for (county, (pages, problems)) in &compact.per_county {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{pages}</td><td>{problems}</td></tr>",
                super::console::county_link(county),
            );
        }
        html.push_str("</tbody></table></section>");
    }
    for (county, mut targets) in by_county {
        // Per target: the home page or account first, then columns, then channels.
        let order = |o: &Observation| {
            (o.column.is_some() as u8 + 2 * o.channel.is_some() as u8, o.column.clone(), o.channel.clone())
        };
        targets.sort_by(|a, b| {
            (&a.observation.target, order(&a.observation)).cmp(&(&b.observation.target, order(&b.observation)))
        });
        let problems = targets.iter().filter(|t| !t.observation.ok).count();
        let _ = write!(
            html,
            "<section class=\"county\"><h2>{}<small>{} 个页面，{} 个有问题</small></h2>",
            super::console::county_link(county),
            targets.len(),
            problems
        );
        html.push_str("<table><thead><tr><th>目标</th><th>责任单位</th><th>栏目/渠道</th><th>状态</th><th>条数</th><th>最新日期</th><th>距今天数</th><th>问题</th><th>巡检时间</th></tr></thead><tbody>");
        let mut previous_target = "";
        for target in targets {
            let observation = &target.observation;
            let first_row = observation.target != previous_target;
            // The home page's or account's row carries the target's verdict, registry included.
            let verdict = (observation.column.is_none() && observation.channel.is_none())
                .then(|| {
                    let platform = observation.platform.as_deref().unwrap_or("");
                    verdicts.get(&(target.county.as_str(), observation.target.as_str(), observation.kind, platform))
                })
                .flatten();
            let (state_class, state_text) = match verdict {
                Some(verdict) if verdict.pass => ("ok", "合格"),
                Some(_) => ("veto", "不合格"),
                None => state_of(observation),
            };
            let (name, unit) = if first_row {
                (super::console::subject_link(county, &observation.target), escape(&observation.unit))
            } else {
                (String::new(), String::new())
            };
            previous_target = &observation.target;
            let mut findings: Vec<String> = observation
                .findings
                .iter()
                .map(|f| format!("<span class=\"{}\">{}</span>", severity_class(f.severity), escape(&f.detail)))
                .collect();
            findings.extend(target.exempted.iter().map(|e| {
                format!("<span class=\"exempt\">{}（已豁免 #{}）</span>", escape(&e.finding.detail), e.exemption)
            }));
            if let Some(summary) = page_summary(observation) {
                findings.insert(0, format!("<span class=\"info\">{summary}</span>"));
            }
            if let Some(verdict) = verdict {
                let reasons =
                    verdict.reasons.iter().map(|r| ("veto", r)).chain(verdict.notes.iter().map(|r| ("warn", r)));
                for (index, (class, reason)) in reasons.enumerate() {
                    findings.insert(
                        index,
                        format!(
                            "<span class=\"{class}\"><b>{}</b>：{}</span>",
                            escape(&reason.label),
                            escape(&reason.detail)
                        ),
                    );
                }
            }
            let _ = write!(
                html,
                "<tr class=\"{state_class}\"><td>{name}</td><td>{}</td><td>{}</td><td><span class=\"pill {state_class}\">{state_text}</span></td>\
                 <td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                unit,
                page_name(observation),
                observation
                    .items()
                    .or(observation.replies().messages)
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "-".into()),
                observation.last_update().map(|d| d.date.to_string()).unwrap_or_else(|| "-".into()),
                observation.age_days().map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                if findings.is_empty() { "-".to_string() } else { findings.join("<br>") },
                china_time(observation.checked_at),
            );
        }
        html.push_str("</tbody></table></section>");
    }

    html.push_str("<section class=\"agents\"><h2>采集代理</h2><table><thead><tr><th>代理</th><th>县区</th><th>最近推送</th><th>状态</th><th>批次</th></tr></thead><tbody>");
    for agent in &report.agents {
        let silent = report.generated_at.as_second() - agent.last_push_at.as_second() > SILENT_AFTER_SECS;
        let _ = write!(
            html,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            if silent { "bad" } else { "ok" },
            escape(&agent.agent),
            escape(&agent.county),
            china_time(agent.last_push_at),
            if silent { "失联" } else { "在线" },
            agent.batches
        );
    }
    html.push_str("</tbody></table></section><footer>xunjian 巡检 · 依据国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》</footer></body></html>\n");
    html
}

/// 合格率 per county: sites, accounts, both; the whole city last.
fn render_pass_ratios(html: &mut String, report: &StatusReport) {
    if report.pass_ratios.is_empty() {
        return;
    }
    let mut counties: Vec<&str> = Vec::new();
    for ratio in &report.pass_ratios {
        if !counties.contains(&ratio.county.as_str()) {
            counties.push(&ratio.county);
        }
    }
    html.push_str(
        "<section class=\"ratios\"><h2>各县区合格率<small>单项否决即不合格（国办秘函〔2019〕19号）</small></h2>\
         <table><thead><tr><th>县区</th><th>网站 合格/总数</th><th>网站合格率</th><th>政务新媒体 合格/总数</th><th>政务新媒体合格率</th><th>合计合格率</th></tr></thead><tbody>",
    );
    let cell = |county: &str, kind: TargetKind| {
        report.pass_ratios.iter().find(|r| r.county == county && r.kind == kind).map(|r| (r.passed, r.judged))
    };
    let percent = |(passed, judged): (u32, u32)| {
        if judged == 0 { "-".to_string() } else { format!("{:.1}%", f64::from(passed) * 100.0 / f64::from(judged)) }
    };
    for county in counties {
        let site = cell(county, TargetKind::Site);
        let account = cell(county, TargetKind::Account);
        let both = (
            site.unwrap_or((0, 0)).0 + account.unwrap_or((0, 0)).0,
            site.unwrap_or((0, 0)).1 + account.unwrap_or((0, 0)).1,
        );
        let fraction = |c: Option<(u32, u32)>| c.map(|(p, j)| format!("{p}/{j}")).unwrap_or_else(|| "-".into());
        let _ = write!(
            html,
            "<tr class=\"{}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\"><b>{}</b></td></tr>",
            if both.0 == both.1 { "ok" } else { "bad" },
            if county == crate::judge::WHOLE_CITY { escape(county) } else { super::console::county_link(county) },
            fraction(site),
            site.map(percent).unwrap_or_else(|| "-".into()),
            fraction(account),
            account.map(percent).unwrap_or_else(|| "-".into()),
            percent(both)
        );
    }
    html.push_str("</tbody></table></section>");
}

/// What the row is: a column, a channel, an account or the home page.
fn page_name(observation: &Observation) -> String {
    match (&observation.column, &observation.channel, &observation.platform) {
        (Some(column), _, _) => escape(column),
        (None, Some(channel), _) => format!("{}（互动）", escape(channel)),
        (None, None, Some(platform)) => xunjian_shared::config::Platform::parse(platform)
            .map(|p| format!("{}账号", p.label_zh()))
            .unwrap_or_else(|_| "账号".into()),
        (None, None, None) => "首页".into(),
    }
}

/// A message board's, guide list's or policy column's counts, in words (numbers only: nothing a
/// site wrote).
fn page_summary(observation: &Observation) -> Option<String> {
    if let Some(guides) = observation.guides() {
        return Some(format!("办事指南已读 {} 个，要素不齐 {} 个", guides.checked, guides.incomplete));
    }
    if let Some(summary) = observation.interpretations() {
        let mut words = format!(
            "政策文件 {} 个：已解读 {}，未解读 {}，解读不及时 {}，待解读 {}",
            summary.policies, summary.interpreted, summary.missing, summary.late, summary.pending
        );
        if let Some(days) = summary.max_delay_working_days {
            let _ = write!(words, "，最长 {days} 个工作日");
        }
        return Some(words);
    }
    let messages = observation.replies().messages?;
    let mut summary = format!("留言 {messages} 条");
    if let Some(unanswered) = observation.replies().unanswered {
        let _ = write!(summary, "，未答复 {unanswered}");
    }
    if let Some(overdue) = observation.replies().overdue {
        let _ = write!(summary, "，超期 {overdue}");
    }
    if let Some(days) = observation.replies().max_reply_working_days {
        let _ = write!(summary, "，最长 {days} 个工作日");
    }
    if let Some(pending) = observation.replies().details_pending.filter(|n| *n > 0) {
        let _ = write!(summary, "，{pending} 条待读取详情页");
    }
    Some(summary)
}

/// The registry's findings, filings no agent inspects, and the exemptions.
/// Registry rows listed at most (the rest are in the registry page and the ledger).
const REGISTRY_ROWS: usize = 1000;

fn render_registry(html: &mut String, registry: &RegistryStatus) {
    let _ = write!(
        html,
        "<section class=\"registry\"><h2>备案核查<small>已备案 {} 个，巡检到的已备案 {} 个</small></h2>",
        registry.filed, registry.observed_filed
    );
    if registry.filed == 0 {
        html.push_str(
            "<p class=\"empty\">尚未导入备案表：xunjian-collector registry import 备案表.csv --config collector.toml --author 姓名</p>",
        );
    }
    if !registry.findings.is_empty() || !registry.unmonitored.is_empty() {
        html.push_str("<table><thead><tr><th>名称</th><th>平台</th><th>责任单位</th><th>县区</th><th>备案状态</th><th>问题</th></tr></thead><tbody>");
        for entry in registry.findings.iter().take(REGISTRY_ROWS) {
            let _ = write!(
                html,
                "<tr class=\"bad\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><span class=\"{}\">{}</span></td></tr>",
                super::console::subject_link(&entry.county, &entry.target),
                escape(&entry.channel),
                escape(&entry.unit),
                super::console::county_link(&entry.county),
                entry.filed_status.as_deref().map(escape).unwrap_or_else(|| "未备案".into()),
                severity_class(entry.finding.severity),
                escape(&entry.finding.detail)
            );
        }
        for filing in registry.unmonitored.iter().take(REGISTRY_ROWS) {
            let _ = write!(
                html,
                "<tr class=\"warn\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><span class=\"warn\">已备案，但没有任何采集代理巡检（请在所属县区的 agent.toml 中添加）</span></td></tr>",
                super::console::subject_link(&filing.county, &filing.name),
                escape(&filing.channel),
                escape(&filing.unit),
                super::console::county_link(&filing.county),
                escape(&filing.status)
            );
        }
        html.push_str("</tbody></table>");
        let hidden = registry.findings.len().saturating_sub(REGISTRY_ROWS)
            + registry.unmonitored.len().saturating_sub(REGISTRY_ROWS);
        if hidden > 0 {
            let _ = write!(
                html,
                "<p class=\"empty\">另有 {hidden} 条未列出，见<a href=\"/registry\">备案与豁免</a>和问题台账。</p>"
            );
        }
    }
    let active: Vec<_> = registry.exemptions.iter().filter(|e| e.active).collect();
    if !active.is_empty() {
        html.push_str("<h3>生效中的豁免</h3><table><thead><tr><th>编号</th><th>目标</th><th>栏目/渠道</th><th>问题代码</th><th>理由</th><th>批准人</th><th>截止</th></tr></thead><tbody>");
        for exemption in active {
            let _ = write!(
                html,
                "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                exemption.id,
                escape(&exemption.target),
                if exemption.column.is_empty() { "全部".to_string() } else { escape(&exemption.column) },
                exemption.code.as_str(),
                escape(&exemption.reason),
                escape(&exemption.author),
                exemption.until.map(|d| d.to_string()).unwrap_or_else(|| "长期".into())
            );
        }
        html.push_str("</tbody></table>");
    }
    html.push_str("</section>");
}

struct Totals {
    counties: usize,
    targets: usize,
    pages: usize,
    with_problems: usize,
    vetoes: usize,
}

impl Totals {
    fn of(targets: &[TargetStatus]) -> Totals {
        let counties: std::collections::BTreeSet<&str> = targets.iter().map(|t| t.county.as_str()).collect();
        let names: std::collections::BTreeSet<(&str, &str)> =
            targets.iter().map(|t| (t.agent.as_str(), t.observation.target.as_str())).collect();
        Totals {
            counties: counties.len(),
            targets: names.len(),
            pages: targets.len(),
            with_problems: targets.iter().filter(|t| !t.observation.ok).count(),
            vetoes: targets
                .iter()
                .flat_map(|t| &t.observation.findings)
                .filter(|f| f.severity == Severity::Veto)
                .count(),
        }
    }
}

fn state_of(observation: &xunjian_shared::wire::Observation) -> (&'static str, &'static str) {
    match observation.findings.iter().map(|f| f.severity).max() {
        Some(Severity::Veto) => ("veto", "单项否决"),
        Some(Severity::Error) => ("bad", "有问题"),
        Some(Severity::Warning) => ("warn", "提醒"),
        None => ("ok", "正常"),
    }
}

fn severity_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Veto => "veto",
        Severity::Error => "bad",
        Severity::Warning => "warn",
    }
}

/// HTML-escapes text from agents (names, details) before it enters the page.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = ".who{font-size:13px;color:#fde8e8}.logout{display:inline;margin:0}.logout button{font-size:12px;padding:1px 8px}body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:0;background:#f5f6f8;color:#222}\
header{background:#8b1a1a;color:#fff;padding:12px 24px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;font-size:13px}\
header a{color:#ffd}section{margin:16px 24px}.summary{display:flex;gap:16px}.summary div{background:#fff;padding:10px 16px;border-radius:6px}\
.summary b{font-size:22px;margin-right:4px}h2{font-size:18px;margin:8px 0}h2 small{font-weight:normal;font-size:13px;margin-left:12px;color:#666}\
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}th,td{border-bottom:1px solid #e3e3e3;padding:6px 8px;text-align:left;vertical-align:top}\
th{background:#eef0f3}td.num{text-align:right}.pill{padding:1px 8px;border-radius:10px;white-space:nowrap}.pill.ok{background:#e2f4e5;color:#1c6b2a}\
.pill.warn{background:#fff4d6;color:#8a6100}.pill.bad{background:#fde3e1;color:#a32017}.pill.veto{background:#a32017;color:#fff}\
span.bad,span.veto{color:#a32017}span.warn{color:#8a6100}span.exempt{color:#888;text-decoration:line-through}span.info{color:#555}\
h3{font-size:15px;margin:12px 0 6px}tr.warn td:first-child{border-left:3px solid #d9a400}tr.bad td:first-child,tr.veto td:first-child{border-left:3px solid #a32017}\
.summary .bad b,.summary .veto b{color:#a32017}.empty{margin:24px;color:#666}footer{margin:24px;font-size:12px;color:#888}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_agents_send() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }
}
