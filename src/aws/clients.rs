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
        "profile `{0}` is not in the AWS config or credentials files (~/.aws/config, ~/.aws/credentials, or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE)"
    )]
    NoProfile(String),
    #[error("the AWS config or credentials file cannot be read: {0}")]
    ProfileFiles(String),
    #[error("{setting} is `{value}`; {accepted}")]
    BadSetting {
        setting: String,
        value: String,
        accepted: &'static str,
    },
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
    pub kms: aws_sdk_kms::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub s3: aws_sdk_s3::Client,
}

/// The run's SDK configuration; regional clients are made once each.
#[derive(Clone)]
pub struct Aws {
    config: SdkConfig,
    region: String,
    cache: Arc<Mutex<HashMap<String, RegionClients>>>,
    notes: Vec<String>,
    /// Who is calling, read once per run (`sts::caller`): apply asks before
    /// it locks the account, and the snapshot does not ask again.
    pub(super) caller: Arc<tokio::sync::OnceCell<crate::observed::Observed<(String, String)>>>,
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
        let (retry, notes) = retry_settings(opts).await?;
        let config = loader.retry_config(retry).load().await;
        let region = config
            .region()
            .map(|r| r.to_string())
            .ok_or(ConnectError::NoRegion)?;
        Ok(Aws {
            config,
            region,
            cache: Arc::default(),
            notes,
            caller: Arc::default(),
        })
    }

    /// A run against an emulator at `endpoint` (moto) with static keys,
    /// whatever the environment says: for tests that call the readers and
    /// writers directly, as `connect` is configured from the process's
    /// environment.
    #[doc(hidden)]
    pub async fn emulator(endpoint: &str, region: &str, key_id: &str, secret: &str) -> Aws {
        let credentials =
            aws_credential_types::Credentials::new(key_id, secret, None, None, "cis-fix-emulator");
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(endpoint)
            .credentials_provider(credentials)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            .load()
            .await;
        Aws {
            config,
            region: region.to_string(),
            cache: Arc::default(),
            notes: vec![],
            caller: Arc::default(),
        }
    }

    /// What the user should know about how the settings were read (a
    /// setting cis-fix maps to another), for the caller to show.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The region the run started in (trails are discovered from here).
    pub fn home_region(&self) -> &str {
        &self.region
    }

    /// The same settings with other credentials: a session in another
    /// account (an assumed role), with clients of its own.
    pub(crate) fn with_credentials(
        &self,
        credentials: aws_credential_types::provider::SharedCredentialsProvider,
    ) -> Aws {
        Aws {
            config: self
                .config
                .to_builder()
                .credentials_provider(credentials)
                .build(),
            region: self.region.clone(),
            cache: Arc::default(),
            notes: vec![],
            // Another account: its caller is asked anew.
            caller: Arc::default(),
        }
    }

    pub(crate) fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::config::Builder::from(&self.config)
                .interceptor(CallLog)
                .build(),
        )
    }

    pub(crate) fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&self.config)
                .interceptor(CallLog)
                .build(),
        )
    }

    /// EC2 in the home region: only DescribeRegions is asked of it.
    pub(crate) fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::config::Builder::from(&self.config)
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
                            .region(r.clone())
                            .interceptor(CallLog)
                            .build(),
                    ),
                    kms: aws_sdk_kms::Client::from_conf(
                        aws_sdk_kms::config::Builder::from(&self.config)
                            .region(r.clone())
                            .interceptor(CallLog)
                            .build(),
                    ),
                    ec2: aws_sdk_ec2::Client::from_conf(
                        aws_sdk_ec2::config::Builder::from(&self.config)
                            .region(r.clone())
                            .interceptor(CallLog)
                            .build(),
                    ),
                    // Virtual-hosted style, as AWS prefers; the SDK's
                    // endpoint rules switch to path style by themselves for
                    // an IP endpoint (an emulator), and a bucket is always
                    // asked about through a client of its own region.
                    s3: aws_sdk_s3::Client::from_conf(
                        aws_sdk_s3::config::Builder::from(&self.config)
                            .region(r)
                            .interceptor(CallLog)
                            .build(),
                    ),
                }
            })
            .clone()
    }
}

/// Retry settings as the AWS CLI reads them (`--max-attempts`, then
/// `AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE`, then the profile's `max_attempts`
/// / `retry_mode`), checked here: aws-config panics on a value it cannot
/// use. A named profile that does not exist is an error too, as in the CLI,
/// rather than a credentials failure on every call.
async fn retry_settings(opts: &ConnectOptions) -> Result<(RetryConfig, Vec<String>), ConnectError> {
    use aws_types::os_shim_internal::{Env, Fs};
    let env = Env::real();
    let selected = opts.profile.clone().or_else(|| env.get("AWS_PROFILE").ok());
    let profiles = aws_config::profile::load(
        &Fs::real(),
        &env,
        &aws_runtime::env_config::file::EnvConfigFiles::default(),
        selected.clone().map(std::borrow::Cow::Owned),
    )
    .await
    .map_err(|e| ConnectError::ProfileFiles(crate::logging::causes(&e)))?;
    let profiles = Some(profiles);
    if let Some(name) = &selected
        && profiles
            .as_ref()
            .is_none_or(|p| p.get_profile(name).is_none())
    {
        return Err(ConnectError::NoProfile(name.clone()));
    }
    let setting = |var: &str, key: &str| -> Option<(String, String)> {
        match env.get(var) {
            Ok(v) => Some((format!("{var} (environment)"), v)),
            Err(_) => profiles.as_ref().and_then(|p| {
                p.get(key).map(|v| {
                    (
                        format!("{key} in profile `{}`", p.selected_profile()),
                        v.to_string(),
                    )
                })
            }),
        }
    };
    let mut notes = Vec::new();
    let mut retry = match setting("AWS_RETRY_MODE", "retry_mode") {
        None => RetryConfig::standard(),
        Some((_, v)) if v.trim().eq_ignore_ascii_case("standard") => RetryConfig::standard(),
        Some((_, v)) if v.trim().eq_ignore_ascii_case("adaptive") => RetryConfig::adaptive(),
        Some((source, v)) if v.trim().eq_ignore_ascii_case("legacy") => {
            notes.push(format!(
                "{source} is `legacy`, which the AWS SDK for Rust does not have; using `standard` retries"
            ));
            RetryConfig::standard()
        }
        Some((source, value)) => {
            return Err(ConnectError::BadSetting {
                setting: source,
                value,
                accepted: "use standard, adaptive or legacy",
            });
        }
    };
    let attempts = match opts.max_attempts {
        Some(n) => Some(n),
        None => match setting("AWS_MAX_ATTEMPTS", "max_attempts") {
            None => None,
            Some((source, value)) => match value.trim().parse::<u32>() {
                Ok(n) if (1..=20).contains(&n) => Some(n),
                _ => {
                    return Err(ConnectError::BadSetting {
                        setting: source,
                        value,
                        accepted: "use a whole number of attempts from 1 to 20",
                    });
                }
            },
        },
    };
    if let Some(n) = attempts {
        retry = retry.with_max_attempts(n);
    }
    Ok((retry, notes))
}
