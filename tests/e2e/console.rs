//! The console in a real browser (Chromium through chromedriver): the office picks a problem on
//! `/problems` and issues a 整改 task; a county user logs in, sees only its county, opens its
//! task, answers with an attachment, and the task turns 已核实 once the agents see the site
//! fixed; another county's pages and API are refused (403).

use std::time::Duration;

use serde_json::Value;
use xunjian_tests::browser::Browser;
use xunjian_tests::deployment::{Deployment, probe};
use xunjian_tests::harness::{Login, wait_until};

const LC_SITE: &str = "龙川县教育局网站";
const HP_SITE: &str = "和平县水务局网站";

/// One home-page probe of `target` in `county`, pushed by `agent`.
async fn push(agent: &xunjian_tests::deployment::Agent, county: &str, target: &str, up: bool) {
    let batch = agent.batch(county, vec![probe(target, &format!("{county}教育局"), up, jiff::Timestamp::now())]);
    assert_eq!(agent.push(&batch).await.0, 200);
}

async fn open_problem(office: &Login, web: &str, target: &str) -> i64 {
    wait_until(Duration::from_secs(20), "the problem in the ledger", || async {
        let (_, _, body) = office.get(&format!("{web}/api/v1/problems?status=open")).await;
        let page: Value = serde_json::from_str(&body).ok()?;
        page["problems"].as_array()?.iter().find(|p| p["target"] == target).and_then(|p| p["id"].as_i64())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_answers_its_task_in_the_browser_and_the_agents_verify_it() {
    let mut collector = Deployment::new(
        "console",
        "",
        "open_reads = false\n[alerts]\nevaluation_interval = \"1s\"\n[ledger]\nclose_after = 2\n",
    );
    collector.add_user(&["add", "office", "--role", "admin"], "office-password-2026");
    collector.add_user(&["add", "lc", "--role", "county", "--county", "龙川县"], "longchuan-password-2026");
    collector.start().await;
    let web = collector.web.clone();
    let (lc_agent, hp_agent) = (collector.agent("lc"), collector.agent("hp"));
    push(&lc_agent, "龙川县", LC_SITE, false).await;
    push(&hp_agent, "和平县", HP_SITE, false).await;
    let office = Login::new(&web, "office", "office-password-2026").await;
    let lc_problem = open_problem(&office, &web, LC_SITE).await;
    let hp_problem = open_problem(&office, &web, HP_SITE).await;

    // The office sees both counties and the users.
    for (page, expected) in [("/overview", "和平县"), ("/users", "longchuan-password"), ("/registry", "备案表")] {
        let (status, _, body) = office.get(&format!("{web}{page}")).await;
        assert_eq!(status, 200, "{page}");
        if page == "/users" {
            assert!(body.contains("lc") && !body.contains(expected) && !body.contains("$argon2"), "no secret: {body}");
        } else {
            assert!(body.contains(expected), "{page}: {body}");
        }
    }

    // The office, in the browser: tick 龙川县's problem on /problems and issue the task.
    let dir = collector.dir.clone();
    let browser = Browser::start(&dir.join("office"), 1366, 900).await;
    browser.login(&web, "office", "office-password-2026").await;
    browser.goto(&format!("{web}/problems?status=open&county=%E9%BE%99%E5%B7%9D%E5%8E%BF")).await;
    browser.click(&format!("input[name=problem][value=\"{lc_problem}\"]")).await;
    browser.click("form[action=\"/tasks\"] button[type=submit]").await;
    let task_url = browser.wait_for_url("the new task's page", |url| url.contains("/tasks/")).await;
    let task: i64 = match task_url.rsplit('/').next().and_then(|id| id.parse().ok()) {
        Some(task) => task,
        None => panic!("{task_url}: {}", browser.source().await),
    };
    assert!(browser.source().await.contains("待整改"), "the new task's page");
    browser.quit().await;
    // And one for 和平县, over the API.
    let (status, made) =
        office.post_json(&format!("{web}/api/v1/tasks"), &format!("{{\"problems\": [{hp_problem}]}}")).await;
    assert_eq!(status, 201, "{made}");
    let hp_task = serde_json::from_str::<Value>(&made).unwrap()["id"].as_i64().unwrap();

    // 龙川县's user: its county only, everywhere it looks.
    let browser = Browser::start(&dir.join("county"), 1366, 900).await;
    browser.login(&web, "lc", "longchuan-password-2026").await;
    let subject = format!(
        "/subject?county=%E9%BE%99%E5%B7%9D%E5%8E%BF&target={}",
        url::form_urlencoded::byte_serialize(LC_SITE.as_bytes()).collect::<String>()
    );
    for page in [
        "/",
        "/overview",
        "/county/%E9%BE%99%E5%B7%9D%E5%8E%BF",
        subject.as_str(),
        "/tasks",
        "/problems",
        "/registry",
        "/exemptions",
        "/report",
    ] {
        browser.goto(&format!("{web}{page}")).await;
        let html = browser.source().await;
        assert!(!html.contains("和平县") && !html.contains(HP_SITE), "{page} shows another county:\n{html}");
    }
    // The status page's names lead to the console's pages.
    browser.goto(&format!("{web}/")).await;
    browser.click(&format!("a[href=\"{}\"]", subject)).await;
    browser.wait_for_url("the site's page from the status page", |url| url.contains("/subject?")).await;
    browser.goto(&format!("{web}/overview")).await;
    let overview = browser.source().await;
    assert!(overview.contains("/county/%E9%BE%99%E5%B7%9D%E5%8E%BF") && !overview.contains("/users"), "{overview}");
    browser.goto(&format!("{web}{subject}")).await;
    let page = browser.source().await;
    assert!(
        page.contains(LC_SITE) && page.contains("<svg class=\"timeline\"") && page.contains("首页无法访问"),
        "{page}"
    );
    browser.goto(&format!("{web}/problems")).await;
    assert!(browser.source().await.contains(LC_SITE), "its own problem");
    assert!(!browser.has("input[name=problem]").await, "a county user does not issue tasks");
    browser.goto(&format!("{web}/tasks")).await;
    browser.click(&format!("a[href=\"/tasks/{task}\"]")).await;
    // The answer, with a PDF, through the form as a person fills it in.
    let report = dir.join("整改报告.pdf");
    std::fs::write(&report, b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n").unwrap();
    browser.type_into("#answer textarea[name=answer]", "已更换服务器，首页恢复访问。").await;
    browser.type_into("#answer input[type=file]", report.to_str().unwrap()).await;
    browser.click("#answer button[type=submit]").await;
    let html = wait_until(Duration::from_secs(15), "the task's page with the answer", || async {
        let html = browser.source().await;
        html.contains("整改报告.pdf").then_some(html)
    })
    .await;
    assert_eq!(browser.url().await, format!("{web}/tasks/{task}"));
    assert!(html.contains("已反馈") && html.contains("整改报告.pdf") && html.contains("已更换服务器"), "{html}");

    // The site is fixed; the agents' next observations verify the task, nobody ticks it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..2 {
        push(&lc_agent, "龙川县", LC_SITE, true).await;
    }
    let url = format!("{web}/tasks/{task}");
    wait_until(Duration::from_secs(30), "the task page to say 已核实", || {
        let (browser, url) = (&browser, url.clone());
        async move {
            browser.goto(&url).await;
            browser.source().await.contains("<span class=\"state verified\">已核实</span>").then_some(())
        }
    })
    .await;
    browser.quit().await;

    // Another county's task, problems and API: refused, the same way as a task that is not there.
    let lc = Login::new(&web, "lc", "longchuan-password-2026").await;
    for path in [
        format!("/tasks/{hp_task}"),
        "/tasks/999999".to_string(),
        "/problems?county=%E5%92%8C%E5%B9%B3%E5%8E%BF".to_string(),
        "/tasks?county=%E5%92%8C%E5%B9%B3%E5%8E%BF".to_string(),
        "/county/%E5%92%8C%E5%B9%B3%E5%8E%BF".to_string(),
        format!(
            "/subject?county=%E5%92%8C%E5%B9%B3%E5%8E%BF&target={}",
            url::form_urlencoded::byte_serialize(HP_SITE.as_bytes()).collect::<String>()
        ),
        "/users".to_string(),
        format!("/api/v1/tasks/{hp_task}"),
    ] {
        let (status, _, body) = lc.get(&format!("{web}{path}")).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(!body.contains("和平县"), "{path}: {body}");
    }
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_users_on_the_web() {
    let mut collector = Deployment::new("console-users", "", "open_reads = false\n");
    collector.add_user(&["add", "office", "--role", "admin"], "office-password-2026");
    collector.add_user(&["add", "lc", "--role", "county", "--county", "龙川县"], "longchuan-password-2026");
    collector.start().await;
    let web = collector.web.clone();
    let office = Login::new(&web, "office", "office-password-2026").await;
    let post = |login: &Login, path: &str, fields: &[(&str, &str)]| {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("csrf", &login.csrf);
        for (key, value) in fields {
            form.append_pair(key, value);
        }
        login
            .client
            .post(format!("{web}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.finish())
            .send()
    };
    // An admin adds a county user; its throw-away password is shown once and works.
    let added = post(&office, "/users", &[("name", "hp"), ("role", "county"), ("counties", "和平县")]).await.unwrap();
    assert_eq!(added.status().as_u16(), 200);
    let page = added.text().await.unwrap();
    let password = page
        .split("初始密码（只显示这一次，请转交本人并提醒其修改）：")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("{page}"))
        .to_string();
    let hp = Login::new(&web, "hp", &password).await;
    let (_, _, me) = hp.get(&format!("{web}/api/v1/me")).await;
    assert!(me.contains("\"counties\":[\"和平县\"]"), "{me}");
    // A refused one says why; a county user may not manage users.
    let refused = post(&office, "/users", &[("name", "x"), ("role", "county")]).await.unwrap();
    assert_eq!(refused.status().as_u16(), 422);
    assert!(refused.text().await.unwrap().contains("--county"));
    let lc = Login::new(&web, "lc", "longchuan-password-2026").await;
    assert_eq!(post(&lc, "/users", &[("name", "y"), ("role", "admin")]).await.unwrap().status().as_u16(), 403);
    assert_eq!(post(&lc, "/users/hp/disable", &[]).await.unwrap().status().as_u16(), 403);
    // Without the form's CSRF token, nothing changes.
    let forged = office.client.post(format!("{web}/users/hp/disable")).send().await.unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(hp.get(&format!("{web}/api/v1/me")).await.0, 200);
    // Disabled: its session ends; a reset password ends the old sessions and gives a new one.
    assert_eq!(post(&office, "/users/hp/disable", &[]).await.unwrap().status().as_u16(), 200);
    assert_eq!(hp.get(&format!("{web}/api/v1/me")).await.0, 401);
    assert_eq!(post(&office, "/users/hp/enable", &[]).await.unwrap().status().as_u16(), 200);
    let reset = post(&office, "/users/lc/password", &[]).await.unwrap().text().await.unwrap();
    assert!(reset.contains("新密码（只显示这一次）："), "{reset}");
    assert_eq!(lc.get(&format!("{web}/api/v1/me")).await.0, 401, "the old session ended");
    let (_, _, audit) = office.get(&format!("{web}/api/v1/audit")).await;
    assert!(audit.contains("\"author\":\"office\",\"action\":\"user.add\""), "{audit}");
    collector.stop().await;
}
