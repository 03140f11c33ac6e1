//! The next page of a paged list, the ways CMSs link it:
//! 1. a link named 下一页 (下页, 后页, `>`, `»`, `Next`), or whose class or title says next (not
//!    a carousel's button), on the page's own host;
//! 2. TRS's script pager, `createPageHTML(pages, current, "index", "html")` (pages `index.html`,
//!    `index_1.html` …), also with the pager's element id first, or its counts in variables
//!    (`var countPage = 6;`), past the function's own definition;
//! 3. a link to the same page with its page number one up: `?page=2`, `pageNo=`, `pageIndex=`,
//!    `currentPage=`, `curPage=`, or `list_2.html` after `list_1.html` (`list_1.html` after
//!    `list.html`, as TRS numbers `index_1.html` after `index.html`).
//!
//! A "next" link back to the page itself (the last page's) or to script is no next page. Pure.

use url::Url;

use super::html::{Document, NodeData};

/// Words of a link to the next page.
const NEXT_WORDS: &[&str] = &["下一页", "下页", "后一页", "后页", "下一頁", ">", ">>", "»", "›", "next", "next page"];
/// Query parameters that number pages.
const PAGE_PARAMS: &[&str] = &["page", "pageno", "pagenum", "pageindex", "currentpage", "curpage", "pn", "page_no"];

/// Classes of sliders and carousels, whose "next" buttons turn a picture, not a page.
const CAROUSEL_WORDS: &[&str] = &["swiper", "slide", "carousel", "banner", "focus"];

/// The page after `page_url`, when the page links one: on the same host, never itself.
pub fn next_page(document: &Document, page_url: &Url) -> Option<Url> {
    let usable = |url: &Url| {
        matches!(url.scheme(), "http" | "https") && url.host_str() == page_url.host_str() && !same_page(url, page_url)
    };
    let links: Vec<(String, Option<Url>, String)> = document
        .descendants(Document::ROOT)
        .filter_map(|node| {
            let element = document.element(node)?;
            if element.name != "a" {
                return None;
            }
            let href = element.attr("href").unwrap_or("").trim();
            let url =
                (!href.is_empty() && !href.starts_with('#') && !href.to_ascii_lowercase().starts_with("javascript:"))
                    .then(|| page_url.join(href).ok())
                    .flatten();
            let text = match &document.node(node).data {
                NodeData::Element(_) => document.text(node),
                _ => String::new(),
            };
            let hints = format!("{} {}", element.attr("class").unwrap_or(""), element.attr("title").unwrap_or(""));
            Some((text.trim().to_lowercase(), url, hints.to_lowercase()))
        })
        .collect();
    // 1. A link that says next.
    for (text, url, hints) in &links {
        let carousel = CAROUSEL_WORDS.iter().any(|word| hints.contains(word));
        let says_next = !carousel
            && (NEXT_WORDS.contains(&text.as_str())
                || (text.is_empty() && (hints.contains("next") || hints.contains("下一页"))));
        if let Some(url) = url.as_ref().filter(|_| says_next)
            && usable(url)
        {
            return Some(url.clone());
        }
    }
    // 2. TRS's script pager.
    if let Some(url) = script_pager(document, page_url).filter(usable) {
        return Some(url);
    }
    // 3. The same page numbered one up, when the page links it.
    let wanted = numbered_next(page_url);
    links
        .iter()
        .filter_map(|(_, url, _)| url.as_ref())
        .find(|url| usable(url) && wanted.iter().any(|next| same_page(url, next)))
        .cloned()
}

/// `createPageHTML(pages, current, "index", "html")` → `index_{current+1}.html`, when there is one.
/// Every call in every script is tried: a page may define the function before calling it, and
/// pass its counts in variables (`var countPage = 6; createPageHTML(countPage, …)`).
fn script_pager(document: &Document, page_url: &Url) -> Option<Url> {
    for node in document.descendants(Document::ROOT) {
        if !document.is_element(node, "script") {
            continue;
        }
        let text = document.raw_text(node);
        let mut from = 0;
        while let Some(at) = text[from..].find("createPageHTML(") {
            let start = from + at + "createPageHTML(".len();
            from = start;
            let Some(end) = text[start..].find(')') else { break };
            if let Some(url) = pager_call(&text, &text[start..start + end], page_url) {
                return Some(url);
            }
        }
    }
    None
}

