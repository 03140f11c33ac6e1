//! What a home page says at a glance, for the security checks: its title, `keywords` and
//! `description`, its visible text, and a small fingerprint of that text to see it change
//! between rounds; the gambling, pornography and fraud terms it carries where an honest page
//! never would; and inline scripts that send visitors arriving from a search engine elsewhere.
//! Pure: a parsed page in.
//!
//! Injected content is judged where hijackers put it: the title, keywords and description
//! (what search engines show), links to other sites, and the body text. A government page may
//! well name a term while reporting on it ("严厉打击网络赌博", "破获一起六合彩案"), so an
//! occurrence after a word of enforcement or warning is not counted, and the body text counts
//! only when it holds several different terms.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

use url::Url;

use super::hidden_links::{SensitiveTerms, site_of};
use super::html::{Document, NodeData};

/// Visible text kept for the term search, at most (bytes).
const MAX_TEXT: usize = 256 * 1024;
/// Text blocks sampled for the fingerprint (the smallest hashes: a bottom-k sketch).
pub const SKETCH: usize = 128;
/// Characters of the visible text a before/after shows.
const EXCERPT_CHARS: usize = 60;
/// Different terms the body text must hold to count (a single one is too often news about it).
const TEXT_TERMS_NEEDED: usize = 3;
/// Characters before a term searched for a word of enforcement or warning.
const CONTEXT_CHARS: usize = 12;
/// Words that make a nearby term a report about it, not an advertisement for it.
const REPORTING_WORDS: &[&str] = &[
    "打击", "破获", "侦破", "查处", "整治", "取缔", "捣毁", "涉嫌", "非法", "违法", "犯罪", "防范", "警惕", "谨防",
    "举报", "严禁", "禁止", "抵制", "远离", "拒绝", "专项", "扫黄", "治理", "警示", "揭秘", "识破",
];

/// A page's title, description and text, and its text's fingerprint.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageText {
    pub title: String,
    pub keywords: String,
    pub description: String,
    /// The visible text, pieces joined by spaces, at most [`MAX_TEXT`] bytes.
    pub text: String,
    /// Hashes of the text's blocks (each visible text node with some words in it), sorted and
    /// without repeats.
    pub blocks: Vec<u64>,
}

impl PageText {}

/// What a home page's text is remembered by between rounds: its title, the [`SKETCH`]
/// smallest hashes of its text blocks, and how its text begins.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fingerprint {
    pub title: String,
    /// Sorted, at most [`SKETCH`].
    pub sketch: Vec<u64>,
    /// The beginning of the visible text, for a before/after.
    pub excerpt: String,
}

impl Fingerprint {
    /// Of this earlier text's blocks, the share still among `blocks` (sorted; 1.0 when this
    /// fingerprint has no blocks).
    pub fn kept_in(&self, blocks: &[u64]) -> f64 {
        if self.sketch.is_empty() {
            return 1.0;
        }
        let kept = self.sketch.iter().filter(|hash| blocks.binary_search(hash).is_ok()).count();
        kept as f64 / self.sketch.len() as f64
    }
}

/// The title, keywords, description and visible text of `document`.
pub fn page_text(document: &Document) -> PageText {
    let mut page = PageText { title: title(document), ..PageText::default() };
    for node in 0..document.len() {
        let Some(element) = document.element(node).filter(|element| element.name == "meta") else { continue };
        let name = element.attr("name").unwrap_or("").to_ascii_lowercase();
        let content = element.attr("content").unwrap_or("");
        if name == "keywords" && page.keywords.is_empty() {
            page.keywords = squeeze(content);
        } else if name == "description" && page.description.is_empty() {
            page.description = squeeze(content);
        }
    }
    page.blocks = text_blocks(document, |piece| {
        if page.text.len() + piece.len() <= MAX_TEXT {
            if !page.text.is_empty() {
                page.text.push(' ');
            }
            page.text.push_str(piece);
        }
    });
    page
}

