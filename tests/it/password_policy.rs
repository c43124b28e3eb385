//! The IAM account password policy planned and applied end to end: the
//! built binary against a moto server. Without a trail the monitoring
//! controls are blocked in these accounts; what is asserted here is the
//! password-policy part of each plan (its controls and its one change).
//!
//! Where moto differs from AWS (moto 5.2.5, `moto/iam/models.py`
//! `AccountPasswordPolicy`):
//! * GetAccountPasswordPolicy answers `MaxPasswordAge: 0` for a policy
//!   without expiry, where AWS omits the field; cis-fix reads both as
//!   "never expires" (and never sends 0 back, which AWS refuses).
//! * UpdateAccountPasswordPolicy checks no lower bounds (AWS refuses a
//!   minimum length under 6, an age or reuse count of 0), so a bad value
//!   would pass here and fail on AWS: the unit tests in
//!   `src/diff/password_policy/tests.rs` pin what cis-fix sends.

use crate::support::ACCOUNT_ID;
use crate::support::account::via;
use crate::support::account::{Account, password_ids, status_of, statuses};
use crate::support::faults::FaultProxy;
use crate::support::fixtures::{EMAIL_CONFIG, LOG_GROUP, TRAIL};

const ADDRESS: &str = "aws_iam_account_password_policy.this";

fn address() -> String {
    format!("{ACCOUNT_ID}/global/{ADDRESS}")
}

/// The plan's change to the password policy, if it has one.
fn password_change(plan: &serde_json::Value) -> Option<serde_json::Value> {
    plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["type"] == "aws_iam_account_password_policy")
        .cloned()
}

/// The password controls' statuses, in the plan's order.
fn password_statuses(plan: &serde_json::Value) -> Vec<(String, String)> {
    let ids = password_ids(plan);
    statuses(plan)
        .into_iter()
        .filter(|(id, _)| ids.contains(id))
        .collect()
}

/// A policy stricter than every version on length and age, with hard
/// expiry, remembering only 5 passwords.
fn strict_policy_but_reuse(acct: &Account) {
    acct.block_on(async {
        acct.iam
            .update_account_password_policy()
            .minimum_password_length(20)
            .max_password_age(30)
            .hard_expiry(true)
            .allow_users_to_change_password(true)
            .password_reuse_prevention(5)
            .send()
            .await
            .expect("UpdateAccountPasswordPolicy");
    });
}

#[test]
fn a_stricter_policy_is_kept_while_reuse_is_raised() {
    let acct = Account::new();
    strict_policy_but_reuse(&acct);

    let plan = acct.cis_fix(&["plan", "--json"]).expect_code(0).json();
    assert_eq!(status_of(&plan, "1.8"), "compliant");
    assert!(
        plan["controls"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("minimum length is 20 (>= 14)")),
        "{plan:#}"
    );
    assert_eq!(status_of(&plan, "1.9"), "will-fix");
    let change = password_change(&plan).expect("a password policy change");
    assert_eq!(change["address"], address());
    assert_eq!(change["region"], "global");
    assert_eq!(change["action"], "update");
    assert_eq!(change["controls"], serde_json::json!(["1.9"]));
    let after = &change["after"];
    assert_eq!(after["minimum_password_length"], 20);
    assert_eq!(after["password_reuse_prevention"], 24);
    assert_eq!(after["max_password_age"], 30);
    assert_eq!(after["hard_expiry"], true);
    assert_eq!(after["allow_users_to_change_password"], true);
    assert_eq!(change["before"]["password_reuse_prevention"], 5);

    // The human plan shows the one changed field and every kept one.
    let human = acct.cis_fix(&["plan"]);
    let out = &human.stdout;
    assert!(
        out.contains(&format!("# {} will be updated in-place", address())),
        "{out}"
    );
    assert!(
        out.contains("~ password_reuse_prevention      = 5 -> 24"),
        "{out}"
    );
    for kept in [
        "        minimum_password_length        = 20\n",
        "        max_password_age               = 30\n",
        "        hard_expiry                    = true\n",
        "        allow_users_to_change_password = true\n",
    ] {
        assert!(out.contains(kept), "{kept:?} not shown as kept:\n{out}");
    }

    // Apply: the trail and its chain are made too, but where the trail
    // bucket's access logs go is left to the user (not in this config), so
    // it exits 1; the policy is written.
    let cfg = acct.config(EMAIL_CONFIG);
    let apply = acct.cis_fix(&[
        "apply",
        "--auto-approve",
        "--config",
        cfg.to_str().expect("utf-8 path"),
    ]);
    apply.expect_code(1);
    assert!(
        apply
            .stdout
            .contains(&format!("{}: Modifications complete", address())),
        "{}",
        apply.stdout
    );
    let p = acct.password_policy().expect("a policy");
    assert_eq!(p.minimum_password_length, Some(20));
    assert_eq!(p.password_reuse_prevention, Some(24));
    assert_eq!(p.max_password_age, Some(30));
    assert_eq!(p.hard_expiry, Some(true));
    assert!(p.allow_users_to_change_password);
    // Fields no control names and that were off stay off.
    assert!(!p.require_symbols && !p.require_uppercase_characters);

    let again = acct.cis_fix(&["plan", "--json"]).expect_code(0).json();
    assert!(password_change(&again).is_none(), "{again:#}");
    assert!(
        password_statuses(&again)
            .iter()
            .all(|(_, s)| s == "compliant"),
        "{again:#}"
    );
}

