//! The agent's own `/metrics` (`[agent] metrics_listen`): its spool and its pushes, so a county
//! can see from its own Prometheus that the agent holds data it could not deliver.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::spool::Spool;

/// Counters the run loop updates and `/metrics` reads.
#[derive(Debug, Default)]
pub struct AgentStats {
    spool_bytes: AtomicU64,
    spool_records: AtomicU64,
    spool_dropped_batches: AtomicU64,
    spool_dropped_observations: AtomicU64,
    spool_corrupt_records: AtomicU64,
    batches_rejected: AtomicU64,
    batches_acked: AtomicU64,
    observations_acked: AtomicU64,
    push_failures: AtomicU64,
    last_push_success: AtomicI64,
}

impl AgentStats {
    pub fn spool(&self, spool: &Spool) {
        let counters = spool.counters;
        self.spool_bytes.store(spool.bytes(), Ordering::Relaxed);
        self.spool_records.store(spool.len() as u64, Ordering::Relaxed);
        self.spool_dropped_batches.store(counters.dropped_batches, Ordering::Relaxed);
        self.spool_dropped_observations.store(counters.dropped_observations, Ordering::Relaxed);
        self.spool_corrupt_records.store(counters.corrupt_records, Ordering::Relaxed);
        self.batches_rejected.store(counters.rejected_batches, Ordering::Relaxed);
    }

    pub fn acked(&self, observations: usize, at: jiff::Timestamp) {
        self.batches_acked.fetch_add(1, Ordering::Relaxed);
        self.observations_acked.fetch_add(observations as u64, Ordering::Relaxed);
        self.last_push_success.store(at.as_second(), Ordering::Relaxed);
    }

    pub fn failed(&self) {
        self.push_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self, agent: &str) -> String {
        let label = escape(agent);
        let mut out = String::with_capacity(2048);
        let mut family = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{{agent=\"{label}\"}} {value}");
        };
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed).to_string();
        family(
            "xunjian_agent_spool_bytes",
            "gauge",
            "Bytes of batches waiting in the disk spool",
            get(&self.spool_bytes),
        );
        family("xunjian_agent_spool_records", "gauge", "Batches waiting in the disk spool", get(&self.spool_records));
        family(
            "xunjian_agent_spool_dropped_batches_total",
            "counter",
            "Batches dropped because the spool was full",
            get(&self.spool_dropped_batches),
        );
        family(
            "xunjian_agent_spool_dropped_observations_total",
            "counter",
            "Observations in batches dropped because the spool was full",
            get(&self.spool_dropped_observations),
        );
        family(
            "xunjian_agent_spool_corrupt_records_total",
            "counter",
            "Spool records found damaged and set aside",
            get(&self.spool_corrupt_records),
        );
        family(
            "xunjian_agent_batches_rejected_total",
            "counter",
            "Batches the collector refused for good (kept in the spool's rejected/)",
            get(&self.batches_rejected),
        );
        family("xunjian_agent_batches_acked_total", "counter", "Batches the collector took", get(&self.batches_acked));
        family(
            "xunjian_agent_observations_acked_total",
            "counter",
            "Observations in batches the collector took",
            get(&self.observations_acked),
        );
        family(
            "xunjian_agent_push_failures_total",
            "counter",
            "Push attempts that failed and will be retried",
            get(&self.push_failures),
        );
        family(
            "xunjian_agent_last_successful_push_timestamp_seconds",
            "gauge",
            "When the collector last took a batch (0: never since start)",
            self.last_push_success.load(Ordering::Relaxed).to_string(),
        );
        out
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Serves `GET /metrics` on `addr` until shutdown. Anything else is 404.
pub async fn serve(
    addr: SocketAddr,
    stats: Arc<AgentStats>,
    agent: String,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = tokio::select! {
                accepted = listener.accept() => match accepted { Ok(accepted) => accepted, Err(_) => continue },
                _ = shutdown.changed() => return,
            };
            let stats = stats.clone();
            let agent = agent.clone();
            tokio::spawn(async move {
                let mut request = vec![0u8; 4096];
                let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut request)).await;
                let Ok(Ok(length)) = read else { return };
                let line = String::from_utf8_lossy(&request[..length]);
                let response = if line.starts_with("GET /metrics ") || line.starts_with("GET /metrics?") {
                    let body = stats.render(&agent);
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string()
                };
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Ok(bound)
}
