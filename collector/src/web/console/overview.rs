//! The city overview (`/overview`): 合格率 per county now, a 12-week trend as inline SVG, open
//! problems by kind and 整改 tasks per county; the county page (`/county/{name}`): the same for
//! one county and each of its sites and accounts; the subject page (`/subject?county=&target=`):
//! one site's or account's pages, verdict, 90-day timeline and problems with their evidence.
//! All kept to the caller's counties.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jiff::ToSpan;
use jiff::civil::Date;
use xunjian_shared::wire::{FindingCode, StatusReport, TargetKind};

use super::{Section, county_link, encode, frame, minute, respond, subject_link};
use crate::people::Scope;
use crate::store::history::{CountyDay, TargetDay};
use crate::tasks::TaskState;
use crate::web::access::Caller;
use crate::web::status_page::escape;
use crate::web::{Pages, WebState, read_blocking, status_report};

/// Weeks the trend shows.
pub const TREND_WEEKS: i64 = 12;
/// Days the subject page's timeline shows.
pub const TIMELINE_DAYS: i64 = 90;

/// Open problems per county and code, from the projection (the live ledger).
pub type OpenCounts = BTreeMap<String, BTreeMap<FindingCode, u32>>;

/// What the overview shows, read once.
pub struct OverviewData {
    pub status: StatusReport,
    pub history: Vec<CountyDay>,
    pub open: OpenCounts,
    /// The caller's unfinished tasks, as stored now (the board of the last re-check lags
    /// behind a task just issued).
    pub tasks: Vec<crate::tasks::Task>,
    pub today: Date,
}

/// Reads the overview's data for `scope` (the history of the last [`TREND_WEEKS`] weeks;
/// verdicts and ratios, not the pages).
pub fn read(state: &WebState, scope: &Scope) -> Result<OverviewData, crate::store::StoreError> {
    let judged = state.judgements.get(&state.store);
    let today = judged.today;
    let status = status_report(&state.store, &judged, scope, Pages::None);
    let from = today.checked_sub((TREND_WEEKS * 7 - 1).days()).unwrap_or(today);
    let mut history = state.store.county_history(from, today)?;
    history.retain(|day| scope.sees(&day.county) || (scope.is_all() && day.county == crate::judge::WHOLE_CITY));
    let mut open: OpenCounts = BTreeMap::new();
    {
        let snapshot = state.store.snapshot();
        for row in snapshot.ledger.rows().values() {
            if row.status == crate::ledger::Status::Open && scope.sees(&row.place.county) {
                *open.entry(row.place.county.clone()).or_default().entry(row.code).or_default() += 1;
            }
        }
    }
    let filter =
        crate::store::tasks::TaskFilter { within: scope.counties().cloned(), unfinished: true, ..Default::default() };
    let tasks = state.store.with_reader(|_, connection| crate::store::tasks::list(connection, &filter))?;
    Ok(OverviewData { status, history, open, tasks, today })
}

/// Weekly 合格率 per county (sites and accounts together), oldest week first: passed over
/// judged of the week's days, None for a week without data.
pub fn weekly(history: &[CountyDay], today: Date) -> BTreeMap<String, Vec<Option<f64>>> {
    let mut sums: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    for day in history {
        let back = (today - day.day).get_days();
        if !(0..TREND_WEEKS as i32 * 7).contains(&back) {
            continue;
        }
        let week = TREND_WEEKS as usize - 1 - back as usize / 7;
        let line = sums.entry(day.county.clone()).or_insert_with(|| vec![(0, 0); TREND_WEEKS as usize]);
        line[week].0 += u64::from(day.passed);
        line[week].1 += u64::from(day.judged);
    }
    sums.into_iter()
        .map(|(county, weeks)| {
            let ratios =
                weeks.into_iter().map(|(passed, judged)| (judged > 0).then(|| passed as f64 / judged as f64)).collect();
            (county, ratios)
        })
        .collect()
}

