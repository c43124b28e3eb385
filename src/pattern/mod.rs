//! INTERIM placeholder until the real pattern engine lands (lead's scaffolding).
pub const MAX_PATTERN_LEN: usize = 1024;
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern(String);
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub position: usize,
    pub expected: String,
    pub found: String,
}
impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "at character {}: expected {}, found {}",
            self.position, self.expected, self.found
        )
    }
}
impl std::error::Error for ParseError {}
pub fn parse(text: &str) -> Result<Pattern, ParseError> {
    Ok(Pattern(
        text.chars().filter(|c| !c.is_whitespace()).collect(),
    ))
}
impl Pattern {
    pub fn canonical(&self) -> String {
        self.0.clone()
    }
    pub fn pretty(&self) -> String {
        self.0.clone()
    }
    pub fn matches(&self, _e: &serde_json::Value) -> bool {
        false
    }
    pub fn is_json(&self) -> bool {
        self.0.starts_with('{')
    }
}
#[derive(Debug, Clone, PartialEq)]
pub enum Coverage {
    Covered,
    NotCovered { missing: Vec<String> },
    CannotProve { reason: String },
}
pub fn covers(p: &Pattern, b: &Pattern) -> Coverage {
    if p == b {
        Coverage::Covered
    } else {
        Coverage::NotCovered {
            missing: vec![b.0.clone()],
        }
    }
}
pub fn widen(_old: &Pattern, b: &Pattern) -> Pattern {
    b.clone()
}
