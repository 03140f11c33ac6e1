//! 内容不更新 (new media): an account's newest post must be within its limit (14 days: "监测时间
//! 点前2周内无更新" → veto). Posts come from the account's source: a feed, a JSON API or an HTML
//! page. Feeds are not always newest-first: the newest date wins, not the first item.

use jiff::Timestamp;
use xunjian_shared::config::AccountSource;
use xunjian_shared::time::days_between;
use xunjian_shared::time::parse::post_date;
use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity};

use super::{AccountSubject, BoxFuture, Check, Ctx, Role, Subject, age_phrase};
use crate::extract::feed::{Post, read_feed};
use crate::extract::html::Document;
use crate::extract::json_api::read_api;
use crate::extract::select::SelectorList;

pub struct AccountUpdate;

/// What an account's source shows.
pub(crate) struct AccountReading {
    pub posts: Vec<Post>,
    pub comments_open: Option<bool>,
}

/// Fetches and reads an account's source; Err says, in Chinese, why it could not be read.
pub(crate) async fn read_account(
    cx: &Ctx,
    subject: &Subject,
    account: &AccountSubject,
) -> Result<AccountReading, String> {
    let fetched = cx.page(&subject.url, subject.timeout).await;
    let Some(page) = fetched.ok_page() else {
        return Err(format!("账号内容无法读取：{}", super::unreachable_reason(&fetched)));
    };
    match &account.source {
        AccountSource::Feed { .. } => read_feed(&page.text, cx.now)
            .map(|posts| AccountReading { posts, comments_open: None })
            .map_err(|err| format!("订阅源无法解析：{err}")),
        AccountSource::Json { items, date, comments, .. } => {
            read_api(&page.text, items, date, comments.as_deref(), cx.now)
                .map(|api| AccountReading { posts: api.posts, comments_open: api.comments_open })
                .map_err(|err| format!("接口内容无法解析：{err}"))
        }
        AccountSource::Page { .. } => {
            let Some(document) = cx.document(&subject.url, subject.timeout).await else {
                return Err("账号页面无法读取".into());
            };
            let Some((items, dates, comments)) = &account.selectors else {
                return Err("账号页面没有配置选择器".into());
            };
            let posts = page_posts(&document, items, dates.as_ref(), cx.now);
            let comments_open =
                comments.as_ref().map(|selector| !selector.select(&document, Document::ROOT).is_empty());
            Ok(AccountReading { posts, comments_open })
        }
    }
}

/// Posts of an account's HTML page: each element `items` picks, dated by the first text the
/// date selector picks inside it (or, without one, its first short text that reads as a date)
/// in any form platforms show, relative ones (3小时前, 昨天 12:30) included.
fn page_posts(document: &Document, items: &SelectorList, dates: Option<&SelectorList>, now: Timestamp) -> Vec<Post> {
    let today = xunjian_shared::time::china_today(now);
    let readable = |text: &str| post_date(text, now).filter(|published| published.date <= today);
    items
        .select(document, Document::ROOT)
        .into_iter()
        .map(|item| {
            let published = match dates {
                Some(selector) => {
                    selector.select(document, item).into_iter().find_map(|node| readable(&document.text(node)))
                }
                None => {
                    let mut found = None;
                    document.visible_text_nodes(item, |text| {
                        if found.is_none() && text.trim().chars().count() <= 30 {
                            found = readable(text);
                        }
                    });
                    found
                }
            };
            let link = document
                .descendants(item)
                .find_map(|node| document.element(node).filter(|e| e.name == "a").and_then(|e| e.attr("href")))
                .map(String::from);
            Post { title: document.text(item).trim().chars().take(80).collect(), link, published }
        })
        .collect()
}

impl Check for AccountUpdate {
    fn kind(&self) -> CheckKind {
        CheckKind::AccountUpdate
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        matches!(subject.role, Role::Account(_))
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject) -> BoxFuture<'a, Observation> {
        Box::pin(async move {
            let mut observation = subject.observation(self.kind(), cx);
            let Role::Account(account) = &subject.role else { return observation };
            observation.fetch = Some(cx.page(&subject.url, subject.timeout).await.record.clone());
            observation.max_age_days = Some(account.max_age_days);
            let reading = match read_account(cx, subject, account).await {
                Ok(reading) => reading,
                Err(why) => {
                    observation.findings.push(Finding::new(FindingCode::AccountUnreachable, Severity::Error, why));
                    observation.settle();
                    return observation;
                }
            };
            let dated: Vec<_> =
                reading.posts.iter().filter_map(|post| post.published).filter(|p| p.date <= cx.today).collect();
            observation.items = Some(dated.len() as u32);
            match dated.iter().max() {
                Some(newest) => {
                    let age_days = days_between(newest.date, cx.today);
                    observation.last_update = Some(*newest);
                    observation.age_days = Some(age_days);
                    if age_days > i64::from(account.max_age_days) {
                        observation.findings.push(Finding::new(
                            FindingCode::AccountNotUpdated,
                            Severity::Veto,
                            format!(
                                "账号最近一次发布于 {}，{}，超过 {} 天未更新",
                                newest.date,
                                age_phrase(age_days),
                                account.max_age_days
                            ),
                        ));
                    }
                }
                None => observation.findings.push(Finding::new(
                    FindingCode::AccountNotUpdated,
                    Severity::Veto,
                    format!("未读到任何注明日期的内容（读到 {} 条），视为未更新", reading.posts.len()),
                )),
            }
            observation.settle();
            observation
        })
    }
}
