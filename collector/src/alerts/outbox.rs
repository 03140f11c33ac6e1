//! The notification outbox in SQLite: one row per notice and notifier, written in the same
//! transaction as the alert state that made the notice, so a crash at any moment loses none.
//! A row is marked delivered only when its receiver answered 2xx (or took it inside a summary
//! line), failed when delivery gave up; delivery tasks send what is open after a restart too,
//! most urgent first, then in the order written.
//!
//! Each notifier's queue is bounded ([`MAX_QUEUED`]): when it is full, a more urgent notice
//! takes the place of the least urgent, newest one, and what finds no place is counted in
//! `notification_folds`, to be reported by the next message's summary line
//! (另有 N 条告警，详见巡检页面) — never dropped silently.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use xunjian_shared::config::AlertSeverity;
use xunjian_shared::wire::api::NotificationView;

use super::engine::Notice;
use crate::store::StoreError;

/// Open notices kept per notifier. A robot takes 20 messages a minute; a thousand notices is
/// well beyond what a person reads before opening the status page.
pub const MAX_QUEUED: usize = 1000;

/// Delivered and given-up rows are kept this long for `/api/v1/notifications`.
const KEEP_DONE_SECONDS: i64 = 7 * 86_400;

/// One open notice.
#[derive(Clone, Debug)]
pub struct Queued {
    pub id: i64,
    pub priority: u8,
    pub notice: Notice,
}

/// What a notifier has to send.
#[derive(Debug, Default)]
pub struct Open {
    /// Most urgent first, then oldest first.
    pub notices: Vec<Queued>,
    /// Notices that found no place in the queue, for the next summary line.
    pub folded: u64,
}

/// Critical first, then warning, then the rest.
pub fn priority(notice: &Notice) -> u8 {
    match notice.alert.severity {
        AlertSeverity::Critical => 0,
        AlertSeverity::Warning => 1,
        AlertSeverity::Info => 2,
    }
}

/// Adds `notices` for `notifier` within `transaction`, keeping the queue within
/// [`MAX_QUEUED`]; returns how many were queued and how many folded.
pub fn enqueue(
    transaction: &Transaction<'_>,
    notifier: &str,
    notices: &[&Notice],
    now: Timestamp,
) -> Result<(usize, u64), StoreError> {
    let db = StoreError::Write;
    let mut open: usize = transaction
        .query_row(
            "SELECT count(*) FROM notifications WHERE notifier = ?1 AND delivered_at IS NULL AND failed_at IS NULL",
            [notifier],
            |row| row.get::<_, i64>(0),
        )
        .map_err(db)? as usize;
    let mut sorted: Vec<&Notice> = notices.to_vec();
    sorted.sort_by_key(|notice| priority(notice));
    let mut insert = transaction.prepare_cached(
        "INSERT INTO notifications (notifier, fingerprint, priority, notice, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    ).map_err(db)?;
    let (mut queued, mut folded) = (0usize, 0u64);
    // Once nothing queued is less urgent than a notice, nothing is for the ones after it either
    // (they come in order of urgency): a flood is folded without a query per notice.
    let mut no_room = false;
    for notice in sorted {
        let rank = priority(notice);
        if no_room {
            folded += 1;
            continue;
        }
        if open >= MAX_QUEUED {
            let least: Option<(i64, u8)> = transaction
                .query_row(
                    "SELECT id, priority FROM notifications
                     WHERE notifier = ?1 AND delivered_at IS NULL AND failed_at IS NULL
                     ORDER BY priority DESC, id DESC LIMIT 1",
                    [notifier],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
                .map_err(db)?;
            match least {
                Some((id, least_rank)) if least_rank > rank => {
                    transaction.execute("DELETE FROM notifications WHERE id = ?1", [id]).map_err(db)?;
                    folded += 1;
                    open -= 1;
                }
                _ => {
                    no_room = true;
                    folded += 1;
                    continue;
                }
            }
        }
        let json = serde_json::to_string(notice).map_err(|source| StoreError::Encode { what: "a notice", source })?;
        insert.execute(params![notifier, notice.alert.fingerprint, rank, json, now.as_second()]).map_err(db)?;
        open += 1;
        queued += 1;
    }
    if folded > 0 {
        transaction
            .execute(
                "INSERT INTO notification_folds (notifier, count) VALUES (?1, ?2)
             ON CONFLICT (notifier) DO UPDATE SET count = count + excluded.count",
                params![notifier, folded as i64],
            )
            .map_err(db)?;
    }
    Ok((queued, folded))
}

/// Everything `notifier` has open.
pub fn open(connection: &Connection, notifier: &str) -> rusqlite::Result<Open> {
    let mut statement = connection.prepare_cached(
        "SELECT id, priority, notice FROM notifications
         WHERE notifier = ?1 AND delivered_at IS NULL AND failed_at IS NULL ORDER BY priority, id",
    )?;
    let rows = statement
        .query_map([notifier], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?)))?;
    let mut notices = Vec::new();
    for row in rows {
        let (id, priority, json) = row?;
        match serde_json::from_str::<Notice>(&json) {
            Ok(notice) => notices.push(Queued { id, priority: priority as u8, notice }),
            Err(error) => {
                // Written by this collector; a row that no longer reads is given up, not retried.
                tracing::error!(id, error = %error, "a queued notice cannot be read; giving it up");
                connection.execute(
                    "UPDATE notifications SET failed_at = ?1 WHERE id = ?2",
                    params![Timestamp::now().as_second(), id],
                )?;
            }
        }
    }
    let folded: i64 = connection
        .query_row("SELECT count FROM notification_folds WHERE notifier = ?1", [notifier], |row| row.get(0))
        .optional()?
        .unwrap_or(0);
    Ok(Open { notices, folded: folded.max(0) as u64 })
}

