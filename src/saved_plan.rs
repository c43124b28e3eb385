//! A plan saved to apply later (`plan -out FILE`, `apply FILE`), as
//! Terraform saves one: the changes exactly as planned, the plan as it was
//! shown, what it was planned against (account, regions, benchmark, config,
//! opt-ins, cis-fix version) and a fingerprint of every read it rests on.
//! `apply FILE` carries out those changes only while all of that still
//! holds; documented in `docs/saved-plan.md`.
//!
//! The body is covered by a checksum: a damaged file, or one edited without
//! recomputing it, is refused, since applying it would make changes nobody
//! reviewed. It is not a signature: whoever can write the file can
//! recompute it, so plan files belong where only the pipeline writes.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fingerprint::{self, ReadPrint};
use crate::format::{self, FileError, FileKind, FormatVersion};
use crate::jsonplan::{self, JsonPlan};
use crate::plan::{OptIn, Plan};
use crate::snapshot::Snapshot;

/// 1.0: the first saved plan.
pub const FILE: FileKind = FileKind {
    what: "saved plan",
    version: FormatVersion::new(1, 0),
    remedy: "make the plan again with `cis-fix plan -out FILE`",
    marker: "saved_plan",
    others: &[
        (
            "changes",
            "this is a JSON plan (from `cis-fix plan --json`), which cannot be applied: save a plan to apply with `cis-fix plan -out FILE`, or render this one with `cis-fix show FILE`",
        ),
        (
            "reads",
            "this is a snapshot (from `cis-fix snapshot`), not a saved plan: plan from it with `cis-fix plan --from FILE`",
        ),
    ],
};

/// This build's version: a saved plan is applied by the cis-fix that made it.
pub const CIS_FIX_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where the home region came from when the plan was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HomeFrom {
    /// `--region`: apply uses it again.
    Flag,
    /// AWS_REGION or the profile: apply's environment must give the same.
    Environment,
    /// The snapshot the plan was made from (`plan --from`): apply uses it.
    Snapshot,
}

/// The config file a plan was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigInput {
    /// `--config` as given; absent, `./cis-fix.yaml` was looked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// The file read; absent, there was none (the defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `sha256:<hex>` of its content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl ConfigInput {
    /// The config as `flag` finds it now: the file `Config::discover` would
    /// read, and the digest of its content.
    pub fn of(flag: Option<&Path>, path: Option<&Path>) -> Result<ConfigInput, std::io::Error> {
        let sha256 = match path {
            Some(p) => Some(fingerprint::sha256(&std::fs::read(p)?)),
            None => None,
        };
        Ok(ConfigInput {
            flag: flag.map(|p| p.display().to_string()),
            path: path.map(|p| p.display().to_string()),
            sha256,
        })
    }
}

/// What a plan was computed for, besides the reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// `None`: STS GetCallerIdentity failed; such a plan is never applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    pub home_region: String,
    pub home_from: HomeFrom,
    /// The regions chosen (`--region`, `regions:`, a snapshot's); absent,
    /// every region enabled for the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen_regions: Option<Vec<String>>,
    /// The regions planned.
    pub regions: Vec<String>,
    /// The benchmark version planned, in full (`3.0.0`).
    pub benchmark: String,
    /// `--benchmark` as given; apply uses it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark_flag: Option<String>,
    pub config: ConfigInput,
    /// `--allow-destructive` was given; apply gives it again.
    #[serde(default)]
    pub allow_destructive: bool,
    /// The destructive opt-ins in effect (flag and config together).
    #[serde(default)]
    pub opt_ins: Vec<OptIn>,
    /// The snapshot file the plan was computed from (`plan --from`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_file: Option<String>,
}

/// One way the target of `apply FILE` is not what the plan was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub what: &'static str,
    pub planned: String,
    pub now: String,
}

/// `account: planned for 123456789012, now 111122223333`.
impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: planned for {}, now {}",
            self.what, self.planned, self.now
        )
    }
}

impl Inputs {
    /// How `now` differs from the plan's inputs, field by field; the flags
    /// apply reuses are not compared (they are the plan's own).
    pub fn mismatches(&self, now: &Inputs) -> Vec<Mismatch> {
        let mut out = Vec::new();
        let mut check = |what: &'static str, planned: String, current: String| {
            if planned != current {
                out.push(Mismatch {
                    what,
                    planned,
                    now: current,
                });
            }
        };
        let account = |a: &Option<String>| {
            a.clone()
                .unwrap_or_else(|| "an account whose id could not be read".into())
        };
        // An unknown account matches nothing, itself included.
        let unknown = self.account_id.is_none() || now.account_id.is_none();
        check(
            "account",
            account(&self.account_id),
            if unknown {
                format!("{} (which cannot be checked)", account(&now.account_id))
            } else {
                account(&now.account_id)
            },
        );
        check(
            "home region",
            self.home_region.clone(),
            now.home_region.clone(),
        );
        let list = |r: &[String]| {
            if r.is_empty() {
                "no region (the enabled regions could not be read)".to_string()
            } else {
                r.join(", ")
            }
        };
        check("regions", list(&self.regions), list(&now.regions));
        check(
            "benchmark",
            format!("v{}", self.benchmark),
            format!("v{}", now.benchmark),
        );
        let config = |c: &ConfigInput| match (&c.path, &c.sha256) {
            (Some(p), Some(d)) => format!("{p} ({d})"),
            (Some(p), None) => p.clone(),
            _ => "no config file (the defaults)".into(),
        };
        check("config", config(&self.config), config(&now.config));
        let opt_ins = |o: &[OptIn]| {
            if o.is_empty() {
                "none".to_string()
            } else {
                o.iter().map(|o| o.setting()).collect::<Vec<_>>().join(", ")
            }
        };
        check(
            "destructive opt-ins",
            opt_ins(&self.opt_ins),
            opt_ins(&now.opt_ins),
        );
        out
    }
}

