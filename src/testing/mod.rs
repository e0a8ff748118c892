//! The test runner: runs the `test` blocks of `.proc` files, each on a
//! fresh in-memory world with virtual time, in parallel on every core.
//! `procdsl test` and the REPL use it; a Rust project can call it from
//! `cargo test`:
//!
//! ```
//! let suite = procdsl::testing::Suite::from_source("t.proc", r#"
//!     process UsrDouble {
//!         in  X: Integer
//!         out Y: Integer
//!         start Begin -> Calc
//!         script Calc { Y = X * 2 } -> Done
//!         end Done
//!     }
//!     test "doubles" {
//!         start UsrDouble { X = 21 }
//!         expect Y == 42
//!     }
//! "#).unwrap();
//! let results = suite.run(None, |_| {});
//! assert!(results.iter().all(|r| r.failure.is_none()));
//! ```

pub mod coverage;
pub mod junit;

use crate::check::spec::Program;
use crate::check::testing::{Expect, Step, StepSpec, TestSpec};
use crate::check::{self, LoadError, Snippet};
use crate::diagnostic::Diagnostic;
use crate::runtime::engine::{ClockMode, Outcome, Run, RunOptions, TraceEvent};
use crate::runtime::instance::{Instance, Status};
use crate::runtime::snippet::eval_detached;
use crate::runtime::value::Value;
use crate::runtime::{convert, engine};
use crate::source::Span;
use jiff::Timestamp;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// Where virtual time starts unless a test says `now "…"`.
pub const DEFAULT_START: &str = "2026-01-01T00:00:00Z";

/// The steps an expression of a test may take.
const EXPR_STEPS: u64 = 1_000_000;

/// How many timers one `advance` may fire before the test fails (a
/// reminder every second, advanced by a year, would never end).
const MAX_FIRINGS: usize = 100_000;

/// A checked program and its tests.
#[derive(Debug)]
pub struct Suite {
    pub program: Arc<Program>,
    pub tests: Vec<TestSpec>,
    /// Where each line of each file starts (by file id): a test's line is
    /// found without scanning its file, which holds a thousand tests at times.
    line_starts: Vec<Vec<usize>>,
}

/// An element of a process, by process Code and element name.
pub type ElementKey = (Arc<str>, Arc<str>);
/// A flow of a process: process Code, from, to.
pub type FlowKey = (Arc<str>, Arc<str>, Arc<str>);

/// How one test went.
#[derive(Debug)]
pub struct TestResult {
    pub name: String,
    /// `file:line:column` of `test "name"`.
    pub location: String,
    /// The file the test is written in, and the line of `test "name"`.
    pub file: String,
    pub line: usize,
    pub failure: Option<Failure>,
    /// Every element and flow any instance of the test passed.
    pub elements: BTreeSet<ElementKey>,
    pub flows: BTreeSet<FlowKey>,
    pub seconds: f64,
}

impl TestResult {
    /// No step failed.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Why a test failed: a message, where (the step), and the report with the
/// step's source excerpt, what was expected and what was found.
#[derive(Debug, Clone)]
pub struct Failure {
    pub message: String,
    /// `file:line:column` of the failing step.
    pub location: String,
    /// The miette report (no colour).
    pub report: String,
}

impl Suite {
    /// Loads and checks `.proc` files and what they import.
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<Suite, LoadError> {
        check::load_files(paths).map(Suite::from_loaded)
    }

    /// Loads and checks one in-memory source.
    pub fn from_source(name: &str, text: &str) -> Result<Suite, LoadError> {
        check::load_str(name, text).map(Suite::from_loaded)
    }

    fn from_loaded(loaded: check::Loaded) -> Suite {
        let line_starts = loaded
            .program
            .sources
            .files()
            .map(|(_, f)| std::iter::once(0).chain(f.text.match_indices('\n').map(|(i, _)| i + 1)).collect())
            .collect();
        Suite { program: Arc::new(loaded.program), tests: loaded.tests, line_starts }
    }

