//! `aws_cloudtrail`: a trail cis-fix fixes in place or, when the account has
//! none, creates. Only the settings the benchmark asks about are managed;
//! UpdateTrail changes only what it is given, so everything else about the
//! trail stays as it is. A trail is never deleted.

use serde::{Deserialize, Serialize};

use super::trail::EventSelectors;
use super::{Action, Deferred, Kind, WriteCall};
use crate::address::Location;
use crate::arn::Arn;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudTrail {
    pub name: String,
    /// The trail's ARN when it exists (calls about it use the ARN, which
    /// works for shadow and organization trails too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket_name: Option<String>,
    pub is_multi_region_trail: bool,
    pub include_global_service_events: bool,
    pub enable_log_file_validation: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<Deferred>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logs_group_arn: Option<Deferred>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logs_role_arn: Option<Deferred>,
    pub enable_logging: bool,
    pub event_selectors: EventSelectors,
}

/// The settings one UpdateTrail changes; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_multi_region_trail: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_global_service_events: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_log_file_validation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<Deferred>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logs_group_arn: Option<Deferred>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logs_role_arn: Option<Deferred>,
}

impl TrailSettings {
    fn is_empty(&self) -> bool {
        self == &TrailSettings::default()
    }

    /// Every value known after apply filled in.
    pub fn resolve(&self, outputs: super::Outputs<'_>) -> Result<TrailSettings, String> {
        let r = |d: &Option<Deferred>| -> Result<Option<Deferred>, String> {
            d.as_ref()
                .map(|d| d.resolve(outputs).map(Deferred::Known))
                .transpose()
        };
        Ok(TrailSettings {
            kms_key_id: r(&self.kms_key_id)?,
            cloud_watch_logs_group_arn: r(&self.cloud_watch_logs_group_arn)?,
            cloud_watch_logs_role_arn: r(&self.cloud_watch_logs_role_arn)?,
            ..self.clone()
        })
    }
}

pub fn arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    Arn {
        partition: partition.into(),
        service: "cloudtrail".into(),
        region: region.into(),
        account: account.into(),
        resource: format!("trail/{name}"),
    }
    .to_string()
}

impl CloudTrail {
    /// How calls name the trail: its ARN once it exists.
    fn id(&self) -> String {
        self.arn.clone().unwrap_or_else(|| self.name.clone())
    }
}

impl Kind for CloudTrail {
    const TYPE: &'static str = "aws_cloudtrail";
    const READ_ACTIONS: &'static [&'static str] = super::trail::READ_ACTIONS;
    const WRITE_ACTIONS: &'static [&'static str] = &[
        "cloudtrail:CreateTrail",
        "cloudtrail:UpdateTrail",
        "cloudtrail:PutEventSelectors",
        "cloudtrail:StartLogging",
        // CloudTrail hands its delivery role to the service.
        "iam:PassRole",
    ];
    const LABEL: &'static str = "CloudTrail trail";

    fn calls(action: Action, before: Option<&Self>, after: Option<&Self>) -> Vec<WriteCall> {
        let Some(t) = after else { return vec![] };
        let mut out = Vec::new();
        // The key goes last, in a call of its own: a key policy CloudTrail
        // refuses then fails only that call, after the trail is made (or
        // fixed), logging and delivering.
        let key: Option<Deferred>;
        match (action, before) {
            (Action::Create, _) => {
                key = t.kms_key_id.clone();
                out.push(WriteCall::CreateTrail {
                    name: t.name.clone(),
                    s3_bucket_name: t.s3_bucket_name.clone().unwrap_or_default(),
                    settings: TrailSettings {
                        s3_bucket_name: None,
                        is_multi_region_trail: Some(t.is_multi_region_trail),
                        include_global_service_events: Some(t.include_global_service_events),
                        enable_log_file_validation: Some(t.enable_log_file_validation),
                        kms_key_id: None,
                        cloud_watch_logs_group_arn: t.cloud_watch_logs_group_arn.clone(),
                        cloud_watch_logs_role_arn: t.cloud_watch_logs_role_arn.clone(),
                    },
                })
            }
            (Action::Update, Some(b)) => {
                let changed = |x: bool, y: bool| (x != y).then_some(y);
                let changed_d = |x: &Option<Deferred>, y: &Option<Deferred>| {
                    if x == y { None } else { y.clone() }
                };
                let mut s = TrailSettings {
                    s3_bucket_name: None,
                    is_multi_region_trail: changed(
                        b.is_multi_region_trail,
                        t.is_multi_region_trail,
                    ),
                    include_global_service_events: changed(
                        b.include_global_service_events,
                        t.include_global_service_events,
                    ),
                    enable_log_file_validation: changed(
                        b.enable_log_file_validation,
                        t.enable_log_file_validation,
                    ),
                    kms_key_id: changed_d(&b.kms_key_id, &t.kms_key_id),
                    cloud_watch_logs_group_arn: changed_d(
                        &b.cloud_watch_logs_group_arn,
                        &t.cloud_watch_logs_group_arn,
                    ),
                    cloud_watch_logs_role_arn: changed_d(
                        &b.cloud_watch_logs_role_arn,
                        &t.cloud_watch_logs_role_arn,
                    ),
                };
                // The log group and its role are given together or not at all.
                if s.cloud_watch_logs_group_arn.is_some() || s.cloud_watch_logs_role_arn.is_some() {
                    s.cloud_watch_logs_group_arn = t.cloud_watch_logs_group_arn.clone();
                    s.cloud_watch_logs_role_arn = t.cloud_watch_logs_role_arn.clone();
                }
                // A multi-region trail must include global service events.
                if s.is_multi_region_trail == Some(true) {
                    s.include_global_service_events = Some(true);
                }
                key = s.kms_key_id.take();
                if !s.is_empty() {
                    out.push(WriteCall::UpdateTrail {
                        trail: t.id(),
                        settings: s,
                    });
                }
            }
            _ => return vec![],
        }
        let selectors_changed = before.is_none_or(|b| b.event_selectors != t.event_selectors);
        if selectors_changed {
            out.push(WriteCall::PutEventSelectors {
                trail: t.id(),
                selectors: t.event_selectors.clone(),
            });
        }
        if t.enable_logging && before.is_none_or(|b| !b.enable_logging) {
            out.push(WriteCall::StartLogging { trail: t.id() });
        }
        if key.is_some() {
            out.push(WriteCall::UpdateTrail {
                trail: t.id(),
                settings: TrailSettings {
                    kms_key_id: key,
                    ..TrailSettings::default()
                },
            });
        }
        out
    }

    fn planned_arn(&self, at: &Location, partition: &str) -> Option<String> {
        Some(self.arn.clone().unwrap_or_else(|| {
            arn(
                partition,
                &at.region,
                at.account.as_deref().unwrap_or("*"),
                &self.name,
            )
        }))
    }
}
