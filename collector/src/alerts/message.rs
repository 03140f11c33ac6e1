//! What people read: an alert in Chinese, naming county, 责任单位, target, the problem, since
//! when, and where to look. The robots' messages are built from these lines.
//!
//! Nothing a monitored site or an agent wrote becomes markup or a link in a robot's message:
//! every field is one line (CR, LF, U+2028 … become spaces), capped at [`MAX_FIELD_CHARS`],
//! stripped of what the robots render (markdown for DingTalk and WeCom, `<at>` tags for
//! Feishu: replaced by their full-width forms) and of URL schemes; the problem is the
//! collector's own wording ([`super::rules`]), never a finding's detail; and the configured
//! status page is the only link.

use xunjian_shared::time::china_time;

use super::engine::{AlertState, Notice};

/// Longest field in a robot message, in characters.
pub const MAX_FIELD_CHARS: usize = 80;

/// `text` as one safe line: control and line-separator characters become spaces, runs of
/// spaces one, URL schemes lose their `://` and host names their dots, the characters markdown
/// and Feishu's `<at>` tags render are replaced by their full-width forms, and at most
/// [`MAX_FIELD_CHARS`] characters remain. The same for every robot: DingTalk and WeCom render
/// markdown, Feishu renders tags, and a message may be forwarded from one to another.
pub fn field(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_FIELD_CHARS * 3));
    let mut chars = 0;
    let mut last_space = true;
    let mut cut = false;
    for c in text.chars() {
        let c = if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}') || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        if chars == MAX_FIELD_CHARS {
            cut = true;
            break;
        }
        out.push(neutral(c));
        chars += 1;
    }
    let mut out = defang_hosts(out.trim_end().replace("：//", "：／／"));
    if cut {
        out.push('…');
    }
    out
}

/// `evil.example` → `evil．example`: chat clients turn bare host names into links, so a dot
/// between an ASCII letter or digit and an ASCII letter becomes its full-width form.
fn defang_hosts(text: String) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let before = i.checked_sub(1).and_then(|j| chars.get(j)).is_some_and(|p| p.is_ascii_alphanumeric());
            let after = chars.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic());
            if c == '.' && before && after { '．' } else { c }
        })
        .collect()
}

/// A character a robot would read as markup, as its full-width twin.
fn neutral(c: char) -> char {
    match c {
        // A colon before "//" would make a link; the full-width colon reads the same.
        ':' => '：',
        '<' => '＜',
        '>' => '＞',
        '*' => '＊',
        '_' => '＿',
        '[' => '［',
        ']' => '］',
        '(' => '（',
        ')' => '）',
        '#' => '＃',
        '!' => '！',
        '`' => '｀',
        '~' => '～',
        '|' => '｜',
        '\\' => '＼',
        _ => c,
    }
}

/// The heading of one notice: 【巡检告警·严重】网站无法访问, 【巡检恢复】…
pub fn heading(notice: &Notice) -> String {
    let alert = &notice.alert;
    let severity = alert.severity.label_zh();
    match (alert.state, notice.repeat) {
        (AlertState::Resolved, _) => format!("【巡检恢复】{}", alert.title),
        (_, true) => format!("【巡检告警·{severity}·仍未恢复】{}", alert.title),
        (_, false) => format!("【巡检告警·{severity}】{}", alert.title),
    }
}

/// What the alert is about: 龙川县教育局（「教育动态」栏目）, 采集代理 longchuan …
/// (as the agent named it; [`lines`] makes it safe).
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

/// The body lines of one notice, without the heading, every field made safe for `markup`.
pub fn lines(notice: &Notice, status_page: Option<&str>) -> Vec<String> {
    let alert = &notice.alert;
    let get = |key: &str| field(alert.labels.get(key).map(String::as_str).unwrap_or(""));
    let county = get("county");
    let mut lines = vec![format!("县区：{}", if county.is_empty() { "-" } else { &county })];
    let unit = get("unit");
    if !unit.is_empty() {
        lines.push(format!("责任单位：{unit}"));
    }
    lines.push(format!("对象：{}", field(&subject(notice))));
    lines.push(format!("问题：{}", field(&alert.description)));
    lines.push(format!("开始时间：{}", china_time(alert.active_at)));
    if let (AlertState::Resolved, Some(at)) = (alert.state, alert.resolved_at) {
        lines.push(format!("恢复时间：{}", china_time(at)));
    }
    match status_page {
        Some(url) => lines.push(format!("详见巡检页面：{url}")),
        None => lines.push("详见巡检页面".into()),
    }
    lines
}

