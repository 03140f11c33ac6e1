//! What a report reads: the daily history of the period (verdicts, reasons, probes), the period
//! before (its pass ratios), the problem ledger, and, when the period reaches today, today's
//! verdicts judged live from the projection (today is not in the history until it ends).

use std::collections::{BTreeMap, HashSet};
use std::sync::RwLock;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::Connection;
use rusqlite::types::Value;
use xunjian_shared::time::{china_midnight, china_today};
use xunjian_shared::wire::TargetKind;

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

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The request cannot be answered (a date without data, a period not begun): what to ask
    /// instead, in Chinese.
    #[error("{0}")]
    Request(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A renderer failed (or, for PDF, Chromium is missing or failed): what to do, in Chinese.
    #[error("{0}")]
    Render(String),
}

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
    pub fn open(path: &std::path::Path, ledger: LedgerSettings) -> Result<Offline, ReportError> {
        if !path.exists() {
            return Err(ReportError::Request(format!(
                "数据库 {} 不存在：请检查配置 [collector] database，或先运行 xunjian-collector serve 收集数据",
                path.display()
            )));
        }
        let connection = crate::store::filings::open_connection(path)?;
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
    // The closed days from the history, and whether today (judged live) is one of the days.
    let (days, live) = match &request.method {
        Method::Continuous => {
            let last_closed = to.min(today.yesterday().unwrap_or(today));
            (Days::range(from, last_closed), to >= today)
        }
        Method::Sampling(dates) => {
            if let Some(later) = dates.iter().find(|d| **d > today) {
                return Err(ReportError::Request(format!("抽样日期 {later} 晚于今天（{today}），请改用已过去的日期")));
            }
            let past: Vec<Date> = dates.iter().copied().filter(|d| *d < today).collect();
            let days = Days::list(&past);
            let (sql, values) = days.query("SELECT DISTINCT day FROM history_counties", None, "");
            let known: HashSet<String> =
                query_rows(source.connection, &sql, &values, |row| row.get(0))?.into_iter().collect();
            if let Some(missing) = past.iter().find(|d| !known.contains(&d.to_string())) {
                return Err(ReportError::Request(format!(
                    "抽样日期 {missing} 没有巡检记录（当天未收到任何观测，或已超过 [collector] history_retention）；请换一个有数据的日期"
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
        for span in live_targets {
            merge(&mut targets, span, today);
        }
    }
    if targets.is_empty() {
        return Err(ReportError::Request(format!(
            "{}{}没有巡检记录：请确认采集代理已推送数据，或换一个时段",
            request.period,
            county.map(|c| format!("内{c}")).unwrap_or_else(|| "内".into())
        )));
    }

    progress("读取上一时段的合格率…");
    let previous = previous_ratios(source.connection, request.period.previous(), county, today)?;

    progress("读取问题台账…");
    let end_of = |day: Date| china_midnight(day.tomorrow().unwrap_or(day)).min(now);
    let windows: Vec<(Timestamp, Timestamp)> = match &request.method {
        Method::Continuous => vec![(china_midnight(from), end_of(to))],
        Method::Sampling(dates) => dates.iter().map(|d| (end_of(*d), end_of(*d))).collect(),
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
                    source.registry.exempts_code(&row.place.target, row.place.scope(), row.code, today).is_some();
                problems.push((row, exempted));
            }
        }
    }
    Ok(Input {
        request: request.clone(),
        now,
        targets: targets.into_values().collect(),
        previous,
        days_observed,
        probes,
        problems,
    })
}

type TargetKey = (String, String, String, String);

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
) -> Result<BTreeMap<TargetKey, TargetSpan>, StoreError> {
    let mut targets = BTreeMap::new();
    // The unit of the newest day (SQLite takes bare columns from the max() row).
    let (sql, values) = days.query(
        "SELECT county, target, kind, platform, unit, max(day), count(*), sum(pass = 0) FROM history_targets",
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
            row.get::<_, u32>(7)?,
        ))
    })?;
    for (county, target, kind, platform, unit, days, failed_days) in rows {
        let Some(target_kind) = TargetKind::named(&kind) else { continue };
        targets.insert(
            (county.clone(), target.clone(), kind, platform.clone()),
            TargetSpan { county, unit, target, kind: target_kind, platform, days, failed_days, reasons: Vec::new() },
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
        if let Some(span) = targets.get_mut(&key) {
            add_reasons(span, reasons, day);
        }
    }
    Ok(targets)
}

fn add_reasons(span: &mut TargetSpan, reasons: Vec<StoredReason>, day: Date) {
    let mut codes_today = HashSet::new();
    for reason in reasons {
        if !codes_today.insert(reason.code.clone()) {
            continue;
        }
        match span.reasons.iter_mut().find(|r| r.code == reason.code) {
            Some(existing) => {
                existing.days += 1;
                existing.last = day;
                existing.detail = reason.detail;
            }
            None => span.reasons.push(ReasonSpan {
                code: reason.code,
                detail: reason.detail,
                days: 1,
                first: day,
                last: day,
            }),
        }
    }
}

/// Adds today's live verdict to a target's days.
fn merge(targets: &mut BTreeMap<TargetKey, TargetSpan>, today: (TargetSpan, Vec<StoredReason>), day: Date) {
    let (span, reasons) = today;
    let key = (span.county.clone(), span.target.clone(), span.kind.as_str().to_string(), span.platform.clone());
    let entry = targets.entry(key).or_insert_with(|| TargetSpan { days: 0, failed_days: 0, ..span.clone() });
    entry.unit = span.unit;
    entry.days += 1;
    entry.failed_days += span.failed_days;
    add_reasons(entry, reasons, day);
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
pub fn periods_with_data(connection: &Connection, today: Date, live: bool) -> Result<Vec<(Period, u32)>, StoreError> {
    let rows = query_rows(
        connection,
        "SELECT substr(day, 1, 7), count(DISTINCT day) FROM history_counties GROUP BY substr(day, 1, 7)",
        &[],
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
