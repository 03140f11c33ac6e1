//! 暗链: links to other sites placed where a visitor cannot see them, the way hijacked
//! government pages carry gambling and pornography links for search engines.
//!
//! A link is hidden when it or an element around it is hidden by an inline style or a `<style>`
//! rule of its class or id: `display:none`, `visibility:hidden`, a box of no size that hides its
//! overflow, absolute positioning or indentation far off screen, a zero font size, a `marquee`
//! of no height, or text the colour of its own background; or when a script writes such markup
//! (`document.write`). It is reported when it leads to another site (not a subdomain of the
//! page's own) and either its text or domain holds a term of the sensitive-term dictionary, or
//! it is hidden by one of the techniques no honest page uses for navigation (everything but
//! `display:none` and `visibility:hidden`, which menus, tabs and carousels use all the time).
//! Pure: a parsed page in, the hidden links out.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use url::Url;

use super::html::{Document, NodeData};

const SHIPPED: &str = include_str!("sensitive_terms.txt");

/// Script-written markup read per page, at most (bytes).
const MAX_SCRIPT_MARKUP: usize = 64 * 1024;
/// Links reported per page, at most.
const MAX_REPORTED: usize = 50;
/// An element this far off screen (px, left or top) is placed where nobody sees it.
const OFF_SCREEN_PX: f64 = 500.0;

/// Terms no honest government page carries: gambling, pornography, fraud.
#[derive(Clone, Debug, Default)]
pub struct SensitiveTerms {
    /// (category, term in lower case).
    terms: Vec<(String, String)>,
}

impl SensitiveTerms {
    /// The shipped terms, read once per process (every inspection's context holds them).
    pub fn shipped() -> Arc<SensitiveTerms> {
        static SHIPPED_TERMS: LazyLock<Arc<SensitiveTerms>> =
            LazyLock::new(|| Arc::new(SensitiveTerms::default().extended(SHIPPED).unwrap_or_default()));
        SHIPPED_TERMS.clone()
    }

    /// These terms plus `text`'s (`category<TAB>term` lines, `#` comments); Err names the line.
    pub fn extended(mut self, text: &str) -> Result<SensitiveTerms, String> {
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((category, term)) = line.split_once('\t') else {
                return Err(format!("line {}: expected a category, a TAB and a term", number + 1));
            };
            let term = term.trim().to_lowercase();
            if term.is_empty() {
                return Err(format!("line {}: the term is empty", number + 1));
            }
            self.terms.push((category.trim().to_string(), term));
        }
        Ok(self)
    }

    /// Every term `lowercase_text` (already in lower case) holds, once each: (category, term).
    pub fn find_all(&self, lowercase_text: &str) -> Vec<(&str, &str)> {
        let mut found: Vec<(&str, &str)> = Vec::new();
        for (category, term) in &self.terms {
            if lowercase_text.contains(term.as_str()) && !found.iter().any(|(_, t)| *t == term) {
                found.push((category.as_str(), term.as_str()));
            }
        }
        found
    }

    /// The first term `text` holds: (category, term).
    pub fn find(&self, text: &str) -> Option<(&str, &str)> {
        let lower = text.to_lowercase();
        self.terms.iter().find(|(_, term)| lower.contains(term.as_str())).map(|(c, t)| (c.as_str(), t.as_str()))
    }
}

/// How a link is kept out of a visitor's sight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Technique {
    DisplayNone,
    VisibilityHidden,
    ZeroSize,
    OffScreen,
    ZeroFont,
    TinyMarquee,
    SameColour,
}

impl Technique {
    /// The stable code the observation carries.
    pub fn as_str(self) -> &'static str {
        match self {
            Technique::DisplayNone => "display_none",
            Technique::VisibilityHidden => "visibility_hidden",
            Technique::ZeroSize => "zero_size",
            Technique::OffScreen => "off_screen",
            Technique::ZeroFont => "zero_font",
            Technique::TinyMarquee => "tiny_marquee",
            Technique::SameColour => "same_colour",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Technique::DisplayNone => "display:none 隐藏",
            Technique::VisibilityHidden => "visibility:hidden 隐藏",
            Technique::ZeroSize => "零尺寸区域",
            Technique::OffScreen => "定位到屏幕之外",
            Technique::ZeroFont => "字号为零",
            Technique::TinyMarquee => "零高度滚动字幕",
            Technique::SameColour => "文字与背景同色",
        }
    }

    /// Whether menus, tabs and carousels use it too (then only a sensitive term makes a link 暗链).
    fn ordinary(self) -> bool {
        matches!(self, Technique::DisplayNone | Technique::VisibilityHidden)
    }
}

