//! Alerts end to end, as deployed: a real agent probing a simulated site every second, a real
//! collector with webhook, DingTalk, WeCom and Feishu notifiers pointed at a loopback receiver,
//! and a real Alertmanager (Debian's prometheus-alertmanager). The site goes down: each
//! notifier gets the firing notice once (a collector restart in between re-sends nothing),
//! Alertmanager shows the alert; the site comes back: each gets the resolved notice.

use std::time::{Duration, Instant};

use serde_json::Value;
use xunjian_sim::{Route, Sim};
use xunjian_tests::harness::{Process, http_get, run_cli, start_collector, temp_dir, wait_until};
use xunjian_tests::receiver::Receiver;

const DINGTALK_SECRET: &str = "SECtest0123456789";
const FEISHU_SECRET: &str = "feishu-test-secret";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn home() -> Route {
    Route::html(
        "<html><head><meta charset=\"utf-8\"><title>测试县人民政府网</title></head><body>\
         <a href=\"/hdjl/\">县长信箱</a><ul><li><a href=\"/a/1.html\">县政府召开常务会议</a><span>2026-11-25</span></li></ul></body></html>",
    )
}

/// Firing and resolved webhook payloads received so far for the site-down rule.
fn webhook_statuses(receiver: &Receiver) -> Vec<String> {
    receiver
        .at("/hook")
        .iter()
        .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
        .filter(|v| {
            v["alerts"].as_array().is_some_and(|a| a.iter().any(|a| a["labels"]["alertname"] == "XunjianSiteDown"))
        })
        .map(|v| v["status"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn alertmanager_alerts(base: &str) -> Vec<Value> {
    let (status, _, body) = http_get(&format!("{base}/api/v2/alerts"), None).await;
    if status != 200 {
        return Vec::new();
    }
    serde_json::from_str::<Vec<Value>>(&body).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_goes_down_and_comes_back_and_every_notifier_hears_once() {
    let _alone = xunjian_tests::harness::exclusive().await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = temp_dir("alerts");
    let certs = dir.join("certs");
    run_cli("xunjian-collector", &["certs", "init", "--dir", certs.to_str().unwrap(), "--host", "127.0.0.1"]);
    run_cli("xunjian-collector", &["certs", "issue", "--dir", certs.to_str().unwrap(), "--agent", "ceshi"]);

    // A real Alertmanager.
    let am_port = free_port();
    std::fs::write(dir.join("alertmanager.yml"), "route:\n  receiver: office\nreceivers:\n  - name: office\n").unwrap();
    let mut alertmanager = tokio::process::Command::new("prometheus-alertmanager")
        .arg(format!("--config.file={}", dir.join("alertmanager.yml").display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{am_port}"))
        .arg("--cluster.listen-address=")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("run prometheus-alertmanager (Debian package prometheus-alertmanager; .ci/run installs it)");
    let am = format!("http://127.0.0.1:{am_port}");
    wait_until(Duration::from_secs(30), "Alertmanager ready", || async {
        let client = reqwest::Client::builder().no_proxy().build().ok()?;
        let response = client.get(format!("{am}/-/ready")).send().await.ok()?;
        response.status().is_success().then_some(())
    })
    .await;

    let receiver = Receiver::start(r#"{"errcode":0,"errmsg":"ok","code":0,"msg":"success"}"#).await;
    let push_port = free_port();
    let config = dir.join("collector.toml");
    std::fs::write(
        &config,
        format!(
            r#"[collector]
database = "xunjian.db"
[push]
listen = "127.0.0.1:{push_port}"
ca = "certs/ca.pem"
cert = "certs/server.pem"
key = "certs/server-key.pem"
[web]
listen = "127.0.0.1:0"
open_reads = true
[alerts]
evaluation_interval = "1s"
status_page_url = "http://xunjian.example.gov.cn/"
[[alerts.rule]]
name = "XunjianSiteDown"
failures = 2
[[alerts.notifier]]
name = "webhook"
type = "webhook"
url = "{hook}"
[[alerts.notifier]]
name = "钉钉值班群"
type = "dingtalk"
url = "{ding}"
secret = "{DINGTALK_SECRET}"
[[alerts.notifier]]
name = "企业微信"
type = "wecom"
url = "{wecom}"
[[alerts.notifier]]
name = "飞书"
type = "feishu"
url = "{feishu}"
secret = "{FEISHU_SECRET}"
[[alerts.notifier]]
name = "alertmanager"
type = "alertmanager"
url = "{am}"
"#,
            hook = receiver.url("/hook"),
            ding = receiver.url("/ding/robot/send?access_token=t0ken"),
            wecom = receiver.url("/wecom/cgi-bin/webhook/send?key=k3y"),
            feishu = receiver.url("/feishu/open-apis/bot/v2/hook/h00k"),
        ),
    )
    .unwrap();
    let (collector, web) = start_collector(&config).await;

    let sim = Sim::start().await.unwrap();
    sim.route("/", home());
    sim.route("/hdjl/", Route::html("<html><body>县长信箱</body></html>"));
    sim.route("/a/1.html", Route::html("<html><body><h1>县政府召开常务会议</h1></body></html>"));
    let agent_toml = dir.join("agent.toml");
    std::fs::write(
        &agent_toml,
        format!(
            "[agent]\nid = \"ceshi\"\ncounty = \"测试县\"\n[probe]\ninterval = \"1s\"\ncolumn_interval = \"1s\"\ntimeout = \"1s\"\n\
             [collector]\nurl = \"https://127.0.0.1:{push_port}/\"\nca = \"{ca}\"\ncert = \"{agents}/ceshi.pem\"\nkey = \"{agents}/ceshi-key.pem\"\n\
             [[site]]\nname = \"测试县人民政府网\"\nunit = \"测试县人民政府办公室\"\nurl = \"{url}\"\n",
            ca = certs.join("ca.pem").display(),
            agents = certs.join("agents").display(),
            url = sim.url("/"),
        ),
    )
    .unwrap();
    let agent = Process::spawn("xunjian-agent", &["run", "--config", agent_toml.to_str().unwrap()]);
    wait_until(Duration::from_secs(30), "the site healthy at the collector", || async {
        let (_, _, body) = http_get(&format!("{web}/api/v1/status"), None).await;
        let status: Value = serde_json::from_str(&body).ok()?;
        status["targets"]
            .as_array()?
            .iter()
            .any(|t| t["observation"]["ok"] == true && t["probes_ok"].as_u64() >= Some(2))
            .then_some(())
    })
    .await;

    // Down.
    let down_at = Instant::now();
    sim.route("/", Route::status(503));
    let fired = wait_until(Duration::from_secs(30), "the firing webhook", || async {
        let hooks = receiver.at("/hook");
        hooks
            .iter()
            .find(|r| r.body.contains("\"status\":\"firing\"") && r.body.contains("XunjianSiteDown"))
            .map(|r| r.at)
    })
    .await;
    let latency = fired.duration_since(down_at);
    println!("detection latency (site down → webhook received, 1 s probes, 2 failures, 1 s evaluation): {latency:.2?}");

    // Every robot got it, in its own format; signatures verify. Each robot is waited for until the
    // outage's own message is there (another alert's message may come first).
    wait_until(Duration::from_secs(10), "the robots' messages of the outage", || async {
        ["/ding", "/wecom", "/feishu"]
            .iter()
            .all(|robot| receiver.at(robot).iter().any(|r| r.body.contains("网站无法访问")))
            .then_some(())
    })
    .await;
    let dings = receiver.at("/ding");
    let ding = dings.iter().find(|r| r.body.contains("网站无法访问")).expect("the DingTalk message of the outage");
    let query: std::collections::HashMap<String, String> =
        url::Url::parse(&format!("http://x{}", ding.target)).unwrap().query_pairs().into_owned().collect();
    let timestamp: i64 = query["timestamp"].parse().unwrap();
    assert_eq!(query["sign"], xunjian_collector::alerts::notify::dingtalk::sign(DINGTALK_SECRET, timestamp));
    assert_eq!(query["access_token"], "t0ken");
    let ding_body: Value = serde_json::from_str(&ding.body).unwrap();
    let text = ding_body["markdown"]["text"].as_str().unwrap();
    for part in [
        "【巡检告警·严重】网站无法访问",
        "县区：测试县",
        "责任单位：测试县人民政府办公室",
        "测试县人民政府网（网站）",
        "HTTP 503",
        "http://xunjian.example.gov.cn/",
    ] {
        assert!(text.contains(part), "DingTalk message lacks {part}: {text}");
    }
    let feishus = receiver.at("/feishu");
    let feishu = feishus.iter().find(|r| r.body.contains("网站无法访问")).expect("the Feishu message of the outage");
    let feishu: Value = serde_json::from_str(&feishu.body).unwrap();
    let feishu_ts: i64 = feishu["timestamp"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        feishu["sign"].as_str().unwrap(),
        xunjian_collector::alerts::notify::feishu::sign(FEISHU_SECRET, feishu_ts)
    );
    let wecom: Value = serde_json::from_str(&receiver.at("/wecom")[0].body).unwrap();
    assert_eq!(wecom["msgtype"], "markdown");

    // Alertmanager holds it, with our labels.
    let held = wait_until(Duration::from_secs(20), "the alert in Alertmanager", || async {
        alertmanager_alerts(&am).await.into_iter().find(|a| a["labels"]["alertname"] == "XunjianSiteDown")
    })
    .await;
    assert_eq!(held["labels"]["target"], "测试县人民政府网");
    assert_eq!(held["labels"]["county"], "测试县");
    assert_eq!(held["status"]["state"], "active");

    // /api/v1/alerts and /metrics agree.
    let (_, _, body) = http_get(&format!("{web}/api/v1/alerts"), None).await;
    let alerts: Vec<Value> = serde_json::from_str(&body).unwrap();
    let down = alerts.iter().find(|a| a["alertname"] == "XunjianSiteDown").expect("in /api/v1/alerts");
    assert_eq!(down["state"], "firing");
    let (_, _, metrics) = http_get(&format!("{web}/metrics"), None).await;
    assert!(
        metrics.contains("xunjian_alerts_firing{alertname=\"XunjianSiteDown\",severity=\"critical\"} 1"),
        "{metrics}"
    );

    // A restart while firing neither repeats nor forgets.
    assert_eq!(collector.terminate().await, Some(0));
    let (collector, web) = start_collector(&config).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(webhook_statuses(&receiver), ["firing"], "no second firing notice after a restart");
    let (_, _, body) = http_get(&format!("{web}/api/v1/alerts"), None).await;
    assert!(body.contains("\"state\":\"firing\""), "the firing alert survived the restart: {body}");

    // Back up: resolved, once, everywhere.
    sim.route("/", home());
    wait_until(Duration::from_secs(30), "the resolved webhook", || async {
        (webhook_statuses(&receiver) == ["firing", "resolved"]).then_some(())
    })
    .await;
    wait_until(Duration::from_secs(10), "the robots' resolved messages", || async {
        let ding_resolved = receiver.at("/ding").iter().any(|r| r.body.contains("【巡检恢复】网站无法访问"));
        let feishu_resolved = receiver.at("/feishu").iter().any(|r| r.body.contains("【巡检恢复】"));
        (ding_resolved && feishu_resolved).then_some(())
    })
    .await;
    wait_until(Duration::from_secs(20), "Alertmanager closes the alert", || async {
        let open = alertmanager_alerts(&am).await.into_iter().any(|a| a["labels"]["alertname"] == "XunjianSiteDown");
        (!open).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(webhook_statuses(&receiver), ["firing", "resolved"], "no duplicates");

    agent.terminate().await;
    collector.terminate().await;
    let _ = alertmanager.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}
