//! An agent whose collector is down keeps its batches and delivers them, each once, when the
//! collector comes up.

use std::sync::Arc;
use std::time::Duration;

use xunjian_agent::fetch::Fetcher;
use xunjian_agent::push::Pusher;
use xunjian_collector::server::{self, Settings};
use xunjian_collector::tls::EphemeralPki;
use xunjian_shared::config::AgentConfig;
use xunjian_sim::{Route, Sim};
use xunjian_tests::harness::{collector_settings, temp_dir};
use xunjian_tests::measure::free_port;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_wait_for_a_collector_that_is_down_and_arrive_once() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = temp_dir("retry");
    let pki = EphemeralPki::new().unwrap();
    let (cert, key) = pki.agent("retry").unwrap();
    std::fs::write(dir.join("ca.pem"), &pki.ca_pem).unwrap();
    std::fs::write(dir.join("retry.pem"), cert).unwrap();
    std::fs::write(dir.join("retry-key.pem"), key).unwrap();
    let sim = Sim::start().await.unwrap();
    // Every request for "/" is a probe with its observation: no second request as a crawler.
    sim.route("/", Route::html("<ul><li><a href='/a/1.html'>县政府召开常务会议</a><span>2026-11-20</span></li><li><a href='/a/2.html'>县领导调研</a><span>2026-11-19</span></li></ul>"));
    let push_port = free_port();
    let config_path = dir.join("agent.toml");
    std::fs::write(
        &config_path,
        format!(
            "[agent]\nid = \"retry\"\ncounty = \"测试县\"\n[probe]\ninterval = \"1s\"\ntimeout = \"2s\"\n[security]\ncloaking = false\n[collector]\nurl = \"https://127.0.0.1:{push_port}/\"\nca = \"ca.pem\"\ncert = \"retry.pem\"\nkey = \"retry-key.pem\"\n[[site]]\nname = \"重试站\"\nunit = \"测试单位\"\nurl = \"{}\"\n",
            sim.url("/")
        ),
    )
    .unwrap();
    let config = AgentConfig::load(&config_path, &Default::default()).unwrap();
    let pusher = Pusher::new(config.collector.as_ref().unwrap()).unwrap();
    let fetcher = Arc::new(Fetcher::new(&config.limits, &config.user_agent, &[]).unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let shared =
        xunjian_agent::schedule::Shared::new(&config, fetcher, xunjian_agent::schedule::Dictionaries::shipped());
    let agent = tokio::spawn(xunjian_agent::run::run(config, shared, pusher, stopped));

    // The collector is down for the agent's first seconds: probes go on, pushes fail and back off.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(sim.hits("/") >= 2, "the agent kept probing while the collector was down");
    let running = server::start(Settings {
        push_listen: format!("127.0.0.1:{push_port}").parse().unwrap(),
        push_max_body_bytes: 1 << 20,
        ..collector_settings(&dir, &pki)
    })
    .await
    .unwrap();
    let probes_before_collector = sim.hits("/");
    let delivered = |running: &server::Running| {
        let snapshot = running.store.snapshot();
        snapshot.subjects().values().map(|s| s.probes_ok + s.probes_failed).sum::<u64>()
    };
    xunjian_tests::harness::wait_until(Duration::from_secs(30), "the queued observations at the collector", || async {
        (delivered(&running) >= probes_before_collector as u64).then_some(())
    })
    .await;
    let _ = stop.send(true);
    let summary = agent.await.unwrap().unwrap();
    assert_eq!((summary.batches_spooled, summary.batches_lost), (0, 0));
    assert_eq!(summary.batches_refused, 0);
    assert_eq!(
        delivered(&running),
        summary.observations_acked,
        "every observation the agent made, including those made while the collector was down, arrived exactly once"
    );
    assert_eq!(summary.observations_acked, sim.hits("/") as u64, "one observation per probe of the page");
    running.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
