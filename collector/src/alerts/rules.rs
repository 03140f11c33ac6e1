//! The built-in rules and what they find in the projection: one [`Instance`] per thing wrong,
//! with its labels, its Chinese summary and, where the data tells, since when.
//!
//! Each rule is defaults (severity, `for`, threshold) that `[[alerts.rule]]` and then matching
//! `[[alerts.override]]`s change, per county and target. Findings under an exemption raise
//! nothing. Pure: the engine ([`super::engine`]) keeps state.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use xunjian_shared::config::AlertSeverity;
use xunjian_shared::config::alerts::{AlertsConfig, RuleChange};
use xunjian_shared::time::china_today;
use xunjian_shared::wire::{Finding, FindingCode, Observation, Severity};

use crate::tasks::{Task, TaskState};
use crate::view::{PageLabels, View};

/// What a rule looks at.
#[derive(Clone, Copy, Debug)]
enum Condition {
    /// Any of these findings on a page (severity from the finding unless configured).
    Findings(&'static [FindingCode]),
    /// Availability probes failing `threshold` times in a row.
    FailuresInARow,
    /// Successful probes over the last 7 days below `threshold` (a ratio), with enough probes.
    AvailabilityBelow,
    /// An agent that has not pushed for `threshold` minutes.
    AgentSilent,
    /// An agent whose client certificate expires within `threshold` days.
    CertificateExpiring,
    /// The registry's comparison.
    Registry(FindingCode),
    /// A 整改 task past its deadline without an answer.
    TaskOverdue,
    /// A 整改 task the re-check sent back (整改未到位).
    TaskNotFixed,
}

pub struct Rule {
    pub name: &'static str,
    /// 告警名称 in messages.
    pub title: &'static str,
    condition: Condition,
    /// Findings below this severity are reminders on the status page, not alerts.
    min_finding: Severity,
    severity: Option<AlertSeverity>,
    for_duration: Duration,
    threshold: Option<f64>,
}

const fn rule(name: &'static str, title: &'static str, condition: Condition) -> Rule {
    Rule {
        name,
        title,
        condition,
        min_finding: Severity::Error,
        severity: None,
        for_duration: Duration::ZERO,
        threshold: None,
    }
}

/// Every built-in rule, in the order of `RULE_NAMES`.
pub static RULES: [Rule; 36] = [
    Rule {
        severity: Some(AlertSeverity::Critical),
        threshold: Some(3.0),
        ..rule("XunjianSiteDown", "网站无法访问", Condition::FailuresInARow)
    },
    Rule {
        severity: Some(AlertSeverity::Critical),
        threshold: Some(0.95),
        ..rule("XunjianAvailabilityLow", "近 7 天首页打不开占比达到 5%", Condition::AvailabilityBelow)
    },
    Rule {
        min_finding: Severity::Warning,
        ..rule(
            "XunjianTlsCertificate",
            "HTTPS 证书无效或即将过期",
            Condition::Findings(&[FindingCode::TlsCertificateInvalid, FindingCode::TlsCertificateExpiring]),
        )
    },
    rule("XunjianHomeStale", "首页不更新", Condition::Findings(&[FindingCode::HomeNotUpdated])),
    rule(
        "XunjianColumnStale",
        "栏目不更新",
        Condition::Findings(&[
            FindingCode::ColumnNotUpdated,
            FindingCode::ColumnUndated,
            FindingCode::ColumnUnreachable,
        ]),
    ),
    rule("XunjianColumnBlank", "空白栏目", Condition::Findings(&[FindingCode::ColumnBlank])),
    rule("XunjianChannelMissing", "未提供互动交流渠道", Condition::Findings(&[FindingCode::InteractionChannelMissing])),
    rule(
        "XunjianInteractionUnreachable",
        "互动渠道无法访问",
        Condition::Findings(&[FindingCode::InteractionUnreachable]),
    ),
    rule("XunjianInteractionOverdue", "留言超期未答复", Condition::Findings(&[FindingCode::InteractionOverdue])),
    rule(
        "XunjianInteractionUnanswered",
        "留言超过 3 个月未回应",
        Condition::Findings(&[FindingCode::InteractionUnanswered]),
    ),
    rule(
        "XunjianAccountUnreachable",
        "政务新媒体账号无法读取",
        Condition::Findings(&[FindingCode::AccountUnreachable]),
    ),
    rule("XunjianAccountStale", "政务新媒体账号不更新", Condition::Findings(&[FindingCode::AccountNotUpdated])),
    rule(
        "XunjianAccountInteractionClosed",
        "政务新媒体互动功能不通畅",
        Condition::Findings(&[FindingCode::AccountInteractionClosed]),
    ),
    rule("XunjianDeadLinks", "首页存在不可用链接", Condition::Findings(&[FindingCode::DeadLinks])),
    rule("XunjianWordingError", "严重表述错误或错别字", Condition::Findings(&[FindingCode::WordingError])),
    // Critical, and only for links carrying gambling, pornography or fraud terms (the veto);
    // those hidden without such a term are on the status page and in the ledger.
    Rule {
        severity: Some(AlertSeverity::Critical),
        min_finding: Severity::Veto,
        ..rule("XunjianHiddenLinks", "网站存在暗链", Condition::Findings(&[FindingCode::HiddenLinks]))
    },
    Rule {
        severity: Some(AlertSeverity::Critical),
        min_finding: Severity::Veto,
        ..rule(
            "XunjianSensitiveContent",
            "网页含赌博色情诈骗内容（疑似被篡改）",
            Condition::Findings(&[FindingCode::SensitiveContent]),
        )
    },
    // Critical for the veto (a redirecting script, or terms only crawlers are shown); a
    // crawler's page that is merely different is a reminder.
    Rule {
        severity: Some(AlertSeverity::Critical),
        min_finding: Severity::Veto,
        ..rule("XunjianCloaking", "网站对搜索引擎被劫持", Condition::Findings(&[FindingCode::Cloaking]))
    },
    Rule {
        severity: Some(AlertSeverity::Warning),
        min_finding: Severity::Warning,
        ..rule("XunjianHomeChanged", "首页内容突变", Condition::Findings(&[FindingCode::HomeChanged]))
    },
    Rule {
        severity: Some(AlertSeverity::Info),
        min_finding: Severity::Warning,
        ..rule("XunjianMixedContent", "HTTPS 页面加载明文 HTTP 资源", Condition::Findings(&[FindingCode::MixedContent]))
    },
    Rule {
        severity: Some(AlertSeverity::Info),
        min_finding: Severity::Warning,
        ..rule("XunjianIpv6Unreachable", "网站不支持 IPv6 访问", Condition::Findings(&[FindingCode::Ipv6Unreachable]))
    },
    rule(
        "XunjianGuidesIncomplete",
        "办事指南要素不齐全",
        Condition::Findings(&[FindingCode::GuideElementsMissing, FindingCode::GuideVeto]),
    ),
    rule(
        "XunjianPolicyNotInterpreted",
        "政策解读缺失或不及时",
        Condition::Findings(&[FindingCode::PolicyNotInterpreted, FindingCode::InterpretationLate]),
    ),
    Rule {
        severity: Some(AlertSeverity::Warning),
        ..rule("XunjianAccountNotFiled", "账号未备案（漏报）", Condition::Registry(FindingCode::NotFiled))
    },
    Rule {
        severity: Some(AlertSeverity::Warning),
        ..rule("XunjianAccountClosedButLive", "已关停账号仍在运行", Condition::Registry(FindingCode::ClosedButLive))
    },
    Rule {
        severity: Some(AlertSeverity::Info),
        ..rule("XunjianRegistryUnmonitored", "已备案但无人巡检", Condition::Registry(FindingCode::Unmonitored))
    },
    Rule {
        severity: Some(AlertSeverity::Warning),
        ..rule("XunjianAccountFiledLate", "账号备案不及时", Condition::Registry(FindingCode::FiledLate))
    },
    Rule {
        severity: Some(AlertSeverity::Warning),
        ..rule(
            "XunjianDuplicateAccount",
            "同一单位同平台重复开设账号",
            Condition::Registry(FindingCode::DuplicateAccount),
        )
    },
    Rule {
        severity: Some(AlertSeverity::Warning),
        ..rule(
            "XunjianUnitTypeNotAllowed",
            "不应单独开设账号的单位开设了账号",
            Condition::Registry(FindingCode::UnitTypeNotAllowed),
        )
    },
    Rule {
        severity: Some(AlertSeverity::Warning),
        ..rule(
            "XunjianPlatformNotMainstream",
            "账号开设在非主流平台",
            Condition::Registry(FindingCode::PlatformNotMainstream),
        )
    },
    Rule {
        severity: Some(AlertSeverity::Warning),
        ..rule(
            "XunjianCountyWithoutAccount",
            "县级政府未开设必备账号",
            Condition::Registry(FindingCode::CountyWithoutAccount),
        )
    },
    Rule {
        severity: Some(AlertSeverity::Critical),
        threshold: Some(15.0),
        ..rule("XunjianAgentSilent", "采集代理失联", Condition::AgentSilent)
    },
    Rule {
        severity: Some(AlertSeverity::Info),
        ..rule(
            "XunjianCalendarYearUnknown",
            "节假日日历缺少年份",
            Condition::Findings(&[FindingCode::CalendarYearUnknown]),
        )
    },
    Rule {
        severity: Some(AlertSeverity::Warning),
        threshold: Some(30.0),
        ..rule("XunjianAgentCertificateExpiring", "采集代理证书即将过期", Condition::CertificateExpiring)
    },
    Rule {
        severity: Some(AlertSeverity::Warning),
        ..rule("XunjianRectificationOverdue", "整改逾期未反馈", Condition::TaskOverdue)
    },
    Rule {
        severity: Some(AlertSeverity::Warning),
        ..rule("XunjianRectificationNotFixed", "整改未到位", Condition::TaskNotFixed)
    },
];

/// Probes needed over 7 days before availability is judged: the verdict's.
const MIN_PROBES_FOR_RATIO: u64 = crate::judge::MIN_PROBES_PER_DAY;

/// One thing a rule finds wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub fingerprint: String,
    pub alertname: String,
    pub title: String,
    pub severity: AlertSeverity,
    pub labels: BTreeMap<String, String>,
    /// What is wrong, in the collector's words: finding names and measures, nothing a site or
    /// an agent wrote (notifications say this).
    pub description: String,
    /// The agents' details of the findings (site text included), for the API and status page.
    pub detail: String,
    /// Since when, where the data tells (a failure run's first failure, the last push).
    pub since: Option<Timestamp>,
    pub for_duration: Duration,
}

