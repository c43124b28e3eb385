//! The lock shared by every machine that applies to an account:
//! `s3://<bucket>/<prefix><account>.lock`, created with `If-None-Match: *`
//! (S3 creates it for exactly one of two racing runs, as for Terraform's S3
//! backend), removed with `If-Match: <its ETag>` so a run only ever removes
//! the lock it took or the one `force-unlock` was shown.

use super::{Found, LockError, LockInfo, Released};
use crate::aws::Aws;
use crate::aws::objects::{self, Created, Deleted};

pub fn key(prefix: &str, account: &str) -> String {
    format!("{prefix}{account}.lock")
}

fn url(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// Takes the lock; its ETag, which the release names.
pub async fn acquire(
    aws: &Aws,
    region: &str,
    bucket: &str,
    prefix: &str,
    info: &LockInfo,
) -> Result<Option<String>, LockError> {
    let k = key(prefix, &info.account);
    let at = url(bucket, &k);
    // A lock removed between the refused create and the read is tried once
    // more, rather than reported as held by nobody.
    for _ in 0..2 {
        match objects::create_if_absent(aws, region, bucket, &k, info.to_json())
            .await
            .map_err(|f| LockError::aws(&at, f))?
        {
            Created::Made { etag } => return Ok(etag),
            Created::Exists => {}
        }
        match objects::read_text(aws, region, bucket, &k)
            .await
            .map_err(|f| LockError::aws(&at, f))?
        {
            Some((text, etag)) => {
                // Our own lock: a retried put whose first attempt was made
                // but whose answer was lost. It is this run's.
                if LockInfo::from_json(&text).is_some_and(|h| h.id == info.id) {
                    return Ok(etag);
                }
                return Err(match LockInfo::from_json(&text) {
                    Some(holder) => LockError::Held {
                        holder: Box::new(holder),
                        location: at,
                        stale: None,
                    },
                    None => LockError::Unreadable {
                        location: at,
                        why: "it is not a cis-fix lock".into(),
                    },
                });
            }
            None => continue,
        }
    }
    Err(LockError::Unreadable {
        location: at,
        why: "another run is taking it at this moment".into(),
    })
}

/// Removes the lock if it is still this run's: its ETag where S3 gave one,
/// else its ID as read back.
pub async fn release(
    aws: &Aws,
    region: &str,
    bucket: &str,
    prefix: &str,
    info: &LockInfo,
    etag: Option<String>,
) -> Result<Released, LockError> {
    let k = key(prefix, &info.account);
    let at = url(bucket, &k);
    let current = objects::read_text(aws, region, bucket, &k)
        .await
        .map_err(|f| LockError::aws(&at, f))?;
    let etag = match current {
        None => return Ok(Released::NotOurs(None)),
        Some((text, found_etag)) => match LockInfo::from_json(&text) {
            Some(i) if i.id == info.id => etag.or(found_etag),
            Some(other) => return Ok(Released::NotOurs(Some(other))),
            None => return Ok(Released::NotOurs(None)),
        },
    };
    match objects::delete_if_match(aws, region, bucket, &k, etag.as_deref())
        .await
        .map_err(|f| LockError::aws(&at, f))?
    {
        Deleted::Deleted => Ok(Released::Released),
        Deleted::Changed => Ok(Released::NotOurs(None)),
    }
}

/// `account`'s lock, if it has ID `id`.
pub async fn find(
    aws: &Aws,
    region: &str,
    bucket: &str,
    prefix: &str,
    account: &str,
    id: &str,
) -> Result<Found, LockError> {
    let k = key(prefix, account);
    let at = url(bucket, &k);
    match objects::read_text(aws, region, bucket, &k)
        .await
        .map_err(|f| LockError::aws(&at, f))?
    {
        None => Err(LockError::NoSuchLock {
            id: id.to_string(),
            searched: format!("{at} does not exist: no apply holds account {account}'s lock"),
        }),
        Some((text, etag)) => match LockInfo::from_json(&text) {
            Some(info) if info.id == id => Ok(Found {
                info,
                location: at,
                etag,
            }),
            Some(holder) => Err(LockError::OtherId {
                id: id.to_string(),
                holder: Box::new(holder),
                location: at,
            }),
            None => Err(LockError::Unreadable {
                location: at,
                why: "it is not a cis-fix lock".into(),
            }),
        },
    }
}

/// Removes what `find` found, if it has not changed since (`If-Match`).
pub async fn remove(aws: &Aws, region: &str, found: &Found) -> Result<(), LockError> {
    let Some((bucket, k)) = found
        .location
        .strip_prefix("s3://")
        .and_then(|r| r.split_once('/'))
    else {
        return Err(LockError::Unreadable {
            location: found.location.clone(),
            why: "not an S3 location".into(),
        });
    };
    match objects::delete_if_match(aws, region, bucket, k, found.etag.as_deref())
        .await
        .map_err(|f| LockError::aws(&found.location, f))?
    {
        Deleted::Deleted => Ok(()),
        Deleted::Changed => Err(LockError::NoSuchLock {
            id: found.info.id.clone(),
            searched: format!(
                "{} changed since it was read: another run took it",
                found.location
            ),
        }),
    }
}
