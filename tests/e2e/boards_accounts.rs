//! `xunjian-agent check --json` on message boards, new-media accounts, dead links and wording:
//! fixtures of our own served over real HTTP on loopback, judged on 2019-10-20 so that the 2019
//! Spring Festival and National Day holidays (and their adjusted working days) decide which
//! replies were late.

use xunjian_shared::time::Published;
use xunjian_shared::wire::{CheckReport, FindingCode, Observation, Severity};
use xunjian_sim::{Route, Sim};
use xunjian_tests::harness::check_json;

/// Sunday 2019-10-20, noon in China.
const NOW: &str = "2019-10-20T04:00:00Z";

fn find<'r>(report: &'r CheckReport, what: impl Fn(&Observation) -> bool, name: &str) -> &'r Observation {
    report.observations.iter().find(|o| what(o)).unwrap_or_else(|| panic!("no observation of {name}"))
}

fn channel<'r>(report: &'r CheckReport, name: &str) -> &'r Observation {
    find(report, |o| o.channel.as_deref() == Some(name), name)
}

fn account<'r>(report: &'r CheckReport, name: &str) -> &'r Observation {
    find(report, |o| o.target == name && o.kind == xunjian_shared::wire::TargetKind::Account, name)
}

fn codes(observation: &Observation) -> Vec<FindingCode> {
    let mut codes: Vec<FindingCode> = observation.findings.iter().map(|f| f.code).collect();
    codes.sort();
    codes
}

fn row(title: &str, posted: &str, replied: &str, unit: &str) -> String {
    let status = if replied.is_empty() { "办理中" } else { "已办结" };
    format!(
        "<tr><td><a href=\"m/{posted}.html\">{title}</a></td><td>{posted}</td><td>{replied}</td><td>{unit}</td><td>{status}</td></tr>"
    )
}

/// The county mailbox (a table), answered around the 2019 holidays.
fn mailbox() -> String {
    let rows = [
        // Posted the Friday before National Day, answered two days after it: 4 working days
        // (Sunday 29 September was worked), though 8 weekdays.
        row("国庆假期公交线路调整咨询", "2019-09-27", "2019-10-09", "县交通运输局"),
        // 8 October to 15 October: 6 working days, since Saturday 12 October was worked; 5 weekdays.
        row("城区停车收费标准咨询", "2019-10-08", "2019-10-15", "县发展和改革局"),
        // Spring Festival: Friday 1 February to Tuesday 12 February is 4 working days (2 and 3
        // February were worked, 4 to 10 were holidays), though 7 weekdays.
        row("春节期间医院门诊安排", "2019-02-01", "2019-02-12", "县卫生健康局"),
        // Simple questions get one working day.
        row("【简单咨询】政务服务大厅周六是否上班", "2019-10-14", "2019-10-16", "县政务服务中心"),
        // Unanswered for more than three months.
        row("老旧小区改造进度", "2019-06-03", "", ""),
        // Unanswered, but only one working day old.
        row("路灯维修", "2019-10-17", "", ""),
    ]
    .concat();
    format!(
        "<html><head><meta charset=\"utf-8\"><title>县长信箱</title></head><body><h2>县长信箱</h2>\
         <table class=\"list\"><tr><th>标题</th><th>留言时间</th><th>答复时间</th><th>答复单位</th><th>状态</th></tr>{rows}</table></body></html>"
    )
}

/// A consultation board of labelled blocks, in GBK, with a message from a year the calendar does
/// not know and an answer that does not name its unit.
fn consultations() -> Vec<u8> {
    let html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gbk\"><title>网上咨询</title></head><body>\
        <div class=\"item\"><h4>元旦假期办证咨询</h4><p>留言时间：2018-12-28</p><div class=\"reply\"><p>答复单位：县公安局</p><p>答复时间：2019-01-03</p><p>答复内容：正常办理。</p></div></div>\
        <div class=\"item\"><h4>农村低保申请条件</h4><p>留言时间：2019年10月10日</p><div class=\"reply\"><p>答复时间：2019年10月11日</p><p>答复内容：详见民政局网站。</p></div></div>\
        </body></html>";
    encoding_rs::GBK.encode(html).0.into_owned()
}

