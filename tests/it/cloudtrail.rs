//! The CloudTrail controls planned and applied end to end: the built binary
//! against a moto server, through the same code path users run.
//!
//! Where moto differs from AWS (moto 5.2.5) in what these tests touch:
//! * A new trail has no event selectors at all (AWS gives it the default
//!   all-management selector): cis-fix always writes its selectors after
//!   CreateTrail, so both end the same.
//! * CloudTrail checks neither the bucket policy nor the key policy nor the
//!   delivery role (AWS refuses a trail whose bucket policy or key policy
//!   does not let CloudTrail in, and a role it cannot assume): the policies
//!   cis-fix writes are pinned by unit tests, not proven here.
//! * GetTrailStatus never reports CloudWatch Logs delivery (time or error),
//!   and nothing is delivered: the chain is judged on settings here.
//! * Email subscriptions confirm at once, so the chain ends compliant
//!   without a person clicking a link.
//! * A trail owned by another account (an organization trail seen from a
//!   member account) cannot be made in one moto account: that case is
//!   tested on a saved snapshot (`an_organization_trail_…`).

use crate::support::account::{ACCESS_LOGS, Account, statuses};
use crate::support::faults::{FaultProxy, Signal};
use crate::support::fixtures::EMAIL_CONFIG;
use crate::support::{ACCOUNT_ID, REGION};

const LOG_GROUP: &str = "cis-fix/cloudtrail";
const KEY_DESCRIPTION: &str = "cis-fix: encrypts CloudTrail log files";

fn config(acct: &Account) -> String {
    acct.ensure_access_log_bucket();
    acct.config(&format!(
        "{EMAIL_CONFIG}cloudtrail:\n  access_logs:\n    bucket: {ACCESS_LOGS}\n"
    ))
    .to_string_lossy()
    .into_owned()
}

fn trails(acct: &Account) -> Vec<aws_sdk_cloudtrail::types::Trail> {
    acct.block_on(async {
        acct.cloudtrail
            .describe_trails()
            .send()
            .await
            .expect("DescribeTrails")
            .trail_list
            .unwrap_or_default()
    })
}

fn is_logging(acct: &Account, name: &str) -> bool {
    acct.block_on(async {
        acct.cloudtrail
            .get_trail_status()
            .name(name)
            .send()
            .await
            .expect("GetTrailStatus")
            .is_logging
            .unwrap_or(false)
    })
}

/// Customer keys carrying cis-fix's description.
fn cis_fix_keys(acct: &Account) -> usize {
    acct.block_on(async {
        let keys = acct
            .kms
            .list_keys()
            .send()
            .await
            .expect("ListKeys")
            .keys
            .unwrap_or_default();
        let mut n = 0;
        for k in keys {
            let Some(id) = k.key_id else { continue };
            let d = acct
                .kms
                .describe_key()
                .key_id(id)
                .send()
                .await
                .expect("DescribeKey");
            if d.key_metadata.and_then(|m| m.description).as_deref() == Some(KEY_DESCRIPTION) {
                n += 1;
            }
        }
        n
    })
}

fn log_groups(acct: &Account, name: &str) -> usize {
    acct.block_on(async {
        acct.logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .send()
            .await
            .expect("DescribeLogGroups")
            .log_groups
            .unwrap_or_default()
            .iter()
            .filter(|g| g.log_group_name.as_deref() == Some(name))
            .count()
    })
}

