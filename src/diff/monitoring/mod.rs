//! The monitoring controls: metric filter → alarm → SNS topic → confirmed
//! subscription, on a log group a qualifying trail delivers to (their one
//! prerequisite). A control is compliant only when every link is proven;
//! otherwise the smallest set of changes that completes the chain is
//! planned, reusing what works, and cis-fix's own resources that no control
//! needs any more are retired.

mod alarm;
mod chain;
pub mod coverage;
mod filter;
mod retire;
mod topic;
mod view;

use std::collections::BTreeMap;

use super::builder::PlanBuilder;
use super::cloudtrail::PlannedTrail;
use super::trail::{self, Candidate};
use crate::desired::{DesiredMonitoring, MonitoringControl};
use crate::kinds::LogGroupRef;
use crate::observed::CallFailure;
use crate::plan::{Cause, ControlStatus, Notice};
use crate::snapshot::Snapshot;
use chain::{Chain, Found, find_chain};
use coverage::Covering;
use retire::Used;
use topic::{Delivery, NotifyTopic};
use view::RegionView;

pub const FAMILY: super::Family = super::Family {
    kind: crate::benchmark::Kind::MetricFilter,
    resource_kinds: &[
        <crate::kinds::MetricFilter as crate::kinds::Kind>::TYPE,
        <crate::kinds::MetricAlarm as crate::kinds::Kind>::TYPE,
        <crate::kinds::Topic as crate::kinds::Kind>::TYPE,
        <crate::kinds::Subscription as crate::kinds::Kind>::TYPE,
    ],
    needs,
};

fn needs(b: &crate::benchmark::Benchmark, _c: &crate::benchmark::Control) -> String {
    format!(
        "a metric filter on the trail's log group covering the pattern below, an alarm on its metric (Sum >= {} over {} s, {} period) notifying an SNS topic with a confirmed subscription",
        b.monitoring.alarm.threshold,
        b.monitoring.alarm.period,
        b.monitoring.alarm.evaluation_periods
    )
}

/// Why a control gets no fix.
#[derive(Clone)]
pub(super) enum Outcome {
    /// Why it cannot be judged, and the failed read when that is the cause.
    Unknown(String, Option<Box<CallFailure>>),
    Blocked(String, Option<Cause>),
}

impl From<CallFailure> for Outcome {
    fn from(e: CallFailure) -> Self {
        Outcome::Unknown(e.to_string(), Some(Box::new(e)))
    }
}

fn cannot_tell(why: impl std::fmt::Display) -> String {
    format!("cannot tell: {why}; nothing is planned for this control")
}

impl MonitoringControl {
    fn key(&self) -> (&str, &str) {
        (&self.id, &self.title)
    }
}

/// Plans every monitoring control: first its prerequisite, a qualifying
/// trail; then, on the log groups such trails deliver to, each control's
/// chain; last, cis-fix's own resources no control needs any more.
/// `covering`: chains proven in other accounts in the same run, for a
/// member whose events an organization trail delivers there.
pub fn plan(
    d: &DesiredMonitoring,
    version: &str,
    snap: &Snapshot,
    planned: Option<&PlannedTrail>,
    covering: &[Covering],
    out: &mut PlanBuilder,
) {
    for c in &d.controls {
        if let Some(n) = &c.noisy {
            out.notice(Notice::NoisyPattern {
                control: c.id.clone(),
                version: version.to_string(),
                matches: n.matches.clone(),
                fixed_in: n.fixed_in.clone(),
            });
        }
    }
    let trails = match snap.trails() {
        Ok(t) => t,
        Err(e) => {
            out.notice(Notice::TrailsUnreadable { failure: e.clone() });
            for c in &d.controls {
                out.control(
                    c.key(),
                    ControlStatus::Unknown,
                    cannot_tell(&e),
                    Some(Cause::ReadFailed {
                        failure: Box::new(e.clone()),
                    }),
                );
            }
            return;
        }
    };
    let mut a = trail::assess(trails, snap.account_id.as_deref());
    // The trail this plan fixes or creates delivers every management event
    // once applied: the chain is planned on it in the same run.
    // Its live form stays a candidate: what holds now is judged on what the
    // trail delivers now.
    if let Some(p) = planned {
        a.rejected
            .retain(|r| !r.starts_with(&format!("trail `{}` ", p.trail)));
        a.candidates.insert(
            0,
            Candidate {
                trail: p.trail.clone(),
                log_group: p.log_group.clone(),
                selectors: None,
                log_group_is_new: p.log_group_is_new,
                prerequisites: p.prerequisites.clone(),
            },
        );
    }
    if a.candidates.is_empty() && a.unknown.is_empty() && !a.foreign.is_empty() {
        plan_covered(d, &a, covering, out);
        return;
    }
    if a.candidates.is_empty() && a.unknown.is_empty() {
        out.notice(Notice::NoQualifyingTrail {
            rejected: a.rejected.clone(),
        });
        for c in &d.controls {
            out.control(
                c.key(),
                ControlStatus::Blocked,
                "blocked: no CloudTrail trail delivers all management events to CloudWatch Logs"
                    .into(),
                Some(Cause::NoQualifyingTrail),
            );
        }
        return;
    }
    if !a.rejected.is_empty() && !a.candidates.is_empty() {
        out.notice(Notice::UsingTrails {
            trails: a
                .candidates
                .iter()
                .map(|c| format!("`{}` (log group {})", c.trail, c.log_group))
                .collect(),
            rejected: a.rejected.clone(),
        });
    }
    plan_chains(d, version, snap, &a.candidates, &a.unknown, out);
}

