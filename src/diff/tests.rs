//! The diff from plain values: every decision without AWS.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::desired::{self, Desired};
use crate::kinds::*;
use crate::observed::{CallFailure, Observed};
use crate::plan::{Action, ControlStatus, Plan};
use crate::snapshot::{ReadKey, Snapshot};

const REGION: &str = "us-east-1";
const LG: &str = "ct-logs";
const TOPIC_ARN: &str = "arn:aws:sns:us-east-1:123456789012:alerts";

fn desired(config: &str) -> Desired {
    let b = crate::benchmark::load("3.0.0").expect("benchmark");
    let c = Config::parse(config, "test.yaml").expect("config");
    desired::build(&b, &c, "test.yaml").expect("desired")
}

fn email() -> Desired {
    desired("sns:\n  subscriptions:\n    - protocol: email\n      endpoint: a@example.com\n")
}

pub(super) fn trail() -> Trail {
    super::trail::tests::qualifying("main", "123456789012", LG)
}

fn region(
    filters: Vec<MetricFilter>,
    alarms: Vec<MetricAlarm>,
    topics: Vec<Topic>,
    subs: Vec<Subscription>,
) -> RegionSnapshot {
    // Attributes as the reader gets them: for every topic alarms notify and
    // every topic that exists (plain, unencrypted).
    let mut topic_attributes: BTreeMap<String, Observed<Option<TopicAttributes>>> = topics
        .iter()
        .filter_map(|t| t.arn.known())
        .map(|a| {
            (
                a.to_string(),
                Observed::Ok(Some(TopicAttributes::default())),
            )
        })
        .collect();
    for arn in alarms
        .iter()
        .flat_map(|a| a.alarm_actions.iter().filter_map(|d| d.known()))
    {
        topic_attributes
            .entry(arn.to_string())
            .or_insert(Observed::Ok(None));
    }
    let mut r = region_only(vec![], alarms, topics, subs);
    r.metric_filters = BTreeMap::from([(LG.to_string(), Observed::Ok(filters))]);
    r.topic_attributes.extend(topic_attributes);
    r
}

/// A region's monitoring reads with no log group of the fixture trail's.
pub(super) fn region_only(
    _filters: Vec<MetricFilter>,
    alarms: Vec<MetricAlarm>,
    topics: Vec<Topic>,
    subs: Vec<Subscription>,
) -> RegionSnapshot {
    RegionSnapshot {
        metric_filters: BTreeMap::new(),
        alarms: Observed::Ok(alarms),
        topics: Observed::Ok(topics),
        subscriptions: Observed::Ok(subs),
        topic_attributes: BTreeMap::new(),
    }
}

/// The monitoring reads of one region, as fields the tests can edit.
#[derive(Clone)]
pub(super) struct RegionSnapshot {
    pub(super) metric_filters: BTreeMap<String, Observed<Vec<MetricFilter>>>,
    alarms: Observed<Vec<MetricAlarm>>,
    topics: Observed<Vec<Topic>>,
    subscriptions: Observed<Vec<Subscription>>,
    topic_attributes: BTreeMap<String, Observed<Option<TopicAttributes>>>,
}

/// An account as the tests build it; `diff` turns it into the snapshot the
/// readers would record.
#[derive(Clone)]
pub(super) struct Fixture {
    pub(super) trails: Observed<Vec<Trail>>,
    pub(super) regions: BTreeMap<String, RegionSnapshot>,
    /// Other reads (the trail's bucket, keys, role), as the readers key them.
    pub(super) extra: BTreeMap<ReadKey, Observed<ReadData>>,
}

/// The fixture trail's bucket as the reads find it: private, its accesses
/// logged, in us-east-1.
pub(super) fn compliant_bucket(name: &str) -> (ReadKey, Observed<ReadData>) {
    (
        ReadKey::new(s3_bucket::READ, crate::address::GLOBAL, Some(name)),
        Observed::Ok(ReadData::Bucket(Some(BucketFacts {
            bucket: name.into(),
            region: Observed::Ok(REGION.into()),
            policy: Observed::Ok(None),
            policy_public: Observed::Ok(None),
            public_acl_grants: Observed::Ok(vec![]),
            public_access_block: Observed::Ok(Some(PublicAccessBlock::ALL)),
            logging: Observed::Ok(Some(BucketLogging {
                bucket: name.into(),
                target_bucket: "access-logs".into(),
                target_prefix: String::new(),
            })),
            object_ownership: Observed::Ok(Some("BucketOwnerEnforced".into())),
        }))),
    )
}

impl Fixture {
    pub(super) fn to_snapshot(&self) -> Snapshot {
        let mut s = Snapshot::new(Some("123456789012".into()), None, REGION);
        s.record(
            ReadKey::new(trail::READ, REGION, None),
            self.trails.clone().map(ReadData::Trails),
        );
        // The fixture account has one region.
        s.record(
            ReadKey::new(crate::snapshot::REGIONS_READ, REGION, None),
            Observed::Ok(ReadData::Regions(vec![REGION.into()])),
        );
        // With no VPC: these tests are not about flow logs.
        s.record(
            ReadKey::new(flow_log::READ_VPCS, REGION, None),
            Observed::Ok(ReadData::Vpcs(vec![])),
        );
        s.record(
            ReadKey::new(flow_log::READ, REGION, None),
            Observed::Ok(ReadData::FlowLogs(vec![])),
        );
        // Compliant networking (no VPC, EBS encryption by default on), unless
        // a test's `extra` says otherwise.
        for (call, data) in [
            (
                crate::kinds::security_group::READ,
                ReadData::SecurityGroups(vec![]),
            ),
            (
                crate::kinds::security_group::READ_INTERFACES,
                ReadData::NetworkInterfaces(vec![]),
            ),
            (
                crate::kinds::ebs_encryption::READ,
                ReadData::EbsEncryptionByDefault(true),
            ),
            (
                crate::kinds::network_acl::READ,
                ReadData::NetworkAcls(vec![]),
            ),
            (
                crate::kinds::instance_metadata::READ,
                ReadData::Instances(vec![]),
            ),
        ] {
            s.record(ReadKey::new(call, REGION, None), Observed::Ok(data));
        }
        // A policy every version accepts: these tests are about monitoring.
        s.record(
            ReadKey::new(password_policy::READ, crate::address::GLOBAL, None),
            Observed::Ok(ReadData::PasswordPolicy(Some(compliant_password_policy()))),
        );
        for (region, r) in &self.regions {
            for (lg, f) in &r.metric_filters {
                s.record(
                    ReadKey::new(metric_filter::READ, region, Some(lg)),
                    f.clone().map(ReadData::MetricFilters),
                );
            }
            s.record(
                ReadKey::new(metric_alarm::READ, region, None),
                r.alarms.clone().map(ReadData::Alarms),
            );
            s.record(
                ReadKey::new(sns_topic::READ, region, None),
                r.topics.clone().map(ReadData::Topics),
            );
            s.record(
                ReadKey::new(sns_subscription::READ, region, None),
                r.subscriptions.clone().map(ReadData::Subscriptions),
            );
            for (arn, a) in &r.topic_attributes {
                s.record(
                    ReadKey::new(sns_topic::READ_ATTRIBUTES, region, Some(arn)),
                    a.clone().map(ReadData::TopicAttributes),
                );
            }
        }
        for (k, v) in &self.extra {
            s.record(k.clone(), v.clone());
        }
        s
    }
}

