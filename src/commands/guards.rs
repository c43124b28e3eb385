//! What surrounds an apply's writes, whichever way the plan came: the
//! account's lock, taken just before the first write and given back however
//! the run ends, and the journal every write call is appended to. Kept out
//! of the apply command so every path that writes uses the same two steps:
//! [`Guards::take`] before the engine, [`Guards::finish`] after it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Result, anyhow};

use super::out::errln;
use cis_fix::apply::{CallRecord, Report};
use cis_fix::aws::Aws;
use cis_fix::config::Config;
use cis_fix::journal::{self, Journal, JournalError, RunInfo};
use cis_fix::lock::{Backend, Held, LockError, LockInfo, Released};
use cis_fix::plan::Plan;
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

/// The lock this run holds and its open journal.
pub struct Guards {
    pub lock: Arc<Held>,
    journal: Journal,
    /// The first journal write that failed: the run then starts no more
    /// calls, since they could not be accounted for.
    journal_failed: Option<JournalError>,
}

impl Guards {
    /// Opens the journal, then takes the account's lock: either failing
    /// stops the apply before any write. `run_id` names the run in the
    /// journal and the JSON report.
    pub async fn take(places: &Places, aws: &Aws, plan: &Plan, run_id: &str) -> Result<Guards> {
        let Some(account) = plan.account_id.as_deref() else {
            return Err(anyhow!(
                "cannot lock the account: it is not known (sts:GetCallerIdentity failed). Nothing was changed."
            ));
        };
        let mut info = LockInfo::new(account, "apply");
        info.id = run_id.to_string();
        let journal = Journal::open(
            &places.journal,
            RunInfo {
                run_id: run_id.to_string(),
                account: account.to_string(),
                caller_arn: plan.caller_arn.clone(),
                benchmark: plan.benchmark.clone(),
                regions: plan.regions.clone(),
                lock_id: Some(info.id.clone()),
            },
        )
        .map_err(|e| anyhow!("{e}. Nothing was changed; set `journal:` in cis-fix.yaml to a file cis-fix can write."))?;
        let lock = places.lock.acquire(aws, info).await.map_err(refusal)?;
        Ok(Guards {
            lock: Arc::new(lock),
            journal,
            journal_failed: None,
        })
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

    /// Whether a journal write failed (the run then exits 1).
    pub fn journal_failed(&self) -> bool {
        self.journal_failed.is_some()
    }

    /// The journal's path, if this run wrote to it.
    pub fn journal_used(&self) -> Option<String> {
        (self.journal.writes() > 0).then(|| self.journal.path().display().to_string())
    }

    /// Closes the run in the journal and gives the lock back. A lock that
    /// cannot be given back is an error naming it and how to remove it.
    pub async fn finish(mut self, report: &Report, outcome: &'static str, e: Style) -> Result<()> {
        if self.journal_failed.is_none()
            && let Err(err) = self.journal.finish(report, outcome)
        {
            errln!("{} {err}", e.red(&e.bold("Error:")));
            self.journal_failed = Some(err);
        }
        release(&self.lock, e).await
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
