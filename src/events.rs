//! CloudTrail events to try a pattern on (`cis-fix pattern test --events`),
//! read in the forms people have them in: the files CloudTrail delivers to
//! S3 (`{"Records": [...]}`, gzipped), JSON lines (CloudWatch Logs exports,
//! `jq -c`), a JSON array, or several of these concatenated
//! (`cat *.json.gz`, `zcat *.json.gz | ...`).

use std::io::Read;
use std::path::Path;

use serde_json::Value;

/// The first two bytes of every gzip member (RFC 1952). Compression is
/// recognised by them, not by the name: S3 downloads keep `.gz` names on
/// files some tools have already decompressed.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The path that means standard input.
pub const STDIN: &str = "-";

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("cannot read events from {origin}: {source}")]
    Io {
        origin: String,
        source: std::io::Error,
    },
    #[error("{origin}: starts like gzip but cannot be decompressed: {source}")]
    Gzip {
        origin: String,
        source: std::io::Error,
    },
    #[error("{origin}: not UTF-8 text (invalid byte at offset {offset})")]
    NotText { origin: String, offset: usize },
    /// `line` and `column` are of the decompressed text.
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// Reads `path` (`-`: standard input) and returns its events in order.
pub fn load(path: &Path) -> Result<Vec<Value>, EventsError> {
    let (origin, bytes) = if path.as_os_str() == STDIN {
        let origin = "standard input".to_string();
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|source| EventsError::Io {
                origin: origin.clone(),
                source,
            })?;
        (origin, bytes)
    } else {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| EventsError::Io {
            origin: origin.clone(),
            source,
        })?;
        (origin, bytes)
    };
    parse(&bytes, &origin)
}

/// Parses file contents; `origin` names the file in errors.
pub fn parse(bytes: &[u8], origin: &str) -> Result<Vec<Value>, EventsError> {
    let decompressed;
    let bytes = if bytes.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::new();
        // Multi: concatenated files (`cat *.json.gz`) are several members.
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|source| EventsError::Gzip {
                origin: origin.to_string(),
                source,
            })?;
        decompressed = out;
        &decompressed[..]
    } else {
        bytes
    };
    let text = std::str::from_utf8(bytes).map_err(|e| EventsError::NotText {
        origin: origin.to_string(),
        offset: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let invalid = |line: usize, column: usize, message: String| EventsError::Invalid {
        origin: origin.to_string(),
        line,
        column,
        message,
    };
    let mut events = Vec::new();
    // A stream of JSON values: one for a CloudTrail file or an array, one a
    // line for JSON lines; serde_json tracks the line of any error.
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        let start = stream.byte_offset();
        let value = match stream.next() {
            None => break,
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                return Err(invalid(e.line(), e.column(), json_message(&e)));
            }
        };
        match value {
            Value::Object(mut o) if o.contains_key("Records") => match o.remove("Records") {
                Some(Value::Array(records)) => events.extend(records),
                _ => {
                    let (line, column) = position(text, start);
                    return Err(invalid(line, column, "`Records` is not an array".into()));
                }
            },
            Value::Array(a) => events.extend(a),
            Value::Object(_) => events.push(value),
            other => {
                let (line, column) = position(text, start);
                return Err(invalid(
                    line,
                    column,
                    format!(
                        "expected an event (a JSON object), an array of them or \
                         {{\"Records\": [...]}}, found {}",
                        kind(&other)
                    ),
                ));
            }
        }
    }
    Ok(events)
}

/// serde_json's message without its " at line N column M" (the position is
/// in the prefix already).
fn json_message(e: &serde_json::Error) -> String {
    let m = e.to_string();
    let m = match m.rfind(" at line ") {
        Some(i) => m[..i].to_string(),
        None => m,
    };
    format!("not valid JSON: {m}")
}

