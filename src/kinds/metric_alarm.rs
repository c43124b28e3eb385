//! `aws_cloudwatch_metric_alarm`: a CloudWatch alarm on the metric a filter
//! publishes, notifying an SNS topic.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Action, Deferred, Kind, ReadData, WriteCall};

/// A metric alarm. Every attribute PutMetricAlarm takes is kept, because an
/// update overwrites the whole alarm: what cis-fix does not manage must be
/// carried over unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricAlarm {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_statistic: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_periods: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison_operator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treat_missing_data: Option<String>,
    #[serde(default = "yes")]
    pub actions_enabled: bool,
    #[serde(default)]
    pub alarm_actions: Vec<Deferred>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ok_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub insufficient_data_actions: Vec<String>,
    /// True when the alarm watches a metric-math expression (`Metrics`)
    /// rather than a single metric; cis-fix cannot prove such an alarm fires.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub uses_metric_math: bool,
}

impl Default for MetricAlarm {
    /// An alarm with a name to fill in and nothing else set but what AWS
    /// defaults: actions enabled.
    fn default() -> Self {
        MetricAlarm {
            name: String::new(),
            description: None,
            metric_name: None,
            namespace: None,
            statistic: None,
            extended_statistic: None,
            dimensions: BTreeMap::new(),
            period: None,
            unit: None,
            evaluation_periods: None,
            datapoints_to_alarm: None,
            threshold: None,
            comparison_operator: None,
            treat_missing_data: None,
            actions_enabled: true,
            alarm_actions: vec![],
            ok_actions: vec![],
            insufficient_data_actions: vec![],
            uses_metric_math: false,
        }
    }
}

fn yes() -> bool {
    true
}

/// The read that lists every alarm of a region.
pub const READ: &str = "cloudwatch:DescribeAlarms";

/// AWS's limit on actions per alarm state.
pub const MAX_ACTIONS: usize = 5;

pub fn from_read(d: &ReadData) -> Option<&[MetricAlarm]> {
    match d {
        ReadData::Alarms(v) => Some(v),
        _ => None,
    }
}

impl Kind for MetricAlarm {
    const TYPE: &'static str = "aws_cloudwatch_metric_alarm";
    const READ_ACTIONS: &'static [&'static str] = &[READ];
    const WRITE_ACTIONS: &'static [&'static str] =
        &["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"];
    const LABEL: &'static str = "alarm";

    fn calls(action: Action, before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        let put = after.map(|a| WriteCall::PutMetricAlarm(a.clone()));
        let delete = before.map(|a| WriteCall::DeleteAlarm {
            name: a.name.clone(),
        });
        match action {
            Action::Create | Action::Update => put.into_iter().collect(),
            Action::Delete => delete.into_iter().collect(),
            Action::Replace => delete.into_iter().chain(put).collect(),
        }
    }

    fn forces_replacement(before: &Self, after: &Self) -> Option<String> {
        (before.name != after.name).then(|| {
            format!(
                "the name changes from `{}` to `{}`",
                before.name, after.name
            )
        })
    }
}
