//! The web listener's routes: the status page for people, `/metrics` for Prometheus, the JSON
//! API, `/api/v1/alerts` and the health check, all reading the store's projection; and the
//! office's decisions ([`admin_api`]: registry, exemptions, silences), whose changes need an
//! admin. Every page and API answer but `/metrics`, `/healthz` and `/login` needs a caller
//! ([`access`]) and shows only the counties it may see.
//!
//! `/metrics`, `/` and `/api/v1/status` render the whole projection: each is rendered by one
//! request at a time and reused for a second ([`Renders`]), so a crowd of clients costs
//! one rendering a second, not one each; the verdicts and ratios those and the console show
//! are judged once a second for all of them ([`Judgements`]).

pub mod access;
mod admin_api;
pub mod console;
mod history;
pub mod judged;
mod problems;
mod report;
pub mod status_page;
mod tasks;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use xunjian_shared::wire::{AgentStatus, ApiError, ExemptedFinding, ExemptionStatus, StatusReport, TargetStatus};

use crate::metrics::{self, Metrics};
use crate::people::Scope;
use crate::registry::Exemption;
use crate::store::Store;
use crate::view::View;
pub use access::Caller;
pub use judged::{Judged, Judgements};

#[derive(Clone)]
pub struct WebState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    /// Logins, sessions, tokens: who is calling.
    pub gate: Arc<access::Gate>,
    /// `/metrics` from another host needs `Authorization: Bearer <this>`; None: loopback only.
    pub metrics_token: Option<Arc<str>>,
    pub alerts: crate::alerts::AlertBoard,
    pub renders: Arc<Renders>,
    /// The verdicts and ratios every page shares for a second.
    pub judgements: Arc<Judgements>,
    /// The 通报's title block and 整改 terms.
    pub report: Arc<crate::report::Settings>,
}

/// The shared renderings of the expensive pages (`/metrics` in both formats, `/`,
/// `/api/v1/status`): one rendering at a time for all of them, each reused for a second.
#[derive(Default)]
pub struct Renders {
    slots: Arc<tokio::sync::Mutex<std::collections::HashMap<(Page, Scope), Rendering>>>,
}

/// The pages rendered from the whole projection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Page {
    MetricsText,
    MetricsOpenMetrics,
    Status,
    StatusJson,
}

/// How long a rendering is served again.
const RENDER_FRESH: std::time::Duration = std::time::Duration::from_secs(1);
/// The moment whose state a shared rendering shows (RFC 3339; for the status page and
/// `/api/v1/status`, when their verdicts were judged): a reader that must see a change waits
/// for a rendering of a moment after it.
pub const RENDERED_AT_HEADER: &str = "x-xunjian-rendered-at";
/// Which rendering this is (a number counted in this process): callers served one shared
/// rendering see the same number.
pub const RENDERING_HEADER: &str = "x-xunjian-rendering";

#[derive(Clone)]
pub struct Rendering {
    made: tokio::time::Instant,
    rendered_at: Timestamp,
    number: u64,
    body: bytes::Bytes,
}

impl Rendering {
    fn new(rendered_at: Timestamp, body: bytes::Bytes) -> Rendering {
        static RENDERINGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let number = RENDERINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Rendering { made: tokio::time::Instant::now(), rendered_at, number, body }
    }

    /// Its headers, on `response`: the moment it shows and its number.
    fn mark(&self, response: &mut Response) {
        let headers = response.headers_mut();
        if let Ok(at) = header::HeaderValue::from_str(&self.rendered_at.to_string()) {
            headers.insert(header::HeaderName::from_static(RENDERED_AT_HEADER), at);
        }
        headers.insert(header::HeaderName::from_static(RENDERING_HEADER), header::HeaderValue::from(self.number));
    }
}