/// A member whose only qualifying trails deliver to another account's log
/// group: each control holds where that account's chain on the log group
/// was proven in this run ([`Covering`]) and the trail delivers the
/// control's events; otherwise it is blocked on that account, saying so.
/// Nothing is planned here: the chain is built in the log group's account.
fn plan_covered(
    d: &DesiredMonitoring,
    a: &trail::TrailAssessment,
    covering: &[Covering],
    out: &mut PlanBuilder,
) {
    let mut uncovered = false;
    for c in &d.controls {
        let covered = a.foreign.iter().find_map(|f| {
            let cv = covering
                .iter()
                .find(|cv| cv.log_group == f.log_group && cv.account == f.log_group.account)?;
            let chain = cv.chains.get(&c.id)?;
            f.delivers(&c.events).ok()?;
            Some((f, chain))
        });
        if let Some((f, chain)) = covered {
            out.control(
                c.key(),
                ControlStatus::Compliant,
                format!(
                    "{} `{}`: it delivers this account's events to log group `{}` in account {}, where {chain}",
                    coverage::COVERED,
                    f.arn,
                    f.log_group,
                    f.log_group.account
                ),
                None,
            );
            continue;
        }
        uncovered = true;
        // Not empty: the caller checked.
        let Some(f) = a.foreign.first() else { continue };
        let judged = covering.iter().any(|cv| cv.log_group == f.log_group);
        let reason = match f.delivers(&c.events) {
            Err(why) => format!("blocked: {why}"),
            Ok(()) if judged => format!(
                "blocked: depends on account {}'s chain on log group `{}` (organization trail `{}` delivers this account's events there), which does not hold for this control: see that account's plan",
                f.log_group.account, f.log_group, f.arn
            ),
            Ok(()) => format!(
                "blocked: depends on account {}'s chain on log group `{}`, where organization trail `{}` delivers this account's events; cis-fix plans that chain in account {}: plan the organization (`--organization`) to prove it for this account",
                f.log_group.account, f.log_group, f.arn, f.log_group.account
            ),
        };
        out.control(
            c.key(),
            ControlStatus::Blocked,
            reason,
            Some(Cause::OtherAccount {
                account: f.log_group.account.clone(),
            }),
        );
    }
    if uncovered {
        out.notice(Notice::NoQualifyingTrail {
            rejected: a.rejected.clone(),
        });
    }
}

