//! Security content, end to end against loopback sites: injected content in a home page's
//! title, keywords, links and text (GBK and UTF-8), cloaking (a crawler served other content, a
//! script that sends search visitors elsewhere), mixed content on an HTTPS page, IPv6, and a
//! home page that changes all at once between rounds — and honest pages that must not be
//! flagged (a police site reporting on gambling, a firewall refusing crawlers, statistics
//! scripts).

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use xunjian_agent::fetch::Fetcher;
use xunjian_agent::schedule::{self, Shared};
use xunjian_shared::config::AgentConfig;
use xunjian_shared::wire::{CheckReport, FindingCode, Observation, Severity};
use xunjian_sim::{Route, Sim};
use xunjian_tests::certs::TestCa;
use xunjian_tests::harness::{self, check_json, run_agent};

// Other sites are loopback addresses that answer nothing: the audit checks every link of a home
// page, and a test sends nothing off the machine, not even a DNS query.
const NOW: &str = "2026-11-26T04:00:00Z";
const LIST: &str = "<ul class=\"list\"><li><a href=\"/a/1.html\">县政府召开常务会议</a><span>2026-11-25</span></li>\
    <li><a href=\"/a/2.html\">县领导调研乡村振兴工作</a><span>2026-11-24</span></li>\
    <li><a href=\"/a/3.html\">关于做好冬季森林防火工作的通知</a><span>2026-11-23</span></li></ul>";

fn page(title: &str, head: &str, body: &str) -> String {
    format!(
        "<html><head><meta charset=\"utf-8\"><title>{title}</title>{head}</head><body>\
         <div class=\"nav\"><a href=\"/zwgk/\">政务公开</a><a href=\"/bsfw/\">办事服务</a><a href=\"/hdjl/\">互动交流</a></div>\
         {LIST}{body}<div class=\"footer\">主办单位：某县人民政府办公室 网站标识码 4416220001</div></body></html>"
    )
}

fn home<'r>(report: &'r CheckReport, target: &str) -> &'r Observation {
    report
        .observations
        .iter()
        .find(|o| o.target == target && o.column.is_none() && o.channel.is_none())
        .unwrap_or_else(|| panic!("no home observation of {target}"))
}