/// The [`Fingerprint`] of `document`, and all its text blocks' hashes (sorted), without keeping
/// its text.
pub fn fingerprint(document: &Document) -> (Fingerprint, Vec<u64>) {
    let mut excerpt = String::new();
    let mut chars = 0;
    let mut cut = false;
    let blocks = text_blocks(document, |piece| {
        if cut {
            return;
        }
        let separator = (!excerpt.is_empty()).then_some(' ');
        for c in separator.into_iter().chain(piece.chars()) {
            if chars == EXCERPT_CHARS {
                excerpt.push('…');
                cut = true;
                return;
            }
            excerpt.push(c);
            chars += 1;
        }
    });
    let sketch = blocks.iter().take(SKETCH).copied().collect();
    (Fingerprint { title: title(document), sketch, excerpt }, blocks)
}

/// The first `<title>`'s text, whitespace squeezed.
fn title(document: &Document) -> String {
    (0..document.len())
        .find(|node| document.is_element(*node, "title"))
        .map_or_else(String::new, |node| squeeze(&document.raw_text(node)))
}

/// Calls `visit` with each visible text piece (whitespace squeezed, not empty) and returns the
/// sorted hashes of those with some words in them.
fn text_blocks(document: &Document, mut visit: impl FnMut(&str)) -> Vec<u64> {
    let mut blocks = BTreeSet::new();
    document.visible_text_nodes(0, |piece| {
        let piece = squeeze(piece);
        if piece.is_empty() {
            return;
        }
        visit(&piece);
        // Dates, times, counters and single words change or repeat without meaning anything.
        if piece.chars().filter(|c| c.is_alphabetic()).count() >= 4 {
            let mut hasher = std::hash::DefaultHasher::new();
            piece.hash(&mut hasher);
            blocks.insert(hasher.finish());
        }
    });
    blocks.into_iter().collect()
}

/// Where on a page a sensitive term was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Place {
    Title,
    Keywords,
    Description,
    /// The text of a link to another site.
    Link,
    /// The body text (counted with [`TEXT_TERMS_NEEDED`] different terms or more).
    Text,
}

impl Place {
    pub fn as_str(self) -> &'static str {
        match self {
            Place::Title => "title",
            Place::Keywords => "keywords",
            Place::Description => "description",
            Place::Link => "link",
            Place::Text => "text",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Place::Title => "网页标题",
            Place::Keywords => "关键词（keywords）",
            Place::Description => "描述（description）",
            Place::Link => "外站链接文字",
            Place::Text => "正文",
        }
    }
}

/// A sensitive term where an honest page would not carry it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SensitiveHit {
    pub place: Place,
    pub category: String,
    pub term: String,
}

/// The sensitive terms of `page` (the text of `document` at `page_url`): every one in the
/// title, keywords and description, or in the text of a link to another site; in the body
/// text, only when [`TEXT_TERMS_NEEDED`] different ones are there. Terms reported on (after a
/// word of enforcement or warning) are not counted.
pub fn sensitive_content(
    document: &Document,
    page_url: &Url,
    page: &PageText,
    terms: &SensitiveTerms,
) -> Vec<SensitiveHit> {
    let mut hits = Vec::new();
    let add = |place: Place, text: &str, hits: &mut Vec<SensitiveHit>| {
        for (category, term) in advertised(text, terms) {
            if !hits.iter().any(|hit: &SensitiveHit| hit.place == place && hit.term == term) {
                hits.push(SensitiveHit { place, category: category.to_string(), term: term.to_string() });
            }
        }
    };
    add(Place::Title, &page.title, &mut hits);
    add(Place::Keywords, &page.keywords, &mut hits);
    add(Place::Description, &page.description, &mut hits);
    let own_site = site_of(page_url);
    for node in 0..document.len() {
        let Some(element) = document.element(node).filter(|element| element.name == "a") else { continue };
        let Some(url) = element.attr("href").and_then(|href| super::links::resolve(page_url, href)) else { continue };
        if site_of(&url) == own_site || !matches!(document.node(node).data, NodeData::Element(_)) {
            continue;
        }
        add(Place::Link, &document.text(node), &mut hits);
    }
    let in_text = advertised(&page.text, terms);
    if in_text.len() >= TEXT_TERMS_NEEDED {
        for (category, term) in in_text {
            hits.push(SensitiveHit { place: Place::Text, category: category.to_string(), term: term.to_string() });
        }
    }
    hits
}

