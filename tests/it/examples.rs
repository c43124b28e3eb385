//! The deployment examples agree with the policies cis-fix ships: the
//! StackSet template's copies of `examples/iam/*.json` (CloudFormation cannot
//! read a file), the scheduled task's policy names, and the Terraform
//! module's paths to those files. None of these can be deployed here, so this
//! is what keeps them from drifting when a kind adds an action.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

const POLICIES: [&str; 2] = ["cis-fix-plan", "cis-fix-apply"];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A CloudFormation template as JSON values, refusing short-form tags
/// (`!Sub`), which only CloudFormation's own parser reads.
fn template(path: &str) -> Value {
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut tagged = Vec::new();
    find_tags(&yaml, "", &mut tagged);
    assert!(
        tagged.is_empty(),
        "{path}: short-form intrinsic tags at {tagged:?}; write them long-form (Fn::Sub: ...)"
    );
    serde_json::to_value(&yaml).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn find_tags(v: &serde_yaml::Value, at: &str, out: &mut Vec<String>) {
    match v {
        serde_yaml::Value::Tagged(t) => out.push(format!("{at} ({})", t.tag)),
        serde_yaml::Value::Mapping(m) => {
            for (k, v) in m {
                let key = k.as_str().map_or_else(|| format!("{k:?}"), str::to_owned);
                find_tags(v, &format!("{at}/{key}"), out);
            }
        }
        serde_yaml::Value::Sequence(s) => {
            for (i, v) in s.iter().enumerate() {
                find_tags(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn shipped_policy(name: &str) -> Value {
    let path = format!("examples/iam/{name}.json");
    serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The template's resources of one type, by logical id.
fn resources<'a>(t: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    t["Resources"]
        .as_object()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(id, r)| (id.as_str(), &r["Properties"]))
        .collect()
}

/// What differs between two policy documents, statement by statement (by
/// Sid), so a failure says what to copy.
fn policy_diff(template: &Value, shipped: &Value) -> Vec<String> {
    let by_sid = |doc: &Value| -> Vec<(String, Value)> {
        doc["Statement"]
            .as_array()
            .map(|s| {
                s.iter()
                    .map(|st| {
                        (
                            st["Sid"].as_str().unwrap_or("(no Sid)").to_owned(),
                            st.clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let actions = |st: &Value| -> BTreeSet<String> {
        match &st["Action"] {
            Value::String(a) => BTreeSet::from([a.clone()]),
            Value::Array(a) => a
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect(),
            _ => BTreeSet::new(),
        }
    };
    let (t, s) = (by_sid(template), by_sid(shipped));
    let mut out = Vec::new();
    if template["Version"] != shipped["Version"] {
        out.push(format!(
            "Version {} in the template, {} shipped",
            template["Version"], shipped["Version"]
        ));
    }
    for (sid, st) in &s {
        match t.iter().find(|(tsid, _)| tsid == sid) {
            None => out.push(format!("statement {sid} is missing from the template")),
            Some((_, tst)) if tst != st => {
                let (ta, sa) = (actions(tst), actions(st));
                let missing: Vec<_> = sa.difference(&ta).collect();
                let extra: Vec<_> = ta.difference(&sa).collect();
                out.push(format!(
                    "statement {sid} differs: actions missing {missing:?}, extra {extra:?} \
                     (or its Effect, Resource or Condition, or the order of its actions)"
                ));
            }
            Some(_) => {}
        }
    }
    for (sid, _) in &t {
        if !s.iter().any(|(ssid, _)| ssid == sid) {
            out.push(format!("statement {sid} is in the template only"));
        }
    }
    let order = |v: &[(String, Value)]| v.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>();
    if out.is_empty() && template != shipped {
        out.push(format!(
            "the statements are in another order: {:?} in the template, {:?} shipped",
            order(&t),
            order(&s)
        ));
    }
    out
}

#[test]
fn stackset_policies_are_the_shipped_json_files() {
    let t = template("examples/roles/stackset.yaml");
    let policies = resources(&t, "AWS::IAM::ManagedPolicy");
    for name in POLICIES {
        let found: Vec<_> = policies
            .iter()
            .filter(|(_, p)| p["ManagedPolicyName"] == name)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one managed policy named {name} in stackset.yaml"
        );
        let diff = policy_diff(&found[0].1["PolicyDocument"], &shipped_policy(name));
        assert!(
            diff.is_empty(),
            "examples/roles/stackset.yaml's {name} is not examples/iam/{name}.json; copy the \
             JSON file's statements into the template:\n  {}",
            diff.join("\n  ")
        );
    }
    assert_eq!(policies.len(), POLICIES.len(), "no other managed policy");
}

#[test]
fn stackset_roles_carry_only_their_own_policy() {
    let t = template("examples/roles/stackset.yaml");
    let policies = resources(&t, "AWS::IAM::ManagedPolicy");
    let roles = resources(&t, "AWS::IAM::Role");
    assert_eq!(roles.len(), POLICIES.len(), "one role per policy");
    for name in POLICIES {
        let (policy_id, _) = policies
            .iter()
            .find(|(_, p)| p["ManagedPolicyName"] == name)
            .unwrap_or_else(|| panic!("no policy {name}"));
        let (_, role) = roles
            .iter()
            .find(|(_, r)| r["RoleName"] == name)
            .unwrap_or_else(|| panic!("no role {name}"));
        assert_eq!(
            role["ManagedPolicyArns"],
            serde_json::json!([{ "Ref": policy_id }]),
            "role {name} attaches its policy and nothing else"
        );
        assert!(
            role.get("Policies").is_none(),
            "role {name} has no inline policy"
        );
    }
}

#[test]
fn scheduled_task_uses_the_policies_the_stackset_creates() {
    let t = template("examples/schedules/eventbridge-scheduler.yaml");
    let modes = &t["Parameters"]["Mode"]["AllowedValues"];
    assert_eq!(modes, &serde_json::json!(["apply", "plan"]));
    let (_, task_role) = resources(&t, "AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| *id == "TaskRole")
        .expect("TaskRole");
    assert_eq!(
        task_role["ManagedPolicyArns"],
        serde_json::json!([{ "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/cis-fix-${Mode}" }]),
    );
    for mode in modes.as_array().expect("modes") {
        let mode = mode.as_str().expect("mode");
        assert!(
            POLICIES.contains(&format!("cis-fix-{mode}").as_str()),
            "Mode {mode} names a policy stackset.yaml creates"
        );
    }
}

#[test]
fn terraform_module_reads_the_shipped_json_files() {
    let dir = "examples/roles/terraform";
    let main = read(&format!("{dir}/main.tf"));
    for name in POLICIES {
        let relative = format!("../../iam/{name}.json");
        let call = format!("jsondecode(file(\"${{path.module}}/{relative}\"))");
        assert!(main.contains(&call), "{dir}/main.tf reads {name}: {call}");
        let file = repo(dir).join(&relative);
        assert!(file.is_file(), "{} exists", file.display());
    }
}
