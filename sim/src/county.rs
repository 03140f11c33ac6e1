//! Made-up counties whose pages move with the clock, for the demo and end-to-end tests.
//!
//! Each part says what a correct inspection must find (its truth), so tests compare what the
//! collector shows with what the simulator serves. Every link the pages carry leads to a page
//! the simulator serves, except the ones a site is meant to have broken.
//!
//! The province reproduces the seed notice's annex (河源市 2019年第二季度通报): the city social
//! insurance bureau's WeChat account that was never filed, the 龙川县公共服务中心 WeChat account
//! filed as closed but still live, and the city ecology bureau's Weibo with its interaction
//! closed; plus a message board answered late across the National Day holiday.

use jiff::ToSpan;
use jiff::civil::Date;

use crate::{Route, Sim};

/// What a simulated list page is like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageState {
    /// Dated items, the newest `age_days` old.
    Fresh { age_days: i64, items: usize },
    /// The same, but old enough to be stale for a news column.
    Stale { age_days: i64, items: usize },
    /// "暂无信息".
    Blank,
}

#[derive(Clone, Debug)]
pub struct SimColumn {
    pub name: &'static str,
    pub kind: &'static str,
    pub path: String,
    /// For documents and guides, what the list of them is like (newest, how many).
    pub state: PageState,
    /// The documents the list shows (policy and interpretation columns); empty: made-up news.
    pub documents: Vec<SimDocument>,
    /// The service guides a guide list links to (kind `guide`).
    pub guides: Vec<SimGuide>,
    /// For a policy column: the name of the site's interpretation column.
    pub interpretations: Option<&'static str>,
}

/// A document of a list, published `age_days` before the day of the run.
#[derive(Clone, Debug)]
pub struct SimDocument {
    pub title: &'static str,
    pub age_days: i64,
}

/// A service guide page (办事指南) and the indicator's elements it leaves without content.
#[derive(Clone, Debug)]
pub struct SimGuide {
    pub title: &'static str,
    pub missing: &'static [&'static str],
}

/// The indicator's guide elements, in its order.
pub const GUIDE_ELEMENTS: [&str; 10] = [
    "事项名称",
    "设定依据",
    "申请条件",
    "办理材料",
    "办理地点",
    "办理机构",
    "收费标准",
    "办理时间",
    "联系电话",
    "办理流程",
];

/// A published message of a board.
#[derive(Clone, Debug)]
pub struct SimMessage {
    pub title: &'static str,
    pub posted: Date,
    pub replied: Option<Date>,
    pub unit: Option<&'static str>,
    pub content: Option<&'static str>,
    /// The category the board files it under (咨询, 投诉 …), shown in a 类型 column.
    pub category: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoardLayout {
    /// A table with a header row.
    Table,
    /// Labelled blocks.
    Blocks,
}

#[derive(Clone, Debug)]
pub struct SimChannel {
    pub name: &'static str,
    pub path: String,
    pub layout: BoardLayout,
    pub messages: Vec<SimMessage>,
    /// Categories whose messages are simple questions (the channel's `simple_keywords`).
    pub simple_keywords: Vec<&'static str>,
}

#[derive(Clone, Debug)]
pub struct SimSite {
    pub name: &'static str,
    pub unit: &'static str,
    /// Home page path; None for a site that is down (its URL refuses connections).
    pub home_path: Option<String>,
    pub home: PageState,
    pub gbk: bool,
    pub columns: Vec<SimColumn>,
    pub channels: Vec<SimChannel>,
    /// Links the home page carries that lead nowhere (404).
    pub broken_links: Vec<&'static str>,
    /// Down (503) and up in turn, each for this long: a flapping site.
    pub flapping: Option<std::time::Duration>,
    /// What a hijacker did to its home page, if anything.
    pub hijack: Option<Hijack>,
    /// New-media accounts its home page names in a 政务新媒体 block: (how it names the
    /// platform, the account's name).
    pub new_media: Vec<(&'static str, &'static str)>,
}

/// What a hijacker did to a home page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hijack {
    /// Gambling links hidden off screen (暗链), to sites that no longer answer.
    HiddenLinks,
    /// A gambling title, keywords and text served to search engines' crawlers only (cloaking).
    ForCrawlers,
}

/// Where an account's posts are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimSource {
    /// RSS 2.0, as an RSS bridge publishes a WeChat account.
    Feed,
    /// A Weibo-like JSON API; `comments_open` is the newest post's flag.
    Json { comments_open: bool },
}

#[derive(Clone, Debug)]
pub struct SimAccount {
    pub name: &'static str,
    /// As configuration writes it: wechat, weibo …
    pub platform: &'static str,
    pub unit: &'static str,
    /// Its id on the platform, when its configuration names it (matched before the name).
    pub account_id: Option<&'static str>,
    pub path: String,
    pub source: SimSource,
    /// Posts, the newest `newest_age_days` old.
    pub newest_age_days: i64,
    pub posts: usize,
}

