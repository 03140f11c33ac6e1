//! `xunjian-collector`: the command line. Exit codes: 0 normal stop, 2 bad configuration or
//! arguments, 1 when the collector itself failed.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use xunjian_collector::registry::{NewExemption, NewSilence};
use xunjian_collector::{admin, server, tls};
use xunjian_shared::config::{CollectorConfig, ConfigError};

#[derive(Parser)]
#[command(
    name = "xunjian-collector",
    version,
    about = "xunjian central collector: takes agents' pushes, serves metrics, status and reports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the collector.
    Serve {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        log_format: LogFormat,
    },
    /// Make certificates: a CA and server certificate, or an agent's client certificate.
    Certs {
        #[command(subcommand)]
        action: CertsAction,
    },
    /// The registry of filed sites and accounts (备案): import or export CSV.
    Registry {
        #[command(flatten)]
        database: DatabaseArg,
        #[command(subcommand)]
        action: RegistryAction,
    },
    /// Exemptions: findings accepted for a reason (a 人事 column legitimately unchanged).
    Exemption {
        #[command(flatten)]
        database: DatabaseArg,
        #[command(subcommand)]
        action: ExemptionAction,
    },
    /// Agents: refused at the push port (a stolen host, a leaked key), or retired; effective
    /// without a restart.
    Agent {
        #[command(flatten)]
        database: DatabaseArg,
        #[command(subcommand)]
        action: AgentAction,
    },
    /// Write the 通报 for a period (Word, Excel, PDF, HTML, CSV or Markdown) from the database
    /// named in the configuration; the collector may be running.
    Report {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// A quarter (2026Q4), a month (2026-11) or days (2026-10-01..2026-12-31); default: the
        /// current quarter.
        #[arg(long)]
        period: Option<String>,
        /// Judge on the state at these dates (sampling, as the office does by hand) instead of
        /// every day: 2026-11-20,2026-12-15.
        #[arg(long, value_name = "DATES")]
        at: Option<String>,
        /// One county's report.
        #[arg(long)]
        county: Option<String>,
        /// docx, xlsx, html, pdf, csv or md.
        #[arg(long, default_value = "docx")]
        format: String,
        /// Where to write it; `-` for standard output.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Also give each county's units a 整改 task for their open veto-level problems (one task
        /// per unit, due the report's 整改 deadline; problems already in a task are skipped).
        #[arg(long)]
        issue_tasks: bool,
        /// Who issues the tasks (default: $USER).
        #[arg(long)]
        author: Option<String>,
    },
    /// People: users with a role (admin, city, county, viewer) and the counties they see;
    /// passwords as Argon2id hashes; personal API tokens, shown once.
    User {
        #[command(flatten)]
        database: DatabaseArg,
        #[command(subcommand)]
        action: UserAction,
    },
    /// 整改 tasks: problems given to a county to fix by a date; the agents' observations verify them.
    Task {
        #[command(flatten)]
        database: DatabaseArg,
        #[command(subcommand)]
        action: TaskAction,
    },
    /// Copy the database while the collector runs: a consistent, checked copy (every batch
    /// acknowledged before it began, the ledger, the history, the registry, users and tasks).
    /// Restore: stop the collector, put the copy in the database's place, start it.
    Backup {
        #[command(flatten)]
        database: DatabaseArg,
        /// The copy to write; an existing file is never overwritten.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Silences: alerts not to notify for a while (maintenance, a known outage).
    Silence {
        #[command(flatten)]
        database: DatabaseArg,
        #[command(subcommand)]
        action: SilenceAction,
    },
}

#[derive(Subcommand)]
enum TaskAction {
    /// Give a county's unit a task for these problems (ids from /api/v1/problems).
    Add {
        /// A problem id; repeat for several (one county's).
        #[arg(long = "problem", value_name = "ID", required = true)]
        problems: Vec<i64>,
        /// The responsible unit (default: the problems' own, when they share one).
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        title: Option<String>,
        /// YYYY-MM-DD (default: the current quarter's 通报 deadline).
        #[arg(long)]
        deadline: Option<jiff::civil::Date>,
        #[arg(long)]
        author: Option<String>,
    },
    /// List tasks, newest first.
    List {
        #[arg(long)]
        county: Option<String>,
        /// pending, answered, verified or not_fixed.
        #[arg(long)]
        state: Option<String>,
    },
}

