//! Every `xunjian_*` metric family, in one place.
//!
//! Business series are rendered at scrape time from the store's projection (never counted in
//! handlers), through a prometheus-client [`Collector`]; the collector's own counters live in
//! the same registry. Labels of business series: `county`, `unit`, `target`, `kind`
//! (`site`|`account`), `platform` ('' for sites), plus `column` where a column applies ('' for
//! a home page) and closed-set labels (`result`, `code`, `severity`). Interaction channels (留言板,
//! 信箱) have their own families labelled `channel` instead of `column`. Free text never becomes a
//! label value except names the configuration and the registry give (escaped by the encoder).
//!
//! Findings under an active exemption are left out of every family; the registry's findings
//! (`not_filed`, `closed_but_live`) are added to the home page's or account's findings.
//!
//! Served as the Prometheus text format 0.0.4 by default, OpenMetrics when asked.

use std::sync::Arc;

use jiff::Timestamp;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use xunjian_shared::time::china_today;
use xunjian_shared::wire::{Finding, FindingCode, Severity};

use crate::alerts::{AlertBoard, AlertState};
use crate::counters::CollectorCounters;
use crate::registry::FilingStatus;
use crate::store::Store;
use crate::view::{Page, PageLabels, Role, View};

/// Content types of the two formats.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
pub const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The registry served at `/metrics`.
pub struct Metrics {
    registry: Registry,
    pub counters: CollectorCounters,
}

impl Metrics {
    pub fn new(store: Store, alerts: AlertBoard) -> Self {
        let mut registry = Registry::default();
        let counters = CollectorCounters::new();
        counters.register(&mut registry);
        registry.register_collector(Box::new(StoreCollector { store: Arc::new(store) }));
        registry.register_collector(Box::new(TaskCollector { tasks: alerts.tasks.clone() }));
        registry.register_collector(Box::new(AlertCollector { alerts }));
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

/// One family: its descriptor, then one sample per subject that has a value.
fn family<'p, 'v: 'p, L: EncodeLabelSet, V>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    metric_type: MetricType,
    pages: impl Iterator<Item = &'p Page<'v>>,
    labels: impl Fn(&'p Page<'v>) -> L,
    value: impl Fn(&'p Page<'v>) -> Option<V>,
) -> Result<(), std::fmt::Error>
where
    ConstGauge<V>: EncodeMetric,
{
    let mut metric = encoder.encode_descriptor(name, help, None, metric_type)?;
    for page in pages {
        if let Some(v) = value(page) {
            let label_set = labels(page);
            ConstGauge::new(v).encode(metric.encode_family(&label_set)?)?;
        }
    }
    Ok(())
}

impl Collector for StoreCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let registry = self.store.registry().clone();
        let snapshot = self.store.snapshot();
        let view = View::of(&snapshot, &registry, china_today(Timestamp::now()));
        let all: Vec<Page<'_>> = view.pages().collect();
        let homes = || all.iter().filter(|p| matches!(p.role, Role::Home | Role::Account));
        let pages = || all.iter().filter(|p| p.role != Role::Channel);
        let channels = || all.iter().filter(|p| p.role == Role::Channel);
        let accounts = || all.iter().filter(|p| p.role == Role::Account);
        let gauge = MetricType::Gauge;

