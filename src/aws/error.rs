//! AWS errors turned into facts that name the call, region and resource.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::observed::CallFailure;

/// A failed AWS call, for reads and writes alike.
pub fn failure<E>(
    call: &str,
    region: &str,
    resource: Option<&str>,
    err: &SdkError<E, HttpResponse>,
) -> CallFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    tracing::debug!(call, region, resource, error = %DisplayErrorContext(err), "failed call reported");
    let (code, message) = match err {
        SdkError::ServiceError(se) => {
            let raw = se.raw();
            let body = raw
                .body()
                .bytes()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let code = se
                .err()
                .code()
                .map(str::to_string)
                .or_else(|| between(&body, "<Code>", "</Code>"))
                .or_else(|| json_type(&body));
            let message = se
                .err()
                .message()
                .map(str::to_string)
                .or_else(|| between(&body, "<Message>", "</Message>"))
                .unwrap_or_else(|| format!("HTTP {}", raw.status().as_u16()));
            (code, message)
        }
        _ => (None, summary(err)),
    };
    let detail = crate::logging::causes(err);
    CallFailure {
        call: call.to_string(),
        region: region.to_string(),
        resource: resource.map(str::to_string),
        code: code.map(String::into_boxed_str),
        detail: (detail != message).then(|| Box::new(detail)),
        message,
    }
}

/// A failure that never reached the service, in words: what happened and
/// its root cause, never the SDK's debug dump (that goes to `-vv` logs).
fn summary<E, R>(err: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let root = root_cause(err);
    if is_credentials_failure(err) {
        return format!(
            "no AWS credentials: {root}; set them up as for the AWS CLI (aws configure, aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        );
    }
    match err {
        SdkError::TimeoutError(_) => {
            "no answer within the timeout (5 s to connect, 20 s an attempt, 55 s a call)".into()
        }
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            format!("no answer within the timeout: {root}")
        }
        SdkError::DispatchFailure(d) if d.is_io() => {
            format!("cannot reach the endpoint: {root}")
        }
        SdkError::DispatchFailure(_) => format!("the request could not be sent: {root}"),
        SdkError::ResponseError(_) => format!("the answer could not be read: {root}"),
        SdkError::ConstructionFailure(_) => format!("the request could not be made: {root}"),
        _ => root,
    }
}

/// Whether the call failed because no credentials could be had: the SDK
/// says so with a `CredentialsError` somewhere in the chain.
fn is_credentials_failure(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut e: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cur) = e {
        if cur
            .downcast_ref::<aws_credential_types::provider::error::CredentialsError>()
            .is_some()
        {
            return true;
        }
        e = cur.source();
    }
    false
}

/// The innermost cause's words: the one that says what really happened
/// (`Connection refused (os error 111)`).
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut e = err;
    while let Some(next) = e.source() {
        e = next;
    }
    e.to_string()
}

/// Some services (and emulators) send error shapes the SDK does not parse,
/// e.g. `<ErrorResponse><Errors><Error><Code>`: read the code from the body
/// rather than show a raw dump.
fn between(body: &str, open: &str, close: &str) -> Option<String> {
    let start = body.find(open)? + open.len();
    let len = body[start..].find(close)?;
    let v = body[start..start + len].trim();
    (!v.is_empty()).then(|| v.to_string())
}

fn json_type(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let t = v.get("__type")?.as_str()?;
    Some(t.rsplit('#').next().unwrap_or(t).to_string())
}

/// A call that did its work but answered without a field it must carry.
pub fn malformed(call: &str, region: &str, what: &str) -> CallFailure {
    CallFailure {
        call: call.to_string(),
        region: region.to_string(),
        resource: None,
        code: None,
        message: format!("the response has no {what}"),
        detail: None,
    }
}

/// A call that cannot be made as asked (a value it needs is not known, or
/// the request cannot be built), named like any failed call.
pub fn refused(
    call: &str,
    region: &str,
    resource: Option<&str>,
    message: impl Into<String>,
) -> CallFailure {
    CallFailure {
        call: call.to_string(),
        region: region.to_string(),
        resource: resource.map(str::to_string),
        code: None,
        message: message.into(),
        detail: None,
    }
}

/// The HTTP status of a failed call's response, when one came back.
pub fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_from_unparsed_bodies() {
        let xml = "<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: x is not authorized</Message></Error></Errors></ErrorResponse>";
        assert_eq!(
            between(xml, "<Code>", "</Code>").as_deref(),
            Some("AccessDenied")
        );
        assert_eq!(
            between(xml, "<Message>", "</Message>").as_deref(),
            Some("User: x is not authorized")
        );
        assert_eq!(between("<Code></Code>", "<Code>", "</Code>"), None);
        assert_eq!(
            json_type(r#"{"__type":"com.amazon#ThrottlingException"}"#).as_deref(),
            Some("ThrottlingException")
        );
        assert_eq!(json_type("not json"), None);
    }
}
