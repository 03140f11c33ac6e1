//! The links of a page worth checking: visible `<a href>` to http(s) pages, resolved, without
//! fragments, each once, in page order.

use url::Url;

use super::html::{Document, NodeData};

/// A link and the text people click.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub url: Url,
    pub text: String,
}

/// A link as a page wrote it, resolved against the page's URL: an http(s) page, without its
/// fragment or a Java server's session id (`;jsessionid=…`, new for every cookie-less visit, so
/// that a page is the same page from one round to the next); None for script, mail and other
/// schemes.
pub fn resolve(page_url: &Url, href: &str) -> Option<Url> {
    let mut url = page_url.join(href.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_fragment(None);
    let path = url.path();
    if let Some(at) = path.to_ascii_lowercase().find(";jsessionid=") {
        let rest = &path[at + 1..];
        let end = rest.find('/').map_or(path.len(), |slash| at + 1 + slash);
        let cleaned = format!("{}{}", &path[..at], &path[end..]);
        url.set_path(&cleaned);
    }
    Some(url)
}

/// Whether an `href` (trimmed) may lead to another page: not empty, not an anchor on this one,
/// not script, mail, a phone number or inline data.
pub fn leads_to_page(href: &str) -> bool {
    let scheme = href.get(..11).unwrap_or(href).to_ascii_lowercase();
    !href.is_empty()
        && !href.starts_with('#')
        && !["javascript:", "mailto:", "tel:", "data:"].iter().any(|prefix| scheme.starts_with(prefix))
}

/// Up to `max` links of `document` (at `page_url`), in the order they appear.
pub fn page_links(document: &Document, page_url: &Url, max: usize) -> Vec<Link> {
    let mut links: Vec<Link> = Vec::new();
    // Each address once, found in a set: a page of thousands of links is not compared pairwise.
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for node in document.descendants(Document::ROOT) {
        if links.len() >= max {
            break;
        }
        let Some(element) = document.element(node) else { continue };
        if element.name != "a" || document.is_hidden(node) {
            continue;
        }
        let Some(href) = element.attr("href").map(str::trim).filter(|href| leads_to_page(href)) else { continue };
        let Ok(mut url) = page_url.join(href) else { continue };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        url.set_fragment(None);
        if url == *page_url || !seen.insert(url.as_str().to_string()) {
            continue;
        }
        let text = match &document.node(node).data {
            NodeData::Element(_) => {
                let text = document.text(node);
                if text.is_empty() { element.attr("title").unwrap_or("").to_string() } else { text }
            }
            _ => String::new(),
        };
        links.push(Link { url, text: text.chars().take(60).collect() });
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_id_is_no_part_of_a_page() {
        let page = Url::parse("http://x.gov.cn/hdjl/list.jsp").unwrap();
        let url = resolve(&page, "detail.jsp;jsessionid=A1B2C3?id=7#top").unwrap();
        assert_eq!(url.as_str(), "http://x.gov.cn/hdjl/detail.jsp?id=7");
        assert_eq!(resolve(&page, "javascript:void(0)"), None);
    }

    #[test]
    fn links_once_each_in_order() {
        let html = "<a href='/a'>甲</a><a href='/a#top'>甲again</a><a href='javascript:void(0)'>x</a><a href='mailto:a@b'>m</a>\
                    <a href='http://other.gov.cn/b' title='乙'></a><a href='#'>top</a><script>var a='<a href=/hidden>'</script><a href='/c'>丙</a>";
        let page = Url::parse("http://www.x.gov.cn/").unwrap();
        let links = page_links(&Document::parse(html), &page, 10);
        let got: Vec<(&str, &str)> = links.iter().map(|l| (l.url.as_str(), l.text.as_str())).collect();
        assert_eq!(
            got,
            [("http://www.x.gov.cn/a", "甲"), ("http://other.gov.cn/b", "乙"), ("http://www.x.gov.cn/c", "丙")]
        );
        assert_eq!(page_links(&Document::parse(html), &page, 2).len(), 2);
    }
}
