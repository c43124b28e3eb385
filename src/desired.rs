//! Benchmark version + user config → what must exist in the account.

use crate::benchmark::{
    AdminPortsCheck, AlarmParams, Benchmark, EventScope, Kind, PasswordRule, SelectorForm,
    TrailAspect,
};
use crate::config::{
    AccessLogsConfig, Config, DEFAULT_TOPIC, Destructive, PatternMode, SubscriptionConfig,
};
use crate::pattern::Pattern;
use crate::snapshot::{FlowLogNames, ReadScope, TrailNames};

#[derive(Debug, Clone)]
pub struct Desired {
    pub benchmark_version: String,
    pub benchmark_title: String,
    /// Every control id of the version, in the benchmark's order.
    pub control_order: Vec<String>,
    pub monitoring: DesiredMonitoring,
    pub trail: DesiredTrail,
    /// The password-policy controls: one account policy serves them all.
    pub password: Vec<PasswordControl>,
    /// The KMS key rotation controls, judged in every planned region.
    pub kms: Vec<KmsControl>,
    /// The VPC flow-logs controls, judged in every planned region.
    pub flow_logs: DesiredFlowLogs,
    /// The regions the config chose to plan (`regions:`); `None`: every
    /// region enabled for the account, unless `--region` narrows it.
    pub regions: Option<Vec<String>>,
    /// The networking controls, judged in every planned region.
    pub network: NetworkControls,
    /// The opt-ins given for changes that can cut workloads off.
    pub destructive: Destructive,
    /// What the user excepted, each naming a control of this version; the
    /// diff decides on the day it is given which are still in force.
    pub exceptions: Vec<Exception>,
    /// The price table and the user's volume estimates the plan's cost
    /// line is computed with.
    pub cost: crate::prices::CostBasis,
}

/// One exception, its control checked against the version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub control: String,
    /// One resource under the control; `None`: the whole control.
    pub resource: Option<String>,
    pub reason: String,
    pub approved_by: Option<String>,
    /// The first day it no longer holds.
    pub expires: crate::date::Date,
}

/// The networking controls of the version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkControls {
    /// The default security group of every VPC has no rules.
    pub default_sg: Vec<KmsControl>,
    /// No security group rule admits the internet to an administration
    /// port.
    pub admin_ports: Vec<AdminPortsControl>,
    /// EBS encryption by default in every region.
    pub ebs: Vec<KmsControl>,
    /// No network ACL admits the internet to an administration port.
    pub nacl_admin_ports: Vec<AdminPortsControl>,
    /// Every instance requires IMDSv2.
    pub imdsv2: Vec<KmsControl>,
}

/// An administration-ports control and what it checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminPortsControl {
    pub id: String,
    pub title: String,
    pub check: AdminPortsCheck,
}

/// A control that needs nothing beyond its id and title (KMS key
/// rotation, VPC flow logs, the default security groups, EBS encryption
/// by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsControl {
    pub id: String,
    pub title: String,
}

/// The VPC flow-logs controls (one in each version) and how a missing flow
/// log is made.
#[derive(Debug, Clone)]
pub struct DesiredFlowLogs {
    pub controls: Vec<KmsControl>,
    /// `ALL`, `ACCEPT` or `REJECT` (the default, the benchmark's remediation).
    pub traffic_type: String,
    pub target: FlowLogTarget,
}

/// Where the flow logs cis-fix creates deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowLogTarget {
    /// cis-fix's log group in the VPC's region, written through cis-fix's
    /// role.
    CloudWatch(FlowLogNames),
    /// The bucket the user named (`flow_logs.s3_bucket_arn`).
    S3 { bucket_arn: String },
}

/// Where cis-fix's flow logs deliver, from the config. The names are fixed,
/// not configurable: an interrupted apply finds them again by name.
pub fn flow_log_target(config: &Config) -> FlowLogTarget {
    match &config.flow_logs.s3_bucket_arn {
        Some(arn) => FlowLogTarget::S3 {
            bucket_arn: arn.clone(),
        },
        None => FlowLogTarget::CloudWatch(FlowLogNames {
            log_group: "cis-fix/vpc-flow-logs".into(),
            role: "cis-fix-vpc-flow-logs".into(),
        }),
    }
}

