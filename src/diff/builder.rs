//! Collects the plan while the diff walks the controls. Two changes at one
//! address are one resource planned twice: an error, never merged. A change
//! that serves several controls (the topic) is planned once and told about
//! each control with [`PlanBuilder::serve`].

use crate::address::{Address, Location};
use crate::kinds::{self, Action};
use crate::plan::{Cause, Change, ControlReport, ControlStatus, HeldBack, Notice, OptIn};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DiffError {
    #[error(
        "internal error: two changes were planned for {address} ({first} and {second}); nothing is planned. Please report this."
    )]
    DuplicateAddress {
        address: String,
        first: String,
        second: String,
    },
}

/// What a finished builder holds.
#[derive(Debug)]
pub struct Parts {
    pub notices: Vec<Notice>,
    pub changes: Vec<Change>,
    pub held_back: Vec<HeldBack>,
    pub controls: Vec<ControlReport>,
}

pub struct PlanBuilder {
    /// The account being planned, for addresses.
    pub account: Option<String>,
    pub notices: Vec<Notice>,
    pub changes: Vec<Change>,
    /// Changes waiting for an opt-in: shown, never applied.
    pub held_back: Vec<HeldBack>,
    pub controls: Vec<ControlReport>,
    error: Option<DiffError>,
}

impl PlanBuilder {
    pub fn new(account: Option<&str>) -> Self {
        PlanBuilder {
            account: account.map(str::to_string),
            notices: vec![],
            changes: vec![],
            held_back: vec![],
            controls: vec![],
            error: None,
        }
    }

    /// Where a resource of this account in `region` lives.
    pub fn at(&self, region: &str) -> Location {
        Location::new(self.account.as_deref(), region)
    }

    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    pub fn notice(&mut self, n: Notice) {
        self.notices.push(n);
    }

    /// Adds a change. An update that cannot happen in place (the kind says
    /// so) becomes a replacement, with the reason.
    pub fn change(&mut self, mut change: Change) {
        if change.action == Action::Update
            && let (Some(b), Some(a)) = (&change.before, &change.after)
            && let Some(why) = kinds::forces_replacement(b, a)
        {
            change.action = Action::Replace;
            change.reason = format!("{}; it must be replaced: {why}", change.reason);
        }
        if let Some(existing) = self.changes.iter().find(|c| c.address == change.address) {
            self.error.get_or_insert(DiffError::DuplicateAddress {
                address: change.address.to_string(),
                first: existing.reason.clone(),
                second: change.reason,
            });
            return;
        }
        self.changes.push(change);
    }

    /// Plans `change` when `allowed`, else holds it back until `opt_in` is
    /// given. Returns whether it was planned.
    pub fn change_or_hold(&mut self, change: Change, opt_in: OptIn, allowed: bool) -> bool {
        if allowed {
            self.change(change);
        } else {
            self.held_back.push(HeldBack { change, opt_in });
        }
        allowed
    }

    /// Makes every metric filter planned on `log_group` wait for
    /// `prerequisites` (the trail fix and log group that make it receive
    /// events).
    pub fn wait_for(&mut self, log_group: &crate::kinds::LogGroupRef, prerequisites: &[Address]) {
        for c in &mut self.changes {
            if c.address.region() != log_group.region {
                continue;
            }
            if let Some(kinds::Resource::MetricFilter(f)) = &c.after
                && f.log_group_name == log_group.name
            {
                for p in prerequisites {
                    if !c.depends_on.contains(p) {
                        c.depends_on.push(p.clone());
                    }
                }
            }
        }
    }

    /// How many changes are planned: a point to go back to when a fix turns
    /// out to rest on a fact that could not be read.
    pub fn mark(&self) -> usize {
        self.changes.len()
    }

    /// Drops the changes planned since `mark`: nothing is planned from
    /// missing data, not even the first steps of a fix.
    pub fn rollback(&mut self, mark: usize) {
        self.changes.truncate(mark);
    }

    /// Records that the change at `address` also serves control `id`.
    pub fn serve(&mut self, address: &Address, id: &str) {
        if let Some(c) = self.changes.iter_mut().find(|c| &c.address == address)
            && !c.controls.iter().any(|x| x == id)
        {
            c.controls.push(id.to_string());
        }
    }

    pub fn control(
        &mut self,
        (id, title): (&str, &str),
        status: ControlStatus,
        reason: String,
        cause: Option<Cause>,
    ) {
        self.controls.push(ControlReport {
            id: id.to_string(),
            title: title.to_string(),
            status,
            reason,
            cause,
            exception: None,
            excepted: vec![],
        });
    }

