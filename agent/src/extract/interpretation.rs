//! 政策解读: pairs each policy document with its interpretation, and says how many working days
//! the interpretation followed it.
//!
//! A pair is made, in order of trust, by a link between the two pages (an interpretation page
//! that links back to its policy, a policy page or list row that links to its interpretation),
//! or by title: the interpretation's title holds the policy's, or the policy's quoted 《…》
//! title, once both are read without punctuation, width or the affixes CMSs add (`关于`,
//! `印发`, `的通知`, `的解读`, `政策解读`, `图解`, `一图读懂` …). Of several interpretations of
//! one policy (文字解读 and 图解), the first published counts. The module is pure: lists and
//! links in, a pairing out.

use std::collections::HashMap;

use jiff::civil::Date;
use url::Url;
use xunjian_shared::time::calendar::Calendar;
use xunjian_shared::time::days_between;

use super::html::{Document, NodeData, NodeId};
use super::html_list::ListItem;
use super::links::resolve;

/// A document of a list: a policy or an interpretation.
#[derive(Clone, Debug, PartialEq)]
pub struct Listed {
    pub title: String,
    /// The document's page (None when the list links it only by script).
    pub url: Option<Url>,
    pub published: Option<Date>,
    /// Pages this document links to: from its row of the list, and from its own page once read.
    pub links: Vec<Url>,
}

/// A policy list and an interpretation list, read for pairing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lists {
    pub policies: Vec<Listed>,
    pub interpretations: Vec<Listed>,
}

impl Lists {
    /// The two lists' items (of every page read of each), their links resolved against their
    /// page's URL; each policy carries the interpretation links its row shows.
    pub fn read(policy_pages: &[ListPage<'_>], interpretation_pages: &[ListPage<'_>]) -> Lists {
        let mut policies = Vec::new();
        for page in policy_pages {
            let mut listed = listed(page.items, page.url);
            let item_urls: Vec<Url> = listed.iter().filter_map(|policy| policy.url.clone()).collect();
            let rows = row_interpretation_links(page.document, page.url, &item_urls);
            for policy in &mut listed {
                if let Some(links) = policy.url.as_ref().and_then(|url| rows.get(url)) {
                    policy.links.extend(links.iter().cloned());
                }
            }
            policies.extend(listed);
        }
        let interpretations = interpretation_pages.iter().flat_map(|page| listed(page.items, page.url)).collect();
        // An item pinned (置顶) on every page, or a page read twice, is one document.
        Lists { policies: once_each(policies), interpretations: once_each(interpretations) }
    }

    /// The same lists with what each document's own page links to, where it was read.
    pub fn with_page_links(&self, links_of: impl Fn(&Url) -> Option<Vec<Url>>) -> Lists {
        let add = |documents: &[Listed]| -> Vec<Listed> {
            documents
                .iter()
                .map(|document| {
                    let mut document = document.clone();
                    if let Some(links) = document.url.as_ref().and_then(&links_of) {
                        document.links.extend(links);
                    }
                    document
                })
                .collect()
        };
        Lists { policies: add(&self.policies), interpretations: add(&self.interpretations) }
    }

    pub fn pair(&self, rules: &Rules<'_>) -> Pairing {
        pair(&self.policies, &self.interpretations, rules)
    }

    /// The pages whose links could still make a pair: judged policies without an
    /// interpretation, and interpretations of the window paired with nothing.
    pub fn pages_to_read(&self, pairing: &Pairing, rules: &Rules<'_>) -> Vec<Url> {
        let paired: Vec<usize> = pairing.pairs.iter().filter_map(|p| p.interpretation.map(|(i, _)| i)).collect();
        let unpaired_policies = pairing
            .pairs
            .iter()
            .filter(|p| p.interpretation.is_none())
            .filter_map(|p| self.policies[p.policy].url.clone());
        let in_window = |date: Date| days_between(date, rules.today) <= i64::from(rules.window_days);
        let unpaired_interpretations = self
            .interpretations
            .iter()
            .enumerate()
            .filter(|(i, document)| !paired.contains(i) && document.published.is_none_or(in_window))
            .filter_map(|(_, document)| document.url.clone());
        unpaired_policies.chain(unpaired_interpretations).collect()
    }
}

