//! 政策解读不及时: each policy document of a `policy` column that names an `interpretation`
//! column must be interpreted there within `interpretation_limit_working_days`
//! ([`crate::extract::interpretation`] pairs them). Both lists are read each round; the pages of
//! documents not yet paired are read a few a round for the links between them, and what they
//! link to is remembered ([`super::Memory`]), so a pair found once stays found.

use std::sync::Arc;

use jiff::SignedDuration;
use jiff::civil::Date;
use tokio::time::Instant;
use url::Url;
use xunjian_shared::wire::{
    CheckKind, Finding, FindingCode, InterpretationSummary, Observation, PolicyItem, PolicyStats, Severity,
};

use super::{BoxFuture, Check, Ctx, Subject};
use crate::extract::html::Document;
use crate::extract::html_list::{ColumnSelectors, ListReading};
use crate::extract::interpretation::{ListPage, Listed, Lists, Pairing, Rules, Standing, counterpart_links};
use crate::extract::links::page_links;
use crate::extract::pagination::{next_page, shows_pager};

pub struct Interpretation;

/// A document page read this recently is not read again for its links.
pub const READ_AGAIN_AFTER: SignedDuration = SignedDuration::from_hours(20);

/// List pages read of each list, at most.
const LIST_PAGES: usize = 5;
/// The time one pairing may take, in request timeouts.
const CHECK_TIMEOUTS: u32 = 4;

/// Document pages read for their links per round, at most.
const PAGES_PER_ROUND: usize = 10;

/// Links read off one document page; of them, only those to documents of the two lists are
/// kept (a handful: the memory holds thousands of pages).
const LINKS_READ_PER_PAGE: usize = 400;
const LINKS_KEPT_PER_PAGE: usize = 20;

/// Policies named one finding each at most per code; the rest are counted in one more.
const FINDINGS_AT_MOST: usize = 20;

impl Check for Interpretation {
    fn kind(&self) -> CheckKind {
        CheckKind::Interpretation
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        subject.column().is_some_and(|column| column.interpretations.is_some())
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(column) = subject.column() else { return };
            let Some(target) = &column.interpretations else { return };
            // Both lists' pages, a slow site getting this long in all.
            let deadline = Instant::now() + subject.timeout * CHECK_TIMEOUTS;
            let window_start =
                cx.today.checked_sub(jiff::Span::new().days(i64::from(cx.thresholds.interpretation_window_days))).ok();
            let policy_column = (column.name.as_str(), column.selectors.as_ref());
            // An unreadable list is its own column's finding; nothing can be paired without both.
            let Some(policy_pages) =
                read_pages(cx, &subject.url, subject.timeout, policy_column, window_start, deadline).await
            else {
                return;
            };
            let oldest_policy = policy_pages
                .pages
                .iter()
                .flat_map(|(_, reading, _)| reading.items.iter().filter_map(|item| item.published.map(|p| p.date)))
                .filter(|date| window_start.is_none_or(|start| *date >= start))
                .min();
            let interpretation_column = (target.name.as_str(), target.selectors.as_ref());
            let Some(interpretation_pages) =
                read_pages(cx, &target.url, target.timeout, interpretation_column, oldest_policy, deadline).await
            else {
                return;
            };
            // A list read as empty that does not say it is empty was not understood: pairing
            // against it would call every policy uninterpreted.
            let first_reading = &interpretation_pages.pages[0].1;
            if interpretation_pages.items() == 0 && first_reading.placeholder.is_none() {
                return;
            }
            let lists = Lists::read(&policy_pages.list_pages(), &interpretation_pages.list_pages());
            let rules = Rules {
                today: cx.today,
                window_days: cx.thresholds.interpretation_window_days,
                limit_working_days: cx.thresholds.interpretation_limit_working_days,
                exempt_words: &cx.thresholds.interpretation_exempt_words,
                calendar: &cx.calendar,
                interpretations_from: (!interpretation_pages.whole).then(|| interpretation_pages.oldest()).flatten(),
            };
            let remembered = |url: &Url| cx.memory.page_links.get(url);
            let first = lists.with_page_links(remembered).pair(&rules);
            // Read the pages of what is not paired yet for the links between them.
            let wanted = lists.pages_to_read(&first, &rules);
            let titled = |documents: &[Listed]| -> Vec<(Url, String)> {
                documents.iter().filter_map(|d| Some((d.url.clone()?, d.title.clone()))).collect()
            };
            let (policies, interpretations) = (titled(&lists.policies), titled(&lists.interpretations));
            for url in cx.memory.page_links.due(&wanted, |url| url, PAGES_PER_ROUND, cx.now) {
                if Instant::now() >= deadline {
                    break;
                }
                // A policy's page may link its interpretation, an interpretation's its policy.
                let counterparts =
                    if policies.iter().any(|(policy, _)| policy == url) { &interpretations } else { &policies };
                let counterparts: Vec<(&Url, &str)> = counterparts.iter().map(|(u, t)| (u, t.as_str())).collect();
                let links = match cx.linked_document(url, subject.timeout, &subject.url).await {
                    Some(document) => {
                        let base = cx.page(url, subject.timeout).await.final_url.clone();
                        let mut links =
                            counterpart_links(&page_links(&document, &base, LINKS_READ_PER_PAGE), &counterparts);
                        links.truncate(LINKS_KEPT_PER_PAGE);
                        links
                    }
                    None => Vec::new(),
                };
                cx.memory.page_links.remember(url, links, cx.now);
            }
            let lists = lists.with_page_links(remembered);
            let pairing = lists.pair(&rules);
            report(cx, observation, &pairing, &lists.policies, &lists.interpretations, &subject.url);
        })
    }
}

