//! `xunjian-demo`: a small province on loopback, in one process and one command.
//!
//! Simulated county sites and accounts (see `xunjian_sim::county` for what each is meant to
//! show, including the seed notice's three annex cases), the central office's registry imported
//! from CSV, throw-away certificates, a collector, and one agent per county probing every few
//! seconds and pushing over mutual TLS, exactly as separate machines would. Nothing is written
//! outside a temporary directory, removed at exit.
#![forbid(unsafe_code)]

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
use xunjian_sim::county::{self, SimCounty, SimSource};

use xunjian_collector::server::{self, Settings};
use xunjian_collector::tls::{self, EphemeralPki};

/// Probe intervals of the demo's agents: seconds, so the status page moves while you watch.
const DEMO_INTERVAL: &str = "5s";
const DEMO_COLUMN_INTERVAL: &str = "10s";
/// Dead links and wording: politer, as in production, but still within the first minute.
const DEMO_AUDIT_INTERVAL: &str = "30s";

/// A running demo: the simulator, the collector and the agents.
pub struct Demo {
    /// The people the demo made, with their throw-away passwords.
    pub logins: Vec<DemoLogin>,
    pub web_addr: SocketAddr,
    pub push_addr: SocketAddr,
    pub counties: Vec<SimCounty>,
    pub sim: Sim,
    collector: server::Running,
    stop_agents: watch::Sender<bool>,
    agents: Vec<tokio::task::JoinHandle<Result<xunjian_agent::run::RunSummary, xunjian_agent::run::RunError>>>,
    dir: PathBuf,
}

