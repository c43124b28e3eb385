//! Exceptions: what the user decided to leave as it is until a date. Run
//! after every family has planned, over the plan they built, so no family
//! needs to know about exceptions and each judges its controls as it would
//! anyway; this pass then takes out what is excepted.
//!
//! The rules, on the day `today` the caller gives:
//! * An exception holds before its `expires` date; on and after it, it is
//!   ignored (a notice says so) and what it covered is judged and planned
//!   again. Within [`EXPIRY_WARNING_DAYS`] of it, a notice warns.
//! * A change is left out when every control it serves is excepted for it
//!   (the whole control, or a resource selector naming it). A change that
//!   also serves a control that is not excepted stays: the shared topic of
//!   the monitoring chain, a default group's change serving the
//!   administration-ports control too. A change another planned change
//!   depends on stays, and a prerequisite made only for left-out changes
//!   (the flow-log group and role of an excepted VPC) goes with them.
//! * A control excepted as a whole is `excepted` unless it is compliant. A
//!   control with excepted resources is `excepted` when nothing else under
//!   it is planned or held back; else it keeps its status, and its report
//!   lists what is excepted.

use std::collections::{BTreeMap, BTreeSet};

use super::builder::PlanBuilder;
use crate::address::Address;
use crate::date::Date;
use crate::desired::Exception;
use crate::plan::{
    Cause, Change, ControlStatus, EXPIRY_WARNING_DAYS, ExceptedResource, Grant, Notice,
};

/// The attributes a resource is known by in the console and the CLI, which
/// a selector may name.
const ID_FIELDS: &[&str] = &[
    "group_id",
    "vpc_id",
    "key_id",
    "arn",
    "alias",
    "aliases",
    "name",
    "bucket",
    "network_acl_id",
    "instance_id",
];

/// Whether `selector` names the resource `change` acts on: its address in
/// the plan (with or without the account), its region, the key of its
/// address, or one of its [`ID_FIELDS`].
pub fn names(selector: &str, change: &Change) -> bool {
    let a = &change.address;
    if selector == a.to_string()
        || selector == format!("{}/{}", a.region(), a.short())
        || selector == a.region()
        || a.key.as_deref() == Some(selector)
    {
        return true;
    }
    [change.after.as_ref(), change.before.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|r| match serde_json::to_value(r) {
            Ok(serde_json::Value::Object(m)) => Some(m),
            _ => None,
        })
        .any(|m| {
            ID_FIELDS.iter().any(|f| match m.get(*f) {
                Some(serde_json::Value::String(s)) => s == selector,
                Some(serde_json::Value::Array(items)) => {
                    items.iter().any(|i| i.as_str() == Some(selector))
                }
                _ => false,
            })
        })
}

fn grant(e: &Exception) -> Grant {
    Grant {
        reason: e.reason.clone(),
        approved_by: e.approved_by.clone(),
        expires: e.expires,
    }
}

/// The exception in force that excepts `change` for `control`: the whole
/// control's first, else the first resource selector naming it.
fn excepting<'a>(
    in_force: &[&'a Exception],
    control: &str,
    change: &Change,
) -> Option<&'a Exception> {
    in_force
        .iter()
        .find(|e| e.control == control && e.resource.is_none())
        .or_else(|| {
            in_force.iter().find(|e| {
                e.control == control && e.resource.as_deref().is_some_and(|r| names(r, change))
            })
        })
        .copied()
}

