//! EC2: the regions enabled for the account, which decide where the
//! regional controls are planned when the user names no regions
//! (DescribeRegions without `AllRegions` lists only the enabled ones); and
//! in each planned region the security groups with their rules (by rule
//! id, so a revoke names exactly the rule judged), the network interfaces
//! that use them (the evidence shown before anything is cut), EBS
//! encryption by default, the network ACLs with their entries and subnets,
//! and the instances' metadata options. The writes revoke rules by id, turn
//! EBS encryption by default on, add ACL entries and require IMDSv2;
//! nothing else of a group, an ACL or an instance is ever changed.

use std::collections::BTreeMap;

use super::clients::{Aws, RegionClients};
use super::error::failure;
use super::{Limiter, all_pages, page_size};
use crate::kinds::ebs_encryption;
use crate::kinds::instance_metadata::{self, InstanceFacts};
use crate::kinds::network_acl::{self, NaclEntry, NetworkAclFacts, NewNaclEntry};
use crate::kinds::security_group::{self, InterfaceUse, SecurityGroupFacts, SgRule};
use crate::observed::{CallFailure, Observed};
use crate::snapshot::REGIONS_READ;

/// The enabled regions, sorted. Asked in the home region.
pub async fn read_regions(aws: &Aws, limit: &Limiter) -> Observed<Vec<String>> {
    let home = aws.home_region();
    let got = {
        let _permit = limit.acquire().await;
        aws.ec2().describe_regions().send().await
    };
    match got {
        Ok(out) => Observed::Ok(enabled(
            home,
            out.regions
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| Some((r.region_name?, r.opt_in_status))),
        )),
        Err(e) => Observed::Failed(failure(REGIONS_READ, home, None, &e)),
    }
}

/// Every security group of the region with its rules: DescribeSecurityGroups
/// for the groups (name, VPC), DescribeSecurityGroupRules for the rules and
/// their ids. Either failing fails the read: a group judged without its
/// rules could look empty.
pub async fn read_security_groups(
    rc: &RegionClients,
    limit: &Limiter,
) -> Observed<Vec<SecurityGroupFacts>> {
    let region = rc.region.as_str();
    let (groups, rules) = futures::join!(
        all_pages(
            rc.ec2
                .describe_security_groups()
                .max_results(page_size::DESCRIBE_SECURITY_GROUPS)
                .into_paginator()
                .send(),
            limit
        ),
        all_pages(
            rc.ec2
                .describe_security_group_rules()
                .max_results(page_size::DESCRIBE_SECURITY_GROUP_RULES)
                .into_paginator()
                .send(),
            limit
        ),
    );
    let groups = match groups {
        Ok(pages) => pages,
        Err(e) => return Observed::Failed(failure(security_group::READ, region, None, &e)),
    };
    let rules = match rules {
        Ok(pages) => pages,
        Err(e) => return Observed::Failed(failure(security_group::READ_RULES, region, None, &e)),
    };
    let mut by_id: BTreeMap<String, SecurityGroupFacts> = BTreeMap::new();
    for g in groups
        .into_iter()
        .flat_map(|p| p.security_groups.unwrap_or_default())
    {
        let Some(id) = g.group_id else { continue };
        by_id.insert(
            id.clone(),
            SecurityGroupFacts {
                group_id: id,
                group_name: g.group_name.unwrap_or_default(),
                vpc_id: g.vpc_id,
                ingress: vec![],
                egress: vec![],
            },
        );
    }
    for r in rules
        .into_iter()
        .flat_map(|p| p.security_group_rules.unwrap_or_default())
    {
        let (Some(rule_id), Some(group_id)) = (r.security_group_rule_id, r.group_id) else {
            continue;
        };
        let Some(g) = by_id.get_mut(&group_id) else {
            continue;
        };
        let rule = SgRule {
            rule_id,
            protocol: r.ip_protocol.unwrap_or_else(|| "-1".into()),
            from_port: r.from_port,
            to_port: r.to_port,
            cidr_ipv4: r.cidr_ipv4,
            cidr_ipv6: r.cidr_ipv6,
            prefix_list_id: r.prefix_list_id,
            referenced_group_id: r.referenced_group_info.and_then(|g| g.group_id),
            description: r.description.filter(|d| !d.is_empty()),
        };
        if r.is_egress.unwrap_or(false) {
            g.egress.push(rule);
        } else {
            g.ingress.push(rule);
        }
    }
    let mut out: Vec<SecurityGroupFacts> = by_id.into_values().collect();
    for g in &mut out {
        g.ingress.sort();
        g.egress.sort();
    }
    Observed::Ok(out)
}

