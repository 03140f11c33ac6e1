//! What crosses process boundaries: the `check --json` document and (from schema version 1) the
//! body of agent → collector pushes. A public contract: change it only additively, or bump
//! [`SCHEMA_VERSION`].
//!
//! Layout of one observation (JSON):
//! ```json
//! { "target": "龙川县人民政府门户网站", "kind": "site", "unit": "龙川县人民政府办公室",
//!   "platform": null, "column": "工作动态", "column_kind": "news", "url": "http://…",
//!   "checks": ["column_update", "blank_column"], "checked_at": "2026-11-26T08:00:00Z",
//!   "ok": false, "items": 20, "last_update": "2026-11-02", "age_days": 24, "max_age_days": 14,
//!   "fetch": { "status": 200, "duration_ms": 83, … },
//!   "findings": [ { "code": "column_not_updated", "severity": "error", "detail": "…" } ] }
//! ```

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::ColumnKind;
use crate::time::Published;

/// The version of this schema. Version 1: observations, findings, fetch records, push batches.
pub const SCHEMA_VERSION: u32 = 1;
/// Schema versions a collector accepts in pushes.
pub const SUPPORTED_SCHEMA_VERSIONS: &[u32] = &[1];

/// Agent → collector: the body of `POST /api/v1/push` (JSON, gzip-compressed on the wire).
///
/// A batch is applied at most once: the collector remembers `batch_id` and answers a repeat
/// as a duplicate without applying it again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub schema_version: u32,
    pub batch_id: BatchId,
    /// Must equal the common name of the agent's client certificate.
    pub agent: String,
    pub county: String,
    /// Increases by one per batch an agent makes (across restarts when spooled).
    pub sequence: u64,
    pub created_at: Timestamp,
    /// Every subject the agent inspects now. The collector retires series of subjects that
    /// left this list; None means "unchanged".
    pub inventory: Option<Vec<SubjectRef>>,
    pub observations: Vec<Observation>,
}

/// A batch's unique id: 8 to 64 characters of `0-9 a-z A-Z - _`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct BatchId(String);

