//! cis-fix when AWS does not cooperate: throttling, server errors, denied
//! reads and writes, a process killed or interrupted mid-apply. Faults come
//! from a loopback proxy in front of moto that answers with AWS's own error
//! shapes (tests/it/support/faults.rs), so the SDK's retry and error handling
//! run for real.

use std::process::Stdio;

use crate::support::account::via;
use crate::support::account::{
    Account, Run, Stderr, monitoring_statuses, password_ids, statuses, trail_ids, trail_only,
};
use crate::support::faults::{FaultProxy, Signal};
use crate::support::fixtures::{EMAIL_CONFIG, LOG_GROUP};

/// Starts `apply --auto-approve` through the proxy, output captured, and
/// makes it the target of the proxy's signals.
fn spawn_apply(proxy: &FaultProxy, acct: &Account, cfg: &str) -> std::process::Child {
    let child = proxy
        .command(&acct.moto, env!("CARGO_BIN_EXE_cis-fix"))
        .current_dir(acct.dir())
        .args(["apply", "--auto-approve", "--config", cfg])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cis-fix");
    proxy.set_target(child.id());
    child
}

/// Exactly one of each resource cis-fix makes, whatever happened before.
/// moto appends on PutMetricFilter where AWS replaces, so a filter written
/// twice would show here as a duplicate.
fn assert_exactly_one_of_each(acct: &Account) {
    let filters = acct.filters(LOG_GROUP);
    let mut names: Vec<&str> = filters.iter().map(|f| f.0.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(filters.len(), 15, "{filters:#?}");
    assert_eq!(names.len(), 15);
    assert_eq!(acct.alarms().len(), 15);
    assert_eq!(acct.topics().len(), 1, "{:?}", acct.topics());
    assert_eq!(acct.subscriptions().len(), 1);
}

fn converged(acct: &Account, cfg: &str) {
    let p = acct.cis_fix(&["plan", "--json", "--detailed-exitcode", "--config", cfg]);
    p.expect_code(0);
    let p = p.json();
    assert!(statuses(&p).iter().all(|(_, s)| s == "compliant"), "{p:#}");
}

/// The same plan, minus what differs between two runs by nature.
fn comparable(mut plan: serde_json::Value) -> serde_json::Value {
    plan.as_object_mut().map(|o| o.remove("account_id"));
    plan
}

#[test]
fn steady_throttling_gives_the_same_plan_and_apply_completes() {
    let (acct, cfg) = trail_only();
    let clean = acct.cis_fix(&["plan", "--json", "--config", &cfg]);
    clean.expect_code(0);

    let proxy = FaultProxy::start(&acct.moto);
    // Every other call of each operation is throttled (AWS limits per API).
    proxy.per_operation();
    proxy.throttle_every(2);
    let throttled = via(&proxy, &acct, &["plan", "--json", "--config", &cfg]);
    throttled.expect_code(0);
    assert_eq!(comparable(throttled.json()), comparable(clean.json()));
    assert!(
        proxy
            .calls()
            .iter()
            .any(|c| c.faulted.as_deref() == Some("throttle"))
    );

    let applied = via(
        &proxy,
        &acct,
        &["apply", "--auto-approve", "--config", &cfg],
    );
    applied.expect_code(0);
    assert!(
        applied
            .stdout
            .contains("Apply complete! Resources: 32 added"),
        "{}",
        applied.stdout
    );
    let throttled_writes = proxy
        .calls()
        .iter()
        .filter(|c| c.is_write() && c.faulted.as_deref() == Some("throttle"))
        .count();
    assert!(
        throttled_writes >= 10,
        "writes were throttled too: {throttled_writes}"
    );
    assert_exactly_one_of_each(&acct);
    converged(&acct, &cfg);
}

#[test]
fn server_errors_are_retried() {
    let (acct, cfg) = trail_only();
    let clean = acct.cis_fix(&["plan", "--json", "--config", &cfg]).json();
    let proxy = FaultProxy::start(&acct.moto);
    proxy.per_operation();
    proxy.server_error_every(2);
    let faulty = via(&proxy, &acct, &["plan", "--json", "--config", &cfg]);
    faulty.expect_code(0);
    assert_eq!(comparable(faulty.json()), comparable(clean));
    via(
        &proxy,
        &acct,
        &["apply", "--auto-approve", "--config", &cfg],
    )
    .expect_code(0);
    assert_exactly_one_of_each(&acct);
}

#[test]
fn a_denied_read_is_unknown_never_compliant_and_nothing_is_written() {
    let (acct, cfg) = trail_only();
    acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg])
        .expect_code(0);
    let proxy = FaultProxy::start(&acct.moto);
    for read in [
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
        "logs:DescribeMetricFilters",
        "cloudwatch:DescribeAlarms",
        "sns:ListSubscriptions",
        "sns:GetTopicAttributes",
        "sns:ListTopics",
    ] {
        proxy.clear();
        proxy.deny(read);
        let run = via(
            &proxy,
            &acct,
            &["plan", "--json", "--detailed-exitcode", "--config", &cfg],
        );
        run.expect_code(1);
        let plan = run.json();
        let failed: Vec<&str> = plan["failed_reads"]
            .as_array()
            .expect("failed_reads")
            .iter()
            .filter_map(|f| f["call"].as_str())
            .collect();
        assert_eq!(failed, [read], "{plan:#}");
        assert_eq!(
            plan["changes"].as_array().map(Vec::len),
            Some(0),
            "{read}: {plan:#}"
        );
        // The password controls need none of these reads.
        assert!(
            statuses(&plan)
                .iter()
                .filter(|(id, _)| password_ids(&plan).contains(id))
                .all(|(_, s)| s == "compliant"),
            "{read}: {plan:#}"
        );
        let st = monitoring_statuses(&plan);
        if read == "sns:ListTopics" {
            // Topics are not evidence: the alarm names the topic and
            // ListSubscriptions proves someone receives it.
            assert!(st.iter().all(|(_, s)| s == "compliant"), "{read}: {st:?}");
        } else {
            assert!(st.iter().all(|(_, s)| s == "unknown"), "{read}: {st:?}");
            // The first monitoring control's reason names the read.
            let first = &st[0].0;
            let reason = plan["controls"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| &c["id"] == first))
                .and_then(|c| c["reason"].as_str())
                .unwrap_or_default();
            assert!(reason.contains(read), "{read}: {reason}");
        }
        let human = via(&proxy, &acct, &["plan", "--config", &cfg]);
        human.expect_code(1);
        assert!(human.stderr.starts_with("Error: "), "{}", human.stderr);
        assert!(human.stderr.contains(read), "{}", human.stderr);

        let apply = via(
            &proxy,
            &acct,
            &["apply", "--auto-approve", "--config", &cfg],
        );
        apply.expect_code(1);
        assert!(
            !proxy.calls().iter().any(|c| c.is_write()),
            "{read}: apply wrote something"
        );
    }
    assert_exactly_one_of_each(&acct);

    // The caller's identity is evidence for the trail controls only (which
    // trails are this account's): the chain is judged as before, the trail
    // controls are unknown, and the failed read is named.
    proxy.clear();
    proxy.deny("sts:GetCallerIdentity");
    let run = via(
        &proxy,
        &acct,
        &["plan", "--json", "--detailed-exitcode", "--config", &cfg],
    );
    run.expect_code(1);
    let plan = run.json();
    assert!(
        monitoring_statuses(&plan)
            .iter()
            .all(|(_, s)| s == "compliant"),
        "{plan:#}"
    );
    let trail = trail_ids(&plan);
    assert!(
        statuses(&plan)
            .iter()
            .filter(|(id, _)| trail.contains(id))
            .all(|(_, s)| s == "unknown"),
        "{plan:#}"
    );
    assert_eq!(plan["failed_reads"][0]["call"], "sts:GetCallerIdentity");
    assert_eq!(plan["changes"].as_array().map(Vec::len), Some(0));
}

