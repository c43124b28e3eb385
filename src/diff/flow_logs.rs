//! VPC flow logs: every VPC of every planned region (the default VPCs
//! included) has an active flow log. The benchmark's control is
//! account-wide, so it holds only when it holds in each region.
//!
//! Any existing flow log of a VPC counts, whatever its destination
//! (CloudWatch Logs, S3, Firehose) or traffic type, as long as it is
//! `ACTIVE` and its delivery has not failed: a flow log that cannot deliver
//! records nothing, so it is no proof (`FlowLogFacts::is_active`). Existing
//! flow logs are never changed or deleted.
//!
//! A VPC without one gets a flow log of cis-fix's: by default to cis-fix's
//! log group in its region through cis-fix's delivery role (both shown in
//! the plan, made when missing and found again by name after an interrupted
//! apply), or to the bucket the user named. Traffic type `REJECT` by
//! default, as the benchmark's remediation says. When the VPC already has a
//! flow log of cis-fix's destination and traffic type that does not deliver,
//! EC2 refuses a second one, and cis-fix deletes nothing: the control is
//! `blocked`, naming it.
//!
//! A region whose VPCs or flow logs could not be read leaves the control
//! `unknown`, naming the region; nothing is planned there, while the other
//! regions' VPCs still get their flow logs (each rests only on its own
//! region's facts).

use serde_json::json;

use super::builder::PlanBuilder;
use crate::address::{Address, GLOBAL};
use crate::arn::Arn;
use crate::benchmark::{Benchmark, Control};
use crate::desired::{DesiredFlowLogs, FlowLogTarget};
use crate::kinds::flow_log::{self, FlowLog, FlowLogFacts, TO_CLOUDWATCH, TO_S3, Vpc};
use crate::kinds::{
    self, Deferred, IamRole, InlinePolicy, Kind, LogGroup, Resource, iam_role, log_group,
};
use crate::observed::CallFailure;
use crate::plan::{Action, Cause, Change, ControlStatus};
use crate::snapshot::{FlowLogNames, Snapshot};

pub const FAMILY: super::Family = super::Family {
    kind: crate::benchmark::Kind::Flowlogs,
    resource_kinds: &[FlowLog::TYPE, LogGroup::TYPE, IamRole::TYPE],
    needs,
};

fn needs(_b: &Benchmark, _c: &Control) -> String {
    "an active flow log (any destination, delivering) on every VPC of every planned region; a missing one is created to cis-fix's CloudWatch Logs log group through its delivery role, or to the S3 bucket flow_logs.s3_bucket_arn names".into()
}

/// Seconds EC2 aggregates packets over by default (Terraform's default).
const AGGREGATION: i32 = 600;

/// A VPC without an active flow log, with the flow logs it has.
struct Missing<'a> {
    region: String,
    vpc: &'a Vpc,
    inactive: Vec<&'a FlowLogFacts>,
}

/// What the planned regions hold.
#[derive(Default)]
struct Survey<'a> {
    logged: usize,
    missing: Vec<Missing<'a>>,
    failed: Vec<CallFailure>,
    regions: Vec<String>,
}

fn survey(snap: &Snapshot) -> Survey<'_> {
    let mut s = Survey::default();
    let (regions, failed) = snap.regions_for(flow_log::READ_VPCS);
    s.failed.extend(failed);
    for region in &regions {
        let vpcs = snap.read(flow_log::READ_VPCS, region, None, flow_log::vpcs_from_read);
        let flows = snap.read(flow_log::READ, region, None, flow_log::from_read);
        let (vpcs, flows) = match (vpcs, flows) {
            (Ok(v), Ok(f)) => (v, f),
            (v, f) => {
                s.failed.extend(v.err().into_iter().chain(f.err()));
                continue;
            }
        };
        for vpc in vpcs {
            if flow_log::is_logged(&vpc.vpc_id, flows) {
                s.logged += 1;
            } else {
                s.missing.push(Missing {
                    region: region.clone(),
                    vpc,
                    inactive: flows
                        .iter()
                        .filter(|f| f.resource_id == vpc.vpc_id)
                        .collect(),
                });
            }
        }
    }
    s.regions = regions;
    s
}