/// The plan's monitoring controls: the password controls are judged on
/// their own (always compliant in these fixtures).
fn monitoring(p: &Plan) -> impl Iterator<Item = &crate::plan::ControlReport> {
    let b = crate::benchmark::load(&p.benchmark).expect("benchmark");
    let password: Vec<String> = b.password_controls().map(|(c, _)| c.id.clone()).collect();
    p.controls.iter().filter(move |c| !password.contains(&c.id))
}

fn compliant_password_policy() -> PasswordPolicy {
    PasswordPolicy {
        minimum_password_length: 14,
        require_symbols: true,
        require_numbers: true,
        require_uppercase_characters: true,
        require_lowercase_characters: true,
        allow_users_to_change_password: true,
        max_password_age: Some(90),
        password_reuse_prevention: Some(24),
        hard_expiry: false,
    }
}

/// The plan, with only the monitoring controls' reports: these tests are
/// about the chain (the trail family's tests are in `cloudtrail/tests.rs`).
fn diff(d: &Desired, f: &Fixture) -> Plan {
    let mut p =
        super::plan(d, &f.to_snapshot(), crate::date::Date::from_days(20_000)).expect("plan");
    p.controls
        .retain(|c| d.monitoring.controls.iter().any(|m| m.id == c.id));
    p
}

pub(super) fn snapshot(r: RegionSnapshot) -> Fixture {
    Fixture {
        trails: Observed::Ok(vec![trail()]),
        regions: BTreeMap::from([(REGION.to_string(), r)]),
        extra: BTreeMap::from([compliant_bucket("b")]),
    }
}

pub(super) fn empty_region() -> RegionSnapshot {
    region(vec![], vec![], vec![], vec![])
}

pub(super) fn failure(call: &str) -> CallFailure {
    CallFailure {
        call: call.into(),
        region: REGION.into(),
        resource: None,
        code: Some("AccessDenied".into()),
        message: "not allowed".into(),
        detail: None,
    }
}

fn filter(name: &str, pattern: &str, metric: &str) -> MetricFilter {
    MetricFilter {
        log_group_name: LG.into(),
        name: name.into(),
        pattern: pattern.into(),
        metric_name: metric.into(),
        metric_namespace: "CISBenchmark".into(),
        metric_value: "1".into(),
        default_value: None,
        dimensions: BTreeMap::new(),
        unit: None,
    }
}

fn alarm(name: &str, metric: &str, threshold: f64, actions: &[&str]) -> MetricAlarm {
    MetricAlarm {
        name: name.into(),
        description: None,
        metric_name: Some(metric.into()),
        namespace: Some("CISBenchmark".into()),
        statistic: Some("Sum".into()),
        extended_statistic: None,
        dimensions: BTreeMap::new(),
        period: Some(300),
        unit: None,
        evaluation_periods: Some(1),
        datapoints_to_alarm: None,
        threshold: Some(threshold),
        comparison_operator: Some("GreaterThanOrEqualToThreshold".into()),
        treat_missing_data: None,
        actions_enabled: true,
        alarm_actions: actions.iter().map(|a| Deferred::from(*a)).collect(),
        ok_actions: vec!["arn:aws:sns:us-east-1:123456789012:ok".into()],
        insufficient_data_actions: vec![],
        uses_metric_math: false,
    }
}

fn topic(arn: &str) -> Topic {
    Topic {
        name: crate::arn::topic_name(arn).into(),
        arn: arn.into(),
    }
}

fn sub(topic: &str, confirmed: bool) -> Subscription {
    Subscription {
        topic_arn: topic.into(),
        protocol: "email".into(),
        endpoint: "oncall@example.com".into(),
        arn: if confirmed {
            format!("{topic}:0f4e").into()
        } else {
            "PendingConfirmation".into()
        },
    }
}

/// A user's 4.3 filter `root` on metric RootUsage, with `alarms`, topic
/// `alerts` and its subscription (confirmed or pending, or none).
fn root_chain(d: &Desired, alarms: Vec<MetricAlarm>, confirmed: Option<bool>) -> RegionSnapshot {
    region(
        vec![filter("root", &pattern_of(d, "4.3"), "RootUsage")],
        alarms,
        vec![topic(TOPIC_ARN)],
        confirmed.map(|c| sub(TOPIC_ARN, c)).into_iter().collect(),
    )
}

/// Like `email()`, with `patterns: exact`.
fn exact() -> Desired {
    desired(
        "patterns: exact\nsns:\n  subscriptions:\n    - protocol: email\n      endpoint: a@example.com\n",
    )
}

/// An account whose only filter is cis-fix's own 4.5 filter with `pattern`.
fn ours_4_5(pattern: &str) -> Fixture {
    snapshot(region(
        vec![filter(
            "cis-4.5-cloudtrail-config-changes",
            pattern,
            "cis-4.5-cloudtrail-config-changes",
        )],
        vec![],
        vec![],
        vec![],
    ))
}

fn pattern_of(d: &Desired, id: &str) -> String {
    d.monitoring
        .controls
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.pattern_text.clone())
        .expect("control")
}

pub(super) fn status(p: &Plan, id: &str) -> ControlStatus {
    p.controls
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.status)
        .expect("control")
}

pub(super) fn reason(p: &Plan, id: &str) -> String {
    p.controls
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.reason.clone())
        .expect("control")
}

