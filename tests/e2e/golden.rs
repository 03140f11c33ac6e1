//! Golden files for what `check` renders over the corpus: the zh-CN table and the JSON
//! document. Ports and durations are masked. Regenerate with `XUNJIAN_UPDATE_GOLDEN=1`.

use std::path::PathBuf;

use xunjian_sim::Sim;
use xunjian_tests::corpus;
use xunjian_tests::harness::{self, corpus_config, serve_corpus};

const NOW: &str = "2026-11-26T04:00:00Z";

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata").join("golden")
}

/// Compares `actual` with the golden file, or rewrites it when asked to.
fn assert_golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("XUNJIAN_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err}; run with XUNJIAN_UPDATE_GOLDEN=1 to create it", path.display()));
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (e, a))| e != a)
            .take(10)
            .map(|(n, (e, a))| format!("line {}:\n  - {e}\n  + {a}", n + 1))
            .collect();
        panic!(
            "{} differs from the golden file ({} vs {} lines):\n{}\nrun with XUNJIAN_UPDATE_GOLDEN=1 to accept",
            name,
            expected.lines().count(),
            actual.lines().count(),
            diff.join("\n")
        );
    }
}

/// Masks what differs run to run: the simulator's port and fetch durations.
fn mask(text: &str, port: u16) -> String {
    let text = text.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:PORT");
    text.lines()
        .map(|line| match line.find("\"duration_ms\": ") {
            Some(at) => format!("{}\"duration_ms\": 0{}", &line[..at], if line.ends_with(',') { "," } else { "" }),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_output_matches_golden_files() {
    let manifest = corpus::load();
    let sim = Sim::start().await.unwrap();
    serve_corpus(&sim, &manifest);
    let dir = std::env::temp_dir().join(format!("xunjian-golden-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config_path = dir.join("agent.toml");
    std::fs::write(&config_path, corpus_config(&sim, &manifest, "corpus", "龙川县")).unwrap();
    for (args, golden) in [(vec!["check"], "check.txt"), (vec!["check", "--json"], "check.json")] {
        let output = tokio::process::Command::new(harness::binary("xunjian-agent"))
            .args(&args)
            .args(["--now", NOW, "--config"])
            .arg(&config_path)
            .output()
            .await
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert_golden(golden, &mask(&String::from_utf8_lossy(&output.stdout), sim.addr.port()));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
