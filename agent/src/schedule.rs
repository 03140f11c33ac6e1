//! What to inspect and when: the subjects a configuration names, and one round over them.
//!
//! A round runs every check that applies to each subject, all subjects at once (the fetcher's
//! limits keep it polite), and folds each subject's observations into one, in configuration
//! order. `check` runs one round; `run` keeps each subject on its own interval
//! ([`run_schedule`]): first runs spread over the interval so a county's sites are not all hit
//! at once, and a subject still being inspected when it falls due again is skipped, not piled up.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use xunjian_shared::config::AgentConfig;
use xunjian_shared::config::Thresholds;
use xunjian_shared::wire::Observation;
use xunjian_shared::wire::{SubjectRef, TargetKind};

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

/// The subjects as the collector's inventory lists them.
pub fn inventory(subjects: &[Subject]) -> Vec<SubjectRef> {
    subjects
        .iter()
        .map(|subject| SubjectRef {
            target: subject.target.clone(),
            kind: TargetKind::Site,
            column: subject.column.as_ref().map(|column| column.name.clone()),
        })
        .collect()
}

/// First runs are spread over at most this much of each interval.
const MAX_INITIAL_SPREAD: Duration = Duration::from_secs(60);
/// How long in-flight inspections may finish after shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Inspects every subject on its interval until `shutdown`, sending each observation to `out`.
pub async fn run_schedule(
    subjects: Vec<Subject>,
    checks: Arc<Vec<Box<dyn Check>>>,
    fetcher: Arc<Fetcher>,
    thresholds: Thresholds,
    out: mpsc::Sender<Observation>,
    mut shutdown: watch::Receiver<bool>,
) {
    let start = Instant::now();
    let mut due: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    // A random phase per run, so agents started together do not probe in step.
    let phase = random_fraction();
    for (index, subject) in subjects.iter().enumerate() {
        // The golden-ratio sequence spreads first runs evenly however many subjects there are.
        let fraction = (phase + index as f64 * 0.618_033_988_75).fract();
        due.push(Reverse((start + subject.interval.min(MAX_INITIAL_SPREAD).mul_f64(fraction), index)));
    }
    let busy: Vec<Arc<AtomicBool>> = subjects.iter().map(|_| Arc::new(AtomicBool::new(false))).collect();
    let subjects: Vec<Arc<Subject>> = subjects.into_iter().map(Arc::new).collect();
    let mut running = JoinSet::new();
    while let Some(Reverse((next_at, _))) = due.peek().copied() {
        tokio::select! {
            _ = tokio::time::sleep_until(next_at) => {}
            _ = shutdown.changed() => break,
            Some(_) = running.join_next(), if !running.is_empty() => continue,
        }
        let now = Instant::now();
        while let Some(Reverse((at, index))) = due.peek().copied() {
            if at > now {
                break;
            }
            due.pop();
            let subject = subjects[index].clone();
            // Keep the cadence; after a stall, resume from now rather than firing a backlog.
            let mut next = at + subject.interval;
            if next <= now {
                next = now + subject.interval;
            }
            due.push(Reverse((next, index)));
            if busy[index].swap(true, Ordering::SeqCst) {
                tracing::warn!(target = %subject.target, column = subject.column.as_ref().map(|c| c.name.as_str()), "still inspecting from the last interval; skipped");
                continue;
            }
            let (checks, fetcher, thresholds, out, busy) =
                (checks.clone(), fetcher.clone(), thresholds.clone(), out.clone(), busy[index].clone());
            running.spawn(async move {
                let ctx = Ctx::new(Timestamp::now(), thresholds, fetcher);
                if let Some(observation) = inspect(&checks, &ctx, &subject).await {
                    let _ = out.send(observation).await;
                }
                busy.store(false, Ordering::SeqCst);
            });
        }
    }
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async { while running.join_next().await.is_some() {} }).await;
    running.abort_all();
}

/// A uniformly random number in [0, 1) from the system RNG (0.5 if it is unavailable).
fn random_fraction() -> f64 {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 4];
    match ring::rand::SystemRandom::new().fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}
