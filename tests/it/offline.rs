//! The binary without AWS: plans from saved snapshots, the other commands,
//! and every kind of bad input (an error naming the file, never a panic).

use std::process::Stdio;

use crate::support::account::Run;
use crate::support::fixtures::isolated_command;

mod extras;

fn cis_fix(args: &[&str]) -> (i32, String, String) {
    let aws_home = tempfile::tempdir().expect("tmp");
    // No AWS access can happen here: point everything at nowhere.
    let out = isolated_command(
        env!("CARGO_BIN_EXE_cis-fix"),
        "http://127.0.0.1:9",
        aws_home.path(),
    )
    .current_dir(env!("CARGO_MANIFEST_DIR"))
    .args(args)
    .stdin(Stdio::null())
    .output()
    .expect("run cis-fix");
    let run = Run::from(out);
    (run.code, run.stdout, run.stderr)
}

fn json(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = cis_fix(args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("JSON plan")
}

/// The monitoring controls' statuses: the example accounts' password
/// policies are compliant, but for the new account's, which it lacks.
fn monitoring_statuses(p: &serde_json::Value) -> Vec<String> {
    crate::support::account::monitoring_statuses(p)
        .into_iter()
        .map(|(_, s)| s)
        .collect()
}

#[test]
fn quick_start_example_plans() {
    let (code, out, _) = cis_fix(&["plan", "--from", "examples/accounts/partly-compliant.json"]);
    assert_eq!(code, 0);
    assert!(out.contains("Plan: "), "{out}");
    assert!(out.contains("4.3    compliant"), "{out}");
    let p = json(&[
        "plan",
        "--json",
        "--from",
        "examples/accounts/partly-compliant.json",
    ]);
    for key in [
        "format_version",
        "benchmark",
        "changes",
        "controls",
        "summary",
    ] {
        assert!(p.get(key).is_some(), "missing {key}");
    }
    let c = &p["changes"][0];
    for key in ["address", "action", "controls", "before", "after"] {
        assert!(c.get(key).is_some(), "change lacks {key}: {c:#}");
    }
    let (code, _, _) = cis_fix(&[
        "plan",
        "--detailed-exitcode",
        "--from",
        "examples/accounts/partly-compliant.json",
    ]);
    assert_eq!(code, 2);
}

#[test]
fn pending_confirmation_is_not_compliant() {
    let p = json(&[
        "plan",
        "--json",
        "--from",
        "examples/accounts/pending-confirmation.json",
    ]);
    assert_eq!(p["summary"]["add"], 0);
    assert!(
        monitoring_statuses(&p)
            .iter()
            .all(|s| s == "pending-confirmation"),
        "{p:#}"
    );
    let (code, out, _) = cis_fix(&[
        "plan",
        "--from",
        "examples/accounts/pending-confirmation.json",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("15 controls are not compliant"), "{out}");
    assert!(!out.contains("Your account matches"));
}

#[test]
fn compliant_and_new_accounts() {
    let (code, out, _) = cis_fix(&[
        "plan",
        "--detailed-exitcode",
        "--from",
        "examples/accounts/compliant.json",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("No changes. All 29 managed controls are compliant; 1 control of v3.0.0 is not managed by cis-fix (`cis-fix controls`)."),
        "{out}"
    );
    let p = json(&[
        "plan",
        "--json",
        "--from",
        "examples/accounts/new-account.json",
    ]);
    // Nobody to notify (no config): the chain is planned but blocked.
    assert!(monitoring_statuses(&p).iter().all(|s| s == "blocked"));
    // A trail with its bucket, key, log group and role, the chain (15
    // filters, 15 alarms, a topic), the password policy, and the default
    // VPC's flow log with its log group and role.
    assert_eq!(p["summary"]["add"], 40);
    for kind in [
        "aws_cloudtrail",
        "aws_s3_bucket",
        "aws_iam_account_password_policy",
        "aws_flow_log",
    ] {
        assert!(
            p["changes"]
                .as_array()
                .expect("changes")
                .iter()
                .any(|c| c["type"] == kind && c["action"] == "create"),
            "{kind}"
        );
    }
    assert!(
        p["notices"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Nobody would receive the alarms"))
    );
}

#[test]
fn every_benchmark_version_plans_with_its_own_numbers() {
    // The password controls come first, then (where its number puts it
    // there) EBS encryption by default, CloudTrail, then monitoring.
    for (v, password, ebs, first) in [
        ("1.2.0", "1.5", 0, "3.1"),
        ("1.4.0", "1.8", 1, "4.1"),
        ("5.0.0", "1.7", 0, "4.1"),
        ("6.0.0", "2.7", 0, "5.1"),
        ("7.0.0", "2.8", 0, "5.1"),
    ] {
        let p = json(&[
            "plan",
            "--json",
            "--benchmark",
            v,
            "--from",
            "examples/accounts/new-account.json",
        ]);
        assert_eq!(p["benchmark"], v);
        assert_eq!(p["controls"][0]["id"], password, "{v}");
        // The KMS rotation and flow-logs controls follow the trail's in
        // every version.
        let n = crate::support::account::password_ids(&p).len()
            + crate::support::account::trail_ids(&p).len()
            + ebs
            + 2;
        assert_eq!(p["controls"][n]["id"], first, "{v}");
    }
    let p = json(&[
        "plan",
        "--json",
        "--benchmark",
        "1.2.0",
        "--from",
        "examples/accounts/new-account.json",
    ]);
    // 7 password, 6 CloudTrail, KMS rotation, flow logs, 14 monitoring
    // controls, the
    // two administration-port controls and the default security groups.
    assert_eq!(
        p["controls"].as_array().map(Vec::len),
        Some(7 + 6 + 1 + 1 + 14 + 3)
    );
}

#[test]
fn example_config_is_valid() {
    let (code, _, err) = plan_with_config("examples/cis-fix.yaml");
    assert_eq!(code, 0, "{err}");
}

/// `plan` of the compliant example account with config file `path`.
fn plan_with_config(path: &str) -> (i32, String, String) {
    cis_fix(&[
        "plan",
        "--config",
        path,
        "--from",
        "examples/accounts/compliant.json",
    ])
}

#[test]
fn bad_config_names_file_line_and_field() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("cis-fix.yaml");
    std::fs::write(&cfg, "sns:\n  topic: alerts\n  subscribtions: []\n").expect("write");
    let (code, out, err) = plan_with_config(cfg.to_str().expect("utf-8"));
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("cis-fix.yaml:3:"), "{err}");
    assert!(err.contains("did you mean `subscriptions`"), "{err}");

    std::fs::write(&cfg, "controls:\n  \"9.9\":\n    alarm: x\n").expect("write");
    let (code, _, err) = plan_with_config(cfg.to_str().expect("utf-8"));
    assert_eq!(code, 1);
    assert!(err.contains("controls.\"9.9\""), "{err}");

    let (code, _, err) = plan_with_config("no/such/file.yaml");
    assert_eq!(code, 1);
    assert!(err.contains("no/such/file.yaml"), "{err}");
}

#[test]
fn bad_snapshot_and_unknown_version_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let snap = dir.path().join("cut.json");
    let full = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/accounts/compliant.json"
    ))
    .expect("read");
    std::fs::write(&snap, &full[..full.len() / 2]).expect("write");
    let (code, _, err) = cis_fix(&["plan", "--from", snap.to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    assert!(err.contains("cut.json"), "{err}");
    std::fs::write(
        &snap,
        full.replacen(
            "\"format_version\": \"2.4\"",
            "\"format_version\": \"7.0\"",
            1,
        ),
    )
    .expect("write");
    let (code, _, err) = cis_fix(&["plan", "--from", snap.to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    assert!(err.contains("format_version 7.0"), "{err}");

    let (code, _, err) = cis_fix(&[
        "plan",
        "--benchmark",
        "2.5",
        "--from",
        "examples/accounts/compliant.json",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("unknown benchmark version `2.5`") && err.contains("7.0.0"),
        "{err}"
    );
}

#[test]
fn apply_refuses_without_a_terminal_or_auto_approve() {
    let (code, out, err) = cis_fix(&["apply"]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("--auto-approve"), "{err}");
}

#[test]
fn controls_lists_managed_and_unmanaged() {
    let (code, out, _) = cis_fix(&["controls", "--benchmark", "1.2.0"]);
    assert_eq!(code, 0);
    assert!(out.contains("3.14") && out.contains("managed"), "{out}");
    // Every control of v1.2.0 is managed now.
    assert!(!out.contains("not managed"), "{out}");
    assert!(
        out.contains("1.5   managed"),
        "the password policy is managed: {out}"
    );
    let (code, out, _) = cis_fix(&["controls", "--benchmark", "3.0.0"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("5.1    managed"),
        "the network ACL control is managed: {out}"
    );
    assert!(
        out.contains("4.16   not managed"),
        "Security Hub is listed as not managed: {out}"
    );
    let (code, out, _) = cis_fix(&["controls", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let managed = v["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .filter(|c| c["managed"] == true)
        .count();
    // v3.0.0: 15 monitoring, 2 password-policy, 4 CloudTrail controls, KMS
    // rotation, VPC flow logs, EBS encryption by default, the default security groups,
    // the two security group administration-port controls, the network ACL
    // control and IMDSv2 (Security Hub is not managed).
    assert_eq!(managed, 29);
}

#[test]
fn pattern_commands() {
    let (code, out, _) = cis_fix(&[
        "pattern",
        "check",
        "{ ($.eventName = StopLogging) || ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) }",
        "--control",
        "4.5",
    ]);
    assert_eq!(code, 1);
    assert!(
        out.contains("not covered") && out.contains("StartLogging"),
        "{out}"
    );
    let (code, out, _) = cis_fix(&[
        "pattern",
        "check",
        "{$.eventName=CreateTrail||$.eventName=UpdateTrail||$.eventName=DeleteTrail||$.eventName=StartLogging||$.eventName=StopLogging||$.eventName=Other}",
        "--control",
        "4.5",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("covered"));
    let (code, _, err) = cis_fix(&["pattern", "check", "{ $.eventName == CreateTrail }"]);
    assert_eq!(code, 1);
    assert!(err.contains("character"), "{err}");

    let dir = tempfile::tempdir().expect("tmp");
    let events = dir.path().join("events.json");
    std::fs::write(
        &events,
        r#"{"Records": [{"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging"}, {"eventSource": "s3.amazonaws.com", "eventName": "GetObject"}]}"#,
    )
    .expect("write");
    let (code, out, _) = cis_fix(&[
        "pattern",
        "test",
        "{ $.eventName = StopLogging }",
        "--events",
        events.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("1 of 2 events match"), "{out}");
}

/// `plan --json` of an example account, saved in `dir`: its path and text.
fn saved_plan(dir: &std::path::Path, account: &str) -> (std::path::PathBuf, String) {
    let from = format!("examples/accounts/{account}.json");
    let (code, out, err) = cis_fix(&["plan", "--json", "--from", &from]);
    assert_eq!(code, 0, "{err}");
    let saved = dir.join("plan.json");
    std::fs::write(&saved, &out).expect("write");
    (saved, out)
}

#[test]
fn show_renders_a_saved_plan_exactly_and_refuses_damaged_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    let (saved, out) = saved_plan(dir.path(), "partly-compliant");
    let (_, fresh, _) = cis_fix(&["plan", "--from", "examples/accounts/partly-compliant.json"]);
    let (code, shown, err) = cis_fix(&["show", saved.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(shown, fresh, "a saved plan renders exactly as a fresh one");
    // A cost whose total is not the sum of its items was edited.
    let mut edited: serde_json::Value = serde_json::from_str(&out).expect("json");
    edited["cost"]["monthly"] = serde_json::json!(1.0);
    std::fs::write(&saved, edited.to_string()).expect("write");
    let (code, _, err) = cis_fix(&["show", saved.to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    assert!(err.contains("the cost's monthly totals"), "{err}");
    std::fs::write(
        &saved,
        out.replacen(
            "\"format_version\": \"2.5\"",
            "\"format_version\": \"0.9\"",
            1,
        ),
    )
    .expect("write");
    let (code, _, err) = cis_fix(&["show", saved.to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    assert!(err.contains("format_version 0.9"), "{err}");
}

#[test]
fn unreachable_endpoint_is_a_clear_error_not_a_hang() {
    // Connection refused: a closed loopback port.
    let start = std::time::Instant::now();
    let (code, out, _) = cis_fix(&["plan", "--json"]);
    assert_eq!(code, 1);
    let plan: serde_json::Value = serde_json::from_str(&out).expect("still a plan");
    assert_eq!(plan["failed_reads"][0]["call"], "cloudtrail:DescribeTrails");
    assert!(
        plan["controls"]
            .as_array()
            .expect("controls")
            .iter()
            .all(|c| c["status"] == "unknown")
    );
    // A product bound, but a debug build on a busy machine says nothing
    // about it: checked in release builds only.
    if !cfg!(debug_assertions) {
        assert!(start.elapsed() < std::time::Duration::from_secs(60));
    }
}

#[test]
fn silent_endpoint_times_out_within_a_minute() {
    // Accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for s in listener.incoming().take(8).flatten() {
            open.push(s);
        }
        std::thread::sleep(std::time::Duration::from_secs(70));
    });
    let aws_home = tempfile::tempdir().expect("tmp");
    let start = std::time::Instant::now();
    let out = isolated_command(
        env!("CARGO_BIN_EXE_cis-fix"),
        &format!("http://127.0.0.1:{port}"),
        aws_home.path(),
    )
    .args(["plan", "--json", "--max-attempts", "1"])
    .stdin(Stdio::null())
    .output()
    .expect("run");
    let elapsed = start.elapsed();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    // It gave up because of its own timeout, whatever the machine's speed;
    // the minute itself is checked in release builds only.
    assert!(
        text.contains("cloudtrail:DescribeTrails") && text.contains("timeout"),
        "{text}"
    );
    if !cfg!(debug_assertions) {
        assert!(elapsed < std::time::Duration::from_secs(60), "{elapsed:?}");
    }
    drop(held);
}

/// `cis_fix` with `CIS_FIX_LOG` and `NO_COLOR` unset unless `env` sets them,
/// and the raw output, so stdout can be compared byte for byte.
fn logged(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let aws_home = tempfile::tempdir().expect("tmp");
    isolated_command(
        env!("CARGO_BIN_EXE_cis-fix"),
        "http://127.0.0.1:9",
        aws_home.path(),
    )
    .current_dir(env!("CARGO_MANIFEST_DIR"))
    .args(args)
    .env_remove("CIS_FIX_LOG")
    .env_remove("NO_COLOR")
    .envs(env.iter().copied())
    .stdin(Stdio::null())
    .output()
    .expect("run cis-fix")
}

#[test]
fn logs_only_when_asked_only_on_stderr_and_never_change_stdout() {
    for plan in [
        &["plan", "--from", "examples/accounts/compliant.json"][..],
        &[
            "plan",
            "--json",
            "--from",
            "examples/accounts/compliant.json",
        ],
    ] {
        let quiet = logged(plan, &[]);
        assert_eq!(quiet.status.code(), Some(0));
        assert!(
            quiet.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&quiet.stderr)
        );
        let with = |before: &[&str], after: &[&str]| -> Vec<String> {
            before
                .iter()
                .chain(plan)
                .chain(after)
                .map(|s| s.to_string())
                .collect()
        };
        for (args, env) in [
            (with(&["-v"], &[]), &[][..]),
            (with(&[], &["-vv"]), &[]),
            (with(&[], &["-vvv"]), &[("NO_COLOR", "1")]),
            (with(&[], &[]), &[("CIS_FIX_LOG", "debug")]),
            (with(&[], &["-v"]), &[("CIS_FIX_LOG", "cis_fix=trace")]),
        ] {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let loud = logged(&args, env);
            let err = String::from_utf8_lossy(&loud.stderr);
            assert_eq!(loud.status.code(), Some(0), "{args:?} {env:?}: {err}");
            assert!(
                loud.stdout == quiet.stdout,
                "{args:?} {env:?} changed stdout"
            );
            assert!(
                err.contains("cis-fix starting") && err.contains("cis-fix finished"),
                "{args:?} {env:?}: {err}"
            );
            // stderr is a pipe here: no colour, NO_COLOR or not.
            assert!(!err.contains('\x1b'), "{args:?} {env:?}: {err}");
        }
    }
    // -v is global: after a nested subcommand too.
    let out = logged(&["pattern", "check", "-v", "{ $.eventName = \"x\" }"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cis-fix finished"));
}

#[test]
fn a_bad_log_filter_is_a_clear_error() {
    let out = logged(
        &["plan", "--from", "examples/accounts/compliant.json"],
        &[("CIS_FIX_LOG", "cis_fix=loud")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("Error: CIS_FIX_LOG=\"cis_fix=loud\" is not a valid log filter"),
        "{err}"
    );
}

#[test]
fn each_aws_call_and_the_causes_of_its_failure_are_logged_on_stderr() {
    // Connection refused, one attempt a call so the test is quick.
    let plan = ["plan", "--json", "--max-attempts", "1"];
    // Without logging, stderr holds the plan's error alone: no log lines.
    let quiet = logged(&plan, &[]);
    let quiet_err = String::from_utf8_lossy(&quiet.stderr);
    assert!(
        quiet_err.starts_with("Error: Trails could not be read")
            && !quiet_err.contains("AWS call")
            && !quiet_err.contains("aws_smithy_runtime"),
        "{quiet_err}"
    );
    let out = logged(&plan, &[("CIS_FIX_LOG", "debug")]);
    assert_eq!(out.status.code(), Some(1));
    // stdout is the plan alone, as without logs.
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON plan");
    assert_eq!(p["failed_reads"][0]["call"], "cloudtrail:DescribeTrails");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("AWS call"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    let call = err
        .lines()
        .find(|l| l.contains("AWS call failed") && l.contains("operation=DescribeTrails"))
        .unwrap_or_else(|| panic!("no DescribeTrails line: {err}"));
    for part in [
        "service=CloudTrail",
        "region=us-east-1",
        "attempts=1",
        "Connection refused",
    ] {
        assert!(call.contains(part), "{part} missing: {call}");
    }
    assert!(err.contains("operation=GetCallerIdentity"), "{err}");
    // The chain of causes where the failure is reported, at debug.
    assert!(
        err.lines().any(|l| l.contains("failed call reported")
            && l.contains("cloudtrail:DescribeTrails")
            && l.contains("Connection refused")),
        "{err}"
    );
    // The SDK's own logs: credentials and the retry and endpoint machinery.
    assert!(err.contains("aws_config::"), "{err}");
    assert!(err.contains("aws_smithy_runtime::"), "{err}");

    // -v: the calls, without the debug detail.
    let out = logged(&[&plan[..], &["-v"]].concat(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("operation=DescribeTrails"), "{err}");
    assert!(!err.contains("failed call reported"), "{err}");
    assert!(!err.contains("DEBUG"), "{err}");
}

#[test]
fn errors_go_to_stderr_and_exit_codes_tell_a_schedule_what_to_do() {
    // No trail and nobody to notify: the blocker on stderr, the plan (a
    // trail and its chain) on stdout, and 2 (a person must act) under
    // --detailed-exitcode.
    let (code, out, err) = cis_fix(&[
        "plan",
        "--detailed-exitcode",
        "--from",
        "examples/accounts/new-account.json",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("Error: Nobody would receive the alarms"),
        "{err}"
    );
    assert!(!out.contains("Error:"), "{out}");
    // The shared cause is said once, with the controls it holds.
    assert_eq!(
        out.matches("has no confirmed subscription and none is configured")
            .count(),
        1,
        "{out}"
    );
    assert!(out.contains("Blocked (4.1–4.15): topic"), "{out}");
    assert!(out.contains("18 blocked."), "{out}");
    // Only a person confirming a subscription is missing: still 2.
    let (code, out, _) = cis_fix(&[
        "plan",
        "--detailed-exitcode",
        "--from",
        "examples/accounts/pending-confirmation.json",
    ]);
    assert_eq!(code, 2);
    assert_eq!(out.matches("Pending confirmation (").count(), 1, "{out}");
    // Whom it speaks for, first.
    assert!(
        out.starts_with(
            "cis-fix: account 123456789012 as arn:aws:sts::123456789012:user/moto, region us-east-1; CIS AWS Foundations v3.0.0."
        ),
        "{out}"
    );
    // Everything compliant: 0. Without the flag, changes are not an error.
    let (code, _, _) = cis_fix(&[
        "plan",
        "--detailed-exitcode",
        "--from",
        "examples/accounts/compliant.json",
    ]);
    assert_eq!(code, 0);
    let (code, _, _) = cis_fix(&["plan", "--from", "examples/accounts/new-account.json"]);
    assert_eq!(code, 0);
}

#[test]
fn errors_name_the_cause_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("nope.json");
    let (code, _, err) = cis_fix(&["plan", "--from", missing.to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, "{\"format_version\": \"2.0\",").expect("write");
    let (_, _, err) = cis_fix(&["plan", "--from", cut.to_str().expect("utf-8")]);
    assert_eq!(err.matches("line").count(), 0, "{err}");
    assert!(
        err.starts_with("Error: ") && err.contains("cut.json:1:"),
        "{err}"
    );
}

#[test]
fn init_writes_a_config_that_loads_and_never_overwrites_silently() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("cis-fix.yaml");
    let file_s = file.to_str().expect("utf-8");
    let (code, out, err) = cis_fix(&[
        "init",
        "--email",
        "secops@example.com",
        "--benchmark",
        "3.0.0",
        "--config",
        file_s,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    let text = std::fs::read_to_string(&file).expect("written");
    let c = cis_fix::config::Config::parse(&text, file_s).expect("loads");
    assert_eq!(c.sns.subscriptions[0].endpoint, "secops@example.com");
    // A plan with it names the subscription it would create.
    let (code, out, _) = cis_fix(&[
        "plan",
        "--config",
        file_s,
        "--from",
        "examples/accounts/partly-compliant.json",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("email:secops@example.com"), "{out}");
    // Again: refused, unless --force.
    let (code, _, err) = cis_fix(&["init", "--email", "x@example.com", "--config", file_s]);
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    // No terminal and nobody named: it says what to pass.
    let other = dir.path().join("other.yaml");
    let (code, _, err) = cis_fix(&["init", "--config", other.to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    assert!(err.contains("--email"), "{err}");
    assert!(!other.exists());
}

#[test]
fn a_plan_given_as_a_snapshot_and_back_says_which_command_reads_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let (saved, _) = saved_plan(dir.path(), "compliant");
    let (code, _, err) = cis_fix(&["plan", "--from", saved.to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    assert!(
        err.contains("this is a plan file") && err.contains("cis-fix show"),
        "{err}"
    );
    let (code, _, err) = cis_fix(&["show", "examples/accounts/compliant.json"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("this is a snapshot") && err.contains("plan --from"),
        "{err}"
    );
}

#[test]
fn a_version_whose_own_pattern_matches_routine_activity_says_so() {
    let (code, out, _) = cis_fix(&["controls", "--benchmark", "1.4.0"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("note: this pattern also matches routine activity")
            && out.contains("v2.0.0 fixes it"),
        "{out}"
    );
    let (_, out, err) = cis_fix(&[
        "plan",
        "--benchmark",
        "1.4.0",
        "--from",
        "examples/accounts/compliant.json",
    ]);
    assert!(
        err.contains("Warning: CIS v1.4.0 4.1's own pattern also matches routine activity"),
        "{err}"
    );
    assert!(!out.contains("Warning"), "{out}");
    let (_, out, _) = cis_fix(&["controls", "--benchmark", "3.0.0"]);
    assert!(!out.contains("routine activity"), "{out}");
}
