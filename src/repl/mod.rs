//! The REPL's session: loaded definitions, live instances, the current one,
//! breakpoints. [`Session::execute_line`] takes one input and returns the
//! text to show, so the session can be tested, scripted and driven by any
//! front end; the line editor lives with the binary.
//!
//! ```
//! use procdsl::repl::{Session, SessionOptions};
//! let mut session = Session::new(SessionOptions::default());
//! assert_eq!(session.execute_line("1 + 2").text, "3\n");
//! assert!(session.execute_line("quit").quit);
//! ```

mod backing;
mod complete;
mod help;
mod input;
mod show;

pub use backing::{Backing, Kept, Memory, Stored};
pub use complete::{Completions, PendingName};
pub use input::is_incomplete;

use crate::check::spec::{ProcessId, Program};
use crate::check::{self, Snippet};
use crate::diagnostic::{nearest, Diagnostic};
use crate::runtime::builtins;
use crate::runtime::engine::{self, ExecOutcome, Run, RunOptions, TraceEvent, DEFAULT_MAX_MEMORY, DEFAULT_MAX_STEPS};
use crate::runtime::eval::RunError;
use crate::runtime::instance::{Instance, Status};
use crate::runtime::snippet::{self, SnippetOutcome};
use crate::source::{SourceMap, Span};
use jiff::Timestamp;
use show::Activation;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;
use uuid::Uuid;

/// What one input produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// The text to show; every line ends with a newline.
    pub text: String,
    /// The input was refused or failed (the session goes on).
    pub failed: bool,
    /// The input ends the session.
    pub quit: bool,
}

/// How a session runs.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// ANSI colours in what the session returns.
    pub color: bool,
    /// The clock new instances start at (default: now).
    pub now: Option<Timestamp>,
    /// The step budget of each command.
    pub max_steps: u64,
    /// The memory budget of each instance, in bytes.
    pub max_memory: u64,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions { color: false, now: None, max_steps: DEFAULT_MAX_STEPS, max_memory: DEFAULT_MAX_MEMORY }
    }
}

/// At most this many executed elements are kept per instance for `trace`.
const MAX_TRACE: usize = 10_000;
/// At most this many executed elements are shown by one command.
const MAX_SHOWN: usize = 1_000;

/// One instance of the session.
struct Entry {
    /// `#1`, `#2`, … in the order they were created or opened.
    number: usize,
    instance: Instance,
    /// The elements it executed in this session.
    trace: Vec<TraceEvent>,
}

/// An interactive session: see the module docs.
pub struct Session {
    options: SessionOptions,
    files: Vec<PathBuf>,
    program: Option<Arc<Program>>,
    instances: Vec<Entry>,
    current: Option<usize>,
    breakpoints: Vec<String>,
    /// Every input evaluated, so that its diagnostics show the text.
    inputs: SourceMap,
    backing: Box<dyn Backing>,
}

/// A refused command: the text to show.
type Failure = String;

impl Session {
    /// An empty session: no files, no instances, instances kept in memory.
    pub fn new(options: SessionOptions) -> Session {
        Session {
            options,
            files: Vec::new(),
            program: None,
            instances: Vec::new(),
            current: None,
            breakpoints: Vec::new(),
            inputs: SourceMap::new(),
            backing: Box::new(Memory),
        }
    }

    /// Keeps the session's instances there too (a store).
    pub fn with_backing(mut self, backing: Box<dyn Backing>) -> Session {
        self.backing = backing;
        self
    }

    /// Loads files, as `load FILE…` does.
    pub fn load_files(&mut self, paths: &[PathBuf]) -> Output {
        let result = self.load(paths.to_vec());
        self.finish(result)
    }

    /// The prompt: the current instance's process and number.
    pub fn prompt(&self) -> String {
        match self.current.map(|i| &self.instances[i]) {
            Some(entry) => format!("{}#{}> ", entry.instance.spec().code, entry.number),
            None => "procdsl> ".to_string(),
        }
    }

