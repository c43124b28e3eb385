//! Recursive-descent parser for filter patterns.
//!
//! Grammar of the JSON form (precedence: parentheses, then `&&`, then `||`):
//!
//! ```text
//! pattern    := '{' or '}'
//! or         := and ( '||' and )*
//! and        := primary ( '&&' primary )*
//! primary    := '(' or ')' | comparison
//! comparison := selector op value | selector IS (TRUE|FALSE|NULL) | selector NOT EXISTS
//! ```
//!
//! Parenthesis nesting is bounded by [`MAX_DEPTH`], so hostile input cannot
//! overflow the stack; everything else is a loop, linear in the input.

use super::Pattern;
use super::ast::{Atom, Equality, Expr, Kind, NumOp, Term, TermMode, Test};
use super::error::{END, ParseError};
use super::lexer::{Lexer, TokKind, Token, found_text, is_number, token_text};
use super::normalize::normalize;
use super::wildcard::{Glob, GlobPart};

/// Deepest parenthesis nesting accepted.
pub const MAX_DEPTH: usize = 64;

const EXPECT_OPERATOR: &str = "a comparison operator (=, !=, <, <=, >, >=, IS, NOT EXISTS)";
const EXPECT_OPERAND: &str = "a property selector (like `$.eventName`) or `(`";
const EXPECT_VALUE: &str = "a value (a quoted string, a word, a number or %regex%)";

pub(crate) fn parse(text: &str) -> Result<Pattern, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let Some(first) = chars.iter().position(|c| !c.is_whitespace()) else {
        return Ok(Pattern {
            kind: Kind::MatchAll,
        });
    };
    let end = chars
        .iter()
        .rposition(|c| !c.is_whitespace())
        .map_or(first, |i| i + 1);
    let body = &chars[first..end];
    let kind = match body {
        ['"', '"'] => Kind::MatchAll,
        ['{', ..] => Kind::Json(normalize(parse_json(&chars)?)),
        ['[', .., ']'] => Kind::SpaceDelimited(body.iter().collect()),
        ['[', ..] => return Err(ParseError::new(end, "a closing `]`", END)),
        ['%', inner @ .., '%'] if !inner.contains(&'%') => Kind::Regex(inner.iter().collect()),
        _ => {
            // An empty required term is in every event: it constrains
            // nothing, and a pattern of only such terms matches everything
            // (found by fuzzing: `"" ""` must print and reparse as one form).
            let terms: Vec<_> = parse_terms(&chars, first, end)?
                .into_iter()
                .filter(|t| !(t.mode == TermMode::Required && t.text.is_empty()))
                .collect();
            if terms.is_empty() {
                Kind::MatchAll
            } else {
                Kind::Terms(terms)
            }
        }
    };
    Ok(Pattern { kind })
}

fn parse_json(chars: &[char]) -> Result<Expr, ParseError> {
    let toks = Lexer::new(chars, 0).tokenize()?;
    let mut p = Parser { chars, toks, at: 0 };
    p.expect(&TokKind::LBrace, "`{`")?;
    let expr = p.or(0)?;
    p.expect(&TokKind::RBrace, "`&&`, `||` or `}`")?;
    p.expect(&TokKind::Eof, "the end of the pattern after `}`")?;
    Ok(expr)
}

