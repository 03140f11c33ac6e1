//! The collector's configuration file (`collector.toml`).
//!
//! ```toml
//! [collector]
//! database = "/var/lib/xunjian/xunjian.db"   # one SQLite file; created when absent
//! series_expiry = "2d"                        # series not observed for this long disappear
//! dedupe_window = "30d"                       # batch ids remembered for this long
//! [push]                                      # agents push here: HTTPS, client certificate required
//! listen = "0.0.0.0:9443"
//! ca = "certs/ca.pem"                         # agents' certificates must chain to this CA
//! cert = "certs/server.pem"
//! key = "certs/server-key.pem"
//! max_body_bytes = 8388608                    # per push, compressed and decompressed
//! max_batches_per_minute = 600                # per agent; more is answered 429 with Retry-After
//! read_timeout = "30s"                        # headers, then body, must arrive within this
//! max_subjects_per_agent = 5000               # pages and accounts one agent may own
//! max_observations_per_batch = 5000
//! max_name_chars = 256                        # county, unit, target, platform, column, channel
//! max_text_bytes = 2048                       # URLs, finding details, link texts
//! max_list_entries = 100                      # findings, dead links, wording errors, redirects
//! [[push.agent]]                              # optional: bind an agent to its county
//! id = "longchuan"
//! county = "龙川县"
//! [web]                                       # Prometheus and people: plain HTTP unless cert and key are set
//! listen = "127.0.0.1:9090"
//! admin_token_file = "admin-token"           # optional: enables registry and exemption changes over the
//!                                             # API for requests with `Authorization: Bearer <token>`
//! ```
//! Relative paths are relative to the configuration file.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::ConfigError;
use super::account::Platform;
use super::fields::{DefaultValue, Key, Kind, Problems, Table, TableSpec};

/// A validated collector configuration.
#[derive(Clone, Debug)]
pub struct CollectorConfig {
    /// The SQLite database file. Default `xunjian.db` beside the configuration.
    pub database: PathBuf,
    /// Series of subjects not observed for this long are retired. Default 2 days.
    pub series_expiry: Duration,
    /// Batch ids are remembered this long, longer than a full agent spool takes to drain. Default 30 days.
    pub dedupe_window: Duration,
    /// Daily history is kept this long. Default 3 years.
    pub history_retention: Duration,
    pub push: PushListener,
    pub web: WebListener,
    /// `[alerts]`: rules, overrides and notifiers (see `alerts.rs`).
    pub alerts: super::alerts::AlertsConfig,
    /// `[ledger]`: how problems open, close and reopen.
    pub ledger: LedgerConfig,
    /// `[registry]`: the notice's rules for filed accounts, each with a switch.
    pub registry: RegistryConfig,
    /// `[report]`: the 通报's title block and 整改 deadline.
    pub report: ReportConfig,
}

/// `[push]`: where agents push, over mutual TLS.
#[derive(Clone, Debug)]
pub struct PushListener {
    pub listen: SocketAddr,
    /// CA certificate(s) agents' client certificates must chain to.
    pub ca: PathBuf,
    /// The server's certificate chain and key.
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Largest push body accepted, compressed and after decompression. Default 8 MiB.
    pub max_body_bytes: u64,
    /// Batches one agent may push per minute; beyond it 429 with Retry-After. Default 600.
    pub max_batches_per_minute: u32,
    /// A client must send a request's headers, and then its body, within this. Default 30 s.
    pub read_timeout: Duration,
    /// What one agent may send and own.
    pub limits: PushLimits,
    /// `[[push.agent]]`: agents bound to a county; a listed agent's batches naming another county
    /// are refused. Agents not listed may name any county.
    pub agents: Vec<AgentBinding>,
}

/// Caps on what one agent may send; each refusal is a 4xx naming the key to raise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PushLimits {
    /// Subjects (home pages, columns, channels, accounts) one agent may own. Default 5,000.
    pub max_subjects_per_agent: usize,
    /// Observations in one batch. Default 5,000 (agents send at most 500).
    pub max_observations_per_batch: usize,
    /// Characters of a name (county, unit, target, platform, column, channel). Default 256, at
    /// most 256 so that one `/metrics` line stays under 8 KiB.
    pub max_name_chars: usize,
    /// Bytes of free text (URLs, finding details, link texts). Default 2,048.
    pub max_text_bytes: usize,
    /// Entries of a list (findings, dead links, wording errors, redirects). Default 100.
    pub max_list_entries: usize,
}

impl Default for PushLimits {
    fn default() -> Self {
        PushLimits {
            max_subjects_per_agent: DEFAULT_MAX_SUBJECTS_PER_AGENT,
            max_observations_per_batch: DEFAULT_MAX_OBSERVATIONS_PER_BATCH,
            max_name_chars: crate::wire::limits::MAX_NAME_CHARS,
            max_text_bytes: crate::wire::limits::MAX_TEXT_BYTES,
            max_list_entries: crate::wire::limits::MAX_LIST_ENTRIES,
        }
    }
}

