//! The checks: one small trait, one implementor per file, and what they share.
//!
//! A check inspects one [`Subject`] (a home page, its audit, a column, a message board, an
//! account) and returns one [`Observation`]. It never returns an error for what a site did: a
//! timeout, a 500 or an empty list is a finding. It does IO only through [`Ctx::page`], which
//! fetches each URL at most once per round, so the checks of one page share one request, and
//! [`Ctx::document`] parses it once. The scheduler, not the check, decides when to run and folds
//! the observations of one page into one.

pub mod account_interaction;
pub mod account_update;
pub mod availability;
pub mod blank_column;
pub mod channel_presence;
pub mod cloaking;
pub mod column_update;
pub mod dead_links;
pub mod guide;
pub mod hidden_links;
pub mod home_change;
pub mod home_update;
pub mod interaction;
pub mod interpretation;
pub mod ipv6;
pub mod linked_accounts;
pub mod mixed_content;
pub mod page_integrity;
pub mod sensitive_content;
pub mod shelf;
pub mod wording;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use tokio::sync::OnceCell;
use url::Url;
use xunjian_shared::config::{AccountSource, ColumnKind, Platform, Thresholds};
use xunjian_shared::time::calendar::Calendar;
use xunjian_shared::time::{Published, china_today, days_between};
use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Freshness, Observation, Severity, TargetKind};

use crate::extract::feed::{Post, read_feed};
use crate::extract::guide::Categories;
use crate::extract::hidden_links::SensitiveTerms;
use crate::extract::html::Document;
use crate::extract::html_list::{self, ColumnSelectors, ListReading};
use crate::extract::json_api::read_api;
use crate::extract::post_list::{PostSelectors, page_posts};
use crate::extract::select::SelectorList;
use crate::extract::wording::Dictionary;
use crate::fetch::{Fetched, Fetcher, LinkOutcome};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One kind of inspection.
///
/// The caller ([`crate::schedule::inspect`]) owns the common part, as blackbox_exporter's
/// handler does for its probers: it makes the observation (identity, time), records which
/// checks ran, and settles `ok` once all have. A check only judges: it writes its block and its
/// findings into the observation it is given.
pub trait Check: Send + Sync {
    /// Stable name, used in output and logs.
    fn kind(&self) -> CheckKind;
    /// Whether this check has anything to say about `subject`.
    fn applies_to(&self, subject: &Subject) -> bool;
    /// Inspects `subject` once into `observation`. Never panics, never fails for what the site
    /// did.
    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()>;
}

/// Every check, in the order they run on a subject.
pub fn all() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(availability::Availability),
        Box::new(home_update::HomeUpdate),
        Box::new(channel_presence::ChannelPresence),
        Box::new(column_update::ColumnUpdate),
        Box::new(blank_column::BlankColumn),
        Box::new(interaction::Interaction),
        Box::new(account_update::AccountUpdate),
        Box::new(account_interaction::AccountInteraction),
        Box::new(dead_links::DeadLinks),
        Box::new(wording::Wording),
        Box::new(hidden_links::HiddenLinks),
        Box::new(sensitive_content::SensitiveContent),
        Box::new(home_change::HomeChange),
        Box::new(cloaking::Cloaking),
        Box::new(mixed_content::MixedContent),
        Box::new(ipv6::Ipv6),
        Box::new(linked_accounts::LinkedAccounts),
        Box::new(page_integrity::PageIntegrity),
        Box::new(guide::Guide),
        Box::new(interpretation::Interpretation),
    ]
}

/// A page the checks look at, with what they need to judge it.
#[derive(Clone, Debug)]
pub struct Subject {
    /// The site's or account's name (shared by the site's subjects: an agent holds thousands).
    pub target: Arc<str>,
    pub unit: Arc<str>,
    pub kind: TargetKind,
    pub platform: Option<Platform>,
    /// Shared by a site's home page and its audit.
    pub url: Arc<Url>,
    pub timeout: Duration,
    pub interval: Duration,
    pub role: Role,
}

