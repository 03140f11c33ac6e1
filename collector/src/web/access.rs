//! Who is calling, and what they may see: every handler under `/` and `/api/v1/` takes a
//! [`Caller`] (or a [`FormCaller`] for a form post), so a request without a login, a personal
//! token or the machine token never reaches one (unless `[web] open_reads`).
//!
//! - A web login is a session: a random id in an `HttpOnly; SameSite=Strict` cookie (`Secure`
//!   over HTTPS), stored as its SHA-256 digest, ended by logout, `session_lifetime`,
//!   `session_idle`, a new password or the user's disabling. A change made with it needs its
//!   CSRF token (`X-CSRF-Token` for scripts, the `csrf` field of a form) and, when the browser
//!   names an `Origin`, this host as that origin.
//! - Scripts send `Authorization: Bearer xjt_…` (a personal token: the user's role and
//!   counties) or the machine token of `[web] admin_token_file` (an admin).
//! - Logins are limited per user name and per address before any hashing
//!   ([`crate::people::login`]); an unknown name costs the same hashing as a wrong password.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use rusqlite::Connection;
use xunjian_shared::wire::ApiError;

use super::WebState;
use super::status_page::escape;
use crate::people::login::{Limits, LoginLimiter};
use crate::people::{self, Role, Scope, User};
use crate::store::users;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "xunjian_session";
/// The login form's double-submit cookie: a login cannot be posted from another site.
const LOGIN_COOKIE: &str = "xunjian_login";
/// The header scripts send a session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Passwords hashed at once at most: logins cannot take every core.
const HASHING_AT_ONCE: usize = 2;
/// How long a login waits for its turn to hash.
const HASHING_WAIT: Duration = Duration::from_secs(5);
/// Largest form accepted from a login page.
const MAX_LOGIN_FORM: usize = 16 * 1024;

/// How people get in: the store of users and sessions, and the limits on trying.
pub struct Gate {
    db: Arc<Mutex<Connection>>,
    admin_token: Option<Arc<str>>,
    open_reads: bool,
    lifetime: Duration,
    idle: Duration,
    secure_cookies: bool,
    limiter: LoginLimiter,
    hashing: tokio::sync::Semaphore,
}

/// What the gate is set up with.
pub struct GateSettings {
    pub admin_token: Option<String>,
    pub open_reads: bool,
    pub session_lifetime: Duration,
    pub session_idle: Duration,
    /// The web listener serves HTTPS: cookies get `Secure`.
    pub https: bool,
}

/// How a caller proved who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A web login; its CSRF token goes in every form.
    Session { csrf: String },
    /// A personal API token.
    Token,
    /// `[web] admin_token_file`.
    Machine,
    /// Nobody: `[web] open_reads` lets anyone read.
    Open,
}

/// Someone allowed in: the audit log's author, what they may do and see.
#[derive(Clone, Debug)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    pub scope: Scope,
    pub via: Via,
}

/// The name the audit log gives the machine token.
pub const MACHINE_AUTHOR: &str = "机器令牌";

impl Caller {
    /// A refusal unless this caller may change the registry, exemptions, silences and agents.
    pub fn must_be_admin(&self) -> Result<(), Denied> {
        match self.role {
            Role::Admin if self.via != Via::Open => Ok(()),
            _ => Err(forbidden("此操作仅限管理员（admin）")),
        }
    }

    /// A refusal unless this caller sees every county (lists that span counties: silences,
    /// agents, the audit log).
    pub fn must_see_all(&self) -> Result<(), Denied> {
        // `open_reads` shows the pages, not who did what (audit log, receivers, silences).
        if self.scope.is_all() && self.via != Via::Open {
            Ok(())
        } else {
            Err(forbidden("此内容涉及全部县区，仅限市级用户和管理员登录后查看"))
        }
    }

    /// A refusal unless this caller sees `county`. The same words whether or not it exists.
    pub fn must_see(&self, county: &str) -> Result<(), Denied> {
        if self.scope.sees(county) { Ok(()) } else { Err(out_of_scope()) }
    }

    /// The session's CSRF token, for the forms of a page.
    pub fn csrf(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf } => Some(csrf),
            _ => None,
        }
    }
}

/// What a scoped caller gets for anything outside its counties, or not there at all: one
/// answer for both, so it learns nothing about other counties.
pub fn out_of_scope() -> Denied {
    forbidden("无权查看：只能查看本账号所属县区的内容（或所查内容不存在）")
}

