//! CloudTrail: trails, their status and their event selectors, read; and
//! the writes that create a trail or fix one in place. Writes name the
//! trail by ARN and go to its home region, the only region that accepts
//! them.

use std::future::Future;
use std::time::Duration;

use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector, AdvancedFieldSelector, DataResource as SdkDataResource, EventSelector,
    ReadWriteType,
};
use futures::future::join_all;

use super::Limiter;
use super::clients::{Aws, RegionClients};
use super::error::{failure, malformed, refused};
use crate::kinds::{
    AdvancedSelector, BasicSelector, DataResource, Deferred, EventSelectors, FieldSelector, Trail,
    TrailSettings, TrailStatus,
};
use crate::observed::{CallFailure, Observed};

/// Every trail of the account and every trail visible from the home region:
/// DescribeTrails there (multi-region trails of other regions show up as
/// shadow trails, organization trails of another account too), and
/// ListTrails for this account's single-region trails of other regions,
/// each of those read with GetTrail in its home region. "Every trail"
/// controls are judged on all of them. Each trail's status and selectors
/// are read in its own home region, by ARN, as AWS requires for shadow and
/// organization trails. A failure of any of these listings fails the read:
/// a trail that was not seen cannot be judged.
pub async fn read_trails(aws: &Aws, limit: &Limiter) -> Observed<Vec<Trail>> {
    let home = aws.home_region().to_string();
    let client = aws.region(&home).cloudtrail;
    let (described, listed) = futures::join!(
        async {
            let _permit = limit.acquire().await;
            client
                .describe_trails()
                .include_shadow_trails(true)
                .send()
                .await
        },
        super::all_pages(client.list_trails().into_paginator().send(), limit)
    );
    let mut list = match described {
        Ok(out) => out.trail_list.unwrap_or_default(),
        Err(e) => return Observed::Failed(failure("cloudtrail:DescribeTrails", &home, None, &e)),
    };
    let listed = match listed {
        Ok(pages) => pages
            .into_iter()
            .flat_map(|p| p.trails.unwrap_or_default())
            .collect::<Vec<_>>(),
        Err(e) => return Observed::Failed(failure("cloudtrail:ListTrails", &home, None, &e)),
    };
    let unseen: Vec<(String, String)> = listed
        .into_iter()
        .filter_map(|t| Some((t.trail_arn?, t.home_region?)))
        .filter(|(arn, _)| !list.iter().any(|d| d.trail_arn.as_deref() == Some(arn)))
        .collect();
    let fetched = join_all(unseen.iter().map(|(arn, region)| async move {
        let rc = aws.region(region);
        let _permit = limit.acquire().await;
        rc.cloudtrail
            .get_trail()
            .name(arn)
            .send()
            .await
            .map_err(|e| failure("cloudtrail:GetTrail", region, Some(arn), &e))
    }))
    .await;
    for got in fetched {
        match got {
            Ok(out) => list.extend(out.trail),
            Err(f) => return Observed::Failed(f),
        }
    }
    let reads = list.into_iter().filter_map(|t| {
        let arn = t.trail_arn.clone()?;
        let name = t.name.clone().unwrap_or_else(|| arn.clone());
        let trail_home = t.home_region.clone().unwrap_or_else(|| home.clone());
        Some(async move {
            let rc = aws.region(&trail_home);
            let (status, selectors) = futures::join!(
                async {
                    let _permit = limit.acquire().await;
                    rc.cloudtrail.get_trail_status().name(&arn).send().await
                },
                async {
                    let _permit = limit.acquire().await;
                    rc.cloudtrail
                        .get_event_selectors()
                        .trail_name(&arn)
                        .send()
                        .await
                }
            );
            let status = match status {
                Ok(s) => Observed::Ok(TrailStatus {
                    is_logging: s.is_logging.unwrap_or(false),
                    latest_cloudwatch_logs_delivery_error: s
                        .latest_cloud_watch_logs_delivery_error
                        .filter(|e| !e.is_empty()),
                }),
                Err(e) => Observed::Failed(failure(
                    "cloudtrail:GetTrailStatus",
                    &trail_home,
                    Some(&arn),
                    &e,
                )),
            };
            let selectors = match selectors {
                Ok(s) => Observed::Ok(EventSelectors {
                    basic: s
                        .event_selectors
                        .unwrap_or_default()
                        .into_iter()
                        .map(|b| BasicSelector {
                            read_write_type: b
                                .read_write_type
                                .map(|r| r.as_str().to_string())
                                .unwrap_or_else(|| "All".into()),
                            include_management_events: b.include_management_events.unwrap_or(true),
                            exclude_management_event_sources: b
                                .exclude_management_event_sources
                                .unwrap_or_default(),
                            data_resources: b
                                .data_resources
                                .unwrap_or_default()
                                .into_iter()
                                .map(|d| DataResource {
                                    kind: d.r#type.unwrap_or_default(),
                                    values: d.values.unwrap_or_default(),
                                })
                                .collect(),
                        })
                        .collect(),
                    advanced: s
                        .advanced_event_selectors
                        .unwrap_or_default()
                        .into_iter()
                        .map(|a| AdvancedSelector {
                            name: a.name,
                            field_selectors: a
                                .field_selectors
                                .into_iter()
                                .map(|f| FieldSelector {
                                    field: f.field,
                                    equals: f.equals.unwrap_or_default(),
                                    not_equals: f.not_equals.unwrap_or_default(),
                                    starts_with: f.starts_with.unwrap_or_default(),
                                    not_starts_with: f.not_starts_with.unwrap_or_default(),
                                    ends_with: f.ends_with.unwrap_or_default(),
                                    not_ends_with: f.not_ends_with.unwrap_or_default(),
                                })
                                .collect(),
                        })
                        .collect(),
                }),
                Err(e) => Observed::Failed(failure(
                    "cloudtrail:GetEventSelectors",
                    &trail_home,
                    Some(&arn),
                    &e,
                )),
            };
            Trail {
                name,
                arn: arn.clone(),
                home_region: trail_home.clone(),
                is_multi_region: t.is_multi_region_trail.unwrap_or(false),
                is_organization_trail: t.is_organization_trail.unwrap_or(false),
                // An emulator stores "" for a setting cleared by UpdateTrail
                // (moto does); AWS omits it. Either way: not set.
                s3_bucket: t.s3_bucket_name.filter(|s| !s.is_empty()),
                log_group_arn: t.cloud_watch_logs_log_group_arn.filter(|s| !s.is_empty()),
                cloudwatch_logs_role_arn: t.cloud_watch_logs_role_arn.filter(|s| !s.is_empty()),
                kms_key_id: t.kms_key_id.filter(|s| !s.is_empty()),
                log_file_validation: t.log_file_validation_enabled.unwrap_or(false),
                include_global_service_events: t.include_global_service_events.unwrap_or(true),
                status,
                selectors,
            }
        })
    });
    let mut trails = join_all(reads).await;
    trails.sort_by(|a, b| a.name.cmp(&b.name).then(a.arn.cmp(&b.arn)));
    trails.dedup_by(|a, b| a.arn == b.arn);
    Observed::Ok(trails)
}

