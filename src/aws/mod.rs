//! The only module that speaks to AWS: SDK clients, readers (SDK → our
//! `resources`) and writers (our `resources` → SDK calls).

pub mod clients;
mod cloudtrail;
mod cloudwatch;
pub mod error;
mod logs;
pub mod permissions;
mod sns;
mod sts;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::future::join_all;
use tokio::sync::{Semaphore, SemaphorePermit};

pub use clients::{Aws, ConnectError, ConnectOptions};
pub use cloudwatch::put_alarm;
pub use logs::put_filter;
pub use sns::{create_topic, subscribe};

use crate::progress::Progress;
use crate::snapshot::{self, Observed, RegionSnapshot, Snapshot};

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

/// Reads everything the diff needs, each call once: caller identity and
/// trails first, then per region the trails deliver to: the log groups'
/// metric filters, alarms, topics and subscriptions, concurrently.
///
/// `topic_names`: topics cis-fix may notify besides those alarms already
/// notify (the configured or default topic), whose attributes are read too.
pub async fn read_snapshot(
    aws: &Aws,
    limit: &Limiter,
    progress: &Progress,
    topic_names: &[String],
) -> Snapshot {
    progress.set("reading caller identity and CloudTrail trails");
    let (caller, trails) =
        futures::join!(sts::caller(aws, limit), cloudtrail::read_trails(aws, limit));
    let (account_id, caller_arn) = caller.unzip();
    // Log groups of multi-region trails in this account only: no other trail
    // can qualify, and another account's group cannot be read from here, so
    // reading those would only cost calls and add failures that decide
    // nothing.
    let mut log_groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if let Observed::Ok(ts) = &trails {
        for t in ts.iter().filter(|t| t.is_multi_region) {
            if let Some(lg) = t.log_group()
                && account_id.as_ref().is_none_or(|a| *a == lg.account)
            {
                log_groups.entry(lg.region).or_default().insert(lg.name);
            }
        }
    }
    progress.set(&format!(
        "reading metric filters, alarms and SNS in {}",
        log_groups.keys().cloned().collect::<Vec<_>>().join(", ")
    ));
    let account = account_id.clone();
    let regions = join_all(log_groups.into_iter().map(|(region, groups)| {
        let account = account.clone();
        async move {
            let rc = aws.region(&region);
            let filters = join_all(groups.into_iter().map(|g| {
                let rc = &rc;
                async move {
                    let f = logs::read_filters(rc, &g, limit).await;
                    (g, f)
                }
            }));
            let (filters, alarms, topics, subscriptions) = futures::join!(
                filters,
                cloudwatch::read_alarms(&rc, limit),
                sns::read_topics(&rc, limit),
                sns::read_subscriptions(&rc, limit)
            );
            // Whether CloudWatch can publish to a topic depends on its
            // encryption: read it for every topic an alarm notifies here, and for
            // the topics cis-fix may use.
            let mut wanted: BTreeSet<String> = BTreeSet::new();
            if let Observed::Ok(alarms) = &alarms {
                for a in alarms {
                    for arn in a.alarm_actions.iter().filter_map(|d| d.known()) {
                        let mut p = arn.split(':');
                        let same_place = p.nth(2) == Some("sns")
                            && p.next() == Some(region.as_str())
                            && account.as_deref().is_none_or(|acct| p.next() == Some(acct));
                        if same_place {
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
            let topic_attributes = join_all(wanted.into_iter().map(|arn| {
                let rc = &rc;
                async move {
                    let a = sns::read_topic_attributes(rc, &arn, limit).await;
                    (arn, a)
                }
            }))
            .await;
            (
                region,
                RegionSnapshot {
                    metric_filters: filters.into_iter().collect(),
                    alarms,
                    topics,
                    subscriptions,
                    topic_attributes: topic_attributes.into_iter().collect(),
                },
            )
        }
    }))
    .await;
    progress.finish();
    Snapshot {
        format_version: snapshot::FORMAT_VERSION,
        account_id,
        caller_arn,
        region: aws.home_region().to_string(),
        trails,
        regions: regions.into_iter().collect(),
    }
}
