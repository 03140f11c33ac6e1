//! The report's content, built from what [`super::source`] read: a pure function, so every
//! renderer shows the same numbers and the rules are tested without a database.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::civil::Date;
use xunjian_shared::time::calendar::Calendar;
use xunjian_shared::verdict::Rule;
use xunjian_shared::wire::{FindingCode, Severity, TargetKind};

use super::groups::{self, Group};
use super::period::Period;
use crate::ledger::{Problem, Status};

/// Named cases listed under a group in the document; the rest are counted and left to the
/// 问题清单 (the Excel sheet and the CSV list every one).
pub const CASES_PER_GROUP: usize = 20;

/// How a period is judged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    /// Every day of the period: 不合格 when a veto held on any day, with the number of days.
    Continuous,
    /// On the state at the end of each of these days, as the office samples by hand.
    Sampling(Vec<Date>),
}

/// What the report is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub period: Period,
    pub method: Method,
    /// One county only (its own report); None: the whole city.
    pub county: Option<String>,
}

/// The title block and the 整改 terms, from `[report]`.
#[derive(Clone, Debug)]
pub struct Settings {
    pub office: String,
    pub document_number: String,
    /// The county name under which the city's own units (市直) report.
    pub city_units: String,
    pub rectification_working_days: u32,
    pub calendar: Calendar,
}

impl Settings {
    /// From `[report]`, with the shipped holiday calendar.
    pub fn from_config(config: &xunjian_shared::config::collector::ReportConfig) -> Settings {
        Settings {
            office: config.office.clone(),
            document_number: config.document_number.clone(),
            city_units: config.city_units.clone(),
            rectification_working_days: config.rectification_working_days,
            calendar: Calendar::china(),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings::from_config(&xunjian_shared::config::collector::ReportConfig::default())
    }
}

/// One site's or account's verdicts over the days judged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetSpan {
    pub county: String,
    pub unit: String,
    pub target: String,
    pub kind: TargetKind,
    pub platform: String,
    /// Days judged, and of them 不合格.
    pub days: u32,
    pub failed_days: u32,
    pub reasons: Vec<ReasonSpan>,
}

/// One reason a target failed, over the days judged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReasonSpan {
    /// A finding code or a rule name.
    pub code: String,
    /// The words of its latest day.
    pub detail: String,
    pub days: u32,
    pub first: Date,
    pub last: Date,
}

/// A county's sites or accounts judged and passed in the period before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviousRatio {
    pub county: String,
    pub kind: TargetKind,
    pub judged: u32,
    pub passed: u32,
}

/// Everything read for a report.
#[derive(Clone, Debug)]
pub struct Input {
    pub request: Request,
    /// When it was read; `today` is its China day.
    pub now: Timestamp,
    pub targets: Vec<TargetSpan>,
    /// Empty when the period before has no history.
    pub previous: Vec<PreviousRatio>,
    /// Days with observations in the period (or sampling dates).
    pub days_observed: u32,
    /// Home-page availability probes in the period.
    pub probes: u64,
    /// Problems open at some time in the period (or at a sampling date), each with whether an
    /// exemption covers it.
    pub problems: Vec<(Problem, bool)>,
    /// 整改 tasks made by the period's end and not verified before it began (their state now).
    pub tasks: Vec<crate::tasks::Task>,
}

/// The report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub office: String,
    pub document_number: String,
    pub title: String,
    pub addressees: String,
    pub issued: Date,
    pub period: Period,
    pub method: Method,
    pub scope: Option<String>,
    pub days_observed: u32,
    pub probes: u64,
    /// 总体情况 in sentences.
    pub summary: Vec<String>,
    /// Platforms of the accounts, in the overview's column order.
    pub platforms: Vec<String>,
    /// Per county (the city's units first), then the whole city unless scoped.
    pub overview: Vec<CountyOverview>,
    pub groups: Vec<GroupSection>,
    pub counties: Vec<CountyTable>,
    pub annex: Vec<AnnexRow>,
    /// What the annex's note says (the sampling dates, or how the days count).
    pub annex_note: String,
    /// 问题清单: every problem of the period, one row each.
    pub problems: Vec<ProblemRow>,
    pub rectification: Rectification,
    /// 整改情况: the tasks, and the day their lateness is judged on.
    pub tasks: Vec<crate::tasks::Task>,
    pub tasks_judged_on: Date,
}

