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

/// An account identifier as compared: trimmed, full-width forms folded, without a leading `@`;
/// an address without its scheme, `www.` and trailing slash, its host in lower case (paths are
/// case-sensitive: Douyin's user ids are); any other id in lower case (微信号, 抖音号 and UIDs
/// are not).
pub fn normalized_id(id: &str) -> String {
    let id: String = fold_width(id.trim()).chars().filter(|c| !c.is_whitespace()).collect();
    let id = id.strip_prefix('@').unwrap_or(&id);
    let lower = id.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &id[8..]
    } else if lower.starts_with("http://") {
        &id[7..]
    } else if !id.contains('/') {
        return lower;
    } else {
        id
    };
    let rest = rest.trim_end_matches('/');
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    if path.is_empty() { host.to_string() } else { format!("{host}/{path}") }
}

/// Full-width letters, digits and signs as ASCII.
fn fold_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// A name as compared: full-width letters and digits as ASCII, lower case, only letters and
/// digits (CJK included), without the usual suffixes.
pub fn normalized_name(name: &str) -> String {
    let mut folded: String =
        fold_width(name).chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    // One suffix, then another (龙川发布官方 → 龙川), never the whole name.
    for _ in 0..2 {
        if let Some(stripped) = SUFFIXES.iter().find_map(|suffix| folded.strip_suffix(suffix)).filter(|s| !s.is_empty())
        {
            folded = stripped.to_string();
        }
    }
    folded
}

