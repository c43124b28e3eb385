//! The JSON report of an apply (`apply --json`): what had drifted, what was
//! fixed, what failed, was skipped or not started, and where each control
//! stands after, for schedules that correct drift and alert on what they
//! could not. Documented in `docs/json-apply.md` and versioned like the
//! plan; built from the plan as JSON so changes and controls read the same
//! in both.

use serde::Serialize;

use crate::apply::{Outcome, Report};
use crate::format::FormatVersion;
use crate::jsonplan::{JsonChange, JsonControl, JsonPlan};
use crate::kinds::Action;
use crate::observed::CallFailure;
use crate::plan::{ControlStatus, Plan, Summary};

/// 1.0: the first form.
pub const FORMAT_VERSION: FormatVersion = FormatVersion::new(1, 0);

/// How the apply ended, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// The plan had no change to make.
    NoChanges,
    /// Every change was made.
    Complete,
    /// A change failed, so others were skipped or not started.
    Incomplete,
    /// SIGINT or SIGTERM: the call in flight finished, no new one started.
    Interrupted,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    pub format_version: FormatVersion,
    /// The run's id, as in its journal lines.
    pub run_id: String,
    pub benchmark: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    pub exit_reason: ExitReason,
    /// The process's exit code (also for `--detailed-exitcode`).
    pub exit_code: u8,
    pub drifted: Drifted,
    /// The changes made.
    pub fixed: Vec<Made>,
    pub failed: Vec<FailedChange>,
    pub skipped: Vec<NotMade>,
    pub not_started: Vec<NotMade>,
    /// Every managed control as it stands after the run.
    pub controls: Vec<JsonControl>,
    /// What was made, counted as Terraform counts.
    pub summary: Summary,
    /// Reads that failed before planning (their controls are `unknown`).
    pub failed_reads: Vec<CallFailure>,
    /// Where the run's writes were journalled; absent when it wrote nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal: Option<String>,
}

/// The account as it was found: the changes planned, those held back for
/// an opt-in, and every control that was not compliant.
#[derive(Debug, Clone, Serialize)]
pub struct Drifted {
    pub changes: Vec<JsonChange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held_back: Vec<JsonChange>,
    pub controls: Vec<JsonControl>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Made {
    pub address: String,
    pub action: Action,
    /// What AWS returned (an ARN), where it returned one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailedChange {
    pub address: String,
    pub action: Action,
    pub error: CallFailure,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotMade {
    pub address: String,
    pub action: Action,
    pub because: String,
}

impl ApplyReport {
    /// The report of a run that planned `planned`, made what `report`
    /// says, and left the controls as `after` says.
    pub fn new(
        run_id: &str,
        planned: &Plan,
        report: &Report,
        after: &Plan,
        exit_reason: ExitReason,
        exit_code: u8,
    ) -> ApplyReport {
        let before = JsonPlan::from_plan(planned);
        let mut out = ApplyReport {
            format_version: FORMAT_VERSION,
            run_id: run_id.to_string(),
            benchmark: before.benchmark.clone(),
            account_id: before.account_id.clone(),
            exit_reason,
            exit_code,
            drifted: Drifted {
                changes: before.changes,
                held_back: before.held_back,
                controls: before
                    .controls
                    .into_iter()
                    .filter(|c| c.status != ControlStatus::Compliant)
                    .collect(),
            },
            fixed: vec![],
            failed: vec![],
            skipped: vec![],
            not_started: vec![],
            controls: JsonPlan::from_plan(after).controls,
            summary: report.summary(),
            failed_reads: planned.failed_reads.clone(),
            journal: None,
        };
        for r in &report.results {
            let (address, action) = (r.address.to_string(), r.action);
            match &r.outcome {
                Outcome::Done { id, note } => out.fixed.push(Made {
                    address,
                    action,
                    id: id.clone(),
                    note: note.clone(),
                }),
                Outcome::Failed(error) => out.failed.push(FailedChange {
                    address,
                    action,
                    error: error.clone(),
                }),
                Outcome::Skipped { because } => out.skipped.push(NotMade {
                    address,
                    action,
                    because: because.clone(),
                }),
                Outcome::NotStarted { because } => out.not_started.push(NotMade {
                    address,
                    action,
                    because: because.clone(),
                }),
            }
        }
        out
    }

    pub fn with_journal(mut self, path: Option<String>) -> ApplyReport {
        self.journal = path;
        self
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::ChangeResult;

    fn plan() -> Plan {
        let b = crate::benchmark::load("3.0.0").expect("benchmark");
        let c = crate::config::Config::parse(
            "sns:\n  subscriptions:\n    - protocol: email\n      endpoint: a@example.com\n",
            "c",
        )
        .expect("config");
        let d = crate::desired::build(&b, &c, "c").expect("desired");
        let snap = crate::snapshot::Snapshot::from_json(
            include_str!("../examples/accounts/partly-compliant.json"),
            "partly",
        )
        .expect("snapshot");
        crate::diff::plan(&d, &snap, crate::date::Date::from_days(20_000)).expect("plan")
    }

    #[test]
    fn sorts_each_change_by_how_it_ended() {
        let p = plan();
        assert!(p.changes.len() >= 3);
        let outcomes = [
            Outcome::Done {
                id: Some("arn:x".into()),
                note: None,
            },
            Outcome::Failed(CallFailure {
                call: "logs:PutMetricFilter".into(),
                region: "us-east-1".into(),
                resource: None,
                code: Some("AccessDenied".into()),
                message: "no".into(),
                detail: None,
            }),
            Outcome::Skipped {
                because: "x failed".into(),
            },
        ];
        let report = Report {
            results: p
                .changes
                .iter()
                .enumerate()
                .map(|(i, c)| ChangeResult {
                    address: c.address.clone(),
                    action: c.action,
                    outcome: outcomes.get(i).cloned().unwrap_or(Outcome::NotStarted {
                        because: "the run was interrupted".into(),
                    }),
                })
                .collect(),
        };
        let after = crate::apply::after(&p, &report);
        let r = ApplyReport::new("r", &p, &report, &after, ExitReason::Incomplete, 1);
        assert_eq!(r.drifted.changes.len(), p.changes.len());
        assert!(
            r.drifted
                .controls
                .iter()
                .all(|c| c.status != ControlStatus::Compliant)
        );
        assert!(!r.drifted.controls.is_empty());
        assert_eq!((r.fixed.len(), r.failed.len(), r.skipped.len()), (1, 1, 1));
        assert_eq!(r.not_started.len(), p.changes.len() - 3);
        assert_eq!(r.fixed[0].id.as_deref(), Some("arn:x"));
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).expect("JSON");
        assert_eq!(v["format_version"], "1.0");
        assert_eq!(v["exit_reason"], "incomplete");
        assert_eq!(v["failed"][0]["error"]["code"], "AccessDenied");
        assert_eq!(
            v["controls"].as_array().map(Vec::len),
            Some(p.controls.len())
        );
        assert!(v.get("journal").is_none());
    }
}
