//! Canonical and pretty printing.
//!
//! Canonical JSON form: `{ A || (B && C) }` — one space inside the braces and
//! around operators, comparisons written `$.path OP value` without
//! parentheses, nested groups always parenthesised, string values always
//! double-quoted (escaping `"`, `\` and a literal `*` with a backslash),
//! numbers bare, keywords upper case. Operands are in the order set by
//! `normalize.rs`. The empty pattern prints as the empty string; term patterns
//! print each term quoted, sorted.

use super::ast::{Atom, Equality, Expr, Kind, Path, Step, Term, TermMode, Test};
use super::lexer::is_number;
use super::wildcard::Glob;

pub(crate) fn canonical(kind: &Kind) -> String {
    match kind {
        Kind::MatchAll => String::new(),
        Kind::Json(e) => format!("{{ {} }}", expr_text(e)),
        Kind::Terms(terms) => terms.iter().map(term_text).collect::<Vec<_>>().join(" "),
        Kind::SpaceDelimited(raw) => raw.clone(),
        Kind::Regex(raw) => format!("%{raw}%"),
    }
}

/// One top-level operand per line, continuation lines led by the operator, so
/// adding or removing an operand is a one-line diff.
pub(crate) fn pretty(kind: &Kind) -> String {
    let (items, op) = match kind {
        Kind::Json(Expr::Or(items)) => (items, "||"),
        Kind::Json(Expr::And(items)) => (items, "&&"),
        _ => return canonical(kind),
    };
    let mut out = String::from("{\n");
    for (i, item) in items.iter().enumerate() {
        let lead = if i == 0 { "  " } else { op };
        out.push_str(&format!("  {lead} {}\n", operand_text(item)));
    }
    out.push('}');
    out
}

/// An expression without the surrounding braces.
pub(crate) fn expr_text(e: &Expr) -> String {
    match e {
        Expr::Atom(a) => atom_text(a, false),
        Expr::And(items) => join(items, " && "),
        Expr::Or(items) => join(items, " || "),
    }
}

fn join(items: &[Expr], sep: &str) -> String {
    items.iter().map(operand_text).collect::<Vec<_>>().join(sep)
}

fn operand_text(e: &Expr) -> String {
    match e {
        Expr::Atom(a) => atom_text(a, false),
        group => format!("({})", expr_text(group)),
    }
}

/// `$.path OP value`. With `bare_values`, string values that are plain words
/// are printed unquoted (for human-readable coverage reports).
pub(crate) fn atom_text(a: &Atom, bare_values: bool) -> String {
    let path = path_text(&a.path);
    match &a.test {
        Test::Str(eq, g) => {
            let value = bare_values
                .then(|| bare_glob(g))
                .flatten()
                .unwrap_or_else(|| quote_glob(g));
            format!("{path} {} {value}", eq_symbol(*eq))
        }
        Test::Num(op, n) => format!("{path} {} {n}", op.symbol()),
        Test::Regex(eq, r) => format!("{path} {} %{r}%", eq_symbol(*eq)),
        Test::IsTrue => format!("{path} IS TRUE"),
        Test::IsFalse => format!("{path} IS FALSE"),
        Test::IsNull => format!("{path} IS NULL"),
        Test::NotExists => format!("{path} NOT EXISTS"),
    }
}

fn eq_symbol(eq: Equality) -> &'static str {
    match eq {
        Equality::Eq => "=",
        Equality::Ne => "!=",
    }
}

pub(crate) fn path_text(p: &Path) -> String {
    let mut out = String::from("$");
    for step in &p.steps {
        match step {
            Step::Key(k)
                if !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-@:".contains(c)) =>
            {
                out.push('.');
                out.push_str(k);
            }
            Step::Key(k) => {
                out.push_str(".['");
                for c in k.chars() {
                    if c == '\'' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push_str("']");
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
            Step::Any => out.push_str("[*]"),
        }
    }
    out
}

fn quote_glob(g: &Glob) -> String {
    let mut out = String::from("\"");
    for (i, seg) in g.segments().iter().enumerate() {
        if i > 0 {
            out.push('*');
        }
        for c in seg.chars() {
            if matches!(c, '"' | '\\' | '*') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// The value unquoted when it reads back as the same string: word characters
/// `[A-Za-z0-9_.-]` and wildcard stars only, and not a number.
fn bare_glob(g: &Glob) -> Option<String> {
    let text = g.segments().join("*");
    let word_chars = g.segments().iter().all(|s| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    });
    (word_chars && !text.is_empty() && !is_number(&text)).then_some(text)
}

fn term_text(t: &Term) -> String {
    let prefix = match t.mode {
        TermMode::Required => "",
        TermMode::Optional => "?",
        TermMode::Excluded => "-",
    };
    let mut out = format!("{prefix}\"");
    for c in t.text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}
