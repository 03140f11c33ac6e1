//! 空白栏目: a column page that opens but holds no items ("暂无信息", or no list at all).
//! Five or more blank columns on a site make a veto. A page cut at the size or node cap is not
//! blank: its list may lie past the cut (that page's finding is `body_truncated`).

use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Subject};

pub struct BlankColumn;

impl Check for BlankColumn {
    fn kind(&self) -> CheckKind {
        CheckKind::BlankColumn
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        // A single guide page is not a list.
        subject.column().is_some_and(|column| column.guides.is_none_or(|guides| !guides.single))
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(reading) = cx.reading(subject).await else { return };
            let cut = cx.page(&subject.url, subject.timeout).await.record.truncated
                || cx.document(&subject.url, subject.timeout).await.is_some_and(|document| document.truncated());
            if reading.items.is_empty() && !cut {
                let detail = match &reading.placeholder {
                    Some(text) => format!("栏目页面可以打开，但没有任何信息（页面显示“{text}”）"),
                    None => "栏目页面可以打开，但未找到任何信息条目".to_string(),
                };
                observation.findings.push(Finding::new(FindingCode::ColumnBlank, Severity::Error, detail));
            }
        })
    }
}
