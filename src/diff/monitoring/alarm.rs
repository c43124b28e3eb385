//! The alarm of a control: reuse one that fires and notifies the topic; else
//! fix cis-fix's own, or add the topic to an alarm of the user's that already
//! fires; else create one.

use super::Outcome;
use super::retire::Used;
use super::topic::NotifyTopic;
use super::view::Alarms;
use crate::address::Address;
use crate::desired::{DesiredMonitoring, MonitoringControl};
use crate::diff::builder::PlanBuilder;
use crate::diff::signal::{fires_on_one_event, published_value, watches};
use crate::kinds::metric_alarm::MAX_ACTIONS;
use crate::kinds::{Kind, LogGroupRef, MetricAlarm, MetricFilter, Resource};
use crate::plan::{Action, Change};

#[allow(clippy::too_many_arguments)]
pub fn plan(
    c: &MonitoringControl,
    d: &DesiredMonitoring,
    version: &str,
    lg: &LogGroupRef,
    filter: &MetricFilter,
    filter_change: Option<&Address>,
    alarms: &Alarms<'_>,
    topic: &NotifyTopic,
    used: &mut Used,
    out: &mut PlanBuilder,
) -> Result<Option<String>, Outcome> {
    let value = published_value(filter).unwrap_or(1.0);
    let on_metric: Vec<&MetricAlarm> = alarms.watching(filter);
    let fires = |a: &MetricAlarm| fires_on_one_event(a, filter, value).is_ok();
    let notifies = |a: &MetricAlarm| a.alarm_actions.contains(&topic.arn);
    if let Some(a) = on_metric.iter().find(|a| fires(a) && notifies(a)) {
        used.alarms.insert((lg.region.clone(), a.name.clone()));
        return Ok(None);
    }

    let ours = alarms.named(&c.alarm_name);
    let users_firing = on_metric
        .iter()
        .copied()
        .filter(|a| fires(a) && a.alarm_actions.len() < MAX_ACTIONS)
        .min_by(|a, b| a.name.cmp(&b.name));
    let (before, after, why) = match (ours, users_firing) {
        (Some(old), _) => {
            let why = if !watches(old, filter) {
                format!(
                    "alarm `{}` does not watch metric {}/{}",
                    old.name, filter.metric_namespace, filter.metric_name
                )
            } else {
                match fires_on_one_event(old, filter, value) {
                    Err(e) => format!("alarm `{}` {e}", old.name),
                    Ok(()) => format!(
                        "alarm `{}` does not notify topic `{}`",
                        old.name, topic.name
                    ),
                }
            };
            (Some(old), benchmark_alarm(old.clone(), d, filter), why)
        }
        // The user's alarm already goes off: only the topic is missing, and
        // adding it (nothing else changes) is better than a second alarm.
        (None, Some(theirs)) => (
            Some(theirs),
            theirs.clone(),
            format!(
                "alarm `{}` fires but does not notify topic `{}`",
                theirs.name, topic.name
            ),
        ),
        (None, None) => {
            let why = if on_metric.is_empty() {
                format!(
                    "no alarm watches metric {}/{}",
                    filter.metric_namespace, filter.metric_name
                )
            } else {
                on_metric
                    .iter()
                    .map(|a| match fires_on_one_event(a, filter, value) {
                        Err(e) => format!("alarm `{}` {e}", a.name),
                        Ok(()) => format!("alarm `{}` already has {MAX_ACTIONS} actions", a.name),
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let fresh = MetricAlarm {
                name: c.alarm_name.clone(),
                description: Some(crate::desired::alarm_description(version, &c.id, &c.title)),
                // Filters publish only on a match; without this the alarm
                // sits in INSUFFICIENT_DATA between events.
                treat_missing_data: Some("notBreaching".into()),
                ..MetricAlarm::default()
            };
            (None, benchmark_alarm(fresh, d, filter), why)
        }
    };
    let mut after = after;
    if !after.alarm_actions.contains(&topic.arn) {
        after.alarm_actions.push(topic.arn.clone());
    }
    if after.alarm_actions.len() > MAX_ACTIONS {
        return Err(Outcome::Blocked(
            format!(
                "alarm `{}` already has {MAX_ACTIONS} alarm actions, the AWS maximum, so topic `{}` cannot be added",
                after.name, topic.name
            ),
            None,
        ));
    }
    used.alarms.insert((lg.region.clone(), after.name.clone()));
    let address = Address::new(&out.at(&lg.region), MetricAlarm::TYPE, &c.resource_name);
    let verb = if before.is_some() {
        "updates"
    } else {
        "creates"
    };
    let step = format!("{verb} alarm `{}`: {why}", after.name);
    out.change(Change {
        address,
        action: if before.is_some() {
            Action::Update
        } else {
            Action::Create
        },
        controls: vec![c.id.clone()],
        reason: why,
        before: before.cloned().map(Resource::MetricAlarm),
        after: Some(Resource::MetricAlarm(after)),
        depends_on: filter_change
            .into_iter()
            .chain(topic.topic_change.as_ref())
            .cloned()
            .collect(),
    });
    Ok(Some(step))
}

/// `a` made to watch the filter's metric with the benchmark's parameters;
/// everything else (description, other actions, OK actions) is kept, since
/// PutMetricAlarm replaces the whole alarm.
fn benchmark_alarm(
    mut a: MetricAlarm,
    d: &DesiredMonitoring,
    filter: &MetricFilter,
) -> MetricAlarm {
    a.metric_name = Some(filter.metric_name.clone());
    a.namespace = Some(filter.metric_namespace.clone());
    a.dimensions = filter.dimensions.clone();
    a.unit = filter.unit.clone();
    a.statistic = Some(d.alarm.statistic.clone());
    a.extended_statistic = None;
    a.period = Some(d.alarm.period);
    a.evaluation_periods = Some(d.alarm.evaluation_periods);
    a.datapoints_to_alarm = None;
    a.threshold = Some(d.alarm.threshold);
    a.comparison_operator = Some(d.alarm.comparison_operator.clone());
    a.actions_enabled = true;
    a.uses_metric_math = false;
    if a.treat_missing_data.as_deref() == Some("breaching") {
        a.treat_missing_data = Some("notBreaching".into());
    }
    a
}
