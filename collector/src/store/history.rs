//! Daily history: at the end of each China day, every page's state, every site's and account's
//! verdict and every county's pass ratio, kept for `[collector] history_retention` so any past
//! day, month or quarter can be judged again.
//!
//! A day ends when the first observation of a later day arrives (the writer sees it before it
//! logs the batch): the day is then judged on the projection as every batch before it left it,
//! and its rows are written in the same transaction as the batch that ended it. A crash before
//! that commit loses the batch and the rows together; the agent sends the batch again and the
//! day closes the same way. The day the writer is in is `meta.history_day`.

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, Transaction, params};
use serde::{Deserialize, Serialize};
use xunjian_shared::time::china_today;

use super::StoreError;
use crate::judge::Judgement;
use crate::view::{Role, View};

/// The day the writer is in, if it has seen an observation.
pub(super) fn current_day(connection: &Connection) -> Option<Date> {
    let value: String =
        connection.query_row("SELECT value FROM meta WHERE key = 'history_day'", [], |row| row.get(0)).ok()?;
    value.parse().ok()
}

pub(super) fn set_current_day(transaction: &Transaction<'_>, day: Date) -> rusqlite::Result<()> {
    transaction.execute(
        "INSERT INTO meta (key, value) VALUES ('history_day', ?1) ON CONFLICT (key) DO UPDATE SET value = ?1",
        [day.to_string()],
    )?;
    Ok(())
}

/// The China day a batch's observations reach: the newest observation's, but never later than
/// the day the collector received it (so an agent whose clock runs ahead cannot end the day
/// early for every county).
pub fn day_of(batch: &xunjian_shared::wire::Batch, received_at: Timestamp) -> Option<Date> {
    let newest = batch.observations.iter().map(|o| o.checked_at.min(received_at)).max()?;
    Some(china_today(newest))
}

/// A page's day, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageDay {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub column: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel: String,
    /// Availability probes that day (home pages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes_ok: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes_failed: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<u32>,
    /// The newest dated item, and its age that day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unanswered: Option<u32>,
    /// Findings that counted: `code:severity`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
}

