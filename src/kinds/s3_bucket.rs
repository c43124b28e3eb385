//! S3 buckets of trails: `aws_s3_bucket` for the one bucket cis-fix creates
//! (only when the account has no trail at all), and what a trail's bucket is
//! read for: where it lives, whether it is public, whether its accesses are
//! logged. A bucket is never deleted.

use serde::{Deserialize, Serialize};

use super::{Action, Kind, ReadData, WriteCall};
use crate::address::Location;
use crate::observed::Observed;

/// The bucket cis-fix creates for a new trail: owner-enforced, public access
/// blocked, with the policy CloudTrail needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Bucket {
    pub bucket: String,
    /// `BucketOwnerEnforced`: ACLs off, every object the bucket owner's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_ownership: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<PublicAccessBlock>,
    /// The bucket policy (JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// The four switches of S3 Block Public Access.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    pub const ALL: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
}

/// `aws_s3_bucket_public_access_block` on a trail's existing bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketPublicAccessBlock {
    pub bucket: String,
    #[serde(flatten)]
    pub settings: PublicAccessBlock,
}

/// `aws_s3_bucket_logging`: server access logs of a trail's bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketLogging {
    pub bucket: String,
    pub target_bucket: String,
    #[serde(default)]
    pub target_prefix: String,
}

/// What the reads of one bucket found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketFacts {
    pub bucket: String,
    /// The bucket's region (GetBucketLocation; `us-east-1` for none).
    pub region: Observed<String>,
    /// `None`: no bucket policy.
    pub policy: Observed<Option<String>>,
    /// S3's own judgement of the policy (GetBucketPolicyStatus): whether it
    /// lets anyone in, conditions weighed. `None`: no bucket policy.
    pub policy_public: Observed<Option<bool>>,
    /// Grants of the ACL to everyone or to any authenticated AWS user (the
    /// grantee group URIs).
    pub public_acl_grants: Observed<Vec<String>>,
    /// `None`: no bucket-level block.
    pub public_access_block: Observed<Option<PublicAccessBlock>>,
    /// `None`: server access logging is off.
    pub logging: Observed<Option<BucketLogging>>,
    /// `None`: no ownership controls.
    pub object_ownership: Observed<Option<String>>,
}

/// The read of one bucket (its resource is the bucket name; HeadBucket's IAM
/// action is `s3:ListBucket`). `None`: the bucket does not exist.
pub const READ: &str = "s3:ListBucket";
pub const READ_ACTIONS: &[&str] = &[
    READ,
    "s3:GetBucketLocation",
    "s3:GetBucketPolicy",
    "s3:GetBucketPolicyStatus",
    "s3:GetBucketAcl",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketLogging",
    "s3:GetBucketOwnershipControls",
];

/// `Some(None)`: the bucket does not exist (or is not this account's).
pub fn from_read(d: &ReadData) -> Option<Option<&BucketFacts>> {
    match d {
        ReadData::Bucket(b) => Some(b.as_ref()),
        _ => None,
    }
}

fn bucket_arn(partition: &str, bucket: &str) -> String {
    format!("arn:{partition}:s3:::{bucket}")
}

impl Kind for S3Bucket {
    const TYPE: &'static str = "aws_s3_bucket";
    const READ_ACTIONS: &'static [&'static str] = READ_ACTIONS;
    const WRITE_ACTIONS: &'static [&'static str] = &[
        "s3:CreateBucket",
        "s3:PutBucketOwnershipControls",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketPolicy",
    ];
    const LABEL: &'static str = "S3 bucket";

    fn calls(action: Action, before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        let Some(b) = after else { return vec![] };
        let mut out = Vec::new();
        match action {
            Action::Create => out.push(WriteCall::CreateBucket {
                bucket: b.bucket.clone(),
            }),
            Action::Update => {}
            _ => return vec![],
        }
        let was = |f: &dyn Fn(&S3Bucket) -> bool| before.is_some_and(f);
        if let Some(o) = &b.object_ownership
            && !was(&|x| x.object_ownership.as_ref() == Some(o))
        {
            out.push(WriteCall::PutBucketOwnershipControls {
                bucket: b.bucket.clone(),
                object_ownership: o.clone(),
            });
        }
        if let Some(p) = b.public_access_block
            && !was(&|x| x.public_access_block == Some(p))
        {
            out.push(WriteCall::PutPublicAccessBlock {
                bucket: b.bucket.clone(),
                settings: p,
            });
        }
        if let Some(p) = &b.policy
            && !was(&|x| {
                x.policy
                    .as_ref()
                    .is_some_and(|bp| super::iam_role::same_policy(bp, p))
            })
        {
            out.push(WriteCall::PutBucketPolicy {
                bucket: b.bucket.clone(),
                policy: p.clone(),
            });
        }
        out
    }

    fn planned_arn(&self, _at: &Location, partition: &str) -> Option<String> {
        Some(bucket_arn(partition, &self.bucket))
    }
}

impl Kind for BucketPublicAccessBlock {
    const TYPE: &'static str = "aws_s3_bucket_public_access_block";
    const READ_ACTIONS: &'static [&'static str] = READ_ACTIONS;
    const WRITE_ACTIONS: &'static [&'static str] = &["s3:PutBucketPublicAccessBlock"];
    const LABEL: &'static str = "S3 bucket public access block";

    fn calls(action: Action, _before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        match (action, after) {
            (Action::Create | Action::Update, Some(b)) => vec![WriteCall::PutPublicAccessBlock {
                bucket: b.bucket.clone(),
                settings: b.settings,
            }],
            _ => vec![],
        }
    }

    fn planned_arn(&self, _at: &Location, partition: &str) -> Option<String> {
        Some(bucket_arn(partition, &self.bucket))
    }
}

impl Kind for BucketLogging {
    const TYPE: &'static str = "aws_s3_bucket_logging";
    const READ_ACTIONS: &'static [&'static str] = READ_ACTIONS;
    const WRITE_ACTIONS: &'static [&'static str] = &["s3:PutBucketLogging"];
    const LABEL: &'static str = "S3 bucket access logging";

    fn calls(action: Action, _before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        match (action, after) {
            (Action::Create | Action::Update, Some(b)) => vec![WriteCall::PutBucketLogging {
                bucket: b.bucket.clone(),
                target_bucket: b.target_bucket.clone(),
                target_prefix: b.target_prefix.clone(),
            }],
            _ => vec![],
        }
    }

    fn planned_arn(&self, _at: &Location, partition: &str) -> Option<String> {
        Some(bucket_arn(partition, &self.bucket))
    }
}
