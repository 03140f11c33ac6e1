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

use url::Url;

use super::hidden_links::{SensitiveTerms, site_of};
use super::html::{Document, NodeData};

/// Visible text kept for the term search, at most (bytes).
const MAX_TEXT: usize = 256 * 1024;
/// Bytes of one text node read, at most.
const MAX_PIECE_BYTES: usize = 16 * 1024;
/// Text blocks sampled for the fingerprint (the smallest hashes: a bottom-k sketch).
pub const SKETCH: usize = 128;
/// Characters of the visible text a before/after shows.
const EXCERPT_CHARS: usize = 60;
/// Different terms the body text must hold to count (a single one is too often news about it).
const TEXT_TERMS_NEEDED: usize = 3;
/// Characters before a term searched for a word of enforcement or warning.
const CONTEXT_CHARS: usize = 12;
/// Characters after it ("刷单返利类诈骗", "开设赌场罪").
const CONTEXT_AFTER_CHARS: usize = 8;
/// Characters of a title kept.
const MAX_TITLE_CHARS: usize = 200;
/// Words that make a nearby term a report about it, not an advertisement for it.
const REPORTING_WORDS: &[&str] = &[
    "打击", "破获", "侦破", "查处", "整治", "取缔", "捣毁", "涉嫌", "非法", "违法", "犯罪", "防范", "警惕", "谨防",
    "举报", "严禁", "禁止", "抵制", "远离", "拒绝", "专项", "扫黄", "治理", "警示", "揭秘", "识破", "反诈", "提醒",
    "识别", "曝光", "揭露", "案件", "一案", "立案", "专案", "罪", "宣判", "被告", "诈骗", "骗局", "陷阱", "危害",
    "警方", "公安", "民警", "受害", "上当", "被骗",
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
    pub blocks: Vec<BlockHash>,
}

impl PageText {}

/// A text block's hash. 16 bits: a fingerprint is kept for every home page between rounds
/// (128 hashes, 256 bytes), and a chance match of one of them among a new page's blocks (a few
/// hundred; one in a few hundred for each hash) moves the kept share by about one percent,
/// against the half that makes a change.
pub type BlockHash = u16;

/// What a home page's text is remembered by between rounds: its title, the [`SKETCH`]
/// smallest hashes of its text blocks, and how its text begins. Boxed slices: one is kept for
/// every home page, and none grows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fingerprint {
    pub title: Box<str>,
    /// Sorted, at most [`SKETCH`].
    pub sketch: Box<[BlockHash]>,
    /// The beginning of the visible text, for a before/after.
    pub excerpt: Box<str>,
}

