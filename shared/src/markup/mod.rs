//! HTML as xunjian reads it: a tolerant parser into a flat tree (`html`), the CSS selector
//! subset people write in configurations (`select`), and the HTML5 named references. Here, not
//! in the agent, so that configuration holds selectors already parsed: a bad one is refused
//! with its key and line when the file is loaded, and nothing parses it again later.

mod entities;
pub mod html;
pub mod select;
