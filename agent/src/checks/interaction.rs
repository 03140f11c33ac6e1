//! 互动回应: a message board's published messages. Each is answered or not; an answer's delay is
//! counted in working days strictly after the message date up to and including the reply date
//! (the Chinese calendar with its 调休), against 5 working days (1 for simple questions: those the
//! board files under a category the configuration names, never guessed from what a message says).
//! A message unanswered for more than 3 months is a veto; so is a channel that does not open.
//!
//! The board is read whole: its pager is followed up to `max_pages` list pages, each message
//! counted once. Published messages must show 留言时间, 答复时间, 答复单位 and 答复内容; where the
//! list omits reply fields, the message's own page is read for them, a few a round, and what it
//! showed is remembered ([`super::Memory`]), so a field is counted missing only once the message's
//! page was read without it. A board may name its statistics page (留言办理情况统计), which must
//! show statistics newer than `statistics_max_age_days`.

use std::collections::HashSet;

use tokio::time::Instant;
use url::Url;
use xunjian_shared::time::days_between;
use xunjian_shared::wire::{CheckKind, Finding, FindingCode, InteractionStats, Observation, Severity};

use super::{BoxFuture, ChannelSubject, Check, Ctx, Subject};
use crate::extract::links::resolve;
use crate::extract::messages::{self, Message};
use crate::extract::pagination::next_page;

/// Detail pages read per round to complete answered messages the list shows only in part.
const DETAIL_PAGES_READ: usize = 10;
/// Unanswered messages older than this are not judged (the indicator looks back one year).
const LOOKBACK_DAYS: i64 = 365;
/// The time one board's reading may take, in request timeouts.
const CHECK_TIMEOUTS: u32 = 4;
/// A detail page read without a reply field is read again after this long (a reply may come).
pub const READ_AGAIN_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_hours(20);

pub struct Interaction;

/// What a message's own page showed of the fields its list may leave out; only what judging
/// needs is kept, a few characters of each (the memory holds thousands of pages).
#[derive(Clone, Debug, PartialEq)]
pub struct DetailFields {
    posted: Option<xunjian_shared::time::Published>,
    replied: Option<xunjian_shared::time::Published>,
    reply_unit: Option<String>,
    reply_content: Option<String>,
}

/// Characters of a reply's unit and content remembered.
const KEPT_CHARS: usize = 40;

impl DetailFields {
    fn of(message: Message) -> DetailFields {
        let short = |text: Option<String>| text.map(|t| t.chars().take(KEPT_CHARS).collect());
        DetailFields {
            posted: message.posted,
            replied: message.replied,
            reply_unit: short(message.reply_unit),
            reply_content: short(message.reply_content),
        }
    }
}

/// A message as read from the board, with what is known of its reply fields.
struct Read {
    message: Message,
    /// Its own page, when the list links one.
    detail: Option<Url>,
    /// Whether what it lacks is known to be missing (its page was read, or it has none).
    settled: bool,
}

impl Check for Interaction {
    fn kind(&self) -> CheckKind {
        CheckKind::Interaction
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        subject.channel().is_some()
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(channel) = subject.channel() else { return };
            let fetched = cx.page(&subject.url, subject.timeout).await;
            observation.fetch = Some(fetched.record.clone());
            let Some(document) = cx.document(&subject.url, subject.timeout).await else {
                observation.findings.push(Finding::new(
                    FindingCode::InteractionUnreachable,
                    Severity::Veto,
                    format!("互动渠道「{}」无法打开：{}", channel.name, super::unreachable_reason(&fetched)),
                ));
                return;
            };
            // A board's pages, its messages' pages and its statistics: a slow site gets this long
            // in all, not each request's timeout again and again.
            let deadline = Instant::now() + subject.timeout * CHECK_TIMEOUTS;
            let (mut messages, pages) =
                read_board(cx, subject, channel, document, fetched.final_url.clone(), deadline).await;
            complete_from_detail_pages(cx, subject, &mut messages, deadline).await;
            judge(cx, channel, &messages, observation);
            if let Some(stats) = observation.interaction.as_mut() {
                stats.pages = Some(pages);
            }
            if let Some((url, max_age_days)) = &channel.statistics {
                statistics(cx, subject, channel, url, *max_age_days, observation).await;
            }
        })
    }
}

