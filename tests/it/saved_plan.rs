//! Saved plans end to end: `plan -out FILE`, then `apply FILE` against a
//! moto server, applied exactly when nothing changed, refused ("saved plan
//! is stale") with nothing written when the account, its regions or the
//! config moved; and the file's own errors, offline.
//!
//! Another account in moto 5.2.5: the `testing` keys are always
//! 123456789012 (`moto/iam/models.py` `get_account_id_from` maps only keys
//! moto issued; a 12-digit access key id is not taken as an account id in
//! this version), but STS AssumeRole of a role ARN in another account
//! issues keys of that account (`moto/sts/models.py` `assume_role`: "The
//! ARN can point to another account"), and every service then serves that
//! account's (empty) backends.

use std::path::Path;

use crate::support::ACCOUNT_ID;
use crate::support::account::{Account, Run, trail_only};
use crate::support::faults::FaultProxy;
use crate::support::fixtures::{EMAIL_CONFIG, LOG_GROUP};

const BIN: &str = env!("CARGO_BIN_EXE_cis-fix");
const REGIONS: &str = "us-east-1,eu-west-1";
const FILE: &str = "plan.cisplan";
const OTHER_ACCOUNT: &str = "111122223333";

/// The writes `run` made through `proxy`, the permission check aside.
fn writes(proxy: &FaultProxy) -> Vec<String> {
    proxy
        .calls()
        .iter()
        .filter(|c| c.is_write() && c.name() != "iam:SimulatePrincipalPolicy")
        .map(|c| c.name())
        .collect()
}

fn through(proxy: &FaultProxy, acct: &Account, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = proxy.command(&acct.moto, BIN);
    cmd.envs(env.iter().copied());
    acct.run(cmd, args)
}

fn assert_nothing_built(acct: &Account) {
    assert!(acct.filters(LOG_GROUP).is_empty(), "filters were made");
    assert!(acct.alarms().is_empty(), "alarms were made");
    assert!(acct.topics().is_empty(), "a topic was made");
}