impl Demo {
    /// Starts everything; `web_listen` is the status page's address (port 0 picks one).
    pub async fn start(web_listen: SocketAddr, dir: &Path) -> anyhow::Result<Demo> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let pki = EphemeralPki::new().context("cannot make the demo's certificates")?;
        let sim = Sim::start().await.context("cannot start the site simulator")?;
        let today = china_today(Timestamp::now());
        let mut counties = county::province(today);
        // One site goes down and up every 20 s: its problem opens, closes and reopens in the
        // ledger (/api/v1/problems) while you watch.
        if let Some(zijin) = counties.iter_mut().find(|c| c.county == "紫金县") {
            zijin.sites.push(county::flapping_site(Duration::from_secs(20)));
        }
        county::serve(&sim, &counties, today);
        // The site that is down: a loopback port nothing listens on.
        let down_port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port())?;

        // Notifications go to a webhook inside the demo that prints them, as a duty group would see them.
        let console = start_console_receiver().await?;
        let settings = Settings {
            database: dir.join("demo.db"),
            push_listen: "127.0.0.1:0".parse()?,
            push_tls: tls::push_server_config_from_pem(
                pki.ca_pem.as_bytes(),
                pki.server_cert_pem.as_bytes(),
                pki.server_key_pem.as_bytes(),
            )?,
            push_max_body_bytes: xunjian_shared::config::collector::DEFAULT_PUSH_MAX_BODY_BYTES,
            push_max_batches_per_minute: xunjian_shared::config::collector::DEFAULT_MAX_BATCHES_PER_MINUTE,
            push_read_timeout: xunjian_shared::config::collector::DEFAULT_READ_TIMEOUT,
            push_limits: Default::default(),
            push_agents: Vec::new(),
            web_listen,
            web_tls: None,
            admin_token: None,
            metrics_token: None,
            open_reads: false,
            session_lifetime: xunjian_shared::config::collector::DEFAULT_SESSION_LIFETIME,
            session_idle: xunjian_shared::config::collector::DEFAULT_SESSION_IDLE,
            series_expiry: xunjian_shared::config::collector::DEFAULT_SERIES_EXPIRY,
            dedupe_window: xunjian_shared::config::collector::DEFAULT_DEDUPE_WINDOW,
            history_retention: xunjian_shared::config::collector::DEFAULT_HISTORY_RETENTION,
            alerts: xunjian_shared::config::AlertsConfig {
                evaluation_interval: Duration::from_secs(5),
                notifiers: vec![console_notifier(console)],
                ..Default::default()
            },
            ledger: Default::default(),
            // The seed notice's office, so the demo's 通报 reads like the one it replaces.
            report: xunjian_collector::report::Settings {
                office: "河源市人民政府办公室".into(),
                document_number: "河府办明电〔    〕    号".into(),
                ..Default::default()
            },
            // The notice's rules as shipped, and every county government on WeChat.
            registry: xunjian_shared::config::collector::RegistryConfig {
                required_platforms: vec![xunjian_shared::config::Platform::Wechat],
                ..Default::default()
            },
        };
        seed_first_sight(&settings.database, &counties, &[county::NEW_ACCOUNT])
            .context("cannot record the demo's history of first sight")?;
        let collector = server::start(settings).await.map_err(|err| match err {
            server::ServeError::Bind { addr, source } => {
                anyhow::anyhow!(
                    "cannot listen on {addr}: {source}; choose another address with --listen 127.0.0.1:PORT"
                )
            }
            other => other.into(),
        })?;

        // The central office's registry, imported as it would be: from its CSV.
        let mut filed = county::registry(today);
        filed.push(county::flapping_filing());
        let csv = registry_csv(&filed);
        let filings = xunjian_collector::registry::from_csv(csv.as_bytes())
            .map_err(|problems| anyhow::anyhow!("the demo's registry is invalid: {}", problems.join("; ")))?;
        collector
            .store
            .change_registry(xunjian_collector::store::RegistryChange::ReplaceFilings {
                filings,
                author: "演示".into(),
            })
            .await?;

        let logins = add_demo_users(&dir.join("demo.db"))?;

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
            let config = AgentConfig::load(&config_path, &Default::default())
                .with_context(|| format!("the demo's configuration for {} is invalid", county.agent))?;
            let link = config.collector.clone().context("demo configuration without [collector]")?;
            let pusher = Pusher::new(&link)?;
            let fetcher = Arc::new(Fetcher::new(&config.limits, &config.user_agent, &[])?);
            let dictionary = xunjian_agent::schedule::load_dictionaries(&config).map_err(anyhow::Error::msg)?;
            let shared = xunjian_agent::schedule::Shared::new(&config, fetcher, dictionary);
            agents.push(tokio::spawn(xunjian_agent::run::run(config, shared, pusher, stopped.clone())));
        }
        tokio::spawn(issue_demo_task(collector.store.clone(), dir.join("demo.db"), collector.web_addr));
        Ok(Demo {
            logins,
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

/// A user the demo made: name, password (throw-away, printed), what it is for.
#[derive(Clone, Debug)]
pub struct DemoLogin {
    pub name: String,
    pub password: String,
    pub role: xunjian_collector::people::Role,
    pub counties: Vec<String>,
}

/// The city office's admin and 龙川县's county user, each with a fresh random password.
fn add_demo_users(database: &Path) -> anyhow::Result<Vec<DemoLogin>> {
    use xunjian_collector::people::{self, NewUser};
    let mut connection = xunjian_collector::store::filings::open_connection(database)?;
    let mut logins = Vec::new();
    for (name, role, counties) in
        [("shizhengfuban", "admin", vec![]), ("longchuan", "county", vec!["龙川县".to_string()])]
    {
        let new = NewUser::parse(name, role, &counties).map_err(|problems| anyhow::anyhow!(problems.join("; ")))?;
        let password = people::generate_password()?;
        let hash = people::hash_password(&password)?;
        xunjian_collector::store::users::add(&mut connection, &new, Some(&hash), "演示", Timestamp::now())
            .map_err(|error| anyhow::anyhow!("cannot add the demo's user {name}: {error}"))?;
        logins.push(DemoLogin { name: name.into(), password, role: new.role, counties });
    }
    Ok(logins)
}

/// The county whose problem the demo gives a 整改 task, so the loop can be tried at once.
pub const DEMO_TASK_COUNTY: &str = "龙川县";

/// Once the agents have found 龙川县's problems, gives its education bureau a 整改 task for
/// them, as the office would from `/problems`: the county user answers it on `/tasks`.
async fn issue_demo_task(store: xunjian_collector::store::Store, database: PathBuf, web: SocketAddr) {
    use xunjian_collector::ledger::Status;
    use xunjian_collector::store::ledger::ProblemFilter;
    let filter = ProblemFilter {
        county: Some(DEMO_TASK_COUNTY.into()),
        unit: Some("龙川县教育局".into()),
        status: Some(Status::Open),
        ..Default::default()
    };
    for _ in 0..180 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (store, filter, database) = (store.clone(), filter.clone(), database.clone());
        let made = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<i64>> {
            let (_, problems) = store.problems(&filter, 0, 20)?;
            if problems.is_empty() {
                return Ok(None);
            }
            let today = china_today(Timestamp::now());
            let deadline = xunjian_collector::tasks::default_deadline(&Default::default(), today);
            let draft = xunjian_collector::tasks::TaskDraft::from_problems(&problems, None, None, deadline, today, "")
                .map_err(|problems| anyhow::anyhow!(problems.join("; ")))?;
            let mut connection = xunjian_collector::store::filings::open_connection(&database)?;
            let id = xunjian_collector::store::tasks::create(&mut connection, &draft, "演示", Timestamp::now())
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            Ok(Some(id))
        })
        .await;
        match made {
            Ok(Ok(Some(id))) => {
                println!("已向{DEMO_TASK_COUNTY}教育局下发整改任务 #{id}：http://{web}/tasks/{id}");
                return;
            }
            Ok(Ok(None)) => continue,
            Ok(Err(error)) => {
                eprintln!("演示的整改任务未能下发：{error:#}");
                return;
            }
            Err(_) => return,
        }
    }
}

