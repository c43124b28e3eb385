//! KMS: the keys of a region (to find the key a trail encrypts with, and
//! cis-fix's own key again after an interrupted apply; to judge the
//! rotation of every key the benchmark's rotation applies to), and the
//! writes that make and name cis-fix's key and turn rotation on. A key is
//! never disabled or deleted.

use std::collections::BTreeMap;

use aws_sdk_kms::types::{KeySpec, KeyUsageType, MultiRegionKeyType};
use futures::future::join_all;

use super::clients::RegionClients;
use super::error::{failure, malformed, refused};
use super::{Limiter, all_pages, page_size};
use crate::kinds::kms_key::READ;
use crate::kinds::kms_key_rotation;
use crate::kinds::{Deferred, KmsKeyFacts};
use crate::observed::{CallFailure, Observed};
use crate::snapshot::TrailNames;

/// Key policies have one name.
const POLICY_NAME: &str = "default";

/// Every key of the region, described, with its aliases; the key policy
/// only for the keys cis-fix may use for CloudTrail (its own, by alias or
/// description, and the one the user named), and the rotation status for
/// those and for every key the benchmark's rotation applies to
/// (`kms_key_rotation::skip`), so each call is made once per key at most. A failure to list or describe
/// fails the whole read: a key that could not be described might be
/// cis-fix's own, and must not be made twice.
pub async fn read_keys(
    rc: &RegionClients,
    names: &TrailNames,
    limit: &Limiter,
) -> Observed<Vec<KmsKeyFacts>> {
    let region = rc.region.as_str();
    let (keys, aliases) = futures::join!(
        all_pages(
            rc.kms
                .list_keys()
                .limit(page_size::LIST_KEYS)
                .into_paginator()
                .send(),
            limit
        ),
        all_pages(
            rc.kms
                .list_aliases()
                .limit(page_size::LIST_ALIASES)
                .into_paginator()
                .send(),
            limit
        ),
    );
    let keys = match keys {
        Ok(pages) => pages
            .into_iter()
            .flat_map(|p| p.keys.unwrap_or_default())
            .filter_map(|k| k.key_id)
            .collect::<Vec<_>>(),
        Err(e) => return Observed::Failed(failure(READ, region, None, &e)),
    };
    // Key id → (alias name, alias ARN); AWS lists its predefined aliases
    // (alias/aws/...) without a target until their key is first used.
    let mut by_key: BTreeMap<String, Vec<(String, Option<String>)>> = BTreeMap::new();
    match aliases {
        Ok(pages) => {
            for a in pages
                .into_iter()
                .flat_map(|p| p.aliases.unwrap_or_default())
            {
                if let (Some(name), Some(target)) = (a.alias_name, a.target_key_id) {
                    by_key.entry(target).or_default().push((name, a.alias_arn));
                }
            }
        }
        Err(e) => return Observed::Failed(failure("kms:ListAliases", region, None, &e)),
    }
    let described = join_all(keys.iter().map(|id| async move {
        let _permit = limit.acquire().await;
        rc.kms
            .describe_key()
            .key_id(id)
            .send()
            .await
            .map_err(|e| failure("kms:DescribeKey", region, Some(id), &e))
    }))
    .await;
    let mut facts = Vec::new();
    for (id, d) in keys.iter().zip(described) {
        let meta = match d {
            Ok(out) => match out.key_metadata {
                Some(m) => m,
                None => {
                    return Observed::Failed(malformed("kms:DescribeKey", region, "KeyMetadata"));
                }
            },
            Err(f) => return Observed::Failed(f),
        };
        let aliases = by_key.get(id).cloned().unwrap_or_default();
        let arn = meta.arn.clone().unwrap_or_else(|| id.clone());
        let wanted = is_wanted(names, &meta.key_id, &arn, &aliases, meta.description());
        let mut alias_names: Vec<String> = aliases.into_iter().map(|(n, _)| n).collect();
        alias_names.sort();
        let replica = meta
            .multi_region_configuration
            .as_ref()
            .and_then(|c| c.multi_region_key_type.as_ref())
            .is_some_and(|t| *t == MultiRegionKeyType::Replica);
        facts.push((
            wanted,
            KmsKeyFacts {
                arn,
                description: meta.description.unwrap_or_default(),
                key_manager: meta
                    .key_manager
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default(),
                // moto reports neither KeyUsage nor, for some keys, KeySpec;
                // AWS always does. Missing, they are KMS's defaults for
                // CreateKey (a symmetric encryption key), which is what
                // moto made.
                key_spec: meta
                    .key_spec
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| KeySpec::SymmetricDefault.as_str().to_string()),
                key_usage: meta
                    .key_usage
                    .map(|u| u.as_str().to_string())
                    .unwrap_or_else(|| KeyUsageType::EncryptDecrypt.as_str().to_string()),
                origin: meta
                    .origin
                    .map(|o| o.as_str().to_string())
                    .unwrap_or_default(),
                key_state: meta
                    .key_state
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                aliases: alias_names,
                replica,
                rotation_enabled: None,
                policy: None,
            },
        ));
    }
    let detailed = join_all(facts.into_iter().map(|(wanted, mut k)| async move {
        if wanted {
            let (rotation, policy) = futures::join!(
                read_rotation(rc, &k.arn, limit),
                read_policy(rc, &k.arn, limit)
            );
            k.rotation_enabled = Some(rotation);
            k.policy = Some(policy);
        } else if kms_key_rotation::skip(&k).is_none() {
            k.rotation_enabled = Some(read_rotation(rc, &k.arn, limit).await);
        }
        k
    }))
    .await;
    Observed::Ok(detailed)
}

