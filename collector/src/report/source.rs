//! What a report reads: the daily history of the period (verdicts, reasons, probes), the period
//! before (its pass ratios), the problem ledger, and, when the period reaches today, today's
//! verdicts judged live from the projection (today is not in the history until it ends).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::RwLock;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::Connection;
use rusqlite::types::Value;
use xunjian_shared::time::{china_midnight, china_today};
use xunjian_shared::wire::{Severity, TargetKind};

use super::model::{Input, Method, PreviousRatio, ReasonSpan, Request, TargetSpan};
use super::period::Period;
use crate::judge::judge;
use crate::ledger::LedgerSettings;
use crate::projection::{Snapshot, days_since_epoch};
use crate::registry::Registry;
use crate::store::history::Reason as StoredReason;
use crate::store::ledger::ProblemFilter;
use crate::store::{StoreError, read_problems};
use crate::view::{Role, View};

/// Why a report could not be made; every message is for people, in Chinese.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The request is wrong (a period not begun, a date outside it or in the future): what to
    /// ask instead.
    #[error("{0}")]
    Request(String),
    /// Nothing was observed for what was asked (the period, the county, a sampling date).
    #[error("{0}")]
    NoData(String),
    #[error("读取数据库失败：{0}；请确认配置中的 [collector] database 指向采集器的数据库且文件可读")]
    Store(#[from] StoreError),
    /// A PDF needs Chromium and none is installed: what to install.
    #[error("{0}")]
    NoChromium(String),
    /// A renderer failed: what failed.
    #[error("{0}")]
    Render(String),
}

/// Sampling dates at most (each is a read of the ledger).
pub const MAX_SAMPLING_DATES: usize = 31;

/// Where a report reads from: the database and the projection as of now.
pub struct Source<'a> {
    pub connection: &'a Connection,
    pub snapshot: &'a RwLock<Snapshot>,
    pub registry: &'a Registry,
}

/// The database read by the command line, beside a collector that may be running: the
/// projection is loaded (checkpoint and batch log) without writing anything.
pub struct Offline {
    connection: Connection,
    snapshot: RwLock<Snapshot>,
    registry: Registry,
}

impl Offline {
    /// The same, judging the registry by `rules` (the configuration's `[registry]`).
    pub fn with_registry_rules(mut self, rules: xunjian_shared::config::collector::RegistryConfig) -> Offline {
        self.registry.rules = rules;
        self
    }

    pub fn open(path: &std::path::Path, ledger: LedgerSettings) -> Result<Offline, ReportError> {
        if !path.exists() {
            return Err(ReportError::Request(format!(
                "数据库 {} 不存在：请检查配置 [collector] database，或先运行 xunjian-collector serve 收集数据",
                path.display()
            )));
        }
        // Read-only: the report never writes, and never migrates a database a running
        // collector of another version owns.
        let open_error = |source| StoreError::Open { path: path.to_path_buf(), source };
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(open_error)?;
        connection.busy_timeout(std::time::Duration::from_secs(5)).map_err(open_error)?;
        let version = crate::store::schema::version_of(&connection).map_err(open_error)?;
        let current = crate::store::schema::current_version();
        if version < current {
            return Err(ReportError::Request(format!(
                "数据库 {} 的版本（{version}）早于本程序（{current}）：请先用本版本运行一次 xunjian-collector serve 完成升级，再生成通报",
                path.display()
            )));
        }
        if version > current {
            return Err(ReportError::Request(format!(
                "数据库 {} 由更新版本的采集器写入（版本 {version}，本程序 {current}）：请使用与采集器相同版本的 xunjian-collector 生成通报",
                path.display()
            )));
        }
        let (snapshot, _) = crate::store::read::load(&connection, ledger)?;
        let registry = crate::store::filings::load(&connection)?;
        Ok(Offline { connection, snapshot: RwLock::new(snapshot), registry })
    }

