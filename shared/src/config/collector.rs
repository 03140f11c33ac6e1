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

use super::fields::{Problems, Table};
use super::source::{self, Origin};
use super::{ConfigError, Problem};

/// A validated collector configuration.
#[derive(Clone, Debug)]
pub struct CollectorConfig {
    /// The SQLite database file. Default `xunjian.db` beside the configuration.
    pub database: PathBuf,
    /// Series of subjects not observed for this long are retired. Default 2 days.
    pub series_expiry: Duration,
    /// Batch ids are remembered this long, longer than a full agent spool takes to drain. Default 30 days.
    pub dedupe_window: Duration,
    pub push: PushListener,
    pub web: WebListener,
    /// `[alerts]`: rules, overrides and notifiers (see `alerts.rs`).
    pub alerts: super::alerts::AlertsConfig,
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
}

/// Shortest admin token accepted: guessing must be hopeless.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 16;

pub const DEFAULT_PUSH_LISTEN: &str = "0.0.0.0:9443";
pub const DEFAULT_WEB_LISTEN: &str = "127.0.0.1:9090";
pub const DEFAULT_SERIES_EXPIRY: Duration = Duration::from_secs(2 * 86_400);
pub const DEFAULT_DEDUPE_WINDOW: Duration = Duration::from_secs(30 * 86_400);
/// A push of 10,000 observations is about 1 MB of gzip; 8 MiB leaves room and bounds memory.
pub const DEFAULT_PUSH_MAX_BODY_BYTES: u64 = 8 * 1024 * 1024;

impl CollectorConfig {
    pub fn load(path: &Path, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Self::parse(&text, path, env)
    }

