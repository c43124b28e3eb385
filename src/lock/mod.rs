//! One apply at a time per account. An apply takes the account's lock
//! before it reads the account and gives it back however it ends, so no
//! apply plans from an account another is changing (it could write back
//! what the other just fixed), and their writes never interleave. The lock is a file on this machine by default, or an S3
//! object created with a conditional put when applies run from several
//! machines. A lock records who holds it and since when, so a refused run
//! can say so, and `cis-fix force-unlock ID` can remove one left by a crash.

mod local;
mod s3;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::aws::Aws;
use crate::config::LockConfig;
use crate::observed::CallFailure;

/// What a lock says about the run holding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Random, and what `force-unlock` must be given.
    pub id: String,
    /// `user@host`.
    pub who: String,
    pub pid: u32,
    /// RFC 3339, UTC.
    pub since: String,
    /// The command holding it (`apply`).
    pub operation: String,
    /// The cis-fix version holding it.
    pub version: String,
    pub account: String,
}

impl LockInfo {
    /// This process's lock on `account` for `operation`.
    pub fn new(account: &str, operation: &str) -> LockInfo {
        LockInfo {
            id: crate::stamp::random_id(),
            who: crate::stamp::who(),
            pid: std::process::id(),
            since: crate::stamp::now(),
            operation: operation.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            account: account.to_string(),
        }
    }

    fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    fn from_json(text: &str) -> Option<LockInfo> {
        serde_json::from_str(text).ok()
    }

    /// `ID … held by user@host (pid N) since …, running apply with cis-fix V`.
    pub fn describe(&self) -> String {
        format!(
            "ID {}, held by {} (pid {}) since {}, running `{}` with cis-fix {}",
            self.id, self.who, self.pid, self.since, self.operation, self.version
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("account {} is locked by another run: {}{} (lock: {location})", holder.account, holder.describe(), stale.as_deref().map(|s| format!("; {s}")).unwrap_or_default())]
    Held {
        holder: Box<LockInfo>,
        location: String,
        /// Why the holder is probably gone (its process is not running).
        stale: Option<String>,
    },
    #[error(
        "a lock exists at {location} but cannot be read ({why}); if no apply is running, remove it"
    )]
    Unreadable { location: String, why: String },
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot use the lock at {0}")]
    Aws(String, #[source] Box<CallFailureError>),
    #[error("no lock has ID {id} ({searched})")]
    NoSuchLock { id: String, searched: String },
    #[error(
        "the lock at {location} has another ID: it is {}, not {id}; nothing was removed",
        holder.describe()
    )]
    OtherId {
        id: String,
        holder: Box<LockInfo>,
        location: String,
    },
}

/// A failed AWS call as an error source.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CallFailureError(pub CallFailure);

impl LockError {
    fn aws(location: &str, f: CallFailure) -> LockError {
        LockError::Aws(location.to_string(), Box::new(CallFailureError(f)))
    }
}

/// Where locks live, from cis-fix.yaml's `lock:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// `<dir>/<account>.lock`, created with O_EXCL.
    Local { dir: PathBuf },
    /// `s3://<bucket>/<key_prefix><account>.lock`, created with
    /// `If-None-Match: *`.
    S3 {
        bucket: String,
        key_prefix: String,
        region: String,
    },
}

impl Backend {
    /// The backend `config` names; relative paths are taken from `base`
    /// (the config file's directory), an S3 bucket without a region is in
    /// `home_region`.
    pub fn from_config(config: &LockConfig, base: &Path, home_region: &str) -> Backend {
        if let Some(s) = &config.s3 {
            return Backend::S3 {
                bucket: s.bucket.clone(),
                key_prefix: s.key_prefix.clone(),
                region: s.region.clone().unwrap_or_else(|| home_region.to_string()),
            };
        }
        let dir = config
            .local
            .as_ref()
            .and_then(|l| l.dir.as_deref())
            .map(|d| base.join(d))
            .unwrap_or_else(|| crate::stamp::state_dir().join("locks"));
        Backend::Local { dir }
    }

    /// Whether finding a lock needs AWS (the shared lock does).
    pub fn needs_aws(&self) -> bool {
        matches!(self, Backend::S3 { .. })
    }

