//! `aws_kms_key_rotation`: automatic yearly rotation of one existing
//! customer managed key, the one thing the KMS rotation control changes.
//!
//! Terraform manages rotation as `enable_key_rotation` of `aws_kms_key`, but
//! that resource owns the whole key (description, policy, deletion window),
//! and cis-fix's `aws_kms_key` is its own CloudTrail key, with its policy.
//! The keys this control turns rotation on for are the account's, read but
//! never owned: modelling them as `aws_kms_key` would show (and, in a plan,
//! seem to manage) a policy and description cis-fix neither read nor writes.
//! So rotation is a small kind of its own, in the way Terraform splits an
//! aspect of an existing resource into its own type (`aws_kms_key_policy`,
//! `aws_s3_bucket_logging`): an update of one flag, never a create or a
//! delete; rotation is never turned off.
//!
//! Which keys the benchmark's rotation applies to is decided here too
//! ([`skip`]), so the reader (which reads the rotation status of exactly
//! those keys) and the diff agree.

use serde::{Deserialize, Serialize};

use super::{Action, Deferred, Kind, KmsKeyFacts, WriteCall};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KmsKeyRotation {
    pub key_id: String,
    pub arn: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub enable_key_rotation: bool,
}

impl KmsKeyRotation {
    pub fn of(k: &KmsKeyFacts, enable_key_rotation: bool) -> Self {
        KmsKeyRotation {
            key_id: key_id(&k.arn).to_string(),
            arn: k.arn.clone(),
            aliases: k.aliases.clone(),
            enable_key_rotation,
        }
    }
}

/// The key id of a key ARN (`arn:…:key/<id>`), or the text itself.
pub fn key_id(arn: &str) -> &str {
    arn.rsplit_once(":key/").map_or(arn, |(_, id)| id)
}

/// Why a key is outside the benchmark's rotation: cis-fix lists it with
/// this reason and never changes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Skip {
    /// AWS manages (and rotates) it.
    AwsManaged,
    /// An asymmetric key: KMS rotates only symmetric encryption keys.
    Asymmetric {
        key_spec: String,
    },
    /// An HMAC key: KMS does not rotate them automatically.
    Hmac {
        key_spec: String,
    },
    /// A symmetric key for something other than encryption.
    Usage {
        key_usage: String,
    },
    /// Imported key material (origin EXTERNAL): rotated by hand only.
    ImportedMaterial,
    /// Material in a custom key store (CloudHSM or external).
    CustomKeyStore {
        origin: String,
    },
    /// A multi-Region replica: it shares its primary key's rotation.
    Replica,
    PendingDeletion,
    /// Disabled, or in another state that is not `Enabled`.
    NotEnabled {
        key_state: String,
    },
    /// A key manager KMS did not report as CUSTOMER or AWS.
    UnknownManager {
        key_manager: String,
    },
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::AwsManaged => f.write_str("AWS managed: AWS rotates it itself"),
            Skip::Asymmetric { key_spec } => write!(
                f,
                "asymmetric ({key_spec}): KMS rotates only symmetric encryption keys"
            ),
            Skip::Hmac { key_spec } => write!(
                f,
                "HMAC ({key_spec}): KMS does not rotate HMAC keys automatically"
            ),
            Skip::Usage { key_usage } => write!(
                f,
                "key usage {key_usage}: KMS rotates only symmetric encryption keys"
            ),
            Skip::ImportedMaterial => f.write_str(
                "imported key material (origin EXTERNAL): KMS cannot rotate it; rotate it by hand",
            ),
            Skip::CustomKeyStore { origin } => write!(
                f,
                "key material in a custom key store (origin {origin}): KMS cannot rotate it"
            ),
            Skip::Replica => {
                f.write_str("multi-Region replica: it follows its primary key's rotation")
            }
            Skip::PendingDeletion => f.write_str("pending deletion"),
            Skip::NotEnabled { key_state } => write!(f, "{key_state}, not enabled"),
            Skip::UnknownManager { key_manager } => {
                write!(f, "key manager `{key_manager}`, not customer managed")
            }
        }
    }
}

/// Why `k` is outside the benchmark's rotation, or `None` when it is a
/// customer managed, enabled, symmetric encryption key with material KMS
/// made (origin AWS_KMS): the keys rotation must be on for. The lasting
/// reasons (who manages it, what it is) come before its state.
pub fn skip(k: &KmsKeyFacts) -> Option<Skip> {
    match k.key_manager.as_str() {
        "CUSTOMER" => {}
        "AWS" => return Some(Skip::AwsManaged),
        other => {
            return Some(Skip::UnknownManager {
                key_manager: other.to_string(),
            });
        }
    }
    if k.key_spec.starts_with("HMAC_") {
        return Some(Skip::Hmac {
            key_spec: k.key_spec.clone(),
        });
    }
    if k.key_spec != "SYMMETRIC_DEFAULT" {
        return Some(Skip::Asymmetric {
            key_spec: k.key_spec.clone(),
        });
    }
    if k.key_usage != "ENCRYPT_DECRYPT" {
        return Some(Skip::Usage {
            key_usage: k.key_usage.clone(),
        });
    }
    match k.origin.as_str() {
        "AWS_KMS" => {}
        "EXTERNAL" => return Some(Skip::ImportedMaterial),
        other => {
            return Some(Skip::CustomKeyStore {
                origin: other.to_string(),
            });
        }
    }
    if k.replica {
        return Some(Skip::Replica);
    }
    match k.key_state.as_str() {
        "Enabled" => None,
        "PendingDeletion" | "PendingReplicaDeletion" => Some(Skip::PendingDeletion),
        other => Some(Skip::NotEnabled {
            key_state: other.to_string(),
        }),
    }
}

