//! Posts of a new-media account from a feed: RSS 2.0, RSS 1.0 (RDF), Atom, JSON Feed, which is
//! what RSS bridges publish for WeChat and Weibo accounts.
//!
//! A post's date is the first of `pubDate`, `published`, `dc:date`, `updated` (`date_published`,
//! `date_modified` in JSON Feed), read in any form [`post_date`] knows. Feeds are not always
//! newest-first, so callers take the maximum, not the first. Pure; malformed XML yields the
//! posts read before the error.

use jiff::Timestamp;
use quick_xml::events::Event;
use xunjian_shared::time::Published;
use xunjian_shared::time::parse::post_date;

/// One post.
#[derive(Clone, Debug, PartialEq)]
pub struct Post {
    pub title: String,
    pub link: Option<String>,
    pub published: Option<Published>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FeedError {
    /// Neither XML with items or entries, nor a JSON Feed.
    NotAFeed(String),
}

impl std::fmt::Display for FeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeedError::NotAFeed(why) => write!(f, "not an RSS, Atom or JSON feed: {why}"),
        }
    }
}

/// Reads a feed's posts, read at `now` (for relative dates).
pub fn read_feed(text: &str, now: Timestamp) -> Result<Vec<Post>, FeedError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        return json_feed(trimmed, now);
    }
    xml_feed(trimmed, now)
}

const DATE_FIELDS: [&str; 5] = ["pubdate", "published", "date", "issued", "updated"];

fn xml_feed(text: &str, now: Timestamp) -> Result<Vec<Post>, FeedError> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut posts = Vec::new();
    let mut seen_root = false;
    // Inside an item/entry: the field being read and what has been gathered.
    let mut in_item = false;
    let mut field: Option<String> = None;
    let mut buffer = String::new();
    let mut title = String::new();
    let mut link: Option<String> = None;
    let mut dates: Vec<(usize, String)> = Vec::new();
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(err) => {
                if !seen_root {
                    return Err(FeedError::NotAFeed(err.to_string()));
                }
                break;
            }
        };
        match event {
            Event::Start(start) => {
                seen_root = true;
                let name = start.local_name().as_ref().to_ascii_lowercase();
                if name == "item" || name == "entry" {
                    in_item = true;
                    title.clear();
                    link = None;
                    dates.clear();
                } else if in_item {
                    if name == "link" {
                        link = link.or_else(|| href_of(&start));
                    }
                    field = Some(name);
                    buffer.clear();
                }
            }
            Event::Empty(start) => {
                seen_root = true;
                if in_item && start.local_name().as_ref().eq_ignore_ascii_case("link") {
                    link = link.or_else(|| href_of(&start));
                }
            }
            Event::Text(text) if field.is_some() => buffer.push_str(&text.xml10_content()),
            Event::CData(data) if field.is_some() => buffer.push_str(&data.into_inner()),
            Event::GeneralRef(reference) if field.is_some() => {
                let decoded = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => super::html::decode_entities(&format!("&{};", reference.into_inner())),
                };
                buffer.push_str(&decoded);
            }
            Event::End(end) => {
                let name = end.local_name().as_ref().to_ascii_lowercase();
                if name == "item" || name == "entry" {
                    in_item = false;
                    dates.sort_by_key(|(rank, _)| *rank);
                    let published = dates.iter().find_map(|(_, text)| post_date(text, now));
                    posts.push(Post { title: title.trim().to_string(), link: link.take(), published });
                } else if in_item && field.as_deref() == Some(name.as_str()) {
                    let value = std::mem::take(&mut buffer);
                    if name == "title" && title.is_empty() {
                        title = value;
                    } else if name == "link" && link.is_none() && !value.trim().is_empty() {
                        link = Some(value.trim().to_string());
                    } else if let Some(rank) = DATE_FIELDS.iter().position(|f| *f == name) {
                        dates.push((rank, value));
                    }
                    field = None;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(FeedError::NotAFeed("empty document".into()));
    }
    Ok(posts)
}

fn href_of(start: &quick_xml::events::BytesStart<'_>) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|attr| attr.key.local_name().as_ref() == "href")
        .and_then(|attr| attr.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok().map(|v| v.into_owned()))
}

fn json_feed(text: &str, now: Timestamp) -> Result<Vec<Post>, FeedError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|err| FeedError::NotAFeed(err.to_string()))?;
    let items = value
        .get("items")
        .and_then(|items| items.as_array())
        .ok_or_else(|| FeedError::NotAFeed("no \"items\" array".into()))?;
    Ok(items
        .iter()
        .map(|item| {
            let text_of = |key: &str| item.get(key).and_then(|v| v.as_str()).map(str::to_string);
            let published = ["date_published", "date_modified"]
                .iter()
                .find_map(|key| text_of(key).and_then(|t| post_date(&t, now)));
            Post { title: text_of("title").unwrap_or_default(), link: text_of("url"), published }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-26T04:00:00Z".parse().unwrap()
    }

    fn newest(posts: &[Post]) -> Option<String> {
        posts.iter().filter_map(|p| p.published).max().map(|p| p.to_string())
    }

    #[test]
    fn rss_with_cdata_entities_and_unsorted_items() {
        let rss = r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>河源市生态环境局</title>
            <item><title><![CDATA[【环保】空气质量周报]]></title><link>https://weibo.example/1</link><pubDate>Mon, 16 Nov 2026 09:00:00 +0800</pubDate></item>
            <item><title>污水处理厂&amp;管网建设</title><link>https://weibo.example/2</link><pubDate>Fri, 20 Nov 2026 00:00:00 GMT</pubDate></item>
            <item><title>无日期</title></item></channel></rss>"#;
        let posts = read_feed(rss, now()).unwrap();
        assert_eq!(posts.len(), 3);
        assert_eq!(posts[0].title, "【环保】空气质量周报");
        assert_eq!(posts[1].title, "污水处理厂&管网建设");
        assert_eq!(newest(&posts).as_deref(), Some("2026-11-20T08:00:00+08:00"));
        assert_eq!(posts[2].published, None);
    }

    #[test]
    fn atom_rdf_and_json_feed() {
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>社保政策解读</title><link href="https://x/1"/><updated>2026-11-21T10:00:00+08:00</updated><published>2026-11-19T10:00:00+08:00</published></entry></feed>"#;
        let posts = read_feed(atom, now()).unwrap();
        assert_eq!(
            (posts[0].link.as_deref(), newest(&posts).as_deref()),
            (Some("https://x/1"), Some("2026-11-19T10:00:00+08:00"))
        );
        let rdf = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"><item><title>通知</title><dc:date>2026-11-18</dc:date></item></rdf:RDF>"#;
        assert_eq!(newest(&read_feed(rdf, now()).unwrap()).as_deref(), Some("2026-11-18"));
        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"公众号","items":[{"id":"1","title":"A","date_published":"2026-11-10T08:00:00+08:00"},{"id":"2","title":"B","date_published":"2026-11-22T08:00:00+08:00"}]}"#;
        assert_eq!(newest(&read_feed(json, now()).unwrap()).as_deref(), Some("2026-11-22T08:00:00+08:00"));
    }

    #[test]
    fn garbage_is_not_a_feed() {
        assert!(read_feed("<html><body>404</body></html>", now()).unwrap().is_empty());
        assert!(read_feed("", now()).is_err());
        assert!(read_feed("{\"error\": 1}", now()).is_err());
    }
}
