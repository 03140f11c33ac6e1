//! Running the real binaries against the simulator: building them, serving the corpus and
//! writing the configuration a county would write for it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::corpus::{CorpusPage, Manifest};
use xunjian_sim::{Route, Sim};

/// The workspace's `target/<profile>` directory, found from this test binary's location.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/e2e-… or target/<profile>/xunjian-bench
    let mut dir = exe.parent().expect("binary directory").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// The `cargo build` arguments that build into [`target_dir`]: its directory names the profile
/// (`debug` is cargo's `dev`).
fn profile_args(dir: &Path) -> Vec<String> {
    match dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => Vec::new(),
        Some("release") => vec!["--release".into()],
        Some(profile) => vec!["--profile".into(), profile.into()],
    }
}

/// Runs `cargo build` with `args` in the workspace root (with `env` set), and panics with
/// `what` when it fails.
fn cargo_build(args: &[&str], env: &[(&str, &str)], what: &str) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    // CARGO_ENCODED_RUSTFLAGS (set inside cargo's own runs) would win over a RUSTFLAGS given here.
    if env.iter().any(|(key, _)| *key == "RUSTFLAGS") {
        command.env_remove("CARGO_ENCODED_RUSTFLAGS");
    }
    let status = command
        .args(["build", "--quiet"])
        .args(args)
        .envs(env.iter().copied())
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .status();
    assert!(status.is_ok_and(|s| s.success()), "{what} failed");
}

/// Path to a workspace binary, built (once per test process) if needed. Cargo only builds a
/// package's own binaries for its tests; these tests run other packages' binaries.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let dir = target_dir();
    BUILT.get_or_init(|| {
        let profile = profile_args(&dir);
        let mut args = vec!["--bins", "--workspace"];
        args.extend(profile.iter().map(String::as_str));
        cargo_build(&args, &[], "cargo build of the workspace binaries");
    });
    dir.join(name)
}

/// How `deploy/README.md` links the county agent: statically (glibc included), so that it
/// holds no shared libraries' pages and a copy runs on hosts whose glibc is older than the build
/// machine's. Given with an explicit `--target`: without one, `RUSTFLAGS` also reaches build
/// scripts and proc-macros, which cannot be linked statically.
pub const COUNTY_AGENT_RUSTFLAGS: &str = "-C target-feature=+crt-static";

/// The agent's binary as the deploy kit builds it for a county: its package alone
/// (`cargo build -p xunjian-agent`, with only its own dependencies' features: a workspace build
/// unifies them with the collector's, whose HTTP/2 server puts an HTTP/2 client into the agent)
/// and linked statically ([`COUNTY_AGENT_RUSTFLAGS`], for this machine's target triple), in
/// the profile this binary was built in. Built once per process, into `target/<triple>/`: the
/// workspace's own agent in `target/<profile>/` is left as it is.
pub fn county_agent() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = target_dir();
            let triple = host_triple();
            let profile = profile_args(&dir);
            let mut args = vec!["-p", "xunjian-agent", "--bin", "xunjian-agent", "--target", &triple];
            args.extend(profile.iter().map(String::as_str));
            cargo_build(&args, &[("RUSTFLAGS", COUNTY_AGENT_RUSTFLAGS)], "cargo build of the county agent");
            let profile_dir = dir.file_name().expect("profile directory");
            // target/<profile>, or target/<triple>/<profile> when this binary was itself built
            // for an explicit target.
            let mut root = dir.parent().expect("target directory");
            if root.file_name().is_some_and(|name| name == triple.as_str()) {
                root = root.parent().expect("target directory");
            }
            let binary = root.join(&triple).join(profile_dir).join("xunjian-agent");
            let bytes = std::fs::read(&binary).unwrap_or_else(|error| panic!("{}: {error}", binary.display()));
            assert!(elf_is_static(&bytes), "{} is linked dynamically", binary.display());
            binary
        })
        .clone()
}

