//! 严重表述错误: the dictionary's wrong terms on the home page and on the pages of its newest
//! items (where new text appears). Serious terms are veto-level; misspellings are errors.

use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity, WordingError};

use super::{BoxFuture, Check, Ctx, Role, Subject};
use crate::extract::links::resolve;

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
            let Some((document, base)) = cx.subject_document(subject).await else { return };
            let mut pages = vec![(url::Url::clone(&subject.url), document)];
            if let Some(reading) = cx.reading(subject).await {
                let mut items: Vec<_> =
                    reading.items.iter().filter(|item| item.published.is_some() && item.link.is_some()).collect();
                items.sort_by_key(|item| std::cmp::Reverse(item.published));
                for item in items.into_iter().take(NEWEST_ITEMS_READ) {
                    let Some(url) = item.link.as_deref().and_then(|link| resolve(&base, link)) else { continue };
                    if let Some(page) = cx.linked_document(&url, subject.timeout, &subject.url).await {
                        pages.push((url, page));
                    }
                }
            }
            // One finding per wrong term, listing every page it is on.
            let mut errors: Vec<WordingError> = Vec::new();
            let mut terms: Vec<(String, String, bool)> = Vec::new();
            for (url, page) in &pages {
                for hit in cx.dictionary.scan(page) {
                    let term = (hit.term.wrong.clone(), hit.term.right.clone(), hit.term.serious);
                    if !terms.contains(&term) {
                        terms.push(term);
                    }
                    errors.push(WordingError {
                        wrong: hit.term.wrong,
                        right: hit.term.right,
                        context: hit.context,
                        url: url.to_string(),
                    });
                }
            }
            for (wrong, right, serious) in terms {
                let (severity, kind) =
                    if serious { (Severity::Veto, "严重表述错误") } else { (Severity::Error, "错别字") };
                let mut places: Vec<String> = Vec::new();
                let mut pages_seen: Vec<&str> = Vec::new();
                for error in errors.iter().filter(|e| e.wrong == wrong && e.right == right) {
                    if !pages_seen.contains(&error.url.as_str()) {
                        pages_seen.push(&error.url);
                        places.push(format!("…{}…，{}", error.context, error.url));
                    }
                }
                let detail = match places.as_slice() {
                    [one] => format!("{kind}：「{wrong}」应为「{right}」（{one}）"),
                    many => {
                        let shown: Vec<String> = many.iter().take(5).map(|p| format!("（{p}）")).collect();
                        let more = if many.len() > 5 { " 等" } else { "" };
                        format!(
                            "{kind}：「{wrong}」应为「{right}」，见 {} 个页面：{}{more}",
                            many.len(),
                            shown.join("；")
                        )
                    }
                };
                observation.findings.push(Finding::new(FindingCode::WordingError, severity, detail));
            }
            observation.audit.get_or_insert_default().wording_errors = Some(errors);
        })
    }
}
