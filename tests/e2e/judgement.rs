//! Verdicts and the problem ledger against the real collector process, on a clock the test
//! controls (the observations' own times): a problem opens once, survives one absence, closes
//! after two, reopens within the window and is new after it; a SIGKILL before any checkpoint
//! loses none of it; an exemption marks it; the CSV opens in Excel; and the 7-day availability
//! rule fails a site at 5 % failed probes, counted in China days.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use xunjian_shared::wire::api::ProblemPage;
use xunjian_shared::wire::{ApiError, TargetKind};
use xunjian_tests::deployment::{Deployment, probe};
use xunjian_tests::harness::{http_get, wait_until};

async fn problems(collector: &Deployment, query: &str) -> ProblemPage {
    let (status, _, body) = http_get(&format!("{}/api/v1/problems{query}", collector.web), None).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|err| panic!("{err}: {body}"))
}

/// A page of problems as (id, status, resolution, reopened, first seen, last seen, resolved).
type Summary = Vec<(i64, String, Option<String>, u32, Timestamp, Timestamp, Option<Timestamp>)>;

fn summary(page: &ProblemPage) -> Summary {
    page.problems
        .iter()
        .map(|p| (p.id, p.status.clone(), p.resolution.clone(), p.reopened, p.first_seen, p.last_seen, p.resolved_at))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_debounces_reopens_exempts_exports_and_survives_sigkill() {
    let mut collector = Deployment::new("ledger", "", "[ledger]\nclose_after = 2\nreopen_within = \"1h\"\n");
    collector.start().await;
    let agent = collector.agent("lc");
    let t0 = Timestamp::from_second(Timestamp::now().as_second() / 60 * 60).unwrap() - SignedDuration::from_hours(72);
    let minute = |m: i64| t0 + SignedDuration::from_mins(m);
    // Down, down, up (one absence), down (the same problem), up, up (closed at 25), down at 40
    // (within the hour: reopened), up, up (closed at 50), down at 200 (after the hour: new).
    let steps = [
        (0, false),
        (5, false),
        (10, true),
        (15, false),
        (20, true),
        (25, true),
        (40, false),
        (45, true),
        (50, true),
        (200, false),
    ];
    for (m, up) in steps {
        let (status, body) = agent.push(&agent.batch("龙川县", vec![probe("龙川网", "县政府办", up, minute(m))])).await;
        assert_eq!(status, 200, "{body}");
    }
    let live = problems(&collector, "").await;
    let open = "open".to_string();
    let resolved = "resolved".to_string();
    let absent = Some("absent".to_string());
    assert_eq!(
        summary(&live),
        [
            (2, open.clone(), None, 0, minute(200), minute(200), None),
            (1, resolved.clone(), absent.clone(), 1, minute(0), minute(40), Some(minute(50))),
        ]
    );
    let first = &live.problems[1];
    assert_eq!(
        (first.code.as_str(), first.label.as_str(), first.kind),
        ("site_unreachable", "网站无法访问", TargetKind::Site)
    );
    assert!(first.evidence.contains("失败"), "the evidence is the failed probe: {}", first.evidence);
    assert_eq!(first.days, 0);
    let only_open = problems(&collector, "?status=open").await;
    assert_eq!((only_open.total, only_open.problems[0].id), (1, 2));
    assert_eq!(problems(&collector, "?county=和平县").await.total, 0);
    let window = format!("?since={}&until={}", minute(100), minute(300));
    assert_eq!(problems(&collector, &window).await.total, 1, "only the second was open then");

    // SIGKILL before the first checkpoint: the log alone rebuilds the same ledger, ids included.
    collector.kill9().await;
    collector.start().await;
    let recovered = problems(&collector, "").await;
    assert_eq!(summary(&recovered), summary(&live), "the ledger after a crash");

    // An exemption marks the open problem; the registry has no say on it otherwise.
    let (code, out, err) = collector.cli(&[
        "exemption",
        "add",
        "--target",
        "龙川网",
        "--code",
        "site_unreachable",
        "--reason",
        "服务器迁移",
        "--author",
        "李",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    wait_until(Duration::from_secs(10), "the exemption on the open problem", || async {
        problems(&collector, "?status=open").await.problems[0].exempted_by
    })
    .await;

    // The CSV: BOM, Chinese header, CRLF, one row per problem.
    let (status, _, csv) = http_get(&format!("{}/api/v1/problems.csv", collector.web), None).await;
    assert_eq!(status, 200);
    assert!(csv.starts_with("\u{feff}编号,县区,责任单位,名称"), "{csv}");
    assert_eq!(csv.matches("\r\n").count(), 3, "{csv}");
    assert!(csv.contains("龙川网") && csv.contains("问题已消失"), "{csv}");

    // Bad filters are refused with the parameter named.
    for (query, words) in [
        ("?status=closed", "status"),
        ("?code=typo", "code="),
        ("?since=yesterday", "since"),
        ("?colour=red", "colour"),
    ] {
        let (status, _, body) = http_get(&format!("{}/api/v1/problems{query}", collector.web), None).await;
        let error: ApiError = serde_json::from_str(&body).unwrap();
        assert_eq!((status, error.error.as_str()), (400, "bad_request"), "{query}");
        assert!(error.detail.contains(words), "{query}: {}", error.detail);
    }
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn availability_fails_a_site_at_five_percent_over_seven_china_days() {
    let mut collector = Deployment::new("availability", "", "");
    // Both sites filed, so only availability decides.
    let registry = collector.dir.join("registry.csv");
    std::fs::write(
        &registry,
        "名称,平台,责任单位,县区,备案日期,状态\n平安网,网站,平安镇,和平县,,运行\n和睦网,网站,和睦镇,和平县,,运行\n",
    )
    .unwrap();
    let (code, out, err) = collector.cli(&["registry", "import", registry.to_str().unwrap(), "--author", "王"]);
    assert_eq!(code, 0, "{out}{err}");
    collector.start().await;
    let agent = collector.agent("hp");
    // Seven China days back from today; each day 40 probes around the clock, from 00:00:30 to
    // 23:59:30 China time, so a day boundary in UTC would split them differently.
    let today = xunjian_shared::time::china_today(Timestamp::now());
    let mut observations = Vec::new();
    for back in 0..8i64 {
        let day = today.checked_sub(jiff::Span::new().days(back)).unwrap();
        let midnight = xunjian_shared::time::china_midnight(day);
        for probe_index in 0..40i64 {
            let at = midnight + SignedDuration::from_secs(30 + probe_index * (86_340 / 39));
            if at > Timestamp::now() {
                continue;
            }
            // 平安网: 2 of 40 fail each day (5 %): 不合格. 和睦网: 1 of 40 (2.5 %), and the eighth
            // day back all fail, outside the window: 合格.
            let safe_fails = probe_index < 2;
            let calm_fails = probe_index < 1 || back == 7;
            observations.push(probe("平安网", "平安镇", !safe_fails, at));
            observations.push(probe("和睦网", "和睦镇", !calm_fails, at));
        }
    }
    observations.sort_by_key(|o| o.checked_at);
    for chunk in observations.chunks(200) {
        let (status, body) = agent.push(&agent.batch("和平县", chunk.to_vec())).await;
        assert_eq!(status, 200, "{body}");
    }
    let report = collector.status().await;
    let verdict = |target: &str| report.verdicts.iter().find(|v| v.target == target).unwrap();
    let failing = verdict("平安网");
    assert!(!failing.pass, "{failing:?}");
    let reasons: Vec<&str> = failing.reasons.iter().map(|r| r.code.as_str()).collect();
    assert!(reasons.contains(&"site_unavailable"), "{reasons:?}");
    assert!(failing.reasons.iter().any(|r| r.detail.contains("近 7 天首页探测")), "{:?}", failing.reasons);
    let passing = verdict("和睦网");
    assert!(passing.pass, "2.5 % and failures eight days back: {passing:?}");
    let county = report.pass_ratios.iter().find(|r| r.county == "和平县" && r.kind == TargetKind::Site).unwrap();
    assert_eq!((county.judged, county.passed), (2, 1));
    collector.stop().await;
}

async fn history(web: &str, target: &str, from: jiff::civil::Date, to: jiff::civil::Date) -> serde_json::Value {
    let url = format!("{web}/api/v1/history?target={target}&from={from}&to={to}");
    let (status, _, body) = http_get(&url, None).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_china_day_closes_into_the_history_and_survives_sigkill() {
    let mut collector = Deployment::new("history", "", "");
    let registry = collector.dir.join("registry.csv");
    std::fs::write(&registry, "名称,平台,责任单位,县区,备案日期,状态\n甲网,网站,甲镇,紫金县,,运行\n").unwrap();
    let (code, out, err) = collector.cli(&["registry", "import", registry.to_str().unwrap(), "--author", "王"]);
    assert_eq!(code, 0, "{out}{err}");
    collector.start().await;
    let agent = collector.agent("zj");
    let today = xunjian_shared::time::china_today(Timestamp::now());
    let day = today.checked_sub(jiff::Span::new().days(3)).unwrap();
    let next = day.tomorrow().unwrap();
    let china = |date: jiff::civil::Date, hour: i64, minute: i64| {
        xunjian_shared::time::china_midnight(date) + SignedDuration::from_mins(hour * 60 + minute)
    };
    let push = |observations| async { agent.push(&agent.batch("紫金县", observations)).await };
    // 23:50 and 23:55 China time: 甲网 up, 乙网 (never filed) down.
    assert_eq!(push(vec![probe("甲网", "甲镇", true, china(day, 23, 50))]).await.0, 200);
    assert_eq!(push(vec![probe("乙网", "乙镇", false, china(day, 23, 55))]).await.0, 200);
    // 00:05 the next China day (still the same UTC day): the day closes.
    assert_eq!(push(vec![probe("甲网", "甲镇", false, china(next, 0, 5))]).await.0, 200);

    let from = day.yesterday().unwrap();
    let first = history(&collector.web, "甲网", from, today).await;
    let days = first["days"].as_array().unwrap();
    assert_eq!(days.len(), 1, "one closed day: {first}");
    assert_eq!(days[0]["day"], day.to_string());
    assert_eq!(days[0]["pass"], true, "{first}");
    assert_eq!(days[0]["pages"][0]["probes_ok"], 1, "the probe at 23:50 counts on its China day: {first}");
    assert_eq!(days[0]["pages"][0]["probes_failed"], 0, "the failure at 00:05 belongs to the next day: {first}");
    assert_eq!(first["first_seen"], china(day, 23, 50).to_string(), "{first}");
    let second = history(&collector.web, "乙网", from, today).await;
    assert_eq!(second["days"][0]["pass"], false, "{second}");
    assert_eq!(second["days"][0]["reasons"][0]["code"], "not_filed", "{second}");
    let url = format!("{}/api/v1/history/counties?from={day}&to={day}", collector.web);
    let (_, _, body) = http_get(&url, None).await;
    let counties: serde_json::Value = serde_json::from_str(&body).unwrap();
    let rows: Vec<(String, String, u64, u64)> = counties["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["county"].as_str().unwrap().into(),
                r["kind"].as_str().unwrap().into(),
                r["judged"].as_u64().unwrap(),
                r["passed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("紫金县".into(), "site".into(), 2, 1), ("全市".into(), "site".into(), 2, 1)]);

    // A SIGKILL keeps the closed day and the day the collector is in: the next day closes once.
    collector.kill9().await;
    collector.start().await;
    assert_eq!(history(&collector.web, "甲网", from, today).await["days"].as_array().unwrap().len(), 1);
    assert_eq!(push(vec![probe("甲网", "甲镇", true, china(next, 9, 0))]).await.0, 200, "the same day: nothing closes");
    let after = next.tomorrow().unwrap();
    assert_eq!(push(vec![probe("甲网", "甲镇", true, china(after, 8, 0))]).await.0, 200);
    let closed = history(&collector.web, "甲网", from, today).await;
    let days = closed["days"].as_array().unwrap();
    assert_eq!(days.len(), 2, "{closed}");
    assert_eq!(days[1]["day"], next.to_string());
    assert_eq!(
        (days[1]["pages"][0]["probes_ok"].as_u64(), days[1]["pages"][0]["probes_failed"].as_u64()),
        (Some(1), Some(1)),
        "00:05 down and 09:00 up, both on the next day: {closed}"
    );
    // Bad ranges are refused, naming what is wrong.
    let (status, _, body) = http_get(&format!("{}/api/v1/history?from={today}", collector.web), None).await;
    assert_eq!(status, 400);
    assert!(body.contains("target"), "{body}");
    collector.stop().await;
}

/// A column page of `target` with `code` (stale or blank), or none.
fn column(
    target: &str,
    name: String,
    kind: xunjian_shared::config::ColumnKind,
    code: Option<xunjian_shared::wire::FindingCode>,
    at: Timestamp,
) -> xunjian_shared::wire::Observation {
    let mut observation = probe(target, "单位", true, at);
    observation.column = Some(name);
    observation.column_kind = Some(kind);
    observation.checks =
        vec![xunjian_shared::wire::CheckKind::ColumnUpdate, xunjian_shared::wire::CheckKind::BlankColumn];
    if let Some(code) = code {
        observation.findings.push(xunjian_shared::wire::Finding::new(
            code,
            xunjian_shared::wire::Severity::Error,
            "栏目问题",
        ));
    }
    observation.settle();
    observation
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_veto_rule_fails_its_site_and_an_exemption_lifts_one() {
    use xunjian_shared::config::ColumnKind;
    use xunjian_shared::wire::{Finding, FindingCode, Severity};
    let names = ["首页网", "渠道网", "错字网", "要闻网", "栏目网", "空白网", "正常网"];
    let mut collector = Deployment::new("vetoes", "", "");
    let registry = collector.dir.join("registry.csv");
    let rows: String = names.iter().map(|name| format!("{name},网站,单位,龙川县,,运行\n")).collect();
    std::fs::write(&registry, format!("名称,平台,责任单位,县区,备案日期,状态\n{rows}")).unwrap();
    let (code, out, err) = collector.cli(&["registry", "import", registry.to_str().unwrap(), "--author", "王"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = collector.cli(&[
        "exemption",
        "add",
        "--target",
        "错字网",
        "--code",
        "wording_error",
        "--reason",
        "引用原文",
        "--author",
        "李",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    collector.start().await;
    let agent = collector.agent("lc");
    let now = Timestamp::now();
    let home = |target: &str, veto: Option<FindingCode>| {
        let mut observation = probe(target, "单位", true, now);
        if let Some(code) = veto {
            observation.findings.push(Finding::new(code, Severity::Veto, "单项否决问题"));
            observation.settle();
        }
        observation
    };
    let mut observations = vec![
        home("首页网", Some(FindingCode::HomeNotUpdated)),
        home("渠道网", Some(FindingCode::InteractionChannelMissing)),
        home("错字网", Some(FindingCode::WordingError)),
        home("要闻网", None),
        home("栏目网", None),
        home("空白网", None),
        home("正常网", None),
    ];
    let stale = Some(FindingCode::ColumnNotUpdated);
    let blank = Some(FindingCode::ColumnBlank);
    for i in 0..5 {
        observations.push(column("要闻网", format!("动态{i}"), ColumnKind::News, stale, now));
        observations.push(column("空白网", format!("空白{i}"), ColumnKind::Other, blank, now));
    }
    for i in 0..10 {
        observations.push(column("栏目网", format!("人事{i}"), ColumnKind::Planning, stale, now));
    }
    for i in 0..4 {
        observations.push(column("正常网", format!("动态{i}"), ColumnKind::News, stale, now));
        observations.push(column("正常网", format!("空白{i}"), ColumnKind::Other, blank, now));
    }
    let (status, body) = agent.push(&agent.batch("龙川县", observations)).await;
    assert_eq!(status, 200, "{body}");
    let report = collector.status().await;
    let verdict = |target: &str| report.verdicts.iter().find(|v| v.target == target).unwrap();
    let reasons = |target: &str| -> Vec<String> { verdict(target).reasons.iter().map(|r| r.code.clone()).collect() };
    assert_eq!(reasons("首页网"), ["home_not_updated"]);
    assert_eq!(reasons("渠道网"), ["interaction_channel_missing"]);
    assert_eq!(reasons("要闻网"), ["stale_key_columns"]);
    assert_eq!(reasons("栏目网"), ["stale_columns"]);
    assert_eq!(reasons("空白网"), ["blank_columns"]);
    assert!(verdict("正常网").pass, "4 stale and 4 blank columns are below the lines: {:?}", verdict("正常网"));
    let exempted = verdict("错字网");
    assert!(exempted.pass, "{exempted:?}");
    assert_eq!(exempted.exempted.len(), 1);
    assert_eq!(exempted.exempted[0].code, FindingCode::WordingError);
    let county = report.pass_ratios.iter().find(|r| r.county == "龙川县").unwrap();
    assert_eq!((county.judged, county.passed), (7, 2));
    let samples = xunjian_tests::exposition::parse(&collector.metrics().await);
    let value = |name: &str, labels: &[(&str, &str)]| xunjian_tests::exposition::value(&samples, name, labels);
    assert_eq!(value("xunjian_verdict", &[("target", "要闻网")]), Some(0.0));
    assert_eq!(value("xunjian_verdict_reasons", &[("target", "要闻网"), ("reason", "stale_key_columns")]), Some(1.0));
    assert_eq!(value("xunjian_pass_ratio", &[("county", "龙川县"), ("kind", "site")]), Some(2.0 / 7.0));
    collector.stop().await;
}