/// This machine's target triple, as rustc names it (`host:` in `rustc -vV`).
fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output = Command::new(&rustc).arg("-vV").output().unwrap_or_else(|error| panic!("{rustc} -vV: {error}"));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .unwrap_or_else(|| panic!("{rustc} -vV names no host triple"))
        .trim()
        .to_string()
}

/// Whether a 64-bit little-endian ELF executable (type `EXEC` or `DYN`, with something to load)
/// asks for no program interpreter (no `PT_INTERP` program header): the kernel starts it
/// without a dynamic loader. Anything unreadable is not static.
pub fn elf_is_static(elf: &[u8]) -> bool {
    const PT_LOAD: u64 = 1;
    const PT_INTERP: u64 = 3;
    let number = |at: u64, width: u64| -> Option<u64> {
        let start = usize::try_from(at).ok()?;
        let bytes = elf.get(start..start.checked_add(usize::try_from(width).ok()?)?)?;
        Some(bytes.iter().rev().fold(0u64, |value, byte| value << 8 | u64::from(*byte)))
    };
    if !elf.starts_with(b"\x7fELF\x02\x01") || !matches!(number(0x10, 2), Some(2 | 3)) {
        return false;
    }
    let (Some(table), Some(entry), Some(count)) = (number(0x20, 8), number(0x36, 2), number(0x38, 2)) else {
        return false;
    };
    let kinds: Option<Vec<u64>> =
        (0..count).map(|index| number(index.checked_mul(entry)?.checked_add(table)?, 4)).collect();
    kinds.is_some_and(|kinds| kinds.contains(&PT_LOAD) && !kinds.contains(&PT_INTERP))
}

/// The simulator path a corpus page is served at: its URL's path (and query) under the page's
/// file stem, so pages from different sites share one port without clashing.
pub fn corpus_path(page: &CorpusPage) -> String {
    let url = url::Url::parse(&page.url).expect("manifest URL");
    let stem = page.file.trim_end_matches(".html");
    match url.query() {
        Some(query) => format!("/{stem}{}?{query}", url.path()),
        None => format!("/{stem}{}", url.path()),
    }
}

/// Routes every corpus page on `sim`, with the Content-Type its manifest names.
pub fn serve_corpus(sim: &Sim, manifest: &Manifest) {
    for page in &manifest.page {
        sim.route(&corpus_path(page), Route::bytes(&page.content_type, page.bytes()));
    }
}

/// An agent configuration inspecting the corpus on `sim`: one site per home page, every
/// column page under the first.
pub fn corpus_config(sim: &Sim, manifest: &Manifest, agent_id: &str, county: &str) -> String {
    let homes: Vec<&CorpusPage> = manifest.page.iter().filter(|p| p.kind == "home").collect();
    let columns: Vec<&CorpusPage> = manifest.page.iter().filter(|p| p.kind == "column").collect();
    let mut toml = format!(
        "[agent]\nid = \"{agent_id}\"\ncounty = \"{county}\"\n\n[probe]\ninterval = \"5m\"\ntimeout = \"10s\"\n"
    );
    let names = [
        "龙川县人民政府门户网站",
        "连平县教育局网站",
        "和平县人民政府网",
        "紫金县人民政府网",
        "东源县人民政府网",
        "上坪镇人民政府网",
        "江东新区管委会网站",
        "源城区人民政府网",
    ];
    for (index, home) in homes.iter().enumerate() {
        let name = names.get(index).copied().unwrap_or("某县人民政府网站");
        toml.push_str(&format!(
            "\n[[site]]\nname = \"{name}\"\nunit = \"{}办公室\"\nurl = \"{}\"\n",
            name.trim_end_matches("网站").trim_end_matches("门户").trim_end_matches('网'),
            sim.url(&corpus_path(home))
        ));
        if index == 0 {
            for column in &columns {
                toml.push_str(&format!(
                    "\n[[site.column]]\nname = \"{}\"\nurl = \"{}\"\n",
                    column_label(column),
                    sim.url(&corpus_path(column))
                ));
            }
        }
    }
    toml
}

