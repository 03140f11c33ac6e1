//! Government new-media accounts a site points to: links to Weibo, Douyin and Toutiao profiles
//! and WeChat official-account pages, QR-code images named for an account, and the lines of a
//! footer or a 政务新媒体 matrix page that name one ("微信公众号：龙川发布", "抖音号：lcfb").
//! The collector reports each that matches no filing and no configured account, so that an
//! account nobody filed is found without anyone listing it first. Pure: a parsed page in.
//!
//! Only what names an account is taken: a link to a WeChat article is the article, not the
//! account, unless its text says it is the account; a footer's "扫码关注微信公众号" names none.

use std::cell::LazyCell;

use url::Url;
use xunjian_shared::config::Platform;

use super::html::Document;

/// Accounts taken per page, at most.
const MAX_REFS: usize = 20;
/// Bytes of a text node read for lines naming accounts, at most.
const MAX_LINE_BYTES: usize = 2048;
/// Characters of an account's name, at most (longer text is a sentence, not a name).
const MAX_NAME_CHARS: usize = 30;

/// An account a page points to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRef {
    pub platform: Platform,
    /// Its name as the page writes it (may be empty when only its id is known).
    pub name: String,
    /// Its identifier on the platform, when the link or the text gives one (微博 UID, 抖音号 …).
    pub id: Option<String>,
}

/// Words that name a platform in text, and the platform; a word holding another comes first
/// (微信视频号 is not 微信).
const PLATFORM_WORDS: &[(&str, Platform)] = &[
    ("微信视频号", Platform::Channels),
    ("视频号", Platform::Channels),
    ("快手号", Platform::Kuaishou),
    ("快手", Platform::Kuaishou),
    ("哔哩哔哩", Platform::Bilibili),
    ("B站", Platform::Bilibili),
    ("小红书", Platform::Xiaohongshu),
    ("百家号", Platform::Baijiahao),
    ("微信号", Platform::Wechat),
    ("微信公众号", Platform::Wechat),
    ("公众号", Platform::Wechat),
    ("官方微信", Platform::Wechat),
    ("微信", Platform::Wechat),
    ("官方微博", Platform::Weibo),
    ("新浪微博", Platform::Weibo),
    ("微博", Platform::Weibo),
    ("抖音号", Platform::Douyin),
    ("官方抖音", Platform::Douyin),
    ("抖音", Platform::Douyin),
    ("头条号", Platform::Toutiao),
    ("今日头条", Platform::Toutiao),
];
/// Labels after which a line names an account's id rather than its name.
const ID_LABELS: &[&str] = &["微信号", "抖音号", "头条号", "快手号"];
/// Words set aside from a name taken from a link's text or an image's description.
const NOISE: &[&str] = &[
    "二维码",
    "扫一扫",
    "扫码",
    "关注",
    "官方",
    "微信视频号",
    "视频号",
    "快手号",
    "快手",
    "哔哩哔哩",
    "小红书",
    "百家号",
    "微信公众号",
    "公众号",
    "微信",
    "新浪微博",
    "微博",
    "抖音号",
    "抖音",
    "头条号",
    "今日头条",
    "账号",
    "@",
];

/// The accounts `document` (at `page_url`) points to, each once, at most [`MAX_REFS`].
pub fn account_refs(document: &Document, page_url: &Url) -> Vec<AccountRef> {
    let mut found: Vec<AccountRef> = Vec::new();
    let add = |found: &mut Vec<AccountRef>, found_ref: AccountRef| {
        let known = found.iter().any(|other| {
            other.platform == found_ref.platform
                && ((found_ref.id.is_some() && other.id == found_ref.id)
                    || (!found_ref.name.is_empty() && other.name == found_ref.name))
        });
        if !known && found.len() < MAX_REFS && (found_ref.id.is_some() || !found_ref.name.is_empty()) {
            found.push(found_ref);
        }
    };
    for node in 0..document.len() {
        let Some(element) = document.element(node) else { continue };
        match element.name.as_str() {
            "a" => {
                // Profiles are on the platforms' hosts: a plain relative link stays on this site
                // (most of a page's links; resolving and labelling each would cost the most).
                // `https:weibo.com/…`, backslashes and split slashes leave it too.
                let leaves = |href: &&str| href.contains("//") || href.contains([':', '\\', '\t', '\n', '\r']);
                let Some(href) = element.attr("href").filter(leaves) else { continue };
                let Some(url) = super::links::resolve(page_url, href) else { continue };
                let label = || {
                    let text = super::page_text::short_text(document, node);
                    if !text.trim().is_empty() {
                        return text;
                    }
                    // A link around a QR code or an icon says its name in the image's description.
                    document
                        .descendants(node)
                        .take(16)
                        .filter_map(|child| document.element(child))
                        .find_map(|child| child.attr("alt").or(child.attr("title")).filter(|t| !t.trim().is_empty()))
                        .or(element.attr("title"))
                        .unwrap_or("")
                        .to_string()
                };
                if let Some(found_ref) = linked_account(&url, label) {
                    add(&mut found, found_ref);
                }
            }
            "img" => {
                let described = element.attr("alt").or(element.attr("title")).unwrap_or("");
                if described.contains("二维码")
                    && let Some(platform) = platform_named(described)
                {
                    add(&mut found, AccountRef { platform, name: clean_name(described), id: None });
                }
            }
            _ => {}
        }
    }
    // Lines that name an account are short (a footer's, a matrix page's); a text node of
    // kilobytes is prose, or a hostile page's endless line.
    let mut named = Vec::new();
    document.visible_text_nodes(0, |text| {
        if text.len() <= MAX_LINE_BYTES && named.len() < MAX_REFS * 2 {
            named.extend(named_in_text(text));
        }
    });
    for found_ref in named {
        add(&mut found, found_ref);
    }
    found
}

