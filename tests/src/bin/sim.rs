//! `xunjian-sim`: serves the test corpus on loopback and writes an agent configuration for it,
//! so `xunjian-agent check` can be tried without touching a real government site.
//!
//! ```text
//! xunjian-sim [--listen 127.0.0.1:8080] [--write-config corpus-agent.toml] [--bench-page BYTES]
//! ```
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use xunjian_sim::{Route, Sim};
use xunjian_tests::corpus;
use xunjian_tests::harness::{corpus_config, serve_corpus};

fn main() -> ExitCode {
    let mut listen: SocketAddr = "127.0.0.1:8080".parse().expect("literal address");
    let mut config_out: Option<PathBuf> = Some(PathBuf::from("corpus-agent.toml"));
    let mut bench_page_bytes: Option<usize> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--listen", Some(value)) => match value.parse() {
                Ok(addr) => listen = addr,
                Err(_) => return usage(&format!("--listen expects ADDRESS:PORT, got {value:?}")),
            },
            ("--write-config", Some(value)) => config_out = (value != "-").then(|| PathBuf::from(value)),
            ("--bench-page", Some(value)) => match value.parse() {
                Ok(bytes) => bench_page_bytes = Some(bytes),
                Err(_) => return usage(&format!("--bench-page expects a size in bytes, got {value:?}")),
            },
            (other, _) => return usage(&format!("unknown argument {other:?}")),
        }
    }
    if !listen.ip().is_loopback() {
        return usage("the simulator serves loopback addresses only (127.0.0.1 or ::1)");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let sim = match Sim::start_on(listen, None).await {
            Ok(sim) => sim,
            Err(err) => {
                eprintln!("error: cannot listen on {listen}: {err}; pick another port with --listen 127.0.0.1:PORT");
                return ExitCode::FAILURE;
            }
        };
        let manifest = corpus::load();
        serve_corpus(&sim, &manifest);
        if let Some(bytes) = bench_page_bytes {
            let page = xunjian_tests::bench_page::government_list_page(bytes);
            sim.route("/bench/keepalive/index.html", Route::html(page.clone()));
            sim.route("/bench/close/index.html", Route::html(page).closing());
        }
        let config = corpus_config(&sim, &manifest, "corpus", "演示县");
        match &config_out {
            Some(path) => match std::fs::write(path, &config) {
                Ok(()) => println!("wrote {} ({} pages)", path.display(), manifest.page.len()),
                Err(err) => {
                    eprintln!("error: cannot write {}: {err}", path.display());
                    return ExitCode::FAILURE;
                }
            },
            None => print!("{config}"),
        }
        println!("serving the corpus at http://{}/  (Ctrl-C to stop)", sim.addr);
        if let Some(path) = &config_out {
            println!("try:  cargo run -p xunjian-agent -- check --config {}", path.display());
        }
        let _ = tokio::signal::ctrl_c().await;
        ExitCode::SUCCESS
    })
}

fn usage(problem: &str) -> ExitCode {
    eprintln!(
        "error: {problem}\nusage: xunjian-sim [--listen 127.0.0.1:8080] [--write-config FILE|-] [--bench-page BYTES]"
    );
    ExitCode::from(2)
}
