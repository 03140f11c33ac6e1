fn main() {
    let page = xunjian_tests::bench_page::government_list_page(30_000);
    let url = url::Url::parse("http://x.gov.cn/zwgk/gzdt/").unwrap();
    let today = jiff::civil::Date::constant(2026, 11, 26);
    let mut n = 0;
    for _ in 0..300 {
        let document = xunjian_agent::extract::html::Document::parse(&page);
        n += xunjian_agent::extract::html_list::read_home(&document, &url, today).items.len();
        n += xunjian_agent::extract::html_list::read_column(&document, &url, today, "工作动态", None).items.len();
    }
    println!("{n}");
}