/// Whether two normalised names (as characters) are near: long enough, and one holds almost
/// all of the other, or they differ by a character (two, for long names).
fn near(a: &[char], b: &[char]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.len() < MIN_NEAR_CHARS || a == b {
        return false;
    }
    let holds = long.windows(short.len()).any(|window| window == short);
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

/// How an observed one found its filing, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match<'f> {
    /// By its identifier on the platform.
    Id(&'f Filing),
    /// By its name as written.
    Name(&'f Filing),
    /// By its name normalised.
    Normalized(&'f Filing),
    /// Only by a near name: perhaps the same, for a person to confirm.
    Possible(&'f Filing),
    None,
}

impl<'f> Match<'f> {
    pub fn filing(self) -> Option<&'f Filing> {
        match self {
            Match::Id(filing) | Match::Name(filing) | Match::Normalized(filing) | Match::Possible(filing) => {
                Some(filing)
            }
            Match::None => None,
        }
    }

    /// 0 for the strongest kind of match.
    pub fn rank(self) -> u8 {
        match self {
            Match::Id(_) => 0,
            Match::Name(_) => 1,
            Match::Normalized(_) => 2,
            Match::Possible(_) => 3,
            Match::None => 4,
        }
    }
}

/// Whether `filing` may be matched by what an agent of `county` observes: its own county's, or
/// one the registry gives no county. Another county's filing is never matched, so that no
/// county's agent can make another's filing look inspected, late or doubled.
fn of_county(filing: &Filing, county: &str) -> bool {
    filing.county.is_empty() || filing.county == county
}

/// The filings indexed for matching (built once per assessment, not a scan per target).
pub struct Index<'f> {
    by_id: HashMap<(String, Channel), Vec<&'f Filing>>,
    by_name: HashMap<(&'f str, Channel), Vec<&'f Filing>>,
    by_normalized: HashMap<(String, Channel), Vec<&'f Filing>>,
    /// Per (channel, county): each filing's normalised name as characters, for near names.
    by_county: HashMap<(Channel, &'f str), Vec<Spelled<'f>>>,
}

/// A filing with its normalised name as characters.
type Spelled<'f> = (Vec<char>, &'f Filing);

impl<'f> Index<'f> {
    pub fn new(filings: &'f [Filing]) -> Index<'f> {
        let mut index = Index {
            by_id: HashMap::new(),
            by_name: HashMap::new(),
            by_normalized: HashMap::new(),
            by_county: HashMap::new(),
        };
        for filing in filings {
            if let Some(id) = &filing.account_id {
                index.by_id.entry((normalized_id(id), filing.channel)).or_default().push(filing);
            }
            index.by_name.entry((filing.name.as_str(), filing.channel)).or_default().push(filing);
            let normalized = normalized_name(&filing.name);
            let chars: Vec<char> = normalized.chars().collect();
            index.by_normalized.entry((normalized, filing.channel)).or_default().push(filing);
            index.by_county.entry((filing.channel, filing.county.as_str())).or_default().push((chars, filing));
        }
        index
    }

    /// The filing of the site or account named `name` on `channel`, with `account_id` when the
    /// agent's configuration gives one, observed by an agent of `county`.
    pub fn find(&self, name: &str, channel: Channel, account_id: Option<&str>, county: &str) -> Match<'f> {
        let first = |found: Option<&Vec<&'f Filing>>| {
            found.and_then(|filings| filings.iter().copied().find(|filing| of_county(filing, county)))
        };
        if let Some(filing) = account_id.and_then(|id| first(self.by_id.get(&(normalized_id(id), channel)))) {
            return Match::Id(filing);
        }
        if let Some(filing) = first(self.by_name.get(&(name, channel))) {
            return Match::Name(filing);
        }
        let normalized = normalized_name(name);
        let chars: Vec<char> = normalized.chars().collect();
        if let Some(filing) = first(self.by_normalized.get(&(normalized, channel))) {
            // A short name left after the suffixes go (龙川发布, 龙川官微 → 龙川) says too little.
            return if chars.len() >= MIN_NEAR_CHARS { Match::Normalized(filing) } else { Match::Possible(filing) };
        }
        // Near names within the county, or among filings the registry gives no county.
        let candidates = [county, ""]
            .into_iter()
            .filter_map(|county| self.by_county.get(&(channel, county)))
            .flat_map(|filings| filings.iter())
            .filter(|(other, _)| other.len().abs_diff(chars.len()) <= other.len().max(chars.len()) / 5 + 2);
        candidates
            .take(MAX_NEAR_CANDIDATES)
            .find(|(other, _)| near(&chars, other))
            .map_or(Match::None, |(_, filing)| Match::Possible(filing))
    }

    /// Whether any filing, of any county, is this account by id, name or normalised name: the
    /// registry is the office's own, so an account it files anywhere (the city's 河源发布 on
    /// a county's portal) is known.
    pub fn filed_anywhere(&self, name: &str, channel: Channel, account_id: Option<&str>) -> bool {
        account_id.is_some_and(|id| self.by_id.contains_key(&(normalized_id(id), channel)))
            || (!name.is_empty()
                && (self.by_name.contains_key(&(name, channel))
                    || self.by_normalized.contains_key(&(normalized_name(name), channel))))
    }
}

#[cfg(test)]
mod tests {
    use xunjian_shared::config::Platform;

    use super::*;
    use crate::registry::FilingStatus;

    #[test]
    fn identifiers_and_names_are_compared_the_way_people_write_them() {
        assert_eq!(normalized_id(" https://www.Douyin.com/user/MS4wLjABAAAA/ "), "douyin.com/user/MS4wLjABAAAA");
        assert_eq!(normalized_id("GH_1A2B3C"), "gh_1a2b3c");
        assert_eq!(normalized_id("ｇｈ＿１ａ"), "gh_1a");
        assert_eq!(normalized_id("@龙川发布"), "龙川发布");
        assert_eq!(normalized_name("龙川县人民政府　（官方）"), "龙川县人民政府");
        assert_eq!(normalized_name("河源市ＷＪＷ公众号"), "河源市wjw");
        assert_eq!(normalized_name("发布"), "发布", "a suffix is never the whole name");
        let near = |a: &str, b: &str| near(&a.chars().collect::<Vec<_>>(), &b.chars().collect::<Vec<_>>());
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
        assert_eq!(index.find("龙川县人民政府官方", wechat, None, "龙川县"), Match::Normalized(&filings[0]));
        assert_eq!(index.find("龙川县人民政府", wechat, None, "和平县"), Match::None, "another county's filing");
        assert_eq!(index.find("龙川政府", wechat, Some("gh_1a2b3c4d5e6f"), "和平县"), Match::None, "by id neither");
        assert_eq!(index.find("河源市社会保险基金管理", wechat, None, "市直"), Match::Possible(&filings[1]));
        assert_eq!(index.find("和平县教育局", Channel::Account(Platform::Weibo), None, "和平县"), Match::None);
        assert_eq!(index.find("和平县教肓局", wechat, None, "龙川县"), Match::None, "another county's");
    }
}