impl BatchId {
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid =
            (8..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(BatchId(text.to_string()))
        } else {
            Err(format!("batch_id {text:?} must be 8 to 64 characters of 0-9, a-z, A-Z, '-' or '_'"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for BatchId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        BatchId::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for BatchId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One subject an agent inspects: a site's home page (`column` null), a column, an account.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SubjectRef {
    pub target: String,
    pub kind: TargetKind,
    pub column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

/// The collector's answer to a push it took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushAck {
    pub batch_id: BatchId,
    pub status: PushStatus,
    /// Observations applied (0 for a duplicate).
    pub observations: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushStatus {
    /// Committed now.
    Accepted,
    /// Committed before; nothing changed.
    Duplicate,
}

/// What one push may carry, by default. Agents keep what they send within these (text a site
/// controls is cut, see [`Observation::fit_wire_limits`]); the collector refuses more, with its
/// own `[push]` settings.
pub mod limits {
    /// Names: county, unit, target, platform, column, channel. Six of them at four bytes a
    /// character keep one `/metrics` line under 8 KiB.
    pub const MAX_NAME_CHARS: usize = 256;
    /// Free text: URLs, finding details, link texts, wording contexts.
    pub const MAX_TEXT_BYTES: usize = 2048;
    /// Lists: findings, dead links, wording errors, redirects, checks.
    pub const MAX_LIST_ENTRIES: usize = 100;
}

/// The body of every API error: a stable code and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
    pub detail: String,
}

/// `GET /api/v1/status`: every agent's last push and every page's latest observation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub generated_at: Timestamp,
    pub agents: Vec<AgentStatus>,
    pub targets: Vec<TargetStatus>,
    /// The registry (备案) compared with what agents observe.
    #[serde(default)]
    pub registry: RegistryStatus,
}

/// The registry's part of the status: counts, findings, filings no agent inspects, exemptions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistryStatus {
    /// Filings in the registry, all statuses.
    pub filed: u32,
    /// Observed sites and accounts that match a filing.
    pub observed_filed: u32,
    /// 漏报 and 未及时关停: one entry per observed site or account with a registry finding.
    pub findings: Vec<RegistryFinding>,
    /// Filed, running, and inspected by no agent.
    pub unmonitored: Vec<FiledTarget>,
    /// Every exemption, revoked ones included (the audit trail).
    pub exemptions: Vec<ExemptionStatus>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistryFinding {
    pub target: String,
    /// 网站, 微信, 新浪微博 …
    pub channel: String,
    /// The platform as in observations (wechat, weibo …); absent for sites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub unit: String,
    pub county: String,
    /// The filing's 状态, when filed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filed_status: Option<String>,
    pub finding: Finding,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiledTarget {
    pub name: String,
    pub channel: String,
    pub unit: String,
    pub county: String,
    pub status: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExemptionStatus {
    pub id: i64,
    pub target: String,
    /// A column or channel, or '' for the whole target.
    pub column: String,
    pub code: FindingCode,
    pub reason: String,
    pub author: String,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<jiff::civil::Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
    /// In force today.
    pub active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStatus {
    pub agent: String,
    pub county: String,
    pub first_push_at: Timestamp,
    pub last_push_at: Timestamp,
    pub last_sequence: u64,
    pub batches: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetStatus {
    pub agent: String,
    pub county: String,
    /// Availability probes seen (home pages).
    pub probes_ok: u64,
    pub probes_failed: u64,
    /// The observation, without the findings an exemption covers …
    pub observation: Observation,
    /// … which are listed here, each with the exemption's id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exempted: Vec<ExemptedFinding>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExemptedFinding {
    pub exemption: i64,
    pub finding: Finding,
}

/// Just enough of a batch to read its version before decoding the rest.
#[derive(Deserialize)]
pub struct VersionProbe {
    pub schema_version: u32,
}

/// `xunjian-agent check --json`: one inspection round of every target.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckReport {
    pub schema_version: u32,
    pub agent: String,
    pub county: String,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub observations: Vec<Observation>,
    /// Per site, the vetoes this round's observations add up to.
    pub sites: Vec<SiteVerdict>,
}

/// One site's standing after a round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteVerdict {
    pub target: String,
    pub unit: String,
    /// False when any veto applies (不合格) or the home page could not be opened this round.
    pub ok: bool,
    /// Columns checked.
    pub columns: u32,
    /// Stale news, notice and policy columns.
    pub stale_key_columns: u32,
    /// Stale columns of any kind.
    pub stale_columns: u32,
    pub blank_columns: u32,
    /// True when this round's home-page probe failed. One failed probe is not a veto (the
    /// indicator takes the failure ratio over 7 days), but it is not a pass either.
    pub unreachable: bool,
    /// Each veto that applies, in Chinese.
    pub vetoes: Vec<String>,
}

/// What one round of checks saw of one page: a site's home page (`column` null), one of its
/// columns, or (later) an account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The site's or account's name, as configured.
    pub target: String,
    pub kind: TargetKind,
    /// The responsible unit (责任单位).
    pub unit: String,
    /// For accounts, the platform (wechat, weibo, …); null for sites.
    pub platform: Option<String>,
    /// The column's name; null for a home page or an account.
    pub column: Option<String>,
    pub column_kind: Option<ColumnKind>,
    /// The page that was read.
    pub url: String,
    /// The checks that contributed, in the order they ran.
    pub checks: Vec<CheckKind>,
    pub checked_at: Timestamp,
    /// True when no finding is of severity error or veto.
    pub ok: bool,
    /// Dated items found (null when the page could not be read or no check counted items).
    pub items: Option<u32>,
    /// Newest publication date found (null when none).
    pub last_update: Option<Published>,
    /// Days from `last_update` to the day of the check.
    pub age_days: Option<i64>,
    /// The staleness threshold applied.
    pub max_age_days: Option<u32>,
    /// How the page was fetched; null when no fetch was made.
    pub fetch: Option<FetchRecord>,
    pub findings: Vec<Finding>,
    /// The interaction channel (留言板, 信箱) this observation is of; null otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// A channel's published messages found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<u32>,
    /// Messages with no reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unanswered: Option<u32>,
    /// Replies later than the limit in working days, or unanswered past it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue: Option<u32>,
    /// Messages missing 留言时间, 答复时间, 答复单位 or 答复内容.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_fields: Option<u32>,
    /// Longest reply time in working days among answered messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_reply_working_days: Option<i64>,
    /// Age in days of the oldest unanswered message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_unanswered_days: Option<i64>,
    /// For accounts: whether comments or messages are open, when the source says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments_open: Option<bool>,
    /// Links of the home page that do not open (null when not checked this time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_links: Option<Vec<DeadLink>>,
    /// Serious wording errors found (null when not checked this time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wording_errors: Option<Vec<WordingError>>,
}

/// A link that does not open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLink {
    pub url: String,
    /// The link's text on the page.
    pub text: String,
    pub status: Option<u16>,
    pub failure: Option<FetchFailure>,
}

/// A wrong term found on a page, and what it should be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordingError {
    pub wrong: String,
    pub right: String,
    /// A few characters around it.
    pub context: String,
    /// The page it is on.
    pub url: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Site,
    Account,
}

/// The checks an agent runs. Stable names: also config keys and log fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// Home page: status, time to open, TLS certificate, redirects (站点无法访问).
    Availability,
    /// Home page: newest dated item (首页不更新).
    HomeUpdate,
    /// A column: newest publication date of its own list (栏目不更新).
    ColumnUpdate,
    /// A column that is reachable but holds no items (空白栏目).
    BlankColumn,
    /// Home page: a consultation channel exists (未提供网上有效咨询建言渠道).
    ChannelPresence,
    /// A message board: replies, their latency in working days, their fields (互动回应).
    Interaction,
    /// An account: reachable, newest post (内容不更新).
    AccountUpdate,
    /// An account: comments or messages open (互动功能).
    AccountInteraction,
    /// Links of the home page (不可用链接).
    DeadLinks,
    /// Serious wording errors on the home page and newest items (严重表述错误).
    Wording,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Site => "site",
            TargetKind::Account => "account",
        }
    }
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Availability => "availability",
            CheckKind::HomeUpdate => "home_update",
            CheckKind::ColumnUpdate => "column_update",
            CheckKind::BlankColumn => "blank_column",
            CheckKind::ChannelPresence => "channel_presence",
            CheckKind::Interaction => "interaction",
            CheckKind::AccountUpdate => "account_update",
            CheckKind::AccountInteraction => "account_interaction",
            CheckKind::DeadLinks => "dead_links",
            CheckKind::Wording => "wording",
        }
    }
}

