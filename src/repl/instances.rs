//! The session's instances: `start`, `run`, `instances`, `use`, and which
//! one is current.

use super::{input, Entry, Failure, Session};
use crate::check::spec::ProcessId;
use crate::runtime::engine;
use crate::runtime::instance::Instance;
use jiff::Timestamp;
use std::fmt::Write;
use std::sync::Arc;
use uuid::Uuid;

impl Session {
    pub(super) fn start(&mut self, rest: &str, then_continue: bool) -> Result<String, Failure> {
        let command = if then_continue { "run" } else { "start" };
        let Some(program) = self.program.clone() else {
            return Err(self.failure("no process is loaded", Some("load a file with `load FILE`".into())));
        };
        let words = self.words(rest)?;
        let Some(code) = words.first() else {
            return Err(self.usage(command));
        };
        let process: ProcessId = engine::find_process(&program, code).map_err(|e| self.report(&e))?;
        let inputs = input::pairs(&words[1..], "CODE").map_err(|m| self.failure(m, None))?;
        let clock = self.options.now.unwrap_or_else(now_to_the_millisecond);
        let mut instance = Instance::new(program, process, clock);
        instance.set_inputs(inputs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(|e| self.report(&e))?;
        let number = self.instances.last().map_or(1, |e| e.number + 1);
        let paused = if then_continue { "" } else { ", paused before its first element" };
        let mut out = format!("started {} #{number} (instance {}){paused}\n", instance.spec().code, instance.id);
        self.instances.push(Entry { number, instance, trace: Vec::new() });
        self.current = Some(self.instances.len() - 1);
        if then_continue {
            out.push_str(&self.drive(None)?);
        } else {
            out.push_str(&self.where_now(self.instances.len() - 1));
        }
        Ok(out)
    }

    pub(super) fn list_instances(&mut self) -> Result<String, Failure> {
        let kept = self.backing.list().map_err(|why| self.failure(why, None))?;
        let mut out = String::new();
        if self.instances.is_empty() && kept.is_empty() {
            return Ok("no instances yet; create one with `start CODE`\n".to_string());
        }
        for (i, e) in self.instances.iter().enumerate() {
            let mark = if Some(i) == self.current { "*" } else { " " };
            let _ = write!(
                out,
                "{mark} #{:<3} {}  {:<10} {}",
                e.number,
                e.instance.id,
                e.instance.status.to_string(),
                e.instance.spec().code
            );
            if self.is_older(e) {
                out.push_str("  (earlier definition)");
            }
            out.push('\n');
        }
        let open: Vec<Uuid> = self.instances.iter().map(|e| e.instance.id).collect();
        for k in kept.iter().filter(|k| !open.contains(&k.id)) {
            let _ =
                writeln!(out, "       {}  {:<10} {}  (kept; `use` opens it)", k.id, k.status.to_string(), k.process);
        }
        let _ = writeln!(out, "instances are kept {}", self.backing.describe());
        Ok(out)
    }

    pub(super) fn use_instance(&mut self, rest: &str) -> Result<String, Failure> {
        if rest.is_empty() {
            return Err(self.usage("use"));
        }
        let wanted = rest.trim_start_matches('#');
        let number = wanted.parse::<usize>().ok();
        let by_number = number.and_then(|n| self.instances.iter().position(|e| e.number == n));
        // `#7` and short numbers are instance numbers only, never id prefixes
        // (a random id may well start with `7`).
        if let (Some(n), None) = (number, by_number) {
            if rest.starts_with('#') || wanted.len() < 4 {
                return Err(self.failure(format!("no instance #{n}"), Some("`instances` lists them".into())));
            }
        }
        let index = match by_number {
            Some(i) => i,
            None => {
                let lower = wanted.to_lowercase();
                let matches: Vec<usize> = (0..self.instances.len())
                    .filter(|i| self.instances[*i].instance.id.to_string().starts_with(&lower))
                    .collect();
                match matches.as_slice() {
                    [one] => *one,
                    [] => self.open_kept(&lower)?,
                    _ => {
                        return Err(self.failure(
                            format!("{} instances have an id starting with `{wanted}`", matches.len()),
                            Some("give more of the id, or its number from `instances`".into()),
                        ))
                    }
                }
            }
        };
        self.current = Some(index);
        let entry = &self.instances[index];
        let mut out = format!("{}\n", self.headline(entry));
        if self.is_older(entry) {
            out.push_str("it runs on the definition it started with, before the last reload\n");
        }
        out.push_str(&self.where_now(index));
        Ok(out)
    }

    /// Opens an instance kept by the backing, by a prefix of its id.
    fn open_kept(&mut self, prefix: &str) -> Result<usize, Failure> {
        let found = self.backing.find(prefix).map_err(|why| self.failure(why, None))?;
        let Some(id) = found else {
            return Err(self.failure(
                format!("no instance is numbered `{prefix}` or has an id starting with it"),
                Some("`instances` lists them".into()),
            ));
        };
        let instance = self.backing.open(id).map_err(|why| self.failure(why, None))?;
        let number = self.instances.last().map_or(1, |e| e.number + 1);
        self.instances.push(Entry { number, instance, trace: Vec::new() });
        Ok(self.instances.len() - 1)
    }

    fn is_older(&self, entry: &Entry) -> bool {
        self.program.as_ref().is_some_and(|p| !Arc::ptr_eq(p, &entry.instance.program))
    }

    pub(super) fn headline(&self, entry: &Entry) -> String {
        format!(
            "{} #{} {} (instance {})",
            entry.instance.spec().code,
            entry.number,
            entry.instance.status,
            entry.instance.id
        )
    }

    pub(super) fn current_entry(&self) -> Option<&Entry> {
        self.current.map(|i| &self.instances[i])
    }

    pub(super) fn current_entry_or_fail(&self) -> Result<&Entry, Failure> {
        self.current_entry().ok_or_else(|| self.no_instance())
    }

    pub(super) fn current_index(&self) -> Result<usize, Failure> {
        self.current.ok_or_else(|| self.no_instance())
    }

    fn no_instance(&self) -> Failure {
        let help = match &self.program {
            Some(p) => format!("start one with `start CODE` ({})", p.codes().collect::<Vec<_>>().join(", ")),
            None => "load a file with `load FILE`, then `start CODE`".to_string(),
        };
        self.failure("there is no current instance", Some(help))
    }
}

/// The virtual clock starts at the millisecond: the times derived from it
/// (timers, `now()`) then read without nanoseconds.
fn now_to_the_millisecond() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now)
}
