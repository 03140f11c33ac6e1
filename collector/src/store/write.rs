//! The writer thread: group commits of pushes, retention, and the projection kept in step.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use rusqlite::{Connection, params};
use xunjian_shared::time::china_today;
use xunjian_shared::wire::{Batch, SubjectRef};

use super::{
    AgentState, CommitOutcome, Expired, MAX_GROUP, Request, Snapshot, StoreError, SubjectKey, SubjectState,
    probe_result,
};

/// Changes to the projection, staged until their transaction commits.
#[derive(Default)]
struct Staged {
    agents: HashMap<String, AgentState>,
    subjects: HashMap<SubjectKey, SubjectState>,
    retired: HashSet<SubjectKey>,
}

impl Staged {
    /// Takes a successful batch's changes into the group's.
    fn absorb(&mut self, batch: Staged) {
        for key in batch.retired {
            self.subjects.remove(&key);
            self.retired.insert(key);
        }
        for (key, state) in batch.subjects {
            self.retired.remove(&key);
            self.subjects.insert(key, state);
        }
        self.agents.extend(batch.agents);
    }

    fn apply(self, projection: &mut Snapshot) {
        for key in self.retired {
            projection.subjects.remove(&key);
        }
        projection.subjects.extend(self.subjects);
        projection.agents.extend(self.agents);
    }
}

pub(super) fn run(mut connection: Connection, requests: Receiver<Request>, snapshot: Arc<RwLock<Snapshot>>) {
    while let Ok(first) = requests.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match requests.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let mut commits = Vec::new();
        for request in group {
            match request {
                Request::Commit { batch, received_at, reply } => commits.push((batch, received_at, reply)),
                Request::Expire { now, series_expiry, dedupe_window, reply } => {
                    let result = expire(&mut connection, &snapshot, now, series_expiry, dedupe_window);
                    let _ = reply.send(result);
                }
            }
        }
        if !commits.is_empty() {
            commit_group(&mut connection, &snapshot, commits);
        }
    }
}

type Reply = tokio::sync::oneshot::Sender<Result<CommitOutcome, StoreError>>;

fn commit_group(connection: &mut Connection, snapshot: &RwLock<Snapshot>, commits: Vec<(Batch, Timestamp, Reply)>) {
    let fail_all = |commits: Vec<(Batch, Timestamp, Reply)>, err: rusqlite::Error| {
        let message = err.to_string();
        for (_, _, reply) in commits {
            let _ = reply.send(Err(StoreError::Write(rusqlite::Error::InvalidParameterName(message.clone()))));
        }
    };
    let transaction = match connection.transaction() {
        Ok(transaction) => transaction,
        Err(err) => return fail_all(commits, err),
    };
    let mut group = Staged::default();
    let mut outcomes: Vec<Result<CommitOutcome, StoreError>> = Vec::with_capacity(commits.len());
    let mut replies = Vec::with_capacity(commits.len());
    {
        let current = snapshot.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (index, (batch, received_at, reply)) in commits.into_iter().enumerate() {
            replies.push(reply);
            let savepoint = format!("batch_{index}");
            let mut staged = Staged::default();
            let result = transaction
                .execute_batch(&format!("SAVEPOINT {savepoint}"))
                .and_then(|()| apply_batch(&transaction, batch, received_at, &current, &group, &mut staged));
            match result {
                Ok(outcome) => {
                    let _ = transaction.execute_batch(&format!("RELEASE {savepoint}"));
                    group.absorb(staged);
                    outcomes.push(Ok(outcome));
                }
                Err(err) => {
                    let _ = transaction.execute_batch(&format!("ROLLBACK TO {savepoint}; RELEASE {savepoint}"));
                    outcomes.push(Err(StoreError::Write(err)));
                }
            }
        }
    }
    if let Err(err) = transaction.commit() {
        let message = err.to_string();
        for reply in replies {
            let _ = reply.send(Err(StoreError::Write(rusqlite::Error::InvalidParameterName(message.clone()))));
        }
        return;
    }
    group.apply(&mut snapshot.write().unwrap_or_else(|poisoned| poisoned.into_inner()));
    for (reply, outcome) in replies.into_iter().zip(outcomes) {
        let _ = reply.send(outcome);
    }
}

