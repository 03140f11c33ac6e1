//! The problem ledger (问题台账): every finding opens a problem the first time a page shows it,
//! and the problem closes when the page has not shown it for [`LedgerSettings::close_after`]
//! observations in a row; a problem that comes back within [`LedgerSettings::reopen_within`] of
//! closing reopens (the same id), so a flapping site keeps one problem, not one a round.
//!
//! The ledger is part of the projection: [`crate::projection::Snapshot::apply`] drives it from
//! each batch in the order taken, so replaying the batch log after a crash rebuilds it exactly
//! (ids included), and the checkpoint writes what changed in the same transaction as the pages.
//! Each page keeps its open problems ([`Tracked`]: id, code, last seen, absences) so an
//! observation costs a scan of a few entries; the rows themselves ([`Problem`]) stay in memory
//! while open or not yet written. Problems of the registry (漏报, closed but live, unmonitored)
//! are kept by [`Ledger::sync_registry`] from the registry's assessment.
//!
//! Nothing is deleted: a page leaving the projection (an agent's inventory drops it, the agent
//! is retired, it expires) closes its problems with that [`Resolution`].

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use xunjian_shared::wire::{FindingCode, Observation, Severity, TargetKind};

xunjian_shared::closed_set! {
    /// Whether a problem is still there.
    pub enum Status {
        Open = "open",
        Resolved = "resolved",
    }
}

xunjian_shared::closed_set! {
    /// Why a problem closed (with the words for people).
    pub enum Resolution: &'static str {
        /// Not seen again in `close_after` observations of its page.
        Absent = "absent" => "问题已消失（连续多次巡检未再发现）",
        /// Its page left the agent's configuration.
        Unlisted = "unlisted" => "页面已从采集代理配置中移除",
        /// The office retired the agent that inspected it.
        Retired = "retired" => "巡检该页面的采集代理已停用",
        /// No observation of its page for the series expiry.
        Expired = "expired" => "长期未收到该页面的巡检数据",
        /// The registry no longer finds it (filed, reopened, or the account closed).
        Registry = "registry" => "备案核查已不再发现",
    }
}

impl Resolution {
    pub fn label_zh(self) -> &'static str {
        self.info()
    }
}

/// How the ledger debounces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerSettings {
    /// Observations in a row without the finding that close its problem.
    pub close_after: u32,
    /// A closed problem that comes back within this reopens.
    pub reopen_within: SignedDuration,
}

impl Default for LedgerSettings {
    fn default() -> Self {
        LedgerSettings { close_after: 2, reopen_within: SignedDuration::from_hours(24) }
    }
}

/// Where a problem is: the series identity of the page it was found on, and the agent that
/// found it ('' for the registry's problems).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Place {
    pub agent: String,
    pub county: String,
    pub unit: String,
    pub target: String,
    pub kind: TargetKind,
    pub platform: String,
    pub column: String,
    pub channel: String,
}

impl Place {
    /// The column or channel ('' for a home page or account): what an exemption names.
    pub fn scope(&self) -> &str {
        if self.column.is_empty() { &self.channel } else { &self.column }
    }

    /// The place of a page observed by `agent` in `county`.
    pub fn of(agent: &str, county: &str, observation: &Observation) -> Place {
        Place {
            agent: agent.to_string(),
            county: county.to_string(),
            unit: observation.unit.clone(),
            target: observation.target.clone(),
            kind: observation.kind,
            platform: observation.platform.clone().unwrap_or_default(),
            column: observation.column.clone().unwrap_or_default(),
            channel: observation.channel.clone().unwrap_or_default(),
        }
    }
}

