//! The problem ledger over HTTP: `GET /api/v1/problems` (JSON, a page at a time) and
//! `GET /api/v1/problems.csv` (every match, for Excel: UTF-8 with a BOM, CRLF, formulas
//! neutralised). Filters: `county`, `unit`, `target`, `kind` (`site`, `account`), `code`, `status` (`open`, `resolved`, `all`;
//! default `all`), `since` and `until` (a date, China time, or an RFC 3339 time: problems open
//! at some moment between them), and for JSON `offset` and `limit` (default 100, at most 1000).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use xunjian_shared::time::{china_time, china_today};
use xunjian_shared::wire::FindingCode;
use xunjian_shared::wire::api::{ProblemPage, ProblemView};

use super::{Caller, WebState, bad_request, read_blocking, unknown_parameter};
use crate::ledger::{Problem, Status};
use crate::registry::{Registry, csv_cell};
use crate::store::ledger::ProblemFilter;

/// Rows of one JSON page, by default and at most.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

pub async fn json(
    State(state): State<WebState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (mut filter, offset, limit) = match parse(&query, true) {
        Ok(parsed) => parsed,
        Err(detail) => return bad_request(detail),
    };
    if let Err(denied) = scope(&mut filter, &caller) {
        return denied.into_response();
    }
    let store = state.store.clone();
    let page = read_blocking("问题台账", move || {
        let (total, rows) = store.problems(&filter, offset, limit)?;
        let now = Timestamp::now();
        let registry = store.registry().clone();
        let problems = rows.iter().map(|row| view(row, &registry, now)).collect();
        Ok(ProblemPage { total, offset, limit, problems })
    })
    .await;
    match page {
        Ok(page) => axum::Json(page).into_response(),
        Err(refusal) => refusal,
    }
}

pub async fn csv(
    State(state): State<WebState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (mut filter, _, _) = match parse(&query, false) {
        Ok(parsed) => parsed,
        Err(detail) => return bad_request(detail),
    };
    if let Err(denied) = scope(&mut filter, &caller) {
        return denied.into_response();
    }
    let store = state.store.clone();
    let body = read_blocking("问题台账", move || {
        let (_, rows) = store.problems(&filter, 0, usize::MAX)?;
        let registry = store.registry().clone();
        Ok(to_csv(&rows, &registry, Timestamp::now()))
    })
    .await;
    match body {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"problems.csv\""),
            ],
            body,
        )
            .into_response(),
        Err(refusal) => refusal,
    }
}

/// Keeps the filter to the caller's counties; a county asked for outside them is refused.
fn scope(filter: &mut ProblemFilter, caller: &Caller) -> Result<(), super::access::Denied> {
    if let Some(county) = &filter.county {
        caller.must_see(county)?;
    }
    filter.within = caller.scope.counties().cloned();
    Ok(())
}

/// The filter, offset and limit a query asks for; what is wrong (naming the parameter) when one is.
fn parse(query: &HashMap<String, String>, paged: bool) -> Result<(ProblemFilter, usize, usize), String> {
    let known: &[&str] = if paged {
        &["county", "unit", "target", "kind", "code", "status", "since", "until", "offset", "limit"]
    } else {
        &["county", "unit", "target", "kind", "code", "status", "since", "until"]
    };
    unknown_parameter(query, known)?;
    let text = |key: &str| query.get(key).map(|value| value.trim()).filter(|value| !value.is_empty());
    let code = match text("code") {
        None => None,
        Some(code) => Some(
            FindingCode::parse(code)
                .ok_or_else(|| format!("code={code:?} 不是问题代码；可用：{}", FindingCode::NAMES.join(", ")))?,
        ),
    };
    let status = match text("status") {
        None | Some("all") => None,
        Some(status) => {
            Some(Status::named(status).ok_or_else(|| format!("status={status:?} 应为 open、resolved 或 all"))?)
        }
    };
    let since = text("since").map(|value| moment(value, false).map_err(|e| format!("since: {e}"))).transpose()?;
    let until = text("until").map(|value| moment(value, true).map_err(|e| format!("until: {e}"))).transpose()?;
    let number = |key: &str, default: usize| match text(key) {
        None => Ok(default),
        Some(value) => value.parse::<usize>().map_err(|_| format!("{key}={value:?} 应为非负整数")),
    };
    let offset = number("offset", 0)?;
    let limit = number("limit", DEFAULT_LIMIT)?.clamp(1, MAX_LIMIT);
    let filter = ProblemFilter {
        county: text("county").map(str::to_string),
        within: None,
        unit: text("unit").map(str::to_string),
        target: text("target").map(str::to_string),
        kind: match text("kind") {
            None => None,
            Some(kind) => Some(
                xunjian_shared::wire::TargetKind::named(kind)
                    .ok_or_else(|| format!("kind={kind:?} 应为 site 或 account"))?,
            ),
        },
        lasting: None,
        code,
        status,
        since,
        until,
    };
    Ok((filter, offset, limit))
}

