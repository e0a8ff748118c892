//! Expressions and statements typed at the prompt, run against the
//! current instance's parameters.

use super::messages::nearest_command;
use super::stepping::show_log;
use super::{show, Failure, Session};
use crate::check::{self, Snippet};
use crate::diagnostic::Diagnostic;
use crate::runtime::builtins;
use crate::runtime::eval::RunError;
use crate::runtime::snippet::{self, SnippetOutcome};
use jiff::Timestamp;
use std::fmt::Write;

impl Session {
    /// Checks and runs an input against the current instance's parameters
    /// (or against none, before any instance exists).
    pub(super) fn evaluate(&mut self, text: &str) -> Result<String, Failure> {
        let file = self.inputs.add("input", None, text);
        let program = self.current_entry().map(|e| (e.instance.program.clone(), e.instance.process));
        let params = program.as_ref().map_or(&[][..], |(p, id)| &p.process(*id).params[..]);
        let snippet: Snippet = match check::compile_snippet(file, text, params) {
            Ok(snippet) => snippet,
            Err(diagnostics) => return Err(self.not_understood(text, params, &diagnostics)),
        };
        let result = match self.current {
            Some(i) => self.instances[i].instance.eval_snippet(&snippet, self.options.max_steps),
            None => {
                let now = self.options.now.unwrap_or_else(Timestamp::now);
                snippet::eval_detached(&snippet, now, self.options.max_steps)
            }
        };
        match result {
            Ok(outcome) => Ok(self.show_outcome(outcome)),
            Err(err) => Err(self.run_error(err)),
        }
    }

    fn show_outcome(&mut self, outcome: SnippetOutcome) -> String {
        let mut out = String::new();
        if let Some(v) = &outcome.value {
            let _ = writeln!(out, "{}", show::value(v));
        }
        show::changes(&outcome.changes, "", &mut out);
        show_log(&outcome.log, &mut out);
        for name in &outcome.signals {
            let mut moved = Vec::new();
            for e in self.instances.iter_mut().filter(|e| !e.instance.status.is_finished()) {
                let n = e.instance.deliver_signal(name);
                if n > 0 {
                    moved.push(format!("#{} ({n})", e.number));
                }
            }
            match moved.as_slice() {
                [] => {
                    let _ = writeln!(out, "signal \"{name}\": no instance waits for it");
                }
                all => {
                    let _ = writeln!(out, "signal \"{name}\": element-instances pending in {}", all.join(", "));
                }
            }
        }
        out
    }

    /// An input that does not check: its diagnostics, or "did you mean" a
    /// command when its first word is close to one.
    fn not_understood(
        &self,
        text: &str,
        params: &[crate::check::spec::ParamSpec],
        diagnostics: &[Diagnostic],
    ) -> Failure {
        let word = text.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("");
        let first_is_name = !word.is_empty() && text.starts_with(word);
        let is_known = params.iter().any(|p| *p.code == *word) || builtins::ALL.iter().any(|b| b.name() == word);
        let about_first = diagnostics.iter().any(|d| {
            d.code == "procdsl::syntax"
                || (d.code == "procdsl::check::unknown_variable" && d.span().is_some_and(|s| s.start == 0))
        });
        if first_is_name && !is_known && about_first {
            if let Some(command) = nearest_command(word) {
                return self.unknown_command_with(word, command);
            }
        }
        diagnostics.iter().map(|d| d.render(&self.inputs, self.options.color)).collect()
    }

    fn run_error(&self, err: RunError) -> Failure {
        let mut d = Diagnostic::error("procdsl::repl::eval", err.message.clone());
        if let Some(span) = err.span.filter(|s| (s.file.0 as usize) < self.inputs.len()) {
            d = d.with_label(span, err.message);
        }
        let mut text = d.render(&self.inputs, self.options.color);
        text.push_str("nothing was changed\n");
        text
    }
}
