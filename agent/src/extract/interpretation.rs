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

use super::html::{Document, NodeData};
use super::html_list::ListItem;

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
    /// The two lists' items, their links resolved against each list page's URL; each policy
    /// carries the interpretation links its row shows (read off `policy_page`).
    pub fn read(
        policy_page: &Document,
        policy_items: &[ListItem],
        policy_url: &Url,
        interpretation_items: &[ListItem],
        interpretation_url: &Url,
    ) -> Lists {
        let mut policies = listed(policy_items, policy_url);
        let item_urls: Vec<Url> = policies.iter().filter_map(|policy| policy.url.clone()).collect();
        let rows = row_interpretation_links(policy_page, policy_url, &item_urls);
        for policy in &mut policies {
            if let Some(links) = policy.url.as_ref().and_then(|url| rows.get(url)) {
                policy.links.extend(links.iter().cloned());
            }
        }
        Lists { policies, interpretations: listed(interpretation_items, interpretation_url) }
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

/// A list's items as documents, their links resolved against the list page.
fn listed(items: &[ListItem], base: &Url) -> Vec<Listed> {
    items
        .iter()
        .map(|item| Listed {
            title: item.title.clone(),
            url: item
                .link
                .as_deref()
                .and_then(|link| base.join(link).ok())
                .filter(|url| matches!(url.scheme(), "http" | "https"))
                .map(|mut url| {
                    url.set_fragment(None);
                    url
                }),
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
    /// Years the working-day calendar did not know; their days were counted by weekday.
    pub assumed_years: Vec<i16>,
}

/// An interpretation found by title this long before its policy is another year's namesake.
const EARLIEST_BEFORE_POLICY_DAYS: i64 = 30;

/// Pairs the policies of the window with interpretations.
pub fn pair(policies: &[Listed], interpretations: &[Listed], rules: &Rules<'_>) -> Pairing {
    let mut pairing = Pairing::default();
    let interpretation_keys: Vec<TitleKeys> = interpretations.iter().map(|i| TitleKeys::of(&i.title)).collect();
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
        let policy_keys = TitleKeys::of(&policy.title);
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
        let mut by_title: Vec<usize> = (0..interpretations.len())
            .filter(|&i| {
                policy_keys.interpreted_by(&interpretation_keys[i])
                    && interpretations[i]
                        .published
                        .is_none_or(|date| days_between(date, published) <= EARLIEST_BEFORE_POLICY_DAYS)
            })
            .collect();
        let interpretation = match first_published(&mut by_link) {
            Some(i) => Some((i, Matched::Link)),
            None => first_published(&mut by_title).map(|i| (i, Matched::Title)),
        };
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
fn same_page(a: &Url, b: &Url) -> bool {
    a.host_str() == b.host_str() && a.path() == b.path() && a.query() == b.query()
}

/// A title read for matching: its core without affixes, and its quoted 《…》 titles.
#[derive(Clone, Debug, Default, PartialEq)]
struct TitleKeys {
    core: String,
    quoted: Vec<String>,
}

/// A core or quoted title shorter than this (in characters) matches nothing: too general.
const MIN_KEY_CHARS: usize = 4;
/// A policy's core holds an interpretation's only when the latter is at least this long.
const MIN_CONTAINED_CHARS: usize = 6;

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
        let quoted =
            quoted_titles(title).iter().map(|q| normalise(q)).filter(|q| q.chars().count() >= MIN_KEY_CHARS).collect();
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

    /// Whether an interpretation titled `other` interprets the policy titled `self`.
    fn interpreted_by(&self, other: &TitleKeys) -> bool {
        let long = |text: &str, min: usize| text.chars().count() >= min;
        (long(&self.core, MIN_KEY_CHARS) && other.core.contains(&self.core))
            || (long(&other.core, MIN_CONTAINED_CHARS) && self.core.contains(&other.core))
            || self.quoted.iter().any(|q| other.core.contains(q.as_str()) || other.quoted.contains(q))
            || other.quoted.iter().any(|q| self.core.contains(q.as_str()))
    }
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

/// The links a list page shows beside its items that lead to interpretations (a row's
/// 「解读」「图解」 links), by the item whose link precedes them: each item's link as written
/// (resolved against `page_url`) → the interpretation links after it, before the next item.
pub fn row_interpretation_links(document: &Document, page_url: &Url, item_links: &[Url]) -> HashMap<Url, Vec<Url>> {
    let mut found: HashMap<Url, Vec<Url>> = HashMap::new();
    let mut current: Option<&Url> = None;
    for node in document.descendants(Document::ROOT) {
        let Some(element) = document.element(node) else { continue };
        if element.name != "a" {
            continue;
        }
        let Some(url) = element.attr("href").and_then(|href| page_url.join(href.trim()).ok()) else { continue };
        if let Some(item) = item_links.iter().find(|item| same_page(item, &url)) {
            current = Some(item);
            continue;
        }
        let text = match &document.node(node).data {
            NodeData::Element(_) => document.text(node),
            _ => String::new(),
        };
        let text = if text.trim().is_empty() { element.attr("title").unwrap_or("").to_string() } else { text };
        if let Some(item) = current
            && text.chars().count() <= 12
            && INTERPRETATION_LINK_WORDS.iter().any(|word| text.contains(word))
            && matches!(url.scheme(), "http" | "https")
        {
            found.entry(item.clone()).or_default().push(url);
        }
    }
    found
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
        ];
        for (policy, interpretation, expected) in cases {
            let got = TitleKeys::of(policy).interpreted_by(&TitleKeys::of(interpretation));
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
