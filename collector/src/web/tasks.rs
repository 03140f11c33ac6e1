//! 整改 tasks over HTTP, kept to the caller's counties.
//!
//! ```text
//! GET  /api/v1/tasks[?county=&state=]            the tasks, newest first
//! POST /api/v1/tasks                             make one: JSON {problems: [ids], unit?, title?, deadline?}   city, admin
//! GET  /api/v1/tasks/{id}                        one: its problems, timeline and attachments
//! POST /api/v1/tasks/{id}/answer                 the county's answer: a form (urlencoded or multipart) with
//!                                                answer, csrf (a login's) and up to 5 attachment files   county, admin
//! GET  /api/v1/tasks/{id}/attachments/{n}        an attachment, as a download
//! GET  /api/v1/tasks.csv | tasks.xlsx ?period=&county=   整改情况 of the tasks made in a period
//! ```
//! The deadline defaults to the current quarter's 通报 deadline. A task of another county, or
//! none, is the same 403 for a scoped caller.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serde::Serialize;
use xunjian_shared::time::china_today;
use xunjian_shared::wire::ApiError;

use super::access::{Caller, FormCaller, out_of_scope};
use super::{WebState, bad_request, read_blocking, unknown_parameter};
use crate::people::Role;
use crate::store::tasks::{self as stored, AttachmentInfo, TaskEvent, TaskFilter, TaskRecord};
use crate::store::users::UserError;
use crate::tasks::{Attachment, Task, TaskDraft, TaskState};

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route("/api/v1/tasks", get(list).post(create))
        .route("/api/v1/tasks.csv", get(export_csv))
        .route("/api/v1/tasks.xlsx", get(export_xlsx))
        .route("/api/v1/tasks/{id}", get(show))
        .route("/api/v1/tasks/{id}/answer", post(answer))
        .route("/api/v1/tasks/{id}/attachments/{attachment}", get(download))
}

/// A task as the API shows it.
#[derive(Serialize)]
pub struct TaskView {
    pub id: i64,
    pub county: String,
    pub unit: String,
    pub title: String,
    pub deadline: jiff::civil::Date,
    pub state: &'static str,
    pub state_label: &'static str,
    pub overdue: bool,
    pub created_at: Timestamp,
    pub created_by: String,
    pub source: String,
    pub answer: Option<String>,
    pub answered_at: Option<Timestamp>,
    pub answered_by: Option<String>,
    pub returned: u32,
    pub verified_at: Option<Timestamp>,
    pub problems: Vec<i64>,
}

impl TaskView {
    pub fn of(task: &Task, today: jiff::civil::Date) -> TaskView {
        TaskView {
            id: task.id,
            county: task.county.clone(),
            unit: task.unit.clone(),
            title: task.title.clone(),
            deadline: task.deadline,
            state: task.state.as_str(),
            state_label: task.state.label_zh(),
            overdue: task.overdue(today),
            created_at: task.created_at,
            created_by: task.created_by.clone(),
            source: task.source.clone(),
            answer: task.answer.as_ref().map(|a| a.text.clone()),
            answered_at: task.answer.as_ref().map(|a| a.at),
            answered_by: task.answer.as_ref().map(|a| a.by.clone()),
            returned: task.returned,
            verified_at: task.verified_at,
            problems: task.problems.clone(),
        }
    }
}

#[derive(Serialize)]
struct TaskDetail {
    #[serde(flatten)]
    task: TaskView,
    events: Vec<TaskEvent>,
    attachments: Vec<AttachmentInfo>,
    /// The problems as the ledger has them now.
    problem_rows: Vec<xunjian_shared::wire::api::ProblemView>,
}

fn refusal(status: StatusCode, code: &'static str, detail: String) -> Response {
    (status, axum::Json(ApiError::new(code, detail))).into_response()
}

fn refused(error: UserError) -> Response {
    match error {
        UserError::Refused(detail) => refusal(StatusCode::UNPROCESSABLE_ENTITY, "refused", detail),
        UserError::Store(error) => {
            tracing::error!(error = %error, "a task change failed");
            refusal(StatusCode::SERVICE_UNAVAILABLE, "internal", "保存失败，未作任何修改；请稍后重试".into())
        }
    }
}