impl Fingerprint {
    /// Of this earlier text's blocks, the share still among `blocks` (sorted; 1.0 when this
    /// fingerprint has no blocks).
    pub fn kept_in(&self, blocks: &[BlockHash]) -> f64 {
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
pub fn fingerprint(document: &Document) -> (Fingerprint, Vec<BlockHash>) {
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
    (Fingerprint { title: title(document).into(), sketch, excerpt: excerpt.into() }, blocks)
}

/// The first `<title>`'s text, whitespace squeezed, at most [`MAX_TITLE_CHARS`].
fn title(document: &Document) -> String {
    (0..document.len()).find(|node| document.is_element(*node, "title")).map_or_else(String::new, |node| {
        let mut title: String = squeeze(&document.raw_text(node)).chars().take(MAX_TITLE_CHARS).collect();
        title.shrink_to_fit();
        title
    })
}

/// Calls `visit` with each visible text piece (whitespace squeezed, not empty) and returns the
/// sorted hashes of those with some words in them.
fn text_blocks(document: &Document, mut visit: impl FnMut(&str)) -> Vec<BlockHash> {
    let mut blocks = Vec::new();
    let mut squeezed = String::new();
    document.visible_text_nodes(0, |piece| {
        // A text node of megabytes (a hostile page's one endless line) is read for its start:
        // squeezing and hashing all of it would hold the agent's threads for nothing.
        let mut end = piece.len().min(MAX_PIECE_BYTES);
        while !piece.is_char_boundary(end) {
            end -= 1;
        }
        squeeze_into(&piece[..end], &mut squeezed);
        let piece = squeezed.as_str();
        if piece.is_empty() {
            return;
        }
        visit(piece);
        // Dates, times, counters and single words change or repeat without meaning anything.
        let is_letter = |c: &char| {
            c.is_ascii_alphabetic() || ('\u{4e00}'..='\u{9fff}').contains(c) || (!c.is_ascii() && c.is_alphabetic())
        };
        if piece.chars().filter(is_letter).nth(3).is_some() {
            let hash = fnv1a(piece.as_bytes());
            // Every bit of the 64 folded into the 16 kept.
            let folded = hash ^ (hash >> 32);
            blocks.push((folded ^ (folded >> 16)) as BlockHash);
        }
    });
    blocks.sort_unstable();
    blocks.dedup();
    blocks
}

/// FNV-1a: a text block's hash, compared only within this process (a few times faster than
/// SipHash on short pieces, and a home page is fingerprinted on every probe).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
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
/// title, keywords and description, or in the text of a link to another site that is not a
/// government one; in the body text, only when [`TEXT_TERMS_NEEDED`] different ones are there.
/// Terms reported on (near a word of enforcement or warning) are not counted, nor a shorter term
/// inside a longer one ("澳门赌场" is one term, not 澳门赌 and 赌场).
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
        // County portals link mostly to other government sites, whose headlines a portal
        // repeats; those count with the body text.
        if site_of(&url) == own_site || is_government(&url) || !matches!(document.node(node).data, NodeData::Element(_))
        {
            continue;
        }
        add(Place::Link, &short_text(document, node), &mut hits);
    }
    let in_text = advertised(&page.text, terms);
    if in_text.len() >= TEXT_TERMS_NEEDED {
        for (category, term) in in_text {
            hits.push(SensitiveHit { place: Place::Text, category: category.to_string(), term: term.to_string() });
        }
    }
    hits
}

/// Whether `url` is a government site's (`.gov.cn`, `.gov`).
fn is_government(url: &Url) -> bool {
    let host = url.host_str().unwrap_or("").trim_end_matches('.').to_ascii_lowercase();
    host.ends_with(".gov.cn") || host.ends_with(".gov") || host == "gov.cn"
}

/// The different terms `text` holds, each at least once not reported on and not inside a
/// longer term found at the same place.
fn advertised<'t>(text: &str, terms: &'t SensitiveTerms) -> Vec<(&'t str, &'t str)> {
    let lower = text.to_lowercase();
    let found = terms.find_all(&lower);
    // Every occurrence not reported on, longest first at each place; overlapping ones dropped.
    let mut spans: Vec<(usize, usize, usize)> = Vec::new();
    for (index, (_, term)) in found.iter().enumerate() {
        for (at, _) in lower.match_indices(term) {
            if !reported_on(&lower[..at], &lower[at + term.len()..]) {
                spans.push((at, at + term.len(), index));
            }
        }
    }
    spans.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
    let mut kept: Vec<usize> = Vec::new();
    let mut covered_to = 0;
    for (start, end, index) in spans {
        if start >= covered_to {
            covered_to = end;
            if !kept.contains(&index) {
                kept.push(index);
            }
        }
    }
    kept.sort_unstable();
    kept.into_iter().map(|index| found[index]).collect()
}

/// Whether the words around a term (`before` it and `after` it) make it a report about it.
fn reported_on(before: &str, after: &str) -> bool {
    let start = before.char_indices().rev().nth(CONTEXT_CHARS - 1).map_or(0, |(at, _)| at);
    let end = after.char_indices().nth(CONTEXT_AFTER_CHARS).map_or(after.len(), |(at, _)| at);
    let (before, after) = (&before[start..], &after[..end]);
    REPORTING_WORDS.iter().any(|word| before.contains(word) || after.contains(word))
}

/// Search engines a redirecting script looks for in `document.referrer`.
const SEARCH_ENGINES: &[&str] =
    &["baidu", "sogou", "so.com", "sm.cn", "haosou", "google", "bing.com", "soso", "youdao", "yahoo"];
/// Search engines' own scripts a page embeds (statistics, link submission): naming them is not
/// looking for a search engine.
const ENGINE_SERVICES: &[&str] =
    &["hm.baidu.com", "zz.bdstatic.com", "push.zhanzhang.baidu.com", "sp0.baidu.com", "api.map.baidu.com"];