/// `[[push.agent]]`: an agent and the one county it reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentBinding {
    pub id: String,
    pub county: String,
}

pub const DEFAULT_MAX_SUBJECTS_PER_AGENT: usize = 5_000;
pub const DEFAULT_MAX_OBSERVATIONS_PER_BATCH: usize = 5_000;

pub const DEFAULT_MAX_BATCHES_PER_MINUTE: u32 = 600;
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// `[web]`: status page, `/metrics`, API.
#[derive(Clone, Debug)]
pub struct WebListener {
    pub listen: SocketAddr,
    /// Serve HTTPS with this certificate and key when both are set.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The bearer token that allows changes through the API (from `admin_token_file`); without
    /// one the API only reads.
    pub admin_token: Option<String>,
    /// The bearer token `/metrics` wants from other hosts (from `metrics_token_file`); without
    /// one it answers loopback clients only.
    pub metrics_token: Option<String>,
    /// Pages and the read API answer anyone, as the whole city, without a login (a wall
    /// screen on a trusted network); false: every reader logs in or sends a token.
    pub open_reads: bool,
    /// A web session ends this long after its login …
    pub session_lifetime: Duration,
    /// … or this long after its last request, whichever comes first.
    pub session_idle: Duration,
}

pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(2 * 3600);

/// Shortest admin token accepted: guessing must be hopeless.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 16;

pub const DEFAULT_PUSH_LISTEN: &str = "0.0.0.0:9443";
pub const DEFAULT_WEB_LISTEN: &str = "127.0.0.1:9090";
pub const DEFAULT_SERIES_EXPIRY: Duration = Duration::from_secs(2 * 86_400);
pub const DEFAULT_DEDUPE_WINDOW: Duration = Duration::from_secs(30 * 86_400);
/// Three years: a quarter's report can be compared with the same quarter two years before.
pub const DEFAULT_HISTORY_RETENTION: Duration = Duration::from_secs(3 * 365 * 86_400);
/// A push of 10,000 observations is about 1 MB of gzip; 8 MiB leaves room and bounds memory.
pub const DEFAULT_PUSH_MAX_BODY_BYTES: u64 = 8 * 1024 * 1024;

/// `collector.toml`, table by table: every key's type, range, default and meaning, declared once
/// (read below, rendered in `docs/configuration.md`).
pub static FILE: TableSpec = TableSpec {
    doc: "The collector's file (`collector.toml`): its store, where agents push, where people and Prometheus read, and alerting.",
    keys: &[
        Key::table("collector", &STORE, false),
        Key::table("push", &PUSH, true),
        Key::table("web", &WEB, false),
        Key::table("alerts", &super::alerts::ALERTS, false),
        Key::table("ledger", &LEDGER, false),
        Key::table("registry", &REGISTRY, false),
        Key::table("report", &REPORT, false),
    ],
};

static REPORT: TableSpec = TableSpec {
    doc: "The quarterly 通报's title block and 整改 deadline.",
    keys: &[
        Key::new(
            "office",
            Kind::Text,
            DefaultValue::Text(DEFAULT_REPORT_OFFICE),
            "The office that issues the report, as its title block names it, e.g. 河源市人民政府办公室.",
        ),
        Key::new(
            "document_number",
            Kind::Text,
            DefaultValue::Text(DEFAULT_REPORT_DOCUMENT_NUMBER),
            "The 文号 printed under the title; the office fills it in when it signs the draft.",
        ),
        Key::new(
            "city_units",
            Kind::Text,
            DefaultValue::Text(DEFAULT_REPORT_CITY_UNITS),
            "The county name under which the city's own units (市直) report; the report lists them first.",
        ),
        Key::new(
            "rectification_working_days",
            Kind::Whole { unit: "working days", min: 1, max: 120 },
            DefaultValue::Whole(DEFAULT_RECTIFICATION_WORKING_DAYS as u64),
            "The 整改 deadline: this many working days after the period ends, counted with the holiday calendar.",
        ),
    ],
};

/// `[report]`: the title block and the 整改 deadline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportConfig {
    pub office: String,
    pub document_number: String,
    pub city_units: String,
    pub rectification_working_days: u32,
}

pub const DEFAULT_REPORT_OFFICE: &str = "市人民政府办公室";
pub const DEFAULT_REPORT_DOCUMENT_NUMBER: &str = "〔    〕    号";
pub const DEFAULT_RECTIFICATION_WORKING_DAYS: u32 = 10;
pub const DEFAULT_REPORT_CITY_UNITS: &str = "市直";

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            office: DEFAULT_REPORT_OFFICE.into(),
            document_number: DEFAULT_REPORT_DOCUMENT_NUMBER.into(),
            city_units: DEFAULT_REPORT_CITY_UNITS.into(),
            rectification_working_days: DEFAULT_RECTIFICATION_WORKING_DAYS,
        }
    }
}

