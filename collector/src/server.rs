//! The collector's two listeners and its background work, started together and stopped
//! together.
//!
//! - push: HTTPS with a required client certificate; the certificate's common name rides into
//!   the handler as [`PeerIdentity`].
//! - web: plain HTTP (or HTTPS without client certificates) for Prometheus and people.
//! - retention: every minute, series not observed within `series_expiry` and batch ids older
//!   than `dedupe_window` are removed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::routing::post;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
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
    pub web_listen: SocketAddr,
    pub web_tls: Option<Arc<rustls::ServerConfig>>,
    /// Bearer token for registry and exemption changes through the API; None: read-only API.
    pub admin_token: Option<String>,
    pub series_expiry: Duration,
    pub dedupe_window: Duration,
    pub alerts: xunjian_shared::config::AlertsConfig,
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
            web_listen: config.web.listen,
            web_tls,
            admin_token: config.web.admin_token.clone(),
            series_expiry: config.series_expiry,
            dedupe_window: config.dedupe_window,
            alerts: config.alerts.clone(),
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
    let store = tokio::task::block_in_place(|| Store::open(&settings.database))?;
    let board = AlertBoard::default();
    let metrics = Arc::new(Metrics::new(store.clone(), board.clone()));
    let (shutdown, watcher) = watch::channel(false);

    let ingest_state = Arc::new(IngestState {
        store: store.clone(),
        counters: metrics.counters.clone(),
        max_body_bytes: settings.push_max_body_bytes,
        read_timeout: settings.push_read_timeout,
        rate: ingest::RateLimiter::new(settings.push_max_batches_per_minute),
    });
    let push_router = Router::new().route("/api/v1/push", post(ingest::push)).with_state(ingest_state);
    let web_router = web::router(WebState {
        store: store.clone(),
        metrics: metrics.clone(),
        admin_token: settings.admin_token.clone().map(Arc::from),
        alerts: board.clone(),
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
    let dispatcher =
        alerts::notify::Dispatcher::start(&settings.alerts.notifiers, Some(status_page), metrics.counters.clone());
    let tasks = vec![
        tokio::spawn(serve(
            push_listener,
            Some(TlsAcceptor::from(settings.push_tls)),
            push_router,
            true,
            settings.push_read_timeout,
            watcher.clone(),
        )),
        tokio::spawn(serve(
            web_listener,
            settings.web_tls.map(TlsAcceptor::from),
            web_router,
            false,
            WEB_HEADER_TIMEOUT,
            watcher.clone(),
        )),
        tokio::spawn(retention(store.clone(), settings.series_expiry, settings.dedupe_window, watcher.clone())),
        tokio::spawn(alerts::run(
            store.clone(),
            settings.database.clone(),
            settings.alerts.clone(),
            board,
            dispatcher,
            watcher,
        )),
    ];
    tracing::info!(push = %push_addr, web = %web_addr, database = %settings.database.display(), "collector listening");
    Ok(Running { push_addr, web_addr, store, metrics, shutdown, tasks })
}

/// Accepts connections until shutdown; each is served by hyper (HTTP/1.1 or HTTP/2).
async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    with_identity: bool,
    header_timeout: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => break,
        };
        let (tcp, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors and the like: pause instead of spinning.
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // A client that trickles its headers is cut off instead of holding a connection.
        builder.http1().timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(header_timeout);
        match &tls {
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let router = router.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
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
                        };
                        router.layer(Extension(peer))
                    } else {
                        router
                    };
                    let connection =
                        builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router)).into_owned();
                    let _ = watcher.watch(connection).await;
                });
            }
            None => {
                let connection =
                    builder.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(router.clone())).into_owned();
                let watched = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = watched.await;
                });
            }
        }
    }
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await;
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
