//! The console: the pages the office and the counties work in, zh-CN, rendered on the server,
//! no script, nothing from elsewhere (CSP `default-src 'none'`). Each page is a pure function
//! from data to HTML ([`tasks`], [`problems`]) inside one frame ([`frame`]): the navigation,
//! who is logged in, and the logout form. Everything a site, an agent or a person wrote is
//! escaped; nothing a site serves becomes a link (a page's URL is shown as text).

pub mod overview;
pub mod problems;
pub mod registry;
pub mod tasks;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::access::{Caller, PAGE_CSP};
use super::status_page::escape;

/// The sections of the navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Overview,
    Status,
    Problems,
    Tasks,
    Registry,
    Reports,
    Users,
}

const NAV: [(Section, &str, &str); 6] = [
    (Section::Overview, "/overview", "总览"),
    (Section::Status, "/", "巡检状态"),
    (Section::Problems, "/problems", "问题台账"),
    (Section::Tasks, "/tasks", "整改任务"),
    (Section::Registry, "/registry", "备案与豁免"),
    (Section::Reports, "/report", "通报"),
];

/// A whole page: `body` in the console's frame, titled `title`, with `section` highlighted.
pub fn frame(title: &str, caller: &Caller, section: Section, body: &str) -> String {
    let mut html = String::with_capacity(body.len() + 4096);
    html.push_str("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    html.push_str(&format!("<title>{} · 巡检</title><style>{CSS}</style></head><body>", escape(title)));
    html.push_str("<nav><b>政府网站与政务新媒体巡检</b>");
    let users = [(Section::Users, "/users", "用户")];
    let admin = caller.role == crate::people::Role::Admin && caller.via != super::access::Via::Open;
    for (item, href, label) in NAV.iter().chain(users.iter().filter(|_| admin)) {
        let class = if *item == section { " class=\"here\"" } else { "" };
        html.push_str(&format!("<a{class} href=\"{href}\">{label}</a>"));
    }
    html.push_str(&super::status_page::caller_bar(caller));
    html.push_str("</nav><main>");
    html.push_str(&format!("<h1>{}</h1>", escape(title)));
    html.push_str(body);
    html.push_str("</main></body></html>");
    html
}

/// A page as a response: HTML, not cached, never framed, nothing loaded from elsewhere.
pub fn respond(html: String) -> Response {
    let mut response = html.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// A query parameter, percent-encoded for a link.
pub fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A county's name as a link to its page.
pub fn county_link(county: &str) -> String {
    // A path segment: a space is %20 there, not the query's + (which byte_serialize writes for
    // a space only; a real + is %2B).
    format!("<a href=\"/county/{}\">{}</a>", encode(county).replace('+', "%20"), escape(county))
}

/// A site's or account's name as a link to its page.
pub fn subject_link(county: &str, target: &str) -> String {
    format!("<a href=\"/subject?county={}&amp;target={}\">{}</a>", encode(county), encode(target), escape(target))
}

/// A moment as the console shows it (China time, to the minute).
pub fn minute(at: jiff::Timestamp) -> String {
    crate::report::render::china_minute(at)
}

const CSS: &str = "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:0;background:#f5f6f8;color:#222;font-size:14px}\
nav{background:#1f3b5c;color:#fff;padding:8px 20px;display:flex;gap:18px;align-items:center;flex-wrap:wrap}\
nav a{color:#dfe8f3;text-decoration:none}nav a.here{color:#fff;font-weight:bold;border-bottom:2px solid #fff}\
nav .who{margin-left:auto;color:#dfe8f3}nav .who a{color:#dfe8f3}.logout{display:inline;margin:0}.logout button{font-size:12px;padding:1px 8px}\
main{padding:16px 24px}h1{font-size:20px;margin:4px 0 14px}h2{font-size:16px;margin:20px 0 8px}\
table{border-collapse:collapse;background:#fff;width:100%}td,th{border:1px solid #dde2e6;padding:5px 8px;text-align:left;vertical-align:top}\
th{background:#eef1f4}tr.late td{background:#fff4f4}.state{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px}\
.pending{background:#fff3cd}.answered{background:#d9ecff}.verified{background:#d4f4dd}.not_fixed{background:#f8d7da}\
form.filters{display:flex;gap:10px;flex-wrap:wrap;align-items:end;margin-bottom:12px}form.filters label{display:flex;flex-direction:column;font-size:12px;color:#555}\
input,select,textarea,button{font:inherit}textarea{width:100%;min-height:90px}.muted{color:#777;font-size:12px}\
.box{background:#fff;border:1px solid #dde2e6;padding:12px 16px;margin:12px 0}.error{color:#b00020}.mono{font-family:monospace;word-break:break-all}\
tr.month td:first-child{padding-left:2em}";
