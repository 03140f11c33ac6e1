//! 整改 tasks in SQLite: made, answered (with attachments), re-checked; every change with its
//! author in the task's timeline and in the audit log, in one transaction.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::users::UserError;
use crate::tasks::{Answer, Attachment, Recheck, Task, TaskDraft, TaskState};

/// The author of what the re-check decides.
pub const RECHECK_AUTHOR: &str = "巡检复核";

fn write(error: rusqlite::Error) -> UserError {
    UserError::Store(StoreError::Write(error))
}

fn stamp(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Which tasks to list.
#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    /// Only these counties (a scoped caller's); None: all.
    pub within: Option<BTreeSet<String>>,
    pub county: Option<String>,
    pub state: Option<TaskState>,
    /// Only those not yet 已核实.
    pub unfinished: bool,
    /// Made at or before this (a report: tasks as of its period's end).
    pub made_until: Option<Timestamp>,
}

/// One entry of a task's timeline.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TaskEvent {
    pub id: i64,
    pub at: Timestamp,
    pub author: String,
    /// `created`, `answered`, `not_fixed`, `verified`.
    pub kind: String,
    pub detail: String,
}

/// An attachment's description (its bytes are read one at a time).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AttachmentInfo {
    pub id: i64,
    pub event_id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_at: Timestamp,
    pub uploaded_by: String,
}

const COLUMNS: &str = "id, county, unit, title, deadline, state, state_since, created_at, created_by, source,
    answer, answered_at, answered_by, returned, verified_at";

fn read_task(row: &rusqlite::Row<'_>) -> rusqlite::Result<Task> {
    let corrupt = |column: usize, what: String| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, what.into())
    };
    let deadline: String = row.get(4)?;
    let deadline: Date = deadline.parse().map_err(|_| corrupt(4, format!("deadline {deadline:?}")))?;
    let state: String = row.get(5)?;
    let state = TaskState::named(&state).ok_or_else(|| corrupt(5, format!("state {state:?}")))?;
    let answer = match (row.get::<_, Option<String>>(10)?, row.get::<_, Option<i64>>(11)?) {
        (Some(text), Some(at)) => {
            Some(Answer { text, at: stamp(at), by: row.get::<_, Option<String>>(12)?.unwrap_or_default() })
        }
        _ => None,
    };
    Ok(Task {
        id: row.get(0)?,
        county: row.get(1)?,
        unit: row.get(2)?,
        title: row.get(3)?,
        deadline,
        state,
        state_since: stamp(row.get(6)?),
        created_at: stamp(row.get(7)?),
        created_by: row.get(8)?,
        source: row.get(9)?,
        answer,
        returned: row.get(13)?,
        verified_at: row.get::<_, Option<i64>>(14)?.map(stamp),
        problems: Vec::new(),
    })
}

/// Fills each task's problem ids.
fn with_problems(connection: &Connection, mut tasks: Vec<Task>) -> Result<Vec<Task>, StoreError> {
    let mut statement = connection
        .prepare_cached("SELECT problem_id FROM task_problems WHERE task_id = ?1 ORDER BY problem_id")
        .map_err(StoreError::Write)?;
    for task in &mut tasks {
        let ids = statement.query_map([task.id], |row| row.get(0)).map_err(StoreError::Write)?;
        task.problems = ids.collect::<Result<_, _>>().map_err(StoreError::Write)?;
    }
    Ok(tasks)
}

fn event(
    connection: &Connection,
    task: i64,
    now: Timestamp,
    author: &str,
    kind: &str,
    detail: &str,
) -> Result<i64, rusqlite::Error> {
    connection.execute(
        "INSERT INTO task_events (task_id, at, author, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![task, now.as_second(), author, kind, detail],
    )?;
    Ok(connection.last_insert_rowid())
}

fn audit(
    connection: &Connection,
    now: Timestamp,
    author: &str,
    action: &str,
    detail: &str,
) -> Result<(), rusqlite::Error> {
    connection.execute(
        "INSERT INTO audit_log (at, author, action, detail) VALUES (?1, ?2, ?3, ?4)",
        params![now.as_second(), author, action, detail],
    )?;
    Ok(())
}