/// The messages of the board's first page and the pages its pager leads to (at most
/// `max_pages`, none past `deadline`), each once; and how many pages were read.
async fn read_board(
    cx: &Ctx,
    subject: &Subject,
    channel: &ChannelSubject,
    first: std::sync::Arc<crate::extract::html::Document>,
    first_url: Url,
    deadline: Instant,
) -> (Vec<Read>, u32) {
    let mut messages: Vec<Read> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut visited: HashSet<Url> = HashSet::from([first_url.clone(), Url::clone(&subject.url)]);
    let (mut document, mut base, mut pages) = (first, first_url, 0u32);
    loop {
        pages += 1;
        let page_messages = messages::read_messages(&document, cx.today, channel.item_selector.as_ref());
        let all_old = !page_messages.is_empty()
            && page_messages
                .iter()
                .all(|m| m.posted.is_some_and(|posted| days_between(posted.date, cx.today) > LOOKBACK_DAYS));
        for message in page_messages {
            let detail = message.link.as_deref().and_then(|link| resolve(&base, link));
            // A message is itself once, however many pages list it: its page and title (a link
            // every row shares, to a category, does not make rows one), or all it shows.
            let key = match &detail {
                Some(url) => format!("{url}\u{1f}{}", message.title),
                None => format!(
                    "{}\u{1f}{:?}\u{1f}{:?}\u{1f}{:?}",
                    message.title, message.posted, message.replied, message.reply_unit
                ),
            };
            if seen.insert(key) {
                messages.push(Read { settled: detail.is_none(), message, detail });
            }
        }
        if pages >= channel.max_pages || all_old || Instant::now() >= deadline {
            break;
        }
        let Some(next) = next_page(&document, &base) else { break };
        if !visited.insert(next.clone()) {
            break;
        }
        let Some(next_document) = cx.linked_document(&next, subject.timeout, &subject.url).await else { break };
        base = cx.page(&next, subject.timeout).await.final_url.clone();
        document = next_document;
    }
    (messages, pages)
}

/// What reading a message's own page came to, remembered across rounds.
#[derive(Clone, Debug, PartialEq)]
pub enum DetailRead {
    /// The page opened (or is gone: 404, 410) and showed this (None: no message).
    Shown(Option<DetailFields>),
    /// The page did not open this time (a timeout, a refusal, a server error); what an earlier
    /// reading showed, if one did.
    Failed(Option<DetailFields>),
}

impl DetailRead {
    /// What is known of the message's fields: None while its page has never been read.
    fn known(&self) -> Option<Option<&DetailFields>> {
        match self {
            DetailRead::Shown(fields) => Some(fields.as_ref()),
            DetailRead::Failed(Some(fields)) => Some(Some(fields)),
            DetailRead::Failed(None) => None,
        }
    }

    /// This reading, keeping whatever an earlier one found that this one does not show.
    fn over(self, earlier: Option<DetailRead>) -> DetailRead {
        let earlier_shown = matches!(earlier, Some(DetailRead::Shown(_)));
        let earlier = earlier.and_then(|read| match read {
            DetailRead::Shown(fields) | DetailRead::Failed(fields) => fields,
        });
        let merge = |now: Option<DetailFields>| match (now, earlier.clone()) {
            (Some(now), Some(before)) => Some(DetailFields {
                posted: now.posted.or(before.posted),
                replied: now.replied.or(before.replied),
                reply_unit: now.reply_unit.or(before.reply_unit),
                reply_content: now.reply_content.or(before.reply_content),
            }),
            (now, before) => now.or(before),
        };
        match (self, earlier_shown) {
            (DetailRead::Shown(fields), _) => DetailRead::Shown(merge(fields)),
            // A page that opened before and fails now still showed what it showed.
            (DetailRead::Failed(fields), true) => DetailRead::Shown(merge(fields)),
            (DetailRead::Failed(fields), false) => DetailRead::Failed(merge(fields)),
        }
    }
}

/// Whether a message still lacks a field its own page could show.
fn lacking(read: &Read) -> bool {
    let m = &read.message;
    m.posted.is_none() || (m.answered() && (m.replied.is_none() || m.reply_unit.is_none() || m.reply_content.is_none()))
}

