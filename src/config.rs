//! The user's `cis-fix.yaml`: what the benchmark leaves to the user (names,
//! namespace, the SNS topic and who gets notified). Parsed strictly: unknown
//! keys are errors with a "did you mean", and every error names the file, the
//! line and the field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::date::Date;

/// The file looked for in the working directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "cis-fix.yaml";
pub const DEFAULT_NAMING: &str = "cis-{id}-{slug}";
pub const DEFAULT_TOPIC: &str = "cis-fix-alarms";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Benchmark version when `--benchmark` is not given.
    #[serde(default)]
    pub benchmark: Option<String>,
    /// Namespace of the metrics the filters publish (default: the benchmark's
    /// example, `CISBenchmark`).
    #[serde(default)]
    pub metric_namespace: Option<String>,
    #[serde(default)]
    pub naming: Naming,
    /// Per-control name overrides, keyed by control id.
    #[serde(default)]
    pub controls: BTreeMap<String, ControlNames>,
    #[serde(default)]
    pub sns: Sns,
    #[serde(default)]
    pub patterns: PatternMode,
    /// Which trail's log group receives new filters when several qualify,
    /// and which trail is fixed in place when several could be.
    #[serde(default)]
    pub trail: Option<String>,
    #[serde(default)]
    pub cloudtrail: CloudTrailConfig,
    /// The regions whose regional controls (KMS key rotation) are planned,
    /// when `--region` is not given (default: every region enabled for the
    /// account).
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// How the flow logs cis-fix creates for VPCs without one are made.
    #[serde(default)]
    pub flow_logs: FlowLogsConfig,
    /// Changes that can cut running workloads off, which apply makes only
    /// when opted in to (here per kind, or all at once with
    /// `--allow-destructive`).
    #[serde(default)]
    pub destructive: Destructive,
    /// Controls, or single resources under them, the user has decided to
    /// leave as they are until a date: never changed, shown as excepted,
    /// judged again once the date comes.
    #[serde(default)]
    pub exceptions: Vec<ExceptionConfig>,
    /// Where `apply` takes its lock (default: a file on this machine).
    #[serde(default)]
    pub lock: LockConfig,
    /// The file every apply's writes are appended to (default:
    /// `journal.jsonl` in cis-fix's state directory); a relative path is
    /// taken from the config file's directory.
    #[serde(default)]
    pub journal: Option<String>,
    /// What cis-fix cannot know for the plan's cost line.
    #[serde(default)]
    pub cost: CostConfig,
    /// How `--organization` reaches the member accounts.
    #[serde(default)]
    pub organization: OrganizationConfig,
}

/// Volumes the plan's cost depends on that no read can tell.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostConfig {
    /// GB a month each new VPC flow log delivers, estimated by the user;
    /// without it the plan states the price per GB and "volume unknown".
    #[serde(default)]
    pub flow_logs_gb_per_month: Option<f64>,
}

/// The role assumed in each member account by `--organization`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationConfig {
    /// The role's name in every member account (default: `cis-fix-plan`
    /// for plan, `cis-fix-apply` for apply; `--role-name` overrides).
    #[serde(default)]
    pub role_name: Option<String>,
    /// The external id the roles' trust policies require, if any.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// Whether `name` can be an IAM role name (1-64 of letters, digits and
/// `+=,.@_-`).
pub fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// One exception as written: the control, optionally one resource under
/// it, why, until when, and who approved it. A risk accepted without a
/// reason or an end date is a risk forgotten, so both are required.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionConfig {
    /// The control's id in the chosen benchmark version (`"4.3"`); checked
    /// against the version once it is known (`desired`).
    #[serde(deserialize_with = "control_id")]
    pub control: String,
    /// One resource under the control, by its id (`sg-…`, `vpc-…`, a KMS
    /// key id, ARN or alias), its plan address, or a region for all of the
    /// control's resources there (the README's "Exceptions"); absent: the
    /// whole control.
    #[serde(default)]
    pub resource: Option<String>,
    pub reason: String,
    /// The first day the exception no longer holds.
    #[serde(deserialize_with = "expiry")]
    pub expires: Date,
    #[serde(default)]
    pub approved_by: Option<String>,
    /// The line the entry starts on (1-based), for errors found once the
    /// benchmark version is known.
    #[serde(skip)]
    pub line: usize,
}

/// serde_yaml places a value's error at its entry, not its line: the
/// message names the field.
fn expiry<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    let text = String::deserialize(d)?;
    Date::parse(&text).map_err(|e| serde::de::Error::custom(format!("expires: {e}")))
}

/// A control id must be a string: a YAML number loses what matters
/// (`4.10` reads as 4.1).
fn control_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_yaml::Value::deserialize(d)? {
        serde_yaml::Value::String(s) => Ok(s),
        serde_yaml::Value::Number(n) => Err(serde::de::Error::custom(format!(
            "control: write the id in quotes, `control: \"{n}\"`: as a number YAML reads 4.10 as 4.1"
        ))),
        _ => Err(serde::de::Error::custom(
            "control: expected a control id in quotes, e.g. `control: \"4.3\"`",
        )),
    }
}

