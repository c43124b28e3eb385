//! Default security groups, administration ports open to the internet and
//! EBS encryption by default across two regions, end to end: the built
//! binary against a moto server.
//!
//! Where moto differs from AWS (moto 5.2.5, `moto/ec2/models`):
//! * A default security group in moto has the outbound rule to 0.0.0.0/0
//!   but not AWS's inbound rule admitting the group itself; every region
//!   also has a default VPC with such a group. So each region here holds
//!   two default groups with rules: moto's default VPC's (egress only) and
//!   the test VPC's (egress, and an inbound rule the test adds).
//! * Rules are listed by DescribeSecurityGroupRules with ids and revoked by
//!   id, as in AWS.
//!
//! * A new VPC's default network ACL allows everything in at rule 100, as
//!   in AWS; entries are created and listed as in AWS.
//! * ModifyInstanceMetadataOptions in moto resets every option it is not
//!   given to moto's default, where AWS keeps them; cis-fix sends only
//!   HttpTokens and touches only instances whose endpoint is on, so both
//!   end the same here. RunInstances does not check the AMI id.
//!
//! The harness starts every region network-compliant (default groups
//! emptied, default ACLs closed to SSH/RDP, EBS encryption by default on:
//! `fixtures::network_compliant`), so what fails here is what each test
//! adds.

use aws_sdk_ec2::types::{IpPermission, IpRange};

use crate::support::account::{Account, status_of};
use crate::support::account::{control, via};
use crate::support::faults::FaultProxy;
use crate::support::fixtures::EMAIL_CONFIG;

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
/// v3.0.0: 5.4 default groups, 5.2 / 5.3 administration ports from
/// 0.0.0.0/0 / ::/0, 2.2.1 EBS encryption by default.
const DEFAULT_SG: &str = "5.4";
/// v3.0.0: 5.1 network ACLs open to 0.0.0.0/0 on 22/3389, 5.6 IMDSv2.
const NACL: &str = "5.1";
const IMDS: &str = "5.6";
const ADMIN_V4: &str = "5.2";
const ADMIN_V6: &str = "5.3";
const EBS: &str = "2.2.1";

/// This account's ec2 client in `region`.
fn ec2_in(acct: &Account, region: &str) -> aws_sdk_ec2::Client {
    acct.clients_in(region).ec2
}

/// What one region holds: a VPC whose default group admits 10.0.0.0/8 on
/// 443 (and, as moto makes it, sends anywhere), an interface in that group
/// and in `web`, a group opening SSH to the world beside HTTPS; and EBS
/// encryption by default off (the harness starts every region compliant);
/// the VPC's default network ACL as EC2 makes it (allowing everything in)
/// and an instance in the subnet that still allows IMDSv1.
struct Network {
    region: &'static str,
    default_group: String,
    web: String,
    eni: String,
    acl: String,
    subnet: String,
    instance: String,
}

fn tcp(port: i32, cidr: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build()
}

