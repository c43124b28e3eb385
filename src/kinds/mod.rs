//! The registry of resource kinds. Each kind is one module that says
//! everything about itself: its data, its Terraform type name, the reads that
//! find it (with their IAM actions), how it is found in a snapshot, which
//! changes force a replacement, and the write calls each action makes (with
//! their IAM actions and resources). The plan, renderer, apply engine,
//! permission check and `controls` dispatch through this registry, so a new
//! kind is its module, a line in each list below, its reader/writer in
//! `aws/`, and its tests.
//!
//! Kinds are data and descriptions only: no I/O. `aws` turns reads into
//! [`ReadData`] and carries out [`WriteCall`]s, so both directions cross the
//! SDK boundary in one place, and a write is a value that can be shown,
//! journalled or exported before it is made.

pub mod cloudtrail;
pub mod ebs_encryption;
pub mod flow_log;
pub mod iam_role;
pub mod instance_metadata;
pub mod kms_key;
pub mod kms_key_rotation;
pub mod log_group;
pub mod metric_alarm;
pub mod metric_filter;
pub mod network_acl;
pub mod password_policy;
pub mod s3_bucket;
pub mod security_group;
pub mod sns_subscription;
pub mod sns_topic;
pub mod trail;

use serde::{Deserialize, Serialize};

use crate::address::{Address, Location};
use crate::arn::Arn;
use crate::observed::CallFailure;
pub use cloudtrail::{CloudTrail, TrailSettings};
pub use ebs_encryption::EbsEncryptionByDefault;
pub use flow_log::{FlowLog, FlowLogFacts, Vpc};
pub use iam_role::{IamRole, InlinePolicy};
pub use instance_metadata::{InstanceFacts, InstanceMetadataOptions};
pub use kms_key::{KmsKey, KmsKeyFacts};
pub use kms_key_rotation::KmsKeyRotation;
pub use log_group::LogGroup;
pub use metric_alarm::MetricAlarm;
pub use metric_filter::MetricFilter;
pub use network_acl::{NaclEntry, NetworkAclFacts, NetworkAclRule, NewNaclEntry};
pub use password_policy::PasswordPolicy;
pub use s3_bucket::{
    BucketFacts, BucketLogging, BucketPublicAccessBlock, PublicAccessBlock, S3Bucket,
};
pub use security_group::{
    DefaultSecurityGroup, InterfaceUse, SecurityGroupFacts, SecurityGroupIngressRule, SgRule,
};
pub use sns_subscription::{Subscription, protocol_needs_confirmation};
pub use sns_topic::{Topic, TopicAttributes};
pub use trail::{
    AdvancedSelector, BasicSelector, DataResource, EventSelectors, FieldSelector, LogGroupRef,
    Trail, TrailStatus,
};

/// What a planned change does to its resource (Terraform's actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    /// Delete, then create: an attribute that cannot change in place does.
    Replace,
    Delete,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
        }
    }

    /// Terraform's symbol for the action.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }
}

/// A value known now, or only once an earlier change of the same plan has
/// been applied (Terraform's "known after apply"): never a made-up string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Deferred {
    Known(String),
    /// The attribute `attr` of the resource at `address`, e.g. the ARN of a
    /// topic the same plan creates.
    AfterApply {
        after_apply: Address,
        attr: String,
    },
    /// The attribute `made` of what an earlier call of the same change made
    /// (the key CreateKey returns, for CreateAlias and EnableKeyRotation).
    Made {
        made: String,
    },
}

impl Deferred {
    pub fn after_apply(address: &Address, attr: &str) -> Self {
        Deferred::AfterApply {
            after_apply: address.clone(),
            attr: attr.to_string(),
        }
    }

    pub fn known(&self) -> Option<&str> {
        match self {
            Deferred::Known(s) => Some(s),
            Deferred::AfterApply { .. } | Deferred::Made { .. } => None,
        }
    }

    /// Its value, with `outputs` answering for what the run has made
    /// (`None` as the address: the change being applied).
    pub fn resolve(&self, outputs: Outputs<'_>) -> Result<String, String> {
        match self {
            Deferred::Known(s) => Ok(s.clone()),
            Deferred::AfterApply { after_apply, attr } => outputs(Some(after_apply), attr)
                .ok_or_else(|| {
                    format!(
                        "{after_apply}.{attr} is not known: the change that makes it did not run"
                    )
                }),
            Deferred::Made { made } => outputs(None, made).ok_or_else(|| {
                format!(
                    "the {made} of what this change makes is not known: its first call did not run"
                )
            }),
        }
    }
}