impl Renders {
    /// `page` for the counties of `scope` as rendered within the last second, or rendered now.
    /// Requests arriving while it renders wait for it. The rendering runs in a task of its own
    /// that holds the lock to the end, so a client that hangs up cannot start a second one
    /// beside it. `render` returns the body and the moment whose state it shows.
    async fn get(
        &self,
        page: Page,
        scope: Scope,
        render: impl FnOnce() -> (String, Timestamp) + Send + 'static,
    ) -> Rendering {
        let slots = self.slots.clone();
        let rendering = tokio::spawn(async move {
            let mut slots = slots.lock_owned().await;
            let page = (page, scope);
            if let Some(rendering) = slots.get(&page)
                && rendering.made.elapsed() < RENDER_FRESH
            {
                return rendering.clone();
            }
            // Rendering 100k series takes tens of milliseconds of CPU: off the async workers.
            let (body, rendered_at) =
                tokio::task::spawn_blocking(render).await.unwrap_or_else(|_| (String::new(), Timestamp::now()));
            let rendering = Rendering::new(rendered_at, bytes::Bytes::from(body));
            // Scopes come and go with people: the stale ones go before a new one is kept.
            slots.retain(|_, kept| kept.made.elapsed() < RENDER_FRESH);
            slots.insert(page, rendering.clone());
            rendering
        });
        rendering.await.unwrap_or_else(|_| Rendering::new(Timestamp::now(), bytes::Bytes::new()))
    }
}

impl Rendering {
    /// The response: `content_type`, the rendering's headers, the body.
    fn respond(self, content_type: &'static str) -> Response {
        let mut response = ([(header::CONTENT_TYPE, content_type)], self.body.clone()).into_response();
        self.mark(&mut response);
        response
    }
}

pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/login", get(access::login_form).post(access::login))
        .route("/logout", axum::routing::post(access::logout))
        .route("/api/v1/me", get(access::me))
        .route("/overview", get(console::overview::overview_page))
        .route("/county/{name}", get(console::overview::county_page))
        .route("/subject", get(console::overview::subject_page))
        .route("/problems", get(console::problems::list_page))
        .route("/registry", get(console::registry::registry_page))
        .route("/exemptions", get(console::registry::exemptions_page))
        .route("/users", get(console::registry::users_page).post(console::registry::add_user))
        .route("/users/{name}/{action}", axum::routing::post(console::registry::change_user))
        .route("/tasks", get(console::tasks::board_page).post(console::tasks::create))
        .route("/tasks/{id}", get(console::tasks::detail_page))
        .route("/metrics", get(metrics_page))
        .route("/healthz", get(healthz))
        .route("/api/v1/status", get(status_api))
        .route("/api/v1/alerts", get(alerts_api))
        .route("/api/v1/notifications", get(notifications_api))
        .route("/api/v1/problems", get(problems::json))
        .route("/api/v1/history", get(history::target))
        .route("/api/v1/history/counties", get(history::counties))
        .route("/api/v1/problems.csv", get(problems::csv))
        .route("/report", get(report::index))
        .route("/api/v1/report", get(report::download))
        .merge(admin_api::routes())
        .merge(tasks::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// A 400 saying what is wrong with the request.
pub(crate) fn bad_request(detail: String) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(ApiError::new("bad_request", detail))).into_response()
}

/// The query's first parameter not in `known`, as a refusal's words.
fn unknown_parameter(query: &std::collections::HashMap<String, String>, known: &[&str]) -> Result<(), String> {
    match query.keys().find(|key| !known.contains(&key.as_str())) {
        Some(unknown) => Err(format!("不认识的参数 {unknown:?}；可用：{}", known.join(", "))),
        None => Ok(()),
    }
}

/// Runs a read of the store off the async workers; a failure is logged and answered as a 500
/// naming `what` (Chinese: 问题台账, 历史记录).
pub(crate) async fn read_blocking<T: Send + 'static>(
    what: &'static str,
    read: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, Response> {
    let cause = match tokio::task::spawn_blocking(read).await {
        Ok(Ok(answer)) => return Ok(answer),
        Ok(Err(err)) => err.to_string(),
        Err(err) => err.to_string(),
    };
    tracing::error!(error = cause, what, "reading the store failed");
    let detail = format!("读取{what}失败，请稍后重试；若持续失败请查看采集中心日志");
    Err((StatusCode::INTERNAL_SERVER_ERROR, axum::Json(ApiError::new("internal", detail))).into_response())
}

/// Unknown paths and methods answer like every other refusal: an `ApiError`.
async fn not_found(uri: axum::http::Uri) -> Response {
    let detail = format!("没有这个地址：{}；接口见 README（/api/v1/status、/metrics …）", uri.path());
    (StatusCode::NOT_FOUND, axum::Json(ApiError::new("not_found", detail))).into_response()
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let detail = format!("{} 不支持 {method} 请求", uri.path());
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(ApiError::new("method_not_allowed", detail))).into_response()
}

