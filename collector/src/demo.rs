//! `xunjian-collector demo`: a small province on loopback, in one process and one command.
//!
//! Simulated county sites (healthy ones, a stale news column, a blank column, a GBK site, a site
//! that is down), throw-away certificates, a collector, and one agent per county probing every
//! few seconds and pushing over mutual TLS, exactly as separate machines would. Nothing is
//! written outside a temporary directory, removed at exit.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use jiff::Timestamp;
use tokio::sync::watch;
use xunjian_agent::fetch::Fetcher;
use xunjian_agent::push::Pusher;
use xunjian_shared::config::AgentConfig;
use xunjian_shared::time::china_today;
use xunjian_sim::Sim;
use xunjian_sim::county::{self, SimCounty};

use crate::server::{self, Settings};
use crate::tls::{self, EphemeralPki};

/// Probe intervals of the demo's agents: seconds, so the status page moves while you watch.
const DEMO_INTERVAL: &str = "5s";
const DEMO_COLUMN_INTERVAL: &str = "10s";

/// A running demo: the simulator, the collector and the agents.
pub struct Demo {
    pub web_addr: SocketAddr,
    pub push_addr: SocketAddr,
    pub counties: Vec<SimCounty>,
    pub sim: Sim,
    collector: server::Running,
    stop_agents: watch::Sender<bool>,
    agents: Vec<tokio::task::JoinHandle<xunjian_agent::run::RunSummary>>,
    dir: PathBuf,
}

impl Demo {
    /// Starts everything; `web_listen` is the status page's address (port 0 picks one).
    pub async fn start(web_listen: SocketAddr, dir: &Path) -> anyhow::Result<Demo> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let pki = EphemeralPki::new().context("cannot make the demo's certificates")?;
        let sim = Sim::start().await.context("cannot start the site simulator")?;
        let counties = county::province();
        county::serve(&sim, &counties, china_today(Timestamp::now()));
        // The site that is down: a loopback port nothing listens on.
        let down_port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port())?;

        let settings = Settings {
            database: dir.join("demo.db"),
            push_listen: "127.0.0.1:0".parse()?,
            push_tls: tls::push_server_config_from_pem(
                pki.ca_pem.as_bytes(),
                pki.server_cert_pem.as_bytes(),
                pki.server_key_pem.as_bytes(),
            )?,
            push_max_body_bytes: xunjian_shared::config::collector::DEFAULT_PUSH_MAX_BODY_BYTES,
            web_listen,
            web_tls: None,
            series_expiry: xunjian_shared::config::collector::DEFAULT_SERIES_EXPIRY,
            dedupe_window: xunjian_shared::config::collector::DEFAULT_DEDUPE_WINDOW,
        };
        let collector = server::start(settings).await.map_err(|err| match err {
            server::ServeError::Bind { addr, source } => {
                anyhow::anyhow!(
                    "cannot listen on {addr}: {source}; choose another address with --listen 127.0.0.1:PORT"
                )
            }
            other => other.into(),
        })?;

        std::fs::write(dir.join("ca.pem"), &pki.ca_pem)?;
        let (stop_agents, stopped) = watch::channel(false);
        let mut agents = Vec::new();
        for county in &counties {
            let (cert, key) = pki.agent(county.agent)?;
            std::fs::write(dir.join(format!("{}.pem", county.agent)), cert)?;
            write_private(&dir.join(format!("{}-key.pem", county.agent)), &key)?;
            let toml = agent_config(county, &sim, collector.push_addr, down_port);
            let config_path = dir.join(format!("{}.toml", county.agent));
            std::fs::write(&config_path, &toml)?;
            let config =
                AgentConfig::load(&config_path, &Default::default(), &xunjian_agent::schedule::validate_selector)
                    .with_context(|| format!("the demo's configuration for {} is invalid", county.agent))?;
            let link = config.collector.clone().context("demo configuration without [collector]")?;
            let pusher = Pusher::new(&link)?;
            let fetcher = Arc::new(Fetcher::new(&config.limits, &config.user_agent, &[])?);
            let dictionary = xunjian_agent::schedule::load_dictionary(&config).map_err(anyhow::Error::msg)?;
            let shared = xunjian_agent::schedule::Shared::new(&config, fetcher, dictionary);
            agents.push(tokio::spawn(xunjian_agent::run::run(config, shared, pusher, stopped.clone())));
        }
        Ok(Demo {
            web_addr: collector.web_addr,
            push_addr: collector.push_addr,
            counties,
            sim,
            collector,
            stop_agents,
            agents,
            dir: dir.to_path_buf(),
        })
    }

    /// Stops the agents (they push what is left), then the collector; removes the temporary files.
    pub async fn stop(self) {
        let _ = self.stop_agents.send(true);
        for agent in self.agents {
            let _ = tokio::time::timeout(Duration::from_secs(30), agent).await;
        }
        self.collector.shutdown().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The configuration a county's IT staff would write for the simulated sites.
fn agent_config(county: &SimCounty, sim: &Sim, push_addr: SocketAddr, down_port: u16) -> String {
    let mut toml = format!(
        "[agent]\nid = \"{}\"\ncounty = \"{}\"\n\n[probe]\ninterval = \"{DEMO_INTERVAL}\"\ncolumn_interval = \"{DEMO_COLUMN_INTERVAL}\"\ntimeout = \"3s\"\n\n\
         [collector]\nurl = \"https://127.0.0.1:{}/\"\nca = \"ca.pem\"\ncert = \"{}.pem\"\nkey = \"{}-key.pem\"\n",
        county.agent,
        county.county,
        push_addr.port(),
        county.agent,
        county.agent
    );
    for site in &county.sites {
        let url = match &site.home_path {
            Some(path) => sim.url(path),
            None => format!("http://127.0.0.1:{down_port}/"),
        };
        toml.push_str(&format!("\n[[site]]\nname = \"{}\"\nunit = \"{}\"\nurl = \"{url}\"\n", site.name, site.unit));
        for column in &site.columns {
            toml.push_str(&format!(
                "[[site.column]]\nname = \"{}\"\nurl = \"{}\"\nkind = \"{}\"\n",
                column.name,
                sim.url(&column.path),
                column.kind
            ));
        }
    }
    toml
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    std::io::Write::write_all(&mut options.open(path)?, contents.as_bytes())
}

/// The `demo` command: start, print where to look, run until Ctrl-C.
pub fn run(web_listen: SocketAddr) -> anyhow::Result<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let dir = std::env::temp_dir().join(format!("xunjian-demo-{}", std::process::id()));
        let demo = Demo::start(web_listen, &dir).await?;
        let web = demo.web_addr;
        println!("xunjian 演示：3 个县区、{} 个网站，每 {DEMO_INTERVAL} 巡检一次首页、每 {DEMO_COLUMN_INTERVAL} 巡检一次栏目", demo.counties.iter().map(|c| c.sites.len()).sum::<usize>());
        println!();
        println!("  状态页        http://{web}/");
        println!("  Prometheus    http://{web}/metrics");
        println!("  状态 API      http://{web}/api/v1/status");
        println!("  推送端口      https://{}/api/v1/push (需客户端证书)", demo.push_addr);
        println!();
        println!("预期看到：龙川县教育局「教育动态」栏目超期未更新；和平县人民政府网（GBK 编码）「人事信息」为空白栏目；");
        println!("和平县水务局网站无法访问；其余正常。数秒内出现第一批数据。按 Ctrl-C 结束。");
        xunjian_agent::run::shutdown_signal().await;
        println!("正在停止……");
        demo.stop().await;
        anyhow::Ok(())
    })
}
