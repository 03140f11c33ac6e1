//! A loopback site simulator: a real HTTP/1.1 server (plain or TLS) on `127.0.0.1:0` whose
//! routes serve corpus pages, redirects, stubs, errors and misbehaviour, and which counts what
//! it was asked.
//!
//! Written on raw tokio sockets rather than a server framework because misbehaving on purpose
//! (late headers, a body that never ends, a reset mid-body) needs control of every byte.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// What a path answers.
#[derive(Clone, Debug)]
pub enum Route {
    /// A response with a body (compressed already when `gzip`).
    Page { status: u16, content_type: String, body: Vec<u8>, gzip: bool },
    /// A 3xx with a Location header.
    Redirect { status: u16, location: String },
    /// Waits, then answers as the inner route (a slow server).
    Delay { delay: Duration, then: Box<Route> },
    /// Sends headers and part of the body, then closes the connection.
    ResetMidBody { body_prefix: Vec<u8>, claimed_length: usize },
    /// Answers as the inner route with `Connection: close`, so every request needs a new
    /// connection (as probes minutes apart do).
    Close(Box<Route>),
    /// Headers (with `declared_length` as Content-Length, or none), then `chunk` again and
    /// again with `pause` between, until the client goes away: a slowloris body (small chunk,
    /// long pause), an endless body (no length), a huge Content-Length.
    Stream { content_type: String, declared_length: Option<u64>, chunk: Vec<u8>, pause: Duration },
    /// Each of `routes` in turn for `period` of wall-clock time (a flapping site).
    Alternate { period: Duration, routes: Vec<Route> },
    /// `crawlers` to a User-Agent naming a crawler (`spider`, `bot`), `others` to the rest: a
    /// hijacked page that shows search engines other content (cloaking).
    ForCrawlers { crawlers: Box<Route>, others: Box<Route> },
}

impl Route {
    pub fn html(body: impl Into<Vec<u8>>) -> Route {
        Route::Page { status: 200, content_type: "text/html; charset=utf-8".into(), body: body.into(), gzip: false }
    }

    pub fn bytes(content_type: &str, body: impl Into<Vec<u8>>) -> Route {
        Route::Page { status: 200, content_type: content_type.into(), body: body.into(), gzip: false }
    }

    pub fn status(status: u16) -> Route {
        Route::Page {
            status,
            content_type: "text/html; charset=utf-8".into(),
            body: format!("<html><body><h1>{status}</h1></body></html>").into_bytes(),
            gzip: false,
        }
    }

    pub fn redirect(location: &str) -> Route {
        Route::Redirect { status: 302, location: location.into() }
    }

    /// The page sent gzip-encoded, compressed once here: a 512 MB bomb compressed per request
    /// would take longer than the agent waits, and test the simulator instead of the agent.
    pub fn gzipped(self) -> Route {
        match self {
            Route::Page { status, content_type, body, gzip: false } => {
                Route::Page { status, content_type, body: gzip_bytes(&body), gzip: true }
            }
            other => other,
        }
    }

    pub fn delayed(self, delay: Duration) -> Route {
        Route::Delay { delay, then: Box::new(self) }
    }

    pub fn closing(self) -> Route {
        Route::Close(Box::new(self))
    }

    /// This route to browsers, `crawlers` to search engines' crawlers.
    pub fn crawlers_get(self, crawlers: Route) -> Route {
        Route::ForCrawlers { crawlers: Box::new(crawlers), others: Box::new(self) }
    }
}

/// Whether a User-Agent names a search engine's crawler.
fn is_crawler(user_agent: &str) -> bool {
    let lower = user_agent.to_ascii_lowercase();
    lower.contains("spider") || lower.contains("bot")
}

#[derive(Default)]
struct State {
    routes: Mutex<HashMap<String, Route>>,
    hits: Mutex<HashMap<String, usize>>,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
}

/// A running simulator; stops when dropped.
pub struct Sim {
    pub addr: SocketAddr,
    scheme: &'static str,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sim {
    /// A plain-HTTP simulator on an ephemeral loopback port.
    pub async fn start() -> std::io::Result<Sim> {
        Self::start_on("127.0.0.1:0".parse().expect("literal address"), None).await
    }

    /// An HTTPS simulator presenting `certificate_chain` with `key` (both PEM).
    pub async fn start_tls(certificate_chain_pem: &str, key_pem: &str) -> std::io::Result<Sim> {
        use rustls_pki_types::pem::PemObject;
        let certificates: Vec<_> = rustls_pki_types::CertificateDer::pem_slice_iter(certificate_chain_pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(std::io::Error::other)?;
        let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(std::io::Error::other)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(certificates, key)
            .map_err(std::io::Error::other)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        Self::start_on("127.0.0.1:0".parse().expect("literal address"), Some(acceptor)).await
    }

    /// A simulator on `addr` (for the `xunjian-sim` binary).
    pub async fn start_on(addr: SocketAddr, tls: Option<tokio_rustls::TlsAcceptor>) -> std::io::Result<Sim> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        let scheme = if tls.is_some() { "https" } else { "http" };
        let task_state = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                // As web servers do (nginx's tcp_nodelay): a response written in two pieces
                // would otherwise wait for the client's delayed ACK, 40 ms a request.
                let _ = stream.set_nodelay(true);
                let state = task_state.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                serve_connection(stream, state).await;
                            }
                        }
                        None => serve_connection(stream, state).await,
                    }
                });
            }
        });
        Ok(Sim { addr, scheme, state, task })
    }

    pub fn route(&self, path: &str, route: Route) {
        self.state.routes.lock().expect("routes lock").insert(path.to_string(), route);
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    /// Requests (GET or HEAD) received for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.state.hits.lock().expect("hits lock").get(path).copied().unwrap_or(0)
    }

    /// The most requests this simulator ever had in flight at once.
    pub fn peak_in_flight(&self) -> usize {
        self.state.peak_in_flight.load(Ordering::SeqCst)
    }
}

