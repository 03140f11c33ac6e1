//! Reading the Prometheus text format back, to assert on scraped `/metrics`.

use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample of a text exposition (comments skipped).
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()).filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let (name_end, has_labels) = match line.find(['{', ' ']) {
        Some(at) => (at, line.as_bytes()[at] == b'{'),
        None => return None,
    };
    let name = line[..name_end].to_string();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if has_labels {
        rest = &rest[1..];
        loop {
            rest = rest.trim_start_matches(',');
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = rest.find('=')?;
            let key = rest[..eq].to_string();
            let mut value = String::new();
            let mut chars = rest[eq + 2..].char_indices();
            let mut consumed = None;
            while let Some((index, c)) = chars.next() {
                match c {
                    '\\' => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        other => value.push(other),
                    },
                    '"' => {
                        consumed = Some(eq + 2 + index + 1);
                        break;
                    }
                    other => value.push(other),
                }
            }
            rest = &rest[consumed?..];
            labels.insert(key, value);
        }
    }
    let value_text = rest.split_whitespace().next()?;
    let value = match value_text {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().ok()?,
    };
    Some(Sample { name, labels, value })
}

/// The value of the one sample named `name` whose labels include all of `labels`.
pub fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matching: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
        .collect();
    match matching.as_slice() {
        [one] => Some(one.value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_labels_with_escapes() {
        let samples = parse("# HELP x y\nx_total{a=\"q\\\"uote\",b=\"back\\\\slash\",c=\"new\\nline\"} 3\nup 1\n");
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].labels["a"], "q\"uote");
        assert_eq!(samples[0].labels["b"], "back\\slash");
        assert_eq!(samples[0].labels["c"], "new\nline");
        assert_eq!(value(&samples, "up", &[]), Some(1.0));
    }
}
