//! No network ACL admits the internet to an administration port: judged as
//! EC2 evaluates an ACL (first matching entry by rule number), fixed by a
//! `deny` for the world on each open port placed just below the entry that
//! admits it, so every entry of the user stays and decides as before for
//! everything else (see `kinds::network_acl` for why not delete).
//!
//! A deny can cut administrators (or anything reaching those ports from the
//! internet) off every subnet behind the ACL, so each change carries the
//! subnets and their network interfaces and waits for the
//! `network_acl_rules` opt-in. Where no rule number is free below the
//! allowing entry, a person must renumber: the control is `blocked`.

use std::collections::BTreeSet;

use super::{PlanBuilder, Verdict, count, serve_or_hold};
use crate::address::Address;
use crate::benchmark::{Benchmark, Control};
use crate::desired::AdminPortsControl;
use crate::kinds::network_acl::{self, NetworkAclRule, in_subnets};
use crate::kinds::security_group::InterfaceUse;
use crate::kinds::security_group::{self, World};
use crate::kinds::{Action, Kind, Resource};
use crate::plan::{Change, OptIn};
use crate::snapshot::Snapshot;

pub fn needs(_b: &Benchmark, c: &Control) -> String {
    match &c.admin_ports {
        Some(a) => format!(
            "no network ACL whose first matching inbound entry allows {} to {} (TCP, UDP or all traffic) in every planned region (closing them adds deny entries, which needs the destructive opt-in)",
            sources(&a.sources),
            ports(&a.ports)
        ),
        None => "(the control names no ports)".into(),
    }
}

fn sources(w: &[World]) -> String {
    w.iter().map(|w| w.cidr()).collect::<Vec<_>>().join(" or ")
}

