//! The deployment examples agree with the policies cis-fix ships: the
//! StackSet template's copies of `examples/iam/*.json` (CloudFormation cannot
//! read a file), the scheduled task's policy names, and the Terraform
//! module's paths to those files. None of these can be deployed here, so this
//! is what keeps them from drifting when a kind adds an action.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
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

/// Every document of a multi-document YAML file, as JSON values.
fn documents(path: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(&read(path))
        .map(|d| {
            let v = serde_yaml::Value::deserialize(d).unwrap_or_else(|e| panic!("{path}: {e}"));
            serde_json::to_value(&v).unwrap_or_else(|e| panic!("{path}: {e}"))
        })
        .filter(|v| !v.is_null())
        .collect()
}

/// The Kubernetes fan-out: an indexed Job (in a CronJob) whose N pods each
/// run one shard of N with the runner image, as the service account that
/// carries the AWS role, the config from the ConfigMap and the reports on
/// the shared claim.
#[test]
fn kubernetes_indexed_job_runs_every_shard_once() {
    let path = "examples/schedules/fanout/kubernetes.yaml";
    let docs = documents(path);
    let of = |kind: &str| -> Vec<&Value> { docs.iter().filter(|d| d["kind"] == kind).collect() };
    let cron = of("CronJob");
    assert_eq!(cron.len(), 1, "{path}: one CronJob");
    let job = &cron[0]["spec"]["jobTemplate"]["spec"];
    assert_eq!(job["completionMode"], "Indexed");
    let n = job["completions"].as_u64().expect("completions");
    assert_eq!(job["parallelism"].as_u64(), Some(n), "all shards at once");
    let pod = &job["template"]["spec"];
    assert_eq!(
        pod["restartPolicy"], "Never",
        "podFailurePolicy needs Never"
    );
    let containers = pod["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert!(
        c["image"]
            .as_str()
            .is_some_and(|i| i.contains("/cis-fix-fanout:")),
        "the runner image of examples/schedules/fanout/Dockerfile: {}",
        c["image"]
    );
    let args: Vec<&str> = c["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(args[0], "shard-then-merge");
    assert_eq!(
        args[1],
        n.to_string(),
        "the N of --shard K/N is completions"
    );
    assert!(
        args[2].contains("$(JOB_UID)"),
        "one report directory per run"
    );
    let config = args
        .iter()
        .position(|a| *a == "--config")
        .map(|i| args[i + 1])
        .expect("--config");
    // The merged verdict fails the Job instead of retrying the shard.
    let rules = job["podFailurePolicy"]["rules"].as_array().expect("rules");
    assert!(rules.iter().any(|r| r["action"] == "FailJob"
        && r["onExitCodes"]["containerName"] == c["name"]
        && r["onExitCodes"]["values"] == serde_json::json!([3, 4])));
    // The service account carries the role.
    let sa_name = pod["serviceAccountName"]
        .as_str()
        .expect("serviceAccountName");
    let sa = of("ServiceAccount")
        .into_iter()
        .find(|s| s["metadata"]["name"] == sa_name)
        .unwrap_or_else(|| panic!("{path}: service account {sa_name}"));
    assert!(
        sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:iam::")),
        "IRSA annotation"
    );
    // The config file is the ConfigMap's key, mounted where --config says.
    let mount_of = |name: &str| -> Option<&str> {
        c["volumeMounts"]
            .as_array()?
            .iter()
            .find(|m| m["name"] == name)?["mountPath"]
            .as_str()
    };
    let volume = |name: &str| -> &Value {
        pod["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("volume {name}"))
    };
    let cm_name = volume("config")["configMap"]["name"]
        .as_str()
        .expect("configMap");
    let cm = of("ConfigMap")
        .into_iter()
        .find(|m| m["metadata"]["name"] == cm_name)
        .expect("the ConfigMap");
    let key = config
        .strip_prefix(&format!("{}/", mount_of("config").expect("config mount")))
        .expect("--config is in the config mount");
    let text = cm["data"][key].as_str().expect("config text");
    cis_fix::config::Config::parse(text, path).expect("the ConfigMap's cis-fix.yaml parses");
    // The reports go to the shared claim, which many pods may write.
    assert!(args[2].starts_with(mount_of("reports").expect("reports mount")));
    let claim = volume("reports")["persistentVolumeClaim"]["claimName"]
        .as_str()
        .expect("claim");
    let pvc = of("PersistentVolumeClaim")
        .into_iter()
        .find(|p| p["metadata"]["name"] == claim)
        .expect("the claim");
    assert_eq!(
        pvc["spec"]["accessModes"],
        serde_json::json!(["ReadWriteMany"])
    );
    for d in &docs {
        if d["kind"] != "Namespace" {
            assert_eq!(d["metadata"]["namespace"], "cis-fix", "{}", d["kind"]);
        }
    }
}

/// The Batch fan-out: the array job and the dependent merge get one N, and
/// the shard job runs as the role that lists accounts and assumes the
/// cis-fix role of the mode.
#[test]
fn batch_array_job_and_merge_share_one_n() {
    let t = template("examples/schedules/fanout/aws-batch.yaml");
    let sm = resources(&t, "AWS::StepFunctions::StateMachine");
    let def = sm[0].1["DefinitionString"]["Fn::Sub"]
        .as_str()
        .expect("definition");
    // Substitute as CloudFormation would, then read it as Step Functions does.
    let json = def
        .replace("${Shards}", "4")
        .replace("${AWS::Partition}", "aws")
        .replace("${JobQueue}", "q")
        .replace("${ShardJobDefinition}", "shard")
        .replace("${MergeJobDefinition}", "merge");
    let asl: Value = serde_json::from_str(&json).expect("the state machine is JSON");
    let shards = &asl["States"]["Shards"]["Parameters"];
    let merge = &asl["States"]["Merge"]["Parameters"];
    assert_eq!(shards["ArrayProperties"]["Size"], 4);
    assert_eq!(shards["Parameters"]["shards"], "4");
    assert_eq!(merge["Parameters"]["shards"], "4");
    assert_eq!(shards["Parameters"]["dir.$"], merge["Parameters"]["dir.$"]);
    assert_eq!(merge["DependsOn"][0]["JobId.$"], "$.shards.JobId");
    let defs = resources(&t, "AWS::Batch::JobDefinition");
    let command = |id: &str| {
        defs.iter()
            .find(|(i, _)| *i == id)
            .map(|(_, d)| d["ContainerProperties"]["Command"].clone())
            .unwrap_or_else(|| panic!("{id}"))
    };
    assert_eq!(
        command("ShardJobDefinition"),
        serde_json::json!(["shard", "Ref::shards", "Ref::dir"])
    );
    assert_eq!(
        command("MergeJobDefinition"),
        serde_json::json!(["merge", "Ref::shards", "Ref::dir"])
    );
    let (_, role) = resources(&t, "AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| *id == "ShardJobRole")
        .expect("ShardJobRole");
    assert_eq!(
        role["ManagedPolicyArns"],
        serde_json::json!([{ "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/cis-fix-${Mode}" }]),
    );
}

/// The GitHub matrix: K from the matrix, N its length, a merge after all.
#[test]
fn github_matrix_shards_and_merges() {
    let path = "examples/schedules/fanout/github-actions.yml";
    let w: Value =
        serde_json::to_value(serde_yaml::from_str::<serde_yaml::Value>(&read(path)).expect("yaml"))
            .expect("json");
    let shard = &w["jobs"]["shard"];
    let list = shard["strategy"]["matrix"]["shard"]
        .as_array()
        .expect("shards");
    let ks: Vec<u64> = list.iter().filter_map(Value::as_u64).collect();
    assert_eq!(ks, (1..=ks.len() as u64).collect::<Vec<_>>(), "K runs 1..N");
    assert_eq!(shard["strategy"]["fail-fast"], false);
    let text = read(path);
    assert!(text.contains("SHARD: ${{ matrix.shard }}/${{ strategy.job-total }}"));
    assert!(text.contains("--organization --shard \"$SHARD\""));
    assert_eq!(w["jobs"]["merge"]["needs"], "shard");
    assert!(text.contains("cis-fix report merge reports/report-*.json --detailed-exitcode"));
}

/// cis-fix-fanout, the runner image's script, run by `sh` with a stand-in
/// for cis-fix that records its arguments: K from the 0-based index, one
/// report per shard written whole, the merge once and only once every
/// report is in, its verdict mapped for the Job's failure policy.
#[test]
fn fanout_script_shards_then_the_last_worker_merges_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    let calls = tmp.path().join("calls");
    let fake = bin.join("cis-fix");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\ncase \"$1\" in\n  report) case \"$*\" in *--json*) echo '{{\"merged\":1}}' ;; *) echo merged summary ;; esac; exit \"${{FAKE_MERGE_EXIT:-0}}\" ;;\n  *) [ -n \"${{FAKE_SILENT:-}}\" ] && exit 1; echo '{{\"shard\":1}}'; exit 2 ;;\nesac\n",
            calls.display()
        ),
    )
    .expect("fake");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let script = repo("examples/schedules/fanout/cis-fix-fanout");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dir = tmp.path().join("reports/run");
    let run = |args: &[&str], env: &[(&str, &str)]| -> (i32, String) {
        let mut c = std::process::Command::new("sh");
        c.arg(&script).args(args).env("PATH", &path);
        c.env_remove("JOB_COMPLETION_INDEX")
            .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
            .env_remove("CIS_FIX_CONFIG")
            .env_remove("CIS_FIX_MODE");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().expect("sh runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let d = dir.to_str().expect("utf-8 path");
    let recorded = || std::fs::read_to_string(&calls).unwrap_or_default();

    // Workers 0 and 1 of 3 write their reports; nobody merges yet.
    for i in ["0", "1"] {
        let (code, err) = run(
            &["shard-then-merge", "3", d, "--config", "c.yaml"],
            &[("JOB_COMPLETION_INDEX", i)],
        );
        assert_eq!(code, 0, "{err}");
    }
    assert!(dir.join("report-1.json").is_file() && dir.join("report-2.json").is_file());
    assert!(!recorded().contains("report merge"), "{}", recorded());
    // The last one merges; the merge said 2, which the Job sees as 3.
    let (code, err) = run(
        &["shard-then-merge", "3", d, "--config", "c.yaml"],
        &[("JOB_COMPLETION_INDEX", "2"), ("FAKE_MERGE_EXIT", "2")],
    );
    assert_eq!(code, 3, "{err}");
    let log = recorded();
    for k in 1..=3 {
        assert!(
            log.contains(&format!(
                "plan --organization --shard {k}/3 --json --config c.yaml"
            )),
            "{log}"
        );
    }
    let files = (1..=3)
        .map(|k| format!("{d}/report-{k}.json"))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        log.contains(&format!("report merge {files} --detailed-exitcode")),
        "{log}"
    );
    assert!(dir.join("merged.json").is_file());
    // A retried worker finds the merge taken: it does not merge again.
    let merges = log.matches("--detailed-exitcode").count();
    let (code, _) = run(
        &["shard-then-merge", "3", d],
        &[("JOB_COMPLETION_INDEX", "2")],
    );
    assert_eq!(code, 0);
    assert_eq!(recorded().matches("--detailed-exitcode").count(), merges);

    // More workers than shards, a shard that writes nothing, a missing
    // report at merge time: each an error that names it.
    let (code, err) = run(&["shard", "3", d], &[("AWS_BATCH_JOB_ARRAY_INDEX", "3")]);
    assert_eq!(code, 1);
    assert!(err.contains("outside 3 shards"), "{err}");
    let other = tmp.path().join("reports/other");
    let o = other.to_str().expect("utf-8 path");
    let (code, err) = run(
        &["shard", "2", o],
        &[("AWS_BATCH_JOB_ARRAY_INDEX", "1"), ("FAKE_SILENT", "1")],
    );
    assert_eq!(code, 1);
    assert!(err.contains("shard 2/2 wrote no report"), "{err}");
    assert!(!other.join("report-2.json").exists() && !other.join("report-2.json.tmp").exists());
    let (code, err) = run(&["shard", "2", o], &[("AWS_BATCH_JOB_ARRAY_INDEX", "0")]);
    assert_eq!(code, 0, "{err}");
    let (code, err) = run(&["merge", "2", o], &[]);
    assert_eq!(code, 1);
    assert!(err.contains("no report from shard(s) 2 of 2"), "{err}");

    // apply, and the config from the environment (Batch's secret).
    let (code, err) = run(
        &["shard", "1", o],
        &[
            ("AWS_BATCH_JOB_ARRAY_INDEX", "0"),
            ("CIS_FIX_MODE", "apply"),
            ("CIS_FIX_CONFIG", "benchmark: \"3.0.0\""),
            ("TMPDIR", tmp.path().to_str().expect("utf-8 path")),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let config = tmp.path().join("cis-fix.yaml");
    assert!(
        recorded().contains(&format!(
            "apply --organization --shard 1/1 --auto-approve --json --config {}",
            config.display()
        )),
        "{}",
        recorded()
    );
    assert_eq!(
        std::fs::read_to_string(&config).expect("config written"),
        "benchmark: \"3.0.0\"\n"
    );
}