/// What the page is, for the checks.
#[derive(Clone, Debug)]
pub enum Role {
    /// A site's home page, probed every few minutes.
    Home {
        channels_configured: usize,
        /// The site's configured list columns: a home page that is mostly navigation is judged
        /// by the newest item of those it links to.
        columns: Vec<ColumnPage>,
    },
    /// The same home page, read less often for what takes many requests: dead links, wording.
    Audit {
        dead_links_max: usize,
        /// `[security] cloaking`: compare with what a search engine's crawler is served.
        cloaking: bool,
        /// `[security] ipv6`: try the site's IPv6 address.
        ipv6: bool,
    },
    // Boxed: a subject is held for every page probed, most of them home pages and audits.
    Column(Box<ColumnSubject>),
    Channel(Box<ChannelSubject>),
    Account(Box<AccountSubject>),
}

#[derive(Clone, Debug)]
pub struct ColumnSubject {
    pub name: String,
    pub kind: ColumnKind,
    pub max_age_days: u32,
    pub selectors: Option<ColumnSelectors>,
    /// Service guides: a guide list (kind `guide`) or a single guide page (`[[site.guide]]`).
    pub guides: Option<GuideList>,
    /// For a policy column: the interpretation column its documents are paired with.
    pub interpretations: Option<Box<ColumnPage>>,
}

/// A configured column's page as another subject refers to it: the interpretation column
/// (政策解读) a policy column names, the columns a home page is judged by when it is mostly
/// navigation.
#[derive(Clone, Debug)]
pub struct ColumnPage {
    pub name: String,
    pub url: Url,
    pub timeout: Duration,
    pub selectors: Option<ColumnSelectors>,
}

/// What the agent remembers across rounds of pages it reads a share per round.
pub struct Memory {
    /// Service guide pages, each read for its elements.
    pub guides: shelf::Shelf<guide::GuideRead>,
    /// Policy and interpretation pages, each read for the links between them.
    pub page_links: shelf::Shelf<Vec<Url>>,
    /// Messages' detail pages, each read for the fields its board's list leaves out.
    pub replies: shelf::Shelf<interaction::DetailRead>,
    /// Home pages as last seen, to see them change all at once.
    pub homes: shelf::Shelf<home_change::HomeSeen>,
    /// Home pages as a search engine's crawler was last served them (once a day).
    pub crawled: shelf::Shelf<cloaking::Crawled>,
    /// Each column page's newest dated item when last read, for home pages judged by the
    /// columns they link to.
    pub columns: shelf::Shelf<Option<Published>>,
}

impl Default for Memory {
    fn default() -> Self {
        Memory {
            guides: shelf::Shelf::new(guide::READ_AGAIN_AFTER),
            page_links: shelf::Shelf::new(interpretation::READ_AGAIN_AFTER),
            replies: shelf::Shelf::new(interaction::READ_AGAIN_AFTER),
            homes: shelf::Shelf::new(jiff::SignedDuration::ZERO),
            crawled: shelf::Shelf::new(cloaking::CRAWL_AGAIN_AFTER),
            columns: shelf::Shelf::new(jiff::SignedDuration::ZERO),
        }
    }
}

/// How a column's service guides are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuideList {
    /// The page is one guide (`[[site.guide]]`), not a list of them.
    pub single: bool,
    /// Guides of a list followed per round.
    pub max_per_round: u32,
}

#[derive(Clone, Debug)]
pub struct ChannelSubject {
    pub name: String,
    pub reply_limit_working_days: u32,
    pub simple_reply_limit_working_days: u32,
    pub simple_keywords: Vec<String>,
    pub item_selector: Option<SelectorList>,
    /// List pages read per round.
    pub max_pages: u32,
    /// Where the board's statistics are published, and how old they may be.
    pub statistics: Option<(Url, u32)>,
}

#[derive(Clone, Debug)]
pub struct AccountSubject {
    pub source: AccountSource,
    pub max_age_days: u32,
    /// The account's identifier on its platform, when the configuration gives it.
    pub account_id: Option<String>,
}

impl Subject {
    pub fn is_home(&self) -> bool {
        matches!(self.role, Role::Home { .. })
    }

    pub fn is_column(&self) -> bool {
        matches!(self.role, Role::Column(_))
    }

    pub fn column(&self) -> Option<&ColumnSubject> {
        match &self.role {
            Role::Column(column) => Some(column),
            _ => None,
        }
    }

    pub fn channel(&self) -> Option<&ChannelSubject> {
        match &self.role {
            Role::Channel(channel) => Some(channel),
            _ => None,
        }
    }