pub fn forbidden(detail: &'static str) -> Denied {
    Denied { detail }
}

/// A 403: what the caller may not do, in Chinese.
#[derive(Clone, Copy, Debug)]
pub struct Denied {
    pub detail: &'static str,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        (StatusCode::FORBIDDEN, axum::Json(ApiError::new("forbidden", self.detail))).into_response()
    }
}

/// Why a request was not let in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rejected {
    /// Nobody logged in.
    Login,
    /// A session's change without its CSRF token, or from another site.
    Csrf,
}

impl Rejected {
    fn respond(self, parts: &Parts) -> Response {
        match self {
            Rejected::Login => login_required(parts),
            Rejected::Csrf => forbidden("请求缺少有效的 CSRF 令牌或来自其他网站：请刷新页面后重试").into_response(),
        }
    }
}

/// Who a request proved to be, before any CSRF check.
struct Identity {
    user: Option<User>,
    via: Via,
}

impl Gate {
    /// A gate on the users and sessions of the database at `path` (its own connection: logins
    /// neither wait for nor hold up the store's writer for long).
    pub fn open(path: &std::path::Path, settings: GateSettings) -> Result<Gate, crate::store::StoreError> {
        let db = crate::store::filings::open_connection(path)?;
        Ok(Gate {
            db: Arc::new(Mutex::new(db)),
            admin_token: settings.admin_token.map(Arc::from),
            open_reads: settings.open_reads,
            lifetime: settings.session_lifetime,
            idle: settings.session_idle,
            secure_cookies: settings.https,
            limiter: LoginLimiter::new(Limits::default()),
            hashing: tokio::sync::Semaphore::new(HASHING_AT_ONCE),
        })
    }

    /// Runs `read` on the console's connection (people and 整改 tasks) off the async workers.
    pub(crate) async fn with_db<T: Send + 'static>(
        &self,
        read: impl FnOnce(&mut Connection) -> Result<T, crate::store::StoreError> + Send + 'static,
    ) -> Result<T, Response> {
        let db = self.db.clone();
        let done = tokio::task::spawn_blocking(move || {
            let mut connection = db.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            read(&mut connection)
        })
        .await;
        match done {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(unavailable(&error)),
            Err(error) => Err(unavailable(&error)),
        }
    }

    /// Who `parts` is: a bearer token, then a session cookie, then nobody.
    async fn identify(&self, parts: &Parts) -> Result<Option<Identity>, Response> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).unwrap_or("");
            if token.starts_with(people::TOKEN_PREFIX) {
                let digest = people::token_digest(token);
                let user = self.with_db(move |db| users::user_for_token(db, &digest, Timestamp::now())).await?;
                return match user {
                    Some(user) => Ok(Some(Identity { user: Some(user), via: Via::Token })),
                    None => Err(unauthorized(
                        "令牌无效、已撤销，或其用户已停用：请用 xunjian-collector user token 另发一个",
                    )),
                };
            }
            return match &self.admin_token {
                Some(expected) if super::admin_api::constant_time_eq(token.as_bytes(), expected.as_bytes()) => {
                    Ok(Some(Identity { user: None, via: Via::Machine }))
                }
                _ => Err(unauthorized(
                    "令牌不正确：请求头应为 Authorization: Bearer <个人令牌 xjt_… 或 admin_token_file 中的令牌>",
                )),
            };
        }
        if let Some(id) = cookie(&parts.headers, SESSION_COOKIE) {
            let digest = people::token_digest(&id);
            let idle = self.idle.as_secs() as i64;
            let user = self.with_db(move |db| users::user_for_session(db, &digest, Timestamp::now(), idle)).await?;
            if let Some(user) = user {
                return Ok(Some(Identity { user: Some(user), via: Via::Session { csrf: people::csrf_token(&id) } }));
            }
        }
        Ok(None)
    }

    /// The caller of `parts`; `form_csrf` is the CSRF field of a form body, when there is one.
    async fn caller(&self, parts: &Parts, form_csrf: Option<&str>) -> Result<Caller, Response> {
        let identity = self.identify(parts).await?;
        self.admit(parts, identity, form_csrf).map_err(|rejected| rejected.respond(parts))
    }

    /// Lets `identity` in, or not: nobody only reads, and only with `open_reads`; a session's
    /// change needs its CSRF token (`form_csrf`, else the header) and this site as its origin.
    fn admit(&self, parts: &Parts, identity: Option<Identity>, form_csrf: Option<&str>) -> Result<Caller, Rejected> {
        let changes = !matches!(parts.method, Method::GET | Method::HEAD);
        let Some(identity) = identity else {
            if self.open_reads && !changes {
                return Ok(Caller {
                    name: "匿名访问".into(), role: Role::Viewer, scope: Scope::All, via: Via::Open
                });
            }
            return Err(Rejected::Login);
        };
        if let (true, Via::Session { csrf }) = (changes, &identity.via) {
            let given = form_csrf.or_else(|| parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()));
            let same_origin = same_origin(&parts.headers);
            if !same_origin || !given.is_some_and(|g| super::admin_api::constant_time_eq(g.as_bytes(), csrf.as_bytes()))
            {
                return Err(Rejected::Csrf);
            }
        }
        Ok(match identity.user {
            Some(user) => {
                Caller { name: user.name.clone(), role: user.role, scope: Scope::of(&user), via: identity.via }
            }
            None => Caller { name: MACHINE_AUTHOR.into(), role: Role::Admin, scope: Scope::All, via: identity.via },
        })
    }

    /// The attributes of the cookies set in answer to `parts`: `Secure` when the browser's
    /// connection is HTTPS (this listener's own TLS, or a TLS proxy on this host that says so).
    fn cookie_attributes(&self, parts: &Parts) -> &'static str {
        let proxied_https = from_this_host(parts)
            && parts.headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
        if self.secure_cookies || proxied_https {
            "; HttpOnly; SameSite=Strict; Secure"
        } else {
            "; HttpOnly; SameSite=Strict"
        }
    }
}

