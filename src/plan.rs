//! The plan as data: what will change, why, and where each control stands.
//! Rendering and applying read this; neither decides anything. Every fact
//! a reader acts on is a field (who must confirm, what blocks a control,
//! which notice comes first), never a phrase to search for in a message.
//!
//! This is cis-fix's own form of a plan; `jsonplan` is the documented,
//! versioned form it is shown in, as Terraform keeps `jsonplan` apart from
//! its internal plan.

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::date::Date;
pub use crate::kinds::Action;
use crate::kinds::Resource;
use crate::observed::CallFailure;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub benchmark: String,
    pub benchmark_title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Who read the account (STS), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_arn: Option<String>,
    /// The regions read.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Controls of the version that cis-fix does not manage (yet).
    #[serde(default)]
    pub unmanaged: Vec<String>,
    /// Facts the user must know before reading the changes, most pressing
    /// first (see [`Notice::rank`]).
    pub notices: Vec<Notice>,
    pub changes: Vec<Change>,
    /// Changes that would fix a control but can cut running workloads off,
    /// and were not opted in to: shown with their evidence, never applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_back: Vec<HeldBack>,
    pub controls: Vec<ControlReport>,
    /// Reads that failed for good. Even when no control's verdict depends on
    /// one, a scheduled run must hear about it.
    #[serde(default)]
    pub failed_reads: Vec<CallFailure>,
    /// What `changes` add to the monthly bill at list price (`None` only in
    /// plans made by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::cost::Cost>,
}

/// Something the plan must say before its changes, as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// DescribeTrails failed: no monitoring control can be judged.
    TrailsUnreadable {
        failure: CallFailure,
    },
    /// No trail carries management events to CloudWatch Logs: every
    /// monitoring control is blocked on it. `rejected`: why each trail fails.
    NoQualifyingTrail {
        rejected: Vec<String>,
    },
    ReadsFailed {
        failures: Vec<CallFailure>,
    },
    /// The trail the config names does not qualify; another one is used.
    PreferredTrailIgnored {
        configured: String,
        trail: String,
        log_group: String,
    },
    /// Some trails qualify and others do not: which are used.
    UsingTrails {
        trails: Vec<String>,
        rejected: Vec<String>,
    },
    /// Nobody would receive the alarms (no confirmed subscription, none
    /// configured): `apply` refuses to build a chain that ends at nobody.
    NobodyToNotify {
        topic: String,
    },
    /// The benchmark's own pattern for a control matches routine activity:
    /// an alarm on it sits in ALARM and never notifies per event.
    NoisyPattern {
        control: String,
        version: String,
        matches: String,
        fixed_in: Option<String>,
    },
    /// Several trails could be fixed: which one is, and why; what the
    /// others lack.
    FixingTrail {
        trail: String,
        why: String,
        others: Vec<String>,
    },
    /// Keys the KMS rotation control does not apply to, each with why:
    /// listed, never changed.
    KmsKeysSkipped {
        keys: Vec<SkippedKey>,
    },
    /// A filter of cis-fix's that no control needs stays, because alarms
    /// that are not cis-fix's to retire watch its metric.
    RetirementKept {
        filter: String,
        log_group: String,
        alarms: Vec<String>,
    },
    /// An exception's date has come: what it covered is judged again.
    ExceptionExpired {
        control: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource: Option<String>,
        expired: Date,
    },
    /// An exception ends within [`EXPIRY_WARNING_DAYS`]: someone must renew
    /// it or plan the fix before it does.
    ExceptionExpiring {
        control: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource: Option<String>,
        expires: Date,
        days: i64,
    },
    /// An exception in force that excepts nothing: the control holds, or
    /// the resource is not among its failing ones (a typo, or fixed since).
    ExceptionUnused {
        control: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource: Option<String>,
    },
}

