//! Every corpus page, read the way the agent reads a fetched page (bytes → charset → tree →
//! list), must yield the manifest's newest date and item count.

use url::Url;
use xunjian_agent::extract::html::Document;
use xunjian_agent::extract::html_list::{read_column, read_home};
use xunjian_agent::fetch::charset;
use xunjian_tests::corpus;

#[test]
fn corpus_pages_read_as_expected() {
    let manifest = corpus::load();
    let today: jiff::civil::Date = manifest.today.parse().unwrap();
    let mut failures = Vec::new();
    let mut layouts = std::collections::BTreeSet::new();
    for page in &manifest.page {
        layouts.insert(page.layout.clone());
        let decoded = charset::decode(&page.bytes(), Some(&page.content_type));
        let document = Document::parse(&decoded.text);
        let url = Url::parse(&page.url).unwrap();
        let reading = match page.kind.as_str() {
            "home" => read_home(&document, &url, today),
            _ => read_column(&document, &url, today, page.column.as_deref().unwrap_or(""), None),
        };
        let newest = reading.newest().map(|p| p.to_string());
        let undated = reading.items.len() - reading.dated_items();
        let got = (reading.dated_items(), newest.clone(), undated);
        let expected = (page.items, page.newest.clone(), page.undated);
        let status = if got == expected { "ok" } else { "MISMATCH" };
        println!(
            "{status:8} {:34} {:16} items {:>2}/{:>2} undated {}/{} newest {:?}/{:?} [{:?}, {}]",
            page.file,
            page.layout,
            got.0,
            expected.0,
            got.2,
            expected.2,
            got.1,
            expected.1,
            reading.method,
            decoded.encoding
        );
        if got != expected {
            failures.push(page.file.clone());
        }
    }
    println!("corpus: {} pages, {} layouts", manifest.page.len(), layouts.len());
    assert!(failures.is_empty(), "pages read wrongly: {failures:?}");
}

/// Every guide page, read the way the agent reads one (bytes → charset → tree → categories),
/// must miss exactly the manifest's categories.
#[test]
fn corpus_guides_read_as_expected() {
    use xunjian_agent::extract::guide::{Categories, read_guide};
    let manifest = corpus::load();
    let categories = Categories::default();
    let mut failures = Vec::new();
    let layouts: std::collections::BTreeSet<&str> = manifest.guide.iter().map(|g| g.layout.as_str()).collect();
    for guide in &manifest.guide {
        let decoded = charset::decode(&guide.bytes(), Some(&guide.content_type));
        let reading = read_guide(&Document::parse(&decoded.text), &categories);
        let ok = reading.missing == guide.missing && reading.title.as_deref() == Some(guide.title.as_str());
        println!(
            "{:8} {:34} {:28} missing {:?} (expected {:?}) title {:?} [{}]",
            if ok { "ok" } else { "MISMATCH" },
            guide.file,
            guide.layout,
            reading.missing,
            guide.missing,
            reading.title,
            decoded.encoding
        );
        if !ok {
            failures.push(guide.file.clone());
        }
    }
    println!("guides: {} pages, {} layouts", manifest.guide.len(), layouts.len());
    assert!(layouts.len() >= 6, "guides in at least six layouts");
    assert!(failures.is_empty(), "guides read wrongly: {failures:?}");
}
