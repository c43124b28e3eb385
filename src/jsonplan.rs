//! The JSON form of a plan (`plan --json`, `show --json`): documented in
//! `docs/json-plan.md` and versioned, kept apart from the internal [`Plan`]
//! so the internal shape can change without breaking a script, and read
//! back by `show` and the human renderer, so a saved plan renders exactly as
//! a fresh one.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::address::Address;
use crate::cost::Cost;
use crate::format::{self, FileError, FileKind, FormatVersion};
use crate::kinds::Action;
use crate::observed::CallFailure;
use crate::plan::{Cause, Change, ControlStatus, Grant, OptIn, Plan, Severity, Summary};

/// 2.0: addresses carry account and region, changes can destroy and
/// replace, notices and control causes are structured; 2.2 adds KMS key
/// rotation (`aws_kms_key_rotation`, the `kms_keys_skipped` notice) and
/// VPC flow logs (`aws_flow_log`); 2.3 the networking kinds, `held_back`
/// changes and the `needs_opt_in` cause; 2.4 `aws_network_acl_rule`,
/// `aws_instance_metadata_options` and their opt-ins, and exceptions (the
/// `excepted` status, a control's `exception` and `excepted` resources, the
/// `exception_*` notices); 2.5 `cost`, what the plan adds a month at list
/// price.
pub const FILE: FileKind = FileKind {
    what: "plan",
    version: FormatVersion::new(2, 5),
    remedy: "make the plan again with this version of cis-fix",
    marker: "changes",
    others: &[(
        "reads",
        "this is a snapshot (from `cis-fix snapshot`), not a plan; plan from it with `cis-fix plan --from FILE`",
    )],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonPlan {
    pub format_version: FormatVersion,
    pub benchmark: String,
    pub benchmark_title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_arn: Option<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    /// Controls of the version cis-fix does not manage (yet).
    #[serde(default)]
    pub unmanaged: Vec<String>,
    pub notices: Vec<JsonNotice>,
    pub changes: Vec<JsonChange>,
    /// Changes that wait for an opt-in (`needs_opt_in`): never applied,
    /// not counted in `summary`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_back: Vec<JsonChange>,
    pub controls: Vec<JsonControl>,
    pub summary: Summary,
    #[serde(default)]
    pub failed_reads: Vec<CallFailure>,
    /// What `changes` add to the monthly bill at list price, per item
    /// (docs/json-plan.md); absent in plans older than 2.5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonNotice {
    pub kind: String,
    pub severity: Severity,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// The notice's own fields, as in `kind`'s documentation.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub data: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonChange {
    /// `<account>/<region>/<type>.<name>[<key>]`: unique in the plan.
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub region: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub action: Action,
    pub controls: Vec<String>,
    pub reason: String,
    /// The resource's attributes as they are; `null` for a create. A value
    /// known only after apply is `{"after_apply": "<address>.<attr>"}`.
    pub before: Option<Value>,
    /// As they will be; `null` for a destroy.
    pub after: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Only on a held-back change: the opt-in it waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs_opt_in: Option<JsonOptIn>,
}

/// The opt-in a held-back change waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonOptIn {
    pub opt_in: OptIn,
    /// The flag that gives every opt-in (`--allow-destructive`).
    pub flag: String,
    /// The setting of cis-fix.yaml that gives this one.
    pub setting: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonControl {
    pub id: String,
    pub title: String,
    pub status: ControlStatus,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// Only on an `excepted` control: the exception that excepts it whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Grant>,
    /// Resources under the control excepted from its fix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excepted: Vec<JsonExcepted>,
}

/// A resource excepted under a control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonExcepted {
    /// The selector as written in cis-fix.yaml.
    pub resource: String,
    /// The changes left out of the plan because of it.
    pub addresses: Vec<String>,
    /// Changes it names that stay in the plan, because something that is
    /// not excepted needs them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_anyway: Vec<String>,
    pub exception: Grant,
}

