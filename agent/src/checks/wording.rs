//! 严重表述错误: the dictionary's wrong terms on the home page and on the pages of its newest
//! items (where new text appears). Serious terms are veto-level; misspellings are errors.

use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity, WordingError};

use super::{BoxFuture, Check, Ctx, Role, Subject};

/// Newest items of the home page whose own pages are read as well.
const NEWEST_ITEMS_READ: usize = 3;

pub struct Wording;

impl Check for Wording {
    fn kind(&self) -> CheckKind {
        CheckKind::Wording
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        matches!(subject.role, Role::Audit { .. })
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(document) = cx.document(&subject.url, subject.timeout).await else { return };
            let base = cx.page(&subject.url, subject.timeout).await.final_url.clone();
            let mut pages = vec![(subject.url.clone(), document)];
            if let Some(reading) = cx.reading(subject).await {
                let mut items: Vec<_> =
                    reading.items.iter().filter(|item| item.published.is_some() && item.link.is_some()).collect();
                items.sort_by_key(|item| std::cmp::Reverse(item.published));
                for item in items.into_iter().take(NEWEST_ITEMS_READ) {
                    let Some(url) = item.link.as_deref().and_then(|link| base.join(link).ok()) else { continue };
                    if let Some(page) = cx.document(&url, subject.timeout).await {
                        pages.push((url, page));
                    }
                }
            }
            let mut errors = Vec::new();
            for (url, page) in &pages {
                for hit in cx.dictionary.scan(page) {
                    let severity = if hit.term.serious { Severity::Veto } else { Severity::Error };
                    let kind = if hit.term.serious { "严重表述错误" } else { "错别字" };
                    observation.findings.push(Finding::new(
                        FindingCode::WordingError,
                        severity,
                        format!("{kind}：「{}」应为「{}」（…{}…，{url}）", hit.term.wrong, hit.term.right, hit.context),
                    ));
                    errors.push(WordingError {
                        wrong: hit.term.wrong,
                        right: hit.term.right,
                        context: hit.context,
                        url: url.to_string(),
                    });
                }
            }
            observation.audit.get_or_insert_default().wording_errors = Some(errors);
        })
    }
}
