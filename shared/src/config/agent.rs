//! The agent's configuration file (`agent.toml`): who the agent is, how it probes, and the sites
//! and columns of its county.
//!
//! ```toml
//! [agent]
//! id = "longchuan"              # also the name in the agent's client certificate
//! county = "龙川县"
//! [probe]                       # defaults; interval and timeout overridable per site and column
//! interval = "5m"
//! timeout = "15s"
//! [[site]]
//! name = "龙川县人民政府门户网站"
//! unit = "龙川县人民政府办公室"
//! url = "http://www.longchuan.gov.cn/"
//! [[site.column]]
//! name = "工作动态"
//! url = "http://www.longchuan.gov.cn/zwgk/gzdt/"
//! kind = "news"                 # news | notice | policy | planning | other; inferred from the name when absent
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::time::Duration;

use url::Url;

use super::account::{self, AccountConfig};
use super::channel::{self, InteractionConfig};
use super::fields::{
    DefaultValue, Key, Kind, ProbeSettings, Problems, Table, TableSpec, interval_key, read_probe, timeout_key,
    unique_name,
};
use super::source::Origin;
use super::thresholds::ColumnKind;
use super::thresholds::Thresholds;
use super::{ConfigError, defaults};
use crate::markup::select::SelectorList;
use crate::time::calendar::Calendar;

/// A validated agent configuration.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    pub agent: AgentIdentity,
    /// Home-page probing defaults (`[probe] interval`, `timeout`).
    pub probe: ProbeSettings,
    /// How often column pages are read by default (`[probe] column_interval`). Default 1h.
    pub column_interval: Duration,
    /// Sent as the User-Agent header. Default: [`defaults::USER_AGENT`].
    pub user_agent: String,
    /// PEM file of extra trusted root certificates (`[probe] ca_file`), for sites whose
    /// certificates chain to a CA outside the system store. Relative to the configuration file.
    pub ca_file: Option<std::path::PathBuf>,
    pub limits: Limits,
    pub thresholds: Thresholds,
    pub sites: Vec<SiteConfig>,
    pub accounts: Vec<AccountConfig>,
    /// Where `run` pushes observations; `check` needs none.
    pub collector: Option<CollectorLink>,
    /// The working-day calendar: shipped years plus `[[calendar.year]]`.
    pub calendar: Calendar,
    /// A TSV file of more wrong→right terms (`[wording] dictionary`), added to the shipped ones.
    pub wording_dictionary: Option<std::path::PathBuf>,
    /// How often dead links and wording are checked (`[probe] audit_interval`). Default 6h.
    pub audit_interval: Duration,
    /// `[security]`: the security checks' switches and dictionary.
    pub security: SecurityConfig,
    /// `[spool]`: where `run` keeps batches until the collector has them.
    pub spool: SpoolConfig,
    /// `[[guide_element]]`: service guide element categories, or synonyms of known ones, added
    /// to the shipped ten.
    pub guide_elements: Vec<GuideElementConfig>,
}

/// `[security]`: what the security checks (暗链, injected content, cloaking, IPv6) use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityConfig {
    /// A file of more sensitive terms (`category<TAB>term` lines), added to the shipped ones.
    pub sensitive_terms: Option<std::path::PathBuf>,
    /// Fetch each home page once a day as Baiduspider, to compare (cloaking).
    pub cloaking: bool,
    /// Look up each site's IPv6 address and try it.
    pub ipv6: bool,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig { sensitive_terms: None, cloaking: true, ipv6: true }
    }
}

/// `[[guide_element]]`: a service guide element category (or more labels of a known one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuideElementConfig {
    pub name: String,
    pub synonyms: Vec<String>,
}

/// `[[site.guide]]`: one service guide page (办事指南), read for the indicator's elements.
#[derive(Clone, Debug)]
pub struct GuidePageConfig {
    /// Unique among the site's guides and columns.
    pub name: String,
    pub url: Url,
    pub probe: ProbeSettings,
}

/// `[spool]`.
#[derive(Clone, Debug)]
pub struct SpoolConfig {
    /// Default: `$STATE_DIRECTORY/spool/<agent id>` under systemd, else `spool/<agent id>` beside
    /// the configuration file.
    pub dir: std::path::PathBuf,
    /// Bound on disk; beyond it the oldest batches are dropped (counted and logged). Default 256 MiB.
    pub max_bytes: u64,
}