/// The key prefix of the shared lock's objects when none is configured.
pub const DEFAULT_LOCK_PREFIX: &str = "cis-fix/locks/";

/// Where an apply's lock lives: one of `local` (the default) or `s3`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockConfig {
    #[serde(default)]
    pub local: Option<LocalLockConfig>,
    /// A lock shared by every machine that applies to the account.
    #[serde(default)]
    pub s3: Option<S3LockConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalLockConfig {
    /// Directory of the lock files (default: `locks` in cis-fix's state
    /// directory); a relative path is taken from the config file's directory.
    #[serde(default)]
    pub dir: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3LockConfig {
    pub bucket: String,
    /// Prepended to `<account>.lock` (default `cis-fix/locks/`).
    #[serde(default = "default_lock_prefix")]
    pub key_prefix: String,
    /// The bucket's region (default: the home region).
    #[serde(default)]
    pub region: Option<String>,
}

fn default_lock_prefix() -> String {
    DEFAULT_LOCK_PREFIX.to_string()
}

/// What the flow-logs control leaves to the user: which traffic a new flow
/// log records, and where it delivers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowLogsConfig {
    /// Default `REJECT`, the benchmark's remediation.
    #[serde(default)]
    pub traffic_type: TrafficType,
    /// Deliver to this bucket (`arn:aws:s3:::BUCKET`, optionally with
    /// `/FOLDER`) instead of a CloudWatch Logs log group of cis-fix's;
    /// the bucket's policy must let `delivery.logs.amazonaws.com` write.
    #[serde(default)]
    pub s3_bucket_arn: Option<String>,
}

/// The traffic a flow log records, as EC2 spells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum TrafficType {
    #[serde(rename = "ALL")]
    All,
    #[serde(rename = "ACCEPT")]
    Accept,
    #[default]
    #[serde(rename = "REJECT")]
    Reject,
}

impl TrafficType {
    pub fn as_str(self) -> &'static str {
        match self {
            TrafficType::All => "ALL",
            TrafficType::Accept => "ACCEPT",
            TrafficType::Reject => "REJECT",
        }
    }
}

/// Whether `arn` names an S3 bucket (and optional folder) as a flow log's
/// destination: `arn:PARTITION:s3:::BUCKET[/FOLDER]`. EC2 reserves the
/// folder name `AWSLogs` (it writes under `AWSLogs/` itself).
fn check_s3_destination(arn: &str) -> Result<(), String> {
    let rest = arn
        .strip_prefix("arn:")
        .and_then(|r| r.split_once(':'))
        .filter(|(partition, _)| !partition.is_empty())
        .and_then(|(_, r)| r.strip_prefix("s3:::"))
        .ok_or_else(|| {
            format!("`{arn}` is not an S3 bucket ARN (arn:aws:s3:::BUCKET, optionally /FOLDER)")
        })?;
    let (bucket, folder) = rest.split_once('/').unwrap_or((rest, ""));
    if !is_bucket_name(bucket) {
        return Err(format!("`{bucket}` is not a valid S3 bucket name"));
    }
    if folder.trim_end_matches('/') == "AWSLogs" {
        return Err("the folder may not be `AWSLogs`, which EC2 writes under itself".into());
    }
    Ok(())
}

fn is_bucket_name(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

/// The opt-ins for changes that can cut traffic or break clients. Each is
/// off unless set: without it the change is shown as held back, with its
/// evidence, and the control stays not compliant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destructive {
    /// Revoke every rule of each VPC's default security group.
    #[serde(default)]
    pub default_security_groups: bool,
    /// Revoke security group rules that admit 0.0.0.0/0 or ::/0 to an
    /// administration port.
    #[serde(default)]
    pub admin_port_rules: bool,
    /// Add network ACL entries denying 0.0.0.0/0 or ::/0 an
    /// administration port.
    #[serde(default)]
    pub network_acl_rules: bool,
    /// Require IMDSv2 on instances that still allow IMDSv1.
    #[serde(default)]
    pub instance_metadata: bool,
}

impl Destructive {
    /// Every opt-in on (`--allow-destructive`).
    pub fn all() -> Self {
        Destructive {
            default_security_groups: true,
            admin_port_rules: true,
            network_acl_rules: true,
            instance_metadata: true,
        }
    }
}

/// Whether `r` is spelled as an AWS region is (`us-east-1`,
/// `us-gov-west-1`, `cn-north-1`): lowercase words joined by `-`, the last
/// a number. Whether the account has it enabled is AWS's to say.
pub fn is_region_name(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts
            .last()
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
}

/// What the CloudTrail controls leave to the user.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudTrailConfig {
    /// The KMS key trails are encrypted with (key ARN or alias ARN); when
    /// unset, cis-fix creates one per region it needs one in. Its policy must
    /// let CloudTrail encrypt (UpdateTrail checks it).
    #[serde(default)]
    pub kms_key: Option<String>,
    /// Where the trail buckets' server access logs go; without it, access
    /// logging is an action left to the user.
    #[serde(default)]
    pub access_logs: Option<AccessLogsConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogsConfig {
    /// The target bucket: it must exist in the trail bucket's region and let
    /// `logging.s3.amazonaws.com` write to it.
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
}

