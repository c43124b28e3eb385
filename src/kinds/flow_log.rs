//! `aws_flow_log`: a VPC flow log, which the flow-logs control creates for a
//! VPC that has no active one. cis-fix only ever creates flow logs: one that
//! exists is the account's (whatever its destination or traffic type) and is
//! never changed or deleted, and a flow log cannot be changed in place
//! anyway (EC2 has no update call).
//!
//! The facts the reads record are here too ([`Vpc`], [`FlowLogFacts`]), with
//! the one judgement both the reader and the diff need, [`FlowLogFacts::is_active`]:
//! the reader uses it to decide whether cis-fix's log group and delivery
//! role need looking up at all, the diff to decide the control, and they
//! must agree.

use serde::{Deserialize, Serialize};

use super::{Action, Deferred, Kind, ReadData, WriteCall};

/// Lists every VPC of a region (paginated).
pub const READ_VPCS: &str = "ec2:DescribeVpcs";
/// Lists every flow log of a region (paginated).
pub const READ: &str = "ec2:DescribeFlowLogs";
pub const WRITE: &str = "ec2:CreateFlowLogs";

/// `log_destination_type` of a flow log delivering to CloudWatch Logs.
pub const TO_CLOUDWATCH: &str = "cloud-watch-logs";
/// `log_destination_type` of a flow log delivering to an S3 bucket.
pub const TO_S3: &str = "s3";

/// A VPC as DescribeVpcs lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vpc {
    pub vpc_id: String,
    /// The region's default VPC: it needs a flow log like any other.
    #[serde(default)]
    pub is_default: bool,
    /// Its `Name` tag, to name it in reasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Vpc {
    /// `vpc-1 (default)`, `vpc-2 (web)`.
    pub fn shown(&self) -> String {
        match (&self.name, self.is_default) {
            (Some(n), _) => format!("{} ({n})", self.vpc_id),
            (None, true) => format!("{} (default)", self.vpc_id),
            (None, false) => self.vpc_id.clone(),
        }
    }
}

/// A flow log as DescribeFlowLogs lists it (of a VPC, subnet or network
/// interface: only VPC flow logs count for the control).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowLogFacts {
    pub flow_log_id: String,
    pub resource_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_type: Option<String>,
    /// `cloud-watch-logs`, `s3` or `kinesis-data-firehose`.
    pub log_destination_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_destination: Option<String>,
    /// `ACTIVE` for every flow log AWS lists today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_log_status: Option<String>,
    /// `SUCCESS` or `FAILED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_logs_status: Option<String>,
    /// Why delivery failed (`Rate limited`, `Access error`, `Unknown error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_logs_error_message: Option<String>,
}

impl FlowLogFacts {
    /// Whether the flow log proves its resource is logged: its status is
    /// `ACTIVE` and its delivery has not failed. A flow log whose delivery
    /// failed (a deleted log group or bucket, a role that cannot write)
    /// records nothing, so it is no proof; any destination counts.
    pub fn is_active(&self) -> bool {
        self.inactive_because().is_none()
    }

    /// Why it is not active, in words, if it is not.
    pub fn inactive_because(&self) -> Option<String> {
        let status = self.flow_log_status.as_deref().unwrap_or("");
        if !status.eq_ignore_ascii_case("ACTIVE") {
            return Some(if status.is_empty() {
                "no status".into()
            } else {
                format!("status {status}")
            });
        }
        if self
            .deliver_logs_status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("FAILED"))
        {
            return Some(match &self.deliver_logs_error_message {
                Some(m) if !m.is_empty() => format!("delivery failed: {m}"),
                _ => "delivery failed".into(),
            });
        }
        None
    }

    /// Where it delivers, in words: `log group x`, `s3 arn:…`.
    pub fn destination(&self) -> String {
        match (&self.log_group_name, &self.log_destination) {
            (Some(g), _) if self.log_destination_type == TO_CLOUDWATCH => format!("log group {g}"),
            (_, Some(d)) => format!("{} {d}", self.log_destination_type),
            (Some(g), None) => format!("log group {g}"),
            (None, None) => self.log_destination_type.clone(),
        }
    }
}