async fn status_page(State(state): State<WebState>, caller: Caller) -> Response {
    let (store, judgements, scope) = (state.store.clone(), state.judgements.clone(), caller.scope.clone());
    let rendering = state
        .renders
        .get(Page::Status, caller.scope.clone(), move || {
            let judged = judgements.get(&store);
            (status_page::render_for(&store, &judged, &scope), judged.at)
        })
        .await;
    // The shared rendering, with this caller's name and logout form in its place.
    let body = String::from_utf8_lossy(&rendering.body).replacen(
        status_page::CALLER_SLOT,
        &status_page::caller_bar(&caller),
        1,
    );
    let mut response = console::respond(body);
    rendering.mark(&mut response);
    response
}

/// The address a web request came from (set per connection by the server).
#[derive(Clone, Copy, Debug)]
pub struct RemoteAddress(pub std::net::SocketAddr);

/// The address a request counts as from: a forwarded one (a proxy on this host passing on
/// someone else's request) is from elsewhere.
fn proxied(peer: std::net::IpAddr, forwarded: bool) -> std::net::IpAddr {
    if forwarded { std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED) } else { peer }
}

/// Why `/metrics` refused a caller: status, code and what to do.
type MetricsRefusal = (StatusCode, &'static str, &'static str);

/// Whether `/metrics` answers a caller: with `expected` configured, only with that bearer token
/// (from any address); without one, only from this host.
fn metrics_access(
    expected: Option<&str>,
    remote: Option<std::net::IpAddr>,
    authorization: Option<&str>,
) -> Result<(), MetricsRefusal> {
    let given = authorization.and_then(|value| value.strip_prefix("Bearer "));
    match (expected, given) {
        (Some(expected), Some(token)) if admin_api::constant_time_eq(token.trim().as_bytes(), expected.as_bytes()) => {
            Ok(())
        }
        (Some(_), Some(_)) => Err((StatusCode::UNAUTHORIZED, "unauthorized", "令牌不正确")),
        (Some(_), None) => Err((
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "缺少令牌：/metrics 需要请求头 Authorization: Bearer <[web] metrics_token_file 中的令牌>",
        )),
        (None, _) if remote.is_none_or(|ip| ip.is_loopback()) => Ok(()),
        (None, _) => Err((
            StatusCode::FORBIDDEN,
            "forbidden",
            "/metrics 默认只对本机开放：Prometheus 在其他主机上时，请在 [web] 中设置 metrics_token_file，并在 Prometheus 的抓取配置中设置 authorization.credentials_file",
        )),
    }
}