/// The account a link leads to, named by its `label` (read only for a platform's link); None
/// for anything else.
fn linked_account(url: &Url, label: impl FnOnce() -> String) -> Option<AccountRef> {
    let host = url.host_str()?.trim_start_matches("www.").to_ascii_lowercase();
    let segments: Vec<&str> = url.path_segments().map(|s| s.filter(|s| !s.is_empty()).collect()).unwrap_or_default();
    let label = LazyCell::new(label);
    let name = LazyCell::new(|| clean_name(&label));
    let numeric = |s: &&str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    match host.as_str() {
        "weibo.com" | "m.weibo.cn" | "weibo.cn" => {
            let id = match segments.as_slice() {
                ["u" | "profile", uid] if numeric(uid) => Some(uid.to_string()),
                [uid] if numeric(uid) => Some(uid.to_string()),
                // A custom address (weibo.com/lcfb); not the platform's own pages.
                [domain]
                    if domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        && !["login", "signup", "search", "hot", "p", "n", "ttarticle", "tv", "status"]
                            .contains(domain) =>
                {
                    Some(domain.to_ascii_lowercase())
                }
                _ => None,
            };
            id.map(|id| AccountRef { platform: Platform::Weibo, name: name.clone(), id: Some(id) })
        }
        "mp.weixin.qq.com" => {
            // An account's home page, or a link whose text says it is the account.
            let profile = url.path().starts_with("/mp/profile_ext");
            let says_account = platform_named(&label) == Some(Platform::Wechat);
            // The link's __biz is WeChat's internal key, not the 微信号 a registry files.
            (profile || says_account).then_some(AccountRef { platform: Platform::Wechat, name: name.clone(), id: None })
        }
        "douyin.com" | "iesdouyin.com" => match segments.as_slice() {
            ["user", id] | ["share", "user", id] => {
                Some(AccountRef { platform: Platform::Douyin, name: name.clone(), id: Some(id.to_string()) })
            }
            _ => None,
        },
        "toutiao.com" | "m.toutiao.com" => match segments.as_slice() {
            ["c", "user", "token", id] | ["c", "user", id] => {
                Some(AccountRef { platform: Platform::Toutiao, name: name.clone(), id: Some(id.to_string()) })
            }
            _ => None,
        },
        "kuaishou.com" | "v.kuaishou.com" => match segments.as_slice() {
            ["profile", id] => {
                Some(AccountRef { platform: Platform::Kuaishou, name: name.clone(), id: Some(id.to_string()) })
            }
            _ => None,
        },
        "space.bilibili.com" => match segments.as_slice() {
            [uid, ..] if numeric(uid) => {
                Some(AccountRef { platform: Platform::Bilibili, name: name.clone(), id: Some(uid.to_string()) })
            }
            _ => None,
        },
        "xiaohongshu.com" => match segments.as_slice() {
            ["user", "profile", id] => {
                Some(AccountRef { platform: Platform::Xiaohongshu, name: name.clone(), id: Some(id.to_string()) })
            }
            _ => None,
        },
        _ => None,
    }
}

