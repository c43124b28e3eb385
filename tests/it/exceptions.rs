//! Exceptions end to end: the built binary against a moto server. An
//! excepted control, or one excepted resource, is shown as excepted and
//! left exactly as it is by `apply`; once the exception expires it is judged
//! and fixed again.
//!
//! The expiry dates are written relative to the real day (UTC), as the
//! binary reads the clock: `Date::today()` here and in the binary agree
//! except across midnight UTC.

use cis_fix::date::Date;

use crate::support::account::{ACCESS_LOGS, Account, control, status_of, statuses};
use crate::support::fixtures::EMAIL_CONFIG;
use crate::support::{ACCOUNT_ID, REGION};

/// A config under which everything but what is excepted ends compliant in
/// one apply (as in `cloudtrail.rs`), in one region to keep the runs short.
fn config(acct: &Account, exceptions: &str) -> String {
    acct.ensure_access_log_bucket();
    acct.config(&format!(
        "{EMAIL_CONFIG}cloudtrail:\n  access_logs:\n    bucket: {ACCESS_LOGS}\nregions: [{REGION}]\ndestructive:\n  default_security_groups: true\nexceptions:\n{exceptions}"
    ))
    .to_string_lossy()
    .into_owned()
}

fn days_from_today(n: i64) -> Date {
    Date::today().plus_days(n)
}

fn has_password_change(plan: &serde_json::Value) -> bool {
    plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .any(|c| c["type"] == "aws_iam_account_password_policy")
}

fn notice_kinds(plan: &serde_json::Value) -> Vec<String> {
    plan["notices"]
        .as_array()
        .expect("notices")
        .iter()
        .filter_map(|n| n["kind"].as_str().map(str::to_string))
        .collect()
}

/// v3.0.0's password controls, 1.8 and 1.9, on an account with no policy
/// (a new account has none).
#[test]
fn an_excepted_password_policy_is_left_alone_until_the_exception_expires() {
    let acct = Account::new();
    let (later, soon) = (days_from_today(90), days_from_today(5));
    let excepted = config(
        &acct,
        &format!(
            "  - control: \"1.8\"\n    reason: the identity provider sets the length\n    expires: {later}\n    approved_by: CISO\n  - control: \"1.9\"\n    reason: the identity provider sets reuse\n    expires: {soon}\n"
        ),
    );

    // The rest of the account is made compliant; the policy is not made.
    let apply = acct.cis_fix(&["apply", "--auto-approve", "--config", &excepted]);
    apply.expect_code(0);
    assert!(
        !apply.stdout.contains("aws_iam_account_password_policy"),
        "{}",
        apply.stdout
    );
    assert!(
        acct.password_policy().is_none(),
        "apply wrote the excepted policy"
    );
    assert!(
        apply.stderr.contains(&format!(
            "Warning: The exception for 1.9 expires on {soon}, in 5 days"
        )),
        "{}",
        apply.stderr
    );

    // Only excepted gaps left: nothing to do, exit 0 for a schedule.
    let plan = acct.cis_fix(&[
        "plan",
        "--json",
        "--detailed-exitcode",
        "--config",
        &excepted,
    ]);
    plan.expect_code(0);
    let plan = plan.json();
    assert_eq!(plan["format_version"], "2.5");
    for (id, status) in statuses(&plan) {
        let want = if id == "1.8" || id == "1.9" {
            "excepted"
        } else {
            "compliant"
        };
        assert_eq!(status, want, "{id}: {plan:#}");
    }
    assert!(!has_password_change(&plan), "{plan:#}");
    let c18 = control(&plan, "1.8");
    assert_eq!(
        c18["exception"],
        serde_json::json!({
            "reason": "the identity provider sets the length",
            "approved_by": "CISO",
            "expires": later.to_string(),
        })
    );
    assert!(
        c18["reason"]
            .as_str()
            .is_some_and(|r| r.contains("without the exception it would be will-fix")),
        "{c18:#}"
    );
    assert_eq!(notice_kinds(&plan), ["exception_expiring"]);

    let human = acct.cis_fix(&["plan", "--config", &excepted]);
    human.expect_code(0);
    assert!(
        human.stdout.contains(&format!(
            "excepted until {later}, approved by CISO: the identity provider sets the length"
        )),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("compliant or excepted (2 excepted)"),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains("Warning:"), "warnings go to stderr");
    assert!(human.stderr.contains("in 5 days"), "{}", human.stderr);

    // Expired, on the day itself and the day before: judged and planned
    // again, and said.
    let today = Date::today();
    let yesterday = days_from_today(-1);
    let expired = config(
        &acct,
        &format!(
            "  - control: \"1.8\"\n    reason: the identity provider sets the length\n    expires: {today}\n  - control: \"1.9\"\n    reason: the identity provider sets reuse\n    expires: {yesterday}\n"
        ),
    );
    let plan = acct.cis_fix(&[
        "plan",
        "--json",
        "--detailed-exitcode",
        "--config",
        &expired,
    ]);
    plan.expect_code(2);
    let plan = plan.json();
    assert_eq!(status_of(&plan, "1.8"), "will-fix");
    assert_eq!(status_of(&plan, "1.9"), "will-fix");
    assert!(has_password_change(&plan), "{plan:#}");
    assert!(control(&plan, "1.8").get("exception").is_none());
    assert_eq!(
        notice_kinds(&plan),
        ["exception_expired", "exception_expired"]
    );
    let apply = acct.cis_fix(&["apply", "--auto-approve", "--config", &expired]);
    apply.expect_code(0);
    assert!(
        apply.stderr.contains(&format!(
            "Warning: The exception for 1.8 expired on {today}: it is judged again"
        )),
        "{}",
        apply.stderr
    );
    let p = acct
        .password_policy()
        .expect("the policy, made once expired");
    assert_eq!(p.minimum_password_length, Some(14));
    assert_eq!(p.password_reuse_prevention, Some(24));
}

