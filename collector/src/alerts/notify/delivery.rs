//! One robot's or webhook's delivery: read its queue from the outbox, most urgent first; render
//! each message once and sign it per attempt; retry with backoff until a 2xx (delivered) or
//! [`GIVE_UP_AFTER`] (failed, counted); keep the platform's rate limit by waiting, with a
//! summary line for what a window cannot carry and the window's last slot kept for a critical
//! notice.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::Connection;
use serde_json::Value;
use tokio::sync::Notify;
use xunjian_shared::retry::Backoff;

use super::dispatch::Outbox;
use super::{Clients, Notifier, http_client};
use crate::alerts::engine::Notice;
use crate::alerts::outbox;
use crate::counters::CollectorCounters;

/// Retries of one message: doubling from 1 s, at most a minute apart.
const RETRY: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
/// After this a message is given up (its alert, if still firing, is notified again at its
/// repeat interval).
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(3600);
/// How often a waiting delivery task looks at its queue even without being woken.
const POLL_EVERY: Duration = Duration::from_secs(30);

/// One notifier's delivery task and what it needs.
pub(super) struct Delivery {
    pub(super) name: String,
    pub(super) notifier: Box<dyn Notifier>,
    pub(super) rate_limit: usize,
    pub(super) counters: CollectorCounters,
    pub(super) outbox: Outbox,
    pub(super) wake: Arc<Notify>,
}

/// How one message ended.
enum Sent {
    Delivered,
    GivenUp,
    /// Put back after a failed attempt: a critical notice is waiting and goes first.
    Deferred,
}

impl Delivery {
    pub(super) async fn run(self) {
        let client = http_client();
        let mut sent_at: VecDeque<tokio::time::Instant> = VecDeque::new();
        loop {
            let open = match self.read().await {
                Some(open) => open,
                None => {
                    self.sleep_or_wake(POLL_EVERY).await;
                    continue;
                }
            };
            self.counters.notifications_pending(&self.name, open.notices.len() as u64 + open.folded);
            if open.notices.is_empty() && open.folded == 0 {
                self.sleep_or_wake(POLL_EVERY).await;
                continue;
            }
            // Non-critical notices leave the window's last slot to a critical one.
            let urgent = open.notices.first().is_some_and(|q| q.priority == 0);
            let reserve = if urgent || self.rate_limit < 2 { 0 } else { 1 };
            let free = free_slots(&mut sent_at, self.rate_limit);
            if free <= reserve {
                // Wait for a slot, or for a more urgent notice to arrive.
                let until = sent_at.front().map(|at| *at + Duration::from_secs(60));
                match until {
                    Some(until) => {
                        tokio::select! {
                            _ = tokio::time::sleep_until(until) => {}
                            _ = self.wake.notified() => {}
                        }
                    }
                    None => tokio::task::yield_now().await,
                }
                continue;
            }
            // The last message this window allows sums up the rest; so does a message sent
            // only to report what a full queue folded.
            let fold = (free - reserve == 1 || open.notices.is_empty()).then_some(open.folded);
            let offered: Vec<Notice> = open.notices.iter().map(|q| q.notice.clone()).collect();
            let rendered = self.notifier.render(&offered, fold);
            let sent: Vec<i64> = open.notices.iter().take(rendered.notices).map(|q| q.id).collect();
            let folded: Vec<i64> = if rendered.folded > 0 {
                open.notices.iter().skip(rendered.notices).map(|q| q.id).collect()
            } else {
                Vec::new()
            };
            let overflow = if rendered.folded > 0 { open.folded } else { 0 };
            match self.send(&client, &rendered.payload, urgent, &mut sent_at).await {
                Sent::Deferred => continue,
                Sent::Delivered => {
                    self.counters.notifications_folded(&self.name, folded.len() as u64 + overflow);
                    let name = self.name.clone();
                    self.mark(move |connection, now| {
                        outbox::delivered(connection, &name, &sent, &folded, overflow, now)
                    })
                    .await;
                }
                Sent::GivenUp => {
                    let ids: Vec<i64> = sent.iter().chain(&folded).copied().collect();
                    self.counters.notifications_failed(&self.name, ids.len() as u64);
                    tracing::error!(notifier = %self.name, notices = ids.len(), "notification not delivered within {} min; given up, the alerts stay visible at /api/v1/alerts", GIVE_UP_AFTER.as_secs() / 60);
                    self.mark(move |connection, now| outbox::failed(connection, &ids, now)).await;
                }
            }
        }
    }

