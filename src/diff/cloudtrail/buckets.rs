//! The trail buckets' controls: not public, and their accesses logged. A
//! public bucket gets S3 Block Public Access (which makes a public ACL or
//! policy ineffective without editing either); access logging needs a
//! target bucket only the user can name.

use super::policies;
use super::{Ctx, Verdict};
use crate::address::{Address, GLOBAL};
use crate::kinds::{
    BucketFacts, BucketLogging, BucketPublicAccessBlock, Kind, PublicAccessBlock, Resource,
    s3_bucket,
};
use crate::observed::Observed;
use crate::plan::{Action, Cause, Change};

/// The facts of `bucket`, or the verdict when they cannot be had.
fn facts<'a>(cx: &Ctx<'a>, bucket: &str, trail: &str) -> Result<&'a BucketFacts, Verdict> {
    match cx
        .snap
        .read(s3_bucket::READ, GLOBAL, Some(bucket), s3_bucket::from_read)
    {
        Err(e) => Err(Verdict::unknown(e)),
        Ok(None) => Err(Verdict::Blocked(
            format!(
                "bucket `{bucket}` of trail `{trail}` does not exist, so the trail delivers no log files; point the trail at a bucket"
            ),
            None,
        )),
        Ok(Some(f)) => Ok(f),
    }
}

fn get<T: Clone>(o: &Observed<T>) -> Result<T, Verdict> {
    o.as_ref().cloned().map_err(|e| Verdict::unknown(e.clone()))
}

/// Keyed by the bucket's name: names that differ only in `.` and `-` are
/// one Terraform name.
fn address(cx: &Ctx<'_>, kind: &str, bucket: &str, region: &str) -> Address {
    Address::new(&cx.out.at(region), kind, "trail_bucket").with_key(bucket)
}

/// Is the bucket public, and if so, block it.
pub fn not_public(cx: &mut Ctx<'_>, bucket: &str, trail: &str, control: &str) -> Verdict {
    match not_public_inner(cx, bucket, trail, control) {
        Ok(v) | Err(v) => v,
    }
}

fn not_public_inner(
    cx: &mut Ctx<'_>,
    bucket: &str,
    trail: &str,
    control: &str,
) -> Result<Verdict, Verdict> {
    let f = facts(cx, bucket, trail)?;
    let block = get(&f.public_access_block)?;
    if block.is_some_and(|b| b.ignore_public_acls && b.restrict_public_buckets) {
        return Ok(Verdict::Holds(format!(
            "bucket `{bucket}` blocks public ACLs and policies"
        )));
    }
    let grants = get(&f.public_acl_grants)?;
    let policy = get(&f.policy)?;
    // S3's own verdict on the policy weighs its conditions; the benchmark's
    // literal test (an Allow to `*` without a condition) only names the
    // statement.
    let policy_public = get(&f.policy_public)?;
    let mut public = Vec::new();
    if !grants.is_empty() {
        public.push(format!("its ACL grants {}", grants.join(", ")));
    }
    let literal = policy.as_deref().and_then(policies::public_statement);
    match (policy_public, literal) {
        (_, Some(s)) => public.push(format!("its policy allows everyone ({s})")),
        (Some(true), None) => public.push("S3 finds its policy public".into()),
        _ => {}
    }
    if public.is_empty() {
        return Ok(Verdict::Holds(format!(
            "bucket `{bucket}` grants nothing to everyone"
        )));
    }
    let region = get(&f.region)?;
    let before = block.map(|settings| BucketPublicAccessBlock {
        bucket: bucket.to_string(),
        settings,
    });
    let after = BucketPublicAccessBlock {
        bucket: bucket.to_string(),
        settings: PublicAccessBlock::ALL,
    };
    let at = address(cx, BucketPublicAccessBlock::TYPE, bucket, &region);
    cx.out.change(Change {
        address: at.clone(),
        action: if before.is_some() {
            Action::Update
        } else {
            Action::Create
        },
        controls: vec![],
        reason: format!(
            "trail `{trail}`'s bucket is public: {}; Block Public Access makes that ACL and policy ineffective (they are not edited)",
            public.join(" and ")
        ),
        before: before.map(Resource::BucketPublicAccessBlock),
        after: Some(Resource::BucketPublicAccessBlock(after)),
        depends_on: vec![],
    });
    cx.out.serve(&at, control);
    Ok(Verdict::Fix(format!(
        "blocks public access to bucket `{bucket}`"
    )))
}

/// Are the bucket's accesses logged; if not, log them where the config
/// says, or say what the user must decide. `made`: the bucket is created
/// by this plan (its facts are not read), in `region`.
pub fn access_logging(
    cx: &mut Ctx<'_>,
    bucket: &str,
    trail: &str,
    control: &str,
    made: Option<(&str, &Address)>,
) -> Verdict {
    let region = match made {
        Some((region, _)) => region.to_string(),
        None => {
            let f = match facts(cx, bucket, trail) {
                Ok(f) => f,
                Err(v) => return v,
            };
            match get(&f.logging) {
                Err(v) => return v,
                Ok(Some(l)) => {
                    return Verdict::Holds(format!(
                        "bucket `{bucket}` logs its accesses to `{}`",
                        l.target_bucket
                    ));
                }
                Ok(None) => {}
            }
            match get(&f.region) {
                Ok(r) => r,
                Err(v) => return v,
            }
        }
    };
    let Some(target) = cx.d.access_logs.clone() else {
        return Verdict::Blocked(
            format!(
                "bucket `{bucket}` of trail `{trail}` does not log its accesses, and access logs need a target bucket only you can choose: name one as cloudtrail.access_logs.bucket in cis-fix.yaml"
            ),
            Some(Cause::NeedsSetting {
                setting: "cloudtrail.access_logs.bucket".into(),
            }),
        );
    };
    if target.bucket == bucket {
        return Verdict::Blocked(
            format!(
                "cloudtrail.access_logs.bucket is `{bucket}`, the trail's own bucket: logging its accesses into itself would log each log write again, without end; name another bucket"
            ),
            None,
        );
    }
    let at = address(cx, BucketLogging::TYPE, bucket, &region);
    cx.out.change(Change {
        address: at.clone(),
        action: Action::Create,
        controls: vec![control.to_string()],
        reason: format!(
            "trail `{trail}`'s bucket does not log its accesses; the target bucket `{}` (from cis-fix.yaml) must be in {region} and let logging.s3.amazonaws.com write to it",
            target.bucket
        ),
        before: None,
        after: Some(Resource::BucketLogging(BucketLogging {
            bucket: bucket.to_string(),
            target_bucket: target.bucket.clone(),
            target_prefix: target.prefix.clone(),
        })),
        depends_on: made.map(|(_, a)| vec![a.clone()]).unwrap_or_default(),
    });
    Verdict::Fix(format!(
        "logs bucket `{bucket}`'s accesses to `{}`",
        target.bucket
    ))
}
