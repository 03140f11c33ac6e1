//! The daily history over HTTP: `GET /api/v1/history?target=…&from=&to=` (one site's or
//! account's days: verdict, reasons, each page's state; and when an agent first saw it) and
//! `GET /api/v1/history/counties?from=&to=` (every county's pass ratio per day). Dates are China
//! days, `YYYY-MM-DD`; by default the last 30 days; at most [`MAX_DAYS`] at once.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;
use xunjian_shared::time::china_today;

use super::{Caller, WebState, bad_request, read_blocking, unknown_parameter};
use crate::store::history::{CountyDay, TargetDay};

/// Days one request may span: a little over three years.
const MAX_DAYS: i64 = 1_100;
/// Days shown when no range is given.
const DEFAULT_DAYS: i64 = 30;

#[derive(Serialize)]
struct TargetHistory {
    target: String,
    /// When an agent first reported it (the registry's filing deadline counts from it).
    #[serde(skip_serializing_if = "Option::is_none")]
    first_seen: Option<Timestamp>,
    from: Date,
    to: Date,
    days: Vec<TargetDay>,
}

#[derive(Serialize)]
struct CountyHistory {
    from: Date,
    to: Date,
    days: Vec<CountyDay>,
}

/// `from` and `to` of a query; the refusal naming what is wrong.
fn range(query: &HashMap<String, String>, known: &[&str]) -> Result<(Date, Date), String> {
    unknown_parameter(query, known)?;
    let date = |key: &str| -> Result<Option<Date>, String> {
        match query.get(key).map(|value| value.trim()).filter(|value| !value.is_empty()) {
            None => Ok(None),
            Some(value) => value.parse().map(Some).map_err(|_| format!("{key}={value:?} 应为日期，如 2026-11-20")),
        }
    };
    let today = china_today(Timestamp::now());
    let to = date("to")?.unwrap_or(today);
    let from = date("from")?.unwrap_or_else(|| to.checked_sub((DEFAULT_DAYS - 1).days()).unwrap_or(to));
    if from > to {
        return Err(format!("from（{from}）晚于 to（{to}）"));
    }
    if xunjian_shared::time::days_between(from, to) >= MAX_DAYS {
        return Err(format!("一次最多查询 {MAX_DAYS} 天；请缩小 from 与 to 的范围"));
    }
    Ok((from, to))
}

/// One target's history. A scoped caller sees only its counties' targets: with `county`
/// outside them, or a target none of them has, it gets the same refusal.
pub async fn target(
    State(state): State<WebState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (from, to) = match range(&query, &["target", "county", "from", "to"]) {
        Ok(range) => range,
        Err(detail) => return bad_request(detail),
    };
    let Some(target) = query.get("target").map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) else {
        return bad_request("缺少参数 target：网站或账号的名称，如 ?target=龙川县人民政府门户网站".into());
    };
    let county = query.get("county").map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if let Some(county) = &county
        && let Err(denied) = caller.must_see(county)
    {
        return denied.into_response();
    }
    // The counties to look in: the one asked for, else a scoped caller's own (None: any).
    let counties: Option<Vec<String>> = match (&county, caller.scope.counties()) {
        (Some(county), _) => Some(vec![county.clone()]),
        (None, Some(own)) => Some(own.iter().cloned().collect()),
        (None, None) => None,
    };
    let scoped = !caller.scope.is_all();
    let store = state.store.clone();
    let history = read_blocking("历史记录", move || {
        let Some(counties) = counties else {
            let (first_seen, days) = store.history_of(&target, None, from, to)?;
            return Ok(Some(TargetHistory { target, first_seen, from, to, days }));
        };
        for county in &counties {
            let (first_seen, days) = store.history_of(&target, Some(county), from, to)?;
            if first_seen.is_some() || !days.is_empty() || !scoped {
                return Ok(Some(TargetHistory { target, first_seen, from, to, days }));
            }
        }
        Ok(None)
    })
    .await;
    match history {
        Ok(Some(history)) => axum::Json(history).into_response(),
        Ok(None) => super::access::out_of_scope().into_response(),
        Err(refusal) => refusal,
    }
}

/// Every county's pass ratios per day; a scoped caller's counties only, without the city's row.
pub async fn counties(
    State(state): State<WebState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (from, to) = match range(&query, &["from", "to"]) {
        Ok(range) => range,
        Err(detail) => return bad_request(detail),
    };
    let store = state.store.clone();
    match read_blocking("历史记录", move || store.county_history(from, to)).await {
        Ok(mut days) => {
            if !caller.scope.is_all() {
                days.retain(|day| day.county != crate::judge::WHOLE_CITY && caller.scope.sees(&day.county));
            }
            axum::Json(CountyHistory { from, to, days }).into_response()
        }
        Err(refusal) => refusal,
    }
}
