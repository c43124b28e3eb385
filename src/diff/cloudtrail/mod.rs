//! The CloudTrail controls: a multi-region trail logging every management
//! event, log file validation, KMS encryption, CloudWatch Logs delivery,
//! and the trail buckets (not public, accesses logged).
//!
//! What exists is fixed before anything is added: when a trail of this
//! account could qualify it is updated in place (the one needing the fewest
//! changes, or the one the config names), and a trail, with its bucket, is
//! created only when the account has none. Trails of other accounts
//! (organization trails) are judged but never changed. What a fix needs and
//! lacks (log group, delivery role, KMS key) is its own resource in the
//! plan, and the monitoring family plans its chain on the trail this plan
//! fixes or creates ([`Outlook`]), so one apply does both.

mod buckets;
pub mod delivery;
mod judge;
mod policies;
pub mod selectors;
mod support;

use std::collections::{BTreeMap, BTreeSet};

use super::builder::PlanBuilder;
use crate::address::Address;
use crate::arn::Arn;
use crate::benchmark::{Benchmark, Control, TrailAspect};
use crate::desired::DesiredTrail;
use crate::kinds::{self, CloudTrail, Deferred, Kind, LogGroupRef, Resource, Trail};
use crate::observed::{CallFailure, Observed};
use crate::plan::{Action, Cause, Change, ControlStatus, Notice};
use crate::snapshot::Snapshot;
use judge::{Answer, join_and};
use support::KeyUse;

pub const FAMILY: super::Family = super::Family {
    kind: crate::benchmark::Kind::Trail,
    resource_kinds: &[
        CloudTrail::TYPE,
        kinds::LogGroup::TYPE,
        kinds::IamRole::TYPE,
        kinds::KmsKey::TYPE,
        kinds::S3Bucket::TYPE,
        kinds::BucketPublicAccessBlock::TYPE,
        kinds::BucketLogging::TYPE,
    ],
    needs,
};

fn needs(_b: &Benchmark, c: &Control) -> String {
    match c.trail.as_ref().map(|t| t.check) {
        Some(TrailAspect::MultiRegion) => "a multi-region trail of this account that is logging every read and write management event; fixed in place, else created with its bucket".into(),
        Some(TrailAspect::LogFileValidation) => "log file validation on every trail".into(),
        Some(TrailAspect::KmsEncryption) => "every trail encrypted with a customer managed KMS key (cloudtrail.kms_key, else one cis-fix creates)".into(),
        Some(TrailAspect::CloudwatchLogs) => "the trail delivering to a CloudWatch Logs log group through a role CloudTrail assumes".into(),
        Some(TrailAspect::BucketNotPublic) => "every trail bucket without public ACL grants or policy statements, else with Block Public Access".into(),
        Some(TrailAspect::BucketAccessLogging) => "server access logging on every trail bucket, to cloudtrail.access_logs.bucket".into(),
        None => "not modelled".into(),
    }
}

/// What the trail family leaves to the monitoring chain.
#[derive(Debug, Clone, Default)]
pub struct Outlook {
    pub planned: Option<PlannedTrail>,
}

/// A trail this plan fixes or creates so that, once applied, it delivers
/// every management event to a log group of this account.
#[derive(Debug, Clone)]
pub struct PlannedTrail {
    pub trail: String,
    pub log_group: LogGroupRef,
    /// Made by this plan: it has no filters yet.
    pub log_group_is_new: bool,
    /// Changes the chain's filters wait for (and serve with the trail).
    pub prerequisites: Vec<Address>,
}

/// One trail control's verdict about one trail or bucket.
#[derive(Debug, Clone)]
pub enum Verdict {
    Holds(String),
    Fix(String),
    Blocked(String, Option<Cause>),
    Unknown(String, Option<Box<CallFailure>>),
}

impl Verdict {
    pub fn unknown(f: CallFailure) -> Verdict {
        Verdict::Unknown(f.to_string(), Some(Box::new(f)))
    }
}

/// Where the family's work stands while it walks the trails.
pub struct Ctx<'a> {
    pub d: &'a DesiredTrail,
    pub snap: &'a Snapshot,
    pub account: &'a str,
    pub partition: String,
    pub out: &'a mut PlanBuilder,
    /// The key per bucket region, decided once.
    pub keys: BTreeMap<String, Result<KeyUse, Verdict>>,
}

