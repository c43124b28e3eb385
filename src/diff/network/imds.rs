//! Every instance requires IMDSv2: an instance that still answers IMDSv1
//! (tokens optional, endpoint on) gets `HttpTokens` set to `required`, one
//! change per instance. Software on the instance still speaking IMDSv1
//! loses its metadata, and with it its role's credentials, so the change
//! waits for the `instance_metadata` opt-in and names the instance.
//! Instances with the endpoint off serve no metadata at all and pass.

use super::{PlanBuilder, Verdict, count};
use crate::address::Address;
use crate::desired::KmsControl;
use crate::kinds::instance_metadata::{self, InstanceMetadataOptions, REQUIRED};
use crate::kinds::{Action, Kind, Resource};
use crate::plan::{Change, OptIn};
use crate::snapshot::Snapshot;

pub fn plan(controls: &[KmsControl], snap: &Snapshot, allowed: bool, out: &mut PlanBuilder) {
    let (regions, failed) = snap.regions_for(instance_metadata::READ);
    let mut v = Verdict::new(failed);
    let ids: Vec<String> = controls.iter().map(|c| c.id.clone()).collect();
    let mut instances = 0;
    for r in &regions {
        let all = match snap.read(
            instance_metadata::READ,
            r,
            None,
            instance_metadata::instances_from_read,
        ) {
            Ok(i) => i,
            Err(f) => {
                v.failed.push(f);
                continue;
            }
        };
        instances += all.len();
        for i in all.iter().filter(|i| i.allows_imdsv1()) {
            let before = InstanceMetadataOptions::of(i);
            let after = InstanceMetadataOptions {
                http_tokens: REQUIRED.into(),
                ..before.clone()
            };
            let who = match &i.name {
                Some(n) => format!("instance {} (\"{n}\", {})", i.instance_id, i.state),
                None => format!("instance {} ({})", i.instance_id, i.state),
            };
            let what = format!("{who} in {r} allows IMDSv1 (HttpTokens {})", i.http_tokens);
            let address = Address::new(&out.at(r), InstanceMetadataOptions::TYPE, "this")
                .with_key(&i.instance_id);
            let change = Change {
                address: address.clone(),
                action: Action::Update,
                controls: ids.clone(),
                reason: format!(
                    "{what}; IMDSv2 is required: software on it still calling IMDSv1 loses its metadata and role credentials (its MetadataNoToken metric in CloudWatch shows whether anything still does)"
                ),
                before: Some(Resource::InstanceMetadataOptions(before)),
                after: Some(Resource::InstanceMetadataOptions(after)),
                depends_on: vec![],
            };
            if out.change_or_hold(change, OptIn::InstanceMetadata, allowed) {
                v.planned += 1;
            } else {
                v.held.push((OptIn::InstanceMetadata, address.to_string()));
            }
            v.found.push(what);
        }
    }
    v.compliant = format!(
        "all {} in {} require IMDSv2 or have the metadata endpoint off",
        count(instances, "instance"),
        count(regions.len(), "region")
    );
    let pairs: Vec<(&str, &str)> = controls
        .iter()
        .map(|c| (c.id.as_str(), c.title.as_str()))
        .collect();
    v.report(out, &pairs);
}
