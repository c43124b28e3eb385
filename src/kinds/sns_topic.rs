//! `aws_sns_topic`: the topic alarms notify.

use serde::{Deserialize, Serialize};

use super::{Action, Deferred, Kind, ReadData, WriteCall};
use crate::address::Location;
use crate::arn::Arn;

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

/// The read that lists every topic of a region.
pub const READ: &str = "sns:ListTopics";
/// The read of one topic's attributes (its resource is the topic ARN).
pub const READ_ATTRIBUTES: &str = "sns:GetTopicAttributes";

pub fn from_read(d: &ReadData) -> Option<&[Topic]> {
    match d {
        ReadData::Topics(v) => Some(v),
        _ => None,
    }
}

/// `Some(None)`: the topic does not exist.
pub fn attributes_from_read(d: &ReadData) -> Option<Option<&TopicAttributes>> {
    match d {
        ReadData::TopicAttributes(v) => Some(v.as_ref()),
        _ => None,
    }
}

impl Kind for Topic {
    const TYPE: &'static str = "aws_sns_topic";
    const READ_ACTIONS: &'static [&'static str] = &[READ, READ_ATTRIBUTES];
    const WRITE_ACTIONS: &'static [&'static str] = &["sns:CreateTopic"];
    const LABEL: &'static str = "SNS topic";

    /// Topics are only ever created: someone may rely on one cis-fix made,
    /// so it is never deleted or replaced (no calls: apply refuses).
    fn calls(action: Action, _before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        match (action, after) {
            (Action::Create, Some(t)) => vec![WriteCall::CreateTopic {
                name: t.name.clone(),
            }],
            _ => vec![],
        }
    }

    /// A topic's ARN is its place and name.
    fn planned_arn(&self, at: &Location, partition: &str) -> Option<String> {
        Some(
            Arn {
                partition: partition.to_string(),
                service: "sns".into(),
                region: at.region.clone(),
                account: at.account.clone().unwrap_or_else(|| "*".into()),
                resource: self.name.clone(),
            }
            .to_string(),
        )
    }
}
