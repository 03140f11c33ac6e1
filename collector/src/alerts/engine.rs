//! Alert states: pending → firing → resolved, like Prometheus' rule manager, and which of them
//! to notify (a new firing alert once, again every repeat interval, and its resolution). Pure;
//! [`super::run`] evaluates, persists and dispatches.

use std::collections::BTreeMap;
use std::time::Duration;
use xunjian_shared::config::AlertSeverity;
use xunjian_shared::wire::api::AlertView;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::rules::Instance;
use crate::registry::Registry;

/// Resolved alerts stay visible in the API this long.
pub const KEEP_RESOLVED: Duration = Duration::from_secs(24 * 3600);

pub use xunjian_shared::wire::api::AlertState;

/// One alert and everything needed to notify about it, as stored and served.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub fingerprint: String,
    pub alertname: String,
    pub title: String,
    pub severity: AlertSeverity,
    pub labels: BTreeMap<String, String>,
    /// What is wrong, in the collector's own words (what notifications say).
    pub description: String,
    /// What the agents reported, site text included: for the status page and the API, never
    /// for robot messages.
    #[serde(default)]
    pub detail: String,
    pub state: AlertState,
    /// Since when it holds (from the data where known, else first evaluation that found it).
    pub active_at: Timestamp,
    pub for_seconds: u64,
    pub fired_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    /// When the last firing notice went into the outbox (with this state, in one transaction);
    /// None: not yet. Each receiver's delivery is the outbox's (`/api/v1/notifications`).
    pub notified_at: Option<Timestamp>,
    /// Whether the resolution was notified.
    pub resolved_notified: bool,
    /// The silence in force, if any.
    pub silenced_by: Option<i64>,
}

impl Alert {
    /// The alert as `/api/v1/alerts` serves it.
    pub fn view(&self) -> AlertView {
        AlertView {
            fingerprint: self.fingerprint.clone(),
            alertname: self.alertname.clone(),
            title: self.title.clone(),
            severity: self.severity,
            labels: self.labels.clone(),
            description: self.description.clone(),
            detail: self.detail.clone(),
            state: self.state,
            active_at: self.active_at,
            for_seconds: self.for_seconds,
            fired_at: self.fired_at,
            resolved_at: self.resolved_at,
            notified_at: self.notified_at,
            resolved_notified: self.resolved_notified,
            silenced_by: self.silenced_by,
        }
    }
}

/// A notice to send: an alert as it is now, firing or resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub alert: Alert,
    /// A reminder of an alert notified before.
    pub repeat: bool,
}