/// The trend as an inline SVG: one line per county (the city's in bold), 0–100 %.
pub fn trend_svg(lines: &BTreeMap<String, Vec<Option<f64>>>, today: Date) -> String {
    const W: f64 = 760.0;
    const H: f64 = 240.0;
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 150.0;
    const TOP: f64 = 12.0;
    const BOTTOM: f64 = 28.0;
    let weeks = TREND_WEEKS as usize;
    let x = |week: usize| LEFT + (W - LEFT - RIGHT) * week as f64 / (weeks - 1) as f64;
    let y = |ratio: f64| TOP + (H - TOP - BOTTOM) * (1.0 - ratio.clamp(0.0, 1.0));
    let mut svg = format!(
        "<svg class=\"trend\" role=\"img\" aria-label=\"近 {TREND_WEEKS} 周合格率趋势\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for percent in [0, 25, 50, 75, 100] {
        let level = y(f64::from(percent) / 100.0);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{level:.1}\" y2=\"{level:.1}\" stroke=\"#e3e6ea\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#666\">{percent}%</text>",
            W - RIGHT,
            LEFT - 6.0,
            level + 4.0
        );
    }
    for week in [0, weeks / 2, weeks - 1] {
        let end = today.checked_sub(((weeks - 1 - week) as i64 * 7).days()).unwrap_or(today);
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#666\">{}月{}日</text>",
            x(week),
            H - 8.0,
            end.month(),
            end.day()
        );
    }
    const COLORS: [&str; 8] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
    let labelled = lines.len() <= COLORS.len() + 1;
    let mut legend = 0;
    for (index, (county, ratios)) in lines.iter().enumerate() {
        let city = county == crate::judge::WHOLE_CITY;
        let color = if city {
            "#111"
        } else if labelled {
            COLORS[index % COLORS.len()]
        } else {
            "#9aa5b1"
        };
        let width = if city { 3.0 } else { 1.5 };
        let points: Vec<String> = ratios
            .iter()
            .enumerate()
            .filter_map(|(week, ratio)| ratio.map(|r| format!("{:.1},{:.1}", x(week), y(r))))
            .collect();
        if points.is_empty() {
            continue;
        }
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"{width}\" points=\"{}\"><title>{}</title></polyline>",
            points.join(" "),
            escape(county)
        );
        if labelled || city {
            let _ = write!(
                svg,
                "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"3\" fill=\"{color}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#333\">{}</text>",
                W - RIGHT + 14.0,
                TOP + 4.0 + 18.0 * legend as f64,
                W - RIGHT + 30.0,
                TOP + 9.0 + 18.0 * legend as f64,
                escape(county)
            );
            legend += 1;
        }
    }
    svg.push_str("</svg>");
    svg
}

fn percent(passed: u32, judged: u32) -> String {
    if judged == 0 {
        "—".to_string()
    } else {
        format!("{:.1}%（{passed}/{judged}）", f64::from(passed) * 100.0 / f64::from(judged))
    }
}

