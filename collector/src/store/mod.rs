//! The collector's state: one SQLite file, and the projection in memory that everything reads.
//!
//! Durability is per batch. The writer thread takes whatever pushes are waiting and, in one
//! transaction (each batch in its own savepoint), records each batch id and appends the batch
//! as received to `batch_log`; only after that commit (WAL, full sync) does it apply the
//! batches to the projection ([`Snapshot::apply`]) and answer. Every [`CHECKPOINT_EVERY`] (and
//! at shutdown) it writes the pages and agents that changed and deletes the log rows they
//! cover. At startup the last checkpoint is loaded and the log replayed in order, so a crash
//! at any moment loses no acknowledged batch. Readers (`/metrics`, the status page) never
//! touch SQLite. Layout: [`schema`].
//!
//! The registry (备案) and exemptions live beside it ([`filings`]): changed through the writer
//! (the API) or directly by the CLI, and reloaded by the writer when another connection has
//! committed (checked every [`REGISTRY_POLL`]).

pub mod backup;
pub mod filings;
pub mod history;
pub mod ledger;
pub mod read;
pub mod schema;
pub mod tasks;
pub mod users;
mod write;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::oneshot;
use xunjian_shared::wire::Batch;

pub use filings::{AuditEntry, ChangeError, ChangeOutcome, RegistryChange};

use crate::ledger::LedgerSettings;
use crate::projection::{Inadmissible, Receipt, Snapshot};
use crate::registry::Registry;

/// How often changed state is checkpointed (and the batch log trimmed).
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(30);
/// How soon a registry change made by the CLI reaches the running collector.
pub const REGISTRY_POLL: Duration = Duration::from_secs(2);

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
    #[error("database holds a row that cannot be read ({what}): {source}")]
    Corrupt {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("the store's writer has stopped")]
    WriterGone,
    #[error("cannot start the store's writer thread: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("cannot encode {what} for the database: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The group commit this request was part of failed; every request of the group gets it.
    #[error("database commit failed: {0}")]
    Commit(#[source] std::sync::Arc<rusqlite::Error>),
}

/// A push body as received, kept in the batch log for replay.
#[derive(Clone, Debug)]
pub struct LoggedBody {
    pub bytes: Vec<u8>,
    pub gzip: bool,
}

/// How a push was taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    Accepted {
        observations: u32,
    },
    /// This agent sent this batch id before; nothing changed.
    Duplicate,
    /// Not taken: it writes another agent's subject, or gives its agent too many.
    Refused(Inadmissible),
}

/// What a retention pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expired {
    pub subjects: usize,
    pub batch_ids: usize,
    /// Rows of days older than the history's retention.
    pub history_rows: usize,
}

/// What a checkpoint wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checkpointed {
    pub subjects: usize,
    pub log_rows: usize,
}

enum Request {
    Commit {
        batch: Batch,
        body: LoggedBody,
        receipt: Receipt,
        max_subjects: usize,
        reply: oneshot::Sender<Result<CommitOutcome, StoreError>>,
    },
    Expire {
        now: Timestamp,
        series_expiry: Duration,
        dedupe_window: Duration,
        reply: oneshot::Sender<Result<Expired, StoreError>>,
    },
    Checkpoint {
        reply: oneshot::Sender<Result<Checkpointed, StoreError>>,
    },
    Registry {
        change: RegistryChange,
        now: Timestamp,
        reply: oneshot::Sender<Result<ChangeOutcome, ChangeError>>,
    },
    AuditLog {
        limit: usize,
        reply: oneshot::Sender<Result<Vec<AuditEntry>, StoreError>>,
    },
}

/// Handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    requests: std::sync::mpsc::Sender<Request>,
    snapshot: Arc<RwLock<Snapshot>>,
    registry: Arc<RwLock<Registry>>,
    /// Reads the ledger on disk beside the writer (WAL: neither waits for the other).
    reader: Arc<std::sync::Mutex<rusqlite::Connection>>,
}

/// Pushes committed together at most; bounds one transaction's size and a reply's wait.
const MAX_GROUP: usize = 64;

