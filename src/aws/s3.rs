//! S3: the buckets trails deliver to, read for where they live, whether
//! they are public and whether their accesses are logged; and the writes
//! that make cis-fix's own trail bucket and lock a bucket down. S3 answers
//! about a bucket only in the bucket's own region, so each bucket is first
//! located, then asked about through a client of its region.

use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketLoggingStatus, CreateBucketConfiguration, LoggingEnabled,
    ObjectOwnership, OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration,
};

use super::Limiter;
use super::clients::{Aws, RegionClients};
use super::error::{failure, refused, status};
use crate::address::GLOBAL;
use crate::kinds::s3_bucket::READ;
use crate::kinds::{BucketFacts, BucketLogging, PublicAccessBlock};
use crate::observed::{CallFailure, Observed};

/// The grantee groups that make an ACL grant public.
const PUBLIC_GROUPS: &[&str] = &[
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];

/// The region a bucket without a location constraint lives in.
const DEFAULT_REGION: &str = "us-east-1";

/// Whether the bucket exists and, if S3 said, its region: HeadBucket in the
/// home region. S3 answers a bucket of another region with a redirect that
/// names the bucket's region (`x-amz-bucket-region`); the call is then made
/// again there. A 403 is not "no bucket": the bucket may be another
/// account's, or the caller may not list it, and either way it is not known.
async fn head(
    aws: &Aws,
    bucket: &str,
    owner: Option<&str>,
    limit: &Limiter,
) -> Result<Option<String>, CallFailure> {
    let mut region = aws.home_region().to_string();
    for _ in 0..2 {
        let rc = aws.region(&region);
        let got = {
            let _permit = limit.acquire().await;
            rc.s3
                .head_bucket()
                .bucket(bucket)
                .set_expected_bucket_owner(owner.map(str::to_string))
                .send()
                .await
        };
        let e = match got {
            Ok(out) => return Ok(Some(out.bucket_region.unwrap_or(region))),
            Err(e) => e,
        };
        let mut f = failure(READ, &region, Some(bucket), &e);
        let code = status(&e);
        if code == Some(404) || matches!(f.code.as_deref(), Some("NotFound" | "NoSuchBucket")) {
            return Ok(None);
        }
        let elsewhere = e
            .raw_response()
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .filter(|r| *r != region)
            .map(str::to_string);
        match elsewhere {
            Some(r) if matches!(code, Some(301 | 400)) => region = r,
            _ => {
                if code == Some(403) && f.code.is_none() {
                    // HEAD answers carry no body, so no error code.
                    f.code = Some("AccessDenied".into());
                    f.message =
                        "HTTP 403: access denied, or the bucket is another account's".into();
                }
                return Err(f);
            }
        }
    }
    Err(refused(
        READ,
        &region,
        Some(bucket),
        "S3 redirected the request to another region twice",
    ))
}

/// What a trail's bucket is read for; `None` when it does not exist. Each
/// part is its own read, so a denied one leaves the others known.
pub async fn read_bucket(
    aws: &Aws,
    bucket: &str,
    owner: Option<&str>,
    limit: &Limiter,
) -> Observed<Option<BucketFacts>> {
    let hint = match head(aws, bucket, owner, limit).await {
        Ok(Some(r)) => r,
        Ok(None) => return Observed::Ok(None),
        Err(f) => return Observed::Failed(f),
    };
    let region = read_location(&aws.region(&hint), bucket, limit).await;
    let rc = aws.region(region.as_ref().ok().map_or(hint.as_str(), |r| r.as_str()));
    let (policy, policy_public, public_acl_grants, public_access_block, logging, object_ownership) = futures::join!(
        read_policy(&rc, bucket, limit),
        read_policy_status(&rc, bucket, limit),
        read_public_grants(&rc, bucket, limit),
        read_public_access_block(&rc, bucket, limit),
        read_logging(&rc, bucket, limit),
        read_ownership(&rc, bucket, limit),
    );
    Observed::Ok(Some(BucketFacts {
        bucket: bucket.to_string(),
        region,
        policy,
        policy_public,
        public_acl_grants,
        public_access_block,
        logging,
        object_ownership,
    }))
}

