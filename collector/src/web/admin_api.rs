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
//! Changes need an admin: a login (with its CSRF token), a personal token of an admin, or the
//! machine token of `[web] admin_token_file`. The audit log's author is that caller (the
//! machine token is recorded as 机器令牌); an `author` in a body is ignored. Reads are kept
//! to the caller's counties; silences, agents and the audit log span counties and are for
//! the city's users only. Refusals are `ApiError`s: a stable `error` code
//! (`unauthorized`, `refused`, `invalid_registry` …), a Chinese `detail`, and `problems` for
//! a registry upload; a 5xx is `internal`, its cause logged.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use jiff::Timestamp;
use xunjian_shared::time::china_today;
use xunjian_shared::wire::ApiError;
use xunjian_shared::wire::api::{
    AuditEntryView, Created, Ended, FilingView, RegistryReplaced, RetirementView, RevocationView, SilenceView,
};

use super::{Caller, WebState};
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
        account_id: filing.account_id.clone(),
        unit_type: filing.unit_type.map(|t| t.label_zh().to_string()),
        opened_on: filing.opened_on,
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

/// Compares without returning early, so timing does not tell how much of a guess was right.
pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An admin's name for the audit log, or the refusal.
fn admin(caller: &Caller) -> Result<String, Refusal> {
    caller
        .must_be_admin()
        .map_err(|_| Refusal::new(StatusCode::FORBIDDEN, "forbidden", "此操作仅限管理员（admin）"))?;
    Ok(caller.name.clone())
}

/// A refusal unless the caller sees every county.
fn city_only(caller: &Caller) -> Result<(), Refusal> {
    caller
        .must_see_all()
        .map_err(|_| Refusal::new(StatusCode::FORBIDDEN, "forbidden", "此内容涉及全部县区，仅限市级用户和管理员查看"))
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
    caller: &Caller,
    id: &str,
    noun: &str,
    answer: fn(i64) -> Ended,
    change: impl FnOnce(i64, String) -> RegistryChange,
) -> Result<Response, Refusal> {
    let author = admin(caller)?;
    let id = id
        .parse::<i64>()
        .map_err(|_| Refusal::new(StatusCode::BAD_REQUEST, "bad_request", format!("「{id}」不是{noun}编号")))?;
    state.store.change_registry(change(id, author)).await?;
    Ok(axum::Json(answer(id)).into_response())
}

fn unexpected(outcome: ChangeOutcome) -> Refusal {
    Refusal::internal(StatusCode::INTERNAL_SERVER_ERROR, &format!("unexpected outcome {outcome:?}"))
}

/// The filings of the caller's counties.
pub(super) fn visible_filings(state: &WebState, caller: &Caller) -> Vec<Filing> {
    state.store.registry().filings.iter().filter(|f| caller.scope.sees(&f.county)).cloned().collect()
}

async fn registry_json(State(state): State<WebState>, caller: Caller) -> Response {
    let filings: Vec<FilingView> = visible_filings(&state, &caller).iter().map(filing_view).collect();
    axum::Json(filings).into_response()
}

async fn registry_csv(State(state): State<WebState>, caller: Caller) -> Response {
    let csv = registry::to_csv(&visible_filings(&state, &caller));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"registry.csv\""),
        ],
        csv,
    )
        .into_response()
}

async fn registry_replace(State(state): State<WebState>, caller: Caller, body: Bytes) -> Result<Response, Refusal> {
    let author = admin(&caller)?;
    if body.len() > MAX_CSV_BYTES {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("文件超过 {} MB", MAX_CSV_BYTES >> 20),
        ));
    }
    let imported = registry::read_csv(&body).map_err(|problems| Refusal {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        error: "invalid_registry",
        detail: "备案表有误，未作任何修改；请改正以下各行后重新导入".into(),
        problems,
    })?;
    let (filings, ignored_columns) = (imported.filings, imported.ignored_columns);
    match state.store.change_registry(RegistryChange::ReplaceFilings { filings, author }).await? {
        ChangeOutcome::Filings { total, added, removed, changed } => {
            Ok(axum::Json(RegistryReplaced { total, added, removed, changed, ignored_columns }).into_response())
        }
        other => Err(unexpected(other)),
    }
}