    /// The file, line and column of a test's name.
    fn locate(&self, span: Span) -> crate::source::Location {
        let file = self.program.sources.file(span.file);
        let start = span.start as usize;
        let Some(starts) = self.line_starts.get(span.file.0 as usize) else {
            return self.program.sources.locate(span);
        };
        let line = starts.partition_point(|&s| s <= start).max(1);
        let column = file.text.get(starts[line - 1]..start).map_or(1, |t| t.chars().count() + 1);
        crate::source::Location { file: file.name.clone(), line, column }
    }

    /// Keeps only the tests written in the file shown as `name` (not those
    /// of the files it imports, which are tested on their own).
    pub fn keep_tests_of(&mut self, name: &str) {
        let sources = &self.program.sources;
        self.tests.retain(|t| sources.file(t.span.file).name == name);
    }

    /// The tests whose name contains `filter` (all without one).
    pub fn selected<'a>(&'a self, filter: Option<&'a str>) -> impl Iterator<Item = &'a TestSpec> + 'a {
        self.tests.iter().filter(move |t| filter.is_none_or(|f| t.name.contains(f)))
    }

    /// Runs the selected tests on every core; `done` sees each result as
    /// it finishes. Results come back in the order the tests are written.
    pub fn run(&self, filter: Option<&str>, done: impl Fn(&TestResult) + Sync) -> Vec<TestResult> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.run_with(filter, cores, done)
    }

    /// [`Suite::run`] on at most `threads` threads (one: in the order written).
    pub fn run_with(&self, filter: Option<&str>, threads: usize, done: impl Fn(&TestResult) + Sync) -> Vec<TestResult> {
        let tests: Vec<&TestSpec> = self.selected(filter).collect();
        let threads = threads.clamp(1, tests.len().max(1));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let slots: Vec<std::sync::Mutex<Option<TestResult>>> = tests.iter().map(|_| Default::default()).collect();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(test) = tests.get(i) else { break };
                    let result = self.run_one(test).0;
                    done(&result);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(result);
                    }
                });
            }
        });
        slots.into_iter().filter_map(|s| s.into_inner().ok().flatten()).collect()
    }

    /// Runs one test and hands back its world: the instances it started,
    /// newest last (the REPL keeps a failing test's for inspection).
    pub fn run_one(&self, test: &TestSpec) -> (TestResult, Vec<Instance>) {
        let began = std::time::Instant::now();
        let mut world = World::new(self.program.clone());
        let mut failure = None;
        for step in &test.steps {
            if let Err(found) = world.step(step) {
                failure = Some(self.failure(step.span, found));
                break;
            }
        }
        let location = self.locate(test.span);
        let result = TestResult {
            name: test.name.clone(),
            file: location.file.clone(),
            line: location.line,
            location: location.to_string(),
            failure,
            elements: world.elements,
            flows: world.flows,
            seconds: began.elapsed().as_secs_f64(),
        };
        (result, world.instances)
    }

    fn failure(&self, at: Span, found: Found) -> Failure {
        let mut d = Diagnostic::error("procdsl::test::failed", found.message.clone()).with_label(at, found.label);
        if !found.found.is_empty() {
            d = d.with_help(format!("found: {}", found.found));
        }
        Failure {
            message: found.message,
            location: self.program.sources.locate(at).to_string(),
            report: d.render(&self.program.sources, false),
        }
    }
}

/// A failed step: the message, the label under the step, what was found.
struct Found {
    message: String,
    label: String,
    found: String,
}

fn fail<T>(message: impl Into<String>, label: impl Into<String>, found: impl Into<String>) -> Result<T, Found> {
    Err(Found { message: message.into(), label: label.into(), found: found.into() })
}

