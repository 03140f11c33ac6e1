//! Every `xunjian_*` metric family, in one place.
//!
//! Business series are rendered at scrape time from the store's projection (never counted in
//! handlers), through a prometheus-client [`Collector`]; the collector's own counters live in
//! the same registry. Labels of business series: `county`, `unit`, `target`, `kind`
//! (`site`|`account`), `platform` ('' for sites), plus `column` where a column applies ('' for
//! a home page) and closed-set labels (`result`, `code`, `severity`). Free text never becomes a
//! label value except names the configuration gives (escaped by the encoder).
//!
//! Served as the Prometheus text format 0.0.4 by default, OpenMetrics when asked.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use xunjian_shared::wire::{FindingCode, Observation, Severity};

use crate::store::{Snapshot, Store, SubjectState};

/// Content types of the two formats.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
pub const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Why a push was refused: a closed set, safe as a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    MalformedBody,
    TooLarge,
    UnsupportedEncoding,
    UnsupportedSchemaVersion,
    AgentMismatch,
    InvalidBatch,
    StoreError,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::MalformedBody => "malformed_body",
            RejectReason::TooLarge => "too_large",
            RejectReason::UnsupportedEncoding => "unsupported_encoding",
            RejectReason::UnsupportedSchemaVersion => "unsupported_schema_version",
            RejectReason::AgentMismatch => "agent_mismatch",
            RejectReason::InvalidBatch => "invalid_batch",
            RejectReason::StoreError => "store_error",
        }
    }
}

/// The collector's own counters, updated by the push handler.
#[derive(Clone)]
pub struct CollectorCounters {
    batches: Family<[(&'static str, &'static str); 1], Counter>,
    rejected: Family<[(&'static str, &'static str); 1], Counter>,
    observations: Counter,
    push_seconds: Histogram,
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

    pub fn rejected(&self, reason: RejectReason) {
        self.batches.get_or_create(&[("outcome", "rejected")]).inc();
        self.rejected.get_or_create(&[("reason", reason.as_str())]).inc();
    }
}

/// The registry served at `/metrics`.
pub struct Metrics {
    registry: Registry,
    pub counters: CollectorCounters,
}

impl Metrics {
    pub fn new(store: Store) -> Self {
        let mut registry = Registry::default();
        let counters = CollectorCounters {
            batches: Family::default(),
            rejected: Family::default(),
            observations: Counter::default(),
            push_seconds: Histogram::new([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
        };
        // Every outcome and reason exists from the start, so rates work before the first event.
        for outcome in ["accepted", "duplicate", "rejected"] {
            let _ = counters.batches.get_or_create(&[("outcome", outcome)]);
        }
        registry.register("xunjian_collector_batches", "Push batches by outcome", counters.batches.clone());
        registry.register(
            "xunjian_collector_batches_rejected",
            "Push batches refused, by reason",
            counters.rejected.clone(),
        );
        registry.register(
            "xunjian_collector_observations_ingested",
            "Observations committed from pushes",
            counters.observations.clone(),
        );
        registry.register(
            "xunjian_collector_push_duration_seconds",
            "Time from receiving a push to answering it",
            counters.push_seconds.clone(),
        );
        registry.register_collector(Box::new(StoreCollector { store: Arc::new(store) }));
        Metrics { registry, counters }
    }

    /// Renders every family; OpenMetrics when `openmetrics`, else the Prometheus text format.
    pub fn render(&self, openmetrics: bool) -> String {
        let mut out = String::with_capacity(1 << 16);
        let result = if openmetrics {
            prometheus_client::encoding::text::encode(&mut out, &self.registry)
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        };
        // Writing into a String cannot fail; an error would be a bug in a label encoder.
        debug_assert!(result.is_ok());
        out
    }
}

/// Whether an `Accept` header asks for OpenMetrics.
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| accept.contains("application/openmetrics-text"))
}

struct StoreCollector {
    store: Arc<Store>,
}

impl std::fmt::Debug for StoreCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreCollector")
    }
}

type Labels<'a> = [(&'static str, &'a str); 5];
type ColumnLabels<'a> = [(&'static str, &'a str); 6];

fn labels<'a>(state: &'a SubjectState) -> Labels<'a> {
    let observation = &state.observation;
    [
        ("county", state.county.as_str()),
        ("unit", observation.unit.as_str()),
        ("target", observation.target.as_str()),
        ("kind", observation.kind.as_str()),
        ("platform", observation.platform.as_deref().unwrap_or("")),
    ]
}

fn column_labels<'a>(state: &'a SubjectState) -> ColumnLabels<'a> {
    let [county, unit, target, kind, platform] = labels(state);
    [county, unit, target, kind, platform, ("column", state.observation.column.as_deref().unwrap_or(""))]
}