#[derive(Clone, Debug)]
pub struct SimCounty {
    pub agent: &'static str,
    pub county: &'static str,
    pub sites: Vec<SimSite>,
    pub accounts: Vec<SimAccount>,
}

/// One entry of the central office's registry of filed sites and accounts (备案).
#[derive(Clone, Debug)]
pub struct SimFiling {
    pub name: &'static str,
    /// 网站 for a site, else the platform's Chinese name.
    pub platform: &'static str,
    pub unit: &'static str,
    pub county: &'static str,
    pub filed_on: Date,
    /// 运行, 关停中 or 已关停.
    pub status: &'static str,
    /// 县级政府, 县级部门, 乡镇街道, 市直部门, 公安 or 其他.
    pub unit_type: &'static str,
    /// 账号ID: the account's id on its platform, when the office wrote it down.
    pub account_id: Option<&'static str>,
    /// 开设日期, when known.
    pub opened_on: Option<Date>,
}

fn column(name: &'static str, kind: &'static str, prefix: &str, dir: &str, state: PageState) -> SimColumn {
    SimColumn {
        name,
        kind,
        path: format!("/{prefix}/{dir}/index.html"),
        state,
        documents: Vec::new(),
        guides: Vec::new(),
        interpretations: None,
    }
}

/// A column listing `documents`, newest first.
fn documents(
    name: &'static str,
    kind: &'static str,
    prefix: &str,
    dir: &str,
    documents: Vec<SimDocument>,
) -> SimColumn {
    let newest = documents.iter().map(|d| d.age_days).min().unwrap_or(0);
    let state = PageState::Fresh { age_days: newest, items: documents.len() };
    SimColumn { documents, ..column(name, kind, prefix, dir, state) }
}

fn document(title: &'static str, age_days: i64) -> SimDocument {
    SimDocument { title, age_days }
}

fn site(name: &'static str, unit: &'static str, prefix: &str, home: PageState, columns: Vec<SimColumn>) -> SimSite {
    SimSite {
        name,
        unit,
        home_path: Some(format!("/{prefix}/")),
        home,
        gbk: false,
        columns,
        channels: Vec::new(),
        broken_links: Vec::new(),
        flapping: None,
        hijack: None,
        new_media: Vec::new(),
    }
}

/// A site that is down and up in turn every `period` (the demo's flapping site: its problem
/// opens, closes and reopens in the ledger while you watch), with a board so that it has a
/// consultation channel.
pub fn flapping_site(period: std::time::Duration) -> SimSite {
    let mut site = site(
        "紫金县文化馆",
        "紫金县文化广电旅游体育局",
        "zjwhg",
        PageState::Fresh { age_days: 1, items: 6 },
        Vec::new(),
    );
    site.flapping = Some(period);
    site.channels.push(SimChannel {
        name: "馆长信箱",
        path: "/zjwhg/hdjl/gzxx/".into(),
        layout: BoardLayout::Table,
        simple_keywords: Vec::new(),
        messages: vec![message(
            "周末开放时间咨询",
            Date::constant(2026, 11, 2),
            Some(Date::constant(2026, 11, 3)),
            Some("县文化馆"),
            Some("周末正常开放。"),
        )],
    });
    site
}

/// The flapping site's filing.
pub fn flapping_filing() -> SimFiling {
    SimFiling {
        name: "紫金县文化馆",
        platform: "网站",
        unit: "紫金县文化广电旅游体育局",
        county: "紫金县",
        filed_on: Date::constant(2018, 6, 1),
        status: "运行",
        unit_type: "县级部门",
        account_id: None,
        opened_on: None,
    }
}

fn message(
    title: &'static str,
    posted: Date,
    replied: Option<Date>,
    unit: Option<&'static str>,
    content: Option<&'static str>,
) -> SimMessage {
    SimMessage { title, posted, replied, unit, content, category: None }
}

fn account(
    name: &'static str,
    platform: &'static str,
    unit: &'static str,
    slug: &str,
    source: SimSource,
    newest_age_days: i64,
) -> SimAccount {
    SimAccount {
        name,
        platform,
        unit,
        account_id: None,
        path: format!("/media/{slug}"),
        source,
        newest_age_days,
        posts: 8,
    }
}

