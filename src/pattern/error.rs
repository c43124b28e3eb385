//! Parse errors with the character position where parsing stopped.

use std::fmt;

/// Text used in [`ParseError::found`] when the pattern ended too early.
pub(crate) const END: &str = "end of pattern";

/// Why a pattern could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Character offset (0-based, in chars, not bytes) where the problem is.
    pub position: usize,
    /// What the parser was looking for, e.g. "a comparison operator (=, !=, ...)".
    pub expected: String,
    /// The text found there, or "end of pattern".
    pub found: String,
}

impl ParseError {
    pub(crate) fn new(
        position: usize,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        ParseError {
            position,
            expected: expected.into(),
            found: found.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.found == END {
            write!(
                f,
                "at character {}: expected {}, found {}",
                self.position, self.expected, END
            )
        } else {
            write!(
                f,
                "at character {}: expected {}, found `{}`",
                self.position, self.expected, self.found
            )
        }
    }
}

impl std::error::Error for ParseError {}
