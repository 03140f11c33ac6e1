//! End-to-end tests: one binary, one module per feature.

mod alerts;
mod boards_accounts;
mod check_cli;
mod console;
mod corpus_extraction;
mod demo;
mod deploy;
mod faults;
mod golden;
mod hostile;
mod judgement;
mod parser_differential;
mod people;
mod push;
mod push_refusals;
mod push_retry;
mod registry;
mod report;
mod secrets;
mod security;
mod tasks;
mod tls;
mod trust_connections;
mod trust_ingest;
mod trust_notify;
mod trust_small;