fn ports(p: &[u16]) -> String {
    p.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// "1 network interface is behind it: eni-1 (…)" or "no network
/// interface is behind it".
fn behind(used: &[InterfaceUse]) -> String {
    if used.is_empty() {
        "no network interface is behind it".into()
    } else {
        format!(
            "{} behind it: {}",
            match used.len() {
                1 => "1 network interface is".to_string(),
                n => format!("{n} network interfaces are"),
            },
            used.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

pub fn plan(c: &AdminPortsControl, snap: &Snapshot, allowed: bool, out: &mut PlanBuilder) {
    let (regions, failed) = snap.regions_for(network_acl::READ);
    let mut v = Verdict::new(failed);
    let mut acl_count = 0;
    for r in &regions {
        let facts = snap
            .read(network_acl::READ, r, None, network_acl::acls_from_read)
            .and_then(|a| {
                snap.read(
                    security_group::READ_INTERFACES,
                    r,
                    None,
                    security_group::interfaces_from_read,
                )
                .map(|i| (a, i))
            });
        let (acls, interfaces) = match facts {
            Ok(f) => f,
            Err(f) => {
                v.failed.push(f);
                continue;
            }
        };
        for acl in acls {
            acl_count += 1;
            let openings = acl.openings(&c.check.sources, &c.check.ports);
            if openings.is_empty() {
                continue;
            }
            // A VPC shared with this account: its ACLs are the owner's.
            if let (Some(owner), Some(me)) = (acl.owner_id.as_deref(), snap.account_id.as_deref())
                && owner != me
            {
                v.found.push(format!(
                    "network ACL {} of {} in {r} admits {} to {}",
                    acl.network_acl_id,
                    acl.vpc_id,
                    sources(&c.check.sources),
                    openings
                        .iter()
                        .map(|o| format!("{} {}", o.protocol_name, o.port))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                v.stuck.push(format!(
                    "{} belongs to account {owner} (a VPC shared with this account): only that account can change it",
                    acl.network_acl_id
                ));
                continue;
            }
            let used = in_subnets(interfaces, &acl.subnets);
            let guards = if acl.subnets.is_empty() {
                "guards no subnet".to_string()
            } else {
                format!(
                    "guards {}: {}",
                    count(acl.subnets.len(), "subnet"),
                    acl.subnets.join(", ")
                )
            };
            let what = format!(
                "network ACL {}{} of {} in {} admits {} to {} (by entry {})",
                acl.network_acl_id,
                if acl.is_default { " (default)" } else { "" },
                acl.vpc_id,
                r,
                sources(
                    &openings
                        .iter()
                        .map(|o| o.world)
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect::<Vec<_>>()
                ),
                openings
                    .iter()
                    .map(|o| format!("{} {}", o.protocol_name, o.port))
                    .collect::<Vec<_>>()
                    .join(", "),
                openings
                    .iter()
                    .map(|o| o.allowed_by.to_string())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            v.found
                .push(format!("{what}; it {guards} ({})", behind(&used)));
            // Numbers this plan gives out in this ACL, so two denies never
            // share one.
            let mut taken: BTreeSet<i32> = BTreeSet::new();
            for o in &openings {
                let key = format!(
                    "{}/{}/{}/{}",
                    acl.network_acl_id,
                    o.protocol_name,
                    o.port,
                    if o.world == World::Ipv4 {
                        "ipv4"
                    } else {
                        "ipv6"
                    }
                );
                let address =
                    Address::new(&out.at(r), NetworkAclRule::TYPE, "deny_admin").with_key(&key);
                if out.changes.iter().any(|x| x.address == address)
                    || out.held_back.iter().any(|h| h.change.address == address)
                {
                    serve_or_hold(out, &address, &c.id, &mut v);
                    continue;
                }
                let Some(number) = acl.deny_slot(o, &taken) else {
                    let before = acl.decided_before(o);
                    v.stuck.push(format!(
                        "no rule number is free between {} and entry {} of {} to deny {} {} {}: renumber its entries, or edit entry {} yourself",
                        match before.iter().max() {
                            Some(n) => format!("entry {n} (an entry of yours for that port, which must still decide first)"),
                            None => "1".to_string(),
                        },
                        o.allowed_by,
                        acl.network_acl_id,
                        o.world.cidr(),
                        o.protocol_name,
                        o.port,
                        o.allowed_by
                    ));
                    continue;
                };
                taken.insert(number);
                let after = NetworkAclRule::deny(acl, o, number, used.clone());
                let first = acl.decided_before(o);
                let change = Change {
                    address: address.clone(),
                    action: Action::Create,
                    controls: vec![c.id.clone()],
                    reason: format!(
                        "{what}; entry {number} is added to deny {} {} {}, so entry {} no longer admits it{}; every entry of yours stays. The deny covers every {} source, inside the VPC too: {} {} into these subnets from other subnets, a VPN or a peered network stops unless an entry of yours numbered below {number} allows it{}; {}",
                        o.world.cidr(),
                        o.protocol_name,
                        o.port,
                        o.allowed_by,
                        if first.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " (entr{} {} of yours for that port still decide{} first)",
                                if first.len() == 1 { "y" } else { "ies" },
                                first
                                    .iter()
                                    .map(ToString::to_string)
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                if first.len() == 1 { "s" } else { "" }
                            )
                        },
                        if o.world == World::Ipv4 {
                            "IPv4"
                        } else {
                            "IPv6"
                        },
                        o.protocol_name,
                        o.port,
                        // A NAT gateway or load balancer answers on ports
                        // 1024-65535: a deny there can drop the odd reply.
                        if o.port >= 1024
                            && used.iter().any(|i| {
                                matches!(
                                    i.interface_type.as_str(),
                                    "nat_gateway"
                                        | "network_load_balancer"
                                        | "gateway_load_balancer"
                                ) || i.requester_id.as_deref() == Some("amazon-elb")
                            })
                        {
                            format!(
                                "; a NAT gateway or load balancer behind it uses ports 1024-65535 for replies, so the odd reply to port {} is dropped too",
                                o.port
                            )
                        } else {
                            String::new()
                        },
                        behind(&used)
                    ),
                    before: None,
                    after: Some(Resource::NetworkAclRule(after)),
                    depends_on: vec![],
                };
                if out.change_or_hold(change, OptIn::NetworkAclRules, allowed) {
                    v.planned += 1;
                } else {
                    v.held.push((OptIn::NetworkAclRules, address.to_string()));
                }
            }
        }
    }
    v.compliant = format!(
        "none of the {} in {} admits {} to port{} {}",
        count(acl_count, "network ACL"),
        count(regions.len(), "region"),
        sources(&c.check.sources),
        if c.check.ports.len() == 1 { "" } else { "s" },
        ports(&c.check.ports)
    );
    v.report(out, &[(c.id.as_str(), c.title.as_str())]);
}