static LEDGER: TableSpec = TableSpec {
    doc: "The problem ledger (问题台账): when a problem counts as gone, and when one that comes back is the same problem.",
    keys: &[
        Key::new(
            "close_after",
            Kind::Whole { unit: "observations", min: 1, max: 100 },
            DefaultValue::Whole(DEFAULT_LEDGER_CLOSE_AFTER as u64),
            "A problem closes when this many observations of its page in a row no longer show it (a flapping site does not open a problem every round).",
        ),
        Key::new(
            "reopen_within",
            Kind::Duration { min: Duration::ZERO, max: Duration::from_secs(30 * DAY) },
            DefaultValue::Duration(DEFAULT_LEDGER_REOPEN_WITHIN),
            "A closed problem that comes back within this reopens (the same problem, counted as reopened) instead of opening a new one.",
        ),
    ],
};

static REGISTRY: TableSpec = TableSpec {
    doc: "The notice's rules for government new media (备案 and 清理整合), checked against the registry; each can be switched off, and a finding on one account is exempted like any other (`exemption add --code …`).",
    keys: &[
        Key::new(
            "filing_grace_days",
            Kind::Whole { unit: "days", min: 0, max: 90 },
            DefaultValue::Whole(DEFAULT_FILING_GRACE_DAYS as u64),
            "Days to file a new-media account: an unfiled account is filing_pending this long after an agent first sees it, then not_filed; a filing made more than this after the account's 开设日期 (or, without one, its first sight) is filed_late. 0: no days to file.",
        ),
        Key::new(
            "filed_late",
            Kind::Bool,
            DefaultValue::Bool(true),
            "Report filings made more than filing_grace_days after the account's 开设日期 (or, without one, after an agent first saw it).",
        ),
        Key::new(
            "duplicate_account",
            Kind::Bool,
            DefaultValue::Bool(true),
            "Report a unit with more than one live account on one platform (一个单位在同一平台原则上只开设一个账号).",
        ),
        Key::new(
            "unit_type_not_allowed",
            Kind::Bool,
            DefaultValue::Bool(true),
            "Report live accounts filed for a 县级部门 (公安 excepted) or a 乡镇街道, which do not open their own accounts.",
        ),
        Key::new(
            "platform_not_mainstream",
            Kind::Bool,
            DefaultValue::Bool(true),
            "Report live accounts on a platform outside mainstream_platforms, which are to be closed.",
        ),
        Key::new(
            "mainstream_platforms",
            Kind::Strings,
            DefaultValue::Otherwise("[\"wechat\", \"weibo\", \"douyin\", \"toutiao\", \"app\"]"),
            "The platforms accounts may be on (any of wechat, weibo, douyin, toutiao, app, kuaishou, channels, bilibili, xiaohongshu, baijiahao, other, or their Chinese names); a live account anywhere else is platform_not_mainstream.",
        ),
        Key::new(
            "account_discovered",
            Kind::Bool,
            DefaultValue::Bool(true),
            "Report accounts the sites point to (政务新媒体 blocks, profile links, QR codes, 微信公众号：… lines) that match no filing and no inspected account, as candidates for the registry.",
        ),
        Key::new(
            "required_platforms",
            Kind::Strings,
            DefaultValue::Otherwise("none"),
            "Platforms on which every county government (单位类型 县级政府) must have an account: filed and running, and live when an agent inspects it; a county without one is county_without_account. Counties are those of the registry's rows and of the agents, except [report] city_units and a county whose typed rows are all 市直部门.",
        ),
    ],
};

/// `[registry]`: which of the notice's registry rules are checked, and with what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryConfig {
    pub filing_grace_days: u32,
    pub filed_late: bool,
    pub duplicate_account: bool,
    pub unit_type_not_allowed: bool,
    pub platform_not_mainstream: bool,
    pub mainstream_platforms: Vec<Platform>,
    pub account_discovered: bool,
    /// `[report] city_units`: the county name of the city's own units, which has no county
    /// government (not a key of `[registry]`).
    pub city_units: String,
    pub required_platforms: Vec<Platform>,
}

pub const DEFAULT_FILING_GRACE_DAYS: u32 = 3;

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            filing_grace_days: DEFAULT_FILING_GRACE_DAYS,
            filed_late: true,
            duplicate_account: true,
            unit_type_not_allowed: true,
            platform_not_mainstream: true,
            account_discovered: true,
            city_units: DEFAULT_REPORT_CITY_UNITS.into(),
            mainstream_platforms: vec![
                Platform::Wechat,
                Platform::Weibo,
                Platform::Douyin,
                Platform::Toutiao,
                Platform::App,
            ],
            required_platforms: Vec::new(),
        }
    }
}