/// Whether the connection comes from this host (a reverse proxy beside the collector).
fn from_this_host(parts: &Parts) -> bool {
    parts.extensions.get::<super::RemoteAddress>().is_some_and(|remote| remote.0.ip().is_loopback())
}

/// The address a login is counted against: the connection's, or, when a proxy on this host
/// forwards it, the `X-Real-IP` it names (otherwise every person would share the proxy's).
fn client_address(parts: &Parts) -> IpAddr {
    let peer = parts.extensions.get::<super::RemoteAddress>().map(|remote| remote.0.ip());
    let forwarded = || parts.headers.get("x-real-ip")?.to_str().ok()?.trim().parse::<IpAddr>().ok();
    match peer {
        Some(peer) if peer.is_loopback() => forwarded().unwrap_or(peer),
        Some(peer) => peer,
        None => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
    }
}

fn unavailable(cause: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "reading users or sessions failed");
    let detail = "读取用户信息失败，请稍后重试；若持续失败请查看采集中心日志";
    (StatusCode::SERVICE_UNAVAILABLE, axum::Json(ApiError::new("internal", detail))).into_response()
}

fn unauthorized(detail: &str) -> Response {
    let mut response = (StatusCode::UNAUTHORIZED, axum::Json(ApiError::new("unauthorized", detail))).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// No one logged in: a page sends the browser to the login form (and back after it), the API
/// answers 401.
fn login_required(parts: &Parts) -> Response {
    let path = parts.uri.path();
    if path.starts_with("/api/") || parts.method != Method::GET {
        return unauthorized(
            "需要登录：浏览器请先打开 /login；脚本请在请求头带 Authorization: Bearer <个人令牌>（xunjian-collector user token 生成）",
        );
    }
    let next = parts.uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
    let target = format!("/login?next={}", url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>());
    redirect(&target)
}

/// A 303 to a local path.
pub fn redirect(to: &str) -> Response {
    let location = HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// Whether a browser's `Origin` (when it sends one) is this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let authority = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    !host.is_empty() && authority.eq_ignore_ascii_case(host)
}

/// The value of cookie `name`.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

/// Where a login may send the browser afterwards: a path on this site, nothing else.
fn local_path(next: &str) -> &str {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.contains("://");
    if local && !next.chars().any(char::is_control) { next } else { "/" }
}

impl FromRequestParts<WebState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Caller, Response> {
        state.gate.caller(parts, None).await
    }
}

/// A form post (`application/x-www-form-urlencoded`, or `multipart/form-data` with files) with
/// its fields, from a caller whose session's CSRF token is the form's `csrf` field.
pub struct FormCaller {
    pub caller: Caller,
    pub fields: Vec<(String, String)>,
    /// Files of a multipart form.
    pub files: Vec<Upload>,
    /// The request's head (its cookies, address, path).
    pub parts: Parts,
}