/// The overview page.
pub fn overview(caller: &Caller, data: &OverviewData) -> String {
    let mut body = String::with_capacity(16 * 1024);
    let ratios = &data.status.pass_ratios;
    let counties: BTreeSet<&str> =
        ratios.iter().map(|r| r.county.as_str()).filter(|c| *c != crate::judge::WHOLE_CITY).collect();
    let ratio_of = |county: &str, kind: TargetKind| {
        ratios.iter().find(|r| r.county == county && r.kind == kind).map(|r| (r.passed, r.judged)).unwrap_or((0, 0))
    };
    let open_total: u32 = data.open.values().flat_map(|codes| codes.values()).sum();
    let late = data.tasks.iter().filter(|t| caller.scope.sees(&t.county) && t.overdue(data.today)).count();
    let failed = data.status.verdicts.iter().filter(|v| !v.pass).count();
    let _ = write!(
        body,
        "<div class=\"box\"><b>{}</b> 个县区 · <b>{}</b> 个网站和政务新媒体，不合格 <b>{failed}</b> 个 · 未消除问题 <b>{open_total}</b> 个 · 逾期整改任务 <b>{late}</b> 个 · 更新于 {}</div>",
        counties.len(),
        data.status.verdicts.len(),
        minute(data.status.generated_at)
    );
    body.push_str("<h2>各县区合格率（当前）</h2><table><thead><tr><th>县区</th><th>网站</th><th>政务新媒体</th><th>未消除问题</th><th>整改任务（待整改/整改未到位/逾期）</th></tr></thead><tbody>");
    let mut rows: Vec<&str> = counties.iter().copied().collect();
    if caller.scope.is_all() {
        rows.push(crate::judge::WHOLE_CITY);
    }
    for county in rows {
        let city = county == crate::judge::WHOLE_CITY;
        let (sites, accounts) = (ratio_of(county, TargetKind::Site), ratio_of(county, TargetKind::Account));
        let open: u32 =
            if city { open_total } else { data.open.get(county).map(|codes| codes.values().sum()).unwrap_or(0) };
        let (mut pending, mut returned, mut overdue) = (0, 0, 0);
        for task in data.tasks.iter().filter(|t| (city && caller.scope.sees(&t.county)) || t.county == county) {
            pending += u32::from(task.state == TaskState::Pending);
            returned += u32::from(task.state == TaskState::NotFixed);
            overdue += u32::from(task.overdue(data.today));
        }
        let name = if city { "<b>全市</b>".to_string() } else { county_link(county) };
        let problems = if city {
            format!("<a href=\"/problems?status=open\">{open}</a>")
        } else {
            format!("<a href=\"/problems?status=open&amp;county={}\">{open}</a>", encode(county))
        };
        let _ = write!(
            body,
            "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{problems}</td><td>{pending}/{returned}/{overdue}</td></tr>",
            percent(sites.0, sites.1),
            percent(accounts.0, accounts.1)
        );
    }
    body.push_str("</tbody></table>");
    let _ = write!(body, "<h2>近 {TREND_WEEKS} 周合格率</h2><div class=\"box\">");
    let lines = weekly(&data.history, data.today);
    if lines.is_empty() {
        body.push_str("<p class=\"muted\">尚无历史数据：每天结束时记录一次。</p>");
    } else {
        body.push_str(&trend_svg(&lines, data.today));
    }
    body.push_str("</div>");
    body.push_str(&open_by_kind(&data.open, None));
    frame("总览", caller, Section::Overview, &body)
}

/// Open problems by kind (the finding's words), linked to the list.
fn open_by_kind(open: &OpenCounts, county: Option<&str>) -> String {
    let mut by_code: BTreeMap<FindingCode, u32> = BTreeMap::new();
    for (name, codes) in open {
        if county.is_none_or(|c| c == name) {
            for (code, count) in codes {
                *by_code.entry(*code).or_default() += count;
            }
        }
    }
    let mut html = String::from("<h2>未消除的问题（按类型）</h2>");
    if by_code.is_empty() {
        html.push_str("<p class=\"muted\">没有未消除的问题。</p>");
        return html;
    }
    let mut sorted: Vec<(FindingCode, u32)> = by_code.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    html.push_str("<table><thead><tr><th>问题</th><th>数量</th></tr></thead><tbody>");
    let county_query = county.map(|c| format!("&amp;county={}", encode(c))).unwrap_or_default();
    for (code, count) in sorted {
        let _ = write!(
            html,
            "<tr><td><a href=\"/problems?status=open&amp;code={}{county_query}\">{}</a></td><td>{count}</td></tr>",
            code.as_str(),
            code.label_zh()
        );
    }
    html.push_str("</tbody></table>");
    html
}