/// A trail's planned change while aspects add to it.
struct Edit {
    address: Address,
    before: Option<CloudTrail>,
    after: CloudTrail,
    steps: Vec<String>,
    controls: BTreeSet<String>,
    deps: Vec<Address>,
}

pub fn plan(d: &DesiredTrail, needs_logs: bool, snap: &Snapshot, out: &mut PlanBuilder) -> Outlook {
    let needs_logs = needs_logs || d.wants(TrailAspect::CloudwatchLogs);
    if d.controls.is_empty() && !needs_logs {
        return Outlook::default();
    }
    let trails = match snap.trails() {
        Ok(t) => t,
        Err(e) => {
            // The monitoring family says it once (TrailsUnreadable).
            for c in &d.controls {
                report(out, c, vec![Verdict::unknown(e.clone())]);
            }
            return Outlook::default();
        }
    };
    let Some(account) = snap.account_id.as_deref() else {
        // Which trails are this account's cannot be told without it.
        let failure = snap
            .failures()
            .into_iter()
            .find(|f| f.call == crate::snapshot::CALLER_READ);
        for c in &d.controls {
            report(
                out,
                c,
                vec![Verdict::Unknown(
                    "the account id could not be read (sts:GetCallerIdentity), so which trails are this account's is unknown".into(),
                    failure.clone().map(Box::new),
                )],
            );
        }
        return Outlook::default();
    };
    let partition = snap
        .caller_arn
        .as_deref()
        .and_then(Arn::parse)
        .map(|a| a.partition)
        .unwrap_or_else(|| "aws".into());
    let mut cx = Ctx {
        d,
        snap,
        account,
        partition,
        out,
        keys: BTreeMap::new(),
    };
    let owner = |t: &Trail| Arn::parse(&t.arn).map(|a| a.account).unwrap_or_default();
    let own: Vec<&Trail> = trails.iter().filter(|t| owner(t) == account).collect();
    let foreign: Vec<&Trail> = trails.iter().filter(|t| owner(t) != account).collect();

    let mut verdicts: BTreeMap<TrailAspect, Vec<Verdict>> = BTreeMap::new();
    let mut edits: BTreeMap<String, Edit> = BTreeMap::new();
    let mut outlook = Outlook::default();
    let mut new_bucket: Option<(String, String, Option<Address>)> = None;

    main_trail(
        &mut cx,
        needs_logs,
        &own,
        &foreign,
        &mut verdicts,
        &mut edits,
        &mut outlook,
        &mut new_bucket,
    );

    // Validation and encryption: every trail.
    for t in own.iter().copied() {
        if cx.d.wants(TrailAspect::LogFileValidation) {
            let v = if t.log_file_validation {
                Verdict::Holds(format!("trail `{}` validates its log files", t.name))
            } else {
                let e = edit(&mut edits, &cx, t);
                e.after.enable_log_file_validation = true;
                e.steps.push("turns on log file validation".into());
                e.controls
                    .insert(control_id(cx.d, TrailAspect::LogFileValidation));
                Verdict::Fix(format!(
                    "turns on log file validation of trail `{}`",
                    t.name
                ))
            };
            verdicts
                .entry(TrailAspect::LogFileValidation)
                .or_default()
                .push(v);
        }
        if cx.d.wants(TrailAspect::KmsEncryption) {
            let v = if let Some(k) = &t.kms_key_id {
                Verdict::Holds(format!("trail `{}` is encrypted with {k}", t.name))
            } else {
                encrypt(&mut cx, &mut edits, t)
            };
            verdicts
                .entry(TrailAspect::KmsEncryption)
                .or_default()
                .push(v);
        }
    }
    for t in foreign.iter().copied() {
        let acct = owner(t);
        for (aspect, ok, what) in [
            (
                TrailAspect::LogFileValidation,
                t.log_file_validation,
                "validate its log files",
            ),
            (
                TrailAspect::KmsEncryption,
                t.kms_key_id.is_some(),
                "encrypt with a KMS key",
            ),
        ] {
            if !cx.d.wants(aspect) {
                continue;
            }
            let v = if ok {
                Verdict::Holds(format!("trail `{}` of account {acct} does", t.name))
            } else {
                Verdict::Blocked(
                    format!(
                        "trail `{}` belongs to account {acct} (an organization trail) and does not {what}; cis-fix never changes another account's trail",
                        t.name
                    ),
                    Some(Cause::OtherAccount {
                        account: acct.clone(),
                    }),
                )
            };
            verdicts.entry(aspect).or_default().push(v);
        }
    }

    // The buckets of this account's trails.
    let mut seen = BTreeSet::new();
    for t in own.iter().copied() {
        let Some(b) = t.s3_bucket.as_deref() else {
            continue;
        };
        if !seen.insert(b.to_string()) {
            continue;
        }
        if cx.d.wants(TrailAspect::BucketNotPublic) {
            let id = control_id(cx.d, TrailAspect::BucketNotPublic);
            let v = buckets::not_public(&mut cx, b, &t.name, &id);
            verdicts
                .entry(TrailAspect::BucketNotPublic)
                .or_default()
                .push(v);
        }
        if cx.d.wants(TrailAspect::BucketAccessLogging) {
            let id = control_id(cx.d, TrailAspect::BucketAccessLogging);
            let v = buckets::access_logging(&mut cx, b, &t.name, &id, None);
            verdicts
                .entry(TrailAspect::BucketAccessLogging)
                .or_default()
                .push(v);
        }
    }
    if let Some((bucket, region, made)) = &new_bucket {
        if cx.d.wants(TrailAspect::BucketNotPublic) {
            verdicts
                .entry(TrailAspect::BucketNotPublic)
                .or_default()
                .push(if made.is_some() {
                    Verdict::Fix(format!(
                        "makes bucket `{bucket}` with public access blocked"
                    ))
                } else {
                    Verdict::Holds(format!("cis-fix's bucket `{bucket}` blocks public access"))
                });
        }
        if cx.d.wants(TrailAspect::BucketAccessLogging) {
            let id = control_id(cx.d, TrailAspect::BucketAccessLogging);
            let made_at = made.as_ref().map(|a| (region.as_str(), a));
            let trail = cx.d.names.trail.clone();
            let v = buckets::access_logging(&mut cx, bucket, &trail, &id, made_at);
            verdicts
                .entry(TrailAspect::BucketAccessLogging)
                .or_default()
                .push(v);
        }
    }
    for t in foreign.iter().copied() {
        for aspect in [
            TrailAspect::BucketNotPublic,
            TrailAspect::BucketAccessLogging,
        ] {
            if cx.d.wants(aspect) {
                let acct = owner(t);
                verdicts.entry(aspect).or_default().push(Verdict::Blocked(
                    format!(
                        "bucket `{}` of trail `{}` belongs to account {acct}: it can only be judged and fixed there",
                        t.s3_bucket.as_deref().unwrap_or("?"),
                        t.name
                    ),
                    Some(Cause::OtherAccount { account: acct }),
                ));
            }
        }
    }

    // The trail changes, each once with everything its aspects asked for.
    for (_, e) in edits {
        if e.before.as_ref() == Some(&e.after) {
            continue;
        }
        let action = if e.before.is_some() {
            Action::Update
        } else {
            Action::Create
        };
        cx.out.change(Change {
            address: e.address,
            action,
            controls: e.controls.into_iter().collect(),
            reason: join_and(&e.steps),
            before: e.before.map(Resource::CloudTrail),
            after: Some(Resource::CloudTrail(e.after)),
            depends_on: e.deps,
        });
    }
    for c in &d.controls {
        let v = verdicts.remove(&c.aspect).unwrap_or_default();
        report(cx.out, c, v);
    }
    outlook
}

