//! What one county's agent may write, against the real collector process (security review 2,
//! rows 1.8, 2.7, 2.9, 3.2, 3.5, 3.6, 3.7, 1.11): a subject belongs to the agent that first
//! reported it, a bound agent reports its own county, every field and the number of subjects
//! are capped with the limit named, an inventory touches only its own agent, a wrong clock
//! freezes nothing, batch ids are per agent, retirement releases subjects, and certificates
//! show their expiry.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use xunjian_shared::wire::{ApiError, DeadLink, Finding, FindingCode, Observation, Severity, SubjectRef, TargetKind};
use xunjian_tests::deployment::{Deployment, probe};
use xunjian_tests::exposition;
use xunjian_tests::harness::{promtool_check_metrics, start_prometheus, wait_until};
use xunjian_tests::measure::peak_rss_mb;

fn refusal(text: &str) -> ApiError {
    serde_json::from_str(text).unwrap_or_else(|_| panic!("not an API error: {text}"))
}

fn refused(metrics: &str, reason: &str) -> f64 {
    exposition::value(&exposition::parse(metrics), "xunjian_collector_refused_total", &[("reason", reason)])
        .unwrap_or(0.0)
}

/// Every label set of every family once, as Prometheus needs.
fn assert_no_duplicate_series(metrics: &str) {
    let mut seen = std::collections::HashSet::new();
    for line in metrics.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let series = line.rsplit_once(' ').map(|(series, _)| series).unwrap_or(line);
        assert!(seen.insert(series.to_string()), "two samples for {series}");
    }
}

