//! The 整改 pages: the task board (`/tasks`), one task (`/tasks/{id}`: its problems, timeline,
//! attachments and, for its county, the answer form with attachments), and the form that makes
//! a task from problems picked on `/problems` (`POST /tasks`).

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use xunjian_shared::time::china_today;
use xunjian_shared::wire::api::ProblemView;

use super::{Section, encode, frame, minute, respond, subject_link};
use crate::people::Role;
use crate::store::tasks::{self as stored, AttachmentInfo, TaskEvent, TaskFilter};
use crate::tasks::{ATTACHMENT_KINDS_ZH, MAX_ATTACHMENTS, Task, TaskState};
use crate::web::WebState;
use crate::web::access::{Caller, FormCaller, Via};
use crate::web::status_page::escape;

/// The board: every task the caller may see, filterable by county and state, late ones marked.
pub fn board(caller: &Caller, tasks: &[Task], county: Option<&str>, state: Option<TaskState>, today: Date) -> String {
    let mut body = String::with_capacity(512 + tasks.len() * 400);
    body.push_str("<form class=\"filters\" method=\"get\" action=\"/tasks\">");
    body.push_str("<label>县区<input name=\"county\" value=\"");
    body.push_str(&escape(county.unwrap_or("")));
    body.push_str("\"></label><label>状态<select name=\"state\"><option value=\"\">全部</option>");
    for option in TaskState::ALL {
        let selected = if state == Some(*option) { " selected" } else { "" };
        let _ = write!(body, "<option value=\"{}\"{selected}>{}</option>", option.as_str(), option.label_zh());
    }
    body.push_str("</select></label><button type=\"submit\">筛选</button>");
    let query =
        format!("?county={}&amp;state={}", encode(county.unwrap_or("")), state.map(|s| s.as_str()).unwrap_or(""));
    let _ = write!(
        body,
        "<span class=\"muted\">导出整改情况：<a href=\"/api/v1/tasks.xlsx{query}\">Excel</a> · <a href=\"/api/v1/tasks.csv{query}\">CSV</a></span></form>"
    );
    let late = tasks.iter().filter(|t| t.overdue(today)).count();
    let _ = write!(body, "<p>共 {} 个整改任务，逾期未反馈 {late} 个。", tasks.len());
    if matches!(caller.role, Role::Admin | Role::City) {
        body.push_str("在<a href=\"/problems?status=open\">问题台账</a>中勾选问题即可下发整改任务。");
    }
    body.push_str("</p>");
    if tasks.is_empty() {
        body.push_str("<p class=\"muted\">没有符合条件的整改任务。</p>");
        return frame("整改任务", caller, Section::Tasks, &body);
    }
    body.push_str("<table><thead><tr><th>编号</th><th>县区</th><th>责任单位</th><th>任务</th><th>问题数</th><th>整改期限</th><th>状态</th><th>反馈</th></tr></thead><tbody>");
    for task in tasks {
        let class = if task.overdue(today) { " class=\"late\"" } else { "" };
        let deadline =
            if task.overdue(today) { format!("{}（已逾期）", task.deadline) } else { task.deadline.to_string() };
        let answered = task.answer.as_ref().map(|a| format!("{} {}", escape(&a.by), minute(a.at))).unwrap_or_default();
        let _ = write!(
            body,
            "<tr{class}><td><a href=\"/tasks/{id}\">#{id}</a></td><td><a href=\"/tasks?county={county_q}\">{county}</a></td><td>{unit}</td>\
             <td><a href=\"/tasks/{id}\">{title}</a></td><td>{problems}</td><td>{deadline}</td><td><span class=\"state {state}\">{label}</span></td><td>{answered}</td></tr>",
            id = task.id,
            county_q = encode(&task.county),
            county = escape(&task.county),
            unit = escape(&task.unit),
            title = escape(&task.title),
            problems = task.problems.len(),
            state = task.state.as_str(),
            label = task.state.label_zh(),
        );
    }
    body.push_str("</tbody></table>");
    frame("整改任务", caller, Section::Tasks, &body)
}