/// One page of a list as read: the page, its items and where it was (after redirects).
#[derive(Clone, Copy)]
pub struct ListPage<'a> {
    pub document: &'a Document,
    pub items: &'a [ListItem],
    pub url: &'a Url,
}

/// Each document once: by its page, or by title and date when it has none; the first keeps the
/// links of all.
fn once_each(documents: Vec<Listed>) -> Vec<Listed> {
    let mut kept: Vec<Listed> = Vec::new();
    for document in documents {
        let same = |known: &Listed| match (&known.url, &document.url) {
            (Some(a), Some(b)) => same_page(a, b),
            (None, None) => known.title == document.title && known.published == document.published,
            _ => false,
        };
        match kept.iter_mut().find(|known| same(known)) {
            Some(known) => known.links.extend(document.links),
            None => kept.push(document),
        }
    }
    kept
}

/// A list's items as documents, their links resolved against the list page.
fn listed(items: &[ListItem], base: &Url) -> Vec<Listed> {
    items
        .iter()
        .map(|item| Listed {
            title: item.title.clone(),
            url: item.link.as_deref().and_then(|link| resolve(base, link)),
            published: item.published.map(|published| published.date),
            links: Vec::new(),
        })
        .collect()
}

/// What the pairing judges by.
pub struct Rules<'a> {
    pub today: Date,
    /// Policies published within this many days are judged.
    pub window_days: u32,
    /// An interpretation later than this many working days is late; a policy without one
    /// past it is missing one.
    pub limit_working_days: u32,
    /// Titles holding one of these words need no interpretation.
    pub exempt_words: &'a [String],
    pub calendar: &'a Calendar,
    /// The oldest interpretation read, when the interpretation list goes on past the pages read:
    /// an older policy without a pair is not judged.
    pub interpretations_from: Option<Date>,
}

/// Where a judged policy stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Interpreted within the limit.
    Interpreted,
    /// Interpreted later than the limit.
    Late,
    /// No interpretation, past the limit.
    Missing,
    /// No interpretation yet, still within the limit.
    Pending,
}

/// How a pair was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matched {
    Link,
    Title,
}

/// One judged policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    /// Index into the policies given.
    pub policy: usize,
    /// Index into the interpretations given, and how it was matched.
    pub interpretation: Option<(usize, Matched)>,
    /// Working days from the policy's publication to its interpretation's (0 when published
    /// together or before); None when either is undated.
    pub delay_working_days: Option<i64>,
    pub standing: Standing,
}

/// The judged policies, and what was left out and why.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pairing {
    pub pairs: Vec<Pair>,
    /// Policies whose titles say they need no interpretation.
    pub exempt: usize,
    /// Policies without a date (they cannot be placed in the window).
    pub undated: usize,
    /// Policies without a pair older than the oldest interpretation read (not judged).
    pub unread: usize,
    /// Years the working-day calendar did not know; their days were counted by weekday.
    pub assumed_years: Vec<i16>,
}

/// An interpretation found by title this long before its policy is another year's namesake.
const EARLIEST_BEFORE_POLICY_DAYS: i64 = 30;

