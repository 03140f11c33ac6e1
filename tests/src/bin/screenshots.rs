//! `xunjian-screenshots --out DIR`: the console's main pages as a person sees them, from the
//! demo (in this process) in headless Chromium through chromedriver: the login page, the
//! overview, the status page, the problem list, the task board, a task with its answer form (as
//! 龙川县's user), a county, a site, the registry. `docs/screenshots/make.sh` runs it.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::Duration;

use xunjian_tests::browser::Browser;
use xunjian_tests::harness::wait_until;

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut out = PathBuf::from("docs/screenshots");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().map(PathBuf::from).unwrap_or(out),
            other => {
                eprintln!("unknown argument {other:?}; usage: xunjian-screenshots [--out DIR]");
                std::process::exit(2);
            }
        }
    }
    std::fs::create_dir_all(&out).expect("the output directory");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(run(out));
}

async fn run(out: PathBuf) {
    let dir = xunjian_tests::harness::temp_dir("screenshots");
    let demo =
        xunjian_demo::Demo::start("127.0.0.1:0".parse().expect("address"), &dir.join("demo")).await.expect("the demo");
    let web = format!("http://{}", demo.web_addr);
    let admin = demo.logins.iter().find(|l| l.role == xunjian_collector::people::Role::Admin).expect("admin").clone();
    let county =
        demo.logins.iter().find(|l| l.role == xunjian_collector::people::Role::County).expect("county").clone();
    let office = xunjian_tests::harness::Login::new(&web, &admin.name, &admin.password).await;
    eprintln!("waiting for the demo's agents, the first audit and the 整改 task…");
    let task: i64 = wait_until(Duration::from_secs(120), "the demo's data and task", || async {
        let (_, _, status) = office.get(&format!("{web}/api/v1/status")).await;
        let audited = status.contains("dead_links");
        let (_, _, tasks) = office.get(&format!("{web}/api/v1/tasks")).await;
        let tasks: serde_json::Value = serde_json::from_str(&tasks).ok()?;
        let id = tasks.as_array()?.first()?["id"].as_i64()?;
        audited.then_some(id)
    })
    .await;

    made_up_trend(&dir.join("demo").join("demo.db"), &office, &web).await;

    let browser = Browser::start(&dir.join("browser"), 1366, 900).await;
    let shoot = |name: &'static str| {
        let (browser, out) = (&browser, out.clone());
        async move {
            let png = browser.screenshot().await;
            std::fs::write(out.join(format!("{name}.png")), png).expect("write the screenshot");
            eprintln!("  {name}.png");
        }
    };
    browser.goto(&format!("{web}/login")).await;
    shoot("login").await;
    browser.login(&web, &admin.name, &admin.password).await;
    let county_path = "/county/%E9%BE%99%E5%B7%9D%E5%8E%BF";
    let subject = format!(
        "/subject?county=%E9%BE%99%E5%B7%9D%E5%8E%BF&target={}",
        url::form_urlencoded::byte_serialize("龙川县教育局".as_bytes()).collect::<String>()
    );
    for (name, path) in [
        ("overview", "/overview".to_string()),
        ("status", "/".to_string()),
        ("problems", "/problems?status=open".to_string()),
        ("tasks", "/tasks".to_string()),
        ("county", county_path.to_string()),
        ("subject", subject),
        ("registry", "/registry".to_string()),
    ] {
        browser.goto(&format!("{web}{path}")).await;
        shoot(name).await;
    }
    browser.quit().await;
    // The county's side: its task, with the answer form.
    let browser = Browser::start(&dir.join("county-browser"), 1366, 900).await;
    browser.login(&web, &county.name, &county.password).await;
    browser.goto(&format!("{web}/tasks/{task}")).await;
    let png = browser.screenshot().await;
    std::fs::write(out.join("task.png"), png).expect("write the screenshot");
    eprintln!("  task.png");
    browser.quit().await;
    demo.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("screenshots in {}", out.display());
}

/// The demo is minutes old, so its trend would be empty: the pictures get twelve weeks of
/// made-up daily 合格率 for the demo's counties (and 全市), written as the collector writes a
/// closed day, ending with today's real ratios.
async fn made_up_trend(database: &std::path::Path, office: &xunjian_tests::harness::Login, web: &str) {
    let (_, _, status) = office.get(&format!("{web}/api/v1/status")).await;
    let status: xunjian_shared::wire::StatusReport = serde_json::from_str(&status).expect("the status report");
    let today = xunjian_shared::time::china_today(jiff::Timestamp::now());
    let mut connection = xunjian_collector::store::filings::open_connection(database).expect("the demo's database");
    let transaction = connection.transaction().expect("transaction");
    for ratio in &status.pass_ratios {
        for back in 1..=83i64 {
            let day = today.checked_sub(jiff::ToSpan::days(back)).expect("date").to_string();
            // From about half passing twelve weeks ago up to today's ratio, with a weekly wobble.
            let judged = i64::from(ratio.judged.max(1)) * 10;
            let share = (ratio.ratio - 0.004 * back as f64 + 0.03 * ((back % 7) as f64 - 3.0) / 3.0).clamp(0.05, 1.0);
            transaction
                .execute(
                    "INSERT INTO history_counties (day, county, kind, judged, passed) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT DO NOTHING",
                    rusqlite::params![day, ratio.county, ratio.kind.as_str(), judged, (judged as f64 * share) as i64],
                )
                .expect("a made-up day");
        }
    }
    transaction.commit().expect("commit");
}