/// GetBucketLocation: no constraint is us-east-1, and `EU` is the old name
/// of eu-west-1.
async fn read_location(rc: &RegionClients, bucket: &str, limit: &Limiter) -> Observed<String> {
    let _permit = limit.acquire().await;
    match rc.s3.get_bucket_location().bucket(bucket).send().await {
        Ok(out) => Observed::Ok(match out.location_constraint.as_ref().map(|c| c.as_str()) {
            None | Some("") => DEFAULT_REGION.to_string(),
            Some("EU") => "eu-west-1".to_string(),
            Some(r) => r.to_string(),
        }),
        Err(e) => Observed::Failed(failure(
            "s3:GetBucketLocation",
            &rc.region,
            Some(bucket),
            &e,
        )),
    }
}

/// A read's result, with the errors that say there is none (`absent`) as
/// `None`.
fn none_if<T>(result: Result<Option<T>, CallFailure>, absent: &[&str]) -> Observed<Option<T>> {
    match result {
        Ok(v) => Observed::Ok(v),
        Err(f) if f.code.as_deref().is_some_and(|c| absent.contains(&c)) => Observed::Ok(None),
        Err(f) => Observed::Failed(f),
    }
}

async fn read_policy(
    rc: &RegionClients,
    bucket: &str,
    limit: &Limiter,
) -> Observed<Option<String>> {
    let _permit = limit.acquire().await;
    let got = rc
        .s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .map(|out| out.policy)
        .map_err(|e| failure("s3:GetBucketPolicy", &rc.region, Some(bucket), &e));
    none_if(got, &["NoSuchBucketPolicy"])
}

/// S3's own judgement of the policy (conditions included): whether it
/// lets anyone in.
async fn read_policy_status(
    rc: &RegionClients,
    bucket: &str,
    limit: &Limiter,
) -> Observed<Option<bool>> {
    let _permit = limit.acquire().await;
    let got = rc
        .s3
        .get_bucket_policy_status()
        .bucket(bucket)
        .send()
        .await
        .map(|out| Some(out.policy_status.and_then(|p| p.is_public).unwrap_or(false)))
        .map_err(|e| failure("s3:GetBucketPolicyStatus", &rc.region, Some(bucket), &e));
    none_if(got, &["NoSuchBucketPolicy"])
}

async fn read_public_grants(
    rc: &RegionClients,
    bucket: &str,
    limit: &Limiter,
) -> Observed<Vec<String>> {
    let _permit = limit.acquire().await;
    match rc.s3.get_bucket_acl().bucket(bucket).send().await {
        Ok(out) => {
            let mut uris: Vec<String> = out
                .grants
                .unwrap_or_default()
                .into_iter()
                .filter_map(|g| g.grantee?.uri)
                .filter(|u| PUBLIC_GROUPS.contains(&u.as_str()))
                .collect();
            uris.sort();
            uris.dedup();
            Observed::Ok(uris)
        }
        Err(e) => Observed::Failed(failure("s3:GetBucketAcl", &rc.region, Some(bucket), &e)),
    }
}

async fn read_public_access_block(
    rc: &RegionClients,
    bucket: &str,
    limit: &Limiter,
) -> Observed<Option<PublicAccessBlock>> {
    let _permit = limit.acquire().await;
    let got = rc
        .s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .map(|out| {
            out.public_access_block_configuration
                .map(|c| PublicAccessBlock {
                    block_public_acls: c.block_public_acls.unwrap_or(false),
                    ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
                    block_public_policy: c.block_public_policy.unwrap_or(false),
                    restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
                })
        })
        .map_err(|e| {
            failure(
                "s3:GetBucketPublicAccessBlock",
                &rc.region,
                Some(bucket),
                &e,
            )
        });
    none_if(got, &["NoSuchPublicAccessBlockConfiguration"])
}

async fn read_logging(
    rc: &RegionClients,
    bucket: &str,
    limit: &Limiter,
) -> Observed<Option<BucketLogging>> {
    let _permit = limit.acquire().await;
    match rc.s3.get_bucket_logging().bucket(bucket).send().await {
        Ok(out) => Observed::Ok(out.logging_enabled.map(|l| BucketLogging {
            bucket: bucket.to_string(),
            target_bucket: l.target_bucket,
            target_prefix: l.target_prefix,
        })),
        Err(e) => Observed::Failed(failure("s3:GetBucketLogging", &rc.region, Some(bucket), &e)),
    }
}