async fn metrics_page(
    State(state): State<WebState>,
    remote: Option<axum::Extension<RemoteAddress>>,
    headers: HeaderMap,
) -> Response {
    // A request a proxy on this host forwards is not this host's: it comes from whoever the
    // proxy serves.
    let forwarded = ["x-real-ip", "x-forwarded-for", "forwarded"].iter().any(|name| headers.contains_key(*name));
    let remote = remote.map(|axum::Extension(RemoteAddress(address))| address.ip()).map(|ip| proxied(ip, forwarded));
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Err((status, code, detail)) = metrics_access(state.metrics_token.as_deref(), remote, authorization) {
        let mut response = (status, axum::Json(ApiError::new(code, detail))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        return response;
    }
    let openmetrics = metrics::wants_openmetrics(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let metrics = state.metrics.clone();
    let page = if openmetrics { Page::MetricsOpenMetrics } else { Page::MetricsText };
    let rendering = state
        .renders
        .get(page, Scope::All, move || {
            let at = Timestamp::now();
            (metrics.render(openmetrics), at)
        })
        .await;
    rendering.respond(if openmetrics { metrics::OPENMETRICS_TEXT } else { metrics::PROMETHEUS_TEXT })
}

async fn healthz() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok\n")
}

async fn status_api(State(state): State<WebState>, caller: Caller) -> Response {
    let (store, judgements, scope) = (state.store.clone(), state.judgements.clone(), caller.scope.clone());
    let rendering = state
        .renders
        .get(Page::StatusJson, caller.scope, move || {
            let judged = judgements.get(&store);
            (
                serde_json::to_string(&status_report(&store, &judged, &scope, Pages::Every)).unwrap_or_default(),
                judged.at,
            )
        })
        .await;
    rendering.respond("application/json")
}

/// The outbox: notices waiting, then the newest delivered, folded or given up. It names
/// receivers and every county: the city's only.
async fn notifications_api(State(state): State<WebState>, caller: Caller) -> Response {
    if let Err(denied) = caller.must_see_all() {
        return denied.into_response();
    }
    axum::Json(state.alerts.notifications(500).await).into_response()
}

/// Every alert the caller may see (a scoped caller: those labelled with its counties), firing
/// first, then pending, then resolved in the last day.
async fn alerts_api(State(state): State<WebState>, caller: Caller) -> Response {
    let mut alerts: Vec<crate::alerts::Alert> = state
        .alerts
        .current()
        .iter()
        .filter(|alert| caller.scope.is_all() || alert.labels.get("county").is_some_and(|c| caller.scope.sees(c)))
        .cloned()
        .collect();
    let order = |a: &crate::alerts::Alert| match a.state {
        crate::alerts::AlertState::Firing => 0,
        crate::alerts::AlertState::Pending => 1,
        crate::alerts::AlertState::Resolved => 2,
    };
    alerts.sort_by(|a, b| (order(a), b.active_at).cmp(&(order(b), a.active_at)));
    axum::Json(alerts.iter().map(crate::alerts::Alert::view).collect::<Vec<_>>()).into_response()
}

/// Which pages a status report lists.
pub enum Pages<'a> {
    /// None: the verdicts, ratios, registry and agents only.
    None,
    Every,
    /// The pages of the target of this name.
    Of(&'a str),
    /// Those `keep` keeps (the compact status page counts each and keeps none).
    Kept(&'a dyn Fn(&crate::view::Page<'_>) -> bool),
}

/// The agents, the pages `pages` lists (with exemptions applied), the verdicts and ratios of
/// `judged`, and the registry compared with what is observed: the read model ([`View`]) as
/// JSON. Only what `scope` may see: its counties' agents, pages, verdicts, ratios and registry
/// rows (a scoped caller gets no 全市 row: it would count the others).
pub fn status_report(store: &Store, judged: &Judged, scope: &Scope, pages: Pages<'_>) -> StatusReport {
    let registry = store.registry().clone();
    let snapshot = store.snapshot();
    let agents = snapshot
        .agents
        .iter()
        .filter(|(_, state)| scope.sees(&state.county))
        .map(|(agent, state)| AgentStatus {
            agent: agent.clone(),
            county: state.county.clone(),
            first_push_at: state.first_push_at,
            last_push_at: state.last_push_at,
            last_sequence: state.last_sequence,
            batches: state.batches,
        })
        .collect();
    let view = || View::of(&snapshot, &registry, judged.today);
    let listed = |page: &crate::view::Page<'_>| scope.sees(&page.state.county);
    let targets = match pages {
        Pages::None => Vec::new(),
        Pages::Every => view().pages().filter(listed).map(|page| target_status(&page)).collect(),
        Pages::Of(target) => view().pages_of(target).filter(listed).map(|page| target_status(&page)).collect(),
        Pages::Kept(keep) => {
            view().pages().filter(|page| listed(page) && keep(page)).map(|page| target_status(&page)).collect()
        }
    };
    let mut registry_status = judged.registry(scope);
    let visible = visible_targets_of(scope, &registry.filings, snapshot.subjects());
    registry_status.exemptions = registry
        .exemptions
        .iter()
        .filter(|e| visible.as_ref().is_none_or(|targets| targets.contains(&e.target)))
        .map(|e| exemption_status(e, judged.today))
        .collect();
    StatusReport {
        generated_at: judged.at,
        agents,
        targets,
        registry: registry_status,
        verdicts: judged.verdicts(scope).cloned().collect(),
        pass_ratios: judged.ratios(scope).cloned().collect(),
    }
}