/// Column names must be unique within a site; corpus pages reuse real names, so the layout
/// disambiguates.
pub fn column_label(page: &CorpusPage) -> String {
    format!("{}（{}）", page.column.as_deref().unwrap_or("栏目"), page.file.trim_end_matches(".html"))
}

/// A child process of the test, stopped with SIGTERM (as systemd would) or killed on drop.
pub struct Process {
    child: tokio::process::Child,
    pub name: String,
}

impl Process {
    pub fn spawn(binary: &str, args: &[&str]) -> Process {
        let child = tokio::process::Command::new(binary_path(binary))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {binary}: {err}"));
        Process { child, name: binary.to_string() }
    }

    /// Like `spawn`, with stderr (the logs) written to `log` and RUST_LOG set to `filter`.
    pub fn spawn_logged(binary: &str, args: &[&str], log: &Path, filter: &str) -> Process {
        let file = std::fs::File::create(log).expect("create the log file");
        let child = tokio::process::Command::new(binary_path(binary))
            .args(args)
            .env("RUST_LOG", filter)
            .stdout(std::process::Stdio::piped())
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {binary}: {err}"));
        Process { child, name: binary.to_string() }
    }

    /// Like `spawn_logged`, through a shell (for `ulimit`): `sh -c "PREFIX exec BINARY ARGS"`.
    pub fn spawn_logged_shell(prefix: &str, binary: &str, args: &[&str], log: &Path, filter: &str) -> Process {
        let file = std::fs::File::create(log).expect("create the log file");
        let mut command = format!("{prefix} exec '{}'", binary_path(binary).display());
        for arg in args {
            command.push_str(&format!(" '{arg}'"));
        }
        let child = tokio::process::Command::new("sh")
            .args(["-c", &command])
            .env("RUST_LOG", filter)
            .stdout(std::process::Stdio::piped())
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {binary}: {err}"));
        Process { child, name: binary.to_string() }
    }

    pub fn id(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// The next line the process writes to stdout, within `within`.
    pub async fn stdout_line(&mut self, within: std::time::Duration) -> String {
        use tokio::io::AsyncBufReadExt;
        let stdout = self.child.stdout.as_mut().expect("stdout is piped");
        let mut reader = tokio::io::BufReader::new(stdout);
        let mut line = String::new();
        tokio::time::timeout(within, reader.read_line(&mut line))
            .await
            .unwrap_or_else(|_| panic!("{} wrote nothing within {within:?}", self.name))
            .expect("read stdout");
        line
    }

    /// SIGKILL, as a power cut or the OOM killer would; waits for the process to be gone.
    pub async fn kill9(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// Sends SIGTERM and waits for the exit; returns the exit code.
    pub async fn terminate(mut self) -> Option<i32> {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.id().to_string()]).status();
        let status = tokio::time::timeout(std::time::Duration::from_secs(40), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("{} did not stop within 40 s of SIGTERM", self.name))
            .expect("wait for child");
        status.code()
    }
}

fn binary_path(name: &str) -> PathBuf {
    binary(name)
}