/// Crawlers a script looks for in the user agent.
const CRAWLERS: &[&str] = &["spider", "googlebot", "bingbot", "crawler", "slurp", "|bot", "bot|"];
/// What a script does to send a visitor elsewhere or show other content (after whitespace is
/// removed): an assignment or a call, not a read.
const NAVIGATIONS: &[&str] = &[
    "location.href=",
    "location=",
    "location.replace(",
    "location.assign(",
    "window.open(",
    "document.write(",
    "document.writeln(",
    ".innerhtml=",
];
/// How hijack scripts hide the address they send visitors to.
const OBFUSCATIONS: &[&str] = &["eval(", "string.fromcharcode", "unescape(", "atob(", "\\x68\\x74\\x74\\x70"];

/// Whether `script` (lower case, whitespace removed) looks at where the visitor came from for a
/// search engine, or at the user agent for a crawler: what a hijack conditions itself on.
pub fn looks_for_search_engines(script: &str) -> bool {
    let mut script = script.to_string();
    for service in ENGINE_SERVICES {
        script = script.replace(service, "");
    }
    let referrer = script.contains("document.referrer")
        || script.contains("document[\"referrer\"]")
        || script.contains("document['referrer']");
    let agent = script.contains("navigator.useragent") || script.contains("navigator[\"useragent\"]");
    (referrer && SEARCH_ENGINES.iter().any(|engine| script.contains(engine)))
        || (agent && CRAWLERS.iter().any(|crawler| script.contains(crawler)))
}

/// Inline scripts that look for a search engine in `document.referrer` or a crawler in the user
/// agent, and then send the visitor to another site or write other content, with the address
/// written out or hidden: the usual hijack that shows visitors from Baidu a gambling site while
/// the page looks normal when typed in. A script that only sends crawlers-or-not between the
/// site's own pages (a mobile version) is not one. Each as a short excerpt.
pub fn search_redirect_scripts(document: &Document, page_url: &Url) -> Vec<String> {
    let own_site = site_of(page_url);
    let mut found = Vec::new();
    for node in 0..document.len() {
        if !document.is_element(node, "script") || document.element(node).is_some_and(|e| e.attr("src").is_some()) {
            continue;
        }
        let script = document.raw_text(node);
        let compact: String = script.to_ascii_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
        if !looks_for_search_engines(&compact) || !NAVIGATIONS.iter().any(|navigation| compact.contains(navigation)) {
            continue;
        }
        let elsewhere =
            off_site_addresses(&script, page_url).any(|url| site_of(&url) != own_site && !is_government(&url));
        if elsewhere || OBFUSCATIONS.iter().any(|trick| compact.contains(trick)) {
            found.push(squeeze(&script).chars().take(120).collect());
            if found.len() >= 5 {
                break;
            }
        }
    }
    found
}

/// The absolute addresses (`http://…`, `https://…`, `//…`) a script writes out.
fn off_site_addresses<'s>(script: &'s str, page_url: &'s Url) -> impl Iterator<Item = Url> + 's {
    script.match_indices("//").filter_map(move |(at, _)| {
        let start = script[..at].rfind(|c: char| !(c.is_ascii_alphabetic() || c == ':')).map_or(0, |i| i + 1);
        let scheme = &script[start..at];
        if !(scheme.is_empty() || scheme.eq_ignore_ascii_case("http:") || scheme.eq_ignore_ascii_case("https:")) {
            return None;
        }
        let rest = &script[at + 2..];
        let host_end =
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))).unwrap_or(rest.len());
        let host = &rest[..host_end];
        if host.is_empty() || !host.contains('.') {
            return None;
        }
        page_url.join(&format!("//{host}/")).ok()
    })
}

/// Nodes of an element read for its short text, at most (a link's text, not a page nested
/// inside a link).
const SHORT_TEXT_NODES: usize = 64;

