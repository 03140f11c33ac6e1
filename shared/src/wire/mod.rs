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

pub mod api;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::closed_set;
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

/// The body of every API error, on both ports: a stable code, what was wrong (for people:
/// Chinese on the web port, English for agents on the push port), and, where one request holds
/// many mistakes (a registry upload), every one of them. A 5xx says `internal` and nothing of
/// the cause, which goes to the collector's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl ApiError {
    pub fn new(error: &str, detail: impl Into<String>) -> Self {
        ApiError { error: error.to_string(), detail: detail.into(), problems: Vec::new() }
    }
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
    /// 合格 / 不合格 per site and account (filings no agent inspects included).
    #[serde(default)]
    pub verdicts: Vec<VerdictStatus>,
    /// 合格率 per county and kind, then `全市` (the whole city) per kind.
    #[serde(default)]
    pub pass_ratios: Vec<PassRatioStatus>,
}

/// One site's or account's verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerdictStatus {
    pub county: String,
    pub unit: String,
    pub target: String,
    pub kind: TargetKind,
    /// The platform, for accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// true: 合格; false: 不合格.
    pub pass: bool,
    /// Why it is 不合格.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<VerdictReason>,
    /// What limits the judgement without failing it (监测次数不足).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<VerdictReason>,
    /// Findings an exemption keeps from counting, with the exemption's id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exempted: Vec<VerdictExemption>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictReason {
    /// A finding code (`home_not_updated` …) or a rule (`stale_key_columns`, `site_unavailable` …).
    pub code: String,
    /// The reason's name in the indicators' words.
    pub label: String,
    /// What was seen, in Chinese.
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictExemption {
    pub code: FindingCode,
    pub exemption: i64,
}

/// The `county` of the pass ratios' whole-city row; no county may be named so.
pub const WHOLE_CITY: &str = "全市";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PassRatioStatus {
    /// A county, or `全市` for the whole city.
    pub county: String,
    pub kind: TargetKind,
    pub judged: u32,
    pub passed: u32,
    /// passed / judged (1 when nothing was judged).
    pub ratio: f64,
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
/// columns, a message board (`channel`) or an account.
///
/// Identity, the fetch and the findings sit at the top; what each check measured is a block of
/// its own ([`Freshness`], [`InteractionStats`], [`AccountStats`], [`Audit`]), flattened into
/// the same JSON object so the wire format stays one flat record. A new check adds one block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The site's or account's name, as configured.
    pub target: String,
    pub kind: TargetKind,
    /// The responsible unit (责任单位).
    pub unit: String,
    /// For accounts, the platform (wechat, weibo, …); null for sites.
    pub platform: Option<String>,
    /// For accounts, the identifier on the platform the configuration gives (`account_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
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
    /// Its keys are always written (null when no freshness check ran).
    #[serde(flatten, serialize_with = "always", deserialize_with = "unless_empty")]
    pub freshness: Option<Freshness>,
    /// How the page was fetched; null when no fetch was made.
    pub fetch: Option<FetchRecord>,
    pub findings: Vec<Finding>,
    /// The interaction channel (留言板, 信箱) this observation is of; null otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(flatten, deserialize_with = "unless_empty")]
    pub interaction: Option<InteractionStats>,
    #[serde(flatten, deserialize_with = "unless_empty")]
    pub account: Option<AccountStats>,
    #[serde(flatten, deserialize_with = "unless_empty")]
    pub audit: Option<Audit>,
    #[serde(flatten, deserialize_with = "unless_empty")]
    pub guide: Option<GuideStats>,
    #[serde(flatten, deserialize_with = "unless_empty")]
    pub policy: Option<PolicyStats>,
}

/// A block of measures and the checks that take them: what one round does not measure again,
/// the observation keeps from the previous one.
pub trait Measures: Clone + Default + PartialEq {
    /// The checks whose run replaces this block.
    const TAKEN_BY: &'static [CheckKind];
}

/// The freshness checks' block: the page's (or account's) dated items and the newest of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Freshness {
    /// Dated items found.
    pub items: Option<u32>,
    /// Newest publication date found (null when none).
    pub last_update: Option<Published>,
    /// Days from `last_update` to the day of the check.
    pub age_days: Option<i64>,
    /// The staleness threshold applied.
    pub max_age_days: Option<u32>,
}

impl Measures for Freshness {
    const TAKEN_BY: &'static [CheckKind] = &[CheckKind::HomeUpdate, CheckKind::ColumnUpdate, CheckKind::AccountUpdate];
}

/// A message board's replies (the `interaction` check).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InteractionStats {
    /// Published messages found.
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
    /// List pages read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// Answered messages whose reply fields are not known yet: their detail pages are read in
    /// later rounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details_pending: Option<u32>,
    /// The newest statistics (留言办理情况统计) published, when a statistics page is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics_last_update: Option<Published>,
    /// Days since them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics_age_days: Option<i64>,
}