#[test]
fn no_policy_is_created_then_the_plan_is_empty() {
    // With a trail and someone to notify, the whole account converges, so
    // `--detailed-exitcode` can speak for the password controls too.
    let acct = Account::new();
    acct.qualifying_trail(TRAIL, LOG_GROUP);
    let cfg = acct.config(EMAIL_CONFIG);
    let cfg = cfg.to_str().expect("utf-8 path");
    assert!(acct.password_policy().is_none());

    let plan = acct
        .cis_fix(&["plan", "--json", "--config", cfg])
        .expect_code(0)
        .json();
    let change = password_change(&plan).expect("a password policy change");
    assert_eq!(change["action"], "create");
    assert!(change["before"].is_null());
    assert_eq!(change["controls"], serde_json::json!(["1.8", "1.9"]));
    assert_eq!(change["after"]["minimum_password_length"], 14);
    assert_eq!(change["after"]["password_reuse_prevention"], 24);
    assert!(change["after"]["max_password_age"].is_null());
    assert_eq!(
        password_statuses(&plan),
        [
            ("1.8".to_string(), "will-fix".to_string()),
            ("1.9".to_string(), "will-fix".to_string())
        ]
    );
    let human = acct.cis_fix(&["plan", "--config", cfg]);
    assert!(
        human
            .stdout
            .contains("+ resource \"aws_iam_account_password_policy\" \"this\" {"),
        "{}",
        human.stdout
    );

    let first = acct.cis_fix(&["apply", "--auto-approve", "--config", cfg]);
    first.expect_code(0);
    assert!(
        first
            .stdout
            .contains(&format!("{}: Creation complete", address())),
        "{}",
        first.stdout
    );
    let p = acct.password_policy().expect("created");
    assert_eq!(p.minimum_password_length, Some(14));
    assert_eq!(p.password_reuse_prevention, Some(24));
    assert!(p.allow_users_to_change_password);
    // moto says 0 for "never expires" where AWS leaves the field out: the
    // next plan must read both alike, or it would never be empty.
    assert!(matches!(p.max_password_age, None | Some(0)), "{p:?}");

    acct.cis_fix(&["plan", "--detailed-exitcode", "--config", cfg])
        .expect_code(0);
    let plan = acct
        .cis_fix(&["plan", "--json", "--config", cfg])
        .expect_code(0)
        .json();
    assert!(password_change(&plan).is_none(), "{plan:#}");
    assert!(
        password_statuses(&plan)
            .iter()
            .all(|(_, s)| s == "compliant")
    );

    let second = acct.cis_fix(&["apply", "--auto-approve", "--config", cfg]);
    second.expect_code(0);
    assert!(!second.stdout.contains(ADDRESS), "{}", second.stdout);
    assert!(!second.stdout.contains("Creating..."), "{}", second.stdout);
}

#[test]
fn a_denied_read_of_the_policy_is_unknown_and_nothing_is_written() {
    let acct = Account::new();
    strict_policy_but_reuse(&acct);
    let proxy = FaultProxy::start(&acct.moto);
    let read = "iam:GetAccountPasswordPolicy";
    proxy.deny(read);

    let run = via(&proxy, &acct, &["plan", "--json", "--detailed-exitcode"]);
    run.expect_code(1);
    let plan = run.json();
    let failed: Vec<(&str, &str)> = plan["failed_reads"]
        .as_array()
        .expect("failed_reads")
        .iter()
        .filter_map(|f| Some((f["call"].as_str()?, f["region"].as_str()?)))
        .collect();
    assert_eq!(failed, [(read, "global")], "{plan:#}");
    assert!(password_change(&plan).is_none(), "{plan:#}");
    let st = password_statuses(&plan);
    assert_eq!(st.len(), 2);
    assert!(st.iter().all(|(_, s)| s == "unknown"), "{st:?}");
    for c in plan["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .take(2)
    {
        assert_eq!(c["cause"]["kind"], "read_failed", "{c:#}");
        assert!(
            c["reason"].as_str().is_some_and(|r| r.contains(read)),
            "{c:#}"
        );
    }
    let human = via(&proxy, &acct, &["plan"]);
    human.expect_code(1);
    assert!(human.stderr.contains(read), "{}", human.stderr);

    let apply = via(&proxy, &acct, &["apply", "--auto-approve"]);
    apply.expect_code(1);
    assert!(
        !proxy.calls().iter().any(|c| c.is_write()),
        "apply wrote something: {:?}",
        proxy.calls()
    );
    // The policy is as it was.
    let p = acct.password_policy().expect("a policy");
    assert_eq!(p.password_reuse_prevention, Some(5));
    assert_eq!(p.minimum_password_length, Some(20));
}