/// A new VPC's default group (moto gives it an outbound rule to anywhere).
fn vpc_with_default_group(acct: &Account, cidr: &str) -> (String, String) {
    let ec2 = acct.clients_in(REGION).ec2;
    acct.block_on(async {
        let vpc = ec2
            .create_vpc()
            .cidr_block(cidr)
            .send()
            .await
            .expect("CreateVpc")
            .vpc
            .and_then(|v| v.vpc_id)
            .expect("vpc id");
        let group = ec2
            .describe_security_groups()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("vpc-id")
                    .values(&vpc)
                    .build(),
            )
            .send()
            .await
            .expect("DescribeSecurityGroups")
            .security_groups
            .unwrap_or_default()
            .into_iter()
            .find(|g| g.group_name() == Some("default"))
            .and_then(|g| g.group_id)
            .expect("the VPC's default group");
        // Its default network ACL admits SSH and RDP, as in AWS: closed as
        // the harness closes the others, so this test stays about 5.4.
        crate::support::fixtures::close_admin_ports(&ec2, REGION).await;
        (vpc, group)
    })
}

fn rule_count(acct: &Account, group: &str) -> usize {
    let ec2 = acct.clients_in(REGION).ec2;
    acct.block_on(async {
        ec2.describe_security_group_rules()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("group-id")
                    .values(group)
                    .build(),
            )
            .send()
            .await
            .expect("DescribeSecurityGroupRules")
            .security_group_rules
            .unwrap_or_default()
            .len()
    })
}

/// One VPC's default group excepted (named by its VPC), another's emptied;
/// v3.0.0's 5.4.
#[test]
fn an_excepted_default_group_keeps_its_rules_while_the_others_are_emptied() {
    let acct = Account::new();
    let (legacy_vpc, legacy) = vpc_with_default_group(&acct, "10.1.0.0/16");
    let (_, other) = vpc_with_default_group(&acct, "10.2.0.0/16");
    assert!(rule_count(&acct, &legacy) > 0 && rule_count(&acct, &other) > 0);
    let later = days_from_today(60);
    let excepted = config(
        &acct,
        &format!(
            "  - control: \"5.4\"\n    resource: {legacy_vpc}\n    reason: the legacy app's hosts talk through it\n    expires: {later}\n    approved_by: network team\n"
        ),
    );

    let plan = acct
        .cis_fix(&["plan", "--json", "--config", &excepted])
        .expect_code(0)
        .json();
    let c = control(&plan, "5.4");
    assert_eq!(c["status"], "will-fix", "the other group is fixed: {c:#}");
    let legacy_address =
        format!("{ACCOUNT_ID}/{REGION}/aws_default_security_group.default[\"{legacy}\"]");
    assert_eq!(
        c["excepted"],
        serde_json::json!([{
            "resource": legacy_vpc,
            "addresses": [legacy_address],
            "exception": {
                "reason": "the legacy app's hosts talk through it",
                "approved_by": "network team",
                "expires": later.to_string(),
            }
        }])
    );
    let groups: Vec<&str> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["type"] == "aws_default_security_group")
        .filter_map(|c| c["key"].as_str())
        .collect();
    assert_eq!(groups, [other.as_str()]);

    acct.cis_fix(&["apply", "--auto-approve", "--config", &excepted])
        .expect_code(0);
    assert!(
        rule_count(&acct, &legacy) > 0,
        "the excepted group was changed"
    );
    assert_eq!(rule_count(&acct, &other), 0);

    // All that fails 5.4 now is excepted: the control is, and a schedule
    // has nothing to hear.
    let plan = acct.cis_fix(&[
        "plan",
        "--json",
        "--detailed-exitcode",
        "--config",
        &excepted,
    ]);
    plan.expect_code(0);
    assert_eq!(status_of(&plan.json(), "5.4"), "excepted");

    // Expired: the group is judged again, and emptied.
    let expired = config(
        &acct,
        &format!(
            "  - control: \"5.4\"\n    resource: {legacy_vpc}\n    reason: the legacy app's hosts talk through it\n    expires: {}\n",
            days_from_today(-1)
        ),
    );
    let plan = acct.cis_fix(&[
        "plan",
        "--json",
        "--detailed-exitcode",
        "--config",
        &expired,
    ]);
    plan.expect_code(2);
    let plan = plan.json();
    assert_eq!(status_of(&plan, "5.4"), "will-fix");
    assert_eq!(notice_kinds(&plan), ["exception_expired"]);
    acct.cis_fix(&["apply", "--auto-approve", "--config", &expired])
        .expect_code(0);
    assert_eq!(rule_count(&acct, &legacy), 0);
}

/// A control id the chosen version does not have is refused before any
/// call, naming the file and line.
#[test]
fn an_exception_for_a_control_of_another_version_is_an_error() {
    let acct = Account::new();
    let cfg = acct.config(
        "sns: {}\nexceptions:\n  - control: \"3.3\"\n    reason: x\n    expires: 2030-01-01\n",
    );
    let run = acct.cis_fix(&["plan", "--config", cfg.to_str().expect("utf-8")]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(&format!(
            "{}:3: exceptions.control: `3.3` is not a control of CIS AWS Foundations v3.0.0 (it is one of v1.2.0",
            cfg.display()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}