/// Every network interface of the region, with the groups it is in and
/// what it belongs to (an instance, or a service by its type, requester
/// and description).
pub async fn read_interfaces(rc: &RegionClients, limit: &Limiter) -> Observed<Vec<InterfaceUse>> {
    let region = rc.region.as_str();
    let pages = match all_pages(
        rc.ec2
            .describe_network_interfaces()
            .max_results(page_size::DESCRIBE_NETWORK_INTERFACES)
            .into_paginator()
            .send(),
        limit,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => {
            return Observed::Failed(failure(security_group::READ_INTERFACES, region, None, &e));
        }
    };
    let mut out: Vec<InterfaceUse> = pages
        .into_iter()
        .flat_map(|p| p.network_interfaces.unwrap_or_default())
        .filter_map(|n| {
            Some(InterfaceUse {
                interface_id: n.network_interface_id?,
                interface_type: n
                    .interface_type
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_else(|| "interface".into()),
                instance_id: n.attachment.and_then(|a| a.instance_id),
                requester_id: n.requester_id.filter(|_| n.requester_managed == Some(true)),
                description: n.description.filter(|d| !d.is_empty()),
                groups: n
                    .groups
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|g| g.group_id)
                    .collect(),
                subnet_id: n.subnet_id,
            })
        })
        .collect();
    out.sort();
    Observed::Ok(out)
}

/// Every network ACL of the region, with its entries and the subnets it
/// guards.
pub async fn read_network_acls(
    rc: &RegionClients,
    limit: &Limiter,
) -> Observed<Vec<NetworkAclFacts>> {
    let pages = match all_pages(
        rc.ec2
            .describe_network_acls()
            .max_results(page_size::DESCRIBE_NETWORK_ACLS)
            .into_paginator()
            .send(),
        limit,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return Observed::Failed(failure(network_acl::READ, &rc.region, None, &e)),
    };
    let mut out: Vec<NetworkAclFacts> = pages
        .into_iter()
        .flat_map(|p| p.network_acls.unwrap_or_default())
        .filter_map(|a| {
            let mut entries: Vec<NaclEntry> = a
                .entries
                .unwrap_or_default()
                .into_iter()
                .filter_map(|e| {
                    let ports = e.port_range;
                    Some(NaclEntry {
                        rule_number: e.rule_number?,
                        egress: e.egress.unwrap_or(false),
                        protocol: e.protocol.unwrap_or_else(|| "-1".into()),
                        rule_action: e
                            .rule_action
                            .map(|r| r.as_str().to_string())
                            .unwrap_or_default(),
                        cidr_ipv4: e.cidr_block,
                        cidr_ipv6: e.ipv6_cidr_block,
                        from_port: ports.as_ref().and_then(|p| p.from),
                        to_port: ports.as_ref().and_then(|p| p.to),
                    })
                })
                .collect();
            entries.sort();
            let mut subnets: Vec<String> = a
                .associations
                .unwrap_or_default()
                .into_iter()
                .filter_map(|s| s.subnet_id)
                .collect();
            subnets.sort();
            Some(NetworkAclFacts {
                network_acl_id: a.network_acl_id?,
                vpc_id: a.vpc_id.unwrap_or_default(),
                is_default: a.is_default.unwrap_or(false),
                owner_id: a.owner_id,
                subnets,
                entries,
            })
        })
        .collect();
    out.sort_by(|a, b| a.network_acl_id.cmp(&b.network_acl_id));
    Observed::Ok(out)
}