/// One line of the overview table.
#[derive(Clone, Debug, PartialEq)]
pub struct CountyOverview {
    pub county: String,
    pub sites: u32,
    pub sites_passed: u32,
    /// Accounts per platform.
    pub accounts: BTreeMap<String, u32>,
    pub accounts_passed: u32,
    /// Judged and passed in the period before, when it has history.
    pub previous: Option<(u32, u32)>,
}

impl CountyOverview {
    pub fn judged(&self) -> u32 {
        self.sites + self.accounts.values().sum::<u32>()
    }

    pub fn passed(&self) -> u32 {
        self.sites_passed + self.accounts_passed
    }

    pub fn account_count(&self) -> u32 {
        self.accounts.values().sum()
    }

    /// 0–1; None when nothing was judged.
    pub fn ratio(&self) -> Option<f64> {
        ratio(self.judged(), self.passed())
    }

    pub fn previous_ratio(&self) -> Option<f64> {
        self.previous.and_then(|(judged, passed)| ratio(judged, passed))
    }

    /// The change from the period before, in percentage points.
    pub fn change(&self) -> Option<f64> {
        Some((self.ratio()? - self.previous_ratio()?) * 100.0)
    }
}

fn ratio(judged: u32, passed: u32) -> Option<f64> {
    (judged > 0).then(|| f64::from(passed) / f64::from(judged))
}

/// `92.3%`, or `—`.
pub fn percent(ratio: Option<f64>) -> String {
    match ratio {
        Some(ratio) => format!("{:.1}%", ratio * 100.0),
        None => "—".to_string(),
    }
}

/// `上升 1.5 个百分点`, `持平`, `下降 …`, or `无上期数据`.
pub fn change_words(change: Option<f64>) -> String {
    match change {
        None => "无上期数据".to_string(),
        Some(points) if points.abs() < 0.05 => "持平".to_string(),
        Some(points) if points > 0.0 => format!("上升 {points:.1} 个百分点"),
        Some(points) => format!("下降 {:.1} 个百分点", -points),
    }
}

/// One group of 主要问题 with its named cases.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSection {
    pub group: &'static Group,
    /// Sites or accounts with a case in it.
    pub targets: u32,
    /// All its cases; the document shows the first [`CASES_PER_GROUP`].
    pub cases: Vec<Case>,
}

/// One named case: a problem of the ledger, or a verdict rule over counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub county: String,
    pub unit: String,
    pub target: String,
    /// 网站, or the account's platform.
    pub channel: String,
    /// The column or channel, when the problem is on one.
    pub place: String,
    pub label: String,
    pub detail: String,
    pub first_seen: Date,
    /// The page the evidence was read from (text only: never a link in any format).
    pub url: String,
    /// Still open at the end of the period (or at the last sampling date).
    pub open: bool,
}

