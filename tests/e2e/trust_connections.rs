//! What an unauthenticated client can hold (security review 2, rows 4.7, 4.8, 3.2), against the
//! real collector process: sockets that send nothing, an HTTP/2 preface alone, or a TLS
//! handshake and then silence are closed; 300 idle sockets on the web port and 100 from one
//! address on the push port, under a file limit of 256, cannot stop agents from pushing, and the
//! refusals are logged at most once a second;
//! a crowd of scrapers shares one rendering.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xunjian_tests::deployment::{Deployment, probe};
use xunjian_tests::harness::raw_mtls;

/// Reads until the server closes (or `within` passes); how long it took.
async fn closed_within(stream: &mut (impl AsyncReadExt + Unpin), within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut sink = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut sink)).await.ok().map(|_| started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_send_nothing_are_closed_on_both_ports() {
    let mut collector = Deployment::new("idle", "", "");
    collector.start().await;
    let _ = collector.agent("idle");
    let web = collector.web.trim_start_matches("http://").to_string();
    let limit = Duration::from_secs(20);

    // All four at once: each must be closed on its own timeout.
    let mut silent = tokio::net::TcpStream::connect(&web).await.unwrap();
    let mut h2c = tokio::net::TcpStream::connect(&web).await.unwrap();
    h2c.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
    let push = format!("127.0.0.1:{}", collector.push_port);
    let mut tcp_only = tokio::net::TcpStream::connect(&push).await.unwrap();
    let read = |file: &str| std::fs::read(collector.certs.join(file)).unwrap();
    let mut tls =
        raw_mtls(&read("ca.pem"), &read("agents/idle.pem"), &read("agents/idle-key.pem"), collector.push_port).await;
    let (silent, h2c, tcp_only, tls) = tokio::join!(
        closed_within(&mut silent, limit),
        closed_within(&mut h2c, limit),
        closed_within(&mut tcp_only, limit),
        closed_within(&mut tls, limit),
    );
    for (what, waited) in [
        ("a silent web socket", silent),
        ("an HTTP/2 preface alone", h2c),
        ("TCP to the push port without TLS", tcp_only),
        ("an mTLS connection that sends nothing", tls),
    ] {
        let waited = waited.unwrap_or_else(|| panic!("{what} is never closed"));
        assert!(waited < Duration::from_secs(12), "{what} held for {waited:?}");
    }
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_web_sockets_cannot_starve_pushes_under_a_low_file_limit() {
    let mut collector = Deployment::new("fdlimit", "", "");
    collector.start_under("ulimit -n 256;").await;
    let agent = collector.agent("longchuan");
    let web = collector.web.trim_start_matches("http://").to_string();
    let started = Instant::now();
    // 300 sockets to the web port that say nothing, kept open.
    let mut idle = Vec::new();
    for _ in 0..300 {
        if let Ok(stream) = tokio::net::TcpStream::connect(&web).await {
            idle.push(stream);
        }
    }
    // And 100 sockets to the push port from another address that never start TLS.
    let push = format!("127.0.0.1:{}", collector.push_port).parse::<std::net::SocketAddr>().unwrap();
    for _ in 0..100 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        if let Ok(stream) = socket.connect(push).await {
            idle.push(stream);
        }
    }
    for round in 0..5 {
        let batch =
            agent.batch("龙川县", vec![probe(&format!("龙川县站点{round}"), "县政府办", true, Timestamp::now())]);
        let (status, text) = agent.push(&batch).await;
        assert_eq!(status, 200, "push {round} while the web port is flooded: {text}");
    }
    let seconds = started.elapsed().as_secs() + 2;
    let log = collector.log();
    let accept_lines = log.lines().filter(|l| l.contains("accept failed")).count() as u64;
    let cap_lines = log.lines().filter(|l| l.contains("too many connections")).count() as u64;
    assert!(cap_lines >= 1, "the cap was reached and said so:\n{log}");
    assert!(log.contains("too many connections from one address"), "the push port's cap per address:\n{log}");
    assert!(accept_lines + cap_lines <= 2 * seconds, "{accept_lines} + {cap_lines} lines in {seconds} s:\n{log}");
    drop(idle);
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_of_scrapers_shares_one_rendering() {
    let mut collector = Deployment::new("renders", "", "");
    collector.start().await;
    let agent = collector.agent("longchuan");
    let sites = (0..500).map(|i| probe(&format!("站点{i:03}"), "单位", true, Timestamp::now())).collect();
    assert_eq!(agent.push(&agent.batch("龙川县", sites)).await.0, 200);
    for path in ["/metrics", "/", "/api/v1/status"] {
        let url = format!("{}{path}", collector.web);
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut requests = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (client, url) = (client.clone(), url.clone());
            requests.spawn(async move {
                let response = client.get(&url).send().await.unwrap();
                let at = response.headers()[xunjian_collector::web::RENDERING_HEADER].to_str().unwrap().to_string();
                assert!(!response.text().await.unwrap().is_empty());
                at
            });
        }
        let mut renderings = std::collections::BTreeSet::new();
        while let Some(at) = requests.join_next().await {
            renderings.insert(at.unwrap());
        }
        assert!(renderings.len() <= 2, "{path}: 20 concurrent requests made {} renderings", renderings.len());
    }
    collector.stop().await;
}
