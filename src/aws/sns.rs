//! SNS topics and subscriptions, read and written.

use super::clients::RegionClients;
use super::error::{failure, malformed};
use super::{Limiter, all_pages};
use crate::kinds::{Deferred, Subscription, Topic, TopicAttributes};
use crate::observed::{CallFailure, Observed};

pub async fn read_topics(rc: &RegionClients, limit: &Limiter) -> Observed<Vec<Topic>> {
    match all_pages(rc.sns.list_topics().into_paginator().send(), limit).await {
        Ok(pages) => Observed::Ok(
            pages
                .into_iter()
                .flat_map(|p| p.topics.unwrap_or_default())
                .filter_map(|t| {
                    let arn = t.topic_arn?;
                    Some(Topic {
                        name: crate::arn::topic_name(&arn).to_string(),
                        arn: Deferred::Known(arn),
                    })
                })
                .collect(),
        ),
        Err(e) => Observed::Failed(failure("sns:ListTopics", &rc.region, None, &e)),
    }
}

/// Every subscription of the region in one paginated listing: one stream of
/// calls however many topics there are.
pub async fn read_subscriptions(
    rc: &RegionClients,
    limit: &Limiter,
) -> Observed<Vec<Subscription>> {
    match all_pages(rc.sns.list_subscriptions().into_paginator().send(), limit).await {
        Ok(pages) => Observed::Ok(
            pages
                .into_iter()
                .flat_map(|p| p.subscriptions.unwrap_or_default())
                .filter_map(|s| {
                    Some(Subscription {
                        topic_arn: Deferred::Known(s.topic_arn?),
                        protocol: s.protocol.unwrap_or_default(),
                        endpoint: s.endpoint.unwrap_or_default(),
                        arn: Deferred::Known(s.subscription_arn.unwrap_or_default()),
                    })
                })
                .collect(),
        ),
        Err(e) => Observed::Failed(failure("sns:ListSubscriptions", &rc.region, None, &e)),
    }
}

/// A topic's attributes; a topic that does not exist is `None`, a fact
/// rather than a failure.
pub async fn read_topic_attributes(
    rc: &RegionClients,
    arn: &str,
    limit: &Limiter,
) -> Observed<Option<TopicAttributes>> {
    let got = {
        let _permit = limit.acquire().await;
        rc.sns.get_topic_attributes().topic_arn(arn).send().await
    };
    match got {
        Ok(out) => {
            let attrs = out.attributes.unwrap_or_default();
            Observed::Ok(Some(TopicAttributes {
                kms_master_key_id: attrs
                    .get("KmsMasterKeyId")
                    .filter(|k| !k.is_empty())
                    .cloned(),
            }))
        }
        Err(e) => {
            let f = failure("sns:GetTopicAttributes", &rc.region, Some(arn), &e);
            if matches!(f.code.as_deref(), Some("NotFound" | "NotFoundException")) {
                Observed::Ok(None)
            } else {
                Observed::Failed(f)
            }
        }
    }
}

/// CreateTopic is idempotent by name: it returns the existing topic's ARN.
pub async fn create_topic(rc: &RegionClients, name: &str) -> Result<String, CallFailure> {
    let call = "sns:CreateTopic";
    let out = rc
        .sns
        .create_topic()
        .name(name)
        .send()
        .await
        .map_err(|e| failure(call, &rc.region, Some(name), &e))?;
    out.topic_arn
        .ok_or_else(|| malformed(call, &rc.region, "TopicArn"))
}

/// Returns the subscription ARN. With `ReturnSubscriptionArn` AWS returns an
/// ARN even for a subscription still waiting for confirmation, so this says
/// nothing about confirmation: the protocol does (see
/// `resources::protocol_needs_confirmation`), and the next read shows
/// `PendingConfirmation` until a person confirms.
pub async fn subscribe(
    rc: &RegionClients,
    topic_arn: &str,
    protocol: &str,
    endpoint: &str,
) -> Result<String, CallFailure> {
    let call = "sns:Subscribe";
    let out = rc
        .sns
        .subscribe()
        .topic_arn(topic_arn)
        .protocol(protocol)
        .endpoint(endpoint)
        .return_subscription_arn(true)
        .send()
        .await
        .map_err(|e| failure(call, &rc.region, Some(topic_arn), &e))?;
    out.subscription_arn
        .ok_or_else(|| malformed(call, &rc.region, "SubscriptionArn"))
}
