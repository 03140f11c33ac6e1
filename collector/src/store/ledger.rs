//! The problem ledger on disk: checkpoints write the rows that changed, startup reads the ones
//! the projection needs back, and the API reads any page of it, merged with what the projection
//! changed since the last checkpoint.

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use rusqlite::{Connection, Row, params};
use xunjian_shared::wire::{FindingCode, Severity, TargetKind};

use super::StoreError;
use crate::ledger::{Place, Problem, Resolution, Status};

const COLUMNS: &str = "id, agent, county, unit, target, kind, platform, column_name, channel, code, severity, \
     first_seen, last_seen, detail, url, evidence, observed_at, status, resolved_at, resolution, absent, reopened";

/// Writes `rows` (inserted or replaced).
pub(super) fn write<'p>(
    transaction: &rusqlite::Transaction<'_>,
    rows: impl Iterator<Item = &'p Problem>,
) -> rusqlite::Result<usize> {
    let mut statement = transaction.prepare_cached(&format!(
        "INSERT OR REPLACE INTO problems ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"
    ))?;
    let mut written = 0;
    for row in rows {
        let place = &row.place;
        statement.execute(params![
            row.id,
            place.agent,
            place.county,
            place.unit,
            place.target,
            place.kind.as_str(),
            place.platform,
            place.column,
            place.channel,
            row.code.as_str(),
            row.severity.as_str(),
            row.first_seen.as_second(),
            row.last_seen.as_second(),
            row.detail,
            row.url,
            row.evidence,
            row.observed_at.as_second(),
            row.status.as_str(),
            row.resolved_at.map(|t| t.as_second()),
            row.resolution.map(Resolution::as_str),
            row.absent,
            row.reopened,
        ])?;
        written += 1;
    }
    Ok(written)
}

/// Records the cutoff the checkpoint forgot resolved problems by.
pub(super) fn set_forget_before(transaction: &rusqlite::Transaction<'_>, cutoff: Timestamp) -> rusqlite::Result<()> {
    transaction.execute(
        "INSERT INTO meta (key, value) VALUES ('ledger_forget_before', ?1) ON CONFLICT (key) DO UPDATE SET value = ?1",
        [cutoff.as_second().to_string()],
    )?;
    Ok(())
}

/// What the projection held at the last checkpoint: every open problem, the resolved ones it
/// had not forgotten (resolved at or after the checkpoint's cutoff; without one, after
/// `default_cutoff`), and the next id.
pub(super) fn load(connection: &Connection, default_cutoff: Timestamp) -> Result<(Vec<Problem>, i64), StoreError> {
    let write = StoreError::Write;
    let recorded: Option<String> =
        connection.query_row("SELECT value FROM meta WHERE key = 'ledger_forget_before'", [], |row| row.get(0)).ok();
    let reopen_since = recorded
        .and_then(|value| value.parse::<i64>().ok())
        .and_then(|seconds| Timestamp::from_second(seconds).ok())
        .unwrap_or(default_cutoff);
    let mut statement = connection
        .prepare(&format!("SELECT {COLUMNS} FROM problems WHERE status = 'open' OR resolved_at >= ?1"))
        .map_err(write)?;
    let rows = statement.query_map([reopen_since.as_second()], read_row).map_err(write)?;
    let rows: Vec<Problem> = rows.collect::<Result<_, _>>().map_err(write)?;
    let next: i64 =
        connection.query_row("SELECT coalesce(max(id), 0) + 1 FROM problems", [], |row| row.get(0)).map_err(write)?;
    Ok((rows, next))
}

fn read_row(row: &Row<'_>) -> rusqlite::Result<Problem> {
    let stamp = |seconds: i64| Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH);
    let text = |index: usize| row.get::<_, String>(index);
    let unknown = |index: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, format!("unknown {what}").into())
    };
    Ok(Problem {
        id: row.get(0)?,
        place: Place {
            agent: text(1)?,
            county: text(2)?,
            unit: text(3)?,
            target: text(4)?,
            kind: TargetKind::named(&text(5)?).ok_or_else(|| unknown(5, "kind"))?,
            platform: text(6)?,
            column: text(7)?,
            channel: text(8)?,
        },
        code: FindingCode::named(&text(9)?).ok_or_else(|| unknown(9, "finding code"))?,
        severity: Severity::named(&text(10)?).ok_or_else(|| unknown(10, "severity"))?,
        first_seen: stamp(row.get(11)?),
        last_seen: stamp(row.get(12)?),
        detail: text(13)?,
        url: text(14)?,
        evidence: text(15)?,
        observed_at: stamp(row.get(16)?),
        status: Status::named(&text(17)?).ok_or_else(|| unknown(17, "status"))?,
        resolved_at: row.get::<_, Option<i64>>(18)?.map(stamp),
        resolution: row.get::<_, Option<String>>(19)?.and_then(|text| Resolution::named(&text)),
        absent: row.get(20)?,
        reopened: row.get(21)?,
    })
}