/// `[collector]`: the collector this agent pushes to, over mutual TLS.
#[derive(Clone, Debug)]
pub struct CollectorLink {
    /// The collector's push endpoint, e.g. `https://collector.example.gov.cn:9443/`.
    pub url: Url,
    /// A second collector to fail over to when the first cannot be reached.
    pub fallback_url: Option<Url>,
    /// CA certificate the collector's server certificate must chain to.
    pub ca: std::path::PathBuf,
    /// This agent's client certificate (its common name is the agent id) and key.
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

/// `[agent]`.
#[derive(Clone, Debug)]
pub struct AgentIdentity {
    /// Lowercase letters, digits, `-`, `_`, `.`; also the name in the agent's client certificate.
    pub id: AgentId,
    /// The county (县区) this agent inspects, as the central office names it.
    pub county: String,
    /// Where `run` serves its own `/metrics` (spool, pushes); off when absent.
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// An agent's id: 1–63 characters of `a-z 0-9 - _ .`, starting with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(String);

impl AgentId {
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid_start = text.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let valid_chars =
            text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
        if valid_start && valid_chars && text.len() <= 63 {
            Ok(AgentId(text.to_string()))
        } else {
            Err(format!(
                "{text:?} is not a valid agent id: use 1 to 63 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit (e.g. \"longchuan\")"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `[limits]`: bounds on every fetch and on fan-out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Body bytes read per response, after decompression. Default 4 MiB.
    pub max_body_bytes: u64,
    /// Redirects followed per fetch. Default 10.
    pub max_redirects: u32,
    /// Requests in flight per host. Default 2.
    pub per_host_concurrency: u32,
    /// Requests in flight overall. Default 16.
    pub concurrency: u32,
    /// Links of a home page checked per audit, at most. Default 60.
    pub dead_links_max: u32,
    /// Follow redirects from a public address to a private, loopback or link-local one (an
    /// intranet site behind a public front). Default false: such a redirect is a finding, so
    /// that a monitored site cannot steer the agent into the county's own network.
    pub allow_private_redirects: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: defaults::MAX_BODY_BYTES,
            max_redirects: defaults::MAX_REDIRECTS as u32,
            per_host_concurrency: defaults::PER_HOST_CONCURRENCY as u32,
            concurrency: defaults::CONCURRENCY as u32,
            dead_links_max: defaults::DEAD_LINKS_MAX as u32,
            allow_private_redirects: false,
        }
    }
}

/// `[[site]]`: a government website.
#[derive(Clone, Debug)]
pub struct SiteConfig {
    /// The site's name as filed, e.g. 龙川县人民政府门户网站; unique in the file.
    pub name: String,
    /// The unit responsible (责任单位).
    pub unit: String,
    /// The home page.
    pub url: Url,
    pub probe: ProbeSettings,
    pub columns: Vec<ColumnConfig>,
    /// Consultation channels (`[[site.interaction]]`).
    pub interactions: Vec<InteractionConfig>,
    /// Single service guide pages (`[[site.guide]]`).
    pub guides: Vec<GuidePageConfig>,
}

/// `[[site.column]]`: a column (栏目) whose list page is checked for freshness.
#[derive(Clone, Debug)]
pub struct ColumnConfig {
    /// Column name, unique within its site.
    pub name: String,
    /// The column's list page.
    pub url: Url,
    pub kind: ColumnKind,
    /// True when `kind` was not written and was inferred from the name.
    pub kind_inferred: bool,
    /// Stale after this many days; `max_age_days` in the file, else the kind's threshold.
    pub max_age_days: u32,
    pub probe: ProbeSettings,
    /// CSS selector for the column's list items, overriding automatic extraction.
    pub item_selector: Option<SelectorList>,
    /// CSS selector for the date inside each item (or, alone, for every item date on the page).
    pub date_selector: Option<SelectorList>,
    /// For a `guide` column: guide pages followed per round.
    pub max_guides: u32,
    /// For a `policy` column: the name of the site's `interpretation` column its documents are
    /// paired with (政策解读).
    pub interpretations: Option<String>,
}

/// `agent.toml`, table by table: every key's type, range, default and meaning, declared once
/// (read below, rendered in `docs/configuration.md`).
pub static FILE: TableSpec = TableSpec {
    doc: "The agent's file (`agent.toml`): who the agent is, how it probes, and the sites, columns, channels and accounts of its county.",
    keys: &[
        Key::table("agent", &IDENTITY, true),
        Key::table("probe", &PROBE, false),
        Key::table("limits", &LIMITS, false),
        Key::table("thresholds", &super::thresholds::THRESHOLDS, false),
        Key::tables("site", &SITE),
        Key::tables("account", &account::ACCOUNT),
        Key::table("collector", &COLLECTOR_LINK, false),
        Key::table("calendar", &channel::CALENDAR, false),
        Key::table("wording", &WORDING, false),
        Key::table("security", &SECURITY, false),
        Key::table("spool", &SPOOL, false),
        Key::tables("guide_element", &GUIDE_ELEMENT),
    ],
};

static GUIDE_ELEMENT: TableSpec = TableSpec {
    doc: "A service guide (办事指南) element category to check besides the shipped ten (事项名称, 设定依据, 申请条件, 办理材料, 办理地点, 办理机构, 收费标准, 办理时间, 联系电话, 办理流程), or more labels for one of them.",
    keys: &[
        Key::new(
            "name",
            Kind::Name,
            DefaultValue::Required,
            "The category's name: one of the ten to add labels to it, or a new one.",
        ),
        Key::new(
            "synonyms",
            Kind::Strings,
            DefaultValue::Otherwise("none"),
            "Labels guide pages use for it, e.g. [\"服务大厅\"] for 办理地点.",
        ),
    ],
};

static GUIDE: TableSpec = TableSpec {
    doc: "A single service guide page (办事指南), read for the indicator's elements; for a list of guides use a column with kind = \"guide\".",
    keys: &[
        Key::new("name", Kind::Name, DefaultValue::Required, "The guide's name, unique within its site."),
        Key::new("url", Kind::Url, DefaultValue::Required, "The guide page."),
        interval_key(DefaultValue::Otherwise("[probe] column_interval")),
        timeout_key(DefaultValue::Otherwise("the site's timeout")),
    ],
};

static IDENTITY: TableSpec = TableSpec {
    doc: "Who this agent is.",
    keys: &[
        Key::new(
            "id",
            Kind::Text,
            DefaultValue::Required,
            "1 to 63 lowercase letters, digits, `-`, `_` or `.`, starting with a letter or digit; also the name in the agent's client certificate.",
        ),
        Key::new(
            "county",
            Kind::Name,
            DefaultValue::Required,
            "The county (县区) this agent inspects, as the central office names it.",
        ),
        Key::new(
            "metrics_listen",
            Kind::Address,
            DefaultValue::Otherwise("off"),
            "Where `run` serves its own `/metrics` (spool, pushes), e.g. \"127.0.0.1:9101\".",
        ),
    ],
};

static PROBE: TableSpec = TableSpec {
    doc: "How pages are probed; `interval` and `timeout` are the defaults that sites, columns, channels and accounts may override.",
    keys: &[
        interval_key(DefaultValue::Duration(defaults::PROBE_INTERVAL)),
        timeout_key(DefaultValue::Duration(defaults::PROBE_TIMEOUT)),
        Key::new(
            "column_interval",
            Kind::Duration { min: defaults::MIN_PROBE_INTERVAL, max: defaults::MAX_PROBE_INTERVAL },
            DefaultValue::Duration(defaults::COLUMN_INTERVAL),
            "How often column pages, interaction channels and accounts are read unless they say otherwise.",
        ),
        Key::new(
            "audit_interval",
            Kind::Duration {
                min: defaults::MIN_PROBE_INTERVAL,
                max: Duration::from_secs(7 * defaults::MAX_PROBE_INTERVAL.as_secs()),
            },
            DefaultValue::Duration(defaults::AUDIT_INTERVAL),
            "How often dead links and wording are checked.",
        ),
        Key::new("user_agent", Kind::Text, DefaultValue::Text(defaults::USER_AGENT), "Sent as the User-Agent header."),
        Key::new(
            "ca_file",
            Kind::File { what: "a PEM file of CA certificates" },
            DefaultValue::Otherwise("none: the system's roots only"),
            "Extra trusted root certificates, for sites whose certificates chain to a CA outside the system store.",
        ),
    ],
};

static LIMITS: TableSpec = TableSpec {
    doc: "Bounds on every fetch and on fan-out.",
    keys: &[
        Key::new(
            "max_body_bytes",
            Kind::Whole { unit: "bytes", min: 1024, max: 1 << 30 },
            DefaultValue::Whole(defaults::MAX_BODY_BYTES),
            "Body bytes read per response, after decompression.",
        ),
        Key::new(
            "max_redirects",
            Kind::Whole { unit: "redirects", min: 1, max: 50 },
            DefaultValue::Whole(defaults::MAX_REDIRECTS),
            "Redirects followed per fetch.",
        ),
        Key::new(
            "per_host_concurrency",
            Kind::Whole { unit: "requests", min: 1, max: 64 },
            DefaultValue::Whole(defaults::PER_HOST_CONCURRENCY),
            "Requests in flight per host.",
        ),
        Key::new(
            "concurrency",
            Kind::Whole { unit: "requests", min: 1, max: 4096 },
            DefaultValue::Whole(defaults::CONCURRENCY),
            "Requests in flight overall.",
        ),
        Key::new(
            "dead_links_max",
            Kind::Whole { unit: "links", min: 1, max: 1000 },
            DefaultValue::Whole(defaults::DEAD_LINKS_MAX),
            "Links of a home page checked per audit, at most.",
        ),
        Key::new(
            "allow_private_redirects",
            Kind::Bool,
            DefaultValue::Bool(false),
            "Follow redirects from a public address to a private, loopback or link-local one (an intranet site behind a public front); otherwise such a redirect is a finding, so that a monitored site cannot steer the agent into the county's own network.",
        ),
    ],
};

static SITE: TableSpec = TableSpec {
    doc: "A government website, its columns and its interaction channels.",
    keys: &[
        Key::new(
            "name",
            Kind::Name,
            DefaultValue::Required,
            "The site's name as filed, e.g. 龙川县人民政府门户网站; unique in the file.",
        ),
        Key::new("unit", Kind::Name, DefaultValue::Required, "The unit responsible (责任单位)."),
        Key::new("url", Kind::Url, DefaultValue::Required, "The home page."),
        interval_key(DefaultValue::Otherwise("[probe] interval")),
        timeout_key(DefaultValue::Otherwise("[probe] timeout")),
        Key::tables("column", &COLUMN),
        Key::tables("interaction", &channel::INTERACTION),
        Key::tables("guide", &GUIDE),
    ],
};

static COLUMN: TableSpec = TableSpec {
    doc: "A column (栏目) whose list page is checked for freshness and blankness.",
    keys: &[
        Key::new("name", Kind::Name, DefaultValue::Required, "The column's name, unique within its site."),
        Key::new("url", Kind::Url, DefaultValue::Required, "The column's list page."),
        Key::new(
            "kind",
            Kind::Choice(ColumnKind::NAMES),
            DefaultValue::Otherwise("inferred from the name"),
            "What the column publishes, which decides how fresh it must be (news 2 weeks; notice and policy 6 months; planning and other 1 year).",
        ),
        Key::new(
            "max_age_days",
            Kind::Whole { unit: "days", min: 1, max: 36_500 },
            DefaultValue::Otherwise("the kind's limit in [thresholds]"),
            "Stale after this many days without a new dated item.",
        ),
        interval_key(DefaultValue::Otherwise("[probe] column_interval")),
        timeout_key(DefaultValue::Otherwise("the site's timeout")),
        Key::new(
            "item_selector",
            Kind::Selector,
            DefaultValue::Otherwise("automatic reading"),
            "CSS selector for the column's list items, overriding automatic extraction.",
        ),
        Key::new(
            "date_selector",
            Kind::Selector,
            DefaultValue::Otherwise("automatic reading"),
            "CSS selector for the date inside each item (or, alone, for every item date on the page).",
        ),
        Key::new(
            "max_guides",
            Kind::Whole { unit: "guides", min: 1, max: 500 },
            DefaultValue::Whole(defaults::MAX_GUIDES),
            "For kind = \"guide\": the guide pages of the list followed per round, the rest in later rounds (every guide is read within a day).",
        ),
        Key::new(
            "interpretations",
            Kind::Name,
            DefaultValue::Otherwise("none"),
            "For kind = \"policy\": the name of this site's column of kind = \"interpretation\" (政策解读); each policy document is paired with its interpretation, which must follow within `interpretation_limit_working_days`.",
        ),
    ],
};

static COLLECTOR_LINK: TableSpec = TableSpec {
    doc: "The collector this agent pushes to, over mutual TLS; `run` needs it, `check` does not.",
    keys: &[
        Key::new(
            "url",
            Kind::Url,
            DefaultValue::Required,
            "The collector's push endpoint, https://, e.g. \"https://collector.example.gov.cn:9443/\".",
        ),
        Key::new(
            "fallback_url",
            Kind::Url,
            DefaultValue::Otherwise("none"),
            "A second collector to fail over to when the first cannot be reached.",
        ),
        Key::new(
            "ca",
            Kind::File { what: "the collector's CA certificate" },
            DefaultValue::Required,
            "CA certificate the collector's server certificate must chain to.",
        ),
        Key::new(
            "cert",
            Kind::File { what: "this agent's client certificate (xunjian-collector certs issue writes it)" },
            DefaultValue::Required,
            "This agent's client certificate; its common name is the agent id.",
        ),
        Key::new(
            "key",
            Kind::File { what: "this agent's private key (xunjian-collector certs issue writes it)" },
            DefaultValue::Required,
            "This agent's private key.",
        ),
    ],
};

static WORDING: TableSpec = TableSpec {
    doc: "Serious wording errors looked for, beyond the shipped terms.",
    keys: &[Key::new(
        "dictionary",
        Kind::File { what: "a TSV file of lines: wrong, tab, right, and optionally tab and serious or normal" },
        DefaultValue::Otherwise("the shipped terms only"),
        "More wrong→right terms, added to the shipped ones.",
    )],
};

static SECURITY: TableSpec = TableSpec {
    doc: "The security checks: hidden links (暗链), injected content, cloaking, mixed content and IPv6.",
    keys: &[
        Key::new(
            "sensitive_terms",
            Kind::File { what: "a file of lines: a category (赌博, 色情, 诈骗 …), a TAB and a term" },
            DefaultValue::Otherwise("the shipped terms only"),
            "More gambling, pornography or fraud terms, added to the shipped ones; matched in hidden links, in the home page's title, keywords, description and text, and in what search engines are served.",
        ),
        Key::new(
            "cloaking",
            Kind::Bool,
            DefaultValue::Bool(true),
            "Fetch each home page once a day as Baiduspider and compare it with what a browser gets (a page that shows search engines gambling content is hijacked).",
        ),
        Key::new(
            "ipv6",
            Kind::Bool,
            DefaultValue::Bool(true),
            "Look up each site's IPv6 address (AAAA) in its audit and try to connect to it.",
        ),
    ],
};

static SPOOL: TableSpec = TableSpec {
    doc: "Where `run` keeps batches until the collector has them.",
    keys: &[
        Key::new(
            "dir",
            Kind::Path,
            DefaultValue::Otherwise(
                "$STATE_DIRECTORY/spool/AGENT_ID under systemd, else spool/AGENT_ID beside this file",
            ),
            "The spool directory.",
        ),
        Key::new(
            "max_bytes",
            Kind::Whole { unit: "bytes", min: 1 << 20, max: 1 << 40 },
            DefaultValue::Whole(defaults::SPOOL_MAX_BYTES),
            "Bound on disk; beyond it the oldest batches are dropped (counted and logged).",
        ),
    ],
};

impl AgentConfig {
    /// Reads and validates the file at `path`, with `env` (normally `std::env::vars()`) laid over it.
    pub fn load(path: &Path, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Self::parse(&text, path, env)
    }

