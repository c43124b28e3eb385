//! What a saved plan rests on: one digest per read of the snapshot it was
//! computed from, so `apply FILE` can tell, read by read, whether the
//! account is still the one the plan was made for.
//!
//! A digest covers what a decision can rest on and nothing that moves by
//! itself, or every saved plan would be stale at once:
//! - the readers already keep only what the diff judges (no timestamps such
//!   as CloudTrail's `LatestDeliveryTime`, no alarm state, no sizes);
//! - a failed read is a fact too, but only its call, region, resource and
//!   error code count: the message and the cause chain carry request ids;
//! - lists count as sets: AWS does not promise an order, and no decision
//!   rests on one.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::observed::{CallFailure, Observed};
use crate::snapshot::{ReadKey, Snapshot};

/// One read as the plan saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadPrint {
    /// `service:Operation`, as in an IAM policy.
    pub call: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// `ok`, or `failed` (then `code` is the AWS error code, if any).
    pub outcome: ReadOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `sha256:<hex>` of the read's canonical form.
    pub digest: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadOutcome {
    Ok,
    Failed,
}

impl ReadPrint {
    pub fn key(&self) -> ReadKey {
        ReadKey::new(&self.call, &self.region, self.resource.as_deref())
    }
}

/// Every read of `snap`, in the snapshot's (stable) order.
pub fn of(snap: &Snapshot) -> Vec<ReadPrint> {
    snap.reads
        .iter()
        .map(|(key, result)| {
            let (outcome, code, canonical) = match result {
                Observed::Ok(data) => (
                    ReadOutcome::Ok,
                    None,
                    canonical(&normalise(
                        serde_json::to_value(data).unwrap_or(Value::Null),
                    )),
                ),
                Observed::Failed(f) => (
                    ReadOutcome::Failed,
                    f.code.as_deref().map(str::to_string),
                    canonical(&failure_fact(f)),
                ),
            };
            ReadPrint {
                call: key.call.clone(),
                region: key.region.clone(),
                resource: key.resource.clone(),
                outcome,
                code,
                digest: sha256(canonical.as_bytes()),
            }
        })
        .collect()
}

/// How one read differs from the plan's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// Read now, not when the plan was made: what the account holds moved
    /// the reads (a new VPC, a new trail's log group).
    Appeared,
    /// Read when the plan was made, not now.
    Disappeared,
    /// Read both times, with another answer.
    Changed,
    /// Read then, failing now.
    NowFailing { code: Option<String> },
    /// Failing then, read now.
    NowReadable,
}

/// A read that differs, with its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadDrift {
    pub key: ReadKey,
    pub drift: Drift,
}

/// `logs:DescribeMetricFilters in us-east-1 on cloudtrail-logs: changed`.
impl fmt::Display for ReadDrift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}", self.key.call, self.key.region)?;
        if let Some(r) = &self.key.resource {
            write!(f, " on {r}")?;
        }
        match &self.drift {
            Drift::Appeared => write!(f, ": appeared (not read when the plan was made)"),
            Drift::Disappeared => write!(f, ": disappeared (read when the plan was made, not now)"),
            Drift::Changed => write!(f, ": changed"),
            Drift::NowFailing { code: Some(c) } => write!(f, ": now failing ({c})"),
            Drift::NowFailing { code: None } => write!(f, ": now failing"),
            Drift::NowReadable => write!(f, ": now readable (it failed when the plan was made)"),
        }
    }
}

/// Every read that differs between the plan's and now, in key order.
pub fn compare(saved: &[ReadPrint], now: &[ReadPrint]) -> Vec<ReadDrift> {
    let index = |prints: &[ReadPrint]| -> BTreeMap<ReadKey, ReadPrint> {
        prints.iter().map(|p| (p.key(), p.clone())).collect()
    };
    let (then, now) = (index(saved), index(now));
    let mut keys: Vec<&ReadKey> = then.keys().chain(now.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let drift = match (then.get(key), now.get(key)) {
                (None, Some(_)) => Drift::Appeared,
                (Some(_), None) => Drift::Disappeared,
                (Some(a), Some(b)) => match (a.outcome, b.outcome) {
                    _ if a.outcome == b.outcome && a.digest == b.digest => return None,
                    (ReadOutcome::Ok, ReadOutcome::Failed) => Drift::NowFailing {
                        code: b.code.clone(),
                    },
                    (ReadOutcome::Failed, ReadOutcome::Ok) => Drift::NowReadable,
                    _ => Drift::Changed,
                },
                (None, None) => return None,
            };
            Some(ReadDrift {
                key: key.clone(),
                drift,
            })
        })
        .collect()
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// What of a failure counts: which read, and how AWS refused it.
fn failure_fact(f: &CallFailure) -> Value {
    serde_json::json!({
        "call": f.call,
        "region": f.region,
        "resource": f.resource,
        "code": f.code.as_deref(),
    })
}

