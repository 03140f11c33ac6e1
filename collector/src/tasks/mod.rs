//! 整改 (rectification) tasks: problems of the ledger given to a county to fix by a date, its
//! answer (整改情况反馈, with attachments), and the automatic re-check that decides 已核实 or
//! 整改未到位 from the agents' own observations. Pure: rows in `store::tasks`, the re-check run
//! by the alert loop, pages in `web::tasks`.
//!
//! ```text
//! 待整改 ──answer──▶ 已反馈 ──problems resolved──▶ 已核实
//!    ▲                  │                              │
//!    └── 整改未到位 ◀────┴── still observed after ──────┘
//!           └──answer──▶ 已反馈
//! ```
//! Every problem resolved makes a task 已核实 from any state; a problem the agents still
//! observe after the county answered (or after the task was verified) sends it back as
//! 整改未到位 and the county is notified. A task not answered by its deadline is overdue.

pub mod export;

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;

use crate::ledger::{Problem, Status};

xunjian_shared::closed_set! {
    /// Where a task stands.
    pub enum TaskState: TaskStateInfo {
        /// Given to the county; no answer yet.
        Pending = "pending" => TaskStateInfo { label_zh: "待整改", waits_for_county: true },
        /// The county said what it did; the agents' observations decide.
        Answered = "answered" => TaskStateInfo { label_zh: "已反馈", waits_for_county: false },
        /// Every problem it covers was resolved by the agents' observations.
        Verified = "verified" => TaskStateInfo { label_zh: "已核实", waits_for_county: false },
        /// The county said fixed, but the agents still see a problem: back to the county.
        NotFixed = "not_fixed" => TaskStateInfo { label_zh: "整改未到位", waits_for_county: true },
    }
}

/// What is declared with each state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskStateInfo {
    pub label_zh: &'static str,
    /// The county owes an answer (so the deadline counts).
    pub waits_for_county: bool,
}

impl TaskState {
    pub fn label_zh(self) -> &'static str {
        self.info().label_zh
    }
}

/// A task as stored (attachments' bytes aside).
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub id: i64,
    pub county: String,
    pub unit: String,
    pub title: String,
    pub deadline: Date,
    pub state: TaskState,
    /// When it entered its state (the re-check compares observations with it).
    pub state_since: Timestamp,
    pub created_at: Timestamp,
    pub created_by: String,
    /// The report it was issued for (`2026Q4`), or '' when made by hand.
    pub source: String,
    pub answer: Option<Answer>,
    /// Times it went back to the county (整改未到位).
    pub returned: u32,
    pub verified_at: Option<Timestamp>,
    /// The problems it covers (ledger ids).
    pub problems: Vec<i64>,
}

/// The county's latest answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub text: String,
    pub at: Timestamp,
    pub by: String,
}

impl Task {
    /// Not answered (or sent back) and past its deadline on `today`.
    pub fn overdue(&self, today: Date) -> bool {
        self.state.info().waits_for_county && self.deadline < today
    }
}

/// The tasks as of the last re-check (unfinished ones and those verified lately) and every
/// task's count per county and state, for `/metrics` and the rules.
#[derive(Clone, Debug, Default)]
pub struct TaskBoard {
    current: std::sync::Arc<std::sync::RwLock<std::sync::Arc<Board>>>,
}

#[derive(Clone, Debug, Default)]
pub struct Board {
    pub tasks: Vec<Task>,
    /// (county, state, tasks), every task ever made.
    pub counts: Vec<(String, TaskState, u64)>,
}

impl TaskBoard {
    pub fn current(&self) -> std::sync::Arc<Board> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set(&self, board: Board) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = std::sync::Arc::new(board);
    }
}

/// A problem as the re-check sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    pub open: bool,
    /// The newest observation that showed it.
    pub last_seen: Timestamp,
}

impl Seen {
    pub fn of(problem: &Problem) -> Seen {
        Seen { open: problem.status == Status::Open, last_seen: problem.last_seen }
    }
}

/// What the re-check decides for a task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recheck {
    /// Every problem resolved.
    Verified,
    /// These problems were observed again after the county's answer (or the verification).
    NotFixed(Vec<i64>),
}

