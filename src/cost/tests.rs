use super::*;
use crate::address::{Address, Location};
use crate::kinds::{
    BasicSelector, FlowLog, KmsKey, KmsKeyRotation, LogGroup, MetricAlarm, MetricFilter,
};

fn basis(gb: Option<f64>) -> CostBasis {
    CostBasis {
        prices: PriceTable::embedded().expect("prices"),
        flow_logs_gb_per_month: gb,
    }
}

fn usd(d: f64) -> Usd {
    Usd::from_dollars(d.abs())
        .map(|u| if d < 0.0 { u.times(-1) } else { u })
        .expect("amount")
}

fn change(action: Action, before: Option<Resource>, after: Option<Resource>) -> Change {
    let kind = after
        .as_ref()
        .or(before.as_ref())
        .map_or("x", Resource::type_name);
    Change {
        address: Address::new(&Location::new(Some("123456789012"), "eu-west-1"), kind, "x"),
        action,
        controls: vec![],
        reason: "why".into(),
        before,
        after,
        depends_on: vec![],
    }
}

fn filter(log_group: &str, name: &str, metric: &str) -> Resource {
    Resource::MetricFilter(MetricFilter {
        log_group_name: log_group.into(),
        name: name.into(),
        pattern: "{ $.eventName = CreateTrail }".into(),
        metric_name: metric.into(),
        metric_namespace: "CISBenchmark".into(),
        metric_value: "1".into(),
        default_value: None,
        dimensions: Default::default(),
        unit: None,
    })
}

fn alarm(name: &str) -> Resource {
    Resource::MetricAlarm(MetricAlarm {
        name: name.into(),
        ..MetricAlarm::default()
    })
}

fn key(rotation: bool) -> Resource {
    Resource::KmsKey(KmsKey {
        alias: Some("alias/cis-fix".into()),
        description: "cis-fix".into(),
        policy: "{}".into(),
        enable_key_rotation: rotation,
        arn: "arn:aws:kms:eu-west-1:123456789012:key/k".into(),
    })
}

fn rotation(on: bool) -> Resource {
    Resource::KmsKeyRotation(KmsKeyRotation {
        key_id: "k2".into(),
        arn: "arn:aws:kms:eu-west-1:123456789012:key/k2".into(),
        aliases: vec![],
        enable_key_rotation: on,
    })
}

fn trail(name: &str, logging: bool, log_group: bool) -> CloudTrail {
    CloudTrail {
        name: name.into(),
        arn: None,
        s3_bucket_name: Some("b".into()),
        is_multi_region_trail: true,
        include_global_service_events: true,
        enable_log_file_validation: true,
        kms_key_id: None,
        cloud_watch_logs_group_arn: log_group
            .then(|| "arn:aws:logs:eu-west-1:123456789012:log-group:ct:*".into()),
        cloud_watch_logs_role_arn: None,
        enable_logging: logging,
        event_selectors: EventSelectors {
            basic: vec![BasicSelector {
                read_write_type: "All".into(),
                include_management_events: true,
                exclude_management_event_sources: vec![],
                data_resources: vec![],
            }],
            advanced: vec![],
        },
    }
}

fn flow_log(to: &str) -> Resource {
    Resource::FlowLog(FlowLog {
        vpc_id: "vpc-1".into(),
        traffic_type: "REJECT".into(),
        log_destination_type: to.into(),
        log_group_name: None,
        log_destination: None,
        deliver_logs_permission_arn: None,
        max_aggregation_interval: 600,
    })
}

fn item(c: &Cost, i: Item) -> Option<&CostItem> {
    c.items.iter().find(|x| x.item == i)
}

/// A plan that makes one of everything cis-fix prices: each item of the
/// table is reached by some change (every priced item is used).
fn everything() -> Vec<Change> {
    vec![
        change(Action::Create, None, Some(alarm("a1"))),
        change(Action::Create, None, Some(alarm("a2"))),
        change(Action::Create, None, Some(filter("ct", "f1", "m1"))),
        change(Action::Create, None, Some(key(true))),
        change(Action::Update, Some(rotation(false)), Some(rotation(true))),
        change(
            Action::Create,
            None,
            Some(Resource::CloudTrail(trail("cis-fix", true, true))),
        ),
        change(
            Action::Create,
            None,
            Some(Resource::LogGroup(LogGroup {
                name: "ct".into(),
                retention_in_days: None,
            })),
        ),
        change(
            Action::Create,
            None,
            Some(flow_log(flow_log::TO_CLOUDWATCH)),
        ),
        change(Action::Create, None, Some(flow_log(flow_log::TO_S3))),
    ]
}

