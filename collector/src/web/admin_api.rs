//! The central office's decisions over HTTP: the registry (备案), exemptions and silences.
//!
//! ```text
//! GET    /api/v1/registry             filings as JSON
//! GET    /api/v1/registry.csv         filings as CSV for Excel (UTF-8 with BOM)
//! PUT    /api/v1/registry             replace every filing with a CSV body (UTF-8 or GBK)   admin
//! GET    /api/v1/exemptions           every exemption, revoked ones included
//! POST   /api/v1/exemptions           add one: JSON {target, column?, code, reason, author, until?}   admin
//! DELETE /api/v1/exemptions/{id}      revoke one (it stays in the list)                     admin
//! GET    /api/v1/silences             every silence, expired ones included
//! POST   /api/v1/silences             add one: JSON {matchers: ["county=龙川县", …], duration: "2h", reason, author}   admin
//! DELETE /api/v1/silences/{id}        end one now                                           admin
//! GET    /api/v1/revocations          agents refused at the push port
//! POST   /api/v1/revocations          refuse one: JSON {agent, serial, reason, author}         admin
//! DELETE /api/v1/revocations/{id}     lift one (it stays in the list)                       admin
//! GET    /api/v1/retirements          agents retired
//! POST   /api/v1/retirements          retire one, releasing its subjects: JSON {agent, reason?, author}   admin
//! GET    /api/v1/audit                the newest changes, who and when
//! ```
//! Changes need `Authorization: Bearer <token>` matching `[web] admin_token_file`; the author
//! of a registry import or a revocation is the `X-Xunjian-Author` header (percent-encoded
//! UTF-8 is accepted, since HTTP headers are ASCII). Refusals are `ApiError`s: a stable `error` code
//! (`unauthorized`, `refused`, `invalid_registry` …), a Chinese `detail`, and `problems` for
//! a registry upload; a 5xx is `internal`, its cause logged.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use jiff::Timestamp;
use xunjian_shared::time::china_today;
use xunjian_shared::wire::ApiError;
use xunjian_shared::wire::api::{
    AuditEntryView, Created, Ended, FilingView, RegistryReplaced, RetirementView, RevocationView, SilenceView,
};

use super::WebState;
use crate::registry::{self, Filing};
use crate::registry::{ExemptionDraft, NewExemption, NewSilence, SilenceDraft};
use crate::store::{ChangeError, ChangeOutcome, RegistryChange};

/// Largest registry CSV accepted: tens of thousands of rows.
const MAX_CSV_BYTES: usize = 8 * 1024 * 1024;

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        // axum's default 2 MB would cut a registry short of the 8 MiB promised.
        .route(
            "/api/v1/registry",
            get(registry_json).put(registry_replace).layer(axum::extract::DefaultBodyLimit::max(MAX_CSV_BYTES)),
        )
        .route("/api/v1/registry.csv", get(registry_csv))
        .route("/api/v1/exemptions", get(exemptions).post(exemption_add))
        .route("/api/v1/exemptions/{id}", delete(exemption_revoke))
        .route("/api/v1/silences", get(silences).post(silence_add))
        .route("/api/v1/silences/{id}", delete(silence_expire))
        .route("/api/v1/revocations", get(revocations).post(revoke))
        .route("/api/v1/revocations/{id}", delete(lift_revocation))
        .route("/api/v1/retirements", get(retirements).post(retire))
        .route("/api/v1/audit", get(audit))
}

fn filing_view(filing: &Filing) -> FilingView {
    FilingView {
        name: filing.name.clone(),
        channel: filing.channel.label_zh().to_string(),
        platform: filing.channel.platform(),
        unit: filing.unit.clone(),
        county: filing.county.clone(),
        filed_on: filing.filed_on,
        status: filing.status.label_zh().to_string(),
    }
}

/// A refused request: its status, a stable code, and what to do, in Chinese.
struct Refusal {
    status: StatusCode,
    error: &'static str,
    detail: String,
    problems: Vec<String>,
}

impl Refusal {
    fn new(status: StatusCode, error: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal { status, error, detail: detail.into(), problems: Vec::new() }
    }

    /// A request with mistakes: every one of them, the first as the detail.
    fn invalid(problems: Vec<String>) -> Refusal {
        let detail = problems.first().cloned().unwrap_or_default();
        Refusal { status: StatusCode::UNPROCESSABLE_ENTITY, error: "refused", detail, problems }
    }

    /// A failure of the collector itself: logged with its cause, answered without it.
    fn internal(status: StatusCode, cause: &dyn std::fmt::Display) -> Refusal {
        tracing::error!(error = %cause, "admin request failed");
        Refusal::new(status, "internal", "采集器内部错误，未作任何修改；原因已记入采集器日志，请稍后重试或联系运维")
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = ApiError { error: self.error.to_string(), detail: self.detail, problems: self.problems };
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<ChangeError> for Refusal {
    fn from(error: ChangeError) -> Refusal {
        match error {
            ChangeError::Refused(message) => Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", message),
            ChangeError::NotFound(message) => Refusal::new(StatusCode::NOT_FOUND, "not_found", message),
            ChangeError::Store(error) => Refusal::internal(StatusCode::SERVICE_UNAVAILABLE, &error),
        }
    }
}

/// Checks the bearer token.
fn authorize(state: &WebState, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(expected) = &state.admin_token else {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "admin_disabled",
            "此采集器未开放修改接口：在 collector.toml 的 [web] 中设置 admin_token_file 后重启，或在采集器主机上使用 xunjian-collector registry / exemption 命令",
        ));
    };
    let given =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(token) if constant_time_eq(token.trim().as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(Refusal::new(StatusCode::UNAUTHORIZED, "unauthorized", "令牌不正确")),
        None => Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "缺少令牌：请求头应带 Authorization: Bearer <admin token>",
        )),
    }
}