/// Writes `day`'s rows: every page, every verdict, every pass ratio, from `view` (the
/// projection at the end of the day, judged as of that day) and its `judgement`.
pub(super) fn close_day(
    transaction: &Transaction<'_>,
    day: Date,
    view: &View<'_>,
    judgement: &Judgement<'_>,
) -> Result<usize, StoreError> {
    let write = StoreError::Write;
    let encode = |source| StoreError::Encode { what: "a day of history", source };
    let day_text = day.to_string();
    let day_number = crate::projection::days_since_epoch(day);
    let mut pages = transaction
        .prepare_cached(
            "INSERT OR REPLACE INTO history_pages (day, agent, county, unit, target, kind, platform, column_name, channel, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(write)?;
    let mut rows = 0;
    for page in view.pages() {
        let observation = page.observation();
        let probes = page.state.probe_days.iter().find(|(d, _, _)| *d == day_number);
        let home = page.role == Role::Home;
        let state = PageDay {
            column: page.labels.column.to_string(),
            channel: page.labels.channel.to_string(),
            probes_ok: home.then(|| probes.map_or(0, |p| p.1)),
            probes_failed: home.then(|| probes.map_or(0, |p| p.2)),
            items: observation.items(),
            newest: observation.last_update().map(|published| published.date),
            age_days: observation
                .last_update()
                .map(|published| xunjian_shared::time::days_between(published.date, day)),
            messages: observation.replies().messages,
            overdue: observation.replies().overdue,
            unanswered: observation.replies().unanswered,
            findings: page.findings.iter().map(|f| format!("{}:{}", f.code.as_str(), f.severity.as_str())).collect(),
        };
        let labels = &page.labels;
        pages
            .execute(params![
                day_text,
                page.key.agent,
                labels.county,
                labels.unit,
                labels.target,
                labels.kind,
                labels.platform,
                labels.column,
                labels.channel,
                serde_json::to_string(&state).map_err(encode)?,
            ])
            .map_err(write)?;
        rows += 1;
    }
    let mut targets = transaction
        .prepare_cached(
            "INSERT OR REPLACE INTO history_targets (day, county, unit, target, kind, platform, pass, reasons, notes, exempted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(write)?;
    for verdict in &judgement.verdicts {
        let labels = &verdict.labels;
        let stored = |reasons: &[crate::judge::Reason]| -> Vec<Reason> {
            reasons.iter().map(|r| Reason { code: r.code.as_str().to_string(), detail: r.detail.clone() }).collect()
        };
        let (reasons, notes) = (stored(&verdict.reasons), stored(&verdict.notes));
        let exempted: Vec<(String, i64)> =
            verdict.exempted.iter().map(|(code, id)| (code.as_str().to_string(), *id)).collect();
        targets
            .execute(params![
                day_text,
                labels.county,
                labels.unit,
                labels.target,
                labels.kind,
                labels.platform,
                verdict.pass(),
                serde_json::to_string(&reasons).map_err(encode)?,
                serde_json::to_string(&notes).map_err(encode)?,
                serde_json::to_string(&exempted).map_err(encode)?,
            ])
            .map_err(write)?;
        rows += 1;
    }
    let mut counties = transaction
        .prepare_cached(
            "INSERT OR REPLACE INTO history_counties (day, county, kind, judged, passed) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(write)?;
    for ratio in &judgement.ratios {
        counties
            .execute(params![day_text, ratio.county, ratio.kind.as_str(), ratio.judged, ratio.passed])
            .map_err(write)?;
        rows += 1;
    }
    Ok(rows)
}

/// A reason as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    pub detail: String,
}

/// Deletes days before `cutoff`; returns rows deleted.
pub(super) fn forget_before(connection: &Connection, cutoff: Date) -> rusqlite::Result<usize> {
    let day = cutoff.to_string();
    let mut deleted = 0;
    for table in ["history_pages", "history_targets", "history_counties"] {
        deleted += connection.execute(&format!("DELETE FROM {table} WHERE day < ?1"), [&day])?;
    }
    Ok(deleted)
}

/// One site's or account's days.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetDay {
    pub day: Date,
    pub county: String,
    pub unit: String,
    pub target: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub platform: String,
    pub pass: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    /// What limited the judgement that day without failing it (监测次数不足).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Reason>,
    /// Findings an exemption kept from counting: code and exemption id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exempted: Vec<(String, i64)>,
    /// Its pages that day.
    pub pages: Vec<PageDay>,
}

/// A county's day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountyDay {
    pub day: Date,
    pub county: String,
    pub kind: String,
    pub judged: u32,
    pub passed: u32,
    pub ratio: f64,
}

/// `target`'s days from `from` to `to` (inclusive), oldest first; `county` narrows a name two
/// counties share.
pub fn target_days(
    connection: &Connection,
    target: &str,
    county: Option<&str>,
    from: Date,
    to: Date,
) -> Result<Vec<TargetDay>, StoreError> {
    let write = StoreError::Write;
    let corrupt = |source| StoreError::Corrupt { what: "a day of history".into(), source };
    let (from, to) = (from.to_string(), to.to_string());
    let mut statement = connection
        .prepare(
            "SELECT day, county, unit, target, kind, platform, pass, reasons, exempted, notes FROM history_targets
             WHERE target = ?1 AND day >= ?2 AND day <= ?3 AND (?4 IS NULL OR county = ?4) ORDER BY day, county, kind, platform",
        )
        .map_err(write)?;
    let rows = statement
        .query_map(params![target, from, to, county], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, bool>(6)?,
                row.get::<_, String>(7)?,
                row.get::<_, String>(8)?,
                row.get::<_, String>(9)?,
            ))
        })
        .map_err(write)?;
    let mut days = Vec::new();
    for row in rows {
        let (day, county, unit, target, kind, platform, pass, reasons, exempted, notes) = row.map_err(write)?;
        days.push(TargetDay {
            day: day.parse().unwrap_or(Date::ZERO),
            county,
            unit,
            target,
            kind,
            platform,
            pass,
            reasons: serde_json::from_str(&reasons).map_err(corrupt)?,
            notes: serde_json::from_str(&notes).map_err(corrupt)?,
            exempted: serde_json::from_str(&exempted).map_err(corrupt)?,
            pages: Vec::new(),
        });
    }
    let mut pages = connection
        .prepare(
            "SELECT state FROM history_pages WHERE day = ?1 AND county = ?2 AND target = ?3 AND kind = ?4 AND platform = ?5
             ORDER BY column_name, channel",
        )
        .map_err(write)?;
    for entry in &mut days {
        let states = pages
            .query_map(params![entry.day.to_string(), entry.county, entry.target, entry.kind, entry.platform], |row| {
                row.get::<_, String>(0)
            })
            .map_err(write)?;
        for state in states {
            entry.pages.push(serde_json::from_str(&state.map_err(write)?).map_err(corrupt)?);
        }
    }
    Ok(days)
}

