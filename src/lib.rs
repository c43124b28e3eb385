//! cis-fix: bring an AWS account into line with the CIS AWS Foundations
//! Benchmark the way Terraform brings infrastructure into line with code.
//!
//! Data flows one way:
//! `benchmark` + `config` → `desired`; `aws` → `snapshot`; `diff` → `plan`;
//! `plan` → `render`, or → `apply` → `aws`.

pub mod apply;
pub mod aws;
pub mod benchmark;
pub mod config;
pub mod desired;
pub mod diff;
pub mod logging;
pub mod pattern;
pub mod plan;
pub mod progress;
pub mod render;
pub mod resources;
pub mod snapshot;
