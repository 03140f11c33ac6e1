//! The filings compared with what agents observe: 漏报 (`not_filed`), closed but live
//! (`closed_but_live`), filed but inspected by no agent (`unmonitored`); and the decisions that
//! apply to a finding, an agent or an alert.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use jiff::Timestamp;
use jiff::civil::Date;
use xunjian_shared::config::Platform;
use xunjian_shared::time::china_today;
use xunjian_shared::wire::{Finding, FindingCode, Observation, Severity, TargetKind};

use super::{
    Channel, Exemption, Filing, FilingStatus, Index, Match, Registry, Revocation, Silence, UnitType, scope_of,
};
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
    /// Counties whose government has no live account on a platform `[registry]
    /// required_platforms` names: (county, platform, the finding).
    pub counties_without_account: Vec<(String, Platform, Finding)>,
}

/// Units that do not open their own accounts (the notice: county departments other than 公安,
/// and townships and streets).
const NOT_ALLOWED: [UnitType; 2] = [UnitType::CountyDepartment, UnitType::Township];

impl Registry {
    /// Compares the filings with the targets in `snapshot` (their home pages and accounts) and
    /// applies the notice's rules (`self.rules`); findings under an exemption active on `today`
    /// are left out.
    pub fn assess(&self, snapshot: &Snapshot, today: Date) -> Assessment {
        let rules = &self.rules;
        let grace = i64::from(rules.filing_grace_days);
        let mut assessment = Assessment::default();
        let mut observed: HashSet<(String, Channel)> = HashSet::new();
        // Filings some observed one is (or may be), by name and channel.
        let mut matched: HashSet<(&str, Channel)> = HashSet::new();
        // Live accounts by (county, unit, platform), and the platforms each county's government
        // is live on.
        let mut by_unit: BTreeMap<(String, String, Channel), Vec<String>> = BTreeMap::new();
        let mut governments: HashSet<(String, Platform)> = HashSet::new();
        let mut counties: BTreeSet<String> = BTreeSet::new();
        // Read per scrape and per evaluation: index the filings once, not a scan per target.
        let index = Index::new(&self.filings);
        for state in snapshot.subjects().values() {
            let observation = &state.observation;
            counties.insert(state.county.clone());
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
            let platform = observation.platform.clone().unwrap_or_default();
            let first_seen = snapshot
                .first_seen
                .get(&(state.county.clone(), observation.target.clone(), platform))
                .map(|at| china_today(*at));
            let live = is_live(observation);
            let mut findings = Vec::new();
            let label = channel.label_zh();
            let target = &observation.target;
            match (filing, possible) {
                (None, Some(near)) => findings.push(Finding::new(
                    FindingCode::PossiblyFiled,
                    Severity::Warning,
                    format!(
                        "{label}「{target}」与备案的「{}」（{}）名称相近，可能是同一账号：请核实，是则在备案表中改正名称或补上账号ID，不是则补报备案",
                        near.name, near.unit
                    ),
                )),
                // The notice's days to file are for new media; a site has none.
                (None, None) => match first_seen
                    .filter(|_| channel != Channel::Website && grace > 0)
                    .and_then(|first| first.checked_add(jiff::Span::new().days(grace)).ok())
                {
                    Some(deadline) if today <= deadline => findings.push(Finding::new(
                        FindingCode::FilingPending,
                        Severity::Warning,
                        format!("{label}「{target}」于 {} 首次发现，尚未备案：请在 {deadline} 前报市府办公室备案", first_seen.unwrap_or(today)),
                    )),
                    _ => findings.push(Finding::new(
                        FindingCode::NotFiled,
                        Severity::Error,
                        match first_seen {
                            Some(first) => format!("{label}「{target}」未向市府办公室备案（漏报），首次发现于 {first}"),
                            None => format!("{label}「{target}」未向市府办公室备案（漏报）"),
                        },
                    )),
                },
                (Some(filing), _) => {
                    if filing.status != FilingStatus::Running && live {
                        findings.push(Finding::new(
                            FindingCode::ClosedButLive,
                            Severity::Error,
                            format!(
                                "已备案为「{}」，但仍可访问、仍在发布（未及时履行关停注销程序）",
                                filing.status.label_zh()
                            ),
                        ));
                    }
                    if rules.filed_late
                        && let Some(detail) = filed_late(filing, first_seen, grace)
                    {
                        findings.push(Finding::new(FindingCode::FiledLate, Severity::Error, detail));
                    }
                }
            }
            if let (Channel::Account(platform), true) = (channel, live) {
                let unit_type = filing.and_then(|filing| filing.unit_type);
                if rules.unit_type_not_allowed
                    && let Some(unit_type) = unit_type.filter(|t| NOT_ALLOWED.contains(t))
                {
                    findings.push(Finding::new(
                        FindingCode::UnitTypeNotAllowed,
                        Severity::Error,
                        format!(
                            "「{target}」为{}开设的{label}账号：县级部门（公安除外）和乡镇街道原则上不单独开设政务新媒体，应予清理整合",
                            unit_type.label_zh()
                        ),
                    ));
                }
                if rules.platform_not_mainstream && !rules.mainstream_platforms.contains(&platform) {
                    findings.push(Finding::new(
                        FindingCode::PlatformNotMainstream,
                        Severity::Error,
                        format!("「{target}」开设在非主流平台（{label}），应予关停"),
                    ));
                }
                let unit = filing.map_or(observation.unit.as_str(), |filing| filing.unit.as_str());
                let county = filing.map_or(state.county.as_str(), |filing| filing.county.as_str());
                // One filed as closed but still live is reported as that, not as a second account.
                if filing.is_none_or(|filing| filing.status == FilingStatus::Running) {
                    by_unit.entry((county.to_string(), unit.to_string(), channel)).or_default().push(target.clone());
                }
                if unit_type == Some(UnitType::CountyGovernment) {
                    governments.insert((county.to_string(), platform));
                }
            }
            let (county, unit) = match filing {
                Some(filing) => (filing.county.clone(), filing.unit.clone()),
                None => (state.county.clone(), observation.unit.clone()),
            };
            let filing = filing.cloned();
            assessment.standing.insert(key, Standing { filing, findings, exempted: Vec::new(), county, unit });
        }
        if rules.duplicate_account {
            for ((_, unit, channel), targets) in by_unit.iter().filter(|(_, targets)| targets.len() > 1) {
                for target in targets {
                    let Some(standing) = assessment.standing.get_mut(&(target.clone(), *channel)) else { continue };
                    standing.findings.push(Finding::new(
                        FindingCode::DuplicateAccount,
                        Severity::Error,
                        format!(
                            "责任单位「{unit}」在{}上有 {} 个在运行的账号（{}）：同一单位在同一平台原则上只开设一个账号",
                            channel.label_zh(),
                            targets.len(),
                            targets.join("、")
                        ),
                    ));
                }
            }
        }
        for ((target, _), standing) in &mut assessment.standing {
            let findings = std::mem::take(&mut standing.findings);
            for finding in findings {
                match self.exempts_code(target, "", finding.code, today) {
                    Some(exemption) => standing.exempted.push((finding, exemption.id)),
                    None => standing.findings.push(finding),
                }
            }
        }
        counties.extend(self.filings.iter().map(|filing| filing.county.clone()));
        for county in counties.iter().filter(|county| !county.is_empty() && county.as_str() != CITY) {
            for platform in &rules.required_platforms {
                if governments.contains(&(county.clone(), *platform))
                    || self.exempts_code(county, "", FindingCode::CountyWithoutAccount, today).is_some()
                {
                    continue;
                }
                let finding = Finding::new(
                    FindingCode::CountyWithoutAccount,
                    Severity::Error,
                    format!(
                        "{county}人民政府没有在运行的{}账号（单位类型为县级政府的已备案账号）",
                        platform.label_zh()
                    ),
                );
                assessment.counties_without_account.push((county.clone(), *platform, finding));
            }
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

/// The county name of the city's own units, which has no county government.
const CITY: &str = "市直";

/// Why `filing` was filed late: more than `grace` days after the account opened, or (its
/// opening date unknown) after an agent first saw it; None when in time or not known.
fn filed_late(filing: &Filing, first_seen: Option<Date>, grace: i64) -> Option<String> {
    let filed = filing.filed_on?;
    let (since, what) = match (filing.opened_on, first_seen) {
        (Some(opened), _) => (opened, "开设"),
        (None, Some(first)) => (first, "首次发现"),
        (None, None) => return None,
    };
    let days = xunjian_shared::time::days_between(since, filed);
    (days > grace)
        .then(|| format!("{what}于 {since}，备案于 {filed}，晚于{what}后 {grace} 天（迟报 {} 天）", days - grace))
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
    for (county, platform, finding) in &assessment.counties_without_account {
        let at = place(county, Channel::Account(*platform), county, &format!("{county}人民政府"));
        found.push((at, finding.code, finding.detail.clone(), String::new()));
    }
    for filing in &assessment.unmonitored {
        let at = place(&filing.name, filing.channel, &filing.county, &filing.unit);
        let detail = format!("{}「{}」已备案且在运行，但没有任何采集代理巡检", filing.channel.label_zh(), filing.name);
        found.push((at, FindingCode::Unmonitored, detail, String::new()));
    }
    found
}