#[test]
fn a_denied_read_on_a_new_account_creates_nothing() {
    let (acct, cfg) = trail_only();
    let proxy = FaultProxy::start(&acct.moto);
    for read in [
        "cloudtrail:GetEventSelectors",
        "logs:DescribeMetricFilters",
        "cloudwatch:DescribeAlarms",
        "sns:ListTopics",
        "sns:ListSubscriptions",
    ] {
        proxy.clear();
        proxy.deny(read);
        let run = via(
            &proxy,
            &acct,
            &["apply", "--auto-approve", "--config", &cfg],
        );
        run.expect_code(1);
        assert!(
            !proxy.calls().iter().any(|c| c.is_write()),
            "{read}: nothing may be created that could not be looked for:\n{}",
            run.stdout
        );
    }
    assert!(acct.filters(LOG_GROUP).is_empty());
    assert!(acct.topics().is_empty());
}

/// Kills cis-fix right after its k-th write reached AWS, then runs apply
/// again: the account ends as an uninterrupted run leaves it.
fn killed_after(k: usize) {
    let (acct, cfg) = trail_only();
    let proxy = FaultProxy::start(&acct.moto);
    proxy.signal_after_writes(k, Signal::Kill);
    let child = spawn_apply(&proxy, &acct, &cfg);
    let status = child.wait_with_output().expect("wait").status;
    assert_eq!(status.code(), None, "killed by a signal after write {k}");
    let writes = proxy.calls().iter().filter(|c| c.is_write()).count();
    assert_eq!(writes, k, "no write after the kill");
    acct.force_unlock_after_kill();

    let resumed = acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg]);
    resumed.expect_code(0);
    assert!(
        resumed
            .stdout
            .contains(&format!("Resources: {} added", 32 - k)),
        "after {k} writes: {}",
        resumed.stdout
    );
    assert_exactly_one_of_each(&acct);
    converged(&acct, &cfg);
}

