//! The smaller commands and options around the core (issue #11): shell
//! completions and the man page, event files for `pattern test`, the
//! `controls` listing, and where the benchmark version comes from.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use crate::support::account::Run;
use crate::support::fixtures::isolated_command;

/// The binary run in `dir` (where a `cis-fix.yaml` may lie), with `stdin`
/// fed to it when given, and no AWS reachable.
fn run_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let aws_home = tempfile::tempdir().expect("tmp");
    let mut child = isolated_command(
        env!("CARGO_BIN_EXE_cis-fix"),
        "http://127.0.0.1:9",
        aws_home.path(),
    )
    .current_dir(dir)
    .args(args)
    .env_remove("CIS_FIX_LOG")
    .env("NO_COLOR", "1")
    .stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("run cis-fix");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(bytes).expect("write stdin");
    }
    Run::from(child.wait_with_output().expect("wait"))
}

/// The binary run in the repository, with no stdin.
fn run(args: &[&str]) -> Run {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, None)
}

const SUBCOMMANDS: &[&str] = &[
    "plan",
    "apply",
    "controls",
    "show",
    "force-unlock",
    "snapshot",
    "init",
    "pattern",
    "report",
    "completions",
    "man",
];

#[test]
fn completions_for_each_shell_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let r = run(&["completions", shell]);
        r.expect_code(0);
        assert!(r.stderr.is_empty(), "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("cis-fix"), "{shell}");
        for sub in SUBCOMMANDS {
            assert!(r.stdout.contains(sub), "{shell} completion lacks {sub}");
        }
        // Options of subcommands too, not just their names.
        assert!(r.stdout.contains("detailed-exitcode"), "{shell}");
    }
    let r = run(&["completions", "tcsh"]);
    assert_eq!(r.code, 1, "a usage error");
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.starts_with("Error: ") && r.stderr.contains("possible values"),
        "{}",
        r.stderr
    );
}