/// A list's pages as read: the first and those its pager leads to.
struct ListPages {
    pages: Vec<(Arc<Document>, Arc<ListReading>, Url)>,
    /// Whether the list was read to its end, or back past the date asked for.
    whole: bool,
}

impl ListPages {
    fn list_pages(&self) -> Vec<ListPage<'_>> {
        self.pages.iter().map(|(document, reading, url)| ListPage { document, items: &reading.items, url }).collect()
    }

    fn items(&self) -> usize {
        self.pages.iter().map(|(_, reading, _)| reading.items.len()).sum()
    }

    /// The oldest date among the items read.
    fn oldest(&self) -> Option<Date> {
        self.pages
            .iter()
            .flat_map(|(_, reading, _)| reading.items.iter().filter_map(|i| i.published.map(|p| p.date)))
            .min()
    }
}

/// A column's list: its first page, then next pages (at most [`LIST_PAGES`], none past
/// `deadline`) until one reaches back before `back_to`. None when the first page did not open.
async fn read_pages(
    cx: &Ctx,
    url: &Url,
    timeout: std::time::Duration,
    column: (&str, Option<&ColumnSelectors>),
    back_to: Option<Date>,
    deadline: Instant,
) -> Option<ListPages> {
    let mut pages = Vec::new();
    let mut current = url.clone();
    let mut visited = vec![url.clone()];
    loop {
        let Some(document) = cx.linked_document(&current, timeout, url).await else { break };
        let Some(reading) = cx.list(&current, timeout, Some(column)).await else { break };
        let base = cx.page(&current, timeout).await.final_url.clone();
        // A next page that lands on one already read (a redirect back to the first) ends it.
        if pages.iter().any(|(_, _, read)| *read == base) {
            return Some(ListPages { pages, whole: true });
        }
        // Lists run newest first; the page's last dated item says how far back it reaches (a
        // pinned old item at its top does not).
        let last = reading.items.iter().rev().find_map(|item| item.published).map(|published| published.date);
        let reached = back_to.is_some_and(|back_to| last.is_some_and(|last| last < back_to));
        let next = next_page(&document, &base);
        let pager = shows_pager(&document);
        pages.push((document, reading, base));
        if reached {
            return Some(ListPages { pages, whole: true });
        }
        // No next page: the end, unless the page shows a pager the agent cannot follow.
        let Some(next) = next.filter(|next| !visited.contains(next)) else {
            return Some(ListPages { pages, whole: !pager || visited.len() > 1 });
        };
        if pages.len() >= LIST_PAGES || Instant::now() >= deadline {
            return Some(ListPages { pages, whole: false });
        }
        visited.push(next.clone());
        current = next;
    }
    // The first page did not open; a later one that does not ends the reading there.
    (!pages.is_empty()).then_some(ListPages { pages, whole: false })
}

/// The pairing as the observation's block and findings.
fn report(
    cx: &Ctx,
    observation: &mut Observation,
    pairing: &Pairing,
    policies: &[Listed],
    interpretations: &[Listed],
    page: &Url,
) {
    let limit = cx.thresholds.interpretation_limit_working_days;
    let count = |standing: Standing| pairing.pairs.iter().filter(|p| p.standing == standing).count();
    let mut missing = Vec::new();
    let mut late = Vec::new();
    let mut items = Vec::new();
    for pair in &pairing.pairs {
        let policy = &policies[pair.policy];
        let interpretation = pair.interpretation.map(|(i, _)| &interpretations[i]);
        let date = policy.published.map(|date| date.to_string()).unwrap_or_default();
        match pair.standing {
            Standing::Missing => {
                let waited = policy.published.map(|date| cx.calendar.working_days_between(date, cx.today).days);
                missing.push(format!(
                    "政策文件「{}」（{date} 发布）已 {} 个工作日未见解读（时限 {limit} 个工作日）",
                    policy.title,
                    waited.unwrap_or_default()
                ));
            }
            Standing::Late => late.push(format!(
                "政策文件「{}」（{date} 发布）的解读「{}」{} 个工作日后才发布（时限 {limit} 个工作日）",
                policy.title,
                interpretation.map(|i| i.title.as_str()).unwrap_or_default(),
                pair.delay_working_days.unwrap_or_default()
            )),
            Standing::Interpreted | Standing::Pending => {}
        }
        items.push(PolicyItem {
            title: policy.title.clone(),
            url: policy.url.as_ref().unwrap_or(page).to_string(),
            published: policy.published,
            interpreted_by: interpretation.map(|i| i.url.as_ref().unwrap_or(page).to_string()),
            delay_working_days: pair.delay_working_days,
        });
    }
    for (code, details, what) in [
        (FindingCode::PolicyNotInterpreted, &missing, "未见解读"),
        (FindingCode::InterpretationLate, &late, "解读不及时"),
    ] {
        for detail in details.iter().take(FINDINGS_AT_MOST) {
            observation.findings.push(Finding::new(code, Severity::Error, detail.clone()));
        }
        if details.len() > FINDINGS_AT_MOST {
            observation.findings.push(Finding::new(
                code,
                Severity::Error,
                format!("另有 {} 个政策文件{what}（见 interpretation 明细）", details.len() - FINDINGS_AT_MOST),
            ));
        }
    }
    let as_count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    observation.policy = Some(PolicyStats {
        interpretation: Some(InterpretationSummary {
            policies: as_count(pairing.pairs.len()),
            interpreted: as_count(count(Standing::Interpreted) + count(Standing::Late)),
            missing: as_count(count(Standing::Missing)),
            late: as_count(count(Standing::Late)),
            pending: as_count(count(Standing::Pending)),
            max_delay_working_days: pairing.pairs.iter().filter_map(|p| p.delay_working_days).max(),
            items,
        }),
    });
}
