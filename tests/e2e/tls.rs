//! HTTPS sites: the certificate's not-after is reported, a certificate about to expire is a
//! warning, and an expired self-signed one is a finding that still carries its not-after.

use jiff::{SignedDuration, Timestamp};
use xunjian_shared::wire::{CheckReport, FetchFailure, FindingCode, Severity};
use xunjian_sim::{Route, Sim};
use xunjian_tests::certs::{TestCa, self_signed};
use xunjian_tests::harness;

const PAGE: &str = "<ul><li><a href='/a/1.html'>县政府召开常务会议</a><span>2026-11-20</span></li><li><a href='/a/2.html'>县领导调研</a><span>2026-11-19</span></li></ul>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_read_and_judged() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = TestCa::new("xunjian test CA");
    let expiring_at = Timestamp::now() + SignedDuration::from_hours(24 * 7);
    let expiring = ca.server(&["127.0.0.1", "localhost"], expiring_at);
    let good = Sim::start_tls(&expiring.cert_pem, &expiring.key_pem).await.unwrap();
    good.route("/", Route::html(PAGE));
    let expired_at = Timestamp::now() - SignedDuration::from_hours(24 * 30);
    let broken = self_signed(&["127.0.0.1"], Timestamp::now() - SignedDuration::from_hours(24 * 400), expired_at);
    let bad = Sim::start_tls(&broken.cert_pem, &broken.key_pem).await.unwrap();
    bad.route("/", Route::html(PAGE));

    let dir = std::env::temp_dir().join(format!("xunjian-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("county-ca.pem"), ca.pem()).unwrap();
    let config = format!(
        "[agent]\nid = \"tls\"\ncounty = \"测试县\"\n[probe]\ntimeout = \"5s\"\nca_file = \"county-ca.pem\"\n\
         [[site]]\nname = \"证书将到期\"\nunit = \"甲\"\nurl = \"{}\"\n[[site]]\nname = \"证书已过期\"\nunit = \"乙\"\nurl = \"{}\"\n",
        good.url("/"),
        bad.url("/")
    );
    std::fs::write(dir.join("agent.toml"), config).unwrap();
    let output = tokio::process::Command::new(harness::binary("xunjian-agent"))
        .args(["check", "--json", "--config"])
        .arg(dir.join("agent.toml"))
        .output()
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: CheckReport = serde_json::from_slice(&output.stdout).unwrap();

    let day = |stamp: Timestamp| stamp.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let soon = report.observations.iter().find(|o| o.target == "证书将到期").unwrap();
    let fetch = soon.fetch.as_ref().unwrap();
    assert_eq!(fetch.failure, None, "{:?}", soon.findings);
    assert_eq!(fetch.tls_not_after.map(day), Some(day(expiring_at)));
    let availability: Vec<_> = soon
        .findings
        .iter()
        .filter(|f| f.code.check() == Some(xunjian_shared::wire::CheckKind::Availability))
        .collect();
    assert!(
        availability.iter().all(|f| f.severity == Severity::Warning),
        "an expiring certificate is a warning: {:?}",
        soon.findings
    );
    let warning = soon.findings.iter().find(|f| f.code == FindingCode::TlsCertificateExpiring).unwrap();
    assert_eq!(warning.severity, Severity::Warning);
    assert_eq!(soon.items(), Some(2));

    let expired = report.observations.iter().find(|o| o.target == "证书已过期").unwrap();
    let fetch = expired.fetch.as_ref().unwrap();
    assert_eq!(fetch.failure, Some(FetchFailure::Tls));
    assert_eq!(
        fetch.tls_not_after.map(day),
        Some(day(expired_at)),
        "the refused certificate's not-after is still read"
    );
    let codes: Vec<FindingCode> = expired
        .findings
        .iter()
        .map(|f| f.code)
        .filter(|c| c.check() == Some(xunjian_shared::wire::CheckKind::Availability))
        .collect();
    assert_eq!(codes, [FindingCode::SiteUnreachable, FindingCode::TlsCertificateInvalid]);
    let detail = &expired.findings[1].detail;
    assert!(detail.contains(&day(expired_at).to_string()), "{detail}");
}