impl Measures for InteractionStats {
    const TAKEN_BY: &'static [CheckKind] = &[CheckKind::Interaction];
}

/// An account's interaction (the `account_interaction` check).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountStats {
    /// Whether comments or messages are open, when the source says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments_open: Option<bool>,
}

impl Measures for AccountStats {
    const TAKEN_BY: &'static [CheckKind] = &[CheckKind::AccountInteraction];
}

/// The home page's audit (the `dead_links` and `wording` checks, run together on the audit
/// interval).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Audit {
    /// Links of the home page that do not open (null when not checked this time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_links: Option<Vec<DeadLink>>,
    /// Serious wording errors found (null when not checked this time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wording_errors: Option<Vec<WordingError>>,
    /// Links to other sites a visitor cannot see (暗链; null when not checked this time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden_links: Option<Vec<HiddenLink>>,
    /// Gambling, pornography and fraud terms where an honest page carries none (null when not
    /// checked this time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive_terms: Option<Vec<SensitiveTerm>>,
    /// Scripts, styles and frames an HTTPS page loads over plain HTTP (null when not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_resources: Option<Vec<String>>,
    /// Whether the site answers over IPv6 (null when not checked, or named by an IPv4 address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Ipv6Status>,
    /// New-media accounts the page points to (null when not checked this time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_accounts: Option<Vec<LinkedAccount>>,
}

/// A new-media account a page points to: by a link to its profile, a QR code named for it, or a
/// line naming it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedAccount {
    /// As in observations: wechat, weibo, douyin, toutiao.
    pub platform: String,
    /// Its name as the page writes it; empty when only its id is given.
    pub name: String,
    /// Its identifier on the platform, when the page gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl Measures for Audit {
    const TAKEN_BY: &'static [CheckKind] = &[
        CheckKind::DeadLinks,
        CheckKind::Wording,
        CheckKind::HiddenLinks,
        CheckKind::SensitiveContent,
        CheckKind::Cloaking,
        CheckKind::MixedContent,
        CheckKind::Ipv6,
        CheckKind::LinkedAccounts,
    ];
}

/// A sensitive term found on a page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensitiveTerm {
    /// Where: `title`, `keywords`, `description`, `link` (an off-site link's text), `text`.
    pub place: String,
    pub term: String,
}

impl SensitiveTerm {
    /// Where it was found, in a report's words.
    pub fn place_zh(&self) -> &str {
        match self.place.as_str() {
            "title" => "网页标题",
            "keywords" => "关键词",
            "description" => "描述",
            "link" => "外站链接文字",
            "text" => "正文",
            other => other,
        }
    }
}

/// A site's IPv6 reachability.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipv6Status {
    /// Its IPv6 addresses (AAAA); empty when it has none.
    pub addresses: Vec<String>,
    /// One of them accepted a connection on the site's port.
    pub reachable: bool,
}

/// A link to another site a visitor cannot see (暗链).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HiddenLink {
    pub url: String,
    /// The link's text on the page.
    pub text: String,
    /// How it is hidden: `display_none`, `visibility_hidden`, `zero_size`, `off_screen`,
    /// `zero_font`, `tiny_marquee`, `same_colour`.
    pub technique: String,
    /// Written by a script (`document.write`), not in the page's markup.
    #[serde(default)]
    pub scripted: bool,
    /// The sensitive term its text or domain holds (赌博, 色情, 诈骗 terms), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
}

/// A guide list's or guide page's service guides (the `guide` check).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GuideStats {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guides: Option<GuideSummary>,
}

impl Measures for GuideStats {
    const TAKEN_BY: &'static [CheckKind] = &[CheckKind::Guide];
}

/// The guides read (within the last day, for a list read a share per round).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GuideSummary {
    pub checked: u32,
    /// Guides missing at least one element.
    pub incomplete: u32,
    pub items: Vec<GuideItem>,
}

/// One guide and the element categories it shows without content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuideItem {
    pub title: String,
    pub url: String,
    /// Canonical names (事项名称, 设定依据 …), in the indicator's order.
    pub missing: Vec<String>,
}

/// A policy column's documents paired with their interpretations (the `interpretation` check).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyStats {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpretation: Option<InterpretationSummary>,
}

impl Measures for PolicyStats {
    const TAKEN_BY: &'static [CheckKind] = &[CheckKind::Interpretation];
}

