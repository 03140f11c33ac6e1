//! A loopback simulator of government websites, for xunjian's demo and tests: a real HTTP/1.1
//! server that serves pages, redirects and misbehaviour, and pages of made-up counties whose
//! dates move with the clock.
#![forbid(unsafe_code)]

pub mod county;
mod server;

pub use server::{Route, Sim};
