//! An AWS account in a moto server, set up through the official SDK, and the
//! built `cis-fix` binary run against it exactly as a user runs it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use aws_sdk_cloudtrail::types::{EventSelector, ReadWriteType};

use super::fixtures::{self, Clients, EMAIL_CONFIG, LOG_GROUP, TRAIL};
use super::{ACCOUNT_ID, Moto, REGION, WAIT_TIMEOUT, poll_until};

/// The bucket the default VPCs' flow logs go to (see [`Account::on`]).
pub const FLOW_LOGS_BUCKET: &str = "moto-default-vpc-flow-logs";

/// A flow log to [`FLOW_LOGS_BUCKET`] for the default VPC of every region
/// moto lists, all at once.
async fn log_default_vpcs(config: &aws_config::SdkConfig) {
    use aws_sdk_ec2::types::{FlowLogsResourceType, LogDestinationType, TrafficType};
    aws_sdk_s3::Client::new(config)
        .create_bucket()
        .bucket(FLOW_LOGS_BUCKET)
        .send()
        .await
        .expect("CreateBucket for the default VPCs' flow logs");
    let regions = aws_sdk_ec2::Client::new(config)
        .describe_regions()
        .send()
        .await
        .expect("DescribeRegions")
        .regions
        .unwrap_or_default();
    let each = regions
        .into_iter()
        .filter_map(|r| r.region_name)
        .map(|r| async move {
            let ec2 = aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(config)
                    .region(aws_sdk_ec2::config::Region::new(r.clone()))
                    .build(),
            );
            let vpcs = ec2
                .describe_vpcs()
                .send()
                .await
                .unwrap_or_else(|e| panic!("DescribeVpcs in {r}: {e:?}"))
                .vpcs
                .unwrap_or_default();
            for v in vpcs.into_iter().filter(|v| v.is_default == Some(true)) {
                ec2.create_flow_logs()
                    .resource_type(FlowLogsResourceType::Vpc)
                    .set_resource_ids(v.vpc_id.map(|id| vec![id]))
                    .traffic_type(TrafficType::All)
                    .log_destination_type(LogDestinationType::S3)
                    .log_destination(format!("arn:aws:s3:::{FLOW_LOGS_BUCKET}"))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("CreateFlowLogs in {r}: {e:?}"));
            }
        });
    futures::future::join_all(each).await;
}

/// The bucket the trail buckets' server access logs go to in these tests
/// (`cloudtrail.access_logs.bucket` where a test lets cis-fix set it).
pub const ACCESS_LOGS: &str = "access-logs";

pub struct Account {
    pub moto: Moto,
    rt: tokio::runtime::Runtime,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sns: aws_sdk_sns::Client,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub iam: aws_sdk_iam::Client,
    pub kms: aws_sdk_kms::Client,
    pub s3: aws_sdk_s3::Client,
    dir: tempfile::TempDir,
}

/// A metric filter as the account holds it: (name, pattern, metric name).
pub type FilterRow = (String, String, String);

impl Account {
    pub fn new() -> Account {
        Account::on(Moto::start())
    }

    /// A fresh account with a qualifying trail, [`TRAIL`], delivering to
    /// [`LOG_GROUP`], and a password policy every benchmark version accepts
    /// ([`Account::compliant_password_policy`]), so that its plans are about
    /// the monitoring chain alone. [`Account::new`] has no password policy,
    /// as a new AWS account has none.
    pub fn with_trail() -> Account {
        let acct = Account::new();
        acct.qualifying_trail(TRAIL, LOG_GROUP);
        acct.compliant_password_policy();
        acct
    }

    /// A password policy that meets every version's password controls.
    pub fn compliant_password_policy(&self) {
        self.block_on(async {
            self.iam
                .update_account_password_policy()
                .minimum_password_length(14)
                .require_symbols(true)
                .require_numbers(true)
                .require_uppercase_characters(true)
                .require_lowercase_characters(true)
                .allow_users_to_change_password(true)
                .max_password_age(90)
                .password_reuse_prevention(24)
                .send()
                .await
                .expect("UpdateAccountPasswordPolicy");
        });
    }

