//! README's first command: `cargo run -p xunjian-demo` shows a working province within a minute,
//! with the seed notice's three annex cases and a message board answered late across a holiday,
//! in `/api/v1/status` and `/metrics` (checked by promtool); its status page renders in a real
//! browser (headless Chromium).

use std::time::Duration;

use xunjian_demo::Demo;
use xunjian_shared::wire::{FindingCode, StatusReport, TargetStatus};
use xunjian_tests::browser::Browser;
use xunjian_tests::exposition;
use xunjian_tests::harness::{Login, promtool_check_metrics, temp_dir, wait_until};

fn page<'r>(report: &'r StatusReport, target: &str, column: Option<&str>) -> &'r TargetStatus {
    report
        .targets
        .iter()
        .find(|t| {
            t.observation.target == target
                && t.observation.column.as_deref() == column
                && t.observation.channel.is_none()
        })
        .unwrap_or_else(|| panic!("no page {target} {column:?}"))
}

fn channel<'r>(report: &'r StatusReport, target: &str, name: &str) -> &'r TargetStatus {
    report
        .targets
        .iter()
        .find(|t| t.observation.target == target && t.observation.channel.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no channel {target} {name}"))
}

fn has(target: &TargetStatus, code: FindingCode) -> bool {
    target.observation.findings.iter().any(|f| f.code == code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shows_a_province_and_its_page_renders_in_chromium() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = temp_dir("demo");
    let demo = Demo::start("127.0.0.1:0".parse().unwrap(), &dir).await.unwrap();
    let web = format!("http://{}", demo.web_addr);
    // The demo's city admin, as a person logs in with the password the demo prints.
    let admin = demo.logins.iter().find(|l| l.role == xunjian_collector::people::Role::Admin).expect("a demo admin");
    let office = Login::new(&web, &admin.name, &admin.password).await;
    let http_get = |url: String| {
        let office = &office;
        async move { office.get(&url).await }
    };
    let pages: usize = demo
        .counties
        .iter()
        .map(|c| c.accounts.len() + c.sites.iter().map(|s| 1 + s.columns.len() + s.channels.len()).sum::<usize>())
        .sum();
    // Every page, board and account, and the first audit (dead links, wording) of every site.
    let report: StatusReport = wait_until(Duration::from_secs(90), "every demo page at the collector", || async {
        let (_, _, body) = http_get(format!("{web}/api/v1/status")).await;
        let report: StatusReport = serde_json::from_str(&body).ok()?;
        let audited = report
            .targets
            .iter()
            .filter(|t| t.observation.kind == xunjian_shared::wire::TargetKind::Site && t.observation.fetch.is_some())
            .filter(|t| t.observation.column.is_none() && t.observation.channel.is_none())
            .all(|t| {
                t.observation.dead_links().is_some()
                    || t.observation
                        .findings
                        .iter()
                        .any(|f| matches!(f.code, FindingCode::SiteUnreachable | FindingCode::HttpError))
            });
        (report.targets.len() == pages && report.agents.len() == 4 && audited).then_some(report)
    })
    .await;

    assert!(has(page(&report, "和平县水务局", None), FindingCode::SiteUnreachable), "the down site");
    assert!(has(page(&report, "龙川县教育局", Some("教育动态")), FindingCode::ColumnNotUpdated), "the stale column");
    assert!(has(page(&report, "和平县人民政府网", Some("人事信息")), FindingCode::ColumnBlank), "the blank column");
    let gbk = page(&report, "和平县人民政府网", None);
    assert_eq!(gbk.observation.fetch.as_ref().and_then(|f| f.charset.as_deref()), Some("GBK"));
    assert!(
        gbk.observation.ok && gbk.observation.items() == Some(10),
        "the GBK site reads as healthy: {:?}",
        gbk.observation.findings
    );
    let healthy = page(&report, "紫金县人民政府网", Some("紫金要闻"));
    assert!(healthy.observation.ok, "{:?}", healthy.observation.findings);
    let education = page(&report, "龙川县教育局", None);
    let dead: Vec<&str> = education.observation.dead_links().into_iter().flatten().map(|l| l.text.as_str()).collect();
    assert_eq!(dead, ["下载中心"], "the one broken link");
    assert_eq!(page(&report, "龙川县人民政府门户网站", None).observation.dead_links().map(<[_]>::len), Some(0));
    let hijacked = page(&report, "紫金县人民政府网", None);
    assert!(has(hijacked, FindingCode::HiddenLinks), "the 暗链 case: {:?}", hijacked.observation.findings);
    assert_eq!(hijacked.observation.hidden_links().map(<[_]>::len), Some(2));
    assert!(has(education, FindingCode::Cloaking), "the cloaking case: {:?}", education.observation.findings);
    for site in ["龙川县人民政府门户网站", "和平县人民政府网"] {
        let honest = page(&report, site, None);
        for code in [FindingCode::HiddenLinks, FindingCode::Cloaking, FindingCode::SensitiveContent] {
            assert!(!has(honest, code), "{site}: {code:?}");
        }
    }

    // The annex's three cases, by name.
    let registry = &report.registry;
    let registry_case = |target: &str, code: FindingCode| {
        registry.findings.iter().find(|f| f.target == target && f.finding.code == code)
    };
    let unfiled = registry_case("河源市社会保险基金管理局", FindingCode::NotFiled).expect("漏报 case");
    assert_eq!((unfiled.channel.as_str(), unfiled.county.as_str()), ("微信", "市直"));
    let closed = registry_case("龙川县公共服务中心", FindingCode::ClosedButLive).expect("未及时关停 case");
    assert_eq!(closed.filed_status.as_deref(), Some("已关停"));
    // 龙川's home page names an account nobody filed or lists: a candidate for the registry.
    let discovered = registry_case("龙川融媒", FindingCode::AccountDiscovered).expect("the account found from a link");
    assert_eq!((discovered.channel.as_str(), discovered.county.as_str()), ("微信", "龙川县"));
    assert!(registry_case("河源发布", FindingCode::AccountDiscovered).is_none(), "a filed account it names is not");
    // The notice's rules for new media, one case each; every other account keeps to them.
    let mut found: Vec<(&str, &str)> =
        registry.findings.iter().map(|f| (f.target.as_str(), f.finding.code.as_str())).collect();
    found.sort_unstable();
    let mut expected = vec![
        ("河源市社会保险基金管理局", "not_filed"),
        ("龙川县公共服务中心", "closed_but_live"),
        ("龙川融媒", "account_discovered"),
        ("紫金发布", "filed_late"),
        ("和平发布", "duplicate_account"),
        ("和平县人民政府", "duplicate_account"),
        ("龙川教育", "unit_type_not_allowed"),
        ("和平视窗", "platform_not_mainstream"),
        ("和平县", "county_without_account"),
        ("紫金县融媒", "possibly_filed"),
        ("河源应急", "filing_pending"),
    ];
    expected.sort_unstable();
    assert_eq!(found, expected, "{:#?}", registry.findings);
    let late = registry_case("紫金发布", FindingCode::FiledLate).unwrap();
    assert!(
        late.finding.detail.contains("迟报 7 天"),
        "opened 30 days ago, filed 20 days ago: {}",
        late.finding.detail
    );
    let county_row = registry_case("和平县", FindingCode::CountyWithoutAccount).unwrap();
    assert_eq!((county_row.channel.as_str(), county_row.county.as_str()), ("微信", "和平县"));
    let possible = registry_case("紫金县融媒", FindingCode::PossiblyFiled).unwrap();
    assert!(possible.finding.detail.contains("紫金县融媒体"), "{}", possible.finding.detail);
    let weibo = page(&report, "河源市生态环境局", None);
    assert!(has(weibo, FindingCode::AccountInteractionClosed), "互动不通畅 case: {:?}", weibo.observation.findings);
    assert_eq!(weibo.observation.comments_open(), Some(false));
    let names: Vec<&str> = registry.unmonitored.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["紫金县文明办"]);
    assert!(has(page(&report, "和平发布", None), FindingCode::AccountNotUpdated), "the stale Weibo");

    // The verdicts: the annex's three accounts are 不合格, each for its own reason; so are the
    // stale Weibo, the site with a message unanswered for months, and the filing no agent inspects.
    let verdict = |target: &str| {
        report.verdicts.iter().find(|v| v.target == target).unwrap_or_else(|| panic!("no verdict for {target}"))
    };
    let reasons = |target: &str| -> Vec<&str> { verdict(target).reasons.iter().map(|r| r.code.as_str()).collect() };
    assert_eq!(reasons("河源市社会保险基金管理局"), ["not_filed"]);
    assert_eq!(reasons("龙川县公共服务中心"), ["closed_but_live"]);
    assert_eq!(reasons("河源市生态环境局"), ["account_interaction_closed"]);
    assert!(reasons("紫金县人民政府网").contains(&"interaction_unanswered"), "{:?}", verdict("紫金县人民政府网"));
    assert_eq!(reasons("紫金县文明办"), ["unmonitored"]);
    assert_eq!(reasons("紫金发布"), ["filed_late"]);
    assert_eq!(reasons("和平发布"), ["account_not_updated", "duplicate_account"]);
    assert_eq!(reasons("龙川教育"), ["unit_type_not_allowed"]);
    assert_eq!(reasons("和平视窗"), ["platform_not_mainstream"]);
    // Found by its id under its full name; a possible match and a new account are warnings.
    for healthy in ["河源发布", "和平县人民政府网", "龙川公安", "龙川发布", "紫金县融媒", "河源应急"]
    {
        assert!(verdict(healthy).pass, "{healthy}: {:?}", verdict(healthy));
    }
    assert!(report.verdicts.iter().filter(|v| !v.pass).all(|v| !v.reasons.is_empty()));
    // 合格率 per county and kind add up to the whole city's.
    for kind in [xunjian_shared::wire::TargetKind::Site, xunjian_shared::wire::TargetKind::Account] {
        let rows: Vec<_> = report.pass_ratios.iter().filter(|r| r.kind == kind).collect();
        let city = rows.iter().find(|r| r.county == "全市").expect("the whole city's row");
        let counties = rows.iter().filter(|r| r.county != "全市");
        let (judged, passed) = counties.fold((0, 0), |(j, p), r| (j + r.judged, p + r.passed));
        assert_eq!((city.judged, city.passed), (judged, passed), "{kind}");
        let verdicts = report.verdicts.iter().filter(|v| v.kind == kind);
        assert_eq!(city.judged as usize, verdicts.clone().count());
        assert_eq!(city.passed as usize, verdicts.filter(|v| v.pass).count());
    }

    // The board answered late across National Day: one of five late by working days (its 咨询,
    // simple questions by the board's own category, answered in one).
    let board = channel(&report, "龙川县人民政府门户网站", "县长信箱");
    let o = &board.observation;
    assert_eq!(
        (o.replies().messages, o.replies().overdue, o.replies().unanswered, o.replies().max_reply_working_days),
        (Some(5), Some(1), Some(1), Some(8))
    );
    assert!(has(board, FindingCode::InteractionOverdue));
    // 龙川's policies and their interpretations (one missing, one late), and its guide list (two
    // of five guides incomplete).
    let policies = page(&report, "龙川县人民政府门户网站", Some("政策文件"));
    assert!(has(policies, FindingCode::PolicyNotInterpreted) && has(policies, FindingCode::InterpretationLate));
    let interpretation = policies.observation.interpretations().expect("the policy column's interpretations");
    assert_eq!((interpretation.policies, interpretation.missing, interpretation.late), (3, 1, 1));
    let guides = page(&report, "龙川县人民政府门户网站", Some("办事指南"));
    assert!(has(guides, FindingCode::GuideElementsMissing));
    assert_eq!(guides.observation.guides().map(|g| (g.checked, g.incomplete)), Some((5, 2)));
    let veto = channel(&report, "紫金县人民政府网", "咨询投诉");
    assert!(has(veto, FindingCode::InteractionUnanswered) && has(veto, FindingCode::InteractionFieldsMissing));
    assert!(channel(&report, "和平县人民政府网", "留言板").observation.ok);

    // The flapping site: in the ledger, a problem that opened and closed (and reopens).
    let flapped = wait_until(Duration::from_secs(120), "the flapping site's problem opened and closed", || async {
        let (_, _, body) =
            http_get(format!("{web}/api/v1/problems?county=%E7%B4%AB%E9%87%91%E5%8E%BF&code=http_error")).await;
        let page: xunjian_shared::wire::api::ProblemPage = serde_json::from_str(&body).ok()?;
        page.problems.into_iter().find(|p| p.target == "紫金县文化馆" && (p.resolved_at.is_some() || p.reopened > 0))
    })
    .await;
    assert_eq!(flapped.label, "网站返回错误状态");
    assert!(flapped.evidence.contains("503"), "{}", flapped.evidence);

    // One 整改 task is waiting for 龙川县 to answer, and its county user sees it.
    let county = demo.logins.iter().find(|l| l.role == xunjian_collector::people::Role::County).expect("a county user");
    let lc = Login::new(&web, &county.name, &county.password).await;
    let task: serde_json::Value = wait_until(Duration::from_secs(60), "the demo's 整改 task", || async {
        let (_, _, body) = lc.get(&format!("{web}/api/v1/tasks")).await;
        let tasks: serde_json::Value = serde_json::from_str(&body).ok()?;
        tasks.as_array()?.first().cloned()
    })
    .await;
    assert_eq!((task["county"].as_str(), task["state"].as_str()), (Some("龙川县"), Some("pending")), "{task}");

    // The same in /metrics, which promtool accepts.
    let (_, _, text) = xunjian_tests::harness::http_get(&format!("{web}/metrics"), None).await;
    promtool_check_metrics(&text).unwrap_or_else(|complaint| panic!("promtool check metrics failed:\n{complaint}"));
    let samples = exposition::parse(&text);
    let value = |name: &str, labels: &[(&str, &str)]| exposition::value(&samples, name, labels);
    assert_eq!(value("xunjian_account_registered", &[("target", "河源市社会保险基金管理局")]), Some(0.0));
    assert_eq!(value("xunjian_account_registered", &[("target", "河源发布")]), Some(1.0));
    assert_eq!(value("xunjian_account_closed_but_live", &[("target", "龙川县公共服务中心")]), Some(1.0));
    assert_eq!(value("xunjian_account_closed_but_live", &[("target", "河源发布")]), Some(0.0));
    assert_eq!(value("xunjian_account_interaction_open", &[("target", "河源市生态环境局")]), Some(0.0));
    assert_eq!(value("xunjian_interaction_overdue", &[("channel", "县长信箱")]), Some(1.0));
    assert_eq!(value("xunjian_interaction_up", &[("channel", "县长信箱")]), Some(1.0));
    assert_eq!(value("xunjian_interaction_max_reply_workdays", &[("channel", "县长信箱")]), Some(8.0));
    assert_eq!(value("xunjian_registry_unmonitored", &[("target", "紫金县文明办")]), Some(1.0));
    assert_eq!(value("xunjian_dead_links", &[("target", "龙川县教育局")]), Some(1.0));
    assert_eq!(value("xunjian_wording_errors", &[("target", "龙川县教育局")]), Some(0.0));
    assert_eq!(value("xunjian_findings", &[("target", "河源市社会保险基金管理局"), ("code", "not_filed")]), Some(1.0));
    for (target, code) in [
        ("紫金发布", "filed_late"),
        ("和平县人民政府", "duplicate_account"),
        ("龙川教育", "unit_type_not_allowed"),
        ("和平视窗", "platform_not_mainstream"),
        ("河源应急", "filing_pending"),
    ] {
        assert_eq!(value("xunjian_findings", &[("target", target), ("code", code)]), Some(1.0), "{target} {code}");
    }
    assert_eq!(value("xunjian_county_without_account", &[("county", "和平县"), ("platform", "wechat")]), Some(1.0));
    assert_eq!(value("xunjian_county_without_account", &[("county", "龙川县")]), None);
    assert_eq!(value("xunjian_account_discovered", &[("target", "龙川融媒")]), Some(1.0));
    assert_eq!(value("xunjian_verdict", &[("target", "河源市社会保险基金管理局")]), Some(0.0));
    assert_eq!(value("xunjian_verdict", &[("target", "河源发布")]), Some(1.0));
    assert_eq!(
        value("xunjian_verdict_reasons", &[("target", "龙川县公共服务中心"), ("reason", "closed_but_live")]),
        Some(1.0)
    );
    let city = report.pass_ratios.iter().find(|r| r.county == "全市" && r.kind.as_str() == "account").unwrap();
    assert_eq!(value("xunjian_pass_ratio", &[("county", "全市"), ("kind", "account")]), Some(city.ratio));

    // The page as a browser sees it, after logging in with the printed password.
    let browser = Browser::start(&dir, 1280, 900).await;
    browser.login(&web, &admin.name, &admin.password).await;
    let dom = browser.source().await;
    browser.quit().await;
    for text in [
        "政府网站与政务新媒体巡检",
        "龙川县",
        "和平县",
        "紫金县",
        "暂无信息",
        "首页无法访问",
        "超过动态要闻类栏目的 14 天更新要求",
        "采集代理",
        "longchuan",
        "备案核查",
        "未向市府办公室备案（漏报）",
        "未及时履行关停注销程序",
        "互动交流渠道不畅通",
        "县长信箱（互动）",
        "已备案，但没有任何采集代理巡检",
        "各县区合格率",
        "全市",
        "不合格",
        "未备案（漏报）</b>",
    ] {
        assert!(dom.contains(text), "the rendered page lacks {text:?}");
    }
    assert_eq!(dom.matches("<section class=\"county\">").count(), 4, "one section per county and 市直");
    assert!(dom.contains("通报（Word）"), "the status page links this quarter's report");

    // This quarter's 通报, as the status page links it: the seed's three annex cases in its
    // 附件, and the counts and 合格率 the status shows.
    let status: StatusReport = serde_json::from_str(&http_get(format!("{web}/api/v1/status")).await.2).unwrap();
    let response = office.client.get(format!("{web}/api/v1/report?format=xlsx")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let bytes = response.bytes().await.unwrap().to_vec();
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let cells = |workbook: &mut calamine::Xlsx<_>, sheet: &str| -> Vec<Vec<String>> {
        use calamine::Reader as _;
        let range = workbook.worksheet_range(sheet).unwrap();
        range.rows().map(|row| row.iter().map(|cell| cell.to_string()).collect()).collect()
    };
    let annex = cells(&mut workbook, "附件");
    for (name, platform, problem) in [
        ("河源市社会保险基金管理局", "微信", "未备案（漏报）"),
        ("龙川县公共服务中心", "微信", "已关停仍在运行"),
        ("河源市生态环境局", "新浪微博", "互动功能不通畅"),
    ] {
        let row = annex.iter().find(|row| row[2] == name).unwrap_or_else(|| panic!("{name} in the 附件: {annex:?}"));
        assert_eq!(row[3], platform, "{row:?}");
        assert!(row[4].starts_with(problem), "{row:?}");
    }
    // The security cases: gambling links hidden on 紫金's home page, and 龙川县教育局's page
    // showing Baiduspider a gambling title.
    for (name, problem) in [("紫金县人民政府网", "存在暗链"), ("龙川县教育局", "对搜索引擎展示不同内容")]
    {
        let row = annex.iter().find(|row| row[2] == name).unwrap_or_else(|| panic!("{name} in the 附件: {annex:?}"));
        assert!(row[4].contains(problem), "{row:?}");
    }
    // The notice's rules, each a 不合格 line of the 附件 under its own words.
    for (name, problem) in [
        ("紫金发布", "备案不及时"),
        ("和平县人民政府", "重复开设"),
        ("龙川教育", "不应单独开设"),
        ("和平视窗", "非主流平台"),
    ] {
        let row = annex.iter().find(|row| row[2] == name).unwrap_or_else(|| panic!("{name} in the 附件: {annex:?}"));
        assert!(row[4].contains(problem), "{row:?}");
    }
    let failed = status.verdicts.iter().filter(|v| !v.pass).count();
    assert_eq!(annex.iter().filter(|row| row[0].parse::<u32>().is_ok()).count(), failed, "one annex row per 不合格");
    let overview = cells(&mut workbook, "总体情况");
    let city = overview.iter().find(|row| row[0] == "全市").expect("a 全市 line");
    assert_eq!(city[4], status.verdicts.len().to_string(), "判定数: every site and account");
    assert_eq!(city[3], (status.verdicts.len() - failed).to_string(), "合格");
    let judged: u32 = status.pass_ratios.iter().filter(|r| r.county == "全市").map(|r| r.judged).sum();
    let passed: u32 = status.pass_ratios.iter().filter(|r| r.county == "全市").map(|r| r.passed).sum();
    let ratio: f64 = city[5].parse().unwrap();
    assert!((ratio - f64::from(passed) / f64::from(judged)).abs() < 1e-9, "合格率 as the status page's");
    demo.stop().await;
    assert!(!dir.exists(), "the demo removes its temporary files");
}