/// The text of the first [`SHORT_TEXT_NODES`] nodes under `node` (a link's own words), so that
/// links nested in links on a hostile page cost no more than ordinary ones.
pub fn short_text(document: &Document, node: usize) -> String {
    let mut text = String::new();
    for child in document.descendants(node).take(SHORT_TEXT_NODES) {
        // Text right inside a script or style is no words (its parent is enough to ask: a
        // walk up every ancestor would cost a deeply nested page dearly).
        let in_script = document
            .parent(child)
            .and_then(|parent| document.element(parent))
            .is_some_and(|element| element.name.is_hidden());
        if let NodeData::Text(piece) = &document.node(child).data
            && !in_script
        {
            let piece = piece.trim();
            if !piece.is_empty() {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(piece);
            }
        }
    }
    text
}

/// `text` with runs of whitespace as single spaces, trimmed, without control characters.
fn squeeze(text: &str) -> String {
    let mut out = String::new();
    squeeze_into(text, &mut out);
    out
}

/// [`squeeze`] into `out` (cleared first), so that a caller squeezing piece after piece
/// allocates once.
fn squeeze_into(text: &str, out: &mut String) {
    out.clear();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().filter(|c| !c.is_control()));
    }
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
            <li><a href=\"https://www.12377.cn/\">举报色情网站</a></li><li>刷单返利类诈骗高发</li>\
            <li>开设赌场罪一审宣判</li><li>警方提醒：所谓“澳门赌场”网上赌博平台都是骗局</li></ul>";
        assert_eq!(hits(police), [], "reports on gambling and pornography are not injected content");
        let party = "<title>传承红色情怀 弘扬特色情况</title><a href=\"http://www.chinatax.gov.cn/\">自然人代开发票</a>\
            <a href=\"http://www.gd.gov.cn/\">广东省百家乐专项行动</a>";
        assert_eq!(hits(party), [], "words inside words, a tax service, another government's headline");
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
        // A big portal replaced by another big page: 16-bit hashes meet by chance, rarely.
        let other = |n: u32| format!("<li>另一网站第{n}条博彩推广信息</li>");
        let large = page_text(&Document::parse(&(0..3000).map(other).collect::<String>()));
        assert!(before.kept_in(&large.blocks) < 0.1, "{}", before.kept_in(&large.blocks));
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
        let scripts = |html: &str| {
            search_redirect_scripts(&Document::parse(html), &Url::parse("https://www.longchuan.gov.cn/").unwrap())
        };
        assert_eq!(scripts(hijack).len(), 1);
        let by_agent = r#"<script>if(/spider|bot/i.test(navigator.userAgent)){document.write('<a href="http://x.example.com/">y</a>')}</script>"#;
        assert_eq!(scripts(by_agent).len(), 1);
        let packed = r#"<script>if(document.referrer.indexOf('baidu')>-1){eval(function(p,a,c,k,e,d){return p}('1.2=3',4,4,'window|location'.split('|')))}</script>"#;
        assert_eq!(scripts(packed).len(), 0, "no navigation written out in the packed code");
        let packed = r#"<script>if(document.referrer.indexOf('baidu')>-1){window.location.href=eval(unescape('%68%74'))}</script>"#;
        assert_eq!(scripts(packed).len(), 1, "the address hidden");
        let mobile = r#"<script>var ua=navigator.userAgent;if(!/spider|bot/i.test(ua)&&/iphone|android/i.test(ua)){location.href="/m/";}</script>"#;
        assert_eq!(scripts(mobile), Vec::<String>::new(), "a mobile version on the site itself");
        let logging = r#"<script>var r=document.referrer;var p=window.location.protocol;
            new Image().src="https://hm.baidu.com/x.gif?r="+r+"&p="+p;</script>"#;
        assert_eq!(scripts(logging), Vec::<String>::new(), "reading where the visitor came from sends nobody anywhere");
        let statistics = r#"<script>var _hmt=_hmt||[];(function(){var hm=document.createElement("script");
            hm.src="https://hm.baidu.com/hm.js?abc";var s=document.getElementsByTagName("script")[0];
            s.parentNode.insertBefore(hm,s);})();</script>
            <script>new Image().src="/stat?ref="+encodeURIComponent(document.referrer);</script>
            <script>function go(){window.location.href="/search?q="+q;}</script>"#;
        assert_eq!(scripts(statistics), Vec::<String>::new());
    }
}