/// A rule's settings for one county and target, after the configuration.
struct Effective {
    enabled: bool,
    severity: Option<AlertSeverity>,
    for_duration: Duration,
    threshold: Option<f64>,
    labels: Vec<(String, String)>,
}

fn effective(rule: &Rule, config: &AlertsConfig, county: &str, target: &str) -> Effective {
    let mut settings = Effective {
        enabled: true,
        severity: rule.severity,
        for_duration: rule.for_duration,
        threshold: rule.threshold,
        labels: Vec::new(),
    };
    let mut apply = |change: &RuleChange| {
        if let Some(enabled) = change.enabled {
            settings.enabled = enabled;
        }
        if change.severity.is_some() {
            settings.severity = change.severity;
        }
        if let Some(for_duration) = change.for_duration {
            settings.for_duration = for_duration;
        }
        if change.threshold.is_some() && rule.threshold.is_some() {
            settings.threshold = change.threshold;
        }
        settings.labels.extend(change.labels.iter().cloned());
    };
    for setting in config.rules.iter().filter(|s| s.name == rule.name) {
        apply(&setting.change);
    }
    for over in &config.overrides {
        let matches = over.county.as_deref().is_none_or(|c| c == county)
            && over.target.as_deref().is_none_or(|t| t == target)
            && over.rule.as_deref().is_none_or(|r| r == rule.name);
        if matches {
            apply(&over.change);
        }
    }
    settings
}

