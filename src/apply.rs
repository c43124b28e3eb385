//! Plan → AWS calls, in dependency order. A failed change skips what depends
//! on it and lets independent changes go on; every change ends as done,
//! failed, skipped or not started, and the caller reports all four.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::aws::{self, Aws};
use crate::plan::{Action, Change, ControlStatus, Plan, Resource};
use crate::resources::{Deferred, protocol_needs_confirmation};
use crate::snapshot::CallFailure;

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Made; `id` is what AWS returned (an ARN) where there is one.
    Done {
        id: Option<String>,
        note: Option<String>,
    },
    Failed(CallFailure),
    /// Not attempted because something it needs failed or was skipped.
    Skipped {
        because: String,
    },
    /// Not attempted because the run was stopped (an interrupt, or a denied
    /// write that would deny the rest too).
    NotStarted {
        because: String,
    },
}

#[derive(Debug, Clone)]
pub struct ChangeResult {
    pub address: String,
    pub action: Action,
    pub outcome: Outcome,
}

#[derive(Debug, Default)]
pub struct Report {
    pub results: Vec<ChangeResult>,
}

impl Report {
    pub fn count(&self, action: Action) -> usize {
        self.results
            .iter()
            .filter(|r| r.action == action && matches!(r.outcome, Outcome::Done { .. }))
            .count()
    }

    pub fn all_done(&self) -> bool {
        self.results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Done { .. }))
    }
}

