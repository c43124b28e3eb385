//! `aws_iam_account_password_policy`: the account's one password policy
//! (IAM, so global: no region). It is read whole and written whole:
//! UpdateAccountPasswordPolicy has no partial update, and every field it is
//! not given goes back to AWS's default, so the kind always sends every
//! field and the diff decides each one.

use serde::{Deserialize, Serialize};

use super::{Action, Kind, ReadData, WriteCall};

/// The read of the policy (no policy at all is `NoSuchEntity`, a fact).
pub const READ: &str = "iam:GetAccountPasswordPolicy";
/// The write that creates or replaces it.
pub const WRITE: &str = "iam:UpdateAccountPasswordPolicy";
/// The policy's Terraform name: an account has one.
pub const NAME: &str = "this";

/// The policy as GetAccountPasswordPolicy shows it and
/// UpdateAccountPasswordPolicy takes it. Every field is always present in
/// the plan (an unset limit is `null`), so an update shows what is kept as
/// well as what changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    pub minimum_password_length: u32,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub allow_users_to_change_password: bool,
    /// Days a password lasts; `None`: passwords never expire (AWS omits the
    /// field; 0 is read as `None` too, see [`PasswordPolicy::expires_after`]).
    #[serde(default)]
    pub max_password_age: Option<u32>,
    /// How many previous passwords cannot be reused; `None`: any may be.
    #[serde(default)]
    pub password_reuse_prevention: Option<u32>,
    /// Whether an expired password locks the user out until an
    /// administrator resets it.
    pub hard_expiry: bool,
}

impl PasswordPolicy {
    /// What an account without a policy does, as AWS documents it
    /// (UpdateAccountPasswordPolicy's defaults for every omitted field).
    pub fn aws_defaults() -> Self {
        PasswordPolicy {
            minimum_password_length: 6,
            require_symbols: false,
            require_numbers: false,
            require_uppercase_characters: false,
            require_lowercase_characters: false,
            allow_users_to_change_password: false,
            max_password_age: None,
            password_reuse_prevention: None,
            hard_expiry: false,
        }
    }

    /// Days before a password expires; `None` when it never does (0 is how
    /// some readers, moto among them, say "never").
    pub fn expires_after(&self) -> Option<u32> {
        self.max_password_age.filter(|d| *d > 0)
    }

    /// How many previous passwords are remembered (0: none).
    pub fn remembered(&self) -> u32 {
        self.password_reuse_prevention.unwrap_or(0)
    }
}

/// `Some(None)`: the account has no password policy.
pub fn from_read(d: &ReadData) -> Option<Option<&PasswordPolicy>> {
    match d {
        ReadData::PasswordPolicy(p) => Some(p.as_ref()),
        _ => None,
    }
}

impl Kind for PasswordPolicy {
    const TYPE: &'static str = "aws_iam_account_password_policy";
    const READ_ACTIONS: &'static [&'static str] = &[READ];
    const WRITE_ACTIONS: &'static [&'static str] = &[WRITE];
    const LABEL: &'static str = "IAM account password policy";
    /// Every field is sent on every write: the plan shows the kept ones too.
    const SHOWS_KEPT: bool = true;

    /// One call creates or replaces the policy. It is never deleted: that
    /// would put the account back to AWS's weakest defaults (no calls:
    /// apply refuses).
    fn calls(action: Action, _before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        match (action, after) {
            (Action::Create | Action::Update | Action::Replace, Some(p)) => {
                vec![WriteCall::UpdateAccountPasswordPolicy(p.clone())]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_in_the_plan_form_even_when_unset() {
        let v = serde_json::to_value(PasswordPolicy::aws_defaults()).expect("serialises");
        let keys: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 9, "{keys:?}");
        assert!(v["max_password_age"].is_null());
        assert!(v["password_reuse_prevention"].is_null());
        let back: PasswordPolicy = serde_json::from_value(v).expect("parses");
        assert_eq!(back, PasswordPolicy::aws_defaults());
    }

    #[test]
    fn create_and_update_write_the_whole_policy_and_nothing_deletes_it() {
        let p = PasswordPolicy {
            minimum_password_length: 14,
            ..PasswordPolicy::aws_defaults()
        };
        for action in [Action::Create, Action::Update] {
            assert_eq!(
                PasswordPolicy::calls(action, None, Some(&p)),
                vec![WriteCall::UpdateAccountPasswordPolicy(p.clone())]
            );
        }
        assert!(PasswordPolicy::calls(Action::Delete, Some(&p), None).is_empty());
    }

    #[test]
    fn zero_days_means_never_expires() {
        let mut p = PasswordPolicy::aws_defaults();
        assert_eq!(p.expires_after(), None);
        p.max_password_age = Some(0);
        assert_eq!(p.expires_after(), None);
        p.max_password_age = Some(60);
        assert_eq!(p.expires_after(), Some(60));
    }
}
