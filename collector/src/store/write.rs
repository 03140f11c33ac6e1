//! The writer thread: group commits of pushes into the batch log, checkpoints, retention,
//! and the office's retirements of agents.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, TransactionBehavior, params};
use xunjian_shared::wire::Batch;

use super::{
    CHECKPOINT_EVERY, Checkpointed, CommitOutcome, Expired, LoggedBody, MAX_GROUP, REGISTRY_POLL, Request, StoreError,
    filings, history, schema,
};
use crate::projection::{Claims, Dirty, Receipt, Snapshot};
use crate::registry::Registry;

/// What the writer updates and everyone else reads.
pub(super) struct Shared {
    pub snapshot: Arc<RwLock<Snapshot>>,
    pub registry: Arc<RwLock<Registry>>,
    /// How long daily history is kept.
    pub history_retention: std::time::Duration,
}

pub(super) fn run(mut connection: Connection, requests: Receiver<Request>, shared: Shared, mut dirty: Dirty) {
    let history_retention = shared.history_retention;
    let shared_state =
        Shared { snapshot: shared.snapshot.clone(), registry: shared.registry.clone(), history_retention };
    let Shared { snapshot, registry, .. } = shared;
    let mut last_checkpoint = Instant::now();
    let mut data_version = filings::data_version(&connection);
    let mut registry_version = filings::registry_version(&connection);
    let mut history_day = history::current_day(&connection);
    // Retirements made while the collector was down (or lost in a crash) apply now.
    retire_agents(&mut connection, &snapshot, &registry, &mut dirty);
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
            // What the group's transaction does to the history: the day it moves the writer to,
            // and the day it closes.
            let mut day_change: Option<DayChange> = None;
            for request in group {
                // Everything else happens after the pushes that came before it: a retirement
                // never meets an older batch applied after it.
                if !matches!(request, Request::Commit { .. }) {
                    let pending = (&mut commits, &mut day_change, &mut history_day);
                    flush(&mut connection, &shared_state, &mut dirty, pending);
                }
                match request {
                    Request::Commit { batch, body, receipt, max_subjects, reply } => {
                        // A batch reaching a later day ends the day: the batches before it are
                        // committed and applied first, then the day is judged as they left it,
                        // in this batch's transaction.
                        if let Some(day) = history::day_of(&batch, receipt.received_at)
                            && history_day.is_none_or(|current| day > current)
                        {
                            let pending = (&mut commits, &mut day_change, &mut history_day);
                            flush(&mut connection, &shared_state, &mut dirty, pending);
                            day_change = Some(DayChange { previous: history_day, day });
                            history_day = Some(day);
                        }
                        commits.push(Commit { batch, body, receipt, max_subjects, reply })
                    }
                    Request::Expire { now, series_expiry, dedupe_window, reply } => {
                        let expired = expire(&connection, &snapshot, &mut dirty, now, series_expiry, dedupe_window)
                            .and_then(|mut expired| {
                                let keep_days = (history_retention.as_secs() / 86_400) as u32;
                                let cutoff = xunjian_shared::time::days_before(
                                    xunjian_shared::time::china_today(now),
                                    keep_days,
                                );
                                expired.history_rows =
                                    history::forget_before(&connection, cutoff).map_err(StoreError::Write)?;
                                Ok(expired)
                            });
                        // Released subjects are free for other agents at once: make the release
                        // durable now, not at the next checkpoint, so a replay agrees.
                        if expired.as_ref().is_ok_and(|e| e.subjects > 0) {
                            if let Err(err) = checkpoint(&mut connection, &snapshot, &registry, &mut dirty, &[]) {
                                tracing::error!(error = %err, "checkpoint after expiry failed");
                            }
                            last_checkpoint = Instant::now();
                        }
                        if let Err(err) = schema::incremental_vacuum(&connection, VACUUM_PAGES) {
                            tracing::warn!(error = %err, "incremental vacuum failed; space is reclaimed later");
                        }
                        let _ = reply.send(expired);
                    }
                    Request::Checkpoint { reply } => {
                        let _ = reply.send(checkpoint(&mut connection, &snapshot, &registry, &mut dirty, &[]));
                        last_checkpoint = Instant::now();
                    }
                    Request::Registry { change, now, reply } => {
                        let outcome = filings::apply(&mut connection, change, now);
                        if outcome.is_ok() {
                            registry_version = filings::registry_version(&connection);
                            reload_registry(&connection, &registry);
                            retire_agents(&mut connection, &snapshot, &registry, &mut dirty);
                        }
                        let _ = reply.send(outcome);
                    }
                    Request::AuditLog { limit, reply } => {
                        let _ = reply.send(filings::audit_log(&connection, limit));
                    }
                }
            }
            flush(&mut connection, &shared_state, &mut dirty, (&mut commits, &mut day_change, &mut history_day));
        }
        // Another connection committed; if it was the CLI changing the registry, reload it.
        let version = filings::data_version(&connection);
        if version != data_version {
            data_version = version;
            let changed = filings::registry_version(&connection);
            if changed != registry_version {
                registry_version = changed;
                reload_registry(&connection, &registry);
                retire_agents(&mut connection, &snapshot, &registry, &mut dirty);
            }
        }
        if last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            if let Err(err) = checkpoint(&mut connection, &snapshot, &registry, &mut dirty, &[]) {
                tracing::error!(error = %err, "checkpoint failed; the batch log keeps everything and it will be retried");
            }
            last_checkpoint = Instant::now();
        }
    }
    // Every handle is gone: leave a checkpoint so the next start has little to replay.
    if let Err(err) = checkpoint(&mut connection, &snapshot, &registry, &mut dirty, &[]) {
        tracing::error!(error = %err, "final checkpoint failed; the batch log will be replayed at the next start");
    }
}