/// Everything cis-fix makes for an empty account exists exactly once, and
/// the trail is the one a qualifying account needs.
fn assert_one_qualifying_trail_and_chain(acct: &Account) {
    let ts = trails(acct);
    assert_eq!(ts.len(), 1, "{ts:#?}");
    let t = &ts[0];
    assert_eq!(t.name.as_deref(), Some("cis-fix"));
    assert_eq!(t.is_multi_region_trail, Some(true));
    assert_eq!(t.log_file_validation_enabled, Some(true));
    assert!(
        t.kms_key_id.as_deref().is_some_and(|k| k.contains(":key/")),
        "{t:?}"
    );
    assert_eq!(
        t.cloud_watch_logs_log_group_arn.as_deref(),
        Some(format!("arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{LOG_GROUP}:*").as_str())
    );
    assert_eq!(
        t.s3_bucket_name.as_deref(),
        Some(format!("cis-fix-cloudtrail-{ACCOUNT_ID}-{REGION}").as_str())
    );
    assert!(is_logging(acct, "cis-fix"));
    assert_eq!(cis_fix_keys(acct), 1);
    assert_eq!(log_groups(acct, LOG_GROUP), 1);
    let filters = acct.filters(LOG_GROUP);
    let mut names: Vec<&str> = filters.iter().map(|f| f.0.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(filters.len(), 15, "{filters:#?}");
    assert_eq!(names.len(), 15);
    assert_eq!(acct.alarms().len(), 15);
    assert_eq!(acct.topics().len(), 1);
}

fn assert_converged(acct: &Account, cfg: &str) {
    let plan = acct.cis_fix(&["plan", "--json", "--detailed-exitcode", "--config", cfg]);
    plan.expect_code(0);
    let plan = plan.json();
    let managed: Vec<(String, String)> = statuses(&plan);
    assert!(managed.iter().all(|(_, s)| s == "compliant"), "{managed:?}");
    let again = acct.cis_fix(&["apply", "--auto-approve", "--config", cfg]);
    again.expect_code(0);
    assert!(again.stdout.contains("No changes"), "{}", again.stdout);
}

#[test]
fn an_empty_account_gets_a_qualifying_trail_and_the_whole_chain_in_one_apply() {
    let acct = Account::new();
    let cfg = config(&acct);
    let plan = acct.cis_fix(&["plan", "--json", "--config", &cfg]);
    plan.expect_code(0);
    let plan = plan.json();
    for kind in [
        "aws_cloudtrail",
        "aws_s3_bucket",
        "aws_kms_key",
        "aws_cloudwatch_log_group",
        "aws_iam_role",
        "aws_s3_bucket_logging",
    ] {
        assert!(
            plan["changes"]
                .as_array()
                .expect("changes")
                .iter()
                .any(|c| c["type"] == kind && c["action"] == "create"),
            "{kind}: {plan:#}"
        );
    }
    let applied = acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg]);
    applied.expect_code(0);
    assert_one_qualifying_trail_and_chain(&acct);
    // The role CloudTrail delivers through trusts CloudTrail and may write
    // the log group's streams only.
    let policy = acct.block_on(async {
        acct.iam
            .get_role_policy()
            .role_name("cis-fix-cloudtrail-logs")
            .policy_name("cis-fix-cloudtrail-logs")
            .send()
            .await
            .expect("GetRolePolicy")
            .policy_document
    });
    assert!(policy.contains("log-stream"), "{policy}");
    assert_converged(&acct, &cfg);
}

