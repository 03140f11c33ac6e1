//! The deploy kit in `deploy/`: Prometheus rules and config pass promtool and match the built-in
//! rule names, the Alertmanager example passes amtool, the example configurations load, the
//! systemd units pass `systemd-analyze verify`, and every PromQL expression of the Grafana
//! dashboards returns data from a real Prometheus scraping the running demo.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use xunjian_demo::Demo;
use xunjian_tests::harness::{binary, temp_dir, wait_until};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().unwrap_or_else(|err| panic!("run {program}: {err}"));
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{program} {args:?} failed:\n{text}");
    text
}

#[test]
fn rules_config_and_alertmanager_example_pass_their_checkers() {
    let rules = deploy().join("prometheus/rules/xunjian.rules.yml");
    let out = run("promtool", &["check", "rules", rules.to_str().unwrap()]);
    assert!(out.contains("SUCCESS"), "{out}");
    run("promtool", &["check", "config", deploy().join("prometheus/prometheus.yml").to_str().unwrap()]);
    run("amtool", &["check-config", deploy().join("alertmanager/alertmanager.yml").to_str().unwrap()]);
    // The same names as the built-in rules, so routes and silences work for either.
    let text = std::fs::read_to_string(&rules).unwrap();
    let mut names: Vec<&str> =
        text.lines().filter_map(|line| line.trim().strip_prefix("- alert: ")).map(str::trim).collect();
    names.sort_unstable();
    let mut builtin = xunjian_shared::config::alerts::RULE_NAMES.to_vec();
    builtin.sort_unstable();
    assert_eq!(names, builtin);
}

#[test]
fn example_configurations_load() {
    let dir = temp_dir("deploy-configs");
    std::fs::create_dir_all(dir.join("certs")).unwrap();
    for file in
        ["ca.pem", "server.pem", "server-key.pem", "longchuan.pem", "longchuan-key.pem", "heping.pem", "heping-key.pem"]
    {
        std::fs::write(dir.join("certs").join(file), "placeholder").unwrap();
    }
    std::fs::write(dir.join("admin-token"), "0123456789abcdef0123456789abcdef").unwrap();
    std::fs::write(dir.join("dingtalk-secret"), "SECexample").unwrap();
    std::fs::write(dir.join("feishu-secret"), "example").unwrap();
    let env = Default::default();
    let collector = dir.join("collector.toml");
    std::fs::copy(deploy().join("config/collector.toml"), &collector).unwrap();
    let config = xunjian_shared::config::CollectorConfig::load(&collector, &env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.alerts.notifiers.len(), 4);
    // The admin token never crosses the network in clear: plain HTTP only on loopback.
    assert!(
        config.web.listen.ip().is_loopback() || config.web.tls.is_some(),
        "the example serves the web listener in clear on {}",
        config.web.listen
    );
    for agent in ["agent-longchuan.toml", "agent-heping.toml"] {
        let path = dir.join(agent);
        std::fs::copy(deploy().join("config").join(agent), &path).unwrap();
        let config = xunjian_shared::config::AgentConfig::load(&path, &env).unwrap_or_else(|e| panic!("{agent}: {e}"));
        assert!(!config.sites.is_empty() && !config.accounts.is_empty());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn systemd_units_verify() {
    let dir = temp_dir("deploy-units");
    for (unit, program) in
        [("xunjian-collector.service", "xunjian-collector"), ("xunjian-agent.service", "xunjian-agent")]
    {
        // The unit as installed, with the binary where this build put it.
        let text = std::fs::read_to_string(deploy().join("systemd").join(unit)).unwrap();
        let installed = text.replace(&format!("/usr/local/bin/{program}"), binary(program).to_str().unwrap());
        let path = dir.join(unit);
        std::fs::write(&path, installed).unwrap();
        let complaints = verify(&path);
        assert!(complaints.is_empty(), "{unit}: {complaints:?}");
    }
    // The checker does catch mistakes.
    let bad = dir.join("bad.service");
    std::fs::write(&bad, "[Service]\nExecStart=/bin/true\nProtectSystem=maybe\nRestartt=always\n").unwrap();
    assert_eq!(verify(&bad).len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// What `systemd-analyze verify` says of the unit file itself (a host without the `xunjian`
/// user is not the unit's fault).
fn verify(path: &Path) -> Vec<String> {
    let output = Command::new("systemd-analyze")
        .args(["verify", path.to_str().unwrap()])
        .output()
        .expect("systemd-analyze (Debian package systemd; .ci/run installs it)");
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.contains(path.to_str().unwrap()) && !line.contains("user"))
        .map(String::from)
        .collect()
}

/// Every `expr` of a dashboard's panels, with Grafana's variables replaced by what "All" means
/// (`.*` for the region: a Prometheus that scrapes one collector has no `region` label).
/// Panics when an expression or a variable's query does not select on `$region`: every
/// dashboard must work over the regional collectors' series in one TSDB.
fn expressions(dashboard: &Value) -> Vec<(String, String)> {
    let region = r#"region=~"$region""#;
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    assert_eq!(variables[0]["name"], "region", "the region variable comes first");
    for variable in &variables[1..] {
        let query = variable["definition"].as_str().unwrap();
        assert!(query.contains(region), "variable {} does not select on the region: {query}", variable["name"]);
    }
    let mut found = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let raw = target["expr"].as_str().unwrap();
            // One region matcher per series selector.
            let selectors =
                raw.matches("xunjian_").count() + raw.matches("scrape_").count() - raw.matches("__name__=~").count();
            assert!(
                raw.matches(region).count() >= selectors,
                "{}: a series selector without the region: {raw}",
                panel["title"]
            );
            let expr = raw
                .replace("$region", ".*")
                .replace("$__rate_interval", "15s")
                .replace("$county", ".+")
                .replace("$target", ".+");
            found.push((panel["title"].as_str().unwrap().to_string(), expr));
        }
    }
    found
}

/// Every `expr:` of a rules file, one line or a `|` block.
fn rule_expressions(yaml: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut lines = yaml.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((indent, rest)) = line.split_once("expr:") else { continue };
        if !indent.trim().is_empty() {
            continue;
        }
        if rest.trim() != "|" {
            found.push(rest.trim().to_string());
            continue;
        }
        let mut block = Vec::new();
        while let Some(next) = lines.peek() {
            if next.len() - next.trim_start().len() <= indent.len() && !next.trim().is_empty() {
                break;
            }
            block.push(lines.next().unwrap_or_default().trim());
        }
        found.push(block.join(" "));
    }
    found
}

