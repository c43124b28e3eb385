//! The networking judgement from plain values: which default groups are
//! emptied and which rules revoked, what the opt-in changes, the evidence
//! each change carries, and what a failed read leaves.

use super::*;
use crate::benchmark::AdminPortsCheck;
use crate::config::Destructive;
use crate::desired::NetworkControls;
use crate::kinds::security_group::tests::rule;
use crate::kinds::security_group::{WORLD_V4, WORLD_V6, World};
use crate::kinds::{ReadData, SgRule};
use crate::observed::Observed;
use crate::plan::{ControlReport, HeldBack};
use crate::snapshot::{REGIONS_READ, ReadKey};

const ACCOUNT: &str = "123456789012";

fn control(id: &str) -> KmsControl {
    KmsControl {
        id: id.into(),
        title: format!("control {id}"),
    }
}

fn admin(id: &str, sources: &[World], ports: &[u16]) -> AdminPortsControl {
    AdminPortsControl {
        id: id.into(),
        title: format!("control {id}"),
        check: AdminPortsCheck {
            sources: sources.to_vec(),
            ports: ports.to_vec(),
        },
    }
}

/// v3.0.0's shape: default groups (5.4), 0.0.0.0/0 (5.2) and ::/0 (5.3) to
/// 22 and 3389, EBS encryption by default (2.2.1).
fn desired(destructive: Destructive) -> Desired {
    let b = crate::benchmark::load("3.0.0").expect("benchmark");
    let mut d =
        crate::desired::build(&b, &crate::config::Config::default(), "defaults").expect("desired");
    d.network = NetworkControls {
        default_sg: vec![control("5.4")],
        admin_ports: vec![
            admin("5.2", &[World::Ipv4], &[22, 3389]),
            admin("5.3", &[World::Ipv6], &[22, 3389]),
        ],
        ebs: vec![control("2.2.1")],
        nacl_admin_ports: vec![],
        imdsv2: vec![],
    };
    d.destructive = destructive;
    d
}

fn group(id: &str, name: &str, ingress: Vec<SgRule>, egress: Vec<SgRule>) -> SecurityGroupFacts {
    SecurityGroupFacts {
        group_id: id.into(),
        group_name: name.into(),
        vpc_id: Some(format!("vpc-{id}")),
        ingress,
        egress,
    }
}

fn eni(id: &str, group: &str, instance: Option<&str>, kind: &str) -> InterfaceUse {
    InterfaceUse {
        interface_id: id.into(),
        interface_type: kind.into(),
        instance_id: instance.map(str::to_string),
        requester_id: None,
        description: Some(format!("{id} description")),
        groups: vec![group.into()],
        subnet_id: None,
    }
}

struct RegionFacts {
    groups: Observed<Vec<SecurityGroupFacts>>,
    interfaces: Observed<Vec<InterfaceUse>>,
    ebs: Observed<bool>,
}

fn ok(groups: Vec<SecurityGroupFacts>, interfaces: Vec<InterfaceUse>) -> RegionFacts {
    RegionFacts {
        groups: Observed::Ok(groups),
        interfaces: Observed::Ok(interfaces),
        ebs: Observed::Ok(true),
    }
}

fn denied(call: &str, region: &str) -> CallFailure {
    CallFailure {
        call: call.into(),
        region: region.into(),
        resource: None,
        code: Some("UnauthorizedOperation".into()),
        message: "denied".into(),
        detail: None,
    }
}

fn snap(regions: Vec<(&str, RegionFacts)>) -> Snapshot {
    let mut s = Snapshot::new(Some(ACCOUNT.into()), None, "us-east-1");
    s.record(
        ReadKey::new(REGIONS_READ, "us-east-1", None),
        Observed::Ok(ReadData::Regions(
            regions.iter().map(|(r, _)| r.to_string()).collect(),
        )),
    );
    for (r, f) in regions {
        s.record(
            ReadKey::new(security_group::READ, r, None),
            f.groups.map(ReadData::SecurityGroups),
        );
        s.record(
            ReadKey::new(security_group::READ_INTERFACES, r, None),
            f.interfaces.map(ReadData::NetworkInterfaces),
        );
        s.record(
            ReadKey::new(ebs_encryption::READ, r, None),
            f.ebs.map(ReadData::EbsEncryptionByDefault),
        );
    }
    s
}

