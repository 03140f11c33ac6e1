//! `xunjian-bench-collector`: ingest and scrape figures of a real collector process.
//!
//! 1. Ingest over mTLS on loopback: pre-encoded batches (500 observations each, gzip JSON)
//!    pushed by concurrent clients to `xunjian-collector serve`; batches/s, observations/s,
//!    the collector's CPU seconds per million observations and its peak RSS (from /proc).
//! 2. `GET /metrics` at about 10k and 100k series: time (median of several) and size.
//! 3. The exposition library choice: the same 100k series rendered by prometheus-client (what
//!    the collector uses) and by the `prometheus` crate, in this process.
//! 4. The problem ledger read as `/api/v1/problems` reads it (`Store::problems`): a page of 100
//!    and every row, with 50,000 problems open (in memory) and then resolved (on disk).
//! 5. The day close: the batch that ends a China day, with every page, verdict and pass ratio
//!    written to the history in its transaction.
//!
//! ```text
//! cargo run --release -p xunjian-tests --bin xunjian-bench-collector [-- --observations 1000000]
//!     [--collector PATH]   # measure another build (an earlier commit) with the same load
//! ```
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;
use xunjian_collector::metrics::Metrics;
use xunjian_collector::store::Store;
use xunjian_shared::config::ColumnKind;
use xunjian_shared::time::Published;
use xunjian_shared::wire::{
    Batch, BatchId, CheckKind, FetchRecord, Finding, FindingCode, Freshness, Observation, Severity, TargetKind,
};
use xunjian_tests::harness;
use xunjian_tests::measure::{free_port, peak_rss_mb, process_cpu_seconds, wait_for_port};

const BATCH_OBSERVATIONS: usize = 500;
const CLIENTS: usize = 4;
/// One site gives a home page and three columns: about 20 series.
const COLUMNS: [&str; 3] = ["工作动态", "通知公告", "政策文件"];

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut total_observations = 1_000_000usize;
    let mut collector = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--observations" => {
                total_observations = args.next().and_then(|v| v.parse().ok()).unwrap_or(total_observations)
            }
            "--quick" => total_observations = 40_000,
            // Another build of the collector (an earlier commit), measured by the same bench.
            "--collector" => collector = args.next().map(std::path::PathBuf::from),
            other => {
                eprintln!(
                    "unknown argument {other:?}; usage: xunjian-bench-collector [--observations N] [--quick] [--collector PATH]"
                );
                std::process::exit(2);
            }
        }
    }
    println!(
        "xunjian-bench-collector (build: {})",
        if cfg!(debug_assertions) { "debug — use --release for real figures" } else { "release" }
    );
    let dir = harness::temp_dir("bench-collector");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let collector = collector.unwrap_or_else(|| harness::binary("xunjian-collector"));
    println!("collector: {}", collector.display());
    runtime.block_on(ingest_and_scrape(&dir, &collector, total_observations));
    library_choice(&dir);
    runtime.block_on(problem_queries(&dir, if total_observations < 100_000 { 5_000 } else { 50_000 }));
    runtime.block_on(day_close(&dir, if total_observations < 100_000 { 500 } else { 5_000 }));
    let _ = std::fs::remove_dir_all(&dir);
}

