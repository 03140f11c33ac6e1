//! The agent's only HTTP client. Every page any check reads comes through [`Fetcher::fetch`].
//!
//! Bounds on every fetch, each because a real or hostile site needs it:
//! - one deadline for the whole fetch, redirects and body included (the indicator's 15 s);
//! - a cap on body bytes *after* decompression, so endless bodies and gzip bombs stop at the cap;
//! - a cap on redirects, counting meta-refresh and script stubs, and loop detection;
//! - requests in flight per host and overall ([`limits`]);
//! - where a redirect may lead ([`address`]): never from a public address into a private,
//!   loopback or link-local one (unless `[limits] allow_private_redirects`), and link checks
//!   never reach link-local addresses (cloud metadata lives at 169.254.169.254).
//!
//! What a site does wrong comes back as data in [`Fetched`], never as an `Err`.

pub mod address;
pub mod charset;
pub mod ipv6;
pub mod limits;
pub mod redirect;

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, USER_AGENT};
use url::Url;
use xunjian_shared::config::Limits;
use xunjian_shared::wire::{FetchFailure, FetchRecord};

use self::limits::RequestLimiter;

/// Keep idle connections this long: long enough to reuse within one round of a site's pages,
/// short enough that each availability probe (minutes apart) opens a fresh connection, as a
/// visitor would.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the fetcher could not be built (xunjian's own failure, not a site's).
#[derive(Debug, thiserror::Error)]
pub enum FetchSetupError {
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    #[error("probe.ca_file: {}: cannot read: {source}", path.display())]
    RootsUnreadable {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("probe.ca_file: {}: not PEM: {source}; give a PEM file of CA certificates", path.display())]
    RootsInvalid {
        path: std::path::PathBuf,
        #[source]
        source: reqwest::Error,
    },
    #[error("probe.ca_file: {}: contains no certificate; give a PEM file of CA certificates", path.display())]
    RootsEmpty { path: std::path::PathBuf },
}

/// Reads the extra trusted roots of `[probe] ca_file`.
pub fn load_roots(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, FetchSetupError> {
    let path_buf = || path.to_path_buf();
    let pem = std::fs::read(path).map_err(|source| FetchSetupError::RootsUnreadable { path: path_buf(), source })?;
    let roots = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|source| FetchSetupError::RootsInvalid { path: path_buf(), source })?;
    if roots.is_empty() {
        return Err(FetchSetupError::RootsEmpty { path: path_buf() });
    }
    Ok(roots)
}

/// The outcome of one fetch.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub record: FetchRecord,
    /// Where the last response came from (after redirects).
    pub final_url: Url,
    /// The response, when one came, whatever its status.
    pub page: Option<Page>,
    /// What went wrong, in words, when `record.failure` is set.
    pub failure_detail: Option<String>,
    /// The class of the address the first answer came from: what pages it links to are judged
    /// by (a public page's links never lead into a private network).
    pub origin: Option<address::Class>,
}

#[derive(Clone, Debug)]
pub struct Page {
    pub status: u16,
    pub content_type: Option<String>,
    pub text: String,
    /// The encoding the page declared when detection overruled it.
    pub charset_declared_but_wrong: Option<&'static str>,
    /// Byte sequences its encoding could not decode (乱码 a visitor sees).
    pub charset_invalid_sequences: u32,
    /// The text was let go after the page was parsed ([`Fetched::without_text`]): an empty
    /// `text` then says nothing about the page.
    pub text_dropped: bool,
}

impl Fetched {
    /// The same outcome without the page's text (its status and type kept).
    pub fn without_text(&self) -> Fetched {
        let page = self.page.as_ref().map(|page| Page {
            status: page.status,
            content_type: page.content_type.clone(),
            text: String::new(),
            charset_declared_but_wrong: page.charset_declared_but_wrong,
            charset_invalid_sequences: page.charset_invalid_sequences,
            text_dropped: true,
        });
        Fetched {
            record: self.record.clone(),
            final_url: self.final_url.clone(),
            page,
            failure_detail: self.failure_detail.clone(),
            origin: self.origin,
        }
    }

    /// The page, if a response with a 2xx status came.
    pub fn ok_page(&self) -> Option<&Page> {
        self.page.as_ref().filter(|page| (200..300).contains(&page.status))
    }
}

