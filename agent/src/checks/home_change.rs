//! A home page that changes all at once: its title, or most of its text, not as it was the
//! round before. A defaced page ("Hacked by …", a gambling portal, a maintenance notice that
//! replaced the site) looks like this; a redesign does too, so it is a warning with the
//! before and after, for a person to look at. A change counts once the next round sees the same
//! new page (a firewall's or a server's passing error page is not one), and is reported for a
//! day from when it was first seen.

use jiff::{SignedDuration, Timestamp};
use xunjian_shared::time::china_time;
use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Subject};
use crate::extract::page_text::{BlockHash, Fingerprint, fingerprint};

pub struct HomeChange;

/// How long a change is reported after it was seen.
const REPORTED_FOR: SignedDuration = SignedDuration::from_hours(24);
/// The share of the earlier text blocks that must still be there.
const MOST_KEPT: f64 = 0.5;
/// Text blocks an earlier page needs for its text to be compared (one line of a tiny page is
/// most of it).
const MIN_BLOCKS: usize = 8;

/// A home page as last seen: the page compared against, a change seen once and waiting for
/// the next round to confirm it, and the last confirmed change.
#[derive(Clone, Debug)]
pub struct HomeSeen {
    baseline: Fingerprint,
    /// The new page and when it was first seen (boxed: rare, and one `HomeSeen` is kept for
    /// every home page).
    candidate: Option<Box<(Fingerprint, Timestamp)>>,
    /// When the last confirmed change was first seen, and what changed.
    change: Option<(Timestamp, String)>,
}

impl Check for HomeChange {
    fn kind(&self) -> CheckKind {
        CheckKind::HomeChange
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        subject.is_home()
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            // A page that did not open is the availability check's; the last page seen stays
            // the one compared against.
            let Some(document) = cx.document(&subject.url, subject.timeout).await else { return };
            let (now, blocks) = fingerprint(&document);
            let seen = match cx.memory.homes.get(&subject.url) {
                None => HomeSeen { baseline: now, candidate: None, change: None },
                Some(before) => {
                    let recent = before.change.filter(|(at, _)| cx.now.duration_since(*at) < REPORTED_FOR);
                    match changed(&before.baseline, &now, &blocks) {
                        // Much the same: the page drifts as news comes and goes.
                        None => HomeSeen { baseline: now, candidate: None, change: recent },
                        // The same new page twice in a row: a change, not a passing error page.
                        Some(detail) => match before.candidate {
                            Some(candidate) if changed(&candidate.0, &now, &blocks).is_none() => {
                                HomeSeen { baseline: now, candidate: None, change: Some((candidate.1, detail)) }
                            }
                            _ => HomeSeen {
                                baseline: before.baseline,
                                candidate: Some(Box::new((now, cx.now))),
                                change: recent,
                            },
                        },
                    }
                }
            };
            if let Some((at, detail)) = &seen.change {
                observation.findings.push(Finding::new(
                    FindingCode::HomeChanged,
                    Severity::Warning,
                    format!("首页内容在 {} 突变：{detail}。请核实是否改版或被篡改", china_time(*at)),
                ));
            }
            cx.memory.homes.remember(&subject.url, seen, cx.now);
        })
    }
}

/// What changed from `before` to `now` (whose text blocks are `blocks`), in a report's words;
/// None when the page is still much the same.
fn changed(before: &Fingerprint, now: &Fingerprint, blocks: &[BlockHash]) -> Option<String> {
    let mut parts = Vec::new();
    if !before.title.is_empty() && !now.title.is_empty() && before.title != now.title {
        parts.push(format!("标题由「{}」变为「{}」", before.title, now.title));
    }
    let kept = before.kept_in(blocks);
    if before.sketch.len() >= MIN_BLOCKS && kept < MOST_KEPT {
        parts.push(format!(
            "正文大部分改变（上一轮的文字仅 {:.0}% 还在），之前「{}」，现在「{}」",
            kept * 100.0,
            before.excerpt,
            now.excerpt
        ));
    }
    (!parts.is_empty()).then(|| parts.join("；"))
}
