//! Alerts: every `evaluation_interval` the built-in rules ([`rules`]) read the projection and
//! the registry, the engine ([`engine`]) moves each alert pending → firing → resolved, and in
//! one transaction the changed alerts are written to SQLite and their notices to the outbox
//! ([`outbox`]) — so a restart neither re-notifies nor forgets, and a crash loses no notice.
//! Delivery tasks ([`notify`]) then send the outbox, marking each notice delivered only on the
//! receiver's 2xx; Alertmanager gets the firing set by its own task.

pub mod engine;
pub mod message;
pub mod notify;
pub mod outbox;
pub mod rules;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use rusqlite::{Connection, params};
use tokio::sync::watch;
use xunjian_shared::config::AlertsConfig;
use xunjian_shared::time::china_today;

use crate::counters::CollectorCounters;
use crate::store::{Store, StoreError};
use crate::view::View;
pub use engine::{Alert, AlertState};

/// The alerts as of the last evaluation, for `/metrics` and the API.
#[derive(Clone, Debug, Default)]
pub struct AlertBoard {
    alerts: Arc<RwLock<Arc<Vec<Alert>>>>,
    /// The 整改 tasks as of the last re-check (which runs before each evaluation).
    pub tasks: crate::tasks::TaskBoard,
    /// The outbox, once the evaluation loop opened it (for `/api/v1/notifications`).
    outbox: Arc<std::sync::OnceLock<notify::Outbox>>,
}

impl AlertBoard {
    pub fn current(&self) -> Arc<Vec<Alert>> {
        self.alerts.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, alerts: Arc<Vec<Alert>>) {
        *self.alerts.write().unwrap_or_else(|p| p.into_inner()) = alerts;
    }

    /// The outbox's rows, open ones first, at most `limit`.
    pub async fn notifications(&self, limit: usize) -> Vec<xunjian_shared::wire::api::NotificationView> {
        let Some(outbox) = self.outbox.get().cloned() else { return Vec::new() };
        tokio::task::spawn_blocking(move || {
            let connection = outbox.lock().unwrap_or_else(|p| p.into_inner());
            outbox::recent(&connection, limit).unwrap_or_default()
        })
        .await
        .unwrap_or_default()
    }
}

/// Loads the alerts as last persisted.
fn load(connection: &Connection) -> Result<BTreeMap<String, Alert>, StoreError> {
    let mut statement = connection.prepare("SELECT fingerprint, alert FROM alerts").map_err(StoreError::Write)?;
    let rows = statement
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
        .map_err(StoreError::Write)?;
    let mut alerts = BTreeMap::new();
    for row in rows {
        let (fingerprint, json) = row.map_err(StoreError::Write)?;
        match serde_json::from_str::<Alert>(&json) {
            Ok(alert) => {
                alerts.insert(fingerprint, alert);
            }
            Err(err) => tracing::error!(fingerprint, error = %err, "skipping an alert that cannot be read"),
        }
    }
    Ok(alerts)
}

/// What an evaluation could not save, for the next one: alert states by fingerprint (their
/// current state is written), deletions, and notices — at most [`MAX_UNSAVED`] of these, the
/// most urgent, so a database that stays down cannot fill the memory.
#[derive(Default)]
struct Unsaved {
    changed: std::collections::BTreeSet<String>,
    removed: Vec<String>,
    notices: Vec<engine::Notice>,
}

const MAX_UNSAVED: usize = 10_000;

impl Unsaved {
    fn keep(
        &mut self,
        changed: std::collections::BTreeSet<String>,
        removed: Vec<String>,
        mut notices: Vec<engine::Notice>,
    ) {
        self.changed = changed;
        self.removed = removed;
        if notices.len() > MAX_UNSAVED {
            notices.sort_by_key(outbox::priority);
            tracing::error!(
                dropped = notices.len() - MAX_UNSAVED,
                "notices dropped while the database cannot be written"
            );
            notices.truncate(MAX_UNSAVED);
        }
        self.notices = notices;
    }
}