/// `[ledger]`: how the problem ledger debounces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerConfig {
    pub close_after: u32,
    pub reopen_within: Duration,
}

pub const DEFAULT_LEDGER_CLOSE_AFTER: u32 = 2;
pub const DEFAULT_LEDGER_REOPEN_WITHIN: Duration = Duration::from_secs(DAY);

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig { close_after: DEFAULT_LEDGER_CLOSE_AFTER, reopen_within: DEFAULT_LEDGER_REOPEN_WITHIN }
    }
}

const DAY: u64 = 86_400;

static STORE: TableSpec = TableSpec {
    doc: "The store and how long it remembers.",
    keys: &[
        Key::new(
            "database",
            Kind::Path,
            DefaultValue::Text("xunjian.db"),
            "The SQLite database file; created when absent.",
        ),
        Key::new(
            "series_expiry",
            Kind::Duration { min: Duration::from_secs(60), max: Duration::from_secs(365 * DAY) },
            DefaultValue::Duration(DEFAULT_SERIES_EXPIRY),
            "Series of subjects not observed for this long are retired.",
        ),
        Key::new(
            "dedupe_window",
            Kind::Duration { min: Duration::from_secs(DAY), max: Duration::from_secs(3650 * DAY) },
            DefaultValue::Duration(DEFAULT_DEDUPE_WINDOW),
            "Batch ids are remembered this long, longer than a full agent spool takes to drain.",
        ),
        Key::new(
            "history_retention",
            Kind::Duration { min: Duration::from_secs(DAY), max: Duration::from_secs(36_500 * DAY) },
            DefaultValue::Duration(DEFAULT_HISTORY_RETENTION),
            "Daily history (each page's state, each site's and account's verdict, each county's pass ratio) is kept this long, so any past day, month or quarter can be judged again.",
        ),
    ],
};

static PUSH: TableSpec = TableSpec {
    doc: "Where agents push: HTTPS, client certificate required (`xunjian-collector certs init` makes the files).",
    keys: &[
        Key::new("listen", Kind::Address, DefaultValue::Text(DEFAULT_PUSH_LISTEN), "Address and port to listen on."),
        Key::new(
            "ca",
            Kind::File { what: "the CA certificate agents' client certificates chain to" },
            DefaultValue::Required,
            "CA certificate(s) agents' client certificates must chain to.",
        ),
        Key::new(
            "cert",
            Kind::File { what: "the server's certificate chain" },
            DefaultValue::Required,
            "The server's certificate chain.",
        ),
        Key::new("key", Kind::File { what: "the server's private key" }, DefaultValue::Required, "The server's key."),
        Key::new(
            "max_body_bytes",
            Kind::Whole { unit: "bytes", min: 1024, max: 1 << 30 },
            DefaultValue::Whole(DEFAULT_PUSH_MAX_BODY_BYTES),
            "Largest push accepted, compressed and after decompression.",
        ),
        Key::new(
            "max_batches_per_minute",
            Kind::Whole { unit: "batches", min: 1, max: 1_000_000 },
            DefaultValue::Whole(DEFAULT_MAX_BATCHES_PER_MINUTE as u64),
            "Batches one agent may push per minute; beyond it 429 with Retry-After.",
        ),
        Key::new(
            "read_timeout",
            Kind::Duration { min: Duration::from_secs(1), max: Duration::from_secs(600) },
            DefaultValue::Duration(DEFAULT_READ_TIMEOUT),
            "A client must send a request's headers, and then its body, within this.",
        ),
        Key::new(
            "max_subjects_per_agent",
            Kind::Whole { unit: "subjects", min: 1, max: 10_000_000 },
            DefaultValue::Whole(DEFAULT_MAX_SUBJECTS_PER_AGENT as u64),
            "Subjects (home pages, columns, channels, accounts) one agent may own.",
        ),
        Key::new(
            "max_observations_per_batch",
            Kind::Whole { unit: "observations", min: 1, max: 1_000_000 },
            DefaultValue::Whole(DEFAULT_MAX_OBSERVATIONS_PER_BATCH as u64),
            "Observations in one batch (agents send at most 500).",
        ),
        // Above 256, six names of four-byte characters no longer fit one 8 KiB /metrics line.
        Key::new(
            "max_name_chars",
            Kind::Whole { unit: "characters", min: 16, max: crate::wire::limits::MAX_NAME_CHARS as u64 },
            DefaultValue::Whole(crate::wire::limits::MAX_NAME_CHARS as u64),
            "Characters of a name (county, unit, target, platform, column, channel).",
        ),
        Key::new(
            "max_text_bytes",
            Kind::Whole { unit: "bytes", min: 256, max: 1 << 20 },
            DefaultValue::Whole(crate::wire::limits::MAX_TEXT_BYTES as u64),
            "Bytes of free text (URLs, finding details, link texts).",
        ),
        Key::new(
            "max_list_entries",
            Kind::Whole { unit: "entries", min: 10, max: 100_000 },
            DefaultValue::Whole(crate::wire::limits::MAX_LIST_ENTRIES as u64),
            "Entries of a list (findings, dead links, wording errors, redirects).",
        ),
        Key::tables("agent", &AGENT_BINDING),
    ],
};

