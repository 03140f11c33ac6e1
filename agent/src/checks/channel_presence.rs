//! 未提供网上有效咨询建言渠道: a site must offer a consultation channel. Configured
//! `[[site.interaction]]` channels count; otherwise the home page's links are searched for one
//! (留言, 信箱, 咨询, 互动交流, 建言, 意见征集, 问政, 诉求, 12345). Petition (信访) and discipline
//! complaint (纪检举报) channels do not count, as the indicator excepts them.

use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Role, Subject};
use url::Url;

use crate::extract::html::Document;
use crate::extract::links::{leads_to_page, resolve};

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

/// The text of the first visible link that names a channel and leads to another page. Run on
/// every probe of the home page, so it reads link texts and resolves only the address of a link
/// whose text names a channel (a placeholder `<a href="/">在线咨询</a>` back to the home page is
/// no channel).
fn first_channel(document: &Document, page_url: &Url) -> Option<String> {
    for node in document.descendants(Document::ROOT) {
        let Some(element) = document.element(node) else { continue };
        if element.name != "a" {
            continue;
        }
        let Some(href) = element.attr("href").map(str::trim).filter(|href| leads_to_page(href)) else { continue };
        let text = document.text(node);
        let text = if text.is_empty() { element.attr("title").unwrap_or("").to_string() } else { text };
        let text: String = text.chars().take(60).collect();
        if names_channel(&text)
            && !document.is_hidden(node)
            && resolve(page_url, href).is_some_and(|url| url != *page_url)
        {
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
            let Some((document, page_url)) = cx.subject_document(subject).await else { return };
            match first_channel(&document, &page_url) {
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
    use super::*;

    #[test]
    fn the_first_channel_is_a_visible_link_to_another_page() {
        let page = Url::parse("http://www.x.gov.cn/").unwrap();
        let first = |html: &str| first_channel(&Document::parse(html), &page);
        // A placeholder back to the home page, a hidden one, script and mail: none is a channel.
        let html = "<a href='/'>在线咨询</a><a href='./'>在线咨询</a><div style='display:none'></div>\
                    <select><option><a href='/x'>县长信箱</a></option></select><a href='javascript:;'>留言</a>\
                    <a href='mailto:a@x.gov.cn'>信箱</a><a href='/zwgk/'>政务公开</a>";
        assert_eq!(first(html), None);
        let html = format!("{html}<a href='/hdjl/xzxx/'>县长信箱</a><a href='/hdjl/zx/'>在线咨询</a>");
        assert_eq!(first(&html).as_deref(), Some("县长信箱"));
    }

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
