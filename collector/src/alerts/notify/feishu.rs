//! Feishu group robot (飞书自定义机器人): text messages; with 签名校验 the body carries
//! `timestamp` (seconds) and `sign` = base64(HMAC-SHA256(key = timestamp + "\n" + secret, empty
//! message)) — unlike DingTalk, the secret is in the key and nothing is signed.

use jiff::Timestamp;
use serde_json::{Value, json};
use xunjian_shared::config::NotifierConfig;

use super::{Notifier, Outgoing, Rendered, hmac_sha256_base64, robot_accepted};
use crate::alerts::engine::Notice;
use crate::alerts::message;

/// Feishu's request body limit is 20 KB.
const MAX_TEXT_BYTES: usize = 18_000;

pub struct Feishu {
    url: url::Url,
    secret: Option<String>,
    status_page: Option<String>,
}

impl Feishu {
    pub fn new(config: &NotifierConfig, status_page: Option<String>) -> Feishu {
        Feishu { url: config.url.clone(), secret: config.secret.clone(), status_page }
    }
}

pub fn sign(secret: &str, timestamp_s: i64) -> String {
    hmac_sha256_base64(format!("{timestamp_s}\n{secret}").as_bytes(), b"")
}

impl Notifier for Feishu {
    fn render(&self, notices: &[Notice], fold: Option<u64>) -> Rendered {
        let packed = message::plain_message(notices, self.status_page.as_deref(), MAX_TEXT_BYTES, fold);
        Rendered {
            payload: json!({"msg_type": "text", "content": {"text": packed.text}}),
            notices: packed.notices,
            folded: packed.folded,
        }
    }

    fn request(&self, payload: &Value, now: Timestamp) -> Outgoing {
        let mut body = payload.clone();
        if let Some(secret) = &self.secret {
            let timestamp = now.as_second();
            body["timestamp"] = json!(timestamp.to_string());
            body["sign"] = json!(sign(secret, timestamp));
        }
        Outgoing { url: self.url.clone(), body: body.to_string().into_bytes() }
    }

    fn accepted(&self, status: u16, body: &str) -> Result<(), String> {
        robot_accepted(status, body, "code")
    }
}