fn reload_registry(connection: &Connection, registry: &RwLock<Registry>) {
    match filings::load(connection) {
        Ok(mut loaded) => {
            let mut registry = registry.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            // The rules come from the configuration, not the database.
            loaded.rules = std::mem::take(&mut registry.rules);
            *registry = loaded;
        }
        Err(err) => tracing::error!(error = %err, "cannot reload the registry; keeping the one loaded before"),
    }
}

/// Free pages returned to the file system per retention pass (a minute): 16 MiB.
const VACUUM_PAGES: u32 = 4096;

type Reply = tokio::sync::oneshot::Sender<Result<CommitOutcome, StoreError>>;

/// A push waiting for the writer.
pub(super) struct Commit {
    batch: Batch,
    body: LoggedBody,
    receipt: Receipt,
    max_subjects: usize,
    reply: Reply,
}

/// A batch's fate in a group: the batch to apply (when newly taken), the answer, who waits.
type Taken = (Option<(Batch, Receipt)>, Result<CommitOutcome, StoreError>, Reply);

/// A group that moves the writer to a later day: the day it was in (the day to close, None
/// for the first day ever seen; and the day to stay in if the group does not move it), and the
/// new day.
#[derive(Clone, Copy, Debug)]
struct DayChange {
    previous: Option<Date>,
    day: Date,
}

/// Pushes waiting for a group commit, the day change their group makes, and the day the writer
/// is in.
type Pending<'a> = (&'a mut Vec<Commit>, &'a mut Option<DayChange>, &'a mut Option<Date>);

/// Commits the waiting pushes, if any; when their group did not move the day, the writer stays
/// in the day it was in.
fn flush(connection: &mut Connection, shared: &Shared, dirty: &mut Dirty, (commits, change, history_day): Pending<'_>) {
    if commits.is_empty() {
        return;
    }
    let change = change.take();
    let moved = commit_group(connection, shared, dirty, std::mem::take(commits), change);
    if !moved && let Some(change) = change {
        *history_day = change.previous;
    }
}