/// How many days before its expiry a plan warns about an exception.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// `4.3` or `5.4 resource sg-0abc`, for messages.
fn excepted_what(control: &str, resource: Option<&str>) -> String {
    match resource {
        Some(r) => format!("{control} resource `{r}`"),
        None => control.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Notice {
    pub fn severity(&self) -> Severity {
        match self {
            Notice::TrailsUnreadable { .. }
            | Notice::NoQualifyingTrail { .. }
            | Notice::ReadsFailed { .. }
            | Notice::NobodyToNotify { .. } => Severity::Error,
            Notice::PreferredTrailIgnored { .. }
            | Notice::NoisyPattern { .. }
            | Notice::ExceptionExpired { .. }
            | Notice::ExceptionExpiring { .. } => Severity::Warning,
            Notice::UsingTrails { .. }
            | Notice::RetirementKept { .. }
            | Notice::FixingTrail { .. }
            | Notice::KmsKeysSkipped { .. }
            | Notice::ExceptionUnused { .. } => Severity::Info,
        }
    }

    /// Reading order: what blocks whole families first, then failed reads,
    /// then warnings, then information.
    pub fn rank(&self) -> u8 {
        match self {
            Notice::TrailsUnreadable { .. } | Notice::NoQualifyingTrail { .. } => 0,
            Notice::ReadsFailed { .. } | Notice::NobodyToNotify { .. } => 1,
            Notice::PreferredTrailIgnored { .. }
            | Notice::NoisyPattern { .. }
            | Notice::ExceptionExpired { .. }
            | Notice::ExceptionExpiring { .. } => 2,
            Notice::UsingTrails { .. }
            | Notice::RetirementKept { .. }
            | Notice::FixingTrail { .. }
            | Notice::KmsKeysSkipped { .. }
            | Notice::ExceptionUnused { .. } => 3,
        }
    }

    /// The notice's kind, as in the JSON plan.
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::TrailsUnreadable { .. } => "trails_unreadable",
            Notice::NoQualifyingTrail { .. } => "no_qualifying_trail",
            Notice::ReadsFailed { .. } => "reads_failed",
            Notice::NobodyToNotify { .. } => "nobody_to_notify",
            Notice::PreferredTrailIgnored { .. } => "preferred_trail_ignored",
            Notice::NoisyPattern { .. } => "noisy_pattern",
            Notice::UsingTrails { .. } => "using_trails",
            Notice::RetirementKept { .. } => "retirement_kept",
            Notice::FixingTrail { .. } => "fixing_trail",
            Notice::KmsKeysSkipped { .. } => "kms_keys_skipped",
            Notice::ExceptionExpired { .. } => "exception_expired",
            Notice::ExceptionExpiring { .. } => "exception_expiring",
            Notice::ExceptionUnused { .. } => "exception_unused",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Notice::TrailsUnreadable { .. } => {
                "Trails could not be read, so no monitoring control can be judged.".into()
            }
            Notice::NoQualifyingTrail { .. } => "No CloudTrail trail qualifies: the monitoring controls need a multi-region trail that is logging all read and write management events to a CloudWatch Logs log group. They are blocked until one does.".into(),
            Notice::ReadsFailed { .. } => "Some reads failed; what depends on them is unknown and nothing is planned from missing data.".into(),
            Notice::PreferredTrailIgnored {
                configured,
                trail,
                log_group,
            } => format!(
                "config names trail `{configured}`, which does not qualify; new filters go to `{log_group}` of trail `{trail}`"
            ),
            Notice::NobodyToNotify { topic } => format!(
                "Nobody would receive the alarms: topic `{topic}` has no confirmed subscription and none is configured. `apply` makes no change until the config names someone under sns.subscriptions (`cis-fix init --email ADDRESS` writes one)."
            ),
            Notice::NoisyPattern {
                control,
                version,
                matches,
                fixed_in,
            } => format!(
                "CIS v{version} {control}'s own pattern also matches routine activity ({matches}), so its alarm stays in ALARM and never notifies per event; {}",
                match fixed_in {
                    Some(v) => format!("v{v} fixes the pattern: plan with --benchmark {v} or later"),
                    None => "no later version fixes it".into(),
                }
            ),
            Notice::RetirementKept {
                filter,
                log_group,
                alarms,
            } => format!(
                "Filter `{filter}` on log group `{log_group}` is cis-fix's own and no control needs it, but it stays: {} watch{} its metric.",
                alarms.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", "),
                if alarms.len() == 1 { "es" } else { "" }
            ),
            Notice::FixingTrail { trail, why, .. } => {
                format!("Fixing trail `{trail}` in place: {why}.")
            }
            Notice::KmsKeysSkipped { keys } => format!(
                "{} KMS key{} outside the key rotation control, left as {}:",
                keys.len(),
                if keys.len() == 1 { " is" } else { "s are" },
                if keys.len() == 1 { "it is" } else { "they are" }
            ),
            Notice::UsingTrails { trails, .. } => format!(
                "Using trail{} {} for the monitoring controls; other trails do not qualify.",
                if trails.len() == 1 { "" } else { "s" },
                trails.join(", ")
            ),
            Notice::ExceptionExpired {
                control,
                resource,
                expired,
            } => format!(
                "The exception for {} expired on {expired}: it is judged again, and fixed where it fails.",
                excepted_what(control, resource.as_deref())
            ),
            Notice::ExceptionExpiring {
                control,
                resource,
                expires,
                days,
            } => format!(
                "The exception for {} expires on {expires}, in {days} day{}: renew it in cis-fix.yaml or plan the fix.",
                excepted_what(control, resource.as_deref()),
                if *days == 1 { "" } else { "s" }
            ),
            Notice::ExceptionUnused { control, resource } => match resource {
                Some(_) => format!(
                    "The exception for {} excepts nothing: no change for that control matches it.",
                    excepted_what(control, resource.as_deref())
                ),
                None => format!(
                    "The exception for {control} excepts nothing: the control is compliant, or not managed by cis-fix."
                ),
            },
        }
    }

    pub fn details(&self) -> Vec<String> {
        match self {
            Notice::TrailsUnreadable { failure } => vec![failure.to_string()],
            Notice::NoQualifyingTrail { rejected } if rejected.is_empty() => {
                vec!["the account has no CloudTrail trails".into()]
            }
            Notice::NoQualifyingTrail { rejected } | Notice::UsingTrails { rejected, .. } => {
                rejected.clone()
            }
            Notice::ReadsFailed { failures } => failures.iter().map(ToString::to_string).collect(),
            Notice::FixingTrail { others, .. } => others.clone(),
            Notice::KmsKeysSkipped { keys } => keys.iter().map(ToString::to_string).collect(),
            Notice::PreferredTrailIgnored { .. }
            | Notice::RetirementKept { .. }
            | Notice::NoisyPattern { .. }
            | Notice::NobodyToNotify { .. }
            | Notice::ExceptionExpired { .. }
            | Notice::ExceptionExpiring { .. }
            | Notice::ExceptionUnused { .. } => vec![],
        }
    }
}

