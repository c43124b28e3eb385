//! The live account as plain, versioned data: what the plan is computed from.
//!
//! A read that failed is recorded as a fact ([`Observed::Failed`]), never as an
//! empty list, so the diff can tell "nothing there" from "could not look".

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::resources::{MetricAlarm, MetricFilter, Subscription, Topic, TopicAttributes, Trail};

/// Bumped whenever a field changes meaning; older files are refused.
pub const FORMAT_VERSION: u32 = 1;

/// The result of one read: the value, or why it could not be had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observed<T> {
    Ok(T),
    Failed(CallFailure),
}

impl<T> Observed<T> {
    pub fn as_ref(&self) -> Result<&T, &CallFailure> {
        match self {
            Observed::Ok(v) => Ok(v),
            Observed::Failed(f) => Err(f),
        }
    }
}

/// An AWS call that failed for good (after the SDK's retries), naming the
/// call, region and resource so the user can fix permissions or retry. Reads
/// record it in the snapshot; writes report it in the apply report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallFailure {
    /// `service:Operation`, as in an IAM policy.
    pub call: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The AWS error code (AccessDenied, ThrottlingException, …) when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in {}", self.call, self.region)?;
        if let Some(r) = &self.resource {
            write!(f, " on {r}")?;
        }
        write!(f, " failed: ")?;
        if let Some(c) = &self.code {
            write!(f, "{c}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Everything cis-fix read from one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub format_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Who read it (STS GetCallerIdentity), for the permission check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_arn: Option<String>,
    /// The region trails were discovered from (multi-region trails show in
    /// every region).
    pub region: String,
    pub trails: Observed<Vec<Trail>>,
    /// Monitoring resources per region, for each region some trail delivers
    /// CloudWatch Logs to.
    #[serde(default)]
    pub regions: BTreeMap<String, RegionSnapshot>,
}

/// The monitoring resources of one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSnapshot {
    /// Metric filters per log group name.
    #[serde(default)]
    pub metric_filters: BTreeMap<String, Observed<Vec<MetricFilter>>>,
    pub alarms: Observed<Vec<MetricAlarm>>,
    pub topics: Observed<Vec<Topic>>,
    pub subscriptions: Observed<Vec<Subscription>>,
    /// Attributes of the topics alarms notify (and of the topic cis-fix
    /// would use), by ARN; `None` when the topic does not exist.
    #[serde(default)]
    pub topic_attributes: BTreeMap<String, Observed<Option<TopicAttributes>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a cis-fix snapshot (line {line}, column {column}): {message}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path}: snapshot format_version {found} is not supported (this cis-fix reads version {FORMAT_VERSION}); take a new snapshot with `cis-fix snapshot`"
    )]
    Version { path: String, found: u64 },
}

impl Snapshot {
    pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Io {
            path: shown.clone(),
            source,
        })?;
        Self::from_json(&text, &shown)
    }

    /// Parses snapshot JSON; `origin` names the file in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Snapshot, SnapshotError> {
        let parse_err = |e: serde_json::Error| SnapshotError::Parse {
            path: origin.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        // Check the version first so an old file gets the helpful message,
        // not a complaint about a field that moved.
        let raw: serde_json::Value = serde_json::from_str(text).map_err(parse_err)?;
        match raw.get("format_version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(found) => {
                return Err(SnapshotError::Version {
                    path: origin.to_string(),
                    found,
                });
            }
            None => {
                return Err(SnapshotError::Parse {
                    path: origin.to_string(),
                    line: 1,
                    column: 1,
                    message: "missing numeric field `format_version`".into(),
                });
            }
        }
        serde_json::from_str(text).map_err(parse_err)
    }

    /// Every read that failed, in a stable order.
    pub fn failures(&self) -> Vec<CallFailure> {
        let mut out = Vec::new();
        if let Observed::Failed(f) = &self.trails {
            out.push(f.clone());
        }
        if let Observed::Ok(ts) = &self.trails {
            for t in ts {
                if let Observed::Failed(f) = &t.status {
                    out.push(f.clone());
                }
                if let Observed::Failed(f) = &t.selectors {
                    out.push(f.clone());
                }
            }
        }
        for r in self.regions.values() {
            for obs in r.metric_filters.values() {
                if let Observed::Failed(f) = obs {
                    out.push(f.clone());
                }
            }
            for obs in r.topic_attributes.values() {
                if let Observed::Failed(f) = obs {
                    out.push(f.clone());
                }
            }
            for f in [
                r.alarms.as_ref().err(),
                r.topics.as_ref().err(),
                r.subscriptions.as_ref().err(),
            ]
            .into_iter()
            .flatten()
            {
                out.push(f.clone());
            }
        }
        out
    }

    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> Snapshot {
        Snapshot {
            format_version: FORMAT_VERSION,
            account_id: Some("123456789012".into()),
            caller_arn: None,
            region: "us-east-1".into(),
            trails: Observed::Ok(vec![]),
            regions: BTreeMap::new(),
        }
    }

    #[test]
    fn round_trip() {
        let s = empty();
        let back = Snapshot::from_json(&s.to_json(), "x.json").expect("parses");
        assert_eq!(s, back);
    }

    #[test]
    fn failed_read_is_kept() {
        let mut s = empty();
        s.trails = Observed::Failed(CallFailure {
            call: "cloudtrail:DescribeTrails".into(),
            region: "us-east-1".into(),
            resource: None,
            code: Some("AccessDeniedException".into()),
            message: "denied".into(),
        });
        let text = s.to_json();
        assert!(text.contains("\"failed\""));
        assert_eq!(Snapshot::from_json(&text, "x").expect("parses"), s);
    }

    #[test]
    fn wrong_version_and_truncation_are_errors() {
        let err = Snapshot::from_json(r#"{"format_version": 99}"#, "old.json").unwrap_err();
        assert!(err.to_string().contains("format_version 99"), "{err}");
        let text = empty().to_json();
        let err = Snapshot::from_json(&text[..text.len() / 2], "cut.json").unwrap_err();
        assert!(err.to_string().starts_with("cut.json"), "{err}");
    }
}