/// The policy documents of the window that need an interpretation, and theirs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InterpretationSummary {
    /// Documents judged (dated, within the window, not exempt by their title).
    pub policies: u32,
    pub interpreted: u32,
    /// Without an interpretation past the limit (政策解读缺失).
    pub missing: u32,
    /// Interpreted later than the limit (政策解读不及时).
    pub late: u32,
    /// Without an interpretation yet, still within the limit.
    #[serde(default)]
    pub pending: u32,
    /// The longest delay among interpreted documents.
    pub max_delay_working_days: Option<i64>,
    pub items: Vec<PolicyItem>,
}

/// One policy document and its interpretation, when found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyItem {
    pub title: String,
    pub url: String,
    pub published: Option<jiff::civil::Date>,
    /// The interpretation's URL.
    pub interpreted_by: Option<String>,
    /// Working days from the policy's publication to its interpretation's (0 when published
    /// together or before).
    pub delay_working_days: Option<i64>,
}

/// Writes a block's keys even when it is absent (as nulls), so a reader always finds them.
fn always<S: serde::Serializer, T: Measures + Serialize>(block: &Option<T>, serializer: S) -> Result<S::Ok, S::Error> {
    match block {
        Some(block) => block.serialize(serializer),
        None => T::default().serialize(serializer),
    }
}

/// Reads a flattened block, absent when none of its keys holds a value: a flattened block
/// would otherwise always read as present.
fn unless_empty<'de, D: serde::Deserializer<'de>, T: Measures + Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    let block = T::deserialize(deserializer)?;
    Ok((block != T::default()).then_some(block))
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

closed_set! {
    pub enum TargetKind {
        Site = "site",
        Account = "account",
    }
}

closed_set! {
    /// The checks an agent runs. Stable names: also config keys and log fields.
    pub enum CheckKind {
        /// Home page: status, time to open, TLS certificate, redirects (站点无法访问).
        Availability = "availability",
        /// Home page: newest dated item (首页不更新).
        HomeUpdate = "home_update",
        /// A column: newest publication date of its own list (栏目不更新).
        ColumnUpdate = "column_update",
        /// A column that is reachable but holds no items (空白栏目).
        BlankColumn = "blank_column",
        /// Home page: a consultation channel exists (未提供网上有效咨询建言渠道).
        ChannelPresence = "channel_presence",
        /// A message board: replies, their latency in working days, their fields (互动回应).
        Interaction = "interaction",
        /// An account: reachable, newest post (内容不更新).
        AccountUpdate = "account_update",
        /// An account: comments or messages open (互动功能).
        AccountInteraction = "account_interaction",
        /// Links of the home page (不可用链接).
        DeadLinks = "dead_links",
        /// Serious wording errors on the home page and newest items (严重表述错误).
        Wording = "wording",
        /// Links to other sites a visitor cannot see, on the home page and columns (暗链).
        HiddenLinks = "hidden_links",
        /// A policy column: each document paired with its interpretation, in time (政策解读).
        Interpretation = "interpretation",
        /// Service guides: the indicator's elements shown with content (办事指南要素不齐全).
        Guide = "guide",
        /// Home page: gambling, pornography or fraud terms in its title, keywords, description,
        /// off-site links or text (injected content, 网页被篡改).
        SensitiveContent = "sensitive_content",
        /// Home page: its title or most of its text changed since the last round.
        HomeChange = "home_change",
        /// Home page: what a search engine's crawler or a visitor from a search engine gets,
        /// against what a browser gets (cloaking, 搜索引擎劫持).
        Cloaking = "cloaking",
        /// An HTTPS home page loading scripts, styles or frames over plain HTTP.
        MixedContent = "mixed_content",
        /// Home page: an IPv6 address (AAAA) that answers.
        Ipv6 = "ipv6",
        /// The new-media accounts the home page and column pages point to (for 漏报).
        LinkedAccounts = "linked_accounts",
        /// Home, column and board pages: read whole (not cut at the size cap) and in a charset
        /// that decodes them (乱码).
        PageIntegrity = "page_integrity",
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

closed_set! {
    /// Why a fetch produced no usable response (with its words in a zh-CN report). A closed
    /// set: safe as a metric label.
    pub enum FetchFailure: &'static str {
        /// Not complete within the timeout.
        Timeout = "timeout" => "超时未打开",
        /// The host name did not resolve.
        Dns = "dns" => "域名无法解析",
        /// The TCP connection was refused or could not be made.
        Connect = "connect" => "无法建立连接",
        /// The TLS handshake failed or the certificate was not valid.
        Tls = "tls" => "HTTPS证书或握手失败",
        /// The connection broke during the exchange.
        Reset = "reset" => "连接中断",
        /// Redirects came back to a URL already visited.
        RedirectLoop = "redirect_loop" => "重定向循环",
        /// More redirects than the limit.
        TooManyRedirects = "too_many_redirects" => "重定向次数过多",
        /// The server answered something that is not HTTP.
        Protocol = "protocol" => "响应不是有效的HTTP",
        /// A redirect from a public address into a private, loopback or link-local one, refused.
        PrivateRedirect = "private_redirect" => "重定向到内网地址，已拒绝",
    }
}

impl FetchFailure {
    /// The failure in the words of a zh-CN report.
    pub fn label_zh(self) -> &'static str {
        self.info()
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

closed_set! {
    /// How much a finding weighs.
    pub enum Severity {
        /// Worth knowing; does not make the observation fail.
        Warning = "warning",
        /// A problem the indicators count; the observation fails.
        Error = "error",
        /// By itself makes the site or account 不合格 for the period (单项否决).
        Veto = "veto",
    }
}

impl Severity {
    /// The weight in the words of a zh-CN report or list.
    pub fn label_zh(self) -> &'static str {
        match self {
            Severity::Warning => "提醒",
            Severity::Error => "问题",
            Severity::Veto => "单项否决",
        }
    }
}

/// What is declared with each finding code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FindingInfo {
    /// The check that reports it; None for the collector's registry findings.
    pub check: Option<CheckKind>,
    /// The problem in a few Chinese words, without anything a site or an agent wrote.
    pub label_zh: &'static str,
}

