//! The flow-logs judgement from plain values: which flow logs count, what a
//! missing one brings with it, and what a failed read leaves unplanned.

use super::*;
use crate::config::Config;
use crate::diff::builder::{Parts, PlanBuilder};
use crate::kinds::ReadData;
use crate::kinds::flow_log::READ_VPCS;
use crate::observed::Observed;
use crate::plan::ControlReport;
use crate::snapshot::ReadKey;

const ACCOUNT: &str = "123456789012";
const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";
const GROUP: &str = "cis-fix/vpc-flow-logs";
const ROLE: &str = "cis-fix-vpc-flow-logs";

fn desired(config: &str) -> crate::desired::Desired {
    let b = crate::benchmark::load("3.0.0").expect("benchmark");
    let c = Config::parse(config, "test.yaml").expect("config");
    crate::desired::build(&b, &c, "test.yaml").expect("desired")
}

fn vpc(id: &str, is_default: bool) -> Vpc {
    Vpc {
        vpc_id: id.into(),
        is_default,
        name: None,
    }
}

fn flow(vpc: &str, destination_type: &str, delivery: Option<&str>) -> FlowLogFacts {
    FlowLogFacts {
        flow_log_id: format!("fl-{vpc}"),
        resource_id: vpc.into(),
        traffic_type: Some("ALL".into()),
        log_destination_type: destination_type.into(),
        log_group_name: (destination_type == TO_CLOUDWATCH).then(|| "app-flows".to_string()),
        log_destination: (destination_type != TO_CLOUDWATCH)
            .then(|| format!("arn:aws:{destination_type}:::dest")),
        flow_log_status: Some("ACTIVE".into()),
        deliver_logs_status: delivery.map(str::to_string),
        deliver_logs_error_message: (delivery == Some("FAILED")).then(|| "Access error".into()),
    }
}

/// An account whose planned regions are `regions`, each with its VPCs and
/// flow logs; no log group or role of cis-fix's yet.
fn snap(regions: &[(&str, Vec<Vpc>, Vec<FlowLogFacts>)]) -> Snapshot {
    let mut s = Snapshot::new(
        Some(ACCOUNT.into()),
        Some(format!("arn:aws:iam::{ACCOUNT}:user/admin")),
        EAST,
    );
    s.record(
        ReadKey::new(crate::snapshot::REGIONS_READ, EAST, None),
        Observed::Ok(ReadData::Regions(
            regions.iter().map(|(r, ..)| r.to_string()).collect(),
        )),
    );
    for (r, vpcs, flows) in regions {
        s.record(
            ReadKey::new(READ_VPCS, r, None),
            Observed::Ok(ReadData::Vpcs(vpcs.clone())),
        );
        s.record(
            ReadKey::new(flow_log::READ, r, None),
            Observed::Ok(ReadData::FlowLogs(flows.clone())),
        );
        s.record(
            ReadKey::new(log_group::READ, r, Some(GROUP)),
            Observed::Ok(ReadData::LogGroups(vec![])),
        );
    }
    s.record(
        ReadKey::new(iam_role::READ, GLOBAL, Some(ROLE)),
        Observed::Ok(ReadData::Role(None)),
    );
    s
}

fn run(d: &crate::desired::Desired, s: &Snapshot) -> Parts {
    let mut out = PlanBuilder::new(s.account_id.as_deref());
    plan(&d.flow_logs, s, &mut out);
    out.finish(&d.control_order).expect("no duplicate address")
}

fn control(p: &Parts) -> &ControlReport {
    assert_eq!(p.controls.len(), 1, "{:?}", p.controls);
    assert_eq!(p.controls[0].id, "3.7");
    &p.controls[0]
}

fn addresses(p: &Parts) -> Vec<String> {
    p.changes.iter().map(|c| c.address.to_string()).collect()
}

fn failed(call: &str, region: &str) -> Observed<ReadData> {
    Observed::Failed(CallFailure {
        call: call.into(),
        region: region.into(),
        resource: None,
        code: Some("UnauthorizedOperation".into()),
        message: "not allowed".into(),
        detail: None,
    })
}

#[test]
fn an_active_flow_log_of_any_destination_counts() {
    let s = snap(&[(
        EAST,
        vec![vpc("vpc-a", true), vpc("vpc-b", false), vpc("vpc-c", false)],
        vec![
            flow("vpc-a", TO_CLOUDWATCH, Some("SUCCESS")),
            flow("vpc-b", TO_S3, None),
            flow("vpc-c", "kinesis-data-firehose", Some("SUCCESS")),
        ],
    )]);
    let p = run(&desired(""), &s);
    assert!(p.changes.is_empty(), "{:?}", addresses(&p));
    let c = control(&p);
    assert_eq!(c.status, ControlStatus::Compliant);
    assert_eq!(
        c.reason,
        "all 3 VPCs in region us-east-1 have an active flow log"
    );
    let none = run(&desired(""), &snap(&[(EAST, vec![], vec![])]));
    assert_eq!(control(&none).reason, "no VPC in region us-east-1");
}

