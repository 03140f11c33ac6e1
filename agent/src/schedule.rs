//! What to inspect and when: the subjects a configuration names, and one round over them.
//!
//! A round runs every check that applies to each subject, all subjects at once (the fetcher's
//! limits keep it polite), and folds each subject's observations into one, in configuration
//! order. `check` runs one round; `run` (next) runs subjects on their intervals.

use std::sync::Arc;

use jiff::Timestamp;
use tokio::task::JoinSet;
use xunjian_shared::config::AgentConfig;
use xunjian_shared::wire::Observation;

use crate::checks::{Check, ColumnSubject, Ctx, Subject};
use crate::extract::html_list::ColumnSelectors;
use crate::extract::select::SelectorList;
use crate::fetch::Fetcher;

/// Every subject of a configuration, home pages before their columns, in file order.
pub fn subjects(config: &AgentConfig) -> Vec<Subject> {
    let mut subjects = Vec::new();
    for site in &config.sites {
        subjects.push(Subject {
            target: site.name.clone(),
            unit: site.unit.clone(),
            url: site.url.clone(),
            timeout: site.probe.timeout,
            interval: site.probe.interval,
            column: None,
        });
        for column in &site.columns {
            // Selectors were validated when the configuration was loaded.
            let compile = |text: &Option<String>| text.as_deref().and_then(|text| SelectorList::parse(text).ok());
            let selectors = (column.item_selector.is_some() || column.date_selector.is_some()).then(|| {
                ColumnSelectors { items: compile(&column.item_selector), dates: compile(&column.date_selector) }
            });
            subjects.push(Subject {
                target: site.name.clone(),
                unit: site.unit.clone(),
                url: column.url.clone(),
                timeout: column.probe.timeout,
                interval: column.probe.interval,
                column: Some(ColumnSubject {
                    name: column.name.clone(),
                    kind: column.kind,
                    max_age_days: column.max_age_days,
                    selectors,
                }),
            });
        }
    }
    subjects
}

/// Checks a selector the way the extractor will use it; for the configuration loader.
pub fn validate_selector(text: &str) -> Result<(), String> {
    SelectorList::parse(text).map(|_| ())
}

/// Runs every applicable check on every subject once. `progress` is told of each finished
/// subject (done, total).
pub async fn run_round(
    subjects: &[Subject],
    checks: Arc<Vec<Box<dyn Check>>>,
    ctx: Arc<Ctx>,
    mut progress: impl FnMut(usize, usize),
) -> Vec<Observation> {
    let mut tasks = JoinSet::new();
    for (index, subject) in subjects.iter().cloned().enumerate() {
        let (checks, ctx) = (checks.clone(), ctx.clone());
        tasks.spawn(async move { (index, inspect(&checks, &ctx, &subject).await) });
    }
    let mut results: Vec<Option<Observation>> = vec![None; subjects.len()];
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        // A panicking check is a bug in xunjian; the task's subject is then left out of the
        // round rather than taking the agent down.
        if let Ok((index, observation)) = joined {
            results[index] = observation;
        }
        done += 1;
        progress(done, subjects.len());
    }
    results.into_iter().flatten().collect()
}

/// Every applicable check on one subject, folded into one observation.
pub async fn inspect(checks: &[Box<dyn Check>], ctx: &Ctx, subject: &Subject) -> Option<Observation> {
    let mut merged: Option<Observation> = None;
    for check in checks.iter().filter(|check| check.applies_to(subject)) {
        let observation = check.run(ctx, subject).await;
        match &mut merged {
            Some(merged) => merged.merge(observation),
            None => merged = Some(observation),
        }
    }
    merged
}

/// A fetcher and context for one round, from a configuration.
pub fn round_context(config: &AgentConfig, fetcher: Arc<Fetcher>, now: Timestamp) -> Arc<Ctx> {
    Arc::new(Ctx::new(now, config.thresholds.clone(), fetcher))
}