    /// Validates `text` as if read from `path`.
    pub fn parse(text: &str, path: &Path, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let base_dir = path.parent().unwrap_or(Path::new("."));
        super::parse_file(text, path, env, &FILE, |top, problems| read_agent_config(top, base_dir, env, problems))
    }
}

fn read_agent_config(
    mut top: Table<'_>,
    base_dir: &Path,
    env: &HashMap<String, String>,
    problems: &mut Problems,
) -> Option<AgentConfig> {
    let agent = match top.table("agent", problems) {
        Some(table) => read_identity(table, problems),
        None => {
            problems.push(&top.origin, "agent", "missing; add an [agent] table with id and county");
            None
        }
    };

    // Absent tables and keys read as their declared defaults; a bad value is a problem already,
    // so what `unwrap_or_default` puts in its place is never used.
    let mut table = top.table_or_defaults("probe", problems);
    let probe = ProbeSettings {
        interval: table.duration("interval", problems).unwrap_or_default(),
        timeout: table.duration("timeout", problems).unwrap_or_default(),
    };
    let column_interval = table.duration("column_interval", problems).unwrap_or_default();
    let user_agent = table.string("user_agent", problems).map(|(text, _)| text).unwrap_or_default();
    let audit_interval = table.duration("audit_interval", problems).unwrap_or_default();
    let ca_file = table.file("ca_file", base_dir, problems);
    table.finish(problems);

    let limits = read_limits(top.table_or_defaults("limits", problems), problems);
    let thresholds = Thresholds::read(top.table_or_defaults("thresholds", problems), problems);

    let site_tables = top.tables("site", problems);
    let account_tables = top.tables("account", problems);
    if site_tables.is_empty() && account_tables.is_empty() {
        problems.push(
            &top.origin,
            "site",
            "nothing to inspect; add at least one [[site]] (name, unit, url) or [[account]]",
        );
    }
    let mut seen_sites = HashSet::new();
    let mut sites = Vec::new();
    for table in site_tables {
        if let Some(site) = read_site(table, probe, column_interval, &thresholds, &mut seen_sites, problems) {
            sites.push(site);
        }
    }
    let account_probe = ProbeSettings { interval: column_interval, timeout: probe.timeout };
    let mut seen_accounts = HashSet::new();
    let accounts: Vec<AccountConfig> = account_tables
        .into_iter()
        .filter_map(|table| account::read_account(table, account_probe, &thresholds, &mut seen_accounts, problems))
        .collect();
    let collector = top.table("collector", problems).and_then(|table| read_collector_link(table, base_dir, problems));
    let calendar = channel::read_calendar(top.table_or_defaults("calendar", problems), problems);
    let mut table = top.table_or_defaults("wording", problems);
    let wording_dictionary = table.file("dictionary", base_dir, problems);
    table.finish(problems);
    let mut table = top.table_or_defaults("security", problems);
    let security = SecurityConfig {
        sensitive_terms: table.file("sensitive_terms", base_dir, problems),
        cloaking: table.boolean("cloaking", problems).unwrap_or(true),
        ipv6: table.boolean("ipv6", problems).unwrap_or(true),
    };
    table.finish(problems);
    let guide_elements = top
        .tables("guide_element", problems)
        .into_iter()
        .filter_map(|table| read_guide_element(table, problems))
        .collect();
    let mut table = top.table_or_defaults("spool", problems);
    let spool_dir = table.path("dir", base_dir, problems);
    let spool_max_bytes = table.whole_number("max_bytes", problems).unwrap_or_default();
    table.finish(problems);
    top.finish(problems);
    let agent = agent?;
    let spool = SpoolConfig {
        dir: spool_dir.unwrap_or_else(|| {
            let state = env.get("STATE_DIRECTORY").map(std::path::PathBuf::from);
            state.unwrap_or_else(|| base_dir.to_path_buf()).join("spool").join(agent.id.as_str())
        }),
        max_bytes: spool_max_bytes,
    };

    Some(AgentConfig {
        agent,
        probe,
        column_interval,
        user_agent,
        ca_file,
        limits,
        thresholds,
        sites,
        accounts,
        collector,
        calendar,
        wording_dictionary,
        audit_interval,
        security,
        spool,
        guide_elements,
    })
}

fn read_collector_link(mut table: Table<'_>, base_dir: &Path, problems: &mut Problems) -> Option<CollectorLink> {
    let url = table.url("url", problems);
    let fallback_url = table.url("fallback_url", problems);
    let ca = table.file("ca", base_dir, problems);
    let cert = table.file("cert", base_dir, problems);
    let key = table.file("key", base_dir, problems);
    let origin = table.origin.clone();
    table.finish(problems);
    if let Some(url) = &url
        && url.scheme() != "https"
    {
        problems.push(&origin, "collector.url", format!("{url} must be https://: pushes travel over mutual TLS"));
        return None;
    }
    Some(CollectorLink { url: url?, fallback_url, ca: ca?, cert: cert?, key: key? })
}

fn read_identity(mut table: Table<'_>, problems: &mut Problems) -> Option<AgentIdentity> {
    let id = table.string("id", problems).and_then(|(text, origin)| {
        AgentId::parse(&text).map_err(|message| problems.push(&origin, "agent.id", message)).ok()
    });
    let county = table.name("county", problems).and_then(|(text, origin)| {
        if text.trim() == crate::wire::WHOLE_CITY {
            let message = format!("{text:?} is reserved for the whole city's pass ratio; write the county's own name");
            problems.push(&origin, "agent.county", message);
            return None;
        }
        Some(text.trim().to_string())
    });
    let metrics_listen = table.address("metrics_listen", problems);
    table.finish(problems);
    Some(AgentIdentity { id: id?, county: county?, metrics_listen })
}

fn read_limits(mut table: Table<'_>, problems: &mut Problems) -> Limits {
    let mut small = |key: &str| table.whole_number(key, problems).map_or(0, |value| value.min(u32::MAX.into()) as u32);
    let limits = Limits {
        max_redirects: small("max_redirects"),
        per_host_concurrency: small("per_host_concurrency"),
        concurrency: small("concurrency"),
        dead_links_max: small("dead_links_max"),
        max_body_bytes: table.whole_number("max_body_bytes", problems).unwrap_or_default(),
        allow_private_redirects: table.boolean("allow_private_redirects", problems).unwrap_or(false),
    };
    table.finish(problems);
    limits
}

fn read_site(
    mut table: Table<'_>,
    inherited: ProbeSettings,
    column_interval: Duration,
    thresholds: &Thresholds,
    seen_sites: &mut HashSet<String>,
    problems: &mut Problems,
) -> Option<SiteConfig> {
    let name = unique_name(&mut table, seen_sites, problems, |name| {
        format!("another [[site]] is already named {name:?}; site names must be unique")
    });
    let unit = table.name("unit", problems);
    let url = table.url("url", problems);
    let probe = read_probe(&mut table, inherited, problems);
    // Columns take the site's timeout and the column interval unless they say otherwise.
    let column_probe = ProbeSettings { interval: column_interval, timeout: probe.timeout };
    let mut seen_columns = HashSet::new();
    let read: Vec<(ColumnConfig, Option<(Origin, String)>)> = table
        .tables("column", problems)
        .into_iter()
        .filter_map(|column| read_column(column, column_probe, thresholds, &mut seen_columns, problems))
        .collect();
    // A policy column's interpretations are another column of this site, of kind interpretation.
    for (column, written) in &read {
        let (Some(named), Some((origin, key))) = (&column.interpretations, written) else { continue };
        let message = if column.kind != ColumnKind::Policy {
            format!(
                "only a column of kind = \"policy\" names interpretations; {:?} is of kind {:?}",
                column.name,
                column.kind.as_str()
            )
        } else {
            match read.iter().find(|(other, _)| &other.name == named) {
                None => format!(
                    "this site has no column named {named:?}; add it as [[site.column]] with kind = \"interpretation\""
                ),
                Some((other, _)) if other.kind != ColumnKind::Interpretation => {
                    format!("column {named:?} is of kind {:?}; give it kind = \"interpretation\"", other.kind.as_str())
                }
                Some(_) => continue,
            }
        };
        problems.push(origin, key, message);
    }
    let columns: Vec<ColumnConfig> = read.into_iter().map(|(column, _)| column).collect();
    let guides = table
        .tables("guide", problems)
        .into_iter()
        .filter_map(|guide| read_guide_page(guide, column_probe, &mut seen_columns, problems))
        .collect();
    let mut seen_channels = HashSet::new();
    let interactions = table
        .tables("interaction", problems)
        .into_iter()
        .filter_map(|channel| {
            channel::read_interaction(channel, column_probe, thresholds, &mut seen_channels, problems)
        })
        .collect();
    table.finish(problems);
    Some(SiteConfig {
        name: name?.0.trim().to_string(),
        unit: unit?.0.trim().to_string(),
        url: url?,
        probe,
        columns,
        interactions,
        guides,
    })
}

fn read_column(
    mut table: Table<'_>,
    inherited: ProbeSettings,
    thresholds: &Thresholds,
    seen_columns: &mut HashSet<String>,
    problems: &mut Problems,
) -> Option<(ColumnConfig, Option<(Origin, String)>)> {
    let name = unique_name(&mut table, seen_columns, problems, |name| {
        format!("this site already has a column named {name:?}; column names must be unique within a site")
    });
    let url = table.url("url", problems);
    let kind = match table.string("kind", problems) {
        Some((text, origin)) => match ColumnKind::parse(text.trim()) {
            Ok(kind) => Some((kind, false)),
            Err(message) => {
                problems.push(&origin, &table.key_path("kind"), message);
                None
            }
        },
        None => name.as_ref().map(|(name, _)| (ColumnKind::infer(name), true)),
    };
    let max_age_days = table.whole_number("max_age_days", problems);
    let probe = read_probe(&mut table, inherited, problems);
    let item_selector = table.selector("item_selector", problems);
    let date_selector = table.selector("date_selector", problems);
    let max_guides = table.whole_number("max_guides", problems).unwrap_or_default();
    let interpretations = table.name("interpretations", problems);
    let table_path = table.key_path("interpretations");
    table.finish(problems);
    let (kind, kind_inferred) = kind?;
    let (interpretations, origin) = match interpretations {
        Some((name, origin)) => (Some(name.trim().to_string()), Some((origin, table_path.clone()))),
        None => (None, None),
    };
    let column = ColumnConfig {
        name: name?.0.trim().to_string(),
        url: url?,
        kind,
        kind_inferred,
        max_age_days: max_age_days
            .map(|days| u32::try_from(days).unwrap_or(u32::MAX))
            .unwrap_or_else(|| thresholds.column_max_age_days(kind)),
        probe,
        item_selector,
        date_selector,
        max_guides: u32::try_from(max_guides).unwrap_or(u32::MAX),
        interpretations,
    };
    Some((column, origin))
}

fn read_guide_page(
    mut table: Table<'_>,
    inherited: ProbeSettings,
    seen: &mut HashSet<String>,
    problems: &mut Problems,
) -> Option<GuidePageConfig> {
    let name = unique_name(&mut table, seen, problems, |name| {
        format!("this site already has a column or guide named {name:?}; names must be unique within a site")
    });
    let url = table.url("url", problems);
    let probe = read_probe(&mut table, inherited, problems);
    table.finish(problems);
    Some(GuidePageConfig { name: name?.0.trim().to_string(), url: url?, probe })
}

fn read_guide_element(mut table: Table<'_>, problems: &mut Problems) -> Option<GuideElementConfig> {
    let name = table.name("name", problems);
    let synonyms = table.strings("synonyms", problems).into_iter().map(|(s, _)| s.trim().to_string()).collect();
    table.finish(problems);
    Some(GuideElementConfig { name: name?.0.trim().to_string(), synonyms })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::account::{AccountSource, Platform};

    fn parse(text: &str, env: &[(&str, &str)]) -> Result<AgentConfig, String> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AgentConfig::parse(text, Path::new("agent.toml"), &env).map_err(|err| err.to_string())
    }

