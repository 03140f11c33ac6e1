//! Typed reading of the raw tree: every getter records a problem instead of stopping, so one
//! pass finds them all.

use std::collections::HashSet;
use std::time::Duration;

use url::Url;

use super::source::{Entry, Node, Origin, Value};
use super::{Problem, defaults};
use crate::markup::select::SelectorList;

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

/// A table being read: tracks which keys were used, so the rest can be reported as unknown, and
/// which keys the readers asked for, present or not: the table's known keys, named once, where
/// they are read (what "did you mean" suggests from).
pub(crate) struct Table<'n> {
    pub path: String,
    pub origin: Origin,
    entries: &'n [Entry],
    used: Vec<bool>,
    asked: Vec<String>,
}

impl<'n> Table<'n> {
    /// Reads `node` as a table at `path`; records a problem and returns None if it is not one.
    pub fn of(node: &'n Node, path: &str, problems: &mut Problems) -> Option<Self> {
        match &node.value {
            Value::Table(entries) => Some(Table {
                path: path.to_string(),
                origin: node.origin.clone(),
                entries,
                used: vec![false; entries.len()],
                asked: Vec::new(),
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

    pub fn get(&mut self, key: &str) -> Option<&'n Node> {
        self.ask(key);
        let index = self.entries.iter().position(|entry| entry.key == key)?;
        self.used[index] = true;
        Some(&self.entries[index].node)
    }

    /// A sub-table; absent → None without a problem.
    pub fn table(&mut self, key: &str, problems: &mut Problems) -> Option<Table<'n>> {
        let path = self.key_path(key);
        self.get(key).and_then(|node| Table::of(node, &path, problems))
    }

    /// An array of tables (`[[site]]`); absent → empty.
    pub fn tables(&mut self, key: &str, problems: &mut Problems) -> Vec<Table<'n>> {
        let path = self.key_path(key);
        let Some(node) = self.get(key) else {
            return Vec::new();
        };
        match &node.value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| Table::of(item, &format!("{path}[{index}]"), problems))
                .collect(),
            other => {
                problems.push(
                    &node.origin,
                    &path,
                    format!("expected an array of tables ([[{key}]]), got {}", other.type_name()),
                );
                Vec::new()
            }
        }
    }

    pub fn string(&mut self, key: &str, problems: &mut Problems) -> Option<(String, Origin)> {
        let path = self.key_path(key);
        let node = self.get(key)?;
        match &node.value {
            Value::String(text) => Some((text.clone(), node.origin.clone())),
            other => {
                problems.push(&node.origin, &path, format!("expected a string, got {}", other.type_name()));
                None
            }
        }
    }

    pub fn required_string(&mut self, key: &str, problems: &mut Problems) -> Option<(String, Origin)> {
        if self.get_peek(key) {
            let value = self.string(key, problems)?;
            if value.0.trim().is_empty() {
                problems.push(&value.1, &self.key_path(key), "must not be empty");
                return None;
            }
            Some(value)
        } else {
            problems.push(&self.origin, &self.key_path(key), "missing; this key is required");
            None
        }
    }

    /// A required name (site, column, channel, account, unit, county): one line of at most
    /// [`crate::wire::limits::MAX_NAME_CHARS`] characters, as the collector takes them.
    pub fn required_name(&mut self, key: &str, problems: &mut Problems) -> Option<(String, Origin)> {
        let (text, origin) = self.required_string(key, problems)?;
        let max = crate::wire::limits::MAX_NAME_CHARS;
        let chars = text.trim().chars().count();
        if chars > max {
            problems.push(&origin, &self.key_path(key), format!("{chars} characters; names are at most {max}"));
            return None;
        }
        if text.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')) {
            problems.push(&origin, &self.key_path(key), "contains a line break or control character; write one line");
            return None;
        }
        Some((text, origin))
    }

    fn ask(&mut self, key: &str) {
        if !self.asked.iter().any(|asked| asked == key) {
            self.asked.push(key.to_string());
        }
    }

    pub fn get_peek(&mut self, key: &str) -> bool {
        self.ask(key);
        self.entries.iter().any(|entry| entry.key == key)
    }

    /// A whole number, from an integer, or from a string when it came from the environment.
    pub fn whole_number(
        &mut self,
        key: &str,
        unit_hint: &str,
        min: u64,
        max: u64,
        problems: &mut Problems,
    ) -> Option<u64> {
        let path = self.key_path(key);
        let node = self.get(key)?;
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
                    format!("{number} is out of range: expected {min} to {max}{unit_hint}"),
                );
                None
            }
            None => {
                problems.push(
                    &node.origin,
                    &path,
                    format!("expected whole {}, got {}", unit_hint.trim(), describe(&node.value)),
                );
                None
            }
        }
    }

    pub fn duration(&mut self, key: &str, min: Duration, max: Duration, problems: &mut Problems) -> Option<Duration> {
        let path = self.key_path(key);
        let node = self.get(key)?;
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
    pub fn boolean(&mut self, key: &str, problems: &mut Problems) -> Option<bool> {
        let path = self.key_path(key);
        let node = self.get(key)?;
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

    /// An array of strings; absent → None.
    pub fn strings(&mut self, key: &str, problems: &mut Problems) -> Option<Vec<(String, Origin)>> {
        let path = self.key_path(key);
        let node = self.get(key)?;
        let Value::Array(items) = &node.value else {
            problems.push(&node.origin, &path, format!("expected an array of strings, got {}", node.value.type_name()));
            return None;
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
        Some(strings)
    }

    /// A readable file, relative to `base`; None (with a problem) when it is not one.
    pub fn file(
        &mut self,
        key: &str,
        base: &std::path::Path,
        required: bool,
        hint: &str,
        problems: &mut Problems,
    ) -> Option<std::path::PathBuf> {
        let (text, origin) = if required { self.required_string(key, problems)? } else { self.string(key, problems)? };
        let path = base.join(text.trim());
        if path.is_file() {
            Some(path)
        } else {
            problems.push(&origin, &self.key_path(key), format!("{} is not a readable file{hint}", path.display()));
            None
        }
    }

    pub fn url(&mut self, key: &str, required: bool, problems: &mut Problems) -> Option<Url> {
        let (text, origin) = if required { self.required_string(key, problems)? } else { self.string(key, problems)? };
        match parse_web_url(&text) {
            Ok(url) => Some(url),
            Err(message) => {
                problems.push(&origin, &self.key_path(key), message);
                None
            }
        }
    }

    /// Records every key that no getter used, suggesting the nearest key the readers asked for.
    pub fn finish(self, problems: &mut Problems) {
        let known: Vec<&str> = self.asked.iter().map(String::as_str).collect();
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
fn nearest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
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

pub(crate) fn read_probe(table: &mut Table<'_>, inherited: ProbeSettings, problems: &mut Problems) -> ProbeSettings {
    let interval = table
        .duration("interval", defaults::MIN_PROBE_INTERVAL, defaults::MAX_PROBE_INTERVAL, problems)
        .unwrap_or(inherited.interval);
    let timeout = table
        .duration("timeout", std::time::Duration::from_millis(100), defaults::MAX_PROBE_TIMEOUT, problems)
        .unwrap_or(inherited.timeout);
    ProbeSettings { interval, timeout }
}

/// The CSS selector at `key`, parsed; a bad one is a problem naming key and line.
pub(crate) fn selector(
    table: &mut Table<'_>,
    key: &str,
    required: bool,
    problems: &mut Problems,
) -> Option<SelectorList> {
    let (text, origin) = if required { table.required_string(key, problems)? } else { table.string(key, problems)? };
    match SelectorList::parse(&text) {
        Ok(selector) => Some(selector),
        Err(message) => {
            problems.push(&origin, &table.key_path(key), format!("invalid CSS selector {text:?}: {message}"));
            None
        }
    }
}

/// The table's required `name`, remembered in `seen`; a name seen before is a problem.
pub(crate) fn unique_name(
    table: &mut Table<'_>,
    seen: &mut HashSet<String>,
    problems: &mut Problems,
    repeated: impl Fn(&str) -> String,
) -> Option<(String, Origin)> {
    let name = table.required_name("name", problems);
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