/// Which problems a reader wants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProblemFilter {
    pub county: Option<String>,
    /// Only these counties (a scoped caller's); None: every county.
    pub within: Option<std::collections::BTreeSet<String>>,
    pub unit: Option<String>,
    /// One site or account by name.
    pub target: Option<String>,
    pub kind: Option<TargetKind>,
    /// Open (or, resolved, lasted) at least this many seconds as of the moment given.
    pub lasting: Option<(i64, Timestamp)>,
    pub code: Option<FindingCode>,
    /// None: open and resolved.
    pub status: Option<Status>,
    /// Problems still open at or after this …
    pub since: Option<Timestamp>,
    /// … and first seen at or before this.
    pub until: Option<Timestamp>,
}

impl ProblemFilter {
    pub fn matches(&self, row: &Problem) -> bool {
        self.county.as_ref().is_none_or(|county| *county == row.place.county)
            && self.within.as_ref().is_none_or(|within| within.contains(&row.place.county))
            && self.unit.as_ref().is_none_or(|unit| *unit == row.place.unit)
            && self.target.as_ref().is_none_or(|target| *target == row.place.target)
            && self.kind.is_none_or(|kind| kind == row.place.kind)
            && self.lasting.is_none_or(|(seconds, now)| {
                row.resolved_at.unwrap_or(now).as_second() - row.first_seen.as_second() >= seconds
            })
            && self.code.is_none_or(|code| code == row.code)
            && self.status.is_none_or(|status| status == row.status)
            && self.since.is_none_or(|since| row.resolved_at.is_none_or(|resolved| resolved >= since))
            && self.until.is_none_or(|until| row.first_seen <= until)
    }

    /// The same filter in SQL, with its parameters.
    fn sql(&self) -> (String, Vec<rusqlite::types::Value>) {
        use rusqlite::types::Value;
        let mut clauses = Vec::new();
        let mut values = Vec::new();
        if let Some(within) = &self.within {
            // One parameter per county: `county IN (?n, ?m, …)`; an empty set matches nothing.
            let mut marks = Vec::new();
            for county in within {
                values.push(Value::Text(county.clone()));
                marks.push(format!("?{}", values.len()));
            }
            clauses.push(if marks.is_empty() { "0".to_string() } else { format!("county IN ({})", marks.join(", ")) });
        }
        let mut add = |clause: &str, value: Value| {
            values.push(value);
            clauses.push(clause.replace('?', &format!("?{}", values.len())));
        };
        if let Some(county) = &self.county {
            add("county = ?", Value::Text(county.clone()));
        }
        if let Some(unit) = &self.unit {
            add("unit = ?", Value::Text(unit.clone()));
        }
        if let Some(target) = &self.target {
            add("target = ?", Value::Text(target.clone()));
        }
        if let Some(kind) = self.kind {
            add("kind = ?", Value::Text(kind.as_str().into()));
        }
        if let Some((seconds, now)) = self.lasting {
            // `now` is the collector's own clock, an integer: written into the clause as is.
            add(&format!("coalesce(resolved_at, {}) - first_seen >= ?", now.as_second()), Value::Integer(seconds));
        }
        if let Some(code) = self.code {
            add("code = ?", Value::Text(code.as_str().into()));
        }
        if let Some(status) = self.status {
            add("status = ?", Value::Text(status.as_str().into()));
        }
        if let Some(since) = self.since {
            add("(resolved_at IS NULL OR resolved_at >= ?)", Value::Integer(since.as_second()));
        }
        if let Some(until) = self.until {
            add("first_seen <= ?", Value::Integer(until.as_second()));
        }
        let sql = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
        (sql, values)
    }
}

/// Which problems make one page of the ledger, newest first, and how many match: `live` (ids of
/// the rows the projection holds that match) win over what the last checkpoint wrote for any id
/// in `held` (every row the projection holds); the rest come from disk.
pub fn page_ids(
    connection: &Connection,
    held: &HashSet<i64>,
    live: Vec<i64>,
    filter: &ProblemFilter,
    offset: usize,
    limit: usize,
) -> Result<(usize, Vec<i64>), StoreError> {
    let write = StoreError::Write;
    let (clause, values) = filter.sql();
    let mut ids = live;
    let mut statement = connection.prepare(&format!("SELECT id FROM problems{clause}")).map_err(write)?;
    let stored =
        statement.query_map(rusqlite::params_from_iter(values.iter()), |row| row.get::<_, i64>(0)).map_err(write)?;
    for id in stored {
        let id = id.map_err(write)?;
        if !held.contains(&id) {
            ids.push(id);
        }
    }
    ids.sort_unstable_by(|a, b| b.cmp(a));
    let total = ids.len();
    Ok((total, ids.into_iter().skip(offset).take(limit).collect()))
}

/// The rows with these ids as the last checkpoint wrote them.
pub fn rows_by_id(connection: &Connection, ids: &[i64]) -> Result<BTreeMap<i64, Problem>, StoreError> {
    let write = StoreError::Write;
    let mut read = BTreeMap::new();
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        let mut statement =
            connection.prepare(&format!("SELECT {COLUMNS} FROM problems WHERE id IN ({marks})")).map_err(write)?;
        let rows = statement.query_map(rusqlite::params_from_iter(chunk.iter()), read_row).map_err(write)?;
        for row in rows {
            let row = row.map_err(write)?;
            read.insert(row.id, row);
        }
    }
    Ok(read)
}
