//! The collector's two listeners and its background work, started together and stopped
//! together.
//!
//! - push: HTTPS with a required client certificate; the certificate's common name rides into
//!   the handler as [`PeerIdentity`].
//! - web: plain HTTP (or HTTPS without client certificates) for Prometheus and people.
//! - retention: every minute, series not observed within `series_expiry` and batch ids older
//!   than `dedupe_window` are removed.
//!
//! Both listeners bound what an unauthenticated client can hold: a connection cap each, well
//! below the file limit (beyond it new connections are closed at once), a first request within
//! [`FIRST_REQUEST_TIMEOUT`], an idle timeout, header read timeouts, and for HTTP/2 keep-alive
//! pings and a stream cap. Accept failures are logged at most once a second.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::routing::post;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use jiff::Timestamp;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use xunjian_shared::config::CollectorConfig;

use crate::alerts::{self, AlertBoard};
use crate::ingest::{self, IngestState, PeerIdentity};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};
use crate::tls::{self, TlsError};
use crate::web::{self, WebState};

/// A TLS handshake that takes longer than this is dropped (a slow or silent client holds no slot).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long in-flight requests may finish after shutdown begins.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Web clients (browsers, Prometheus) must send their request headers within this.
const WEB_HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How often retention runs.
const RETENTION_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "cannot listen on {addr}: {source}; is another process using the port? pick another address in the configuration"
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Everything `start` needs, resolved (TLS configurations built, paths absolute).
pub struct Settings {
    pub database: PathBuf,
    pub push_listen: SocketAddr,
    pub push_tls: Arc<rustls::ServerConfig>,
    pub push_max_body_bytes: u64,
    /// Per agent; beyond it 429 with Retry-After.
    pub push_max_batches_per_minute: u32,
    /// Headers, then the body, must arrive within this (slow clients hold no slot).
    pub push_read_timeout: Duration,
    /// What one agent may send and own.
    pub push_limits: xunjian_shared::config::collector::PushLimits,
    /// `[[push.agent]]`: agents bound to a county.
    pub push_agents: Vec<xunjian_shared::config::collector::AgentBinding>,
    pub web_listen: SocketAddr,
    pub web_tls: Option<Arc<rustls::ServerConfig>>,
    /// Bearer token for registry and exemption changes through the API; None: read-only API.
    pub admin_token: Option<String>,
    /// The bearer token `/metrics` wants from other hosts; None: loopback clients only.
    pub metrics_token: Option<String>,
    /// Anyone may read every page without logging in (`[web] open_reads`).
    pub open_reads: bool,
    pub session_lifetime: Duration,
    pub session_idle: Duration,
    pub series_expiry: Duration,
    pub dedupe_window: Duration,
    /// Daily history is kept this long.
    pub history_retention: Duration,
    pub alerts: xunjian_shared::config::AlertsConfig,
    /// How the problem ledger debounces.
    pub ledger: crate::ledger::LedgerSettings,
    /// The 通报's title block and 整改 terms.
    pub report: crate::report::Settings,
    /// `[registry]`: the notice's rules for filed accounts.
    pub registry: xunjian_shared::config::collector::RegistryConfig,
}

