//! Posts of an account from a JSON API, located by JSON pointers (RFC 6901): the array of posts,
//! and inside each post its date and, optionally, a comments flag or count.

use jiff::Timestamp;
use serde_json::Value;
use xunjian_shared::time::Published;
use xunjian_shared::time::parse::post_date;

use super::feed::Post;

/// What the API says.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiReading {
    pub posts: Vec<Post>,
    /// Whether the newest post that says has comments open; None when no post says.
    pub comments_open: Option<bool>,
}

/// Reads `text` as JSON; `items` points at the posts array, `date` and `comments` into a post.
pub fn read_api(
    text: &str,
    items: &str,
    date: &str,
    comments: Option<&str>,
    now: Timestamp,
) -> Result<ApiReading, String> {
    let value: Value =
        serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|err| format!("not JSON: {err}"))?;
    let array = value
        .pointer(items)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("no array at {items:?}; the API answered with other data (an error, a login page?)"))?;
    let mut posts = Vec::with_capacity(array.len());
    let mut flags: Vec<(Option<Published>, bool)> = Vec::new();
    for post in array {
        let published = post.pointer(date).and_then(scalar_text).and_then(|text| post_date(&text, now));
        if let Some(flag) = comments.and_then(|pointer| post.pointer(pointer)).and_then(open_flag) {
            flags.push((published, flag));
        }
        let title = ["/title", "/text", "/mblog/text", "/desc"]
            .iter()
            .find_map(|p| post.pointer(p).and_then(Value::as_str))
            .unwrap_or("");
        posts.push(Post { title: title.chars().take(80).collect(), link: None, published });
    }
    let comments_open = flags.iter().max_by_key(|(published, _)| *published).map(|(_, flag)| *flag);
    Ok(ApiReading { posts, comments_open })
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// `true`, a positive count, `"1"`, `"open"`, `"允许"` … are open; `false`, `0`, `"closed"`, `"关闭"` closed.
fn open_flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => number.as_f64().map(|n| n > 0.0),
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "open" | "on" | "yes" | "enabled" | "允许" | "开启" | "开放" => Some(true),
            "false" | "0" | "closed" | "close" | "off" | "no" | "disabled" | "关闭" | "禁止" | "不允许" => {
                Some(false)
            }
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weibo_like_cards() {
        let now: Timestamp = "2026-11-26T04:00:00Z".parse().unwrap();
        let body = r#"{"ok":1,"data":{"cards":[
            {"mblog":{"created_at":"Fri Nov 20 08:00:00 +0800 2026","text":"空气质量周报","comments_open":false}},
            {"mblog":{"created_at":"Mon Nov 23 09:30:00 +0800 2026","text":"河长制工作推进会","comments_open":false}},
            {"mblog":{"created_at":"3小时前","text":"置顶"}}]}}"#;
        let reading = read_api(body, "/data/cards", "/mblog/created_at", Some("/mblog/comments_open"), now).unwrap();
        assert_eq!(reading.posts.len(), 3);
        let newest = reading.posts.iter().filter_map(|p| p.published).max().unwrap();
        assert_eq!(newest.to_string(), "2026-11-26T09:00:00+08:00");
        assert_eq!(reading.comments_open, Some(false));
        let counts = r#"{"list":[{"t":1795132800,"comments":12},{"t":1795219200,"comments":0}]}"#;
        let reading = read_api(counts, "/list", "/t", Some("/comments"), now).unwrap();
        assert_eq!(reading.comments_open, Some(false), "the newest post's count decides");
        assert!(
            read_api("{\"error\":\"login required\"}", "/data/cards", "/d", None, now)
                .unwrap_err()
                .contains("no array")
        );
    }
}