/// The read's value with what moves by itself taken out: a nested failure
/// (a trail's status, a key's rotation) keeps only its facts, and lists are
/// sorted.
fn normalise(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            if m.len() == 1
                && let Some(Value::Object(f)) = m.get("failed")
                && f.contains_key("call")
                && f.contains_key("message")
                && let Ok(failure) = serde_json::from_value::<CallFailure>(Value::Object(f.clone()))
            {
                return serde_json::json!({ "failed": failure_fact(&failure) });
            }
            Value::Object(m.into_iter().map(|(k, v)| (k, normalise(v))).collect())
        }
        Value::Array(items) => {
            let mut items: Vec<(String, Value)> = items
                .into_iter()
                .map(normalise)
                .map(|v| (canonical(&v), v))
                .collect();
            items.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Array(items.into_iter().map(|(_, v)| v).collect())
        }
        other => other,
    }
}

/// Compact JSON with every object's keys sorted: one text per value,
/// whatever order the fields were written in.
pub fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::{ReadData, metric_alarm, trail};

    fn denied(message: &str) -> CallFailure {
        CallFailure {
            call: metric_alarm::READ.into(),
            region: "us-east-1".into(),
            resource: None,
            code: Some("AccessDenied".into()),
            message: message.into(),
            detail: None,
        }
    }

    fn snap(regions: Vec<&str>) -> Snapshot {
        let mut s = Snapshot::new(Some("123456789012".into()), None, "us-east-1");
        s.record(
            ReadKey::new(trail::READ, "us-east-1", None),
            Observed::Ok(ReadData::Trails(vec![])),
        );
        s.record(
            ReadKey::new(crate::snapshot::REGIONS_READ, "us-east-1", None),
            Observed::Ok(ReadData::Regions(
                regions.into_iter().map(str::to_string).collect(),
            )),
        );
        s
    }

    #[test]
    fn the_same_reads_in_another_order_or_with_other_messages_are_no_drift() {
        let mut a = snap(vec!["us-east-1", "eu-west-1"]);
        let mut b = snap(vec!["eu-west-1", "us-east-1"]);
        a.record(
            ReadKey::new(metric_alarm::READ, "us-east-1", None),
            Observed::Failed(denied("request id 1")),
        );
        b.record(
            ReadKey::new(metric_alarm::READ, "us-east-1", None),
            Observed::Failed(denied("request id 2")),
        );
        assert_eq!(compare(&of(&a), &of(&b)), vec![]);
    }

    #[test]
    fn each_kind_of_drift_is_named() {
        let mut then = snap(vec!["us-east-1"]);
        then.record(
            ReadKey::new(metric_alarm::READ, "us-east-1", None),
            Observed::Ok(ReadData::Alarms(vec![])),
        );
        then.record(
            ReadKey::new(metric_alarm::READ, "eu-west-1", None),
            Observed::Failed(denied("x")),
        );
        then.record(
            ReadKey::new("logs:DescribeMetricFilters", "us-east-1", Some("lg")),
            Observed::Ok(ReadData::MetricFilters(vec![])),
        );
        let mut now = snap(vec!["us-east-1", "eu-west-1"]);
        now.record(
            ReadKey::new(metric_alarm::READ, "us-east-1", None),
            Observed::Failed(denied("x")),
        );
        now.record(
            ReadKey::new(metric_alarm::READ, "eu-west-1", None),
            Observed::Ok(ReadData::Alarms(vec![])),
        );
        now.record(
            ReadKey::new("logs:DescribeLogGroups", "us-east-1", Some("lg")),
            Observed::Ok(ReadData::LogGroups(vec![])),
        );
        let drift: Vec<String> = compare(&of(&then), &of(&now))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            drift,
            vec![
                "cloudwatch:DescribeAlarms in eu-west-1: now readable (it failed when the plan was made)",
                "cloudwatch:DescribeAlarms in us-east-1: now failing (AccessDenied)",
                "ec2:DescribeRegions in us-east-1: changed",
                "logs:DescribeLogGroups in us-east-1 on lg: appeared (not read when the plan was made)",
                "logs:DescribeMetricFilters in us-east-1 on lg: disappeared (read when the plan was made, not now)",
            ]
        );
    }

    #[test]
    fn a_nested_failure_counts_by_its_code_only() {
        let status = |message: &str, code: &str| {
            let mut f = denied(message);
            f.code = Some(code.into());
            serde_json::json!({"name": "t", "status": {"failed": f}})
        };
        let a = canonical(&normalise(status("id 1", "AccessDenied")));
        assert_eq!(a, canonical(&normalise(status("id 2", "AccessDenied"))));
        assert_ne!(a, canonical(&normalise(status("id 1", "Throttling"))));
    }

    #[test]
    fn canonical_text_sorts_keys_and_digests_are_sha256() {
        let v: Value = serde_json::from_str(r#"{"b":[1,{"d":1,"c":"x"}],"a":null}"#).expect("json");
        assert_eq!(canonical(&v), r#"{"a":null,"b":[1,{"c":"x","d":1}]}"#);
        assert_eq!(
            sha256(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
