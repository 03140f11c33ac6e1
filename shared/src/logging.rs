//! The binaries' logs: lines (or JSON objects) on stderr, filtered by `RUST_LOG` the way most
//! Rust services read it: a default level and levels per module, `warn,xunjian_agent=debug`.
//! Span and field filters (`target[span{field}]=level`) are refused (said on stderr, the default
//! level used): they need a regular-expression engine in every binary, and a county's agent is
//! kept small.

use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Starts logging to stderr at `default_level` ("info", "warn"), or as `RUST_LOG` says.
pub fn init(json: bool, default_level: &str) {
    let filter = filter(std::env::var("RUST_LOG").ok().as_deref(), default_level);
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry();
    if json {
        registry.with(lines.json().with_filter(filter)).init();
    } else {
        registry.with(lines.with_filter(filter)).init();
    }
}

/// The filter `spec` (RUST_LOG's value) asks for; `default_level` when it is unset, empty or
/// unreadable (then said on stderr, with how to write it).
fn filter(spec: Option<&str>, default_level: &str) -> Targets {
    let fallback = || default_level.parse::<Targets>().unwrap_or_default();
    // Pieces trimmed and empty ones dropped, as EnvFilter reads them: `info,` stays info (an empty
    // piece would read as a default of ERROR).
    let pieces: Vec<&str> = spec.unwrap_or("").split(',').map(str::trim).filter(|piece| !piece.is_empty()).collect();
    if pieces.is_empty() {
        return fallback();
    }
    let parsed = if pieces.iter().any(|piece| piece.contains(['[', ']', '{', '}'])) {
        Err("span and field filters ([span{field}]) are not supported".to_string())
    } else {
        pieces.join(",").parse::<Targets>().map_err(|error| error.to_string())
    };
    parsed.unwrap_or_else(|error| {
        eprintln!(
            "RUST_LOG={:?} 无法识别（{error}），日志按 {default_level} 级别输出。请写成级别或 模块=级别，逗号分隔，例如 warn,xunjian_agent=debug",
            spec.unwrap_or("")
        );
        fallback()
    })
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;

    #[test]
    fn rust_log_sets_a_default_and_levels_per_module() {
        let unset = filter(None, "info");
        assert!(unset.would_enable("xunjian_agent::run", &Level::INFO));
        assert!(!unset.would_enable("xunjian_agent::run", &Level::DEBUG));
        let spec = filter(Some("warn,xunjian_agent=debug"), "info");
        assert!(spec.would_enable("xunjian_agent::schedule", &Level::DEBUG));
        assert!(!spec.would_enable("hyper::proto", &Level::INFO));
        assert!(spec.would_enable("hyper::proto", &Level::WARN));
        let upper = filter(Some(" ERROR "), "info");
        assert!(!upper.would_enable("xunjian_collector", &Level::WARN));
        let unreadable = filter(Some("xunjian_agent=loud"), "warn");
        assert!(unreadable.would_enable("xunjian_agent", &Level::WARN), "falls back to the default");
        assert!(!unreadable.would_enable("xunjian_agent", &Level::INFO));
        assert!(filter(Some(""), "info").would_enable("x", &Level::INFO));
        let trailing = filter(Some("info, "), "warn");
        assert!(trailing.would_enable("xunjian_agent", &Level::INFO), "an empty piece is no ERROR default");
        let spans = filter(Some("xunjian_agent[probe]=debug"), "warn");
        assert!(
            !spans.would_enable("xunjian_agent", &Level::DEBUG) && spans.would_enable("xunjian_agent", &Level::WARN)
        );
    }
}