#[test]
fn killed_after_the_first_write_resumes() {
    killed_after(1);
}

#[test]
fn killed_after_a_middle_write_resumes() {
    killed_after(16);
}

#[test]
fn killed_after_the_second_to_last_write_resumes() {
    killed_after(31);
}

fn interrupted_after(k: usize, signal: Signal, code: i32) {
    let (acct, cfg) = trail_only();
    let proxy = FaultProxy::start(&acct.moto);
    proxy.signal_after_writes(k, signal);
    let child = spawn_apply(&proxy, &acct, &cfg);
    let run = Run::from(child.wait_with_output().expect("wait"));
    run.expect_code(code);
    // The call in flight finished; nothing new was started.
    assert_eq!(proxy.calls().iter().filter(|c| c.is_write()).count(), k);
    assert!(run.stderr.contains("Interrupt received"), "{}", run.stderr);
    assert!(run.stderr.contains("Apply interrupted."), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("Resources: {k} added")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not started"), "{}", run.stderr);

    acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg])
        .expect_code(0);
    assert_exactly_one_of_each(&acct);
}

#[test]
fn sigterm_finishes_the_call_in_flight_and_stops() {
    interrupted_after(5, Signal::Term, 143);
}

#[test]
fn ctrl_c_finishes_the_call_in_flight_and_stops() {
    interrupted_after(2, Signal::Int, 130);
}

