//! `xunjian-bench-console`: how long each page of the console takes at province scale, as a
//! logged-in person gets it over HTTP from a real collector (in this process): 10,000 sites in
//! 100 counties (a home page and four columns each, every page with a problem: 50,000 open
//! problems), 12 weeks of daily pass ratios for the trend, 1,000 整改 tasks. Prints each page's
//! median and slowest time of several requests and its size, against the target (< 200 ms).
//!
//! ```text
//! cargo run --release -p xunjian-tests --bin xunjian-bench-console [-- --sites 10000]
//! ```
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use jiff::{Timestamp, ToSpan};
use xunjian_shared::wire::{Batch, BatchId, CheckKind, Finding, FindingCode, Observation, Severity, TargetKind};
use xunjian_tests::harness::{self, Login};

/// The issue's target for every page.
const TARGET_MS: f64 = 200.0;
const COUNTIES: usize = 100;
const COLUMNS: [&str; 4] = ["工作动态", "通知公告", "政策文件", "人事信息"];
const REQUESTS: usize = 7;
/// How often the alert loop (and the 整改 re-check) runs during the bench.
const EVALUATION: Duration = Duration::from_secs(10);

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut sites = 10_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => sites = 600,
            "--sites" => sites = args.next().and_then(|v| v.parse().ok()).unwrap_or(sites),
            other => {
                eprintln!("unknown argument {other:?}; usage: xunjian-bench-console [--quick] [--sites N]");
                std::process::exit(2);
            }
        }
    }
    println!(
        "xunjian-bench-console (build: {})",
        if cfg!(debug_assertions) { "debug — use --release for real figures" } else { "release" }
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(run(sites));
}

fn site_pages(site: usize, at: Timestamp) -> Vec<Observation> {
    let target = format!("第{site}号政府网站");
    let unit = format!("第{}号单位", site % 400);
    let url = format!("https://www{site}.example.gov.cn/");
    let mut home = Observation::new(&target, TargetKind::Site, &unit, &url, CheckKind::HomeUpdate, at);
    home.findings.push(Finding::new(FindingCode::DeadLinks, Severity::Error, "首页有 2 个失效链接"));
    home.settle();
    let mut pages = vec![home];
    for (index, column) in COLUMNS.iter().enumerate() {
        let mut page =
            Observation::new(&target, TargetKind::Site, &unit, &format!("{url}c{index}/"), CheckKind::ColumnUpdate, at);
        page.column = Some((*column).to_string());
        page.findings.push(Finding::new(FindingCode::ColumnNotUpdated, Severity::Error, "栏目超过 14 天未更新"));
        page.settle();
        pages.push(page);
    }
    pages
}