/// What the flow-logs reads look up by name: nothing for S3.
pub fn flow_log_names(config: &Config) -> FlowLogNames {
    match flow_log_target(config) {
        FlowLogTarget::CloudWatch(names) => names,
        FlowLogTarget::S3 { .. } => FlowLogNames::default(),
    }
}

/// One password-policy control and the field bound it requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordControl {
    pub id: String,
    pub title: String,
    pub rule: PasswordRule,
}

impl Desired {
    /// What the reads must look for by name.
    pub fn read_scope(&self) -> ReadScope {
        ReadScope {
            topic_names: vec![
                self.monitoring
                    .topic
                    .clone()
                    .unwrap_or_else(|| self.monitoring.default_topic.clone()),
            ],
            trail: self.trail.names.clone(),
            regions: self.regions.clone(),
            flow_logs: match &self.flow_logs.target {
                FlowLogTarget::CloudWatch(names) => names.clone(),
                FlowLogTarget::S3 { .. } => FlowLogNames::default(),
            },
        }
    }
}

/// The CloudTrail controls of the version and what the user decided for them.
#[derive(Debug, Clone)]
pub struct DesiredTrail {
    pub controls: Vec<TrailControl>,
    /// The management-events form the version's audit reads, for a trail
    /// cis-fix creates (a fixed trail keeps its own form).
    pub form: SelectorForm,
    pub names: TrailNames,
    pub access_logs: Option<AccessLogsConfig>,
    pub preferred_trail: Option<String>,
}

impl DesiredTrail {
    pub fn wants(&self, aspect: TrailAspect) -> bool {
        self.controls.iter().any(|c| c.aspect == aspect)
    }
}

#[derive(Debug, Clone)]
pub struct TrailControl {
    pub id: String,
    pub title: String,
    pub aspect: TrailAspect,
}

/// The names cis-fix gives what it creates for a trail. Fixed, not
/// configurable: an interrupted apply finds them again by name.
pub fn trail_names(config: &Config) -> TrailNames {
    TrailNames {
        trail: "cis-fix".into(),
        log_group: "cis-fix/cloudtrail".into(),
        role: "cis-fix-cloudtrail-logs".into(),
        key_alias: "alias/cis-fix-cloudtrail".into(),
        key_description: "cis-fix: encrypts CloudTrail log files".into(),
        bucket_prefix: "cis-fix-cloudtrail".into(),
        kms_key: config.cloudtrail.kms_key.clone(),
    }
}

#[derive(Debug, Clone)]
pub struct DesiredMonitoring {
    pub namespace: String,
    pub metric_value: String,
    pub alarm: AlarmParams,
    pub controls: Vec<MonitoringControl>,
    /// The topic the user named; `None` lets the diff reuse a working one.
    pub topic: Option<String>,
    /// Name of the topic cis-fix creates when there is none to reuse.
    pub default_topic: String,
    pub subscriptions: Vec<SubscriptionConfig>,
    pub pattern_mode: PatternMode,
    pub preferred_trail: Option<String>,
    /// The filter names cis-fix gives the monitoring controls of other
    /// versions (under the configured naming): filters so named, publishing
    /// the metric so named in this namespace, are cis-fix's, and are retired
    /// when no control of this version uses them.
    pub retired: Vec<OwnedNames>,
}

/// The filter names cis-fix gives one control under the configured naming,
/// and the versions that control is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedNames {
    /// The versions whose control `id` gets these names, oldest first.
    pub versions: Vec<String>,
    pub id: String,
    pub filter_name: String,
    pub metric_name: String,
}

/// The description cis-fix gives the alarms it creates: it marks an alarm as
/// cis-fix's own, whatever its name (names follow templates the user may
/// change; the description does not).
pub fn alarm_description(version: &str, id: &str, title: &str) -> String {
    format!("{}{title}", alarm_mark(version, id))
}

fn alarm_mark(version: &str, id: &str) -> String {
    format!("CIS AWS Foundations v{version} {id}: ")
}

/// The monitoring control (version, id) an alarm was made for, when its
/// description is the one cis-fix writes.
pub fn alarm_owner(description: Option<&str>) -> Option<(&'static str, &'static str)> {
    let d = description?;
    crate::benchmark::all().iter().find_map(|b| {
        b.metric_filter_controls()
            .find(|c| d.starts_with(&alarm_mark(&b.version, &c.id)))
            .map(|c| (b.version.as_str(), c.id.as_str()))
    })
}

