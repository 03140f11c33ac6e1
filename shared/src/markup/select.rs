//! CSS selectors for the `item_selector` and `date_selector` overrides.
//!
//! The subset people write to point at a list: type, `*`, `#id`, `.class`, attribute tests
//! (`[a]`, `=`, `~=`, `|=`, `^=`, `$=`, `*=`), `:first-child`, `:last-child`, `:nth-child()`,
//! `:nth-of-type()`, `:first-of-type`, `:last-of-type`, `:not()` of a compound, the four
//! combinators (descendant, `>`, `+`, `~`) and comma-separated lists. Anything else is refused
//! when the configuration is loaded, with the position and what was expected.

use super::html::{Document, NodeId};

/// A parsed selector list, with the text it was parsed from (what it shows and compares by).
#[derive(Clone, Debug)]
pub struct SelectorList {
    source: String,
    list: Vec<Complex>,
}

impl PartialEq for SelectorList {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for SelectorList {}

#[derive(Clone, Debug)]
struct Complex {
    /// Compounds left to right; `combinators[i]` joins `compounds[i]` and `compounds[i + 1]`.
    compounds: Vec<Compound>,
    combinators: Vec<Combinator>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Combinator {
    Descendant,
    Child,
    NextSibling,
    LaterSibling,
}

#[derive(Clone, Debug, Default)]
struct Compound {
    tag: Option<String>,
    tests: Vec<Test>,
}

#[derive(Clone, Debug)]
enum Test {
    Id(String),
    Class(String),
    Attr { name: String, op: AttrOp, value: String },
    NthChild { a: i64, b: i64, of_type: bool, from_end: bool },
    Not(Box<Compound>),
}

#[derive(Clone, Copy, Debug)]
enum AttrOp {
    Exists,
    Equals,
    Includes,
    DashMatch,
    Prefix,
    Suffix,
    Substring,
}

impl SelectorList {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parser = Parser { chars: text.chars().collect(), at: 0 };
        let mut list = Vec::new();
        loop {
            parser.skip_space();
            list.push(parser.complex()?);
            parser.skip_space();
            match parser.peek() {
                None => break,
                Some(',') => parser.at += 1,
                Some(other) => return Err(parser.error(&format!("unexpected {other:?}"))),
            }
        }
        Ok(SelectorList { source: text.trim().to_string(), list })
    }

    /// The selector as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn matches(&self, document: &Document, node: NodeId) -> bool {
        self.list.iter().any(|complex| complex.matches(document, node, complex.compounds.len() - 1))
    }

    /// Elements under `scope` (excluding `scope` itself) that match, in document order.
    pub fn select(&self, document: &Document, scope: NodeId) -> Vec<NodeId> {
        document
            .descendants(scope)
            .skip(1)
            .filter(|node| document.element(*node).is_some() && self.matches(document, *node))
            .collect()
    }
}

impl Complex {
    fn matches(&self, document: &Document, node: NodeId, index: usize) -> bool {
        if !self.compounds[index].matches(document, node) {
            return false;
        }
        if index == 0 {
            return true;
        }
        let previous = index - 1;
        match self.combinators[previous] {
            Combinator::Child => document
                .parent(node)
                .is_some_and(|parent| document.element(parent).is_some() && self.matches(document, parent, previous)),
            Combinator::Descendant => document
                .ancestors(node)
                .filter(|ancestor| document.element(*ancestor).is_some())
                .any(|ancestor| self.matches(document, ancestor, previous)),
            Combinator::NextSibling => preceding_elements(document, node)
                .next()
                .is_some_and(|sibling| self.matches(document, sibling, previous)),
            Combinator::LaterSibling => {
                preceding_elements(document, node).any(|sibling| self.matches(document, sibling, previous))
            }
        }
    }
}

/// Element siblings before `node`, nearest first.
fn preceding_elements(document: &Document, node: NodeId) -> impl Iterator<Item = NodeId> + '_ {
    let siblings: &[NodeId] = document.parent(node).map(|parent| document.children(parent)).unwrap_or(&[]);
    let position = siblings.iter().position(|sibling| *sibling == node).unwrap_or(0);
    siblings[..position].iter().rev().copied().filter(move |sibling| document.element(*sibling).is_some())
}