    /// Where `account`'s lock is, for messages.
    pub fn location(&self, account: &str) -> String {
        match self {
            Backend::Local { dir } => local::path(dir, account).display().to_string(),
            Backend::S3 {
                bucket, key_prefix, ..
            } => format!("s3://{bucket}/{}", s3::key(key_prefix, account)),
        }
    }

    /// Takes `info.account`'s lock for `info`, or says who holds it.
    /// `aws` is used by the shared lock only.
    pub async fn acquire(&self, aws: &Aws, info: LockInfo) -> Result<Held, LockError> {
        let token = match self {
            Backend::Local { dir } => {
                local::acquire(dir, &info).await?;
                held_locally(&local::path(dir, &info.account), &info.id, true);
                Token::Local
            }
            Backend::S3 {
                bucket,
                key_prefix,
                region,
            } => Token::S3 {
                etag: s3::acquire(aws, region, bucket, key_prefix, &info).await?,
                aws: Box::new(aws.clone()),
            },
        };
        Ok(Held {
            backend: self.clone(),
            info,
            token: Mutex::new(Some(token)),
        })
    }

    /// The lock with ID `id`, to show before removing it. The local backend
    /// looks through every lock file of its directory; the shared one reads
    /// `account`'s object.
    pub async fn find(
        &self,
        aws: Option<&Aws>,
        account: Option<&str>,
        id: &str,
    ) -> Result<Found, LockError> {
        match (self, aws, account) {
            (Backend::Local { dir }, _, _) => local::find(dir, id),
            (
                Backend::S3 {
                    bucket,
                    key_prefix,
                    region,
                },
                Some(aws),
                Some(account),
            ) => s3::find(aws, region, bucket, key_prefix, account, id).await,
            (Backend::S3 { .. }, ..) => Err(LockError::NoSuchLock {
                id: id.to_string(),
                searched: "the account is not known, so its shared lock cannot be found".into(),
            }),
        }
    }

    /// Removes what [`Backend::find`] found, only if it is still that lock.
    pub async fn remove(&self, aws: Option<&Aws>, found: &Found) -> Result<(), LockError> {
        match (self, aws) {
            (Backend::Local { .. }, _) => local::remove_if(&found.location, &found.info.id),
            (Backend::S3 { region, .. }, Some(aws)) => s3::remove(aws, region, found).await,
            (Backend::S3 { .. }, None) => Err(LockError::Unreadable {
                location: found.location.clone(),
                why: "AWS is not connected".into(),
            }),
        }
    }
}

/// A lock found by its ID.
#[derive(Debug, Clone)]
pub struct Found {
    pub info: LockInfo,
    /// A path, or an `s3://` URL.
    pub location: String,
    etag: Option<String>,
}

/// What lets a holder remove its own lock and nothing else.
enum Token {
    Local,
    S3 { aws: Box<Aws>, etag: Option<String> },
}

/// A lock this run holds. Give it back with [`Held::release`]; a local lock
/// not given back is removed when this is dropped (a panic), a shared one
/// then stays for `force-unlock`.
pub struct Held {
    backend: Backend,
    info: LockInfo,
    token: Mutex<Option<Token>>,
}

/// How a release ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    Released,
    /// Released already (by an earlier call).
    Already,
    /// The lock is no longer this run's (someone ran `force-unlock`, and
    /// maybe another run took it): left alone.
    NotOurs(Option<LockInfo>),
}

impl Held {
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    pub fn location(&self) -> String {
        self.backend.location(&self.info.account)
    }

    /// Gives the lock back, once: later calls (the interrupt path and the
    /// normal end may both ask) do nothing.
    pub async fn release(&self) -> Result<Released, LockError> {
        let token = match self.token.lock() {
            Ok(mut t) => t.take(),
            Err(p) => p.into_inner().take(),
        };
        match (token, &self.backend) {
            (None, _) => Ok(Released::Already),
            (Some(Token::Local), Backend::Local { dir }) => {
                let path = local::path(dir, &self.info.account);
                held_locally(&path, &self.info.id, false);
                local::release(&path, &self.info.id)
            }
            (
                Some(Token::S3 { aws, etag }),
                Backend::S3 {
                    bucket,
                    key_prefix,
                    region,
                },
            ) => s3::release(&aws, region, bucket, key_prefix, &self.info, etag).await,
            (Some(_), _) => Ok(Released::Already),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let token = match self.token.get_mut() {
            Ok(t) => t.take(),
            Err(p) => p.into_inner().take(),
        };
        if let (Some(Token::Local), Backend::Local { dir }) = (token, &self.backend) {
            let path = local::path(dir, &self.info.account);
            held_locally(&path, &self.info.id, false);
            let _ = local::release(&path, &self.info.id);
        }
    }
}

/// The local locks this process holds (file, ID). The release build aborts
/// on a panic, so no `Drop` runs then; the panic hook gives these back
/// through [`release_after_panic`] instead, as unwinding would have.
static HELD_LOCALLY: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());