impl JsonPlan {
    pub fn from_plan(p: &Plan) -> JsonPlan {
        JsonPlan {
            format_version: FILE.version,
            benchmark: p.benchmark.clone(),
            benchmark_title: p.benchmark_title.clone(),
            account_id: p.account_id.clone(),
            caller_arn: p.caller_arn.clone(),
            regions: p.regions.clone(),
            unmanaged: p.unmanaged.clone(),
            notices: p
                .notices
                .iter()
                .map(|n| {
                    let mut data = serde_json::to_value(n).unwrap_or(Value::Null);
                    if let Value::Object(m) = &mut data {
                        m.remove("kind");
                    }
                    JsonNotice {
                        kind: n.kind().to_string(),
                        severity: n.severity(),
                        message: n.message(),
                        details: n.details(),
                        data,
                    }
                })
                .collect(),
            changes: p.changes.iter().map(|c| json_change(c, None)).collect(),
            held_back: p
                .held_back
                .iter()
                .map(|h| json_change(&h.change, Some(h.opt_in)))
                .collect(),
            controls: p
                .controls
                .iter()
                .map(|c| JsonControl {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    status: c.status,
                    reason: c.reason.clone(),
                    cause: c.cause.clone(),
                    exception: c.exception.clone(),
                    excepted: c
                        .excepted
                        .iter()
                        .map(|e| JsonExcepted {
                            resource: e.resource.clone(),
                            addresses: e.addresses.iter().map(ToString::to_string).collect(),
                            changed_anyway: e
                                .changed_anyway
                                .iter()
                                .map(ToString::to_string)
                                .collect(),
                            exception: e.exception.clone(),
                        })
                        .collect(),
                })
                .collect(),
            summary: p.summary(),
            failed_reads: p.failed_reads.clone(),
            cost: p.cost.clone(),
        }
    }

    /// Loads a plan saved with `plan --json`; `origin` names the file in
    /// errors.
    pub fn from_json(text: &str, origin: &str) -> Result<JsonPlan, FileError> {
        let p: JsonPlan = format::load(text, origin, FILE)?;
        if p.summary != Summary::of_actions(p.changes.iter().map(|c| c.action)) {
            return Err(FileError::Other {
                path: origin.to_string(),
                message: "the summary does not count the changes the plan lists (was it edited?)"
                    .into(),
            });
        }
        if p.cost.as_ref().is_some_and(|c| !c.adds_up()) {
            return Err(FileError::Other {
                path: origin.to_string(),
                message: "the cost's monthly totals are not the sums of its items (was it edited?)"
                    .into(),
            });
        }
        Ok(p)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }
}

fn json_change(c: &Change, opt_in: Option<OptIn>) -> JsonChange {
    JsonChange {
        address: c.address.to_string(),
        account: c.address.location.account.clone(),
        region: c.address.location.region.clone(),
        kind: c.address.kind.clone(),
        name: c.address.name.clone(),
        key: c.address.key.clone(),
        action: c.action,
        controls: c.controls.clone(),
        reason: c.reason.clone(),
        before: c.before.as_ref().map(attributes),
        after: c.after.as_ref().map(attributes),
        depends_on: c.depends_on.iter().map(ToString::to_string).collect(),
        needs_opt_in: opt_in.map(|o| JsonOptIn {
            opt_in: o,
            flag: OptIn::FLAG.to_string(),
            setting: o.setting(),
        }),
    }
}

/// A resource's attributes, with every value known only after apply shown
/// as the address and attribute it will come from: the form of `before` and
/// `after` in the plan, and in the journal.
pub fn attributes(r: &crate::kinds::Resource) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    flatten_deferred(&mut v);
    v
}

fn flatten_deferred(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.len() == 2
                && let (Some(addr), Some(Value::String(attr))) =
                    (m.get("after_apply"), m.get("attr"))
                && let Ok(addr) = serde_json::from_value::<Address>(addr.clone())
            {
                let text = format!("{addr}.{attr}");
                m.clear();
                m.insert("after_apply".into(), Value::String(text));
                return;
            }
            m.values_mut().for_each(flatten_deferred);
        }
        Value::Array(items) => items.iter_mut().for_each(flatten_deferred),
        _ => {}
    }
}
