//! `[alerts]` of `collector.toml`: how often rules are evaluated, rule settings and per-county
//! or per-target overrides, and where notifications go.
//!
//! ```toml
//! [alerts]
//! evaluation_interval = "15s"
//! repeat_interval = "4h"                  # a firing alert is sent again this often
//! status_page_url = "http://collector.example.gov.cn:9090/"   # linked from every message
//!
//! [[alerts.rule]]                         # change a built-in rule (names: README)
//! name = "XunjianSiteDown"
//! failures = 3                            # the rule's threshold, where it has one
//! for = "0s"
//! severity = "critical"                   # critical | warning | info
//! # enabled = false
//!
//! [[alerts.override]]                     # for one county, target, or rule within them
//! county = "和平县"
//! target = "和平县人民政府网"             # optional
//! rule = "XunjianColumnStale"             # optional: every rule when absent
//! for = "1d"
//! labels = ["team=hp"]                    # added to the alert's labels
//!
//! [[alerts.notifier]]
//! name = "市府办值班群"
//! type = "dingtalk"                       # webhook | alertmanager | dingtalk | wecom | feishu
//! url = "https://oapi.dingtalk.com/robot/send?access_token=…"
//! secret_file = "dingtalk-secret"         # signing secret (dingtalk, feishu); or secret = "…"
//! counties = ["龙川县"]                   # optional: only these counties' alerts
//! min_severity = "warning"                # optional: default info (everything)
//! rate_limit_per_minute = 20              # optional: the platform's limit by default
//! ```

use std::path::Path;
use std::time::Duration;

use url::Url;

use super::fields::{DefaultValue, Key, Kind, Problems, Table, TableSpec};

/// Names of the built-in rules (their conditions live in the collector); a stable interface.
pub const RULE_NAMES: [&str; 36] = [
    "XunjianSiteDown",
    "XunjianAvailabilityLow",
    "XunjianTlsCertificate",
    "XunjianHomeStale",
    "XunjianColumnStale",
    "XunjianColumnBlank",
    "XunjianChannelMissing",
    "XunjianInteractionUnreachable",
    "XunjianInteractionOverdue",
    "XunjianInteractionUnanswered",
    "XunjianAccountUnreachable",
    "XunjianAccountStale",
    "XunjianAccountInteractionClosed",
    "XunjianDeadLinks",
    "XunjianWordingError",
    "XunjianHiddenLinks",
    "XunjianSensitiveContent",
    "XunjianCloaking",
    "XunjianHomeChanged",
    "XunjianMixedContent",
    "XunjianIpv6Unreachable",
    "XunjianGuidesIncomplete",
    "XunjianPolicyNotInterpreted",
    "XunjianAccountNotFiled",
    "XunjianAccountClosedButLive",
    "XunjianRegistryUnmonitored",
    "XunjianAccountFiledLate",
    "XunjianDuplicateAccount",
    "XunjianUnitTypeNotAllowed",
    "XunjianPlatformNotMainstream",
    "XunjianCountyWithoutAccount",
    "XunjianAgentSilent",
    "XunjianCalendarYearUnknown",
    "XunjianAgentCertificateExpiring",
    "XunjianRectificationOverdue",
    "XunjianRectificationNotFixed",
];

crate::closed_set! {
    /// How urgent an alert is (with its Chinese word).
    pub enum AlertSeverity: &'static str {
        Info = "info" => "提示",
        Warning = "warning" => "警告",
        Critical = "critical" => "严重",
    }
}

impl AlertSeverity {
    pub fn label_zh(self) -> &'static str {
        self.info()
    }

    pub fn parse(text: &str) -> Option<AlertSeverity> {
        AlertSeverity::named(text.trim())
    }
}

/// What a rule or an override changes; None keeps what came before.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleChange {
    pub enabled: Option<bool>,
    pub severity: Option<AlertSeverity>,
    pub for_duration: Option<Duration>,
    /// The rule's threshold (failures in a row, a ratio, minutes …), where it has one.
    pub threshold: Option<f64>,
    pub labels: Vec<(String, String)>,
}

/// `[[alerts.rule]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSetting {
    pub name: String,
    pub change: RuleChange,
}

/// `[[alerts.override]]`: applies where every given field matches.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleOverride {
    pub county: Option<String>,
    pub target: Option<String>,
    pub rule: Option<String>,
    pub change: RuleChange,
}

crate::closed_set! {
    /// Where notifications go.
    pub enum NotifierKind {
        Webhook = "webhook",
        Alertmanager = "alertmanager",
        Dingtalk = "dingtalk",
        Wecom = "wecom",
        Feishu = "feishu",
    }
}

