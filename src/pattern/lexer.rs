//! Splits the body of a JSON filter pattern into tokens.
//!
//! Positions are character offsets into the whole pattern text, so error
//! messages point at what the user typed.

use super::ast::{Path, Step};
use super::error::{END, ParseError};
use super::wildcard::{Glob, GlobPart};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokKind {
    LBrace,
    RBrace,
    LParen,
    RParen,
    And,
    Or,
    /// A run of `=`, `!`, `<`, `>`; the parser checks it is a valid operator.
    Op(String),
    Selector(Path),
    /// A double-quoted string value.
    Quoted(Glob),
    /// `%...%`, without the percent signs.
    Regex(String),
    /// An unquoted word: a bare value, a number, or a keyword (IS, NOT, ...).
    Word(String),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: TokKind,
    /// First character of the token.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
}

/// Characters that end a bare word.
fn ends_word(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '(' | ')' | '{' | '}' | '&' | '|' | '"' | '=' | '!' | '<' | '>'
        )
}

/// Characters allowed in an unquoted property name.
fn is_key_char(c: char) -> bool {
    !c.is_whitespace()
        && !matches!(
            c,
            '.' | '['
                | ']'
                | '('
                | ')'
                | '{'
                | '}'
                | '&'
                | '|'
                | '"'
                | '\''
                | '='
                | '!'
                | '<'
                | '>'
                | '%'
                | ','
                | '*'
        )
}

/// Longest token text quoted back in an error message.
const MAX_FOUND: usize = 24;

