//! CloudWatch metric alarms, read and written.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StandardUnit, Statistic};

use super::clients::RegionClients;
use super::error::failure;
use super::{Limiter, all_pages};
use crate::kinds::{Deferred, MetricAlarm};
use crate::observed::{CallFailure, Observed};

/// Every metric alarm of the region, every page (moto ignores paging; AWS
/// pages by 100).
pub async fn read_alarms(rc: &RegionClients, limit: &Limiter) -> Observed<Vec<MetricAlarm>> {
    let pages = match all_pages(
        rc.cloudwatch
            .describe_alarms()
            .max_records(super::page_size::DESCRIBE_ALARMS)
            .into_paginator()
            .send(),
        limit,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => {
            return Observed::Failed(failure("cloudwatch:DescribeAlarms", &rc.region, None, &e));
        }
    };
    let mut out = Vec::new();
    for page in pages {
        for a in page.metric_alarms.unwrap_or_default() {
            let uses_metric_math = a.metrics.as_ref().is_some_and(|m| !m.is_empty());
            out.push(MetricAlarm {
                name: a.alarm_name.unwrap_or_default(),
                description: a.alarm_description,
                metric_name: a.metric_name,
                namespace: a.namespace,
                statistic: a.statistic.map(|s| s.as_str().to_string()),
                extended_statistic: a.extended_statistic,
                dimensions: a
                    .dimensions
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|d| Some((d.name?, d.value?)))
                    .collect(),
                period: a.period,
                unit: a
                    .unit
                    .map(|u| u.as_str().to_string())
                    .filter(|u| u != "None"),
                evaluation_periods: a.evaluation_periods,
                datapoints_to_alarm: a.datapoints_to_alarm,
                threshold: a.threshold,
                comparison_operator: a.comparison_operator.map(|c| c.as_str().to_string()),
                treat_missing_data: a.treat_missing_data,
                actions_enabled: a.actions_enabled.unwrap_or(true),
                alarm_actions: a
                    .alarm_actions
                    .unwrap_or_default()
                    .into_iter()
                    .map(Deferred::Known)
                    .collect(),
                ok_actions: a.ok_actions.unwrap_or_default(),
                insufficient_data_actions: a.insufficient_data_actions.unwrap_or_default(),
                uses_metric_math,
            });
        }
    }
    Observed::Ok(out)
}

/// PutMetricAlarm replaces the whole alarm, so every attribute of `a` is sent.
/// All `alarm_actions` must be resolved (known) by now.
pub async fn put_alarm(rc: &RegionClients, a: &MetricAlarm) -> Result<(), CallFailure> {
    let call = "cloudwatch:PutMetricAlarm";
    let mut actions = Vec::new();
    for d in &a.alarm_actions {
        match d.known() {
            Some(s) => actions.push(s.to_string()),
            None => {
                return Err(CallFailure {
                    call: call.into(),
                    region: rc.region.clone(),
                    resource: Some(a.name.clone()),
                    code: None,
                    message: format!("alarm action {d} is not known yet"),
                    detail: None,
                });
            }
        }
    }
    let dims: Vec<Dimension> = a
        .dimensions
        .iter()
        .map(|(k, v)| Dimension::builder().name(k).value(v).build())
        .collect();
    rc.cloudwatch
        .put_metric_alarm()
        .alarm_name(&a.name)
        .set_alarm_description(a.description.clone())
        .set_metric_name(a.metric_name.clone())
        .set_namespace(a.namespace.clone())
        .set_statistic(a.statistic.as_deref().map(Statistic::from))
        .set_extended_statistic(a.extended_statistic.clone())
        .set_dimensions((!dims.is_empty()).then_some(dims))
        .set_period(a.period)
        .set_unit(a.unit.as_deref().map(StandardUnit::from))
        .set_evaluation_periods(a.evaluation_periods)
        .set_datapoints_to_alarm(a.datapoints_to_alarm)
        .set_threshold(a.threshold)
        .set_comparison_operator(
            a.comparison_operator
                .as_deref()
                .map(ComparisonOperator::from),
        )
        .set_treat_missing_data(a.treat_missing_data.clone())
        .actions_enabled(a.actions_enabled)
        .set_alarm_actions(Some(actions))
        .set_ok_actions((!a.ok_actions.is_empty()).then(|| a.ok_actions.clone()))
        .set_insufficient_data_actions(
            (!a.insufficient_data_actions.is_empty()).then(|| a.insufficient_data_actions.clone()),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure(call, &rc.region, Some(&a.name), &e))
}

/// Deletes an alarm; DeleteAlarms ignores names that do not exist, so a
/// re-run after a crash converges.
pub async fn delete_alarm(rc: &RegionClients, name: &str) -> Result<(), CallFailure> {
    rc.cloudwatch
        .delete_alarms()
        .alarm_names(name)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure("cloudwatch:DeleteAlarms", &rc.region, Some(name), &e))
}