impl Kind for KmsKeyRotation {
    const TYPE: &'static str = "aws_kms_key_rotation";
    const READ_ACTIONS: &'static [&'static str] = &[
        super::kms_key::READ,
        "kms:ListAliases",
        "kms:DescribeKey",
        "kms:GetKeyRotationStatus",
    ];
    const WRITE_ACTIONS: &'static [&'static str] = &["kms:EnableKeyRotation"];
    const LABEL: &'static str = "KMS key rotation";

    fn calls(action: Action, before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        match (action, before, after) {
            (Action::Update, Some(b), Some(a))
                if a.enable_key_rotation && !b.enable_key_rotation =>
            {
                vec![WriteCall::EnableKeyRotation {
                    key: Deferred::Known(a.arn.clone()),
                }]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn key(spec: &str, usage: &str, origin: &str, state: &str) -> KmsKeyFacts {
        KmsKeyFacts {
            arn: "arn:aws:kms:us-east-1:1:key/k1".into(),
            description: String::new(),
            key_manager: "CUSTOMER".into(),
            key_spec: spec.into(),
            key_usage: usage.into(),
            origin: origin.into(),
            key_state: state.into(),
            aliases: vec![],
            replica: false,
            rotation_enabled: None,
            policy: None,
        }
    }

    #[test]
    fn only_enabled_customer_symmetric_encryption_keys_of_kms_material_rotate() {
        let ok = key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "AWS_KMS", "Enabled");
        assert_eq!(skip(&ok), None);
        let cases = [
            (
                KmsKeyFacts {
                    key_manager: "AWS".into(),
                    ..ok.clone()
                },
                Skip::AwsManaged,
            ),
            (
                key("RSA_2048", "SIGN_VERIFY", "AWS_KMS", "Enabled"),
                Skip::Asymmetric {
                    key_spec: "RSA_2048".into(),
                },
            ),
            (
                key("HMAC_256", "GENERATE_VERIFY_MAC", "AWS_KMS", "Enabled"),
                Skip::Hmac {
                    key_spec: "HMAC_256".into(),
                },
            ),
            (
                key(
                    "SYMMETRIC_DEFAULT",
                    "ENCRYPT_DECRYPT",
                    "EXTERNAL",
                    "Enabled",
                ),
                Skip::ImportedMaterial,
            ),
            (
                key(
                    "SYMMETRIC_DEFAULT",
                    "ENCRYPT_DECRYPT",
                    "AWS_CLOUDHSM",
                    "Enabled",
                ),
                Skip::CustomKeyStore {
                    origin: "AWS_CLOUDHSM".into(),
                },
            ),
            (
                key(
                    "SYMMETRIC_DEFAULT",
                    "ENCRYPT_DECRYPT",
                    "EXTERNAL_KEY_STORE",
                    "Enabled",
                ),
                Skip::CustomKeyStore {
                    origin: "EXTERNAL_KEY_STORE".into(),
                },
            ),
            (
                key(
                    "SYMMETRIC_DEFAULT",
                    "ENCRYPT_DECRYPT",
                    "AWS_KMS",
                    "Disabled",
                ),
                Skip::NotEnabled {
                    key_state: "Disabled".into(),
                },
            ),
            (
                key(
                    "SYMMETRIC_DEFAULT",
                    "ENCRYPT_DECRYPT",
                    "AWS_KMS",
                    "PendingDeletion",
                ),
                Skip::PendingDeletion,
            ),
            (
                KmsKeyFacts {
                    replica: true,
                    ..ok.clone()
                },
                Skip::Replica,
            ),
            // A disabled asymmetric key is skipped for what it is.
            (
                key("ECC_NIST_P256", "SIGN_VERIFY", "AWS_KMS", "Disabled"),
                Skip::Asymmetric {
                    key_spec: "ECC_NIST_P256".into(),
                },
            ),
        ];
        for (k, want) in cases {
            assert_eq!(skip(&k), Some(want.clone()), "{k:?}");
            assert!(!want.to_string().is_empty());
        }
    }

    #[test]
    fn only_turning_rotation_on_makes_a_call() {
        let k = key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "AWS_KMS", "Enabled");
        let (off, on) = (KmsKeyRotation::of(&k, false), KmsKeyRotation::of(&k, true));
        assert_eq!(off.key_id, "k1");
        let calls = KmsKeyRotation::calls(Action::Update, Some(&off), Some(&on));
        assert_eq!(
            calls,
            [WriteCall::EnableKeyRotation {
                key: Deferred::Known(k.arn.clone())
            }]
        );
        assert!(KmsKeyRotation::calls(Action::Update, Some(&on), Some(&off)).is_empty());
        assert!(KmsKeyRotation::calls(Action::Create, None, Some(&on)).is_empty());
        assert!(KmsKeyRotation::calls(Action::Delete, Some(&on), None).is_empty());
    }
}