/// Applies a plan to a snapshot the way AWS would (creates get ARNs,
/// self-confirming and email subscriptions alike confirm), for convergence.
pub(super) fn simulate_apply(mut s: Fixture, p: &Plan, confirm: bool) -> Fixture {
    let mut arns: BTreeMap<String, String> = BTreeMap::new();
    let resolve = |d: &Deferred, arns: &BTreeMap<String, String>| match d {
        Deferred::Known(k) => Deferred::Known(k.clone()),
        Deferred::AfterApply { after_apply, attr } => {
            Deferred::Known(arns[&format!("{after_apply}.{attr}")].clone())
        }
        Deferred::Made { .. } => panic!("no planned resource refers to itself"),
    };
    let resolved = |d: &Option<Deferred>, arns: &BTreeMap<String, String>| {
        d.as_ref()
            .map(|d| resolve(d, arns).known().unwrap_or_default().to_string())
    };
    for c in crate::apply::order(&p.changes) {
        let region = c.address.region().to_string();
        let r = s
            .regions
            .entry(region.clone())
            .or_insert_with(|| region_only(vec![], vec![], vec![], vec![]));
        let Some(after) = &c.after else {
            match &c.before {
                Some(Resource::MetricFilter(f)) => {
                    let Some(Observed::Ok(fs)) = r.metric_filters.get_mut(&f.log_group_name) else {
                        panic!()
                    };
                    fs.retain(|x| x.name != f.name);
                }
                Some(Resource::MetricAlarm(a)) => {
                    let Observed::Ok(al) = &mut r.alarms else {
                        panic!()
                    };
                    al.retain(|x| x.name != a.name);
                }
                Some(Resource::SecurityGroupIngressRule(x)) => {
                    if let Some(Observed::Ok(ReadData::SecurityGroups(gs))) = s.extra.get_mut(
                        &ReadKey::new(crate::kinds::security_group::READ, &region, None),
                    ) {
                        for g in gs.iter_mut().filter(|g| g.group_id == x.group_id) {
                            g.ingress.retain(|r| r.rule_id != x.rule.rule_id);
                        }
                    }
                }
                other => panic!("cannot delete {other:?}"),
            }
            continue;
        };
        match after {
            Resource::MetricFilter(f) => {
                let Observed::Ok(fs) = r
                    .metric_filters
                    .entry(f.log_group_name.clone())
                    .or_insert(Observed::Ok(vec![]))
                else {
                    panic!()
                };
                fs.retain(|x| x.name != f.name);
                fs.push(f.clone());
            }
            Resource::MetricAlarm(a) => {
                let Observed::Ok(al) = &mut r.alarms else {
                    panic!()
                };
                let mut a = a.clone();
                a.alarm_actions = a.alarm_actions.iter().map(|d| resolve(d, &arns)).collect();
                al.retain(|x| x.name != a.name);
                al.push(a);
            }
            Resource::Topic(t) => {
                let arn = format!("arn:aws:sns:{region}:123456789012:{}", t.name);
                arns.insert(format!("{}.arn", c.address), arn.clone());
                let Observed::Ok(ts) = &mut r.topics else {
                    panic!()
                };
                ts.push(topic(&arn));
                r.topic_attributes
                    .insert(arn.clone(), Observed::Ok(Some(TopicAttributes::default())));
            }
            Resource::PasswordPolicy(_) => {}
            Resource::Subscription(x) => {
                let topic_arn = resolve(&x.topic_arn, &arns);
                let Observed::Ok(ss) = &mut r.subscriptions else {
                    panic!()
                };
                ss.push(Subscription {
                    arn: if confirm || !protocol_needs_confirmation(&x.protocol) {
                        format!("{}:abc", topic_arn.known().unwrap_or_default()).into()
                    } else {
                        "PendingConfirmation".into()
                    },
                    topic_arn,
                    ..x.clone()
                });
            }
            Resource::LogGroup(g) => {
                r.metric_filters
                    .entry(g.name.clone())
                    .or_insert(Observed::Ok(vec![]));
                s.extra.insert(
                    ReadKey::new(log_group::READ, &region, Some(&g.name)),
                    Observed::Ok(ReadData::LogGroups(vec![g.clone()])),
                );
            }
            Resource::IamRole(role) => {
                s.extra.insert(
                    ReadKey::new(iam_role::READ, crate::address::GLOBAL, Some(&role.name)),
                    Observed::Ok(ReadData::Role(Some(role.clone()))),
                );
            }
            Resource::FlowLog(f) => {
                if let Some(Observed::Ok(ReadData::FlowLogs(flows))) = s
                    .extra
                    .get_mut(&ReadKey::new(flow_log::READ, &region, None))
                {
                    flows.push(FlowLogFacts {
                        flow_log_id: format!("fl-{}", f.vpc_id),
                        resource_id: f.vpc_id.clone(),
                        traffic_type: Some(f.traffic_type.clone()),
                        log_destination_type: f.log_destination_type.clone(),
                        log_group_name: f.log_group_name.clone(),
                        log_destination: f.log_destination.clone(),
                        flow_log_status: Some("ACTIVE".into()),
                        deliver_logs_status: Some("SUCCESS".into()),
                        deliver_logs_error_message: None,
                    });
                }
            }
            Resource::DefaultSecurityGroup(x) => {
                if let Some(Observed::Ok(ReadData::SecurityGroups(gs))) = s.extra.get_mut(
                    &ReadKey::new(crate::kinds::security_group::READ, &region, None),
                ) {
                    for g in gs.iter_mut().filter(|g| g.group_id == x.group_id) {
                        g.ingress = x.ingress.clone();
                        g.egress = x.egress.clone();
                    }
                }
            }
            Resource::SecurityGroupIngressRule(_) => panic!("a rule is only ever deleted"),
            Resource::NetworkAclRule(x) => {
                if let Some(Observed::Ok(ReadData::NetworkAcls(acls))) = s.extra.get_mut(
                    &ReadKey::new(crate::kinds::network_acl::READ, &region, None),
                ) {
                    for a in acls
                        .iter_mut()
                        .filter(|a| a.network_acl_id == x.network_acl_id)
                    {
                        a.entries.push(crate::kinds::NaclEntry {
                            rule_number: x.rule_number,
                            egress: x.egress,
                            protocol: x.protocol.clone(),
                            rule_action: x.rule_action.clone(),
                            cidr_ipv4: x.cidr_block.clone(),
                            cidr_ipv6: x.ipv6_cidr_block.clone(),
                            from_port: Some(x.from_port),
                            to_port: Some(x.to_port),
                        });
                    }
                }
            }
            Resource::InstanceMetadataOptions(x) => {
                if let Some(Observed::Ok(ReadData::Instances(is))) = s.extra.get_mut(&ReadKey::new(
                    crate::kinds::instance_metadata::READ,
                    &region,
                    None,
                )) {
                    for i in is.iter_mut().filter(|i| i.instance_id == x.instance_id) {
                        i.http_tokens = x.http_tokens.clone();
                    }
                }
            }
            Resource::EbsEncryptionByDefault(x) => {
                s.extra.insert(
                    ReadKey::new(crate::kinds::ebs_encryption::READ, &region, None),
                    Observed::Ok(ReadData::EbsEncryptionByDefault(x.enabled)),
                );
            }
            Resource::KmsKeyRotation(k) => {
                if let Some(Observed::Ok(ReadData::KmsKeys(keys))) =
                    s.extra.get_mut(&ReadKey::new(kms_key::READ, &region, None))
                {
                    for x in keys.iter_mut().filter(|x| x.arn == k.arn) {
                        x.rotation_enabled = Some(Observed::Ok(k.enable_key_rotation));
                    }
                }
            }
            Resource::KmsKey(k) => {
                let arn = match &k.arn {
                    Deferred::Known(a) => a.clone(),
                    _ => format!("arn:aws:kms:{region}:123456789012:key/new-{}", arns.len()),
                };
                arns.insert(format!("{}.arn", c.address), arn.clone());
                let key = ReadKey::new(kms_key::READ, &region, None);
                let entry = s
                    .extra
                    .entry(key)
                    .or_insert(Observed::Ok(ReadData::KmsKeys(vec![])));
                let Observed::Ok(ReadData::KmsKeys(keys)) = entry else {
                    panic!()
                };
                keys.retain(|x| x.arn != arn);
                keys.push(KmsKeyFacts {
                    arn,
                    description: k.description.clone(),
                    key_manager: "CUSTOMER".into(),
                    key_spec: "SYMMETRIC_DEFAULT".into(),
                    key_usage: "ENCRYPT_DECRYPT".into(),
                    origin: "AWS_KMS".into(),
                    key_state: "Enabled".into(),
                    aliases: k.alias.iter().cloned().collect(),
                    replica: false,
                    rotation_enabled: Some(Observed::Ok(k.enable_key_rotation)),
                    policy: Some(Observed::Ok(k.policy.clone())),
                });
            }
            Resource::S3Bucket(b) => {
                let (k, _) = compliant_bucket(&b.bucket);
                s.extra.insert(
                    k,
                    Observed::Ok(ReadData::Bucket(Some(BucketFacts {
                        bucket: b.bucket.clone(),
                        region: Observed::Ok(region.clone()),
                        policy: Observed::Ok(b.policy.clone()),
                        policy_public: Observed::Ok(b.policy.as_ref().map(|_| false)),
                        public_acl_grants: Observed::Ok(vec![]),
                        public_access_block: Observed::Ok(b.public_access_block),
                        logging: Observed::Ok(None),
                        object_ownership: Observed::Ok(b.object_ownership.clone()),
                    }))),
                );
            }
            Resource::BucketPublicAccessBlock(x) => {
                bucket_facts(&mut s, &x.bucket).public_access_block =
                    Observed::Ok(Some(x.settings));
            }
            Resource::BucketLogging(x) => {
                bucket_facts(&mut s, &x.bucket).logging = Observed::Ok(Some(x.clone()));
            }
            Resource::CloudTrail(t) => {
                let Observed::Ok(trails) = &mut s.trails else {
                    panic!()
                };
                let arn = t.arn.clone().unwrap_or_else(|| {
                    format!("arn:aws:cloudtrail:{region}:123456789012:trail/{}", t.name)
                });
                trails.retain(|x| x.arn != arn);
                trails.push(Trail {
                    name: t.name.clone(),
                    arn,
                    home_region: region.clone(),
                    is_multi_region: t.is_multi_region_trail,
                    is_organization_trail: false,
                    s3_bucket: t.s3_bucket_name.clone(),
                    log_group_arn: resolved(&t.cloud_watch_logs_group_arn, &arns),
                    cloudwatch_logs_role_arn: resolved(&t.cloud_watch_logs_role_arn, &arns),
                    kms_key_id: resolved(&t.kms_key_id, &arns),
                    log_file_validation: t.enable_log_file_validation,
                    include_global_service_events: t.include_global_service_events,
                    status: Observed::Ok(TrailStatus {
                        is_logging: t.enable_logging,
                        latest_cloudwatch_logs_delivery_error: None,
                    }),
                    selectors: Observed::Ok(t.event_selectors.clone()),
                });
                trails.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
    }
    s
}

fn bucket_facts<'a>(s: &'a mut Fixture, bucket: &str) -> &'a mut BucketFacts {
    let (k, _) = compliant_bucket(bucket);
    match s.extra.get_mut(&k) {
        Some(Observed::Ok(ReadData::Bucket(Some(b)))) => b,
        other => panic!("no bucket {bucket}: {other:?}"),
    }
}