/// Compares without returning early, so timing does not tell how much of a guess was right.
pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The author named by `X-Xunjian-Author` (percent-decoded).
fn author(headers: &HeaderMap) -> Result<String, Refusal> {
    let raw = headers.get("x-xunjian-author").map(|v| v.as_bytes()).unwrap_or_default();
    // The header as the value of a form field: %XX decoded (a '+' would become a space).
    let field = [b"author=".as_slice(), raw].concat();
    let decoded = url::form_urlencoded::parse(&field).next().map(|(_, value)| value.trim().to_string());
    decoded.filter(|author| !author.is_empty()).ok_or_else(|| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "author_missing",
            "缺少操作人：请求头应带 X-Xunjian-Author（可用百分号编码的中文姓名），留作审计记录",
        )
    })
}

/// A JSON request body, or a 400 showing the expected `shape`.
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8], shape: &str) -> Result<T, Refusal> {
    serde_json::from_slice(body).map_err(|error| {
        Refusal::new(StatusCode::BAD_REQUEST, "bad_request", format!("请求体应为 JSON：{shape}；{error}"))
    })
}

/// Ending something by its id (revoking an exemption, expiring a silence, lifting a revocation):
/// the token, the author, the id, the change, and the answer naming the id.
async fn end_by_id(
    state: &WebState,
    headers: &HeaderMap,
    id: &str,
    noun: &str,
    answer: fn(i64) -> Ended,
    change: impl FnOnce(i64, String) -> RegistryChange,
) -> Result<Response, Refusal> {
    authorize(state, headers)?;
    let author = author(headers)?;
    let id = id
        .parse::<i64>()
        .map_err(|_| Refusal::new(StatusCode::BAD_REQUEST, "bad_request", format!("「{id}」不是{noun}编号")))?;
    state.store.change_registry(change(id, author)).await?;
    Ok(axum::Json(answer(id)).into_response())
}

fn unexpected(outcome: ChangeOutcome) -> Refusal {
    Refusal::internal(StatusCode::INTERNAL_SERVER_ERROR, &format!("unexpected outcome {outcome:?}"))
}

async fn registry_json(State(state): State<WebState>) -> Response {
    let registry = state.store.registry().clone();
    let filings: Vec<FilingView> = registry.filings.iter().map(filing_view).collect();
    axum::Json(filings).into_response()
}

async fn registry_csv(State(state): State<WebState>) -> Response {
    let csv = registry::to_csv(&state.store.registry().filings);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"registry.csv\""),
        ],
        csv,
    )
        .into_response()
}

async fn registry_replace(State(state): State<WebState>, headers: HeaderMap, body: Bytes) -> Result<Response, Refusal> {
    authorize(&state, &headers)?;
    let author = author(&headers)?;
    if body.len() > MAX_CSV_BYTES {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("文件超过 {} MB", MAX_CSV_BYTES >> 20),
        ));
    }
    let filings = registry::from_csv(&body).map_err(|problems| Refusal {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        error: "invalid_registry",
        detail: "备案表有误，未作任何修改；请改正以下各行后重新导入".into(),
        problems,
    })?;
    match state.store.change_registry(RegistryChange::ReplaceFilings { filings, author }).await? {
        ChangeOutcome::Filings { total, added, removed, changed } => {
            Ok(axum::Json(RegistryReplaced { total, added, removed, changed }).into_response())
        }
        other => Err(unexpected(other)),
    }
}

async fn exemptions(State(state): State<WebState>) -> Response {
    let today = china_today(Timestamp::now());
    let list: Vec<_> = state.store.registry().exemptions.iter().map(|e| super::exemption_status(e, today)).collect();
    axum::Json(list).into_response()
}

async fn exemption_add(State(state): State<WebState>, headers: HeaderMap, body: Bytes) -> Result<Response, Refusal> {
    authorize(&state, &headers)?;
    let new: NewExemption = json_body(
        &body,
        "{\"target\", \"column\"（可省）, \"code\", \"reason\", \"author\", \"until\"（可省，YYYY-MM-DD）}",
    )?;
    let draft = ExemptionDraft::parse(new).map_err(Refusal::invalid)?;
    match state.store.change_registry(RegistryChange::AddExemption(draft)).await? {
        ChangeOutcome::ExemptionAdded { id } => {
            Ok((StatusCode::CREATED, axum::Json(Created { id, ends_at: None })).into_response())
        }
        other => Err(unexpected(other)),
    }
}