fn home(sim: &Sim) -> String {
    format!(
        "<html><head><meta charset=\"utf-8\"><title>测试县人民政府网</title></head><body>\
         <div class=\"nav\"><a href=\"/\">首页</a><a href=\"/hdjl/xzxx/\">县长信箱</a><a href=\"/hdjl/wszx/\">网上咨询</a></div>\
         <div class=\"news\"><ul>\
         <li><a href=\"/art/1.html\">县政府召开常务会议</a><span>2019-10-18</span></li>\
         <li><a href=\"/art/2.html\">学习贯彻习近平新时代中国特色社会主意思想</a><span>2019-10-17</span></li>\
         <li><a href=\"/art/3.html\">秋季森林防火工作部署</a><span>2019-10-16</span></li>\
         </ul></div>\
         <div class=\"links\"><a href=\"/download/\">下载中心</a><a href=\"/download/\">下载</a><a href=\"/loop\">专题专栏</a>\
         <a href=\"http://127.0.0.1:{down}/\">旧版网站</a><a href=\"{ok}\">市政府网站</a><a href=\"mailto:zwgk@example.gov.cn\">联系我们</a>\
         <a href=\"javascript:void(0)\">无障碍</a></div></body></html>",
        down = closed_port(),
        ok = sim.url("/art/1.html"),
    )
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn article(title: &str, body: &str) -> Route {
    Route::html(format!(
        "<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1><p>{body}</p></body></html>"
    ))
}

/// RSS 2.0 in GB18030, newest item not first, dates in +0800 and GMT.
fn rss_gb18030() -> Vec<u8> {
    let xml = "<?xml version=\"1.0\" encoding=\"GB18030\"?><rss version=\"2.0\"><channel><title>测试发布</title>\
        <item><title>第二期</title><link>https://mp.example/2</link><pubDate>Thu, 17 Oct 2019 01:00:00 GMT</pubDate></item>\
        <item><title>第三期</title><link>https://mp.example/3</link><pubDate>Fri, 18 Oct 2019 09:30:00 +0800</pubDate></item>\
        <item><title>第一期</title><link>https://mp.example/1</link><pubDate>Mon, 14 Oct 2019 18:00:00 +0800</pubDate></item>\
        </channel></rss>";
    encoding_rs::GB18030.encode(xml).0.into_owned()
}

/// Atom with RFC 3339 dates, a month old.
const ATOM_STALE: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>测试县应急管理局</title>\
    <entry><title>防汛提示</title><updated>2019-09-20T10:00:00+08:00</updated></entry>\
    <entry><title>安全生产月</title><updated>2019-09-12T10:00:00+08:00</updated></entry></feed>";

const JSON_FEED: &str = r#"{"version":"https://jsonfeed.org/version/1.1","title":"测试县融媒体","items":[
    {"id":"1","title":"晚间新闻","date_published":"2019-10-19T20:00:00+08:00"},
    {"id":"2","title":"早间新闻","date_published":"2019-10-19T07:00:00+08:00"}]}"#;

/// Weibo's shape: `created_at` in its own format, comments open.
const WEIBO_API: &str = r#"{"ok":1,"data":{"cards":[
    {"mblog":{"created_at":"Sat Oct 19 08:00:00 +0800 2019","comments_open":true}},
    {"mblog":{"created_at":"Tue Oct 15 16:20:00 +0800 2019","comments_open":true}}]}}"#;

/// Unix milliseconds, comments switched off.
const SHORT_VIDEO_API: &str = r#"{"aweme_list":[
    {"create_time":1571450400000,"comment_setting":0},
    {"create_time":1571191200000,"comment_setting":0}]}"#;