#[test]
fn a_missing_flow_log_comes_with_its_log_group_and_role_in_each_region() {
    let s = snap(&[
        (
            EAST,
            vec![vpc("vpc-e", true)],
            // A flow log whose delivery failed, and one of a subnet: neither
            // proves the VPC is logged.
            vec![
                flow("vpc-e", TO_CLOUDWATCH, Some("FAILED")),
                flow("subnet-1", TO_S3, None),
            ],
        ),
        (WEST, vec![vpc("vpc-w", false)], vec![]),
    ]);
    let p = run(&desired(""), &s);
    assert_eq!(
        addresses(&p),
        [
            // Grouped by region, global first.
            "123456789012/global/aws_iam_role.vpc_flow_logs",
            "123456789012/eu-west-1/aws_cloudwatch_log_group.vpc_flow_logs",
            "123456789012/eu-west-1/aws_flow_log.vpc[\"vpc-w\"]",
            "123456789012/us-east-1/aws_cloudwatch_log_group.vpc_flow_logs",
            "123456789012/us-east-1/aws_flow_log.vpc[\"vpc-e\"]",
        ]
    );
    let c = control(&p);
    assert_eq!(c.status, ControlStatus::WillFix);
    assert!(
        c.reason.starts_with(
            "a flow log is created for 2 VPCs: vpc-e (default) in us-east-1, vpc-w in eu-west-1"
        ),
        "{}",
        c.reason
    );
    let east = p
        .changes
        .iter()
        .find(|c| {
            c.address
                .to_string()
                .ends_with("aws_flow_log.vpc[\"vpc-e\"]")
        })
        .expect("vpc-e's flow log");
    assert!(
        east.reason
            .contains("has no active flow log (fl-vpc-e to log group app-flows: delivery failed: Access error)"),
        "{}",
        east.reason
    );
    assert_eq!(east.controls, ["3.7"]);
    assert_eq!(
        east.depends_on
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "123456789012/us-east-1/aws_cloudwatch_log_group.vpc_flow_logs",
            "123456789012/global/aws_iam_role.vpc_flow_logs",
        ]
    );
    let Some(Resource::FlowLog(f)) = &east.after else {
        panic!("{:?}", east.after)
    };
    assert_eq!(f.traffic_type, "REJECT", "the benchmark's remediation");
    assert_eq!(f.log_destination_type, TO_CLOUDWATCH);
    assert_eq!(f.log_group_name.as_deref(), Some(GROUP));
    assert_eq!(f.log_destination, None);
    assert_eq!(
        f.deliver_logs_permission_arn
            .as_ref()
            .and_then(|d| d.known()),
        Some("arn:aws:iam::123456789012:role/cis-fix-vpc-flow-logs")
    );
    assert_eq!(f.max_aggregation_interval, 600);
    let Some(Resource::IamRole(role)) = &p.changes[0].after else {
        panic!()
    };
    let trust: serde_json::Value = serde_json::from_str(&role.assume_role_policy).expect("json");
    let st = &trust["Statement"][0];
    assert_eq!(st["Principal"]["Service"], "vpc-flow-logs.amazonaws.com");
    assert_eq!(
        st["Condition"]["StringEquals"]["aws:SourceAccount"],
        ACCOUNT
    );
    let policy: serde_json::Value =
        serde_json::from_str(&role.inline_policy.as_ref().expect("inline policy").policy)
            .expect("json");
    let writes = &policy["Statement"][0];
    assert_eq!(
        writes["Action"],
        serde_json::json!([
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:DescribeLogStreams"
        ])
    );
    assert_eq!(
        writes["Resource"][1],
        "arn:aws:logs:*:123456789012:log-group:cis-fix/vpc-flow-logs:*"
    );
}

