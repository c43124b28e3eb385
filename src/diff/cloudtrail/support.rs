//! What a trail's fix needs besides the trail: its log group, the role
//! CloudTrail delivers through, the KMS key, and (for a new trail) its
//! bucket. Each is looked up by cis-fix's fixed name first, so a re-run
//! after an interrupted apply finds it instead of making a second one.

use super::policies;
use super::{Ctx, Verdict};
use crate::address::{Address, GLOBAL};
use crate::arn::Arn;
use crate::kinds::{
    self, Deferred, IamRole, InlinePolicy, Kind, KmsKey, KmsKeyFacts, LogGroup, PublicAccessBlock,
    Resource, S3Bucket, iam_role, kms_key, log_group, s3_bucket,
};
use crate::observed::Observed;
use crate::plan::{Action, Change};

/// A dependency the trail's change waits for, when this plan makes it.
pub type Made = Option<Address>;

/// The key trails whose bucket is in `region` are encrypted with.
#[derive(Debug, Clone)]
pub struct KeyUse {
    pub arn: Deferred,
    /// How it is named in the plan's reasons.
    pub shown: String,
    pub made: Made,
}

fn change(
    cx: &mut Ctx<'_>,
    address: &Address,
    action: Action,
    reason: String,
    before: Option<Resource>,
    after: Resource,
) {
    cx.out.change(Change {
        address: address.clone(),
        action,
        controls: vec![],
        reason,
        before,
        after: Some(after),
        depends_on: vec![],
    });
}

/// The configured key, else cis-fix's key in `region` (made or fixed as
/// needed). Decided once per region.
pub fn key(cx: &mut Ctx<'_>, region: &str) -> Result<KeyUse, Verdict> {
    if let Some(k) = cx.keys.get(region) {
        return k.clone();
    }
    let k = decide_key(cx, region);
    cx.keys.insert(region.to_string(), k.clone());
    k
}