/// The configuration a county's IT staff would write for the simulated sites.
fn agent_config(county: &SimCounty, sim: &Sim, push_addr: SocketAddr, down_port: u16) -> String {
    let mut toml = format!(
        "[agent]\nid = \"{}\"\ncounty = \"{}\"\n\n[probe]\ninterval = \"{DEMO_INTERVAL}\"\ncolumn_interval = \"{DEMO_COLUMN_INTERVAL}\"\naudit_interval = \"{DEMO_AUDIT_INTERVAL}\"\ntimeout = \"3s\"\n\n\
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
            if let Some(interpretations) = column.interpretations {
                toml.push_str(&format!("interpretations = \"{interpretations}\"\n"));
            }
        }
        for channel in &site.channels {
            toml.push_str(&format!(
                "[[site.interaction]]\nname = \"{}\"\nurl = \"{}\"\n",
                channel.name,
                sim.url(&channel.path)
            ));
            if !channel.simple_keywords.is_empty() {
                let quoted: Vec<String> = channel.simple_keywords.iter().map(|k| format!("\"{k}\"")).collect();
                toml.push_str(&format!("simple_keywords = [{}]\n", quoted.join(", ")));
            }
        }
    }
    for account in &county.accounts {
        toml.push_str(&format!(
            "\n[[account]]\nname = \"{}\"\nplatform = \"{}\"\nunit = \"{}\"\n",
            account.name, account.platform, account.unit
        ));
        if let Some(id) = account.account_id {
            toml.push_str(&format!("account_id = \"{id}\"\n"));
        }
        match account.source {
            SimSource::Feed => toml.push_str(&format!("feed = \"{}\"\n", sim.url(&account.path))),
            SimSource::Json { .. } => toml.push_str(&format!(
                "[account.json]\nurl = \"{}\"\nitems = \"/data/cards\"\ndate = \"/mblog/created_at\"\ncomments = \"/mblog/comments_open\"\n",
                sim.url(&account.path)
            )),
        }
    }
    toml
}

fn console_notifier(addr: SocketAddr) -> xunjian_shared::config::NotifierConfig {
    xunjian_shared::config::NotifierConfig {
        name: "演示控制台".into(),
        kind: xunjian_shared::config::NotifierKind::Webhook,
        url: url::Url::parse(&format!("http://{addr}/hook")).expect("a loopback URL"),
        secret: None,
        counties: Vec::new(),
        min_severity: xunjian_shared::config::AlertSeverity::Warning,
        rate_limit_per_minute: 120,
        send_resolved: true,
    }
}

/// A webhook receiver on loopback that prints each notice's summary.
async fn start_console_receiver() -> anyhow::Result<SocketAddr> {
    async fn hook(body: axum::body::Bytes) -> &'static str {
        if let Ok(payload) = serde_json::from_slice::<serde_json::Value>(&body) {
            for alert in payload["alerts"].as_array().into_iter().flatten() {
                let state = if alert["status"] == "resolved" { "恢复" } else { "告警" };
                println!("  [通知·{state}] {}", alert["annotations"]["summary"].as_str().unwrap_or(""));
            }
        }
        "ok"
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = axum::Router::new().route("/hook", axum::routing::post(hook));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(addr)
}

fn registry_csv(filings: &[county::SimFiling]) -> String {
    let mut csv = String::from("名称,平台,责任单位,县区,备案日期,状态,账号ID,单位类型,开设日期\n");
    for f in filings {
        let opened = f.opened_on.map(|d| d.to_string()).unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{opened}\n",
            f.name,
            f.platform,
            f.unit,
            f.county,
            f.filed_on,
            f.status,
            f.account_id.unwrap_or(""),
            f.unit_type
        ));
    }
    csv
}