/// Makes a task; refuses problems another unfinished task already covers. Returns its id.
pub fn create(connection: &mut Connection, draft: &TaskDraft, author: &str, now: Timestamp) -> Result<i64, UserError> {
    let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(write)?;
    let taken = covered(&transaction, &draft.problems).map_err(UserError::Store)?;
    if let Some((problem, task)) = taken.first() {
        return Err(UserError::Refused(format!("问题 #{problem} 已在整改任务 #{task} 中，尚未核实：请在该任务中跟进")));
    }
    transaction
        .execute(
            "INSERT INTO tasks (county, unit, title, deadline, state, state_since, created_at, created_by, source)
             VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5, ?6, ?7)",
            params![
                draft.county,
                draft.unit,
                draft.title,
                draft.deadline.to_string(),
                now.as_second(),
                author,
                draft.source
            ],
        )
        .map_err(write)?;
    let id = transaction.last_insert_rowid();
    for problem in &draft.problems {
        transaction
            .execute("INSERT INTO task_problems (task_id, problem_id) VALUES (?1, ?2)", params![id, problem])
            .map_err(write)?;
    }
    let detail =
        format!("{}：{}（{} 个问题，期限 {}）", draft.county, draft.title, draft.problems.len(), draft.deadline);
    event(&transaction, id, now, author, "created", &detail).map_err(write)?;
    audit(&transaction, now, author, "task.add", &format!("#{id} {detail}")).map_err(write)?;
    transaction.commit().map_err(write)?;
    Ok(id)
}

/// Of `problems`, those an unfinished task covers, with that task.
pub fn covered(connection: &Connection, problems: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT p.problem_id, t.id FROM task_problems p JOIN tasks t ON t.id = p.task_id
             WHERE p.problem_id = ?1 AND t.state != 'verified'",
        )
        .map_err(StoreError::Write)?;
    let mut found = Vec::new();
    for problem in problems {
        if let Some(pair) = statement
            .query_row([problem], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .map_err(StoreError::Write)?
        {
            found.push(pair);
        }
    }
    Ok(found)
}

/// The tasks `filter` asks for, newest first, with their problem ids.
pub fn list(connection: &Connection, filter: &TaskFilter) -> Result<Vec<Task>, StoreError> {
    let mut clauses = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(within) = &filter.within {
        let mut marks = Vec::new();
        for county in within {
            values.push(Value::Text(county.clone()));
            marks.push(format!("?{}", values.len()));
        }
        clauses.push(if marks.is_empty() { "0".to_string() } else { format!("county IN ({})", marks.join(", ")) });
    }
    if let Some(county) = &filter.county {
        values.push(Value::Text(county.clone()));
        clauses.push(format!("county = ?{}", values.len()));
    }
    if let Some(state) = filter.state {
        values.push(Value::Text(state.as_str().to_string()));
        clauses.push(format!("state = ?{}", values.len()));
    }
    if filter.unfinished {
        values.push(Value::Text(TaskState::Verified.as_str().to_string()));
        clauses.push(format!("state <> ?{}", values.len()));
    }
    if let Some(until) = filter.made_until {
        values.push(Value::Integer(until.as_second()));
        clauses.push(format!("created_at <= ?{}", values.len()));
    }
    let clause = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    let mut statement = connection
        .prepare(&format!("SELECT {COLUMNS} FROM tasks{clause} ORDER BY id DESC"))
        .map_err(StoreError::Write)?;
    let tasks = statement
        .query_map(rusqlite::params_from_iter(values.iter()), read_task)
        .map_err(StoreError::Write)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::Write)?;
    with_problems(connection, tasks)
}

/// A task with its timeline and its attachments' descriptions.
#[derive(Clone, Debug)]
pub struct TaskRecord {
    pub task: Task,
    pub events: Vec<TaskEvent>,
    pub attachments: Vec<AttachmentInfo>,
}

