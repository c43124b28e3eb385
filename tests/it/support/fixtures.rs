//! What many tests set up the same way, written once: the config, the names
//! of the standard trail, the child process's isolated environment, SDK
//! clients for moto, and alarms and filters of the benchmark's shape. A test
//! that needs something different says so where it differs.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use aws_config::{BehaviorVersion, ConfigLoader};
use aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use aws_sdk_cloudwatchlogs::types::MetricTransformation;
use aws_sdk_sns::config::{Credentials, Region};

use super::REGION;

/// A config that subscribes one email address to the alarm topic.
pub const EMAIL_CONFIG: &str =
    "sns:\n  subscriptions:\n    - protocol: email\n      endpoint: secops@example.com\n";

/// The qualifying trail of [`Account::with_trail`](super::account::Account::with_trail).
pub const TRAIL: &str = "main";
/// The log group that trail delivers to, where cis-fix puts its filters.
pub const LOG_GROUP: &str = "cloudtrail-logs";

/// Access key id and secret of the tests' static credentials, which moto
/// serves as [`ACCOUNT_ID`](super::ACCOUNT_ID) while IAM is not enforced.
pub const ACCESS_KEY: &str = "testing";

/// The environment a child process needs to reach `endpoint` and nothing
/// else: region, static credentials, no instance metadata lookups, config
/// and credentials file paths in `aws_home` that don't exist (so `~/.aws`
/// is never read), `NO_COLOR=1`, and a state directory of its own (locks,
/// journal) under `aws_home`.
pub fn isolated_env(endpoint: &str, aws_home: &Path) -> Vec<(String, String)> {
    let vars = [
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_REGION", REGION.to_string()),
        ("AWS_DEFAULT_REGION", REGION.to_string()),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
        ("AWS_SECRET_ACCESS_KEY", ACCESS_KEY.to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        (
            "AWS_CONFIG_FILE",
            aws_home
                .join("no-such-config")
                .to_string_lossy()
                .into_owned(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            aws_home
                .join("no-such-credentials")
                .to_string_lossy()
                .into_owned(),
        ),
        ("NO_COLOR", "1".to_string()),
        // Default lock files and journal of this test's own: applies of
        // parallel tests share the account id, so a shared default lock
        // would make them refuse each other (and would land in the
        // developer's home).
        (
            "XDG_STATE_HOME",
            aws_home.join("state").to_string_lossy().into_owned(),
        ),
    ];
    vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A `Command` for `bin` with [`isolated_env`] on top of the inherited
/// environment, from which every other `AWS_*` variable (`AWS_PROFILE`,
/// `AWS_SESSION_TOKEN`, `AWS_ENDPOINT_URL_<SERVICE>`, ...) is removed, so
/// the developer's own AWS setup never leaks into a test.
pub fn isolated_command(bin: impl AsRef<OsStr>, endpoint: &str, aws_home: &Path) -> Command {
    let mut cmd = Command::new(bin);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env_remove("AWS_PROFILE");
    cmd.envs(isolated_env(endpoint, aws_home));
    cmd
}

/// A single-threaded runtime for driving SDK clients from a test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// moto gives every region a default VPC whose default security group
/// sends anywhere (AWS's also admits the group itself) and whose default
/// network ACL allows everything in (as AWS's does), with EBS encryption
/// by default off, so every region would fail the networking controls.
/// Tests start from an account whose networking is compliant in every
/// region cis-fix plans by default (as the standard trail's key already
/// rotates), so each test's plans are about what it adds;
/// `security_groups.rs` adds what fails.
pub fn network_compliant(endpoint: &str) {
    use aws_sdk_ec2::types::Filter;
    let rt = runtime();
    rt.block_on(async {
        let home = aws_sdk_ec2::Client::new(&sdk_config(endpoint).load().await);
        let regions: Vec<String> = home
            .describe_regions()
            .send()
            .await
            .expect("DescribeRegions")
            .regions
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.opt_in_status() != Some("not-opted-in"))
            .filter_map(|r| r.region_name)
            .filter(|r| {
                !["cn-", "us-gov-", "us-iso"]
                    .iter()
                    .any(|p| r.starts_with(p))
            })
            .collect();
        let each = regions.into_iter().map(|region| async move {
            let ec2 = aws_sdk_ec2::Client::new(
                &sdk_config(endpoint)
                    .region(Region::new(region.clone()))
                    .load()
                    .await,
            );
            ec2.enable_ebs_encryption_by_default()
                .send()
                .await
                .unwrap_or_else(|e| panic!("EnableEbsEncryptionByDefault {region}: {e:?}"));
            let groups = ec2
                .describe_security_groups()
                .filters(
                    Filter::builder()
                        .name("group-name")
                        .values("default")
                        .build(),
                )
                .send()
                .await
                .unwrap_or_else(|e| panic!("DescribeSecurityGroups {region}: {e:?}"))
                .security_groups
                .unwrap_or_default();
            for g in groups.into_iter().filter_map(|g| g.group_id) {
                let rules = ec2
                    .describe_security_group_rules()
                    .filters(Filter::builder().name("group-id").values(&g).build())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("DescribeSecurityGroupRules {region}: {e:?}"))
                    .security_group_rules
                    .unwrap_or_default();
                let ids = |egress: bool| -> Vec<String> {
                    rules
                        .iter()
                        .filter(|r| r.is_egress() == Some(egress))
                        .filter_map(|r| r.security_group_rule_id.clone())
                        .collect()
                };
                let (ingress, egress) = (ids(false), ids(true));
                if !ingress.is_empty() {
                    ec2.revoke_security_group_ingress()
                        .group_id(&g)
                        .set_security_group_rule_ids(Some(ingress))
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("RevokeSecurityGroupIngress {region}: {e:?}"));
                }
                if !egress.is_empty() {
                    ec2.revoke_security_group_egress()
                        .group_id(&g)
                        .set_security_group_rule_ids(Some(egress))
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("RevokeSecurityGroupEgress {region}: {e:?}"));
                }
            }
            close_admin_ports(&ec2, &region).await;
        });
        futures::future::join_all(each).await;
    });
}