/// A file sent with a form.
pub struct Upload {
    pub field: String,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Most parts of a multipart form: the words and five attachments, and a few empty file inputs.
const MAX_PARTS: usize = 16;

/// Largest multipart form: five attachments of 5 MB and the text.
pub const MAX_MULTIPART: u64 = 27 * 1024 * 1024;

impl FormCaller {
    /// The first value of `name`, trimmed ('' when absent).
    pub fn field(&self, name: &str) -> &str {
        self.fields.iter().find(|(key, _)| key == name).map(|(_, value)| value.trim()).unwrap_or("")
    }
}

/// Largest form body: a 整改 answer is a few thousand characters.
const MAX_FORM: usize = 256 * 1024;

impl FromRequest<WebState> for FormCaller {
    type Rejection = Response;

    async fn from_request(request: Request, state: &WebState) -> Result<FormCaller, Response> {
        let (parts, body) = request.into_parts();
        // Who it is first: nobody's body is read (a form may be megabytes).
        let identity = state.gate.identify(&parts).await?;
        if identity.is_none() {
            // A form always changes something: nobody may post one.
            return Err(login_required(&parts));
        }
        let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let (fields, files) = match multer::parse_boundary(content_type) {
            Ok(boundary) => read_multipart(body, boundary).await?,
            Err(_) => {
                let bytes = axum::body::to_bytes(body, MAX_FORM)
                    .await
                    .map_err(|_| super::bad_request(format!("表单超过 {} KB", MAX_FORM / 1024)))?;
                let fields =
                    url::form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
                (fields, Vec::new())
            }
        };
        let csrf = fields.iter().find(|(key, _)| key == "csrf").map(|(_, value): &(String, String)| value.as_str());
        let caller = state.gate.admit(&parts, identity, csrf).map_err(|rejected| rejected.respond(&parts))?;
        Ok(FormCaller { caller, fields, files, parts })
    }
}

/// A multipart form's text fields and files, within [`MAX_MULTIPART`]; a file over the
/// attachment limit is refused by name (413).
async fn read_multipart(
    body: axum::body::Body,
    boundary: String,
) -> Result<(Vec<(String, String)>, Vec<Upload>), Response> {
    let limit = crate::tasks::MAX_ATTACHMENT_BYTES as u64;
    // Files only as `attachment`; the words of a form are small.
    let constraints = multer::Constraints::new().allowed_fields(vec!["csrf", "answer", "attachment"]).size_limit(
        multer::SizeLimit::new().whole_stream(MAX_MULTIPART).per_field(64 * 1024).for_field("attachment", limit + 1),
    );
    let mut multipart = multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let too_large = || {
        let detail = format!("附件每个不超过 {} MB，一次最多 {} 个", limit >> 20, crate::tasks::MAX_ATTACHMENTS);
        (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(ApiError::new("too_large", detail))).into_response()
    };
    let malformed = |error: multer::Error| match error {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => too_large(),
        other => super::bad_request(format!("表单无法读取：{other}")),
    };
    let (mut fields, mut files) = (Vec::new(), Vec::new());
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        if fields.len() + files.len() >= MAX_PARTS {
            return Err(too_large());
        }
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.map_err(malformed)?;
        match file_name {
            // A file input left empty sends a part with an empty name and no bytes.
            Some(file) if file.is_empty() && bytes.is_empty() => {}
            Some(file) => {
                if bytes.len() as u64 > limit || files.len() >= crate::tasks::MAX_ATTACHMENTS {
                    return Err(too_large());
                }
                files.push(Upload { field: name, name: file, bytes: bytes.to_vec() });
            }
            None => fields.push((name, String::from_utf8_lossy(&bytes).into_owned())),
        }
    }
    Ok((fields, files))
}

/// `GET /api/v1/me`: who the caller is, its role, counties and (for a session) CSRF token.
pub async fn me(caller: Caller) -> Response {
    axum::Json(serde_json::json!({
        "name": caller.name,
        "role": caller.role.as_str(),
        "role_label": caller.role.label_zh(),
        "counties": caller.scope.counties(),
        "csrf": caller.csrf(),
    }))
    .into_response()
}