/// One county's page: its ratios and trend, every site and account with its verdict.
pub fn county(caller: &Caller, name: &str, data: &OverviewData) -> String {
    let mut body = String::with_capacity(16 * 1024);
    let ratio_of = |kind: TargetKind| {
        data.status
            .pass_ratios
            .iter()
            .find(|r| r.county == name && r.kind == kind)
            .map(|r| (r.passed, r.judged))
            .unwrap_or((0, 0))
    };
    let (sites, accounts) = (ratio_of(TargetKind::Site), ratio_of(TargetKind::Account));
    let _ = write!(
        body,
        "<div class=\"box\">网站合格率 {} · 政务新媒体合格率 {} · <a href=\"/problems?status=open&amp;county={q}\">未消除问题</a> · <a href=\"/tasks?county={q}\">整改任务</a> · <a href=\"/report\">通报</a></div>",
        percent(sites.0, sites.1),
        percent(accounts.0, accounts.1),
        q = encode(name)
    );
    let lines: BTreeMap<String, Vec<Option<f64>>> =
        weekly(&data.history, data.today).into_iter().filter(|(county, _)| county == name).collect();
    if !lines.is_empty() {
        let _ = write!(
            body,
            "<h2>近 {TREND_WEEKS} 周合格率</h2><div class=\"box\">{}</div>",
            trend_svg(&lines, data.today)
        );
    }
    body.push_str("<h2>网站和政务新媒体</h2><table><thead><tr><th>单位</th><th>名称</th><th>类型</th><th>结论</th><th>原因</th></tr></thead><tbody>");
    for verdict in data.status.verdicts.iter().filter(|v| v.county == name) {
        let kind = match verdict.platform.as_deref() {
            Some(platform) => {
                xunjian_shared::config::Platform::named(platform).map(|p| p.label_zh()).unwrap_or(platform).to_string()
            }
            None => "网站".to_string(),
        };
        let reasons: Vec<String> = verdict.reasons.iter().map(|r| escape(&r.label)).collect();
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&verdict.unit),
            subject_link(name, &verdict.target),
            escape(&kind),
            if verdict.pass { "合格" } else { "<b class=\"error\">不合格</b>" },
            reasons.join("；")
        );
    }
    body.push_str("</tbody></table>");
    body.push_str(&open_by_kind(&data.open, Some(name)));
    frame(name, caller, Section::Overview, &body)
}

/// One site's or account's page: verdict, pages now, a 90-day timeline, its problems.
pub fn subject(
    caller: &Caller,
    county: &str,
    target: &str,
    status: &StatusReport,
    days: &[TargetDay],
    problems: &[xunjian_shared::wire::api::ProblemView],
    today: Date,
) -> String {
    let mut body = String::with_capacity(16 * 1024);
    let _ = write!(body, "<p>县区：{}</p>", county_link(county));
    for verdict in status.verdicts.iter().filter(|v| v.county == county && v.target == target) {
        let reasons: Vec<String> =
            verdict.reasons.iter().map(|r| format!("{}：{}", escape(&r.label), escape(&r.detail))).collect();
        let _ = write!(
            body,
            "<div class=\"box\">单位：{} · 当前结论：{}{}</div>",
            escape(&verdict.unit),
            if verdict.pass { "合格" } else { "<b class=\"error\">不合格</b>" },
            if reasons.is_empty() { String::new() } else { format!("<div>{}</div>", reasons.join("<br>")) }
        );
    }
    body.push_str("<h2>页面（最近一次巡检）</h2><table><thead><tr><th>页面</th><th>地址</th><th>巡检时间</th><th>发现</th></tr></thead><tbody>");
    for page in status.targets.iter().filter(|t| t.county == county && t.observation.target == target) {
        let o = &page.observation;
        let name = o.column.as_deref().or(o.channel.as_deref()).unwrap_or(if o.kind == TargetKind::Site {
            "首页"
        } else {
            "账号"
        });
        let findings: Vec<String> =
            o.findings.iter().map(|f| format!("{}：{}", f.code.label_zh(), escape(&f.detail))).collect();
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            escape(&o.url),
            minute(o.checked_at),
            if findings.is_empty() { "正常".to_string() } else { findings.join("<br>") }
        );
    }
    body.push_str("</tbody></table>");
    let _ = write!(body, "<h2>近 {TIMELINE_DAYS} 天</h2><div class=\"box\">{}</div>", timeline_svg(days, today));
    body.push_str("<h2>问题（含已消除）</h2><table><thead><tr><th>编号</th><th>问题</th><th>说明与证据</th><th>首次发现</th><th>最近发现</th><th>状态</th></tr></thead><tbody>");
    for problem in problems {
        let state = match problem.resolved_at {
            Some(at) => format!("已消除 {}", minute(at)),
            None => "未消除".to_string(),
        };
        let _ = write!(
            body,
            "<tr><td>#{}</td><td>{}</td><td>{}<div class=\"muted\">证据：{}（{}）</div></td><td>{}</td><td>{}</td><td>{state}</td></tr>",
            problem.id,
            escape(&problem.label),
            escape(&problem.detail),
            escape(&problem.evidence),
            minute(problem.observed_at),
            minute(problem.first_seen),
            minute(problem.last_seen)
        );
    }
    body.push_str("</tbody></table>");
    frame(target, caller, Section::Overview, &body)
}

