//! A collector as an office deploys it, for tests that play agents by hand: certificates from
//! `certs init|issue`, a `collector.toml`, the real `xunjian-collector serve` process, and
//! agents that push batches over mutual TLS with their own certificates.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use xunjian_shared::wire::{Batch, BatchId, CheckKind, FetchFailure, FetchRecord, Observation, TargetKind};

use crate::harness::{Process, http_get, http_get_rendered_after, run_cli, temp_dir, web_address};
use crate::measure::free_port;

/// A collector's directory, configuration and (once started) process.
pub struct Deployment {
    pub dir: PathBuf,
    pub certs: PathBuf,
    pub config: PathBuf,
    pub push_port: u16,
    /// The web listener's base URL, once started.
    pub web: String,
    process: Option<Process>,
}

impl Deployment {
    /// Makes certificates and a `collector.toml` (push on a free port, web on loopback, the
    /// database in the directory) with `extra` appended: `[push]` keys first (they continue the
    /// `[push]` table), then any other tables.
    ///
    /// Pages and the read API are open (`[web] open_reads`) unless `extra` sets `open_reads`:
    /// most tests here are about what agents send; who may read what is tested in e2e/people.rs.
    pub fn new(label: &str, push_keys: &str, extra: &str) -> Deployment {
        let open = if extra.contains("open_reads") { "" } else { "open_reads = true\n" };
        // A machine token for what only the city's users read (the audit log, the outbox).
        let token = if extra.contains("admin_token_file") { "" } else { "admin_token_file = \"admin-token\"\n" };
        let dir = temp_dir(label);
        let certs = dir.join("certs");
        run_cli(
            "xunjian-collector",
            &["certs", "init", "--dir", certs.to_str().expect("UTF-8"), "--host", "127.0.0.1"],
        );
        let push_port = free_port();
        let config = dir.join("collector.toml");
        std::fs::write(
            &config,
            format!(
                "[collector]\ndatabase = \"xunjian.db\"\n[push]\nlisten = \"127.0.0.1:{push_port}\"\nca = \"certs/ca.pem\"\ncert = \"certs/server.pem\"\nkey = \"certs/server-key.pem\"\n{push_keys}\n[web]\nlisten = \"127.0.0.1:0\"\n{open}{token}{extra}\n"
            ),
        )
        .expect("write collector.toml");
        std::fs::write(dir.join("admin-token"), "xunjian-test-machine-token-0123456789\n").expect("write admin-token");
        Deployment { dir, certs, config, push_port, web: String::new(), process: None }
    }

    /// Starts `xunjian-collector serve` (logs at `warn` to `collector.log`).
    pub async fn start(&mut self) {
        self.start_under("").await;
    }

    /// Starts it through a shell with `prefix` first (e.g. `ulimit -n 256;`).
    pub async fn start_under(&mut self, prefix: &str) {
        let log = self.dir.join("collector.log");
        let mut process = Process::spawn_logged_shell(
            prefix,
            "xunjian-collector",
            &["serve", "--config", self.config.to_str().expect("UTF-8")],
            &log,
            "warn",
        );
        self.web = web_address(&mut process).await;
        self.process = Some(process);
    }

    /// The collector's process id.
    pub fn pid(&self) -> u32 {
        self.process.as_ref().map(Process::id).unwrap_or(0)
    }

    /// SIGTERM, and waits; returns the exit code.
    pub async fn stop(&mut self) -> Option<i32> {
        match self.process.take() {
            Some(process) => process.terminate().await,
            None => None,
        }
    }

    /// SIGKILL, as a crash.
    pub async fn kill9(&mut self) {
        if let Some(process) = self.process.take() {
            process.kill9().await;
        }
    }