    pub fn account(&self) -> Option<&AccountSubject> {
        match &self.role {
            Role::Account(account) => Some(account),
            _ => None,
        }
    }

    /// An observation of this subject by `check`, with nothing found yet.
    pub fn observation(&self, check: CheckKind, cx: &Ctx) -> Observation {
        let mut observation = Observation::new(&self.target, self.kind, &self.unit, self.url.as_str(), check, cx.now);
        observation.platform = self.platform.map(|p| p.as_str().to_string());
        match &self.role {
            Role::Account(account) => observation.account_id.clone_from(&account.account_id),
            Role::Column(column) => {
                observation.column = Some(column.name.clone());
                observation.column_kind = Some(column.kind);
            }
            Role::Channel(channel) => observation.channel = Some(channel.name.clone()),
            _ => {}
        }
        observation
    }
}

/// What a check may use: the clock, thresholds, calendar, dictionary and the fetcher, all
/// injected.
pub struct Ctx {
    pub now: Timestamp,
    /// The civil date in China at `now`.
    pub today: Date,
    pub thresholds: Thresholds,
    pub calendar: Arc<Calendar>,
    pub dictionary: Arc<Dictionary>,
    /// Gambling, pornography and fraud terms, for hidden links, injected content and cloaking.
    pub sensitive_terms: Arc<SensitiveTerms>,
    /// The service guide element categories.
    pub guide_categories: Arc<Categories>,
    /// What was read across rounds of pages read a share per round.
    pub memory: Arc<Memory>,
    fetcher: Arc<Fetcher>,
    pages: Memo<Url, Arc<Fetched>>,
    documents: Memo<Url, Option<Arc<Document>>>,
    readings: Memo<Url, Arc<ListReading>>,
    /// By account name and URL: two accounts may share an API URL with different pointers.
    accounts: Memo<(String, Url), Arc<Result<AccountReading, String>>>,
    links: Memo<Url, LinkOutcome>,
}

/// What an account's source says: its posts and, when the source tells, whether comments are
/// open.
#[derive(Debug)]
pub struct AccountReading {
    pub posts: Vec<Post>,
    pub comments_open: Option<bool>,
}

impl Ctx {
    pub fn new(now: Timestamp, thresholds: Thresholds, fetcher: Arc<Fetcher>) -> Self {
        // Parsed once per process: a context is made for every inspection, and the agent then
        // sets its configured ones anyway.
        static CALENDAR: LazyLock<Arc<Calendar>> = LazyLock::new(|| Arc::new(Calendar::china()));
        static DICTIONARY: LazyLock<Arc<Dictionary>> = LazyLock::new(|| Arc::new(Dictionary::shipped()));
        static CATEGORIES: LazyLock<Arc<Categories>> = LazyLock::new(|| Arc::new(Categories::default()));
        Ctx {
            now,
            today: china_today(now),
            thresholds,
            calendar: CALENDAR.clone(),
            dictionary: DICTIONARY.clone(),
            sensitive_terms: SensitiveTerms::shipped(),
            guide_categories: CATEGORIES.clone(),
            memory: Arc::default(),
            fetcher,
            pages: Memo::default(),
            documents: Memo::default(),
            readings: Memo::default(),
            accounts: Memo::default(),
            links: Memo::default(),
        }
    }

    /// The same context with this calendar and dictionary.
    pub fn with(mut self, calendar: Arc<Calendar>, dictionary: Arc<Dictionary>) -> Self {
        self.calendar = calendar;
        self.dictionary = dictionary;
        self
    }

    /// The same context with these guide categories and this memory of earlier rounds.
    pub fn with_memory(mut self, categories: Arc<Categories>, memory: Arc<Memory>) -> Self {
        self.guide_categories = categories;
        self.memory = memory;
        self
    }

    /// The same context with these sensitive terms.
    pub fn with_sensitive_terms(mut self, terms: Arc<SensitiveTerms>) -> Self {
        self.sensitive_terms = terms;
        self
    }

    /// Lets go of the page at `url`, its parse and its reading: a round that inspects many
    /// subjects holds each page only while a subject on it is being inspected, not to the end.
    pub fn forget(&self, url: &Url) {
        self.pages.remove(url);
        self.documents.remove(url);
        self.readings.remove(url);
    }