/// A county's sites and accounts.
#[derive(Clone, Debug, PartialEq)]
pub struct CountyTable {
    pub county: String,
    pub rows: Vec<SubjectRow>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SubjectRow {
    pub unit: String,
    pub target: String,
    pub channel: String,
    pub pass: bool,
    pub days: u32,
    pub failed_days: u32,
    /// Its reasons, in words (with days when judged continuously).
    pub problems: String,
}

/// One row of the 附件.
#[derive(Clone, Debug, PartialEq)]
pub struct AnnexRow {
    pub number: usize,
    pub county: String,
    pub unit: String,
    pub target: String,
    pub channel: String,
    pub problems: String,
}

impl AnnexRow {
    /// The 县区/单位 cell: the unit, after its county unless the unit names it already.
    pub fn county_unit(&self) -> String {
        county_unit(&self.county, &self.unit)
    }
}

/// `龙川县 县教育局`, or the unit alone when it names its county (`龙川县人民政府办公室`).
pub fn county_unit(county: &str, unit: &str) -> String {
    if unit.is_empty() {
        county.to_string()
    } else if unit.starts_with(county.trim_end_matches(['县', '区', '市'])) {
        unit.to_string()
    } else {
        format!("{county} {unit}")
    }
}

/// One row of the 问题清单.
#[derive(Clone, Debug, PartialEq)]
pub struct ProblemRow {
    pub problem: Problem,
    /// 网站, or the account's platform.
    pub channel: String,
    /// The group's title (提醒 for warnings).
    pub group: &'static str,
    /// 未整改, 已消除 or 已豁免.
    pub status: &'static str,
}

/// 整改要求.
#[derive(Clone, Debug, PartialEq)]
pub struct Rectification {
    pub deadline: Date,
    pub working_days: u32,
    /// Whether the holiday calendar knows the deadline's year (else weekdays were counted).
    pub calendar_known: bool,
    /// Per county with something to fix: 不合格 sites, 不合格 accounts, problems still open.
    pub counties: Vec<(String, u32, u32, u32)>,
}

/// The words of a reason code (a finding code or a rule name).
pub fn reason_label(code: &str) -> &str {
    if let Some(finding) = FindingCode::named(code) {
        finding.label_zh()
    } else if let Some(rule) = Rule::named(code) {
        rule.label_zh()
    } else {
        code
    }
}

/// 网站, or the platform.
fn channel_of(kind: TargetKind, platform: &str) -> String {
    match kind {
        TargetKind::Site => "网站".to_string(),
        TargetKind::Account if platform.is_empty() => "政务新媒体".to_string(),
        TargetKind::Account => xunjian_shared::config::Platform::named(platform)
            .map_or_else(|| platform.to_string(), |known| known.label_zh().to_string()),
    }
}

/// `2026年11月20日`.
pub fn date_zh(date: Date) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// `2026年11月20日、12月15日`: the year written again only where it changes.
pub fn dates_zh(dates: &[Date]) -> String {
    let mut words = Vec::new();
    let mut year = None;
    for date in dates {
        words.push(if year == Some(date.year()) {
            format!("{}月{}日", date.month(), date.day())
        } else {
            date_zh(*date)
        });
        year = Some(date.year());
    }
    words.join("、")
}

impl Report {
    /// Builds the report from what was read.
    pub fn build(input: Input, settings: &Settings) -> Report {
        let Input { request, now, mut targets, previous, days_observed, probes, problems, tasks } = input;
        let today = xunjian_shared::time::china_today(now);
        let county_rank = |county: &str| (county != settings.city_units, county.to_string());
        targets.sort_by(|a, b| {
            (county_rank(&a.county), &a.unit, &a.target, a.kind, &a.platform).cmp(&(
                county_rank(&b.county),
                &b.unit,
                &b.target,
                b.kind,
                &b.platform,
            ))
        });
        let continuous = request.method == Method::Continuous;
        let reasons_words = |target: &TargetSpan| -> String {
            let mut words: Vec<String> = Vec::new();
            for reason in &target.reasons {
                let label = reason_label(&reason.code);
                words.push(if continuous { format!("{label}（{} 天）", reason.days) } else { label.to_string() });
            }
            words.dedup();
            words.join("；")
        };

        // 总体情况, per county.
        let mut overview: BTreeMap<(bool, String), CountyOverview> = BTreeMap::new();
        let mut platforms = BTreeSet::new();
        for target in &targets {
            let entry = overview.entry(county_rank(&target.county)).or_insert_with(|| CountyOverview {
                county: target.county.clone(),
                sites: 0,
                sites_passed: 0,
                accounts: BTreeMap::new(),
                accounts_passed: 0,
                previous: None,
            });
            let passed = u32::from(target.failed_days == 0);
            match target.kind {
                TargetKind::Site => {
                    entry.sites += 1;
                    entry.sites_passed += passed;
                }
                TargetKind::Account => {
                    let platform = channel_of(target.kind, &target.platform);
                    platforms.insert(platform.clone());
                    *entry.accounts.entry(platform).or_default() += 1;
                    entry.accounts_passed += passed;
                }
            }
        }
        let mut previous_by_county: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
        for ratio in &previous {
            let entry = previous_by_county.entry(&ratio.county).or_default();
            entry.0 += ratio.judged;
            entry.1 += ratio.passed;
        }
        let mut overview: Vec<CountyOverview> = overview.into_values().collect();
        for line in &mut overview {
            line.previous = previous_by_county.get(line.county.as_str()).copied();
        }
        if request.county.is_none() {
            let mut city = CountyOverview {
                county: crate::judge::WHOLE_CITY.to_string(),
                sites: 0,
                sites_passed: 0,
                accounts: BTreeMap::new(),
                accounts_passed: 0,
                previous: None,
            };
            for line in &overview {
                city.sites += line.sites;
                city.sites_passed += line.sites_passed;
                city.accounts_passed += line.accounts_passed;
                for (platform, count) in &line.accounts {
                    *city.accounts.entry(platform.clone()).or_default() += count;
                }
            }
            if !previous.is_empty() {
                city.previous = Some(previous.iter().fold((0, 0), |(j, p), r| (j + r.judged, p + r.passed)));
            }
            overview.push(city);
        }

        // 主要问题: ledger problems by group, and the count rules from the verdicts.
        let mut sections: Vec<GroupSection> =
            groups::all().map(|group| GroupSection { group, targets: 0, cases: Vec::new() }).collect();
        let section_of = |code: &str, kind: TargetKind| {
            let group = groups::group_of(code, kind);
            groups::all().position(|g| g == group).unwrap_or(0)
        };
        let period_end = match &request.method {
            Method::Continuous => request.period.to(),
            Method::Sampling(dates) => dates.iter().copied().max().unwrap_or(request.period.to()),
        };
        let end_moment = xunjian_shared::time::china_midnight(period_end.tomorrow().unwrap_or(period_end)).min(now);
        let mut problem_rows = Vec::new();
        let mut sorted_problems = problems;
        sorted_problems.sort_by(|(a, _), (b, _)| {
            (county_rank(&a.place.county), &a.place.unit, &a.place.target, a.first_seen, a.id).cmp(&(
                county_rank(&b.place.county),
                &b.place.unit,
                &b.place.target,
                b.first_seen,
                b.id,
            ))
        });
        let mut open_by_county: BTreeMap<String, u32> = BTreeMap::new();
        for (problem, exempted) in &sorted_problems {
            let place = &problem.place;
            let group = groups::group_of(problem.code.as_str(), place.kind);
            let open_at_end = problem.resolved_at.is_none_or(|resolved| resolved >= end_moment);
            let channel = channel_of(place.kind, &place.platform);
            problem_rows.push(ProblemRow {
                problem: problem.clone(),
                channel: channel.clone(),
                group: if problem.severity == Severity::Warning { "提醒" } else { group.title },
                status: if *exempted {
                    "已豁免"
                } else if problem.status == Status::Open {
                    "未整改"
                } else {
                    "已消除"
                },
            });
            if *exempted || problem.severity == Severity::Warning {
                continue;
            }
            if open_at_end {
                *open_by_county.entry(place.county.clone()).or_default() += 1;
            }
            sections[section_of(problem.code.as_str(), place.kind)].cases.push(Case {
                county: place.county.clone(),
                unit: place.unit.clone(),
                target: place.target.clone(),
                channel,
                place: place.scope().to_string(),
                label: problem.code.label_zh().to_string(),
                detail: problem.detail.clone(),
                first_seen: xunjian_shared::time::china_today(problem.first_seen),
                url: problem.url.clone(),
                open: open_at_end,
            });
        }
        for target in &targets {
            for reason in target.reasons.iter().filter(|reason| Rule::named(&reason.code).is_some()) {
                sections[section_of(&reason.code, target.kind)].cases.push(Case {
                    county: target.county.clone(),
                    unit: target.unit.clone(),
                    target: target.target.clone(),
                    channel: channel_of(target.kind, &target.platform),
                    place: String::new(),
                    label: reason_label(&reason.code).to_string(),
                    detail: reason.detail.clone(),
                    first_seen: reason.first,
                    url: String::new(),
                    open: reason.last >= period_end.min(today),
                });
            }
        }
        for section in &mut sections {
            section.cases.sort_by(|a, b| {
                (county_rank(&a.county), &a.unit, &a.target, a.first_seen).cmp(&(
                    county_rank(&b.county),
                    &b.unit,
                    &b.target,
                    b.first_seen,
                ))
            });
            let distinct: BTreeSet<(&str, &str, &str)> =
                section.cases.iter().map(|c| (c.county.as_str(), c.target.as_str(), c.channel.as_str())).collect();
            section.targets = distinct.len() as u32;
        }
        sections.retain(|section| !section.cases.is_empty());

        // 各县区 and 附件.
        let mut counties: Vec<CountyTable> = Vec::new();
        let mut annex = Vec::new();
        for target in &targets {
            let row = SubjectRow {
                unit: target.unit.clone(),
                target: target.target.clone(),
                channel: channel_of(target.kind, &target.platform),
                pass: target.failed_days == 0,
                days: target.days,
                failed_days: target.failed_days,
                problems: reasons_words(target),
            };
            if !row.pass {
                annex.push(AnnexRow {
                    number: annex.len() + 1,
                    county: target.county.clone(),
                    unit: target.unit.clone(),
                    target: target.target.clone(),
                    channel: row.channel.clone(),
                    problems: row.problems.clone(),
                });
            }
            match counties.last_mut() {
                Some(table) if table.county == target.county => table.rows.push(row),
                _ => counties.push(CountyTable { county: target.county.clone(), rows: vec![row] }),
            }
        }

        // 整改要求.
        let deadline = request.period.rectification_deadline(settings.rectification_working_days, &settings.calendar);
        let rectification = Rectification {
            deadline,
            working_days: settings.rectification_working_days,
            calendar_known: settings.calendar.knows(deadline.year()),
            counties: counties
                .iter()
                .filter_map(|table| {
                    let failed = |kind: &str| {
                        table.rows.iter().filter(|r| !r.pass && (r.channel == "网站") == (kind == "site")).count()
                            as u32
                    };
                    let open = open_by_county.get(&table.county).copied().unwrap_or(0);
                    let (sites, accounts) = (failed("site"), failed("account"));
                    (sites + accounts + open > 0).then(|| (table.county.clone(), sites, accounts, open))
                })
                .collect(),
        };

        let scope_words = request.county.clone().unwrap_or_else(|| "全市".to_string());
        let title =
            format!("{}关于{}{}政府网站及政务新媒体检查情况的通报", settings.office, request.period, scope_words);
        let addressees = match &request.county {
            Some(county) => format!("{county}："),
            None => "各县（区）人民政府，市府直属各单位：".to_string(),
        };
        let annex_note = match &request.method {
            Method::Continuous => format!(
                "注：{}连续监测，括号内为期内存在该问题的天数；判定规则见 xunjian README“合格判定”。",
                request.period
            ),
            Method::Sampling(dates) => format!("注：采样时间为{}。", dates_zh(dates)),
        };
        let summary = summary(&request, settings, &overview, days_observed, probes, &targets, &sections);
        Report {
            office: settings.office.clone(),
            document_number: settings.document_number.clone(),
            title,
            addressees,
            issued: today,
            period: request.period,
            method: request.method.clone(),
            scope: request.county.clone(),
            days_observed,
            probes,
            summary,
            platforms: platforms.into_iter().collect(),
            overview,
            groups: sections,
            counties,
            annex,
            annex_note,
            problems: problem_rows,
            rectification,
            tasks,
            tasks_judged_on: request.period.to().min(today),
        }
    }

