//! Routing: which notifier takes which notice (counties, least severity, resolutions), one
//! delivery task per robot or webhook woken when its queue grows, and the Alertmanager syncs,
//! which take the whole firing set instead of notices.

use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::Notify;
use xunjian_shared::config::{AlertSeverity, NotifierConfig, NotifierKind};

use super::delivery::Delivery;
use super::{Notifier, alertmanager, dingtalk, feishu, webhook, wecom};
use crate::alerts::engine::{AlertState, Notice};
use crate::counters::CollectorCounters;

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
