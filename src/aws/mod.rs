//! The only module that speaks to AWS: SDK clients, readers (SDK → our
//! `kinds`, recorded in a `Snapshot`) and writers (a `kinds::WriteCall` →
//! SDK call). No SDK type crosses this module's public surface.

mod call_log;
mod clients;
mod cloudtrail;
mod cloudwatch;
mod error;
mod iam;
mod logs;
pub mod permissions;
mod sns;
mod sts;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::future::join_all;
use tokio::sync::{Semaphore, SemaphorePermit};

pub use clients::{Aws, ConnectError, ConnectOptions};

use crate::address::GLOBAL;
use crate::arn::Arn;
use crate::kinds::{
    ReadData, WriteCall, metric_alarm, metric_filter, password_policy, sns_subscription, sns_topic,
    trail,
};
use crate::observed::{CallFailure, Observed};
use crate::progress::Progress;
use crate::snapshot::{ReadKey, Snapshot};

/// Every page of a paginated call, each page's request made under the
/// limiter; the first error ends the read.
pub(crate) async fn all_pages<T, E>(
    mut pages: aws_smithy_async::future::pagination_stream::PaginationStream<Result<T, E>>,
    limit: &Limiter,
) -> Result<Vec<T>, E> {
    let mut out = Vec::new();
    loop {
        let page = {
            let _permit = limit.acquire().await;
            pages.next().await
        };
        match page {
            None => return Ok(out),
            Some(Ok(p)) => out.push(p),
            Some(Err(e)) => return Err(e),
        }
    }
}

/// Bounds how many AWS calls are in flight at once, across services and
/// regions, so a large account is read fast without tripping throttles.
#[derive(Clone)]
pub struct Limiter(Arc<Semaphore>);

impl Limiter {
    pub fn new(concurrency: usize) -> Self {
        Limiter(Arc::new(Semaphore::new(concurrency.max(1))))
    }

    pub async fn acquire(&self) -> Option<SemaphorePermit<'_>> {
        // The semaphore is never closed, so this only fails in theory; going
        // on without a permit is then the safe choice.
        self.0.acquire().await.ok()
    }
}

/// Reads everything the diff needs, each call once. First what decides
/// where to look (caller identity, trails), with the account's password
/// policy alongside (it decides nothing about where, but is read once, and
/// need not wait); then, concurrently per region, the regional reads. Today the regions are those this account's
/// multi-region trails deliver CloudWatch Logs to, where the monitoring
/// chain lives.
///
/// `topic_names`: topics cis-fix may notify besides those alarms already
/// notify (the configured or default topic), whose attributes are read too.
pub async fn read_snapshot(
    aws: &Aws,
    limit: &Limiter,
    progress: &Progress,
    topic_names: &[String],
) -> Snapshot {
    progress.set("reading caller identity, CloudTrail trails and the password policy");
    let home = aws.home_region().to_string();
    let (caller, trails, password) = futures::join!(
        sts::caller(aws, limit),
        cloudtrail::read_trails(aws, limit),
        iam::read_password_policy(aws, limit)
    );
    let (account_id, caller_arn) = caller.unzip();
    let mut snap = Snapshot::new(account_id.clone(), caller_arn, &home);
    let log_groups = monitoring_log_groups(&trails, account_id.as_deref());
    snap.record(
        ReadKey::new(trail::READ, &home, None),
        trails.map(ReadData::Trails),
    );
    snap.record(
        ReadKey::new(password_policy::READ, GLOBAL, None),
        password.map(ReadData::PasswordPolicy),
    );
    progress.set(&format!(
        "reading metric filters, alarms and SNS in {}",
        log_groups.keys().cloned().collect::<Vec<_>>().join(", ")
    ));
    let account = account_id.as_deref();
    let regions = join_all(log_groups.into_iter().map(|(region, groups)| async move {
        read_monitoring(aws, limit, &region, groups, account, topic_names).await
    }))
    .await;
    for reads in regions {
        for (key, result) in reads {
            snap.record(key, result);
        }
    }
    progress.finish();
    snap
}

/// Log groups of this account's multi-region trails, by region: no other
/// trail can qualify, and another account's group cannot be read from
/// here, so reading those would only cost calls and add failures that
/// decide nothing.
fn monitoring_log_groups(
    trails: &Observed<Vec<crate::kinds::Trail>>,
    account: Option<&str>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if let Observed::Ok(ts) = trails {
        for t in ts.iter().filter(|t| t.is_multi_region) {
            if let Some(lg) = t.log_group()
                && account.is_none_or(|a| a == lg.account)
            {
                out.entry(lg.region).or_default().insert(lg.name);
            }
        }
    }
    out
}