/// One fetch as it happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FetchRecord {
    /// The final response's HTTP status; null when no response came.
    pub status: Option<u16>,
    /// From the first connection attempt to the last body byte (or the failure).
    pub duration_ms: u64,
    /// Why no usable response came; null when one did.
    pub failure: Option<FetchFailure>,
    /// Every URL after the first, in the order the redirects led.
    pub redirects: Vec<String>,
    /// The certificate's not-after, for https.
    pub tls_not_after: Option<Timestamp>,
    /// The character encoding the body was decoded with.
    pub charset: Option<String>,
    /// Body bytes read (after decompression).
    pub body_bytes: u64,
    /// True when the body was cut at the configured limit.
    pub truncated: bool,
}

/// Why a fetch produced no usable response. A closed set: safe as a metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchFailure {
    /// Not complete within the timeout.
    Timeout,
    /// The host name did not resolve.
    Dns,
    /// The TCP connection was refused or could not be made.
    Connect,
    /// The TLS handshake failed or the certificate was not valid.
    Tls,
    /// The connection broke during the exchange.
    Reset,
    /// Redirects came back to a URL already visited.
    RedirectLoop,
    /// More redirects than the limit.
    TooManyRedirects,
    /// The server answered something that is not HTTP.
    Protocol,
    /// A redirect from a public address into a private, loopback or link-local one, refused.
    PrivateRedirect,
}