const fn by(check: CheckKind, label_zh: &'static str) -> FindingInfo {
    FindingInfo { check: Some(check), label_zh }
}

const fn registry(label_zh: &'static str) -> FindingInfo {
    FindingInfo { check: None, label_zh }
}

closed_set! {
    /// Stable finding codes. Never renamed; new ones are added at the end.
    pub enum FindingCode: FindingInfo {
        /// The home page could not be opened (timeout, DNS, connection, TLS, reset, redirects).
        SiteUnreachable = "site_unreachable" => by(CheckKind::Availability, "网站无法访问"),
        /// The home page answered with an HTTP error status.
        HttpError = "http_error" => by(CheckKind::Availability, "网站返回错误状态"),
        /// The certificate is not valid (expired, self-signed, wrong host).
        TlsCertificateInvalid = "tls_certificate_invalid" => by(CheckKind::Availability, "HTTPS 证书无效"),
        /// The certificate expires soon.
        TlsCertificateExpiring = "tls_certificate_expiring" => by(CheckKind::Availability, "HTTPS 证书即将过期"),
        /// The body exceeded the size limit and was cut.
        BodyTruncated = "body_truncated" => by(CheckKind::PageIntegrity, "页面超过大小上限"),
        /// No new dated item on the home page within the limit (首页不更新).
        HomeNotUpdated = "home_not_updated" => by(CheckKind::HomeUpdate, "首页不更新"),
        /// A column's page could not be opened or answered with an error status.
        ColumnUnreachable = "column_unreachable" => by(CheckKind::ColumnUpdate, "栏目无法访问"),
        /// A column's newest item is older than its limit (栏目不更新); items without any date are
        /// `column_undated`.
        ColumnNotUpdated = "column_not_updated" => by(CheckKind::ColumnUpdate, "栏目不更新"),
        /// A column's page holds no items (空白栏目).
        ColumnBlank = "column_blank" => by(CheckKind::BlankColumn, "空白栏目"),
        /// The site offers no consultation channel (留言, 信箱, 咨询).
        InteractionChannelMissing = "interaction_channel_missing" => by(CheckKind::ChannelPresence, "未提供互动交流渠道"),
        /// A message board could not be opened.
        InteractionUnreachable = "interaction_unreachable" => by(CheckKind::Interaction, "互动渠道无法访问"),
        /// Replies later than the limit in working days.
        InteractionOverdue = "interaction_overdue" => by(CheckKind::Interaction, "留言超期未答复"),
        /// A message unanswered for more than three months.
        InteractionUnanswered = "interaction_unanswered" => by(CheckKind::Interaction, "留言长期未回应"),
        /// Published messages lack 留言时间, 答复时间, 答复单位 or 答复内容.
        InteractionFieldsMissing = "interaction_fields_missing" => by(CheckKind::Interaction, "留言答复要素不全"),
        /// The board's statistics (留言办理情况统计) not published within the limit.
        InteractionStatisticsStale = "interaction_statistics_stale" => by(CheckKind::Interaction, "留言办理情况统计未按时公开"),
        /// A date fell in a year the working-day calendar does not know.
        CalendarYearUnknown = "calendar_year_unknown" => by(CheckKind::Interaction, "节假日日历缺少年份"),
        /// An account's page or feed could not be read.
        AccountUnreachable = "account_unreachable" => by(CheckKind::AccountUpdate, "账号无法读取"),
        /// No post within the limit (内容不更新).
        AccountNotUpdated = "account_not_updated" => by(CheckKind::AccountUpdate, "账号不更新"),
        /// Comments or messages closed, or not working (互动功能不通畅).
        AccountInteractionClosed = "account_interaction_closed" => by(CheckKind::AccountInteraction, "互动功能不通畅"),
        /// Links of the home page that do not open.
        DeadLinks = "dead_links" => by(CheckKind::DeadLinks, "存在不可用链接"),
        /// A serious wording error (严重表述错误).
        WordingError = "wording_error" => by(CheckKind::Wording, "严重表述错误"),
        /// Links to other sites hidden from visitors (暗链): a veto when they carry gambling,
        /// pornography or fraud terms.
        HiddenLinks = "hidden_links" => by(CheckKind::HiddenLinks, "存在暗链"),
        /// A service guide without some of the indicator's elements (办事指南要素不齐全).
        GuideElementsMissing = "guide_elements_missing" => by(CheckKind::Guide, "办事指南要素不齐全"),
        /// Many guides each missing many elements: the indicator's veto.
        GuideVeto = "guide_veto" => by(CheckKind::Guide, "办事指南要素缺失严重"),
        /// A policy document without an interpretation past the limit.
        PolicyNotInterpreted = "policy_not_interpreted" => by(CheckKind::Interpretation, "政策文件未解读"),
        /// An interpretation published later than the limit after its policy.
        InterpretationLate = "interpretation_late" => by(CheckKind::Interpretation, "政策解读不及时"),
        /// An account or site observed but not in the registry (漏报, 未备案).
        NotFiled = "not_filed" => registry("未备案（漏报）"),
        /// Filed as closed (or closing) but still live (未及时履行关停注销程序).
        ClosedButLive = "closed_but_live" => registry("已关停仍在运行"),
        /// Filed but inspected by no agent.
        Unmonitored = "unmonitored" => registry("已备案但无人巡检"),
        /// Gambling, pornography or fraud terms in the home page's title, keywords, description,
        /// off-site links or text: injected content (网页被篡改).
        SensitiveContent = "sensitive_content" => by(CheckKind::SensitiveContent, "网页含赌博色情诈骗内容"),
        /// The home page's title or most of its text changed since the last round.
        HomeChanged = "home_changed" => by(CheckKind::HomeChange, "首页内容突变"),
        /// Search engines (or visitors from them) are served other content than browsers.
        Cloaking = "cloaking" => by(CheckKind::Cloaking, "对搜索引擎展示不同内容（劫持）"),
        /// An HTTPS home page loads scripts, styles or frames over plain HTTP.
        MixedContent = "mixed_content" => by(CheckKind::MixedContent, "HTTPS 页面加载明文 HTTP 资源"),
        /// The site has no IPv6 address, or its IPv6 address does not answer.
        Ipv6Unreachable = "ipv6_unreachable" => by(CheckKind::Ipv6, "不支持 IPv6 访问"),
        /// Observed, and named nearly like a filing: perhaps the same, for a person to confirm.
        PossiblyFiled = "possibly_filed" => registry("疑似已备案（名称相近）"),
        /// Observed, not filed, and first seen within the grace for filing (3 days).
        FilingPending = "filing_pending" => registry("待备案（备案期内）"),
        /// Filed more than the grace after it opened (or was first seen).
        FiledLate = "filed_late" => registry("备案不及时"),
        /// A unit with more than one live account on one platform.
        DuplicateAccount = "duplicate_account" => registry("同一单位同平台重复开设账号"),
        /// A live account of a county department (公安 excepted) or a township.
        UnitTypeNotAllowed = "unit_type_not_allowed" => registry("不应单独开设账号的单位"),
        /// A live account on a platform outside the mainstream ones.
        PlatformNotMainstream = "platform_not_mainstream" => registry("开设在非主流平台"),
        /// A county government without a live account on a required platform.
        CountyWithoutAccount = "county_without_account" => registry("县级政府未开设必备账号"),
        /// A site points to an account that matches no filing and no configured account.
        AccountDiscovered = "account_discovered" => registry("发现未备案账号线索"),
        /// The page's declared charset (HTTP header or meta) does not decode its bytes, so
        /// browsers show 乱码; another charset does.
        CharsetMismatch = "charset_mismatch" => by(CheckKind::PageIntegrity, "页面编码声明错误（乱码）"),
        /// Byte sequences the page's charset cannot decode (乱码 characters).
        CharsetInvalid = "charset_invalid" => by(CheckKind::PageIntegrity, "页面含无效编码字符（乱码）"),
        /// A column lists items but none shows a date: it cannot be dated, so it counts as not
        /// updated (栏目不更新), not as blank.
        ColumnUndated = "column_undated" => by(CheckKind::ColumnUpdate, "栏目信息未注明日期"),
    }
}

