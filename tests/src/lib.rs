//! Test support for xunjian: the page corpus, the loopback site simulator and helpers that run
//! the real binaries.
#![forbid(unsafe_code)]

pub mod bench_page;
pub mod browser;
pub mod certs;
pub mod corpus;
pub mod deployment;
pub mod exposition;
pub mod harness;
pub mod history;
pub mod measure;
pub mod receiver;