/// One problem of the ledger.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub id: i64,
    pub place: Place,
    pub code: FindingCode,
    pub severity: Severity,
    pub first_seen: Timestamp,
    /// When the page last showed it (for an open problem the page's latest observation may be
    /// newer: see [`Tracked::last_seen`]).
    pub last_seen: Timestamp,
    /// The finding's words, as last recorded.
    pub detail: String,
    /// The page.
    pub url: String,
    /// What was observed: the newest date, the counts of a board, the failed links …
    pub evidence: String,
    /// When the evidence was observed.
    pub observed_at: Timestamp,
    pub status: Status,
    pub resolved_at: Option<Timestamp>,
    pub resolution: Option<Resolution>,
    /// Observations in a row without the finding, while open.
    pub absent: u32,
    /// Times it came back after closing.
    pub reopened: u32,
}

impl Problem {
    /// A problem first seen at `at`, open, without words yet (its id comes when it is filed).
    pub(crate) fn opened(place: Place, code: FindingCode, severity: Severity, at: Timestamp) -> Problem {
        Problem {
            id: 0,
            place,
            code,
            severity,
            first_seen: at,
            last_seen: at,
            detail: String::new(),
            url: String::new(),
            evidence: String::new(),
            observed_at: at,
            status: Status::Open,
            resolved_at: None,
            resolution: None,
            absent: 0,
            reopened: 0,
        }
    }
}

/// An open problem as its page keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tracked {
    pub id: i64,
    pub code: FindingCode,
    pub last_seen: Timestamp,
    pub absent: u32,
}

/// The problems in memory and what the next checkpoint writes.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    pub settings: LedgerSettings,
    /// The id the next new problem gets.
    next_id: i64,
    /// Open problems, and resolved ones that may still reopen or are not yet written.
    rows: BTreeMap<i64, Problem>,
    /// Resolved problems that may reopen, by place and code.
    reopenable: HashMap<(Place, FindingCode), i64>,
    /// The registry's open problems, by place and code.
    registry_open: BTreeMap<(Place, FindingCode), i64>,
    /// Rows changed since the last checkpoint.
    dirty: HashSet<i64>,
}

impl Ledger {
    pub fn new(settings: LedgerSettings) -> Ledger {
        Ledger { settings, ..Ledger::default() }
    }

    /// Problems held in memory (open, or changed since the last checkpoint), by id.
    pub fn rows(&self) -> &BTreeMap<i64, Problem> {
        &self.rows
    }

    /// One observation of a page whose open problems are `tracked`; `previous` is the page's
    /// observation before this one (what a problem going absent last showed). `place` is only
    /// made when a problem opens.
    pub fn observe(
        &mut self,
        tracked: &mut Vec<Tracked>,
        place: impl Fn() -> Place,
        previous: Option<&Observation>,
        observation: &Observation,
    ) {
        if tracked.is_empty() && observation.findings.is_empty() {
            return;
        }
        let at = observation.checked_at;
        for (index, finding) in observation.findings.iter().enumerate() {
            if observation.findings[..index].iter().any(|earlier| earlier.code == finding.code) {
                continue;
            }
            if let Some(open) = tracked.iter_mut().find(|open| open.code == finding.code) {
                open.last_seen = open.last_seen.max(at);
                if let Some(row) = self.rows.get_mut(&open.id)
                    && (open.absent > 0 || row.severity != finding.severity)
                {
                    // Back after an absence, or its weight changed (a stale column becoming a
                    // veto): the row says so from now on.
                    open.absent = 0;
                    row.absent = 0;
                    row.severity = finding.severity;
                    self.dirty.insert(open.id);
                }
                continue;
            }
            let place = place();
            let id = self.open(place, finding.code, finding.severity, &finding.detail, observation);
            tracked.push(Tracked { id, code: finding.code, last_seen: at, absent: 0 });
        }
        let close_after = self.settings.close_after.max(1);
        let read = page_read(observation);
        tracked.retain_mut(|open| {
            if observation.findings.iter().any(|finding| finding.code == open.code) {
                return true;
            }
            // A page that could not be read says nothing of what is on it.
            if !read && !is_about_reaching(open.code) {
                return true;
            }
            open.absent += 1;
            let Some(row) = self.rows.get_mut(&open.id) else { return false };
            row.absent = open.absent;
            if open.absent == 1 {
                // What the page last showed of it.
                row.last_seen = open.last_seen;
                if let Some(previous) = previous
                    && let Some(finding) = previous.findings.iter().find(|finding| finding.code == open.code)
                {
                    row.detail.clone_from(&finding.detail);
                    row.evidence = evidence(previous, open.code);
                    row.observed_at = previous.checked_at;
                }
            }
            self.dirty.insert(open.id);
            if open.absent >= close_after {
                close(row, at, Resolution::Absent);
                self.reopenable.insert((row.place.clone(), row.code), row.id);
                return false;
            }
            true
        });
    }

