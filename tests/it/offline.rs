//! The binary without AWS: plans from saved snapshots, the other commands,
//! and every kind of bad input (an error naming the file, never a panic).

use std::process::Stdio;

use crate::support::account::Run;
use crate::support::fixtures::isolated_command;

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

fn statuses(p: &serde_json::Value) -> Vec<String> {
    p["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .map(|c| c["status"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn quick_start_example_plans() {
    let (code, out, _) = cis_fix(&["plan", "--from", "examples/accounts/partly-compliant.json"]);
    assert_eq!(code, 0);
    assert!(out.contains("Plan: "), "{out}");
    assert!(out.contains("4.3   compliant"), "{out}");
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
        statuses(&p).iter().all(|s| s == "pending-confirmation"),
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
        out.contains("No changes. Your account matches CIS AWS Foundations v3.0.0."),
        "{out}"
    );
    let p = json(&[
        "plan",
        "--json",
        "--from",
        "examples/accounts/new-account.json",
    ]);
    assert!(statuses(&p).iter().all(|s| s == "blocked"));
    assert!(
        p["notices"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("No CloudTrail trail qualifies"))
    );
}

#[test]
fn every_benchmark_version_plans_with_its_own_numbers() {
    for (v, first) in [
        ("1.2.0", "3.1"),
        ("1.4.0", "4.1"),
        ("5.0.0", "4.1"),
        ("6.0.0", "5.1"),
        ("7.0.0", "5.1"),
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
        assert_eq!(p["controls"][0]["id"], first, "{v}");
    }
    let p = json(&[
        "plan",
        "--json",
        "--benchmark",
        "1.2.0",
        "--from",
        "examples/accounts/new-account.json",
    ]);
    assert_eq!(p["controls"].as_array().map(Vec::len), Some(14));
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
        full.replacen("\"format_version\": 1", "\"format_version\": 7", 1),
    )
    .expect("write");
    let (code, _, err) = cis_fix(&["plan", "--from", snap.to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    assert!(err.contains("format_version 7"), "{err}");

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
    assert!(
        out.contains("not managed"),
        "password policy and the rest are listed as not managed"
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
    assert_eq!(managed, 15);
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

#[test]
fn show_renders_a_saved_plan_exactly_and_refuses_damaged_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    let saved = dir.path().join("plan.json");
    let (code, out, _) = cis_fix(&[
        "plan",
        "--json",
        "--from",
        "examples/accounts/partly-compliant.json",
    ]);
    assert_eq!(code, 0);
    std::fs::write(&saved, &out).expect("write");
    let (_, fresh, _) = cis_fix(&["plan", "--from", "examples/accounts/partly-compliant.json"]);
    let (code, shown, err) = cis_fix(&["show", saved.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(shown, fresh, "a saved plan renders exactly as a fresh one");
    std::fs::write(
        &saved,
        out.replacen(
            "\"format_version\": \"1.0\"",
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
