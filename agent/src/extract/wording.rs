//! Serious wording errors (严重表述错误) and misspellings: a dictionary of wrong → right terms,
//! shipped (`wording_terms.tsv`) and extendable by a file of the user's, matched against the
//! visible text of pages.

use super::html::Document;

const SHIPPED: &str = include_str!("wording_terms.tsv");

/// Characters of context shown either side of a hit.
const CONTEXT_CHARS: usize = 12;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub wrong: String,
    pub right: String,
    /// A serious error (单项否决) rather than a misspelling.
    pub serious: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub term: Term,
    pub context: String,
}

#[derive(Clone, Debug, Default)]
pub struct Dictionary {
    terms: Vec<Term>,
}

impl Dictionary {
    pub fn shipped() -> Dictionary {
        parse(SHIPPED).expect("the shipped dictionary is well formed (tested)")
    }

    /// The shipped terms plus those of `text` (a user's TSV file), later entries replacing earlier
    /// ones with the same wrong term.
    pub fn extended(mut self, text: &str) -> Result<Dictionary, String> {
        for term in parse(text)?.terms {
            self.terms.retain(|existing| existing.wrong != term.wrong);
            self.terms.push(term);
        }
        Ok(self)
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Every dictionary term in the visible text of `document`, each with its context.
    pub fn scan(&self, document: &Document) -> Vec<Hit> {
        self.scan_text(&document.text(Document::ROOT))
    }

    /// Hits in text order; a term inside a longer one found at the same place is not reported
    /// again (习近平新时代中国特色社会主意思想 holds 中国特色社会主意).
    pub fn scan_text(&self, text: &str) -> Vec<Hit> {
        let mut spans: Vec<(usize, usize, &Term)> = Vec::new();
        for term in &self.terms {
            spans.extend(text.match_indices(term.wrong.as_str()).map(|(at, _)| (at, at + term.wrong.len(), term)));
        }
        spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut hits = Vec::new();
        let mut covered_until = 0;
        for (start, end, term) in spans {
            if end <= covered_until {
                continue;
            }
            covered_until = covered_until.max(end);
            let before: String =
                text[..start].chars().rev().take(CONTEXT_CHARS).collect::<Vec<_>>().into_iter().rev().collect();
            let after: String = text[end..].chars().take(CONTEXT_CHARS).collect();
            hits.push(Hit { term: term.clone(), context: format!("{before}{}{after}", term.wrong) });
        }
        hits
    }
}

/// Reads `wrong<TAB>right[<TAB>serious|normal]` lines; `#` starts a comment.
pub fn parse(text: &str) -> Result<Dictionary, String> {
    let mut terms = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        let (wrong, right) = match fields.as_slice() {
            [wrong, right, ..] if !wrong.is_empty() && !right.is_empty() => (*wrong, *right),
            _ => {
                return Err(format!(
                    "line {}: expected wrong<TAB>right[<TAB>serious|normal], got {line:?}",
                    number + 1
                ));
            }
        };
        let serious = match fields.get(2).copied().unwrap_or("normal") {
            "serious" | "严重" => true,
            "normal" | "" | "一般" => false,
            other => {
                return Err(format!("line {}: severity {other:?} is neither \"serious\" nor \"normal\"", number + 1));
            }
        };
        terms.push(Term { wrong: wrong.to_string(), right: right.to_string(), serious });
    }
    Ok(Dictionary { terms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_terms_with_context_and_not_their_correct_forms() {
        let dictionary = Dictionary::shipped();
        assert!(dictionary.len() > 40);
        let hits = dictionary.scan(&Document::parse(
            "<p>深入学习贯彻习近平新时代中国特色社会主义思想，推进一代一路建设。</p><p>台湾国际机场航班正常；牢记使命。</p>",
        ));
        let found: Vec<(&str, &str)> = hits.iter().map(|h| (h.term.wrong.as_str(), h.term.right.as_str())).collect();
        assert_eq!(found, [("一代一路", "一带一路")]);
        assert!(hits[0].term.serious);
        assert!(hits[0].context.contains("推进一代一路建设"), "{}", hits[0].context);
    }

    #[test]
    fn users_extend_and_correct_the_dictionary() {
        let dictionary = Dictionary::shipped()
            .extended("# 本地词表\n龙川县政付\t龙川县政府\tserious\n再接再励\t再接再厉\tserious\n")
            .unwrap();
        let hits = dictionary.scan_text("龙川县政付要求再接再励");
        assert_eq!(hits.len(), 2);
        let nested = dictionary.scan_text("学习习近平新时代中国特色社会主意思想，坚持中国特色社会主意");
        let found: Vec<&str> = nested.iter().map(|h| h.term.wrong.as_str()).collect();
        assert_eq!(
            found,
            ["习近平新时代中国特色社会主意思想", "中国特色社会主意"],
            "the inner term only where it stands alone"
        );
        assert!(hits.iter().all(|h| h.term.serious));
        assert!(Dictionary::shipped().extended("只有一列").is_err());
        assert!(Dictionary::shipped().extended("a\tb\tmaybe").is_err());
    }
}
