//! `test [FILTER]`: runs the loaded files' `test` blocks, and keeps the
//! first failing test's instances in the session, the newest current, so
//! that `params`, `log`, `pending` and `trace` show where it went wrong.

use super::{Entry, Failure, Session};
use crate::testing::Suite;
use std::fmt::Write;

impl Session {
    pub(super) fn run_tests(&mut self, rest: &str) -> Result<String, Failure> {
        if self.files.is_empty() {
            return Err(self.failure("no file is loaded", Some("load one with `load FILE`".into())));
        }
        let suite = Suite::load(&self.files).map_err(|e| e.render(self.options.color))?;
        let filter = (!rest.is_empty()).then_some(rest);
        let mut out = String::new();
        let (mut passed, mut failed) = (0, 0);
        let mut kept = None;
        // One at a time, in the order written: the session's output never changes order.
        for test in suite.selected(filter) {
            let (result, instances) = suite.run_one(test);
            match &result.failure {
                None => {
                    passed += 1;
                    let _ = writeln!(out, "ok   {}", result.name);
                }
                Some(failure) => {
                    failed += 1;
                    let _ = writeln!(out, "FAIL {}", result.name);
                    out.push_str(&failure.report);
                    if kept.is_none() && !instances.is_empty() {
                        kept = Some((result.name.clone(), instances));
                    }
                }
            }
        }
        let _ = writeln!(out, "{passed} passed, {failed} failed");
        if let Some((name, instances)) = kept {
            let mut numbers = Vec::new();
            for instance in instances {
                let number = self.instances.last().map_or(1, |e| e.number + 1);
                numbers.push(format!("#{number}"));
                self.instances.push(Entry { number, instance, trace: Vec::new() });
            }
            self.current = Some(self.instances.len() - 1);
            let _ = writeln!(
                out,
                "the instances of \"{name}\" are kept as {}; the newest is current, as the test left it",
                numbers.join(", ")
            );
        }
        match (passed + failed, failed) {
            (0, _) => Err(self.failure(
                match filter {
                    Some(f) => format!("no test's name contains `{f}`"),
                    None => "the loaded files have no tests".to_string(),
                },
                None,
            )),
            (_, 0) => Ok(out),
            _ => Err(out),
        }
    }
}
