//! Delivering notices: one task per configured notifier, reading its queue from the outbox
//! ([`super::outbox`]), most urgent first. Each message is rendered once and signed afresh per
//! attempt; it is retried with backoff until the receiver answers 2xx (then its notices are
//! marked delivered) or [`GIVE_UP_AFTER`] has passed (then failed, and counted). The
//! platform's rate limit is kept by waiting, and the last message a window allows carries a
//! summary line for everything still waiting (另有 N 条告警，详见巡检页面), so a flood costs a
//! few messages, not hours; non-critical notices leave the window's last slot to a critical
//! one. One file per notifier behind [`Notifier`]; Alertmanager, which wants the whole set of
//! firing alerts again and again, is [`alertmanager::Sync`].

pub mod alertmanager;
pub mod dingtalk;
pub mod feishu;
pub mod webhook;
pub mod wecom;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use xunjian_shared::retry::Backoff;

use jiff::Timestamp;
use rusqlite::Connection;
use serde_json::Value;
use tokio::sync::Notify;
use xunjian_shared::config::{AlertSeverity, NotifierConfig, NotifierKind};

use super::engine::{AlertState, Notice};
use super::outbox;
use crate::counters::CollectorCounters;

/// One HTTP request a notifier wants sent.
pub struct Outgoing {
    pub url: url::Url,
    pub body: Vec<u8>,
}

/// One message, rendered once: its payload, how many of the offered notices it holds (in
/// order), and how many its summary line stands for.
pub struct Rendered {
    pub payload: Value,
    pub notices: usize,
    pub folded: u64,
}

/// How a platform is spoken to: one message from the notices offered (as many as fit, in
/// order; with `fold = Some(others)` ending in a summary of the rest and `others` more), the
/// request for it at a given time (robots sign with a fresh timestamp), and whether its
/// answer means accepted.
pub trait Notifier: Send + Sync {
    fn render(&self, notices: &[Notice], fold: Option<u64>) -> Rendered;
    fn request(&self, payload: &Value, now: Timestamp) -> Outgoing;
    fn accepted(&self, status: u16, body: &str) -> Result<(), String>;
}

/// Retries back off from [`FIRST_RETRY`] up to [`MAX_RETRY`]; after [`GIVE_UP_AFTER`] a message
/// is given up (its alert, if still firing, is notified again at its repeat interval).
/// Retries of one message: doubling from 1 s, at most a minute apart.
const RETRY: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(3600);
/// A platform answer or a silent network gives up after this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How often a waiting delivery task looks at its queue even without being woken.
const POLL_EVERY: Duration = Duration::from_secs(30);

/// The outbox's database connection, shared by the evaluation loop and the delivery tasks.
pub type Outbox = Arc<Mutex<Connection>>;

/// Routes notices to the notifiers that want them and wakes their delivery tasks.
#[derive(Clone, Default)]
pub struct Dispatcher {
    routes: Vec<Route>,
    pub syncs: Vec<Arc<alertmanager::Sync>>,
}

#[derive(Clone)]
struct Route {
    name: String,
    filter: NotifierFilter,
    wake: Arc<Notify>,
}

/// Which notices a notifier takes.
#[derive(Clone)]
struct NotifierFilter {
    counties: Vec<String>,
    min_severity: AlertSeverity,
    send_resolved: bool,
}

impl NotifierFilter {
    fn wants(&self, notice: &Notice) -> bool {
        let alert = &notice.alert;
        let county = alert.labels.get("county").map(String::as_str).unwrap_or("");
        let severity = alert.severity;
        (self.counties.is_empty() || self.counties.iter().any(|c| c == county))
            && severity >= self.min_severity
            && (self.send_resolved || alert.state != AlertState::Resolved)
    }
}

