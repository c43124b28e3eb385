//! EC2 for the flow-logs control: the VPCs and flow logs of a region (each
//! listed once, every page), and CreateFlowLogs for one VPC. Nothing here
//! deletes or changes a flow log.

use aws_sdk_ec2::types::{FlowLogsResourceType, LogDestinationType, TrafficType};

use super::clients::RegionClients;
use super::error::{failure, refused};
use super::{Limiter, all_pages};
use crate::kinds::flow_log::{READ, READ_VPCS, WRITE};
use crate::kinds::{FlowLog, FlowLogFacts, Vpc};
use crate::observed::{CallFailure, Observed};

/// EC2's answer when a flow log of that resource, traffic type and
/// destination exists already (in the response's unsuccessful items on
/// AWS; as the call's error on moto).
const ALREADY_EXISTS: &str = "FlowLogAlreadyExists";

/// Every VPC of the region.
pub async fn read_vpcs(rc: &RegionClients, limit: &Limiter) -> Observed<Vec<Vpc>> {
    let pages = rc
        .ec2
        .describe_vpcs()
        .max_results(super::page_size::DESCRIBE_VPCS)
        .into_paginator()
        .send();
    match all_pages(pages, limit).await {
        Ok(pages) => Observed::Ok(
            pages
                .into_iter()
                .flat_map(|p| p.vpcs.unwrap_or_default())
                .filter_map(|v| {
                    let name = v
                        .tags()
                        .iter()
                        .find(|t| t.key() == Some("Name"))
                        .and_then(|t| t.value())
                        .filter(|n| !n.is_empty())
                        .map(str::to_string);
                    Some(Vpc {
                        vpc_id: v.vpc_id?,
                        is_default: v.is_default.unwrap_or(false),
                        name,
                    })
                })
                .collect(),
        ),
        Err(e) => Observed::Failed(failure(READ_VPCS, &rc.region, None, &e)),
    }
}

/// Every flow log of the region (of VPCs, subnets and interfaces alike).
pub async fn read_flow_logs(rc: &RegionClients, limit: &Limiter) -> Observed<Vec<FlowLogFacts>> {
    let pages = rc
        .ec2
        .describe_flow_logs()
        .max_results(super::page_size::DESCRIBE_FLOW_LOGS)
        .into_paginator()
        .send();
    match all_pages(pages, limit).await {
        Ok(pages) => Observed::Ok(
            pages
                .into_iter()
                .flat_map(|p| p.flow_logs.unwrap_or_default())
                .filter_map(|f| {
                    Some(FlowLogFacts {
                        flow_log_id: f.flow_log_id?,
                        resource_id: f.resource_id?,
                        traffic_type: f.traffic_type.map(|t| t.as_str().to_string()),
                        log_destination_type: f
                            .log_destination_type
                            .map(|t| t.as_str().to_string())
                            // EC2's default, and what a flow log listed
                            // with a log group and no type delivers to.
                            .unwrap_or_else(|| crate::kinds::flow_log::TO_CLOUDWATCH.into()),
                        log_group_name: f.log_group_name.filter(|g| !g.is_empty()),
                        log_destination: f.log_destination.filter(|d| !d.is_empty()),
                        flow_log_status: f.flow_log_status,
                        deliver_logs_status: f.deliver_logs_status,
                        deliver_logs_error_message: f
                            .deliver_logs_error_message
                            .filter(|m| !m.is_empty()),
                    })
                })
                .collect(),
        ),
        Err(e) => Observed::Failed(failure(READ, &rc.region, None, &e)),
    }
}

/// Creates one flow log for one VPC; returns its id. One that exists
/// already (an earlier, interrupted run made it) counts as made, with no id.
pub async fn create_flow_log(
    rc: &RegionClients,
    f: &FlowLog,
) -> Result<Option<String>, CallFailure> {
    let resource = Some(f.vpc_id.as_str());
    let role = match &f.deliver_logs_permission_arn {
        Some(r) => Some(
            r.known()
                .ok_or_else(|| {
                    refused(
                        WRITE,
                        &rc.region,
                        resource,
                        "the delivery role's ARN is not known yet",
                    )
                })?
                .to_string(),
        ),
        None => None,
    };
    let got = rc
        .ec2
        .create_flow_logs()
        .resource_type(FlowLogsResourceType::Vpc)
        .resource_ids(&f.vpc_id)
        .traffic_type(TrafficType::from(f.traffic_type.as_str()))
        .log_destination_type(LogDestinationType::from(f.log_destination_type.as_str()))
        .set_log_group_name(f.log_group_name.clone())
        .set_log_destination(f.log_destination.clone())
        .set_deliver_logs_permission_arn(role)
        .max_aggregation_interval(f.max_aggregation_interval)
        .send()
        .await;
    let out = match got {
        Ok(out) => out,
        Err(e) => {
            let fail = failure(WRITE, &rc.region, resource, &e);
            return if fail.code.as_deref() == Some(ALREADY_EXISTS) {
                Ok(None)
            } else {
                Err(fail)
            };
        }
    };
    if let Some(item) = out.unsuccessful().first() {
        let code = item.error().and_then(|e| e.code());
        if code == Some(ALREADY_EXISTS) {
            return Ok(None);
        }
        return Err(CallFailure {
            code: code.map(Into::into),
            ..refused(
                WRITE,
                &rc.region,
                resource,
                item.error()
                    .and_then(|e| e.message())
                    .unwrap_or("EC2 did not create the flow log")
                    .to_string(),
            )
        });
    }
    Ok(out.flow_log_ids().first().cloned())
}
