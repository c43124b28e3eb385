//! The plan as data: what will change, why, and where each control stands.
//! Rendering and applying read this; neither decides anything.

use serde::{Deserialize, Serialize};

use crate::resources::{MetricAlarm, MetricFilter, Subscription, Topic};
use crate::snapshot::CallFailure;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{path}: not a cis-fix plan (line {line}, column {column}): {message}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path}: plan format_version {found} is not supported (this cis-fix reads {FORMAT_VERSION}); make the plan again with this version"
    )]
    Version { path: String, found: String },
}

/// Version of the plan's JSON form (`--json`); bumped on any breaking change.
pub const FORMAT_VERSION: &str = "1.0";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format_version: String,
    pub benchmark: String,
    pub benchmark_title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Facts the user must know before reading the changes (no qualifying
    /// trail, reads that failed). Shown first.
    pub notices: Vec<Notice>,
    pub changes: Vec<Change>,
    pub controls: Vec<ControlReport>,
    pub summary: Summary,
    /// Reads that failed for good. Even when no control's verdict depends on
    /// one, a scheduled run must hear about it.
    #[serde(default)]
    pub failed_reads: Vec<CallFailure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    pub severity: Severity,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
        }
    }
}

/// One resource that will be created or changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Terraform-style address, e.g. `aws_cloudwatch_metric_alarm.cis_4_3`.
    pub address: String,
    pub action: Action,
    pub region: String,
    /// The controls this change serves.
    pub controls: Vec<String>,
    /// Why the change is needed, in words.
    pub reason: String,
    pub before: Option<Resource>,
    pub after: Resource,
    /// Addresses that must be applied first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

/// The resource kinds a change can carry; the tag names the Terraform type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Resource {
    #[serde(rename = "aws_cloudwatch_log_metric_filter")]
    MetricFilter(MetricFilter),
    #[serde(rename = "aws_cloudwatch_metric_alarm")]
    MetricAlarm(MetricAlarm),
    #[serde(rename = "aws_sns_topic")]
    Topic(Topic),
    #[serde(rename = "aws_sns_topic_subscription")]
    Subscription(Subscription),
}

impl Resource {
    /// The IAM action apply calls to make this resource, for the permission
    /// check before the first write.
    pub fn write_action(&self) -> &'static str {
        match self {
            Resource::MetricFilter(_) => "logs:PutMetricFilter",
            Resource::MetricAlarm(_) => "cloudwatch:PutMetricAlarm",
            Resource::Topic(_) => "sns:CreateTopic",
            Resource::Subscription(_) => "sns:Subscribe",
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Resource::MetricFilter(_) => "aws_cloudwatch_log_metric_filter",
            Resource::MetricAlarm(_) => "aws_cloudwatch_metric_alarm",
            Resource::Topic(_) => "aws_sns_topic",
            Resource::Subscription(_) => "aws_sns_topic_subscription",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlStatus {
    /// Every link from event to person is in place now.
    Compliant,
    /// The planned changes complete the chain.
    WillFix,
    /// Only a person confirming an SNS subscription is missing.
    PendingConfirmation,
    /// Something cis-fix does not fix (yet) stands in the way.
    Blocked,
    /// A read failed: cis-fix cannot tell, and plans nothing for it.
    Unknown,
}

impl ControlStatus {
    pub fn label(self) -> &'static str {
        match self {
            ControlStatus::Compliant => "compliant",
            ControlStatus::WillFix => "will-fix",
            ControlStatus::PendingConfirmation => "pending-confirmation",
            ControlStatus::Blocked => "blocked",
            ControlStatus::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlReport {
    pub id: String,
    pub title: String,
    pub status: ControlStatus,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

impl Plan {
    pub fn summarise(changes: &[Change]) -> Summary {
        Summary {
            add: changes
                .iter()
                .filter(|c| c.action == Action::Create)
                .count(),
            change: changes
                .iter()
                .filter(|c| c.action == Action::Update)
                .count(),
            destroy: 0,
        }
    }

    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// True when some control could not be judged or some read failed:
    /// schedules must alert (exit code 1).
    pub fn is_incomplete(&self) -> bool {
        !self.failed_reads.is_empty()
            || self
                .controls
                .iter()
                .any(|c| c.status == ControlStatus::Unknown)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Loads a plan saved with `plan --json`; `origin` names the file in
    /// errors. The version is checked first so an old file gets a clear
    /// message.
    pub fn from_json(text: &str, origin: &str) -> Result<Plan, PlanError> {
        let parse = |e: serde_json::Error| PlanError::Parse {
            path: origin.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        let raw: serde_json::Value = serde_json::from_str(text).map_err(&parse)?;
        match raw.get("format_version").and_then(|v| v.as_str()) {
            Some(FORMAT_VERSION) => serde_json::from_str(text).map_err(&parse),
            Some(other) => Err(PlanError::Version {
                path: origin.to_string(),
                found: other.to_string(),
            }),
            None => Err(PlanError::Parse {
                path: origin.to_string(),
                line: 1,
                column: 1,
                message: "missing string field `format_version`".into(),
            }),
        }
    }
}