/// Why a query was refused: 400 with what to change, or 403.
enum QueryRefused {
    Bad(String),
    Denied(super::access::Denied),
}

impl IntoResponse for QueryRefused {
    fn into_response(self) -> Response {
        match self {
            QueryRefused::Bad(detail) => bad_request(detail),
            QueryRefused::Denied(denied) => denied.into_response(),
        }
    }
}

/// The filter a list or an export asks for, kept to the caller's counties.
fn filter(caller: &Caller, query: &HashMap<String, String>, known: &[&str]) -> Result<TaskFilter, QueryRefused> {
    unknown_parameter(query, known).map_err(QueryRefused::Bad)?;
    let text = |key: &str| query.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
    let county = text("county").map(str::to_string);
    if let Some(county) = &county {
        caller.must_see(county).map_err(QueryRefused::Denied)?;
    }
    let state = match text("state") {
        None => None,
        Some(state) => Some(
            TaskState::named(state)
                .ok_or_else(|| QueryRefused::Bad(format!("state={state:?} 应为 {}", TaskState::NAMES.join("、"))))?,
        ),
    };
    Ok(TaskFilter { within: caller.scope.counties().cloned(), county, state, ..Default::default() })
}

async fn list(State(state): State<WebState>, caller: Caller, Query(query): Query<HashMap<String, String>>) -> Response {
    let filter = match filter(&caller, &query, &["county", "state"]) {
        Ok(filter) => filter,
        Err(refusal) => return refusal.into_response(),
    };
    match state.gate.with_db(move |db| stored::list(db, &filter)).await {
        Ok(tasks) => {
            let today = china_today(Timestamp::now());
            axum::Json(tasks.iter().map(|t| TaskView::of(t, today)).collect::<Vec<_>>()).into_response()
        }
        Err(refusal) => refusal,
    }
}

#[derive(serde::Deserialize)]
struct NewTask {
    problems: Vec<i64>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    deadline: Option<jiff::civil::Date>,
}

/// Makes a task of open problems (a `city` or `admin` user).
async fn create(State(state): State<WebState>, caller: Caller, body: Bytes) -> Response {
    if !matches!(caller.role, Role::Admin | Role::City) || caller.via == super::access::Via::Open {
        return super::access::forbidden("下发整改任务仅限市级用户和管理员").into_response();
    }
    let new: NewTask = match serde_json::from_slice(&body) {
        Ok(new) => new,
        Err(error) => {
            return bad_request(format!(
                "请求体应为 JSON：{{\"problems\": [问题编号], \"unit\"（可省）, \"title\"（可省）, \"deadline\"（可省，YYYY-MM-DD）}}；{error}"
            ));
        }
    };
    match make_task(&state, &caller, &new.problems, new.unit.as_deref(), new.title.as_deref(), new.deadline, "").await {
        Ok(id) => {
            (StatusCode::CREATED, axum::Json(xunjian_shared::wire::api::Created { id, ends_at: None })).into_response()
        }
        Err(MakeError::Refused(problems)) => {
            let detail = problems.first().cloned().unwrap_or_default();
            (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(ApiError { error: "refused".into(), detail, problems }))
                .into_response()
        }
        Err(MakeError::Failed(response)) => response,
    }
}

/// Why a task was not made.
pub(super) enum MakeError {
    /// What to change in the request, in Chinese.
    Refused(Vec<String>),
    /// The collector failed; the answer says so.
    Failed(Response),
}