    /// The collector's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("collector.log")).unwrap_or_default()
    }

    /// Issues (once) agent `id`'s certificate with `certs issue`, and returns it as a client.
    pub fn agent(&self, id: &str) -> Agent {
        let cert = self.certs.join("agents").join(format!("{id}.pem"));
        if !cert.exists() {
            run_cli(
                "xunjian-collector",
                &["certs", "issue", "--dir", self.certs.to_str().expect("UTF-8"), "--agent", id],
            );
        }
        self.agent_with(id, &cert, &self.certs.join("agents").join(format!("{id}-key.pem")))
    }

    /// An agent pushing with the certificate and key in these files.
    pub fn agent_with(&self, id: &str, cert: &Path, key: &Path) -> Agent {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca = std::fs::read(self.certs.join("ca.pem")).expect("ca.pem");
        let mut identity = std::fs::read(cert).expect("agent certificate");
        identity.push(b'\n');
        identity.extend(std::fs::read(key).expect("agent key"));
        let client = reqwest::Client::builder()
            .tls_certs_only(reqwest::Certificate::from_pem_bundle(&ca).expect("CA PEM"))
            .identity(reqwest::Identity::from_pem(&identity).expect("identity PEM"))
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Agent { id: id.to_string(), client, url: format!("https://127.0.0.1:{}/api/v1/push", self.push_port) }
    }

    /// Runs `xunjian-collector COMMAND --config collector.toml ARGS…` (as README writes it);
    /// returns exit code, stdout, stderr.
    pub fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let (command, rest) = args.split_first().expect("a command");
        let output = std::process::Command::new(crate::harness::binary("xunjian-collector"))
            .arg(command)
            .arg("--config")
            .arg(&self.config)
            .args(rest)
            .output()
            .expect("run xunjian-collector");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Runs `xunjian-collector user --config collector.toml ARGS…` with `stdin` (a password for
    /// `--password-stdin`); returns exit code, stdout, stderr.
    pub fn user(&self, args: &[&str], stdin: &str) -> (i32, String, String) {
        let mut child = std::process::Command::new(crate::harness::binary("xunjian-collector"))
            .arg("user")
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run xunjian-collector user");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
        let output = child.wait_with_output().expect("xunjian-collector user");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Adds a user with `password` (`user add NAME --role … --password-stdin`); panics if refused.
    pub fn add_user(&self, args: &[&str], password: &str) {
        let mut args = args.to_vec();
        args.push("--password-stdin");
        let (code, _, err) = self.user(&args, &format!("{password}\n"));
        assert_eq!(code, 0, "user {args:?}: {err}");
    }

    /// `/metrics` as rendered after this call began (renderings are shared for a second).
    pub async fn metrics(&self) -> String {
        http_get_rendered_after(&format!("{}/metrics", self.web), Timestamp::now()).await
    }

    /// `/api/v1/status`, rendered after this call began.
    pub async fn status(&self) -> xunjian_shared::wire::StatusReport {
        let body = http_get_rendered_after(&format!("{}/api/v1/status", self.web), Timestamp::now()).await;
        serde_json::from_str(&body).expect("status JSON")
    }

    /// GETs `path` with the machine token of `admin-token` (an admin's view); the body.
    pub async fn admin_get(&self, path: &str) -> String {
        let token = std::fs::read_to_string(self.dir.join("admin-token")).expect("admin-token");
        let client = reqwest::Client::builder().no_proxy().build().expect("client");
        let response = client.get(format!("{}{path}", self.web)).bearer_auth(token.trim()).send().await;
        response.expect("GET as admin").text().await.unwrap_or_default()
    }

    /// `/api/v1/alerts`.
    pub async fn alerts(&self) -> Vec<serde_json::Value> {
        let (_, _, body) = http_get(&format!("{}/api/v1/alerts", self.web), None).await;
        serde_json::from_str(&body).unwrap_or_default()
    }
}

/// An agent's mTLS client.
pub struct Agent {
    pub id: String,
    client: reqwest::Client,
    url: String,
}

impl Agent {
    /// Pushes `batch` gzip-compressed, as agents do; status and body.
    pub async fn push(&self, batch: &Batch) -> (u16, String) {
        self.push_json(&serde_json::to_value(batch).expect("batch JSON")).await
    }

    /// Pushes any JSON (hostile agents send what they like).
    pub async fn push_json(&self, body: &serde_json::Value) -> (u16, String) {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(body.to_string().as_bytes()).expect("gzip");
        let gzipped = encoder.finish().expect("gzip");
        let response = self
            .client
            .post(&self.url)
            .header("content-encoding", "gzip")
            .body(gzipped)
            .send()
            .await
            .unwrap_or_else(|err| panic!("push by {}: {err}", self.id));
        (response.status().as_u16(), response.text().await.unwrap_or_default())
    }

    /// A batch of `observations` from this agent for `county`, with a fresh id.
    pub fn batch(&self, county: &str, observations: Vec<Observation>) -> Batch {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let sequence = NEXT.fetch_add(1, Ordering::SeqCst);
        Batch {
            schema_version: 1,
            batch_id: BatchId::parse(&format!("{}-{sequence:08}-{}", self.id.replace('.', "_"), std::process::id()))
                .expect("batch id"),
            agent: self.id.clone(),
            county: county.into(),
            sequence,
            created_at: Timestamp::now(),
            inventory: None,
            observations,
        }
    }
}

/// A home-page probe of `target` (unit `unit`) at `at`: opened (200) or refused.
pub fn probe(target: &str, unit: &str, up: bool, at: Timestamp) -> Observation {
    let mut observation =
        Observation::new(target, TargetKind::Site, unit, "http://127.0.0.1:9/", CheckKind::Availability, at);
    observation.fetch = Some(FetchRecord {
        status: up.then_some(200),
        duration_ms: 12,
        failure: (!up).then_some(FetchFailure::Connect),
        redirects: Vec::new(),
        tls_not_after: None,
        charset: Some("UTF-8".into()),
        body_bytes: 1000,
        truncated: false,
    });
    if !up {
        observation.findings.push(xunjian_shared::wire::Finding::new(
            xunjian_shared::wire::FindingCode::SiteUnreachable,
            xunjian_shared::wire::Severity::Error,
            "首页无法访问：连接被拒绝",
        ));
        observation.settle();
    }
    observation
}