    /// The page at `url`, fetched once per round however many checks ask.
    pub async fn page(&self, url: &Url, timeout: Duration) -> Arc<Fetched> {
        self.pages.get_or_init(url.clone(), || async { Arc::new(self.fetcher.fetch(url, timeout).await) }).await
    }

    /// The page at `url` parsed, when it opened with a 2xx; parsed once per round. The page's
    /// text is let go once parsed (every reader of an HTML page reads the parse): a round holds
    /// one copy of a page, not two.
    pub async fn document(&self, url: &Url, timeout: Duration) -> Option<Arc<Document>> {
        let fetched = self.page(url, timeout).await;
        self.documents
            .get_or_init(url.clone(), || async {
                let page = fetched.ok_page()?;
                // Parsed before and let go since (a page that is one subject's and linked from
                // another's, or a parse racing the forgetting): read it again, never parse nothing.
                let again;
                let page = if page.text_dropped {
                    again = self.fetcher.fetch_linked(url, timeout, fetched.origin).await;
                    again.ok_page()?
                } else {
                    page
                };
                let document = Arc::new(Document::parse(&page.text));
                self.pages.replace(url.clone(), Arc::new(fetched.without_text()));
                Some(document)
            })
            .await
    }

    /// `subject`'s page parsed, with the address it was finally read at (what its links are
    /// resolved against), when it opened with a 2xx.
    pub async fn subject_document(&self, subject: &Subject) -> Option<(Arc<Document>, Url)> {
        let document = self.document(&subject.url, subject.timeout).await?;
        Some((document, self.page(&subject.url, subject.timeout).await.final_url.clone()))
    }

    /// The page at `url`, which the page at `from` links to: fetched once per round, and only
    /// where a redirect from `from` could lead ([`Fetcher::fetch_linked`]).
    pub async fn linked_page(&self, url: &Url, timeout: Duration, from: &Url) -> Arc<Fetched> {
        let origin = self.page(from, timeout).await.origin;
        self.pages
            .get_or_init(url.clone(), || async { Arc::new(self.fetcher.fetch_linked(url, timeout, origin).await) })
            .await
    }

    /// [`Ctx::linked_page`], parsed when it opened with a 2xx.
    pub async fn linked_document(&self, url: &Url, timeout: Duration, from: &Url) -> Option<Arc<Document>> {
        self.linked_page(url, timeout, from).await;
        self.document(url, timeout).await
    }

    /// The page at `url` as a search engine's crawler is served it ([`cloaking::CRAWLER`]);
    /// never shared with the checks that judge what a visitor sees.
    pub async fn crawled_page(&self, url: &Url, timeout: Duration) -> Fetched {
        self.fetcher.fetch_as(url, timeout, cloaking::CRAWLER).await
    }

    /// Whether `url` opens, asked once per round however many pages link to it.
    pub async fn link(&self, url: &Url, timeout: Duration) -> LinkOutcome {
        self.links.get_or_init(url.clone(), || self.fetcher.check_link(url, timeout)).await
    }

    /// The dated list read off `subject`'s page (the column's own list, or a home page's dated
    /// lists); None when the page could not be read. Computed once per round.
    pub async fn reading(&self, subject: &Subject) -> Option<Arc<ListReading>> {
        let column = subject.column().map(|column| (column.name.as_str(), column.selectors.as_ref()));
        self.list(&subject.url, subject.timeout, column).await
    }

    /// The dated list read off the page at `url`: a column's own list (named, with its
    /// selectors) or, for None, a home page's dated lists. Computed once per round.
    pub async fn list(
        &self,
        url: &Url,
        timeout: Duration,
        column: Option<(&str, Option<&ColumnSelectors>)>,
    ) -> Option<Arc<ListReading>> {
        let document = self.document(url, timeout).await?;
        let fetched = self.page(url, timeout).await;
        let reading = self
            .readings
            .get_or_init(url.clone(), || async {
                let reading = match column {
                    Some((name, selectors)) => {
                        html_list::read_column(&document, &fetched.final_url, self.today, name, selectors)
                    }
                    None => html_list::read_home(&document, &fetched.final_url, self.today),
                };
                Arc::new(reading)
            })
            .await;
        Some(reading)
    }

