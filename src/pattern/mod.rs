//! CloudWatch Logs metric filter patterns, understood the way CloudWatch
//! understands them rather than compared as text.
//!
//! Checking a metric filter against the CIS benchmark by regex on the pattern
//! text gives false failures for equivalent patterns written differently
//! (reordered `||` terms, spacing, quoting, extra parentheses, extra terms that
//! only widen the filter) and false passes for patterns that look right but
//! cannot fire. This module parses patterns ([`parse`]), evaluates them on
//! events ([`Pattern::matches`]), decides whether one pattern catches every
//! event another one catches ([`covers`]) and builds a widened pattern that
//! does ([`widen`]).
//!
//! # Semantics
//!
//! Following the AWS documentation "Filter pattern syntax for metric filters,
//! subscription filters, filter log events, and Live Tail" (sections "Using
//! filter patterns to match terms in JSON log events" and "in unstructured log
//! events"):
//!
//! - `{ ... }` patterns combine comparisons with `&&` and `||`; parentheses
//!   bind tightest, then `&&`, then `||` (`A || B && C` is `A || (B && C)`).
//! - String comparisons (`=`, `!=`) are case-sensitive; `*` in the value
//!   matches any run of characters (also inside quotes; `\*` is a literal star
//!   in a quoted value). They only apply to JSON strings.
//! - A bare value that reads as a number (`5`, `-1.5e3`) makes a numeric
//!   comparison, which only applies to JSON numbers: a string field compared
//!   to a number does not match. `<`, `<=`, `>`, `>=` need a number.
//! - `IS TRUE`, `IS FALSE` and `IS NULL` match the JSON values `true`, `false`
//!   and `null`; `NOT EXISTS` matches a field that is absent. `IS NOT` and a
//!   bare `EXISTS` are not CloudWatch syntax and are parse errors.
//! - **Absent fields.** Every comparison on a field that does not exist is
//!   false — `=` and `!=` alike; only `NOT EXISTS` is true. So
//!   `{ $.f != "x" }` does *not* match an event without `f`; to include such
//!   events one writes `{ ($.f != "x") || ($.f NOT EXISTS) }`. Source: the AWS
//!   page documents `NOT EXISTS` as the way to match events that lack a field,
//!   and a console test published by Classmethod (DevelopersIO, "CloudWatch
//!   Logs のメトリクスフィルタで、JSONに関するフィルターパターンを作成したときに、
//!   ログに対象の JSON 要素が存在しない場合は必ず結果がFALSEになる事象の解消方法")
//!   shows `{ $.user.phone != "08000000000" }` not matching an event without
//!   `phone`, fixed by adding `|| ($.user.phone NOT EXISTS)`. The evaluator and
//!   the coverage check use this one reading.
//! - A selector with a wildcard step (`$.a[*]`, `$.a.*.b`) selects every
//!   member or element there; a comparison holds if it holds for any selected
//!   value, `NOT EXISTS` if nothing is selected.
//! - `%regex%` values and space-delimited patterns are parsed and printed but
//!   not evaluated: [`Pattern::try_matches`] returns `None` when the answer
//!   depends on them, and [`Pattern::matches`] treats that as no match.
//! - The empty pattern (blank or `""`) matches every event. Term patterns
//!   (`ERROR`, `"Failed authentication"`, `?A ?B`, `-term`) look for their terms
//!   in the event's JSON text: plain terms must all occur, `-` terms must not,
//!   and if there are `?` terms at least one must occur.
//!
//! Patterns longer than [`MAX_PATTERN_LEN`] are accepted here (CloudWatch
//! would reject them); callers that create filters should check the length.

mod ast;
mod cover;
mod error;
mod eval;
mod lexer;
mod normalize;
mod parser;
mod print;
mod wildcard;

use std::fmt;

pub use cover::{Coverage, MAX_CUBES, counterexample, covers, widen};
pub use error::ParseError;
pub use parser::MAX_DEPTH;

/// Longest filter pattern CloudWatch accepts, in characters.
pub const MAX_PATTERN_LEN: usize = 1024;

/// A parsed filter pattern, kept in normal form: two patterns that differ only
/// in operand order, spacing, quoting or redundant parentheses are equal.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub(crate) kind: ast::Kind,
}

/// Parses a filter pattern. Never panics; nesting deeper than [`MAX_DEPTH`]
/// parentheses is an error; linear in the input length.
pub fn parse(text: &str) -> Result<Pattern, ParseError> {
    parser::parse(text)
}

impl Pattern {
    /// One canonical single-line form, e.g.
    /// `{ $.eventSource = "kms.amazonaws.com" && ($.eventName = "DisableKey" || $.eventName = "ScheduleKeyDeletion") }`.
    ///
    /// Comparisons are unparenthesised, nested groups parenthesised, strings
    /// always double-quoted, operands sorted (comparisons before groups, then
    /// by text) and deduplicated. `parse(canonical)` gives back an equal
    /// pattern, so canonical text is a fixpoint.
    pub fn canonical(&self) -> String {
        print::canonical(&self.kind)
    }

    /// The canonical form over several lines, one top-level operand per line,
    /// for line diffs in a plan. A pattern with one comparison is one line.
    pub fn pretty(&self) -> String {
        print::pretty(&self.kind)
    }

    /// Does this filter fire on this event (one CloudTrail record)? Where
    /// the answer cannot be computed (regex values, space-delimited patterns)
    /// this says no; see [`Pattern::try_matches`].
    pub fn matches(&self, event: &serde_json::Value) -> bool {
        self.try_matches(event).unwrap_or(false)
    }

    /// Like [`Pattern::matches`], but `None` when the answer depends on
    /// something not evaluated here (a `%regex%` value, a space-delimited
    /// pattern).
    pub fn try_matches(&self, event: &serde_json::Value) -> Option<bool> {
        eval::eval(&self.kind, event)
    }

    /// Whether this is a `{ ... }` JSON pattern.
    pub fn is_json(&self) -> bool {
        matches!(self.kind, ast::Kind::Json(_))
    }

    /// Whether this is the empty pattern, which matches every event.
    pub fn matches_everything(&self) -> bool {
        self.kind == ast::Kind::MatchAll
    }
}

impl fmt::Display for Pattern {
    /// The canonical form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

#[cfg(test)]
mod tests;