struct Planned {
    changes: Vec<Change>,
    held_back: Vec<HeldBack>,
    controls: Vec<ControlReport>,
}

impl Planned {
    fn control(&self, id: &str) -> &ControlReport {
        self.controls
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("control {id}"))
    }
}

fn run(d: &Desired, s: &Snapshot) -> Planned {
    let mut out = PlanBuilder::new(Some(ACCOUNT));
    plan(d, s, &mut out);
    let parts = out.finish(&[]).expect("no diff error");
    Planned {
        changes: parts.changes,
        held_back: parts.held_back,
        controls: parts.controls,
    }
}

/// moto's and AWS's default group: all outbound traffic allowed; AWS also
/// admits the group itself inbound (moto does not).
fn default_group(id: &str) -> SecurityGroupFacts {
    let mut self_ref = rule(&format!("sgr-{id}-self"), "-1", -1, -1, WORLD_V4);
    self_ref.cidr_ipv4 = None;
    self_ref.referenced_group_id = Some(id.into());
    group(
        id,
        "default",
        vec![self_ref],
        vec![rule(&format!("sgr-{id}-out"), "-1", -1, -1, WORLD_V4)],
    )
}

fn empty_default(id: &str) -> SecurityGroupFacts {
    group(id, "default", vec![], vec![])
}

#[test]
fn without_the_opt_in_a_default_group_with_rules_is_held_back_with_its_evidence() {
    let s = snap(vec![(
        "us-east-1",
        ok(
            vec![default_group("sg-d1")],
            vec![
                eni("eni-1", "sg-d1", Some("i-1"), "interface"),
                eni("eni-2", "sg-d1", None, "lambda"),
                eni("eni-3", "sg-other", Some("i-3"), "interface"),
            ],
        ),
    )]);
    let p = run(&desired(Destructive::default()), &s);
    assert!(p.changes.is_empty(), "{:?}", p.changes);
    assert_eq!(p.held_back.len(), 1);
    let h = &p.held_back[0];
    assert_eq!(h.opt_in, OptIn::DefaultSecurityGroups);
    assert_eq!(
        h.change.address.to_string(),
        "123456789012/us-east-1/aws_default_security_group.default[\"sg-d1\"]"
    );
    let Some(Resource::DefaultSecurityGroup(before)) = &h.change.before else {
        panic!()
    };
    // The evidence: the two interfaces in the group, not the third.
    let used: Vec<&str> = before
        .used_by
        .iter()
        .map(|i| i.interface_id.as_str())
        .collect();
    assert_eq!(used, ["eni-1", "eni-2"]);
    assert!(
        h.change.reason.contains("instance i-1"),
        "{}",
        h.change.reason
    );
    assert!(h.change.reason.contains("(lambda"), "{}", h.change.reason);
    let Some(Resource::DefaultSecurityGroup(after)) = &h.change.after else {
        panic!()
    };
    assert!(after.ingress.is_empty() && after.egress.is_empty());
    assert_eq!(after.used_by, before.used_by);
    let c = p.control("5.4");
    assert_eq!(c.status, ControlStatus::Blocked);
    assert_eq!(
        c.cause,
        Some(Cause::needs_opt_in(OptIn::DefaultSecurityGroups))
    );
    assert!(c.reason.contains("--allow-destructive"), "{}", c.reason);
    assert!(
        c.reason.contains("destructive.default_security_groups"),
        "{}",
        c.reason
    );
}

#[test]
fn with_the_opt_in_every_rule_of_a_default_group_is_revoked() {
    let s = snap(vec![
        ("us-east-1", ok(vec![default_group("sg-d1")], vec![])),
        ("eu-west-1", ok(vec![empty_default("sg-d2")], vec![])),
    ]);
    let p = run(
        &desired(Destructive {
            default_security_groups: true,
            admin_port_rules: false,
            ..Destructive::default()
        }),
        &s,
    );
    assert!(p.held_back.is_empty());
    assert_eq!(p.changes.len(), 1);
    let calls = crate::kinds::calls(
        p.changes[0].action,
        p.changes[0].before.as_ref(),
        p.changes[0].after.as_ref(),
    );
    assert_eq!(
        calls,
        [
            crate::kinds::WriteCall::RevokeSecurityGroupIngress {
                group_id: "sg-d1".into(),
                rule_ids: vec!["sgr-sg-d1-self".into()]
            },
            crate::kinds::WriteCall::RevokeSecurityGroupEgress {
                group_id: "sg-d1".into(),
                rule_ids: vec!["sgr-sg-d1-out".into()]
            },
        ]
    );
    assert_eq!(p.control("5.4").status, ControlStatus::WillFix);
}

