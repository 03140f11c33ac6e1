//! Startup: the last checkpoint, then the batch log replayed in the order it was taken.

use std::io::Read as _;

use jiff::Timestamp;
use rusqlite::Connection;
use xunjian_shared::wire::{Batch, Observation};

use super::StoreError;
use crate::ledger::{Ledger, LedgerSettings};
use crate::projection::{AgentState, Dirty, Receipt, Snapshot, SubjectKey, SubjectState};

/// The projection as of the last acknowledged batch, and what the replay changed since the
/// checkpoint (to be written by the next one).
pub fn load(connection: &Connection, ledger: LedgerSettings) -> Result<(Snapshot, Dirty), StoreError> {
    let write = StoreError::Write;
    let mut snapshot = Snapshot::default();
    snapshot.ledger = Ledger::new(ledger);
    let mut agents = connection
        .prepare(
            "SELECT agent, county, first_push_at, last_push_at, last_sequence, batches, certificate_not_after FROM agents",
        )
        .map_err(write)?;
    let rows = agents
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                AgentState {
                    county: row.get(1)?,
                    first_push_at: Timestamp::from_second(row.get(2)?).unwrap_or(Timestamp::UNIX_EPOCH),
                    last_push_at: Timestamp::from_second(row.get(3)?).unwrap_or(Timestamp::UNIX_EPOCH),
                    last_sequence: row.get::<_, i64>(4)? as u64,
                    batches: row.get::<_, i64>(5)? as u64,
                    certificate_not_after: row.get::<_, Option<i64>>(6)?.and_then(|t| Timestamp::from_second(t).ok()),
                },
            ))
        })
        .map_err(write)?;
    for row in rows {
        let (agent, state) = row.map_err(write)?;
        snapshot.agents.insert(agent, state);
    }
    let mut dirty = Dirty::default();
    let mut subjects = connection
        .prepare(
            "SELECT agent, county, probes_ok, probes_failed, probe_days, observation, streak, received_at FROM subjects",
        )
        .map_err(write)?;
    let rows = subjects
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)? as u64,
                row.get::<_, i64>(3)? as u64,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, String>(6)?,
                row.get::<_, i64>(7)?,
            ))
        })
        .map_err(write)?;
    for row in rows {
        let (agent, county, probes_ok, probes_failed, days, json, streak, received_at) = row.map_err(write)?;
        let corrupt = |source| StoreError::Corrupt { what: format!("a page of agent {agent}"), source };
        let observation: Observation = serde_json::from_str(&json).map_err(corrupt)?;
        let probe_days: Vec<(i64, u32, u32)> = serde_json::from_str(&days).map_err(corrupt)?;
        let streak = serde_json::from_str(&streak).map_err(corrupt)?;
        let key = SubjectKey::of(&agent, &observation);
        // Pages checkpointed before receipt times were kept count from their observation.
        let received_at = match received_at {
            0 => observation.checked_at.min(Timestamp::now()),
            seconds => Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH),
        };
        let state = SubjectState {
            county,
            observation,
            probes_ok,
            probes_failed,
            probe_days,
            streak,
            received_at,
            awaiting_checkpoint: false,
            problems: Vec::new(),
        };
        snapshot.insert_loaded(key, state, &mut dirty);
    }

    // The ledger as checkpointed, before the log replays what came after.
    let reopen_since = Timestamp::now().checked_sub(ledger.reopen_within).unwrap_or(Timestamp::UNIX_EPOCH);
    let (problems, next_id) = super::ledger::load(connection, reopen_since)?;
    snapshot.load_problems(problems, next_id);

    let mut log = connection
        .prepare("SELECT id, received_at, gzip, body, certificate_not_after FROM batch_log ORDER BY id")
        .map_err(write)?;
    let rows = log
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, bool>(2)?,
                row.get::<_, Vec<u8>>(3)?,
                row.get::<_, Option<i64>>(4)?,
            ))
        })
        .map_err(write)?;
    let mut replayed = 0usize;
    let stamp = |seconds: i64| Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH);
    for row in rows {
        let (id, received_at, gzip, body, not_after) = row.map_err(write)?;
        match decode(&body, gzip) {
            Ok(batch) => {
                let receipt = Receipt { received_at: stamp(received_at), certificate_not_after: not_after.map(stamp) };
                snapshot.apply(batch, receipt, &mut dirty);
                replayed += 1;
            }
            // The row was written by this store after the batch decoded once; a row that no
            // longer decodes is damage on disk. Skipping it keeps the collector up.
            Err(err) => tracing::error!(log_id = id, error = %err, "skipping an unreadable batch in the log"),
        }
    }
    if replayed > 0 {
        tracing::info!(batches = replayed, "replayed batches taken after the last checkpoint");
    }
    let mut seen = connection
        .prepare("SELECT county, target, platform, min(first_seen) FROM targets_seen GROUP BY county, target, platform")
        .map_err(write)?;
    let rows = seen
        .query_map([], |row| Ok(((row.get(0)?, row.get(1)?, row.get(2)?), row.get::<_, i64>(3)?)))
        .map_err(write)?;
    for row in rows {
        let (key, at) = row.map_err(write)?;
        if let Ok(at) = Timestamp::from_second(at) {
            snapshot.first_seen.insert(key, at);
        }
    }
    Ok((snapshot, dirty))
}

fn decode(body: &[u8], gzip: bool) -> Result<Batch, String> {
    let json = if gzip {
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(body).read_to_end(&mut json).map_err(|err| err.to_string())?;
        json
    } else {
        body.to_vec()
    };
    serde_json::from_slice(&json).map_err(|err| err.to_string())
}