/// `2026-11-20` (the start of that China day, or its end for `until`) or an RFC 3339 time.
fn moment(value: &str, end_of_day: bool) -> Result<Timestamp, String> {
    if let Ok(at) = value.parse::<Timestamp>() {
        return Ok(at);
    }
    let date: Date = value.parse().map_err(|_| format!("{value:?} 应为日期（2026-11-20）或 RFC 3339 时间"))?;
    let day = if end_of_day { date.tomorrow().map_err(|e| e.to_string())? } else { date };
    let start = xunjian_shared::time::china_midnight(day);
    Ok(if end_of_day { start - jiff::SignedDuration::from_secs(1) } else { start })
}

pub(super) fn view(row: &Problem, registry: &Registry, now: Timestamp) -> ProblemView {
    let place = &row.place;
    let exempted_by =
        registry.exempts_code(&place.target, place.scope(), row.code, china_today(now)).map(|exemption| exemption.id);
    let until = row.resolved_at.unwrap_or(now);
    let some = |text: &str| Some(text.to_string()).filter(|text| !text.is_empty());
    ProblemView {
        id: row.id,
        county: place.county.clone(),
        unit: place.unit.clone(),
        target: place.target.clone(),
        kind: place.kind,
        platform: some(&place.platform),
        column: some(&place.column),
        channel: some(&place.channel),
        code: row.code,
        label: row.code.label_zh().to_string(),
        severity: row.severity,
        status: row.status.as_str().to_string(),
        first_seen: row.first_seen,
        last_seen: row.last_seen,
        resolved_at: row.resolved_at,
        resolution: row.resolution.map(|r| r.as_str().to_string()),
        resolution_label: row.resolution.map(|r| r.label_zh().to_string()),
        days: until.duration_since(row.first_seen).as_secs().max(0) / 86_400,
        detail: row.detail.clone(),
        url: row.url.clone(),
        evidence: row.evidence.clone(),
        observed_at: row.observed_at,
        exempted_by,
        reopened: row.reopened,
    }
}

const HEADER: [&str; 21] = [
    "编号",
    "县区",
    "责任单位",
    "名称",
    "类型",
    "平台",
    "栏目",
    "互动渠道",
    "问题",
    "问题代码",
    "严重程度",
    "状态",
    "首次发现",
    "最近发现",
    "解决时间",
    "解决原因",
    "持续天数",
    "详情",
    "证据",
    "网址",
    "豁免编号",
];

fn to_csv(rows: &[Problem], registry: &Registry, now: Timestamp) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&HEADER.join(","));
    out.push_str("\r\n");
    for row in rows {
        let problem = view(row, registry, now);
        let kind = if problem.kind == xunjian_shared::wire::TargetKind::Site { "网站" } else { "政务新媒体" };
        let status = if row.status == Status::Open { "未解决" } else { "已解决" };
        let severity = problem.severity.label_zh();
        let cells = [
            problem.id.to_string(),
            problem.county,
            problem.unit,
            problem.target,
            kind.to_string(),
            problem.platform.unwrap_or_default(),
            problem.column.unwrap_or_default(),
            problem.channel.unwrap_or_default(),
            problem.label,
            problem.code.as_str().to_string(),
            severity.to_string(),
            status.to_string(),
            china_time(problem.first_seen),
            china_time(problem.last_seen),
            problem.resolved_at.map(china_time).unwrap_or_default(),
            problem.resolution_label.unwrap_or_default(),
            problem.days.to_string(),
            problem.detail,
            problem.evidence,
            problem.url,
            problem.exempted_by.map(|id| id.to_string()).unwrap_or_default(),
        ];
        out.push_str(&cells.iter().map(|cell| csv_cell(cell)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}