/// A saved plan, read or to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedPlan {
    pub cis_fix_version: String,
    pub inputs: Inputs,
    pub fingerprint: Vec<ReadPrint>,
    /// The plan as `plan` showed it (its documented JSON form): what `show`
    /// renders.
    pub plan: JsonPlan,
    /// The plan `apply` carries out: cis-fix's internal form, read only by
    /// the version that wrote it.
    internal: Value,
}

/// The body the checksum covers, as written.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    cis_fix_version: String,
    inputs: Inputs,
    fingerprint: Vec<ReadPrint>,
    plan: Value,
    internal_plan: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    #[allow(dead_code)]
    format_version: FormatVersion,
    checksum: String,
    saved_plan: Value,
}

impl SavedPlan {
    /// `plan`, computed from `snap`, for `inputs`.
    pub fn new(plan: &Plan, snap: &Snapshot, inputs: Inputs) -> SavedPlan {
        SavedPlan {
            cis_fix_version: CIS_FIX_VERSION.to_string(),
            inputs,
            fingerprint: fingerprint::of(snap),
            plan: JsonPlan::from_plan(plan),
            internal: serde_json::to_value(plan).unwrap_or(Value::Null),
        }
    }

    pub fn to_json(&self) -> String {
        let body = Body {
            cis_fix_version: self.cis_fix_version.clone(),
            inputs: self.inputs.clone(),
            fingerprint: self.fingerprint.clone(),
            plan: serde_json::to_value(&self.plan).unwrap_or(Value::Null),
            internal_plan: self.internal.clone(),
        };
        let body = serde_json::to_value(&body).unwrap_or(Value::Null);
        let file = serde_json::json!({
            "format_version": FILE.version,
            "checksum": checksum(&body),
            "saved_plan": body,
        });
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    pub fn load(path: &Path) -> Result<SavedPlan, FileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| FileError::Io {
            what: FILE.what,
            path: shown.clone(),
            source,
        })?;
        Self::from_json(&text, &shown)
    }

    /// Parses a saved plan; `origin` names the file in errors. The checksum
    /// is checked before anything in the body is believed.
    pub fn from_json(text: &str, origin: &str) -> Result<SavedPlan, FileError> {
        let damaged = |message: String| FileError::Other {
            path: origin.to_string(),
            message,
        };
        let envelope: Envelope = format::load(text, origin, FILE)?;
        if checksum(&envelope.saved_plan) != envelope.checksum {
            return Err(damaged(
                "the saved plan does not match its checksum: the file is damaged or was edited, and is not applied. Make the plan again with `cis-fix plan -out FILE`".into(),
            ));
        }
        let body: Body = serde_json::from_value(envelope.saved_plan)
            .map_err(|e| damaged(format!("not a cis-fix saved plan: {e}")))?;
        let plan_text = serde_json::to_string(&body.plan).unwrap_or_default();
        let plan = JsonPlan::from_json(&plan_text, &format!("{origin} (its plan)"))?;
        if plan.format_version != jsonplan::FILE.version {
            return Err(damaged(format!(
                "its plan is of JSON plan format_version {} (this cis-fix writes {}); {}",
                plan.format_version,
                jsonplan::FILE.version,
                FILE.remedy
            )));
        }
        Ok(SavedPlan {
            cis_fix_version: body.cis_fix_version,
            inputs: body.inputs,
            fingerprint: body.fingerprint,
            plan,
            internal: body.internal_plan,
        })
    }

    /// The changes to carry out, as this cis-fix planned them: only the
    /// version that wrote the file reads them (the caller checks it first),
    /// and they must be the ones the file shows.
    pub fn internal_plan(&self, origin: &str) -> Result<Plan, FileError> {
        let damaged = |message: String| FileError::Other {
            path: origin.to_string(),
            message,
        };
        let plan: Plan = serde_json::from_value(self.internal.clone())
            .map_err(|e| damaged(format!("its plan to apply cannot be read: {e}")))?;
        if JsonPlan::from_plan(&plan) != self.plan {
            return Err(damaged(
                "its plan to apply is not the plan it shows: the file is damaged".into(),
            ));
        }
        Ok(plan)
    }
}

