//! An HTTPS home page that loads scripts, style sheets or frames over plain HTTP
//! ([`crate::extract::mixed_content`]): browsers block them, so menus and services break, and
//! they can be changed on the way. A warning, in the home page's audit.

use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Role, Subject};
use crate::extract::mixed_content::insecure_resources;

pub struct MixedContent;

/// Resources named in the finding's detail, at most.
const NAMED: usize = 3;

impl Check for MixedContent {
    fn kind(&self) -> CheckKind {
        CheckKind::MixedContent
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        matches!(subject.role, Role::Audit { .. })
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some((document, base)) = cx.subject_document(subject).await else { return };
            let found = insecure_resources(&document, &base);
            if !found.is_empty() {
                let named: Vec<&str> = found.iter().take(NAMED).map(|url| url.as_str()).collect();
                let more = if found.len() > NAMED { format!(" 等 {} 个", found.len()) } else { String::new() };
                observation.findings.push(Finding::new(
                    FindingCode::MixedContent,
                    Severity::Warning,
                    format!(
                        "HTTPS 首页通过明文 HTTP 加载脚本、样式或框架（浏览器会拦截，页面功能可能失效）：{}{more}",
                        named.join("，")
                    ),
                ));
            }
            observation.audit.get_or_insert_default().insecure_resources =
                Some(found.into_iter().map(String::from).collect());
        })
    }
}
