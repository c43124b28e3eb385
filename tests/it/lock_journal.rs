//! One apply at a time, and a record of every write: the account's lock
//! (a file here, or an S3 object shared by several machines), released
//! however an apply ends; `force-unlock`; the journal of write calls; and
//! `apply --json`'s report. Against moto, through the fault proxy, which
//! counts the calls that reach AWS and sends the signals.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::support::account::{Account, Run, statuses, trail_only, via};
use crate::support::faults::{FaultProxy, Signal};
use crate::support::fixtures::EMAIL_CONFIG;
use crate::support::{ACCOUNT_ID, wait_until};

/// The plan of [`trail_only`]: 15 filters, 15 alarms, a topic, a
/// subscription, one call each.
const WRITES: usize = 32;

/// The lock another run holds, as `cis-fix` writes one.
fn foreign_lock(id: &str) -> String {
    serde_json::json!({
        "id": id,
        "who": "ops@build-host",
        "pid": 4242,
        "since": "2026-01-02T03:04:05Z",
        "operation": "apply",
        "version": "0.1.0",
        "account": ACCOUNT_ID,
    })
    .to_string()
}

const OTHER_ID: &str = "5f0c6a1e-2b7d-4c1a-9e0f-3a2b1c0d9e8f";

/// [`trail_only`] with the lock and journal in its own directory, named
/// relative to the config file (which is how they are found).
fn local_setup() -> (Account, String, PathBuf, PathBuf) {
    let (acct, _) = trail_only();
    let cfg = acct
        .config(&format!(
            "{EMAIL_CONFIG}lock:\n  local:\n    dir: locks\njournal: audit/journal.jsonl\n"
        ))
        .to_string_lossy()
        .into_owned();
    let lock = acct.dir().join("locks").join(format!("{ACCOUNT_ID}.lock"));
    let journal = acct.dir().join("audit").join("journal.jsonl");
    (acct, cfg, lock, journal)
}