impl std::fmt::Display for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Deferred::Known(s) => f.write_str(s),
            Deferred::AfterApply { after_apply, attr } => write!(f, "{after_apply}.{attr}"),
            Deferred::Made { made } => write!(f, "(the {made} of what this change makes)"),
        }
    }
}

impl From<String> for Deferred {
    fn from(s: String) -> Self {
        Deferred::Known(s)
    }
}

impl From<&str> for Deferred {
    fn from(s: &str) -> Self {
        Deferred::Known(s.to_string())
    }
}

/// Answers for values known only after apply: `(Some(address), attr)` for
/// an earlier change's output, `(None, attr)` for the change being applied.
pub type Outputs<'a> = &'a dyn Fn(Option<&Address>, &str) -> Option<String>;

/// What one kind says about itself.
pub trait Kind: Sized {
    /// Terraform's resource type name.
    const TYPE: &'static str;
    /// The IAM actions of the reads that find resources of this kind.
    const READ_ACTIONS: &'static [&'static str];
    /// The IAM actions its writes may need, for the shipped policies.
    const WRITE_ACTIONS: &'static [&'static str];
    /// What the kind is, in a few words, for `controls` and messages.
    const LABEL: &'static str;
    /// Whether an update shows the attributes it keeps as well as those it
    /// changes: for a kind whose write replaces the whole resource, what is
    /// sent unchanged matters as much as what changes.
    const SHOWS_KEPT: bool = false;

    /// The calls that take the resource from `before` to `after`.
    fn calls(action: Action, before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall>;

    /// Why `after` cannot be reached from `before` in place, if it cannot.
    fn forces_replacement(_before: &Self, _after: &Self) -> Option<String> {
        None
    }

    /// What the user must know once the resource is made (a subscription
    /// waiting for its confirmation link to be followed).
    fn applied_note(&self) -> Option<String> {
        None
    }

    /// The ARN the resource will have once created at `at`, where its name
    /// decides it: IAM judges calls on it before it exists.
    fn planned_arn(&self, _at: &Location, _partition: &str) -> Option<String> {
        None
    }
}

macro_rules! registry {
    ($($tag:literal => $variant:ident($ty:ty)),+ $(,)?) => {
        /// A resource of any kind, as planned: the tag names its Terraform type.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type")]
        pub enum Resource {
            $(
                #[serde(rename = $tag)]
                $variant($ty),
            )+
        }

        impl Resource {
            pub fn type_name(&self) -> &'static str {
                match self { $(Resource::$variant(_) => <$ty as Kind>::TYPE,)+ }
            }

            pub fn label(&self) -> &'static str {
                match self { $(Resource::$variant(_) => <$ty as Kind>::LABEL,)+ }
            }

            pub fn applied_note(&self) -> Option<String> {
                match self { $(Resource::$variant(x) => x.applied_note(),)+ }
            }

            pub fn planned_arn(&self, at: &Location, partition: &str) -> Option<String> {
                match self { $(Resource::$variant(x) => x.planned_arn(at, partition),)+ }
            }
        }

        /// The calls that carry out `action`; `before` and `after` are of
        /// one kind (the diff never mixes them).
        pub fn calls(action: Action, before: Option<&Resource>, after: Option<&Resource>) -> Vec<WriteCall> {
            match before.or(after) {
                $(Some(Resource::$variant(_)) => {
                    let b = match before { Some(Resource::$variant(x)) => Some(x), _ => None };
                    let a = match after { Some(Resource::$variant(x)) => Some(x), _ => None };
                    <$ty as Kind>::calls(action, b, a)
                })+
                None => vec![],
            }
        }

        /// Why `before` → `after` must be a replacement, if it must.
        pub fn forces_replacement(before: &Resource, after: &Resource) -> Option<String> {
            match (before, after) {
                $((Resource::$variant(b), Resource::$variant(a)) => <$ty as Kind>::forces_replacement(b, a),)+
                #[allow(unreachable_patterns)]
                _ => Some("the resource changes kind".into()),
            }
        }

        /// Every kind cis-fix plans, for listings and the shipped IAM policies.
        pub const KINDS: &[KindInfo] = &[
            $(KindInfo {
                type_name: <$ty as Kind>::TYPE,
                serde_tag: $tag,
                label: <$ty as Kind>::LABEL,
                read_actions: <$ty as Kind>::READ_ACTIONS,
                write_actions: <$ty as Kind>::WRITE_ACTIONS,
                shows_kept: <$ty as Kind>::SHOWS_KEPT,
            },)+
        ];
    };
}

