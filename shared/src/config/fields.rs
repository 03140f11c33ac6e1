//! Typed reading of the raw tree against each table's key declarations: every getter records a
//! problem instead of stopping, so one pass finds them all.
//!
//! A table's keys are declared once, as data ([`TableSpec`], [`Key`]): name, type, range,
//! default and meaning. The getters take their range and default from there, the unknown-key
//! check suggests from there, and `docs/configuration.md` is generated from there
//! ([`super::reference`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use super::source::{Entry, Node, Origin, Value};
use super::{Problem, defaults};
use crate::markup::select::SelectorList;

/// The keys of one configuration table (or of each table of an array of tables).
#[derive(Debug)]
pub struct TableSpec {
    /// What the table is for, one sentence, for the reference.
    pub doc: &'static str,
    pub keys: &'static [Key],
}

/// One key of a table: what it holds, what absence means, and what it is for.
#[derive(Clone, Copy, Debug)]
pub struct Key {
    pub name: &'static str,
    pub kind: Kind,
    pub default: DefaultValue,
    pub doc: &'static str,
}

impl Key {
    pub const fn new(name: &'static str, kind: Kind, default: DefaultValue, doc: &'static str) -> Key {
        Key { name, kind, default, doc }
    }

    /// A sub-table (`[probe]`); its spec says what it is for. A required one's reader says what
    /// to add when it is missing.
    pub const fn table(name: &'static str, spec: &'static TableSpec, required: bool) -> Key {
        let default = if required { DefaultValue::Required } else { DefaultValue::Otherwise("") };
        Key { name, kind: Kind::Table(spec), default, doc: "" }
    }

    /// An array of tables (`[[site]]`); absent is none.
    pub const fn tables(name: &'static str, spec: &'static TableSpec) -> Key {
        Key { name, kind: Kind::Tables(spec), default: DefaultValue::Otherwise(""), doc: "" }
    }
}

