//! The configuration reference (`docs/configuration.md`), rendered from the key declarations
//! the readers use, so the document cannot drift from what is read. A test keeps the file
//! current; `XUNJIAN_UPDATE_GOLDEN=1 cargo test -p xunjian-shared config::reference` rewrites it.

use std::fmt::Write as _;

use super::fields::{DefaultValue, Key, Kind, TableSpec};
use super::format_duration;

/// The whole reference, both files, in Markdown.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Configuration reference\n\n\
         Generated from the key declarations in `shared/src/config/`; do not edit by hand. After changing a \
         declaration, run `XUNJIAN_UPDATE_GOLDEN=1 cargo test -p xunjian-shared config::reference`.\n\n\
         - Durations are written `\"90s\"`, `\"5m\"`, `\"1h\"`, `\"1h30m\"`, `\"2d\"`.\n\
         - Relative paths are relative to the configuration file.\n\
         - A key of a top-level table `[table]` can also be set from the environment as \
         `XUNJIAN_TABLE__KEY`, e.g. `XUNJIAN_PROBE__TIMEOUT=20s`; the environment wins.\n\
         - Unknown keys are errors, and every problem is reported at once with file, line and key.\n",
    );
    for (file, spec) in [("agent.toml", &super::agent::FILE), ("collector.toml", &super::collector::FILE)] {
        let _ = write!(out, "\n## `{file}`\n\n{}\n", spec.doc);
        for key in spec.keys {
            tables_of(&mut out, "", key);
        }
    }
    out
}

/// The section of a table-kind `key` under `parent`, then its own sub-tables.
fn tables_of(out: &mut String, parent: &str, key: &Key) {
    let (spec, array) = match key.kind {
        Kind::Table(spec) => (spec, false),
        Kind::Tables(spec) => (spec, true),
        _ => return,
    };
    let path = if parent.is_empty() { key.name.to_string() } else { format!("{parent}.{}", key.name) };
    let heading = if array { format!("[[{path}]]") } else { format!("[{path}]") };
    let required = if matches!(key.default, DefaultValue::Required) { " (required)" } else { "" };
    let _ = write!(out, "\n### `{heading}`{required}\n\n{}\n", spec.doc);
    write_keys(out, spec);
    for key in spec.keys {
        tables_of(out, &path, key);
    }
}

fn write_keys(out: &mut String, spec: &TableSpec) {
    let rows: Vec<&Key> =
        spec.keys.iter().filter(|key| !matches!(key.kind, Kind::Table(_) | Kind::Tables(_))).collect();
    if rows.is_empty() {
        return;
    }
    out.push_str("\n| Key | Type | Default | Meaning |\n|---|---|---|---|\n");
    for key in rows {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            key.name,
            cell(&kind_text(&key.kind)),
            cell(&default_text(key)),
            cell(key.doc)
        );
    }
}

fn kind_text(kind: &Kind) -> String {
    match kind {
        Kind::Duration { min, max } => format!("duration, {} to {}", format_duration(*min), format_duration(*max)),
        Kind::Whole { unit: "", min, max } => format!("whole number, {min} to {max}"),
        Kind::Whole { unit: "bytes", min, max } => format!("whole number, {} to {} bytes", bytes(*min), bytes(*max)),
        Kind::Whole { unit, min, max } => format!("whole number, {min} to {max} {unit}"),
        Kind::Bool => "true or false".into(),
        Kind::Text => "text".into(),
        Kind::Name => format!("name: one line, at most {} characters", crate::wire::limits::MAX_NAME_CHARS),
        Kind::Choice(names) => {
            let names: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
            format!("one of {}", names.join(", "))
        }
        Kind::Url => "http(s) URL".into(),
        Kind::File { what } => format!("file: {what}"),
        Kind::Path => "path".into(),
        Kind::Address => "ADDRESS:PORT".into(),
        Kind::Strings => "array of text".into(),
        Kind::Selector => "CSS selector".into(),
        Kind::JsonPointer => "JSON pointer".into(),
        Kind::Table(_) => "table".into(),
        Kind::Tables(_) => "array of tables".into(),
    }
}

