//! How an observed site or account finds its filing: by its identifier on the platform first
//! (账号ID: 微信号 or 原始 ID, 微博 UID, 抖音号, an app's package, a URL), then by its name as
//! written, then by its name normalised — full-width forms, spaces, punctuation and the usual
//! suffixes (官方, 发布, 公众号 …) set aside. A name only near a filing's (one holds most of the
//! other, or a character or two differ) is a possible match, for a person to confirm: not 漏报.

use std::collections::HashMap;

use super::{Channel, Filing};

/// Suffixes accounts add to a unit's name, set aside when names are compared (longest first).
const SUFFIXES: &[&str] = &[
    "微信公众号",
    "官方公众号",
    "公众号",
    "官方微博",
    "官方微信",
    "官方抖音",
    "官方头条",
    "官方账号",
    "官方号",
    "头条号",
    "抖音号",
    "服务号",
    "订阅号",
    "官微",
    "官方",
    "发布",
];
/// Characters a normalised name needs before a near name counts (short names are all alike).
const MIN_NEAR_CHARS: usize = 4;
/// Filings of a channel compared for a near name, at most, per observed name.
const MAX_NEAR_CANDIDATES: usize = 20_000;

/// An account identifier as compared: trimmed, lower case, without a URL's scheme, `www.` and
/// trailing slash, or a leading `@`.
pub fn normalized_id(id: &str) -> String {
    let id = id.trim().to_lowercase();
    let id = id.strip_prefix("https://").or_else(|| id.strip_prefix("http://")).unwrap_or(&id);
    let id = id.strip_prefix("www.").unwrap_or(id);
    let id = id.strip_prefix('@').unwrap_or(id);
    id.trim_end_matches('/').to_string()
}

/// A name as compared: full-width letters and digits as ASCII, lower case, only letters and
/// digits (CJK included), without the usual suffixes.
pub fn normalized_name(name: &str) -> String {
    let mut folded: String = name
        .chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    // One suffix, then another (龙川发布官方 → 龙川), never the whole name.
    for _ in 0..2 {
        if let Some(stripped) = SUFFIXES.iter().find_map(|suffix| folded.strip_suffix(suffix)).filter(|s| !s.is_empty())
        {
            folded = stripped.to_string();
        }
    }
    folded
}

/// Whether two normalised names are near: long enough, and one holds most of the other, or
/// they differ by a character (two, for long names).
pub fn near(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    if short.len() < MIN_NEAR_CHARS || a == b {
        return false;
    }
    let holds = long.windows(short.len()).any(|window| window == short.as_slice());
    if holds && short.len() * 10 >= long.len() * 8 {
        return true;
    }
    let allowed = if short.len() >= 10 { 2 } else { 1 };
    long.len() - short.len() <= allowed && edit_distance(short, long) <= allowed
}

