//! Our own types for each AWS resource kind cis-fix reads or writes.
//!
//! The same types describe the live account (snapshot), the desired state and
//! the before/after of a planned change, so a snapshot file, a live read and a
//! saved plan all feed the same diff and render the same way. SDK types never
//! reach this module: `aws` converts at the edge.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A value that is either known now or only after an earlier change in the
/// same plan has been applied (Terraform's "known after apply").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Deferred {
    Known(String),
    /// The attribute `attr` of the resource at `address`, e.g. the ARN of a
    /// topic the same plan creates.
    AfterApply {
        after_apply: String,
    },
}

impl Deferred {
    pub fn after_apply(address: &str, attr: &str) -> Self {
        Deferred::AfterApply {
            after_apply: format!("{address}.{attr}"),
        }
    }

    pub fn known(&self) -> Option<&str> {
        match self {
            Deferred::Known(s) => Some(s),
            Deferred::AfterApply { .. } => None,
        }
    }
}

impl From<String> for Deferred {
    fn from(s: String) -> Self {
        Deferred::Known(s)
    }
}

impl From<&str> for Deferred {
    fn from(s: &str) -> Self {
        Deferred::Known(s.to_string())
    }
}

/// A CloudWatch Logs metric filter with its single metric transformation
/// (AWS allows exactly one).
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

/// A CloudWatch metric alarm. Every attribute PutMetricAlarm takes is kept,
/// because an update overwrites the whole alarm: what we do not manage must be
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

fn yes() -> bool {
    true
}

/// An SNS topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub name: String,
    pub arn: Deferred,
}

/// What of a topic's attributes decides whether CloudWatch can publish.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicAttributes {
    /// Server-side encryption key; CloudWatch can publish to an encrypted
    /// topic only through a customer managed key whose policy allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<String>,
}

/// An SNS subscription. `arn` is `PendingConfirmation` until a person (or the
/// endpoint) confirms it; only a real ARN means messages are delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    pub topic_arn: Deferred,
    pub protocol: String,
    pub endpoint: String,
    pub arn: Deferred,
}

impl Subscription {
    /// Confirmed means SNS shows a subscription ARN, not a pending marker.
    pub fn is_confirmed(&self) -> bool {
        matches!(&self.arn, Deferred::Known(a) if a.starts_with("arn:"))
    }
}

/// Whether SNS waits for the endpoint's owner to confirm a new subscription
/// before delivering to it (email and HTTP(S) do; same-account SQS, Lambda,
/// Firehose, SMS and mobile push do not).
pub fn protocol_needs_confirmation(protocol: &str) -> bool {
    matches!(
        protocol.to_ascii_lowercase().as_str(),
        "email" | "email-json" | "http" | "https"
    )
}

/// A CloudTrail trail as DescribeTrails shows it, plus its status and event
/// selectors read from its home region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    pub is_multi_region: bool,
    #[serde(default)]
    pub is_organization_trail: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch_logs_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub log_file_validation: bool,
    pub status: crate::snapshot::Observed<TrailStatus>,
    pub selectors: crate::snapshot::Observed<EventSelectors>,
}

impl Trail {
    /// The (region, name) of the log group the trail delivers to, parsed from
    /// `arn:aws:logs:<region>:<acct>:log-group:<name>[:*]`.
    pub fn log_group(&self) -> Option<LogGroupRef> {
        LogGroupRef::from_arn(self.log_group_arn.as_deref()?)
    }
}

/// Where a log group lives: metric filters, alarms and topics of a monitoring
/// chain must all be in this region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LogGroupRef {
    pub region: String,
    /// The account that owns the log group (an organization trail seen
    /// from a member account delivers to the management account's).
    pub account: String,
    pub name: String,
}

impl LogGroupRef {
    pub fn from_arn(arn: &str) -> Option<Self> {
        let mut parts = arn.splitn(7, ':');
        let (prefix, _partition, service, region, account, kind) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        let rest = parts.next()?;
        if prefix != "arn" || service != "logs" || kind != "log-group" || region.is_empty() {
            return None;
        }
        let name = rest.strip_suffix(":*").unwrap_or(rest);
        if name.is_empty() {
            return None;
        }
        Some(LogGroupRef {
            region: region.to_string(),
            account: account.to_string(),
            name: name.to_string(),
        })
    }
}

impl std::fmt::Display for LogGroupRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name, self.region)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailStatus {
    pub is_logging: bool,
    /// CloudTrail's last error delivering to CloudWatch Logs: when set, events
    /// are not reaching the log group, whatever the settings say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_cloudwatch_logs_delivery_error: Option<String>,
}

/// Event selectors of a trail: classic (basic) or advanced, never both in AWS.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSelectors {
    #[serde(default)]
    pub basic: Vec<BasicSelector>,
    #[serde(default)]
    pub advanced: Vec<AdvancedSelector>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicSelector {
    /// `All`, `ReadOnly` or `WriteOnly`.
    pub read_write_type: String,
    pub include_management_events: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_management_event_sources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvancedSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSelector {
    pub field: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub starts_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_starts_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ends_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_ends_with: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_group_from_arn() {
        let lg = LogGroupRef::from_arn("arn:aws:logs:eu-west-1:123456789012:log-group:ct/logs:*")
            .expect("parses");
        assert_eq!(lg.region, "eu-west-1");
        assert_eq!(lg.account, "123456789012");
        assert_eq!(lg.name, "ct/logs");
        let lg = LogGroupRef::from_arn("arn:aws:logs:us-east-1:1:log-group:plain").expect("parses");
        assert_eq!(lg.name, "plain");
        assert!(LogGroupRef::from_arn("arn:aws:s3:::bucket").is_none());
        assert!(LogGroupRef::from_arn("garbage").is_none());
    }

    #[test]
    fn deferred_round_trips_as_string_or_reference() {
        let v = serde_json::to_value(vec![
            Deferred::from("arn:aws:sns:us-east-1:1:t"),
            Deferred::after_apply("aws_sns_topic.cis_alarms", "arn"),
        ])
        .expect("serialises");
        assert_eq!(
            v,
            serde_json::json!(["arn:aws:sns:us-east-1:1:t", {"after_apply": "aws_sns_topic.cis_alarms.arn"}])
        );
        let back: Vec<Deferred> = serde_json::from_value(v).expect("parses");
        assert_eq!(back[1].known(), None);
    }

    #[test]
    fn subscription_confirmation() {
        let mut s = Subscription {
            topic_arn: "arn:aws:sns:us-east-1:1:t".into(),
            protocol: "email".into(),
            endpoint: "a@example.com".into(),
            arn: "PendingConfirmation".into(),
        };
        assert!(!s.is_confirmed());
        s.arn = "arn:aws:sns:us-east-1:1:t:abc".into();
        assert!(s.is_confirmed());
        assert!(protocol_needs_confirmation("EMAIL"));
        assert!(!protocol_needs_confirmation("sqs"));
    }
}
