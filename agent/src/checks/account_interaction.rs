//! 互动功能 (new media): comments or messages must be open. Only sources that say so are judged:
//! a JSON API with a `comments` pointer (a flag, or a count of the newest post), or a page with a
//! `comments_selector`. A closed function is a veto-level finding (未提供有效互动功能).

use xunjian_shared::config::AccountSource;
use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity};

use super::account_update::read_account;
use super::{BoxFuture, Check, Ctx, Role, Subject};

pub struct AccountInteraction;

impl Check for AccountInteraction {
    fn kind(&self) -> CheckKind {
        CheckKind::AccountInteraction
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        match &subject.role {
            Role::Account(account) => match &account.source {
                AccountSource::Json { comments, .. } => comments.is_some(),
                AccountSource::Page { comments_selector, .. } => comments_selector.is_some(),
                AccountSource::Feed { .. } => false,
            },
            _ => false,
        }
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject) -> BoxFuture<'a, Observation> {
        Box::pin(async move {
            let mut observation = subject.observation(self.kind(), cx);
            let Role::Account(account) = &subject.role else { return observation };
            // An unreadable source is the update check's finding.
            let Ok(reading) = read_account(cx, subject, account).await else { return observation };
            observation.comments_open = reading.comments_open;
            if reading.comments_open == Some(false) {
                observation.findings.push(Finding::new(
                    FindingCode::AccountInteractionClosed,
                    Severity::Veto,
                    "评论或留言功能已关闭，互动交流渠道不畅通（未提供有效互动功能）",
                ));
            }
            observation.settle();
            observation
        })
    }
}