fn make_network(acct: &Account, region: &'static str) -> Network {
    let ec2 = ec2_in(acct, region);
    acct.block_on(async {
        ec2.disable_ebs_encryption_by_default()
            .send()
            .await
            .expect("DisableEbsEncryptionByDefault");
        let vpc = ec2
            .create_vpc()
            .cidr_block("10.1.0.0/16")
            .send()
            .await
            .expect("CreateVpc")
            .vpc
            .and_then(|v| v.vpc_id)
            .expect("vpc id");
        let default_group = ec2
            .describe_security_groups()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("vpc-id")
                    .values(&vpc)
                    .build(),
            )
            .send()
            .await
            .expect("DescribeSecurityGroups")
            .security_groups
            .unwrap_or_default()
            .into_iter()
            .find(|g| g.group_name() == Some("default"))
            .and_then(|g| g.group_id)
            .expect("the VPC's default group");
        ec2.authorize_security_group_ingress()
            .group_id(&default_group)
            .ip_permissions(tcp(443, "10.0.0.0/8"))
            .send()
            .await
            .expect("AuthorizeSecurityGroupIngress default");
        let web = ec2
            .create_security_group()
            .group_name("web")
            .description("web servers")
            .vpc_id(&vpc)
            .send()
            .await
            .expect("CreateSecurityGroup")
            .group_id
            .expect("group id");
        ec2.authorize_security_group_ingress()
            .group_id(&web)
            .ip_permissions(tcp(22, "0.0.0.0/0"))
            .ip_permissions(tcp(443, "0.0.0.0/0"))
            .send()
            .await
            .expect("AuthorizeSecurityGroupIngress web");
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block("10.1.1.0/24")
            .send()
            .await
            .expect("CreateSubnet")
            .subnet
            .and_then(|s| s.subnet_id)
            .expect("subnet id");
        let eni = ec2
            .create_network_interface()
            .subnet_id(&subnet)
            .description("app server")
            .groups(&default_group)
            .groups(&web)
            .send()
            .await
            .expect("CreateNetworkInterface")
            .network_interface
            .and_then(|n| n.network_interface_id)
            .expect("eni id");
        let acl = ec2
            .describe_network_acls()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("vpc-id")
                    .values(&vpc)
                    .build(),
            )
            .send()
            .await
            .expect("DescribeNetworkAcls")
            .network_acls
            .unwrap_or_default()
            .into_iter()
            .find(|a| a.is_default == Some(true))
            .and_then(|a| a.network_acl_id)
            .expect("the VPC's default ACL");
        let instance = ec2
            .run_instances()
            .image_id("ami-12c6146b")
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .subnet_id(&subnet)
            .metadata_options(
                aws_sdk_ec2::types::InstanceMetadataOptionsRequest::builder()
                    .http_tokens(aws_sdk_ec2::types::HttpTokensState::Optional)
                    .build(),
            )
            .send()
            .await
            .expect("RunInstances")
            .instances
            .unwrap_or_default()
            .into_iter()
            .next()
            .and_then(|i| i.instance_id)
            .expect("instance id");
        Network {
            region,
            default_group,
            web,
            eni,
            acl,
            subnet,
            instance,
        }
    })
}

/// (ingress, egress) rule ids of a group.
fn rules(acct: &Account, region: &str, group: &str) -> (Vec<String>, Vec<String>) {
    let ec2 = ec2_in(acct, region);
    acct.block_on(async {
        let all = ec2
            .describe_security_group_rules()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("group-id")
                    .values(group)
                    .build(),
            )
            .send()
            .await
            .expect("DescribeSecurityGroupRules")
            .security_group_rules
            .unwrap_or_default();
        let ids = |egress: bool| {
            all.iter()
                .filter(|r| r.is_egress() == Some(egress))
                .filter_map(|r| r.security_group_rule_id.clone())
                .collect::<Vec<_>>()
        };
        (ids(false), ids(true))
    })
}

/// The ports of a group's inbound rules.
fn ingress_ports(acct: &Account, region: &str, group: &str) -> Vec<i32> {
    let ec2 = ec2_in(acct, region);
    acct.block_on(async {
        let mut out: Vec<i32> = ec2
            .describe_security_group_rules()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("group-id")
                    .values(group)
                    .build(),
            )
            .send()
            .await
            .expect("DescribeSecurityGroupRules")
            .security_group_rules
            .unwrap_or_default()
            .iter()
            .filter(|r| r.is_egress() == Some(false))
            .filter_map(|r| r.from_port)
            .collect();
        out.sort();
        out
    })
}

/// The inbound deny entries of an ACL numbered below 100: (number,
/// protocol, port).
fn acl_denies(acct: &Account, region: &str, acl: &str) -> Vec<(i32, String, i32)> {
    let ec2 = ec2_in(acct, region);
    acct.block_on(async {
        let mut out: Vec<(i32, String, i32)> = ec2
            .describe_network_acls()
            .network_acl_ids(acl)
            .send()
            .await
            .expect("DescribeNetworkAcls")
            .network_acls
            .unwrap_or_default()
            .iter()
            .flat_map(|a| a.entries().to_vec())
            .filter(|e| e.egress() == Some(false) && e.rule_number().unwrap_or(0) < 100)
            .filter(|e| e.rule_action().map(|r| r.as_str()) == Some("deny"))
            .map(|e| {
                (
                    e.rule_number().unwrap_or_default(),
                    e.protocol().unwrap_or_default().to_string(),
                    e.port_range().and_then(|p| p.from()).unwrap_or_default(),
                )
            })
            .collect();
        out.sort();
        out
    })
}