/// `sha256:<hex>` over the body's canonical text (keys sorted, compact), so
/// the pretty-printing of the file does not matter, and any edit does.
fn checksum(body: &Value) -> String {
    fingerprint::sha256(fingerprint::canonical(body).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::{ReadData, trail};
    use crate::observed::Observed;
    use crate::snapshot::ReadKey;

    fn inputs() -> Inputs {
        Inputs {
            account_id: Some("123456789012".into()),
            home_region: "us-east-1".into(),
            home_from: HomeFrom::Flag,
            chosen_regions: Some(vec!["us-east-1".into(), "eu-west-1".into()]),
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            benchmark: "3.0.0".into(),
            benchmark_flag: None,
            config: ConfigInput {
                flag: None,
                path: Some("cis-fix.yaml".into()),
                sha256: Some(fingerprint::sha256(b"a")),
            },
            allow_destructive: false,
            opt_ins: vec![],
            snapshot_file: None,
        }
    }

    fn saved() -> SavedPlan {
        let plan = Plan {
            benchmark: "3.0.0".into(),
            benchmark_title: "CIS".into(),
            account_id: Some("123456789012".into()),
            caller_arn: None,
            regions: vec!["us-east-1".into()],
            unmanaged: vec![],
            notices: vec![],
            changes: vec![],
            held_back: vec![],
            controls: vec![],
            failed_reads: vec![],
            cost: None,
        };
        let mut snap = Snapshot::new(Some("123456789012".into()), None, "us-east-1");
        snap.record(
            ReadKey::new(trail::READ, "us-east-1", None),
            Observed::Ok(ReadData::Trails(vec![])),
        );
        SavedPlan::new(&plan, &snap, inputs())
    }

    #[test]
    fn round_trips_and_reads_back_its_plan() {
        let s = saved();
        let back = SavedPlan::from_json(&s.to_json(), "p.cisplan").expect("loads");
        assert_eq!(back, s);
        let plan = back.internal_plan("p.cisplan").expect("internal plan");
        assert_eq!(JsonPlan::from_plan(&plan), s.plan);
        assert_eq!(back.fingerprint.len(), 1);
    }

    #[test]
    fn an_edited_file_is_damaged() {
        let text = saved().to_json();
        let edited = text.replace("\"us-east-1\"", "\"eu-west-1\"");
        assert_ne!(edited, text);
        let e = SavedPlan::from_json(&edited, "p.cisplan").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("p.cisplan: the saved plan does not match its checksum"),
            "{e}"
        );
        // Whitespace is not an edit.
        let v: Value = serde_json::from_str(&text).expect("json");
        SavedPlan::from_json(&v.to_string(), "compact").expect("compact still loads");
        let cut = SavedPlan::from_json(&text[..text.len() / 2], "cut.cisplan").unwrap_err();
        assert!(cut.to_string().starts_with("cut.cisplan:"), "{cut}");
    }

    #[test]
    fn another_format_version_and_other_kinds_are_clear_errors() {
        let mut v: Value = serde_json::from_str(&saved().to_json()).expect("json");
        v["format_version"] = "2.0".into();
        let e = SavedPlan::from_json(&v.to_string(), "new.cisplan").unwrap_err();
        assert_eq!(
            e.to_string(),
            "new.cisplan: saved plan format_version 2.0 is not supported (this cis-fix reads 1.0); make the plan again with `cis-fix plan -out FILE`"
        );
        let json_plan = saved().plan.to_json();
        let e = SavedPlan::from_json(&json_plan, "plan.json").unwrap_err();
        assert!(e.to_string().contains("cannot be applied"), "{e}");
        let snapshot = Snapshot::new(None, None, "us-east-1").to_json();
        let e = SavedPlan::from_json(&snapshot, "snap.json").unwrap_err();
        assert!(e.to_string().contains("this is a snapshot"), "{e}");
    }

    #[test]
    fn mismatches_name_each_input() {
        let a = inputs();
        assert_eq!(a.mismatches(&a), vec![]);
        let mut b = a.clone();
        b.account_id = Some("111122223333".into());
        b.home_region = "eu-west-1".into();
        b.regions = vec!["eu-west-1".into()];
        b.benchmark = "6.0.0".into();
        b.config.sha256 = Some(fingerprint::sha256(b"b"));
        b.opt_ins = vec![OptIn::AdminPortRules];
        let text: Vec<String> = a.mismatches(&b).iter().map(ToString::to_string).collect();
        assert_eq!(
            text[0],
            "account: planned for 123456789012, now 111122223333"
        );
        assert_eq!(text[1], "home region: planned for us-east-1, now eu-west-1");
        assert_eq!(
            text[2],
            "regions: planned for us-east-1, eu-west-1, now eu-west-1"
        );
        assert_eq!(text[3], "benchmark: planned for v3.0.0, now v6.0.0");
        assert!(
            text[4].starts_with("config: planned for cis-fix.yaml (sha256:"),
            "{}",
            text[4]
        );
        assert_eq!(
            text[5],
            "destructive opt-ins: planned for none, now destructive.admin_port_rules"
        );
        assert_eq!(text.len(), 6);
        // An account that could not be read matches nothing.
        let mut unknown = a.clone();
        unknown.account_id = None;
        assert_eq!(unknown.mismatches(&unknown).len(), 1);
    }
}
