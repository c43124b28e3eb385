//! Time to compute a plan for a large account (the pure diff: no AWS), so a
//! scheduled run over many accounts spends its time on AWS, not on us.
//! The account: one qualifying trail, 100 metric filters on its log group
//! (the 15 CIS ones among them), 3,000 alarms, 300 topics and 3,000
//! subscriptions.

use std::collections::BTreeMap;
use std::hint::black_box;

use cis_fix::config::Config;
use cis_fix::kinds::*;
use cis_fix::observed::Observed;
use cis_fix::snapshot::{ReadKey, Snapshot};
use criterion::{Criterion, criterion_group, criterion_main};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";

fn alarm(name: String, metric: String, topic: String) -> MetricAlarm {
    MetricAlarm {
        name,
        description: None,
        metric_name: Some(metric),
        namespace: Some("CISBenchmark".into()),
        statistic: Some("Sum".into()),
        extended_statistic: None,
        dimensions: BTreeMap::new(),
        period: Some(300),
        unit: None,
        evaluation_periods: Some(1),
        datapoints_to_alarm: None,
        threshold: Some(1.0),
        comparison_operator: Some("GreaterThanOrEqualToThreshold".into()),
        treat_missing_data: None,
        actions_enabled: true,
        alarm_actions: vec![Deferred::Known(topic)],
        ok_actions: vec![],
        insufficient_data_actions: vec![],
        uses_metric_math: false,
    }
}

fn large_account(b: &cis_fix::benchmark::Benchmark) -> Snapshot {
    let topic_arn = |i: usize| format!("arn:aws:sns:{REGION}:{ACCOUNT}:topic-{i}");
    let mut filters = Vec::new();
    let mut alarms = Vec::new();
    for (i, c) in b.metric_filter_controls().enumerate() {
        let name = format!("cis-{}", c.id);
        filters.push(MetricFilter {
            log_group_name: "ct".into(),
            name: name.clone(),
            pattern: c.pattern.clone().unwrap_or_default(),
            metric_name: name.clone(),
            metric_namespace: "CISBenchmark".into(),
            metric_value: "1".into(),
            default_value: None,
            dimensions: BTreeMap::new(),
            unit: None,
        });
        // Half the controls hold; the other half's alarms notify nobody.
        let topic = if i % 2 == 0 {
            topic_arn(0)
        } else {
            topic_arn(299)
        };
        alarms.push(alarm(name.clone(), name, topic));
    }
    for i in filters.len()..100 {
        filters.push(MetricFilter {
            log_group_name: "ct".into(),
            name: format!("app-{i}"),
            pattern: format!("{{ ($.eventName = App{i}) || ($.errorCode = \"Err{i}*\") }}"),
            metric_name: format!("app-{i}"),
            metric_namespace: "App".into(),
            metric_value: "1".into(),
            default_value: None,
            dimensions: BTreeMap::new(),
            unit: None,
        });
    }
    for i in alarms.len()..3000 {
        alarms.push(alarm(
            format!("other-{i}"),
            format!("m-{i}"),
            topic_arn(i % 300),
        ));
    }
    let topics: Vec<Topic> = (0..300)
        .map(|i| Topic {
            name: format!("topic-{i}"),
            arn: Deferred::Known(topic_arn(i)),
        })
        .collect();
    let subscriptions: Vec<Subscription> = (0..3000)
        .filter(|i| i % 300 != 299)
        .map(|i| Subscription {
            topic_arn: Deferred::Known(topic_arn(i % 300)),
            protocol: "email".into(),
            endpoint: format!("user{i}@example.com"),
            arn: Deferred::Known(format!("{}:{i}", topic_arn(i % 300))),
        })
        .collect();
    let mut snap = Snapshot::new(Some(ACCOUNT.into()), None, REGION);
    for i in 0..300 {
        let arn = topic_arn(i);
        snap.record(
            ReadKey::new(sns_topic::READ_ATTRIBUTES, REGION, Some(&arn)),
            Observed::Ok(ReadData::TopicAttributes(Some(TopicAttributes::default()))),
        );
    }
    let trails = vec![Trail {
        name: "main".into(),
        arn: format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main"),
        home_region: REGION.into(),
        is_multi_region: true,
        is_organization_trail: false,
        s3_bucket: None,
        log_group_arn: Some(format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:ct:*")),
        cloudwatch_logs_role_arn: Some(format!("arn:aws:iam::{ACCOUNT}:role/ct")),
        kms_key_id: None,
        log_file_validation: true,
        include_global_service_events: true,
        status: Observed::Ok(TrailStatus {
            is_logging: true,
            latest_cloudwatch_logs_delivery_error: None,
        }),
        selectors: Observed::Ok(EventSelectors {
            basic: vec![BasicSelector {
                read_write_type: "All".into(),
                include_management_events: true,
                exclude_management_event_sources: vec![],
                data_resources: vec![],
            }],
            advanced: vec![],
        }),
    }];
    let reads = [
        (trail::READ, None, ReadData::Trails(trails)),
        (
            metric_filter::READ,
            Some("ct"),
            ReadData::MetricFilters(filters),
        ),
        (metric_alarm::READ, None, ReadData::Alarms(alarms)),
        (sns_topic::READ, None, ReadData::Topics(topics)),
        (
            sns_subscription::READ,
            None,
            ReadData::Subscriptions(subscriptions),
        ),
    ];
    for (call, resource, data) in reads {
        snap.record(ReadKey::new(call, REGION, resource), Observed::Ok(data));
    }
    snap
}

fn bench(c: &mut Criterion) {
    let b = cis_fix::benchmark::load("3.0.0").expect("benchmark");
    let config = Config::parse(
        "sns:\n  subscriptions:\n    - protocol: email\n      endpoint: secops@example.com\n",
        "bench",
    )
    .expect("config");
    let desired = cis_fix::desired::build(&b, &config, "bench").expect("desired");
    let snap = large_account(&b);
    let plan =
        cis_fix::diff::plan(&desired, &snap, cis_fix::date::Date::from_days(20_000)).expect("plan");
    assert!(
        plan.controls
            .iter()
            .any(|c| c.status == cis_fix::plan::ControlStatus::Compliant)
    );
    c.bench_function("plan_large_account", |bench| {
        bench.iter(|| {
            cis_fix::diff::plan(
                black_box(&desired),
                black_box(&snap),
                cis_fix::date::Date::from_days(20_000),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
