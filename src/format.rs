//! The version stamp of every file cis-fix writes and reads back (snapshots,
//! JSON plans): one type, one check, so an old or foreign file gets the same
//! clear message whichever kind it is.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `major.minor`: minor versions only add fields. cis-fix reads files of
/// its own major and of its minor or an older one (whose new fields take
/// their defaults); a newer minor was written by a newer cis-fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FormatVersion {
    pub major: u32,
    pub minor: u32,
}

impl FormatVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        FormatVersion { major, minor }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let (a, b) = s.split_once('.')?;
        Some(FormatVersion {
            major: a.parse().ok()?,
            minor: b.parse().ok()?,
        })
    }

    /// Whether a reader of `self` understands a file stamped `found`.
    pub fn reads(self, found: FormatVersion) -> bool {
        self.major == found.major && found.minor <= self.minor
    }
}

impl fmt::Display for FormatVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for FormatVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FormatVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FormatVersion::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a format version")))
    }
}

/// Why a file cis-fix wrote could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {what} file {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: not a cis-fix {what}: {message}")]
    Parse {
        what: &'static str,
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path}: {what} format_version {found} is not supported (this cis-fix reads {expected}); {remedy}"
    )]
    Version {
        what: &'static str,
        path: String,
        found: String,
        expected: FormatVersion,
        remedy: &'static str,
    },
    #[error("{path}: {message}")]
    Other { path: String, message: String },
}

/// What kind of file is being read, for messages.
#[derive(Debug, Clone, Copy)]
pub struct FileKind {
    pub what: &'static str,
    pub version: FormatVersion,
    /// What to do about a file of another version.
    pub remedy: &'static str,
    /// A top-level field every file of this kind has, and what to say when
    /// it is missing but another kind's is there: (its field, the advice).
    pub marker: &'static str,
    pub others: &'static [(&'static str, &'static str)],
}

/// Parses `text` as a file of `kind`: the version is checked first, so an
/// old file gets the version message rather than a complaint about a field
/// that moved.
pub fn load<T: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
    kind: FileKind,
) -> Result<T, FileError> {
    let parse_err = |e: serde_json::Error| FileError::Parse {
        what: kind.what,
        path: origin.to_string(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    };
    let raw: serde_json::Value = serde_json::from_str(text).map_err(parse_err)?;
    if raw.get(kind.marker).is_none()
        && let Some((_, advice)) = kind.others.iter().find(|(m, _)| raw.get(*m).is_some())
    {
        return Err(FileError::Other {
            path: origin.to_string(),
            message: advice.to_string(),
        });
    }
    let found = raw.get("format_version");
    match found
        .and_then(|v| v.as_str())
        .and_then(FormatVersion::parse)
    {
        Some(v) if kind.version.reads(v) => {}
        _ => {
            return Err(match found {
                None => FileError::Parse {
                    what: kind.what,
                    path: origin.to_string(),
                    line: 1,
                    column: 1,
                    message: "missing field `format_version`".into(),
                },
                Some(v) => FileError::Version {
                    what: kind.what,
                    path: origin.to_string(),
                    found: match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                    expected: kind.version,
                    remedy: kind.remedy,
                },
            });
        }
    }
    // Parsed again from the text (not the value) so errors have positions.
    serde_json::from_str(text).map_err(parse_err)
}

/// serde_json appends " at line L column C"; the error says where already.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: FileKind = FileKind {
        what: "snapshot",
        version: FormatVersion::new(2, 0),
        remedy: "take a new one",
        marker: "x",
        others: &[("changes", "this is a plan; use show")],
    };

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        format_version: FormatVersion,
        x: u32,
    }

    #[test]
    fn version_round_trips_and_is_checked_first() {
        let v = FormatVersion::new(2, 1);
        assert_eq!(serde_json::to_string(&v).expect("ser"), "\"2.1\"");
        assert!(FormatVersion::new(2, 1).reads(FormatVersion::new(2, 0)));
        assert!(!FormatVersion::new(2, 0).reads(v));
        assert!(load::<Doc>(r#"{"format_version":"2.0","x":1}"#, "f", KIND).is_ok());
        let newer = load::<Doc>(r#"{"format_version":"2.3","x":1}"#, "f", KIND).unwrap_err();
        assert!(
            newer
                .to_string()
                .contains("format_version 2.3 is not supported"),
            "{newer}"
        );
        let e = load::<Doc>(r#"{"format_version":1,"y":1}"#, "f.json", KIND).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.json: snapshot format_version 1 is not supported (this cis-fix reads 2.0); take a new one"
        );
        let e = load::<Doc>(r#"{"x":1}"#, "f.json", KIND).unwrap_err();
        assert!(
            e.to_string().contains("missing field `format_version`"),
            "{e}"
        );
        let e = load::<Doc>(r#"{"changes": []}"#, "p.json", KIND).unwrap_err();
        assert_eq!(e.to_string(), "p.json: this is a plan; use show");
        let e = load::<Doc>(
            "{\n\"format_version\": \"2.0\", \"x\": \"no\"}",
            "t.json",
            KIND,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("t.json:2:"), "{e}");
        let e = load::<Doc>("{\n\"format_version\":", "cut.json", KIND).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("cut.json:2:"), "{text}");
        assert!(!text.contains(" at line "), "position said twice: {text}");
    }
}
