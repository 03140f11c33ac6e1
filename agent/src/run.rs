//! `xunjian-agent run`: the scheduler's observations, batched and pushed, until shutdown; then
//! one last batch and a bounded attempt to deliver everything still queued.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use xunjian_shared::config::AgentConfig;
use xunjian_shared::wire::{Observation, PushStatus};

use crate::checks;
use crate::push::{self, Batcher, Delivery, Pusher, Queue};
use crate::schedule::{self, Shared};

/// Observations wait at most this long for company before they are sent.
const FLUSH_AFTER: Duration = Duration::from_secs(2);
/// The inventory rides along with the first batch and then this often.
const INVENTORY_EVERY: Duration = Duration::from_secs(3600);
/// After shutdown begins, queued batches get this long to reach the collector.
const FINAL_PUSH_DEADLINE: Duration = Duration::from_secs(10);

/// What a run did, for the log line at exit.
#[derive(Debug, Default, Clone, Copy)]
pub struct RunSummary {
    pub batches_acked: u64,
    pub observations_acked: u64,
    pub batches_refused: u64,
    /// Batches still queued when the run ended (lost without a disk spool).
    pub batches_unsent: usize,
    pub observations_dropped: u64,
}

/// Runs until `shutdown` turns true.
pub async fn run(config: AgentConfig, shared: Shared, pusher: Pusher, shutdown: watch::Receiver<bool>) -> RunSummary {
    let subjects = schedule::subjects(&config);
    let inventory = schedule::inventory(&subjects);
    tracing::info!(agent = %config.agent.id, county = %config.agent.county, subjects = subjects.len(), "agent running");
    let (sender, mut observations) = mpsc::channel::<Observation>(1024);
    let scheduler =
        tokio::spawn(schedule::run_schedule(subjects, Arc::new(checks::registry()), shared, sender, shutdown.clone()));

    let mut batcher = Batcher::new(config.agent.id.as_str(), &config.agent.county, Timestamp::now());
    let mut queue = Queue::default();
    let mut summary = RunSummary::default();
    let mut pending: Vec<Observation> = Vec::new();
    let mut flush_at: Option<Instant> = None;
    let mut inventory_due = Instant::now();
    let mut failures: u32 = 0;
    let mut retry_at = Instant::now();
    let mut shutdown_signal = shutdown.clone();
    let mut seed = Timestamp::now().subsec_nanosecond() as u64 | 1;

    loop {
        let ready_to_send = !queue.is_empty();
        tokio::select! {
            received = observations.recv() => match received {
                Some(observation) => {
                    pending.push(observation);
                    flush_at.get_or_insert_with(|| Instant::now() + FLUSH_AFTER);
                    if pending.len() >= push::MAX_BATCH_OBSERVATIONS {
                        seal(&mut batcher, &mut queue, &mut pending, &inventory, &mut inventory_due);
                        flush_at = None;
                    }
                }
                None => break,
            },
            _ = tokio::time::sleep_until(flush_at.unwrap_or_else(far_future)), if flush_at.is_some() => {
                seal(&mut batcher, &mut queue, &mut pending, &inventory, &mut inventory_due);
                flush_at = None;
            }
            _ = tokio::time::sleep_until(retry_at), if ready_to_send => {
                if deliver_front(&pusher, &mut queue, &mut summary).await {
                    failures = 0;
                    retry_at = Instant::now();
                } else {
                    failures += 1;
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let delay = push::backoff(failures, (seed % 1000) as f64 / 1000.0);
                    tracing::info!(retry_in_ms = delay.as_millis() as u64, queued = queue.len(), "collector not reachable; will retry");
                    retry_at = Instant::now() + delay;
                }
            }
            _ = shutdown_signal.changed() => break,
        }
    }

    // Stop: let in-flight inspections finish and their observations arrive, then push what is left.
    let _ = scheduler.await;
    while let Ok(observation) = observations.try_recv() {
        pending.push(observation);
    }
    if !pending.is_empty() {
        seal(&mut batcher, &mut queue, &mut pending, &inventory, &mut inventory_due);
    }
    let deadline = Instant::now() + FINAL_PUSH_DEADLINE;
    while !queue.is_empty() && Instant::now() < deadline {
        let delivered = tokio::time::timeout_at(deadline, deliver_front(&pusher, &mut queue, &mut summary)).await;
        if !matches!(delivered, Ok(true)) {
            break;
        }
    }
    summary.batches_unsent = queue.len();
    summary.observations_dropped = queue.dropped_observations;
    if summary.batches_unsent > 0 {
        tracing::error!(
            batches = summary.batches_unsent,
            "stopping with batches the collector has not taken; they are lost"
        );
    }
    tracing::info!(
        batches_acked = summary.batches_acked,
        observations_acked = summary.observations_acked,
        batches_refused = summary.batches_refused,
        "agent stopped"
    );
    summary
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}

/// Turns the pending observations into a queued batch.
fn seal(
    batcher: &mut Batcher,
    queue: &mut Queue,
    pending: &mut Vec<Observation>,
    inventory: &[xunjian_shared::wire::SubjectRef],
    inventory_due: &mut Instant,
) {
    if pending.is_empty() {
        return;
    }
    let with_inventory = Instant::now() >= *inventory_due;
    if with_inventory {
        *inventory_due = Instant::now() + INVENTORY_EVERY;
    }
    let batch = batcher.batch(std::mem::take(pending), with_inventory.then(|| inventory.to_vec()), Timestamp::now());
    queue.push(batch);
}

/// Sends the oldest queued batch; true when the queue moved on (acknowledged or refused for good).
async fn deliver_front(pusher: &Pusher, queue: &mut Queue, summary: &mut RunSummary) -> bool {
    let Some(batch) = queue.front().cloned() else { return true };
    match pusher.deliver(&batch).await {
        Delivery::Acked(ack) => {
            summary.batches_acked += 1;
            summary.observations_acked += batch.observations as u64;
            let duplicate = ack.status == PushStatus::Duplicate;
            tracing::debug!(batch_id = %batch.batch_id, observations = batch.observations, duplicate, "batch delivered");
            queue.pop_front();
            true
        }
        Delivery::Refused { status, error } => {
            summary.batches_refused += 1;
            let (code, detail) = error.map(|e| (e.error, e.detail)).unwrap_or_default();
            tracing::error!(batch_id = %batch.batch_id, status, code = %code, detail = %detail, "the collector refused a batch; it is dropped");
            queue.pop_front();
            true
        }
        Delivery::Retry { reason } => {
            tracing::warn!(batch_id = %batch.batch_id, reason = %reason, "push failed");
            false
        }
    }
}

/// Ctrl-C or SIGTERM (systemd's stop).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
