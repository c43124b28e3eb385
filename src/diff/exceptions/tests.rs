//! Exceptions over hand-made plans: which changes leave, which stay, what
//! each control then says, and what the day given decides.

use super::*;
use crate::address::Location;
use crate::kinds::{Action, DefaultSecurityGroup, FlowLog, LogGroup, Resource};
use crate::plan::{ControlReport, HeldBack, OptIn};

const ACCOUNT: &str = "123456789012";

fn day(text: &str) -> Date {
    Date::parse(text).expect("date")
}

fn exception(control: &str, resource: Option<&str>, expires: &str) -> Exception {
    Exception {
        control: control.into(),
        resource: resource.map(str::to_string),
        reason: "legacy workload, replaced in Q2".into(),
        approved_by: Some("CISO".into()),
        expires: day(expires),
    }
}

fn at(region: &str) -> Location {
    Location::new(Some(ACCOUNT), region)
}

fn change(address: Address, controls: &[&str], after: Resource) -> Change {
    Change {
        address,
        action: Action::Create,
        controls: controls.iter().map(|c| c.to_string()).collect(),
        reason: "needed".into(),
        before: None,
        after: Some(after),
        depends_on: vec![],
    }
}

fn log_group(region: &str, name: &str, controls: &[&str]) -> Change {
    change(
        Address::new(&at(region), "aws_cloudwatch_log_group", name),
        controls,
        Resource::LogGroup(LogGroup {
            name: name.into(),
            retention_in_days: None,
        }),
    )
}

fn flow_log(region: &str, vpc: &str, group: &Change) -> Change {
    let mut c = change(
        Address::new(&at(region), "aws_flow_log", "vpc").with_key(vpc),
        &["3.9"],
        Resource::FlowLog(FlowLog {
            vpc_id: vpc.into(),
            traffic_type: "REJECT".into(),
            log_destination_type: "cloud-watch-logs".into(),
            log_group_name: Some("cis-fix/vpc-flow-logs".into()),
            log_destination: None,
            deliver_logs_permission_arn: None,
            max_aggregation_interval: 600,
        }),
    );
    c.depends_on = vec![group.address.clone()];
    c
}

fn default_group(region: &str, group: &str, vpc: &str, controls: &[&str]) -> Change {
    let g = DefaultSecurityGroup {
        group_id: group.into(),
        vpc_id: vpc.into(),
        ingress: vec![],
        egress: vec![],
        used_by: vec![],
    };
    let mut c = change(
        Address::new(&at(region), "aws_default_security_group", "default").with_key(group),
        controls,
        Resource::DefaultSecurityGroup(g.clone()),
    );
    c.action = Action::Update;
    c.before = Some(Resource::DefaultSecurityGroup(g));
    c
}

fn report(id: &str, status: ControlStatus, cause: Option<Cause>) -> ControlReport {
    ControlReport {
        id: id.into(),
        title: format!("control {id}"),
        status,
        reason: format!("as judged for {id}"),
        cause,
        exception: None,
        excepted: vec![],
    }
}

fn builder(changes: Vec<Change>, controls: Vec<ControlReport>) -> PlanBuilder {
    let mut b = PlanBuilder::new(Some(ACCOUNT));
    for c in changes {
        b.change(c);
    }
    b.controls = controls;
    b
}

fn control<'a>(b: &'a PlanBuilder, id: &str) -> &'a ControlReport {
    b.controls
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("control {id}"))
}

fn addresses(b: &PlanBuilder) -> Vec<String> {
    b.changes.iter().map(|c| c.address.to_string()).collect()
}

const TODAY: &str = "2027-03-01";

