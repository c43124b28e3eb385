//! cis-fix's own monitoring resources that no control of the chosen
//! version needs any more: retired (destroyed), so moving to another
//! benchmark version never leaves a second alarm behind for one change.
//!
//! What makes retiring safe:
//! - only cis-fix's own: an alarm with the description cis-fix writes, a
//!   filter with the name and metric (in the configured namespace) cis-fix
//!   gives some control; never a name this version's controls use;
//! - only what no chain of this version uses, decided only when every
//!   control was judged and none is blocked or unknown;
//! - a filter only when every alarm on its metric goes too (a user's alarm
//!   on it keeps it, and the plan says so);
//! - an alarm only when a filter on a log group in view feeds it;
//! - destroys run after every other change and are skipped when one of
//!   those failed, so nothing is removed before what replaces it exists.

use std::collections::{BTreeSet, HashSet};

use super::chain::Chain;
use super::view::RegionView;
use crate::address::Address;
use crate::desired::{DesiredMonitoring, OwnedNames, alarm_owner};
use crate::diff::builder::PlanBuilder;
use crate::kinds::{Kind, MetricAlarm, MetricFilter, Resource};
use crate::plan::{Action, Change, Notice};

/// What this version's controls rely on or will: (region, log group,
/// filter) and (region, alarm).
#[derive(Default)]
pub struct Used {
    pub filters: BTreeSet<(String, String, String)>,
    pub alarms: BTreeSet<(String, String)>,
}

impl Used {
    pub fn note(&mut self, region: &str, chain: &Chain) {
        let (lg, f) = &chain.filter;
        self.filters
            .insert((region.to_string(), lg.clone(), f.clone()));
        self.alarms
            .insert((region.to_string(), chain.alarm.clone()));
    }
}

fn owner_of_filter<'a>(d: &'a DesiredMonitoring, f: &MetricFilter) -> Option<&'a OwnedNames> {
    if f.metric_namespace != d.namespace {
        return None;
    }
    d.retired
        .iter()
        .find(|o| o.filter_name == f.name && o.metric_name == f.metric_name)
}

/// `v1.4.0`, or `v1.4.0 to v5.0.0` (the versions are in order).
fn versions(vs: &[String]) -> String {
    match vs {
        [] => String::new(),
        [one] => format!("v{one}"),
        [first, .., last] => format!("v{first} to v{last}"),
    }
}

pub fn plan(
    d: &DesiredMonitoring,
    version: &str,
    view: &RegionView<'_>,
    log_groups: &[&str],
    used: &Used,
    out: &mut PlanBuilder,
) {
    let region = view.region;
    let at = out.at(region);
    let Ok(alarms) = view.alarms() else { return };
    let mut filters: Vec<(&str, &MetricFilter)> = Vec::new();
    for lg in log_groups {
        let Ok(lgv) = view.log_group(lg) else { return };
        filters.extend(lgv.filters.iter().map(|(f, _)| (*lg, *f)));
    }
    let is_current = |name: &str| d.controls.iter().any(|c| c.alarm_name == name);
    // Alarms fed by a filter in view, found through the index by metric.
    let fed: HashSet<&str> = filters
        .iter()
        .flat_map(|(_, f)| alarms.watching(f))
        .map(|a| a.name.as_str())
        .collect();
    let retiring: Vec<(&MetricAlarm, (&str, &str))> = alarms
        .all()
        .iter()
        .filter(|a| fed.contains(a.name.as_str()))
        .filter(|a| !used.alarms.contains(&(region.to_string(), a.name.clone())))
        .filter(|a| !is_current(&a.name))
        .filter_map(|a| alarm_owner(a.description.as_deref()).map(|o| (a, o)))
        .collect();
    let retiring_names: HashSet<&str> = retiring.iter().map(|(a, _)| a.name.as_str()).collect();
    // Nothing is removed before what this plan makes or fixes is in place:
    // a failed change skips every destroy.
    let after: Vec<Address> = out
        .changes
        .iter()
        .filter(|c| c.action != Action::Delete)
        .map(|c| c.address.clone())
        .collect();
    let mut kept_notices = Vec::new();
    let mut retire = |address: Address, reason: String, before: Resource| {
        out.change(Change {
            address,
            action: Action::Delete,
            controls: vec![],
            reason,
            before: Some(before),
            after: None,
            depends_on: after.clone(),
        });
    };
    for (lg, f) in &filters {
        let key = (region.to_string(), lg.to_string(), f.name.clone());
        if used.filters.contains(&key) {
            continue;
        }
        let Some(owner) = owner_of_filter(d, f) else {
            continue;
        };
        let kept: Vec<&str> = alarms
            .watching(f)
            .into_iter()
            .filter(|a| !retiring_names.contains(a.name.as_str()))
            .map(|a| a.name.as_str())
            .collect();
        if !kept.is_empty() {
            kept_notices.push(Notice::RetirementKept {
                filter: f.name.clone(),
                log_group: lg.to_string(),
                alarms: kept.iter().map(|a| a.to_string()).collect(),
            });
            continue;
        }
        retire(
            Address::new(&at, MetricFilter::TYPE, &f.name).with_key(lg),
            format!(
                "filter `{}` on log group `{lg}` is cis-fix's own for control {} of CIS {}, and no control of v{version} needs it",
                f.name,
                owner.id,
                versions(&owner.versions)
            ),
            Resource::MetricFilter((*f).clone()),
        );
    }
    for (a, (v, id)) in retiring {
        retire(
            Address::new(&at, MetricAlarm::TYPE, &a.name),
            format!(
                "alarm `{}` is cis-fix's own for control {id} of CIS v{v}, and no control of v{version} needs it",
                a.name
            ),
            Resource::MetricAlarm(a.clone()),
        );
    }
    for n in kept_notices {
        out.notice(n);
    }
}
