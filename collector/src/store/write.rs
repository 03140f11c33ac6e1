//! The writer thread: group commits of pushes into the batch log, checkpoints, retention.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use jiff::Timestamp;
use rusqlite::{Connection, TransactionBehavior, params};
use xunjian_shared::wire::Batch;

use super::{
    CHECKPOINT_EVERY, Checkpointed, CommitOutcome, Dirty, Expired, LoggedBody, MAX_GROUP, REGISTRY_POLL, Request,
    Snapshot, StoreError, filings,
};
use crate::registry::Registry;

/// What the writer updates and everyone else reads.
pub(super) struct Shared {
    pub snapshot: Arc<RwLock<Snapshot>>,
    pub registry: Arc<RwLock<Registry>>,
}

pub(super) fn run(mut connection: Connection, requests: Receiver<Request>, shared: Shared, mut dirty: Dirty) {
    let Shared { snapshot, registry } = shared;
    let mut last_checkpoint = Instant::now();
    let mut data_version = filings::data_version(&connection);
    let mut registry_version = filings::registry_version(&connection);
    loop {
        let wait = CHECKPOINT_EVERY.saturating_sub(last_checkpoint.elapsed()).min(REGISTRY_POLL);
        let first = match requests.recv_timeout(wait) {
            Ok(request) => Some(request),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if let Some(first) = first {
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
                    Request::Commit { batch, body, received_at, reply } => {
                        commits.push((batch, body, received_at, reply))
                    }
                    Request::Expire { now, series_expiry, dedupe_window, reply } => {
                        let _ =
                            reply.send(expire(&connection, &snapshot, &mut dirty, now, series_expiry, dedupe_window));
                    }
                    Request::Checkpoint { reply } => {
                        let _ = reply.send(checkpoint(&mut connection, &snapshot, &mut dirty));
                        last_checkpoint = Instant::now();
                    }
                    Request::Registry { change, now, reply } => {
                        let outcome = filings::apply(&mut connection, change, now);
                        if outcome.is_ok() {
                            registry_version = filings::registry_version(&connection);
                            reload_registry(&connection, &registry);
                        }
                        let _ = reply.send(outcome);
                    }
                    Request::AuditLog { limit, reply } => {
                        let _ = reply.send(filings::audit_log(&connection, limit));
                    }
                }
            }
            if !commits.is_empty() {
                commit_group(&mut connection, &snapshot, &mut dirty, commits);
            }
        }
        // Another connection committed; if it was the CLI changing the registry, reload it.
        let version = filings::data_version(&connection);
        if version != data_version {
            data_version = version;
            let changed = filings::registry_version(&connection);
            if changed != registry_version {
                registry_version = changed;
                reload_registry(&connection, &registry);
            }
        }
        if last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            if let Err(err) = checkpoint(&mut connection, &snapshot, &mut dirty) {
                tracing::error!(error = %err, "checkpoint failed; the batch log keeps everything and it will be retried");
            }
            last_checkpoint = Instant::now();
        }
    }
    // Every handle is gone: leave a checkpoint so the next start has little to replay.
    if let Err(err) = checkpoint(&mut connection, &snapshot, &mut dirty) {
        tracing::error!(error = %err, "final checkpoint failed; the batch log will be replayed at the next start");
    }
}

fn reload_registry(connection: &Connection, registry: &RwLock<Registry>) {
    match filings::load(connection) {
        Ok(loaded) => *registry.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = loaded,
        Err(err) => tracing::error!(error = %err, "cannot reload the registry; keeping the one loaded before"),
    }
}

type Reply = tokio::sync::oneshot::Sender<Result<CommitOutcome, StoreError>>;
/// A batch's fate in a group: the batch to apply (when newly taken), the answer, who waits.
type Taken = (Option<(Batch, Timestamp)>, Result<CommitOutcome, StoreError>, Reply);

fn commit_group(
    connection: &mut Connection,
    snapshot: &RwLock<Snapshot>,
    dirty: &mut Dirty,
    commits: Vec<(Batch, LoggedBody, Timestamp, Reply)>,
) {
    let transaction = match connection.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(transaction) => transaction,
        Err(err) => return fail_all(commits.into_iter().map(|(_, _, _, reply)| reply), &err),
    };
    let mut taken: Vec<Taken> = Vec::with_capacity(commits.len());
    for (index, (batch, body, received_at, reply)) in commits.into_iter().enumerate() {
        let savepoint = format!("batch_{index}");
        let result = transaction
            .execute_batch(&format!("SAVEPOINT {savepoint}"))
            .and_then(|()| log_batch(&transaction, &batch, &body, received_at));
        match result {
            Ok(true) => {
                let _ = transaction.execute_batch(&format!("RELEASE {savepoint}"));
                let observations = batch.observations.len() as u32;
                taken.push((Some((batch, received_at)), Ok(CommitOutcome::Accepted { observations }), reply));
            }
            Ok(false) => {
                let _ = transaction.execute_batch(&format!("RELEASE {savepoint}"));
                taken.push((None, Ok(CommitOutcome::Duplicate), reply));
            }
            Err(err) => {
                let _ = transaction.execute_batch(&format!("ROLLBACK TO {savepoint}; RELEASE {savepoint}"));
                taken.push((None, Err(StoreError::Write(err)), reply));
            }
        }
    }
    if let Err(err) = transaction.commit() {
        return fail_all(taken.into_iter().map(|(_, _, reply)| reply), &err);
    }
    // Durable: now the projection may show it, and the agents may hear so.
    let mut replies = Vec::with_capacity(taken.len());
    {
        let mut projection = snapshot.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (batch, outcome, reply) in taken {
            if let Some((batch, received_at)) = batch {
                projection.apply(batch, received_at, dirty);
            }
            replies.push((outcome, reply));
        }
    }
    for (outcome, reply) in replies {
        let _ = reply.send(outcome);
    }
}