/// Levenshtein distance over characters.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// How an observed one found its filing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match<'f> {
    /// By its identifier on the platform.
    Id(&'f Filing),
    /// By its name, as written or normalised.
    Name(&'f Filing),
    /// Only by a near name: perhaps the same, for a person to confirm.
    Possible(&'f Filing),
    None,
}

/// The filings indexed for matching (built once per assessment, not a scan per target).
pub struct Index<'f> {
    by_id: HashMap<(String, Channel), &'f Filing>,
    by_name: HashMap<(&'f str, Channel), &'f Filing>,
    by_normalized: HashMap<(String, Channel), &'f Filing>,
    by_channel: HashMap<Channel, Vec<(String, &'f Filing)>>,
}

impl<'f> Index<'f> {
    pub fn new(filings: &'f [Filing]) -> Index<'f> {
        let mut index = Index {
            by_id: HashMap::new(),
            by_name: HashMap::new(),
            by_normalized: HashMap::new(),
            by_channel: HashMap::new(),
        };
        for filing in filings {
            if let Some(id) = &filing.account_id {
                index.by_id.entry((normalized_id(id), filing.channel)).or_insert(filing);
            }
            index.by_name.entry((filing.name.as_str(), filing.channel)).or_insert(filing);
            let normalized = normalized_name(&filing.name);
            index.by_normalized.entry((normalized.clone(), filing.channel)).or_insert(filing);
            index.by_channel.entry(filing.channel).or_default().push((normalized, filing));
        }
        index
    }

    /// The filing of the site or account named `name` on `channel`, with `account_id` when the
    /// agent's configuration gives one, observed in `county`.
    pub fn find(&self, name: &str, channel: Channel, account_id: Option<&str>, county: &str) -> Match<'f> {
        if let Some(filing) = account_id.and_then(|id| self.by_id.get(&(normalized_id(id), channel))) {
            return Match::Id(filing);
        }
        if let Some(filing) = self.by_name.get(&(name, channel)) {
            return Match::Name(filing);
        }
        let normalized = normalized_name(name);
        if let Some(filing) = self.by_normalized.get(&(normalized.clone(), channel)) {
            return Match::Name(filing);
        }
        // Near names within the county (or filings without one, the city's own).
        let candidates = self.by_channel.get(&channel).map(Vec::as_slice).unwrap_or_default();
        candidates
            .iter()
            .filter(|(_, filing)| filing.county.is_empty() || filing.county == county)
            .take(MAX_NEAR_CANDIDATES)
            .find(|(other, _)| near(&normalized, other))
            .map_or(Match::None, |(_, filing)| Match::Possible(filing))
    }
}

#[cfg(test)]
mod tests {
    use xunjian_shared::config::Platform;

    use super::*;
    use crate::registry::FilingStatus;

    #[test]
    fn identifiers_and_names_are_compared_the_way_people_write_them() {
        assert_eq!(normalized_id(" https://www.Douyin.com/user/ABC/ "), "douyin.com/user/abc");
        assert_eq!(normalized_id("@龙川发布"), "龙川发布");
        assert_eq!(normalized_name("龙川县人民政府　（官方）"), "龙川县人民政府");
        assert_eq!(normalized_name("河源市ＷＪＷ公众号"), "河源市wjw");
        assert_eq!(normalized_name("发布"), "发布", "a suffix is never the whole name");
        assert!(near("河源市社会保险基金管理局", "河源市社会保险基金管理"));
        assert!(near("龙川县教育局", "龙川县教肓局"), "one character differs");
        assert!(!near("龙川县教育局", "和平县教育局微"), "two differ in a short name");
        assert!(!near("龙川", "龙川县"), "too short to say");
        assert!(!near("龙川县人民政府办公室", "龙川县人民政府"), "a unit and its office differ by more than a slip");
    }

    #[test]
    fn an_account_finds_its_filing_by_id_then_name_then_a_near_name() {
        let wechat = Channel::Account(Platform::Wechat);
        let filings = vec![
            Filing {
                account_id: Some("gh_1a2b3c4d5e6f".into()),
                ..Filing::new("龙川县人民政府", wechat, "县政府办", "龙川县", FilingStatus::Running)
            },
            Filing::new("河源市社会保险基金管理局", wechat, "市人社局", "", FilingStatus::Running),
            Filing::new("和平县教育局", wechat, "县教育局", "和平县", FilingStatus::Running),
        ];
        let index = Index::new(&filings);
        assert_eq!(index.find("龙川政府", wechat, Some("GH_1A2B3C4D5E6F"), "龙川县"), Match::Id(&filings[0]));
        assert_eq!(index.find("龙川县人民政府官方", wechat, None, "龙川县"), Match::Name(&filings[0]));
        assert_eq!(index.find("河源市社会保险基金管理", wechat, None, "市直"), Match::Possible(&filings[1]));
        assert_eq!(index.find("和平县教育局", Channel::Account(Platform::Weibo), None, "和平县"), Match::None);
        assert_eq!(index.find("和平县教肓局", wechat, None, "龙川县"), Match::None, "another county's");
    }
}