/// Applies one batch inside the open transaction, staging the projection's changes.
fn apply_batch(
    transaction: &rusqlite::Transaction<'_>,
    batch: Batch,
    received_at: Timestamp,
    current: &Snapshot,
    group: &Staged,
    staged: &mut Staged,
) -> rusqlite::Result<CommitOutcome> {
    let inserted = transaction.execute(
        "INSERT INTO batches (batch_id, agent, sequence, received_at, observations) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (batch_id) DO NOTHING",
        params![
            batch.batch_id.as_str(),
            batch.agent,
            batch.sequence as i64,
            received_at.as_second(),
            batch.observations.len() as i64
        ],
    )?;
    if inserted == 0 {
        return Ok(CommitOutcome::Duplicate);
    }
    let previous_agent = group.agents.get(&batch.agent).or_else(|| current.agents.get(&batch.agent));
    let agent_state = AgentState {
        county: batch.county.clone(),
        first_push_at: previous_agent.map(|a| a.first_push_at).unwrap_or(received_at),
        last_push_at: received_at,
        last_sequence: previous_agent.map(|a| a.last_sequence.max(batch.sequence)).unwrap_or(batch.sequence),
        batches: previous_agent.map(|a| a.batches + 1).unwrap_or(1),
    };
    transaction.execute(
        "INSERT INTO agents (agent, county, first_push_at, last_push_at, last_sequence, batches) VALUES (?1, ?2, ?3, ?3, ?4, 1)
         ON CONFLICT (agent) DO UPDATE SET county = ?2, last_push_at = ?3,
             last_sequence = max(last_sequence, ?4), batches = batches + 1",
        params![batch.agent, batch.county, received_at.as_second(), batch.sequence as i64],
    )?;
    staged.agents.insert(batch.agent.clone(), agent_state);

    let mut upsert = transaction.prepare_cached(
        "INSERT INTO subjects (agent, target, kind, column_name, county, unit, platform, observation, observed_at, probes_ok, probes_failed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (agent, target, kind, column_name) DO UPDATE SET
             county = ?5,
             unit = CASE WHEN ?9 >= observed_at THEN ?6 ELSE unit END,
             platform = CASE WHEN ?9 >= observed_at THEN ?7 ELSE platform END,
             observation = CASE WHEN ?9 >= observed_at THEN ?8 ELSE observation END,
             observed_at = max(observed_at, ?9),
             probes_ok = probes_ok + ?10,
             probes_failed = probes_failed + ?11",
    )?;
    let mut probe_day = transaction.prepare_cached(
        "INSERT INTO probe_days (agent, target, day, ok, failed) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (agent, target, day) DO UPDATE SET ok = ok + ?4, failed = failed + ?5",
    )?;
    let observations = batch.observations.len() as u32;
    for observation in batch.observations {
        let key = SubjectKey::of(&batch.agent, &observation);
        let observed_at = observation.checked_at.as_second();
        let probe = probe_result(&observation);
        let (ok, failed) = match probe {
            Some(true) => (1u64, 0u64),
            Some(false) => (0, 1),
            None => (0, 0),
        };
        let json = serde_json::to_string(&observation)
            .map_err(|err| rusqlite::Error::ToSqlConversionFailure(Box::new(err)))?;
        upsert.execute(params![
            key.agent,
            key.target,
            key.kind.as_str(),
            key.column,
            batch.county,
            observation.unit,
            observation.platform.as_deref().unwrap_or(""),
            json,
            observed_at,
            ok as i64,
            failed as i64
        ])?;
        if probe.is_some() {
            let day = days_since_epoch(china_today(observation.checked_at));
            probe_day.execute(params![key.agent, key.target, day, ok as i64, failed as i64])?;
        }
        // The projection mirrors the SQL: newest observation wins, probe counts add up.
        let previous = match staged.subjects.remove(&key) {
            Some(state) => Some(state),
            None if group.retired.contains(&key) => None,
            None => group.subjects.get(&key).or_else(|| current.subjects.get(&key)).cloned(),
        };
        let state = match previous {
            Some(mut state) => {
                state.county.clone_from(&batch.county);
                if observation.checked_at >= state.observation.checked_at {
                    state.observation = observation;
                }
                state.probes_ok += ok;
                state.probes_failed += failed;
                state
            }
            None => SubjectState { county: batch.county.clone(), observation, probes_ok: ok, probes_failed: failed },
        };
        staged.subjects.insert(key, state);
    }
    if let Some(inventory) = &batch.inventory {
        retire_unlisted(transaction, &batch.agent, inventory, current, group, staged)?;
    }
    Ok(CommitOutcome::Accepted { observations })
}