/// Every instance of the region EC2 can still change (not terminated or
/// shutting down), with its metadata options.
pub async fn read_instances(rc: &RegionClients, limit: &Limiter) -> Observed<Vec<InstanceFacts>> {
    let pages = match all_pages(
        rc.ec2
            .describe_instances()
            .max_results(page_size::DESCRIBE_INSTANCES)
            .into_paginator()
            .send(),
        limit,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => {
            return Observed::Failed(failure(instance_metadata::READ, &rc.region, None, &e));
        }
    };
    let mut out: Vec<InstanceFacts> = pages
        .into_iter()
        .flat_map(|p| p.reservations.unwrap_or_default())
        .flat_map(|r| r.instances.unwrap_or_default())
        .filter_map(|i| {
            let state = i
                .state
                .and_then(|s| s.name)
                .map(|n| n.as_str().to_string())
                .unwrap_or_default();
            if !InstanceFacts::is_live(&state) {
                return None;
            }
            let options = i.metadata_options;
            Some(InstanceFacts {
                instance_id: i.instance_id?,
                state,
                // AWS's defaults when an option is not given.
                http_tokens: options
                    .as_ref()
                    .and_then(|o| o.http_tokens.as_ref())
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_else(|| "optional".into()),
                http_endpoint: options
                    .as_ref()
                    .and_then(|o| o.http_endpoint.as_ref())
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_else(|| "enabled".into()),
                name: i
                    .tags
                    .unwrap_or_default()
                    .into_iter()
                    .find(|t| t.key.as_deref() == Some("Name"))
                    .and_then(|t| t.value)
                    .filter(|v| !v.is_empty()),
                vpc_id: i.vpc_id,
            })
        })
        .collect();
    out.sort();
    Observed::Ok(out)
}

/// Whether EBS encryption by default is on in the region.
pub async fn read_ebs_default(rc: &RegionClients, limit: &Limiter) -> Observed<bool> {
    let got = {
        let _permit = limit.acquire().await;
        rc.ec2.get_ebs_encryption_by_default().send().await
    };
    match got {
        Ok(out) => Observed::Ok(out.ebs_encryption_by_default.unwrap_or(false)),
        Err(e) => Observed::Failed(failure(ebs_encryption::READ, &rc.region, None, &e)),
    }
}