/// In one transaction: the changed alerts, the removed ones, and the notices for each
/// notifier. Returns the notifiers that got something.
fn persist(
    connection: &mut Connection,
    changed: &[(String, String, &'static str)],
    removed: &[String],
    notices: &[engine::Notice],
    routed: &[(String, Vec<usize>)],
    now: Timestamp,
) -> Result<Vec<String>, StoreError> {
    let db = StoreError::Write;
    let transaction = connection.transaction().map_err(db)?;
    for (fingerprint, json, state) in changed {
        transaction
            .execute(
                "INSERT OR REPLACE INTO alerts (fingerprint, alert, state, updated_at) VALUES (?1, ?2, ?3, ?4)",
                params![fingerprint, json, state, now.as_second()],
            )
            .map_err(db)?;
    }
    for fingerprint in removed {
        transaction.execute("DELETE FROM alerts WHERE fingerprint = ?1", [fingerprint]).map_err(db)?;
    }
    let mut woken = Vec::new();
    for (notifier, taken) in routed {
        let taken: Vec<&engine::Notice> = taken.iter().map(|&i| &notices[i]).collect();
        let (queued, folded) = outbox::enqueue(&transaction, notifier, &taken, now)?;
        if folded > 0 {
            tracing::warn!(notifier, queued, folded, "notification queue full; the rest go into a summary line");
        }
        woken.push(notifier.clone());
    }
    transaction.commit().map_err(db)?;
    Ok(woken)
}

/// The evaluation loop; returns at shutdown.
pub async fn run(
    store: Store,
    database: std::path::PathBuf,
    config: AlertsConfig,
    board: AlertBoard,
    status_page: String,
    counters: CollectorCounters,
    mut shutdown: watch::Receiver<bool>,
) {
    let opened = crate::store::filings::open_connection(&database).map_err(|e| e.to_string()).and_then(|connection| {
        let alerts = load(&connection).map_err(|e| e.to_string())?;
        Ok((connection, alerts))
    });
    let (connection, mut alerts) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            tracing::error!(error = %error, "cannot open the alert state; alerts are not evaluated");
            return;
        }
    };
    let names: Vec<String> = config.notifiers.iter().map(|n| n.name.clone()).collect();
    match outbox::tidy(&connection, &names, Timestamp::now()) {
        Ok(0) => {}
        Ok(given_up) => tracing::warn!(given_up, "notices for notifiers no longer configured are given up"),
        Err(error) => tracing::error!(error = %error, "cannot tidy the notification outbox"),
    }
    let outbox: notify::Outbox = Arc::new(std::sync::Mutex::new(connection));
    let _ = board.outbox.set(outbox.clone());
    let dispatcher = notify::Dispatcher::start(&config.notifiers, Some(status_page), counters, outbox.clone());
    let (current, watched) = watch::channel(Arc::new(Vec::<Alert>::new()));
    for sync in &dispatcher.syncs {
        tokio::spawn(sync.clone().run(watched.clone()));
    }
    board.set(Arc::new(alerts.values().cloned().collect()));
    // What a failed transaction did not save: written with the next evaluation's.
    let mut unsaved = Unsaved::default();
    let mut ticker = tokio::time::interval(config.evaluation_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = Timestamp::now();
        // The 整改 re-check first: its verdicts (已核实, 整改未到位) and overdue tasks are alerts too.
        let (db, tasks_store) = (outbox.clone(), store.clone());
        let rechecked = tokio::task::spawn_blocking(move || {
            let mut connection = db.lock().unwrap_or_else(|p| p.into_inner());
            crate::store::tasks::recheck_all(&mut connection, &tasks_store, now)
        })
        .await;
        match rechecked {
            Ok(Ok(tasks)) => board.tasks.set(tasks),
            Ok(Err(error)) => {
                tracing::error!(error = %error, "整改 re-check failed; trying again at the next evaluation")
            }
            Err(error) => tracing::error!(error = %error, "整改 re-check failed; trying again at the next evaluation"),
        }
        let tasks = board.tasks.current();
        let step = {
            let registry = store.registry().clone();
            let snapshot = store.snapshot();
            let view = View::of(&snapshot, &registry, china_today(now));
            let found = rules::evaluate(&view, &tasks.tasks, &config, now);
            drop(snapshot);
            engine::step(&mut alerts, found, &registry, now, config.repeat_interval)
        };
        let mut fingerprints = std::mem::take(&mut unsaved.changed);
        fingerprints.extend(step.changed);
        let changed: Vec<(String, String, &'static str)> = fingerprints
            .iter()
            .filter_map(|fingerprint| {
                let alert = alerts.get(fingerprint)?;
                let json = serde_json::to_string(alert).ok()?;
                Some((fingerprint.clone(), json, alert.state.as_str()))
            })
            .collect();
        let mut removed = std::mem::take(&mut unsaved.removed);
        removed.extend(step.removed);
        let mut notices = std::mem::take(&mut unsaved.notices);
        notices.extend(step.notices);
        let routed = dispatcher.route(&notices);
        let (db, notices) = (outbox.clone(), Arc::new(notices));
        let shared = (notices.clone(), removed);
        // Durable before anyone hears of it: a crash after this sends each notice at least once.
        let persisted = tokio::task::spawn_blocking(move || {
            let mut connection = db.lock().unwrap_or_else(|p| p.into_inner());
            let result = persist(&mut connection, &changed, &shared.1, &shared.0, &routed, now);
            (result, shared.1)
        })
        .await;
        let failure = match persisted {
            Ok((Ok(woken), _)) => {
                dispatcher.wake(&woken);
                None
            }
            Ok((Err(error), removed)) => Some((error.to_string(), removed)),
            Err(error) => Some((error.to_string(), Vec::new())),
        };
        if let Some((error, removed)) = failure {
            tracing::error!(error = %error, "cannot save alert states and notices; trying again at the next evaluation");
            let notices = Arc::try_unwrap(notices).unwrap_or_else(|shared| shared.as_ref().clone());
            unsaved.keep(fingerprints, removed, notices);
        }
        let snapshot_of_alerts = Arc::new(alerts.values().cloned().collect::<Vec<_>>());
        board.set(snapshot_of_alerts.clone());
        let _ = current.send(snapshot_of_alerts);
    }
}
