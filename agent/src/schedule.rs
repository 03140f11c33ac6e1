//! What to inspect and when: the subjects a configuration names, and one round over them.
//!
//! A round runs every check that applies to each subject, all subjects at once (the fetcher's
//! limits keep it polite), and folds each subject's observations into one, in configuration
//! order. `check` runs one round; `run` keeps each subject on its own interval
//! ([`run_schedule`]): first runs spread over the interval so a county's sites are not all hit
//! at once, and a subject still being inspected when it falls due again is skipped, not piled up.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use url::Url;
use xunjian_shared::config::Thresholds;
use xunjian_shared::config::{AgentConfig, ColumnConfig, ColumnKind};
use xunjian_shared::time::calendar::Calendar;
use xunjian_shared::wire::Observation;
use xunjian_shared::wire::{SubjectRef, TargetKind};

use crate::checks::{
    AccountSubject, ChannelSubject, Check, ColumnPage, ColumnSubject, Ctx, GuideList, Memory, Role, Subject,
};
use crate::extract::guide::{Categories, Category};
use crate::extract::hidden_links::SensitiveTerms;
use crate::extract::html_list::ColumnSelectors;
use crate::extract::wording::Dictionary;
use crate::fetch::Fetcher;

/// What every round shares: the fetcher, thresholds, calendar, dictionary, the guide
/// categories and what earlier rounds read of pages read a share per round.
#[derive(Clone)]
pub struct Shared {
    pub fetcher: Arc<Fetcher>,
    pub thresholds: Thresholds,
    pub calendar: Arc<Calendar>,
    pub dictionary: Arc<Dictionary>,
    pub sensitive_terms: Arc<SensitiveTerms>,
    pub guide_categories: Arc<Categories>,
    pub memory: Arc<Memory>,
}

/// The terms a configuration looks for: wrong wording, and gambling, pornography and fraud.
pub struct Dictionaries {
    pub wording: Dictionary,
    pub sensitive: Arc<SensitiveTerms>,
}

impl Dictionaries {
    /// The shipped terms only.
    pub fn shipped() -> Dictionaries {
        Dictionaries { wording: Dictionary::shipped(), sensitive: SensitiveTerms::shipped() }
    }
}

impl Shared {
    pub fn new(config: &AgentConfig, fetcher: Arc<Fetcher>, dictionaries: Dictionaries) -> Shared {
        Shared {
            fetcher,
            thresholds: config.thresholds.clone(),
            calendar: Arc::new(config.calendar.clone()),
            dictionary: Arc::new(dictionaries.wording),
            sensitive_terms: dictionaries.sensitive,
            guide_categories: Arc::new(
                Categories::default().extended(
                    &config
                        .guide_elements
                        .iter()
                        .map(|element| Category { name: element.name.clone(), synonyms: element.synonyms.clone() })
                        .collect::<Vec<_>>(),
                ),
            ),
            memory: Arc::default(),
        }
    }

    /// A context for one round at `now`.
    pub fn ctx(&self, now: Timestamp) -> Ctx {
        Ctx::new(now, self.thresholds.clone(), self.fetcher.clone())
            .with(self.calendar.clone(), self.dictionary.clone())
            .with_memory(self.guide_categories.clone(), self.memory.clone())
            .with_sensitive_terms(self.sensitive_terms.clone())
    }
}

/// The shipped terms plus the configuration's `[wording] dictionary` and `[security]
/// sensitive_terms` files; Err names the key, the file and what is wrong with it.
pub fn load_dictionaries(config: &AgentConfig) -> Result<Dictionaries, String> {
    let read = |key: &str, path: &std::path::Path| {
        std::fs::read_to_string(path).map_err(|err| format!("{key}: {}: {err}", path.display()))
    };
    let mut dictionaries = Dictionaries::shipped();
    if let Some(path) = &config.wording_dictionary {
        dictionaries.wording = Dictionary::shipped()
            .extended(&read("wording.dictionary", path)?)
            .map_err(|err| format!("wording.dictionary: {}: {err}", path.display()))?;
    }
    if let Some(path) = &config.security.sensitive_terms {
        let terms = SensitiveTerms::clone(&SensitiveTerms::shipped())
            .extended(&read("security.sensitive_terms", path)?)
            .map_err(|err| format!("security.sensitive_terms: {}: {err}", path.display()))?;
        dictionaries.sensitive = Arc::new(terms);
    }
    Ok(dictionaries)
}

