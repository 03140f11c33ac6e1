//! Verdicts: 合格 / 不合格 per site and per account, with the reasons, and the pass ratio (合格率)
//! per county, from the read model. Pure: no IO, no clock.
//!
//! The rules are the national indicators' vetoes (国办秘函〔2019〕19号) as README states them:
//! a site or account is 不合格 when any of these holds, counting only findings no exemption
//! covers —
//! - a veto-level finding on any of its pages (首页不更新, 互动渠道缺失, 留言超 3 个月未回应,
//!   严重表述错误, 账号 2 周未更新, 互动功能不通畅 …);
//! - ≥ 5 stale news, notice or policy columns, ≥ 10 stale columns, or ≥ 5 blank columns;
//! - ≥ 5 % of the home page's probes failed over the last 7 days (China days, today included),
//!   once at least [`MIN_PROBES_PER_DAY`] probes were made; a full day with fewer probes is
//!   noted (监测次数不足) without failing the site, since it is the monitoring that fell short;
//! - a registry problem: not filed (漏报), filed as closed but live, or filed and running but
//!   inspected by no agent.

use std::collections::{BTreeMap, HashMap};

use xunjian_shared::config::Thresholds;
use xunjian_shared::verdict::{ColumnCounts, Rule};
use xunjian_shared::wire::{FindingCode, Severity, TargetKind};

use crate::projection::{SubjectState, days_since_epoch};
use crate::view::{PageLabels, Role, View};

pub use xunjian_shared::wire::WHOLE_CITY;

/// The availability window, in China days, today included.
pub const AVAILABILITY_DAYS: i64 = 7;
/// Probes a day the indicator expects ("每天间隔性访问20次以上").
pub const MIN_PROBES_PER_DAY: u64 = 20;
/// Failed share of probes that makes a veto, in percent ("超过（含）5%").
pub const MAX_FAILED_PERCENT: u64 = 5;

/// Every verdict and the pass ratios.
pub struct Judgement<'v> {
    /// Sites and accounts, in label order; filings no agent inspects included.
    pub verdicts: Vec<Verdict<'v>>,
    /// Per county and kind, then the whole city per kind.
    pub ratios: Vec<PassRatio>,
}

/// One site's or account's verdict.
pub struct Verdict<'v> {
    /// The target's labels (`column` and `channel` empty).
    pub labels: PageLabels<'v>,
    /// Why it is 不合格; empty when 合格.
    pub reasons: Vec<Reason>,
    /// What limits the judgement without failing it (监测次数不足).
    pub notes: Vec<Reason>,
    /// Findings that would count but an exemption covers: the code and the exemption's id.
    pub exempted: Vec<(FindingCode, i64)>,
}

impl Verdict<'_> {
    pub fn pass(&self) -> bool {
        self.reasons.is_empty()
    }
}

/// A reason, with its words for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub code: ReasonCode,
    pub detail: String,
}

/// A finding that vetoes by itself, or a rule over counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReasonCode {
    Finding(FindingCode),
    Rule(Rule),
}

impl ReasonCode {
    /// The `reason` label: the finding code or the rule's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::Finding(code) => code.as_str(),
            ReasonCode::Rule(rule) => rule.as_str(),
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ReasonCode::Finding(code) => code.label_zh(),
            ReasonCode::Rule(rule) => rule.label_zh(),
        }
    }
}

/// How many sites or accounts of a county were judged and passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassRatio {
    pub county: String,
    pub kind: TargetKind,
    pub judged: u32,
    pub passed: u32,
}

impl PassRatio {
    /// 0–1; 1 when nothing was judged.
    pub fn ratio(&self) -> f64 {
        if self.judged == 0 { 1.0 } else { f64::from(self.passed) / f64::from(self.judged) }
    }
}

/// A home page's probes over the availability window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Availability {
    pub ok: u64,
    pub failed: u64,
    /// Full days of the window (today excluded, and none before the first probe) with fewer
    /// than [`MIN_PROBES_PER_DAY`] probes: the day and its probes.
    pub short_days: Vec<(jiff::civil::Date, u64)>,
}

