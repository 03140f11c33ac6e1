//! The collector's own counters (pushes, refusals, notifications): counted where they happen,
//! by ingest and by the notifiers, and registered beside the business families of
//! [`crate::metrics`]. A leaf module, so that neither ingest nor the alerts depend on the
//! renderer.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

xunjian_shared::closed_set! {
    /// Why a push was refused: a closed set, safe as a label.
    pub enum RejectReason {
        MalformedBody = "malformed_body",
        TooLarge = "too_large",
        UnsupportedEncoding = "unsupported_encoding",
        UnsupportedSchemaVersion = "unsupported_schema_version",
        AgentMismatch = "agent_mismatch",
        InvalidBatch = "invalid_batch",
        /// The collector could not store the batch now (the cause is in its log).
        Internal = "internal",
        RateLimited = "rate_limited",
        Revoked = "revoked",
        /// More observations in one batch than `[push] max_observations_per_batch`.
        TooManyObservations = "too_many_observations",
        /// A name, text or list over its `[push]` limit.
        FieldTooLong = "field_too_long",
        /// A number no page or probe can produce (negative ages of centuries, day-long probes).
        ValueOutOfRange = "value_out_of_range",
        /// A subject another agent owns.
        SubjectOwned = "subject_owned",
        /// More subjects than `[push] max_subjects_per_agent`.
        TooManySubjects = "too_many_subjects",
        /// A bound agent naming another county.
        CountyMismatch = "county_mismatch",
    }
}

/// The collector's own counters, updated by the push handler and the notifiers.
#[derive(Clone)]
pub struct CollectorCounters {
    batches: Family<[(&'static str, &'static str); 1], Counter>,
    rejected: Family<[(&'static str, &'static str); 1], Counter>,
    observations: Counter,
    clamped: Counter,
    push_seconds: Histogram,
    notifications: Family<[(&'static str, String); 2], Counter>,
    notifications_pending: Family<[(&'static str, String); 1], prometheus_client::metrics::gauge::Gauge>,
    notifications_failed: Family<[(&'static str, String); 1], Counter>,
    notifications_folded: Family<[(&'static str, String); 1], Counter>,
}

impl CollectorCounters {
    pub fn accepted(&self, observations: u32, seconds: f64) {
        self.batches.get_or_create(&[("outcome", "accepted")]).inc();
        self.observations.inc_by(u64::from(observations));
        self.push_seconds.observe(seconds);
    }

    pub fn duplicate(&self, seconds: f64) {
        self.batches.get_or_create(&[("outcome", "duplicate")]).inc();
        self.push_seconds.observe(seconds);
    }

    /// A notification attempt to `notifier`: sent, retried or failed (given up).
    pub fn notification(&self, notifier: &str, outcome: &'static str) {
        self.notifications.get_or_create(&[("notifier", notifier.to_string()), ("outcome", outcome.to_string())]).inc();
    }

    /// Creates a notifier's series at 0.
    pub fn notifier_touch(&self, notifier: &str) {
        for outcome in ["sent", "retried", "failed"] {
            let _ = self
                .notifications
                .get_or_create(&[("notifier", notifier.to_string()), ("outcome", outcome.to_string())]);
        }
        let _ = self.notifications_pending.get_or_create(&[("notifier", notifier.to_string())]);
        let _ = self.notifications_failed.get_or_create(&[("notifier", notifier.to_string())]);
        let _ = self.notifications_folded.get_or_create(&[("notifier", notifier.to_string())]);
    }

    /// Notices waiting for `notifier` (queued and counted in a coming summary line).
    pub fn notifications_pending(&self, notifier: &str, notices: u64) {
        self.notifications_pending.get_or_create(&[("notifier", notifier.to_string())]).set(notices as i64);
    }

    /// Notices whose delivery was given up.
    pub fn notifications_failed(&self, notifier: &str, notices: u64) {
        self.notifications_failed.get_or_create(&[("notifier", notifier.to_string())]).inc_by(notices);
    }

    /// Notices delivered only as part of a summary line.
    pub fn notifications_folded(&self, notifier: &str, notices: u64) {
        self.notifications_folded.get_or_create(&[("notifier", notifier.to_string())]).inc_by(notices);
    }

    /// Observations whose `checked_at` was too far ahead of the collector's clock.
    pub fn clamped(&self, observations: u64) {
        self.clamped.inc_by(observations);
    }

    pub fn rejected(&self, reason: RejectReason) {
        self.batches.get_or_create(&[("outcome", "rejected")]).inc();
        self.rejected.get_or_create(&[("reason", reason.as_str())]).inc();
    }
}

impl Default for CollectorCounters {
    fn default() -> Self {
        CollectorCounters::new()
    }
}

impl CollectorCounters {
    pub fn new() -> Self {
        CollectorCounters {
            batches: Family::default(),
            rejected: Family::default(),
            observations: Counter::default(),
            clamped: Counter::default(),
            push_seconds: Histogram::new([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            notifications: Family::default(),
            notifications_pending: Family::default(),
            notifications_failed: Family::default(),
            notifications_folded: Family::default(),
        }
    }

    /// Registers every counter family in `registry`, each outcome and reason at 0 from the
    /// start so that rates work before the first event.
    pub fn register(&self, registry: &mut Registry) {
        for outcome in ["accepted", "duplicate", "rejected"] {
            let _ = self.batches.get_or_create(&[("outcome", outcome)]);
        }
        for reason in RejectReason::ALL {
            let _ = self.rejected.get_or_create(&[("reason", reason.as_str())]);
        }
        registry.register("xunjian_collector_batches", "Push batches by outcome", self.batches.clone());
        registry.register("xunjian_collector_refused", "Push batches refused, by reason", self.rejected.clone());
        registry.register(
            "xunjian_collector_observations_clamped",
            "Observations dated more than 10 minutes after the collector received them (agent clock ahead), taken at the time of receipt",
            self.clamped.clone(),
        );
        registry.register(
            "xunjian_collector_observations_ingested",
            "Observations committed from pushes",
            self.observations.clone(),
        );
        registry.register(
            "xunjian_collector_push_duration_seconds",
            "Time from receiving a push to answering it",
            self.push_seconds.clone(),
        );
        registry.register(
            "xunjian_collector_notifications",
            "Notification attempts by notifier and outcome (sent, retried, failed)",
            self.notifications.clone(),
        );
        registry.register(
            "xunjian_collector_notifications_pending",
            "Notices waiting in the outbox for each notifier (queued, or to be summed up in the next message)",
            self.notifications_pending.clone(),
        );
        registry.register(
            "xunjian_collector_notifications_failed",
            "Notices whose delivery was given up, by notifier",
            self.notifications_failed.clone(),
        );
        registry.register(
            "xunjian_collector_notifications_folded",
            "Notices delivered only inside a summary line (另有 N 条告警), by notifier",
            self.notifications_folded.clone(),
        );
    }
}