async fn run(sites: usize) {
    let dir = harness::temp_dir("bench-console");
    let pki = xunjian_collector::tls::EphemeralPki::new().expect("certificates");
    let mut settings = harness::collector_settings(&dir, &pki);
    settings.open_reads = false;
    // The 整改 board (the overview's task counts) is filled by the re-check before each
    // evaluation; it runs (with every rule over every page) while the pages are timed, as in
    // production, only more often.
    settings.alerts.evaluation_interval = EVALUATION;
    let started = Instant::now();
    let running = xunjian_collector::server::start(settings).await.expect("collector");
    let now = Timestamp::now();
    let mut sequence = 0;
    // One agent per county, each pushing its sites' pages.
    for county in 0..COUNTIES {
        let pages: Vec<Observation> =
            (county..sites).step_by(COUNTIES).flat_map(|site| site_pages(site, now)).collect();
        for chunk in pages.chunks(500) {
            sequence += 1;
            let batch = Batch {
                schema_version: 1,
                batch_id: BatchId::parse(&format!("console-{sequence:08}")).expect("batch id"),
                agent: format!("agent-{county}"),
                county: format!("县{county}"),
                sequence,
                created_at: now,
                inventory: None,
                observations: chunk.to_vec(),
            };
            let body =
                xunjian_collector::store::LoggedBody { bytes: serde_json::to_vec(&batch).expect("json"), gzip: false };
            let receipt = xunjian_collector::projection::Receipt { received_at: now, certificate_not_after: None };
            running.store.commit(batch, body, receipt, usize::MAX).await.expect("commit");
        }
    }
    running.store.checkpoint().await.expect("checkpoint");
    let problems = running.store.problems(&Default::default(), 0, 0).expect("problems").0;
    println!(
        "setup: {sites} sites in {COUNTIES} counties, {} pages, {problems} open problems, pushed in {:.1} s",
        sites * (1 + COLUMNS.len()),
        started.elapsed().as_secs_f64()
    );

    // The trend's history, the tasks and the people, written as the collector writes them.
    let database = dir.join("xunjian.db");
    let mut connection = xunjian_collector::store::filings::open_connection(&database).expect("database");
    let today = xunjian_shared::time::china_today(now);
    {
        let transaction = connection.transaction().expect("transaction");
        for back in 1..=84i64 {
            let day = today.checked_sub(back.days()).expect("date").to_string();
            for county in 0..COUNTIES {
                let judged = (sites / COUNTIES).max(1) as i64;
                let passed = (judged * (60 + (county as i64 * 7 + back) % 40)) / 100;
                transaction
                    .execute(
                        "INSERT INTO history_counties (day, county, kind, judged, passed) VALUES (?1, ?2, 'site', ?3, ?4)",
                        rusqlite::params![day, format!("县{county}"), judged, passed],
                    )
                    .expect("history");
            }
            transaction
                .execute(
                    "INSERT INTO history_counties (day, county, kind, judged, passed) VALUES (?1, '全市', 'site', ?2, ?3)",
                    rusqlite::params![day, sites as i64, sites as i64 * 3 / 4],
                )
                .expect("history");
        }
        transaction.commit().expect("commit");
    }
    let open = running.store.problems(&Default::default(), 0, usize::MAX).expect("problems").1;
    let deadline = today.checked_add(30.days()).expect("date");
    let mut tasks = 0;
    for chunk in open.chunks(50).take(1000) {
        let same_county: Vec<_> = chunk.iter().filter(|p| p.place.county == chunk[0].place.county).cloned().collect();
        let draft =
            xunjian_collector::tasks::TaskDraft::from_problems(&same_county, Some("单位"), None, deadline, today, "")
                .expect("draft");
        xunjian_collector::store::tasks::create(&mut connection, &draft, "bench", now).expect("task");
        tasks += 1;
    }
    for (name, role, counties) in [("office", "admin", vec![]), ("county", "county", vec!["县3".to_string()])] {
        let new = xunjian_collector::people::NewUser::parse(name, role, &counties).expect("user");
        let hash = xunjian_collector::people::hash_password("bench-password-2026").expect("hash");
        xunjian_collector::store::users::add(&mut connection, &new, Some(&hash), "bench", now).expect("add user");
    }
    drop(connection);
    println!("        {tasks} 整改 tasks, 84 days of pass ratios");
    // The re-check's board (tasks for the overview) fills at the next alert evaluation.
    tokio::time::sleep(EVALUATION + Duration::from_millis(500)).await;

    // What the pages are made of, in this process.
    let median = |f: &dyn Fn()| {
        let mut times: Vec<f64> = (0..REQUESTS)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[REQUESTS / 2]
    };
    let store = running.store.clone();
    let all = xunjian_collector::people::Scope::All;
    let judged = xunjian_collector::web::Judged::of(&store, Timestamp::now());
    println!(
        "\nparts (median ms): judgement of everything {:.1} · status report without pages {:.1} · with every page {:.1} · ledger page of 500 {:.1} · one county's 500 {:.1}",
        median(&|| {
            xunjian_collector::web::Judged::of(&store, Timestamp::now());
        }),
        median(&|| {
            xunjian_collector::web::status_report(&store, &judged, &all, xunjian_collector::web::Pages::None);
        }),
        median(&|| {
            xunjian_collector::web::status_report(&store, &judged, &all, xunjian_collector::web::Pages::Every);
        }),
        median(&|| {
            store.problems(&Default::default(), 0, 500).expect("problems");
        }),
        median(&|| {
            let filter =
                xunjian_collector::store::ledger::ProblemFilter { county: Some("县3".into()), ..Default::default() };
            store.problems(&filter, 0, 500).expect("problems");
        }),
    );
    let web = format!("http://{}", running.web_addr);
    let office = Login::new(&web, "office", "bench-password-2026").await;
    let county = Login::new(&web, "county", "bench-password-2026").await;
    let subject = format!("/subject?county=%E5%8E%BF3&target={}", harness_encode("第3号政府网站"));
    let pages: Vec<(&str, &Login, String)> = vec![
        ("status page (/)", &office, "/".into()),
        ("overview", &office, "/overview".into()),
        ("county", &office, "/county/%E5%8E%BF3".into()),
        ("subject", &office, subject.clone()),
        ("problems (all)", &office, "/problems".into()),
        ("problems (open)", &office, "/problems?status=open".into()),
        ("problems (one county)", &office, "/problems?status=open&county=%E5%8E%BF3".into()),
        ("problems (kind, age)", &office, "/problems?kind=site&age=0&code=dead_links".into()),
        ("tasks", &office, "/tasks".into()),
        ("task", &office, "/tasks/1".into()),
        ("registry", &office, "/registry".into()),
        ("exemptions", &office, "/exemptions".into()),
        ("users", &office, "/users".into()),
        ("reports", &office, "/report".into()),
        ("county user: overview", &county, "/overview".into()),
        ("county user: problems", &county, "/problems".into()),
        ("county user: tasks", &county, "/tasks".into()),
    ];
    println!("\n{:<26} {:>10} {:>10} {:>10}   target < {TARGET_MS} ms", "page", "median ms", "max ms", "KB");
    let mut over = Vec::new();
    for (label, login, path) in &pages {
        let url = format!("{web}{path}");
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..REQUESTS {
            let started = Instant::now();
            let (status, _, body) = login.get(&url).await;
            times.push(started.elapsed().as_secs_f64() * 1e3);
            assert_eq!(status, 200, "{label}: {path}");
            size = body.len();
        }
        times.sort_by(f64::total_cmp);
        let (median, max) = (times[REQUESTS / 2], times[REQUESTS - 1]);
        let mark = if max < TARGET_MS { "ok" } else { "OVER" };
        if max >= TARGET_MS {
            over.push(*label);
        }
        println!("{label:<26} {median:>10.1} {max:>10.1} {:>10.0}   {mark}", size as f64 / 1024.0);
    }
    if over.is_empty() {
        println!("\nevery page under {TARGET_MS} ms");
    } else {
        println!("\nover {TARGET_MS} ms: {}", over.join(", "));
    }
    running.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn harness_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