/// One task, its timeline and its attachments' descriptions.
pub fn get(connection: &Connection, id: i64) -> Result<Option<TaskRecord>, StoreError> {
    let task = connection
        .query_row(&format!("SELECT {COLUMNS} FROM tasks WHERE id = ?1"), [id], read_task)
        .optional()
        .map_err(StoreError::Write)?;
    let Some(task) = task else { return Ok(None) };
    let task = with_problems(connection, vec![task])?.remove(0);
    let mut statement = connection
        .prepare_cached("SELECT id, at, author, kind, detail FROM task_events WHERE task_id = ?1 ORDER BY id")
        .map_err(StoreError::Write)?;
    let events = statement
        .query_map([id], |row| {
            Ok(TaskEvent {
                id: row.get(0)?,
                at: stamp(row.get(1)?),
                author: row.get(2)?,
                kind: row.get(3)?,
                detail: row.get(4)?,
            })
        })
        .map_err(StoreError::Write)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::Write)?;
    let mut statement = connection
        .prepare_cached(
            "SELECT id, event_id, name, content_type, size, sha256, uploaded_at, uploaded_by
             FROM task_attachments WHERE task_id = ?1 ORDER BY id",
        )
        .map_err(StoreError::Write)?;
    let attachments = statement
        .query_map([id], |row| {
            Ok(AttachmentInfo {
                id: row.get(0)?,
                event_id: row.get(1)?,
                name: row.get(2)?,
                content_type: row.get(3)?,
                size: row.get(4)?,
                sha256: row.get(5)?,
                uploaded_at: stamp(row.get(6)?),
                uploaded_by: row.get(7)?,
            })
        })
        .map_err(StoreError::Write)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::Write)?;
    Ok(Some(TaskRecord { task, events, attachments }))
}

/// Records the county's answer (整改情况反馈) and its attachments: the task is 已反馈 and the
/// re-check compares later observations with this moment. A verified task needs no answer.
pub fn answer(
    connection: &mut Connection,
    id: i64,
    text: &str,
    attachments: &[Attachment],
    author: &str,
    now: Timestamp,
) -> Result<(), UserError> {
    let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(write)?;
    let state: Option<String> = transaction
        .query_row("SELECT state FROM tasks WHERE id = ?1", [id], |row| row.get(0))
        .optional()
        .map_err(write)?;
    match state.as_deref().and_then(TaskState::named) {
        None => return Err(UserError::Refused(format!("没有整改任务 #{id}"))),
        Some(TaskState::Verified) => {
            return Err(UserError::Refused(format!("整改任务 #{id} 已核实，无需再反馈")));
        }
        Some(_) => {}
    }
    transaction
        .execute(
            "UPDATE tasks SET state = 'answered', state_since = ?2, answer = ?3, answered_at = ?2, answered_by = ?4
             WHERE id = ?1",
            params![id, now.as_second(), text, author],
        )
        .map_err(write)?;
    let names: Vec<&str> = attachments.iter().map(|a| a.name.as_str()).collect();
    let detail =
        if names.is_empty() { text.to_string() } else { format!("{text}（附件：{}）", names.join("、")) };
    let event_id = event(&transaction, id, now, author, "answered", &detail).map_err(write)?;
    for attachment in attachments {
        let digest = crate::people::sha256_hex(&attachment.bytes);
        transaction
            .execute(
                "INSERT INTO task_attachments (task_id, event_id, name, content_type, size, sha256, data, uploaded_at, uploaded_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    id,
                    event_id,
                    attachment.name,
                    attachment.content_type,
                    attachment.bytes.len() as i64,
                    digest,
                    attachment.bytes,
                    now.as_second(),
                    author
                ],
            )
            .map_err(write)?;
    }
    audit(&transaction, now, author, "task.answer", &format!("#{id}（{} 个附件）", attachments.len()))
        .map_err(write)?;
    transaction.commit().map_err(write)?;
    Ok(())
}

