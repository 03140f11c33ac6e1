//! Alerts: every `evaluation_interval` the built-in rules ([`rules`]) read the projection and
//! the registry, the engine ([`engine`]) moves each alert pending → firing → resolved, the
//! changed alerts are written to SQLite (so a restart neither re-notifies nor forgets), and
//! notices go to the notifiers ([`notify`]).

pub mod engine;
pub mod message;
pub mod notify;
pub mod rules;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use rusqlite::{Connection, params};
use tokio::sync::watch;
use xunjian_shared::config::AlertsConfig;
use xunjian_shared::time::china_today;

use crate::store::{Store, StoreError};
pub use engine::{Alert, AlertState};

/// The alerts as of the last evaluation, for `/metrics` and the API.
#[derive(Clone, Debug, Default)]
pub struct AlertBoard {
    alerts: Arc<RwLock<Vec<Alert>>>,
}

impl AlertBoard {
    pub fn current(&self) -> Vec<Alert> {
        self.alerts.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, alerts: Vec<Alert>) {
        *self.alerts.write().unwrap_or_else(|p| p.into_inner()) = alerts;
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

/// Writes the alerts that changed since `written`, deletes the ones gone.
fn persist(
    connection: &mut Connection,
    alerts: &BTreeMap<String, Alert>,
    written: &mut BTreeMap<String, String>,
    now: Timestamp,
) -> rusqlite::Result<()> {
    let transaction = connection.transaction()?;
    for (fingerprint, alert) in alerts {
        let json = serde_json::to_string(alert).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        if written.get(fingerprint) != Some(&json) {
            transaction.execute(
                "INSERT OR REPLACE INTO alerts (fingerprint, alert, state, updated_at) VALUES (?1, ?2, ?3, ?4)",
                params![fingerprint, json, alert.state.as_str(), now.as_second()],
            )?;
            written.insert(fingerprint.clone(), json);
        }
    }
    let gone: Vec<String> = written.keys().filter(|f| !alerts.contains_key(*f)).cloned().collect();
    for fingerprint in gone {
        transaction.execute("DELETE FROM alerts WHERE fingerprint = ?1", [&fingerprint])?;
        written.remove(&fingerprint);
    }
    transaction.commit()
}

/// The evaluation loop; returns at shutdown.
pub async fn run(
    store: Store,
    database: std::path::PathBuf,
    config: AlertsConfig,
    board: AlertBoard,
    dispatcher: notify::Dispatcher,
    mut shutdown: watch::Receiver<bool>,
) {
    let opened = crate::store::filings::open_for_cli(&database).map_err(|e| e.to_string()).and_then(|connection| {
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
    let connection = Arc::new(std::sync::Mutex::new(connection));
    let mut written: BTreeMap<String, String> =
        alerts.iter().filter_map(|(f, a)| serde_json::to_string(a).ok().map(|json| (f.clone(), json))).collect();
    board.set(alerts.values().cloned().collect());
    let mut ticker = tokio::time::interval(config.evaluation_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = Timestamp::now();
        let notices = {
            let registry = store.registry().clone();
            let snapshot = store.snapshot();
            let assessment = registry.assess(&snapshot, china_today(now));
            let found = rules::evaluate(&snapshot, &registry, &assessment, &config, now);
            drop(snapshot);
            engine::step(&mut alerts, found, &registry, now, config.repeat_interval)
        };
        // Durable before anyone hears of it: a crash after this re-sends nothing twice.
        let snapshot_of_alerts = alerts.clone();
        let db = connection.clone();
        let mut pending_written = std::mem::take(&mut written);
        let persisted = tokio::task::spawn_blocking(move || {
            let mut connection = db.lock().unwrap_or_else(|p| p.into_inner());
            let result = persist(&mut connection, &snapshot_of_alerts, &mut pending_written, now);
            (result, pending_written)
        })
        .await;
        match persisted {
            Ok((result, back)) => {
                written = back;
                if let Err(error) = result {
                    tracing::error!(error = %error, "cannot save alert states; they will be saved at the next evaluation");
                }
            }
            Err(error) => tracing::error!(error = %error, "alert state writer failed"),
        }
        let current: Vec<Alert> = alerts.values().cloned().collect();
        board.set(current.clone());
        dispatcher.notify(&notices);
        for sync in &dispatcher.syncs {
            sync.sync(&current, now).await;
        }
    }
}