impl FetchFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            FetchFailure::Timeout => "timeout",
            FetchFailure::Dns => "dns",
            FetchFailure::Connect => "connect",
            FetchFailure::Tls => "tls",
            FetchFailure::Reset => "reset",
            FetchFailure::RedirectLoop => "redirect_loop",
            FetchFailure::TooManyRedirects => "too_many_redirects",
            FetchFailure::Protocol => "protocol",
            FetchFailure::PrivateRedirect => "private_redirect",
        }
    }

    /// The failure in the words of a zh-CN report.
    pub fn label_zh(self) -> &'static str {
        match self {
            FetchFailure::Timeout => "超时未打开",
            FetchFailure::Dns => "域名无法解析",
            FetchFailure::Connect => "无法建立连接",
            FetchFailure::Tls => "HTTPS证书或握手失败",
            FetchFailure::Reset => "连接中断",
            FetchFailure::RedirectLoop => "重定向循环",
            FetchFailure::TooManyRedirects => "重定向次数过多",
            FetchFailure::Protocol => "响应不是有效的HTTP",
            FetchFailure::PrivateRedirect => "重定向到内网地址，已拒绝",
        }
    }
}

/// Something wrong (or worth knowing) about a page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: FindingCode,
    pub severity: Severity,
    /// What was seen, in Chinese, for the people who fix it.
    pub detail: String,
}

/// How much a finding weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; does not make the observation fail.
    Warning,
    /// A problem the indicators count; the observation fails.
    Error,
    /// By itself makes the site or account 不合格 for the period (单项否决).
    Veto,
}

/// Stable finding codes. Never renamed; new ones are added at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingCode {
    /// The home page could not be opened (timeout, DNS, connection, TLS, reset, redirects).
    SiteUnreachable,
    /// The home page answered with an HTTP error status.
    HttpError,
    /// The certificate is not valid (expired, self-signed, wrong host).
    TlsCertificateInvalid,
    /// The certificate expires soon.
    TlsCertificateExpiring,
    /// The body exceeded the size limit and was cut.
    BodyTruncated,
    /// No new dated item on the home page within the limit (首页不更新).
    HomeNotUpdated,
    /// A column's page could not be opened or answered with an error status.
    ColumnUnreachable,
    /// A column's newest item is older than its limit, or its items carry no dates (栏目不更新).
    ColumnNotUpdated,
    /// A column's page holds no items (空白栏目).
    ColumnBlank,
    /// The site offers no consultation channel (留言, 信箱, 咨询).
    InteractionChannelMissing,
    /// A message board could not be opened.
    InteractionUnreachable,
    /// Replies later than the limit in working days.
    InteractionOverdue,
    /// A message unanswered for more than three months.
    InteractionUnanswered,
    /// Published messages lack 留言时间, 答复时间, 答复单位 or 答复内容.
    InteractionFieldsMissing,
    /// A date fell in a year the working-day calendar does not know.
    CalendarYearUnknown,
    /// An account's page or feed could not be read.
    AccountUnreachable,
    /// No post within the limit (内容不更新).
    AccountNotUpdated,
    /// Comments or messages closed, or not working (互动功能不通畅).
    AccountInteractionClosed,
    /// Links of the home page that do not open.
    DeadLinks,
    /// A serious wording error (严重表述错误).
    WordingError,
    /// An account or site observed but not in the registry (漏报, 未备案).
    NotFiled,
    /// Filed as closed (or closing) but still live (未及时履行关停注销程序).
    ClosedButLive,
    /// Filed but inspected by no agent.
    Unmonitored,
}