/// The login page; `message` says why it is shown again.
fn login_page(
    gate: &Gate,
    parts: &Parts,
    next: &str,
    message: Option<&str>,
    status: StatusCode,
    no_users: bool,
) -> Response {
    let nonce = match people::generate_nonce() {
        Ok(nonce) => nonce,
        Err(error) => return unavailable(&error),
    };
    let message = message.map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(m))).unwrap_or_default();
    let first = if no_users {
        "<p class=\"hint\">尚未创建任何用户：请在采集中心主机上运行 <code>xunjian-collector user add --config collector.toml --name 用户名 --role admin</code> 创建第一个管理员。</p>"
    } else {
        ""
    };
    let html = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>巡检 · 登录</title><style>{LOGIN_CSS}</style></head><body><main>\
         <h1>政府网站与政务新媒体巡检</h1>{message}{first}\
         <form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"nonce\" value=\"{nonce}\"><input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <label>用户名<input name=\"name\" autocomplete=\"username\" required autofocus></label>\
         <label>密码<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">登录</button></form></main></body></html>",
        next = escape(local_path(next)),
    );
    let cookie = format!("{LOGIN_COOKIE}={nonce}; Path=/login; Max-Age=1800{}", gate.cookie_attributes(parts));
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.append(header::SET_COOKIE, value);
    }
    response
}