fn decide_key(cx: &mut Ctx<'_>, region: &str) -> Result<KeyUse, Verdict> {
    let names = &cx.d.names;
    if let Some(given) = &names.kms_key {
        let at = Arn::parse(given).map(|a| a.region).unwrap_or_default();
        if at != region {
            return Err(Verdict::Blocked(
                format!(
                    "cloudtrail.kms_key `{given}` is in {at}, but a trail's key must be in its bucket's region, {region}"
                ),
                None,
            ));
        }
        // A key of this account is checked as UpdateTrail will check it; one
        // of another account cannot be read from here and is taken as given.
        let ours = Arn::parse(given).is_some_and(|a| a.account == cx.account);
        if ours {
            let keys: &[KmsKeyFacts] = cx
                .snap
                .read(kms_key::READ, region, None, kms_key::from_read)
                .map_err(Verdict::unknown)?;
            let alias = Arn::parse(given)
                .map(|a| a.resource)
                .filter(|r| r.starts_with("alias/"));
            let found = keys
                .iter()
                .find(|k| k.arn == *given || alias.as_ref().is_some_and(|a| k.aliases.contains(a)));
            let problem = match found {
                None => Some("there is no such key in this account".to_string()),
                Some(k) if !k.usable_for_trails() => Some(format!(
                    "it is {} ({}), not an enabled symmetric encryption key",
                    k.key_state, k.key_spec
                )),
                Some(k) => match &k.policy {
                    Some(Observed::Ok(p)) if !policies::lets_cloudtrail_encrypt(p) => Some(
                        "its key policy does not let cloudtrail.amazonaws.com call kms:GenerateDataKey*, so CloudTrail would refuse it".into(),
                    ),
                    Some(Observed::Failed(f)) => return Err(Verdict::unknown(f.clone())),
                    _ => None,
                },
            };
            if let Some(p) = problem {
                return Err(Verdict::Blocked(
                    format!("cloudtrail.kms_key `{given}` cannot encrypt trails: {p}"),
                    None,
                ));
            }
        }
        return Ok(KeyUse {
            arn: Deferred::Known(given.clone()),
            shown: format!("`{given}` (from cis-fix.yaml)"),
            made: None,
        });
    }
    let keys: &[KmsKeyFacts] = cx
        .snap
        .read(kms_key::READ, region, None, kms_key::from_read)
        .map_err(Verdict::unknown)?;
    let alias = names.key_alias.clone();
    let policy = policies::trail_key(&cx.partition, cx.account);
    let address = Address::new(&cx.out.at(region), KmsKey::TYPE, "cloudtrail");
    let shown = format!("`{alias}` in {region}");
    let by_alias = keys.iter().find(|k| k.aliases.contains(&alias));
    let orphan = keys.iter().find(|k| {
        k.aliases.is_empty() && k.description == names.key_description && k.usable_for_trails()
    });
    let Some(found) = by_alias.or(orphan) else {
        let after = KmsKey {
            alias: Some(alias.clone()),
            description: names.key_description.clone(),
            policy,
            enable_key_rotation: true,
            arn: Deferred::after_apply(&address, "arn"),
        };
        change(
            cx,
            &address,
            Action::Create,
            format!("a customer managed key for CloudTrail in {region}, rotated yearly"),
            None,
            Resource::KmsKey(after.clone()),
        );
        return Ok(KeyUse {
            arn: after.arn,
            shown,
            made: Some(address),
        });
    };
    if !found.usable_for_trails() {
        return Err(Verdict::Blocked(
            format!(
                "`{alias}` in {region} points at key {} which is {} ({}), not an enabled symmetric encryption key; point the alias at a usable key or name one as cloudtrail.kms_key",
                found.arn, found.key_state, found.key_spec
            ),
            None,
        ));
    }
    let rotation = match &found.rotation_enabled {
        Some(r) => *r.as_ref().map_err(|f| Verdict::unknown(f.clone()))?,
        None => {
            return Err(Verdict::unknown(not_read(
                region,
                "kms:GetKeyRotationStatus",
                &found.arn,
            )));
        }
    };
    let current_policy = match &found.policy {
        Some(p) => p.as_ref().map_err(|f| Verdict::unknown(f.clone()))?.clone(),
        None => {
            return Err(Verdict::unknown(not_read(
                region,
                "kms:GetKeyPolicy",
                &found.arn,
            )));
        }
    };
    let before = KmsKey {
        alias: found.aliases.iter().find(|a| **a == alias).cloned(),
        description: found.description.clone(),
        policy: current_policy.clone(),
        enable_key_rotation: rotation,
        arn: Deferred::Known(found.arn.clone()),
    };
    // cis-fix's own key: its policy is cis-fix's unless it already lets
    // CloudTrail encrypt (a user may have widened it; that stays).
    let after = KmsKey {
        alias: Some(alias.clone()),
        policy: if policies::lets_cloudtrail_encrypt(&current_policy) {
            current_policy
        } else {
            policies::merged(&current_policy, &policy)
        },
        enable_key_rotation: true,
        ..before.clone()
    };
    if after == before {
        return Ok(KeyUse {
            arn: before.arn,
            shown,
            made: None,
        });
    }
    let mut what = Vec::new();
    if before.alias.is_none() {
        what.push(format!(
            "names it `{alias}` (an earlier apply made it but stopped before naming it)"
        ));
    }
    if before.policy != after.policy {
        what.push("lets CloudTrail encrypt with it".to_string());
    }
    if !before.enable_key_rotation {
        what.push("turns on rotation".to_string());
    }
    change(
        cx,
        &address,
        Action::Update,
        format!("cis-fix's CloudTrail key: {}", what.join("; ")),
        Some(Resource::KmsKey(before)),
        Resource::KmsKey(after.clone()),
    );
    Ok(KeyUse {
        arn: after.arn,
        shown,
        made: Some(address),
    })
}

fn not_read(region: &str, call: &str, resource: &str) -> crate::observed::CallFailure {
    crate::snapshot::ReadKey::new(call, region, Some(resource)).not_read()
}

/// cis-fix's log group in `region`, made when it does not exist.
/// Returns whether it is new and the change that makes it.
pub fn log_group(cx: &mut Ctx<'_>, region: &str) -> Result<(bool, Made), Verdict> {
    let name = cx.d.names.log_group.clone();
    let found: &[LogGroup] = cx
        .snap
        .read(log_group::READ, region, Some(&name), log_group::from_read)
        .map_err(Verdict::unknown)?;
    if found.iter().any(|g| g.name == name) {
        return Ok((false, None));
    }
    let address = Address::new(&cx.out.at(region), LogGroup::TYPE, "cloudtrail");
    change(
        cx,
        &address,
        Action::Create,
        "the log group the trail delivers management events to, where the monitoring filters live"
            .into(),
        None,
        Resource::LogGroup(LogGroup {
            name,
            retention_in_days: None,
        }),
    );
    Ok((true, Some(address)))
}