/// The re-check of `task` against its problems as the ledger has them now (a problem the
/// ledger no longer holds was resolved and forgotten).
pub fn recheck(task: &Task, problems: &BTreeMap<i64, Seen>) -> Option<Recheck> {
    let open: Vec<(i64, Seen)> = task
        .problems
        .iter()
        .filter_map(|id| problems.get(id).map(|seen| (*id, *seen)))
        .filter(|(_, s)| s.open)
        .collect();
    if open.is_empty() {
        return (task.state != TaskState::Verified).then_some(Recheck::Verified);
    }
    if matches!(task.state, TaskState::Answered | TaskState::Verified) {
        // Whole seconds, as the state's time is stored: an observation in the second of the
        // answer is not taken for one after it (the next one decides).
        let since = task.state_since.as_second();
        let again: Vec<i64> =
            open.iter().filter(|(_, seen)| seen.last_seen.as_second() > since).map(|(id, _)| *id).collect();
        if !again.is_empty() {
            return Some(Recheck::NotFixed(again));
        }
    }
    None
}

/// A task to make, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskDraft {
    pub county: String,
    pub unit: String,
    pub title: String,
    pub deadline: Date,
    pub source: String,
    pub problems: Vec<i64>,
}

/// Most problems one task may cover.
pub const MAX_PROBLEMS: usize = 500;

impl TaskDraft {
    /// A task for `problems` (open, of one county), for `unit` (default: theirs, when they share
    /// one), due `deadline` (not before `today`); every problem with the request at once, in Chinese.
    pub fn from_problems(
        problems: &[Problem],
        unit: Option<&str>,
        title: Option<&str>,
        deadline: Date,
        today: Date,
        source: &str,
    ) -> Result<TaskDraft, Vec<String>> {
        let mut refusals = Vec::new();
        if problems.is_empty() {
            refusals.push("请至少选择一个问题".to_string());
        }
        if problems.len() > MAX_PROBLEMS {
            refusals.push(format!("一个整改任务最多包含 {MAX_PROBLEMS} 个问题"));
        }
        for problem in problems.iter().filter(|p| p.status != Status::Open) {
            refusals.push(format!("问题 #{} 已解决，无需整改", problem.id));
        }
        let mut counties: Vec<&str> = problems.iter().map(|p| p.place.county.as_str()).collect();
        counties.sort_unstable();
        counties.dedup();
        if counties.len() > 1 {
            refusals.push(format!("所选问题属于多个县区（{}）：请按县区分别下发", counties.join("、")));
        }
        let mut units: Vec<&str> = problems.iter().map(|p| p.place.unit.as_str()).collect();
        units.sort_unstable();
        units.dedup();
        let unit = match unit.map(str::trim).filter(|u| !u.is_empty()) {
            Some(unit) => unit.to_string(),
            None if units.len() == 1 => units[0].to_string(),
            None if units.is_empty() => String::new(),
            None => {
                refusals.push(format!("所选问题涉及多个单位（{}）：请指定责任单位", units.join("、")));
                String::new()
            }
        };
        if deadline < today {
            refusals.push(format!("整改期限 {deadline} 早于今天"));
        }
        let title = match title.map(str::trim).filter(|t| !t.is_empty()) {
            Some(title) => title.chars().take(200).collect(),
            None => default_title(&unit, problems),
        };
        if unit.chars().count() > 256 || title.chars().any(char::is_control) || unit.chars().any(char::is_control) {
            refusals.push("责任单位或标题含控制字符，或过长".to_string());
        }
        if !refusals.is_empty() {
            return Err(refusals);
        }
        let mut ids: Vec<i64> = problems.iter().map(|p| p.id).collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(TaskDraft {
            county: counties.first().map(|c| c.to_string()).unwrap_or_default(),
            unit,
            title,
            deadline,
            source: source.to_string(),
            problems: ids,
        })
    }
}

/// `龙川县教育局：首页存在不可用链接等 3 个问题`.
fn default_title(unit: &str, problems: &[Problem]) -> String {
    let first = problems.first().map(|p| p.code.label_zh()).unwrap_or("问题");
    match problems.len() {
        0 | 1 => format!("{unit}：{first}"),
        n => format!("{unit}：{first}等 {n} 个问题"),
    }
}

/// A task's deadline when none is given: the current quarter's 通报 deadline (never before today).
pub fn default_deadline(settings: &crate::report::Settings, today: Date) -> Date {
    let quarter = crate::report::Period::quarter_of(today);
    quarter.rectification_deadline(settings.rectification_working_days, &settings.calendar).max(today)
}

