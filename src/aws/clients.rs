//! One SDK configuration per run, and clients per region built from it, so
//! profiles, SSO, env credentials, `AWS_REGION` and `AWS_ENDPOINT_URL` work as
//! they do for the AWS CLI. Every client logs its calls (`CallLog`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use super::call_log::CallLog;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// One attempt of one call; AWS control-plane calls answer in well under this.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// One call, every retry included.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(55);

/// How the user asked to connect.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Overrides `AWS_MAX_ATTEMPTS` / the profile's `max_attempts`.
    pub max_attempts: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "no AWS region: set AWS_REGION, pass --region, or give the profile a region (aws configure set region …)"
    )]
    NoRegion,
}

#[derive(Clone)]
pub(crate) struct RegionClients {
    pub region: String,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sns: aws_sdk_sns::Client,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
}

/// The run's SDK configuration; regional clients are made once each.
#[derive(Clone)]
pub struct Aws {
    config: SdkConfig,
    region: String,
    cache: Arc<Mutex<HashMap<String, RegionClients>>>,
}

impl Aws {
    pub async fn connect(opts: &ConnectOptions) -> Result<Aws, ConnectError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
            TimeoutConfig::builder()
                // Bounded so an unreachable or silent endpoint is a clear
                // error within a minute, retries included, never a hang.
                .connect_timeout(CONNECT_TIMEOUT)
                .read_timeout(ATTEMPT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        );
        if let Some(r) = &opts.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(p) = &opts.profile {
            loader = loader.profile_name(p);
        }
        let mut config = loader.load().await;
        if let Some(n) = opts.max_attempts {
            let retry = config
                .retry_config()
                .cloned()
                .unwrap_or_else(RetryConfig::standard)
                .with_max_attempts(n.max(1));
            config = config.into_builder().retry_config(retry).build();
        }
        let region = config
            .region()
            .map(|r| r.to_string())
            .ok_or(ConnectError::NoRegion)?;
        Ok(Aws {
            config,
            region,
            cache: Arc::default(),
        })
    }

    /// The region the run started in (trails are discovered from here).
    pub fn home_region(&self) -> &str {
        &self.region
    }

    pub(crate) fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&self.config)
                .interceptor(CallLog)
                .build(),
        )
    }

    pub(crate) fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&self.config)
                .interceptor(CallLog)
                .build(),
        )
    }

    pub(crate) fn region(&self, region: &str) -> RegionClients {
        let mut cache = match self.cache.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        cache
            .entry(region.to_string())
            .or_insert_with(|| {
                let r = Region::new(region.to_string());
                RegionClients {
                    region: region.to_string(),
                    logs: aws_sdk_cloudwatchlogs::Client::from_conf(
                        aws_sdk_cloudwatchlogs::config::Builder::from(&self.config)
                            .region(r.clone())
                            .interceptor(CallLog)
                            .build(),
                    ),
                    cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
                        aws_sdk_cloudwatch::config::Builder::from(&self.config)
                            .region(r.clone())
                            .interceptor(CallLog)
                            .build(),
                    ),
                    sns: aws_sdk_sns::Client::from_conf(
                        aws_sdk_sns::config::Builder::from(&self.config)
                            .region(r.clone())
                            .interceptor(CallLog)
                            .build(),
                    ),
                    cloudtrail: aws_sdk_cloudtrail::Client::from_conf(
                        aws_sdk_cloudtrail::config::Builder::from(&self.config)
                            .region(r)
                            .interceptor(CallLog)
                            .build(),
                    ),
                }
            })
            .clone()
    }
}