#[test]
fn traffic_type_and_an_s3_bucket_come_from_the_config() {
    let s = snap(&[(EAST, vec![vpc("vpc-a", true)], vec![])]);
    let d = desired(
        "flow_logs:\n  traffic_type: ALL\n  s3_bucket_arn: arn:aws:s3:::central-flow-logs/vpc\n",
    );
    let p = run(&d, &s);
    // No log group or role: the bucket's policy lets the service write.
    assert_eq!(
        addresses(&p),
        ["123456789012/us-east-1/aws_flow_log.vpc[\"vpc-a\"]"]
    );
    let Some(Resource::FlowLog(f)) = &p.changes[0].after else {
        panic!()
    };
    assert_eq!(f.traffic_type, "ALL");
    assert_eq!(f.log_destination_type, TO_S3);
    assert_eq!(
        f.log_destination.as_deref(),
        Some("arn:aws:s3:::central-flow-logs/vpc")
    );
    assert_eq!(f.log_group_name, None);
    assert_eq!(f.deliver_logs_permission_arn, None);
    assert!(p.changes[0].depends_on.is_empty());
    // The S3 reads name no log group or role to look up.
    assert_eq!(d.read_scope().flow_logs, FlowLogNames::default());
}

#[test]
fn what_an_interrupted_apply_made_is_found_and_a_drifted_role_is_put_back() {
    let mut s = snap(&[(EAST, vec![vpc("vpc-a", true)], vec![])]);
    s.record(
        ReadKey::new(log_group::READ, EAST, Some(GROUP)),
        Observed::Ok(ReadData::LogGroups(vec![LogGroup {
            name: GROUP.into(),
            retention_in_days: Some(90),
        }])),
    );
    let role = IamRole {
        name: ROLE.into(),
        assume_role_policy: delivery_trust("aws", ACCOUNT),
        inline_policy: Some(InlinePolicy {
            name: ROLE.into(),
            policy: delivery_permissions("aws", ACCOUNT, GROUP),
        }),
    };
    s.record(
        ReadKey::new(iam_role::READ, GLOBAL, Some(ROLE)),
        Observed::Ok(ReadData::Role(Some(role.clone()))),
    );
    let p = run(&desired(""), &s);
    assert_eq!(
        addresses(&p),
        ["123456789012/us-east-1/aws_flow_log.vpc[\"vpc-a\"]"]
    );
    assert!(p.changes[0].depends_on.is_empty());
    // Someone dropped the role's policy: it is put back, and the flow log
    // waits for it.
    s.record(
        ReadKey::new(iam_role::READ, GLOBAL, Some(ROLE)),
        Observed::Ok(ReadData::Role(Some(IamRole {
            inline_policy: None,
            ..role
        }))),
    );
    let p = run(&desired(""), &s);
    assert_eq!(p.changes[0].action, Action::Update);
    assert_eq!(p.changes[1].depends_on, [p.changes[0].address.clone()]);
}

#[test]
fn a_region_that_cannot_be_read_is_unknown_and_the_others_are_fixed() {
    let mut s = snap(&[
        (EAST, vec![vpc("vpc-e", true)], vec![]),
        (WEST, vec![vpc("vpc-w", true)], vec![]),
    ]);
    s.record(
        ReadKey::new(flow_log::READ, WEST, None),
        failed(flow_log::READ, WEST),
    );
    let p = run(&desired(""), &s);
    let c = control(&p);
    assert_eq!(c.status, ControlStatus::Unknown);
    assert!(
        c.reason
            .starts_with("cannot tell: ec2:DescribeFlowLogs in eu-west-1"),
        "{}",
        c.reason
    );
    assert!(
        c.reason
            .ends_with("elsewhere a flow log is created for 1 VPC: vpc-e (default) in us-east-1"),
        "{}",
        c.reason
    );
    assert!(
        addresses(&p).iter().all(|a| !a.contains(WEST)),
        "{:?}",
        addresses(&p)
    );
    assert!(addresses(&p).contains(&"123456789012/us-east-1/aws_flow_log.vpc[\"vpc-e\"]".into()));

    // The log group of one region unreadable: nothing there; the role
    // cannot be read: nothing anywhere.
    let mut s = snap(&[
        (EAST, vec![vpc("vpc-e", true)], vec![]),
        (WEST, vec![vpc("vpc-w", true)], vec![]),
    ]);
    s.record(
        ReadKey::new(log_group::READ, WEST, Some(GROUP)),
        failed(log_group::READ, WEST),
    );
    let p = run(&desired(""), &s);
    assert_eq!(control(&p).status, ControlStatus::Unknown);
    assert_eq!(
        addresses(&p),
        [
            "123456789012/global/aws_iam_role.vpc_flow_logs",
            "123456789012/us-east-1/aws_cloudwatch_log_group.vpc_flow_logs",
            "123456789012/us-east-1/aws_flow_log.vpc[\"vpc-e\"]",
        ]
    );
    s.record(
        ReadKey::new(iam_role::READ, GLOBAL, Some(ROLE)),
        failed(iam_role::READ, GLOBAL),
    );
    let p = run(&desired(""), &s);
    assert_eq!(control(&p).status, ControlStatus::Unknown);
    assert!(p.changes.is_empty(), "{:?}", addresses(&p));
}

