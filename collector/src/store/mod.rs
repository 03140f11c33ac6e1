//! The collector's state: one SQLite file, and an in-memory projection of it.
//!
//! Every write goes through one writer thread, which takes whatever pushes are waiting,
//! commits them in one transaction (each batch in its own savepoint), and only then updates the
//! projection and answers. So a batch is acknowledged only after it is durable (WAL, full sync),
//! many agents share one fsync, and readers (`/metrics`, the status page) never touch SQLite.
//! Layout: [`schema`].

pub mod read;
pub mod schema;
mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::oneshot;
use xunjian_shared::wire::{Batch, Observation, TargetKind};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database write failed: {0}")]
    Write(#[source] rusqlite::Error),
    #[error("database holds an observation that cannot be read ({key}): {source}")]
    Corrupt {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("the store's writer has stopped")]
    WriterGone,
}

/// Identifies one page's series: agent, target, kind and column ('' for home pages).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubjectKey {
    pub agent: String,
    pub target: String,
    pub kind: TargetKind,
    pub column: String,
}

impl SubjectKey {
    pub fn of(agent: &str, observation: &Observation) -> Self {
        SubjectKey {
            agent: agent.to_string(),
            target: observation.target.clone(),
            kind: observation.kind,
            column: observation.column.clone().unwrap_or_default(),
        }
    }
}

/// What the collector knows of one page now.
#[derive(Clone, Debug, PartialEq)]
pub struct SubjectState {
    pub county: String,
    pub observation: Observation,
    /// Availability probes seen, ever (they back `xunjian_probes_total`).
    pub probes_ok: u64,
    pub probes_failed: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentState {
    pub county: String,
    pub first_push_at: Timestamp,
    pub last_push_at: Timestamp,
    pub last_sequence: u64,
    pub batches: u64,
}

/// The projection `/metrics`, the status page and the API read.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub agents: BTreeMap<String, AgentState>,
    pub subjects: BTreeMap<SubjectKey, SubjectState>,
}

/// How a push was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    Accepted { observations: u32 },
    Duplicate,
}

/// What a retention pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expired {
    pub subjects: usize,
    pub batch_ids: usize,
}

enum Request {
    Commit {
        batch: Batch,
        received_at: Timestamp,
        reply: oneshot::Sender<Result<CommitOutcome, StoreError>>,
    },
    Expire {
        now: Timestamp,
        series_expiry: Duration,
        dedupe_window: Duration,
        reply: oneshot::Sender<Result<Expired, StoreError>>,
    },
}

/// Handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    requests: std::sync::mpsc::Sender<Request>,
    snapshot: Arc<RwLock<Snapshot>>,
}

/// Pushes committed together at most; bounds one transaction's size and a reply's wait.
const MAX_GROUP: usize = 64;

impl Store {
    /// Opens (or creates) the database at `path`, migrates it, loads the projection and starts
    /// the writer thread.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open { path: path.to_path_buf(), source };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(parent);
        }
        let mut connection = rusqlite::Connection::open(path).map_err(open_error)?;
        schema::configure(&connection).map_err(open_error)?;
        schema::migrate(&mut connection).map_err(open_error)?;
        let snapshot = Arc::new(RwLock::new(read::load(&connection)?));
        let (requests, receiver) = std::sync::mpsc::channel::<Request>();
        let writer_snapshot = snapshot.clone();
        std::thread::Builder::new()
            .name("xunjian-store-writer".into())
            .spawn(move || write::run(connection, receiver, writer_snapshot))
            .map_err(|err| StoreError::Open {
                path: path.to_path_buf(),
                source: rusqlite::Error::ToSqlConversionFailure(Box::new(err)),
            })?;
        Ok(Store { requests, snapshot })
    }

    /// Commits `batch` (or recognises it as a duplicate); returns once it is durable.
    pub async fn commit(&self, batch: Batch, received_at: Timestamp) -> Result<CommitOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request::Commit { batch, received_at, reply }).map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Retires series not observed within `series_expiry` and batch ids older than `dedupe_window`.
    pub async fn expire(
        &self,
        now: Timestamp,
        series_expiry: Duration,
        dedupe_window: Duration,
    ) -> Result<Expired, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Expire { now, series_expiry, dedupe_window, reply })
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// The current projection. Hold the guard briefly: the writer waits for it.
    pub fn snapshot(&self) -> RwLockReadGuard<'_, Snapshot> {
        self.snapshot.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether an observation is an availability probe, and whether it succeeded.
pub fn probe_result(observation: &Observation) -> Option<bool> {
    use xunjian_shared::wire::CheckKind;
    if !observation.checks.contains(&CheckKind::Availability) {
        return None;
    }
    let fetch = observation.fetch.as_ref()?;
    Some(fetch.failure.is_none() && fetch.status.is_some_and(|status| status < 400))
}