impl FindingCode {
    /// The code named `text` (as in [`FindingCode::as_str`]), spaces around it ignored.
    pub fn parse(text: &str) -> Option<FindingCode> {
        FindingCode::named(text.trim())
    }

    /// The problem in a few Chinese words, without anything a site or an agent wrote: what
    /// robot messages say instead of a finding's detail.
    pub fn label_zh(self) -> &'static str {
        self.info().label_zh
    }

    /// The check that reports this code (None for the collector's registry findings).
    pub fn check(self) -> Option<CheckKind> {
        self.info().check
    }

    /// Whether the finding says the page or account is not updated within its limit (栏目不更新
    /// counts a column whose items carry no dates too).
    pub fn means_not_updated(self) -> bool {
        matches!(
            self,
            FindingCode::HomeNotUpdated
                | FindingCode::ColumnNotUpdated
                | FindingCode::ColumnUndated
                | FindingCode::AccountNotUpdated
        )
    }
}

impl Finding {
    /// A finding whose detail says `detail`, without control or bidirectional-override
    /// characters: a detail quotes what a site wrote (titles, link texts, scripts), and a site
    /// must not be able to move a terminal's cursor, hide text or reorder what a person reads.
    pub fn new(code: FindingCode, severity: Severity, detail: impl Into<String>) -> Self {
        let mut detail: String = detail.into();
        if detail.chars().any(is_unprintable) {
            detail.retain(|c| !is_unprintable(c));
        }
        Finding { code, severity, detail }
    }
}

