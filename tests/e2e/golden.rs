//! Golden files for what `check` renders over the corpus: the zh-CN table and the JSON
//! document. Ports and durations are masked. Regenerate with `XUNJIAN_UPDATE_GOLDEN=1`.

use std::path::PathBuf;

use xunjian_sim::Sim;
use xunjian_tests::corpus;
use xunjian_tests::harness::{self, corpus_config, serve_corpus};

const NOW: &str = "2026-11-26T04:00:00Z";

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata").join("golden")
}

/// Compares `actual` with the golden file, or rewrites it when asked to.
fn assert_golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("XUNJIAN_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err}; run with XUNJIAN_UPDATE_GOLDEN=1 to create it", path.display()));
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (e, a))| e != a)
            .take(10)
            .map(|(n, (e, a))| format!("line {}:\n  - {e}\n  + {a}", n + 1))
            .collect();
        panic!(
            "{} differs from the golden file ({} vs {} lines):\n{}\nrun with XUNJIAN_UPDATE_GOLDEN=1 to accept",
            name,
            expected.lines().count(),
            actual.lines().count(),
            diff.join("\n")
        );
    }
}

/// Masks what differs run to run: the simulator's port and fetch durations.
fn mask(text: &str, port: u16) -> String {
    let text = text.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:PORT");
    text.lines()
        .map(|line| match line.find("\"duration_ms\": ") {
            Some(at) => format!("{}\"duration_ms\": 0{}", &line[..at], if line.ends_with(',') { "," } else { "" }),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_output_matches_golden_files() {
    let manifest = corpus::load();
    let sim = Sim::start().await.unwrap();
    serve_corpus(&sim, &manifest);
    let dir = std::env::temp_dir().join(format!("xunjian-golden-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config_path = dir.join("agent.toml");
    std::fs::write(&config_path, corpus_config(&sim, &manifest, "corpus", "龙川县")).unwrap();
    for (args, golden) in [(vec!["check"], "check.txt"), (vec!["check", "--json"], "check.json")] {
        let output = tokio::process::Command::new(harness::binary("xunjian-agent"))
            .args(&args)
            .args(["--now", NOW, "--config"])
            .arg(&config_path)
            .output()
            .await
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert_golden(golden, &mask(&String::from_utf8_lossy(&output.stdout), sim.addr.port()));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The web API's answers as a contract: every DTO of `wire::api` (and the one error body),
/// serialized from fixed values. A renamed field or a changed enum form shows here first.
#[test]
fn api_answers_match_golden_file() {
    use std::collections::BTreeMap;
    use xunjian_shared::config::AlertSeverity;
    use xunjian_shared::wire::ApiError;
    use xunjian_shared::wire::api::*;

    let at: jiff::Timestamp = "2026-11-26T04:00:00Z".parse().unwrap();
    let alert = AlertView {
        fingerprint: "4f0c2a".into(),
        alertname: "XunjianSiteDown".into(),
        title: "网站无法访问".into(),
        severity: AlertSeverity::Critical,
        labels: BTreeMap::from([
            ("county".into(), "龙川县".into()),
            ("target".into(), "龙川县人民政府门户网站".into()),
        ]),
        description: "连续 3 次探测失败（连接超时）".into(),
        detail: "首页无法访问：超时未打开".into(),
        state: AlertState::Firing,
        active_at: at,
        for_seconds: 0,
        fired_at: Some(at),
        resolved_at: None,
        notified_at: Some(at),
        resolved_notified: false,
        silenced_by: None,
    };
    let document = serde_json::json!({
        "GET /api/v1/alerts": [alert],
        "GET /api/v1/notifications": [NotificationView {
            id: 7, notifier: "dingtalk".into(), fingerprint: "4f0c2a".into(), alertname: "XunjianSiteDown".into(),
            status: "delivered".into(), created_at: at, delivered_at: Some(at), failed_at: None,
        }],
        "GET /api/v1/registry": [FilingView {
            name: "河源发布".into(), channel: "微信".into(), platform: Some("wechat".into()), unit: "河源市政府新闻办".into(),
            county: "市直".into(), filed_on: Some(jiff::civil::date(2019, 3, 8)), status: "运行".into(),
            account_id: Some("gh_7d1c3e5a9b2f".into()), unit_type: Some("市直部门".into()),
            opened_on: Some(jiff::civil::date(2019, 3, 5)),
        }],
        "GET /api/v1/silences": [SilenceView {
            id: 3, matchers: vec!["county=龙川县".into(), "alertname!=XunjianSiteDown".into()], starts_at: at,
            ends_at: at, reason: "栏目改版".into(), author: "王科长".into(), created_at: at, expired_at: None,
            expired_by: None, active: true,
        }],
        "GET /api/v1/revocations": [RevocationView {
            id: 1, agent: "longchuan".into(), serial: "".into(), reason: "主机失窃".into(), author: "李".into(),
            created_at: at, lifted_at: None, lifted_by: None,
        }],
        "GET /api/v1/retirements": [RetirementView {
            id: 2, agent: "old-heping".into(), reason: "主机更换".into(), author: "李".into(), created_at: at, applied_at: Some(at),
        }],
        "GET /api/v1/audit": [AuditEntryView { at, author: "李主任".into(), action: "registry.replace".into(), detail: "共 4 条".into() }],
        "POST /api/v1/exemptions": Created { id: 5, ends_at: None },
        "POST /api/v1/silences": Created { id: 3, ends_at: Some(at) },
        "DELETE /api/v1/exemptions/5": Ended::Revoked(5),
        "DELETE /api/v1/silences/3": Ended::Expired(3),
        "DELETE /api/v1/revocations/1": Ended::Lifted(1),
        "PUT /api/v1/registry": RegistryReplaced { total: 4, added: 1, removed: 0, changed: 0, ignored_columns: vec!["备注".into()] },
        "4xx/5xx (every endpoint)": [
            ApiError::new("refused", "豁免需要填写理由"),
            ApiError { error: "invalid_registry".into(), detail: "备案表有误，未作任何修改".into(), problems: vec!["第 2 行：责任单位为空".into()] },
            ApiError::new("internal", "采集器内部错误，未作任何修改；原因已记入采集器日志，请稍后重试或联系运维"),
        ],
    });
    assert_golden("api.json", &(serde_json::to_string_pretty(&document).unwrap() + "\n"));
}