fn with_other_trail() -> Facts {
    Facts {
        trails_logging_management: ["org-trail".to_string()].into(),
        ..Facts::default()
    }
}

#[test]
fn every_priced_item_is_used() {
    let c = estimate(&everything(), &with_other_trail(), &basis(None));
    for i in Item::ALL {
        assert!(item(&c, i).is_some(), "{} is never counted", i.key());
    }
    assert_eq!(c.items.len(), Item::ALL.len());
}

#[test]
fn resources_billed_by_the_month_are_priced_and_totalled() {
    let c = estimate(&everything(), &with_other_trail(), &basis(None));
    let a = item(&c, Item::Alarm).expect("alarms");
    assert_eq!((a.count, a.monthly), (2, Some(usd(0.20))));
    assert_eq!(
        item(&c, Item::CustomMetric).expect("metric").monthly,
        Some(usd(0.30))
    );
    assert_eq!(item(&c, Item::KmsKey).expect("key").monthly, Some(usd(1.0)));
    // 2 alarms, 1 metric, 1 key; rotation charges nothing yet.
    assert_eq!(c.monthly, usd(1.50));
    let r = item(&c, Item::KmsKeyRotation).expect("rotation");
    assert_eq!(r.count, 2, "the new key and the existing one");
    assert_eq!(r.monthly, Some(Usd::ZERO));
    assert_eq!(r.monthly_after_rotations, Some(usd(4.0)));
    assert_eq!(c.monthly_after_rotations, usd(5.50));
    for i in [Item::TrailCopy, Item::LogsIngestion, Item::LogsStorage] {
        let x = item(&c, i).expect("item");
        assert!(x.volume_unknown(), "{}", i.key());
        assert_eq!(x.count, 1);
    }
    assert!(c.adds_up());
}

#[test]
fn a_filter_whose_metric_exists_adds_none_and_removing_the_last_publisher_saves_it() {
    let mut facts = Facts::default();
    facts.publishers.insert(
        ("eu-west-1".into(), "CISBenchmark".into(), "m1".into()),
        [("other-group".to_string(), "theirs".to_string())].into(),
    );
    // Another filter already publishes m1: no new metric.
    let c = estimate(
        &[change(Action::Create, None, Some(filter("ct", "f1", "m1")))],
        &facts,
        &basis(None),
    );
    assert!(item(&c, Item::CustomMetric).is_none(), "{c:?}");
    // Two new filters on one new metric: one metric.
    let c = estimate(
        &[
            change(Action::Create, None, Some(filter("ct", "f2", "m2"))),
            change(Action::Create, None, Some(filter("ct2", "f2", "m2"))),
        ],
        &facts,
        &basis(None),
    );
    assert_eq!(item(&c, Item::CustomMetric).expect("metric").count, 1);
    // An update of the only publisher keeps its metric.
    let theirs = filter("other-group", "theirs", "m1");
    let c = estimate(
        &[change(
            Action::Update,
            Some(theirs.clone()),
            Some(theirs.clone()),
        )],
        &facts,
        &basis(None),
    );
    assert!(c.items.is_empty(), "{c:?}");
    // Deleting the last publisher, and its alarm, takes them off the bill.
    let c = estimate(
        &[
            change(Action::Delete, Some(theirs), None),
            change(Action::Delete, Some(alarm("old")), None),
        ],
        &facts,
        &basis(None),
    );
    assert_eq!(item(&c, Item::CustomMetric).expect("metric").count, -1);
    assert_eq!(item(&c, Item::Alarm).expect("alarm").count, -1);
    assert_eq!(c.monthly, usd(-0.40));
}

#[test]
fn a_second_copy_of_management_events_only_when_another_trail_logs_them() {
    let create = [change(
        Action::Create,
        None,
        Some(Resource::CloudTrail(trail("cis-fix", true, true))),
    )];
    let c = estimate(&create, &Facts::default(), &basis(None));
    assert!(
        item(&c, Item::TrailCopy).is_none(),
        "the first copy is free"
    );
    let c = estimate(&create, &with_other_trail(), &basis(None));
    assert!(item(&c, Item::TrailCopy).is_some());
    // Fixing the trail that already logs them copies nothing new.
    let fix = [change(
        Action::Update,
        Some(Resource::CloudTrail(trail("org-trail", true, false))),
        Some(Resource::CloudTrail(trail("org-trail", true, true))),
    )];
    let c = estimate(&fix, &with_other_trail(), &basis(None));
    assert!(item(&c, Item::TrailCopy).is_none());
    assert_eq!(item(&c, Item::LogsIngestion).expect("delivery").count, 1);
}