#[test]
fn empty_default_groups_and_closed_ports_are_compliant() {
    let s = snap(vec![(
        "us-east-1",
        ok(
            vec![
                empty_default("sg-d1"),
                group(
                    "sg-web",
                    "web",
                    vec![
                        rule("sgr-https", "tcp", 443, 443, WORLD_V4),
                        rule("sgr-ssh-office", "tcp", 22, 22, "203.0.113.0/24"),
                    ],
                    vec![rule("sgr-out", "-1", -1, -1, WORLD_V4)],
                ),
            ],
            vec![],
        ),
    )]);
    let p = run(&desired(Destructive::default()), &s);
    assert!(p.changes.is_empty() && p.held_back.is_empty());
    for id in ["5.4", "5.2", "5.3", "2.2.1"] {
        assert_eq!(p.control(id).status, ControlStatus::Compliant, "{id}");
    }
    assert!(
        p.control("5.4")
            .reason
            .contains("1 VPC in 1 region has no rules"),
        "{}",
        p.control("5.4").reason
    );
}

#[test]
fn admin_port_rules_are_revoked_one_by_one_with_the_opt_in() {
    let web = group(
        "sg-web",
        "web",
        vec![
            rule("sgr-ssh", "tcp", 22, 22, WORLD_V4),
            rule("sgr-range", "tcp", 0, 4000, WORLD_V6),
            rule("sgr-https", "tcp", 443, 443, WORLD_V4),
        ],
        vec![],
    );
    let s = snap(vec![(
        "us-east-1",
        ok(
            vec![empty_default("sg-d1"), web],
            vec![eni("eni-9", "sg-web", Some("i-9"), "interface")],
        ),
    )]);
    // Without the opt-in: both held back, each control blocked.
    let p = run(&desired(Destructive::default()), &s);
    assert!(p.changes.is_empty());
    assert_eq!(p.held_back.len(), 2);
    assert!(
        p.held_back
            .iter()
            .all(|h| h.opt_in == OptIn::AdminPortRules)
    );
    assert_eq!(p.control("5.2").status, ControlStatus::Blocked);
    assert_eq!(p.control("5.3").status, ControlStatus::Blocked);
    assert_eq!(
        p.control("5.2").cause,
        Some(Cause::needs_opt_in(OptIn::AdminPortRules))
    );
    // The default groups' control is not held by them.
    assert_eq!(p.control("5.4").status, ControlStatus::Compliant);

    let p = run(
        &desired(Destructive {
            default_security_groups: false,
            admin_port_rules: true,
            ..Destructive::default()
        }),
        &s,
    );
    assert!(p.held_back.is_empty());
    let by_control = |id: &str| -> Vec<String> {
        p.changes
            .iter()
            .filter(|c| c.controls.iter().any(|x| x == id))
            .map(|c| c.address.key.clone().unwrap_or_default())
            .collect()
    };
    assert_eq!(by_control("5.2"), ["sgr-ssh"]);
    assert_eq!(by_control("5.3"), ["sgr-range"]);
    let ssh = &p.changes[0];
    assert_eq!(ssh.action, Action::Delete);
    assert!(ssh.reason.contains("instance i-9"), "{}", ssh.reason);
    assert_eq!(
        crate::kinds::calls(ssh.action, ssh.before.as_ref(), ssh.after.as_ref()),
        [crate::kinds::WriteCall::RevokeSecurityGroupIngress {
            group_id: "sg-web".into(),
            rule_ids: vec!["sgr-ssh".into()]
        }]
    );
    assert_eq!(p.control("5.2").status, ControlStatus::WillFix);
}

