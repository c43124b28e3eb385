//! The pure heart of cis-fix: (desired state, live snapshot) → plan. No I/O,
//! no async: every decision is testable with plain values.

mod builder;
mod monitoring;
pub mod signal;
pub mod trail;

use crate::desired::Desired;
use crate::plan::{self, ControlStatus, Plan, Severity};
use crate::snapshot::{Observed, Snapshot};
use builder::PlanBuilder;

const NO_TRAIL: &str = "No CloudTrail trail qualifies";

pub fn plan(desired: &Desired, snap: &Snapshot) -> Plan {
    let mut out = PlanBuilder::default();
    let m = &desired.monitoring;
    match &snap.trails {
        Observed::Failed(e) => {
            out.notice(
                Severity::Error,
                "Trails could not be read, so no monitoring control can be judged.".into(),
                vec![e.to_string()],
            );
            for c in &m.controls {
                out.control(
                    c,
                    ControlStatus::Unknown,
                    format!("cannot tell: {e}; nothing is planned for this control"),
                );
            }
        }
        Observed::Ok(trails) => {
            let a = trail::assess(trails, snap.account_id.as_deref());
            if a.candidates.is_empty() && a.unknown.is_empty() {
                let details = if trails.is_empty() {
                    vec!["the account has no CloudTrail trails".to_string()]
                } else {
                    a.rejected.clone()
                };
                out.notice(
                    Severity::Error,
                    format!("{NO_TRAIL}: the monitoring controls need a multi-region trail that is logging all read and write management events to a CloudWatch Logs log group. They are blocked until one does."),
                    details,
                );
                for c in &m.controls {
                    out.control(
                        c,
                        ControlStatus::Blocked,
                        "blocked: no CloudTrail trail delivers all management events to CloudWatch Logs".into(),
                    );
                }
            } else {
                if !a.rejected.is_empty() && !a.candidates.is_empty() {
                    out.notice(
                        Severity::Info,
                        format!(
                            "Using trail{} {} for the monitoring controls; other trails do not qualify.",
                            if a.candidates.len() == 1 { "" } else { "s" },
                            a.candidates
                                .iter()
                                .map(|c| format!("`{}` (log group {})", c.trail, c.log_group))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        a.rejected.clone(),
                    );
                }
                monitoring::plan(
                    m,
                    &desired.benchmark_version,
                    snap,
                    &a.candidates,
                    &a.unknown,
                    &mut out,
                );
            }
        }
    }
    let failed_reads = snap.failures();
    if !failed_reads.is_empty() && !matches!(snap.trails, Observed::Failed(_)) {
        // After the trail blocker, which the user must read first.
        let at = usize::from(
            out.notices
                .first()
                .is_some_and(|n| n.message.starts_with(NO_TRAIL)),
        );
        out.notices.insert(
            at,
            plan::Notice {
                severity: Severity::Error,
                message: "Some reads failed; what depends on them is unknown and nothing is planned from missing data.".into(),
                details: failed_reads.iter().map(ToString::to_string).collect(),
            },
        );
    }
    let summary = Plan::summarise(&out.changes);
    Plan {
        format_version: plan::FORMAT_VERSION.to_string(),
        benchmark: desired.benchmark_version.clone(),
        benchmark_title: desired.benchmark_title.clone(),
        account_id: snap.account_id.clone(),
        notices: out.notices,
        changes: out.changes,
        controls: out.controls,
        summary,
        failed_reads,
    }
}

#[cfg(test)]
mod tests;