/// Whether the key is one cis-fix may use: it carries cis-fix's alias or
/// description, or it is the key the user named (by ARN, id, alias name or
/// alias ARN).
fn is_wanted(
    names: &TrailNames,
    id: &str,
    arn: &str,
    aliases: &[(String, Option<String>)],
    description: Option<&str>,
) -> bool {
    let has_alias = |a: &str| {
        aliases
            .iter()
            .any(|(n, narn)| n == a || narn.as_deref() == Some(a))
    };
    (!names.key_alias.is_empty() && has_alias(&names.key_alias))
        || (!names.key_description.is_empty() && description == Some(&names.key_description))
        || names
            .kms_key
            .as_deref()
            .is_some_and(|k| k == id || k == arn || has_alias(k))
}

async fn read_rotation(rc: &RegionClients, key: &str, limit: &Limiter) -> Observed<bool> {
    let _permit = limit.acquire().await;
    match rc.kms.get_key_rotation_status().key_id(key).send().await {
        Ok(out) => Observed::Ok(out.key_rotation_enabled),
        Err(e) => Observed::Failed(failure(
            "kms:GetKeyRotationStatus",
            &rc.region,
            Some(key),
            &e,
        )),
    }
}

/// The key policy. AWS makes `PolicyName` optional ("default" is the only
/// name); moto requires it, so it is always sent.
async fn read_policy(rc: &RegionClients, key: &str, limit: &Limiter) -> Observed<String> {
    let call = "kms:GetKeyPolicy";
    let _permit = limit.acquire().await;
    match rc
        .kms
        .get_key_policy()
        .key_id(key)
        .policy_name(POLICY_NAME)
        .send()
        .await
    {
        Ok(out) => match out.policy {
            Some(p) => Observed::Ok(p),
            None => Observed::Failed(malformed(call, &rc.region, "Policy")),
        },
        Err(e) => Observed::Failed(failure(call, &rc.region, Some(key), &e)),
    }
}