#[derive(Subcommand)]
enum AgentAction {
    /// Refuse an agent's pushes, by id (--agent) and/or certificate serial (--serial, hex).
    Revoke {
        #[arg(long, default_value = "")]
        agent: String,
        #[arg(long, default_value = "")]
        serial: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        author: String,
    },
    /// Lift a revocation; it stays on record.
    Unrevoke {
        id: i64,
        #[arg(long)]
        author: String,
    },
    /// List every revocation, lifted ones included.
    Revoked,
    /// Retire an agent: forget it and release every subject it owns, so that another agent may
    /// report them (a county moved or decommissioned its agent).
    Retire {
        /// The agent id, as in its certificate.
        id: String,
        #[arg(long, default_value = "")]
        reason: String,
        /// Who retires it, for the audit trail (default: the login name).
        #[arg(long)]
        author: Option<String>,
    },
}

#[derive(Subcommand)]
enum SilenceAction {
    /// Silence the alerts whose labels match every --match (NAME=VALUE or NAME!=VALUE).
    Add {
        #[arg(long = "match", value_name = "NAME=VALUE", required = true)]
        matchers: Vec<String>,
        /// How long, e.g. 2h, 3d (at most 90d).
        #[arg(long)]
        duration: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        author: String,
    },
    /// List every silence, expired ones included.
    List,
    /// End a silence now; it stays on record.
    Expire {
        id: i64,
        #[arg(long)]
        author: String,
    },
}

/// Which database: the one named in the collector's configuration, or a file.
#[derive(clap::Args, Clone)]
#[group(required = true, multiple = false)]
struct DatabaseArg {
    /// The collector's configuration (its [collector] database is used).
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// The database file itself.
    #[arg(long, value_name = "FILE", global = true)]
    database: Option<PathBuf>,
}

#[derive(Subcommand)]
enum UserAction {
    /// Add a user; without --password-stdin a throw-away password is printed once.
    Add {
        name: String,
        /// admin, city, county or viewer.
        #[arg(long)]
        role: String,
        /// A county the user sees (county and viewer roles); repeat for several.
        #[arg(long = "county", value_name = "COUNTY")]
        counties: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Who makes the change (default: $USER).
        #[arg(long)]
        author: Option<String>,
    },
    /// List users (never a password or a token).
    List,
    /// Disable a user: no login, no token.
    Disable {
        name: String,
        #[arg(long)]
        author: Option<String>,
    },
    /// Enable a disabled user again.
    Enable {
        name: String,
        #[arg(long)]
        author: Option<String>,
    },
    /// Set a user's password; without --password-stdin a throw-away one is printed once.
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        author: Option<String>,
    },
    /// Make a personal API token for scripts, printed once (only its digest is kept).
    Token {
        name: String,
        /// What the token is for.
        #[arg(long, default_value = "脚本")]
        label: String,
        #[arg(long)]
        author: Option<String>,
    },
    /// Revoke one of a user's tokens (its number as `token` printed it).
    TokenRevoke {
        name: String,
        id: i64,
        #[arg(long)]
        author: Option<String>,
    },
}