    /// The account's password policy, `None` when it has none.
    pub fn password_policy(&self) -> Option<aws_sdk_iam::types::PasswordPolicy> {
        self.block_on(async {
            match self.iam.get_account_password_policy().send().await {
                Ok(out) => out.password_policy,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_no_such_entity_exception()) =>
                {
                    None
                }
                Err(e) => panic!("GetAccountPasswordPolicy: {e:?}"),
            }
        })
    }

    /// An account on `moto`. moto gives every region a default VPC, as AWS
    /// does; each gets a flow log (to S3, [`FLOW_LOGS_BUCKET`]) here, so
    /// that the flow-logs control holds and plans are about what a test
    /// adds. `tests/it/flow_logs.rs` removes them where it needs VPCs
    /// without one.
    pub fn on(moto: Moto) -> Account {
        let rt = fixtures::runtime();
        let config = rt.block_on(fixtures::sdk_config(&moto.endpoint()).load());
        rt.block_on(log_default_vpcs(&config));
        let Clients {
            logs,
            cloudwatch,
            sns,
            cloudtrail,
            iam,
            kms,
            s3,
            ..
        } = Clients::new(&config);
        Account {
            logs,
            cloudwatch,
            sns,
            cloudtrail,
            iam,
            kms,
            s3,
            moto,
            rt,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Makes this account the management account of a new organization
    /// (CreateOrganization, all features) with `members` new accounts
    /// (CreateAccount: ACTIVE at once in moto), and returns the members'
    /// ids as ListAccounts lists them, all its pages.
    pub fn create_organization(&self, members: usize) -> Vec<String> {
        let config = self.block_on(fixtures::sdk_config(&self.moto.endpoint()).load());
        let orgs = aws_sdk_organizations::Client::new(&config);
        self.block_on(async {
            orgs.create_organization()
                .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
                .send()
                .await
                .expect("CreateOrganization");
            for i in 0..members {
                orgs.create_account()
                    .account_name(format!("member-{i}"))
                    .email(format!("member-{i}@example.com"))
                    .send()
                    .await
                    .expect("CreateAccount");
            }
            // moto pages ListAccounts, as AWS does.
            let mut ids = Vec::new();
            let mut pages = orgs.list_accounts().into_paginator().send();
            while let Some(page) = pages.next().await {
                ids.extend(
                    page.expect("ListAccounts")
                        .accounts
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|a| a.id)
                        .filter(|id| id != ACCOUNT_ID),
                );
            }
            ids
        })
    }

    /// The SDK clients of this account in another `region` than the home
    /// one (the regional tests seed two).
    pub fn clients_in(&self, region: &str) -> Clients {
        let config = self.block_on(
            fixtures::sdk_config(&self.moto.endpoint())
                .region(aws_sdk_ec2::config::Region::new(region.to_string()))
                .load(),
        );
        Clients::new(&config)
    }

    /// A trail every CloudTrail control of every version accepts, so plans
    /// of this account are about what a test adds: multi-region, logging all
    /// management events to `log_group`, validated, encrypted with a
    /// customer managed key, its bucket private with its accesses logged.
    pub fn qualifying_trail(&self, name: &str, log_group: &str) {
        let bucket = format!("{name}-bucket");
        self.moto.create_s3_bucket(&bucket);
        let key = self.trail_key();
        self.log_accesses(&bucket);
        self.block_on(async {
            self.cloudtrail
                .create_trail()
                .name(name)
                .s3_bucket_name(&bucket)
                .is_multi_region_trail(true)
                .enable_log_file_validation(true)
                .kms_key_id(&key)
                .cloud_watch_logs_log_group_arn(format!(
                    "arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{log_group}:*"
                ))
                .cloud_watch_logs_role_arn(format!(
                    "arn:aws:iam::{ACCOUNT_ID}:role/cloudtrail-to-logs"
                ))
                .send()
                .await
                .expect("CreateTrail");
        });
        self.delivering_trail_rest(name, log_group);
    }

    /// A customer managed key of the user's (not cis-fix's), its ARN. Its
    /// rotation is on, as the KMS rotation control wants, so plans of an
    /// account with this trail are about what a test adds.
    pub fn trail_key(&self) -> String {
        self.block_on(async {
            let arn = self
                .kms
                .create_key()
                .description("the team's CloudTrail key")
                .send()
                .await
                .expect("CreateKey")
                .key_metadata
                .and_then(|m| m.arn)
                .expect("key ARN");
            self.kms
                .enable_key_rotation()
                .key_id(&arn)
                .send()
                .await
                .expect("EnableKeyRotation");
            arn
        })
    }

    /// Server access logs of `bucket` go to [`ACCESS_LOGS`], made (once)
    /// with the policy S3's log delivery needs. moto checks that policy
    /// (its `Resource` must be a string) and that both are in one region.
    pub fn log_accesses(&self, bucket: &str) {
        self.ensure_access_log_bucket();
        self.block_on(async {
            self.s3
                .put_bucket_logging()
                .bucket(bucket)
                .bucket_logging_status(
                    aws_sdk_s3::types::BucketLoggingStatus::builder()
                        .logging_enabled(
                            aws_sdk_s3::types::LoggingEnabled::builder()
                                .target_bucket(ACCESS_LOGS)
                                .target_prefix(format!("{bucket}/"))
                                .build()
                                .expect("logging"),
                        )
                        .build(),
                )
                .send()
                .await
                .expect("PutBucketLogging");
        });
    }

    /// The bucket server access logs go to, writable by S3's log delivery.
    pub fn ensure_access_log_bucket(&self) {
        let exists = self.block_on(async {
            self.s3
                .head_bucket()
                .bucket(ACCESS_LOGS)
                .send()
                .await
                .is_ok()
        });
        if exists {
            return;
        }
        self.moto.create_s3_bucket(ACCESS_LOGS);
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": format!("arn:aws:s3:::{ACCESS_LOGS}/*")
            }]
        });
        self.block_on(async {
            self.s3
                .put_bucket_policy()
                .bucket(ACCESS_LOGS)
                .policy(policy.to_string())
                .send()
                .await
                .expect("PutBucketPolicy");
        });
    }

    /// Logging started and all management events selected on trail `name`.
    fn delivering_trail_rest(&self, name: &str, log_group: &str) {
        self.block_on(async {
            self.logs
                .create_log_group()
                .log_group_name(log_group)
                .send()
                .await
                .expect("CreateLogGroup");
            self.cloudtrail
                .start_logging()
                .name(name)
                .send()
                .await
                .expect("StartLogging");
            // moto gives a new trail no event selectors at all, where AWS
            // gives it the default all-management-events selector: set it.
            self.cloudtrail
                .put_event_selectors()
                .trail_name(name)
                .event_selectors(
                    EventSelector::builder()
                        .read_write_type(ReadWriteType::All)
                        .include_management_events(true)
                        .build(),
                )
                .send()
                .await
                .expect("PutEventSelectors");
        });
    }

    /// cis-fix's own 4.5 filter (its name, metric and namespace) on
    /// [`LOG_GROUP`], with a pattern that misses StopLogging: an update.
    pub fn own_4_5_filter_missing_stop_logging(&self) {
        self.put_filter(
            LOG_GROUP,
            "cis-4.5-cloudtrail-config-changes",
            "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) }",
            "cis-4.5-cloudtrail-config-changes",
            "CISBenchmark",
        );
    }

    pub fn put_filter(
        &self,
        log_group: &str,
        name: &str,
        pattern: &str,
        metric: &str,
        namespace: &str,
    ) {
        self.block_on(async {
            self.logs
                .put_metric_filter()
                .log_group_name(log_group)
                .filter_name(name)
                .filter_pattern(pattern)
                .metric_transformations(fixtures::transformation(metric, namespace))
                .send()
                .await
                .expect("PutMetricFilter");
        });
    }

    pub fn put_alarm(
        &self,
        name: &str,
        metric: &str,
        namespace: &str,
        threshold: f64,
        actions: &[&str],
    ) {
        self.block_on(async {
            fixtures::alarm(&self.cloudwatch, name, metric, namespace, threshold)
                .set_alarm_actions(Some(actions.iter().map(|s| s.to_string()).collect()))
                .send()
                .await
                .expect("PutMetricAlarm");
        });
    }

    pub fn create_topic(&self, name: &str) -> String {
        self.block_on(async {
            self.sns
                .create_topic()
                .name(name)
                .send()
                .await
                .expect("CreateTopic")
                .topic_arn
                .expect("topic ARN")
        })
    }

    /// moto confirms every subscription at once, email included; AWS waits
    /// for the recipient (tested through snapshot files instead).
    pub fn subscribe(&self, topic_arn: &str, protocol: &str, endpoint: &str) {
        self.block_on(async {
            self.sns
                .subscribe()
                .topic_arn(topic_arn)
                .protocol(protocol)
                .endpoint(endpoint)
                .send()
                .await
                .expect("Subscribe");
        });
    }

    /// An IAM user holding only `policy` (a policy document), with an access
    /// key: (access key id, secret).
    pub fn user_with_policy(&self, name: &str, policy: &str) -> (String, String) {
        self.block_on(async {
            self.iam
                .create_user()
                .user_name(name)
                .send()
                .await
                .expect("CreateUser");
            self.iam
                .put_user_policy()
                .user_name(name)
                .policy_name("only-this")
                .policy_document(policy)
                .send()
                .await
                .expect("PutUserPolicy");
            let key = self
                .iam
                .create_access_key()
                .user_name(name)
                .send()
                .await
                .expect("CreateAccessKey")
                .access_key
                .expect("access key");
            (key.access_key_id, key.secret_access_key)
        })
    }

    pub fn filters(&self, log_group: &str) -> Vec<FilterRow> {
        self.block_on(async {
            let out = self
                .logs
                .describe_metric_filters()
                .log_group_name(log_group)
                .send()
                .await
                .expect("DescribeMetricFilters");
            out.metric_filters
                .unwrap_or_default()
                .into_iter()
                .map(|f| {
                    let metric = f
                        .metric_transformations
                        .unwrap_or_default()
                        .into_iter()
                        .next()
                        .map(|t| t.metric_name)
                        .unwrap_or_default();
                    (
                        f.filter_name.unwrap_or_default(),
                        f.filter_pattern.unwrap_or_default(),
                        metric,
                    )
                })
                .collect()
        })
    }

    pub fn alarms(&self) -> Vec<aws_sdk_cloudwatch::types::MetricAlarm> {
        self.block_on(async {
            self.cloudwatch
                .describe_alarms()
                .send()
                .await
                .expect("DescribeAlarms")
                .metric_alarms
                .unwrap_or_default()
        })
    }

    pub fn topics(&self) -> Vec<String> {
        self.block_on(async {
            self.sns
                .list_topics()
                .send()
                .await
                .expect("ListTopics")
                .topics
                .unwrap_or_default()
                .into_iter()
                .filter_map(|t| t.topic_arn)
                .collect()
        })
    }

    pub fn subscriptions(&self) -> Vec<aws_sdk_sns::types::Subscription> {
        self.block_on(async {
            self.sns
                .list_subscriptions()
                .send()
                .await
                .expect("ListSubscriptions")
                .subscriptions
                .unwrap_or_default()
        })
    }

    /// Writes a config file in this account's temp dir; returns its path.
    pub fn config(&self, yaml: &str) -> PathBuf {
        let p = self.dir.path().join("cis-fix.yaml");
        std::fs::write(&p, yaml).expect("write config");
        p
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A killed apply leaves its lock, as a crash does: removes it as a
    /// user would, with `force-unlock ID --force` (the ID read from the
    /// default lock file), so the next apply runs. Panics unless there was
    /// one.
    pub fn force_unlock_after_kill(&self) {
        let lock = self
            .moto
            .state_dir()
            .join("locks")
            .join(format!("{}.lock", super::ACCOUNT_ID));
        let text = std::fs::read_to_string(&lock)
            .unwrap_or_else(|e| panic!("the killed apply's lock {}: {e}", lock.display()));
        let held: serde_json::Value = serde_json::from_str(&text).expect("lock JSON");
        let id = held["id"].as_str().expect("lock id");
        self.cis_fix(&["force-unlock", id, "--force"])
            .expect_code(0);
        assert!(!lock.exists());
    }

    /// Runs the built binary against this account, in the temp dir.
    pub fn cis_fix(&self, args: &[&str]) -> Run {
        self.cis_fix_env(args, &[])
    }

    /// Like [`Account::cis_fix`], with extra environment (e.g. other keys).
    pub fn cis_fix_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.moto.command(env!("CARGO_BIN_EXE_cis-fix"));
        cmd.envs(env.iter().copied());
        self.run(cmd, args)
    }

    /// Runs `cmd` (the binary, set up to reach this account some way) with
    /// `args` in the temp dir, without stdin, to its end.
    pub fn run(&self, mut cmd: Command, args: &[&str]) -> Run {
        let out = cmd
            .current_dir(self.dir.path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run cis-fix");
        Run::from(out)
    }
}

/// [`Account::with_trail`] with [`EMAIL_CONFIG`] as its config file, and
/// that file's path: its plan has 32 creates (15 filters, 15 alarms, a
/// topic, a subscription).
pub fn trail_only() -> (Account, String) {
    let acct = Account::with_trail();
    let cfg = acct.config(EMAIL_CONFIG).to_string_lossy().into_owned();
    (acct, cfg)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }

    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A running child's stderr, read as it is written, so that a test can wait
/// for what the child says it did rather than sleep for a guessed time.
pub struct Stderr {
    text: Arc<Mutex<Vec<u8>>>,
    reader: JoinHandle<()>,
}

impl Stderr {
    /// Takes `child`'s (piped) stderr and reads it on a thread until EOF.
    pub fn watch(child: &mut Child) -> Stderr {
        let mut pipe = child.stderr.take().expect("stderr piped");
        let text = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&text);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&buf[..n]);
            }
        });
        Stderr { text, reader }
    }

    /// What the child has written so far.
    pub fn text(&self) -> String {
        lossy(&self.text)
    }

    /// Waits until the child has written `needle`; panics with what it did
    /// write after [`WAIT_TIMEOUT`].
    #[track_caller]
    pub fn wait_for(&self, needle: &str) {
        assert!(
            poll_until(|| self.text().contains(needle)),
            "waited {WAIT_TIMEOUT:?} for {needle:?} on stderr, which says:\n{}",
            self.text()
        );
    }

    /// Everything the child wrote, once it has closed stderr (exited).
    pub fn finish(self) -> String {
        let Stderr { text, reader } = self;
        reader.join().expect("stderr reader");
        lossy(&text)
    }
}

fn lossy(bytes: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&bytes.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

/// `controls[]` of a JSON plan as (id, status).
pub fn statuses(plan: &serde_json::Value) -> Vec<(String, String)> {
    plan["controls"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        c["id"].as_str().unwrap_or_default().to_string(),
                        c["status"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The ids of `plan`'s benchmark version's password-policy controls.
pub fn password_ids(plan: &serde_json::Value) -> Vec<String> {
    let v = plan["benchmark"].as_str().expect("benchmark");
    cis_fix::benchmark::load(v)
        .expect("benchmark")
        .password_controls()
        .map(|(c, _)| c.id.clone())
        .collect()
}

/// The ids of `plan`'s benchmark version's CloudTrail controls.
pub fn trail_ids(plan: &serde_json::Value) -> Vec<String> {
    let v = plan["benchmark"].as_str().expect("benchmark");
    cis_fix::benchmark::load(v)
        .expect("benchmark")
        .controls
        .iter()
        .filter(|c| c.kind == cis_fix::benchmark::Kind::Trail)
        .map(|c| c.id.clone())
        .collect()
}

/// `controls[]` of a JSON plan as (id, status), only the monitoring
/// controls: for tests of the chain.
pub fn monitoring_statuses(plan: &serde_json::Value) -> Vec<(String, String)> {
    let v = plan["benchmark"].as_str().expect("benchmark");
    let ids: Vec<String> = cis_fix::benchmark::load(v)
        .expect("benchmark")
        .metric_filter_controls()
        .map(|c| c.id.clone())
        .collect();
    statuses(plan)
        .into_iter()
        .filter(|(id, _)| ids.contains(id))
        .collect()
}

pub fn status_of(plan: &serde_json::Value, id: &str) -> String {
    statuses(plan)
        .into_iter()
        .find(|(i, _)| i == id)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no control {id} in plan"))
}

/// `cis-fix ARGS` run against `acct` through the fault proxy.
pub fn via(proxy: &super::faults::FaultProxy, acct: &Account, args: &[&str]) -> Run {
    acct.run(
        proxy.command(&acct.moto, env!("CARGO_BIN_EXE_cis-fix")),
        args,
    )
}

/// Control `id` of a JSON plan.
pub fn control<'a>(plan: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    plan["controls"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("control {id} in {plan:#}"))
}

/// The reason of control `id` of a JSON plan.
pub fn reason(plan: &serde_json::Value, id: &str) -> String {
    control(plan, id)["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
