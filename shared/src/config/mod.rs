//! Configuration: TOML files (with `XUNJIAN_…` environment overrides) read into types that
//! cannot hold bad values.
//!
//! Loading is one pass that reports every problem at once, each with file, line, column and
//! the dotted key (`agent.toml:23:11: site[0].column[1].kind: unknown column kind "nwes": …`).
//! Unknown keys are errors and suggest the nearest known key. Nothing is silently disabled.

pub mod account;
pub mod agent;
pub mod alerts;
pub mod channel;
pub mod collector;
pub mod defaults;
mod fields;
pub mod reference;
pub mod source;
pub mod thresholds;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use account::{AccountConfig, AccountSource, Platform};
pub use agent::{AgentConfig, AgentIdentity, CollectorLink, ColumnConfig, Limits, SiteConfig};
pub use alerts::{AlertSeverity, AlertsConfig, NotifierConfig, NotifierKind};
pub use channel::InteractionConfig;
pub use collector::CollectorConfig;
pub use fields::{DefaultValue, Key, Kind, ProbeSettings, TableSpec};
pub use fields::{format_duration, nearest, parse_duration};
pub use source::Origin;
pub use thresholds::{ColumnKind, Thresholds};

/// Parses `text` as if read from `path`, lays `env` over the tables `file` declares, and reads
/// the result with `read`: every problem at once, in file order, then those from the environment.
fn parse_file<T>(
    text: &str,
    path: &Path,
    env: &HashMap<String, String>,
    file: &'static TableSpec,
    read: impl FnOnce(fields::Table<'_>, &mut fields::Problems) -> Option<T>,
) -> Result<T, ConfigError> {
    let invalid = |problems: Vec<Problem>| ConfigError::Invalid { path: path.to_path_buf(), problems };
    let mut root = source::parse_toml(text).map_err(|found| invalid(found.into_iter().map(Into::into).collect()))?;
    let sections: Vec<&str> =
        file.keys.iter().filter(|key| matches!(key.kind, Kind::Table(_))).map(|key| key.name).collect();
    let mut problems = fields::Problems::default();
    for found in source::overlay_env(&mut root, env, &sections) {
        problems.list.push(found.into());
    }
    let config = fields::Table::of(&root, "", file, &mut problems).and_then(|top| read(top, &mut problems));
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

impl From<source::SourceProblem> for Problem {
    fn from(found: source::SourceProblem) -> Self {
        Problem { origin: found.origin, key: found.key, message: found.message }
    }
}

/// One thing wrong with a configuration, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub origin: Origin,
    /// Dotted key, `site[0].column[1].kind`; empty for problems of the file as a whole.
    pub key: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read the configuration file: {source}; check the path given to --config", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", render_problems(path, problems))]
    Invalid { path: PathBuf, problems: Vec<Problem> },
}

impl ConfigError {
    /// The problems, for callers that present them one by one.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Read { .. } => &[],
            ConfigError::Invalid { problems, .. } => problems,
        }
    }
}

fn render_problems(path: &std::path::Path, problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(|problem| problem.render(path)).collect();
    lines.join("\n")
}

impl Problem {
    /// `file:line:column: key: message`, or `file: key (from environment variable V): message`.
    pub fn render(&self, path: &std::path::Path) -> String {
        let key = if self.key.is_empty() { String::new() } else { format!("{}: ", self.key) };
        match &self.origin {
            Origin::File { line, column } => {
                format!("{}:{line}:{column}: {key}{}", path.display(), self.message)
            }
            Origin::Env { var } => format!(
                "{}: {}(from environment variable {var}): {}",
                path.display(),
                if self.key.is_empty() { String::new() } else { format!("{} ", self.key) },
                self.message
            ),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { line, column } => write!(f, "line {line}, column {column}"),
            Origin::Env { var } => write!(f, "environment variable {var}"),
        }
    }
}