#[test]
fn a_whole_control_is_excepted_and_only_its_own_changes_leave() {
    // The topic serves 4.1 and 4.3; the alarm's log group only 4.3.
    let topic = log_group("us-east-1", "topic", &["4.1", "4.3"]);
    let own = log_group("us-east-1", "alarm_4_3", &["4.3"]);
    let mut b = builder(
        vec![topic.clone(), own],
        vec![
            report("4.1", ControlStatus::WillFix, None),
            report(
                "4.3",
                ControlStatus::Blocked,
                Some(Cause::NoSubscriber { topic: "t".into() }),
            ),
        ],
    );
    apply(&[exception("4.3", None, "2027-06-30")], day(TODAY), &mut b);
    assert_eq!(addresses(&b), [topic.address.to_string()]);
    assert_eq!(
        b.changes[0].controls,
        ["4.1", "4.3"],
        "the shared change is unchanged"
    );
    let c = control(&b, "4.3");
    assert_eq!(c.status, ControlStatus::Excepted);
    assert_eq!(c.cause, None, "an excepted control holds nothing back");
    let g = c.exception.as_ref().expect("the exception");
    assert_eq!(g.expires, day("2027-06-30"));
    assert_eq!(g.approved_by.as_deref(), Some("CISO"));
    assert!(
        c.reason
            .starts_with("excepted until 2027-06-30, approved by CISO: legacy workload")
            && c.reason.contains("it would be blocked: as judged for 4.3"),
        "{}",
        c.reason
    );
    assert_eq!(control(&b, "4.1").status, ControlStatus::WillFix);
    assert!(b.notices.is_empty(), "{:?}", b.notices);
}

#[test]
fn one_excepted_resource_is_left_and_the_others_fixed() {
    let group = log_group("us-east-1", "vpc_flow_logs", &["3.9"]);
    let a = flow_log("us-east-1", "vpc-a", &group);
    let b_log = flow_log("us-east-1", "vpc-b", &group);
    let mut b = builder(
        vec![group.clone(), a.clone(), b_log.clone()],
        vec![report("3.9", ControlStatus::WillFix, None)],
    );
    apply(
        &[exception("3.9", Some("vpc-a"), "2027-06-30")],
        day(TODAY),
        &mut b,
    );
    assert_eq!(
        addresses(&b),
        [group.address.to_string(), b_log.address.to_string()],
        "vpc-b's flow log still needs the log group"
    );
    let c = control(&b, "3.9");
    assert_eq!(c.status, ControlStatus::WillFix, "vpc-b is still fixed");
    assert_eq!(c.exception, None);
    assert_eq!(c.excepted.len(), 1);
    assert_eq!(c.excepted[0].resource, "vpc-a");
    assert_eq!(c.excepted[0].addresses, std::slice::from_ref(&a.address));
    assert!(c.excepted[0].changed_anyway.is_empty());
}

#[test]
fn when_every_failing_resource_is_excepted_the_control_is_and_its_prerequisites_go() {
    // As the flow-logs family plans them: the log group and role serve no
    // control of their own, the flow log depends on both.
    let group = log_group("eu-west-1", "vpc_flow_logs", &[]);
    let role = log_group("global", "vpc_flow_logs_role", &[]);
    let mut a = flow_log("eu-west-1", "vpc-a", &group);
    a.depends_on.push(role.address.clone());
    let mut b = builder(
        vec![role, group, a.clone()],
        vec![report("3.9", ControlStatus::WillFix, None)],
    );
    apply(
        &[exception("3.9", Some("vpc-a"), "2027-06-30")],
        day(TODAY),
        &mut b,
    );
    assert!(b.changes.is_empty(), "{:?}", addresses(&b));
    let c = control(&b, "3.9");
    assert_eq!(c.status, ControlStatus::Excepted);
    assert!(
        c.reason
            .starts_with("every resource that fails it is excepted")
            && c.reason.contains("it would be will-fix"),
        "{}",
        c.reason
    );
    // The log group made only for it is not the user's resource: only the
    // flow log is listed.
    assert_eq!(c.excepted[0].addresses, [a.address]);
}

#[test]
fn a_region_names_every_resource_of_the_control_there() {
    let east = log_group("us-east-1", "vpc_flow_logs", &["3.9"]);
    let east_a = flow_log("us-east-1", "vpc-a", &east);
    let west = log_group("eu-west-1", "vpc_flow_logs", &["3.9"]);
    let west_b = flow_log("eu-west-1", "vpc-b", &west);
    let mut b = builder(
        vec![east.clone(), east_a.clone(), west, west_b],
        vec![report("3.9", ControlStatus::WillFix, None)],
    );
    apply(
        &[exception("3.9", Some("eu-west-1"), "2027-06-30")],
        day(TODAY),
        &mut b,
    );
    assert_eq!(
        addresses(&b),
        [east.address.to_string(), east_a.address.to_string()]
    );
    let c = control(&b, "3.9");
    assert_eq!(c.status, ControlStatus::WillFix);
    assert_eq!(c.excepted[0].addresses.len(), 2);
}