static AGENT_BINDING: TableSpec = TableSpec {
    doc: "An agent bound to the one county it reports: its batches naming another county are refused. Agents not listed may name any county (`certs issue --county` adds the binding).",
    keys: &[
        Key::new("id", Kind::Text, DefaultValue::Required, "The agent's id, as in its client certificate."),
        Key::new("county", Kind::Name, DefaultValue::Required, "The county, e.g. 龙川县."),
    ],
};

static WEB: TableSpec = TableSpec {
    doc: "The status page, `/metrics` and the API: plain HTTP unless `cert` and `key` are set.",
    keys: &[
        Key::new("listen", Kind::Address, DefaultValue::Text(DEFAULT_WEB_LISTEN), "Address and port to listen on."),
        Key::new(
            "cert",
            Kind::File { what: "the web server's certificate chain" },
            DefaultValue::Otherwise("none: plain HTTP"),
            "Serve HTTPS with this certificate chain (set with `key`).",
        ),
        Key::new(
            "key",
            Kind::File { what: "the web server's private key" },
            DefaultValue::Otherwise("none: plain HTTP"),
            "The key of `cert`.",
        ),
        Key::new(
            "admin_token_file",
            Kind::File { what: "a file holding the admin token (at least 16 characters)" },
            DefaultValue::Otherwise("none: the API only reads"),
            "Enables registry and exemption changes over the API for requests with `Authorization: Bearer` and the token.",
        ),
        Key::new(
            "metrics_token_file",
            Kind::File { what: "a file holding the token Prometheus sends to /metrics (at least 16 characters)" },
            DefaultValue::Otherwise("none: /metrics answers loopback clients only"),
            "`/metrics` then answers any address that sends `Authorization: Bearer` and this token (Prometheus: `authorization.credentials_file`); without it only clients on this host may scrape.",
        ),
        Key::new(
            "open_reads",
            Kind::Bool,
            DefaultValue::Bool(false),
            "Lets anyone who reaches the port read every page and the read API as the whole city, without logging in (a wall screen on a trusted network only). Off: people log in (`xunjian-collector user add`) and scripts send a personal token; changes always need a login or a token.",
        ),
        Key::new(
            "session_lifetime",
            Kind::Duration { min: Duration::from_secs(300), max: Duration::from_secs(30 * 86_400) },
            DefaultValue::Duration(DEFAULT_SESSION_LIFETIME),
            "A web login lasts at most this long.",
        ),
        Key::new(
            "session_idle",
            Kind::Duration { min: Duration::from_secs(60), max: Duration::from_secs(30 * 86_400) },
            DefaultValue::Duration(DEFAULT_SESSION_IDLE),
            "A web login ends after this long without a request.",
        ),
    ],
};

impl CollectorConfig {
    pub fn load(path: &Path, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Self::parse(&text, path, env)
    }

    pub fn parse(text: &str, path: &Path, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let base = path.parent().unwrap_or(Path::new("."));
        super::parse_file(text, path, env, &FILE, |top, problems| read(top, base, problems))
    }
}