fn severity_of(finding: Severity) -> AlertSeverity {
    match finding {
        Severity::Veto => AlertSeverity::Critical,
        Severity::Error => AlertSeverity::Warning,
        Severity::Warning => AlertSeverity::Info,
    }
}

/// A stable id from the identifying labels (FNV-1a, 64 bits, hex).
fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (key, value) in labels.iter().filter(|(key, _)| key.as_str() != "severity") {
        for byte in key.bytes().chain([0xff]).chain(value.bytes()).chain([0xfe]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

struct Builder<'a> {
    config: &'a AlertsConfig,
    found: Vec<Instance>,
}

impl Builder<'_> {
    /// Adds an instance of `rule` for the page with `labels` (county, target … already set).
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        rule: &Rule,
        mut labels: BTreeMap<String, String>,
        finding_severity: Option<Severity>,
        description: String,
        detail: String,
        since: Option<Timestamp>,
    ) {
        let county = labels.get("county").cloned().unwrap_or_default();
        let target = labels.get("target").cloned().unwrap_or_default();
        let settings = effective(rule, self.config, &county, &target);
        if !settings.enabled {
            return;
        }
        let severity = settings.severity.or(finding_severity.map(severity_of)).unwrap_or(AlertSeverity::Warning);
        labels.retain(|_, value| !value.is_empty());
        labels.insert("alertname".into(), rule.name.into());
        for (key, value) in settings.labels {
            labels.insert(key, value);
        }
        labels.insert("severity".into(), severity.as_str().into());
        self.found.push(Instance {
            fingerprint: fingerprint(&labels),
            alertname: rule.name.into(),
            title: rule.title.into(),
            severity,
            labels,
            description,
            detail,
            since,
            for_duration: settings.for_duration,
        });
    }
}