#[test]
fn man_page_is_roff_naming_the_subcommands() {
    let r = run(&["man"]);
    r.expect_code(0);
    assert!(r.stdout.contains(".TH cis-fix 1"), "{}", r.stdout);
    assert!(r.stdout.contains(".SH SUBCOMMANDS"), "{}", r.stdout);
    for sub in ["plan", "apply", "controls"] {
        assert!(r.stdout.contains(&format!("cis\\-fix\\-{sub}(1)")), "{sub}");
    }
    // --out-dir writes the pages the SUBCOMMANDS section points to.
    let dir = tempfile::tempdir().expect("tmp");
    let r = run(&["man", "--out-dir", dir.path().to_str().expect("utf-8")]);
    r.expect_code(0);
    assert!(r.stdout.is_empty());
    for page in [
        "cis-fix.1",
        "cis-fix-plan.1",
        "cis-fix-apply.1",
        "cis-fix-pattern-test.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(page)).expect(page);
        assert!(text.contains(".SH OPTIONS"), "{page}");
    }
    let plan = std::fs::read_to_string(dir.path().join("cis-fix-plan.1")).expect("plan page");
    assert!(plan.contains("detailed\\-exitcode"), "{plan}");
    let r = run(&["man", "--out-dir", "no/such/dir"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("Error: cannot write man pages to no/such/dir"),
        "{}",
        r.stderr
    );
}

/// CloudTrail's own delivery: `{"Records": [...]}`, gzipped, one line.
fn cloudtrail_file(records: &[(&str, &str)]) -> Vec<u8> {
    let records: Vec<_> = records
        .iter()
        .map(|(source, name)| {
            serde_json::json!({
                "eventVersion": "1.08",
                "eventSource": source,
                "eventName": name,
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    let text = serde_json::json!({ "Records": records }).to_string();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).expect("compress");
    enc.finish().expect("compress")
}

const STOP_LOGGING: &str = "{ $.eventName = StopLogging }";

#[test]
fn pattern_test_reads_gzipped_cloudtrail_files_and_stdin() {
    let dir = tempfile::tempdir().expect("tmp");
    let gz = cloudtrail_file(&[
        ("cloudtrail.amazonaws.com", "StopLogging"),
        ("s3.amazonaws.com", "GetObject"),
        ("cloudtrail.amazonaws.com", "StopLogging"),
    ]);
    // The name CloudTrail gives its files.
    let file = dir
        .path()
        .join("123456789012_CloudTrail_us-east-1_20250101T0000Z_abc.json.gz");
    std::fs::write(&file, &gz).expect("write");
    let r = run(&[
        "pattern",
        "test",
        STOP_LOGGING,
        "--events",
        file.to_str().expect("utf-8"),
    ]);
    r.expect_code(0);
    assert!(r.stdout.contains("2 of 3 events match"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("match  #3  cloudtrail.amazonaws.com StopLogging"),
        "{}",
        r.stdout
    );
    // Gzip is known by its bytes: the same file under a plain name.
    let plain_name = dir.path().join("events.json");
    std::fs::write(&plain_name, &gz).expect("write");
    let r = run(&[
        "pattern",
        "test",
        STOP_LOGGING,
        "--events",
        plain_name.to_str().expect("utf-8"),
    ]);
    r.expect_code(0);
    assert!(r.stdout.contains("2 of 3 events match"), "{}", r.stdout);

    // `-`: stdin, gzipped (`cat *.json.gz |`: two members) or JSON lines.
    let mut two = gz.clone();
    two.extend(cloudtrail_file(&[("iam.amazonaws.com", "CreateUser")]));
    let r = run_in(
        dir.path(),
        &["pattern", "test", STOP_LOGGING, "--events", "-"],
        Some(&two),
    );
    r.expect_code(0);
    assert!(r.stdout.contains("2 of 4 events match"), "{}", r.stdout);
    let lines = b"{\"eventName\": \"StopLogging\"}\n{\"eventName\": \"StartLogging\"}\n";
    let r = run_in(
        dir.path(),
        &["pattern", "test", STOP_LOGGING, "--events", "-"],
        Some(lines),
    );
    r.expect_code(0);
    assert!(r.stdout.contains("1 of 2 events match"), "{}", r.stdout);
}

#[test]
fn pattern_test_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let lines = dir.path().join("events.jsonl");
    std::fs::write(
        &lines,
        "{\"eventName\": \"StopLogging\"}\n{\"eventName\": StopLogging}\n",
    )
    .expect("write");
    let r = run(&[
        "pattern",
        "test",
        STOP_LOGGING,
        "--events",
        lines.to_str().expect("utf-8"),
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr
            .starts_with(&format!("Error: {}:2:", lines.display())),
        "{}",
        r.stderr
    );
    // A CloudTrail file cut short in transfer.
    let mut cut = cloudtrail_file(&[("cloudtrail.amazonaws.com", "StopLogging")]);
    cut.truncate(cut.len() - 4);
    let gz = dir.path().join("cut.json.gz");
    std::fs::write(&gz, &cut).expect("write");
    let r = run(&[
        "pattern",
        "test",
        STOP_LOGGING,
        "--events",
        gz.to_str().expect("utf-8"),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("Error: ") && r.stderr.contains("cut.json.gz"),
        "{}",
        r.stderr
    );
    let r = run_in(
        dir.path(),
        &["pattern", "test", STOP_LOGGING, "--events", "-"],
        Some(b"[1, 2"),
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("Error: standard input:1:"),
        "{}",
        r.stderr
    );
    let r = run(&[
        "pattern",
        "test",
        STOP_LOGGING,
        "--events",
        "no/such.json.gz",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("Error: cannot read events from no/such.json.gz:"),
        "{}",
        r.stderr
    );
}

/// v1.2.0's 3.5 (CloudTrail configuration changes), a metric-filter control
/// there and not in v3.0.0, the default: which version `pattern check` used
/// shows in whether it knows the control.
const TRAIL_CHANGES: &str = "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }";

fn example(name: &str) -> String {
    format!("{}/examples/accounts/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// What version `plan`, `controls` and `pattern check` used, run in `dir`
/// with `extra` arguments (`--benchmark`, `--config`) after each.
fn versions_used(dir: &Path, extra: &[&str]) -> [String; 3] {
    let from = example("new-account.json");
    let plan: Vec<&str> = ["plan", "--json", "--from", &from]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    let r = run_in(dir, &plan, None);
    r.expect_code(0);
    let planned = r.json()["benchmark"].as_str().unwrap_or("?").to_string();
    let controls: Vec<&str> = ["controls", "--json"]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    let r = run_in(dir, &controls, None);
    r.expect_code(0);
    let listed = r.json()["benchmark"].as_str().unwrap_or("?").to_string();
    let check: Vec<&str> = ["pattern", "check", TRAIL_CHANGES, "--control", "3.5"]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    let r = run_in(dir, &check, None);
    let checked = if r.code == 0 && r.stdout.contains("3.5 (") && r.stdout.contains("covered") {
        "1.2.0".to_string()
    } else if r.stderr.contains("not a metric-filter control of v") {
        let at = r.stderr.find("control of v").unwrap_or(0) + "control of v".len();
        r.stderr[at..].split(':').next().unwrap_or("?").to_string()
    } else {
        format!("? {} {}", r.stdout, r.stderr)
    };
    [planned, listed, checked]
}

#[test]
fn every_command_takes_the_version_from_the_flag_else_the_config_else_the_default() {
    let dir = tempfile::tempdir().expect("tmp");
    let all = |v: &str| [v.to_string(), v.to_string(), v.to_string()];
    assert_eq!(versions_used(dir.path(), &[]), all("3.0.0"), "default");
    std::fs::write(dir.path().join("cis-fix.yaml"), "benchmark: 1.2.0\n").expect("write");
    assert_eq!(
        versions_used(dir.path(), &[]),
        all("1.2.0"),
        "./cis-fix.yaml"
    );
    assert_eq!(
        versions_used(dir.path(), &["--benchmark", "3.0.0"]),
        all("3.0.0"),
        "the flag wins"
    );
    let other = dir.path().join("other.yaml");
    std::fs::write(&other, "benchmark: \"6.0.0\"\n").expect("write");
    let other = other.to_str().expect("utf-8");
    assert_eq!(
        versions_used(dir.path(), &["--config", other]),
        all("6.0.0"),
        "--config"
    );
}

#[test]
fn version_spellings_are_the_same_for_flag_and_config_in_every_command() {
    let dir = tempfile::tempdir().expect("tmp");
    let from = example("new-account.json");
    for (given, version) in [("7.0.0", "7.0.0"), ("v7.0.0", "7.0.0"), ("v1.2.0", "1.2.0")] {
        let r = run_in(
            dir.path(),
            &["controls", "--json", "--benchmark", given],
            None,
        );
        r.expect_code(0);
        assert_eq!(r.json()["benchmark"], version, "{given}");
        assert!(r.stderr.is_empty(), "{given}: {}", r.stderr);
    }
    // 4.0.0 is the published 4.0.1, said once on stderr; stdout stays clean.
    let note = "Note: CIS v4.0.0 was published as v4.0.1; using v4.0.1\n";
    for args in [
        &["controls", "--json", "--benchmark", "4.0.0"][..],
        &["plan", "--json", "--benchmark", "v4.0.0", "--from", &from],
    ] {
        let r = run_in(dir.path(), args, None);
        r.expect_code(0);
        assert_eq!(r.json()["benchmark"], "4.0.1", "{args:?}");
        // First and once (the plan's own problems may follow).
        assert!(r.stderr.starts_with(note), "{args:?}: {}", r.stderr);
        assert_eq!(
            r.stderr.matches("Note:").count(),
            1,
            "{args:?}: {}",
            r.stderr
        );
    }
    // Short spellings are refused by every command, with the full one named.
    for (given, full) in [
        ("3", "3.0.0"),
        ("3.0", "3.0.0"),
        ("v3", "3.0.0"),
        ("4.0", "4.0.1"),
        ("5.0", "5.0.0"),
    ] {
        for args in [
            &["controls", "--benchmark", given][..],
            &["plan", "--benchmark", given, "--from", &from],
            &[
                "pattern",
                "check",
                TRAIL_CHANGES,
                "--control",
                "3.5",
                "--benchmark",
                given,
            ],
        ] {
            let r = run_in(dir.path(), args, None);
            assert_eq!(r.code, 1, "{args:?}");
            assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
            assert!(
                r.stderr.starts_with(&format!(
                    "Error: --benchmark: unknown benchmark version `{given}` (did you mean `{full}`?); available: 1.2.0, "
                )),
                "{args:?}: {}",
                r.stderr
            );
        }
    }
    // The same in cis-fix.yaml: an error naming the file and line, from
    // every command that reads it.
    let cfg = dir.path().join("cis-fix.yaml");
    std::fs::write(&cfg, "# team settings\nbenchmark: 4.0\n").expect("write");
    for args in [
        &["controls"][..],
        &["plan", "--from", &from],
        &["pattern", "check", TRAIL_CHANGES, "--control", "3.5"],
    ] {
        let r = run_in(dir.path(), args, None);
        assert_eq!(r.code, 1, "{args:?}");
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert!(
            r.stderr.starts_with(
                "Error: cis-fix.yaml:2: benchmark: unknown benchmark version `4.0` (did you mean `4.0.1`?); available: "
            ),
            "{args:?}: {}",
            r.stderr
        );
    }
    // A check that needs no benchmark does not read the config.
    let r = run_in(dir.path(), &["pattern", "check", TRAIL_CHANGES], None);
    r.expect_code(0);
    std::fs::write(&cfg, "benchmark: 4.0.0\n").expect("write");
    let r = run_in(dir.path(), &["controls", "--json"], None);
    r.expect_code(0);
    assert_eq!(r.json()["benchmark"], "4.0.1");
    assert_eq!(r.stderr, note);
}

#[test]
fn an_over_long_pattern_is_a_warning_on_stderr() {
    let long = format!(
        "{{ {} }}",
        (0..60)
            .map(|i| format!("($.eventName = Event{i:04})"))
            .collect::<Vec<_>>()
            .join(" || ")
    );
    assert!(long.len() > 1024);
    let r = run(&["pattern", "check", &long]);
    r.expect_code(0);
    assert!(r.stdout.starts_with("canonical: "), "{}", r.stdout);
    assert!(!r.stdout.contains("limit"), "{}", r.stdout);
    assert!(
        r.stderr.starts_with("Warning: ") && r.stderr.contains("over CloudWatch's 1024 limit"),
        "{}",
        r.stderr
    );
}

#[test]
fn controls_shows_one_line_of_reason_and_json_the_whole_note() {
    let r = run(&["controls", "--benchmark", "7.0.0"]);
    r.expect_code(0);
    let marks: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("unconfirmed:"))
        .collect();
    let json = run(&["controls", "--json", "--benchmark", "7.0.0"]);
    json.expect_code(0);
    let v = json.json();
    let notes: Vec<&str> = v["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .filter_map(|c| c["unconfirmed"].as_str())
        .collect();
    assert!(!notes.is_empty());
    assert_eq!(
        marks.len(),
        notes.len(),
        "one marker per unconfirmed control"
    );
    for (mark, note) in marks.iter().zip(&notes) {
        assert!(mark.len() <= 100, "{mark}");
        let reason = mark.trim_start().trim_start_matches("unconfirmed: ");
        let reason = reason.trim_end_matches('…');
        assert!(note.starts_with(reason), "{reason} / {note}");
        assert!(reason.len() < note.len(), "the note is shortened: {note}");
    }
    // The research detail after the first sentence is the JSON's alone.
    let detail = "rest on prowler cis_7.0 only (inspec_v700 tags every control level 1)";
    assert!(notes.iter().any(|n| n.contains(detail)));
    assert!(!r.stdout.contains(detail), "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!(
            "{} controls marked unconfirmed: `--json` has the full notes.",
            notes.len()
        )),
        "{}",
        r.stdout
    );
    // v1.2.0 has none: no marker, no closing line about them.
    let r = run(&["controls", "--benchmark", "1.2.0"]);
    r.expect_code(0);
    assert!(!r.stdout.contains("unconfirmed"), "{}", r.stdout);
}

#[test]
fn generated_output_ends_quietly_at_a_closed_pipe() {
    for args in [&["completions", "zsh"][..], &["man"][..]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cis-fix"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take()); // the reader goes away before a byte is read
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

#[test]
fn init_pins_a_version_in_the_spellings_every_command_takes() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("cis-fix.yaml");
    let init = |v: &str| {
        run_in(
            dir.path(),
            &[
                "init",
                "--force",
                "--email",
                "a@example.com",
                "--benchmark",
                v,
            ],
            None,
        )
    };
    let r = init("v4.0.0");
    r.expect_code(0);
    assert!(
        r.stderr
            .starts_with("Note: CIS v4.0.0 was published as v4.0.1; using v4.0.1\n"),
        "{}",
        r.stderr
    );
    let text = std::fs::read_to_string(&file).expect("written");
    assert!(text.contains("benchmark: 4.0.1"), "{text}");
    let r = init("4.0");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with(
            "Error: --benchmark: unknown benchmark version `4.0` (did you mean `4.0.1`?)"
        ),
        "{}",
        r.stderr
    );
}

/// A trail owned by another account (an organization trail, as a member
/// account sees it) is judged but never changed, and no trail is made
/// beside it. moto shows a member no other account's trail, so this runs
/// on a saved snapshot of such an account.
#[test]
fn an_organization_trail_of_another_account_is_never_modified() {
    let mut snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(example("compliant.json")).expect("example"))
            .expect("snapshot");
    for read in snap["reads"].as_array_mut().expect("reads") {
        if read["call"] == "cloudtrail:DescribeTrails" {
            let t = &mut read["result"]["ok"]["trails"][0];
            t["arn"] = "arn:aws:cloudtrail:us-east-1:999999999999:trail/org".into();
            t["name"] = "org".into();
            t["is_organization_trail"] = true.into();
            t["log_file_validation"] = false.into();
            t["log_group_arn"] = "arn:aws:logs:us-east-1:999999999999:log-group:org-logs:*".into();
        }
    }
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("member.json");
    std::fs::write(&path, snap.to_string()).expect("write");
    let p = super::json(&["plan", "--json", "--from", path.to_str().expect("utf-8")]);
    let changes = p["changes"].as_array().expect("changes");
    assert!(
        !changes.iter().any(|c| c["type"] == "aws_cloudtrail"
            || c["type"] == "aws_s3_bucket"
            || c["type"] == "aws_kms_key"),
        "{p:#}"
    );
    let control = |id: &str| {
        p["controls"]
            .as_array()
            .expect("controls")
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .expect("control")
    };
    // It records this account's events: the trail control holds.
    assert_eq!(control("3.1")["status"], "compliant", "{p:#}");
    // Its validation is the owner's to fix.
    let v = control("3.2");
    assert_eq!(v["status"], "blocked");
    assert_eq!(v["cause"]["kind"], "other_account");
    assert_eq!(v["cause"]["account"], "999999999999");
    // The chain lives where its log group is, in the owner account.
    assert!(
        crate::support::account::monitoring_statuses(&p)
            .iter()
            .all(|(_, s)| s == "blocked"),
        "{p:#}"
    );
}