/// An in-process collector's settings for a test: database in `dir`, push and web on ephemeral
/// loopback ports, certificates from `pki`, the configuration's defaults otherwise.
pub fn collector_settings(
    dir: &Path,
    pki: &xunjian_collector::tls::EphemeralPki,
) -> xunjian_collector::server::Settings {
    use xunjian_shared::config::collector::{
        DEFAULT_MAX_BATCHES_PER_MINUTE, DEFAULT_PUSH_MAX_BODY_BYTES, DEFAULT_READ_TIMEOUT,
    };
    xunjian_collector::server::Settings {
        database: dir.join("xunjian.db"),
        push_listen: "127.0.0.1:0".parse().expect("literal address"),
        push_tls: xunjian_collector::tls::push_server_config_from_pem(
            pki.ca_pem.as_bytes(),
            pki.server_cert_pem.as_bytes(),
            pki.server_key_pem.as_bytes(),
        )
        .expect("the ephemeral PKI's server certificate"),
        push_max_body_bytes: DEFAULT_PUSH_MAX_BODY_BYTES,
        push_max_batches_per_minute: DEFAULT_MAX_BATCHES_PER_MINUTE,
        push_read_timeout: DEFAULT_READ_TIMEOUT,
        push_limits: Default::default(),
        push_agents: Vec::new(),
        web_listen: "127.0.0.1:0".parse().expect("literal address"),
        web_tls: None,
        admin_token: None,
        metrics_token: None,
        // These collectors are read by tests of ingest, alerts and the like; who may read what
        // is tested with logins and tokens in e2e/people.rs.
        open_reads: true,
        session_lifetime: xunjian_shared::config::collector::DEFAULT_SESSION_LIFETIME,
        session_idle: xunjian_shared::config::collector::DEFAULT_SESSION_IDLE,
        series_expiry: std::time::Duration::from_secs(86_400),
        dedupe_window: std::time::Duration::from_secs(86_400),
        history_retention: xunjian_shared::config::collector::DEFAULT_HISTORY_RETENTION,
        alerts: Default::default(),
        ledger: Default::default(),
        report: Default::default(),
        registry: Default::default(),
    }
}

/// Runs a workspace binary to completion; panics with its stderr unless it succeeds.
pub fn run_cli(binary_name: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(binary(binary_name)).args(args).output().expect("run the CLI");
    assert!(output.status.success(), "{binary_name} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Starts `xunjian-collector serve --config CONFIG`; returns it and its web base URL.
pub async fn start_collector(config: &Path) -> (Process, String) {
    let mut collector =
        Process::spawn("xunjian-collector", &["serve", "--config", config.to_str().expect("UTF-8 path")]);
    let web = web_address(&mut collector).await;
    (collector, web)
}

/// The web base URL a starting collector prints on its first line.
pub async fn web_address(collector: &mut Process) -> String {
    let line = collector.stdout_line(std::time::Duration::from_secs(30)).await;
    // "push: https://127.0.0.1:P/api/v1/push   web: http://127.0.0.1:Q/"
    let web = line.split("web: ").nth(1).expect("the collector prints its web address").trim().trim_end_matches('/');
    web.to_string()
}

/// Polls `check` until it yields a value or `within` passes; panics naming `what` on timeout.
pub async fn wait_until<T, F, Fut>(within: std::time::Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {within:?} waiting for {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// GETs a loopback URL over plain HTTP; returns status, content type and body.
pub async fn http_get(url: &str, accept: Option<&str>) -> (u16, String, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let mut request = client.get(url);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.unwrap_or_else(|err| panic!("GET {url}: {err}"));
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, content_type, response.text().await.unwrap_or_default())
}

/// GETs a page the collector renders for everyone at most once a second (`/metrics`, `/`,
/// `/api/v1/status`), once it shows a moment after `after`: what a test reads after a change.
pub async fn http_get_rendered_after(url: &str, after: jiff::Timestamp) -> String {
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    wait_until(std::time::Duration::from_secs(10), "a rendering newer than the change", || {
        let client = client.clone();
        async move {
            let response = client.get(url).send().await.ok()?;
            let rendered_at: jiff::Timestamp =
                response.headers().get(xunjian_collector::web::RENDERED_AT_HEADER)?.to_str().ok()?.parse().ok()?;
            if rendered_at <= after {
                return None;
            }
            response.text().await.ok()
        }
    })
    .await
}

/// What a finished command printed and returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `xunjian-agent ARGS --config <config written to a file>`.
pub async fn run_agent(config: &str, args: &[&str]) -> Run {
    let dir = temp_dir("agent-run");
    let path = dir.join("agent.toml");
    std::fs::write(&path, config).expect("write agent.toml");
    let output = tokio::process::Command::new(binary("xunjian-agent"))
        .args(args)
        .arg("--config")
        .arg(&path)
        .env_remove("RUST_LOG")
        .output()
        .await
        .expect("run xunjian-agent");
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `xunjian-agent check --json --now NOW`, which must succeed, parsed.
pub async fn check_json(config: &str, now: &str) -> xunjian_shared::wire::CheckReport {
    let run = run_agent(config, &["check", "--json", "--now", now]).await;
    assert_eq!(run.code, 0, "check failed: {}", run.stderr);
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|err| panic!("check --json is not a report: {err}\n{}", run.stdout))
}

/// Held by the tests that time things (hostile sites on a 4 s deadline, alert latency, the
/// fault test) and the one that loads the machine (a flood of 200,000 alerts), so that on two
/// cores they do not run beside each other and measure each other.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// A raw mutual-TLS connection to the collector's push port on loopback, with the agent
/// certificate `cert_pem`/`key_pem`, for clients that misbehave below HTTP.
pub async fn raw_mtls(
    ca_pem: &[u8],
    cert_pem: &[u8],
    key_pem: &[u8],
    port: u16,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use rustls_pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert.expect("CA PEM")).expect("CA certificate");
    }
    let chain: Vec<_> =
        rustls_pki_types::CertificateDer::pem_slice_iter(cert_pem).map(|c| c.expect("certificate PEM")).collect();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(key_pem).expect("key PEM");
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .expect("client certificate");
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect to the push port");
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").expect("IP name").to_owned();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)).connect(name, tcp).await.expect("mTLS handshake")
}

/// A real Prometheus (Debian's package) in `dir`, scraping `target` (HOST:PORT) as job
/// `xunjian`, and itself as job `prometheus` (its own counters, such as duplicate samples),
/// every second; the process (killed on drop) and its base URL.
pub fn start_prometheus(dir: &Path, target: &str) -> (tokio::process::Child, String) {
    let port = crate::measure::free_port();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: xunjian\n    static_configs:\n      - targets: [\"{target}\"]\n  - job_name: prometheus\n    static_configs:\n      - targets: [\"127.0.0.1:{port}\"]\n"
        ),
    )
    .expect("write prometheus.yml");
    let prometheus = tokio::process::Command::new("prometheus")
        .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("tsdb").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("run prometheus (Debian package prometheus; .ci/run installs it)");
    (prometheus, format!("http://127.0.0.1:{port}"))
}

