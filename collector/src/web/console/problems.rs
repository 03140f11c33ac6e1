//! The problem list (`/problems`): the ledger filtered by county, kind, code, status and age,
//! newest first, with its export; a city user ticks problems to make a 整改 task of them.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use xunjian_shared::wire::api::ProblemView;
use xunjian_shared::wire::{FindingCode, TargetKind};

use super::{Section, encode, frame, minute, respond, subject_link};
use crate::ledger::Status;
use crate::people::Role;
use crate::store::ledger::ProblemFilter;
use crate::web::access::{Caller, Via};
use crate::web::status_page::escape;
use crate::web::{WebState, read_blocking};

/// Rows one page shows at most.
pub const PAGE_ROWS: usize = 500;

/// What the list is filtered by (as the form and the links carry it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    pub county: String,
    pub kind: Option<TargetKind>,
    pub code: Option<FindingCode>,
    pub status: Option<Status>,
    /// Open (or lasted) at least this many days.
    pub min_days: Option<i64>,
}

impl Filters {
    pub fn parse(query: &HashMap<String, String>) -> Filters {
        let text = |key: &str| query.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
        Filters {
            county: text("county").unwrap_or("").to_string(),
            kind: text("kind").and_then(TargetKind::named),
            code: text("code").and_then(FindingCode::parse),
            status: text("status").and_then(Status::named),
            // A century at most: a larger age would overflow as seconds.
            min_days: text("age").and_then(|v| v.parse::<i64>().ok()).map(|days| days.clamp(0, 36_500)),
        }
    }

    /// The same filters for the export's link.
    fn export_query(&self) -> String {
        let mut query = format!("county={}", encode(&self.county));
        if let Some(code) = self.code {
            let _ = write!(query, "&amp;code={}", code.as_str());
        }
        if let Some(status) = self.status {
            let _ = write!(query, "&amp;status={}", status.as_str());
        }
        query
    }
}

