//! Who is calling: the account id (which trails are this account's, the
//! plan header) and the caller's ARN (the permission check), read once per
//! run.

use super::Limiter;
use super::clients::Aws;
use super::error::failure;
use crate::observed::{CallFailure, Observed};

pub(super) use crate::snapshot::CALLER_READ as READ;

/// (account id, caller ARN), or how the call failed: asked once per run,
/// whoever asks first.
pub async fn caller(aws: &Aws, limit: &Limiter) -> Observed<(String, String)> {
    aws.caller.get_or_init(|| ask(aws, limit)).await.clone()
}

async fn ask(aws: &Aws, limit: &Limiter) -> Observed<(String, String)> {
    let region = aws.home_region().to_string();
    let _permit = limit.acquire().await;
    match aws.sts().get_caller_identity().send().await {
        Ok(out) => match (out.account, out.arn) {
            (Some(a), Some(arn)) => Observed::Ok((a, arn)),
            _ => Observed::Failed(CallFailure {
                call: READ.into(),
                region,
                resource: None,
                code: None,
                message: "the answer named no account".into(),
                detail: None,
            }),
        },
        Err(e) => Observed::Failed(failure(READ, &region, None, &e)),
    }
}