/// The in-memory world of one test.
struct World {
    original: Arc<Program>,
    /// The program `start` uses: the original, or one with mocked processes.
    program: Arc<Program>,
    /// Mocked process Code → (the original process's span, its replacement).
    mocks: Vec<(Arc<str>, Span, Arc<str>)>,
    mocks_changed: bool,
    now: Timestamp,
    instances: Vec<Instance>,
    /// What each instance passed, by the instance's index.
    passed: Vec<BTreeSet<Arc<str>>>,
    elements: BTreeSet<ElementKey>,
    flows: BTreeSet<FlowKey>,
}

impl World {
    fn new(program: Arc<Program>) -> World {
        World {
            original: program.clone(),
            program,
            mocks: Vec::new(),
            mocks_changed: false,
            now: DEFAULT_START.parse().unwrap_or(Timestamp::UNIX_EPOCH),
            instances: Vec::new(),
            passed: Vec::new(),
            elements: BTreeSet::new(),
            flows: BTreeSet::new(),
        }
    }

    fn options(&self) -> RunOptions {
        RunOptions { clock: ClockMode::Real, now: Some(self.now), trace: true, ..RunOptions::default() }
    }

    fn step(&mut self, step: &StepSpec) -> Result<(), Found> {
        match &step.kind {
            Step::Now(t) => self.now = *t,
            Step::Start { process, inputs } => self.start(*process, inputs)?,
            Step::Exec { element, index, fields } => self.exec(element, *index, fields)?,
            Step::Signal(name) => {
                let mut thrown = vec![name.clone()];
                self.deliver(None, &mut thrown);
            }
            Step::Advance(by) => {
                let to = self.now.to_zoned_datetime(jiff::tz::TimeZone::UTC).checked_add(*by).map(|z| z.timestamp());
                match to {
                    Ok(to) => self.advance(to)?,
                    Err(e) => return fail(format!("the clock cannot move by {by}: {e}"), "here", ""),
                }
            }
            Step::AdvanceTo(expr) => match self.constant(expr)? {
                Value::DateTime(t) => self.advance(t.timestamp())?,
                Value::Date(d) => self.advance(crate::runtime::value::UtcDateTime::from(d).timestamp())?,
                other => return fail("`advance to` needs a DateTime", "not a DateTime", show(&other)),
            },
            Step::Mock { process, source, span } => {
                self.mocks.retain(|(code, _, _)| code != process);
                self.mocks.push((process.clone(), *span, source.clone()));
                self.mocks_changed = true;
            }
            Step::Expect(expect) => self.expect(expect)?,
        }
        Ok(())
    }

    fn start(&mut self, process: crate::check::spec::ProcessId, inputs: &[(Arc<str>, Snippet)]) -> Result<(), Found> {
        if self.mocks_changed {
            self.program = self.mocked_program()?;
            self.mocks_changed = false;
        }
        let code = &self.original.process(process).code;
        let Ok(id) = engine::find_process(&self.program, code) else {
            return fail(format!("process `{code}` is not in the mocked program"), "started here", "");
        };
        let mut instance = Instance::new(self.program.clone(), id, self.now);
        for (name, expr) in inputs {
            let value = self.constant(expr)?;
            if let Err(e) = instance.set_input_value(name, value.clone()) {
                return fail(format!("input `{name}`: {e}"), "this input", show(&value));
            }
        }
        self.instances.push(instance);
        self.passed.push(BTreeSet::new());
        let i = self.instances.len() - 1;
        let mut run = Run::new(self.options());
        self.instances[i].run(&mut run);
        self.absorb(i, &mut run);
        Ok(())
    }

    /// The original sources with each mocked process replaced, checked again.
    fn mocked_program(&self) -> Result<Arc<Program>, Found> {
        let mut files = Vec::new();
        for (id, file) in self.original.sources.files() {
            let mut text = file.text.to_string();
            let mut here: Vec<&(Arc<str>, Span, Arc<str>)> =
                self.mocks.iter().filter(|(_, span, _)| span.file == id).collect();
            here.sort_by_key(|(_, span, _)| std::cmp::Reverse(span.start));
            for (_, span, source) in here {
                text.replace_range(span.range(), source);
            }
            files.push((file.name.clone(), text));
        }
        match check::testing::load_without_tests(&files) {
            Ok(loaded) => Ok(Arc::new(loaded.program)),
            Err(e) => fail("the mocked processes do not check", "mocked here", e.render(false)),
        }
    }