fn plan_chains(
    d: &DesiredMonitoring,
    version: &str,
    snap: &Snapshot,
    candidates: &[Candidate],
    trails_unknown: &[CallFailure],
    out: &mut PlanBuilder,
) {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut new_groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in candidates {
        let lgs = groups.entry(c.log_group.region.as_str()).or_default();
        if !lgs.contains(&c.log_group.name.as_str()) {
            lgs.push(c.log_group.name.as_str());
        }
        if c.log_group_is_new {
            new_groups
                .entry(c.log_group.region.as_str())
                .or_default()
                .push(c.log_group.name.as_str());
        }
    }
    let views: BTreeMap<&str, RegionView<'_>> = groups
        .iter()
        .map(|(region, lgs)| {
            let new = new_groups.get(region).map(Vec::as_slice).unwrap_or(&[]);
            (*region, RegionView::new(snap, region, lgs, new))
        })
        .collect();
    let view_of = |lg: &LogGroupRef| &views[lg.region.as_str()];

    // Which controls already hold, on any qualifying log group?
    let mut compliant: BTreeMap<&str, Chain> = BTreeMap::new();
    let mut unknown: BTreeMap<&str, (String, Option<Box<CallFailure>>)> = BTreeMap::new();
    let mut held_per_lg: BTreeMap<&LogGroupRef, usize> = BTreeMap::new();
    for c in &d.controls {
        let live = candidates
            .iter()
            .filter(|t| t.selectors.is_some() && t.delivers(&c.events).is_ok());
        for cand in live {
            match find_chain(c, &cand.log_group.name, view_of(&cand.log_group)) {
                Found::Chain(chain) => {
                    *held_per_lg.entry(&cand.log_group).or_default() += 1;
                    compliant.entry(c.id.as_str()).or_insert(chain);
                }
                Found::Unknown(e) => {
                    unknown
                        .entry(c.id.as_str())
                        .or_insert((e.to_string(), Some(Box::new(e))));
                }
                Found::Unprovable(why) => {
                    unknown.entry(c.id.as_str()).or_insert((why, None));
                }
                Found::Nothing => {}
            }
        }
    }

    // Where new filters go: the trail the user named, else the trail this
    // plan fixes or creates, else the log group that already holds the most
    // controls, else the first trail by name.
    let primary = d
        .preferred_trail
        .as_deref()
        .and_then(|t| candidates.iter().find(|c| c.trail == t))
        .or_else(|| candidates.iter().find(|c| c.selectors.is_none()))
        .or_else(|| {
            candidates.iter().max_by_key(|c| {
                (
                    held_per_lg.get(&c.log_group).copied().unwrap_or(0),
                    std::cmp::Reverse(&c.trail),
                )
            })
        });
    if let (Some(t), Some(p)) = (&d.preferred_trail, primary)
        && &p.trail != t
    {
        out.notice(Notice::PreferredTrailIgnored {
            configured: t.clone(),
            trail: p.trail.clone(),
            log_group: p.log_group.to_string(),
        });
    }

    let mut notify: Option<NotifyTopic> = None;
    let mut filters_added = 0;
    let mut used = Used::default();
    let mut all_judged = true;
    for c in &d.controls {
        if let Some(chain) = compliant.get(c.id.as_str()) {
            used.note(&chain.region, chain);
            out.control(
                c.key(),
                ControlStatus::Compliant,
                chain.description.clone(),
                None,
            );
            continue;
        }
        if let Some((why, failure)) = unknown.get(c.id.as_str()) {
            all_judged = false;
            out.control(
                c.key(),
                ControlStatus::Unknown,
                cannot_tell(why),
                failure.clone().map(|failure| Cause::ReadFailed { failure }),
            );
            continue;
        }
        if let Some(e) = trails_unknown.first() {
            all_judged = false;
            out.control(
                c.key(),
                ControlStatus::Unknown,
                cannot_tell(e),
                Some(Cause::ReadFailed {
                    failure: Box::new(e.clone()),
                }),
            );
            continue;
        }
        // Not reached: `plan` stops when there are no candidates.
        let Some(first) = primary else { continue };
        // The primary trail if it delivers this control's events, else the
        // first that does.
        let Some(primary) = std::iter::once(first)
            .chain(candidates.iter())
            .find(|t| t.delivers(&c.events).is_ok())
        else {
            all_judged = false;
            let why: Vec<String> = candidates
                .iter()
                .filter_map(|t| t.delivers(&c.events).err())
                .collect();
            out.control(
                c.key(),
                ControlStatus::Blocked,
                format!(
                    "blocked: no trail delivers the events this control watches ({}): {}",
                    c.events.describe(),
                    why.join("; ")
                ),
                None,
            );
            continue;
        };
        for p in &primary.prerequisites {
            out.serve(p, &c.id);
        }
        let view = view_of(&primary.log_group);
        let planned = plan_control(
            c,
            d,
            version,
            primary,
            view,
            &compliant,
            &mut notify,
            &mut filters_added,
            &mut used,
            out,
        );
        match planned {
            Ok((status, reason, cause)) => out.control(c.key(), status, reason, cause),
            Err(Outcome::Unknown(why, failure)) => {
                all_judged = false;
                out.control(
                    c.key(),
                    ControlStatus::Unknown,
                    cannot_tell(why),
                    failure.map(|failure| Cause::ReadFailed { failure }),
                )
            }
            Err(Outcome::Blocked(why, cause)) => {
                all_judged = false;
                out.control(c.key(), ControlStatus::Blocked, why, cause)
            }
        }
    }
    // Only a complete picture says what is unused: a control not judged, or
    // blocked before its alarm was chosen, may rest on any of cis-fix's
    // resources.
    if all_judged {
        for (region, lgs) in &groups {
            retire::plan(d, version, &views[region], lgs, &used, out);
        }
    }
}