/// Commits a group of pushes in one transaction, each in its own savepoint: a batch id its
/// agent sent before is a duplicate; a batch another agent's subjects or the subject cap refuse
/// leaves no trace; the rest are logged. With a `day_change` (its first batch reaches a later
/// day), the day ends only if that batch is taken: the day is judged and written in its
/// savepoint, before its log row. Only after the commit are the batches applied and answered.
/// Returns whether the day changed (false also when the transaction did not commit).
fn commit_group(
    connection: &mut Connection,
    shared: &Shared,
    dirty: &mut Dirty,
    commits: Vec<Commit>,
    day_change: Option<DayChange>,
) -> bool {
    let snapshot = &*shared.snapshot;
    let transaction = match connection.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(transaction) => transaction,
        Err(err) => {
            fail_all(commits.into_iter().map(|commit| commit.reply), err);
            return false;
        }
    };
    let mut day_moved = false;
    let mut taken: Vec<Taken> = Vec::with_capacity(commits.len());
    {
        // Only this thread changes the projection, so reading it while deciding is consistent.
        let projection = snapshot.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let registry = shared.registry.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut claims = Claims::default();
        let mut pending = commits.into_iter().enumerate();
        while let Some((index, Commit { batch, body, receipt, max_subjects, reply })) = pending.next() {
            let savepoint = format!("batch_{index}");
            let undo = || transaction.execute_batch(&format!("ROLLBACK TO {savepoint}; RELEASE {savepoint}"));
            let result = transaction
                .execute_batch(&format!("SAVEPOINT {savepoint}"))
                .and_then(|()| record_id(&transaction, &batch, receipt.received_at));
            let (outcome, undone) = match result.map(|new| new.then(|| projection.admit(&batch, max_subjects, &claims)))
            {
                Ok(None) => (Ok(CommitOutcome::Duplicate), transaction.execute_batch(&format!("RELEASE {savepoint}"))),
                Err(err) => (Err(StoreError::Write(err)), undo()),
                // Not taken: its id goes too, so the agent may send it again once fixed.
                Ok(Some(Err(refusal))) => (Ok(CommitOutcome::Refused(refusal)), undo()),
                Ok(Some(Ok(admitted))) => {
                    let closing = if index == 0 { day_change } else { None };
                    let logged = match closing {
                        Some(change) => close_day(&transaction, &projection, &registry, change)
                            .map_err(|err| rusqlite::Error::ToSqlConversionFailure(Box::new(err))),
                        None => Ok(()),
                    }
                    .and_then(|()| append_log(&transaction, &body, receipt))
                    .and_then(|()| {
                        history::record_first_seen(&transaction, &projection.first_seen_in(&batch, receipt.received_at))
                    });
                    match logged {
                        Ok(()) => match transaction.execute_batch(&format!("RELEASE {savepoint}")) {
                            Ok(()) => {
                                day_moved |= closing.is_some();
                                claims.record(admitted);
                                let observations = batch.observations.len() as u32;
                                taken.push((
                                    Some((batch, receipt)),
                                    Ok(CommitOutcome::Accepted { observations }),
                                    reply,
                                ));
                                continue;
                            }
                            Err(err) => (Err(StoreError::Write(err)), undo()),
                        },
                        Err(err) => (Err(StoreError::Write(err)), undo()),
                    }
                }
            };
            if let Err(err) = undone {
                // The transaction is in an unknown state: take none of the group, so no batch
                // id is kept without its log row; every agent retries.
                drop(registry);
                drop(projection);
                let replies = taken.into_iter().map(|(_, _, r)| r).chain([reply]).chain(pending.map(|(_, c)| c.reply));
                fail_all(replies, err);
                return false;
            }
            taken.push((None, outcome, reply));
        }
    }
    if let Err(err) = transaction.commit() {
        fail_all(taken.into_iter().map(|(_, _, reply)| reply), err);
        return false;
    }
    // Durable: now the projection may show it, and the agents may hear so.
    let mut replies = Vec::with_capacity(taken.len());
    {
        let mut projection = snapshot.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (batch, outcome, reply) in taken {
            if let Some((batch, receipt)) = batch {
                projection.apply(batch, receipt, dirty);
            }
            replies.push((outcome, reply));
        }
    }
    for (outcome, reply) in replies {
        let _ = reply.send(outcome);
    }
    day_moved
}