/// Pairs the policies of the window with interpretations.
pub fn pair(policies: &[Listed], interpretations: &[Listed], rules: &Rules<'_>) -> Pairing {
    let mut pairing = Pairing::default();
    let policy_keys: Vec<TitleKeys> = policies.iter().map(|p| TitleKeys::of(&p.title)).collect();
    let interpretation_keys: Vec<TitleKeys> = interpretations.iter().map(|i| TitleKeys::of(&i.title)).collect();
    let judged = |policy: &Listed| {
        !rules.exempt_words.iter().any(|word| !word.is_empty() && policy.title.contains(word.as_str()))
            && policy.published.is_some_and(|date| days_between(date, rules.today) <= i64::from(rules.window_days))
    };
    // By title, an interpretation is one policy's: the one whose title it matches best (longest
    // key, then nearest after it), so 《…实施方案》 titles that share words do not all pair.
    let title_owner: Vec<Option<usize>> = (0..interpretations.len())
        .map(|i| {
            let when = interpretations[i].published;
            (0..policies.len())
                .filter(|&p| judged(&policies[p]))
                .filter_map(|p| {
                    let published = policies[p].published?;
                    let gap = when.map(|date| days_between(published, date));
                    if gap.is_some_and(|gap| gap < -EARLIEST_BEFORE_POLICY_DAYS) {
                        return None;
                    }
                    let score = policy_keys[p].match_score(&interpretation_keys[i])?;
                    Some((p, score, gap.map_or(i64::MAX, i64::abs)))
                })
                .max_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(b.0.cmp(&a.0)))
                .map(|(p, _, _)| p)
        })
        .collect();
    for (index, policy) in policies.iter().enumerate() {
        if rules.exempt_words.iter().any(|word| !word.is_empty() && policy.title.contains(word.as_str())) {
            pairing.exempt += 1;
            continue;
        }
        let Some(published) = policy.published else {
            pairing.undated += 1;
            continue;
        };
        if days_between(published, rules.today) > i64::from(rules.window_days) {
            continue;
        }
        let linked = |other: &Listed| {
            let links_to = |from: &Listed, to: &Listed| {
                to.url.as_ref().is_some_and(|url| from.links.iter().any(|link| same_page(link, url)))
            };
            links_to(other, policy) || links_to(policy, other)
        };
        let first_published = |candidates: &mut Vec<usize>| {
            candidates.sort_by_key(|&i| (interpretations[i].published.is_none(), interpretations[i].published));
            candidates.first().copied()
        };
        let mut by_link: Vec<usize> = (0..interpretations.len()).filter(|&i| linked(&interpretations[i])).collect();
        let mut by_title: Vec<usize> = (0..interpretations.len()).filter(|&i| title_owner[i] == Some(index)).collect();
        let interpretation = match first_published(&mut by_link) {
            Some(i) => Some((i, Matched::Link)),
            None => first_published(&mut by_title).map(|i| (i, Matched::Title)),
        };
        // Not found, and older than the oldest interpretation read: it may be on a page not read.
        if interpretation.is_none() && rules.interpretations_from.is_some_and(|from| published < from) {
            pairing.unread += 1;
            continue;
        }
        let (delay_working_days, standing) = match interpretation {
            Some((i, _)) => match interpretations[i].published {
                Some(date) => {
                    let counted = rules.calendar.working_days_between(published, date);
                    pairing.assumed_years.extend(counted.assumed_years);
                    let late = counted.days > i64::from(rules.limit_working_days);
                    (Some(counted.days), if late { Standing::Late } else { Standing::Interpreted })
                }
                None => (None, Standing::Interpreted),
            },
            None => {
                let counted = rules.calendar.working_days_between(published, rules.today);
                pairing.assumed_years.extend(counted.assumed_years);
                let missing = counted.days > i64::from(rules.limit_working_days);
                (None, if missing { Standing::Missing } else { Standing::Pending })
            }
        };
        pairing.pairs.push(Pair { policy: index, interpretation, delay_working_days, standing });
    }
    pairing.assumed_years.sort_unstable();
    pairing.assumed_years.dedup();
    pairing
}

/// Two links to one page: the same host, path and query, whatever the scheme or fragment.
pub fn same_page(a: &Url, b: &Url) -> bool {
    a.host_str() == b.host_str() && a.path() == b.path() && a.query() == b.query()
}

/// A title read for matching: its core without affixes, and its quoted 《…》 titles.
#[derive(Clone, Debug, Default, PartialEq)]
struct TitleKeys {
    core: String,
    quoted: Vec<String>,
}