/// An opt-in a destructive change waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptIn {
    /// Emptying each VPC's default security group.
    DefaultSecurityGroups,
    /// Revoking security group rules open to the world on an
    /// administration port.
    AdminPortRules,
    /// Adding network ACL entries that deny the world an administration
    /// port.
    NetworkAclRules,
    /// Requiring IMDSv2 on instances.
    InstanceMetadata,
}

impl OptIn {
    /// The command-line flag that gives every opt-in at once.
    pub const FLAG: &'static str = "--allow-destructive";

    /// Its key under `destructive:` in cis-fix.yaml.
    pub fn key(self) -> &'static str {
        match self {
            OptIn::DefaultSecurityGroups => "default_security_groups",
            OptIn::AdminPortRules => "admin_port_rules",
            OptIn::NetworkAclRules => "network_acl_rules",
            OptIn::InstanceMetadata => "instance_metadata",
        }
    }

    /// The setting, as the user writes it: `destructive.default_security_groups`.
    pub fn setting(self) -> String {
        format!("destructive.{}", self.key())
    }

    /// What it lets cis-fix do, in words.
    pub fn what(self) -> &'static str {
        match self {
            OptIn::DefaultSecurityGroups => {
                "revoke every rule of each VPC's default security group"
            }
            OptIn::AdminPortRules => {
                "revoke security group rules that admit the internet to administration ports"
            }
            OptIn::NetworkAclRules => {
                "add network ACL entries that deny the internet administration ports"
            }
            OptIn::InstanceMetadata => "require IMDSv2 (session tokens) on instances",
        }
    }

    /// How to give it, for messages.
    pub fn how(self) -> String {
        format!(
            "pass {} to plan and apply, or set `{}: true` in cis-fix.yaml",
            Self::FLAG,
            self.setting()
        )
    }
}

/// A change held back until its opt-in is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldBack {
    pub change: Change,
    pub opt_in: OptIn,
}

/// A key outside the KMS rotation control, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedKey {
    pub region: String,
    pub key_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(flatten)]
    pub skip: crate::kinds::kms_key_rotation::Skip,
}

/// `eu-west-1 key 1234abcd-… (alias/app): pending deletion`.
impl std::fmt::Display for SkippedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} key {}", self.region, self.key_id)?;
        if !self.aliases.is_empty() {
            write!(f, " ({})", self.aliases.join(", "))?;
        }
        write!(f, ": {}", self.skip)
    }
}

/// One resource that will be created, changed or destroyed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub address: Address,
    pub action: Action,
    /// The controls this change serves.
    pub controls: Vec<String>,
    /// Why the change is needed, in words.
    pub reason: String,
    /// The resource as it is (`None` when it is created).
    pub before: Option<Resource>,
    /// The resource as it will be (`None` when it is destroyed).
    pub after: Option<Resource>,
    /// Changes that must be applied first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Address>,
}