/// A link a visitor cannot see.
#[derive(Clone, Debug, PartialEq)]
pub struct HiddenLink {
    pub url: Url,
    pub text: String,
    pub technique: Technique,
    /// Written by a script (`document.write`), not in the page's own markup.
    pub scripted: bool,
    /// The sensitive term its text or domain holds: (category, term).
    pub term: Option<(String, String)>,
}

/// The hidden links of `document` (at `page_url`) that lead to other sites and are 暗链 by the
/// rules above, in page order, at most [`MAX_REPORTED`].
pub fn hidden_links(document: &Document, page_url: &Url, terms: &SensitiveTerms) -> Vec<HiddenLink> {
    let mut found = scan(document, page_url, terms, false);
    let written = script_markup(document);
    if !written.is_empty() {
        found.extend(scan(&Document::parse(&written), page_url, terms, true));
    }
    found.truncate(MAX_REPORTED);
    found
}

fn scan(document: &Document, page_url: &Url, terms: &SensitiveTerms, scripted: bool) -> Vec<HiddenLink> {
    let rules = style_rules(document);
    let count = document.len();
    // Each node's hiding technique, its own or inherited (parents come before children).
    let mut hidden: Vec<Option<Technique>> = vec![None; count];
    for node in 0..count {
        let inherited = document.parent(node).and_then(|parent| hidden[parent]);
        // What the element declares itself: a hiding technique, and whether it shows again what
        // its container hid (`font-size:0` on a list to close inline-block gaps, `font-size:14px`
        // on its items; `visibility:visible` inside `visibility:hidden`).
        let mut restores = None;
        let own = document.element(node).and_then(|element| {
            let mut declarations = String::new();
            for class in element.attr("class").unwrap_or("").split_whitespace() {
                if let Some(rule) = rules.get(&format!(".{class}")) {
                    declarations.push_str(rule);
                    declarations.push(';');
                }
            }
            if let Some(rule) = element.attr("id").and_then(|id| rules.get(&format!("#{id}"))) {
                declarations.push_str(rule);
                declarations.push(';');
            }
            declarations.push_str(&element.attr("style").unwrap_or("").to_ascii_lowercase());
            let marquee = element.name == "marquee"
                && element.attr("height").and_then(|h| px(h.trim())).is_some_and(|h| h <= 1.0);
            let values = values(&declarations);
            let get = |property: &str| values.get(property).copied().unwrap_or("");
            if px(get("font-size")).is_some_and(|size| size > 0.0) {
                restores = Some(Technique::ZeroFont);
            } else if get("visibility") == "visible" {
                restores = Some(Technique::VisibilityHidden);
            }
            technique(&declarations).or(marquee.then_some(Technique::TinyMarquee))
        });
        let inherited = inherited.filter(|outer| restores != Some(*outer));
        // The outermost technique names how the link is hidden, unless an inner one is worse.
        hidden[node] = match (inherited, own) {
            (Some(outer), Some(inner)) if outer.ordinary() && !inner.ordinary() => Some(inner),
            (Some(outer), _) => Some(outer),
            (None, own) => own,
        };
    }
    let page_site = site_of(page_url);
    let mut found = Vec::new();
    for (node, technique) in hidden.iter().enumerate() {
        let Some(technique) = *technique else { continue };
        let Some(element) = document.element(node).filter(|e| e.name == "a") else { continue };
        let Some(url) = element.attr("href").and_then(|href| super::links::resolve(page_url, href)) else { continue };
        if site_of(&url) == page_site {
            continue;
        }
        let text = match &document.node(node).data {
            NodeData::Element(_) => document.text(node),
            _ => String::new(),
        };
        let text = if text.trim().is_empty() { element.attr("title").unwrap_or("").to_string() } else { text };
        let term = terms
            .find(&text)
            .or_else(|| terms.find(url.host_str().unwrap_or("")))
            .map(|(category, term)| (category.to_string(), term.to_string()));
        if term.is_some() || !technique.ordinary() {
            found.push(HiddenLink { url, text: text.chars().take(60).collect(), technique, scripted, term });
        }
    }
    found
}

/// The technique a run of CSS declarations hides with, if any.
fn technique(declarations: &str) -> Option<Technique> {
    let values = values(declarations);
    let get = |property: &str| values.get(property).copied().unwrap_or("");
    let length = |property: &str| px(get(property));
    if get("display") == "none" {
        return Some(Technique::DisplayNone);
    }
    if get("visibility") == "hidden" {
        return Some(Technique::VisibilityHidden);
    }
    let tiny = |property: &str| length(property).is_some_and(|value| value <= 1.0);
    if (tiny("width") || tiny("height")) && get("overflow") == "hidden" {
        return Some(Technique::ZeroSize);
    }
    let far = |property: &str| length(property).is_some_and(|value| value <= -OFF_SCREEN_PX);
    let positioned = matches!(get("position"), "absolute" | "fixed");
    if (positioned && (far("left") || far("top") || far("right"))) || far("text-indent") {
        return Some(Technique::OffScreen);
    }
    if length("font-size").is_some_and(|size| size <= 0.0) {
        return Some(Technique::ZeroFont);
    }
    let colour = get("color");
    let background = if get("background-color").is_empty() { get("background") } else { get("background-color") };
    if !colour.is_empty() && colour == background {
        return Some(Technique::SameColour);
    }
    None
}