async fn ingest_and_scrape(dir: &Path, collector_bin: &Path, total_observations: usize) {
    let certs = dir.join("certs");
    let cli = |args: &[&str]| {
        let status =
            Command::new(collector_bin).args(args).stdout(Stdio::null()).status().expect("run xunjian-collector");
        assert!(status.success(), "xunjian-collector {args:?} failed");
    };
    cli(&["certs", "init", "--dir", certs.to_str().unwrap(), "--host", "127.0.0.1"]);
    cli(&["certs", "issue", "--dir", certs.to_str().unwrap(), "--agent", "bench"]);
    let (push_port, web_port) = (free_port(), free_port());
    let config = dir.join("collector.toml");
    std::fs::write(
        &config,
        format!("[collector]\ndatabase = \"bench.db\"\n[push]\nlisten = \"127.0.0.1:{push_port}\"\nca = \"certs/ca.pem\"\ncert = \"certs/server.pem\"\nkey = \"certs/server-key.pem\"\nmax_batches_per_minute = 1000000\nmax_subjects_per_agent = 1000000\n[web]\nlisten = \"127.0.0.1:{web_port}\"\nopen_reads = true\n"),
    )
    .unwrap();
    let mut collector: Child = Command::new(collector_bin)
        .args(["serve", "--config", config.to_str().unwrap()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start the collector");
    wait_for_port(web_port);
    let pid = collector.id();

    let ca = std::fs::read(certs.join("ca.pem")).unwrap();
    let mut identity = std::fs::read(certs.join("agents/bench.pem")).unwrap();
    identity.push(b'\n');
    identity.extend(std::fs::read(certs.join("agents/bench-key.pem")).unwrap());
    let client = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&ca).unwrap())
        .identity(reqwest::Identity::from_pem(&identity).unwrap())
        .build()
        .unwrap();
    let push_url = format!("https://127.0.0.1:{push_port}/api/v1/push");
    let metrics_url = format!("http://127.0.0.1:{web_port}/metrics");

    // Phase 1: 500 sites (about 10k series), then scrape.
    let small = encode_batches(0, 500, 1);
    push_all(&client, &push_url, small).await;
    scrape(&metrics_url, "~10k series").await;

    // Phase 2: 5,000 sites (about 100k series), pushed until `total_observations` arrived.
    let sites = 5_000;
    let rounds = (total_observations / (sites * 4)).max(1);
    println!(
        "\n## ingest over mTLS: {} observations in batches of {BATCH_OBSERVATIONS}, {CLIENTS} clients",
        rounds * sites * 4
    );
    let batches: Vec<Vec<u8>> =
        (0..rounds).flat_map(|round| encode_batches(round + 1, sites, round as u64 + 2)).collect();
    let batch_count = batches.len();
    let cpu_before = process_cpu_seconds(Some(pid));
    let started = Instant::now();
    push_all(&client, &push_url, batches).await;
    let wall = started.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds(Some(pid)) - cpu_before;
    let observations = rounds * sites * 4;
    println!("batches/s            {:>12.0}", batch_count as f64 / wall);
    println!("observations/s       {:>12.0}", observations as f64 / wall);
    println!("CPU s per million    {:>12.2}", cpu / observations as f64 * 1e6);
    println!("collector peak RSS   {:>9.0} MB", peak_rss_mb(pid));
    scrape(&metrics_url, "~100k series").await;
    println!("collector peak RSS   {:>9.0} MB (after scrapes)", peak_rss_mb(pid));
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let _ = collector.wait();
}