fn http_tokens(acct: &Account, region: &str, instance: &str) -> String {
    let ec2 = ec2_in(acct, region);
    acct.block_on(async {
        ec2.describe_instances()
            .instance_ids(instance)
            .send()
            .await
            .expect("DescribeInstances")
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find_map(|i| {
                i.metadata_options()?
                    .http_tokens()
                    .map(|t| t.as_str().to_string())
            })
            .expect("metadata options")
    })
}

fn ebs_on(acct: &Account, region: &str) -> bool {
    let ec2 = ec2_in(acct, region);
    acct.block_on(async {
        ec2.get_ebs_encryption_by_default()
            .send()
            .await
            .expect("GetEbsEncryptionByDefault")
            .ebs_encryption_by_default
            .unwrap_or(false)
    })
}

fn of_type<'a>(list: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    list.as_array()
        .map(|a| a.iter().filter(|c| c["type"] == kind).collect())
        .unwrap_or_default()
}

#[test]
fn default_groups_and_open_admin_ports_are_changed_only_with_the_opt_in() {
    // A trail and someone to notify: everything else converges, so the exit
    // codes speak for these controls.
    let acct = Account::with_trail();
    let nets: Vec<Network> = REGIONS.iter().map(|r| make_network(&acct, r)).collect();
    let cfg = acct.config(&format!(
        "{EMAIL_CONFIG}regions:\n  - us-east-1\n  - eu-west-1\n"
    ));
    let cfg = cfg.to_str().expect("utf-8 path");
    let before: Vec<_> = nets
        .iter()
        .map(|n| rules(&acct, n.region, &n.default_group))
        .collect();
    assert!(
        before.iter().all(|(i, e)| i.len() == 1 && !e.is_empty()),
        "{before:?}"
    );
    assert!(REGIONS.iter().all(|r| !ebs_on(&acct, r)));
    for n in &nets {
        assert!(acl_denies(&acct, n.region, &n.acl).is_empty());
        assert_eq!(http_tokens(&acct, n.region, &n.instance), "optional");
    }

    // Without the opt-in: the group changes are held back with their
    // evidence, the controls blocked on the opt-in; EBS is planned.
    let plan = acct.cis_fix(&["plan", "--json", "--config", cfg]).json();
    for id in [DEFAULT_SG, ADMIN_V4, NACL, IMDS] {
        let c = control(&plan, id);
        assert_eq!(c["status"], "blocked", "{c:#}");
        assert_eq!(c["cause"]["kind"], "needs_opt_in", "{c:#}");
        assert_eq!(c["cause"]["flag"], "--allow-destructive", "{c:#}");
    }
    assert_eq!(
        control(&plan, DEFAULT_SG)["cause"]["setting"],
        "destructive.default_security_groups"
    );
    assert_eq!(status_of(&plan, ADMIN_V6), "compliant");
    assert_eq!(status_of(&plan, EBS), "will-fix");
    assert!(
        of_type(&plan["changes"], "aws_default_security_group").is_empty()
            && of_type(&plan["changes"], "aws_vpc_security_group_ingress_rule").is_empty(),
        "{plan:#}"
    );
    let ebs = of_type(&plan["changes"], "aws_ebs_encryption_by_default");
    assert_eq!(ebs.len(), 2, "{plan:#}");
    let held = &plan["held_back"];
    for n in &nets {
        let g = of_type(held, "aws_default_security_group")
            .into_iter()
            .find(|c| c["key"] == n.default_group.as_str())
            .unwrap_or_else(|| panic!("{} held back in {held:#}", n.default_group));
        assert_eq!(g["region"], n.region);
        assert_eq!(g["needs_opt_in"]["opt_in"], "default_security_groups");
        assert_eq!(g["after"]["ingress"], serde_json::json!([]));
        assert_eq!(g["after"]["egress"], serde_json::json!([]));
        // The evidence: the interface in the group, with its description.
        let used = g["before"]["used_by"].as_array().expect("used_by");
        assert!(
            used.iter()
                .any(|u| u["interface_id"] == n.eni.as_str() && u["description"] == "app server"),
            "{g:#}"
        );
        let ssh = of_type(held, "aws_vpc_security_group_ingress_rule")
            .into_iter()
            .find(|c| c["before"]["group_id"] == n.web.as_str())
            .unwrap_or_else(|| panic!("{}'s SSH rule held back in {held:#}", n.web));
        assert_eq!(ssh["action"], "delete");
        assert_eq!(ssh["before"]["from_port"], 22);
        assert_eq!(ssh["before"]["cidr_ipv4"], "0.0.0.0/0");
        assert_eq!(
            ssh["needs_opt_in"]["setting"],
            "destructive.admin_port_rules"
        );
    }
    for n in &nets {
        // The default ACL: a deny per port and protocol, just below its
        // allow-all, with the subnet and its interfaces as evidence.
        let denies: Vec<_> = of_type(held, "aws_network_acl_rule")
            .into_iter()
            .filter(|c| c["after"]["network_acl_id"] == n.acl.as_str())
            .collect();
        assert_eq!(denies.len(), 4, "{held:#}");
        for d in &denies {
            assert_eq!(d["action"], "create", "{d:#}");
            assert_eq!(d["after"]["rule_action"], "deny", "{d:#}");
            assert_eq!(d["after"]["cidr_block"], "0.0.0.0/0", "{d:#}");
            assert_eq!(
                d["needs_opt_in"]["setting"],
                "destructive.network_acl_rules"
            );
            assert_eq!(
                d["after"]["subnets"],
                serde_json::json!([n.subnet]),
                "{d:#}"
            );
            assert!(
                d["after"]["used_by"]
                    .as_array()
                    .is_some_and(|u| u.iter().any(|i| i["interface_id"] == n.eni.as_str())),
                "{d:#}"
            );
        }
        let imds = of_type(held, "aws_instance_metadata_options")
            .into_iter()
            .find(|c| c["key"] == n.instance.as_str())
            .unwrap_or_else(|| panic!("{} held back in {held:#}", n.instance));
        assert_eq!(imds["before"]["http_tokens"], "optional");
        assert_eq!(imds["after"]["http_tokens"], "required");
        assert_eq!(
            imds["needs_opt_in"]["setting"],
            "destructive.instance_metadata"
        );
    }
    // Not the HTTPS rule.
    assert!(
        !of_type(held, "aws_vpc_security_group_ingress_rule")
            .iter()
            .any(|c| c["before"]["from_port"] == 443),
        "{held:#}"
    );

    // The human plan says what is held back and how to allow it.
    let human = acct.cis_fix(&["plan", "--config", cfg]);
    assert!(human.stdout.contains("Held back:"), "{}", human.stdout);
    assert!(
        human
            .stdout
            .contains(&format!("{} (interface", nets[0].eni)),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("--allow-destructive"),
        "{}",
        human.stdout
    );

    // Apply without the opt-in: EBS turned on, no group touched, exit 1
    // because the controls are still blocked, and it says why.
    let apply = acct.cis_fix(&["apply", "--auto-approve", "--config", cfg]);
    apply.expect_code(1);
    assert!(apply.stderr.contains("still blocked"), "{}", apply.stderr);
    assert!(
        apply.stdout.contains("--allow-destructive"),
        "{}",
        apply.stdout
    );
    for (n, b) in nets.iter().zip(&before) {
        assert_eq!(&rules(&acct, n.region, &n.default_group), b, "{}", n.region);
        assert_eq!(ingress_ports(&acct, n.region, &n.web), [22, 443]);
        assert!(ebs_on(&acct, n.region), "{}", n.region);
        assert!(acl_denies(&acct, n.region, &n.acl).is_empty());
        assert_eq!(http_tokens(&acct, n.region, &n.instance), "optional");
    }

    // With it: the default groups are emptied, the SSH rule revoked, the
    // HTTPS rule kept.
    let apply = acct.cis_fix(&[
        "apply",
        "--auto-approve",
        "--allow-destructive",
        "--config",
        cfg,
    ]);
    apply.expect_code(0);
    for n in &nets {
        assert_eq!(
            rules(&acct, n.region, &n.default_group),
            (vec![], vec![]),
            "{}",
            n.region
        );
        assert_eq!(ingress_ports(&acct, n.region, &n.web), [443]);
        assert_eq!(
            acl_denies(&acct, n.region, &n.acl),
            [
                (96, "17".to_string(), 3389),
                (97, "6".to_string(), 3389),
                (98, "17".to_string(), 22),
                (99, "6".to_string(), 22),
            ]
        );
        assert_eq!(http_tokens(&acct, n.region, &n.instance), "required");
    }

    // Compliant now, without any opt-in.
    let again = acct.cis_fix(&["plan", "--json", "--detailed-exitcode", "--config", cfg]);
    again.expect_code(0);
    let again = again.json();
    for id in [DEFAULT_SG, ADMIN_V4, ADMIN_V6, EBS, NACL, IMDS] {
        assert_eq!(status_of(&again, id), "compliant", "{id}: {again:#}");
    }
    assert!(again.get("held_back").is_none(), "{again:#}");

    // A second apply, opted in, writes nothing.
    let proxy = FaultProxy::start(&acct.moto);
    let second = via(
        &proxy,
        &acct,
        &[
            "apply",
            "--auto-approve",
            "--allow-destructive",
            "--config",
            cfg,
        ],
    );
    second.expect_code(0);
    let writes: Vec<String> = proxy
        .calls()
        .iter()
        .filter(|c| c.is_write())
        .map(|c| c.name())
        .collect();
    assert!(writes.is_empty(), "second apply wrote {writes:?}");
}