/// The page: the filters, the count, the rows (with checkboxes and the task form for a city user).
pub fn page(caller: &Caller, filters: &Filters, total: usize, rows: &[ProblemView]) -> String {
    let mut body = String::with_capacity(2048 + rows.len() * 600);
    body.push_str("<form class=\"filters\" method=\"get\" action=\"/problems\">");
    let _ = write!(body, "<label>县区<input name=\"county\" value=\"{}\"></label>", escape(&filters.county));
    body.push_str("<label>类型<select name=\"kind\"><option value=\"\">全部</option>");
    for (kind, label) in [(TargetKind::Site, "网站"), (TargetKind::Account, "政务新媒体")] {
        let selected = if filters.kind == Some(kind) { " selected" } else { "" };
        let _ = write!(body, "<option value=\"{}\"{selected}>{label}</option>", kind.as_str());
    }
    body.push_str("</select></label><label>问题<select name=\"code\"><option value=\"\">全部</option>");
    for code in FindingCode::ALL {
        let selected = if filters.code == Some(*code) { " selected" } else { "" };
        let _ = write!(body, "<option value=\"{}\"{selected}>{}</option>", code.as_str(), code.label_zh());
    }
    body.push_str("</select></label><label>状态<select name=\"status\"><option value=\"\">全部</option>");
    for (status, label) in [(Status::Open, "未消除"), (Status::Resolved, "已消除")] {
        let selected = if filters.status == Some(status) { " selected" } else { "" };
        let _ = write!(body, "<option value=\"{}\"{selected}>{label}</option>", status.as_str());
    }
    let age = filters.min_days.map(|d| d.to_string()).unwrap_or_default();
    let _ = write!(
        body,
        "</select></label><label>持续天数 ≥<input name=\"age\" type=\"number\" min=\"0\" value=\"{age}\" style=\"width:6em\"></label>\
         <button type=\"submit\">筛选</button><span class=\"muted\"><a href=\"/api/v1/problems.csv?{}\">导出 Excel（CSV）</a></span></form>",
        filters.export_query()
    );
    let shown = rows.len();
    let _ = write!(
        body,
        "<p>共 {total} 条{}。</p>",
        if shown < total { format!("，显示前 {shown} 条") } else { String::new() }
    );
    let may_task = matches!(caller.role, Role::Admin | Role::City) && caller.via != Via::Open;
    if may_task {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/tasks\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            escape(caller.csrf().unwrap_or(""))
        );
    }
    body.push_str("<table><thead><tr>");
    if may_task {
        body.push_str("<th>选</th>");
    }
    body.push_str("<th>编号</th><th>县区</th><th>单位</th><th>网站/账号</th><th>栏目/渠道</th><th>问题</th><th>说明</th><th>首次发现</th><th>最近发现</th><th>天数</th><th>状态</th></tr></thead><tbody>");
    for row in rows {
        body.push_str("<tr>");
        if may_task {
            let disabled = if row.resolved_at.is_some() { " disabled" } else { "" };
            let _ = write!(body, "<td><input type=\"checkbox\" name=\"problem\" value=\"{}\"{disabled}></td>", row.id);
        }
        let place = row.column.as_deref().or(row.channel.as_deref()).unwrap_or("");
        let status = match (&row.resolved_at, &row.resolution_label) {
            (Some(at), label) => {
                format!("已消除 {}<div class=\"muted\">{}</div>", minute(*at), escape(label.as_deref().unwrap_or("")))
            }
            (None, _) if row.exempted_by.is_some() => "未消除（已豁免）".to_string(),
            (None, _) => "未消除".to_string(),
        };
        let _ = write!(
            body,
            "<td>#{id}</td><td><a href=\"/problems?county={county_q}\">{county}</a></td><td>{unit}</td><td>{target}</td><td>{place}</td>\
             <td><a href=\"/problems?code={code}&amp;county={county_q}\">{label}</a></td><td>{detail}<div class=\"muted\">证据：{evidence}</div></td>\
             <td>{first}</td><td>{last}</td><td>{days}</td><td>{status}</td></tr>",
            id = row.id,
            county_q = encode(&row.county),
            county = escape(&row.county),
            unit = escape(&row.unit),
            target = subject_link(&row.county, &row.target),
            place = escape(place),
            code = row.code.as_str(),
            label = escape(&row.label),
            detail = escape(&row.detail),
            evidence = escape(&row.evidence),
            first = minute(row.first_seen),
            last = minute(row.last_seen),
            days = row.days,
        );
    }
    body.push_str("</tbody></table>");
    if may_task {
        body.push_str(
            "<div class=\"box\"><b>下发整改任务</b>（所选问题须属于同一县区）：\
             <label>责任单位（可省）<input name=\"unit\"></label> <label>标题（可省）<input name=\"title\"></label> \
             <label>整改期限（可省，默认本季度通报期限）<input name=\"deadline\" type=\"date\"></label> \
             <button type=\"submit\">下发</button></div></form>",
        );
    }
    frame("问题台账", caller, Section::Problems, &body)
}

pub async fn list_page(
    State(state): State<WebState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let filters = Filters::parse(&query);
    let county = Some(filters.county.clone()).filter(|c| !c.is_empty());
    if let Some(county) = &county
        && let Err(denied) = caller.must_see(county)
    {
        return denied.into_response();
    }
    let now = Timestamp::now();
    let filter = ProblemFilter {
        county,
        within: caller.scope.counties().cloned(),
        kind: filters.kind,
        code: filters.code,
        status: filters.status,
        lasting: filters.min_days.map(|days| (days.max(0) * 86_400, now)),
        ..Default::default()
    };
    let store = state.store.clone();
    let listed = read_blocking("问题台账", move || {
        let (total, rows) = store.problems(&filter, 0, PAGE_ROWS)?;
        let registry = store.registry().clone();
        let views: Vec<ProblemView> = rows.iter().map(|row| crate::web::problems::view(row, &registry, now)).collect();
        Ok((total, views))
    })
    .await;
    match listed {
        Ok((total, rows)) => respond(page(&caller, &filters, total, &rows)),
        Err(refusal) => refusal,
    }
}
