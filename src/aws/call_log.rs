//! Logs every AWS call cis-fix makes (an SDK interceptor on each client):
//! kept in `aws` because it reads the SDK's own types, and silent unless
//! logging is on (`crate::logging`).

use std::time::Instant;

use aws_config::Region;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::logging::{CALLS, causes};

/// An SDK interceptor that logs each AWS call once it has ended: service,
/// operation, region, attempts, time taken and outcome (with the chain of
/// causes of a failure). On every client, so that no call goes unlogged,
/// whether or not its reader reports a failure; silent unless logging is on.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CallLog;

/// When the call began, kept in the call's own config bag.
#[derive(Debug, Clone, Copy)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "cis-fix call log"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if tracing::enabled!(target: CALLS, tracing::Level::INFO) {
            cfg.interceptor_state().store_put(Started(Instant::now()));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !tracing::enabled!(target: CALLS, tracing::Level::INFO) {
            return Ok(());
        }
        let (service, operation) = cfg
            .load::<Metadata>()
            .map_or(("unknown", "unknown"), |m| (m.service(), m.name()));
        let region = cfg.load::<Region>().map_or("unknown", |r| r.as_ref());
        let attempts = cfg.load::<RequestAttempts>().map(|a| a.attempts());
        let ms = cfg
            .load::<Started>()
            .map(|s| u64::try_from(s.0.elapsed().as_millis()).unwrap_or(u64::MAX));
        let status = context.response().map(|r| r.status().as_u16());
        match context.output_or_error() {
            Some(Err(e)) => tracing::info!(
                target: CALLS,
                service = %service,
                operation = %operation,
                region = %region,
                attempts,
                ms,
                status,
                error = %causes(e),
                "AWS call failed"
            ),
            _ => tracing::info!(
                target: CALLS,
                service = %service,
                operation = %operation,
                region = %region,
                attempts,
                ms,
                status,
                "AWS call succeeded"
            ),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::filter;

    /// Log lines written to memory, to read back in a test.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut v = match self.0.lock() {
                Ok(v) => v,
                Err(poisoned) => poisoned.into_inner(),
            };
            v.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            let v = match self.0.lock() {
                Ok(v) => v,
                Err(poisoned) => poisoned.into_inner(),
            };
            String::from_utf8_lossy(&v).into_owned()
        }
    }

    #[tokio::test]
    async fn each_call_is_logged_with_its_outcome() {
        use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
        use aws_smithy_mocks::{MockResponseInterceptor, RuleMode, create_mock_http_client, mock};
        use aws_smithy_runtime_api::http::StatusCode;
        use aws_smithy_types::body::SdkBody;

        let ok = mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
            GetCallerIdentityOutput::builder()
                .account("123456789012")
                .build()
        });
        let denied = mock!(aws_sdk_sts::Client::get_caller_identity).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                StatusCode::try_from(403).expect("status"),
                SdkBody::from(
                    "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>",
                ),
            )
        });
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::Config::builder()
                .with_test_defaults()
                .region(Region::new("eu-west-1"))
                .http_client(create_mock_http_client())
                .interceptor(
                    MockResponseInterceptor::new()
                        .rule_mode(RuleMode::Sequential)
                        .with_rule(&ok)
                        .with_rule(&denied),
                )
                .interceptor(CallLog)
                .build(),
        );
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter("info").expect("valid"))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _on = tracing::subscriber::set_default(subscriber);

        assert!(sts.get_caller_identity().send().await.is_ok());
        assert!(sts.get_caller_identity().send().await.is_err());

        let text = logs.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        for part in [
            "INFO cis_fix::aws: AWS call succeeded",
            "service=STS operation=GetCallerIdentity region=eu-west-1 attempts=1",
        ] {
            assert!(lines[0].contains(part), "{part}: {}", lines[0]);
        }
        for part in [
            "INFO cis_fix::aws: AWS call failed",
            "service=STS operation=GetCallerIdentity region=eu-west-1",
            "status=403",
            "AccessDenied",
        ] {
            assert!(lines[1].contains(part), "{part}: {}", lines[1]);
        }
    }
}