impl Store {
    /// Opens (or creates) the database at `path`, migrates it, loads the last checkpoint,
    /// replays the batch log and starts the writer thread.
    /// Opens (or creates) the store at `path` with the ledger's and the history's defaults.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let retention = xunjian_shared::config::collector::DEFAULT_HISTORY_RETENTION;
        Store::open_with(path, LedgerSettings::default(), retention, Default::default())
    }

    /// Opens (or creates) the store at `path`; daily history older than `history_retention`
    /// goes at the retention passes; the registry is judged by `rules` from the writer's first
    /// step (it may sync the registry's problems at once).
    pub fn open_with(
        path: &Path,
        ledger: LedgerSettings,
        history_retention: Duration,
        rules: xunjian_shared::config::collector::RegistryConfig,
    ) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open { path: path.to_path_buf(), source };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(parent);
        }
        let mut connection = rusqlite::Connection::open(path).map_err(open_error)?;
        schema::enable_incremental_vacuum(&connection).map_err(open_error)?;
        schema::configure(&connection).map_err(open_error)?;
        schema::migrate(&mut connection).map_err(open_error)?;
        let (snapshot, dirty) = read::load(&connection, ledger)?;
        let reader = filings::open_connection(path)?;
        let snapshot = Arc::new(RwLock::new(snapshot));
        let registry = Arc::new(RwLock::new(Registry { rules, ..filings::load(&connection)? }));
        let (requests, receiver) = std::sync::mpsc::channel::<Request>();
        let shared = write::Shared { snapshot: snapshot.clone(), registry: registry.clone(), history_retention };
        std::thread::Builder::new()
            .name("xunjian-store-writer".into())
            .spawn(move || write::run(connection, receiver, shared, dirty))
            .map_err(StoreError::Spawn)?;
        Ok(Store { requests, snapshot, registry, reader: Arc::new(std::sync::Mutex::new(reader)) })
    }

    /// Takes `batch` (or recognises it as a duplicate from its agent, or refuses it when it
    /// would write another agent's subject or give its agent more than `max_subjects`);
    /// returns once it is durable.
    pub async fn commit(
        &self,
        batch: Batch,
        body: LoggedBody,
        receipt: Receipt,
        max_subjects: usize,
    ) -> Result<CommitOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Commit { batch, body, receipt, max_subjects, reply })
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Retires pages not observed within `series_expiry` and batch ids older than `dedupe_window`.
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

    /// Writes what changed now (the writer also does this on its own every [`CHECKPOINT_EVERY`]).
    pub async fn checkpoint(&self) -> Result<Checkpointed, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request::Checkpoint { reply }).map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Changes the registry or the exemptions; returns once the change is durable and visible.
    pub async fn change_registry(&self, change: RegistryChange) -> Result<ChangeOutcome, ChangeError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Registry { change, now: Timestamp::now(), reply })
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// The newest `limit` registry changes, newest first.
    pub async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request::AuditLog { limit, reply }).map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// The registry and exemptions. Hold the guard briefly.
    pub fn registry(&self) -> RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One page of the problem ledger: [`read_problems`].
    pub fn problems(
        &self,
        filter: &ledger::ProblemFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<crate::ledger::Problem>), StoreError> {
        let reader = self.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        read_problems(&self.snapshot, &reader, filter, offset, limit)
    }

    /// These problems as they stand: open ones live from the projection, the rest from disk
    /// (an id the ledger forgot is absent).
    pub fn problems_by_id(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::BTreeMap<i64, crate::ledger::Problem>, StoreError> {
        let reader = self.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        live_or_stored(&self.snapshot, &reader, ids)
    }

    /// The projection and the reader connection, for reads that need both at once (the report).
    pub fn with_reader<T>(&self, read: impl FnOnce(&RwLock<Snapshot>, &rusqlite::Connection) -> T) -> T {
        let reader = self.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        read(&self.snapshot, &reader)
    }

    /// `target`'s daily history from `from` to `to`, and when an agent first saw it.
    pub fn history_of(
        &self,
        target: &str,
        county: Option<&str>,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<(Option<Timestamp>, Vec<history::TargetDay>), StoreError> {
        let reader = self.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let first_seen = history::first_seen(&reader, target, county)?;
        Ok((first_seen, history::target_days(&reader, target, county, from, to)?))
    }

    /// Every county's daily pass ratios from `from` to `to`.
    pub fn county_history(
        &self,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<Vec<history::CountyDay>, StoreError> {
        let reader = self.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        history::county_days(&reader, from, to)
    }

    /// The current projection. Hold the guard briefly: the writer waits for it.
    /// (Pages change only through the writer: [`Snapshot::apply`], expiry, retirement.)
    pub fn snapshot(&self) -> RwLockReadGuard<'_, Snapshot> {
        read_guard(&self.snapshot)
    }
}

/// One page of the problem ledger, newest first, and how many match: what the projection
/// holds (open problems with their live last-seen, words and evidence) merged with the rest
/// from disk.
pub fn read_problems(
    snapshot: &RwLock<Snapshot>,
    reader: &rusqlite::Connection,
    filter: &ledger::ProblemFilter,
    offset: usize,
    limit: usize,
) -> Result<(usize, Vec<crate::ledger::Problem>), StoreError> {
    // Ids only while the projection is held; the disk is read without holding up the writer.
    let (held, live) = {
        let snapshot = read_guard(snapshot);
        let rows = snapshot.ledger.rows();
        let held: std::collections::HashSet<i64> = rows.keys().copied().collect();
        let live: Vec<i64> = rows.values().filter(|row| filter.matches(row)).map(|row| row.id).collect();
        (held, live)
    };
    let (total, wanted) = ledger::page_ids(reader, &held, live, filter, offset, limit)?;
    let mut rows = live_or_stored(snapshot, reader, &wanted)?;
    Ok((total, wanted.iter().filter_map(|id| rows.remove(id)).collect()))
}

/// The rows with these ids: live ones refreshed from their pages, the others (and any the
/// projection let go meanwhile) from disk.
fn live_or_stored(
    snapshot: &RwLock<Snapshot>,
    reader: &rusqlite::Connection,
    ids: &[i64],
) -> Result<std::collections::BTreeMap<i64, crate::ledger::Problem>, StoreError> {
    let mut rows: std::collections::BTreeMap<i64, crate::ledger::Problem> = {
        let snapshot = read_guard(snapshot);
        ids.iter()
            .filter_map(|id| snapshot.ledger.rows().get(id))
            .map(|row| {
                let mut row = row.clone();
                snapshot.refresh(&mut row);
                (row.id, row)
            })
            .collect()
    };
    let missing: Vec<i64> = ids.iter().copied().filter(|id| !rows.contains_key(id)).collect();
    if !missing.is_empty() {
        rows.extend(ledger::rows_by_id(reader, &missing)?);
    }
    Ok(rows)
}

fn read_guard(snapshot: &RwLock<Snapshot>) -> RwLockReadGuard<'_, Snapshot> {
    snapshot.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::SubjectKey;
    use xunjian_shared::wire::{BatchId, CheckKind, Observation, SubjectRef, TargetKind};

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
            freshness: Some(xunjian_shared::wire::Freshness { items: Some(items), ..Default::default() }),
            fetch: None,
            // Odd counts are a problem, so the ledger has something to keep.
            findings: if items % 2 == 1 {
                vec![xunjian_shared::wire::Finding::new(
                    xunjian_shared::wire::FindingCode::ColumnNotUpdated,
                    xunjian_shared::wire::Severity::Error,
                    format!("{items} 条"),
                )]
            } else {
                Vec::new()
            },
            ..Observation::new("", TargetKind::Site, "", "", CheckKind::ColumnUpdate, Timestamp::UNIX_EPOCH)
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
        let key = SubjectKey {
            agent: "lc".into(),
            target: target.into(),
            kind: TargetKind::Site,
            column: column.into(),
            channel: String::new(),
        };
        store.snapshot().subjects().get(&key).and_then(|state| state.observation.items())
    }

    async fn commit(store: &Store, batch: Batch, at: Timestamp) -> CommitOutcome {
        let body = LoggedBody { bytes: serde_json::to_vec(&batch).unwrap(), gzip: false };
        store.commit(batch, body, Receipt { received_at: at, certificate_not_after: None }, 100).await.unwrap()
    }

    fn projection(store: &Store) -> Vec<(SubjectKey, Option<u32>, u64)> {
        store
            .snapshot()
            .subjects()
            .iter()
            .map(|(key, state)| (key.clone(), state.observation.items(), state.probes_ok))
            .collect()
    }

    /// The ledger's rows in memory: id, column, status, resolution, absences.
    fn ledger(
        snapshot: &Snapshot,
    ) -> Vec<(i64, String, crate::ledger::Status, Option<crate::ledger::Resolution>, u32)> {
        snapshot
            .ledger
            .rows()
            .values()
            .map(|row| (row.id, row.place.column.clone(), row.status, row.resolution, row.absent))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn newest_wins_inventory_retires_replay_and_checkpoint_agree_expiry_removes() {
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
        assert_eq!(commit(&store, batch_a, later).await, CommitOutcome::Accepted { observations: 2 });
        // The observation received later is the newer, whatever the agent's clock says.
        commit(&store, batch("bbbbbbbb", vec![observation("站", Some("动态"), t0, 1)], None), later).await;
        assert_eq!(items(&store, "站", "动态"), Some(1));
        // Another agent may not write lc's pages; the same batch id from it is not a duplicate.
        let mut other = batch("bbbbbbbb", vec![observation("站", Some("动态"), later, 9)], None);
        other.agent = "hp".into();
        assert!(matches!(
            commit(&store, other, later).await,
            CommitOutcome::Refused(Inadmissible::Owned { owner, .. }) if owner == "lc"
        ));
        // The inventory no longer lists 公告: its series go at once.
        let listed = vec![SubjectRef {
            target: "站".into(),
            kind: TargetKind::Site,
            column: Some("动态".into()),
            channel: None,
        }];
        commit(&store, batch("cccccccc", vec![observation("站", Some("动态"), later, 6)], Some(listed)), later).await;
        assert_eq!((items(&store, "站", "动态"), items(&store, "站", "公告")), (Some(6), None));
        assert_eq!(commit(&store, batch("aaaaaaaa", Vec::new(), None), later).await, CommitOutcome::Duplicate);
        let live = projection(&store);
        let live_ledger = ledger(&store.snapshot());
        {
            use crate::ledger::{Resolution, Status};
            assert_eq!(
                live_ledger,
                [
                    (1, "动态".to_string(), Status::Open, None, 1),
                    (2, "公告".to_string(), Status::Resolved, Some(Resolution::Unlisted), 0),
                ],
                "动态 once absent, 公告 closed by the inventory"
            );
        }

        // Nothing is checkpointed yet: loading from disk now rebuilds the state from the batch
        // log alone, as after a crash.
        let connection = rusqlite::Connection::open(&path).unwrap();
        let (recovered, dirty) = read::load(&connection, LedgerSettings::default()).unwrap();
        assert_eq!(ledger(&recovered), live_ledger, "replaying the batch log gives the same ledger, ids included");
        let recovered: Vec<_> = recovered
            .subjects()
            .iter()
            .map(|(key, state)| (key.clone(), state.observation.items(), state.probes_ok))
            .collect();
        assert_eq!(recovered, live, "replaying the batch log gives the same state");
        assert_eq!(
            dirty.subjects.len(),
            2,
            "both pages ever seen are written at the next checkpoint (one as a deletion)"
        );
        drop(connection);

        // After a checkpoint the log is empty and the tables alone give the same state.
        let written = store.checkpoint().await.unwrap();
        assert_eq!(written.log_rows, 3);
        drop(store);
        let reopened = Store::open(&path).unwrap();
        assert_eq!(projection(&reopened), live);
        let open_before: Vec<_> =
            live_ledger.iter().filter(|row| row.2 == crate::ledger::Status::Open).cloned().collect();
        assert_eq!(
            ledger(&reopened.snapshot()),
            open_before,
            "open problems load back; resolved old ones stay on disk"
        );
        let (total, rows) = reopened.problems(&ledger::ProblemFilter::default(), 0, 10).unwrap();
        assert_eq!((total, rows.iter().map(|row| row.id).collect::<Vec<_>>()), (2, vec![2, 1]), "newest first");
        assert_eq!(reopened.snapshot().agents["lc"].batches, 3);
        assert_eq!(commit(&reopened, batch("aaaaaaaa", Vec::new(), None), later).await, CommitOutcome::Duplicate);

        // Expiry: series older than the window and batch ids past the dedupe window.
        let expired = reopened
            .expire(
                later + jiff::SignedDuration::from_hours(49),
                Duration::from_secs(2 * 86_400),
                Duration::from_secs(86_400),
            )
            .await
            .unwrap();
        assert_eq!(expired, Expired { subjects: 1, batch_ids: 3, history_rows: 0 });
        assert!(reopened.snapshot().subjects().is_empty());
        let open = ledger::ProblemFilter { status: Some(crate::ledger::Status::Open), ..Default::default() };
        assert_eq!(reopened.problems(&open, 0, 10).unwrap().0, 0, "expiry closes the page's problems");
        let (_, rows) = reopened.problems(&ledger::ProblemFilter::default(), 0, 10).unwrap();
        assert_eq!(rows[1].resolution, Some(crate::ledger::Resolution::Expired));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