/// Name templates; `{id}`, `{slug}` and `{version}` are replaced.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Naming {
    #[serde(default = "default_naming")]
    pub metric_filter: String,
    #[serde(default = "default_naming")]
    pub metric: String,
    #[serde(default = "default_naming")]
    pub alarm: String,
}

impl Default for Naming {
    fn default() -> Self {
        Naming {
            metric_filter: default_naming(),
            metric: default_naming(),
            alarm: default_naming(),
        }
    }
}

fn default_naming() -> String {
    DEFAULT_NAMING.to_string()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlNames {
    #[serde(default)]
    pub metric_filter: Option<String>,
    #[serde(default)]
    pub metric: Option<String>,
    #[serde(default)]
    pub alarm: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sns {
    /// Topic the alarms notify. When unset, cis-fix reuses a topic that
    /// already notifies someone for these controls, else `cis-fix-alarms`.
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub subscriptions: Vec<SubscriptionConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionConfig {
    pub protocol: String,
    pub endpoint: String,
}

/// How an existing filter that misses benchmark events is updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternMode {
    /// Keep everything the old pattern caught and add what it misses.
    #[default]
    Covering,
    /// Write the benchmark's pattern text verbatim.
    Exact,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: String,
        line: usize,
        message: String,
    },
}

const PROTOCOLS: &[&str] = &[
    "email",
    "email-json",
    "http",
    "https",
    "sqs",
    "lambda",
    "sms",
    "firehose",
    "application",
];

impl Config {
    /// Loads `explicit` if given, else `./cis-fix.yaml` if present, else the
    /// defaults. An explicit path that does not exist is an error.
    pub fn discover(explicit: Option<&Path>) -> Result<(Config, Option<PathBuf>), ConfigError> {
        match explicit {
            Some(p) => Ok((Self::load(p)?, Some(p.to_path_buf()))),
            None => {
                let p = PathBuf::from(DEFAULT_FILE);
                if p.is_file() {
                    Ok((Self::load(&p)?, Some(p)))
                } else {
                    Ok((Config::default(), None))
                }
            }
        }
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }

    /// Parses and validates config text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let invalid = |line: usize, message: String| ConfigError::Invalid {
            path: origin.to_string(),
            line,
            message,
        };
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let mut config: Config = serde_yaml::from_str(text).map_err(|e| {
            let line = e.location().map(|l| l.line()).unwrap_or(1);
            invalid(line, with_suggestion(&e.to_string()))
        })?;
        config.validate().map_err(|(path, message)| {
            invalid(
                locate(text, &path),
                format!("{}: {message}", path.join(".")),
            )
        })?;
        let items = item_lines(text, "exceptions");
        for (i, e) in config.exceptions.iter_mut().enumerate() {
            e.line = items
                .get(i)
                .copied()
                .unwrap_or_else(|| locate(text, &["exceptions".into()]));
        }
        check_exceptions(&config.exceptions, text)
            .map_err(|(line, message)| invalid(line, message))?;
        Ok(config)
    }

    /// Checks values serde cannot: name syntax and AWS limits, so a bad name
    /// fails here and not halfway through an apply.
    fn validate(&self) -> Result<(), (Vec<String>, String)> {
        let at = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        if let Some(v) = &self.benchmark {
            crate::benchmark::resolve_version(v)
                .map_err(|e| (at(&["benchmark"]), e.to_string()))?;
        }
        if let Some(ns) = &self.metric_namespace {
            check_name(ns, 255, ":*$").map_err(|m| (at(&["metric_namespace"]), m))?;
        }
        for (field, t, forbidden, max) in [
            ("metric_filter", &self.naming.metric_filter, ":*", 512),
            ("metric", &self.naming.metric, ":*$", 255),
            ("alarm", &self.naming.alarm, "", 255),
        ] {
            check_template(t).map_err(|m| (at(&["naming", field]), m))?;
            check_name(&t.replace(['{', '}'], ""), max, forbidden)
                .map_err(|m| (at(&["naming", field]), m))?;
        }
        for (id, names) in &self.controls {
            for (field, v, forbidden, max) in [
                ("metric_filter", &names.metric_filter, ":*", 512),
                ("metric", &names.metric, ":*$", 255),
                ("alarm", &names.alarm, "", 255),
            ] {
                if let Some(v) = v {
                    check_name(v, max, forbidden).map_err(|m| (at(&["controls", id, field]), m))?;
                }
            }
        }
        if let Some(regions) = &self.regions {
            if regions.is_empty() {
                return Err((
                    at(&["regions"]),
                    "names no region; name at least one, or remove the key to plan every region enabled for the account".into(),
                ));
            }
            if let Some(bad) = regions.iter().find(|r| !is_region_name(r)) {
                return Err((
                    at(&["regions"]),
                    format!("`{bad}` is not a region name (e.g. us-east-1)"),
                ));
            }
        }
        if let Some(k) = &self.cloudtrail.kms_key
            && !k.starts_with("arn:")
        {
            return Err((
                at(&["cloudtrail", "kms_key"]),
                format!(
                    "`{k}` is not an ARN; give the key's ARN or its alias's (arn:aws:kms:REGION:ACCOUNT:key/ID or ...:alias/NAME), which names its region"
                ),
            ));
        }
        if let Some(gb) = self.cost.flow_logs_gb_per_month
            && !(gb.is_finite() && gb >= 0.0)
        {
            return Err((
                at(&["cost", "flow_logs_gb_per_month"]),
                format!("`{gb}` is not a number of GB (0 or more)"),
            ));
        }
        if let Some(arn) = &self.flow_logs.s3_bucket_arn {
            check_s3_destination(arn).map_err(|m| (at(&["flow_logs", "s3_bucket_arn"]), m))?;
        }
        if let Some(a) = &self.cloudtrail.access_logs
            && !is_bucket_name(&a.bucket)
        {
            return Err((
                at(&["cloudtrail", "access_logs", "bucket"]),
                format!("`{}` is not a valid S3 bucket name", a.bucket),
            ));
        }
        if let Some(r) = &self.organization.role_name
            && !is_role_name(r)
        {
            return Err((
                at(&["organization", "role_name"]),
                format!("`{r}` is not an IAM role name (1 to 64 letters, digits and +=,.@_-)"),
            ));
        }
        if let Some(x) = &self.organization.external_id
            && !(2..=1224).contains(&x.len())
        {
            return Err((
                at(&["organization", "external_id"]),
                "must be 2 to 1224 characters, as STS requires".into(),
            ));
        }
        if self.lock.local.is_some() && self.lock.s3.is_some() {
            return Err((
                at(&["lock"]),
                "names both `local` and `s3`; an apply takes one lock, so choose one".into(),
            ));
        }
        if let Some(s3) = &self.lock.s3 {
            if !is_bucket_name(&s3.bucket) {
                return Err((
                    at(&["lock", "s3", "bucket"]),
                    format!("`{}` is not a valid S3 bucket name", s3.bucket),
                ));
            }
            if s3.key_prefix.starts_with('/') {
                return Err((
                    at(&["lock", "s3", "key_prefix"]),
                    format!(
                        "`{}` starts with `/`; S3 keys do not (e.g. cis-fix/locks/)",
                        s3.key_prefix
                    ),
                ));
            }
            if let Some(r) = s3.region.as_deref().filter(|r| !is_region_name(r)) {
                return Err((
                    at(&["lock", "s3", "region"]),
                    format!("`{r}` is not a region name (e.g. us-east-1)"),
                ));
            }
        }
        if self
            .lock
            .local
            .as_ref()
            .and_then(|l| l.dir.as_deref())
            .is_some_and(|d| d.trim().is_empty())
        {
            return Err((at(&["lock", "local", "dir"]), "must not be empty".into()));
        }
        if self.journal.as_deref().is_some_and(|j| j.trim().is_empty()) {
            return Err((
                at(&["journal"]),
                "must not be empty; remove the key to use the default".into(),
            ));
        }
        if let Some(t) = &self.sns.topic {
            let ok = !t.is_empty()
                && t.len() <= 256
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err((
                    at(&["sns", "topic"]),
                    format!("`{t}` is not a valid SNS topic name (1-256 letters, digits, - or _)"),
                ));
            }
        }
        for s in &self.sns.subscriptions {
            let proto = s.protocol.to_ascii_lowercase();
            if !PROTOCOLS.contains(&proto.as_str()) {
                let hint = suggest(&proto, PROTOCOLS)
                    .map(|p| format!(" (did you mean `{p}`?)"))
                    .unwrap_or_default();
                return Err((
                    at(&["sns", "subscriptions", "protocol"]),
                    format!(
                        "unknown protocol `{}`{hint}; expected one of {}",
                        s.protocol,
                        PROTOCOLS.join(", ")
                    ),
                ));
            }
            let endpoint_ok = match proto.as_str() {
                "email" | "email-json" => {
                    s.endpoint.contains('@')
                        && !s.endpoint.starts_with('@')
                        && !s.endpoint.ends_with('@')
                }
                "http" => s.endpoint.starts_with("http://"),
                "https" => s.endpoint.starts_with("https://"),
                "sqs" | "lambda" | "firehose" | "application" => s.endpoint.starts_with("arn:"),
                _ => !s.endpoint.trim().is_empty(),
            };
            if !endpoint_ok {
                return Err((
                    at(&["sns", "subscriptions", "endpoint"]),
                    format!("`{}` is not a valid {} endpoint", s.endpoint, s.protocol),
                ));
            }
        }
        Ok(())
    }
}

