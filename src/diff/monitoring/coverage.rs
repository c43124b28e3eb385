//! Organization trails from a member's side: the member's events reach a
//! log group of another account (the trail's owner), so the member's
//! monitoring controls hold only if that account's chain on that log group
//! does. The owner's chains are judged from the owner's snapshot, in the
//! same run, and given to the member's diff as data ([`Covering`]): never
//! compliant on faith.

use std::collections::BTreeMap;

use super::chain::{Found, find_chain};
use super::view::RegionView;
use crate::desired::DesiredMonitoring;
use crate::kinds::LogGroupRef;
use crate::snapshot::Snapshot;

/// How the reason of a control held by another account's chain starts:
/// what a report reads to list the evidence.
pub const COVERED: &str = "covered by organization trail";

/// The monitoring chains proven in `account` on `log_group`: control id →
/// the chain (filter → alarm → topic, subscriptions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covering {
    pub account: String,
    pub log_group: LogGroupRef,
    pub chains: BTreeMap<String, String>,
}

/// The chains of `d`'s controls that hold on `log_group` in `owner`, the
/// snapshot of the account the log group is in; `None` when `owner` is
/// another account's snapshot (nothing can be proven from it).
pub fn chains_on(
    d: &DesiredMonitoring,
    owner: &Snapshot,
    log_group: &LogGroupRef,
) -> Option<Covering> {
    if owner.account_id.as_deref() != Some(log_group.account.as_str()) {
        return None;
    }
    let view = RegionView::new(owner, &log_group.region, &[log_group.name.as_str()], &[]);
    let chains = d
        .controls
        .iter()
        .filter_map(|c| match find_chain(c, &log_group.name, &view) {
            Found::Chain(ch) => Some((c.id.clone(), ch.description)),
            _ => None,
        })
        .collect();
    Some(Covering {
        account: log_group.account.clone(),
        log_group: log_group.clone(),
        chains,
    })
}