/// Writes the closed day's rows (if any) and moves `meta.history_day`.
fn close_day(
    transaction: &rusqlite::Transaction<'_>,
    projection: &Snapshot,
    registry: &Registry,
    change: DayChange,
) -> Result<(), StoreError> {
    if let Some(day) = change.previous {
        let view = crate::view::View::of(projection, registry, day);
        let judgement = crate::judge::judge(&view);
        let rows = history::close_day(transaction, day, &view, &judgement)?;
        tracing::info!(day = %day, rows, "day closed: pages, verdicts and pass ratios written to the history");
    }
    history::set_current_day(transaction, change.day).map_err(StoreError::Write)
}

/// Records the batch id for its agent; false when this agent sent it before.
fn record_id(transaction: &rusqlite::Transaction<'_>, batch: &Batch, received_at: Timestamp) -> rusqlite::Result<bool> {
    let inserted = transaction
        .prepare_cached(
            "INSERT INTO batches (agent, batch_id, sequence, received_at, observations) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (agent, batch_id) DO NOTHING",
        )?
        .execute(params![
            batch.agent,
            batch.batch_id.as_str(),
            batch.sequence as i64,
            received_at.as_second(),
            batch.observations.len() as i64
        ])?;
    Ok(inserted > 0)
}

/// Appends the batch as received to the log, with what replay needs of its receipt.
fn append_log(transaction: &rusqlite::Transaction<'_>, body: &LoggedBody, receipt: Receipt) -> rusqlite::Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO batch_log (received_at, gzip, body, certificate_not_after) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            receipt.received_at.as_second(),
            body.gzip,
            body.bytes,
            receipt.certificate_not_after.map(|t| t.as_second())
        ])?;
    Ok(())
}

/// Applies the retirements the office made and the collector has not applied yet: the agent
/// and its subjects leave the projection, and the checkpoint that records it also marks them
/// applied.
fn retire_agents(
    connection: &mut Connection,
    snapshot: &RwLock<Snapshot>,
    registry: &RwLock<Registry>,
    dirty: &mut Dirty,
) {
    let pending: Vec<(i64, String)> = registry
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .retirements
        .iter()
        .filter(|r| r.applied_at.is_none())
        .map(|r| (r.id, r.agent.clone()))
        .collect();
    if pending.is_empty() {
        return;
    }
    {
        let mut projection = snapshot.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (id, agent) in &pending {
            let subjects = projection.retire(agent, Timestamp::now(), dirty);
            tracing::info!(retirement = id, agent, subjects, "agent retired; its subjects are released");
        }
    }
    let ids: Vec<i64> = pending.iter().map(|(id, _)| *id).collect();
    match checkpoint(connection, snapshot, registry, dirty, &ids) {
        Ok(_) => {
            reload_registry(connection, registry);
            // A retired agent's pages can be most of the file: give the space back now.
            if let Err(err) = schema::incremental_vacuum(connection, u32::MAX) {
                tracing::warn!(error = %err, "incremental vacuum failed; space is reclaimed later");
            }
        }
        Err(err) => tracing::error!(error = %err, "cannot record a retirement; it is applied again at the next start"),
    }
}

fn fail_all(replies: impl Iterator<Item = Reply>, err: rusqlite::Error) {
    let err = std::sync::Arc::new(err);
    for reply in replies {
        let _ = reply.send(Err(StoreError::Commit(err.clone())));
    }
}

