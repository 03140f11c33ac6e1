//! The xunjian collector: takes agents' pushes over mutual TLS, keeps them in SQLite, and
//! serves Prometheus metrics, a status page and a JSON API.
#![forbid(unsafe_code)]

pub mod admin;
pub mod alerts;
pub mod counters;
pub mod ingest;
pub mod judge;
pub mod ledger;
pub mod metrics;
pub mod people;
pub mod projection;
pub mod registry;
pub mod report;
pub mod server;
pub mod store;
pub mod tasks;
pub mod tls;
pub mod view;
pub mod web;
