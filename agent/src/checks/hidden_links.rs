//! 暗链: links to other sites a visitor cannot see ([`crate::extract::hidden_links`]), on the
//! home page (in its audit) and on every column page (each round, from the page already read).
//! One carrying a gambling, pornography or fraud term is a veto; one hidden a way no honest page
//! uses is an error.

use xunjian_shared::wire::{CheckKind, Finding, FindingCode, HiddenLink, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Role, Subject};
use crate::extract::hidden_links::hidden_links;

pub struct HiddenLinks;

/// Links named in the finding's detail, at most (all are in the observation's list).
const NAMED: usize = 5;

impl Check for HiddenLinks {
    fn kind(&self) -> CheckKind {
        CheckKind::HiddenLinks
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        matches!(subject.role, Role::Audit { .. } | Role::Column(_))
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some((document, base)) = cx.subject_document(subject).await else { return };
            let found = hidden_links(&document, &base, &cx.sensitive_terms);
            if !found.is_empty() {
                let with_terms = found.iter().filter(|link| link.term.is_some()).count();
                let severity = if with_terms > 0 { Severity::Veto } else { Severity::Error };
                let named: Vec<String> = found
                    .iter()
                    .take(NAMED)
                    .map(|link| {
                        let term = link
                            .term
                            .as_ref()
                            .map(|(category, term)| format!("，含{category}词「{term}」"))
                            .unwrap_or_default();
                        let written = if link.scripted { "，由脚本写入" } else { "" };
                        format!("「{}」{}（{}{written}{term}）", link.text, link.url, link.technique.label_zh())
                    })
                    .collect();
                let more = if found.len() > NAMED { format!(" 等 {} 个", found.len()) } else { String::new() };
                let place = if subject.is_column() { "栏目页" } else { "首页" };
                observation.findings.push(Finding::new(
                    FindingCode::HiddenLinks,
                    severity,
                    format!("{place}有 {} 个访客看不到的外站链接（暗链）：{}{more}", found.len(), named.join("；")),
                ));
            }
            observation.audit.get_or_insert_default().hidden_links = Some(
                found
                    .into_iter()
                    .map(|link| HiddenLink {
                        url: link.url.to_string(),
                        text: link.text,
                        technique: link.technique.as_str().to_string(),
                        scripted: link.scripted,
                        term: link.term.map(|(_, term)| term),
                    })
                    .collect(),
            );
        })
    }
}
