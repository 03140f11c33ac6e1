//! The registry (备案) as the central office keeps it: CSV from Excel (GBK) imported with the CLI
//! while the collector runs, the API with its admin token, exports Excel opens, exemptions with
//! reasons and authors, and the audit trail.

use std::time::Duration;

use serde_json::Value;
use xunjian_sim::Sim;
use xunjian_sim::county::{self, PageState, SimAccount, SimCounty, SimSite, SimSource};
use xunjian_tests::deployment::Deployment;
use xunjian_tests::exposition;
use xunjian_tests::harness::{
    Process, binary, http_get, promtool_check_metrics, start_collector, temp_dir, wait_until,
};

const TOKEN: &str = "c2f1a8e4b7d94e0f9a61c3d2";

const REGISTRY: &str = "名称,平台,责任单位,县区,备案日期,状态,账号ID,单位类型,开设日期\r\n\
    龙川县人民政府门户网站,网站,龙川县人民政府办公室,龙川县,2015-06-01,运行,,县级政府,\r\n\
    龙川县公共服务中心,微信,龙川县人民政府办公室,龙川县,2017-04-18,已关停,gh_5c3a9e0d,县级政府,2017-04-10\r\n\
    \"河源市生态环境局\",新浪微博,市生态环境局,市直,2018/2/26,运行,5988123456,市直部门,2018/2/20\r\n";