#[test]
fn a_rule_two_controls_forbid_is_one_change_serving_both() {
    // v1.2.0: 4.1 forbids 22 and 4.2 forbids 3389 from 0.0.0.0/0; one
    // all-traffic rule breaks both.
    let mut d = desired(Destructive::all());
    d.network.admin_ports = vec![
        admin("4.1", &[World::Ipv4], &[22]),
        admin("4.2", &[World::Ipv4], &[3389]),
    ];
    let s = snap(vec![(
        "us-east-1",
        ok(
            vec![group(
                "sg-1",
                "open",
                vec![rule("sgr-all", "-1", -1, -1, WORLD_V4)],
                vec![],
            )],
            vec![],
        ),
    )]);
    let p = run(&d, &s);
    assert_eq!(p.changes.len(), 1);
    assert_eq!(p.changes[0].controls, ["4.1", "4.2"]);
}

#[test]
fn a_default_groups_open_admin_rule_goes_with_the_groups_change() {
    let mut g = default_group("sg-d1");
    g.ingress.push(rule("sgr-ssh", "tcp", 22, 22, WORLD_V4));
    let s = snap(vec![("us-east-1", ok(vec![g], vec![]))]);
    // Held back: the group's one change carries both controls, and the
    // administration-ports control waits for the default groups' opt-in.
    let p = run(&desired(Destructive::default()), &s);
    assert_eq!(p.held_back.len(), 1);
    assert_eq!(p.held_back[0].change.controls, ["5.4", "5.2"]);
    assert_eq!(
        p.control("5.2").cause,
        Some(Cause::needs_opt_in(OptIn::DefaultSecurityGroups))
    );
    let p = run(&desired(Destructive::all()), &s);
    assert_eq!(p.changes.len(), 1);
    assert_eq!(p.changes[0].controls, ["5.4", "5.2"]);
    assert_eq!(p.control("5.2").status, ControlStatus::WillFix);
}

#[test]
fn a_region_that_could_not_be_read_is_unknown_and_the_others_are_planned() {
    let s = snap(vec![
        ("us-east-1", ok(vec![default_group("sg-d1")], vec![])),
        (
            "eu-west-1",
            RegionFacts {
                groups: Observed::Ok(vec![default_group("sg-d2")]),
                interfaces: Observed::Failed(denied(security_group::READ_INTERFACES, "eu-west-1")),
                ebs: Observed::Failed(denied(ebs_encryption::READ, "eu-west-1")),
            },
        ),
    ]);
    let p = run(&desired(Destructive::all()), &s);
    // Without the evidence nothing is planned in eu-west-1.
    let regions: Vec<&str> = p.changes.iter().map(|c| c.address.region()).collect();
    assert_eq!(regions, ["us-east-1"]);
    for id in ["5.4", "5.2", "5.3", "2.2.1"] {
        let c = p.control(id);
        assert_eq!(c.status, ControlStatus::Unknown, "{id}");
        assert!(c.reason.contains("eu-west-1"), "{id}: {}", c.reason);
    }
}

#[test]
fn ebs_encryption_by_default_is_turned_on_where_it_is_off() {
    let mut off = ok(vec![], vec![]);
    off.ebs = Observed::Ok(false);
    let s = snap(vec![("us-east-1", ok(vec![], vec![])), ("eu-west-1", off)]);
    let p = run(&desired(Destructive::default()), &s);
    assert_eq!(p.changes.len(), 1);
    let c = &p.changes[0];
    assert_eq!(
        c.address.to_string(),
        "123456789012/eu-west-1/aws_ebs_encryption_by_default.this"
    );
    assert_eq!(
        crate::kinds::calls(c.action, c.before.as_ref(), c.after.as_ref()),
        [crate::kinds::WriteCall::EnableEbsEncryptionByDefault]
    );
    assert_eq!(p.control("2.2.1").status, ControlStatus::WillFix);
    assert!(p.held_back.is_empty(), "EBS needs no opt-in");
}

#[test]
fn the_ipv6_world_is_its_own_source() {
    let s = snap(vec![(
        "us-east-1",
        ok(
            vec![group(
                "sg-1",
                "v6",
                vec![rule("sgr-rdp6", "tcp", 3389, 3389, WORLD_V6)],
                vec![],
            )],
            vec![],
        ),
    )]);
    let p = run(&desired(Destructive::all()), &s);
    assert_eq!(p.control("5.2").status, ControlStatus::Compliant);
    assert_eq!(p.control("5.3").status, ControlStatus::WillFix);
}

