//! `aws_sns_topic_subscription`: who receives what a topic publishes.

use serde::{Deserialize, Serialize};

use super::{Action, Deferred, Kind, ReadData, WriteCall};

/// An SNS subscription. `arn` is `PendingConfirmation` until a person (or
/// the endpoint) confirms it; only a real ARN means messages are delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    pub topic_arn: Deferred,
    pub protocol: String,
    pub endpoint: String,
    pub arn: Deferred,
}

impl Subscription {
    /// Confirmed means SNS shows a subscription ARN, not a pending marker.
    pub fn is_confirmed(&self) -> bool {
        matches!(&self.arn, Deferred::Known(a) if crate::arn::Arn::parse(a).is_some())
    }

    /// `protocol:endpoint`, how people and the plan name a subscription.
    pub fn key(&self) -> String {
        format!("{}:{}", self.protocol.to_ascii_lowercase(), self.endpoint)
    }
}

/// Whether SNS waits for the endpoint's owner to confirm a new subscription
/// before delivering to it (email and HTTP(S) do; same-account SQS, Lambda,
/// Firehose, SMS and mobile push do not).
pub fn protocol_needs_confirmation(protocol: &str) -> bool {
    matches!(
        protocol.to_ascii_lowercase().as_str(),
        "email" | "email-json" | "http" | "https"
    )
}

/// The read that lists every subscription of a region in one paginated
/// stream, however many topics there are.
pub const READ: &str = "sns:ListSubscriptions";

pub fn from_read(d: &ReadData) -> Option<&[Subscription]> {
    match d {
        ReadData::Subscriptions(v) => Some(v),
        _ => None,
    }
}

impl Kind for Subscription {
    const TYPE: &'static str = "aws_sns_topic_subscription";
    const READ_ACTIONS: &'static [&'static str] = &[READ];
    const WRITE_ACTIONS: &'static [&'static str] = &["sns:Subscribe"];
    const LABEL: &'static str = "SNS subscription";

    /// Subscriptions are only created (an unsubscribe would cut someone off).
    fn calls(action: Action, _before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        match (action, after) {
            (Action::Create, Some(s)) => vec![WriteCall::Subscribe {
                topic_arn: s.topic_arn.clone(),
                protocol: s.protocol.clone(),
                endpoint: s.endpoint.clone(),
            }],
            _ => vec![],
        }
    }

    fn applied_note(&self) -> Option<String> {
        protocol_needs_confirmation(&self.protocol).then(|| {
            format!(
                "pending confirmation: {} must follow the link SNS sends",
                self.endpoint
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmation() {
        let mut s = Subscription {
            topic_arn: "arn:aws:sns:us-east-1:1:t".into(),
            protocol: "email".into(),
            endpoint: "a@example.com".into(),
            arn: "PendingConfirmation".into(),
        };
        assert!(!s.is_confirmed());
        s.arn = "arn:aws:sns:us-east-1:1:t:abc".into();
        assert!(s.is_confirmed());
        assert!(protocol_needs_confirmation("EMAIL"));
        assert!(!protocol_needs_confirmation("sqs"));
        assert_eq!(s.key(), "email:a@example.com");
    }
}