impl Settings {
    pub fn from_config(config: &CollectorConfig) -> Result<Settings, TlsError> {
        let push_tls = tls::push_server_config(&config.push.ca, &config.push.cert, &config.push.key)?;
        let web_tls = match &config.web.tls {
            Some((cert, key)) => Some(tls::web_server_config(cert, key)?),
            None => None,
        };
        Ok(Settings {
            database: config.database.clone(),
            push_listen: config.push.listen,
            push_tls,
            push_max_body_bytes: config.push.max_body_bytes,
            push_max_batches_per_minute: config.push.max_batches_per_minute,
            push_read_timeout: config.push.read_timeout,
            push_limits: config.push.limits,
            push_agents: config.push.agents.clone(),
            web_listen: config.web.listen,
            web_tls,
            admin_token: config.web.admin_token.clone(),
            metrics_token: config.web.metrics_token.clone(),
            open_reads: config.web.open_reads,
            session_lifetime: config.web.session_lifetime,
            session_idle: config.web.session_idle,
            series_expiry: config.series_expiry,
            dedupe_window: config.dedupe_window,
            history_retention: config.history_retention,
            alerts: config.alerts.clone(),
            ledger: crate::ledger::LedgerSettings {
                close_after: config.ledger.close_after,
                reopen_within: jiff::SignedDuration::try_from(config.ledger.reopen_within).unwrap_or_default(),
            },
            report: crate::report::Settings::from_config(&config.report),
            registry: config.registry.clone(),
        })
    }
}

/// A running collector.
pub struct Running {
    pub push_addr: SocketAddr,
    pub web_addr: SocketAddr,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish (up to a deadline), and returns.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(DRAIN_TIMEOUT + Duration::from_secs(1), task).await;
        }
        // Leave little for the next start to replay.
        if let Err(err) = self.store.checkpoint().await {
            tracing::error!(error = %err, "checkpoint at shutdown failed; the batch log will be replayed at the next start");
        }
    }
}

/// Opens the store and binds both listeners; returns once they accept connections.
pub async fn start(settings: Settings) -> Result<Running, ServeError> {
    let store = tokio::task::block_in_place(|| {
        Store::open_with(&settings.database, settings.ledger, settings.history_retention, settings.registry.clone())
    })?;
    let board = AlertBoard::default();
    let metrics = Arc::new(Metrics::new(store.clone(), board.clone()));
    let (shutdown, watcher) = watch::channel(false);

    let ingest_state = Arc::new(IngestState {
        store: store.clone(),
        counters: metrics.counters.clone(),
        max_body_bytes: settings.push_max_body_bytes,
        read_timeout: settings.push_read_timeout,
        rate: ingest::RateLimiter::new(settings.push_max_batches_per_minute),
        limits: settings.push_limits,
        counties: settings.push_agents.iter().map(|b| (b.id.clone(), b.county.clone())).collect(),
    });
    let push_router = Router::new().route("/api/v1/push", post(ingest::push)).with_state(ingest_state);
    let gate = tokio::task::block_in_place(|| {
        web::access::Gate::open(
            &settings.database,
            web::access::GateSettings {
                admin_token: settings.admin_token.clone(),
                open_reads: settings.open_reads,
                session_lifetime: settings.session_lifetime,
                session_idle: settings.session_idle,
                https: settings.web_tls.is_some(),
            },
        )
    })?;
    if settings.open_reads {
        tracing::warn!("[web] open_reads: anyone who reaches the web port reads every county without logging in");
    }
    let web_router = web::router(WebState {
        store: store.clone(),
        metrics: metrics.clone(),
        gate: Arc::new(gate),
        metrics_token: settings.metrics_token.clone().map(Arc::from),
        alerts: board.clone(),
        renders: Default::default(),
        judgements: Default::default(),
        report: Arc::new(settings.report.clone()),
    });

    let bind = |addr: SocketAddr| async move {
        TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })
    };
    let push_listener = bind(settings.push_listen).await?;
    let web_listener = bind(settings.web_listen).await?;
    let push_addr =
        push_listener.local_addr().map_err(|source| ServeError::Bind { addr: settings.push_listen, source })?;
    let web_addr =
        web_listener.local_addr().map_err(|source| ServeError::Bind { addr: settings.web_listen, source })?;

    // Messages link to the status page: the configured address, else the web listener's own.
    let status_page = settings
        .alerts
        .status_page_url
        .as_ref()
        .map(|url| url.to_string())
        .unwrap_or_else(|| format!("{}://{web_addr}/", if settings.web_tls.is_some() { "https" } else { "http" }));
    let (push_connections, web_connections) = connection_caps();
    let push_limits = ConnectionLimits {
        max_connections: push_connections,
        first_request: FIRST_REQUEST_TIMEOUT,
        idle: PUSH_IDLE_TIMEOUT,
        header_read: settings.push_read_timeout,
        per_address: Some(PUSH_CONNECTIONS_PER_ADDRESS),
    };
    let web_limits = ConnectionLimits {
        max_connections: web_connections,
        first_request: FIRST_REQUEST_TIMEOUT,
        idle: WEB_IDLE_TIMEOUT,
        header_read: WEB_HEADER_TIMEOUT,
        // People usually come through a reverse proxy on this host: one address for all.
        per_address: None,
    };
    tracing::debug!(push_connections, web_connections, "connection caps");
    let tasks = vec![
        tokio::spawn(serve(
            push_listener,
            Some(TlsAcceptor::from(settings.push_tls)),
            push_router,
            true,
            push_limits,
            watcher.clone(),
        )),
        tokio::spawn(serve(
            web_listener,
            settings.web_tls.map(TlsAcceptor::from),
            web_router,
            false,
            web_limits,
            watcher.clone(),
        )),
        tokio::spawn(retention(store.clone(), settings.series_expiry, settings.dedupe_window, watcher.clone())),
        tokio::spawn(alerts::run(
            store.clone(),
            settings.database.clone(),
            settings.alerts.clone(),
            board,
            status_page,
            metrics.counters.clone(),
            watcher,
        )),
    ];
    tracing::info!(push = %push_addr, web = %web_addr, database = %settings.database.display(), "collector listening");
    Ok(Running { push_addr, web_addr, store, metrics, shutdown, tasks })
}

