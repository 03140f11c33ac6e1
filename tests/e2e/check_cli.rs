//! `xunjian-agent check` as county IT staff run it: the real binary, a configuration file, and
//! sites served over real HTTP on loopback.

use std::time::{Duration, Instant};

use xunjian_shared::wire::{CheckReport, FetchFailure, FindingCode, Observation};
use xunjian_sim::{Route, Sim};
use xunjian_tests::corpus;
use xunjian_tests::harness::{self, Run, column_label, corpus_config, run_agent, serve_corpus};

/// The instant the corpus is judged at: noon of the manifest's `today` in China.
const NOW: &str = "2026-11-26T04:00:00Z";

async fn check_json(config: &str) -> CheckReport {
    harness::check_json(config, NOW).await
}

fn observation<'r>(report: &'r CheckReport, column: Option<&str>, target: Option<&str>) -> &'r Observation {
    report
        .observations
        .iter()
        .find(|o| o.column.as_deref() == column && target.is_none_or(|t| o.target == t))
        .unwrap_or_else(|| panic!("no observation for {target:?} {column:?}"))
}

fn codes(observation: &Observation) -> Vec<FindingCode> {
    observation.findings.iter().map(|f| f.code).collect()
}

/// The findings of the availability check alone (these tests are about fetching).
fn availability_codes(observation: &Observation) -> Vec<FindingCode> {
    observation
        .findings
        .iter()
        .map(|f| f.code)
        .filter(|code| code.check() == Some(xunjian_shared::wire::CheckKind::Availability))
        .collect()
}

