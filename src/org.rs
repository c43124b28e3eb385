//! The organization run (`--organization`): list the member accounts, keep
//! this worker's shard, open a session in each (the caller's own account
//! with the caller's credentials, every other through the role), read them
//! with a bound on accounts in flight (the per-call [`Limiter`] is shared,
//! so the bound on calls holds across accounts), then diff each, giving a
//! member the chains proven in the account its organization trail delivers
//! to. One account's failure is that account's outcome; the others go on.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;

use crate::aws::organizations::{self, Member, Organization, Role};
use crate::aws::{Aws, Limiter};
use crate::date::Date;
use crate::desired::Desired;
use crate::diff::{
    self,
    monitoring::coverage::{self, Covering},
};
use crate::fleet::{AccountReport, CoveredBy, OrgReport, Shard};
use crate::jsonplan::JsonPlan;
use crate::kinds::LogGroupRef;
use crate::observed::CallFailure;
use crate::plan::{ControlStatus, Plan};
use crate::progress::Progress;
use crate::snapshot::{ReadScope, Snapshot};

/// How the run reaches and bounds the accounts.
pub struct Reach<'a> {
    /// The caller's session (management account or delegated admin).
    pub base: &'a Aws,
    /// The caller's own account: planned with the caller's credentials.
    pub caller_account: &'a str,
    pub role: &'a Role,
    /// Bounds AWS calls in flight across every account.
    pub limit: &'a Limiter,
    /// Accounts read at once.
    pub accounts_in_flight: usize,
}

/// One account of the run: its session and snapshot when they could be
/// had, its plan, or why not.
pub struct AccountRun {
    pub member: Member,
    pub session: Option<Aws>,
    pub snapshot: Option<Snapshot>,
    pub plan: Result<Plan, CallFailure>,
    pub covered_by: Vec<CoveredBy>,
}

impl AccountRun {
    pub fn report(&self) -> AccountReport {
        match &self.plan {
            Ok(p) => AccountReport::planned(
                &self.member.id,
                self.member.name.clone(),
                JsonPlan::from_plan(p),
                self.covered_by.clone(),
            ),
            Err(f) => AccountReport::failed(&self.member.id, self.member.name.clone(), f.clone()),
        }
    }
}

/// The whole run.
pub struct OrgRun {
    pub organization: Organization,
    pub shard: Option<Shard>,
    pub accounts: Vec<AccountRun>,
}

impl OrgRun {
    pub fn report(&self, benchmark: &str) -> OrgReport {
        OrgReport::new(
            benchmark,
            self.organization.id.clone(),
            self.organization.management_account.clone(),
            self.shard,
            self.accounts.iter().map(AccountRun::report).collect(),
        )
    }
}

/// The accounts of `org` that `shard` takes (all without one).
pub fn in_shard(org: &Organization, shard: Option<Shard>) -> Vec<Member> {
    org.accounts
        .iter()
        .filter(|m| shard.is_none_or(|s| s.takes(&m.id)))
        .cloned()
        .collect()
}

/// A session in `account`: the caller's own, else through the role.
pub async fn session(reach: &Reach<'_>, account: &str) -> Result<Aws, CallFailure> {
    if account == reach.caller_account {
        return Ok(reach.base.clone());
    }
    organizations::assume(
        reach.base,
        reach.limit,
        account,
        &reach.role.arn_in(account),
        reach.role.external_id.as_deref(),
    )
    .await
}

/// Reads `members`, at most `accounts_in_flight` at once, in their order.
async fn read_all(
    reach: &Reach<'_>,
    members: &[Member],
    scope: &ReadScope,
    progress: &Progress,
) -> Vec<(Member, Result<(Aws, Snapshot), CallFailure>)> {
    let total = members.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    futures::stream::iter(members.iter().cloned())
        .map(|m| {
            let done = &done;
            async move {
                let read = match session(reach, &m.id).await {
                    Ok(aws) => {
                        let snap = crate::aws::read_snapshot(
                            &aws,
                            reach.limit,
                            &Progress::hidden(),
                            scope,
                        )
                        .await;
                        Ok((aws, snap))
                    }
                    Err(f) => Err(f),
                };
                let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                progress.set(&format!("read {n} of {total} accounts"));
                (m, read)
            }
        })
        .buffered(reach.accounts_in_flight.max(1))
        .collect()
        .await
}

/// Log groups of other accounts that `snap`'s trails deliver to.
fn foreign_log_groups(snap: &Snapshot) -> Vec<(String, LogGroupRef)> {
    let Ok(trails) = snap.trails() else {
        return vec![];
    };
    trails
        .iter()
        .filter_map(|t| Some((t.arn.clone(), t.log_group()?)))
        .filter(|(_, lg)| snap.account_id.as_deref() != Some(lg.account.as_str()))
        .collect()
}

