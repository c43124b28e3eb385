//! The CloudTrail family from plain values: fixes in place, creation in an
//! empty account, what is never touched, and convergence.

use std::collections::BTreeMap;

use crate::address::GLOBAL;
use crate::diff::tests::{
    Fixture, SUBS, compliant_bucket, desired_v, empty_region, failure, simulate_apply, snapshot,
    status, trail,
};
use crate::kinds::*;
use crate::observed::Observed;
use crate::plan::{Action, Cause, ControlStatus, Plan};
use crate::snapshot::ReadKey;

const ACCESS_LOGS: &str = "cloudtrail:\n  access_logs:\n    bucket: access-logs\n";

fn plan(version: &str, config: &str, f: &Fixture) -> Plan {
    let d = desired_v(version, config);
    crate::diff::plan(&d, &f.to_snapshot(), crate::date::Date::from_days(20_000)).expect("plan")
}

fn config() -> String {
    format!("{SUBS}{ACCESS_LOGS}")
}

/// An account with no trail, whose reads found nothing of cis-fix's.
fn empty_account() -> Fixture {
    let mut f = snapshot(empty_region());
    f.trails = Observed::Ok(vec![]);
    f.regions
        .get_mut("us-east-1")
        .expect("region")
        .metric_filters
        .clear();
    f.extra = BTreeMap::from([
        (
            ReadKey::new(log_group::READ, "us-east-1", Some("cis-fix/cloudtrail")),
            Observed::Ok(ReadData::LogGroups(vec![])),
        ),
        (
            ReadKey::new(iam_role::READ, GLOBAL, Some("cis-fix-cloudtrail-logs")),
            Observed::Ok(ReadData::Role(None)),
        ),
        (
            ReadKey::new(kms_key::READ, "us-east-1", None),
            Observed::Ok(ReadData::KmsKeys(vec![])),
        ),
        (
            ReadKey::new(
                s3_bucket::READ,
                GLOBAL,
                Some("cis-fix-cloudtrail-123456789012-us-east-1"),
            ),
            Observed::Ok(ReadData::Bucket(None)),
        ),
    ]);
    f
}

fn changes(p: &Plan) -> Vec<(Action, String)> {
    p.changes
        .iter()
        .map(|c| (c.action, c.address.short()))
        .collect()
}

fn trail_change(p: &Plan) -> (&CloudTrail, Option<&CloudTrail>, &crate::plan::Change) {
    let c = p
        .changes
        .iter()
        .find(|c| c.address.kind == "aws_cloudtrail")
        .expect("a trail change");
    let Some(Resource::CloudTrail(after)) = &c.after else {
        panic!()
    };
    let before = match &c.before {
        Some(Resource::CloudTrail(b)) => Some(b),
        _ => None,
    };
    (after, before, c)
}

#[test]
fn an_empty_account_gets_a_trail_and_the_whole_chain_in_one_plan_then_converges() {
    let f = empty_account();
    let p = plan("3.0.0", &config(), &f);
    let made = changes(&p);
    for want in [
        "aws_s3_bucket.cloudtrail",
        "aws_kms_key.cloudtrail",
        "aws_cloudwatch_log_group.cloudtrail",
        "aws_iam_role.cloudtrail_logs",
        "aws_cloudtrail.trail[\"cis-fix\"]",
        "aws_s3_bucket_logging",
    ] {
        assert!(
            made.iter()
                .any(|(a, x)| *a == Action::Create && x.contains(want)),
            "{want} not in {made:?}"
        );
    }
    let (t, before, c) = trail_change(&p);
    assert!(before.is_none());
    assert!(t.is_multi_region_trail && t.enable_log_file_validation && t.enable_logging);
    assert!(t.kms_key_id.is_some() && t.cloud_watch_logs_role_arn.is_some());
    assert_eq!(
        c.depends_on.len(),
        4,
        "bucket, key, log group and role first"
    );
    // v3.0.0's audit reads classic selectors.
    assert_eq!(t.event_selectors.basic.len(), 1);
    // The chain is planned on the new log group, after the trail.
    let filters: Vec<_> = p
        .changes
        .iter()
        .filter(|c| c.address.kind == "aws_cloudwatch_log_metric_filter")
        .collect();
    assert_eq!(filters.len(), 15);
    for f in &filters {
        let Some(Resource::MetricFilter(mf)) = &f.after else {
            panic!()
        };
        assert_eq!(mf.log_group_name, "cis-fix/cloudtrail");
        assert!(f.depends_on.contains(&c.address), "{:?}", f.depends_on);
    }
    for id in ["3.1", "3.2", "3.4", "3.5"] {
        assert_eq!(status(&p, id), ControlStatus::WillFix, "{id}");
    }
    // The chain waits only for the email subscription's confirmation.
    for id in ["4.1", "4.15"] {
        assert_eq!(status(&p, id), ControlStatus::PendingConfirmation, "{id}");
    }

    let after = simulate_apply(f, &p, true);
    let again = plan("3.0.0", &config(), &after);
    assert!(again.changes.is_empty(), "{:#?}", changes(&again));
    assert!(
        again
            .controls
            .iter()
            .filter(|c| !again.unmanaged.contains(&c.id))
            .all(|c| c.status == ControlStatus::Compliant),
        "{:#?}",
        again.controls
    );
}