fn control_id(d: &DesiredTrail, aspect: TrailAspect) -> String {
    d.controls
        .iter()
        .find(|c| c.aspect == aspect)
        .map(|c| c.id.clone())
        .unwrap_or_default()
}

/// The trail as cis-fix would write it, from what was read.
fn as_resource(t: &Trail) -> CloudTrail {
    CloudTrail {
        name: t.name.clone(),
        arn: Some(t.arn.clone()),
        s3_bucket_name: t.s3_bucket.clone(),
        is_multi_region_trail: t.is_multi_region,
        include_global_service_events: t.include_global_service_events,
        enable_log_file_validation: t.log_file_validation,
        kms_key_id: t.kms_key_id.clone().map(Deferred::Known),
        cloud_watch_logs_group_arn: t.log_group_arn.clone().map(Deferred::Known),
        cloud_watch_logs_role_arn: t.cloudwatch_logs_role_arn.clone().map(Deferred::Known),
        enable_logging: matches!(&t.status, Observed::Ok(s) if s.is_logging),
        event_selectors: match &t.selectors {
            Observed::Ok(s) => s.clone(),
            Observed::Failed(_) => Default::default(),
        },
    }
}

/// A trail's address, keyed by its name: names that differ only in `.`,
/// `-` and `_` are one Terraform name.
fn trail_address(cx: &Ctx<'_>, region: &str, name: &str) -> Address {
    Address::new(&cx.out.at(region), CloudTrail::TYPE, "trail").with_key(name)
}

