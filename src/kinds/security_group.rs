//! Security groups: what EC2 says of them (their rules, by rule id, and
//! the network interfaces that use them), and the two kinds the benchmark's
//! networking controls change.
//!
//! `aws_default_security_group` is the default group of a VPC, as
//! Terraform's resource of that name manages it: the group itself is never
//! made or deleted (EC2 will not delete it), only its rules are set, and the
//! benchmark wants none. `aws_vpc_security_group_ingress_rule` is one
//! ingress rule of any group, Terraform's per-rule type: a rule admitting
//! the whole internet to an administration port is deleted on its own,
//! every other rule of its group staying as it is.
//!
//! Both cut traffic, so each change carries the network interfaces that
//! use the group (`used_by`): the evidence a person needs to judge what
//! stops working. Which rules are "open to the world on an administration
//! port" is decided here ([`SgRule::opens`]), so the diff and its tests
//! share one judgement.

use serde::{Deserialize, Serialize};

use super::{Action, Kind, ReadData, WriteCall};

/// The groups of a region, each with its rules (DescribeSecurityGroups,
/// then DescribeSecurityGroupRules for the rule ids).
pub const READ: &str = "ec2:DescribeSecurityGroups";
pub const READ_RULES: &str = "ec2:DescribeSecurityGroupRules";
/// The network interfaces of a region: who uses each group.
pub const READ_INTERFACES: &str = "ec2:DescribeNetworkInterfaces";

/// The sources that mean "anyone on the internet".
pub const WORLD_V4: &str = "0.0.0.0/0";
pub const WORLD_V6: &str = "::/0";

/// One security group rule, as DescribeSecurityGroupRules gives it: one
/// source or destination per rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgRule {
    pub rule_id: String,
    /// `tcp`, `udp`, `icmp`, a protocol number, or `-1` for all traffic.
    pub protocol: String,
    /// -1 (or absent) with protocol `-1`: every port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_ipv4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_ipv6: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_list_id: Option<String>,
    /// Another group (or the group itself) as the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referenced_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Which internet-wide source a control looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum World {
    /// `0.0.0.0/0`
    Ipv4,
    /// `::/0`
    Ipv6,
}

impl World {
    pub fn cidr(self) -> &'static str {
        match self {
            World::Ipv4 => WORLD_V4,
            World::Ipv6 => WORLD_V6,
        }
    }
}

/// Whether `protocol` carries ports an administration service listens on:
/// TCP, UDP (SSH and RDP are TCP, RDP also UDP) and all traffic. ICMP and
/// other protocols have no ports.
pub fn protocol_has_admin_ports(protocol: &str) -> bool {
    matches!(
        protocol.to_ascii_lowercase().as_str(),
        "-1" | "all" | "tcp" | "6" | "udp" | "17"
    )
}

/// Whether the port range `from..=to` covers `port`; all traffic, or a
/// missing or -1 bound, covers every port.
pub fn range_covers(protocol: &str, from: Option<i32>, to: Option<i32>, port: u16) -> bool {
    if matches!(protocol, "-1" | "all") {
        return true;
    }
    let port = i32::from(port);
    match (from, to) {
        (Some(f), Some(t)) if f >= 0 && t >= 0 => f <= port && port <= t,
        // A TCP/UDP rule without bounds (or -1) is every port.
        _ => true,
    }
}

impl SgRule {
    /// The world source this rule admits, if it admits one of `worlds`.
    pub fn world(&self, worlds: &[World]) -> Option<World> {
        worlds.iter().copied().find(|w| match w {
            World::Ipv4 => self.cidr_ipv4.as_deref() == Some(WORLD_V4),
            World::Ipv6 => self.cidr_ipv6.as_deref() == Some(WORLD_V6),
        })
    }

