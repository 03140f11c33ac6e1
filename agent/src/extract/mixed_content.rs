//! Mixed content: an HTTPS page that loads scripts, style sheets or frames over plain HTTP.
//! Browsers block them (the page then misses its menus, styles or embedded services), and
//! whoever sits on the path can change them. Images and media, which browsers upgrade or show
//! with a warning, are not counted. Pure: a parsed page in, the insecure resources out.

use url::Url;

use super::html::Document;

/// Resources reported per page, at most.
const MAX_REPORTED: usize = 20;

/// The resources `document` (at `page_url`) loads over plain HTTP although it is served over
/// HTTPS, in page order, each once; empty for a page served over HTTP.
pub fn insecure_resources(document: &Document, page_url: &Url) -> Vec<Url> {
    if page_url.scheme() != "https" || upgrades_requests(document) {
        return Vec::new();
    }
    let mut found: Vec<Url> = Vec::new();
    for node in 0..document.len() {
        let Some(element) = document.element(node) else { continue };
        let reference = match element.name.as_str() {
            "script" | "iframe" | "frame" | "embed" => element.attr("src"),
            "object" => element.attr("data"),
            "link" => {
                let rel = element.attr("rel").unwrap_or("").to_ascii_lowercase();
                rel.split_ascii_whitespace().any(|kind| kind == "stylesheet").then(|| element.attr("href")).flatten()
            }
            _ => None,
        };
        let Some(url) = reference.and_then(|reference| super::links::resolve(page_url, reference)) else { continue };
        if url.scheme() == "http" && !found.contains(&url) {
            found.push(url);
            if found.len() >= MAX_REPORTED {
                break;
            }
        }
    }
    found
}

/// Whether the page asks browsers to load its plain-HTTP resources over HTTPS
/// (`Content-Security-Policy: upgrade-insecure-requests`, the usual fix after a move to HTTPS).
fn upgrades_requests(document: &Document) -> bool {
    (0..document.len()).filter_map(|node| document.element(node)).any(|element| {
        element.name == "meta"
            && element
                .attr("http-equiv")
                .is_some_and(|name| name.trim().eq_ignore_ascii_case("content-security-policy"))
            && element
                .attr("content")
                .is_some_and(|policy| policy.to_ascii_lowercase().contains("upgrade-insecure-requests"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scripts_styles_and_frames_on_an_https_page_are_found() {
        let html = r#"<link rel="stylesheet" href="http://cdn.example/site.css"><link rel="icon" href="http://x/favicon.ico">
            <script src="HTTP://www.longchuan.gov.cn/js/menu.js"></script><script src="//cdn.example/ok.js"></script>
            <script src="/js/local.js"></script><img src="http://x/banner.jpg"><iframe src="http://map.example/embed"></iframe>
            <script src="http://cdn.example/site.css"></script>"#;
        let document = Document::parse(html);
        let https = Url::parse("https://www.longchuan.gov.cn/").unwrap();
        let found: Vec<String> = insecure_resources(&document, &https).iter().map(Url::to_string).collect();
        assert_eq!(
            found,
            ["http://cdn.example/site.css", "http://www.longchuan.gov.cn/js/menu.js", "http://map.example/embed"]
        );
        let http = Url::parse("http://www.longchuan.gov.cn/").unwrap();
        assert!(insecure_resources(&document, &http).is_empty(), "a page over HTTP mixes nothing");
        let upgraded =
            format!("<meta http-equiv=\"Content-Security-Policy\" content=\"upgrade-insecure-requests\">{html}");
        assert!(insecure_resources(&Document::parse(&upgraded), &https).is_empty(), "browsers load them over HTTPS");
    }
}