#[test]
fn without_an_access_log_bucket_logging_is_left_to_the_user() {
    let p = plan("3.0.0", SUBS, &empty_account());
    assert_eq!(status(&p, "3.4"), ControlStatus::Blocked);
    let c = p.controls.iter().find(|c| c.id == "3.4").expect("3.4");
    assert_eq!(
        c.cause,
        Some(Cause::NeedsSetting {
            setting: "cloudtrail.access_logs.bucket".into()
        })
    );
    assert!(
        !changes(&p)
            .iter()
            .any(|(_, x)| x.contains("bucket_logging"))
    );
}

#[test]
fn a_single_region_stopped_trail_is_fixed_in_place_not_replaced() {
    let mut f = snapshot(empty_region());
    let mut t = trail();
    t.is_multi_region = false;
    t.include_global_service_events = false;
    t.status = Observed::Ok(TrailStatus {
        is_logging: false,
        latest_cloudwatch_logs_delivery_error: None,
    });
    f.trails = Observed::Ok(vec![t]);
    let p = plan("3.0.0", SUBS, &f);
    let (after, before, c) = trail_change(&p);
    assert_eq!(c.action, Action::Update);
    assert!(before.is_some_and(|b| !b.is_multi_region_trail));
    assert!(after.is_multi_region_trail && after.include_global_service_events);
    assert!(after.enable_logging);
    assert!(
        !p.changes
            .iter()
            .any(|x| x.address.kind == "aws_cloudtrail" && x.action == Action::Create),
        "no second trail"
    );
    let calls = crate::kinds::calls(c.action, c.before.as_ref(), c.after.as_ref());
    assert!(
        matches!(
            calls.as_slice(),
            [WriteCall::UpdateTrail { settings, .. }, WriteCall::StartLogging { .. }]
                if settings.is_multi_region_trail == Some(true)
                    && settings.include_global_service_events == Some(true)
                    && settings.kms_key_id.is_none()
        ),
        "{calls:?}"
    );
    assert_eq!(status(&p, "3.1"), ControlStatus::WillFix);
    // The chain goes on the trail's own log group, after the fix.
    let filter = p
        .changes
        .iter()
        .find(|x| x.address.kind == "aws_cloudwatch_log_metric_filter")
        .expect("filters");
    assert!(filter.depends_on.contains(&c.address));

    let after = simulate_apply(f, &p, true);
    let again = plan("3.0.0", SUBS, &after);
    assert!(again.changes.is_empty(), "{:#?}", changes(&again));
    let Observed::Ok(ts) = &after.trails else {
        panic!()
    };
    assert_eq!(ts.len(), 1);
}

#[test]
fn an_organization_trail_of_another_account_is_never_modified() {
    let mut f = snapshot(empty_region());
    let mut org = super::super::trail::tests::qualifying("org", "999999999999", "org-logs");
    org.is_organization_trail = true;
    org.log_file_validation = false;
    f.trails = Observed::Ok(vec![org]);
    let p = plan("3.0.0", SUBS, &f);
    assert!(
        !p.changes.iter().any(|c| c.address.kind == "aws_cloudtrail"),
        "{:#?}",
        changes(&p)
    );
    assert_eq!(status(&p, "3.1"), ControlStatus::Compliant);
    assert_eq!(status(&p, "3.2"), ControlStatus::Blocked);
    let c = p.controls.iter().find(|c| c.id == "3.2").expect("3.2");
    assert_eq!(
        c.cause,
        Some(Cause::OtherAccount {
            account: "999999999999".into()
        })
    );
    // No trail, and no bucket for one, is created beside it.
    assert!(!p.changes.iter().any(|c| c.address.kind == "aws_s3_bucket"));
}