/// Creates a symmetric encryption key with `policy`; returns its ARN.
pub async fn create_key(
    rc: &RegionClients,
    description: &str,
    policy: &str,
) -> Result<String, CallFailure> {
    let call = "kms:CreateKey";
    let out = rc
        .kms
        .create_key()
        .description(description)
        .policy(policy)
        .key_spec(KeySpec::SymmetricDefault)
        .key_usage(KeyUsageType::EncryptDecrypt)
        .send()
        .await
        .map_err(|e| failure(call, &rc.region, None, &e))?;
    out.key_metadata
        .and_then(|m| m.arn)
        .ok_or_else(|| malformed(call, &rc.region, "KeyMetadata.Arn"))
}

/// Names the key. An alias that exists already is an error, not success:
/// it names another key (the plan saw none of that name on this key), and
/// cis-fix does not move an alias away from a key someone may rely on.
pub async fn create_alias(
    rc: &RegionClients,
    alias: &str,
    key: &Deferred,
) -> Result<(), CallFailure> {
    let call = "kms:CreateAlias";
    let key = known_key(call, &rc.region, key)?;
    rc.kms
        .create_alias()
        .alias_name(alias)
        .target_key_id(key)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure(call, &rc.region, Some(alias), &e))
}

pub async fn enable_key_rotation(rc: &RegionClients, key: &Deferred) -> Result<(), CallFailure> {
    let call = "kms:EnableKeyRotation";
    let key = known_key(call, &rc.region, key)?;
    rc.kms
        .enable_key_rotation()
        .key_id(key)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure(call, &rc.region, Some(key), &e))
}

pub async fn put_key_policy(
    rc: &RegionClients,
    key: &Deferred,
    policy: &str,
) -> Result<(), CallFailure> {
    let call = "kms:PutKeyPolicy";
    let key = known_key(call, &rc.region, key)?;
    rc.kms
        .put_key_policy()
        .key_id(key)
        .policy_name(POLICY_NAME)
        .policy(policy)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure(call, &rc.region, Some(key), &e))
}

fn known_key<'a>(call: &str, region: &str, key: &'a Deferred) -> Result<&'a str, CallFailure> {
    key.known().ok_or_else(|| {
        refused(
            call,
            region,
            None,
            format!("the key is not known yet ({key})"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> TrailNames {
        TrailNames {
            key_alias: "alias/cis-fix-cloudtrail".into(),
            key_description: "cis-fix: encrypts CloudTrail log files".into(),
            kms_key: Some("alias/mine".into()),
            ..TrailNames::default()
        }
    }

    #[test]
    fn own_and_named_keys_are_wanted_and_no_other() {
        let n = names();
        let arn = "arn:aws:kms:us-east-1:1:key/k";
        let alias = |a: &str| vec![(a.to_string(), Some(format!("arn:aws:kms:us-east-1:1:{a}")))];
        assert!(is_wanted(
            &n,
            "k",
            arn,
            &alias("alias/cis-fix-cloudtrail"),
            None
        ));
        assert!(is_wanted(
            &n,
            "k",
            arn,
            &[],
            Some("cis-fix: encrypts CloudTrail log files")
        ));
        assert!(is_wanted(&n, "k", arn, &alias("alias/mine"), None));
        assert!(!is_wanted(
            &n,
            "k",
            arn,
            &alias("alias/other"),
            Some("other")
        ));
        let by_arn = TrailNames {
            kms_key: Some(arn.into()),
            ..TrailNames::default()
        };
        assert!(is_wanted(&by_arn, "k", arn, &[], None));
        let by_alias_arn = TrailNames {
            kms_key: Some("arn:aws:kms:us-east-1:1:alias/mine".into()),
            ..TrailNames::default()
        };
        assert!(is_wanted(
            &by_alias_arn,
            "k",
            arn,
            &alias("alias/mine"),
            None
        ));
        // Empty names (a scope without trail names) match nothing.
        assert!(!is_wanted(&TrailNames::default(), "k", arn, &[], Some("")));
    }
}
