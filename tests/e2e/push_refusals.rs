//! What the push listener must refuse, and how: clients without the right certificate never get
//! an HTTP exchange; a wrong agent name is 403; bad bodies are 4xx naming what is wrong; a
//! repeated batch id is taken once.

use std::io::Write as _;
use std::time::Duration;

use jiff::Timestamp;
use xunjian_collector::server::{self, Settings};
use xunjian_collector::tls::{self, EphemeralPki};
use xunjian_shared::wire::{
    ApiError, Batch, BatchId, CheckKind, FetchRecord, Observation, PushAck, PushStatus, TargetKind,
};
use xunjian_tests::exposition;
use xunjian_tests::harness::{http_get, temp_dir};

fn observation(target: &str) -> Observation {
    Observation {
        target: target.into(),
        kind: TargetKind::Site,
        unit: "测试单位".into(),
        platform: None,
        column: None,
        column_kind: None,
        url: "http://127.0.0.1:9/".into(),
        checks: vec![CheckKind::Availability],
        checked_at: Timestamp::now(),
        ok: true,
        items: None,
        last_update: None,
        age_days: None,
        max_age_days: None,
        fetch: Some(FetchRecord {
            status: Some(200),
            duration_ms: 12,
            failure: None,
            redirects: Vec::new(),
            tls_not_after: None,
            charset: Some("UTF-8".into()),
            body_bytes: 1000,
            truncated: false,
        }),
        findings: Vec::new(),
        ..Observation::new("", TargetKind::Site, "", "", CheckKind::Availability, Timestamp::UNIX_EPOCH)
    }
}