fn finding(observation: &Observation, code: FindingCode) -> Option<&xunjian_shared::wire::Finding> {
    observation.findings.iter().find(|f| f.code == code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaced_and_hijacked_home_pages_are_found_and_honest_ones_are_not() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Sim::start().await.unwrap();
    // A hijacked title, keywords and an injected link, in GBK.
    let defaced = page(
        "澳门葡京娱乐城-百家乐-某县人民政府",
        "<meta name=\"keywords\" content=\"真人娱乐,时时彩,某县\"><meta name=\"description\" content=\"某县人民政府门户网站\">",
        "<p class=\"links\"><a href=\"http://127.0.0.2:9/\">皇冠体育 开户送88元</a></p>",
    )
    .replace("charset=\"utf-8\"", "http-equiv=\"Content-Type\" content=\"text/html; charset=gbk\"");
    sim.route("/defaced/", Route::bytes("text/html", encoding_rs::GBK.encode(&defaced).0.into_owned()));
    // The same page to browsers; gambling to Baiduspider.
    sim.route(
        "/cloaked/",
        Route::html(page("某县人民政府", "", "")).crawlers_get(Route::html(page(
            "百家乐_时时彩_六合彩_某县人民政府",
            "<meta name=\"keywords\" content=\"百家乐,娱乐城\">",
            "<p>百家乐 在线 时时彩 计划 六合彩 资料</p>",
        ))),
    );
    // Visitors arriving from Baidu sent to a casino.
    sim.route(
        "/redirecting/",
        Route::html(page(
            "某县教育局",
            "<script type=\"text/javascript\">var s=document.referrer;if(s.indexOf(\"baidu\")>0||s.indexOf(\"sogou\")>0||s.indexOf(\"so.com\")>0)\
             {top.location.href=\"http://www.example-dubo.com/\";}</script>",
            "",
        )),
    );
    // A police site reporting on gambling and pornography, with Baidu's statistics script,
    // whose firewall refuses crawlers it cannot verify.
    sim.route(
        "/police/",
        Route::html(page(
            "某县公安局",
            "<meta name=\"keywords\" content=\"公安,打击赌博,扫黄打非\"><script>var _hmt=_hmt||[];(function(){var hm=document.createElement(\"script\");\
             hm.src=\"https://hm.baidu.com/hm.js?0123\";var s=document.getElementsByTagName(\"script\")[0];s.parentNode.insertBefore(hm,s);})();</script>",
            "<ul><li>县公安局破获一起特大网络赌场案</li><li>严厉打击六合彩等非法赌博活动</li><li>扫黄打非：查处色情网站 12 个</li>\
             <li><a href=\"http://127.0.0.3:9/\">举报色情、赌博信息</a></li><li>警惕刷单返利类诈骗</li></ul>",
        ))
        .crawlers_get(Route::status(403)),
    );
    // A firewall answering crawlers with its own challenge page: no page at all.
    sim.route(
        "/firewall/",
        Route::html(page("某县卫健局", "", "")).crawlers_get(Route::html(
            "<html><head><title>安全验证</title></head><body><p>您的访问请求需要验证，请稍候再试</p></body></html>",
        )),
    );
    // Crawlers shown a whole other page, without gambling terms: for a person to look at.
    let other: String = (1..=12).map(|n| format!("<li><a href=\"/p/{n}.html\">优质产品推荐第{n}期</a></li>")).collect();
    sim.route(
        "/other/",
        Route::html(page("某县林业局", "", "")).crawlers_get(Route::html(format!(
            "<html><head><title>优质产品推荐网</title></head><body><ul>{other}</ul></body></html>"
        ))),
    );
    // An office's own term, from the configuration's file.
    sim.route("/own-term/", Route::html(page("刷脸贷秒到账-某县人社局", "", "")));

    // HTTPS with a script and a style sheet over plain HTTP.
    let ca = TestCa::new("xunjian security test CA");
    let minted = ca.server(&["127.0.0.1"], Timestamp::now() + SignedDuration::from_hours(24 * 200));
    let tls = Sim::start_tls(&minted.cert_pem, &minted.key_pem).await.unwrap();
    tls.route(
        "/",
        Route::html(page(
            "某县发改局",
            "<link rel=\"stylesheet\" href=\"http://127.0.0.1:9/css/site.css\"><script src=\"http://127.0.0.1:9/js/menu.js\"></script>\
             <script src=\"/js/local.js\"></script>",
            "<img src=\"http://127.0.0.1:9/banner.jpg\">",
        )),
    );
    // A site over IPv6, and one named `localhost`, which has no IPv6 address that answers here.
    let sim6 = Sim::start_on("[::1]:0".parse().unwrap(), None).await.expect("IPv6 loopback ([::1]) must be available");
    sim6.route("/", Route::html(page("某县水务局", "", "")));

    let dir = harness::temp_dir("security");
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("terms.txt"), "# 本市补充\n诈骗\t刷脸贷\n").unwrap();
    let site = |name: &str, url: String| format!("[[site]]\nname = \"{name}\"\nunit = \"{name}办\"\nurl = \"{url}\"\n");
    let config = format!(
        "[agent]\nid = \"security\"\ncounty = \"某县\"\n[probe]\ntimeout = \"5s\"\nca_file = \"{}\"\n\
         [security]\nsensitive_terms = \"{}\"\n{}{}{}{}{}{}{}{}{}{}",
        dir.join("ca.pem").display(),
        dir.join("terms.txt").display(),
        site("被篡改网", sim.url("/defaced/")),
        site("被劫持网", sim.url("/cloaked/")),
        site("跳转网", sim.url("/redirecting/")),
        site("公安网", sim.url("/police/")),
        site("防火墙网", sim.url("/firewall/")),
        site("另页网", sim.url("/other/")),
        site("自定词网", sim.url("/own-term/")),
        site("混合内容网", tls.url("/")),
        site("IPv6网", sim6.url("/")),
        site("本机名网", sim.url("/police/").replace("127.0.0.1", "localhost")),
    );
    let report = check_json(&config, NOW).await;

    let defaced = home(&report, "被篡改网");
    let content = finding(defaced, FindingCode::SensitiveContent).expect("sensitive_content");
    assert_eq!(content.severity, Severity::Veto);
    for shown in [
        "网页标题含赌博词「百家乐」「娱乐城」「澳门葡京」",
        "关键词（keywords）含赌博词「时时彩」「真人娱乐」",
        "外站链接文字含赌博词「皇冠体育」「开户送」",
    ] {
        assert!(content.detail.contains(shown), "{shown}: {}", content.detail);
    }
    let places: Vec<&str> = defaced.sensitive_terms().unwrap().iter().map(|t| t.place.as_str()).collect();
    assert!(places.contains(&"title") && places.contains(&"keywords") && places.contains(&"link"), "{places:?}");

    let cloaked = home(&report, "被劫持网");
    assert_eq!(cloaked.sensitive_terms().map(<[_]>::len), Some(0), "browsers see an honest page");
    let cloaking = finding(cloaked, FindingCode::Cloaking).expect("cloaking");
    assert_eq!(cloaking.severity, Severity::Veto);
    assert!(cloaking.detail.contains("百度蜘蛛") && cloaking.detail.contains("百家乐"), "{}", cloaking.detail);
    assert_eq!(sim.hits("/cloaked/"), 2, "one request as a browser, one as Baiduspider");

    let redirecting = home(&report, "跳转网");
    let redirecting = finding(redirecting, FindingCode::Cloaking)
        .unwrap_or_else(|| panic!("a redirecting script: {:?} {:?}", redirecting.checks, redirecting.findings));
    assert_eq!(redirecting.severity, Severity::Veto);
    assert!(redirecting.detail.contains("document.referrer"), "{}", redirecting.detail);

    let police = home(&report, "公安网");
    assert_eq!(police.sensitive_terms().map(<[_]>::len), Some(0), "{:?}", police.sensitive_terms());
    for code in
        [FindingCode::SensitiveContent, FindingCode::Cloaking, FindingCode::HiddenLinks, FindingCode::MixedContent]
    {
        assert!(finding(police, code).is_none(), "{code:?}: {:?}", police.findings);
    }

    let firewall = home(&report, "防火墙网");
    assert!(finding(firewall, FindingCode::Cloaking).is_none(), "a challenge is no page: {:?}", firewall.findings);
    let other = finding(home(&report, "另页网"), FindingCode::Cloaking).expect("a different page to crawlers");
    assert_eq!(other.severity, Severity::Warning, "without gambling terms it is for a person to look at");
    assert!(other.detail.contains("优质产品推荐网") && other.detail.contains("防火墙"), "{}", other.detail);

    let own = finding(home(&report, "自定词网"), FindingCode::SensitiveContent).expect("the office's own term");
    assert!(own.detail.contains("刷脸贷"), "{}", own.detail);

    let mixed = home(&report, "混合内容网");
    assert_eq!(mixed.fetch.as_ref().and_then(|f| f.failure), None, "{:?}", mixed.findings);
    let resources = mixed.audit.as_ref().and_then(|a| a.insecure_resources.clone()).unwrap();
    assert_eq!(
        resources,
        ["http://127.0.0.1:9/css/site.css", "http://127.0.0.1:9/js/menu.js"],
        "images are not counted"
    );
    let warning = finding(mixed, FindingCode::MixedContent).expect("mixed_content");
    assert_eq!(warning.severity, Severity::Warning);
    assert_eq!(
        home(&report, "公安网").audit.as_ref().and_then(|a| a.insecure_resources.as_ref()).map(Vec::len),
        Some(0),
        "a page over HTTP mixes nothing"
    );

    let over_ipv6 = home(&report, "IPv6网");
    let status = over_ipv6.ipv6().expect("an IPv6 site is probed");
    assert!(status.reachable && status.addresses == ["::1"], "{status:?}");
    assert!(finding(over_ipv6, FindingCode::Ipv6Unreachable).is_none());
    let named = home(&report, "本机名网");
    assert_eq!(named.fetch.as_ref().and_then(|f| f.failure), None, "{:?}", named.findings);
    let ipv6 = finding(named, FindingCode::Ipv6Unreachable).expect("ipv6_unreachable");
    assert_eq!(ipv6.severity, Severity::Warning);
    assert!(ipv6.detail.contains("localhost") && ipv6.detail.contains("IPv6"), "{}", ipv6.detail);
    assert!(home(&report, "公安网").ipv6().is_none(), "a site named by an IPv4 address is not asked");

    // A malformed terms file stops the agent before it starts, naming the key.
    std::fs::write(dir.join("terms.txt"), "刷脸贷\n").unwrap();
    let run = run_agent(&config, &["check", "--now", NOW]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("security.sensitive_terms") && run.stderr.contains("line 1"), "{}", run.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_home_page_replaced_between_rounds_is_a_warning_for_a_day() {
    let sim = Sim::start().await.unwrap();
    let news = |from: u32| -> String {
        (from..from + 20).map(|n| format!("<li><a href=\"/a/{n}.html\">县政府第{n}次常务会议召开</a></li>")).collect()
    };
    sim.route("/", Route::html(page("某县人民政府", "", &format!("<ul>{}</ul>", news(0)))));
    let dir = harness::temp_dir("home-change");
    let path = dir.join("agent.toml");
    std::fs::write(
        &path,
        format!("[agent]\nid = \"change\"\ncounty = \"某县\"\n[[site]]\nname = \"某县政府网\"\nunit = \"县政府办\"\nurl = \"{}\"\n", sim.url("/")),
    )
    .unwrap();
    let config = AgentConfig::load(&path, &Default::default()).unwrap();
    let fetcher = Arc::new(Fetcher::new(&config.limits, &config.user_agent, &[]).unwrap());
    let shared = Shared::new(&config, fetcher, schedule::Dictionaries::shipped());
    let subjects: Vec<_> = schedule::subjects(&config).into_iter().filter(|s| s.is_home()).collect();
    let checks = Arc::new(xunjian_agent::checks::all());
    let start: Timestamp = NOW.parse().unwrap();
    let round = |minutes: i64| {
        let now = start.checked_add(SignedDuration::from_mins(minutes)).unwrap();
        let (subjects, checks, ctx) = (subjects.clone(), checks.clone(), Arc::new(shared.ctx(now)));
        async move { schedule::run_round(&subjects, checks, ctx, |_, _| {}).await.remove(0) }
    };
    let changed = |observation: &Observation| finding(observation, FindingCode::HomeChanged).cloned();

    assert_eq!(changed(&round(0).await), None, "nothing to compare the first time");
    // Some news rotated: the same page.
    let home = Route::html(page("某县人民政府", "", &format!("<ul>{}</ul>", news(3))));
    sim.route("/", home.clone());
    assert_eq!(changed(&round(5).await), None, "a few new items are no change");
    // A passing error page, then the site again: no change.
    sim.route(
        "/",
        Route::html("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"),
    );
    assert_eq!(changed(&round(10).await), None, "a change waits for the next round");
    sim.route("/", home);
    assert_eq!(changed(&round(15).await), None, "the page came back: nothing changed");
    // Defaced, and still the next round.
    sim.route(
        "/",
        Route::html("<html><head><title>Hacked by 0x1f</title></head><body><h1>Hacked by 0x1f</h1><p>Your security is low, admin. Greetings to all my friends.</p></body></html>"),
    );
    assert_eq!(changed(&round(20).await), None, "seen once");
    let defaced = changed(&round(25).await).expect("home_changed, seen twice");
    assert_eq!(defaced.severity, Severity::Warning);
    for shown in [
        "2026-11-26 12:20:00",
        "标题由「某县人民政府」变为「Hacked by 0x1f」",
        "正文大部分改变",
        "之前「政务公开",
        "现在「Hacked by 0x1f",
    ] {
        assert!(defaced.detail.contains(shown), "{shown}: {}", defaced.detail);
    }
    let later = changed(&round(30).await).expect("still reported the same day");
    assert_eq!(later.detail, defaced.detail, "the same change, said the same way");
    assert_eq!(changed(&round(20 + 25 * 60).await), None, "a day later the new page is the one compared against");
    let _ = std::fs::remove_dir_all(&dir);
}
