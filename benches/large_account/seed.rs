//! The large account, made through the AWS SDK with many calls in flight,
//! and counted back through the SDK (the sizes the fewest calls are
//! computed from, independent of cis-fix's own reads).

use std::future::Future;
use std::pin::Pin;

use futures::StreamExt;

use crate::REGIONS;
use crate::minimal::{AccountSizes, RegionSizes, TrailRegion};
use crate::support::account::Account;
use crate::support::fixtures::{self, Clients, LOG_GROUP};

/// Metric filters in all, and how many of them on the trail's log group:
/// AWS allows 100 filters a log group, and cis-fix adds the benchmark's 15.
pub const FILTERS: usize = 2000;
pub const FILTERS_ON_TRAIL_GROUP: usize = 85;
pub const FILTERS_PER_GROUP: usize = 100;
/// One alarm on each filter's metric.
pub const ALARMS: usize = 2000;
pub const KEYS: usize = 300;
/// VPCs a region, its default VPC among them.
pub const VPCS_PER_REGION: usize = 10;
/// Calls in flight while seeding.
const SEED_CONCURRENCY: usize = 16;
const NAMESPACE: &str = "BenchApp";

pub struct Seeded {
    pub filters: usize,
    pub log_groups: usize,
    pub alarms: usize,
    pub topics: usize,
    pub keys: usize,
    pub vpcs: usize,
}

type Job<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

/// Runs every job with [`SEED_CONCURRENCY`] in flight; the first error wins.
async fn all(jobs: Vec<Job<'_>>) -> Result<(), String> {
    let results: Vec<Result<(), String>> = futures::stream::iter(jobs)
        .buffer_unordered(SEED_CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect()
}

fn err(what: &str) -> impl Fn(String) -> String + '_ {
    move |e| format!("seeding: {what}: {e}")
}

/// The log group of filter `i`: the trail's for the first
/// [`FILTERS_ON_TRAIL_GROUP`], then groups of [`FILTERS_PER_GROUP`].
fn group_of(i: usize) -> String {
    if i < FILTERS_ON_TRAIL_GROUP {
        LOG_GROUP.to_string()
    } else {
        format!(
            "bench-app-{:02}",
            (i - FILTERS_ON_TRAIL_GROUP) / FILTERS_PER_GROUP
        )
    }
}

fn topic_of(group: &str) -> String {
    format!("bench-team-{group}")
}