/// One page as the status report lists it: its observation with the counted findings, and
/// the exempted ones beside.
fn target_status(page: &crate::view::Page<'_>) -> TargetStatus {
    let mut observation = page.observation().clone();
    if !page.exempted.is_empty() {
        observation.findings = page.findings.iter().map(|finding| (*finding).clone()).collect();
        observation.ok = page.ok();
    }
    TargetStatus {
        agent: page.key.agent.clone(),
        county: page.state.county.clone(),
        probes_ok: page.state.probes_ok,
        probes_failed: page.state.probes_failed,
        observation,
        exempted: page
            .exempted
            .iter()
            .map(|(finding, exemption)| ExemptedFinding { exemption: exemption.id, finding: (*finding).clone() })
            .collect(),
    }
}

/// The targets a scoped caller may know of (exemptions name a target only): its counties'
/// filings and observed pages. None: every target.
pub(crate) fn visible_targets(store: &Store, scope: &Scope) -> Option<std::collections::HashSet<String>> {
    scope.counties()?;
    let registry = store.registry().clone();
    visible_targets_of(scope, &registry.filings, store.snapshot().subjects())
}

fn visible_targets_of(
    scope: &Scope,
    filings: &[crate::registry::Filing],
    subjects: &std::collections::BTreeMap<crate::projection::SubjectKey, crate::projection::SubjectState>,
) -> Option<std::collections::HashSet<String>> {
    scope.counties()?;
    let mut targets: std::collections::HashSet<String> =
        filings.iter().filter(|f| scope.sees(&f.county)).map(|f| f.name.clone()).collect();
    targets.extend(subjects.iter().filter(|(_, s)| scope.sees(&s.county)).map(|(key, _)| key.target.clone()));
    Some(targets)
}

