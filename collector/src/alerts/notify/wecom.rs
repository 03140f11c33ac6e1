//! WeCom group robot (企业微信群机器人): markdown messages to the webhook URL with its `key`;
//! content at most 4,096 bytes, 20 messages a minute.

use jiff::Timestamp;
use serde_json::{Value, json};
use xunjian_shared::config::NotifierConfig;

use super::{Notifier, Outgoing, Rendered, robot_accepted};
use crate::alerts::engine::Notice;
use crate::alerts::message;

/// WeCom refuses markdown content over 4,096 bytes.
pub const MAX_CONTENT_BYTES: usize = 4096;

pub struct WeCom {
    url: url::Url,
    status_page: Option<String>,
}

impl WeCom {
    pub fn new(config: &NotifierConfig, status_page: Option<String>) -> WeCom {
        WeCom { url: config.url.clone(), status_page }
    }
}

impl Notifier for WeCom {
    fn render(&self, notices: &[Notice], fold: Option<u64>) -> Rendered {
        let packed = message::markdown_message(notices, self.status_page.as_deref(), MAX_CONTENT_BYTES, fold);
        Rendered {
            payload: json!({"msgtype": "markdown", "markdown": {"content": packed.text}}),
            notices: packed.notices,
            folded: packed.folded,
        }
    }

    fn request(&self, payload: &Value, _now: Timestamp) -> Outgoing {
        Outgoing { url: self.url.clone(), body: payload.to_string().into_bytes() }
    }

    fn accepted(&self, status: u16, body: &str) -> Result<(), String> {
        robot_accepted(status, body, "errcode")
    }
}