fn read(mut top: Table<'_>, base: &Path, problems: &mut Problems) -> Option<CollectorConfig> {
    // Absent tables and keys read as their declared defaults; a bad value is a problem already,
    // so what `unwrap_or_default` puts in its place is never used.
    let mut table = top.table_or_defaults("collector", problems);
    let database = table.path("database", base, problems).unwrap_or_default();
    let series_expiry = table.duration("series_expiry", problems).unwrap_or_default();
    let dedupe_window = table.duration("dedupe_window", problems).unwrap_or_default();
    let history_retention = table.duration("history_retention", problems).unwrap_or_default();
    table.finish(problems);

    let push = match top.table("push", problems) {
        Some(mut table) => {
            let listen = table.address("listen", problems);
            let ca = table.file("ca", base, problems);
            let cert = table.file("cert", base, problems);
            let key = table.file("key", base, problems);
            let max_body_bytes = table.whole_number("max_body_bytes", problems).unwrap_or_default();
            let max_batches_per_minute =
                table.whole_number("max_batches_per_minute", problems).unwrap_or_default() as u32;
            let read_timeout = table.duration("read_timeout", problems).unwrap_or_default();
            let limits = push_limits(&mut table, problems);
            let agents = agent_bindings(&mut table, problems);
            table.finish(problems);
            // No `?` here: it would return before the other tables are read and checked.
            match (listen, ca, cert, key) {
                (Some(listen), Some(ca), Some(cert), Some(key)) => Some(PushListener {
                    listen,
                    ca,
                    cert,
                    key,
                    max_body_bytes,
                    max_batches_per_minute,
                    read_timeout,
                    limits,
                    agents,
                }),
                _ => None,
            }
        }
        None => {
            problems.push(
                &top.origin,
                "push",
                "missing; add a [push] table with listen, ca, cert and key (xunjian-collector certs init makes them)",
            );
            None
        }
    };

    let mut table = top.table_or_defaults("web", problems);
    let listen = table.address("listen", problems);
    let written = [table.present("cert"), table.present("key")];
    let cert = table.file("cert", base, problems);
    let key = table.file("key", base, problems);
    for (name, (this, other)) in ["cert", "key"].into_iter().zip([(written[0], written[1]), (written[1], written[0])]) {
        if other && !this {
            problems.push(
                &table.origin,
                &table.key_path(name),
                "missing; cert and key go together (both for HTTPS, neither for plain HTTP)",
            );
        }
    }
    let admin_token = token_file(&mut table, "admin_token_file", base, problems);
    let metrics_token = token_file(&mut table, "metrics_token_file", base, problems);
    let open_reads = table.boolean("open_reads", problems).unwrap_or(false);
    let session_lifetime = table.duration("session_lifetime", problems).unwrap_or(DEFAULT_SESSION_LIFETIME);
    let session_idle = table.duration("session_idle", problems).unwrap_or(DEFAULT_SESSION_IDLE);
    table.finish(problems);
    let web = listen.map(|listen| WebListener {
        listen,
        tls: cert.zip(key),
        admin_token,
        metrics_token,
        open_reads,
        session_lifetime,
        session_idle,
    });

    let alerts = super::alerts::read_alerts(top.table_or_defaults("alerts", problems), base, problems);
    let mut table = top.table_or_defaults("ledger", problems);
    let ledger = LedgerConfig {
        close_after: table.whole_number("close_after", problems).unwrap_or_default() as u32,
        reopen_within: table.duration("reopen_within", problems).unwrap_or_default(),
    };
    table.finish(problems);
    let mut registry = read_registry(top.table_or_defaults("registry", problems), problems);
    let mut table = top.table_or_defaults("report", problems);
    let text = |table: &mut Table<'_>, key: &str, problems: &mut Problems| {
        table.string(key, problems).map(|(text, _)| text.trim().to_string()).unwrap_or_default()
    };
    let report = ReportConfig {
        office: text(&mut table, "office", problems),
        document_number: text(&mut table, "document_number", problems),
        city_units: text(&mut table, "city_units", problems),
        rectification_working_days: table.whole_number("rectification_working_days", problems).unwrap_or_default()
            as u32,
    };
    table.finish(problems);
    registry.city_units.clone_from(&report.city_units);
    top.finish(problems);
    Some(CollectorConfig {
        database,
        series_expiry,
        dedupe_window,
        history_retention,
        push: push?,
        web: web?,
        alerts,
        ledger,
        registry,
        report,
    })
}

fn read_registry(mut table: Table<'_>, problems: &mut Problems) -> RegistryConfig {
    let defaults = RegistryConfig::default();
    let platforms = |table: &mut Table<'_>, key: &str, default: Vec<Platform>, problems: &mut Problems| {
        if !table.present(key) {
            return default;
        }
        let path = table.key_path(key);
        let mut platforms = Vec::new();
        for (text, origin) in table.strings(key, problems) {
            match Platform::parse(&text) {
                Ok(platform) if !platforms.contains(&platform) => platforms.push(platform),
                Ok(_) => {}
                Err(message) => problems.push(&origin, &path, message),
            }
        }
        platforms
    };
    let mainstream_platforms = platforms(&mut table, "mainstream_platforms", defaults.mainstream_platforms, problems);
    let required_platforms = platforms(&mut table, "required_platforms", defaults.required_platforms, problems);
    let registry = RegistryConfig {
        filing_grace_days: table.whole_number("filing_grace_days", problems).unwrap_or_default() as u32,
        filed_late: table.boolean("filed_late", problems).unwrap_or(true),
        duplicate_account: table.boolean("duplicate_account", problems).unwrap_or(true),
        unit_type_not_allowed: table.boolean("unit_type_not_allowed", problems).unwrap_or(true),
        platform_not_mainstream: table.boolean("platform_not_mainstream", problems).unwrap_or(true),
        account_discovered: table.boolean("account_discovered", problems).unwrap_or(true),
        city_units: defaults.city_units,
        mainstream_platforms,
        required_platforms,
    };
    table.finish(problems);
    registry
}