fn site_config(sites: &[(&str, String)], timeout: &str) -> String {
    let mut toml = format!("[agent]\nid = \"e2e\"\ncounty = \"测试县\"\n[probe]\ntimeout = \"{timeout}\"\n");
    for (name, url) in sites {
        toml.push_str(&format!("\n[[site]]\nname = \"{name}\"\nunit = \"{name}办\"\nurl = \"{url}\"\n"));
    }
    toml
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reads_the_corpus_served_over_http() {
    let manifest = corpus::load();
    let sim = Sim::start().await.unwrap();
    serve_corpus(&sim, &manifest);
    let config = corpus_config(&sim, &manifest, "corpus", "龙川县");
    let report = check_json(&config).await;

    assert_eq!(report.observations.len(), manifest.page.len(), "one observation per page");
    let mut home_index = 0;
    for page in &manifest.page {
        let found = if page.kind == "home" {
            home_index += 1;
            let homes: Vec<&Observation> = report.observations.iter().filter(|o| o.column.is_none()).collect();
            homes[home_index - 1]
        } else {
            observation(&report, Some(&column_label(page)), None)
        };
        assert_eq!(found.items(), Some(page.items as u32), "{}: dated items", page.file);
        assert_eq!(found.last_update().map(|p| p.to_string()), page.newest, "{}: newest", page.file);
        let fetch = found.fetch.as_ref().unwrap();
        assert_eq!(fetch.status, Some(200), "{}", page.file);
    }

    // Verdicts follow the kind's threshold: the stale policy list, the blank and the undated
    // columns are flagged; fresh news is not.
    let stale = observation(&report, Some("政策文件（stale_list_fresh_box）"), None);
    assert_eq!(codes(stale), [FindingCode::ColumnNotUpdated]);
    assert!(!stale.ok);
    let blank = observation(&report, Some("规划计划（blank_placeholder）"), None);
    assert_eq!(codes(blank), [FindingCode::ColumnBlank]);
    assert!(blank.findings[0].detail.contains("暂无信息"), "{}", blank.findings[0].detail);
    let undated = observation(&report, Some("政府会议（undated_list）"), None);
    assert_eq!(codes(undated), [FindingCode::ColumnUndated]);
    assert!(!undated.ok);
    let fresh = observation(&report, Some("工作动态（trs_list_sidebar）"), None);
    assert!(fresh.ok && fresh.findings.is_empty(), "{:?}", fresh.findings);
    assert_eq!(fresh.age_days(), Some(6));
    let gbk = observation(&report, Some("通知公告（trs_notice_gbk）"), None);
    assert_eq!(gbk.fetch.as_ref().unwrap().charset.as_deref(), Some("GBK"));

    // The human table shows every page and the site verdicts, in Chinese.
    let run = run_agent(&config, &["check", "--now", NOW]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for header in ["目标", "栏目", "条数", "最新日期", "距今天数", "结论", "问题", "站点结论"] {
        assert!(run.stdout.contains(header), "table lacks {header}:\n{}", run.stdout);
    }
    for page in manifest.page.iter().filter(|p| p.kind == "column") {
        assert!(run.stdout.contains(&column_label(page)), "table lacks {}", page.file);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_exits_2_naming_file_line_and_key() {
    let config = "[agent]\nid = \"lc\"\ncounty = \"龙川县\"\n[[site]]\nname = \"龙川县人民政府门户网站\"\nunit = \"县府办\"\nurl = \"http://127.0.0.1:9/\"\n[[site.column]]\nname = \"工作动态\"\nurl = \"http://127.0.0.1:9/gzdt/\"\nkind = \"nwes\"\nintervall = \"5m\"\n";
    let run = run_agent(config, &["check"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("配置文件有误（共 2 处）"), "{}", run.stderr);
    assert!(
        run.stderr.contains("agent.toml:11:8: site[0].column[0].kind: unknown column kind \"nwes\": expected one of news, notice, policy, planning, other"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "agent.toml:12:1: site[0].column[0].intervall: unknown key \"intervall\"; did you mean \"interval\"?"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());

    let missing = run_agent_path_missing().await;
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("cannot read the configuration file"), "{}", missing.stderr);
}

async fn run_agent_path_missing() -> Run {
    let output = tokio::process::Command::new(harness::binary("xunjian-agent"))
        .args(["check", "--config", "/nonexistent/agent.toml"])
        .output()
        .await
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_sites_become_findings_within_the_timeout() {
    let sim = Sim::start().await.unwrap();
    let home = "<html><body><ul><li><a href='/a/1.html'>县政府召开常务会议</a><span>2026-11-20</span></li><li><a href='/a/2.html'>县领导调研</a><span>2026-11-19</span></li></ul></body></html>";
    sim.route("/loop/a", Route::redirect("/loop/b"));
    sim.route("/loop/b", Route::redirect("/loop/a"));
    sim.route(
        "/stub/",
        Route::html("<html><head><meta http-equiv=\"refresh\" content=\"0;url=/portal/index.html\"></head></html>"),
    );
    sim.route("/portal/index.html", Route::html(home));
    sim.route("/broken/", Route::status(500));
    sim.route("/slow/", Route::html(home).delayed(Duration::from_secs(8)));
    sim.route("/gzip/", Route::html(home).gzipped());
    sim.route("/cut/", Route::ResetMidBody { body_prefix: home.as_bytes()[..60].to_vec(), claimed_length: 5000 });
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = site_config(
        &[
            ("循环", sim.url("/loop/a")),
            ("跳转", sim.url("/stub/")),
            ("故障", sim.url("/broken/")),
            ("缓慢", sim.url("/slow/")),
            ("压缩", sim.url("/gzip/")),
            ("中断", sim.url("/cut/")),
            ("关闭", format!("http://127.0.0.1:{closed_port}/")),
        ],
        "2s",
    );
    let started = Instant::now();
    let report = check_json(&config).await;
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(6), "a slow site held the round for {elapsed:?}");

    let failure = |target: &str| observation(&report, None, Some(target)).fetch.as_ref().unwrap().failure;
    assert_eq!(failure("循环"), Some(FetchFailure::RedirectLoop));
    assert_eq!(availability_codes(observation(&report, None, Some("循环"))), [FindingCode::SiteUnreachable]);
    assert_eq!(failure("缓慢"), Some(FetchFailure::Timeout));
    assert_eq!(failure("关闭"), Some(FetchFailure::Connect));
    assert_eq!(failure("中断"), Some(FetchFailure::Reset));
    assert_eq!(availability_codes(observation(&report, None, Some("故障"))), [FindingCode::HttpError]);

    let stub = observation(&report, None, Some("跳转"));
    assert!(availability_codes(stub).is_empty(), "{:?}", stub.findings);
    assert_eq!(stub.fetch.as_ref().unwrap().redirects, [sim.url("/portal/index.html")]);
    assert_eq!(stub.items(), Some(2));
    let gzip = observation(&report, None, Some("压缩"));
    assert_eq!((availability_codes(gzip).len(), gzip.items()), (0, Some(2)));
    for target in ["循环", "缓慢", "关闭", "中断", "故障"] {
        let verdict = report.sites.iter().find(|s| s.target == target).unwrap();
        assert!(verdict.unreachable && !verdict.ok, "{target}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_stops_at_the_byte_cap() {
    let sim = Sim::start().await.unwrap();
    // 64 MiB of zeros after the list: about 64 KiB on the wire, 64 MiB if read whole.
    let mut body = b"<ul><li><a href='/a/1.html'>\xe5\x8e\xbf\xe6\x94\xbf\xe5\xba\x9c\xe5\xb8\xb8\xe5\x8a\xa1\xe4\xbc\x9a</a><span>2026-11-20</span></li><li><a href='/a/2.html'>\xe8\xb0\x83\xe7\xa0\x94\xe6\xb4\xbb\xe5\x8a\xa8</a><span>2026-11-19</span></li></ul>".to_vec();
    body.resize(64 << 20, b'0');
    sim.route("/", Route::bytes("text/html; charset=utf-8", body).gzipped());
    let config = site_config(&[("炸弹", sim.url("/"))], "10s").replacen(
        "[[site]]",
        "[limits]\nmax_body_bytes = 1048576\n\n[[site]]",
        1,
    );
    let report = check_json(&config).await;
    let home = observation(&report, None, Some("炸弹"));
    let fetch = home.fetch.as_ref().unwrap();
    assert_eq!((fetch.body_bytes, fetch.truncated), (1 << 20, true));
    assert!(availability_codes(home).is_empty(), "the home page opened: {:?}", home.findings);
    let cut: Vec<_> = home.findings.iter().filter(|f| f.code == FindingCode::BodyTruncated).collect();
    assert_eq!(cut.len(), 1, "{:?}", home.findings);
    assert_eq!(cut[0].severity, xunjian_shared::wire::Severity::Error);
    assert!(cut[0].detail.contains("1048576 字节"), "the cap is named: {}", cut[0].detail);
    assert_eq!(home.items(), Some(2), "what was read is still inspected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polite_to_each_host_and_one_request_per_page() {
    let sim = Sim::start().await.unwrap();
    let list = "<ul><li><a href='./1.html'>信息一</a><span>2026-11-20</span></li><li><a href='./2.html'>信息二</a><span>2026-11-18</span></li></ul>";
    sim.route("/", Route::html(list));
    let mut config = site_config(&[("礼貌", sim.url("/"))], "10s");
    for index in 0..10 {
        let path = format!("/col{index}/");
        sim.route(&path, Route::html(list).delayed(Duration::from_millis(150)));
        config.push_str(&format!("[[site.column]]\nname = \"栏目{index}\"\nurl = \"{}\"\n", sim.url(&path)));
    }
    let report = check_json(&config).await;
    assert_eq!(report.observations.len(), 11);
    assert_eq!(sim.peak_in_flight(), 2, "default per-host limit is 2 requests in flight");
    assert_eq!(
        sim.hits("/"),
        2,
        "availability, home_update and the audit's checks share one fetch; cloaking asks once more, as Baiduspider"
    );
    assert_eq!(sim.hits("/col3/"), 1, "column_update and blank_column share one fetch");
}

/// Service guides as `check --json` reports them: a guide list followed to its guides
/// `max_guides` a round (the corpus's guide pages, GBK ones included), and a single guide page;
/// the missing elements are the manifest's, and enough badly incomplete guides make the veto.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guides_are_followed_from_their_list_and_read_for_their_elements() {
    let manifest = corpus::load();
    let sim = Sim::start().await.unwrap();
    let path = |file: &str| format!("/bsfw/bszn/{file}");
    for guide in &manifest.guide {
        sim.route(&path(&guide.file), Route::bytes(&guide.content_type, guide.bytes()));
    }
    // A guide list as CMSs publish them: dated links to the guide pages, with the site's
    // header and footer around them.
    let mut list = String::from(
        "<html><head><meta charset=\"utf-8\"><title>办事指南</title></head><body><div class=\"navbar\"><a href=\"/\">首页</a></div><ul class=\"list\">",
    );
    for (index, guide) in manifest.guide.iter().enumerate() {
        list.push_str(&format!(
            "<li><a href=\"{}\">{}</a><span>2026-10-{:02}</span></li>",
            path(&guide.file),
            guide.title,
            index + 1
        ));
    }
    list.push_str("</ul><div class=\"footer\">联系电话：0762-6722111</div></body></html>");
    sim.route("/bsfw/bszn/", Route::html(list));
    sim.route("/", Route::html("<html><body><a href=\"/bsfw/bszn/\">办事指南</a></body></html>"));
    // The single guide at an address of its own (not in the list: the list's reading of the same
    // page would be shared, and a round reads both at once).
    let single = &manifest.guide[1];
    sim.route("/bsfw/dbsp.html", Route::bytes(&single.content_type, single.bytes()));
    let config = format!(
        "[agent]\nid = \"guides\"\ncounty = \"龙川县\"\n[thresholds]\nguide_veto_count = 2\nguide_veto_missing = 2\n\
         [[site]]\nname = \"龙川县人民政府门户网站\"\nunit = \"县政府办\"\nurl = \"{}\"\n\
         [[site.column]]\nname = \"办事指南\"\nurl = \"{}\"\nkind = \"guide\"\nmax_guides = 3\n\
         [[site.guide]]\nname = \"最低生活保障审批\"\nurl = \"{}\"\n",
        sim.url("/"),
        sim.url("/bsfw/bszn/"),
        sim.url("/bsfw/dbsp.html"),
    );
    let report = check_json(&config).await;

    let column = observation(&report, Some("办事指南"), None);
    let guides = column.guides().expect("the guide list's guides");
    assert_eq!(guides.checked, 3, "max_guides a round: {guides:?}");
    for (item, expected) in guides.items.iter().zip(&manifest.guide) {
        assert_eq!(item.missing, expected.missing, "{}", expected.file);
        assert_eq!(item.title, expected.title);
        assert!(item.url.ends_with(&expected.file));
    }
    let incomplete = manifest.guide.iter().take(3).filter(|g| !g.missing.is_empty()).count();
    assert_eq!(guides.incomplete as usize, incomplete);
    let missing: Vec<&str> = column
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::GuideElementsMissing)
        .map(|f| f.detail.as_str())
        .collect();
    assert_eq!(missing.len(), incomplete, "{missing:?}");
    assert!(missing[0].contains(&manifest.guide[0].title) && missing[0].contains("申请条件、办理流程"), "{missing:?}");
    assert!(codes(column).contains(&FindingCode::GuideVeto), "three guides missing two each: {:?}", codes(column));
    assert!(!codes(column).contains(&FindingCode::ColumnNotUpdated), "a guide list is not judged on how new it is");

    let page = observation(&report, Some("最低生活保障审批"), None);
    let read = page.guides().expect("the single guide");
    assert_eq!((read.checked, read.incomplete), (1, 1));
    assert_eq!(read.items[0].missing, single.missing);
    assert!(!codes(page).contains(&FindingCode::ColumnBlank), "a guide page is not a list");
    assert!(!codes(page).contains(&FindingCode::GuideVeto), "one guide is not a veto");
}

/// Policy columns paired with their interpretation columns through the real binary: corpus
/// lists served over HTTP (their document pages too), each judged document standing as the
/// manifest says, the findings naming the late and the missing.
#[tokio::test]
async fn policies_are_paired_with_their_interpretations() {
    let manifest = corpus::load();
    let cases: Vec<&corpus::CorpusInterpretation> = manifest
        .interpretation
        .iter()
        .filter(|case| !case.policy.url.contains('?') && !case.expect.is_empty())
        .filter(|case| case.policy.url.split('/').nth(2) == case.interpretations.url.split('/').nth(2))
        .collect();
    assert!(cases.len() >= 3 && cases.iter().any(|case| !case.detail.is_empty()), "cases with pages read for links");
    let mut sims = Vec::new();
    let mut config = String::from("[agent]\nid = \"policies\"\ncounty = \"龙川县\"\n");
    for (n, case) in cases.iter().enumerate() {
        let sim = Sim::start().await.unwrap();
        let origin = |url: &str| url.split('/').take(3).collect::<Vec<_>>().join("/");
        let site_origin = origin(&case.policy.url);
        let here = sim.url("");
        let here = here.trim_end_matches('/');
        // The pages' absolute links name the real host: they lead to the simulator instead.
        let serve = |file: &corpus::CorpusFile| {
            let path = url::Url::parse(&file.url).unwrap().path().to_string();
            let body = replace_bytes(&file.bytes(), site_origin.as_bytes(), here.as_bytes());
            sim.route(&path, Route::bytes(&file.content_type, body));
            format!("{here}{path}")
        };
        let policy = serve(&case.policy);
        let interpretations = serve(&case.interpretations);
        for detail in &case.detail {
            serve(detail);
        }
        sim.route("/", Route::html("<html><body><a href=\"/zwgk/\">政务公开</a></body></html>"));
        config.push_str(&format!(
            "[[site]]\nname = \"站点{n}\"\nunit = \"县政府办\"\nurl = \"{here}/\"\n\
             [[site.column]]\nname = \"政策文件\"\nurl = \"{policy}\"\nkind = \"policy\"\ninterpretations = \"政策解读\"\n\
             [[site.column]]\nname = \"政策解读\"\nurl = \"{interpretations}\"\nkind = \"interpretation\"\n"
        ));
        sims.push(sim);
    }
    let report = check_json(&config).await;
    for (n, case) in cases.iter().enumerate() {
        let column = observation(&report, Some("政策文件"), Some(&format!("站点{n}")));
        let summary = column.interpretations().unwrap_or_else(|| panic!("{}: no interpretation block", case.layout));
        let count = |standing: &str| case.expect.iter().filter(|e| e.standing == standing).count() as u32;
        assert_eq!(
            (summary.policies, summary.interpreted, summary.late, summary.missing, summary.pending),
            (
                case.expect.len() as u32,
                count("interpreted") + count("late"),
                count("late"),
                count("missing"),
                count("pending")
            ),
            "{}: {summary:?}",
            case.layout
        );
        for expected in &case.expect {
            let item = summary
                .items
                .iter()
                .find(|item| item.title == expected.policy)
                .unwrap_or_else(|| panic!("{}: {} not among {:?}", case.layout, expected.policy, summary.items));
            assert_eq!(item.delay_working_days, expected.delay, "{}: {}", case.layout, expected.policy);
            assert_eq!(item.interpreted_by.is_some(), expected.by.is_some(), "{}: {}", case.layout, expected.policy);
            let (code, named) = match expected.standing.as_str() {
                "late" => (FindingCode::InterpretationLate, true),
                "missing" => (FindingCode::PolicyNotInterpreted, true),
                _ => (FindingCode::PolicyNotInterpreted, false),
            };
            let found = column.findings.iter().any(|f| f.code == code && f.detail.contains(&expected.policy));
            assert_eq!(found, named, "{}: {} {:?}", case.layout, expected.policy, column.findings);
        }
        assert_eq!(column.ok, count("late") + count("missing") == 0);
        let interpretations = observation(&report, Some("政策解读"), Some(&format!("站点{n}")));
        assert!(interpretations.interpretations().is_none(), "the block is the policy column's");
    }
    drop(sims);
}

fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut at = 0;
    while at < haystack.len() {
        if haystack[at..].starts_with(from) {
            out.extend_from_slice(to);
            at += from.len();
        } else {
            out.push(haystack[at]);
            at += 1;
        }
    }
    out
}

/// An interpretation list read past its first page, and a policy older than every interpretation
/// read left unjudged when the list goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interpretations_on_later_pages_are_found() {
    let sim = Sim::start().await.unwrap();
    let list = |title: &str, items: &[(&str, &str, &str)], pager: &str| {
        let rows: String = items
            .iter()
            .map(|(href, title, date)| format!("<li><a href=\"{href}\">{title}</a><span>{date}</span></li>"))
            .collect();
        format!(
            "<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h2>{title}</h2><ul class=\"list\">{rows}</ul><div class=\"page\">{pager}</div></body></html>"
        )
    };
    sim.route(
        "/zcwj/",
        Route::html(list(
            "政策文件",
            &[
                ("/zcwj/3.html", "龙川县农贸市场管理办法", "2026-11-16"),
                ("/zcwj/2.html", "龙川县城区停车收费管理办法", "2026-10-12"),
                ("/zcwj/1.html", "龙川县历史文化街区保护管理办法", "2026-07-06"),
            ],
            "",
        )),
    );
    // Five pages of other interpretations, newest first; 停车 is on the second page, and the
    // list goes on past the fifth page read.
    let others = ["河源市促进消费若干措施", "河源市养老服务条例", "河源市全民健身实施计划", "广东省耕地保护条例"];
    for page in 0..6 {
        let name = if page == 0 { "index.html".to_string() } else { format!("index_{page}.html") };
        let mut items: Vec<(String, String, String)> = (0..4)
            .map(|n| {
                let date =
                    jiff::civil::date(2026, 11, 20).checked_sub(jiff::Span::new().days(page * 9 + n * 2)).unwrap();
                (
                    format!("/zcjd/{page}_{n}.html"),
                    format!("《{}》解读（{page}-{n}）", others[n as usize]),
                    date.to_string(),
                )
            })
            .collect();
        if page == 1 {
            items.push((
                "/zcjd/park.html".into(),
                "《龙川县城区停车收费管理办法》政策解读".into(),
                "2026-10-13".into(),
            ));
        }
        let items: Vec<(&str, &str, &str)> =
            items.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
        let pager = format!("<script>createPageHTML(9, {page}, \"index\", \"html\");</script>");
        sim.route(&format!("/zcjd/{name}"), Route::html(list("政策解读", &items, &pager)));
    }
    sim.route("/", Route::html("<html><body><a href=\"/zcwj/\">政策文件</a></body></html>"));
    let config = format!(
        "[agent]\nid = \"pages\"\ncounty = \"龙川县\"\n[[site]]\nname = \"龙川县人民政府门户网站\"\nunit = \"县政府办\"\nurl = \"{}\"\n\
         [[site.column]]\nname = \"政策文件\"\nurl = \"{}\"\nkind = \"policy\"\ninterpretations = \"政策解读\"\n\
         [[site.column]]\nname = \"政策解读\"\nurl = \"{}\"\nkind = \"interpretation\"\n",
        sim.url("/"),
        sim.url("/zcwj/"),
        sim.url("/zcjd/index.html"),
    );
    let report = check_json(&config).await;
    let column = observation(&report, Some("政策文件"), None);
    let summary = column.interpretations().expect("the interpretation block");
    let standing: Vec<(&str, Option<&str>, Option<i64>)> = summary
        .items
        .iter()
        .map(|item| (item.title.as_str(), item.interpreted_by.as_deref(), item.delay_working_days))
        .collect();
    assert_eq!(standing.len(), 2, "the 2026-07 policy is older than every interpretation read: {standing:?}");
    assert_eq!((summary.missing, summary.interpreted), (1, 1), "{standing:?}");
    let park = summary.items.iter().find(|item| item.title.contains("停车")).unwrap();
    assert!(park.interpreted_by.as_deref().is_some_and(|url| url.ends_with("/zcjd/park.html")), "{park:?}");
    assert_eq!(park.delay_working_days, Some(1));
    assert_eq!(sim.hits("/zcjd/index_5.html"), 0, "five pages at most");
    assert_eq!(sim.hits("/zcjd/index_4.html"), 1);
}

/// 暗链 through the real binary: a home page and a GBK column page that hide links to other
/// sites each way, and a site whose hover menus, skip links and carousels hide nothing that is
/// not its own or harmless (sister sites on subdomains are a unit test's: the simulator serves
/// from an address, not a domain).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_links_are_found_and_menus_are_not() {
    let sim = Sim::start().await.unwrap();
    let list = "<ul class=\"list\"><li><a href=\"/a/1.html\">县政府召开常务会议</a><span>2026-11-25</span></li>\
                <li><a href=\"/a/2.html\">县领导调研乡村振兴</a><span>2026-11-24</span></li></ul>";
    sim.route(
        "/hijacked/",
        Route::html(format!(
            "<html><head><meta charset=\"utf-8\"><title>某县人民政府</title><style>.yc9{{position:absolute;left:-8000px;top:-8000px}}</style></head><body>{list}\
             <div class=\"yc9\"><a href=\"http://127.0.0.2:9/\">澳门葡京娱乐城</a><a href=\"http://127.0.0.3:9/\">体育</a></div>\
             <p style=\"font-size:0\"><a href=\"http://127.0.0.4:9/\">友情链接</a></p>\
             <script>document.write('<div style=\"display:none\"><a href=\"http://127.0.0.5:9/\">真人娱乐开户送</a></div>');</script>\
             <a href=\"/hdjl/\">县长信箱</a></body></html>"
        )),
    );
    let column = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gbk\"><title>工作动态</title></head><body>\
        <ul class=\"list\"><li><a href=\"/b/1.html\">我县开展森林防火检查</a><span>2026-11-20</span></li></ul>\
        <marquee height=\"1\"><a href=\"http://127.0.0.6:9/\">百家乐</a></marquee></body></html>";
    sim.route("/hijacked/gzdt/", Route::bytes("text/html", encoding_rs::GBK.encode(column).0.into_owned()));
    sim.route(
        "/clean/",
        Route::html(format!(
            "<html><head><meta charset=\"utf-8\"><title>某县教育局</title></head><body>\
             <a href=\"#main\" style=\"position:absolute;left:-9999px\">跳到主要内容</a>\
             <ul class=\"nav\"><li><a href=\"/zwgk/\">政务公开</a><ul style=\"display:none\"><li><a href=\"/zwgk/zcwj/\">政策文件</a></li>\
             <li><a href=\"http://127.0.0.7:9/\">广东省人民政府</a></li></ul></li></ul>\
             <div class=\"swiper\"><div class=\"slide\" style=\"display:none\"><a href=\"http://127.0.0.8:9/\">人民网专题</a></div></div>\
             <a href=\"/bsdt/\" style=\"position:absolute;left:-9999px\">办事大厅</a>{list}\
             <a href=\"/hdjl/\">局长信箱</a></body></html>"
        )),
    );
    let config = format!(
        "[agent]\nid = \"hidden\"\ncounty = \"龙川县\"\n\
         [[site]]\nname = \"被挂暗链网\"\nunit = \"县政府办\"\nurl = \"{}\"\n[[site.column]]\nname = \"工作动态\"\nurl = \"{}\"\nkind = \"news\"\n\
         [[site]]\nname = \"正常网\"\nunit = \"县教育局\"\nurl = \"{}\"\n",
        sim.url("/hijacked/"),
        sim.url("/hijacked/gzdt/"),
        sim.url("/clean/"),
    );
    let report = check_json(&config).await;
    let home = observation(&report, None, Some("被挂暗链网"));
    let links = home.hidden_links().expect("the audit's hidden links");
    let techniques: Vec<&str> = links.iter().map(|l| l.technique.as_str()).collect();
    assert_eq!(techniques, ["off_screen", "off_screen", "zero_font", "display_none"], "{links:?}");
    assert!(links[3].scripted && links[3].term.is_some(), "{links:?}");
    assert!(links[2].term.is_none(), "hidden by zero font: reported without a term");
    let finding = home.findings.iter().find(|f| f.code == FindingCode::HiddenLinks).expect("hidden_links");
    assert_eq!(finding.severity, xunjian_shared::wire::Severity::Veto);
    assert!(
        finding.detail.contains("澳门葡京娱乐城") && finding.detail.contains("定位到屏幕之外"),
        "{}",
        finding.detail
    );
    let column = observation(&report, Some("工作动态"), Some("被挂暗链网"));
    let column_links = column.hidden_links().expect("the column's hidden links");
    assert_eq!(column_links.len(), 1);
    assert_eq!((column_links[0].technique.as_str(), column_links[0].term.as_deref()), ("tiny_marquee", Some("百家乐")));
    assert!(column.findings.iter().any(|f| f.code == FindingCode::HiddenLinks && f.detail.contains("栏目页")));
    let clean = observation(&report, None, Some("正常网"));
    assert_eq!(clean.hidden_links().map(<[_]>::len), Some(0), "{:?}", clean.hidden_links());
    assert!(!codes(clean).contains(&FindingCode::HiddenLinks));
}

/// A column page listing three items, the newest on `newest` (a date string).
fn dated_column(newest: &str) -> Route {
    Route::html(format!(
        "<html><body><div class=\"list\"><ul><li><a href=\"a1.html\">县政府召开常务会议研究部署工作</a><span>{newest}</span></li>\
         <li><a href=\"a2.html\">县领导调研乡村振兴重点项目</a><span>2026-08-02</span></li>\
         <li><a href=\"a3.html\">关于做好冬季安全生产工作的通知</a><span>2026-07-15</span></li></ul></div></body></html>"
    ))
}

/// Portal home pages that are mostly navigation (the corpus' four `home-nav-*` layouts) are
/// judged by the newest item of the configured columns they link to, and say so; a configured
/// column they do not link to does not count, and a portal linking to none is judged by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_navigation_home_page_is_judged_by_its_columns() {
    let manifest = corpus::load();
    let page = |file: &str| manifest.page.iter().find(|p| p.file == file).unwrap();
    // (corpus home page, its linked column paths, the newest date they show, site name)
    let cases = [
        ("home_nav_tiles.html", ["/zwgk/gzdt/index.html", "/zwgk/tzgg/"], "2026-11-23", "导航龙川"),
        ("home_nav_banner_gbk.html", ["/hpxzf/xwzx/hpyw/index.html", "/hpxzf/zwgk/tzgg/"], "2026-10-01", "导航和平"),
        ("home_nav_megamenu.html", ["/zjxrmzf/zwgk/zwyw/", "/zjxrmzf/zwgk/tzgg/index.html"], "2026-11-20", "导航紫金"),
        ("home_nav_township_gbk.html", ["/news/list.asp?lm=1", "/news/list.asp?lm=2"], "2026-11-24", "导航上坪"),
    ];
    let mut sims = Vec::new();
    let mut config = site_config(&[], "10s");
    for (file, columns, newest, name) in &cases {
        let sim = Sim::start().await.unwrap();
        let home = page(file);
        sim.route("/", Route::bytes(&home.content_type, home.bytes()));
        config.push_str(&format!("\n[[site]]\nname = \"{name}\"\nunit = \"{name}办\"\nurl = \"{}\"\n", sim.url("/")));
        for (index, path) in columns.iter().enumerate() {
            // The simulator matches a path with its query first.
            sim.route(path, dated_column(if index == 0 { newest } else { "2026-06-30" }));
            config.push_str(&format!("\n[[site.column]]\nname = \"栏目{index}\"\nurl = \"{}\"\n", sim.url(path)));
        }
        // Configured, fresh, and not linked from the home page: not what the home page shows.
        sim.route("/elsewhere/", dated_column("2026-11-25"));
        config.push_str(&format!("\n[[site.column]]\nname = \"未链接栏目\"\nurl = \"{}\"\n", sim.url("/elsewhere/")));
        sims.push(sim);
    }
    // The tiles portal again, with only a column it does not link to: judged by itself.
    let alone = Sim::start().await.unwrap();
    let tiles = page("home_nav_tiles.html");
    alone.route("/", Route::bytes(&tiles.content_type, tiles.bytes()));
    alone.route("/elsewhere/", dated_column("2026-11-25"));
    config.push_str(&format!(
        "\n[[site]]\nname = \"导航无栏目\"\nunit = \"导航无栏目办\"\nurl = \"{}\"\n\n[[site.column]]\nname = \"未链接栏目\"\nurl = \"{}\"\n",
        alone.url("/"),
        alone.url("/elsewhere/")
    ));

    let report = check_json(&config).await;
    for (_, _, newest, name) in &cases {
        let home = observation(&report, None, Some(name));
        let stale: Vec<_> = home.findings.iter().filter(|f| f.code == FindingCode::HomeNotUpdated).collect();
        assert_eq!(home.last_update().map(|p| p.date.to_string()).as_deref(), Some(*newest), "{name}");
        if *newest == "2026-10-01" {
            // The banner portal's linked columns are stale too: the veto stands, and says why.
            assert_eq!(stale.len(), 1, "{name}: {:?}", home.findings);
            let detail = &stale[0].detail;
            assert!(
                detail.contains("首页以导航为主") && detail.contains("栏目“栏目0”最新信息发布于 2026-10-01"),
                "{detail}"
            );
        } else {
            assert!(stale.is_empty(), "{name}: judged by its linked columns: {:?}", home.findings);
        }
    }
    let alone_home = observation(&report, None, Some("导航无栏目"));
    let veto: Vec<_> = alone_home.findings.iter().filter(|f| f.code == FindingCode::HomeNotUpdated).collect();
    assert_eq!(veto.len(), 1, "{:?}", alone_home.findings);
    assert!(veto[0].detail.starts_with("首页未找到注明发布日期的信息"), "{}", veto[0].detail);
}
