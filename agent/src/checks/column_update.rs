//! 栏目不更新: the newest publication date in a column's own list must be within the column's
//! limit (news 14 days, notice and policy 6 months, planning 1 year, or `max_age_days`). A list
//! whose items carry no dates cannot be dated (`column_undated`) and counts as not updated. An
//! empty column is the blank-column check's finding instead, so it is counted once.

use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Freshness, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Staleness, Subject, judge_freshness};

pub struct ColumnUpdate;

impl Check for ColumnUpdate {
    fn kind(&self) -> CheckKind {
        CheckKind::ColumnUpdate
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        subject.column().is_some()
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(column) = subject.column() else { return };
            let fetched = cx.page(&subject.url, subject.timeout).await;
            observation.fetch = Some(fetched.record.clone());
            let Some(reading) = cx.reading(subject).await else {
                cx.memory.columns.remember(&subject.url, None, cx.now);
                observation.freshness =
                    Some(Freshness { max_age_days: Some(column.max_age_days), ..Freshness::default() });
                let why = super::unreachable_reason(&fetched);
                let page = if column.guides.is_some_and(|guides| guides.single) {
                    "办事指南页面"
                } else {
                    "栏目页面"
                };
                observation.findings.push(Finding::new(
                    FindingCode::ColumnUnreachable,
                    Severity::Error,
                    format!("{page}无法打开：{why}"),
                ));
                return;
            };
            // A guide list is judged by its guides, not by how new its newest entry is.
            if column.guides.is_some() {
                return;
            }
            // What a home page that is mostly navigation is judged by, between the column's rounds.
            cx.memory.columns.remember(&subject.url, reading.newest(), cx.now);
            let kind_label = column.kind.label_zh();
            let max_age_days = column.max_age_days;
            // An empty column is the blank-column check's finding, so it is counted once; a list
            // whose items show no dates cannot be dated, and counts as not updated.
            let undated = (!reading.items.is_empty()).then(|| {
                let detail =
                    format!("栏目有 {} 条信息但均未注明发布日期，无法判断更新，视为未更新", reading.items.len());
                (FindingCode::ColumnUndated, detail)
            });
            let rule = Staleness {
                code: FindingCode::ColumnNotUpdated,
                severity: Severity::Error,
                max_age_days,
                stale: &|date, age| {
                    format!("栏目最新信息发布于 {date}，{age}，超过{kind_label}栏目的 {max_age_days} 天更新要求")
                },
                undated,
            };
            judge_freshness(cx, observation, reading.dated_items(), reading.newest(), &rule);
        })
    }
}
