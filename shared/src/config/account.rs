//! `[[account]]`: a government new-media account (政务新媒体) and where its posts can be read.
//!
//! No platform offers an official public API, so an account is read from one source:
//! ```toml
//! [[account]]
//! name = "河源市生态环境局"
//! platform = "weibo"               # wechat | weibo | douyin | toutiao | app | kuaishou | channels | bilibili | xiaohongshu | baijiahao | other
//! unit = "市生态环境局"
//! feed = "https://rss.example.gov.cn/weibo/123"    # RSS 2.0, Atom or JSON Feed (what RSS bridges publish)
//! # or
//! [account.json]                   # a JSON API
//! url = "https://api.example/…"
//! items = "/data/cards"            # JSON pointer to the array of posts
//! date = "/mblog/created_at"       # pointer inside a post to its date
//! comments = "/mblog/comments_open"   # optional: a flag or a count; false or 0 means closed
//! # or
//! [account.page]                   # an HTML page
//! url = "https://…"
//! item_selector = "div.post"
//! date_selector = "span.time"      # optional: automatic date reading otherwise
//! comments_selector = "a.comment"  # optional: an element present only when comments are open
//! ```

use std::collections::HashSet;

use url::Url;

use super::fields::{
    DefaultValue, Key, Kind, ProbeSettings, Problems, Table, TableSpec, interval_key, read_probe, timeout_key,
    unique_name,
};
use super::thresholds::Thresholds;
use crate::markup::select::SelectorList;

/// A validated `[[account]]`.
#[derive(Clone, Debug)]
pub struct AccountConfig {
    /// The account's name as filed, e.g. 河源市生态环境局; unique among accounts.
    pub name: String,
    pub platform: Platform,
    /// The responsible unit (责任单位).
    pub unit: String,
    /// The account's identifier on its platform (微信号 or 原始 ID, 微博 UID, 抖音号, 头条号, an
    /// app's package, or its URL), what the registry matches it by before its name.
    pub account_id: Option<String>,
    pub source: AccountSource,
    /// Stale after this many days without a post. Default: `thresholds.account_max_age_days`.
    pub max_age_days: u32,
    pub probe: ProbeSettings,
}

#[derive(Clone, Debug)]
pub enum AccountSource {
    Feed {
        url: Url,
    },
    Json {
        url: Url,
        items: String,
        date: String,
        comments: Option<String>,
    },
    Page {
        url: Url,
        item_selector: SelectorList,
        date_selector: Option<SelectorList>,
        comments_selector: Option<SelectorList>,
    },
}

impl AccountSource {
    pub fn url(&self) -> &Url {
        match self {
            AccountSource::Feed { url } | AccountSource::Json { url, .. } | AccountSource::Page { url, .. } => url,
        }
    }
}

crate::closed_set! {
    /// The platform an account is on (with its name as a 通报 writes it).
    pub enum Platform: &'static str {
        Wechat = "wechat" => "微信",
        Weibo = "weibo" => "新浪微博",
        Douyin = "douyin" => "抖音",
        Toutiao = "toutiao" => "今日头条",
        App = "app" => "移动客户端",
        Kuaishou = "kuaishou" => "快手",
        Channels = "channels" => "微信视频号",
        Bilibili = "bilibili" => "哔哩哔哩",
        Xiaohongshu = "xiaohongshu" => "小红书",
        Baijiahao = "baijiahao" => "百家号",
        Other = "other" => "其他",
    }
}

impl Platform {
    /// The platform's name as a 通报 writes it.
    pub fn label_zh(self) -> &'static str {
        self.info()
    }

    /// Reads `wechat`, and the Chinese names a registry spreadsheet uses (微信, 微博, 新浪微博, 抖音, 头条 …).
    pub fn parse(text: &str) -> Result<Platform, String> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        if let Some(platform) = Platform::named(&lower) {
            return Ok(platform);
        }
        let by_name = match text {
            "微信" | "微信公众号" | "微信公众平台" => Some(Platform::Wechat),
            "微博" | "新浪微博" => Some(Platform::Weibo),
            "抖音" | "抖音号" => Some(Platform::Douyin),
            "头条" | "今日头条" | "头条号" => Some(Platform::Toutiao),
            "客户端" | "移动客户端" | "APP" | "App" => Some(Platform::App),
            "快手" | "快手号" => Some(Platform::Kuaishou),
            "视频号" | "微信视频号" => Some(Platform::Channels),
            "哔哩哔哩" | "B站" | "b站" => Some(Platform::Bilibili),
            "小红书" => Some(Platform::Xiaohongshu),
            "百家号" => Some(Platform::Baijiahao),
            "其他" => Some(Platform::Other),
            _ => None,
        };
        by_name.ok_or_else(|| {
            let names: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
            format!("unknown platform {text:?}: expected one of {}", names.join(", "))
        })
    }
}

