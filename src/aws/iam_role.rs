//! The IAM role CloudTrail assumes to deliver to its log group: read (with
//! its inline policy of the same name) and written. IAM is global, so every
//! call goes to the one IAM endpoint, whatever region the run is in.

use std::borrow::Cow;

use super::Limiter;
use super::clients::Aws;
use super::error::{failure, malformed};
use crate::address::GLOBAL;
use crate::kinds::iam_role::{READ, READ_POLICY};
use crate::kinds::{IamRole, InlinePolicy};
use crate::observed::{CallFailure, Observed};

/// The role named `name` with its inline policy named `name`; `None` when
/// there is no such role (a fact, not a failure). A role without that
/// inline policy has `inline_policy: None`.
pub async fn read_role(aws: &Aws, name: &str, limit: &Limiter) -> Observed<Option<IamRole>> {
    let iam = aws.iam();
    let got = {
        let _permit = limit.acquire().await;
        iam.get_role().role_name(name).send().await
    };
    let role = match got {
        Ok(out) => match out.role {
            Some(r) => r,
            None => return Observed::Failed(malformed(READ, GLOBAL, "Role")),
        },
        Err(e) => {
            let f = failure(READ, GLOBAL, Some(name), &e);
            return if f.code.as_deref() == Some("NoSuchEntity") {
                Observed::Ok(None)
            } else {
                Observed::Failed(f)
            };
        }
    };
    let got = {
        let _permit = limit.acquire().await;
        iam.get_role_policy()
            .role_name(name)
            .policy_name(name)
            .send()
            .await
    };
    let inline_policy = match got {
        Ok(out) => Some(InlinePolicy {
            name: out.policy_name,
            policy: decoded(&out.policy_document).into_owned(),
        }),
        Err(e) => {
            let f = failure(READ_POLICY, GLOBAL, Some(name), &e);
            if f.code.as_deref() == Some("NoSuchEntity") {
                None
            } else {
                return Observed::Failed(f);
            }
        }
    };
    Observed::Ok(Some(IamRole {
        name: role.role_name,
        assume_role_policy: role
            .assume_role_policy_document
            .as_deref()
            .map(|d| decoded(d).into_owned())
            .unwrap_or_default(),
        inline_policy,
    }))
}

/// IAM returns policy documents URL-encoded (RFC 3986), on AWS and in moto
/// alike; the SDK passes them on as they came. A document that is already
/// JSON (`{` first; an encoded one starts `%7B`) is left as it is.
fn decoded(doc: &str) -> Cow<'_, str> {
    if doc.trim_start().starts_with('{') {
        return Cow::Borrowed(doc);
    }
    percent_encoding::percent_decode_str(doc)
        .decode_utf8()
        .unwrap_or(Cow::Borrowed(doc))
}

/// Creates the role; one of that name that already exists counts as made
/// (its trust policy is read, and fixed, by the next plan).
pub async fn create_role(aws: &Aws, name: &str, trust_policy: &str) -> Result<(), CallFailure> {
    let call = "iam:CreateRole";
    match aws
        .iam()
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust_policy)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let f = failure(call, GLOBAL, Some(name), &e);
            if f.code.as_deref() == Some("EntityAlreadyExists") {
                Ok(())
            } else {
                Err(f)
            }
        }
    }
}

pub async fn update_assume_role_policy(
    aws: &Aws,
    name: &str,
    policy: &str,
) -> Result<(), CallFailure> {
    aws.iam()
        .update_assume_role_policy()
        .role_name(name)
        .policy_document(policy)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure("iam:UpdateAssumeRolePolicy", GLOBAL, Some(name), &e))
}

/// Creates or replaces the role's inline policy of that name.
pub async fn put_role_policy(
    aws: &Aws,
    role: &str,
    policy_name: &str,
    policy: &str,
) -> Result<(), CallFailure> {
    aws.iam()
        .put_role_policy()
        .role_name(role)
        .policy_name(policy_name)
        .policy_document(policy)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure("iam:PutRolePolicy", GLOBAL, Some(role), &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_decoded_once() {
        let raw = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22cloudtrail.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        assert_eq!(decoded(encoded), raw);
        assert_eq!(decoded(raw), raw);
        // A literal percent sign in an unencoded document stays as it is.
        let pct = r#"{"Sid":"100%25"}"#;
        assert_eq!(decoded(pct), pct);
        // Spaces arrive as %20 (RFC 3986), never as `+`.
        assert_eq!(decoded("%7B%22a%22%3A%20%22b+c%22%7D"), r#"{"a": "b+c"}"#);
    }
}