fn journal_lines(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn writes(proxy: &FaultProxy) -> Vec<String> {
    proxy
        .calls()
        .iter()
        .filter(|c| c.is_write())
        .map(|c| c.name())
        .collect()
}

#[test]
fn a_held_lock_refuses_the_second_apply_which_writes_nothing_until_force_unlocked() {
    let (acct, cfg, lock, journal) = local_setup();
    std::fs::create_dir_all(lock.parent().expect("dir")).expect("mkdir");
    std::fs::write(&lock, foreign_lock(OTHER_ID)).expect("lock");
    let proxy = FaultProxy::start(&acct.moto);

    let refused = via(
        &proxy,
        &acct,
        &["apply", "--auto-approve", "--config", &cfg],
    );
    refused.expect_code(1);
    for says in [
        "locked by another run",
        "held by ops@build-host (pid 4242)",
        "since 2026-01-02T03:04:05Z",
        OTHER_ID,
        "Nothing was changed",
        &format!("cis-fix force-unlock {OTHER_ID}"),
        &lock.display().to_string(),
    ] {
        assert!(refused.stderr.contains(says), "{says}: {}", refused.stderr);
    }
    assert!(refused.stderr.starts_with("Error: ") || refused.stderr.contains("\nError: "));
    assert_eq!(writes(&proxy), Vec::<String>::new(), "no write reached AWS");
    assert!(journal_lines(&journal).is_empty(), "nothing journalled");
    assert_eq!(
        std::fs::read_to_string(&lock).expect("lock"),
        foreign_lock(OTHER_ID),
        "the holder's lock is untouched"
    );

    // force-unlock removes it only given its ID, and only when confirmed.
    let wrong = acct.cis_fix(&["force-unlock", "not-the-id", "--force", "--config", &cfg]);
    wrong.expect_code(1);
    assert!(
        wrong.stderr.contains("no lock has ID not-the-id"),
        "{}",
        wrong.stderr
    );
    assert!(
        wrong.stderr.contains(OTHER_ID),
        "lists the locks: {}",
        wrong.stderr
    );
    let unconfirmed = acct.cis_fix(&["force-unlock", OTHER_ID, "--config", &cfg]);
    unconfirmed.expect_code(1);
    assert!(
        unconfirmed.stderr.contains("pass --force"),
        "{}",
        unconfirmed.stderr
    );
    assert!(lock.exists());
    let unlocked = acct.cis_fix(&["force-unlock", OTHER_ID, "--force", "--config", &cfg]);
    unlocked.expect_code(0);
    assert!(
        unlocked.stdout.contains("successfully unlocked"),
        "{}",
        unlocked.stdout
    );
    assert!(
        unlocked.stderr.contains("ops@build-host"),
        "shows what it removes: {}",
        unlocked.stderr
    );
    assert!(!lock.exists());

    let applied = via(
        &proxy,
        &acct,
        &["apply", "--auto-approve", "--config", &cfg],
    );
    applied.expect_code(0);
    assert_eq!(writes(&proxy).len(), WRITES);
    assert!(!lock.exists(), "released at the end");
}

#[test]
fn sigterm_mid_apply_stops_and_releases_the_lock() {
    let (acct, cfg, lock, journal) = local_setup();
    let proxy = FaultProxy::start(&acct.moto);
    proxy.signal_after_writes(3, Signal::Term);
    // The signalled write's answer is held a moment: the lock is looked at
    // while the run certainly holds it.
    proxy.hold_after_signal(Duration::from_secs(2));
    let child = proxy
        .command(&acct.moto, env!("CARGO_BIN_EXE_cis-fix"))
        .current_dir(acct.dir())
        .args(["apply", "--auto-approve", "--config", &cfg])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cis-fix");
    proxy.set_target(child.id());
    wait_until("the lock to be taken", || lock.exists());
    let held: Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).expect("lock")).expect("lock JSON");
    assert_eq!(held["account"], ACCOUNT_ID);
    assert_eq!(held["operation"], "apply");
    let run = Run::from(child.wait_with_output().expect("wait"));
    run.expect_code(143);
    assert!(run.stderr.contains("Apply interrupted."), "{}", run.stderr);
    assert!(!lock.exists(), "released on interrupt");
    assert_eq!(writes(&proxy).len(), 3);

    // The journal has the three calls made, and how the run ended.
    let lines = journal_lines(&journal);
    let events: Vec<&str> = lines.iter().filter_map(|l| l["event"].as_str()).collect();
    // Each call announced before it is made, then recorded as made.
    assert_eq!(
        events,
        [
            "run_started",
            "calling",
            "write",
            "calling",
            "write",
            "calling",
            "write",
            "run_finished"
        ]
    );
    assert_eq!(lines[0]["lock_id"], held["id"]);
    assert_eq!(lines[7]["outcome"], "interrupted");
    assert_eq!(lines[7]["changes"]["done"], 3);

    // A crash (SIGKILL) leaves the lock: the next apply refuses until it is
    // force-unlocked by its ID.
    let proxy = FaultProxy::start(&acct.moto);
    proxy.signal_after_writes(1, Signal::Kill);
    let child = proxy
        .command(&acct.moto, env!("CARGO_BIN_EXE_cis-fix"))
        .current_dir(acct.dir())
        .args(["apply", "--auto-approve", "--config", &cfg])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn cis-fix");
    proxy.set_target(child.id());
    let status = child.wait_with_output().expect("wait").status;
    assert_eq!(status.code(), None, "killed");
    let left: Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).expect("left behind")).expect("JSON");
    let id = left["id"].as_str().expect("id").to_string();
    let refused = acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg]);
    refused.expect_code(1);
    assert!(refused.stderr.contains(&id), "{}", refused.stderr);
    // The dead process is noticed on this machine.
    assert!(
        refused.stderr.contains("is not running on this machine"),
        "{}",
        refused.stderr
    );
    acct.cis_fix(&["force-unlock", "wrong", "--force", "--config", &cfg])
        .expect_code(1);
    assert!(lock.exists());
    acct.cis_fix(&["force-unlock", &id, "--force", "--config", &cfg])
        .expect_code(0);
    assert!(!lock.exists());
    acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg])
        .expect_code(0);
}

