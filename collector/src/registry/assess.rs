//! The filings compared with what agents observe: 漏报 (`not_filed`), closed but live
//! (`closed_but_live`), filed but inspected by no agent (`unmonitored`); and the decisions that
//! apply to a finding, an agent or an alert.

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use jiff::civil::Date;
use xunjian_shared::wire::{Finding, FindingCode, Observation, Severity, TargetKind};

use super::{Channel, Exemption, Filing, FilingStatus, Index, Match, Registry, Revocation, Silence, scope_of};
use crate::projection::Snapshot;

/// What the registry says of one observed site or account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    pub filing: Option<Filing>,
    pub findings: Vec<Finding>,
    /// Registry findings an exemption covers, with the exemption's id.
    pub exempted: Vec<(Finding, i64)>,
    /// Where it is reported: its filing's county and unit, else the observing agent's and the
    /// observation's.
    pub county: String,
    pub unit: String,
}

/// Observed ones compared with the filed ones.
#[derive(Clone, Debug, Default)]
pub struct Assessment {
    /// Per observed (target, channel): its filing and any registry finding.
    pub standing: BTreeMap<(String, Channel), Standing>,
    /// Filed, running, and observed by no agent.
    pub unmonitored: Vec<Filing>,
}

impl Registry {
    /// Compares the filings with the targets in `snapshot` (their home pages and accounts);
    /// findings under an exemption active on `today` are left out.
    pub fn assess(&self, snapshot: &Snapshot, today: Date) -> Assessment {
        let mut assessment = Assessment::default();
        let mut observed: HashSet<(String, Channel)> = HashSet::new();
        // Filings some observed one is (or may be), by name and channel.
        let mut matched: HashSet<(&str, Channel)> = HashSet::new();
        // Read per scrape and per evaluation: index the filings once, not a scan per target.
        let index = Index::new(&self.filings);
        for state in snapshot.subjects().values() {
            let observation = &state.observation;
            if observation.column.is_some() || observation.channel.is_some() {
                continue;
            }
            let Some(channel) = Channel::of(observation) else { continue };
            let key = (observation.target.clone(), channel);
            if !observed.insert(key.clone()) {
                continue;
            }
            let found = index.find(&observation.target, channel, observation.account_id.as_deref(), &state.county);
            let (filing, possible) = match found {
                Match::Id(filing) | Match::Name(filing) => (Some(filing), None),
                Match::Possible(filing) => (None, Some(filing)),
                Match::None => (None, None),
            };
            if let Some(filing) = filing.or(possible) {
                matched.insert((filing.name.as_str(), filing.channel));
            }
            let filing = filing.cloned();
            let mut findings = Vec::new();
            match (&filing, possible) {
                (None, Some(near)) => findings.push(Finding::new(
                    FindingCode::PossiblyFiled,
                    Severity::Warning,
                    format!(
                        "{}「{}」与备案的「{}」（{}）名称相近，可能是同一账号：请核实，是则在备案表中改正名称或补上账号ID，不是则补报备案",
                        channel.label_zh(),
                        observation.target,
                        near.name,
                        near.unit
                    ),
                )),
                (None, None) => findings.push(Finding::new(
                    FindingCode::NotFiled,
                    Severity::Error,
                    format!("{}「{}」未向市府办公室备案（漏报）", channel.label_zh(), observation.target),
                )),
                (Some(filing), _) if filing.status != FilingStatus::Running && is_live(observation) => {
                    findings.push(Finding::new(
                        FindingCode::ClosedButLive,
                        Severity::Error,
                        format!(
                            "已备案为「{}」，但仍可访问、仍在发布（未及时履行关停注销程序）",
                            filing.status.label_zh()
                        ),
                    ))
                }
                (Some(_), _) => {}
            }
            let mut exempted = Vec::new();
            findings.retain(|finding| match self.exempts_code(&observation.target, "", finding.code, today) {
                Some(exemption) => {
                    exempted.push((finding.clone(), exemption.id));
                    false
                }
                None => true,
            });
            let (county, unit) = match &filing {
                Some(filing) => (filing.county.clone(), filing.unit.clone()),
                None => (state.county.clone(), observation.unit.clone()),
            };
            assessment.standing.insert(key, Standing { filing, findings, exempted, county, unit });
        }
        assessment.unmonitored = self
            .filings
            .iter()
            .filter(|f| f.status == FilingStatus::Running && !matched.contains(&(f.name.as_str(), f.channel)))
            .filter(|f| self.exempts_code(&f.name, "", FindingCode::Unmonitored, today).is_none())
            .cloned()
            .collect();
        assessment
    }

    /// The active exemption covering `finding` of `observation`, if any.
    pub fn exempts(&self, observation: &Observation, finding: &Finding, today: Date) -> Option<&Exemption> {
        self.exempts_code(&observation.target, scope_of(observation), finding.code, today)
    }

    pub fn exempts_code(&self, target: &str, scope: &str, code: FindingCode, today: Date) -> Option<&Exemption> {
        self.exemptions.iter().find(|e| e.covers(target, scope, code, today))
    }

    /// The revocation refusing this agent or certificate, if any.
    pub fn revoked(&self, agent: &str, serial: Option<&str>) -> Option<&Revocation> {
        self.revocations.iter().find(|r| r.applies(agent, serial))
    }

    /// The active silence covering an alert with `labels`, if any.
    pub fn silenced_by(&self, labels: &BTreeMap<String, String>, now: Timestamp) -> Option<&Silence> {
        self.silences.iter().find(|s| s.silences(labels, now))
    }
}

/// A site or account is live when it opens (and, for accounts, shows posts).
fn is_live(observation: &Observation) -> bool {
    let unreachable = observation.findings.iter().any(|f| {
        matches!(f.code, FindingCode::SiteUnreachable | FindingCode::HttpError | FindingCode::AccountUnreachable)
    });
    !unreachable && (observation.kind == TargetKind::Site || observation.items().unwrap_or(0) > 0)
}

/// The registry's problems now, for the ledger: each observed site's or account's registry
/// findings, and each filing no agent inspects (exempted ones left out, as in [`Registry::assess`]).
pub fn problems(
    registry: &Registry,
    snapshot: &Snapshot,
    today: Date,
) -> Vec<(crate::ledger::Place, FindingCode, String, String)> {
    let assessment = registry.assess(snapshot, today);
    let place = |target: &str, channel: Channel, county: &str, unit: &str| crate::ledger::Place {
        agent: String::new(),
        county: county.to_string(),
        unit: unit.to_string(),
        target: target.to_string(),
        kind: if channel == Channel::Website { TargetKind::Site } else { TargetKind::Account },
        platform: channel.metric_label().to_string(),
        column: String::new(),
        channel: String::new(),
    };
    let mut found = Vec::new();
    // Exempted ones stay open in the ledger (marked exempted when read), as pages' do.
    for ((target, channel), standing) in &assessment.standing {
        let exempted = standing.exempted.iter().map(|(finding, _)| finding);
        for finding in standing.findings.iter().chain(exempted) {
            let at = place(target, *channel, &standing.county, &standing.unit);
            found.push((at, finding.code, finding.detail.clone(), String::new()));
        }
    }
    for filing in &assessment.unmonitored {
        let at = place(&filing.name, filing.channel, &filing.county, &filing.unit);
        let detail = format!("{}「{}」已备案且在运行，但没有任何采集代理巡检", filing.channel.label_zh(), filing.name);
        found.push((at, FindingCode::Unmonitored, detail, String::new()));
    }
    found
}