#[test]
fn a_failed_write_skips_its_dependants_and_a_denied_one_stops_the_run() {
    let (acct, cfg) = trail_only();
    let proxy = FaultProxy::start(&acct.moto);
    proxy.deny("cloudwatch:PutMetricAlarm");
    let run = via(
        &proxy,
        &acct,
        &["apply", "--auto-approve", "--config", &cfg],
    );
    run.expect_code(1);
    // moto's caller is not an IAM principal the simulator can evaluate, so the
    // check is unavailable and apply goes ahead, stopping at the first denial.
    assert!(
        run.stderr.contains("could not check permissions"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Apply failed."), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("failed       123456789012/us-east-1/aws_cloudwatch_metric_alarm.cis_4_1"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not started  123456789012/us-east-1/aws_cloudwatch_log_metric_filter.cis_4_2: cloudwatch:PutMetricAlarm was denied"), "{}", run.stderr);
    let alarm_calls = proxy
        .calls()
        .iter()
        .filter(|c| c.action == "PutMetricAlarm")
        .count();
    assert_eq!(
        alarm_calls, 1,
        "an AccessDenied is not retried, and nothing after it starts"
    );
    // Denial lifted: the next apply finishes the job.
    acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg])
        .expect_code(0);
    assert_exactly_one_of_each(&acct);
}

#[test]
fn a_failed_topic_skips_what_depends_on_it_and_the_rest_goes_on() {
    let (acct, cfg) = trail_only();
    let proxy = FaultProxy::start(&acct.moto);
    // Not a denial: a server error that outlasts the retries.
    proxy.fail_operation("sns:CreateTopic");
    let run = via(
        &proxy,
        &acct,
        &["apply", "--auto-approve", "--config", &cfg],
    );
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("failed       123456789012/us-east-1/aws_sns_topic.cis_fix_alarms"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "skipped      123456789012/us-east-1/aws_sns_topic_subscription.cis_fix_alarms"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("skipped      123456789012/us-east-1/aws_cloudwatch_metric_alarm.cis_4_15"),
        "{}",
        run.stderr
    );
    assert_eq!(
        acct.filters(LOG_GROUP).len(),
        15,
        "independent filters were still made"
    );
    assert!(acct.alarms().is_empty());
    acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg])
        .expect_code(0);
    assert_exactly_one_of_each(&acct);
}

#[test]
fn the_shipped_read_only_policy_is_enough_to_plan_and_refuses_every_write() {
    let (acct, cfg) = trail_only();
    let policy = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/iam/cis-fix-plan.json"
    ))
    .expect("policy");
    // moto checks CloudWatch calls as `monitoring:<Action>` (the endpoint
    // prefix) where AWS's IAM action is `cloudwatch:<Action>`: grant both.
    let policy = policy.replace(
        "\"cloudwatch:DescribeAlarms\",",
        "\"cloudwatch:DescribeAlarms\", \"monitoring:DescribeAlarms\",",
    );
    // Likewise moto checks HeadBucket as `s3:HeadBucket`, which is no IAM
    // action (AWS judges it as `s3:ListBucket`): grant that too.
    let policy = policy.replace(
        "\"s3:ListBucket\",",
        "\"s3:ListBucket\", \"s3:HeadBucket\",",
    );
    let (key, secret) = acct.user_with_policy("cis-fix-reader", &policy);
    // From now on moto enforces IAM policies for every request.
    acct.moto.reset_auth(0);
    let env = [
        ("AWS_ACCESS_KEY_ID", key.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
    ];

    let plan = acct.cis_fix_env(&["plan", "--json", "--config", &cfg], &env);
    plan.expect_code(0);
    let plan = plan.json();
    assert_eq!(
        plan["failed_reads"].as_array().map(Vec::len),
        Some(0),
        "{plan:#}"
    );
    assert_eq!(plan["summary"]["add"], 32);

    let apply = acct.cis_fix_env(&["apply", "--auto-approve", "--config", &cfg], &env);
    apply.expect_code(1);
    assert!(
        apply.stderr.contains("could not check permissions"),
        "{}",
        apply.stderr
    );
    assert!(
        apply.stderr.contains("logs:PutMetricFilter"),
        "{}",
        apply.stderr
    );
    assert!(
        apply.stderr.contains("Resources: 0 added"),
        "{}",
        apply.stderr
    );

    // Nothing was made: the same plan again.
    let again = acct
        .cis_fix_env(&["plan", "--json", "--config", &cfg], &env)
        .json();
    assert_eq!(again["summary"]["add"], 32);
}