impl Availability {
    /// The window's probes of `state`, as of `today`.
    pub fn of(state: &SubjectState, today: jiff::civil::Date) -> Availability {
        let newest = days_since_epoch(today);
        let mut availability = Availability::default();
        let in_window = |day: i64| (0..AVAILABILITY_DAYS).contains(&(newest - day));
        for (_, ok, failed) in state.probe_days.iter().filter(|(day, _, _)| in_window(*day)) {
            availability.ok += u64::from(*ok);
            availability.failed += u64::from(*failed);
        }
        let Some(first) = state.probe_days.first().map(|(day, _, _)| *day) else {
            return availability;
        };
        for day in first.max(newest - AVAILABILITY_DAYS + 1)..newest {
            let probes = state
                .probe_days
                .iter()
                .find(|(d, _, _)| *d == day)
                .map_or(0, |(_, ok, failed)| u64::from(*ok) + u64::from(*failed));
            if probes < MIN_PROBES_PER_DAY {
                let date = today.checked_sub(jiff::Span::new().days(newest - day)).unwrap_or(today);
                availability.short_days.push((date, probes));
            }
        }
        availability
    }

    pub fn probes(&self) -> u64 {
        self.ok + self.failed
    }

    /// The veto, when the failed share reaches the line over enough probes.
    pub fn veto(&self) -> Option<String> {
        let total = self.probes();
        (total >= MIN_PROBES_PER_DAY && self.failed * 100 >= MAX_FAILED_PERCENT * total).then(|| {
            format!(
                "近 {AVAILABILITY_DAYS} 天首页探测 {total} 次，{} 次打不开，占 {:.1}%（达到 {MAX_FAILED_PERCENT}% 即单项否决）",
                self.failed,
                self.failed as f64 * 100.0 / total as f64
            )
        })
    }
}

/// One site or account, gathered from its pages.
struct Gathered<'v> {
    verdict: Verdict<'v>,
    columns: ColumnCounts,
    /// Guides counted toward the guide veto, by URL (a guide listed and configured alone is one).
    guides_seen: std::collections::HashSet<String>,
}

/// A site or account: county, kind, name, platform.
type TargetKey<'v> = (&'v str, &'v str, &'v str, &'v str);

/// Judges every site and account of `view`.
pub fn judge<'v>(view: &'v View<'_>) -> Judgement<'v> {
    let thresholds = Thresholds::default();
    // Gathered in the order met, found by a hash: a province has tens of thousands of pages, and
    // a target's pages mostly come one after another (the last one is tried first).
    let mut targets: Vec<(TargetKey<'v>, Gathered<'v>)> = Vec::new();
    let mut index: HashMap<TargetKey<'v>, usize> = HashMap::new();
    for page in view.pages() {
        let labels = PageLabels { column: "", channel: "", ..page.labels };
        let key = (labels.county, labels.kind, labels.target, labels.platform);
        let at = match targets.last() {
            Some((last, _)) if *last == key => targets.len() - 1,
            _ => *index.entry(key).or_insert_with(|| {
                targets.push((
                    key,
                    Gathered {
                        verdict: Verdict { labels, reasons: Vec::new(), notes: Vec::new(), exempted: Vec::new() },
                        columns: ColumnCounts::default(),
                        guides_seen: std::collections::HashSet::new(),
                    },
                ));
                targets.len() - 1
            }),
        };
        let gathered = &mut targets[at].1;
        let verdict = &mut gathered.verdict;
        if matches!(page.role, Role::Home | Role::Account) {
            // The home page or the account names the unit responsible.
            verdict.labels.unit = labels.unit;
        }
        // Made only for a page with a veto: most pages have none.
        let place = || match page.role {
            Role::Column => format!("栏目「{}」：", page.labels.column),
            Role::Channel => format!("「{}」：", page.labels.channel),
            Role::Home | Role::Account => String::new(),
        };
        for finding in page.findings.iter().filter(|finding| finding.severity == Severity::Veto) {
            verdict.reasons.push(Reason {
                code: ReasonCode::Finding(finding.code),
                detail: format!("{}：{}{}", finding.code.label_zh(), place(), finding.detail),
            });
        }
        // A possible match (a near name) is for a person to confirm, not a reason.
        for finding in page.registry_findings().iter().filter(|finding| finding.severity != Severity::Warning) {
            verdict.reasons.push(Reason { code: ReasonCode::Finding(finding.code), detail: finding.detail.clone() });
        }
        verdict.exempted.extend(page.exempted.iter().map(|(finding, exemption)| (finding.code, exemption.id)));
        if let Some(standing) = page.standing {
            verdict.exempted.extend(standing.exempted.iter().map(|(finding, id)| (finding.code, *id)));
        }
        match page.role {
            Role::Column => {
                gathered.columns.add(
                    page.observation().column_kind,
                    page.counts(FindingCode::ColumnNotUpdated) || page.counts(FindingCode::ColumnUndated),
                    page.counts(FindingCode::ColumnBlank),
                );
                gathered.columns.add_guides(page.observation(), &thresholds, &mut gathered.guides_seen);
            }
            Role::Home => {
                let availability = Availability::of(page.state, view.today);
                if let Some(detail) = availability.veto() {
                    verdict.reasons.push(Reason { code: ReasonCode::Rule(Rule::SiteUnavailable), detail });
                }
                if !availability.short_days.is_empty() {
                    let days: Vec<String> =
                        availability.short_days.iter().map(|(date, probes)| format!("{date} 仅 {probes} 次")).collect();
                    verdict.notes.push(Reason {
                        code: ReasonCode::Rule(Rule::ProbesInsufficient),
                        detail: format!(
                            "每天应探测 {MIN_PROBES_PER_DAY} 次以上，{}；请检查该县区采集代理是否持续运行",
                            days.join("，")
                        ),
                    });
                }
            }
            Role::Channel | Role::Account => {}
        }
    }

    targets.sort_unstable_by_key(|(key, _)| *key);
    let mut verdicts: Vec<Verdict<'v>> = targets
        .into_iter()
        .map(|(_, gathered)| {
            let mut verdict = gathered.verdict;
            for (rule, detail) in gathered.columns.vetoes(&thresholds) {
                verdict.reasons.push(Reason { code: ReasonCode::Rule(rule), detail });
            }
            verdict
        })
        .collect();
    for filing in view.unmonitored() {
        verdicts.push(Verdict {
            labels: PageLabels::of_filing(filing),
            reasons: vec![Reason {
                code: ReasonCode::Finding(FindingCode::Unmonitored),
                detail: "已备案且在运行，但没有任何采集代理巡检".to_string(),
            }],
            notes: Vec::new(),
            exempted: Vec::new(),
        });
    }
    let ratios = pass_ratios(&verdicts);
    Judgement { verdicts, ratios }
}

