//! The page corpus in `testdata/corpus/`: real-shaped government CMS pages and, in
//! `manifest.toml`, what reading each must yield (the ground truth the page was made from).

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The day the pages are read on.
    pub today: String,
    pub page: Vec<CorpusPage>,
    /// Service guide pages (办事指南).
    #[serde(default)]
    pub guide: Vec<CorpusGuide>,
    /// Policy lists and their interpretation lists (政策解读).
    #[serde(default)]
    pub interpretation: Vec<CorpusInterpretation>,
}

/// A policy list, its interpretation list, the document pages read for their links, and how
/// each judged document stands.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusInterpretation {
    pub layout: String,
    /// Documents whose titles exempt them.
    pub exempt: usize,
    #[serde(default)]
    pub note: String,
    pub policy: CorpusFile,
    pub interpretations: CorpusFile,
    #[serde(default)]
    pub detail: Vec<CorpusFile>,
    pub expect: Vec<CorpusPairing>,
}

/// A file of the corpus served at `url`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusFile {
    pub file: String,
    pub url: String,
    pub content_type: String,
    /// The column's name, for a list page.
    #[serde(default)]
    pub column: Option<String>,
}

impl CorpusFile {
    pub fn bytes(&self) -> Vec<u8> {
        let path = dir().join(&self.file);
        std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    }
}

/// One judged policy document: `interpreted` or `late` (`by`, `delay`), `missing` or `pending`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CorpusPairing {
    pub policy: String,
    pub standing: String,
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub delay: Option<i64>,
}

/// A service guide page and the element categories it shows without content.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusGuide {
    pub file: String,
    pub layout: String,
    pub url: String,
    pub content_type: String,
    /// The heading (or title) a person sees.
    pub title: String,
    /// Canonical category names, in the indicator's order.
    pub missing: Vec<String>,
    #[serde(default)]
    pub note: String,
}

impl CorpusGuide {
    pub fn bytes(&self) -> Vec<u8> {
        let path = dir().join(&self.file);
        std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusPage {
    pub file: String,
    /// The CMS family or layout the page stands for.
    pub layout: String,
    /// `column` or `home`.
    pub kind: String,
    /// Where the page lives (links resolve against it).
    pub url: String,
    pub column: Option<String>,
    /// The Content-Type header a server sends with it.
    pub content_type: String,
    /// Dated items of the column's own list (of all dated lists for a home page).
    pub items: usize,
    /// Newest publication date, ISO 8601; absent when there is none.
    pub newest: Option<String>,
    /// Items of the own list that carry no date.
    #[serde(default)]
    pub undated: usize,
    #[serde(default)]
    pub note: String,
}

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join("corpus")
}

pub fn load() -> Manifest {
    let path = dir().join("manifest.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    toml::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

impl CorpusPage {
    pub fn bytes(&self) -> Vec<u8> {
        let path = dir().join(&self.file);
        std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    }

    /// The path this page is served at by the simulator: the path of its URL.
    pub fn path(&self) -> String {
        url::Url::parse(&self.url).map(|url| url.path().to_string()).unwrap_or_else(|_| "/".into())
    }
}
