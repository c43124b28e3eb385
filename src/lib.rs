//! cis-fix: bring an AWS account into line with the CIS AWS Foundations
//! Benchmark the way Terraform brings infrastructure into line with code.
//!
//! Data flows one way:
//! `benchmark` + `config` → `desired`; `aws` → `snapshot`; `diff` → `plan`;
//! `plan` → `jsonplan` → `render`, or `plan` → `apply` → `aws`; a plan
//! saved with the `fingerprint` of its snapshot is a `saved_plan`.
//!
//! Layers, lowest first (a module imports only from layers below it):
//! `arn`, `date`, `observed`, `format`, `address`, `logging`, `events`, `pattern` →
//! `kinds` → `snapshot`, `benchmark`, `prices` → `config` → `aws`, `desired`,
//! `plan` → `cost` → `diff`, `jsonplan`, `apply` → `lock`, `journal`,
//! `jsonreport`, `fingerprint` → `saved_plan`, `render`. `stamp` (who, when,
//! a run id, the state directory) sits with the lowest.

pub mod address;
pub mod apply;
pub mod arn;
pub mod aws;
pub mod benchmark;
pub mod config;
pub mod cost;
pub mod date;
pub mod desired;
pub mod diff;
pub mod events;
pub mod fingerprint;
pub mod fleet;
pub mod format;
pub mod journal;
pub mod jsonplan;
pub mod jsonreport;
pub mod kinds;
pub mod lock;
pub mod logging;
pub mod observed;
pub mod org;
pub mod pattern;
pub mod plan;
pub mod prices;
pub mod progress;
pub mod render;
pub mod saved_plan;
pub mod snapshot;
pub mod stamp;