/// The most urgent priority `notifier` has open, if any.
pub fn most_urgent(connection: &Connection, notifier: &str) -> rusqlite::Result<Option<u8>> {
    connection.query_row(
        "SELECT min(priority) FROM notifications WHERE notifier = ?1 AND delivered_at IS NULL AND failed_at IS NULL",
        [notifier],
        |row| row.get::<_, Option<i64>>(0).map(|p| p.map(|p| p as u8)),
    )
}

/// The receiver took a message: `sent` went in it, `folded` and `overflow` (counted folds)
/// in its summary line.
pub fn delivered(
    connection: &mut Connection,
    notifier: &str,
    sent: &[i64],
    folded: &[i64],
    overflow: u64,
    now: Timestamp,
) -> rusqlite::Result<()> {
    let transaction = connection.transaction()?;
    {
        let mut mark =
            transaction.prepare_cached("UPDATE notifications SET delivered_at = ?1, folded = ?2 WHERE id = ?3")?;
        for id in sent {
            mark.execute(params![now.as_second(), 0, id])?;
        }
        for id in folded {
            mark.execute(params![now.as_second(), 1, id])?;
        }
    }
    if overflow > 0 {
        transaction.execute(
            "UPDATE notification_folds SET count = max(0, count - ?2) WHERE notifier = ?1",
            params![notifier, overflow as i64],
        )?;
    }
    transaction.commit()
}

/// Delivery gave up on these notices.
pub fn failed(connection: &mut Connection, ids: &[i64], now: Timestamp) -> rusqlite::Result<()> {
    let transaction = connection.transaction()?;
    for id in ids {
        transaction.execute("UPDATE notifications SET failed_at = ?1 WHERE id = ?2", params![now.as_second(), id])?;
    }
    transaction.commit()
}

/// At start: open notices of notifiers no longer configured are given up (returned: how many);
/// rows done for more than a week are deleted.
pub fn tidy(connection: &Connection, configured: &[String], now: Timestamp) -> rusqlite::Result<usize> {
    let open: Vec<(i64, String)> = {
        let mut statement = connection
            .prepare("SELECT id, notifier FROM notifications WHERE delivered_at IS NULL AND failed_at IS NULL")?;
        statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<Result<_, _>>()?
    };
    let mut given_up = 0;
    for (id, notifier) in open {
        if !configured.contains(&notifier) {
            connection
                .execute("UPDATE notifications SET failed_at = ?1 WHERE id = ?2", params![now.as_second(), id])?;
            given_up += 1;
        }
    }
    connection.execute(
        "DELETE FROM notifications WHERE coalesce(delivered_at, failed_at) < ?1",
        [now.as_second() - KEEP_DONE_SECONDS],
    )?;
    Ok(given_up)
}

/// Open rows first, then the newest done ones; at most `limit`.
pub fn recent(connection: &Connection, limit: usize) -> rusqlite::Result<Vec<NotificationView>> {
    let mut statement = connection.prepare(
        "SELECT id, notifier, fingerprint, notice, created_at, delivered_at, failed_at, folded FROM notifications
         ORDER BY (delivered_at IS NULL AND failed_at IS NULL) DESC, id DESC LIMIT ?1",
    )?;
    let stamp = |seconds: i64| Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH);
    let rows = statement.query_map([limit as i64], |row| {
        let notice: String = row.get(3)?;
        let delivered_at: Option<i64> = row.get(5)?;
        let failed_at: Option<i64> = row.get(6)?;
        let folded: bool = row.get(7)?;
        Ok(NotificationView {
            id: row.get(0)?,
            notifier: row.get(1)?,
            fingerprint: row.get(2)?,
            alertname: serde_json::from_str::<Notice>(&notice).map(|n| n.alert.alertname).unwrap_or_default(),
            status: match (delivered_at, failed_at, folded) {
                (Some(_), _, true) => "folded",
                (Some(_), _, false) => "delivered",
                (None, Some(_), _) => "failed",
                (None, None, _) => "pending",
            }
            .to_string(),
            created_at: stamp(row.get(4)?),
            delivered_at: delivered_at.map(stamp),
            failed_at: failed_at.map(stamp),
        })
    })?;
    rows.collect()
}
