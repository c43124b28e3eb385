//! VPC flow logs across regions, end to end: the built binary against a
//! moto server, with VPCs lacking flow logs in two regions beside one that
//! has an S3 flow log and one whose flow log does not deliver.
//!
//! Where moto differs from AWS (moto 5.2.5, `moto/ec2/models/flow_logs.py`):
//! * Every region has its default VPC from the start, as a new AWS account
//!   has: it needs a flow log like any other, so each region here holds one
//!   more VPC than the test makes. (The harness logs every default VPC so
//!   that other tests are not about flow logs; these tests remove that
//!   flow log in the regions they use.)
//! * A flow log to a log group that does not exist is made with delivery
//!   status FAILED ("Access error"); AWS makes it and reports the failure
//!   once delivery is tried. Either way it is no proof of logging, which is
//!   what this test uses it for.
//! * A flow log to S3 needs the bucket to exist, but moto checks none of its
//!   policy (AWS needs it to let `delivery.logs.amazonaws.com` write).
//! * A second flow log of one VPC to one destination is refused as the
//!   call's error (`FlowLogAlreadyExists`); AWS reports it among the
//!   response's unsuccessful items. cis-fix takes both as "already made".
//! * moto never assumes the delivery role, so the role's trust and
//!   permissions are checked by the unit tests only.

use aws_sdk_ec2::types::{
    FlowLogsResourceType, LogDestinationType, ResourceType, Tag, TagSpecification, TrafficType,
};
use cis_fix::aws::{Aws, execute};
use cis_fix::kinds::{Deferred, FlowLog, WriteCall};

use crate::support::account::{Account, control, status_of};
use crate::support::account::{reason, via};
use crate::support::faults::FaultProxy;
use crate::support::fixtures::{ACCESS_KEY, EMAIL_CONFIG};

const CONTROL: &str = "3.7";
const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";
const GROUP: &str = "cis-fix/vpc-flow-logs";
const ROLE: &str = "cis-fix-vpc-flow-logs";
const BUCKET: &str = "central-flow-logs";

/// This account's ec2 client in `region`.
fn ec2_in(acct: &Account, region: &str) -> aws_sdk_ec2::Client {
    acct.clients_in(region).ec2
}

/// This account's logs client in `region`.
fn logs_in(acct: &Account, region: &str) -> aws_sdk_cloudwatchlogs::Client {
    acct.clients_in(region).logs
}

/// A new VPC named `name` in `region`; its id.
fn vpc(acct: &Account, region: &str, name: &str, cidr: &str) -> String {
    let ec2 = ec2_in(acct, region);
    let id = acct.block_on(async {
        ec2.create_vpc()
            .cidr_block(cidr)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Vpc)
                    .tags(Tag::builder().key("Name").value(name).build())
                    .build(),
            )
            .send()
            .await
            .expect("CreateVpc")
            .vpc
            .and_then(|v| v.vpc_id)
            .expect("vpc id")
    });
    // Its default security group comes with an egress rule (in moto as in
    // AWS): emptied, as the harness empties the others, so that these
    // tests stay about flow logs.
    crate::support::fixtures::network_compliant(&acct.moto.endpoint());
    id
}

/// The default VPC of `region`, without the flow log the harness gives it
/// (`Account::on`).
fn default_vpc(acct: &Account, region: &str) -> String {
    let ec2 = ec2_in(acct, region);
    acct.block_on(async {
        let ids: Vec<String> = ec2
            .describe_flow_logs()
            .send()
            .await
            .expect("DescribeFlowLogs")
            .flow_logs
            .unwrap_or_default()
            .into_iter()
            .filter_map(|f| f.flow_log_id)
            .collect();
        if !ids.is_empty() {
            ec2.delete_flow_logs()
                .set_flow_log_ids(Some(ids))
                .send()
                .await
                .expect("DeleteFlowLogs");
        }
        ec2.describe_vpcs()
            .send()
            .await
            .expect("DescribeVpcs")
            .vpcs
            .unwrap_or_default()
            .into_iter()
            .find(|v| v.is_default == Some(true))
            .and_then(|v| v.vpc_id)
            .expect("moto makes a default VPC in every region")
    })
}

/// The flow logs of `vpc`: (destination type, log group or destination,
/// traffic type, role, delivery status).
type Row = (String, String, String, String, String);

