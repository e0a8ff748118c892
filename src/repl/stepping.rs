//! Running the current instance: `step`, `continue`, `exec`, `advance`,
//! and what is pending, waiting or traced.

use super::messages::{paint, plural, CYAN, GREEN, RED, YELLOW};
use super::show::{self, Activation};
use super::{input, Failure, Session, MAX_SHOWN, MAX_TRACE};
use crate::diagnostic::{nearest, Diagnostic};
use crate::runtime::engine::{ClockMode, ExecOutcome, Run, RunOptions, TraceEvent};
use crate::runtime::instance::{Instance, Status};
use crate::source::{SourceMap, Span};
use std::fmt::Write;
use uuid::Uuid;

impl Session {
    /// Executes up to `limit` elements (all, for `None`), stopping at a wait
    /// state, the end, or before an element with a breakpoint.
    pub(super) fn drive(&mut self, limit: Option<usize>) -> Result<String, Failure> {
        let index = self.current_index()?;
        let entry = &self.instances[index];
        if entry.instance.status.is_finished() {
            return Err(self.failure(
                format!("instance #{} is {}: nothing more runs", entry.number, entry.instance.status),
                Some("start a new one with `start CODE`".into()),
            ));
        }
        let color = self.options.color;
        let mut run = self.run_state();
        let mut out = String::new();
        let (mut executed, mut shown) = (0usize, 0usize);
        let entry = &mut self.instances[index];
        loop {
            if entry.instance.status.is_finished() || limit.is_some_and(|n| executed >= n) {
                break;
            }
            if executed > 0 {
                if let Some(next) = show::activations(&entry.instance).into_iter().find(|a| a.ready) {
                    if self.breakpoints.iter().any(|b| **b == *next.element) {
                        let line = format!("● breakpoint before {} {}  uid {}", next.kind, next.element, next.uid);
                        let _ = writeln!(out, "{}", paint(color, YELLOW, &line));
                        break;
                    }
                }
            }
            let (log_before, clock_before) = (entry.instance.log.len(), entry.instance.clock);
            if !entry.instance.step(&mut run) {
                if executed == 0 {
                    out.push_str("nothing is pending: the instance waits; execute a waiting element-instance with `exec UID|NAME`\n");
                }
                break;
            }
            if entry.instance.clock != clock_before {
                let _ = writeln!(out, "⏱ clock {clock_before} → {} (a timer is due)", entry.instance.clock);
            }
            if !run.trace.is_empty() {
                executed += 1;
                for event in &run.trace {
                    shown += 1;
                    if shown <= MAX_SHOWN {
                        show_event(color, event, &mut out);
                    }
                }
            }
            if shown <= MAX_SHOWN {
                show_log(&entry.instance.log[log_before.min(entry.instance.log.len())..], &mut out);
            }
            keep_trace(&mut entry.trace, &mut run.trace);
        }
        if shown > MAX_SHOWN {
            let _ = writeln!(out, "… {} more elements executed; `trace` shows them", shown - MAX_SHOWN);
        }
        out.push_str(&self.where_now(index));
        Ok(out)
    }

    pub(super) fn exec(&mut self, rest: &str) -> Result<String, Failure> {
        let index = self.current_index()?;
        let words = self.words(rest)?;
        let Some(target) = words.first() else {
            return Err(self.usage("exec"));
        };
        let fields = input::pairs(&words[1..], "FIELD").map_err(|m| self.failure(m, None))?;
        let uid = self.resolve_activation(&self.instances[index].instance, target)?;
        let color = self.options.color;
        let mut run = self.run_state();
        let entry = &mut self.instances[index];
        let log_before = entry.instance.log.len();
        let outcome = entry.instance.exec_only(uid, &fields, &mut run);
        let mut out = String::new();
        for event in &run.trace {
            show_event(color, event, &mut out);
        }
        show_log(&entry.instance.log[log_before.min(entry.instance.log.len())..], &mut out);
        keep_trace(&mut entry.trace, &mut run.trace);
        match outcome {
            Ok(ExecOutcome::Executed) => {}
            Ok(ExecOutcome::AlreadyExecuted) => {
                let _ = writeln!(out, "element-instance {uid} was executed before; nothing was done");
            }
            Err(e) => return Err(self.report(&e)),
        }
        out.push_str(&self.where_now(index));
        Ok(out)
    }

