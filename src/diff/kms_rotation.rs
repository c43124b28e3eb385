//! KMS key rotation: automatic rotation on for every customer managed,
//! enabled, symmetric encryption key whose material KMS made, in every
//! planned region. The benchmark's control is account-wide, so it holds
//! only when it holds in each region; each key's fix is its own change.
//!
//! Keys the control does not apply to (AWS managed, asymmetric, HMAC,
//! disabled, pending deletion, imported or custom-store material, replicas)
//! are listed in a notice with their reasons and never changed: KMS refuses
//! to rotate most of them, and a key someone disabled or scheduled for
//! deletion is theirs to decide about.
//!
//! A region whose keys could not be read leaves the control `unknown`,
//! naming the region; nothing is planned there, while the keys of the other
//! regions are still fixed (each change rests only on its own key's facts).

use super::builder::PlanBuilder;
use crate::address::Address;
use crate::benchmark::{Benchmark, Control};
use crate::desired::KmsControl;
use crate::kinds::kms_key_rotation::{self, KmsKeyRotation};
use crate::kinds::{Action, Kind, KmsKeyFacts, Resource, kms_key};
use crate::observed::{CallFailure, Observed};
use crate::plan::{Cause, Change, ControlStatus, Notice, SkippedKey};
use crate::snapshot::Snapshot;

pub const FAMILY: super::Family = super::Family {
    kind: crate::benchmark::Kind::Kms,
    resource_kinds: &[KmsKeyRotation::TYPE],
    needs,
};

fn needs(_b: &Benchmark, _c: &Control) -> String {
    "automatic rotation on every customer managed, enabled, symmetric encryption key (KMS-made material) in every planned region; other keys are listed and left alone".into()
}

/// What the planned regions hold.
#[derive(Default)]
struct Survey<'a> {
    /// (region, key) with rotation on.
    on: Vec<(String, &'a KmsKeyFacts)>,
    /// (region, key) with rotation off: to turn on.
    off: Vec<(String, &'a KmsKeyFacts)>,
    skipped: Vec<SkippedKey>,
    /// Reads that failed: a region's keys, a key's rotation status, or the
    /// regions themselves.
    failed: Vec<CallFailure>,
    regions: Vec<String>,
}

fn survey(snap: &Snapshot) -> Survey<'_> {
    let mut s = Survey::default();
    let (regions, failed) = snap.regions_for(kms_key::READ);
    s.failed.extend(failed);
    for region in &regions {
        let keys = match snap.read(kms_key::READ, region, None, kms_key::from_read) {
            Ok(keys) => keys,
            Err(f) => {
                s.failed.push(f);
                continue;
            }
        };
        for k in keys {
            if let Some(why) = kms_key_rotation::skip(k) {
                s.skipped.push(SkippedKey {
                    region: region.clone(),
                    key_id: kms_key_rotation::key_id(&k.arn).to_string(),
                    aliases: k.aliases.clone(),
                    skip: why,
                });
                continue;
            }
            match &k.rotation_enabled {
                Some(Observed::Ok(true)) => s.on.push((region.clone(), k)),
                Some(Observed::Ok(false)) => s.off.push((region.clone(), k)),
                Some(Observed::Failed(f)) => s.failed.push(f.clone()),
                None => s.failed.push(CallFailure {
                    call: "kms:GetKeyRotationStatus".into(),
                    region: region.clone(),
                    resource: Some(k.arn.clone()),
                    code: None,
                    message: "not in the snapshot (it was not read)".into(),
                    detail: None,
                }),
            }
        }
    }
    s.regions = regions;
    s
}

/// `3 keys`, `1 key`.
fn keys(n: usize) -> String {
    format!("{n} key{}", if n == 1 { "" } else { "s" })
}

/// A key as the reasons name it: its first alias, else its id, and region.
fn shown(region: &str, k: &KmsKeyFacts) -> String {
    match k.aliases.first() {
        Some(a) => format!("{a} in {region}"),
        None => format!("key {} in {region}", kms_key_rotation::key_id(&k.arn)),
    }
}

/// Plans rotation for every rotation control of the version (one in each
/// version): a change per key whose rotation is off, and the control's
/// status from every planned region.
pub fn plan(controls: &[KmsControl], snap: &Snapshot, out: &mut PlanBuilder) {
    if controls.is_empty() {
        return;
    }
    let s = survey(snap);
    let mut addresses = Vec::new();
    for (region, k) in &s.off {
        // cis-fix's own CloudTrail key may already be updated with rotation
        // on by the CloudTrail family: that change serves this control too.
        if let Some(existing) = out.changes.iter().find(|c| {
            matches!(&c.after, Some(Resource::KmsKey(after))
                if after.enable_key_rotation && after.arn.known() == Some(k.arn.as_str()))
        }) {
            addresses.push(existing.address.clone());
            continue;
        }
        let address = Address::new(&out.at(region), KmsKeyRotation::TYPE, "key")
            .with_key(kms_key_rotation::key_id(&k.arn));
        out.change(Change {
            address: address.clone(),
            action: Action::Update,
            controls: vec![],
            reason: format!(
                "automatic rotation is off for customer managed key {}",
                shown(region, k)
            ),
            before: Some(Resource::KmsKeyRotation(KmsKeyRotation::of(k, false))),
            after: Some(Resource::KmsKeyRotation(KmsKeyRotation::of(k, true))),
            depends_on: vec![],
        });
        addresses.push(address);
    }
    for c in controls {
        for a in &addresses {
            out.serve(a, &c.id);
        }
    }
    let skipped = if s.skipped.is_empty() {
        String::new()
    } else {
        format!(
            "; {} outside the control left as {} (listed above)",
            keys(s.skipped.len()),
            if s.skipped.len() == 1 {
                "it is"
            } else {
                "they are"
            }
        )
    };
    let regions = match s.regions.len() {
        1 => format!("region {}", s.regions[0]),
        n => format!("{n} regions"),
    };
    let (status, reason, cause) = if let Some(first) = s.failed.first() {
        let fixing = if s.off.is_empty() {
            String::new()
        } else {
            format!(
                "; rotation is turned on for the {} seen with it off",
                keys(s.off.len())
            )
        };
        (
            ControlStatus::Unknown,
            format!(
                "cannot tell: {}; nothing is planned where the keys could not be read{fixing}",
                s.failed
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Some(Cause::ReadFailed {
                failure: Box::new(first.clone()),
            }),
        )
    } else if !s.off.is_empty() {
        (
            ControlStatus::WillFix,
            format!(
                "rotation is turned on for {}: {}; {} already rotate{}{skipped}",
                keys(s.off.len()),
                s.off
                    .iter()
                    .map(|(r, k)| shown(r, k))
                    .collect::<Vec<_>>()
                    .join(", "),
                keys(s.on.len()),
                if s.on.len() == 1 { "s" } else { "" }
            ),
            None,
        )
    } else if s.on.is_empty() {
        (
            ControlStatus::Compliant,
            format!("no customer managed symmetric encryption key in {regions}{skipped}"),
            None,
        )
    } else {
        (
            ControlStatus::Compliant,
            format!(
                "rotation is on for all {} customer managed symmetric encryption key{} in {regions}{skipped}",
                s.on.len(),
                if s.on.len() == 1 { "" } else { "s" }
            ),
            None,
        )
    };
    for c in controls {
        out.control((&c.id, &c.title), status, reason.clone(), cause.clone());
    }
    if !s.skipped.is_empty() {
        out.notice(Notice::KmsKeysSkipped { keys: s.skipped });
    }
}

#[cfg(test)]
mod tests;
