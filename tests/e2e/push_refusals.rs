//! What the push listener must refuse, and how: clients without the right certificate never get
//! an HTTP exchange; a wrong agent name is 403; bad bodies are 4xx naming what is wrong; a
//! repeated batch id is taken once.

use std::io::Write as _;
use std::time::Duration;

use jiff::Timestamp;
use xunjian_collector::server::{self, Settings};
use xunjian_collector::tls::EphemeralPki;
use xunjian_shared::wire::{
    ApiError, Batch, BatchId, CheckKind, FetchRecord, Observation, PushAck, PushStatus, TargetKind,
};
use xunjian_tests::exposition;
use xunjian_tests::harness::{collector_settings, http_get, temp_dir};

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
        freshness: None,
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
    let running =
        server::start(Settings { push_max_body_bytes: 64 * 1024, ..collector_settings(&dir, &pki) }).await.unwrap();
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
    assert_eq!(value("xunjian_collector_refused_total", &[("reason", "too_large")]), 2.0);
    assert_eq!(value("xunjian_collector_refused_total", &[("reason", "malformed_body")]), 2.0);
    assert_eq!(value("xunjian_collector_observations_ingested_total", &[]), 1.0);
    assert_eq!(value("xunjian_probes_total", &[("target", "测试站"), ("result", "success")]), 1.0);
    running.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A raw TLS connection with `identity`, for clients that misbehave below HTTP.
async fn raw_tls(
    ca_pem: &str,
    identity: (String, String),
    port: u16,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    xunjian_tests::harness::raw_mtls(ca_pem.as_bytes(), identity.0.as_bytes(), identity.1.as_bytes(), port).await
}

