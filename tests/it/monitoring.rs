//! The monitoring controls planned and applied end to end: the built binary
//! against a moto server, through the same code path a user runs.

use crate::support::account::{Account, monitoring_statuses, status_of, statuses, trail_only};
use crate::support::fixtures::EMAIL_CONFIG;
use crate::support::fixtures::LOG_GROUP;
use crate::support::{ACCOUNT_ID, REGION};

const V3_ROOT: &str = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;

#[test]
fn an_empty_account_plans_a_trail_and_its_chain_and_says_first_who_must_act() {
    let acct = Account::new();
    // The trail, its chain and the password policy are planned; with nobody
    // to notify, apply would refuse: the first thing said, and 2 for a
    // schedule (a person must act).
    let human = acct.cis_fix(&["plan", "--detailed-exitcode"]);
    human.expect_code(2);
    assert!(
        human
            .stderr
            .starts_with("Error: Nobody would receive the alarms"),
        "{}",
        human.stderr
    );
    assert!(!human.stdout.contains("Error:"), "{}", human.stdout);

    let plan = acct.cis_fix(&["plan", "--json"]).expect_code(0).json();
    assert_eq!(plan["format_version"], "2.5");
    assert_eq!(plan["benchmark"], "3.0.0");
    let changes = plan["changes"].as_array().expect("changes");
    assert!(
        changes
            .iter()
            .any(|c| c["type"] == "aws_cloudtrail" && c["action"] == "create"),
        "{plan:#}"
    );
    // Every monitoring control, two password, four trail controls, KMS
    // rotation, VPC flow logs, EBS encryption by default, the default security groups,
    // the two security group administration-port controls, the network ACL
    // control and IMDSv2.
    assert_eq!(statuses(&plan).len(), 29);
    let st = monitoring_statuses(&plan);
    assert_eq!(st.len(), 15);
    assert!(st.iter().all(|(_, s)| s == "blocked"), "{st:?}");
}