    pub fn source(&self) -> Source<'_> {
        Source { connection: &self.connection, snapshot: &self.snapshot, registry: &self.registry }
    }
}

/// The days a query covers, as SQL over `day` with its parameters.
struct Days {
    clause: String,
    values: Vec<Value>,
}

impl Days {
    fn range(from: Date, to: Date) -> Days {
        Days {
            clause: "day >= ? AND day <= ?".into(),
            values: vec![Value::Text(from.to_string()), Value::Text(to.to_string())],
        }
    }

    fn list(days: &[Date]) -> Days {
        let marks = vec!["?"; days.len().max(1)].join(",");
        let mut values: Vec<Value> = days.iter().map(|d| Value::Text(d.to_string())).collect();
        if values.is_empty() {
            values.push(Value::Null);
        }
        Days { clause: format!("day IN ({marks})"), values }
    }

    /// `SELECT … WHERE <days> [AND county = ?] <rest>`, numbered parameters.
    fn query(&self, select: &str, county: Option<&str>, rest: &str) -> (String, Vec<Value>) {
        let mut values = self.values.clone();
        let mut clause = self.clause.clone();
        if let Some(county) = county {
            clause.push_str(" AND county = ?");
            values.push(Value::Text(county.to_string()));
        }
        (format!("{select} WHERE {clause} {rest}"), values)
    }
}