/// 1-based line and column of the first non-blank character at or after
/// byte `offset`, where a value of the stream starts.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let rest = text.get(offset..).unwrap_or_default();
    let skipped = rest.len() - rest.trim_start().len();
    let before = text.get(..offset + skipped).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(text: &str) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).expect("compress");
        enc.finish().expect("compress")
    }

    fn names(events: &[Value]) -> Vec<&str> {
        events
            .iter()
            .map(|e| e["eventName"].as_str().unwrap_or("?"))
            .collect()
    }

    const RECORDS: &str =
        r#"{"Records": [{"eventName": "StopLogging"}, {"eventName": "GetObject"}]}"#;

    #[test]
    fn every_form_gives_the_events_in_order() {
        let forms = [
            RECORDS.to_string(),
            "{\n  \"Records\": [\n    {\"eventName\": \"StopLogging\"},\n    {\"eventName\": \"GetObject\"}\n  ]\n}\n".into(),
            r#"[{"eventName": "StopLogging"}, {"eventName": "GetObject"}]"#.into(),
            "{\"eventName\": \"StopLogging\"}\n\n{\"eventName\": \"GetObject\"}\n".into(),
            "\u{feff}{\"eventName\": \"StopLogging\"}\r\n{\"eventName\": \"GetObject\"}\r\n".into(),
        ];
        for text in forms {
            let plain = parse(text.as_bytes(), "f").unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(names(&plain), ["StopLogging", "GetObject"], "{text}");
            let zipped = parse(&gzip(&text), "f.json.gz").unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(plain, zipped, "{text}");
        }
        assert!(parse(b"", "f").expect("empty").is_empty());
        assert!(
            parse(b"{\"Records\": []}", "f")
                .expect("no records")
                .is_empty()
        );
    }

    #[test]
    fn concatenated_files_and_gzip_members_are_all_read() {
        let text = format!("{RECORDS}\n{RECORDS}");
        assert_eq!(parse(text.as_bytes(), "f").expect("parse").len(), 4);
        let mut members = gzip(RECORDS);
        members.extend(gzip(RECORDS));
        members.extend(gzip(RECORDS));
        assert_eq!(parse(&members, "f").expect("parse").len(), 6);
    }

    #[test]
    fn gzip_is_known_by_its_bytes_not_its_name() {
        // A `.gz` name on plain text, and gzip under a plain name.
        assert_eq!(
            parse(RECORDS.as_bytes(), "x.json.gz").expect("plain").len(),
            2
        );
        assert_eq!(parse(&gzip(RECORDS), "x.json").expect("gzip").len(), 2);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = parse(
            b"{\"eventName\": \"A\"}\n{\"eventName\": \"B\"}\n{\"eventName\": \n",
            "e.jsonl",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("e.jsonl:4:"), "{err}");
        assert!(err.contains("not valid JSON: EOF"), "{err}");
        let err = parse(b"{\"a\": 1}\n{\"a\": 2,}\n", "e.jsonl")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("e.jsonl:2:"), "{err}");
        assert!(!err.contains(" at line "), "{err}");
        let err = parse(b"{\"a\": 1}\n\n  42\n", "e.jsonl")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "e.jsonl:3:3: expected an event (a JSON object), an array of them or {\"Records\": [...]}, found a number"
        );
        let err = parse(b"{\"Records\": {}}", "t.json")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "t.json:1:1: `Records` is not an array");
        // A truncated CloudTrail file, gzipped: the file is named, and the
        // line is the decompressed text's.
        let cut = &RECORDS[..RECORDS.len() - 5];
        let err = parse(&gzip(cut), "t.json.gz").unwrap_err().to_string();
        assert!(err.starts_with("t.json.gz:1:"), "{err}");
        let mut broken = gzip(RECORDS);
        broken.truncate(broken.len() / 2);
        let err = parse(&broken, "t.json.gz").unwrap_err().to_string();
        assert!(err.starts_with("t.json.gz: starts like gzip"), "{err}");
        let err = parse(b"{\"a\": \"\xff\"}", "b.json")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "b.json: not UTF-8 text (invalid byte at offset 7)");
    }

    #[test]
    fn position_counts_lines_and_columns_from_one() {
        assert_eq!(position("abc", 0), (1, 1));
        assert_eq!(position("a\n  b", 1), (2, 3));
        assert_eq!(position("a\nb", 99), (2, 2));
    }
}
