//! cis-fix's own monitoring resources that no control of the chosen
//! version needs any more: retired (destroyed), so moving to another
//! benchmark version never leaves a second alarm behind for one change.
//! A resource still in a working chain of this version is reused, not
//! retired; one cis-fix did not make is never touched.

use std::collections::BTreeSet;

use super::chain::Chain;
use super::view::RegionView;
use crate::address::Address;
use crate::desired::{DesiredMonitoring, OwnedNames, alarm_description};
use crate::diff::builder::PlanBuilder;
use crate::kinds::{Kind, MetricAlarm, MetricFilter, Resource};
use crate::plan::{Action, Change};

/// What this version's controls rely on or will: (log group, filter)
/// names and alarm names.
#[derive(Default)]
pub struct Used {
    pub filters: BTreeSet<(String, String)>,
    pub alarms: BTreeSet<String>,
}

impl Used {
    pub fn note(&mut self, chain: &Chain) {
        self.filters.insert(chain.filter.clone());
        self.alarms.insert(chain.alarm.clone());
    }
}

/// A filter is cis-fix's when both its name and its metric are the ones
/// cis-fix gives some control of some version; an alarm, when its name is
/// and its description is the one cis-fix writes.
fn owner_of_filter<'a>(d: &'a DesiredMonitoring, f: &MetricFilter) -> Option<&'a OwnedNames> {
    d.retired
        .iter()
        .find(|o| o.filter_name == f.name && o.metric_name == f.metric_name)
}

fn owner_of_alarm<'a>(d: &'a DesiredMonitoring, a: &MetricAlarm) -> Option<&'a OwnedNames> {
    d.retired.iter().find(|o| {
        o.alarm_name == a.name
            && o.versions.iter().any(|(v, title)| {
                a.description.as_deref() == Some(&alarm_description(v, &o.id, title))
            })
    })
}

/// `v1.4.0`, or `v1.4.0 to v5.0.0` (the versions are in order).
fn versions(vs: &[(String, String)]) -> String {
    match vs {
        [] => String::new(),
        [(one, _)] => format!("v{one}"),
        [(first, _), .., (last, _)] => format!("v{first} to v{last}"),
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
    let at = out.at(view.region);
    let mut retire = |address: Address, owner: &OwnedNames, what: String, before: Resource| {
        out.change(Change {
            address,
            action: Action::Delete,
            controls: vec![],
            reason: format!(
                "{what} is cis-fix's own for control {} of CIS {}, and no control of v{version} needs it",
                owner.id,
                versions(&owner.versions)
            ),
            before: Some(before),
            after: None,
            depends_on: vec![],
        });
    };
    for lg in log_groups {
        let Ok(lgv) = view.log_group(lg) else {
            continue;
        };
        for (f, _) in &lgv.filters {
            if used.filters.contains(&(lg.to_string(), f.name.clone())) {
                continue;
            }
            if let Some(owner) = owner_of_filter(d, f) {
                retire(
                    Address::new(&at, MetricFilter::TYPE, &f.name),
                    owner,
                    format!("filter `{}` on log group `{lg}`", f.name),
                    Resource::MetricFilter((*f).clone()),
                );
            }
        }
    }
    let Ok(alarms) = view.alarms() else { return };
    for a in alarms {
        if used.alarms.contains(&a.name) {
            continue;
        }
        if let Some(owner) = owner_of_alarm(d, a) {
            retire(
                Address::new(&at, MetricAlarm::TYPE, &a.name),
                owner,
                format!("alarm `{}`", a.name),
                Resource::MetricAlarm(a.clone()),
            );
        }
    }
}
