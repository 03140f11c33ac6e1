//! `xunjian-bench`: prints the figures the agent is held to.
//!
//! 1. Extraction on one core: pages/s and MB/s over the corpus (bytes → charset → tree → list).
//! 2. Agent CPU seconds per 1,000 probes of a ~30 KB page on loopback, served by `xunjian-sim` in
//!    its own process so only the agent's CPU is counted: availability alone, with home-page
//!    extraction, and a column check; each over kept-alive connections and over a new
//!    connection per probe (what probes minutes apart really do).
//! 3. The peer: Prometheus' blackbox_exporter (`http_2xx` module) probing the same page, its
//!    process CPU measured the same way, when its binary is installed.
//! 4. Memory: the resident memory of a real `xunjian-agent run` with 1,000 configured sites,
//!    built as `deploy/README.md` builds it (the package alone, linked statically), idle between
//!    rounds and with 64 probes in flight (pages answering after 15 s), beside blackbox_exporter's
//!    idle and with 64 probes in flight.
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
use xunjian_sim::Route;
use xunjian_tests::measure::{free_port, peak_rss_mb, process_cpu_seconds, rss_mb, wait_for_port};
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
            // Internal: this binary run again under the agent's unit's malloc settings (see
            // `home_cost_as_the_unit_runs_it`).
            HOME_COST_CHILD => {
                let mut number = || {
                    args.next().and_then(|v| v.parse::<usize>().ok()).expect("--home-cost-child PORT PROBES REPEATS")
                };
                let (port, probes, repeats) = (number() as u16, number(), number());
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("runtime");
                let kept = median(repeats, || runtime.block_on(probe_cost(port, "keepalive", Mode::Home, probes)));
                let fresh = median(repeats, || runtime.block_on(probe_cost(port, "close", Mode::Home, probes)));
                println!("{kept} {fresh}");
                return;
            }
            other => {
                eprintln!("unknown argument {other:?}; usage: xunjian-bench [--probes N] [--quick]");
                std::process::exit(2);
            }
        }
    }
    let mut repeats = 3;
    if quick {
        probes = probes.min(100);
        repeats = 1;
    }
    println!(
        "xunjian-bench (build: {})",
        if cfg!(debug_assertions) { "debug — use --release for real figures" } else { "release" }
    );
    // Built before anything is measured: a build mid-run would share the 2 cores with what is
    // timed, and would pick up sources edited since the bench started.
    let sim = harness::binary("xunjian-sim");
    let agent = harness::county_agent();
    extraction(if quick { Duration::from_millis(300) } else { Duration::from_secs(3) });
    probing(&sim, probes, repeats);
    memory(&agent, if quick { 50 } else { 1000 });
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

/// The median of `repeats` measurements: one run on this shared 2-core machine wanders by a
/// fifth, so every CPU figure compared is a median.
fn median(repeats: usize, mut measure: impl FnMut() -> f64) -> f64 {
    let mut runs: Vec<f64> = (0..repeats.max(1)).map(|_| measure()).collect();
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}

fn probing(sim_binary: &std::path::Path, probes: usize, repeats: usize) {
    let port = free_port();
    let sim = Command::new(sim_binary)
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
    let sim = Running(sim);
    wait_for_port(port);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    println!(
        "\n## agent CPU per 1000 probes of a {PAGE_BYTES}-byte page on loopback ({probes} probes, {PROBE_CONCURRENCY} at a time; median of {repeats} runs)"
    );
    println!("{:<34} {:>18} {:>18}", "checks", "kept-alive CPU s", "new-conn CPU s");
    let mut rows = Vec::new();
    for (label, which) in [
        ("availability only", Mode::Availability),
        ("availability + home extraction", Mode::Home),
        ("column (update + blank)", Mode::Column),
    ] {
        let kept = median(repeats, || runtime.block_on(probe_cost(port, "keepalive", which, probes)));
        let fresh = median(repeats, || runtime.block_on(probe_cost(port, "close", which, probes)));
        println!("{label:<34} {:>18.3} {:>18.3}", kept, fresh);
        rows.push((label, kept, fresh));
        if matches!(which, Mode::Home) {
            let (kept, fresh) = home_cost_as_the_unit_runs_it(port, probes, repeats);
            let label = "  the same, unit's malloc settings";
            println!("{label:<34} {:>18.3} {:>18.3}", kept, fresh);
            rows.push((label, kept, fresh));
        }
    }
    if let Some((peer_kept, peer_fresh)) =
        peer(port, probes, repeats, &runtime).filter(|(kept, fresh)| *kept > 0.0 && *fresh > 0.0)
    {
        println!("\n## agent CPU as a share of blackbox_exporter's, same page, same run (kept-alive / new-conn)");
        for (label, kept, fresh) in rows {
            println!("{label:<34} {:>17.2}x {:>17.2}x", kept / peer_kept, fresh / peer_fresh);
        }
    }
    drop(sim);
}