#[derive(Subcommand)]
enum RegistryAction {
    /// Replace every filing with the rows of a CSV file (UTF-8, UTF-8 with BOM, or GBK).
    Import {
        file: PathBuf,
        /// Who is making the change, for the audit trail.
        #[arg(long)]
        author: String,
    },
    /// Write the registry as CSV for Excel (UTF-8 with BOM) to FILE, or to standard output.
    Export { file: Option<PathBuf> },
    /// Show the newest changes to the registry and the exemptions.
    Log {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

#[derive(Subcommand)]
enum ExemptionAction {
    /// Accept a finding: on a target, or on one of its columns or channels.
    Add {
        #[arg(long)]
        target: String,
        /// A column or interaction channel of the target; omit for the target itself.
        #[arg(long, default_value = "")]
        column: String,
        /// The finding code, e.g. column_not_updated.
        #[arg(long)]
        code: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        author: String,
        /// Last day it applies (YYYY-MM-DD); omit for no end.
        #[arg(long)]
        until: Option<jiff::civil::Date>,
    },
    /// List every exemption, revoked ones included.
    List,
    /// Revoke an exemption; it stays on record.
    Revoke {
        id: i64,
        #[arg(long)]
        author: String,
    },
}

#[derive(Subcommand)]
enum CertsAction {
    /// Make a CA and a server certificate in DIR.
    Init {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Names or IP addresses agents use to reach the collector (repeatable).
        #[arg(long = "host", value_name = "NAME")]
        hosts: Vec<String>,
    },
    /// Make agent ID's first client certificate and key, signed by the CA in DIR.
    Issue {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[arg(long, value_name = "ID")]
        agent: String,
        /// Days the certificate is valid.
        #[arg(long, default_value_t = tls::DEFAULT_AGENT_CERT_DAYS)]
        days: u32,
        /// Bind the agent to this county: its batches naming another are refused. Recorded as a
        /// [[push.agent]] table in the collector configuration given by --config.
        #[arg(long, requires = "config")]
        county: Option<String>,
        /// The collector configuration to record --county in.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Replace agent ID's certificate and key (before they expire, or after revoking a lost
    /// one); the old files move to DIR/agents/retired/.
    Renew {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[arg(long, value_name = "ID")]
        agent: String,
        #[arg(long, default_value_t = tls::DEFAULT_AGENT_CERT_DAYS)]
        days: u32,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config, log_format } => {
            init_logging(log_format);
            let env: HashMap<String, String> = std::env::vars().collect();
            let config = match CollectorConfig::load(&config, &env) {
                Ok(config) => config,
                Err(error) => return config_error(&error),
            };
            let settings = match server::Settings::from_config(&config) {
                Ok(settings) => settings,
                Err(error) => {
                    eprintln!("配置文件有误：{error}");
                    return ExitCode::from(2);
                }
            };
            finish(run_until_signal(settings))
        }
        Command::Registry { database, action } => registry_command(database, action),
        Command::Exemption { database, action } => exemption_command(database, action),
        Command::Silence { database, action } => silence_command(database, action),
        Command::User { database, action } => user_command(database, action),
        Command::Report { config, period, at, county, format, out, issue_tasks, author } => {
            let issue = issue_tasks.then(|| default_author(author));
            report_command(&config, ReportArgs { period, at, county, format, out, issue })
        }
        Command::Task { database, action } => task_command(database, action),
        Command::Backup { database, out } => backup_command(database, &out),
        Command::Agent { database, action } => agent_command(database, action),
        Command::Certs { action: CertsAction::Init { dir, hosts } } => match tls::certs_init(&dir, &hosts) {
            Ok(outcome) => {
                println!(
                    "wrote {} (CA), {} and {} (server)",
                    outcome.ca.display(),
                    outcome.server_cert.display(),
                    outcome.server_key.display()
                );
                println!("next: xunjian-collector certs issue --dir {} --agent <county-agent-id>", dir.display());
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(2)
            }
        },
        Command::Certs { action: CertsAction::Issue { dir, agent, days, county, config } } => {
            certs_issue(&dir, &agent, days, county.zip(config))
        }
        Command::Certs { action: CertsAction::Renew { dir, agent, days } } => {
            match tls::certs_renew(&dir, &agent, days) {
                Ok(outcome) => {
                    print_issued(&dir, &agent, &outcome);
                    if let Some((serial, old)) = &outcome.replaced {
                        println!(
                            "the old certificate (serial {serial}) is kept in {}; it stays valid until it expires: if its key may be lost or stolen, revoke it: xunjian-collector agent --config collector.toml revoke --serial {serial} --reason … --author …",
                            old.display()
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

fn certs_issue(dir: &std::path::Path, agent: &str, days: u32, binding: Option<(String, PathBuf)>) -> ExitCode {
    // Check the binding can be recorded before writing any key.
    if let Some((county, config)) = &binding {
        let env: HashMap<String, String> = std::env::vars().collect();
        match CollectorConfig::load(config, &env) {
            Err(error) => return config_error(&error),
            Ok(loaded) => {
                if let Some(bound) = loaded.push.agents.iter().find(|b| b.id == agent && b.county != *county) {
                    eprintln!(
                        "error: {}: agent {agent:?} is bound to {:?} already; change its [[push.agent]] table by hand if it moved",
                        config.display(),
                        bound.county
                    );
                    return ExitCode::from(2);
                }
            }
        }
    }
    let outcome = match tls::certs_issue(dir, agent, days) {
        Ok(outcome) => outcome,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    print_issued(dir, agent, &outcome);
    if let Some((county, config)) = binding {
        match xunjian_shared::config::collector::append_agent_binding(&config, agent, &county) {
            Ok(true) => println!(
                "bound agent {agent} to {county} in {} ([[push.agent]]); restart the collector to apply it",
                config.display()
            ),
            Ok(false) => println!("agent {agent} was bound to {county} already in {}", config.display()),
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}

fn print_issued(dir: &std::path::Path, agent: &str, outcome: &tls::IssueOutcome) {
    println!(
        "wrote {} and {} for agent {agent} (certificate serial {}, valid until {})",
        outcome.cert.display(),
        outcome.key.display(),
        outcome.serial.as_deref().unwrap_or("?"),
        outcome.not_after.map(|t| t.to_string()).unwrap_or_else(|| "?".into())
    );
    println!(
        "copy them and {} to the agent; set [collector] cert, key and ca in its agent.toml",
        dir.join("ca.pem").display()
    );
}

/// The database a registry or exemption command works on.
fn database_path(arg: DatabaseArg) -> Result<PathBuf, ExitCode> {
    match (arg.config, arg.database) {
        (_, Some(database)) => Ok(database),
        (Some(config), None) => {
            let env: HashMap<String, String> = std::env::vars().collect();
            CollectorConfig::load(&config, &env).map(|config| config.database).map_err(|error| config_error(&error))
        }
        (None, None) => unreachable!("clap requires --config or --database"),
    }
}

/// The `[report]` settings of the configuration given (the defaults with --database).
fn report_settings(arg: &DatabaseArg) -> Result<xunjian_collector::report::Settings, ExitCode> {
    let Some(config) = &arg.config else { return Ok(Default::default()) };
    let env: HashMap<String, String> = std::env::vars().collect();
    CollectorConfig::load(config, &env)
        .map(|config| xunjian_collector::report::Settings::from_config(&config.report))
        .map_err(|error| config_error(&error))
}

fn registry_command(database: DatabaseArg, action: RegistryAction) -> ExitCode {
    let path = match database_path(database) {
        Ok(path) => path,
        Err(code) => return code,
    };
    let outcome = match action {
        RegistryAction::Import { file, author } => admin::import(&path, &file, &author),
        RegistryAction::Export { file } => admin::export(&path, file.as_deref()),
        RegistryAction::Log { limit } => admin::log(&path, limit),
    };
    admin_finish(outcome)
}

fn exemption_command(database: DatabaseArg, action: ExemptionAction) -> ExitCode {
    let path = match database_path(database) {
        Ok(path) => path,
        Err(code) => return code,
    };
    let outcome = match action {
        ExemptionAction::Add { target, column, code, reason, author, until } => {
            admin::exempt(&path, NewExemption { target, column, code, reason, author, until })
        }
        ExemptionAction::List => admin::exemptions(&path),
        ExemptionAction::Revoke { id, author } => admin::revoke(&path, id, &author),
    };
    admin_finish(outcome)
}

fn silence_command(database: DatabaseArg, action: SilenceAction) -> ExitCode {
    let path = match database_path(database) {
        Ok(path) => path,
        Err(code) => return code,
    };
    let outcome = match action {
        SilenceAction::Add { matchers, duration, reason, author } => {
            admin::silence(&path, NewSilence { matchers, duration, reason, author })
        }
        SilenceAction::List => admin::silences(&path),
        SilenceAction::Expire { id, author } => admin::expire_silence(&path, id, &author),
    };
    admin_finish(outcome)
}

fn user_command(database: DatabaseArg, action: UserAction) -> ExitCode {
    let path = match database_path(database) {
        Ok(path) => path,
        Err(code) => return code,
    };
    let author =
        |given: Option<String>| given.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "命令行".into());
    // The first line of standard input: UTF-8 (a BOM dropped), without its line end.
    let stdin_password = |wanted: bool| -> Result<Option<String>, ExitCode> {
        if !wanted {
            return Ok(None);
        }
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) => {
                eprintln!("标准输入为空：请在标准输入的第一行给出密码（如 --password-stdin < 密码.txt）");
                Err(ExitCode::from(2))
            }
            Ok(_) => Ok(Some(line.trim_start_matches('\u{feff}').trim_end_matches(['\r', '\n']).to_string())),
            Err(error) => {
                eprintln!("无法读取标准输入（应为 UTF-8 文本）：{error}");
                Err(ExitCode::from(2))
            }
        }
    };
    let outcome = match action {
        UserAction::Add { name, role, counties, password_stdin, author: by } => match stdin_password(password_stdin) {
            Ok(password) => admin::add_user(&path, (name, role, counties), password, &author(by)),
            Err(code) => return code,
        },
        UserAction::List => admin::list_users(&path),
        UserAction::Disable { name, author: by } => admin::disable_user(&path, name.trim(), true, &author(by)),
        UserAction::Enable { name, author: by } => admin::disable_user(&path, name.trim(), false, &author(by)),
        UserAction::Passwd { name, password_stdin, author: by } => match stdin_password(password_stdin) {
            Ok(password) => admin::set_password(&path, name.trim(), password, &author(by)),
            Err(code) => return code,
        },
        UserAction::Token { name, label, author: by } => admin::add_token(&path, name.trim(), &label, &author(by)),
        UserAction::TokenRevoke { name, id, author: by } => admin::revoke_token(&path, name.trim(), id, &author(by)),
    };
    admin_finish(outcome)
}

fn backup_command(database: DatabaseArg, out: &std::path::Path) -> ExitCode {
    let path = match database_path(database) {
        Ok(path) => path,
        Err(code) => return code,
    };
    let progress = |step: &str| eprintln!("{step}");
    match xunjian_collector::store::backup::backup(&path, out, &progress) {
        Ok(report) => {
            println!(
                "已备份到 {}：{:.1} MB，用时 {:.1} 秒；批次日志 {} 条（恢复后重放），已记住的批次号 {} 个",
                out.display(),
                report.bytes as f64 / 1e6,
                report.took.as_secs_f64(),
                report.logged_batches,
                report.batch_ids
            );
            println!(
                "恢复：停止 collector，删去 {0}-wal 和 {0}-shm，把此文件复制为 {0}（属主与原文件相同），再启动",
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("备份失败：{error}");
            ExitCode::FAILURE
        }
    }
}

fn agent_command(database: DatabaseArg, action: AgentAction) -> ExitCode {
    let path = match database_path(database) {
        Ok(path) => path,
        Err(code) => return code,
    };
    let outcome = match action {
        AgentAction::Revoke { agent, serial, reason, author } => {
            admin::revoke_agent(&path, agent, serial, reason, author)
        }
        AgentAction::Unrevoke { id, author } => admin::lift_revocation(&path, id, &author),
        AgentAction::Revoked => admin::revocations(&path),
        AgentAction::Retire { id, reason, author } => {
            let author = author.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "命令行".into());
            admin::retire_agent(&path, id, reason, author)
        }
    };
    admin_finish(outcome)
}

struct ReportArgs {
    period: Option<String>,
    at: Option<String>,
    county: Option<String>,
    format: String,
    out: PathBuf,
    /// Issue 整改 tasks for the report's veto-level problems, as this author.
    issue: Option<String>,
}

/// The author of a change made on the command line: --author, else $USER.
fn default_author(given: Option<String>) -> String {
    given.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "命令行".into())
}

fn task_command(database: DatabaseArg, action: TaskAction) -> ExitCode {
    let path = match database_path(database.clone()) {
        Ok(path) => path,
        Err(code) => return code,
    };
    let outcome = match action {
        TaskAction::Add { problems, unit, title, deadline, author } => {
            let settings = match report_settings(&database) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            admin::add_task(
                &path,
                &problems,
                unit.as_deref(),
                title.as_deref(),
                deadline,
                &settings,
                &default_author(author),
            )
        }
        TaskAction::List { county, state } => admin::list_tasks(&path, county, state.as_deref()),
    };
    admin_finish(outcome)
}

/// `report`: reads the database beside the running collector (nothing is written to it) and
/// writes one file; progress and the outcome on stderr.
fn report_command(config: &std::path::Path, args: ReportArgs) -> ExitCode {
    use xunjian_collector::report::{self, Method, Period, ReportError, Request};
    let env: HashMap<String, String> = std::env::vars().collect();
    let config = match CollectorConfig::load(config, &env) {
        Ok(config) => config,
        Err(error) => return config_error(&error),
    };
    let now = jiff::Timestamp::now();
    let refuse = |message: String| {
        eprintln!("错误：{message}");
        ExitCode::from(2)
    };
    let period = match args.period.as_deref() {
        Some(text) => match Period::parse(text) {
            Ok(period) => period,
            Err(message) => return refuse(message),
        },
        None => Period::quarter_of(xunjian_shared::time::china_today(now)),
    };
    let method = match args.at.as_deref() {
        Some(text) => match report::parse_dates(text) {
            Ok(dates) => Method::Sampling(dates),
            Err(message) => return refuse(message),
        },
        None => Method::Continuous,
    };
    let format = match report::Format::parse(&args.format) {
        Ok(format) => format,
        Err(message) => return refuse(message),
    };
    let county = args.county.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    let request = Request { period, method, county };
    let started = std::time::Instant::now();
    let progress = |step: &str| eprintln!("[{:>5.1} 秒] {step}", started.elapsed().as_secs_f64());
    progress(&format!("打开数据库 {}…", config.database.display()));
    let ledger = xunjian_collector::ledger::LedgerSettings {
        close_after: config.ledger.close_after,
        reopen_within: jiff::SignedDuration::try_from(config.ledger.reopen_within).unwrap_or_default(),
    };
    let outcome = report::Offline::open(&config.database, ledger).and_then(|offline| {
        let offline = offline.with_registry_rules(config.registry.clone());
        let settings = report::Settings::from_config(&config.report);
        report::generate(&offline.source(), &request, &settings, format, now, &progress)
    });
    let (made, bytes) = match outcome {
        Ok(made) => made,
        Err(ReportError::Request(message) | ReportError::NoData(message)) => return refuse(message),
        Err(error) => {
            eprintln!("错误：{error}");
            return ExitCode::from(1);
        }
    };
    if let Some(author) = &args.issue {
        let source = report::period_code(request.period);
        match admin::issue_tasks(&config.database, &made, &source, author) {
            Ok(count) => progress(&format!("已下发 {count} 个整改任务")),
            Err(error) => return admin_finish(Err(error)),
        }
    }
    let written = if args.out.as_os_str() == "-" {
        std::io::Write::write_all(&mut std::io::stdout(), &bytes)
    } else {
        std::fs::write(&args.out, &bytes)
    };
    if let Err(error) = written {
        eprintln!("错误：无法写入 {}：{error}", args.out.display());
        return ExitCode::from(1);
    }
    eprintln!(
        "已写入 {}（{}，{} 字节，用时 {:.1} 秒）：{} 个网站和政务新媒体，附件 {} 行，问题 {} 条",
        args.out.display(),
        format.info().label,
        bytes.len(),
        started.elapsed().as_secs_f64(),
        made.counties.iter().map(|c| c.rows.len()).sum::<usize>(),
        made.annex.len(),
        made.problems.len()
    );
    ExitCode::SUCCESS
}

fn admin_finish(outcome: Result<(), admin::AdminError>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(admin::AdminError::Refused(lines)) => {
            for line in lines {
                eprintln!("{line}");
            }
            ExitCode::from(2)
        }
        Err(admin::AdminError::Failed(error)) => {
            eprintln!("错误：{error:#}");
            ExitCode::from(1)
        }
    }
}

fn config_error(error: &ConfigError) -> ExitCode {
    if let ConfigError::Invalid { problems, .. } = error {
        eprintln!("配置文件有误（共 {} 处），请修改后重试：", problems.len());
    }
    eprintln!("{error}");
    ExitCode::from(2)
}

fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("错误：{error:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(format: LogFormat) {
    xunjian_shared::logging::init(matches!(format, LogFormat::Json), "info");
}

fn run_until_signal(settings: server::Settings) -> anyhow::Result<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let running = server::start(settings).await?;
        println!("push: https://{}/api/v1/push   web: http://{}/", running.push_addr, running.web_addr);
        server::shutdown_signal().await;
        tracing::info!("shutting down");
        running.shutdown().await;
        anyhow::Ok(())
    })
}
