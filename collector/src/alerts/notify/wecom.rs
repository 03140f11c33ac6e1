//! WeCom group robot (企业微信群机器人): markdown messages to the webhook URL with its `key`;
//! content at most 4,096 bytes, 20 messages a minute.

use jiff::Timestamp;
use serde_json::json;
use xunjian_shared::config::NotifierConfig;

use super::{Notifier, Outgoing, robot_accepted};
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
    fn requests(&self, notices: &[Notice], _now: Timestamp) -> Vec<Outgoing> {
        message::markdown_messages(notices, self.status_page.as_deref(), MAX_CONTENT_BYTES)
            .into_iter()
            .map(|content| Outgoing {
                url: self.url.clone(),
                body: json!({"msgtype": "markdown", "markdown": {"content": content}}).to_string().into_bytes(),
            })
            .collect()
    }

    fn accepted(&self, status: u16, body: &str) -> Result<(), String> {
        robot_accepted(status, body, "errcode")
    }
}