#[test]
fn the_journal_records_every_write_call_and_a_no_op_apply_appends_nothing() {
    let (acct, cfg, lock, journal) = local_setup();
    let proxy = FaultProxy::start(&acct.moto);
    let run = via(
        &proxy,
        &acct,
        &["apply", "--auto-approve", "--json", "--config", &cfg],
    );
    run.expect_code(0);
    assert!(!lock.exists());

    let lines = journal_lines(&journal);
    // Per call a `calling` line before it and a `write` line after.
    assert_eq!(lines.len(), 2 * WRITES + 2, "{lines:#?}");
    assert_eq!(lines[0]["event"], "run_started");
    assert_eq!(lines[2 * WRITES + 1]["event"], "run_finished");
    assert_eq!(lines[2 * WRITES + 1]["outcome"], "complete");
    assert_eq!(lines[2 * WRITES + 1]["write_calls"], WRITES);
    for pair in lines[1..=2 * WRITES].chunks(2) {
        assert_eq!(pair[0]["event"], "calling", "{pair:#?}");
        assert_eq!(pair[1]["event"], "write", "{pair:#?}");
        assert_eq!(pair[0]["call"], pair[1]["call"]);
        assert_eq!(pair[0]["address"], pair[1]["address"]);
        assert_eq!(pair[0]["request"], pair[1]["request"]);
    }
    let run_id = lines[0]["run_id"].clone();
    for l in &lines {
        assert_eq!(l["format_version"], "1.1");
        assert_eq!(l["run_id"], run_id);
        assert_eq!(l["account"], ACCOUNT_ID);
        assert!(l["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{l}");
    }
    let calls: Vec<&Value> = lines.iter().filter(|l| l["event"] == "write").collect();
    // One line per call that reached AWS, the same calls.
    let mut journalled: Vec<String> = calls
        .iter()
        .map(|l| l["call"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut made = writes(&proxy);
    journalled.sort();
    made.sort();
    assert_eq!(journalled, made);
    for l in &calls {
        assert_eq!(l["event"], "write");
        assert_eq!(l["region"], "us-east-1");
        assert_eq!(l["action"], "create");
        assert!(
            l["address"]
                .as_str()
                .is_some_and(|a| a.starts_with(ACCOUNT_ID))
        );
        assert!(
            l.get("before").is_some_and(Value::is_null),
            "a create has no before: {l}"
        );
        assert!(l["after"].is_object(), "{l}");
        assert!(l["request"]["call"].is_string(), "{l}");
        assert_eq!(l["result"]["status"], "ok", "{l}");
    }
    // What AWS returned is there: the topic's ARN, to undo it by hand.
    let topic = calls
        .iter()
        .find(|l| l["call"] == "sns:CreateTopic")
        .expect("CreateTopic line");
    assert!(
        topic["result"]["id"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:sns:us-east-1:")),
        "{topic}"
    );
    // The subscription's call names the topic made by the earlier call.
    let sub = calls
        .iter()
        .find(|l| l["call"] == "sns:Subscribe")
        .expect("Subscribe line");
    assert_eq!(sub["request"]["topic_arn"], topic["result"]["id"]);

    // The report: on stdout alone, what drifted, what was fixed.
    let report = run.json();
    assert_eq!(report["format_version"], "1.0");
    assert_eq!(report["exit_reason"], "complete");
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["run_id"], run_id);
    assert_eq!(
        report["drifted"]["changes"].as_array().map(Vec::len),
        Some(WRITES)
    );
    assert!(
        !report["drifted"]["controls"]
            .as_array()
            .expect("drifted controls")
            .is_empty()
    );
    assert_eq!(report["fixed"].as_array().map(Vec::len), Some(WRITES));
    for empty in ["failed", "skipped", "not_started"] {
        assert_eq!(report[empty], Value::Array(vec![]), "{empty}");
    }
    // An email subscription waits for its confirmation after the run,
    // every other control holds.
    assert!(
        statuses(&report)
            .iter()
            .all(|(_, s)| s == "compliant" || s == "pending-confirmation"),
        "{report:#}"
    );
    assert_eq!(report["journal"], journal.display().to_string());
    assert!(
        run.stderr.contains("Apply complete!"),
        "progress on stderr: {}",
        run.stderr
    );

    // Nothing to do: nothing journalled, no lock, the report says so.
    let before = std::fs::read(&journal).expect("journal");
    let again = acct.cis_fix(&["apply", "--auto-approve", "--json", "--config", &cfg]);
    again.expect_code(0);
    assert_eq!(std::fs::read(&journal).expect("journal"), before);
    let report = again.json();
    assert_eq!(report["exit_reason"], "no_changes");
    assert_eq!(report["fixed"], Value::Array(vec![]));
    assert!(report.get("journal").is_none());
    assert!(!lock.exists());
}

#[test]
fn a_failed_write_is_journalled_with_its_error_and_reported() {
    let (acct, cfg, lock, journal) = local_setup();
    let proxy = FaultProxy::start(&acct.moto);
    proxy.fail_operation("sns:Subscribe");
    let run = via(
        &proxy,
        &acct,
        &["apply", "--auto-approve", "--json", "--config", &cfg],
    );
    run.expect_code(1);
    assert!(!lock.exists(), "released after a failure");
    let lines = journal_lines(&journal);
    let failed: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "write" && l["result"]["status"] == "error")
        .collect();
    assert_eq!(failed.len(), 1, "{lines:#?}");
    assert_eq!(failed[0]["call"], "sns:Subscribe");
    assert_eq!(failed[0]["result"]["error"]["call"], "sns:Subscribe");
    assert_eq!(
        lines.last().map(|l| l["outcome"].clone()),
        Some("failed".into())
    );
    let report = run.json();
    assert_eq!(report["exit_reason"], "incomplete");
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["failed"][0]["error"]["call"], "sns:Subscribe");
    assert_eq!(report["fixed"].as_array().map(Vec::len), Some(WRITES - 1));
}

#[test]
fn apply_json_without_auto_approve_or_a_terminal_refuses() {
    let (acct, cfg, lock, journal) = local_setup();
    let proxy = FaultProxy::start(&acct.moto);
    let run = via(&proxy, &acct, &["apply", "--json", "--config", &cfg]);
    run.expect_code(1);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("--auto-approve"), "{}", run.stderr);
    assert!(proxy.calls().is_empty(), "refused before any call");
    assert!(!lock.exists() && !journal.exists());
}

