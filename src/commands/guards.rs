//! What surrounds an apply, whichever way the plan came: the account's
//! lock ([`lock`], taken before the account is read, given back by the
//! run however it ends) and the journal every write call is appended to
//! ([`Guards::open`] before the engine, [`Guards::finish`] after it).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Result, anyhow};

use super::out::errln;
use cis_fix::apply::{CallRecord, Report};
use cis_fix::aws::Aws;
use cis_fix::config::Config;
use cis_fix::journal::{self, Journal, JournalError, RunInfo};
use cis_fix::kinds::WriteCall;
use cis_fix::lock::{Backend, Held, LockError, LockInfo, Released};
use cis_fix::plan::{Change, Plan};
use cis_fix::render::Style;

/// Where the lock and the journal are, from the config `target` names.
pub struct Places {
    pub lock: Backend,
    pub journal: PathBuf,
}

impl Places {
    /// From cis-fix.yaml (`--config`, else ./cis-fix.yaml, else defaults);
    /// relative paths there are taken from the file's directory, so a
    /// schedule finds the same files from any working directory.
    pub fn from_config(config: Option<&Path>, home_region: &str) -> Result<Places> {
        let (config, path) = Config::discover(config)?;
        let base = path
            .as_deref()
            .and_then(Path::parent)
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(Places {
            lock: Backend::from_config(&config.lock, &base, home_region),
            journal: config
                .journal
                .as_deref()
                .map(|j| base.join(j))
                .unwrap_or_else(journal::default_path),
        })
    }
}

/// Takes `account`'s lock for the run `run_id`; a held lock is refused in
/// the words the user needs.
pub async fn lock(places: &Places, aws: &Aws, account: &str, run_id: &str) -> Result<Held> {
    let mut info = LockInfo::new(account, "apply");
    info.id = run_id.to_string();
    places.lock.acquire(aws, info).await.map_err(refusal)
}

/// The open journal of a run that holds its account's lock.
pub struct Guards {
    journal: Journal,
    /// The first journal write that failed: the run then starts no more
    /// calls, since they could not be accounted for.
    journal_failed: Option<JournalError>,
}

impl Guards {
    /// Opens the journal for a run holding `lock`: failing stops the apply
    /// before any write. `run_id` names the run in the journal and the
    /// JSON report.
    pub fn open(places: &Places, plan: &Plan, run_id: &str, lock: Arc<Held>) -> Result<Guards> {
        let journal = Journal::open(
            &places.journal,
            RunInfo {
                run_id: run_id.to_string(),
                account: lock.info().account.clone(),
                caller_arn: plan.caller_arn.clone(),
                benchmark: plan.benchmark.clone(),
                regions: plan.regions.clone(),
                lock_id: Some(lock.info().id.clone()),
            },
        )
        .map_err(|e| anyhow!("{e}. Nothing was changed; set `journal:` in cis-fix.yaml to a file cis-fix can write."))?;
        Ok(Guards {
            journal,
            journal_failed: None,
        })
    }

    /// Records that a write call is about to be made; if the journal
    /// cannot be written, says so and sets `stop`, so the engine makes no
    /// further call.
    pub fn on_calling(&mut self, change: &Change, call: &WriteCall, stop: &AtomicBool, e: Style) {
        if self.journal_failed.is_some() {
            return;
        }
        if let Err(err) = self.journal.intend(change, call) {
            errln!(
                "{} {err}; making no more writes, since they could not be accounted for.",
                e.red(&e.bold("Error:"))
            );
            stop.store(true, Ordering::SeqCst);
            self.journal_failed = Some(err);
        }
    }

    /// Records one write call; if the journal cannot be written, says so
    /// and sets `stop`, so the engine starts no more writes.
    pub fn on_call(&mut self, rec: &CallRecord<'_>, stop: &AtomicBool, e: Style) {
        if self.journal_failed.is_some() {
            return;
        }
        if let Err(err) = self.journal.record(rec) {
            errln!(
                "{} {err}; starting no more writes, since they could not be accounted for.",
                e.red(&e.bold("Error:"))
            );
            stop.store(true, Ordering::SeqCst);
            self.journal_failed = Some(err);
        }
    }

    /// The journal's path, if this run wrote to it.
    pub fn journal_used(&self) -> Option<String> {
        (self.journal.writes() > 0).then(|| self.journal.path().display().to_string())
    }

    /// Closes the run in the journal; whether any journal write failed.
    pub fn finish(mut self, report: &Report, outcome: &'static str, e: Style) -> bool {
        if self.journal_failed.is_none()
            && let Err(err) = self.journal.finish(report, outcome)
        {
            errln!("{} {err}", e.red(&e.bold("Error:")));
            self.journal_failed = Some(err);
        }
        self.journal_failed.is_some()
    }
}

/// Gives `lock` back, saying so when it was no longer this run's.
pub async fn release(lock: &Held, e: Style) -> Result<()> {
    match lock.release().await {
        Ok(Released::Released | Released::Already) => Ok(()),
        Ok(Released::NotOurs(other)) => {
            errln!(
                "{} the lock at {} was no longer this run's{}; it was left as it is.",
                e.yellow(&e.bold("Warning:")),
                lock.location(),
                other
                    .map(|o| format!(" (it is now {})", o.describe()))
                    .unwrap_or_default()
            );
            Ok(())
        }
        Err(err) => Err(anyhow!(
            "{err}. The lock is still held: remove it with `cis-fix force-unlock {}`.",
            lock.info().id
        )),
    }
}

/// A lock that could not be taken, in the words the user needs.
fn refusal(e: LockError) -> anyhow::Error {
    match &e {
        LockError::Held { holder, .. } => anyhow!(
            "{e}. Nothing was changed. Another apply is running against this account; wait for it, or, if none is running (one that crashed leaves its lock), remove the lock with `cis-fix force-unlock {}`.",
            holder.id
        ),
        _ => anyhow!("{e}. Nothing was changed."),
    }
}