    /// The newest instance, for `exec` and `expect`.
    fn newest(&self) -> Result<usize, Found> {
        match self.instances.len() {
            0 => fail("no instance has been started", "needs an instance", ""),
            n => Ok(n - 1),
        }
    }

    fn exec(&mut self, element: &str, index: Option<u64>, fields: &[(Arc<str>, Snippet)]) -> Result<(), Found> {
        let i = self.newest()?;
        let mut waiting = Vec::new();
        self.instances[i].collect_waiting(&mut waiting, false, None, None);
        let matching: Vec<_> = waiting.iter().filter(|w| w.element == element).collect();
        let chosen = match (index, matching.as_slice()) {
            (_, []) => {
                return fail(format!("`{element}` does not wait"), "nothing to execute", self.state(i, &[]));
            }
            (None, [one]) => one.uid,
            (None, many) => {
                return fail(
                    format!("{} element-instances of `{element}` wait", many.len()),
                    format!("write `{element}[i]` (0 to {}) to pick one", many.len() - 1),
                    self.state(i, &[]),
                )
            }
            (Some(k), many) => match many.get(k as usize) {
                Some(w) => w.uid,
                None => {
                    return fail(
                        format!("`{element}[{k}]`: only {} element-instances of `{element}` wait", many.len()),
                        "no such element-instance",
                        self.state(i, &[]),
                    )
                }
            },
        };
        let mut values = Vec::new();
        for (name, expr) in fields {
            let value = self.constant(expr)?;
            let text = match &value {
                // No value: the field keeps its default (or is missing).
                Value::Null => continue,
                Value::Text(t) => t.to_string(),
                other => match convert::to_json(other) {
                    serde_json::Value::String(s) => s,
                    json => json.to_string(),
                },
            };
            values.push((name.to_string(), text));
        }
        let mut run = Run::new(self.options());
        let outcome = self.instances[i].exec(chosen, &values, &mut run);
        self.absorb(i, &mut run);
        if let Err(e) = outcome {
            return fail(format!("`exec {element}` was refused: {e}"), "this step", self.state(i, &[]));
        }
        Ok(())
    }

    /// Moves the clock to `to`, firing each due timer of every instance in time order.
    fn advance(&mut self, to: Timestamp) -> Result<(), Found> {
        let mut fired = 0;
        loop {
            let due = self.instances.iter().filter(|i| !i.status.is_finished()).filter_map(|i| i.next_due()).min();
            let Some(due) = due.filter(|d| *d <= to) else { break };
            self.now = self.now.max(due);
            let mut moved = false;
            for i in 0..self.instances.len() {
                let instance = &mut self.instances[i];
                if instance.status.is_finished() || instance.next_due().is_none_or(|d| d > due) {
                    continue;
                }
                instance.clock = instance.clock.max(due);
                // Deadlines and reminders fire outside any run, so no trace
                // shows their flows: note them as they fall due.
                let mut boundaries = Vec::new();
                boundaries_due(instance, due, &mut boundaries);
                if instance.fire_due_timers(due) > 0 {
                    self.flows.extend(boundaries);
                    moved = true;
                    fired += 1;
                    let mut run = Run::new(self.options());
                    self.instances[i].run(&mut run);
                    self.absorb(i, &mut run);
                }
            }
            if !moved {
                break;
            }
            if fired > MAX_FIRINGS {
                return fail(format!("more than {MAX_FIRINGS} timers fired in one `advance`"), "this step", "");
            }
        }
        self.now = self.now.max(to);
        for instance in &mut self.instances {
            instance.clock = instance.clock.max(self.now);
        }
        Ok(())
    }