/// Every county's pass ratio from `from` to `to` (inclusive), oldest first.
pub fn county_days(connection: &Connection, from: Date, to: Date) -> Result<Vec<CountyDay>, StoreError> {
    let write = StoreError::Write;
    let mut statement = connection
        .prepare(
            "SELECT day, county, kind, judged, passed FROM history_counties WHERE day >= ?1 AND day <= ?2
             ORDER BY day, county = '全市', county, kind DESC",
        )
        .map_err(write)?;
    let rows = statement
        .query_map(params![from.to_string(), to.to_string()], |row| {
            let judged: u32 = row.get(3)?;
            let passed: u32 = row.get(4)?;
            Ok(CountyDay {
                day: row.get::<_, String>(0)?.parse().unwrap_or(Date::ZERO),
                county: row.get(1)?,
                kind: row.get(2)?,
                judged,
                passed,
                ratio: if judged == 0 { 1.0 } else { f64::from(passed) / f64::from(judged) },
            })
        })
        .map_err(write)?;
    rows.collect::<Result<_, _>>().map_err(write)
}

/// When each site or account was first seen by an agent, kept when pages leave.
pub(super) fn record_first_seen(
    transaction: &Transaction<'_>,
    seen: &[crate::projection::FirstSeen],
) -> rusqlite::Result<()> {
    let mut statement = transaction.prepare_cached(
        "INSERT INTO targets_seen (target, kind, platform, county, agent, first_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (county, target, kind, platform) DO UPDATE SET first_seen = excluded.first_seen, agent = excluded.agent
         WHERE excluded.first_seen < targets_seen.first_seen",
    )?;
    for entry in seen {
        statement.execute(params![
            entry.target,
            entry.kind.as_str(),
            entry.platform,
            entry.county,
            entry.agent,
            entry.at.as_second()
        ])?;
    }
    Ok(())
}

/// Records `seen` outside a batch, earlier times winning, before the collector starts on the
/// database: the demo's accounts stand for ones agents have seen for years.
pub fn import_first_seen(connection: &mut Connection, seen: &[crate::projection::FirstSeen]) -> Result<(), StoreError> {
    let transaction = connection.transaction().map_err(StoreError::Write)?;
    record_first_seen(&transaction, seen).map_err(StoreError::Write)?;
    transaction.commit().map_err(StoreError::Write)
}

/// When `target` (in `county`, when given) was first seen, if ever.
pub fn first_seen(
    connection: &Connection,
    target: &str,
    county: Option<&str>,
) -> Result<Option<Timestamp>, StoreError> {
    let seconds: Option<i64> = connection
        .query_row(
            "SELECT min(first_seen) FROM targets_seen WHERE target = ?1 AND (?2 IS NULL OR county = ?2)",
            params![target, county],
            |row| row.get(0),
        )
        .map_err(StoreError::Write)?;
    Ok(seconds.and_then(|s| Timestamp::from_second(s).ok()))
}
