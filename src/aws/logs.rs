//! CloudWatch Logs: the trail's log group and its metric filters, read and
//! written.

use std::collections::BTreeMap;

use aws_sdk_cloudwatchlogs::types::{MetricTransformation, StandardUnit};

use super::clients::RegionClients;
use super::error::failure;
use super::{Limiter, all_pages};
use crate::kinds::{LogGroup, MetricFilter};
use crate::observed::{CallFailure, Observed};

/// All metric filters of one log group, every page.
pub async fn read_filters(
    rc: &RegionClients,
    log_group: &str,
    limit: &Limiter,
) -> Observed<Vec<MetricFilter>> {
    let pages = rc
        .logs
        .describe_metric_filters()
        .log_group_name(log_group)
        .limit(super::page_size::DESCRIBE_METRIC_FILTERS)
        .into_paginator()
        .send();
    let pages = match all_pages(pages, limit).await {
        Ok(p) => p,
        Err(e) => {
            return Observed::Failed(failure(
                "logs:DescribeMetricFilters",
                &rc.region,
                Some(log_group),
                &e,
            ));
        }
    };
    let mut out = Vec::new();
    for page in pages {
        for f in page.metric_filters.unwrap_or_default() {
            // AWS allows exactly one transformation; a filter without one
            // publishes nothing and cannot serve a control.
            let Some(t) = f
                .metric_transformations
                .unwrap_or_default()
                .into_iter()
                .next()
            else {
                continue;
            };
            out.push(MetricFilter {
                log_group_name: f.log_group_name.unwrap_or_else(|| log_group.to_string()),
                name: f.filter_name.unwrap_or_default(),
                pattern: f.filter_pattern.unwrap_or_default(),
                metric_name: t.metric_name,
                metric_namespace: t.metric_namespace,
                metric_value: t.metric_value,
                default_value: t.default_value,
                dimensions: t
                    .dimensions
                    .unwrap_or_default()
                    .into_iter()
                    .collect::<BTreeMap<_, _>>(),
                unit: t
                    .unit
                    .map(|u| u.as_str().to_string())
                    .filter(|u| u != "None"),
            });
        }
    }
    Observed::Ok(out)
}

/// PutMetricFilter creates or replaces the filter of that name (AWS
/// semantics; moto appends a duplicate instead, which is why apply never
/// writes a filter that already matches).
pub async fn put_filter(rc: &RegionClients, f: &MetricFilter) -> Result<(), CallFailure> {
    let call = "logs:PutMetricFilter";
    let resource = format!("{}/{}", f.log_group_name, f.name);
    let mut t = MetricTransformation::builder()
        .metric_name(&f.metric_name)
        .metric_namespace(&f.metric_namespace)
        .metric_value(&f.metric_value)
        .set_default_value(f.default_value)
        .set_unit(f.unit.as_deref().map(StandardUnit::from));
    if !f.dimensions.is_empty() {
        t = t.set_dimensions(Some(f.dimensions.clone().into_iter().collect()));
    }
    let t = t.build().map_err(|e| CallFailure {
        call: call.into(),
        region: rc.region.clone(),
        resource: Some(resource.clone()),
        code: None,
        message: e.to_string(),
        detail: None,
    })?;
    rc.logs
        .put_metric_filter()
        .log_group_name(&f.log_group_name)
        .filter_name(&f.name)
        .filter_pattern(&f.pattern)
        .metric_transformations(t)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure(call, &rc.region, Some(&resource), &e))
}

/// Deletes a metric filter; one already gone is not an error (a re-run
/// after a crash must converge).
pub async fn delete_filter(
    rc: &RegionClients,
    log_group: &str,
    name: &str,
) -> Result<(), CallFailure> {
    let call = "logs:DeleteMetricFilter";
    let resource = format!("{log_group}/{name}");
    match rc
        .logs
        .delete_metric_filter()
        .log_group_name(log_group)
        .filter_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let f = failure(call, &rc.region, Some(&resource), &e);
            if f.code.as_deref() == Some("ResourceNotFoundException") {
                Ok(())
            } else {
                Err(f)
            }
        }
    }
}

/// The log groups named exactly `name` (DescribeLogGroups matches a prefix,
/// so `name-old` would be listed too): none or one.
pub async fn read_log_groups(
    rc: &RegionClients,
    name: &str,
    limit: &Limiter,
) -> Observed<Vec<LogGroup>> {
    let pages = rc
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .limit(super::page_size::DESCRIBE_LOG_GROUPS)
        .into_paginator()
        .send();
    match all_pages(pages, limit).await {
        Ok(pages) => Observed::Ok(
            pages
                .into_iter()
                .flat_map(|p| p.log_groups.unwrap_or_default())
                .filter(|g| g.log_group_name.as_deref() == Some(name))
                .map(|g| LogGroup {
                    name: name.to_string(),
                    retention_in_days: g.retention_in_days,
                })
                .collect(),
        ),
        Err(e) => Observed::Failed(failure(
            crate::kinds::log_group::READ,
            &rc.region,
            Some(name),
            &e,
        )),
    }
}

/// Creates a log group; one that already exists counts as made (a re-run
/// after an interrupted apply must converge, and the group is identified
/// by its name alone).
pub async fn create_log_group(rc: &RegionClients, name: &str) -> Result<(), CallFailure> {
    let call = "logs:CreateLogGroup";
    match rc.logs.create_log_group().log_group_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let f = failure(call, &rc.region, Some(name), &e);
            if f.code.as_deref() == Some("ResourceAlreadyExistsException") {
                Ok(())
            } else {
                Err(f)
            }
        }
    }
}