    /// The plan's parts: notices most pressing first, controls in the
    /// benchmark's order (`order`: every control id of the version).
    pub fn finish(mut self, order: &[String]) -> Result<Parts, DiffError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.notices.sort_by_key(Notice::rank);
        // Grouped by region, global first, each group in planning order (a
        // stable sort; apply orders by dependencies anyway).
        self.changes.sort_by(|a, b| {
            let key = |c: &Change| {
                let r = c.address.region();
                (r != crate::address::GLOBAL, r.to_string())
            };
            key(a).cmp(&key(b))
        });
        let pos = |id: &str| order.iter().position(|o| o == id).unwrap_or(usize::MAX);
        self.controls.sort_by_key(|c| pos(&c.id));
        Ok(Parts {
            notices: self.notices,
            changes: self.changes,
            held_back: self.held_back,
            controls: self.controls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::{MetricFilter, Resource, Topic};

    fn topic_change(reason: &str) -> Change {
        let at = Location::new(Some("1"), "us-east-1");
        Change {
            address: Address::new(&at, "aws_sns_topic", "t"),
            action: Action::Create,
            controls: vec![],
            reason: reason.into(),
            before: None,
            after: Some(Resource::Topic(Topic {
                name: "t".into(),
                arn: "x".into(),
            })),
            depends_on: vec![],
        }
    }

    #[test]
    fn a_second_change_at_one_address_is_an_error() {
        let mut b = PlanBuilder::new(Some("1"));
        b.change(topic_change("first"));
        b.change(topic_change("second"));
        let err = b.finish(&[]).unwrap_err();
        assert!(
            err.to_string().contains("1/us-east-1/aws_sns_topic.t"),
            "{err}"
        );
    }

    #[test]
    fn an_update_that_cannot_happen_in_place_is_a_replacement() {
        let f = |name: &str| MetricFilter {
            log_group_name: "ct".into(),
            name: name.into(),
            pattern: "{ $.a = 1 }".into(),
            metric_name: "m".into(),
            metric_namespace: "n".into(),
            metric_value: "1".into(),
            default_value: None,
            dimensions: Default::default(),
            unit: None,
        };
        let mut b = PlanBuilder::new(Some("1"));
        b.change(Change {
            address: Address::new(&b.at("us-east-1"), "aws_cloudwatch_log_metric_filter", "x"),
            action: Action::Update,
            controls: vec![],
            reason: "pattern".into(),
            before: Some(Resource::MetricFilter(f("old"))),
            after: Some(Resource::MetricFilter(f("new"))),
            depends_on: vec![],
        });
        let parts = b.finish(&[]).expect("no error");
        assert_eq!(parts.changes[0].action, Action::Replace);
        assert!(
            parts.changes[0]
                .reason
                .contains("the name changes from `old` to `new`")
        );
        // Its calls delete the old filter, then write the new one.
        let calls = kinds::calls(
            Action::Replace,
            parts.changes[0].before.as_ref(),
            parts.changes[0].after.as_ref(),
        );
        assert!(matches!(
            calls.as_slice(),
            [kinds::WriteCall::DeleteMetricFilter { filter_name, .. }, kinds::WriteCall::PutMetricFilter(p)]
                if filter_name == "old" && p.name == "new"
        ));
    }

    #[test]
    fn changes_are_grouped_by_region_global_first_in_planning_order() {
        let mut b = PlanBuilder::new(Some("1"));
        for (region, name) in [
            ("us-east-1", "a"),
            ("eu-west-1", "b"),
            ("global", "c"),
            ("us-east-1", "d"),
        ] {
            let mut c = topic_change(name);
            c.address = Address::new(&b.at(region), "aws_sns_topic", name);
            b.change(c);
        }
        let parts = b.finish(&[]).expect("no error");
        let order: Vec<&str> = parts
            .changes
            .iter()
            .map(|c| c.address.name.as_str())
            .collect();
        assert_eq!(order, ["c", "b", "a", "d"]);
    }

    #[test]
    fn serving_another_control_is_not_a_second_change() {
        let mut b = PlanBuilder::new(Some("1"));
        let c = topic_change("first");
        let at = c.address.clone();
        b.change(c);
        b.serve(&at, "4.1");
        b.serve(&at, "4.1");
        let parts = b.finish(&[]).expect("no error");
        assert_eq!(parts.changes[0].controls, ["4.1"]);
    }
}
