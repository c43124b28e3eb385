//! AWS errors turned into facts that name the call, region and resource.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::snapshot::ReadFailure;

/// A failed AWS call, for reads and writes alike.
pub fn failure<E, R>(
    call: &str,
    region: &str,
    resource: Option<&str>,
    err: &SdkError<E, R>,
) -> ReadFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (code, message) = match err {
        SdkError::ServiceError(se) => (
            se.err().code().map(str::to_string),
            se.err()
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| DisplayErrorContext(err).to_string()),
        ),
        _ => (None, DisplayErrorContext(err).to_string()),
    };
    ReadFailure {
        call: call.to_string(),
        region: region.to_string(),
        resource: resource.map(str::to_string),
        code,
        message,
    }
}

/// A call that did its work but answered without a field it must carry.
pub fn malformed(call: &str, region: &str, what: &str) -> ReadFailure {
    ReadFailure {
        call: call.to_string(),
        region: region.to_string(),
        resource: None,
        code: None,
        message: format!("the response has no {what}"),
    }
}
