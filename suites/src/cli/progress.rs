//! Live progress of `ngsim run` on a terminal: one line on stderr, rewritten
//! in place as each step starts and cleared when the scenario ends. When
//! stderr is not a terminal (CI logs) nothing is drawn: the per-check verdict
//! lines on stdout are the plain output.
//!
//! Hand-written rather than a progress-bar crate: it is one line of text with
//! `\r` and an erase-line escape, and no bar, rate or ETA to compute.

use std::io::{IsTerminal, Write};

/// Where progress goes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Progress {
    live: bool,
}

impl Progress {
    /// Live when stderr is a terminal.
    pub(super) fn detect() -> Progress {
        Progress {
            live: std::io::stderr().is_terminal(),
        }
    }

    /// Show that step `i` (from 0) of `n` of `scenario` on `profile` is running.
    pub(super) fn step(self, profile: &str, scenario: &str, i: usize, n: usize, name: &str) {
        if self.live {
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[2K▶ {profile}/{scenario}: step {}/{n} {name}",
                i + 1
            );
            let _ = err.flush();
        }
    }

    /// Clear the line before the scenario's verdicts are printed.
    pub(super) fn clear(self) {
        if self.live {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