/// What serde cannot check of the exceptions: text that says something,
/// a resource named in one word, and one entry per control and resource.
/// Errors carry the line of the field in its own entry.
fn check_exceptions(list: &[ExceptionConfig], text: &str) -> Result<(), (usize, String)> {
    let items = item_lines(text, "exceptions");
    let at = |i: usize, field: &str| {
        let start = items.get(i).copied().unwrap_or(1);
        let end = items.get(i + 1).copied().unwrap_or(usize::MAX);
        field_line(text, start, end, field)
    };
    for (i, e) in list.iter().enumerate() {
        let looks_like_id = !e.control.is_empty()
            && e.control
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if !looks_like_id {
            return Err((
                at(i, "control"),
                format!(
                    "exceptions.control: `{}` is not a control id (e.g. \"4.3\")",
                    e.control
                ),
            ));
        }
        if e.reason.trim().is_empty() {
            return Err((
                at(i, "reason"),
                "exceptions.reason: must say why the control is excepted".into(),
            ));
        }
        if e.approved_by
            .as_deref()
            .is_some_and(|a| a.trim().is_empty())
        {
            return Err((
                at(i, "approved_by"),
                "exceptions.approved_by: must name who approved it, or be left out".into(),
            ));
        }
        if let Some(r) = &e.resource
            && (r.is_empty() || r.chars().any(char::is_whitespace))
        {
            return Err((
                at(i, "resource"),
                format!(
                    "exceptions.resource: `{r}` is not a resource: give its id (sg-…, vpc-…, a KMS key id, ARN or alias), a region, or its address in the plan"
                ),
            ));
        }
        if let Some(first) = list[..i]
            .iter()
            .find(|f| f.control == e.control && f.resource == e.resource)
        {
            return Err((
                e.line,
                format!(
                    "exceptions: control {}{} is already excepted on line {}; give each control (and resource) one entry",
                    e.control,
                    e.resource
                        .as_deref()
                        .map(|r| format!(" resource `{r}`"))
                        .unwrap_or_default(),
                    first.line
                ),
            ));
        }
    }
    Ok(())
}