async fn query(prometheus: &str, expr: &str) -> Option<usize> {
    let client = reqwest::Client::builder().no_proxy().build().ok()?;
    let mut url = url::Url::parse(&format!("{prometheus}/api/v1/query")).ok()?;
    url.query_pairs_mut().append_pair("query", expr);
    let response = client.get(url).send().await.ok()?;
    let body: Value = serde_json::from_str(&response.text().await.ok()?).ok()?;
    if body["status"] != "success" {
        panic!("Prometheus refused {expr}: {body}");
    }
    body["data"]["result"].as_array().map(Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_expression_returns_data_from_the_demo() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = temp_dir("deploy-grafana");
    let demo = Demo::start("127.0.0.1:0".parse().unwrap(), &dir.join("demo")).await.unwrap();
    let (mut prometheus, base) = xunjian_tests::harness::start_prometheus(&dir, &demo.web_addr.to_string());

    let mut all = Vec::new();
    for name in ["overview", "county", "target", "health"] {
        let text = std::fs::read_to_string(deploy().join(format!("grafana/dashboards/xunjian-{name}.json"))).unwrap();
        let dashboard: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(dashboard["uid"], format!("xunjian-{name}"));
        all.extend(expressions(&dashboard).into_iter().map(|(panel, expr)| (name, panel, expr)));
    }
    assert!(all.len() >= 30, "{} expressions", all.len());
    // The demo's first audits and notifications take up to a minute; wait for each expression.
    for (dashboard, panel, expr) in &all {
        wait_until(Duration::from_secs(120), &format!("data for {dashboard} / {panel}: {expr}"), || async {
            query(&base, expr).await.filter(|n| *n > 0)
        })
        .await;
    }
    // The alerting rules' expressions are PromQL the same Prometheus evaluates over the demo's
    // series (answered, with or without data: most alert only on trouble).
    let rules = std::fs::read_to_string(deploy().join("prometheus/rules/xunjian.rules.yml")).unwrap();
    let rule_expressions = rule_expressions(&rules);
    assert!(rule_expressions.len() >= 15, "{rule_expressions:?}");
    for expr in &rule_expressions {
        wait_until(Duration::from_secs(30), &format!("an answer to {expr}"), || query(&base, expr)).await;
    }
    let _ = prometheus.kill().await;
    demo.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