fn flow_logs(acct: &Account, region: &str, vpc: &str) -> Vec<Row> {
    let ec2 = ec2_in(acct, region);
    let mut rows: Vec<Row> = acct.block_on(async {
        ec2.describe_flow_logs()
            .send()
            .await
            .expect("DescribeFlowLogs")
            .flow_logs
            .unwrap_or_default()
            .into_iter()
            .filter(|f| f.resource_id.as_deref() == Some(vpc))
            .map(|f| {
                (
                    f.log_destination_type
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    f.log_group_name
                        .filter(|g| !g.is_empty())
                        .or(f.log_destination)
                        .unwrap_or_default(),
                    f.traffic_type
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    f.deliver_logs_permission_arn.unwrap_or_default(),
                    f.deliver_logs_status.unwrap_or_default(),
                )
            })
            .collect()
    });
    rows.sort();
    rows
}

fn ours() -> Row {
    (
        "cloud-watch-logs".into(),
        GROUP.into(),
        "REJECT".into(),
        format!("arn:aws:iam::{}:role/{ROLE}", crate::support::ACCOUNT_ID),
        "SUCCESS".into(),
    )
}

/// The plan's flow-log changes: (region, VPC id).
fn flow_log_changes(plan: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["type"] == "aws_flow_log")
        .map(|c| {
            assert_eq!(c["action"], "create", "{c:#}");
            assert_eq!(c["controls"], serde_json::json!([CONTROL]), "{c:#}");
            (
                c["region"].as_str().expect("region").to_string(),
                c["key"].as_str().expect("key").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The addresses of the plan's changes of `kind` named `name`.
fn named(plan: &serde_json::Value, kind: &str, name: &str) -> Vec<String> {
    plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["type"] == kind && c["name"] == name)
        .map(|c| {
            format!(
                "{}:{}",
                c["region"].as_str().unwrap_or_default(),
                c["action"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn every_vpc_of_the_planned_regions_gets_a_flow_log_and_existing_ones_count() {
    // A trail and someone to notify: the whole account converges, so
    // `--detailed-exitcode` speaks for the flow-logs control too.
    let acct = Account::with_trail();
    let east_default = default_vpc(&acct, EAST);
    let west_default = default_vpc(&acct, WEST);
    let east_app = vpc(&acct, EAST, "app-east", "10.10.0.0/16");
    let west_app = vpc(&acct, WEST, "app-west", "10.20.0.0/16");
    // Logged to S3 already: left alone.
    let west_logged = vpc(&acct, WEST, "logged-west", "10.30.0.0/16");
    let (east, west) = (ec2_in(&acct, EAST), ec2_in(&acct, WEST));
    acct.block_on(async {
        acct.s3
            .create_bucket()
            .bucket(BUCKET)
            .send()
            .await
            .expect("CreateBucket");
        west.create_flow_logs()
            .resource_type(FlowLogsResourceType::Vpc)
            .resource_ids(&west_logged)
            .traffic_type(TrafficType::All)
            .log_destination_type(LogDestinationType::S3)
            .log_destination(format!("arn:aws:s3:::{BUCKET}"))
            .send()
            .await
            .expect("CreateFlowLogs to S3");
        // A flow log that does not deliver (its log group does not exist):
        // no proof that app-east is logged.
        east.create_flow_logs()
            .resource_type(FlowLogsResourceType::Vpc)
            .resource_ids(&east_app)
            .traffic_type(TrafficType::All)
            .log_group_name("gone")
            .deliver_logs_permission_arn("arn:aws:iam::123456789012:role/someone")
            .send()
            .await
            .expect("CreateFlowLogs to a missing group");
    });
    let west_logged_before = flow_logs(&acct, WEST, &west_logged);
    assert_eq!(west_logged_before.len(), 1);
    let cfg = acct.config(&format!("{EMAIL_CONFIG}regions:\n  - {EAST}\n  - {WEST}\n"));
    let cfg = cfg.to_str().expect("utf-8 path");

    let plan = acct.cis_fix(&["plan", "--json", "--config", cfg]).json();
    assert_eq!(status_of(&plan, CONTROL), "will-fix", "{plan:#}");
    let mut want = vec![
        (EAST.to_string(), east_default.clone()),
        (EAST.to_string(), east_app.clone()),
        (WEST.to_string(), west_default.clone()),
        (WEST.to_string(), west_app.clone()),
    ];
    want.sort();
    assert_eq!(flow_log_changes(&plan), want);
    // One log group per region and one role, shown in the plan.
    let mut groups = named(&plan, "aws_cloudwatch_log_group", "vpc_flow_logs");
    groups.sort();
    assert_eq!(groups, ["eu-west-1:create", "us-east-1:create"]);
    assert_eq!(
        named(&plan, "aws_iam_role", "vpc_flow_logs"),
        ["global:create"]
    );
    let r = reason(&plan, CONTROL);
    assert!(r.contains("1 VPC already has an active flow log"), "{r}");
    let east_app_change = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["key"] == east_app.as_str())
        .cloned()
        .expect("app-east's change");
    let why = east_app_change["reason"].as_str().unwrap_or_default();
    assert!(
        why.contains("has no active flow log") && why.contains("delivery failed: Access error"),
        "{why}"
    );

    // The human plan shows the flow log with its log group and role.
    let human = acct.cis_fix(&["plan", "--config", cfg]);
    let out = &human.stdout;
    assert!(
        out.contains(&format!(
            "us-east-1/aws_flow_log.vpc[\"{east_app}\"] will be created"
        )),
        "{out}"
    );
    assert!(
        out.contains("global/aws_iam_role.vpc_flow_logs will be created"),
        "{out}"
    );
    assert!(out.contains("vpc-flow-logs.amazonaws.com"), "{out}");
    assert!(
        out.contains("+ traffic_type                = \"REJECT\""),
        "{out}"
    );

    let apply = acct.cis_fix(&["apply", "--auto-approve", "--config", cfg]);
    apply.expect_code(0);
    for (region, vpc) in [
        (EAST, &east_default),
        (WEST, &west_default),
        (WEST, &west_app),
    ] {
        assert_eq!(flow_logs(&acct, region, vpc), [ours()], "{region} {vpc}");
    }
    // The failing flow log stays; cis-fix's is beside it.
    let east_app_logs = flow_logs(&acct, EAST, &east_app);
    assert_eq!(east_app_logs.len(), 2, "{east_app_logs:?}");
    assert!(east_app_logs.contains(&ours()), "{east_app_logs:?}");
    assert_eq!(flow_logs(&acct, WEST, &west_logged), west_logged_before);
    for region in [EAST, WEST] {
        let logs = logs_in(&acct, region);
        let groups = acct.block_on(async {
            logs.describe_log_groups()
                .log_group_name_prefix(GROUP)
                .send()
                .await
                .expect("DescribeLogGroups")
                .log_groups
                .unwrap_or_default()
        });
        assert_eq!(groups.len(), 1, "{region}");
    }
    acct.block_on(async {
        acct.iam
            .get_role()
            .role_name(ROLE)
            .send()
            .await
            .expect("the delivery role exists")
    });

    let again = acct.cis_fix(&["plan", "--json", "--detailed-exitcode", "--config", cfg]);
    again.expect_code(0);
    let again = again.json();
    assert_eq!(status_of(&again, CONTROL), "compliant");
    let r = reason(&again, CONTROL);
    assert_eq!(r, "all 5 VPCs in 2 regions have an active flow log");

    // A second apply writes nothing.
    let proxy = FaultProxy::start(&acct.moto);
    let second = via(&proxy, &acct, &["apply", "--auto-approve", "--config", cfg]);
    second.expect_code(0);
    let writes: Vec<String> = proxy
        .calls()
        .iter()
        .filter(|c| c.is_write())
        .map(|c| c.name())
        .collect();
    assert!(writes.is_empty(), "second apply wrote {writes:?}");
    // Each region's VPCs and flow logs were listed once; cis-fix's flow-log
    // group is not looked up when every VPC is logged (eu-west-1 has no
    // other log group to read), nor its role.
    let calls = proxy.calls();
    for region in [EAST, WEST] {
        for call in ["ec2:DescribeVpcs", "ec2:DescribeFlowLogs"] {
            let n = calls
                .iter()
                .filter(|c| c.name() == call && c.region == region)
                .count();
            assert_eq!(n, 1, "{call} in {region}");
        }
    }
    assert!(
        !calls
            .iter()
            .any(|c| c.name() == "logs:DescribeLogGroups" && c.region == WEST),
        "{:?}",
        calls.iter().map(|c| c.name()).collect::<Vec<_>>()
    );
}

#[test]
fn an_s3_bucket_from_the_config_needs_no_log_group_or_role() {
    let acct = Account::new();
    let east_default = default_vpc(&acct, EAST);
    acct.block_on(async {
        acct.s3
            .create_bucket()
            .bucket(BUCKET)
            .send()
            .await
            .expect("CreateBucket")
    });
    let cfg = acct.config(&format!(
        "{EMAIL_CONFIG}regions: [{EAST}]\nflow_logs:\n  traffic_type: ALL\n  s3_bucket_arn: arn:aws:s3:::{BUCKET}\n"
    ));
    let cfg = cfg.to_str().expect("utf-8 path");
    let plan = acct.cis_fix(&["plan", "--json", "--config", cfg]).json();
    assert_eq!(
        flow_log_changes(&plan),
        [(EAST.to_string(), east_default.clone())]
    );
    assert!(named(&plan, "aws_iam_role", "vpc_flow_logs").is_empty());
    assert!(named(&plan, "aws_cloudwatch_log_group", "vpc_flow_logs").is_empty());
    // Apply may end with other controls still blocked (no access-log
    // bucket here); the flow log is independent of them.
    let apply = acct.cis_fix(&["apply", "--auto-approve", "--config", cfg]);
    assert_eq!(
        flow_logs(&acct, EAST, &east_default),
        [(
            "s3".to_string(),
            format!("arn:aws:s3:::{BUCKET}"),
            "ALL".to_string(),
            String::new(),
            "SUCCESS".to_string(),
        )],
        "{}\n{}",
        apply.stdout,
        apply.stderr
    );
    let plan = acct.cis_fix(&["plan", "--json", "--config", cfg]).json();
    assert_eq!(status_of(&plan, CONTROL), "compliant", "{plan:#}");
}

#[test]
fn a_region_whose_flow_logs_cannot_be_read_is_unknown_and_the_other_is_still_fixed() {
    let acct = Account::new();
    let east_default = default_vpc(&acct, EAST);
    let proxy = FaultProxy::start(&acct.moto);
    proxy.deny_in("ec2:DescribeFlowLogs", WEST);

    let run = via(
        &proxy,
        &acct,
        &["plan", "--json", "--region", "us-east-1,eu-west-1"],
    );
    run.expect_code(1);
    let plan = run.json();
    assert_eq!(status_of(&plan, CONTROL), "unknown", "{plan:#}");
    let r = reason(&plan, CONTROL);
    assert!(r.contains("ec2:DescribeFlowLogs in eu-west-1"), "{r}");
    let control = control(&plan, CONTROL).clone();
    assert_eq!(control["cause"]["kind"], "read_failed", "{control:#}");
    assert_eq!(control["cause"]["failure"]["region"], WEST);
    // us-east-1's default VPC is still planned, with its log group; nothing
    // in eu-west-1.
    assert_eq!(
        flow_log_changes(&plan),
        [(EAST.to_string(), east_default.clone())]
    );
    assert_eq!(
        named(&plan, "aws_cloudwatch_log_group", "vpc_flow_logs"),
        ["us-east-1:create"]
    );
    let failed: Vec<(String, String)> = plan["failed_reads"]
        .as_array()
        .expect("failed_reads")
        .iter()
        .map(|f| {
            (
                f["call"].as_str().unwrap_or_default().to_string(),
                f["region"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        failed.contains(&("ec2:DescribeFlowLogs".to_string(), WEST.to_string())),
        "{failed:?}"
    );
    // eu-west-1's flow-log group was not looked up: what its VPCs need is
    // not known.
    assert!(
        !proxy
            .calls()
            .iter()
            .any(|c| c.name() == "logs:DescribeLogGroups" && c.region == WEST),
        "eu-west-1's log group was looked up"
    );
}

#[test]
fn the_writer_makes_one_flow_log_however_often_it_runs() {
    let acct = Account::new();
    let east_default = default_vpc(&acct, EAST);
    acct.block_on(async {
        acct.logs
            .create_log_group()
            .log_group_name(GROUP)
            .send()
            .await
            .expect("CreateLogGroup")
    });
    let aws = acct.block_on(Aws::emulator(
        &acct.moto.endpoint(),
        EAST,
        ACCESS_KEY,
        ACCESS_KEY,
    ));
    let call = WriteCall::CreateFlowLogs(FlowLog {
        vpc_id: east_default.clone(),
        traffic_type: "REJECT".into(),
        log_destination_type: "cloud-watch-logs".into(),
        log_group_name: Some(GROUP.into()),
        log_destination: None,
        deliver_logs_permission_arn: Some(Deferred::Known(format!(
            "arn:aws:iam::{}:role/{ROLE}",
            crate::support::ACCOUNT_ID
        ))),
        max_aggregation_interval: 600,
    });
    let first = acct.block_on(execute(&aws, EAST, &call)).expect("first");
    assert!(first.is_some_and(|id| id.starts_with("fl-")));
    // An apply killed after the call reached EC2 runs it again: no second.
    let second = acct.block_on(execute(&aws, EAST, &call)).expect("again");
    assert_eq!(second, None);
    assert_eq!(flow_logs(&acct, EAST, &east_default), [ours()]);
}
