//! Every default in one place, each with the rule or reason behind it.

use std::time::Duration;

/// How often each target is probed. Five minutes gives 288 probes a day, far above the
/// indicator's "每天间隔性访问20次以上" (≥ 20 spaced probes a day, 国办秘函〔2019〕19号).
pub const PROBE_INTERVAL: Duration = Duration::from_secs(300);
/// How often each column page is read. Column limits are counted in days and months, so an hourly
/// reading loses nothing and keeps the load on small government servers low.
pub const COLUMN_INTERVAL: Duration = Duration::from_secs(3600);
/// A page not open after 15 s counts as a failed probe (国办秘函〔2019〕19号, 站点无法访问).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(15);
/// The shortest interval accepted; the demo and tests probe every few seconds.
pub const MIN_PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// The longest interval accepted: a probe a day at the very least.
pub const MAX_PROBE_INTERVAL: Duration = Duration::from_secs(86_400);
/// The longest timeout accepted: beyond this a probe says nothing the indicator asks.
pub const MAX_PROBE_TIMEOUT: Duration = Duration::from_secs(120);
/// Sent with every request; some government firewalls refuse requests with no User-Agent.
pub const USER_AGENT: &str =
    concat!("Mozilla/5.0 (compatible; xunjian/", env!("CARGO_PKG_VERSION"), "; government website inspection)");

/// Body bytes read from one response (after decompression). Government home pages run to a few
/// hundred KB; 8 MiB leaves room while bounding memory against endless or bombed bodies.
pub const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;
/// Redirects followed before giving up; browsers stop at about 20, CMS chains rarely exceed 3.
pub const MAX_REDIRECTS: u64 = 10;
/// Requests in flight to one host. Government servers are small; two at a time is polite.
pub const PER_HOST_CONCURRENCY: u64 = 2;
/// Requests in flight overall, across hosts.
pub const CONCURRENCY: u64 = 16;

/// Home page: no new dated item within 14 days → veto (首页不更新, 监测2周).
pub const HOME_MAX_AGE_DAYS: u64 = 14;
/// 动态、要闻类 columns: 2 weeks.
pub const NEWS_MAX_AGE_DAYS: u64 = 14;
/// 通知公告 columns: 6 months (183 days).
pub const NOTICE_MAX_AGE_DAYS: u64 = 183;
/// 政策文件 columns: 6 months (183 days).
pub const POLICY_MAX_AGE_DAYS: u64 = 183;
/// 人事、规划计划 columns: 1 year.
pub const PLANNING_MAX_AGE_DAYS: u64 = 365;
/// Other columns that should be updated: judged "长期未更新" after a year.
pub const OTHER_MAX_AGE_DAYS: u64 = 365;
/// Warn this many days before a TLS certificate expires.
pub const TLS_EXPIRY_WARNING_DAYS: u64 = 14;
/// ≥ 5 stale news, notice or policy columns → veto (栏目不更新 1).
pub const STALE_KEY_COLUMNS_VETO: u64 = 5;
/// ≥ 10 stale columns of any kind → veto (栏目不更新 2).
pub const STALE_COLUMNS_VETO: u64 = 10;
/// ≥ 5 blank columns → veto (栏目不更新 3, 空白栏目).
pub const BLANK_COLUMNS_VETO: u64 = 5;

/// New-media accounts: no post within 2 weeks → veto (内容不更新, "监测时间点前2周内无更新").
pub const ACCOUNT_MAX_AGE_DAYS: u64 = 14;
/// Replies to messages within 5 working days (the seed notice's rule).
pub const REPLY_LIMIT_WORKING_DAYS: u64 = 5;
/// Simple questions within 1 working day (the seed notice's rule, where messages are marked).
pub const SIMPLE_REPLY_LIMIT_WORKING_DAYS: u64 = 1;
/// A message unanswered this many days (3 months) → veto (互动回应差 2).
pub const UNANSWERED_VETO_DAYS: u64 = 90;
/// Guides each missing [`GUIDE_VETO_MISSING`] or more elements that make a veto (unconfirmed:
/// the indicator's text is not at hand; the office sets its own).
pub const GUIDE_VETO_COUNT: u64 = 5;
pub const GUIDE_VETO_MISSING: u64 = 4;
/// A message board's list pages read per round (its first page and the next ones).
pub const BOARD_MAX_PAGES: u64 = 5;
/// A board's statistics (留言办理情况统计) are published monthly.
pub const STATISTICS_MAX_AGE_DAYS: u64 = 31;
/// Guides a guide list's page is followed to per round.
pub const MAX_GUIDES: u64 = 20;
/// Policy documents of this many days are paired with their interpretations (政策解读).
pub const INTERPRETATION_WINDOW_DAYS: u64 = 180;
/// An interpretation is due within this many working days of its policy (政策解读不及时; the
/// office's rule to set: 国办 asks for 同步 publication, the seed notice names no number).
pub const INTERPRETATION_LIMIT_WORKING_DAYS: u64 = 3;
/// Title words of documents that need no interpretation: appointments, meetings, commendations,
/// lists and replies carry no policy to explain.
pub const INTERPRETATION_EXEMPT_WORDS: &[&str] =
    &["任免", "任职", "免职", "人事", "会议", "召开", "表彰", "通报", "公示", "名单", "批复", "更正", "放假", "值班"];
/// How often dead links and wording are checked: both read many pages, and neither changes by
/// the minute.
pub const AUDIT_INTERVAL: Duration = Duration::from_secs(6 * 3600);
/// Links of a home page checked per audit, at most; portals carry a few hundred, the ones near
/// the top matter most, and each is a request to someone's server.
pub const DEAD_LINKS_MAX: u64 = 60;

/// The agent's spool bound on disk (`[spool] max_bytes`): 256 MiB.
pub const SPOOL_MAX_BYTES: u64 = 256 * 1024 * 1024;
