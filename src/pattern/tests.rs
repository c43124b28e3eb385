//! Unit tests across the module: printing, evaluation, coverage.

use serde_json::json;

use super::*;

fn p(text: &str) -> Pattern {
    parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

const V3_4_1: &str = r#"{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }"#;
const V3_4_7: &str = "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }";

#[test]
fn canonical_forms() {
    assert_eq!(
        p(V3_4_7).canonical(),
        r#"{ $.eventSource = "kms.amazonaws.com" && ($.eventName = "DisableKey" || $.eventName = "ScheduleKeyDeletion") }"#
    );
    assert_eq!(
        p(V3_4_1).canonical(),
        r#"{ $.errorCode = "*UnauthorizedOperation" || ($.errorCode = "AccessDenied*" && $.eventName != "HeadBucket" && $.sourceIPAddress != "delivery.logs.amazonaws.com") }"#
    );
    assert_eq!(p("{ $.a = 5 }").canonical(), "{ $.a = 5 }");
    assert_eq!(p("{ $.a = 5.50 }").canonical(), "{ $.a = 5.5 }");
    assert_eq!(p("{ $.a is null }").canonical(), "{ $.a IS NULL }");
    assert_eq!(
        p("{ $.['a.b'][2] not exists }").canonical(),
        "{ $.['a.b'][2] NOT EXISTS }"
    );
    assert_eq!(
        p(r#"{ $.a = "x\*y*" }"#).canonical(),
        r#"{ $.a = "x\*y*" }"#
    );
    assert_eq!(p("").canonical(), "");
    assert_eq!(p("ERROR ?\"a b\" -x").canonical(), r#""ERROR" ?"a b" -"x""#);
    // Same pattern written differently: same canonical text and equal values.
    let a = p("{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) }");
    let b = p(
        r#"{$.eventName="UpdateTrail"||(($.eventName = "CreateTrail"))||$.eventName=UpdateTrail}"#,
    );
    assert_eq!(a, b);
    assert_eq!(a.to_string(), b.canonical());
}

#[test]
fn canonical_is_a_fixpoint() {
    for text in [
        V3_4_1,
        V3_4_7,
        r#"{ $.a = "q\"uote\\d" && ($.b != * || $.c < -2.5e-3 || ($.d IS TRUE && $.e IS FALSE)) }"#,
        "{ $.x.*.y = %ab[0-9]+% || $.z[*] NOT EXISTS || $.['we\\'ird key'] = 1 }",
        "?ERROR ?WARN -\"not \\\"this\\\"\"",
        "[ip, user, status=404]",
        "%AUTH[A-Z]+%",
        "\"\"",
    ] {
        let first = p(text);
        let canon = first.canonical();
        let second = p(&canon);
        assert_eq!(first, second, "{text} -> {canon}");
        assert_eq!(second.canonical(), canon);
    }
}

#[test]
fn pretty_puts_one_operand_per_line() {
    assert_eq!(
        p(V3_4_7).pretty(),
        "{\n     $.eventSource = \"kms.amazonaws.com\"\n  && ($.eventName = \"DisableKey\" || $.eventName = \"ScheduleKeyDeletion\")\n}"
    );
    assert_eq!(p("{ $.a = x }").pretty(), "{ $.a = \"x\" }");
    let five = p(
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) }",
    );
    assert_eq!(five.pretty().lines().count(), 5);
}

#[test]
fn evaluation() {
    let login = json!({"eventName": "ConsoleLogin", "additionalEventData": {"MFAUsed": "No"}, "n": 5, "ok": true, "nul": null});
    assert!(
        p(r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#)
            .matches(&login)
    );
    assert!(
        !p("{ $.eventName = consolelogin }").matches(&login),
        "case-sensitive"
    );
    assert!(p("{ $.eventName = Console* }").matches(&login));
    assert!(p("{ $.eventName = *Log* }").matches(&login));
    // Absent fields: every comparison false, NOT EXISTS true.
    assert!(!p("{ $.missing != x }").matches(&login));
    assert!(!p("{ $.missing = * }").matches(&login));
    assert!(p("{ $.missing NOT EXISTS }").matches(&login));
    assert!(!p("{ $.eventName NOT EXISTS }").matches(&login));
    // Numbers compare numerically and only with numbers.
    assert!(p("{ $.n > 4.5 && $.n <= 5 && $.n = 5.0 && $.n != 6 }").matches(&login));
    assert!(!p("{ $.eventName > 1 }").matches(&login));
    assert!(!p(r#"{ $.n = "5" }"#).matches(&login));
    assert!(!p("{ $.n != x }").matches(&login));
    assert!(p("{ $.ok IS TRUE && $.nul IS NULL }").matches(&login));
    assert!(!p("{ $.ok IS FALSE || $.missing IS NULL }").matches(&login));
    // Precedence.
    let ev = json!({"a": "1"});
    assert!(p(r#"{ $.a = "1" || $.b = "2" && $.c = "3" }"#).matches(&ev));
    assert!(!p(r#"{ ($.a = "1" || $.b = "2") && $.c = "3" }"#).matches(&ev));
    // Wildcard selectors and array indices.
    let arr = json!({"items": [{"k": "a"}, {"k": "b"}], "tags": {"x": "1", "y": "2"}});
    assert!(p("{ $.items[*].k = b }").matches(&arr));
    assert!(p("{ $.items[1].k = b }").matches(&arr));
    assert!(!p("{ $.items[0].k = b }").matches(&arr));
    assert!(p("{ $.tags.* = \"2\" }").matches(&arr));
    assert!(p("{ $.items[*].z NOT EXISTS }").matches(&arr));
    assert!(!p("{ $.items[*].k NOT EXISTS }").matches(&arr));
    // Regex is not evaluated.
    assert_eq!(p("{ $.eventName = %Console% }").try_matches(&login), None);
    assert_eq!(
        p("{ $.eventName = %Console% || $.n = 5 }").try_matches(&login),
        Some(true)
    );
    assert_eq!(p("{ $.n = %x% }").try_matches(&login), Some(false));
    // Other kinds.
    assert!(p("").matches(&login));
    assert!(p("ConsoleLogin").matches(&login));
    assert!(p("?Nope ?MFAUsed").matches(&login));
    assert!(!p("ConsoleLogin -MFAUsed").matches(&login));
    assert_eq!(p("[a, b]").try_matches(&login), None);
    assert!(p(V3_4_1).matches(&json!({"errorCode": "Client.UnauthorizedOperation"})));
    assert!(!p(V3_4_1).matches(&json!({"errorCode": "AccessDenied", "eventName": "HeadBucket", "sourceIPAddress": "1.2.3.4"})));
}

#[test]
fn coverage_basics() {
    let b = p(V3_4_7);
    assert_eq!(covers(&b, &b), Coverage::Covered);
    assert_eq!(covers(&p(""), &b), Coverage::Covered);
    assert_eq!(
        covers(
            &p("{ $.eventSource = kms.amazonaws.com && $.eventName = DisableKey }"),
            &b
        ),
        Coverage::NotCovered {
            missing: vec![
                "$.eventSource = kms.amazonaws.com && $.eventName = ScheduleKeyDeletion"
                    .to_string()
            ]
        }
    );
    assert!(matches!(
        covers(&p("DisableKey"), &b),
        Coverage::CannotProve { .. }
    ));
    assert!(matches!(
        covers(&p("{ $.a = %x% }"), &b),
        Coverage::CannotProve { .. }
    ));
    assert!(matches!(
        covers(&p("{ $.a.b = x }"), &p("{ $.a NOT EXISTS }")),
        Coverage::CannotProve { .. }
    ));
    // Numbers and booleans are decided exactly.
    assert_eq!(
        covers(&p("{ $.n > 1 }"), &p("{ $.n >= 2 }")),
        Coverage::Covered
    );
    assert!(matches!(
        covers(&p("{ $.n > 2 }"), &p("{ $.n >= 2 }")),
        Coverage::NotCovered { .. }
    ));
    assert_eq!(
        covers(&p("{ $.n != 3 }"), &p("{ $.n < 2 || $.n > 4 }")),
        Coverage::Covered
    );
    assert_eq!(
        covers(&p("{ $.f IS TRUE || $.f IS FALSE }"), &p("{ $.f IS TRUE }")),
        Coverage::Covered
    );
    // An unsatisfiable benchmark is covered by anything.
    assert_eq!(
        covers(&p("{ $.z = q }"), &p("{ $.a = x && $.a = y }")),
        Coverage::Covered
    );
    // A != on a field is not the same as "not =": absent fields.
    assert!(matches!(
        covers(&p("{ $.a != x }"), &p("{ $.b = y }")),
        Coverage::NotCovered { .. }
    ));
    assert_eq!(
        covers(
            &p("{ $.a != x || $.a NOT EXISTS || $.a = x }"),
            &p("{ $.b = y && $.a IS NULL }")
        ),
        Coverage::NotCovered {
            missing: vec!["$.a IS NULL && $.b = y".to_string()]
        }
    );
}

#[test]
fn counterexamples_are_real() {
    let cases = [
        (
            V3_4_1,
            "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") }",
        ),
        (
            "{ $.errorCode = \"AccessDenied*\" }",
            "{ $.errorCode = \"Access*\" }",
        ),
        ("{ $.a = \"x*y\" && $.b != q }", "{ $.a = \"x*\" }"),
        ("{ $.n > 2 }", "{ $.n >= 2 }"),
        ("{ $.a != x }", "{ $.b = y }"),
        ("{ $.eventname = CreateVpc }", "{ $.eventName = CreateVpc }"),
    ];
    for (pt, bt) in cases {
        let (pp, bb) = (p(pt), p(bt));
        assert!(
            matches!(covers(&pp, &bb), Coverage::NotCovered { .. }),
            "{pt} vs {bt}"
        );
        let ev = counterexample(&pp, &bb)
            .unwrap_or_else(|| panic!("no counterexample for {pt} vs {bt}"));
        assert!(bb.matches(&ev) && !pp.matches(&ev), "{pt} vs {bt}: {ev}");
    }
    assert_eq!(counterexample(&p(V3_4_7), &p(V3_4_7)), None);
}

#[test]
fn widen_keeps_old_and_adds_missing() {
    let old = p("{ $.eventSource = kms.amazonaws.com && $.eventName = DisableKey }");
    let b = p(V3_4_7);
    let w = widen(&old, &b);
    assert_eq!(covers(&w, &b), Coverage::Covered);
    assert_eq!(covers(&w, &old), Coverage::Covered);
    assert_eq!(widen(&b, &old), b, "already covered: unchanged");
    // Not provable: old || b.
    let regex = p("{ $.eventName = %Disable.*% }");
    assert_eq!(
        widen(&regex, &b),
        p(&format!(
            "{{ {} || {} }}",
            &regex.canonical()[1..regex.canonical().len() - 1],
            &b.canonical()[1..b.canonical().len() - 1]
        ))
    );
}