/// A title key whose subject (what is left without the words every document uses) is shorter
/// than this, in characters, matches nothing: 《实施方案》 names no policy.
const MIN_SUBJECT_CHARS: usize = 4;
/// A policy's core holds an interpretation's only when the latter is at least this share of it
/// (in tenths): 政府工作报告 is not the policy that carries out its tasks.
const MIN_CONTAINED_TENTHS: usize = 6;
/// Words every kind of document uses, longest first: what is left is a title's subject.
const GENERIC_WORDS: &[&str] = &[
    "实施方案",
    "实施意见",
    "实施细则",
    "实施办法",
    "管理办法",
    "暂行办法",
    "若干措施",
    "若干规定",
    "工作方案",
    "行动方案",
    "方案",
    "办法",
    "意见",
    "措施",
    "细则",
    "规定",
    "条例",
    "规划",
    "计划",
    "通知",
    "决定",
    "实施",
    "若干",
    "管理",
    "工作",
    "暂行",
    "试行",
    "进一步",
    "加强",
    "做好",
    "印发",
    "关于",
    "政策",
    "文件",
];

/// Words before the subject: what a document does with it (印发 …) and what an interpretation
/// calls itself.
const PREFIXES: &[&str] =
    &["一图读懂", "一图看懂", "图解", "图说", "政策解读", "解读", "印发", "转发", "公布", "发布", "关于"];
/// Words after the subject.
const SUFFIXES: &[&str] = &[
    "的通知",
    "的通告",
    "的公告",
    "的函",
    "政策解读",
    "的解读",
    "解读",
    "图解",
    "的说明",
    "起草说明",
    "答记者问",
    "问答",
    "新闻发布会",
    "政策问答",
    "的",
];

impl TitleKeys {
    fn of(title: &str) -> TitleKeys {
        let quoted = quoted_titles(title).iter().map(|q| normalise(q)).filter(|q| !q.is_empty()).collect();
        let mut core = normalise(title);
        // An issuer comes before 关于: "XX县人民政府办公室关于印发…"
        if let Some(at) = core.find("关于") {
            core = core[at + "关于".len()..].to_string();
        }
        loop {
            let before = core.len();
            for prefix in PREFIXES {
                if let Some(rest) = core.strip_prefix(prefix) {
                    core = rest.to_string();
                }
            }
            for suffix in SUFFIXES {
                if let Some(rest) = core.strip_suffix(suffix) {
                    core = rest.to_string();
                }
            }
            if core.len() == before {
                break;
            }
        }
        TitleKeys { core, quoted }
    }

    /// How well an interpretation titled `other` names the policy titled `self`: the length of
    /// the key they share, None when they share none that names a subject.
    fn match_score(&self, other: &TitleKeys) -> Option<usize> {
        let chars = |text: &str| text.chars().count();
        let mut best: Option<usize> = None;
        let mut take = |key: &str| {
            if subject_chars(key) >= MIN_SUBJECT_CHARS {
                best = Some(best.map_or(chars(key), |b| b.max(chars(key))));
            }
        };
        if !self.core.is_empty() && other.core.contains(&self.core) {
            take(&self.core);
        }
        if !other.core.is_empty()
            && self.core.contains(&other.core)
            && chars(&other.core) * 10 >= chars(&self.core) * MIN_CONTAINED_TENTHS
        {
            take(&other.core);
        }
        for quoted in &self.quoted {
            if other.core.contains(quoted.as_str()) || other.quoted.contains(quoted) {
                take(quoted);
            }
        }
        for quoted in &other.quoted {
            if self.core.contains(quoted.as_str()) {
                take(quoted);
            }
        }
        best
    }
}

/// Characters of `key` left without [`GENERIC_WORDS`].
fn subject_chars(key: &str) -> usize {
    let mut rest = key.to_string();
    for word in GENERIC_WORDS {
        rest = rest.replace(word, "");
    }
    rest.chars().count()
}

/// The text of every 《…》 in `title`.
fn quoted_titles(title: &str) -> Vec<String> {
    let mut quoted = Vec::new();
    let mut rest = title;
    while let Some(open) = rest.find('《') {
        let after = &rest[open + '《'.len_utf8()..];
        let Some(close) = after.find('》') else { break };
        quoted.push(after[..close].to_string());
        rest = &after[close + '》'.len_utf8()..];
    }
    quoted
}

/// Letters, digits and CJK only, full-width forms folded to ASCII, Latin lower-cased.
fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Words of a link's text that point to an interpretation from a policy's row.
const INTERPRETATION_LINK_WORDS: &[&str] = &["解读", "图解", "一图读懂", "问答"];