/// cis-fix's delivery role, allowed to write to `log_group` in `region`.
pub fn role(cx: &mut Ctx<'_>, region: &str, log_group: &str) -> Result<(String, Made), Verdict> {
    let name = cx.d.names.role.clone();
    let arn = iam_role::arn(&cx.partition, cx.account, &name);
    let found = cx
        .snap
        .read(iam_role::READ, GLOBAL, Some(&name), iam_role::from_read)
        .map_err(Verdict::unknown)?
        .cloned();
    let after = IamRole {
        name: name.clone(),
        assume_role_policy: policies::delivery_trust(cx.account),
        inline_policy: Some(InlinePolicy {
            name: name.clone(),
            policy: policies::delivery_permissions(&cx.partition, region, cx.account, log_group),
        }),
    };
    let address = Address::new(&cx.out.at(GLOBAL), IamRole::TYPE, "cloudtrail_logs");
    let (action, reason) = match &found {
        None => (
            Action::Create,
            format!(
                "the role CloudTrail assumes to write to log group `{log_group}`, and only to its log streams"
            ),
        ),
        Some(b)
            if kinds::calls(
                Action::Update,
                Some(&Resource::IamRole(b.clone())),
                Some(&Resource::IamRole(after.clone())),
            )
            .is_empty() =>
        {
            return Ok((arn, None));
        }
        Some(_) => (
            Action::Update,
            format!(
                "cis-fix's delivery role must trust CloudTrail and write to log group `{log_group}`"
            ),
        ),
    };
    change(
        cx,
        &address,
        action,
        reason,
        found.map(Resource::IamRole),
        Resource::IamRole(after),
    );
    Ok((arn, Some(address)))
}

/// cis-fix's bucket for a new trail in `region`: owner-enforced, public
/// access blocked, with CloudTrail's policy for that one trail.
pub fn bucket(cx: &mut Ctx<'_>, region: &str, trail_arn: &str) -> Result<(String, Made), Verdict> {
    let name = cx.d.names.bucket(cx.account, region);
    let found = cx
        .snap
        .read(s3_bucket::READ, GLOBAL, Some(&name), s3_bucket::from_read)
        .map_err(Verdict::unknown)?
        .cloned();
    let after = S3Bucket {
        bucket: name.clone(),
        object_ownership: Some("BucketOwnerEnforced".into()),
        public_access_block: Some(PublicAccessBlock::ALL),
        policy: Some(policies::trail_bucket(
            &cx.partition,
            cx.account,
            &name,
            trail_arn,
        )),
    };
    let address = Address::new(&cx.out.at(region), S3Bucket::TYPE, "cloudtrail");
    let before = match found {
        None => None,
        Some(f) => {
            let policy: Option<String> = get(&f.policy)?;
            Some(S3Bucket {
                bucket: name.clone(),
                object_ownership: get(&f.object_ownership)?,
                public_access_block: get(&f.public_access_block)?,
                policy,
            })
        }
    };
    // A statement someone added to cis-fix's bucket stays.
    let after = match before.as_ref().and_then(|b| b.policy.as_deref()) {
        Some(have) => S3Bucket {
            policy: after
                .policy
                .as_deref()
                .map(|ours| policies::merged(have, ours)),
            ..after
        },
        None => after,
    };
    if let Some(b) = &before
        && kinds::calls(
            Action::Update,
            Some(&Resource::S3Bucket(b.clone())),
            Some(&Resource::S3Bucket(after.clone())),
        )
        .is_empty()
    {
        return Ok((name, None));
    }
    let (action, reason) = match &before {
        None => (
            Action::Create,
            "the bucket the new trail writes log files to: owner-enforced, public access blocked, writable by CloudTrail for this trail only".to_string(),
        ),
        Some(_) => (
            Action::Update,
            "cis-fix's trail bucket is missing settings an earlier apply did not finish".to_string(),
        ),
    };
    change(
        cx,
        &address,
        action,
        reason,
        before.map(Resource::S3Bucket),
        Resource::S3Bucket(after),
    );
    Ok((name, Some(address)))
}

fn get<T: Clone>(o: &crate::observed::Observed<T>) -> Result<T, Verdict> {
    o.as_ref().cloned().map_err(|e| Verdict::unknown(e.clone()))
}