pub fn seed(acct: &Account) -> Result<Seeded, String> {
    let clients: Vec<Clients> = REGIONS.iter().map(|r| acct.clients_in(r)).collect();
    let home = &clients[0];
    let mut groups: Vec<String> = (0..FILTERS).map(group_of).collect();
    groups.dedup();
    acct.block_on(async {
        // Log groups (the trail's exists), topics with one subscriber each.
        let jobs: Vec<Job> = groups
            .iter()
            .filter(|g| g.as_str() != LOG_GROUP)
            .map(|g| -> Job {
                Box::pin(async move {
                    home.logs
                        .create_log_group()
                        .log_group_name(g)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("{e:?}"))
                        .map_err(err("CreateLogGroup"))
                })
            })
            .chain(groups.iter().map(|g| -> Job {
                Box::pin(async move {
                    let arn = home
                        .sns
                        .create_topic()
                        .name(topic_of(g))
                        .send()
                        .await
                        .map_err(|e| format!("{e:?}"))
                        .map_err(err("CreateTopic"))?
                        .topic_arn
                        .ok_or("seeding: CreateTopic: no ARN")?;
                    home.sns
                        .subscribe()
                        .topic_arn(&arn)
                        .protocol("sqs")
                        .endpoint(format!(
                            "arn:aws:sqs:{}:{}:{}",
                            REGIONS[0],
                            crate::support::ACCOUNT_ID,
                            topic_of(g)
                        ))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("{e:?}"))
                        .map_err(err("Subscribe"))
                })
            }))
            .collect();
        all(jobs).await?;
        // Filters and their alarms; keys with aliases and VPCs in every region.
        let topic_arn = |g: &str| {
            format!(
                "arn:aws:sns:{}:{}:{}",
                REGIONS[0],
                crate::support::ACCOUNT_ID,
                topic_of(g)
            )
        };
        let mut jobs: Vec<Job> = Vec::new();
        for i in 0..FILTERS {
            let g = group_of(i);
            jobs.push(Box::pin(async move {
                home.logs
                    .put_metric_filter()
                    .log_group_name(&g)
                    .filter_name(format!("bench-filter-{i:04}"))
                    .filter_pattern(pattern(i))
                    .metric_transformations(fixtures::transformation(
                        &format!("BenchMetric{i:04}"),
                        NAMESPACE,
                    ))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
                    .map_err(err("PutMetricFilter"))
            }));
        }
        for i in 0..ALARMS {
            let topic = topic_arn(&group_of(i % FILTERS));
            jobs.push(Box::pin(async move {
                fixtures::alarm(
                    &home.cloudwatch,
                    &format!("bench-alarm-{i:04}"),
                    &format!("BenchMetric{:04}", i % FILTERS),
                    NAMESPACE,
                    1.0,
                )
                .alarm_actions(topic)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
                .map_err(err("PutMetricAlarm"))
            }));
        }
        for i in 0..KEYS {
            let c = &clients[i % REGIONS.len()];
            jobs.push(Box::pin(async move {
                let id = c
                    .kms
                    .create_key()
                    .description(format!("bench key {i}"))
                    .send()
                    .await
                    .map_err(|e| format!("{e:?}"))
                    .map_err(err("CreateKey"))?
                    .key_metadata
                    .map(|m| m.key_id)
                    .ok_or("seeding: CreateKey: no key")?;
                c.kms
                    .create_alias()
                    .alias_name(format!("alias/bench-{i}"))
                    .target_key_id(id)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
                    .map_err(err("CreateAlias"))
            }));
        }
        for (r, c) in clients.iter().enumerate() {
            // moto's default VPC is one of them.
            for v in 1..VPCS_PER_REGION {
                jobs.push(Box::pin(async move {
                    c.ec2
                        .create_vpc()
                        .cidr_block(format!("10.{}.0.0/16", r * VPCS_PER_REGION + v))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("{e:?}"))
                        .map_err(err("CreateVpc"))
                }));
            }
        }
        all(jobs).await
    })?;
    Ok(Seeded {
        filters: FILTERS,
        log_groups: groups.len(),
        alarms: ALARMS,
        topics: groups.len(),
        keys: KEYS,
        vpcs: VPCS_PER_REGION * REGIONS.len(),
    })
}

/// A pattern of one of three shapes, none matching the benchmark's events.
fn pattern(i: usize) -> String {
    match i % 3 {
        0 => format!("{{ $.eventName = \"BenchEvent{i}\" }}"),
        1 => format!("{{ ($.eventSource = \"bench{i}.amazonaws.com\") && ($.errorCode = \"*\") }}"),
        _ => format!("\"bench-term-{i}\""),
    }
}

fn sdk<T>(what: &str, r: Result<T, impl std::fmt::Debug>) -> Result<T, String> {
    r.map_err(|e| format!("counting: {what}: {e:?}"))
}

/// The account's sizes, counted through the SDK after cis-fix's apply.
pub fn census(acct: &Account, _seeded: &Seeded) -> Result<AccountSizes, String> {
    let clients: Vec<Clients> = REGIONS.iter().map(|r| acct.clients_in(r)).collect();
    acct.block_on(async {
        let home = &clients[0];
        let mut regions = Vec::new();
        for (name, c) in REGIONS.iter().zip(&clients) {
            regions.push(region_sizes(name, c).await?);
        }
        let filters = sdk(
            "DescribeMetricFilters",
            home.logs
                .describe_metric_filters()
                .log_group_name(LOG_GROUP)
                .send()
                .await,
        )?
        .metric_filters
        .unwrap_or_default()
        .len();
        let alarms = sdk(
            "DescribeAlarms",
            home.cloudwatch.describe_alarms().send().await,
        )?
        .metric_alarms
        .unwrap_or_default();
        let mut topics = Vec::new();
        let mut token = None;
        loop {
            let out = sdk(
                "ListTopics",
                home.sns
                    .list_topics()
                    .set_next_token(token.take())
                    .send()
                    .await,
            )?;
            topics.extend(out.topics.unwrap_or_default());
            token = out.next_token;
            if token.is_none() {
                break;
            }
        }
        let mut subscriptions = 0;
        let mut token = None;
        loop {
            let out = sdk(
                "ListSubscriptions",
                home.sns
                    .list_subscriptions()
                    .set_next_token(token.take())
                    .send()
                    .await,
            )?;
            subscriptions += out.subscriptions.unwrap_or_default().len();
            token = out.next_token;
            if token.is_none() {
                break;
            }
        }
        let mut notified: Vec<String> = alarms
            .iter()
            .flat_map(|a| a.alarm_actions().iter().cloned())
            .filter(|a| a.starts_with("arn:aws:sns:"))
            .collect();
        notified.extend(
            topics
                .iter()
                .filter_map(|t| t.topic_arn.clone())
                .filter(|a| a.ends_with(":cis-fix-alarms")),
        );
        notified.sort();
        notified.dedup();
        let trails = sdk(
            "DescribeTrails",
            home.cloudtrail.describe_trails().send().await,
        )?
        .trail_list
        .unwrap_or_default()
        .len();
        let unlogged = regions_unlogged(&regions);
        Ok(AccountSizes {
            regions_named: true,
            trails,
            trail_regions: vec![TrailRegion {
                name: REGIONS[0].into(),
                filters_per_log_group: vec![filters],
                alarms: alarms.len(),
                topics: topics.len(),
                subscriptions,
                notified_topics: notified.len(),
            }],
            regions,
            // The trail's bucket; cis-fix's own bucket name, absent (the
            // account's trail is the user's).
            buckets: 1,
            absent_buckets: 1,
            // cis-fix's delivery role, absent for the same reason; every
            // VPC has a flow log in the steady state, so its flow-log role
            // is not looked for.
            roles_looked_up: 1 + usize::from(unlogged),
            roles_existing: 0,
            wanted_keys: 0,
        })
    })
}

