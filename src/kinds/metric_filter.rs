//! `aws_cloudwatch_log_metric_filter`: a CloudWatch Logs metric filter that
//! turns matching log events into a metric an alarm can watch.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Action, Kind, ReadData, WriteCall};

/// A metric filter with its single metric transformation (AWS allows
/// exactly one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricFilter {
    pub log_group_name: String,
    pub name: String,
    pub pattern: String,
    pub metric_name: String,
    pub metric_namespace: String,
    /// The value published per matching event: a number, or `$.field`.
    pub metric_value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<f64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// The read that lists a log group's filters (its resource is the group).
pub const READ: &str = "logs:DescribeMetricFilters";

/// AWS's fixed quota of metric filters per log group.
pub const MAX_PER_LOG_GROUP: usize = 100;

pub fn from_read(d: &ReadData) -> Option<&[MetricFilter]> {
    match d {
        ReadData::MetricFilters(v) => Some(v),
        _ => None,
    }
}

impl Kind for MetricFilter {
    const TYPE: &'static str = "aws_cloudwatch_log_metric_filter";
    const READ_ACTIONS: &'static [&'static str] = &[READ];
    const WRITE_ACTIONS: &'static [&'static str] =
        &["logs:PutMetricFilter", "logs:DeleteMetricFilter"];
    const LABEL: &'static str = "metric filter";

    fn calls(action: Action, before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        let put = after.map(|f| WriteCall::PutMetricFilter(f.clone()));
        let delete = before.map(|f| WriteCall::DeleteMetricFilter {
            log_group_name: f.log_group_name.clone(),
            filter_name: f.name.clone(),
        });
        match action {
            // PutMetricFilter creates or replaces the filter of that name.
            Action::Create | Action::Update => put.into_iter().collect(),
            Action::Delete => delete.into_iter().collect(),
            Action::Replace => delete.into_iter().chain(put).collect(),
        }
    }

    /// A filter is known by (log group, name): another name or group is
    /// another filter, and writing it would leave the old one behind.
    fn forces_replacement(before: &Self, after: &Self) -> Option<String> {
        if before.name != after.name {
            Some(format!(
                "the name changes from `{}` to `{}`",
                before.name, after.name
            ))
        } else if before.log_group_name != after.log_group_name {
            Some(format!(
                "the log group changes from `{}` to `{}`",
                before.log_group_name, after.log_group_name
            ))
        } else {
            None
        }
    }
}
