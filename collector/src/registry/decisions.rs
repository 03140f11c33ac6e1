//! What the central office decided besides the filings: exemptions of findings, silences of
//! alerts, revocations of agents or certificates, retirements of agents. Each is kept with its
//! reason, author and time, and ended rather than deleted.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use xunjian_shared::wire::{FindingCode, Observation};

/// A finding accepted for a reason, by someone, possibly until a date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exemption {
    pub id: i64,
    pub target: String,
    /// The column, or '' for the whole target.
    pub column: String,
    pub code: FindingCode,
    pub reason: String,
    pub author: String,
    pub created_at: Timestamp,
    pub until: Option<Date>,
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
}

impl Exemption {
    pub fn is_active(&self, today: Date) -> bool {
        self.revoked_at.is_none() && self.until.is_none_or(|until| today <= until)
    }

    /// Whether it covers `code` found on `target` (in `scope`: a column or channel name, or ''
    /// for the target itself). An exemption from 栏目不更新 (`column_not_updated`) covers the
    /// column when its items carry no dates (`column_undated`, which earlier agents reported as
    /// `column_not_updated`): both are the indicator's "not updated".
    pub fn covers(&self, target: &str, scope: &str, code: FindingCode, today: Date) -> bool {
        let same_code =
            self.code == code || (self.code == FindingCode::ColumnNotUpdated && code == FindingCode::ColumnUndated);
        self.is_active(today) && same_code && self.target == target && (self.column.is_empty() || self.column == scope)
    }
}

/// The column or channel an observation is about ('' for the target itself).
pub fn scope_of(observation: &Observation) -> &str {
    observation.column.as_deref().or(observation.channel.as_deref()).unwrap_or("")
}

/// One condition of a silence on an alert's labels: `name=value` or `name!=value`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Matcher {
    pub name: String,
    pub value: String,
    pub equal: bool,
}

impl Matcher {
    pub fn parse(text: &str) -> Result<Matcher, String> {
        let (name, value, equal) = match text.split_once("!=") {
            Some((name, value)) => (name, value, false),
            None => match text.split_once('=') {
                Some((name, value)) => (name, value, true),
                None => return Err(format!("「{text}」应写成 标签=值 或 标签!=值，例如 county=龙川县")),
            },
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("「{text}」的标签名应由字母、数字和下划线组成，例如 alertname、county、target"));
        }
        Ok(Matcher { name: name.to_string(), value: value.trim().to_string(), equal })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.name).map(String::as_str).unwrap_or("");
        (value == self.value) == self.equal
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.name, if self.equal { "=" } else { "!=" }, self.value)
    }
}

/// Alerts not to notify while it lasts, for a reason, by someone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Silence {
    pub id: i64,
    pub matchers: Vec<Matcher>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub reason: String,
    pub author: String,
    pub created_at: Timestamp,
    pub expired_at: Option<Timestamp>,
    pub expired_by: Option<String>,
}

impl Silence {
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.expired_at.is_none() && self.starts_at <= now && now < self.ends_at
    }

    pub fn silences(&self, labels: &BTreeMap<String, String>, now: Timestamp) -> bool {
        self.is_active(now) && self.matchers.iter().all(|m| m.matches(labels))
    }
}

/// An agent refused at the push port: by its id, its certificate serial (hex), or both ('' = any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    pub id: i64,
    pub agent: String,
    pub serial: String,
    pub reason: String,
    pub author: String,
    pub created_at: Timestamp,
    pub lifted_at: Option<Timestamp>,
    pub lifted_by: Option<String>,
}

impl Revocation {
    pub fn applies(&self, agent: &str, serial: Option<&str>) -> bool {
        let serial_matches =
            |wanted: &str| serial.is_some_and(|s| s.eq_ignore_ascii_case(wanted.trim_start_matches("0x")));
        self.lifted_at.is_none()
            && (self.agent.is_empty() || self.agent == agent)
            && (self.serial.is_empty() || serial_matches(&self.serial))
    }
}

/// An agent the office retired: its subjects are released, its state forgotten.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retirement {
    pub id: i64,
    pub agent: String,
    pub reason: String,
    pub author: String,
    pub created_at: Timestamp,
    /// When the collector applied it; None until then.
    pub applied_at: Option<Timestamp>,
}

