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
pub async fn read_snapshot(aws: &Aws, limit: &Limiter, progress: &Progress) -> Snapshot {
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
    let regions = join_all(log_groups.into_iter().map(|(region, groups)| async move {
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
        (
            region,
            RegionSnapshot {
                metric_filters: filters.into_iter().collect(),
                alarms,
                topics,
                subscriptions,
            },
        )
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
