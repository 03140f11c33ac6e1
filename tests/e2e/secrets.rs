//! Secrets stay secret: the admin token, robot access tokens and signing secrets never appear in
//! the collector's logs (at debug level, with failing notifiers and wrong tokens), its status
//! API, its alerts API, its metrics or its status page; and writes need the token.

use std::time::Duration;

use xunjian_tests::harness::{Process, http_get, run_cli, temp_dir, wait_until, web_address};

const ADMIN_TOKEN: &str = "adm1n-t0ken-4f9c2e7d1b3a5c8e";
const ROBOT_TOKEN: &str = "r0bot-access-9a8b7c6d5e4f3a2b";
const SIGNING_SECRET: &str = "SECs1gning-0f1e2d3c4b5a6978";
const WRONG_TOKEN: &str = "wr0ng-guess-1234567890abcdef";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_leak_and_writes_need_the_token() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = temp_dir("secrets");
    let certs = dir.join("certs");
    run_cli("xunjian-collector", &["certs", "init", "--dir", certs.to_str().unwrap(), "--host", "127.0.0.1"]);
    std::fs::write(dir.join("admin-token"), ADMIN_TOKEN).unwrap();
    std::fs::write(dir.join("signing-secret"), SIGNING_SECRET).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = dir.join("collector.toml");
    std::fs::write(
        &config,
        format!(
            "[collector]\ndatabase = \"x.db\"\n[push]\nlisten = \"127.0.0.1:0\"\nca = \"certs/ca.pem\"\ncert = \"certs/server.pem\"\nkey = \"certs/server-key.pem\"\n\
             [web]\nlisten = \"127.0.0.1:0\"\nadmin_token_file = \"admin-token\"\nopen_reads = true\n\
             [alerts]\nevaluation_interval = \"1s\"\n\
             [[alerts.notifier]]\nname = \"钉钉\"\ntype = \"dingtalk\"\nurl = \"http://127.0.0.1:{closed}/robot/send?access_token={ROBOT_TOKEN}\"\nsecret_file = \"signing-secret\"\n\
             [[alerts.notifier]]\nname = \"am\"\ntype = \"alertmanager\"\nurl = \"http://user:{ROBOT_TOKEN}@127.0.0.1:{closed}/\"\n"
        ),
    )
    .unwrap();
    let log = dir.join("collector.log");
    let mut collector =
        Process::spawn_logged("xunjian-collector", &["serve", "--config", config.to_str().unwrap()], &log, "debug");
    let web = web_address(&mut collector).await;

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let registry = "名称,平台,责任单位,县区,状态\n无人巡检号,微信,某单位,测试县,运行\n";
    // Anonymous and wrong-token writes are refused, and change nothing.
    for token in [None, Some(WRONG_TOKEN)] {
        let mut request = client.put(format!("{web}/api/v1/registry")).header("x-xunjian-author", "x").body(registry);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_eq!(request.send().await.unwrap().status().as_u16(), 401);
    }
    let silence = r#"{"matchers":["county=测试县"],"duration":"1h","reason":"r","author":"a"}"#;
    assert_eq!(
        client.post(format!("{web}/api/v1/silences")).body(silence).send().await.unwrap().status().as_u16(),
        401
    );
    let (_, _, body) = http_get(&format!("{web}/api/v1/registry"), None).await;
    assert_eq!(body, "[]");
    // With the token: an unmonitored filing raises an alert the failing robots try to deliver.
    let response = client
        .put(format!("{web}/api/v1/registry"))
        .bearer_auth(ADMIN_TOKEN)
        .header("x-xunjian-author", "x")
        .body(registry)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    wait_until(Duration::from_secs(20), "the robots to have failed a few times", || async {
        let (_, _, metrics) = http_get(&format!("{web}/metrics"), None).await;
        metrics
            .lines()
            .any(|l| {
                l.starts_with("xunjian_collector_notifications_total{notifier=\"钉钉\",outcome=\"retried\"} ")
                    && !l.ends_with(" 0")
            })
            .then_some(())
    })
    .await;

    let mut exposed = String::new();
    for path in ["/", "/api/v1/status", "/api/v1/alerts", "/metrics", "/api/v1/silences", "/api/v1/audit"] {
        let response = client.get(format!("{web}{path}")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        exposed.push_str(&response.text().await.unwrap());
    }
    collector.terminate().await;
    exposed.push_str(&std::fs::read_to_string(&log).unwrap());
    assert!(exposed.contains("无人巡检号"), "the pages and logs were read");
    assert!(exposed.contains("notification refused or not reachable"), "the failing robot was logged");
    for secret in [ADMIN_TOKEN, ROBOT_TOKEN, SIGNING_SECRET, WRONG_TOKEN] {
        assert!(!exposed.contains(secret), "{secret} leaked");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
