//! One trail judged against what the benchmark asks of a trail: each
//! question answered yes, no (with why) or "cannot tell" (the read that
//! failed), never guessed.

use super::delivery;
use crate::benchmark::EventScope;
use crate::kinds::{LogGroupRef, Trail};
use crate::observed::{CallFailure, Observed};

/// An answer about a trail.
#[derive(Debug, Clone)]
pub enum Answer {
    Yes,
    No(Vec<String>),
    Unknown(CallFailure),
}

impl Answer {
    pub fn is_yes(&self) -> bool {
        matches!(self, Answer::Yes)
    }

    fn from(why: Vec<String>, failures: Vec<CallFailure>) -> Answer {
        if !why.is_empty() {
            // Known to fail on one count, whatever the unread parts say.
            Answer::No(why)
        } else if let Some(f) = failures.into_iter().next() {
            Answer::Unknown(f)
        } else {
            Answer::Yes
        }
    }
}

/// Is the trail multi-region, logging, and logging every management event?
pub fn multi_region(t: &Trail) -> Answer {
    let mut why = Vec::new();
    let mut failures = Vec::new();
    if !t.is_multi_region {
        why.push("is not multi-region".to_string());
    } else if !t.include_global_service_events {
        why.push("does not include global service events (IAM, STS, Organizations)".to_string());
    }
    match &t.status {
        Observed::Ok(s) if !s.is_logging => why.push("is not logging".into()),
        Observed::Ok(_) => {}
        Observed::Failed(f) => failures.push(f.clone()),
    }
    match &t.selectors {
        Observed::Ok(s) => {
            if let Err(e) = delivery::delivers(s, &EventScope::all()) {
                why.push(e);
            }
        }
        Observed::Failed(f) => failures.push(f.clone()),
    }
    Answer::from(why, failures)
}

/// Does the trail deliver to a log group of `account`, with a role, and
/// without CloudTrail reporting delivery failing?
pub fn delivers_to_logs(t: &Trail, account: &str) -> Answer {
    let mut why = Vec::new();
    let mut failures = Vec::new();
    match (own_log_group(t, account), t.log_group()) {
        (_, None) => why.push("does not deliver to CloudWatch Logs".to_string()),
        (None, Some(lg)) => why.push(format!(
            "delivers to log group `{}` in account {}",
            lg.name, lg.account
        )),
        (Some(_), _) if t.cloudwatch_logs_role_arn.is_none() => {
            why.push("names a log group but no delivery role".into())
        }
        _ => {}
    }
    match &t.status {
        Observed::Ok(s) => {
            if let Some(e) = &s.latest_cloudwatch_logs_delivery_error {
                why.push(format!("reports CloudWatch Logs delivery failing ({e})"));
            }
        }
        Observed::Failed(f) => failures.push(f.clone()),
    }
    Answer::from(why, failures)
}

/// The trail's log group when it is this account's and in the trail's home
/// region (where CloudTrail can deliver).
pub fn own_log_group(t: &Trail, account: &str) -> Option<LogGroupRef> {
    t.log_group()
        .filter(|lg| lg.account == account && lg.region == t.home_region)
}

/// How many of the settings cis-fix would change the trail needs: the
/// trail needing fewest is fixed.
pub fn fixes_needed(t: &Trail, account: &str, needs_logs: bool) -> usize {
    let mut n = 0;
    n += usize::from(!t.is_multi_region);
    n += usize::from(!matches!(&t.status, Observed::Ok(s) if s.is_logging));
    n += usize::from(
        !matches!(&t.selectors, Observed::Ok(s) if delivery::delivers(s, &EventScope::all()).is_ok()),
    );
    if needs_logs {
        n += usize::from(!delivers_to_logs(t, account).is_yes());
    }
    n += usize::from(!t.log_file_validation);
    n += usize::from(t.kms_key_id.is_none());
    n
}

pub fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
