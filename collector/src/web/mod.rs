//! The web listener's routes: the status page for people, `/metrics` for Prometheus, the JSON
//! API and the health check. All read the store's projection; none writes.

mod status_page;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use xunjian_shared::wire::{AgentStatus, StatusReport, TargetStatus};

use crate::metrics::{self, Metrics};
use crate::store::Store;

#[derive(Clone)]
pub struct WebState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
}

pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/metrics", get(metrics_page))
        .route("/healthz", get(healthz))
        .route("/api/v1/status", get(status_api))
        .with_state(state)
}

async fn status_page(State(state): State<WebState>) -> Html<String> {
    let report = status_report(&state.store, Timestamp::now());
    Html(status_page::render(&report))
}

async fn metrics_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let openmetrics = metrics::wants_openmetrics(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let metrics = state.metrics.clone();
    // Rendering 100k series takes tens of milliseconds of CPU: keep it off the async workers.
    let body = tokio::task::spawn_blocking(move || metrics.render(openmetrics)).await.unwrap_or_default();
    let content_type = if openmetrics { metrics::OPENMETRICS_TEXT } else { metrics::PROMETHEUS_TEXT };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn healthz() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok\n")
}

async fn status_api(State(state): State<WebState>) -> Response {
    axum::Json(status_report(&state.store, Timestamp::now())).into_response()
}

/// Every agent and every page, from the projection.
pub fn status_report(store: &Store, now: Timestamp) -> StatusReport {
    let snapshot = store.snapshot();
    let agents = snapshot
        .agents
        .iter()
        .map(|(agent, state)| AgentStatus {
            agent: agent.clone(),
            county: state.county.clone(),
            first_push_at: state.first_push_at,
            last_push_at: state.last_push_at,
            last_sequence: state.last_sequence,
            batches: state.batches,
        })
        .collect();
    let targets = snapshot
        .subjects
        .iter()
        .map(|(key, state)| TargetStatus {
            agent: key.agent.clone(),
            county: state.county.clone(),
            probes_ok: state.probes_ok,
            probes_failed: state.probes_failed,
            observation: state.observation.clone(),
        })
        .collect();
    StatusReport { generated_at: now, agents, targets }
}
