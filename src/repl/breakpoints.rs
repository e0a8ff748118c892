//! `break` and `unbreak`.

use super::messages::plural;
use super::{Failure, Session};
use crate::diagnostic::nearest;
use std::fmt::Write;

impl Session {
    pub(super) fn add_breakpoints(&mut self, rest: &str) -> Result<String, Failure> {
        let names = self.words(rest)?;
        if names.is_empty() {
            return Ok(match self.breakpoints.as_slice() {
                [] => "no breakpoints; set one with `break NAME`\n".to_string(),
                all => format!("breakpoints: {}\n", all.join(", ")),
            });
        }
        let known = self.completions().elements;
        let mut out = String::new();
        for name in names {
            if !known.contains(&name) {
                let help = match nearest(&name, known.iter().map(String::as_str)) {
                    Some(s) => Some(format!("did you mean `{s}`?")),
                    None if known.is_empty() => Some("load a file first with `load FILE`".to_string()),
                    None => None,
                };
                out.push_str(&self.failure(format!("no loaded process has an element `{name}`"), help));
                return Err(out);
            }
            if !self.breakpoints.contains(&name) {
                self.breakpoints.push(name.clone());
            }
            let _ = writeln!(out, "breakpoint before every `{name}`");
        }
        Ok(out)
    }

    pub(super) fn remove_breakpoints(&mut self, rest: &str) -> Result<String, Failure> {
        let names = self.words(rest)?;
        if names.is_empty() {
            let n = self.breakpoints.len();
            self.breakpoints.clear();
            return Ok(format!("removed {n} breakpoint{}\n", plural(n)));
        }
        let mut out = String::new();
        for name in names {
            match self.breakpoints.iter().position(|b| *b == name) {
                Some(i) => {
                    self.breakpoints.remove(i);
                    let _ = writeln!(out, "removed the breakpoint on `{name}`");
                }
                None => {
                    let help = match self.breakpoints.as_slice() {
                        [] => "there are no breakpoints".to_string(),
                        all => format!("breakpoints: {}", all.join(", ")),
                    };
                    out.push_str(&self.failure(format!("no breakpoint on `{name}`"), Some(help)));
                    return Err(out);
                }
            }
        }
        Ok(out)
    }
}