impl Change {
    /// The resource the change acts on, as it will be or, for a destroy,
    /// as it is.
    pub fn resource(&self) -> Option<&Resource> {
        self.after.as_ref().or(self.before.as_ref())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlStatus {
    /// Every link from event to person is in place now.
    Compliant,
    /// The planned changes complete the chain.
    WillFix,
    /// Only a person confirming an SNS subscription is missing.
    PendingConfirmation,
    /// Something cis-fix does not fix (yet) stands in the way.
    Blocked,
    /// A read failed: cis-fix cannot tell, and plans nothing for it.
    Unknown,
    /// Not compliant, and left so on purpose until an exception expires:
    /// nothing is changed for it, and it needs no action.
    Excepted,
}

impl ControlStatus {
    pub fn label(self) -> &'static str {
        match self {
            ControlStatus::Compliant => "compliant",
            ControlStatus::WillFix => "will-fix",
            ControlStatus::PendingConfirmation => "pending-confirmation",
            ControlStatus::Blocked => "blocked",
            ControlStatus::Unknown => "unknown",
            ControlStatus::Excepted => "excepted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlReport {
    pub id: String,
    pub title: String,
    pub status: ControlStatus,
    /// Why, in words: the chain that holds, the steps planned, what blocks.
    pub reason: String,
    /// What holds the control back when it is something that can hold
    /// several at once: output says it once, with the controls it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// The exception that excepts the whole control (status `excepted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Grant>,
    /// Resources under the control that are excepted, and so not changed,
    /// while the control is judged on the rest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excepted: Vec<ExceptedResource>,
}

/// What an exception grants, as the user wrote it in cis-fix.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// The first day it no longer holds.
    pub expires: Date,
}

/// `until 2027-03-31, approved by Jane: <reason>`.
impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "until {}", self.expires)?;
        if let Some(a) = &self.approved_by {
            write!(f, ", approved by {a}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// A resource excepted under a control: the selector as written and the
/// changes it kept out of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptedResource {
    /// As written in cis-fix.yaml (`sg-0abc…`, `eu-west-1`, an address).
    pub resource: String,
    /// The changes not made because of it.
    pub addresses: Vec<Address>,
    /// Changes it names that are made all the same, because a control that
    /// is not excepted, or another change, needs them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_anyway: Vec<Address>,
    pub exception: Grant,
}

/// A shared reason a control is not (yet) compliant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cause {
    /// No trail carries management events to CloudWatch Logs.
    NoQualifyingTrail,
    /// A read the verdict needs failed.
    ReadFailed { failure: Box<CallFailure> },
    /// The topic has no confirmed subscription and none is configured.
    NoSubscriber { topic: String },
    /// Alarms reach nobody until a person confirms a subscription.
    AwaitingConfirmation {
        topic: String,
        endpoints: Vec<String>,
    },
    /// Only the user can decide a value: the setting of cis-fix.yaml to set.
    NeedsSetting { setting: String },
    /// What must change belongs to another account (an organization trail).
    OtherAccount { account: String },
    /// The fix can cut running workloads off and waits for an opt-in:
    /// `what` it does, the `flag` and the `setting` that give it.
    NeedsOptIn {
        what: String,
        flag: String,
        setting: String,
    },
}

impl Cause {
    pub fn needs_opt_in(o: OptIn) -> Cause {
        Cause::NeedsOptIn {
            what: o.what().to_string(),
            flag: OptIn::FLAG.to_string(),
            setting: o.setting(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

impl Summary {
    pub fn of(changes: &[Change]) -> Summary {
        Summary::of_actions(changes.iter().map(|c| c.action))
    }

    /// Terraform's count: a replacement is one to add and one to destroy.
    pub fn of_actions(actions: impl Iterator<Item = Action>) -> Summary {
        let mut s = Summary::default();
        for a in actions {
            match a {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Delete => s.destroy += 1,
                Action::Replace => {
                    s.add += 1;
                    s.destroy += 1;
                }
            }
        }
        s
    }
}

impl Plan {
    pub fn summary(&self) -> Summary {
        Summary::of(&self.changes)
    }

    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// True when some control could not be judged or some read failed:
    /// schedules must alert (exit code 1).
    pub fn is_incomplete(&self) -> bool {
        !self.failed_reads.is_empty()
            || self
                .controls
                .iter()
                .any(|c| c.status == ControlStatus::Unknown)
    }

    /// Whether a scheduled run should hear about this plan: something to
    /// change, or a control that is not compliant (blocked, or waiting for
    /// a person). An excepted control was decided on: it needs nothing.
    pub fn needs_action(&self) -> bool {
        self.has_changes()
            || self
                .controls
                .iter()
                .any(|c| !matches!(c.status, ControlStatus::Compliant | ControlStatus::Excepted))
    }

    pub fn change(&self, address: &Address) -> Option<&Change> {
        self.changes.iter().find(|c| &c.address == address)
    }
}