#[test]
fn a_journal_that_cannot_be_opened_stops_apply_before_any_write() {
    let (acct, _) = trail_only();
    std::fs::write(acct.dir().join("blocker"), "").expect("file");
    let cfg = acct
        .config(&format!(
            "{EMAIL_CONFIG}lock:\n  local:\n    dir: locks\njournal: blocker/journal.jsonl\n"
        ))
        .to_string_lossy()
        .into_owned();
    let proxy = FaultProxy::start(&acct.moto);
    let run = via(
        &proxy,
        &acct,
        &["apply", "--auto-approve", "--config", &cfg],
    );
    run.expect_code(1);
    assert!(run.stderr.contains("journal"), "{}", run.stderr);
    assert!(run.stderr.contains("blocker"), "{}", run.stderr);
    assert!(run.stderr.contains("Nothing was changed"), "{}", run.stderr);
    assert_eq!(writes(&proxy), Vec::<String>::new());
    assert!(
        !acct
            .dir()
            .join("locks")
            .join(format!("{ACCOUNT_ID}.lock"))
            .exists()
    );
}

/// The shared lock: an S3 object created with `If-None-Match: *`. moto
/// 5.2.5 honours that condition as S3 does (`moto/s3/responses.py`
/// `put_object` answers 412 PreconditionFailed when the key exists) and
/// `If-Match` on DeleteObject (412 on another ETag), so the refusal below
/// is S3's own, not a read-then-write.
#[test]
fn the_s3_lock_refuses_while_held_and_is_released_after_apply() {
    const BUCKET: &str = "cis-fix-state";
    let (acct, _) = trail_only();
    acct.moto.create_s3_bucket(BUCKET);
    let cfg = acct
        .config(&format!(
            "{EMAIL_CONFIG}lock:\n  s3:\n    bucket: {BUCKET}\n    key_prefix: locks/\n"
        ))
        .to_string_lossy()
        .into_owned();
    let key = format!("locks/{ACCOUNT_ID}.lock");
    let object = |acct: &Account| {
        acct.block_on(async {
            match acct.s3.get_object().bucket(BUCKET).key(&key).send().await {
                Ok(o) => Some(
                    String::from_utf8(o.body.collect().await.expect("body").into_bytes().to_vec())
                        .expect("utf-8"),
                ),
                Err(_) => None,
            }
        })
    };
    acct.block_on(async {
        acct.s3
            .put_object()
            .bucket(BUCKET)
            .key(&key)
            .body(foreign_lock(OTHER_ID).into_bytes().into())
            .send()
            .await
            .expect("PutObject");
    });

    let proxy = FaultProxy::start(&acct.moto);
    let refused = via(
        &proxy,
        &acct,
        &["apply", "--auto-approve", "--config", &cfg],
    );
    refused.expect_code(1);
    for says in [
        "held by ops@build-host",
        "since 2026-01-02T03:04:05Z",
        OTHER_ID,
        &format!("s3://{BUCKET}/{key}"),
        "Nothing was changed",
    ] {
        assert!(refused.stderr.contains(says), "{says}: {}", refused.stderr);
    }
    // The only write was the refused conditional create of the lock.
    assert_eq!(writes(&proxy), ["s3:PutObject"]);
    assert_eq!(
        object(&acct),
        Some(foreign_lock(OTHER_ID)),
        "not overwritten"
    );

    let wrong = acct.cis_fix(&["force-unlock", "not-the-id", "--force", "--config", &cfg]);
    wrong.expect_code(1);
    assert!(wrong.stderr.contains("has another ID"), "{}", wrong.stderr);
    assert!(object(&acct).is_some());
    acct.cis_fix(&["force-unlock", OTHER_ID, "--force", "--config", &cfg])
        .expect_code(0);
    assert_eq!(object(&acct), None);

    let proxy = FaultProxy::start(&acct.moto);
    via(
        &proxy,
        &acct,
        &["apply", "--auto-approve", "--config", &cfg],
    )
    .expect_code(0);
    let made = writes(&proxy);
    assert_eq!(
        made.first().map(String::as_str),
        Some("s3:PutObject"),
        "locked first"
    );
    assert_eq!(
        made.last().map(String::as_str),
        Some("s3:DeleteObject"),
        "released last"
    );
    assert_eq!(made.len(), WRITES + 2);
    assert_eq!(object(&acct), None, "released");
}