/// Plans filter, topic, alarm and subscriptions for one control that does
/// not hold, and says where it will stand.
#[allow(clippy::too_many_arguments)]
fn plan_control(
    c: &MonitoringControl,
    d: &DesiredMonitoring,
    version: &str,
    trail: &Candidate,
    view: &RegionView<'_>,
    compliant: &BTreeMap<&str, Chain>,
    notify: &mut Option<NotifyTopic>,
    filters_added: &mut usize,
    used: &mut Used,
    out: &mut PlanBuilder,
) -> Result<(ControlStatus, String, Option<Cause>), Outcome> {
    let lg = &trail.log_group;
    // Everything the decision needs is read, or nothing is decided.
    let lgv = view.log_group(&lg.name)?;
    let alarms = view.alarms()?;
    view.topics()?;
    view.subscriptions()?;

    let filter = filter::plan(c, d, lg, lgv, alarms, filters_added, out)?;
    used.filters.insert((
        lg.region.clone(),
        lg.name.clone(),
        filter.filter.name.clone(),
    ));

    // The topic is decided once, for every control: the user's, else one
    // that already notifies someone for these controls or that their alarms
    // already notify, else a new one.
    let topic = match notify {
        Some(t) => t,
        None => {
            let mut reuse: Vec<&str> = compliant.values().map(|ch| ch.topic_arn.as_str()).collect();
            for other in &d.controls {
                reuse.extend(chain::notified_topics(other, lgv, alarms, view));
            }
            notify.insert(topic::choose(d, view, &reuse, out)?)
        }
    };

    if let Some(p) = &topic.problem {
        return Err(p.clone());
    }

    let alarm_step = alarm::plan(
        c,
        d,
        version,
        lg,
        &filter.filter,
        filter.change.as_ref(),
        alarms,
        topic,
        used,
        out,
    )?;

    let mut steps: Vec<String> = filter.step.into_iter().chain(alarm_step).collect();
    if let Some(t) = &topic.topic_change {
        out.serve(t, &c.id);
        steps.push(format!("creates topic `{}`", topic.name));
    }
    for s in &topic.subscription_changes {
        out.serve(s, &c.id);
    }
    match &topic.delivery {
        Delivery::Confirmed => {}
        Delivery::WillBeConfirmed => steps.push(format!("subscribes to topic `{}`", topic.name)),
        Delivery::PendingConfirmation(who) => {
            let lead = if steps.is_empty() {
                String::new()
            } else {
                format!("{}; ", steps.join("; "))
            };
            return Ok((
                ControlStatus::PendingConfirmation,
                format!(
                    "{lead}alarms reach nobody until {} confirms the subscription to topic `{}`",
                    who.join(", "),
                    topic.name
                ),
                Some(Cause::AwaitingConfirmation {
                    topic: topic.name.clone(),
                    endpoints: who.clone(),
                }),
            ));
        }
        Delivery::NoSubscriber => {
            return Err(Outcome::Blocked(
                format!(
                    "topic `{}` has no confirmed subscription and none is configured: add sns.subscriptions to cis-fix.yaml",
                    topic.name
                ),
                Some(Cause::NoSubscriber {
                    topic: topic.name.clone(),
                }),
            ));
        }
    }
    if steps.is_empty() && !trail.prerequisites.is_empty() {
        // The chain is in place; the trail fix makes events reach it.
        return Ok((
            ControlStatus::WillFix,
            format!(
                "its chain is in place; the fix of trail `{}` makes its events reach log group `{}`",
                trail.trail, lg.name
            ),
            None,
        ));
    }
    if steps.is_empty() {
        // Every link exists yet no chain was found: a snapshot at odds with
        // itself. Say so rather than claim compliance.
        return Err(Outcome::Blocked(
            "the chain looks complete but could not be proven".into(),
            None,
        ));
    }
    Ok((ControlStatus::WillFix, steps.join("; "), None))
}