fn default_text(key: &Key) -> String {
    match key.default {
        DefaultValue::Required => "**required**".into(),
        DefaultValue::Duration(value) => format!("`\"{}\"`", format_duration(value)),
        DefaultValue::Whole(value) if matches!(key.kind, Kind::Whole { unit: "bytes", .. }) => bytes(value),
        DefaultValue::Whole(value) => format!("`{value}`"),
        DefaultValue::Bool(value) => format!("`{value}`"),
        DefaultValue::Text(text) => format!("`\"{text}\"`"),
        DefaultValue::Otherwise(text) => text.to_string(),
    }
}

/// `8388608` (8 MiB): the number to write, and what it is.
fn bytes(value: u64) -> String {
    let units = [(1u64 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    match units.iter().find(|(size, _)| value >= *size && value.is_multiple_of(*size)) {
        Some((size, unit)) => format!("`{value}` ({} {unit})", value / size),
        None => format!("`{value}`"),
    }
}

/// Text safe inside a Markdown table cell: no column breaks, no HTML.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('<', "&lt;").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table reachable from both files, with its path.
    fn all_tables() -> Vec<(String, &'static TableSpec)> {
        fn walk(path: &str, spec: &'static TableSpec, found: &mut Vec<(String, &'static TableSpec)>) {
            found.push((path.to_string(), spec));
            for key in spec.keys {
                if let Kind::Table(child) | Kind::Tables(child) = key.kind {
                    walk(&format!("{path}.{}", key.name), child, found);
                }
            }
        }
        let mut found = Vec::new();
        walk("agent.toml", &crate::config::agent::FILE, &mut found);
        walk("collector.toml", &crate::config::collector::FILE, &mut found);
        found
    }

    #[test]
    fn declarations_are_consistent() {
        for (path, spec) in all_tables() {
            let mut names = std::collections::HashSet::new();
            for key in spec.keys {
                let at = format!("{path}.{}", key.name);
                assert!(names.insert(key.name), "{at}: declared twice");
                let is_table = matches!(key.kind, Kind::Table(_) | Kind::Tables(_));
                assert!(is_table || !key.doc.is_empty(), "{at}: no doc");
                match (key.kind, key.default) {
                    (Kind::Duration { min, max }, DefaultValue::Duration(value)) => {
                        assert!(min <= value && value <= max, "{at}: default out of range")
                    }
                    (Kind::Whole { min, max, .. }, DefaultValue::Whole(value)) => {
                        assert!((min..=max).contains(&value), "{at}: default out of range")
                    }
                    (Kind::Bool, DefaultValue::Bool(_)) => {}
                    (Kind::Address, DefaultValue::Text(text)) => {
                        assert!(text.parse::<std::net::SocketAddr>().is_ok(), "{at}: default {text:?}")
                    }
                    (Kind::Choice(names), DefaultValue::Text(text)) => {
                        assert!(names.contains(&text), "{at}: default {text:?} is not a choice")
                    }
                    (Kind::Text | Kind::Path, DefaultValue::Text(_)) => {}
                    (_, DefaultValue::Required | DefaultValue::Otherwise(_)) => {}
                    (kind, default) => panic!("{at}: a {kind:?} key cannot default to {default:?}"),
                }
                match key.kind {
                    Kind::Duration { min, max } => assert!(min <= max, "{at}: empty range"),
                    Kind::Whole { min, max, .. } => assert!(min <= max, "{at}: empty range"),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn the_reference_document_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md");
        let rendered = markdown();
        if std::env::var_os("XUNJIAN_UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &rendered).unwrap();
        }
        let written = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("{}: {err}; run with XUNJIAN_UPDATE_GOLDEN=1 to create it", path.display()));
        assert!(
            written == rendered,
            "{} is not what the declarations say; run XUNJIAN_UPDATE_GOLDEN=1 cargo test -p xunjian-shared config::reference",
            path.display()
        );
        for needle in ["### `[[site.column]]`", "| `max_age_days` |", "### `[[alerts.notifier]]`", "`\"5m\"`"] {
            assert!(rendered.contains(needle), "{needle:?} missing from the reference");
        }
    }
}
