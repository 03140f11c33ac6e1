//! Pure readers of fetched pages: HTML into a tree, CSS selectors over it, and the dated lists
//! that freshness is judged by. No IO here; tests feed fixture files straight in.

pub mod account_refs;
pub mod feed;
pub mod guide;
pub mod hidden_links;
pub mod html_list;
pub mod interpretation;
pub mod json_api;
pub mod links;
pub mod messages;
pub mod mixed_content;
pub mod page_text;
pub mod pagination;
pub mod post_list;
pub mod script_list;
pub mod wording;

/// The parser and the selectors live in `shared`, where configuration parses selectors once.
pub use xunjian_shared::markup::{html, select};