async fn read_ownership(
    rc: &RegionClients,
    bucket: &str,
    limit: &Limiter,
) -> Observed<Option<String>> {
    let _permit = limit.acquire().await;
    let got = rc
        .s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
        .map(|out| {
            out.ownership_controls
                .and_then(|c| c.rules.into_iter().next())
                .map(|r| r.object_ownership.as_str().to_string())
        })
        .map_err(|e| {
            failure(
                "s3:GetBucketOwnershipControls",
                &rc.region,
                Some(bucket),
                &e,
            )
        });
    none_if(got, &["OwnershipControlsNotFoundError"])
}

/// The client for writes to `bucket` planned in `region`: that region's,
/// or, for a change not tied to a region, the bucket's own (located as the
/// reads locate it; a bucket not found yet is made in the home region).
pub async fn writer(aws: &Aws, region: &str, bucket: &str) -> Result<RegionClients, CallFailure> {
    if region != GLOBAL {
        return Ok(aws.region(region));
    }
    let at = head(aws, bucket, None, &Limiter::new(1))
        .await?
        .unwrap_or_else(|| aws.home_region().to_string());
    Ok(aws.region(&at))
}

/// Creates the bucket in the client's region; one this account already owns
/// counts as made (a re-run after an interrupted apply).
pub async fn create_bucket(rc: &RegionClients, bucket: &str) -> Result<(), CallFailure> {
    let call = "s3:CreateBucket";
    let mut req = rc.s3.create_bucket().bucket(bucket);
    // us-east-1 takes no location constraint (AWS rejects one naming it).
    if rc.region != DEFAULT_REGION {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(rc.region.as_str()))
                .build(),
        );
    }
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let f = failure(call, &rc.region, Some(bucket), &e);
            if f.code.as_deref() == Some("BucketAlreadyOwnedByYou") {
                Ok(())
            } else {
                Err(f)
            }
        }
    }
}

pub async fn put_ownership_controls(
    rc: &RegionClients,
    bucket: &str,
    object_ownership: &str,
) -> Result<(), CallFailure> {
    let call = "s3:PutBucketOwnershipControls";
    let bad = |e: aws_smithy_types::error::operation::BuildError| {
        refused(call, &rc.region, Some(bucket), e.to_string())
    };
    let controls = OwnershipControls::builder()
        .rules(
            OwnershipControlsRule::builder()
                .object_ownership(ObjectOwnership::from(object_ownership))
                .build()
                .map_err(bad)?,
        )
        .build()
        .map_err(bad)?;
    rc.s3
        .put_bucket_ownership_controls()
        .bucket(bucket)
        .ownership_controls(controls)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure(call, &rc.region, Some(bucket), &e))
}

pub async fn put_public_access_block(
    rc: &RegionClients,
    bucket: &str,
    settings: &PublicAccessBlock,
) -> Result<(), CallFailure> {
    rc.s3
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(settings.block_public_acls)
                .ignore_public_acls(settings.ignore_public_acls)
                .block_public_policy(settings.block_public_policy)
                .restrict_public_buckets(settings.restrict_public_buckets)
                .build(),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            failure(
                "s3:PutBucketPublicAccessBlock",
                &rc.region,
                Some(bucket),
                &e,
            )
        })
}

pub async fn put_bucket_policy(
    rc: &RegionClients,
    bucket: &str,
    policy: &str,
) -> Result<(), CallFailure> {
    rc.s3
        .put_bucket_policy()
        .bucket(bucket)
        .policy(policy)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure("s3:PutBucketPolicy", &rc.region, Some(bucket), &e))
}

pub async fn put_bucket_logging(
    rc: &RegionClients,
    bucket: &str,
    target_bucket: &str,
    target_prefix: &str,
) -> Result<(), CallFailure> {
    let call = "s3:PutBucketLogging";
    let enabled = LoggingEnabled::builder()
        .target_bucket(target_bucket)
        .target_prefix(target_prefix)
        .build()
        .map_err(|e| refused(call, &rc.region, Some(bucket), e.to_string()))?;
    rc.s3
        .put_bucket_logging()
        .bucket(bucket)
        .bucket_logging_status(
            BucketLoggingStatus::builder()
                .logging_enabled(enabled)
                .build(),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure(call, &rc.region, Some(bucket), &e))
}
