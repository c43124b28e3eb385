//! Progress on stderr while reading, only when stderr is a terminal and no
//! logging is on, so logs and pipes stay clean.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress(Option<ProgressBar>);

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: no progress even on a terminal.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

impl Progress {
    pub fn stderr() -> Progress {
        if QUIET.load(Ordering::Relaxed)
            || !std::io::stderr().is_terminal()
            || crate::logging::active()
        {
            return Progress(None);
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        Progress(Some(bar))
    }

    pub fn hidden() -> Progress {
        Progress(None)
    }

    pub fn set(&self, msg: &str) {
        if let Some(b) = &self.0 {
            b.set_message(msg.to_string());
        }
    }

    /// Runs `f` with the spinner off the terminal, so what `f` writes is
    /// not drawn over (or after) the spinner's line.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.0 {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