/// Declarations by property, the last one winning, `!important` set aside.
fn values(declarations: &str) -> HashMap<&str, &str> {
    let mut values: HashMap<&str, &str> = HashMap::new();
    for declaration in declarations.split(';') {
        if let Some((property, value)) = declaration.split_once(':') {
            let value = value.trim().trim_end_matches("!important").trim();
            values.insert(property.trim(), value);
        }
    }
    values
}

/// A CSS length in px (`0`, `-9999px`, `0pt`, `-99em` read as its number).
fn px(value: &str) -> Option<f64> {
    let number: String =
        value.trim().chars().take_while(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | '+')).collect();
    let parsed: f64 = number.parse().ok()?;
    let unit = value.trim()[number.len()..].trim();
    match unit {
        "" | "px" | "pt" => Some(parsed),
        "em" | "rem" => Some(parsed * 16.0),
        "%" if parsed <= -100.0 => Some(parsed * 10.0),
        "%" => Some(parsed.max(2.0)),
        _ => None,
    }
}

/// The declarations of `<style>` rules whose selector starts with a class or an id, by that
/// class (`.x`) or id (`#x`), lower case.
fn style_rules(document: &Document) -> HashMap<String, String> {
    let mut rules: HashMap<String, String> = HashMap::new();
    for node in document.descendants(Document::ROOT) {
        if !document.is_element(node, "style") {
            continue;
        }
        let css = strip_comments(&document.raw_text(node)).to_ascii_lowercase();
        for block in css.split('}') {
            let Some((selectors, declarations)) = block.split_once('{') else { continue };
            for selector in selectors.split(',') {
                let first = selector.split_whitespace().next().unwrap_or("");
                // `div.x`, `a#y`: the class or id part; pseudo-classes (:hover) show, not hide.
                if first.contains(':') {
                    continue;
                }
                let Some(at) = first.find(['.', '#']) else { continue };
                let name: String =
                    first[at + 1..].chars().take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_')).collect();
                if name.is_empty() {
                    continue;
                }
                let entry = rules.entry(format!("{}{name}", &first[at..at + 1])).or_default();
                entry.push_str(declarations);
                entry.push(';');
            }
        }
    }
    rules
}

