//! Pure readers of fetched pages: HTML into a tree, CSS selectors over it, and the dated lists
//! that freshness is judged by. No IO here; tests feed fixture files straight in.

mod entities;
pub mod feed;
pub mod html;
pub mod html_list;
pub mod json_api;
pub mod links;
pub mod messages;
pub mod post_list;
pub mod select;
pub mod wording;
