//! The lock as a file on this machine: `<dir>/<account>.lock`, created with
//! O_EXCL (`create_new`), so of two runs exactly one creates it, even on
//! the same machine at the same instant.

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Found, LockError, LockInfo, Released};

/// How often, and how long apart, a lock file that exists but does not
/// parse yet is read again: its holder may be between creating and writing
/// it.
const REREADS: usize = 5;
const REREAD_AFTER: Duration = Duration::from_millis(100);

pub fn path(dir: &Path, account: &str) -> PathBuf {
    dir.join(format!("{account}.lock"))
}

pub async fn acquire(dir: &Path, info: &LockInfo) -> Result<(), LockError> {
    std::fs::create_dir_all(dir).map_err(|source| LockError::Io {
        what: "create the lock directory",
        path: dir.to_path_buf(),
        source,
    })?;
    let p = path(dir, &info.account);
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&p)
    {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(held(&p).await),
        Err(source) => {
            return Err(LockError::Io {
                what: "create the lock file",
                path: p,
                source,
            });
        }
    };
    let written = file
        .write_all(info.to_json().as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(source) = written {
        // A lock that says nothing would block every later run.
        let _ = std::fs::remove_file(&p);
        return Err(LockError::Io {
            what: "write the lock file",
            path: p,
            source,
        });
    }
    Ok(())
}

/// The error for an existing lock file: who holds it, or why that cannot
/// be read.
async fn held(p: &Path) -> LockError {
    let location = p.display().to_string();
    let mut why = String::new();
    for _ in 0..REREADS {
        match std::fs::read_to_string(p) {
            Ok(text) => match LockInfo::from_json(&text) {
                Some(holder) => {
                    let stale = stale(&holder);
                    return LockError::Held {
                        holder: Box::new(holder),
                        location,
                        stale,
                    };
                }
                None => why = "it is not a cis-fix lock".into(),
            },
            // Released between the create and this read: say it was held,
            // as it was a moment ago, rather than race for it again.
            Err(e) if e.kind() == ErrorKind::NotFound => {
                why = "it was removed while being read; run again".into();
                break;
            }
            Err(e) => why = e.to_string(),
        }
        tokio::time::sleep(REREAD_AFTER).await;
    }
    LockError::Unreadable { location, why }
}

/// Why a holder on this machine is probably gone: its process is not
/// running.
fn stale(holder: &LockInfo) -> Option<String> {
    let here = crate::stamp::host();
    let host = holder.who.rsplit_once('@').map(|(_, h)| h);
    if host != Some(here.as_str()) {
        return None;
    }
    match crate::stamp::process_alive(holder.pid) {
        Some(false) => Some(format!(
            "process {} is not running on this machine, so the lock was probably left by a run that crashed or was killed",
            holder.pid
        )),
        _ => None,
    }
}

fn read(p: &Path) -> Result<Option<LockInfo>, LockError> {
    match std::fs::read_to_string(p) {
        Ok(t) => LockInfo::from_json(&t)
            .map(Some)
            .ok_or_else(|| LockError::Unreadable {
                location: p.display().to_string(),
                why: "it is not a cis-fix lock".into(),
            }),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LockError::Io {
            what: "read the lock file",
            path: p.to_path_buf(),
            source,
        }),
    }
}

/// Removes the lock file if it is still the one with `id`.
pub fn release(p: &Path, id: &str) -> Result<Released, LockError> {
    match read(p) {
        Ok(Some(info)) if info.id == id => {}
        Ok(None) => return Ok(Released::NotOurs(None)),
        Ok(Some(other)) => return Ok(Released::NotOurs(Some(other))),
        // Not parseable: not a lock this run wrote; leave it.
        Err(LockError::Unreadable { .. }) => return Ok(Released::NotOurs(None)),
        Err(e) => return Err(e),
    }
    match std::fs::remove_file(p) {
        Ok(()) => Ok(Released::Released),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Released::NotOurs(None)),
        Err(source) => Err(LockError::Io {
            what: "remove the lock file",
            path: p.to_path_buf(),
            source,
        }),
    }
}

