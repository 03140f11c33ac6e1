//! `xunjian-bench-report`: the quarterly 通报 for a province. A daily history of 10,000 sites
//! and accounts in 120 counties over a quarter (written by `xunjian_tests::history`) is reported
//! by the real `xunjian-collector report` in every format; prints each format's time, size and
//! the process's peak RSS against the target (< 10 s each).
//!
//! ```text
//! cargo run --release -p xunjian-tests --bin xunjian-bench-report [-- --subjects 10000 --days 92]
//! ```
#![forbid(unsafe_code)]

use std::process::Command;
use std::time::Instant;

use xunjian_tests::harness;
use xunjian_tests::history::{self, Shape};

/// The issue's target for each format, in seconds.
const TARGET_SECONDS: f64 = 10.0;

fn main() {
    let mut shape = Shape::province("2026-07-01".parse().expect("literal date"), 92);
    let mut keep = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => {
                shape.subjects = 600;
                shape.counties = 12;
                shape.days = 30;
            }
            "--subjects" => shape.subjects = args.next().and_then(|v| v.parse().ok()).unwrap_or(shape.subjects),
            // Keep the database and the reports (printed where) to look at them.
            "--keep" => keep = true,
            "--days" => shape.days = args.next().and_then(|v| v.parse().ok()).unwrap_or(shape.days),
            other => {
                eprintln!(
                    "unknown argument {other:?}; usage: xunjian-bench-report [--quick] [--subjects N] [--days N] [--keep]"
                );
                std::process::exit(2);
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("xunjian-bench-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let database = dir.join("collector.db");
    let started = Instant::now();
    let written = history::generate(&database, &shape, &|line| eprintln!("  {line}")).expect("write the history");
    let size = std::fs::metadata(&database).map(|m| m.len()).unwrap_or(0);
    println!(
        "history: {} subjects in {} counties, {} days: {} verdict rows, {} page rows, {} problems, {:.1} MB, written in {:.1} s",
        written.subjects,
        shape.counties + 1,
        shape.days,
        written.target_rows,
        written.page_rows,
        written.problems,
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let config = history::write_collector_config(&dir, &database, "某省人民政府办公厅").expect("config");
    let collector = harness::binary("xunjian-collector");
    let last = shape.from.checked_add(jiff::Span::new().days(i64::from(shape.days) - 1)).expect("date");
    let period = format!("{}..{last}", shape.from);
    let chromium = xunjian_collector::report::render::pdf::find_chromium().is_some();
    let mut missed = Vec::new();
    println!("{:<6} {:>9} {:>12} {:>12}   target < {TARGET_SECONDS} s", "format", "seconds", "bytes", "peak RSS MB");
    for format in ["md", "csv", "html", "xlsx", "docx", "pdf"] {
        if format == "pdf" && !chromium {
            println!("{format:<6} skipped: no Chromium (apt-get install chromium)");
            continue;
        }
        let out = dir.join(format!("report.{format}"));
        let started = Instant::now();
        let output = Command::new("/usr/bin/time")
            .arg("-f")
            .arg("%M")
            .arg(&collector)
            .args(["report", "--config"])
            .arg(&config)
            .args(["--period", &period, "--format", format, "--out"])
            .arg(&out)
            .output()
            .or_else(|_| {
                Command::new(&collector)
                    .args(["report", "--config"])
                    .arg(&config)
                    .args(["--period", &period, "--format", format, "--out"])
                    .arg(&out)
                    .output()
            })
            .expect("run xunjian-collector report");
        let seconds = started.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "report --format {format} failed: {stderr}");
        let rss_mb = stderr.lines().last().and_then(|l| l.trim().parse::<f64>().ok()).map(|kb| kb / 1024.0);
        let bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        let rss = rss_mb.map_or("—".to_string(), |mb| format!("{mb:.0}"));
        let verdict = if seconds < TARGET_SECONDS { "ok" } else { "MISSED" };
        println!("{format:<6} {seconds:>9.2} {bytes:>12} {rss:>12}   {verdict}");
        if seconds >= TARGET_SECONDS {
            missed.push(format);
        }
    }
    if keep {
        println!("kept: {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    if !missed.is_empty() {
        println!(
            "over {TARGET_SECONDS} s: {} (figures above; the closing note says what bounds them)",
            missed.join(", ")
        );
    }
}