const HOME_COST_CHILD: &str = "--home-cost-child";

/// Home probes' CPU (kept-alive, new connection) measured in this binary run again with the
/// `MALLOC_*` settings of the agent's systemd unit, which glibc reads only at a process's start
/// (settings that save memory can cost CPU: mapping large blocks on their own cost home probes
/// 10–25 %, and was not taken).
fn home_cost_as_the_unit_runs_it(port: u16, probes: usize, repeats: usize) -> (f64, f64) {
    // /proc/self/exe, not the path: the harness's workspace build may have replaced this binary's
    // file since it started (its features differ from a build of this package alone).
    let output = Command::new("/proc/self/exe")
        .args([HOME_COST_CHILD, &port.to_string(), &probes.to_string(), &repeats.to_string()])
        .env_clear_malloc(&unit_malloc_environment())
        .stderr(Stdio::inherit())
        .output()
        .expect("run xunjian-bench again");
    let text = String::from_utf8_lossy(&output.stdout);
    let figures: Vec<f64> = text.split_whitespace().filter_map(|figure| figure.parse().ok()).collect();
    assert!(output.status.success() && figures.len() == 2, "the home-cost child printed {text:?}");
    (figures[0], figures[1])
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
    let run = |per_task: usize| {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..PROBE_CONCURRENCY {
            let (fetcher, wanted, subject) = (fetcher.clone(), wanted.clone(), subject.clone());
            tasks.spawn(async move {
                for _ in 0..per_task {
                    one(fetcher.clone(), wanted.clone(), subject.clone()).await;
                }
            });
        }
        async move {
            while let Some(done) = tasks.join_next().await {
                done.expect("a probe task failed");
            }
        }
    };
    // Warm up as measured (connections, every worker's allocator), then measure.
    run(10).await;
    let cpu_start = process_cpu_seconds(None);
    let per_task = probes / PROBE_CONCURRENCY;
    run(per_task).await;
    (process_cpu_seconds(None) - cpu_start) / (per_task * PROBE_CONCURRENCY) as f64 * 1000.0
}

/// blackbox_exporter probing the same page, its own CPU measured from /proc: its CPU seconds
/// per 1000 probes kept-alive and with a new connection each, when it is installed.
fn peer(port: u16, probes: usize, repeats: usize, runtime: &tokio::runtime::Runtime) -> Option<(f64, f64)> {
    let Some(peer) = Blackbox::start("cpu") else {
        println!("\npeer: blackbox_exporter not installed (apt-get install prometheus-blackbox-exporter); skipped");
        return None;
    };
    let (pid, exporter_port) = (peer.child.id(), peer.port);
    println!(
        "\n## peer: {} (http_2xx), CPU per 1000 probes of the same page (median of {repeats} runs)",
        peer.binary.display()
    );
    let mut figures = Vec::new();
    for connection in ["keepalive", "close"] {
        let target = format!("http://127.0.0.1:{port}/bench/{connection}/index.html");
        let probe_url = format!("http://127.0.0.1:{exporter_port}/probe?module=http_2xx&target={target}");
        let client = reqwest::Client::new();
        let cpu = median(repeats, || {
            runtime.block_on(async {
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
                while let Some(done) = tasks.join_next().await {
                    done.expect("a blackbox probe task failed");
                }
                process_cpu_seconds(Some(pid)) - start
            })
        });
        let per_thousand = cpu / (probes / PROBE_CONCURRENCY * PROBE_CONCURRENCY) as f64 * 1000.0;
        println!("blackbox_exporter ({connection:<9}) {per_thousand:>10.3} CPU s");
        figures.push(per_thousand);
    }
    drop(peer);
    Some((figures[0], figures[1]))
}