/// Fills what remembered readings of `read`'s page show; settles it once its page was read.
fn apply(read: &mut Read, remembered: &DetailRead) {
    let Some(known) = remembered.known() else { return };
    read.settled = true;
    let Some(found) = known else { return };
    let message = &mut read.message;
    message.posted = message.posted.or(found.posted);
    message.replied = message.replied.or(found.replied);
    message.reply_unit = message.reply_unit.take().or_else(|| found.reply_unit.clone());
    message.reply_content = message.reply_content.take().or_else(|| found.reply_content.clone());
}

/// Fills messages' missing fields from their own pages: what earlier rounds read, then a few
/// more pages this round (none past `deadline`).
async fn complete_from_detail_pages(cx: &Ctx, subject: &Subject, messages: &mut [Read], deadline: Instant) {
    let remembered = |read: &mut Read| {
        if let Some(found) = read.detail.as_ref().and_then(|url| cx.memory.replies.get(url)) {
            apply(read, &found);
        }
    };
    for read in messages.iter_mut() {
        if lacking(read) {
            remembered(read);
        } else {
            read.settled = true;
        }
    }
    let wanted: Vec<Url> = messages.iter().filter(|r| lacking(r)).filter_map(|r| r.detail.clone()).collect();
    for url in cx.memory.replies.due(&wanted, |url| url, DETAIL_PAGES_READ, cx.now) {
        if Instant::now() >= deadline {
            break;
        }
        let fetched = cx.linked_page(url, subject.timeout, &subject.url).await;
        let read = match cx.document(url, subject.timeout).await {
            // A page with no message label at all (a firewall's challenge, a login wall) is not
            // the message's page: it shows nothing either way.
            Some(page) if !messages::shows_labels(&page) => DetailRead::Failed(None),
            Some(page) => DetailRead::Shown(messages::read_detail(&page, cx.today).map(DetailFields::of)),
            None if fetched.page.as_ref().is_some_and(|page| matches!(page.status, 404 | 410)) => {
                DetailRead::Shown(None)
            }
            None => DetailRead::Failed(None),
        };
        cx.memory.replies.remember(url, read.over(cx.memory.replies.get(url)), cx.now);
    }
    for read in messages.iter_mut().filter(|r| lacking(r)) {
        remembered(read);
    }
}

/// The statistics page's newest dated statistics, against the limit.
async fn statistics(
    cx: &Ctx,
    subject: &Subject,
    channel: &ChannelSubject,
    url: &Url,
    max_age_days: u32,
    observation: &mut Observation,
) {
    let reading = cx.list(url, subject.timeout, Some(("留言办理情况统计", None))).await;
    let newest = reading.as_ref().and_then(|reading| reading.newest());
    let age_days = newest.map(|newest| days_between(newest.date, cx.today));
    let stats = observation.interaction.get_or_insert_default();
    stats.statistics_last_update = newest;
    stats.statistics_age_days = age_days;
    let detail = match (reading.is_some(), newest, age_days) {
        (false, _, _) => Some(format!(
            "互动渠道「{}」的留言办理情况统计页面无法打开：{}",
            channel.name,
            super::unreachable_reason(&*cx.page(url, subject.timeout).await)
        )),
        (true, None, _) => Some(format!("互动渠道「{}」的留言办理情况统计页面未找到注明日期的统计", channel.name)),
        (true, Some(newest), Some(age)) if age > i64::from(max_age_days) => Some(format!(
            "互动渠道「{}」的留言办理情况统计最近一次发布于 {}，距今 {age} 天（应每 {max_age_days} 天内公开）",
            channel.name, newest.date
        )),
        _ => None,
    };
    if let Some(detail) = detail {
        observation.findings.push(Finding::new(FindingCode::InteractionStatisticsStale, Severity::Error, detail));
    }
}

/// Whether the board files `message` under a simple-question category: one the configuration
/// names (matched against the category the board shows, else the title's own tag), or 简单咨询.
fn is_simple(channel: &ChannelSubject, message: &Message) -> bool {
    let filed_under = message.category.as_deref().unwrap_or("");
    if filed_under.contains("简单咨询") {
        return true;
    }
    let tagged = message.category.clone().unwrap_or_else(|| title_tag(&message.title));
    !tagged.is_empty() && channel.simple_keywords.iter().any(|word| !word.is_empty() && tagged.contains(word.as_str()))
}

