//! A home probe's whole cost, to profile: N home probes (availability, home update, home change,
//! channels, page integrity) of the benchmark's 30 KB page served on loopback, one after another:
//! `cargo build --release -p xunjian-tests --example probe_profile` then
//! `perf record -g target/release/examples/probe_profile [N]`. The server runs in this process;
//! its frames are the simulator's.

use std::sync::Arc;

use jiff::Timestamp;
use xunjian_agent::checks::{self, Ctx};
use xunjian_agent::fetch::Fetcher;
use xunjian_agent::schedule;
use xunjian_shared::config::{AgentConfig, Limits, Thresholds};
use xunjian_sim::Route;

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let probes: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(2000);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let sim = xunjian_sim::Sim::start().await.expect("simulator");
        sim.route("/bench/index.html", Route::html(xunjian_tests::bench_page::government_list_page(30_000)));
        let config = format!(
            "[agent]\nid = \"bench\"\ncounty = \"基准县\"\n[[site]]\nname = \"基准站\"\nunit = \"基准单位\"\nurl = \"{}\"\n",
            sim.url("/bench/index.html")
        );
        let config = AgentConfig::parse(&config, std::path::Path::new("bench.toml"), &Default::default()).expect("config");
        let fetcher = Arc::new(Fetcher::new(&Limits::default(), "xunjian-profile", &[]).expect("fetcher"));
        let subject = schedule::subjects(&config)
            .into_iter()
            .find(|subject| matches!(subject.role, checks::Role::Home { .. }))
            .expect("a home page");
        let wanted: Vec<_> = checks::all().into_iter().filter(|check| check.applies_to(&subject)).collect();
        let started = std::time::Instant::now();
        for _ in 0..probes {
            let ctx = Ctx::new(Timestamp::now(), Thresholds::default(), fetcher.clone());
            let observation = schedule::inspect(&wanted, &ctx, &subject).await.expect("an observation");
            assert_eq!(observation.fetch.as_ref().and_then(|f| f.status), Some(200));
        }
        println!("{probes} home probes in {:?}", started.elapsed());
    });
}