/// What one listener allows a connection.
#[derive(Clone, Copy, Debug)]
struct ConnectionLimits {
    /// Connections open at once; more are closed as soon as they are accepted.
    max_connections: usize,
    /// The first request must arrive within this of the connection (TLS handshake included).
    first_request: Duration,
    /// A connection with no request in flight for this long is closed.
    idle: Duration,
    /// Headers of a request must arrive within this once they start.
    header_read: Duration,
    /// Connections one address may hold at once (None: no limit, e.g. behind a reverse proxy).
    per_address: Option<usize>,
}

/// An agent holds one or two connections; a client holding this many is not an agent, and must
/// not take the push port's slots from the agents (before its TLS handshake even ends).
const PUSH_CONNECTIONS_PER_ADDRESS: usize = 32;

/// A connection that sends nothing holds a slot at most this long.
const FIRST_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Browsers and Prometheus reconnect cheaply; agents push every few seconds while they work.
const WEB_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const PUSH_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// After asking a connection to close, how long its in-flight responses may take.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// HTTP/2: ping an idle peer this often, give up after this, and at most this many streams.
const H2_KEEP_ALIVE: Duration = Duration::from_secs(30);
const H2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(10);
const H2_MAX_STREAMS: u32 = 32;
/// File descriptors kept free of both listeners: the database, its WAL, logs, notifier sockets.
const FD_RESERVE: usize = 64;

/// Connection caps for the push and web listeners, well below the process's file limit, so
/// that idle sockets on the open web port can never starve agents' pushes (or SQLite) of
/// descriptors.
fn connection_caps() -> (usize, usize) {
    let limit = open_file_limit().unwrap_or(1024);
    let budget = limit.saturating_sub(FD_RESERVE).max(32);
    ((budget / 2).clamp(8, 4096), (budget / 4).clamp(4, 1024))
}

/// The soft limit on open files (`ulimit -n`), from /proc (no unsafe getrlimit).
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|line| line.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files").split_whitespace().next()?.parse().ok()
}

/// Connections held per remote address.
#[derive(Clone, Default)]
struct PerAddress {
    held: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>,
}

/// One connection's place in [`PerAddress`], given back on drop.
struct AddressSlot {
    owner: Option<(PerAddress, std::net::IpAddr)>,
}

