//! Made-up county websites whose dates move with the clock, for the demo and end-to-end tests.
//!
//! Each [`SimSite`] says what a correct inspection must find (its truth), so tests can compare
//! what the collector shows with what the simulator serves.

use jiff::ToSpan;
use jiff::civil::Date;

use crate::{Route, Sim};

/// What a simulated page is like.
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
    pub state: PageState,
}

#[derive(Clone, Debug)]
pub struct SimSite {
    pub name: &'static str,
    pub unit: &'static str,
    /// Home page path on the simulator; None for a site that is down (its URL refuses connections).
    pub home_path: Option<String>,
    pub home: PageState,
    pub gbk: bool,
    pub columns: Vec<SimColumn>,
}

#[derive(Clone, Debug)]
pub struct SimCounty {
    pub agent: &'static str,
    pub county: &'static str,
    pub sites: Vec<SimSite>,
}

/// Three counties: healthy sites, a stale news column, a blank column, a site served in GBK
/// and a site that is down.
pub fn province() -> Vec<SimCounty> {
    let column = |name: &'static str, kind: &'static str, prefix: &str, dir: &str, state: PageState| SimColumn {
        name,
        kind,
        path: format!("/{prefix}/{dir}/index.html"),
        state,
    };
    vec![
        SimCounty {
            agent: "longchuan",
            county: "龙川县",
            sites: vec![
                SimSite {
                    name: "龙川县人民政府门户网站",
                    unit: "龙川县人民政府办公室",
                    home_path: Some("/lc/".into()),
                    home: PageState::Fresh { age_days: 0, items: 12 },
                    gbk: false,
                    columns: vec![
                        column("工作动态", "news", "lc", "gzdt", PageState::Fresh { age_days: 1, items: 15 }),
                        column("通知公告", "notice", "lc", "tzgg", PageState::Fresh { age_days: 9, items: 10 }),
                        column("政策文件", "policy", "lc", "zcwj", PageState::Fresh { age_days: 30, items: 8 }),
                    ],
                },
                SimSite {
                    name: "龙川县教育局",
                    unit: "龙川县教育局",
                    home_path: Some("/lcjy/".into()),
                    home: PageState::Fresh { age_days: 3, items: 8 },
                    gbk: false,
                    columns: vec![column(
                        "教育动态",
                        "news",
                        "lcjy",
                        "jydt",
                        PageState::Stale { age_days: 41, items: 10 },
                    )],
                },
            ],
        },
        SimCounty {
            agent: "heping",
            county: "和平县",
            sites: vec![
                SimSite {
                    name: "和平县人民政府网",
                    unit: "和平县人民政府办公室",
                    home_path: Some("/hp/".into()),
                    home: PageState::Fresh { age_days: 2, items: 10 },
                    gbk: true,
                    columns: vec![
                        column("政务动态", "news", "hp", "zwdt", PageState::Fresh { age_days: 2, items: 12 }),
                        column("人事信息", "planning", "hp", "rsxx", PageState::Blank),
                    ],
                },
                SimSite {
                    name: "和平县水务局",
                    unit: "和平县水务局",
                    home_path: None,
                    home: PageState::Blank,
                    gbk: false,
                    columns: Vec::new(),
                },
            ],
        },
        SimCounty {
            agent: "zijin",
            county: "紫金县",
            sites: vec![SimSite {
                name: "紫金县人民政府网",
                unit: "紫金县人民政府办公室",
                home_path: Some("/zj/".into()),
                home: PageState::Fresh { age_days: 1, items: 9 },
                gbk: false,
                columns: vec![
                    column("紫金要闻", "news", "zj", "zjyw", PageState::Fresh { age_days: 4, items: 10 }),
                    column("政府文件", "policy", "zj", "zfwj", PageState::Fresh { age_days: 60, items: 6 }),
                ],
            }],
        },
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
            let column_links: Vec<(&str, &str)> = site.columns.iter().map(|c| (c.name, c.path.as_str())).collect();
            let home = home_page(site, &column_links, today);
            sim.route(home_path, encode(site.gbk, home));
            for column in &site.columns {
                sim.route(&column.path, encode(site.gbk, column_page(site.name, column, today)));
            }
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

fn dated_items(state: PageState, today: Date, link_prefix: &str) -> String {
    let (Some(newest), items) = (state.newest(today), state.items()) else { return String::new() };
    (0..items)
        .map(|index| {
            let date = newest.checked_sub((index as i64 * 3).days()).unwrap_or(newest);
            format!(
                "<li><a href=\"{link_prefix}{}/t{}_{index}.html\" title=\"{title}\">{title}</a><span>{date}</span></li>\n",
                date.strftime("%Y%m"),
                date.strftime("%Y%m%d"),
                title = TITLES[index % TITLES.len()]
            )
        })
        .collect()
}

fn chrome_top(site: &str, today: Date) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><title>{site}</title></head><body>\
         <div class=\"top\">今天是{}年{}月{}日 <a href=\"/wza/\">无障碍</a></div><div class=\"nav\"><ul><li><a href=\"/\">首页</a></li>\
         <li><a href=\"/zwgk/\">政务公开</a></li><li><a href=\"/hdjl/\">互动交流</a></li></ul></div>",
        today.year(),
        today.month(),
        today.day()
    )
}

const FOOTER: &str = "<div class=\"footer\">主办单位：县人民政府办公室 电话：0762-6822345 粤ICP备05012345号 Copyright &copy; 2010-2026</div></body></html>";

fn home_page(site: &SimSite, columns: &[(&str, &str)], today: Date) -> String {
    let links: String = columns.iter().map(|(name, path)| format!("<a href=\"{path}\">{name}</a> ")).collect();
    format!(
        "{}<div class=\"news\"><h3>要闻动态</h3><ul>{}</ul></div><div class=\"columns\">{links}</div>{FOOTER}",
        chrome_top(site.name, today),
        dated_items(site.home, today, "/zwgk/yw/")
    )
}

fn column_page(site: &str, column: &SimColumn, today: Date) -> String {
    let body = match column.state {
        PageState::Blank => "<div class=\"list\"><p>暂无信息</p></div>".to_string(),
        state => format!(
            "<div class=\"list\"><h2>{}</h2><ul>{}</ul><div class=\"page\">共1页 首页 上一页 下一页 尾页</div></div>",
            column.name,
            dated_items(state, today, "./")
        ),
    };
    format!("{}<div class=\"crumb\">首页 &gt; {}</div>{body}{FOOTER}", chrome_top(site, today), column.name)
}
