//! Everything the xunjian agent and collector agree on: the wire schema, configuration types and
//! their loader, HTML and CSS selectors (parsed once, with the configuration), and date and
//! calendar logic, and the binaries' logging. Knows nothing of tokio, HTTP or SQLite.
#![forbid(unsafe_code)]

pub mod closed_set;
pub mod config;
pub mod logging;
pub mod markup;
pub mod retry;
pub mod time;
pub mod verdict;
pub mod wire;
pub mod x509;