impl PerAddress {
    /// A place for a connection from `ip`, or None when it holds `limit` already.
    fn take(&self, ip: std::net::IpAddr, limit: Option<usize>) -> Option<AddressSlot> {
        let Some(limit) = limit else { return Some(AddressSlot { owner: None }) };
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let count = held.entry(ip).or_default();
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(AddressSlot { owner: Some((self.clone(), ip)) })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        if let Some((per_address, ip)) = self.owner.take() {
            let mut held = per_address.held.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(count) = held.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    held.remove(&ip);
                }
            }
        }
    }
}

/// Logs an accept failure (or a refused connection) at most once a second, with how many
/// were not logged.
struct RateLimitedLog {
    last: Option<std::time::Instant>,
    suppressed: u64,
}

impl RateLimitedLog {
    fn new() -> Self {
        RateLimitedLog { last: None, suppressed: 0 }
    }

    fn note(&mut self, log: impl FnOnce(u64)) {
        let now = std::time::Instant::now();
        if self.last.is_some_and(|last| now.duration_since(last) < Duration::from_secs(1)) {
            self.suppressed += 1;
            return;
        }
        log(self.suppressed);
        self.last = Some(now);
        self.suppressed = 0;
    }
}

/// Accepts connections until shutdown; each is served by hyper (HTTP/1.1 or HTTP/2) within
/// `limits`, then drained on shutdown.
async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    with_identity: bool,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let per_address = PerAddress::default();
    let mut connections = tokio::task::JoinSet::new();
    let mut accept_errors = RateLimitedLog::new();
    let mut over_cap = RateLimitedLog::new();
    loop {
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => break,
        };
        let (tcp, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors and the like: pause instead of spinning.
                accept_errors.note(|suppressed| tracing::warn!(error = %err, suppressed, "accept failed"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(address_slot) = per_address.take(remote.ip(), limits.per_address) else {
            over_cap.note(|suppressed| {
                tracing::warn!(remote = %remote, suppressed, "too many connections from one address; closing new ones")
            });
            drop(tcp);
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            over_cap.note(|suppressed| {
                tracing::warn!(
                    remote = %remote,
                    limit = limits.max_connections,
                    suppressed,
                    "too many connections on this listener; closing new ones until some end"
                )
            });
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let tls = tls.clone();
        let router = router.clone();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let _slots = (slot, address_slot);
            match tls {
                Some(acceptor) => {
                    let started = tokio::time::Instant::now();
                    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(err)) => {
                            tracing::info!(remote = %remote, error = %err, "TLS handshake refused");
                            return;
                        }
                        Err(_) => {
                            tracing::info!(remote = %remote, "TLS handshake timed out");
                            return;
                        }
                    };
                    let router = if with_identity {
                        let certificate =
                            stream.get_ref().1.peer_certificates().and_then(|chain| chain.first().cloned());
                        let peer = PeerIdentity {
                            common_name: certificate
                                .as_ref()
                                .and_then(|der| xunjian_shared::x509::subject_common_name(der)),
                            serial: certificate.as_ref().and_then(|der| xunjian_shared::x509::serial_hex(der)),
                            not_after: certificate.as_ref().and_then(|der| xunjian_shared::x509::not_after(der)),
                        };
                        router.layer(Extension(peer))
                    } else {
                        router.layer(Extension(crate::web::RemoteAddress(remote)))
                    };
                    serve_connection(TokioIo::new(stream), router, limits, started, shutdown).await;
                }
                None => {
                    // The web listener's handlers may ask who is calling (`/metrics` on loopback).
                    let router = router.layer(Extension(crate::web::RemoteAddress(remote)));
                    serve_connection(TokioIo::new(tcp), router, limits, tokio::time::Instant::now(), shutdown).await
                }
            }
        });
    }
    let drain = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
}