/// Errors CloudTrail gives while a role, key or bucket policy made seconds
/// earlier has not reached it yet (IAM and KMS are eventually consistent):
/// on AWS, an apply that has just made them meets these on its next call.
/// moto checks none of these (it takes any log group, role, key or bucket
/// policy), so only the tests below exercise the retry.
const PROPAGATION_ERRORS: &[&str] = &[
    "InvalidCloudWatchLogsRoleArnException",
    "InvalidCloudWatchLogsLogGroupArnException",
    "InsufficientEncryptionPolicyException",
    "InsufficientS3BucketPolicyException",
];

/// Waits between attempts: six attempts over about a minute, which covers
/// IAM's usual propagation delay of a few seconds with room to spare, and
/// still ends with the error when the setting is really wrong.
const PROPAGATION_WAITS: [Duration; 5] = [
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(15),
    Duration::from_secs(30),
];

/// Makes `attempt` until it succeeds, fails with another error, or the
/// waits run out.
async fn while_propagating<T, F, Fut>(waits: &[Duration], mut attempt: F) -> Result<T, CallFailure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CallFailure>>,
{
    for wait in waits {
        match attempt().await {
            Err(f)
                if f.code
                    .as_deref()
                    .is_some_and(|c| PROPAGATION_ERRORS.contains(&c)) =>
            {
                tracing::info!(call = %f.call, code = ?f.code, ?wait, "waiting for IAM, KMS or S3 to propagate");
                tokio::time::sleep(*wait).await;
            }
            done => return done,
        }
    }
    attempt().await
}