async fn exemption_revoke(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    end_by_id(&state, &headers, &id, "豁免", Ended::Revoked, |id, author| RegistryChange::RevokeExemption {
        id,
        author,
    })
    .await
}

async fn silences(State(state): State<WebState>) -> Response {
    let now = Timestamp::now();
    let list: Vec<SilenceView> = state
        .store
        .registry()
        .silences
        .iter()
        .map(|silence| SilenceView {
            id: silence.id,
            matchers: silence.matchers.iter().map(|m| m.to_string()).collect(),
            starts_at: silence.starts_at,
            ends_at: silence.ends_at,
            reason: silence.reason.clone(),
            author: silence.author.clone(),
            created_at: silence.created_at,
            expired_at: silence.expired_at,
            expired_by: silence.expired_by.clone(),
            active: silence.is_active(now),
        })
        .collect();
    axum::Json(list).into_response()
}

async fn silence_add(State(state): State<WebState>, headers: HeaderMap, body: Bytes) -> Result<Response, Refusal> {
    authorize(&state, &headers)?;
    let new: NewSilence =
        json_body(&body, "{\"matchers\": [\"county=龙川县\"], \"duration\": \"2h\", \"reason\", \"author\"}")?;
    let draft = SilenceDraft::parse(new).map_err(Refusal::invalid)?;
    match state.store.change_registry(RegistryChange::AddSilence(draft)).await? {
        ChangeOutcome::SilenceAdded { id, ends_at } => {
            Ok((StatusCode::CREATED, axum::Json(Created { id, ends_at: Some(ends_at) })).into_response())
        }
        other => Err(unexpected(other)),
    }
}

async fn silence_expire(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    end_by_id(&state, &headers, &id, "静默", Ended::Expired, |id, author| RegistryChange::ExpireSilence {
        id,
        author,
    })
    .await
}

async fn revocations(State(state): State<WebState>) -> Response {
    let list: Vec<RevocationView> = state
        .store
        .registry()
        .revocations
        .iter()
        .map(|r| RevocationView {
            id: r.id,
            agent: r.agent.clone(),
            serial: r.serial.clone(),
            reason: r.reason.clone(),
            author: r.author.clone(),
            created_at: r.created_at,
            lifted_at: r.lifted_at,
            lifted_by: r.lifted_by.clone(),
        })
        .collect();
    axum::Json(list).into_response()
}

#[derive(serde::Deserialize)]
struct NewRevocation {
    #[serde(default)]
    agent: String,
    #[serde(default)]
    serial: String,
    reason: String,
    author: String,
}

async fn revoke(State(state): State<WebState>, headers: HeaderMap, body: Bytes) -> Result<Response, Refusal> {
    authorize(&state, &headers)?;
    let new: NewRevocation = json_body(&body, "{\"agent\", \"serial\"（可省其一）, \"reason\", \"author\"}")?;
    let change =
        RegistryChange::Revoke { agent: new.agent, serial: new.serial, reason: new.reason, author: new.author };
    match state.store.change_registry(change).await? {
        ChangeOutcome::Revoked { id } => {
            Ok((StatusCode::CREATED, axum::Json(Created { id, ends_at: None })).into_response())
        }
        other => Err(unexpected(other)),
    }
}

async fn lift_revocation(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    end_by_id(&state, &headers, &id, "吊销", Ended::Lifted, |id, author| RegistryChange::LiftRevocation {
        id,
        author,
    })
    .await
}

async fn retirements(State(state): State<WebState>) -> Response {
    let list: Vec<RetirementView> = state
        .store
        .registry()
        .retirements
        .iter()
        .map(|r| RetirementView {
            id: r.id,
            agent: r.agent.clone(),
            reason: r.reason.clone(),
            author: r.author.clone(),
            created_at: r.created_at,
            applied_at: r.applied_at,
        })
        .collect();
    axum::Json(list).into_response()
}

#[derive(serde::Deserialize)]
struct NewRetirement {
    agent: String,
    #[serde(default)]
    reason: String,
    author: String,
}

async fn retire(State(state): State<WebState>, headers: HeaderMap, body: Bytes) -> Result<Response, Refusal> {
    authorize(&state, &headers)?;
    let new: NewRetirement = json_body(&body, "{\"agent\", \"reason\"（可省）, \"author\"}")?;
    let change = RegistryChange::Retire { agent: new.agent, reason: new.reason, author: new.author };
    match state.store.change_registry(change).await? {
        ChangeOutcome::Retired { id } => {
            Ok((StatusCode::CREATED, axum::Json(Created { id, ends_at: None })).into_response())
        }
        other => Err(unexpected(other)),
    }
}

async fn audit(State(state): State<WebState>) -> Response {
    match state.store.audit_log(200).await {
        Ok(entries) => {
            let list: Vec<AuditEntryView> = entries
                .into_iter()
                .map(|e| AuditEntryView { at: e.at, author: e.author, action: e.action, detail: e.detail })
                .collect();
            axum::Json(list).into_response()
        }
        Err(error) => Refusal::internal(StatusCode::SERVICE_UNAVAILABLE, &error).into_response(),
    }
}
