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
pub mod source;
pub mod thresholds;

use std::fmt;
use std::path::PathBuf;

pub use account::{AccountConfig, AccountSource, Platform};
pub use agent::{AgentConfig, AgentIdentity, CollectorLink, ColumnConfig, Limits, SiteConfig};
pub use alerts::{AlertSeverity, AlertsConfig, NotifierConfig, NotifierKind};
pub use channel::InteractionConfig;
pub use collector::CollectorConfig;
pub use fields::ProbeSettings;
pub use fields::{format_duration, parse_duration};
pub use source::Origin;
pub use thresholds::{ColumnKind, Thresholds};

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