fn cli(args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(binary("xunjian-collector")).args(args).output().expect("run the CLI");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Adds admin `name` and returns a personal token made for it with the CLI.
fn admin_token(config: &str, name: &str) -> String {
    let (code, _, err) = cli(&["user", "--config", config, "add", name, "--role", "admin", "--author", "测试"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = cli(&["user", "--config", config, "token", name, "--label", "registry test"]);
    assert_eq!(code, 0, "{err}");
    out.lines().find(|l| l.starts_with("xjt_")).expect("the token line").to_string()
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, serde_json::from_str(&response.text().await.unwrap_or_default()).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_through_cli_and_api_with_exemptions_and_audit() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = temp_dir("registry");
    let certs = dir.join("certs");
    let (code, _, err) = cli(&["certs", "init", "--dir", certs.to_str().unwrap(), "--host", "127.0.0.1"]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(dir.join("admin-token"), format!("{TOKEN}\n")).unwrap();
    let config = dir.join("collector.toml");
    std::fs::write(
        &config,
        "[collector]\ndatabase = \"xunjian.db\"\n[push]\nlisten = \"127.0.0.1:0\"\nca = \"certs/ca.pem\"\ncert = \"certs/server.pem\"\nkey = \"certs/server-key.pem\"\n\
         [web]\nlisten = \"127.0.0.1:0\"\nadmin_token_file = \"admin-token\"\nopen_reads = true\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    // Two admins with personal tokens: the audit log names each by its token, whatever a body says.
    let li = admin_token(config, "李主任");
    let wang = admin_token(config, "wang");
    let (collector, web) = start_collector(std::path::Path::new(config)).await;

    // Excel on Chinese Windows saves GBK; the CLI takes it while the collector runs, and the
    // collector shows it within its poll interval.
    let gbk = dir.join("备案表.csv");
    std::fs::write(&gbk, encoding_rs::GBK.encode(REGISTRY).0.as_ref()).unwrap();
    let (code, out, err) =
        cli(&["registry", "--config", config, "import", gbk.to_str().unwrap(), "--author", "王科长"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("已导入备案 3 条：新增 3"), "{out}");
    let filings: Value = wait_until(Duration::from_secs(10), "the running collector sees the import", || async {
        let (_, _, body) = http_get(&format!("{web}/api/v1/registry"), None).await;
        let filings: Value = serde_json::from_str(&body).ok()?;
        (filings.as_array()?.len() == 3).then_some(filings)
    })
    .await;
    let weibo = filings.as_array().unwrap().iter().find(|f| f["name"] == "河源市生态环境局").unwrap();
    assert_eq!((weibo["channel"].as_str(), weibo["platform"].as_str()), (Some("新浪微博"), Some("weibo")));
    assert_eq!(weibo["filed_on"], "2018-02-26");
    assert_eq!((weibo["account_id"].as_str(), weibo["unit_type"].as_str()), (Some("5988123456"), Some("市直部门")));
    assert_eq!(weibo["opened_on"], "2018-02-20");

    // A bad file changes nothing and names every bad row.
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "名称,平台,责任单位,状态\n甲,QQ空间,单位,运行\n乙,微信,,停了\n").unwrap();
    let (code, _, err) = cli(&["registry", "--config", config, "import", bad.to_str().unwrap(), "--author", "王科长"]);
    assert_eq!(code, 2);
    assert!(err.contains("第 2 行：平台「QQ空间」无法识别") && err.contains("第 3 行：责任单位为空"), "{err}");

    // The API: reads for everyone, changes with the token.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let (status, csv_type, csv) = http_get(&format!("{web}/api/v1/registry.csv"), None).await;
    assert_eq!(status, 200);
    assert!(csv_type.starts_with("text/csv") && csv.starts_with('\u{feff}') && csv.contains("\r\n"), "{csv:?}");
    assert_eq!(csv.lines().count(), 4);
    let put = |token: Option<&str>, author: &str, body: &str| {
        let mut request =
            client.put(format!("{web}/api/v1/registry")).header("x-xunjian-author", author).body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
    };
    assert_eq!(send(put(None, "x", REGISTRY)).await.0, 401, "no token");
    assert_eq!(send(put(Some("guess-guess-guess-guess"), "x", REGISTRY)).await.0, 401, "wrong token");
    let (status, refusal) = send(put(Some(TOKEN), "%E6%9D%8E", "名称,平台,责任单位,状态\n丙,微博,,运行\n")).await;
    assert_eq!(status, 422);
    assert_eq!(refusal["error"], "invalid_registry", "{refusal}");
    assert!(refusal["problems"][0].as_str().unwrap().contains("第 2 行：责任单位为空"), "{refusal}");
    let more = format!("{REGISTRY}紫金县文明办,微信,紫金县委宣传部,紫金县,2019-03-08,运行,,,\r\n");
    let (status, counts) = send(put(Some(li.as_str()), "%E6%9D%8E%E4%B8%BB%E4%BB%BB", &more)).await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!((counts["total"].as_u64(), counts["added"].as_u64()), (Some(4), Some(1)));

    // Exemptions: added with a reason, shown, revoked; the record stays.
    let exemption = serde_json::json!({
        "target": "龙川县人民政府门户网站", "column": "人事信息", "code": "column_not_updated",
        "reason": "本年度无人事任免", "author": "冒名者", "until": "2026-12-31"
    });
    let post = client.post(format!("{web}/api/v1/exemptions")).bearer_auth(&li).body(exemption.to_string());
    let (status, created) = send(post).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, refusal) = send(client.post(format!("{web}/api/v1/exemptions")).bearer_auth(TOKEN).body(
        serde_json::json!({"target": "x", "code": "column_not_updated", "reason": "", "author": "李"}).to_string(),
    ))
    .await;
    assert_eq!(status, 422);
    assert_eq!(refusal["error"], "refused", "{refusal}");
    assert!(refusal["detail"].as_str().unwrap().contains("理由"), "{refusal}");
    let (_, _, body) = http_get(&format!("{web}/api/v1/exemptions"), None).await;
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list[0]["reason"], "本年度无人事任免");
    let (_, _, status_body) = http_get(&format!("{web}/api/v1/status"), None).await;
    let status_json: Value = serde_json::from_str(&status_body).unwrap();
    assert_eq!(status_json["registry"]["filed"], 4);
    assert_eq!(status_json["registry"]["exemptions"][0]["id"], id);
    let names: Vec<&str> =
        status_json["registry"]["unmonitored"].as_array().unwrap().iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(names.len(), 3, "no agent inspects the running ones yet: {names:?}");

    let revoke = |id: i64| client.delete(format!("{web}/api/v1/exemptions/{id}")).bearer_auth(&wang);
    assert_eq!(send(revoke(id)).await.0, 200);
    assert_eq!(send(revoke(id)).await.0, 422, "already revoked");
    assert_eq!(send(revoke(9999)).await.0, 404);
    let (code, out, err) = cli(&["exemption", "--config", config, "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("#{id} [已由 wang 撤销]")) && out.contains("本年度无人事任免"), "{out}");

    // The CLI adds one too; the audit trail names everyone.
    let (code, out, err) = cli(&[
        "exemption",
        "--config",
        config,
        "add",
        "--target",
        "紫金县文明办",
        "--code",
        "unmonitored",
        "--reason",
        "账号迁移中",
        "--author",
        "赵",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("已添加豁免 #"), "{out}");
    let (code, _, err) = cli(&[
        "exemption",
        "--config",
        config,
        "add",
        "--target",
        "x",
        "--code",
        "typo",
        "--reason",
        "r",
        "--author",
        "a",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("问题代码「typo」不存在"), "{err}");
    wait_until(Duration::from_secs(10), "the exemption reaches the running collector", || async {
        let (_, _, body) = http_get(&format!("{web}/api/v1/status"), None).await;
        let status: Value = serde_json::from_str(&body).ok()?;
        let unmonitored = status["registry"]["unmonitored"].as_array()?;
        unmonitored.iter().all(|f| f["name"] != "紫金县文明办").then_some(())
    })
    .await;
    // An unknown path answers like every refusal.
    let (status, _, missing) = http_get(&format!("{web}/api/v1/no-such-thing"), None).await;
    let missing: Value = serde_json::from_str(&missing).unwrap();
    assert_eq!((status, missing["error"].as_str()), (404, Some("not_found")), "{missing}");
    let body = client.get(format!("{web}/api/v1/audit")).bearer_auth(&li).send().await.unwrap().text().await.unwrap();
    let audit: Value = serde_json::from_str(&body).unwrap();
    let entries: Vec<(&str, &str)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["author"].as_str().unwrap()))
        .filter(|(action, _)| !action.starts_with("user."))
        .collect();
    assert_eq!(
        entries,
        [
            ("exemption.add", "赵"),
            ("exemption.revoke", "wang"),
            ("exemption.add", "李主任"),
            ("registry.replace", "李主任"),
            ("registry.replace", "王科长"),
        ],
        "each change under the token's user, never the body's author"
    );

    // Silences: through the API with the token, listed, ended; the CLI sees the same.
    let silence = serde_json::json!({"matchers": ["county=龙川县", "alertname=XunjianColumnStale"], "duration": "4h", "reason": "栏目改版", "author": "王科长"});
    let (status, created) =
        send(client.post(format!("{web}/api/v1/silences")).bearer_auth(TOKEN).body(silence.to_string())).await;
    assert_eq!(status, 201, "{created}");
    let silence_id = created["id"].as_i64().unwrap();
    let everything =
        serde_json::json!({"matchers": ["severity!=info"], "duration": "4h", "reason": "r", "author": "a"});
    let (status, refusal) =
        send(client.post(format!("{web}/api/v1/silences")).bearer_auth(TOKEN).body(everything.to_string())).await;
    assert_eq!(status, 422, "a silence needs one NAME=VALUE: {refusal}");
    let body =
        client.get(format!("{web}/api/v1/silences")).bearer_auth(&li).send().await.unwrap().text().await.unwrap();
    let silences: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (silences[0]["active"].as_bool(), silences[0]["matchers"][0].as_str()),
        (Some(true), Some("county=龙川县"))
    );
    let (code, out, _) = cli(&["silence", "--config", config, "list"]);
    assert!(
        code == 0 && out.contains(&format!("#{silence_id} [生效] county=龙川县 alertname=XunjianColumnStale")),
        "{out}"
    );
    let end = client.delete(format!("{web}/api/v1/silences/{silence_id}")).bearer_auth(&wang);
    assert_eq!(send(end).await.0, 200);
    let (_, out, _) = cli(&["silence", "--config", config, "list"]);
    assert!(out.contains(&format!("#{silence_id} [已由 wang 解除]")), "{out}");
    let (code, _, err) = cli(&[
        "silence",
        "--config",
        config,
        "add",
        "--match",
        "county",
        "--duration",
        "1h",
        "--reason",
        "r",
        "--author",
        "a",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("应写成 标签=值"), "{err}");

    // Export from the CLI is what the API serves.
    let exported = dir.join("export.csv");
    let (code, _, err) = cli(&["registry", "--config", config, "export", exported.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (_, _, served) = http_get(&format!("{web}/api/v1/registry.csv"), None).await;
    assert_eq!(std::fs::read_to_string(&exported).unwrap(), served);
    assert_eq!(collector.terminate().await, Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// An account whose RSS feed the simulator serves, five posts, the newest yesterday.
fn feed_account(name: &'static str, platform: &'static str, unit: &'static str, slug: &str) -> SimAccount {
    SimAccount {
        name,
        platform,
        unit,
        account_id: None,
        path: format!("/media/{slug}.xml"),
        source: SimSource::Feed,
        newest_age_days: 1,
        posts: 5,
    }
}

/// What a real agent's configuration says of `county` (a home page audited every few seconds,
/// its accounts), pushing to `deployment`.
fn agent_toml(county: &SimCounty, sim: &Sim, deployment: &Deployment) -> String {
    let agents = deployment.certs.join("agents");
    let mut toml = format!(
        "[agent]\nid = \"{id}\"\ncounty = \"{county}\"\n[probe]\ninterval = \"2s\"\ncolumn_interval = \"2s\"\naudit_interval = \"3s\"\ntimeout = \"3s\"\n\
         [security]\ncloaking = false\nipv6 = false\n\
         [collector]\nurl = \"https://127.0.0.1:{port}/\"\nca = \"{ca}\"\ncert = \"{dir}/{id}.pem\"\nkey = \"{dir}/{id}-key.pem\"\n",
        id = county.agent,
        county = county.county,
        port = deployment.push_port,
        ca = deployment.certs.join("ca.pem").display(),
        dir = agents.display(),
    );
    for site in &county.sites {
        let url = sim.url(site.home_path.as_deref().expect("an open site"));
        toml.push_str(&format!("\n[[site]]\nname = \"{}\"\nunit = \"{}\"\nurl = \"{url}\"\n", site.name, site.unit));
    }
    for account in &county.accounts {
        toml.push_str(&format!(
            "\n[[account]]\nname = \"{}\"\nplatform = \"{}\"\nunit = \"{}\"\nfeed = \"{}\"\n",
            account.name,
            account.platform,
            account.unit,
            sim.url(&account.path)
        ));
        if let Some(id) = account.account_id {
            toml.push_str(&format!("account_id = \"{id}\"\n"));
        }
    }
    toml
}

/// The notice's rules for new media, through the real binaries: the registry imported with the
/// CLI (ids, unit types, opening dates), `[registry]` requiring a WeChat account of every county
/// government, two real agents reading real feeds and a GBK home page, and each rule's problem
/// in the status, the ledger and /metrics; an exemption takes one out. A county's agent listing
/// another county's account does not make that county's filing look inspected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notices_new_media_rules_through_the_real_binaries() {
    use xunjian_shared::wire::StatusReport;
    use xunjian_shared::wire::api::ProblemPage;
    let today = xunjian_shared::time::china_today(jiff::Timestamp::now());
    let days_ago = |days: i64| today.checked_sub(jiff::Span::new().days(days)).unwrap();
    let mut deployment =
        Deployment::new("registry-rules", "", "[registry]\nrequired_platforms = [\"wechat\"]\nfiling_grace_days = 3\n");
    let config = deployment.config.to_str().unwrap().to_string();
    let registry = deployment.dir.join("备案表.csv");
    std::fs::write(
        &registry,
        format!(
            "名称,平台,责任单位,县区,备案日期,状态,账号ID,单位类型,开设日期\n\
             龙川发布,微信,龙川县人民政府办公室,龙川县,{filed},运行,,县级政府,{opened}\n\
             龙川县人民政府,微信,龙川县人民政府办公室,龙川县,2019-01-08,运行,,县级政府,\n\
             龙川教育,微信,龙川县教育局,龙川县,2018-05-02,运行,,县级部门,\n\
             龙川县公安局,微信,龙川县公安局,龙川县,2017-08-08,运行,GH_7E21C0,公安,\n\
             龙川快手,快手,龙川县人民政府办公室,龙川县,2020-03-16,运行,,县级政府,\n\
             龙川县融媒体,微信,龙川县融媒体中心,龙川县,2021-04-12,运行,,其他,\n\
             和平县人民政府网,网站,和平县人民政府办公室,和平县,2015-07-20,运行,,,\n",
            filed = days_ago(10),
            opened = days_ago(20),
        ),
    )
    .unwrap();
    deployment.start().await;
    let web = deployment.web.clone();
    let (code, _, err) =
        cli(&["registry", "--config", &config, "import", registry.to_str().unwrap(), "--author", "王科长"]);
    assert_eq!(code, 0, "{err}");

    let sim = Sim::start().await.unwrap();
    let longchuan = SimCounty {
        agent: "lc",
        county: "龙川县",
        sites: Vec::new(),
        accounts: vec![
            feed_account("龙川发布", "wechat", "龙川县人民政府办公室", "lc-fb"),
            feed_account("龙川县人民政府", "wechat", "龙川县人民政府办公室", "lc-zf"),
            feed_account("龙川教育", "wechat", "龙川县教育局", "lc-jy"),
            SimAccount {
                account_id: Some("gh_7e21c0"), ..feed_account("龙川公安", "wechat", "县公安局", "lc-ga")
            },
            feed_account("龙川快手", "kuaishou", "龙川县人民政府办公室", "lc-ks"),
            feed_account("龙川新号", "wechat", "龙川县文广旅体局", "lc-xh"),
            feed_account("龙川融媒体", "wechat", "龙川县融媒体中心", "lc-rm"),
        ],
    };
    let heping = SimCounty {
        agent: "hp",
        county: "和平县",
        sites: vec![SimSite {
            name: "和平县人民政府网",
            unit: "和平县人民政府办公室",
            home_path: Some("/hp/".into()),
            home: PageState::Fresh { age_days: 0, items: 8 },
            gbk: true,
            columns: Vec::new(),
            channels: Vec::new(),
            broken_links: Vec::new(),
            flapping: None,
            hijack: None,
            // The portal names an account nobody filed, and 龙川's filed one.
            new_media: vec![("微信公众号", "和平融媒"), ("微信公众号", "龙川发布")],
        }],
        // Another county's filed account, listed by this county's agent.
        accounts: vec![feed_account("龙川发布", "wechat", "龙川县人民政府办公室", "hp-lcfb")],
    };
    let counties = [longchuan, heping];
    county::serve(&sim, &counties, today);
    let mut agents = Vec::new();
    for county in &counties {
        deployment.agent(county.agent);
        let path = deployment.dir.join(format!("{}.toml", county.agent));
        std::fs::write(&path, agent_toml(county, &sim, &deployment)).unwrap();
        agents.push(Process::spawn("xunjian-agent", &["run", "--config", path.to_str().unwrap()]));
    }

    let mut expected = vec![
        ("龙川县", "龙川发布", "filed_late"),
        ("龙川县", "龙川发布", "duplicate_account"),
        ("龙川县", "龙川县人民政府", "duplicate_account"),
        ("龙川县", "龙川教育", "unit_type_not_allowed"),
        ("龙川县", "龙川快手", "platform_not_mainstream"),
        ("龙川县", "龙川新号", "filing_pending"),
        ("龙川县", "龙川融媒体", "possibly_filed"),
        ("和平县", "龙川发布", "filing_pending"),
        ("和平县", "和平融媒", "account_discovered"),
        ("和平县", "和平县", "county_without_account"),
    ];
    expected.sort_unstable();
    let status: StatusReport = wait_until(Duration::from_secs(60), "every rule's case at the collector", || async {
        let (_, _, body) = http_get(&format!("{web}/api/v1/status"), None).await;
        let status: StatusReport = serde_json::from_str(&body).ok()?;
        let mut found: Vec<(&str, &str, &str)> = status
            .registry
            .findings
            .iter()
            .map(|f| (f.county.as_str(), f.target.as_str(), f.finding.code.as_str()))
            .collect();
        found.sort_unstable();
        (found == expected).then_some(())?;
        Some(status)
    })
    .await;
    // 龙川公安 is its filing by id (filed under its full name: else 龙川县公安局 would be
    // unmonitored, and 龙川公安 pending), and 龙川县融媒体 is inspected under its near name.
    assert!(status.registry.unmonitored.is_empty(), "{:?}", status.registry.unmonitored);
    let late = status.registry.findings.iter().find(|f| f.finding.code.as_str() == "filed_late").unwrap();
    assert!(late.finding.detail.contains("迟报 7 天"), "{}", late.finding.detail);
    let discovered = status.registry.findings.iter().find(|f| f.target == "和平融媒").unwrap();
    assert!(
        discovered.finding.detail.contains(&sim.url("/hp/")),
        "the page that names it: {}",
        discovered.finding.detail
    );

    // Each a problem in the ledger (kept at the store's checkpoints, every 30 s), open until it
    // no longer holds.
    wait_until(Duration::from_secs(45), "every rule's case in the ledger", || async {
        let (_, _, body) = http_get(&format!("{web}/api/v1/problems?limit=100"), None).await;
        let ledger: ProblemPage = serde_json::from_str(&body).ok()?;
        expected
            .iter()
            .all(|(county, target, code)| {
                ledger.problems.iter().any(|p| {
                    p.county == *county && p.target == *target && p.code.as_str() == *code && p.status == "open"
                })
            })
            .then_some(())
    })
    .await;
    let (_, _, text) = http_get(&format!("{web}/metrics"), None).await;
    promtool_check_metrics(&text).unwrap_or_else(|complaint| panic!("promtool check metrics failed:\n{complaint}"));
    let samples = exposition::parse(&text);
    let value = |name: &str, labels: &[(&str, &str)]| exposition::value(&samples, name, labels);
    assert_eq!(value("xunjian_findings", &[("target", "龙川快手"), ("code", "platform_not_mainstream")]), Some(1.0));
    assert_eq!(value("xunjian_county_without_account", &[("county", "和平县"), ("platform", "wechat")]), Some(1.0));
    assert_eq!(value("xunjian_county_without_account", &[("county", "龙川县")]), None);
    assert_eq!(value("xunjian_account_discovered", &[("county", "和平县"), ("target", "和平融媒")]), Some(1.0));
    // The open problems by county count them as the ledger does.
    for code in ["county_without_account", "account_discovered", "filing_pending"] {
        assert_eq!(value("xunjian_problems_open", &[("county", "和平县"), ("code", code)]), Some(1.0), "{code}");
    }
    assert_eq!(value("xunjian_problems_open", &[("county", "龙川县"), ("code", "duplicate_account")]), Some(2.0));

    // The office accepts 龙川快手 for now: exempted, with its author and reason, it no longer counts.
    let (code, _, err) = cli(&[
        "exemption",
        "--config",
        &config,
        "add",
        "--target",
        "龙川快手",
        "--code",
        "platform_not_mainstream",
        "--reason",
        "快手账号关停注销程序办理中",
        "--author",
        "李主任",
    ]);
    assert_eq!(code, 0, "{err}");
    wait_until(Duration::from_secs(20), "the exemption applied", || async {
        let (_, _, body) = http_get(&format!("{web}/api/v1/status"), None).await;
        let status: StatusReport = serde_json::from_str(&body).ok()?;
        let verdict = status.verdicts.iter().find(|v| v.target == "龙川快手")?;
        (verdict.pass && !status.registry.findings.iter().any(|f| f.target == "龙川快手")).then_some(())
    })
    .await;
    let (_, _, body) = http_get(&format!("{web}/api/v1/problems?code=platform_not_mainstream"), None).await;
    let ledger: ProblemPage = serde_json::from_str(&body).unwrap();
    assert!(!ledger.problems.is_empty() && ledger.problems.iter().all(|p| p.exempted_by.is_some()), "{body}");
    for agent in agents {
        agent.terminate().await;
    }
    assert_eq!(deployment.stop().await, Some(0));
    let _ = std::fs::remove_dir_all(&deployment.dir);
}
