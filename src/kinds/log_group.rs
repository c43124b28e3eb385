//! `aws_cloudwatch_log_group`: the log group a trail delivers its events to,
//! where the monitoring chain's filters live. cis-fix only ever creates one
//! (for a trail that delivers nowhere); a log group is never changed or
//! deleted, since its events are the account's audit record.

use serde::{Deserialize, Serialize};

use super::{Action, Kind, ReadData, WriteCall};
use crate::address::Location;
use crate::arn::Arn;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogGroup {
    pub name: String,
    /// Days events are kept; `None`: forever (CloudWatch Logs' default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<i32>,
}

/// The read that finds log groups by name prefix (its resource is the prefix).
pub const READ: &str = "logs:DescribeLogGroups";

pub fn from_read(d: &ReadData) -> Option<&[LogGroup]> {
    match d {
        ReadData::LogGroups(v) => Some(v),
        _ => None,
    }
}

/// The ARN CloudTrail is given for a log group (IAM's form, ending in `:*`).
pub fn arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    Arn {
        partition: partition.into(),
        service: "logs".into(),
        region: region.into(),
        account: account.into(),
        resource: format!("log-group:{name}:*"),
    }
    .to_string()
}

impl Kind for LogGroup {
    const TYPE: &'static str = "aws_cloudwatch_log_group";
    const READ_ACTIONS: &'static [&'static str] = &[READ];
    const WRITE_ACTIONS: &'static [&'static str] = &["logs:CreateLogGroup"];
    const LABEL: &'static str = "CloudWatch Logs log group";

    fn calls(action: Action, _before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        match (action, after) {
            (Action::Create, Some(g)) => vec![WriteCall::CreateLogGroup {
                name: g.name.clone(),
            }],
            _ => vec![],
        }
    }

    fn planned_arn(&self, at: &Location, partition: &str) -> Option<String> {
        Some(arn(
            partition,
            &at.region,
            at.account.as_deref().unwrap_or("*"),
            &self.name,
        ))
    }
}