impl FindingCode {
    /// Every code, in declaration order.
    pub const ALL: [FindingCode; 23] = {
        use FindingCode::*;
        [
            SiteUnreachable,
            HttpError,
            TlsCertificateInvalid,
            TlsCertificateExpiring,
            BodyTruncated,
            HomeNotUpdated,
            ColumnUnreachable,
            ColumnNotUpdated,
            ColumnBlank,
            InteractionChannelMissing,
            InteractionUnreachable,
            InteractionOverdue,
            InteractionUnanswered,
            InteractionFieldsMissing,
            CalendarYearUnknown,
            AccountUnreachable,
            AccountNotUpdated,
            AccountInteractionClosed,
            DeadLinks,
            WordingError,
            NotFiled,
            ClosedButLive,
            Unmonitored,
        ]
    };

    /// The code named `text` (as in [`FindingCode::as_str`]).
    pub fn parse(text: &str) -> Option<FindingCode> {
        FindingCode::ALL.into_iter().find(|code| code.as_str() == text.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::SiteUnreachable => "site_unreachable",
            FindingCode::HttpError => "http_error",
            FindingCode::TlsCertificateInvalid => "tls_certificate_invalid",
            FindingCode::TlsCertificateExpiring => "tls_certificate_expiring",
            FindingCode::BodyTruncated => "body_truncated",
            FindingCode::HomeNotUpdated => "home_not_updated",
            FindingCode::ColumnUnreachable => "column_unreachable",
            FindingCode::ColumnNotUpdated => "column_not_updated",
            FindingCode::ColumnBlank => "column_blank",
            FindingCode::InteractionChannelMissing => "interaction_channel_missing",
            FindingCode::InteractionUnreachable => "interaction_unreachable",
            FindingCode::InteractionOverdue => "interaction_overdue",
            FindingCode::InteractionUnanswered => "interaction_unanswered",
            FindingCode::InteractionFieldsMissing => "interaction_fields_missing",
            FindingCode::CalendarYearUnknown => "calendar_year_unknown",
            FindingCode::AccountUnreachable => "account_unreachable",
            FindingCode::AccountNotUpdated => "account_not_updated",
            FindingCode::AccountInteractionClosed => "account_interaction_closed",
            FindingCode::DeadLinks => "dead_links",
            FindingCode::WordingError => "wording_error",
            FindingCode::NotFiled => "not_filed",
            FindingCode::ClosedButLive => "closed_but_live",
            FindingCode::Unmonitored => "unmonitored",
        }
    }

    /// The problem in a few Chinese words, without anything a site or an agent wrote: what
    /// robot messages say instead of a finding's detail.
    pub fn label_zh(self) -> &'static str {
        use FindingCode::*;
        match self {
            SiteUnreachable => "网站无法访问",
            HttpError => "网站返回错误状态",
            TlsCertificateInvalid => "HTTPS 证书无效",
            TlsCertificateExpiring => "HTTPS 证书即将过期",
            BodyTruncated => "页面超过大小上限",
            HomeNotUpdated => "首页不更新",
            ColumnUnreachable => "栏目无法访问",
            ColumnNotUpdated => "栏目不更新",
            ColumnBlank => "空白栏目",
            InteractionChannelMissing => "未提供互动交流渠道",
            InteractionUnreachable => "互动渠道无法访问",
            InteractionOverdue => "留言超期未答复",
            InteractionUnanswered => "留言长期未回应",
            InteractionFieldsMissing => "留言答复要素不全",
            CalendarYearUnknown => "节假日日历缺少年份",
            AccountUnreachable => "账号无法读取",
            AccountNotUpdated => "账号不更新",
            AccountInteractionClosed => "互动功能不通畅",
            DeadLinks => "存在不可用链接",
            WordingError => "严重表述错误",
            NotFiled => "未备案（漏报）",
            ClosedButLive => "已关停仍在运行",
            Unmonitored => "已备案但无人巡检",
        }
    }

    /// The check that reports this code (None for the collector's registry findings).
    pub fn check(self) -> Option<CheckKind> {
        use FindingCode::*;
        Some(match self {
            SiteUnreachable | HttpError | TlsCertificateInvalid | TlsCertificateExpiring | BodyTruncated => {
                CheckKind::Availability
            }
            HomeNotUpdated => CheckKind::HomeUpdate,
            ColumnUnreachable | ColumnNotUpdated => CheckKind::ColumnUpdate,
            ColumnBlank => CheckKind::BlankColumn,
            InteractionChannelMissing => CheckKind::ChannelPresence,
            InteractionUnreachable
            | InteractionOverdue
            | InteractionUnanswered
            | InteractionFieldsMissing
            | CalendarYearUnknown => CheckKind::Interaction,
            AccountUnreachable | AccountNotUpdated => CheckKind::AccountUpdate,
            AccountInteractionClosed => CheckKind::AccountInteraction,
            DeadLinks => CheckKind::DeadLinks,
            WordingError => CheckKind::Wording,
            NotFiled | ClosedButLive | Unmonitored => return None,
        })
    }
}

