//! The filings compared with what agents observe: 漏报 (`not_filed`), closed but live
//! (`closed_but_live`), filed but inspected by no agent (`unmonitored`); and the decisions that
//! apply to a finding, an agent or an alert.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use jiff::Timestamp;
use jiff::civil::Date;
use xunjian_shared::config::Platform;
use xunjian_shared::time::china_today;
use xunjian_shared::wire::{Finding, FindingCode, LinkedAccount, Observation, Severity, TargetKind};

use super::{
    Channel, Exemption, Filing, FilingStatus, Index, Match, Registry, Revocation, Silence, UnitType, normalized_id,
    normalized_name, scope_of,
};
use crate::projection::{Snapshot, SubjectState};

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
    /// Per observed (county of the agent, target, channel): its filing and any registry
    /// finding.
    pub standing: BTreeMap<(String, String, Channel), Standing>,
    /// Filed, running, and observed by no agent.
    pub unmonitored: Vec<Filing>,
    /// Counties whose government has no live account on a platform `[registry]
    /// required_platforms` names: (county, platform, the finding).
    pub counties_without_account: Vec<(String, Platform, Finding)>,
    /// Accounts sites point to that match no filing and no observed account.
    pub discovered: Vec<Discovered>,
}

/// An account a site points to that nobody filed or inspects: a candidate for the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovered {
    /// The county of the site that points to it.
    pub county: String,
    pub channel: Channel,
    /// Its name as the page writes it, or its id when the page gives no name.
    pub name: String,
    /// The site's unit, and the page that points to it.
    pub unit: String,
    pub page: String,
    pub finding: Finding,
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
        let mut observed: HashSet<(&str, &str, Channel)> = HashSet::new();
        // Filings some observed one is (or may be), by name and channel.
        let mut inspected: HashSet<(&str, Channel)> = HashSet::new();
        // Live accounts by (county, unit, platform), and the platforms each county's government
        // is live on.
        let mut by_unit: BTreeMap<(String, String, Channel), Vec<String>> = BTreeMap::new();
        let mut governments: HashSet<(String, Platform)> = HashSet::new();
        let mut counties: BTreeSet<&str> = BTreeSet::new();
        // Read per scrape and per evaluation: index the filings once, not a scan per target.
        let index = Index::new(&self.filings);
        // Accounts pages point to, judged once every observed one is known.
        let mut linked = Vec::new();
        // Each observed site and account once, with the filing it found.
        let mut found: Vec<(&SubjectState, Channel, Match<'_>)> = Vec::new();
        for state in snapshot.subjects().values() {
            let observation = &state.observation;
            if let Some(accounts) = observation.linked_accounts() {
                linked.extend(accounts.iter().map(|account| (state, account)));
            }
            if observation.column.is_some() || observation.channel.is_some() {
                continue;
            }
            if !rules.required_platforms.is_empty() {
                counties.insert(&state.county);
            }
            let Some(channel) = Channel::of(observation) else { continue };
            if !observed.insert((&state.county, &observation.target, channel)) {
                continue;
            }
            let matched = index.find(&observation.target, channel, observation.account_id.as_deref(), &state.county);
            found.push((state, channel, matched));
        }
        // A filing is one account: the strongest match keeps it, a weaker one by another name
        // (normalised or near) is not that filing.
        let mut best: std::collections::HashMap<*const Filing, u8> = std::collections::HashMap::new();
        for (_, _, matched) in &found {
            if let Some(filing) = matched.filing() {
                let rank = best.entry(filing as *const Filing).or_insert(u8::MAX);
                *rank = (*rank).min(matched.rank());
            }
        }
        let mut claimed: HashSet<*const Filing> = HashSet::new();
        for (state, channel, matched) in found {
            let observation = &state.observation;
            let matched = match matched.filing() {
                Some(filing)
                    if best.get(&(filing as *const Filing)).is_some_and(|rank| *rank < matched.rank())
                        || (matched.rank() >= 2 && !claimed.insert(filing as *const Filing)) =>
                {
                    Match::None
                }
                _ => matched,
            };
            let (filing, possible) = match matched {
                Match::Id(filing) | Match::Name(filing) | Match::Normalized(filing) => (Some(filing), None),
                Match::Possible(filing) => (None, Some(filing)),
                Match::None => (None, None),
            };
            if let Some(filing) = filing.or(possible) {
                inspected.insert((filing.name.as_str(), filing.channel));
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
                        && channel != Channel::Website
                        && let Some(detail) = filed_late(filing, first_seen, grace, today)
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
                // The filing an account is (or may be) says whose it is: accounts are grouped by the
                // registry's 责任单位 (an agent may write the same office another way), within
                // the observing agent's county (a filing only ever matches its own county's).
                // One filed as closed but still live is reported as that, not as a second account.
                let filed_as = filing.or(possible).filter(|filing| filing.status == FilingStatus::Running);
                if let Some(filed_as) = filed_as {
                    let group = by_unit.entry((state.county.clone(), filed_as.unit.clone(), channel)).or_default();
                    group.push(target.clone());
                }
                // A county government's account filed as closed is reported as that, not as its
                // account; one inspected under a near name is its account all the same.
                if filed_as.is_some_and(|f| f.unit_type == Some(UnitType::CountyGovernment)) {
                    governments.insert((state.county.clone(), platform));
                }
            }
            let unit = filing.map_or(observation.unit.as_str(), |filing| filing.unit.as_str()).to_string();
            let county = state.county.clone();
            let key = (county.clone(), observation.target.clone(), channel);
            let filing = filing.cloned();
            assessment.standing.insert(key, Standing { filing, findings, exempted: Vec::new(), county, unit });
        }
        if rules.duplicate_account {
            for ((county, unit, channel), targets) in by_unit.iter().filter(|(_, targets)| targets.len() > 1) {
                for target in targets {
                    let key = (county.clone(), target.clone(), *channel);
                    let Some(standing) = assessment.standing.get_mut(&key) else { continue };
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
        if rules.account_discovered {
            assessment.discovered = self.discovered(snapshot, &index, &linked, today);
        }
        for ((_, target, _), standing) in &mut assessment.standing {
            let findings = std::mem::take(&mut standing.findings);
            for finding in findings {
                match self.exempts_code(target, "", finding.code, today) {
                    Some(exemption) => standing.exempted.push((finding, exemption.id)),
                    None => standing.findings.push(finding),
                }
            }
        }
        if !rules.required_platforms.is_empty() {
            counties.extend(self.filings.iter().map(|filing| filing.county.as_str()));
            // A running county government's account no agent inspects is taken at the registry's
            // word (it is reported as unmonitored); one an agent sees dead is not an account.
            for filing in &self.filings {
                if let (Channel::Account(platform), Some(UnitType::CountyGovernment), FilingStatus::Running) =
                    (filing.channel, filing.unit_type, filing.status)
                    && !inspected.contains(&(filing.name.as_str(), filing.channel))
                {
                    governments.insert((filing.county.clone(), platform));
                }
            }
        }
        let city_units_only = |county: &str| {
            let mut types = self.filings.iter().filter(|f| f.county == county).filter_map(|f| f.unit_type).peekable();
            types.peek().is_some() && types.all(|t| t == UnitType::CityDepartment)
        };
        let city = |county: &str| county == rules.city_units || city_units_only(county);
        for county in counties.iter().filter(|county| !county.is_empty() && !city(county)) {
            for platform in &rules.required_platforms {
                if governments.contains(&(county.to_string(), *platform))
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
                assessment.counties_without_account.push((county.to_string(), *platform, finding));
            }
        }
        assessment.unmonitored = self
            .filings
            .iter()
            .filter(|f| f.status == FilingStatus::Running && !inspected.contains(&(f.name.as_str(), f.channel)))
            .filter(|f| self.exempts_code(&f.name, "", FindingCode::Unmonitored, today).is_none())
            .cloned()
            .collect();
        assessment
    }

    /// The accounts of `linked` (what pages point to, with the page's state) that match no
    /// filing (`index`), no observed account and no exemption: one entry per county and account.
    fn discovered(
        &self,
        snapshot: &Snapshot,
        index: &Index<'_>,
        linked: &[(&SubjectState, &LinkedAccount)],
        today: Date,
    ) -> Vec<Discovered> {
        if linked.is_empty() {
            return Vec::new();
        }
        // Accounts the agents inspect, by county: what one county's agent lists never hides
        // another county's candidate.
        let mut observed: HashSet<(&str, String, Channel)> = HashSet::new();
        for state in snapshot.subjects().values() {
            let observation = &state.observation;
            let Some(channel) = Channel::of(observation).filter(|channel| *channel != Channel::Website) else {
                continue;
            };
            observed.insert((&state.county, normalized_name(&observation.target), channel));
            if let Some(id) = &observation.account_id {
                observed.insert((&state.county, format!("id:{}", normalized_id(id)), channel));
            }
        }
        let mut found: Vec<Discovered> = Vec::new();
        let mut seen: HashSet<(String, Channel, String)> = HashSet::new();
        for (state, account) in linked {
            let Ok(platform) = Platform::parse(&account.platform) else { continue };
            let channel = Channel::Account(platform);
            let name =
                if account.name.is_empty() { account.id.clone().unwrap_or_default() } else { account.name.clone() };
            let id = account.id.as_deref();
            let filed = !matches!(index.find(&account.name, channel, id, &state.county), Match::None)
                || index.filed_anywhere(&account.name, channel, id);
            let county = state.county.as_str();
            let inspected = (!account.name.is_empty()
                && observed.contains(&(county, normalized_name(&account.name), channel)))
                || id.is_some_and(|id| observed.contains(&(county, format!("id:{}", normalized_id(id)), channel)));
            if name.is_empty()
                || filed
                || inspected
                || !seen.insert((state.county.clone(), channel, normalized_name(&name)))
                || self.exempts_code(&name, "", FindingCode::AccountDiscovered, today).is_some()
            {
                continue;
            }
            let observation = &state.observation;
            let finding = Finding::new(
                FindingCode::AccountDiscovered,
                Severity::Warning,
                format!(
                    "「{}」的页面 {} 指向{}账号「{name}」，它不在备案表中，也没有采集代理巡检：是政务账号请补报备案（备案表导入），不是请豁免",
                    observation.target,
                    observation.url,
                    channel.label_zh()
                ),
            );
            found.push(Discovered {
                county: state.county.clone(),
                channel,
                name,
                unit: observation.unit.clone(),
                page: observation.url.clone(),
                finding,
            });
        }
        found
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

/// Filings made this long ago or more are history, not this quarter's problem.
const FILED_LATE_WITHIN_DAYS: i64 = 92;

/// Why `filing` was filed late: more than `grace` days after the account opened, or (its
/// opening date unknown) after an agent first saw it; None when in time, not known, or filed
/// more than a quarter before `today` (a late filing is reported in the quarter it happened).
fn filed_late(filing: &Filing, first_seen: Option<Date>, grace: i64, today: Date) -> Option<String> {
    let filed = filing.filed_on?;
    if xunjian_shared::time::days_between(filed, today) > FILED_LATE_WITHIN_DAYS {
        return None;
    }
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
) -> Vec<(crate::ledger::Place, FindingCode, Severity, String, String)> {
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
    for ((_, target, channel), standing) in &assessment.standing {
        let exempted = standing.exempted.iter().map(|(finding, _)| finding);
        for finding in standing.findings.iter().chain(exempted) {
            let at = place(target, *channel, &standing.county, &standing.unit);
            found.push((at, finding.code, finding.severity, finding.detail.clone(), String::new()));
        }
    }
    for discovered in &assessment.discovered {
        let at = place(&discovered.name, discovered.channel, &discovered.county, &discovered.unit);
        let finding = &discovered.finding;
        found.push((at, finding.code, finding.severity, finding.detail.clone(), discovered.page.clone()));
    }
    for (county, platform, finding) in &assessment.counties_without_account {
        let at = place(county, Channel::Account(*platform), county, &format!("{county}人民政府"));
        found.push((at, finding.code, finding.severity, finding.detail.clone(), String::new()));
    }
    for filing in &assessment.unmonitored {
        let at = place(&filing.name, filing.channel, &filing.county, &filing.unit);
        let detail = format!("{}「{}」已备案且在运行，但没有任何采集代理巡检", filing.channel.label_zh(), filing.name);
        found.push((at, FindingCode::Unmonitored, Severity::Error, detail, String::new()));
    }
    found
}