/// Four parts of a city: three counties and the city's own units (市直).
/// `today` anchors the messages that must be recent or old relative to the day of the run.
pub fn province(today: Date) -> Vec<SimCounty> {
    let days_ago = |days: i64| today.checked_sub(days.days()).unwrap_or(today);
    let d = |y: i16, m: i8, day: i8| Date::constant(y, m, day);
    let mut longchuan = site(
        "龙川县人民政府门户网站",
        "龙川县人民政府办公室",
        "lc",
        PageState::Fresh { age_days: 0, items: 12 },
        vec![
            column("工作动态", "news", "lc", "gzdt", PageState::Fresh { age_days: 1, items: 15 }),
            column("通知公告", "notice", "lc", "tzgg", PageState::Fresh { age_days: 9, items: 10 }),
            SimColumn {
                interpretations: Some("政策解读"),
                ..documents(
                    "政策文件",
                    "policy",
                    "lc",
                    "zcwj",
                    vec![
                        document("关于王建华等同志职务任免的通知", 12),
                        // Interpreted the next day.
                        document("龙川县人民政府办公室关于印发《龙川县促进民营经济高质量发展若干措施》的通知", 20),
                        // Never interpreted.
                        document("龙川县城区道路挖掘管理办法", 30),
                        // Interpreted three weeks later.
                        document("龙川县人民政府关于印发龙川县冬春森林防火工作方案的通知", 45),
                    ],
                )
            },
            documents(
                "政策解读",
                "interpretation",
                "lc",
                "zcjd",
                vec![
                    document("《龙川县促进民营经济高质量发展若干措施》政策解读", 19),
                    document("图解：龙川县冬春森林防火工作方案", 24),
                    document("《河源市促进消费若干措施》解读", 70),
                ],
            ),
            SimColumn {
                guides: vec![
                    SimGuide { title: "最低生活保障审批", missing: &[] },
                    SimGuide {
                        title: "城乡居民基本养老保险参保登记", missing: &["办理时间", "联系电话"]
                    },
                    SimGuide { title: "机动车驾驶证补证", missing: &[] },
                    SimGuide {
                        title: "个体工商户设立登记",
                        missing: &["设定依据", "申请条件", "收费标准", "办理流程"],
                    },
                    SimGuide { title: "公共场所卫生许可", missing: &[] },
                ],
                ..column("办事指南", "guide", "lc", "bszn", PageState::Fresh { age_days: 40, items: 5 })
            },
        ],
    );
    // The 政务新媒体 block: the city's filed account, and the county's 融媒体中心 account that
    // nobody filed and no agent lists (found from the link: account_discovered).
    longchuan.new_media = vec![("微信公众号", "河源发布"), ("微信公众号", "龙川融媒")];
    // The board files each message under a category; 咨询 are simple questions (1 working day).
    let filed = |category: &'static str, message: SimMessage| SimMessage { category: Some(category), ..message };
    longchuan.channels.push(SimChannel {
        name: "县长信箱",
        path: "/lc/hdjl/xzxx/".into(),
        layout: BoardLayout::Table,
        simple_keywords: vec!["咨询"],
        messages: vec![
            // Posted the day before National Day 2026, answered after it: 2 working days, on time
            // (7 weekdays: counting weekdays would call it late).
            filed(
                "求助",
                message(
                    "国庆期间公交运营时间咨询",
                    d(2026, 9, 30),
                    Some(d(2026, 10, 9)),
                    Some("县交通运输局"),
                    Some("节日期间公交正常运营。"),
                ),
            ),
            // Posted the Monday before: 8 working days across the holiday, late.
            filed(
                "建议",
                message(
                    "老旧小区加装电梯补贴政策",
                    d(2026, 9, 21),
                    Some(d(2026, 10, 9)),
                    Some("县住房和城乡建设局"),
                    Some("补贴标准详见附件。"),
                ),
            ),
            filed(
                "投诉",
                message(
                    "城区停车收费标准",
                    d(2026, 11, 2),
                    Some(d(2026, 11, 4)),
                    Some("县发展和改革局"),
                    Some("按物价部门核定标准执行。"),
                ),
            ),
            // A simple question answered the next working day: in time.
            filed(
                "咨询",
                message(
                    "政务服务大厅周末是否开放",
                    d(2026, 11, 16),
                    Some(d(2026, 11, 17)),
                    Some("县政务服务数据管理局"),
                    Some("周六上午开放。"),
                ),
            ),
            filed("咨询", message("学区划分咨询", days_ago(1), None, None, None)),
        ],
    });
    let mut education = site(
        "龙川县教育局",
        "龙川县教育局",
        "lcjy",
        PageState::Fresh { age_days: 3, items: 8 },
        vec![column("教育动态", "news", "lcjy", "jydt", PageState::Stale { age_days: 41, items: 10 })],
    );
    education.broken_links.push("下载中心");
    // Shows Baiduspider a gambling page (cloaking).
    education.hijack = Some(Hijack::ForCrawlers);
    education.channels.push(SimChannel {
        name: "局长信箱",
        path: "/lcjy/hdjl/jzxx/".into(),
        layout: BoardLayout::Table,
        simple_keywords: Vec::new(),
        messages: vec![message(
            "秋季学期校车路线咨询",
            days_ago(12),
            Some(days_ago(11)),
            Some("县教育局"),
            Some("已增设校车站点。"),
        )],
    });
    let mut heping = site(
        "和平县人民政府网",
        "和平县人民政府办公室",
        "hp",
        PageState::Fresh { age_days: 2, items: 10 },
        vec![
            column("政务动态", "news", "hp", "zwdt", PageState::Fresh { age_days: 2, items: 12 }),
            column("人事信息", "planning", "hp", "rsxx", PageState::Blank),
        ],
    );
    heping.gbk = true;
    heping.channels.push(SimChannel {
        name: "留言板",
        path: "/hp/hdjl/lyb/".into(),
        layout: BoardLayout::Blocks,
        simple_keywords: Vec::new(),
        messages: vec![
            message(
                "乡村道路路灯维修",
                d(2026, 11, 9),
                Some(d(2026, 11, 12)),
                Some("县交通运输局"),
                Some("已安排维修。"),
            ),
            message(
                "医保异地备案咨询",
                d(2026, 11, 16),
                Some(d(2026, 11, 17)),
                Some("县医疗保障局"),
                Some("可通过国家医保服务平台办理。"),
            ),
        ],
    });
    let mut zijin = site(
        "紫金县人民政府网",
        "紫金县人民政府办公室",
        "zj",
        PageState::Fresh { age_days: 1, items: 9 },
        vec![
            column("紫金要闻", "news", "zj", "zjyw", PageState::Fresh { age_days: 4, items: 10 }),
            column("政府文件", "policy", "zj", "zfwj", PageState::Fresh { age_days: 60, items: 6 }),
        ],
    );
    // Carries gambling links hidden off screen (暗链).
    zijin.hijack = Some(Hijack::HiddenLinks);
    zijin.channels.push(SimChannel {
        name: "咨询投诉",
        path: "/zj/hdjl/zxts/".into(),
        layout: BoardLayout::Blocks,
        simple_keywords: Vec::new(),
        messages: vec![
            // Unanswered for more than three months: veto.
            message("农村宅基地审批进度", days_ago(100), None, None, None),
            // Answered, but the unit is not shown.
            message("新能源汽车充电桩建设", days_ago(20), Some(days_ago(18)), None, Some("已纳入年度建设计划。")),
        ],
    });
    vec![
        SimCounty {
            agent: "longchuan",
            county: "龙川县",
            sites: vec![longchuan, education],
            accounts: vec![
                account("龙川县公共服务中心", "wechat", "龙川县人民政府办公室", "lc-ggfw.xml", SimSource::Feed, 2),
                account("龙川发布", "wechat", "龙川县人民政府办公室", "lc-fb.xml", SimSource::Feed, 0),
                // A county department's own account: to be merged (unit_type_not_allowed).
                account("龙川教育", "wechat", "龙川县教育局", "lc-jy.xml", SimSource::Feed, 3),
                // 公安 may keep its own; filed under its full name, found by its id.
                SimAccount {
                    account_id: Some("gh_5f3a9c1e2b7d"),
                    ..account("龙川公安", "wechat", "龙川县公安局", "lc-ga.xml", SimSource::Feed, 1)
                },
            ],
        },
        SimCounty {
            agent: "heping",
            county: "和平县",
            sites: vec![
                heping,
                SimSite {
                    home_path: None,
                    ..site("和平县水务局", "和平县水务局", "hpsw", PageState::Blank, Vec::new())
                },
            ],
            accounts: vec![
                account("和平发布", "weibo", "和平县人民政府办公室", "hp-weibo.xml", SimSource::Feed, 20),
                // A second Weibo of the same office (duplicate_account).
                account("和平县人民政府", "weibo", "和平县人民政府办公室", "hp-zf.xml", SimSource::Feed, 2),
                // On a platform outside the mainstream list (platform_not_mainstream).
                account("和平视窗", "kuaishou", "和平县人民政府办公室", "hp-ks.xml", SimSource::Feed, 4),
            ],
        },
        SimCounty {
            agent: "zijin",
            county: "紫金县",
            sites: vec![zijin],
            accounts: vec![
                // Opened a month ago, filed ten days later (filed_late).
                account("紫金发布", "wechat", "紫金县人民政府办公室", "zj-fb.xml", SimSource::Feed, 1),
                // Filed as 紫金县融媒体: a near name, for a person to confirm (possibly_filed).
                account("紫金县融媒", "douyin", "紫金县融媒体中心", "zj-rm.xml", SimSource::Feed, 2),
            ],
        },
        SimCounty {
            agent: "shizhi",
            county: "市直",
            sites: Vec::new(),
            accounts: vec![
                account("河源市社会保险基金管理局", "wechat", "市社保局", "hy-sbj.xml", SimSource::Feed, 1),
                account(
                    "河源市生态环境局",
                    "weibo",
                    "市生态环境局",
                    "hy-sthjj.json",
                    SimSource::Json { comments_open: false },
                    1,
                ),
                account("河源发布", "wechat", "河源市人民政府办公室", "hy-fb.xml", SimSource::Feed, 0),
                // Opened this week: days left to file (filing_pending), not yet 漏报.
                account("河源应急", "wechat", "市应急管理局", "hy-yj.xml", SimSource::Feed, 1),
            ],
        },
    ]
}