impl Dispatcher {
    /// Starts one delivery task per notifier (Alertmanager ones are synced by their own tasks),
    /// each sending what its queue in `outbox` holds, left over from before a restart too.
    pub fn start(
        notifiers: &[NotifierConfig],
        status_page: Option<String>,
        counters: CollectorCounters,
        outbox: Outbox,
    ) -> Dispatcher {
        let mut dispatcher = Dispatcher::default();
        for config in notifiers {
            if matches!(config.kind, NotifierKind::Dingtalk | NotifierKind::Feishu) && config.secret.is_none() {
                tracing::warn!(notifier = %config.name, "robot without a signing secret (加签): anyone who learns its URL can post to the group");
            }
            let notifier: Box<dyn Notifier> = match config.kind {
                NotifierKind::Webhook => Box::new(webhook::Webhook::new(config, status_page.clone())),
                NotifierKind::Dingtalk => Box::new(dingtalk::DingTalk::new(config, status_page.clone())),
                NotifierKind::Wecom => Box::new(wecom::WeCom::new(config, status_page.clone())),
                NotifierKind::Feishu => Box::new(feishu::Feishu::new(config, status_page.clone())),
                NotifierKind::Alertmanager => {
                    dispatcher.syncs.push(Arc::new(alertmanager::Sync::new(
                        config,
                        status_page.clone(),
                        counters.clone(),
                    )));
                    continue;
                }
            };
            // Every outcome exists from the start, so dashboards and rates work before the first.
            counters.notifier_touch(&config.name);
            let wake = Arc::new(Notify::new());
            dispatcher.routes.push(Route {
                name: config.name.clone(),
                filter: NotifierFilter {
                    counties: config.counties.clone(),
                    min_severity: config.min_severity,
                    send_resolved: config.send_resolved,
                },
                wake: wake.clone(),
            });
            let delivery = Delivery {
                name: config.name.clone(),
                notifier,
                rate_limit: config.rate_limit_per_minute.max(1) as usize,
                counters: counters.clone(),
                outbox: outbox.clone(),
                wake,
            };
            tokio::spawn(delivery.run());
        }
        dispatcher
    }

    /// For each notifier, the positions in `notices` of those it takes.
    pub fn route(&self, notices: &[Notice]) -> Vec<(String, Vec<usize>)> {
        self.routes
            .iter()
            .map(|route| {
                let taken = notices.iter().enumerate().filter(|(_, n)| route.filter.wants(n)).map(|(i, _)| i).collect();
                (route.name.clone(), taken)
            })
            .filter(|(_, taken): &(String, Vec<usize>)| !taken.is_empty())
            .collect()
    }

    /// Wakes the delivery tasks of `names` (their queues grew).
    pub fn wake(&self, names: &[String]) {
        for route in self.routes.iter().filter(|route| names.contains(&route.name)) {
            route.wake.notify_one();
        }
    }
}

struct Delivery {
    name: String,
    notifier: Box<dyn Notifier>,
    rate_limit: usize,
    counters: CollectorCounters,
    outbox: Outbox,
    wake: Arc<Notify>,
}

/// How one message ended.
enum Sent {
    Delivered,
    GivenUp,
    /// Put back after a failed attempt: a critical notice is waiting and goes first.
    Deferred,
}

impl Delivery {
    async fn run(self) {
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

/// Notifier traffic follows the system's proxy settings, except to loopback (tests, a local
/// Alertmanager), which never goes through a proxy.
pub struct Clients {
    proxied: reqwest::Client,
    direct: reqwest::Client,
}

impl Clients {
    pub fn for_url(&self, url: &url::Url) -> &reqwest::Client {
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name == "localhost",
            None => false,
        };
        if loopback { &self.direct } else { &self.proxied }
    }
}

pub fn http_client() -> Clients {
    let builder = || {
        reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("xunjian-collector/", env!("CARGO_PKG_VERSION")))
    };
    Clients { proxied: builder().build().unwrap_or_default(), direct: builder().no_proxy().build().unwrap_or_default() }
}

/// HMAC-SHA256 of `message` under `key`, base64 (both robots' signatures are built from it).
pub fn hmac_sha256_base64(key: &[u8], message: &[u8]) -> String {
    use base64::Engine as _;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, message).as_ref())
}