/// Revokes rules of `group_id` by id. A rule already gone is AWS's
/// `InvalidPermission.NotFound` (or, by id, `InvalidSecurityGroupRuleId.NotFound`):
/// what the call was for holds, so it counts as done, and a re-run after an
/// interrupted apply goes through.
pub async fn revoke_rules(
    rc: &RegionClients,
    group_id: &str,
    rule_ids: &[String],
    egress: bool,
) -> Result<(), CallFailure> {
    let (call, got) = if egress {
        let call = "ec2:RevokeSecurityGroupEgress";
        let got = rc
            .ec2
            .revoke_security_group_egress()
            .group_id(group_id)
            .set_security_group_rule_ids(Some(rule_ids.to_vec()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failure(call, &rc.region, Some(group_id), &e));
        (call, got)
    } else {
        let call = "ec2:RevokeSecurityGroupIngress";
        let got = rc
            .ec2
            .revoke_security_group_ingress()
            .group_id(group_id)
            .set_security_group_rule_ids(Some(rule_ids.to_vec()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failure(call, &rc.region, Some(group_id), &e));
        (call, got)
    };
    match got {
        Err(f)
            if f.code.as_deref().is_some_and(|c| {
                c == "InvalidPermission.NotFound" || c == "InvalidSecurityGroupRuleId.NotFound"
            }) =>
        {
            tracing::info!(call, group_id, "rule already gone");
            Ok(())
        }
        other => other,
    }
}

/// Adds one entry to a network ACL. An entry of the same number that is
/// already exactly this one (an apply interrupted after the call) counts as
/// made; any other entry of that number is a conflict the plan did not see,
/// and fails.
pub async fn create_nacl_entry(rc: &RegionClients, new: &NewNaclEntry) -> Result<(), CallFailure> {
    use aws_sdk_ec2::types::{PortRange, RuleAction};
    let e = &new.entry;
    let got = rc
        .ec2
        .create_network_acl_entry()
        .network_acl_id(&new.network_acl_id)
        .rule_number(e.rule_number)
        .egress(e.egress)
        .protocol(&e.protocol)
        .rule_action(RuleAction::from(e.rule_action.as_str()))
        .set_cidr_block(e.cidr_ipv4.clone())
        .set_ipv6_cidr_block(e.cidr_ipv6.clone())
        .port_range(
            PortRange::builder()
                .set_from(e.from_port)
                .set_to(e.to_port)
                .build(),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|err| {
            failure(
                network_acl::WRITE,
                &rc.region,
                Some(&new.network_acl_id),
                &err,
            )
        });
    match got {
        Err(f) if f.code.as_deref() == Some("NetworkAclEntryAlreadyExists") => {
            let acls = match read_network_acls(rc, &Limiter::new(1)).await {
                Observed::Ok(a) => a,
                Observed::Failed(_) => return Err(f),
            };
            let same = acls
                .iter()
                .filter(|a| a.network_acl_id == new.network_acl_id)
                .flat_map(|a| a.entries.iter())
                .any(|x| x == e);
            if same {
                tracing::info!(acl = %new.network_acl_id, rule = e.rule_number, "entry already made");
                Ok(())
            } else {
                Err(f)
            }
        }
        other => other,
    }
}

/// Requires IMDSv2 on one instance; only `HttpTokens` is sent.
pub async fn require_imdsv2(
    rc: &RegionClients,
    instance_id: &str,
    http_tokens: &str,
) -> Result<(), CallFailure> {
    use aws_sdk_ec2::types::HttpTokensState;
    rc.ec2
        .modify_instance_metadata_options()
        .instance_id(instance_id)
        .http_tokens(HttpTokensState::from(http_tokens))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure(instance_metadata::WRITE, &rc.region, Some(instance_id), &e))
}

pub async fn enable_ebs_default(rc: &RegionClients) -> Result<(), CallFailure> {
    rc.ec2
        .enable_ebs_encryption_by_default()
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure(ebs_encryption::WRITE, &rc.region, None, &e))
}

/// The regions of the home region's partition that are not waiting to be
/// opted in, sorted. AWS lists only those; an emulator (moto) lists every
/// region it knows, of every partition, opted in or not, and credentials
/// of one partition cannot reach another's regions.
fn enabled(home: &str, regions: impl Iterator<Item = (String, Option<String>)>) -> Vec<String> {
    let mut out: Vec<String> = regions
        .filter(|(_, status)| status.as_deref() != Some("not-opted-in"))
        .map(|(name, _)| name)
        .filter(|name| partition(name) == partition(home))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The partition a region is in, told by its name.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("eu-isoe-") {
        "aws-iso-e"
    } else if region.starts_with("us-isof-") {
        "aws-iso-f"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_enabled_regions_of_the_home_partition() {
        let listed = [
            ("us-east-1", Some("opt-in-not-required")),
            ("eu-west-1", Some("opt-in-not-required")),
            ("ap-east-1", Some("not-opted-in")),
            ("me-south-1", Some("opted-in")),
            ("us-gov-west-1", Some("opt-in-not-required")),
            ("cn-north-1", Some("opt-in-not-required")),
            ("eu-west-1", None),
        ]
        .map(|(n, s)| (n.to_string(), s.map(str::to_string)));
        assert_eq!(
            enabled("us-east-1", listed.clone().into_iter()),
            ["eu-west-1", "me-south-1", "us-east-1"]
        );
        assert_eq!(
            enabled("cn-northwest-1", listed.into_iter()),
            ["cn-north-1"]
        );
    }
}