mod acls_and_instances {
    //! Network ACLs (first matching entry decides; closed by denies below
    //! the allow) and IMDSv2 (one change per instance), both behind their
    //! opt-ins.

    use super::*;
    use crate::kinds::InstanceFacts;
    use crate::kinds::instance_metadata;
    use crate::kinds::network_acl::tests::{acl, default_entries, entry};
    use crate::kinds::network_acl::{self, LAST_RULE, NetworkAclFacts};
    use std::collections::BTreeSet;

    fn desired_v3(destructive: Destructive) -> Desired {
        let mut d = desired(destructive);
        d.network = NetworkControls {
            nacl_admin_ports: vec![admin("5.1", &[World::Ipv4], &[22, 3389])],
            imdsv2: vec![control("5.6")],
            ..NetworkControls::default()
        };
        d
    }

    fn subnet_eni(id: &str, subnet: &str) -> InterfaceUse {
        InterfaceUse {
            subnet_id: Some(subnet.into()),
            ..eni(id, "sg-x", Some(&format!("i-{id}")), "interface")
        }
    }

    fn instance(id: &str, tokens: &str, endpoint: &str) -> InstanceFacts {
        InstanceFacts {
            instance_id: id.into(),
            state: "running".into(),
            http_tokens: tokens.into(),
            http_endpoint: endpoint.into(),
            name: Some(format!("{id}-name")),
            vpc_id: Some("vpc-1".into()),
        }
    }