/// A deferred value that must be known by the time the call is made.
fn known<'a>(
    d: &'a Option<Deferred>,
    call: &str,
    region: &str,
    trail: &str,
    what: &str,
) -> Result<Option<&'a str>, CallFailure> {
    match d {
        None => Ok(None),
        Some(d) => d.known().map(Some).ok_or_else(|| {
            refused(
                call,
                region,
                Some(trail),
                format!("the {what} is not known yet ({d})"),
            )
        }),
    }
}

/// The settings' values, checked known: (kms key, log group ARN, role ARN).
type Resolved<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>);

fn resolved<'a>(
    s: &'a TrailSettings,
    call: &str,
    region: &str,
    trail: &str,
) -> Result<Resolved<'a>, CallFailure> {
    Ok((
        known(&s.kms_key_id, call, region, trail, "KMS key")?,
        known(
            &s.cloud_watch_logs_group_arn,
            call,
            region,
            trail,
            "log group ARN",
        )?,
        known(
            &s.cloud_watch_logs_role_arn,
            call,
            region,
            trail,
            "delivery role ARN",
        )?,
    ))
}

/// CreateTrail with every setting given; returns the trail's ARN.
pub async fn create_trail(
    rc: &RegionClients,
    name: &str,
    s3_bucket_name: &str,
    settings: &TrailSettings,
) -> Result<String, CallFailure> {
    let call = "cloudtrail:CreateTrail";
    let (kms, group, role) = resolved(settings, call, &rc.region, name)?;
    let out = while_propagating(&PROPAGATION_WAITS, || async {
        rc.cloudtrail
            .create_trail()
            .name(name)
            .s3_bucket_name(s3_bucket_name)
            .set_is_multi_region_trail(settings.is_multi_region_trail)
            .set_include_global_service_events(settings.include_global_service_events)
            .set_enable_log_file_validation(settings.enable_log_file_validation)
            .set_kms_key_id(kms.map(str::to_string))
            .set_cloud_watch_logs_log_group_arn(group.map(str::to_string))
            .set_cloud_watch_logs_role_arn(role.map(str::to_string))
            .send()
            .await
            .map_err(|e| failure(call, &rc.region, Some(name), &e))
    })
    .await?;
    out.trail_arn
        .ok_or_else(|| malformed(call, &rc.region, "TrailARN"))
}

/// UpdateTrail with only the settings given: the others stay as they are.
pub async fn update_trail(
    rc: &RegionClients,
    trail: &str,
    settings: &TrailSettings,
) -> Result<(), CallFailure> {
    let call = "cloudtrail:UpdateTrail";
    let (kms, group, role) = resolved(settings, call, &rc.region, trail)?;
    while_propagating(&PROPAGATION_WAITS, || async {
        rc.cloudtrail
            .update_trail()
            .name(trail)
            .set_s3_bucket_name(settings.s3_bucket_name.clone())
            .set_is_multi_region_trail(settings.is_multi_region_trail)
            .set_include_global_service_events(settings.include_global_service_events)
            .set_enable_log_file_validation(settings.enable_log_file_validation)
            .set_kms_key_id(kms.map(str::to_string))
            .set_cloud_watch_logs_log_group_arn(group.map(str::to_string))
            .set_cloud_watch_logs_role_arn(role.map(str::to_string))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failure(call, &rc.region, Some(trail), &e))
    })
    .await
}

