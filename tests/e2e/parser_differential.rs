//! The agent's own HTML parser against html5ever (through scraper), on every corpus page: the
//! same visible text, the same number of list items and the same link targets (`href`, where
//! character references in attributes follow their own rule). The own parser is kept for its dense
//! node ids, bounded depth and zero dependencies (ARCHITECTURE.md); this test is what says it
//! reads pages as a conforming parser does.

use scraper::{Html, Node};
use xunjian_agent::extract::html::{Document, HIDDEN, NodeData};
use xunjian_agent::fetch::charset;
use xunjian_tests::corpus;

/// Elements whose text a reader never sees. `noscript` is left out on both sides: html5ever
/// parses it as raw text (scripting on), the own parser as markup.
fn unseen(name: &str) -> bool {
    HIDDEN.contains(&name) || name == "noscript"
}

fn words(pieces: impl Iterator<Item = String>) -> String {
    pieces
        .flat_map(|piece| piece.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect::<Vec<_>>()
        .join(" ")
}

fn own(text: &str) -> (String, usize, Vec<String>) {
    let document = Document::parse(text);
    let mut pieces = Vec::new();
    let mut items = 0;
    let mut links = Vec::new();
    for node in document.descendants(Document::ROOT) {
        if let Some(href) = document.element(node).filter(|e| e.name == "a").and_then(|e| e.attr("href")) {
            links.push(href.to_string());
        }
        match &document.node(node).data {
            NodeData::Element(element) if element.name == "li" && !document.is_hidden(node) => items += 1,
            NodeData::Text(text)
                if !document.ancestors(node).any(|a| document.element(a).is_some_and(|e| unseen(&e.name))) =>
            {
                pieces.push(text.clone())
            }
            _ => {}
        }
    }
    (words(pieces.into_iter()), items, links)
}

fn reference(text: &str) -> (String, usize, Vec<String>) {
    let html = Html::parse_document(text);
    let mut pieces = Vec::new();
    let mut items = 0;
    let mut links = Vec::new();
    for node in html.tree.root().descendants() {
        if let Some(href) = node.value().as_element().filter(|e| e.name() == "a").and_then(|e| e.attr("href")) {
            links.push(href.to_string());
        }
        let hidden = || node.ancestors().any(|a| a.value().as_element().is_some_and(|e| unseen(e.name())));
        match node.value() {
            Node::Element(element) if element.name() == "li" && !hidden() => items += 1,
            Node::Text(text) if !hidden() => pieces.push(text.to_string()),
            _ => {}
        }
    }
    (words(pieces.into_iter()), items, links)
}

#[test]
fn own_parser_reads_the_corpus_as_html5ever_does() {
    let manifest = corpus::load();
    let mut differences = Vec::new();
    let (mut characters, mut list_items) = (0, 0);
    for page in &manifest.page {
        let decoded = charset::decode(&page.bytes(), Some(&page.content_type), true);
        let (own_text, own_items, own_links) = own(&decoded.text);
        let (reference_text, reference_items, reference_links) = reference(&decoded.text);
        if own_links != reference_links {
            let first = own_links.iter().zip(&reference_links).find(|(a, b)| a != b);
            differences.push(format!(
                "{}: {} links, html5ever {}; first difference {first:?}",
                page.file,
                own_links.len(),
                reference_links.len()
            ));
        }
        characters += reference_text.chars().count();
        list_items += reference_items;
        if own_items != reference_items {
            differences.push(format!("{}: {own_items} list items, html5ever {reference_items}", page.file));
        }
        if own_text != reference_text {
            let at = own_text.chars().zip(reference_text.chars()).take_while(|(a, b)| a == b).count();
            let around = |text: &str| text.chars().skip(at.saturating_sub(20)).take(60).collect::<String>();
            differences.push(format!(
                "{}: visible text differs at character {at}:\n  own      …{}…\n  html5ever …{}…",
                page.file,
                around(&own_text),
                around(&reference_text)
            ));
        }
    }
    assert!(
        manifest.page.len() >= 20 && characters > 10_000 && list_items > 300,
        "{characters} characters, {list_items} items: the corpus is the test's input"
    );
    println!(
        "{} pages, {characters} visible characters, {list_items} list items: the same in both parsers",
        manifest.page.len()
    );
    assert!(differences.is_empty(), "{} differences:\n{}", differences.len(), differences.join("\n"));
}