/// What following one link came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkOutcome {
    pub status: Option<u16>,
    pub failure: Option<FetchFailure>,
}

impl LinkOutcome {
    /// A visitor clicking it gets no page: no answer, or an error status.
    pub fn is_dead(&self) -> bool {
        self.failure.is_some() || self.status.is_some_and(|status| status >= 400)
    }
}

pub struct Fetcher {
    strict: reqwest::Client,
    /// The same, resolving names to public addresses only.
    strict_public: reqwest::Client,
    /// Accepts any certificate; used only to read a certificate the strict client refused.
    lenient: reqwest::Client,
    limiter: RequestLimiter,
    max_body_bytes: u64,
    max_redirects: u32,
    allow_private_redirects: bool,
}

impl Fetcher {
    /// `extra_roots` are trusted besides the system store (tests; internal government CAs).
    pub fn new(
        limits: &Limits,
        user_agent: &str,
        extra_roots: &[reqwest::Certificate],
    ) -> Result<Self, FetchSetupError> {
        // reqwest is built without a default provider; ring is the one provider in this workspace.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        );
        headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("zh-CN,zh;q=0.9,en;q=0.5"));
        // Every client follows redirects itself (so each hop is judged) and resolves names
        // without link-local addresses; the `_public` ones, used for the hops of a site whose
        // first answer came from a public address, resolve to public addresses only — so a
        // name that answers one address to the check and another to the connection (DNS
        // rebinding) still cannot lead inward.
        let builder = |lenient: bool, public_only: bool| {
            reqwest::Client::builder()
                .dns_resolver(Arc::new(address::Resolver { public_only }))
                .user_agent(user_agent)
                .default_headers(headers.clone())
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .gzip(true)
                .tls_info(true)
                .pool_idle_timeout(POOL_IDLE_TIMEOUT)
                .tls_certs_merge(extra_roots.iter().cloned())
                .tls_danger_accept_invalid_certs(lenient)
                .build()
                .map_err(FetchSetupError::Client)
        };
        Ok(Fetcher {
            strict: builder(false, false)?,
            strict_public: builder(false, true)?,
            lenient: builder(true, false)?,
            limiter: RequestLimiter::new(limits.per_host_concurrency, limits.concurrency),
            max_body_bytes: limits.max_body_bytes,
            max_redirects: limits.max_redirects,
            allow_private_redirects: limits.allow_private_redirects,
        })
    }

    /// The client for a hop after a first answer from an address of class `origin`.
    fn client_after(&self, origin: Option<address::Class>) -> &reqwest::Client {
        if origin == Some(address::Class::Public) && !self.allow_private_redirects {
            &self.strict_public
        } else {
            &self.strict
        }
    }

    /// GETs `url`, following redirects, within `timeout` overall.
    pub async fn fetch(&self, url: &Url, timeout: Duration) -> Fetched {
        self.fetch_from(url, timeout, None, None).await
    }

    /// [`Fetcher::fetch`] with another User-Agent (a search engine's crawler, to compare what it
    /// is served with what a browser is).
    pub async fn fetch_as(&self, url: &Url, timeout: Duration, user_agent: &'static str) -> Fetched {
        self.fetch_from(url, timeout, None, Some(user_agent)).await
    }

    /// GETs `url`, which a page answered from an address of class `from` links to (a next page,
    /// a message's or a document's own page): taken like a redirect from that page, so a public
    /// page cannot lead the agent into a private network or to link-local addresses.
    pub async fn fetch_linked(&self, url: &Url, timeout: Duration, from: Option<address::Class>) -> Fetched {
        let Some(from) = from else { return self.fetch_from(url, timeout, None, None).await };
        // The name is looked up within the fetch's own time: a slow resolver is a failed fetch.
        let classes = if address::is_link_local_literal(url) {
            Some(vec![address::Class::LinkLocal])
        } else {
            tokio::time::timeout(timeout, address::classes(url)).await.ok()
        };
        let host = url.host_str().unwrap_or("");
        let failure = match classes {
            None => Some((FetchFailure::Dns, format!("{} 秒内未能解析 {host}", timeout.as_secs_f64()))),
            Some(classes) => classes
                .into_iter()
                .find(|to| !address::hop_allowed(from, *to, self.allow_private_redirects))
                .map(|class| {
                    let detail =
                        format!("页面链接从{}地址指向{}地址 {host}，未访问", from.label_zh(), class.label_zh());
                    (FetchFailure::PrivateRedirect, detail)
                }),
        };
        match failure {
            Some((failure, detail)) => Fetched {
                record: FetchRecord {
                    status: None,
                    duration_ms: 0,
                    failure: Some(failure),
                    redirects: Vec::new(),
                    tls_not_after: None,
                    charset: None,
                    body_bytes: 0,
                    truncated: false,
                },
                final_url: url.clone(),
                page: None,
                failure_detail: Some(detail),
                origin: None,
            },
            None => self.fetch_from(url, timeout, Some(from), None).await,
        }
    }

    async fn fetch_from(
        &self,
        url: &Url,
        timeout: Duration,
        from: Option<address::Class>,
        user_agent: Option<&'static str>,
    ) -> Fetched {
        let host = format!("{}:{}", url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(0));
        let _permit = self.limiter.acquire(&host).await;
        let started = Instant::now();
        let deadline = tokio::time::Instant::from_std(started + timeout);
        let mut attempt = Attempt {
            record: FetchRecord {
                status: None,
                duration_ms: 0,
                failure: None,
                redirects: Vec::new(),
                tls_not_after: None,
                charset: None,
                body_bytes: 0,
                truncated: false,
            },
            url: url.clone(),
            page: None,
            failure_detail: None,
            user_agent,
        };
        // The outer timeout is a backstop; every await inside also watches the deadline.
        let mut origin = from;
        let outcome = tokio::time::timeout_at(deadline, self.follow(&mut attempt, deadline, &mut origin)).await;
        if outcome.is_err() {
            attempt.fail(FetchFailure::Timeout, format!("{} 秒内未能打开页面", timeout.as_secs_f64()));
        }
        attempt.record.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Fetched {
            record: attempt.record,
            final_url: attempt.url,
            page: attempt.page,
            failure_detail: attempt.failure_detail,
            origin,
        }
    }

    /// `origin`: the class of the address the first response came from (or of the page that
    /// linked here), what redirects are judged by.
    async fn follow(&self, attempt: &mut Attempt, deadline: tokio::time::Instant, origin: &mut Option<address::Class>) {
        let mut visited = vec![attempt.url.clone()];
        loop {
            let mut request = self.client_after(*origin).get(attempt.url.clone());
            if let Some(user_agent) = attempt.user_agent {
                request = request.header(USER_AGENT, user_agent);
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(error) => {
                    let (failure, detail) = classify(&error);
                    if failure == FetchFailure::Tls {
                        attempt.record.tls_not_after = self.certificate_anyway(&attempt.url, deadline).await;
                    }
                    attempt.fail(failure, detail);
                    return;
                }
            };
            if let Some(not_after) = response
                .extensions()
                .get::<reqwest::tls::TlsInfo>()
                .and_then(|info| info.peer_certificate())
                .and_then(xunjian_shared::x509::not_after)
            {
                attempt.record.tls_not_after = Some(not_after);
            }
            if origin.is_none() {
                *origin = response.remote_addr().map(|addr| address::Class::of(addr.ip()));
            }
            let status = response.status();
            attempt.record.status = Some(status.as_u16());
            let location = response.headers().get(LOCATION).and_then(|value| value.to_str().ok()).map(str::to_string);
            if status.is_redirection()
                && let Some(location) = location
            {
                if !self.redirect_to(attempt, &mut visited, &location) || !self.may_go(attempt, *origin).await {
                    return;
                }
                continue;
            }
            let content_type =
                response.headers().get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).map(str::to_string);
            let Some(body) = self.read_body(attempt, response).await else { return };
            let decoded = charset::decode(&body, content_type.as_deref(), !attempt.record.truncated);
            attempt.record.charset = Some(decoded.encoding.to_string());
            if status.is_success()
                && let Some(target) = redirect::soft_redirect(&decoded.text)
                && self.redirect_to(attempt, &mut visited, &target)
            {
                if !self.may_go(attempt, *origin).await {
                    return;
                }
                continue;
            }
            if attempt.record.failure.is_some() {
                return;
            }
            attempt.page = Some(Page {
                status: status.as_u16(),
                content_type,
                text: decoded.text,
                charset_declared_but_wrong: decoded.declared_but_wrong,
                charset_invalid_sequences: decoded.invalid_sequences,
                text_dropped: false,
            });
            return;
        }
    }

    /// Records a hop to `location`; false (with the failure recorded) when it must not be taken.
    fn redirect_to(&self, attempt: &mut Attempt, visited: &mut Vec<Url>, location: &str) -> bool {
        let Ok(next) = attempt.url.join(location.trim()) else {
            attempt.fail(FetchFailure::Protocol, format!("重定向地址无效：{location}"));
            return false;
        };
        if !matches!(next.scheme(), "http" | "https") {
            attempt.fail(FetchFailure::Protocol, format!("重定向到非网页地址：{next}"));
            return false;
        }
        if visited.contains(&next) {
            attempt.record.redirects.push(next.to_string());
            attempt.fail(FetchFailure::RedirectLoop, format!("重定向循环：回到已访问的 {next}"));
            return false;
        }
        if attempt.record.redirects.len() >= self.max_redirects as usize {
            attempt.fail(FetchFailure::TooManyRedirects, format!("重定向超过 {} 次仍未到达页面", self.max_redirects));
            return false;
        }
        attempt.record.redirects.push(next.to_string());
        visited.push(next.clone());
        attempt.url = next;
        true
    }

    /// Whether the hop just recorded (to `attempt.url`) may be taken from a site whose first
    /// answer came from an address of class `origin`; false with the failure recorded.
    async fn may_go(&self, attempt: &mut Attempt, origin: Option<address::Class>) -> bool {
        let Some(origin) = origin else { return true };
        let classes = address::classes(&attempt.url).await;
        match classes.iter().find(|class| !address::hop_allowed(origin, **class, self.allow_private_redirects)) {
            Some(class) => {
                let host = attempt.url.host_str().unwrap_or("").to_string();
                attempt.fail(
                    FetchFailure::PrivateRedirect,
                    format!(
                        "重定向从{}地址转到{}地址 {host}，已拒绝（内网网站请在 [limits] 设置 allow_private_redirects = true）",
                        origin.label_zh(),
                        class.label_zh()
                    ),
                );
                false
            }
            None => true,
        }
    }

    /// Reads the body up to the byte cap. None when the body broke off (failure recorded).
    async fn read_body(&self, attempt: &mut Attempt, mut response: reqwest::Response) -> Option<Vec<u8>> {
        let mut body: Vec<u8> = Vec::new();
        // Each hop's body is its own (a soft redirect's stub may have been cut, its target not).
        attempt.record.truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = usize::try_from(self.max_body_bytes).unwrap_or(usize::MAX).saturating_sub(body.len());
                    // A body of exactly the cap is whole; one byte more is cut.
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        attempt.record.truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) => {
                    let (failure, detail) = classify(&error);
                    let failure = if failure == FetchFailure::Connect { FetchFailure::Reset } else { failure };
                    attempt.record.body_bytes = body.len() as u64;
                    attempt.fail(failure, format!("读取页面内容时中断：{detail}"));
                    return None;
                }
            }
        }
        attempt.record.body_bytes = body.len() as u64;
        Some(body)
    }

    /// Whether `url` opens: HEAD, and GET when the server refuses HEAD (some answer 403, 404,
    /// 405 or 501 to HEAD alone). Reads headers only.
    pub async fn check_link(&self, url: &Url, timeout: Duration) -> LinkOutcome {
        // Never a request to a link-local address (a page linking to cloud metadata is not a
        // dead link a visitor would notice; it is not followed).
        if address::is_link_local_literal(url) {
            return LinkOutcome { status: None, failure: None };
        }
        let host = format!("{}:{}", url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(0));
        let _permit = self.limiter.acquire(&host).await;
        let head = self.follow_link(reqwest::Method::HEAD, url, timeout).await;
        if head.status.is_some_and(|status| status >= 400)
            || head.failure == Some(FetchFailure::Reset)
            || head.failure == Some(FetchFailure::Protocol)
        {
            return self.follow_link(reqwest::Method::GET, url, timeout).await;
        }
        head
    }

    /// `method` on `url`, following redirects within the limits and only where a redirect may
    /// lead; a redirect that may not be taken ends the check with its own status (what a
    /// visitor's browser shows is not known, so it is not called dead).
    async fn follow_link(&self, method: reqwest::Method, url: &Url, timeout: Duration) -> LinkOutcome {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut current = url.clone();
        let mut origin: Option<address::Class> = None;
        for _ in 0..=self.max_redirects {
            let request = self.client_after(origin).request(method.clone(), current.clone()).send();
            let response = match tokio::time::timeout_at(deadline, request).await {
                Ok(Ok(response)) => response,
                Ok(Err(error)) => return LinkOutcome { status: None, failure: Some(classify(&error).0) },
                Err(_) => return LinkOutcome { status: None, failure: Some(FetchFailure::Timeout) },
            };
            if origin.is_none() {
                origin = response.remote_addr().map(|addr| address::Class::of(addr.ip()));
            }
            let status = response.status();
            let location = response.headers().get(LOCATION).and_then(|value| value.to_str().ok());
            let next = match location.map(|location| current.join(location.trim())) {
                Some(Ok(next)) if status.is_redirection() => next,
                _ => return LinkOutcome { status: Some(status.as_u16()), failure: None },
            };
            let may_go = matches!(next.scheme(), "http" | "https")
                && !address::is_link_local_literal(&next)
                && match origin {
                    Some(from) => address::classes(&next)
                        .await
                        .iter()
                        .all(|to| address::hop_allowed(from, *to, self.allow_private_redirects)),
                    None => true,
                };
            if !may_go {
                return LinkOutcome { status: Some(status.as_u16()), failure: None };
            }
            current = next;
        }
        LinkOutcome { status: None, failure: Some(FetchFailure::TooManyRedirects) }
    }

    /// Reads the certificate the strict client refused, to report its not-after.
    async fn certificate_anyway(&self, url: &Url, deadline: tokio::time::Instant) -> Option<Timestamp> {
        let response = tokio::time::timeout_at(deadline, self.lenient.head(url.clone()).send()).await.ok()?.ok()?;
        let info = response.extensions().get::<reqwest::tls::TlsInfo>()?;
        xunjian_shared::x509::not_after(info.peer_certificate()?)
    }
}

