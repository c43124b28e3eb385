//! The password-policy merge from plain values.

use super::*;
use crate::desired::PasswordControl;
use crate::kinds::ReadData;
use crate::observed::{CallFailure, Observed};
use crate::plan::ControlReport;
use crate::snapshot::ReadKey;

fn controls(version: &str) -> Vec<PasswordControl> {
    let b = crate::benchmark::load(version).expect("benchmark");
    let d =
        crate::desired::build(&b, &crate::config::Config::default(), "defaults").expect("desired");
    d.password
}

fn snap(read: Option<Observed<ReadData>>) -> Snapshot {
    let mut s = Snapshot::new(Some("123456789012".into()), None, "us-east-1");
    if let Some(r) = read {
        s.record(ReadKey::new(password_policy::READ, GLOBAL, None), r);
    }
    s
}

fn with(p: Option<PasswordPolicy>) -> Snapshot {
    snap(Some(Observed::Ok(ReadData::PasswordPolicy(p))))
}

struct Planned {
    changes: Vec<Change>,
    controls: Vec<ControlReport>,
}

fn run(version: &str, s: &Snapshot) -> Planned {
    let cs = controls(version);
    let mut out = PlanBuilder::new(s.account_id.as_deref());
    plan(&cs, s, &mut out);
    let order: Vec<String> = cs.iter().map(|c| c.id.clone()).collect();
    let parts = out.finish(&order).expect("no error");
    Planned {
        changes: parts.changes,
        controls: parts.controls,
    }
}

fn control<'a>(p: &'a Planned, id: &str) -> &'a ControlReport {
    p.controls
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no control {id}"))
}

fn after(p: &Planned) -> &PasswordPolicy {
    match p.changes.as_slice() {
        [c] => match &c.after {
            Some(Resource::PasswordPolicy(x)) => x,
            other => panic!("not a password policy: {other:?}"),
        },
        other => panic!("one change expected: {other:#?}"),
    }
}

/// A policy stricter than the benchmark on every field it names but reuse.
fn strict_but_reuse() -> PasswordPolicy {
    PasswordPolicy {
        minimum_password_length: 20,
        require_symbols: false,
        require_numbers: true,
        require_uppercase_characters: false,
        require_lowercase_characters: false,
        allow_users_to_change_password: true,
        max_password_age: Some(30),
        password_reuse_prevention: Some(5),
        hard_expiry: true,
    }
}

#[test]
fn a_stricter_value_is_kept_while_reuse_is_raised() {
    let p = run("3.0.0", &with(Some(strict_but_reuse())));
    let a = after(&p);
    assert_eq!(
        *a,
        PasswordPolicy {
            password_reuse_prevention: Some(24),
            ..strict_but_reuse()
        }
    );
    let c = &p.changes[0];
    assert_eq!(c.action, Action::Update);
    assert_eq!(
        c.address.to_string(),
        "123456789012/global/aws_iam_account_password_policy.this"
    );
    // Only the failing control is served.
    assert_eq!(c.controls, ["1.9"]);
    assert!(
        c.reason.contains("passwords remembered 5 -> 24"),
        "{}",
        c.reason
    );
    assert!(
        c.reason
            .contains("every other field is sent as it is today")
    );
    let c18 = control(&p, "1.8");
    assert_eq!(c18.status, ControlStatus::Compliant);
    assert_eq!(c18.reason, "minimum length is 20 (>= 14)");
    let c19 = control(&p, "1.9");
    assert_eq!(c19.status, ControlStatus::WillFix);
    assert_eq!(c19.reason, "passwords remembered 5 -> 24");
}

#[test]
fn fields_no_control_names_are_sent_as_they_are() {
    // v3.0.0 names length and reuse only: expiry, hard expiry, complexity
    // and who may change a password stay exactly as they are.
    let today = PasswordPolicy {
        minimum_password_length: 8,
        require_symbols: true,
        require_numbers: false,
        require_uppercase_characters: true,
        require_lowercase_characters: false,
        allow_users_to_change_password: false,
        max_password_age: Some(365),
        password_reuse_prevention: None,
        hard_expiry: false,
    };
    let p = run("3.0.0", &with(Some(today.clone())));
    assert_eq!(
        *after(&p),
        PasswordPolicy {
            minimum_password_length: 14,
            password_reuse_prevention: Some(24),
            ..today
        }
    );
    assert_eq!(p.changes[0].controls, ["1.8", "1.9"]);
    assert_eq!(control(&p, "1.8").reason, "minimum length 8 -> 14");
    assert_eq!(control(&p, "1.9").reason, "passwords remembered none -> 24");
}