#[test]
fn flow_log_volume_is_unknown_unless_configured() {
    let flows = [
        change(
            Action::Create,
            None,
            Some(flow_log(flow_log::TO_CLOUDWATCH)),
        ),
        change(
            Action::Create,
            None,
            Some(flow_log(flow_log::TO_CLOUDWATCH)),
        ),
        change(Action::Create, None, Some(flow_log(flow_log::TO_S3))),
    ];
    let c = estimate(&flows, &Facts::default(), &basis(None));
    let cw = item(&c, Item::FlowLogsToCloudWatch).expect("cw");
    assert_eq!((cw.count, cw.quantity, cw.monthly), (2, None, None));
    assert_eq!(c.monthly, Usd::ZERO);
    let c = estimate(&flows, &Facts::default(), &basis(Some(2.5)));
    let cw = item(&c, Item::FlowLogsToCloudWatch).expect("cw");
    assert_eq!((cw.quantity, cw.monthly), (Some(5.0), Some(usd(2.50))));
    let s3 = item(&c, Item::FlowLogsToS3).expect("s3");
    assert_eq!(s3.monthly, Some(usd(0.625)));
    assert_eq!(c.monthly, usd(3.125));
}

#[test]
fn costs_sum_exactly_item_by_item() {
    let a = estimate(&everything(), &with_other_trail(), &basis(Some(1.0)));
    let b = estimate(&everything(), &Facts::default(), &basis(None));
    let mut old = b.clone();
    old.prices_checked = Date::parse("2025-01-01").expect("date");
    let s = Cost::sum(&[a.clone(), old, b.clone()]).expect("sum");
    assert_eq!(s.monthly, a.monthly + b.monthly + b.monthly);
    assert_eq!(item(&s, Item::Alarm).expect("alarms").count, 6);
    assert_eq!(
        item(&s, Item::Alarm).expect("alarms").monthly,
        Some(usd(0.60))
    );
    assert_eq!(s.prices_checked, Date::parse("2025-01-01").expect("date"));
    // Flow logs: known in one plan, unknown in two: kept apart.
    let flows: Vec<_> = s
        .items
        .iter()
        .filter(|i| i.item == Item::FlowLogsToCloudWatch)
        .collect();
    assert_eq!(flows.len(), 2);
    assert_eq!((flows[0].count, flows[0].monthly), (1, Some(usd(0.50))));
    assert_eq!((flows[1].count, flows[1].monthly), (2, None));
    assert_eq!(item(&s, Item::TrailCopy).expect("copy").count, 1);
    assert_eq!(
        item(&s, Item::KmsKeyRotation)
            .expect("rotation")
            .monthly_after_rotations,
        Some(usd(12.0))
    );
    assert!(s.adds_up());
    assert_eq!(Cost::sum(&[]), None);
    assert_eq!(Cost::sum(std::slice::from_ref(&a)), Some(a));
}

#[test]
fn the_json_form_round_trips_and_an_edited_total_is_caught() {
    let c = estimate(&everything(), &with_other_trail(), &basis(Some(0.1)));
    let text = serde_json::to_string(&c).expect("json");
    // 2 alarms, a metric, a key, and 0.1 GB of flow logs to each place.
    assert!(text.contains("\"monthly\":1.575,"), "{text}");
    assert!(text.contains("\"item\":\"cloudwatch_alarm\""), "{text}");
    let back: Cost = serde_json::from_str(&text).expect("parse");
    assert_eq!(back, c);
    let mut edited = c.clone();
    edited.monthly = usd(1.0);
    assert!(!edited.adds_up());
}

#[test]
fn amounts_print_as_dollars_and_cents() {
    assert_eq!(usd(1.4).to_string(), "$1.40");
    assert_eq!(usd(0.03).to_string(), "$0.03");
    assert_eq!(usd(0.625).to_string(), "$0.625");
    assert_eq!(usd(-0.4).to_string(), "-$0.40");
    assert_eq!(Usd::ZERO.to_string(), "$0.00");
    assert_eq!(usd(0.1).times(3), usd(0.3));
}
