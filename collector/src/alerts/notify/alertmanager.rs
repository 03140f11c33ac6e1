//! Alertmanager (`POST /api/v2/alerts`): like Prometheus, the collector sends every firing alert
//! again on each evaluation, with `endsAt` a few minutes ahead, so Alertmanager keeps it open
//! while it is re-sent and closes it by itself if the collector goes away; resolved alerts are
//! sent with their `endsAt` for a few minutes after they resolve. Routing, grouping, inhibition
//! and silences then happen in Alertmanager. A failed send is retried by the next evaluation.

use std::sync::Mutex;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use xunjian_shared::config::{AlertSeverity, NotifierConfig};

use super::webhook::{annotations, generator_url};
use super::{Clients, http_client};
use crate::alerts::engine::{Alert, AlertState};
use crate::counters::CollectorCounters;

/// How far ahead a firing alert's `endsAt` is set (Prometheus uses 4 × its resend delay).
const ENDS_AHEAD: SignedDuration = SignedDuration::from_mins(4);
/// Resolved alerts are re-sent this long, in case a send was lost.
const RESOLVED_RESEND: SignedDuration = SignedDuration::from_mins(5);
/// Alerts in one post at most (about 10 MB of JSON).
const MAX_POSTED: usize = 10_000;
/// Unchanged sets are sent at most this often (Prometheus' resend delay).
const RESEND_EVERY: Duration = Duration::from_secs(60);

pub struct Sync {
    name: String,
    endpoint: url::Url,
    counties: Vec<String>,
    min_severity: AlertSeverity,
    status_page: Option<String>,
    counters: CollectorCounters,
    client: Clients,
    last: Mutex<Option<(tokio::time::Instant, String)>>,
}

impl Sync {
    pub fn new(config: &NotifierConfig, status_page: Option<String>, counters: CollectorCounters) -> Sync {
        let mut endpoint = config.url.clone();
        let path = format!("{}/api/v2/alerts", endpoint.path().trim_end_matches('/'));
        endpoint.set_path(&path);
        Sync {
            name: config.name.clone(),
            endpoint,
            counties: config.counties.clone(),
            min_severity: config.min_severity,
            status_page,
            counters,
            client: http_client(),
            last: Mutex::new(None),
        }
    }

    /// The alerts Alertmanager should hold now, as its API takes them.
    pub fn postable(&self, alerts: &[Alert], now: Timestamp) -> Vec<Value> {
        // A flood must not make one post of a hundred megabytes: the most severe go first, and
        // at most MAX_POSTED are sent; the rest stay visible in the collector's own API.
        let mut ranked: Vec<&Alert> = alerts.iter().collect();
        ranked.sort_by_key(|a| std::cmp::Reverse(a.severity));
        ranked
            .into_iter()
            .filter(|a| {
                let county = a.labels.get("county").map(String::as_str).unwrap_or("");
                (self.counties.is_empty() || self.counties.iter().any(|c| c == county))
                    && a.severity >= self.min_severity
            })
            .filter_map(|alert| {
                let ends_at = match (alert.state, alert.resolved_at) {
                    (AlertState::Firing, _) if alert.silenced_by.is_none() => now + ENDS_AHEAD,
                    (AlertState::Resolved, Some(at)) if now.duration_since(at) < RESOLVED_RESEND => at,
                    _ => return None,
                };
                Some(json!({
                    "labels": alert.labels,
                    "annotations": annotations(alert),
                    "startsAt": alert.active_at.to_string(),
                    "endsAt": ends_at.to_string(),
                    "generatorURL": generator_url(self.status_page.as_deref()),
                }))
            })
            .take(MAX_POSTED)
            .collect()
    }

    /// Syncs every new evaluation's alerts, and again every [`RESEND_EVERY`]; on its own task,
    /// so a slow Alertmanager never holds up evaluation or the other notifiers.
    pub async fn run(self: std::sync::Arc<Self>, mut alerts: tokio::sync::watch::Receiver<std::sync::Arc<Vec<Alert>>>) {
        loop {
            let current = alerts.borrow_and_update().clone();
            self.sync(&current, Timestamp::now()).await;
            tokio::select! {
                changed = alerts.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(RESEND_EVERY) => {}
            }
        }
    }

    /// Sends the current set when it changed or [`RESEND_EVERY`] has passed.
    pub async fn sync(&self, alerts: &[Alert], now: Timestamp) {
        let postable = self.postable(alerts, now);
        // What identifies the set, without the moving endsAt.
        let identity: String = postable.iter().map(|a| format!("{}{}", a["labels"], a["startsAt"])).collect();
        {
            let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, previous)) = last.as_ref()
                && *previous == identity
                && at.elapsed() < RESEND_EVERY
            {
                return;
            }
        }
        if postable.is_empty() && self.last.lock().unwrap_or_else(|p| p.into_inner()).is_none() {
            return;
        }
        let result = self
            .client
            .for_url(&self.endpoint)
            .post(self.endpoint.clone())
            .header("content-type", "application/json")
            .body(Value::Array(postable).to_string())
            .send()
            .await;
        match result {
            Ok(response) if response.status().is_success() => {
                self.counters.notification(&self.name, "sent");
                *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some((tokio::time::Instant::now(), identity));
            }
            Ok(response) => {
                self.counters.notification(&self.name, "retried");
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                tracing::warn!(notifier = %self.name, %status, body = %body.chars().take(200).collect::<String>(), "Alertmanager refused the alerts; resending at the next evaluation");
            }
            Err(error) => {
                self.counters.notification(&self.name, "retried");
                let error = error.without_url();
                tracing::warn!(notifier = %self.name, error = %error, "Alertmanager not reachable; resending at the next evaluation");
            }
        }
    }
}
