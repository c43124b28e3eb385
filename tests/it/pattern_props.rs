//! Property tests: coverage verdicts agree with evaluation on events, printing
//! round-trips, widening is sound, parsing never panics.
//!
//! Patterns and events are drawn from a small vocabulary of fields and values
//! so that fields collide, wildcards overlap and fields go missing often.

use cis_fix::pattern::{Coverage, counterexample, covers, parse, widen};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const FIELDS: [&str; 3] = ["$.a", "$.b", "$.c.d"];
const VALUES: [&str; 10] = ["x", "y", "xy", "yx", "", "x*", "*y", "*", "x*y", "*x*"];
const STRINGS: [&str; 8] = ["x", "y", "xy", "yx", "xx", "", "z", "xyx"];

/// One comparison of the benchmark fragment (plus numbers on `$.n`).
fn atom() -> impl Strategy<Value = String> {
    let string_cmp = (
        0..FIELDS.len(),
        prop_oneof![Just("="), Just("!=")],
        0..VALUES.len(),
    )
        .prop_map(|(f, op, v)| format!("{} {op} \"{}\"", FIELDS[f], VALUES[v]));
    let unquoted = (0..FIELDS.len(), 0..4usize)
        .prop_map(|(f, v)| format!("{}={}", FIELDS[f], ["x", "y*", "xy", "*x"][v]));
    let existence = (
        0..FIELDS.len(),
        prop_oneof![Just("NOT EXISTS"), Just("IS NULL")],
    )
        .prop_map(|(f, t)| format!("{} {t}", FIELDS[f]));
    let numeric = (
        prop_oneof![
            Just("="),
            Just("!="),
            Just("<"),
            Just("<="),
            Just(">"),
            Just(">=")
        ],
        0..3u8,
    )
        .prop_map(|(op, k)| format!("$.n {op} {k}"));
    prop_oneof![4 => string_cmp, 1 => unquoted, 2 => existence, 1 => numeric]
}

/// A boolean combination, written with varied parentheses and spacing.
fn expr() -> impl Strategy<Value = String> {
    atom().prop_recursive(3, 12, 4, |inner| {
        (
            prop::collection::vec(inner, 2..4),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(items, and, tight)| {
                let op = match (and, tight) {
                    (true, true) => "&&",
                    (true, false) => " && ",
                    (false, true) => "||",
                    (false, false) => " || ",
                };
                format!("({})", items.join(op))
            })
    })
}

fn pattern() -> impl Strategy<Value = String> {
    expr().prop_map(|e| format!("{{ {e} }}"))
}

fn field_value() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(Value::Null)),
        6 => (0..STRINGS.len()).prop_map(|i| Some(json!(STRINGS[i]))),
        1 => (0..4u8).prop_map(|n| Some(json!(f64::from(n) / 2.0 + 0.5))),
        1 => any::<bool>().prop_map(|b| Some(json!(b))),
        1 => Just(Some(json!({}))),
    ]
}