/// One attachment of task `task`: name, content type, bytes.
pub fn attachment(
    connection: &Connection,
    task: i64,
    id: i64,
) -> Result<Option<(String, String, Vec<u8>)>, StoreError> {
    connection
        .query_row(
            "SELECT name, content_type, data FROM task_attachments WHERE task_id = ?1 AND id = ?2",
            params![task, id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()
        .map_err(StoreError::Write)
}

/// Applies what the re-check decided for `task` (its words name the problems).
pub fn apply(connection: &mut Connection, task: &Task, decision: &Recheck, now: Timestamp) -> Result<(), StoreError> {
    let transaction =
        connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(StoreError::Write)?;
    let (kind, detail) = match decision {
        Recheck::Verified => {
            transaction
                .execute(
                    "UPDATE tasks SET state = 'verified', state_since = ?2, verified_at = ?2 WHERE id = ?1",
                    params![task.id, now.as_second()],
                )
                .map_err(StoreError::Write)?;
            ("verified", "巡检复核：所涉问题均已由采集代理的巡检确认消失".to_string())
        }
        Recheck::NotFixed(problems) => {
            transaction
                .execute(
                    "UPDATE tasks SET state = 'not_fixed', state_since = ?2, returned = returned + 1 WHERE id = ?1",
                    params![task.id, now.as_second()],
                )
                .map_err(StoreError::Write)?;
            let ids: Vec<String> = problems.iter().map(|id| format!("#{id}")).collect();
            ("not_fixed", format!("巡检复核：问题 {} 在反馈后仍被发现，整改未到位，已退回县区", ids.join("、")))
        }
    };
    event(&transaction, task.id, now, RECHECK_AUTHOR, kind, &detail).map_err(StoreError::Write)?;
    audit(&transaction, now, RECHECK_AUTHOR, &format!("task.{kind}"), &format!("#{} {detail}", task.id))
        .map_err(StoreError::Write)?;
    transaction.commit().map_err(StoreError::Write)
}

/// How long a verified task is still watched for its problems coming back.
pub const WATCH_VERIFIED: jiff::SignedDuration = jiff::SignedDuration::from_hours(90 * 24);

/// The tasks the re-check looks at: every one not verified, and those verified recently (a
/// problem may come back).
pub fn to_recheck(connection: &Connection, now: Timestamp) -> Result<Vec<Task>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM tasks WHERE state != 'verified' OR verified_at > ?1 ORDER BY id"
        ))
        .map_err(StoreError::Write)?;
    let tasks = statement
        .query_map([(now - WATCH_VERIFIED).as_second()], read_task)
        .map_err(StoreError::Write)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::Write)?;
    with_problems(connection, tasks)
}

/// Every task's count per county and state.
pub fn counts(connection: &Connection) -> Result<Vec<(String, TaskState, u64)>, StoreError> {
    let mut statement = connection
        .prepare_cached("SELECT county, state, count(*) FROM tasks GROUP BY county, state ORDER BY county, state")
        .map_err(StoreError::Write)?;
    let rows = statement
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?)))
        .map_err(StoreError::Write)?;
    let mut counts = Vec::new();
    for row in rows {
        let (county, state, count) = row.map_err(StoreError::Write)?;
        if let Some(state) = TaskState::named(&state) {
            counts.push((county, state, count.max(0) as u64));
        }
    }
    Ok(counts)
}

/// The automatic re-check: every task against its problems as the ledger has them now; what
/// changed is written (timeline, audit log) and the board of tasks returned.
pub fn recheck_all(
    connection: &mut Connection,
    store: &super::Store,
    now: Timestamp,
) -> Result<crate::tasks::Board, StoreError> {
    let mut tasks = to_recheck(connection, now)?;
    let ids: Vec<i64> =
        tasks.iter().flat_map(|task| task.problems.iter().copied()).collect::<BTreeSet<_>>().into_iter().collect();
    let problems = store.problems_by_id(&ids)?;
    let seen = problems.iter().map(|(id, problem)| (*id, crate::tasks::Seen::of(problem))).collect();
    for task in &mut tasks {
        let Some(decision) = crate::tasks::recheck(task, &seen) else { continue };
        apply(connection, task, &decision, now)?;
        tracing::info!(task = task.id, county = task.county, decision = ?decision, "整改 re-check");
        task.state_since = now;
        match decision {
            Recheck::Verified => {
                task.state = TaskState::Verified;
                task.verified_at = Some(now);
            }
            Recheck::NotFixed(_) => {
                task.state = TaskState::NotFixed;
                task.returned += 1;
            }
        }
    }
    Ok(crate::tasks::Board { tasks, counts: counts(connection)? })
}