/// The next page one `createPageHTML(…)` call's arguments name, when they are a call's (numbers
/// or variables holding numbers, and the file's stem and extension).
fn pager_call(script: &str, args: &str, page_url: &Url) -> Option<Url> {
    let mut numbers = Vec::new();
    let mut strings = Vec::new();
    for arg in args.split(',').map(str::trim) {
        let unquoted = arg.trim_matches(|c| c == '"' || c == '\'');
        if unquoted.len() != arg.len() {
            strings.push(unquoted.to_string());
        } else if let Ok(number) = arg.parse::<u32>() {
            numbers.push(number);
        } else if let Some(number) = variable(script, arg) {
            numbers.push(number);
        }
    }
    let (pages, current) = (*numbers.first()?, *numbers.get(1)?);
    let next = current.checked_add(1)?;
    if next >= pages {
        return None;
    }
    let ext = strings.iter().position(|s| matches!(s.as_str(), "html" | "shtml" | "htm" | "jsp"))?;
    let stem = strings.get(ext.checked_sub(1)?)?;
    page_url.join(&format!("{stem}_{next}.{}", strings[ext])).ok()
}

/// The number `var name = N;` (or `name = N`) gives in `script`.
fn variable(script: &str, name: &str) -> Option<u32> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let mut from = 0;
    while let Some(at) = script[from..].find(name) {
        let start = from + at;
        from = start + name.len();
        let before_ok = script[..start].chars().next_back().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        let Some(value) = script[from..].trim_start().strip_prefix('=') else { continue };
        if !before_ok || value.starts_with('=') {
            continue;
        }
        let digits: String = value.trim_start().chars().take_while(char::is_ascii_digit).collect();
        if let Ok(number) = digits.parse() {
            return Some(number);
        }
    }
    None
}

/// The URLs page `page_url`'s next page would have: its page parameter one up (2 when absent),
/// or its file's number one up (`list_2.html` after `list_1.html` or `list.html`).
fn numbered_next(page_url: &Url) -> Vec<Url> {
    let mut candidates = Vec::new();
    let pairs: Vec<(String, String)> = page_url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    for param in PAGE_PARAMS {
        let current =
            pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(param)).and_then(|(_, v)| v.parse::<u32>().ok());
        let Some(next) = current.map_or(Some(2), |n| n.checked_add(1)) else { continue };
        let mut url = page_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query.clear();
            let mut replaced = false;
            for (k, v) in &pairs {
                if k.eq_ignore_ascii_case(param) {
                    query.append_pair(k, &next.to_string());
                    replaced = true;
                } else {
                    query.append_pair(k, v);
                }
            }
            if !replaced {
                query.append_pair(param, &next.to_string());
            }
        }
        candidates.push(url);
    }
    let path = page_url.path();
    let file = path.rsplit('/').next().unwrap_or("");
    let (stem, ext) = match file.rsplit_once('.') {
        Some((stem, ext)) => (stem, format!(".{ext}")),
        None if file.is_empty() => ("index", ".html".to_string()),
        None => (file, String::new()),
    };
    let (base, number) = match stem.rsplit_once('_') {
        Some((base, n)) if n.parse::<u32>().is_ok() => (base, n.parse::<u32>().unwrap_or(0)),
        _ => (stem, 0),
    };
    if let Some(next) = number.checked_add(1)
        && let Ok(url) = page_url.join(&format!("{base}_{next}{ext}"))
    {
        candidates.push(url);
    }
    candidates
}

/// Whether the page shows a pager (next-page words, a script pager, a page count), followed or
/// not: a list without a next page the agent could follow is whole only when it shows none.
pub fn shows_pager(document: &Document) -> bool {
    const PAGER_WORDS: &[&str] = &["下一页", "下页", "尾页", "末页", "createPageHTML"];
    document.descendants(Document::ROOT).any(|node| {
        let text = match &document.node(node).data {
            NodeData::Text(text) => text.as_str(),
            _ => return false,
        };
        PAGER_WORDS.iter().any(|word| text.contains(word))
            || (text.chars().count() < 40 && text.contains('共') && text.contains('页'))
    })
}

