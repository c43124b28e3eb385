//! Puts JSON expressions into the one normal form that `canonical` prints.
//!
//! `&&` and `||` are commutative, associative and idempotent in CloudWatch, so
//! nested groups of the same operator are flattened, operands sorted (single
//! comparisons before parenthesised groups, then by their canonical text) and
//! duplicates dropped. A group left with one operand is replaced by it.

use super::ast::Expr;
use super::print::expr_text;

pub(crate) fn normalize(e: Expr) -> Expr {
    match e {
        Expr::Atom(_) => e,
        Expr::And(items) => group(items, true),
        Expr::Or(items) => group(items, false),
    }
}

fn group(items: Vec<Expr>, is_and: bool) -> Expr {
    let mut flat = Vec::with_capacity(items.len());
    for item in items {
        match normalize(item) {
            Expr::And(inner) if is_and => flat.extend(inner),
            Expr::Or(inner) if !is_and => flat.extend(inner),
            other => flat.push(other),
        }
    }
    let mut keyed: Vec<((bool, String), Expr)> = flat
        .into_iter()
        .map(|e| ((!matches!(e, Expr::Atom(_)), expr_text(&e)), e))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.dedup_by(|a, b| a.0 == b.0);
    let mut items: Vec<Expr> = keyed.into_iter().map(|(_, e)| e).collect();
    if items.len() == 1 {
        return items.remove(0);
    }
    if is_and {
        Expr::And(items)
    } else {
        Expr::Or(items)
    }
}