#[test]
fn a_prerequisite_serving_another_control_stays() {
    // The trail's log group serves a trail control (3.4) as well as the
    // monitoring filter that depends on it.
    let group = log_group("us-east-1", "trail_logs", &["3.4", "4.3"]);
    let mut filter = log_group("us-east-1", "filter_4_3", &["4.3"]);
    filter.depends_on = vec![group.address.clone()];
    let mut b = builder(
        vec![group.clone(), filter],
        vec![
            report("3.4", ControlStatus::WillFix, None),
            report("4.3", ControlStatus::WillFix, None),
        ],
    );
    apply(&[exception("4.3", None, "2027-06-30")], day(TODAY), &mut b);
    assert_eq!(addresses(&b), [group.address.to_string()]);
}

#[test]
fn a_change_another_change_depends_on_stays() {
    // 3.9 is excepted as a whole, but 4.3's change depends on the log
    // group that serves only 3.9.
    let group = log_group("us-east-1", "shared", &["3.9"]);
    let mut other = log_group("us-east-1", "other", &["4.3"]);
    other.depends_on = vec![group.address.clone()];
    let mut b = builder(
        vec![group.clone(), other.clone()],
        vec![
            report("3.9", ControlStatus::WillFix, None),
            report("4.3", ControlStatus::WillFix, None),
        ],
    );
    apply(&[exception("3.9", None, "2027-06-30")], day(TODAY), &mut b);
    assert_eq!(
        addresses(&b),
        [group.address.to_string(), other.address.to_string()]
    );
    assert_eq!(control(&b, "3.9").status, ControlStatus::Excepted);
}

#[test]
fn a_shared_change_is_made_anyway_and_says_so() {
    // A default group's change serves the default-group control (5.4) and
    // the administration-ports control (5.2); only 5.2 is excepted for it.
    let sg = default_group("us-east-1", "sg-1", "vpc-1", &["5.4", "5.2"]);
    let mut b = builder(
        vec![sg.clone()],
        vec![
            report("5.4", ControlStatus::WillFix, None),
            report("5.2", ControlStatus::WillFix, None),
        ],
    );
    apply(
        &[exception("5.2", Some("sg-1"), "2027-06-30")],
        day(TODAY),
        &mut b,
    );
    assert_eq!(addresses(&b), [sg.address.to_string()]);
    let c = control(&b, "5.2");
    assert_eq!(
        c.status,
        ControlStatus::WillFix,
        "the change fixes it anyway"
    );
    assert!(c.excepted[0].addresses.is_empty());
    assert_eq!(
        c.excepted[0].changed_anyway,
        std::slice::from_ref(&sg.address)
    );
    assert!(
        b.notices.is_empty(),
        "named, so not unused: {:?}",
        b.notices
    );
}

#[test]
fn held_back_changes_are_excepted_too() {
    let held = default_group("us-east-1", "sg-1", "vpc-1", &["5.4"]);
    let mut b = builder(
        vec![],
        vec![report(
            "5.4",
            ControlStatus::Blocked,
            Some(Cause::needs_opt_in(OptIn::DefaultSecurityGroups)),
        )],
    );
    b.held_back.push(HeldBack {
        change: held,
        opt_in: OptIn::DefaultSecurityGroups,
    });
    // The VPC names its default group.
    apply(
        &[exception("5.4", Some("vpc-1"), "2027-06-30")],
        day(TODAY),
        &mut b,
    );
    assert!(b.held_back.is_empty());
    let c = control(&b, "5.4");
    assert_eq!(c.status, ControlStatus::Excepted);
    assert_eq!(c.cause, None);
}