/// A kind's description.
#[derive(Debug, Clone, Copy)]
pub struct KindInfo {
    pub type_name: &'static str,
    /// The JSON tag of the kind (serde needs a literal; a test keeps it equal
    /// to `type_name`).
    pub serde_tag: &'static str,
    pub label: &'static str,
    pub read_actions: &'static [&'static str],
    pub write_actions: &'static [&'static str],
    /// An update shows every attribute, the kept ones too (see
    /// [`Kind::SHOWS_KEPT`]).
    pub shows_kept: bool,
}

/// The description of the kind with Terraform type `type_name`.
pub fn kind_info(type_name: &str) -> Option<&'static KindInfo> {
    KINDS.iter().find(|k| k.type_name == type_name)
}

registry! {
    "aws_cloudwatch_log_metric_filter" => MetricFilter(MetricFilter),
    "aws_cloudwatch_metric_alarm" => MetricAlarm(MetricAlarm),
    "aws_sns_topic" => Topic(Topic),
    "aws_sns_topic_subscription" => Subscription(Subscription),
    "aws_cloudtrail" => CloudTrail(CloudTrail),
    "aws_cloudwatch_log_group" => LogGroup(LogGroup),
    "aws_iam_role" => IamRole(IamRole),
    "aws_kms_key" => KmsKey(KmsKey),
    "aws_kms_key_rotation" => KmsKeyRotation(KmsKeyRotation),
    "aws_s3_bucket" => S3Bucket(S3Bucket),
    "aws_s3_bucket_public_access_block" => BucketPublicAccessBlock(BucketPublicAccessBlock),
    "aws_s3_bucket_logging" => BucketLogging(BucketLogging),
    "aws_iam_account_password_policy" => PasswordPolicy(PasswordPolicy),
    "aws_flow_log" => FlowLog(FlowLog),
    "aws_default_security_group" => DefaultSecurityGroup(DefaultSecurityGroup),
    "aws_vpc_security_group_ingress_rule" => SecurityGroupIngressRule(SecurityGroupIngressRule),
    "aws_ebs_encryption_by_default" => EbsEncryptionByDefault(EbsEncryptionByDefault),
    "aws_network_acl_rule" => NetworkAclRule(NetworkAclRule),
    "aws_instance_metadata_options" => InstanceMetadataOptions(InstanceMetadataOptions),
}

/// What one read returned: each variant is the payload of one kind of read
/// (the snapshot keys it by call, region and resource).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// A snapshot holds a handful of bucket reads: their size costs nothing,
// and boxing them would only make every reader and test say `Box`.
#[allow(clippy::large_enum_variant)]
pub enum ReadData {
    Trails(Vec<Trail>),
    MetricFilters(Vec<MetricFilter>),
    Alarms(Vec<MetricAlarm>),
    Topics(Vec<Topic>),
    Subscriptions(Vec<Subscription>),
    /// `None`: the topic does not exist (a fact, not a failure).
    TopicAttributes(Option<TopicAttributes>),
    LogGroups(Vec<LogGroup>),
    /// `None`: the role does not exist.
    Role(Option<IamRole>),
    KmsKeys(Vec<KmsKeyFacts>),
    /// The regions enabled for the account (EC2 DescribeRegions).
    Regions(Vec<String>),
    /// Every VPC of a region.
    Vpcs(Vec<Vpc>),
    /// Every flow log of a region.
    FlowLogs(Vec<FlowLogFacts>),
    /// `None`: the bucket does not exist.
    Bucket(Option<BucketFacts>),
    /// `None`: the account has no password policy (`NoSuchEntity`, a fact,
    /// not a failure).
    PasswordPolicy(Option<PasswordPolicy>),
    /// A region's security groups, each with its rules.
    SecurityGroups(Vec<SecurityGroupFacts>),
    /// A region's network interfaces: who uses each group.
    NetworkInterfaces(Vec<InterfaceUse>),
    /// Whether EBS encryption by default is on in the region.
    EbsEncryptionByDefault(bool),
    /// A region's network ACLs, each with its entries and subnets.
    NetworkAcls(Vec<NetworkAclFacts>),
    /// A region's instances that EC2 can still change, with their metadata
    /// options.
    Instances(Vec<InstanceFacts>),
}