/// Serves one connection until it ends, goes idle (no request in flight past the limits),
/// or the collector shuts down; then closes it gracefully, and drops it after [`CLOSE_GRACE`].
async fn serve_connection<I>(
    io: I,
    router: Router,
    limits: ConnectionLimits,
    started: tokio::time::Instant,
    mut shutdown: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new(started));
    let service = TowerToHyperService::new(Tracked { inner: router, activity: activity.clone() });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A client that trickles its headers is cut off instead of holding a connection.
    builder.http1().timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(limits.header_read);
    builder
        .http2()
        .timer(hyper_util::rt::TokioTimer::new())
        .keep_alive_interval(Some(H2_KEEP_ALIVE))
        .keep_alive_timeout(H2_KEEP_ALIVE_TIMEOUT)
        .max_concurrent_streams(H2_MAX_STREAMS);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut closing_since: Option<tokio::time::Instant> = None;
    loop {
        let grace_over = async {
            match closing_since {
                Some(since) => tokio::time::sleep_until(since + CLOSE_GRACE).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = connection.as_mut() => return,
            served = activity.idle(limits), if closing_since.is_none() => {
                // A client that never made a request has nothing to finish: drop it now.
                if !served {
                    return;
                }
                connection.as_mut().graceful_shutdown();
                closing_since = Some(tokio::time::Instant::now());
            }
            _ = shutdown.changed(), if closing_since.is_none() => {
                connection.as_mut().graceful_shutdown();
                closing_since = Some(tokio::time::Instant::now());
            }
            _ = grace_over => return,
        }
    }
}

/// Requests in flight on one connection, and when the last one ended.
struct Activity {
    state: std::sync::Mutex<ActivityState>,
}

struct ActivityState {
    in_flight: usize,
    /// Connection start, then the end of the newest request.
    last: tokio::time::Instant,
    any_request: bool,
}

impl Activity {
    fn new(started: tokio::time::Instant) -> Self {
        Activity { state: std::sync::Mutex::new(ActivityState { in_flight: 0, last: started, any_request: false }) }
    }

    fn begin(self: &Arc<Self>) -> RequestGuard {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.in_flight += 1;
        state.any_request = true;
        RequestGuard { activity: self.clone() }
    }

    /// Resolves once no request has been in flight for the limit that applies; whether any
    /// request was ever made.
    async fn idle(&self, limits: ConnectionLimits) -> bool {
        loop {
            let deadline = {
                let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
                let wait = if state.any_request { limits.idle } else { limits.first_request };
                if state.in_flight > 0 {
                    tokio::time::Instant::now() + limits.idle
                } else if tokio::time::Instant::now() >= state.last + wait {
                    return state.any_request;
                } else {
                    state.last + wait
                }
            };
            tokio::time::sleep_until(deadline).await;
        }
    }
}

struct RequestGuard {
    activity: Arc<Activity>,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let mut state = self.activity.state.lock().unwrap_or_else(|p| p.into_inner());
        state.in_flight = state.in_flight.saturating_sub(1);
        state.last = tokio::time::Instant::now();
    }
}

/// The router, counting each request as in flight until its handler answers.
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S, R> tower::Service<R> for Tracked<S>
where
    S: tower::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let guard = self.activity.begin();
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await;
            drop(guard);
            response
        })
    }
}

async fn retention(
    store: Store,
    series_expiry: Duration,
    dedupe_window: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(RETENTION_EVERY);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.changed() => return,
        }
        match store.expire(Timestamp::now(), series_expiry, dedupe_window).await {
            Ok(expired) if expired.subjects > 0 || expired.batch_ids > 0 => {
                tracing::info!(
                    subjects = expired.subjects,
                    batch_ids = expired.batch_ids,
                    "retention removed old state"
                );
            }
            Ok(_) => {}
            Err(err) => tracing::error!(error = %err, "retention failed"),
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (systemd's stop).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
