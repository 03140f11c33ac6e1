//! README's first command: `xunjian-collector demo` shows a working province within a minute,
//! and its status page renders in a real browser (headless Chromium).

use std::time::Duration;

use xunjian_collector::demo::Demo;
use xunjian_shared::wire::{FindingCode, StatusReport, TargetStatus};
use xunjian_tests::harness::{http_get, temp_dir, wait_until};

fn page<'r>(report: &'r StatusReport, target: &str, column: Option<&str>) -> &'r TargetStatus {
    report
        .targets
        .iter()
        .find(|t| t.observation.target == target && t.observation.column.as_deref() == column)
        .unwrap_or_else(|| panic!("no page {target} {column:?}"))
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
    let pages: usize = demo.counties.iter().flat_map(|c| &c.sites).map(|s| 1 + s.columns.len()).sum();
    let report: StatusReport = wait_until(Duration::from_secs(60), "every demo page at the collector", || async {
        let (_, _, body) = http_get(&format!("{web}/api/v1/status"), None).await;
        let report: StatusReport = serde_json::from_str(&body).ok()?;
        (report.targets.len() == pages && report.agents.len() == 3).then_some(report)
    })
    .await;

    assert!(has(page(&report, "和平县水务局", None), FindingCode::SiteUnreachable), "the down site");
    assert!(has(page(&report, "龙川县教育局", Some("教育动态")), FindingCode::ColumnNotUpdated), "the stale column");
    assert!(has(page(&report, "和平县人民政府网", Some("人事信息")), FindingCode::ColumnBlank), "the blank column");
    let gbk = page(&report, "和平县人民政府网", None);
    assert_eq!(gbk.observation.fetch.as_ref().and_then(|f| f.charset.as_deref()), Some("GBK"));
    assert!(gbk.observation.ok && gbk.observation.items == Some(10), "the GBK site reads as healthy");
    let healthy = page(&report, "紫金县人民政府网", Some("紫金要闻"));
    assert!(healthy.observation.ok, "{:?}", healthy.observation.findings);

    // The page as a browser sees it.
    let profile = dir.join("chromium-profile");
    let output = tokio::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
            &format!("{web}/"),
        ])
        .output()
        .await
        .expect("run chromium (Debian package chromium; .ci/run installs it)");
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
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
    ] {
        assert!(dom.contains(text), "the rendered page lacks {text:?}");
    }
    assert_eq!(dom.matches("<section class=\"county\">").count(), 3, "one section per county");
    demo.stop().await;
    assert!(!dir.exists(), "the demo removes its temporary files");
}