    /// 整改情况 per county: tasks, 已核实, 已反馈, 待整改, 整改未到位, overdue.
    pub fn task_counts(&self) -> Vec<(String, [u32; 6])> {
        let mut counts: BTreeMap<String, [u32; 6]> = BTreeMap::new();
        for task in &self.tasks {
            let line = counts.entry(task.county.clone()).or_default();
            line[0] += 1;
            let column = match task.state {
                crate::tasks::TaskState::Verified => 1,
                crate::tasks::TaskState::Answered => 2,
                crate::tasks::TaskState::Pending => 3,
                crate::tasks::TaskState::NotFixed => 4,
            };
            line[column] += 1;
            line[5] += u32::from(task.overdue(self.tasks_judged_on));
        }
        counts.into_iter().collect()
    }

    /// The line of the whole report's scope: 全市, or the one county's.
    pub fn total(&self) -> Option<&CountyOverview> {
        scope_line(&self.overview, self.scope.as_deref())
    }

    /// The 整改 paragraph.
    pub fn rectification_words(&self) -> String {
        let rectification = &self.rectification;
        let counted = if rectification.calendar_known {
            String::new()
        } else {
            format!("；节假日日历未收录 {} 年，按周一至周五计算，请核对", rectification.deadline.year())
        };
        format!(
            "对本通报所列问题，有关单位要立即整改，并于{}前（期末后 {} 个工作日{counted}）将整改情况书面报{}。整改报告应逐项列明问题、整改措施、完成时间和责任人；xunjian 将以采集代理的复查结果核实整改情况。",
            date_zh(rectification.deadline),
            rectification.working_days,
            self.office
        )
    }

