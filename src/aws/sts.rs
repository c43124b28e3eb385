//! Who is calling: the account id for the plan header and the caller's ARN
//! for the permission check, read once per run.

use super::Limiter;
use super::clients::Aws;

/// (account id, caller ARN), or `None` when STS is unreachable: no control's
/// verdict depends on it, so its failure does not stop the run.
pub async fn caller(aws: &Aws, limit: &Limiter) -> Option<(String, String)> {
    let _permit = limit.acquire().await;
    let out = aws.sts().get_caller_identity().send().await.ok()?;
    Some((out.account?, out.arn?))
}
