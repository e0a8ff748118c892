//! The REPL's session: loaded definitions, live instances, the current one,
//! breakpoints. [`Session::execute_line`] takes one input and returns the
//! text to show, so the session can be tested, scripted and driven by any
//! front end; the line editor lives with the binary.
//!
//! This file holds the session's state and the command table; each group
//! of commands is in its own file (`definitions`, `instances`, `stepping`,
//! `breakpoints`, `evaluate`), with `messages` for how refusals are worded
//! and `show` for how things are printed.
//!
//! ```
//! use procdsl::repl::{Session, SessionOptions};
//! let mut session = Session::new(SessionOptions::default());
//! assert_eq!(session.execute_line("1 + 2").text, "3\n");
//! assert!(session.execute_line("quit").quit);
//! ```

mod backing;
mod breakpoints;
mod complete;
mod definitions;
mod evaluate;
mod help;
mod input;
mod instances;
mod messages;
mod show;
mod stepping;
mod testing;

pub use backing::{Backing, Kept, Memory, Stored};
pub use complete::{Completions, PendingName};
pub use input::is_incomplete;

use crate::check::spec::Program;
use crate::runtime::builtins;
use crate::runtime::engine::{TraceEvent, DEFAULT_MAX_MEMORY, DEFAULT_MAX_STEPS};
use crate::runtime::instance::Instance;
use crate::source::SourceMap;
use jiff::Timestamp;
use std::path::PathBuf;
use std::sync::Arc;

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
            "test" => self.run_tests(rest),
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
}
