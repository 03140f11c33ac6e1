//! 首页不更新: the newest dated item anywhere on the home page must be within
//! `home_max_age_days` (14: "监测2周,首页无信息更新" → veto). Items without a date count as
//! not updated.
//!
//! A portal whose home page is mostly navigation (fewer than [`NAVIGATION_MAX_DATED`] dated
//! items: tiles, banners and menus leading to the columns) shows its news one click away: it is
//! judged by the newest dated item of the site's configured columns that it links to, and its
//! finding says so. A home page that links to no configured column is judged by itself.

use std::collections::HashSet;

use url::Url;
use xunjian_shared::time::Published;
use xunjian_shared::wire::{CheckKind, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, ColumnPage, Ctx, Role, Staleness, Subject, judge_freshness};
use crate::extract::links::page_links;

pub struct HomeUpdate;

/// A home page with fewer dated items than this is mostly navigation.
pub const NAVIGATION_MAX_DATED: usize = 3;
/// Links of a home page looked at for configured columns.
const MAX_LINKS: usize = 2_000;
/// Linked columns no check has read yet that one probe of the home page reads itself, at most
/// (the rest wait for their own checks or the next probe).
const MAX_COLUMNS_READ: usize = 4;

impl Check for HomeUpdate {
    fn kind(&self) -> CheckKind {
        CheckKind::HomeUpdate
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        subject.is_home()
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(reading) = cx.reading(subject).await else { return };
            let max_age_days = cx.thresholds.home_max_age_days;
            let dated = reading.dated_items();
            let linked = if dated < NAVIGATION_MAX_DATED { linked_columns(cx, subject).await } else { Vec::new() };
            if linked.is_empty() {
                let rule = Staleness {
                    code: FindingCode::HomeNotUpdated,
                    severity: Severity::Veto,
                    max_age_days,
                    stale: &|date, age| format!("首页最新信息发布于 {date}，{age}，超过 {max_age_days} 天未更新"),
                    undated: Some((
                        FindingCode::HomeNotUpdated,
                        "首页未找到注明发布日期的信息（未注明日期的视为未更新）".to_string(),
                    )),
                };
                judge_freshness(cx, observation, dated, reading.newest(), &rule);
                return;
            }
            // The newest of the home page's own few items and of the linked columns' lists.
            let mut newest: Option<(Published, Option<&str>)> = reading.newest().map(|date| (date, None));
            for (column, column_newest) in &linked {
                if let Some(date) = column_newest
                    && newest.is_none_or(|(best, _)| *date > best)
                {
                    newest = Some((*date, Some(column.name.as_str())));
                }
            }
            let names: Vec<&str> = linked.iter().map(|(column, _)| column.name.as_str()).collect();
            let shown = if names.len() > 3 {
                format!("{} 等 {} 个", names[..3].join("、"), names.len())
            } else {
                names.join("、")
            };
            let basis =
                format!("首页以导航为主（注明日期的信息 {dated} 条），按首页链接的栏目（{shown}）中最新的信息判断");
            let from = match newest.and_then(|(_, column)| column) {
                Some(column) => format!("栏目“{column}”"),
                None => "首页".to_string(),
            };
            let rule = Staleness {
                code: FindingCode::HomeNotUpdated,
                severity: Severity::Veto,
                max_age_days,
                stale: &|date, age| {
                    format!("{basis}：{from}最新信息发布于 {date}，{age}，超过 {max_age_days} 天未更新")
                },
                undated: Some((
                    FindingCode::HomeNotUpdated,
                    format!("{basis}：首页及这些栏目均未找到注明发布日期的信息（未注明日期的视为未更新）"),
                )),
            };
            judge_freshness(cx, observation, dated, newest.map(|(date, _)| date), &rule);
        })
    }
}

/// The configured columns the home page links to, each with its newest dated item: as the
/// column's own check last read it, else read now.
async fn linked_columns<'s>(cx: &Ctx, subject: &'s Subject) -> Vec<(&'s ColumnPage, Option<Published>)> {
    let Role::Home { columns, .. } = &subject.role else { return Vec::new() };
    if columns.is_empty() {
        return Vec::new();
    }
    let Some((document, page_url)) = cx.subject_document(subject).await else { return Vec::new() };
    let links: HashSet<String> =
        page_links(&document, &page_url, MAX_LINKS).iter().map(|link| page_key(&link.url)).collect();
    let mut linked = Vec::new();
    let mut read = 0;
    for column in columns.iter().filter(|column| links.contains(&page_key(&column.url))) {
        let newest = match cx.memory.columns.get(&column.url) {
            Some(newest) => newest,
            None if read >= MAX_COLUMNS_READ => continue,
            None => {
                read += 1;
                let list = (column.name.as_str(), column.selectors.as_ref());
                let newest =
                    cx.list(&column.url, column.timeout, Some(list)).await.and_then(|reading| reading.newest());
                cx.memory.columns.remember(&column.url, newest, cx.now);
                newest
            }
        };
        linked.push((column, newest));
    }
    linked
}

/// A page by host, path and query, whatever the scheme, and `dir/index.html` as `dir/`: how a
/// home page's link and a configured column's address are the same page.
fn page_key(url: &Url) -> String {
    let path = url.path();
    let directory = ["index.html", "index.htm", "index.shtml", "index.jhtml", "default.htm", "default.html"]
        .iter()
        .find_map(|index| path.strip_suffix(index).filter(|dir| dir.ends_with('/')))
        .unwrap_or(path);
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let port = url.port().map(|port| format!(":{port}")).unwrap_or_default();
    format!("{host}{port}{directory}?{}", url.query().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_and_a_column_are_the_same_page_whatever_the_spelling() {
        let key = |url: &str| page_key(&Url::parse(url).unwrap());
        assert_eq!(key("http://www.heping.gov.cn/zwgk/gzdt/"), key("https://WWW.heping.gov.cn/zwgk/gzdt/index.html"));
        assert_eq!(key("http://x.gov.cn/list.asp?lm=1"), key("http://x.gov.cn/list.asp?lm=1#top"));
        assert_ne!(key("http://x.gov.cn/list.asp?lm=1"), key("http://x.gov.cn/list.asp?lm=2"));
        assert_ne!(key("http://x.gov.cn/a/index.html"), key("http://x.gov.cn/b/"));
        assert_ne!(key("http://127.0.0.1:8080/a/"), key("http://127.0.0.1:9090/a/"));
    }
}