impl NotifierKind {
    /// Messages a minute the platform accepts (DingTalk and WeCom robots: 20; Feishu: 100).
    pub fn default_rate_limit(self) -> u32 {
        match self {
            NotifierKind::Dingtalk | NotifierKind::Wecom => 20,
            NotifierKind::Feishu => 100,
            NotifierKind::Webhook | NotifierKind::Alertmanager => 120,
        }
    }
}

#[derive(Clone, Debug)]
pub struct NotifierConfig {
    pub name: String,
    pub kind: NotifierKind,
    pub url: Url,
    pub secret: Option<String>,
    pub counties: Vec<String>,
    pub min_severity: AlertSeverity,
    pub rate_limit_per_minute: u32,
    pub send_resolved: bool,
}

#[derive(Clone, Debug)]
pub struct AlertsConfig {
    pub evaluation_interval: Duration,
    pub repeat_interval: Duration,
    pub status_page_url: Option<Url>,
    pub rules: Vec<RuleSetting>,
    pub overrides: Vec<RuleOverride>,
    pub notifiers: Vec<NotifierConfig>,
}

pub const DEFAULT_EVALUATION_INTERVAL: Duration = Duration::from_secs(15);
pub const DEFAULT_REPEAT_INTERVAL: Duration = Duration::from_secs(4 * 3600);

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            evaluation_interval: DEFAULT_EVALUATION_INTERVAL,
            repeat_interval: DEFAULT_REPEAT_INTERVAL,
            status_page_url: None,
            rules: Vec::new(),
            overrides: Vec::new(),
            notifiers: Vec::new(),
        }
    }
}

pub(crate) static ALERTS: TableSpec = TableSpec {
    doc: "How often rules are evaluated, rule settings and per-county or per-target overrides, and where notifications go.",
    keys: &[
        Key::new(
            "evaluation_interval",
            Kind::Duration { min: Duration::from_secs(1), max: Duration::from_secs(3600) },
            DefaultValue::Duration(DEFAULT_EVALUATION_INTERVAL),
            "How often the rules are evaluated.",
        ),
        Key::new(
            "repeat_interval",
            Kind::Duration { min: Duration::from_secs(60), max: Duration::from_secs(7 * 86_400) },
            DefaultValue::Duration(DEFAULT_REPEAT_INTERVAL),
            "A firing alert is sent again this often.",
        ),
        Key::new(
            "status_page_url",
            Kind::Url,
            DefaultValue::Otherwise("none"),
            "The status page as people reach it, linked from every message.",
        ),
        Key::tables("rule", &RULE),
        Key::tables("override", &OVERRIDE),
        Key::tables("notifier", &NOTIFIER),
    ],
};

const ENABLED: Key =
    Key::new("enabled", Kind::Bool, DefaultValue::Otherwise("as before"), "Switches the rule on or off.");
const SEVERITY: Key = Key::new(
    "severity",
    Kind::Choice(AlertSeverity::NAMES),
    DefaultValue::Otherwise("as before"),
    "How urgent the alert is.",
);
const FOR: Key = Key::new(
    "for",
    Kind::Duration { min: Duration::ZERO, max: Duration::from_secs(30 * 86_400) },
    DefaultValue::Otherwise("as before"),
    "How long the condition must hold before the alert fires.",
);
const FAILURES: Key = Key::new(
    "failures",
    Kind::Whole { unit: "failures", min: 1, max: 1000 },
    DefaultValue::Otherwise("as before"),
    "Threshold of rules counting failures in a row (XunjianSiteDown …).",
);
const MINUTES: Key = Key::new(
    "minutes",
    Kind::Whole { unit: "minutes", min: 1, max: 7 * 24 * 60 },
    DefaultValue::Otherwise("as before"),
    "Threshold of rules counting minutes (XunjianAgentSilent).",
);
const RATIO: Key = Key::new(
    "ratio",
    Kind::Whole { unit: "percent", min: 1, max: 100 },
    DefaultValue::Otherwise("as before"),
    "Threshold of rules on a share (XunjianAvailabilityLow), in percent.",
);
const DAYS: Key = Key::new(
    "days",
    Kind::Whole { unit: "days", min: 1, max: 365 },
    DefaultValue::Otherwise("as before"),
    "Threshold of rules counting days (certificates).",
);
const LABELS: Key = Key::new(
    "labels",
    Kind::Strings,
    DefaultValue::Otherwise("none"),
    "NAME=VALUE labels added to the alert's labels, e.g. [\"team=hp\"].",
);

