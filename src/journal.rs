//! The journal: every write call an apply makes, appended to a JSON-lines
//! file before it is made (`calling`, so a run killed mid-call still shows
//! what it may have done) and as it returns (`write`, with the change's
//! before and after, the call as sent and AWS's answer): enough to audit a
//! run and to undo it by hand. A line
//! opens and closes each run that wrote, so a run that wrote nothing
//! appends nothing. The schema is versioned and documented in
//! `docs/journal.md`.
//!
//! Each line is one `write` to a file opened with O_APPEND, and is synced
//! before the next call is made: two runs appending to one journal never
//! interleave within a line, and a line, once written, survives a crash.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::apply::{CallRecord, Outcome, Report};
use crate::format::FormatVersion;
use crate::jsonplan::attributes;
use crate::kinds::{Action, WriteCall};
use crate::observed::CallFailure;
use crate::plan::Change;
use crate::plan::Summary;

/// 1.0: `run_started`, `write`, `run_finished`; 1.1 adds `calling`, before each call.
pub const FORMAT_VERSION: FormatVersion = FormatVersion::new(1, 1);

/// The file name of the default journal, in cis-fix's state directory.
pub const DEFAULT_FILE: &str = "journal.jsonl";

/// The default journal: `journal.jsonl` in cis-fix's state directory.
pub fn default_path() -> PathBuf {
    crate::stamp::state_dir().join(DEFAULT_FILE)
}

#[derive(Debug, thiserror::Error)]
#[error("cannot {what} the journal {}: {source}", path.display())]
pub struct JournalError {
    what: &'static str,
    path: PathBuf,
    source: std::io::Error,
}

/// What every line of one run shares, and what its first line says.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub run_id: String,
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller_arn: Option<String>,
    pub benchmark: String,
    pub regions: Vec<String>,
    /// The lock the run holds, where it took one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_id: Option<String>,
}

/// An open journal for one run.
pub struct Journal {
    path: PathBuf,
    file: File,
    run: RunInfo,
    /// Whether `run_started` has been written (at the first write).
    started: bool,
    writes: usize,
}

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    format_version: FormatVersion,
    event: &'static str,
    time: String,
    run_id: &'a str,
    account: &'a str,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize)]
struct Started<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    caller_arn: Option<&'a str>,
    who: String,
    pid: u32,
    cis_fix_version: &'static str,
    benchmark: &'a str,
    regions: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    lock_id: Option<&'a str>,
}

#[derive(Serialize)]
struct CallingLine<'a> {
    region: &'a str,
    address: String,
    action: Action,
    call: &'static str,
    request: Value,
}

#[derive(Serialize)]
struct WriteLine<'a> {
    region: &'a str,
    address: String,
    action: Action,
    /// The IAM name of the call, e.g. `logs:PutMetricFilter`.
    call: &'static str,
    /// The call's parameters as sent (cis-fix's own form of the call).
    request: Value,
    before: Option<Value>,
    after: Option<Value>,
    result: CallResult<'a>,
}

#[derive(Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum CallResult<'a> {
    Ok {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a str>,
    },
    Error {
        error: &'a CallFailure,
    },
}

#[derive(Serialize)]
struct Finished {
    outcome: &'static str,
    write_calls: usize,
    summary: Summary,
    changes: Counts,
}

/// How the run's changes ended.
#[derive(Debug, Default, Serialize)]
struct Counts {
    done: usize,
    failed: usize,
    skipped: usize,
    not_started: usize,
}