/// Control characters, and the marks that reorder or isolate text.
fn is_unprintable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

impl Observation {
    /// An observation of `target` by `check` at `checked_at`, with nothing found yet.
    pub fn new(target: &str, kind: TargetKind, unit: &str, url: &str, check: CheckKind, checked_at: Timestamp) -> Self {
        Observation {
            target: target.to_string(),
            kind,
            unit: unit.to_string(),
            platform: None,
            account_id: None,
            column: None,
            column_kind: None,
            url: url.to_string(),
            checks: vec![check],
            checked_at,
            ok: true,
            freshness: None,
            fetch: None,
            findings: Vec::new(),
            channel: None,
            interaction: None,
            account: None,
            audit: None,
            guide: None,
            policy: None,
        }
    }

    /// Folds `other` (another subject's view of the same page in the same round, as a home
    /// page's probe and its audit) into `self`.
    pub fn merge(&mut self, other: Observation) {
        for check in other.checks {
            if !self.checks.contains(&check) {
                self.checks.push(check);
            }
        }
        self.checked_at = self.checked_at.max(other.checked_at);
        self.fetch = self.fetch.take().or(other.fetch);
        self.freshness = self.freshness.take().or(other.freshness);
        self.interaction = self.interaction.take().or(other.interaction);
        self.account = self.account.take().or(other.account);
        self.audit = self.audit.take().or(other.audit);
        self.guide = self.guide.take().or(other.guide);
        self.policy = self.policy.take().or(other.policy);
        for finding in other.findings {
            if !self.findings.contains(&finding) {
                self.findings.push(finding);
            }
        }
        self.settle();
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
            // Only what the check found when it last ran: a finding an older agent reported under
            // another check is not carried for ever.
            .filter(|finding| {
                finding.code.check().is_some_and(|check| previous.checks.contains(&check)) && !ran(finding.code.check())
            })
            .cloned()
            .collect();
        self.checks.extend(previous.checks.iter().filter(|check| !ran_now.contains(check)));
        self.findings.extend(carried);
        if !ran_now.contains(&CheckKind::Availability) && self.fetch.is_none() {
            self.fetch.clone_from(&previous.fetch);
        }
        keep_unmeasured(&mut self.freshness, &previous.freshness, &ran_now);
        keep_unmeasured(&mut self.interaction, &previous.interaction, &ran_now);
        keep_unmeasured(&mut self.account, &previous.account, &ran_now);
        keep_unmeasured(&mut self.audit, &previous.audit, &ran_now);
        keep_unmeasured(&mut self.guide, &previous.guide, &ran_now);
        keep_unmeasured(&mut self.policy, &previous.policy, &ran_now);
        self.settle();
    }

    /// Dated items found; None when the page could not be read or no check counted items.
    pub fn items(&self) -> Option<u32> {
        self.freshness.as_ref().and_then(|block| block.items)
    }

    /// Days since the newest dated item.
    pub fn age_days(&self) -> Option<i64> {
        self.freshness.as_ref().and_then(|block| block.age_days)
    }

    /// The newest dated item.
    pub fn last_update(&self) -> Option<Published> {
        self.freshness.as_ref().and_then(|block| block.last_update)
    }

    /// The staleness limit the freshness check applied.
    pub fn max_age_days(&self) -> Option<u32> {
        self.freshness.as_ref().and_then(|block| block.max_age_days)
    }