/// Whether `vpc` has an active flow log among `flows`.
pub fn is_logged(vpc: &str, flows: &[FlowLogFacts]) -> bool {
    flows.iter().any(|f| f.resource_id == vpc && f.is_active())
}

pub fn vpcs_from_read(d: &ReadData) -> Option<&[Vpc]> {
    match d {
        ReadData::Vpcs(v) => Some(v),
        _ => None,
    }
}

pub fn from_read(d: &ReadData) -> Option<&[FlowLogFacts]> {
    match d {
        ReadData::FlowLogs(v) => Some(v),
        _ => None,
    }
}

/// A flow log cis-fix creates for one VPC (Terraform's `aws_flow_log`
/// arguments): to a CloudWatch Logs log group with a delivery role, or to
/// an S3 bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowLog {
    pub vpc_id: String,
    /// `ALL`, `ACCEPT` or `REJECT`.
    pub traffic_type: String,
    /// [`TO_CLOUDWATCH`] or [`TO_S3`].
    pub log_destination_type: String,
    /// The log group (CloudWatch Logs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// The bucket's ARN, with an optional folder (S3 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_destination: Option<String>,
    /// The role the service assumes to write to the log group (CloudWatch
    /// Logs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_logs_permission_arn: Option<Deferred>,
    /// Seconds over which packets are aggregated into one record: 600 (the
    /// default) or 60.
    pub max_aggregation_interval: i32,
}

impl Kind for FlowLog {
    const TYPE: &'static str = "aws_flow_log";
    const READ_ACTIONS: &'static [&'static str] = &[READ_VPCS, READ];
    const WRITE_ACTIONS: &'static [&'static str] = &[
        WRITE,
        // EC2 hands the delivery role to the flow-logs service.
        "iam:PassRole",
    ];
    const LABEL: &'static str = "VPC flow log";

    fn calls(action: Action, _before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        match (action, after) {
            (Action::Create, Some(f)) => vec![WriteCall::CreateFlowLogs(f.clone())],
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(vpc: &str, status: &str, delivery: Option<&str>) -> FlowLogFacts {
        FlowLogFacts {
            flow_log_id: format!("fl-{vpc}"),
            resource_id: vpc.into(),
            traffic_type: Some("ALL".into()),
            log_destination_type: TO_S3.into(),
            log_group_name: None,
            log_destination: Some("arn:aws:s3:::logs".into()),
            flow_log_status: Some(status.into()),
            deliver_logs_status: delivery.map(str::to_string),
            deliver_logs_error_message: None,
        }
    }

    #[test]
    fn only_an_active_flow_log_that_delivers_is_proof() {
        assert!(flow("vpc-1", "ACTIVE", Some("SUCCESS")).is_active());
        // S3 and Firehose flow logs may report no delivery status.
        assert!(flow("vpc-1", "ACTIVE", None).is_active());
        let failed = FlowLogFacts {
            deliver_logs_error_message: Some("Access error".into()),
            ..flow("vpc-1", "ACTIVE", Some("FAILED"))
        };
        assert!(!failed.is_active());
        assert_eq!(
            failed.inactive_because().as_deref(),
            Some("delivery failed: Access error")
        );
        let other = flow("vpc-1", "DELETING", None);
        assert_eq!(other.inactive_because().as_deref(), Some("status DELETING"));
        assert!(is_logged(
            "vpc-1",
            &[failed.clone(), flow("vpc-1", "ACTIVE", None)]
        ));
        assert!(!is_logged(
            "vpc-1",
            &[failed, flow("vpc-2", "ACTIVE", None)]
        ));
    }

    #[test]
    fn only_a_create_makes_a_call() {
        let f = FlowLog {
            vpc_id: "vpc-1".into(),
            traffic_type: "REJECT".into(),
            log_destination_type: TO_S3.into(),
            log_group_name: None,
            log_destination: Some("arn:aws:s3:::logs".into()),
            deliver_logs_permission_arn: None,
            max_aggregation_interval: 600,
        };
        assert_eq!(
            FlowLog::calls(Action::Create, None, Some(&f)),
            [WriteCall::CreateFlowLogs(f.clone())]
        );
        assert!(FlowLog::calls(Action::Update, Some(&f), Some(&f)).is_empty());
        assert!(FlowLog::calls(Action::Delete, Some(&f), None).is_empty());
    }
}