    /// An element-instance by UId, unique UId prefix, element name, or
    /// `Name[i]`: the i-th (from 0) of that element's element-instances in
    /// the `pending` list, as several items of a multi-instance element are.
    fn resolve_activation(&self, instance: &Instance, target: &str) -> Result<Uuid, Failure> {
        if let Ok(uid) = Uuid::parse_str(target) {
            return Ok(uid);
        }
        let all = show::activations(instance);
        if let Some((name, i)) = indexed(target) {
            let of: Vec<&Activation> = all.iter().filter(|a| *a.element == *name).collect();
            return match (i.and_then(|i| of.get(i)), of.len()) {
                (Some(a), _) => Ok(a.uid),
                (None, 0) => Err(self.failure(
                    format!("no pending or waiting element-instance is called `{name}`"),
                    Some("`pending` lists the element-instances".into()),
                )),
                (None, n) => Err(self.failure(
                    format!("`{target}`: `{name}` has {n} element-instance{}", if n == 1 { "" } else { "s" }),
                    Some(format!("give an index from 0 to {}", n - 1)),
                )),
            };
        }
        let by_name: Vec<&Activation> = all.iter().filter(|a| *a.element == *target).collect();
        let lower = target.to_lowercase();
        let by_prefix: Vec<&Activation> = all.iter().filter(|a| a.uid.to_string().starts_with(&lower)).collect();
        let found = if by_name.is_empty() { by_prefix } else { by_name };
        match found.as_slice() {
            [one] => Ok(one.uid),
            [] => {
                let lower_name = target.to_lowercase();
                let containing = all.iter().map(|a| &*a.element).find(|e| e.to_lowercase().contains(&lower_name));
                let help = match nearest(target, all.iter().map(|a| &*a.element)).or(containing) {
                    Some(s) => format!("did you mean `{s}`? `pending` lists the element-instances"),
                    None if all.is_empty() => "nothing is pending or waiting".to_string(),
                    None => "`pending` lists the element-instances".to_string(),
                };
                Err(self.failure(
                    format!(
                        "no pending or waiting element-instance is called `{target}` or has a UId starting with it"
                    ),
                    Some(help),
                ))
            }
            many => {
                let uids: Vec<String> = many.iter().map(|a| a.uid.to_string()).collect();
                Err(self.failure(
                    format!("{} element-instances match `{target}`", many.len()),
                    Some(format!("give one UId ({}), or `{target}[i]` for the i-th, from 0", uids.join(", "))),
                ))
            }
        }
    }

    pub(super) fn advance(&mut self, rest: &str) -> Result<String, Failure> {
        let index = self.current_index()?;
        if rest.is_empty() {
            return Err(self.usage("advance"));
        }
        let span: jiff::Span = rest.parse().map_err(|_| {
            self.failure(
                format!("`{rest}` is not an ISO 8601 duration"),
                Some("write it like PT30M, PT2H or P1D".into()),
            )
        })?;
        let entry = &mut self.instances[index];
        let before = entry.instance.clock;
        let after = before
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .checked_add(span)
            .map(|z| z.timestamp())
            .map_err(|e| format!("error: the clock cannot move by {rest}: {e}\n"))?;
        // Crosses each due time in order, so that a reminder due before a
        // deadline fires before it and a deadline fires after a timer due
        // with it; `step` then runs what fired, in that order.
        let mut fired = 0;
        while let Some(due) = entry.instance.next_due().filter(|due| *due <= after) {
            entry.instance.clock = entry.instance.clock.max(due);
            let now = fired;
            fired += entry.instance.fire_due_timers(due);
            if fired == now {
                break;
            }
        }
        entry.instance.clock = after;
        let mut out = format!("clock {before} → {after}\n");
        if fired > 0 {
            // Deadlines and reminders are timers on an element's border: counted with them.
            let _ = writeln!(
                out,
                "{fired} timer{} fired; `step` runs {}",
                plural(fired),
                if fired == 1 { "it" } else { "them" }
            );
        }
        out.push_str(&self.where_now(index));
        Ok(out)
    }

    fn run_state(&self) -> Run {
        Run::new(RunOptions {
            max_steps: self.options.max_steps,
            max_memory: self.options.max_memory,
            clock: ClockMode::Virtual,
            trace: true,
            ..RunOptions::default()
        })
    }

    /// Where the instance stands: what runs next and what waits, or how it ended.
    pub(super) fn where_now(&self, index: usize) -> String {
        let entry = &self.instances[index];
        let instance = &entry.instance;
        let color = self.options.color;
        let mut out = String::new();
        match instance.status {
            Status::Completed => {
                let _ = writeln!(
                    out,
                    "{}",
                    paint(color, GREEN, &format!("■ {} #{} Completed", instance.spec().code, entry.number))
                );
                for p in instance.spec().outputs() {
                    let v = instance.param(&p.code).cloned().unwrap_or_default();
                    let _ = writeln!(out, "  {} = {}", p.code, show::value(&v));
                }
            }
            Status::Failed => {
                let _ = writeln!(
                    out,
                    "{}",
                    paint(color, RED, &format!("■ {} #{} Failed", instance.spec().code, entry.number))
                );
                out.push_str(&self.failure_report(instance));
            }
            Status::Cancelled => {
                let _ = writeln!(out, "■ {} #{} Cancelled", instance.spec().code, entry.number);
            }
            Status::Running | Status::Waiting => {
                let all = show::activations(instance);
                for a in &all {
                    let _ = writeln!(out, "{} {}", if a.ready { "next: " } else { "waits:" }, show::activation(a));
                }
                if all.is_empty() {
                    let _ = writeln!(out, "nothing is pending ({})", instance.status);
                }
            }
        }
        out
    }