fn push_limits(table: &mut Table<'_>, problems: &mut Problems) -> PushLimits {
    let mut number = |key: &str| table.whole_number(key, problems).unwrap_or_default() as usize;
    PushLimits {
        max_subjects_per_agent: number("max_subjects_per_agent"),
        max_observations_per_batch: number("max_observations_per_batch"),
        max_name_chars: number("max_name_chars"),
        max_text_bytes: number("max_text_bytes"),
        max_list_entries: number("max_list_entries"),
    }
}

/// `[[push.agent]]` tables: each id once, a valid agent id, a county.
fn agent_bindings(table: &mut Table<'_>, problems: &mut Problems) -> Vec<AgentBinding> {
    let mut bindings: Vec<AgentBinding> = Vec::new();
    for mut entry in table.tables("agent", problems) {
        let id = entry.string("id", problems);
        let county = entry.name("county", problems);
        if let Some((id, origin)) = &id {
            if let Err(message) = super::agent::AgentId::parse(id.trim()) {
                problems.push(origin, &entry.key_path("id"), message);
            } else if bindings.iter().any(|b| b.id == id.trim()) {
                problems.push(
                    origin,
                    &entry.key_path("id"),
                    format!("agent {:?} is bound twice; keep one [[push.agent]] per agent", id.trim()),
                );
            }
        }
        entry.finish(problems);
        if let (Some((id, _)), Some((county, _))) = (id, county) {
            bindings.push(AgentBinding { id: id.trim().to_string(), county: county.trim().to_string() });
        }
    }
    bindings
}

/// Binds agent `id` to `county` in the collector configuration at `path` by appending a
/// `[[push.agent]]` table (what `certs issue --county` does). Ok(false) when it was bound to
/// that county already; an error when it is bound to another, or the result does not load.
pub fn append_agent_binding(path: &Path, id: &str, county: &str) -> Result<bool, String> {
    let env = HashMap::new();
    let config = CollectorConfig::load(path, &env).map_err(|err| err.to_string())?;
    match config.push.agents.iter().find(|binding| binding.id == id) {
        Some(binding) if binding.county == county => return Ok(false),
        Some(binding) => {
            return Err(format!(
                "{}: agent {id:?} is bound to {:?} already; change its [[push.agent]] table by hand if it moved",
                path.display(),
                binding.county
            ));
        }
        None => {}
    }
    if county.trim().is_empty() || county.chars().any(char::is_control) {
        return Err(format!("county {county:?} must be one line of text, e.g. \"龙川县\""));
    }
    let original = std::fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))?;
    let escaped = county.replace('\\', "\\\\").replace('"', "\\\"");
    let separator = if original.ends_with('\n') || original.is_empty() { "" } else { "\n" };
    let table = format!("{separator}\n[[push.agent]]\nid = \"{id}\"\ncounty = \"{escaped}\"\n");
    let write = |text: &str| std::fs::write(path, text).map_err(|err| format!("{}: {err}", path.display()));
    write(&format!("{original}{table}"))?;
    match CollectorConfig::load(path, &env) {
        Ok(config) if config.push.agents.iter().any(|b| b.id == id && b.county == county) => Ok(true),
        Ok(_) => {
            write(&original)?;
            Err(format!("{}: the appended [[push.agent]] was not read back; add it by hand", path.display()))
        }
        Err(err) => {
            write(&original)?;
            Err(format!("{}: adding the binding would break the file ({err}); add it by hand", path.display()))
        }
    }
}