    const GOOD: &str = r#"
[agent]
id = "longchuan"
county = "龙川县"
[probe]
interval = "5m"
timeout = "15s"
[[site]]
name = "龙川县人民政府门户网站"
unit = "龙川县人民政府办公室"
url = "http://www.longchuan.gov.cn/"
[[site.column]]
name = "工作动态"
url = "http://www.longchuan.gov.cn/zwgk/gzdt/"
kind = "news"
[[site.column]]
name = "通知公告"
url = "http://www.longchuan.gov.cn/zwgk/tzgg/"
interval = "1h"
"#;

    #[test]
    fn a_policy_column_names_its_interpretation_column_of_the_same_site() {
        let with = |policy: &str, interpretation_kind: &str| {
            format!(
                "{GOOD}[[site.column]]\nname = \"政策文件\"\nurl = \"http://www.longchuan.gov.cn/zcwj/\"\n{policy}\n\
                 [[site.column]]\nname = \"政策解读\"\nurl = \"http://www.longchuan.gov.cn/zcjd/\"\n{interpretation_kind}\n"
            )
        };
        let config = parse(&with("kind = \"policy\"\ninterpretations = \"政策解读\"", ""), &[]).unwrap();
        let columns = &config.sites[0].columns;
        assert_eq!(columns[2].interpretations.as_deref(), Some("政策解读"));
        assert_eq!(columns[3].kind, ColumnKind::Interpretation, "inferred from 解读");
        let err = parse(&with("kind = \"policy\"\ninterpretations = \"解读\"", ""), &[]).unwrap_err();
        assert!(err.contains("site[0].column[2].interpretations: this site has no column named \"解读\""), "{err}");
        let err =
            parse(&with("kind = \"policy\"\ninterpretations = \"政策解读\"", "kind = \"news\""), &[]).unwrap_err();
        assert!(err.contains("give it kind = \"interpretation\""), "{err}");
        let err = parse(&with("kind = \"notice\"\ninterpretations = \"政策解读\"", ""), &[]).unwrap_err();
        assert!(err.contains("only a column of kind = \"policy\" names interpretations"), "{err}");
        let err = parse(&format!("{GOOD}[thresholds]\ninterpretation_exempt_words = \"任免\"\n"), &[]).unwrap_err();
        assert!(err.contains("thresholds.interpretation_exempt_words"), "{err}");
        let config =
            parse(&format!("{GOOD}[thresholds]\ninterpretation_exempt_words = [\"任免\", \" \"]\n"), &[]).unwrap();
        assert_eq!(config.thresholds.interpretation_exempt_words, ["任免"], "a written list replaces the default");
    }