async fn push_all(client: &reqwest::Client, url: &str, mut batches: Vec<Vec<u8>>) {
    // Popped from the end: reversed, they go out in the order they were made, as an agent
    // sends them (the collector takes the later-received observation as the newer).
    batches.reverse();
    let queue = Arc::new(std::sync::Mutex::new(batches));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (client, url, queue) = (client.clone(), url.to_string(), queue.clone());
        tasks.spawn(async move {
            loop {
                let Some(body) = queue.lock().unwrap().pop() else { break };
                let response =
                    client.post(&url).header("content-encoding", "gzip").body(body).send().await.expect("push");
                assert!(response.status().is_success(), "push refused: {}", response.text().await.unwrap_or_default());
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

async fn scrape(url: &str, label: &str) {
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    let mut size = 0;
    let mut series = 0;
    for _ in 0..7 {
        // The collector shares a rendering for a second: wait it out, so each scrape renders.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let started = Instant::now();
        let body = client.get(url).send().await.unwrap().text().await.unwrap();
        times.push(started.elapsed());
        size = body.len();
        series = body.lines().filter(|l| !l.starts_with('#')).count();
    }
    times.sort();
    println!(
        "\n## GET /metrics, {label}: {series} series, {:.1} MB, median {:.1} ms (min {:.1} ms)",
        size as f64 / 1e6,
        times[3].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    );
}

/// Batches covering `sites` sites (home + 3 columns each); `round` varies ids and dates.
fn encode_batches(round: usize, sites: usize, sequence_base: u64) -> Vec<Vec<u8>> {
    let now = Timestamp::now();
    let observations: Vec<Observation> = (0..sites).flat_map(|site| synthetic_site(site, round, now)).collect();
    observations
        .chunks(BATCH_OBSERVATIONS)
        .enumerate()
        .map(|(index, chunk)| {
            let batch = Batch {
                schema_version: 1,
                batch_id: BatchId::parse(&format!("bench-{round:04}-{index:06}")).unwrap(),
                agent: "bench".into(),
                county: format!("县{}", index % 20),
                sequence: sequence_base * 1_000_000 + index as u64,
                created_at: now,
                inventory: None,
                observations: chunk.to_vec(),
            };
            let json = serde_json::to_vec(&batch).unwrap();
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(&json).unwrap();
            encoder.finish().unwrap()
        })
        .collect()
}

/// A site's home page and columns in `round`: one column in seven is stale, and one site in
/// eleven is down every other round (so the ledger opens, closes and reopens problems).
fn synthetic_site(site: usize, round: usize, now: Timestamp) -> Vec<Observation> {
    let target = format!("某县第{site}号政府网站");
    let fetch = FetchRecord {
        status: Some(200),
        duration_ms: 80 + (site % 50) as u64,
        failure: None,
        redirects: Vec::new(),
        tls_not_after: Some(now + jiff::SignedDuration::from_hours(24 * 90)),
        charset: Some("UTF-8".into()),
        body_bytes: 30_000,
        truncated: false,
    };
    let base = Observation {
        target: target.clone(),
        kind: TargetKind::Site,
        unit: format!("某县第{}号单位", site % 300),
        platform: None,
        column: None,
        column_kind: None,
        url: format!("https://www{site}.example.gov.cn/"),
        checks: vec![CheckKind::Availability, CheckKind::HomeUpdate],
        checked_at: now,
        ok: true,
        freshness: Some(Freshness {
            items: Some(20),
            last_update: Some(Published::date(jiff::civil::Date::constant(2026, 11, 20))),
            age_days: Some(6),
            max_age_days: Some(14),
        }),
        fetch: Some(fetch.clone()),
        findings: Vec::new(),
        ..Observation::new("", TargetKind::Site, "", "", CheckKind::Availability, now)
    };
    let mut home = base.clone();
    if site.is_multiple_of(11) && round % 2 == 1 {
        home.ok = false;
        home.fetch =
            Some(FetchRecord { status: None, failure: Some(xunjian_shared::wire::FetchFailure::Timeout), ..fetch });
        home.findings.push(Finding::new(FindingCode::SiteUnreachable, Severity::Error, "首页 15 秒内未能打开"));
    }
    let mut pages = vec![home];
    for (index, column) in COLUMNS.iter().enumerate() {
        let mut page = base.clone();
        page.column = Some((*column).to_string());
        page.column_kind = Some(ColumnKind::infer(column));
        page.checks = vec![CheckKind::ColumnUpdate, CheckKind::BlankColumn];
        page.url = format!("https://www{site}.example.gov.cn/c{index}/");
        if (site + index).is_multiple_of(7) {
            page.ok = false;
            page.findings.push(Finding::new(
                FindingCode::ColumnNotUpdated,
                Severity::Error,
                "栏目最新信息发布于 2026-09-01，超过 14 天",
            ));
        }
        pages.push(page);
    }
    pages
}

/// The same 100k series through prometheus-client (the collector's renderer) and through the
/// `prometheus` crate, in this process.
fn library_choice(dir: &Path) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let store = Store::open(&dir.join("library.db")).expect("store");
    let now = Timestamp::now();
    let observations: Vec<Observation> = (0..5_000).flat_map(|site| synthetic_site(site, 0, now)).collect();
    runtime.block_on(async {
        for (index, chunk) in observations.chunks(BATCH_OBSERVATIONS).enumerate() {
            let batch = Batch {
                schema_version: 1,
                batch_id: BatchId::parse(&format!("library-{index:06}")).unwrap(),
                agent: "bench".into(),
                county: format!("县{}", index % 20),
                sequence: index as u64,
                created_at: now,
                inventory: None,
                observations: chunk.to_vec(),
            };
            let body = xunjian_collector::store::LoggedBody { bytes: serde_json::to_vec(&batch).unwrap(), gzip: false };
            store
                .commit(
                    batch,
                    body,
                    xunjian_collector::projection::Receipt { received_at: now, certificate_not_after: None },
                    usize::MAX,
                )
                .await
                .expect("commit");
        }
    });
    let metrics = Metrics::new(store.clone(), xunjian_collector::alerts::AlertBoard::default());
    let time = |render: &dyn Fn() -> String| {
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..7 {
            let started = Instant::now();
            size = render().len();
            times.push(started.elapsed());
        }
        times.sort();
        (times[3], size)
    };
    let (client_time, client_size) = time(&|| metrics.render(false));
    let (crate_time, crate_size) = time(&|| render_with_prometheus_crate(&store));
    println!("\n## exposition library, the same ~100k series rendered in-process (median of 7)");
    println!(
        "prometheus-client 0.26 (used)   {:>8.1} ms  {:>6.1} MB",
        client_time.as_secs_f64() * 1e3,
        client_size as f64 / 1e6
    );
    println!(
        "prometheus 0.14 (TextEncoder)   {:>8.1} ms  {:>6.1} MB",
        crate_time.as_secs_f64() * 1e3,
        crate_size as f64 / 1e6
    );
}

/// The business families the collector renders, built as `prometheus` crate protobuf structs
/// and encoded with its TextEncoder.
fn render_with_prometheus_crate(store: &Store) -> String {
    use prometheus::proto::{Gauge, LabelPair, Metric, MetricFamily, MetricType};
    use prometheus::{Encoder, TextEncoder};
    let snapshot = store.snapshot();
    let label = |name: &str, value: &str| {
        let mut pair = LabelPair::default();
        pair.set_name(name.to_string());
        pair.set_value(value.to_string());
        pair
    };
    let family = |name: &str, help: &str, values: Vec<(Vec<LabelPair>, f64)>| {
        let mut family = MetricFamily::default();
        family.set_name(name.to_string());
        family.set_help(help.to_string());
        family.set_field_type(MetricType::GAUGE);
        for (labels, value) in values {
            let mut metric = Metric::default();
            metric.set_label(labels);
            let mut gauge = Gauge::default();
            gauge.set_value(value);
            metric.set_gauge(gauge);
            family.mut_metric().push(metric);
        }
        family
    };
    let labels_of = |state: &xunjian_collector::projection::SubjectState| {
        let o = &state.observation;
        vec![
            label("county", &state.county),
            label("unit", &o.unit),
            label("target", &o.target),
            label("kind", o.kind.as_str()),
            label("platform", o.platform.as_deref().unwrap_or("")),
            label("column", o.column.as_deref().unwrap_or("")),
        ]
    };
    type Value = fn(&Observation) -> Option<f64>;
    let families: [(&str, Value); 6] = [
        ("xunjian_http_status_code", |o| o.fetch.as_ref().and_then(|f| f.status).map(f64::from)),
        ("xunjian_last_update_timestamp_seconds", |o| o.last_update().map(|p| p.timestamp().as_second() as f64)),
        ("xunjian_column_items", |o| o.items().map(f64::from)),
        ("xunjian_stale", |o| o.items().map(|_| f64::from(u8::from(!o.ok)))),
        ("xunjian_probe_duration_seconds", |o| {
            o.fetch.as_ref().filter(|_| o.column.is_none()).map(|f| f.duration_ms as f64 / 1e3)
        }),
        ("xunjian_tls_cert_not_after_timestamp_seconds", |o| {
            o.fetch.as_ref().filter(|_| o.column.is_none()).and_then(|f| f.tls_not_after).map(|t| t.as_second() as f64)
        }),
    ];
    let mut out = Vec::new();
    let encoder = TextEncoder::new();
    let mut all = Vec::new();
    for (name, value) in families {
        let values = snapshot
            .subjects()
            .values()
            .filter_map(|state| value(&state.observation).map(|v| (labels_of(state), v)))
            .collect();
        all.push(family(name, "help", values));
    }
    for probe in ["success", "failure"] {
        let values = snapshot
            .subjects()
            .values()
            .filter(|s| s.observation.column.is_none())
            .map(|state| {
                let mut labels = labels_of(state);
                labels.pop();
                labels.push(label("result", probe));
                (labels, 1.0)
            })
            .collect();
        all.push(family(&format!("xunjian_probes_{probe}"), "help", values));
    }
    encoder.encode(&all, &mut out).expect("encode");
    String::from_utf8(out).unwrap_or_default()
}

/// `Store::problems` over `count` problems: open (held in memory), then resolved and checkpointed
/// (read from disk), a page of 100 and every row; median of 7.
async fn problem_queries(dir: &Path, count: usize) {
    use xunjian_collector::ledger::{LedgerSettings, Status};
    use xunjian_collector::store::ledger::ProblemFilter;
    let settings = LedgerSettings { close_after: 2, reopen_within: jiff::SignedDuration::ZERO };
    let retention = xunjian_shared::config::collector::DEFAULT_HISTORY_RETENTION;
    let store = Store::open_with(&dir.join("problems.db"), settings, retention, Default::default()).expect("store");
    let start = Timestamp::now() - jiff::SignedDuration::from_hours(3);
    let sites = count / 4;
    let mut sequence = 0;
    for round in 0..3 {
        // Round 0: every page stale (a problem each); rounds 1 and 2: none, so all close.
        let at = start + jiff::SignedDuration::from_mins(round as i64);
        let mut observations: Vec<Observation> = (0..sites).flat_map(|site| synthetic_site(site, 0, at)).collect();
        for observation in &mut observations {
            observation.findings.clear();
            if round == 0 {
                let code = if observation.column.is_some() {
                    FindingCode::ColumnNotUpdated
                } else {
                    FindingCode::HomeNotUpdated
                };
                observation.findings.push(Finding::new(code, Severity::Error, "超期"));
            }
        }
        for chunk in observations.chunks(BATCH_OBSERVATIONS) {
            sequence += 1;
            let batch = Batch {
                schema_version: 1,
                batch_id: BatchId::parse(&format!("ledger-{sequence:08}")).unwrap(),
                agent: "bench".into(),
                county: format!("县{}", sequence % 20),
                sequence,
                created_at: at,
                inventory: None,
                observations: chunk.to_vec(),
            };
            let body = xunjian_collector::store::LoggedBody { bytes: serde_json::to_vec(&batch).unwrap(), gzip: false };
            let receipt =
                xunjian_collector::projection::Receipt { received_at: Timestamp::now(), certificate_not_after: None };
            store.commit(batch, body, receipt, usize::MAX).await.expect("commit");
        }
        if round == 0 {
            store.checkpoint().await.expect("checkpoint");
            report_queries(&store, &format!("{count} problems open (in memory)"), Status::Open);
        }
    }
    store.checkpoint().await.expect("checkpoint");
    report_queries(&store, &format!("{count} problems resolved (on disk)"), Status::Resolved);

    fn report_queries(store: &Store, label: &str, status: Status) {
        let time = |filter: &ProblemFilter, limit: usize| {
            let mut times = Vec::new();
            let mut total = 0;
            for _ in 0..7 {
                let started = Instant::now();
                let (matched, rows) = store.problems(filter, 0, limit).expect("problems");
                times.push(started.elapsed());
                total = matched;
                assert!(rows.len() <= limit);
            }
            times.sort();
            (times[3].as_secs_f64() * 1e3, total)
        };
        let all = ProblemFilter::default();
        let by_status = ProblemFilter { status: Some(status), ..ProblemFilter::default() };
        let county = ProblemFilter { county: Some("县3".into()), ..ProblemFilter::default() };
        println!("\n## /api/v1/problems, {label}");
        for (name, filter, limit) in [
            ("page of 100", &all, 100),
            ("status filter, page of 100", &by_status, 100),
            ("one county, page of 100", &county, 100),
            ("every row (CSV)", &all, usize::MAX),
        ] {
            let (ms, total) = time(filter, limit);
            println!("{name:<28} {ms:>8.1} ms  ({total} match)");
        }
    }
}

/// Commits `sites` sites (home and three columns) on one China day, then times the commit of the
/// batch that reaches the next day (it writes the whole day's history).
async fn day_close(dir: &Path, sites: usize) {
    let store = Store::open(&dir.join("history.db")).expect("store");
    let today = xunjian_shared::time::china_today(Timestamp::now());
    let day = today.yesterday().expect("a day before");
    let evening = xunjian_shared::time::china_midnight(day) + jiff::SignedDuration::from_hours(20);
    let commit = |sequence: u64, observations: Vec<Observation>, at: Timestamp| {
        let store = store.clone();
        async move {
            let batch = Batch {
                schema_version: 1,
                batch_id: BatchId::parse(&format!("day-{sequence:08}")).unwrap(),
                agent: "bench".into(),
                county: format!("县{}", sequence % 20),
                sequence,
                created_at: at,
                inventory: None,
                observations,
            };
            let body = xunjian_collector::store::LoggedBody { bytes: serde_json::to_vec(&batch).unwrap(), gzip: false };
            let receipt =
                xunjian_collector::projection::Receipt { received_at: Timestamp::now(), certificate_not_after: None };
            store.commit(batch, body, receipt, usize::MAX).await.expect("commit");
        }
    };
    let observations: Vec<Observation> = (0..sites).flat_map(|site| synthetic_site(site, 1, evening)).collect();
    let pages = observations.len();
    for (index, chunk) in observations.chunks(BATCH_OBSERVATIONS).enumerate() {
        commit(index as u64 + 1, chunk.to_vec(), evening).await;
    }
    let morning = xunjian_shared::time::china_midnight(today) + jiff::SignedDuration::from_mins(5);
    let next_day = synthetic_site(0, 1, morning);
    let started = Instant::now();
    commit(1_000_000, next_day, morning).await;
    let took = started.elapsed();
    println!(
        "\n## day close: {pages} pages, {sites} sites judged and written to the history in {:.0} ms (the commit that ended the day)",
        took.as_secs_f64() * 1e3
    );
}
