//! People, first step of issue 13: `xunjian-collector user` adds, lists, disables and
//! re-passwords users and makes personal API tokens, on the real database. Passwords are kept
//! only as Argon2id hashes and tokens only as digests: neither appears anywhere in the file.

use std::time::Duration;

use xunjian_tests::deployment::Deployment;
use xunjian_tests::harness::{Login, wait_until};

/// Runs `user ARGS…` with `stdin`; exit code, stdout, stderr.
fn user(collector: &Deployment, args: &[&str], stdin: &str) -> (i32, String, String) {
    collector.user(args, stdin)
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
        xunjian_collector::store::users::user_for_token(
            &connection,
            &xunjian_collector::people::token_digest(&token),
            jiff::Timestamp::now()
        )
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
    assert!(
        xunjian_collector::store::users::user_for_token(&connection, &digest, jiff::Timestamp::now())
            .unwrap()
            .is_some()
    );
    connection.execute("UPDATE users SET disabled_at = 1 WHERE name = 'lc'", []).unwrap();
    assert!(
        xunjian_collector::store::users::user_for_token(&connection, &digest, jiff::Timestamp::now())
            .unwrap()
            .is_none()
    );
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

/// Counties and targets of the scoping test: what 龙川县's user may see, and what it must not.
const OWN: [&str; 2] = ["龙川县", "龙川县人民政府门户网站"];
const OTHERS: [&str; 3] = ["和平县", "和平县人民政府网", "和平发布"];

/// A collector with two counties' data and the people of both, logins required.
async fn two_counties() -> (Deployment, String) {
    let admin_token = "0123456789abcdef-machine-token";
    let mut collector = Deployment::new(
        "scoping",
        "",
        "open_reads = false\nadmin_token_file = \"admin-token\"\n[alerts]\nevaluation_interval = \"1s\"\n[[alerts.rule]]\nname = \"XunjianSiteDown\"\nfailures = 1\n",
    );
    std::fs::write(collector.dir.join("admin-token"), admin_token).unwrap();
    let registry = collector.dir.join("registry.csv");
    std::fs::write(
        &registry,
        "名称,平台,责任单位,县区,状态\n龙川县人民政府门户网站,网站,龙川县人民政府办公室,龙川县,运行\n\
         和平县人民政府网,网站,和平县人民政府办公室,和平县,运行\n和平发布,新浪微博,和平县人民政府办公室,和平县,运行\n",
    )
    .unwrap();
    assert_eq!(collector.cli(&["registry", "import", registry.to_str().unwrap(), "--author", "测试"]).0, 0);
    for (args, stdin) in [
        (vec!["add", "office", "--role", "admin", "--password-stdin"], "office-password-2026\n"),
        (vec!["add", "lc", "--role", "county", "--county", "龙川县", "--password-stdin"], "longchuan-password-2026\n"),
    ] {
        let (code, _, err) = user(&collector, &args, stdin);
        assert_eq!(code, 0, "{err}");
    }
    collector.start().await;
    let now = jiff::Timestamp::now();
    let lc = collector.agent("lc");
    let hp = collector.agent("hp");
    use xunjian_tests::deployment::probe;
    assert_eq!(lc.push(&lc.batch("龙川县", vec![probe(OWN[1], "龙川县人民政府办公室", true, now)])).await.0, 200);
    assert_eq!(hp.push(&hp.batch("和平县", vec![probe(OTHERS[1], "和平县人民政府办公室", false, now)])).await.0, 200);
    (collector, admin_token.to_string())
}

/// Whether `body` names another county or its targets; the name found.
fn leak(body: &str) -> Option<&'static str> {
    OTHERS.into_iter().chain(["全市"]).find(|name| body.contains(name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_user_sees_only_its_county_in_every_page_and_api() {
    let (mut collector, machine) = two_counties().await;
    let web = collector.web.clone();
    let office = Login::new(&web, "office", "office-password-2026").await;
    // The city sees both counties once the 和平县 site's alert fires.
    wait_until(Duration::from_secs(20), "the other county's alert", || async {
        let (_, _, alerts) = office.get(&format!("{web}/api/v1/alerts")).await;
        alerts.contains("和平县人民政府网").then_some(())
    })
    .await;
    let (status, _, body) = office.get(&format!("{web}/api/v1/status")).await;
    assert!(status == 200 && body.contains(OTHERS[1]) && body.contains(OWN[1]), "{status} {body}");

    let lc = Login::new(&web, "lc", "longchuan-password-2026").await;
    let (code, out, err) = user(&collector, &["token", "lc", "--label", "脚本"], "");
    assert_eq!(code, 0, "{err}");
    let token = out.lines().find(|l| l.starts_with("xjt_")).unwrap().to_string();
    let scripted = reqwest::Client::builder().no_proxy().build().unwrap();
    let by_token = |path: &str| {
        let request = scripted.get(format!("{web}{path}")).bearer_auth(&token);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    // Everything it may read names its own county and nothing of the other, by login and by token.
    for path in [
        "/",
        "/api/v1/status",
        "/api/v1/problems",
        "/api/v1/problems.csv",
        "/api/v1/history/counties",
        "/api/v1/history?target=%E9%BE%99%E5%B7%9D%E5%8E%BF%E4%BA%BA%E6%B0%91%E6%94%BF%E5%BA%9C%E9%97%A8%E6%88%B7%E7%BD%91%E7%AB%99",
        "/api/v1/registry",
        "/api/v1/registry.csv",
        "/api/v1/exemptions",
        "/api/v1/alerts",
        "/api/v1/report?format=md",
        "/api/v1/report?format=csv",
        "/report",
        "/api/v1/me",
    ] {
        let (status, _, body) = lc.get(&format!("{web}{path}")).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(leak(&body), None, "{path} shows another county to 龙川县's user:\n{body}");
        let (status, body) = by_token(path).await;
        assert_eq!(status, 200, "{path} by token: {body}");
        assert_eq!(leak(&body), None, "{path} by token shows another county:\n{body}");
    }
    let (_, _, status_body) = lc.get(&format!("{web}/api/v1/status")).await;
    assert!(status_body.contains(OWN[1]), "its own county is there: {status_body}");
    let (_, _, registry) = lc.get(&format!("{web}/api/v1/registry")).await;
    assert!(registry.contains(OWN[1]), "{registry}");

    // Asking for the other county, or what it alone has, is refused the same way whether it
    // exists or not: 403, and the refusal names nothing.
    let refused = [
        "/api/v1/problems?county=%E5%92%8C%E5%B9%B3%E5%8E%BF",
        "/api/v1/problems.csv?county=%E5%92%8C%E5%B9%B3%E5%8E%BF",
        "/api/v1/report?format=md&county=%E5%92%8C%E5%B9%B3%E5%8E%BF",
        "/api/v1/history?target=%E5%92%8C%E5%B9%B3%E5%8E%BF%E4%BA%BA%E6%B0%91%E6%94%BF%E5%BA%9C%E7%BD%91",
        "/api/v1/history?target=no-such-site",
        "/api/v1/history?target=x&county=%E5%92%8C%E5%B9%B3%E5%8E%BF",
        "/api/v1/silences",
        "/api/v1/audit",
        "/api/v1/notifications",
        "/api/v1/revocations",
        "/api/v1/retirements",
    ];
    let mut refusals = std::collections::BTreeSet::new();
    for path in refused {
        let (status, _, body) = lc.get(&format!("{web}{path}")).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(leak(&body), None, "{path}: {body}");
        if path.contains("history") {
            refusals.insert(body);
        }
    }
    assert_eq!(refusals.len(), 1, "one refusal for another county's target and for none: {refusals:?}");
    // Changes are an admin's: a county user's token cannot make them.
    let exemption = r#"{"target":"龙川县人民政府门户网站","code":"site_unreachable","reason":"演练"}"#;
    let refused =
        scripted.post(format!("{web}/api/v1/exemptions")).bearer_auth(&token).body(exemption).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 403);

    // Nobody logged in: pages go to the login form, the API answers 401.
    let anonymous = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = anonymous.get(format!("{web}/report")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 303);
    assert_eq!(page.headers()["location"], "/login?next=%2Freport");
    for path in ["/api/v1/status", "/api/v1/problems", "/api/v1/registry", "/api/v1/me"] {
        let response = anonymous.get(format!("{web}{path}")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "{path}");
        assert_eq!(leak(&response.text().await.unwrap()), None);
    }
    let bad = anonymous.get(format!("{web}/api/v1/status")).bearer_auth("xjt_not-a-token").send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 401);
    // The machine token reads as the city.
    let machine_read =
        anonymous.get(format!("{web}/api/v1/status")).bearer_auth(&machine).send().await.unwrap().text().await.unwrap();
    assert!(machine_read.contains(OTHERS[1]), "{machine_read}");

    // A change in a session needs its CSRF token and this site as its origin; the audit log
    // names the person, not what the body says.
    let post = |csrf: Option<&str>, origin: Option<&str>| {
        let mut request = office
            .client
            .post(format!("{web}/api/v1/exemptions"))
            .body(r#"{"target":"和平县人民政府网","code":"site_unreachable","reason":"机房搬迁","author":"冒名者"}"#);
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    assert_eq!(post(None, None).await.unwrap().status().as_u16(), 403, "no CSRF token");
    assert_eq!(post(Some("0123456789abcdef0123456789abcdef"), None).await.unwrap().status().as_u16(), 403);
    assert_eq!(post(Some(&office.csrf), Some("http://evil.example")).await.unwrap().status().as_u16(), 403);
    let created = post(Some(&office.csrf), Some(&web)).await.unwrap();
    assert_eq!(created.status().as_u16(), 201, "{}", created.text().await.unwrap());
    let (_, _, audit) = office.get(&format!("{web}/api/v1/audit")).await;
    let audit: serde_json::Value = serde_json::from_str(&audit).unwrap();
    let added = audit.as_array().unwrap().iter().find(|e| e["action"] == "exemption.add").unwrap();
    assert_eq!(added["author"], "office", "{added}");
    assert!(audit.as_array().unwrap().iter().any(|e| e["action"] == "user.login" && e["author"] == "lc"));

    // Logging out ends the session; disabling a user ends its sessions and tokens.
    let logout = office
        .client
        .post(format!("{web}/logout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}", office.csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status().as_u16(), 303);
    assert_eq!(office.get(&format!("{web}/api/v1/me")).await.0, 401, "the session ended");
    assert_eq!(user(&collector, &["disable", "lc"], "").0, 0);
    assert_eq!(lc.get(&format!("{web}/api/v1/me")).await.0, 401);
    assert_eq!(by_token("/api/v1/me").await.0, 401);
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_limited_and_cookies_are_strict() {
    let (mut collector, _) = two_counties().await;
    let web = collector.web.clone();
    // The cookie a browser gets: HttpOnly and SameSite=Strict (Secure only over HTTPS).
    let bare = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = bare.get(format!("{web}/login")).send().await.unwrap();
    assert!(form.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let cookie = form.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"),
        "{cookie}"
    );
    // A form posted without the login page's cookie (another site's form) is refused.
    let forged = bare
        .post(format!("{web}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("nonce=x&name=lc&password=longchuan-password-2026")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);

    // Wrong passwords and unknown names get the same answer.
    let (wrong, page) = Login::attempt(&web, "lc", "not-the-password").await.err().unwrap();
    let (unknown, other) = Login::attempt(&web, "nobody", "not-the-password").await.err().unwrap();
    assert_eq!((wrong, unknown), (401, 401));
    assert!(page.contains("用户名或密码不正确") && other.contains("用户名或密码不正确"));
    // Five failures for a name: even the right password waits.
    for _ in 0..4 {
        assert_eq!(Login::attempt(&web, "LC", "still-wrong-password").await.err().unwrap().0, 401);
    }
    let (status, page) = Login::attempt(&web, "lc", "longchuan-password-2026").await.err().unwrap();
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("登录失败次数过多"), "{page}");
    // Another name from the same address is not locked by it (the address limit is higher).
    assert!(Login::attempt(&web, "office", "office-password-2026").await.is_ok());
    // A new password ends the sessions made with the old one.
    let office = Login::new(&web, "office", "office-password-2026").await;
    // Every page a person sees, the status page and /report included, is never framed, loads
    // nothing from elsewhere and is not cached.
    for page in ["/", "/report", "/overview", "/problems"] {
        let response = office.client.get(format!("{web}{page}")).send().await.unwrap();
        let headers = response.headers();
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'none'"), "{page}: {policy}");
        assert_eq!(headers["x-frame-options"], "DENY", "{page}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{page}");
        assert_eq!(headers["cache-control"], "no-store", "{page}");
        let html = response.text().await.unwrap();
        assert!(!html.contains("http-equiv=\"refresh\""), "{page}: a page left open does not keep the session alive");
    }
    assert_eq!(user(&collector, &["passwd", "office", "--password-stdin"], "office-new-password-2026\n").0, 0);
    assert_eq!(office.get(&format!("{web}/api/v1/me")).await.0, 401);
    assert!(Login::attempt(&web, "office", "office-new-password-2026").await.is_ok());
    collector.stop().await;
}
