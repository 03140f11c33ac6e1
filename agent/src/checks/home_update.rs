//! 首页不更新: the newest dated item anywhere on the home page must be within
//! `home_max_age_days` (14: "监测2周,首页无信息更新" → veto). Items without a date count as
//! not updated.

use xunjian_shared::time::days_between;
use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Subject, age_phrase};

pub struct HomeUpdate;

impl Check for HomeUpdate {
    fn kind(&self) -> CheckKind {
        CheckKind::HomeUpdate
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        subject.is_home()
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject) -> BoxFuture<'a, Observation> {
        Box::pin(async move {
            let mut observation = subject.observation(self.kind(), cx);
            // An unreadable home page is the availability check's finding, not this one's.
            let Some(reading) = cx.reading(subject).await else { return observation };
            let max_age_days = cx.thresholds.home_max_age_days;
            observation.max_age_days = Some(max_age_days);
            observation.items = Some(u32::try_from(reading.dated_items()).unwrap_or(u32::MAX));
            match reading.newest() {
                Some(newest) => {
                    let age_days = days_between(newest.date, cx.today);
                    observation.last_update = Some(newest);
                    observation.age_days = Some(age_days);
                    if age_days > i64::from(max_age_days) {
                        observation.findings.push(Finding::new(
                            FindingCode::HomeNotUpdated,
                            Severity::Veto,
                            format!(
                                "首页最新信息发布于 {}，{}，超过 {max_age_days} 天未更新",
                                newest.date,
                                age_phrase(age_days)
                            ),
                        ));
                    }
                }
                None => observation.findings.push(Finding::new(
                    FindingCode::HomeNotUpdated,
                    Severity::Veto,
                    "首页未找到注明发布日期的信息（未注明日期的视为未更新）",
                )),
            }
            observation.settle();
            observation
        })
    }
}