struct Attempt {
    record: FetchRecord,
    url: Url,
    page: Option<Page>,
    failure_detail: Option<String>,
    /// Sent instead of the client's own.
    user_agent: Option<&'static str>,
}

impl Attempt {
    fn fail(&mut self, failure: FetchFailure, detail: String) {
        if self.record.failure.is_none() {
            self.record.failure = Some(failure);
            self.failure_detail = Some(detail);
        }
    }
}

/// Words in a client error's chain of causes, per failure, in the order they are tried.
const FAILURE_PATTERNS: &[(FetchFailure, &[&str])] = &[
    (FetchFailure::Timeout, &["timed out"]),
    (FetchFailure::Dns, &["dns error", "failed to lookup address", "name or service not known"]),
    (FetchFailure::Tls, &["certificate", "tls", "handshake", "peer sent"]),
    (FetchFailure::Connect, &["connection refused", "network is unreachable", "no route to host"]),
    (FetchFailure::Reset, &["reset", "broken pipe", "closed before", "incomplete", "unexpected eof", "end of file"]),
];

/// Maps a client error onto the closed set of failures, with a short explanation.
fn classify(error: &reqwest::Error) -> (FetchFailure, String) {
    let mut chain = Vec::new();
    let mut source: Option<&dyn std::error::Error> = error.source();
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    let detail = chain.last().cloned().unwrap_or_else(|| error.to_string());
    let all = chain.join(" | ").to_ascii_lowercase();
    let failure = if error.is_timeout() {
        FetchFailure::Timeout
    } else {
        FAILURE_PATTERNS
            .iter()
            .find(|(_, patterns)| patterns.iter().any(|pattern| all.contains(pattern)))
            .map(|(failure, _)| *failure)
            .unwrap_or(if error.is_connect() { FetchFailure::Connect } else { FetchFailure::Protocol })
    };
    (failure, detail)
}