/// The tag a title opens with: `【咨询】…` or `[咨询]…`.
fn title_tag(title: &str) -> String {
    let title = title.trim_start();
    for (open, close) in [('【', '】'), ('[', ']'), ('［', '］')] {
        if let Some(rest) = title.strip_prefix(open)
            && let Some(end) = rest.find(close)
        {
            return rest[..end].to_string();
        }
    }
    String::new()
}

fn judge(cx: &Ctx, channel: &ChannelSubject, messages: &[Read], observation: &mut Observation) {
    let mut unanswered = 0u32;
    let mut overdue: Vec<String> = Vec::new();
    let mut missing = 0u32;
    let mut details_pending = 0u32;
    // Per field (留言时间, 答复时间, 答复单位, 答复内容): how many messages lack it.
    let mut missing_by_field = [0u32; 4];
    let mut max_reply: Option<i64> = None;
    let mut oldest_unanswered: Option<i64> = None;
    let mut long_unanswered: Vec<String> = Vec::new();
    let mut assumed_years: Vec<i16> = Vec::new();
    for read in messages {
        let message = &read.message;
        let Some(posted) = message.posted else {
            // Without 留言时间 the message cannot be timed: a missing field (once its page was read
            // without it too), still a message.
            if read.settled {
                missing += 1;
                missing_by_field[0] += 1;
            } else {
                details_pending += 1;
            }
            continue;
        };
        let simple = is_simple(channel, message);
        let limit =
            i64::from(if simple { channel.simple_reply_limit_working_days } else { channel.reply_limit_working_days });
        let title = if message.title.is_empty() { format!("{}的留言", posted.date) } else { message.title.clone() };
        if message.answered() {
            let lacks =
                [false, message.replied.is_none(), message.reply_unit.is_none(), message.reply_content.is_none()];
            if lacks.contains(&true) && !read.settled {
                // Its page is read in a later round: not missing until then.
                details_pending += 1;
            } else if lacks.contains(&true) {
                missing += 1;
                for (count, lacking) in missing_by_field.iter_mut().zip(lacks) {
                    *count += u32::from(lacking);
                }
            }
            if let Some(replied) = message.replied {
                let counted = cx.calendar.working_days_between(posted.date, replied.date);
                assumed_years.extend(counted.assumed_years);
                max_reply = Some(max_reply.map_or(counted.days, |max| max.max(counted.days)));
                if counted.days > limit {
                    overdue.push(format!("「{title}」{} 个工作日后答复", counted.days));
                }
            }
        } else {
            unanswered += 1;
            let age_days = days_between(posted.date, cx.today);
            oldest_unanswered = Some(oldest_unanswered.map_or(age_days, |oldest| oldest.max(age_days)));
            let counted = cx.calendar.working_days_between(posted.date, cx.today);
            assumed_years.extend(counted.assumed_years);
            if counted.days > limit {
                overdue.push(format!("「{title}」已 {} 个工作日未答复", counted.days));
            }
            if age_days > i64::from(cx.thresholds.unanswered_veto_days) && age_days <= LOOKBACK_DAYS {
                long_unanswered.push(format!("「{title}」（{} 留言）", posted.date));
            }
        }
    }
    observation.interaction = Some(InteractionStats {
        messages: Some(messages.len() as u32),
        unanswered: Some(unanswered),
        overdue: Some(overdue.len() as u32),
        missing_fields: Some(missing),
        max_reply_working_days: max_reply,
        oldest_unanswered_days: oldest_unanswered,
        pages: None,
        details_pending: Some(details_pending),
        statistics_last_update: None,
        statistics_age_days: None,
    });
    let examples = |list: &[String]| {
        let shown: Vec<&str> = list.iter().take(3).map(String::as_str).collect();
        let more = if list.len() > 3 { format!("等 {} 条", list.len()) } else { String::new() };
        format!("{}{more}", shown.join("；"))
    };
    if messages.is_empty() {
        observation.findings.push(Finding::new(
            FindingCode::InteractionFieldsMissing,
            Severity::Error,
            format!("互动渠道「{}」未找到公开选登的留言（应公开留言时间、答复时间、答复单位、答复内容）", channel.name),
        ));
    }
    if !long_unanswered.is_empty() {
        observation.findings.push(Finding::new(
            FindingCode::InteractionUnanswered,
            Severity::Veto,
            format!(
                "{} 条留言超过 {} 天未回应：{}",
                long_unanswered.len(),
                cx.thresholds.unanswered_veto_days,
                examples(&long_unanswered)
            ),
        ));
    }
    if !overdue.is_empty() {
        observation.findings.push(Finding::new(
            FindingCode::InteractionOverdue,
            Severity::Error,
            format!(
                "{} 条留言未在 {} 个工作日内答复：{}",
                overdue.len(),
                channel.reply_limit_working_days,
                examples(&overdue)
            ),
        ));
    }
    if missing > 0 {
        observation.findings.push(Finding::new(
            FindingCode::InteractionFieldsMissing,
            Severity::Error,
            format!(
                "{missing} 条留言未公开完整信息：{}",
                ["留言时间", "答复时间", "答复单位", "答复内容"]
                    .iter()
                    .zip(missing_by_field)
                    .filter(|(_, count)| *count > 0)
                    .map(|(field, count)| format!("缺少{field} {count} 条"))
                    .collect::<Vec<_>>()
                    .join("，")
            ),
        ));
    }
    assumed_years.sort_unstable();
    assumed_years.dedup();
    if !assumed_years.is_empty() {
        let years: Vec<String> = assumed_years.iter().map(|y| y.to_string()).collect();
        observation.findings.push(Finding::new(
            FindingCode::CalendarYearUnknown,
            Severity::Warning,
            format!(
                "节假日日历未收录 {} 年，这些日期按周一至周五计算工作日；请在配置 [[calendar.year]] 中补充当年安排",
                years.join("、")
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(unit: Option<&str>, content: Option<&str>) -> DetailFields {
        DetailFields {
            posted: None,
            replied: None,
            reply_unit: unit.map(str::to_string),
            reply_content: content.map(str::to_string),
        }
    }

    #[test]
    fn a_page_that_did_not_open_settles_nothing_and_forgets_nothing() {
        assert_eq!(DetailRead::Failed(None).known(), None, "never read: still pending");
        assert_eq!(DetailRead::Shown(None).known(), Some(None), "read, showing no message: known to lack");
        let earlier = DetailRead::Shown(Some(fields(Some("县住建局"), Some("已办理。"))));
        let failed_now = DetailRead::Failed(None).over(Some(earlier.clone()));
        assert_eq!(failed_now.known(), Some(Some(&fields(Some("县住建局"), Some("已办理。")))));
        let failed_after_nothing = DetailRead::Failed(None).over(Some(DetailRead::Shown(None)));
        assert_eq!(failed_after_nothing.known(), Some(None), "read before, showing nothing: still settled");
        let shown_less = DetailRead::Shown(Some(fields(None, Some("已办理。")))).over(Some(earlier));
        assert_eq!(
            shown_less.known(),
            Some(Some(&fields(Some("县住建局"), Some("已办理。")))),
            "a found field stays found"
        );
    }

    #[test]
    fn simple_questions_only_by_the_boards_own_category() {
        let channel = ChannelSubject {
            name: "留言板".into(),
            reply_limit_working_days: 5,
            simple_reply_limit_working_days: 1,
            simple_keywords: vec!["咨询".into()],
            item_selector: None,
            max_pages: 5,
            statistics: None,
        };
        let message = |title: &str, category: Option<&str>, text: &str| Message {
            title: title.into(),
            category: category.map(str::to_string),
            text: text.into(),
            ..Message::default()
        };
        assert!(is_simple(&channel, &message("社保卡补办", Some("咨询类"), "")));
        assert!(
            !is_simple(&channel, &message("噪音扰民", Some("投诉"), "想咨询一下怎么投诉")),
            "not from what it says"
        );
        assert!(!is_simple(&channel, &message("咨询社保卡补办", None, "咨询")), "nor from its title's words");
        assert!(is_simple(&channel, &message("【咨询】社保卡补办", None, "")), "a title's tag is the board's");
        let unconfigured = ChannelSubject { simple_keywords: Vec::new(), ..channel };
        assert!(is_simple(&unconfigured, &message("办事时间", Some("简单咨询"), "")), "the board's own 简单咨询");
    }
}
