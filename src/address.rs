//! Where a planned resource lives and what it is called in the plan:
//! account, region, Terraform type, name and (for a set member) key. Two
//! changes with one address are the same resource, so an address must be
//! unambiguous across regions and accounts.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The region of resources that have none (IAM).
pub const GLOBAL: &str = "global";

/// The account and region calls about a resource go to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// `None` when the account could not be read (STS failed); a plan covers
    /// one account, so addresses stay unambiguous within it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub region: String,
}

impl Location {
    pub fn new(account: Option<&str>, region: &str) -> Self {
        Location {
            account: account.map(str::to_string),
            region: region.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(flatten)]
    pub location: Location,
    /// Terraform resource type, e.g. `aws_cloudwatch_metric_alarm`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Terraform resource name, e.g. `cis_4_3`.
    pub name: String,
    /// For one of a set (`for_each`), its key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl Address {
    pub fn new(location: &Location, kind: &str, name: &str) -> Self {
        Address {
            location: location.clone(),
            kind: kind.to_string(),
            name: terraform_name(name),
            key: None,
        }
    }

    pub fn with_key(mut self, key: &str) -> Self {
        self.key = Some(key.to_string());
        self
    }

    pub fn region(&self) -> &str {
        &self.location.region
    }

    /// The address as Terraform would print it inside one account and
    /// region: `aws_sns_topic.cis_fix_alarms`, `…subscription.x["email:a@b"]`.
    pub fn short(&self) -> String {
        match &self.key {
            Some(k) => format!("{}.{}[{k:?}]", self.kind, self.name),
            None => format!("{}.{}", self.kind, self.name),
        }
    }
}

/// `123456789012/us-east-1/aws_sns_topic.cis_fix_alarms`: the account and
/// region first, so the same resource type and name in two regions never
/// read alike.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(a) = &self.location.account {
            write!(f, "{a}/")?;
        }
        write!(f, "{}/{}", self.location.region, self.short())
    }
}

/// A Terraform-safe resource name: letters, digits and underscores.
pub fn terraform_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_unambiguous() {
        let here = Location::new(Some("123456789012"), "us-east-1");
        let a = Address::new(&here, "aws_sns_topic", "cis-fix-alarms");
        assert_eq!(
            a.to_string(),
            "123456789012/us-east-1/aws_sns_topic.cis_fix_alarms"
        );
        let b = Address::new(
            &Location::new(Some("123456789012"), "eu-west-1"),
            "aws_sns_topic",
            "cis-fix-alarms",
        );
        assert_ne!(a, b);
        assert_ne!(a.to_string(), b.to_string());
        let s = Address::new(&here, "aws_sns_topic_subscription", "t").with_key("email:a@b.c");
        assert_eq!(s.short(), "aws_sns_topic_subscription.t[\"email:a@b.c\"]");
        let nowhere = Address::new(
            &Location::new(None, GLOBAL),
            "aws_iam_account_password_policy",
            "this",
        );
        assert_eq!(
            nowhere.to_string(),
            "global/aws_iam_account_password_policy.this"
        );
    }
}