/// What one evaluation changed: notices to send, alerts to write and to delete.
#[derive(Debug, Default)]
pub struct Step {
    pub notices: Vec<Notice>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// Moves every alert one evaluation on, given what the rules found; returns what to notify
/// and which alerts changed (so only those are written).
pub fn step(
    alerts: &mut BTreeMap<String, Alert>,
    found: Vec<Instance>,
    registry: &Registry,
    now: Timestamp,
    repeat_interval: Duration,
) -> Step {
    let mut changed = std::collections::BTreeSet::new();
    let mut seen = std::collections::HashSet::new();
    for instance in found {
        seen.insert(instance.fingerprint.clone());
        let elapsed = |since: Timestamp| Duration::from_secs((now.as_second() - since.as_second()).max(0) as u64);
        match alerts.get_mut(&instance.fingerprint) {
            Some(alert) if alert.state != AlertState::Resolved => {
                let severity = instance.severity;
                let for_seconds = instance.for_duration.as_secs();
                if alert.labels != instance.labels
                    || alert.severity != severity
                    || alert.description != instance.description
                    || alert.detail != instance.detail
                    || alert.for_seconds != for_seconds
                {
                    alert.labels = instance.labels;
                    alert.severity = severity;
                    alert.description = instance.description;
                    alert.detail = instance.detail;
                    alert.for_seconds = for_seconds;
                    changed.insert(instance.fingerprint.clone());
                }
                if alert.state == AlertState::Pending && elapsed(alert.active_at) >= instance.for_duration {
                    alert.state = AlertState::Firing;
                    alert.fired_at = Some(now);
                    changed.insert(instance.fingerprint.clone());
                }
            }
            _ => {
                let active_at = instance.since.map_or(now, |since| since.min(now));
                let firing = elapsed(active_at) >= instance.for_duration;
                let alert = Alert {
                    fingerprint: instance.fingerprint.clone(),
                    alertname: instance.alertname,
                    title: instance.title,
                    severity: instance.severity,
                    labels: instance.labels,
                    description: instance.description,
                    detail: instance.detail,
                    state: if firing { AlertState::Firing } else { AlertState::Pending },
                    active_at,
                    for_seconds: instance.for_duration.as_secs(),
                    fired_at: firing.then_some(now),
                    resolved_at: None,
                    notified_at: None,
                    resolved_notified: false,
                    silenced_by: None,
                };
                changed.insert(instance.fingerprint.clone());
                alerts.insert(instance.fingerprint, alert);
            }
        }
    }
    let keep_resolved = jiff::SignedDuration::try_from(KEEP_RESOLVED).unwrap_or_default();
    let mut removed = Vec::new();
    alerts.retain(|fingerprint, alert| {
        let keep = match alert.state {
            AlertState::Pending => seen.contains(fingerprint),
            AlertState::Firing => true,
            AlertState::Resolved => alert.resolved_at.is_none_or(|at| now.duration_since(at) < keep_resolved),
        };
        if !keep {
            removed.push(fingerprint.clone());
        }
        keep
    });
    let mut notices = Vec::new();
    for (fingerprint, alert) in alerts.iter_mut() {
        let silenced_by = registry.silenced_by(&alert.labels, now).map(|s| s.id);
        if alert.silenced_by != silenced_by {
            alert.silenced_by = silenced_by;
            changed.insert(fingerprint.clone());
        }
        match alert.state {
            AlertState::Firing if !seen.contains(fingerprint) => {
                alert.state = AlertState::Resolved;
                alert.resolved_at = Some(now);
                changed.insert(fingerprint.clone());
                if alert.notified_at.is_some() {
                    alert.resolved_notified = true;
                    notices.push(Notice { alert: alert.clone(), repeat: false });
                }
            }
            AlertState::Firing if alert.silenced_by.is_none() => {
                let due = match alert.notified_at {
                    None => Some(false),
                    Some(at)
                        if now.duration_since(at)
                            >= jiff::SignedDuration::try_from(repeat_interval).unwrap_or_default() =>
                    {
                        Some(true)
                    }
                    Some(_) => None,
                };
                if let Some(repeat) = due {
                    alert.notified_at = Some(now);
                    changed.insert(fingerprint.clone());
                    notices.push(Notice { alert: alert.clone(), repeat });
                }
            }
            _ => {}
        }
    }
    Step { notices, changed: changed.into_iter().collect(), removed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xunjian_shared::config::AlertSeverity;

    fn instance(target: &str, for_secs: u64) -> Instance {
        let mut labels = BTreeMap::new();
        labels.insert("alertname".to_string(), "XunjianSiteDown".to_string());
        labels.insert("target".to_string(), target.to_string());
        labels.insert("severity".to_string(), "critical".to_string());
        Instance {
            fingerprint: format!("fp-{target}"),
            alertname: "XunjianSiteDown".into(),
            title: "网站无法访问".into(),
            severity: AlertSeverity::Critical,
            labels,
            description: "连续 3 次探测失败".into(),
            detail: String::new(),
            since: None,
            for_duration: Duration::from_secs(for_secs),
        }
    }

    /// One step; its notices.
    fn run(
        alerts: &mut BTreeMap<String, Alert>,
        found: Vec<Instance>,
        registry: &Registry,
        now: Timestamp,
        repeat: Duration,
    ) -> Vec<Notice> {
        step(alerts, found, registry, now, repeat).notices
    }

    #[test]
    fn only_changed_alerts_are_written() {
        let mut alerts = BTreeMap::new();
        let registry = Registry::default();
        let hour = Duration::from_secs(3600);
        let first = step(&mut alerts, vec![instance("甲", 0)], &registry, at(0), hour);
        assert_eq!((first.changed.len(), first.notices.len()), (1, 1));
        let same = step(&mut alerts, vec![instance("甲", 0)], &registry, at(15), hour);
        assert!(same.changed.is_empty() && same.notices.is_empty() && same.removed.is_empty());
        let gone = step(&mut alerts, Vec::new(), &registry, at(30), hour);
        assert_eq!(gone.changed, ["fp-甲"]);
        let later = step(&mut alerts, Vec::new(), &registry, at(30 + 86_400), hour);
        assert_eq!(later.removed, ["fp-甲"]);
    }

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + second).unwrap()
    }