/// What a key holds, with its range where it has one.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `"90s"`, `"5m"`, `"1h30m"`: between `min` and `max`.
    Duration {
        min: Duration,
        max: Duration,
    },
    /// A whole number of `unit` between `min` and `max`.
    Whole {
        unit: &'static str,
        min: u64,
        max: u64,
    },
    Bool,
    Text,
    /// A name as the collector takes it: one line of at most
    /// [`crate::wire::limits::MAX_NAME_CHARS`] characters.
    Name,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// An absolute http(s) URL.
    Url,
    /// A readable file, relative to the configuration file; `what` says which.
    File {
        what: &'static str,
    },
    /// A path (need not exist yet), relative to the configuration file.
    Path,
    /// `ADDRESS:PORT`.
    Address,
    /// An array of strings.
    Strings,
    /// A CSS selector.
    Selector,
    /// A JSON pointer (`/data/cards`).
    JsonPointer,
    Table(&'static TableSpec),
    Tables(&'static TableSpec),
}

/// What an absent key means.
#[derive(Clone, Copy, Debug)]
pub enum DefaultValue {
    /// Absence is a problem.
    Required,
    Duration(Duration),
    Whole(u64),
    Bool(bool),
    Text(&'static str),
    /// Decided by the reader (inherited, inferred, or off), in these words.
    Otherwise(&'static str),
}

/// Stands in for an undeclared table (a bug, reported by [`Table::table`] in debug builds).
static EMPTY: TableSpec = TableSpec { doc: "", keys: &[] };

/// Collects problems while the tree is read.
#[derive(Default)]
pub(crate) struct Problems {
    pub list: Vec<Problem>,
}

impl Problems {
    pub fn push(&mut self, origin: &Origin, key: &str, message: impl Into<String>) {
        self.list.push(Problem { origin: origin.clone(), key: key.to_string(), message: message.into() });
    }
}

/// A table being read against its [`TableSpec`]: tracks which entries were used, so the rest can
/// be reported as unknown, and (in debug builds) that every declared key was read.
pub(crate) struct Table<'n> {
    pub path: String,
    pub origin: Origin,
    spec: &'static TableSpec,
    entries: &'n [Entry],
    used: Vec<bool>,
    asked: Vec<bool>,
}

impl<'n> Table<'n> {
    /// Reads `node` as a table at `path` declared by `spec`; records a problem and returns None
    /// if it is not a table.
    pub fn of(node: &'n Node, path: &str, spec: &'static TableSpec, problems: &mut Problems) -> Option<Self> {
        match &node.value {
            Value::Table(entries) => Some(Table {
                path: path.to_string(),
                origin: node.origin.clone(),
                spec,
                entries,
                used: vec![false; entries.len()],
                asked: vec![false; spec.keys.len()],
            }),
            other => {
                problems.push(&node.origin, path, format!("expected a table, got {}", other.type_name()));
                None
            }
        }
    }

    pub fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) }
    }

    /// The declaration of `name` and its node, if written.
    fn lookup(&mut self, name: &str) -> Option<(&'static Key, Option<&'n Node>)> {
        let spec: &'static TableSpec = self.spec;
        let Some(index) = spec.keys.iter().position(|key| key.name == name) else {
            debug_assert!(false, "{}: key {name:?} is read but not declared in its table's keys", self.path);
            return None;
        };
        self.asked[index] = true;
        let node = self.entries.iter().position(|entry| entry.key == name).map(|found| {
            self.used[found] = true;
            &self.entries[found].node
        });
        Some((&spec.keys[index], node))
    }

    /// Like [`lookup`](Self::lookup); a required key that is absent is a problem.
    fn read(&mut self, name: &str, problems: &mut Problems) -> Option<(&'static Key, Option<&'n Node>)> {
        let (key, node) = self.lookup(name)?;
        if node.is_none() && matches!(key.default, DefaultValue::Required) {
            problems.push(&self.origin, &self.key_path(name), "missing; this key is required");
        }
        Some((key, node))
    }

    /// Where `name`'s value was written, else where the table starts.
    pub fn origin_of(&self, name: &str) -> Origin {
        let written = self.entries.iter().find(|entry| entry.key == name);
        written.map_or_else(|| self.origin.clone(), |entry| entry.node.origin.clone())
    }

    /// Whether `name` is written (valid or not).
    pub fn present(&mut self, name: &str) -> bool {
        self.lookup(name).is_some_and(|(_, node)| node.is_some())
    }

    /// A sub-table; absent → None without a problem (a required table's reader says what to add).
    pub fn table(&mut self, name: &str, problems: &mut Problems) -> Option<Table<'n>> {
        let path = self.key_path(name);
        let (key, node) = self.lookup(name)?;
        let Kind::Table(spec) = key.kind else { return misread(key, "table") };
        Table::of(node?, &path, spec, problems)
    }

    /// A sub-table, or when it is absent (or, with a problem, not a table) an empty one, whose
    /// getters then answer the declared defaults: one reading path for written and default.
    pub fn table_or_defaults(&mut self, name: &str, problems: &mut Problems) -> Table<'n> {
        let path = self.key_path(name);
        if let Some(table) = self.table(name, problems) {
            return table;
        }
        let spec = match self.spec.keys.iter().find(|key| key.name == name).map(|key| key.kind) {
            Some(Kind::Table(spec)) => spec,
            _ => &EMPTY,
        };
        Table {
            path,
            origin: self.origin.clone(),
            spec,
            entries: &[],
            used: Vec::new(),
            asked: vec![false; spec.keys.len()],
        }
    }

    /// An array of tables (`[[site]]`); absent → empty.
    pub fn tables(&mut self, name: &str, problems: &mut Problems) -> Vec<Table<'n>> {
        let path = self.key_path(name);
        let Some((key, node)) = self.lookup(name) else {
            return Vec::new();
        };
        let Kind::Tables(spec) = key.kind else {
            return misread(key, "array of tables").unwrap_or_default();
        };
        let Some(node) = node else {
            return Vec::new();
        };
        match &node.value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| Table::of(item, &format!("{path}[{index}]"), spec, problems))
                .collect(),
            other => {
                problems.push(
                    &node.origin,
                    &path,
                    format!("expected an array of tables ([[{name}]]), got {}", other.type_name()),
                );
                Vec::new()
            }
        }
    }

    /// The string at `name` (a required one must not be blank), or its declared text default.
    fn string_of(&mut self, name: &str, problems: &mut Problems) -> Option<(&'static Key, String, Origin)> {
        let path = self.key_path(name);
        let (key, node) = self.read(name, problems)?;
        let Some(node) = node else {
            return match key.default {
                DefaultValue::Text(text) => Some((key, text.to_string(), self.origin.clone())),
                _ => None,
            };
        };
        match &node.value {
            Value::String(text) if text.trim().is_empty() && matches!(key.default, DefaultValue::Required) => {
                problems.push(&node.origin, &path, "must not be empty");
                None
            }
            Value::String(text) => Some((key, text.clone(), node.origin.clone())),
            other => {
                problems.push(&node.origin, &path, format!("expected a string, got {}", other.type_name()));
                None
            }
        }
    }

    /// Text or one of a choice of words (the reader parses the word).
    pub fn string(&mut self, name: &str, problems: &mut Problems) -> Option<(String, Origin)> {
        let (key, text, origin) = self.string_of(name, problems)?;
        match key.kind {
            Kind::Text | Kind::Choice(_) => Some((text, origin)),
            _ => misread(key, "string"),
        }
    }

    /// A name (site, column, channel, account, unit, county): one line of at most
    /// [`crate::wire::limits::MAX_NAME_CHARS`] characters, as the collector takes them.
    pub fn name(&mut self, name: &str, problems: &mut Problems) -> Option<(String, Origin)> {
        let (key, text, origin) = self.string_of(name, problems)?;
        let Kind::Name = key.kind else { return misread(key, "name") };
        let max = crate::wire::limits::MAX_NAME_CHARS;
        let chars = text.trim().chars().count();
        if chars > max {
            problems.push(&origin, &self.key_path(name), format!("{chars} characters; names are at most {max}"));
            return None;
        }
        if text.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')) {
            problems.push(&origin, &self.key_path(name), "contains a line break or control character; write one line");
            return None;
        }
        Some((text, origin))
    }

    /// A whole number, from an integer, or from a string when it came from the environment.
    pub fn whole_number(&mut self, name: &str, problems: &mut Problems) -> Option<u64> {
        let path = self.key_path(name);
        let (key, node) = self.read(name, problems)?;
        let Kind::Whole { unit, min, max } = key.kind else { return misread(key, "whole number") };
        let Some(node) = node else {
            return match key.default {
                DefaultValue::Whole(value) => Some(value),
                _ => None,
            };
        };
        let value = match &node.value {
            Value::Integer(number) => u64::try_from(*number).ok(),
            Value::String(text) if matches!(node.origin, Origin::Env { .. }) => text.trim().parse().ok(),
            _ => None,
        };
        match value {
            Some(number) if (min..=max).contains(&number) => Some(number),
            Some(number) => {
                problems.push(
                    &node.origin,
                    &path,
                    format!("{number} is out of range: expected {}", whole_range(min, max, unit)),
                );
                None
            }
            None => {
                problems.push(
                    &node.origin,
                    &path,
                    format!("expected {}, got {}", whole_kind(min, max, unit), describe(&node.value)),
                );
                None
            }
        }
    }

    pub fn duration(&mut self, name: &str, problems: &mut Problems) -> Option<Duration> {
        let path = self.key_path(name);
        let (key, node) = self.read(name, problems)?;
        let Kind::Duration { min, max } = key.kind else { return misread(key, "duration") };
        let Some(node) = node else {
            return match key.default {
                DefaultValue::Duration(value) => Some(value),
                _ => None,
            };
        };
        let Value::String(text) = &node.value else {
            problems.push(
                &node.origin,
                &path,
                format!("expected a duration such as \"90s\", \"5m\" or \"1h\", got {}", describe(&node.value)),
            );
            return None;
        };
        match parse_duration(text) {
            Ok(duration) if duration >= min && duration <= max => Some(duration),
            Ok(_) => {
                problems.push(
                    &node.origin,
                    &path,
                    format!("{text:?} is out of range: expected {} to {}", format_duration(min), format_duration(max)),
                );
                None
            }
            Err(message) => {
                problems.push(&node.origin, &path, message);
                None
            }
        }
    }

    /// true or false (or, from the environment, the words).
    pub fn boolean(&mut self, name: &str, problems: &mut Problems) -> Option<bool> {
        let path = self.key_path(name);
        let (key, node) = self.read(name, problems)?;
        let Kind::Bool = key.kind else { return misread(key, "boolean") };
        let Some(node) = node else {
            return match key.default {
                DefaultValue::Bool(value) => Some(value),
                _ => None,
            };
        };
        match &node.value {
            Value::Boolean(value) => Some(*value),
            Value::String(text) if matches!(node.origin, Origin::Env { .. }) && (text == "true" || text == "false") => {
                Some(text == "true")
            }
            other => {
                problems.push(&node.origin, &path, format!("expected true or false, got {}", other.type_name()));
                None
            }
        }
    }

    /// An array of strings; absent → empty.
    pub fn strings(&mut self, name: &str, problems: &mut Problems) -> Vec<(String, Origin)> {
        let path = self.key_path(name);
        let Some((key, node)) = self.read(name, problems) else {
            return Vec::new();
        };
        let Kind::Strings = key.kind else {
            return misread(key, "array of strings").unwrap_or_default();
        };
        let Some(node) = node else {
            return Vec::new();
        };
        let Value::Array(items) = &node.value else {
            problems.push(&node.origin, &path, format!("expected an array of strings, got {}", node.value.type_name()));
            return Vec::new();
        };
        let mut strings = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match &item.value {
                Value::String(text) => strings.push((text.clone(), item.origin.clone())),
                other => problems.push(
                    &item.origin,
                    &format!("{path}[{index}]"),
                    format!("expected a string, got {}", other.type_name()),
                ),
            }
        }
        strings
    }

    /// A readable file, relative to `base`; None (with a problem) when it is not one.
    pub fn file(&mut self, name: &str, base: &Path, problems: &mut Problems) -> Option<PathBuf> {
        let (key, text, origin) = self.string_of(name, problems)?;
        let Kind::File { what } = key.kind else { return misread(key, "file") };
        let path = base.join(text.trim());
        if path.is_file() {
            Some(path)
        } else {
            problems.push(
                &origin,
                &self.key_path(name),
                format!("{} is not a readable file; give the path of {what}", path.display()),
            );
            None
        }
    }

    /// A path relative to `base`, which need not exist yet.
    pub fn path(&mut self, name: &str, base: &Path, problems: &mut Problems) -> Option<PathBuf> {
        let (key, text, _) = self.string_of(name, problems)?;
        let Kind::Path = key.kind else { return misread(key, "path") };
        Some(base.join(text.trim()))
    }

    pub fn url(&mut self, name: &str, problems: &mut Problems) -> Option<Url> {
        let (key, text, origin) = self.string_of(name, problems)?;
        let Kind::Url = key.kind else { return misread(key, "URL") };
        match parse_web_url(&text) {
            Ok(url) => Some(url),
            Err(message) => {
                problems.push(&origin, &self.key_path(name), message);
                None
            }
        }
    }

    /// `ADDRESS:PORT`.
    pub fn address(&mut self, name: &str, problems: &mut Problems) -> Option<std::net::SocketAddr> {
        let (key, text, origin) = self.string_of(name, problems)?;
        let Kind::Address = key.kind else { return misread(key, "address") };
        match text.trim().parse() {
            Ok(address) => Some(address),
            Err(_) => {
                problems.push(
                    &origin,
                    &self.key_path(name),
                    format!("{text:?} is not ADDRESS:PORT; write e.g. \"0.0.0.0:9443\" or \"127.0.0.1:9090\""),
                );
                None
            }
        }
    }

    /// The CSS selector at `name`, parsed; a bad one is a problem naming key and line.
    pub fn selector(&mut self, name: &str, problems: &mut Problems) -> Option<SelectorList> {
        let (key, text, origin) = self.string_of(name, problems)?;
        let Kind::Selector = key.kind else { return misread(key, "selector") };
        match SelectorList::parse(&text) {
            Ok(selector) => Some(selector),
            Err(message) => {
                problems.push(&origin, &self.key_path(name), format!("invalid CSS selector {text:?}: {message}"));
                None
            }
        }
    }

    /// A JSON pointer: empty (the whole document) or starting with '/'.
    pub fn pointer(&mut self, name: &str, problems: &mut Problems) -> Option<String> {
        let (key, text, origin) = self.string_of(name, problems)?;
        let Kind::JsonPointer = key.kind else { return misread(key, "JSON pointer") };
        if text.is_empty() || text.starts_with('/') {
            Some(text)
        } else {
            problems.push(
                &origin,
                &self.key_path(name),
                format!("{text:?} is not a JSON pointer: it starts with '/', e.g. \"/data/cards\""),
            );
            None
        }
    }

    /// Records every entry that is not a declared key, suggesting the nearest declared one.
    pub fn finish(self, problems: &mut Problems) {
        let known: Vec<&str> = self.spec.keys.iter().map(|key| key.name).collect();
        debug_assert!(
            self.asked.iter().all(|asked| *asked),
            "{}: declared keys never read: {:?}",
            self.path,
            known.iter().zip(&self.asked).filter(|(_, asked)| !**asked).map(|(name, _)| name).collect::<Vec<_>>()
        );
        for (entry, used) in self.entries.iter().zip(&self.used) {
            if *used {
                continue;
            }
            let path = if self.path.is_empty() { entry.key.clone() } else { format!("{}.{}", self.path, entry.key) };
            let message = match nearest(&entry.key, &known) {
                Some(suggestion) => format!("unknown key \"{}\"; did you mean \"{suggestion}\"?", entry.key),
                None => format!("unknown key \"{}\"; known keys here: {}", entry.key, known.join(", ")),
            };
            problems.push(&entry.key_origin, &path, message);
        }
    }
}