static RULE: TableSpec = TableSpec {
    doc: "Changes a built-in rule everywhere (the rule names are in README).",
    keys: &[
        Key::new("name", Kind::Choice(&RULE_NAMES), DefaultValue::Required, "The rule."),
        ENABLED,
        SEVERITY,
        FOR,
        FAILURES,
        MINUTES,
        RATIO,
        DAYS,
        LABELS,
    ],
};

static OVERRIDE: TableSpec = TableSpec {
    doc: "Changes rules for one county, one target, or one rule within them; it applies where every given field matches, and needs at least one.",
    keys: &[
        Key::new("county", Kind::Text, DefaultValue::Otherwise("any"), "The county it applies to."),
        Key::new("target", Kind::Text, DefaultValue::Otherwise("any"), "The site or account it applies to."),
        Key::new("rule", Kind::Choice(&RULE_NAMES), DefaultValue::Otherwise("every rule"), "The rule it changes."),
        ENABLED,
        SEVERITY,
        FOR,
        FAILURES,
        MINUTES,
        RATIO,
        DAYS,
        LABELS,
    ],
};

static NOTIFIER: TableSpec = TableSpec {
    doc: "Where notifications go: a webhook, an Alertmanager, or a DingTalk, WeCom or Feishu robot.",
    keys: &[
        Key::new("name", Kind::Text, DefaultValue::Required, "The notifier's name, unique."),
        Key::new("type", Kind::Choice(NotifierKind::NAMES), DefaultValue::Required, "What receives the messages."),
        Key::new(
            "url",
            Kind::Url,
            DefaultValue::Required,
            "The receiver's URL (a robot's webhook with its access token).",
        ),
        Key::new(
            "secret",
            Kind::Text,
            DefaultValue::Otherwise("none"),
            "The robot's signing secret (dingtalk, feishu); better kept in `secret_file`.",
        ),
        Key::new(
            "secret_file",
            Kind::File { what: "a file holding the robot's signing secret" },
            DefaultValue::Otherwise("none"),
            "The signing secret, read from a file.",
        ),
        Key::new("counties", Kind::Strings, DefaultValue::Otherwise("every county"), "Only these counties' alerts."),
        Key::new(
            "min_severity",
            Kind::Choice(AlertSeverity::NAMES),
            DefaultValue::Text("info"),
            "Only alerts at least this urgent.",
        ),
        Key::new(
            "rate_limit_per_minute",
            Kind::Whole { unit: "messages", min: 1, max: 6000 },
            DefaultValue::Otherwise("the platform's limit: 20 for DingTalk and WeCom, 100 for Feishu, 120 otherwise"),
            "Messages sent per minute, at most.",
        ),
        Key::new("send_resolved", Kind::Bool, DefaultValue::Bool(true), "Also send a message when an alert resolves."),
    ],
};

pub(crate) fn read_alerts(mut table: Table<'_>, base: &Path, problems: &mut Problems) -> AlertsConfig {
    // Absent keys read as their declared defaults; a bad value is a problem already.
    let mut config = AlertsConfig {
        evaluation_interval: table.duration("evaluation_interval", problems).unwrap_or_default(),
        repeat_interval: table.duration("repeat_interval", problems).unwrap_or_default(),
        status_page_url: table.url("status_page_url", problems),
        ..AlertsConfig::default()
    };
    for mut rule in table.tables("rule", problems) {
        let name = rule_name(&mut rule, "name", problems);
        let change = read_change(&mut rule, problems);
        rule.finish(problems);
        if let Some(name) = name {
            config.rules.push(RuleSetting { name, change });
        }
    }
    for mut over in table.tables("override", problems) {
        let county = over.string("county", problems).map(|(text, _)| text.trim().to_string());
        let target = over.string("target", problems).map(|(text, _)| text.trim().to_string());
        let rule = rule_name(&mut over, "rule", problems);
        let change = read_change(&mut over, problems);
        if county.is_none() && target.is_none() && rule.is_none() {
            problems.push(
                &over.origin,
                &over.path,
                "an override needs county, target or rule; to change a rule everywhere use [[alerts.rule]]",
            );
        }
        over.finish(problems);
        config.overrides.push(RuleOverride { county, target, rule, change });
    }
    let mut names: Vec<String> = Vec::new();
    for mut notifier in table.tables("notifier", problems) {
        if let Some(found) = read_notifier(&mut notifier, base, problems) {
            if names.contains(&found.name) {
                problems.push(
                    &notifier.origin,
                    &notifier.key_path("name"),
                    format!("another notifier is named {:?}; names must be unique", found.name),
                );
            }
            names.push(found.name.clone());
            config.notifiers.push(found);
        }
        notifier.finish(problems);
    }
    table.finish(problems);
    config
}

