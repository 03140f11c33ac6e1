//! 未提供网上有效咨询建言渠道: a site must offer a consultation channel. Configured
//! `[[site.interaction]]` channels count; otherwise the home page's links are searched for one
//! (留言, 信箱, 咨询, 互动交流, 建言, 意见征集, 问政, 诉求, 12345). Petition (信访) and discipline
//! complaint (纪检举报) channels do not count, as the indicator excepts them.

use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Role, Subject};
use crate::extract::html::{Document, NodeData};

const CHANNEL_WORDS: &[&str] =
    &["留言", "信箱", "咨询", "互动交流", "建言", "意见征集", "问政", "诉求", "12345", "政民互动"];
const EXCEPTED_WORDS: &[&str] = &["信访", "纪检", "举报", "纪委"];
/// Whether a link's text names a consultation channel. The 12345 hotline is a number of its own,
/// not five digits inside an ICP or phone number (`粤ICP备05012345号`).
fn names_channel(text: &str) -> bool {
    let hotline = text.match_indices("12345").any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + 5..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    });
    let worded = CHANNEL_WORDS.iter().filter(|word| **word != "12345").any(|word| text.contains(word));
    (worded || hotline) && !EXCEPTED_WORDS.iter().any(|word| text.contains(word))
}

/// Links read on the home page when looking for a channel.
const LINKS_SEARCHED: usize = 2000;

/// The text of the first visible link to a page that names a channel. Run on every probe of the
/// home page, so it reads link texts only (no address is resolved) and stops at the first.
fn first_channel(document: &Document) -> Option<String> {
    let mut links = 0;
    for node in document.descendants(Document::ROOT) {
        let Some(element) = document.element(node) else { continue };
        if element.name != "a" {
            continue;
        }
        let Some(href) = element.attr("href").map(str::trim) else { continue };
        let scheme = href.get(..11).unwrap_or(href).to_ascii_lowercase();
        if href.is_empty()
            || href.starts_with('#')
            || ["javascript:", "mailto:", "tel:", "data:"].iter().any(|p| scheme.starts_with(p))
        {
            continue;
        }
        links += 1;
        if links > LINKS_SEARCHED {
            return None;
        }
        let text = match &document.node(node).data {
            NodeData::Element(_) => {
                let text = document.text(node);
                if text.is_empty() { element.attr("title").unwrap_or("").to_string() } else { text }
            }
            _ => continue,
        };
        let text: String = text.chars().take(60).collect();
        if names_channel(&text) && !document.is_hidden(node) {
            return Some(text);
        }
    }
    None
}

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
            let Role::Home { channels_configured, .. } = subject.role else { return };
            if channels_configured > 0 {
                return;
            }
            // An unreadable home page is the availability check's finding.
            let Some(document) = cx.document(&subject.url, subject.timeout).await else { return };
            match first_channel(&document) {
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

#[cfg(test)]
mod tests {
    use super::names_channel;

    #[test]
    fn channels_by_their_words_and_the_hotline_by_its_number() {
        for text in ["县长信箱", "在线咨询", "12345热线", "拨打12345", "互动交流", "政民互动"] {
            assert!(names_channel(text), "{text}");
        }
        for text in ["粤ICP备05012345号-1", "0762-6123456", "网上信访", "纪检举报信箱", "首页"] {
            assert!(!names_channel(text), "{text}");
        }
    }
}
