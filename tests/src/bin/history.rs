//! `xunjian-history`: writes a collector database with a made-up daily history, and a
//! `collector.toml` naming it, so `xunjian-collector report` can be tried (and the pictures in
//! `docs/report-samples/` made) without waiting a quarter.
//!
//! ```text
//! cargo run -p xunjian-tests --bin xunjian-history -- --out DIR [--province] [--from 2026-04-01 --days 183]
//! xunjian-collector report --config DIR/collector.toml --period 2026Q3 --format docx --out 通报.docx
//! ```
//! The city (the default) is three counties and 市直 with the seed notice's three annex cases;
//! `--province` is 10,000 sites and accounts in 120 counties.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use xunjian_tests::history::{self, Shape};

fn main() {
    let mut out: Option<PathBuf> = None;
    let mut province = false;
    let mut from: jiff::civil::Date = "2026-04-01".parse().expect("literal date");
    let mut days = 183;
    let usage = "usage: xunjian-history --out DIR [--province] [--from 2026-04-01] [--days 183]";
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().map(PathBuf::from),
            "--province" => province = true,
            "--from" => match args.next().and_then(|v| v.parse().ok()) {
                Some(date) => from = date,
                None => fail(&format!("--from needs a date like 2026-04-01; {usage}")),
            },
            "--days" => match args.next().and_then(|v| v.parse().ok()) {
                Some(n) if n > 0 => days = n,
                _ => fail(&format!("--days needs a positive number; {usage}")),
            },
            other => fail(&format!("unknown argument {other:?}; {usage}")),
        }
    }
    let Some(out) = out else { fail(usage) };
    if let Err(error) = std::fs::create_dir_all(&out) {
        fail(&format!("cannot create {}: {error}", out.display()));
    }
    let shape = if province { Shape::province(from, days) } else { Shape::city(from, days) };
    let database = out.join("collector.db");
    let written = history::generate(&database, &shape, &|line| eprintln!("{line}"))
        .unwrap_or_else(|error| fail(&format!("writing {}: {error:#}", database.display())));
    let config = history::write_collector_config(&out, &database, "河源市人民政府办公室")
        .unwrap_or_else(|error| fail(&format!("writing the configuration: {error:#}")));
    println!(
        "wrote {} ({} sites and accounts, {} days from {from}, {} problems) and {}",
        database.display(),
        written.subjects,
        days,
        written.problems,
        config.display()
    );
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2);
}
