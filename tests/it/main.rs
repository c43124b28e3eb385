//! Every integration test, in one test binary: the harness in `support` is
//! compiled once, and cargo links one executable instead of one per file.
//! Select a file's tests by its module path, e.g.
//! `cargo test --test it resilience::`.

mod support;

mod bench_minimal;
mod cli_inputs;
mod cloudtrail;
mod examples;
mod exceptions;
mod faults_selftest;
mod flow_logs;
mod harness_selftest;
mod kms_rotation;
mod loaders_props;
mod lock_journal;
mod monitoring;
mod offline;
mod organization;
mod password_policy;
mod pattern_corpus;
mod pattern_props;
mod render_golden;
mod resilience;
mod saved_plan;
mod security_groups;
mod trail_io;