#[test]
fn what_waited_for_an_opt_in_excepted_leaves_the_rest_planned() {
    // 5.2: one rule held back (excepted), the default group's change
    // planned (5.4 was opted in).
    let rule = default_group("us-east-1", "sg-web", "vpc-1", &["5.2"]);
    let sg = default_group("us-east-1", "sg-1", "vpc-1", &["5.4", "5.2"]);
    let mut b = builder(
        vec![sg],
        vec![report(
            "5.2",
            ControlStatus::Blocked,
            Some(Cause::needs_opt_in(OptIn::AdminPortRules)),
        )],
    );
    b.held_back.push(HeldBack {
        change: rule,
        opt_in: OptIn::AdminPortRules,
    });
    apply(
        &[exception("5.2", Some("sg-web"), "2027-06-30")],
        day(TODAY),
        &mut b,
    );
    let c = control(&b, "5.2");
    assert_eq!(c.status, ControlStatus::WillFix);
    assert_eq!(c.cause, None);
}

#[test]
fn the_day_given_decides_expiry_and_warns_within_fourteen_days() {
    let expires = "2027-03-15";
    let run = |today: &str| {
        let own = log_group("us-east-1", "alarm_4_3", &["4.3"]);
        let mut b = builder(vec![own], vec![report("4.3", ControlStatus::WillFix, None)]);
        apply(&[exception("4.3", None, expires)], day(today), &mut b);
        (control(&b, "4.3").status, b.changes.len(), b.notices)
    };
    // On the expiry date and after it: judged again, and said.
    for today in ["2027-03-15", "2027-03-16", "2028-01-01"] {
        let (status, changes, notices) = run(today);
        assert_eq!(status, ControlStatus::WillFix, "{today}");
        assert_eq!(changes, 1, "{today}");
        assert_eq!(
            notices,
            [Notice::ExceptionExpired {
                control: "4.3".into(),
                resource: None,
                expired: day(expires),
            }],
            "{today}"
        );
        assert_eq!(notices[0].severity(), crate::plan::Severity::Warning);
        assert!(
            notices[0]
                .message()
                .contains("expired on 2027-03-15: it is judged again"),
            "{}",
            notices[0].message()
        );
    }
    // The day before, and up to 14 days before: in force, with a warning.
    for (today, days) in [("2027-03-14", 1), ("2027-03-05", 10), ("2027-03-01", 14)] {
        let (status, changes, notices) = run(today);
        assert_eq!(status, ControlStatus::Excepted, "{today}");
        assert_eq!(changes, 0, "{today}");
        assert_eq!(
            notices,
            [Notice::ExceptionExpiring {
                control: "4.3".into(),
                resource: None,
                expires: day(expires),
                days,
            }],
            "{today}"
        );
        assert_eq!(notices[0].severity(), crate::plan::Severity::Warning);
    }
    let (_, _, notices) = run("2027-03-05");
    assert_eq!(
        notices[0].message(),
        "The exception for 4.3 expires on 2027-03-15, in 10 days: renew it in cis-fix.yaml or plan the fix."
    );
    // Fifteen days before: in force, nothing to say.
    let (status, _, notices) = run("2027-02-28");
    assert_eq!(status, ControlStatus::Excepted);
    assert!(notices.is_empty(), "{notices:?}");
}

#[test]
fn an_expired_resource_exception_no_longer_excepts() {
    let group = log_group("us-east-1", "vpc_flow_logs", &["3.9"]);
    let a = flow_log("us-east-1", "vpc-a", &group);
    let mut b = builder(
        vec![group, a],
        vec![report("3.9", ControlStatus::WillFix, None)],
    );
    apply(
        &[exception("3.9", Some("vpc-a"), "2027-02-28")],
        day(TODAY),
        &mut b,
    );
    assert_eq!(b.changes.len(), 2);
    let c = control(&b, "3.9");
    assert_eq!(c.status, ControlStatus::WillFix);
    assert!(c.excepted.is_empty());
    assert!(matches!(
        b.notices.as_slice(),
        [Notice::ExceptionExpired { resource: Some(r), .. }] if r == "vpc-a"
    ));
}