/// A getter asked for a key declared with another kind: a bug in xunjian, caught by any test
/// that reads the table.
fn misread<T>(key: &Key, getter: &str) -> Option<T> {
    debug_assert!(false, "key {:?} is declared as {:?} but read as a {getter}", key.name, key.kind);
    None
}

/// `1 to 64 days`, or `1 to 64`.
fn whole_range(min: u64, max: u64, unit: &str) -> String {
    if unit.is_empty() { format!("{min} to {max}") } else { format!("{min} to {max} {unit}") }
}

/// `a whole number of days from 1 to 64`.
fn whole_kind(min: u64, max: u64, unit: &str) -> String {
    let of = if unit.is_empty() { String::new() } else { format!(" of {unit}") };
    format!("a whole number{of} from {min} to {max}")
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(text) => format!("{text:?}"),
        Value::Integer(number) => number.to_string(),
        Value::Float(number) => number.to_string(),
        Value::Boolean(flag) => flag.to_string(),
        other => other.type_name().to_string(),
    }
}

/// `90s`, `5m`, `1h`, `1h30m`, `500ms`, `2d`: a number and a unit, repeated.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let help = || format!("expected a duration such as \"90s\", \"5m\" or \"1h\", got {text:?}");
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(help());
    }
    if compact.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{}; write {compact}s for seconds", help()));
    }
    let mut total = Duration::ZERO;
    let mut rest = compact.as_str();
    while !rest.is_empty() {
        let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err(help());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| help())?;
        rest = &rest[digits..];
        let unit_len = rest.chars().take_while(|c| c.is_ascii_alphabetic()).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Duration::from_millis(number),
            "s" | "sec" => Duration::from_secs(number),
            "m" | "min" => Duration::from_secs(number.saturating_mul(60)),
            "h" => Duration::from_secs(number.saturating_mul(3600)),
            "d" => Duration::from_secs(number.saturating_mul(86_400)),
            _ => return Err(help()),
        };
        total = total.saturating_add(part);
    }
    Ok(total)
}