/// A task of `problem_ids` by `caller`: checked, stored, its id.
pub(super) async fn make_task(
    state: &WebState,
    caller: &Caller,
    problem_ids: &[i64],
    unit: Option<&str>,
    title: Option<&str>,
    deadline: Option<jiff::civil::Date>,
    source: &str,
) -> Result<i64, MakeError> {
    let store = state.store.clone();
    let ids = problem_ids.to_vec();
    let found = read_blocking("问题台账", move || store.problems_by_id(&ids)).await.map_err(MakeError::Failed)?;
    if let Some(missing) = problem_ids.iter().find(|id| !found.contains_key(id)) {
        return Err(MakeError::Refused(vec![format!("没有问题 #{missing}")]));
    }
    let problems: Vec<crate::ledger::Problem> = found.into_values().collect();
    let today = china_today(Timestamp::now());
    let deadline = deadline.unwrap_or_else(|| crate::tasks::default_deadline(&state.report, today));
    let draft =
        TaskDraft::from_problems(&problems, unit, title, deadline, today, source).map_err(MakeError::Refused)?;
    let author = caller.name.clone();
    let made = state
        .gate
        .with_db(move |db| Ok(stored::create(db, &draft, &author, Timestamp::now())))
        .await
        .map_err(MakeError::Failed)?;
    made.map_err(|error| match error {
        UserError::Refused(detail) => MakeError::Refused(vec![detail]),
        other => MakeError::Failed(refused(other)),
    })
}

/// The task `id` if the caller may see it; the same refusal otherwise, whether it exists or not.
pub(super) async fn visible_task(state: &WebState, caller: &Caller, id: &str) -> Result<TaskRecord, Response> {
    let Ok(id) = id.parse::<i64>() else { return Err(bad_request(format!("「{id}」不是任务编号"))) };
    let found = state.gate.with_db(move |db| stored::get(db, id)).await?;
    match found {
        Some(found) if caller.scope.sees(&found.task.county) => Ok(found),
        _ if !caller.scope.is_all() => Err(out_of_scope().into_response()),
        _ => Err(refusal(StatusCode::NOT_FOUND, "not_found", format!("没有整改任务 #{id}"))),
    }
}

/// Task `id` as the caller may see it, with its problems as the ledger has them now.
pub(super) async fn task_with_problems(
    state: &WebState,
    caller: &Caller,
    id: &str,
) -> Result<(TaskRecord, Vec<xunjian_shared::wire::api::ProblemView>), Response> {
    let record = visible_task(state, caller, id).await?;
    let store = state.store.clone();
    let ids = record.task.problems.clone();
    let rows = read_blocking("问题台账", move || store.problems_by_id(&ids)).await?;
    let now = Timestamp::now();
    let registry = state.store.registry().clone();
    Ok((record, rows.values().map(|row| super::problems::view(row, &registry, now)).collect()))
}