#[test]
fn a_single_region_stopped_trail_is_fixed_in_place() {
    let acct = Account::new();
    acct.compliant_password_policy();
    acct.moto.create_s3_bucket("team-trail-bucket");
    acct.log_accesses("team-trail-bucket");
    let key = acct.trail_key();
    acct.block_on(async {
        acct.cloudtrail
            .create_trail()
            .name("team")
            .s3_bucket_name("team-trail-bucket")
            .kms_key_id(&key)
            .send()
            .await
            .expect("CreateTrail");
    });
    let cfg = config(&acct);
    let plan = acct.cis_fix(&["plan", "--json", "--config", &cfg]).json();
    let trail = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["type"] == "aws_cloudtrail")
        .cloned()
        .expect("a trail change");
    assert_eq!(trail["action"], "update", "{trail:#}");
    assert_eq!(trail["before"]["is_multi_region_trail"], false);
    assert_eq!(trail["after"]["is_multi_region_trail"], true);
    acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg])
        .expect_code(0);
    let ts = trails(&acct);
    assert_eq!(ts.len(), 1, "fixed in place, no second trail: {ts:#?}");
    let t = &ts[0];
    assert_eq!(t.name.as_deref(), Some("team"));
    assert_eq!(t.is_multi_region_trail, Some(true));
    assert_eq!(t.include_global_service_events, Some(true));
    assert_eq!(t.log_file_validation_enabled, Some(true));
    // The user's key stays; cis-fix made none.
    assert_eq!(t.kms_key_id.as_deref(), Some(key.as_str()));
    assert_eq!(cis_fix_keys(&acct), 0);
    assert!(is_logging(&acct, "team"));
    assert_eq!(acct.filters(LOG_GROUP).len(), 15);
    assert_converged(&acct, &cfg);
}

#[test]
fn data_event_and_advanced_selectors_are_kept() {
    use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector};
    let acct = Account::with_trail();
    let field = |f: &str, v: &str| {
        AdvancedFieldSelector::builder()
            .field(f)
            .equals(v)
            .build()
            .expect("field selector")
    };
    let data = AdvancedEventSelector::builder()
        .name("S3 object writes")
        .field_selectors(field("eventCategory", "Data"))
        .field_selectors(field("resources.type", "AWS::S3::Object"))
        .field_selectors(field("readOnly", "false"))
        .build()
        .expect("selector");
    let writes_only = AdvancedEventSelector::builder()
        .name("Management writes")
        .field_selectors(field("eventCategory", "Management"))
        .field_selectors(field("readOnly", "false"))
        .build()
        .expect("selector");
    acct.block_on(async {
        acct.cloudtrail
            .put_event_selectors()
            .trail_name("main")
            .advanced_event_selectors(data.clone())
            .advanced_event_selectors(writes_only)
            .send()
            .await
            .expect("PutEventSelectors");
    });
    let cfg = config(&acct);
    // The write-only trail still serves the chain's write controls (none
    // exist yet here); the trail control fails until its selectors widen.
    let plan = acct.cis_fix(&["plan", "--json", "--config", &cfg]).json();
    assert_eq!(
        crate::support::account::status_of(&plan, "3.1"),
        "will-fix",
        "{plan:#}"
    );
    acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg])
        .expect_code(0);
    let got = acct.block_on(async {
        acct.cloudtrail
            .get_event_selectors()
            .trail_name("main")
            .send()
            .await
            .expect("GetEventSelectors")
    });
    // moto keeps both lists when the form changes; cis-fix wrote advanced
    // only, as the trail had.
    assert!(got.event_selectors.unwrap_or_default().is_empty());
    let advanced = got.advanced_event_selectors.unwrap_or_default();
    assert_eq!(advanced.len(), 2, "{advanced:#?}");
    assert_eq!(advanced[0], data, "the data selector is kept as it was");
    assert_eq!(advanced[1].name.as_deref(), Some("Management writes"));
    assert_eq!(advanced[1].field_selectors.len(), 1, "{:#?}", advanced[1]);
    assert_converged(&acct, &cfg);
}