fn edit<'e>(edits: &'e mut BTreeMap<String, Edit>, cx: &Ctx<'_>, t: &Trail) -> &'e mut Edit {
    edits.entry(t.arn.clone()).or_insert_with(|| {
        let r = as_resource(t);
        Edit {
            address: trail_address(cx, &t.home_region, &t.name),
            before: Some(r.clone()),
            after: r,
            steps: vec![],
            controls: BTreeSet::new(),
            deps: vec![],
        }
    })
}

/// Encrypts an existing trail with the key of its bucket's region.
fn encrypt(cx: &mut Ctx<'_>, edits: &mut BTreeMap<String, Edit>, t: &Trail) -> Verdict {
    let Some(bucket) = t.s3_bucket.as_deref() else {
        return Verdict::Blocked(format!("trail `{}` names no bucket", t.name), None);
    };
    let region = match cx.snap.read(
        kinds::s3_bucket::READ,
        crate::address::GLOBAL,
        Some(bucket),
        kinds::s3_bucket::from_read,
    ) {
        Err(e) => return Verdict::unknown(e),
        Ok(None) => {
            return Verdict::Blocked(
                format!("bucket `{bucket}` of trail `{}` does not exist", t.name),
                None,
            );
        }
        Ok(Some(f)) => match &f.region {
            Observed::Ok(r) => r.clone(),
            Observed::Failed(e) => return Verdict::unknown(e.clone()),
        },
    };
    let key = match support::key(cx, &region) {
        Ok(k) => k,
        Err(v) => return v,
    };
    let id = control_id(cx.d, TrailAspect::KmsEncryption);
    if let Some(a) = &key.made {
        cx.out.serve(a, &id);
    }
    let e = edit(edits, cx, t);
    e.after.kms_key_id = Some(key.arn.clone());
    e.steps
        .push(format!("encrypts its log files with key {}", key.shown));
    e.controls.insert(id);
    e.deps.extend(key.made.clone());
    Verdict::Fix(format!(
        "encrypts trail `{}` with key {}",
        t.name, key.shown
    ))
}