/// A blackbox_exporter process on a free loopback port, with the `http_2xx` module.
struct Blackbox {
    binary: PathBuf,
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Blackbox {
    /// Started and answering; None when it is not installed.
    fn start(purpose: &str) -> Option<Blackbox> {
        let binary = ["prometheus-blackbox-exporter", "blackbox_exporter"].iter().find_map(|name| which(name))?;
        let dir = std::env::temp_dir().join(format!("xunjian-bench-{purpose}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let config = dir.join("blackbox.yml");
        std::fs::write(
            &config,
            "modules:\n  http_2xx:\n    prober: http\n    timeout: 30s\n    http:\n      preferred_ip_protocol: ip4\n",
        )
        .expect("write config");
        let port = free_port();
        let child = Command::new(&binary)
            .args([format!("--config.file={}", config.display()), format!("--web.listen-address=127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start blackbox_exporter");
        wait_for_port(port);
        Some(Blackbox { binary, child, port, dir })
    }
}

/// Stopped however the measurement ends, a failed assertion included.
impl Drop for Blackbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|dir| PathBuf::from(dir).join(name)).find(|path| path.is_file())
}

/// Probes in flight at once in the memory figures.
const IN_FLIGHT: usize = 64;
/// How long the slow pages take to answer: longer than the first runs' spread (the interval,
/// 10 s), so that every probe of a slow site is in flight at once.
const SLOW_ANSWER: Duration = Duration::from_secs(15);

/// The agent's resident memory with `targets` sites configured: idle once its first round is
/// done (every site probed, its CPU still), and with [`IN_FLIGHT`] probes waiting on slow pages
/// while the other sites keep being probed; then blackbox_exporter's, idle after one probe and
/// with [`IN_FLIGHT`] probes waiting.
fn memory(agent: &std::path::Path, targets: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let sim = runtime.block_on(xunjian_sim::Sim::start()).expect("simulator");
    let page = bench_page::government_list_page(PAGE_BYTES);
    sim.route("/bench/page/index.html", Route::html(page.clone()));
    sim.route("/bench/slow/index.html", Route::html(page).delayed(SLOW_ANSWER));
    let dir = std::env::temp_dir().join(format!("xunjian-bench-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // `run` needs a collector to push to: certificates it can load, at a port nobody answers
    // (what it pushes waits in its spool, as it would while the collector is away).
    let ca = xunjian_tests::certs::TestCa::new("xunjian-bench CA");
    let client = ca.server(&["bench"], Timestamp::now() + jiff::SignedDuration::from_hours(24 * 30));
    for (name, pem) in [("ca.pem", ca.pem()), ("agent.pem", client.cert_pem), ("agent.key", client.key_pem)] {
        std::fs::write(dir.join(name), pem).expect("write certificate");
    }
    // Each site is a home probe and an audit (one request each: the daily crawler comparison
    // and the IPv6 probe are off), its links audited one at a time; probed once a day, the slow
    // sites' home pages every 10 s.
    let config = |slow: usize| {
        let mut toml = format!(
            "[agent]\nid = \"bench\"\ncounty = \"基准县\"\n[probe]\ninterval = \"24h\"\ntimeout = \"30s\"\n\
             audit_interval = \"168h\"\n[limits]\nconcurrency = {}\nper_host_concurrency = 64\ndead_links_max = 1\n\
             [security]\ncloaking = false\nipv6 = false\n\
             [collector]\nurl = \"https://127.0.0.1:{}/\"\nca = \"{}\"\ncert = \"{}\"\nkey = \"{}\"\n[spool]\ndir = \"{}\"\n",
            IN_FLIGHT * 4,
            free_port(),
            dir.join("ca.pem").display(),
            dir.join("agent.pem").display(),
            dir.join("agent.key").display(),
            dir.join("spool").display()
        );
        for site in 0..targets {
            let (path, interval) =
                if site < slow { ("/bench/slow/index.html", "10s") } else { ("/bench/page/index.html", "24h") };
            toml.push_str(&format!(
                "[[site]]\nname = \"基准站{site}\"\nunit = \"基准单位{site}\"\nurl = \"{}\"\ninterval = \"{interval}\"\n",
                sim.url(&format!("{path}?site={site}"))
            ));
        }
        let file = dir.join(format!("agent-{slow}.toml"));
        std::fs::write(&file, toml).expect("write agent.toml");
        file
    };
    let hits = |path: &str| (0..targets).map(|site| sim.hits(&format!("{path}?site={site}"))).sum::<usize>();
    let unit_malloc = unit_malloc_environment();
    println!(
        "\n## memory (resident, MiB): {targets} sites configured; {IN_FLIGHT} probes in flight on pages answering after {SLOW_ANSWER:?}"
    );
    println!("agent: {} (the package alone, {})", agent.display(), harness::COUNTY_AGENT_RUSTFLAGS);
    println!("{:<44} {:>8} {:>14}", "", "idle", "in flight");
    let unit_label = unit_malloc.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join(" ");
    for (label, malloc) in [
        (format!("xunjian-agent run, as its unit runs it ({unit_label})"), unit_malloc.clone()),
        ("xunjian-agent run, glibc malloc's defaults".to_string(), Vec::new()),
    ] {
        let (idle, busy, first_round_peak, waiting) =
            agent_memory(agent, &malloc, &config, &dir.join("spool"), &hits, targets);
        println!(
            "{label}\n{:<44} {idle:>8.1} {busy:>14.1}   (first round peak {first_round_peak:.1}; {waiting} slow requests waiting while sampled)",
            ""
        );
    }
    peer_memory(&sim, &runtime);
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A command's glibc malloc settings: exactly `malloc`, whatever this process was given.
trait MallocEnvironment {
    fn env_clear_malloc(&mut self, malloc: &[(String, String)]) -> &mut Self;
}

impl MallocEnvironment for Command {
    fn env_clear_malloc(&mut self, malloc: &[(String, String)]) -> &mut Self {
        for key in ["MALLOC_ARENA_MAX", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"] {
            self.env_remove(key);
        }
        self.envs(malloc.iter().map(|(key, value)| (key, value)))
    }
}

/// The glibc malloc settings (`MALLOC_*`) the shipped systemd unit gives the agent.
fn unit_malloc_environment() -> Vec<(String, String)> {
    let unit = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/systemd/xunjian-agent.service");
    let text = std::fs::read_to_string(&unit).unwrap_or_else(|error| panic!("{}: {error}", unit.display()));
    let malloc: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.trim().strip_prefix("Environment="))
        .filter_map(|pair| pair.split_once('='))
        .filter(|(key, _)| key.starts_with("MALLOC_"))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    assert!(!malloc.is_empty(), "{} sets no MALLOC_ environment", unit.display());
    malloc
}

/// One agent's memory: idle after its first round, and with [`IN_FLIGHT`] slow probes waiting;
/// with its first round's peak and how many slow requests were waiting while sampled.
fn agent_memory(
    agent: &std::path::Path,
    malloc: &[(String, String)],
    config: &dyn Fn(usize) -> PathBuf,
    spool: &std::path::Path,
    hits: &dyn Fn(&str) -> usize,
    targets: usize,
) -> (f64, f64, f64, usize) {
    let start = |file: &PathBuf| {
        // Each run starts with an empty spool, as a new agent does.
        let _ = std::fs::remove_dir_all(spool);
        Running(
            Command::new(agent)
                .args(["run", "--config"])
                .arg(file)
                .env("RUST_LOG", "error")
                .env_clear_malloc(malloc)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start xunjian-agent run"),
        )
    };

    // Idle: every site's home page and audit done (first runs spread over a minute at most),
    // the agent's CPU still for two seconds, nothing due for a day.
    // The simulator counts every request it has had: this run's are those above the count at its start.
    let pages_before = hits("/bench/page/index.html");
    let mut idle_agent = start(&config(0));
    let first_round = Instant::now();
    while hits("/bench/page/index.html") - pages_before < 2 * targets
        && first_round.elapsed() < Duration::from_secs(150)
    {
        idle_agent.alive();
        std::thread::sleep(Duration::from_millis(200));
    }
    let probed = hits("/bench/page/index.html") - pages_before;
    assert!(probed >= 2 * targets, "the agent probed {probed} of {} pages in its first round", 2 * targets);
    let pid = idle_agent.0.id();
    let mut cpu = process_cpu_seconds(Some(pid));
    let settling = Instant::now();
    loop {
        std::thread::sleep(Duration::from_secs(2));
        idle_agent.alive();
        let now = process_cpu_seconds(Some(pid));
        if now - cpu < 0.02 || settling.elapsed() > Duration::from_secs(30) {
            break;
        }
        cpu = now;
    }
    let idle = sample(pid, Duration::from_secs(2)).0;
    let first_round_peak = peak_rss_mb(pid);
    drop(idle_agent);

    // In flight: the slow sites' home probes all waiting at once (their first runs fall within
    // their 10 s interval, their pages answer after 15 s) while the other sites' first round
    // goes on.
    let slow_before = hits("/bench/slow/index.html");
    let mut busy_agent = start(&config(IN_FLIGHT));
    let busy_start = Instant::now();
    while hits("/bench/slow/index.html") - slow_before < IN_FLIGHT
        && busy_start.elapsed() < SLOW_ANSWER - Duration::from_secs(2)
    {
        busy_agent.alive();
        std::thread::sleep(Duration::from_millis(50));
    }
    let waiting = hits("/bench/slow/index.html") - slow_before;
    let remaining = (busy_start + SLOW_ANSWER).saturating_duration_since(Instant::now());
    let busy = sample(busy_agent.0.id(), remaining.min(Duration::from_secs(3))).0;
    busy_agent.alive();
    drop(busy_agent);
    (idle, busy, first_round_peak, waiting)
}

/// The highest resident memory of `pid` over `window`, and the last reading.
fn sample(pid: u32, window: Duration) -> (f64, f64) {
    let started = Instant::now();
    let (mut highest, mut last) = (0.0f64, 0.0f64);
    while started.elapsed() < window {
        last = rss_mb(pid);
        highest = highest.max(last);
        std::thread::sleep(Duration::from_millis(50));
    }
    (highest, last)
}

/// A child process killed when dropped, however the measurement ends.
struct Running(Child);

impl Running {
    /// Panics (stopping the bench) when the process has exited: a dead process has no memory
    /// to report.
    fn alive(&mut self) {
        if let Ok(Some(status)) = self.0.try_wait() {
            panic!("the measured process exited early: {status}");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// blackbox_exporter's resident memory idle and with [`IN_FLIGHT`] probes of the slow page.
fn peer_memory(sim: &xunjian_sim::Sim, runtime: &tokio::runtime::Runtime) {
    let Some(peer) = Blackbox::start("memory") else {
        println!("blackbox_exporter not installed (apt-get install prometheus-blackbox-exporter): no peer figures");
        return;
    };
    let (pid, exporter_port) = (peer.child.id(), peer.port);
    let client = reqwest::Client::new();
    // Idle after one probe, as the agent is idle after its first round.
    let warm = format!(
        "http://127.0.0.1:{exporter_port}/probe?module=http_2xx&target={}",
        sim.url("/bench/page/index.html?site=0")
    );
    let answered = runtime.block_on(async { client.get(&warm).send().await.map(|r| r.status().is_success()) });
    assert!(answered.unwrap_or(false), "blackbox_exporter answered its first probe");
    std::thread::sleep(Duration::from_secs(1));
    let idle = sample(pid, Duration::from_secs(1)).0;
    let busy = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for site in 0..IN_FLIGHT {
            let target = sim.url(&format!("/bench/slow/index.html?site={site}"));
            let url = format!("http://127.0.0.1:{exporter_port}/probe?module=http_2xx&target={target}");
            let client = client.clone();
            tasks.spawn(async move { client.get(url).send().await.map(|r| r.status().is_success()).unwrap_or(false) });
        }
        let sampler = tokio::task::spawn_blocking(move || sample(pid, SLOW_ANSWER - Duration::from_secs(2)).0);
        let mut succeeded = 0;
        while let Some(done) = tasks.join_next().await {
            succeeded += usize::from(done.unwrap_or(false));
        }
        assert_eq!(succeeded, IN_FLIGHT, "every blackbox probe answered");
        sampler.await.unwrap_or(0.0)
    });
    println!("{:<44} {idle:>8.1} {busy:>14.1}", format!("peer: {} (http_2xx)", peer.binary.display()));
    drop(peer);
}