#[test]
fn a_fresh_saved_plan_is_applied_exactly_without_asking() {
    let (acct, cfg) = trail_only();
    let plan = acct.cis_fix(&["plan", "-out", FILE, "--config", &cfg, "--region", REGIONS]);
    plan.expect_code(0);
    assert!(
        plan.stdout
            .contains("Plan: 32 to add, 0 to change, 0 to destroy.")
            && plan.stdout.ends_with(&format!(
                "Saved the plan to: {FILE}\n\nTo apply exactly this plan: cis-fix apply {FILE}\n"
            )),
        "{}",
        plan.stdout
    );
    // `show` renders it exactly as `plan` printed it.
    let shown = acct.cis_fix(&["show", FILE]);
    shown.expect_code(0);
    assert!(plan.stdout.starts_with(&shown.stdout), "{}", shown.stdout);
    let planned: Vec<String> = acct.cis_fix(&["show", FILE, "--json"]).json()["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["address"].as_str().expect("address").to_string())
        .collect();
    assert_eq!(planned.len(), 32);

    // No prompt (stdin is not a terminal, no --auto-approve), and the
    // regions are the plan's own: the environment's region differs.
    let proxy = FaultProxy::start(&acct.moto);
    let apply = through(
        &proxy,
        &acct,
        &["apply", FILE],
        &[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
        ],
    );
    apply.expect_code(0);
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 32 added, 0 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    for address in &planned {
        assert!(
            apply
                .stdout
                .contains(&format!("{address}: Creation complete after ")),
            "{address} not made:\n{}",
            apply.stdout
        );
    }
    let mut made = writes(&proxy);
    made.sort();
    made.dedup_by(|a, b| a == b);
    assert_eq!(
        made,
        [
            "cloudwatch:PutMetricAlarm",
            "logs:PutMetricFilter",
            "sns:CreateTopic",
            "sns:Subscribe",
        ],
        "only the plan's calls"
    );
    assert_eq!(acct.filters(LOG_GROUP).len(), 15);
    assert_eq!(acct.alarms().len(), 15);

    // What remains: nothing.
    acct.cis_fix(&[
        "plan",
        "--detailed-exitcode",
        "--config",
        &cfg,
        "--region",
        REGIONS,
    ])
    .expect_code(0);
    // The plan is spent: what it rested on changed when it was applied.
    let again = acct.cis_fix(&["apply", FILE]);
    again.expect_code(1);
    assert!(
        again.stderr.contains("saved plan is stale"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_stale_saved_plan_is_refused_naming_the_change_and_nothing_is_written() {
    let (acct, cfg) = trail_only();
    acct.cis_fix(&["plan", "-out", FILE, "--config", &cfg, "--region", REGIONS])
        .expect_code(0);
    // Someone changes the account: a stricter password policy, and a
    // metric filter of their own on the trail's log group.
    acct.block_on(async {
        acct.iam
            .update_account_password_policy()
            .minimum_password_length(30)
            .password_reuse_prevention(24)
            .send()
            .await
            .expect("UpdateAccountPasswordPolicy");
    });
    acct.put_filter(
        LOG_GROUP,
        "their-filter",
        "{ $.eventName = ConsoleLogin }",
        "their-metric",
        "Theirs",
    );

    let proxy = FaultProxy::start(&acct.moto);
    let apply = through(&proxy, &acct, &["apply", FILE], &[]);
    apply.expect_code(1);
    let err = &apply.stderr;
    assert!(
        err.contains(&format!(
            "Error: saved plan is stale: {FILE} no longer matches what it was planned against, so it was not applied and nothing was changed."
        )),
        "{err}"
    );
    assert!(
        err.contains("  - iam:GetAccountPasswordPolicy in global: changed\n"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "  - logs:DescribeMetricFilters in us-east-1 on {LOG_GROUP}: changed\n"
        )),
        "{err}"
    );
    assert_eq!(err.matches("\n  - ").count(), 2, "only what changed: {err}");
    assert!(!err.contains("Debug"), "{err}");
    assert_eq!(writes(&proxy), Vec::<String>::new());
    assert!(apply.stdout.is_empty(), "{}", apply.stdout);
    assert_eq!(acct.filters(LOG_GROUP).len(), 1, "only theirs");
    assert!(acct.alarms().is_empty() && acct.topics().is_empty());
}

#[test]
fn a_plan_for_another_account_or_home_region_or_config_is_refused() {
    let acct = Account::with_trail();
    // No --region: the home region is the environment's (us-east-1), the
    // planned regions the config's.
    let cfg = acct.config(&format!("{EMAIL_CONFIG}regions: [us-east-1, eu-west-1]\n"));
    acct.cis_fix(&["plan", "-out=plan.cisplan"]).expect_code(0);
    let proxy = FaultProxy::start(&acct.moto);

    // Another account: keys of 111122223333, issued by moto's STS.
    let sts = acct.clients_in("us-east-1").sts;
    let creds = acct.block_on(async {
        sts.assume_role()
            .role_arn(format!("arn:aws:iam::{OTHER_ACCOUNT}:role/deployer"))
            .role_session_name("other")
            .send()
            .await
            .expect("AssumeRole")
            .credentials
            .expect("credentials")
    });
    let other = through(
        &proxy,
        &acct,
        &["apply", FILE],
        &[
            ("AWS_ACCESS_KEY_ID", creds.access_key_id()),
            ("AWS_SECRET_ACCESS_KEY", creds.secret_access_key()),
            ("AWS_SESSION_TOKEN", creds.session_token()),
        ],
    );
    other.expect_code(1);
    assert!(
        other.stderr.contains("saved plan is stale")
            && other.stderr.contains(&format!(
                "  - account: planned for {ACCOUNT_ID}, now {OTHER_ACCOUNT}\n"
            )),
        "{}",
        other.stderr
    );
    // The other account's reads are not listed one by one.
    assert_eq!(
        other.stderr.matches("\n  - ").count(),
        1,
        "{}",
        other.stderr
    );

    // Another home region, from the environment.
    let moved = through(
        &proxy,
        &acct,
        &["apply", FILE],
        &[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
        ],
    );
    moved.expect_code(1);
    assert!(
        moved.stderr.contains("saved plan is stale")
            && moved
                .stderr
                .contains("  - home region: planned for us-east-1, now eu-west-1"),
        "{}",
        moved.stderr
    );

    // Another region set, through the config.
    std::fs::write(&cfg, format!("{EMAIL_CONFIG}regions: [us-east-1]\n")).expect("write config");
    let narrowed = through(&proxy, &acct, &["apply", FILE], &[]);
    narrowed.expect_code(1);
    assert!(
        narrowed.stderr.contains("saved plan is stale")
            && narrowed
                .stderr
                .contains("  - config: planned for cis-fix.yaml (sha256:"),
        "{}",
        narrowed.stderr
    );
    assert_eq!(writes(&proxy), Vec::<String>::new());
    assert_nothing_built(&acct);
}

/// A saved plan of an example account, offline, in `dir`.
fn saved_offline(dir: &Path) -> Run {
    let snapshot = format!(
        "{}/examples/accounts/partly-compliant.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::write(dir.join("cis-fix.yaml"), EMAIL_CONFIG).expect("config");
    let out = std::process::Command::new(BIN)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(["plan", "--from", &snapshot, "-out", FILE, "--json"])
        .output()
        .expect("run");
    Run::from(out)
}

fn offline(dir: &Path, args: &[&str]) -> Run {
    let out = std::process::Command::new(BIN)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("run");
    Run::from(out)
}

#[test]
fn saving_with_json_keeps_stdout_json_and_show_renders_every_format() {
    let dir = tempfile::tempdir().expect("dir");
    let run = saved_offline(dir.path());
    run.expect_code(0);
    let plan = run.json();
    assert!(
        run.stderr.contains(&format!("Saved the plan to: {FILE}")),
        "{}",
        run.stderr
    );
    let json = offline(dir.path(), &["show", FILE, "--format", "json"]);
    assert_eq!(json.expect_code(0).json(), plan);
    let md = offline(dir.path(), &["show", FILE, "--format", "markdown"]);
    md.expect_code(0);
    assert!(md.stdout.starts_with("### cis-fix plan\n"), "{}", md.stdout);
    assert!(!md.stdout.contains('\x1b'));
    // A JSON plan renders the same Markdown.
    std::fs::write(dir.path().join("plan.json"), &run.stdout).expect("write");
    let from_json = offline(dir.path(), &["show", "plan.json", "--format", "markdown"]);
    assert_eq!(from_json.stdout, md.stdout);
    let both = offline(dir.path(), &["show", FILE, "--json", "--format", "human"]);
    both.expect_code(1);
}

#[test]
fn a_damaged_file_another_version_or_kind_and_changing_flags_are_clear_errors() {
    let dir = tempfile::tempdir().expect("dir");
    saved_offline(dir.path()).expect_code(0);
    let path = dir.path().join(FILE);
    let text = std::fs::read_to_string(&path).expect("read");

    // Someone redirects the alarms of a reviewed plan.
    let edited = text.replace("secops@example.com", "attacker@example.com");
    assert_ne!(edited, text);
    std::fs::write(dir.path().join("edited.cisplan"), &edited).expect("write");
    for cmd in ["show", "apply"] {
        let run = offline(dir.path(), &[cmd, "edited.cisplan"]);
        run.expect_code(1);
        assert!(
            run.stderr
                .starts_with("Error: edited.cisplan: the saved plan does not match its checksum"),
            "{cmd}: {}",
            run.stderr
        );
    }

    let newer = text.replacen(
        "\"format_version\": \"1.0\"",
        "\"format_version\": \"9.0\"",
        1,
    );
    std::fs::write(dir.path().join("newer.cisplan"), newer).expect("write");
    let run = offline(dir.path(), &["apply", "newer.cisplan"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(
            "newer.cisplan: saved plan format_version 9.0 is not supported (this cis-fix reads 1.0)"
        ),
        "{}",
        run.stderr
    );

    let json_plan = offline(dir.path(), &["show", FILE, "--json"]);
    std::fs::write(dir.path().join("plan.json"), &json_plan.stdout).expect("write");
    let run = offline(dir.path(), &["apply", "plan.json"]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("this is a JSON plan (from `cis-fix plan --json`), which cannot be applied"),
        "{}",
        run.stderr
    );

    for flags in [
        &["--region", "eu-west-1"][..],
        &["--allow-destructive"],
        &["--benchmark", "6.0.0"],
        &["--config", "cis-fix.yaml"],
    ] {
        let run = offline(dir.path(), &[&["apply", FILE][..], flags].concat());
        run.expect_code(1);
        assert!(
            run.stderr.starts_with(&format!(
                "Error: {} cannot be used with a saved plan",
                flags[0]
            )),
            "{flags:?}: {}",
            run.stderr
        );
    }
}
