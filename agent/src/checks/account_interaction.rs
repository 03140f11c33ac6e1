//! 互动功能 (new media): comments or messages must be open. Only sources that say so are judged:
//! a JSON API with a `comments` pointer (a flag, or a count of the newest post), or a page with a
//! `comments_selector`. A closed function is a veto-level finding (未提供有效互动功能).

use xunjian_shared::config::AccountSource;
use xunjian_shared::wire::{AccountStats, CheckKind, Finding, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Subject};

pub struct AccountInteraction;

impl Check for AccountInteraction {
    fn kind(&self) -> CheckKind {
        CheckKind::AccountInteraction
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        subject.account().is_some_and(|account| match &account.source {
            AccountSource::Json { comments, .. } => comments.is_some(),
            AccountSource::Page { comments_selector, .. } => comments_selector.is_some(),
            AccountSource::Feed { .. } => false,
        })
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            // An unreadable account is the update check's finding.
            let read = cx.account(subject).await;
            let Ok(reading) = &*read else { return };
            observation.account = Some(AccountStats { comments_open: reading.comments_open });
            if reading.comments_open == Some(false) {
                observation.findings.push(Finding::new(
                    FindingCode::AccountInteractionClosed,
                    Severity::Veto,
                    "评论或留言功能已关闭，互动交流渠道不畅通（未提供有效互动功能）",
                ));
            }
        })
    }
}