    /// Runs one input: a command, or an expression or statements.
    pub fn execute_line(&mut self, line: &str) -> Output {
        let text = line.trim();
        if text.is_empty() {
            return Output::default();
        }
        let (word, rest) = match text.find(char::is_whitespace) {
            Some(i) => (&text[..i], text[i..].trim_start()),
            None => (text, ""),
        };
        let assigns = rest.starts_with('=') && !rest.starts_with("==");
        // `log` alone shows the log; `log expr` is the statement.
        let log_statement = word == "log" && !rest.is_empty();
        let is_command = help::find(word).is_some() && !assigns && !log_statement;
        if is_command && matches!(word, "quit" | "exit") {
            return Output { text: String::new(), failed: false, quit: true };
        }
        let result = if is_command { self.command(word, rest) } else { self.evaluate(text) };
        self.finish(result)
    }

    /// The names tab completion offers now.
    pub fn completions(&self) -> Completions {
        let mut c = Completions {
            functions: builtins::ALL.iter().map(|b| b.name().to_string()).collect(),
            breakpoints: self.breakpoints.clone(),
            instances: self.instances.iter().map(|e| format!("#{}", e.number)).collect(),
            ..Completions::default()
        };
        let mut programs: Vec<&Arc<Program>> = self.program.iter().collect();
        if let Some(entry) = self.current_entry() {
            let instance = &entry.instance;
            programs.push(&instance.program);
            c.params = instance.spec().params.iter().map(|p| p.code.to_string()).collect();
            c.pending = show::activations(instance)
                .into_iter()
                .map(|a| PendingName {
                    uid: a.uid.to_string(),
                    element: a.element.to_string(),
                    fields: a.fields.iter().map(|(n, _, _)| n.to_string()).collect(),
                })
                .collect();
        }
        if let Some(program) = &self.program {
            for p in &program.processes {
                let inputs = p
                    .params
                    .iter()
                    .filter(|q| {
                        matches!(q.direction, crate::syntax::ast::Direction::In | crate::syntax::ast::Direction::InOut)
                    })
                    .map(|q| q.code.to_string())
                    .collect();
                c.processes.push((p.code.to_string(), inputs));
            }
        }
        for program in programs {
            for p in &program.processes {
                c.elements.extend(p.elements.iter().map(|e| e.name.to_string()));
            }
        }
        c.elements.sort();
        c.elements.dedup();
        c
    }

    fn finish(&mut self, result: Result<String, Failure>) -> Output {
        let (mut text, mut failed) = match result {
            Ok(text) => (text, false),
            Err(text) => (text, true),
        };
        if let Some(entry) = self.current.map(|i| &self.instances[i]) {
            if let Err(why) = self.backing.save(&entry.instance) {
                text.push_str(&self.failure(format!("the instance could not be kept: {why}"), None));
                failed = true;
            }
        }
        Output { text, failed, quit: false }
    }