    /// The dead links of the last audit (None when never audited).
    pub fn dead_links(&self) -> Option<&[DeadLink]> {
        self.audit.as_ref().and_then(|audit| audit.dead_links.as_deref())
    }

    /// The hidden links of the last audit (None when never checked).
    pub fn hidden_links(&self) -> Option<&[HiddenLink]> {
        self.audit.as_ref().and_then(|audit| audit.hidden_links.as_deref())
    }

    /// The sensitive terms of the last audit (None when never checked).
    pub fn sensitive_terms(&self) -> Option<&[SensitiveTerm]> {
        self.audit.as_ref().and_then(|audit| audit.sensitive_terms.as_deref())
    }

    /// The new-media accounts the page points to (None when never checked).
    pub fn linked_accounts(&self) -> Option<&[LinkedAccount]> {
        self.audit.as_ref().and_then(|audit| audit.linked_accounts.as_deref())
    }

    /// The IPv6 reachability of the last audit (None when never checked or not applicable).
    pub fn ipv6(&self) -> Option<&Ipv6Status> {
        self.audit.as_ref().and_then(|audit| audit.ipv6.as_ref())
    }

    /// The wording errors of the last audit (None when never audited).
    pub fn wording_errors(&self) -> Option<&[WordingError]> {
        self.audit.as_ref().and_then(|audit| audit.wording_errors.as_deref())
    }

    /// The message board's replies as last measured (all None when never measured).
    pub fn replies(&self) -> &InteractionStats {
        const NOT_MEASURED: InteractionStats = InteractionStats {
            messages: None,
            unanswered: None,
            overdue: None,
            missing_fields: None,
            max_reply_working_days: None,
            oldest_unanswered_days: None,
            pages: None,
            details_pending: None,
            statistics_last_update: None,
            statistics_age_days: None,
        };
        self.interaction.as_ref().unwrap_or(&NOT_MEASURED)
    }

    /// The service guides as last read (None when never read).
    pub fn guides(&self) -> Option<&GuideSummary> {
        self.guide.as_ref().and_then(|block| block.guides.as_ref())
    }

    /// The policy documents and their interpretations as last paired (None when never).
    pub fn interpretations(&self) -> Option<&InterpretationSummary> {
        self.policy.as_ref().and_then(|block| block.interpretation.as_ref())
    }

