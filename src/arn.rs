//! Amazon Resource Names, parsed in one place. Everything that needs the
//! region, account or resource of an ARN asks this type rather than
//! splitting strings itself, so an odd ARN is judged the same way everywhere.

use std::fmt;

/// `arn:<partition>:<service>:<region>:<account>:<resource>`; the resource
/// part keeps its own colons and slashes (`log-group:name:*`, `role/path/x`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

impl Arn {
    pub fn parse(s: &str) -> Option<Arn> {
        let mut p = s.splitn(6, ':');
        let (prefix, partition, service, region, account, resource) = (
            p.next()?,
            p.next()?,
            p.next()?,
            p.next()?,
            p.next()?,
            p.next()?,
        );
        if prefix != "arn" || partition.is_empty() || service.is_empty() {
            return None;
        }
        Some(Arn {
            partition: partition.to_string(),
            service: service.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            resource: resource.to_string(),
        })
    }

    /// The resource's type and id, split at the first `:` or `/`
    /// (`log-group:ct:*` → (`log-group`, `ct:*`), `role/a/b` → (`role`, `a/b`)).
    pub fn resource_parts(&self) -> (&str, Option<&str>) {
        match self.resource.find([':', '/']) {
            Some(i) => (&self.resource[..i], Some(&self.resource[i + 1..])),
            None => (&self.resource, None),
        }
    }

    /// The log group a `arn:…:logs:…:log-group:<name>[:*]` ARN names.
    pub fn log_group_name(&self) -> Option<&str> {
        if self.service != "logs" {
            return None;
        }
        match self.resource_parts() {
            ("log-group", Some(rest)) => {
                let name = rest.strip_suffix(":*").unwrap_or(rest);
                (!name.is_empty()).then_some(name)
            }
            _ => None,
        }
    }

    /// Whether this ARN lives in `region` of `account` (an unknown account
    /// matches any).
    pub fn is_in(&self, region: &str, account: Option<&str>) -> bool {
        self.region == region && account.is_none_or(|a| a == self.account)
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

/// The name of an SNS topic from its ARN, or the text itself when it is not
/// an ARN (for messages only).
pub fn topic_name(arn: &str) -> &str {
    match arn.rfind(':') {
        Some(i) if Arn::parse(arn).is_some() => &arn[i + 1..],
        _ => arn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_back() {
        for s in [
            "arn:aws:logs:eu-west-1:123456789012:log-group:ct/logs:*",
            "arn:aws:iam::123456789012:role/path/r",
            "arn:aws:sns:us-east-1:1:t",
            "arn:aws:s3:::bucket",
        ] {
            let a = Arn::parse(s).expect(s);
            assert_eq!(a.to_string(), s);
        }
        assert!(Arn::parse("garbage").is_none());
        assert!(Arn::parse("arn:aws").is_none());
        assert!(Arn::parse("arn::sns:r:a:t").is_none());
    }

    #[test]
    fn parts() {
        let lg = Arn::parse("arn:aws:logs:eu-west-1:123456789012:log-group:ct/logs:*").expect("ok");
        assert_eq!(lg.log_group_name(), Some("ct/logs"));
        assert_eq!(
            Arn::parse("arn:aws:logs:us-east-1:1:log-group:plain")
                .and_then(|a| a.log_group_name().map(str::to_string))
                .as_deref(),
            Some("plain")
        );
        assert_eq!(
            Arn::parse("arn:aws:s3:::b").expect("ok").log_group_name(),
            None
        );
        let role = Arn::parse("arn:aws:sts::1:assumed-role/Deployer/s").expect("ok");
        assert_eq!(role.resource_parts(), ("assumed-role", Some("Deployer/s")));
        assert_eq!(topic_name("arn:aws:sns:us-east-1:1:alerts"), "alerts");
        assert_eq!(topic_name("not-an-arn"), "not-an-arn");
        let t = Arn::parse("arn:aws:sns:us-east-1:1:t").expect("ok");
        assert!(t.is_in("us-east-1", Some("1")) && t.is_in("us-east-1", None));
        assert!(!t.is_in("us-east-1", Some("2")) && !t.is_in("eu-west-1", None));
    }
}