/// Serves requests on one connection until the client closes it.
async fn serve_connection<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, state: Arc<State>) {
    let mut buffer = Vec::new();
    loop {
        let Some(Request { method, target, keep_alive, user_agent }) = read_request(&mut stream, &mut buffer).await
        else {
            return;
        };
        let path = target.clone();
        *state.hits.lock().expect("hits lock").entry(path.clone()).or_default() += 1;
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        let route = {
            let routes = state.routes.lock().expect("routes lock");
            routes.get(&path).or_else(|| routes.get(path.split('?').next().unwrap_or(&path))).cloned()
        };
        let route = match route {
            Some(Route::ForCrawlers { crawlers, others }) => {
                Some(if is_crawler(&user_agent) { *crawlers } else { *others })
            }
            route => route,
        };
        let keep = respond(&mut stream, &method, route.unwrap_or_else(|| Route::status(404)), keep_alive).await;
        state.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !keep {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// One request's head, as far as the simulator cares.
struct Request {
    method: String,
    target: String,
    keep_alive: bool,
    user_agent: String,
}

/// Reads one request head. Bodies are not expected.
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S, buffer: &mut Vec<u8>) -> Option<Request> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_string();
            buffer.drain(..end + 4);
            let mut lines = head.lines();
            let mut parts = lines.next()?.split_whitespace();
            let method = parts.next()?.to_string();
            let target = parts.next()?.to_string();
            let (mut close, mut user_agent) = (false, String::new());
            for line in lines {
                let lower = line.to_ascii_lowercase();
                if lower.starts_with("connection:") && lower.contains("close") {
                    close = true;
                } else if lower.starts_with("user-agent:") {
                    user_agent = line["user-agent:".len()..].trim().to_string();
                }
            }
            return Some(Request { method, target, keep_alive: !close, user_agent });
        }
        if buffer.len() > 64 * 1024 {
            return None;
        }
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// Writes the response for `route`; returns whether the connection may be reused.
async fn respond<S: AsyncWrite + Unpin>(stream: &mut S, method: &str, mut route: Route, mut keep_alive: bool) -> bool {
    loop {
        match route {
            Route::Delay { delay, then } => {
                tokio::time::sleep(delay).await;
                route = *then;
            }
            Route::Close(then) => {
                keep_alive = false;
                route = *then;
            }
            Route::Alternate { period, mut routes } if !routes.is_empty() => {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                let turn = (now.as_millis() / period.as_millis().max(1)) as usize % routes.len();
                route = routes.swap_remove(turn);
            }
            _ => break,
        }
    }
    let connection = if keep_alive { "keep-alive" } else { "close" };
    match route {
        Route::Page { status, content_type, body, gzip } => {
            // A gzipped page's body is compressed already.
            let encoding = if gzip { "Content-Encoding: gzip\r\n" } else { "" };
            let head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{encoding}Connection: {connection}\r\n\r\n",
                reason(status),
                body.len()
            );
            if stream.write_all(head.as_bytes()).await.is_err() {
                return false;
            }
            if method != "HEAD" && stream.write_all(&body).await.is_err() {
                return false;
            }
            stream.flush().await.is_ok() && keep_alive
        }
        Route::Redirect { status, location } => {
            let head = format!(
                "HTTP/1.1 {status} {}\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: {connection}\r\n\r\n",
                reason(status)
            );
            stream.write_all(head.as_bytes()).await.is_ok() && stream.flush().await.is_ok() && keep_alive
        }
        Route::ResetMidBody { body_prefix, claimed_length } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {claimed_length}\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body_prefix).await;
            let _ = stream.flush().await;
            false
        }
        Route::Stream { content_type, declared_length, chunk, pause } => {
            let length = declared_length.map(|n| format!("Content-Length: {n}\r\n")).unwrap_or_default();
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{length}Connection: close\r\n\r\n");
            if stream.write_all(head.as_bytes()).await.is_err() {
                return false;
            }
            loop {
                if stream.write_all(&chunk).await.is_err() || stream.flush().await.is_err() {
                    return false;
                }
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
            }
        }
        Route::Delay { .. } | Route::Close(_) | Route::Alternate { .. } | Route::ForCrawlers { .. } => false,
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn gzip_bytes(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}
