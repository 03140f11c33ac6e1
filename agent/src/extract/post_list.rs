//! An account's posts read off its web page (an app's news page, a platform's profile page) by
//! the selectors its configuration gives: the items, optionally their dates, and whether a
//! comment or message control is present.

use jiff::Timestamp;
use xunjian_shared::time::parse::post_date;

use super::feed::Post;
use super::html::Document;
use super::select::SelectorList;

/// The selectors of a `page` source (parsed with the configuration).
#[derive(Clone, Copy, Debug)]
pub struct PostSelectors<'a> {
    pub items: &'a SelectorList,
    pub dates: Option<&'a SelectorList>,
    pub comments: Option<&'a SelectorList>,
}

/// What a page says of an account.
#[derive(Debug)]
pub struct PagePosts {
    pub posts: Vec<Post>,
    /// Whether the comments control is there; None when no selector asks.
    pub comments_open: Option<bool>,
}

/// Every item the item selector finds, with its date (from the date selector, else the first
/// short text in the item that reads as a date no later than today) and its first link.
pub fn page_posts(document: &Document, selectors: &PostSelectors<'_>, now: Timestamp) -> PagePosts {
    let today = xunjian_shared::time::china_today(now);
    let readable = |text: &str| post_date(text, now).filter(|published| published.date <= today);
    let posts = selectors
        .items
        .select(document, Document::ROOT)
        .into_iter()
        .map(|item| {
            let published = match selectors.dates {
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
        .collect();
    let comments_open =
        selectors.comments.as_ref().map(|selector| !selector.select(document, Document::ROOT).is_empty());
    PagePosts { posts, comments_open }
}
