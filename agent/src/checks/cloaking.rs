//! Cloaking (搜索引擎劫持): a hijacked page that shows search engines, or visitors arriving
//! from one, something other than what a person typing its address sees — so that the site
//! ranks for gambling terms and Baidu's visitors land on a casino, while the office, opening
//! the page directly, sees nothing wrong.
//!
//! Two signs, in the home page's audit:
//! - an inline script that looks for a search engine in `document.referrer` (or a crawler in
//!   the user agent) and then sends the visitor elsewhere or writes other content: a veto;
//! - the page fetched as Baiduspider once a day ([`CRAWL_AGAIN_AFTER`], unless `[security]
//!   cloaking = false`) carrying gambling, pornography or fraud terms the browser's page does
//!   not: a veto. A crawler sent to another site, or shown a wholly different page without
//!   such terms, is a warning: firewalls often answer crawlers they cannot verify with a page
//!   of their own.

use jiff::SignedDuration;
use url::Url;
use xunjian_shared::wire::{CheckKind, Finding, FindingCode, Observation, Severity};

use super::{BoxFuture, Check, Ctx, Role, Subject};
use crate::extract::hidden_links::site_of;
use crate::extract::html::Document;
use crate::extract::page_text::{fingerprint, page_text, search_redirect_scripts, sensitive_content};

pub struct Cloaking;

/// How often a home page is fetched as a search engine's crawler.
pub const CRAWL_AGAIN_AFTER: SignedDuration = SignedDuration::from_hours(24);
/// Baidu's crawler, as it names itself.
pub const CRAWLER: &str = "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)";
/// A crawler's page keeping less than this share of the browser's text is another page.
const MOST_KEPT: f64 = 0.5;
/// Text blocks a crawler's page needs to count as a page (not a challenge or an error).
const MIN_BLOCKS: usize = 8;

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
        matches!(subject.role, Role::Audit { .. })
    }

    fn run<'a>(&'a self, cx: &'a Ctx, subject: &'a Subject, observation: &'a mut Observation) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(document) = cx.document(&subject.url, subject.timeout).await else { return };
            let browser = cx.page(&subject.url, subject.timeout).await;
            let browser_url = browser.final_url.clone();
            let scripts = search_redirect_scripts(&document, &browser_url);
            if let Some(first) = scripts.first() {
                observation.findings.push(Finding::new(
                    FindingCode::Cloaking,
                    Severity::Veto,
                    format!(
                        "首页有 {} 段脚本按访客来源（搜索引擎）或爬虫身份把访客转到其他网站或改写页面，网站被劫持：「{first}」",
                        scripts.len()
                    ),
                ));
            }
            // `[security] cloaking = false` spares the site the crawler's request; the scripts
            // above cost none.
            if !matches!(subject.role, Role::Audit { cloaking: true, .. }) {
                return;
            }
            // A page cut at the size cap, or one that took half the timeout to come, is not
            // fetched a second time: a huge, endless or slow page is the availability check's
            // finding, and asking again only doubles the load on a struggling server. What the
            // last crawl found still stands (a slow round does not close a hijack's problem).
            let slow = u128::from(browser.record.duration_ms) * 2 > subject.timeout.as_millis();
            let listed = [subject.url.clone()];
            let due = !cx.memory.crawled.due(&listed, |url| url, 1, cx.now).is_empty();
            let crawled = if !due || browser.record.truncated || slow {
                cx.memory.crawled.get(&subject.url)
            } else {
                let crawled = crawl(cx, subject, &document, &browser_url).await;
                if let Some(crawled) = &crawled {
                    cx.memory.crawled.remember(&subject.url, crawled.clone(), cx.now);
                }
                crawled
            };
            if let Some((severity, detail)) = crawled.and_then(|crawled| crawled.finding) {
                observation.findings.push(Finding::new(FindingCode::Cloaking, severity, detail));
            }
        })
    }
}

/// Fetches the home page as Baiduspider and compares it with `browser`'s (at `browser_url`);
/// None when the crawler got no answer at all (tried again at the next audit).
async fn crawl(cx: &Ctx, subject: &Subject, browser: &Document, browser_url: &Url) -> Option<Crawled> {
    let fetched = cx.crawled_page(&subject.url, subject.timeout).await;
    // A crawler refused (403, a challenge status) has nothing to compare.
    let Some(page) = fetched.ok_page() else {
        return fetched.page.is_some().then_some(Crawled { finding: None });
    };
    let crawler = Document::parse(&page.text);
    let terms = &cx.sensitive_terms;
    // Every term anywhere on the browser's page, counted or not: a term the browser's page
    // carries is not one only crawlers see.
    let browser_text = page_text(browser);
    let on_browser_page = terms.find_all(
        &[&browser_text.title, &browser_text.keywords, &browser_text.description, &browser_text.text]
            .map(|text| text.to_lowercase())
            .join(" "),
    );
    let crawler_text = page_text(&crawler);
    let only_crawler: Vec<_> = sensitive_content(&crawler, &fetched.final_url, &crawler_text, terms)
        .into_iter()
        .filter(|hit| !on_browser_page.iter().any(|(_, term)| *term == hit.term))
        .collect();
    if !only_crawler.is_empty() {
        let detail = format!(
            "以百度蜘蛛身份访问首页看到的内容与浏览器不同，{}（浏览器看到的页面没有），网站对搜索引擎被劫持",
            super::sensitive_content::describe(&only_crawler)
        );
        return Some(Crawled { finding: Some((Severity::Veto, detail)) });
    }
    if site_of(&fetched.final_url) != site_of(browser_url) {
        let detail = format!(
            "以百度蜘蛛身份访问首页被转到另一个网站 {}（浏览器打开的是 {}）。可能被劫持，也可能是防火墙的验证页面，请人工核实",
            fetched.final_url.host_str().unwrap_or(""),
            browser_url.host_str().unwrap_or("")
        );
        return Some(Crawled { finding: Some((Severity::Warning, detail)) });
    }
    let (browser_print, _) = fingerprint(browser);
    let kept = browser_print.kept_in(&crawler_text.blocks);
    // A firewall's challenge or an empty answer is a page of its own, not another site.
    let a_page = !crawler_text.title.is_empty() && crawler_text.blocks.len() >= MIN_BLOCKS;
    if a_page && *browser_print.title != *crawler_text.title && kept < MOST_KEPT {
        let detail = format!(
            "以百度蜘蛛身份访问首页看到的是另一个页面（标题「{}」，浏览器看到的是「{}」，文字仅 {:.0}% 相同）。可能被劫持，也可能是防火墙拦截爬虫，请人工核实",
            crawler_text.title,
            browser_print.title,
            kept * 100.0
        );
        return Some(Crawled { finding: Some((Severity::Warning, detail)) });
    }
    Some(Crawled { finding: None })
}
