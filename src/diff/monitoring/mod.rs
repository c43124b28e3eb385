//! The monitoring controls: metric filter → alarm → SNS topic → confirmed
//! subscription, on a log group a qualifying trail delivers to. A control is
//! compliant only when every link is proven; otherwise the smallest set of
//! changes that completes the chain is planned, reusing what works.

mod alarm;
mod chain;
mod filter;
mod topic;
mod view;

use std::collections::BTreeMap;

use super::builder::PlanBuilder;
use super::trail::Candidate;
use crate::desired::{DesiredMonitoring, MonitoringControl};
use crate::plan::{ControlStatus, Severity};
use crate::resources::LogGroupRef;
use crate::snapshot::{CallFailure, Snapshot};
use chain::{Chain, Found, find_chain};
use topic::{Delivery, NotifyTopic};
use view::RegionView;

/// Why a control gets no fix.
#[derive(Clone)]
pub(super) enum Outcome {
    Unknown(String),
    Blocked(String),
}

impl From<CallFailure> for Outcome {
    fn from(e: CallFailure) -> Self {
        Outcome::Unknown(e.to_string())
    }
}

fn cannot_tell(why: impl std::fmt::Display) -> String {
    format!("cannot tell: {why}; nothing is planned for this control")
}

pub(super) fn plan(
    d: &DesiredMonitoring,
    version: &str,
    snap: &Snapshot,
    candidates: &[Candidate],
    trails_unknown: &[CallFailure],
    out: &mut PlanBuilder,
) {
    let account = snap.account_id.as_deref();
    let mut views: BTreeMap<&str, RegionView<'_>> = BTreeMap::new();
    for c in candidates {
        let region = c.log_group.region.as_str();
        views
            .entry(region)
            .or_insert_with(|| RegionView::new(region, account, snap.regions.get(region)));
    }
    let view_of = |lg: &LogGroupRef| &views[lg.region.as_str()];

    // Which controls already hold, on any qualifying log group?
    let mut compliant: BTreeMap<&str, Chain> = BTreeMap::new();
    let mut unknown: BTreeMap<&str, String> = BTreeMap::new();
    let mut held_per_lg: BTreeMap<&LogGroupRef, usize> = BTreeMap::new();
    for c in &d.controls {
        for cand in candidates {
            match find_chain(c, &cand.log_group.name, view_of(&cand.log_group)) {
                Found::Chain(chain) => {
                    *held_per_lg.entry(&cand.log_group).or_default() += 1;
                    compliant.entry(c.id.as_str()).or_insert(chain);
                }
                Found::Unknown(e) => {
                    unknown.entry(c.id.as_str()).or_insert(e.to_string());
                }
                Found::Unprovable(why) => {
                    unknown.entry(c.id.as_str()).or_insert(why);
                }
                Found::Nothing => {}
            }
        }
    }

    // Where new filters go: the trail the user named, else the log group
    // that already holds the most controls, else the first trail by name.
    let primary = d
        .preferred_trail
        .as_deref()
        .and_then(|t| candidates.iter().find(|c| c.trail == t))
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
        out.notice(
            Severity::Warning,
            format!(
                "config names trail `{t}`, which does not qualify; new filters go to `{}` of trail `{}`",
                p.log_group, p.trail
            ),
            vec![],
        );
    }

    let mut notify: Option<NotifyTopic> = None;
    let mut filters_added = 0;
    for c in &d.controls {
        if let Some(chain) = compliant.get(c.id.as_str()) {
            out.control(c, ControlStatus::Compliant, chain.description.clone());
            continue;
        }
        if let Some(why) = unknown.get(c.id.as_str()) {
            out.control(c, ControlStatus::Unknown, cannot_tell(why));
            continue;
        }
        if let Some(e) = trails_unknown.first() {
            out.control(c, ControlStatus::Unknown, cannot_tell(e));
            continue;
        }
        // No candidates: diff::plan reports the trail blocker.
        let Some(primary) = primary else { continue };
        let view = view_of(&primary.log_group);
        let planned = plan_control(
            c,
            d,
            version,
            &primary.log_group,
            view,
            &compliant,
            &mut notify,
            &mut filters_added,
            out,
        );
        match planned {
            Ok((status, reason)) => out.control(c, status, reason),
            Err(Outcome::Unknown(why)) => out.control(c, ControlStatus::Unknown, cannot_tell(why)),
            Err(Outcome::Blocked(why)) => out.control(c, ControlStatus::Blocked, why),
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
    lg: &LogGroupRef,
    view: &RegionView<'_>,
    compliant: &BTreeMap<&str, Chain>,
    notify: &mut Option<NotifyTopic>,
    filters_added: &mut usize,
    out: &mut PlanBuilder,
) -> Result<(ControlStatus, String), Outcome> {
    // Everything the decision needs is read, or nothing is decided.
    let lgv = view.log_group(&lg.name)?;
    let alarms = view.alarms()?;
    view.topics()?;
    view.subscriptions()?;

    let filter = filter::plan(c, d, lg, lgv, alarms, filters_added, out)?;

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
        filter.change.as_deref(),
        alarms,
        topic,
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
                    "{lead}alarms reach nobody until {who} confirms the subscription to topic `{}`",
                    topic.name
                ),
            ));
        }
        Delivery::NoSubscriber => {
            return Err(Outcome::Blocked(format!(
                "topic `{}` has no confirmed subscription and none is configured: add sns.subscriptions to cis-fix.yaml",
                topic.name
            )));
        }
    }
    if steps.is_empty() {
        // Every link exists yet no chain was found: a snapshot at odds with
        // itself. Say so rather than claim compliance.
        return Err(Outcome::Blocked(
            "the chain looks complete but could not be proven".into(),
        ));
    }
    Ok((ControlStatus::WillFix, steps.join("; ")))
}