    pub fn parse(text: &str, path: &Path, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let invalid = |problems: Vec<Problem>| ConfigError::Invalid { path: path.to_path_buf(), problems };
        let mut root =
            source::parse_toml(text).map_err(|found| invalid(found.into_iter().map(Into::into).collect()))?;
        let mut problems = Problems::default();
        for found in source::overlay_env(&mut root, env, &["collector", "push", "web", "alerts"]) {
            problems.list.push(found.into());
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let config = read(&root, base, &mut problems);
        let mut list = problems.list;
        list.sort_by_key(|problem| match &problem.origin {
            Origin::File { line, column } => (0, *line, *column),
            Origin::Env { .. } => (1, 0, 0),
        });
        match config {
            Some(config) if list.is_empty() => Ok(config),
            _ => Err(invalid(list)),
        }
    }
}

fn read(root: &source::Node, base: &Path, problems: &mut Problems) -> Option<CollectorConfig> {
    let mut top = Table::of(root, "", problems)?;
    let mut database = base.join("xunjian.db");
    let mut series_expiry = DEFAULT_SERIES_EXPIRY;
    let mut dedupe_window = DEFAULT_DEDUPE_WINDOW;
    if let Some(mut table) = top.table("collector", problems) {
        if let Some((text, _)) = table.string("database", problems) {
            database = base.join(text.trim());
        }
        let day = Duration::from_secs(86_400);
        if let Some(value) = table.duration("series_expiry", Duration::from_secs(60), 365 * day, problems) {
            series_expiry = value;
        }
        if let Some(value) = table.duration("dedupe_window", day, 3650 * day, problems) {
            dedupe_window = value;
        }
        table.finish(problems);
    }

    let push = match top.table("push", problems) {
        Some(mut table) => {
            let listen = socket_addr(&mut table, "listen", DEFAULT_PUSH_LISTEN, problems);
            let ca = existing_file(&mut table, "ca", base, problems);
            let cert = existing_file(&mut table, "cert", base, problems);
            let key = existing_file(&mut table, "key", base, problems);
            let max_body_bytes = table
                .whole_number("max_body_bytes", " bytes", 1024, 1 << 30, problems)
                .unwrap_or(DEFAULT_PUSH_MAX_BODY_BYTES);
            let max_batches_per_minute = table
                .whole_number("max_batches_per_minute", " batches", 1, 1_000_000, problems)
                .map(|n| n as u32)
                .unwrap_or(DEFAULT_MAX_BATCHES_PER_MINUTE);
            let read_timeout = table
                .duration("read_timeout", Duration::from_secs(1), Duration::from_secs(600), problems)
                .unwrap_or(DEFAULT_READ_TIMEOUT);
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

    let web = match top.table("web", problems) {
        Some(mut table) => {
            let listen = socket_addr(&mut table, "listen", DEFAULT_WEB_LISTEN, problems);
            let has_cert = table.get("cert").is_some();
            let has_key = table.get("key").is_some();
            let tls = if has_cert || has_key {
                let cert = existing_file(&mut table, "cert", base, problems);
                let key = existing_file(&mut table, "key", base, problems);
                cert.zip(key)
            } else {
                None
            };
            let admin_token = admin_token(&mut table, base, problems);
            table.finish(problems);
            listen.map(|listen| WebListener { listen, tls, admin_token })
        }
        None => Some(WebListener {
            listen: DEFAULT_WEB_LISTEN.parse().expect("literal address"),
            tls: None,
            admin_token: None,
        }),
    };
    let alerts = match top.table("alerts", problems) {
        Some(table) => super::alerts::read_alerts(table, base, problems),
        None => super::alerts::AlertsConfig::default(),
    };
    top.finish(problems);
    Some(CollectorConfig { database, series_expiry, dedupe_window, push: push?, web: web?, alerts })
}

fn push_limits(table: &mut Table<'_>, problems: &mut Problems) -> PushLimits {
    let defaults = PushLimits::default();
    let mut number = |key: &str, unit: &str, min: u64, max: u64, default: usize| {
        table.whole_number(key, unit, min, max, problems).map(|n| n as usize).unwrap_or(default)
    };
    PushLimits {
        max_subjects_per_agent: number(
            "max_subjects_per_agent",
            " subjects",
            1,
            10_000_000,
            defaults.max_subjects_per_agent,
        ),
        max_observations_per_batch: number(
            "max_observations_per_batch",
            " observations",
            1,
            1_000_000,
            defaults.max_observations_per_batch,
        ),
        // Above 256, six names of four-byte characters no longer fit one 8 KiB /metrics line.
        max_name_chars: number(
            "max_name_chars",
            " characters",
            16,
            crate::wire::limits::MAX_NAME_CHARS as u64,
            defaults.max_name_chars,
        ),
        max_text_bytes: number("max_text_bytes", " bytes", 256, 1 << 20, defaults.max_text_bytes),
        max_list_entries: number("max_list_entries", " entries", 10, 100_000, defaults.max_list_entries),
    }
}

/// `[[push.agent]]` tables: each id once, a valid agent id, a county.
fn agent_bindings(table: &mut Table<'_>, problems: &mut Problems) -> Vec<AgentBinding> {
    let mut bindings: Vec<AgentBinding> = Vec::new();
    for mut entry in table.tables("agent", problems) {
        let id = entry.required_string("id", problems);
        let county = entry.required_string("county", problems);
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
        if let Some((county, origin)) = &county
            && county.trim().is_empty()
        {
            problems.push(origin, &entry.key_path("county"), "empty; write the county's name, e.g. \"龙川县\"");
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

fn socket_addr(table: &mut Table<'_>, key: &str, default: &str, problems: &mut Problems) -> Option<SocketAddr> {
    match table.string(key, problems) {
        Some((text, origin)) => match text.trim().parse() {
            Ok(addr) => Some(addr),
            Err(_) => {
                problems.push(
                    &origin,
                    &table.key_path(key),
                    format!("{text:?} is not ADDRESS:PORT; write e.g. \"0.0.0.0:9443\" or \"127.0.0.1:9090\""),
                );
                None
            }
        },
        None => default.parse().ok(),
    }
}

/// The token in `admin_token_file`, trimmed; refused when short.
fn admin_token(table: &mut Table<'_>, base: &Path, problems: &mut Problems) -> Option<String> {
    let (text, origin) = table.string("admin_token_file", problems)?;
    let path = base.join(text.trim());
    match std::fs::read_to_string(&path) {
        Ok(token) if token.trim().chars().count() >= MIN_ADMIN_TOKEN_CHARS => Some(token.trim().to_string()),
        Ok(_) => {
            problems.push(
                &origin,
                &table.key_path("admin_token_file"),
                format!(
                    "{} holds fewer than {MIN_ADMIN_TOKEN_CHARS} characters; write a long random token, e.g. `openssl rand -hex 24 > {}`",
                    path.display(),
                    path.display()
                ),
            );
            None
        }
        Err(err) => {
            problems.push(&origin, &table.key_path("admin_token_file"), format!("{}: {err}", path.display()));
            None
        }
    }
}

/// A required path to a readable file, relative to the configuration's directory.
fn existing_file(table: &mut Table<'_>, key: &str, base: &Path, problems: &mut Problems) -> Option<PathBuf> {
    let (text, origin) = table.required_string(key, problems)?;
    let path = base.join(text.trim());
    if path.is_file() {
        Some(path)
    } else {
        problems.push(&origin, &table.key_path(key), format!("{} is not a readable file", path.display()));
        None
    }
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

        let bad = good.replace("127.0.0.1:9443", "localhost").replace("server-key.pem", "missing.pem")
            + "[web]\nlisten = \"127.0.0.1:9090\"\ncert = \"server.pem\"\n";
        let err = CollectorConfig::parse(&bad, &path, &HashMap::new()).unwrap_err().to_string();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 3, "{err}");
        assert!(lines[0].contains(":4:10: push.listen: \"localhost\" is not ADDRESS:PORT"), "{err}");
        assert!(
            lines[1].contains(":7:7: push.key: ") && lines[1].ends_with("missing.pem is not a readable file"),
            "{err}"
        );
        assert!(lines[2].contains(":8:1: web.key: missing; this key is required"), "{err}");

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