async fn show(State(state): State<WebState>, caller: Caller, Path(id): Path<String>) -> Response {
    let (TaskRecord { task, events, attachments }, problem_rows) = match task_with_problems(&state, &caller, &id).await
    {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let today = china_today(Timestamp::now());
    axum::Json(TaskDetail { task: TaskView::of(&task, today), events, attachments, problem_rows }).into_response()
}

/// Longest answer.
const MAX_ANSWER_CHARS: usize = 4000;

/// The county's answer (整改情况反馈): words and attachments, type-checked.
async fn answer(State(state): State<WebState>, Path(id): Path<String>, form: FormCaller) -> Response {
    let caller = &form.caller;
    if !matches!(caller.role, Role::County | Role::Admin) || caller.via == super::access::Via::Open {
        return super::access::forbidden("反馈整改情况仅限县区用户（或管理员）").into_response();
    }
    let task = match visible_task(&state, caller, &id).await {
        Ok(found) => found.task,
        Err(refusal) => return refusal,
    };
    let text = form.field("answer").to_string();
    if text.is_empty() || text.chars().count() > MAX_ANSWER_CHARS {
        return bad_request(format!("请填写整改情况（1–{MAX_ANSWER_CHARS} 字）"));
    }
    let mut attachments = Vec::new();
    for upload in form.files.into_iter().filter(|upload| upload.field == "attachment") {
        match Attachment::check(&upload.name, upload.bytes) {
            Ok(attachment) => attachments.push(attachment),
            Err(detail) => return refusal(StatusCode::UNSUPPORTED_MEDIA_TYPE, "attachment_refused", detail),
        }
    }
    let author = caller.name.clone();
    let task_id = task.id;
    let answered = state
        .gate
        .with_db(move |db| Ok(stored::answer(db, task_id, &text, &attachments, &author, Timestamp::now())))
        .await;
    match answered {
        Ok(Ok(())) => {
            // A browser's form goes back to the task's page; a script gets JSON.
            let accept = form.parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
            if accept.contains("text/html") {
                super::access::redirect(&format!("/tasks/{task_id}"))
            } else {
                axum::Json(serde_json::json!({ "id": task_id, "state": TaskState::Answered.as_str() })).into_response()
            }
        }
        Ok(Err(error)) => refused(error),
        Err(refusal) => refusal,
    }
}

/// One attachment, as a download: its checked type, never shown inline.
async fn download(
    State(state): State<WebState>,
    caller: Caller,
    Path((id, attachment)): Path<(String, String)>,
) -> Response {
    let task = match visible_task(&state, &caller, &id).await {
        Ok(found) => found.task,
        Err(refusal) => return refusal,
    };
    let Ok(attachment) = attachment.parse::<i64>() else { return bad_request("附件编号应为数字".into()) };
    let task_id = task.id;
    match state.gate.with_db(move |db| stored::attachment(db, task_id, attachment)).await {
        Ok(Some((name, content_type, bytes))) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CONTENT_DISPOSITION, super::report::content_disposition("attachment", &name)),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".to_string()),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => refusal(StatusCode::NOT_FOUND, "not_found", format!("任务 #{task_id} 没有附件 #{attachment}")),
        Err(refusal) => refusal,
    }
}

/// The tasks of an export: made in `period` (default: the current quarter), the caller's counties.
async fn export_rows(
    state: &WebState,
    caller: &Caller,
    query: &HashMap<String, String>,
) -> Result<(crate::report::Period, Vec<Task>), Response> {
    let mut filter = filter(caller, query, &["county", "state", "period"]).map_err(IntoResponse::into_response)?;
    let today = china_today(Timestamp::now());
    let period = match query.get("period").map(|p| p.trim()).filter(|p| !p.is_empty()) {
        Some(period) => crate::report::Period::parse(period).map_err(|e| bad_request(format!("period: {e}")))?,
        None => crate::report::Period::quarter_of(today),
    };
    filter.made_until = Some(xunjian_shared::time::china_midnight(period.to().tomorrow().unwrap_or(period.to())));
    let from = xunjian_shared::time::china_midnight(period.from());
    let tasks = state.gate.with_db(move |db| stored::list(db, &filter)).await?;
    Ok((period, tasks.into_iter().filter(|task| task.created_at >= from).collect()))
}

async fn export_csv(
    State(state): State<WebState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (period, tasks) = match export_rows(&state, &caller, &query).await {
        Ok(rows) => rows,
        Err(refusal) => return refusal,
    };
    let body = crate::tasks::export::csv(&tasks, china_today(Timestamp::now()));
    export(period, "csv", "text/csv; charset=utf-8", body.into_bytes())
}

/// An export as a download named after its period.
fn export(period: crate::report::Period, extension: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    let name = format!("整改情况-{}.{extension}", crate::report::period_code(period));
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, super::report::content_disposition("attachment", &name)),
        ],
        bytes,
    )
        .into_response()
}

async fn export_xlsx(
    State(state): State<WebState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (period, tasks) = match export_rows(&state, &caller, &query).await {
        Ok(rows) => rows,
        Err(refusal) => return refusal,
    };
    let title = format!("{period}整改情况");
    match crate::tasks::export::xlsx(&tasks, &title, china_today(Timestamp::now())) {
        Ok(bytes) => export(period, "xlsx", crate::report::Format::Xlsx.info().content_type, bytes),
        Err(error) => {
            tracing::error!(error = %error, "the 整改 export failed");
            refusal(StatusCode::INTERNAL_SERVER_ERROR, "internal", "导出失败，请查看采集中心日志".into())
        }
    }
}