        family(
            &mut encoder,
            "xunjian_up",
            "1 when the last availability probe opened the page, 0 when it failed",
            gauge,
            homes(),
            |page: &Page<'_>| page.labels.target_set(),
            |page| {
                let o = page.observation();
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
            |page: &Page<'_>| page.labels.target_set(),
            |page| page.observation().fetch.as_ref().map(|f| f.duration_ms as f64 / 1000.0),
        )?;
        {
            let mut metric = encoder.encode_descriptor(
                "xunjian_probes",
                "Availability probes by result",
                None,
                MetricType::Counter,
            )?;
            for page in homes().filter(|p| p.state.probes_ok + p.state.probes_failed > 0) {
                let [county, unit, target, kind, platform] = page.labels.target_set();
                for (result, count) in [("success", page.state.probes_ok), ("failure", page.state.probes_failed)] {
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
            pages(),
            |page: &Page<'_>| page.labels.column_set(),
            |page| page.observation().fetch.as_ref().and_then(|f| f.status).map(i64::from),
        )?;
        family(
            &mut encoder,
            "xunjian_tls_cert_not_after_timestamp_seconds",
            "Not-after of the site's TLS certificate",
            gauge,
            homes(),
            |page: &Page<'_>| page.labels.target_set(),
            |page| page.observation().fetch.as_ref().and_then(|f| f.tls_not_after).map(|t| t.as_second()),
        )?;
        family(
            &mut encoder,
            "xunjian_last_update_timestamp_seconds",
            "Newest publication date found (start of day, China time, when the page gave no time)",
            gauge,
            pages(),
            |page: &Page<'_>| page.labels.column_set(),
            |page| page.observation().last_update().map(|p| p.timestamp().as_second()),
        )?;
        family(
            &mut encoder,
            "xunjian_column_items",
            "Dated items found on the page (posts, for accounts)",
            gauge,
            pages(),
            |page: &Page<'_>| page.labels.column_set(),
            |page| page.observation().items().map(i64::from),
        )?;
        family(
            &mut encoder,
            "xunjian_stale",
            "1 when the page or account is not updated within its limit",
            gauge,
            pages(),
            |page: &Page<'_>| page.labels.column_set(),
            |page| {
                page.observation().items().map(|_| {
                    i64::from(FindingCode::ALL.iter().any(|code| code.means_not_updated() && page.counts(*code)))
                })
            },
        )?;
        family(
            &mut encoder,
            "xunjian_dead_links",
            "Links of the home page that did not open at the last audit",
            gauge,
            homes(),
            |page: &Page<'_>| page.labels.target_set(),
            |page| page.observation().dead_links().map(|links| links.len() as i64),
        )?;
        family(
            &mut encoder,
            "xunjian_wording_errors",
            "Serious wording errors found on the home page and its newest items at the last audit",
            gauge,
            homes(),
            |page: &Page<'_>| page.labels.target_set(),
            |page| page.observation().wording_errors().map(|errors| errors.len() as i64),
        )?;
        family(
            &mut encoder,
            "xunjian_interaction_up",
            "1 when the interaction channel (message board, mailbox) opened and its messages could be read",
            gauge,
            channels(),
            |page: &Page<'_>| page.labels.channel_set(),
            |page| {
                let o = page.observation();
                o.fetch.as_ref().map(|f| {
                    i64::from(
                        f.failure.is_none()
                            && f.status.is_some_and(|s| s < 400)
                            && !o.findings.iter().any(|f| f.code == FindingCode::InteractionUnreachable),
                    )
                })
            },
        )?;
        family(
            &mut encoder,
            "xunjian_interaction_messages",
            "Published messages read from the channel",
            gauge,
            channels(),
            |page: &Page<'_>| page.labels.channel_set(),
            |page| page.observation().replies().messages.map(i64::from),
        )?;
        family(
            &mut encoder,
            "xunjian_interaction_overdue",
            "Messages answered later than the limit in working days",
            gauge,
            channels(),
            |page: &Page<'_>| page.labels.channel_set(),
            |page| page.observation().replies().overdue.map(i64::from),
        )?;
        family(
            &mut encoder,
            "xunjian_interaction_unanswered",
            "Published messages without a reply",
            gauge,
            channels(),
            |page: &Page<'_>| page.labels.channel_set(),
            |page| page.observation().replies().unanswered.map(i64::from),
        )?;
        family(
            &mut encoder,
            "xunjian_interaction_max_reply_workdays",
            "Longest reply latency among the channel's messages, in working days",
            gauge,
            channels(),
            |page: &Page<'_>| page.labels.channel_set(),
            |page| page.observation().replies().max_reply_working_days,
        )?;
        family(
            &mut encoder,
            "xunjian_hidden_links",
            "Links to other sites a visitor cannot see (暗链) on the home page or column page",
            gauge,
            pages(),
            |page: &Page<'_>| page.labels.column_set(),
            |page| page.observation().hidden_links().map(|links| links.len() as i64),
        )?;
        family(
            &mut encoder,
            "xunjian_sensitive_terms",
            "Gambling, pornography or fraud terms found where an honest home page carries none (title, keywords, description, off-site links, text)",
            gauge,
            pages(),
            |page: &Page<'_>| page.labels.column_set(),
            |page| page.observation().sensitive_terms().map(|terms| terms.len() as i64),
        )?;
        family(
            &mut encoder,
            "xunjian_insecure_resources",
            "Scripts, style sheets and frames an HTTPS home page loads over plain HTTP (mixed content)",
            gauge,
            pages(),
            |page: &Page<'_>| page.labels.column_set(),
            |page| {
                let audit = page.observation().audit.as_ref();
                audit.and_then(|audit| audit.insecure_resources.as_ref()).map(|found| found.len() as i64)
            },
        )?;
        family(
            &mut encoder,
            "xunjian_ipv6_reachable",
            "1 when the site's name has an IPv6 address (AAAA) that accepts a connection, 0 when not",
            gauge,
            pages(),
            |page: &Page<'_>| page.labels.column_set(),
            |page| page.observation().ipv6().map(|status| i64::from(status.reachable)),
        )?;
        family(
            &mut encoder,
            "xunjian_guides_checked",
            "Service guides (办事指南) of the guide list or page read within the last day",
            gauge,
            pages(),
            |page: &Page<'_>| page.labels.column_set(),
            |page| page.observation().guides().map(|guides| i64::from(guides.checked)),
        )?;
        family(
            &mut encoder,
            "xunjian_guides_incomplete",
            "Service guides missing at least one of the indicator's elements",
            gauge,
            pages(),
            |page: &Page<'_>| page.labels.column_set(),
            |page| page.observation().guides().map(|guides| i64::from(guides.incomplete)),
        )?;
        family(
            &mut encoder,
            "xunjian_policies",
            "Policy documents of the window that need an interpretation (政策解读)",
            gauge,
            pages(),
            |page: &Page<'_>| page.labels.column_set(),
            |page| page.observation().interpretations().map(|summary| i64::from(summary.policies)),
        )?;
        family(
            &mut encoder,
            "xunjian_policies_not_interpreted",
            "Policy documents without an interpretation past the limit in working days",
            gauge,
            pages(),
            |page: &Page<'_>| page.labels.column_set(),
            |page| page.observation().interpretations().map(|summary| i64::from(summary.missing)),
        )?;
        family(
            &mut encoder,
            "xunjian_interpretations_late",
            "Policy documents interpreted later than the limit in working days",
            gauge,
            pages(),
            |page: &Page<'_>| page.labels.column_set(),
            |page| page.observation().interpretations().map(|summary| i64::from(summary.late)),
        )?;
        family(
            &mut encoder,
            "xunjian_interpretation_delay_workdays",
            "Longest delay from a policy document to its interpretation, in working days",
            gauge,
            pages(),
            |page: &Page<'_>| page.labels.column_set(),
            |page| page.observation().interpretations().and_then(|summary| summary.max_delay_working_days),
        )?;
        family(
            &mut encoder,
            "xunjian_account_interaction_open",
            "1 when the account's comments or messages are open, 0 when closed (where the source tells)",
            gauge,
            accounts(),
            |page: &Page<'_>| page.labels.target_set(),
            |page| page.observation().comments_open().map(i64::from),
        )?;
        {
            let mut registered = encoder.encode_descriptor(
                "xunjian_account_registered",
                "1 when the observed site or account is in the registry (备案), 0 when not filed (漏报)",
                None,
                gauge,
            )?;
            for page in homes() {
                let Some(standing) = page.standing else { continue };
                ConstGauge::new(i64::from(standing.filing.is_some()))
                    .encode(registered.encode_family(&page.labels.target_set())?)?;
            }
        }
        {
            let mut closed = encoder.encode_descriptor(
                "xunjian_account_closed_but_live",
                "1 when the site or account is filed as closed (or closing) but still live",
                None,
                gauge,
            )?;
            for page in homes() {
                let Some(standing) = page.standing else { continue };
                let value = standing.findings.iter().any(|f| f.code == FindingCode::ClosedButLive);
                ConstGauge::new(i64::from(value)).encode(closed.encode_family(&page.labels.target_set())?)?;
            }
        }
        let judgement = crate::judge::judge(&view);
        {
            let mut verdicts = encoder.encode_descriptor(
                "xunjian_verdict",
                "1 when the site or account is 合格, 0 when 不合格 (a veto rule applies; see xunjian_verdict_reasons)",
                None,
                gauge,
            )?;
            for verdict in &judgement.verdicts {
                ConstGauge::new(i64::from(verdict.pass()))
                    .encode(verdicts.encode_family(&verdict.labels.target_set())?)?;
            }
        }
        {
            let mut reasons = encoder.encode_descriptor(
                "xunjian_verdict_reasons",
                "Why a site or account is 不合格: how many times each reason applies",
                None,
                gauge,
            )?;
            for verdict in &judgement.verdicts {
                let mut counted: Vec<(&'static str, i64)> = Vec::new();
                for reason in &verdict.reasons {
                    match counted.iter_mut().find(|(code, _)| *code == reason.code.as_str()) {
                        Some((_, count)) => *count += 1,
                        None => counted.push((reason.code.as_str(), 1)),
                    }
                }
                let [county, unit, target, kind, platform] = verdict.labels.target_set();
                for (reason, count) in counted {
                    let label_set = [county, unit, target, kind, platform, ("reason", reason)];
                    ConstGauge::new(count).encode(reasons.encode_family(&label_set)?)?;
                }
            }
        }
        {
            let mut ratios = encoder.encode_descriptor(
                "xunjian_pass_ratio",
                "Share of a county's sites or accounts that are 合格 (county=\"全市\": the whole city)",
                None,
                gauge,
            )?;
            for ratio in &judgement.ratios {
                let label_set = [("county", ratio.county.as_str()), ("kind", ratio.kind.as_str())];
                ConstGauge::new(ratio.ratio()).encode(ratios.encode_family(&label_set)?)?;
            }
        }
        {
            let mut open = encoder.encode_descriptor(
                "xunjian_problems_open",
                "Open problems of the ledger (问题台账) by county, code and severity (exempted ones left out)",
                None,
                gauge,
            )?;
            let mut counts: std::collections::BTreeMap<(&str, &str, &str), i64> = std::collections::BTreeMap::new();
            // Pages' problems from the ledger; the registry's as the registry finds them now (the
            // ledger takes those in at checkpoints), so a restart changes nothing here.
            let open_rows = snapshot
                .ledger
                .rows()
                .values()
                .filter(|row| row.status == crate::ledger::Status::Open && !row.place.agent.is_empty());
            for row in open_rows.filter(|row| {
                registry.exempts_code(&row.place.target, row.place.scope(), row.code, view.today).is_none()
            }) {
                *counts.entry((&row.place.county, row.code.as_str(), row.severity.as_str())).or_default() += 1;
            }
            for standing in view.assessment.standing.values() {
                for finding in &standing.findings {
                    *counts.entry((&standing.county, finding.code.as_str(), finding.severity.as_str())).or_default() +=
                        1;
                }
            }
            for filing in view.unmonitored() {
                let code = xunjian_shared::wire::FindingCode::Unmonitored.as_str();
                *counts.entry((&filing.county, code, Severity::Error.as_str())).or_default() += 1;
            }
            // What the registry finds of no observed one: a county's missing account, an account
            // a site points to.
            let unobserved = view.assessment.counties_without_account.iter().map(|(county, _, f)| (county, f));
            let discovered = view.assessment.discovered.iter().map(|d| (&d.county, &d.finding));
            for (county, finding) in unobserved.chain(discovered) {
                *counts.entry((county, finding.code.as_str(), finding.severity.as_str())).or_default() += 1;
            }
            for ((county, code, severity), count) in counts {
                let label_set = [("county", county), ("code", code), ("severity", severity)];
                ConstGauge::new(count).encode(open.encode_family(&label_set)?)?;
            }
        }
        {
            let mut filings = encoder.encode_descriptor(
                "xunjian_registry_filings",
                "Filings in the registry by status",
                None,
                gauge,
            )?;
            for status in [FilingStatus::Running, FilingStatus::Closing, FilingStatus::Closed] {
                let count = registry.filings.iter().filter(|f| f.status == status).count() as i64;
                ConstGauge::new(count).encode(filings.encode_family(&[("status", status.metric_label())])?)?;
            }
        }
        {
            let mut unmonitored = encoder.encode_descriptor(
                "xunjian_registry_unmonitored",
                "1 for each filed, running site or account that no agent inspects",
                None,
                gauge,
            )?;
            for filing in view.unmonitored() {
                let label_set = PageLabels::of_filing(filing).target_set();
                ConstGauge::new(1i64).encode(unmonitored.encode_family(&label_set)?)?;
            }
        }
        {
            let mut without = encoder.encode_descriptor(
                "xunjian_county_without_account",
                "1 for each county whose government has no live account on a platform [registry] required_platforms names",
                None,
                gauge,
            )?;
            for (county, platform, _) in &view.assessment.counties_without_account {
                let label_set = [("county", county.as_str()), ("platform", platform.as_str())];
                ConstGauge::new(1i64).encode(without.encode_family(&label_set)?)?;
            }
        }
        {
            let mut discovered = encoder.encode_descriptor(
                "xunjian_account_discovered",
                "1 for each account a site points to that matches no filing and no inspected account (a candidate for the registry)",
                None,
                gauge,
            )?;
            for found in &view.assessment.discovered {
                let label_set = [
                    ("county", found.county.as_str()),
                    ("target", found.name.as_str()),
                    ("platform", found.channel.metric_label()),
                ];
                ConstGauge::new(1i64).encode(discovered.encode_family(&label_set)?)?;
            }
        }
        {
            let mut metric = encoder.encode_descriptor(
                "xunjian_findings",
                "1 for each finding of the last observation (and of the registry), by code and severity; exempted ones left out",
                None,
                gauge,
            )?;
            for page in &all {
                let findings = page.findings.iter().copied().chain(page.registry_findings());
                // One series per code and severity: two findings of one kind (or an agent
                // sending a code the registry also finds) must not make two equal label sets.
                let mut seen: Vec<(FindingCode, Severity)> = Vec::new();
                for finding in findings {
                    if seen.contains(&(finding.code, finding.severity)) {
                        continue;
                    }
                    seen.push((finding.code, finding.severity));
                    encode_finding(&mut metric, page, finding)?;
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
            for (agent, state) in view.agents() {
                let label_set = [("agent", agent.as_str()), ("county", state.county.as_str())];
                ConstGauge::new(state.last_push_at.as_second()).encode(metric.encode_family(&label_set)?)?;
            }
        }
        {
            let mut metric = encoder.encode_descriptor(
                "xunjian_agent_cert_not_after_timestamp_seconds",
                "When the client certificate of each agent's last push expires",
                None,
                gauge,
            )?;
            for (agent, state) in view.agents() {
                if let Some(not_after) = state.certificate_not_after {
                    ConstGauge::new(not_after.as_second())
                        .encode(metric.encode_family(&[("agent", agent.as_str())])?)?;
                }
            }
        }
        Ok(())
    }
}

fn encode_finding(
    metric: &mut prometheus_client::encoding::MetricEncoder<'_>,
    page: &Page<'_>,
    finding: &Finding,
) -> Result<(), std::fmt::Error> {
    let code = ("code", finding.code.as_str());
    let severity = ("severity", finding.severity.as_str());
    if page.role == Role::Channel {
        let [county, unit, target, kind, platform, channel] = page.labels.channel_set();
        let label_set = [county, unit, target, kind, platform, ("column", ""), channel, code, severity];
        ConstGauge::new(1i64).encode(metric.encode_family(&label_set)?)
    } else {
        let [county, unit, target, kind, platform, column] = page.labels.column_set();
        let label_set = [county, unit, target, kind, platform, column, code, severity];
        ConstGauge::new(1i64).encode(metric.encode_family(&label_set)?)
    }
}

/// `xunjian_rectification_tasks{county,state}` (every task ever made) and
/// `xunjian_rectification_overdue{county}` (tasks past their deadline without an answer), as of
/// the last re-check.
#[derive(Debug)]
struct TaskCollector {
    tasks: crate::tasks::TaskBoard,
}

impl Collector for TaskCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let board = self.tasks.current();
        let mut metric = encoder.encode_descriptor(
            "xunjian_rectification_tasks",
            "整改 tasks by county and state (pending, answered, verified, not_fixed)",
            None,
            MetricType::Gauge,
        )?;
        for (county, state, count) in &board.counts {
            ConstGauge::new(*count as i64)
                .encode(metric.encode_family(&[("county", county.as_str()), ("state", state.as_str())])?)?;
        }
        let today = xunjian_shared::time::china_today(jiff::Timestamp::now());
        let mut overdue: std::collections::BTreeMap<&str, i64> =
            board.counts.iter().map(|(county, _, _)| (county.as_str(), 0)).collect();
        for task in board.tasks.iter().filter(|task| task.overdue(today)) {
            *overdue.entry(task.county.as_str()).or_default() += 1;
        }
        let mut metric = encoder.encode_descriptor(
            "xunjian_rectification_overdue",
            "整改 tasks past their deadline without an answer, by county",
            None,
            MetricType::Gauge,
        )?;
        for (county, count) in overdue {
            ConstGauge::new(count).encode(metric.encode_family(&[("county", county)])?)?;
        }
        Ok(())
    }
}

/// `xunjian_alerts_firing{alertname,severity}`: every rule and severity, 0 when none fires.
#[derive(Debug)]
struct AlertCollector {
    alerts: AlertBoard,
}

impl Collector for AlertCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut firing: std::collections::BTreeMap<(&str, &str), i64> = std::collections::BTreeMap::new();
        for name in xunjian_shared::config::alerts::RULE_NAMES {
            for severity in xunjian_shared::config::AlertSeverity::ALL {
                firing.insert((name, severity.as_str()), 0);
            }
        }
        let alerts = self.alerts.current();
        for alert in alerts.iter().filter(|a| a.state == AlertState::Firing) {
            if let Some(count) = firing.get_mut(&(alert.alertname.as_str(), alert.severity.as_str())) {
                *count += 1;
            }
        }
        let mut metric = encoder.encode_descriptor(
            "xunjian_alerts_firing",
            "Alerts firing now, by rule and severity (silenced ones included)",
            None,
            MetricType::Gauge,
        )?;
        for ((alertname, severity), count) in firing {
            ConstGauge::new(count)
                .encode(metric.encode_family(&[("alertname", alertname), ("severity", severity)])?)?;
        }
        Ok(())
    }
}