#[test]
fn classic_data_resources_are_kept() {
    use aws_sdk_cloudtrail::types::{DataResource, EventSelector, ReadWriteType};
    let acct = Account::with_trail();
    let with_data = EventSelector::builder()
        .read_write_type(ReadWriteType::WriteOnly)
        .include_management_events(true)
        .exclude_management_event_sources("kms.amazonaws.com")
        .data_resources(
            DataResource::builder()
                .r#type("AWS::S3::Object")
                .values("arn:aws:s3:::team-data/")
                .build(),
        )
        .build();
    acct.block_on(async {
        acct.cloudtrail
            .put_event_selectors()
            .trail_name("main")
            .event_selectors(with_data)
            .send()
            .await
            .expect("PutEventSelectors");
    });
    let cfg = config(&acct);
    acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg])
        .expect_code(0);
    let got = acct.block_on(async {
        acct.cloudtrail
            .get_event_selectors()
            .trail_name("main")
            .send()
            .await
            .expect("GetEventSelectors")
    });
    let basic = got.event_selectors.unwrap_or_default();
    assert_eq!(basic.len(), 2, "{basic:#?}");
    // The data selector logs the same data events as before.
    assert_eq!(basic[0].read_write_type, Some(ReadWriteType::WriteOnly));
    assert_eq!(
        basic[0].data_resources.as_ref().map(Vec::len),
        Some(1),
        "{basic:#?}"
    );
    assert_eq!(basic[1].read_write_type, Some(ReadWriteType::All));
    assert_eq!(basic[1].include_management_events, Some(true));
    assert_converged(&acct, &cfg);
}

/// Kills the empty account's apply right after its k-th write, then
/// applies again: one trail, key, log group and chain, as if never killed.
fn killed_after(k: usize) {
    let acct = Account::new();
    let cfg = config(&acct);
    let proxy = FaultProxy::start(&acct.moto);
    proxy.signal_after_writes(k, Signal::Kill);
    let child = proxy
        .command(&acct.moto, env!("CARGO_BIN_EXE_cis-fix"))
        .current_dir(acct.dir())
        .args(["apply", "--auto-approve", "--config", &cfg])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn cis-fix");
    proxy.set_target(child.id());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), None, "killed after write {k}");
    let writes = proxy.calls().iter().filter(|c| c.is_write()).count();
    assert_eq!(writes, k, "no write after the kill");
    acct.force_unlock_after_kill();
    acct.cis_fix(&["apply", "--auto-approve", "--config", &cfg])
        .expect_code(0);
    assert_one_qualifying_trail_and_chain(&acct);
    assert_converged(&acct, &cfg);
}

#[test]
fn killed_while_making_the_bucket_resumes() {
    killed_after(2);
}

/// Between CreateKey and CreateAlias: the key is found by its description.
#[test]
fn killed_between_making_the_key_and_naming_it_resumes_with_one_key() {
    killed_after(5);
}

#[test]
fn killed_around_the_trail_resumes() {
    killed_after(11);
}

#[test]
fn a_denied_read_of_each_new_kind_is_unknown_and_nothing_is_written() {
    let acct = Account::new();
    // The password policy is judged on its own; compliant, so that any
    // write below could only come from what the denied read decides.
    acct.compliant_password_policy();
    let cfg = config(&acct);
    let proxy = FaultProxy::start(&acct.moto);
    for read in [
        "kms:ListKeys",
        "iam:GetRole",
        "logs:DescribeLogGroups",
        "s3:ListBucket",
    ] {
        proxy.clear();
        proxy.deny(read);
        let run = acct.run(
            proxy.command(&acct.moto, env!("CARGO_BIN_EXE_cis-fix")),
            &["plan", "--json", "--detailed-exitcode", "--config", &cfg],
        );
        run.expect_code(1);
        let plan = run.json();
        assert_eq!(
            crate::support::account::status_of(&plan, "3.1"),
            "unknown",
            "{read}: {plan:#}"
        );
        assert!(
            !plan["changes"]
                .as_array()
                .expect("changes")
                .iter()
                .any(|c| c["type"] == "aws_cloudtrail"),
            "{read}: {plan:#}"
        );
        let apply = acct.run(
            proxy.command(&acct.moto, env!("CARGO_BIN_EXE_cis-fix")),
            &["apply", "--auto-approve", "--config", &cfg],
        );
        apply.expect_code(1);
        assert!(
            !proxy.calls().iter().any(|c| c.is_write()),
            "{read}: apply wrote something"
        );
    }
    assert!(trails(&acct).is_empty());
}