fn held_locally(path: &Path, id: &str, held: bool) {
    let mut all = HELD_LOCALLY.lock().unwrap_or_else(|p| p.into_inner());
    all.retain(|(p, i)| !(p == path && i == id));
    if held {
        all.push((path.to_path_buf(), id.to_string()));
    }
}

/// Gives back every local lock this process holds, each only if it is
/// still this run's (a bug ended the run: the next one must not be refused
/// for it). A shared lock cannot be given back without AWS and stays for
/// `force-unlock`. For the panic hook: it never blocks on a lock a
/// panicking thread may hold.
pub fn release_after_panic() {
    // Another thread may be between two statements holding it: a moment's
    // retry, then give up rather than hang the report of the panic.
    let mut all = None;
    for _ in 0..100 {
        match HELD_LOCALLY.try_lock() {
            Ok(g) => {
                all = Some(g);
                break;
            }
            Err(std::sync::TryLockError::Poisoned(p)) => {
                all = Some(p.into_inner());
                break;
            }
            Err(std::sync::TryLockError::WouldBlock) => {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }
    let Some(mut all) = all else {
        return;
    };
    for (path, id) in all.drain(..) {
        let _ = local::release(&path, &id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LocalLockConfig, S3LockConfig};

    #[tokio::test]
    async fn a_panic_gives_back_this_runs_local_locks_and_nothing_else() {
        let dir = tempfile::tempdir().expect("dir");
        let ours = LockInfo::new("111122223333", "apply");
        local::acquire(dir.path(), &ours).await.expect("ours");
        let ours_at = local::path(dir.path(), &ours.account);
        held_locally(&ours_at, &ours.id, true);
        // Force-unlocked under this run and taken by another since: the
        // file is no longer this run's.
        let taken = LockInfo::new("444455556666", "apply");
        let taken_at = local::path(dir.path(), &taken.account);
        local::acquire(dir.path(), &taken).await.expect("theirs");
        held_locally(&taken_at, "an-earlier-id", true);
        release_after_panic();
        assert!(!ours_at.exists(), "this run's lock is given back");
        assert!(taken_at.exists(), "another run's lock stays");
        release_after_panic();
        assert!(taken_at.exists());
    }

    #[test]
    fn backend_from_config() {
        let base = Path::new("/etc/cis-fix");
        let local = Backend::from_config(
            &LockConfig {
                local: Some(LocalLockConfig {
                    dir: Some("locks".into()),
                }),
                s3: None,
            },
            base,
            "us-east-1",
        );
        assert_eq!(
            local.location("123"),
            "/etc/cis-fix/locks/123.lock",
            "{local:?}"
        );
        let shared = Backend::from_config(
            &LockConfig {
                local: None,
                s3: Some(S3LockConfig {
                    bucket: "b".into(),
                    key_prefix: "p/".into(),
                    region: None,
                }),
            },
            base,
            "eu-west-1",
        );
        assert!(shared.needs_aws());
        assert_eq!(shared.location("123"), "s3://b/p/123.lock");
        assert!(matches!(shared, Backend::S3 { region, .. } if region == "eu-west-1"));
    }

    #[test]
    fn held_message_names_holder_since_and_id() {
        let info = LockInfo::new("123456789012", "apply");
        let e = LockError::Held {
            holder: Box::new(info.clone()),
            location: "/l/123456789012.lock".into(),
            stale: None,
        }
        .to_string();
        for part in [
            info.id.as_str(),
            info.who.as_str(),
            info.since.as_str(),
            "123456789012",
        ] {
            assert!(e.contains(part), "{part}: {e}");
        }
    }
}