/// An app's news page with relative dates and a comment link.
const APP_PAGE: &str = "<html><head><meta charset=\"utf-8\"></head><body><div class=\"feed\">\
    <div class=\"post\"><p>全县秋粮收购启动</p><span class=\"time\">3小时前</span><a class=\"comment\" href=\"#c\">评论</a></div>\
    <div class=\"post\"><p>县人大常委会召开会议</p><span class=\"time\">昨天 12:30</span><a class=\"comment\" href=\"#c\">评论</a></div>\
    <div class=\"post\"><p>重阳节敬老活动</p><span class=\"time\">2019-10-07</span></div></div></body></html>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boards_accounts_links_and_wording_as_check_json_reports_them() {
    let sim = Sim::start().await.unwrap();
    sim.route("/", Route::html(home(&sim)));
    sim.route("/hdjl/xzxx/", Route::html(mailbox()));
    sim.route("/hdjl/wszx/", Route::bytes("text/html", consultations()));
    sim.route("/art/1.html", article("县政府召开常务会议", "会议研究部署秋冬季工作。"));
    sim.route("/art/2.html", article("学习贯彻", "深入学习习近平新时代中国特色社会主意思想。"));
    sim.route("/art/3.html", article("秋季森林防火工作部署", "做好森林防火工作。"));
    sim.route("/loop", Route::redirect("/loop"));
    // The mailbox's detail pages carry the reply text the list leaves out.
    for (posted, unit) in [
        ("2019-09-27", "县交通运输局"),
        ("2019-10-08", "县发展和改革局"),
        ("2019-02-01", "县卫生健康局"),
        ("2019-10-14", "县政务服务中心"),
    ] {
        sim.route(
            &format!("/hdjl/xzxx/m/{posted}.html"),
            Route::html(format!(
                "<html><body><p>留言时间：{posted}</p><p>答复单位：{unit}</p><p>答复内容：已按规定办理，感谢您的关注。</p></body></html>"
            )),
        );
    }
    sim.route("/feeds/cs.xml", Route::bytes("application/rss+xml", rss_gb18030()));
    sim.route("/feeds/yj.atom", Route::bytes("application/atom+xml", ATOM_STALE.as_bytes().to_vec()));
    sim.route("/feeds/rmt.json", Route::bytes("application/feed+json", JSON_FEED.as_bytes().to_vec()));
    sim.route("/api/weibo", Route::bytes("application/json", WEIBO_API.as_bytes().to_vec()));
    sim.route("/api/video", Route::bytes("application/json", SHORT_VIDEO_API.as_bytes().to_vec()));
    sim.route("/app/news", Route::html(APP_PAGE));

    let config = format!(
        r#"[agent]
id = "test"
county = "测试县"
[probe]
timeout = "3s"

[[site]]
name = "测试县人民政府网"
unit = "测试县人民政府办公室"
url = "{home}"
[[site.interaction]]
name = "县长信箱"
url = "{mailbox}"
simple_keywords = ["简单咨询"]
[[site.interaction]]
name = "网上咨询"
url = "{consultations}"
[[site.interaction]]
name = "投诉举报"
url = "{missing}"

[[account]]
name = "测试发布"
platform = "wechat"
unit = "测试县委宣传部"
feed = "{rss}"

[[account]]
name = "测试县应急管理局"
platform = "weibo"
unit = "测试县应急管理局"
feed = "{atom}"

[[account]]
name = "测试县融媒体"
platform = "toutiao"
unit = "测试县融媒体中心"
feed = "{json_feed}"

[[account]]
name = "测试县公安"
platform = "weibo"
unit = "测试县公安局"
[account.json]
url = "{weibo}"
items = "/data/cards"
date = "/mblog/created_at"
comments = "/mblog/comments_open"

[[account]]
name = "测试县文旅"
platform = "douyin"
unit = "测试县文化广电旅游体育局"
[account.json]
url = "{video}"
items = "/aweme_list"
date = "/create_time"
comments = "/comment_setting"

[[account]]
name = "测试县政务服务"
platform = "app"
unit = "测试县政务服务数据管理局"
[account.page]
url = "{app}"
item_selector = "div.post"
date_selector = "span.time"
comments_selector = "a.comment"

[[account]]
name = "测试县旧号"
platform = "wechat"
unit = "测试县人民政府办公室"
feed = "{gone}"
"#,
        home = sim.url("/"),
        mailbox = sim.url("/hdjl/xzxx/"),
        consultations = sim.url("/hdjl/wszx/"),
        missing = sim.url("/hdjl/tsjb/"),
        rss = sim.url("/feeds/cs.xml"),
        atom = sim.url("/feeds/yj.atom"),
        json_feed = sim.url("/feeds/rmt.json"),
        weibo = sim.url("/api/weibo"),
        video = sim.url("/api/video"),
        app = sim.url("/app/news"),
        gone = sim.url("/feeds/gone.xml"),
    );
    let report = check_json(&config, NOW).await;
    let json: serde_json::Value = serde_json::to_value(&report).unwrap();

    // The mailbox: working days, not weekdays, decide.
    let mailbox = channel(&report, "县长信箱");
    assert_eq!(mailbox.replies().messages, Some(6));
    assert_eq!(mailbox.replies().unanswered, Some(2));
    assert_eq!(
        mailbox.replies().overdue,
        Some(3),
        "6 working days, the simple question, and the one unanswered since June"
    );
    assert_eq!(mailbox.replies().max_reply_working_days, Some(6));
    assert_eq!(codes(mailbox), [FindingCode::InteractionOverdue, FindingCode::InteractionUnanswered]);
    let overdue = mailbox.findings.iter().find(|f| f.code == FindingCode::InteractionOverdue).unwrap();
    assert!(
        overdue.detail.contains("城区停车收费标准咨询") && overdue.detail.contains("6 个工作日"),
        "{}",
        overdue.detail
    );
    assert!(overdue.detail.contains("政务服务大厅周六是否上班"), "the simple question: {}", overdue.detail);
    assert!(!overdue.detail.contains("国庆假期公交") && !overdue.detail.contains("春节期间"), "{}", overdue.detail);
    let unanswered = mailbox.findings.iter().find(|f| f.code == FindingCode::InteractionUnanswered).unwrap();
    assert_eq!(unanswered.severity, Severity::Veto);
    assert!(
        unanswered.detail.contains("老旧小区改造进度") && !unanswered.detail.contains("路灯"),
        "{}",
        unanswered.detail
    );
    // The fields item 6 of the issue names, as JSON.
    let mailbox_json = json["observations"].as_array().unwrap().iter().find(|o| o["channel"] == "县长信箱").unwrap();
    for key in ["channel", "messages", "overdue", "unanswered", "max_reply_working_days"] {
        assert!(mailbox_json.get(key).is_some_and(|v| !v.is_null()), "check --json lacks {key}");
    }

    // GBK blocks: a 2018 date is counted, with a warning that the year is not in the calendar.
    let consultations = channel(&report, "网上咨询");
    assert_eq!(
        (consultations.replies().messages, consultations.replies().overdue, consultations.replies().unanswered),
        (Some(2), Some(0), Some(0))
    );
    assert_eq!(codes(consultations), [FindingCode::InteractionFieldsMissing, FindingCode::CalendarYearUnknown]);
    let unknown = consultations.findings.iter().find(|f| f.code == FindingCode::CalendarYearUnknown).unwrap();
    assert!(unknown.detail.contains("2018") && unknown.severity == Severity::Warning, "{}", unknown.detail);
    let fields = consultations.findings.iter().find(|f| f.code == FindingCode::InteractionFieldsMissing).unwrap();
    assert!(fields.detail.contains("缺少答复单位 1 条") && !fields.detail.contains("答复内容"), "{}", fields.detail);
    // A configured channel that does not open: veto.
    let complaints = channel(&report, "投诉举报");
    assert_eq!(codes(complaints), [FindingCode::InteractionUnreachable]);
    assert_eq!(complaints.findings[0].severity, Severity::Veto);

    // The home page: the channels are found; dead links and wording.
    let home = find(&report, |o| o.target == "测试县人民政府网" && o.column.is_none() && o.channel.is_none(), "home");
    let dead: Vec<&str> = home.dead_links().into_iter().flatten().map(|l| l.text.as_str()).collect();
    assert_eq!(dead, ["下载中心", "专题专栏", "旧版网站"], "404, redirect loop, refused; each URL once");
    assert_eq!(sim.hits("/download/"), 2, "one HEAD and its GET fallback for a URL linked twice");
    let wording = home.wording_errors().expect("wording was checked");
    assert!(
        !wording.is_empty() && wording.iter().all(|w| w.right == "习近平新时代中国特色社会主义思想"),
        "{wording:?}"
    );
    assert!(codes(home).contains(&FindingCode::WordingError) && codes(home).contains(&FindingCode::DeadLinks));
    assert!(!codes(home).contains(&FindingCode::InteractionChannelMissing));

    // Accounts.
    let at = |text: &str| Some(text.parse::<jiff::Timestamp>().unwrap());
    let rss = account(&report, "测试发布");
    assert_eq!((rss.items(), rss.ok), (Some(3), true), "{:?}", rss.findings);
    assert_eq!(
        rss.last_update().map(|p: Published| p.timestamp()),
        at("2019-10-18T01:30:00Z"),
        "the newest, not the first"
    );
    let atom = account(&report, "测试县应急管理局");
    assert_eq!(codes(atom), [FindingCode::AccountNotUpdated]);
    assert_eq!((atom.findings[0].severity, atom.age_days()), (Severity::Veto, Some(30)));
    let json_feed = account(&report, "测试县融媒体");
    assert_eq!((json_feed.items(), json_feed.ok), (Some(2), true));
    assert_eq!(json_feed.last_update().map(|p| p.timestamp()), at("2019-10-19T12:00:00Z"));
    let weibo = account(&report, "测试县公安");
    assert_eq!((weibo.items(), weibo.comments_open(), weibo.ok), (Some(2), Some(true), true), "{:?}", weibo.findings);
    assert_eq!(weibo.last_update().map(|p| p.timestamp()), at("2019-10-19T00:00:00Z"));
    let video = account(&report, "测试县文旅");
    assert_eq!(video.last_update().map(|p| p.timestamp()), at("2019-10-19T02:00:00Z"), "unix milliseconds");
    assert_eq!(codes(video), [FindingCode::AccountInteractionClosed]);
    assert!(!video.ok);
    let app = account(&report, "测试县政务服务");
    assert_eq!((app.items(), app.comments_open(), app.ok), (Some(3), Some(true), true), "{:?}", app.findings);
    assert_eq!(app.last_update().map(|p| p.timestamp()), at("2019-10-20T01:00:00Z"), "3小时前 at noon");
    let gone = account(&report, "测试县旧号");
    assert_eq!(codes(gone), [FindingCode::AccountUnreachable]);
    for name in ["测试发布", "测试县旧号"] {
        let value = json["observations"].as_array().unwrap().iter().find(|o| o["target"] == name).unwrap();
        for key in ["target", "ok", "findings"] {
            assert!(value.get(key).is_some(), "{name} lacks {key}");
        }
    }
    let rss_json = json["observations"].as_array().unwrap().iter().find(|o| o["target"] == "测试发布").unwrap();
    assert!(rss_json["items"].is_number() && rss_json["last_update"].is_string());
}