/// Removes the agent's subjects that its inventory no longer lists: a page taken out of the
/// configuration stops producing series at once instead of lingering.
fn retire_unlisted(
    transaction: &rusqlite::Transaction<'_>,
    agent: &str,
    inventory: &[SubjectRef],
    current: &Snapshot,
    group: &Staged,
    staged: &mut Staged,
) -> rusqlite::Result<()> {
    let listed: HashSet<(&str, &str, &str)> = inventory
        .iter()
        .map(|subject| (subject.target.as_str(), subject.kind.as_str(), subject.column.as_deref().unwrap_or("")))
        .collect();
    let known: HashSet<SubjectKey> = current
        .subjects
        .range(agent_range(agent))
        .map(|(key, _)| key)
        .chain(group.subjects.keys().filter(|key| key.agent == agent))
        .chain(staged.subjects.keys())
        .filter(|key| !group.retired.contains(*key))
        .cloned()
        .collect();
    let mut delete = transaction
        .prepare_cached("DELETE FROM subjects WHERE agent = ?1 AND target = ?2 AND kind = ?3 AND column_name = ?4")?;
    for key in known {
        if !listed.contains(&(key.target.as_str(), key.kind.as_str(), key.column.as_str())) {
            delete.execute(params![key.agent, key.target, key.kind.as_str(), key.column])?;
            staged.subjects.remove(&key);
            staged.retired.insert(key);
        }
    }
    Ok(())
}

/// Every key of `agent` in a map ordered by SubjectKey.
fn agent_range(agent: &str) -> std::ops::RangeInclusive<SubjectKey> {
    use xunjian_shared::wire::TargetKind;
    let low =
        SubjectKey { agent: agent.to_string(), target: String::new(), kind: TargetKind::Site, column: String::new() };
    // Agent ids are ASCII, so appending a char above ASCII bounds every key of this agent.
    let high = SubjectKey {
        agent: format!("{agent}\u{7f}"),
        target: String::new(),
        kind: TargetKind::Site,
        column: String::new(),
    };
    low..=high
}

fn expire(
    connection: &mut Connection,
    snapshot: &RwLock<Snapshot>,
    now: Timestamp,
    series_expiry: std::time::Duration,
    dedupe_window: std::time::Duration,
) -> Result<Expired, StoreError> {
    let series_cutoff = now.as_second() - series_expiry.as_secs() as i64;
    let batch_cutoff = now.as_second() - dedupe_window.as_secs() as i64;
    // Availability is judged over 7 days; keep five weeks of daily counts for reports.
    let day_cutoff = days_since_epoch(china_today(now)) - 35;
    let transaction = connection.transaction().map_err(StoreError::Write)?;
    let subjects = transaction
        .execute("DELETE FROM subjects WHERE observed_at < ?1", [series_cutoff])
        .map_err(StoreError::Write)?;
    let batch_ids =
        transaction.execute("DELETE FROM batches WHERE received_at < ?1", [batch_cutoff]).map_err(StoreError::Write)?;
    transaction.execute("DELETE FROM probe_days WHERE day < ?1", [day_cutoff]).map_err(StoreError::Write)?;
    transaction.commit().map_err(StoreError::Write)?;
    if subjects > 0 {
        let mut projection = snapshot.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        projection.subjects.retain(|_, state| state.observation.checked_at.as_second() >= series_cutoff);
    }
    Ok(Expired { subjects, batch_ids })
}

pub(crate) fn days_since_epoch(date: jiff::civil::Date) -> i64 {
    xunjian_shared::time::days_between(jiff::civil::Date::constant(1970, 1, 1), date)
}