#[test]
fn attempts_follow_the_flag_and_the_environment() {
    let (acct, cfg) = trail_only();
    let proxy = FaultProxy::start(&acct.moto);
    proxy.per_operation();
    proxy.throttle_every(1);
    let attempts = |proxy: &FaultProxy| {
        proxy
            .calls()
            .iter()
            .filter(|c| c.name() == "cloudtrail:DescribeTrails")
            .count()
    };
    // The SDK's default: 3 attempts, then the read is a failure, not a guess.
    let run = via(&proxy, &acct, &["plan", "--json", "--config", &cfg]);
    run.expect_code(1);
    assert_eq!(run.json()["failed_reads"][0]["code"], "ThrottlingException");
    assert_eq!(attempts(&proxy), 3);

    let before = attempts(&proxy);
    via(
        &proxy,
        &acct,
        &["plan", "--json", "--max-attempts", "4", "--config", &cfg],
    )
    .expect_code(1);
    assert_eq!(attempts(&proxy) - before, 4);

    let before = attempts(&proxy);
    let out = proxy
        .command(&acct.moto, env!("CARGO_BIN_EXE_cis-fix"))
        .current_dir(acct.dir())
        .args(["plan", "--json", "--config", &cfg])
        .env("AWS_MAX_ATTEMPTS", "2")
        .env("AWS_RETRY_MODE", "adaptive")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(attempts(&proxy) - before, 2);
}

#[test]
fn a_second_interrupt_exits_at_once() {
    let (acct, cfg) = trail_only();
    let proxy = FaultProxy::start(&acct.moto);
    proxy.signal_after_writes(3, Signal::Term);
    proxy.hold_after_signal(std::time::Duration::from_secs(20));
    let mut child = spawn_apply(&proxy, &acct, &cfg);
    let pid = child.id();
    let stderr = Stderr::watch(&mut child);
    // Wait until cis-fix has taken the first signal (it says so), then send
    // the second while the write is still held in flight.
    stderr.wait_for("Interrupt received");
    let start = std::time::Instant::now();
    let sent = std::process::Command::new("kill")
        .args(["-s", "TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let mut run = Run::from(child.wait_with_output().expect("wait"));
    run.stderr = stderr.finish();
    // The proxy answers the held call only after the hold: still unanswered
    // means cis-fix exited without waiting for it.
    let held = proxy
        .calls()
        .into_iter()
        .find(|c| c.faulted.as_deref() == Some("signal:TERM"))
        .expect("the signalled write");
    assert_eq!(held.status, 0, "exited at once, not after the held call");
    if !cfg!(debug_assertions) {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "exited at once, not after the held call"
        );
    }
    run.expect_code(143);
    assert!(run.stderr.contains("Second interrupt"), "{}", run.stderr);
    // Resumable all the same.
    acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg])
        .expect_code(0);
    assert_exactly_one_of_each(&acct);
}

#[test]
fn killed_between_updates_resumes_to_the_same_end() {
    let (acct, cfg) = trail_only();
    // cis-fix's own filter misses StopLogging (an update), its alarm's
    // threshold never trips (an update), the rest is created.
    acct.own_4_5_filter_missing_stop_logging();
    acct.put_alarm(
        "cis-4.5-cloudtrail-config-changes",
        "cis-4.5-cloudtrail-config-changes",
        "CISBenchmark",
        5.0,
        &[],
    );
    let plan = acct.cis_fix(&["plan", "--json", "--config", &cfg]).json();
    assert_eq!(plan["summary"]["change"], 2, "{plan:#}");
    let order: Vec<String> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["address"].as_str().map(str::to_string))
        .collect();
    // Kill right after the filter update went through.
    let k = 1 + order
        .iter()
        .position(|a| a.ends_with("/aws_cloudwatch_log_metric_filter.cis_4_5"))
        .expect("4.5 filter update planned");
    let proxy = FaultProxy::start(&acct.moto);
    proxy.signal_after_writes(k, Signal::Kill);
    let child = spawn_apply(&proxy, &acct, &cfg);
    assert_eq!(child.wait_with_output().expect("wait").status.code(), None);
    acct.force_unlock_after_kill();

    acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg])
        .expect_code(0);
    converged(&acct, &cfg);
    assert_eq!(acct.alarms().len(), 15);
    assert_eq!(acct.topics().len(), 1);
    assert_eq!(acct.subscriptions().len(), 1);
    // moto appends on PutMetricFilter where AWS replaces, so the updated
    // filter appears twice (old and new pattern); every other name once.
    let filters = acct.filters(LOG_GROUP);
    let mut names: Vec<&str> = filters.iter().map(|f| f.0.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 15);
    assert_eq!(filters.len(), 16, "{filters:#?}");
}