/// The trail every monitoring control starts from and the multi-region
/// control judges: one that already qualifies, else this account's trail
/// needing the fewest changes, fixed, else a new one.
#[allow(clippy::too_many_arguments)]
fn main_trail(
    cx: &mut Ctx<'_>,
    needs_logs: bool,
    own: &[&Trail],
    foreign: &[&Trail],
    verdicts: &mut BTreeMap<TrailAspect, Vec<Verdict>>,
    edits: &mut BTreeMap<String, Edit>,
    outlook: &mut Outlook,
    new_bucket: &mut Option<(String, String, Option<Address>)>,
) {
    let account = cx.account.to_string();
    let mut put = |aspect: TrailAspect, v: Verdict| verdicts.entry(aspect).or_default().push(v);
    let judged: Vec<(&Trail, Answer, Answer)> = own
        .iter()
        .chain(foreign)
        .map(|t| {
            (
                *t,
                judge::multi_region(t),
                judge::delivers_to_logs(t, &account),
            )
        })
        .collect();
    let complete = judged
        .iter()
        .filter(|(_, mr, logs)| mr.is_yes() && (!needs_logs || logs.is_yes()))
        .min_by_key(|(t, ..)| (Some(&t.name) != cx.d.preferred_trail.as_ref(), &t.name));
    if let Some((t, _, logs)) = complete {
        put(
            TrailAspect::MultiRegion,
            Verdict::Holds(format!(
                "trail `{}` is multi-region, logging, and logs every management event",
                t.name
            )),
        );
        put(
            TrailAspect::CloudwatchLogs,
            match logs {
                Answer::Yes => Verdict::Holds(format!(
                    "trail `{}` delivers to log group `{}`",
                    t.name,
                    t.log_group().map(|l| l.to_string()).unwrap_or_default()
                )),
                // Only reached when no control needs CloudWatch Logs.
                Answer::No(why) => {
                    Verdict::Blocked(format!("trail `{}` {}", t.name, join_and(why)), None)
                }
                Answer::Unknown(f) => Verdict::unknown(f.clone()),
            },
        );
        return;
    }
    // A trail that might qualify was not fully read: nothing is decided. One
    // known not to deliver where the chain needs it (another account's log
    // group, none at all) could not qualify whatever the unread part says.
    if let Some(f) = judged.iter().find_map(|(_, mr, logs)| match (mr, logs) {
        (Answer::Unknown(_), Answer::No(_)) if needs_logs => None,
        (Answer::Unknown(f), _) => Some(f.clone()),
        (Answer::Yes, Answer::Unknown(f)) => Some(f.clone()),
        _ => None,
    }) {
        for aspect in [TrailAspect::MultiRegion, TrailAspect::CloudwatchLogs] {
            put(aspect, Verdict::unknown(f.clone()));
        }
        return;
    }
    if own.is_empty() {
        if let Some((t, ..)) = judged.iter().find(|(_, mr, _)| mr.is_yes()) {
            // An organization trail records this account's events; the
            // monitoring chain is the owner account's to build.
            let acct = Arn::parse(&t.arn).map(|a| a.account).unwrap_or_default();
            put(
                TrailAspect::MultiRegion,
                Verdict::Holds(format!(
                    "trail `{}` of account {acct} (an organization trail) is multi-region, logging, and logs every management event",
                    t.name
                )),
            );
            put(
                TrailAspect::CloudwatchLogs,
                if t.log_group().is_some()
                    && t.cloudwatch_logs_role_arn.is_some()
                    && matches!(&t.status, Observed::Ok(st) if st.latest_cloudwatch_logs_delivery_error.is_none())
                {
                    Verdict::Holds(format!(
                        "trail `{}` of account {acct} delivers to CloudWatch Logs",
                        t.name
                    ))
                } else {
                    Verdict::Blocked(
                        format!(
                            "trail `{}` of account {acct} does not deliver to CloudWatch Logs",
                            t.name
                        ),
                        Some(Cause::OtherAccount { account: acct }),
                    )
                },
            );
            return;
        }
        create_trail(cx, needs_logs, &mut put, edits, outlook, new_bucket);
        return;
    }
    // Fix the named trail, else the one needing fewest changes.
    let target = own
        .iter()
        .find(|t| Some(&t.name) == cx.d.preferred_trail.as_ref())
        .or_else(|| {
            own.iter()
                .min_by_key(|t| (judge::fixes_needed(t, &account, needs_logs), &t.name))
        })
        .copied();
    let Some(t) = target else { return };
    if own.len() > 1 || !foreign.is_empty() {
        let why = if Some(&t.name) == cx.d.preferred_trail.as_ref() {
            "cis-fix.yaml names it (trail:)".to_string()
        } else {
            format!(
                "it needs the fewest changes ({}) of this account's trails",
                judge::fixes_needed(t, &account, needs_logs)
            )
        };
        cx.out.notice(Notice::FixingTrail {
            trail: t.name.clone(),
            why,
            others: judged
                .iter()
                .filter(|(o, ..)| o.arn != t.arn)
                .map(|(o, mr, logs)| {
                    let mut w = Vec::new();
                    if let Answer::No(x) = mr {
                        w.extend(x.clone());
                    }
                    if let Answer::No(x) = logs {
                        w.extend(x.clone());
                    }
                    format!("trail `{}` {}", o.name, join_and(&w))
                })
                .collect(),
        });
    }
    let mr_id = control_id(cx.d, TrailAspect::MultiRegion);
    let logs_id = control_id(cx.d, TrailAspect::CloudwatchLogs);
    // When the fix cannot be planned, CloudWatch Logs delivery is judged on
    // the trail as it is.
    let logs_as_is = |t: &Trail| match judge::delivers_to_logs(t, &account) {
        Answer::Yes => Verdict::Holds(format!(
            "trail `{}` delivers to log group `{}`",
            t.name,
            t.log_group().map(|l| l.to_string()).unwrap_or_default()
        )),
        Answer::No(why) => Verdict::Blocked(format!("trail `{}` {}", t.name, join_and(&why)), None),
        Answer::Unknown(f) => Verdict::unknown(f),
    };
    let merged = match &t.selectors {
        Observed::Ok(s) => selectors::with_all_management(s, cx.d.form),
        Observed::Failed(f) => {
            put(TrailAspect::MultiRegion, Verdict::unknown(f.clone()));
            put(TrailAspect::CloudwatchLogs, logs_as_is(t));
            return;
        }
    };
    let merged = match merged {
        Ok(m) => m,
        Err(why) => {
            put(
                TrailAspect::MultiRegion,
                Verdict::Blocked(format!("trail `{}`: {why}", t.name), None),
            );
            put(TrailAspect::CloudwatchLogs, logs_as_is(t));
            return;
        }
    };
    let mark = cx.out.mark();
    let mut prerequisites = Vec::new();
    let mut log_group = judge::own_log_group(t, &account);
    let mut log_group_is_new = false;
    let logs_ok = judge::delivers_to_logs(t, &account).is_yes();
    let mut logs_fix: Option<(String, String, Vec<Address>)> = None;
    if needs_logs && !logs_ok {
        let region = t.home_region.clone();
        let name = match &log_group {
            Some(lg) => lg.name.clone(),
            None => {
                match support::log_group(cx, &region) {
                    Ok((is_new, made)) => {
                        log_group_is_new = is_new;
                        prerequisites.extend(made);
                    }
                    Err(v) => {
                        put(TrailAspect::CloudwatchLogs, v.clone());
                        put(TrailAspect::MultiRegion, v);
                        return;
                    }
                }
                cx.d.names.log_group.clone()
            }
        };
        let (role_arn, made) = match support::role(cx, &region, &name) {
            Ok(r) => r,
            Err(v) => {
                cx.out.rollback(mark);
                put(TrailAspect::CloudwatchLogs, v.clone());
                put(TrailAspect::MultiRegion, v);
                return;
            }
        };
        prerequisites.extend(made);
        let lg = LogGroupRef {
            region: region.clone(),
            account: account.clone(),
            name: name.clone(),
        };
        logs_fix = Some((
            kinds::log_group::arn(&cx.partition, &region, &account, &name),
            role_arn,
            prerequisites.clone(),
        ));
        log_group = Some(lg);
    }
    let e = edit(edits, cx, t);
    let mut steps = Vec::new();
    if !t.is_multi_region {
        e.after.is_multi_region_trail = true;
        e.after.include_global_service_events = true;
        steps.push("makes it multi-region".to_string());
    }
    if !e.after.enable_logging {
        e.after.enable_logging = true;
        steps.push("starts logging".into());
    }
    if let Some(m) = merged {
        e.after.event_selectors = m;
        steps.push("logs every read and write management event (its other selectors stay)".into());
    }
    // Delivery failing although the trail already names these: nothing to
    // change can fix it from here.
    let mut logs_stuck: Option<Verdict> = None;
    if let Some((lg_arn, role_arn, deps)) = &logs_fix {
        // (A role or log group this plan makes or fixes may well cure it.)
        let same = deps.is_empty()
            && e.before.as_ref().is_some_and(|b| {
                b.cloud_watch_logs_group_arn
                    .as_ref()
                    .and_then(|d| d.known())
                    == Some(lg_arn.as_str())
                    && b.cloud_watch_logs_role_arn.as_ref().and_then(|d| d.known())
                        == Some(role_arn.as_str())
            });
        if same {
            let why = match judge::delivers_to_logs(t, &account) {
                Answer::No(w) => join_and(&w),
                _ => "does not deliver".into(),
            };
            logs_stuck = Some(Verdict::Blocked(
                format!(
                    "trail `{}` {why}, though it already delivers to log group `{}` through role `{}`: check that the log group exists and what the role may do",
                    t.name,
                    log_group
                        .as_ref()
                        .map(|l| l.name.as_str())
                        .unwrap_or_default(),
                    cx.d.names.role
                ),
                None,
            ));
        } else {
            e.after.cloud_watch_logs_group_arn = Some(Deferred::Known(lg_arn.clone()));
            e.after.cloud_watch_logs_role_arn = Some(Deferred::Known(role_arn.clone()));
            e.deps.extend(deps.iter().cloned());
            steps.push(format!(
                "delivers to log group `{}` through role `{}`",
                log_group
                    .as_ref()
                    .map(|l| l.name.as_str())
                    .unwrap_or_default(),
                cx.d.names.role
            ));
        }
    }
    e.steps.extend(steps.iter().cloned());
    let address = e.address.clone();
    if !judge::multi_region(t).is_yes() {
        e.controls.insert(mr_id.clone());
    }
    if logs_fix.is_some() && !logs_id.is_empty() {
        e.controls.insert(logs_id.clone());
    }
    for a in &prerequisites {
        cx.out.serve(a, &mr_id);
        if !logs_id.is_empty() {
            cx.out.serve(a, &logs_id);
        }
    }
    put(
        TrailAspect::MultiRegion,
        if !judge::multi_region(t).is_yes() {
            Verdict::Fix(format!(
                "fixes trail `{}` in place: {}",
                t.name,
                join_and(&steps)
            ))
        } else {
            Verdict::Holds(format!(
                "trail `{}` is multi-region, logging, and logs every management event",
                t.name
            ))
        },
    );
    if logs_stuck.is_some() {
        logs_fix = None;
    }
    put(
        TrailAspect::CloudwatchLogs,
        if let Some(v) = logs_stuck.clone() {
            v
        } else if logs_fix.is_some() {
            Verdict::Fix(format!(
                "trail `{}` will deliver to log group `{}`",
                t.name,
                log_group
                    .as_ref()
                    .map(|l| l.name.as_str())
                    .unwrap_or_default()
            ))
        } else {
            Verdict::Holds(format!(
                "trail `{}` delivers to log group `{}`",
                t.name,
                log_group
                    .as_ref()
                    .map(|l| l.to_string())
                    .unwrap_or_default()
            ))
        },
    );
    // The chain is planned on the trail only when, once applied, it
    // delivers: its delivery is fine, or this plan fixes it.
    if let Some(lg) = log_group.filter(|_| logs_stuck.is_none() && (logs_ok || logs_fix.is_some()))
    {
        let mut pre = vec![address];
        pre.extend(prerequisites);
        outlook.planned = Some(PlannedTrail {
            trail: t.name.clone(),
            log_group: lg,
            log_group_is_new,
            prerequisites: pre,
        });
    }
}