    /// Records what a run passed, then delivers the signals it threw to the
    /// test's other instances.
    fn absorb(&mut self, i: usize, run: &mut Run) {
        for event in run.trace.drain(..) {
            self.record(i, &event);
        }
        let mut thrown = std::mem::take(&mut run.emitted);
        self.deliver(Some(i), &mut thrown);
    }

    fn record(&mut self, i: usize, event: &TraceEvent) {
        self.passed[i].insert(event.element.clone());
        self.elements.insert((event.process.clone(), event.element.clone()));
        let targets: Vec<Arc<str>> = match &event.outcome {
            Outcome::Moved(next) => next.clone(),
            Outcome::Handled { handler, .. } => vec![handler.clone()],
            Outcome::DeadlinePassed { target } => vec![target.clone()],
            _ => Vec::new(),
        };
        for to in targets {
            self.flows.insert((event.process.clone(), event.element.clone(), to));
        }
    }

    /// Delivers each signal to every live instance but the one that threw
    /// it (its own run delivered it already), and what those runs throw in turn.
    fn deliver(&mut self, from: Option<usize>, signals: &mut Vec<Arc<str>>) {
        let mut queue: Vec<(Arc<str>, Option<usize>)> = signals.drain(..).map(|s| (s, from)).collect();
        let mut rounds = 0;
        while let Some((name, from)) = queue.pop() {
            rounds += 1;
            if rounds > MAX_FIRINGS {
                break;
            }
            for i in 0..self.instances.len() {
                if Some(i) == from || self.instances[i].status.is_finished() {
                    continue;
                }
                if self.instances[i].deliver_signal(&name) > 0 {
                    let mut run = Run::new(self.options());
                    self.instances[i].run(&mut run);
                    for event in run.trace.drain(..) {
                        self.record(i, &event);
                    }
                    queue.extend(run.emitted.drain(..).map(|s| (s, Some(i))));
                }
            }
        }
    }

    fn constant(&self, snippet: &Snippet) -> Result<Value, Found> {
        match eval_detached(snippet, self.now, EXPR_STEPS) {
            Ok(outcome) => Ok(outcome.value.unwrap_or_default()),
            Err(e) => fail(format!("the value failed: {}", e.message), "this step", ""),
        }
    }

