//! The networking controls, in every planned region: the default security
//! group of every VPC has no rules; no security group rule admits the
//! internet (0.0.0.0/0, ::/0, as the control says) to an administration
//! port, and no network ACL either ([`nacl`]); EBS encryption is on by
//! default; every instance requires IMDSv2 ([`imds`]).
//!
//! Emptying a default group or revoking a rule can cut a running workload
//! off, so those changes carry their evidence (the network interfaces in the
//! group: instances, load balancers, Lambda functions, endpoints) and are
//! made only with the user's opt-in (`--allow-destructive`, or
//! `destructive:` in cis-fix.yaml). Without it they are held back: shown,
//! never applied, and their control is `blocked` with a `needs_opt_in`
//! cause naming the flag and the setting. EBS encryption by default changes
//! only new volumes and is always planned.
//!
//! A region whose reads failed leaves its controls `unknown`, naming the
//! read and region; nothing is planned there, while the other regions are
//! still planned (each change rests only on its own region's facts). The
//! evidence is part of the facts: without the interfaces no group change is
//! planned either.

use std::collections::BTreeMap;

use super::builder::PlanBuilder;
use crate::address::Address;
use crate::benchmark::{Benchmark, Control};
use crate::desired::{AdminPortsControl, Desired, KmsControl};
use crate::kinds::security_group::{self, InterfaceUse, SecurityGroupFacts, used_by};
use crate::kinds::{
    Action, DefaultSecurityGroup, EbsEncryptionByDefault, InstanceMetadataOptions, Kind,
    NetworkAclRule, Resource, SecurityGroupIngressRule, ebs_encryption,
};
use crate::observed::CallFailure;
use crate::plan::{Cause, Change, ControlStatus, OptIn};
use crate::snapshot::Snapshot;

pub const DEFAULT_SG: super::Family = super::Family {
    kind: crate::benchmark::Kind::DefaultSg,
    resource_kinds: &[DefaultSecurityGroup::TYPE],
    needs: |_, _| {
        "no inbound or outbound rule in the default security group of every VPC in every planned region (revoking them needs the destructive opt-in)".into()
    },
};

pub const SG_ADMIN_PORTS: super::Family = super::Family {
    kind: crate::benchmark::Kind::SgAdminPorts,
    resource_kinds: &[SecurityGroupIngressRule::TYPE],
    needs: admin_needs,
};

pub const NACL_ADMIN_PORTS: super::Family = super::Family {
    kind: crate::benchmark::Kind::NaclAdminPorts,
    resource_kinds: &[NetworkAclRule::TYPE],
    needs: nacl::needs,
};

pub const IMDSV2: super::Family = super::Family {
    kind: crate::benchmark::Kind::Imdsv2,
    resource_kinds: &[InstanceMetadataOptions::TYPE],
    needs: |_, _| {
        "IMDSv2 required (HttpTokens required, or the metadata endpoint off) on every instance in every planned region (requiring it needs the destructive opt-in)".into()
    },
};

pub const EBS: super::Family = super::Family {
    kind: crate::benchmark::Kind::EbsEncryption,
    resource_kinds: &[EbsEncryptionByDefault::TYPE],
    needs: |_, _| "EBS encryption by default on in every planned region".into(),
};

fn admin_needs(_b: &Benchmark, c: &Control) -> String {
    match &c.admin_ports {
        Some(a) => format!(
            "no security group ingress rule admitting {} to a port range covering {} (TCP, UDP or all traffic) in every planned region (revoking them needs the destructive opt-in)",
            a.sources
                .iter()
                .map(|w| w.cidr())
                .collect::<Vec<_>>()
                .join(" or "),
            a.ports
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "(the control names no ports)".into(),
    }
}

/// One region's groups and interfaces, or why they could not be read.
struct Region<'a> {
    name: String,
    facts: Result<(&'a [SecurityGroupFacts], &'a [InterfaceUse]), CallFailure>,
}

fn groups_of(snap: &Snapshot) -> (Vec<Region<'_>>, Option<CallFailure>) {
    let (names, failed) = snap.regions_for(security_group::READ);
    let out = names
        .into_iter()
        .map(|name| {
            let facts = snap
                .read(
                    security_group::READ,
                    &name,
                    None,
                    security_group::groups_from_read,
                )
                .and_then(|g| {
                    snap.read(
                        security_group::READ_INTERFACES,
                        &name,
                        None,
                        security_group::interfaces_from_read,
                    )
                    .map(|i| (g, i))
                });
            Region { name, facts }
        })
        .collect();
    (out, failed)
}

