//! 页面完整: was a home, column or board page read whole, and in a charset that decodes it?
//! A body cut at `max_body_bytes` (an endless or huge page) or past the parser's node cap hides
//! its end from every other check, whatever they read from the start: that is a finding on the
//! page. 乱码 a visitor sees is one too: a declared charset (HTTP header or meta) that does not
//! decode the bytes (browsers follow the declaration, so the page shows garbage), and byte
//! sequences the charset cannot decode. The other checks read the page in the charset that
//! decodes it, so its dates still count.

use xunjian_shared::markup::html::MAX_NODES;
use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Role, Subject};

pub struct PageIntegrity;

impl Check for PageIntegrity {
    fn kind(&self) -> CheckKind {
        CheckKind::PageIntegrity
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        // The audit reads the home page the probe already judged; accounts are feeds and APIs.
        matches!(subject.role, Role::Home { .. } | Role::Column(_) | Role::Channel(_))
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let fetched = cx.page(&subject.url, subject.timeout).await;
            let Some(page) = fetched.ok_page() else { return };
            let (charset_declared_but_wrong, charset_invalid_sequences) =
                (page.charset_declared_but_wrong, page.charset_invalid_sequences);
            let is_html = page.content_type.as_deref().is_none_or(|kind| kind.contains("html"));
            let which = page_name(subject);
            if fetched.record.truncated {
                observation.findings.push(Finding::new(
                    FindingCode::BodyTruncated,
                    Severity::Error,
                    format!(
                        "{which}内容超过 {} 字节的读取上限（max_body_bytes），其后的内容未经检查",
                        fetched.record.body_bytes
                    ),
                ));
            } else if is_html && cx.document(&subject.url, subject.timeout).await.is_some_and(|d| d.truncated()) {
                // A page padded past the tags a reader keeps pushes what follows (hidden links,
                // the column's own list) out of every check.
                observation.findings.push(Finding::new(
                    FindingCode::BodyTruncated,
                    Severity::Error,
                    format!("{which}有超过 {MAX_NODES} 个标签和文本节点，只读取了前面部分，其后的内容未经检查"),
                ));
            }
            let encoding = fetched.record.charset.clone().unwrap_or_default();
            if let Some(declared) = charset_declared_but_wrong {
                observation.findings.push(Finding::new(
                    FindingCode::CharsetMismatch,
                    Severity::Error,
                    format!(
                        "{which}声明的字符编码是 {declared}，但内容实际是 {encoding} 编码，浏览器按声明显示为乱码（已按 {encoding} 读取日期）"
                    ),
                ));
            } else if charset_invalid_sequences > 0 {
                observation.findings.push(Finding::new(
                    FindingCode::CharsetInvalid,
                    Severity::Warning,
                    format!(
                        "{which}有 {charset_invalid_sequences} 处字节不是有效的 {encoding} 编码，访问者会看到乱码字符“\u{FFFD}”"
                    ),
                ));
            }
        })
    }
}

fn page_name(subject: &Subject) -> &'static str {
    match subject.role {
        Role::Home { .. } => "首页",
        Role::Channel(_) => "互动交流页面",
        _ => "栏目页面",
    }
}