pub fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if duration.subsec_millis() != 0 || secs == 0 {
        format!("{}ms", duration.as_millis())
    } else if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// An absolute http(s) URL with a host.
pub(crate) fn parse_web_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|err| {
        if matches!(err, url::ParseError::RelativeUrlWithoutBase) {
            format!("{text:?} is not an absolute URL; write it with its scheme, e.g. \"http://{}\"", text.trim())
        } else {
            format!("{text:?} is not a valid URL: {err}")
        }
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text:?}: expected an http:// or https:// URL, got scheme \"{}\"", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{text:?}: the URL has no host"));
    }
    Ok(url)
}

/// The known key closest to `key`, if it is close enough to be a typo.
pub fn nearest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|candidate| (strsim::levenshtein(key, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 4))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// How often and how patiently a page is probed (`[probe]`, overridable per site and column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeSettings {
    /// Time between probes. Default 5m.
    pub interval: Duration,
    /// A probe fails when the page is not fully read within this time. Default 15s.
    pub timeout: Duration,
}

/// `interval` of a table of probed pages, defaulting to `default`.
pub(crate) const fn interval_key(default: DefaultValue) -> Key {
    Key::new(
        "interval",
        Kind::Duration { min: defaults::MIN_PROBE_INTERVAL, max: defaults::MAX_PROBE_INTERVAL },
        default,
        "Time between probes.",
    )
}

