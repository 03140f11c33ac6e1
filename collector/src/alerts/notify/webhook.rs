//! Generic webhook: Alertmanager's webhook payload (`version: "4"`), so receivers written for
//! Alertmanager (and tools like prometheus-webhook-dingtalk) take it unchanged. Firing and
//! resolved notices go in separate payloads, as Alertmanager groups them by status.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Value, json};
use xunjian_shared::config::NotifierConfig;

use super::{Notifier, Outgoing, Rendered};
use crate::alerts::engine::{Alert, AlertState, Notice};

pub struct Webhook {
    name: String,
    url: url::Url,
    status_page: Option<String>,
}

impl Webhook {
    pub fn new(config: &NotifierConfig, status_page: Option<String>) -> Webhook {
        Webhook { name: config.name.clone(), url: config.url.clone(), status_page }
    }
}

/// Alertmanager's "zero" time: a firing alert's `endsAt` in webhook payloads.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The annotations every consumer gets: summary (one line), description, the Chinese title.
pub fn annotations(alert: &Alert) -> BTreeMap<String, String> {
    let notice = Notice { alert: alert.clone(), repeat: false };
    let mut annotations = BTreeMap::new();
    annotations.insert("summary".to_string(), format!("{}：{}", crate::alerts::message::subject(&notice), alert.title));
    annotations.insert("description".to_string(), alert.description.clone());
    annotations.insert("title".to_string(), alert.title.clone());
    annotations
}

pub fn generator_url(status_page: Option<&str>) -> String {
    status_page.map(|url| format!("{}/api/v1/alerts", url.trim_end_matches('/'))).unwrap_or_default()
}

/// Alerts in one payload at most, as Alertmanager's `max_alerts`; the rest are counted in
/// `truncatedAlerts`.
pub const MAX_ALERTS_PER_PAYLOAD: usize = 100;

/// The payload for notices of one status, `truncated` more left out.
pub fn payload(receiver: &str, status: &str, notices: &[&Notice], status_page: Option<&str>, truncated: u64) -> Value {
    let alerts: Vec<Value> = notices
        .iter()
        .map(|notice| {
            let alert = &notice.alert;
            json!({
                "status": alert.state_for_payload(),
                "labels": alert.labels,
                "annotations": annotations(alert),
                "startsAt": alert.active_at.to_string(),
                "endsAt": alert.resolved_at.map(|t| t.to_string()).unwrap_or_else(|| ZERO_TIME.to_string()),
                "generatorURL": generator_url(status_page),
                "fingerprint": alert.fingerprint,
            })
        })
        .collect();
    let common = |pick: &dyn Fn(&Alert) -> BTreeMap<String, String>| -> BTreeMap<String, String> {
        let mut sets = notices.iter().map(|n| pick(&n.alert));
        let first = sets.next().unwrap_or_default();
        sets.fold(first, |common, next| common.into_iter().filter(|(k, v)| next.get(k) == Some(v)).collect())
    };
    let common_labels = common(&|a: &Alert| a.labels.clone());
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"{}\"}}", common_labels.get("alertname").map(String::as_str).unwrap_or("")),
        "truncatedAlerts": truncated,
        "status": status,
        "receiver": receiver,
        "groupLabels": {},
        "commonLabels": common_labels,
        "commonAnnotations": common(&annotations),
        "externalURL": status_page.unwrap_or(""),
        "alerts": alerts,
    })
}

impl Alert {
    fn state_for_payload(&self) -> &'static str {
        if self.state == AlertState::Resolved { "resolved" } else { "firing" }
    }
}

impl Notifier for Webhook {
    /// Notices of one status (firing or resolved, as the first offered), up to
    /// [`MAX_ALERTS_PER_PAYLOAD`].
    fn render(&self, notices: &[Notice], fold: Option<u64>) -> Rendered {
        let resolved = notices.first().is_some_and(|n| n.alert.state == AlertState::Resolved);
        let group: Vec<&Notice> = notices
            .iter()
            .take_while(|n| (n.alert.state == AlertState::Resolved) == resolved)
            .take(MAX_ALERTS_PER_PAYLOAD)
            .collect();
        let folded = fold.map_or(0, |others| (notices.len() - group.len()) as u64 + others);
        let status = if resolved { "resolved" } else { "firing" };
        Rendered {
            payload: payload(&self.name, status, &group, self.status_page.as_deref(), folded),
            notices: group.len(),
            folded,
        }
    }

    fn request(&self, payload: &Value, _now: Timestamp) -> Outgoing {
        Outgoing { url: self.url.clone(), body: payload.to_string().into_bytes() }
    }

    fn accepted(&self, status: u16, body: &str) -> Result<(), String> {
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("HTTP {status}: {}", body.chars().take(200).collect::<String>()))
        }
    }
}
