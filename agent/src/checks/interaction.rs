//! 互动回应: a message board's published messages. Each is answered or not; an answer's delay is
//! counted in working days strictly after the message date up to and including the reply date
//! (the Chinese calendar with its 调休), against 5 working days (1 for messages marked simple).
//! A message unanswered for more than 3 months is a veto; so is a channel that does not open.
//! Published messages must show 留言时间, 答复时间, 答复单位 and 答复内容; when the list omits
//! some, the detail pages of a few answered messages are read for them.

use xunjian_shared::time::days_between;
use xunjian_shared::wire::{CheckKind, Finding, FindingCode, InteractionStats, Observation, Severity};

use super::{BoxFuture, ChannelSubject, Check, Ctx, Subject};
use crate::extract::messages::{self, Message};

/// Detail pages read per round to complete answered messages the list shows only in part.
const DETAIL_PAGES_READ: usize = 5;
/// Unanswered messages older than this are not judged (the indicator looks back one year).
const LOOKBACK_DAYS: i64 = 365;

pub struct Interaction;

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
            let mut messages = messages::read_messages(&document, cx.today, channel.item_selector.as_ref());
            complete_from_detail_pages(cx, subject, &fetched.final_url, &mut messages).await;
            judge(cx, channel, &messages, observation);
        })
    }
}

/// Reads the detail pages of answered messages that lack reply fields, a few per round.
async fn complete_from_detail_pages(cx: &Ctx, subject: &Subject, base: &url::Url, messages: &mut [Message]) {
    let incomplete = messages
        .iter_mut()
        .filter(|m| m.answered() && (m.replied.is_none() || m.reply_unit.is_none() || m.reply_content.is_none()))
        .filter_map(|m| m.link.clone().and_then(|link| base.join(&link).ok()).map(|url| (m, url)))
        .take(DETAIL_PAGES_READ);
    for (message, url) in incomplete {
        let Some(detail) = cx.document(&url, subject.timeout).await else { continue };
        if let Some(found) = messages::read_detail(&detail, cx.today) {
            message.replied = message.replied.or(found.replied);
            message.reply_unit = message.reply_unit.take().or(found.reply_unit);
            message.reply_content = message.reply_content.take().or(found.reply_content);
        }
    }
}

fn judge(cx: &Ctx, channel: &ChannelSubject, messages: &[Message], observation: &mut Observation) {
    let mut unanswered = 0u32;
    let mut overdue: Vec<String> = Vec::new();
    let mut missing = 0u32;
    // Per field (答复时间, 答复单位, 答复内容): how many answered messages lack it.
    let mut missing_by_field = [0u32; 3];
    let mut max_reply: Option<i64> = None;
    let mut oldest_unanswered: Option<i64> = None;
    let mut long_unanswered: Vec<String> = Vec::new();
    let mut assumed_years: Vec<i16> = Vec::new();
    for message in messages {
        let Some(posted) = message.posted else { continue };
        let simple = channel.simple_keywords.iter().any(|word| message.text.contains(word.as_str()));
        let limit =
            i64::from(if simple { channel.simple_reply_limit_working_days } else { channel.reply_limit_working_days });
        let title = if message.title.is_empty() { format!("{}的留言", posted.date) } else { message.title.clone() };
        if message.answered() {
            let lacks = [message.replied.is_none(), message.reply_unit.is_none(), message.reply_content.is_none()];
            if lacks.contains(&true) {
                missing += 1;
            }
            for (count, lacking) in missing_by_field.iter_mut().zip(lacks) {
                *count += u32::from(lacking);
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
                "{missing} 条已答复的留言未公开完整答复信息：{}",
                ["答复时间", "答复单位", "答复内容"]
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
