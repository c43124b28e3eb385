//! Who, when and which run: what a lock and a journal line record about an
//! apply, and where cis-fix keeps its state on this machine. Std only, so
//! recording a run needs no clock, random or user crate.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

/// Now, in RFC 3339 (UTC), as locks and journals record it.
pub fn now() -> String {
    DateTime::from(SystemTime::now())
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// A random id in UUID form (version 4 layout): a lock's id must not be
/// guessable from another run's, and two runs must never share one. Std's
/// `RandomState` is seeded from the OS's random source once per process and
/// stepped per instance; the time and pid are mixed in as well.
pub fn random_id() -> String {
    let word = |salt: u64| {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(salt);
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.write_u32(std::process::id());
        h.finish()
    };
    let (a, b) = (word(1), word(2));
    // Version 4, variant 10xx, as a UUID reader expects.
    let a = (a & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// `user@host`, as Terraform names a lock's holder: enough for a person to
/// find who is running an apply.
pub fn who() -> String {
    let user = ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into());
    format!("{user}@{}", host())
}

/// This machine's name, from the kernel where it says it, else the
/// environment.
pub fn host() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| {
            std::fs::read_to_string(p)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        })
        .or_else(|| {
            ["HOSTNAME", "COMPUTERNAME"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        })
        .unwrap_or_else(|| "unknown-host".into())
}

/// Where cis-fix keeps state on this machine (locks, the journal):
/// `$XDG_STATE_HOME/cis-fix`, else `~/.local/state/cis-fix` (the XDG
/// default), else `.cis-fix` in the working directory when there is no home.
pub fn state_dir() -> PathBuf {
    let from = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(s) = from("XDG_STATE_HOME") {
        return s.join("cis-fix");
    }
    if let Some(h) = from("HOME").or_else(|| from("USERPROFILE")) {
        return h.join(".local").join("state").join("cis-fix");
    }
    PathBuf::from(".cis-fix")
}

/// Whether process `pid` is alive on this machine, where that can be told
/// (Linux's /proc); `None` elsewhere.
pub fn process_alive(pid: u32) -> Option<bool> {
    let proc = std::path::Path::new("/proc");
    if !proc.join("self").exists() {
        return None;
    }
    Some(proc.join(pid.to_string()).exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_shaped_and_differ() {
        let a = random_id();
        let b = random_id();
        assert_ne!(a, b);
        let parts: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "{a}");
        assert_eq!(&a[14..15], "4", "{a}");
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn now_is_rfc3339_utc() {
        let t = now();
        assert!(t.ends_with('Z') && t.contains('T'), "{t}");
        assert!(DateTime::from_str(&t, Format::DateTime).is_ok(), "{t}");
    }

    #[test]
    fn this_process_is_alive() {
        if let Some(alive) = process_alive(std::process::id()) {
            assert!(alive);
        }
    }
}