/// The account that is new this week: the demo's history has not seen it before, so it still
/// has days to file (filing_pending).
pub const NEW_ACCOUNT: &str = "河源应急";

/// The registry the central office keeps, as of `today`: what is filed, the annex's three
/// cases (the social insurance bureau's account is missing; 龙川县公共服务中心 is filed as
/// closed), and one case of each of the notice's rules (see `province`).
pub fn registry(today: Date) -> Vec<SimFiling> {
    let days_ago = |days: i64| today.checked_sub(days.days()).unwrap_or(today);
    let d = |y: i16, m: i8, day: i8| Date::constant(y, m, day);
    let filing = |name, platform, unit, county, filed_on, unit_type| SimFiling {
        name,
        platform,
        unit,
        county,
        filed_on,
        status: "运行",
        unit_type,
        account_id: None,
        opened_on: None,
    };
    vec![
        filing("龙川县人民政府门户网站", "网站", "龙川县人民政府办公室", "龙川县", d(2015, 6, 1), "县级政府"),
        filing("龙川县教育局", "网站", "龙川县教育局", "龙川县", d(2016, 3, 15), "县级部门"),
        filing("和平县人民政府网", "网站", "和平县人民政府办公室", "和平县", d(2015, 7, 20), "县级政府"),
        filing("和平县水务局", "网站", "和平县水务局", "和平县", d(2017, 9, 1), "县级部门"),
        filing("紫金县人民政府网", "网站", "紫金县人民政府办公室", "紫金县", d(2015, 5, 10), "县级政府"),
        SimFiling {
            status: "已关停",
            ..filing("龙川县公共服务中心", "微信", "龙川县人民政府办公室", "龙川县", d(2017, 4, 18), "县级政府")
        },
        filing("龙川发布", "微信", "龙川县人民政府办公室", "龙川县", d(2016, 1, 10), "县级政府"),
        filing("龙川教育", "微信", "龙川县教育局", "龙川县", d(2018, 5, 2), "县级部门"),
        SimFiling {
            account_id: Some("gh_5f3a9c1e2b7d"),
            ..filing("龙川县公安局", "微信", "龙川县公安局", "龙川县", d(2017, 8, 8), "公安")
        },
        filing("和平发布", "新浪微博", "和平县人民政府办公室", "和平县", d(2016, 11, 2), "县级政府"),
        filing("和平县人民政府", "新浪微博", "和平县人民政府办公室", "和平县", d(2019, 6, 3), "县级政府"),
        filing("和平视窗", "快手", "和平县人民政府办公室", "和平县", d(2020, 3, 16), "县级政府"),
        SimFiling {
            opened_on: Some(days_ago(30)),
            ..filing("紫金发布", "微信", "紫金县人民政府办公室", "紫金县", days_ago(20), "县级政府")
        },
        filing("紫金县融媒体", "抖音", "紫金县融媒体中心", "紫金县", d(2021, 4, 12), "其他"),
        filing("河源市生态环境局", "新浪微博", "市生态环境局", "市直", d(2018, 2, 26), "市直部门"),
        filing("河源发布", "微信", "河源市人民政府办公室", "市直", d(2015, 12, 1), "市直部门"),
        // Filed, running, and inspected by no agent.
        filing("紫金县文明办", "微信", "紫金县委宣传部", "紫金县", d(2019, 3, 8), "其他"),
    ]
}

