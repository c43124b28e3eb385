//! Does a control hold on a log group: is there a filter covering the
//! pattern, an alarm that goes off on one event, and a topic someone
//! confirmed? Every link proven, or the control does not hold.

use super::view::{Alarms, LogGroupView, RegionView, topic_name};
use crate::desired::MonitoringControl;
use crate::diff::signal::{TopicProblem, fires_on_one_event, sns_actions};
use crate::kinds::{MetricAlarm, MetricFilter};
use crate::observed::CallFailure;
use crate::pattern::Coverage;

/// Alarms that go off when one event reaches `f`.
pub fn firing_alarms<'a, 'f>(
    alarms: &Alarms<'a>,
    f: &'f MetricFilter,
    value: f64,
) -> impl Iterator<Item = &'a MetricAlarm> + 'f
where
    'a: 'f,
{
    alarms
        .watching(f)
        .into_iter()
        .filter(move |a| fires_on_one_event(a, f, value).is_ok())
}

/// A complete, working chain, described for the plan.
pub struct Chain {
    pub description: String,
    pub topic_arn: String,
    /// The region, (log group, filter name) and alarm name of the links.
    pub region: String,
    pub filter: (String, String),
    pub alarm: String,
}

pub enum Found {
    Chain(Chain),
    Nothing,
    /// A read it needed failed.
    Unknown(CallFailure),
    /// Every link but the last was seen; the last cannot be read from here.
    Unprovable(String),
}

pub fn find_chain(c: &MonitoringControl, lg_name: &str, view: &RegionView<'_>) -> Found {
    let lgv = match view.log_group(lg_name) {
        Ok(v) => v,
        Err(e) => return Found::Unknown(e),
    };
    let working = lgv.working(c);
    if working.is_empty() {
        return Found::Nothing;
    }
    let alarms = match view.alarms() {
        Ok(a) => a,
        Err(e) => return Found::Unknown(e),
    };
    let mut unprovable = None;
    for (f, value) in working {
        for a in firing_alarms(alarms, f, value) {
            for topic in sns_actions(a) {
                if view.is_foreign(topic) {
                    unprovable.get_or_insert_with(|| {
                        format!(
                            "alarm `{}` notifies topic {topic} in another account or region, whose subscriptions cis-fix cannot read from here",
                            a.name
                        )
                    });
                    continue;
                }
                let subs = match view.subs_of(topic) {
                    Ok(s) => s,
                    Err(e) => return Found::Unknown(e),
                };
                let confirmed = subs.iter().filter(|s| s.is_confirmed()).count();
                if confirmed == 0 {
                    continue;
                }
                match view.topic_problem(topic) {
                    Err(e) => return Found::Unknown(e),
                    Ok(Some(TopicProblem::Broken(_))) => continue,
                    Ok(Some(TopicProblem::Unprovable(why))) => {
                        unprovable.get_or_insert(why);
                        continue;
                    }
                    Ok(None) => {}
                }
                {
                    return Found::Chain(Chain {
                        description: format!(
                            "filter `{}` on log group `{lg_name}` → alarm `{}` → topic `{}` ({confirmed} confirmed subscription{})",
                            f.name,
                            a.name,
                            topic_name(topic),
                            if confirmed == 1 { "" } else { "s" }
                        ),
                        topic_arn: topic.to_string(),
                        region: view.region.to_string(),
                        filter: (lg_name.to_string(), f.name.clone()),
                        alarm: a.name.clone(),
                    });
                }
            }
        }
    }
    match unprovable {
        Some(why) => Found::Unprovable(why),
        None => Found::Nothing,
    }
}

/// Topics already notified by an alarm that fires for this control, in this
/// account and region: candidates for reuse rather than a new topic.
pub fn notified_topics<'a>(
    c: &MonitoringControl,
    lgv: &LogGroupView<'a>,
    alarms: &Alarms<'a>,
    view: &RegionView<'_>,
) -> Vec<&'a str> {
    let mut out = Vec::new();
    for (f, value) in lgv.working(c) {
        for a in firing_alarms(alarms, f, value) {
            out.extend(sns_actions(a).filter(|t| !view.is_foreign(t)));
        }
    }
    out
}

pub fn describe_gap(v: &Coverage) -> String {
    match v {
        Coverage::Covered => "covers the benchmark pattern".into(),
        Coverage::NotCovered { missing } => {
            let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
            let more = missing.len().saturating_sub(shown.len());
            format!(
                "would not fire on {}{}",
                shown.join(", nor on "),
                if more > 0 {
                    format!(" (and {more} more)")
                } else {
                    String::new()
                }
            )
        }
        Coverage::CannotProve { reason } => {
            format!("cannot be proven to cover the benchmark pattern ({reason})")
        }
    }
}
