//! Where a home probe's extraction time goes, step by step, on the benchmark's 30 KB page:
//! `cargo run --release -p xunjian-tests --example extract_profile [-- STEP]` (one step alone,
//! e.g. under `perf stat -e instructions:u`, whose counts do not wander with the machine's load).

use std::time::Instant;

fn main() {
    let page = xunjian_tests::bench_page::government_list_page(30_000);
    let url = url::Url::parse("http://x.gov.cn/zwgk/gzdt/").unwrap();
    let today = jiff::civil::Date::constant(2026, 11, 26);
    let rounds = 2000;
    let only = std::env::args().nth(1);
    let time = |name: &str, f: &mut dyn FnMut() -> usize| {
        if only.as_deref().is_some_and(|only| only != name) {
            return;
        }
        let started = Instant::now();
        let mut n = 0;
        for _ in 0..rounds {
            n += f();
        }
        println!("{name:<28} {:>8.1} µs  ({n})", started.elapsed().as_secs_f64() * 1e6 / rounds as f64);
    };
    let bytes = page.as_bytes().to_vec();
    let document = xunjian_agent::extract::html::Document::parse(&page);
    time("decode", &mut || xunjian_agent::fetch::charset::decode(&bytes, Some("text/html"), true).text.len());
    time("parse", &mut || xunjian_agent::extract::html::Document::parse(&page).len());
    time("read_home", &mut || xunjian_agent::extract::html_list::read_home(&document, &url, today).items.len());
    time("read_column", &mut || {
        xunjian_agent::extract::html_list::read_column(&document, &url, today, "工作动态", None).items.len()
    });
    time("page_links", &mut || xunjian_agent::extract::links::page_links(&document, &url, 2000).len());
    time("fingerprint", &mut || xunjian_agent::extract::page_text::fingerprint(&document).1.len());
    time("account_refs", &mut || xunjian_agent::extract::account_refs::account_refs(&document, &url).len());
    let terms = xunjian_agent::extract::hidden_links::SensitiveTerms::shipped();
    time("hidden_links", &mut || xunjian_agent::extract::hidden_links::hidden_links(&document, &url, &terms).len());
}