#[test]
/// (The reads a new trail needs are not in this fixture, so the trail
/// family can plan nothing and the chain has no trail to start from.)
fn no_trails_blocks_every_control_and_says_so_first() {
    let mut s = snapshot(empty_region());
    s.trails = Observed::Ok(vec![]);
    let p = diff(&email(), &s);
    assert!(
        p.notices[0]
            .message()
            .starts_with("No CloudTrail trail qualifies")
    );
    assert!(p.changes.is_empty());
    // (`diff` keeps only the monitoring controls' reports.)
    assert!(
        p.controls
            .iter()
            .all(|c| c.status == ControlStatus::Blocked)
    );
    assert_eq!(p.controls.len(), 15);
    // Only the monitoring controls need a trail: the password controls are
    // judged on their own.
    let all = super::plan(
        &email(),
        &s.to_snapshot(),
        crate::date::Date::from_days(20_000),
    )
    .expect("plan");
    for id in ["1.8", "1.9"] {
        assert_eq!(status(&all, id), ControlStatus::Compliant);
    }
}

#[test]
fn a_trail_of_this_account_that_does_not_qualify_is_fixed_not_reported_missing() {
    let mut s = snapshot(empty_region());
    let mut t = trail();
    t.is_multi_region = false;
    s.trails = Observed::Ok(vec![t]);
    let p = diff(&email(), &s);
    assert!(
        !p.notices
            .iter()
            .any(|n| matches!(n, crate::plan::Notice::NoQualifyingTrail { .. })),
        "{:?}",
        p.notices
    );
    assert!(p.changes.iter().any(|c| c.address.kind == "aws_cloudtrail"));
    assert!(
        p.controls
            .iter()
            .all(|c| c.status == ControlStatus::PendingConfirmation),
        "{:#?}",
        p.controls
    );
}

#[test]
fn new_account_with_trail_plans_the_whole_chain_then_converges() {
    let d = email();
    let s = snapshot(empty_region());
    let p = diff(&d, &s);
    assert_eq!(p.summary().add, 32);
    assert!(monitoring(&p).all(|c| c.status == ControlStatus::PendingConfirmation));
    // Applied but nobody clicked the link yet: still pending, nothing to do.
    let pending = simulate_apply(s.clone(), &p, false);
    let p2 = diff(&d, &pending);
    assert!(p2.changes.is_empty(), "{:#?}", p2.changes);
    assert!(monitoring(&p2).all(|c| c.status == ControlStatus::PendingConfirmation));
    // Confirmed: compliant, and a second plan is empty.
    let done = simulate_apply(s, &p, true);
    let p3 = diff(&d, &done);
    assert!(p3.changes.is_empty());
    assert!(
        p3.controls
            .iter()
            .all(|c| c.status == ControlStatus::Compliant),
        "{:#?}",
        p3.controls
    );
}

#[test]
fn self_confirming_subscription_is_will_fix() {
    let d = desired(
        "sns:\n  subscriptions:\n    - protocol: sqs\n      endpoint: arn:aws:sqs:us-east-1:123456789012:q\n",
    );
    let p = diff(&d, &snapshot(empty_region()));
    assert!(monitoring(&p).all(|c| c.status == ControlStatus::WillFix));
}

#[test]
fn no_subscriber_and_none_configured_is_blocked_with_the_fix() {
    let p = diff(&desired(""), &snapshot(empty_region()));
    assert!(monitoring(&p).all(|c| c.status == ControlStatus::Blocked));
    assert!(
        reason(&p, "4.3").contains("add sns.subscriptions"),
        "{}",
        reason(&p, "4.3")
    );
    // plan says what apply will refuse, so a plan-then-apply job is not
    // surprised.
    assert!(
        p.notices
            .iter()
            .any(|n| matches!(n, crate::plan::Notice::NobodyToNotify { .. })),
        "{:?}",
        p.notices
    );
}

#[test]
fn working_chain_under_users_names_is_compliant_and_untouched() {
    let d = email();
    let root = pattern_of(&d, "4.3")
        .replace(' ', "")
        .replace("NOTEXISTS", " NOT EXISTS ");
    let s = snapshot(region(
        vec![filter("root", &root, "RootUsage")],
        vec![alarm("root-alarm", "RootUsage", 1.0, &[TOPIC_ARN])],
        vec![topic(TOPIC_ARN)],
        vec![sub(TOPIC_ARN, true)],
    ));
    let p = diff(&d, &s);
    assert_eq!(
        status(&p, "4.3"),
        ControlStatus::Compliant,
        "{}",
        reason(&p, "4.3")
    );
    assert!(reason(&p, "4.3").contains("`root-alarm`"));
    assert!(
        !p.changes
            .iter()
            .any(|c| c.controls.contains(&"4.3".to_string()))
    );
    // The working topic is reused for the others: no new topic.
    assert!(
        !p.changes
            .iter()
            .any(|c| matches!(c.after, Some(Resource::Topic(_))))
    );
    // The configured email is added to it.
    assert!(p.changes.iter().any(
        |c| matches!(&c.after, Some(Resource::Subscription(s)) if s.topic_arn.known() == Some(TOPIC_ARN))
    ));
    // But the topic already has a confirmed subscriber: will-fix, not pending.
    assert_eq!(status(&p, "4.1"), ControlStatus::WillFix);
}

#[test]
fn sso_variant_of_4_2_is_accepted() {
    let d = email();
    let sso = r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }"#;
    let s = snapshot(region(
        vec![filter("mfa", sso, "NoMfa")],
        vec![alarm("mfa", "NoMfa", 1.0, &[TOPIC_ARN])],
        vec![topic(TOPIC_ARN)],
        vec![sub(TOPIC_ARN, true)],
    ));
    assert_eq!(status(&diff(&d, &s), "4.2"), ControlStatus::Compliant);
}