impl Finding {
    pub fn new(code: FindingCode, severity: Severity, detail: impl Into<String>) -> Self {
        Finding { code, severity, detail: detail.into() }
    }
}

impl Observation {
    /// An observation of `target` by `check` at `checked_at`, with nothing found yet.
    pub fn new(target: &str, kind: TargetKind, unit: &str, url: &str, check: CheckKind, checked_at: Timestamp) -> Self {
        Observation {
            target: target.to_string(),
            kind,
            unit: unit.to_string(),
            platform: None,
            column: None,
            column_kind: None,
            url: url.to_string(),
            checks: vec![check],
            checked_at,
            ok: true,
            items: None,
            last_update: None,
            age_days: None,
            max_age_days: None,
            fetch: None,
            findings: Vec::new(),
            channel: None,
            messages: None,
            unanswered: None,
            overdue: None,
            missing_fields: None,
            max_reply_working_days: None,
            oldest_unanswered_days: None,
            comments_open: None,
            dead_links: None,
            wording_errors: None,
        }
    }

    /// Folds `other` (another check's view of the same page in the same round) into `self`.
    pub fn merge(&mut self, other: Observation) {
        for check in other.checks {
            if !self.checks.contains(&check) {
                self.checks.push(check);
            }
        }
        self.checked_at = self.checked_at.max(other.checked_at);
        self.items = self.items.or(other.items);
        self.last_update = self.last_update.or(other.last_update);
        self.age_days = self.age_days.or(other.age_days);
        self.max_age_days = self.max_age_days.or(other.max_age_days);
        if self.fetch.is_none() {
            self.fetch = other.fetch;
        }
        self.messages = self.messages.or(other.messages);
        self.unanswered = self.unanswered.or(other.unanswered);
        self.overdue = self.overdue.or(other.overdue);
        self.missing_fields = self.missing_fields.or(other.missing_fields);
        self.max_reply_working_days = self.max_reply_working_days.or(other.max_reply_working_days);
        self.oldest_unanswered_days = self.oldest_unanswered_days.or(other.oldest_unanswered_days);
        self.comments_open = self.comments_open.or(other.comments_open);
        self.dead_links = self.dead_links.take().or(other.dead_links);
        self.wording_errors = self.wording_errors.take().or(other.wording_errors);
        for finding in other.findings {
            if !self.findings.contains(&finding) {
                self.findings.push(finding);
            }
        }
        self.ok = self.findings.iter().all(|finding| finding.severity == Severity::Warning);
    }