/// Reads what `request` needs, as of `now`. `progress` hears each step (for stderr).
pub fn gather(
    source: &Source<'_>,
    request: &Request,
    now: Timestamp,
    progress: &dyn Fn(&str),
) -> Result<Input, ReportError> {
    let today = china_today(now);
    let county = request.county.as_deref();
    let (from, to) = (request.period.from(), request.period.to());
    if from > today {
        return Err(ReportError::Request(format!("{} 尚未开始（今天是 {today}），没有可判定的数据", request.period)));
    }
    let no_data_hint = if county.is_some() {
        "请确认县区名称与采集代理配置中的一致、采集代理已推送数据，且日期未超过 [collector] history_retention"
    } else {
        "请确认采集代理已推送数据，且日期未超过 [collector] history_retention"
    };
    // Today is judged live when an agent has observed anything today (the history holds the
    // days before).
    let observed_today =
        observed_on(&source.snapshot.read().unwrap_or_else(|poisoned| poisoned.into_inner()), county, today);
    // The closed days from the history, and whether today is one of the days.
    let (days, live) = match &request.method {
        Method::Continuous => {
            let last_closed = to.min(today.yesterday().unwrap_or(today));
            (Days::range(from, last_closed), to >= today && observed_today)
        }
        Method::Sampling(dates) => {
            if dates.len() > MAX_SAMPLING_DATES {
                return Err(ReportError::Request(format!(
                    "抽样日期最多 {MAX_SAMPLING_DATES} 个（收到 {} 个）",
                    dates.len()
                )));
            }
            // A date after the period is allowed: the seed notice sampled its second quarter on
            // 6月28日 and 7月23日.
            if let Some(early) = dates.iter().find(|d| **d < from) {
                return Err(ReportError::Request(format!(
                    "抽样日期 {early} 早于{}的第一天（{from}）：请选该时段内（或其后）的日期",
                    request.period
                )));
            }
            if let Some(later) = dates.iter().find(|d| **d > today) {
                return Err(ReportError::Request(format!(
                    "抽样日期 {later} 晚于今天（{today}）：请改用今天或之前的日期"
                )));
            }
            let past: Vec<Date> = dates.iter().copied().filter(|d| *d < today).collect();
            let days = Days::list(&past);
            let (sql, values) = days.query("SELECT DISTINCT day FROM history_counties", county, "");
            let known: HashSet<String> =
                query_rows(source.connection, &sql, &values, |row| row.get(0))?.into_iter().collect();
            if let Some(missing) = past.iter().find(|d| !known.contains(&d.to_string())) {
                return Err(ReportError::NoData(format!(
                    "抽样日期 {missing}{} 没有巡检记录（当天未收到观测，或已超过保留期）：请换一个有数据的日期；{no_data_hint}",
                    county.map(|c| format!(" {c}")).unwrap_or_default()
                )));
            }
            if dates.contains(&today) && !observed_today {
                return Err(ReportError::NoData(format!(
                    "抽样日期 {today}（今天）还没有收到任何观测：请稍后再试，或换一个日期"
                )));
            }
            (days, dates.contains(&today))
        }
    };

    progress("读取每日判定记录…");
    let mut targets = read_targets(source.connection, &days, county)?;
    let mut days_observed: u32 = {
        let (sql, values) = days.query("SELECT count(DISTINCT day) FROM history_counties", county, "");
        query_rows(source.connection, &sql, &values, |row| row.get(0))?.first().copied().unwrap_or(0)
    };
    let mut probes: u64 = {
        let (sql, values) = days.query(
            "SELECT coalesce(sum(json_extract(state, '$.probes_ok')), 0) + coalesce(sum(json_extract(state, '$.probes_failed')), 0) FROM history_pages",
            county,
            "",
        );
        query_rows(source.connection, &sql, &values, |row| row.get::<_, i64>(0))?.first().copied().unwrap_or(0) as u64
    };
    if live {
        progress("判定今天的状态…");
        let (live_targets, live_probes) = judge_today(source, county, today);
        if !live_targets.is_empty() {
            days_observed += 1;
        }
        probes += live_probes;
        for (span, reasons) in live_targets {
            let key = key_of(&span.county, &span.target, span.kind, &span.platform);
            let entry = targets.entry(key).or_insert_with(|| Gathered::new(TargetSpan { days: 0, ..span.clone() }));
            entry.span.unit = span.unit;
            entry.span.days += 1;
            entry.add_reasons(reasons, today, span.failed_days > 0);
        }
    }
    if targets.is_empty() {
        return Err(ReportError::NoData(format!(
            "{}{}没有巡检记录：{no_data_hint}",
            request.period,
            county.map(|c| format!("内{c}")).unwrap_or_else(|| "内".into())
        )));
    }

    progress("读取上一时段的合格率…");
    let previous = previous_ratios(source.connection, request.period.previous(), county, today)?;

    progress("读取问题台账…");
    // The last second of a China day (a problem first seen at the next midnight is not in it).
    let end_of =
        |day: Date| (china_midnight(day.tomorrow().unwrap_or(day)) - jiff::SignedDuration::from_secs(1)).min(now);
    let windows: Vec<(Timestamp, Timestamp)> = match &request.method {
        Method::Continuous => vec![(china_midnight(from), end_of(to))],
        Method::Sampling(dates) => dates.iter().map(|d| (end_of(*d), end_of(*d))).collect(),
    };
    // Exemptions as they stood at the end of what is judged.
    let judged_on = match &request.method {
        Method::Continuous => to.min(today),
        Method::Sampling(dates) => dates.iter().copied().max().unwrap_or(to).min(today),
    };
    let mut seen = HashSet::new();
    let mut problems = Vec::new();
    for (since, until) in windows {
        let filter = ProblemFilter {
            county: request.county.clone(),
            since: Some(since),
            until: Some(until),
            ..ProblemFilter::default()
        };
        let (_, rows) = read_problems(source.snapshot, source.connection, &filter, 0, usize::MAX)?;
        for row in rows {
            if seen.insert(row.id) {
                let exempted =
                    source.registry.exempts_code(&row.place.target, row.place.scope(), row.code, judged_on).is_some();
                problems.push((row, exempted));
            }
        }
    }
    // Judged continuously, a veto seen during part of a day fails that day even when the day
    // ended without it (the history keeps each day's end): from the day it was first seen to
    // the day it was last seen, on days the target was judged, unless an exemption covered it
    // that day.
    if request.method == Method::Continuous {
        for (problem, _) in &problems {
            if problem.severity != Severity::Veto {
                continue;
            }
            let place = &problem.place;
            let key = key_of(&place.county, &place.target, place.kind, &place.platform);
            let Some(entry) = targets.get_mut(&key) else {
                continue;
            };
            if entry.judged.is_none() {
                let mut judged = judged_days(source.connection, &days, &key)?;
                if live {
                    judged.insert(today);
                }
                entry.judged = Some(judged);
            }
            let opened = china_today(problem.first_seen).max(from);
            let seen_last = china_today(problem.last_seen).min(to);
            let reason = || StoredReason {
                code: problem.code.as_str().to_string(),
                detail: format!("{}：{}", problem.code.label_zh(), problem.detail),
            };
            let days_seen: Vec<Date> = entry
                .judged
                .iter()
                .flatten()
                .copied()
                .filter(|day| (opened..=seen_last).contains(day))
                .filter(|day| source.registry.exempts_code(&place.target, place.scope(), problem.code, *day).is_none())
                .collect();
            for day in days_seen {
                entry.add_reasons(vec![reason()], day, true);
            }
        }
    }
    // 整改情况: tasks made by the period's end, but not those verified before it began.
    let filter = crate::store::tasks::TaskFilter {
        county: request.county.clone(),
        made_until: Some(china_midnight(to.tomorrow().unwrap_or(to))),
        ..Default::default()
    };
    let began = china_midnight(from);
    let tasks = crate::store::tasks::list(source.connection, &filter)?
        .into_iter()
        .filter(|task| task.verified_at.is_none_or(|at| at >= began))
        .collect();
    Ok(Input {
        tasks,
        request: request.clone(),
        now,
        targets: targets.into_values().map(Gathered::finish).collect(),
        previous,
        days_observed,
        probes,
        problems,
    })
}