/// A board read whole, over three rounds of the agent's own schedule: three list pages linked by a
/// TRS script pager and a 下一页 link, a message listed twice counted once, a message without
/// 留言时间 counted as missing a field, reply units only on the messages' own pages (ten read a
/// round, the rest in the next, none read twice within the day; one that fails is pending, not
/// missing, until it opens), a simple question by the board's own category, and statistics not
/// published for a month.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_is_read_whole_and_what_its_message_pages_showed_is_remembered() {
    use std::sync::Arc;
    use xunjian_agent::fetch::Fetcher;
    use xunjian_agent::schedule::{self, Shared};
    use xunjian_shared::config::AgentConfig;
    use xunjian_shared::time::calendar::Calendar;

    let calendar = Calendar::china();
    let sim = Sim::start().await.unwrap();
    let today = jiff::civil::date(2026, 11, 26);
    // Two working days after `posted`.
    let two_working_days = |posted: jiff::civil::Date| {
        let mut replied = posted;
        while calendar.working_days_between(posted, replied).days < 2 {
            replied = replied.tomorrow().unwrap();
        }
        replied
    };
    let posted = |n: i64| jiff::civil::date(2026, 10, 1).checked_add(jiff::Span::new().days(n * 2)).unwrap();
    let row = |n: i64, with_date: bool| {
        let category = match n {
            1 => "咨询",
            2 => "投诉",
            _ => "建议",
        };
        let date = if with_date { posted(n).to_string() } else { String::new() };
        let replied = if with_date { two_working_days(posted(n)).to_string() } else { String::new() };
        format!(
            "<tr><td><a href=\"/hdjl/lyb/m{n}.html\">第{n}号留言</a></td><td>{category}</td><td>{date}</td><td>{replied}</td><td>已回复</td></tr>"
        )
    };
    let page = |rows: String, pager: &str| {
        format!(
            "<html><head><meta charset=\"utf-8\"><title>留言板</title></head><body><h2>留言板</h2>\
             <table class=\"msg\"><tr><th>标题</th><th>类型</th><th>留言时间</th><th>答复时间</th><th>状态</th></tr>{rows}</table>\
             <div class=\"page\">{pager}</div></body></html>"
        )
    };
    let rows = |range: std::ops::RangeInclusive<i64>| range.map(|n| row(n, true)).collect::<String>();
    sim.route(
        "/hdjl/lyb/index.html",
        Route::html(page(rows(1..=8), "<script>createPageHTML(3, 0, \"index\", \"html\");</script>")),
    );
    sim.route(
        "/hdjl/lyb/index_1.html",
        Route::html(page(rows(8..=15), "<a href=\"index.html\">上一页</a> <a href=\"index_2.html\">下一页</a>")),
    );
    sim.route(
        "/hdjl/lyb/index_2.html",
        Route::html(page(rows(16..=19) + &row(20, false), "<a href=\"index_1.html\">上一页</a> 下一页")),
    );
    for n in 1..=20 {
        if n == 19 {
            // A message page the server will not give this round: pending, not missing.
            sim.route("/hdjl/lyb/m19.html", Route::status(503));
            continue;
        }
        let unit = if n == 5 { String::new() } else { format!("<p>答复单位：县第{n}局</p>") };
        let asked = if n == 20 { String::new() } else { format!("<p>留言时间：{}</p>", posted(n)) };
        sim.route(
            &format!("/hdjl/lyb/m{n}.html"),
            Route::html(format!(
                "<html><body><h1>第{n}号留言</h1>{asked}{unit}<p>答复时间：{}</p><p>答复内容：已办理。</p></body></html>",
                two_working_days(posted(n))
            )),
        );
    }
    sim.route(
        "/hdjl/lytj/",
        Route::html(
            "<html><body><h2>留言办理情况统计</h2><ul class=\"list\">\
             <li><a href=\"/hdjl/lytj/9.html\">2026年9月留言办理情况统计</a><span>2026-10-10</span></li>\
             <li><a href=\"/hdjl/lytj/8.html\">2026年8月留言办理情况统计</a><span>2026-09-08</span></li>\
             <li><a href=\"/hdjl/lytj/7.html\">2026年7月留言办理情况统计</a><span>2026-08-07</span></li></ul></body></html>",
        ),
    );
    sim.route("/", Route::html("<html><body><a href=\"/hdjl/lyb/index.html\">留言板</a></body></html>"));
    let dir = std::env::temp_dir().join(format!("xunjian-board-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("agent.toml");
    std::fs::write(
        &path,
        format!(
            "[agent]\nid = \"board\"\ncounty = \"测试县\"\n[[site]]\nname = \"测试县人民政府网\"\nunit = \"县政府办\"\nurl = \"{}\"\n\
             [[site.interaction]]\nname = \"留言板\"\nurl = \"{}\"\nsimple_keywords = [\"咨询\"]\nstatistics_url = \"{}\"\n",
            sim.url("/"),
            sim.url("/hdjl/lyb/index.html"),
            sim.url("/hdjl/lytj/"),
        ),
    )
    .unwrap();
    let config = AgentConfig::load(&path, &Default::default()).unwrap();
    let fetcher = Arc::new(Fetcher::new(&config.limits, &config.user_agent, &[]).unwrap());
    let shared = Shared::new(&config, fetcher, xunjian_agent::schedule::Dictionaries::shipped());
    let subjects: Vec<_> = schedule::subjects(&config).into_iter().filter(|s| s.channel().is_some()).collect();
    let checks = Arc::new(xunjian_agent::checks::all());
    let noon: jiff::Timestamp = "2026-11-26T04:00:00Z".parse().unwrap();
    let round = |now: jiff::Timestamp| {
        let (subjects, checks, ctx) = (subjects.clone(), checks.clone(), Arc::new(shared.ctx(now)));
        async move { schedule::run_round(&subjects, checks, ctx, |_, _| {}).await.remove(0) }
    };
    assert_eq!(shared.ctx(noon).today, today);

    let first = round(noon).await;
    let stats = first.replies();
    assert_eq!(stats.pages, Some(3), "the script pager's page, then the 下一页 link's");
    assert_eq!(stats.messages, Some(20), "message 8, listed on two pages, once; message 20 without its date too");
    assert_eq!(stats.details_pending, Some(10), "ten message pages read this round, ten left for the next");
    assert_eq!(stats.missing_fields, Some(1), "message 5's unit, its page read: {:?}", first.findings);
    assert_eq!(stats.overdue, Some(1), "the 咨询 answered in two working days; the 投诉 and 建议 in time");
    let overdue = first.findings.iter().find(|f| f.code == FindingCode::InteractionOverdue).unwrap();
    assert!(overdue.detail.contains("第1号留言") && !overdue.detail.contains("第2号留言"), "{}", overdue.detail);
    let statistics = first.findings.iter().find(|f| f.code == FindingCode::InteractionStatisticsStale).unwrap();
    assert!(statistics.detail.contains("2026-10-10") && statistics.detail.contains("47 天"), "{}", statistics.detail);
    assert_eq!(stats.statistics_age_days, Some(47));

    let second = round(noon.checked_add(jiff::SignedDuration::from_hours(1)).unwrap()).await;
    let stats = second.replies();
    assert_eq!((stats.messages, stats.details_pending, stats.missing_fields), (Some(20), Some(1), Some(2)));
    let fields = second.findings.iter().find(|f| f.code == FindingCode::InteractionFieldsMissing).unwrap();
    assert!(
        fields.detail.contains("缺少留言时间 1 条") && fields.detail.contains("缺少答复单位 1 条"),
        "{}",
        fields.detail
    );
    for n in 1..=20 {
        assert_eq!(sim.hits(&format!("/hdjl/lyb/m{n}.html")), 1, "message {n}'s page is read once");
    }
    // The next day the server gives it: read, and nothing is pending.
    sim.route(
        "/hdjl/lyb/m19.html",
        Route::html(format!(
            "<html><body><p>留言时间：{}</p><p>答复单位：县第19局</p><p>答复时间：{}</p><p>答复内容：已办理。</p></body></html>",
            posted(19),
            two_working_days(posted(19))
        )),
    );
    let third = round(noon.checked_add(jiff::SignedDuration::from_hours(21)).unwrap()).await;
    assert_eq!((third.replies().details_pending, third.replies().missing_fields), (Some(0), Some(2)));
    assert_eq!(sim.hits("/hdjl/lyb/m19.html"), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