/// Applies `exceptions` on `today` to what the families planned in `out`.
pub fn apply(exceptions: &[Exception], today: Date, out: &mut PlanBuilder) {
    let mut in_force: Vec<&Exception> = Vec::new();
    for e in exceptions {
        let days = today.days_until(e.expires);
        if days <= 0 {
            out.notice(Notice::ExceptionExpired {
                control: e.control.clone(),
                resource: e.resource.clone(),
                expired: e.expires,
            });
            continue;
        }
        if days <= EXPIRY_WARNING_DAYS {
            out.notice(Notice::ExceptionExpiring {
                control: e.control.clone(),
                resource: e.resource.clone(),
                expires: e.expires,
                days,
            });
        }
        in_force.push(e);
    }
    if in_force.is_empty() {
        return;
    }

    let all: Vec<Change> = out
        .changes
        .iter()
        .chain(out.held_back.iter().map(|h| &h.change))
        .cloned()
        .collect();
    let excepted_for_all = |c: &Change| {
        !c.controls.is_empty()
            && c.controls
                .iter()
                .all(|id| excepting(&in_force, id, c).is_some())
    };
    let mut dropped: BTreeSet<Address> = all
        .iter()
        .filter(|c| excepted_for_all(c))
        .map(|c| c.address.clone())
        .collect();
    // What a change that stays depends on stays too.
    loop {
        let needed: Vec<Address> = all
            .iter()
            .filter(|c| !dropped.contains(&c.address))
            .flat_map(|c| c.depends_on.iter())
            .filter(|d| dropped.contains(*d))
            .cloned()
            .collect();
        if needed.is_empty() {
            break;
        }
        for n in needed {
            dropped.remove(&n);
        }
    }
    // Which resource exception names which change, per control, before
    // prerequisites join the left-out ones (those are not the user's
    // resource): left out, or changed anyway because something not
    // excepted needs it.
    let mut by_selector: BTreeMap<(String, String), (Vec<Address>, Vec<Address>)> = BTreeMap::new();
    for c in &all {
        for id in &c.controls {
            if let Some(e) = excepting(&in_force, id, c)
                && let Some(r) = &e.resource
            {
                let (left_out, kept) = by_selector.entry((id.clone(), r.clone())).or_default();
                if dropped.contains(&c.address) {
                    left_out.push(c.address.clone());
                } else {
                    kept.push(c.address.clone());
                }
            }
        }
    }
    // A prerequisite only left-out changes needed, for none but their
    // controls (the flow-log group and role serve none of their own), goes
    // with them.
    loop {
        let orphans: Vec<Address> = all
            .iter()
            .filter(|p| !dropped.contains(&p.address))
            .filter(|p| {
                let dependents: Vec<&Change> = all
                    .iter()
                    .filter(|c| c.depends_on.contains(&p.address))
                    .collect();
                !dependents.is_empty()
                    && dependents.iter().all(|d| dropped.contains(&d.address))
                    && p.controls
                        .iter()
                        .all(|id| dependents.iter().any(|d| d.controls.contains(id)))
            })
            .map(|p| p.address.clone())
            .collect();
        if orphans.is_empty() {
            break;
        }
        dropped.extend(orphans);
    }
    out.changes.retain(|c| !dropped.contains(&c.address));
    out.held_back
        .retain(|h| !dropped.contains(&h.change.address));

    let serves = |c: &Change, id: &str| c.controls.iter().any(|x| x == id);
    let mut unused: Vec<Notice> = Vec::new();
    for report in &mut out.controls {
        let id = report.id.clone();
        let planned = out.changes.iter().any(|c| serves(c, &id));
        let held = out.held_back.iter().any(|h| serves(&h.change, &id));
        if let Some(e) = in_force
            .iter()
            .find(|e| e.control == id && e.resource.is_none())
        {
            if report.status == ControlStatus::Compliant {
                unused.push(Notice::ExceptionUnused {
                    control: id,
                    resource: None,
                });
                continue;
            }
            let g = grant(e);
            report.reason = format!(
                "excepted {g} (without the exception it would be {}: {})",
                report.status.label(),
                report.reason
            );
            report.status = ControlStatus::Excepted;
            report.cause = None;
            report.exception = Some(g);
            continue;
        }
        for e in in_force
            .iter()
            .filter(|e| e.control == id && e.resource.is_some())
        {
            let selector = e.resource.clone().unwrap_or_default();
            match by_selector.get(&(id.clone(), selector.clone())) {
                Some((left_out, kept)) => report.excepted.push(ExceptedResource {
                    resource: selector,
                    addresses: left_out.clone(),
                    changed_anyway: kept.clone(),
                    exception: grant(e),
                }),
                None => unused.push(Notice::ExceptionUnused {
                    control: id.clone(),
                    resource: Some(selector),
                }),
            }
        }
        if report.excepted.is_empty() {
            continue;
        }
        let waits_for_opt_in = matches!(report.cause, Some(Cause::NeedsOptIn { .. }));
        let fixable = report.status == ControlStatus::WillFix
            || report.status == ControlStatus::Blocked && waits_for_opt_in;
        if fixable && !planned && !held {
            report.reason = format!(
                "every resource that fails it is excepted (without the exceptions it would be {}: {})",
                report.status.label(),
                report.reason
            );
            report.status = ControlStatus::Excepted;
            report.cause = None;
        } else if waits_for_opt_in && !held && planned {
            // What waited for the opt-in is excepted; the rest is planned.
            report.status = ControlStatus::WillFix;
            report.cause = None;
            report.reason =
                "the planned changes fix what is not excepted; the excepted resources are left as they are".into();
        }
    }
    // A whole exception of a control this plan does not judge (not managed
    // by cis-fix) excepts nothing either.
    for e in in_force.iter().filter(|e| e.resource.is_none()) {
        if !out.controls.iter().any(|c| c.id == e.control) {
            unused.push(Notice::ExceptionUnused {
                control: e.control.clone(),
                resource: None,
            });
        }
    }
    for n in unused {
        out.notice(n);
    }
}

#[cfg(test)]
mod tests;