    /// How the period was judged, in one sentence.
    pub fn method_words(&self) -> String {
        match &self.method {
            Method::Continuous => format!(
                "连续监测：{}内每天判定，任一天存在单项否决问题即判为不合格，并注明天数（有数据 {} 天）",
                self.period, self.days_observed
            ),
            Method::Sampling(dates) => {
                format!("抽样检查：按 {} 当天结束时的状态判定；与上期的比较按上期连续监测", dates_zh(dates))
            }
        }
    }
}

/// The overview's line for the report's scope: the one county's, or the 全市 line (last).
fn scope_line<'a>(overview: &'a [CountyOverview], county: Option<&str>) -> Option<&'a CountyOverview> {
    match county {
        None => overview.last(),
        Some(county) => overview.iter().find(|line| line.county == county),
    }
}

fn summary(
    request: &Request,
    settings: &Settings,
    overview: &[CountyOverview],
    days_observed: u32,
    probes: u64,
    targets: &[TargetSpan],
    sections: &[GroupSection],
) -> Vec<String> {
    let Some(total) = scope_line(overview, request.county.as_deref()) else {
        return vec![format!(
            "{}，{}没有巡检记录，无法判定。",
            request.period,
            request.county.as_deref().unwrap_or("全市")
        )];
    };
    let scope = request.county.as_deref().unwrap_or("全市");
    let platforms: Vec<String> = total.accounts.iter().map(|(p, n)| format!("{p} {n} 个")).collect();
    let how = match &request.method {
        Method::Continuous => format!("进行了连续监测（有监测数据 {days_observed} 天，首页可用性探测 {probes} 次）"),
        Method::Sampling(dates) => format!("于{}进行了抽样检查", dates_zh(dates)),
    };
    let mut lines = vec![format!(
        "{}，{}对{}在运行的 {} 个政府网站和 {} 个政务新媒体账号{}{}。",
        request.period,
        settings.office,
        scope,
        total.sites,
        total.account_count(),
        if platforms.is_empty() { String::new() } else { format!("（{}）", platforms.join("，")) },
        how,
    )];
    let previous = match request.method {
        Method::Continuous => "上期",
        Method::Sampling(_) => "上期连续监测",
    };
    lines.push(format!(
        "按《政府网站与政务新媒体检查指标》判定，合格网站 {} 个、合格政务新媒体 {} 个，合格率 {}（{previous} {}，{}）。",
        total.sites_passed,
        total.accounts_passed,
        percent(total.ratio()),
        percent(total.previous_ratio()),
        change_words(total.change()),
    ));
    let failed: Vec<&TargetSpan> = targets.iter().filter(|t| t.failed_days > 0).collect();
    if !failed.is_empty() && request.method == Method::Continuous {
        let days: u32 = failed.iter().map(|t| t.failed_days).sum();
        lines.push(format!(
            "{} 个网站和政务新媒体在期内存在单项否决问题，累计不合格 {days} 天，名单见附件。",
            failed.len()
        ));
    } else if !failed.is_empty() {
        lines.push(format!("{} 个网站和政务新媒体在抽查中不合格，名单见附件。", failed.len()));
    }
    if !sections.is_empty() {
        let named: Vec<String> = sections.iter().map(|s| format!("{}（{} 个）", s.group.title, s.targets)).collect();
        lines.push(format!("发现的主要问题：{}。", named.join("、")));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Place;

    fn settings() -> Settings {
        Settings {
            office: "河源市人民政府办公室".into(),
            document_number: "河府办明电〔2026〕  号".into(),
            city_units: "市直".into(),
            rectification_working_days: 10,
            calendar: Calendar::china(),
        }
    }

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn target(county: &str, unit: &str, name: &str, kind: TargetKind, failed: &[(&str, u32)]) -> TargetSpan {
        TargetSpan {
            county: county.into(),
            unit: unit.into(),
            target: name.into(),
            kind,
            platform: if kind == TargetKind::Account { "wechat".into() } else { String::new() },
            days: 30,
            failed_days: failed.iter().map(|(_, days)| *days).max().unwrap_or(0),
            reasons: failed
                .iter()
                .map(|(code, days)| ReasonSpan {
                    code: code.to_string(),
                    detail: format!("{code} 的说明"),
                    days: *days,
                    first: date("2026-11-02"),
                    last: date("2026-11-20"),
                })
                .collect(),
        }
    }

    fn problem(id: i64, county: &str, name: &str, kind: TargetKind, code: FindingCode, severity: Severity) -> Problem {
        let at = Timestamp::from_second(1_793_000_000 + id).unwrap();
        let place = Place {
            agent: String::new(),
            county: county.into(),
            unit: "单位".into(),
            target: name.into(),
            kind,
            platform: if kind == TargetKind::Account { "wechat".into() } else { String::new() },
            column: String::new(),
            channel: String::new(),
        };
        Problem {
            id,
            detail: "说明".into(),
            url: "http://127.0.0.1/".into(),
            ..Problem::opened(place, code, severity, at)
        }
    }

    fn input(method: Method, county: Option<&str>) -> Input {
        Input {
            tasks: Vec::new(),
            request: Request { period: Period::parse("2026Q4").unwrap(), method, county: county.map(String::from) },
            now: "2026-11-30T04:00:00Z".parse().unwrap(),
            targets: vec![
                target(
                    "龙川县",
                    "龙川县人民政府办公室",
                    "龙川县公共服务中心",
                    TargetKind::Account,
                    &[("closed_but_live", 30)],
                ),
                target("龙川县", "龙川县人民政府办公室", "龙川县人民政府网", TargetKind::Site, &[]),
                target(
                    "市直",
                    "市生态环境局",
                    "河源市生态环境局",
                    TargetKind::Account,
                    &[("account_interaction_closed", 4)],
                ),
                target("市直", "市人民政府办公室", "河源市人民政府网", TargetKind::Site, &[("stale_key_columns", 2)]),
            ],
            previous: vec![
                PreviousRatio { county: "龙川县".into(), kind: TargetKind::Site, judged: 1, passed: 1 },
                PreviousRatio { county: "龙川县".into(), kind: TargetKind::Account, judged: 1, passed: 1 },
                PreviousRatio { county: "市直".into(), kind: TargetKind::Site, judged: 1, passed: 0 },
            ],
            days_observed: 30,
            probes: 12_345,
            problems: vec![
                (
                    problem(
                        1,
                        "龙川县",
                        "龙川县公共服务中心",
                        TargetKind::Account,
                        FindingCode::ClosedButLive,
                        Severity::Veto,
                    ),
                    false,
                ),
                (
                    problem(2, "龙川县", "龙川县人民政府网", TargetKind::Site, FindingCode::DeadLinks, Severity::Error),
                    false,
                ),
                (
                    problem(
                        3,
                        "龙川县",
                        "龙川县人民政府网",
                        TargetKind::Site,
                        FindingCode::TlsCertificateExpiring,
                        Severity::Warning,
                    ),
                    false,
                ),
                (
                    problem(
                        4,
                        "市直",
                        "河源市生态环境局",
                        TargetKind::Account,
                        FindingCode::AccountInteractionClosed,
                        Severity::Veto,
                    ),
                    false,
                ),
                (
                    problem(5, "市直", "河源市人民政府网", TargetKind::Site, FindingCode::WordingError, Severity::Veto),
                    true,
                ),
            ],
        }
    }

    #[test]
    fn counts_ratios_changes_groups_annex_and_deadline() {
        let report = Report::build(input(Method::Continuous, None), &settings());
        let counties: Vec<(&str, u32, u32, u32)> =
            report.overview.iter().map(|l| (l.county.as_str(), l.sites, l.account_count(), l.passed())).collect();
        assert_eq!(counties, [("市直", 1, 1, 0), ("龙川县", 1, 1, 1), ("全市", 2, 2, 1)], "城市单位在前，全市在后");
        let city = report.total().unwrap();
        assert_eq!(percent(city.ratio()), "25.0%");
        assert_eq!(percent(city.previous_ratio()), "66.7%");
        assert_eq!(change_words(city.change()), "下降 41.7 个百分点");
        assert_eq!(report.overview[0].previous, Some((1, 0)));
        assert_eq!(change_words(report.overview[1].change()), "下降 50.0 个百分点");

        let groups: Vec<(&str, u32, usize)> =
            report.groups.iter().map(|s| (s.group.title, s.targets, s.cases.len())).collect();
        assert_eq!(
            groups,
            [("首页及栏目不更新", 1, 1), ("不可用链接", 1, 1), ("已关停仍在运行", 1, 1), ("互动功能不通畅", 1, 1)],
            "warnings and exempted problems are not main problems; the count rule is a case"
        );
        let annex: Vec<(usize, &str, &str, &str)> = report
            .annex
            .iter()
            .map(|r| (r.number, r.target.as_str(), r.channel.as_str(), r.problems.as_str()))
            .collect();
        assert_eq!(
            annex,
            [
                (1, "河源市人民政府网", "网站", "栏目不更新（动态要闻、通知公告、政策文件类）（2 天）"),
                (2, "河源市生态环境局", "微信", "互动功能不通畅（4 天）"),
                (3, "龙川县公共服务中心", "微信", "已关停仍在运行（30 天）"),
            ]
        );
        assert_eq!(report.annex[2].county_unit(), "龙川县人民政府办公室");
        assert_eq!(report.annex[1].county_unit(), "市直 市生态环境局");
        assert_eq!(report.problems.len(), 5, "the 问题清单 lists every problem, warnings and exemptions marked");
        assert_eq!(report.problems.iter().filter(|p| p.status == "已豁免").count(), 1);
        assert_eq!(
            report.rectification.deadline,
            date("2027-01-14"),
            "10 weekdays after 12-31: 2027 is not in the calendar"
        );
        assert!(report.rectification_words().contains("未收录 2027 年"));
        assert_eq!(report.rectification.counties, [("市直".to_string(), 1, 1, 1), ("龙川县".to_string(), 0, 1, 2)]);
        assert!(report.title.contains("2026年第四季度全市政府网站及政务新媒体"), "{}", report.title);
        assert!(report.summary[0].contains("2 个政府网站和 2 个政务新媒体账号（微信 2 个）"), "{:?}", report.summary);
    }

    #[test]
    fn sampling_states_its_dates_and_one_county_sees_only_itself() {
        let mut scoped = input(Method::Sampling(vec![date("2026-11-20"), date("2026-11-28")]), Some("龙川县"));
        scoped.targets.retain(|t| t.county == "龙川县");
        scoped.problems.retain(|(p, _)| p.place.county == "龙川县");
        let report = Report::build(scoped, &settings());
        assert_eq!(report.overview.len(), 1, "no 全市 line in a county's report");
        assert_eq!(report.annex_note, "注：采样时间为2026年11月20日、11月28日。");
        assert_eq!(dates_zh(&[date("2026-12-28"), date("2027-01-05")]), "2026年12月28日、2027年1月5日");
        assert_eq!(report.annex[0].problems, "已关停仍在运行", "sampling names problems without days");
        assert!(report.method_words().contains("2026年11月20日、11月28日"), "{}", report.method_words());
        assert!(report.title.contains("龙川县政府网站"));
    }
}