fn event() -> impl Strategy<Value = Value> {
    (
        field_value(),
        field_value(),
        field_value(),
        field_value(),
        any::<bool>(),
    )
        .prop_map(|(a, b, d, n, c_is_string)| {
            let mut obj = Map::new();
            for (k, v) in [("a", a), ("b", b), ("n", n)] {
                if let Some(v) = v {
                    obj.insert(k.to_string(), v);
                }
            }
            match (d, c_is_string) {
                (_, true) => {
                    obj.insert("c".into(), json!("x"));
                }
                (Some(v), false) => {
                    obj.insert("c".into(), json!({ "d": v }));
                }
                (None, false) => {}
            }
            Value::Object(obj)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn coverage_agrees_with_evaluation(p in pattern(), b in pattern(), events in prop::collection::vec(event(), 24)) {
        let (p, b) = (parse(&p).unwrap(), parse(&b).unwrap());
        match covers(&p, &b) {
            Coverage::Covered => {
                for e in &events {
                    prop_assert!(!b.matches(e) || p.matches(e), "covered, yet {e} slips through\nP = {p}\nB = {b}");
                }
            }
            Coverage::NotCovered { missing } => {
                prop_assert!(!missing.is_empty());
                // Exactness the other way: a real event B catches and P misses.
                let e = counterexample(&p, &b);
                prop_assert!(e.is_some(), "no counterexample\nP = {p}\nB = {b}");
                let e = e.unwrap_or_default();
                prop_assert!(b.matches(&e) && !p.matches(&e), "bad counterexample {e}\nP = {p}\nB = {b}");
            }
            Coverage::CannotProve { reason } => {
                prop_assert!(false, "the fragment is decidable, got CannotProve: {reason}\nP = {p}\nB = {b}");
            }
        }
    }

    #[test]
    fn canonical_round_trips(text in pattern(), events in prop::collection::vec(event(), 16)) {
        let p = parse(&text).unwrap();
        let canon = p.canonical();
        let again = parse(&canon).unwrap();
        prop_assert_eq!(&again, &p);
        prop_assert_eq!(again.canonical(), canon.clone());
        prop_assert!(!canon.contains('\n'));
        let pretty = parse(&p.pretty()).unwrap();
        prop_assert_eq!(&pretty, &p);
        for e in &events {
            prop_assert_eq!(again.matches(e), p.matches(e));
        }
    }

    #[test]
    fn widen_covers_and_keeps(p in pattern(), b in pattern(), events in prop::collection::vec(event(), 16)) {
        let (p, b) = (parse(&p).unwrap(), parse(&b).unwrap());
        let w = widen(&p, &b);
        prop_assert_eq!(covers(&w, &b), Coverage::Covered, "W = {}", w);
        prop_assert_eq!(covers(&w, &p), Coverage::Covered, "W = {}", w);
        for e in &events {
            prop_assert!(!p.matches(e) || w.matches(e));
            prop_assert!(!b.matches(e) || w.matches(e));
        }
    }

    #[test]
    fn parse_never_panics(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn parse_never_panics_on_pattern_like_text(text in "[{}()\\[\\]$.=!<>&|\"'*% a-zA-Z0-9\\\\-]{0,80}") {
        if let Ok(p) = parse(&text) {
            let canon = p.canonical();
            prop_assert_eq!(parse(&canon).map(|q| q.canonical()), Ok(canon));
        }
    }
}

#[test]
fn hostile_inputs_are_fast() {
    let start = std::time::Instant::now();
    let inputs = [
        "(".repeat(100_000),
        format!("{{ {}", "(".repeat(100_000)),
        format!("{{ {} }}", vec!["$.a = x"; 12_000].join(" || ")),
        format!("{{ {} }}", vec!["$.a = \"*x*\""; 12_000].join(" && ")),
        format!("{{ $.a = \"{}", "\\".repeat(100_000)),
        "\"".repeat(100_000),
        "? ".repeat(50_000),
        format!("{{ $.{} = x }}", "a.".repeat(50_000)),
        "%".repeat(100_000),
    ];
    for text in &inputs {
        let _ = parse(text);
    }
    // A blow-up (quadratic or worse) would take minutes; timed in release
    // builds only, where a slow machine is not taken for one.
    if !cfg!(debug_assertions) {
        assert!(
            start.elapsed().as_secs() < 10,
            "parsing took {:?}",
            start.elapsed()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    /// Adding a disjunct only widens and adding a conjunct only narrows, however
    /// the pieces are written: both must be proven Covered.
    #[test]
    fn widening_and_narrowing_are_covered(p in expr(), q in expr(), events in prop::collection::vec(event(), 8)) {
        let base = parse(&format!("{{ {p} }}")).unwrap();
        let wider = parse(&format!("{{ {q} || {p} }}")).unwrap();
        let narrower = parse(&format!("{{ {p} && {q} }}")).unwrap();
        prop_assert_eq!(covers(&wider, &base), Coverage::Covered);
        prop_assert_eq!(covers(&base, &narrower), Coverage::Covered);
        for e in &events {
            prop_assert!(!base.matches(e) || wider.matches(e));
        }
    }
}

#[test]
fn large_patterns_do_not_blow_up() {
    let start = std::time::Instant::now();
    let names: Vec<String> = (0..2000).map(|i| format!("$.eventName = E{i}")).collect();
    let big_or = parse(&format!("{{ {} }}", names.join(" || "))).unwrap();
    let big_and = parse(&format!("{{ {} }}", names.join(" && "))).unwrap();
    let distributed: Vec<String> = (0..20)
        .map(|i| format!("($.s = S && $.eventName = E{i})"))
        .collect();
    let distributed = parse(&format!("{{ {} }}", distributed.join(" || "))).unwrap();
    let b = parse("{ $.s = S && ($.eventName = E1 || $.eventName = E7) }").unwrap();
    assert_eq!(covers(&big_or, &b), Coverage::Covered);
    assert_eq!(covers(&distributed, &b), Coverage::Covered);
    // Beyond MAX_CUBES conjunctions the answer is CannotProve, quickly.
    assert!(matches!(covers(&b, &big_or), Coverage::CannotProve { .. }));
    let mid_or = parse(&format!("{{ {} }}", names[..500].join(" || "))).unwrap();
    assert!(
        matches!(covers(&b, &mid_or), Coverage::NotCovered { missing } if missing.contains(&"$.eventName = E499".to_string()))
    );
    assert_eq!(covers(&b, &big_and), Coverage::Covered);
    let _ = covers(&big_and, &big_or);
    let _ = widen(&b, &big_or);
    // Release builds only, as above.
    if !cfg!(debug_assertions) {
        assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
    }
}