#[test]
fn every_read_is_made_once() {
    let (acct, cfg) = trail_only();
    acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg])
        .expect_code(0);
    let proxy = FaultProxy::start(&acct.moto);
    // Every enabled region: DescribeRegions once, each region's keys once.
    let before = proxy.calls().len();
    via(&proxy, &acct, &["plan", "--config", &cfg]).expect_code(0);
    let calls = &proxy.calls()[before..];
    let count = |name: &str| calls.iter().filter(|c| c.name() == name).count();
    assert_eq!(count("ec2:DescribeRegions"), 1);
    let mut key_regions: Vec<&str> = calls
        .iter()
        .filter(|c| c.name() == "kms:ListKeys")
        .map(|c| c.region.as_str())
        .collect();
    let listed = key_regions.len();
    key_regions.sort();
    key_regions.dedup();
    assert_eq!(key_regions.len(), listed, "{key_regions:?}");
    assert!(listed > 1, "{key_regions:?}");
    // Each planned region's networking reads once, in the same regions.
    for read in [
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeNetworkInterfaces",
        "ec2:GetEbsEncryptionByDefault",
        "ec2:DescribeNetworkAcls",
        "ec2:DescribeInstances",
    ] {
        let mut regions: Vec<&str> = calls
            .iter()
            .filter(|c| c.name() == read)
            .map(|c| c.region.as_str())
            .collect();
        regions.sort();
        assert_eq!(regions, key_regions, "{read}");
    }
    // One region named: the exact reads, one call in flight or many.
    for command in [
        &["plan", "--config", &cfg, "--region", "us-east-1"][..],
        &[
            "plan",
            "--config",
            &cfg,
            "--region",
            "us-east-1",
            "--concurrency",
            "1",
        ][..],
        &[
            "apply",
            "--auto-approve",
            "--config",
            &cfg,
            "--region",
            "us-east-1",
        ][..],
    ] {
        let before = proxy.calls().len();
        via(&proxy, &acct, command).expect_code(0);
        let mut names: Vec<String> = proxy.calls()[before..].iter().map(|c| c.name()).collect();
        names.sort();
        assert_eq!(
            names,
            // The trail's own reads too: cis-fix's log group, role and
            // bucket looked for (none exists: a 404 and a NoSuchEntity),
            // the region's keys (the trail's, whose rotation the rotation
            // control reads), its security groups, network interfaces, network
            // ACLs, instances and EBS default, the trail's bucket in full, and the region's VPCs
            // and flow logs (every VPC is logged: cis-fix's flow-log group
            // and role are not looked for).
            [
                "cloudtrail:DescribeTrails",
                "cloudtrail:GetEventSelectors",
                "cloudtrail:GetTrailStatus",
                "cloudtrail:ListTrails",
                "cloudwatch:DescribeAlarms",
                "ec2:DescribeFlowLogs",
                "ec2:DescribeInstances",
                "ec2:DescribeNetworkAcls",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSecurityGroupRules",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcs",
                "ec2:GetEbsEncryptionByDefault",
                "iam:GetAccountPasswordPolicy",
                "iam:GetRole",
                "kms:DescribeKey",
                "kms:GetKeyRotationStatus",
                "kms:ListAliases",
                "kms:ListKeys",
                "logs:DescribeLogGroups",
                "logs:DescribeMetricFilters",
                "s3:GetBucketAcl",
                "s3:GetBucketLocation",
                "s3:GetBucketLogging",
                "s3:GetBucketOwnershipControls",
                "s3:GetBucketPolicy",
                "s3:GetBucketPolicyStatus",
                "s3:GetBucketPublicAccessBlock",
                "s3:ListBucket",
                "s3:ListBucket",
                "sns:GetTopicAttributes",
                "sns:ListSubscriptions",
                "sns:ListTopics",
                "sts:GetCallerIdentity",
            ],
            "{command:?}"
        );
    }
}