/// The different terms `text` holds, each at least once not reported on.
fn advertised<'t>(text: &str, terms: &'t SensitiveTerms) -> Vec<(&'t str, &'t str)> {
    let lower = text.to_lowercase();
    terms
        .find_all(&lower)
        .into_iter()
        .filter(|(_, term)| lower.match_indices(term).any(|(at, _)| !reported_on(&lower[..at])))
        .collect()
}

/// Whether the text just before a term makes it a report about it.
fn reported_on(before: &str) -> bool {
    let start = before.char_indices().rev().nth(CONTEXT_CHARS - 1).map_or(0, |(at, _)| at);
    let context = &before[start..];
    REPORTING_WORDS.iter().any(|word| context.contains(word))
}

/// Search engines a redirecting script looks for in `document.referrer` or the user agent.
const SEARCH_ENGINES: &[&str] =
    &["baidu", "sogou", "so.com", "sm.cn", "haosou", "google", "bing.com", "soso", "youdao", "yahoo"];
/// What a script does to send a visitor elsewhere.
const NAVIGATIONS: &[&str] = &[
    "location.href",
    "location.replace",
    "location.assign",
    "window.location",
    "top.location",
    "self.location",
    "document.location",
    "location=",
    "location =",
    "window.open",
];

/// Inline scripts that look at where the visitor came from (`document.referrer`) or who is
/// asking (`navigator.userAgent`) for a search engine or a crawler, and then send the visitor
/// elsewhere or write other content: the usual hijack that shows visitors from Baidu a
/// gambling site while the page looks normal when typed in. Each as a short excerpt.
pub fn search_redirect_scripts(document: &Document) -> Vec<String> {
    let mut found = Vec::new();
    for node in 0..document.len() {
        if !document.is_element(node, "script") || document.element(node).is_some_and(|e| e.attr("src").is_some()) {
            continue;
        }
        let script = document.raw_text(node);
        let lower = script.to_ascii_lowercase();
        let compact: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
        let asks_origin = compact.contains("document.referrer")
            || (compact.contains("navigator.useragent") && (compact.contains("spider") || compact.contains("bot")));
        let names_engine = SEARCH_ENGINES.iter().any(|engine| compact.contains(engine)) || compact.contains("spider");
        let sends_elsewhere = NAVIGATIONS.iter().any(|navigation| compact.contains(&navigation.replace(' ', "")))
            || compact.contains("document.write");
        if asks_origin && names_engine && sends_elsewhere {
            let excerpt: String = squeeze(&script).chars().take(120).collect();
            found.push(excerpt);
            if found.len() >= 5 {
                break;
            }
        }
    }
    found
}