/// The console's pages: their own styles and forms only; nothing from elsewhere, no framing.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const LOGIN_CSS: &str = "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;background:#f4f6f8;color:#222}\
main{max-width:360px;margin:12vh auto;background:#fff;padding:28px 32px;border:1px solid #dde2e6;border-radius:6px}\
h1{font-size:20px;margin:0 0 20px}label{display:block;margin:12px 0;font-size:14px}\
input{display:block;width:100%;box-sizing:border-box;padding:8px;margin-top:4px;font-size:15px}\
button{margin-top:16px;width:100%;padding:10px;font-size:15px;background:#1f5fa8;color:#fff;border:0;border-radius:4px}\
.error{color:#b00020}.hint{font-size:13px;color:#555}";

fn query_next(parts_query: Option<&str>) -> String {
    parts_query
        .into_iter()
        .flat_map(|q| url::form_urlencoded::parse(q.as_bytes()))
        .find(|(key, _)| key == "next")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| "/".into())
}

/// `GET /login`.
pub async fn login_form(State(state): State<WebState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let next = query_next(parts.uri.query());
    let no_users = state.gate.with_db(|db| users::any_user(db)).await.map(|any| !any).unwrap_or(false);
    login_page(&state.gate, &parts, &next, None, StatusCode::OK, no_users)
}

/// `POST /login`: name and password → a session cookie and back to `next`.
pub async fn login(State(state): State<WebState>, request: Request) -> Response {
    let gate = state.gate.clone();
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_LOGIN_FORM).await else {
        return login_page(&gate, &parts, "/", Some("表单过大"), StatusCode::PAYLOAD_TOO_LARGE, false);
    };
    let field = |name: &str| {
        url::form_urlencoded::parse(&bytes)
            .find(|(key, _)| key == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let (name, password, nonce, next) =
        (field("name").trim().to_string(), field("password"), field("nonce"), field("next"));
    let next = local_path(&next).to_string();
    let expected = cookie(&parts.headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !super::admin_api::constant_time_eq(expected.as_bytes(), nonce.as_bytes()) {
        let message = "登录页已过期或来自其他网站，请重新登录";
        return login_page(&gate, &parts, &next, Some(message), StatusCode::FORBIDDEN, false);
    }
    let address = client_address(&parts);
    if let Err(wait) = gate.limiter.attempt(&name, address, std::time::Instant::now()) {
        let minutes = wait.as_secs().div_ceil(60);
        let message = format!("登录失败次数过多，请 {minutes} 分钟后再试");
        let mut response = login_page(&gate, &parts, &next, Some(&message), StatusCode::TOO_MANY_REQUESTS, false);
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        tracing::warn!(user = name, remote = %address, "login refused: too many failures");
        return response;
    }
    // Hashing is bounded: a queue of logins waits a little, then is told to come back.
    let Ok(Ok(_permit)) = tokio::time::timeout(HASHING_WAIT, gate.hashing.acquire()).await else {
        let message = "登录请求过多，请稍后再试";
        return login_page(&gate, &parts, &next, Some(message), StatusCode::SERVICE_UNAVAILABLE, false);
    };
    let lookup = name.clone();
    let found = match gate.with_db(move |db| users::user_for_login(db, &lookup)).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let verified = tokio::task::spawn_blocking(move || {
        // Unknown names and users without a password are hashed against a stand-in, so the
        // time taken does not tell which names exist.
        let (user, hash) = match found {
            Some((user, Some(hash))) => (Some(user), hash),
            _ => (None, dummy_hash().to_string()),
        };
        let long_enough = password.chars().count() <= people::MAX_PASSWORD_CHARS;
        let matches = long_enough && people::verify_password(&password, &hash);
        user.filter(|_| matches)
    })
    .await
    .ok()
    .flatten();
    let Some(user) = verified else {
        tracing::info!(user = name, remote = %address, "login failed");
        return login_page(&gate, &parts, &next, Some("用户名或密码不正确"), StatusCode::UNAUTHORIZED, false);
    };
    gate.limiter.succeeded(&name, address);
    let (id, digest) = match people::generate_session() {
        Ok(session) => session,
        Err(error) => return unavailable(&error),
    };
    let now = Timestamp::now();
    let lifetime = gate.lifetime;
    let expires_at = now + jiff::SignedDuration::try_from(lifetime).unwrap_or_default();
    let remote = address.to_string();
    let logged = user.clone();
    if let Err(response) =
        gate.with_db(move |db| users::start_session(db, &logged, &digest, &remote, now, expires_at)).await
    {
        return response;
    }
    tracing::info!(user = user.name, remote = %address, "login");
    let mut response = redirect(&next);
    let attributes = gate.cookie_attributes(&parts);
    let session = format!("{SESSION_COOKIE}={id}; Path=/; Max-Age={}{attributes}", lifetime.as_secs());
    let clear = format!("{LOGIN_COOKIE}=; Path=/login; Max-Age=0{attributes}");
    for value in [session, clear] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// `POST /logout` (a form with the session's `csrf`).
pub async fn logout(State(state): State<WebState>, form: FormCaller) -> Response {
    if let (Via::Session { .. }, Some(id)) = (&form.caller.via, cookie(&form.parts.headers, SESSION_COOKIE)) {
        let digest = people::token_digest(&id);
        if let Err(response) = state.gate.with_db(move |db| users::end_session(db, &digest, Timestamp::now())).await {
            return response;
        }
    }
    let mut response = redirect("/login");
    let clear = format!("{SESSION_COOKIE}=; Path=/; Max-Age=0{}", state.gate.cookie_attributes(&form.parts));
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The hash unknown names are checked against: made once, of a random password.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let password = people::generate_password().unwrap_or_else(|_| "xunjian-stand-in".into());
        people::hash_password(&password).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_returns_only_to_this_site() {
        assert_eq!(local_path("/problems?county=龙川县"), "/problems?county=龙川县");
        for elsewhere in ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""] {
            assert_eq!(local_path(elsewhere), "/", "{elsewhere}");
        }
    }

    fn parts(peer: &str, headers: &[(&'static str, &'static str)]) -> Parts {
        let mut request = axum::http::Request::builder().uri("/login");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let (mut parts, _) = request.body(()).unwrap().into_parts();
        parts.extensions.insert(super::super::RemoteAddress(peer.parse().unwrap()));
        parts
    }

    #[test]
    fn only_a_proxy_on_this_host_may_name_the_client_and_the_scheme() {
        let proxied = parts("127.0.0.1:5000", &[("x-real-ip", "10.1.2.3"), ("x-forwarded-proto", "https")]);
        assert_eq!(client_address(&proxied), "10.1.2.3".parse::<IpAddr>().unwrap());
        let direct = parts("10.9.9.9:5000", &[("x-real-ip", "10.1.2.3"), ("x-forwarded-proto", "https")]);
        assert_eq!(client_address(&direct), "10.9.9.9".parse::<IpAddr>().unwrap(), "a client cannot pick its own");
        let gate = Gate::open(
            &std::env::temp_dir().join(format!("xunjian-gate-{}.db", std::process::id())),
            GateSettings {
                admin_token: None,
                open_reads: false,
                session_lifetime: Duration::from_secs(3600),
                session_idle: Duration::from_secs(600),
                https: false,
            },
        )
        .unwrap();
        assert!(gate.cookie_attributes(&proxied).ends_with("; Secure"));
        assert!(!gate.cookie_attributes(&direct).contains("Secure"));
        assert!(gate.cookie_attributes(&direct).contains("HttpOnly; SameSite=Strict"));
    }

    #[test]
    fn cookies_and_origins_are_read_strictly() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; xunjian_session=abc; b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "xunjian"), None);
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&headers), "no Origin: not a browser's cross-site form");
        headers.insert(header::ORIGIN, HeaderValue::from_static("http://127.0.0.1:8080"));
        assert!(same_origin(&headers));
        headers.insert(header::ORIGIN, HeaderValue::from_static("http://evil.example"));
        assert!(!same_origin(&headers));
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&headers));
    }
}
