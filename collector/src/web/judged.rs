//! The judgement the pages share. Verdicts, 合格率 and the registry's standing are derived from
//! the whole projection (a hundred milliseconds and more for a province); the status page,
//! `/api/v1/status` and the console's overview, county, subject and registry pages take them
//! from one [`Judged`], made at most once a second by one caller at a time, and each cuts it to
//! its caller's counties ([`Judged::verdicts`], [`Judged::ratios`], [`Judged::registry`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::civil::Date;
use xunjian_shared::time::china_today;
use xunjian_shared::wire::{
    FiledTarget, PassRatioStatus, RegistryFinding, RegistryStatus, TargetKind, VerdictExemption, VerdictReason,
    VerdictStatus,
};

use crate::judge::{Reason, WHOLE_CITY, judge};
use crate::people::Scope;
use crate::store::Store;
use crate::view::View;

/// How long one judgement serves every page.
const FRESH: Duration = Duration::from_secs(1);

/// Everything judged at one moment, for every county.
pub struct Judged {
    /// When judging began and ended.
    started: Instant,
    finished: Instant,
    /// The registry judged with: a change of the registry or the exemptions is judged anew at
    /// once, not a second later.
    registry: u64,
    /// The moment judged: a page made from it shows the state of then.
    pub at: Timestamp,
    pub today: Date,
    verdicts: Vec<VerdictStatus>,
    ratios: Vec<PassRatioStatus>,
    /// 漏报 and 未及时关停 of observed sites and accounts.
    registry_findings: Vec<RegistryFinding>,
    /// Filed, running, and inspected by no agent.
    unmonitored: Vec<FiledTarget>,
    /// Per county: its filings, and its observed sites and accounts that match one.
    filed: BTreeMap<String, (u32, u32)>,
}

/// The latest [`Judged`], shared by the web routes.
#[derive(Default)]
pub struct Judgements {
    latest: Mutex<Option<Arc<Judged>>>,
}

impl Judgements {
    /// The judgement of the last second, or a new one. Blocking (call it off the async
    /// workers): callers arriving while one judges wait for it and take it rather than judge
    /// again (however long judging took).
    pub fn get(&self, store: &Store) -> Arc<Judged> {
        let asked = Instant::now();
        let mut latest = self.latest.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Timestamp::now();
        if let Some(judged) = latest.as_ref()
            && (judged.finished.elapsed() < FRESH || judged.started >= asked)
            && judged.today == china_today(now)
            && judged.registry == store.registry().revision
        {
            return judged.clone();
        }
        let judged = Arc::new(Judged::of(store, now));
        *latest = Some(judged.clone());
        judged
    }
}