/// Accounts a line of text names: "微信公众号：龙川发布", "官方微博：@龙川发布", "抖音号：lcfb123".
fn named_in_text(line: &str) -> Vec<AccountRef> {
    let mut found = Vec::new();
    for separator in ['：', ':'] {
        for (at, _) in line.match_indices(separator) {
            let label = line[..at].trim_end();
            let Some((word, platform)) = PLATFORM_WORDS.iter().find(|(word, _)| label.ends_with(word)) else {
                continue;
            };
            let rest = line[at + separator.len_utf8()..].trim_start().trim_start_matches('@');
            let value: String = rest
                .chars()
                .take_while(|c| {
                    !c.is_whitespace() && !matches!(c, '，' | '。' | '；' | ',' | ';' | '|' | '（' | '(' | '、')
                })
                .collect();
            let chars = value.chars().count();
            if !(2..=MAX_NAME_CHARS).contains(&chars) {
                continue;
            }
            let by_id = ID_LABELS.contains(word);
            found.push(AccountRef {
                platform: *platform,
                name: if by_id { String::new() } else { value.clone() },
                id: by_id.then_some(value),
            });
        }
    }
    found
}

/// The platform a piece of text names, if any.
fn platform_named(text: &str) -> Option<Platform> {
    PLATFORM_WORDS.iter().find(|(word, _)| text.contains(word)).map(|(_, platform)| *platform)
}

/// A name from a link's text or an image's description: platform words, 二维码, 关注 and
/// punctuation set aside; empty when nothing that looks like a name is left.
fn clean_name(text: &str) -> String {
    let mut name = text.to_string();
    for noise in NOISE {
        name = name.replace(noise, "");
    }
    let name: String = name.chars().filter(|c| c.is_alphanumeric()).collect();
    let chars = name.chars().count();
    if (2..=MAX_NAME_CHARS).contains(&chars) { name } else { String::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(html: &str) -> Vec<(Platform, String, Option<String>)> {
        let page = Url::parse("http://www.longchuan.gov.cn/").unwrap();
        account_refs(&Document::parse(html), &page).into_iter().map(|r| (r.platform, r.name, r.id)).collect()
    }

    #[test]
    fn links_qr_codes_and_footer_lines_name_accounts() {
        let html = r#"<div class="footer">
            <a href="https://weibo.com/u/5988123456" title="龙川发布官方微博"><img src="wb.png"></a>
            <a href="https://m.weibo.cn/profile/6012345678">@龙川公安</a>
            <a href="https://www.douyin.com/user/MS4wLjABAAAA9x"><img alt="龙川融媒抖音号" src="dy.png"></a>
            <a href="https://www.toutiao.com/c/user/token/MS4wLjABAAAAtt/">龙川头条号</a>
            <a href="https://mp.weixin.qq.com/mp/profile_ext?action=home&__biz=MzA5NjE2&scene=124">龙川发布</a>
            <img src="qr.jpg" alt="龙川县文明办微信公众号二维码">
            <p>官方微信：龙川发布　抖音号：lcrm2020　微信号：longchuanfabu</p>
            <img src="sph.png" alt="龙川发布微信视频号二维码">
            <a href="https://www.kuaishou.com/profile/3xk9lc2">龙川快手</a>
            <a href="https://space.bilibili.com/4051234/video">龙川融媒</a>
            <p>小红书：龙川文旅</p>
            <p>扫码关注微信公众号</p>
            <a href="https:weibo.com/u/5988000001">龙川文旅</a><a href="\\weibo.com\u\5988000002">龙川教育</a></div>"#;
        assert_eq!(
            refs(html),
            [
                (Platform::Weibo, "龙川发布".into(), Some("5988123456".into())),
                (Platform::Weibo, "龙川公安".into(), Some("6012345678".into())),
                (Platform::Douyin, "龙川融媒".into(), Some("MS4wLjABAAAA9x".into())),
                (Platform::Toutiao, "龙川".into(), Some("MS4wLjABAAAAtt".into())),
                (Platform::Wechat, "龙川发布".into(), None),
                (Platform::Wechat, "龙川县文明办".into(), None),
                (Platform::Channels, "龙川发布".into(), None),
                (Platform::Kuaishou, "龙川".into(), Some("3xk9lc2".into())),
                (Platform::Bilibili, "龙川融媒".into(), Some("4051234".into())),
                (Platform::Weibo, "龙川文旅".into(), Some("5988000001".into())),
                (Platform::Weibo, "龙川教育".into(), Some("5988000002".into())),
                (Platform::Douyin, String::new(), Some("lcrm2020".into())),
                (Platform::Wechat, String::new(), Some("longchuanfabu".into())),
                (Platform::Xiaohongshu, "龙川文旅".into(), None),
            ]
        );
    }

    #[test]
    fn articles_share_buttons_and_sentences_are_not_accounts() {
        let html = r#"<ul><li><a href="https://mp.weixin.qq.com/s/Abc123">县政府召开常务会议</a></li>
            <li><a href="https://weibo.com/ttarticle/p/show?id=2309">转发微博</a></li>
            <li><a href="https://service.weibo.com/share/share.php?url=x">分享到微博</a></li></ul>
            <p>请关注微信公众号：</p><p>微信：</p>"#;
        assert_eq!(refs(html), []);
    }
}
