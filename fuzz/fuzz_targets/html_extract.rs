//! Any bytes as a page: charset detection, parsing, the column list, message boards, links.
#![no_main]

use xunjian_agent::extract::{html::Document, html_list, links, messages};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let today = jiff::civil::Date::constant(2026, 11, 26);
    let decoded = xunjian_agent::fetch::charset::decode(data, Some("text/html"));
    let document = Document::parse(&decoded.text);
    let url = url::Url::parse("http://www.example.gov.cn/col/").expect("literal URL");
    let _ = html_list::read_column(&document, &url, today, "栏目", None);
    let _ = messages::read_messages(&document, today, None);
    let _ = messages::read_detail(&document, today);
    let _ = links::page_links(&document, &url, 60);
});