    fn command(&mut self, word: &str, rest: &str) -> Result<String, Failure> {
        match word {
            "load" => {
                let paths: Vec<PathBuf> = self.words(rest)?.into_iter().map(PathBuf::from).collect();
                if paths.is_empty() {
                    return Err(self.usage("load"));
                }
                self.load(paths)
            }
            "reload" => self.reload(),
            "start" => self.start(rest, false),
            "run" => self.start(rest, true),
            "step" => {
                let n = match rest {
                    "" => 1,
                    n => n.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| self.usage("step"))?,
                };
                self.drive(Some(n))
            }
            "continue" => self.drive(None),
            "pending" => self.pending(),
            "exec" => self.exec(rest),
            "break" => self.add_breakpoints(rest),
            "unbreak" => self.remove_breakpoints(rest),
            "params" => {
                let entry = self.current_entry_or_fail()?;
                Ok(format!("{}\n{}", self.headline(entry), show::params(&entry.instance)))
            }
            "set" => match rest.split_once('=') {
                Some((code, value)) if !code.trim().is_empty() && !value.trim().is_empty() => self.evaluate(rest),
                _ => Err(self.usage("set")),
            },
            "log" => {
                let entry = self.current_entry_or_fail()?;
                if entry.instance.log.is_empty() {
                    return Ok("the log is empty\n".to_string());
                }
                Ok(entry.instance.log.iter().map(|l| format!("{l}\n")).collect())
            }
            "trace" => self.trace(rest),
            "instances" => self.list_instances(),
            "use" => self.use_instance(rest),
            "advance" => self.advance(rest),
            "help" => match rest {
                "" => Ok(help::overview()),
                name => match help::find(name) {
                    Some(c) => Ok(help::about(c)),
                    None => Err(self.unknown_command(name)),
                },
            },
            _ => Ok(String::new()),
        }
    }

    // -- definitions ------------------------------------------------------

    fn load(&mut self, paths: Vec<PathBuf>) -> Result<String, Failure> {
        let mut files = self.files.clone();
        for path in paths {
            if !files.contains(&path) {
                files.push(path);
            }
        }
        self.load_all(files, false)
    }

    fn reload(&mut self) -> Result<String, Failure> {
        if self.files.is_empty() {
            return Err(self.failure("no file is loaded", Some("load one with `load FILE`".into())));
        }
        self.load_all(self.files.clone(), true)
    }

    fn load_all(&mut self, files: Vec<PathBuf>, reload: bool) -> Result<String, Failure> {
        let loaded = match check::load_files(&files) {
            Ok(loaded) => loaded,
            Err(failure) => {
                let mut text = failure.render(self.options.color);
                if self.program.is_some() {
                    text.push_str("the definitions loaded before stay in use\n");
                }
                return Err(text);
            }
        };
        let mut out: String =
            loaded.warnings.iter().map(|w| w.render(&loaded.program.sources, self.options.color)).collect();
        let changed = self.program.as_ref().is_none_or(|p| p.hash != loaded.program.hash);
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let codes: Vec<&str> = loaded.program.codes().collect();
        let _ =
            writeln!(out, "{} {}: {}", if reload { "reloaded" } else { "loaded" }, names.join(", "), codes.join(", "));
        self.files = files;
        if !changed {
            if reload {
                out.push_str("no changes\n");
            }
            return Ok(out);
        }
        let program = Arc::new(loaded.program);
        self.program = Some(program.clone());
        let older = self
            .instances
            .iter()
            .filter(|e| !e.instance.status.is_finished() && !Arc::ptr_eq(&e.instance.program, &program))
            .count();
        if older > 0 {
            let _ = writeln!(
                out,
                "{older} instance{} keep{} running on the definition {} started with; new instances use the edits",
                plural(older),
                if older == 1 { "s" } else { "" },
                if older == 1 { "it" } else { "they" }
            );
        }
        Ok(out)
    }

    // -- instances --------------------------------------------------------

    fn start(&mut self, rest: &str, then_continue: bool) -> Result<String, Failure> {
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
        let clock = self.options.now.unwrap_or_else(Timestamp::now);
        let mut instance = Instance::new(program, process, clock);
        instance.set_inputs(inputs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(|e| self.report(&e))?;
        let number = self.instances.last().map_or(1, |e| e.number + 1);
        let mut out = format!(
            "started {} #{number} (instance {}), paused before its first element\n",
            instance.spec().code,
            instance.id
        );
        self.instances.push(Entry { number, instance, trace: Vec::new() });
        self.current = Some(self.instances.len() - 1);
        if then_continue {
            out.push_str(&self.drive(None)?);
        } else {
            out.push_str(&self.where_now(self.instances.len() - 1));
        }
        Ok(out)
    }

    fn list_instances(&mut self) -> Result<String, Failure> {
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

    fn use_instance(&mut self, rest: &str) -> Result<String, Failure> {
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
        let kept = self.backing.list().map_err(|why| self.failure(why, None))?;
        let matches: Vec<&Kept> = kept.iter().filter(|k| k.id.to_string().starts_with(prefix)).collect();
        let id = match matches.as_slice() {
            [one] => one.id,
            _ => {
                return Err(self.failure(
                    format!("no instance is numbered `{prefix}` or has an id starting with it"),
                    Some("`instances` lists them".into()),
                ))
            }
        };
        let instance = self.backing.open(id).map_err(|why| self.failure(why, None))?;
        let number = self.instances.last().map_or(1, |e| e.number + 1);
        self.instances.push(Entry { number, instance, trace: Vec::new() });
        Ok(self.instances.len() - 1)
    }

    fn is_older(&self, entry: &Entry) -> bool {
        self.program.as_ref().is_some_and(|p| !Arc::ptr_eq(p, &entry.instance.program))
    }

    fn headline(&self, entry: &Entry) -> String {
        format!(
            "{} #{} {} (instance {})",
            entry.instance.spec().code,
            entry.number,
            entry.instance.status,
            entry.instance.id
        )
    }

    fn current_entry(&self) -> Option<&Entry> {
        self.current.map(|i| &self.instances[i])
    }

    fn current_entry_or_fail(&self) -> Result<&Entry, Failure> {
        self.current_entry().ok_or_else(|| self.no_instance())
    }

    fn current_index(&self) -> Result<usize, Failure> {
        self.current.ok_or_else(|| self.no_instance())
    }

    fn no_instance(&self) -> Failure {
        let help = match &self.program {
            Some(p) => format!("start one with `start CODE` ({})", p.codes().collect::<Vec<_>>().join(", ")),
            None => "load a file with `load FILE`, then `start CODE`".to_string(),
        };
        self.failure("there is no current instance", Some(help))
    }

    // -- stepping ---------------------------------------------------------

    /// Executes up to `limit` elements (all, for `None`), stopping at a wait
    /// state, the end, or before an element with a breakpoint.
    fn drive(&mut self, limit: Option<usize>) -> Result<String, Failure> {
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

    fn exec(&mut self, rest: &str) -> Result<String, Failure> {
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

    /// An element-instance by UId, unique UId prefix, or element name.
    fn resolve_activation(&self, instance: &Instance, target: &str) -> Result<Uuid, Failure> {
        if let Ok(uid) = Uuid::parse_str(target) {
            return Ok(uid);
        }
        let all = show::activations(instance);
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
                    Some(format!("give one UId: {}", uids.join(", "))),
                ))
            }
        }
    }

    fn advance(&mut self, rest: &str) -> Result<String, Failure> {
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
        entry.instance.clock = after;
        let fired = entry.instance.fire_due_timers(after);
        let mut out = format!("clock {before} → {after}\n");
        if fired > 0 {
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
            trace: true,
            ..RunOptions::default()
        })
    }

    /// Where the instance stands: what runs next and what waits, or how it ended.
    fn where_now(&self, index: usize) -> String {
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

    fn pending(&self) -> Result<String, Failure> {
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

    fn trace(&self, rest: &str) -> Result<String, Failure> {
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

    // -- breakpoints ------------------------------------------------------

    fn add_breakpoints(&mut self, rest: &str) -> Result<String, Failure> {
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

    fn remove_breakpoints(&mut self, rest: &str) -> Result<String, Failure> {
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

    // -- expressions and statements ---------------------------------------

    /// Checks and runs an input against the current instance's parameters
    /// (or against none, before any instance exists).
    fn evaluate(&mut self, text: &str) -> Result<String, Failure> {
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

    // -- messages ---------------------------------------------------------

    fn words(&self, rest: &str) -> Result<Vec<String>, Failure> {
        input::words(rest).map_err(|m| self.failure(m, None))
    }

    fn usage(&self, command: &str) -> Failure {
        let c = help::find(command).map_or(command, |c| c.usage);
        self.failure(format!("usage: {c}"), Some(format!("`help {command}` tells more")))
    }

    fn unknown_command(&self, word: &str) -> Failure {
        match nearest_command(word) {
            Some(command) => self.unknown_command_with(word, command),
            None => self.failure(format!("unknown command `{word}`"), Some("`help` lists the commands".into())),
        }
    }

    fn unknown_command_with(&self, word: &str, command: &str) -> Failure {
        self.failure(
            format!("unknown command `{word}`"),
            Some(format!("did you mean `{command}`? (`help` lists the commands)")),
        )
    }

    /// `error: …` and `  help: …`, as the command line reports errors.
    fn failure(&self, message: impl std::fmt::Display, help: Option<String>) -> Failure {
        let mut text = format!("{} {message}\n", paint(self.options.color, RED, "error:"));
        if let Some(help) = help {
            let _ = writeln!(text, "  help: {help}");
        }
        text
    }

    fn report(&self, error: &dyn miette::Diagnostic) -> Failure {
        self.failure(error, error.help().map(|h| h.to_string()))
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

fn show_log(lines: &[String], out: &mut String) {
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

/// The command a mistyped word most likely meant: a near spelling (one
/// swap of neighbouring letters counts as one edit), or the same letters in
/// another order (`tpes`).
fn nearest_command(word: &str) -> Option<&'static str> {
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

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

const RED: &str = "31";
const GREEN: &str = "32";
const YELLOW: &str = "33";
const CYAN: &str = "36";

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}
