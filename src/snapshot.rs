//! The live account as plain, versioned data: what the plan is computed from.
//!
//! A snapshot is the list of reads cis-fix made, each keyed by its call,
//! region and resource, with what it returned or how it failed. Keyed reads
//! make the rest generic: every failure is found the same way, a read is
//! made (and stored) once, and a new kind adds a read without a new field
//! here. A read that failed is a fact ([`Observed::Failed`]), never an empty
//! list, so the diff can tell "nothing there" from "could not look".

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::format::{self, FileError, FileKind, FormatVersion};
use crate::kinds::{ReadData, Trail, trail};
use crate::observed::{CallFailure, Observed};

/// The snapshot file: version 2 keys every read (version 1 had a field per
/// resource family); 2.2 adds the regions to plan (`chosen_regions`, the
/// DescribeRegions read); 2.3 the networking reads (security groups with
/// their rules, network interfaces, EBS encryption by default).
pub const FILE: FileKind = FileKind {
    what: "snapshot",
    version: FormatVersion::new(2, 4),
    remedy: "take a new snapshot with `cis-fix snapshot`",
    marker: "reads",
    others: &[
        (
            "changes",
            "this is a plan file (from `cis-fix plan --json`), not a snapshot; render it with `cis-fix show FILE`, or plan from a snapshot (`cis-fix snapshot --out FILE`)",
        ),
        (
            "saved_plan",
            "this is a saved plan (from `cis-fix plan -out FILE`), not a snapshot; apply it with `cis-fix apply FILE`, or render it with `cis-fix show FILE`",
        ),
    ],
};

/// The caller-identity read: in a snapshot only when it failed (its answer
/// is the snapshot's `account_id` and `caller_arn`).
pub const CALLER_READ: &str = "sts:GetCallerIdentity";

/// The read of the regions enabled for the account, made in the home
/// region: the regions planned when the user names none.
pub const REGIONS_READ: &str = "ec2:DescribeRegions";

/// What the reads look for besides what listing finds: the names cis-fix
/// gives what it creates, so that an interrupted apply's resources are found
/// again rather than made twice, and the topics alarms may notify.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadScope {
    /// Topics cis-fix may notify (the configured or default topic), whose
    /// attributes are read too.
    pub topic_names: Vec<String>,
    pub trail: TrailNames,
    /// The regions the user chose to plan (`--region`, `regions:`);
    /// `None`: every region enabled for the account.
    pub regions: Option<Vec<String>>,
    pub flow_logs: FlowLogNames,
}

/// The names of what cis-fix creates for VPC flow logs delivered to
/// CloudWatch Logs: the log group (one per region, of this name) and the
/// delivery role. Both empty when flow logs go to an S3 bucket, which needs
/// neither. They are looked up only in a region with a VPC lacking an
/// active flow log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowLogNames {
    pub log_group: String,
    /// The delivery role; its inline policy has the same name.
    pub role: String,
}

/// The names of what cis-fix creates for a trail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailNames {
    pub trail: String,
    pub log_group: String,
    /// The delivery role; its inline policy has the same name.
    pub role: String,
    pub key_alias: String,
    /// The description of cis-fix's key: how a key made by an apply
    /// interrupted before its alias was set is found again.
    pub key_description: String,
    /// The bucket is `{bucket_prefix}-{account}-{region}`.
    pub bucket_prefix: String,
    /// A key the user named for trail encryption (ARN, id or alias).
    pub kms_key: Option<String>,
}

impl TrailNames {
    pub fn bucket(&self, account: &str, region: &str) -> String {
        format!("{}-{account}-{region}", self.bucket_prefix)
    }
}

/// Which read: the call, the region it went to, and the resource it was
/// about (a log group, a topic ARN) when it was about one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadKey {
    /// `service:Operation`, as in an IAM policy.
    pub call: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