/// `text` with runs of whitespace as single spaces, trimmed.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(html: &str) -> Vec<(Place, String)> {
        let document = Document::parse(html);
        let page_url = Url::parse("https://www.longchuan.gov.cn/").unwrap();
        let page = page_text(&document);
        sensitive_content(&document, &page_url, &page, &SensitiveTerms::shipped())
            .into_iter()
            .map(|hit| (hit.place, hit.term))
            .collect()
    }

    #[test]
    fn title_keywords_and_description_are_read() {
        let page = page_text(&Document::parse(
            "<html><head><title> 龙川县人民政府\n门户网站 </title><META NAME=\"Keywords\" content=\"龙川,政务\">\
             <meta name=description content=\"龙川县政府 &amp; 公开\"></head><body><p>今日 要闻</p></body></html>",
        ));
        assert_eq!(page.title, "龙川县人民政府 门户网站");
        assert_eq!(page.keywords, "龙川,政务");
        assert_eq!(page.description, "龙川县政府 & 公开");
        assert_eq!(page.text, "今日 要闻");
        assert_eq!(page.blocks.len(), 1);
    }

    #[test]
    fn a_hijacked_title_and_an_injected_link_are_found_and_news_about_gambling_is_not() {
        let hijacked = "<title>澳门葡京娱乐城-龙川县人民政府</title><meta name=keywords content=\"百家乐,真人娱乐\">\
            <a href=\"http://www.88bet.example/\">皇冠体育开户送彩金</a><a href=\"/news/1.html\">百家乐</a>";
        assert_eq!(
            hits(hijacked),
            [
                (Place::Title, "娱乐城".to_string()),
                (Place::Title, "澳门葡京".to_string()),
                (Place::Keywords, "百家乐".to_string()),
                (Place::Keywords, "真人娱乐".to_string()),
                (Place::Link, "皇冠体育".to_string()),
                (Place::Link, "开户送".to_string()),
                (Place::Text, "百家乐".to_string()),
                (Place::Text, "皇冠体育".to_string()),
                (Place::Text, "开户送".to_string()),
            ],
            "the link on the site's own path is not another site's (its text counts in the body's)"
        );
        let police = "<title>龙川县公安局</title><ul><li>县公安局破获一起特大网络赌场案</li>\
            <li>严厉打击六合彩等非法赌博活动</li><li>扫黄打非：查处色情网站</li>\
            <li><a href=\"https://www.12377.cn/\">举报色情信息</a></li></ul>";
        assert_eq!(hits(police), [], "reports on gambling and pornography are not injected content");
        let two = "<p>百家乐</p><p>时时彩</p>";
        assert_eq!(hits(two), [], "two terms in the body are not enough");
        let three = "<p>百家乐 在线</p><p>时时彩 计划</p><div>老虎机 技巧</div>";
        assert_eq!(hits(three).len(), 3);
    }

    #[test]
    fn the_sketch_says_how_much_of_the_text_is_still_there() {
        let list = |range: std::ops::Range<u32>| {
            Document::parse(&range.map(|n| format!("<li>第{n}条政务新闻标题</li>")).collect::<String>())
        };
        let (before, _) = fingerprint(&list(0..200));
        assert_eq!(before.sketch.len(), SKETCH);
        let rotated = page_text(&list(20..220));
        let replaced = page_text(&Document::parse("<h1>网站维护中</h1><p>Hacked by someone, sorry admin</p>"));
        let kept = before.kept_in(&rotated.blocks);
        assert!(kept > 0.75 && kept < 0.98, "a tenth of the items rotated: {kept}");
        assert!(before.kept_in(&replaced.blocks) < 0.01);
        assert_eq!(Fingerprint::default().kept_in(&rotated.blocks), 1.0);
        assert!(
            before.excerpt.starts_with("第0条政务新闻标题 第1条") && before.excerpt.ends_with('…'),
            "{}",
            before.excerpt
        );
        assert_eq!(before.excerpt.chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn scripts_that_send_search_visitors_elsewhere_are_found() {
        let hijack = r#"<script>var r=document.referrer.toLowerCase();
            if(r.indexOf("baidu")>0||r.indexOf("sogou")>0){window.location.href="http://www.dubo.example/";}</script>"#;
        assert_eq!(search_redirect_scripts(&Document::parse(hijack)).len(), 1);
        let by_agent =
            r#"<script>if(/spider|bot/i.test(navigator.userAgent)){document.write('<a href=x>y</a>')}</script>"#;
        assert_eq!(search_redirect_scripts(&Document::parse(by_agent)).len(), 1);
        let statistics = r#"<script>var _hmt=_hmt||[];(function(){var hm=document.createElement("script");
            hm.src="https://hm.baidu.com/hm.js?abc";var s=document.getElementsByTagName("script")[0];
            s.parentNode.insertBefore(hm,s);})();</script>
            <script>new Image().src="/stat?ref="+encodeURIComponent(document.referrer);</script>
            <script>function go(){window.location.href="/search?q="+q;}</script>"#;
        assert_eq!(search_redirect_scripts(&Document::parse(statistics)), Vec::<String>::new());
    }
}