#[test]
fn alarm_that_cannot_fire_is_not_compliant_and_users_alarm_is_not_rewritten() {
    let d = email();
    let s = snapshot(root_chain(
        &d,
        vec![alarm("root-alarm", "RootUsage", 5.0, &[TOPIC_ARN])],
        Some(true),
    ));
    let p = diff(&desired("sns:\n  topic: alerts\n"), &s);
    assert_eq!(status(&p, "4.3"), ControlStatus::WillFix);
    let c = p
        .changes
        .iter()
        .find(|c| c.address.short() == "aws_cloudwatch_metric_alarm.cis_4_3")
        .expect("alarm");
    assert_eq!(c.action, Action::Create, "the user's alarm is left alone");
    assert!(
        c.reason.contains("`root-alarm` needs a datapoint"),
        "{}",
        c.reason
    );
    let Some(Resource::MetricAlarm(a)) = &c.after else {
        panic!()
    };
    assert_eq!(
        a.metric_name.as_deref(),
        Some("RootUsage"),
        "the existing filter is reused"
    );
}

#[test]
fn our_alarm_is_updated_keeping_its_other_actions() {
    let d = email();
    let s = snapshot(region(
        vec![filter(
            "cis-4.3-root-account-usage",
            &pattern_of(&d, "4.3"),
            "m",
        )],
        vec![alarm(
            "cis-4.3-root-account-usage",
            "m",
            5.0,
            &["arn:aws:sns:us-east-1:123456789012:pager"],
        )],
        vec![topic(TOPIC_ARN)],
        vec![sub(TOPIC_ARN, true)],
    ));
    let d = desired("sns:\n  topic: alerts\n");
    let p = diff(&d, &s);
    let c = p
        .changes
        .iter()
        .find(|c| c.address.short() == "aws_cloudwatch_metric_alarm.cis_4_3")
        .expect("alarm");
    assert_eq!(c.action, Action::Update);
    let Some(Resource::MetricAlarm(a)) = &c.after else {
        panic!()
    };
    assert_eq!(a.threshold, Some(1.0));
    assert_eq!(a.alarm_actions.len(), 2, "pager kept, alerts added");
    assert_eq!(a.ok_actions.len(), 1, "untouched attributes carried over");
}

#[test]
fn alarm_with_five_actions_is_blocked_not_overfilled() {
    let d = email();
    let five: Vec<String> = (0..5)
        .map(|i| format!("arn:aws:sns:us-east-1:123456789012:t{i}"))
        .collect();
    let refs: Vec<&str> = five.iter().map(String::as_str).collect();
    let s = snapshot(region(
        vec![filter(
            "cis-4.3-root-account-usage",
            &pattern_of(&d, "4.3"),
            "m",
        )],
        vec![alarm("cis-4.3-root-account-usage", "m", 1.0, &refs)],
        vec![topic(TOPIC_ARN)],
        vec![sub(TOPIC_ARN, true)],
    ));
    let p = diff(&desired("sns:\n  topic: alerts\n"), &s);
    assert_eq!(status(&p, "4.3"), ControlStatus::Blocked);
    assert!(reason(&p, "4.3").contains("5 alarm actions"));
    assert!(
        !p.changes
            .iter()
            .any(|c| c.address.short() == "aws_cloudwatch_metric_alarm.cis_4_3")
    );
}

#[test]
fn our_filter_missing_a_term_is_widened_never_narrowed() {
    let d = email();
    let mut user_extra =
        pattern_of(&d, "4.14").replace(" || ($.eventName = EnableVpcClassicLink)", "");
    user_extra = user_extra.replace("{ ", "{ ($.eventName = CustomThing) || ");
    let s = snapshot(region(
        vec![filter(
            "cis-4.14-vpc-changes",
            &user_extra,
            "cis-4.14-vpc-changes",
        )],
        vec![],
        vec![],
        vec![],
    ));
    let p = diff(&d, &s);
    let c = p
        .changes
        .iter()
        .find(|c| c.address.short() == "aws_cloudwatch_log_metric_filter.cis_4_14")
        .expect("filter");
    assert_eq!(c.action, Action::Update);
    assert!(c.reason.contains("EnableVpcClassicLink"), "{}", c.reason);
    let Some(Resource::MetricFilter(f)) = &c.after else {
        panic!()
    };
    let new = crate::pattern::parse(&f.pattern).expect("parses");
    let bench = crate::pattern::parse(&pattern_of(&d, "4.14")).expect("parses");
    assert_eq!(
        crate::pattern::covers(&new, &bench),
        crate::pattern::Coverage::Covered
    );
    let old = crate::pattern::parse(&user_extra).expect("parses");
    assert_eq!(
        crate::pattern::covers(&new, &old),
        crate::pattern::Coverage::Covered,
        "nothing the old one caught is lost"
    );

    // `patterns: exact` writes the benchmark's text instead.
    let exact = exact();
    let p = diff(&exact, &s);
    let c = p
        .changes
        .iter()
        .find(|c| c.address.short() == "aws_cloudwatch_log_metric_filter.cis_4_14")
        .expect("filter");
    let Some(Resource::MetricFilter(f)) = &c.after else {
        panic!()
    };
    assert_eq!(f.pattern, pattern_of(&d, "4.14"));
}

#[test]
fn a_fix_over_1024_characters_is_blocked() {
    let d = email();
    let mut long = String::from("{ ($.eventName = CreateVpc)");
    for i in 0..60 {
        long.push_str(&format!(" || ($.eventName = Custom{i:03})"));
    }
    long.push_str(" }");
    let s = snapshot(region(
        vec![filter(
            "cis-4.14-vpc-changes",
            &long,
            "cis-4.14-vpc-changes",
        )],
        vec![],
        vec![],
        vec![],
    ));
    let p = diff(&d, &s);
    assert_eq!(status(&p, "4.14"), ControlStatus::Blocked);
    assert!(
        reason(&p, "4.14").contains("1024"),
        "{}",
        reason(&p, "4.14")
    );
    assert!(
        !p.changes
            .iter()
            .any(|c| c.address.short().ends_with("cis_4_14"))
    );
}

#[test]
fn the_100_filter_quota_is_respected() {
    let d = email();
    let filters: Vec<MetricFilter> = (0..95)
        .map(|i| {
            filter(
                &format!("other-{i}"),
                &format!("{{ $.eventName = Other{i} }}"),
                &format!("m{i}"),
            )
        })
        .collect();
    let p = diff(&d, &snapshot(region(filters, vec![], vec![], vec![])));
    let creates = p
        .changes
        .iter()
        .filter(|c| matches!(c.after, Some(Resource::MetricFilter(_))))
        .count();
    assert_eq!(creates, 5);
    let blocked = p
        .controls
        .iter()
        .filter(|c| c.status == ControlStatus::Blocked)
        .count();
    assert_eq!(blocked, 10);
    assert!(
        p.controls
            .iter()
            .any(|c| c.reason.contains("maximum of 100 metric filters"))
    );
}