    /// The ports of `ports` this rule opens to one of `worlds`, and which
    /// world: empty when it opens none.
    pub fn opens(&self, worlds: &[World], ports: &[u16]) -> Option<(World, Vec<u16>)> {
        let w = self.world(worlds)?;
        if !protocol_has_admin_ports(&self.protocol) {
            return None;
        }
        let hit: Vec<u16> = ports
            .iter()
            .copied()
            .filter(|p| range_covers(&self.protocol, self.from_port, self.to_port, *p))
            .collect();
        (!hit.is_empty()).then_some((w, hit))
    }

    /// `tcp 22`, `tcp 0-1024`, `all traffic`, for reasons.
    pub fn ports_text(&self) -> String {
        if matches!(self.protocol.as_str(), "-1" | "all") {
            return "all traffic".into();
        }
        match (self.from_port, self.to_port) {
            (Some(f), Some(t)) if f == t => format!("{} {f}", self.protocol),
            (Some(f), Some(t)) if f >= 0 && t >= 0 => format!("{} {f}-{t}", self.protocol),
            _ => format!("{} all ports", self.protocol),
        }
    }

    /// The rule's source or destination, for reasons.
    pub fn peer(&self) -> String {
        self.cidr_ipv4
            .clone()
            .or_else(|| self.cidr_ipv6.clone())
            .or_else(|| self.prefix_list_id.clone())
            .or_else(|| self.referenced_group_id.clone())
            .unwrap_or_else(|| "?".into())
    }
}

/// One security group of a region, with its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupFacts {
    pub group_id: String,
    pub group_name: String,
    /// Absent for an EC2-Classic group (none exist any more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub ingress: Vec<SgRule>,
    #[serde(default)]
    pub egress: Vec<SgRule>,
}

impl SecurityGroupFacts {
    /// The default group of its VPC: EC2 names it `default`, and no other
    /// group may have that name.
    pub fn is_default(&self) -> bool {
        self.group_name == "default"
    }
}

/// A network interface, as the evidence of who uses a group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceUse {
    pub interface_id: String,
    /// EC2's interface type: `interface` (an instance's), `lambda`,
    /// `nat_gateway`, `vpc_endpoint`, `load_balancer`, …
    pub interface_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Who manages it when not the account (`amazon-elb`, an account id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Its subnet: whose network ACL it is behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
}

impl std::fmt::Display for InterfaceUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}", self.interface_id, self.interface_type)?;
        if let Some(i) = &self.instance_id {
            write!(f, ", instance {i}")?;
        }
        if let Some(r) = &self.requester_id {
            write!(f, ", managed by {r}")?;
        }
        if let Some(d) = self.description.as_deref().filter(|d| !d.is_empty()) {
            write!(f, ", \"{d}\"")?;
        }
        f.write_str(")")
    }
}

/// The interfaces of `all` that use `group_id`, sorted.
pub fn used_by(all: &[InterfaceUse], group_id: &str) -> Vec<InterfaceUse> {
    let mut out: Vec<InterfaceUse> = all
        .iter()
        .filter(|i| i.groups.iter().any(|g| g == group_id))
        .map(|i| InterfaceUse {
            groups: vec![],
            ..i.clone()
        })
        .collect();
    out.sort();
    out
}

pub fn groups_from_read(d: &ReadData) -> Option<&[SecurityGroupFacts]> {
    match d {
        ReadData::SecurityGroups(g) => Some(g),
        _ => None,
    }
}

pub fn interfaces_from_read(d: &ReadData) -> Option<&[InterfaceUse]> {
    match d {
        ReadData::NetworkInterfaces(i) => Some(i),
        _ => None,
    }
}

/// The default security group of one VPC: its rules, and who uses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultSecurityGroup {
    pub group_id: String,
    pub vpc_id: String,
    pub ingress: Vec<SgRule>,
    pub egress: Vec<SgRule>,
    /// The network interfaces in the group (unchanged by the change): what
    /// loses the traffic its rules allowed.
    #[serde(default)]
    pub used_by: Vec<InterfaceUse>,
}