/// Every subject of a configuration: per site its home page, the home page's audit, its columns
/// and channels, in file order; then the accounts.
pub fn subjects(config: &AgentConfig) -> Vec<Subject> {
    let mut subjects = Vec::new();
    for site in &config.sites {
        let (target, unit): (Arc<str>, Arc<str>) = (site.name.as_str().into(), site.unit.as_str().into());
        let subject = |url: Arc<url::Url>, timeout, interval, role| Subject {
            target: target.clone(),
            unit: unit.clone(),
            kind: TargetKind::Site,
            platform: None,
            url,
            timeout,
            interval,
            role,
        };
        let selectors_of = |column: &ColumnConfig| {
            (column.item_selector.is_some() || column.date_selector.is_some())
                .then(|| ColumnSelectors { items: column.item_selector.clone(), dates: column.date_selector.clone() })
        };
        let column_page = |column: &ColumnConfig| ColumnPage {
            name: column.name.clone(),
            url: column.url.clone(),
            timeout: column.probe.timeout,
            selectors: selectors_of(column),
        };
        // Guide lists are read for their guides, not their dates.
        let list_columns = site.columns.iter().filter(|column| column.kind != ColumnKind::Guide).map(column_page);
        let home = Arc::new(site.url.clone());
        subjects.push(subject(
            home.clone(),
            site.probe.timeout,
            site.probe.interval,
            Role::Home { channels_configured: site.interactions.len(), columns: list_columns.collect() },
        ));
        subjects.push(subject(
            home,
            site.probe.timeout,
            config.audit_interval,
            Role::Audit {
                dead_links_max: config.limits.dead_links_max as usize,
                cloaking: config.security.cloaking,
                ipv6: config.security.ipv6,
            },
        ));
        for column in &site.columns {
            let selectors = selectors_of(column);
            // The configuration checked that the name is a column of kind interpretation.
            let interpretations = column
                .interpretations
                .as_ref()
                .and_then(|named| site.columns.iter().find(|other| &other.name == named))
                .map(|other| Box::new(column_page(other)));
            let role = Role::Column(Box::new(ColumnSubject {
                name: column.name.clone(),
                kind: column.kind,
                max_age_days: column.max_age_days,
                selectors,
                guides: (column.kind == ColumnKind::Guide)
                    .then_some(GuideList { single: false, max_per_round: column.max_guides }),
                interpretations,
            }));
            subjects.push(subject(Arc::new(column.url.clone()), column.probe.timeout, column.probe.interval, role));
        }
        for guide in &site.guides {
            let role = Role::Column(Box::new(ColumnSubject {
                name: guide.name.clone(),
                kind: ColumnKind::Guide,
                max_age_days: config.thresholds.column_max_age_days(ColumnKind::Guide),
                selectors: None,
                guides: Some(GuideList { single: true, max_per_round: 1 }),
                interpretations: None,
            }));
            subjects.push(subject(Arc::new(guide.url.clone()), guide.probe.timeout, guide.probe.interval, role));
        }
        for channel in &site.interactions {
            let role = Role::Channel(Box::new(ChannelSubject {
                name: channel.name.clone(),
                reply_limit_working_days: channel.reply_limit_working_days,
                simple_reply_limit_working_days: channel.simple_reply_limit_working_days,
                simple_keywords: channel.simple_keywords.clone(),
                item_selector: channel.item_selector.clone(),
                max_pages: channel.max_pages,
                statistics: channel.statistics_url.clone().map(|url| (url, channel.statistics_max_age_days)),
            }));
            subjects.push(subject(Arc::new(channel.url.clone()), channel.probe.timeout, channel.probe.interval, role));
        }
    }
    for account in &config.accounts {
        subjects.push(Subject {
            target: account.name.as_str().into(),
            unit: account.unit.as_str().into(),
            kind: TargetKind::Account,
            platform: Some(account.platform),
            url: Arc::new(account.source.url().clone()),
            timeout: account.probe.timeout,
            interval: account.probe.interval,
            role: Role::Account(Box::new(AccountSubject {
                source: account.source.clone(),
                max_age_days: account.max_age_days,
                account_id: account.account_id.clone(),
            })),
        });
    }
    subjects
}