async fn prometheus_query(base: &str, expr: &str) -> Option<Vec<Value>> {
    let client = reqwest::Client::builder().no_proxy().build().ok()?;
    let mut url = url::Url::parse(&format!("{base}/api/v1/query")).ok()?;
    url.query_pairs_mut().append_pair("query", expr);
    let body: Value = serde_json::from_str(&client.get(url).send().await.ok()?.text().await.ok()?).ok()?;
    body["data"]["result"].as_array().cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subject_has_one_agent_and_prometheus_sees_each_series_once() {
    let mut collector = Deployment::new("owned", "", "");
    collector.start().await;
    let gamma = collector.agent("gamma");
    let alpha = collector.agent("alpha");
    let now = Timestamp::now();

    // Gamma's site is really down.
    let (status, text) =
        gamma.push(&gamma.batch("乙县", vec![probe("乙县人民政府网", "乙县政府办", false, now)])).await;
    assert_eq!(status, 200, "{text}");
    // Alpha claims the same county, unit and site as up: refused, naming the owner.
    let (status, text) = alpha.push(&alpha.batch("乙县", vec![probe("乙县人民政府网", "乙县政府办", true, now)])).await;
    assert_eq!(status, 409, "{text}");
    let error = refusal(&text);
    assert_eq!(error.error, "subject_owned");
    assert!(error.detail.contains("\"gamma\"") && error.detail.contains("乙县人民政府网"), "{}", error.detail);
    // One agent cannot make two series of one label set either: a column and a channel at once.
    let mut both = probe("甲县人民政府网", "甲县政府办", true, now);
    both.column = Some("留言".into());
    both.channel = Some("留言".into());
    let (status, text) = alpha.push(&alpha.batch("甲县", vec![both])).await;
    assert_eq!((status, refusal(&text).error.as_str()), (400, "invalid_batch"), "{text}");
    // A column and a channel of the same name are two subjects, two series.
    let mut column = probe("甲县人民政府网", "甲县政府办", true, now);
    column.column = Some("县长信箱".into());
    let mut channel = probe("甲县人民政府网", "甲县政府办", true, now);
    channel.channel = Some("县长信箱".into());
    let (status, text) = alpha.push(&alpha.batch("甲县", vec![column, channel])).await;
    assert_eq!(status, 200, "{text}");

    let metrics = collector.metrics().await;
    assert_no_duplicate_series(&metrics);
    promtool_check_metrics(&metrics).unwrap_or_else(|complaint| panic!("{complaint}"));
    assert_eq!(refused(&metrics, "subject_owned"), 1.0);

    // A real Prometheus scraping it keeps gamma's outage: nothing masked, nothing dropped.
    let (mut prometheus, base) = start_prometheus(&collector.dir, collector.web.trim_start_matches("http://"));
    let up = wait_until(Duration::from_secs(60), "Prometheus has scraped xunjian_up", || async {
        let result = prometheus_query(&base, "xunjian_up{target=\"乙县人民政府网\"}").await?;
        let first = result.first()?;
        first["value"][1].as_str().map(String::from)
    })
    .await;
    assert_eq!(up, "0", "the real outage is what Prometheus stored");
    // Prometheus' own count of samples dropped as duplicates (it scrapes itself), after three
    // scrapes of the collector. (Prometheus 2.42 drops a duplicate series without always counting
    // it, so the stored value above is the decisive check; this one must exist and stay 0.)
    let duplicates = wait_until(Duration::from_secs(30), "three scrapes and Prometheus' own counters", || async {
        let result = prometheus_query(&base, "prometheus_target_scrapes_sample_duplicate_timestamp_total").await?;
        let scrapes = prometheus_query(&base, "count_over_time(up{job=\"xunjian\"}[1m])").await?;
        let count: f64 = scrapes.first()?["value"][1].as_str()?.parse().ok()?;
        (count >= 3.0 && !result.is_empty()).then_some(result)
    })
    .await;
    assert_eq!(duplicates[0]["value"][1], "0", "no sample dropped as a duplicate");
    let _ = prometheus.kill().await;
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certs_issue_binds_an_agent_to_its_county() {
    let mut collector = Deployment::new("county", "", "");
    let certs = collector.certs.to_str().unwrap().to_string();
    let config = collector.config.to_str().unwrap().to_string();
    let output = std::process::Command::new(xunjian_tests::harness::binary("xunjian-collector"))
        .args(["certs", "issue", "--dir", &certs, "--agent", "longchuan", "--county", "龙川县", "--config", &config])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        std::fs::read_to_string(&collector.config)
            .unwrap()
            .contains("[[push.agent]]\nid = \"longchuan\"\ncounty = \"龙川县\"")
    );
    collector.start().await;
    let longchuan = collector.agent("longchuan");
    let now = Timestamp::now();
    let (status, text) =
        longchuan.push(&longchuan.batch("和平县", vec![probe("和平县人民政府网", "和平县政府办", true, now)])).await;
    assert_eq!(status, 403, "{text}");
    let error = refusal(&text);
    assert_eq!(error.error, "county_mismatch");
    assert!(error.detail.contains("龙川县") && error.detail.contains("和平县"), "{}", error.detail);
    let (status, text) =
        longchuan.push(&longchuan.batch("龙川县", vec![probe("龙川县人民政府网", "龙川县政府办", true, now)])).await;
    assert_eq!(status, 200, "{text}");
    // An agent not listed may name any county.
    let heping = collector.agent("heping");
    let (status, text) =
        heping.push(&heping.batch("和平县", vec![probe("和平县人民政府网", "和平县政府办", true, now)])).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(refused(&collector.metrics().await, "county_mismatch"), 1.0);
    collector.stop().await;
}

/// Names of `chars` four-byte characters (the longest a UTF-8 label value gets).
fn long_name(chars: usize) -> String {
    "😀".repeat(chars)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_and_the_subjects_of_an_agent_are_capped() {
    let mut collector = Deployment::new("caps", "", "");
    collector.start().await;
    let agent = collector.agent("flood");
    let now = Timestamp::now();
    let refused_with = |status: u16, code: &'static str, needle: &'static str| {
        move |(got, text): (u16, String)| {
            assert_eq!(got, status, "{text}");
            let error = refusal(&text);
            assert_eq!(error.error, code, "{text}");
            assert!(error.detail.contains(needle), "{:?} lacks {needle:?}", error.detail);
        }
    };
    let site = |target: &str| probe(target, "单位", true, now);

    // Names: 257 characters refused, 256 taken.
    refused_with(400, "field_too_long", "[push] max_name_chars")(
        agent.push(&agent.batch("县", vec![site(&"站".repeat(257))])).await,
    );
    let mut channel = site(&long_name(256));
    channel.unit = long_name(256);
    channel.platform = Some(long_name(256));
    channel.channel = Some(long_name(256));
    channel.findings.push(Finding::new(FindingCode::InteractionOverdue, Severity::Error, "超期"));
    let (status, text) = agent.push(&agent.batch(&long_name(256), vec![channel])).await;
    assert_eq!(status, 200, "{text}");
    // Texts and lists.
    let mut detail = site("详情站");
    detail.findings.push(Finding::new(FindingCode::DeadLinks, Severity::Error, "链".repeat(1000)));
    refused_with(400, "field_too_long", "[push] max_text_bytes")(agent.push(&agent.batch("县", vec![detail])).await);
    let mut links = site("死链站");
    links.audit.get_or_insert_default().dead_links = Some(
        (0..101)
            .map(|i| DeadLink { url: format!("http://x/{i}"), text: "链接".into(), status: Some(404), failure: None })
            .collect(),
    );
    refused_with(400, "field_too_long", "[push] max_list_entries")(agent.push(&agent.batch("县", vec![links])).await);
    // Numbers no page or probe produces, and a NUL in a name.
    let mut age = site("年龄站");
    age.freshness.get_or_insert_default().age_days = Some(-99_999_999_999);
    refused_with(400, "value_out_of_range", "age_days")(agent.push(&agent.batch("县", vec![age])).await);
    let mut slow = serde_json::to_value(agent.batch("县", vec![site("慢站")])).unwrap();
    slow["observations"][0]["fetch"]["duration_ms"] = Value::from(u64::MAX);
    refused_with(400, "value_out_of_range", "duration_ms")(agent.push_json(&slow).await);
    let mut reply = site("留言站");
    reply.interaction.get_or_insert_default().max_reply_working_days = Some(i64::MIN);
    refused_with(400, "value_out_of_range", "max_reply_working_days")(
        agent.push(&agent.batch("县", vec![reply])).await,
    );
    refused_with(400, "invalid_batch", "U+0000")(agent.push(&agent.batch("县", vec![site("空\0字符")])).await);

    // No /metrics line past 8 KiB, whatever the names.
    let metrics = collector.metrics().await;
    let longest = metrics.lines().map(str::len).max().unwrap_or(0);
    assert!(longest <= 8192, "a /metrics line of {longest} bytes");
    promtool_check_metrics(&metrics).unwrap_or_else(|complaint| panic!("{complaint}"));

    // Subjects: 5,000 per agent by default; the batch that would pass it is refused whole.
    let batch_of = |from: usize, count: usize| -> Vec<Observation> {
        (from..from + count).map(|i| site(&format!("站点{i:06}"))).collect()
    };
    refused_with(413, "too_many_observations", "[push] max_observations_per_batch")(
        agent.push(&agent.batch("县", batch_of(0, 5_001))).await,
    );
    for chunk in 0..10 {
        let (status, text) = agent.push(&agent.batch("县", batch_of(chunk * 499, 499))).await;
        assert_eq!(status, 200, "{text}");
    }
    // 4,990 + the long-named channel = 4,991 owned: nine more fit, ten do not.
    refused_with(422, "too_many_subjects", "[push] max_subjects_per_agent")(
        agent.push(&agent.batch("县", batch_of(10_000, 10))).await,
    );
    let (status, text) = agent.push(&agent.batch("县", batch_of(10_000, 9))).await;
    assert_eq!(status, 200, "{text}");
    // A flood of new targets (the review's 203,000) is refused batch after batch; memory stays flat.
    for round in 0..40 {
        refused_with(422, "too_many_subjects", "max_subjects_per_agent")(
            agent.push(&agent.batch("县", batch_of(100_000 + round * 5_000, 5_000))).await,
        );
    }
    let metrics = collector.metrics().await;
    assert_eq!(refused(&metrics, "too_many_subjects"), 41.0);
    assert_eq!(refused(&metrics, "field_too_long"), 3.0);
    assert_eq!(refused(&metrics, "value_out_of_range"), 3.0);
    // 4,999 home pages (the 5,000th subject is the channel).
    assert_eq!(exposition::parse(&metrics).iter().filter(|s| s.name == "xunjian_up").count(), 4_999);
    let rss = peak_rss_mb(collector.pid());
    println!("collector peak RSS after a refused flood of 200,000 subjects: {rss:.0} MB");
    assert!(rss < 200.0, "peak RSS {rss:.0} MB");
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_in_the_future_cannot_hide_an_outage() {
    let mut collector = Deployment::new(
        "clock",
        "",
        "[alerts]\nevaluation_interval = \"1s\"\n[[alerts.rule]]\nname = \"XunjianSiteDown\"\nfailures = 3\n",
    );
    collector.start().await;
    let agent = collector.agent("skewed");
    let year_2099 = Timestamp::from_second(4_070_908_800).unwrap();
    let (status, text) = agent.push(&agent.batch("县", vec![probe("县政府网", "县政府办", true, year_2099)])).await;
    assert_eq!(status, 200, "{text}");
    for _ in 0..3 {
        let (status, text) =
            agent.push(&agent.batch("县", vec![probe("县政府网", "县政府办", false, Timestamp::now())])).await;
        assert_eq!(status, 200, "{text}");
    }
    let metrics = collector.metrics().await;
    let samples = exposition::parse(&metrics);
    assert_eq!(exposition::value(&samples, "xunjian_up", &[("target", "县政府网")]), Some(0.0));
    assert_eq!(exposition::value(&samples, "xunjian_collector_observations_clamped_total", &[]), Some(1.0));
    wait_until(Duration::from_secs(15), "XunjianSiteDown firing", || async {
        collector
            .alerts()
            .await
            .iter()
            .any(|a| a["alertname"] == "XunjianSiteDown" && a["state"] == "firing")
            .then_some(())
    })
    .await;
    let status = collector.status().await;
    let checked = status.targets[0].observation.checked_at;
    assert!(checked < Timestamp::now() + SignedDuration::from_mins(10), "no date in the future is kept: {checked}");
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inventory_touches_only_its_own_agent_and_batch_ids_are_per_agent() {
    let mut collector = Deployment::new("inventory", "", "");
    collector.start().await;
    let now = Timestamp::now();
    let ids = ["a", "a-b", "a.b", "a_b"];
    for id in ids {
        let agent = collector.agent(id);
        let mut batch = agent.batch("县", vec![probe(&format!("{id}站"), "单位", true, now)]);
        // Every agent uses the same batch id: each is its own.
        batch.batch_id = xunjian_shared::wire::BatchId::parse("samebatchid00001").unwrap();
        let (status, text) = agent.push(&batch).await;
        assert_eq!(status, 200, "{text}");
        assert!(text.contains("\"accepted\""), "{id}: {text}");
    }
    let a = collector.agent("a");
    let mut inventory = a.batch("县", Vec::new());
    inventory.inventory =
        Some(vec![SubjectRef { target: "别的站".into(), kind: TargetKind::Site, column: None, channel: None }]);
    let (status, text) = a.push(&inventory).await;
    assert_eq!(status, 200, "{text}");
    let status = collector.status().await;
    let mut agents: Vec<&str> = status.targets.iter().map(|t| t.agent.as_str()).collect();
    agents.sort();
    assert_eq!(agents, ["a-b", "a.b", "a_b"], "a's inventory took only a's page");
    // What a let go is free for another agent.
    let b = collector.agent("b");
    let (status, text) = b.push(&b.batch("县", vec![probe("a站", "单位", true, now)])).await;
    assert_eq!(status, 200, "{text}");
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retiring_an_agent_releases_its_subjects_within_seconds() {
    let mut collector = Deployment::new("retire", "", "");
    collector.start().await;
    let now = Timestamp::now();
    let old = collector.agent("longchuan-old");
    let new = collector.agent("longchuan");
    let (status, _) =
        old.push(&old.batch("龙川县", vec![probe("龙川县人民政府门户网站", "县政府办", true, now)])).await;
    assert_eq!(status, 200);
    let taken = new.batch("龙川县", vec![probe("龙川县人民政府门户网站", "县政府办", true, now)]);
    assert_eq!(new.push(&taken).await.0, 409, "owned by the old agent");
    let (code, stdout, stderr) =
        collector.cli(&["agent", "retire", "longchuan-old", "--reason", "迁移到新主机", "--author", "王科长"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("longchuan-old"), "{stdout}");
    wait_until(Duration::from_secs(10), "the old agent forgotten", || async {
        let status = collector.status().await;
        (!status.agents.iter().any(|a| a.agent == "longchuan-old") && status.targets.is_empty()).then_some(())
    })
    .await;
    let (status, text) =
        new.push(&new.batch("龙川县", vec![probe("龙川县人民政府门户网站", "县政府办", true, now)])).await;
    assert_eq!(status, 200, "{text}");
    // The retirement is on record, with its author.
    let (_, log, _) = collector.cli(&["registry", "log"]);
    assert!(log.contains("王科长") && log.contains("agent.retire"), "{log}");
    // And it survives a restart: the old agent does not come back from the log.
    collector.kill9().await;
    collector.start().await;
    let status = collector.status().await;
    assert!(status.agents.iter().all(|a| a.agent != "longchuan-old"));
    assert_eq!(status.targets.len(), 1);
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_certificates_expire_visibly_and_are_renewed_not_reissued() {
    let mut collector = Deployment::new("certs", "", "[alerts]\nevaluation_interval = \"1s\"\n");
    let certs = collector.certs.to_str().unwrap().to_string();
    let issue = |args: &[&str]| {
        std::process::Command::new(xunjian_tests::harness::binary("xunjian-collector"))
            .args(["certs"])
            .args(args)
            .output()
            .unwrap()
    };
    let first = issue(&["issue", "--dir", &certs, "--agent", "short", "--days", "10"]);
    assert!(first.status.success());
    let printed = String::from_utf8_lossy(&first.stdout).to_string();
    let serial = printed.split("serial ").nth(1).and_then(|rest| rest.split(',').next()).unwrap().to_string();
    // Issuing again names the certificate to revoke and the way to replace it.
    let again = issue(&["issue", "--dir", &certs, "--agent", "short"]);
    assert_eq!(again.status.code(), Some(2));
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains(&format!("revoke --serial {serial}")) && said.contains("certs renew"), "{said}");

    collector.start().await;
    let agent = collector.agent("short");
    let (status, _) = agent.push(&agent.batch("县", vec![probe("县政府网", "县政府办", true, Timestamp::now())])).await;
    assert_eq!(status, 200);
    let metrics = collector.metrics().await;
    let not_after = exposition::value(
        &exposition::parse(&metrics),
        "xunjian_agent_cert_not_after_timestamp_seconds",
        &[("agent", "short")],
    )
    .expect("the certificate's expiry is exported");
    let days = (not_after - Timestamp::now().as_second() as f64) / 86_400.0;
    assert!((9.0..11.0).contains(&days), "{days} days left");
    wait_until(Duration::from_secs(15), "XunjianAgentCertificateExpiring firing", || async {
        collector
            .alerts()
            .await
            .iter()
            .any(|a| a["alertname"] == "XunjianAgentCertificateExpiring" && a["labels"]["agent"] == "short")
            .then_some(())
    })
    .await;

    // Renewal: a new certificate (two years by default), the old kept aside with its serial.
    let renewed = issue(&["renew", "--dir", &certs, "--agent", "short"]);
    assert!(renewed.status.success(), "{}", String::from_utf8_lossy(&renewed.stderr));
    let said = String::from_utf8_lossy(&renewed.stdout);
    assert!(said.contains(&format!("serial {serial}")) && said.contains("revoke --serial"), "{said}");
    let agent = collector.agent("short");
    let (status, _) = agent.push(&agent.batch("县", vec![probe("县政府网", "县政府办", true, Timestamp::now())])).await;
    assert_eq!(status, 200);
    let metrics = collector.metrics().await;
    let not_after = exposition::value(
        &exposition::parse(&metrics),
        "xunjian_agent_cert_not_after_timestamp_seconds",
        &[("agent", "short")],
    )
    .unwrap();
    let days = (not_after - Timestamp::now().as_second() as f64) / 86_400.0;
    assert!((728.0..732.0).contains(&days), "renewed for two years: {days}");
    // Revoking the old serial refuses the old key only.
    let old_cert = collector.certs.join("agents/retired").join(format!("short-{serial}.pem"));
    let old_key = collector.certs.join("agents/retired").join(format!("short-{serial}-key.pem"));
    let (code, _, stderr) =
        collector.cli(&["agent", "revoke", "--serial", &serial, "--reason", "旧证书", "--author", "王科长"]);
    assert_eq!(code, 0, "{stderr}");
    let stolen = collector.agent_with("short", &old_cert, &old_key);
    wait_until(Duration::from_secs(10), "the old key refused", || async {
        let (status, _) = stolen.push(&stolen.batch("县", Vec::new())).await;
        (status == 403).then_some(())
    })
    .await;
    let (status, _) = agent.push(&agent.batch("县", vec![probe("县政府网", "县政府办", true, Timestamp::now())])).await;
    assert_eq!(status, 200, "the new certificate still works");
    collector.stop().await;
}