    /// Whether the account's comments are open, when known.
    pub fn comments_open(&self) -> Option<bool> {
        self.account.as_ref().and_then(|account| account.comments_open)
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
        if let Some(guides) = self.guide.as_mut().and_then(|block| block.guides.as_mut()) {
            guides.items.truncate(MAX_LIST_ENTRIES);
            for item in &mut guides.items {
                fit_text(&mut item.title, MAX_TEXT_BYTES);
                fit_text(&mut item.url, MAX_TEXT_BYTES);
                item.missing.truncate(MAX_LIST_ENTRIES);
                for name in &mut item.missing {
                    fit_text(name, MAX_TEXT_BYTES);
                }
            }
        }
        if let Some(summary) = self.policy.as_mut().and_then(|block| block.interpretation.as_mut()) {
            summary.items.truncate(MAX_LIST_ENTRIES);
            for item in &mut summary.items {
                fit_text(&mut item.title, MAX_TEXT_BYTES);
                fit_text(&mut item.url, MAX_TEXT_BYTES);
                if let Some(url) = &mut item.interpreted_by {
                    fit_text(url, MAX_TEXT_BYTES);
                }
            }
        }
        let audit = self.audit.as_mut();
        let (dead_links, wording_errors) = match audit {
            Some(audit) => (audit.dead_links.as_mut(), audit.wording_errors.as_mut()),
            None => (None, None),
        };
        if let Some(links) = dead_links {
            links.truncate(MAX_LIST_ENTRIES);
            for link in links {
                fit_text(&mut link.url, MAX_TEXT_BYTES);
                fit_text(&mut link.text, MAX_TEXT_BYTES);
            }
        }
        if let Some(errors) = wording_errors {
            errors.truncate(MAX_LIST_ENTRIES);
            for error in errors {
                for text in [&mut error.wrong, &mut error.right, &mut error.context, &mut error.url] {
                    fit_text(text, MAX_TEXT_BYTES);
                }
            }
        }
        if let Some(links) = self.audit.as_mut().and_then(|audit| audit.hidden_links.as_mut()) {
            links.truncate(MAX_LIST_ENTRIES);
            for link in links {
                fit_text(&mut link.url, MAX_TEXT_BYTES);
                fit_text(&mut link.text, MAX_TEXT_BYTES);
                fit_text(&mut link.technique, MAX_TEXT_BYTES);
                if let Some(term) = &mut link.term {
                    fit_text(term, MAX_TEXT_BYTES);
                }
            }
        }
        if let Some(audit) = self.audit.as_mut() {
            if let Some(terms) = audit.sensitive_terms.as_mut() {
                terms.truncate(MAX_LIST_ENTRIES);
                for term in terms {
                    fit_text(&mut term.place, MAX_TEXT_BYTES);
                    fit_text(&mut term.term, MAX_TEXT_BYTES);
                }
            }
            if let Some(resources) = audit.insecure_resources.as_mut() {
                resources.truncate(MAX_LIST_ENTRIES);
                for url in resources {
                    fit_text(url, MAX_TEXT_BYTES);
                }
            }
            if let Some(ipv6) = audit.ipv6.as_mut() {
                ipv6.addresses.truncate(MAX_LIST_ENTRIES);
            }
            if let Some(accounts) = audit.linked_accounts.as_mut() {
                accounts.truncate(MAX_LIST_ENTRIES);
                for account in accounts {
                    fit_text(&mut account.name, limits::MAX_NAME_CHARS);
                    if let Some(id) = &mut account.id {
                        fit_text(id, limits::MAX_NAME_CHARS);
                    }
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

/// The block `previous` measured, when none of the checks that take it ran now.
fn keep_unmeasured<T: Measures>(now: &mut Option<T>, previous: &Option<T>, ran_now: &[CheckKind]) {
    if now.is_none() && !T::TAKEN_BY.iter().any(|check| ran_now.contains(check)) {
        now.clone_from(previous);
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
        observation.audit.get_or_insert_default().dead_links = Some(
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
        let links = observation.dead_links().unwrap();
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
        probe.freshness = Some(Freshness { items: Some(20), ..Freshness::default() });
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
        audit.audit = Some(Audit {
            dead_links: Some(vec![DeadLink {
                url: "http://x/a".into(),
                text: "a".into(),
                status: Some(404),
                failure: None,
            }]),
            ..Audit::default()
        });
        audit.findings.push(Finding::new(FindingCode::DeadLinks, Severity::Error, "y"));
        audit.carry_over(&probe);
        assert_eq!((audit.items(), audit.fetch.as_ref().and_then(|f| f.status)), (Some(20), Some(200)));
        let codes: Vec<FindingCode> = audit.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, [FindingCode::DeadLinks, FindingCode::HomeNotUpdated]);
        assert!(!audit.ok);
        // The next probe keeps the audit's dead links but not the probe's old findings.
        let mut next = Observation::new("站", TargetKind::Site, "单位", "http://x/", CheckKind::Availability, at);
        next.checks.push(CheckKind::HomeUpdate);
        next.carry_over(&audit);
        let codes: Vec<FindingCode> = next.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, [FindingCode::DeadLinks]);
        assert_eq!(next.dead_links().map(<[DeadLink]>::len), Some(1));
    }

    #[test]
    fn blocks_are_flat_keys_and_absent_blocks_read_back_absent() {
        let at = Timestamp::from_second(1_790_000_000).unwrap();
        let mut observation =
            Observation::new("站", TargetKind::Site, "单位", "http://x/", CheckKind::Availability, at);
        let json = serde_json::to_value(&observation).unwrap();
        // Freshness keys are always written; the other blocks only when measured.
        for key in ["items", "last_update", "age_days", "max_age_days"] {
            assert_eq!(json.get(key), Some(&serde_json::Value::Null), "{key}");
        }
        for key in ["messages", "comments_open", "dead_links", "wording_errors", "channel"] {
            assert!(json.get(key).is_none(), "{key}");
        }
        assert_eq!(serde_json::from_value::<Observation>(json).unwrap(), observation);
        observation.interaction = Some(InteractionStats { messages: Some(3), overdue: Some(1), ..Default::default() });
        observation.account = Some(AccountStats { comments_open: Some(false) });
        observation.freshness = Some(Freshness { age_days: Some(4), ..Default::default() });
        let json = serde_json::to_value(&observation).unwrap();
        assert_eq!((json["messages"].as_u64(), json["age_days"].as_i64()), (Some(3), Some(4)));
        assert_eq!(json["comments_open"], serde_json::Value::Bool(false));
        assert_eq!(serde_json::from_value::<Observation>(json).unwrap(), observation);
    }

    #[test]
    fn codes_serialize_as_their_stable_names() {
        for &code in FindingCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::Value::from(code.as_str()));
            assert_eq!(FindingCode::parse(code.as_str()), Some(code));
        }
        let distinct: std::collections::HashSet<_> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(distinct.len(), FindingCode::ALL.len());
        assert_eq!(FindingCode::parse("no_such_code"), None);
        for &check in CheckKind::ALL {
            assert_eq!(serde_json::to_value(check).unwrap(), serde_json::Value::from(check.as_str()));
        }
    }
}