    /// A new problem, or one closed recently at the same place reopened; its id.
    fn open(
        &mut self,
        place: Place,
        code: FindingCode,
        severity: Severity,
        detail: &str,
        observation: &Observation,
    ) -> i64 {
        let at = observation.checked_at;
        let window = self.settings.reopen_within;
        // The page's own clock on both sides: when it closed, and when it is seen again.
        if let Some(id) = self.reopenable.remove(&(place.clone(), code))
            && let Some(row) = self.rows.get_mut(&id)
            && row.resolved_at.is_some_and(|resolved| at.duration_since(resolved) <= window)
        {
            row.status = Status::Open;
            row.resolved_at = None;
            row.resolution = None;
            row.absent = 0;
            row.reopened += 1;
            row.severity = severity;
            row.last_seen = at;
            row.detail = detail.to_string();
            row.evidence = evidence(observation, code);
            row.observed_at = at;
            self.dirty.insert(id);
            return id;
        }
        self.insert_new(Problem {
            detail: detail.to_string(),
            url: observation.url.clone(),
            evidence: evidence(observation, code),
            ..Problem::opened(place, code, severity, at)
        })
    }

    /// Files `row` under the next id; that id.
    fn insert_new(&mut self, mut row: Problem) -> i64 {
        let id = self.take_id();
        row.id = id;
        self.rows.insert(id, row);
        self.dirty.insert(id);
        id
    }

    /// Brings a row's last-seen up to its page's (what the page keeps as it sees the problem),
    /// so the next checkpoint writes it and a restart starts from it.
    pub fn note_last_seen(&mut self, open: &Tracked) {
        if let Some(row) = self.rows.get_mut(&open.id)
            && row.last_seen < open.last_seen
        {
            row.last_seen = open.last_seen;
            self.dirty.insert(open.id);
        }
    }

    /// Closes every problem in `tracked` (its page left the projection).
    pub fn close_all(&mut self, tracked: &[Tracked], at: Timestamp, why: Resolution) {
        for open in tracked {
            if let Some(row) = self.rows.get_mut(&open.id) {
                row.last_seen = row.last_seen.max(open.last_seen);
                close(row, at, why);
                self.dirty.insert(open.id);
            }
        }
    }

    /// The registry's problems as the assessment finds them now: new ones open, the ones it no
    /// longer finds close.
    pub fn sync_registry(&mut self, found: Vec<(Place, FindingCode, Severity, String, String)>, now: Timestamp) {
        let mut seen = HashSet::new();
        for (place, code, severity, detail, url) in found {
            let key = (place, code);
            seen.insert(key.clone());
            if let Some(id) = self.registry_open.get(&key) {
                if let Some(row) = self.rows.get_mut(id) {
                    row.last_seen = now;
                }
                continue;
            }
            // A reminder (a possible match, an account within its days to file) is one in the
            // ledger too: the report lists it as 提醒, not as a main problem.
            let id = self.insert_new(Problem { detail, url, ..Problem::opened(key.0.clone(), code, severity, now) });
            self.registry_open.insert(key, id);
        }
        let gone: Vec<(Place, FindingCode)> =
            self.registry_open.keys().filter(|key| !seen.contains(*key)).cloned().collect();
        for key in gone {
            if let Some(id) = self.registry_open.remove(&key)
                && let Some(row) = self.rows.get_mut(&id)
            {
                close(row, now, Resolution::Registry);
                self.dirty.insert(id);
            }
        }
    }