#[test]
fn selectors_are_merged_in_the_trails_own_form() {
    let mut f = snapshot(empty_region());
    let mut t = trail();
    let data = AdvancedSelector {
        name: Some("S3 object writes".into()),
        field_selectors: vec![
            FieldSelector {
                field: "eventCategory".into(),
                equals: vec!["Data".into()],
                ..Default::default()
            },
            FieldSelector {
                field: "resources.type".into(),
                equals: vec!["AWS::S3::Object".into()],
                ..Default::default()
            },
        ],
    };
    let writes_only = AdvancedSelector {
        name: Some("Management writes".into()),
        field_selectors: vec![
            FieldSelector {
                field: "eventCategory".into(),
                equals: vec!["Management".into()],
                ..Default::default()
            },
            FieldSelector {
                field: "readOnly".into(),
                equals: vec!["false".into()],
                ..Default::default()
            },
        ],
    };
    t.selectors = Observed::Ok(EventSelectors {
        basic: vec![],
        advanced: vec![data.clone(), writes_only],
    });
    f.trails = Observed::Ok(vec![t]);
    let p = plan("3.0.0", SUBS, &f);
    let (after, _, _) = trail_change(&p);
    assert!(after.event_selectors.basic.is_empty(), "stays advanced");
    assert_eq!(after.event_selectors.advanced[0], data);
    assert_eq!(after.event_selectors.advanced.len(), 2);
    assert_eq!(status(&p, "3.1"), ControlStatus::WillFix);
}

#[test]
fn a_trail_dropping_kms_events_blocks_only_the_kms_control_when_it_cannot_be_fixed() {
    // Five classic selectors with data events and KMS excluded: management
    // events cannot be added without changing which data events are logged.
    let mut f = crate::diff::tests::applied_v3_fixture();
    let Observed::Ok(ts) = &mut f.trails else {
        panic!()
    };
    let data = |i: usize| BasicSelector {
        read_write_type: "WriteOnly".into(),
        include_management_events: i == 0,
        exclude_management_event_sources: if i == 0 {
            vec!["kms.amazonaws.com".into()]
        } else {
            vec![]
        },
        data_resources: vec![DataResource {
            kind: "AWS::S3::Object".into(),
            values: vec![format!("arn:aws:s3:::b{i}/")],
        }],
    };
    ts[0].selectors = Observed::Ok(EventSelectors {
        basic: (0..5).map(data).collect(),
        advanced: vec![],
    });
    let p = plan("3.0.0", SUBS, &f);
    assert_eq!(status(&p, "3.1"), ControlStatus::Blocked);
    // Write events of every other source still reach their chains.
    assert_eq!(status(&p, "4.4"), ControlStatus::Compliant);
    assert_eq!(status(&p, "4.10"), ControlStatus::Compliant);
    // KMS events, and the reads two controls need, do not.
    for id in ["4.7", "4.1", "4.3"] {
        assert_eq!(status(&p, id), ControlStatus::Blocked, "{id}");
    }
    assert!(p.changes.is_empty(), "{:#?}", changes(&p));
}

#[test]
fn an_unencrypted_trail_gets_a_key_in_its_buckets_region() {
    let mut f = snapshot(empty_region());
    let mut t = trail();
    t.kms_key_id = None;
    f.trails = Observed::Ok(vec![t]);
    f.extra.insert(
        ReadKey::new(kms_key::READ, "us-east-1", None),
        Observed::Ok(ReadData::KmsKeys(vec![])),
    );
    let p = plan("3.0.0", SUBS, &f);
    let key = p
        .changes
        .iter()
        .find(|c| c.address.kind == "aws_kms_key")
        .expect("a key");
    assert_eq!(key.action, Action::Create);
    let (after, _, c) = trail_change(&p);
    assert!(c.depends_on.contains(&key.address));
    assert_eq!(
        after.kms_key_id,
        Some(Deferred::after_apply(&key.address, "arn"))
    );
    let Some(Resource::KmsKey(k)) = &key.after else {
        panic!()
    };
    assert!(super::policies::lets_cloudtrail_encrypt(&k.policy));
    assert!(k.enable_key_rotation);
    // The key's calls name it and rotate it, using what CreateKey returns.
    let calls = crate::kinds::calls(Action::Create, None, key.after.as_ref());
    assert!(matches!(
        calls.as_slice(),
        [
            WriteCall::CreateKey { .. },
            WriteCall::CreateAlias {
                key: Deferred::Made { .. },
                ..
            },
            WriteCall::EnableKeyRotation { .. }
        ]
    ));
}