/// A name template filled for one control.
fn fill(template: &str, version: &str, c: &crate::benchmark::Control) -> String {
    template
        .replace("{id}", &c.id)
        .replace("{slug}", &c.slug)
        .replace("{version}", version)
}

/// The filter names cis-fix gives the monitoring controls of every
/// version under the configured naming, except the names this version's
/// controls use.
fn retired_names(config: &Config, current: &[MonitoringControl]) -> Vec<OwnedNames> {
    let mut out: Vec<OwnedNames> = Vec::new();
    // Every embedded version loads (a test checks).
    for b in crate::benchmark::all() {
        for c in b.metric_filter_controls() {
            let filter_name = fill(&config.naming.metric_filter, &b.version, c);
            let metric_name = fill(&config.naming.metric, &b.version, c);
            if current.iter().any(|m| m.filter_name == filter_name) {
                continue;
            }
            match out
                .iter_mut()
                .find(|o| o.filter_name == filter_name && o.metric_name == metric_name)
            {
                Some(o) => o.versions.push(b.version.clone()),
                None => out.push(OwnedNames {
                    versions: vec![b.version.clone()],
                    id: c.id.clone(),
                    filter_name,
                    metric_name,
                }),
            }
        }
    }
    out
}

/// One metric-filter control with the names its resources get.
#[derive(Debug, Clone)]
pub struct MonitoringControl {
    pub id: String,
    pub title: String,
    pub pattern_text: String,
    pub pattern: Pattern,
    /// The remediation pattern first, then the other patterns the benchmark
    /// accepts; a filter covering any of them satisfies the control.
    pub accepted: Vec<Pattern>,
    pub filter_name: String,
    pub metric_name: String,
    pub alarm_name: String,
    /// Terraform-style resource name, e.g. `cis_4_3`.
    pub resource_name: String,
    /// The management events the pattern matches, by source and readOnly.
    pub events: EventScope,
    /// Sample events every accepted pattern catches: a filter that misses
    /// one cannot cover the control, which settles most filters without the
    /// costlier coverage proof.
    pub witnesses: Vec<serde_json::Value>,
    /// When the benchmark's own pattern matches routine activity (its alarm
    /// would sit in ALARM and never notify per event): what it matches, and
    /// the first later version whose pattern does not.
    pub noisy: Option<Noisy>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Noisy {
    pub matches: String,
    pub fixed_in: Option<String>,
}

/// Activity no monitoring control is about: if a control's pattern
/// matches it, the pattern matches nearly everything.
fn routine_event() -> serde_json::Value {
    serde_json::json!({
        "eventVersion": "1.08",
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": "DescribeTrails",
        "eventType": "AwsApiCall",
        "readOnly": true,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "userIdentity": {"type": "IAMUser", "userName": "auditor"},
        "responseElements": null
    })
}

/// Whether control `c` of `version` is noisy, and which later version fixes it.
pub fn noisy(version: &str, c: &crate::benchmark::Control) -> Option<Noisy> {
    let routine = routine_event();
    let matches = |c: &crate::benchmark::Control| {
        c.pattern
            .as_deref()
            .and_then(|p| crate::pattern::parse(p).ok())
            .is_some_and(|p| p.matches(&routine))
    };
    if !matches(c) {
        return None;
    }
    let order = crate::benchmark::available();
    let rank = |v: &str| order.iter().position(|o| *o == v);
    let fixed_in = crate::benchmark::all()
        .iter()
        .filter(|b| rank(&b.version) > rank(version))
        .find(|b| {
            b.metric_filter_controls()
                .any(|o| o.slug == c.slug && !matches(o))
        })
        .map(|b| b.version.clone());
    Some(Noisy {
        matches: "a successful DescribeTrails call".into(),
        fixed_in,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum DesiredError {
    #[error(
        "{origin}: controls.\"{id}\" is not a monitoring control of CIS AWS Foundations v{version} (its metric-filter controls are {known})"
    )]
    UnknownControl {
        origin: String,
        id: String,
        version: String,
        known: String,
    },
    #[error(
        "{origin}: {field} gives controls {first} and {second} the same name `{name}`; each control needs its own (use {{id}} or {{slug}} in naming.{field})"
    )]
    DuplicateName {
        origin: String,
        field: &'static str,
        name: String,
        first: String,
        second: String,
    },
    #[error(
        "{origin}:{line}: exceptions.control: `{id}` is not a control of CIS AWS Foundations v{version}{hint} (`cis-fix controls` lists them)"
    )]
    UnknownExceptionControl {
        origin: String,
        line: usize,
        id: String,
        version: String,
        /// Where the id is a control of other versions: which.
        hint: String,
    },
    #[error("embedded {0}")]
    Prices(#[from] crate::prices::PriceError),
    #[error("benchmark v{version} control {id}: {message}")]
    Pattern {
        version: String,
        id: String,
        message: String,
    },
}

