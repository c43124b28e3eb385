//! CloudTrail reads: trails, their status and their event selectors.

use futures::future::join_all;

use super::Limiter;
use super::clients::Aws;
use super::error::failure;
use crate::kinds::{
    AdvancedSelector, BasicSelector, DataResource, EventSelectors, FieldSelector, Trail, TrailStatus,
};
use crate::observed::Observed;

/// Every trail visible from the home region (multi-region trails of other
/// regions show up as shadow trails), each with status and selectors read in
/// the trail's own home region, by ARN, as AWS requires for shadow and
/// organization trails.
pub async fn read_trails(aws: &Aws, limit: &Limiter) -> Observed<Vec<Trail>> {
    let home = aws.home_region().to_string();
    let client = aws.region(&home).cloudtrail;
    let described = {
        let _permit = limit.acquire().await;
        client
            .describe_trails()
            .include_shadow_trails(true)
            .send()
            .await
    };
    let list = match described {
        Ok(out) => out.trail_list.unwrap_or_default(),
        Err(e) => return Observed::Failed(failure("cloudtrail:DescribeTrails", &home, None, &e)),
    };
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
                s3_bucket: t.s3_bucket_name,
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