    /// A failed instance's error, with its source excerpt when it has a place.
    fn failure_report(&self, instance: &Instance) -> String {
        let Some(error) = &instance.error else {
            return "error: the instance failed\n".to_string();
        };
        let sources = &instance.program.sources;
        let span = match (&error.file, error.line, error.column) {
            (Some(file), Some(line), Some(column)) => locate(sources, file, line, column),
            _ => None,
        };
        let message = match &error.element {
            Some(element) => format!("element `{element}` failed: {}", error.message),
            None => error.message.clone(),
        };
        match span {
            Some(span) => Diagnostic::error("procdsl::run::failed", message)
                .with_label(span, error.message.clone())
                .render(sources, self.options.color),
            None => self.failure(message, None),
        }
    }

    pub(super) fn pending(&self) -> Result<String, Failure> {
        let entry = self.current_entry_or_fail()?;
        let instance = &entry.instance;
        let mut out = format!("{}\n", self.headline(entry));
        let all = show::activations(instance);
        let (ready, waiting): (Vec<&Activation>, Vec<&Activation>) = all.iter().partition(|a| a.ready);
        if !ready.is_empty() {
            out.push_str("pending (`step` runs the first):\n");
            for a in ready {
                let _ = writeln!(out, "  {}", show::activation(a));
            }
        }
        if !waiting.is_empty() {
            out.push_str("waiting (`exec UID|NAME [Field=Value…]`):\n");
            for a in waiting {
                let _ = writeln!(out, "  {}", show::activation(a));
            }
        }
        let spec = instance.spec();
        for join in &instance.joins {
            let e = spec.element(join.element);
            let arrived = join.arrived.iter().filter(|c| **c > 0).count();
            let _ = writeln!(
                out,
                "  {} {} has tokens from {arrived} of {} incoming flows",
                e.kind_name(),
                e.name,
                join.arrived.len()
            );
        }
        if all.is_empty() && instance.joins.is_empty() {
            out.push_str("nothing is pending or waiting\n");
        }
        Ok(out)
    }

    pub(super) fn trace(&self, rest: &str) -> Result<String, Failure> {
        let entry = self.current_entry_or_fail()?;
        let n = match rest {
            "" => usize::MAX,
            n => n.parse::<usize>().map_err(|_| self.usage("trace"))?,
        };
        if entry.trace.is_empty() {
            return Ok("no element has run yet in this session\n".to_string());
        }
        let mut out = String::new();
        let skip = entry.trace.len().saturating_sub(n);
        for event in &entry.trace[skip..] {
            show_event(self.options.color, event, &mut out);
        }
        Ok(out)
    }
}

fn show_event(color: bool, event: &TraceEvent, out: &mut String) {
    let mut text = String::new();
    show::event(event, &mut text);
    match text.split_once('\n') {
        Some((first, rest)) if color => {
            let _ = writeln!(out, "{}", paint(color, CYAN, first));
            out.push_str(rest);
        }
        _ => out.push_str(&text),
    }
}

pub(super) fn show_log(lines: &[String], out: &mut String) {
    for line in lines {
        let _ = writeln!(out, "  log: {line}");
    }
}

/// Moves a run's events into an instance's trace, keeping the last [`MAX_TRACE`].
fn keep_trace(trace: &mut Vec<TraceEvent>, events: &mut Vec<TraceEvent>) {
    trace.append(events);
    if trace.len() > MAX_TRACE {
        trace.drain(..trace.len() - MAX_TRACE);
    }
}

/// The span of a name at a 1-based line and column of a loaded file.
fn locate(sources: &SourceMap, file: &str, line: usize, column: usize) -> Option<Span> {
    let (id, source) = sources.files().find(|(_, f)| f.name == file)?;
    let text = &source.text;
    let line_start = if line <= 1 { 0 } else { text.match_indices('\n').nth(line - 2)?.0 + 1 };
    let start = line_start + text[line_start..].char_indices().nth(column.saturating_sub(1)).map_or(0, |(i, _)| i);
    let len = text[start..].find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(0).max(1);
    Some(Span::new(id, start, (start + len).min(text.len())))
}

/// `Name[i]` as the name and the index (None when it is not a number).
fn indexed(target: &str) -> Option<(&str, Option<usize>)> {
    let (name, rest) = target.split_once('[')?;
    let index = rest.strip_suffix(']')?;
    Some((name, index.trim().parse().ok()))
}