#[test]
fn failed_reads_make_controls_unknown_and_plan_nothing_from_them() {
    let d = email();
    // Trails unreadable: nothing at all can be judged.
    let mut s = snapshot(empty_region());
    s.trails = Observed::Failed(failure("cloudtrail:DescribeTrails"));
    let p = diff(&d, &s);
    assert!(p.is_incomplete());
    assert!(p.changes.is_empty());
    assert!(monitoring(&p).all(|c| c.status == ControlStatus::Unknown));
    assert!(
        monitoring(&p)
            .next()
            .expect("control")
            .reason
            .contains("cloudtrail:DescribeTrails")
    );

    // Alarms unreadable: no alarm may be created (it might exist).
    let mut r = empty_region();
    r.alarms = Observed::Failed(failure("cloudwatch:DescribeAlarms"));
    let p = diff(&d, &snapshot(r));
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
    assert!(monitoring(&p).all(|c| c.status == ControlStatus::Unknown));

    // Filters unreadable on the log group.
    let mut r = empty_region();
    r.metric_filters.insert(
        LG.into(),
        Observed::Failed(failure("logs:DescribeMetricFilters")),
    );
    let p = diff(&d, &snapshot(r));
    assert!(p.changes.is_empty());
    assert!(monitoring(&p).all(|c| c.status == ControlStatus::Unknown));

    // Subscriptions unreadable on a fully built account: not compliant.
    let done = simulate_apply(
        snapshot(empty_region()),
        &diff(&d, &snapshot(empty_region())),
        true,
    );
    let mut broken = done.clone();
    broken
        .regions
        .get_mut(REGION)
        .expect("region")
        .subscriptions = Observed::Failed(failure("sns:ListSubscriptions"));
    let p = diff(&d, &broken);
    assert!(p.changes.is_empty());
    assert!(
        monitoring(&p).all(|c| c.status == ControlStatus::Unknown),
        "{:#?}",
        p.controls
    );

    // A trail's selectors unreadable: unknown, not blocked, not compliant.
    let mut s = done;
    let mut t = trail();
    t.selectors = Observed::Failed(failure("cloudtrail:GetEventSelectors"));
    s.trails = Observed::Ok(vec![t]);
    let p = diff(&d, &s);
    assert!(monitoring(&p).all(|c| c.status == ControlStatus::Unknown));
}

#[test]
fn pending_subscription_is_pending_not_compliant() {
    let d = desired("");
    let done = simulate_apply(
        snapshot(empty_region()),
        &diff(&email(), &snapshot(empty_region())),
        false,
    );
    let p = diff(&d, &done);
    assert!(p.changes.is_empty());
    assert!(monitoring(&p).all(|c| c.status == ControlStatus::PendingConfirmation));
    assert!(
        reason(&p, "4.1").contains("email:a@example.com confirms"),
        "{}",
        reason(&p, "4.1")
    );
}

#[test]
fn plan_json_round_trips() {
    let p = diff(&email(), &snapshot(empty_region()));
    let back: Plan =
        serde_json::from_str(&serde_json::to_string(&p).expect("serialises")).expect("parses");
    assert_eq!(back, p);
    let shown = crate::jsonplan::JsonPlan::from_plan(&p);
    let again = crate::jsonplan::JsonPlan::from_json(&shown.to_json(), "plan.json").expect("loads");
    assert_eq!(again, shown);
}

#[test]
fn a_firing_alarm_on_a_pending_topic_is_reused_not_duplicated() {
    let d = email();
    let s = snapshot(root_chain(
        &d,
        vec![alarm("root-alarm", "RootUsage", 1.0, &[TOPIC_ARN])],
        Some(false),
    ));
    let p = diff(&d, &s);
    assert_eq!(
        status(&p, "4.3"),
        ControlStatus::PendingConfirmation,
        "{}",
        reason(&p, "4.3")
    );
    assert!(
        !p.changes
            .iter()
            .any(|c| c.address.short().ends_with("cis_4_3")),
        "no second filter or alarm"
    );
    assert!(
        !p.changes
            .iter()
            .any(|c| matches!(c.after, Some(Resource::Topic(_)))),
        "no second topic"
    );
    // The configured email joins the topic the user's alarm already notifies.
    assert!(p.changes.iter().any(
        |c| matches!(&c.after, Some(Resource::Subscription(s)) if s.topic_arn.known() == Some(TOPIC_ARN))
    ));
}

#[test]
fn a_firing_alarm_without_a_topic_gets_the_topic_added() {
    let d = desired("sns:\n  topic: alerts\n");
    let s = snapshot(root_chain(
        &d,
        vec![alarm("root-alarm", "RootUsage", 1.0, &[])],
        Some(true),
    ));
    let p = diff(&d, &s);
    let c = p
        .changes
        .iter()
        .find(|c| c.address.short() == "aws_cloudwatch_metric_alarm.cis_4_3")
        .expect("alarm");
    assert_eq!(c.action, Action::Update);
    let (Some(Resource::MetricAlarm(before)), Some(Resource::MetricAlarm(after))) =
        (&c.before, &c.after)
    else {
        panic!()
    };
    assert_eq!(
        after.name, "root-alarm",
        "the user's alarm, not a second one"
    );
    assert_eq!(after.alarm_actions, vec![Deferred::from(TOPIC_ARN)]);
    let mut only_actions_differ = before.clone();
    only_actions_differ.alarm_actions = after.alarm_actions.clone();
    assert_eq!(
        &only_actions_differ, after,
        "nothing else of the user's alarm changes"
    );
    assert_eq!(status(&p, "4.3"), ControlStatus::WillFix);
}

#[test]
fn an_alarm_notifying_another_accounts_topic_is_unknown_not_duplicated() {
    let d = email();
    let central = "arn:aws:sns:us-east-1:999999999999:central-security";
    let s = snapshot(region(
        vec![filter("root", &pattern_of(&d, "4.3"), "RootUsage")],
        vec![alarm("root-alarm", "RootUsage", 1.0, &[central])],
        vec![],
        vec![],
    ));
    let p = diff(&d, &s);
    assert_eq!(status(&p, "4.3"), ControlStatus::Unknown);
    assert!(
        reason(&p, "4.3").contains("999999999999"),
        "{}",
        reason(&p, "4.3")
    );
    assert!(!p.changes.iter().any(|c| c.controls == ["4.3"]));
    assert!(p.is_incomplete());
}

#[test]
fn an_alarm_stuck_in_alarm_is_not_compliant_and_ours_is_fixed() {
    let d = email();
    let mut a = alarm("cis-4.3-root-account-usage", "m", 1.0, &[TOPIC_ARN]);
    a.treat_missing_data = Some("breaching".into());
    let s = snapshot(region(
        vec![filter(
            "cis-4.3-root-account-usage",
            &pattern_of(&d, "4.3"),
            "m",
        )],
        vec![a],
        vec![topic(TOPIC_ARN)],
        vec![sub(TOPIC_ARN, true)],
    ));
    let p = diff(&desired("sns:\n  topic: alerts\n"), &s);
    assert_eq!(
        status(&p, "4.3"),
        ControlStatus::WillFix,
        "{}",
        reason(&p, "4.3")
    );
    let c = p
        .changes
        .iter()
        .find(|c| c.address.short() == "aws_cloudwatch_metric_alarm.cis_4_3")
        .expect("alarm");
    let Some(Resource::MetricAlarm(after)) = &c.after else {
        panic!()
    };
    assert_eq!(after.treat_missing_data.as_deref(), Some("notBreaching"));
    assert!(
        c.reason.contains("missing data as breaching"),
        "{}",
        c.reason
    );
}

#[test]
fn a_trail_delivering_to_another_account_blocks_with_the_reason() {
    let mut s = snapshot(empty_region());
    let mut t = trail();
    t.log_group_arn = Some("arn:aws:logs:us-east-1:999999999999:log-group:org:*".into());
    s.trails = Observed::Ok(vec![t]);
    let p = diff(&email(), &s);
    assert!(monitoring(&p).all(|c| c.status == ControlStatus::Blocked));
    assert!(
        p.notices[0].details()[0].contains("account 999999999999"),
        "{:?}",
        p.notices
    );
}