struct Parser<'a> {
    chars: &'a [char],
    toks: Vec<Token>,
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &TokKind {
        self.toks.get(self.at).map_or(&TokKind::Eof, |t| &t.kind)
    }

    fn advance(&mut self) -> Option<Token> {
        let tok = self.toks.get(self.at).cloned();
        if self.at < self.toks.len() {
            self.at += 1;
        }
        tok
    }

    fn error(&self, expected: &str) -> ParseError {
        match self.toks.get(self.at) {
            Some(t) if t.kind != TokKind::Eof => {
                ParseError::new(t.start, expected, token_text(self.chars, t.start, t.end))
            }
            Some(t) => ParseError::new(t.start, expected, END),
            None => ParseError::new(self.chars.len(), expected, END),
        }
    }

    fn expect(&mut self, kind: &TokKind, expected: &str) -> Result<(), ParseError> {
        if self.peek() == kind {
            self.advance();
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    fn or(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let mut items = vec![self.and(depth)?];
        while *self.peek() == TokKind::Or {
            self.advance();
            items.push(self.and(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let mut items = vec![self.primary(depth)?];
        while *self.peek() == TokKind::And {
            self.advance();
            items.push(self.primary(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, ParseError> {
        match self.peek() {
            TokKind::LParen => {
                if depth >= MAX_DEPTH {
                    return Err(self.error(&format!("at most {MAX_DEPTH} levels of parentheses")));
                }
                self.advance();
                let inner = self.or(depth + 1)?;
                self.expect(&TokKind::RParen, "`&&`, `||` or `)`")?;
                Ok(inner)
            }
            TokKind::Selector(path) => {
                let path = path.clone();
                self.advance();
                Ok(Expr::Atom(Atom {
                    test: self.test()?,
                    path,
                }))
            }
            _ => Err(self.error(EXPECT_OPERAND)),
        }
    }

    /// What follows a selector: an operator and a value, `IS ...` or `NOT EXISTS`.
    fn test(&mut self) -> Result<Test, ParseError> {
        let op = match self.peek() {
            TokKind::Op(op) => op.clone(),
            TokKind::Word(w) if w.eq_ignore_ascii_case("IS") => {
                self.advance();
                return self.is_test();
            }
            TokKind::Word(w) if w.eq_ignore_ascii_case("NOT") => {
                self.advance();
                return match self.peek() {
                    TokKind::Word(w) if w.eq_ignore_ascii_case("EXISTS") => {
                        self.advance();
                        Ok(Test::NotExists)
                    }
                    _ => Err(self.error("`EXISTS` after `NOT`")),
                };
            }
            _ => return Err(self.error(EXPECT_OPERATOR)),
        };
        let num_op = match op.as_str() {
            "=" => NumOp::Eq,
            "!=" => NumOp::Ne,
            "<" => NumOp::Lt,
            "<=" => NumOp::Le,
            ">" => NumOp::Gt,
            ">=" => NumOp::Ge,
            _ => return Err(self.error(EXPECT_OPERATOR)),
        };
        self.advance();
        let equality = match num_op {
            NumOp::Eq => Some(Equality::Eq),
            NumOp::Ne => Some(Equality::Ne),
            _ => None,
        };
        let value_error = |p: &Self| match equality {
            Some(_) => p.error(EXPECT_VALUE),
            None => p.error(&format!("a number after `{op}`")),
        };
        let test = match (self.peek(), equality) {
            (TokKind::Word(w), _) if is_number(w) => match w.parse::<f64>() {
                Ok(n) if n.is_finite() => Test::Num(num_op, n),
                _ => return Err(self.error("a number within the range of a 64-bit float")),
            },
            (TokKind::Word(w), Some(eq)) => Test::Str(eq, bare_glob(w)),
            (TokKind::Quoted(g), Some(eq)) => Test::Str(eq, g.clone()),
            (TokKind::Regex(r), Some(eq)) => Test::Regex(eq, r.clone()),
            _ => return Err(value_error(self)),
        };
        self.advance();
        Ok(test)
    }

    fn is_test(&mut self) -> Result<Test, ParseError> {
        let test = match self.peek() {
            TokKind::Word(w) if w.eq_ignore_ascii_case("TRUE") => Test::IsTrue,
            TokKind::Word(w) if w.eq_ignore_ascii_case("FALSE") => Test::IsFalse,
            TokKind::Word(w) if w.eq_ignore_ascii_case("NULL") => Test::IsNull,
            _ => {
                return Err(
                    self.error("TRUE, FALSE or NULL after `IS` (`IS NOT` is not supported)")
                );
            }
        };
        self.advance();
        Ok(test)
    }
}

/// An unquoted value: every `*` is a wildcard.
fn bare_glob(w: &str) -> Glob {
    let parts: Vec<GlobPart> = w
        .chars()
        .map(|c| {
            if c == '*' {
                GlobPart::Star
            } else {
                GlobPart::Lit(c)
            }
        })
        .collect();
    Glob::from_parts(&parts)
}

/// Words and phrases of an unstructured pattern, sorted and deduplicated
/// (their order does not change what matches).
fn parse_terms(chars: &[char], start: usize, end: usize) -> Result<Vec<Term>, ParseError> {
    let mut terms = Vec::new();
    let mut i = start;
    while i < end {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let term_start = i;
        let mode = match chars[i] {
            '?' => TermMode::Optional,
            '-' => TermMode::Excluded,
            _ => TermMode::Required,
        };
        if mode != TermMode::Required {
            i += 1;
            if i >= end || chars[i].is_whitespace() {
                return Err(ParseError::new(
                    i,
                    "a term after `?` or `-`",
                    found_text(chars, i),
                ));
            }
        }
        let mut text = String::new();
        if chars[i] == '"' {
            i += 1;
            loop {
                match chars.get(i).filter(|_| i < end) {
                    None => return Err(ParseError::new(end, "a closing `\"`", END)),
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') if matches!(chars.get(i + 1), Some('"' | '\\')) && i + 1 < end => {
                        text.push(chars[i + 1]);
                        i += 2;
                    }
                    Some(c) => {
                        text.push(*c);
                        i += 1;
                    }
                }
            }
            if i < end && !chars[i].is_whitespace() {
                return Err(ParseError::new(
                    i,
                    "a space after the closing `\"`",
                    found_text(chars, i),
                ));
            }
        } else {
            while i < end && !chars[i].is_whitespace() {
                text.push(chars[i]);
                i += 1;
            }
        }
        debug_assert!(i > term_start);
        terms.push(Term { mode, text });
    }
    terms.sort();
    terms.dedup();
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn json(text: &str) -> Expr {
        match parse(text).map(|p| p.kind) {
            Ok(Kind::Json(e)) => e,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn err(text: &str) -> ParseError {
        match parse(text) {
            Err(e) => e,
            Ok(p) => panic!("{text} parsed as {p:?}"),
        }
    }

    fn atom(e: &Expr) -> &Atom {
        match e {
            Expr::Atom(a) => a,
            other => panic!("not an atom: {other:?}"),
        }
    }

    #[test]
    fn comparisons() {
        let a = json(r#"{ $.eventName = "ConsoleLogin" }"#);
        assert_eq!(
            atom(&a).test,
            Test::Str(Equality::Eq, Glob::exact("ConsoleLogin"))
        );
        assert_eq!(json("{$.eventName=ConsoleLogin}"), a);
        let a = json("{ $.eventSource = kms.amazonaws.com }");
        assert_eq!(
            atom(&a).test,
            Test::Str(Equality::Eq, Glob::exact("kms.amazonaws.com"))
        );
        let a = json(r#"{ $.x != "a\"b\\c\*d" }"#);
        assert_eq!(
            atom(&a).test,
            Test::Str(Equality::Ne, Glob::exact("a\"b\\c*d"))
        );
        let a = json("{ $.sourceIPAddress != 123.123.* }");
        assert_eq!(
            atom(&a).test,
            Test::Str(Equality::Ne, bare_glob("123.123.*"))
        );
        for (text, op, n) in [
            ("{ $.latency > 5 }", NumOp::Gt, 5.0),
            ("{ $.latency >= -1.5e2 }", NumOp::Ge, -150.0),
            ("{ $.latency < 0 }", NumOp::Lt, 0.0),
            ("{ $.latency <= 3.25 }", NumOp::Le, 3.25),
            ("{ $.latency = 7 }", NumOp::Eq, 7.0),
            ("{ $.latency != 7 }", NumOp::Ne, 7.0),
        ] {
            assert_eq!(atom(&json(text)).test, Test::Num(op, n), "{text}");
        }
        assert_eq!(
            atom(&json(r#"{ $.code = "7" }"#)).test,
            Test::Str(Equality::Eq, Glob::exact("7"))
        );
        assert_eq!(atom(&json("{ $.ok IS TRUE }")).test, Test::IsTrue);
        assert_eq!(atom(&json("{ $.ok is false }")).test, Test::IsFalse);
        assert_eq!(atom(&json("{ $.ok IS NULL }")).test, Test::IsNull);
        assert_eq!(atom(&json("{ $.ok NOT EXISTS }")).test, Test::NotExists);
        assert_eq!(
            atom(&json("{ $.m = %err[0-9]+% }")).test,
            Test::Regex(Equality::Eq, "err[0-9]+".into())
        );
    }

    #[test]
    fn selectors() {
        use super::super::ast::Step::{Any, Index, Key};
        let path = |t: &str| atom(&json(t)).path.clone();
        assert_eq!(
            path("{ $.a.b = x }").steps,
            vec![Key("a".into()), Key("b".into())]
        );
        assert_eq!(
            path("{ $.a[0] = x }").steps,
            vec![Key("a".into()), Index(0)]
        );
        assert_eq!(path("{ $.['a.b'] = x }").steps, vec![Key("a.b".into())]);
        assert_eq!(
            path(r#"{ $["a b"].c = x }"#).steps,
            vec![Key("a b".into()), Key("c".into())]
        );
        assert_eq!(
            path("{ $.a.*.b = x }").steps,
            vec![Key("a".into()), Any, Key("b".into())]
        );
        assert_eq!(path("{ $.a[*] = x }").steps, vec![Key("a".into()), Any]);
    }

    #[test]
    fn precedence_and_grouping() {
        // A || B && C  ==  A || (B && C)
        let e = json("{ $.a = 1 || $.b = 2 && $.c = 3 }");
        let Expr::Or(items) = &e else { panic!("{e:?}") };
        assert_eq!(items.len(), 2);
        assert!(matches!(items[1], Expr::And(_)));
        assert_eq!(e, json("{ ($.a = 1) || (($.b = 2) && ($.c = 3)) }"));
        assert_ne!(e, json("{ ($.a = 1 || $.b = 2) && $.c = 3 }"));
        // Nested same-operator groups flatten.
        assert_eq!(
            json("{ ($.a = x || ($.b = y || $.c = z)) }"),
            json("{ $.c = z || $.a = x || $.b = y }")
        );
    }

    #[test]
    fn other_kinds() {
        assert_eq!(parse("").unwrap().kind, Kind::MatchAll);
        assert_eq!(parse("   ").unwrap().kind, Kind::MatchAll);
        assert_eq!(parse("\"\"").unwrap().kind, Kind::MatchAll);
        assert_eq!(parse("\"\"\n\"\"").unwrap().kind, Kind::MatchAll);
        let p = parse("ERROR \"\"").unwrap();
        assert_eq!(parse(&p.canonical()).unwrap(), p);
        let Kind::Terms(t) = parse(r#"?ERROR ?"Failed authentication" -debug ERROR"#)
            .unwrap()
            .kind
        else {
            panic!()
        };
        assert_eq!(t.len(), 4);
        assert!(t.contains(&Term {
            mode: TermMode::Optional,
            text: "Failed authentication".into()
        }));
        assert!(t.contains(&Term {
            mode: TermMode::Excluded,
            text: "debug".into()
        }));
        assert!(matches!(
            parse("[ip, user, status=404]").unwrap().kind,
            Kind::SpaceDelimited(_)
        ));
        assert!(matches!(
            parse("%AUTH[A-Z]+%").unwrap().kind,
            Kind::Regex(_)
        ));
    }

    #[test]
    fn errors_have_positions() {
        let e = err("{ $.eventName == \"x\" }");
        assert_eq!(e.position, 14);
        assert_eq!(e.found, "==");
        assert_eq!(
            e.to_string(),
            "at character 14: expected a comparison operator (=, !=, <, <=, >, >=, IS, NOT EXISTS), found `==`"
        );
        assert_eq!(err("{ $.a IS NOT NULL }").position, 9);
        assert_eq!(err("{ $.a EXISTS }").found, "EXISTS");
        assert_eq!(err("{ $.a = x ").found, END);
        assert_eq!(
            err("{ $.a = x ").to_string(),
            "at character 10: expected `&&`, `||` or `}`, found end of pattern"
        );
        assert_eq!(err("{ $.a = \"x }").position, 12);
        assert_eq!(err("{ ($.a = x }").position, 11);
        assert_eq!(err("{ $.a = x & $.b = y }").position, 10);
        assert_eq!(err("{ $.a < x }").expected, "a number after `<`");
        assert_eq!(err("{ $.a < \"5\" }").position, 8);
        assert_eq!(err("{ $. = x }").position, 4);
        assert_eq!(err("{ = x }").position, 2);
        assert_eq!(err("{ $.a = x } trailing").found, "trailing");
        assert_eq!(err("{ $.a = 1e999 }").position, 8);
        assert_eq!(err("[a, b").position, 5);
        assert_eq!(err("{ é = x }").position, 2);
    }

    #[test]
    fn depth_is_bounded() {
        let deep = format!("{{ {}$.a = x{} }}", "(".repeat(64), ")".repeat(64));
        assert!(parse(&deep).is_ok());
        let too_deep = format!("{{ {}$.a = x{} }}", "(".repeat(65), ")".repeat(65));
        assert!(err(&too_deep).expected.contains("levels of parentheses"));
        let hostile = format!("{{ {}", "(".repeat(100_000));
        assert!(parse(&hostile).is_err());
    }
}