/// A robot's JSON answer: `errcode` (DingTalk, WeCom) or `code` (Feishu) 0 means accepted.
pub fn robot_accepted(status: u16, body: &str, code_key: &str) -> Result<(), String> {
    if !(200..300).contains(&status) {
        return Err(format!("HTTP {status}: {}", body.chars().take(200).collect::<String>()));
    }
    let json: serde_json::Value =
        serde_json::from_str(body).map_err(|_| format!("not JSON: {}", body.chars().take(200).collect::<String>()))?;
    match json.get(code_key).or(json.get("StatusCode")).and_then(|c| c.as_i64()) {
        Some(0) => Ok(()),
        Some(code) => Err(format!(
            "{code_key} {code}: {}",
            json.get("errmsg").or(json.get("msg")).and_then(|m| m.as_str()).unwrap_or("")
        )),
        None => Err(format!("no {code_key} in {}", body.chars().take(200).collect::<String>())),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::alerts::engine::Alert;

    fn notice(state: AlertState, target: &str) -> Notice {
        let mut labels = BTreeMap::new();
        for (key, value) in [
            ("alertname", "XunjianSiteDown"),
            ("severity", "critical"),
            ("county", "龙川县"),
            ("unit", "龙川县教育局"),
            ("target", target),
            ("kind", "site"),
        ] {
            labels.insert(key.to_string(), value.to_string());
        }
        let at = Timestamp::from_second(1_790_000_000).unwrap();
        Notice {
            alert: Alert {
                fingerprint: format!("fp{target}"),
                alertname: "XunjianSiteDown".into(),
                title: "网站无法访问".into(),
                severity: xunjian_shared::config::AlertSeverity::Critical,
                labels,
                description: "连续 3 次探测失败（无法建立连接）".into(),
                detail: "首页无法访问：连接被拒绝".into(),
                state,
                active_at: at,
                for_seconds: 0,
                fired_at: Some(at),
                resolved_at: (state == AlertState::Resolved).then_some(at + jiff::SignedDuration::from_mins(5)),
                notified_at: Some(at),
                resolved_notified: false,
                silenced_by: None,
            },
            repeat: false,
        }
    }

    fn config(kind: NotifierKind, url: &str, secret: Option<&str>) -> NotifierConfig {
        NotifierConfig {
            name: "值班群".into(),
            kind,
            url: url::Url::parse(url).unwrap(),
            secret: secret.map(String::from),
            counties: Vec::new(),
            min_severity: AlertSeverity::Info,
            rate_limit_per_minute: 20,
            send_resolved: true,
        }
    }

    fn json(outgoing: &Outgoing) -> serde_json::Value {
        serde_json::from_slice(&outgoing.body).unwrap()
    }

    /// Every message `notifier` makes of `notices`, sent one after another as delivery does.
    fn messages(notifier: &dyn Notifier, notices: &[Notice], now: Timestamp) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let mut rest = notices;
        while !rest.is_empty() {
            let rendered = notifier.render(rest, None);
            assert!(rendered.notices > 0, "every message holds at least one notice");
            out.push(notifier.request(&rendered.payload, now));
            rest = &rest[rendered.notices..];
        }
        out
    }

    /// Vectors computed with the platforms' documented reference code (Python `hmac`/`base64`
    /// exactly as in DingTalk's 加签 and Feishu's 签名校验 pages).
    #[test]
    fn signatures_match_the_documented_algorithms() {
        let dingtalk_secret = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab";
        assert_eq!(dingtalk::sign(dingtalk_secret, 1_700_000_000_000), "tnIJJgshG0BPUVcy7l6X8vjNKt/qD9CgBEiifXvZ9ic=");
        assert_eq!(feishu::sign("demo-feishu-secret", 1_700_000_000), "V3Wp8znUoP+7XezI+6p/Lp2Uyk2BLceZJJbP1KE87hk=");
        // DingTalk's sign goes URL-encoded into the query, as its reference code's quote_plus does.
        let robot = dingtalk::DingTalk::new(
            &config(
                NotifierKind::Dingtalk,
                "https://oapi.dingtalk.com/robot/send?access_token=abc",
                Some(dingtalk_secret),
            ),
            None,
        );
        let request = &messages(
            &robot,
            &[notice(AlertState::Firing, "甲")],
            Timestamp::from_millisecond(1_700_000_000_000).unwrap(),
        )[0];
        assert_eq!(
            request.url.as_str(),
            "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign=tnIJJgshG0BPUVcy7l6X8vjNKt%2FqD9CgBEiifXvZ9ic%3D"
        );
    }

    #[test]
    fn payloads_follow_the_documented_formats() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let firing = notice(AlertState::Firing, "龙川县教育局");
        let resolved = notice(AlertState::Resolved, "和平县水务局");
        let page = Some("http://collector.example/".to_string());

        let ding = dingtalk::DingTalk::new(
            &config(NotifierKind::Dingtalk, "https://oapi.dingtalk.com/robot/send?access_token=x", None),
            page.clone(),
        );
        let body = json(&messages(&ding, std::slice::from_ref(&firing), now)[0]);
        assert_eq!(body["msgtype"], "markdown");
        let text = body["markdown"]["text"].as_str().unwrap();
        for part in [
            "【巡检告警·严重】网站无法访问",
            "县区：龙川县",
            "责任单位：龙川县教育局",
            "龙川县教育局（网站）",
            "开始时间：2026-09-21 22:13:20",
            "http://collector.example/",
        ] {
            assert!(text.contains(part), "{part} missing from {text}");
        }
        assert!(body["markdown"]["title"].as_str().unwrap().contains("网站无法访问"));

        let wecom = wecom::WeCom::new(
            &config(NotifierKind::Wecom, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", None),
            page.clone(),
        );
        let many: Vec<Notice> = (0..60).map(|i| notice(AlertState::Firing, &format!("站点{i}"))).collect();
        let sent = messages(&wecom, &many, now);
        assert!(sent.len() > 1, "60 alerts do not fit one WeCom message");
        for message in &sent {
            let body = json(message);
            assert_eq!(body["msgtype"], "markdown");
            assert!(body["markdown"]["content"].as_str().unwrap().len() <= wecom::MAX_CONTENT_BYTES);
        }
        let all: String = sent.iter().map(|m| json(m)["markdown"]["content"].as_str().unwrap().to_string()).collect();
        assert!((0..60).all(|i| all.contains(&format!("站点{i}（网站）"))), "batched, none dropped");
        // The last message a window allows sums up the rest.
        let folded = wecom.render(&many, Some(500));
        let content = folded.payload["markdown"]["content"].as_str().unwrap();
        assert!(folded.notices < 60 && content.len() <= wecom::MAX_CONTENT_BYTES);
        assert_eq!(folded.folded, (60 - folded.notices) as u64 + 500);
        assert!(content.ends_with(&format!("**另有 {} 条告警，详见巡检页面**", folded.folded)), "{content}");

        let fei = feishu::Feishu::new(
            &config(NotifierKind::Feishu, "https://open.feishu.cn/open-apis/bot/v2/hook/x", Some("demo-feishu-secret")),
            page.clone(),
        );
        let body = json(&messages(&fei, std::slice::from_ref(&resolved), now)[0]);
        assert_eq!((body["msg_type"].as_str(), body["timestamp"].as_str()), (Some("text"), Some("1700000000")));
        assert_eq!(body["sign"], "V3Wp8znUoP+7XezI+6p/Lp2Uyk2BLceZJJbP1KE87hk=");
        assert!(body["content"]["text"].as_str().unwrap().starts_with("【巡检恢复】网站无法访问"));

        let hook = webhook::Webhook::new(&config(NotifierKind::Webhook, "http://127.0.0.1:1/hook", None), page);
        let requests = messages(&hook, &[firing, resolved], now);
        assert_eq!(requests.len(), 2, "firing and resolved in separate payloads");
        let body = json(&requests[0]);
        assert_eq!(
            (body["version"].as_str(), body["status"].as_str(), body["receiver"].as_str()),
            (Some("4"), Some("firing"), Some("值班群"))
        );
        assert_eq!(body["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
        assert_eq!(body["alerts"][0]["labels"]["alertname"], "XunjianSiteDown");
        assert_eq!(body["commonLabels"]["county"], "龙川县");
        assert!(body["alerts"][0]["annotations"]["summary"].as_str().unwrap().contains("网站无法访问"));
        assert_eq!(json(&requests[1])["alerts"][0]["status"], "resolved");
        assert_eq!(body["truncatedAlerts"], 0);
    }

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

    #[test]
    fn robot_answers() {
        assert!(robot_accepted(200, r#"{"errcode":0,"errmsg":"ok"}"#, "errcode").is_ok());
        assert!(
            robot_accepted(200, r#"{"errcode":130101,"errmsg":"send too fast"}"#, "errcode")
                .unwrap_err()
                .contains("130101")
        );
        assert!(robot_accepted(200, r#"{"code":0,"msg":"success"}"#, "code").is_ok());
        assert!(robot_accepted(200, r#"{"StatusCode":0,"StatusMessage":"success"}"#, "code").is_ok());
        assert!(robot_accepted(200, r#"{"code":19021,"msg":"sign match fail"}"#, "code").is_err());
        assert!(robot_accepted(502, "bad gateway", "errcode").is_err());
    }
}
