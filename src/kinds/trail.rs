//! CloudTrail trails as read: the facts the trail controls and the first
//! link of every monitoring control are judged on. What cis-fix writes to a
//! trail is the `aws_cloudtrail` kind (`cloudtrail.rs`).

use serde::{Deserialize, Serialize};

use super::ReadData;
use crate::arn::Arn;
use crate::observed::Observed;

/// The read that lists the trails visible from the home region.
pub const READ: &str = "cloudtrail:DescribeTrails";
/// IAM actions of every trail read (status and selectors are read per trail).
pub const READ_ACTIONS: &[&str] = &[
    READ,
    "cloudtrail:ListTrails",
    "cloudtrail:GetTrail",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
];

pub fn from_read(d: &ReadData) -> Option<&[Trail]> {
    match d {
        ReadData::Trails(v) => Some(v),
        _ => None,
    }
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
    /// IAM, STS and other global services' events (always on for a
    /// multi-region trail).
    #[serde(default = "yes")]
    pub include_global_service_events: bool,
    pub status: Observed<TrailStatus>,
    pub selectors: Observed<EventSelectors>,
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
        let a = Arn::parse(arn)?;
        let name = a.log_group_name()?.to_string();
        if a.region.is_empty() {
            return None;
        }
        Some(LogGroupRef {
            region: a.region,
            account: a.account,
            name,
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
    /// Data events the selector logs: kept as they are whenever cis-fix
    /// writes the trail's selectors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_resources: Vec<DataResource>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataResource {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

fn yes() -> bool {
    true
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
}
