//! What people read: an alert in Chinese, naming county, 责任单位, target, the problem, since
//! when, and where to look. The robots' messages are built from these lines.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use xunjian_shared::config::AlertSeverity;
use xunjian_shared::time::CHINA_OFFSET;

use super::engine::{AlertState, Notice};

pub fn china_time(stamp: Timestamp) -> String {
    stamp.to_zoned_datetime(TimeZone::fixed(CHINA_OFFSET)).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// The heading of one notice: 【巡检告警·严重】网站无法访问, 【巡检恢复】…
pub fn heading(notice: &Notice) -> String {
    let alert = &notice.alert;
    let severity = AlertSeverity::parse(&alert.severity).map(|s| s.label_zh()).unwrap_or("告警");
    match (alert.state, notice.repeat) {
        (AlertState::Resolved, _) => format!("【巡检恢复】{}", alert.title),
        (_, true) => format!("【巡检告警·{severity}·仍未恢复】{}", alert.title),
        (_, false) => format!("【巡检告警·{severity}】{}", alert.title),
    }
}

/// What the alert is about: 龙川县教育局（「教育动态」栏目）, 采集代理 longchuan …
pub fn subject(notice: &Notice) -> String {
    let labels = &notice.alert.labels;
    let get = |key: &str| labels.get(key).map(String::as_str).unwrap_or("");
    if !get("agent").is_empty() {
        return format!("采集代理 {}", get("agent"));
    }
    let scope = match (get("column"), get("channel"), get("kind")) {
        (column, _, _) if !column.is_empty() => format!("「{column}」栏目"),
        (_, channel, _) if !channel.is_empty() => format!("「{channel}」互动渠道"),
        (_, _, "account") => {
            let platform =
                xunjian_shared::config::Platform::parse(get("platform")).map(|p| p.label_zh()).unwrap_or("新媒体");
            format!("{platform}账号")
        }
        _ => "网站".into(),
    };
    format!("{}（{scope}）", get("target"))
}

/// The body lines of one notice, without the heading.
pub fn lines(notice: &Notice, status_page: Option<&str>) -> Vec<String> {
    let alert = &notice.alert;
    let get = |key: &str| alert.labels.get(key).cloned().unwrap_or_default();
    let mut lines = vec![format!("县区：{}", or_dash(&get("county")))];
    if !get("unit").is_empty() {
        lines.push(format!("责任单位：{}", get("unit")));
    }
    lines.push(format!("对象：{}", subject(notice)));
    lines.push(format!("问题：{}", alert.description));
    lines.push(format!("开始时间：{}", china_time(alert.active_at)));
    if let (AlertState::Resolved, Some(at)) = (alert.state, alert.resolved_at) {
        lines.push(format!("恢复时间：{}", china_time(at)));
    }
    if let Some(url) = status_page {
        lines.push(format!("查看：{url}"));
    }
    lines
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

/// Plain text of several notices, split into messages of at most `max_bytes`; a notice that
/// alone exceeds it is cut.
pub fn plain_messages(notices: &[Notice], status_page: Option<&str>, max_bytes: usize) -> Vec<String> {
    let blocks: Vec<String> =
        notices.iter().map(|n| format!("{}\n{}", heading(n), lines(n, status_page).join("\n"))).collect();
    pack(blocks, "\n\n", max_bytes)
}

/// Markdown of several notices (DingTalk and WeCom render a subset), split the same way.
pub fn markdown_messages(notices: &[Notice], status_page: Option<&str>, max_bytes: usize) -> Vec<String> {
    let blocks: Vec<String> = notices
        .iter()
        .map(|n| {
            let body: Vec<String> = lines(n, status_page).into_iter().map(|line| format!("> {line}")).collect();
            format!("#### {}\n{}", heading(n), body.join("\n\n"))
        })
        .collect();
    pack(blocks, "\n\n", max_bytes)
}

fn pack(blocks: Vec<String>, separator: &str, max_bytes: usize) -> Vec<String> {
    let mut messages: Vec<String> = Vec::new();
    let mut current = String::new();
    for block in blocks {
        let block = cut(&block, max_bytes);
        if !current.is_empty() && current.len() + separator.len() + block.len() > max_bytes {
            messages.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push_str(separator);
        }
        current.push_str(&block);
    }
    if !current.is_empty() {
        messages.push(current);
    }
    messages
}

fn cut(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let mut end = max_bytes.saturating_sub("…".len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