/// Closes SSH and RDP (TCP and UDP) to 0.0.0.0/0 in every network ACL of
/// the region that still admits them through an allow at 100 (the default
/// ACL's allow-all, in moto as in AWS), as cis-fix's fix would: denies at
/// 99 to 96. Entries already there are left alone, so a test may call it
/// again after making a VPC.
pub async fn close_admin_ports(ec2: &aws_sdk_ec2::Client, region: &str) {
    use aws_sdk_ec2::types::{PortRange, RuleAction};
    let acls = ec2
        .describe_network_acls()
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeNetworkAcls {region}: {e:?}"))
        .network_acls
        .unwrap_or_default();
    for acl in acls {
        let Some(id) = acl.network_acl_id.clone() else {
            continue;
        };
        let taken: Vec<i32> = acl
            .entries()
            .iter()
            .filter(|e| e.egress() == Some(false))
            .filter_map(|e| e.rule_number())
            .collect();
        for (n, protocol, port) in [
            (99, "6", 22),
            (98, "17", 22),
            (97, "6", 3389),
            (96, "17", 3389),
        ] {
            if taken.contains(&n) {
                continue;
            }
            ec2.create_network_acl_entry()
                .network_acl_id(&id)
                .rule_number(n)
                .egress(false)
                .protocol(protocol)
                .rule_action(RuleAction::Deny)
                .cidr_block("0.0.0.0/0")
                .port_range(PortRange::builder().from(port).to(port).build())
                .send()
                .await
                .unwrap_or_else(|e| panic!("CreateNetworkAclEntry {region}: {e:?}"));
        }
    }
}

/// One SDK client per service the tests set up or inspect.
pub struct Clients {
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sns: aws_sdk_sns::Client,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub sts: aws_sdk_sts::Client,
    pub iam: aws_sdk_iam::Client,
    pub kms: aws_sdk_kms::Client,
    pub s3: aws_sdk_s3::Client,
    pub ec2: aws_sdk_ec2::Client,
}

impl Clients {
    pub fn new(config: &aws_config::SdkConfig) -> Clients {
        Clients {
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            cloudtrail: aws_sdk_cloudtrail::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            kms: aws_sdk_kms::Client::new(config),
            s3: aws_sdk_s3::Client::new(config),
            ec2: aws_sdk_ec2::Client::new(config),
        }
    }
}

/// SDK settings for `endpoint` with the region and credentials the child
/// process gets; add to it (e.g. retries) before `load`.
pub fn sdk_config(endpoint: &str) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(ACCESS_KEY, ACCESS_KEY, None, None, "test"))
}

/// PutMetricAlarm of the shape the benchmark asks for: the sum over 5
/// minutes, one evaluation period, alarming at `>= threshold`.
pub fn alarm(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    name: &str,
    metric: &str,
    namespace: &str,
    threshold: f64,
) -> PutMetricAlarmFluentBuilder {
    cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .metric_name(metric)
        .namespace(namespace)
        .statistic(Statistic::Sum)
        .period(300)
        .evaluation_periods(1)
        .threshold(threshold)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
}

/// A metric filter's transformation: 1 into `namespace`/`metric` per match.
pub fn transformation(metric: &str, namespace: &str) -> MetricTransformation {
    MetricTransformation::builder()
        .metric_name(metric)
        .metric_namespace(namespace)
        .metric_value("1")
        .build()
        .expect("transformation")
}
