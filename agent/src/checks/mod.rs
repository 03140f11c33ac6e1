//! The checks: one small trait, one implementor per file, and what they share.
//!
//! A check inspects one [`Subject`] (a home page, a column, later an account or a message
//! board) and returns one [`Observation`]. It never returns an error for what a site did: a
//! timeout, a 500 or an empty list is a finding. It does IO only through [`Ctx::page`], which
//! fetches each URL at most once per round, so the checks of one page share one request.
//! The scheduler, not the check, decides when to run and folds the observations of one subject
//! into one.

pub mod availability;
pub mod blank_column;
pub mod column_update;
pub mod home_update;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use tokio::sync::OnceCell;
use url::Url;
use xunjian_shared::config::{ColumnKind, Thresholds};
use xunjian_shared::time::china_today;
use xunjian_shared::wire::{CheckKind, Observation, TargetKind};

use crate::extract::html::Document;
use crate::extract::html_list::{self, ColumnSelectors, ListReading};
use crate::fetch::{Fetched, Fetcher};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One kind of inspection.
pub trait Check: Send + Sync {
    /// Stable name, used in output and logs.
    fn kind(&self) -> CheckKind;
    /// Whether this check has anything to say about `subject`.
    fn applies_to(&self, subject: &Subject) -> bool;
    /// Inspects `subject` once. Never panics, never fails for what the site did.
    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject) -> BoxFuture<'a, Observation>;
}

/// Every check, in the order they run on a subject.
pub fn registry() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(availability::Availability),
        Box::new(home_update::HomeUpdate),
        Box::new(column_update::ColumnUpdate),
        Box::new(blank_column::BlankColumn),
    ]
}

/// A page the checks look at, with what they need to judge it.
#[derive(Clone, Debug)]
pub struct Subject {
    /// The site's (or account's) name.
    pub target: String,
    pub unit: String,
    pub url: Url,
    pub timeout: Duration,
    pub interval: Duration,
    /// Set for a column page; None for a home page.
    pub column: Option<ColumnSubject>,
}

#[derive(Clone, Debug)]
pub struct ColumnSubject {
    pub name: String,
    pub kind: ColumnKind,
    pub max_age_days: u32,
    pub selectors: Option<ColumnSelectors>,
}

impl Subject {
    pub fn is_home(&self) -> bool {
        self.column.is_none()
    }

    /// An observation of this subject by `check`, with nothing found yet.
    pub fn observation(&self, check: CheckKind, cx: &Ctx) -> Observation {
        let mut observation =
            Observation::new(&self.target, TargetKind::Site, &self.unit, self.url.as_str(), check, cx.now);
        observation.column = self.column.as_ref().map(|column| column.name.clone());
        observation.column_kind = self.column.as_ref().map(|column| column.kind);
        observation
    }
}

/// What a check may use: the clock, thresholds and the fetcher, all injected.
pub struct Ctx {
    pub now: Timestamp,
    /// The civil date in China at `now`.
    pub today: Date,
    pub thresholds: Thresholds,
    fetcher: Arc<Fetcher>,
    pages: Memo<Url, Arc<Fetched>>,
    readings: Memo<Url, Arc<ListReading>>,
}

impl Ctx {
    pub fn new(now: Timestamp, thresholds: Thresholds, fetcher: Arc<Fetcher>) -> Self {
        Ctx { now, today: china_today(now), thresholds, fetcher, pages: Memo::default(), readings: Memo::default() }
    }

    /// The page at `url`, fetched once per round however many checks ask.
    pub async fn page(&self, url: &Url, timeout: Duration) -> Arc<Fetched> {
        self.pages.get_or_init(url.clone(), || async { Arc::new(self.fetcher.fetch(url, timeout).await) }).await
    }

    /// The dated list read off `subject`'s page (the column's own list, or a home page's dated
    /// lists); None when the page could not be read. Computed once per round.
    pub async fn reading(&self, subject: &Subject) -> Option<Arc<ListReading>> {
        let fetched = self.page(&subject.url, subject.timeout).await;
        let page = fetched.ok_page()?;
        let reading = self
            .readings
            .get_or_init(subject.url.clone(), || async {
                let document = Document::parse(&page.text);
                let reading = match &subject.column {
                    Some(column) => html_list::read_column(
                        &document,
                        &fetched.final_url,
                        self.today,
                        &column.name,
                        column.selectors.as_ref(),
                    ),
                    None => html_list::read_home(&document, &fetched.final_url, self.today),
                };
                Arc::new(reading)
            })
            .await;
        Some(reading)
    }
}

/// Values computed at most once per key, shared by concurrent askers.
struct Memo<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo { cells: Mutex::new(HashMap::new()) }
    }
}

impl<K: std::hash::Hash + Eq, V: Clone> Memo<K, V> {
    async fn get_or_init<F, Fut>(&self, key: K, init: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            cells.entry(key).or_default().clone()
        };
        cell.get_or_init(init).await.clone()
    }
}

/// "已 24 天未更新" style phrasing shared by the freshness checks.
pub(crate) fn age_phrase(age_days: i64) -> String {
    match age_days {
        0 => "当天有更新".to_string(),
        days => format!("距今 {days} 天"),
    }
}
