//! EC2 instances' metadata service options: the benchmark wants IMDSv2
//! required (session tokens), because IMDSv1 answers any request the
//! instance can be tricked into making (SSRF) with its role's credentials.
//!
//! `aws_instance_metadata_options` is the metadata options of one instance
//! (Terraform's `metadata_options` block of `aws_instance`; it has no
//! resource of its own). Requiring tokens breaks software on the instance
//! that still speaks IMDSv1, so the change is made only with the user's
//! opt-in, and shows the instance (its name, state) as the evidence. An
//! instance whose metadata endpoint is off serves nothing and passes.

use serde::{Deserialize, Serialize};

use super::{Action, Kind, ReadData, WriteCall};

/// The instances of a region, with their metadata options.
pub const READ: &str = "ec2:DescribeInstances";
pub const WRITE: &str = "ec2:ModifyInstanceMetadataOptions";

/// What the benchmark wants of `HttpTokens`.
pub const REQUIRED: &str = "required";

/// One instance, as the IMDS control needs it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceFacts {
    pub instance_id: String,
    /// `pending`, `running`, `stopping`, `stopped` (terminated and
    /// shutting-down instances are not read: they can no longer be changed).
    pub state: String,
    /// `optional` (IMDSv1 allowed) or `required`.
    pub http_tokens: String,
    /// `enabled` or `disabled`.
    pub http_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
}

impl InstanceFacts {
    /// Whether IMDSv1 can be used on it: the endpoint is on and tokens are
    /// not required.
    pub fn allows_imdsv1(&self) -> bool {
        !self.http_endpoint.eq_ignore_ascii_case("disabled")
            && !self.http_tokens.eq_ignore_ascii_case(REQUIRED)
    }

    /// Whether EC2 can still change it.
    pub fn is_live(state: &str) -> bool {
        matches!(state, "pending" | "running" | "stopping" | "stopped")
    }
}

pub fn instances_from_read(d: &ReadData) -> Option<&[InstanceFacts]> {
    match d {
        ReadData::Instances(i) => Some(i),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceMetadataOptions {
    pub instance_id: String,
    /// Its `Name` tag. Not `name`: an exception selects by `name`, and a
    /// tag anyone may set (and reuse on a new instance) must not extend
    /// one; instances are selected by their id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_tag: Option<String>,
    /// The instance's state (unchanged by the change), as evidence.
    pub state: String,
    pub http_tokens: String,
    pub http_endpoint: String,
}

impl InstanceMetadataOptions {
    pub fn of(i: &InstanceFacts) -> Self {
        InstanceMetadataOptions {
            instance_id: i.instance_id.clone(),
            name_tag: i.name.clone(),
            state: i.state.clone(),
            http_tokens: i.http_tokens.clone(),
            http_endpoint: i.http_endpoint.clone(),
        }
    }
}

impl Kind for InstanceMetadataOptions {
    const TYPE: &'static str = "aws_instance_metadata_options";
    const READ_ACTIONS: &'static [&'static str] = &[READ];
    const WRITE_ACTIONS: &'static [&'static str] = &[WRITE];
    const LABEL: &'static str = "instance metadata options";

    /// Only `HttpTokens` is sent: every other option (endpoint, hop limit,
    /// tags in metadata) stays as it is.
    fn calls(action: Action, before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        match (action, before, after) {
            (Action::Update, Some(b), Some(a)) if a.http_tokens != b.http_tokens => {
                vec![WriteCall::ModifyInstanceMetadataOptions {
                    instance_id: a.instance_id.clone(),
                    http_tokens: a.http_tokens.clone(),
                }]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(tokens: &str, endpoint: &str) -> InstanceFacts {
        InstanceFacts {
            instance_id: "i-1".into(),
            state: "running".into(),
            http_tokens: tokens.into(),
            http_endpoint: endpoint.into(),
            name: Some("web".into()),
            vpc_id: Some("vpc-1".into()),
        }
    }

    #[test]
    fn imdsv1_is_allowed_only_with_optional_tokens_and_the_endpoint_on() {
        assert!(instance("optional", "enabled").allows_imdsv1());
        assert!(!instance("required", "enabled").allows_imdsv1());
        assert!(!instance("optional", "disabled").allows_imdsv1());
        assert!(InstanceFacts::is_live("stopped"));
        assert!(!InstanceFacts::is_live("terminated"));
        assert!(!InstanceFacts::is_live("shutting-down"));
    }

    #[test]
    fn requiring_tokens_sends_only_the_tokens() {
        let b = InstanceMetadataOptions::of(&instance("optional", "enabled"));
        let a = InstanceMetadataOptions {
            http_tokens: REQUIRED.into(),
            ..b.clone()
        };
        assert_eq!(
            InstanceMetadataOptions::calls(Action::Update, Some(&b), Some(&a)),
            [WriteCall::ModifyInstanceMetadataOptions {
                instance_id: "i-1".into(),
                http_tokens: REQUIRED.into()
            }]
        );
        assert!(InstanceMetadataOptions::calls(Action::Update, Some(&a), Some(&a)).is_empty());
    }
}