    /// Keeps what `previous` (an earlier observation of the same page) knew from checks that did
    /// not run this time: a home probe every few minutes does not erase the dead links found by
    /// the hourly audit.
    pub fn carry_over(&mut self, previous: &Observation) {
        let ran_now = self.checks.clone();
        let ran = |check: Option<CheckKind>| check.is_some_and(|check| ran_now.contains(&check));
        let carried: Vec<Finding> = previous
            .findings
            .iter()
            .filter(|finding| finding.code.check().is_some() && !ran(finding.code.check()))
            .cloned()
            .collect();
        self.checks.extend(previous.checks.iter().filter(|check| !ran_now.contains(check)));
        self.findings.extend(carried);
        // Fields belong to the checks that measure them; keep those of checks that did not run.
        if !ran(Some(CheckKind::Availability)) && self.fetch.is_none() {
            self.fetch.clone_from(&previous.fetch);
        }
        let freshness = [CheckKind::HomeUpdate, CheckKind::ColumnUpdate, CheckKind::AccountUpdate];
        if !freshness.iter().any(|check| ran(Some(*check))) {
            self.items = self.items.or(previous.items);
            self.last_update = self.last_update.or(previous.last_update);
            self.age_days = self.age_days.or(previous.age_days);
            self.max_age_days = self.max_age_days.or(previous.max_age_days);
        }
        if !ran(Some(CheckKind::Interaction)) {
            self.messages = self.messages.or(previous.messages);
            self.unanswered = self.unanswered.or(previous.unanswered);
            self.overdue = self.overdue.or(previous.overdue);
            self.missing_fields = self.missing_fields.or(previous.missing_fields);
            self.max_reply_working_days = self.max_reply_working_days.or(previous.max_reply_working_days);
            self.oldest_unanswered_days = self.oldest_unanswered_days.or(previous.oldest_unanswered_days);
        }
        if !ran(Some(CheckKind::AccountInteraction)) {
            self.comments_open = self.comments_open.or(previous.comments_open);
        }
        if !ran(Some(CheckKind::DeadLinks)) && self.dead_links.is_none() {
            self.dead_links.clone_from(&previous.dead_links);
        }
        if !ran(Some(CheckKind::Wording)) && self.wording_errors.is_none() {
            self.wording_errors.clone_from(&previous.wording_errors);
        }
        self.settle();
    }

    /// Cuts what a monitored site controls (finding details, link texts and URLs, wording
    /// contexts, redirect chains) to the wire's limits, so that a hostile page cannot make a
    /// push the collector refuses. Names come from the configuration and are checked there.
    pub fn fit_wire_limits(&mut self) {
        use limits::{MAX_LIST_ENTRIES, MAX_TEXT_BYTES};
        fit_text(&mut self.url, MAX_TEXT_BYTES);
        self.findings.truncate(MAX_LIST_ENTRIES);
        for finding in &mut self.findings {
            fit_text(&mut finding.detail, MAX_TEXT_BYTES);
        }
        if let Some(fetch) = &mut self.fetch {
            fetch.redirects.truncate(MAX_LIST_ENTRIES);
            for url in &mut fetch.redirects {
                fit_text(url, MAX_TEXT_BYTES);
            }
        }
        if let Some(links) = &mut self.dead_links {
            links.truncate(MAX_LIST_ENTRIES);
            for link in links {
                fit_text(&mut link.url, MAX_TEXT_BYTES);
                fit_text(&mut link.text, MAX_TEXT_BYTES);
            }
        }
        if let Some(errors) = &mut self.wording_errors {
            errors.truncate(MAX_LIST_ENTRIES);
            for error in errors {
                for text in [&mut error.wrong, &mut error.right, &mut error.context, &mut error.url] {
                    fit_text(text, MAX_TEXT_BYTES);
                }
            }
        }
    }

    /// The key that identifies the page an observation is of: target, column, channel.
    pub fn page_key(&self) -> (&str, Option<&str>, Option<&str>) {
        (&self.target, self.column.as_deref(), self.channel.as_deref())
    }

    /// Recomputes `ok` from the findings.
    pub fn settle(&mut self) {
        self.ok = self.findings.iter().all(|finding| finding.severity == Severity::Warning);
    }
}