    async fn sleep_or_wake(&self, at_most: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(at_most) => {}
            _ = self.wake.notified() => {}
        }
    }

    /// The notifier's open notices, from the outbox.
    async fn read(&self) -> Option<outbox::Open> {
        let (outbox, name) = (self.outbox.clone(), self.name.clone());
        let read = tokio::task::spawn_blocking(move || {
            let connection = outbox.lock().unwrap_or_else(|p| p.into_inner());
            outbox::open(&connection, &name)
        })
        .await;
        match read {
            Ok(Ok(open)) => Some(open),
            Ok(Err(error)) => {
                tracing::error!(notifier = %self.name, error = %error, "cannot read the notification outbox; retrying");
                None
            }
            Err(error) => {
                tracing::error!(notifier = %self.name, error = %error, "outbox reader failed");
                None
            }
        }
    }

    /// Whether a critical notice waits in this notifier's queue.
    async fn critical_waiting(&self) -> bool {
        let (outbox, name) = (self.outbox.clone(), self.name.clone());
        tokio::task::spawn_blocking(move || {
            let connection = outbox.lock().unwrap_or_else(|p| p.into_inner());
            outbox::most_urgent(&connection, &name)
        })
        .await
        .is_ok_and(|most| matches!(most, Ok(Some(0))))
    }

    /// Records an outcome in the outbox.
    async fn mark(&self, change: impl FnOnce(&mut Connection, Timestamp) -> rusqlite::Result<()> + Send + 'static) {
        let outbox = self.outbox.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut connection = outbox.lock().unwrap_or_else(|p| p.into_inner());
            change(&mut connection, Timestamp::now())
        })
        .await;
        if !matches!(result, Ok(Ok(()))) {
            // A notice marked neither way is sent again: at least once, never lost.
            tracing::error!(notifier = %self.name, "cannot record a delivery in the outbox; it may be sent again");
        }
    }

    /// Sends one rendered message until the receiver takes it or [`GIVE_UP_AFTER`] passes; a
    /// message without critical notices steps aside after a failed attempt when a critical one
    /// waits (a receiver refusing one message must not hold back a site that is down).
    async fn send(
        &self,
        client: &Clients,
        payload: &Value,
        urgent: bool,
        sent_at: &mut VecDeque<tokio::time::Instant>,
    ) -> Sent {
        let started = tokio::time::Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            wait_for_slot(sent_at, self.rate_limit).await;
            sent_at.push_back(tokio::time::Instant::now());
            let request = self.notifier.request(payload, Timestamp::now());
            let outcome = match client
                .for_url(&request.url)
                .post(request.url.clone())
                .header("content-type", "application/json")
                .body(request.body)
                .send()
                .await
            {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body = response.text().await.unwrap_or_default();
                    self.notifier.accepted(status, &body)
                }
                // Robot URLs carry their access token: never let one into a log line.
                Err(error) => Err(error.without_url().to_string()),
            };
            match outcome {
                Ok(()) => {
                    self.counters.notification(&self.name, "sent");
                    return Sent::Delivered;
                }
                Err(reason) => {
                    let delay = RETRY.jittered(attempt);
                    if started.elapsed() + delay > GIVE_UP_AFTER {
                        self.counters.notification(&self.name, "failed");
                        return Sent::GivenUp;
                    }
                    self.counters.notification(&self.name, "retried");
                    tracing::warn!(notifier = %self.name, attempt, error = %reason, "notification refused or not reachable; retrying");
                    if !urgent && self.critical_waiting().await {
                        return Sent::Deferred;
                    }
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

/// Messages that may still be sent in the current minute.
fn free_slots(sent_at: &mut VecDeque<tokio::time::Instant>, limit: usize) -> usize {
    let now = tokio::time::Instant::now();
    while sent_at.front().is_some_and(|at| now.duration_since(*at) >= Duration::from_secs(60)) {
        sent_at.pop_front();
    }
    limit.saturating_sub(sent_at.len())
}

/// Waits until fewer than `limit` messages were sent in the last minute.
async fn wait_for_slot(sent_at: &mut VecDeque<tokio::time::Instant>, limit: usize) {
    while free_slots(sent_at, limit) == 0 {
        tokio::time::sleep_until(sent_at[0] + Duration::from_secs(60)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_rate_limit_waits_for_a_slot_instead_of_dropping() {
        let now = tokio::time::Instant::now();
        // 20 sent in the last minute, the oldest 59.8 s ago: the 21st waits for it to age out.
        let mut sent: VecDeque<tokio::time::Instant> =
            (0..20).map(|i| now - Duration::from_millis(59_800 - i * 100)).collect();
        wait_for_slot(&mut sent, 21).await;
        assert!(now.elapsed() < Duration::from_millis(50), "below the limit: no wait");
        wait_for_slot(&mut sent, 20).await;
        let waited = now.elapsed();
        assert!(waited >= Duration::from_millis(190) && waited < Duration::from_secs(2), "waited {waited:?}");
        assert_eq!(sent.len(), 19, "the aged-out send left the window");
    }
}
