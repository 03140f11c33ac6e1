//! Delivering notices: one task per configured notifier, each with its own queue, rate limit and
//! retries. Notices that arrive while a notifier waits for its rate limit are batched into the
//! next message, never dropped. One file per notifier behind [`Notifier`]; Alertmanager, which
//! wants the whole set of firing alerts again and again, is [`alertmanager::Sync`].

pub mod alertmanager;
pub mod dingtalk;
pub mod feishu;
pub mod webhook;
pub mod wecom;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use xunjian_shared::config::{AlertSeverity, NotifierConfig, NotifierKind};

use super::engine::{AlertState, Notice};
use crate::metrics::CollectorCounters;

/// One HTTP request a notifier wants sent.
pub struct Outgoing {
    pub url: url::Url,
    pub body: Vec<u8>,
}

/// How a platform is spoken to: the requests for a batch of notices (built at send time, so
/// signatures carry a fresh timestamp), and whether its answer means accepted.
pub trait Notifier: Send + Sync {
    fn requests(&self, notices: &[Notice], now: Timestamp) -> Vec<Outgoing>;
    fn accepted(&self, status: u16, body: &str) -> Result<(), String>;
}

/// Attempts per message, with exponential backoff from [`FIRST_RETRY`] up to [`MAX_RETRY`].
const ATTEMPTS: u32 = 8;
const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(60);
/// A platform answer or a silent network gives up after this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Sends notices to every notifier that wants them.
#[derive(Clone, Default)]
pub struct Dispatcher {
    queues: Vec<(NotifierFilter, mpsc::UnboundedSender<Notice>)>,
    pub syncs: Vec<Arc<alertmanager::Sync>>,
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
        let severity = AlertSeverity::parse(&alert.severity).unwrap_or(AlertSeverity::Warning);
        (self.counties.is_empty() || self.counties.iter().any(|c| c == county))
            && severity >= self.min_severity
            && (self.send_resolved || alert.state != AlertState::Resolved)
    }
}

impl Dispatcher {
    /// Starts one delivery task per notifier (Alertmanager ones are synced by the engine).
    pub fn start(notifiers: &[NotifierConfig], status_page: Option<String>, counters: CollectorCounters) -> Dispatcher {
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
            for outcome in ["sent", "retried", "failed"] {
                counters.notification_touch(&config.name, outcome);
            }
            let (sender, receiver) = mpsc::unbounded_channel();
            let filter = NotifierFilter {
                counties: config.counties.clone(),
                min_severity: config.min_severity,
                send_resolved: config.send_resolved,
            };
            dispatcher.queues.push((filter, sender));
            let delivery = Delivery {
                name: config.name.clone(),
                notifier,
                rate_limit: config.rate_limit_per_minute.max(1) as usize,
                counters: counters.clone(),
            };
            tokio::spawn(delivery.run(receiver));
        }
        dispatcher
    }

    /// Queues notices for every notifier that wants them; never blocks.
    pub fn notify(&self, notices: &[Notice]) {
        for (filter, queue) in &self.queues {
            for notice in notices.iter().filter(|n| filter.wants(n)) {
                let _ = queue.send(notice.clone());
            }
        }
    }
}

struct Delivery {
    name: String,
    notifier: Box<dyn Notifier>,
    rate_limit: usize,
    counters: CollectorCounters,
}

impl Delivery {
    async fn run(self, mut queue: mpsc::UnboundedReceiver<Notice>) {
        let client = http_client();
        let mut sent_at: VecDeque<tokio::time::Instant> = VecDeque::new();
        while let Some(first) = queue.recv().await {
            let mut batch = vec![first];
            // Over the platform's limit: wait for a slot, and take whatever arrives meanwhile.
            wait_for_slot(&mut sent_at, self.rate_limit).await;
            while let Ok(more) = queue.try_recv() {
                batch.push(more);
            }
            let messages = self.notifier.requests(&batch, Timestamp::now()).len();
            for index in 0..messages {
                if index > 0 {
                    wait_for_slot(&mut sent_at, self.rate_limit).await;
                }
                sent_at.push_back(tokio::time::Instant::now());
                let delivered =
                    deliver(&client, self.notifier.as_ref(), &batch, index, &self.name, &self.counters).await;
                if !delivered {
                    tracing::error!(notifier = %self.name, alerts = batch.len(), "notification not delivered after {ATTEMPTS} attempts; the alerts stay visible at /api/v1/alerts");
                }
            }
        }
    }
}

