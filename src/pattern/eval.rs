//! Evaluating a pattern against one log event.
//!
//! Results are three-valued: `None` means "cannot evaluate here" (regex
//! values, space-delimited patterns), so an unknown never silently turns into a
//! match. Matching a JSON pattern walks pre-parsed selectors and compares
//! borrowed strings: no allocation per event.

use serde_json::Value;

use super::ast::{Atom, Equality, Expr, Kind, Path, Step, Term, TermMode, Test};

pub(crate) fn eval(kind: &Kind, event: &Value) -> Option<bool> {
    match kind {
        Kind::MatchAll => Some(true),
        Kind::Json(e) => eval_expr(e, event),
        Kind::Terms(terms) => Some(eval_terms(terms, &event.to_string())),
        Kind::SpaceDelimited(_) | Kind::Regex(_) => None,
    }
}

fn eval_expr(e: &Expr, event: &Value) -> Option<bool> {
    match e {
        Expr::Atom(a) => eval_atom(a, event, &mut None),
        Expr::And(items) => {
            let mut result = Some(true);
            let mut cache = None;
            for item in items {
                match eval_item(item, event, &mut cache) {
                    Some(false) => return Some(false),
                    None => result = None,
                    Some(true) => {}
                }
            }
            result
        }
        Expr::Or(items) => {
            let mut result = Some(false);
            let mut cache = None;
            for item in items {
                match eval_item(item, event, &mut cache) {
                    Some(true) => return Some(true),
                    None => result = None,
                    Some(false) => {}
                }
            }
            result
        }
    }
}

/// The last selector resolved among a group's operands and its value.
/// Normal form sorts operands by text, so comparisons on the same field sit
/// next to each other and share one lookup (`$.eventName = A || ... = P`).
type Resolved<'e, 'v> = Option<(&'e Path, Option<&'v Value>)>;

fn eval_item<'e, 'v>(e: &'e Expr, event: &'v Value, cache: &mut Resolved<'e, 'v>) -> Option<bool> {
    match e {
        Expr::Atom(a) => eval_atom(a, event, cache),
        group => eval_expr(group, event),
    }
}

fn eval_atom<'e, 'v>(a: &'e Atom, event: &'v Value, cache: &mut Resolved<'e, 'v>) -> Option<bool> {
    if a.path.has_wildcard() {
        return eval_wildcard(&a.path.steps, &a.test, event);
    }
    let value = match cache {
        Some((path, value)) if **path == a.path => *value,
        _ => {
            let value = resolve(event, &a.path.steps);
            *cache = Some((&a.path, value));
            value
        }
    };
    test_value(&a.test, value)
}

/// The value at a selector without wildcards.
fn resolve<'v>(mut v: &'v Value, steps: &[Step]) -> Option<&'v Value> {
    for step in steps {
        v = match (step, v) {
            (Step::Key(k), Value::Object(map)) => map.get(k)?,
            (Step::Index(i), Value::Array(items)) => items.get(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

/// A selector with `*` selects every member/element at that step. A test
/// holds if it holds for any selected value; `NOT EXISTS` holds if nothing is
/// selected.
fn eval_wildcard(steps: &[Step], test: &Test, event: &Value) -> Option<bool> {
    if *test == Test::NotExists {
        let mut found = false;
        visit(event, steps, &mut |_| {
            found = true;
            Some(true)
        });
        return Some(!found);
    }
    visit(event, steps, &mut |v| test_value(test, Some(v)))
}

/// Calls `f` on each selected value until one gives `Some(true)`.
fn visit(v: &Value, steps: &[Step], f: &mut dyn FnMut(&Value) -> Option<bool>) -> Option<bool> {
    let Some((step, rest)) = steps.split_first() else {
        return f(v);
    };
    let mut result = Some(false);
    let mut take = |child: &Value| match visit(child, rest, f) {
        Some(true) => true,
        None => {
            result = None;
            false
        }
        Some(false) => false,
    };
    let hit = match (step, v) {
        (Step::Key(k), Value::Object(map)) => map.get(k).is_some_and(&mut take),
        (Step::Index(i), Value::Array(items)) => items.get(*i).is_some_and(&mut take),
        (Step::Any, Value::Object(map)) => map.values().any(&mut take),
        (Step::Any, Value::Array(items)) => items.iter().any(&mut take),
        _ => false,
    };
    if hit { Some(true) } else { result }
}

/// Whether `test` holds for the selected value (`None`: nothing selected).
///
/// String comparisons (`=`, `!=`) hold only for JSON strings and numeric
/// comparisons only for JSON numbers; every comparison is false on a missing
/// field, which only `NOT EXISTS` matches (see the module docs).
pub(crate) fn test_value(test: &Test, v: Option<&Value>) -> Option<bool> {
    Some(match (test, v) {
        (Test::NotExists, v) => v.is_none(),
        (_, None) => false,
        (Test::Str(Equality::Eq, g), Some(Value::String(s))) => g.matches(s),
        (Test::Str(Equality::Ne, g), Some(Value::String(s))) => !g.matches(s),
        (Test::Num(op, k), Some(Value::Number(n))) => n.as_f64().is_some_and(|n| op.holds(n, *k)),
        (Test::Regex(..), Some(Value::String(_))) => return None,
        (Test::IsTrue, Some(v)) => *v == Value::Bool(true),
        (Test::IsFalse, Some(v)) => *v == Value::Bool(false),
        (Test::IsNull, Some(v)) => v.is_null(),
        _ => false,
    })
}

/// Term patterns look for their words in the event's JSON text.
fn eval_terms(terms: &[Term], text: &str) -> bool {
    let mut any_optional = false;
    let mut optional_hit = false;
    for t in terms {
        let found = text.contains(t.text.as_str());
        match t.mode {
            TermMode::Required if !found => return false,
            TermMode::Excluded if found => return false,
            TermMode::Optional => {
                any_optional = true;
                optional_hit |= found;
            }
            _ => {}
        }
    }
    !any_optional || optional_hit
}