fn rule_name(table: &mut Table<'_>, key: &str, problems: &mut Problems) -> Option<String> {
    let (text, origin) = table.string(key, problems)?;
    let name = text.trim();
    if RULE_NAMES.contains(&name) {
        Some(name.to_string())
    } else {
        let nearest = RULE_NAMES.iter().min_by_key(|known| strsim::levenshtein(known, name)).copied().unwrap_or("");
        problems.push(
            &origin,
            &table.key_path(key),
            format!("unknown rule {name:?}; did you mean {nearest:?}? (every name is in README)"),
        );
        None
    }
}

fn read_change(table: &mut Table<'_>, problems: &mut Problems) -> RuleChange {
    let enabled = table.boolean("enabled", problems);
    let severity = table.string("severity", problems).and_then(|(text, origin)| {
        let parsed = AlertSeverity::parse(&text);
        if parsed.is_none() {
            problems.push(
                &origin,
                &table.key_path("severity"),
                format!("unknown severity {text:?}: expected critical, warning or info"),
            );
        }
        parsed
    });
    let for_duration = table.duration("for", problems);
    let mut threshold = None;
    if let Some(failures) = table.whole_number("failures", problems) {
        threshold = Some(failures as f64);
    }
    if let Some(minutes) = table.whole_number("minutes", problems) {
        threshold = Some(minutes as f64);
    }
    if let Some(percent) = table.whole_number("ratio", problems) {
        threshold = Some(percent as f64 / 100.0);
    }
    if let Some(days) = table.whole_number("days", problems) {
        threshold = Some(days as f64);
    }
    let mut labels = Vec::new();
    for (text, origin) in table.strings("labels", problems) {
        match text.split_once('=') {
            Some((key, value))
                if !key.trim().is_empty()
                    && key.trim().chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !key.trim().starts_with("__") =>
            {
                labels.push((key.trim().to_string(), value.trim().to_string()))
            }
            _ => problems.push(
                &origin,
                &table.key_path("labels"),
                format!("{text:?} is not NAME=VALUE with a name of letters, digits and _"),
            ),
        }
    }
    RuleChange { enabled, severity, for_duration, threshold, labels }
}

fn read_notifier(table: &mut Table<'_>, base: &Path, problems: &mut Problems) -> Option<NotifierConfig> {
    let name = table.string("name", problems).map(|(text, _)| text.trim().to_string());
    let kind = table.string("type", problems).and_then(|(text, origin)| {
        let kind = NotifierKind::named(text.trim());
        if kind.is_none() {
            problems.push(
                &origin,
                &table.key_path("type"),
                format!("unknown notifier type {text:?}: expected one of {}", NotifierKind::NAMES.join(", ")),
            );
        }
        kind
    });
    let url = table.url("url", problems);
    let mut secret = table.string("secret", problems).map(|(text, _)| text.trim().to_string());
    if let Some(path) = table.file("secret_file", base, problems) {
        match std::fs::read_to_string(&path) {
            Ok(text) => secret = Some(text.trim().to_string()),
            Err(err) => problems.push(
                &table.origin_of("secret_file"),
                &table.key_path("secret_file"),
                format!("{}: {err}", path.display()),
            ),
        }
    }
    let counties = table.strings("counties", problems).into_iter().map(|(text, _)| text.trim().to_string()).collect();
    let min_severity = table
        .string("min_severity", problems)
        .and_then(|(text, origin)| {
            let parsed = AlertSeverity::parse(&text);
            if parsed.is_none() {
                problems.push(
                    &origin,
                    &table.key_path("min_severity"),
                    format!("unknown severity {text:?}: expected critical, warning or info"),
                );
            }
            parsed
        })
        .unwrap_or(AlertSeverity::Info);
    let rate_limit = table.whole_number("rate_limit_per_minute", problems);
    let send_resolved = table.boolean("send_resolved", problems).unwrap_or(true);
    let (name, kind, url) = (name?, kind?, url?);
    Some(NotifierConfig {
        name,
        kind,
        url,
        secret: secret.filter(|s| !s.is_empty()),
        counties,
        min_severity,
        rate_limit_per_minute: rate_limit.map(|n| n as u32).unwrap_or_else(|| kind.default_rate_limit()),
        send_resolved,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_suggest_the_nearest() {
        assert_eq!(
            RULE_NAMES.iter().min_by_key(|k| strsim::levenshtein(k, "XunjianSiteDwon")).copied(),
            Some("XunjianSiteDown")
        );
        let distinct: std::collections::HashSet<_> = RULE_NAMES.iter().collect();
        assert_eq!(distinct.len(), RULE_NAMES.len());
    }
}