/// Per county and kind, then [`WHOLE_CITY`] per kind.
fn pass_ratios(verdicts: &[Verdict<'_>]) -> Vec<PassRatio> {
    let mut counts: BTreeMap<(&str, &str), (u32, u32)> = BTreeMap::new();
    for verdict in verdicts {
        let passed = u32::from(verdict.pass());
        for county in [verdict.labels.county, WHOLE_CITY] {
            let entry = counts.entry((county, verdict.labels.kind)).or_default();
            entry.0 += 1;
            entry.1 += passed;
        }
    }
    let mut ratios: Vec<PassRatio> = counts
        .into_iter()
        .filter_map(|((county, kind), (judged, passed))| {
            let kind = TargetKind::named(kind)?;
            Some(PassRatio { county: county.to_string(), kind, judged, passed })
        })
        .collect();
    // The whole city last, as a total row.
    ratios.sort_by_key(|ratio| (ratio.county == WHOLE_CITY, ratio.county.clone(), ratio.kind));
    ratios
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use jiff::civil::Date;
    use xunjian_shared::config::{ColumnKind, Platform};
    use xunjian_shared::wire::{CheckKind, Finding, Observation};

    use super::*;
    use crate::projection::{Dirty, ProbeStreak, Snapshot, SubjectKey};
    use crate::registry::{Channel, Exemption, Filing, FilingStatus, Registry};

    const TODAY: Date = Date::constant(2026, 11, 20);

    fn state(county: &str, observation: Observation, probe_days: ProbeDays) -> SubjectState {
        SubjectState {
            county: county.into(),
            observation,
            probes_ok: 0,
            probes_failed: 0,
            probe_days,
            streak: ProbeStreak::default(),
            received_at: Timestamp::UNIX_EPOCH,
            awaiting_checkpoint: false,
            problems: Vec::new(),
        }
    }

    fn home(target: &str, findings: Vec<Finding>) -> Observation {
        let mut observation = Observation::new(
            target,
            TargetKind::Site,
            "县政府办",
            "http://x/",
            CheckKind::Availability,
            Timestamp::UNIX_EPOCH,
        );
        observation.findings = findings;
        observation
    }

    fn column(target: &str, name: &str, kind: ColumnKind, code: Option<FindingCode>) -> Observation {
        let mut observation = home(target, Vec::new());
        observation.column = Some(name.into());
        observation.column_kind = Some(kind);
        observation.findings = code.map(|code| vec![Finding::new(code, Severity::Error, "超期")]).unwrap_or_default();
        observation
    }

    fn account(name: &str, findings: Vec<Finding>) -> Observation {
        let mut observation = Observation::new(
            name,
            TargetKind::Account,
            "局",
            "http://x/feed",
            CheckKind::AccountUpdate,
            Timestamp::UNIX_EPOCH,
        );
        observation.platform = Some("wechat".into());
        observation.findings = findings;
        observation
    }

    fn filing(name: &str, channel: Channel, county: &str) -> Filing {
        Filing::new(name, channel, "单位", county, FilingStatus::Running)
    }

    /// (day, ok, failed), as the projection keeps them.
    type ProbeDays = Vec<(i64, u32, u32)>;

    /// `(county, observation, probe days)` into a snapshot, each site and account filed.
    fn world(pages: Vec<(&str, Observation, ProbeDays)>) -> (Snapshot, Registry) {
        let mut snapshot = Snapshot::default();
        let mut registry = Registry::default();
        for (county, observation, days) in pages {
            if observation.column.is_none() && observation.channel.is_none() {
                let channel = Channel::of(&observation).unwrap();
                registry.filings.push(filing(&observation.target, channel, county));
            }
            let key = SubjectKey::of(county, &observation);
            snapshot.insert_loaded(key, state(county, observation, days), &mut Dirty::default());
        }
        (snapshot, registry)
    }

    /// Each verdict as (target, pass, reason codes).
    fn verdicts(snapshot: &Snapshot, registry: &Registry) -> Vec<(String, bool, Vec<&'static str>)> {
        let view = View::of(snapshot, registry, TODAY);
        judge(&view)
            .verdicts
            .iter()
            .map(|v| (v.labels.target.to_string(), v.pass(), v.reasons.iter().map(|r| r.code.as_str()).collect()))
            .collect()
    }

    fn today() -> i64 {
        days_since_epoch(TODAY)
    }

    /// Seven full days of `per_day` probes, `failed` of them failed in all.
    fn week(per_day: u32, failed: u32) -> ProbeDays {
        (0..7)
            .map(|back| {
                let failed_today = if back == 0 { failed } else { 0 };
                (today() - 6 + back, per_day - failed_today, failed_today)
            })
            .collect()
    }

    #[test]
    fn a_veto_finding_fails_and_an_exemption_lifts_it_by_name() {
        let veto = Finding::new(FindingCode::HomeNotUpdated, Severity::Veto, "首页 20 天未更新");
        let error = Finding::new(FindingCode::DeadLinks, Severity::Error, "3 个链接打不开");
        let (snapshot, mut registry) = world(vec![
            ("龙川县", home("龙川网", vec![veto.clone(), error]), week(100, 0)),
            ("和平县", home("和平网", vec![veto]), week(100, 0)),
        ]);
        registry.exemptions.push(Exemption {
            id: 7,
            target: "和平网".into(),
            column: String::new(),
            code: FindingCode::HomeNotUpdated,
            reason: "改版".into(),
            author: "李".into(),
            created_at: Timestamp::UNIX_EPOCH,
            until: None,
            revoked_at: None,
            revoked_by: None,
        });
        assert_eq!(
            verdicts(&snapshot, &registry),
            [("和平网".to_string(), true, vec![]), ("龙川网".to_string(), false, vec!["home_not_updated"])],
            "an error-level finding alone does not fail a site"
        );
        let view = View::of(&snapshot, &registry, TODAY);
        let judgement = judge(&view);
        let heping = judgement.verdicts.iter().find(|v| v.labels.target == "和平网").unwrap();
        assert_eq!(heping.exempted, [(FindingCode::HomeNotUpdated, 7)]);
        let longchuan = judgement.verdicts.iter().find(|v| v.labels.target == "龙川网").unwrap();
        assert_eq!(longchuan.reasons[0].detail, "首页不更新：首页 20 天未更新");
    }

    #[test]
    fn accounts_find_their_filing_by_id_or_a_normalised_name_and_a_near_name_is_a_possible_match() {
        let wechat = Channel::Account(Platform::Wechat);
        let mut by_id = account("龙川政府", Vec::new());
        by_id.account_id = Some("GH_1A2B".into());
        let (snapshot, mut registry) = world(vec![
            ("龙川县", by_id, Vec::new()),
            ("龙川县", account("龙川县教育局官方", Vec::new()), Vec::new()),
            ("市直", account("河源市社会保险基金管理", Vec::new()), Vec::new()),
            ("和平县", account("和平县文明办", Vec::new()), Vec::new()),
        ]);
        registry.filings = vec![
            Filing { account_id: Some("gh_1a2b".into()), ..filing("龙川县人民政府", wechat, "龙川县") },
            filing("龙川县教育局", wechat, "龙川县"),
            filing("河源市社会保险基金管理局", wechat, ""),
        ];
        let assessment = registry.assess(&snapshot, TODAY);
        let standing = |target: &str| {
            let county = match &target[..6] {
                "河源" => "市直",
                "和平" => "和平县",
                _ => "龙川县",
            };
            &assessment.standing[&(county.to_string(), target.to_string(), wechat)]
        };
        assert_eq!(standing("龙川政府").filing.as_ref().map(|f| f.name.as_str()), Some("龙川县人民政府"), "by id");
        assert!(standing("龙川政府").findings.is_empty());
        assert_eq!(standing("龙川县教育局官方").filing.as_ref().map(|f| f.name.as_str()), Some("龙川县教育局"));
        let possible = &standing("河源市社会保险基金管理").findings;
        assert_eq!(possible.len(), 1);
        assert_eq!((possible[0].code, possible[0].severity), (FindingCode::PossiblyFiled, Severity::Warning));
        assert!(possible[0].detail.contains("河源市社会保险基金管理局"), "{}", possible[0].detail);
        assert_eq!(standing("和平县文明办").findings[0].code, FindingCode::NotFiled);
        assert!(assessment.unmonitored.is_empty(), "a filing matched, or possibly matched, is inspected");
        let failing: Vec<(String, bool, Vec<&str>)> =
            verdicts(&snapshot, &registry).into_iter().filter(|(_, pass, _)| !pass).collect();
        assert_eq!(failing, [("和平县文明办".to_string(), false, vec!["not_filed"])], "a possible match fails nothing");
    }

    #[test]
    fn the_notices_registry_rules_each_with_its_switch_and_exemption() {
        use crate::registry::UnitType;
        use xunjian_shared::wire::Freshness;
        let wechat = Channel::Account(Platform::Wechat);
        let live = |name: &str, platform: &str| {
            let mut observation = account(name, Vec::new());
            observation.platform = Some(platform.into());
            observation.freshness = Some(Freshness { items: Some(5), ..Freshness::default() });
            observation
        };
        let (mut snapshot, mut registry) = world(vec![
            ("龙川县", Observation { unit: "新单位".into(), ..live("龙川新号", "wechat") }, Vec::new()),
            ("龙川县", Observation { unit: "旧单位".into(), ..live("龙川旧号", "wechat") }, Vec::new()),
            ("龙川县", live("龙川发布", "wechat"), Vec::new()),
            ("龙川县", live("龙川政府服务", "wechat"), Vec::new()),
            ("龙川县", live("老隆镇", "wechat"), Vec::new()),
            ("龙川县", live("龙川公安", "wechat"), Vec::new()),
            ("龙川县", live("龙川快讯", "other"), Vec::new()),
            ("和平县", home("和平网", Vec::new()), week(100, 0)),
        ]);
        let at = |date: Date| xunjian_shared::time::china_midnight(date);
        let day = |back: i64| TODAY.checked_sub(jiff::Span::new().days(back)).unwrap();
        for (name, back) in [("龙川新号", 1), ("龙川旧号", 10), ("龙川政府服务", 30)] {
            snapshot.first_seen.insert(("龙川县".into(), name.into(), "wechat".into()), at(day(back)));
        }
        let filed = |name: &str, unit: &str, unit_type: UnitType, channel: Channel| Filing {
            unit_type: Some(unit_type),
            ..Filing::new(name, channel, unit, "龙川县", FilingStatus::Running)
        };
        registry.filings = vec![
            // Opened on the 1st, filed on the 6th: two days late.
            Filing {
                opened_on: Some(day(19)),
                filed_on: Some(day(14)),
                ..filed("龙川发布", "县政府办", UnitType::CountyGovernment, wechat)
            },
            // No opening date: first seen 30 days ago, filed two days after.
            Filing {
                filed_on: Some(day(28)), ..filed("龙川政府服务", "县政府办", UnitType::CountyGovernment, wechat)
            },
            filed("老隆镇", "老隆镇人民政府", UnitType::Township, wechat),
            filed("龙川公安", "县公安局", UnitType::Police, wechat),
            filed("龙川快讯", "县融媒体中心", UnitType::Other, Channel::Account(Platform::Other)),
            Filing::new("和平网", Channel::Website, "县政府办", "和平县", FilingStatus::Running),
        ];
        registry.rules.required_platforms = vec![Platform::Wechat, Platform::Douyin];
        let codes = |registry: &Registry, snapshot: &Snapshot| {
            let assessment = registry.assess(snapshot, TODAY);
            let mut found: Vec<(String, &'static str)> = assessment
                .standing
                .iter()
                .flat_map(|((_, target, _), standing)| {
                    standing.findings.iter().map(move |f| (target.clone(), f.code.as_str()))
                })
                .collect();
            found.extend(
                assessment
                    .counties_without_account
                    .iter()
                    .map(|(county, platform, f)| (format!("{county}/{}", platform.as_str()), f.code.as_str())),
            );
            found.sort();
            (found, assessment)
        };
        let (found, assessment) = codes(&registry, &snapshot);
        assert_eq!(
            found,
            [
                ("和平县/douyin".to_string(), "county_without_account"),
                ("和平县/wechat".to_string(), "county_without_account"),
                ("老隆镇".to_string(), "unit_type_not_allowed"),
                ("龙川县/douyin".to_string(), "county_without_account"),
                ("龙川发布".to_string(), "duplicate_account"),
                ("龙川发布".to_string(), "filed_late"),
                ("龙川快讯".to_string(), "platform_not_mainstream"),
                ("龙川政府服务".to_string(), "duplicate_account"),
                ("龙川新号".to_string(), "filing_pending"),
                ("龙川旧号".to_string(), "not_filed"),
            ]
        );
        let standing = |target: &str| &assessment.standing[&("龙川县".to_string(), target.to_string(), wechat)];
        let late = standing("龙川发布").findings.iter().find(|f| f.code == FindingCode::FiledLate).unwrap();
        assert!(late.detail.contains("迟报 2 天"), "{}", late.detail);
        let pending = &standing("龙川新号").findings[0];
        assert_eq!(pending.severity, Severity::Warning);
        assert!(pending.detail.contains("2026-11-22 前"), "{}", pending.detail);
        assert!(standing("龙川旧号").findings[0].detail.contains("首次发现于 2026-11-10"));
        // Each rule has its switch, and an exemption for one account.
        registry.rules.duplicate_account = false;
        registry.rules.required_platforms.clear();
        registry.exemptions.push(Exemption {
            id: 9,
            target: "龙川发布".into(),
            column: String::new(),
            code: FindingCode::FiledLate,
            reason: "开设日期登记有误".into(),
            author: "李".into(),
            created_at: Timestamp::UNIX_EPOCH,
            until: None,
            revoked_at: None,
            revoked_by: None,
        });
        let (found, assessment) = codes(&registry, &snapshot);
        assert!(
            found.iter().all(|(_, code)| !["duplicate_account", "county_without_account", "filed_late"].contains(code))
        );
        assert_eq!(assessment.standing[&("龙川县".to_string(), "龙川发布".to_string(), wechat)].exempted[0].1, 9);
    }

    #[test]
    fn a_county_government_without_a_required_account_is_found_in_the_registrys_and_agents_counties() {
        use crate::registry::UnitType;
        use xunjian_shared::wire::Freshness;
        let wechat = Channel::Account(Platform::Wechat);
        let live = |name: &str| {
            let mut observation = account(name, Vec::new());
            observation.platform = Some("wechat".into());
            observation.freshness = Some(Freshness { items: Some(5), ..Freshness::default() });
            observation
        };
        let mut silent = account("连平发布", Vec::new());
        silent.platform = Some("wechat".into());
        let (snapshot, mut registry) = world(vec![
            ("连平县", silent, Vec::new()),
            ("龙川县", live("龙川服务"), Vec::new()),
            ("和平县", home("和平网", Vec::new()), week(100, 0)),
            ("市直", live("河源发布"), Vec::new()),
            // The city's own agent with nothing typed in the registry: still not a county.
            ("市直", live("河源应急"), Vec::new()),
            // Inspected under a near name of its filing: the county's account all the same.
            ("紫金县", live("紫金县人民政府"), Vec::new()),
        ]);
        let filed = |name: &str, county: &str, unit_type: UnitType, status: FilingStatus| Filing {
            unit_type: Some(unit_type),
            ..Filing::new(name, wechat, "政府办", county, status)
        };
        registry.filings = vec![
            // The city's rows untyped: `[report] city_units` alone says 市直 is no county.
            Filing {
                unit_type: None, ..filed("河源发布", "市直", UnitType::CityDepartment, FilingStatus::Running)
            },
            // Filed and running, no agent inspects it: taken at the registry's word.
            filed("东源发布", "东源县", UnitType::CountyGovernment, FilingStatus::Running),
            // Inspected, and shows no posts: not an account the county has.
            filed("连平发布", "连平县", UnitType::CountyGovernment, FilingStatus::Running),
            // Filed as closed, yet live: reported as that, not counted as the county's account.
            filed("龙川服务", "龙川县", UnitType::CountyGovernment, FilingStatus::Closed),
            filed("紫金县人民政府网", "紫金县", UnitType::CountyGovernment, FilingStatus::Running),
        ];
        registry.rules.required_platforms = vec![Platform::Wechat];
        let counties: Vec<String> = registry
            .assess(&snapshot, TODAY)
            .counties_without_account
            .into_iter()
            .map(|(county, platform, finding)| {
                assert_eq!((platform, finding.code), (Platform::Wechat, FindingCode::CountyWithoutAccount));
                county
            })
            .collect();
        assert_eq!(
            counties,
            ["和平县", "连平县", "龙川县"],
            "市直 is the city's units; 东源县 filed one; 紫金县 has one"
        );
    }

    #[test]
    fn accounts_a_site_points_to_that_nobody_filed_or_inspects_are_candidates() {
        use xunjian_shared::wire::{Audit, LinkedAccount};
        let wechat = Channel::Account(Platform::Wechat);
        let linked = |platform: &str, name: &str, id: Option<&str>| LinkedAccount {
            platform: platform.into(),
            name: name.into(),
            id: id.map(String::from),
        };
        let mut portal = home("龙川网", Vec::new());
        portal.audit = Some(Audit {
            linked_accounts: Some(vec![
                linked("wechat", "龙川发布", None),
                linked("wechat", "龙川融媒", None),
                linked("weibo", "", Some("5988123456")),
                linked("douyin", "", Some("lcga110")),
                linked("wechat", "龙川融媒", None),
            ]),
            ..Audit::default()
        });
        let mut police = account("龙川公安", Vec::new());
        police.platform = Some("douyin".into());
        police.account_id = Some("LCGA110".into());
        let (snapshot, mut registry) = world(vec![
            ("龙川县", portal, week(100, 0)),
            ("龙川县", account("龙川发布", Vec::new()), Vec::new()),
            ("龙川县", police, Vec::new()),
            // Another county's agent listing the name (unfiled) hides nothing of 龙川's.
            ("和平县", account("龙川融媒", Vec::new()), Vec::new()),
        ]);
        registry.filings.retain(|filing| filing.county != "和平县");
        let discovered = |registry: &Registry| -> Vec<(String, Channel)> {
            registry.assess(&snapshot, TODAY).discovered.into_iter().map(|d| (d.name, d.channel)).collect()
        };
        assert_eq!(
            discovered(&registry),
            [("龙川融媒".to_string(), wechat), ("5988123456".to_string(), Channel::Account(Platform::Weibo))],
            "the filed and inspected 龙川发布 and the inspected 龙川公安 (by its id) are not; 龙川融媒 once"
        );
        registry.rules.account_discovered = false;
        assert_eq!(discovered(&registry), [], "switched off in [registry]");
        registry.rules.account_discovered = true;
        registry.filings.push(Filing {
            account_id: Some("5988123456".into()),
            ..filing("龙川县人民政府", Channel::Account(Platform::Weibo), "龙川县")
        });
        registry.exemptions.push(Exemption {
            id: 4,
            target: "龙川融媒".into(),
            column: String::new(),
            code: FindingCode::AccountDiscovered,
            reason: "企业号，非政务账号".into(),
            author: "李".into(),
            created_at: Timestamp::UNIX_EPOCH,
            until: None,
            revoked_at: None,
            revoked_by: None,
        });
        assert_eq!(discovered(&registry), [], "filed by its id, and dismissed with a reason");
    }

    #[test]
    fn column_counts_veto_at_five_ten_and_five() {
        let stale = Some(FindingCode::ColumnNotUpdated);
        let mut pages = vec![("龙川县", home("龙川网", Vec::new()), week(100, 0))];
        for i in 0..4 {
            pages.push(("龙川县", column("龙川网", &format!("动态{i}"), ColumnKind::News, stale), Vec::new()));
        }
        for i in 0..5 {
            pages.push(("龙川县", column("龙川网", &format!("人事{i}"), ColumnKind::Planning, stale), Vec::new()));
        }
        let (snapshot, registry) = world(pages.clone());
        assert_eq!(verdicts(&snapshot, &registry), [("龙川网".to_string(), true, vec![])], "4 key, 9 in all");

        pages.push(("龙川县", column("龙川网", "通知", ColumnKind::Notice, stale), Vec::new()));
        let (snapshot, registry) = world(pages.clone());
        assert_eq!(
            verdicts(&snapshot, &registry),
            [("龙川网".to_string(), false, vec!["stale_key_columns", "stale_columns"])]
        );

        let mut blanks = vec![("和平县", home("和平网", Vec::new()), week(100, 0))];
        for i in 0..5 {
            let code = Some(FindingCode::ColumnBlank);
            blanks.push(("和平县", column("和平网", &format!("空{i}"), ColumnKind::Other, code), Vec::new()));
        }
        let (snapshot, registry) = world(blanks);
        assert_eq!(verdicts(&snapshot, &registry), [("和平网".to_string(), false, vec!["blank_columns"])]);
    }

    #[test]
    fn availability_fails_at_five_percent_of_seven_china_days() {
        let judged = |days: ProbeDays| {
            let (snapshot, registry) = world(vec![("龙川县", home("龙川网", Vec::new()), days)]);
            verdicts(&snapshot, &registry)[0].1
        };
        // 700 probes: 35 failed is 5 % exactly (inclusive), 34 is not.
        assert!(!judged(week(100, 35)));
        assert!(judged(week(100, 34)));
        // Failures of the eighth day back are outside the window.
        let mut old = week(100, 0);
        old.insert(0, (today() - 7, 0, 500));
        assert!(judged(old));
        // Too few probes to judge at all.
        assert!(judged(vec![(today(), 10, 9)]));

        let (snapshot, registry) = world(vec![(
            "龙川县",
            home("龙川网", Vec::new()),
            vec![(today() - 3, 30, 0), (today() - 1, 12, 0), (today(), 5, 0)],
        )]);
        let view = View::of(&snapshot, &registry, TODAY);
        let judgement = judge(&view);
        let verdict = &judgement.verdicts[0];
        assert!(verdict.pass(), "too few probes is the monitoring's gap, not the site's");
        assert_eq!(verdict.notes.len(), 1);
        let note = &verdict.notes[0].detail;
        assert!(note.contains("2026-11-18 仅 0 次") && note.contains("2026-11-19 仅 12 次"), "{note}");
        assert!(!note.contains("2026-11-17") && !note.contains("2026-11-20"), "{note}");
    }

    #[test]
    fn registry_problems_fail_accounts_and_ratios_count_per_county_and_city() {
        let closed = Finding::new(FindingCode::AccountInteractionClosed, Severity::Veto, "评论已关闭");
        let (snapshot, mut registry) = world(vec![
            ("市直", account("河源发布", Vec::new()), Vec::new()),
            ("市直", account("河源市生态环境局", vec![closed]), Vec::new()),
            ("市直", account("河源市社会保险基金管理局", Vec::new()), Vec::new()),
            ("龙川县", home("龙川网", Vec::new()), week(100, 0)),
        ]);
        registry.filings.retain(|f| f.name != "河源市社会保险基金管理局");
        registry.filings.push(filing(
            "龙川县公共服务中心",
            Channel::Account(xunjian_shared::config::Platform::Wechat),
            "龙川县",
        ));
        let found = verdicts(&snapshot, &registry);
        assert_eq!(
            found,
            [
                ("河源发布".to_string(), true, vec![]),
                ("河源市生态环境局".to_string(), false, vec!["account_interaction_closed"]),
                ("河源市社会保险基金管理局".to_string(), false, vec!["not_filed"]),
                ("龙川网".to_string(), true, vec![]),
                ("龙川县公共服务中心".to_string(), false, vec!["unmonitored"]),
            ]
        );
        let view = View::of(&snapshot, &registry, TODAY);
        let ratios: Vec<(String, &str, u32, u32)> =
            judge(&view).ratios.iter().map(|r| (r.county.clone(), r.kind.as_str(), r.judged, r.passed)).collect();
        assert_eq!(
            ratios,
            [
                ("市直".to_string(), "account", 3, 1),
                ("龙川县".to_string(), "site", 1, 1),
                ("龙川县".to_string(), "account", 1, 0),
                ("全市".to_string(), "site", 1, 1),
                ("全市".to_string(), "account", 4, 1),
            ]
        );
    }
}