impl ReadData {
    /// Reads made for items of this one (a trail's status and selectors,
    /// read per trail) that failed.
    pub fn nested_failures(&self) -> Vec<&CallFailure> {
        match self {
            ReadData::Trails(ts) => ts
                .iter()
                .flat_map(|t| [t.status.as_ref().err(), t.selectors.as_ref().err()])
                .flatten()
                .collect(),
            ReadData::KmsKeys(ks) => ks
                .iter()
                .flat_map(|k| {
                    [
                        k.rotation_enabled.as_ref().and_then(|r| r.as_ref().err()),
                        k.policy.as_ref().and_then(|r| r.as_ref().err()),
                    ]
                })
                .flatten()
                .collect(),
            ReadData::Bucket(Some(b)) => [
                b.region.as_ref().err(),
                b.policy.as_ref().err(),
                b.policy_public.as_ref().err(),
                b.public_acl_grants.as_ref().err(),
                b.public_access_block.as_ref().err(),
                b.logging.as_ref().err(),
                b.object_ownership.as_ref().err(),
            ]
            .into_iter()
            .flatten()
            .collect(),
            _ => vec![],
        }
    }
}

/// One write call, with our types: what `aws` executes, and what the
/// permission check and (later) the journal read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum WriteCall {
    PutMetricFilter(MetricFilter),
    DeleteMetricFilter {
        log_group_name: String,
        filter_name: String,
    },
    /// Every attribute is sent: PutMetricAlarm replaces the whole alarm.
    PutMetricAlarm(MetricAlarm),
    DeleteAlarm {
        name: String,
    },
    /// Idempotent by name: returns the existing topic's ARN.
    CreateTopic {
        name: String,
    },
    Subscribe {
        topic_arn: Deferred,
        protocol: String,
        endpoint: String,
    },
    /// Returns the trail's ARN.
    CreateTrail {
        name: String,
        s3_bucket_name: String,
        settings: TrailSettings,
    },
    /// `trail`: its ARN (or name, in its home region).
    UpdateTrail {
        trail: String,
        settings: TrailSettings,
    },
    /// Replaces every selector of the trail: `selectors` holds the ones kept.
    PutEventSelectors {
        trail: String,
        selectors: EventSelectors,
    },
    StartLogging {
        trail: String,
    },
    CreateLogGroup {
        name: String,
    },
    CreateRole {
        name: String,
        assume_role_policy: String,
    },
    UpdateAssumeRolePolicy {
        name: String,
        policy: String,
    },
    PutRolePolicy {
        role: String,
        policy_name: String,
        policy: String,
    },
    /// Returns the key's ARN.
    CreateKey {
        description: String,
        policy: String,
    },
    CreateAlias {
        alias: String,
        key: Deferred,
    },
    EnableKeyRotation {
        key: Deferred,
    },
    PutKeyPolicy {
        key: Deferred,
        policy: String,
    },
    /// In the region of the change; a bucket this account already owns
    /// counts as made.
    CreateBucket {
        bucket: String,
    },
    PutBucketOwnershipControls {
        bucket: String,
        object_ownership: String,
    },
    PutPublicAccessBlock {
        bucket: String,
        settings: PublicAccessBlock,
    },
    PutBucketPolicy {
        bucket: String,
        policy: String,
    },
    PutBucketLogging {
        bucket: String,
        target_bucket: String,
        target_prefix: String,
    },
    /// Every field is sent: the call replaces the whole policy and resets
    /// what it is not given (only an unset age or reuse limit is omitted,
    /// which is how those are unset).
    UpdateAccountPasswordPolicy(PasswordPolicy),
    /// One flow log for one VPC; returns its id. A flow log of the same VPC,
    /// traffic type and destination that already exists counts as made.
    CreateFlowLogs(FlowLog),
    /// Revokes rules of a group by their ids (all ingress rules).
    RevokeSecurityGroupIngress {
        group_id: String,
        rule_ids: Vec<String>,
    },
    RevokeSecurityGroupEgress {
        group_id: String,
        rule_ids: Vec<String>,
    },
    /// In the region of the change.
    EnableEbsEncryptionByDefault,
    /// Adds one entry to a network ACL (an entry of that number already
    /// there fails: the plan chose a free one).
    CreateNetworkAclEntry(NewNaclEntry),
    /// Sets `HttpTokens` only; the instance's other options stay.
    ModifyInstanceMetadataOptions {
        instance_id: String,
        http_tokens: String,
    },
}