/// Reads until the server closes; returns what it sent and how long that took.
async fn until_closed(stream: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>) -> (String, Duration) {
    use tokio::io::AsyncReadExt as _;
    let started = std::time::Instant::now();
    let mut received = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut received)).await;
    (String::from_utf8_lossy(&received).into_owned(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_pushes_rate_limits_slow_clients_and_revocation() {
    use tokio::io::AsyncWriteExt as _;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pki = EphemeralPki::new().unwrap();
    let dir = temp_dir("hostile-push");
    let running = server::start(Settings {
        push_max_body_bytes: 1 << 20,
        push_max_batches_per_minute: 6,
        push_read_timeout: Duration::from_secs(2),
        ..collector_settings(&dir, &pki)
    })
    .await
    .unwrap();
    let port = running.push_addr.port();
    let url = format!("https://127.0.0.1:{port}/api/v1/push");
    let longchuan = client(&pki.ca_pem, Some(pki.agent("longchuan").unwrap()));

    // JSON nested 10,000 deep: refused with a reason, the collector unharmed.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let (status, text) = post(&longchuan, &url, deep.into_bytes(), "identity").await.unwrap();
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("malformed_body"), "{text}");

    // A name with a line break is refused, naming the field: names are label values and lines
    // of robot messages.
    let mut broken = batch("longchuan", "brokenlines00001");
    broken.county = "县\n#### 【巡检恢复】".into();
    let (status, text) = post(&longchuan, &url, serde_json::to_vec(&broken).unwrap(), "identity").await.unwrap();
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("invalid_batch") && text.contains("county contains the control character U+000A"), "{text}");

    // Names with quotes, backslashes and any Unicode: stored, and /metrics stays valid.
    let weird = "引号\"反斜杠\\括号{} 表情😀 ﷺ 𠀀";
    let mut strange = batch("longchuan", "strangenames0001");
    let mut column = observation(weird);
    column.column = Some("栏目\"\\x} 1".into());
    strange.observations = vec![observation(weird), column];
    strange.county = "县\"\\".into();
    let (status, text) = post(&longchuan, &url, serde_json::to_vec(&strange).unwrap(), "identity").await.unwrap();
    assert_eq!(status, 200, "{text}");
    let (_, _, metrics) = http_get(&format!("http://{}/metrics", running.web_addr), None).await;
    xunjian_tests::harness::promtool_check_metrics(&metrics)
        .unwrap_or_else(|complaint| panic!("promtool: {complaint}"));
    let samples = exposition::parse(&metrics);
    assert_eq!(
        exposition::value(&samples, "xunjian_probes_total", &[("target", weird), ("result", "success")]),
        Some(1.0)
    );

    // Six batches a minute for this agent: three more go through, the next is 429 with Retry-After.
    for index in 0..3 {
        let (status, text) = post(
            &longchuan,
            &url,
            serde_json::to_vec(&batch("longchuan", &format!("ratelimit{index:07}"))).unwrap(),
            "identity",
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "{text}");
    }
    let response = longchuan
        .post(&url)
        .body(serde_json::to_vec(&batch("longchuan", "ratelimit9999999")).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    // Another agent has its own allowance.
    let heping = client(&pki.ca_pem, Some(pki.agent("heping").unwrap()));
    let mut first = batch("heping", "hepingfirst00001");
    first.observations = vec![observation("和平县测试站")];
    let (status, text) = post(&heping, &url, serde_json::to_vec(&first).unwrap(), "identity").await.unwrap();
    assert_eq!(status, 200, "{text}");

    // Slow clients: headers that never finish, and a body that never comes, are cut off.
    let mut stream = raw_tls(&pki.ca_pem, pki.agent("heping").unwrap(), port).await;
    stream.write_all(b"POST /api/v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n").await.unwrap();
    let (_, waited) = until_closed(&mut stream).await;
    assert!(waited < Duration::from_secs(5), "slow headers held the connection {waited:?}");
    let mut stream = raw_tls(&pki.ca_pem, pki.agent("heping").unwrap(), port).await;
    stream
        .write_all(
            b"POST /api/v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{",
        )
        .await
        .unwrap();
    let (answer, waited) = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(waited < Duration::from_secs(5), "a missing body held the connection {waited:?}");

    // Revocation, by agent id and by certificate serial, without a restart.
    let revoke = |agent: &str, serial: &str| xunjian_collector::store::RegistryChange::Revoke {
        agent: agent.into(),
        serial: serial.into(),
        reason: "主机失窃".into(),
        author: "王科长".into(),
    };
    running.store.change_registry(revoke("heping", "")).await.unwrap();
    let (status, text) =
        post(&heping, &url, serde_json::to_vec(&batch("heping", "hepingrevoked001")).unwrap(), "identity")
            .await
            .unwrap();
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("revoked") && text.contains("主机失窃"), "{text}");
    let (cert, key) = pki.agent("zijin").unwrap();
    let serial = {
        use rustls_pki_types::pem::PemObject as _;
        let der = rustls_pki_types::CertificateDer::from_pem_slice(cert.as_bytes()).unwrap();
        xunjian_shared::x509::serial_hex(&der).unwrap()
    };
    let zijin = client(&pki.ca_pem, Some((cert, key)));
    let mut before = batch("zijin", "zijinbefore00001");
    before.observations = vec![observation("紫金县测试站")];
    let (status, text) = post(&zijin, &url, serde_json::to_vec(&before).unwrap(), "identity").await.unwrap();
    assert_eq!(status, 200, "{text}");
    running.store.change_registry(revoke("", &serial)).await.unwrap();
    let (status, _) =
        post(&zijin, &url, serde_json::to_vec(&batch("zijin", "zijinafter000001")).unwrap(), "identity").await.unwrap();
    assert_eq!(status, 403, "revoked by serial");
    let (_, _, metrics) = http_get(&format!("http://{}/metrics", running.web_addr), None).await;
    let samples = exposition::parse(&metrics);
    let rejected = |reason: &str| exposition::value(&samples, "xunjian_collector_refused_total", &[("reason", reason)]);
    assert_eq!((rejected("rate_limited"), rejected("revoked")), (Some(1.0), Some(2.0)));
    running.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