/// The lines (1-based) where the items of the block list under the
/// top-level `key` start. A flow list (`key: [...]`) has none; callers
/// fall back to the key's line.
fn item_lines(text: &str, key: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| {
        l.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    }) else {
        return vec![];
    };
    let mut out = Vec::new();
    let mut indent: Option<usize> = None;
    for (i, l) in lines.iter().enumerate().skip(start + 1) {
        let t = l.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let here = l.len() - t.len();
        // The next top-level key ends the list (items may sit at column 0).
        if here == 0 && !t.starts_with('-') {
            break;
        }
        if t == "-" || t.starts_with("- ") {
            match indent {
                None => {
                    indent = Some(here);
                    out.push(i + 1);
                }
                Some(n) if n == here => out.push(i + 1),
                _ => {}
            }
        }
    }
    out
}

/// The line of `field:` within lines `start..end` (1-based, the item's
/// own), else the item's first line.
fn field_line(text: &str, start: usize, end: usize, field: &str) -> usize {
    text.lines()
        .enumerate()
        .skip(start.saturating_sub(1))
        .take_while(|(i, _)| i + 1 < end)
        .find(|(_, l)| {
            let t = l.trim_start().trim_start_matches("- ").trim_start();
            t.strip_prefix(field).is_some_and(|r| r.starts_with(':'))
                || t.starts_with('{') && t.contains(&format!("{field}:"))
        })
        .map(|(i, _)| i + 1)
        .unwrap_or(start)
}