/// The same page whatever the fragment.
fn same_page(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.path() == b.path() && a.query() == b.query()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(html: &str, at: &str) -> Option<String> {
        next_page(&Document::parse(html), &Url::parse(at).unwrap()).map(|u| u.to_string())
    }

    #[test]
    fn a_link_that_says_next() {
        let html = "<div class='page'><a href='?page=1'>首页</a><a href='?page=1'>上一页</a><a href='?page=3'>下一页</a><a href='?page=9'>尾页</a></div>";
        assert_eq!(
            next(html, "http://x.gov.cn/hdjl/lyb/list.jsp?page=2").as_deref(),
            Some("http://x.gov.cn/hdjl/lyb/list.jsp?page=3")
        );
        let last = "<a href='list.jsp?page=9'>下一页</a>";
        assert_eq!(next(last, "http://x.gov.cn/hdjl/lyb/list.jsp?page=9"), None, "the last page's next is itself");
        let script = "<a href='javascript:goPage(3)'>下一页</a>";
        assert_eq!(next(script, "http://x.gov.cn/lyb/"), None);
        let icon = "<a class='layui-laypage-next' href='/lyb/index_2.html'></a>";
        assert_eq!(next(icon, "http://x.gov.cn/lyb/index_1.html").as_deref(), Some("http://x.gov.cn/lyb/index_2.html"));
    }

    #[test]
    fn trs_script_pagers() {
        let page = "<div class='page'><script>createPageHTML(6, 0, \"index\", \"html\");</script></div>";
        assert_eq!(
            next(page, "http://x.gov.cn/hdjl/xzxx/index.html").as_deref(),
            Some("http://x.gov.cn/hdjl/xzxx/index_1.html")
        );
        let newer = "<script>createPageHTML('page_div',6, 2,'index','shtml',120);</script>";
        assert_eq!(
            next(newer, "http://x.gov.cn/hdjl/xzxx/index_2.shtml").as_deref(),
            Some("http://x.gov.cn/hdjl/xzxx/index_3.shtml")
        );
        let last = "<script>createPageHTML(3, 2, \"index\", \"html\");</script>";
        assert_eq!(next(last, "http://x.gov.cn/hdjl/xzxx/index_2.html"), None);
    }

    #[test]
    fn script_pagers_past_the_functions_definition_and_with_variables() {
        let page = "<script>function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){ if(_nPageCount==null||_nPageCount<=1){return;} }</script>\
                    <div class='page'><script>var countPage = 6; var currentPage = 1; createPageHTML(countPage, currentPage, \"index\", \"html\");</script></div>";
        assert_eq!(next(page, "http://x.gov.cn/lyb/index_1.html").as_deref(), Some("http://x.gov.cn/lyb/index_2.html"));
    }

    #[test]
    fn a_carousels_next_or_another_hosts_page_is_no_next_page() {
        let carousel = "<div class='swiper'><a class='swiper-button-next' href='/pic/2.html'></a></div>";
        assert_eq!(next(carousel, "http://x.gov.cn/lyb/"), None);
        let elsewhere = "<a href='http://169.254.169.254/latest/'>下一页</a>";
        assert_eq!(next(elsewhere, "http://x.gov.cn/lyb/"), None);
    }

    #[test]
    fn numbered_links_one_up() {
        let pager = "<div class='pages'><a href='list.asp?c=1&page=1'>1</a> <a href='list.asp?c=1&page=2'>2</a> <a href='list.asp?c=1&page=3'>3</a></div>";
        assert_eq!(next(pager, "http://x.gov.cn/list.asp?c=1").as_deref(), Some("http://x.gov.cn/list.asp?c=1&page=2"));
        assert_eq!(
            next(pager, "http://x.gov.cn/list.asp?c=1&page=2").as_deref(),
            Some("http://x.gov.cn/list.asp?c=1&page=3")
        );
        assert_eq!(next(pager, "http://x.gov.cn/list.asp?c=1&page=3"), None);
        let files = "<a href='list_1.html'>1</a><a href='list_2.html'>2</a>";
        assert_eq!(next(files, "http://x.gov.cn/lyb/list_1.html").as_deref(), Some("http://x.gov.cn/lyb/list_2.html"));
        assert_eq!(
            next("<a href='index_1.html'>2</a>", "http://x.gov.cn/lyb/").as_deref(),
            Some("http://x.gov.cn/lyb/index_1.html")
        );
        assert_eq!(next("<a href='/news/a_2.html'>某新闻</a>", "http://x.gov.cn/lyb/list.html"), None);
        let huge = "<a href='list.asp?page=4294967295'>末页</a><a href='list_4294967295.html'>末页</a>";
        assert_eq!(next(huge, "http://x.gov.cn/list.asp?page=4294967295"), None, "no overflow");
        assert_eq!(next(huge, "http://x.gov.cn/list_4294967295.html"), None);
        assert!(shows_pager(&Document::parse("<div>共3页 <a href='javascript:go(2)'>下一页</a></div>")));
        assert!(!shows_pager(&Document::parse("<ul><li><a href='/1.html'>甲</a></li></ul>")));
    }
}