#[test]
fn exceptions_that_except_nothing_are_noted() {
    let sg = default_group("us-east-1", "sg-1", "vpc-1", &["5.4"]);
    let mut b = builder(
        vec![sg],
        vec![
            report("5.4", ControlStatus::WillFix, None),
            report("1.8", ControlStatus::Compliant, None),
        ],
    );
    apply(
        &[
            exception("5.4", Some("sg-typo"), "2027-06-30"),
            exception("1.8", None, "2027-06-30"),
            // A control of the version this plan does not judge.
            exception("5.1", None, "2027-06-30"),
        ],
        day(TODAY),
        &mut b,
    );
    assert_eq!(
        b.changes.len(),
        1,
        "a selector that names nothing excepts nothing"
    );
    assert_eq!(control(&b, "1.8").status, ControlStatus::Compliant);
    assert_eq!(control(&b, "1.8").exception, None);
    let unused: Vec<(String, Option<String>)> = b
        .notices
        .iter()
        .map(|n| match n {
            Notice::ExceptionUnused { control, resource } => (control.clone(), resource.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        unused,
        [
            ("5.4".to_string(), Some("sg-typo".to_string())),
            ("1.8".to_string(), None),
            ("5.1".to_string(), None),
        ]
    );
    assert_eq!(b.notices[0].severity(), crate::plan::Severity::Info);
}

#[test]
fn a_selector_names_a_resource_as_users_know_it() {
    let sg = default_group("eu-west-1", "sg-0abc", "vpc-0def", &["5.4"]);
    for yes in [
        "sg-0abc",
        "vpc-0def",
        "eu-west-1",
        "123456789012/eu-west-1/aws_default_security_group.default[\"sg-0abc\"]",
        "eu-west-1/aws_default_security_group.default[\"sg-0abc\"]",
    ] {
        assert!(names(yes, &sg), "{yes}");
    }
    for no in [
        "sg-0ab",
        "us-east-1",
        "default",
        "aws_default_security_group",
        "vpc-0de",
    ] {
        assert!(!names(no, &sg), "{no}");
    }
    let key = change(
        Address::new(&at("us-east-1"), "aws_kms_key_rotation", "key").with_key("1234abcd"),
        &["3.6"],
        Resource::KmsKeyRotation(crate::kinds::KmsKeyRotation {
            key_id: "1234abcd".into(),
            arn: "arn:aws:kms:us-east-1:123456789012:key/1234abcd".into(),
            aliases: vec!["alias/app".into()],
            enable_key_rotation: true,
        }),
    );
    for yes in [
        "1234abcd",
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd",
        "alias/app",
    ] {
        assert!(names(yes, &key), "{yes}");
    }
    assert!(!names("alias/other", &key));
}

#[test]
fn a_plan_whose_only_gaps_are_excepted_needs_no_action() {
    let own = log_group("us-east-1", "alarm_4_3", &["4.3"]);
    let mut b = builder(
        vec![own],
        vec![
            report("4.3", ControlStatus::WillFix, None),
            report("1.8", ControlStatus::Compliant, None),
        ],
    );
    apply(&[exception("4.3", None, "2027-06-30")], day(TODAY), &mut b);
    let parts = b.finish(&[]).expect("parts");
    let plan = crate::plan::Plan {
        benchmark: "3.0.0".into(),
        benchmark_title: "t".into(),
        account_id: None,
        caller_arn: None,
        regions: vec![],
        unmanaged: vec![],
        notices: parts.notices,
        changes: parts.changes,
        held_back: parts.held_back,
        controls: parts.controls,
        failed_reads: vec![],
        cost: None,
    };
    assert!(!plan.needs_action());
    assert!(!plan.is_incomplete());
}

/// Through every family, on the saved new account (no trail): the
/// monitoring chain's topic and subscription serve all 15 monitoring
/// controls, the trail's resources serve the trail controls and the
/// monitoring ones.
mod whole_plan {
    use crate::config::Config;
    use crate::date::Date;
    use crate::plan::{ControlStatus, Plan};
    use crate::snapshot::Snapshot;

    const EMAIL: &str =
        "sns:\n  subscriptions:\n    - protocol: email\n      endpoint: a@example.com\n";

    fn plan(exceptions: &[&str]) -> Plan {
        plan_with(EMAIL, exceptions)
    }

    fn plan_with(config: &str, exceptions: &[&str]) -> Plan {
        let mut yaml = format!("{config}exceptions:\n");
        for id in exceptions {
            yaml.push_str(&format!(
                "  - control: \"{id}\"\n    reason: r\n    expires: 2025-01-01\n"
            ));
        }
        let b = crate::benchmark::load("3.0.0").expect("benchmark");
        let c = Config::parse(&yaml, "c.yaml").expect("config");
        let d = crate::desired::build(&b, &c, "c.yaml").expect("desired");
        let s = Snapshot::from_json(
            include_str!("../../../examples/accounts/new-account.json"),
            "new-account.json",
        )
        .expect("snapshot");
        crate::diff::plan(&d, &s, Date::parse("2024-10-04").expect("date")).expect("plan")
    }

    fn kinds(p: &Plan) -> Vec<(String, String)> {
        p.changes
            .iter()
            .map(|c| (c.address.kind.clone(), c.address.name.clone()))
            .collect()
    }

    fn has(p: &Plan, kind: &str, name: &str) -> bool {
        kinds(p).iter().any(|(k, n)| k == kind && n == name)
    }

    #[test]
    fn the_shared_topic_stays_while_one_monitoring_control_is_not_excepted() {
        let all = plan(&[]);
        let monitoring: Vec<String> = (2..=15).map(|n| format!("4.{n}")).collect();
        let ids: Vec<&str> = monitoring.iter().map(String::as_str).collect();
        let p = plan(&ids);
        assert!(has(&p, "aws_sns_topic", "cis_fix_alarms"));
        assert!(has(&p, "aws_sns_topic_subscription", "cis_fix_alarms"));
        assert!(has(&p, "aws_cloudwatch_metric_alarm", "cis_4_1"));
        assert!(!has(&p, "aws_cloudwatch_metric_alarm", "cis_4_3"));
        assert!(!has(&p, "aws_cloudwatch_log_metric_filter", "cis_4_3"));
        // 14 filters and 14 alarms fewer, nothing else.
        assert_eq!(all.changes.len() - p.changes.len(), 28);
        let status = |id: &str| p.controls.iter().find(|c| c.id == id).map(|c| c.status);
        // A new email subscription waits for its confirmation.
        assert_eq!(status("4.1"), Some(ControlStatus::PendingConfirmation));
        assert_eq!(status("4.3"), Some(ControlStatus::Excepted));
        assert!(p.needs_action(), "4.1 and the rest are still to fix");
    }

    #[test]
    fn every_monitoring_control_excepted_takes_the_chain_but_not_the_trail() {
        let monitoring: Vec<String> = (1..=15).map(|n| format!("4.{n}")).collect();
        let ids: Vec<&str> = monitoring.iter().map(String::as_str).collect();
        let p = plan(&ids);
        for (kind, name) in kinds(&p) {
            assert!(
                !kind.starts_with("aws_sns") && !kind.starts_with("aws_cloudwatch_metric"),
                "{kind}.{name}"
            );
        }
        // The trail and what it needs serve the trail controls too.
        assert!(has(&p, "aws_cloudtrail", "trail"));
        assert!(has(&p, "aws_cloudwatch_log_group", "cloudtrail"));
        // With nobody subscribed, the alarms' missing subscriber stands in
        // the way only while a monitoring control is not excepted.
        let nobody = |p: &Plan| {
            p.notices
                .iter()
                .any(|n| matches!(n, crate::plan::Notice::NobodyToNotify { .. }))
        };
        assert!(nobody(&plan_with("", &[])));
        let p = plan_with("", &ids);
        assert!(!nobody(&p), "{:?}", p.notices);
        assert!(
            p.controls
                .iter()
                .all(|c| !matches!(c.cause, Some(crate::plan::Cause::NoSubscriber { .. })))
        );
        // With the trail controls excepted too, the trail is not made.
        let mut more = ids.clone();
        more.extend(["3.1", "3.2", "3.4", "3.5"]);
        let p = plan(&more);
        assert!(!has(&p, "aws_cloudtrail", "trail"), "{:?}", kinds(&p));
        assert!(!has(&p, "aws_s3_bucket", "cloudtrail"), "{:?}", kinds(&p));
    }
}
