//! Every subcommand walked through the inputs that used to panic or mislead
//! (retry settings aws-config rejects, a missing profile, usage errors, a
//! closed pipe): each ends with a clear `Error:` on stderr and exit 1, or
//! quietly, and never with a panic (exit 101) or a Debug dump.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::account::Run;
use crate::support::fixtures::isolated_command;

const COMPLIANT: &str = "examples/accounts/compliant.json";

/// Every subcommand, as a user would type it; those that reach AWS point
/// at a closed port.
fn subcommands(dir: &std::path::Path) -> Vec<Vec<String>> {
    let plan_file = dir.join("plan.json").to_string_lossy().into_owned();
    let init_file = dir.join("init.yaml").to_string_lossy().into_owned();
    [
        vec!["plan"],
        vec!["plan", "--json", "--detailed-exitcode"],
        vec!["apply", "--auto-approve"],
        vec!["snapshot"],
        vec!["controls"],
        vec!["show", &plan_file],
        vec!["pattern", "check", "{ $.eventName = CreateTrail }"],
        vec![
            "pattern",
            "test",
            "{ $.eventName = CreateTrail }",
            "--events",
            "-",
        ],
        vec!["completions", "bash"],
        vec!["man"],
        vec![
            "init",
            "--email",
            "a@example.com",
            "--force",
            "--config",
            &init_file,
        ],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(str::to_string).collect())
    .collect()
}

/// Runs cis-fix with `env` on top of the isolated environment. One attempt
/// per call unless the case sets the attempts (or a profile file, whose own
/// `max_attempts` the environment variable would override).
fn run(args: &[String], env: &[(&str, &str)], aws_home: &std::path::Path) -> Run {
    let mut cmd = isolated_command(
        env!("CARGO_BIN_EXE_cis-fix"),
        "http://127.0.0.1:9",
        aws_home,
    );
    if !env
        .iter()
        .any(|(k, _)| *k == "AWS_MAX_ATTEMPTS" || *k == "AWS_CONFIG_FILE")
    {
        cmd.env("AWS_MAX_ATTEMPTS", "1");
    }
    let out = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run cis-fix");
    Run::from(out)
}

/// No panic, and no Rust Debug text in front of a user.
fn assert_no_panic(r: &Run, what: &str) {
    assert_ne!(r.code, 101, "{what} panicked:\n{}", r.stderr);
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "DispatchFailure",
        "ConnectorError",
        "kind: ",
    ] {
        assert!(
            !r.stderr.contains(bad) && !r.stdout.contains(bad),
            "{what}: `{bad}` shown to the user:\n{}\n{}",
            r.stdout,
            r.stderr
        );
    }
}

#[test]
fn bad_retry_settings_and_a_missing_profile_are_clear_errors_for_every_subcommand() {
    let dir = tempfile::tempdir().expect("tmp");
    // A saved plan for `show`.
    let saved = run(
        &["plan", "--json", "--from", COMPLIANT].map(str::to_string),
        &[],
        dir.path(),
    );
    std::fs::write(dir.path().join("plan.json"), &saved.stdout).expect("write plan");
    let profile_config = dir.path().join("config");
    std::fs::write(&profile_config, "[default]\nmax_attempts = x\n").expect("write config");
    let profile_config = profile_config.to_string_lossy().into_owned();
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("AWS_MAX_ATTEMPTS", "abc")],
            "AWS_MAX_ATTEMPTS (environment) is `abc`",
        ),
        (
            &[("AWS_MAX_ATTEMPTS", "0")],
            "AWS_MAX_ATTEMPTS (environment) is `0`",
        ),
        (
            &[("AWS_RETRY_MODE", "fast")],
            "AWS_RETRY_MODE (environment) is `fast`",
        ),
        (
            &[("AWS_PROFILE", "nosuch")],
            "profile `nosuch` is not in the AWS config",
        ),
        (
            &[("AWS_CONFIG_FILE", &profile_config)],
            "max_attempts in profile `default` is `x`",
        ),
    ];
    for args in subcommands(dir.path()) {
        let reaches_aws = matches!(args[0].as_str(), "plan" | "apply" | "snapshot");
        for (env, said) in &cases {
            let r = run(&args, env, dir.path());
            let what = format!("{} with {env:?}", args.join(" "));
            assert_no_panic(&r, &what);
            if reaches_aws {
                assert_eq!(r.code, 1, "{what}:\n{}", r.stderr);
                assert!(
                    r.stderr.starts_with("Error: cannot set up AWS access: ")
                        && r.stderr.contains(said),
                    "{what}:\n{}",
                    r.stderr
                );
                assert!(r.stdout.is_empty(), "{what}: {}", r.stdout);
            } else {
                assert_eq!(r.code, 0, "{what}:\n{}", r.stderr);
            }
        }
        // `legacy` is valid for the AWS CLI: mapped to standard, and said.
        if reaches_aws {
            let r = run(&args, &[("AWS_RETRY_MODE", "legacy")], dir.path());
            assert_no_panic(&r, &format!("{} with legacy", args.join(" ")));
            assert!(
                r.stderr
                    .contains("Note: AWS_RETRY_MODE (environment) is `legacy`"),
                "{}",
                r.stderr
            );
            // The closed port: one clear cause, no Debug text.
            assert!(r.stderr.contains("Connection refused"), "{}", r.stderr);
            assert_eq!(r.code, 1);
        }
    }
}

#[test]
fn usage_errors_exit_1_in_the_house_style() {
    let dir = tempfile::tempdir().expect("tmp");
    for args in [
        &["plan", "--detailed-exitcode", "--regoin", "x"][..],
        &["frobnicate"][..],
        &[][..],
    ] {
        let r = run(
            &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            &[],
            dir.path(),
        );
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("Error: "), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
    let r = run(&["--help".to_string()], &[], dir.path());
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Usage:"));
}

#[test]
fn a_closed_stderr_is_no_panic_either() {
    // `cis-fix plan 2>&1 >/dev/null | true`: the error about the missing
    // trail goes to a stderr nobody reads.
    let mut child = Command::new(env!("CARGO_BIN_EXE_cis-fix"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["plan", "--from", "examples/accounts/new-account.json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stderr.take());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_closed_pipe_ends_output_quietly() {
    for args in [
        &["controls"][..],
        &["plan", "--json", "--from", COMPLIANT][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cis-fix"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut first = String::new();
        {
            let mut out = BufReader::new(child.stdout.take().expect("stdout"));
            out.read_line(&mut first).expect("first line");
        } // the reader goes away, as `| head -1` does
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!first.is_empty());
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn concurrency_outside_1_to_64_is_a_usage_error_naming_the_flag() {
    let dir = tempfile::tempdir().expect("tmp");
    for command in [["plan"], ["apply"], ["snapshot"]] {
        for bad in ["0", "65", "many"] {
            let args: Vec<String> = command
                .iter()
                .chain(&["--concurrency", bad])
                .map(|s| s.to_string())
                .collect();
            let r = run(&args, &[], dir.path());
            assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
            assert!(r.stderr.starts_with("Error: "), "{args:?}: {}", r.stderr);
            assert!(r.stderr.contains("--concurrency"), "{args:?}: {}", r.stderr);
            assert!(r.stdout.is_empty());
        }
    }
}
