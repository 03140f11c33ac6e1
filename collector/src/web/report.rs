//! The 通报 over HTTP: `GET /report` lists the periods that have data, each with a link per
//! format; `GET /api/v1/report?period=2026Q4&format=xlsx[&at=2026-11-20,2026-12-15][&county=…]`
//! makes one (default: the current quarter, as a web page). One report is made at a time.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use xunjian_shared::time::china_today;
use xunjian_shared::wire::ApiError;

use super::status_page::escape;
use super::{Caller, WebState, bad_request, console, read_blocking, unknown_parameter};
use crate::report::{self, Format, Method, Period, ReportError, Request};

/// Reports are made one at a time: each reads the whole period.
static ONE_AT_A_TIME: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'";

pub async fn download(
    State(state): State<WebState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let now = Timestamp::now();
    let (mut request, format) = match parse(&query, now) {
        Ok(parsed) => parsed,
        Err(detail) => return bad_request(detail),
    };
    // A scoped caller gets its own county's report: the one it names, or its only one.
    match (&request.county, caller.scope.counties()) {
        (Some(county), _) => {
            if let Err(denied) = caller.must_see(county) {
                return denied.into_response();
            }
        }
        (None, Some(own)) if own.len() == 1 => request.county = own.first().cloned(),
        (None, Some(own)) => {
            let names: Vec<&str> = own.iter().map(String::as_str).collect();
            return bad_request(format!("请用 county= 指定县区：{}", names.join("、")));
        }
        (None, None) => {}
    }
    // One at a time; others are told to come back rather than queue up.
    let Ok(turn) = ONE_AT_A_TIME.try_acquire() else {
        let detail = "正在生成另一份通报，请稍后再试".to_string();
        let mut response = refusal(StatusCode::SERVICE_UNAVAILABLE, "busy", detail);
        response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("10"));
        return response;
    };
    let store = state.store.clone();
    let settings = state.report.clone();
    let job = request.clone();
    let made = tokio::task::spawn_blocking(move || {
        // The turn ends with the work, not with the request: a client that hangs up does not
        // let a second report start beside this one.
        let _turn = turn;
        let registry = store.registry().clone();
        // The reader is held while the period is read, and let go before the report is built
        // and rendered (a PDF print may take a while).
        let input = store.with_reader(|snapshot, connection| {
            let source = report::Source { connection, snapshot, registry: &registry };
            report::source::gather(&source, &job, now, &|_| {})
        })?;
        report::make(input, &settings, format, &|_| {})
    })
    .await;
    let failed = |cause: String| {
        tracing::error!(error = cause, format = format.as_str(), "making the report failed");
        let detail = if format == Format::Pdf {
            "PDF 生成失败，请查看采集中心日志；也可下载 html 格式后在浏览器中打印为 PDF"
        } else {
            "生成通报失败，请查看采集中心日志"
        };
        refusal(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail.to_string())
    };
    match made {
        Ok(Ok((_, bytes))) => {
            let name = report::file_name(&request, format);
            let disposition = if format == Format::Html { "inline" } else { "attachment" };
            (
                [
                    (header::CONTENT_TYPE, format.info().content_type.to_string()),
                    (header::CONTENT_DISPOSITION, content_disposition(disposition, &name)),
                    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY.to_string()),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(Err(ReportError::Request(detail))) => bad_request(detail),
        Ok(Err(ReportError::NoData(detail))) => refusal(StatusCode::NOT_FOUND, "no_data", detail),
        Ok(Err(ReportError::NoChromium(detail))) => refusal(StatusCode::SERVICE_UNAVAILABLE, "pdf_unavailable", detail),
        Ok(Err(error)) => failed(error.to_string()),
        Err(error) => failed(error.to_string()),
    }
}

fn refusal(status: StatusCode, code: &'static str, detail: String) -> Response {
    (status, axum::Json(ApiError::new(code, detail))).into_response()
}

/// The request and format a query asks for; what is wrong (naming the parameter) when one is.
fn parse(query: &HashMap<String, String>, now: Timestamp) -> Result<(Request, Format), String> {
    unknown_parameter(query, &["period", "format", "at", "county"])?;
    let text = |key: &str| query.get(key).map(|value| value.trim()).filter(|value| !value.is_empty());
    let period = match text("period") {
        Some(period) => Period::parse(period).map_err(|e| format!("period: {e}"))?,
        None => Period::quarter_of(china_today(now)),
    };
    let format = match text("format") {
        Some(format) => Format::parse(format).map_err(|e| format!("format: {e}"))?,
        None => Format::Html,
    };
    let method = match text("at") {
        Some(dates) => Method::Sampling(report::parse_dates(dates).map_err(|e| format!("at: {e}"))?),
        None => Method::Continuous,
    };
    Ok((Request { period, method, county: text("county").map(str::to_string) }, format))
}

/// `attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded>` (RFC 6266).
pub(super) fn content_disposition(disposition: &str, name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' { c } else { '_' }).collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b".-_".contains(&byte) {
            encoded.push(byte as char);
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// `GET /report`: the periods with data, newest first, a link per format (a scoped caller: its
/// counties' periods, a row per county).
pub async fn index(State(state): State<WebState>, caller: Caller) -> Response {
    let store = state.store.clone();
    let now = Timestamp::now();
    let within = caller.scope.counties().cloned();
    let scope = caller.scope.clone();
    let listed = read_blocking("历史记录", move || {
        let today = china_today(now);
        let live = {
            let snapshot = store.snapshot();
            match &within {
                None => report::source::observed_on(&snapshot, None, today),
                Some(own) => own.iter().any(|county| report::source::observed_on(&snapshot, Some(county), today)),
            }
        };
        store.with_reader(|_, connection| report::source::periods_with_data(connection, today, live, within.as_ref()))
    })
    .await;
    // Which county each row's links name: none for the city (or a caller with one county).
    let counties: Vec<Option<String>> = match scope.counties() {
        Some(own) if own.len() > 1 => own.iter().cloned().map(Some).collect(),
        _ => vec![None],
    };
    let periods = match listed {
        Ok(periods) => periods,
        Err(refusal) => return refusal,
    };
    let mut html = String::new();
    if periods.is_empty() {
        html.push_str("<p>尚无巡检数据：采集代理推送数据后即可生成通报。</p>");
    } else {
        html.push_str("<table><thead><tr><th>时段</th><th>有数据天数</th><th>下载</th></tr></thead><tbody>");
        for (period, days) in periods {
            let code = report::period_code(period);
            let class = if matches!(period, Period::Month { .. }) { " class=\"month\"" } else { "" };
            let _ = write!(html, "<tr{class}><td>{}</td><td>{days}</td><td>", escape(&period.to_string()));
            for county in &counties {
                let (label, param) = match county {
                    Some(county) => (
                        format!("{}：", escape(county)),
                        format!(
                            "&amp;county={}",
                            url::form_urlencoded::byte_serialize(county.as_bytes()).collect::<String>()
                        ),
                    ),
                    None => (String::new(), String::new()),
                };
                let links: Vec<String> = Format::ALL
                    .iter()
                    .map(|format| {
                        format!(
                            "<a href=\"/api/v1/report?period={code}&amp;format={}{param}\">{}</a>",
                            format.as_str(),
                            format.info().label
                        )
                    })
                    .collect();
                let _ = write!(html, "<div>{label}{}</div>", links.join(" · "));
            }
            html.push_str("</td></tr>");
        }
        html.push_str("</tbody></table>");
    }
    html.push_str(
        "<p>默认按连续监测判定（期内任一天存在单项否决问题即为不合格，并注明天数）。抽样检查：在地址后加 <code>&amp;at=2026-11-20,2026-12-15</code>；\
         单个县区：加 <code>&amp;county=县区名</code>。命令行：<code>xunjian-collector report --config collector.toml --period 2026Q4 --format docx --out 通报.docx</code>。</p>",
    );
    console::respond(console::frame("政府网站与政务新媒体检查通报", &caller, console::Section::Reports, &html))
}
