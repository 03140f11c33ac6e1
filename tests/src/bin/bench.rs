//! `xunjian-bench`: prints the figures the agent is held to.
//!
//! 1. Extraction on one core: pages/s and MB/s over the corpus (bytes → charset → tree → list).
//! 2. Agent CPU seconds per 1,000 probes of a ~30 KB page on loopback, served by `xunjian-sim` in
//!    its own process so only the agent's CPU is counted: availability alone, with home-page
//!    extraction, and a column check; each over kept-alive connections and over a new
//!    connection per probe (what probes minutes apart really do).
//! 3. The peer: Prometheus' blackbox_exporter (`http_2xx` module) probing the same page, its
//!    process CPU measured the same way, when its binary is installed.
//!
//! ```text
//! cargo run --release -p xunjian-tests --bin xunjian-bench [-- --probes 1000 --quick]
//! ```
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use url::Url;
use xunjian_agent::checks::{self, Check, Ctx};
use xunjian_agent::extract::html::Document;
use xunjian_agent::extract::html_list::{read_column, read_home};
use xunjian_agent::fetch::{Fetcher, charset};
use xunjian_agent::schedule;
use xunjian_shared::config::{AgentConfig, Limits, Thresholds};
use xunjian_tests::measure::{free_port, process_cpu_seconds, wait_for_port};
use xunjian_tests::{bench_page, corpus, harness};

const PAGE_BYTES: usize = 30_000;
const PROBE_CONCURRENCY: usize = 4;

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut probes = 1000usize;
    let mut quick = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--probes" => probes = args.next().and_then(|v| v.parse().ok()).unwrap_or(probes),
            "--quick" => quick = true,
            other => {
                eprintln!("unknown argument {other:?}; usage: xunjian-bench [--probes N] [--quick]");
                std::process::exit(2);
            }
        }
    }
    if quick {
        probes = probes.min(100);
    }
    println!(
        "xunjian-bench (build: {})",
        if cfg!(debug_assertions) { "debug — use --release for real figures" } else { "release" }
    );
    extraction(if quick { Duration::from_millis(300) } else { Duration::from_secs(3) });
    probing(probes);
}

