//! The new-media accounts a site points to ([`crate::extract::account_refs`]), from the home
//! page's audit and every column page (a 政务新媒体 matrix page is a column): the collector
//! reports each that matches no filing and no configured account (`account_discovered`). This
//! check only lists them; it finds nothing by itself.

use xunjian_shared::wire::{CheckKind, LinkedAccount, Observation};

use super::{BoxFuture, Check, Ctx, Role, Subject};
use crate::extract::account_refs::account_refs;

pub struct LinkedAccounts;

impl Check for LinkedAccounts {
    fn kind(&self) -> CheckKind {
        CheckKind::LinkedAccounts
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        matches!(subject.role, Role::Audit { .. } | Role::Column(_))
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some((document, base)) = cx.subject_document(subject).await else { return };
            observation.audit.get_or_insert_default().linked_accounts = Some(
                account_refs(&document, &base)
                    .into_iter()
                    .map(|found| LinkedAccount {
                        platform: found.platform.as_str().to_string(),
                        name: found.name,
                        id: found.id,
                    })
                    .collect(),
            );
        })
    }
}