#[test]
fn a_key_an_interrupted_apply_made_is_named_not_made_twice() {
    let mut f = snapshot(empty_region());
    let mut t = trail();
    t.kms_key_id = None;
    f.trails = Observed::Ok(vec![t]);
    let d = desired_v("3.0.0", SUBS);
    f.extra.insert(
        ReadKey::new(kms_key::READ, "us-east-1", None),
        Observed::Ok(ReadData::KmsKeys(vec![KmsKeyFacts {
            arn: "arn:aws:kms:us-east-1:123456789012:key/orphan".into(),
            description: d.trail.names.key_description.clone(),
            key_manager: "CUSTOMER".into(),
            key_spec: "SYMMETRIC_DEFAULT".into(),
            key_usage: "ENCRYPT_DECRYPT".into(),
            origin: "AWS_KMS".into(),
            key_state: "Enabled".into(),
            aliases: vec![],
            replica: false,
            rotation_enabled: Some(Observed::Ok(false)),
            policy: Some(Observed::Ok(super::policies::trail_key(
                "aws",
                "123456789012",
            ))),
        }])),
    );
    let p = plan("3.0.0", SUBS, &f);
    let key = p
        .changes
        .iter()
        .find(|c| c.address.kind == "aws_kms_key")
        .expect("a key change");
    assert_eq!(key.action, Action::Update);
    let calls = crate::kinds::calls(key.action, key.before.as_ref(), key.after.as_ref());
    assert!(
        matches!(
            calls.as_slice(),
            [
                WriteCall::CreateAlias { .. },
                WriteCall::EnableKeyRotation { .. }
            ]
        ),
        "{calls:?}"
    );
    let (after, ..) = trail_change(&p);
    assert_eq!(
        after.kms_key_id,
        Some(Deferred::Known(
            "arn:aws:kms:us-east-1:123456789012:key/orphan".into()
        ))
    );
}

#[test]
fn a_public_trail_bucket_is_blocked_and_v1_2_controls_are_judged() {
    let mut f = snapshot(empty_region());
    let (k, _) = compliant_bucket("b");
    f.extra.insert(
        k,
        Observed::Ok(ReadData::Bucket(Some(BucketFacts {
            bucket: "b".into(),
            region: Observed::Ok("us-east-1".into()),
            policy: Observed::Ok(None),
            policy_public: Observed::Ok(None),
            public_acl_grants: Observed::Ok(vec![
                "http://acs.amazonaws.com/groups/global/AllUsers".into(),
            ]),
            public_access_block: Observed::Ok(None),
            logging: Observed::Ok(None),
            object_ownership: Observed::Ok(None),
        }))),
    );
    let p = plan("1.2.0", &config(), &f);
    assert_eq!(status(&p, "2.3"), ControlStatus::WillFix);
    assert_eq!(status(&p, "2.4"), ControlStatus::Compliant);
    assert_eq!(status(&p, "2.6"), ControlStatus::WillFix);
    let pab = p
        .changes
        .iter()
        .find(|c| c.address.kind == "aws_s3_bucket_public_access_block")
        .expect("public access block");
    assert_eq!(pab.action, Action::Create);
    assert_eq!(pab.controls, ["2.3"]);
}