fn extraction(budget: Duration) {
    let manifest = corpus::load();
    let today: jiff::civil::Date = manifest.today.parse().expect("manifest date");
    let mut pages: Vec<(Vec<u8>, String, Url, Option<String>)> = manifest
        .page
        .iter()
        .map(|p| (p.bytes(), p.content_type.clone(), Url::parse(&p.url).expect("url"), p.column.clone()))
        .collect();
    let synthetic = bench_page::government_list_page(PAGE_BYTES).into_bytes();
    pages.push((
        synthetic,
        "text/html; charset=utf-8".into(),
        Url::parse("http://x.gov.cn/zwgk/gzdt/").expect("url"),
        Some("工作动态".into()),
    ));
    let total_bytes: usize = pages.iter().map(|p| p.0.len()).sum();
    let run = |pages: &[(Vec<u8>, String, Url, Option<String>)]| {
        let mut items = 0;
        for (bytes, content_type, url, column) in pages {
            let decoded = charset::decode(bytes, Some(content_type), true);
            let document = Document::parse(&decoded.text);
            let reading = match column {
                Some(name) => read_column(&document, url, today, name, None),
                None => read_home(&document, url, today),
            };
            items += reading.items.len();
        }
        items
    };
    run(&pages); // warm-up
    let cpu_start = process_cpu_seconds(None);
    let started = Instant::now();
    let mut rounds = 0usize;
    while started.elapsed() < budget {
        std::hint::black_box(run(&pages));
        rounds += 1;
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds(None) - cpu_start;
    let page_count = rounds * pages.len();
    println!(
        "\n## extraction (one core; charset + parse + list), {} pages, {:.1} KB",
        pages.len(),
        total_bytes as f64 / 1024.0
    );
    println!("pages/s   {:>10.0}", page_count as f64 / wall);
    println!("MB/s      {:>10.1}", (rounds * total_bytes) as f64 / wall / 1e6);
    println!("CPU s/1000 pages {:.3}", cpu / page_count as f64 * 1000.0);
}

fn probing(probes: usize) {
    let port = free_port();
    let sim_binary = harness::binary("xunjian-sim");
    let mut sim = Command::new(&sim_binary)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--write-config",
            "-",
            "--bench-page",
            &PAGE_BYTES.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", sim_binary.display()));
    wait_for_port(port);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    println!(
        "\n## agent CPU per 1000 probes of a {PAGE_BYTES}-byte page on loopback ({probes} probes, {PROBE_CONCURRENCY} at a time)"
    );
    println!("{:<34} {:>18} {:>18}", "checks", "kept-alive CPU s", "new-conn CPU s");
    for (label, which) in [
        ("availability only", Mode::Availability),
        ("availability + home extraction", Mode::Home),
        ("column (update + blank)", Mode::Column),
    ] {
        let kept = runtime.block_on(probe_cost(port, "keepalive", which, probes));
        let fresh = runtime.block_on(probe_cost(port, "close", which, probes));
        println!("{label:<34} {:>18.3} {:>18.3}", kept, fresh);
    }
    peer(port, probes, &runtime);
    let _ = sim.kill();
    let _ = sim.wait();
}

#[derive(Clone, Copy)]
enum Mode {
    Availability,
    Home,
    Column,
}

async fn probe_cost(port: u16, connection: &str, mode: Mode, probes: usize) -> f64 {
    let url = format!("http://127.0.0.1:{port}/bench/{connection}/index.html");
    let config = format!(
        "[agent]\nid = \"bench\"\ncounty = \"基准县\"\n[[site]]\nname = \"基准站\"\nunit = \"基准单位\"\nurl = \"{url}\"\n[[site.column]]\nname = \"工作动态\"\nurl = \"{url}\"\n"
    );
    let config = AgentConfig::parse(&config, std::path::Path::new("bench.toml"), &Default::default())
        .expect("bench configuration");
    let fetcher = Arc::new(
        Fetcher::new(
            &Limits { per_host_concurrency: PROBE_CONCURRENCY as u32, ..Limits::default() },
            "xunjian-bench",
            &[],
        )
        .expect("fetcher"),
    );
    let subjects = schedule::subjects(&config);
    // Found by role, not position: the schedule's order of subjects is not part of its contract.
    let subject = subjects
        .iter()
        .find(|subject| match mode {
            Mode::Column => matches!(subject.role, checks::Role::Column(_)),
            _ => matches!(subject.role, checks::Role::Home { .. }),
        })
        .expect("the bench configuration has a home page and a column")
        .clone();
    let all = checks::all();
    let wanted: Vec<Box<dyn Check>> = all
        .into_iter()
        .filter(|check| match mode {
            Mode::Availability => check.kind() == xunjian_shared::wire::CheckKind::Availability,
            Mode::Home | Mode::Column => check.applies_to(&subject),
        })
        .collect();
    let wanted = Arc::new(wanted);
    let one = |fetcher: Arc<Fetcher>, wanted: Arc<Vec<Box<dyn Check>>>, subject: checks::Subject| async move {
        let ctx = Ctx::new(Timestamp::now(), Thresholds::default(), fetcher);
        let observation = schedule::inspect(&wanted, &ctx, &subject).await.expect("an observation");
        assert_eq!(observation.fetch.as_ref().and_then(|f| f.status), Some(200), "bench page not served");
    };
    for _ in 0..20 {
        one(fetcher.clone(), wanted.clone(), subject.clone()).await;
    }
    let cpu_start = process_cpu_seconds(None);
    let mut tasks = tokio::task::JoinSet::new();
    let per_task = probes / PROBE_CONCURRENCY;
    for _ in 0..PROBE_CONCURRENCY {
        let (fetcher, wanted, subject) = (fetcher.clone(), wanted.clone(), subject.clone());
        tasks.spawn(async move {
            for _ in 0..per_task {
                one(fetcher.clone(), wanted.clone(), subject.clone()).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    (process_cpu_seconds(None) - cpu_start) / (per_task * PROBE_CONCURRENCY) as f64 * 1000.0
}

/// blackbox_exporter probing the same page, its own CPU measured from /proc.
fn peer(port: u16, probes: usize, runtime: &tokio::runtime::Runtime) {
    let Some(exporter) = ["prometheus-blackbox-exporter", "blackbox_exporter"].iter().find_map(|name| which(name))
    else {
        println!("\npeer: blackbox_exporter not installed (apt-get install prometheus-blackbox-exporter); skipped");
        return;
    };
    let dir = std::env::temp_dir().join(format!("xunjian-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("blackbox.yml");
    std::fs::write(
        &config,
        "modules:\n  http_2xx:\n    prober: http\n    timeout: 15s\n    http:\n      preferred_ip_protocol: ip4\n",
    )
    .expect("write config");
    let exporter_port = free_port();
    let mut child: Child = Command::new(&exporter)
        .args([
            format!("--config.file={}", config.display()),
            format!("--web.listen-address=127.0.0.1:{exporter_port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start blackbox_exporter");
    wait_for_port(exporter_port);
    let pid = child.id();
    println!("\n## peer: {} (http_2xx), CPU per 1000 probes of the same page", exporter.display());
    for connection in ["keepalive", "close"] {
        let target = format!("http://127.0.0.1:{port}/bench/{connection}/index.html");
        let probe_url = format!("http://127.0.0.1:{exporter_port}/probe?module=http_2xx&target={target}");
        let client = reqwest::Client::new();
        let cpu = runtime.block_on(async {
            for _ in 0..20 {
                let _ = client.get(&probe_url).send().await.and_then(|r| r.error_for_status());
            }
            let start = process_cpu_seconds(Some(pid));
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..PROBE_CONCURRENCY {
                let (client, probe_url) = (client.clone(), probe_url.clone());
                tasks.spawn(async move {
                    for _ in 0..probes / PROBE_CONCURRENCY {
                        let body = client.get(&probe_url).send().await.expect("probe").text().await.expect("body");
                        assert!(body.contains("probe_success 1"), "blackbox probe failed:\n{body}");
                    }
                });
            }
            while tasks.join_next().await.is_some() {}
            process_cpu_seconds(Some(pid)) - start
        });
        println!(
            "blackbox_exporter ({connection:<9}) {:>10.3} CPU s",
            cpu / (probes / PROBE_CONCURRENCY * PROBE_CONCURRENCY) as f64 * 1000.0
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|dir| PathBuf::from(dir).join(name)).find(|path| path.is_file())
}