/// Two applies at once, for real: the first is held in the middle of its
/// writes (the proxy keeps one write's answer for a while: its "signal"
/// goes to a bystander process, so the apply itself runs on), and the
/// second, started meanwhile, refuses naming the first's pid and writes
/// nothing. The first then finishes normally and releases the lock.
#[test]
fn two_applies_at_once_the_second_refuses_and_the_first_finishes() {
    let (acct, cfg, lock, journal) = local_setup();
    let first_proxy = FaultProxy::start(&acct.moto);
    let mut bystander = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("spawn sleep");
    first_proxy.set_target(bystander.id());
    first_proxy.signal_after_writes(2, Signal::Term);
    first_proxy.hold_after_signal(Duration::from_secs(10));
    let first = first_proxy
        .command(&acct.moto, env!("CARGO_BIN_EXE_cis-fix"))
        .current_dir(acct.dir())
        .args(["apply", "--auto-approve", "--config", &cfg])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the first apply");
    wait_until("the first apply's second write", || {
        first_proxy
            .calls()
            .iter()
            .any(|c| c.faulted.as_deref() == Some("signal:TERM"))
    });

    let second_proxy = FaultProxy::start(&acct.moto);
    let second = via(
        &second_proxy,
        &acct,
        &["apply", "--auto-approve", "--config", &cfg],
    );
    second.expect_code(1);
    assert!(
        second.stderr.contains(&format!("(pid {})", first.id())),
        "names the first run: {}",
        second.stderr
    );
    assert!(
        second.stderr.contains("Nothing was changed"),
        "{}",
        second.stderr
    );
    assert_eq!(writes(&second_proxy), Vec::<String>::new());

    let first = Run::from(first.wait_with_output().expect("wait"));
    first.expect_code(0);
    let _ = bystander.kill();
    let _ = bystander.wait();
    assert!(!lock.exists());
    assert_eq!(writes(&first_proxy).len(), WRITES);
    let lines = journal_lines(&journal);
    assert_eq!(lines.len(), WRITES + 2, "only the first run's lines");
}
