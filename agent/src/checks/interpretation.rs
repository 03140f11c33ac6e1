//! 政策解读不及时: each policy document of a `policy` column that names an `interpretation`
//! column must be interpreted there within `interpretation_limit_working_days`
//! ([`crate::extract::interpretation`] pairs them). Both lists are read each round; the pages of
//! documents not yet paired are read a few a round for the links between them, and what they
//! link to is remembered ([`super::Memory`]), so a pair found once stays found.

use jiff::SignedDuration;
use url::Url;
use xunjian_shared::wire::{
    CheckKind, Finding, FindingCode, InterpretationSummary, Observation, PolicyItem, PolicyStats, Severity,
};

use super::{BoxFuture, Check, Ctx, Subject};
use crate::extract::interpretation::{Listed, Lists, Pairing, Rules, Standing};
use crate::extract::links::page_links;

pub struct Interpretation;

/// A document page read this recently is not read again for its links.
pub const READ_AGAIN_AFTER: SignedDuration = SignedDuration::from_hours(20);

/// Document pages read for their links per round, at most.
const PAGES_PER_ROUND: usize = 10;

/// Links kept of one document page.
const LINKS_PER_PAGE: usize = 400;

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
            // An unreadable list is its own column's finding; nothing can be paired without both.
            let Some(policy_list) = cx.reading(subject).await else { return };
            let interpretation_list =
                cx.list(&target.url, target.timeout, Some((&target.name, target.selectors.as_ref()))).await;
            let Some(interpretation_list) = interpretation_list else { return };
            let policy_base = cx.page(&subject.url, subject.timeout).await.final_url.clone();
            let interpretation_base = cx.page(&target.url, target.timeout).await.final_url.clone();
            let Some(policy_page) = cx.document(&subject.url, subject.timeout).await else { return };
            let lists = Lists::read(
                &policy_page,
                &policy_list.items,
                &policy_base,
                &interpretation_list.items,
                &interpretation_base,
            );
            let rules = Rules {
                today: cx.today,
                window_days: cx.thresholds.interpretation_window_days,
                limit_working_days: cx.thresholds.interpretation_limit_working_days,
                exempt_words: &cx.thresholds.interpretation_exempt_words,
                calendar: &cx.calendar,
            };
            let remembered = |url: &Url| cx.memory.page_links.get(url);
            let first = lists.with_page_links(remembered).pair(&rules);
            // Read the pages of what is not paired yet for the links between them.
            let wanted = lists.pages_to_read(&first, &rules);
            for url in cx.memory.page_links.due(&wanted, |url| url, PAGES_PER_ROUND, cx.now) {
                let links = match cx.document(url, subject.timeout).await {
                    Some(document) => {
                        let base = cx.page(url, subject.timeout).await.final_url.clone();
                        page_links(&document, &base, LINKS_PER_PAGE).into_iter().map(|link| link.url).collect()
                    }
                    None => Vec::new(),
                };
                cx.memory.page_links.remember(url.clone(), links, cx.now);
            }
            let lists = lists.with_page_links(remembered);
            let pairing = lists.pair(&rules);
            report(cx, observation, &pairing, &lists.policies, &lists.interpretations, &subject.url);
        })
    }
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