fn strip_comments(css: &str) -> String {
    let mut out = String::new();
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        match rest[start + 2..].find("*/") {
            Some(end) => rest = &rest[start + 2 + end + 2..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// The markup scripts write (`document.write("…" + '…')`), their string literals joined, at
/// most [`MAX_SCRIPT_MARKUP`] bytes.
fn script_markup(document: &Document) -> String {
    let mut markup = String::new();
    for node in document.descendants(Document::ROOT) {
        if !document.is_element(node, "script") {
            continue;
        }
        let script = document.raw_text(node);
        let mut from = 0;
        while let Some(at) = script[from..].find("document.write") {
            let start = from + at;
            let Some(open) = script[start..].find('(') else { break };
            let mut index = start + open + 1;
            // String literals up to the call's closing parenthesis.
            let bytes = script.as_bytes();
            while index < bytes.len() && bytes[index] != b')' {
                let quote = bytes[index];
                if quote == b'"' || quote == b'\'' {
                    let literal_start = index + 1;
                    let mut end = literal_start;
                    while end < bytes.len() && bytes[end] != quote {
                        end += if bytes[end] == b'\\' { 2 } else { 1 };
                    }
                    let end = end.min(bytes.len());
                    if let Some(literal) = script.get(literal_start..end) {
                        markup.push_str(&literal.replace("\\\"", "\"").replace("\\'", "'").replace("\\/", "/"));
                    }
                    index = end + 1;
                } else {
                    index += 1;
                }
                if markup.len() > MAX_SCRIPT_MARKUP {
                    return markup.chars().take(MAX_SCRIPT_MARKUP).collect();
                }
            }
            from = index.min(script.len());
            if from <= start {
                break;
            }
        }
    }
    markup
}

/// A host's registrable part: `www.longchuan.gov.cn` → `longchuan.gov.cn`, `a.b.com` → `b.com`.
pub(crate) fn site_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    if url.host().is_some_and(|h| !matches!(h, url::Host::Domain(_))) {
        return host;
    }
    let labels: Vec<&str> = host.split('.').collect();
    const SECOND_LEVEL: &[&str] = &["gov", "com", "net", "org", "edu", "ac"];
    let keep = if labels.len() >= 3 && labels.last() == Some(&"cn") && SECOND_LEVEL.contains(&labels[labels.len() - 2])
    {
        3
    } else {
        2
    };
    labels[labels.len().saturating_sub(keep)..].join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(html: &str) -> Vec<(String, Technique, bool, bool)> {
        let page = Url::parse("http://www.longchuan.gov.cn/").unwrap();
        hidden_links(&Document::parse(html), &page, &SensitiveTerms::shipped())
            .into_iter()
            .map(|link| {
                (link.url.host_str().unwrap_or("").to_string(), link.technique, link.scripted, link.term.is_some())
            })
            .collect()
    }

    #[test]
    fn links_hidden_each_way_are_found() {
        let html = "<div style='display:none'><a href='http://www.bet-a.com/'>澳门威尼斯人娱乐城</a></div>\
            <div style='position:absolute;left:-9999px;top:0'><a href='http://b.example.com/'>某某网</a></div>\
            <div style='width:0;height:0;overflow:hidden'><a href='http://c.example.net/'>c</a></div>\
            <p style='font-size:0'><a href='http://d.example.org/'>d</a></p>\
            <marquee height=0><a href='http://e.example.com.cn/'>e</a></marquee>\
            <span style='color:#fff;background:#fff'><a href='http://f.example.com/'>f</a></span>\
            <style>.h1x{text-indent:-10000px;overflow:hidden}</style><div class='h1x'><a href='http://g.example.com/'>g</a></div>\
            <script>document.write('<div style=\"visibility:hidden\"><a href=\"http://h.dubo.cc/\">真人娱乐</a></div>');</script>";
        let got = found(html);
        let techniques: Vec<Technique> = got.iter().map(|(_, t, _, _)| *t).collect();
        assert_eq!(
            techniques,
            [
                Technique::DisplayNone,
                Technique::OffScreen,
                Technique::ZeroSize,
                Technique::ZeroFont,
                Technique::TinyMarquee,
                Technique::SameColour,
                Technique::OffScreen,
                Technique::VisibilityHidden,
            ],
            "{got:?}"
        );
        assert!(got[0].3 && got[7].3 && got[7].2, "terms matched; the last one written by script");
        assert!(!got[1].3, "no term: reported for its technique alone");
    }

    #[test]
    fn menus_skip_links_carousels_and_sister_sites_are_not_hidden_links() {
        let html = "<ul class='nav'><li><a href='/zwgk/'>政务公开</a><ul style='display:none'><li><a href='/zwgk/zcwj/'>政策文件</a></li>\
            <li><a href='http://www.gd.gov.cn/'>广东省人民政府</a></li></ul></li></ul>\
            <a href='#main' style='position:absolute;left:-9999px'>跳到主要内容</a>\
            <a href='http://zwfw.longchuan.gov.cn/' style='position:absolute;left:-9999px'>办事大厅</a>\
            <div class='swiper'><div class='slide' style='display:none'><a href='http://www.people.com.cn/'>人民网专题</a></div></div>\
            <select style='display:none'><option>部门网站</option></select><div style='display:none'><a href='http://www.heyuan.gov.cn/'>河源市政府</a></div>\
            <ul class='yqlj' style='font-size:0'><li style='font-size:14px'><a href='http://www.gov.cn/'>中国政府网</a></li></ul>";
        assert!(found(html).is_empty(), "{:?}", found(html));
    }

    #[test]
    fn the_dictionary_is_data_and_names_its_bad_line() {
        let terms = SensitiveTerms::shipped();
        assert!(terms.find("欢迎光临澳门葡京").is_some());
        assert!(terms.find("中国体育彩票中心").is_none(), "a government page's own business");
        let extended = SensitiveTerms::default().extended("赌博\t新葡京\n").unwrap();
        assert_eq!(extended.find("新葡京官网"), Some(("赌博", "新葡京")));
        assert!(SensitiveTerms::default().extended("no tab here").unwrap_err().contains("line 1"));
    }

    #[test]
    fn sites_by_their_registrable_part() {
        let site = |u: &str| site_of(&Url::parse(u).unwrap());
        assert_eq!(site("http://www.longchuan.gov.cn/"), "longchuan.gov.cn");
        assert_eq!(site("http://zwfw.longchuan.gov.cn/"), "longchuan.gov.cn");
        assert_eq!(site("http://a.b.example.com/"), "example.com");
        assert_eq!(site("http://10.0.0.1/"), "10.0.0.1");
    }
}