/// Every instance the rules find now, in the projection and in the 整改 tasks.
pub fn evaluate(view: &View<'_>, tasks: &[Task], config: &AlertsConfig, now: Timestamp) -> Vec<Instance> {
    let today = view.today;
    let mut builder = Builder { config, found: Vec::new() };
    for page in view.pages() {
        let (state, observation) = (page.state, page.observation());
        // Built only for a page that raises something: most pages raise nothing.
        let labels = || page.labels.alert_labels();
        for rule in &RULES {
            match rule.condition {
                Condition::Findings(codes) => {
                    let findings: Vec<&Finding> = page
                        .findings
                        .iter()
                        .copied()
                        .filter(|f| codes.contains(&f.code) && f.severity >= rule.min_finding)
                        .collect();
                    if let Some(worst) = findings.iter().map(|f| f.severity).max() {
                        let detail = findings.iter().map(|f| f.detail.as_str()).collect::<Vec<_>>().join("；");
                        builder.add(rule, labels(), Some(worst), summary(observation, &findings), detail, None);
                    }
                }
                Condition::FailuresInARow => {
                    let county = &state.county;
                    let needed = effective(rule, config, county, &observation.target).threshold.unwrap_or(3.0);
                    if state.streak.failures > 0 && f64::from(state.streak.failures) >= needed {
                        let detail = observation
                            .findings
                            .iter()
                            .find(|f| matches!(f.code, FindingCode::SiteUnreachable | FindingCode::HttpError))
                            .map(|f| f.detail.clone())
                            .unwrap_or_default();
                        let description =
                            format!("连续 {} 次探测失败（{}）", state.streak.failures, fetch_reason(observation));
                        builder.add(rule, labels(), None, description, detail, state.streak.since);
                    }
                }
                Condition::AvailabilityBelow => {
                    let availability = crate::judge::Availability::of(state, today);
                    let (ok, failed, total) = (availability.ok, availability.failed, availability.probes());
                    let line = effective(rule, config, &state.county, &observation.target).threshold.unwrap_or(0.95);
                    // Whole percents, so that 95 % of 20 probes is exactly 19 (the indicator's
                    // "超过（含）5%" is inclusive).
                    let line_percent = (line * 100.0).round() as u64;
                    if total >= MIN_PROBES_FOR_RATIO && ok * 100 <= line_percent * total {
                        let description = format!(
                            "近 7 天 {total} 次探测中 {failed} 次失败，可用率 {:.1}%（不高于 {line_percent}% 即单项否决）",
                            ok as f64 * 100.0 / total as f64,
                        );
                        builder.add(rule, labels(), None, description, String::new(), None);
                    }
                }
                Condition::AgentSilent
                | Condition::Registry(_)
                | Condition::CertificateExpiring
                | Condition::TaskOverdue
                | Condition::TaskNotFixed => {}
            }
        }
    }
    for rule in &RULES {
        match rule.condition {
            Condition::AgentSilent => {
                for (agent, state) in view.agents() {
                    let minutes = effective(rule, config, &state.county, "").threshold.unwrap_or(15.0);
                    let silent = now.as_second() - state.last_push_at.as_second();
                    if silent as f64 >= minutes * 60.0 {
                        let mut labels = BTreeMap::new();
                        labels.insert("county".to_string(), state.county.clone());
                        labels.insert("agent".to_string(), agent.clone());
                        let description = format!(
                            "采集代理 {agent} 已 {} 分钟未推送数据（阈值 {minutes:.0} 分钟）；请检查该县区的巡检主机、网络和证书",
                            silent / 60
                        );
                        builder.add(rule, labels, None, description, String::new(), Some(state.last_push_at));
                    }
                }
            }
            Condition::CertificateExpiring => {
                for (agent, state) in view.agents() {
                    let Some(not_after) = state.certificate_not_after else { continue };
                    let days = effective(rule, config, &state.county, "").threshold.unwrap_or(30.0);
                    let left = (not_after.as_second() - now.as_second()) as f64 / 86_400.0;
                    if left < days {
                        let mut labels = BTreeMap::new();
                        labels.insert("county".to_string(), state.county.clone());
                        labels.insert("agent".to_string(), agent.clone());
                        let description = format!(
                            "采集代理 {agent} 的客户端证书将于 {} 过期（还剩 {:.0} 天）；请用 xunjian-collector certs renew 换发并部署",
                            china_today(not_after),
                            left.max(0.0).floor()
                        );
                        builder.add(rule, labels, None, description, String::new(), None);
                    }
                }
            }
            Condition::Registry(FindingCode::Unmonitored) => {
                for filing in view.unmonitored() {
                    let labels = PageLabels::of_filing(filing).alert_labels();
                    let description = format!(
                        "{}「{}」已备案（{}），但没有任何采集代理巡检",
                        filing.channel.label_zh(),
                        filing.name,
                        filing.status.label_zh()
                    );
                    builder.add(rule, labels, None, description, String::new(), None);
                }
            }
            Condition::Registry(FindingCode::CountyWithoutAccount) => {
                for (county, platform, finding) in &view.assessment.counties_without_account {
                    let mut labels = BTreeMap::new();
                    labels.insert("county".to_string(), county.clone());
                    labels.insert("platform".to_string(), platform.as_str().to_string());
                    let description = format!("{}：{}", finding.code.label_zh(), finding.detail);
                    builder.add(rule, labels, Some(finding.severity), description, String::new(), None);
                }
            }
            Condition::Registry(code) => {
                for ((_, target, channel), standing) in &view.assessment.standing {
                    let Some(finding) = standing.findings.iter().find(|f| f.code == code) else { continue };
                    let labels = PageLabels::of_standing(target, *channel, standing).alert_labels();
                    let description = format!("{}：{}", code.label_zh(), finding.detail);
                    builder.add(rule, labels, Some(finding.severity), description, String::new(), None);
                }
            }
            Condition::TaskOverdue => {
                for task in tasks.iter().filter(|task| task.overdue(today)) {
                    let description = format!(
                        "整改任务 #{}（{} 个问题）已过整改期限 {}，尚未{}；请县区尽快整改并在巡检平台反馈",
                        task.id,
                        task.problems.len(),
                        task.deadline,
                        if task.state == TaskState::NotFixed { "重新反馈" } else { "反馈整改情况" }
                    );
                    let since = xunjian_shared::time::china_midnight(task.deadline.tomorrow().unwrap_or(task.deadline));
                    builder.add(rule, task_labels(task), None, description, task.title.clone(), Some(since));
                }
            }
            Condition::TaskNotFixed => {
                for task in tasks.iter().filter(|task| task.state == TaskState::NotFixed) {
                    let description = format!(
                        "整改任务 #{} 经巡检复核整改未到位（所涉问题在反馈后仍被发现），已退回县区，期限 {}",
                        task.id, task.deadline
                    );
                    builder.add(rule, task_labels(task), None, description, task.title.clone(), Some(task.state_since));
                }
            }
            _ => {}
        }
    }
    builder.found
}