/// Whether an agent observed anything on `day` (in `county`, when given).
pub fn observed_on(snapshot: &Snapshot, county: Option<&str>, day: Date) -> bool {
    snapshot.subjects().values().any(|state| {
        county.is_none_or(|county| state.county == county) && china_today(state.observation.checked_at) == day
    })
}

type TargetKey = (String, String, String, String);

fn key_of(county: &str, target: &str, kind: TargetKind, platform: &str) -> TargetKey {
    (county.to_string(), target.to_string(), kind.as_str().to_string(), platform.to_string())
}

/// A target's span while it is read: the days it failed and each reason's days, as sets, so a
/// day counted by the history and by the ledger counts once.
struct Gathered {
    span: TargetSpan,
    /// The days it was judged, read only for targets the ledger adds days to.
    judged: Option<BTreeSet<Date>>,
    failed: BTreeSet<Date>,
    /// Per reason code, in first-seen order: its days and its newest words.
    reasons: Vec<(String, BTreeSet<Date>, Date, String)>,
}

impl Gathered {
    fn new(span: TargetSpan) -> Gathered {
        Gathered { span, judged: None, failed: BTreeSet::new(), reasons: Vec::new() }
    }

    fn add_reasons(&mut self, reasons: Vec<StoredReason>, day: Date, failed: bool) {
        if failed {
            self.failed.insert(day);
        }
        for reason in reasons {
            match self.reasons.iter_mut().find(|(code, ..)| *code == reason.code) {
                Some((_, days, newest, detail)) => {
                    days.insert(day);
                    if day >= *newest {
                        *newest = day;
                        *detail = reason.detail;
                    }
                }
                None => self.reasons.push((reason.code, BTreeSet::from([day]), day, reason.detail)),
            }
        }
    }

    fn finish(self) -> TargetSpan {
        let mut span = self.span;
        span.failed_days = self.failed.len() as u32;
        span.reasons = self
            .reasons
            .into_iter()
            .map(|(code, days, _, detail)| ReasonSpan {
                code,
                detail,
                days: days.len() as u32,
                first: days.first().copied().unwrap_or(Date::ZERO),
                last: days.last().copied().unwrap_or(Date::ZERO),
            })
            .collect();
        span
    }
}