impl Journal {
    /// Opens (creating it and its directory if needed) `path` for appending,
    /// writing nothing yet: a journal that cannot be opened stops the apply
    /// before its first write.
    pub fn open(path: &Path, run: RunInfo) -> Result<Journal, JournalError> {
        let err = |what, source| JournalError {
            what,
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err("create the directory of", e))?;
        }
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| err("open", e))?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            run,
            started: false,
            writes: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many write calls have been recorded.
    pub fn writes(&self) -> usize {
        self.writes
    }

    /// Appends the intent to make one write call, before it is made: a run
    /// killed while the call is in flight leaves this line, and the reader
    /// knows to check that resource.
    pub fn intend(&mut self, change: &Change, call: &WriteCall) -> Result<(), JournalError> {
        self.start()?;
        self.append(
            "calling",
            CallingLine {
                region: change.address.region(),
                address: change.address.to_string(),
                action: change.action,
                call: call.iam_action(),
                request: serde_json::to_value(call).unwrap_or(Value::Null),
            },
        )
    }

    /// The run's first line, once.
    fn start(&mut self) -> Result<(), JournalError> {
        if self.started {
            return Ok(());
        }
        let run = self.run.clone();
        self.append(
            "run_started",
            Started {
                caller_arn: run.caller_arn.as_deref(),
                who: crate::stamp::who(),
                pid: std::process::id(),
                cis_fix_version: env!("CARGO_PKG_VERSION"),
                benchmark: &run.benchmark,
                regions: &run.regions,
                lock_id: run.lock_id.as_deref(),
            },
        )?;
        self.started = true;
        Ok(())
    }

    /// Appends one write call as made (after the run's first line, if this
    /// is its first call).
    pub fn record(&mut self, rec: &CallRecord<'_>) -> Result<(), JournalError> {
        self.start()?;
        let c = rec.change;
        self.append(
            "write",
            WriteLine {
                region: c.address.region(),
                address: c.address.to_string(),
                action: c.action,
                call: rec.call.iam_action(),
                request: serde_json::to_value(rec.call).unwrap_or(Value::Null),
                before: c.before.as_ref().map(attributes),
                after: c.after.as_ref().map(attributes),
                result: match rec.result {
                    Ok(id) => CallResult::Ok { id },
                    Err(error) => CallResult::Error { error },
                },
            },
        )?;
        self.writes += 1;
        Ok(())
    }

    /// Closes the run with how it ended (`complete`, `failed`,
    /// `interrupted`); nothing when it wrote nothing.
    pub fn finish(&mut self, report: &Report, outcome: &'static str) -> Result<(), JournalError> {
        if !self.started {
            return Ok(());
        }
        let mut changes = Counts::default();
        for r in &report.results {
            match r.outcome {
                Outcome::Done { .. } => changes.done += 1,
                Outcome::Failed(_) => changes.failed += 1,
                Outcome::Skipped { .. } => changes.skipped += 1,
                Outcome::NotStarted { .. } => changes.not_started += 1,
            }
        }
        self.append(
            "run_finished",
            Finished {
                outcome,
                write_calls: self.writes,
                summary: report.summary(),
                changes,
            },
        )
    }

    fn append<T: Serialize>(&mut self, event: &'static str, body: T) -> Result<(), JournalError> {
        let line = Line {
            format_version: FORMAT_VERSION,
            event,
            time: crate::stamp::now(),
            run_id: &self.run.run_id,
            account: &self.run.account,
            body,
        };
        let mut text = serde_json::to_string(&line).map_err(|e| JournalError {
            what: "encode a line of",
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        text.push('\n');
        self.file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|source| JournalError {
                what: "append to",
                path: self.path.clone(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::{Address, Location};
    use crate::apply::ChangeResult;
    use crate::kinds::{Deferred, Resource, Topic, WriteCall};
    use crate::plan::Change;

    fn run() -> RunInfo {
        RunInfo {
            run_id: "r-1".into(),
            account: "111".into(),
            caller_arn: None,
            benchmark: "3.0.0".into(),
            regions: vec!["us-east-1".into()],
            lock_id: Some("l-1".into()),
        }
    }

    fn topic_change() -> Change {
        let at = Address::new(
            &Location::new(Some("111"), "us-east-1"),
            "aws_sns_topic",
            "alarms",
        );
        Change {
            address: at.clone(),
            action: Action::Create,
            controls: vec!["4.1".into()],
            reason: String::new(),
            before: None,
            after: Some(Resource::Topic(Topic {
                name: "t".into(),
                arn: Deferred::after_apply(&at, "arn"),
            })),
            depends_on: vec![],
        }
    }

    fn lines(p: &Path) -> Vec<Value> {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    #[test]
    fn a_run_that_wrote_nothing_appends_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("sub/journal.jsonl");
        let mut j = Journal::open(&p, run()).expect("open");
        j.finish(&Report::default(), "complete").expect("finish");
        assert!(lines(&p).is_empty());
    }

    #[test]
    fn each_call_is_a_line_between_start_and_finish_and_runs_append() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("journal.jsonl");
        std::fs::write(&p, "{\"earlier\":true}\n").expect("seed");
        let change = topic_change();
        let call = WriteCall::CreateTopic { name: "t".into() };
        let mut j = Journal::open(&p, run()).expect("open");
        j.intend(&change, &call).expect("intend");
        j.record(&CallRecord {
            change: &change,
            call: &call,
            result: Ok(Some("arn:aws:sns:us-east-1:111:t")),
        })
        .expect("record");
        let failure = CallFailure {
            call: "sns:Subscribe".into(),
            region: "us-east-1".into(),
            resource: None,
            code: Some("AccessDenied".into()),
            message: "no".into(),
            detail: None,
        };
        j.record(&CallRecord {
            change: &change,
            call: &call,
            result: Err(&failure),
        })
        .expect("record");
        let report = Report {
            results: vec![ChangeResult {
                address: change.address.clone(),
                action: Action::Create,
                outcome: Outcome::Failed(failure.clone()),
            }],
        };
        j.finish(&report, "failed").expect("finish");
        let ls = lines(&p);
        assert_eq!(ls.len(), 6, "{ls:#?}");
        assert_eq!(ls[0]["earlier"], true);
        let events: Vec<&str> = ls[1..].iter().filter_map(|l| l["event"].as_str()).collect();
        assert_eq!(
            events,
            ["run_started", "calling", "write", "write", "run_finished"]
        );
        assert!(ls[1..].iter().all(|l| l["run_id"] == "r-1"
            && l["account"] == "111"
            && l["format_version"] == "1.1"));
        assert_eq!(ls[1]["lock_id"], "l-1");
        // The intent carries the call as it will be sent.
        assert_eq!(ls[2]["call"], "sns:CreateTopic");
        assert_eq!(ls[2]["request"], ls[3]["request"]);
        let w = &ls[3];
        assert_eq!(w["call"], "sns:CreateTopic");
        assert_eq!(
            w["request"],
            serde_json::json!({"call": "create_topic", "name": "t"})
        );
        assert_eq!(w["before"], Value::Null);
        assert_eq!(
            w["after"]["arn"]["after_apply"],
            "111/us-east-1/aws_sns_topic.alarms.arn"
        );
        assert_eq!(
            w["result"],
            serde_json::json!({"status": "ok", "id": "arn:aws:sns:us-east-1:111:t"})
        );
        assert_eq!(ls[4]["result"]["status"], "error");
        assert_eq!(ls[4]["result"]["error"]["code"], "AccessDenied");
        assert_eq!(ls[5]["outcome"], "failed");
        assert_eq!(ls[5]["write_calls"], 2);
        assert_eq!(ls[5]["changes"]["failed"], 1);
    }

    #[test]
    fn a_journal_that_cannot_be_opened_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").expect("write");
        let err = Journal::open(&blocker.join("journal.jsonl"), run())
            .err()
            .expect("cannot open under a file")
            .to_string();
        assert!(err.contains("journal"), "{err}");
        assert!(err.contains(&blocker.display().to_string()), "{err}");
    }
}