/// A task's alert labels: its county (notifiers for that county get it), unit and number.
fn task_labels(task: &Task) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    labels.insert("county".to_string(), task.county.clone());
    labels.insert("unit".to_string(), task.unit.clone());
    labels.insert("task".to_string(), task.id.to_string());
    labels
}

/// What the findings say, in the collector's words: each code's name with the observation's
/// measures (dates, counts, the fetch failure), never a finding's detail, which may carry what
/// a site wrote (link texts, redirect targets, citizens' message titles).
fn summary(observation: &Observation, findings: &[&Finding]) -> String {
    let mut codes: Vec<FindingCode> = findings.iter().map(|f| f.code).collect();
    codes.sort();
    codes.dedup();
    codes.into_iter().map(|code| measure(code, observation)).collect::<Vec<_>>().join("；")
}

fn measure(code: FindingCode, o: &Observation) -> String {
    use FindingCode::*;
    let label = code.label_zh();
    match code {
        HomeNotUpdated | ColumnNotUpdated | ColumnUndated | AccountNotUpdated => {
            match (o.last_update(), o.age_days(), o.max_age_days()) {
                (Some(last), Some(age), Some(max)) => {
                    format!("{label}：最新信息发布于 {}，已 {age} 天（期限 {max} 天）", last.date)
                }
                _ => format!("{label}：未找到带日期的信息"),
            }
        }
        SiteUnreachable | HttpError | ColumnUnreachable | AccountUnreachable | InteractionUnreachable => {
            format!("{label}（{}）", fetch_reason(o))
        }
        TlsCertificateInvalid | TlsCertificateExpiring => match o.fetch.as_ref().and_then(|f| f.tls_not_after) {
            Some(not_after) => format!("{label}（有效期至 {}）", china_today(not_after)),
            None => label.to_string(),
        },
        InteractionOverdue => match (o.replies().overdue, o.replies().max_reply_working_days) {
            (Some(overdue), Some(days)) => format!("{label}：{overdue} 条超过期限，最长 {days} 个工作日"),
            (Some(overdue), None) => format!("{label}：{overdue} 条超过期限"),
            _ => label.to_string(),
        },
        InteractionUnanswered => match (o.replies().unanswered, o.replies().oldest_unanswered_days) {
            (Some(unanswered), Some(days)) => format!("{label}：{unanswered} 条未答复，最久 {days} 天"),
            _ => label.to_string(),
        },
        DeadLinks => match o.dead_links() {
            Some(links) => format!("{label}：{} 个", links.len()),
            None => label.to_string(),
        },
        WordingError => match o.wording_errors() {
            Some(errors) => format!("{label}：{} 处", errors.len()),
            None => label.to_string(),
        },
        _ => label.to_string(),
    }
}