    /// The rows the next checkpoint writes.
    pub fn dirty(&self) -> impl Iterator<Item = &Problem> + '_ {
        self.dirty.iter().filter_map(|id| self.rows.get(id))
    }

    /// Resolved problems closed before this may be forgotten (they can no longer reopen);
    /// checkpoints record it, so that a restart keeps exactly what memory kept.
    pub fn forget_before(&self, now: Timestamp) -> Timestamp {
        now.checked_sub(self.settings.reopen_within).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// After a checkpoint wrote the dirty rows: forget resolved rows closed before `cutoff`.
    pub fn checkpointed(&mut self, cutoff: Timestamp) {
        self.dirty.clear();
        let expired: Vec<i64> = self
            .rows
            .values()
            .filter(|row| row.resolved_at.is_some_and(|resolved| resolved < cutoff))
            .map(|row| row.id)
            .collect();
        for id in expired {
            if let Some(row) = self.rows.remove(&id) {
                self.reopenable.remove(&(row.place, row.code));
            }
        }
    }

    /// Puts a row read from the store back (at startup), with the id counter past it. Returns
    /// the row's [`Tracked`] entry when it is an open problem of a page.
    pub fn insert_loaded(&mut self, row: Problem) -> Option<Tracked> {
        self.next_id = self.next_id.max(row.id + 1);
        let tracked = (row.status == Status::Open && !row.place.agent.is_empty()).then_some(Tracked {
            id: row.id,
            code: row.code,
            last_seen: row.last_seen,
            absent: row.absent,
        });
        match row.status {
            Status::Open if row.place.agent.is_empty() => {
                self.registry_open.insert((row.place.clone(), row.code), row.id);
            }
            Status::Resolved if row.resolution == Some(Resolution::Absent) => {
                self.reopenable.insert((row.place.clone(), row.code), row.id);
            }
            _ => {}
        }
        self.rows.insert(row.id, row);
        tracked
    }

    /// At startup: ids go on from `next` (the highest on disk, plus one).
    pub fn continue_from(&mut self, next: i64) {
        self.next_id = self.next_id.max(next);
    }

    fn take_id(&mut self) -> i64 {
        let id = self.next_id.max(1);
        self.next_id = id + 1;
        id
    }
}

/// Whether the page was read (so what it does not show is absent, not unknown).
fn page_read(observation: &Observation) -> bool {
    observation.fetch.as_ref().is_none_or(|fetch| fetch.failure.is_none() && fetch.status.is_some_and(|s| s < 400))
}

/// Codes about reaching the page, which a failed fetch answers too.
fn is_about_reaching(code: FindingCode) -> bool {
    use FindingCode::*;
    matches!(
        code,
        SiteUnreachable | HttpError | ColumnUnreachable | AccountUnreachable | InteractionUnreachable | BodyTruncated
    ) || code.check() == Some(xunjian_shared::wire::CheckKind::Availability)
}

fn close(row: &mut Problem, at: Timestamp, why: Resolution) {
    if row.status == Status::Resolved {
        return;
    }
    row.status = Status::Resolved;
    row.resolved_at = Some(at.max(row.last_seen));
    row.resolution = Some(why);
}