/// Waits until fewer than `limit` messages were sent in the last minute.
async fn wait_for_slot(sent_at: &mut VecDeque<tokio::time::Instant>, limit: usize) {
    loop {
        let now = tokio::time::Instant::now();
        while sent_at.front().is_some_and(|at| now.duration_since(*at) >= Duration::from_secs(60)) {
            sent_at.pop_front();
        }
        if sent_at.len() < limit {
            return;
        }
        tokio::time::sleep_until(sent_at[0] + Duration::from_secs(60)).await;
    }
}

/// Sends the `index`-th request for `batch`, rebuilding it per attempt (fresh signatures).
async fn deliver(
    client: &Clients,
    notifier: &dyn Notifier,
    batch: &[Notice],
    index: usize,
    name: &str,
    counters: &CollectorCounters,
) -> bool {
    let mut delay = FIRST_RETRY;
    for attempt in 1..=ATTEMPTS {
        let Some(request) = notifier.requests(batch, Timestamp::now()).into_iter().nth(index) else { return true };
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
                notifier.accepted(status, &body)
            }
            // Robot URLs carry their access token: never let one into a log line.
            Err(error) => Err(error.without_url().to_string()),
        };
        match outcome {
            Ok(()) => {
                counters.notification(name, "sent");
                return true;
            }
            Err(reason) => {
                counters.notification(name, "retried");
                tracing::warn!(notifier = %name, attempt, error = %reason, "notification refused or not reachable; retrying");
                if attempt < ATTEMPTS {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_RETRY);
                }
            }
        }
    }
    counters.notification(name, "failed");
    false
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
                severity: "critical".into(),
                labels,
                description: "连续 3 次探测失败：首页无法访问：连接被拒绝".into(),
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
        let request = &robot
            .requests(&[notice(AlertState::Firing, "甲")], Timestamp::from_millisecond(1_700_000_000_000).unwrap())[0];
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
        let body = json(&ding.requests(std::slice::from_ref(&firing), now)[0]);
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
        let messages = wecom.requests(&many, now);
        assert!(messages.len() > 1, "60 alerts do not fit one WeCom message");
        for message in &messages {
            let body = json(message);
            assert_eq!(body["msgtype"], "markdown");
            assert!(body["markdown"]["content"].as_str().unwrap().len() <= wecom::MAX_CONTENT_BYTES);
        }
        let all: String =
            messages.iter().map(|m| json(m)["markdown"]["content"].as_str().unwrap().to_string()).collect();
        assert!((0..60).all(|i| all.contains(&format!("站点{i}（网站）"))), "batched, none dropped");

        let fei = feishu::Feishu::new(
            &config(NotifierKind::Feishu, "https://open.feishu.cn/open-apis/bot/v2/hook/x", Some("demo-feishu-secret")),
            page.clone(),
        );
        let body = json(&fei.requests(std::slice::from_ref(&resolved), now)[0]);
        assert_eq!((body["msg_type"].as_str(), body["timestamp"].as_str()), (Some("text"), Some("1700000000")));
        assert_eq!(body["sign"], "V3Wp8znUoP+7XezI+6p/Lp2Uyk2BLceZJJbP1KE87hk=");
        assert!(body["content"]["text"].as_str().unwrap().starts_with("【巡检恢复】网站无法访问"));

        let hook = webhook::Webhook::new(&config(NotifierKind::Webhook, "http://127.0.0.1:1/hook", None), page);
        let requests = hook.requests(&[firing, resolved], now);
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
