//! The registry (备案) as the central office keeps it: CSV from Excel (GBK) imported with the CLI
//! while the collector runs, the API with its admin token, exports Excel opens, exemptions with
//! reasons and authors, and the audit trail.

use std::time::Duration;

use serde_json::Value;
use xunjian_tests::harness::{binary, http_get, start_collector, temp_dir, wait_until};

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