    #[test]
    fn selectors_are_parsed_with_the_file_and_a_bad_one_names_key_and_line() {
        let good = GOOD.replace("kind = \"news\"", "kind = \"news\"\nitem_selector = \"ul.list > li\"");
        let config = parse(&good, &[]).unwrap();
        let selector = config.sites[0].columns[0].item_selector.as_ref().expect("parsed with the file");
        assert_eq!(selector.as_str(), "ul.list > li");
        let bad = GOOD.replace("kind = \"news\"", "kind = \"news\"\nitem_selector = \"ul >\"");
        let err = parse(&bad, &[]).unwrap_err();
        assert!(err.contains("site[0].column[0].item_selector") && err.contains("invalid CSS selector"), "{err}");
        assert!(err.contains("agent.toml:"), "names the file and line: {err}");
    }

    #[test]
    fn reads_the_documented_example() {
        let config = parse(GOOD, &[]).unwrap();
        assert_eq!(config.agent.id.as_str(), "longchuan");
        assert_eq!(config.sites.len(), 1);
        let columns = &config.sites[0].columns;
        assert_eq!(columns[0].kind, ColumnKind::News);
        assert_eq!(columns[0].max_age_days, 14);
        assert_eq!(columns[0].probe.interval, Duration::from_secs(3600), "columns default to an hourly reading");
        assert_eq!((columns[1].kind, columns[1].kind_inferred), (ColumnKind::Notice, true));
        assert_eq!(columns[1].max_age_days, 183);
        assert_eq!(columns[1].probe.interval, Duration::from_secs(3600));
        assert_eq!(columns[1].probe.timeout, Duration::from_secs(15));
    }