/// Why the last fetch failed, from the closed set of failures or the HTTP status.
fn fetch_reason(observation: &Observation) -> String {
    match observation.fetch.as_ref() {
        Some(fetch) => match (fetch.failure, fetch.status) {
            (Some(failure), _) => failure.label_zh().to_string(),
            (None, Some(status)) => format!("HTTP {status}"),
            (None, None) => "原因见巡检页面".into(),
        },
        None => "原因见巡检页面".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::Snapshot;
    use crate::registry::Registry;
    use xunjian_shared::wire::TargetKind;

    #[test]
    fn the_catalog_is_the_documented_list() {
        let names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        assert_eq!(names, xunjian_shared::config::alerts::RULE_NAMES);
    }

    fn config(text: &str) -> AlertsConfig {
        let dir = std::env::temp_dir().join(format!("xunjian-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for file in ["ca.pem", "server.pem", "server-key.pem"] {
            std::fs::write(dir.join(file), "x").unwrap();
        }
        let toml = format!("[push]\nca = \"ca.pem\"\ncert = \"server.pem\"\nkey = \"server-key.pem\"\n{text}");
        let parsed =
            xunjian_shared::config::CollectorConfig::parse(&toml, &dir.join("c.toml"), &Default::default()).unwrap();
        parsed.alerts
    }

    fn page(
        county: &str,
        target: &str,
        column: Option<&str>,
        failures: u32,
        code: Option<FindingCode>,
    ) -> crate::projection::SubjectState {
        let now = Timestamp::now();
        let mut observation = xunjian_shared::wire::Observation::new(
            target,
            TargetKind::Site,
            "单位",
            "http://127.0.0.1/",
            xunjian_shared::wire::CheckKind::Availability,
            now,
        );
        observation.column = column.map(String::from);
        if let Some(code) = code {
            observation.findings.push(xunjian_shared::wire::Finding::new(code, Severity::Error, "栏目超期"));
        }
        crate::projection::SubjectState {
            county: county.into(),
            observation,
            probes_ok: 0,
            probes_failed: u64::from(failures),
            probe_days: Vec::new(),
            streak: crate::projection::ProbeStreak { failures, since: Some(now), last_probe_at: Some(now) },
            received_at: now,
            awaiting_checkpoint: false,
            problems: Vec::new(),
        }
    }

    #[test]
    fn rules_overrides_and_exemptions_decide_what_is_found() {
        let mut snapshot = Snapshot::default();
        let pages = [
            ("lc", page("龙川县", "龙川网", None, 3, None)),
            ("lc", page("龙川县", "龙川网", Some("动态"), 0, Some(FindingCode::ColumnNotUpdated))),
            ("hp", page("和平县", "和平网", None, 3, None)),
            ("hp", page("和平县", "和平网", Some("动态"), 0, Some(FindingCode::ColumnNotUpdated))),
            ("hp", page("和平县", "和平网", Some("人事"), 0, Some(FindingCode::ColumnNotUpdated))),
        ];
        for (agent, state) in pages {
            let key = crate::projection::SubjectKey::of(agent, &state.observation);
            snapshot.insert_loaded(key, state, &mut crate::projection::Dirty::default());
        }
        let config = config(
            "[alerts]\n[[alerts.rule]]\nname = \"XunjianColumnStale\"\nfor = \"1h\"\n\
             [[alerts.override]]\ncounty = \"和平县\"\nrule = \"XunjianSiteDown\"\nfailures = 5\n\
             [[alerts.override]]\ntarget = \"龙川网\"\nseverity = \"critical\"\nlabels = [\"team=lc\"]\n",
        );
        let mut registry = Registry::default();
        registry.exemptions.push(crate::registry::Exemption {
            id: 1,
            target: "和平网".into(),
            column: "人事".into(),
            code: FindingCode::ColumnNotUpdated,
            reason: "无人事变动".into(),
            author: "李".into(),
            created_at: Timestamp::now(),
            until: None,
            revoked_at: None,
            revoked_by: None,
        });
        // Both sites filed: the registry rules have nothing to say here.
        for (name, county) in [("龙川网", "龙川县"), ("和平网", "和平县")] {
            registry.filings.push(crate::registry::Filing::new(
                name,
                crate::registry::Channel::Website,
                "单位",
                county,
                crate::registry::FilingStatus::Running,
            ));
        }
        let now = Timestamp::now();
        let found = evaluate(&View::of(&snapshot, &registry, china_today(now)), &[], &config, now);
        let summary: Vec<(&str, &str, &str, Option<&str>)> = found
            .iter()
            .map(|i| {
                (
                    i.alertname.as_str(),
                    i.labels["target"].as_str(),
                    i.labels["severity"].as_str(),
                    i.labels.get("team").map(String::as_str),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("XunjianColumnStale", "和平网", "warning", None),
                ("XunjianSiteDown", "龙川网", "critical", Some("lc")),
                ("XunjianColumnStale", "龙川网", "critical", Some("lc")),
            ],
            "和平县 needs 5 failures; 人事 is exempted; 龙川网 is critical and labelled"
        );
        assert!(
            found
                .iter()
                .filter(|i| i.alertname == "XunjianColumnStale")
                .all(|i| i.for_duration == Duration::from_secs(3600))
        );
    }

    #[test]
    fn fingerprints_ignore_severity_and_order() {
        let mut a = BTreeMap::new();
        a.insert("alertname".to_string(), "X".to_string());
        a.insert("target".to_string(), "甲".to_string());
        let mut b = a.clone();
        b.insert("severity".to_string(), "critical".to_string());
        assert_eq!(fingerprint(&a), fingerprint(&b));
        b.insert("target".to_string(), "乙".to_string());
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