pub(crate) static ACCOUNT: TableSpec = TableSpec {
    doc: "A government new-media account (政务新媒体), read from one source: `feed`, `[account.json]` or `[account.page]`.",
    keys: &[
        Key::new(
            "name",
            Kind::Name,
            DefaultValue::Required,
            "The account's name as filed, e.g. 河源市生态环境局; unique among accounts.",
        ),
        Key::new(
            "platform",
            Kind::Choice(Platform::NAMES),
            DefaultValue::Required,
            "The platform; the Chinese names a registry uses (微信, 微博, 抖音, 头条 …) are read too.",
        ),
        Key::new("unit", Kind::Name, DefaultValue::Required, "The responsible unit (责任单位)."),
        Key::new(
            "account_id",
            Kind::Name,
            DefaultValue::Otherwise("none: the registry matches the account by its name"),
            "The account's identifier on its platform (微信号 or 原始 ID gh_…, 微博 UID, 抖音号, 头条号, an app's package, or the account's URL), as the registry's 账号ID column writes it; the registry matches by it before the name.",
        ),
        Key::new(
            "max_age_days",
            Kind::Whole { unit: "days", min: 1, max: 3650 },
            DefaultValue::Otherwise("[thresholds] account_max_age_days"),
            "Stale after this many days without a post.",
        ),
        interval_key(DefaultValue::Otherwise("[probe] column_interval")),
        timeout_key(DefaultValue::Otherwise("[probe] timeout")),
        Key::new(
            "feed",
            Kind::Url,
            DefaultValue::Otherwise("none"),
            "An RSS 2.0, Atom or JSON Feed of the account's posts (what RSS bridges publish).",
        ),
        Key::table("json", &JSON_SOURCE, false),
        Key::table("page", &PAGE_SOURCE, false),
    ],
};

static JSON_SOURCE: TableSpec = TableSpec {
    doc: "An account read from a JSON API.",
    keys: &[
        Key::new("url", Kind::Url, DefaultValue::Required, "The API's URL."),
        Key::new("items", Kind::JsonPointer, DefaultValue::Required, "JSON pointer to the array of posts."),
        Key::new("date", Kind::JsonPointer, DefaultValue::Required, "JSON pointer inside a post to its date."),
        Key::new(
            "comments",
            Kind::JsonPointer,
            DefaultValue::Otherwise("not read"),
            "JSON pointer inside a post to a flag or a count; false or 0 means comments are closed.",
        ),
    ],
};

static PAGE_SOURCE: TableSpec = TableSpec {
    doc: "An account read from an HTML page.",
    keys: &[
        Key::new("url", Kind::Url, DefaultValue::Required, "The page's URL."),
        Key::new("item_selector", Kind::Selector, DefaultValue::Required, "CSS selector for each post."),
        Key::new(
            "date_selector",
            Kind::Selector,
            DefaultValue::Otherwise("automatic reading"),
            "CSS selector for the date inside each post.",
        ),
        Key::new(
            "comments_selector",
            Kind::Selector,
            DefaultValue::Otherwise("not read"),
            "CSS selector for an element present only when comments are open.",
        ),
    ],
};

pub(crate) fn read_account(
    mut table: Table<'_>,
    inherited: ProbeSettings,
    thresholds: &Thresholds,
    seen: &mut HashSet<String>,
    problems: &mut Problems,
) -> Option<AccountConfig> {
    let name = unique_name(&mut table, seen, problems, |name| {
        format!("another [[account]] is already named {name:?}; account names must be unique")
    });
    let platform = table.string("platform", problems).and_then(|(text, origin)| {
        Platform::parse(&text).map_err(|message| problems.push(&origin, &table.key_path("platform"), message)).ok()
    });
    let unit = table.name("unit", problems);
    let account_id =
        table.name("account_id", problems).map(|(id, _)| id.trim().to_string()).filter(|id| !id.is_empty());
    let max_age_days = table.whole_number("max_age_days", problems);
    let probe = read_probe(&mut table, inherited, problems);

    let feed_written = table.present("feed");
    let feed = table.url("feed", problems);
    let json = table.table("json", problems).map(|mut json| {
        let url = json.url("url", problems);
        let items = json.pointer("items", problems);
        let date = json.pointer("date", problems);
        let comments = json.pointer("comments", problems);
        json.finish(problems);
        Some(AccountSource::Json { url: url?, items: items?, date: date?, comments })
    });
    let page = table.table("page", problems).map(|mut page| {
        let url = page.url("url", problems);
        let item_selector = page.selector("item_selector", problems);
        let date_selector = page.selector("date_selector", problems);
        let comments_selector = page.selector("comments_selector", problems);
        page.finish(problems);
        Some(AccountSource::Page { url: url?, item_selector: item_selector?, date_selector, comments_selector })
    });
    let origin = table.origin.clone();
    let path = table.path.clone();
    table.finish(problems);
    // Count sources as written, valid or not, so a broken [account.json] is not also "no source".
    let written = usize::from(feed_written) + usize::from(json.is_some()) + usize::from(page.is_some());
    let source = match written {
        0 => {
            problems.push(&origin, &path, "no source: give feed = \"…\", or an [account.json] or [account.page] table");
            None
        }
        1 => feed.map(|url| AccountSource::Feed { url }).or(json.flatten()).or(page.flatten()),
        _ => {
            problems.push(&origin, &path, "more than one source: keep one of feed, [account.json], [account.page]");
            None
        }
    };
    Some(AccountConfig {
        name: name?.0.trim().to_string(),
        platform: platform?,
        unit: unit?.0.trim().to_string(),
        account_id,
        source: source?,
        max_age_days: max_age_days.map(|d| d as u32).unwrap_or(thresholds.account_max_age_days),
        probe,
    })
}