#[test]
fn a_failed_read_of_each_new_kind_makes_its_control_unknown_and_plans_nothing() {
    let base = empty_account();
    for key in [
        ReadKey::new(kms_key::READ, "us-east-1", None),
        ReadKey::new(iam_role::READ, GLOBAL, Some("cis-fix-cloudtrail-logs")),
        ReadKey::new(log_group::READ, "us-east-1", Some("cis-fix/cloudtrail")),
        ReadKey::new(
            s3_bucket::READ,
            GLOBAL,
            Some("cis-fix-cloudtrail-123456789012-us-east-1"),
        ),
    ] {
        let mut f = base.clone();
        f.extra
            .insert(key.clone(), Observed::Failed(failure(&key.call)));
        let p = plan("3.0.0", &config(), &f);
        assert_eq!(status(&p, "3.1"), ControlStatus::Unknown, "{key:?}");
        // Not even the first steps of the fix (the bucket, say) are planned.
        assert!(
            !p.changes.iter().any(|c| super::FAMILY
                .resource_kinds
                .contains(&c.address.kind.as_str())),
            "{key:?}: {:#?}",
            changes(&p)
        );
        assert!(!p.failed_reads.is_empty());
    }
}

#[test]
fn a_delivery_error_the_plan_cannot_change_is_blocked_not_fixed_forever() {
    // The trail already delivers through cis-fix's role to its own log group,
    // yet CloudTrail reports delivery failing: no change can help, so no
    // change is planned and nothing claims it will be fixed.
    let d = desired_v("1.2.0", SUBS);
    let mut f = snapshot(empty_region());
    let mut t = trail();
    t.cloudwatch_logs_role_arn =
        Some("arn:aws:iam::123456789012:role/cis-fix-cloudtrail-logs".into());
    t.status = Observed::Ok(TrailStatus {
        is_logging: true,
        latest_cloudwatch_logs_delivery_error: Some("AccessDeniedException".into()),
    });
    f.trails = Observed::Ok(vec![t]);
    // The role is cis-fix's, exactly as it would write it.
    let role = IamRole {
        name: "cis-fix-cloudtrail-logs".into(),
        assume_role_policy: super::policies::delivery_trust("123456789012"),
        inline_policy: Some(InlinePolicy {
            name: "cis-fix-cloudtrail-logs".into(),
            policy: super::policies::delivery_permissions(
                "aws",
                "us-east-1",
                "123456789012",
                "ct-logs",
            ),
        }),
    };
    f.extra.insert(
        ReadKey::new(iam_role::READ, GLOBAL, Some("cis-fix-cloudtrail-logs")),
        Observed::Ok(ReadData::Role(Some(role))),
    );
    let p = crate::diff::plan(&d, &f.to_snapshot(), crate::date::Date::from_days(20_000))
        .expect("plan");
    assert!(
        !p.changes.iter().any(|c| c.address.kind == "aws_cloudtrail"),
        "{:#?}",
        changes(&p)
    );
    assert_eq!(status(&p, "2.4"), ControlStatus::Blocked);
    assert!(
        p.controls
            .iter()
            .find(|c| c.id == "2.4")
            .is_some_and(|c| c.reason.contains("AccessDeniedException")),
        "{:#?}",
        p.controls
    );
    // The chain is not claimed to start from a trail that does not deliver.
    assert_ne!(status(&p, "3.1"), ControlStatus::WillFix);
    assert_ne!(status(&p, "3.1"), ControlStatus::Compliant);
}

#[test]
fn a_configured_key_cloudtrail_cannot_use_is_blocked_before_any_call() {
    let mut f = snapshot(empty_region());
    let mut t = trail();
    t.kms_key_id = None;
    f.trails = Observed::Ok(vec![t]);
    let arn = "arn:aws:kms:us-east-1:123456789012:key/team";
    f.extra.insert(
        ReadKey::new(kms_key::READ, "us-east-1", None),
        Observed::Ok(ReadData::KmsKeys(vec![KmsKeyFacts {
            arn: arn.into(),
            description: "team key".into(),
            key_manager: "CUSTOMER".into(),
            key_spec: "SYMMETRIC_DEFAULT".into(),
            key_usage: "ENCRYPT_DECRYPT".into(),
            origin: "AWS_KMS".into(),
            key_state: "Enabled".into(),
            aliases: vec![],
            replica: false,
            rotation_enabled: None,
            // The default key policy: the account only, no CloudTrail.
            policy: Some(Observed::Ok(
                r#"{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}"#.into(),
            )),
        }])),
    );
    let p = plan(
        "3.0.0",
        &format!("{SUBS}cloudtrail:\n  kms_key: {arn}\n"),
        &f,
    );
    assert_eq!(status(&p, "3.5"), ControlStatus::Blocked);
    assert!(
        !p.changes.iter().any(|c| c.address.kind == "aws_cloudtrail"),
        "{:#?}",
        changes(&p)
    );
}
