//! `aws_ebs_encryption_by_default`: the per-region switch that makes EC2
//! encrypt every new EBS volume (Terraform's resource of that name). It is
//! safe to turn on: existing volumes are untouched and new ones are
//! encrypted with the region's default EBS key. cis-fix never turns it off.

use serde::{Deserialize, Serialize};

use super::{Action, Kind, ReadData, WriteCall};

/// GetEbsEncryptionByDefault, per region.
pub const READ: &str = "ec2:GetEbsEncryptionByDefault";
pub const WRITE: &str = "ec2:EnableEbsEncryptionByDefault";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EbsEncryptionByDefault {
    pub enabled: bool,
}

pub fn from_read(d: &ReadData) -> Option<bool> {
    match d {
        ReadData::EbsEncryptionByDefault(on) => Some(*on),
        _ => None,
    }
}

impl Kind for EbsEncryptionByDefault {
    const TYPE: &'static str = "aws_ebs_encryption_by_default";
    const READ_ACTIONS: &'static [&'static str] = &[READ];
    const WRITE_ACTIONS: &'static [&'static str] = &[WRITE];
    const LABEL: &'static str = "EBS encryption by default";

    fn calls(action: Action, before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        match (action, before, after) {
            (Action::Update, Some(b), Some(a)) if a.enabled && !b.enabled => {
                vec![WriteCall::EnableEbsEncryptionByDefault]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_turning_it_on_makes_a_call() {
        let (off, on) = (
            EbsEncryptionByDefault { enabled: false },
            EbsEncryptionByDefault { enabled: true },
        );
        assert_eq!(
            EbsEncryptionByDefault::calls(Action::Update, Some(&off), Some(&on)),
            [WriteCall::EnableEbsEncryptionByDefault]
        );
        assert!(EbsEncryptionByDefault::calls(Action::Update, Some(&on), Some(&off)).is_empty());
    }
}
