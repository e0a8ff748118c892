//! How the session words refusals: `error:` and `help:`, usage, "did you
//! mean", colours.

use super::{help, input, Failure, Session};
use crate::diagnostic::nearest;
use std::fmt::Write;

impl Session {
    pub(super) fn words(&self, rest: &str) -> Result<Vec<String>, Failure> {
        input::words(rest).map_err(|m| self.failure(m, None))
    }

    pub(super) fn usage(&self, command: &str) -> Failure {
        let c = help::find(command).map_or(command, |c| c.usage);
        self.failure(format!("usage: {c}"), Some(format!("`help {command}` tells more")))
    }

    pub(super) fn unknown_command(&self, word: &str) -> Failure {
        match nearest_command(word) {
            Some(command) => self.unknown_command_with(word, command),
            None => self.failure(format!("unknown command `{word}`"), Some("`help` lists the commands".into())),
        }
    }

    pub(super) fn unknown_command_with(&self, word: &str, command: &str) -> Failure {
        self.failure(
            format!("unknown command `{word}`"),
            Some(format!("did you mean `{command}`? (`help` lists the commands)")),
        )
    }

    /// `error: …` and `  help: …`, as the command line reports errors.
    pub(super) fn failure(&self, message: impl std::fmt::Display, help: Option<String>) -> Failure {
        let mut text = format!("{} {message}\n", paint(self.options.color, RED, "error:"));
        if let Some(help) = help {
            let _ = writeln!(text, "  help: {help}");
        }
        text
    }

    pub(super) fn report(&self, error: &dyn miette::Diagnostic) -> Failure {
        self.failure(error, error.help().map(|h| h.to_string()))
    }
}

/// The command a mistyped word most likely meant: a near spelling (one
/// swap of neighbouring letters counts as one edit), or the same letters in
/// another order (`tpes`).
pub(super) fn nearest_command(word: &str) -> Option<&'static str> {
    nearest(word, help::command_names()).or_else(|| {
        let mut letters: Vec<char> = word.to_lowercase().chars().collect();
        letters.sort_unstable();
        help::command_names().find(|c| {
            let mut other: Vec<char> = c.chars().collect();
            other.sort_unstable();
            other == letters
        })
    })
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub(super) fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub(super) const RED: &str = "31";
pub(super) const GREEN: &str = "32";
pub(super) const YELLOW: &str = "33";
pub(super) const CYAN: &str = "36";