impl Compound {
    fn matches(&self, document: &Document, node: NodeId) -> bool {
        let Some(element) = document.element(node) else {
            return false;
        };
        if let Some(tag) = &self.tag
            && element.name != tag.as_str()
        {
            return false;
        }
        self.tests.iter().all(|test| match test {
            Test::Id(id) => element.attr("id") == Some(id.as_str()),
            Test::Class(class) => element.has_class(class),
            Test::Attr { name, op, value } => {
                let Some(actual) = element.attr(name) else {
                    return false;
                };
                match op {
                    AttrOp::Exists => true,
                    AttrOp::Equals => actual == value,
                    AttrOp::Includes => actual.split_ascii_whitespace().any(|word| word == value),
                    AttrOp::DashMatch => actual == value || actual.starts_with(&format!("{value}-")),
                    AttrOp::Prefix => !value.is_empty() && actual.starts_with(value.as_str()),
                    AttrOp::Suffix => !value.is_empty() && actual.ends_with(value.as_str()),
                    AttrOp::Substring => !value.is_empty() && actual.contains(value.as_str()),
                }
            }
            Test::NthChild { a, b, of_type, from_end } => {
                let Some(parent) = document.parent(node) else {
                    return false;
                };
                let siblings: Vec<NodeId> = document
                    .child_elements(parent)
                    .filter(|sibling| !*of_type || document.element(*sibling).map(|e| &e.name) == Some(&element.name))
                    .collect();
                let Some(position) = siblings.iter().position(|sibling| *sibling == node) else {
                    return false;
                };
                let index = if *from_end { siblings.len() - position } else { position + 1 } as i64;
                nth_matches(*a, *b, index)
            }
            Test::Not(inner) => !inner.matches(document, node),
        })
    }
}

/// Whether `index` (1-based) is `a*n + b` for some n ≥ 0.
fn nth_matches(a: i64, b: i64, index: i64) -> bool {
    if a == 0 {
        index == b
    } else {
        let diff = index - b;
        diff % a == 0 && diff / a >= 0
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn error(&self, what: &str) -> String {
        format!("{what} at character {}", self.at + 1)
    }

    fn skip_space(&mut self) -> bool {
        let start = self.at;
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
        self.at > start
    }

    fn complex(&mut self) -> Result<Complex, String> {
        let mut compounds = vec![self.compound()?];
        let mut combinators = Vec::new();
        loop {
            let had_space = self.skip_space();
            let combinator = match self.peek() {
                Some('>') => Combinator::Child,
                Some('+') => Combinator::NextSibling,
                Some('~') => Combinator::LaterSibling,
                Some(',') | None => break,
                Some(_) if had_space => Combinator::Descendant,
                Some(other) => return Err(self.error(&format!("unexpected {other:?}"))),
            };
            if combinator != Combinator::Descendant {
                self.at += 1;
                self.skip_space();
            }
            combinators.push(combinator);
            compounds.push(self.compound()?);
        }
        Ok(Complex { compounds, combinators })
    }

    fn ident(&mut self) -> Result<String, String> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_' || !c.is_ascii()) {
            self.at += 1;
        }
        if self.at == start {
            return Err(self.error("expected a name"));
        }
        Ok(self.chars[start..self.at].iter().collect())
    }

    fn compound(&mut self) -> Result<Compound, String> {
        let mut compound = Compound::default();
        let start = self.at;
        match self.peek() {
            Some('*') => self.at += 1,
            Some(c) if c.is_alphabetic() => compound.tag = Some(self.ident()?.to_ascii_lowercase()),
            _ => {}
        }
        loop {
            match self.peek() {
                Some('#') => {
                    self.at += 1;
                    compound.tests.push(Test::Id(self.ident()?));
                }
                Some('.') => {
                    self.at += 1;
                    compound.tests.push(Test::Class(self.ident()?));
                }
                Some('[') => {
                    self.at += 1;
                    compound.tests.push(self.attribute()?);
                }
                Some(':') => {
                    self.at += 1;
                    compound.tests.push(self.pseudo()?);
                }
                _ => break,
            }
        }
        if self.at == start {
            return Err(self.error("expected a selector"));
        }
        Ok(compound)
    }

    fn attribute(&mut self) -> Result<Test, String> {
        self.skip_space();
        let name = self.ident()?.to_ascii_lowercase();
        self.skip_space();
        let op = match (self.peek(), self.chars.get(self.at + 1)) {
            (Some(']'), _) => {
                self.at += 1;
                return Ok(Test::Attr { name, op: AttrOp::Exists, value: String::new() });
            }
            (Some('='), _) => AttrOp::Equals,
            (Some('~'), Some('=')) => AttrOp::Includes,
            (Some('|'), Some('=')) => AttrOp::DashMatch,
            (Some('^'), Some('=')) => AttrOp::Prefix,
            (Some('$'), Some('=')) => AttrOp::Suffix,
            (Some('*'), Some('=')) => AttrOp::Substring,
            _ => {
                return Err(self.error("expected ']' or an attribute operator (=, ~=, |=, ^=, $=, *=)"));
            }
        };
        self.at += if matches!(op, AttrOp::Equals) { 1 } else { 2 };
        self.skip_space();
        let value = match self.peek() {
            Some(quote @ ('"' | '\'')) => {
                self.at += 1;
                let start = self.at;
                while self.peek().is_some_and(|c| c != quote) {
                    self.at += 1;
                }
                if self.peek().is_none() {
                    return Err(self.error("unterminated string"));
                }
                let value: String = self.chars[start..self.at].iter().collect();
                self.at += 1;
                value
            }
            _ => self.ident()?,
        };
        self.skip_space();
        if self.peek() != Some(']') {
            return Err(self.error("expected ']'"));
        }
        self.at += 1;
        Ok(Test::Attr { name, op, value })
    }

    fn pseudo(&mut self) -> Result<Test, String> {
        let name = self.ident()?.to_ascii_lowercase();
        let nth = |a, b, of_type, from_end| Test::NthChild { a, b, of_type, from_end };
        match name.as_str() {
            "first-child" => Ok(nth(0, 1, false, false)),
            "last-child" => Ok(nth(0, 1, false, true)),
            "first-of-type" => Ok(nth(0, 1, true, false)),
            "last-of-type" => Ok(nth(0, 1, true, true)),
            "nth-child" | "nth-of-type" | "nth-last-child" | "nth-last-of-type" => {
                let argument = self.parenthesised()?;
                let (a, b) = parse_nth(&argument).ok_or_else(|| self.error(&format!("cannot read :{name}({argument})")))?;
                Ok(nth(a, b, name.contains("of-type"), name.contains("last")))
            }
            "not" => {
                if self.peek() != Some('(') {
                    return Err(self.error("expected '(' after :not"));
                }
                self.at += 1;
                self.skip_space();
                let inner = self.compound()?;
                self.skip_space();
                if self.peek() != Some(')') {
                    return Err(self.error("expected ')': :not() takes one simple selector"));
                }
                self.at += 1;
                Ok(Test::Not(Box::new(inner)))
            }
            other => Err(self.error(&format!(
                "unsupported pseudo-class :{other}; supported: :first-child, :last-child, :nth-child(), :nth-of-type(), :first-of-type, :last-of-type, :not()"
            ))),
        }
    }

    fn parenthesised(&mut self) -> Result<String, String> {
        if self.peek() != Some('(') {
            return Err(self.error("expected '('"));
        }
        self.at += 1;
        let start = self.at;
        while self.peek().is_some_and(|c| c != ')') {
            self.at += 1;
        }
        if self.peek() != Some(')') {
            return Err(self.error("expected ')'"));
        }
        let argument: String = self.chars[start..self.at].iter().collect();
        self.at += 1;
        Ok(argument)
    }
}