/// A new trail, when the account has none: its bucket, key, log group and
/// role first.
fn create_trail(
    cx: &mut Ctx<'_>,
    needs_logs: bool,
    put: &mut impl FnMut(TrailAspect, Verdict),
    edits: &mut BTreeMap<String, Edit>,
    outlook: &mut Outlook,
    new_bucket: &mut Option<(String, String, Option<Address>)>,
) {
    let region = cx.snap.region.clone();
    let account = cx.account.to_string();
    let name = cx.d.names.trail.clone();
    let trail_arn = kinds::cloudtrail::arn(&cx.partition, &region, &account, &name);
    let all = [
        TrailAspect::MultiRegion,
        TrailAspect::CloudwatchLogs,
        TrailAspect::LogFileValidation,
        TrailAspect::KmsEncryption,
    ];
    // A fact missing for any part: nothing of the new trail is planned.
    let mark = cx.out.mark();
    let fail = |cx: &mut Ctx<'_>,
                put: &mut dyn FnMut(TrailAspect, Verdict),
                new_bucket: &mut Option<(String, String, Option<Address>)>,
                v: Verdict| {
        cx.out.rollback(mark);
        cx.keys.clear();
        *new_bucket = None;
        for a in all {
            put(a, v.clone());
        }
    };
    let mut deps = Vec::new();
    let bucket = match support::bucket(cx, &region, &trail_arn) {
        Ok((b, made)) => {
            *new_bucket = Some((b.clone(), region.clone(), made.clone()));
            deps.extend(made);
            b
        }
        Err(v) => return fail(cx, put, new_bucket, v),
    };
    // Without the key the trail is not made either: nothing of a fix is
    // planned from a read that failed (whether cis-fix's key already exists
    // cannot be told).
    let key = if cx.d.wants(TrailAspect::KmsEncryption) {
        match support::key(cx, &region) {
            Ok(k) => {
                deps.extend(k.made.clone());
                Some(k)
            }
            Err(v) => return fail(cx, put, new_bucket, v),
        }
    } else {
        None
    };
    let mut logs = None;
    let mut log_group_is_new = false;
    if needs_logs {
        match support::log_group(cx, &region) {
            Ok((is_new, made)) => {
                log_group_is_new = is_new;
                deps.extend(made);
            }
            Err(v) => return fail(cx, put, new_bucket, v),
        }
        let lg = cx.d.names.log_group.clone();
        match support::role(cx, &region, &lg) {
            Ok((role, made)) => {
                deps.extend(made);
                logs = Some((
                    kinds::log_group::arn(&cx.partition, &region, &account, &lg),
                    role,
                ));
            }
            Err(v) => return fail(cx, put, new_bucket, v),
        }
    }
    let address = trail_address(cx, &region, &name);
    let ids: Vec<String> = cx.d.controls.iter().map(|c| c.id.clone()).collect();
    for a in &deps {
        for id in &ids {
            cx.out.serve(a, id);
        }
    }
    let after = CloudTrail {
        name: name.clone(),
        arn: None,
        s3_bucket_name: Some(bucket.clone()),
        is_multi_region_trail: true,
        include_global_service_events: true,
        enable_log_file_validation: cx.d.wants(TrailAspect::LogFileValidation),
        kms_key_id: key.as_ref().map(|k| k.arn.clone()),
        cloud_watch_logs_group_arn: logs.as_ref().map(|l| Deferred::Known(l.0.clone())),
        cloud_watch_logs_role_arn: logs.as_ref().map(|l| Deferred::Known(l.1.clone())),
        enable_logging: true,
        event_selectors: selectors::fresh(cx.d.form),
    };
    let mut steps = vec![format!(
        "the account has no trail: a multi-region trail logging every management event to bucket `{bucket}`"
    )];
    if after.enable_log_file_validation {
        steps.push("with log file validation".into());
    }
    if let Some(k) = &key {
        steps.push(format!("encrypted with key {}", k.shown));
    }
    if logs.is_some() {
        steps.push(format!(
            "delivering to log group `{}`",
            cx.d.names.log_group
        ));
    }
    edits.insert(
        trail_arn,
        Edit {
            address: address.clone(),
            before: None,
            after,
            steps,
            controls: ids.into_iter().collect(),
            deps: deps.clone(),
        },
    );
    put(
        TrailAspect::MultiRegion,
        Verdict::Fix(format!("creates multi-region trail `{name}`")),
    );
    put(
        TrailAspect::LogFileValidation,
        Verdict::Fix(format!("creates trail `{name}` with log file validation")),
    );
    if let Some(k) = &key {
        put(
            TrailAspect::KmsEncryption,
            Verdict::Fix(format!(
                "creates trail `{name}` encrypted with key {}",
                k.shown
            )),
        );
    }

    if logs.is_some() {
        put(
            TrailAspect::CloudwatchLogs,
            Verdict::Fix(format!(
                "creates trail `{name}` delivering to log group `{}`",
                cx.d.names.log_group
            )),
        );
        let mut pre = vec![address];
        pre.extend(deps);
        outlook.planned = Some(PlannedTrail {
            trail: name,
            log_group: LogGroupRef {
                region,
                account,
                name: cx.d.names.log_group.clone(),
            },
            log_group_is_new,
            prerequisites: pre,
        });
    }
}

