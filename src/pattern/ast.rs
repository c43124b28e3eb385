//! The parsed form of a filter pattern.
//!
//! A [`Kind::Json`] expression is always kept normalised (see `normalize.rs`):
//! nested groups of the same operator are flattened, operands are sorted and
//! deduplicated, so two patterns that differ only in order, spacing, quoting or
//! redundant parentheses compare equal.

use super::wildcard::Glob;

/// What kind of filter pattern this is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// The empty pattern: every log event matches.
    MatchAll,
    /// `{ ... }`: a boolean expression over fields of a JSON log event.
    Json(Expr),
    /// Unstructured term pattern: `ERROR`, `"Failed authentication"`, `?A ?B`, `-term`.
    Terms(Vec<Term>),
    /// Space-delimited pattern `[a, b=...]`, kept as written (trimmed).
    SpaceDelimited(String),
    /// A standalone regex pattern `%...%`, kept as written.
    Regex(String),
}

/// One word or phrase of a term pattern.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Term {
    pub mode: TermMode,
    pub text: String,
}

/// How a term takes part in a term pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TermMode {
    /// Plain term: must occur.
    Required,
    /// `?term`: at least one of the optional terms must occur.
    Optional,
    /// `-term`: must not occur.
    Excluded,
}

/// A JSON filter expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Atom(Atom),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl Expr {
    /// Calls `f` on every atom, left to right.
    pub(crate) fn for_each_atom<'a>(&'a self, f: &mut dyn FnMut(&'a Atom)) {
        match self {
            Expr::Atom(a) => f(a),
            Expr::And(children) | Expr::Or(children) => {
                for c in children {
                    c.for_each_atom(f);
                }
            }
        }
    }
}

/// One comparison: a property selector and a test on the value it selects.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Atom {
    pub path: Path,
    pub test: Test,
}

/// A property selector such as `$.userIdentity.type` or `$.items[0]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Path {
    pub steps: Vec<Step>,
}

impl Path {
    /// Whether the selector may select more than one value (`[*]`, `.*`).
    pub(crate) fn has_wildcard(&self) -> bool {
        self.steps.iter().any(|s| matches!(s, Step::Any))
    }
}

/// One step of a property selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Step {
    /// An object member: `.name` or `.['a.b']`.
    Key(String),
    /// An array element: `[3]`.
    Index(usize),
    /// Any member or element: `.*` or `[*]`.
    Any,
}

/// `=` or `!=` for string and regex comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Equality {
    Eq,
    Ne,
}

/// Numeric comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl NumOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            NumOp::Eq => "=",
            NumOp::Ne => "!=",
            NumOp::Lt => "<",
            NumOp::Le => "<=",
            NumOp::Gt => ">",
            NumOp::Ge => ">=",
        }
    }

    /// The operator that is true exactly when this one is false (on numbers).
    pub(crate) fn complement(self) -> NumOp {
        match self {
            NumOp::Eq => NumOp::Ne,
            NumOp::Ne => NumOp::Eq,
            NumOp::Lt => NumOp::Ge,
            NumOp::Le => NumOp::Gt,
            NumOp::Gt => NumOp::Le,
            NumOp::Ge => NumOp::Lt,
        }
    }

    pub(crate) fn holds(self, left: f64, right: f64) -> bool {
        match self {
            NumOp::Eq => left == right,
            NumOp::Ne => left != right,
            NumOp::Lt => left < right,
            NumOp::Le => left <= right,
            NumOp::Gt => left > right,
            NumOp::Ge => left >= right,
        }
    }
}

/// The test an atom applies to the selected value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Test {
    /// String comparison, value may contain `*` wildcards.
    Str(Equality, Glob),
    /// Numeric comparison; only numeric JSON values take part.
    Num(NumOp, f64),
    /// `%regex%` comparison: parsed and printed, not evaluated.
    Regex(Equality, String),
    IsTrue,
    IsFalse,
    IsNull,
    NotExists,
}