impl WriteCall {
    /// The call with every value known only after apply filled in from
    /// `outputs`, or why one is still unknown.
    pub fn resolve(&self, outputs: Outputs<'_>) -> Result<WriteCall, String> {
        Ok(match self {
            WriteCall::PutMetricAlarm(a) => {
                let mut a = a.clone();
                a.alarm_actions = a
                    .alarm_actions
                    .iter()
                    .map(|d| d.resolve(outputs).map(Deferred::Known))
                    .collect::<Result<_, _>>()?;
                WriteCall::PutMetricAlarm(a)
            }
            WriteCall::Subscribe {
                topic_arn,
                protocol,
                endpoint,
            } => WriteCall::Subscribe {
                topic_arn: Deferred::Known(topic_arn.resolve(outputs)?),
                protocol: protocol.clone(),
                endpoint: endpoint.clone(),
            },
            WriteCall::CreateTrail {
                name,
                s3_bucket_name,
                settings,
            } => WriteCall::CreateTrail {
                name: name.clone(),
                s3_bucket_name: s3_bucket_name.clone(),
                settings: settings.resolve(outputs)?,
            },
            WriteCall::UpdateTrail { trail, settings } => WriteCall::UpdateTrail {
                trail: trail.clone(),
                settings: settings.resolve(outputs)?,
            },
            WriteCall::CreateAlias { alias, key } => WriteCall::CreateAlias {
                alias: alias.clone(),
                key: Deferred::Known(key.resolve(outputs)?),
            },
            WriteCall::EnableKeyRotation { key } => WriteCall::EnableKeyRotation {
                key: Deferred::Known(key.resolve(outputs)?),
            },
            WriteCall::PutKeyPolicy { key, policy } => WriteCall::PutKeyPolicy {
                key: Deferred::Known(key.resolve(outputs)?),
                policy: policy.clone(),
            },
            WriteCall::CreateFlowLogs(f) => {
                let mut f = f.clone();
                if let Some(role) = &f.deliver_logs_permission_arn {
                    f.deliver_logs_permission_arn = Some(Deferred::Known(role.resolve(outputs)?));
                }
                WriteCall::CreateFlowLogs(f)
            }
            other => other.clone(),
        })
    }

    /// The role the call hands to a service: IAM checks `iam:PassRole` on
    /// it too (CloudTrail's delivery role).
    pub fn passed_role(&self) -> Option<&Deferred> {
        match self {
            WriteCall::CreateTrail { settings, .. } | WriteCall::UpdateTrail { settings, .. } => {
                settings.cloud_watch_logs_role_arn.as_ref()
            }
            WriteCall::CreateFlowLogs(f) => f.deliver_logs_permission_arn.as_ref(),
            _ => None,
        }
    }