/// The days of `days` on which the history judged the target `key`.
fn judged_days(connection: &Connection, days: &Days, key: &TargetKey) -> Result<BTreeSet<Date>, StoreError> {
    let (sql, mut values) =
        days.query("SELECT day FROM history_targets", Some(&key.0), "AND target = ? AND kind = ? AND platform = ?");
    values.extend([Value::Text(key.1.clone()), Value::Text(key.2.clone()), Value::Text(key.3.clone())]);
    let rows = query_rows(connection, &sql, &values, |row| row.get::<_, String>(0))?;
    Ok(rows.iter().filter_map(|day| day.parse().ok()).collect())
}

fn query_rows<T>(
    connection: &Connection,
    sql: &str,
    values: &[Value],
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = connection.prepare(sql).map_err(StoreError::Write)?;
    let rows = statement.query_map(rusqlite::params_from_iter(values.iter()), read).map_err(StoreError::Write)?;
    rows.collect::<Result<_, _>>().map_err(StoreError::Write)
}

/// Each site's and account's days in the history, and its failed days' reasons.
fn read_targets(
    connection: &Connection,
    days: &Days,
    county: Option<&str>,
) -> Result<BTreeMap<TargetKey, Gathered>, StoreError> {
    let mut targets = BTreeMap::new();
    // The unit of the newest day (SQLite takes bare columns from the max() row).
    let (sql, values) = days.query(
        "SELECT county, target, kind, platform, unit, max(day), count(*) FROM history_targets",
        county,
        "GROUP BY county, target, kind, platform",
    );
    let rows = query_rows(connection, &sql, &values, |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, u32>(6)?,
        ))
    })?;
    for (county, target, kind, platform, unit, days) in rows {
        let Some(target_kind) = TargetKind::named(&kind) else { continue };
        targets.insert(
            (county.clone(), target.clone(), kind, platform.clone()),
            Gathered::new(TargetSpan {
                county,
                unit,
                target,
                kind: target_kind,
                platform,
                days,
                failed_days: 0,
                reasons: Vec::new(),
            }),
        );
    }
    let (sql, values) = days.query(
        "SELECT county, target, kind, platform, day, reasons FROM history_targets",
        county,
        "AND pass = 0 ORDER BY day",
    );
    let rows = query_rows(connection, &sql, &values, |row| {
        Ok((
            (row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?, row.get::<_, String>(3)?),
            row.get::<_, String>(4)?,
            row.get::<_, String>(5)?,
        ))
    })?;
    for (key, day, reasons) in rows {
        let reasons: Vec<StoredReason> = serde_json::from_str(&reasons)
            .map_err(|source| StoreError::Corrupt { what: format!("reasons of {} on {day}", key.1), source })?;
        let day: Date = day.parse().unwrap_or(Date::ZERO);
        if let Some(entry) = targets.get_mut(&key) {
            entry.add_reasons(reasons, day, true);
        }
    }
    Ok(targets)
}

