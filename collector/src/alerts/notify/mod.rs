//! Telling people: notifiers come in two shapes.
//!
//! - **Robots and webhooks** (`webhook`, `dingtalk`, `wecom`, `feishu`: one file each behind
//!   [`Notifier`]: render a message once, sign each attempt, judge the answer) take *notices*
//!   (an alert fired, was repeated, resolved). `dispatch.rs` routes each notice to the notifiers
//!   that want it; `delivery.rs` runs one task per notifier that reads its queue from the outbox
//!   ([`super::outbox`]), most urgent first, retries with backoff until a 2xx or
//!   [`GIVE_UP_AFTER`], keeps the platform's rate limit, and sums up what a window cannot carry.
//! - **Alertmanager** takes the *whole firing set* again and again, as Prometheus sends it:
//!   [`alertmanager::Sync`], on its own task.
//!
//! This file holds what the notifier files share: the trait, HTTP clients, HMAC signing and
//! reading a robot's answer.

pub mod alertmanager;
mod delivery;
pub mod dingtalk;
mod dispatch;
pub mod feishu;
pub mod webhook;
pub mod wecom;

pub use delivery::GIVE_UP_AFTER;
pub use dispatch::{Dispatcher, Outbox};

use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use super::engine::Notice;

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

/// A platform answer or a silent network gives up after this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

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
    use crate::alerts::engine::{Alert, AlertState};
    use xunjian_shared::config::{AlertSeverity, NotifierConfig, NotifierKind};

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
