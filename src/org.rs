//! The organization run (`--organization`): list the member accounts, keep
//! this worker's shard, open a session in each (the caller's own account
//! with the caller's credentials, every other through the role), read and
//! diff them with a bound on accounts in flight (the per-call [`Limiter`] is
//! shared, so the bound on calls holds across accounts), giving a member the
//! chains proven in the account its organization trail delivers to. One
//! account's failure is that account's outcome; the others go on.
//!
//! Each account's outcome is handed on, in account order, as soon as it and
//! the accounts before it are planned, and its snapshot and session are
//! dropped then: a run holds the snapshots of the accounts in flight and of
//! the management account and any other account whose organization trail
//! delivers to its own log group (the accounts members' chains are proven
//! in), never of every account already planned, so its memory does not
//! grow with the organization. Each account is read once, whether its own
//! turn or a member's organization trail asks for it first.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use tokio::sync::OnceCell;

use crate::aws::organizations::{self, Member, Organization, Role};
use crate::aws::{Aws, Limiter};
use crate::date::Date;
use crate::desired::Desired;
use crate::diff::{
    self,
    monitoring::coverage::{self, Covering},
};
use crate::fingerprint::{self, ReadPrint};
use crate::fleet::{AccountReport, CoveredBy, Shard};
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

/// One account of the run: its plan, or why not, and the digests of the
/// reads it rests on (apply reads the account again and goes ahead only if
/// they are unchanged; empty for plan), not the reads themselves.
pub struct AccountRun {
    pub member: Member,
    pub prints: Vec<ReadPrint>,
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

type Read = Result<Arc<Snapshot>, CallFailure>;

/// What the accounts in flight share: the reads under way or kept (each
/// account read once, whether a member's organization trail asks for it or
/// its own turn comes first) and each log group's chains, judged once
/// however many members rest on them.
struct Shared<'a> {
    reach: &'a Reach<'a>,
    org: &'a Organization,
    desired: &'a Desired,
    scope: &'a ReadScope,
    /// Reads in flight, and those of accounts that own an organization
    /// trail (kept for the members that come later).
    reads: Mutex<BTreeMap<String, Arc<OnceCell<Read>>>>,
    /// Accounts a member's organization trail has asked for: their reads
    /// are kept too.
    asked: Mutex<BTreeSet<String>>,
    chains: Mutex<BTreeMap<LogGroupRef, Arc<OnceCell<Option<Covering>>>>>,
    /// Whether each account's read digests are wanted (apply compares
    /// them after reading again; plan does not need them).
    prints: bool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared<'_> {
    /// `account` read, or joined to its read under way or kept.
    async fn read(&self, account: &str) -> Read {
        let cell = lock(&self.reads)
            .entry(account.to_string())
            .or_default()
            .clone();
        cell.get_or_init(|| async {
            let aws = session(self.reach, account).await?;
            let snap =
                crate::aws::read_snapshot(&aws, self.reach.limit, &Progress::hidden(), self.scope)
                    .await;
            Ok(Arc::new(snap))
        })
        .await
        .clone()
    }

    /// Forgets `account`'s read unless members may ask for it: the
    /// management account's (where organization trails are), that of an
    /// account with an organization trail delivering to a log group of its
    /// own, and any a member has asked for already. A failed read is kept
    /// (it is small), so a member never gets an answer its own account did
    /// not. Anything else is dropped as soon as its plan is made.
    fn done_with(&self, account: &str, read: &Read) {
        let keep = self.org.management_account.as_deref() == Some(account)
            || lock(&self.asked).contains(account)
            || read.as_ref().map_or(true, |s| owns_org_trail(s, account));
        if !keep {
            lock(&self.reads).remove(account);
        }
    }

    /// The chains on `lg`, judged in its account's snapshot (read now if
    /// need be; `None` when it is not an account of the organization or
    /// cannot be read).
    async fn chains_on(&self, lg: &LogGroupRef) -> Option<Covering> {
        let cell = lock(&self.chains).entry(lg.clone()).or_default().clone();
        cell.get_or_init(|| async {
            if !self.org.accounts.iter().any(|m| m.id == lg.account) {
                return None;
            }
            lock(&self.asked).insert(lg.account.clone());
            let owner = self.read(&lg.account).await.ok()?;
            coverage::chains_on(&self.desired.monitoring, &owner, lg)
        })
        .await
        .clone()
    }
}

/// Whether `snap` (of `account`) has an organization trail of its own that
/// delivers to a log group in it.
fn owns_org_trail(snap: &Snapshot, account: &str) -> bool {
    snap.trails().is_ok_and(|ts| {
        ts.iter().any(|t| {
            t.is_organization_trail && t.log_group().is_some_and(|lg| lg.account == account)
        })
    })
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

/// Reads and plans one account.
async fn plan_one(shared: &Shared<'_>, member: Member, today: Date) -> AccountRun {
    let read = shared.read(&member.id).await;
    let run = match &read {
        Err(f) => AccountRun {
            member: member.clone(),
            prints: vec![],
            plan: Err(f.clone()),
            covered_by: vec![],
        },
        Ok(snap) => {
            let mut covering: Vec<(String, Covering)> = Vec::new();
            for (arn, lg) in foreign_log_groups(snap) {
                if let Some(cv) = shared.chains_on(&lg).await {
                    covering.push((arn, cv));
                }
            }
            let given: Vec<Covering> = covering.iter().map(|(_, c)| c.clone()).collect();
            let plan =
                diff::plan_covered(shared.desired, snap, today, &given).map_err(|e| CallFailure {
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
            AccountRun {
                prints: if shared.prints {
                    fingerprint::of(snap)
                } else {
                    vec![]
                },
                member: member.clone(),
                plan,
                covered_by,
            }
        }
    };
    shared.done_with(&member.id, &read);
    run
}

/// Plans every account `shard` takes (see the module doc), each read with
/// `scope`, handing each outcome to `each` in account order (with its
/// reads' digests when `prints`). An account of the organization outside
/// the shard is read too when a member's organization trail delivers to
/// its log group, only to prove that chain.
#[allow(clippy::too_many_arguments)]
pub async fn plan_organization(
    reach: &Reach<'_>,
    org: &Organization,
    shard: Option<Shard>,
    desired: &Desired,
    scope: &ReadScope,
    today: Date,
    prints: bool,
    mut each: impl FnMut(AccountRun),
) {
    let members = in_shard(org, shard);
    let total = members.len();
    let shared = Shared {
        reach,
        org,
        desired,
        scope,
        reads: Mutex::new(BTreeMap::new()),
        asked: Mutex::new(BTreeSet::new()),
        chains: Mutex::new(BTreeMap::new()),
        prints,
    };
    let progress = Progress::stderr();
    progress.set(&format!("reading {total} accounts"));
    let mut runs = futures::stream::iter(members)
        .map(|m| plan_one(&shared, m, today))
        .buffered(reach.accounts_in_flight.max(1));
    let mut done = 0;
    while let Some(run) = runs.next().await {
        done += 1;
        progress.set(&format!("planned {done} of {total} accounts"));
        progress.suspend(|| each(run));
    }
    progress.finish();
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