/// A fresh temporary directory for one test.
pub fn temp_dir(label: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "xunjian-{label}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Runs promtool on `exposition`; Err with its complaint when it does not pass.
pub fn promtool_check_metrics(exposition: &str) -> Result<(), String> {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|err| {
            format!("cannot run promtool ({err}); install Debian's prometheus package: apt-get install prometheus")
        })?;
    child.stdin.take().expect("stdin").write_all(exposition.as_bytes()).map_err(|e| e.to_string())?;
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if output.status.success() { Ok(()) } else { Err(text) }
}

/// A person logged in to a collector's web console: a client sending the session cookie, and
/// the session's CSRF token for changes.
pub struct Login {
    pub client: reqwest::Client,
    pub csrf: String,
    pub cookie: String,
}

impl Login {
    /// Logs `name` in through `/login` as a browser would: the form's nonce and cookie, then the
    /// password; panics unless a session cookie comes back.
    pub async fn new(web: &str, name: &str, password: &str) -> Login {
        match Login::attempt(web, name, password).await {
            Ok(login) => login,
            Err((status, body)) => panic!("login of {name} refused with {status}: {body}"),
        }
    }

    /// One login attempt: the session, or the status and page of the refusal.
    pub async fn attempt(web: &str, name: &str, password: &str) -> Result<Login, (u16, String)> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let bare =
            reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let form = bare.get(format!("{web}/login")).send().await.expect("GET /login");
        let login_cookie = set_cookie(&form, "xunjian_login").expect("the login form's cookie");
        let page = form.text().await.unwrap_or_default();
        let nonce = page
            .split("name=\"nonce\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the login form's nonce")
            .to_string();
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("nonce", &nonce)
            .append_pair("next", "/")
            .append_pair("name", name)
            .append_pair("password", password)
            .finish();
        let answer = bare
            .post(format!("{web}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("xunjian_login={login_cookie}"))
            .body(body)
            .send()
            .await
            .expect("POST /login");
        let status = answer.status().as_u16();
        let Some(session) = set_cookie(&answer, "xunjian_session").filter(|_| status == 303) else {
            return Err((status, answer.text().await.unwrap_or_default()));
        };
        let cookie = format!("xunjian_session={session}");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("cookie", reqwest::header::HeaderValue::from_str(&cookie).expect("cookie header"));
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .expect("client");
        let me: serde_json::Value = serde_json::from_str(
            &client
                .get(format!("{web}/api/v1/me"))
                .send()
                .await
                .expect("GET /api/v1/me")
                .text()
                .await
                .unwrap_or_default(),
        )
        .expect("/api/v1/me JSON");
        let csrf = me["csrf"].as_str().expect("a session's CSRF token").to_string();
        Ok(Login { client, csrf, cookie })
    }

    /// POSTs `json` to `url` with the session's CSRF token: status and body.
    pub async fn post_json(&self, url: &str, json: &str) -> (u16, String) {
        let response = self
            .client
            .post(url)
            .header("x-csrf-token", &self.csrf)
            .body(json.to_string())
            .send()
            .await
            .unwrap_or_else(|err| panic!("POST {url}: {err}"));
        (response.status().as_u16(), response.text().await.unwrap_or_default())
    }

    /// GET `url`: status, content type, body.
    pub async fn get(&self, url: &str) -> (u16, String, String) {
        let response = self.client.get(url).send().await.unwrap_or_else(|err| panic!("GET {url}: {err}"));
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        (status, content_type, response.text().await.unwrap_or_default())
    }
}

/// The value a response sets for cookie `name`.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(key, value)| *key == name && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

/// A `multipart/form-data` body: text fields, then files (field, file name, bytes); returns
/// the content type (with its boundary) and the body.
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = format!("xunjian-test-{}", std::process::id());
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    for (name, file, bytes) in files {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[cfg(test)]
mod tests {
    use super::elf_is_static;

    /// A 64-bit little-endian ELF header whose program header table holds `kinds`.
    fn elf(kinds: &[u32]) -> Vec<u8> {
        let mut bytes = vec![0u8; 64];
        bytes[..6].copy_from_slice(b"\x7fELF\x02\x01");
        bytes[0x10..0x12].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN: a position-independent executable
        bytes[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        bytes[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        bytes[0x38..0x3a].copy_from_slice(&(kinds.len() as u16).to_le_bytes());
        for kind in kinds {
            let mut header = vec![0u8; 56];
            header[..4].copy_from_slice(&kind.to_le_bytes());
            bytes.extend(header);
        }
        bytes
    }

    #[test]
    fn an_executable_is_static_when_it_names_no_interpreter() {
        // PT_PHDR, PT_LOAD, PT_DYNAMIC: a static-pie has a dynamic section but no interpreter.
        assert!(elf_is_static(&elf(&[6, 1, 1, 2])));
        assert!(!elf_is_static(&elf(&[6, 3, 1, 2])), "PT_INTERP names the dynamic loader");
        let mut truncated = elf(&[1, 1]);
        truncated.truncate(100);
        assert!(!elf_is_static(&truncated), "a program header table cut short is not read as static");
        assert!(!elf_is_static(b"#!/bin/sh\n"), "not an ELF file");
        assert!(!elf_is_static(&elf(&[])), "nothing to load");
        let mut object = elf(&[1]);
        object[0x10] = 1; // ET_REL: an object file, not an executable
        assert!(!elf_is_static(&object));
        let mut huge = elf(&[1]);
        huge[0x20..0x28].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(!elf_is_static(&huge), "a table offset past the end is refused, not an overflow");
        // This test binary is linked the ordinary way, against the shared C library.
        let me = std::fs::read(std::env::current_exe().expect("test binary")).expect("read test binary");
        assert!(!elf_is_static(&me));
    }
}
