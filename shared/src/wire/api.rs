//! The web API's answers besides the status report: alerts, the notification outbox, the
//! registry and the office's decisions (exemptions are [`super::ExemptionStatus`]), the audit
//! trail, and what a change returns. The collector's stored types never go out as they are:
//! each is turned into one of these, so the JSON is a contract (`tests/testdata/golden/api.json`)
//! and the storage may change under it.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::closed_set;
use crate::config::AlertSeverity;

closed_set! {
    /// Where an alert is in its life.
    pub enum AlertState {
        /// Found, waiting out its `for` duration.
        Pending = "pending",
        Firing = "firing",
        Resolved = "resolved",
    }
}

/// `GET /api/v1/alerts`: one alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertView {
    pub fingerprint: String,
    pub alertname: String,
    pub title: String,
    pub severity: AlertSeverity,
    pub labels: BTreeMap<String, String>,
    /// What is wrong, in the collector's own words.
    pub description: String,
    /// What the agents reported (site text included).
    pub detail: String,
    pub state: AlertState,
    pub active_at: Timestamp,
    pub for_seconds: u64,
    pub fired_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub notified_at: Option<Timestamp>,
    pub resolved_notified: bool,
    pub silenced_by: Option<i64>,
}

/// `GET /api/v1/notifications`: one notice in the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: i64,
    pub notifier: String,
    pub fingerprint: String,
    pub alertname: String,
    /// pending, delivered, folded (delivered inside a summary line) or failed.
    pub status: String,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    pub failed_at: Option<Timestamp>,
}

/// `GET /api/v1/registry`: one filing (备案).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingView {
    pub name: String,
    /// 网站, 微信, 新浪微博 …
    pub channel: String,
    /// The platform as in observations (wechat, weibo …); null for sites.
    pub platform: Option<String>,
    pub unit: String,
    pub county: String,
    pub filed_on: Option<Date>,
    /// 运行, 关停中, 已关停.
    pub status: String,
    /// The account's identifier on its platform (账号ID), when filed.
    #[serde(default)]
    pub account_id: Option<String>,
    /// 单位类型: 县级政府, 县级部门, 乡镇街道, 市直部门, 公安, 其他; null when not filed.
    #[serde(default)]
    pub unit_type: Option<String>,
    /// 开设日期, when known.
    #[serde(default)]
    pub opened_on: Option<Date>,
}

/// `GET /api/v1/silences`: one silence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceView {
    pub id: i64,
    /// `name=value` or `name!=value`.
    pub matchers: Vec<String>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub reason: String,
    pub author: String,
    pub created_at: Timestamp,
    pub expired_at: Option<Timestamp>,
    pub expired_by: Option<String>,
    /// In force now.
    pub active: bool,
}

/// `GET /api/v1/revocations`: one agent or certificate refused at the push port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationView {
    pub id: i64,
    /// The agent id, or '' for any agent with `serial`.
    pub agent: String,
    /// The certificate serial (hex), or '' for any certificate of `agent`.
    pub serial: String,
    pub reason: String,
    pub author: String,
    pub created_at: Timestamp,
    pub lifted_at: Option<Timestamp>,
    pub lifted_by: Option<String>,
}

/// `GET /api/v1/retirements`: one agent retired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetirementView {
    pub id: i64,
    pub agent: String,
    pub reason: String,
    pub author: String,
    pub created_at: Timestamp,
    /// When the collector applied it; null until then.
    pub applied_at: Option<Timestamp>,
}

/// `GET /api/v1/audit`: one change, who and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryView {
    pub at: Timestamp,
    pub author: String,
    pub action: String,
    pub detail: String,
}

/// What a `POST` that creates something answers (201).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    pub id: i64,
    /// For a silence: when it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Timestamp>,
}

/// What a `DELETE` answers: the id of what was revoked, expired or lifted, under that word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    Revoked(i64),
    Expired(i64),
    Lifted(i64),
}

/// What `PUT /api/v1/registry` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryReplaced {
    pub total: usize,
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    /// Headers that are not the registry's columns (序号, 备注 …), set aside.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored_columns: Vec<String>,
}

/// One problem of the ledger (问题台账), `GET /api/v1/problems`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProblemView {
    pub id: i64,
    pub county: String,
    pub unit: String,
    pub target: String,
    pub kind: super::TargetKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub code: super::FindingCode,
    /// The problem in the indicators' words.
    pub label: String,
    pub severity: super::Severity,
    /// `open` or `resolved`.
    pub status: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    /// Why it closed: `absent`, `unlisted`, `retired`, `expired`, `registry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_label: Option<String>,
    /// Days from first seen to resolved (or to now, while open).
    pub days: i64,
    /// The finding's words, latest.
    pub detail: String,
    pub url: String,
    /// What was observed (the newest date, a board's counts, the failed links …) …
    pub evidence: String,
    /// … and when.
    pub observed_at: Timestamp,
    /// The exemption in force that keeps it from counting, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exempted_by: Option<i64>,
    /// Times it came back after closing.
    pub reopened: u32,
}

/// A page of the ledger, newest problem first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProblemPage {
    /// Problems matching the filter, on every page.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    pub problems: Vec<ProblemView>,
}