pub(crate) fn exemption_status(exemption: &Exemption, today: jiff::civil::Date) -> ExemptionStatus {
    ExemptionStatus {
        id: exemption.id,
        target: exemption.target.clone(),
        column: exemption.column.clone(),
        code: exemption.code,
        reason: exemption.reason.clone(),
        author: exemption.author.clone(),
        created_at: exemption.created_at,
        until: exemption.until,
        revoked_at: exemption.revoked_at,
        revoked_by: exemption.revoked_by.clone(),
        active: exemption.is_active(today),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{Channel, Filing, FilingStatus};

    #[test]
    fn metrics_answer_this_host_or_the_token_holder() {
        let loopback = Some("127.0.0.1".parse().unwrap());
        let v6_loopback = Some("::1".parse().unwrap());
        let elsewhere = Some("10.20.30.40".parse().unwrap());
        assert!(metrics_access(None, loopback, None).is_ok());
        let through_proxy = Some(proxied("127.0.0.1".parse().unwrap(), true));
        assert_eq!(
            metrics_access(None, through_proxy, None).unwrap_err().0,
            StatusCode::FORBIDDEN,
            "a request a proxy on this host forwards is not this host's"
        );
        assert!(metrics_access(None, v6_loopback, None).is_ok());
        assert_eq!(metrics_access(None, elsewhere, None).unwrap_err().0, StatusCode::FORBIDDEN);
        let token = Some("a-long-random-metrics-token");
        assert!(metrics_access(token, elsewhere, Some("Bearer a-long-random-metrics-token")).is_ok());
        assert_eq!(metrics_access(token, elsewhere, Some("Bearer wrong")).unwrap_err().0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            metrics_access(token, loopback, None).unwrap_err().0,
            StatusCode::UNAUTHORIZED,
            "a token, once set, is needed"
        );
    }
    use crate::registry::{ExemptionDraft, NewExemption};
    use crate::store::{LoggedBody, RegistryChange};
    use xunjian_shared::config::Platform;
    use xunjian_shared::wire::{Batch, BatchId, CheckKind, Finding, FindingCode, Observation, TargetKind};

    fn stale_column(at: Timestamp) -> Observation {
        let mut observation = Observation::new(
            "龙川县人民政府门户网站",
            TargetKind::Site,
            "县政府办",
            "http://127.0.0.1/rs/",
            CheckKind::ColumnUpdate,
            at,
        );
        observation.column = Some("人事信息".into());
        observation.freshness = Some(xunjian_shared::wire::Freshness { items: Some(3), ..Default::default() });
        observation.findings.push(Finding::new(
            FindingCode::ColumnNotUpdated,
            xunjian_shared::wire::Severity::Error,
            "栏目超期未更新",
        ));
        observation.ok = false;
        observation
    }

    fn account(name: &str, at: Timestamp, items: u32) -> Observation {
        let mut observation =
            Observation::new(name, TargetKind::Account, "单位", "http://127.0.0.1/f", CheckKind::AccountUpdate, at);
        observation.platform = Some("wechat".into());
        observation.freshness = Some(xunjian_shared::wire::Freshness { items: Some(items), ..Default::default() });
        observation
    }

    /// Commits one batch of `agent` (of `county`) as received at `now`.
    async fn push(
        store: &Store,
        batch_id: &str,
        agent: &str,
        county: &str,
        observations: Vec<Observation>,
        now: Timestamp,
    ) {
        let batch = Batch {
            schema_version: 1,
            batch_id: BatchId::parse(batch_id).unwrap(),
            agent: agent.into(),
            county: county.into(),
            sequence: 1,
            created_at: now,
            inventory: None,
            observations,
        };
        let body = LoggedBody { bytes: serde_json::to_vec(&batch).unwrap(), gzip: false };
        let receipt = crate::projection::Receipt { received_at: now, certificate_not_after: None };
        store.commit(batch, body, receipt, usize::MAX).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_province_s_status_page_is_a_line_per_county() {
        let dir = std::env::temp_dir().join(format!("xunjian-web-compact-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir.join("x.db")).unwrap();
        let now = Timestamp::now();
        let pages = status_page::FULL_PAGE_AT_MOST + 1;
        let observations: Vec<Observation> = (0..pages)
            .map(|index| {
                let mut page = stale_column(now);
                page.target = format!("第{}号网站", index / 5);
                page.column = Some(format!("栏目{}", index % 5));
                page
            })
            .collect();
        push(&store, "compact1", "lc", "龙川县", observations, now).await;
        let html = status_page::render_for(&store, &Judged::of(&store, now), &Scope::All);
        assert!(html.contains("逐页情况见各县区页面"), "a province's page lists counties");
        assert!(html.contains(&format!(
            "<a href=\"/county/%E9%BE%99%E5%B7%9D%E5%8E%BF\">龙川县</a></td><td>{pages}</td><td>{pages}</td>"
        )));
        assert!(!html.contains("第1号网站"), "not every page");
        assert!(html.contains(&format!("<b>{}</b>个网站/账号", pages.div_ceil(5))), "totals are still counted");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_judgement_serves_every_caller_for_a_second_each_sees_its_counties() {
        let dir = std::env::temp_dir().join(format!("xunjian-web-judged-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir.join("x.db")).unwrap();
        let now = Timestamp::now();
        for (sequence, (agent, county)) in [("lc", "龙川县"), ("hp", "和平县")].into_iter().enumerate() {
            let mut column = stale_column(now);
            column.target = format!("{county}人民政府门户网站");
            let observations = vec![column, account(&format!("{county}发布"), now, 5)];
            push(&store, &format!("judged{sequence:02}"), agent, county, observations, now).await;
        }
        let judgements = Judgements::default();
        let first = judgements.get(&store);
        assert!(std::sync::Arc::ptr_eq(&first, &judgements.get(&store)), "judged once within the second");
        let longchuan = Scope::Counties(["龙川县".to_string()].into());
        let report = status_report(&store, &first, &longchuan, Pages::Every);
        assert!(report.verdicts.iter().all(|v| v.county == "龙川县") && report.verdicts.len() == 2);
        assert!(report.pass_ratios.iter().all(|r| r.county == "龙川县"), "no 全市 and no 和平县");
        assert!(report.targets.iter().all(|t| t.county == "龙川县") && report.targets.len() == 2);
        let registry: Vec<(&str, FindingCode)> =
            report.registry.findings.iter().map(|f| (f.county.as_str(), f.finding.code)).collect();
        assert_eq!(
            registry,
            [("龙川县", FindingCode::FilingPending)],
            "its own only: its account, seen today, within its days to file"
        );
        assert!(report.agents.iter().all(|a| a.county == "龙川县"));
        let all = status_report(&store, &first, &Scope::All, Pages::None);
        assert_eq!(all.verdicts.len(), 4);
        assert!(all.pass_ratios.iter().any(|r| r.county == crate::judge::WHOLE_CITY));
        assert!(all.targets.is_empty(), "no pages asked for");
        assert_eq!(all.generated_at, first.at, "a report says when it was judged");
        // The office files 龙川县's account: judged anew at once, not a second later.
        let filing =
            Filing::new("龙川县发布", Channel::Account(Platform::Wechat), "单位", "龙川县", FilingStatus::Running);
        store
            .change_registry(RegistryChange::ReplaceFilings { filings: vec![filing], author: "王".into() })
            .await
            .unwrap();
        let second = judgements.get(&store);
        assert!(!std::sync::Arc::ptr_eq(&first, &second), "a registry change is judged at once");
        let report = status_report(&store, &second, &longchuan, Pages::None);
        assert!(
            report.registry.findings.is_empty() && report.registry.filed == 1 && report.registry.observed_filed == 1
        );
        let heping = Scope::Counties(["和平县".to_string()].into());
        let report = status_report(&store, &second, &heping, Pages::None);
        assert_eq!((report.registry.filed, report.registry.observed_filed), (0, 0), "another county's filing");
        assert_eq!(report.registry.findings.len(), 1, "its own 漏报 still");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert!(!std::sync::Arc::ptr_eq(&second, &judgements.get(&store)), "judged again after a second");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn exemptions_and_the_registry_shape_status_and_metrics() {
        let dir = std::env::temp_dir().join(format!("xunjian-web-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir.join("x.db")).unwrap();
        let now = Timestamp::now();
        let observations = vec![
            stale_column(now),
            account("未备案号", now, 5),
            account("已关停号", now, 5),
            account("已关停且停更号", now, 0),
        ];
        push(&store, "abcdefgh", "lc", "龙川县", observations, now).await;
        let filing =
            |name: &str, status| Filing::new(name, Channel::Account(Platform::Wechat), "单位", "龙川县", status);
        let filings = vec![
            filing("已关停号", FilingStatus::Closed),
            filing("已关停且停更号", FilingStatus::Closing),
            filing("无人巡检号", FilingStatus::Running),
        ];
        store.change_registry(RegistryChange::ReplaceFilings { filings, author: "王".into() }).await.unwrap();

        let report = status_report(&store, &Judged::of(&store, now), &Scope::All, Pages::Every);
        let codes: Vec<(&str, FindingCode)> =
            report.registry.findings.iter().map(|f| (f.target.as_str(), f.finding.code)).collect();
        assert_eq!(
            codes,
            [("已关停号", FindingCode::ClosedButLive), ("未备案号", FindingCode::FilingPending)],
            "first seen today: within its days to file"
        );
        assert_eq!(report.registry.unmonitored.len(), 1);
        let metrics = Metrics::new(store.clone(), crate::alerts::AlertBoard::default());
        let text = metrics.render(false);
        assert!(text.contains("code=\"column_not_updated\""));
        assert!(text.contains("xunjian_account_closed_but_live{county=\"龙川县\",unit=\"单位\",target=\"已关停号\",kind=\"account\",platform=\"wechat\"} 1"), "{text}");
        assert!(
            text.contains("target=\"已关停且停更号\",kind=\"account\",platform=\"wechat\"} 0"),
            "no posts: not live"
        );

        store
            .change_registry(RegistryChange::AddExemption(
                ExemptionDraft::parse(NewExemption {
                    target: "龙川县人民政府门户网站".into(),
                    column: "人事信息".into(),
                    code: "column_not_updated".into(),
                    reason: "本年度无人事任免".into(),
                    author: "李".into(),
                    until: None,
                })
                .unwrap(),
            ))
            .await
            .unwrap();
        let report = status_report(&store, &Judged::of(&store, now), &Scope::All, Pages::Every);
        let column = report.targets.iter().find(|t| t.observation.column.is_some()).unwrap();
        assert!(
            column.observation.findings.is_empty() && column.observation.ok,
            "the exempted finding no longer fails it"
        );
        assert_eq!(column.exempted.len(), 1);
        assert_eq!(column.exempted[0].finding.code, FindingCode::ColumnNotUpdated);
        let text = metrics.render(false);
        assert!(!text.contains("code=\"column_not_updated\""), "exempted findings leave /metrics");
        assert!(text.contains("column=\"人事信息\"} 0"), "and the column is no longer stale:\n{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