/// A control's status from its verdicts: unknown if any is, else blocked,
/// else to fix, else compliant.
fn report(out: &mut PlanBuilder, c: &crate::desired::TrailControl, v: Vec<Verdict>) {
    let key = (c.id.as_str(), c.title.as_str());
    if v.is_empty() {
        out.control(
            key,
            ControlStatus::Blocked,
            "no trail to judge".into(),
            None,
        );
        return;
    }
    if let Some((why, failure)) = v.iter().find_map(|x| match x {
        Verdict::Unknown(w, f) => Some((w.clone(), f.clone())),
        _ => None,
    }) {
        out.control(
            key,
            ControlStatus::Unknown,
            format!("cannot tell: {why}; nothing is planned for this control"),
            failure.map(|failure| Cause::ReadFailed { failure }),
        );
        return;
    }
    let blocked: Vec<(&String, &Option<Cause>)> = v
        .iter()
        .filter_map(|x| match x {
            Verdict::Blocked(w, c) => Some((w, c)),
            _ => None,
        })
        .collect();
    let fixes: Vec<String> = v
        .iter()
        .filter_map(|x| match x {
            Verdict::Fix(w) => Some(w.clone()),
            _ => None,
        })
        .collect();
    if !blocked.is_empty() {
        let mut why: Vec<String> = blocked.iter().map(|b| b.0.clone()).collect();
        if !fixes.is_empty() {
            why.push(format!("(planned meanwhile: {})", fixes.join("; ")));
        }
        out.control(
            key,
            ControlStatus::Blocked,
            why.join("; "),
            blocked[0].1.clone(),
        );
        return;
    }
    if !fixes.is_empty() {
        out.control(key, ControlStatus::WillFix, fixes.join("; "), None);
        return;
    }
    let holds: Vec<String> = v
        .iter()
        .filter_map(|x| match x {
            Verdict::Holds(w) => Some(w.clone()),
            _ => None,
        })
        .collect();
    out.control(key, ControlStatus::Compliant, holds.join("; "), None);
}

#[cfg(test)]
mod tests;