/// The summary line for notices that did not fit the receiver's rate limit.
pub fn fold_line(folded: u64) -> String {
    format!("另有 {folded} 条告警，详见巡检页面")
}

/// A message packed from notices in order: the text, and how many notices it holds.
pub struct Packed {
    pub text: String,
    pub notices: usize,
    /// Notices summarised by the fold line (0 without one).
    pub folded: u64,
}

/// One plain-text message of as many `notices` as fit in `max_bytes` (at least one, cut if it
/// alone is too long); with `fold = Some(others)`, a last line summarising the notices left out
/// and `others` more.
pub fn plain_message(notices: &[Notice], status_page: Option<&str>, max_bytes: usize, fold: Option<u64>) -> Packed {
    let blocks = notices.iter().map(|n| format!("{}\n{}", field(&heading(n)), lines(n, status_page).join("\n")));
    pack(blocks, "\n\n", max_bytes, notices.len(), fold, |line| line)
}

/// One markdown message (DingTalk and WeCom render a subset), packed the same way.
pub fn markdown_message(notices: &[Notice], status_page: Option<&str>, max_bytes: usize, fold: Option<u64>) -> Packed {
    let blocks = notices.iter().map(|n| {
        let body: Vec<String> = lines(n, status_page).into_iter().map(|line| format!("> {line}")).collect();
        format!("#### {}\n{}", field(&heading(n)), body.join("\n\n"))
    });
    pack(blocks, "\n\n", max_bytes, notices.len(), fold, |line| format!("**{line}**"))
}

/// Room kept for the fold line: a long count and its markup.
const FOLD_ROOM: usize = 96;

fn pack(
    blocks: impl Iterator<Item = String>,
    separator: &str,
    max_bytes: usize,
    total: usize,
    fold: Option<u64>,
    style: impl Fn(String) -> String,
) -> Packed {
    let budget = if fold.is_some() { max_bytes.saturating_sub(FOLD_ROOM) } else { max_bytes };
    let mut text = String::new();
    let mut notices = 0;
    for block in blocks {
        let block = cut(&block, budget);
        let extra = if text.is_empty() { block.len() } else { separator.len() + block.len() };
        if notices > 0 && text.len() + extra > budget {
            break;
        }
        if !text.is_empty() {
            text.push_str(separator);
        }
        text.push_str(&block);
        notices += 1;
    }
    let mut folded = 0;
    if let Some(others) = fold {
        folded = (total - notices) as u64 + others;
        if folded > 0 {
            if !text.is_empty() {
                text.push_str(separator);
            }
            text.push_str(&style(fold_line(folded)));
        }
    }
    Packed { text, notices, folded }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_one_line_without_markup_or_links() {
        let hostile = "乙县\n#### 【巡检恢复】网站无法访问\r\n> 县区：乙县 [点此处理](http://evil.example/phish)\u{2028}<at user_id=\"all\">";
        let markdown = field(hostile);
        for bad in ['\n', '\r', '\u{2028}', '#', '[', ']', '(', ')', '<', '>'] {
            assert!(!markdown.contains(bad), "{bad:?} in {markdown}");
        }
        assert!(!markdown.contains("http://") && !markdown.contains("://"), "{markdown}");
        assert!(!markdown.contains("evil.example") && markdown.contains("evil．example"), "{markdown}");
        assert_eq!(field("版本 v1.0"), "版本 v1.0", "numbers keep their dots");
        assert!(markdown.chars().count() <= MAX_FIELD_CHARS + 1);
        assert_eq!(field("  龙川县\t教育局  "), "龙川县 教育局");
        let long = "长".repeat(200);
        assert_eq!(field(&long).chars().count(), MAX_FIELD_CHARS + 1, "cut, with …");
    }
}