/// Runs every applicable check on every subject once; observations of one page (a home page and
/// its audit) are folded into one. `progress` is told of each finished subject (done, total).
pub async fn run_round(
    subjects: &[Subject],
    checks: Arc<Vec<Box<dyn Check>>>,
    ctx: Arc<Ctx>,
    mut progress: impl FnMut(usize, usize),
) -> Vec<Observation> {
    // Subjects are inspected page by page (a home page and its audit together): a page's body,
    // parse and reading are let go when its last subject is done, and at most
    // MAX_PAGES_IN_FLIGHT pages are inspected at once, so a round over hostile pages holds a
    // few of them, not all (their link checks and timeouts would keep every one alive).
    let mut pages: Vec<PageSubjects> = Vec::new();
    let mut page_of: HashMap<&Url, usize> = HashMap::new();
    for (index, subject) in subjects.iter().enumerate() {
        let page = *page_of.entry(&subject.url).or_insert_with(|| {
            pages.push((Url::clone(&subject.url), Vec::new()));
            pages.len() - 1
        });
        pages[page].1.push(index);
    }
    // A site's column pages before its home page: a home page that is mostly navigation is
    // judged by the columns it links to, as their own checks read them.
    pages.sort_by_key(|(_, on_page)| on_page.iter().any(|index| subjects[*index].is_home()));
    // Hosts in turn (one site's pages, then the next site's …, again): the pages in flight are
    // then of several hosts, each of which the fetcher asks only a few requests at a time.
    let mut by_host: Vec<(String, std::collections::VecDeque<PageSubjects>)> = Vec::new();
    for page in pages {
        let host = page.0.host_str().unwrap_or("").to_string();
        match by_host.iter_mut().find(|(known, _)| *known == host) {
            Some((_, queue)) => queue.push_back(page),
            None => by_host.push((host, std::collections::VecDeque::from([page]))),
        }
    }
    let mut pages = Vec::new();
    while by_host.iter().any(|(_, queue)| !queue.is_empty()) {
        pages.extend(by_host.iter_mut().filter_map(|(_, queue)| queue.pop_front()));
    }
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_PAGES_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    for (url, indices) in pages {
        let (checks, ctx, in_flight) = (checks.clone(), ctx.clone(), in_flight.clone());
        let on_page: Vec<(usize, Subject)> =
            indices.into_iter().map(|index| (index, subjects[index].clone())).collect();
        tasks.spawn(async move {
            let _permit = in_flight.acquire_owned().await;
            let mut inspections = JoinSet::new();
            for (index, subject) in on_page {
                let (checks, ctx) = (checks.clone(), ctx.clone());
                inspections.spawn(async move { (index, inspect(&checks, &ctx, &subject).await) });
            }
            let mut done = Vec::new();
            while let Some(joined) = inspections.join_next().await {
                // A panicking check is a bug in xunjian; the task's subject is then left out of
                // the round rather than taking the agent down.
                done.push(joined.ok());
            }
            ctx.forget(&url);
            done
        });
    }
    let mut results: Vec<Option<Observation>> = vec![None; subjects.len()];
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        for finished in joined.into_iter().flatten() {
            if let Some((index, observation)) = finished {
                results[index] = observation;
            }
            done += 1;
            progress(done, subjects.len());
        }
    }
    let mut merged: Vec<Observation> = Vec::new();
    for observation in results.into_iter().flatten() {
        match merged
            .iter_mut()
            .find(|existing| existing.page_key() == observation.page_key() && existing.kind == observation.kind)
        {
            Some(existing) => existing.merge(observation),
            None => merged.push(observation),
        }
    }
    merged
}

