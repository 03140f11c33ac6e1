//! 未提供网上有效咨询建言渠道: a site must offer a consultation channel. Configured
//! `[[site.interaction]]` channels count; otherwise the home page's links are searched for one
//! (留言, 信箱, 咨询, 互动交流, 建言, 意见征集, 问政, 诉求, 12345). Petition (信访) and discipline
//! complaint (纪检举报) channels do not count, as the indicator excepts them.

use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Role, Subject};
use crate::extract::links::page_links;

const CHANNEL_WORDS: &[&str] =
    &["留言", "信箱", "咨询", "互动交流", "建言", "意见征集", "问政", "诉求", "12345", "政民互动"];
const EXCEPTED_WORDS: &[&str] = &["信访", "纪检", "举报", "纪委"];
/// Links read on the home page when looking for a channel.
const LINKS_SEARCHED: usize = 2000;

pub struct ChannelPresence;

impl Check for ChannelPresence {
    fn kind(&self) -> CheckKind {
        CheckKind::ChannelPresence
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        subject.is_home()
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Role::Home { channels_configured } = subject.role else { return };
            if channels_configured > 0 {
                return;
            }
            // An unreadable home page is the availability check's finding.
            let Some(document) = cx.document(&subject.url, subject.timeout).await else { return };
            let links = page_links(&document, &subject.url, LINKS_SEARCHED);
            let channels: Vec<&str> = links
                .iter()
                .map(|link| link.text.as_str())
                .filter(|text| {
                    CHANNEL_WORDS.iter().any(|w| text.contains(w)) && !EXCEPTED_WORDS.iter().any(|w| text.contains(w))
                })
                .collect();
            match channels.first() {
                None => observation.findings.push(Finding::new(
                    FindingCode::InteractionChannelMissing,
                    Severity::Veto,
                    "首页未发现网上咨询建言渠道（留言板、信箱、咨询等，网上信访、纪检举报除外），也未配置互动渠道",
                )),
                Some(first) => observation.findings.push(Finding::new(
                    FindingCode::InteractionChannelMissing,
                    Severity::Warning,
                    format!("首页有互动渠道「{first}」，但未配置巡检，留言答复情况无法检查；请在 [[site.interaction]] 中添加"),
                )),
            }
        })
    }
}