#[test]
fn an_unset_or_zero_max_age_never_expires_and_is_tightened() {
    let v12 = controls("1.2.0");
    for (today, want) in [
        (None, Some(90)),
        (Some(0), Some(90)),
        (Some(91), Some(90)),
        (Some(90), Some(90)),
        (Some(60), Some(60)),
    ] {
        let p = PasswordPolicy {
            max_password_age: today,
            ..PasswordPolicy::aws_defaults()
        };
        assert_eq!(merged(Some(&p), &v12).max_password_age, want, "{today:?}");
    }
    let zero = PasswordPolicy {
        max_password_age: Some(0),
        ..strict_but_reuse()
    };
    let p = run("1.2.0", &with(Some(zero)));
    assert_eq!(
        control(&p, "1.11").reason,
        "maximum age never expires -> 90 days"
    );
    let sixty = PasswordPolicy {
        max_password_age: Some(60),
        ..strict_but_reuse()
    };
    let p = run("1.2.0", &with(Some(sixty)));
    let c = control(&p, "1.11");
    assert_eq!(c.status, ControlStatus::Compliant);
    assert_eq!(c.reason, "maximum age is 60 days (<= 90 days)");
}

#[test]
fn every_version_gets_its_own_requirements_and_nothing_else() {
    let weak = PasswordPolicy {
        max_password_age: Some(365),
        ..PasswordPolicy::aws_defaults()
    };
    for v in crate::benchmark::available() {
        let cs = controls(v);
        let m = merged(Some(&weak), &cs);
        assert!(cs.iter().all(|c| satisfies(&m, c.rule)), "{v}: {m:?}");
        assert_eq!(m.minimum_password_length, 14, "{v}");
        assert_eq!(m.password_reuse_prevention, Some(24), "{v}");
        assert!(!m.allow_users_to_change_password && !m.hard_expiry, "{v}");
        if v == "1.2.0" {
            assert!(
                m.require_symbols
                    && m.require_numbers
                    && m.require_uppercase_characters
                    && m.require_lowercase_characters,
                "{v}"
            );
            assert_eq!(m.max_password_age, Some(90), "{v}");
        } else {
            assert_eq!(cs.len(), 2, "{v}");
            assert!(
                !m.require_symbols
                    && !m.require_numbers
                    && !m.require_uppercase_characters
                    && !m.require_lowercase_characters,
                "{v}"
            );
            assert_eq!(m.max_password_age, Some(365), "{v}");
        }
        // Merging again changes nothing: the plan converges.
        assert_eq!(merged(Some(&m), &cs), m, "{v}");
    }
}

#[test]
fn no_policy_is_created_with_users_allowed_to_change_their_password() {
    let p = run("1.2.0", &with(None));
    let c = &p.changes[0];
    assert_eq!(c.action, Action::Create);
    assert!(c.before.is_none());
    assert_eq!(
        c.controls,
        ["1.5", "1.6", "1.7", "1.8", "1.9", "1.10", "1.11"]
    );
    assert_eq!(
        *after(&p),
        PasswordPolicy {
            minimum_password_length: 14,
            require_symbols: true,
            require_numbers: true,
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            allow_users_to_change_password: true,
            max_password_age: Some(90),
            password_reuse_prevention: Some(24),
            hard_expiry: false,
        }
    );
    assert!(
        p.controls
            .iter()
            .all(|c| c.status == ControlStatus::WillFix)
    );
    assert_eq!(
        control(&p, "1.9").reason,
        "the account has no password policy; one is created with minimum length 14"
    );
    let p = run("3.0.0", &with(None));
    let a = after(&p);
    assert_eq!(
        (a.minimum_password_length, a.password_reuse_prevention),
        (14, Some(24))
    );
    assert_eq!(a.max_password_age, None);
    assert!(!a.require_symbols && !a.hard_expiry);
}

#[test]
fn a_compliant_policy_plans_nothing_and_says_why() {
    let good = PasswordPolicy {
        password_reuse_prevention: Some(24),
        ..strict_but_reuse()
    };
    let p = run("3.0.0", &with(Some(good)));
    assert!(p.changes.is_empty());
    assert_eq!(
        control(&p, "1.9").reason,
        "passwords remembered is 24 (>= 24)"
    );
    assert!(
        p.controls
            .iter()
            .all(|c| c.status == ControlStatus::Compliant)
    );
}

#[test]
fn a_failed_or_missing_read_is_unknown_and_plans_nothing() {
    let denied = CallFailure {
        call: password_policy::READ.into(),
        region: GLOBAL.into(),
        resource: None,
        code: Some("AccessDenied".into()),
        message: "denied".into(),
        detail: None,
    };
    for s in [snap(Some(Observed::Failed(denied))), snap(None)] {
        let p = run("3.0.0", &s);
        assert!(p.changes.is_empty());
        for c in &p.controls {
            assert_eq!(c.status, ControlStatus::Unknown, "{c:?}");
            assert!(
                matches!(&c.cause, Some(Cause::ReadFailed { failure }) if failure.call == password_policy::READ),
                "{c:?}"
            );
            assert!(c.reason.contains(password_policy::READ), "{}", c.reason);
        }
    }
}
