//! Plan → AWS calls, in dependency order. Each change becomes the write
//! calls its kind names; a failed change skips what depends on it and lets
//! independent changes go on; every change ends as done, failed, skipped or
//! not started, and the caller reports all four.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::address::Address;
use crate::aws::{self, Aws};
use crate::kinds;
use crate::observed::CallFailure;
use crate::plan::{Action, Change, ControlStatus, Plan};

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
    pub address: Address,
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

    /// Done changes counted as Terraform counts them (a replacement adds
    /// one and destroys one).
    pub fn summary(&self) -> crate::plan::Summary {
        let (add, change, destroy) = (
            self.count(Action::Create) + self.count(Action::Replace),
            self.count(Action::Update),
            self.count(Action::Delete) + self.count(Action::Replace),
        );
        crate::plan::Summary {
            add,
            change,
            destroy,
        }
    }

    pub fn all_done(&self) -> bool {
        self.results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Done { .. }))
    }
}

/// Progress events for the caller to print or record as they happen.
pub enum Event<'a> {
    Started(&'a Change),
    /// One write call of the change is about to be made (every value known
    /// after apply filled in): the journal's intent line, so a run killed
    /// while the call is in flight still shows what it may have done.
    Calling {
        change: &'a Change,
        call: &'a kinds::WriteCall,
    },
    /// One write call of the change being made has returned: the journal's
    /// line. A change makes one or more calls, so this is finer than
    /// `Finished`, and it comes before the next call is made.
    Call(CallRecord<'a>),
    Finished(&'a ChangeResult),
}

/// A write call as it was made (every value known after apply filled in)
/// and what AWS answered: `Ok` with the id it returned, if any.
pub struct CallRecord<'a> {
    pub change: &'a Change,
    pub call: &'a kinds::WriteCall,
    pub result: Result<Option<&'a str>, &'a CallFailure>,
}

/// Orders changes so each comes after what it depends on, otherwise keeping
/// plan order; destroys go last, so what replaces a retired resource is in
/// place before it goes. A dependency on an address not in the plan is
/// already met.
pub fn order(changes: &[Change]) -> Vec<&Change> {
    let mut placed: Vec<&Change> = Vec::with_capacity(changes.len());
    let (mut left, deletes): (Vec<&Change>, Vec<&Change>) =
        changes.iter().partition(|c| c.action != Action::Delete);
    left.extend(deletes);
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
    // Outputs of completed changes: (address, "arn") → the ARN.
    let mut outputs: BTreeMap<(Address, String), String> = BTreeMap::new();
    let mut not_ok: BTreeMap<Address, &'static str> = BTreeMap::new();
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
            execute(change, aws, &outputs, stop, &mut on_event).await
        };
        match &outcome {
            Outcome::Done { id: Some(id), .. } => {
                outputs.insert((change.address.clone(), "arn".into()), id.clone());
            }
            Outcome::Done { .. } => {}
            Outcome::Failed(e) => {
                if e.is_access_denied() {
                    denied = Some(e.call.clone());
                }
                not_ok.insert(change.address.clone(), "failed");
            }
            Outcome::Skipped { .. } => {
                not_ok.insert(change.address.clone(), "was skipped");
            }
            Outcome::NotStarted { .. } => {
                not_ok.insert(change.address.clone(), "was not started");
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
                plan.change(&r.address)
                    .is_some_and(|ch| ch.controls.contains(&c.id))
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
            // What was not excepted is fixed; the excepted resources are
            // as they were, so the control is excepted, never compliant.
            ControlStatus::WillFix if !c.excepted.is_empty() => {
                c.status = ControlStatus::Excepted;
                c.reason = format!(
                    "fixed except the excepted resources ({}), which are left as they are",
                    c.excepted
                        .iter()
                        .map(|e| e.resource.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
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
    out
}

/// The calls of one change, made in turn; the first id AWS returns (the
/// ARN of what was made) is the change's output.
async fn execute(
    change: &Change,
    aws: &Aws,
    outputs: &BTreeMap<(Address, String), String>,
    stop: &AtomicBool,
    on_event: &mut impl FnMut(Event<'_>),
) -> Outcome {
    let region = change.address.region();
    let fail = |call: &str, message: String| {
        Outcome::Failed(CallFailure {
            call: call.into(),
            region: region.to_string(),
            resource: Some(change.address.to_string()),
            code: None,
            message,
            detail: None,
        })
    };
    let calls = kinds::calls(change.action, change.before.as_ref(), change.after.as_ref());
    if calls.is_empty() {
        let what = change.resource().map(|r| r.label()).unwrap_or("resource");
        return fail(
            "cis-fix",
            format!("cis-fix does not {} a {what}", change.action.verb()),
        );
    }
    let mut id: Option<String> = None;
    for (n, call) in calls.iter().enumerate() {
        // Stopped between two calls of one change (an interrupt, or a
        // journal that can no longer be written): the rest is not made, and
        // the change is reported as not fully made.
        if n > 0 && stop.load(Ordering::SeqCst) {
            return fail(
                call.iam_action(),
                format!(
                    "not made: the run was stopped after {n} of the change's {} calls; the next apply finishes it",
                    calls.len()
                ),
            );
        }
        let made = id.clone();
        let lookup = |a: Option<&Address>, attr: &str| match a {
            Some(a) => outputs.get(&(a.clone(), attr.to_string())).cloned(),
            None => made.clone().filter(|_| attr == "arn"),
        };
        let call = match call.resolve(&lookup) {
            Ok(c) => c,
            Err(m) => return fail(call.iam_action(), m),
        };
        on_event(Event::Calling {
            change,
            call: &call,
        });
        let result = aws::execute(aws, region, &call).await;
        on_event(Event::Call(CallRecord {
            change,
            call: &call,
            result: result.as_ref().map(Option::as_deref),
        }));
        match result {
            Ok(got) => {
                id = id.or(got);
            }
            Err(e) => return Outcome::Failed(e),
        }
    }
    Outcome::Done {
        id,
        note: change.after.as_ref().and_then(|r| r.applied_note()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Location;
    use crate::kinds::{Deferred, Resource, Topic};

    fn addr(name: &str) -> Address {
        Address::new(
            &Location::new(Some("1"), "us-east-1"),
            "aws_sns_topic",
            name,
        )
    }

    fn change(name: &str, action: Action, deps: &[&str]) -> Change {
        let topic = Resource::Topic(Topic {
            name: "t".into(),
            arn: Deferred::after_apply(&addr(name), "arn"),
        });
        Change {
            address: addr(name),
            action,
            controls: vec![],
            reason: String::new(),
            before: (action != Action::Create).then(|| topic.clone()),
            after: (action != Action::Delete).then_some(topic),
            depends_on: deps.iter().map(|s| addr(s)).collect(),
        }
    }

    #[test]
    fn dependencies_come_first_otherwise_plan_order_and_destroys_last() {
        let cs = vec![
            change("old", Action::Delete, &[]),
            change("alarm", Action::Create, &["topic", "filter"]),
            change("filter", Action::Create, &[]),
            change("topic", Action::Create, &[]),
            change("sub", Action::Create, &["topic"]),
            change("other", Action::Create, &["not_in_plan"]),
        ];
        let got: Vec<String> = order(&cs).iter().map(|c| c.address.name.clone()).collect();
        assert_eq!(got, ["filter", "topic", "alarm", "sub", "other", "old"]);
    }

    #[test]
    fn statuses_after_apply() {
        let b = crate::benchmark::load("3.0.0").expect("benchmark");
        let d = crate::desired::build(&b, &crate::config::Config::parse("sns:\n  subscriptions:\n    - protocol: sqs\n      endpoint: arn:aws:sqs:us-east-1:1:q\ncloudtrail:\n  access_logs:\n    bucket: access-logs\n", "c").expect("config"), "c").expect("desired");
        let snap = crate::snapshot::Snapshot::from_json(
            include_str!("../examples/accounts/partly-compliant.json"),
            "partly",
        )
        .expect("snapshot");
        let plan =
            crate::diff::plan(&d, &snap, crate::date::Date::from_days(20_000)).expect("plan");
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
            .position(|r| r.address.short() == "aws_cloudwatch_metric_alarm.cis_4_1")
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
    fn a_partly_excepted_control_is_excepted_after_apply_not_compliant() {
        let b = crate::benchmark::load("3.0.0").expect("benchmark");
        let d = crate::desired::build(&b, &crate::config::Config::default(), "c").expect("d");
        let snap = crate::snapshot::Snapshot::from_json(
            include_str!("../examples/accounts/partly-compliant.json"),
            "partly",
        )
        .expect("snapshot");
        let mut plan =
            crate::diff::plan(&d, &snap, crate::date::Date::from_days(20_000)).expect("plan");
        let c = plan
            .controls
            .iter_mut()
            .find(|c| c.status == ControlStatus::WillFix)
            .expect("a control to fix");
        let id = c.id.clone();
        c.excepted.push(crate::plan::ExceptedResource {
            resource: "i-legacy".into(),
            addresses: vec![],
            changed_anyway: vec![],
            exception: crate::plan::Grant {
                reason: "r".into(),
                approved_by: None,
                expires: crate::date::Date::from_days(20_100),
            },
        });
        let all = Report {
            results: plan
                .changes
                .iter()
                .map(|c| ChangeResult {
                    address: c.address.clone(),
                    action: c.action,
                    outcome: Outcome::Done {
                        id: None,
                        note: None,
                    },
                })
                .collect(),
        };
        let now = after(&plan, &all);
        let c = now.controls.iter().find(|c| c.id == id).expect("control");
        assert_eq!(c.status, ControlStatus::Excepted, "{c:?}");
        assert!(c.reason.contains("i-legacy"), "{}", c.reason);
    }

    #[test]
    fn unresolved_reference_is_reported() {
        let call = kinds::WriteCall::Subscribe {
            topic_arn: Deferred::after_apply(&addr("t"), "arn"),
            protocol: "email".into(),
            endpoint: "a@b.c".into(),
        };
        let none = |_: Option<&Address>, _: &str| None;
        let err = call.resolve(&none).unwrap_err();
        assert!(err.contains("aws_sns_topic.t.arn"), "{err}");
    }
}