    /// The IAM action the call needs.
    pub fn iam_action(&self) -> &'static str {
        match self {
            WriteCall::PutMetricFilter(_) => "logs:PutMetricFilter",
            WriteCall::DeleteMetricFilter { .. } => "logs:DeleteMetricFilter",
            WriteCall::PutMetricAlarm(_) => "cloudwatch:PutMetricAlarm",
            WriteCall::DeleteAlarm { .. } => "cloudwatch:DeleteAlarms",
            WriteCall::CreateTopic { .. } => "sns:CreateTopic",
            WriteCall::Subscribe { .. } => "sns:Subscribe",
            WriteCall::CreateTrail { .. } => "cloudtrail:CreateTrail",
            WriteCall::UpdateTrail { .. } => "cloudtrail:UpdateTrail",
            WriteCall::PutEventSelectors { .. } => "cloudtrail:PutEventSelectors",
            WriteCall::StartLogging { .. } => "cloudtrail:StartLogging",
            WriteCall::CreateLogGroup { .. } => "logs:CreateLogGroup",
            WriteCall::CreateRole { .. } => "iam:CreateRole",
            WriteCall::UpdateAssumeRolePolicy { .. } => "iam:UpdateAssumeRolePolicy",
            WriteCall::PutRolePolicy { .. } => "iam:PutRolePolicy",
            WriteCall::CreateKey { .. } => "kms:CreateKey",
            WriteCall::CreateAlias { .. } => "kms:CreateAlias",
            WriteCall::EnableKeyRotation { .. } => "kms:EnableKeyRotation",
            WriteCall::PutKeyPolicy { .. } => "kms:PutKeyPolicy",
            WriteCall::CreateBucket { .. } => "s3:CreateBucket",
            WriteCall::PutBucketOwnershipControls { .. } => "s3:PutBucketOwnershipControls",
            WriteCall::PutPublicAccessBlock { .. } => "s3:PutBucketPublicAccessBlock",
            WriteCall::PutBucketPolicy { .. } => "s3:PutBucketPolicy",
            WriteCall::PutBucketLogging { .. } => "s3:PutBucketLogging",
            WriteCall::UpdateAccountPasswordPolicy(_) => password_policy::WRITE,
            WriteCall::CreateFlowLogs(_) => flow_log::WRITE,
            WriteCall::RevokeSecurityGroupIngress { .. } => "ec2:RevokeSecurityGroupIngress",
            WriteCall::RevokeSecurityGroupEgress { .. } => "ec2:RevokeSecurityGroupEgress",
            WriteCall::EnableEbsEncryptionByDefault => ebs_encryption::WRITE,
            WriteCall::CreateNetworkAclEntry(_) => network_acl::WRITE,
            WriteCall::ModifyInstanceMetadataOptions { .. } => instance_metadata::WRITE,
        }
    }

    /// The resource ARN IAM judges the call on. `planned_arn` answers for a
    /// topic the same plan creates (its ARN is not known yet, but its name
    /// and so the ARN IAM will see are).
    pub fn iam_resource(
        &self,
        at: &Location,
        partition: &str,
        planned_arn: &dyn Fn(&Address) -> Option<String>,
    ) -> String {
        let region = &at.region;
        let account = at.account.as_deref().unwrap_or("*");
        let arn = |service: &str, resource: String| {
            Arn {
                partition: partition.to_string(),
                service: service.to_string(),
                region: region.clone(),
                account: account.to_string(),
                resource,
            }
            .to_string()
        };
        match self {
            // IAM's form of a log group ends in `:*`.
            WriteCall::PutMetricFilter(f) => {
                arn("logs", format!("log-group:{}:*", f.log_group_name))
            }
            WriteCall::DeleteMetricFilter { log_group_name, .. } => {
                arn("logs", format!("log-group:{log_group_name}:*"))
            }
            WriteCall::PutMetricAlarm(a) => arn("cloudwatch", format!("alarm:{}", a.name)),
            WriteCall::DeleteAlarm { name } => arn("cloudwatch", format!("alarm:{name}")),
            WriteCall::CreateTopic { name } => arn("sns", name.clone()),
            WriteCall::Subscribe { topic_arn, .. } => match topic_arn {
                Deferred::Known(a) => a.clone(),
                Deferred::AfterApply { after_apply, .. } => {
                    planned_arn(after_apply).unwrap_or_else(|| arn("sns", "*".into()))
                }
                Deferred::Made { .. } => arn("sns", "*".into()),
            },
            WriteCall::CreateTrail { name, .. } => arn("cloudtrail", format!("trail/{name}")),
            WriteCall::UpdateTrail { trail, .. }
            | WriteCall::PutEventSelectors { trail, .. }
            | WriteCall::StartLogging { trail } => {
                if trail.starts_with("arn:") {
                    trail.clone()
                } else {
                    arn("cloudtrail", format!("trail/{trail}"))
                }
            }
            WriteCall::CreateLogGroup { name } => arn("logs", format!("log-group:{name}:*")),
            WriteCall::CreateRole { name, .. }
            | WriteCall::UpdateAssumeRolePolicy { name, .. }
            | WriteCall::PutRolePolicy { role: name, .. } => {
                iam_role::arn(partition, account, name)
            }
            // CreateKey takes no resource; the others judge the key (any key
            // of the region when it is made by this run).
            WriteCall::CreateKey { .. } => "*".into(),
            WriteCall::CreateAlias { key, .. }
            | WriteCall::EnableKeyRotation { key }
            | WriteCall::PutKeyPolicy { key, .. } => match key {
                Deferred::Known(a) if a.starts_with("arn:") => a.clone(),
                _ => arn("kms", "key/*".into()),
            },
            WriteCall::CreateBucket { bucket }
            | WriteCall::PutBucketOwnershipControls { bucket, .. }
            | WriteCall::PutPublicAccessBlock { bucket, .. }
            | WriteCall::PutBucketPolicy { bucket, .. }
            | WriteCall::PutBucketLogging { bucket, .. } => {
                format!("arn:{partition}:s3:::{bucket}")
            }
            // An account-level IAM action: it takes no resource.
            WriteCall::UpdateAccountPasswordPolicy(_) => "*".into(),
            // IAM judges CreateFlowLogs on the VPC (and on `vpc-flow-log/*`,
            // which any policy granting the call on the VPC grants too).
            WriteCall::CreateFlowLogs(f) => arn("ec2", format!("vpc/{}", f.vpc_id)),
            WriteCall::RevokeSecurityGroupIngress { group_id, .. }
            | WriteCall::RevokeSecurityGroupEgress { group_id, .. } => {
                arn("ec2", format!("security-group/{group_id}"))
            }
            // A regional setting: the action takes no resource.
            WriteCall::EnableEbsEncryptionByDefault => "*".into(),
            WriteCall::CreateNetworkAclEntry(e) => {
                arn("ec2", format!("network-acl/{}", e.network_acl_id))
            }
            WriteCall::ModifyInstanceMetadataOptions { instance_id, .. } => {
                arn("ec2", format!("instance/{instance_id}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_tags_are_the_type_names() {
        for k in KINDS {
            assert_eq!(k.serde_tag, k.type_name);
            assert!(
                !k.read_actions.is_empty() && !k.write_actions.is_empty(),
                "{}",
                k.type_name
            );
        }
    }

    #[test]
    fn deferred_round_trips_as_string_or_reference() {
        let at = Address::new(
            &Location::new(Some("1"), "us-east-1"),
            "aws_sns_topic",
            "cis_alarms",
        );
        let v = serde_json::to_value(vec![
            Deferred::from("arn:aws:sns:us-east-1:1:t"),
            Deferred::after_apply(&at, "arn"),
        ])
        .expect("serialises");
        let back: Vec<Deferred> = serde_json::from_value(v).expect("parses");
        assert_eq!(back[0].known(), Some("arn:aws:sns:us-east-1:1:t"));
        assert_eq!(back[1], Deferred::after_apply(&at, "arn"));
        let none = |_: Option<&Address>, _: &str| None;
        let err = back[1].resolve(&none).unwrap_err();
        assert!(
            err.contains("1/us-east-1/aws_sns_topic.cis_alarms.arn"),
            "{err}"
        );
    }
}

/// The shipped IAM policies name every action the kinds read and write, so
/// a new kind cannot ship with a policy that denies it.
#[cfg(test)]
mod shipped_policies {
    use super::KINDS;

    fn actions(policy: &str) -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(policy).expect("policy JSON");
        v["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect()
    }

    #[test]
    fn plan_policy_reads_every_kind_and_apply_policy_writes_it() {
        let plan = actions(include_str!("../../examples/iam/cis-fix-plan.json"));
        let apply = actions(include_str!("../../examples/iam/cis-fix-apply.json"));
        let reads = KINDS
            .iter()
            .flat_map(|k| k.read_actions.iter())
            .chain(super::trail::READ_ACTIONS)
            .chain(&[crate::snapshot::REGIONS_READ]);
        for a in reads {
            assert!(plan.iter().any(|p| p == a), "plan policy lacks {a}");
            assert!(apply.iter().any(|p| p == a), "apply policy lacks {a}");
        }
        for k in KINDS {
            for a in k.write_actions {
                assert!(apply.iter().any(|p| p == a), "apply policy lacks {a}");
                assert!(
                    !plan.iter().any(|p| p == a),
                    "plan policy must not write: {a}"
                );
            }
        }
    }
}
