//! The raw configuration tree: the TOML file with the line and column of every key and value,
//! with `XUNJIAN_…` environment variables laid over it.
//!
//! Environment variables name keys of tables with `__` between the parts:
//! `XUNJIAN_PROBE__TIMEOUT=20s` sets `probe.timeout`. Only variables whose first part names a
//! known top-level table are read, so unrelated `XUNJIAN_*` variables (test switches, say) are
//! left alone. Splitting the names is a few lines of std (the `config` crate did only that and
//! was dropped); values stay strings and are converted by the reader, which knows each key's
//! type, so a bad one is reported naming the variable.

use std::collections::HashMap;

use toml::de::{DeTable, DeValue};

/// Where a value came from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// One-based line and column in the configuration file.
    File { line: u32, column: u32 },
    /// An environment variable, by name.
    Env { var: String },
}

/// A value of the raw tree and where it came from.
#[derive(Clone, Debug)]
pub struct Node {
    pub value: Value,
    pub origin: Origin,
}

#[derive(Clone, Debug)]
pub enum Value {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Vec<Entry>),
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub key: String,
    pub key_origin: Origin,
    pub node: Node,
}

/// A problem met while building the tree, before any key is interpreted.
#[derive(Clone, Debug)]
pub struct SourceProblem {
    pub origin: Origin,
    pub key: String,
    pub message: String,
}

/// The environment variable prefix for overrides.
pub const ENV_PREFIX: &str = "XUNJIAN";

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a date-time",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

/// Parses TOML text into the tree; every syntax error is returned with its position.
pub fn parse_toml(text: &str) -> Result<Node, Vec<SourceProblem>> {
    let lines = LineIndex::new(text);
    let (table, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(|error| SourceProblem {
                origin: lines.origin(error.span().map(|span| span.start).unwrap_or(0)),
                key: String::new(),
                message: format!("invalid TOML: {}", first_line(error.message())),
            })
            .collect());
    }
    let origin = lines.origin(0);
    Ok(Node { value: convert_table(table.get_ref(), &lines), origin })
}

/// Lays `XUNJIAN_<TABLE>__<KEY>` variables from `env` over `root`. `sections` are the top-level
/// tables that may be overridden; other `XUNJIAN_*` variables are ignored.
pub fn overlay_env(root: &mut Node, env: &HashMap<String, String>, sections: &[&str]) -> Vec<SourceProblem> {
    let prefix = format!("{ENV_PREFIX}_");
    let mut relevant: Vec<(&String, Vec<String>, &String)> = env
        .iter()
        .filter_map(|(name, value)| {
            let parts: Vec<String> =
                name.strip_prefix(&prefix)?.split("__").map(|part| part.to_ascii_lowercase()).collect();
            sections.contains(&parts[0].as_str()).then_some((name, parts, value))
        })
        .collect();
    relevant.sort();
    let mut problems = Vec::new();
    for (var, parts, value) in relevant {
        let origin = Origin::Env { var: var.clone() };
        let key = parts.join(".");
        if parts.iter().any(String::is_empty) {
            let message = "malformed name: write XUNJIAN_<TABLE>__<KEY>, e.g. XUNJIAN_PROBE__TIMEOUT".to_string();
            problems.push(SourceProblem { origin, key, message });
            continue;
        }
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        if let Err(message) =
            set_path(root, &parts, Node { value: Value::String(value.clone()), origin: origin.clone() })
        {
            problems.push(SourceProblem { origin, key, message });
        }
    }
    problems
}

fn set_path(node: &mut Node, parts: &[&str], leaf: Node) -> Result<(), String> {
    let Value::Table(entries) = &mut node.value else {
        return Err("environment overrides reach only keys of tables, and this path goes through a value".into());
    };
    let (first, rest) = parts.split_first().ok_or("empty key")?;
    let position = entries.iter().position(|entry| entry.key == *first);
    let index = match position {
        Some(index) => index,
        None => {
            let value = if rest.is_empty() { leaf.value.clone() } else { Value::Table(Vec::new()) };
            entries.push(Entry {
                key: (*first).to_string(),
                key_origin: leaf.origin.clone(),
                node: Node { value, origin: leaf.origin.clone() },
            });
            entries.len() - 1
        }
    };
    if rest.is_empty() {
        entries[index].node = leaf;
        entries[index].key_origin = entries[index].node.origin.clone();
        Ok(())
    } else {
        set_path(&mut entries[index].node, rest, leaf)
    }
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message).trim()
}

fn convert_table(table: &DeTable<'_>, lines: &LineIndex) -> Value {
    let mut entries: Vec<Entry> = table
        .iter()
        .map(|(key, value)| Entry {
            key: key.get_ref().to_string(),
            key_origin: lines.origin(key.span().start),
            node: convert_value(value.get_ref(), value.span().start, lines),
        })
        .collect();
    // The parser keeps keys sorted; the file's order makes errors read top to bottom.
    entries.sort_by_key(|entry| match entry.key_origin {
        Origin::File { line, column } => (line, column),
        Origin::Env { .. } => (u32::MAX, 0),
    });
    Value::Table(entries)
}

fn convert_value(value: &DeValue<'_>, offset: usize, lines: &LineIndex) -> Node {
    let origin = lines.origin(offset);
    let value = match value {
        DeValue::String(text) => Value::String(text.to_string()),
        DeValue::Integer(integer) => match i64::from_str_radix(&integer.as_str().replace('_', ""), integer.radix()) {
            Ok(number) => Value::Integer(number),
            Err(_) => Value::String(integer.as_str().to_string()),
        },
        DeValue::Float(float) => Value::Float(float.as_str().replace('_', "").parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(flag) => Value::Boolean(*flag),
        DeValue::Datetime(datetime) => Value::Datetime(datetime.to_string()),
        DeValue::Array(array) => {
            Value::Array(array.iter().map(|item| convert_value(item.get_ref(), item.span().start, lines)).collect())
        }
        DeValue::Table(table) => convert_table(table, lines),
    };
    Node { value, origin }
}

/// Byte offset → one-based line and column (in characters).
struct LineIndex<'t> {
    text: &'t str,
    line_starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    fn new(text: &'t str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
        LineIndex { text, line_starts }
    }

    fn origin(&self, offset: usize) -> Origin {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|start| *start <= offset);
        let start = self.line_starts[line - 1];
        let column = self.text.get(start..offset).map(|s| s.chars().count()).unwrap_or(0) + 1;
        Origin::File {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}
