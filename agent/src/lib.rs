//! The xunjian agent: probes a county's government websites and accounts and reports what it finds.
#![forbid(unsafe_code)]

pub mod batch;
pub mod checks;
pub mod extract;
pub mod fetch;
pub mod push;
pub mod run;
pub mod schedule;
pub mod self_metrics;
pub mod spool;
pub mod table;
