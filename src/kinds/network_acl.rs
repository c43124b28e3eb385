//! Network ACLs: what EC2 says of them (their numbered entries, the subnets
//! they guard), whether one admits the internet to an administration port,
//! and the one kind the benchmark's NACL control adds.
//!
//! A network ACL is judged the way EC2 evaluates it: its inbound entries in
//! rule-number order, the first entry that matches a packet deciding. It
//! admits the world (`0.0.0.0/0`, `::/0`) to a port when an `allow` entry
//! for the whole world covers the port and no lower-numbered `deny` for the
//! whole world covers it first. An entry for a narrower range decides only
//! for that range, so it neither opens nor closes the port to the world.
//!
//! The fix adds, just below the allowing entry, a `deny` for the world on
//! that port (`aws_network_acl_rule`, Terraform's per-entry type) rather
//! than deleting or rewriting the allowing entry: the allowing entry is
//! often the default ACL's "allow all" (rule 100), whose removal would cut
//! every subnet off. The deny closes exactly the administration port, the
//! user's entries all stay, and undoing it is deleting one entry.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::security_group::{InterfaceUse, World};
use super::{Action, Kind, ReadData, WriteCall};

/// The network ACLs of a region, with their entries and subnets.
pub const READ: &str = "ec2:DescribeNetworkAcls";
pub const WRITE: &str = "ec2:CreateNetworkAclEntry";

/// The entry EC2 adds to every ACL as its last rule; it cannot be changed.
pub const LAST_RULE: i32 = 32767;

/// The transport protocols an administration port is judged (and closed)
/// on, as NACL protocol numbers: TCP and UDP (RDP listens on both), the
/// same as the security-group controls judge.
pub const PORT_PROTOCOLS: [(&str, &str); 2] = [("6", "tcp"), ("17", "udp")];

/// One entry of a network ACL, as DescribeNetworkAcls gives it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NaclEntry {
    pub rule_number: i32,
    pub egress: bool,
    /// A protocol number (`6` TCP, `17` UDP, `1` ICMP) or `-1` for all.
    pub protocol: String,
    /// `allow` or `deny`.
    pub rule_action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_ipv4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_ipv6: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_port: Option<i32>,
}

impl NaclEntry {
    fn is_allow(&self) -> bool {
        self.rule_action.eq_ignore_ascii_case("allow")
    }

    fn for_world(&self, world: World) -> bool {
        match world {
            World::Ipv4 => self.cidr_ipv4.as_deref() == Some(World::Ipv4.cidr()),
            World::Ipv6 => self.cidr_ipv6.as_deref() == Some(World::Ipv6.cidr()),
        }
    }

    /// Whether the entry matches packets of `protocol` (a number) to `port`.
    fn covers(&self, protocol: &str, port: u16) -> bool {
        let all = matches!(self.protocol.as_str(), "-1" | "all");
        if !all && self.protocol != protocol {
            return false;
        }
        if all {
            return true;
        }
        let port = i32::from(port);
        match (self.from_port, self.to_port) {
            (Some(f), Some(t)) => f <= port && port <= t,
            // A TCP/UDP entry always has a range; none means every port.
            _ => true,
        }
    }

    /// `tcp 22`, `all traffic`, `tcp 0-65535`, for reasons.
    pub fn ports_text(&self) -> String {
        let name = match self.protocol.as_str() {
            "-1" | "all" => return "all traffic".into(),
            "6" => "tcp".to_string(),
            "17" => "udp".to_string(),
            "1" => "icmp".to_string(),
            other => format!("protocol {other}"),
        };
        match (self.from_port, self.to_port) {
            (Some(f), Some(t)) if f == t => format!("{name} {f}"),
            (Some(f), Some(t)) => format!("{name} {f}-{t}"),
            _ => name,
        }
    }
}

/// One network ACL of a region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkAclFacts {
    pub network_acl_id: String,
    pub vpc_id: String,
    /// The VPC's default ACL: every subnet not given another uses it.
    pub is_default: bool,
    /// The account that owns it: in a VPC shared with this account, the
    /// VPC owner's, which only that account can change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    /// The subnets it guards.
    #[serde(default)]
    pub subnets: Vec<String>,
    /// Inbound and outbound, sorted by direction and rule number.
    #[serde(default)]
    pub entries: Vec<NaclEntry>,
}

/// The world admitted to a port over a protocol, and the entry that
/// admits it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Opening {
    /// The entry deciding for the world (the lowest-numbered match).
    pub allowed_by: i32,
    pub world: World,
    pub port: u16,
    pub protocol_name: &'static str,
    /// `6` or `17`.
    pub protocol: &'static str,
}