/// Largest attachment.
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;
/// Most attachments one answer may carry.
pub const MAX_ATTACHMENTS: usize = 5;

/// The kinds of file an answer may attach: by the file's first bytes, and the name's extension
/// must agree (a renamed page or program is refused, whatever it is called).
const KINDS: &[(&[&str], &[u8], &str)] = &[
    (&["pdf"], b"%PDF-", "application/pdf"),
    (&["png"], b"\x89PNG\r\n\x1a\n", "image/png"),
    (&["jpg", "jpeg"], b"\xff\xd8\xff", "image/jpeg"),
    (&["docx"], b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (&["xlsx"], b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (&["ofd"], b"PK\x03\x04", "application/ofd"),
    (&["doc"], b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/msword"),
    (&["xls"], b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/vnd.ms-excel"),
];

/// The names people may read in a refusal.
pub const ATTACHMENT_KINDS_ZH: &str = "PDF、PNG、JPG、Word（doc/docx）、Excel（xls/xlsx）、OFD";

/// A file a county attaches, checked: its safe name and its content type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl Attachment {
    /// Checks `bytes` uploaded as `name`: size, and a kind whose first bytes and extension agree.
    pub fn check(name: &str, bytes: Vec<u8>) -> Result<Attachment, String> {
        let name = safe_file_name(name);
        if bytes.is_empty() {
            return Err(format!("附件「{name}」是空文件"));
        }
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(format!("附件「{name}」超过 {} MB", MAX_ATTACHMENT_BYTES >> 20));
        }
        let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        let kind = KINDS
            .iter()
            .find(|(extensions, magic, _)| extensions.contains(&extension.as_str()) && bytes.starts_with(magic));
        match kind {
            Some((_, _, content_type)) => Ok(Attachment { name, content_type, bytes }),
            None => Err(format!("附件「{name}」的类型不被接受或与扩展名不符：可上传 {ATTACHMENT_KINDS_ZH}")),
        }
    }
}

/// The last path segment of an uploaded name, without control characters or quotes, at most
/// 100 characters ("附件" when nothing is left).
fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String =
        base.chars().filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '*' | '?' | '|')).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    let count = cleaned.chars().count();
    let cleaned = if count > 100 { cleaned.chars().skip(count - 100).collect() } else { cleaned };
    if cleaned.is_empty() { "附件".to_string() } else { cleaned }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Place;
    use xunjian_shared::wire::{FindingCode, Severity, TargetKind};

    fn problem(id: i64, county: &str, unit: &str, code: FindingCode) -> Problem {
        let place = Place {
            agent: "a".into(),
            county: county.into(),
            unit: unit.into(),
            target: "站".into(),
            kind: TargetKind::Site,
            platform: String::new(),
            column: String::new(),
            channel: String::new(),
        };
        let mut problem = Problem::opened(place, code, Severity::Error, Timestamp::UNIX_EPOCH);
        problem.id = id;
        problem
    }

    fn task(state: TaskState, since: i64, problems: &[i64]) -> Task {
        Task {
            id: 1,
            county: "龙川县".into(),
            unit: "教育局".into(),
            title: "t".into(),
            deadline: jiff::civil::date(2026, 12, 31),
            state,
            state_since: Timestamp::from_second(since).unwrap(),
            created_at: Timestamp::UNIX_EPOCH,
            created_by: "office".into(),
            source: String::new(),
            answer: None,
            returned: 0,
            verified_at: None,
            problems: problems.to_vec(),
        }
    }

    fn seen(open: bool, last_seen: i64) -> Seen {
        Seen { open, last_seen: Timestamp::from_second(last_seen).unwrap() }
    }

    #[test]
    fn the_recheck_follows_the_agents_observations() {
        let problems: BTreeMap<i64, Seen> = [(1, seen(true, 100)), (2, seen(false, 90))].into();
        // Not answered, still open: nothing to decide.
        assert_eq!(recheck(&task(TaskState::Pending, 50, &[1, 2]), &problems), None);
        // Answered at 150, not seen since: wait for the ledger to close it.
        assert_eq!(recheck(&task(TaskState::Answered, 150, &[1, 2]), &problems), None);
        // Answered at 80, seen at 100: the county said fixed too early.
        assert_eq!(recheck(&task(TaskState::Answered, 80, &[1, 2]), &problems), Some(Recheck::NotFixed(vec![1])));
        // All resolved (or forgotten by the ledger): verified, from any state, once.
        let resolved: BTreeMap<i64, Seen> = [(2, seen(false, 90))].into();
        for state in [TaskState::Pending, TaskState::Answered, TaskState::NotFixed] {
            assert_eq!(recheck(&task(state, 80, &[1, 2]), &resolved), Some(Recheck::Verified), "{state:?}");
        }
        assert_eq!(recheck(&task(TaskState::Verified, 80, &[1, 2]), &resolved), None);
        // A verified problem seen again: back to the county.
        assert_eq!(recheck(&task(TaskState::Verified, 95, &[1]), &problems), Some(Recheck::NotFixed(vec![1])));
    }

    #[test]
    fn a_draft_is_one_county_one_unit_open_problems_and_a_future_deadline() {
        let today = jiff::civil::date(2026, 12, 1);
        let deadline = jiff::civil::date(2026, 12, 31);
        let a = problem(1, "龙川县", "教育局", FindingCode::DeadLinks);
        let b = problem(2, "龙川县", "教育局", FindingCode::ColumnNotUpdated);
        let draft = TaskDraft::from_problems(&[a.clone(), b.clone()], None, None, deadline, today, "2026Q4").unwrap();
        assert_eq!((draft.county.as_str(), draft.unit.as_str()), ("龙川县", "教育局"));
        assert_eq!(draft.title, format!("教育局：{}等 2 个问题", FindingCode::DeadLinks.label_zh()));
        assert_eq!(draft.problems, vec![1, 2]);
        let other_unit = problem(3, "龙川县", "县政府办", FindingCode::DeadLinks);
        let refusals =
            TaskDraft::from_problems(&[a.clone(), other_unit.clone()], None, None, deadline, today, "").unwrap_err();
        assert!(refusals[0].contains("请指定责任单位"), "{refusals:?}");
        assert!(
            TaskDraft::from_problems(&[a.clone(), other_unit], Some("县政府办"), None, deadline, today, "").is_ok()
        );
        let mut closed = problem(4, "和平县", "水务局", FindingCode::SiteUnreachable);
        closed.status = Status::Resolved;
        let refusals =
            TaskDraft::from_problems(&[a, closed], None, None, jiff::civil::date(2026, 11, 1), today, "").unwrap_err();
        assert_eq!(refusals.len(), 4, "resolved, two counties, two units, past deadline: {refusals:?}");
    }

    #[test]
    fn attachments_are_what_they_say_they_are() {
        let pdf = b"%PDF-1.7\n...".to_vec();
        let checked = Attachment::check("C:\\Users\\王\\整改报告.pdf", pdf.clone()).unwrap();
        assert_eq!((checked.name.as_str(), checked.content_type), ("整改报告.pdf", "application/pdf"));
        assert!(Attachment::check("截图.PNG", b"\x89PNG\r\n\x1a\nrest".to_vec()).is_ok());
        assert!(Attachment::check("报告.html", b"<html><script>".to_vec()).is_err());
        assert!(Attachment::check("报告.pdf", b"<html><script>".to_vec()).is_err(), "a page named .pdf");
        assert!(Attachment::check("报告.docx", pdf).is_err(), "a PDF named .docx");
        assert!(Attachment::check("大.pdf", [b"%PDF-".as_slice(), &vec![0; MAX_ATTACHMENT_BYTES]].concat()).is_err());
        assert_eq!(safe_file_name("../../\"a\u{0}\".pdf"), "a.pdf");
        assert_eq!(safe_file_name("..."), "附件");
    }

    #[test]
    fn overdue_is_the_county_s_silence_past_the_deadline() {
        let mut t = task(TaskState::Pending, 0, &[1]);
        assert!(!t.overdue(jiff::civil::date(2026, 12, 31)));
        assert!(t.overdue(jiff::civil::date(2027, 1, 1)));
        t.state = TaskState::Answered;
        assert!(!t.overdue(jiff::civil::date(2027, 1, 1)), "answered: the agents decide now");
        t.state = TaskState::NotFixed;
        assert!(t.overdue(jiff::civil::date(2027, 1, 1)));
    }
}