impl ReadKey {
    pub fn new(call: &str, region: &str, resource: Option<&str>) -> Self {
        ReadKey {
            call: call.to_string(),
            region: region.to_string(),
            resource: resource.map(str::to_string),
        }
    }

    /// The failure that stands for this read when it was never made.
    pub fn not_read(&self) -> CallFailure {
        CallFailure {
            call: self.call.clone(),
            region: self.region.clone(),
            resource: self.resource.clone(),
            code: None,
            message: "not in the snapshot (it was not read)".into(),
            detail: None,
        }
    }
}

/// Everything cis-fix read from one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub format_version: FormatVersion,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Who read it (STS GetCallerIdentity), for the permission check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_arn: Option<String>,
    /// The region the run started in: trails are listed from here
    /// (multi-region trails show in every region).
    pub region: String,
    /// The regions the user chose to plan (`--region`, `regions:` in the
    /// config); absent, the regions enabled for the account
    /// ([`REGIONS_READ`]) are planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen_regions: Option<Vec<String>>,
    #[serde(with = "reads_as_list")]
    pub reads: BTreeMap<ReadKey, Observed<ReadData>>,
}

impl Snapshot {
    pub fn new(account_id: Option<String>, caller_arn: Option<String>, region: &str) -> Self {
        Snapshot {
            format_version: FILE.version,
            account_id,
            caller_arn,
            region: region.to_string(),
            chosen_regions: None,
            reads: BTreeMap::new(),
        }
    }

    pub fn load(path: &Path) -> Result<Snapshot, FileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| FileError::Io {
            what: FILE.what,
            path: shown.clone(),
            source,
        })?;
        Self::from_json(&text, &shown)
    }

    /// Parses snapshot JSON; `origin` names the file in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Snapshot, FileError> {
        format::load(text, origin, FILE)
    }

    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn record(&mut self, key: ReadKey, result: Observed<ReadData>) {
        self.reads.insert(key, result);
    }

    /// One read, projected to the data of the kind that asks (`project` is
    /// the kind's `from_read`). A read never made is a failure too: the
    /// diff must not take "not read" for "nothing there".
    pub fn read<'a, T>(
        &'a self,
        call: &str,
        region: &str,
        resource: Option<&str>,
        project: fn(&'a ReadData) -> Option<T>,
    ) -> Result<T, CallFailure> {
        let key = ReadKey::new(call, region, resource);
        match self.reads.get(&key) {
            Some(Observed::Ok(d)) => project(d).ok_or_else(|| CallFailure {
                message: "the snapshot holds another kind of data for this read".into(),
                ..key.not_read()
            }),
            Some(Observed::Failed(f)) => Err(f.clone()),
            None => Err(key.not_read()),
        }
    }

    /// The trails listed from the home region.
    pub fn trails(&self) -> Result<&[Trail], CallFailure> {
        self.read(trail::READ, &self.region, None, trail::from_read)
    }

    /// The regions whose regional controls are planned: the ones the user
    /// chose, else every region enabled for the account, else (that read
    /// failed, or an older snapshot lacks it) the failure.
    pub fn planned_regions(&self) -> Result<Vec<String>, CallFailure> {
        match &self.chosen_regions {
            Some(r) => Ok(r.clone()),
            None => self.read(REGIONS_READ, &self.region, None, |d| match d {
                ReadData::Regions(r) => Some(r.clone()),
                _ => None,
            }),
        }
    }

    /// The regions a regional family judges: the planned ones, or, when
    /// which regions exist could not be read (DescribeRegions failed), the
    /// failure and the regions whose `call` is in the snapshot anyway (their
    /// items are still judged and fixed).
    pub fn regions_for(&self, call: &str) -> (Vec<String>, Option<CallFailure>) {
        match self.planned_regions() {
            Ok(r) => (r, None),
            Err(f) => (
                self.reads
                    .keys()
                    .filter(|k| k.call == call)
                    .map(|k| k.region.clone())
                    .collect(),
                Some(f),
            ),
        }
    }

    /// Every read that failed, in a stable order, items' reads included.
    pub fn failures(&self) -> Vec<CallFailure> {
        let mut out = Vec::new();
        for r in self.reads.values() {
            match r {
                Observed::Failed(f) => out.push(f.clone()),
                Observed::Ok(d) => out.extend(d.nested_failures().into_iter().cloned()),
            }
        }
        out
    }
}