/// Progress events for the caller to print as they happen.
pub enum Event<'a> {
    Started(&'a Change),
    Finished(&'a ChangeResult),
}

/// Orders changes so each comes after what it depends on, otherwise keeping
/// plan order. A dependency on an address not in the plan is already met.
pub fn order(changes: &[Change]) -> Vec<&Change> {
    let mut placed: Vec<&Change> = Vec::with_capacity(changes.len());
    let mut left: Vec<&Change> = changes.iter().collect();
    while !left.is_empty() {
        let ready = left.iter().position(|c| {
            c.depends_on.iter().all(|d| {
                placed.iter().any(|p| &p.address == d) || !changes.iter().any(|x| &x.address == d)
            })
        });
        // A cycle cannot come from the diff; if a hand-edited plan has one,
        // fall back to plan order and let the unresolved reference fail.
        let i = ready.unwrap_or(0);
        placed.push(left.remove(i));
    }
    placed
}

pub async fn apply(
    plan: &Plan,
    aws: &Aws,
    stop: &AtomicBool,
    mut on_event: impl FnMut(Event<'_>),
) -> Report {
    let mut report = Report::default();
    // Outputs of completed changes, e.g. "aws_sns_topic.x.arn" → the ARN.
    let mut outputs: BTreeMap<String, String> = BTreeMap::new();
    let mut not_ok: BTreeMap<String, String> = BTreeMap::new();
    // Set when a write is denied: the caller lacks permissions the check
    // could not see, so nothing more is started and nothing is half-made.
    let mut denied: Option<String> = None;
    for change in order(&plan.changes) {
        let outcome = if stop.load(Ordering::SeqCst) {
            Outcome::NotStarted {
                because: "the run was interrupted".into(),
            }
        } else if let Some(d) = &denied {
            Outcome::NotStarted {
                because: format!("{d} was denied"),
            }
        } else if let Some(dep) = change.depends_on.iter().find(|d| not_ok.contains_key(*d)) {
            Outcome::Skipped {
                because: format!("{dep} {}", not_ok[dep]),
            }
        } else {
            on_event(Event::Started(change));
            execute(change, aws, &outputs).await
        };
        match &outcome {
            Outcome::Done { id: Some(id), .. } => {
                outputs.insert(format!("{}.arn", change.address), id.clone());
            }
            Outcome::Done { .. } => {}
            Outcome::Failed(e) => {
                if is_access_denied(e) {
                    denied = Some(e.call.clone());
                }
                not_ok.insert(change.address.clone(), "failed".into());
            }
            Outcome::Skipped { .. } => {
                not_ok.insert(change.address.clone(), "was skipped".into());
            }
            Outcome::NotStarted { .. } => {
                not_ok.insert(change.address.clone(), "was not started".into());
            }
        }
        let result = ChangeResult {
            address: change.address.clone(),
            action: change.action,
            outcome,
        };
        if !matches!(result.outcome, Outcome::NotStarted { .. }) {
            on_event(Event::Finished(&result));
        }
        report.results.push(result);
    }
    report
}

/// The plan's control statuses as they stand after `report`: a control whose
/// changes were all made is compliant (or still waits for a person to
/// confirm a subscription); one with a change not made keeps its planned
/// status and names what is missing.
pub fn after(plan: &Plan, report: &Report) -> Plan {
    let mut out = plan.clone();
    for c in &mut out.controls {
        let mine: Vec<&ChangeResult> = report
            .results
            .iter()
            .filter(|r| {
                plan.changes
                    .iter()
                    .any(|ch| ch.address == r.address && ch.controls.contains(&c.id))
            })
            .collect();
        if mine.is_empty() {
            continue;
        }
        if let Some(missing) = mine
            .iter()
            .find(|r| !matches!(r.outcome, Outcome::Done { .. }))
        {
            c.reason = format!("not fixed yet: {} was not made", missing.address);
            continue;
        }
        match c.status {
            ControlStatus::WillFix => {
                c.status = ControlStatus::Compliant;
                c.reason = format!("fixed: {}", c.reason);
            }
            ControlStatus::PendingConfirmation => {
                c.reason = format!("changes made; {}", c.reason);
            }
            _ => {}
        }
    }
    out.changes.clear();
    out.summary = Plan::summarise(&out.changes);
    out
}

/// The error codes AWS services use for a denied call.
pub fn is_access_denied(e: &CallFailure) -> bool {
    matches!(
        e.code.as_deref(),
        Some(
            "AccessDenied"
                | "AccessDeniedException"
                | "AuthorizationError"
                | "UnauthorizedOperation"
                | "UnauthorizedAccess"
                | "AccessDeniedFault"
        )
    )
}

fn resolve(d: &Deferred, outputs: &BTreeMap<String, String>) -> Result<String, String> {
    match d {
        Deferred::Known(s) => Ok(s.clone()),
        Deferred::AfterApply { after_apply } => {
            outputs.get(after_apply).cloned().ok_or_else(|| {
                format!("{after_apply} is not known: the change that makes it did not run")
            })
        }
    }
}

async fn execute(change: &Change, aws: &Aws, outputs: &BTreeMap<String, String>) -> Outcome {
    let rc = aws.region(&change.region);
    let unresolved = |call: &str, message: String| {
        Outcome::Failed(CallFailure {
            call: call.into(),
            region: change.region.clone(),
            resource: Some(change.address.clone()),
            code: None,
            message,
        })
    };
    let result = match &change.after {
        Resource::MetricFilter(f) => aws::put_filter(&rc, f).await.map(|()| (None, None)),
        Resource::MetricAlarm(a) => {
            let mut a = a.clone();
            let mut resolved = Vec::new();
            for d in &a.alarm_actions {
                match resolve(d, outputs) {
                    Ok(s) => resolved.push(Deferred::Known(s)),
                    Err(m) => return unresolved("cloudwatch:PutMetricAlarm", m),
                }
            }
            a.alarm_actions = resolved;
            aws::put_alarm(&rc, &a).await.map(|()| (None, None))
        }
        Resource::Topic(t) => aws::create_topic(&rc, &t.name)
            .await
            .map(|arn| (Some(arn), None)),
        Resource::Subscription(s) => {
            let topic = match resolve(&s.topic_arn, outputs) {
                Ok(t) => t,
                Err(m) => return unresolved("sns:Subscribe", m),
            };
            aws::subscribe(&rc, &topic, &s.protocol, &s.endpoint)
                .await
                .map(|arn| {
                    let note = protocol_needs_confirmation(&s.protocol).then(|| {
                        format!(
                            "pending confirmation: {} must follow the link SNS sends",
                            s.endpoint
                        )
                    });
                    (Some(arn), note)
                })
        }
    };
    match result {
        Ok((id, note)) => Outcome::Done { id, note },
        Err(e) => Outcome::Failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Topic;

    fn change(address: &str, deps: &[&str]) -> Change {
        Change {
            address: address.into(),
            action: Action::Create,
            region: "us-east-1".into(),
            controls: vec![],
            reason: String::new(),
            before: None,
            after: Resource::Topic(Topic {
                name: "t".into(),
                arn: Deferred::after_apply(address, "arn"),
            }),
            depends_on: deps.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn dependencies_come_first_otherwise_plan_order() {
        let cs = vec![
            change("alarm", &["topic", "filter"]),
            change("filter", &[]),
            change("topic", &[]),
            change("sub", &["topic"]),
            change("other", &["not-in-plan"]),
        ];
        let got: Vec<&str> = order(&cs).iter().map(|c| c.address.as_str()).collect();
        assert_eq!(got, ["filter", "topic", "alarm", "sub", "other"]);
    }

    #[test]
    fn statuses_after_apply() {
        let b = crate::benchmark::load("3.0.0").expect("benchmark");
        let d = crate::desired::build(&b, &crate::config::Config::parse("sns:\n  subscriptions:\n    - protocol: sqs\n      endpoint: arn:aws:sqs:us-east-1:1:q\n", "c").expect("config"), "c").expect("desired");
        let snap = crate::snapshot::Snapshot::from_json(
            include_str!("../examples/accounts/partly-compliant.json"),
            "partly",
        )
        .expect("snapshot");
        let plan = crate::diff::plan(&d, &snap);
        let done = |c: &Change| ChangeResult {
            address: c.address.clone(),
            action: c.action,
            outcome: Outcome::Done {
                id: None,
                note: None,
            },
        };
        let all = Report {
            results: plan.changes.iter().map(done).collect(),
        };
        let after_all = after(&plan, &all);
        assert!(
            after_all
                .controls
                .iter()
                .all(|c| c.status == ControlStatus::Compliant),
            "{:#?}",
            after_all.controls
        );
        // One alarm failed: its control is not fixed, the others are.
        let mut some = all;
        let i = some
            .results
            .iter()
            .position(|r| r.address == "aws_cloudwatch_metric_alarm.cis_4_1")
            .expect("4.1 alarm");
        some.results[i].outcome = Outcome::Skipped {
            because: "x".into(),
        };
        let partial = after(&plan, &some);
        let c41 = partial
            .controls
            .iter()
            .find(|c| c.id == "4.1")
            .expect("4.1");
        assert_eq!(c41.status, ControlStatus::WillFix);
        assert!(
            c41.reason.contains("cis_4_1 was not made"),
            "{}",
            c41.reason
        );
        assert!(
            partial
                .controls
                .iter()
                .filter(|c| c.id != "4.1")
                .all(|c| c.status == ControlStatus::Compliant)
        );
    }

    #[test]
    fn unresolved_reference_is_reported() {
        let outputs = BTreeMap::new();
        let err = resolve(&Deferred::after_apply("aws_sns_topic.t", "arn"), &outputs).unwrap_err();
        assert!(err.contains("aws_sns_topic.t.arn"));
    }
}