    #[test]
    fn absent_keys_read_as_the_declared_defaults_the_code_names() {
        let minimal = "[agent]\nid = \"a\"\ncounty = \"龙川县\"\n[[site]]\nname = \"s\"\nunit = \"u\"\nurl = \"http://a.example/\"\n";
        for text in [minimal.to_string(), format!("{minimal}[probe]\n[limits]\n[thresholds]\n[spool]\n")] {
            let config = parse(&text, &[]).unwrap();
            assert_eq!(config.limits, Limits::default());
            assert_eq!(config.thresholds, Thresholds::default());
            assert_eq!(
                config.probe,
                ProbeSettings { interval: defaults::PROBE_INTERVAL, timeout: defaults::PROBE_TIMEOUT }
            );
            assert_eq!(
                (config.column_interval, config.audit_interval, config.user_agent.as_str()),
                (defaults::COLUMN_INTERVAL, defaults::AUDIT_INTERVAL, defaults::USER_AGENT)
            );
            assert_eq!(config.spool.max_bytes, defaults::SPOOL_MAX_BYTES);
            assert_eq!(config.calendar.is_working_day(jiff::civil::Date::constant(2026, 10, 1)), Some(false));
        }
        let err = parse(&format!("{minimal}[limits]\nconcurrency = 0\nmax_redirects = \"x\"\n"), &[]).unwrap_err();
        assert!(err.contains("limits.concurrency: 0 is out of range: expected 1 to 4096 requests"), "{err}");
        assert!(
            err.contains("limits.max_redirects: expected a whole number of redirects from 1 to 50, got \"x\""),
            "{err}"
        );
    }