/// What an observation shows of a problem with `code`, in Chinese: the value the finding is
/// about, without the finding's own words.
pub fn evidence(observation: &Observation, code: FindingCode) -> String {
    use FindingCode::*;
    match code {
        HomeNotUpdated | ColumnNotUpdated | ColumnUndated | AccountNotUpdated | ColumnBlank => {
            let items = observation.items().map(|n| format!("{n} 条")).unwrap_or_else(|| "未读到条目".into());
            match (observation.last_update(), observation.age_days()) {
                (Some(newest), Some(age)) => format!("{items}，最新日期 {}（{age} 天前）", newest.date),
                _ => format!("{items}，无可识别的发布日期"),
            }
        }
        SiteUnreachable
        | HttpError
        | ColumnUnreachable
        | AccountUnreachable
        | InteractionUnreachable
        | BodyTruncated
        | TlsCertificateInvalid
        | TlsCertificateExpiring => match &observation.fetch {
            Some(fetch) => {
                let outcome = match (fetch.status, fetch.failure) {
                    (_, Some(failure)) => format!("失败：{}", failure.as_str()),
                    (Some(status), None) => format!("HTTP {status}"),
                    (None, None) => "无应答".into(),
                };
                let expires =
                    fetch.tls_not_after.map(|t| format!("，证书到期 {}", xunjian_shared::time::china_time(t)));
                format!("{outcome}，用时 {} 毫秒{}", fetch.duration_ms, expires.unwrap_or_default())
            }
            None => String::new(),
        },
        InteractionOverdue
        | InteractionUnanswered
        | InteractionFieldsMissing
        | InteractionStatisticsStale
        | CalendarYearUnknown => {
            let replies = observation.replies();
            let count = |name: &str, value: Option<u32>| value.map(|n| format!("{name} {n}"));
            let parts: Vec<String> = [
                count("留言", replies.messages),
                count("未答复", replies.unanswered),
                count("超期", replies.overdue),
                count("要素不全", replies.missing_fields),
                replies.max_reply_working_days.map(|d| format!("最长答复 {d} 个工作日")),
                replies.oldest_unanswered_days.map(|d| format!("最久未答复 {d} 天")),
                replies.statistics_last_update.map(|p| format!("留言统计最近发布于 {}", p.date)),
            ]
            .into_iter()
            .flatten()
            .collect();
            parts.join("，")
        }
        AccountInteractionClosed => match observation.comments_open() {
            Some(false) => "评论或留言已关闭".into(),
            _ => String::new(),
        },
        DeadLinks => {
            let links = observation.dead_links().unwrap_or_default();
            let shown: Vec<String> =
                links.iter().take(5).map(|link| format!("{}（{}）", link.text, link.url)).collect();
            let more = if links.len() > 5 { format!(" 等 {} 个", links.len()) } else { String::new() };
            format!("{}{more}", shown.join("；"))
        }
        WordingError => {
            let errors = observation.wording_errors().unwrap_or_default();
            let shown: Vec<String> = errors.iter().take(5).map(|e| format!("“{}”应为“{}”", e.wrong, e.right)).collect();
            shown.join("；")
        }
        HiddenLinks => {
            let links = observation.hidden_links().unwrap_or_default();
            let shown: Vec<String> =
                links.iter().take(5).map(|link| format!("{}（{}）", link.url, link.technique)).collect();
            let more = if links.len() > 5 { format!(" 等 {} 个", links.len()) } else { String::new() };
            format!("{}{more}", shown.join("；"))
        }
        SensitiveContent => {
            let terms = observation.sensitive_terms().unwrap_or_default();
            let shown: Vec<String> = terms.iter().take(8).map(|t| format!("{}：{}", t.place_zh(), t.term)).collect();
            shown.join("；")
        }
        MixedContent => {
            let resources = observation.audit.as_ref().and_then(|audit| audit.insecure_resources.as_deref());
            let resources = resources.unwrap_or_default();
            let more = if resources.len() > 3 { format!(" 等 {} 个", resources.len()) } else { String::new() };
            format!("{}{more}", resources.iter().take(3).cloned().collect::<Vec<_>>().join("；"))
        }
        Ipv6Unreachable => match observation.ipv6() {
            Some(status) if status.addresses.is_empty() => "无 IPv6 地址（AAAA 记录）".into(),
            Some(status) => format!("IPv6 地址 {}，不可连接", status.addresses.join("、")),
            None => String::new(),
        },
        GuideElementsMissing | GuideVeto => match observation.guides() {
            Some(guides) => format!("已读办事指南 {} 个，要素不齐 {} 个", guides.checked, guides.incomplete),
            None => String::new(),
        },
        PolicyNotInterpreted | InterpretationLate => match observation.interpretations() {
            Some(summary) => {
                let delay = summary.max_delay_working_days.map(|d| format!("，最长 {d} 个工作日")).unwrap_or_default();
                format!(
                    "政策文件 {} 个，已解读 {}，未解读 {}，解读不及时 {}{delay}",
                    summary.policies, summary.interpreted, summary.missing, summary.late
                )
            }
            None => String::new(),
        },
        CharsetMismatch | CharsetInvalid => match observation.fetch.as_ref().and_then(|fetch| fetch.charset.as_deref())
        {
            Some(charset) => format!("按 {charset} 编码读取"),
            None => String::new(),
        },
        InteractionChannelMissing
        | HomeChanged
        | Cloaking
        | NotFiled
        | ClosedButLive
        | Unmonitored
        | PossiblyFiled
        | FilingPending
        | FiledLate
        | DuplicateAccount
        | UnitTypeNotAllowed
        | PlatformNotMainstream
        | CountyWithoutAccount
        | AccountDiscovered => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use xunjian_shared::wire::{CheckKind, FetchFailure, FetchRecord, Finding};

    use super::*;

    fn at(minute: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + minute * 60).unwrap()
    }

    fn seen(minute: i64, codes: &[FindingCode], read: bool) -> Observation {
        let mut observation =
            Observation::new("龙川网", TargetKind::Site, "县政府办", "http://x/", CheckKind::Availability, at(minute));
        observation.fetch = Some(FetchRecord {
            status: read.then_some(200),
            duration_ms: 5,
            failure: (!read).then_some(FetchFailure::Timeout),
            redirects: Vec::new(),
            tls_not_after: None,
            charset: None,
            body_bytes: 0,
            truncated: false,
        });
        observation.findings =
            codes.iter().map(|code| Finding::new(*code, Severity::Error, format!("{code} at {minute}"))).collect();
        observation
    }

    /// A page's open problems and its latest observation.
    #[derive(Default)]
    struct Page {
        tracked: Vec<Tracked>,
        previous: Option<Observation>,
    }

    /// Feeds observations of one page.
    fn run(ledger: &mut Ledger, page: &mut Page, steps: &[(i64, &[FindingCode], bool)]) {
        let Page { tracked, previous } = page;
        for (minute, codes, read) in steps {
            let observation = seen(*minute, codes, *read);
            let place = || Place::of("lc", "龙川县", &observation);
            ledger.observe(tracked, place, previous.as_ref(), &observation);
            *previous = Some(observation);
        }
    }

    const STALE: FindingCode = FindingCode::HomeNotUpdated;
    const DOWN: FindingCode = FindingCode::SiteUnreachable;

    #[test]
    fn a_problem_opens_once_survives_one_absence_and_closes_after_two() {
        let mut ledger = Ledger::new(LedgerSettings::default());
        let mut page = Page::default();
        run(&mut ledger, &mut page, &[(0, &[STALE], true), (5, &[STALE], true), (10, &[], true), (15, &[STALE], true)]);
        assert_eq!(ledger.rows().len(), 1, "one absence does not close it");
        assert_eq!((page.tracked[0].absent, page.tracked[0].last_seen), (0, at(15)));
        run(&mut ledger, &mut page, &[(20, &[], true), (25, &[], true)]);
        assert!(page.tracked.is_empty());
        let row = &ledger.rows()[&1];
        assert_eq!(
            (row.status, row.resolution, row.resolved_at),
            (Status::Resolved, Some(Resolution::Absent), Some(at(25)))
        );
        assert_eq!((row.first_seen, row.last_seen), (at(0), at(15)), "last seen: the last observation that showed it");
        assert_eq!(row.detail, "home_not_updated at 15", "the words it last had");
    }

    #[test]
    fn an_unread_page_neither_shows_nor_clears_its_content_problems() {
        let mut ledger = Ledger::new(LedgerSettings::default());
        let mut page = Page::default();
        run(
            &mut ledger,
            &mut page,
            &[(0, &[STALE], true), (5, &[DOWN], false), (10, &[DOWN], false), (15, &[DOWN], false)],
        );
        let codes: Vec<FindingCode> = page.tracked.iter().map(|t| t.code).collect();
        assert_eq!(codes, [STALE, DOWN], "the stale home page stays open while the site is down");
        run(&mut ledger, &mut page, &[(20, &[STALE], true), (25, &[STALE], true)]);
        assert_eq!(page.tracked.iter().map(|t| t.code).collect::<Vec<_>>(), [STALE], "up again: the outage closes");
        assert_eq!(ledger.rows()[&2].resolution, Some(Resolution::Absent));
    }

    #[test]
    fn a_problem_back_within_the_window_reopens_and_after_it_is_new() {
        let settings = LedgerSettings { close_after: 2, reopen_within: SignedDuration::from_mins(60) };
        let mut ledger = Ledger::new(settings);
        let mut page = Page::default();
        run(&mut ledger, &mut page, &[(0, &[DOWN], false), (5, &[], true), (10, &[], true)]);
        assert!(page.tracked.is_empty());
        run(&mut ledger, &mut page, &[(30, &[DOWN], false)]);
        assert_eq!(page.tracked[0].id, 1, "back within the hour: the same problem");
        let row = &ledger.rows()[&1];
        assert_eq!((row.status, row.reopened, row.resolved_at), (Status::Open, 1, None));
        run(&mut ledger, &mut page, &[(35, &[], true), (40, &[], true), (200, &[DOWN], false)]);
        assert_eq!(page.tracked[0].id, 2, "back after the window: a new problem");
        ledger.checkpointed(ledger.forget_before(at(300)));
        assert!(!ledger.rows().contains_key(&1), "resolved and past the window: on disk only");
        assert!(ledger.rows().contains_key(&2), "open problems stay in memory");
    }

    #[test]
    fn a_finding_that_grows_into_a_veto_updates_its_problem_and_last_seen_reaches_the_row() {
        let mut ledger = Ledger::new(LedgerSettings::default());
        let mut page = Page::default();
        run(&mut ledger, &mut page, &[(0, &[STALE], true)]);
        ledger.checkpointed(ledger.forget_before(at(0)));
        let mut veto = seen(5, &[STALE], true);
        veto.findings[0].severity = Severity::Veto;
        let place = || Place::of("lc", "龙川县", &veto);
        ledger.observe(&mut page.tracked, place, page.previous.as_ref(), &veto);
        assert_eq!(ledger.rows()[&1].severity, Severity::Veto);
        assert_eq!(ledger.dirty().count(), 1, "written at the next checkpoint");
        ledger.checkpointed(ledger.forget_before(at(5)));
        assert_eq!(ledger.rows()[&1].last_seen, at(0), "seen again: the page keeps it, not the row");
        ledger.note_last_seen(&page.tracked[0]);
        assert_eq!((ledger.rows()[&1].last_seen, ledger.dirty().count()), (at(5), 1));
    }

    #[test]
    fn registry_problems_open_once_and_close_when_no_longer_found() {
        let mut ledger = Ledger::new(LedgerSettings::default());
        let place = |target: &str| Place {
            agent: String::new(),
            county: "市直".into(),
            unit: "市社保局".into(),
            target: target.into(),
            kind: TargetKind::Account,
            platform: "wechat".into(),
            column: String::new(),
            channel: String::new(),
        };
        let found = |targets: &[&str]| {
            targets
                .iter()
                .map(|t| (place(t), FindingCode::NotFiled, Severity::Error, "未备案".to_string(), String::new()))
                .collect()
        };
        ledger.sync_registry(found(&["社保局", "发布"]), at(0));
        ledger.sync_registry(found(&["社保局", "发布"]), at(1));
        assert_eq!(ledger.rows().len(), 2);
        ledger.sync_registry(found(&["社保局"]), at(2));
        let closed = ledger.rows().values().find(|r| r.place.target == "发布").unwrap();
        assert_eq!((closed.status, closed.resolution), (Status::Resolved, Some(Resolution::Registry)));
        assert_eq!(ledger.dirty().count(), 2);
    }
}
