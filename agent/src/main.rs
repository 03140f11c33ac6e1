//! `xunjian-agent`: the command line. Exit codes: 0 when the checks ran (whatever they found),
//! 2 on a bad configuration, 1 when xunjian itself failed.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

mod cli;

use anyhow::Context as _;
use jiff::Timestamp;
use xunjian_agent::checks;
use xunjian_agent::fetch::{self, Fetcher};
use xunjian_agent::push::Pusher;
use xunjian_agent::run::{self, RunSummary};
use xunjian_agent::schedule;
use xunjian_agent::schedule::Dictionaries;
use xunjian_agent::table;
use xunjian_shared::config::{AgentConfig, ConfigError};
use xunjian_shared::verdict::site_verdicts;
use xunjian_shared::wire::{CheckReport, SCHEMA_VERSION};

use crate::cli::{Invocation, LogFormat};

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let invocation = match cli::parse(std::env::args_os().skip(1)) {
        Ok(invocation) => invocation,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match invocation {
        Invocation::Print(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Invocation::Run { config, log_format } => {
            let config = match load_config(&config) {
                Ok(config) => config,
                Err(code) => return code,
            };
            if config.collector.is_none() {
                eprintln!(
                    "配置文件有误：run needs a [collector] section with url, ca, cert and key (see README); `check` works without one"
                );
                return ExitCode::from(2);
            }
            let (roots, dictionary) = match load_files(&config) {
                Ok(files) => files,
                Err(code) => return code,
            };
            init_logging(log_format, "info");
            match run(config, roots, dictionary) {
                Ok(summary) if summary.batches_lost == 0 => ExitCode::SUCCESS,
                Ok(_) => ExitCode::from(1),
                Err(error) => {
                    eprintln!("错误：{error:#}");
                    ExitCode::from(1)
                }
            }
        }
        Invocation::Check { config, json, now } => {
            let config = match load_config(&config) {
                Ok(config) => config,
                Err(code) => return code,
            };
            let (roots, dictionary) = match load_files(&config) {
                Ok(files) => files,
                Err(code) => return code,
            };
            init_logging(LogFormat::Text, "warn");
            match check(config, roots, dictionary, json, now) {
                Ok(()) => ExitCode::SUCCESS,
                // The reader went away (`| head`): nothing is wrong with the checks.
                Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("错误：{error:#}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

/// The files the configuration names (extra roots, the wording and sensitive-term dictionaries): part of the
/// configuration, so a bad one is exit 2 as well.
fn load_files(config: &AgentConfig) -> Result<(Vec<reqwest::Certificate>, Dictionaries), ExitCode> {
    let refuse = |error: String| {
        eprintln!("配置文件有误：{error}");
        ExitCode::from(2)
    };
    let roots = config.ca_file.as_deref().map(fetch::load_roots).transpose().map_err(|e| refuse(e.to_string()))?;
    let dictionary = schedule::load_dictionaries(config).map_err(refuse)?;
    Ok((roots.unwrap_or_default(), dictionary))
}

fn load_config(path: &std::path::Path) -> Result<AgentConfig, ExitCode> {
    let env: HashMap<String, String> = std::env::vars().collect();
    AgentConfig::load(path, &env).map_err(|error| {
        match &error {
            ConfigError::Invalid { problems, .. } => {
                eprintln!("配置文件有误（共 {} 处），请修改后重试：", problems.len());
                eprintln!("{error}");
            }
            ConfigError::Read { .. } => eprintln!("{error}"),
        }
        ExitCode::from(2)
    })
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause.downcast_ref::<serde_json::Error>().and_then(|json| json.io_error_kind())
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}

fn init_logging(format: LogFormat, default_level: &str) {
    xunjian_shared::logging::init(matches!(format, LogFormat::Json), default_level);
}

fn run(config: AgentConfig, roots: Vec<reqwest::Certificate>, dictionary: Dictionaries) -> anyhow::Result<RunSummary> {
    let Some(link) = config.collector.clone() else {
        anyhow::bail!(
            "run needs a [collector] section (url, ca, cert, key) in the configuration; `check` works without one"
        );
    };
    let pusher = Pusher::new(&link)?;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let fetcher = Arc::new(Fetcher::new(&config.limits, &config.user_agent, &roots)?);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            run::shutdown_signal().await;
            tracing::info!("stop requested; finishing the round and pushing what is left");
            let _ = stop.send(true);
        });
        let shared = schedule::Shared::new(&config, fetcher, dictionary);
        Ok(run::run(config, shared, pusher, stopped).await?)
    })
}

fn check(
    config: AgentConfig,
    roots: Vec<reqwest::Certificate>,
    dictionary: Dictionaries,
    json: bool,
    now: Option<Timestamp>,
) -> anyhow::Result<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        let fetcher = Arc::new(Fetcher::new(&config.limits, &config.user_agent, &roots)?);
        let started_at = now.unwrap_or_else(Timestamp::now);
        let subjects = schedule::subjects(&config);
        let ctx = Arc::new(schedule::Shared::new(&config, fetcher, dictionary).ctx(started_at));
        let show_progress = std::io::stderr().is_terminal();
        let observations = schedule::run_round(&subjects, Arc::new(checks::all()), ctx, |done, total| {
            if show_progress {
                eprint!("\r正在巡检：{done}/{total}");
                let _ = std::io::stderr().flush();
            }
        })
        .await;
        if show_progress {
            eprint!("\r\x1b[2K");
        }
        let finished_at = if now.is_some() { started_at } else { Timestamp::now() };
        let sites = site_verdicts(&observations, &config.thresholds);
        anyhow::Ok(CheckReport {
            schema_version: SCHEMA_VERSION,
            agent: config.agent.id.to_string(),
            county: config.agent.county.clone(),
            started_at,
            finished_at,
            observations,
            sites,
        })
    })?;
    let mut stdout = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut stdout, &report).context("cannot write the JSON report")?;
        writeln!(stdout)?;
    } else {
        stdout.write_all(table::render(&report).as_bytes())?;
    }
    Ok(())
}