    #[test]
    fn the_spool_lives_under_the_injected_state_directory() {
        let config = parse(GOOD, &[("STATE_DIRECTORY", "/var/lib/xunjian-agent")]).unwrap();
        assert_eq!(config.spool.dir, Path::new("/var/lib/xunjian-agent/spool/longchuan"));
        let config = parse(GOOD, &[]).unwrap();
        assert_eq!(config.spool.dir, Path::new("spool/longchuan"), "beside the configuration file");
    }

    #[test]
    fn environment_overrides_keys_of_tables() {
        let config = parse(
            GOOD,
            &[("XUNJIAN_PROBE__TIMEOUT", "20s"), ("XUNJIAN_AGENT__COUNTY", "和平县"), ("XUNJIAN_UPDATE_GOLDEN", "1")],
        )
        .unwrap();
        assert_eq!(config.probe.timeout, Duration::from_secs(20));
        assert_eq!(config.sites[0].columns[0].probe.timeout, Duration::from_secs(20));
        assert_eq!(config.agent.county, "和平县");
        let err = parse(GOOD, &[("XUNJIAN_PROBE__TIMEOUT", "soon")]).unwrap_err();
        assert!(err.contains("(from environment variable XUNJIAN_PROBE__TIMEOUT)"), "{err}");
        let err = parse(GOOD, &[("XUNJIAN_PROBE__", "20s")]).unwrap_err();
        assert!(err.contains("XUNJIAN_PROBE__") && err.contains("malformed name"), "{err}");
        let err = parse(GOOD, &[("XUNJIAN_LIMITS__CONCURENCY", "4")]).unwrap_err();
        assert!(err.contains("did you mean \"concurrency\""), "{err}");
    }