/// Revokes, by rule id, every rule of `before` that `after` does not keep.
fn revocations(
    group_id: &str,
    before: &[SgRule],
    after: &[SgRule],
    egress: bool,
) -> Option<WriteCall> {
    let rule_ids: Vec<String> = before
        .iter()
        .filter(|r| !after.iter().any(|a| a.rule_id == r.rule_id))
        .map(|r| r.rule_id.clone())
        .collect();
    if rule_ids.is_empty() {
        return None;
    }
    let group_id = group_id.to_string();
    Some(if egress {
        WriteCall::RevokeSecurityGroupEgress { group_id, rule_ids }
    } else {
        WriteCall::RevokeSecurityGroupIngress { group_id, rule_ids }
    })
}

impl Kind for DefaultSecurityGroup {
    const TYPE: &'static str = "aws_default_security_group";
    const READ_ACTIONS: &'static [&'static str] = &[READ, READ_RULES, READ_INTERFACES];
    const WRITE_ACTIONS: &'static [&'static str] = &[
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
    ];
    const LABEL: &'static str = "default security group";

    /// Only rules are revoked; the group is never made or deleted (EC2
    /// refuses to delete a default group), and no rule is ever added.
    fn calls(action: Action, before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        match (action, before, after) {
            (Action::Update, Some(b), Some(a)) => [
                revocations(&b.group_id, &b.ingress, &a.ingress, false),
                revocations(&b.group_id, &b.egress, &a.egress, true),
            ]
            .into_iter()
            .flatten()
            .collect(),
            _ => vec![],
        }
    }
}

/// One ingress rule of a security group (Terraform's per-rule type): only
/// ever deleted, by its rule id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupIngressRule {
    pub group_id: String,
    pub group_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(flatten)]
    pub rule: SgRule,
    /// The network interfaces in the group: what loses the access.
    #[serde(default)]
    pub used_by: Vec<InterfaceUse>,
}