    #[test]
    fn pending_firing_repeat_resolved_and_silences() {
        let mut alerts = BTreeMap::new();
        let registry = Registry::default();
        let hour = Duration::from_secs(3600);
        // Pending for its `for`, then firing once, not again until the repeat interval.
        assert!(run(&mut alerts, vec![instance("甲", 60)], &registry, at(0), hour).is_empty());
        assert_eq!(alerts["fp-甲"].state, AlertState::Pending);
        let notices = run(&mut alerts, vec![instance("甲", 60)], &registry, at(60), hour);
        assert_eq!((notices.len(), notices[0].repeat), (1, false));
        assert_eq!(alerts["fp-甲"].state, AlertState::Firing);
        assert!(run(&mut alerts, vec![instance("甲", 60)], &registry, at(120), hour).is_empty(), "no duplicate");
        let notices = run(&mut alerts, vec![instance("甲", 60)], &registry, at(60 + 3600), hour);
        assert!(notices.len() == 1 && notices[0].repeat, "a reminder after the repeat interval");
        // Gone: resolved, notified once.
        let notices = run(&mut alerts, Vec::new(), &registry, at(4000), hour);
        assert_eq!((notices.len(), notices[0].alert.state), (1, AlertState::Resolved));
        assert!(run(&mut alerts, Vec::new(), &registry, at(4015), hour).is_empty());
        // A pending alert that goes away leaves nothing and notifies nothing.
        run(&mut alerts, vec![instance("乙", 600)], &registry, at(5000), hour);
        assert!(run(&mut alerts, Vec::new(), &registry, at(5015), hour).is_empty());
        assert!(!alerts.contains_key("fp-乙"));
        // A silence holds notices back while it lasts; the alert still fires and shows it.
        let mut silenced = Registry::default();
        silenced.silences.push(crate::registry::Silence {
            id: 7,
            matchers: vec![crate::registry::Matcher::parse("target=丙").unwrap()],
            starts_at: at(0),
            ends_at: at(7000),
            reason: "迁移".into(),
            author: "王".into(),
            created_at: at(0),
            expired_at: None,
            expired_by: None,
        });
        assert!(run(&mut alerts, vec![instance("丙", 0)], &silenced, at(6000), hour).is_empty());
        assert_eq!((alerts["fp-丙"].state, alerts["fp-丙"].silenced_by), (AlertState::Firing, Some(7)));
        let notices = run(&mut alerts, vec![instance("丙", 0)], &silenced, at(7000), hour);
        assert_eq!(notices.len(), 1, "notified when the silence ends");
        // Resolved ones are kept a day for the API, then dropped.
        run(&mut alerts, Vec::new(), &registry, at(7015), hour);
        assert!(alerts.contains_key("fp-丙"));
        run(&mut alerts, Vec::new(), &registry, at(7015 + 86_400), hour);
        assert!(!alerts.contains_key("fp-丙"));
    }
}
