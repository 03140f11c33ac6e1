//! Notifications are delivered, or visibly not (security review 2, rows 3.3, 5.1, 5.2, 5.4),
//! against the real collector process: a notice waits in the outbox through a crash while its
//! receiver is down and arrives after the restart; a flood of 200,000 low-severity alerts is
//! folded into summary lines within the rate limit and does not hold back a critical one; and
//! nothing an agent or a monitored site wrote becomes markup or a link in a robot's message.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::Value;
use xunjian_sim::{Route, Sim};
use xunjian_tests::deployment::{Deployment, probe};
use xunjian_tests::exposition;
use xunjian_tests::harness::{Process, wait_until};
use xunjian_tests::receiver::Receiver;

const ROBOT_OK: &str = r#"{"errcode":0,"errmsg":"ok","code":0,"msg":"success"}"#;

/// Webhook payloads received at `path` whose alerts include `alertname`.
fn payloads_with(receiver: &Receiver, path: &str, alertname: &str) -> Vec<Value> {
    receiver
        .at(path)
        .iter()
        .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
        .filter(|v| v["alerts"].as_array().is_some_and(|a| a.iter().any(|a| a["labels"]["alertname"] == alertname)))
        .collect()
}

async fn notifications(collector: &Deployment) -> Vec<Value> {
    let body = collector.admin_get("/api/v1/notifications").await;
    serde_json::from_str(&body).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_waits_out_a_crash_while_its_receiver_is_down() {
    let receiver = Receiver::start(ROBOT_OK).await;
    let address = receiver.addr;
    receiver.stop();
    let mut collector = Deployment::new(
        "outbox",
        "",
        &format!(
            "[alerts]\nevaluation_interval = \"1s\"\n[[alerts.rule]]\nname = \"XunjianSiteDown\"\nfailures = 1\n\
             [[alerts.notifier]]\nname = \"webhook\"\ntype = \"webhook\"\nurl = \"http://{address}/hook\"\n"
        ),
    );
    collector.start().await;
    let agent = collector.agent("longchuan");
    let (status, _) =
        agent.push(&agent.batch("龙川县", vec![probe("龙川县人民政府网", "县政府办", false, Timestamp::now())])).await;
    assert_eq!(status, 200);
    // Fired, written to the outbox, and tried at least twice against the dead receiver.
    wait_until(Duration::from_secs(30), "a notice pending after failed attempts", || async {
        let metrics = collector.metrics().await;
        let samples = exposition::parse(&metrics);
        let pending =
            exposition::value(&samples, "xunjian_collector_notifications_pending", &[("notifier", "webhook")])?;
        let retried = exposition::value(
            &samples,
            "xunjian_collector_notifications_total",
            &[("notifier", "webhook"), ("outcome", "retried")],
        )?;
        (pending >= 1.0 && retried >= 2.0).then_some(())
    })
    .await;
    let rows = notifications(&collector).await;
    assert!(rows.iter().any(|r| r["status"] == "pending" && r["alertname"] == "XunjianSiteDown"), "{rows:?}");

    // A crash at that moment, then the receiver comes back, then the collector.
    collector.kill9().await;
    let receiver = Receiver::start_on(address, ROBOT_OK).await;
    collector.start().await;
    wait_until(Duration::from_secs(30), "the notice after the restart", || async {
        (!payloads_with(&receiver, "/hook", "XunjianSiteDown").is_empty()).then_some(())
    })
    .await;
    let firing = payloads_with(&receiver, "/hook", "XunjianSiteDown");
    assert_eq!(firing[0]["status"], "firing");
    wait_until(Duration::from_secs(10), "the notice marked delivered", || async {
        let rows = notifications(&collector).await;
        rows.iter().any(|r| r["status"] == "delivered" && r["alertname"] == "XunjianSiteDown").then_some(())
    })
    .await;
    // Delivered once: a second restart sends nothing again.
    collector.stop().await;
    collector.start().await;
    // Three evaluations (1 s each) pass: a repeated notice would have been sent by then. Nothing
    // happening has no event to wait for.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(payloads_with(&receiver, "/hook", "XunjianSiteDown").len(), 1, "sent once");
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_alerts_is_summed_up_and_a_critical_one_still_goes_first() {
    let _alone = xunjian_tests::harness::exclusive().await;
    const FLOOD: usize = 200_000;
    const RATE: usize = 20;
    let receiver = Receiver::start(ROBOT_OK).await;
    let mut collector = Deployment::new(
        "flood",
        "",
        &format!(
            "[alerts]\nevaluation_interval = \"2s\"\n[[alerts.rule]]\nname = \"XunjianSiteDown\"\nfailures = 1\n\
             [[alerts.notifier]]\nname = \"webhook\"\ntype = \"webhook\"\nurl = \"{}\"\nmin_severity = \"info\"\nrate_limit_per_minute = {RATE}\n",
            receiver.url("/hook")
        ),
    );
    // 200,000 filed accounts no agent inspects: 200,000 info alerts at the first evaluation.
    let mut csv = String::from("名称,平台,责任单位,县区,备案日期,状态\n");
    for i in 0..FLOOD {
        csv.push_str(&format!("账号{i:06},微信,单位{},县{},2019-06-28,运行\n", i % 500, i % 7));
    }
    let phase = Instant::now();
    std::fs::write(collector.dir.join("registry.csv"), csv).unwrap();
    let registry = collector.dir.join("registry.csv");
    let (code, _, stderr) = collector.cli(&["registry", "import", registry.to_str().unwrap(), "--author", "测试"]);
    assert_eq!(code, 0, "{stderr}");
    println!("import: {:.1} s", phase.elapsed().as_secs_f64());
    collector.start().await;
    println!("started: {:.1} s", phase.elapsed().as_secs_f64());
    wait_until(Duration::from_secs(240), "the flood's first messages", || async {
        (payloads_with(&receiver, "/hook", "XunjianRegistryUnmonitored").len() >= 3).then_some(())
    })
    .await;

    println!("first messages: {:.1} s", phase.elapsed().as_secs_f64());
    // A site goes down now: its critical notice does not wait behind the flood.
    let agent = collector.agent("longchuan");
    let pushed = Instant::now();
    let (status, _) =
        agent.push(&agent.batch("龙川县", vec![probe("龙川县人民政府网", "县政府办", false, Timestamp::now())])).await;
    assert_eq!(status, 200);
    wait_until(Duration::from_secs(120), "the critical notice", || async {
        (!payloads_with(&receiver, "/hook", "XunjianSiteDown").is_empty()).then_some(())
    })
    .await;
    let latency = pushed.elapsed();
    println!("site down → webhook during a flood of {FLOOD} alerts: {:.1} s", latency.as_secs_f64());
    assert!(latency <= Duration::from_secs(2 + 60 + 10), "a critical alert waited {latency:?}");

    // Every flood notice is accounted for: in a message, or in a summary count; never more
    // messages than the rate limit allows in any minute. Delivery is at least once: a message
    // the receiver took but answered too late (this test's receiver shares a busy process) is
    // sent again, byte for byte, and counted once here.
    let (total, repeated) = wait_until(Duration::from_secs(180), "every flood notice sent or summed up", || async {
        let mut messages = std::collections::HashSet::new();
        let (mut total, mut repeated) = (0u64, 0u64);
        for received in receiver.at("/hook") {
            let Ok(payload) = serde_json::from_str::<Value>(&received.body) else { continue };
            let alerts = payload["alerts"].as_array().cloned().unwrap_or_default();
            let flood = alerts.iter().filter(|a| a["labels"]["alertname"] == "XunjianRegistryUnmonitored").count();
            if !alerts.is_empty() && !messages.insert(received.body.clone()) {
                repeated += 1;
                continue;
            }
            if flood > 0 || alerts.is_empty() {
                total += flood as u64 + payload["truncatedAlerts"].as_u64().unwrap_or(0);
            }
        }
        (total >= FLOOD as u64).then_some((total, repeated))
    })
    .await;
    assert_eq!(total, FLOOD as u64, "each notice once, in a message or a summary");
    // Repeats have more than one source (a retry after a late answer, the HTTP client resending
    // on a reused connection, an outbox mark that did not commit): counted, not bounded here.
    println!("messages received twice: {repeated}");
    println!("all accounted: {:.1} s", phase.elapsed().as_secs_f64());
    let times: Vec<Instant> = receiver.at("/hook").iter().map(|r| r.at).collect();
    for (i, first) in times.iter().enumerate() {
        let within = times[i..].iter().filter(|t| t.duration_since(*first) < Duration::from_secs(60)).count();
        assert!(within <= RATE, "{within} messages within a minute; the limit is {RATE}");
    }
    let metrics = collector.metrics().await;
    let folded = exposition::value(
        &exposition::parse(&metrics),
        "xunjian_collector_notifications_folded_total",
        &[("notifier", "webhook")],
    )
    .unwrap_or(0.0);
    assert!(folded > 190_000.0, "the summary lines are counted: {folded}");
    collector.stop().await;
}

/// What a robot's message body says, whatever the platform's envelope.
fn robot_text(body: &str) -> String {
    let json: Value = serde_json::from_str(body).unwrap_or_default();
    [&json["markdown"]["text"], &json["markdown"]["content"], &json["content"]["text"]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robot_messages_carry_no_markup_or_links_from_agents_or_sites() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let receiver = Receiver::start(ROBOT_OK).await;
    let sim = Sim::start().await.unwrap();
    // A monitored site that redirects to a data: URL made of markdown.
    sim.route("/", Route::redirect("data:,[click](http://evil.example/x)"));
    let mut collector = Deployment::new(
        "robots",
        "",
        &format!(
            "[alerts]\nevaluation_interval = \"1s\"\nstatus_page_url = \"http://xunjian.example.gov.cn/\"\n\
             [[alerts.rule]]\nname = \"XunjianSiteDown\"\nfailures = 1\n\
             [[alerts.notifier]]\nname = \"dingtalk\"\ntype = \"dingtalk\"\nurl = \"{}\"\n\
             [[alerts.notifier]]\nname = \"wecom\"\ntype = \"wecom\"\nurl = \"{}\"\n\
             [[alerts.notifier]]\nname = \"feishu\"\ntype = \"feishu\"\nurl = \"{}\"\n",
            receiver.url("/ding"),
            receiver.url("/wecom"),
            receiver.url("/feishu")
        ),
    );
    collector.start().await;
    // A real agent probing the redirecting site.
    let certs = collector.certs.to_str().unwrap().to_string();
    let _ = collector.agent("hostile");
    let agent_toml = collector.dir.join("agent.toml");
    std::fs::write(
        &agent_toml,
        format!(
            "[agent]\nid = \"hostile\"\ncounty = \"龙川县\"\n[collector]\nurl = \"https://127.0.0.1:{}/\"\n\
             ca = \"{certs}/ca.pem\"\ncert = \"{certs}/agents/hostile.pem\"\nkey = \"{certs}/agents/hostile-key.pem\"\n\
             [probe]\ninterval = \"1s\"\ntimeout = \"5s\"\n\
             [[site]]\nname = \"重定向站\"\nunit = \"县政府办\"\nurl = \"{}\"\n",
            collector.push_port,
            sim.url("/")
        ),
    )
    .unwrap();
    let agent_process = Process::spawn("xunjian-agent", &["run", "--config", agent_toml.to_str().unwrap()]);
    // An agent whose names are markdown, a fake heading and a phishing link.
    let names = collector.agent("names");
    let mut down = probe(
        "乙县 [点此处理](http://evil.example/phish) **紧急**",
        "#### 【巡检恢复】网站无法访问 > 县区：乙县",
        false,
        Timestamp::now(),
    );
    down.findings[0].detail = "[登录](http://evil.example/login) <at user_id=\"all\">".into();
    let (status, text) = names.push(&names.batch("乙县 <at user_id=\"all\"> javascript:alert(1)", vec![down])).await;
    assert_eq!(status, 200, "{text}");

    wait_until(Duration::from_secs(60), "both alerts at every robot", || async {
        let all = ["/ding", "/wecom", "/feishu"].iter().all(|path| {
            let text: String = receiver.at(path).iter().map(|r| robot_text(&r.body)).collect();
            text.contains("重定向站") && text.contains("紧急")
        });
        all.then_some(())
    })
    .await;
    for path in ["/ding", "/wecom", "/feishu"] {
        for message in receiver.at(path) {
            let text = robot_text(&message.body);
            for banned in
                ["evil.example", "data:", "[click]", "](", "<at", "javascript:", "####【", "#### 【巡检恢复】"]
            {
                assert!(!text.contains(banned), "{path} message carries {banned:?}:\n{text}");
            }
            // Every heading and quoted line is the collector's own: 【巡检告警…】 and its fields.
            for line in text.lines().filter(|l| l.starts_with('#') || l.starts_with('>')) {
                let ours = [
                    "#### 【巡检告警",
                    "> 县区：",
                    "> 责任单位：",
                    "> 对象：",
                    "> 问题：",
                    "> 开始时间：",
                    "> 详见巡检页面：",
                ];
                assert!(ours.iter().any(|p| line.starts_with(p)), "{path}: a line not made by the collector: {line}");
            }
            assert_eq!(
                text.matches("://").count(),
                text.matches("http://xunjian.example.gov.cn/").count(),
                "{path}: the status page is the only link:\n{text}"
            );
        }
    }
    // The site's own words stay on the record for the status page (escaped there), not in robots.
    let alerts = collector.alerts().await;
    let redirect = alerts
        .iter()
        .find(|a| a["labels"]["target"] == "重定向站" && a["alertname"] == "XunjianSiteDown")
        .expect("the redirect alert");
    assert!(redirect["detail"].as_str().unwrap_or("").contains("data:"), "{redirect}");
    agent_process.terminate().await;
    collector.stop().await;
}
