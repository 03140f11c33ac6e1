//! Reading the database: the projection at startup, and queries the projection does not hold.

use jiff::Timestamp;
use rusqlite::Connection;
use xunjian_shared::wire::Observation;

use super::{AgentState, Snapshot, StoreError, SubjectKey, SubjectState};

/// Loads the whole projection (at startup: a restart keeps every series).
pub fn load(connection: &Connection) -> Result<Snapshot, StoreError> {
    let write = StoreError::Write;
    let mut snapshot = Snapshot::default();
    let mut agents = connection
        .prepare("SELECT agent, county, first_push_at, last_push_at, last_sequence, batches FROM agents")
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
                },
            ))
        })
        .map_err(write)?;
    for row in rows {
        let (agent, state) = row.map_err(write)?;
        snapshot.agents.insert(agent, state);
    }
    let mut subjects = connection
        .prepare("SELECT agent, county, observation, probes_ok, probes_failed FROM subjects")
        .map_err(write)?;
    let rows = subjects
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)? as u64,
                row.get::<_, i64>(4)? as u64,
            ))
        })
        .map_err(write)?;
    for row in rows {
        let (agent, county, json, probes_ok, probes_failed) = row.map_err(write)?;
        let observation: Observation =
            serde_json::from_str(&json).map_err(|source| StoreError::Corrupt { key: agent.clone(), source })?;
        let key = SubjectKey::of(&agent, &observation);
        snapshot.subjects.insert(key, SubjectState { county, observation, probes_ok, probes_failed });
    }
    Ok(snapshot)
}
