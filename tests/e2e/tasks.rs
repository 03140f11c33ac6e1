//! 整改 end to end: the office gives a county's problem to the county as a task, the county
//! answers with an attachment, the agents' next observations send it back (整改未到位), the
//! county answers again, the site is fixed and the re-check verifies it by itself; overdue tasks
//! alert and appear in the 通报; a task and its attachment stay within their county.

use std::time::Duration;

use serde_json::Value;
use xunjian_shared::wire::{Finding, FindingCode, Severity};
use xunjian_tests::deployment::{Deployment, probe};
use xunjian_tests::harness::{Login, multipart, wait_until};

const SITE: &str = "龙川县教育局网站";
const OTHER_SITE: &str = "龙川县人民政府门户网站";
const PDF: &[u8] =
    b"%PDF-1.4\n% \xe6\x95\xb4\xe6\x94\xb9\xe6\x8a\xa5\xe5\x91\x8a\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

async fn json(login: &Login, url: &str) -> (u16, Value) {
    let (status, _, body) = login.get(url).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// The county's answer as its browser sends it: a multipart form with the CSRF field.
async fn answer(login: &Login, web: &str, task: i64, text: &str, files: &[(&str, &str, &[u8])]) -> (u16, String) {
    let (content_type, body) = multipart(&[("csrf", &login.csrf), ("answer", text)], files);
    let response = login
        .client
        .post(format!("{web}/api/v1/tasks/{task}/answer"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_goes_to_the_county_comes_back_not_fixed_and_is_verified_by_the_agents() {
    let mut collector = Deployment::new(
        "tasks",
        "",
        "open_reads = false\n[alerts]\nevaluation_interval = \"1s\"\n[ledger]\nclose_after = 2\n",
    );
    collector.add_user(&["add", "office", "--role", "admin"], "office-password-2026");
    collector.add_user(&["add", "lc", "--role", "county", "--county", "龙川县"], "longchuan-password-2026");
    collector.add_user(&["add", "hp", "--role", "county", "--county", "和平县"], "heping-password-2026");
    collector.start().await;
    let web = collector.web.clone();
    let agent = collector.agent("lc");
    let push = |up: bool| {
        let agent = &agent;
        let batch = agent.batch("龙川县", vec![probe(SITE, "龙川县教育局", up, jiff::Timestamp::now())]);
        async move { assert_eq!(agent.push(&batch).await.0, 200) }
    };
    push(false).await;

    let office = Login::new(&web, "office", "office-password-2026").await;
    let problem = wait_until(Duration::from_secs(20), "the problem in the ledger", || async {
        let (_, page) = json(&office, &format!("{web}/api/v1/problems?status=open")).await;
        page["problems"].as_array()?.iter().find(|p| p["target"] == SITE).and_then(|p| p["id"].as_i64())
    })
    .await;

    // The office makes the task (its session's CSRF token); the deadline defaults to the quarter's.
    let tasks = format!("{web}/api/v1/tasks");
    let (status, made) = office.post_json(&tasks, &format!("{{\"problems\": [{problem}]}}")).await;
    assert_eq!(status, 201, "{made}");
    let task = serde_json::from_str::<Value>(&made).unwrap()["id"].as_i64().unwrap();
    let (status, _) = office.post_json(&tasks, &format!("{{\"problems\": [{problem}]}}")).await;
    assert_eq!(status, 422, "a problem is in one unfinished task at a time");
    // The overview counts it at once (not at the next re-check).
    let (_, _, overview) = office.get(&format!("{web}/overview")).await;
    assert!(overview.contains("龙川县</a></td>") && overview.contains("<td>1/0/0</td>"), "{overview}");

    // The county sees it; the other county does not, nor its attachment, by any path.
    let lc = Login::new(&web, "lc", "longchuan-password-2026").await;
    let hp = Login::new(&web, "hp", "heping-password-2026").await;
    let (_, listed) = json(&lc, &format!("{web}/api/v1/tasks")).await;
    assert_eq!(listed[0]["id"], task);
    assert_eq!((listed[0]["state"].as_str(), listed[0]["unit"].as_str()), (Some("pending"), Some("龙川县教育局")));
    let (_, none) = json(&hp, &format!("{web}/api/v1/tasks")).await;
    assert_eq!(none, serde_json::json!([]));
    assert_eq!(json(&hp, &format!("{web}/api/v1/tasks/{task}")).await.0, 403);
    assert_eq!(json(&hp, &format!("{web}/api/v1/tasks/999999")).await.0, 403, "the same for none");
    assert_eq!(answer(&hp, &web, task, "不是我的任务", &[]).await.0, 403);

    // A file that is not what its name says is refused; a PDF is kept.
    let (status, body) = answer(&lc, &web, task, "已修复", &[("attachment", "报告.pdf", b"<html><script>")]).await;
    assert_eq!(status, 415, "{body}");
    let (status, body) = answer(&lc, &web, task, "已修复首页，恢复访问", &[("attachment", "整改报告.pdf", PDF)]).await;
    assert_eq!(status, 200, "{body}");
    let (_, detail) = json(&lc, &format!("{web}/api/v1/tasks/{task}")).await;
    assert_eq!(detail["state"], "answered");
    assert_eq!(detail["answered_by"], "lc");
    let attachment = detail["attachments"][0]["id"].as_i64().unwrap();
    let download = lc.client.get(format!("{web}/api/v1/tasks/{task}/attachments/{attachment}")).send().await.unwrap();
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert!(download.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(download.bytes().await.unwrap().as_ref(), PDF);
    assert_eq!(hp.get(&format!("{web}/api/v1/tasks/{task}/attachments/{attachment}")).await.0, 403);

    // The site is still down at the next observation (a second later: the answer's time is kept
    // to the second): 整改未到位, the county is alerted.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    push(false).await;
    wait_until(Duration::from_secs(20), "the re-check to send the task back", || async {
        let (_, detail) = json(&lc, &format!("{web}/api/v1/tasks/{task}")).await;
        (detail["state"] == "not_fixed").then_some(())
    })
    .await;
    wait_until(Duration::from_secs(20), "the 整改未到位 alert for 龙川县", || async {
        let (_, alerts) = json(&office, &format!("{web}/api/v1/alerts")).await;
        alerts
            .as_array()?
            .iter()
            .any(|a| a["alertname"] == "XunjianRectificationNotFixed" && a["labels"]["county"] == "龙川县")
            .then_some(())
    })
    .await;

    // Answered again, and this time fixed: the agents' observations verify it, nobody ticks it.
    let (status, _) = answer(&lc, &web, task, "服务器已更换，首页恢复", &[]).await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        push(true).await;
    }
    wait_until(Duration::from_secs(30), "the re-check to verify the task", || async {
        let (_, detail) = json(&lc, &format!("{web}/api/v1/tasks/{task}")).await;
        (detail["state"] == "verified").then_some(detail)
    })
    .await;
    let (_, detail) = json(&office, &format!("{web}/api/v1/tasks/{task}")).await;
    let kinds: Vec<&str> = detail["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["created", "answered", "not_fixed", "answered", "verified"]);
    assert_eq!(detail["returned"], 1);
    assert!(detail["events"][4]["author"] == "巡检复核", "{detail}");

    // A task past its deadline without an answer: alerted, counted, and in the 通报's 整改情况.
    let other = agent.batch("龙川县", vec![probe(OTHER_SITE, "龙川县人民政府办公室", false, jiff::Timestamp::now())]);
    assert_eq!(agent.push(&other).await.0, 200);
    let reopened = wait_until(Duration::from_secs(20), "the other site's problem in the ledger", || async {
        let (_, page) = json(&office, &format!("{web}/api/v1/problems?status=open")).await;
        page["problems"].as_array()?.iter().find(|p| p["target"] == OTHER_SITE).and_then(|p| p["id"].as_i64())
    })
    .await;
    let (late_status, late_body) = office
        .post_json(&tasks, &format!("{{\"problems\": [{reopened}], \"title\": \"教育局网站再次无法访问\"}}"))
        .await;
    assert_eq!(late_status, 201, "{late_body}");
    let late = serde_json::from_str::<Value>(&late_body).unwrap()["id"].as_i64().unwrap();
    // Time passes: the deadline is yesterday.
    let yesterday = xunjian_shared::time::china_today(jiff::Timestamp::now()).yesterday().unwrap();
    let connection = rusqlite::Connection::open(collector.dir.join("xunjian.db")).unwrap();
    connection.execute("UPDATE tasks SET deadline = ?1 WHERE id = ?2", (yesterday.to_string(), late)).unwrap();
    drop(connection);
    let late_label = late.to_string();
    wait_until(Duration::from_secs(20), "the overdue alert", || async {
        let (_, alerts) = json(&office, &format!("{web}/api/v1/alerts")).await;
        alerts
            .as_array()?
            .iter()
            .any(|a| a["alertname"] == "XunjianRectificationOverdue" && a["labels"]["task"] == late_label.as_str())
            .then_some(())
    })
    .await;
    let metrics = collector.metrics().await;
    assert!(metrics.contains("xunjian_rectification_overdue{county=\"龙川县\"} 1"), "{metrics}");
    assert!(metrics.contains("xunjian_rectification_tasks{county=\"龙川县\",state=\"verified\"} 1"), "{metrics}");
    let (code, report, err) = collector.cli(&["report", "--format", "md", "--out", "-"]);
    assert_eq!(code, 0, "{err}");
    assert!(report.contains("整改情况") && report.contains("逾期未反馈的整改任务"), "{report}");
    assert!(report.contains("教育局网站再次无法访问"), "{report}");

    // The export: the county's own tasks, as CSV and Excel.
    let (status, _, csv) = lc.get(&format!("{web}/api/v1/tasks.csv")).await;
    assert_eq!(status, 200);
    assert!(csv.starts_with('\u{feff}') && csv.contains("已核实") && csv.contains("逾期"), "{csv}");
    assert_eq!(hp.get(&format!("{web}/api/v1/tasks.csv")).await.2.lines().count(), 1, "the header only");
    assert_eq!(hp.get(&format!("{web}/api/v1/tasks.csv?county=%E9%BE%99%E5%B7%9D%E5%8E%BF")).await.0, 403);
    let xlsx = lc.client.get(format!("{web}/api/v1/tasks.xlsx")).send().await.unwrap().bytes().await.unwrap();
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let rows = {
        use calamine::Reader as _;
        let name = workbook.sheet_names()[0].clone();
        workbook.worksheet_range(&name).unwrap().rows().count()
    };
    assert_eq!(rows, 3, "a header and two tasks");
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_issues_tasks_for_its_veto_problems() {
    let mut collector = Deployment::new("issue-tasks", "", "[alerts]\nevaluation_interval = \"1s\"\n");
    collector.start().await;
    let agent = collector.agent("hp");
    let now = jiff::Timestamp::now();
    let mut stale = probe("和平县人民政府网", "和平县人民政府办公室", true, now);
    stale.findings.push(Finding::new(FindingCode::HomeNotUpdated, Severity::Veto, "首页 30 天未更新"));
    stale.settle();
    let mut dead = probe("和平县水务局网站", "和平县水务局", true, now);
    dead.findings.push(Finding::new(FindingCode::DeadLinks, Severity::Error, "失效链接 1 个"));
    dead.settle();
    assert_eq!(agent.push(&agent.batch("和平县", vec![stale, dead])).await.0, 200);
    // In the ledger on disk (the CLI reads it there) after the next checkpoint: stop, which checkpoints.
    collector.stop().await;
    let (code, _, err) =
        collector.cli(&["report", "--format", "md", "--out", "/dev/null", "--issue-tasks", "--author", "王科长"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("已下发整改任务 #1：和平县 和平县人民政府办公室（1 个单项否决问题"), "{err}");
    assert!(err.contains("已下发 1 个整改任务"), "only the veto problem gets a task: {err}");
    let (code, _, err) = collector.cli(&["report", "--format", "md", "--out", "/dev/null", "--issue-tasks"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("已下发 0 个整改任务"), "no problem twice: {err}");
    let (code, out, err) = collector.cli(&["task", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("#1\t和平县\t和平县人民政府办公室\t待整改\t1 个问题"), "{out}");
    let (code, _, err) = collector.cli(&["task", "add", "--problem", "999"]);
    assert_eq!(code, 2);
    assert!(err.contains("没有问题 #999"), "{err}");
}
