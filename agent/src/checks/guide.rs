//! 办事指南要素不齐全: each service guide must show the indicator's elements with content
//! ([`crate::extract::guide`]). A guide column's list page is followed to its guides,
//! `max_guides` a round, those never read or read longest ago first (so every guide is read
//! within a day at the column interval); a `[[site.guide]]` page is read itself. What was read
//! is remembered ([`GuideShelf`]), so each observation reports every listed guide read so far.
//! Enough badly incomplete guides make the indicator's veto (`guide_veto`).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use jiff::Timestamp;
use url::Url;
use xunjian_shared::wire::{
    CheckKind, Finding, FindingCode, GuideItem, GuideStats, GuideSummary, Observation, Severity,
};

use super::{BoxFuture, Check, Ctx, Subject};
use crate::extract::guide::read_guide;

pub struct Guide;

/// Incomplete guides named one finding each at most; the rest are counted in one more (the
/// observation's other findings must still fit the wire's list limit).
const FINDINGS_AT_MOST: usize = 20;

/// A guide's title kept at most, in characters.
const MAX_TITLE_CHARS: usize = 120;

/// Guides remembered at most (the oldest reading goes first beyond).
const SHELF_CAPACITY: usize = 20_000;

/// What the agent has read of each guide page, across rounds.
#[derive(Default)]
pub struct GuideShelf {
    read: Mutex<HashMap<Url, Shelved>>,
}

#[derive(Clone, Debug)]
struct Shelved {
    title: String,
    /// None: the page did not open, or showed no guide (no element's label at all).
    missing: Option<Vec<String>>,
    read_at: Timestamp,
}

/// A guide read this recently is not fetched again: once a day is the promise, and a list's
/// interval (an hour) would otherwise fetch every guide of a short list every round.
const READ_AGAIN_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_hours(20);

impl GuideShelf {
    /// Of `listed`, the `max` to read at `now`: never read first, then read longest ago; none
    /// read within [`READ_AGAIN_AFTER`]. A page that failed waits its turn like the others, so
    /// dead links cannot take every slot.
    fn due(&self, listed: &[(String, Url)], max: usize, now: Timestamp) -> Vec<(String, Url)> {
        let read = self.read.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut order: Vec<&(String, Url)> = listed
            .iter()
            .filter(|(_, url)| {
                read.get(url).is_none_or(|shelved| now.duration_since(shelved.read_at) >= READ_AGAIN_AFTER)
            })
            .collect();
        order.sort_by_key(|(_, url)| read.get(url).map(|shelved| shelved.read_at));
        order.into_iter().take(max).cloned().collect()
    }

    fn remember(&self, url: Url, shelved: Shelved) {
        let mut read = self.read.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if read.len() >= SHELF_CAPACITY && !read.contains_key(&url) {
            let oldest = read.iter().min_by_key(|(_, s)| s.read_at).map(|(url, _)| url.clone());
            if let Some(oldest) = oldest {
                read.remove(&oldest);
            }
        }
        read.insert(url, shelved);
    }

    /// The listed guides read so far (and showing a guide), in the list's order.
    fn items(&self, listed: &[(String, Url)]) -> Vec<GuideItem> {
        let read = self.read.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        listed
            .iter()
            .filter_map(|(_, url)| {
                let shelved = read.get(url)?;
                Some(GuideItem {
                    title: shelved.title.clone(),
                    url: url.to_string(),
                    missing: shelved.missing.clone()?,
                })
            })
            .collect()
    }
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
                vec![(column.name.clone(), subject.url.clone())]
            } else {
                // An unreadable list is the column checks' finding.
                let Some(reading) = cx.reading(subject).await else { return };
                let fetched = cx.page(&subject.url, subject.timeout).await;
                let mut seen = HashSet::new();
                reading
                    .items
                    .iter()
                    .filter_map(|item| {
                        let url = fetched.final_url.join(item.link.as_deref()?).ok()?;
                        (matches!(url.scheme(), "http" | "https") && seen.insert(url.clone()))
                            .then(|| (item.title.clone(), url))
                    })
                    .collect()
            };
            let max = if guides.single { 1 } else { guides.max_per_round as usize };
            for (title, url) in cx.guides.due(&listed, max, cx.now) {
                // A guide that does not open is a dead link, and a page without any element's
                // label is not a guide as served: neither is a guide without elements.
                let reading =
                    cx.document(&url, subject.timeout).await.map(|page| read_guide(&page, &cx.guide_categories));
                let (title, missing) = match reading {
                    Some(reading) if reading.labels > 0 => {
                        let title = if title.trim().is_empty() { reading.title.unwrap_or_default() } else { title };
                        (title, Some(reading.missing))
                    }
                    _ => (title, None),
                };
                let title: String = title.chars().take(MAX_TITLE_CHARS).collect();
                cx.guides.remember(url, Shelved { title, missing, read_at: cx.now });
            }
            let items = cx.guides.items(&listed);
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
    fn the_shelf_reads_the_unread_then_the_longest_ago() {
        let shelf = GuideShelf::default();
        let url = |n: u32| Url::parse(&format!("http://x.gov.cn/bszn/{n}.html")).unwrap();
        let listed: Vec<(String, Url)> = (0..5).map(|n| (format!("指南{n}"), url(n))).collect();
        let at = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        for (n, second) in [(0, 30), (1, 10), (3, 20)] {
            shelf.remember(url(n), Shelved { title: format!("指南{n}"), missing: Some(vec![]), read_at: at(second) });
        }
        shelf.remember(url(4), Shelved { title: "打不开".into(), missing: None, read_at: at(5) });
        let day = 24 * 3600;
        let due: Vec<Url> = shelf.due(&listed, 3, at(day)).into_iter().map(|(_, url)| url).collect();
        assert_eq!(due, [url(2), url(4), url(1)], "never read first, then the longest ago (a failure too)");
        assert_eq!(
            shelf.due(&listed, 5, at(3600)).into_iter().map(|(_, url)| url).collect::<Vec<_>>(),
            [url(2)],
            "nothing read within the day is read again"
        );
        let items = shelf.items(&listed);
        assert_eq!(items.len(), 3, "only guides read and shown");
        assert_eq!(items[0].title, "指南0", "in the list's order");
    }
}
