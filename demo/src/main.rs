//! `xunjian-demo [--listen ADDR]`: a small province on loopback; see the crate's library.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;

/// Run a small province on loopback: simulated county sites, a collector and one agent per county.
#[derive(Parser)]
#[command(name = "xunjian-demo", version)]
struct Args {
    /// Address of the web listener (status page, /metrics).
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: SocketAddr,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    xunjian_shared::logging::init(false, "info");
    match xunjian_demo::run(args.listen) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("错误：{error:#}");
            ExitCode::FAILURE
        }
    }
}