fn regions_unlogged(regions: &[RegionSizes]) -> bool {
    regions.iter().any(|r| r.unlogged_vpcs > 0)
}

async fn region_sizes(name: &str, c: &Clients) -> Result<RegionSizes, String> {
    let keys: Vec<_> = sdk::<Vec<_>>(
        "ListKeys",
        c.kms.list_keys().into_paginator().send().collect().await,
    )?
    .into_iter()
    .flat_map(|p| p.keys.unwrap_or_default())
    .collect();
    let mut rotating = 0;
    for k in keys.iter().filter_map(|k| k.key_id()) {
        let m = sdk("DescribeKey", c.kms.describe_key().key_id(k).send().await)?.key_metadata;
        let Some(m) = m else { continue };
        let customer = m.key_manager().is_some_and(|k| k.as_str() == "CUSTOMER");
        let symmetric = m
            .key_spec()
            .is_none_or(|s| s.as_str() == "SYMMETRIC_DEFAULT");
        let external = m.origin().is_some_and(|o| o.as_str() != "AWS_KMS");
        if customer && symmetric && !external {
            rotating += 1;
        }
    }
    let aliases = sdk::<Vec<_>>(
        "ListAliases",
        c.kms.list_aliases().into_paginator().send().collect().await,
    )?
    .into_iter()
    .map(|p| p.aliases.unwrap_or_default().len())
    .sum();
    let vpcs = sdk("DescribeVpcs", c.ec2.describe_vpcs().send().await)?
        .vpcs
        .unwrap_or_default();
    let flows = sdk("DescribeFlowLogs", c.ec2.describe_flow_logs().send().await)?
        .flow_logs
        .unwrap_or_default();
    let unlogged = vpcs
        .iter()
        .filter(|v| {
            !flows
                .iter()
                .any(|f| f.resource_id() == v.vpc_id() && f.flow_log_status() == Some("ACTIVE"))
        })
        .count();
    let ec2 = &c.ec2;
    Ok(RegionSizes {
        name: name.to_string(),
        keys: keys.len(),
        rotating_keys: rotating,
        aliases,
        vpcs: vpcs.len(),
        flow_logs: flows.len(),
        unlogged_vpcs: unlogged,
        security_groups: sdk(
            "DescribeSecurityGroups",
            ec2.describe_security_groups().send().await,
        )?
        .security_groups
        .unwrap_or_default()
        .len(),
        security_group_rules: sdk(
            "DescribeSecurityGroupRules",
            ec2.describe_security_group_rules().send().await,
        )?
        .security_group_rules
        .unwrap_or_default()
        .len(),
        network_interfaces: sdk(
            "DescribeNetworkInterfaces",
            ec2.describe_network_interfaces().send().await,
        )?
        .network_interfaces
        .unwrap_or_default()
        .len(),
        network_acls: sdk(
            "DescribeNetworkAcls",
            ec2.describe_network_acls().send().await,
        )?
        .network_acls
        .unwrap_or_default()
        .len(),
        instances: sdk("DescribeInstances", ec2.describe_instances().send().await)?
            .reservations
            .unwrap_or_default()
            .iter()
            .map(|r| r.instances().len())
            .sum(),
    })
}