    fn expect(&mut self, expect: &Expect) -> Result<(), Found> {
        let i = self.newest()?;
        let instance = &self.instances[i];
        match expect {
            Expect::Expr { snippet, reads } => {
                let value = match self.instances[i].eval_snippet(snippet, EXPR_STEPS) {
                    Ok(outcome) => outcome.value.unwrap_or_default(),
                    Err(e) => {
                        return fail(
                            format!("the expectation failed: {}", e.message),
                            "this expectation",
                            self.state(i, reads),
                        )
                    }
                };
                match value {
                    Value::Boolean(true) => {}
                    Value::Boolean(false) => {
                        return fail("the expectation does not hold", "false here", self.state(i, reads))
                    }
                    other => {
                        return fail(
                            format!("an expectation must be a Boolean, this one is {}", show(&other)),
                            "not a Boolean",
                            self.state(i, reads),
                        )
                    }
                }
            }
            Expect::Status(status) if instance.status != *status => {
                return fail(
                    format!("expected status {}, found {}", status.as_str(), instance.status.as_str()),
                    "this expectation",
                    self.state(i, &[]),
                );
            }
            Expect::Status(_) => {}
            Expect::Waiting(names) => {
                let expected: BTreeSet<&str> = names.iter().map(|n| &**n).collect();
                let waiting = self.waiting(i);
                let found: BTreeSet<&str> = waiting.iter().map(String::as_str).collect();
                if expected != found {
                    let list = |s: &BTreeSet<&str>| {
                        if s.is_empty() {
                            "nothing".to_string()
                        } else {
                            s.iter().copied().collect::<Vec<_>>().join(", ")
                        }
                    };
                    return fail(
                        format!("expected {} to wait, found {}", list(&expected), list(&found)),
                        "this expectation",
                        self.state(i, &[]),
                    );
                }
            }
            Expect::Passed(names) => {
                let missing: Vec<&str> = names.iter().filter(|n| !self.passed[i].contains(*n)).map(|n| &**n).collect();
                if !missing.is_empty() {
                    return fail(
                        format!(
                            "expected {} to have been executed, but {} never was",
                            names.join(", "),
                            missing.join(", ")
                        ),
                        "this expectation",
                        format!(
                            "passed: {}; {}",
                            self.passed[i].iter().map(|s| &**s).collect::<Vec<_>>().join(", "),
                            self.state(i, &[])
                        ),
                    );
                }
            }
            Expect::NotPassed(names) => {
                let ran: Vec<&str> = names.iter().filter(|n| self.passed[i].contains(*n)).map(|n| &**n).collect();
                if !ran.is_empty() {
                    return fail(
                        format!("expected {} never to be executed, but it was", ran.join(", ")),
                        "this expectation",
                        self.state(i, &[]),
                    );
                }
            }
            Expect::LogContains(text) => {
                if !instance.log.iter().any(|line| line.contains(text.as_str())) {
                    let log = instance.log.to_lines();
                    return fail(
                        format!("no log line contains {text:?}"),
                        "this expectation",
                        if log.is_empty() {
                            "the log is empty".to_string()
                        } else {
                            format!("log: {}", log.join(" | "))
                        },
                    );
                }
            }
            Expect::ErrorContains(text) => {
                let message = instance.error.as_ref().map(|e| e.message.clone());
                if !message.as_deref().is_some_and(|m| m.contains(text.as_str())) {
                    return fail(
                        format!("expected an error containing {text:?}"),
                        "this expectation",
                        match message {
                            Some(m) => format!("error: {m}"),
                            None => format!("no error; {}", self.state(i, &[])),
                        },
                    );
                }
            }
        }
        Ok(())
    }

    /// The element names waiting in instance `i` (sub-processes' included).
    fn waiting(&self, i: usize) -> Vec<String> {
        let mut waiting = Vec::new();
        self.instances[i].collect_waiting(&mut waiting, false, None, None);
        waiting.into_iter().map(|w| w.element).collect()
    }

    /// What a failure shows: status, waiting elements, the parameters read.
    fn state(&self, i: usize, reads: &[Arc<str>]) -> String {
        let instance = &self.instances[i];
        let waiting = self.waiting(i);
        let mut out = format!("status {}", instance.status.as_str());
        if !waiting.is_empty() {
            out.push_str(&format!("; waiting {}", waiting.join(", ")));
        }
        if let (Status::Failed, Some(error)) = (instance.status, &instance.error) {
            out.push_str(&format!("; error: {}", error.message));
        }
        let values: Vec<String> =
            reads.iter().map(|code| format!("{code} = {}", instance.param(code).map_or("null".into(), show))).collect();
        if !values.is_empty() {
            out.push_str(&format!("; {}", values.join(", ")));
        }
        out
    }
}

/// The deadline and reminder flows of the element-instances (of an
/// instance and its sub-processes) that fall due by `due`.
fn boundaries_due(instance: &Instance, due: Timestamp, out: &mut Vec<FlowKey>) {
    let spec = instance.spec();
    for w in &instance.waiting {
        let e = spec.element(w.element);
        if let (Some(at), Some(d)) = (w.deadline, &e.deadline) {
            if at <= due {
                out.push((spec.code.clone(), e.name.clone(), spec.element(d.flow.target).name.clone()));
            }
        }
        if let (Some(at), Some(r)) = (w.reminder, &e.reminder) {
            if at <= due {
                out.push((spec.code.clone(), e.name.clone(), spec.element(r.flow.target).name.clone()));
            }
        }
        if let crate::runtime::instance::Wait::Call { child } = &w.wait {
            boundaries_due(child, due, out);
        }
    }
}

/// A value as a failure shows it: JSON.
fn show(value: &Value) -> String {
    convert::to_json(value).to_string()
}