impl Kind for SecurityGroupIngressRule {
    const TYPE: &'static str = "aws_vpc_security_group_ingress_rule";
    const READ_ACTIONS: &'static [&'static str] = &[READ, READ_RULES, READ_INTERFACES];
    const WRITE_ACTIONS: &'static [&'static str] = &["ec2:RevokeSecurityGroupIngress"];
    const LABEL: &'static str = "security group ingress rule";

    fn calls(action: Action, before: Option<&Self>, _after: Option<&Self>) -> Vec<WriteCall> {
        match (action, before) {
            (Action::Delete, Some(b)) => vec![WriteCall::RevokeSecurityGroupIngress {
                group_id: b.group_id.clone(),
                rule_ids: vec![b.rule.rule_id.clone()],
            }],
            _ => vec![],
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn rule(id: &str, protocol: &str, from: i32, to: i32, cidr: &str) -> SgRule {
        let v6 = cidr.contains(':');
        SgRule {
            rule_id: id.into(),
            protocol: protocol.into(),
            from_port: Some(from),
            to_port: Some(to),
            cidr_ipv4: (!v6).then(|| cidr.to_string()),
            cidr_ipv6: v6.then(|| cidr.to_string()),
            prefix_list_id: None,
            referenced_group_id: None,
            description: None,
        }
    }

    const BOTH: &[World] = &[World::Ipv4, World::Ipv6];

    #[test]
    fn a_rule_opens_an_admin_port_when_its_range_covers_it_from_the_world() {
        let ports = [22, 3389];
        let opens = |r: &SgRule| r.opens(BOTH, &ports);
        assert_eq!(
            opens(&rule("a", "tcp", 22, 22, WORLD_V4)),
            Some((World::Ipv4, vec![22]))
        );
        // A range covering both, and one covering neither.
        assert_eq!(
            opens(&rule("b", "tcp", 0, 4000, WORLD_V4)),
            Some((World::Ipv4, vec![22, 3389]))
        );
        assert_eq!(opens(&rule("c", "tcp", 80, 443, WORLD_V4)), None);
        assert_eq!(opens(&rule("c2", "tcp", 23, 3388, WORLD_V4)), None);
        // All traffic, with -1 ports.
        assert_eq!(
            opens(&rule("d", "-1", -1, -1, WORLD_V6)),
            Some((World::Ipv6, vec![22, 3389]))
        );
        // UDP counts (RDP listens on UDP 3389 too); ICMP has no ports.
        assert_eq!(
            opens(&rule("e", "udp", 3389, 3389, WORLD_V4)),
            Some((World::Ipv4, vec![3389]))
        );
        assert_eq!(opens(&rule("f", "icmp", -1, -1, WORLD_V4)), None);
        // Not the world: a narrower CIDR, or a group.
        assert_eq!(opens(&rule("g", "tcp", 22, 22, "10.0.0.0/8")), None);
        assert_eq!(opens(&rule("h", "tcp", 22, 22, "0.0.0.0/1")), None);
        let mut by_group = rule("i", "tcp", 22, 22, WORLD_V4);
        by_group.cidr_ipv4 = None;
        by_group.referenced_group_id = Some("sg-1".into());
        assert_eq!(opens(&by_group), None);
        // Only the worlds asked about: ::/0 is not 0.0.0.0/0's control.
        assert_eq!(
            rule("j", "tcp", 22, 22, WORLD_V6).opens(&[World::Ipv4], &ports),
            None
        );
        // The version's ports decide: 445 only where listed.
        assert_eq!(
            rule("k", "tcp", 445, 445, WORLD_V4).opens(BOTH, &[22, 3389, 445]),
            Some((World::Ipv4, vec![445]))
        );
    }

    #[test]
    fn emptying_a_default_group_revokes_each_rule_by_id() {
        let b = DefaultSecurityGroup {
            group_id: "sg-1".into(),
            vpc_id: "vpc-1".into(),
            ingress: vec![rule("sgr-i", "-1", -1, -1, "10.0.0.0/8")],
            egress: vec![
                rule("sgr-e4", "-1", -1, -1, WORLD_V4),
                rule("sgr-e6", "-1", -1, -1, WORLD_V6),
            ],
            used_by: vec![],
        };
        let a = DefaultSecurityGroup {
            ingress: vec![],
            egress: vec![],
            ..b.clone()
        };
        assert_eq!(
            DefaultSecurityGroup::calls(Action::Update, Some(&b), Some(&a)),
            [
                WriteCall::RevokeSecurityGroupIngress {
                    group_id: "sg-1".into(),
                    rule_ids: vec!["sgr-i".into()]
                },
                WriteCall::RevokeSecurityGroupEgress {
                    group_id: "sg-1".into(),
                    rule_ids: vec!["sgr-e4".into(), "sgr-e6".into()]
                },
            ]
        );
        assert!(DefaultSecurityGroup::calls(Action::Update, Some(&a), Some(&a)).is_empty());
        assert!(DefaultSecurityGroup::calls(Action::Delete, Some(&b), None).is_empty());
    }

    #[test]
    fn interfaces_in_a_group_are_its_evidence() {
        let eni = |id: &str, groups: &[&str]| InterfaceUse {
            interface_id: id.into(),
            interface_type: "interface".into(),
            instance_id: Some(format!("i-{id}")),
            requester_id: None,
            description: Some("web".into()),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            subnet_id: None,
        };
        let all = [
            eni("eni-2", &["sg-1"]),
            eni("eni-1", &["sg-2", "sg-1"]),
            eni("eni-3", &["sg-2"]),
        ];
        let got = used_by(&all, "sg-1");
        assert_eq!(
            got.iter()
                .map(|i| i.interface_id.as_str())
                .collect::<Vec<_>>(),
            ["eni-1", "eni-2"]
        );
        assert_eq!(
            got[0].to_string(),
            "eni-1 (interface, instance i-eni-1, \"web\")"
        );
    }
}