impl PageState {
    /// The newest date a correct reading finds, read on `today`.
    pub fn newest(&self, today: Date) -> Option<Date> {
        match self {
            PageState::Fresh { age_days, .. } | PageState::Stale { age_days, .. } => {
                today.checked_sub(age_days.days()).ok()
            }
            PageState::Blank => None,
        }
    }

    /// Dated items a correct reading counts.
    pub fn items(&self) -> usize {
        match self {
            PageState::Fresh { items, .. } | PageState::Stale { items, .. } => *items,
            PageState::Blank => 0,
        }
    }
}

const TITLES: &[&str] = &[
    "县政府召开常务会议研究部署冬季安全生产工作",
    "我县开展森林防火专项检查",
    "县领导调研乡村振兴重点项目建设",
    "关于做好城乡居民医疗保险征缴工作的通知",
    "县人社局举办就业招聘会助力稳岗就业",
    "全县秋冬季农业生产现场会召开",
    "县市场监管局开展食品安全抽检",
    "县教育局部署校园安全隐患排查",
    "县卫健委开展义诊进乡村活动",
    "县生态环境局通报空气质量",
];

/// Routes every page of `counties` on `sim`, dated as of `today`.
pub fn serve(sim: &Sim, counties: &[SimCounty], today: Date) {
    for county in counties {
        for site in &county.sites {
            let Some(home_path) = &site.home_path else { continue };
            let route = |html: String| encode(site.gbk, html);
            let (home, articles) = home_page(site, today);
            match (site.flapping, site.hijack) {
                (Some(period), _) => {
                    sim.route(home_path, Route::Alternate { period, routes: vec![route(home), Route::status(503)] })
                }
                (None, Some(Hijack::ForCrawlers)) => {
                    let for_crawlers = home
                        .replacen(
                            "<title>",
                            "<meta name=\"keywords\" content=\"百家乐,真人娱乐,澳门葡京\"><title>百家乐_真人娱乐_澳门葡京娱乐城_",
                            1,
                        )
                        .replacen("<div class=\"news\">", "<p>澳门葡京娱乐城 百家乐 真人娱乐 开户送彩金</p><div class=\"news\">", 1);
                    sim.route(home_path, route(home).crawlers_get(route(for_crawlers)))
                }
                (None, _) => sim.route(home_path, route(home)),
            }
            for (path, title) in articles {
                sim.route(&path, route(article_page(site.name, &title)));
            }
            for column in &site.columns {
                let (page, articles) = column_page(site, column, today);
                sim.route(&column.path, route(page));
                for (path, title) in articles {
                    sim.route(&path, route(article_page(site.name, &title)));
                }
                for (path, guide) in guide_paths(column, today) {
                    sim.route(&path, route(guide_page(site, guide)));
                }
            }
            for channel in &site.channels {
                sim.route(&channel.path, route(board_page(site, channel)));
                for (index, message) in channel.messages.iter().enumerate() {
                    sim.route(&format!("{}{index}.html", channel.path), route(message_page(site, message)));
                }
            }
        }
        for account in &county.accounts {
            let body = match account.source {
                SimSource::Feed => feed(account, today),
                SimSource::Json { comments_open } => json_api(account, today, comments_open),
            };
            let content_type = if account.source == SimSource::Feed {
                "application/rss+xml; charset=utf-8"
            } else {
                "application/json"
            };
            sim.route(&account.path, Route::bytes(content_type, body.into_bytes()));
        }
    }
}

