//! 不可用链接: the links of a home page must open. Read in the home page's audit (hours apart,
//! not every probe): at most `limits.dead_links_max` links, in page order, each once per round,
//! through the per-host limits; HEAD first, GET when a server refuses HEAD.

use xunjian_shared::wire::{CheckKind, DeadLink, Finding, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Role, Subject};
use crate::extract::links::page_links;

/// A link gets this long; a visitor clicking it would not wait longer either.
const LINK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub struct DeadLinks;

impl Check for DeadLinks {
    fn kind(&self) -> CheckKind {
        CheckKind::DeadLinks
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        matches!(subject.role, Role::Audit { .. })
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Role::Audit { dead_links_max, .. } = subject.role else { return };
            let Some((document, base)) = cx.subject_document(subject).await else { return };
            let links = page_links(&document, &base, dead_links_max);
            let checks = links.iter().map(|link| cx.link(&link.url, LINK_TIMEOUT.min(subject.timeout)));
            // All at once; the fetcher's per-host limits keep the pace polite.
            let outcomes = futures_util::future::join_all(checks).await;
            let dead: Vec<DeadLink> = links
                .iter()
                .zip(outcomes)
                .filter(|(_, outcome)| outcome.is_dead())
                .map(|(link, outcome)| DeadLink {
                    url: link.url.to_string(),
                    text: link.text.clone(),
                    status: outcome.status,
                    failure: outcome.failure,
                })
                .collect();
            if !dead.is_empty() {
                let shown: Vec<String> = dead
                    .iter()
                    .take(5)
                    .map(|d| {
                        let why = d
                            .status
                            .map(|s| format!("HTTP {s}"))
                            .or(d.failure.map(|f| f.label_zh().to_string()))
                            .unwrap_or_default();
                        format!("「{}」{}（{why}）", d.text, d.url)
                    })
                    .collect();
                let more = if dead.len() > 5 { format!(" 等 {} 个", dead.len()) } else { String::new() };
                observation.findings.push(Finding::new(
                    FindingCode::DeadLinks,
                    Severity::Error,
                    format!("首页 {} 个链接中有 {} 个无法打开：{}{more}", links.len(), dead.len(), shown.join("；")),
                ));
            }
            observation.audit.get_or_insert_default().dead_links = Some(dead);
        })
    }
}