/// The links a list page shows in its items' rows that lead to interpretations (a row's
/// 「解读」「图解」 links), by item: each item's link → the interpretation links of its row, the
/// largest element around the item's link that holds no other item (never a sidebar after it).
pub fn row_interpretation_links(document: &Document, page_url: &Url, item_links: &[Url]) -> HashMap<Url, Vec<Url>> {
    let count = document.len();
    let href = |node: NodeId| {
        let element = document.element(node).filter(|e| e.name == "a")?;
        page_url.join(element.attr("href")?.trim()).ok()
    };
    // Which item each node holds: none, exactly one (by index), or several (Some(None)).
    let mut holds: Vec<Option<Option<usize>>> = vec![None; count];
    for node in (0..count).rev() {
        if let Some(url) = href(node)
            && let Some(item) = item_links.iter().position(|item| same_page(item, &url))
        {
            holds[node] = merge_held(holds[node], Some(Some(item)));
        }
        if let Some(parent) = document.parent(node) {
            holds[parent] = merge_held(holds[parent], holds[node]);
        }
    }
    let mut found: HashMap<Url, Vec<Url>> = HashMap::new();
    let mut rows_done: Vec<NodeId> = Vec::new();
    for node in 0..count {
        let Some(Some(item)) = holds[node] else { continue };
        if href(node).is_none_or(|url| !same_page(&url, &item_links[item])) {
            continue;
        }
        let mut row = node;
        while let Some(parent) = document.parent(row) {
            if parent == Document::ROOT || holds[parent] != Some(Some(item)) {
                break;
            }
            row = parent;
        }
        if rows_done.contains(&row) {
            continue;
        }
        rows_done.push(row);
        for anchor in document.descendants(row) {
            let Some(url) = href(anchor) else { continue };
            if item_links.iter().any(|item| same_page(item, &url)) || !matches!(url.scheme(), "http" | "https") {
                continue;
            }
            if short_text_with(document, anchor, INTERPRETATION_LINK_WORDS) {
                found.entry(item_links[item].clone()).or_default().push(url);
            }
        }
    }
    found
}

fn merge_held(a: Option<Option<usize>>, b: Option<Option<usize>>) -> Option<Option<usize>> {
    match (a, b) {
        (None, other) | (other, None) => other,
        (Some(Some(x)), Some(Some(y))) if x == y => Some(Some(x)),
        _ => Some(None),
    }
}

/// Whether `anchor`'s text (or title) is short and holds one of `words`.
fn short_text_with(document: &Document, anchor: NodeId, words: &[&str]) -> bool {
    let text = match &document.node(anchor).data {
        NodeData::Element(_) => document.text(anchor),
        _ => String::new(),
    };
    let text = if text.trim().is_empty() {
        document.element(anchor).and_then(|e| e.attr("title")).unwrap_or("").to_string()
    } else {
        text
    };
    text.chars().count() <= 12 && words.iter().any(|word| text.contains(word))
}

/// Words of a link, on a document's page, to the other document (the policy's 原文, its 解读).
const COUNTERPART_LINK_WORDS: &[&str] =
    &["原文", "解读", "图解", "相关文件", "相关政策", "政策文件", "文件链接", "附件", "一图读懂", "问答"];