    /// A region's ACLs, instances and network interfaces.
    type Facts<'a> = (
        &'a str,
        Observed<Vec<NetworkAclFacts>>,
        Observed<Vec<InstanceFacts>>,
        Vec<InterfaceUse>,
    );

    fn snap_with(regions: Vec<Facts<'_>>) -> Snapshot {
        let mut s = snap(
            regions
                .iter()
                .map(|(r, _, _, i)| (*r, ok(vec![], i.clone())))
                .collect(),
        );
        for (r, acls, instances, _) in regions {
            s.record(
                ReadKey::new(network_acl::READ, r, None),
                acls.map(ReadData::NetworkAcls),
            );
            s.record(
                ReadKey::new(instance_metadata::READ, r, None),
                instances.map(ReadData::Instances),
            );
        }
        s
    }

    fn all_on() -> Destructive {
        Destructive::all()
    }

    #[test]
    fn the_default_acl_gets_a_deny_per_port_and_protocol_just_below_its_allow() {
        let s = snap_with(vec![(
            "us-east-1",
            Observed::Ok(vec![acl(default_entries())]),
            Observed::Ok(vec![]),
            vec![
                subnet_eni("eni-1", "subnet-1"),
                subnet_eni("eni-2", "subnet-9"),
            ],
        )]);
        let p = run(&desired_v3(all_on()), &s);
        let made: Vec<(String, i32, String, i32)> = p
            .changes
            .iter()
            .map(|c| {
                let Some(Resource::NetworkAclRule(r)) = &c.after else {
                    panic!("{c:?}")
                };
                assert_eq!(c.action, Action::Create);
                assert_eq!(r.rule_action, "deny");
                assert_eq!(r.cidr_block.as_deref(), Some(WORLD_V4));
                // The evidence: the interface in the ACL's subnet only.
                assert_eq!(r.used_by.len(), 1);
                assert_eq!(r.used_by[0].interface_id, "eni-1");
                (
                    c.address.to_string(),
                    r.rule_number,
                    r.protocol.clone(),
                    r.from_port,
                )
            })
            .collect();
        let numbers: BTreeSet<i32> = made.iter().map(|m| m.1).collect();
        assert_eq!(numbers, [96, 97, 98, 99].into_iter().collect());
        assert!(
            made.iter().any(|m| m.0
                == "123456789012/us-east-1/aws_network_acl_rule.deny_admin[\"acl-1/tcp/22/ipv4\"]"
                && m.2 == "6"
                && m.3 == 22),
            "{made:?}"
        );
        assert_eq!(p.control("5.1").status, ControlStatus::WillFix);
    }

    #[test]
    fn without_the_opt_in_acl_denies_are_held_back() {
        let s = snap_with(vec![(
            "us-east-1",
            Observed::Ok(vec![acl(default_entries())]),
            Observed::Ok(vec![]),
            vec![],
        )]);
        let p = run(&desired_v3(Destructive::default()), &s);
        assert!(p.changes.is_empty());
        assert_eq!(p.held_back.len(), 4);
        assert!(
            p.held_back
                .iter()
                .all(|h| h.opt_in == OptIn::NetworkAclRules)
        );
        let c = p.control("5.1");
        assert_eq!(c.status, ControlStatus::Blocked);
        assert_eq!(c.cause, Some(Cause::needs_opt_in(OptIn::NetworkAclRules)));
        assert!(
            c.reason.contains("destructive.network_acl_rules"),
            "{}",
            c.reason
        );
    }

    #[test]
    fn applied_denies_make_the_acl_compliant_and_plan_nothing_more() {
        let mut e = default_entries();
        for (n, proto, port) in [
            (99, "6", 22),
            (98, "17", 22),
            (97, "6", 3389),
            (96, "17", 3389),
        ] {
            e.push(entry(n, "deny", proto, Some((port, port)), WORLD_V4));
        }
        let s = snap_with(vec![(
            "us-east-1",
            Observed::Ok(vec![acl(e)]),
            Observed::Ok(vec![]),
            vec![],
        )]);
        let p = run(&desired_v3(all_on()), &s);
        assert!(p.changes.is_empty() && p.held_back.is_empty());
        assert_eq!(p.control("5.1").status, ControlStatus::Compliant);
    }

    #[test]
    fn an_allow_at_rule_one_cannot_be_closed_by_cis_fix() {
        let s = snap_with(vec![(
            "us-east-1",
            Observed::Ok(vec![acl(vec![
                entry(1, "allow", "6", Some((22, 22)), WORLD_V4),
                entry(LAST_RULE, "deny", "-1", None, WORLD_V4),
            ])]),
            Observed::Ok(vec![]),
            vec![],
        )]);
        let p = run(&desired_v3(all_on()), &s);
        assert!(p.changes.is_empty());
        let c = p.control("5.1");
        assert_eq!(c.status, ControlStatus::Blocked);
        assert!(
            c.reason
                .contains("no rule number is free between 1 and entry 1"),
            "{}",
            c.reason
        );
    }

    #[test]
    fn the_users_narrower_allow_for_the_port_keeps_deciding_first() {
        let s = snap_with(vec![(
            "us-east-1",
            Observed::Ok(vec![acl(vec![
                entry(10, "allow", "6", Some((22, 22)), "203.0.113.0/24"),
                entry(100, "allow", "-1", None, WORLD_V4),
                entry(LAST_RULE, "deny", "-1", None, WORLD_V4),
            ])]),
            Observed::Ok(vec![]),
            vec![],
        )]);
        let p = run(&desired_v3(all_on()), &s);
        for c in &p.changes {
            let Some(Resource::NetworkAclRule(r)) = &c.after else {
                panic!()
            };
            assert!(r.rule_number > 10 && r.rule_number < 100, "{c:?}");
            if r.from_port == 22 && r.protocol == "6" {
                assert!(c.reason.contains("entry 10 of yours"), "{}", c.reason);
            }
            assert!(c.reason.contains("inside the VPC too"), "{}", c.reason);
        }
        assert_eq!(p.changes.len(), 4);
    }

    #[test]
    fn what_cis_fix_cannot_close_stays_blocked_beside_what_waits_for_the_opt_in() {
        let mut stuck = acl(vec![
            entry(1, "allow", "6", Some((22, 22)), WORLD_V4),
            entry(LAST_RULE, "deny", "-1", None, WORLD_V4),
        ]);
        stuck.network_acl_id = "acl-2".into();
        let s = snap_with(vec![(
            "us-east-1",
            Observed::Ok(vec![acl(default_entries()), stuck]),
            Observed::Ok(vec![]),
            vec![],
        )]);
        let p = run(&desired_v3(Destructive::default()), &s);
        assert_eq!(p.held_back.len(), 4);
        let c = p.control("5.1");
        assert_eq!(c.status, ControlStatus::Blocked);
        // Not the opt-in's cause: an exception of the held-back ACL must
        // not make the control read as excepted while acl-2 stays open.
        assert_eq!(c.cause, None);
        assert!(c.reason.contains("acl-2"), "{}", c.reason);
    }

    #[test]
    fn an_acl_of_a_shared_vpc_is_the_owners_to_change() {
        let mut shared = acl(default_entries());
        shared.owner_id = Some("999999999999".into());
        let s = snap_with(vec![(
            "us-east-1",
            Observed::Ok(vec![shared]),
            Observed::Ok(vec![]),
            vec![],
        )]);
        let p = run(&desired_v3(all_on()), &s);
        assert!(p.changes.is_empty() && p.held_back.is_empty());
        let c = p.control("5.1");
        assert_eq!(c.status, ControlStatus::Blocked);
        assert!(
            c.reason.contains("belongs to account 999999999999"),
            "{}",
            c.reason
        );
    }

    #[test]
    fn a_failed_acl_read_leaves_its_region_unknown_and_plans_the_other() {
        let s = snap_with(vec![
            (
                "us-east-1",
                Observed::Failed(denied(network_acl::READ, "us-east-1")),
                Observed::Ok(vec![]),
                vec![],
            ),
            (
                "eu-west-1",
                Observed::Ok(vec![acl(default_entries())]),
                Observed::Ok(vec![]),
                vec![],
            ),
        ]);
        let p = run(&desired_v3(all_on()), &s);
        let c = p.control("5.1");
        assert_eq!(c.status, ControlStatus::Unknown);
        assert!(c.reason.contains("us-east-1"), "{}", c.reason);
        assert_eq!(p.changes.len(), 4);
        assert!(p.changes.iter().all(|c| c.address.region() == "eu-west-1"));
    }

    #[test]
    fn every_instance_allowing_imdsv1_gets_tokens_required_with_the_opt_in() {
        let s = snap_with(vec![(
            "us-east-1",
            Observed::Ok(vec![]),
            Observed::Ok(vec![
                instance("i-1", "optional", "enabled"),
                instance("i-2", "required", "enabled"),
                instance("i-3", "optional", "disabled"),
            ]),
            vec![],
        )]);
        let held = run(&desired_v3(Destructive::default()), &s);
        assert!(held.changes.is_empty());
        assert_eq!(held.held_back.len(), 1);
        assert_eq!(held.held_back[0].opt_in, OptIn::InstanceMetadata);
        assert_eq!(held.control("5.6").status, ControlStatus::Blocked);

        let p = run(&desired_v3(all_on()), &s);
        assert_eq!(p.changes.len(), 1);
        let c = &p.changes[0];
        assert_eq!(
            c.address.to_string(),
            "123456789012/us-east-1/aws_instance_metadata_options.this[\"i-1\"]"
        );
        assert!(c.reason.contains("i-1-name"), "{}", c.reason);
        let (
            Some(Resource::InstanceMetadataOptions(b)),
            Some(Resource::InstanceMetadataOptions(a)),
        ) = (&c.before, &c.after)
        else {
            panic!()
        };
        assert_eq!(
            (b.http_tokens.as_str(), a.http_tokens.as_str()),
            ("optional", "required")
        );
        assert_eq!(p.control("5.6").status, ControlStatus::WillFix);

        let done = snap_with(vec![(
            "us-east-1",
            Observed::Ok(vec![]),
            Observed::Ok(vec![instance("i-1", "required", "enabled")]),
            vec![],
        )]);
        let after = run(&desired_v3(all_on()), &done);
        assert!(after.changes.is_empty());
        assert_eq!(after.control("5.6").status, ControlStatus::Compliant);
    }

    #[test]
    fn a_failed_instance_read_is_unknown() {
        let s = snap_with(vec![(
            "us-east-1",
            Observed::Ok(vec![]),
            Observed::Failed(denied(instance_metadata::READ, "us-east-1")),
            vec![],
        )]);
        let p = run(&desired_v3(all_on()), &s);
        assert_eq!(p.control("5.6").status, ControlStatus::Unknown);
        assert!(p.changes.is_empty());
    }
}