/// Every applicable check on one subject, into one observation: made here, each check adds its
/// judgement, `ok` settled once at the end.
pub async fn inspect(checks: &[Box<dyn Check>], ctx: &Ctx, subject: &Subject) -> Option<Observation> {
    let mut observation: Option<Observation> = None;
    for check in checks.iter().filter(|check| check.applies_to(subject)) {
        let observation = match &mut observation {
            Some(observation) => {
                observation.checks.push(check.kind());
                observation
            }
            None => observation.insert(subject.observation(check.kind(), ctx)),
        };
        check.run(ctx, subject, observation).await;
    }
    let mut observation = observation?;
    observation.settle();
    // What a site wrote stays within what the collector takes, so no page can get a push refused.
    observation.fit_wire_limits();
    Some(observation)
}

/// The subjects as the collector's inventory lists them: once each (a site's home page and its
/// audit are one subject there).
pub fn inventory(subjects: &[Subject]) -> Vec<SubjectRef> {
    let mut listed: Vec<SubjectRef> = subjects
        .iter()
        .map(|subject| SubjectRef {
            target: subject.target.to_string(),
            kind: subject.kind,
            column: subject.column().map(|column| column.name.clone()),
            channel: match &subject.role {
                Role::Channel(channel) => Some(channel.name.clone()),
                _ => None,
            },
        })
        .collect();
    listed.sort_unstable();
    listed.dedup();
    listed.shrink_to_fit();
    listed
}

/// A page, and the indices of the subjects on it.
type PageSubjects = (Url, Vec<usize>);

/// Pages a `check` round inspects at once (each with all its subjects).
const MAX_PAGES_IN_FLIGHT: usize = 8;

/// First runs are spread over at most this much of each interval.
const MAX_INITIAL_SPREAD: Duration = Duration::from_secs(60);
/// How long in-flight inspections may finish after shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Inspects every subject on its interval until `shutdown`, sending each observation to `out`.
pub async fn run_schedule(
    subjects: Vec<Subject>,
    checks: Arc<Vec<Box<dyn Check>>>,
    shared: Shared,
    out: mpsc::Sender<Observation>,
    mut shutdown: watch::Receiver<bool>,
) {
    let start = Instant::now();
    let mut due: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    // A random phase per run, so agents started together do not probe in step.
    let phase = xunjian_shared::retry::random_fraction();
    for (index, subject) in subjects.iter().enumerate() {
        // The golden-ratio sequence spreads first runs evenly however many subjects there are.
        let fraction = (phase + index as f64 * 0.618_033_988_75).fract();
        due.push(Reverse((start + subject.interval.min(MAX_INITIAL_SPREAD).mul_f64(fraction), index)));
    }
    let busy: Arc<[AtomicBool]> = subjects.iter().map(|_| AtomicBool::new(false)).collect();
    // Not collected in place: that would keep the subjects' whole buffer for the pointers.
    let mut shared_subjects: Vec<Arc<Subject>> = Vec::with_capacity(subjects.len());
    shared_subjects.extend(subjects.into_iter().map(Arc::new));
    let subjects = shared_subjects;
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
                tracing::warn!(target = %subject.target, column = subject.column().map(|c| c.name.as_str()), "still inspecting from the last interval; skipped");
                continue;
            }
            let (checks, shared, out, busy) = (checks.clone(), shared.clone(), out.clone(), busy.clone());
            running.spawn(async move {
                // Free the subject however the inspection ends, a panic included: one bad page
                // must not keep its subject "still inspecting" until the agent restarts.
                let _free = Free(busy, index);
                let ctx = shared.ctx(Timestamp::now());
                if let Some(observation) = inspect(&checks, &ctx, &subject).await {
                    let _ = out.send(observation).await;
                }
            });
        }
    }
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async { while running.join_next().await.is_some() {} }).await;
    running.abort_all();
}

/// Marks a subject (by its index among the busy flags) free again when dropped.
struct Free(Arc<[AtomicBool]>, usize);

impl Drop for Free {
    fn drop(&mut self) {
        self.0[self.1].store(false, Ordering::SeqCst);
    }
}
