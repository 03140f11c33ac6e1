//! People, first step of issue 13: `xunjian-collector user` adds, lists, disables and
//! re-passwords users and makes personal API tokens, on the real database. Passwords are kept
//! only as Argon2id hashes and tokens only as digests: neither appears anywhere in the file.

use std::io::Write as _;
use std::process::{Command, Stdio};

use xunjian_tests::deployment::Deployment;
use xunjian_tests::harness::binary;

/// Runs `user ARGS…` with `stdin`; exit code, stdout, stderr.
fn user(collector: &Deployment, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(binary("xunjian-collector"))
        .arg("user")
        .arg("--config")
        .arg(&collector.config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run xunjian-collector user");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn users_are_added_listed_disabled_and_their_secrets_never_stored() {
    let collector = Deployment::new("people", "", "");
    // An admin with a password typed in, a county user with a printed throw-away one.
    let typed = "市府办-巡检-2026";
    let (code, out, err) = user(
        &collector,
        &["add", "office", "--role", "admin", "--password-stdin", "--author", "张三"],
        &format!("{typed}\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("已添加用户 office（管理员，全部县区）") && !out.contains(typed), "{out}");
    let (code, out, err) =
        user(&collector, &["add", "lc", "--role", "county", "--county", "龙川县", "--author", "张三"], "");
    assert_eq!(code, 0, "{err}");
    let printed = out
        .lines()
        .find_map(|l| l.split_once("初始密码（只显示这一次，请转交本人并提醒其修改）："))
        .map(|(_, p)| p.trim().to_string());
    let printed = printed.unwrap_or_else(|| panic!("a throw-away password: {out}"));
    assert_eq!(printed.chars().count(), 16);
    assert!(err.contains("还没有县区“龙川县”的任何数据"), "an unknown county is pointed out: {err}");

    // Refusals say what to change, exit 2, and change nothing.
    for (args, expected) in [
        (vec!["add", "lc", "--role", "county", "--county", "龙川县"], "用户 lc 已存在"),
        (vec!["add", "hp", "--role", "county"], "--county"),
        (vec!["add", "boss", "--role", "boss"], "admin、city、county、viewer"),
        (vec!["add", "city1", "--role", "city", "--county", "龙川县"], "不能指定 --county"),
        (vec!["disable", "nobody"], "没有用户 nobody"),
        (vec!["add", "LC", "--role", "viewer", "--county", "龙川县"], "用户 lc 已存在"),
        (vec!["disable", "office"], "最后一个启用的管理员"),
        (vec!["token-revoke", "lc", "99"], "没有未撤销的令牌 #99"),
    ] {
        let (code, _, err) = user(&collector, &args, "");
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let (code, _, err) = user(&collector, &["passwd", "lc", "--password-stdin"], "short\n");
    assert_eq!(code, 2);
    assert!(err.contains("密码至少 10 个字符"), "{err}");

    // A token, printed once; disable and enable.
    let (code, out, err) = user(&collector, &["token", "lc", "--label", "整改脚本"], "");
    assert_eq!(code, 0, "{err}");
    let token = out.lines().find(|l| l.starts_with("xjt_")).expect("the token line").to_string();
    assert_eq!(user(&collector, &["disable", "lc"], "").0, 0);
    let (_, list, _) = user(&collector, &["list"], "");
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(lines[0].starts_with("lc\tcounty（县区用户）\t龙川县\t已停用"), "{list}");
    assert!(lines[0].contains("令牌：1 个"), "{list}");
    assert!(lines[1].starts_with("office\tadmin（管理员）\t全部县区\t启用\t密码：已设置"), "{list}");
    assert!(lines[1].contains("由 张三 添加"), "{list}");
    assert_eq!(user(&collector, &["enable", "lc"], "").0, 0);
    // A password file saved on Windows: BOM and CRLF are not part of the password.
    let (code, _, err) = user(&collector, &["passwd", "lc", "--password-stdin"], "\u{feff}龙川县新密码-2026\r\n");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = user(&collector, &["passwd", "lc", "--password-stdin"], "");
    assert_eq!(code, 2);
    assert!(err.contains("标准输入为空"), "{err}");

    // What the database holds: hashes and digests, never the secrets; the audit log names the
    // author of each change.
    let database = collector.dir.join("xunjian.db");
    let connection = rusqlite::Connection::open(&database).unwrap();
    let hashes: Vec<String> = connection
        .prepare("SELECT password_hash FROM users ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(hashes.iter().all(|h| h.starts_with("$argon2id$v=19$")), "{hashes:?}");
    let digest: String = connection.query_row("SELECT digest FROM api_tokens", [], |row| row.get(0)).unwrap();
    assert_eq!(digest, xunjian_collector::people::token_digest(&token));
    let actions: Vec<(String, String)> = connection
        .prepare("SELECT author, action FROM audit_log WHERE action LIKE 'user.%' ORDER BY id")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let names: Vec<&str> = actions.iter().map(|(_, action)| action.as_str()).collect();
    assert_eq!(names, ["user.add", "user.add", "user.token", "user.disable", "user.enable", "user.passwd"]);
    drop(connection);
    // One token revoked: it stops resolving at once.
    let token_id = out_token_id(&collector);
    assert_eq!(user(&collector, &["token-revoke", "lc", &token_id.to_string()], "").0, 0);
    let connection = rusqlite::Connection::open(&database).unwrap();
    assert!(
        xunjian_collector::store::users::user_for_token(&connection, &xunjian_collector::people::token_digest(&token))
            .unwrap()
            .is_none(),
        "a revoked token no longer resolves"
    );
    assert_eq!(actions[0].0, "张三");
    drop(connection);
    let mut bytes = std::fs::read(&database).unwrap();
    for suffix in ["-wal", "-shm"] {
        bytes.extend(std::fs::read(format!("{}{suffix}", database.display())).unwrap_or_default());
    }
    let file = String::from_utf8_lossy(&bytes);
    for secret in [typed, printed.as_str(), "龙川县新密码-2026", token.as_str()] {
        assert!(!file.contains(secret), "a secret reached the database file");
    }
    assert!(xunjian_collector::people::verify_password("龙川县新密码-2026", &hashes[0]), "lc's new password verifies");
    assert!(xunjian_collector::people::verify_password(typed, &hashes[1]), "office's typed password verifies");
    // A token stops working with its user.
    let (_, out, _) = user(&collector, &["token", "lc", "--label", "第二个"], "");
    let second = out.lines().find(|l| l.starts_with("xjt_")).expect("a second token").to_string();
    let digest = xunjian_collector::people::token_digest(&second);
    let connection = rusqlite::Connection::open(&database).unwrap();
    assert!(xunjian_collector::store::users::user_for_token(&connection, &digest).unwrap().is_some());
    connection.execute("UPDATE users SET disabled_at = 1 WHERE name = 'lc'", []).unwrap();
    assert!(xunjian_collector::store::users::user_for_token(&connection, &digest).unwrap().is_none());
}

/// The id of lc's first token, from the database.
fn out_token_id(collector: &Deployment) -> i64 {
    let connection = rusqlite::Connection::open(collector.dir.join("xunjian.db")).unwrap();
    connection.query_row("SELECT min(id) FROM api_tokens", [], |row| row.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_behind_their_own_token_when_one_is_set() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut collector = Deployment::new("metrics-token", "", "metrics_token_file = \"metrics-token\"\n");
    let token = "0123456789abcdef-metrics-token";
    std::fs::write(collector.dir.join("metrics-token"), format!("{token}\n")).unwrap();
    collector.start().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("{}/metrics", collector.web);
    let refused = client.get(&url).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 401, "a token, once set, is needed even on loopback");
    assert_eq!(refused.headers()["www-authenticate"], "Bearer");
    let body = refused.text().await.unwrap();
    assert!(body.contains("metrics_token_file") && !body.contains(token), "{body}");
    let wrong = client.get(&url).bearer_auth("0123456789abcdef-wrong").send().await.unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let scraped = client.get(&url).bearer_auth(token).send().await.unwrap();
    assert_eq!(scraped.status().as_u16(), 200);
    assert!(scraped.text().await.unwrap().contains("xunjian_"), "the exposition");
    // The rest of the web port is unchanged by it.
    let (status, _, _) = xunjian_tests::harness::http_get(&format!("{}/healthz", collector.web), None).await;
    assert_eq!(status, 200);
    collector.stop().await;
}