async fn exemptions(State(state): State<WebState>, caller: Caller) -> Response {
    let today = china_today(Timestamp::now());
    let visible = super::visible_targets(&state.store, &caller.scope);
    let list: Vec<_> = state
        .store
        .registry()
        .exemptions
        .iter()
        .filter(|e| visible.as_ref().is_none_or(|targets| targets.contains(&e.target)))
        .map(|e| super::exemption_status(e, today))
        .collect();
    axum::Json(list).into_response()
}

async fn exemption_add(State(state): State<WebState>, caller: Caller, body: Bytes) -> Result<Response, Refusal> {
    let author = admin(&caller)?;
    let mut new: NewExemption =
        json_body(&body, "{\"target\", \"column\"（可省）, \"code\", \"reason\", \"until\"（可省，YYYY-MM-DD）}")?;
    new.author = author;
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
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    end_by_id(&state, &caller, &id, "豁免", Ended::Revoked, |id, author| RegistryChange::RevokeExemption {
        id,
        author,
    })
    .await
}

async fn silences(State(state): State<WebState>, caller: Caller) -> Result<Response, Refusal> {
    city_only(&caller)?;
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
    Ok(axum::Json(list).into_response())
}

async fn silence_add(State(state): State<WebState>, caller: Caller, body: Bytes) -> Result<Response, Refusal> {
    let author = admin(&caller)?;
    let mut new: NewSilence =
        json_body(&body, "{\"matchers\": [\"county=龙川县\"], \"duration\": \"2h\", \"reason\"}")?;
    new.author = author;
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
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    end_by_id(&state, &caller, &id, "静默", Ended::Expired, |id, author| RegistryChange::ExpireSilence { id, author })
        .await
}

async fn revocations(State(state): State<WebState>, caller: Caller) -> Result<Response, Refusal> {
    city_only(&caller)?;
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
    Ok(axum::Json(list).into_response())
}

#[derive(serde::Deserialize)]
struct NewRevocation {
    #[serde(default)]
    agent: String,
    #[serde(default)]
    serial: String,
    reason: String,
}

async fn revoke(State(state): State<WebState>, caller: Caller, body: Bytes) -> Result<Response, Refusal> {
    let author = admin(&caller)?;
    let new: NewRevocation = json_body(&body, "{\"agent\", \"serial\"（可省其一）, \"reason\"}")?;
    let change = RegistryChange::Revoke { agent: new.agent, serial: new.serial, reason: new.reason, author };
    match state.store.change_registry(change).await? {
        ChangeOutcome::Revoked { id } => {
            Ok((StatusCode::CREATED, axum::Json(Created { id, ends_at: None })).into_response())
        }
        other => Err(unexpected(other)),
    }
}

async fn lift_revocation(
    State(state): State<WebState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    end_by_id(&state, &caller, &id, "吊销", Ended::Lifted, |id, author| RegistryChange::LiftRevocation { id, author })
        .await
}

async fn retirements(State(state): State<WebState>, caller: Caller) -> Result<Response, Refusal> {
    city_only(&caller)?;
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
    Ok(axum::Json(list).into_response())
}

#[derive(serde::Deserialize)]
struct NewRetirement {
    agent: String,
    #[serde(default)]
    reason: String,
}

async fn retire(State(state): State<WebState>, caller: Caller, body: Bytes) -> Result<Response, Refusal> {
    let author = admin(&caller)?;
    let new: NewRetirement = json_body(&body, "{\"agent\", \"reason\"（可省）}")?;
    let change = RegistryChange::Retire { agent: new.agent, reason: new.reason, author };
    match state.store.change_registry(change).await? {
        ChangeOutcome::Retired { id } => {
            Ok((StatusCode::CREATED, axum::Json(Created { id, ends_at: None })).into_response())
        }
        other => Err(unexpected(other)),
    }
}

async fn audit(State(state): State<WebState>, caller: Caller) -> Response {
    if let Err(refusal) = city_only(&caller) {
        return refusal.into_response();
    }
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
