//! Diagnostic logs on stderr, off unless asked for with `-v` or
//! `CIS_FIX_LOG`, so that stdout carries the plan or JSON alone and a run
//! without them prints exactly what it always did.
//!
//! `-v` logs each AWS call cis-fix makes (info), `-vv` adds the SDK's own
//! detail: credentials, endpoints, retries, causes of failures (debug), and
//! `-vvv` everything, requests and responses included (trace).
//! `CIS_FIX_LOG` takes an `EnvFilter` directive string such as `debug` or
//! `cis_fix=debug,aws_smithy_runtime=trace`.

use std::ffi::OsStr;
use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::ParseError;

/// The environment variable holding a filter directive string.
pub const ENV: &str = "CIS_FIX_LOG";

/// The target of the one line each AWS call logs, so that
/// `CIS_FIX_LOG=cis_fix::aws=info` shows the calls and nothing else.
pub const CALLS: &str = "cis_fix::aws";

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The parser's reason in the message, not as a source: for a bad level
    /// it repeats its own message as its source, which would print twice.
    #[error("{ENV}={value:?} is not a valid log filter: {reason}")]
    BadFilter { value: String, reason: String },
    #[error("{ENV} is not valid UTF-8")]
    NotUnicode,
    #[error("cannot start logging")]
    Init(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The level `-v` given `count` times selects; none without the flag.
pub fn level(count: u8) -> Option<&'static str> {
    match count {
        0 => None,
        1 => Some("info"),
        2 => Some("debug"),
        _ => Some("trace"),
    }
}

/// The filter for a run from the `-v` count and `CIS_FIX_LOG`, or `None`
/// when nothing is to be logged.
///
/// The flag's level comes last, so it replaces a bare level in the variable
/// (the command line wins, as for every other setting) while the variable's
/// per-target directives still refine it: `-v` with
/// `CIS_FIX_LOG=aws_smithy_runtime=trace` is `aws_smithy_runtime=trace,info`.
pub fn directives(count: u8, env: Option<&str>) -> Option<String> {
    let env = env.map(str::trim).filter(|e| !e.is_empty());
    match (env, level(count)) {
        (None, None) => None,
        (Some(e), None) => Some(e.to_string()),
        (None, Some(l)) => Some(l.to_string()),
        (Some(e), Some(l)) => Some(format!("{e},{l}")),
    }
}

/// Colour only on a terminal, and never when `NO_COLOR` is set to anything
/// but the empty string (<https://no-color.org>), as for the plan itself.
pub fn colour(stderr_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// The filter for a directive string, with an error naming the variable.
pub fn filter(directives: &str) -> Result<EnvFilter, LogError> {
    EnvFilter::builder()
        .parse(directives)
        .map_err(|e: ParseError| LogError::BadFilter {
            value: directives.to_string(),
            reason: e.to_string(),
        })
}

/// Starts logging to stderr when `-v` or `CIS_FIX_LOG` asks for it; installs
/// nothing otherwise, so that a plain run writes nothing more than before.
/// Returns whether logging is on.
pub fn init(verbose: u8) -> Result<bool, LogError> {
    let env = match std::env::var(ENV) {
        Ok(v) => Some(v),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => return Err(LogError::NotUnicode),
    };
    let Some(directives) = directives(verbose, env.as_deref()) else {
        return Ok(false);
    };
    let ansi = colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    tracing_subscriber::fmt()
        .with_env_filter(filter(&directives)?)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init()
        .map_err(LogError::Init)?;
    tracing::debug!(filter = %directives, ansi, "logging on");
    Ok(true)
}

/// Whether a log subscriber is installed, e.g. for the progress spinner to
/// stay out of the way of log lines on the same terminal.
pub fn active() -> bool {
    tracing::dispatcher::has_been_set()
}

/// An error and its sources on one line, `outer: inner: root`, without the
/// debug dump `DisplayErrorContext` appends (that is for the debug level).
pub fn causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_logged_unless_asked() {
        assert_eq!(directives(0, None), None);
        assert_eq!(directives(0, Some("")), None);
        assert_eq!(directives(0, Some("  ")), None);
    }

    #[test]
    fn each_v_is_one_level_more() {
        assert_eq!(directives(1, None).as_deref(), Some("info"));
        assert_eq!(directives(2, None).as_deref(), Some("debug"));
        assert_eq!(directives(3, None).as_deref(), Some("trace"));
        assert_eq!(directives(9, None).as_deref(), Some("trace"));
    }

    #[test]
    fn the_variable_alone_is_used_as_given() {
        assert_eq!(directives(0, Some("debug")).as_deref(), Some("debug"));
        assert_eq!(
            directives(0, Some(" cis_fix=debug,aws_smithy_runtime=trace ")).as_deref(),
            Some("cis_fix=debug,aws_smithy_runtime=trace")
        );
    }

    #[test]
    fn the_flag_level_comes_after_the_variable() {
        assert_eq!(
            directives(1, Some("aws_smithy_runtime=trace")).as_deref(),
            Some("aws_smithy_runtime=trace,info")
        );
        assert_eq!(directives(2, Some("warn")).as_deref(), Some("warn,debug"));
    }

    /// What the ordering above is for: in an `EnvFilter` a later bare level
    /// replaces an earlier one, and a per-target directive beats a bare level.
    #[test]
    fn the_flag_wins_and_the_variable_refines() {
        use tracing::Level;
        // [cis_fix at info, cis_fix at debug, the SDK at trace]
        let enabled = |count: u8, env: &str| {
            let dirs = directives(count, Some(env)).expect("on");
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter(filter(&dirs).expect("valid"))
                .with_writer(std::io::sink)
                .finish();
            tracing::subscriber::with_default(subscriber, || {
                [
                    tracing::enabled!(target: "cis_fix", Level::INFO),
                    tracing::enabled!(target: "cis_fix", Level::DEBUG),
                    tracing::enabled!(target: "aws_smithy_runtime", Level::TRACE),
                ]
            })
        };
        assert_eq!(enabled(0, "debug"), [true, true, false]);
        assert_eq!(enabled(1, "debug"), [true, false, false]);
        assert_eq!(enabled(3, "warn"), [true, true, true]);
        assert_eq!(enabled(1, "aws_smithy_runtime=trace"), [true, false, true]);
    }

    #[test]
    fn a_bad_directive_names_the_variable() {
        let e = filter("cis_fix=loud").expect_err("bad level");
        let e = e.to_string();
        assert!(
            e.starts_with("CIS_FIX_LOG=\"cis_fix=loud\" is not a valid log filter: "),
            "{e}"
        );
        assert!(filter("cis_fix=debug,aws_smithy_runtime=trace").is_ok());
    }

    #[test]
    fn causes_on_one_line() {
        let root = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = LogError::Init(Box::new(root));
        assert_eq!(causes(&e), "cannot start logging: refused");
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some(OsStr::new(""))));
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, None));
    }
}