/// One task: what it covers, what happened, and the county's answer form.
pub fn detail(
    caller: &Caller,
    task: &Task,
    events: &[TaskEvent],
    attachments: &[AttachmentInfo],
    problems: &[ProblemView],
    today: Date,
) -> String {
    let mut body = String::with_capacity(4096);
    let late = if task.overdue(today) { "（已逾期）" } else { "" };
    let _ = write!(
        body,
        "<div class=\"box\"><p><span class=\"state {state}\">{label}</span> 县区：<a href=\"/tasks?county={county_q}\">{county}</a> · 责任单位：{unit} · 整改期限：{deadline}{late} · 下发：{by} {at}{returned}</p>",
        state = task.state.as_str(),
        label = task.state.label_zh(),
        county_q = encode(&task.county),
        county = escape(&task.county),
        unit = escape(&task.unit),
        deadline = task.deadline,
        by = escape(&task.created_by),
        at = minute(task.created_at),
        returned = if task.returned > 0 { format!(" · 退回 {} 次", task.returned) } else { String::new() },
    );
    body.push_str("<p class=\"muted\">县区反馈后，巡检继续观察所涉问题：全部消失即自动“已核实”；反馈后仍被发现则“整改未到位”并退回县区。</p></div>");

    body.push_str("<h2>所涉问题</h2><table><thead><tr><th>编号</th><th>网站/账号</th><th>栏目/渠道</th><th>问题</th><th>说明与证据</th><th>首次发现</th><th>最近发现</th><th>状态</th></tr></thead><tbody>");
    for problem in problems {
        let place = problem.column.as_deref().or(problem.channel.as_deref()).unwrap_or("");
        let status = match problem.resolved_at {
            Some(at) => format!("已消除（{}）", minute(at)),
            None => "未消除".to_string(),
        };
        let _ = write!(
            body,
            "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}<div class=\"muted\">证据：{}</div><div class=\"muted mono\">{}</div></td><td>{}</td><td>{}</td><td>{status}</td></tr>",
            problem.id,
            subject_link(&task.county, &problem.target),
            escape(place),
            escape(&problem.label),
            escape(&problem.detail),
            escape(&problem.evidence),
            escape(&problem.url),
            minute(problem.first_seen),
            minute(problem.last_seen),
        );
    }
    body.push_str("</tbody></table>");

    body.push_str(
        "<h2>办理过程</h2><table><thead><tr><th>时间</th><th>办理人</th><th>事项</th><th>内容</th></tr></thead><tbody>",
    );
    for event in events {
        let kind = match event.kind.as_str() {
            "created" => "下发",
            "answered" => "整改反馈",
            "not_fixed" => "整改未到位",
            "verified" => "已核实",
            other => other,
        };
        let mut files = String::new();
        for attachment in attachments.iter().filter(|a| a.event_id == event.id) {
            let _ = write!(
                files,
                "<div>附件：<a href=\"/api/v1/tasks/{}/attachments/{}\">{}</a>（{} KB）</div>",
                task.id,
                attachment.id,
                escape(&attachment.name),
                (attachment.size.max(0) as u64).div_ceil(1024)
            );
        }
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{kind}</td><td>{}{files}</td></tr>",
            minute(event.at),
            escape(&event.author),
            escape(&event.detail)
        );
    }
    body.push_str("</tbody></table>");

    let may_answer = matches!(caller.role, Role::County | Role::Admin) && caller.via != Via::Open;
    if may_answer && task.state != TaskState::Verified {
        let _ = write!(
            body,
            "<h2>反馈整改情况</h2><form class=\"box\" id=\"answer\" method=\"post\" action=\"/api/v1/tasks/{id}/answer\" enctype=\"multipart/form-data\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label>整改情况（必填）<textarea name=\"answer\" required maxlength=\"4000\"></textarea></label>\
             <p><label>附件（可选，最多 {MAX_ATTACHMENTS} 个，每个不超过 5 MB；{ATTACHMENT_KINDS_ZH}）<input type=\"file\" name=\"attachment\" multiple></label></p>\
             <button type=\"submit\">提交反馈</button></form>",
            id = task.id,
            csrf = escape(caller.csrf().unwrap_or("")),
        );
    }
    frame(&format!("整改任务 #{}：{}", task.id, task.title), caller, Section::Tasks, &body)
}

pub async fn board_page(
    State(state): State<WebState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let text = |key: &str| query.get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let county = text("county");
    if let Some(county) = &county
        && let Err(denied) = caller.must_see(county)
    {
        return denied.into_response();
    }
    let task_state = text("state").and_then(|s| TaskState::named(&s));
    let filter = TaskFilter {
        within: caller.scope.counties().cloned(),
        county: county.clone(),
        state: task_state,
        ..Default::default()
    };
    match state.gate.with_db(move |db| stored::list(db, &filter)).await {
        Ok(tasks) => respond(board(&caller, &tasks, county.as_deref(), task_state, china_today(Timestamp::now()))),
        Err(refusal) => refusal,
    }
}

pub async fn detail_page(State(state): State<WebState>, caller: Caller, Path(id): Path<String>) -> Response {
    let (record, problems) = match crate::web::tasks::task_with_problems(&state, &caller, &id).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let today = china_today(Timestamp::now());
    respond(detail(&caller, &record.task, &record.events, &record.attachments, &problems, today))
}

/// `POST /tasks`: a task of the problems ticked on `/problems` (city and admin users).
pub async fn create(State(state): State<WebState>, form: FormCaller) -> Response {
    let caller = &form.caller;
    let problems: Vec<i64> = form
        .fields
        .iter()
        .filter(|(key, _)| key == "problem")
        .filter_map(|(_, value)| value.trim().parse().ok())
        .collect();
    let deadline: Option<Date> = form.field("deadline").parse().ok();
    let unit = Some(form.field("unit")).filter(|u| !u.is_empty());
    let title = Some(form.field("title")).filter(|t| !t.is_empty());
    if !matches!(caller.role, Role::Admin | Role::City) || caller.via == Via::Open {
        return crate::web::access::forbidden("下发整改任务仅限市级用户和管理员").into_response();
    }
    match crate::web::tasks::make_task(&state, caller, &problems, unit, title, deadline, "").await {
        Ok(id) => crate::web::access::redirect(&format!("/tasks/{id}")),
        Err(crate::web::tasks::MakeError::Refused(reasons)) => {
            let mut body = String::from("<div class=\"box error\"><p>整改任务未下发：</p><ul>");
            for reason in reasons {
                let _ = write!(body, "<li>{}</li>", escape(&reason));
            }
            body.push_str("</ul><p><a href=\"/problems?status=open\">返回问题台账</a></p></div>");
            let mut response = respond(frame("无法下发整改任务", caller, Section::Tasks, &body));
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
        Err(crate::web::tasks::MakeError::Failed(response)) => response,
    }
}