/// `odd`, `even`, `3`, `2n+1`, `-n+3`, `n`.
fn parse_nth(text: &str) -> Option<(i64, i64)> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    match compact.as_str() {
        "odd" => return Some((2, 1)),
        "even" => return Some((2, 0)),
        _ => {}
    }
    match compact.split_once('n') {
        None => Some((0, compact.parse().ok()?)),
        Some((a, b)) => {
            let a = match a {
                "" | "+" => 1,
                "-" => -1,
                number => number.parse().ok()?,
            };
            let b = if b.is_empty() { 0 } else { b.parse().ok()? };
            Some((a, b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<div id="main"><ul class="list news"><li><a href="a">A</a><span class="date">2026-11-20</span></li>
        <li><a href="b">B</a><span class="date">2026-11-19</span></li><li class="more"><a href="more">更多</a></li></ul>
        <table class="xxgk"><tr><th>索引号</th><th>标题</th><th>发布日期</th></tr><tr><td>1</td><td><a href="t">T</a></td><td>2026-11-18</td></tr></table></div>"#;

    fn check(selector: &str, expected: &[&str]) {
        let document = Document::parse(PAGE);
        let list = SelectorList::parse(selector).unwrap_or_else(|err| panic!("{selector}: {err}"));
        let got: Vec<String> = list.select(&document, Document::ROOT).into_iter().map(|n| document.text(n)).collect();
        assert_eq!(got, expected, "{selector}");
    }

    #[test]
    fn selects_what_people_write() {
        check("ul.list > li span.date", &["2026-11-20", "2026-11-19"]);
        check("#main .news li:not(.more)", &["A 2026-11-20", "B 2026-11-19"]);
        check("li:last-child a", &["更多"]);
        check("li:nth-child(2) a[href='b']", &["B"]);
        check("table.xxgk tr td:nth-child(3)", &["2026-11-18"]);
        check("tr:nth-of-type(n+2) td:last-child", &["2026-11-18"]);
        check("a[href^=m], th:first-child", &["更多", "索引号"]);
        check("li + li > a", &["B", "更多"]);
        check("li:first-child ~ .more", &["更多"]);
        check("span[class~=date]:nth-child(odd)", &[]);
        check("*[class*=ate]", &["2026-11-20", "2026-11-19"]);
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        for bad in ["", "ul >", "li:hover", "a[href", "div,", "::before", "a[x~y]", ":not(a b)"] {
            assert!(SelectorList::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let message = SelectorList::parse("li:hover").unwrap_err();
        assert!(message.contains("unsupported pseudo-class :hover"), "{message}");
    }
}
