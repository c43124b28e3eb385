//! The caller's account, for the plan header and ARNs.

use super::Limiter;
use super::clients::Aws;

/// The account id, or `None` when STS is unreachable: no control depends on
/// it, so its failure does not stop the run.
pub async fn account_id(aws: &Aws, limit: &Limiter) -> Option<String> {
    let _permit = limit.acquire().await;
    aws.sts().get_caller_identity().send().await.ok()?.account
}