/// Each regional read denied in one region of two, in turn: exactly the
/// controls resting on it are `unknown` (named with the read and region),
/// every other control stays compliant, and apply writes nothing.
#[test]
fn each_regional_read_denied_in_one_region_makes_only_its_controls_unknown() {
    let acct = Account::with_trail();
    let cfg = acct
        .config(&format!(
            "{EMAIL_CONFIG}regions:\n  - us-east-1\n  - eu-west-1\n"
        ))
        .to_string_lossy()
        .into_owned();
    acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg])
        .expect_code(0);
    let proxy = FaultProxy::start(&acct.moto);
    // v3.0.0: 2.2.1 EBS, 3.6 key rotation, 3.7 flow logs, 5.1 ACLs, 5.2 /
    // 5.3 security groups, 5.4 default groups, 5.6 IMDSv2.
    let groups = ["5.1", "5.2", "5.3", "5.4"];
    for (read, resting) in [
        ("ec2:DescribeSecurityGroups", &["5.2", "5.3", "5.4"][..]),
        ("ec2:DescribeSecurityGroupRules", &["5.2", "5.3", "5.4"]),
        ("ec2:DescribeNetworkInterfaces", &groups),
        ("ec2:DescribeNetworkAcls", &["5.1"]),
        ("ec2:DescribeInstances", &["5.6"]),
        ("ec2:GetEbsEncryptionByDefault", &["2.2.1"]),
        ("ec2:DescribeVpcs", &["3.7"]),
        ("ec2:DescribeFlowLogs", &["3.7"]),
        ("kms:ListKeys", &["3.6"]),
    ] {
        proxy.clear();
        proxy.deny_in(read, "eu-west-1");
        let run = via(
            &proxy,
            &acct,
            &["plan", "--json", "--detailed-exitcode", "--config", &cfg],
        );
        run.expect_code(1);
        let plan = run.json();
        let failed: Vec<(&str, &str)> = plan["failed_reads"]
            .as_array()
            .expect("failed_reads")
            .iter()
            .filter_map(|f| Some((f["call"].as_str()?, f["region"].as_str()?)))
            .collect();
        assert_eq!(failed, [(read, "eu-west-1")], "{plan:#}");
        let mut unknown: Vec<String> = statuses(&plan)
            .into_iter()
            .filter(|(_, s)| s != "compliant")
            .map(|(id, s)| {
                assert_eq!(s, "unknown", "{read}: {id} is {s}");
                id
            })
            .collect();
        unknown.sort();
        assert_eq!(unknown, resting, "{read}: {plan:#}");
        for id in resting {
            let reason = plan["controls"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["id"] == *id))
                .and_then(|c| c["reason"].as_str())
                .unwrap_or_default();
            assert!(
                reason.contains(&format!("{read} in eu-west-1")),
                "{read}: {reason}"
            );
        }
        let apply = via(
            &proxy,
            &acct,
            &["apply", "--auto-approve", "--config", &cfg],
        );
        apply.expect_code(1);
        assert!(
            !proxy.calls().iter().any(|c| c.is_write()),
            "{read}: apply wrote something"
        );
    }
}
