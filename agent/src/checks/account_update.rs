//! 内容不更新 (new media): an account's newest post must be within its limit (14 days: "监测时间
//! 点前2周内无更新" → veto). Posts come from the account's source: a feed, a JSON API or an HTML
//! page. Feeds are not always newest-first: the newest date wins, not the first item.

use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Freshness, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Staleness, Subject, judge_freshness};

pub struct AccountUpdate;

impl Check for AccountUpdate {
    fn kind(&self) -> CheckKind {
        CheckKind::AccountUpdate
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        subject.account().is_some()
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(account) = subject.account() else { return };
            observation.fetch = Some(cx.page(&subject.url, subject.timeout).await.record.clone());
            let max_age_days = account.max_age_days;
            let read = cx.account(subject).await;
            let reading = match &*read {
                Ok(reading) => reading,
                Err(why) => {
                    observation.freshness =
                        Some(Freshness { max_age_days: Some(max_age_days), ..Freshness::default() });
                    observation.findings.push(Finding::new(
                        FindingCode::AccountUnreachable,
                        Severity::Error,
                        why.clone(),
                    ));
                    return;
                }
            };
            let dated: Vec<_> =
                reading.posts.iter().filter_map(|post| post.published).filter(|p| p.date <= cx.today).collect();
            let rule = Staleness {
                code: FindingCode::AccountNotUpdated,
                severity: Severity::Veto,
                max_age_days,
                stale: &|date, age| format!("账号最近一次发布于 {date}，{age}，超过 {max_age_days} 天未更新"),
                undated: Some((
                    FindingCode::AccountNotUpdated,
                    format!("未读到任何注明日期的内容（读到 {} 条），视为未更新", reading.posts.len()),
                )),
            };
            judge_freshness(cx, observation, dated.len(), dated.iter().max().copied(), &rule);
        })
    }
}