pub(crate) struct Lexer<'a> {
    chars: &'a [char],
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(chars: &'a [char], pos: usize) -> Self {
        Lexer { chars, pos }
    }

    pub(crate) fn tokenize(mut self) -> Result<Vec<Token>, ParseError> {
        let mut out = Vec::new();
        loop {
            let tok = self.next_token()?;
            let done = tok.kind == TokKind::Eof;
            out.push(tok);
            if done {
                return Ok(out);
            }
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn error_here(&self, expected: &str) -> ParseError {
        ParseError::new(self.pos, expected, found_text(self.chars, self.pos))
    }

    fn next_token(&mut self) -> Result<Token, ParseError> {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Ok(Token {
                kind: TokKind::Eof,
                start,
                end: start,
            });
        };
        let kind = match c {
            '{' => self.single(TokKind::LBrace),
            '}' => self.single(TokKind::RBrace),
            '(' => self.single(TokKind::LParen),
            ')' => self.single(TokKind::RParen),
            '&' | '|' => {
                if self.peek_at(1) == Some(c) {
                    self.pos += 2;
                    if c == '&' { TokKind::And } else { TokKind::Or }
                } else {
                    let expected = if c == '&' { "`&&`" } else { "`||`" };
                    return Err(ParseError::new(start, expected, c.to_string()));
                }
            }
            '=' | '!' | '<' | '>' => {
                let mut op = String::new();
                while let Some(o @ ('=' | '!' | '<' | '>')) = self.peek() {
                    op.push(o);
                    self.pos += 1;
                }
                TokKind::Op(op)
            }
            '$' => TokKind::Selector(self.selector()?),
            '"' => TokKind::Quoted(self.quoted()?),
            '%' => self.regex()?,
            _ => {
                let mut word = String::new();
                while let Some(w) = self.peek().filter(|w| !ends_word(*w)) {
                    word.push(w);
                    self.pos += 1;
                }
                TokKind::Word(word)
            }
        };
        Ok(Token {
            kind,
            start,
            end: self.pos,
        })
    }

    fn single(&mut self, kind: TokKind) -> TokKind {
        self.pos += 1;
        kind
    }

    /// `$` followed by `.name`, `.*`, `[n]`, `[*]`, `['name']` or `.['name']` steps.
    fn selector(&mut self) -> Result<Path, ParseError> {
        self.pos += 1; // '$'
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some('.') => {
                    self.pos += 1;
                    match self.peek() {
                        Some('[') => steps.push(self.bracket()?),
                        Some('*') => {
                            self.pos += 1;
                            steps.push(Step::Any);
                        }
                        Some(c) if is_key_char(c) => {
                            let mut key = String::new();
                            while let Some(k) = self.peek().filter(|k| is_key_char(*k)) {
                                key.push(k);
                                self.pos += 1;
                            }
                            steps.push(Step::Key(key));
                        }
                        _ => return Err(self.error_here("a property name after `.`")),
                    }
                }
                Some('[') => steps.push(self.bracket()?),
                _ => break,
            }
        }
        if steps.is_empty() {
            return Err(self.error_here("a property selector like `$.eventName`"));
        }
        Ok(Path { steps })
    }

    /// `[3]`, `[*]`, `['a.b']` or `["a.b"]`.
    fn bracket(&mut self) -> Result<Step, ParseError> {
        self.pos += 1; // '['
        let step = match self.peek() {
            Some('*') => {
                self.pos += 1;
                Step::Any
            }
            Some(q @ ('\'' | '"')) => {
                self.pos += 1;
                let mut key = String::new();
                loop {
                    match self.peek() {
                        None => return Err(self.error_here(&format!("a closing `{q}`"))),
                        Some('\\') if self.peek_at(1).is_some() => {
                            if let Some(e) = self.peek_at(1) {
                                key.push(e);
                            }
                            self.pos += 2;
                        }
                        Some(c) if c == q => {
                            self.pos += 1;
                            break;
                        }
                        Some(c) => {
                            key.push(c);
                            self.pos += 1;
                        }
                    }
                }
                Step::Key(key)
            }
            Some(d) if d.is_ascii_digit() => {
                let start = self.pos;
                let mut n: usize = 0;
                while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
                    n = match n.checked_mul(10).and_then(|n| n.checked_add(d as usize)) {
                        Some(n) => n,
                        None => {
                            return Err(ParseError::new(
                                start,
                                "an array index that fits in memory",
                                found_text(self.chars, start),
                            ));
                        }
                    };
                    self.pos += 1;
                }
                Step::Index(n)
            }
            _ => {
                return Err(
                    self.error_here("an array index, `*` or a quoted property name after `[`")
                );
            }
        };
        if self.peek() != Some(']') {
            return Err(self.error_here("`]`"));
        }
        self.pos += 1;
        Ok(step)
    }

    /// A double-quoted value. `\"`, `\\` and `\*` are escapes (the last a
    /// literal star); any other backslash is kept as written.
    fn quoted(&mut self) -> Result<Glob, ParseError> {
        self.pos += 1; // '"'
        let mut parts = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.error_here("a closing `\"`")),
                Some('"') => {
                    self.pos += 1;
                    return Ok(Glob::from_parts(&parts));
                }
                Some('\\') => match self.peek_at(1) {
                    Some(e @ ('"' | '\\' | '*')) => {
                        parts.push(GlobPart::Lit(e));
                        self.pos += 2;
                    }
                    _ => {
                        parts.push(GlobPart::Lit('\\'));
                        self.pos += 1;
                    }
                },
                Some('*') => {
                    parts.push(GlobPart::Star);
                    self.pos += 1;
                }
                Some(c) => {
                    parts.push(GlobPart::Lit(c));
                    self.pos += 1;
                }
            }
        }
    }

    fn regex(&mut self) -> Result<TokKind, ParseError> {
        self.pos += 1; // '%'
        let mut body = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error_here("a closing `%`")),
                Some('%') => {
                    self.pos += 1;
                    return Ok(TokKind::Regex(body));
                }
                Some(c) => {
                    body.push(c);
                    self.pos += 1;
                }
            }
        }
    }
}

/// The text of the token starting at `pos`, shortened, for error messages.
pub(crate) fn found_text(chars: &[char], pos: usize) -> String {
    let Some(&first) = chars.get(pos) else {
        return END.to_string();
    };
    let mut end = pos + 1;
    if first.is_alphanumeric() || first == '$' || first == '_' {
        while chars.get(end).is_some_and(|c| !ends_word(*c)) {
            end += 1;
        }
    } else if matches!(first, '=' | '!' | '<' | '>') {
        while chars
            .get(end)
            .is_some_and(|c| matches!(c, '=' | '!' | '<' | '>'))
        {
            end += 1;
        }
    }
    token_text(chars, pos, end)
}

/// `chars[start..end]` as a string, cut to a readable length.
pub(crate) fn token_text(chars: &[char], start: usize, end: usize) -> String {
    if start >= chars.len() {
        return END.to_string();
    }
    let end = end.min(chars.len()).max(start + 1);
    let mut text: String = chars[start..end.min(start + MAX_FOUND)].iter().collect();
    if end > start + MAX_FOUND {
        text.push('…');
    }
    text
}

/// JSON-style number: `-?digits(.digits)?([eE][+-]?digits)?`. Here, below
/// the parser and the printer (which quotes values that would read back as
/// numbers), so that neither imports the other.
pub(crate) fn is_number(w: &str) -> bool {
    let b = w.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}
