//! `aws_kms_key`: the customer managed key CloudTrail encrypts log files
//! with, found again by its alias (or, after an apply interrupted between
//! creating the key and naming it, by its description). Never deleted or
//! disabled: logs encrypted with it could not be read again.

use serde::{Deserialize, Serialize};

use super::{Action, Deferred, Kind, ReadData, WriteCall};
use crate::address::Location;
use crate::observed::Observed;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KmsKey {
    /// `alias/...`; `None` on a key found without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    pub description: String,
    /// The key policy (JSON).
    pub policy: String,
    pub enable_key_rotation: bool,
    pub arn: Deferred,
}

/// A key as the region's reads show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KmsKeyFacts {
    pub arn: String,
    #[serde(default)]
    pub description: String,
    /// `CUSTOMER` or `AWS`.
    pub key_manager: String,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`, `HMAC_256`, ...
    pub key_spec: String,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY`, `GENERATE_VERIFY_MAC`, ...
    pub key_usage: String,
    /// `AWS_KMS`, `EXTERNAL`, `AWS_CLOUDHSM`, `EXTERNAL_KEY_STORE`.
    pub origin: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, ...
    pub key_state: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// A multi-Region replica key (its rotation is its primary's).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replica: bool,
    /// Read for the keys cis-fix may use for CloudTrail, and for every key
    /// the benchmark's rotation applies to (`kms_key_rotation::skip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_enabled: Option<Observed<bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Observed<String>>,
}

impl KmsKeyFacts {
    /// A key CloudTrail can encrypt with: customer managed, enabled,
    /// symmetric, for encryption.
    pub fn usable_for_trails(&self) -> bool {
        self.key_manager == "CUSTOMER"
            && self.key_state == "Enabled"
            && self.key_spec == "SYMMETRIC_DEFAULT"
            && self.key_usage == "ENCRYPT_DECRYPT"
    }
}

/// The read that lists a region's keys (with DescribeKey per key, and
/// ListAliases to name them).
pub const READ: &str = "kms:ListKeys";

pub fn from_read(d: &ReadData) -> Option<&[KmsKeyFacts]> {
    match d {
        ReadData::KmsKeys(v) => Some(v),
        _ => None,
    }
}

impl Kind for KmsKey {
    const TYPE: &'static str = "aws_kms_key";
    const READ_ACTIONS: &'static [&'static str] = &[
        READ,
        "kms:ListAliases",
        "kms:DescribeKey",
        "kms:GetKeyRotationStatus",
        "kms:GetKeyPolicy",
    ];
    const WRITE_ACTIONS: &'static [&'static str] = &[
        "kms:CreateKey",
        "kms:CreateAlias",
        "kms:EnableKeyRotation",
        "kms:PutKeyPolicy",
    ];
    const LABEL: &'static str = "KMS key";

    fn calls(action: Action, before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        let Some(k) = after else { return vec![] };
        match (action, before) {
            (Action::Create, _) => {
                let made = Deferred::Made { made: "arn".into() };
                let mut out = vec![WriteCall::CreateKey {
                    description: k.description.clone(),
                    policy: k.policy.clone(),
                }];
                if let Some(a) = &k.alias {
                    out.push(WriteCall::CreateAlias {
                        alias: a.clone(),
                        key: made.clone(),
                    });
                }
                if k.enable_key_rotation {
                    out.push(WriteCall::EnableKeyRotation { key: made });
                }
                out
            }
            (Action::Update, Some(b)) => {
                let mut out = Vec::new();
                if !super::iam_role::same_policy(&b.policy, &k.policy) {
                    out.push(WriteCall::PutKeyPolicy {
                        key: k.arn.clone(),
                        policy: k.policy.clone(),
                    });
                }
                if let Some(a) = &k.alias
                    && b.alias.as_ref() != Some(a)
                {
                    out.push(WriteCall::CreateAlias {
                        alias: a.clone(),
                        key: k.arn.clone(),
                    });
                }
                if k.enable_key_rotation && !b.enable_key_rotation {
                    out.push(WriteCall::EnableKeyRotation { key: k.arn.clone() });
                }
                out
            }
            _ => vec![],
        }
    }

    /// A key's ARN holds a random id; the alias's ARN is what IAM can be
    /// told in advance.
    fn planned_arn(&self, at: &Location, partition: &str) -> Option<String> {
        Some(format!(
            "arn:{partition}:kms:{}:{}:key/*",
            at.region,
            at.account.as_deref().unwrap_or("*")
        ))
    }
}