type Reads = Vec<(ReadKey, Observed<ReadData>)>;

/// The monitoring chain's reads in one region: the log groups' metric
/// filters, alarms, topics and subscriptions, concurrently; then the
/// attributes of every topic an alarm here notifies, and of the topics
/// cis-fix may use, since whether CloudWatch can publish to a topic depends
/// on its encryption.
async fn read_monitoring(
    aws: &Aws,
    limit: &Limiter,
    region: &str,
    groups: BTreeSet<String>,
    account: Option<&str>,
    topic_names: &[String],
) -> Reads {
    let rc = aws.region(region);
    let filters = join_all(groups.into_iter().map(|g| {
        let rc = &rc;
        async move {
            let f = logs::read_filters(rc, &g, limit).await;
            (
                ReadKey::new(metric_filter::READ, region, Some(&g)),
                f.map(ReadData::MetricFilters),
            )
        }
    }));
    let (filters, alarms, topics, subscriptions) = futures::join!(
        filters,
        cloudwatch::read_alarms(&rc, limit),
        sns::read_topics(&rc, limit),
        sns::read_subscriptions(&rc, limit)
    );
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    if let Observed::Ok(alarms) = &alarms {
        for a in alarms {
            for arn in a.alarm_actions.iter().filter_map(|d| d.known()) {
                if Arn::parse(arn).is_some_and(|p| p.service == "sns" && p.is_in(region, account)) {
                    wanted.insert(arn.to_string());
                }
            }
        }
    }
    if let Observed::Ok(ts) = &topics {
        for t in ts.iter().filter(|t| topic_names.contains(&t.name)) {
            if let Some(arn) = t.arn.known() {
                wanted.insert(arn.to_string());
            }
        }
    }
    let attributes = join_all(wanted.into_iter().map(|arn| {
        let rc = &rc;
        async move {
            let a = sns::read_topic_attributes(rc, &arn, limit).await;
            (
                ReadKey::new(sns_topic::READ_ATTRIBUTES, region, Some(&arn)),
                a.map(ReadData::TopicAttributes),
            )
        }
    }))
    .await;
    let mut out = filters;
    out.push((
        ReadKey::new(metric_alarm::READ, region, None),
        alarms.map(ReadData::Alarms),
    ));
    out.push((
        ReadKey::new(sns_topic::READ, region, None),
        topics.map(ReadData::Topics),
    ));
    out.push((
        ReadKey::new(sns_subscription::READ, region, None),
        subscriptions.map(ReadData::Subscriptions),
    ));
    out.extend(attributes);
    out
}

/// Makes one write call in `region`; every deferred value in it must be
/// resolved by now. Returns the id AWS gave what it made (an ARN), if any.
pub async fn execute(
    aws: &Aws,
    region: &str,
    call: &WriteCall,
) -> Result<Option<String>, CallFailure> {
    // Made only for regional calls: IAM is global.
    let rc = || aws.region(region);
    match call {
        WriteCall::PutMetricFilter(f) => logs::put_filter(&rc(), f).await.map(|()| None),
        WriteCall::DeleteMetricFilter {
            log_group_name,
            filter_name,
        } => logs::delete_filter(&rc(), log_group_name, filter_name)
            .await
            .map(|()| None),
        WriteCall::PutMetricAlarm(a) => cloudwatch::put_alarm(&rc(), a).await.map(|()| None),
        WriteCall::DeleteAlarm { name } => {
            cloudwatch::delete_alarm(&rc(), name).await.map(|()| None)
        }
        WriteCall::CreateTopic { name } => sns::create_topic(&rc(), name).await.map(Some),
        WriteCall::Subscribe {
            topic_arn,
            protocol,
            endpoint,
        } => match topic_arn.known() {
            Some(arn) => sns::subscribe(&rc(), arn, protocol, endpoint)
                .await
                .map(Some),
            None => Err(CallFailure {
                call: call.iam_action().into(),
                region: region.to_string(),
                resource: None,
                code: None,
                message: "the topic's ARN is not known yet".into(),
                detail: None,
            }),
        },
        WriteCall::UpdateAccountPasswordPolicy(p) => {
            iam::update_password_policy(aws, p).await.map(|()| None)
        }
        // TEMPORARY (branch trail-kinds only): the writers of the trail's
        // kinds are being written in aws/; this arm must not reach main.
        other => Err(CallFailure {
            call: other.iam_action().into(),
            region: region.to_string(),
            resource: None,
            code: None,
            message: "not written yet".into(),
            detail: None,
        }),
    }
}
