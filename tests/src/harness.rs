//! Running the real binaries against the simulator: building them, serving the corpus and
//! writing the configuration a county would write for it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::corpus::{CorpusPage, Manifest};
use xunjian_sim::{Route, Sim};

/// The workspace's `target/<profile>` directory, found from this test binary's location.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/e2e-… or target/<profile>/xunjian-bench
    let mut dir = exe.parent().expect("binary directory").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// Path to a workspace binary, built (once per test process) if needed. Cargo only builds a
/// package's own binaries for its tests; these tests run other packages' binaries.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let dir = target_dir();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let release = dir.ends_with("release");
        let mut command = Command::new(cargo);
        command.args(["build", "--quiet", "--bins", "--workspace"]);
        if release {
            command.arg("--release");
        }
        let status = command.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("..")).status();
        assert!(status.is_ok_and(|s| s.success()), "cargo build of the workspace binaries failed");
    });
    dir.join(name)
}

/// The simulator path a corpus page is served at: its URL's path (and query) under the page's
/// file stem, so pages from different sites share one port without clashing.
pub fn corpus_path(page: &CorpusPage) -> String {
    let url = url::Url::parse(&page.url).expect("manifest URL");
    let stem = page.file.trim_end_matches(".html");
    match url.query() {
        Some(query) => format!("/{stem}{}?{query}", url.path()),
        None => format!("/{stem}{}", url.path()),
    }
}

/// Routes every corpus page on `sim`, with the Content-Type its manifest names.
pub fn serve_corpus(sim: &Sim, manifest: &Manifest) {
    for page in &manifest.page {
        sim.route(&corpus_path(page), Route::bytes(&page.content_type, page.bytes()));
    }
}

/// An agent configuration inspecting the corpus on `sim`: one site per home page, every
/// column page under the first.
pub fn corpus_config(sim: &Sim, manifest: &Manifest, agent_id: &str, county: &str) -> String {
    let homes: Vec<&CorpusPage> = manifest.page.iter().filter(|p| p.kind == "home").collect();
    let columns: Vec<&CorpusPage> = manifest.page.iter().filter(|p| p.kind == "column").collect();
    let mut toml = format!(
        "[agent]\nid = \"{agent_id}\"\ncounty = \"{county}\"\n\n[probe]\ninterval = \"5m\"\ntimeout = \"10s\"\n"
    );
    let names = ["龙川县人民政府门户网站", "连平县教育局网站", "和平县人民政府网", "紫金县人民政府网"];
    for (index, home) in homes.iter().enumerate() {
        let name = names.get(index).copied().unwrap_or("某县人民政府网站");
        toml.push_str(&format!(
            "\n[[site]]\nname = \"{name}\"\nunit = \"{}办公室\"\nurl = \"{}\"\n",
            name.trim_end_matches("网站").trim_end_matches("门户").trim_end_matches('网'),
            sim.url(&corpus_path(home))
        ));
        if index == 0 {
            for column in &columns {
                toml.push_str(&format!(
                    "\n[[site.column]]\nname = \"{}\"\nurl = \"{}\"\n",
                    column_label(column),
                    sim.url(&corpus_path(column))
                ));
            }
        }
    }
    toml
}

/// Column names must be unique within a site; corpus pages reuse real names, so the layout
/// disambiguates.
pub fn column_label(page: &CorpusPage) -> String {
    format!("{}（{}）", page.column.as_deref().unwrap_or("栏目"), page.file.trim_end_matches(".html"))
}