pub fn build(b: &Benchmark, config: &Config, origin: &str) -> Result<Desired, DesiredError> {
    let mut controls = Vec::new();
    for c in b.controls.iter().filter(|c| c.kind == Kind::MetricFilter) {
        let perr = |message: String| DesiredError::Pattern {
            version: b.version.clone(),
            id: c.id.clone(),
            message,
        };
        let text = c.pattern.clone().ok_or_else(|| perr("no pattern".into()))?;
        let pattern = crate::pattern::parse(&text).map_err(|e| perr(e.to_string()))?;
        let mut accepted = vec![pattern.clone()];
        for alt in &c.accepted_patterns {
            accepted.push(crate::pattern::parse(alt).map_err(|e| perr(e.to_string()))?);
        }
        let witnesses = c
            .samples
            .iter()
            .flat_map(|s| s.matching.iter())
            .filter(|e| accepted.iter().all(|a| a.matches(e)))
            .cloned()
            .collect();
        let names = config.controls.get(&c.id);
        let fill = |t: &str| fill(t, &b.version, c);
        controls.push(MonitoringControl {
            id: c.id.clone(),
            title: c.title.clone(),
            pattern_text: text,
            pattern,
            accepted,
            filter_name: names
                .and_then(|n| n.metric_filter.clone())
                .unwrap_or_else(|| fill(&config.naming.metric_filter)),
            metric_name: names
                .and_then(|n| n.metric.clone())
                .unwrap_or_else(|| fill(&config.naming.metric)),
            alarm_name: names
                .and_then(|n| n.alarm.clone())
                .unwrap_or_else(|| fill(&config.naming.alarm)),
            resource_name: format!("cis_{}", c.id.replace('.', "_")),
            // Every shipped control has `events` (a test checks); one
            // without is judged as needing every management event.
            events: c.events.clone().unwrap_or_else(EventScope::all),
            witnesses,
            noisy: noisy(&b.version, c),
        });
    }
    // One name per control: a shared name would make each write overwrite
    // the last, and the plan would never converge.
    for (field, name_of) in [
        (
            "metric_filter",
            (|c: &MonitoringControl| &c.filter_name) as fn(&MonitoringControl) -> &String,
        ),
        ("metric", |c| &c.metric_name),
        ("alarm", |c| &c.alarm_name),
    ] {
        for (i, a) in controls.iter().enumerate() {
            if let Some(b) = controls[i + 1..].iter().find(|b| name_of(b) == name_of(a)) {
                return Err(DesiredError::DuplicateName {
                    origin: origin.to_string(),
                    field,
                    name: name_of(a).clone(),
                    first: a.id.clone(),
                    second: b.id.clone(),
                });
            }
        }
    }
    if let Some(id) = config
        .controls
        .keys()
        .find(|id| !controls.iter().any(|c| &c.id == *id))
    {
        return Err(DesiredError::UnknownControl {
            origin: origin.to_string(),
            id: id.clone(),
            version: b.version.clone(),
            known: controls
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let trail_controls: Vec<TrailControl> = b
        .controls
        .iter()
        .filter(|c| c.kind == Kind::Trail)
        .filter_map(|c| {
            Some(TrailControl {
                id: c.id.clone(),
                title: c.title.clone(),
                aspect: c.trail.as_ref()?.check,
            })
        })
        .collect();
    let form = b
        .controls
        .iter()
        .filter_map(|c| c.trail.as_ref()?.management_events_form)
        .next()
        .unwrap_or(SelectorForm::Classic);
    let retired = retired_names(config, &controls);
    let exceptions = exceptions(b, config, origin)?;
    let cost = crate::prices::CostBasis {
        prices: crate::prices::PriceTable::embedded()?,
        flow_logs_gb_per_month: config.cost.flow_logs_gb_per_month,
    };
    Ok(Desired {
        benchmark_version: b.version.clone(),
        benchmark_title: b.title.clone(),
        control_order: b.controls.iter().map(|c| c.id.clone()).collect(),
        monitoring: DesiredMonitoring {
            namespace: config
                .metric_namespace
                .clone()
                .unwrap_or_else(|| b.monitoring.namespace.clone()),
            metric_value: b.monitoring.metric_value.clone(),
            alarm: b.monitoring.alarm.clone(),
            controls,
            topic: config.sns.topic.clone(),
            default_topic: DEFAULT_TOPIC.to_string(),
            subscriptions: config.sns.subscriptions.clone(),
            pattern_mode: config.patterns,
            preferred_trail: config.trail.clone(),
            retired,
        },
        trail: DesiredTrail {
            controls: trail_controls,
            form,
            names: trail_names(config),
            access_logs: config.cloudtrail.access_logs.clone(),
            preferred_trail: config.trail.clone(),
        },
        password: b
            .password_controls()
            .map(|(c, rule)| PasswordControl {
                id: c.id.clone(),
                title: c.title.clone(),
                rule,
            })
            .collect(),
        kms: b
            .controls
            .iter()
            .filter(|c| c.kind == Kind::Kms)
            .map(|c| KmsControl {
                id: c.id.clone(),
                title: c.title.clone(),
            })
            .collect(),
        flow_logs: DesiredFlowLogs {
            controls: b
                .controls
                .iter()
                .filter(|c| c.kind == Kind::Flowlogs)
                .map(|c| KmsControl {
                    id: c.id.clone(),
                    title: c.title.clone(),
                })
                .collect(),
            traffic_type: config.flow_logs.traffic_type.as_str().to_string(),
            target: flow_log_target(config),
        },
        regions: config.regions.clone(),
        network: NetworkControls {
            default_sg: simple(b, Kind::DefaultSg),
            admin_ports: admin_ports(b, Kind::SgAdminPorts),
            ebs: simple(b, Kind::EbsEncryption),
            nacl_admin_ports: admin_ports(b, Kind::NaclAdminPorts),
            imdsv2: simple(b, Kind::Imdsv2),
        },
        destructive: config.destructive,
        exceptions,
        cost,
    })
}

/// The administration-ports controls of `kind`, with what each checks.
fn admin_ports(b: &Benchmark, kind: Kind) -> Vec<AdminPortsControl> {
    b.controls
        .iter()
        .filter(|c| c.kind == kind)
        .filter_map(|c| {
            Some(AdminPortsControl {
                id: c.id.clone(),
                title: c.title.clone(),
                check: c.admin_ports.clone()?,
            })
        })
        .collect()
}

/// The config's exceptions, each naming a control of version `b`: an id
/// of another version is an error with the file and line, since it would
/// silently except nothing.
fn exceptions(
    b: &Benchmark,
    config: &Config,
    origin: &str,
) -> Result<Vec<Exception>, DesiredError> {
    config
        .exceptions
        .iter()
        .map(|e| {
            if !b.controls.iter().any(|c| c.id == e.control) {
                let elsewhere: Vec<&str> = crate::benchmark::all()
                    .iter()
                    .filter(|o| o.controls.iter().any(|c| c.id == e.control))
                    .map(|o| o.version.as_str())
                    .collect();
                return Err(DesiredError::UnknownExceptionControl {
                    origin: origin.to_string(),
                    line: e.line,
                    id: e.control.clone(),
                    version: b.version.clone(),
                    hint: if elsewhere.is_empty() {
                        String::new()
                    } else {
                        format!(" (it is one of v{})", elsewhere.join(", v"))
                    },
                });
            }
            Ok(Exception {
                control: e.control.clone(),
                resource: e.resource.clone(),
                reason: e.reason.trim().to_string(),
                approved_by: e.approved_by.as_ref().map(|a| a.trim().to_string()),
                expires: e.expires,
            })
        })
        .collect()
}

/// The controls of `kind`, by id and title.
fn simple(b: &Benchmark, kind: Kind) -> Vec<KmsControl> {
    b.controls
        .iter()
        .filter(|c| c.kind == kind)
        .map(|c| KmsControl {
            id: c.id.clone(),
            title: c.title.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_follow_the_control() {
        let b = crate::benchmark::load("3.0.0").expect("loads");
        let d = build(&b, &Config::default(), "defaults").expect("builds");
        let root = d
            .monitoring
            .controls
            .iter()
            .find(|c| c.id == "4.3")
            .expect("4.3");
        assert_eq!(root.filter_name, "cis-4.3-root-account-usage");
        assert_eq!(root.alarm_name, "cis-4.3-root-account-usage");
        assert_eq!(root.resource_name, "cis_4_3");
        assert_eq!(d.monitoring.namespace, "CISBenchmark");
    }

    #[test]
    fn names_must_differ_per_control() {
        let b = crate::benchmark::load("3.0.0").expect("loads");
        let c = Config::parse("naming:\n  alarm: cis-alarm\n", "c.yaml").expect("parses");
        let err = build(&b, &c, "c.yaml").unwrap_err().to_string();
        assert!(
            err.contains("controls 4.1 and 4.2 the same name `cis-alarm`"),
            "{err}"
        );
        let c = Config::parse(
            "controls:\n  \"4.3\":\n    metric: cis-4.4-iam-policy-changes\n",
            "c.yaml",
        )
        .expect("parses");
        let err = build(&b, &c, "c.yaml").unwrap_err().to_string();
        assert!(err.contains("metric gives controls 4.3 and 4.4"), "{err}");
        let c = Config::parse("naming:\n  metric: \"{slug}\"\n", "c.yaml").expect("parses");
        assert!(build(&b, &c, "c.yaml").is_ok());
    }

    #[test]
    fn a_pattern_that_matches_routine_activity_is_flagged_with_the_fix() {
        for v in ["1.4.0", "1.5.0"] {
            let b = crate::benchmark::load(v).expect("loads");
            let d = build(&b, &Config::default(), "defaults").expect("builds");
            let c41 = d
                .monitoring
                .controls
                .iter()
                .find(|c| c.id == "4.1")
                .expect("4.1");
            let n = c41.noisy.as_ref().expect("4.1 is noisy");
            assert!(n.fixed_in.is_some(), "{v}: {n:?}");
        }
        let b = crate::benchmark::load("3.0.0").expect("loads");
        let d = build(&b, &Config::default(), "defaults").expect("builds");
        assert!(d.monitoring.controls.iter().all(|c| c.noisy.is_none()));
    }

    #[test]
    fn exceptions_name_controls_of_the_version() {
        let b = crate::benchmark::load("3.0.0").expect("loads");
        let c = Config::parse(
            "exceptions:\n  - control: \"4.3\"\n    reason: x\n    expires: 2027-01-01\n    approved_by: \" CISO \"\n",
            "c.yaml",
        )
        .expect("parses");
        let d = build(&b, &c, "c.yaml").expect("builds");
        assert_eq!(d.exceptions.len(), 1);
        assert_eq!(d.exceptions[0].approved_by.as_deref(), Some("CISO"));
        // No version has 9.9; 1.5 is a control of v1.2.0, not of v3.0.0.
        for (id, hint) in [("9.9", ""), ("1.5", " (it is one of v1.2.0")] {
            let c = Config::parse(
                &format!("sns: {{}}\nexceptions:\n  - reason: x\n    control: \"{id}\"\n    expires: 2027-01-01\n"),
                "c.yaml",
            )
            .expect("parses");
            let err = build(&b, &c, "c.yaml").unwrap_err().to_string();
            assert!(
                err.starts_with(&format!(
                    "c.yaml:3: exceptions.control: `{id}` is not a control of CIS AWS Foundations v3.0.0{hint}"
                )),
                "{err}"
            );
        }
    }

    #[test]
    fn overrides_and_unknown_control() {
        let b = crate::benchmark::load("3.0.0").expect("loads");
        let c = Config::parse(
            "metric_namespace: Sec\ncontrols:\n  \"4.3\":\n    alarm: root-alarm\n",
            "c.yaml",
        )
        .expect("parses");
        let d = build(&b, &c, "c.yaml").expect("builds");
        let root = d
            .monitoring
            .controls
            .iter()
            .find(|c| c.id == "4.3")
            .expect("4.3");
        assert_eq!(root.alarm_name, "root-alarm");
        assert_eq!(d.monitoring.namespace, "Sec");
        let c = Config::parse("controls:\n  \"3.3\":\n    alarm: x\n", "c.yaml").expect("parses");
        let err = build(&b, &c, "c.yaml").unwrap_err().to_string();
        assert!(err.contains("controls.\"3.3\""), "{err}");
    }
}