/// One family: its descriptor, then one sample per subject that has a value.
fn family<'s, L: EncodeLabelSet, V>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    metric_type: MetricType,
    subjects: impl Iterator<Item = &'s SubjectState>,
    labels: impl Fn(&'s SubjectState) -> L,
    value: impl Fn(&Observation) -> Option<V>,
) -> Result<(), std::fmt::Error>
where
    ConstGauge<V>: EncodeMetric,
    V: 's,
{
    let mut metric = encoder.encode_descriptor(name, help, None, metric_type)?;
    for state in subjects {
        if let Some(v) = value(&state.observation) {
            let label_set = labels(state);
            ConstGauge::new(v).encode(metric.encode_family(&label_set)?)?;
        }
    }
    Ok(())
}

impl Collector for StoreCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snapshot = self.store.snapshot();
        let snapshot: &Snapshot = &snapshot;
        let homes = || snapshot.subjects.values().filter(|s| s.observation.column.is_none());
        let all = || snapshot.subjects.values();
        let gauge = MetricType::Gauge;

        family(
            &mut encoder,
            "xunjian_up",
            "1 when the last availability probe opened the page, 0 when it failed",
            gauge,
            homes(),
            labels,
            |o| {
                o.fetch
                    .as_ref()
                    .filter(|_| o.checks.contains(&xunjian_shared::wire::CheckKind::Availability))
                    .map(|f| i64::from(f.failure.is_none() && f.status.is_some_and(|s| s < 400)))
            },
        )?;
        family(
            &mut encoder,
            "xunjian_probe_duration_seconds",
            "Time the last probe took to open the page",
            gauge,
            homes(),
            labels,
            |o| o.fetch.as_ref().map(|f| f.duration_ms as f64 / 1000.0),
        )?;
        {
            let mut metric = encoder.encode_descriptor(
                "xunjian_probes",
                "Availability probes by result",
                None,
                MetricType::Counter,
            )?;
            for state in homes().filter(|s| s.probes_ok + s.probes_failed > 0) {
                let [county, unit, target, kind, platform] = labels(state);
                for (result, count) in [("success", state.probes_ok), ("failure", state.probes_failed)] {
                    let label_set = [county, unit, target, kind, platform, ("result", result)];
                    ConstCounter::new(count).encode(metric.encode_family(&label_set)?)?;
                }
            }
        }
        family(
            &mut encoder,
            "xunjian_http_status_code",
            "HTTP status of the last response",
            gauge,
            all(),
            column_labels,
            |o| o.fetch.as_ref().and_then(|f| f.status).map(i64::from),
        )?;
        family(
            &mut encoder,
            "xunjian_tls_cert_not_after_timestamp_seconds",
            "Not-after of the site's TLS certificate",
            gauge,
            homes(),
            labels,
            |o| o.fetch.as_ref().and_then(|f| f.tls_not_after).map(|t| t.as_second()),
        )?;
        family(
            &mut encoder,
            "xunjian_last_update_timestamp_seconds",
            "Newest publication date found (start of day, China time, when the page gave no time)",
            gauge,
            all(),
            column_labels,
            |o| o.last_update.map(|p| p.timestamp().as_second()),
        )?;
        family(
            &mut encoder,
            "xunjian_column_items",
            "Dated items found on the page",
            gauge,
            all(),
            column_labels,
            |o| o.items.map(i64::from),
        )?;
        family(
            &mut encoder,
            "xunjian_stale",
            "1 when the page is not updated within its limit",
            gauge,
            all(),
            column_labels,
            |o| {
                o.items.map(|_| {
                    i64::from(
                        o.findings
                            .iter()
                            .any(|f| matches!(f.code, FindingCode::HomeNotUpdated | FindingCode::ColumnNotUpdated)),
                    )
                })
            },
        )?;
        {
            let mut metric = encoder.encode_descriptor(
                "xunjian_findings",
                "1 for each finding of the last observation, by code and severity",
                None,
                gauge,
            )?;
            for state in all() {
                let [county, unit, target, kind, platform, column] = column_labels(state);
                for finding in &state.observation.findings {
                    let label_set = [
                        county,
                        unit,
                        target,
                        kind,
                        platform,
                        column,
                        ("code", finding.code.as_str()),
                        ("severity", severity_label(finding.severity)),
                    ];
                    ConstGauge::new(1i64).encode(metric.encode_family(&label_set)?)?;
                }
            }
        }
        {
            let mut metric = encoder.encode_descriptor(
                "xunjian_agent_last_push_timestamp_seconds",
                "When each agent's last batch was committed",
                None,
                gauge,
            )?;
            for (agent, state) in &snapshot.agents {
                let label_set = [("agent", agent.as_str()), ("county", state.county.as_str())];
                ConstGauge::new(state.last_push_at.as_second()).encode(metric.encode_family(&label_set)?)?;
            }
        }
        Ok(())
    }
}

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Warning => "warning",
        Severity::Error => "error",
        Severity::Veto => "veto",
    }
}
