//! An AWS Organization's member accounts, and a session in each: what
//! `--organization` fans out over. ListAccounts works from the management
//! account or a delegated administrator; each member is then reached
//! through a role of its own (STS AssumeRole), so a missing role or a
//! denied assumption is that account's failure alone.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;

use super::Limiter;
use super::clients::Aws;
use super::error::failure;
use crate::observed::CallFailure;

/// One member account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub name: Option<String>,
}

/// The organization as the caller sees it: its id, the management
/// account, and the ACTIVE accounts (suspended and closing ones cannot be
/// planned), in account id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: Option<String>,
    pub management_account: Option<String>,
    pub accounts: Vec<Member>,
}

/// How long an assumed session lasts: AssumeRole's default, which every
/// role allows; a run of one account takes minutes.
const SESSION: Duration = Duration::from_secs(3600);

/// DescribeOrganization and every page of ListAccounts.
pub async fn organization(aws: &Aws, limit: &Limiter) -> Result<Organization, CallFailure> {
    let region = aws.home_region().to_string();
    let client = aws.organizations();
    let described = {
        let _permit = limit.acquire().await;
        client.describe_organization().send().await
    };
    let org = described
        .map_err(|e| failure("organizations:DescribeOrganization", &region, None, &e))?
        .organization;
    let pages = super::all_pages(client.list_accounts().into_paginator().send(), limit)
        .await
        .map_err(|e| failure("organizations:ListAccounts", &region, None, &e))?;
    let mut accounts: Vec<Member> = pages
        .into_iter()
        .flat_map(|p| p.accounts.unwrap_or_default())
        .filter(|a| {
            a.state
                .as_ref()
                .map(|s| s.as_str() == "ACTIVE")
                // Older answers carry only the deprecated `Status`.
                .or_else(|| {
                    #[allow(deprecated)]
                    a.status.as_ref().map(|s| s.as_str() == "ACTIVE")
                })
                .unwrap_or(false)
        })
        .filter_map(|a| {
            Some(Member {
                id: a.id?,
                name: a.name,
            })
        })
        .collect();
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    accounts.dedup_by(|a, b| a.id == b.id);
    Ok(Organization {
        id: org.as_ref().and_then(|o| o.id.clone()),
        management_account: org.and_then(|o| o.master_account_id),
        accounts,
    })
}

/// The role to assume in each account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub external_id: Option<String>,
}

impl Role {
    pub fn arn_in(&self, account: &str) -> String {
        format!("arn:aws:iam::{account}:role/{}", self.name)
    }
}

/// A session in `account` through `role_arn` (session name
/// `cis-fix-<account>`, as CloudTrail then shows who acted), with the
/// caller's region, endpoint, retries and timeouts.
pub async fn assume(
    aws: &Aws,
    limit: &Limiter,
    account: &str,
    role_arn: &str,
    external_id: Option<&str>,
) -> Result<Aws, CallFailure> {
    let region = aws.home_region().to_string();
    let answer = {
        let _permit = limit.acquire().await;
        aws.sts()
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(format!("cis-fix-{account}"))
            .set_external_id(external_id.map(str::to_string))
            .duration_seconds(i32::try_from(SESSION.as_secs()).unwrap_or(3600))
            .send()
            .await
    };
    let out = answer.map_err(|e| failure("sts:AssumeRole", &region, Some(role_arn), &e))?;
    let Some(c) = out.credentials else {
        return Err(CallFailure {
            call: "sts:AssumeRole".into(),
            region,
            resource: Some(role_arn.to_string()),
            code: None,
            message: "the answer carried no credentials".into(),
            detail: None,
        });
    };
    let expiry = SystemTime::try_from(c.expiration).ok();
    let credentials = Credentials::new(
        c.access_key_id,
        c.secret_access_key,
        Some(c.session_token),
        expiry,
        "cis-fix-assume-role",
    );
    Ok(aws.with_credentials(SharedCredentialsProvider::new(credentials)))
}