/// The lock file in `dir` with ID `id`.
pub fn find(dir: &Path, id: &str) -> Result<Found, LockError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(LockError::NoSuchLock {
                id: id.to_string(),
                searched: format!("{} does not exist: no apply holds a lock", dir.display()),
            });
        }
        Err(source) => {
            return Err(LockError::Io {
                what: "read the lock directory",
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut others = Vec::new();
    for entry in entries.flatten() {
        let p = entry.path();
        if p.extension().and_then(|e| e.to_str()) != Some("lock") {
            continue;
        }
        if let Ok(Some(info)) = read(&p) {
            if info.id == id {
                return Ok(Found {
                    info,
                    location: p.display().to_string(),
                    etag: None,
                });
            }
            others.push(format!("{}: {}", p.display(), info.describe()));
        }
    }
    others.sort();
    Err(LockError::NoSuchLock {
        id: id.to_string(),
        searched: if others.is_empty() {
            format!("no lock is held in {}", dir.display())
        } else {
            format!("the locks in {} are: {}", dir.display(), others.join("; "))
        },
    })
}

/// Removes the lock file at `location` if it still has ID `id`.
pub fn remove_if(location: &str, id: &str) -> Result<(), LockError> {
    let p = Path::new(location);
    match release(p, id)? {
        Released::Released | Released::Already => Ok(()),
        Released::NotOurs(holder) => Err(match holder {
            Some(holder) => LockError::OtherId {
                id: id.to_string(),
                holder: Box::new(holder),
                location: location.to_string(),
            },
            None => LockError::NoSuchLock {
                id: id.to_string(),
                searched: format!("{location} is gone"),
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(account: &str) -> LockInfo {
        LockInfo::new(account, "apply")
    }

    #[tokio::test]
    async fn second_acquire_is_refused_naming_the_holder_until_released() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = info("111");
        acquire(dir.path(), &first).await.expect("first");
        let err = acquire(dir.path(), &info("111")).await.unwrap_err();
        match &err {
            LockError::Held { holder, stale, .. } => {
                assert_eq!(**holder, first);
                // This process is alive.
                assert_eq!(stale, &None);
            }
            other => panic!("{other}"),
        }
        // Another account is another lock.
        acquire(dir.path(), &info("222"))
            .await
            .expect("other account");
        let p = path(dir.path(), "111");
        assert_eq!(release(&p, &first.id).expect("release"), Released::Released);
        assert!(!p.exists());
        acquire(dir.path(), &info("111")).await.expect("free again");
    }

    #[tokio::test]
    async fn a_lock_of_a_dead_process_here_is_called_stale() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut dead = info("111");
        // Beyond Linux's pid_max: no process has it.
        dead.pid = 4_194_305;
        acquire(dir.path(), &dead).await.expect("write");
        let err = acquire(dir.path(), &info("111")).await.unwrap_err();
        if crate::stamp::process_alive(1).is_some() {
            assert!(
                err.to_string().contains("not running on this machine"),
                "{err}"
            );
        }
    }

    #[tokio::test]
    async fn release_leaves_a_lock_that_is_no_longer_ours() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mine = info("111");
        acquire(dir.path(), &mine).await.expect("mine");
        let p = path(dir.path(), "111");
        std::fs::remove_file(&p).expect("force-unlocked");
        let theirs = info("111");
        acquire(dir.path(), &theirs).await.expect("theirs");
        assert_eq!(
            release(&p, &mine.id).expect("release"),
            Released::NotOurs(Some(theirs.clone()))
        );
        assert!(p.exists());
    }

    #[tokio::test]
    async fn find_and_remove_by_id_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let held = info("111");
        acquire(dir.path(), &held).await.expect("held");
        let err = find(dir.path(), "not-the-id").unwrap_err().to_string();
        assert!(err.contains("no lock has ID not-the-id"), "{err}");
        assert!(err.contains(&held.id), "lists the locks there: {err}");
        let found = find(dir.path(), &held.id).expect("found");
        assert_eq!(found.info, held);
        let err = remove_if(&found.location, "not-the-id")
            .unwrap_err()
            .to_string();
        assert!(err.contains("has another ID"), "{err}");
        remove_if(&found.location, &held.id).expect("removed");
        assert!(!path(dir.path(), "111").exists());
        let err = find(&dir.path().join("none"), "x").unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_lock_is_unreadable_not_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = path(dir.path(), "111");
        std::fs::write(&p, "garbage").expect("write");
        let err = acquire(dir.path(), &info("111")).await.unwrap_err();
        assert!(matches!(err, LockError::Unreadable { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "garbage");
    }
}