/// One square per day, oldest first: green 合格, red 不合格 (its reasons as the tooltip), grey
/// no record.
pub fn timeline_svg(days: &[TargetDay], today: Date) -> String {
    let by_day: HashMap<Date, &TargetDay> = days.iter().map(|d| (d.day, d)).collect();
    let size = 8.0;
    let width = TIMELINE_DAYS as f64 * (size + 1.0);
    let mut svg = format!(
        "<svg class=\"timeline\" role=\"img\" aria-label=\"近 {TIMELINE_DAYS} 天每日结论\" viewBox=\"0 0 {width} 24\" width=\"{width}\" height=\"24\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for offset in 0..TIMELINE_DAYS {
        let day = today.checked_sub((TIMELINE_DAYS - 1 - offset).days()).unwrap_or(today);
        let (fill, title) = match by_day.get(&day) {
            Some(record) if record.pass => ("#3aa757", format!("{day} 合格")),
            Some(record) => {
                let reasons: Vec<&str> = record.reasons.iter().map(|r| r.detail.as_str()).collect();
                ("#d93025", format!("{day} 不合格：{}", reasons.join("；")))
            }
            None => ("#d0d5da", format!("{day} 无记录")),
        };
        let _ = write!(
            svg,
            "<rect x=\"{:.0}\" y=\"4\" width=\"{size}\" height=\"16\" fill=\"{fill}\"><title>{}</title></rect>",
            offset as f64 * (size + 1.0),
            escape(&title)
        );
    }
    svg.push_str("</svg>");
    svg
}

pub async fn overview_page(State(state): State<WebState>, caller: Caller) -> Response {
    let (reader, scope) = (state.clone(), caller.scope.clone());
    match read_blocking("巡检数据", move || read(&reader, &scope)).await {
        Ok(data) => respond(overview(&caller, &data)),
        Err(refusal) => refusal,
    }
}

pub async fn county_page(State(state): State<WebState>, caller: Caller, Path(name): Path<String>) -> Response {
    if let Err(denied) = caller.must_see(&name) {
        return denied.into_response();
    }
    let scope = Scope::Counties(BTreeSet::from([name.clone()]));
    let reader = state.clone();
    match read_blocking("巡检数据", move || read(&reader, &scope)).await {
        Ok(data) if data.status.verdicts.is_empty() && data.history.is_empty() && !caller.scope.is_all() => {
            crate::web::access::out_of_scope().into_response()
        }
        Ok(data) => respond(county(&caller, &name, &data)),
        Err(refusal) => refusal,
    }
}