/// `timeout` of a table of probed pages, defaulting to `default`.
pub(crate) const fn timeout_key(default: DefaultValue) -> Key {
    Key::new(
        "timeout",
        Kind::Duration { min: Duration::from_millis(100), max: defaults::MAX_PROBE_TIMEOUT },
        default,
        "A probe fails when the page is not fully read within this time.",
    )
}

/// `interval` and `timeout`, each falling back to `inherited` where its declaration has no value.
pub(crate) fn read_probe(table: &mut Table<'_>, inherited: ProbeSettings, problems: &mut Problems) -> ProbeSettings {
    let interval = table.duration("interval", problems).unwrap_or(inherited.interval);
    let timeout = table.duration("timeout", problems).unwrap_or(inherited.timeout);
    ProbeSettings { interval, timeout }
}

/// The table's required `name`, remembered in `seen`; a name seen before is a problem.
pub(crate) fn unique_name(
    table: &mut Table<'_>,
    seen: &mut HashSet<String>,
    problems: &mut Problems,
    repeated: impl Fn(&str) -> String,
) -> Option<(String, Origin)> {
    let name = table.name("name", problems);
    if let Some((name, origin)) = &name
        && !seen.insert(name.trim().to_string())
    {
        problems.push(origin, &table.key_path("name"), repeated(name));
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let check = |text: &str, expected: Result<u64, ()>| {
            assert_eq!(parse_duration(text).map(|d| d.as_millis() as u64).map_err(|_| ()), expected, "{text}");
        };
        check("90s", Ok(90_000));
        check("5m", Ok(300_000));
        check("1h", Ok(3_600_000));
        check("1h30m", Ok(5_400_000));
        check("500ms", Ok(500));
        check("2d", Ok(172_800_000));
        check("1m 30s", Ok(90_000));
        check("90", Err(()));
        check("5 minutes", Err(()));
        check("", Err(()));
        check("m5", Err(()));
        assert!(parse_duration("90").unwrap_err().contains("write 90s"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(nearest("nmae", &["name", "unit", "url"]), Some("name"));
        assert_eq!(nearest("intervall", &["interval", "timeout"]), Some("interval"));
        assert_eq!(nearest("colour", &["name", "url"]), None);
    }
}