fn encode(gbk: bool, html: String) -> Route {
    if gbk {
        let html = html.replace("charset=utf-8", "charset=gb2312");
        let (bytes, _, _) = encoding_rs::GBK.encode(&html);
        Route::bytes("text/html", bytes.into_owned())
    } else {
        Route::html(html)
    }
}

/// Dated `<li>`s linking to article pages under `base`; returns the HTML and (path, title) pairs.
fn dated_items(state: PageState, today: Date, base: &str) -> (String, Vec<(String, String)>) {
    let (Some(newest), items) = (state.newest(today), state.items()) else { return (String::new(), Vec::new()) };
    let titles: Vec<(&str, Date)> = (0..items)
        .map(|index| (TITLES[index % TITLES.len()], newest.checked_sub((index as i64 * 3).days()).unwrap_or(newest)))
        .collect();
    listed_items(&titles, base)
}

/// Dated `<li>`s of these titles, each linking to an article page under `base`.
fn listed_items(titles: &[(&str, Date)], base: &str) -> (String, Vec<(String, String)>) {
    let mut html = String::new();
    let mut articles = Vec::new();
    for (index, (title, date)) in titles.iter().enumerate() {
        let path = format!("{base}{}/t{}_{index}.html", date.strftime("%Y%m"), date.strftime("%Y%m%d"));
        html.push_str(&format!("<li><a href=\"{path}\" title=\"{title}\">{title}</a><span>{date}</span></li>\n"));
        articles.push((path, title.to_string()));
    }
    (html, articles)
}

fn site_prefix(site: &SimSite) -> &str {
    site.home_path.as_deref().unwrap_or("/").trim_end_matches('/')
}

/// The header and navigation; `clock` shows the day as portals do in their top bar.
fn chrome_top(site: &SimSite, clock: Option<Date>) -> String {
    let prefix = site_prefix(site);
    let mut nav = format!("<li><a href=\"{prefix}/\">首页</a></li>");
    for column in &site.columns {
        nav.push_str(&format!("<li><a href=\"{}\">{}</a></li>", column.path, column.name));
    }
    for channel in &site.channels {
        nav.push_str(&format!("<li><a href=\"{}\">{}</a></li>", channel.path, channel.name));
    }
    format!(
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><title>{}</title></head><body>\
         <div class=\"top\">{}</div><div class=\"nav\"><ul>{nav}</ul></div>",
        site.name,
        clock.map(|d| format!("今天是{}年{}月{}日", d.year(), d.month(), d.day())).unwrap_or_default()
    )
}