fn batch(agent: &str, id: &str) -> Batch {
    Batch {
        schema_version: 1,
        batch_id: BatchId::parse(id).unwrap(),
        agent: agent.into(),
        county: "测试县".into(),
        sequence: 1,
        created_at: Timestamp::now(),
        inventory: None,
        observations: vec![observation("测试站")],
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn client(ca_pem: &str, identity: Option<(String, String)>) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(ca_pem.as_bytes()).unwrap())
        .timeout(Duration::from_secs(10));
    if let Some((cert, key)) = identity {
        builder = builder.identity(reqwest::Identity::from_pem(format!("{cert}\n{key}").as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
    encoding: &str,
) -> Result<(u16, String), reqwest::Error> {
    let response = client.post(url).header("content-encoding", encoding).body(body).send().await?;
    Ok((response.status().as_u16(), response.text().await.unwrap_or_default()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_are_refused_unless_they_are_right() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pki = EphemeralPki::new().unwrap();
    let dir = temp_dir("refusals");
    let running = server::start(Settings {
        database: dir.join("xunjian.db"),
        push_listen: "127.0.0.1:0".parse().unwrap(),
        push_tls: tls::push_server_config_from_pem(
            pki.ca_pem.as_bytes(),
            pki.server_cert_pem.as_bytes(),
            pki.server_key_pem.as_bytes(),
        )
        .unwrap(),
        push_max_body_bytes: 64 * 1024,
        web_listen: "127.0.0.1:0".parse().unwrap(),
        web_tls: None,
        admin_token: None,
        series_expiry: Duration::from_secs(86_400),
        dedupe_window: Duration::from_secs(86_400),
        alerts: Default::default(),
    })
    .await
    .unwrap();
    let url = format!("https://127.0.0.1:{}/api/v1/push", running.push_addr.port());
    let body = gzip(&serde_json::to_vec(&batch("longchuan", "0123456789abcdef")).unwrap());

    // No client certificate, or one from another CA: the handshake fails, no HTTP at all.
    let anonymous = client(&pki.ca_pem, None);
    assert!(post(&anonymous, &url, body.clone(), "gzip").await.is_err(), "a client without a certificate is refused");
    let stranger = EphemeralPki::new().unwrap();
    let foreign = client(&pki.ca_pem, Some(stranger.agent("longchuan").unwrap()));
    assert!(post(&foreign, &url, body.clone(), "gzip").await.is_err(), "a certificate from another CA is refused");

    // A certificate for another agent: 403 naming both.
    let heping = client(&pki.ca_pem, Some(pki.agent("heping").unwrap()));
    let (status, text) = post(&heping, &url, body.clone(), "gzip").await.unwrap();
    assert_eq!(status, 403);
    let error: ApiError = serde_json::from_str(&text).unwrap();
    assert_eq!(error.error, "agent_mismatch");
    assert!(error.detail.contains("\"longchuan\"") && error.detail.contains("\"heping\""), "{}", error.detail);

    // The right agent: taken once, then recognised as a duplicate.
    let longchuan = client(&pki.ca_pem, Some(pki.agent("longchuan").unwrap()));
    let (status, text) = post(&longchuan, &url, body.clone(), "gzip").await.unwrap();
    assert_eq!(status, 200, "{text}");
    let ack: PushAck = serde_json::from_str(&text).unwrap();
    assert_eq!((ack.status, ack.observations), (PushStatus::Accepted, 1));
    let (status, text) = post(&longchuan, &url, body.clone(), "gzip").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<PushAck>(&text).unwrap().status, PushStatus::Duplicate);

    // Bad bodies: each a 4xx with a code and a sentence.
    let refused = |expected_status: u16, expected_code: &'static str, needle: &'static str| {
        move |(status, text): (u16, String)| {
            assert_eq!(status, expected_status, "{text}");
            let error: ApiError = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not an API error: {text}"));
            assert_eq!(error.error, expected_code);
            assert!(error.detail.contains(needle), "{:?} lacks {needle:?}", error.detail);
        }
    };
    refused(400, "malformed_body", "not valid gzip")(post(&longchuan, &url, b"plain".to_vec(), "gzip").await.unwrap());
    refused(400, "malformed_body", "not a valid batch")(
        post(&longchuan, &url, b"{\"schema_version\": 1, \"agent\": 5}".to_vec(), "identity").await.unwrap(),
    );
    let mut future = serde_json::to_value(batch("longchuan", "fedcba9876543210")).unwrap();
    future["schema_version"] = 99.into();
    future["new_field_of_v99"] = "x".into();
    refused(400, "unsupported_schema_version", "understands 1")(
        post(&longchuan, &url, serde_json::to_vec(&future).unwrap(), "identity").await.unwrap(),
    );
    refused(415, "unsupported_encoding", "\"br\"")(post(&longchuan, &url, body.clone(), "br").await.unwrap());
    let mut big = batch("longchuan", "bigbigbigbigbig1");
    big.observations = (0..400).map(|i| observation(&format!("站点{i}"))).collect();
    let big_json = serde_json::to_vec(&big).unwrap();
    refused(413, "too_large", "exceeds 65536 bytes")(
        post(&longchuan, &url, big_json.clone(), "identity").await.unwrap(),
    );
    refused(413, "too_large", "decompressed body exceeds")(
        post(&longchuan, &url, gzip(&big_json), "gzip").await.unwrap(),
    );
    let mut empty_target = batch("longchuan", "emptytarget00001");
    empty_target.observations[0].target = " ".into();
    refused(400, "invalid_batch", "observations[0].target")(
        post(&longchuan, &url, serde_json::to_vec(&empty_target).unwrap(), "identity").await.unwrap(),
    );

    // The counters saw one acceptance, one duplicate and every refusal by reason; the
    // observation was counted once.
    let (_, _, text) = http_get(&format!("http://{}/metrics", running.web_addr), None).await;
    let samples = exposition::parse(&text);
    let value = |name: &str, labels: &[(&str, &str)]| exposition::value(&samples, name, labels).unwrap_or(0.0);
    assert_eq!(value("xunjian_collector_batches_total", &[("outcome", "accepted")]), 1.0);
    assert_eq!(value("xunjian_collector_batches_total", &[("outcome", "duplicate")]), 1.0);
    assert_eq!(value("xunjian_collector_batches_total", &[("outcome", "rejected")]), 8.0);
    assert_eq!(value("xunjian_collector_batches_rejected_total", &[("reason", "too_large")]), 2.0);
    assert_eq!(value("xunjian_collector_batches_rejected_total", &[("reason", "malformed_body")]), 2.0);
    assert_eq!(value("xunjian_collector_observations_ingested_total", &[]), 1.0);
    assert_eq!(value("xunjian_probes_total", &[("target", "测试站"), ("result", "success")]), 1.0);
    running.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
