//! `xunjian-agent run`: the scheduler's observations, batched, written to the disk spool, and
//! pushed from it in order until shutdown; then one last batch and a bounded attempt to deliver
//! what the spool holds. Whatever is not delivered stays in the spool for the next start.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use xunjian_shared::config::AgentConfig;
use xunjian_shared::wire::{Observation, PushStatus};

use crate::batch::{self, Batcher};
use crate::checks;
use crate::push::{self, Delivery, Pusher};
use crate::schedule::{self, Shared};
use crate::self_metrics::AgentStats;
use crate::spool::Spool;

/// Observations wait at most this long for company before they are sent.
const FLUSH_AFTER: Duration = Duration::from_secs(2);
/// The inventory rides along with the first batch and then this often.
const INVENTORY_EVERY: Duration = Duration::from_secs(3600);
/// After shutdown begins, spooled batches get this long to reach the collector.
const FINAL_PUSH_DEADLINE: Duration = Duration::from_secs(10);

/// What a run did, for the log line at exit.
#[derive(Debug, Default, Clone, Copy)]
pub struct RunSummary {
    pub batches_acked: u64,
    pub observations_acked: u64,
    pub batches_refused: u64,
    /// Batches left in the spool at exit (sent at the next start).
    pub batches_spooled: usize,
    /// Batches the spool could not write or had to drop (full): these are lost.
    pub batches_lost: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Spool(#[from] crate::spool::SpoolError),
    #[error("agent.metrics_listen {addr}: {source}; is another process using the port?")]
    Metrics {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Opens the spool, serves `/metrics` when configured, and runs until `shutdown` turns true.
pub async fn run(
    config: AgentConfig,
    shared: Shared,
    pusher: Pusher,
    shutdown: watch::Receiver<bool>,
) -> Result<RunSummary, RunError> {
    let spool = tokio::task::block_in_place(|| Spool::open(&config.spool.dir, config.spool.max_bytes))?;
    let stats = Arc::new(AgentStats::default());
    if let Some(addr) = config.agent.metrics_listen {
        let bound = crate::self_metrics::serve(addr, stats.clone(), config.agent.id.to_string(), shutdown.clone())
            .await
            .map_err(|source| RunError::Metrics { addr, source })?;
        tracing::info!(metrics = %bound, "serving the agent's /metrics");
    }
    Ok(run_with(config, shared, pusher, spool, stats, shutdown).await)
}

/// The run loop over an open spool.
pub async fn run_with(
    config: AgentConfig,
    shared: Shared,
    pusher: Pusher,
    mut spool: Spool,
    stats: Arc<AgentStats>,
    shutdown: watch::Receiver<bool>,
) -> RunSummary {
    let subjects = schedule::subjects(&config);
    let inventory = schedule::inventory(&subjects);
    // The subjects hold what the sites and accounts say; the agent runs for months on them.
    let agent = config.agent.clone();
    drop(config);
    tracing::info!(agent = %agent.id, county = %agent.county, subjects = subjects.len(), spooled = spool.len(), "agent running");
    let (sender, mut observations) = mpsc::channel::<Observation>(1024);
    let scheduler =
        tokio::spawn(schedule::run_schedule(subjects, Arc::new(checks::all()), shared, sender, shutdown.clone()));

    let mut batcher = Batcher::new(agent.id.as_str(), &agent.county, spool.next_sequence());
    let mut summary = RunSummary::default();
    let mut pending: Vec<Observation> = Vec::new();
    let mut flush_at: Option<Instant> = None;
    let mut inventory_due = Instant::now();
    let mut failures: u32 = 0;
    let mut retry_at = Instant::now();
    let mut shutdown_signal = shutdown.clone();
    stats.spool(&spool);

    loop {
        let ready_to_send = !spool.is_empty();
        tokio::select! {
            received = observations.recv() => match received {
                Some(observation) => {
                    pending.push(observation);
                    flush_at.get_or_insert_with(|| Instant::now() + FLUSH_AFTER);
                    if pending.len() >= batch::MAX_BATCH_OBSERVATIONS {
                        seal(&mut batcher, &mut spool, &mut pending, &inventory, &mut inventory_due, &mut summary);
                        stats.spool(&spool);
                        flush_at = None;
                    }
                }
                None => break,
            },
            _ = tokio::time::sleep_until(flush_at.unwrap_or_else(far_future)), if flush_at.is_some() => {
                seal(&mut batcher, &mut spool, &mut pending, &inventory, &mut inventory_due, &mut summary);
                stats.spool(&spool);
                flush_at = None;
            }
            _ = tokio::time::sleep_until(retry_at), if ready_to_send => {
                match deliver_front(&pusher, &mut spool, &mut summary, &stats).await {
                    Ok(()) => {
                        failures = 0;
                        retry_at = Instant::now();
                    }
                    Err(after) => {
                        failures += 1;
                        let delay = after.unwrap_or_else(|| push::BACKOFF.jittered(failures));
                        tracing::info!(retry_in_ms = delay.as_millis() as u64, spooled = spool.len(), "collector not reachable; will retry");
                        retry_at = Instant::now() + delay;
                    }
                }
                stats.spool(&spool);
            }
            _ = shutdown_signal.changed() => break,
        }
    }

    // Stop: let in-flight inspections finish and their observations arrive, then push what is left.
    let _ = scheduler.await;
    while let Ok(observation) = observations.try_recv() {
        pending.push(observation);
    }
    seal(&mut batcher, &mut spool, &mut pending, &inventory, &mut inventory_due, &mut summary);
    let deadline = Instant::now() + FINAL_PUSH_DEADLINE;
    while !spool.is_empty() && Instant::now() < deadline {
        let delivered =
            tokio::time::timeout_at(deadline, deliver_front(&pusher, &mut spool, &mut summary, &stats)).await;
        if !matches!(delivered, Ok(Ok(()))) {
            break;
        }
    }
    stats.spool(&spool);
    summary.batches_spooled = spool.len();
    summary.batches_lost += spool.counters.dropped_batches;
    if summary.batches_spooled > 0 {
        tracing::warn!(
            batches = summary.batches_spooled,
            "stopping with batches the collector has not taken; they stay in the spool and are sent at the next start"
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

/// Turns the pending observations into a batch in the spool.
fn seal(
    batcher: &mut Batcher,
    spool: &mut Spool,
    pending: &mut Vec<Observation>,
    inventory: &[xunjian_shared::wire::SubjectRef],
    inventory_due: &mut Instant,
    summary: &mut RunSummary,
) {
    if pending.is_empty() {
        return;
    }
    let with_inventory = Instant::now() >= *inventory_due;
    if with_inventory {
        *inventory_due = Instant::now() + INVENTORY_EVERY;
    }
    let batch = batcher.batch(std::mem::take(pending), with_inventory.then(|| inventory.to_vec()), Timestamp::now());
    // Writing and syncing a record takes milliseconds; do it off the async workers' hot path.
    if let Err(error) = tokio::task::block_in_place(|| spool.append(&batch)) {
        summary.batches_lost += 1;
        tracing::error!(error = %error, batch_id = %batch.batch_id, observations = batch.observations, "cannot write the batch to the spool; it is lost. Check the disk and [spool] dir");
    }
}

/// Sends the oldest spooled batch; Ok when the spool moved on (taken, or refused for good),
/// Err (with the collector's Retry-After, if any) when it must be retried.
async fn deliver_front(
    pusher: &Pusher,
    spool: &mut Spool,
    summary: &mut RunSummary,
    stats: &AgentStats,
) -> Result<(), Option<Duration>> {
    let Some(batch) = tokio::task::block_in_place(|| spool.front()) else { return Ok(()) };
    match pusher.deliver(&batch).await {
        Delivery::Acked(ack) => {
            summary.batches_acked += 1;
            summary.observations_acked += batch.observations as u64;
            stats.acked(batch.observations, Timestamp::now());
            let duplicate = ack.status == PushStatus::Duplicate;
            tracing::debug!(batch_id = %batch.batch_id, observations = batch.observations, duplicate, "batch delivered");
            tokio::task::block_in_place(|| spool.acknowledge());
            Ok(())
        }
        Delivery::Refused { status, error } => {
            summary.batches_refused += 1;
            let (code, detail) = error.map(|e| (e.error, e.detail)).unwrap_or_default();
            tracing::error!(batch_id = %batch.batch_id, status, code = %code, detail = %detail, "the collector refused a batch for good; it is kept in the spool's rejected/ directory");
            tokio::task::block_in_place(|| spool.reject());
            Ok(())
        }
        Delivery::Retry { reason, after } => {
            stats.failed();
            tracing::warn!(batch_id = %batch.batch_id, reason = %reason, "push failed");
            Err(after)
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