/// Accounts the demo stands for as running for years: an agent saw them a year ago (the
/// collector's history of first sight), so the days to file are long past. The ones named in
/// `new` are new this week and still have them.
fn seed_first_sight(database: &Path, counties: &[SimCounty], new: &[&str]) -> anyhow::Result<()> {
    let year_ago = Timestamp::now() - jiff::SignedDuration::from_hours(365 * 24);
    let seen: Vec<_> = counties
        .iter()
        .flat_map(|county| county.accounts.iter().map(move |account| (county, account)))
        .filter(|(_, account)| !new.contains(&account.name))
        .map(|(county, account)| xunjian_collector::projection::FirstSeen {
            target: account.name.to_string(),
            kind: xunjian_shared::wire::TargetKind::Account,
            platform: account.platform.to_string(),
            county: county.county.to_string(),
            agent: county.agent.to_string(),
            at: year_ago,
        })
        .collect();
    let mut connection = xunjian_collector::store::filings::open_connection(database)?;
    xunjian_collector::store::history::import_first_seen(&mut connection, &seen)?;
    Ok(())
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
        let sites: usize = demo.counties.iter().map(|c| c.sites.len()).sum();
        let accounts: usize = demo.counties.iter().map(|c| c.accounts.len()).sum();
        println!(
            "xunjian 演示：{} 个县区（含市直）、{sites} 个网站、{accounts} 个政务新媒体账号；每 {DEMO_INTERVAL} 巡检首页，每 {DEMO_COLUMN_INTERVAL} 巡检栏目、留言板和账号，每 {DEMO_AUDIT_INTERVAL} 检查链接和错别字",
            demo.counties.len()
        );
        println!();
        println!("  登录          http://{web}/login （演示用的一次性密码，仅本次有效）");
        for login in &demo.logins {
            let scope = if login.counties.is_empty() { "全部县区".to_string() } else { login.counties.join("、") };
            println!("                用户名 {:<14} 密码 {}  （{}，{scope}）", login.name, login.password, login.role.label_zh());
        }
        println!("  状态页        http://{web}/");
        println!("  整改任务      http://{web}/tasks （数秒后出现一个下发给{DEMO_TASK_COUNTY}教育局的待整改任务；以 longchuan 登录即可反馈）");
        println!("  Prometheus    http://{web}/metrics （仅本机）");
        println!("  状态 API      http://{web}/api/v1/status");
        println!("  问题台账      http://{web}/api/v1/problems （导出 Excel：/api/v1/problems.csv）");
        println!("  历史          http://{web}/api/v1/history/counties");
        println!("  备案表        http://{web}/api/v1/registry.csv");
        println!("  本季度通报    http://{web}/api/v1/report?format=docx （其他格式与时段：/report）");
        println!("  推送端口      https://{}/api/v1/push (需客户端证书)", demo.push_addr);
        println!();
        println!("预期看到（对应河源市 2019 年第二季度通报附件）：");
        println!("  河源市社会保险基金管理局 微信公众号 未备案（漏报）；");
        println!("  龙川县公共服务中心 微信公众号 备案为已关停但仍在更新（未及时履行关停注销程序）；");
        println!("  河源市生态环境局 新浪微博 评论功能关闭（互动交流功能不通畅）；");
        println!("  龙川县人民政府门户网站「县长信箱」跨国庆假期超期答复；紫金县「咨询投诉」留言超过 3 个月未答复；");
        println!("  和平发布 微博 20 天未更新；龙川县教育局 首页有失效链接、「教育动态」栏目超期未更新；");
        println!("  和平县人民政府网（GBK 编码）「人事信息」为空白栏目；和平县水务局网站无法访问；紫金县文明办 已备案但无人巡检；");
        println!("备案规则（通报的新媒体管理要求）：");
        println!("  紫金发布 开设 10 天后才备案（迟报）；和平县人民政府办公室 在新浪微博有两个账号（一个单位一个平台一个账号）；");
        println!("  龙川教育 为县级部门自行开设的账号（应清理整合；龙川公安 为公安，可保留）；和平视窗 开设在快手（非主流平台）；");
        println!("  和平县人民政府 没有微信账号（演示要求每个县政府都有微信账号）；紫金县融媒 与备案的「紫金县融媒体」名称相近（可能是同一账号）；");
        println!("  河源应急 本周首次发现、尚在 3 天备案期内；龙川县人民政府门户网站 指向未备案的「龙川融媒」（从网站发现的账号）。");
        println!("  紫金县文化馆 每 20 秒断开又恢复：问题台账里它的问题打开、关闭、再打开。状态页顶部是各县区合格率。");
        println!("数秒内出现第一批数据。按 Ctrl-C 结束。");
        xunjian_agent::run::shutdown_signal().await;
        println!("正在停止……");
        demo.stop().await;
        anyhow::Ok(())
    })
}
