//! Cloaking (搜索引擎劫持): a hijacked page that shows search engines, or visitors arriving
//! from one, something other than what a person typing its address sees — so that the site
//! ranks for gambling terms and Baidu's visitors land on a casino, while the office, opening
//! the page directly, sees nothing wrong.
//!
//! Two signs, in the home page's audit:
//! - an inline script that looks for a search engine in `document.referrer` (or a crawler in
//!   the user agent) and then sends the visitor elsewhere or writes other content: a veto;
//! - the page fetched as Baiduspider once a day ([`CRAWL_AGAIN_AFTER`]) carrying gambling,
//!   pornography or fraud terms the browser's page does not: a veto. A crawler's page that is
//!   wholly different without such terms is a warning, since firewalls often answer crawlers
//!   they cannot verify with a page of their own.

use jiff::SignedDuration;
use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Role, Subject};
use crate::extract::html::Document;
use crate::extract::page_text::{fingerprint, page_text, search_redirect_scripts, sensitive_content};

pub struct Cloaking;

/// How often a home page is fetched as a search engine's crawler.
pub const CRAWL_AGAIN_AFTER: SignedDuration = SignedDuration::from_hours(24);
/// Baidu's crawler, as it names itself.
pub const CRAWLER: &str = "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)";
/// A crawler's page keeping less than this share of the browser's text is another page.
const MOST_KEPT: f64 = 0.5;

/// What the crawler's page came to, until it is fetched again: the finding, if any.
#[derive(Clone, Debug)]
pub struct Crawled {
    finding: Option<(Severity, String)>,
}

impl Check for Cloaking {
    fn kind(&self) -> CheckKind {
        CheckKind::Cloaking
    }

    fn applies_to(&self, subject: &Subject) -> bool {
        matches!(subject.role, Role::Audit { cloaking: true, .. })
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(document) = cx.document(&subject.url, subject.timeout).await else { return };
            let scripts = search_redirect_scripts(&document);
            if let Some(first) = scripts.first() {
                observation.findings.push(Finding::new(
                    FindingCode::Cloaking,
                    Severity::Veto,
                    format!(
                        "首页有 {} 段脚本按访客来源（搜索引擎）或爬虫身份跳转或改写页面，网站被劫持：「{first}」",
                        scripts.len()
                    ),
                ));
            }
            let listed = [subject.url.clone()];
            let crawled = if cx.memory.crawled.due(&listed, |url| url, 1, cx.now).is_empty() {
                cx.memory.crawled.get(&subject.url)
            } else {
                let crawled = crawl(cx, subject, &document).await;
                cx.memory.crawled.remember(subject.url.clone(), crawled.clone(), cx.now);
                Some(crawled)
            };
            if let Some((severity, detail)) = crawled.and_then(|crawled| crawled.finding) {
                observation.findings.push(Finding::new(FindingCode::Cloaking, severity, detail));
            }
        })
    }
}

/// Fetches the home page as Baiduspider and compares it with `browser`'s.
async fn crawl(cx: &Ctx, subject: &Subject, browser: &Document) -> Crawled {
    let fetched = cx.crawled_page(&subject.url, subject.timeout).await;
    // A crawler refused or not answered has nothing to compare.
    let Some(page) = fetched.ok_page() else { return Crawled { finding: None } };
    let crawler = Document::parse(&page.text);
    let base = &fetched.final_url;
    let terms = &cx.sensitive_terms;
    let seen_by_browser = sensitive_content(browser, base, &page_text(browser), terms);
    let crawler_text = page_text(&crawler);
    let only_crawler: Vec<_> = sensitive_content(&crawler, base, &crawler_text, terms)
        .into_iter()
        .filter(|hit| !seen_by_browser.iter().any(|seen| seen.term == hit.term))
        .collect();
    if !only_crawler.is_empty() {
        let detail = format!(
            "以百度蜘蛛身份访问首页看到的内容与浏览器不同，{}（浏览器看到的页面没有），网站对搜索引擎被劫持",
            super::sensitive_content::describe(&only_crawler)
        );
        return Crawled { finding: Some((Severity::Veto, detail)) };
    }
    let (browser_print, _) = fingerprint(browser);
    let kept = browser_print.kept_in(&crawler_text.blocks);
    let other_title = browser_print.title != crawler_text.title;
    if other_title && kept < MOST_KEPT {
        let detail = format!(
            "以百度蜘蛛身份访问首页看到的是另一个页面（标题「{}」，浏览器看到的是「{}」，文字仅 {:.0}% 相同）。可能被劫持，也可能是防火墙拦截爬虫，请人工核实",
            crawler_text.title,
            browser_print.title,
            kept * 100.0
        );
        return Crawled { finding: Some((Severity::Warning, detail)) };
    }
    Crawled { finding: None }
}
