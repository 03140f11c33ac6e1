//! 首页不更新: the newest dated item anywhere on the home page must be within
//! `home_max_age_days` (14: "监测2周,首页无信息更新" → veto). Items without a date count as
//! not updated.

use xunjian_shared::wire::{CheckKind, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Staleness, Subject, judge_freshness};

pub struct HomeUpdate;

impl Check for HomeUpdate {
    fn kind(&self) -> CheckKind {
        CheckKind::HomeUpdate
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        subject.is_home()
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(reading) = cx.reading(subject).await else { return };
            let max_age_days = cx.thresholds.home_max_age_days;
            let rule = Staleness {
                code: FindingCode::HomeNotUpdated,
                severity: Severity::Veto,
                max_age_days,
                stale: &|date, age| format!("首页最新信息发布于 {date}，{age}，超过 {max_age_days} 天未更新"),
                undated: Some((
                    FindingCode::HomeNotUpdated,
                    "首页未找到注明发布日期的信息（未注明日期的视为未更新）".to_string(),
                )),
            };
            judge_freshness(cx, observation, reading.dated_items(), reading.newest(), &rule);
        })
    }
}
