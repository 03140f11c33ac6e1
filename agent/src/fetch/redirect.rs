//! Redirects a browser would follow that HTTP does not announce.
//!
//! Many county portals answer `/` with a stub page that sends the browser on:
//! `<meta http-equiv="refresh" content="0;url=/index.html">` or
//! `<script>window.location.href="/sy/index.shtml"</script>`. Reading the stub as the home page
//! would find no items and call a live site stale, so stubs are followed like 3xx redirects
//! (and count toward the same limit).

/// A stub is small: a real home page with a refresh tag is a page that reloads itself.
const MAX_STUB_BYTES: usize = 4096;
/// Refreshes later than this are "reload every few minutes", not redirects.
const MAX_REFRESH_DELAY_SECS: f64 = 10.0;

/// The target of a meta refresh or script redirect in a stub page, unresolved.
pub fn soft_redirect(body: &str) -> Option<String> {
    if body.len() > MAX_STUB_BYTES {
        return None;
    }
    meta_refresh(body).or_else(|| script_location(body))
}

/// Whether a stub's script redirect depends on the visitor arriving from a search engine or
/// being a crawler: a hijack's, not where a browser typing the address goes.
fn for_search_visitors(body: &str) -> bool {
    let compact: String = body.to_ascii_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
    crate::extract::page_text::looks_for_search_engines(&compact)
}

fn meta_refresh(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let mut from = 0;
    while let Some(offset) = lower[from..].find("<meta") {
        let start = from + offset;
        let end = lower[start..].find('>').map(|i| start + i).unwrap_or(lower.len());
        let tag = &lower[start..end];
        from = end;
        if !tag.contains("refresh") {
            continue;
        }
        let content_at = tag.find("content")?;
        let after = &body[start + content_at + 7..end];
        let value = after.trim_start().strip_prefix('=')?.trim_start();
        let value = match value.chars().next() {
            Some(quote @ ('"' | '\'')) => value[1..].split(quote).next().unwrap_or(""),
            _ => value.split_whitespace().next().unwrap_or(""),
        };
        let (delay, rest) = value.split_once([';', ',']).unwrap_or((value, ""));
        if delay.trim().parse::<f64>().map_or(true, |secs| secs > MAX_REFRESH_DELAY_SECS) {
            return None;
        }
        let rest = rest.trim();
        let url = match rest.get(..4) {
            Some(prefix) if prefix.eq_ignore_ascii_case("url=") => &rest[4..],
            _ => rest,
        };
        let url = url.trim().trim_matches(['"', '\'']);
        return (!url.is_empty()).then(|| url.to_string());
    }
    None
}

/// `location.href = "…"`, `window.location = '…'`, `location.replace("…")`, `top.location.href=…`.
fn script_location(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    if !lower.contains("<script") || for_search_visitors(body) {
        return None;
    }
    let mut from = 0;
    while let Some(offset) = lower[from..].find("location") {
        let at = from + offset + "location".len();
        from = at;
        let mut rest = &body[at..];
        for suffix in [".href", ".replace", ".assign"] {
            if rest.get(..suffix.len()).is_some_and(|start| start.eq_ignore_ascii_case(suffix)) {
                rest = &rest[suffix.len()..];
                break;
            }
        }
        let rest = rest.trim_start();
        let rest = rest.strip_prefix('=').or_else(|| rest.strip_prefix('(')).map(str::trim_start);
        let Some(rest) = rest else { continue };
        let Some(quote @ ('"' | '\'')) = rest.chars().next() else { continue };
        let url = rest[1..].split(quote).next().unwrap_or("");
        if !url.is_empty() && !url.starts_with("javascript") {
            return Some(url.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stubs_that_redirect() {
        let check = |body: &str, expected: Option<&str>| assert_eq!(soft_redirect(body).as_deref(), expected, "{body}");
        check(
            r#"<html><head><meta http-equiv="refresh" content="0;url=/index.html"></head></html>"#,
            Some("/index.html"),
        );
        check(r#"<META HTTP-EQUIV="Refresh" CONTENT="0; URL='sy/index.shtml'">"#, Some("sy/index.shtml"));
        check(
            r#"<meta http-equiv=refresh content="1;http://www.example.gov.cn/web/">"#,
            Some("http://www.example.gov.cn/web/"),
        );
        check(r#"<script>window.location.href="/zwgk/index.html";</script>"#, Some("/zwgk/index.html"));
        check(r#"<script type="text/javascript">location.replace('/main.htm')</script>"#, Some("/main.htm"));
        check(r#"<meta http-equiv="refresh" content="300">"#, None);
        check(r#"<meta http-equiv="refresh" content="600;url=/">"#, None);
        check(r#"<p>location of the office</p>"#, None);
        check(&format!("{}<script>location.href='/x'</script>", "x".repeat(5000)), None);
        check(
            r#"<script>if(document.referrer.indexOf("baidu")>0){top.location.href="http://casino.example/";}</script>"#,
            None,
        );
        check(r#"<script>if(/Mobile/.test(navigator.userAgent)){location.href="/m/"}</script>"#, Some("/m/"));
        check(
            r#"<meta name="referrer" content="no-referrer"><script>window.location.href="/web/index.html";</script>"#,
            Some("/web/index.html"),
        );
        check("<script>var location地址=1; location：北京</script>", None);
    }
}