/// Plans every account `shard` takes (see the module doc), each read
/// with `scope`. An account of
/// the organization outside the shard is read too when a member's
/// organization trail delivers to its log group, only to prove that chain.
pub async fn plan_organization(
    reach: &Reach<'_>,
    org: Organization,
    shard: Option<Shard>,
    desired: &Desired,
    scope: &ReadScope,
    today: Date,
) -> OrgRun {
    let members = in_shard(&org, shard);
    let progress = Progress::stderr();
    progress.set(&format!("reading {} accounts", members.len()));
    let read = read_all(reach, &members, scope, &progress).await;

    // The owners of the log groups organization trails deliver to, read
    // when this shard did not.
    let have: BTreeSet<&str> = read.iter().map(|(m, _)| m.id.as_str()).collect();
    let wanted: BTreeSet<String> = read
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .flat_map(|(_, s)| foreign_log_groups(s))
        .map(|(_, lg)| lg.account)
        .filter(|a| !have.contains(a.as_str()))
        .collect();
    let owners: Vec<Member> = org
        .accounts
        .iter()
        .filter(|m| wanted.contains(&m.id))
        .cloned()
        .collect();
    let extra = read_all(reach, &owners, scope, &progress).await;
    progress.finish();
    let snapshots: BTreeMap<&str, &Snapshot> = read
        .iter()
        .chain(extra.iter())
        .filter_map(|(m, r)| r.as_ref().ok().map(|(_, s)| (m.id.as_str(), s)))
        .collect();

    // Each owner's chains judged once, however many members rest on them.
    let mut chains: BTreeMap<LogGroupRef, Option<Covering>> = BTreeMap::new();
    let mut judged = Vec::with_capacity(read.len());
    for (member, r) in &read {
        let Ok((_, snap)) = r else {
            judged.push(None);
            continue;
        };
        let mut covering: Vec<(String, Covering)> = Vec::new();
        for (arn, lg) in foreign_log_groups(snap) {
            let cv = chains.entry(lg.clone()).or_insert_with(|| {
                let owner = snapshots.get(lg.account.as_str())?;
                coverage::chains_on(&desired.monitoring, owner, &lg)
            });
            if let Some(cv) = cv {
                covering.push((arn, cv.clone()));
            }
        }
        let given: Vec<Covering> = covering.iter().map(|(_, c)| c.clone()).collect();
        let plan = diff::plan_covered(desired, snap, today, &given).map_err(|e| CallFailure {
            call: "cis-fix:plan".into(),
            region: snap.region.clone(),
            resource: Some(member.id.clone()),
            code: None,
            message: e.to_string(),
            detail: None,
        });
        let covered_by = match &plan {
            Ok(p) => evidence(p, &covering),
            Err(_) => vec![],
        };
        judged.push(Some((plan, covered_by)));
    }
    drop(snapshots);

    // The sessions and snapshots move into the run (apply needs them).
    let accounts = read
        .into_iter()
        .zip(judged)
        .map(|((member, r), judged)| match (r, judged) {
            (Ok((aws, snap)), Some((plan, covered_by))) => AccountRun {
                member,
                session: Some(aws),
                snapshot: Some(snap),
                plan,
                covered_by,
            },
            (Err(f), _) => AccountRun {
                member,
                session: None,
                snapshot: None,
                plan: Err(f),
                covered_by: vec![],
            },
            // Not reached: a read that succeeded was judged.
            (Ok(_), None) => AccountRun {
                plan: Err(CallFailure {
                    call: "cis-fix:plan".into(),
                    region: String::new(),
                    resource: Some(member.id.clone()),
                    code: None,
                    message: "the account was read but not planned".into(),
                    detail: None,
                }),
                member,
                session: None,
                snapshot: None,
                covered_by: vec![],
            },
        })
        .collect();
    OrgRun {
        organization: org,
        shard,
        accounts,
    }
}

/// Which of `plan`'s compliant controls rest on which other account's
/// chain: the evidence a report shows.
fn evidence(plan: &Plan, covering: &[(String, Covering)]) -> Vec<CoveredBy> {
    covering
        .iter()
        .filter_map(|(arn, cv)| {
            let controls: Vec<String> = plan
                .controls
                .iter()
                .filter(|c| {
                    c.status == ControlStatus::Compliant
                        && cv.chains.contains_key(&c.id)
                        && c.reason.starts_with(coverage::COVERED)
                })
                .map(|c| c.id.clone())
                .collect();
            (!controls.is_empty()).then(|| CoveredBy {
                trail_arn: arn.clone(),
                account: cv.account.clone(),
                log_group: format!("{}/{}", cv.log_group.region, cv.log_group.name),
                controls,
            })
        })
        .collect()
}