pub async fn subject_page(
    State(state): State<WebState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let text = |key: &str| query.get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let (Some(county), Some(target)) = (text("county"), text("target")) else {
        return crate::web::bad_request("需要参数 county 和 target：从县区页面的名称进入".into());
    };
    if let Err(denied) = caller.must_see(&county) {
        return denied.into_response();
    }
    let (store, judgements) = (state.store.clone(), state.judgements.clone());
    let (name, place) = (target.clone(), county.clone());
    let read = read_blocking("巡检数据", move || {
        let judged = judgements.get(&store);
        let (now, today) = (judged.at, judged.today);
        let scope = Scope::Counties(BTreeSet::from([place.clone()]));
        let status = status_report(&store, &judged, &scope, Pages::Of(&name));
        let from = today.checked_sub((TIMELINE_DAYS - 1).days()).unwrap_or(today);
        let (_, days) = store.history_of(&name, Some(&place), from, today)?;
        let filter = crate::store::ledger::ProblemFilter {
            county: Some(place.clone()),
            target: Some(name.clone()),
            ..Default::default()
        };
        let (_, rows) = store.problems(&filter, 0, 500)?;
        let registry = store.registry().clone();
        let problems: Vec<_> = rows.iter().map(|row| crate::web::problems::view(row, &registry, now)).collect();
        Ok((status, days, problems, today))
    })
    .await;
    match read {
        Ok((status, days, problems, today)) => {
            let known = status.verdicts.iter().any(|v| v.target == target) || !days.is_empty() || !problems.is_empty();
            if !known && !caller.scope.is_all() {
                return crate::web::access::out_of_scope().into_response();
            }
            respond(subject(&caller, &county, &target, &status, &days, &problems, today))
        }
        Err(refusal) => refusal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: Date, county: &str, judged: u32, passed: u32) -> CountyDay {
        CountyDay {
            day,
            county: county.into(),
            kind: "site".into(),
            judged,
            passed,
            ratio: f64::from(passed) / f64::from(judged),
        }
    }

    #[test]
    fn weeks_weigh_their_days_and_a_week_without_data_is_a_gap() {
        let today = jiff::civil::date(2026, 12, 1);
        let history = vec![
            day(today, "龙川县", 10, 10),
            day(today.yesterday().unwrap(), "龙川县", 30, 15),
            day(today.checked_sub(20.days()).unwrap(), "龙川县", 4, 1),
            day(today.checked_sub(200.days()).unwrap(), "龙川县", 4, 4),
        ];
        let weeks = weekly(&history, today);
        let line = &weeks["龙川县"];
        assert_eq!(line.len(), TREND_WEEKS as usize);
        assert_eq!(line[11], Some(25.0 / 40.0), "the last week: passed over judged of its days");
        assert_eq!(line[9], Some(0.25));
        assert_eq!(line[10], None, "no data that week");
        assert_eq!(line[0], None, "days before the chart are left out");
        let svg = trend_svg(&weeks, today);
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(svg.contains("<title>龙川县</title>") && svg.contains("12月1日"), "{svg}");
    }

    #[test]
    fn names_in_the_charts_are_text() {
        let today = jiff::civil::date(2026, 12, 1);
        let weeks = weekly(&[day(today, "<script>x</script>", 1, 1)], today);
        assert!(!trend_svg(&weeks, today).contains("<script>"));
        let record = TargetDay {
            day: today,
            county: "县".into(),
            unit: "单位".into(),
            target: "站".into(),
            kind: "site".into(),
            platform: String::new(),
            pass: false,
            reasons: vec![crate::store::history::Reason { code: "dead_links".into(), detail: "<img src=x>".into() }],
            notes: Vec::new(),
            exempted: Vec::new(),
            pages: Vec::new(),
        };
        let svg = timeline_svg(&[record], today);
        assert_eq!(svg.matches("<rect").count(), TIMELINE_DAYS as usize);
        assert!(svg.contains("不合格：&lt;img src=x&gt;") && svg.contains("#d93025"), "{svg}");
    }
}
