//! The pure heart of cis-fix: (desired state, live snapshot) → plan. No I/O,
//! no async: every decision is testable with plain values.
//!
//! Controls come in families, each with its own prerequisites: only the
//! monitoring family needs a qualifying trail, so nothing else is ever
//! blocked on CloudTrail. A family plans its controls and changes into the
//! one [`PlanBuilder`]; a new family is a module and a line in [`plan`].

mod builder;
pub mod cloudtrail;
pub mod exceptions;
pub mod flow_logs;
pub mod kms_rotation;
pub mod monitoring;
pub mod network;
pub mod password_policy;
pub mod signal;
pub mod trail;

pub use builder::DiffError;

use crate::benchmark::{Benchmark, Control, Kind};
use crate::date::Date;
use crate::desired::Desired;
use crate::plan::{Notice, Plan};
use crate::snapshot::Snapshot;
use builder::PlanBuilder;

/// A family of controls cis-fix plans: which benchmark kind it covers, the
/// resource kinds it manages, and what a control of it needs, in words.
pub struct Family {
    pub kind: Kind,
    /// Terraform types of the resources it plans (see `kinds::KINDS`).
    pub resource_kinds: &'static [&'static str],
    pub needs: fn(&Benchmark, &Control) -> String,
}

/// Every family cis-fix plans; a benchmark control of another kind is
/// listed by `controls` but not managed.
pub const FAMILIES: &[Family] = &[
    monitoring::FAMILY,
    cloudtrail::FAMILY,
    password_policy::FAMILY,
    kms_rotation::FAMILY,
    flow_logs::FAMILY,
    network::DEFAULT_SG,
    network::SG_ADMIN_PORTS,
    network::EBS,
    network::NACL_ADMIN_PORTS,
    network::IMDSV2,
];

pub fn family(kind: Kind) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.kind == kind)
}

/// The plan for `desired` against `snap` on `today`, the day that decides
/// which exceptions are in force: given by the caller, so the diff reads no
/// clock.
pub fn plan(desired: &Desired, snap: &Snapshot, today: Date) -> Result<Plan, DiffError> {
    plan_covered(desired, snap, today, &[])
}

/// [`plan`] for a member account of an organization run: `covering` holds
/// the monitoring chains proven in the accounts its organization trail
/// delivers to (see [`monitoring::coverage`]).
pub fn plan_covered(
    desired: &Desired,
    snap: &Snapshot,
    today: Date,
    covering: &[monitoring::coverage::Covering],
) -> Result<Plan, DiffError> {
    let mut out = PlanBuilder::new(snap.account_id.as_deref());
    // The trail first: the monitoring chain starts from the trail it fixes
    // or creates, in the same plan.
    let outlook = cloudtrail::plan(
        &desired.trail,
        !desired.monitoring.controls.is_empty(),
        snap,
        &mut out,
    );
    monitoring::plan(
        &desired.monitoring,
        &desired.benchmark_version,
        snap,
        outlook.planned.as_ref(),
        covering,
        &mut out,
    );
    if let Some(p) = &outlook.planned {
        out.wait_for(&p.log_group, &p.prerequisites);
    }
    password_policy::plan(&desired.password, snap, &mut out);
    // After the trail: its key's update may serve rotation too.
    kms_rotation::plan(&desired.kms, snap, &mut out);
    flow_logs::plan(&desired.flow_logs, snap, &mut out);
    network::plan(desired, snap, &mut out);
    // After every family: what is excepted leaves the plan before anything
    // below counts its changes or causes.
    exceptions::apply(&desired.exceptions, today, &mut out);
    // Say it before apply refuses, so plan and apply agree.
    if out.has_changes()
        && let Some(topic) = out.controls.iter().find_map(|c| match &c.cause {
            Some(crate::plan::Cause::NoSubscriber { topic }) => Some(topic.clone()),
            _ => None,
        })
    {
        out.notice(Notice::NobodyToNotify { topic });
    }
    let failed_reads = snap.failures();
    // A failed trail listing has its own notice already.
    if failed_reads
        .iter()
        .any(|f| f.call != crate::kinds::trail::READ)
    {
        out.notice(Notice::ReadsFailed {
            failures: failed_reads.clone(),
        });
    }
    let parts = out.finish(&desired.control_order)?;
    // Regions proper: IAM's reads are keyed `global`, which is none.
    let regions: Vec<String> = snap
        .reads
        .keys()
        .filter(|k| k.region != crate::address::GLOBAL)
        .map(|k| k.region.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let unmanaged = desired
        .control_order
        .iter()
        .filter(|id| !parts.controls.iter().any(|c| &&c.id == id))
        .cloned()
        .collect();
    // What apply will make, priced: held-back and excepted changes are not.
    let cost = crate::cost::estimate(&parts.changes, &crate::cost::Facts::of(snap), &desired.cost);
    Ok(Plan {
        benchmark: desired.benchmark_version.clone(),
        benchmark_title: desired.benchmark_title.clone(),
        account_id: snap.account_id.clone(),
        caller_arn: snap.caller_arn.clone(),
        regions,
        unmanaged,
        notices: parts.notices,
        changes: parts.changes,
        held_back: parts.held_back,
        controls: parts.controls,
        failed_reads,
        cost: Some(cost),
    })
}

#[cfg(test)]
mod tests;
