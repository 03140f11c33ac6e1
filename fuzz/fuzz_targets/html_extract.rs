//! Any bytes as a page: charset detection, parsing, the column list, message boards, links,
//! pagers, service guides, the links between policies and interpretations, and the security
//! readers (hidden links, injected content, redirecting scripts, mixed content, fingerprints),
//! and the new-media accounts a page points to.
#![no_main]

use xunjian_agent::extract::hidden_links::{SensitiveTerms, hidden_links};
use xunjian_agent::extract::{
    account_refs, guide, html::Document, html_list, interpretation, links, messages, mixed_content, page_text,
    pagination,
};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let today = jiff::civil::Date::constant(2026, 11, 26);
    let decoded = xunjian_agent::fetch::charset::decode(data, Some("text/html"), true);
    let document = Document::parse(&decoded.text);
    let url = url::Url::parse("https://www.example.gov.cn/col/").expect("literal URL");
    let reading = html_list::read_column(&document, &url, today, "栏目", None);
    let _ = messages::read_messages(&document, today, None);
    let _ = messages::read_detail(&document, today);
    let found = links::page_links(&document, &url, 60);
    let _ = pagination::next_page(&document, &url);
    let _ = pagination::shows_pager(&document);
    let _ = guide::read_guide(&document, &guide::Categories::default());
    let item_links: Vec<url::Url> = found.iter().take(20).map(|link| link.url.clone()).collect();
    let _ = interpretation::row_interpretation_links(&document, &url, &item_links);
    let counterparts: Vec<(&url::Url, &str)> = item_links.iter().map(|link| (link, "关于印发实施方案的通知")).collect();
    let _ = interpretation::counterpart_links(&found, &counterparts);
    let terms = SensitiveTerms::shipped();
    let _ = hidden_links(&document, &url, &terms);
    let text = page_text::page_text(&document);
    let _ = page_text::sensitive_content(&document, &url, &text, &terms);
    let _ = page_text::search_redirect_scripts(&document, &url);
    let (print, blocks) = page_text::fingerprint(&document);
    let _ = print.kept_in(&blocks);
    let _ = mixed_content::insecure_resources(&document, &url);
    let _ = account_refs::account_refs(&document, &url);
    let _ = reading;
});
