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
            draw_step(&mut std::io::stderr().lock(), profile, scenario, i, n, name);
        }
    }

    /// Clear the line before the scenario's verdicts are printed.
    pub(super) fn clear(self) {
        if self.live {
            draw_clear(&mut std::io::stderr().lock());
        }
    }
}

/// Rewrite the line in place: carriage return, erase line, the step.
fn draw_step(w: &mut impl Write, profile: &str, scenario: &str, i: usize, n: usize, name: &str) {
    let _ = write!(
        w,
        "\r\x1b[2K▶ {profile}/{scenario}: step {}/{n} {name}",
        i + 1
    );
    let _ = w.flush();
}

fn draw_clear(w: &mut impl Write) {
    let _ = write!(w, "\r\x1b[2K");
    let _ = w.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_rewrites_one_line_and_clear_erases_it() {
        let mut out = Vec::new();
        draw_step(&mut out, "nge-5.9.2", "ack-receiver", 0, 11, "emit-hl7");
        draw_step(&mut out, "nge-5.9.2", "ack-receiver", 1, 11, "hook");
        draw_clear(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\r\x1b[2K▶ nge-5.9.2/ack-receiver: step 1/11 emit-hl7\
             \r\x1b[2K▶ nge-5.9.2/ack-receiver: step 2/11 hook\
             \r\x1b[2K"
        );
    }
}
