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

#[cfg(test)]
mod tests {
    use super::*;
    use xunjian_shared::wire::{BatchId, CheckKind, SubjectRef};

    fn observation(target: &str, column: Option<&str>, at: Timestamp, items: u32) -> Observation {
        Observation {
            target: target.into(),
            kind: TargetKind::Site,
            unit: "单位".into(),
            platform: None,
            column: column.map(String::from),
            column_kind: None,
            url: "http://127.0.0.1/".into(),
            checks: vec![CheckKind::ColumnUpdate],
            checked_at: at,
            ok: true,
            items: Some(items),
            last_update: None,
            age_days: None,
            max_age_days: None,
            fetch: None,
            findings: Vec::new(),
        }
    }

    fn batch(id: &str, observations: Vec<Observation>, inventory: Option<Vec<SubjectRef>>) -> Batch {
        Batch {
            schema_version: 1,
            batch_id: BatchId::parse(id).unwrap(),
            agent: "lc".into(),
            county: "龙川县".into(),
            sequence: 1,
            created_at: Timestamp::now(),
            inventory,
            observations,
        }
    }

    fn items(store: &Store, target: &str, column: &str) -> Option<u32> {
        let key =
            SubjectKey { agent: "lc".into(), target: target.into(), kind: TargetKind::Site, column: column.into() };
        store.snapshot().subjects.get(&key).and_then(|state| state.observation.items)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn newest_wins_inventory_retires_expiry_removes_and_reload_restores() {
        let dir = std::env::temp_dir().join(format!("xunjian-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("x.db");
        let store = Store::open(&path).unwrap();
        let t0 = Timestamp::from_second(1_790_000_000).unwrap();
        let later = Timestamp::from_second(1_790_000_600).unwrap();
        let batch_a = batch(
            "aaaaaaaa",
            vec![observation("站", Some("动态"), later, 5), observation("站", Some("公告"), later, 7)],
            None,
        );
        assert_eq!(store.commit(batch_a, later).await.unwrap(), CommitOutcome::Accepted { observations: 2 });
        // A replayed older observation does not replace the newer one.
        let older = batch("bbbbbbbb", vec![observation("站", Some("动态"), t0, 1)], None);
        store.commit(older, later).await.unwrap();
        assert_eq!(items(&store, "站", "动态"), Some(5));
        // The inventory no longer lists 公告: its series go at once.
        let listed = vec![SubjectRef { target: "站".into(), kind: TargetKind::Site, column: Some("动态".into()) }];
        store
            .commit(batch("cccccccc", vec![observation("站", Some("动态"), later, 6)], Some(listed)), later)
            .await
            .unwrap();
        assert_eq!((items(&store, "站", "动态"), items(&store, "站", "公告")), (Some(6), None));
        drop(store);

        // Reopened from disk, the projection is the same.
        let store = Store::open(&path).unwrap();
        assert_eq!((items(&store, "站", "动态"), items(&store, "站", "公告")), (Some(6), None));
        assert_eq!(store.snapshot().agents["lc"].batches, 3);
        assert_eq!(store.commit(batch("aaaaaaaa", Vec::new(), None), later).await.unwrap(), CommitOutcome::Duplicate);

        // Expiry: series older than the window and batch ids past the dedupe window.
        let expired = store
            .expire(
                later + jiff::SignedDuration::from_hours(49),
                Duration::from_secs(2 * 86_400),
                Duration::from_secs(86_400),
            )
            .await
            .unwrap();
        assert_eq!(expired, Expired { subjects: 1, batch_ids: 3 });
        assert!(store.snapshot().subjects.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