#[test]
fn without_the_region_list_the_regions_read_are_judged() {
    let mut s = snap(&[(EAST, vec![vpc("vpc-e", false)], vec![])]);
    s.record(
        ReadKey::new(crate::snapshot::REGIONS_READ, EAST, None),
        failed(crate::snapshot::REGIONS_READ, EAST),
    );
    let p = run(&desired(""), &s);
    assert_eq!(control(&p).status, ControlStatus::Unknown);
    assert!(addresses(&p).contains(&"123456789012/us-east-1/aws_flow_log.vpc[\"vpc-e\"]".into()));
}

#[test]
fn cis_fix_s_own_flow_log_that_does_not_deliver_blocks_and_is_not_duplicated() {
    let own = FlowLogFacts {
        traffic_type: Some("REJECT".into()),
        log_group_name: Some(GROUP.into()),
        ..flow("vpc-e", TO_CLOUDWATCH, Some("FAILED"))
    };
    let s = snap(&[(EAST, vec![vpc("vpc-e", true)], vec![own])]);
    let p = run(&desired(""), &s);
    let c = control(&p);
    assert_eq!(c.status, ControlStatus::Blocked);
    assert!(
        c.reason.contains("has flow log fl-vpc-e to log group `cis-fix/vpc-flow-logs` (delivery failed: Access error)"),
        "{}",
        c.reason
    );
    // Its log group and role are still made: their absence may be why.
    assert!(
        addresses(&p).iter().all(|a| !a.contains("aws_flow_log")),
        "{:?}",
        addresses(&p)
    );
    // Another traffic type is another flow log: it is made.
    let p = run(&desired("flow_logs:\n  traffic_type: ALL\n"), &s);
    assert_eq!(control(&p).status, ControlStatus::WillFix);
}

#[test]
fn the_plan_converges() {
    let mut s = snap(&[
        (EAST, vec![vpc("vpc-e", true)], vec![]),
        (
            WEST,
            vec![vpc("vpc-w", true), vpc("vpc-x", false)],
            vec![flow("vpc-x", TO_S3, None)],
        ),
    ]);
    let d = desired("");
    let p = run(&d, &s);
    assert_eq!(control(&p).status, ControlStatus::WillFix);
    for c in &p.changes {
        let region = c.address.region().to_string();
        match &c.after {
            Some(Resource::FlowLog(f)) => {
                let key = ReadKey::new(flow_log::READ, &region, None);
                let Some(Observed::Ok(ReadData::FlowLogs(fs))) = s.reads.get(&key).cloned() else {
                    panic!()
                };
                let mut fs = fs.clone();
                fs.push(FlowLogFacts {
                    flow_log_id: "fl-new".into(),
                    resource_id: f.vpc_id.clone(),
                    traffic_type: Some(f.traffic_type.clone()),
                    log_destination_type: f.log_destination_type.clone(),
                    log_group_name: f.log_group_name.clone(),
                    log_destination: None,
                    flow_log_status: Some("ACTIVE".into()),
                    deliver_logs_status: Some("SUCCESS".into()),
                    deliver_logs_error_message: None,
                });
                s.record(key, Observed::Ok(ReadData::FlowLogs(fs)));
            }
            Some(Resource::LogGroup(g)) => s.record(
                ReadKey::new(log_group::READ, &region, Some(GROUP)),
                Observed::Ok(ReadData::LogGroups(vec![g.clone()])),
            ),
            Some(Resource::IamRole(r)) => s.record(
                ReadKey::new(iam_role::READ, GLOBAL, Some(ROLE)),
                Observed::Ok(ReadData::Role(Some(r.clone()))),
            ),
            other => panic!("{other:?}"),
        }
    }
    let p = run(&d, &s);
    assert!(p.changes.is_empty(), "{:?}", addresses(&p));
    assert_eq!(
        control(&p).reason,
        "all 3 VPCs in 2 regions have an active flow log"
    );
}

#[test]
fn every_version_has_one_flow_logs_control() {
    for v in crate::benchmark::available() {
        let b = crate::benchmark::load(v).expect("loads");
        let d = crate::desired::build(&b, &Config::default(), "defaults").expect("builds");
        assert_eq!(d.flow_logs.controls.len(), 1, "{v}");
    }
}
