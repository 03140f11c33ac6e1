//! The quarterly 通报 (issue 12), built on the verdicts, the problem ledger and the history.
//!
//! Landed so far: the period a report covers ([`period`]) and its 整改 deadline. The report's
//! content (总体情况, 主要问题 as data-driven groups, per-county tables, 附件, 整改要求) and its
//! renderers (docx, xlsx, html, pdf, csv, md) follow, each a pure function of the content.

pub mod period;