impl Judged {
    /// Judges the store's projection and registry as they are at `now`.
    pub fn of(store: &Store, now: Timestamp) -> Judged {
        let started = Instant::now();
        let registry = store.registry().clone();
        let snapshot = store.snapshot();
        let today = china_today(now);
        let view = View::of(&snapshot, &registry, today);
        let judgement = judge(&view);
        let reason = |reason: &Reason| VerdictReason {
            code: reason.code.as_str().to_string(),
            label: reason.code.label_zh().to_string(),
            detail: reason.detail.clone(),
        };
        let verdicts = judgement
            .verdicts
            .iter()
            .map(|verdict| VerdictStatus {
                county: verdict.labels.county.to_string(),
                unit: verdict.labels.unit.to_string(),
                target: verdict.labels.target.to_string(),
                kind: TargetKind::named(verdict.labels.kind).unwrap_or(TargetKind::Site),
                platform: Some(verdict.labels.platform).filter(|p| !p.is_empty()).map(str::to_string),
                pass: verdict.pass(),
                reasons: verdict.reasons.iter().map(reason).collect(),
                notes: verdict.notes.iter().map(reason).collect(),
                exempted: verdict
                    .exempted
                    .iter()
                    .map(|(code, exemption)| VerdictExemption { code: *code, exemption: *exemption })
                    .collect(),
            })
            .collect();
        let ratios = judgement
            .ratios
            .iter()
            .map(|ratio| PassRatioStatus {
                county: ratio.county.clone(),
                kind: ratio.kind,
                judged: ratio.judged,
                passed: ratio.passed,
                ratio: ratio.ratio(),
            })
            .collect();
        let mut filed: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for filing in &registry.filings {
            filed.entry(filing.county.clone()).or_default().0 += 1;
        }
        let mut registry_findings = Vec::new();
        for ((_, target, channel), standing) in &view.assessment.standing {
            filed.entry(standing.county.clone()).or_default().1 += u32::from(standing.filing.is_some());
            registry_findings.extend(standing.findings.iter().map(|finding| RegistryFinding {
                target: target.clone(),
                channel: channel.label_zh().to_string(),
                platform: channel.platform(),
                unit: standing.unit.clone(),
                county: standing.county.clone(),
                filed_status: standing.filing.as_ref().map(|f| f.status.label_zh().to_string()),
                finding: finding.clone(),
            }));
        }
        // What the registry finds of no observed site or account: a county without a required
        // account, and accounts its sites point to that nobody filed.
        for (county, platform, finding) in &view.assessment.counties_without_account {
            registry_findings.push(RegistryFinding {
                // As the ledger and an exemption name it.
                target: county.clone(),
                channel: platform.label_zh().to_string(),
                platform: Some(platform.as_str().to_string()),
                unit: format!("{county}人民政府"),
                county: county.clone(),
                filed_status: None,
                finding: finding.clone(),
            });
        }
        for discovered in &view.assessment.discovered {
            registry_findings.push(RegistryFinding {
                target: discovered.name.clone(),
                channel: discovered.channel.label_zh().to_string(),
                platform: discovered.channel.platform(),
                unit: discovered.unit.clone(),
                county: discovered.county.clone(),
                filed_status: None,
                finding: discovered.finding.clone(),
            });
        }
        let unmonitored = view
            .unmonitored()
            .iter()
            .map(|f| FiledTarget {
                name: f.name.clone(),
                channel: f.channel.label_zh().to_string(),
                unit: f.unit.clone(),
                county: f.county.clone(),
                status: f.status.label_zh().to_string(),
            })
            .collect();
        Judged {
            started,
            finished: Instant::now(),
            registry: registry.revision,
            at: now,
            today,
            verdicts,
            ratios,
            registry_findings,
            unmonitored,
            filed,
        }
    }

    /// The verdicts of the counties `scope` sees.
    pub fn verdicts<'a>(&'a self, scope: &'a Scope) -> impl Iterator<Item = &'a VerdictStatus> + 'a {
        self.verdicts.iter().filter(|verdict| scope.sees(&verdict.county))
    }

    /// The 合格率 of the counties `scope` sees; the city's (全市) only for one who sees all: it
    /// would count the others.
    pub fn ratios<'a>(&'a self, scope: &'a Scope) -> impl Iterator<Item = &'a PassRatioStatus> + 'a {
        self.ratios.iter().filter(|ratio| scope.is_all() || (ratio.county != WHOLE_CITY && scope.sees(&ratio.county)))
    }

    /// The registry compared with what is observed, for the counties `scope` sees; without the
    /// exemptions (the caller adds those it may see).
    pub fn registry(&self, scope: &Scope) -> RegistryStatus {
        let (filed, observed_filed) = self
            .filed
            .iter()
            .filter(|(county, _)| scope.sees(county))
            .fold((0, 0), |(filed, observed), (_, (f, o))| (filed + f, observed + o));
        RegistryStatus {
            filed,
            observed_filed,
            findings: self.registry_findings.iter().filter(|f| scope.sees(&f.county)).cloned().collect(),
            unmonitored: self.unmonitored.iter().filter(|f| scope.sees(&f.county)).cloned().collect(),
            exemptions: Vec::new(),
        }
    }
}