/// Records the batch id and appends the batch to the log; false when the id was seen before.
fn log_batch(
    transaction: &rusqlite::Transaction<'_>,
    batch: &Batch,
    body: &LoggedBody,
    received_at: Timestamp,
) -> rusqlite::Result<bool> {
    let inserted = transaction
        .prepare_cached(
            "INSERT INTO batches (batch_id, agent, sequence, received_at, observations) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (batch_id) DO NOTHING",
        )?
        .execute(params![
            batch.batch_id.as_str(),
            batch.agent,
            batch.sequence as i64,
            received_at.as_second(),
            batch.observations.len() as i64
        ])?;
    if inserted == 0 {
        return Ok(false);
    }
    transaction
        .prepare_cached("INSERT INTO batch_log (received_at, gzip, body) VALUES (?1, ?2, ?3)")?
        .execute(params![received_at.as_second(), body.gzip, body.bytes])?;
    Ok(true)
}

fn fail_all(replies: impl Iterator<Item = Reply>, err: &rusqlite::Error) {
    let message = err.to_string();
    for reply in replies {
        let _ = reply.send(Err(StoreError::Write(rusqlite::Error::InvalidParameterName(message.clone()))));
    }
}

/// Writes every changed agent and page, then drops the log rows the written state covers.
fn checkpoint(
    connection: &mut Connection,
    snapshot: &RwLock<Snapshot>,
    dirty: &mut Dirty,
) -> Result<Checkpointed, StoreError> {
    let write = StoreError::Write;
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(write)?;
    let covered: Option<i64> =
        transaction.query_row("SELECT max(id) FROM batch_log", [], |row| row.get(0)).map_err(write)?;
    let written = dirty.subjects.len();
    {
        let projection = snapshot.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut agent = transaction
            .prepare_cached(
                "INSERT OR REPLACE INTO agents (agent, county, first_push_at, last_push_at, last_sequence, batches) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(write)?;
        for id in &dirty.agents {
            if let Some(state) = projection.agents.get(id) {
                agent
                    .execute(params![
                        id,
                        state.county,
                        state.first_push_at.as_second(),
                        state.last_push_at.as_second(),
                        state.last_sequence as i64,
                        state.batches as i64
                    ])
                    .map_err(write)?;
            }
        }
        let mut upsert = transaction
            .prepare_cached(
                "INSERT OR REPLACE INTO subjects (agent, target, kind, column_name, channel, county, probes_ok, probes_failed, probe_days, observation, streak)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(write)?;
        let mut delete = transaction
            .prepare_cached("DELETE FROM subjects WHERE agent = ?1 AND target = ?2 AND kind = ?3 AND column_name = ?4 AND channel = ?5")
            .map_err(write)?;
        for key in &dirty.subjects {
            match projection.subjects.get(key) {
                Some(state) => {
                    let observation = serde_json::to_string(&state.observation)
                        .map_err(|err| write(rusqlite::Error::ToSqlConversionFailure(Box::new(err))))?;
                    let days = serde_json::to_string(&state.probe_days)
                        .map_err(|err| write(rusqlite::Error::ToSqlConversionFailure(Box::new(err))))?;
                    let streak = serde_json::to_string(&state.streak)
                        .map_err(|err| write(rusqlite::Error::ToSqlConversionFailure(Box::new(err))))?;
                    upsert
                        .execute(params![
                            key.agent,
                            key.target,
                            key.kind.as_str(),
                            key.column,
                            key.channel,
                            state.county,
                            state.probes_ok as i64,
                            state.probes_failed as i64,
                            days,
                            observation,
                            streak
                        ])
                        .map_err(write)?;
                }
                None => {
                    delete
                        .execute(params![key.agent, key.target, key.kind.as_str(), key.column, key.channel])
                        .map_err(write)?;
                }
            }
        }
    }
    let log_rows = match covered {
        Some(id) => transaction.execute("DELETE FROM batch_log WHERE id <= ?1", [id]).map_err(write)?,
        None => 0,
    };
    transaction.commit().map_err(write)?;
    dirty.agents.clear();
    dirty.subjects.clear();
    Ok(Checkpointed { subjects: written, log_rows })
}

fn expire(
    connection: &Connection,
    snapshot: &RwLock<Snapshot>,
    dirty: &mut Dirty,
    now: Timestamp,
    series_expiry: std::time::Duration,
    dedupe_window: std::time::Duration,
) -> Result<Expired, StoreError> {
    let batch_cutoff = now.as_second() - dedupe_window.as_secs() as i64;
    let batch_ids =
        connection.execute("DELETE FROM batches WHERE received_at < ?1", [batch_cutoff]).map_err(StoreError::Write)?;
    let series_cutoff =
        Timestamp::from_second(now.as_second() - series_expiry.as_secs() as i64).unwrap_or(Timestamp::UNIX_EPOCH);
    let subjects = snapshot.write().unwrap_or_else(|poisoned| poisoned.into_inner()).expire(series_cutoff, dirty);
    Ok(Expired { subjects, batch_ids })
}