/// `3 VPCs`, `1 VPC`.
fn vpcs(n: usize) -> String {
    format!("{n} VPC{}", if n == 1 { "" } else { "s" })
}

fn text(v: serde_json::Value) -> String {
    // A `Value` always serialises; the fallback is never reached.
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// Trust: the flow-logs service, acting for this account's flow logs only.
pub fn delivery_trust(partition: &str, account: &str) -> String {
    text(json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "FlowLogsAssumeForThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": format!("arn:{partition}:ec2:*:{account}:vpc-flow-log/*")}
            }
        }]
    }))
}

/// The role may write and describe the streams of cis-fix's flow-log group
/// (in any region: the role is global and serves every region's group, so
/// planning fewer regions never takes a permission from an earlier flow
/// log), and list log groups, which the service checks first and which IAM
/// cannot narrow to one group.
pub fn delivery_permissions(partition: &str, account: &str, log_group: &str) -> String {
    text(json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "FlowLogsWriteTheirLogStreams",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [
                    format!("arn:{partition}:logs:*:{account}:log-group:{log_group}"),
                    format!("arn:{partition}:logs:*:{account}:log-group:{log_group}:*")
                ]
            },
            {
                "Sid": "FlowLogsFindTheirLogGroup",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": format!("arn:{partition}:logs:*:{account}:log-group:*")
            }
        ]
    }))
}

/// Where new flow logs go in one region, once its prerequisites are known.
struct Destination {
    log_group_name: Option<String>,
    log_destination: Option<String>,
    role: Option<Deferred>,
    /// The changes a flow log must wait for (log group, role).
    made: Vec<Address>,
}

impl Destination {
    /// Whether `f` delivers where cis-fix would, with its traffic type: EC2
    /// refuses a second such flow log.
    fn is(&self, f: &FlowLogFacts, traffic_type: &str) -> bool {
        f.traffic_type.as_deref() == Some(traffic_type)
            && match (&self.log_group_name, &self.log_destination) {
                (Some(g), _) => {
                    f.log_destination_type == TO_CLOUDWATCH
                        && (f.log_group_name.as_deref() == Some(g.as_str())
                            || f.log_destination.as_deref().is_some_and(|d| {
                                d.trim_end_matches(":*")
                                    .ends_with(&format!(":log-group:{g}"))
                            }))
                }
                (None, Some(d)) => {
                    f.log_destination_type == TO_S3
                        && f.log_destination
                            .as_deref()
                            .map(|x| x.trim_end_matches('/'))
                            == Some(d.trim_end_matches('/'))
                }
                (None, None) => false,
            }
    }

    fn shown(&self) -> String {
        match (&self.log_group_name, &self.log_destination) {
            (Some(g), _) => format!("log group `{g}`"),
            (None, Some(d)) => format!("bucket `{d}`"),
            (None, None) => String::new(),
        }
    }
}

/// cis-fix's delivery role: made when missing, its trust and policy put
/// back when they differ. Its ARN, and the change when one is planned.
fn role(
    names: &FlowLogNames,
    snap: &Snapshot,
    partition: &str,
    account: &str,
    out: &mut PlanBuilder,
) -> Result<(String, Option<Address>), CallFailure> {
    let name = names.role.clone();
    let arn = iam_role::arn(partition, account, &name);
    let found = snap
        .read(iam_role::READ, GLOBAL, Some(&name), iam_role::from_read)?
        .cloned();
    let after = IamRole {
        name: name.clone(),
        assume_role_policy: delivery_trust(partition, account),
        inline_policy: Some(InlinePolicy {
            name: name.clone(),
            policy: delivery_permissions(partition, account, &names.log_group),
        }),
    };
    let address = Address::new(&out.at(GLOBAL), IamRole::TYPE, "vpc_flow_logs");
    let (action, reason) = match &found {
        None => (
            Action::Create,
            format!(
                "the role VPC flow logs assume to write to log groups `{}`, and only to their log streams",
                names.log_group
            ),
        ),
        Some(b)
            if kinds::calls(
                Action::Update,
                Some(&Resource::IamRole(b.clone())),
                Some(&Resource::IamRole(after.clone())),
            )
            .is_empty() =>
        {
            return Ok((arn, None));
        }
        Some(_) => (
            Action::Update,
            format!(
                "cis-fix's flow-log delivery role must trust VPC flow logs of this account and write to log groups `{}`",
                names.log_group
            ),
        ),
    };
    out.change(Change {
        address: address.clone(),
        action,
        controls: vec![],
        reason,
        before: found.map(Resource::IamRole),
        after: Some(Resource::IamRole(after)),
        depends_on: vec![],
    });
    Ok((arn, Some(address)))
}