    #[test]
    fn every_problem_reported_with_line_and_key() {
        let bad = GOOD
            .replace("kind = \"news\"", "kind = \"nwes\"")
            .replace("timeout = \"15s\"", "timeout = 15")
            .replace("unit = ", "unti = ");
        let err = parse(&bad, &[]).unwrap_err();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(
            lines,
            [
                "agent.toml:7:11: probe.timeout: expected a duration such as \"90s\", \"5m\" or \"1h\", got 15",
                "agent.toml:8:1: site[0].unit: missing; this key is required",
                "agent.toml:10:1: site[0].unti: unknown key \"unti\"; did you mean \"unit\"?",
                "agent.toml:15:8: site[0].column[0].kind: unknown column kind \"nwes\": expected one of news, notice, policy, planning, other, guide, interpretation",
            ]
        );
    }

    const MEDIA: &str = r#"
[[site.interaction]]
name = "县长信箱"
url = "http://www.longchuan.gov.cn/hdjl/xzxx/"
simple_keywords = ["简单咨询"]

[[account]]
name = "河源市生态环境局"
platform = "weibo"
unit = "市生态环境局"
[account.json]
url = "https://api.example/container"
items = "/data/cards"
date = "/mblog/created_at"
comments = "/mblog/comments_open"

[[account]]
name = "龙川发布"
platform = "wechat"
unit = "龙川县委宣传部"
feed = "https://rss.example/wechat/longchuan"

[[calendar.year]]
year = 2027
holidays = ["01-01", "02-06"]
workdays = ["02-14"]
"#;

    #[test]
    fn reads_channels_accounts_and_calendar_years() {
        let config = parse(&format!("{GOOD}{MEDIA}"), &[]).unwrap();
        let channel = &config.sites[0].interactions[0];
        assert_eq!((channel.name.as_str(), channel.reply_limit_working_days), ("县长信箱", 5));
        assert_eq!(channel.simple_keywords, ["简单咨询"]);
        assert_eq!(config.accounts.len(), 2);
        assert_eq!(config.accounts[0].platform, Platform::Weibo);
        assert_eq!(config.accounts[0].max_age_days, 14);
        assert!(
            matches!(&config.accounts[0].source, AccountSource::Json { items, comments: Some(_), .. } if items == "/data/cards")
        );
        assert!(matches!(config.accounts[1].source, AccountSource::Feed { .. }));
        let feb_14 = jiff::civil::Date::constant(2027, 2, 14);
        assert_eq!(config.calendar.is_working_day(feb_14), Some(true), "a Sunday worked");
        assert_eq!(config.calendar.is_working_day(jiff::civil::Date::constant(2027, 2, 8)), Some(true));
        assert_eq!(config.calendar.is_working_day(jiff::civil::Date::constant(2027, 2, 6)), Some(false));
    }

    #[test]
    fn channel_account_and_calendar_mistakes_name_key_and_line() {
        let bad = format!("{GOOD}{MEDIA}")
            .replace("url = \"http://www.longchuan.gov.cn/hdjl/xzxx/\"", "url = \"www.longchuan.gov.cn/hdjl\"")
            .replace("platform = \"weibo\"", "platform = \"weixin-video\"")
            .replace("items = \"/data/cards\"", "items = \"data.cards\"")
            .replace("feed = \"https://rss.example/wechat/longchuan\"", "feed = \"https://rss.example/wechat/longchuan\"\n[account.page]\nurl = \"https://x.example/\"\nitem_selector = \"div.post\"")
            .replace("\"02-06\"", "\"02-30\"");
        let err = parse(&bad, &[]).unwrap_err();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 5, "{err}");
        let expect = [
            (":23:7: site[0].interaction[0].url: ", "not an absolute URL"),
            (":28:12: account[0].platform: ", "expected one of wechat, weibo"),
            (":32:9: account[0].json.items: ", "not a JSON pointer"),
            (":36:1: account[1]: ", "more than one source"),
            (":47:22: calendar.year[0].holidays: ", "\"02-30\" is not a MM-DD date"),
        ];
        for (line, (place, words)) in lines.iter().zip(expect) {
            assert!(
                line.contains(place) && line.contains(words),
                "{line:?} should contain {place:?} and {words:?}\n{err}"
            );
        }
    }

    #[test]
    fn syntax_errors_point_at_the_line() {
        let err = parse("[agent]\nid = \"x\nname = 1\n", &[]).unwrap_err();
        assert!(err.starts_with("agent.toml:2:"), "{err}");
        assert!(err.contains("invalid TOML"), "{err}");
    }

    #[test]
    fn kind_inferred_from_column_names() {
        let check = |name: &str, kind: ColumnKind| assert_eq!(ColumnKind::infer(name), kind, "{name}");
        check("工作动态", ColumnKind::News);
        check("部门要闻", ColumnKind::News);
        check("通知公告", ColumnKind::Notice);
        check("公示公告", ColumnKind::Notice);
        check("政策文件", ColumnKind::Policy);
        check("规范性文件", ColumnKind::Policy);
        check("人事信息", ColumnKind::Planning);
        check("规划计划", ColumnKind::Planning);
        check("机构概况", ColumnKind::Other);
    }
}
