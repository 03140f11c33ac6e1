//! 办事指南要素不齐全: each service guide must show the indicator's elements with content
//! ([`crate::extract::guide`]). A guide column's list page is followed to its guides,
//! `max_guides` a round, those never read or read longest ago first (so every guide is read
//! within a day at the column interval); a `[[site.guide]]` page is read itself. What was read
//! is remembered ([`super::Memory`]), so each observation reports every listed guide read so far.
//! Enough badly incomplete guides make the indicator's veto (`guide_veto`).

use std::collections::HashSet;

use url::Url;
use xunjian_shared::wire::{
    CheckKind, Finding, FindingCode, GuideItem, GuideStats, GuideSummary, Observation, Severity,
};

use super::shelf::Shelf;
use super::{BoxFuture, Check, Ctx, Subject};
use crate::extract::guide::read_guide;
use crate::extract::links::resolve;

pub struct Guide;

/// Incomplete guides named one finding each at most; the rest are counted in one more (the
/// observation's other findings must still fit the wire's list limit).
const FINDINGS_AT_MOST: usize = 20;

/// A guide's title kept at most, in characters.
const MAX_TITLE_CHARS: usize = 120;

/// What was read of one guide page.
#[derive(Clone, Debug)]
pub struct GuideRead {
    title: String,
    /// None: the page did not open, or showed no guide (no element's label at all).
    missing: Option<Vec<String>>,
}

/// A guide read this recently is not fetched again: once a day is the promise, and a list's
/// interval (an hour) would otherwise fetch every guide of a short list every round.
pub const READ_AGAIN_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_hours(20);

/// The listed guides read so far (and showing a guide), in the list's order.
fn shelved_items(shelf: &Shelf<GuideRead>, listed: &[(String, Url)]) -> Vec<GuideItem> {
    listed
        .iter()
        .filter_map(|(_, url)| {
            let read = shelf.get(url)?;
            Some(GuideItem { title: read.title, url: url.to_string(), missing: read.missing? })
        })
        .collect()
}

impl Check for Guide {
    fn kind(&self) -> CheckKind {
        CheckKind::Guide
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        subject.column().is_some_and(|column| column.guides.is_some())
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(column) = subject.column() else { return };
            let Some(guides) = &column.guides else { return };
            // The guides there are now: the page itself, or the list's links on this site.
            let listed: Vec<(String, Url)> = if guides.single {
                vec![(column.name.clone(), Url::clone(&subject.url))]
            } else {
                // An unreadable list is the column checks' finding.
                let Some(reading) = cx.reading(subject).await else { return };
                let fetched = cx.page(&subject.url, subject.timeout).await;
                let mut seen = HashSet::new();
                reading
                    .items
                    .iter()
                    .filter_map(|item| {
                        let url = resolve(&fetched.final_url, item.link.as_deref()?)?;
                        seen.insert(url.clone()).then(|| (item.title.clone(), url))
                    })
                    .collect()
            };
            let max = if guides.single { 1 } else { guides.max_per_round as usize };
            for (title, url) in cx.memory.guides.due(&listed, |(_, url)| url, max, cx.now).into_iter().cloned() {
                // A guide that does not open is a dead link, and a page without any element's
                // label is not a guide as served: neither is a guide without elements.
                let page = cx.linked_document(&url, subject.timeout, &subject.url).await;
                let reading = page.map(|page| read_guide(&page, &cx.guide_categories));
                let (title, missing) = match reading {
                    Some(reading) if reading.labels > 0 => {
                        let title = if title.trim().is_empty() { reading.title.unwrap_or_default() } else { title };
                        (title, Some(reading.missing))
                    }
                    _ => (title, None),
                };
                let title: String = title.chars().take(MAX_TITLE_CHARS).collect();
                cx.memory.guides.remember(&url, GuideRead { title, missing }, cx.now);
            }
            let items = shelved_items(&cx.memory.guides, &listed);
            let incomplete: Vec<&GuideItem> = items.iter().filter(|item| !item.missing.is_empty()).collect();
            for item in incomplete.iter().take(FINDINGS_AT_MOST) {
                observation.findings.push(Finding::new(
                    FindingCode::GuideElementsMissing,
                    Severity::Error,
                    format!("办事指南「{}」缺少要素：{}", item.title, item.missing.join("、")),
                ));
            }
            if incomplete.len() > FINDINGS_AT_MOST {
                observation.findings.push(Finding::new(
                    FindingCode::GuideElementsMissing,
                    Severity::Error,
                    format!("另有 {} 个办事指南要素不齐全（见 guides 明细）", incomplete.len() - FINDINGS_AT_MOST),
                ));
            }
            let (count, missing) = (cx.thresholds.guide_veto_count, cx.thresholds.guide_veto_missing);
            let badly = incomplete.iter().filter(|item| item.missing.len() >= missing as usize).count();
            if badly >= count as usize {
                observation.findings.push(Finding::new(
                    FindingCode::GuideVeto,
                    Severity::Veto,
                    format!("{badly} 个办事指南各缺少 {missing} 项以上要素（达到 {count} 个即单项否决）"),
                ));
            }
            observation.guide = Some(GuideStats {
                guides: Some(GuideSummary {
                    checked: u32::try_from(items.len()).unwrap_or(u32::MAX),
                    incomplete: u32::try_from(incomplete.len()).unwrap_or(u32::MAX),
                    items: items.clone(),
                }),
            });
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_guides_read_and_shown_are_items_in_the_lists_order() {
        let shelf = Shelf::new(READ_AGAIN_AFTER);
        let url = |n: u32| Url::parse(&format!("http://x.gov.cn/bszn/{n}.html")).unwrap();
        let listed: Vec<(String, Url)> = (0..4).map(|n| (format!("指南{n}"), url(n))).collect();
        let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        shelf.remember(&url(2), GuideRead { title: "指南2".into(), missing: Some(vec!["办理时间".into()]) }, now);
        shelf.remember(&url(0), GuideRead { title: "指南0".into(), missing: Some(vec![]) }, now);
        shelf.remember(&url(1), GuideRead { title: "打不开".into(), missing: None }, now);
        let items = shelved_items(&shelf, &listed);
        let titles: Vec<&str> = items.iter().map(|item| item.title.as_str()).collect();
        assert_eq!(titles, ["指南0", "指南2"]);
        assert_eq!(items[1].missing, ["办理时间"]);
    }
}
