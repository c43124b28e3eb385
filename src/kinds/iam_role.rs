//! `aws_iam_role`: the role CloudTrail assumes to write to its log group,
//! with its one inline policy (Terraform's `inline_policy` block). A role is
//! global; cis-fix creates it and puts back its policy if that is missing or
//! differs, and never deletes it.

use serde::{Deserialize, Serialize};

use super::{Action, Kind, ReadData, WriteCall};
use crate::address::Location;
use crate::arn::Arn;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamRole {
    pub name: String,
    /// The trust policy (JSON), as a string so the plan shows it verbatim.
    pub assume_role_policy: String,
    /// The inline policy cis-fix manages, if present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_policy: Option<InlinePolicy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlinePolicy {
    pub name: String,
    pub policy: String,
}

/// The read of one role (its resource is the role name); `GetRolePolicy`
/// reads the inline policy of the same name.
pub const READ: &str = "iam:GetRole";
pub const READ_POLICY: &str = "iam:GetRolePolicy";

/// `Some(None)`: the role does not exist.
pub fn from_read(d: &ReadData) -> Option<Option<&IamRole>> {
    match d {
        ReadData::Role(r) => Some(r.as_ref()),
        _ => None,
    }
}

pub fn arn(partition: &str, account: &str, name: &str) -> String {
    Arn {
        partition: partition.into(),
        service: "iam".into(),
        region: String::new(),
        account: account.into(),
        resource: format!("role/{name}"),
    }
    .to_string()
}

/// Two policies are one when they parse to the same JSON (IAM gives back
/// the document re-serialised).
pub fn same_policy(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

impl Kind for IamRole {
    const TYPE: &'static str = "aws_iam_role";
    const READ_ACTIONS: &'static [&'static str] = &[READ, READ_POLICY];
    const WRITE_ACTIONS: &'static [&'static str] = &[
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
    ];
    const LABEL: &'static str = "IAM role";

    fn calls(action: Action, before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        let Some(r) = after else { return vec![] };
        let mut out = Vec::new();
        match (action, before) {
            (Action::Create, _) => out.push(WriteCall::CreateRole {
                name: r.name.clone(),
                assume_role_policy: r.assume_role_policy.clone(),
            }),
            (Action::Update, Some(b)) => {
                if !same_policy(&b.assume_role_policy, &r.assume_role_policy) {
                    out.push(WriteCall::UpdateAssumeRolePolicy {
                        name: r.name.clone(),
                        policy: r.assume_role_policy.clone(),
                    });
                }
            }
            _ => return vec![],
        }
        if let Some(p) = &r.inline_policy {
            let same = before
                .and_then(|b| b.inline_policy.as_ref())
                .is_some_and(|bp| bp.name == p.name && same_policy(&bp.policy, &p.policy));
            if !same {
                out.push(WriteCall::PutRolePolicy {
                    role: r.name.clone(),
                    policy_name: p.name.clone(),
                    policy: p.policy.clone(),
                });
            }
        }
        out
    }

    fn planned_arn(&self, at: &Location, partition: &str) -> Option<String> {
        Some(arn(
            partition,
            at.account.as_deref().unwrap_or("*"),
            &self.name,
        ))
    }
}