/// cis-fix's flow-log group in `region`, made when it does not exist.
fn log_group(
    names: &FlowLogNames,
    region: &str,
    snap: &Snapshot,
    out: &mut PlanBuilder,
) -> Result<Option<Address>, CallFailure> {
    let name = &names.log_group;
    let found: &[LogGroup] =
        snap.read(log_group::READ, region, Some(name), log_group::from_read)?;
    if found.iter().any(|g| &g.name == name) {
        return Ok(None);
    }
    let address = Address::new(&out.at(region), LogGroup::TYPE, "vpc_flow_logs");
    out.change(Change {
        address: address.clone(),
        action: Action::Create,
        controls: vec![],
        reason: format!("the log group the flow logs of {region}'s VPCs deliver to"),
        before: None,
        after: Some(Resource::LogGroup(LogGroup {
            name: name.clone(),
            retention_in_days: None,
        })),
        depends_on: vec![],
    });
    Ok(Some(address))
}

/// Plans a flow log for every VPC without an active one, and the control's
/// status from every planned region.
pub fn plan(d: &DesiredFlowLogs, snap: &Snapshot, out: &mut PlanBuilder) {
    if d.controls.is_empty() {
        return;
    }
    let mut s = survey(snap);
    // Each flow log planned, with the VPC it is for as the reason names it.
    let mut planned: Vec<(Address, String)> = Vec::new();
    let mut blocked: Vec<String> = Vec::new();
    // Regions with a VPC to fix whose prerequisites could not be read.
    let mut held: Vec<String> = Vec::new();
    let mut regions_to_fix: Vec<String> = s.missing.iter().map(|m| m.region.clone()).collect();
    regions_to_fix.dedup();

    let mark = out.mark();
    // The role first: it serves every region.
    let mut role_arn: Option<(String, Option<Address>)> = None;
    if let FlowLogTarget::CloudWatch(names) = &d.target
        && !regions_to_fix.is_empty()
    {
        let partition = snap
            .caller_arn
            .as_deref()
            .and_then(Arn::parse)
            .map(|a| a.partition)
            .unwrap_or_else(|| "aws".into());
        let account = snap.account_id.as_deref().ok_or_else(|| {
            snap.read(crate::snapshot::CALLER_READ, &snap.region, None, |_| {
                Some(())
            })
            .err()
            .unwrap_or_else(|| {
                crate::snapshot::ReadKey::new(crate::snapshot::CALLER_READ, &snap.region, None)
                    .not_read()
            })
        });
        match account.and_then(|a| role(names, snap, &partition, a, out)) {
            Ok(r) => role_arn = Some(r),
            Err(f) => {
                s.failed.push(f);
                held = regions_to_fix.clone();
            }
        }
    }
    for region in &regions_to_fix {
        if held.contains(region) {
            continue;
        }
        let dest = match &d.target {
            FlowLogTarget::S3 { bucket_arn } => Destination {
                log_group_name: None,
                log_destination: Some(bucket_arn.clone()),
                role: None,
                made: vec![],
            },
            FlowLogTarget::CloudWatch(names) => {
                let Some((arn, role_made)) = &role_arn else {
                    continue;
                };
                let group_mark = out.mark();
                match log_group(names, region, snap, out) {
                    Ok(group_made) => Destination {
                        log_group_name: Some(names.log_group.clone()),
                        log_destination: None,
                        role: Some(Deferred::Known(arn.clone())),
                        made: group_made.into_iter().chain(role_made.clone()).collect(),
                    },
                    Err(f) => {
                        out.rollback(group_mark);
                        s.failed.push(f);
                        held.push(region.clone());
                        continue;
                    }
                }
            }
        };
        for m in s.missing.iter().filter(|m| &m.region == region) {
            if let Some(own) = m.inactive.iter().find(|f| dest.is(f, &d.traffic_type)) {
                blocked.push(format!(
                    "{} in {region} has flow log {} to {} ({}), which does not deliver; EC2 refuses a second one there and cis-fix deletes nothing: find out why (its role, its destination), or delete it to have it made again",
                    m.vpc.shown(),
                    own.flow_log_id,
                    dest.shown(),
                    own.inactive_because().unwrap_or_default()
                ));
                continue;
            }
            let address =
                Address::new(&out.at(region), FlowLog::TYPE, "vpc").with_key(&m.vpc.vpc_id);
            let others = if m.inactive.is_empty() {
                "has no flow log".to_string()
            } else {
                format!(
                    "has no active flow log ({})",
                    m.inactive
                        .iter()
                        .map(|f| format!(
                            "{} to {}: {}",
                            f.flow_log_id,
                            f.destination(),
                            f.inactive_because().unwrap_or_default()
                        ))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            };
            out.change(Change {
                address: address.clone(),
                action: Action::Create,
                controls: vec![],
                reason: format!(
                    "VPC {} in {region} {others}: {} traffic is logged to {}",
                    m.vpc.shown(),
                    d.traffic_type,
                    dest.shown()
                ),
                before: None,
                after: Some(Resource::FlowLog(FlowLog {
                    vpc_id: m.vpc.vpc_id.clone(),
                    traffic_type: d.traffic_type.clone(),
                    log_destination_type: if dest.log_group_name.is_some() {
                        TO_CLOUDWATCH.into()
                    } else {
                        TO_S3.into()
                    },
                    log_group_name: dest.log_group_name.clone(),
                    log_destination: dest.log_destination.clone(),
                    deliver_logs_permission_arn: dest.role.clone(),
                    max_aggregation_interval: AGGREGATION,
                })),
                depends_on: dest.made.clone(),
            });
            planned.push((address, format!("{} in {region}", m.vpc.shown())));
        }
    }
    // Nothing to deliver for: the log group and role are not made either
    // (but they are for a flow log of cis-fix's that does not deliver: they
    // may be why).
    if planned.is_empty() && blocked.is_empty() {
        out.rollback(mark);
    }
    for c in &d.controls {
        for (a, _) in &planned {
            out.serve(a, &c.id);
        }
    }
    let regions = match s.regions.len() {
        1 => format!("region {}", s.regions[0]),
        n => format!("{n} regions"),
    };
    let fixing = if planned.is_empty() {
        String::new()
    } else {
        format!(
            "a flow log is created for {}: {}",
            vpcs(planned.len()),
            planned
                .iter()
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let (status, reason, cause) = if let Some(first) = s.failed.first() {
        (
            ControlStatus::Unknown,
            format!(
                "cannot tell: {}; nothing is planned where the VPCs or what their flow logs need could not be read{}",
                s.failed
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
                if fixing.is_empty() {
                    String::new()
                } else {
                    format!("; elsewhere {fixing}")
                }
            ),
            Some(Cause::ReadFailed {
                failure: Box::new(first.clone()),
            }),
        )
    } else if !blocked.is_empty() {
        (
            ControlStatus::Blocked,
            format!(
                "{}{}",
                blocked.join("; "),
                if fixing.is_empty() {
                    String::new()
                } else {
                    format!("; {fixing}")
                }
            ),
            None,
        )
    } else if !planned.is_empty() {
        (
            ControlStatus::WillFix,
            format!(
                "{fixing}; {} already {} an active flow log",
                vpcs(s.logged),
                if s.logged == 1 { "has" } else { "have" }
            ),
            None,
        )
    } else if s.logged == 0 {
        (
            ControlStatus::Compliant,
            format!("no VPC in {regions}"),
            None,
        )
    } else {
        (
            ControlStatus::Compliant,
            if s.logged == 1 {
                format!("the one VPC in {regions} has an active flow log")
            } else {
                format!("all {} VPCs in {regions} have an active flow log", s.logged)
            },
            None,
        )
    };
    for c in &d.controls {
        out.control((&c.id, &c.title), status, reason.clone(), cause.clone());
    }
}

#[cfg(test)]
mod tests;