fn check_template(t: &str) -> Result<(), String> {
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("unclosed `{{` in `{t}`"))?;
        let key = &after[..close];
        if !["id", "slug", "version"].contains(&key) {
            return Err(format!(
                "unknown placeholder `{{{key}}}` in `{t}`; use {{id}}, {{slug}} or {{version}}"
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

fn check_name(v: &str, max: usize, forbidden: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err("must not be empty".into());
    }
    if v.chars().count() > max {
        return Err(format!("`{v}` is longer than {max} characters"));
    }
    if let Some(c) = v.chars().find(|c| forbidden.contains(*c)) {
        return Err(format!(
            "`{v}` contains `{c}`, which AWS does not allow here"
        ));
    }
    Ok(())
}

/// Adds "did you mean" to serde's unknown-field/variant messages, and drops
/// serde_yaml's " at line N column M" (the line is already in the prefix).
fn with_suggestion(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    let start = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|m| message.find(m).map(|i| i + m.len()));
    let Some(start) = start else {
        return message.to_string();
    };
    let rest = &message[start..];
    let Some((given, tail)) = rest.split_once('`') else {
        return message.to_string();
    };
    let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
    match suggest(given, &expected) {
        Some(s) => format!("{message} (did you mean `{s}`?)"),
        None => message.to_string(),
    }
}

fn suggest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(given, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Best-effort line of a field path in YAML text (1-based), for errors found
/// after parsing, when serde no longer knows where a value came from.
fn locate(text: &str, path: &[String]) -> usize {
    let mut from = 0;
    let mut found = 1;
    for key in path {
        let bare = key.trim_matches('"');
        let hit = text.lines().enumerate().skip(from).find(|(_, l)| {
            let t = l.trim_start().trim_start_matches("- ");
            [
                format!("{bare}:"),
                format!("\"{bare}\":"),
                format!("'{bare}':"),
            ]
            .iter()
            .any(|k| t.starts_with(k.as_str()))
        });
        if let Some((i, _)) = hit {
            from = i;
            found = i + 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_defaults() {
        let c = Config::parse("", "c.yaml").expect("ok");
        assert_eq!(c.naming.alarm, DEFAULT_NAMING);
        assert_eq!(c.patterns, PatternMode::Covering);
    }

    #[test]
    fn full_file_parses() {
        let c = Config::parse(
            "benchmark: 1.2.0\nmetric_namespace: Sec\nnaming:\n  alarm: \"x-{id}\"\ncontrols:\n  \"4.3\":\n    alarm: root\nsns:\n  topic: t1\n  subscriptions:\n    - protocol: email\n      endpoint: a@example.com\npatterns: exact\ntrail: main\n",
            "c.yaml",
        )
        .expect("ok");
        assert_eq!(c.controls["4.3"].alarm.as_deref(), Some("root"));
        assert_eq!(c.patterns, PatternMode::Exact);
        assert_eq!(c.sns.subscriptions.len(), 1);
    }

    #[test]
    fn unknown_key_suggests() {
        let err = Config::parse("metric_namspace: X\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.yaml:1:"), "{err}");
        assert!(err.contains("did you mean `metric_namespace`"), "{err}");
        let err = Config::parse("sns:\n  topic: a\n  subscription: []\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.yaml:3:"), "{err}");
        assert!(err.contains("did you mean `subscriptions`"), "{err}");
    }

    #[test]
    fn wrong_type_and_bad_yaml_name_the_line() {
        let err = Config::parse("sns:\n  subscriptions: 5\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.yaml:2:"), "{err}");
        let err = Config::parse("naming: [\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.yaml:"), "{err}");
        let err = Config::parse("patterns: exactly\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean `exact`"), "{err}");
    }

    #[test]
    fn benchmark_version_is_checked_where_it_is_written() {
        for ok in ["3.0.0", "v3.0.0", "\"7.0.0\"", "4.0.0"] {
            let c = Config::parse(&format!("sns: {{}}\nbenchmark: {ok}\n"), "c.yaml")
                .unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(c.benchmark.is_some(), "{ok}");
        }
        for (bad, hint) in [
            ("3.0", Some("3.0.0")),
            ("\"3\"", Some("3.0.0")),
            ("3", Some("3.0.0")),
            ("v5", Some("5.0.0")),
            ("4.0", Some("4.0.1")),
            ("2.5.0", None),
        ] {
            let err = Config::parse(
                &format!("# versions\nsns: {{}}\nbenchmark: {bad}\n"),
                "c.yaml",
            )
            .unwrap_err()
            .to_string();
            assert!(
                err.starts_with("c.yaml:3: benchmark: unknown benchmark version"),
                "{bad}: {err}"
            );
            assert!(err.contains("available: 1.2.0,"), "{err}");
            if let Some(h) = hint {
                assert!(err.contains(&format!("did you mean `{h}`")), "{err}");
            }
        }
    }

    #[test]
    fn destructive_opt_ins_are_off_unless_set_and_strict() {
        let c = Config::parse("sns: {}\n", "c.yaml").expect("ok");
        assert_eq!(c.destructive, Destructive::default());
        let c =
            Config::parse("destructive:\n  default_security_groups: true\n", "c.yaml").expect("ok");
        assert!(c.destructive.default_security_groups && !c.destructive.admin_port_rules);
        let err = Config::parse("destructive:\n  default_security_group: true\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("did you mean `default_security_groups`"),
            "{err}"
        );
        let err = Config::parse("destructive:\n  admin_port_rules: yes please\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("c.yaml:2"), "{err}");
    }

    #[test]
    fn cloudtrail_settings_are_checked_and_name_their_line() {
        let c = Config::parse(
            "cloudtrail:\n  kms_key: arn:aws:kms:us-east-1:1:alias/ct\n  access_logs:\n    bucket: team-logs\n",
            "c.yaml",
        )
        .expect("ok");
        assert_eq!(
            c.cloudtrail.access_logs.map(|a| (a.bucket, a.prefix)),
            Some(("team-logs".into(), String::new()))
        );
        let err = Config::parse("cloudtrail:\n  kms_key: alias/ct\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.yaml:2: cloudtrail.kms_key:"), "{err}");
        assert!(err.contains("not an ARN"), "{err}");
        let err = Config::parse(
            "cloudtrail:\n  access_logs:\n    bucket: Team_Logs\n",
            "c.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("c.yaml:3: cloudtrail.access_logs.bucket:"),
            "{err}"
        );
        let err = Config::parse("cloudtrail:\n  access_log:\n    bucket: x\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean `access_logs`"), "{err}");
    }

    #[test]
    fn regions_are_region_names() {
        let c = Config::parse(
            "organization:\n  role_name: Audit.Role\n  external_id: ext-123\n",
            "c.yaml",
        )
        .expect("ok");
        assert_eq!(c.organization.role_name.as_deref(), Some("Audit.Role"));
        assert_eq!(c.organization.external_id.as_deref(), Some("ext-123"));
        let err = Config::parse("organization:\n  role_name: no/slash\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("organization.role_name"), "{err}");
        let err = Config::parse("organization:\n  rolename: x\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean `role_name`"), "{err}");
        let c = Config::parse("regions: [us-east-1, eu-west-1]\n", "c.yaml").expect("ok");
        assert_eq!(
            c.regions.as_deref(),
            Some(&["us-east-1".to_string(), "eu-west-1".to_string()][..])
        );
        for ok in ["us-gov-west-1", "cn-north-1", "ap-southeast-3"] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in ["us-east", "US-EAST-1", "useast1", "us--1", "us-east-1a"] {
            assert!(!is_region_name(bad), "{bad}");
        }
        let err = Config::parse("sns: {}\nregions:\n  - us-east-1\n  - eu-wst\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.yaml:2: regions: `eu-wst`"), "{err}");
        let err = Config::parse("regions: []\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("names no region"), "{err}");
        let err = Config::parse("region: [us-east-1]\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean `regions`"), "{err}");
    }

    #[test]
    fn flow_logs_settings_are_checked_where_written() {
        let c = Config::parse("", "c.yaml").expect("ok");
        assert_eq!(c.flow_logs.traffic_type, TrafficType::Reject);
        assert_eq!(c.flow_logs.s3_bucket_arn, None);
        let c = Config::parse(
            "flow_logs:\n  traffic_type: ALL\n  s3_bucket_arn: arn:aws:s3:::flow-logs/vpc/\n",
            "c.yaml",
        )
        .expect("ok");
        assert_eq!(c.flow_logs.traffic_type.as_str(), "ALL");
        let err = Config::parse("flow_logs:\n  traffic_type: REJECTED\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.yaml:2:"), "{err}");
        assert!(err.contains("did you mean `REJECT`"), "{err}");
        for (bad, says) in [
            ("flow-logs", "is not an S3 bucket ARN"),
            (
                "arn:aws:logs:us-east-1:1:log-group:x",
                "is not an S3 bucket ARN",
            ),
            ("arn:aws:s3:::Flow_Logs", "is not a valid S3 bucket name"),
            ("arn:aws:s3:::flow-logs/AWSLogs/", "may not be `AWSLogs`"),
        ] {
            let err = Config::parse(
                &format!("regions: [us-east-1]\nflow_logs:\n  s3_bucket_arn: \"{bad}\"\n"),
                "c.yaml",
            )
            .unwrap_err()
            .to_string();
            assert!(
                err.starts_with("c.yaml:3: flow_logs.s3_bucket_arn: "),
                "{err}"
            );
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn the_flow_log_volume_estimate_is_a_number_of_gb() {
        let c = Config::parse("", "c.yaml").expect("ok");
        assert_eq!(c.cost, CostConfig::default());
        let c = Config::parse("cost:\n  flow_logs_gb_per_month: 2.5\n", "c.yaml").expect("ok");
        assert_eq!(c.cost.flow_logs_gb_per_month, Some(2.5));
        for (text, says) in [
            (
                "cost:\n  flow_logs_gb_per_month: -1\n",
                "c.yaml:2: cost.flow_logs_gb_per_month: `-1` is not a number of GB",
            ),
            ("cost:\n  flow_logs_gb_per_month: lots\n", "c.yaml:2:"),
            (
                "cost:\n  flow_log_gb_per_month: 1\n",
                "did you mean `flow_logs_gb_per_month`",
            ),
        ] {
            let err = Config::parse(text, "c.yaml").unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn exceptions_parse_with_their_lines() {
        let c = Config::parse(
            "sns: {}\nexceptions:\n  # the legacy VPC\n  - control: \"3.9\"\n    resource: vpc-0abc\n    reason: replaced in Q2\n    expires: 2027-03-31\n    approved_by: CISO\n  - {control: \"4.10\", reason: x, expires: \"2027-01-01\"}\nregions: [us-east-1]\n",
            "c.yaml",
        )
        .expect("ok");
        let e = &c.exceptions;
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].control, "3.9");
        assert_eq!(e[0].resource.as_deref(), Some("vpc-0abc"));
        assert_eq!(e[0].expires.to_string(), "2027-03-31");
        assert_eq!(e[0].approved_by.as_deref(), Some("CISO"));
        assert_eq!(e[0].line, 4);
        assert_eq!(e[1].control, "4.10", "quoted, 4.10 stays 4.10");
        assert_eq!(e[1].approved_by, None);
        assert_eq!(e[1].line, 9);
    }

    #[test]
    fn exception_errors_name_the_field_and_its_line() {
        let entry = |body: &str| {
            format!(
                "sns: {{}}\nexceptions:\n  - control: \"1.8\"\n    reason: ok\n    expires: 2027-01-01\n  - {body}\n"
            )
        };
        for (body, line, says) in [
            // serde's own: a missing field, a bad date, an unknown key.
            (
                "control: \"1.9\"\n    expires: 2027-01-01",
                6,
                "missing field `reason`",
            ),
            (
                "control: \"1.9\"\n    reason: x",
                6,
                "missing field `expires`",
            ),
            (
                "control: \"1.9\"\n    reason: x\n    expires: 2027-02-30",
                6,
                "expires: `2027-02-30` is not a day of the calendar",
            ),
            (
                "control: \"1.9\"\n    reason: x\n    expires: 31/12/2027",
                6,
                "YYYY-MM-DD",
            ),
            (
                "control: \"1.9\"\n    reason: x\n    expires: 2027-01-01\n    approver: me",
                9,
                "did you mean `approved_by`",
            ),
            (
                "control: 4.10\n    reason: x\n    expires: 2027-01-01",
                6,
                "write the id in quotes",
            ),
            // Ours: checked after parsing, each at its own line.
            (
                "control: \"1.9\"\n    reason: \"  \"\n    expires: 2027-01-01",
                7,
                "exceptions.reason: must say why",
            ),
            (
                "control: \"one\"\n    reason: x\n    expires: 2027-01-01",
                6,
                "exceptions.control: `one` is not a control id",
            ),
            (
                "control: \"1.9\"\n    resource: sg 1\n    reason: x\n    expires: 2027-01-01",
                7,
                "exceptions.resource: `sg 1` is not a resource",
            ),
            (
                "control: \"1.9\"\n    reason: x\n    expires: 2027-01-01\n    approved_by: \"\"",
                9,
                "exceptions.approved_by",
            ),
            (
                "control: \"1.8\"\n    reason: again\n    expires: 2027-01-01",
                6,
                "control 1.8 is already excepted on line 3",
            ),
        ] {
            let err = Config::parse(&entry(body), "c.yaml")
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("c.yaml:{line}: ")),
                "{body}: {err}"
            );
            assert!(err.contains(says), "{body}: {err}");
        }
        // One resource and the whole control are two entries.
        let ok =
            entry("control: \"1.8\"\n    resource: global\n    reason: x\n    expires: 2027-01-01");
        assert!(Config::parse(&ok, "c.yaml").is_ok());
    }

    #[test]
    fn lock_and_journal_settings_are_checked_where_written() {
        let c = Config::parse("", "c.yaml").expect("ok");
        assert_eq!(c.lock, LockConfig::default());
        assert_eq!(c.journal, None);
        let c = Config::parse(
            "journal: audit/cis-fix.jsonl\nlock:\n  s3:\n    bucket: team-state\n",
            "c.yaml",
        )
        .expect("ok");
        let s3 = c.lock.s3.expect("s3 lock");
        assert_eq!(
            (s3.bucket.as_str(), s3.key_prefix.as_str(), s3.region),
            ("team-state", DEFAULT_LOCK_PREFIX, None)
        );
        assert_eq!(c.journal.as_deref(), Some("audit/cis-fix.jsonl"));
        for (yaml, starts, says) in [
            (
                "sns: {}\nlock:\n  local: {}\n  s3:\n    bucket: b-1\n",
                "c.yaml:2: lock:",
                "choose one",
            ),
            (
                "lock:\n  s3:\n    bucket: Team_State\n",
                "c.yaml:3: lock.s3.bucket:",
                "not a valid S3 bucket name",
            ),
            (
                "lock:\n  s3:\n    bucket: b-1\n    key_prefix: /locks/\n",
                "c.yaml:4: lock.s3.key_prefix:",
                "starts with `/`",
            ),
            (
                "lock:\n  s3:\n    bucket: b-1\n    region: eu-wst\n",
                "c.yaml:4: lock.s3.region:",
                "not a region name",
            ),
            ("journal: \"\"\n", "c.yaml:1: journal:", "must not be empty"),
            (
                "lock:\n  s3:\n    bucket: b-1\n    prefix: x\n",
                "c.yaml:4:",
                "did you mean `key_prefix`",
            ),
            (
                "lock:\n  local: {}\n  file: x\n",
                "c.yaml:3:",
                "unknown field `file`",
            ),
        ] {
            let err = Config::parse(yaml, "c.yaml").unwrap_err().to_string();
            assert!(err.starts_with(starts), "{yaml}: {err}");
            assert!(err.contains(says), "{yaml}: {err}");
        }
    }

    #[test]
    fn validation_errors_name_field_and_line() {
        let err = Config::parse(
            "sns:\n  subscriptions:\n    - protocol: emial\n      endpoint: a@b.c\n",
            "c.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("c.yaml:3: sns.subscriptions.protocol"),
            "{err}"
        );
        assert!(err.contains("did you mean `email`"), "{err}");
        let err = Config::parse("naming:\n  metric: \"a:{id}\"\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.yaml:2: naming.metric"), "{err}");
        let err = Config::parse("naming:\n  alarm: \"{ident}\"\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown placeholder"), "{err}");
        let err = Config::parse(
            "sns:\n  subscriptions:\n    - protocol: email\n      endpoint: nobody\n",
            "c.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("c.yaml:4: sns.subscriptions.endpoint"),
            "{err}"
        );
    }
}