/// Of the links a document's page shows, those that lead to one of `counterparts` (the other
/// list's documents: URL and title) as a link to its counterpart reads: named by its title or as
/// 原文 / 解读 / 相关文件. A page linking more than two of them is a list or a sidebar, and
/// pairs nothing.
pub fn counterpart_links(links: &[super::links::Link], counterparts: &[(&Url, &str)]) -> Vec<Url> {
    let mut found: Vec<Url> = Vec::new();
    for link in links {
        let Some((url, title)) = counterparts.iter().find(|(url, _)| same_page(url, &link.url)) else { continue };
        let text = normalise(&link.text);
        let title = TitleKeys::of(title).core;
        let named = COUNTERPART_LINK_WORDS.iter().any(|word| link.text.contains(word))
            || (!text.is_empty()
                && !title.is_empty()
                && (text.contains(&title) || (title.contains(&text) && text.chars().count() >= 6)));
        if named && !found.iter().any(|known| same_page(known, url)) {
            found.push((*url).clone());
        }
    }
    if found.len() > 2 { Vec::new() } else { found }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(title: &str, url: &str, published: &str) -> Listed {
        Listed {
            title: title.into(),
            url: Some(Url::parse(url).unwrap()),
            published: published.parse().ok(),
            links: Vec::new(),
        }
    }

    fn rules<'a>(exempt: &'a [String], calendar: &'a Calendar) -> Rules<'a> {
        Rules {
            today: "2026-11-27".parse().unwrap(),
            window_days: 180,
            limit_working_days: 3,
            exempt_words: exempt,
            interpretations_from: None,
            calendar,
        }
    }

    #[test]
    fn titles_pair_through_their_affixes_and_punctuation() {
        let cases = [
            (
                "龙川县人民政府办公室关于印发《龙川县促进中小企业发展若干措施》的通知",
                "《龙川县促进中小企业发展若干措施》政策解读",
                true,
            ),
            (
                "龙川县人民政府办公室关于印发龙川县2026年农村人居环境整治实施方案的通知",
                "一图读懂｜龙川县2026年农村人居环境整治实施方案",
                true,
            ),
            (
                "关于进一步加强城乡居民医疗保险工作的意见",
                "关于《关于进一步加强城乡居民医疗保险工作的意见》的解读",
                true,
            ),
            ("龙川县耕地保护激励办法（试行）", "【图解】龙川县耕地保护激励办法(试行)", true),
            ("龙川县2025年就业补助资金管理办法", "龙川县2026年就业补助资金管理办法解读", false),
            ("龙川县城市管理办法", "龙川县乡村振兴促进办法解读", false),
            ("关于印发《方案》的通知", "《方案》解读", false),
            // Words every document uses name no policy.
            ("龙川县人民政府办公室关于印发《实施方案》的通知", "《实施方案》政策解读", false),
            ("关于落实2026年政府工作报告重点任务分工的通知", "图解：2026年政府工作报告", false),
        ];
        for (policy, interpretation, expected) in cases {
            let got = TitleKeys::of(policy).match_score(&TitleKeys::of(interpretation)).is_some();
            assert_eq!(
                got,
                expected,
                "{policy} ← {interpretation}: {:?} / {:?}",
                TitleKeys::of(policy),
                TitleKeys::of(interpretation)
            );
        }
    }

    #[test]
    fn delays_are_working_days_and_a_link_outranks_a_title() {
        let calendar = Calendar::china();
        let exempt: Vec<String> = ["任免".to_string()].into();
        let mut policies = vec![
            // Friday 2026-11-06 → interpreted Wednesday 11-11: 3 working days, in time.
            listed("关于印发《龙川县养老服务补贴办法》的通知", "http://x.gov.cn/zcwj/1.html", "2026-11-06"),
            // 10-09 (Fri) → 10-20: 8 working days with Saturday 10-10 worked (调休), late.
            listed("龙川县农业产业化扶持办法", "http://x.gov.cn/zcwj/2.html", "2026-10-09"),
            listed("龙川县停车场管理规定", "http://x.gov.cn/zcwj/3.html", "2026-11-02"),
            listed("关于张三等同志职务任免的通知", "http://x.gov.cn/zcwj/4.html", "2026-11-02"),
            listed("龙川县夜市管理办法", "http://x.gov.cn/zcwj/5.html", "2026-11-25"),
            listed("龙川县旧办法", "http://x.gov.cn/zcwj/6.html", "2025-01-05"),
        ];
        policies[2].links.push(Url::parse("https://x.gov.cn/zcjd/9.html#top").unwrap());
        let interpretations = vec![
            listed("《龙川县养老服务补贴办法》图解", "http://x.gov.cn/zcjd/7.html", "2026-11-11"),
            listed("《龙川县养老服务补贴办法》政策解读", "http://x.gov.cn/zcjd/8.html", "2026-11-12"),
            listed("龙川县农业产业化扶持办法解读", "http://x.gov.cn/zcjd/10.html", "2026-10-20"),
            listed("停车新规答记者问", "http://x.gov.cn/zcjd/9.html", "2026-11-03"),
        ];
        let pairing = pair(&policies, &interpretations, &rules(&exempt, &calendar));
        type Row = (usize, Option<(usize, Matched)>, Option<i64>, Standing);
        let got: Vec<Row> =
            pairing.pairs.iter().map(|p| (p.policy, p.interpretation, p.delay_working_days, p.standing)).collect();
        assert_eq!(
            got,
            [
                (0, Some((0, Matched::Title)), Some(3), Standing::Interpreted),
                (1, Some((2, Matched::Title)), Some(8), Standing::Late),
                (2, Some((3, Matched::Link)), Some(1), Standing::Interpreted),
                (4, None, None, Standing::Pending),
            ]
        );
        assert_eq!(pairing.exempt, 1);
    }

    #[test]
    fn a_missing_interpretation_is_missing_only_past_the_limit() {
        let calendar = Calendar::china();
        let policies = [listed("龙川县停车场管理规定", "http://x.gov.cn/zcwj/3.html", "2026-11-20")];
        let pairing = pair(&policies, &[], &rules(&[], &calendar));
        assert_eq!(pairing.pairs[0].standing, Standing::Missing, "11-20 (Fri) to 11-27 (Fri) is 5 working days");
    }

    #[test]
    fn a_sidebar_after_the_list_is_no_rows_link() {
        let html = "<ul class='list'><li><a href='/zcwj/1.html'>甲办法</a><span>2026-11-02</span></li>\
                    <li><a href='/zcwj/2.html'>乙办法</a><span>2026-11-01</span></li></ul>\
                    <div class='side'><h3>热点解读</h3><a href='/zcjd/9.html'>[解读]</a></div>";
        let page = Url::parse("http://x.gov.cn/zcwj/").unwrap();
        let items = [page.join("/zcwj/1.html").unwrap(), page.join("/zcwj/2.html").unwrap()];
        assert!(row_interpretation_links(&Document::parse(html), &page, &items).is_empty());
    }

    #[test]
    fn a_document_page_pairs_only_by_links_that_read_as_its_counterpart() {
        use crate::extract::links::Link;
        let url = |n: u32| Url::parse(&format!("http://x.gov.cn/zcwj/{n}.html")).unwrap();
        let (one, two, three) = (url(1), url(2), url(3));
        let counterparts =
            [(&one, "龙川县停车场管理规定"), (&two, "龙川县养犬管理规定"), (&three, "龙川县夜市管理办法")];
        let link = |n: u32, text: &str| Link { url: url(n), text: text.into() };
        let back = [link(1, "相关文件：龙川县停车场管理规定"), link(2, "更多")];
        assert_eq!(counterpart_links(&back, &counterparts), [url(1)], "named; 更多 is not");
        let sidebar = [link(1, "龙川县停车场管理规定"), link(2, "龙川县养犬管理规定"), link(3, "龙川县夜市管理办法")];
        assert!(counterpart_links(&sidebar, &counterparts).is_empty(), "a list of them pairs nothing");
    }

    #[test]
    fn a_rows_interpretation_links_follow_its_title() {
        let html = "<table><tr><td><a href='./202611/t1.html'>关于印发《甲办法》的通知</a></td><td><a href='../zcjd/1.html'>[解读]</a> <a href='../zcjd/2.html'>图解</a></td></tr>\
                    <tr><td><a href='./202611/t2.html'>乙办法</a></td><td><a href='/other.html'>下载附件</a></td></tr></table>";
        let page = Url::parse("http://x.gov.cn/zcwj/index.html").unwrap();
        let items = [page.join("./202611/t1.html").unwrap(), page.join("./202611/t2.html").unwrap()];
        let found = row_interpretation_links(&Document::parse(html), &page, &items);
        assert_eq!(found.len(), 1);
        let links: Vec<&str> = found[&items[0]].iter().map(Url::as_str).collect();
        assert_eq!(links, ["http://x.gov.cn/zcjd/1.html", "http://x.gov.cn/zcjd/2.html"]);
    }
}