    /// The posts of `subject`'s account source, read once per round (the update and the
    /// interaction checks share it); Err says, in a report's words, why it could not be read.
    pub async fn account(&self, subject: &Subject) -> Arc<Result<AccountReading, String>> {
        let key = (subject.target.to_string(), Url::clone(&subject.url));
        self.accounts.get_or_init(key, || async { Arc::new(self.read_account(subject).await) }).await
    }

    async fn read_account(&self, subject: &Subject) -> Result<AccountReading, String> {
        let Some(account) = subject.account() else { return Err("不是账号".into()) };
        let fetched = self.page(&subject.url, subject.timeout).await;
        let Some(page) = fetched.ok_page() else {
            return Err(format!("账号内容无法读取：{}", unreachable_reason(&fetched)));
        };
        match &account.source {
            AccountSource::Feed { .. } => read_feed(&page.text, self.now)
                .map(|posts| AccountReading { posts, comments_open: None })
                .map_err(|err| format!("订阅源无法解析：{err}")),
            AccountSource::Json { items, date, comments, .. } => {
                read_api(&page.text, items, date, comments.as_deref(), self.now)
                    .map(|api| AccountReading { posts: api.posts, comments_open: api.comments_open })
                    .map_err(|err| format!("接口内容无法解析：{err}"))
            }
            AccountSource::Page { item_selector, date_selector, comments_selector, .. } => {
                let Some(document) = self.document(&subject.url, subject.timeout).await else {
                    return Err("账号页面无法读取".into());
                };
                let selectors = PostSelectors {
                    items: item_selector,
                    dates: date_selector.as_ref(),
                    comments: comments_selector.as_ref(),
                };
                let page = page_posts(&document, &selectors, self.now);
                Ok(AccountReading { posts: page.posts, comments_open: page.comments_open })
            }
        }
    }
}

/// How stale is too stale for one freshness check, and what it says when it is.
pub(crate) struct Staleness<'a> {
    pub code: FindingCode,
    pub severity: Severity,
    pub max_age_days: u32,
    /// The finding's detail for a newest item past the limit, from its date and "距今 N 天".
    pub stale: &'a (dyn Fn(Date, String) -> String + Sync),
    /// The finding (code and detail) when nothing is dated; None when that is not this check's
    /// finding.
    pub undated: Option<(FindingCode, String)>,
}

/// "Newest → age → finding", for home pages, columns and accounts alike: records the freshness
/// block and, when the newest dated item is past the limit or nothing is dated, the finding.
pub(crate) fn judge_freshness(
    cx: &Ctx,
    observation: &mut Observation,
    dated_items: usize,
    newest: Option<Published>,
    rule: &Staleness<'_>,
) {
    let age_days = newest.map(|newest| days_between(newest.date, cx.today));
    observation.freshness = Some(Freshness {
        items: Some(u32::try_from(dated_items).unwrap_or(u32::MAX)),
        last_update: newest,
        age_days,
        max_age_days: Some(rule.max_age_days),
    });
    let detail = match (newest, age_days) {
        (Some(newest), Some(age_days)) if age_days > i64::from(rule.max_age_days) => {
            Some((rule.code, (rule.stale)(newest.date, age_phrase(age_days))))
        }
        (Some(_), _) => None,
        (None, _) => rule.undated.clone(),
    };
    if let Some((code, detail)) = detail {
        observation.findings.push(Finding::new(code, rule.severity, detail));
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

    /// Sets `key` to `value` from now on (askers holding the old value keep it).
    fn replace(&self, key: K, value: V) {
        let cell = Arc::new(OnceCell::new_with(Some(value)));
        self.cells.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(key, cell);
    }

    fn remove(&self, key: &K) {
        self.cells.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(key);
    }
}

/// "距今 24 天": how a freshness finding says the age.
fn age_phrase(age_days: i64) -> String {
    match age_days {
        0 => "当天有更新".to_string(),
        days => format!("距今 {days} 天"),
    }
}

/// Why a page did not open, in a report's words.
pub(crate) fn unreachable_reason(fetched: &Fetched) -> String {
    match (fetched.record.failure, &fetched.page) {
        (Some(failure), _) => {
            format!("{}（{}）", failure.label_zh(), fetched.failure_detail.clone().unwrap_or_default())
        }
        (None, Some(page)) => format!("返回 HTTP {}", page.status),
        (None, None) => "没有响应".to_string(),
    }
}
