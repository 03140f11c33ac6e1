//! 栏目不更新: the newest publication date in a column's own list must be within the column's
//! limit (news 14 days, notice and policy 6 months, planning 1 year, or `max_age_days`). A list
//! whose items carry no dates counts as not updated. An empty column is the blank-column
//! check's finding instead, so it is counted once.

use xunjian_shared::time::days_between;
use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Subject, age_phrase};

pub struct ColumnUpdate;

impl Check for ColumnUpdate {
    fn kind(&self) -> CheckKind {
        CheckKind::ColumnUpdate
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        subject.column().is_some()
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject) -> BoxFuture<'a, Observation> {
        Box::pin(async move {
            let mut observation = subject.observation(self.kind(), cx);
            let Some(column) = subject.column() else { return observation };
            let fetched = cx.page(&subject.url, subject.timeout).await;
            observation.fetch = Some(fetched.record.clone());
            observation.max_age_days = Some(column.max_age_days);
            let Some(reading) = cx.reading(subject).await else {
                let why = super::unreachable_reason(&fetched);
                observation.findings.push(Finding::new(
                    FindingCode::ColumnUnreachable,
                    Severity::Error,
                    format!("栏目页面无法打开：{why}"),
                ));
                observation.settle();
                return observation;
            };
            let dated = reading.dated_items();
            observation.items = Some(u32::try_from(dated).unwrap_or(u32::MAX));
            let kind_label = column.kind.label_zh();
            match reading.newest() {
                Some(newest) => {
                    let age_days = days_between(newest.date, cx.today);
                    observation.last_update = Some(newest);
                    observation.age_days = Some(age_days);
                    if age_days > i64::from(column.max_age_days) {
                        observation.findings.push(Finding::new(
                            FindingCode::ColumnNotUpdated,
                            Severity::Error,
                            format!(
                                "栏目最新信息发布于 {}，{}，超过{kind_label}栏目的 {} 天更新要求",
                                newest.date,
                                age_phrase(age_days),
                                column.max_age_days
                            ),
                        ));
                    }
                }
                None if !reading.items.is_empty() => observation.findings.push(Finding::new(
                    FindingCode::ColumnNotUpdated,
                    Severity::Error,
                    format!("栏目有 {} 条信息但均未注明发布日期，视为未更新", reading.items.len()),
                )),
                None => {}
            }
            observation.settle();
            observation
        })
    }
}