/// An exemption as asked for, before it has an id.
#[derive(Clone, Debug, Deserialize)]
pub struct NewExemption {
    pub target: String,
    #[serde(default)]
    pub column: String,
    pub code: String,
    pub reason: String,
    /// Over the web the caller's name replaces whatever the body says.
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub until: Option<Date>,
}

/// A silence as asked for.
#[derive(Clone, Debug, Deserialize)]
pub struct NewSilence {
    /// `name=value` or `name!=value`, all of which must hold.
    pub matchers: Vec<String>,
    /// How long from now, e.g. "2h", "3d".
    pub duration: String,
    pub reason: String,
    /// Over the web the caller's name replaces whatever the body says.
    #[serde(default)]
    pub author: String,
}

/// Longest silence: anything longer is an exemption or a rule change, not a silence.
pub const MAX_SILENCE: std::time::Duration = std::time::Duration::from_secs(90 * 86_400);

/// An exemption checked and typed at the edge (CLI or API), ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExemptionDraft {
    pub target: String,
    /// A column or channel, or '' for the whole target.
    pub column: String,
    pub code: FindingCode,
    pub reason: String,
    pub author: String,
    pub until: Option<Date>,
}

impl ExemptionDraft {
    /// Checks `new`; Err lists every problem, in Chinese.
    pub fn parse(new: NewExemption) -> Result<ExemptionDraft, Vec<String>> {
        let mut problems = Vec::new();
        let code = FindingCode::parse(&new.code);
        if code.is_none() {
            let known: Vec<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
            problems.push(format!("问题代码「{}」不存在；可用的有：{}", new.code, known.join("、")));
        }
        if new.target.trim().is_empty() {
            problems.push("豁免必须写明网站或账号名称（target）".into());
        }
        if new.reason.trim().is_empty() {
            problems.push("豁免必须写明理由（reason），例如「人事栏目本年度无人事变动」".into());
        }
        problems.extend(author_problem(&new.author));
        match code {
            Some(code) if problems.is_empty() => Ok(ExemptionDraft {
                target: new.target.trim().to_string(),
                column: new.column.trim().to_string(),
                code,
                reason: new.reason.trim().to_string(),
                author: new.author.trim().to_string(),
                until: new.until,
            }),
            _ => Err(problems),
        }
    }
}

/// A silence checked and typed at the edge, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SilenceDraft {
    pub matchers: Vec<Matcher>,
    pub duration: std::time::Duration,
    pub reason: String,
    pub author: String,
}

impl SilenceDraft {
    /// Checks `new`; Err lists every problem, in Chinese.
    pub fn parse(new: NewSilence) -> Result<SilenceDraft, Vec<String>> {
        let mut problems = Vec::new();
        if new.reason.trim().is_empty() {
            problems.push("静默必须写明理由（reason），例如「网站迁移，预计周五恢复」".into());
        }
        problems.extend(author_problem(&new.author));
        let mut matchers = Vec::new();
        for text in &new.matchers {
            match Matcher::parse(text) {
                Ok(matcher) => matchers.push(matcher),
                Err(problem) => problems.push(problem),
            }
        }
        if !matchers.iter().any(|m| m.equal && !m.value.is_empty()) {
            problems.push("静默至少需要一个 标签=值 的条件（如 county=龙川县 或 target=…），以免静默全部告警".into());
        }
        let duration = match xunjian_shared::config::parse_duration(&new.duration) {
            Ok(duration) if !duration.is_zero() && duration <= MAX_SILENCE => Some(duration),
            Ok(_) => {
                problems.push("静默时长应在 1 分钟到 90 天之间；更长的请用豁免（exemption）".into());
                None
            }
            Err(err) => {
                problems.push(format!("时长有误：{err}"));
                None
            }
        };
        match duration {
            Some(duration) if problems.is_empty() => Ok(SilenceDraft {
                matchers,
                duration,
                reason: new.reason.trim().to_string(),
                author: new.author.trim().to_string(),
            }),
            _ => Err(problems),
        }
    }
}

/// Every change names who made it, for the audit trail.
pub fn author_problem(author: &str) -> Option<String> {
    author.trim().is_empty().then(|| "必须写明操作人（author），留作审计记录".to_string())
}
