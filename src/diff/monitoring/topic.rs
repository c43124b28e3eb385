//! The SNS topic that new and fixed alarms notify, and who receives it.

use std::collections::BTreeMap;

use super::Outcome;
use super::view::RegionView;
use crate::address::Address;
use crate::desired::DesiredMonitoring;
use crate::diff::builder::PlanBuilder;
use crate::diff::signal::TopicProblem;
use crate::kinds::{Deferred, Kind, Resource, Subscription, Topic, protocol_needs_confirmation};
use crate::observed::CallFailure;
use crate::plan::{Action, Change};

pub struct NotifyTopic {
    pub name: String,
    pub arn: Deferred,
    /// The address of the topic's creation, when the plan creates it.
    pub topic_change: Option<Address>,
    pub subscription_changes: Vec<Address>,
    /// After the planned changes, does a person receive the alarms?
    pub delivery: Delivery,
    /// Why alarms cannot (or cannot be shown to) reach this topic at all.
    pub problem: Option<Outcome>,
}

pub enum Delivery {
    Confirmed,
    /// Subscriptions exist or will, but a person must confirm one: these
    /// (`protocol:endpoint`).
    PendingConfirmation(Vec<String>),
    /// Subscriptions that confirm themselves will be created.
    WillBeConfirmed,
    NoSubscriber,
}

/// Picks the topic: the one the user named; else one that already notifies
/// someone for these controls (`reuse`, ARNs most used first); else
/// `cis-fix-alarms`. Plans its creation and the configured subscriptions.
pub fn choose(
    d: &DesiredMonitoring,
    view: &RegionView<'_>,
    reuse: &[&str],
    out: &mut PlanBuilder,
) -> Result<NotifyTopic, CallFailure> {
    let topics = view.topics()?;
    let by_name = |name: &str| topics.iter().find(|t| t.name == name);
    let mut used: BTreeMap<&str, usize> = BTreeMap::new();
    // Only topics alarms can be shown to reach are worth reusing.
    let reachable = |arn: &&&str| matches!(view.topic_problem(arn), Ok(None));
    for arn in reuse
        .iter()
        .filter(|a| !view.is_foreign(a))
        .filter(reachable)
    {
        *used.entry(arn).or_default() += 1;
    }
    let reused = used
        .iter()
        .max_by_key(|(arn, n)| (**n, std::cmp::Reverse(**arn)))
        .and_then(|(arn, _)| topics.iter().find(|t| t.arn.known() == Some(arn)));
    let existing = match &d.topic {
        Some(name) => by_name(name),
        None => reused.or_else(|| by_name(&d.default_topic)),
    };
    let name = existing
        .map(|t| t.name.clone())
        .or_else(|| d.topic.clone())
        .unwrap_or_else(|| d.default_topic.clone());
    let address = Address::new(&out.at(view.region), Topic::TYPE, &name);
    let (arn, topic_change) = match existing {
        Some(t) => (t.arn.clone(), None),
        None => {
            let arn = Deferred::after_apply(&address, "arn");
            out.change(Change {
                address: address.clone(),
                action: Action::Create,
                controls: vec![],
                reason: format!("no SNS topic `{name}` exists for the alarms to notify"),
                before: None,
                after: Some(Resource::Topic(Topic {
                    name: name.clone(),
                    arn: arn.clone(),
                })),
                depends_on: vec![],
            });
            (arn, Some(address.clone()))
        }
    };
    let existing_subs: Vec<&Subscription> = match arn.known() {
        Some(a) => view.subs_of(a)?,
        None => vec![],
    };
    let mut subscription_changes = Vec::new();
    let mut pending_who: Vec<String> = existing_subs
        .iter()
        .filter(|s| !s.is_confirmed())
        .map(|s| s.key())
        .collect();
    let mut self_confirming = false;
    for want in &d.subscriptions {
        // Look before subscribing: a pending subscription counts too (SNS
        // would only resend the confirmation).
        let have = existing_subs.iter().any(|s| {
            s.protocol.eq_ignore_ascii_case(&want.protocol) && s.endpoint == want.endpoint
        });
        if have {
            continue;
        }
        let key = format!("{}:{}", want.protocol.to_ascii_lowercase(), want.endpoint);
        let sub_address =
            Address::new(&out.at(view.region), Subscription::TYPE, &address.name).with_key(&key);
        let needs = protocol_needs_confirmation(&want.protocol);
        if needs {
            pending_who.push(key.clone());
        } else {
            self_confirming = true;
        }
        out.change(Change {
            address: sub_address.clone(),
            action: Action::Create,
            controls: vec![],
            reason: if needs {
                format!(
                    "{key} is configured but not subscribed; SNS will send a confirmation link that a person must follow"
                )
            } else {
                format!("{key} is configured but not subscribed")
            },
            before: None,
            after: Some(Resource::Subscription(Subscription {
                topic_arn: arn.clone(),
                protocol: want.protocol.to_ascii_lowercase(),
                endpoint: want.endpoint.clone(),
                arn: Deferred::after_apply(&sub_address, "arn"),
            })),
            depends_on: topic_change.iter().cloned().collect(),
        });
        subscription_changes.push(sub_address);
    }
    let delivery = if existing_subs.iter().any(|s| s.is_confirmed()) {
        Delivery::Confirmed
    } else if self_confirming {
        Delivery::WillBeConfirmed
    } else if !pending_who.is_empty() {
        Delivery::PendingConfirmation(pending_who)
    } else {
        Delivery::NoSubscriber
    };
    let problem = match arn.known() {
        None => None,
        Some(a) => match view.topic_problem(a) {
            Ok(None) => None,
            Ok(Some(TopicProblem::Broken(why))) => Some(Outcome::Blocked(
                format!(
                    "{why}; name another topic in sns.topic, or re-encrypt this one with a customer managed key that CloudWatch may use"
                ),
                None,
            )),
            Ok(Some(TopicProblem::Unprovable(why))) => Some(Outcome::Unknown(why, None)),
            Err(e) => Some(Outcome::from(e)),
        },
    };
    Ok(NotifyTopic {
        name,
        arn,
        topic_change,
        subscription_changes,
        delivery,
        problem,
    })
}
