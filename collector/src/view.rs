//! The collector's read model: what every renderer shows, derived once and in one place.
//!
//! [`View::of`] turns the projection, the registry and the day into pages, each with its labels
//! (the one label vocabulary: [`PageLabels`]), its role, the findings that count (an active
//! exemption removes a finding), the ones an exemption covers and which, and the registry's
//! standing of home pages and accounts (漏报, closed but live); plus the filings no agent
//! inspects, and the agents. `/metrics`, `/api/v1/status`, the status page and the alert rules
//! render from it, and none of them re-derives labels, exemptions or the registry assessment.
//! Pure: no IO, no clock.

use std::collections::BTreeMap;

use jiff::civil::Date;
use xunjian_shared::wire::{Finding, FindingCode, Observation, Severity, TargetKind};

use crate::projection::{AgentState, Snapshot, SubjectKey, SubjectState};
use crate::registry::{Assessment, Channel, Exemption, Filing, Registry, Standing};

/// Everything a renderer needs, for one moment.
pub struct View<'a> {
    pub today: Date,
    pub snapshot: &'a Snapshot,
    pub registry: &'a Registry,
    /// Observed sites and accounts compared with the filings.
    pub assessment: Assessment,
}

/// What a page is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A site's home page (its probe and its audit).
    Home,
    /// One of a site's columns.
    Column,
    /// A message board or mailbox.
    Channel,
    /// A new-media account.
    Account,
}

/// The labels of a page's series and alerts: `county, unit, target, kind, platform`, plus
/// `column` or `channel` ('' when they do not apply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLabels<'a> {
    pub county: &'a str,
    pub unit: &'a str,
    pub target: &'a str,
    pub kind: &'static str,
    pub platform: &'a str,
    pub column: &'a str,
    pub channel: &'a str,
}

/// One page as the renderers see it.
pub struct Page<'v> {
    pub key: &'v SubjectKey,
    pub state: &'v SubjectState,
    pub labels: PageLabels<'v>,
    pub role: Role,
    /// The observation's findings that count: those no active exemption covers.
    pub findings: Vec<&'v Finding>,
    /// The observation's findings an active exemption covers, with it.
    pub exempted: Vec<(&'v Finding, &'v Exemption)>,
    /// The registry's standing, for home pages and accounts.
    pub standing: Option<&'v Standing>,
}

impl<'a> View<'a> {
    pub fn of(snapshot: &'a Snapshot, registry: &'a Registry, today: Date) -> View<'a> {
        View { today, snapshot, registry, assessment: registry.assess(snapshot, today) }
    }

    /// Every page, in the projection's order.
    pub fn pages(&self) -> impl Iterator<Item = Page<'_>> + '_ {
        self.snapshot.subjects().iter().map(|(key, state)| self.page(key, state))
    }

    /// The pages of the target named `target` (of any county), in the projection's order.
    pub fn pages_of<'v>(&'v self, target: &'v str) -> impl Iterator<Item = Page<'v>> + 'v {
        self.snapshot
            .subjects()
            .iter()
            .filter(move |(key, _)| key.target == target)
            .map(|(key, state)| self.page(key, state))
    }

    fn page<'v>(&'v self, key: &'v SubjectKey, state: &'v SubjectState) -> Page<'v> {
        let observation = &state.observation;
        let role = match (&observation.column, &observation.channel, observation.kind) {
            (_, Some(_), _) => Role::Channel,
            (Some(_), None, _) => Role::Column,
            (None, None, TargetKind::Account) => Role::Account,
            (None, None, TargetKind::Site) => Role::Home,
        };
        let mut findings = Vec::new();
        let mut exempted = Vec::new();
        for finding in &observation.findings {
            match self.registry.exempts(observation, finding, self.today) {
                Some(exemption) => exempted.push((finding, exemption)),
                None => findings.push(finding),
            }
        }
        let standing = match role {
            Role::Home | Role::Account => Channel::of(observation).and_then(|channel| {
                self.assessment.standing.get(&(state.county.clone(), observation.target.clone(), channel))
            }),
            Role::Column | Role::Channel => None,
        };
        Page { key, state, labels: PageLabels::of(state), role, findings, exempted, standing }
    }

    /// Filed, running, and inspected by no agent (exempted ones left out).
    pub fn unmonitored(&self) -> &[Filing] {
        &self.assessment.unmonitored
    }

    /// Every agent that pushed, by id.
    pub fn agents(&self) -> &'a BTreeMap<String, AgentState> {
        &self.snapshot.agents
    }
}

impl<'v> Page<'v> {
    pub fn observation(&self) -> &'v Observation {
        &self.state.observation
    }

    /// Whether a finding with `code` counts on this page.
    pub fn counts(&self, code: FindingCode) -> bool {
        self.findings.iter().any(|finding| finding.code == code)
    }

    /// The registry's findings of this page (none for columns and channels).
    pub fn registry_findings(&self) -> &'v [Finding] {
        self.standing.map(|standing| standing.findings.as_slice()).unwrap_or_default()
    }

    /// True when no finding that counts is of severity error or veto.
    pub fn ok(&self) -> bool {
        self.findings.iter().all(|finding| finding.severity == Severity::Warning)
    }
}

impl<'a> PageLabels<'a> {
    pub fn of(state: &'a SubjectState) -> Self {
        let observation = &state.observation;
        PageLabels {
            county: &state.county,
            unit: &observation.unit,
            target: &observation.target,
            kind: observation.kind.as_str(),
            platform: observation.platform.as_deref().unwrap_or(""),
            column: observation.column.as_deref().unwrap_or(""),
            channel: observation.channel.as_deref().unwrap_or(""),
        }
    }

    /// A filing's labels, as the page it stands for would have them.
    pub fn of_filing(filing: &'a Filing) -> Self {
        Self::of_registered(&filing.name, filing.channel, &filing.county, &filing.unit)
    }

    /// The labels of the registry's standing of an observed `target` on `channel`.
    pub fn of_standing(target: &'a str, channel: Channel, standing: &'a Standing) -> Self {
        Self::of_registered(target, channel, &standing.county, &standing.unit)
    }

    fn of_registered(target: &'a str, channel: Channel, county: &'a str, unit: &'a str) -> Self {
        let kind = if channel == Channel::Website { TargetKind::Site } else { TargetKind::Account };
        PageLabels {
            county,
            unit,
            target,
            kind: kind.as_str(),
            platform: channel.metric_label(),
            column: "",
            channel: "",
        }
    }

    /// `county, unit, target, kind, platform`: a site's or account's series.
    pub fn target_set(&self) -> [(&'static str, &'a str); 5] {
        [
            ("county", self.county),
            ("unit", self.unit),
            ("target", self.target),
            ("kind", self.kind),
            ("platform", self.platform),
        ]
    }

    /// The target's labels and `column`: a page's series.
    pub fn column_set(&self) -> [(&'static str, &'a str); 6] {
        let [county, unit, target, kind, platform] = self.target_set();
        [county, unit, target, kind, platform, ("column", self.column)]
    }

    /// The target's labels and `channel`: an interaction channel's series.
    pub fn channel_set(&self) -> [(&'static str, &'a str); 6] {
        let [county, unit, target, kind, platform] = self.target_set();
        [county, unit, target, kind, platform, ("channel", self.channel)]
    }

    /// Every label with a value, for an alert.
    pub fn alert_labels(&self) -> BTreeMap<String, String> {
        let [county, unit, target, kind, platform] = self.target_set();
        [county, unit, target, kind, platform, ("column", self.column), ("channel", self.channel)]
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }
}
