//! The review's smaller rows (security review 2: 4.4, 4.5, 3.4, 6.2), against the real binaries:
//! registry exports that a spreadsheet cannot execute, the 8 MiB registry upload the README
//! promises, a database that gives space back, and an agent that a monitored site cannot steer
//! to link-local addresses.

use std::time::Duration;

use jiff::Timestamp;
use xunjian_shared::wire::{FetchFailure, Finding, FindingCode, Severity};
use xunjian_sim::{Route, Sim};
use xunjian_tests::deployment::{Deployment, probe};
use xunjian_tests::harness::{check_json, wait_until};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn admin() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// A cell starts a formula when its first character (inside quotes) is one of these.
fn starts_formula(cell: &str) -> bool {
    cell.trim_start_matches('"').starts_with(['=', '+', '-', '@', '\t', '\r'])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_exports_cannot_run_formulas_and_large_uploads_are_taken() {
    let mut collector = Deployment::new("csv", "", "admin_token_file = \"admin-token\"\n");
    std::fs::write(collector.dir.join("admin-token"), TOKEN).unwrap();
    let names = ["=cmd|' /C calc'!A0", "+SUM(1+1)", "-2+3", "@HYPERLINK(\"http://evil\")", "=1+1"];
    let mut csv = String::from("名称,平台,责任单位,县区,备案日期,状态\n");
    for name in names {
        csv.push_str(&format!("\"{}\",微信,=单位,县,2019-06-28,运行\n", name.replace('"', "\"\"")));
    }
    let file = collector.dir.join("formulas.csv");
    std::fs::write(&file, csv).unwrap();
    let (code, _, stderr) = collector.cli(&["registry", "import", file.to_str().unwrap(), "--author", "王科长"]);
    assert_eq!(code, 0, "{stderr}");
    collector.start().await;

    let exported = collector.dir.join("exported.csv");
    let (code, _, stderr) = collector.cli(&["registry", "export", exported.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let from_cli = std::fs::read_to_string(&exported).unwrap();
    let from_api =
        admin().get(format!("{}/api/v1/registry.csv", collector.web)).send().await.unwrap().text().await.unwrap();
    assert_eq!(from_cli, from_api);
    for line in from_api.lines().skip(1) {
        for cell in line.split(',') {
            assert!(!starts_formula(cell), "a cell a spreadsheet would run: {cell:?} in {line:?}");
        }
    }
    // Imported back, the names are the office's own again.
    let (code, _, stderr) = collector.cli(&["registry", "import", exported.to_str().unwrap(), "--author", "王科长"]);
    assert_eq!(code, 0, "{stderr}");
    let filings: Vec<serde_json::Value> = serde_json::from_str(
        &admin().get(format!("{}/api/v1/registry", collector.web)).send().await.unwrap().text().await.unwrap(),
    )
    .unwrap();
    let mut got: Vec<&str> = filings.iter().map(|f| f["name"].as_str().unwrap()).collect();
    let mut want = names.to_vec();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert!(filings.iter().all(|f| f["unit"] == "=单位"));

    // 70,000 rows, about 4 MB: over axum's 2 MB default, within the 8 MiB promised.
    let mut big = String::from("名称,平台,责任单位,县区,备案日期,状态\n");
    for i in 0..70_000 {
        big.push_str(&format!("某某县某某局政务公众号{i:05},微信,某某县某某局,某某县,2019-06-28,运行\n"));
    }
    assert!(big.len() > 3_000_000 && big.len() < 8 << 20, "{} bytes", big.len());
    let response = admin()
        .put(format!("{}/api/v1/registry", collector.web))
        .bearer_auth(TOKEN)
        .header("x-xunjian-author", "%E7%8E%8B%E7%A7%91%E9%95%BF")
        .body(big)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"total\":70000"), "{body}");
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_gives_space_back_when_an_agent_is_retired() {
    let mut collector = Deployment::new("vacuum", "", "");
    collector.start().await;
    let agent = collector.agent("temporary");
    for chunk in 0..8 {
        let sites = (0..500)
            .map(|i| {
                // Column pages with reminders only: state to store, nothing that raises an alert.
                let mut column = probe("临时站", "单位", true, Timestamp::now());
                column.column = Some(format!("栏目{chunk}-{i:03}"));
                column.findings.push(Finding::new(FindingCode::BodyTruncated, Severity::Warning, "页".repeat(600)));
                column
            })
            .collect();
        assert_eq!(agent.push(&agent.batch("县", sites)).await.0, 200);
    }
    // Checkpointed at shutdown: every page is in the file.
    assert_eq!(collector.stop().await, Some(0));
    let database = collector.dir.join("xunjian.db");
    let full = std::fs::metadata(&database).unwrap().len();
    collector.start().await;
    let (code, _, stderr) = collector.cli(&["agent", "retire", "temporary", "--author", "王科长"]);
    assert_eq!(code, 0, "{stderr}");
    wait_until(Duration::from_secs(10), "the agent retired", || async {
        collector.status().await.agents.is_empty().then_some(())
    })
    .await;
    assert_eq!(collector.stop().await, Some(0));
    let after = std::fs::metadata(&database).unwrap().len();
    println!("database: {full} bytes with 4,000 pages, {after} bytes after retiring their agent");
    // The pages' space comes back; their problems stay in the ledger (closed, never deleted).
    assert!(after * 2 < full, "{after} bytes left of {full}");
    let db = rusqlite::Connection::open(&database).unwrap();
    let (problems, retired): (i64, i64) = db
        .query_row("SELECT count(*), sum(resolution = 'retired') FROM problems WHERE agent = 'temporary'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(problems > 0 && retired == problems, "{retired} of {problems} problems closed as retired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_cannot_steer_the_agent_to_link_local_addresses() {
    let sim = Sim::start().await.unwrap();
    // Cloud metadata lives at 169.254.169.254; port 1 so that nothing could answer anyway.
    sim.route("/", Route::redirect("http://169.254.169.254:1/latest/meta-data/"));
    sim.route(
        "/links/",
        Route::html(format!(
            "<html><body><ul>\
             <li><a href=\"http://169.254.169.254:1/latest/meta-data/\">元数据</a><span>2026-11-20</span></li>\
             <li><a href=\"{}\">失效页面</a><span>2026-11-20</span></li>\
             <li><a href=\"{}\">跳转到元数据</a><span>2026-11-20</span></li>\
             </ul></body></html>",
            sim.url("/gone"),
            sim.url("/to-metadata")
        )),
    );
    sim.route("/gone", Route::status(404));
    sim.route("/to-metadata", Route::redirect("http://169.254.169.254:1/latest/user-data"));
    let config = format!(
        "[agent]\nid = \"ceshi\"\ncounty = \"测试县\"\n[probe]\ntimeout = \"5s\"\naudit_interval = \"1h\"\n\
         [[site]]\nname = \"跳转站\"\nunit = \"测试单位\"\nurl = \"{}\"\n\
         [[site]]\nname = \"链接站\"\nunit = \"测试单位\"\nurl = \"{}\"\n",
        sim.url("/"),
        sim.url("/links/")
    );
    let report = check_json(&config, "2026-11-25T10:00:00+08:00").await;
    let home = |target: &str| {
        report
            .observations
            .iter()
            .find(|o| o.target == target && o.column.is_none())
            .unwrap_or_else(|| panic!("{target}"))
    };
    let redirected = home("跳转站");
    let fetch = redirected.fetch.as_ref().unwrap();
    assert_eq!(fetch.failure, Some(FetchFailure::PrivateRedirect), "{redirected:?}");
    assert!(
        redirected.findings.iter().any(|f| f.code == FindingCode::SiteUnreachable && f.detail.contains("链路本地"))
    );
    let links = home("链接站").dead_links().unwrap_or_default().to_vec();
    let urls: Vec<&str> = links.iter().map(|l| l.url.as_str()).collect();
    assert!(urls.iter().any(|u| u.ends_with("/gone")), "the real dead link is found: {urls:?}");
    assert!(urls.iter().all(|u| !u.contains("169.254")), "link-local links are not checked: {urls:?}");
    assert!(sim.hits("/to-metadata") >= 1, "the link was checked");
    assert!(urls.iter().all(|u| !u.ends_with("/to-metadata")), "its redirect to link-local was not followed: {urls:?}");
}
