//! IAM's account password policy, read and written. IAM is global: the
//! calls go to the run's IAM client, and the reads and writes are keyed by
//! the region `global`.

use super::Limiter;
use super::clients::Aws;
use super::error::failure;
use crate::address::GLOBAL;
use crate::kinds::{PasswordPolicy, password_policy};
use crate::observed::{CallFailure, Observed};

/// The policy; an account without one is `None`, a fact rather than a
/// failure (`NoSuchEntity`).
pub async fn read_password_policy(aws: &Aws, limit: &Limiter) -> Observed<Option<PasswordPolicy>> {
    let got = {
        let _permit = limit.acquire().await;
        aws.iam().get_account_password_policy().send().await
    };
    match got {
        Ok(out) => Observed::Ok(out.password_policy.map(|p| {
            let count = |n: Option<i32>| n.and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0);
            PasswordPolicy {
                // Always sent by AWS; 6 is its default, should it not be.
                minimum_password_length: count(p.minimum_password_length).unwrap_or(6),
                require_symbols: p.require_symbols,
                require_numbers: p.require_numbers,
                require_uppercase_characters: p.require_uppercase_characters,
                require_lowercase_characters: p.require_lowercase_characters,
                allow_users_to_change_password: p.allow_users_to_change_password,
                // AWS omits an unset limit; moto says 0. Both mean "never"
                // here, and 0 could not be sent back (the range starts at 1).
                max_password_age: count(p.max_password_age),
                password_reuse_prevention: count(p.password_reuse_prevention),
                hard_expiry: p.hard_expiry.unwrap_or(false),
            }
        })),
        Err(e) => {
            let f = failure(password_policy::READ, GLOBAL, None, &e);
            let missing = e
                .as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception())
                || matches!(
                    f.code.as_deref(),
                    Some("NoSuchEntity" | "NoSuchEntityException")
                );
            if missing {
                Observed::Ok(None)
            } else {
                Observed::Failed(f)
            }
        }
    }
}

/// Creates or replaces the policy with every field of `p`. An unset age or
/// reuse limit is omitted, which is the only way to unset it.
pub async fn update_password_policy(aws: &Aws, p: &PasswordPolicy) -> Result<(), CallFailure> {
    let call = password_policy::WRITE;
    let number = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    aws.iam()
        .update_account_password_policy()
        .minimum_password_length(number(p.minimum_password_length))
        .require_symbols(p.require_symbols)
        .require_numbers(p.require_numbers)
        .require_uppercase_characters(p.require_uppercase_characters)
        .require_lowercase_characters(p.require_lowercase_characters)
        .allow_users_to_change_password(p.allow_users_to_change_password)
        .set_max_password_age(p.expires_after().map(number))
        .set_password_reuse_prevention(p.password_reuse_prevention.filter(|n| *n > 0).map(number))
        .hard_expiry(p.hard_expiry)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure(call, GLOBAL, None, &e))
}