/// Replaces the trail's selectors with `selectors`, in the form they are
/// in: classic selectors when there are any (with their data resources),
/// else advanced ones. AWS takes one form or the other, never both.
pub async fn put_event_selectors(
    rc: &RegionClients,
    trail: &str,
    selectors: &EventSelectors,
) -> Result<(), CallFailure> {
    let call = "cloudtrail:PutEventSelectors";
    let req = rc.cloudtrail.put_event_selectors().trail_name(trail);
    let req = if selectors.basic.is_empty() {
        let mut advanced = Vec::new();
        for a in &selectors.advanced {
            let mut fields = Vec::new();
            for f in &a.field_selectors {
                let built = AdvancedFieldSelector::builder()
                    .field(&f.field)
                    .set_equals(non_empty(&f.equals))
                    .set_not_equals(non_empty(&f.not_equals))
                    .set_starts_with(non_empty(&f.starts_with))
                    .set_not_starts_with(non_empty(&f.not_starts_with))
                    .set_ends_with(non_empty(&f.ends_with))
                    .set_not_ends_with(non_empty(&f.not_ends_with))
                    .build()
                    .map_err(|e| refused(call, &rc.region, Some(trail), e.to_string()))?;
                fields.push(built);
            }
            let built = AdvancedEventSelector::builder()
                .set_name(a.name.clone())
                .set_field_selectors(Some(fields))
                .build()
                .map_err(|e| refused(call, &rc.region, Some(trail), e.to_string()))?;
            advanced.push(built);
        }
        req.set_advanced_event_selectors(Some(advanced))
    } else {
        let basic = selectors
            .basic
            .iter()
            .map(|b| {
                EventSelector::builder()
                    .read_write_type(ReadWriteType::from(b.read_write_type.as_str()))
                    .include_management_events(b.include_management_events)
                    .set_exclude_management_event_sources(non_empty(
                        &b.exclude_management_event_sources,
                    ))
                    .set_data_resources(Some(
                        b.data_resources
                            .iter()
                            .map(|d| {
                                SdkDataResource::builder()
                                    .r#type(&d.kind)
                                    .set_values(Some(d.values.clone()))
                                    .build()
                            })
                            .collect(),
                    ))
                    .build()
            })
            .collect();
        req.set_event_selectors(Some(basic))
    };
    req.send()
        .await
        .map(|_| ())
        .map_err(|e| failure(call, &rc.region, Some(trail), &e))
}

fn non_empty(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

pub async fn start_logging(rc: &RegionClients, trail: &str) -> Result<(), CallFailure> {
    let call = "cloudtrail:StartLogging";
    rc.cloudtrail
        .start_logging()
        .name(trail)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failure(call, &rc.region, Some(trail), &e))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn failing(code: &str) -> CallFailure {
        CallFailure {
            call: "cloudtrail:CreateTrail".into(),
            region: "us-east-1".into(),
            resource: None,
            code: Some(code.into()),
            message: "m".into(),
            detail: None,
        }
    }

    #[tokio::test]
    async fn propagation_errors_are_retried_until_the_waits_run_out() {
        let waits = [Duration::ZERO; 5];
        let n = AtomicUsize::new(0);
        let r: Result<(), _> = while_propagating(&waits, || async {
            n.fetch_add(1, Ordering::SeqCst);
            Err(failing("InvalidCloudWatchLogsRoleArnException"))
        })
        .await;
        assert!(r.is_err());
        assert_eq!(n.load(Ordering::SeqCst), 6, "six attempts in all");

        let n = AtomicUsize::new(0);
        let r = while_propagating(&waits, || async {
            match n.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(failing("InsufficientEncryptionPolicyException")),
                _ => Ok("arn"),
            }
        })
        .await;
        assert_eq!(r, Ok("arn"));
        assert_eq!(n.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let n = AtomicUsize::new(0);
        let r: Result<(), _> = while_propagating(&[Duration::ZERO; 5], || async {
            n.fetch_add(1, Ordering::SeqCst);
            Err(failing("AccessDeniedException"))
        })
        .await;
        assert_eq!(
            r.unwrap_err().code.as_deref(),
            Some("AccessDeniedException")
        );
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn waits_add_up_to_about_a_minute() {
        let total: Duration = PROPAGATION_WAITS.iter().sum();
        assert!((Duration::from_secs(50)..=Duration::from_secs(70)).contains(&total));
    }
}
