//! Standard output for the plan, JSON and listings. A reader that goes away
//! (`cis-fix controls | head -1`) ends the output quietly, as ripgrep does,
//! never with a panic; any other write error (a full disk) is reported once
//! at the end and makes the run fail, so a truncated file is never taken
//! for a whole one.

use std::io::{ErrorKind, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);
static FAILED: Mutex<Option<String>> = Mutex::new(None);

pub fn print(text: &str) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != ErrorKind::BrokenPipe {
            let mut failed = FAILED.lock().unwrap_or_else(|p| p.into_inner());
            failed.get_or_insert_with(|| e.to_string());
        }
    }
}

/// Standard error, for errors, warnings and notes: a closed or failing
/// stderr must not turn a run into a panic, and there is nowhere left to
/// report it, so the text is dropped.
pub fn eprint(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// Why writing to stdout failed, other than its reader going away.
pub fn failure() -> Option<String> {
    FAILED.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// `print!` to stdout, quietly ending at a closed pipe.
macro_rules! out {
    ($($t:tt)*) => { $crate::commands::out::print(&format!($($t)*)) };
}

/// `println!` to stdout, quietly ending at a closed pipe.
macro_rules! outln {
    () => { $crate::commands::out::print("\n") };
    ($($t:tt)*) => { $crate::commands::out::print(&format!("{}\n", format_args!($($t)*))) };
}

/// `eprint!` that never panics (see [`eprint`]).
macro_rules! err {
    ($($t:tt)*) => { $crate::commands::out::eprint(&format!($($t)*)) };
}

/// `eprintln!` that never panics (see [`eprint`]).
macro_rules! errln {
    () => { $crate::commands::out::eprint("\n") };
    ($($t:tt)*) => { $crate::commands::out::eprint(&format!("{}\n", format_args!($($t)*))) };
}

pub(crate) use {err, errln, out, outln};