/// Writes every changed agent and page, then drops the log rows the written state covers;
/// marks `retired` (retirement ids whose effect the state now holds) applied.
fn checkpoint(
    connection: &mut Connection,
    snapshot: &RwLock<Snapshot>,
    registry: &RwLock<Registry>,
    dirty: &mut Dirty,
    retired: &[i64],
) -> Result<Checkpointed, StoreError> {
    let write = StoreError::Write;
    let now = Timestamp::now();
    sync_registry_problems(snapshot, registry, now);
    snapshot.write().unwrap_or_else(|poisoned| poisoned.into_inner()).note_last_seen(&dirty.subjects);
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(write)?;
    let covered: Option<i64> =
        transaction.query_row("SELECT max(id) FROM batch_log", [], |row| row.get(0)).map_err(write)?;
    let written = dirty.subjects.len();
    {
        let projection = snapshot.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut agent = transaction
            .prepare_cached(
                "INSERT OR REPLACE INTO agents (agent, county, first_push_at, last_push_at, last_sequence, batches, certificate_not_after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(write)?;
        let mut forget = transaction.prepare_cached("DELETE FROM agents WHERE agent = ?1").map_err(write)?;
        for id in &dirty.agents {
            match projection.agents.get(id) {
                Some(state) => {
                    agent
                        .execute(params![
                            id,
                            state.county,
                            state.first_push_at.as_second(),
                            state.last_push_at.as_second(),
                            state.last_sequence as i64,
                            state.batches as i64,
                            state.certificate_not_after.map(|t| t.as_second())
                        ])
                        .map_err(write)?;
                }
                None => {
                    forget.execute([id]).map_err(write)?;
                }
            }
        }
        let mut upsert = transaction
            .prepare_cached(
                "INSERT OR REPLACE INTO subjects (agent, target, kind, column_name, channel, county, probes_ok, probes_failed, probe_days, observation, streak, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .map_err(write)?;
        let mut delete = transaction
            .prepare_cached("DELETE FROM subjects WHERE agent = ?1 AND target = ?2 AND kind = ?3 AND column_name = ?4 AND channel = ?5")
            .map_err(write)?;
        for key in &dirty.subjects {
            match projection.subjects().get(key) {
                Some(state) => {
                    let encode = |what: &'static str| move |source| StoreError::Encode { what, source };
                    let observation = serde_json::to_string(&state.observation).map_err(encode("an observation"))?;
                    let days = serde_json::to_string(&state.probe_days).map_err(encode("probe days"))?;
                    let streak = serde_json::to_string(&state.streak).map_err(encode("a probe streak"))?;
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
                            streak,
                            state.received_at.as_second()
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
    let forget_before = {
        let projection = snapshot.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        super::ledger::write(&transaction, projection.ledger.dirty()).map_err(write)?;
        let cutoff = projection.ledger.forget_before(now);
        super::ledger::set_forget_before(&transaction, cutoff).map_err(write)?;
        cutoff
    };
    let log_rows = match covered {
        Some(id) => transaction.execute("DELETE FROM batch_log WHERE id <= ?1", [id]).map_err(write)?,
        None => 0,
    };
    for id in retired {
        transaction
            .execute("UPDATE retirements SET applied_at = ?1 WHERE id = ?2", params![Timestamp::now().as_second(), id])
            .map_err(write)?;
    }
    transaction.commit().map_err(write)?;
    {
        let mut projection = snapshot.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        projection.checkpointed(&dirty.subjects);
        projection.ledger.checkpointed(forget_before);
    }
    dirty.agents.clear();
    dirty.subjects.clear();
    Ok(Checkpointed { subjects: written, log_rows })
}

/// The registry's problems (漏报, closed but live, unmonitored) as the registry finds them now.
fn sync_registry_problems(snapshot: &RwLock<Snapshot>, registry: &RwLock<Registry>, now: Timestamp) {
    let found = {
        let projection = snapshot.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let registry = registry.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        crate::registry::problems(&registry, &projection, xunjian_shared::time::china_today(now))
    };
    snapshot.write().unwrap_or_else(|poisoned| poisoned.into_inner()).ledger.sync_registry(found, now);
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
    let subjects = snapshot.write().unwrap_or_else(|poisoned| poisoned.into_inner()).expire(series_cutoff, now, dirty);
    Ok(Expired { subjects, batch_ids, history_rows: 0 })
}