/// The token in the file `key` names, trimmed; refused when short.
fn token_file(table: &mut Table<'_>, key: &str, base: &Path, problems: &mut Problems) -> Option<String> {
    let path = table.file(key, base, problems)?;
    let problem = match std::fs::read_to_string(&path) {
        Ok(token) if token.trim().chars().count() >= MIN_ADMIN_TOKEN_CHARS => return Some(token.trim().to_string()),
        Ok(_) => format!(
            "{} holds fewer than {MIN_ADMIN_TOKEN_CHARS} characters; write a long random token, e.g. `openssl rand -hex 24 > {}`",
            path.display(),
            path.display()
        ),
        Err(err) => format!("{}: {err}", path.display()),
    };
    let origin = table.origin_of(key);
    problems.push(&origin, &table.key_path(key), problem);
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_collector_config_and_reports_every_problem() {
        let dir = std::env::temp_dir().join(format!("xunjian-collector-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for file in ["ca.pem", "server.pem", "server-key.pem"] {
            std::fs::write(dir.join(file), "x").unwrap();
        }
        let path = dir.join("collector.toml");
        let good = "[collector]\ndatabase = \"state.db\"\n[push]\nlisten = \"127.0.0.1:9443\"\nca = \"ca.pem\"\ncert = \"server.pem\"\nkey = \"server-key.pem\"\n";
        let config = CollectorConfig::parse(good, &path, &HashMap::new()).unwrap();
        assert_eq!(config.database, dir.join("state.db"));
        assert_eq!(config.web.listen.to_string(), DEFAULT_WEB_LISTEN);
        assert_eq!(config.series_expiry, DEFAULT_SERIES_EXPIRY);
        // The declared defaults are the ones the rest of the code names.
        assert_eq!(config.dedupe_window, DEFAULT_DEDUPE_WINDOW);
        assert_eq!(config.history_retention, DEFAULT_HISTORY_RETENTION);
        assert_eq!(config.push.limits, PushLimits::default());
        assert_eq!(
            (config.push.max_body_bytes, config.push.max_batches_per_minute, config.push.read_timeout),
            (DEFAULT_PUSH_MAX_BODY_BYTES, DEFAULT_MAX_BATCHES_PER_MINUTE, DEFAULT_READ_TIMEOUT)
        );
        assert_eq!(config.ledger, LedgerConfig::default());
        assert_eq!(config.report, ReportConfig::default());
        let alerts = crate::config::AlertsConfig::default();
        assert_eq!(
            (config.alerts.evaluation_interval, config.alerts.repeat_interval),
            (alerts.evaluation_interval, alerts.repeat_interval)
        );
        let bare = "[push]\nca = \"ca.pem\"\ncert = \"server.pem\"\nkey = \"server-key.pem\"\n";
        let config = CollectorConfig::parse(bare, &path, &HashMap::new()).unwrap();
        assert_eq!(
            (config.database, config.push.listen.to_string()),
            (dir.join("xunjian.db"), DEFAULT_PUSH_LISTEN.to_string())
        );

        let bad = good.replace("127.0.0.1:9443", "localhost").replace("server-key.pem", "missing.pem")
            + "[web]\nlisten = \"127.0.0.1:9090\"\ncert = \"server.pem\"\n";
        let err = CollectorConfig::parse(&bad, &path, &HashMap::new()).unwrap_err().to_string();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 3, "{err}");
        assert!(lines[0].contains(":4:10: push.listen: \"localhost\" is not ADDRESS:PORT"), "{err}");
        assert!(
            lines[1].contains(":7:7: push.key: ")
                && lines[1].contains("missing.pem is not a readable file; give the path of the server's private key"),
            "{err}"
        );
        assert!(lines[2].contains(":8:1: web.key: missing; cert and key go together"), "{err}");

        std::fs::write(dir.join("short-token"), "abc\n").unwrap();
        std::fs::write(dir.join("token"), "0123456789abcdef0123\n").unwrap();
        let short = format!("{good}[web]\nadmin_token_file = \"short-token\"\n");
        let err = CollectorConfig::parse(&short, &path, &HashMap::new()).unwrap_err().to_string();
        assert!(err.contains(":9:20: web.admin_token_file: ") && err.contains("fewer than 16"), "{err}");
        let with_token = format!("{good}[web]\nadmin_token_file = \"token\"\n");
        let config = CollectorConfig::parse(&with_token, &path, &HashMap::new()).unwrap();
        assert_eq!(config.web.admin_token.as_deref(), Some("0123456789abcdef0123"));

        let alerts = format!(
            "{good}[alerts]\nevaluation_interval = \"10s\"\n[[alerts.rule]]\nname = \"XunjianSiteDwon\"\n\
             [[alerts.override]]\ncounty = \"龙川县\"\nseverity = \"urgent\"\nlabels = [\"team lc\"]\n\
             [[alerts.notifier]]\nname = \"群\"\ntype = \"slack\"\nurl = \"oapi.dingtalk.com/robot/send\"\n"
        );
        let err = CollectorConfig::parse(&alerts, &path, &HashMap::new()).unwrap_err().to_string();
        for expected in [
            "alerts.rule[0].name: unknown rule \"XunjianSiteDwon\"; did you mean \"XunjianSiteDown\"?",
            "alerts.override[0].severity: unknown severity \"urgent\"",
            "alerts.override[0].labels: \"team lc\" is not NAME=VALUE",
            "alerts.notifier[0].type: unknown notifier type \"slack\"",
            "alerts.notifier[0].url: \"oapi.dingtalk.com/robot/send\" is not an absolute URL",
        ] {
            assert!(err.contains(expected), "{expected:?} not in\n{err}");
        }
        let fine = format!(
            "{good}[alerts]\nrepeat_interval = \"2h\"\n[[alerts.notifier]]\nname = \"钉钉\"\ntype = \"dingtalk\"\nurl = \"https://oapi.dingtalk.com/robot/send?access_token=x\"\nsecret = \"SEC1\"\ncounties = [\"龙川县\"]\n"
        );
        let config = CollectorConfig::parse(&fine, &path, &HashMap::new()).unwrap();
        let notifier = &config.alerts.notifiers[0];
        assert_eq!(
            (notifier.rate_limit_per_minute, notifier.secret.as_deref()),
            (20, Some("SEC1")),
            "DingTalk's own limit"
        );
        assert_eq!(config.alerts.repeat_interval, Duration::from_secs(7200));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