const FOOTER: &str = "<div class=\"footer\">主办单位：县人民政府办公室 电话：0762-6822345 粤ICP备05012345号 Copyright &copy; 2010-2026</div></body></html>";

fn home_page(site: &SimSite, today: Date) -> (String, Vec<(String, String)>) {
    let prefix = site_prefix(site);
    let (items, articles) = dated_items(site.home, today, &format!("{prefix}/zwgk/yw/"));
    let broken: String = site
        .broken_links
        .iter()
        .map(|text| format!("<a href=\"{prefix}/missing/{}.html\">{text}</a> ", text.len()))
        .collect();
    // Where hijackers put them: a block positioned off screen, addresses on loopback that
    // answer nothing (the simulator never links off the machine).
    let hidden = match site.hijack {
        Some(Hijack::HiddenLinks) => {
            "<div style=\"position:absolute;left:-9999px;top:-9999px\">\
            <a href=\"http://127.0.0.2:9/\">澳门葡京娱乐城</a> <a href=\"http://127.0.0.3:9/\">皇冠体育开户送彩金</a></div>"
        }
        _ => "",
    };
    let new_media: String =
        site.new_media.iter().map(|(platform, name)| format!("<li>{platform}：{name}</li>")).collect();
    let new_media = if new_media.is_empty() {
        String::new()
    } else {
        format!("<div class=\"xmt\"><h3>政务新媒体</h3><ul>{new_media}</ul></div>")
    };
    let html = format!(
        "{}<div class=\"news\"><h3>要闻动态</h3><ul>{items}</ul></div><div class=\"quick\">{broken}</div>{new_media}{hidden}{FOOTER}",
        chrome_top(site, Some(today))
    );
    (html, articles)
}

fn column_page(site: &SimSite, column: &SimColumn, today: Date) -> (String, Vec<(String, String)>) {
    let base = column.path.trim_end_matches("index.html");
    let (body, articles) = match column.state {
        PageState::Blank => ("<div class=\"list\"><p>暂无信息</p></div>".to_string(), Vec::new()),
        state => {
            let newest = state.newest(today).unwrap_or(today);
            let (items, articles) = if !column.documents.is_empty() {
                let titles: Vec<(&str, Date)> = column
                    .documents
                    .iter()
                    .map(|d| (d.title, today.checked_sub(d.age_days.days()).unwrap_or(today)))
                    .collect();
                listed_items(&titles, base)
            } else if !column.guides.is_empty() {
                // Guide pages are routed on their own (with their elements), not as articles.
                let titles: Vec<(&str, Date)> = column
                    .guides
                    .iter()
                    .enumerate()
                    .map(|(n, g)| (g.title, newest.checked_sub((n as i64 * 7).days()).unwrap_or(newest)))
                    .collect();
                (listed_items(&titles, base).0, Vec::new())
            } else {
                dated_items(state, today, base)
            };
            (
                format!(
                    "<div class=\"list\"><h2>{}</h2><ul>{items}</ul><div class=\"page\">共1页 首页 上一页 下一页 尾页</div></div>",
                    column.name
                ),
                articles,
            )
        }
    };
    (
        format!("{}<div class=\"crumb\">首页 &gt; {}</div>{body}{FOOTER}", chrome_top(site, Some(today)), column.name),
        articles,
    )
}

/// Where a guide list's guides are served: the paths its list links to.
fn guide_paths(column: &SimColumn, today: Date) -> Vec<(String, &SimGuide)> {
    let base = column.path.trim_end_matches("index.html");
    let newest = column.state.newest(today).unwrap_or(today);
    column
        .guides
        .iter()
        .enumerate()
        .map(|(n, guide)| {
            let date = newest.checked_sub((n as i64 * 7).days()).unwrap_or(newest);
            (format!("{base}{}/t{}_{n}.html", date.strftime("%Y%m"), date.strftime("%Y%m%d")), guide)
        })
        .collect()
}

/// A guide page as 政务服务网 pages show one: a two-column table of the elements, those the
/// guide lacks left empty or 暂无.
fn guide_page(site: &SimSite, guide: &SimGuide) -> String {
    let rows: String = GUIDE_ELEMENTS
        .iter()
        .enumerate()
        .map(|(n, element)| {
            let content = if guide.missing.contains(element) {
                if n % 2 == 0 { String::new() } else { "暂无".to_string() }
            } else if *element == "事项名称" {
                guide.title.to_string()
            } else {
                format!("{element}详见本页说明（{}）", guide.title)
            };
            format!("<tr><th>{element}</th><td>{content}</td></tr>")
        })
        .collect();
    format!(
        "{}<div class=\"guide\"><h1>{}</h1><table class=\"bszn\">{rows}</table></div>{FOOTER}",
        chrome_top(site, None),
        guide.title
    )
}

