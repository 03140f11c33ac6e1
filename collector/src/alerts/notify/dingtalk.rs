//! DingTalk group robot (钉钉自定义机器人): markdown messages; with 加签, the URL carries
//! `timestamp` (ms) and `sign` = urlencode(base64(HMAC-SHA256(secret, timestamp + "\n" + secret))).
//! The platform takes 20 messages a minute per robot: the dispatcher batches beyond that.

use jiff::Timestamp;
use serde_json::{Value, json};
use xunjian_shared::config::NotifierConfig;

use super::{Notifier, Outgoing, Rendered, hmac_sha256_base64, robot_accepted};
use crate::alerts::engine::Notice;
use crate::alerts::message;

/// DingTalk's markdown text limit is 20,000 bytes; stay well below.
const MAX_TEXT_BYTES: usize = 18_000;

pub struct DingTalk {
    url: url::Url,
    secret: Option<String>,
    status_page: Option<String>,
}

impl DingTalk {
    pub fn new(config: &NotifierConfig, status_page: Option<String>) -> DingTalk {
        DingTalk { url: config.url.clone(), secret: config.secret.clone(), status_page }
    }
}

/// The `sign` parameter for `timestamp_ms`, before URL encoding.
pub fn sign(secret: &str, timestamp_ms: i64) -> String {
    hmac_sha256_base64(secret.as_bytes(), format!("{timestamp_ms}\n{secret}").as_bytes())
}

impl Notifier for DingTalk {
    fn render(&self, notices: &[Notice], fold: Option<u64>) -> Rendered {
        let packed = message::markdown_message(notices, self.status_page.as_deref(), MAX_TEXT_BYTES, fold);
        let title = match &notices[..packed.notices.min(notices.len())] {
            [one] if packed.folded == 0 => message::field(&message::heading(one)),
            _ => format!("巡检告警 {} 条", packed.notices as u64 + packed.folded),
        };
        Rendered {
            payload: json!({"msgtype": "markdown", "markdown": {"title": title, "text": packed.text}}),
            notices: packed.notices,
            folded: packed.folded,
        }
    }

    fn request(&self, payload: &Value, now: Timestamp) -> Outgoing {
        let mut url = self.url.clone();
        if let Some(secret) = &self.secret {
            let timestamp = now.as_millisecond();
            url.query_pairs_mut()
                .append_pair("timestamp", &timestamp.to_string())
                .append_pair("sign", &sign(secret, timestamp));
        }
        Outgoing { url, body: payload.to_string().into_bytes() }
    }

    fn accepted(&self, status: u16, body: &str) -> Result<(), String> {
        robot_accepted(status, body, "errcode")
    }
}