/// Today's verdicts, judged on the projection as it is now, and today's probes.
fn judge_today(source: &Source<'_>, county: Option<&str>, today: Date) -> (Vec<(TargetSpan, Vec<StoredReason>)>, u64) {
    let snapshot = source.snapshot.read().unwrap_or_else(|poisoned| poisoned.into_inner());
    let view = View::of(&snapshot, source.registry, today);
    let judgement = judge(&view);
    let wanted = |c: &str| county.is_none_or(|county| county == c);
    let day = days_since_epoch(today);
    let probes = view
        .pages()
        .filter(|page| page.role == Role::Home && wanted(page.labels.county))
        .filter_map(|page| page.state.probe_days.iter().find(|(d, _, _)| *d == day))
        .map(|(_, ok, failed)| u64::from(*ok) + u64::from(*failed))
        .sum();
    let spans = judgement
        .verdicts
        .iter()
        .filter(|verdict| wanted(verdict.labels.county))
        .filter_map(|verdict| {
            let labels = &verdict.labels;
            let kind = TargetKind::named(labels.kind)?;
            let reasons = verdict
                .reasons
                .iter()
                .map(|r| StoredReason { code: r.code.as_str().to_string(), detail: r.detail.clone() })
                .collect();
            Some((
                TargetSpan {
                    county: labels.county.to_string(),
                    unit: labels.unit.to_string(),
                    target: labels.target.to_string(),
                    kind,
                    platform: labels.platform.to_string(),
                    days: 1,
                    failed_days: u32::from(!verdict.pass()),
                    reasons: Vec::new(),
                },
                reasons,
            ))
        })
        .collect();
    (spans, probes)
}

/// The period before, judged continuously from its history (days before today only).
fn previous_ratios(
    connection: &Connection,
    previous: Period,
    county: Option<&str>,
    today: Date,
) -> Result<Vec<PreviousRatio>, StoreError> {
    let to = previous.to().min(today.yesterday().unwrap_or(today));
    let days = Days::range(previous.from(), to);
    let (inner, values) = days.query(
        "SELECT county, kind, min(pass) AS ok FROM history_targets",
        county,
        "GROUP BY county, target, kind, platform",
    );
    let sql = format!("SELECT county, kind, count(*), sum(ok) FROM ({inner}) GROUP BY county, kind");
    let rows = query_rows(connection, &sql, &values, |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, u32>(2)?, row.get::<_, u32>(3)?))
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(county, kind, judged, passed)| {
            Some(PreviousRatio { county, kind: TargetKind::named(&kind)?, judged, passed })
        })
        .collect())
}

/// Periods with history, newest first: each quarter and month with at least one closed day,
/// and the current quarter and month when the collector has seen anything.
pub fn periods_with_data(
    connection: &Connection,
    today: Date,
    live: bool,
    within: Option<&BTreeSet<String>>,
) -> Result<Vec<(Period, u32)>, StoreError> {
    let (clause, values): (String, Vec<Value>) = match within {
        None => (String::new(), Vec::new()),
        Some(counties) => {
            let marks: Vec<String> = (1..=counties.len()).map(|n| format!("?{n}")).collect();
            let clause =
                if marks.is_empty() { " WHERE 0".into() } else { format!(" WHERE county IN ({})", marks.join(", ")) };
            (clause, counties.iter().map(|c| Value::Text(c.clone())).collect())
        }
    };
    let rows = query_rows(
        connection,
        &format!(
            "SELECT substr(day, 1, 7), count(DISTINCT day) FROM history_counties{clause} GROUP BY substr(day, 1, 7)"
        ),
        &values,
        |row| Ok((row.get::<_, String>(0)?, row.get::<_, u32>(1)?)),
    )?;
    let mut quarters: BTreeMap<(i16, i8), u32> = BTreeMap::new();
    let mut months: BTreeMap<(i16, i8), u32> = BTreeMap::new();
    let mut add = |year: i16, month: i8, days: u32| {
        *quarters.entry((year, (month - 1) / 3 + 1)).or_default() += days;
        *months.entry((year, month)).or_default() += days;
    };
    for (month, days) in rows {
        let Ok(Period::Month { year, month }) = Period::parse(&month) else { continue };
        add(year, month, days);
    }
    if live {
        add(today.year(), today.month(), 1);
    }
    let mut periods: Vec<(Period, u32)> = Vec::new();
    for ((year, quarter), days) in quarters.into_iter().rev() {
        periods.push((Period::Quarter { year, quarter }, days));
        for ((y, month), days) in months.iter().rev() {
            if *y == year && (month - 1) / 3 + 1 == quarter {
                periods.push((Period::Month { year, month: *month }, *days));
            }
        }
    }
    Ok(periods)
}