/// Cuts `text` to at most `max_bytes`, at a character boundary, ending in "…" when cut.
pub fn fit_text(text: &mut String, max_bytes: usize) {
    if text.len() <= max_bytes {
        return;
    }
    let mut end = max_bytes.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_site_makes_long_is_cut_to_the_wire_limits() {
        let at = Timestamp::from_second(1_790_000_000).unwrap();
        let mut observation = Observation::new("站", TargetKind::Site, "单位", "http://x/", CheckKind::DeadLinks, at);
        let long = "链".repeat(5000);
        observation.findings.push(Finding::new(FindingCode::DeadLinks, Severity::Error, long.clone()));
        observation.dead_links = Some(
            (0..500)
                .map(|i| DeadLink {
                    url: format!("http://x/{i}/{long}"),
                    text: long.clone(),
                    status: Some(404),
                    failure: None,
                })
                .collect(),
        );
        observation.fit_wire_limits();
        let links = observation.dead_links.as_ref().unwrap();
        assert_eq!(links.len(), limits::MAX_LIST_ENTRIES);
        assert!(links.iter().all(|l| l.url.len() <= limits::MAX_TEXT_BYTES && l.text.len() <= limits::MAX_TEXT_BYTES));
        let detail = &observation.findings[0].detail;
        assert!(detail.len() <= limits::MAX_TEXT_BYTES && detail.ends_with('…') && detail.starts_with("链链"));
        let mut short = String::from("短");
        fit_text(&mut short, 8);
        assert_eq!(short, "短");
    }

    #[test]
    fn a_partial_observation_keeps_what_other_checks_measured() {
        let at = Timestamp::from_second(1_790_000_000).unwrap();
        let mut probe = Observation::new("站", TargetKind::Site, "单位", "http://x/", CheckKind::Availability, at);
        probe.checks.push(CheckKind::HomeUpdate);
        probe.items = Some(20);
        probe.fetch = Some(FetchRecord {
            status: Some(200),
            duration_ms: 5,
            failure: None,
            redirects: Vec::new(),
            tls_not_after: None,
            charset: None,
            body_bytes: 1,
            truncated: false,
        });
        probe.findings.push(Finding::new(FindingCode::HomeNotUpdated, Severity::Veto, "x"));
        let mut audit = Observation::new("站", TargetKind::Site, "单位", "http://x/", CheckKind::DeadLinks, at);
        audit.dead_links =
            Some(vec![DeadLink { url: "http://x/a".into(), text: "a".into(), status: Some(404), failure: None }]);
        audit.findings.push(Finding::new(FindingCode::DeadLinks, Severity::Error, "y"));
        audit.carry_over(&probe);
        assert_eq!((audit.items, audit.fetch.as_ref().and_then(|f| f.status)), (Some(20), Some(200)));
        let codes: Vec<FindingCode> = audit.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, [FindingCode::DeadLinks, FindingCode::HomeNotUpdated]);
        assert!(!audit.ok);
        // The next probe keeps the audit's dead links but not the probe's old findings.
        let mut next = Observation::new("站", TargetKind::Site, "单位", "http://x/", CheckKind::Availability, at);
        next.checks.push(CheckKind::HomeUpdate);
        next.carry_over(&audit);
        let codes: Vec<FindingCode> = next.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, [FindingCode::DeadLinks]);
        assert_eq!(next.dead_links.as_ref().map(Vec::len), Some(1));
    }

    #[test]
    fn codes_serialize_as_their_stable_names() {
        for code in FindingCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::Value::from(code.as_str()));
            assert_eq!(FindingCode::parse(code.as_str()), Some(code));
        }
        let distinct: std::collections::HashSet<_> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(distinct.len(), FindingCode::ALL.len());
        assert_eq!(FindingCode::parse("no_such_code"), None);
        for check in [CheckKind::Availability, CheckKind::HomeUpdate, CheckKind::ColumnUpdate, CheckKind::BlankColumn] {
            assert_eq!(serde_json::to_value(check).unwrap(), serde_json::Value::from(check.as_str()));
        }
    }
}