impl NetworkAclFacts {
    fn inbound(&self) -> impl Iterator<Item = &NaclEntry> {
        let mut v: Vec<&NaclEntry> = self.entries.iter().filter(|e| !e.egress).collect();
        v.sort_by_key(|e| e.rule_number);
        v.into_iter()
    }

    /// The entry that decides for packets from the whole `world` to `port`
    /// over `protocol`, if one admits them.
    fn admits(&self, world: World, protocol: &str, port: u16) -> Option<&NaclEntry> {
        self.inbound()
            .find(|e| e.for_world(world) && e.covers(protocol, port))
            .filter(|e| e.is_allow())
    }

    /// Every (world, port, protocol) of the control this ACL admits, in a
    /// stable order.
    pub fn openings(&self, worlds: &[World], ports: &[u16]) -> Vec<Opening> {
        let mut out = vec![];
        for &world in worlds {
            for &port in ports {
                for (protocol, protocol_name) in PORT_PROTOCOLS {
                    if let Some(e) = self.admits(world, protocol, port) {
                        out.push(Opening {
                            allowed_by: e.rule_number,
                            world,
                            port,
                            protocol,
                            protocol_name,
                        });
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// Free inbound rule numbers below `below`, highest first.
    pub fn free_numbers_below(&self, below: i32) -> impl Iterator<Item = i32> + '_ {
        (1..below).rev().filter(move |n| {
            !self
                .entries
                .iter()
                .any(|e| !e.egress && e.rule_number == *n)
        })
    }

    /// The user's entries numbered below the one admitting the world that
    /// also match `o`'s packets (narrower ranges of the same address
    /// family): they decide first, and must go on deciding first.
    pub fn decided_before(&self, o: &Opening) -> Vec<i32> {
        self.inbound()
            .filter(|e| e.rule_number < o.allowed_by)
            .filter(|e| match o.world {
                World::Ipv4 => e.cidr_ipv4.is_some(),
                World::Ipv6 => e.cidr_ipv6.is_some(),
            })
            .filter(|e| e.covers(o.protocol, o.port))
            .map(|e| e.rule_number)
            .collect()
    }

    /// Where a deny closing `o` can go: after every entry in
    /// [`Self::decided_before`] (the office's narrower SSH allow still
    /// comes first) and before the entry admitting the world; the highest
    /// free number in that gap not in `taken`, or none when it is full.
    pub fn deny_slot(&self, o: &Opening, taken: &BTreeSet<i32>) -> Option<i32> {
        let after = self.decided_before(o).into_iter().max().unwrap_or(0);
        self.free_numbers_below(o.allowed_by)
            .take_while(|n| *n > after)
            .find(|n| !taken.contains(n))
    }
}

pub fn acls_from_read(d: &ReadData) -> Option<&[NetworkAclFacts]> {
    match d {
        ReadData::NetworkAcls(a) => Some(a),
        _ => None,
    }
}

/// The interfaces of `all` in one of `subnets`, sorted: who loses access
/// when the ACL of those subnets closes a port.
pub fn in_subnets(all: &[InterfaceUse], subnets: &[String]) -> Vec<InterfaceUse> {
    let mut out: Vec<InterfaceUse> = all
        .iter()
        .filter(|i| {
            i.subnet_id
                .as_ref()
                .is_some_and(|s| subnets.iter().any(|x| x == s))
        })
        .map(|i| InterfaceUse {
            groups: vec![],
            ..i.clone()
        })
        .collect();
    out.sort();
    out
}

/// One inbound `deny` entry cis-fix adds to a network ACL, closing one
/// administration port to the world (Terraform's `aws_network_acl_rule`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkAclRule {
    pub network_acl_id: String,
    pub vpc_id: String,
    pub rule_number: i32,
    pub egress: bool,
    /// `6` (TCP) or `17` (UDP).
    pub protocol: String,
    pub rule_action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_cidr_block: Option<String>,
    pub from_port: i32,
    pub to_port: i32,
    /// The subnets the ACL guards (unchanged by the change).
    #[serde(default)]
    pub subnets: Vec<String>,
    /// The network interfaces in those subnets: what loses the access.
    #[serde(default)]
    pub used_by: Vec<InterfaceUse>,
}

impl NetworkAclRule {
    /// The deny closing `o` in `acl`, numbered `rule_number`.
    pub fn deny(
        acl: &NetworkAclFacts,
        o: &Opening,
        rule_number: i32,
        used_by: Vec<InterfaceUse>,
    ) -> Self {
        NetworkAclRule {
            network_acl_id: acl.network_acl_id.clone(),
            vpc_id: acl.vpc_id.clone(),
            rule_number,
            egress: false,
            protocol: o.protocol.to_string(),
            rule_action: "deny".into(),
            cidr_block: (o.world == World::Ipv4).then(|| World::Ipv4.cidr().to_string()),
            ipv6_cidr_block: (o.world == World::Ipv6).then(|| World::Ipv6.cidr().to_string()),
            from_port: i32::from(o.port),
            to_port: i32::from(o.port),
            subnets: acl.subnets.clone(),
            used_by,
        }
    }
}

/// The entry to create, as the write call carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewNaclEntry {
    pub network_acl_id: String,
    pub entry: NaclEntry,
}

impl Kind for NetworkAclRule {
    const TYPE: &'static str = "aws_network_acl_rule";
    const READ_ACTIONS: &'static [&'static str] = &[READ, super::security_group::READ_INTERFACES];
    const WRITE_ACTIONS: &'static [&'static str] = &[WRITE];
    const LABEL: &'static str = "network ACL entry";