#[test]
fn trail_only_plans_every_link_and_waits_for_confirmation() {
    let (acct, cfg) = trail_only();
    let cfg = cfg.as_str();

    let plan = acct
        .cis_fix(&["plan", "--json", "--config", cfg])
        .expect_code(0)
        .json();
    // 15 filters, 15 alarms, one topic, one subscription.
    assert_eq!(plan["summary"]["add"], 32, "{plan:#}");
    assert_eq!(plan["summary"]["change"], 0);
    // An email subscription needs a person to click a link: the controls are
    // not compliant until then, and the plan says so.
    assert!(
        monitoring_statuses(&plan)
            .iter()
            .all(|(_, s)| s == "pending-confirmation"),
        "{plan:#}"
    );
    let changes = plan["changes"].as_array().expect("changes");
    let topic = changes
        .iter()
        .find(|c| c["address"] == format!("{ACCOUNT_ID}/{REGION}/aws_sns_topic.cis_fix_alarms"))
        .expect("topic change");
    assert_eq!(topic["controls"].as_array().map(Vec::len), Some(15));
    let alarm = changes
        .iter()
        .find(|c| {
            c["address"] == format!("{ACCOUNT_ID}/{REGION}/aws_cloudwatch_metric_alarm.cis_4_3")
        })
        .expect("alarm change");
    assert_eq!(alarm["action"], "create");
    assert_eq!(
        alarm["after"]["alarm_actions"][0]["after_apply"],
        format!("{ACCOUNT_ID}/{REGION}/aws_sns_topic.cis_fix_alarms.arn")
    );
    assert_eq!(alarm["after"]["threshold"], 1.0);
    assert_eq!(
        alarm["after"]["comparison_operator"],
        "GreaterThanOrEqualToThreshold"
    );

    let human = acct.cis_fix(&["plan", "--detailed-exitcode", "--config", cfg]);
    human.expect_code(2);
    assert!(
        human
            .stdout
            .contains("+ resource \"aws_cloudwatch_log_metric_filter\" \"cis_4_3\"")
    );
    assert!(
        human.stdout.contains("arn       = (known after apply)"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("Plan: 32 to add, 0 to change, 0 to destroy.")
    );
    assert!(human.stdout.contains("pending-confirmation"));
}

#[test]
fn apply_converges_and_a_second_apply_writes_nothing() {
    let (acct, cfg) = trail_only();
    let cfg = cfg.as_str();

    let first = acct.cis_fix(&["apply", "--auto-approve", "--config", cfg]);
    first.expect_code(0);
    assert!(
        first
            .stdout
            .contains("Apply complete! Resources: 32 added, 0 changed, 0 destroyed."),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("/aws_sns_topic.cis_fix_alarms: Creation complete after ")
    );
    assert!(
        first
            .stdout
            .contains("pending confirmation: secops@example.com")
    );

    // moto confirms the email subscription at once (AWS would wait for the
    // recipient), so the account is now compliant.
    let plan = acct
        .cis_fix(&["plan", "--json", "--config", cfg])
        .expect_code(0)
        .json();
    assert_eq!(plan["summary"]["add"], 0, "{plan:#}");
    assert!(
        statuses(&plan).iter().all(|(_, s)| s == "compliant"),
        "{plan:#}"
    );
    let again = acct.cis_fix(&["plan", "--detailed-exitcode", "--config", cfg]);
    again.expect_code(0);
    assert!(
        again
            .stdout
            .contains("No changes. All 29 managed controls are compliant")
    );

    let second = acct.cis_fix(&["apply", "--auto-approve", "--config", cfg]);
    second.expect_code(0);
    assert!(!second.stdout.contains("Creating..."), "{}", second.stdout);
    // moto appends on PutMetricFilter where AWS replaces: a second write would
    // show up here as a duplicate, so exactly one of each proves no write.
    let filters = acct.filters(LOG_GROUP);
    assert_eq!(filters.len(), 15, "{filters:#?}");
    assert_eq!(acct.alarms().len(), 15);
    assert_eq!(acct.topics().len(), 1);
    assert_eq!(acct.subscriptions().len(), 1);
}

#[test]
fn partly_compliant_account_reuses_what_works_and_fixes_the_rest() {
    let acct = Account::with_trail();
    // 4.3 already works, through the user's own names and a reformatted
    // pattern (whitespace only differs from the benchmark's text).
    let reformatted = V3_ROOT
        .replace(' ', "")
        .replace("NOTEXISTS", " NOT EXISTS ");
    acct.put_filter(
        LOG_GROUP,
        "root-usage",
        &reformatted,
        "RootUsage",
        "Security",
    );
    let topic = acct.create_topic("sec-alerts");
    acct.subscribe(&topic, "email", "oncall@example.com");
    acct.put_alarm("root-usage", "RootUsage", "Security", 1.0, &[&topic]);
    // 4.4: our filter exists, but our alarm's threshold of 5 never trips on one event.
    acct.put_filter(
        LOG_GROUP,
        "cis-4.4-iam-policy-changes",
        "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
        "cis-4.4-iam-policy-changes",
        "CISBenchmark",
    );
    acct.put_alarm(
        "cis-4.4-iam-policy-changes",
        "cis-4.4-iam-policy-changes",
        "CISBenchmark",
        5.0,
        &[&topic],
    );
    // 4.5: our filter misses StopLogging.
    acct.own_4_5_filter_missing_stop_logging();
    // A topic with no subscription at all, which must not be picked.
    acct.create_topic("cis-fix-alarms");

    let plan = acct.cis_fix(&["plan", "--json"]).expect_code(0).json();
    assert_eq!(status_of(&plan, "4.3"), "compliant", "{plan:#}");
    assert_eq!(status_of(&plan, "4.4"), "will-fix");
    assert_eq!(status_of(&plan, "4.5"), "will-fix");
    let changes = plan["changes"].as_array().expect("changes");
    let find = |a: &str| {
        changes
            .iter()
            .find(|c| c["address"] == format!("{ACCOUNT_ID}/{REGION}/{a}"))
    };
    // Nothing for the compliant control, no duplicate of its pieces.
    assert!(find("aws_cloudwatch_log_metric_filter.cis_4_3").is_none());
    assert!(find("aws_cloudwatch_metric_alarm.cis_4_3").is_none());
    // The working topic is reused: no new topic, no subscription needed.
    assert!(
        !changes.iter().any(|c| c["address"]
            .as_str()
            .is_some_and(|a| a.starts_with("aws_sns"))),
        "{plan:#}"
    );
    // 4.4: the filter is reused; the alarm is updated in place.
    assert!(find("aws_cloudwatch_log_metric_filter.cis_4_4").is_none());
    let alarm = find("aws_cloudwatch_metric_alarm.cis_4_4").expect("4.4 alarm change");
    assert_eq!(alarm["action"], "update");
    assert_eq!(alarm["before"]["threshold"], 5.0);
    assert_eq!(alarm["after"]["threshold"], 1.0);
    // 4.5: the filter is updated, and the new pattern catches StopLogging.
    let filter = find("aws_cloudwatch_log_metric_filter.cis_4_5").expect("4.5 filter change");
    assert_eq!(filter["action"], "update");
    assert!(
        filter["reason"]
            .as_str()
            .is_some_and(|r| r.contains("StopLogging")),
        "{filter:#}"
    );
    assert!(
        filter["after"]["pattern"]
            .as_str()
            .is_some_and(|p| p.contains("StopLogging"))
    );
    // 13 controls need a filter and alarm each except 4.4 (alarm only) and
    // 4.5 (alarm only, the filter is updated): 12 filters + 12 alarms + 4.5's alarm.
    assert_eq!(plan["summary"]["add"], 25, "{plan:#}");
    assert_eq!(plan["summary"]["change"], 2);

    let human = acct.cis_fix(&["plan"]);
    human.expect_code(0);
    assert!(
        human
            .stdout
            .contains("~ resource \"aws_cloudwatch_metric_alarm\" \"cis_4_4\"")
    );
    assert!(human.stdout.contains("~ threshold"), "{}", human.stdout);
    assert!(
        human.stdout.contains("+ ($.eventName = \"StopLogging\")")
            || human.stdout.contains("StopLogging")
    );

    acct.cis_fix(&["apply", "--auto-approve"]).expect_code(0);
    let after = acct
        .cis_fix(&["plan", "--json", "--detailed-exitcode"])
        .expect_code(0)
        .json();
    assert!(
        statuses(&after).iter().all(|(_, s)| s == "compliant"),
        "{after:#}"
    );
    // Still exactly one filter per name (moto would duplicate a rewritten one).
    let filters = acct.filters(LOG_GROUP);
    let mut names: Vec<&str> = filters.iter().map(|f| f.0.as_str()).collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(
        before,
        names.len() + 1,
        "only the updated 4.5 filter is duplicated by moto's append: {names:?}"
    );
}

/// Runs `cis-fix apply` on a pseudo-terminal (util-linux `script`), typing
/// `answer` at the prompt.
fn apply_at_terminal(acct: &Account, answer: &str) -> (i32, String) {
    use std::io::Write;
    let bin = env!("CARGO_BIN_EXE_cis-fix");
    let mut child = acct
        .moto
        .command("script")
        .args(["-qec", &format!("{bin} apply"), "/dev/null"])
        .current_dir(acct.dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs cis-fix on a terminal");
    // The plan is read and printed before the prompt; typed input waits in
    // the terminal's buffer until dialoguer reads it.
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(format!("{answer}\r").as_bytes())
        .expect("type answer");
    let out = child.wait_with_output().expect("script finishes");
    drop(stdin);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn apply_asks_and_only_yes_proceeds() {
    let (acct, _cfg) = trail_only();

    let (code, out) = apply_at_terminal(&acct, "no");
    assert!(
        out.contains("Do you want to perform these actions?"),
        "{out}"
    );
    assert!(out.contains("Apply cancelled."), "{out}");
    assert_eq!(code, 1, "{out}");
    assert!(
        acct.filters(LOG_GROUP).is_empty(),
        "nothing written after `no`"
    );
    assert!(acct.topics().is_empty());

    let (code, out) = apply_at_terminal(&acct, "yes");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Apply complete! Resources: 32 added"), "{out}");
    assert_eq!(acct.filters(LOG_GROUP).len(), 15);
}

#[test]
fn a_multi_region_trail_is_found_from_another_region() {
    let (acct, cfg) = trail_only();
    let cfg = cfg.as_str();
    // From eu-west-1 the us-east-1 trail shows as a shadow trail; its status
    // and selectors are read in its home region, and the chain is built in
    // the log group's region.
    let plan = acct
        .cis_fix(&["plan", "--json", "--region", "eu-west-1", "--config", cfg])
        .expect_code(0)
        .json();
    assert_eq!(plan["summary"]["add"], 32, "{plan:#}");
    assert!(
        plan["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .all(|c| c["region"] == "us-east-1")
    );
    acct.cis_fix(&[
        "apply",
        "--auto-approve",
        "--region",
        "eu-west-1",
        "--config",
        cfg,
    ])
    .expect_code(0);
    assert_eq!(acct.filters(LOG_GROUP).len(), 15);
    let again = acct.cis_fix(&[
        "plan",
        "--detailed-exitcode",
        "--region",
        "eu-west-1",
        "--config",
        cfg,
    ]);
    again.expect_code(0);
}

#[test]
fn a_named_profile_supplies_region_endpoint_and_credentials() {
    let acct = Account::with_trail();
    let dir = acct.dir();
    let config = dir.join("aws-config");
    let credentials = dir.join("aws-credentials");
    std::fs::write(
        &config,
        format!(
            "[profile audit]\nregion = us-east-1\nendpoint_url = {}\n",
            acct.moto.endpoint()
        ),
    )
    .expect("config");
    std::fs::write(
        &credentials,
        "[audit]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .expect("credentials");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cis-fix"))
        .args(["plan", "--json", "--profile", "audit"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    let run = crate::support::account::Run::from(out);
    run.expect_code(0);
    let plan = run.json();
    assert_eq!(plan["account_id"], "123456789012");
    // 15 filters, 15 alarms and the topic; no subscriber is configured.
    assert_eq!(plan["summary"]["add"], 31, "{plan:#}");
}

#[test]
fn moving_to_a_newer_benchmark_reuses_what_the_older_one_built() {
    let (acct, cfg) = trail_only();
    let cfg = cfg.as_str();
    let first = acct.cis_fix(&[
        "apply",
        "--auto-approve",
        "--benchmark",
        "1.2.0",
        "--config",
        cfg,
    ]);
    first.expect_code(0);
    assert!(
        first.stdout.contains("Resources: 30 added"),
        "{}",
        first.stdout
    );
    acct.cis_fix(&[
        "plan",
        "--detailed-exitcode",
        "--benchmark",
        "1.2.0",
        "--config",
        cfg,
    ])
    .expect_code(0);

    // v3.0.0 renumbers to 4.x and adds 4.15. Every v1.2.0 filter covers its
    // v3.0.0 counterpart (3.1's `A || B` covers 4.1's `A || (B && C && D)`),
    // so only Organizations changes need a new filter and alarm.
    let plan = acct
        .cis_fix(&["plan", "--json", "--benchmark", "3.0.0", "--config", cfg])
        .expect_code(0)
        .json();
    let st = statuses(&plan);
    assert!(
        st.iter()
            .filter(|(id, _)| id != "4.15")
            .all(|(_, s)| s == "compliant"),
        "{st:?}"
    );
    assert_eq!(status_of(&plan, "4.15"), "will-fix");
    assert_eq!(plan["summary"]["add"], 2, "{plan:#}");
}

#[test]
fn moving_to_a_version_whose_pattern_changed_retires_the_old_chain() {
    let acct = Account::new();
    acct.qualifying_trail("main", "cloudtrail-logs");
    let cfg = acct.config(EMAIL_CONFIG);
    let cfg = cfg.to_str().expect("utf-8 path");
    acct.cis_fix(&["apply", "--auto-approve", "--config", cfg])
        .expect_code(0);

    // v6.0.0 5.10 also catches ModifySecurityGroupRules, which v3.0.0's
    // 4.10 filter misses: a new filter and alarm under 5.10's names, and
    // cis-fix's 4.10 pair destroyed, so one change alarms once.
    let v6 = ["--benchmark", "6.0.0", "--config", cfg];
    let plan = acct
        .cis_fix(&[&["plan", "--json"][..], &v6[..]].concat())
        .expect_code(0)
        .json();
    assert_eq!(plan["summary"]["add"], 2, "{plan:#}");
    assert_eq!(plan["summary"]["destroy"], 2, "{plan:#}");
    let deleted: Vec<&str> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["action"] == "delete")
        .filter_map(|c| c["before"]["name"].as_str())
        .collect();
    assert_eq!(
        deleted,
        [
            "cis-4.10-security-group-changes",
            "cis-4.10-security-group-changes"
        ]
    );
    let human = acct.cis_fix(&[&["plan"][..], &v6[..]].concat());
    assert!(
        human
            .stdout
            .contains("Plan: 2 to add, 0 to change, 2 to destroy."),
        "{}",
        human.stdout
    );

    let applied = acct.cis_fix(&[&["apply", "--auto-approve"][..], &v6[..]].concat());
    applied.expect_code(0);
    assert!(
        applied
            .stdout
            .contains("Resources: 2 added, 0 changed, 2 destroyed."),
        "{}",
        applied.stdout
    );
    let sg_alarms: Vec<String> = acct
        .alarms()
        .into_iter()
        .filter_map(|a| a.alarm_name)
        .filter(|n| n.contains("security-group-changes"))
        .collect();
    assert_eq!(sg_alarms, ["cis-5.10-security-group-changes"]);
    assert!(
        acct.filters("cloudtrail-logs")
            .iter()
            .all(|(name, _, _)| name != "cis-4.10-security-group-changes")
    );
    acct.cis_fix(&[&["plan", "--detailed-exitcode"][..], &v6[..]].concat())
        .expect_code(0);
}

#[test]
fn apply_with_nobody_to_notify_stops_before_any_write() {
    // No subscription configured and none in the account: a chain that
    // ends at nobody fixes nothing, so nothing is built.
    let acct = Account::with_trail();
    let run = acct.cis_fix(&["apply", "--auto-approve"]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("Error: nobody would receive the alarms")
            && run.stderr.contains("sns.subscriptions")
            && run.stderr.contains("Nothing was changed"),
        "{}",
        run.stderr
    );
    assert!(acct.topics().is_empty());
    assert!(acct.alarms().is_empty());
    assert!(acct.filters(LOG_GROUP).is_empty());
}

#[test]
fn apply_that_leaves_a_control_for_the_user_is_not_a_success() {
    // No trail: apply makes one and the chain on it, but where the trail
    // bucket's access logs go is the user's choice (no
    // cloudtrail.access_logs in this config), so that control stays blocked.
    let acct = Account::new();
    let cfg = acct.config(EMAIL_CONFIG);
    let cfg = cfg.to_str().expect("utf-8 path");
    let run = acct.cis_fix(&["apply", "--auto-approve", "--config", cfg]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("1 control is still blocked"),
        "{}",
        run.stderr
    );
    assert_eq!(acct.filters("cis-fix/cloudtrail").len(), 15);
    acct.cis_fix(&[
        "apply",
        "--auto-approve",
        "--detailed-exitcode",
        "--config",
        cfg,
    ])
    .expect_code(2);
}

/// The plan says what it adds to the bill: per item in the JSON plan, in a
/// line after the summary in the human plan; the flow-log volume the config
/// estimates is priced, and the total is the sum of the known items.
#[test]
fn the_plan_states_its_monthly_cost_at_list_price() {
    let (acct, _) = trail_only();
    let cfg = acct
        .config(&format!(
            "{EMAIL_CONFIG}cost:\n  flow_logs_gb_per_month: 2\n"
        ))
        .to_string_lossy()
        .into_owned();
    let plan = acct
        .cis_fix(&["plan", "--json", "--config", &cfg])
        .expect_code(0)
        .json();
    let cost = &plan["cost"];
    assert_eq!(cost["currency"], "USD", "{plan:#}");
    assert_eq!(cost["price_table"], "plans/prices.yaml");
    let items = cost["items"].as_array().expect("items");
    let item = |key: &str| items.iter().find(|i| i["item"] == key);
    let alarms = item("cloudwatch_alarm").expect("alarms");
    assert_eq!(alarms["count"], 15, "{cost:#}");
    assert_eq!(alarms["monthly"], 1.5);
    // Each new filter publishes a metric no filter published before.
    assert_eq!(
        item("cloudwatch_custom_metric").expect("metrics")["count"],
        15
    );
    let planned_flow_logs = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["type"] == "aws_flow_log")
        .count() as f64;
    if planned_flow_logs > 0.0 {
        let f = item("flow_logs_to_cloudwatch").expect("flow logs");
        assert_eq!(f["quantity"].as_f64(), Some(2.0 * planned_flow_logs));
        assert_eq!(f["monthly"].as_f64(), Some(planned_flow_logs));
    }
    let known: f64 = items.iter().filter_map(|i| i["monthly"].as_f64()).sum();
    let total = cost["monthly"].as_f64().expect("monthly");
    assert!((total - known).abs() < 1e-9, "{cost:#}");

    let human = acct
        .cis_fix(&["plan", "--config", &cfg])
        .expect_code(0)
        .stdout
        .clone();
    let line = human
        .lines()
        .find(|l| l.starts_with("Cost: this plan adds about $"))
        .unwrap_or_else(|| panic!("{human}"));
    assert!(line.contains("15 alarms, 15 custom metrics"), "{line}");
    assert!(line.ends_with("us-east-1: plans/prices.yaml."), "{line}");
}