#[test]
fn a_topic_alarms_cannot_reach_is_no_link() {
    let d = email();
    let encrypted = |key: &str| {
        let mut r = root_chain(
            &d,
            vec![alarm("root-alarm", "RootUsage", 1.0, &[TOPIC_ARN])],
            Some(true),
        );
        r.topic_attributes.insert(
            TOPIC_ARN.into(),
            Observed::Ok(Some(TopicAttributes {
                kms_master_key_id: Some(key.into()),
            })),
        );
        snapshot(r)
    };
    // The AWS managed key: CloudWatch can never publish; a new topic is made.
    let p = diff(&d, &encrypted("alias/aws/sns"));
    assert_ne!(status(&p, "4.3"), ControlStatus::Compliant);
    assert!(
        p.changes
            .iter()
            .any(|c| matches!(c.after, Some(Resource::Topic(_)))),
        "{:#?}",
        p.changes
    );
    // ... and naming it explicitly blocks, with the reason.
    let p = diff(
        &desired("sns:\n  topic: alerts\n"),
        &encrypted("alias/aws/sns"),
    );
    assert_eq!(status(&p, "4.3"), ControlStatus::Blocked);
    assert!(
        reason(&p, "4.3").contains("alias/aws/sns"),
        "{}",
        reason(&p, "4.3")
    );
    // A customer managed key: cannot be proven either way, so unknown.
    let p = diff(&d, &encrypted("arn:aws:kms:us-east-1:123456789012:key/k"));
    assert_eq!(
        status(&p, "4.3"),
        ControlStatus::Unknown,
        "{}",
        reason(&p, "4.3")
    );
    assert!(!p.changes.iter().any(|c| c.controls == ["4.3"]));
    // Attributes not read: not compliant either.
    let mut r = root_chain(
        &d,
        vec![alarm("root-alarm", "RootUsage", 1.0, &[TOPIC_ARN])],
        Some(true),
    );
    r.topic_attributes.clear();
    assert_eq!(
        status(&diff(&d, &snapshot(r)), "4.3"),
        ControlStatus::Unknown
    );
}

#[test]
fn a_term_pattern_of_ours_is_not_silently_narrowed() {
    let d = email();
    let s = ours_4_5("\"StopLogging\"");
    let p = diff(&d, &s);
    assert_eq!(status(&p, "4.5"), ControlStatus::Blocked);
    assert!(
        reason(&p, "4.5").contains("non-JSON"),
        "{}",
        reason(&p, "4.5")
    );
    let exact = exact();
    let p = diff(&exact, &s);
    assert_eq!(
        status(&p, "4.5"),
        ControlStatus::PendingConfirmation,
        "{}",
        reason(&p, "4.5")
    );
}

#[test]
fn an_unparseable_pattern_of_ours_is_not_rewritten_unless_exact() {
    let d = email();
    let s = ours_4_5("{ $.eventName == CreateTrail }");
    let p = diff(&d, &s);
    assert_eq!(status(&p, "4.5"), ControlStatus::Blocked);
    assert!(
        reason(&p, "4.5").contains("cannot parse"),
        "{}",
        reason(&p, "4.5")
    );
    assert!(
        !p.changes
            .iter()
            .any(|c| c.address.short().ends_with("cis_4_5"))
    );
    let exact = exact();
    let p = diff(&exact, &s);
    let c = p
        .changes
        .iter()
        .find(|c| c.address.short() == "aws_cloudwatch_log_metric_filter.cis_4_5")
        .expect("replaced");
    assert_eq!(c.action, Action::Update);
}

pub(super) fn desired_v(version: &str, config: &str) -> Desired {
    let b = crate::benchmark::load(version).expect("benchmark");
    let c = Config::parse(config, "test.yaml").expect("config");
    desired::build(&b, &c, "test.yaml").expect("desired")
}

pub(super) const SUBS: &str =
    "sns:\n  subscriptions:\n    - protocol: email\n      endpoint: a@example.com\n";

/// An account where `apply` of v3.0.0 has run.
pub(super) fn applied_v3_fixture() -> Fixture {
    applied_v3()
}

fn applied_v3() -> Fixture {
    let v3 = desired_v("3.0.0", SUBS);
    simulate_apply(
        snapshot(empty_region()),
        &diff(&v3, &snapshot(empty_region())),
        true,
    )
}

fn planned(p: &Plan) -> Vec<(Action, String)> {
    p.changes
        .iter()
        .map(|c| (c.action, c.address.short()))
        .collect()
}

#[test]
fn moving_to_a_version_whose_pattern_changed_retires_the_old_chain_never_keeps_both() {
    let done = applied_v3();
    let v6 = desired_v("6.0.0", SUBS);
    let p = diff(&v6, &done);
    // v6 5.10 also catches ModifySecurityGroupRules, which cis-fix's v3
    // 4.10 filter misses: a new chain under the new name, the old one gone.
    assert_eq!(
        planned(&p),
        [
            (
                Action::Create,
                "aws_cloudwatch_log_metric_filter.cis_5_10".to_string()
            ),
            (
                Action::Create,
                "aws_cloudwatch_metric_alarm.cis_5_10".to_string()
            ),
            (
                Action::Delete,
                "aws_cloudwatch_log_metric_filter.cis_4_10_security_group_changes[\"ct-logs\"]"
                    .to_string()
            ),
            (
                Action::Delete,
                "aws_cloudwatch_metric_alarm.cis_4_10_security_group_changes".to_string()
            ),
        ]
    );
    assert_eq!(p.summary().destroy, 2);
    let retired = &p.changes[2];
    assert!(
        retired
            .reason
            .contains("cis-fix's own for control 4.10 of CIS v1.4.0 to v5.0.0"),
        "{}",
        retired.reason
    );
    // Every other v6 control is compliant on the v3 resources, reused.
    assert!(
        p.controls
            .iter()
            .filter(|c| c.id != "5.10")
            .all(|c| c.status == ControlStatus::Compliant),
        "{:#?}",
        p.controls
    );
    // Applied, it converges: one alarm for security-group changes.
    let after = simulate_apply(done, &p, true);
    assert!(diff(&v6, &after).changes.is_empty());
    let r = &after.regions[REGION];
    let Observed::Ok(alarms) = &r.alarms else {
        panic!()
    };
    assert_eq!(
        alarms
            .iter()
            .filter(|a| a.name.contains("security-group-changes"))
            .count(),
        1
    );
}

#[test]
fn moving_to_a_version_whose_patterns_the_old_chain_covers_retires_nothing() {
    let done = applied_v3();
    let p = diff(&desired_v("5.0.0", SUBS), &done);
    // 4.10 keeps its name in v5 and is widened in place.
    assert_eq!(
        planned(&p),
        [(
            Action::Update,
            "aws_cloudwatch_log_metric_filter.cis_4_10".to_string()
        )]
    );
}

#[test]
fn resources_cis_fix_did_not_make_are_never_retired() {
    let mut done = applied_v3();
    let r = done.regions.get_mut(REGION).expect("region");
    // The user's own filter and alarm under cis-fix's v3 names, but with
    // their own metric and no cis-fix description.
    let Observed::Ok(fs) = r.metric_filters.get_mut(LG).expect("lg") else {
        panic!()
    };
    let f = fs
        .iter_mut()
        .find(|f| f.name == "cis-4.10-security-group-changes")
        .expect("filter");
    f.metric_name = "SecurityGroupEvents".into();
    let Observed::Ok(alarms) = &mut r.alarms else {
        panic!()
    };
    let a = alarms
        .iter_mut()
        .find(|a| a.name == "cis-4.10-security-group-changes")
        .expect("alarm");
    a.metric_name = Some("SecurityGroupEvents".into());
    a.description = Some("ours, not cis-fix's".into());
    let p = diff(&desired_v("6.0.0", SUBS), &done);
    assert!(
        p.changes.iter().all(|c| c.action != Action::Delete),
        "{:#?}",
        planned(&p)
    );
}