/// Reads are stored as a list in files (JSON keys must be strings); a key
/// given twice is a damaged file, not a later read winning.
mod reads_as_list {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::ReadKey;
    use crate::kinds::ReadData;
    use crate::observed::Observed;

    #[derive(Serialize)]
    struct Entry<'a> {
        #[serde(flatten)]
        key: &'a ReadKey,
        result: &'a Observed<ReadData>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Owned {
        call: String,
        region: String,
        #[serde(default)]
        resource: Option<String>,
        result: Observed<ReadData>,
    }

    pub fn serialize<S: Serializer>(
        reads: &BTreeMap<ReadKey, Observed<ReadData>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(reads.iter().map(|(key, result)| Entry { key, result }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<ReadKey, Observed<ReadData>>, D::Error> {
        let list = Vec::<Owned>::deserialize(d)?;
        let mut out = BTreeMap::new();
        for e in list {
            let key = ReadKey {
                call: e.call,
                region: e.region,
                resource: e.resource,
            };
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the read {} in {}{} is listed twice",
                    key.call,
                    key.region,
                    key.resource
                        .as_deref()
                        .map(|r| format!(" of {r}"))
                        .unwrap_or_default()
                )));
            }
            out.insert(key, e.result);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::metric_alarm;

    fn empty() -> Snapshot {
        let mut s = Snapshot::new(Some("123456789012".into()), None, "us-east-1");
        s.record(
            ReadKey::new(trail::READ, "us-east-1", None),
            Observed::Ok(ReadData::Trails(vec![])),
        );
        s
    }

    #[test]
    fn round_trip() {
        let s = empty();
        let back = Snapshot::from_json(&s.to_json(), "x.json").expect("parses");
        assert_eq!(s, back);
    }

    #[test]
    fn failed_read_is_kept_and_listed() {
        let mut s = empty();
        let denied = CallFailure {
            call: metric_alarm::READ.into(),
            region: "us-east-1".into(),
            resource: None,
            code: Some("AccessDenied".into()),
            message: "denied".into(),
            detail: None,
        };
        s.record(
            ReadKey::new(metric_alarm::READ, "us-east-1", None),
            Observed::Failed(denied.clone()),
        );
        let text = s.to_json();
        assert!(text.contains("\"failed\""));
        let back = Snapshot::from_json(&text, "x").expect("parses");
        assert_eq!(back, s);
        assert_eq!(back.failures(), vec![denied.clone()]);
        assert_eq!(
            back.read(
                metric_alarm::READ,
                "us-east-1",
                None,
                metric_alarm::from_read
            ),
            Err(denied)
        );
        let never = back
            .read(
                metric_alarm::READ,
                "eu-west-1",
                None,
                metric_alarm::from_read,
            )
            .unwrap_err();
        assert!(never.message.contains("not read"), "{never}");
    }

    #[test]
    fn wrong_version_duplicates_and_truncation_are_errors() {
        let err = Snapshot::from_json(r#"{"format_version": 1}"#, "old.json").unwrap_err();
        assert!(
            err.to_string()
                .contains("format_version 1 is not supported"),
            "{err}"
        );
        let text = empty().to_json();
        let err = Snapshot::from_json(&text[..text.len() / 2], "cut.json").unwrap_err();
        assert!(err.to_string().starts_with("cut.json"), "{err}");
        let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
        let first = v["reads"][0].clone();
        v["reads"].as_array_mut().expect("list").push(first);
        let err = Snapshot::from_json(&v.to_string(), "dup.json").unwrap_err();
        assert!(err.to_string().contains("listed twice"), "{err}");
    }
}