/// `3 groups`, `1 group`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// "used by eni-1 (interface, instance i-1), …" or "used by no network
/// interface".
fn evidence(used: &[InterfaceUse]) -> String {
    if used.is_empty() {
        "no network interface uses it".into()
    } else {
        format!(
            "used by {}: {}",
            count(used.len(), "network interface"),
            used.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The verdict of a control whose regions were surveyed: unknown on a
/// failure, compliant with nothing to do, will-fix when every change is
/// planned, blocked on the opt-in when one is held back.
#[derive(Default)]
struct Verdict {
    failed: Vec<CallFailure>,
    planned: usize,
    held: Vec<(OptIn, String)>,
    /// What cis-fix cannot fix: a person must.
    stuck: Vec<String>,
    found: Vec<String>,
    compliant: String,
}

impl Verdict {
    fn new(failed: Option<CallFailure>) -> Self {
        Verdict {
            failed: failed.into_iter().collect(),
            ..Verdict::default()
        }
    }

    fn report(self, out: &mut PlanBuilder, controls: &[(&str, &str)]) {
        let (status, reason, cause) = if let Some(first) = self.failed.first() {
            (
                ControlStatus::Unknown,
                format!(
                    "cannot tell: {}; nothing is planned where it could not be read{}",
                    self.failed
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                    if self.found.is_empty() {
                        String::new()
                    } else {
                        format!("; elsewhere: {}", self.found.join("; "))
                    }
                ),
                Some(Cause::ReadFailed {
                    failure: Box::new(first.clone()),
                }),
            )
        } else if self.found.is_empty() {
            (ControlStatus::Compliant, self.compliant, None)
        } else if !self.stuck.is_empty() {
            (
                ControlStatus::Blocked,
                format!(
                    "{}; cis-fix cannot fix: {}{}",
                    self.found.join("; "),
                    self.stuck.join("; "),
                    if self.held.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; held back until you opt in: {}",
                            self.held
                                .iter()
                                .map(|(_, a)| a.clone())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                ),
                // Not the opt-in's cause even when some changes wait for
                // it: a person must act whatever the opt-in, and an
                // exception of what waits must not hide what is stuck.
                None,
            )
        } else if let Some((opt_in, _)) = self.held.first() {
            (
                ControlStatus::Blocked,
                format!(
                    "{}; held back until you opt in ({}): {}",
                    self.found.join("; "),
                    opt_in.how(),
                    self.held
                        .iter()
                        .map(|(_, a)| a.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Some(Cause::needs_opt_in(*opt_in)),
            )
        } else {
            (
                ControlStatus::WillFix,
                format!(
                    "{}; {} planned",
                    self.found.join("; "),
                    count(self.planned, "change")
                ),
                None,
            )
        };
        for (id, title) in controls {
            out.control((id, title), status, reason.clone(), cause.clone());
        }
    }
}

pub fn plan(d: &Desired, snap: &Snapshot, out: &mut PlanBuilder) {
    let n = &d.network;
    if !n.default_sg.is_empty() || !n.admin_ports.is_empty() {
        let (regions, failed) = groups_of(snap);
        let default_addresses = default_groups(
            &n.default_sg,
            &regions,
            failed.clone(),
            d.destructive.default_security_groups,
            out,
        );
        for c in &n.admin_ports {
            admin_ports(
                c,
                &regions,
                failed.clone(),
                &default_addresses,
                d.destructive.admin_port_rules,
                out,
            );
        }
    }
    if !n.ebs.is_empty() {
        ebs(&n.ebs, snap, out);
    }
    for c in &n.nacl_admin_ports {
        nacl::plan(c, snap, d.destructive.network_acl_rules, out);
    }
    if !n.imdsv2.is_empty() {
        imds::plan(&n.imdsv2, snap, d.destructive.instance_metadata, out);
    }
}

/// Plans (or holds back) emptying every default group with rules; returns
/// the address of each default group's change by group id, so the
/// administration-ports controls are served by it rather than revoking the
/// same rule twice.
fn default_groups(
    controls: &[KmsControl],
    regions: &[Region<'_>],
    failed: Option<CallFailure>,
    allowed: bool,
    out: &mut PlanBuilder,
) -> BTreeMap<String, Address> {
    let mut addresses = BTreeMap::new();
    let mut v = Verdict::new(failed);
    let mut vpcs = 0;
    for r in regions {
        let (groups, interfaces) = match &r.facts {
            Ok(f) => *f,
            Err(f) => {
                v.failed.push(f.clone());
                continue;
            }
        };
        for g in groups.iter().filter(|g| g.is_default()) {
            vpcs += 1;
            if g.ingress.is_empty() && g.egress.is_empty() {
                continue;
            }
            let vpc = g.vpc_id.clone().unwrap_or_default();
            let used = used_by(interfaces, &g.group_id);
            let before = DefaultSecurityGroup {
                group_id: g.group_id.clone(),
                vpc_id: vpc.clone(),
                ingress: g.ingress.clone(),
                egress: g.egress.clone(),
                used_by: used.clone(),
            };
            let after = DefaultSecurityGroup {
                ingress: vec![],
                egress: vec![],
                ..before.clone()
            };
            let address = Address::new(&out.at(&r.name), DefaultSecurityGroup::TYPE, "default")
                .with_key(&g.group_id);
            let what = format!(
                "default security group {} of {vpc} in {} has {} and {}",
                g.group_id,
                r.name,
                count(g.ingress.len(), "inbound rule"),
                count(g.egress.len(), "outbound rule"),
            );
            let change = Change {
                address: address.clone(),
                action: Action::Update,
                controls: controls.iter().map(|c| c.id.clone()).collect(),
                reason: format!(
                    "{what}; every rule is revoked, so it admits and sends nothing; {}",
                    evidence(&used)
                ),
                before: Some(Resource::DefaultSecurityGroup(before)),
                after: Some(Resource::DefaultSecurityGroup(after)),
                depends_on: vec![],
            };
            if out.change_or_hold(change, OptIn::DefaultSecurityGroups, allowed) {
                v.planned += 1;
            } else {
                v.held
                    .push((OptIn::DefaultSecurityGroups, address.to_string()));
            }
            v.found.push(format!("{what} ({})", evidence(&used)));
            addresses.insert(g.group_id.clone(), address);
        }
    }
    let region_count = regions.len();
    v.compliant = format!(
        "the default security group{} of {} in {} {} no rules",
        if vpcs == 1 { "" } else { "s" },
        count(vpcs, "VPC"),
        count(region_count, "region"),
        if vpcs == 1 { "has" } else { "have" }
    );
    let ids: Vec<(&str, &str)> = controls
        .iter()
        .map(|c| (c.id.as_str(), c.title.as_str()))
        .collect();
    v.report(out, &ids);
    addresses
}

/// Plans (or holds back) revoking each ingress rule that opens one of the
/// control's ports to one of its sources. A rule of a default group is
/// left to that group's change, which this control then serves too.
fn admin_ports(
    c: &AdminPortsControl,
    regions: &[Region<'_>],
    failed: Option<CallFailure>,
    default_changes: &BTreeMap<String, Address>,
    allowed: bool,
    out: &mut PlanBuilder,
) {
    let mut v = Verdict::new(failed);
    for r in regions {
        let (groups, interfaces) = match &r.facts {
            Ok(f) => *f,
            Err(f) => {
                v.failed.push(f.clone());
                continue;
            }
        };
        for g in groups {
            for rule in &g.ingress {
                let Some((world, ports)) = rule.opens(&c.check.sources, &c.check.ports) else {
                    continue;
                };
                let used = used_by(interfaces, &g.group_id);
                let what = format!(
                    "{} ({}) in {} admits {} to {} (rule {}, {}; port{} {})",
                    g.group_id,
                    g.group_name,
                    r.name,
                    world.cidr(),
                    if ports.len() == 1 {
                        "an administration port"
                    } else {
                        "administration ports"
                    },
                    rule.rule_id,
                    rule.ports_text(),
                    if ports.len() == 1 { "" } else { "s" },
                    ports
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                );
                v.found.push(format!("{what} ({})", evidence(&used)));
                // A default group's rules all go with the group's change.
                if let Some(a) = default_changes.get(&g.group_id) {
                    serve_or_hold(out, a, &c.id, &mut v);
                    continue;
                }
                let address =
                    Address::new(&out.at(&r.name), SecurityGroupIngressRule::TYPE, "admin")
                        .with_key(&rule.rule_id);
                // Another administration-ports control already planned it
                // (v1.2.0 has one for 22 and one for 3389).
                if out.changes.iter().any(|x| x.address == address)
                    || out.held_back.iter().any(|h| h.change.address == address)
                {
                    serve_or_hold(out, &address, &c.id, &mut v);
                    continue;
                }
                let change = Change {
                    address: address.clone(),
                    action: Action::Delete,
                    controls: vec![c.id.clone()],
                    reason: format!(
                        "{what}; the rule is revoked, its group's other rules stay; {}",
                        evidence(&used)
                    ),
                    before: Some(Resource::SecurityGroupIngressRule(
                        SecurityGroupIngressRule {
                            group_id: g.group_id.clone(),
                            group_name: g.group_name.clone(),
                            vpc_id: g.vpc_id.clone(),
                            rule: rule.clone(),
                            used_by: used,
                        },
                    )),
                    after: None,
                    depends_on: vec![],
                };
                if out.change_or_hold(change, OptIn::AdminPortRules, allowed) {
                    v.planned += 1;
                } else {
                    v.held.push((OptIn::AdminPortRules, address.to_string()));
                }
            }
        }
    }
    v.compliant = format!(
        "no security group rule in {} admits {} to port{} {}",
        count(regions.len(), "region"),
        c.check
            .sources
            .iter()
            .map(|w| w.cidr())
            .collect::<Vec<_>>()
            .join(" or "),
        if c.check.ports.len() == 1 { "" } else { "s" },
        c.check
            .ports
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    v.report(out, &[(c.id.as_str(), c.title.as_str())]);
}

/// Makes the change at `address` serve control `id` too, planned or held
/// back, and counts it in the control's verdict.
fn serve_or_hold(out: &mut PlanBuilder, address: &Address, id: &str, v: &mut Verdict) {
    if out.changes.iter().any(|x| &x.address == address) {
        out.serve(address, id);
        v.planned += 1;
    } else if let Some(h) = out
        .held_back
        .iter_mut()
        .find(|h| &h.change.address == address)
    {
        if !h.change.controls.iter().any(|x| x == id) {
            h.change.controls.push(id.to_string());
        }
        v.held.push((h.opt_in, address.to_string()));
    }
}

/// EBS encryption by default, per planned region: turned on where it is
/// off (safe: only new volumes are affected).
fn ebs(controls: &[KmsControl], snap: &Snapshot, out: &mut PlanBuilder) {
    let (regions, failed) = snap.regions_for(ebs_encryption::READ);
    let mut v = Verdict::new(failed);
    let mut addresses = vec![];
    for r in &regions {
        match snap.read(ebs_encryption::READ, r, None, ebs_encryption::from_read) {
            Ok(true) => {}
            Ok(false) => {
                let address = Address::new(&out.at(r), EbsEncryptionByDefault::TYPE, "this");
                out.change(Change {
                    address: address.clone(),
                    action: Action::Update,
                    controls: controls.iter().map(|c| c.id.clone()).collect(),
                    reason: format!(
                        "EBS encryption by default is off in {r}: new volumes are encrypted with the region's default EBS key once it is on; existing volumes are unchanged"
                    ),
                    before: Some(Resource::EbsEncryptionByDefault(EbsEncryptionByDefault {
                        enabled: false,
                    })),
                    after: Some(Resource::EbsEncryptionByDefault(EbsEncryptionByDefault {
                        enabled: true,
                    })),
                    depends_on: vec![],
                });
                addresses.push(address);
                v.planned += 1;
                v.found.push(format!("off in {r}"));
            }
            Err(f) => v.failed.push(f),
        }
    }
    v.compliant = format!("on in all {}", count(regions.len(), "planned region"));
    if !v.found.is_empty() {
        v.found = vec![format!(
            "EBS encryption by default is {}; it is turned on",
            v.found.join(", ")
        )];
    }
    let ids: Vec<(&str, &str)> = controls
        .iter()
        .map(|c| (c.id.as_str(), c.title.as_str()))
        .collect();
    v.report(out, &ids);
}

mod imds;
mod nacl;
#[cfg(test)]
mod tests;