#[test]
fn nothing_is_retired_while_a_control_cannot_be_judged() {
    let mut done = applied_v3();
    done.regions.get_mut(REGION).expect("region").subscriptions =
        Observed::Failed(failure("sns:ListSubscriptions"));
    let p = diff(&desired_v("6.0.0", SUBS), &done);
    assert!(p.changes.iter().all(|c| c.action != Action::Delete));
}

#[test]
fn nothing_is_retired_while_a_control_is_blocked() {
    // The topic cis-fix made is re-encrypted with the AWS managed key, so
    // alarms can no longer reach it: every control is blocked before its
    // alarm is chosen, and no old alarm may be taken for unused.
    let mut done = applied_v3();
    let r = done.regions.get_mut(REGION).expect("region");
    for a in r.topic_attributes.values_mut() {
        *a = Observed::Ok(Some(TopicAttributes {
            kms_master_key_id: Some("alias/aws/sns".into()),
        }));
    }
    let p = diff(&desired_v("6.0.0", SUBS), &done);
    assert!(
        p.controls
            .iter()
            .any(|c| c.status == ControlStatus::Blocked),
        "{:#?}",
        p.controls
    );
    assert!(
        p.changes.iter().all(|c| c.action != Action::Delete),
        "{:#?}",
        planned(&p)
    );
}

#[test]
fn destroys_wait_for_every_other_change() {
    let p = diff(&desired_v("6.0.0", SUBS), &applied_v3());
    let made: Vec<&crate::address::Address> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::Delete)
        .map(|c| &c.address)
        .collect();
    assert!(!made.is_empty());
    for d in p.changes.iter().filter(|c| c.action == Action::Delete) {
        for m in &made {
            assert!(d.depends_on.contains(m), "{} must wait for {m}", d.address);
        }
    }
}

#[test]
fn an_old_filter_on_two_log_groups_of_one_region_is_retired_on_each() {
    const LG2: &str = "ct-logs-2";
    let mut done = applied_v3();
    let mut second = trail();
    second.name = "second".into();
    second.arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/second".into();
    second.log_group_arn = Some(format!(
        "arn:aws:logs:{REGION}:123456789012:log-group:{LG2}:*"
    ));
    let Observed::Ok(ts) = &mut done.trails else {
        panic!()
    };
    ts.push(second);
    let r = done.regions.get_mut(REGION).expect("region");
    let Observed::Ok(fs) = &r.metric_filters[LG] else {
        panic!()
    };
    let mut old = fs
        .iter()
        .find(|f| f.name == "cis-4.10-security-group-changes")
        .expect("old filter")
        .clone();
    old.log_group_name = LG2.into();
    r.metric_filters.insert(LG2.into(), Observed::Ok(vec![old]));
    let p = diff(&desired_v("6.0.0", SUBS), &done);
    let deleted: Vec<String> = p
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.address.short())
        .collect();
    assert!(
        deleted.contains(&format!(
            "aws_cloudwatch_log_metric_filter.cis_4_10_security_group_changes[\"{LG}\"]"
        )) && deleted.contains(&format!(
            "aws_cloudwatch_log_metric_filter.cis_4_10_security_group_changes[\"{LG2}\"]"
        )),
        "{deleted:?}"
    );
}

#[test]
fn a_users_alarm_on_an_old_filters_metric_keeps_the_filter() {
    let mut done = applied_v3();
    let r = done.regions.get_mut(REGION).expect("region");
    let Observed::Ok(alarms) = &mut r.alarms else {
        panic!()
    };
    alarms.push(alarm(
        "pager-sg",
        "cis-4.10-security-group-changes",
        1.0,
        &[TOPIC_ARN],
    ));
    let p = diff(&desired_v("6.0.0", SUBS), &done);
    assert!(
        !p.changes
            .iter()
            .any(|c| c.action == Action::Delete && c.address.kind == MetricFilter::TYPE),
        "{:#?}",
        planned(&p)
    );
    // cis-fix's own old alarm still goes; the user's stays.
    assert!(planned(&p).contains(&(
        Action::Delete,
        "aws_cloudwatch_metric_alarm.cis_4_10_security_group_changes".to_string()
    )));
    assert!(!p.changes.iter().any(|c| c.address.name.contains("pager")));
    assert!(p.notices.iter().any(|n| matches!(
        n,
        crate::plan::Notice::RetirementKept { alarms, .. } if alarms == &["pager-sg".to_string()]
    )));
}

/// A member account whose only trail is the management account's
/// organization trail: its monitoring controls hold only where the
/// management account's chain on the trail's log group was proven (given
/// as data), and are blocked on that account otherwise.
#[test]
fn an_organization_trail_covers_a_member_only_where_the_owners_chain_is_proven() {
    use super::monitoring::coverage::chains_on;
    let d = email();
    let owner = snapshot(root_chain(
        &d,
        vec![alarm("root-alarm", "RootUsage", 1.0, &[TOPIC_ARN])],
        Some(true),
    ))
    .to_snapshot();
    let lg = LogGroupRef {
        region: REGION.into(),
        account: "123456789012".into(),
        name: LG.into(),
    };
    let covering = chains_on(&d.monitoring, &owner, &lg).expect("the owner's snapshot");
    assert_eq!(covering.chains.keys().collect::<Vec<_>>(), ["4.3"]);
    // Nothing is proven from another account's snapshot.
    let mut member = snapshot(empty_region()).to_snapshot();
    member.account_id = Some("999999999999".into());
    assert!(chains_on(&d.monitoring, &member, &lg).is_none());

    let day = crate::date::Date::from_days(20_000);
    let covered =
        super::plan_covered(&d, &member, day, std::slice::from_ref(&covering)).expect("plan");
    let alone = super::plan(&d, &member, day).expect("plan");
    let ids: Vec<String> = d.monitoring.controls.iter().map(|c| c.id.clone()).collect();
    let control = |p: &Plan, id: &str| {
        p.controls
            .iter()
            .find(|c| c.id == id)
            .cloned()
            .expect("control")
    };
    for id in &ids {
        let c = control(&covered, id);
        if id == "4.3" {
            assert_eq!(c.status, ControlStatus::Compliant);
            assert!(
                c.reason.starts_with(
                    "covered by organization trail `arn:aws:cloudtrail:us-east-1:123456789012:trail/main`"
                ) && c.reason.contains("alarm `root-alarm`"),
                "{}",
                c.reason
            );
        } else {
            assert_eq!(c.status, ControlStatus::Blocked, "{id}");
            assert!(
                c.reason.contains("does not hold for this control"),
                "{}",
                c.reason
            );
        }
        let a = control(&alone, id);
        assert_eq!(a.status, ControlStatus::Blocked, "{id}");
        assert_eq!(
            a.cause,
            Some(crate::plan::Cause::OtherAccount {
                account: "123456789012".into()
            })
        );
        assert!(a.reason.contains("plan the organization"), "{}", a.reason);
    }
    // The member builds no chain of its own.
    assert!(!covered.changes.iter().any(|c| {
        c.after.as_ref().is_some_and(|r| {
            matches!(
                r.type_name(),
                "aws_cloudwatch_log_metric_filter" | "aws_cloudwatch_metric_alarm"
            )
        })
    }));
}