    /// Only ever created: cis-fix adds denies and never removes or
    /// replaces an entry.
    fn calls(action: Action, _before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        match (action, after) {
            (Action::Create, Some(a)) => vec![WriteCall::CreateNetworkAclEntry(NewNaclEntry {
                network_acl_id: a.network_acl_id.clone(),
                entry: NaclEntry {
                    rule_number: a.rule_number,
                    egress: a.egress,
                    protocol: a.protocol.clone(),
                    rule_action: a.rule_action.clone(),
                    cidr_ipv4: a.cidr_block.clone(),
                    cidr_ipv6: a.ipv6_cidr_block.clone(),
                    from_port: Some(a.from_port),
                    to_port: Some(a.to_port),
                },
            })],
            _ => vec![],
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn entry(
        n: i32,
        action: &str,
        protocol: &str,
        ports: Option<(i32, i32)>,
        cidr: &str,
    ) -> NaclEntry {
        let v6 = cidr.contains(':');
        NaclEntry {
            rule_number: n,
            egress: false,
            protocol: protocol.into(),
            rule_action: action.into(),
            cidr_ipv4: (!v6).then(|| cidr.to_string()),
            cidr_ipv6: v6.then(|| cidr.to_string()),
            from_port: ports.map(|p| p.0),
            to_port: ports.map(|p| p.1),
        }
    }

    pub(crate) fn acl(entries: Vec<NaclEntry>) -> NetworkAclFacts {
        NetworkAclFacts {
            network_acl_id: "acl-1".into(),
            vpc_id: "vpc-1".into(),
            is_default: true,
            owner_id: None,
            subnets: vec!["subnet-1".into()],
            entries,
        }
    }

    /// The default ACL EC2 makes: allow everything at 100, the fixed deny
    /// last.
    pub(crate) fn default_entries() -> Vec<NaclEntry> {
        vec![
            entry(100, "allow", "-1", None, "0.0.0.0/0"),
            entry(LAST_RULE, "deny", "-1", None, "0.0.0.0/0"),
        ]
    }

    const V4: &[World] = &[World::Ipv4];

    fn opened(a: &NetworkAclFacts, worlds: &[World]) -> Vec<(i32, u16, &'static str)> {
        a.openings(worlds, &[22, 3389])
            .into_iter()
            .map(|o| (o.allowed_by, o.port, o.protocol_name))
            .collect()
    }

    #[test]
    fn the_default_acl_admits_the_world_to_every_admin_port() {
        assert_eq!(
            opened(&acl(default_entries()), V4),
            [
                (100, 22, "tcp"),
                (100, 22, "udp"),
                (100, 3389, "tcp"),
                (100, 3389, "udp")
            ]
        );
    }

    #[test]
    fn the_first_matching_entry_decides() {
        let mut e = default_entries();
        // Denies for the world below the allow close those ports.
        e.push(entry(90, "deny", "6", Some((22, 22)), "0.0.0.0/0"));
        e.push(entry(91, "deny", "17", Some((22, 22)), "0.0.0.0/0"));
        e.push(entry(92, "deny", "6", Some((3000, 4000)), "0.0.0.0/0"));
        assert_eq!(opened(&acl(e.clone()), V4), [(100, 3389, "udp")]);
        // A deny numbered above the allow decides nothing.
        let mut above = default_entries();
        above.push(entry(200, "deny", "6", Some((22, 22)), "0.0.0.0/0"));
        assert_eq!(opened(&acl(above), V4).len(), 4);
        // A deny of a narrower range leaves the rest of the world admitted.
        let mut narrow = default_entries();
        narrow.push(entry(50, "deny", "-1", None, "10.0.0.0/8"));
        assert_eq!(opened(&acl(narrow), V4).len(), 4);
        // An allow of a narrower range is not the world.
        let only_office = vec![
            entry(10, "allow", "6", Some((22, 22)), "203.0.113.0/24"),
            entry(LAST_RULE, "deny", "-1", None, "0.0.0.0/0"),
        ];
        assert!(opened(&acl(only_office), V4).is_empty());
        // A world deny of all traffic first closes everything.
        let closed = vec![
            entry(1, "deny", "-1", None, "0.0.0.0/0"),
            entry(100, "allow", "-1", None, "0.0.0.0/0"),
        ];
        assert!(opened(&acl(closed), V4).is_empty());
    }

    #[test]
    fn ranges_protocols_and_worlds() {
        let e = vec![
            entry(100, "allow", "6", Some((0, 1024)), "0.0.0.0/0"),
            entry(110, "allow", "17", Some((3389, 3389)), "::/0"),
            entry(120, "allow", "1", None, "0.0.0.0/0"),
        ];
        let a = acl(e);
        assert_eq!(opened(&a, V4), [(100, 22, "tcp")]);
        assert_eq!(
            opened(&a, &[World::Ipv4, World::Ipv6]),
            [(100, 22, "tcp"), (110, 3389, "udp")]
        );
        // Outbound entries are not inbound.
        let mut out = entry(100, "allow", "-1", None, "0.0.0.0/0");
        out.egress = true;
        assert!(opened(&acl(vec![out]), V4).is_empty());
    }

    #[test]
    fn free_numbers_are_taken_just_below_the_allow() {
        let mut e = default_entries();
        e.push(entry(99, "allow", "6", Some((443, 443)), "0.0.0.0/0"));
        let mut out99 = entry(98, "allow", "-1", None, "0.0.0.0/0");
        out99.egress = true;
        e.push(out99);
        let a = acl(e);
        // 99 is taken inbound; 98 only outbound, so free inbound.
        assert_eq!(
            a.free_numbers_below(100).take(2).collect::<Vec<_>>(),
            [98, 97]
        );
        assert_eq!(a.free_numbers_below(1).count(), 0);
    }

    #[test]
    fn a_deny_goes_after_the_users_narrower_entries_for_that_port() {
        let a = acl(vec![
            entry(10, "allow", "6", Some((22, 22)), "203.0.113.0/24"),
            entry(11, "allow", "-1", None, "0.0.0.0/0"),
            entry(LAST_RULE, "deny", "-1", None, "0.0.0.0/0"),
        ]);
        let open = a.openings(V4, &[22, 3389]);
        let find = |port: u16| {
            open.iter()
                .find(|o| o.port == port && o.protocol == "6")
                .expect("open")
        };
        // 10 decides for the office first and nothing lies between 10 and
        // 11: no deny can go there without cutting the office off.
        assert_eq!(a.decided_before(find(22)), [10]);
        assert_eq!(a.deny_slot(find(22), &BTreeSet::new()), None);
        // RDP has no narrower entry: any free number below 11.
        assert_eq!(a.deny_slot(find(3389), &BTreeSet::new()), Some(9));
        // With room, between the office's entry and the allow, skipping
        // numbers this plan already gave out.
        let roomy = acl(vec![
            entry(10, "allow", "6", Some((22, 22)), "203.0.113.0/24"),
            entry(100, "allow", "-1", None, "0.0.0.0/0"),
        ]);
        let o = &roomy.openings(V4, &[22])[0];
        assert_eq!(roomy.deny_slot(o, &BTreeSet::from([99])), Some(98));
        // An IPv6 entry never matches the same packets as an IPv4 one.
        let v6 = acl(vec![
            entry(10, "allow", "6", Some((22, 22)), "2001:db8::/32"),
            entry(11, "allow", "-1", None, "0.0.0.0/0"),
        ]);
        let o = &v6.openings(V4, &[22])[0];
        assert!(v6.decided_before(o).is_empty());
        assert_eq!(v6.deny_slot(o, &BTreeSet::new()), Some(9));
    }

    #[test]
    fn a_deny_is_created_and_never_removed() {
        let a = acl(default_entries());
        let o = &a.openings(V4, &[22])[0];
        let r = NetworkAclRule::deny(&a, o, 99, vec![]);
        assert_eq!(
            NetworkAclRule::calls(Action::Create, None, Some(&r)),
            [WriteCall::CreateNetworkAclEntry(NewNaclEntry {
                network_acl_id: "acl-1".into(),
                entry: entry(99, "deny", "6", Some((22, 22)), "0.0.0.0/0"),
            })]
        );
        assert!(NetworkAclRule::calls(Action::Delete, Some(&r), None).is_empty());
    }
}