fn article_page(site: &str, title: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><title>{title}</title></head><body>\
         <h1>{title}</h1><div class=\"info\">来源：{site}</div><div class=\"text\"><p>{title}。近日，相关工作有序推进，取得阶段性成效。</p></div></body></html>"
    )
}

fn board_page(site: &SimSite, channel: &SimChannel) -> String {
    let chrome = chrome_top(site, None);
    let body = match channel.layout {
        BoardLayout::Table => {
            let categories = channel.messages.iter().any(|m| m.category.is_some());
            let rows: String = channel
                .messages
                .iter()
                .enumerate()
                .map(|(index, m)| {
                    let category = if categories { format!("<td>{}</td>", m.category.unwrap_or("")) } else { String::new() };
                    format!(
                        "<tr><td>{}</td><td><a href=\"{}{index}.html\">{}</a></td>{category}<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        index + 1,
                        channel.path,
                        m.title,
                        m.posted,
                        m.replied.map(|d| d.to_string()).unwrap_or_default(),
                        m.unit.unwrap_or(""),
                        if m.replied.is_some() { "已回复" } else { "办理中" }
                    )
                })
                .collect();
            format!(
                "<table class=\"msg\"><tr><th>序号</th><th>标题</th>{}<th>留言时间</th><th>答复时间</th><th>答复单位</th><th>状态</th></tr>{rows}</table>",
                if categories { "<th>类型</th>" } else { "" }
            )
        }
        BoardLayout::Blocks => channel
            .messages
            .iter()
            .map(|m| {
                let reply = match m.replied {
                    Some(replied) => format!(
                        "<div class=\"reply\">{}<p>答复时间：{replied}</p><p>答复内容：{}</p></div>",
                        m.unit.map(|unit| format!("<p>答复单位：{unit}</p>")).unwrap_or_default(),
                        m.content.unwrap_or("")
                    ),
                    None => "<p>状态：待回复</p>".to_string(),
                };
                format!(
                    "<div class=\"item\"><h4>{}</h4><p>留言时间：{}</p><p>留言内容：……</p>{reply}</div>",
                    m.title, m.posted
                )
            })
            .collect(),
    };
    format!("{chrome}<h2>{}</h2>{body}{FOOTER}", channel.name)
}

/// A message's own page, with every field labelled.
fn message_page(site: &SimSite, message: &SimMessage) -> String {
    let reply = match message.replied {
        Some(replied) => format!(
            "<p>答复单位：{}</p><p>答复时间：{replied}</p><p>答复内容：{}</p>",
            message.unit.unwrap_or(""),
            message.content.unwrap_or("")
        ),
        None => "<p>办理状态：办理中</p>".into(),
    };
    format!(
        "{}<div class=\"detail\"><p>留言标题：{}</p><p>留言时间：{}</p><p>留言内容：……</p>{reply}</div>{FOOTER}",
        chrome_top(site, None),
        message.title,
        message.posted
    )
}

fn post_dates(account: &SimAccount, today: Date) -> Vec<Date> {
    (0..account.posts)
        .map(|index| today.checked_sub((account.newest_age_days + index as i64 * 2).days()).unwrap_or(today))
        .collect()
}

/// RSS 2.0, newest not first (RSS bridges do not always sort).
fn feed(account: &SimAccount, today: Date) -> String {
    let mut dates = post_dates(account, today);
    dates.rotate_left(1);
    let items: String = dates
        .iter()
        .enumerate()
        .map(|(index, date)| {
            format!(
                "<item><title><![CDATA[{}第{index}期]]></title><link>https://mp.example/{}/{index}</link><pubDate>{}</pubDate></item>",
                account.name,
                account.path.trim_start_matches("/media/"),
                date.strftime("%a, %d %b %Y 08:30:00 +0800")
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>{}</title>{items}</channel></rss>",
        account.name
    )
}

/// Weibo-like: `/data/cards[*]/mblog/created_at` and `/mblog/comments_open`.
fn json_api(account: &SimAccount, today: Date, comments_open: bool) -> String {
    let cards: Vec<String> = post_dates(account, today)
        .iter()
        .map(|date| {
            format!(
                "{{\"mblog\":{{\"created_at\":\"{}\",\"text\":\"{}发布\",\"comments_open\":{comments_open}}}}}",
                date.strftime("%a %b %d 09:00:00 +0800 %Y"),
                account.name
            )
        })
        .collect();
    format!("{{\"ok\":1,\"data\":{{\"cards\":[{}]}}}}", cards.join(","))
}
