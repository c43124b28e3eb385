//! S3 objects as a shared lock: a conditional create (`If-None-Match: *`,
//! as Terraform's S3 backend locks), a read, and a delete that only removes
//! the object it names by ETag (`If-Match`). S3 makes the conditional create
//! atomic: of two runs that race for one key, exactly one gets 200 and the
//! other 412 (or 409 while the first is still being written).

use aws_sdk_s3::primitives::ByteStream;

use super::clients::Aws;
use super::error::{failure, refused, status};
use crate::observed::CallFailure;

const PUT: &str = "s3:PutObject";
const GET: &str = "s3:GetObject";
const DELETE: &str = "s3:DeleteObject";

/// What a conditional create found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The object is ours; its ETag names this version of it.
    Made { etag: Option<String> },
    /// Another object has the key (412), or another writer is creating it
    /// right now (409).
    Exists,
}

/// What a conditional delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    Deleted,
    /// The object was replaced since it was read (412): not ours to delete.
    Changed,
}

fn resource(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// PutObject with `If-None-Match: *`: creates `key` only if it does not
/// exist.
pub async fn create_if_absent(
    aws: &Aws,
    region: &str,
    bucket: &str,
    key: &str,
    body: String,
) -> Result<Created, CallFailure> {
    let rc = aws.region(region);
    match rc
        .s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .if_none_match("*")
        .content_type("application/json")
        .body(ByteStream::from(body.into_bytes()))
        .send()
        .await
    {
        Ok(out) => Ok(Created::Made { etag: out.e_tag }),
        Err(e) if matches!(status(&e), Some(412 | 409)) => Ok(Created::Exists),
        Err(e) => Err(failure(PUT, region, Some(&resource(bucket, key)), &e)),
    }
}

/// The object's text and ETag; `None` when there is no such object.
pub async fn read_text(
    aws: &Aws,
    region: &str,
    bucket: &str,
    key: &str,
) -> Result<Option<(String, Option<String>)>, CallFailure> {
    let rc = aws.region(region);
    let out = match rc.s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => out,
        Err(e) => {
            let f = failure(GET, region, Some(&resource(bucket, key)), &e);
            if status(&e) == Some(404) || f.code.as_deref() == Some("NoSuchKey") {
                return Ok(None);
            }
            return Err(f);
        }
    };
    let etag = out.e_tag.clone();
    let bytes = out.body.collect().await.map_err(|e| {
        refused(
            GET,
            region,
            Some(&resource(bucket, key)),
            format!("the object could not be read: {e}"),
        )
    })?;
    Ok(Some((
        String::from_utf8_lossy(&bytes.into_bytes()).into_owned(),
        etag,
    )))
}

/// DeleteObject, with `If-Match: etag` when the ETag is known, so a lock
/// taken by another run after this one's was removed is never deleted. The
/// caller has read the object and checked its ID first, so where the
/// store does not implement conditional deletes (501: an S3-compatible
/// store, or a bucket type without them) the delete is made without the
/// condition rather than leaving the lock behind.
pub async fn delete_if_match(
    aws: &Aws,
    region: &str,
    bucket: &str,
    key: &str,
    etag: Option<&str>,
) -> Result<Deleted, CallFailure> {
    let rc = aws.region(region);
    let mut condition = etag.map(str::to_string);
    loop {
        match rc
            .s3
            .delete_object()
            .bucket(bucket)
            .key(key)
            .set_if_match(condition.clone())
            .send()
            .await
        {
            Ok(_) => return Ok(Deleted::Deleted),
            Err(e) if status(&e) == Some(412) => return Ok(Deleted::Changed),
            Err(e) if status(&e) == Some(501) && condition.is_some() => condition = None,
            Err(e) => return Err(failure(DELETE, region, Some(&resource(bucket, key)), &e)),
        }
    }
}