#[test]
fn the_opt_in_per_kind_in_the_config() {
    let acct = Account::with_trail();
    let n = make_network(&acct, "us-east-1");
    // Only the default groups: the SSH rule stays held back.
    let cfg = acct.config(&format!(
        "{EMAIL_CONFIG}regions: [us-east-1]\ndestructive:\n  default_security_groups: true\n"
    ));
    let cfg = cfg.to_str().expect("utf-8 path");
    let plan = acct.cis_fix(&["plan", "--json", "--config", cfg]).json();
    assert_eq!(status_of(&plan, DEFAULT_SG), "will-fix", "{plan:#}");
    assert_eq!(status_of(&plan, ADMIN_V4), "blocked", "{plan:#}");
    let apply = acct.cis_fix(&["apply", "--auto-approve", "--config", cfg]);
    apply.expect_code(1);
    assert_eq!(
        rules(&acct, "us-east-1", &n.default_group),
        (vec![], vec![])
    );
    assert_eq!(ingress_ports(&acct, "us-east-1", &n.web), [22, 443]);
}

#[test]
fn a_region_whose_groups_cannot_be_read_is_unknown_and_the_other_is_still_planned() {
    let acct = Account::with_trail();
    let nets: Vec<Network> = REGIONS.iter().map(|r| make_network(&acct, r)).collect();
    let proxy = FaultProxy::start(&acct.moto);
    proxy.deny_in("ec2:DescribeSecurityGroupRules", "eu-west-1");
    let run = via(
        &proxy,
        &acct,
        &[
            "plan",
            "--json",
            "--allow-destructive",
            "--region",
            "us-east-1,eu-west-1",
        ],
    );
    run.expect_code(1);
    let plan = run.json();
    for id in [DEFAULT_SG, ADMIN_V4, ADMIN_V6] {
        let c = control(&plan, id);
        assert_eq!(c["status"], "unknown", "{id}: {c:#}");
        assert_eq!(c["cause"]["kind"], "read_failed", "{c:#}");
        assert_eq!(c["cause"]["failure"]["region"], "eu-west-1", "{c:#}");
        assert!(
            c["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("ec2:DescribeSecurityGroupRules in eu-west-1"),
            "{c:#}"
        );
    }
    // us-east-1 is still planned; nothing in eu-west-1.
    let groups = of_type(&plan["changes"], "aws_default_security_group");
    assert!(
        groups
            .iter()
            .any(|c| c["key"] == nets[0].default_group.as_str()),
        "{plan:#}"
    );
    assert!(
        groups.iter().all(|c| c["region"] == "us-east-1"),
        "{plan:#}"
    );
    assert!(
        of_type(&plan["changes"], "aws_vpc_security_group_ingress_rule")
            .iter()
            .all(|c| c["region"] == "us-east-1"),
        "{plan:#}"
    );
    // EBS is read apart: both regions are still judged and planned.
    assert_eq!(status_of(&plan, EBS), "will-fix");
    assert_eq!(
        of_type(&plan["changes"], "aws_ebs_encryption_by_default").len(),
        2
    );
}
