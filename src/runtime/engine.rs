//! The element engine: moves an instance forward element by element with
//! tokens, waits at user tasks, timers, signals and sub-processes, and
//! executes one waiting element-instance by its UId.

use crate::check::ir::Script;
use crate::check::spec::{
    DeadlineSpec, ElementId, ElementKind, ElementSpec, Flow, ProcessId, ProcessSpec, Program, TimerSpec,
};
use crate::diagnostic::nearest;
use crate::runtime::eval::{conform_work, Budget, ErrorKind, Eval, RunError, Undo, BYTES_PER_STEP};
use crate::runtime::instance::*;
use crate::runtime::ops;
use crate::runtime::value::Value;
use crate::runtime::{access, convert, ids};
use jiff::Timestamp;
use std::sync::Arc;
use uuid::Uuid;

/// How deeply sub-processes may call sub-processes.
pub const MAX_CALL_DEPTH: u32 = 64;

/// The default step budget of one run: generous, but any run ends within
/// seconds (docs/LIMITS.md has the measured worst cases).
pub const DEFAULT_MAX_STEPS: u64 = 10_000_000;

/// The default memory budget of an instance, in bytes: what its parameters
/// and its log may hold (docs/LIMITS.md).
pub const DEFAULT_MAX_MEMORY: u64 = 256 * 1024 * 1024;

/// The log limit when a deadline fires outside a run (no budget at hand):
/// that of the default memory budget.
const DEADLINE_LOG_BYTES: u64 = DEFAULT_MAX_MEMORY / 4;

/// Which clock a run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// `procdsl run` and the REPL: timers fire as soon as nothing else can
    /// run, advancing the clock to their due time.
    Virtual,
    /// The service and the store: timers wait for real time (`tick`).
    Real,
}

/// Who the command line and the REPL act as.
pub const LOCAL_ACTOR: &str = "local";

/// How a run behaves: budgets, clock, trace, and who asked for it.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub max_steps: u64,
    /// The memory budget of each instance, in bytes (`--max-memory`).
    pub max_memory: u64,
    pub clock: ClockMode,
    /// Record a [`TraceEvent`] for every element executed.
    pub trace: bool,
    /// With the real clock: take this as the current time instead of the
    /// system clock (`tick --now`, tests).
    pub now: Option<Timestamp>,
    /// Who starts, executes or signals: a user or token name, recorded in
    /// the instance's history (and as its starter). [`LOCAL_ACTOR`] by default.
    pub actor: Arc<str>,
    /// The actor's roles, when an exec must respect a task's `to`
    /// ([`access::may_execute`]). None: no check (the command line and the
    /// REPL may execute any task).
    pub roles: Option<Vec<String>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            max_steps: DEFAULT_MAX_STEPS,
            max_memory: DEFAULT_MAX_MEMORY,
            clock: ClockMode::Virtual,
            trace: false,
            now: None,
            actor: LOCAL_ACTOR.into(),
            roles: None,
        }
    }
}

/// One parameter changed by an element.
#[derive(Clone, Debug)]
pub struct Change {
    pub code: Arc<str>,
    pub old: Value,
    pub new: Value,
}

/// What became of an executed element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The flow moved on to these elements.
    Moved(Vec<Arc<str>>),
    Waits,
    Ended,
    Terminated,
    /// Failed, and the `on error` handler took over.
    Handled {
        message: String,
        handler: Arc<str>,
    },
    Failed {
        message: String,
    },
    /// A waiting element-instance was cancelled by its deadline; the flow
    /// went to `target`.
    DeadlinePassed {
        target: Arc<str>,
    },
    /// A multi-instance element was activated: this many items wait.
    WaitsForItems(u32),
    /// One item of a multi-instance element was done; `left` still wait
    /// (0 when `until` cancelled them: then `cancelled` says how many).
    ItemDone {
        index: u32,
        left: u32,
        cancelled: u32,
        /// Where the flow went, when `until` ended the element.
        next: Vec<Arc<str>>,
    },
}

/// How a trace line ends: ` -> Next`, ` waits`, ` failed: …`.
impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Moved(next) if next.is_empty() => Ok(()),
            Outcome::Moved(next) => {
                let names: Vec<&str> = next.iter().map(|n| &**n).collect();
                write!(f, " -> {}", names.join(", "))
            }
            Outcome::Waits => f.write_str(" waits"),
            Outcome::Ended => f.write_str(" ends its path"),
            Outcome::Terminated => f.write_str(" terminates the instance"),
            Outcome::Handled { message, handler } => write!(f, " failed: {message}; on error -> {handler}"),
            Outcome::Failed { message } => write!(f, " failed: {message}"),
            Outcome::DeadlinePassed { target } => write!(f, " cancelled by its deadline -> {target}"),
            Outcome::WaitsForItems(n) => write!(f, " waits: {n} item{}", if *n == 1 { "" } else { "s" }),
            Outcome::ItemDone { index, left, cancelled: 0, .. } => write!(f, " item {index} done, {left} still wait"),
            Outcome::ItemDone { index, cancelled, next, .. } => {
                write!(f, " item {index} done; `until` holds, {cancelled} cancelled")?;
                Outcome::Moved(next.clone()).fmt(f)
            }
        }
    }
}

/// One element executed, for `--trace` and the REPL.
#[derive(Clone, Debug)]
pub struct TraceEvent {
    /// 0 for the instance itself, 1 for its sub-process, …
    pub depth: u32,
    pub process: Arc<str>,
    pub element: Arc<str>,
    pub kind: &'static str,
    pub uid: Uuid,
    pub changes: Vec<Change>,
    pub outcome: Outcome,
}

/// The state of one run call: budget, clock, trace, signals thrown.
#[derive(Debug)]
pub struct Run {
    pub options: RunOptions,
    pub budget: Budget,
    pub now: Timestamp,
    pub trace: Vec<TraceEvent>,
    /// Every signal thrown during the run, for a store to deliver to other instances.
    pub emitted: Vec<Arc<str>>,
    pub elements_executed: u64,
    element_signals: Vec<Arc<str>>,
    pending_signals: Vec<Arc<str>>,
    undo: Undo,
    locals: Vec<Value>,
}

impl Run {
    /// A run with these options and a full step budget.
    pub fn new(options: RunOptions) -> Run {
        Run {
            budget: Budget::new(options.max_steps).with_memory(options.max_memory),
            options,
            now: Timestamp::UNIX_EPOCH,
            trace: Vec::new(),
            emitted: Vec::new(),
            elements_executed: 0,
            element_signals: Vec::new(),
            pending_signals: Vec::new(),
            undo: Undo::default(),
            locals: Vec::new(),
        }
    }

    /// The same run, stopped (as by its step budget) once `deadline` has
    /// passed: the service stops the work of a request that timed out.
    pub fn until(mut self, deadline: std::time::Instant) -> Run {
        self.budget = self.budget.with_deadline(deadline);
        self
    }

    /// Was the run stopped by its deadline?
    pub fn timed_out(&self) -> bool {
        self.budget.timed_out
    }
}

/// A process input that cannot be used; nothing runs after one.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
pub enum InputError {
    /// `unknown process `UsrOrdr``, with the nearest Code as help.
    #[error("unknown process `{code}`")]
    #[diagnostic(code(procdsl::input::unknown_process))]
    UnknownProcess {
        code: String,
        #[help]
        help: Option<String>,
    },
    /// `process `UsrOrder` has no parameter `Amont``, with the nearest Code.
    #[error("process `{process}` has no parameter `{code}`")]
    #[diagnostic(code(procdsl::input::unknown_parameter))]
    UnknownParameter {
        process: String,
        code: String,
        #[help]
        help: Option<String>,
    },
    /// `parameter `Big` of `UsrOrder` is `out`: a caller may not pass a value for it`.
    #[error("parameter `{code}` of `{process}` is `{direction}`: a caller may not pass a value for it")]
    #[diagnostic(
        code(procdsl::input::not_an_input),
        help("only `in` and `inout` parameters take values from a caller")
    )]
    NotAnInput { process: String, code: String, direction: &'static str },
    /// `parameter `X` (Integer): "abc" is not an Integer`.
    #[error("parameter `{code}` ({ty}): {message}")]
    #[diagnostic(code(procdsl::input::bad_value))]
    BadValue { code: String, ty: String, message: String },
    /// `process `UsrAnswer` has no result parameter `Nope``.
    #[error("process `{process}` has no result parameter `{name}`")]
    #[diagnostic(code(procdsl::input::unknown_result))]
    UnknownResult {
        process: String,
        name: String,
        #[help]
        help: Option<String>,
    },
}

/// Executing an element-instance by UId was refused; the instance is unchanged.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
pub enum ExecError {
    /// `no waiting element-instance has UId …`
    #[error("no waiting element-instance has UId {uid}")]
    #[diagnostic(
        code(procdsl::exec::unknown_uid),
        help("list the waiting element-instances with `procdsl show ID` or `pending` in the REPL")
    )]
    UnknownUid { uid: Uuid },
    /// `instance … is Completed: its elements can no longer be executed`
    #[error("instance {instance} is {status}: its elements can no longer be executed")]
    #[diagnostic(code(procdsl::exec::finished))]
    Finished { instance: Uuid, status: Status },
    /// `element `Ship` waits for its sub-process: execute one of the sub-process's waiting elements`
    #[error(
        "element `{element}` waits for its sub-process: execute one of the sub-process's waiting elements instead"
    )]
    #[diagnostic(code(procdsl::exec::not_executable))]
    NotExecutable { element: String },
    /// `element `Approve`: field `Decision` (Boolean) is required`, and other field problems.
    #[error("element `{element}`: {message}")]
    #[diagnostic(
        code(procdsl::exec::bad_field),
        help("the element still waits; execute it again with correct values")
    )]
    BadField { element: String, message: String },
    /// `element-instance … was cancelled by the deadline of `Approve` (…)`.
    #[error(
        "element-instance {uid} was cancelled by the deadline of `{element}` ({at}): it can no longer be executed"
    )]
    #[diagnostic(
        code(procdsl::exec::cancelled_by_deadline),
        help("the flow went to the deadline's target instead; see what waits now with `procdsl show ID` or `pending` in the REPL")
    )]
    CancelledByDeadline { uid: Uuid, element: String, at: String },
    /// `element-instance … (an item of `Review`) was cancelled: `until` held …`.
    #[error("element-instance {uid} (an item of `{element}`) was cancelled {why}: it can no longer be executed")]
    #[diagnostic(
        code(procdsl::exec::item_cancelled),
        help("see what waits now with `procdsl show ID` or `pending` in the REPL")
    )]
    ItemCancelled { uid: Uuid, element: String, why: &'static str },
    /// `` `Approve` is assigned to managers, alice ``: the caller may not execute it.
    #[error(transparent)]
    #[diagnostic(transparent)]
    NotAssigned(#[from] access::NotAssigned),
}

/// What executing by UId did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecOutcome {
    Executed,
    /// The element-instance had been executed before: nothing was done.
    AlreadyExecuted,
}

/// What an element asks the engine to do next.
enum Act {
    Next,
    One(Flow),
    Many(Vec<Flow>),
    Wait(Wait),
    /// A multi-instance element's items wait (already in `waiting`).
    Items(u32),
    /// One item done, others still wait (or `until` cancelled them).
    ItemDone {
        index: u32,
        left: u32,
        cancelled: u32,
    },
    End,
    Terminate,
}

impl Instance {
    /// Sets `in` and `inout` parameters from strings, as a caller sends
    /// them (`-p Code=value`, a query string, a key-value collection).
    pub fn set_inputs<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        inputs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), InputError> {
        let program = self.program.clone();
        let spec = program.process(self.process);
        for (code, text) in inputs {
            let code = code.as_ref();
            let slot = input_slot(spec, code)?;
            let param = &spec.params[slot];
            self.params[slot] = convert::from_input(text.as_ref(), &param.ty).map_err(|message| {
                InputError::BadValue { code: code.to_string(), ty: param.ty.to_string(), message }
            })?;
        }
        Ok(())
    }

    /// Sets one `in` or `inout` parameter to a typed value.
    pub fn set_input_value(&mut self, code: &str, value: Value) -> Result<(), InputError> {
        let program = self.program.clone();
        let spec = program.process(self.process);
        let slot = input_slot(spec, code)?;
        let param = &spec.params[slot];
        self.params[slot] = convert::conform(value, &param.ty).map_err(|message| InputError::BadValue {
            code: code.to_string(),
            ty: param.ty.to_string(),
            message,
        })?;
        Ok(())
    }

    /// Runs until the instance waits or ends.
    pub fn run(&mut self, run: &mut Run) {
        match stack_needed(&self.program) {
            None => self.run_here(run),
            Some(bytes) => stacker::maybe_grow(bytes, bytes * 2, || self.run_here(run)),
        }
    }

    fn run_here(&mut self, run: &mut Run) {
        self.begin(run);
        let program = self.program.clone();
        while self.advance(&program, run) {
            self.deliver_signals(run);
        }
        self.finish_run(run);
    }

    /// Executes the next pending element (or fires the next due timer in
    /// virtual time). Returns false when nothing could move.
    pub fn step(&mut self, run: &mut Run) -> bool {
        match stack_needed(&self.program) {
            None => self.step_here(run),
            Some(bytes) => stacker::maybe_grow(bytes, bytes * 2, || self.step_here(run)),
        }
    }

    fn step_here(&mut self, run: &mut Run) -> bool {
        self.begin(run);
        let program = self.program.clone();
        let moved = self.advance(&program, run);
        self.deliver_signals(run);
        self.finish_run(run);
        moved
    }

    /// Executes one element-instance by its UId (a waiting user task, timer
    /// or signal, or a pending element), with field values for a user task,
    /// then runs on until the instance waits again or ends.
    pub fn exec<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        uid: Uuid,
        fields: &[(K, V)],
        run: &mut Run,
    ) -> Result<ExecOutcome, ExecError> {
        let outcome = self.exec_only(uid, fields, run)?;
        if outcome == ExecOutcome::Executed {
            self.run(run);
        }
        Ok(outcome)
    }

    /// Like [`Instance::exec`], but stops right after that element (the REPL steps this way);
    /// a pending user task given field values arrives and is executed with them.
    pub fn exec_only<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        uid: Uuid,
        fields: &[(K, V)],
        run: &mut Run,
    ) -> Result<ExecOutcome, ExecError> {
        if self.was_executed(uid) {
            return Ok(ExecOutcome::AlreadyExecuted);
        }
        let now = match run.options.clock {
            ClockMode::Virtual => self.clock.max(run.now),
            ClockMode::Real => run.options.now.unwrap_or_else(Timestamp::now),
        };
        if let Some(refusal) = self.deadline_refusal(uid, now) {
            return Err(refusal);
        }
        if self.status.is_finished() {
            return Err(if self.holds_uid(uid) {
                ExecError::Finished { instance: self.id, status: self.status }
            } else {
                ExecError::UnknownUid { uid }
            });
        }
        if let (Some(roles), Some((element, to))) = (&run.options.roles, self.assignment(uid)) {
            access::may_execute(&element, to.unwrap_or_default(), &run.options.actor, roles)?;
        }
        self.begin(run);
        let found = match stack_needed(&self.program) {
            None => self.exec_in_tree(uid, fields, run),
            Some(bytes) => stacker::maybe_grow(bytes, bytes * 2, || self.exec_in_tree(uid, fields, run)),
        };
        self.deliver_signals(run);
        self.finish_run(run);
        match found? {
            Some(element) => {
                self.record(HistoryEntry {
                    at: run.now,
                    who: run.options.actor.to_string(),
                    action: Action::Exec,
                    element: Some(element.to_string()),
                    signal: None,
                });
                Ok(ExecOutcome::Executed)
            }
            None => Err(ExecError::UnknownUid { uid }),
        }
    }

    /// The user task waiting as this element-instance (here or in a
    /// sub-process): its name and its evaluated `to`, if it has one.
    pub fn assignment(&self, uid: Uuid) -> Option<(Arc<str>, Option<&[String]>)> {
        self.waiting.iter().find_map(|w| match &w.wait {
            Wait::User { to } if w.uid == uid => Some((self.spec().element(w.element).name.clone(), to.as_deref())),
            Wait::Call { child } => child.assignment(uid),
            _ => None,
        })
    }

    /// Cancels the instance, recording who did it and when.
    pub fn cancel_by(&mut self, actor: &str, at: Timestamp) {
        if self.status.is_finished() {
            return;
        }
        self.cancel();
        self.record(HistoryEntry { at, who: actor.to_string(), action: Action::Cancel, element: None, signal: None });
    }

    /// Cancels the instance: nothing of it runs again.
    pub fn cancel(&mut self) {
        if self.status.is_finished() {
            return;
        }
        self.stop();
        self.status = Status::Cancelled;
    }

    /// Moves every element waiting for this signal (here and in
    /// sub-processes) on; returns how many. Run the instance afterwards.
    pub fn deliver_signal(&mut self, name: &str) -> usize {
        self.resume_where(&|wait| matches!(wait, Wait::Signal { name: n } if &**n == name))
    }

    /// Fires what is due at `now`, here and in sub-processes, in time
    /// order; returns how many timers, reminders and deadlines fired.
    /// Timers and reminders fire first; a deadline fires only when no timer
    /// or reminder is due at or before it, so one that falls at the same
    /// moment as other due work fires after it (run the instance, then call
    /// this again).
    pub fn fire_due_timers(&mut self, now: Timestamp) -> usize {
        self.fire_due(now, None)
    }

    /// [`Instance::fire_due_timers`], recording a trace event for each
    /// deadline that fired when `trace` is given.
    fn fire_due(&mut self, now: Timestamp, trace: Option<&mut Vec<TraceEvent>>) -> usize {
        let timer = self.next_timer().filter(|t| *t <= now);
        let deadline = self.next_deadline().filter(|d| *d <= now);
        let mut unused = Vec::new();
        let (events, record) = match trace {
            Some(events) => (events, true),
            None => (&mut unused, false),
        };
        match (timer, deadline) {
            (Some(t), Some(d)) if d < t => self.fire_deadlines(now, Some(t), events, record),
            (Some(t), deadline) => self.fire_timers(deadline.map_or(now, |d| d.min(now)).max(t), now),
            (None, Some(_)) => self.fire_deadlines(now, None, events, record),
            (None, None) => 0,
        }
    }

    /// Fires the timers and reminders due by `limit`; a reminder is then
    /// due again one period after, or, when ticks came late, after `now`.
    fn fire_timers(&mut self, limit: Timestamp, now: Timestamp) -> usize {
        let program = self.program.clone();
        let spec = program.process(self.process);
        let mut count = 0;
        let mut i = 0;
        while i < self.waiting.len() {
            if matches!(self.waiting[i].wait, Wait::Timer { due } if due <= limit) {
                let w = self.waiting.remove(i);
                self.queue.push_back(Token { uid: w.uid, element: w.element, resumed: true });
                count += 1;
                continue;
            }
            if let Some(at) = self.waiting[i].reminder.filter(|at| *at <= limit) {
                let e = spec.element(self.waiting[i].element);
                if let Some(reminder) = &e.reminder {
                    self.waiting[i].reminder = next_reminder(at, reminder.every, now);
                    self.arrive(spec, reminder.flow);
                    count += 1;
                }
            }
            if let Wait::Call { child } = &mut self.waiting[i].wait {
                count += child.fire_timers(limit, now);
            }
            i += 1;
        }
        if count > 0 && !self.status.is_finished() {
            self.status = Status::Running;
        }
        count
    }

    /// Fires the deadlines due by `now` (and before `before`, when a timer
    /// is due then): each cancels its element-instance, with a call's
    /// sub-process, and sends the flow to its target.
    fn fire_deadlines(
        &mut self,
        now: Timestamp,
        before: Option<Timestamp>,
        events: &mut Vec<TraceEvent>,
        record: bool,
    ) -> usize {
        let program = self.program.clone();
        let spec = program.process(self.process);
        let is_due = |d: Timestamp| d <= now && before.is_none_or(|b| d < b);
        let mut count = 0;
        let mut i = 0;
        while i < self.waiting.len() {
            if let Some(at) = self.waiting[i].deadline.filter(|d| is_due(*d)) {
                let mut w = self.waiting.remove(i);
                let e = spec.element(w.element);
                let Some(deadline) = &e.deadline else { continue };
                self.expired.push(Expired {
                    uid: w.uid,
                    element: e.name.to_string(),
                    at,
                    cause: CancelCause::Deadline,
                });
                if let Wait::Call { child } = &mut w.wait {
                    child.expire_all(&e.name, at, CancelCause::Deadline, &mut self.expired);
                    child.cancel();
                    self.log.append(std::mem::take(&mut child.log), DEADLINE_LOG_BYTES);
                }
                // A multi-instance element's deadline is the element's: every
                // item still waiting goes with it, and the flow moves on once.
                if let Some(item) = &w.item {
                    let removed = self.cancel_items(item.group, at, CancelCause::Deadline, DEADLINE_LOG_BYTES);
                    i -= removed.iter().filter(|j| **j < i).count();
                    self.multi.retain(|m| m.group != item.group);
                }
                self.log.push(
                    format!(
                        "element `{}` was cancelled by its deadline ({at}); deadline -> {}",
                        e.name,
                        spec.element(deadline.flow.target).name
                    ),
                    DEADLINE_LOG_BYTES,
                );
                if record {
                    events.push(TraceEvent {
                        depth: self.depth,
                        process: spec.code.clone(),
                        element: e.name.clone(),
                        kind: e.kind_name(),
                        uid: w.uid,
                        changes: Vec::new(),
                        outcome: Outcome::DeadlinePassed { target: spec.element(deadline.flow.target).name.clone() },
                    });
                }
                self.arrive(spec, deadline.flow);
                count += 1;
                continue;
            }
            if let Wait::Call { child } = &mut self.waiting[i].wait {
                count += child.fire_deadlines(now, before, events, record);
            }
            i += 1;
        }
        if count > 0 && !self.status.is_finished() {
            self.status = Status::Running;
        }
        count
    }

    /// Records every live element-instance of this (cancelled) sub-process
    /// as cancelled by its caller's deadline.
    fn expire_all(&self, element: &str, at: Timestamp, cause: CancelCause, out: &mut Vec<Expired>) {
        for uid in self.queue.iter().map(|t| t.uid) {
            out.push(Expired { uid, element: element.to_string(), at, cause });
        }
        for w in &self.waiting {
            out.push(Expired { uid: w.uid, element: element.to_string(), at, cause });
            if let Wait::Call { child } = &w.wait {
                child.expire_all(element, at, cause, out);
            }
        }
    }

    /// Why executing this element-instance is refused because of a
    /// deadline: its deadline (or its caller's) fired, or has passed at `now`
    /// without having fired yet (a deadline racing an exec wins from its
    /// due time on).
    pub fn deadline_refusal(&self, uid: Uuid, now: Timestamp) -> Option<ExecError> {
        if let Some(x) = self.expiry(uid) {
            return Some(match x.cause {
                CancelCause::Deadline => {
                    ExecError::CancelledByDeadline { uid, element: x.element.clone(), at: x.at.to_string() }
                }
                CancelCause::Until => ExecError::ItemCancelled {
                    uid,
                    element: x.element.clone(),
                    why: "because its `until` held when another item was done",
                },
                CancelCause::Failure => {
                    ExecError::ItemCancelled { uid, element: x.element.clone(), why: "because another item failed" }
                }
            });
        }
        let (element, at) = self.deadline_of(uid)?;
        (at <= now).then(|| ExecError::CancelledByDeadline { uid, element: element.to_string(), at: at.to_string() })
    }

    /// The record of an element-instance cancelled by a deadline, here or in a waiting sub-process.
    pub fn expiry(&self, uid: Uuid) -> Option<&Expired> {
        self.expired.iter().find(|x| x.uid == uid).or_else(|| {
            self.waiting.iter().find_map(|w| match &w.wait {
                Wait::Call { child } => child.expiry(uid),
                _ => None,
            })
        })
    }

    /// The earliest deadline that would cancel this waiting element-instance:
    /// its own, or that of a call waiting for the sub-process it belongs to.
    pub fn deadline_of(&self, uid: Uuid) -> Option<(Arc<str>, Timestamp)> {
        let spec = self.spec();
        self.waiting.iter().find_map(|w| {
            let own = w.deadline.map(|d| (spec.element(w.element).name.clone(), d));
            if w.uid == uid {
                return own;
            }
            let Wait::Call { child } = &w.wait else { return None };
            if !child.holds_uid(uid) {
                return None;
            }
            match (own, child.deadline_of(uid)) {
                (Some(a), Some(b)) => Some(if a.1 <= b.1 { a } else { b }),
                (a, b) => a.or(b),
            }
        })
    }

    /// Moves the waiting element-instances whose wait is over back to the
    /// queue, in the order they started waiting, here and in sub-processes.
    fn resume_where(&mut self, is_over: &impl Fn(&Wait) -> bool) -> usize {
        let mut count = 0;
        let mut i = 0;
        while i < self.waiting.len() {
            if is_over(&self.waiting[i].wait) {
                let w = self.waiting.remove(i);
                self.queue.push_back(Token { uid: w.uid, element: w.element, resumed: true });
                count += 1;
                continue;
            }
            if let Wait::Call { child } = &mut self.waiting[i].wait {
                count += child.resume_where(is_over);
            }
            i += 1;
        }
        if count > 0 && !self.status.is_finished() {
            self.status = Status::Running;
        }
        count
    }

    /// The earliest time anything is due here or in sub-processes: a
    /// timer, a reminder or a deadline.
    pub fn next_due(&self) -> Option<Timestamp> {
        [self.next_timer(), self.next_deadline()].into_iter().flatten().min()
    }

    /// The earliest due timer or reminder here or in sub-processes.
    pub fn next_timer(&self) -> Option<Timestamp> {
        self.waiting
            .iter()
            .flat_map(|w| {
                let own = match &w.wait {
                    Wait::Timer { due } => Some(*due),
                    Wait::Call { child } => child.next_timer(),
                    _ => None,
                };
                [own, w.reminder]
            })
            .flatten()
            .min()
    }

    /// The earliest deadline here or in sub-processes.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.waiting
            .iter()
            .flat_map(|w| {
                let inner = match &w.wait {
                    Wait::Call { child } => child.next_deadline(),
                    _ => None,
                };
                [w.deadline, inner]
            })
            .flatten()
            .min()
    }

    /// Where virtual time moves next: the earliest timer, deadline or
    /// reminder, but reminders alone never move it (a task that only
    /// reminds would otherwise remind forever); they fire on the way to a
    /// timer or a deadline.
    fn next_virtual(&self) -> Option<Timestamp> {
        let timers = self.next_plain_timer();
        let other = [timers, self.next_deadline()].into_iter().flatten().min()?;
        Some(self.next_timer().map_or(other, |t| t.min(other)))
    }

    /// The earliest timer element due here or in sub-processes, reminders left out.
    fn next_plain_timer(&self) -> Option<Timestamp> {
        self.waiting
            .iter()
            .filter_map(|w| match &w.wait {
                Wait::Timer { due } => Some(*due),
                Wait::Call { child } => child.next_plain_timer(),
                _ => None,
            })
            .min()
    }

    /// Whether this element-instance UId was executed before, here or in a sub-process.
    pub fn was_executed(&self, uid: Uuid) -> bool {
        self.executed.contains(&uid)
            || self.waiting.iter().any(|w| matches!(&w.wait, Wait::Call { child } if child.was_executed(uid)))
    }

    /// Whether the UId belongs to this instance's pending or waiting element-instances.
    pub fn holds_uid(&self, uid: Uuid) -> bool {
        self.queue.iter().any(|t| t.uid == uid)
            || self
                .waiting
                .iter()
                .any(|w| w.uid == uid || matches!(&w.wait, Wait::Call { child } if child.holds_uid(uid)))
    }

    fn begin(&mut self, run: &mut Run) {
        run.now = match run.options.clock {
            ClockMode::Virtual => self.clock.max(run.now),
            ClockMode::Real => run.options.now.unwrap_or_else(Timestamp::now),
        };
        self.mark_started(run.options.actor.clone(), run.now);
    }

    fn finish_run(&mut self, run: &mut Run) {
        self.clock = run.now;
        self.settle();
    }

    /// One unit of work. False when nothing can move.
    ///
    /// `program` is this instance's own: the caller holds a clone of the
    /// `Arc` for the whole run, so that no element pays for one.
    fn advance(&mut self, program: &Program, run: &mut Run) -> bool {
        if self.status.is_finished() {
            return false;
        }
        if let Some(token) = self.queue.pop_front() {
            self.status = Status::Running;
            self.execute(program, token, run);
            return true;
        }
        for i in 0..self.waiting.len() {
            if let Wait::Call { child } = &mut self.waiting[i].wait {
                if child.can_advance() {
                    let child_program = child.program.clone();
                    child.advance(&child_program, run);
                    child.settle();
                    if child.status.is_finished() {
                        self.finish_call(i, run);
                    }
                    return true;
                }
            }
        }
        if self.fire_inclusive_join() {
            return true;
        }
        if run.options.clock == ClockMode::Virtual {
            if let Some(due) = self.next_virtual() {
                run.now = run.now.max(due);
                let trace = run.options.trace.then_some(&mut run.trace);
                self.fire_due(run.now, trace);
                return true;
            }
        }
        false
    }

    fn can_advance(&self) -> bool {
        !self.status.is_finished()
            && (!self.queue.is_empty()
                || self.fireable_inclusive_join().is_some()
                || self.waiting.iter().any(|w| matches!(&w.wait, Wait::Call { child } if child.can_advance())))
    }

    /// Sets the status from what is left: waiting, completed, or stuck.
    fn settle(&mut self) {
        if self.status.is_finished() {
            return;
        }
        if !self.queue.is_empty() {
            self.status = Status::Running;
            return;
        }
        if !self.waiting.is_empty() {
            self.status = if self.can_advance() { Status::Running } else { Status::Waiting };
            return;
        }
        if self.fireable_inclusive_join().is_some() {
            self.status = Status::Running;
            return;
        }
        if let Some(stuck) = self.joins.iter().find(|j| j.arrived.iter().any(|c| *c > 0)) {
            let program = self.program.clone();
            let e = program.process(self.process).element(stuck.element);
            let got = stuck.arrived.iter().filter(|c| **c > 0).count();
            let message = format!(
                "parallel join `{}` received tokens on {got} of its {} incoming flows, and no path can bring the others",
                e.name,
                stuck.arrived.len()
            );
            self.fail_with(RunError::new(message).at(e.span), e);
            return;
        }
        self.status = Status::Completed;
    }

    /// Called after every element; inlined so that the usual case, no
    /// signal thrown, costs one comparison.
    #[inline]
    fn deliver_signals(&mut self, run: &mut Run) {
        if !run.pending_signals.is_empty() {
            self.deliver_pending_signals(run);
        }
    }

    fn deliver_pending_signals(&mut self, run: &mut Run) {
        while !run.pending_signals.is_empty() {
            let signals = std::mem::take(&mut run.pending_signals);
            for name in signals {
                self.deliver_signal(&name);
                run.emitted.push(name);
            }
        }
    }

    fn execute(&mut self, program: &Program, token: Token, run: &mut Run) {
        let spec = program.process(self.process);
        let e = spec.element(token.element);
        // Starting an element clears a flag per parameter (the undo record).
        let cost = run.budget.spend_steps(e.cost.into(), e.span);
        if let Err(err) = cost.and_then(|()| run.budget.spend_bytes(self.params.len() as u64, e.span)) {
            self.fail_with(err, e);
            return;
        }
        run.elements_executed += 1;
        if !token.resumed {
            self.passed.element(token.element);
        }
        run.undo.begin(self.params.len());
        run.element_signals.clear();
        let result = if token.resumed {
            Ok((Act::Next, (None, None)))
        } else if e.multi.is_some() {
            self.boundary_times(spec, e, run)
                .and_then(|times| self.activate_items(program, &token, times, run).map(|act| (act, (None, None))))
        } else {
            self.boundary_times(spec, e, run).and_then(|times| self.act(program, e, run).map(|act| (act, times)))
        };
        match result {
            Ok((act, (deadline, reminder))) => {
                let waits = matches!(act, Act::Wait(_));
                self.complete(spec, token.uid, token.element, act, run);
                if let Some(w) = self.waiting.last_mut().filter(|w| waits && w.uid == token.uid) {
                    w.deadline = deadline;
                    w.reminder = reminder;
                }
            }
            Err(err) => self.fail_element(token.uid, e, err, run),
        }
    }

    /// When an element that begins to wait now has its deadline and its
    /// first reminder.
    fn boundary_times(
        &mut self,
        spec: &ProcessSpec,
        e: &ElementSpec,
        run: &mut Run,
    ) -> Result<(Option<Timestamp>, Option<Timestamp>), RunError> {
        let deadline = match e.deadline.as_deref() {
            None => None,
            Some(DeadlineSpec { when: TimerSpec::After(span), .. }) => Some(later(run.now, *span, e, "deadline")?),
            Some(DeadlineSpec { when: TimerSpec::At(expr), .. }) => {
                let value = self.eval(spec, expr, run)?;
                Some(instant(value, expr, "a deadline's `at`")?)
            }
        };
        let reminder = match &e.reminder {
            None => None,
            Some(r) => Some(later(run.now, r.every, e, "reminder")?),
        };
        Ok((deadline, reminder))
    }

    /// Does what the element does, and says where the flow goes.
    fn act(&mut self, program: &Program, e: &ElementSpec, run: &mut Run) -> Result<Act, RunError> {
        let spec = program.process(self.process);
        match &e.kind {
            ElementKind::Start | ElementKind::Parallel => Ok(Act::Next),
            ElementKind::End => Ok(Act::End),
            ElementKind::Terminate => Ok(Act::Terminate),
            ElementKind::Script(script) => {
                self.run_script(spec, script, Vec::new(), run)?;
                Ok(Act::Next)
            }
            ElementKind::Gateway { branches, otherwise, inclusive } => {
                if branches.is_empty() && otherwise.is_none() {
                    return Ok(Act::Next);
                }
                let mut taken = Vec::new();
                for (condition, flow) in branches {
                    let v = self.eval(spec, condition, run)?;
                    if ops::truthy(&v).map_err(|m| RunError::new(m).at(condition.span))? {
                        if !inclusive {
                            return Ok(Act::One(*flow));
                        }
                        taken.push(*flow);
                    }
                }
                if !taken.is_empty() {
                    return Ok(Act::Many(taken));
                }
                match otherwise {
                    Some(flow) => Ok(Act::One(*flow)),
                    None => {
                        Err(RunError::new(format!("no condition of gateway `{}` holds, and it has no `else`", e.name))
                            .at(e.span))
                    }
                }
            }
            ElementKind::User { to: None, .. } => Ok(Act::Wait(Wait::User { to: None })),
            ElementKind::User { to: Some(expr), .. } => {
                let value = self.eval(spec, expr, run)?;
                let to = assignees(&value).map_err(|what| {
                    RunError::new(format!("`to` of `{}` must give user or role names, but gave {what}", e.name))
                        .at(expr.span)
                })?;
                Ok(Act::Wait(Wait::User { to: Some(to) }))
            }
            ElementKind::Signal(name) => Ok(Act::Wait(Wait::Signal { name: name.clone() })),
            ElementKind::Timer(TimerSpec::After(span)) => {
                Ok(Act::Wait(Wait::Timer { due: later(run.now, *span, e, "timer")? }))
            }
            ElementKind::Timer(TimerSpec::At(expr)) => {
                let value = self.eval(spec, expr, run)?;
                Ok(Act::Wait(Wait::Timer { due: instant(value, expr, "a timer's `at`")? }))
            }
            ElementKind::Call { process, inputs, outputs } => {
                let mut child = self.new_child(program, e, *process, inputs, None, run)?;
                let child_program = child.program.clone();
                while child.advance(&child_program, run) {}
                child.settle();
                if child.status.is_finished() {
                    self.take_call_result(e, &mut child, outputs, run)?;
                    self.executed.extend(child.executed);
                    self.expired.extend(child.expired);
                    Ok(Act::Next)
                } else {
                    Ok(Act::Wait(Wait::Call { child: Box::new(child) }))
                }
            }
        }
    }

    /// A call's sub-process instance, its inputs evaluated and conformed to
    /// the callee's parameters; for one item of a `for each` call, with the
    /// item as the loop variable and named in a conversion error.
    fn new_child(
        &mut self,
        program: &Program,
        e: &ElementSpec,
        process: ProcessId,
        inputs: &[(u32, crate::check::ir::CExpr)],
        item: Option<&Item>,
        run: &mut Run,
    ) -> Result<Instance, RunError> {
        if self.depth + 1 > MAX_CALL_DEPTH {
            return Err(RunError::new(format!("sub-processes nested more than {MAX_CALL_DEPTH} deep")).at(e.span));
        }
        let spec = program.process(self.process);
        let mut child = Instance::new(self.program.clone(), process, run.now);
        child.depth = self.depth + 1;
        let callee = program.process(process);
        for (slot, expr) in inputs {
            if let Some(item) = item {
                run.locals.clear();
                run.locals.push(item.value.clone());
            }
            let v = self.eval(spec, expr, run)?;
            run.budget.spend_bytes(conform_work(&v), expr.span)?;
            let param = &callee.params[*slot as usize];
            child.params[*slot as usize] = convert::conform(v, &param.ty).map_err(|why| {
                let of_item = item.map(|i| format!(" (item {})", i.index)).unwrap_or_default();
                RunError::new(format!("input `{}` of `{}`{of_item}: {why}", param.code, callee.code)).at(expr.span)
            })?;
        }
        Ok(child)
    }

    /// A finished sub-process: its outputs flow back, or its failure becomes the call's.
    fn take_call_result(
        &mut self,
        e: &ElementSpec,
        child: &mut Instance,
        outputs: &[(u32, u32)],
        run: &mut Run,
    ) -> Result<(), RunError> {
        // The caller's log tells the whole story, sub-processes included.
        self.log.append(std::mem::take(&mut child.log), run.budget.max_log_bytes());
        match child.status {
            Status::Completed => {
                let program = self.program.clone();
                let spec = program.process(self.process);
                // The sub-process's elements recorded their own changes:
                // from here on, record the caller's, so a failure undoes them.
                run.undo.begin(self.params.len());
                for (from, to) in outputs {
                    let param = &spec.params[*to as usize];
                    let v = child.params[*from as usize].clone();
                    run.budget.spend_bytes(conform_work(&v), e.span)?;
                    let v = convert::conform(v, &param.ty)
                        .map_err(|why| RunError::new(format!("output to `{}`: {why}", param.code)).at(e.span))?;
                    run.undo.record(*to, &self.params[*to as usize]);
                    self.params[*to as usize] = v;
                }
                if !outputs.is_empty() {
                    run.budget
                        .check_memory(self.memory_held(), "with the sub-process's outputs,")
                        .map_err(|err| err.at(e.span))?;
                }
                Ok(())
            }
            Status::Failed => Err(sub_process_failure(child).at(e.span)),
            other => Err(RunError::new(format!("sub-process `{}` ended {other}", child.spec().code)).at(e.span)),
        }
    }

    /// A waiting sub-process finished: the call element completes or fails.
    fn finish_call(&mut self, i: usize, run: &mut Run) {
        let w = self.waiting.remove(i);
        let Wait::Call { mut child } = w.wait else {
            return;
        };
        let program = self.program.clone();
        let e = program.process(self.process).element(w.element);
        let ElementKind::Call { outputs, .. } = &e.kind else {
            return;
        };
        run.undo.begin(self.params.len());
        run.element_signals.clear();
        self.executed.extend(child.executed.iter().copied());
        self.expired.append(&mut child.expired);
        let spec = program.process(self.process);
        if let Some(item) = w.item {
            self.pass_reminder(&item, w.reminder);
            let result = self.item_done(spec, e, &item, Some(&mut child), run);
            return self.after_item(spec, (&w.uid, w.element), &item, result, run);
        }
        match self.take_call_result(e, &mut child, outputs, run) {
            Ok(()) => self.complete(spec, w.uid, w.element, Act::Next, run),
            Err(err) => self.fail_element(w.uid, e, err, run),
        }
    }

    fn run_script(
        &mut self,
        spec: &ProcessSpec,
        script: &Script,
        preset: Vec<Value>,
        run: &mut Run,
    ) -> Result<(), RunError> {
        self.evaluator(spec, run).run_script(script, preset)
    }

    fn eval(&mut self, spec: &ProcessSpec, expr: &crate::check::ir::CExpr, run: &mut Run) -> Result<Value, RunError> {
        self.evaluator(spec, run).expr(expr)
    }

    /// The interpreter over this instance's parameters and this run's state.
    fn evaluator<'a>(&'a mut self, spec: &'a ProcessSpec, run: &'a mut Run) -> Eval<'a> {
        Eval {
            params: &mut self.params,
            specs: &spec.params,
            locals: &mut run.locals,
            undo: &mut run.undo,
            log: &mut self.log,
            signals: &mut run.element_signals,
            budget: &mut run.budget,
            now: run.now,
            last_error: self.last_error.as_deref(),
            memory: None,
        }
    }

    /// The element succeeded: record the trace, pass its signals on, move the flow.
    fn complete(&mut self, spec: &ProcessSpec, uid: Uuid, element: ElementId, act: Act, run: &mut Run) {
        let e = spec.element(element);
        if !run.element_signals.is_empty() {
            run.pending_signals.append(&mut run.element_signals);
        }
        let outcome = run.options.trace.then(|| self.outcome_of(e, &act));
        match act {
            Act::Next => {
                for flow in &e.next {
                    self.arrive(spec, *flow);
                }
            }
            Act::One(flow) => self.arrive(spec, flow),
            Act::Many(flows) => {
                for flow in flows {
                    self.arrive(spec, flow);
                }
            }
            Act::Wait(wait) => self.waiting.push(Waiting::new(uid, element, wait)),
            Act::Items(_) | Act::ItemDone { .. } => {}
            Act::End => {}
            Act::Terminate => {
                self.stop();
                self.status = Status::Completed;
            }
        }
        if let Some(outcome) = outcome {
            self.record_trace(uid, e, outcome, run);
        }
    }

    fn outcome_of(&self, e: &ElementSpec, act: &Act) -> Outcome {
        let program = self.program.clone();
        let spec = program.process(self.process);
        let name = |f: &Flow| spec.element(f.target).name.clone();
        match act {
            Act::Next => Outcome::Moved(e.next.iter().map(name).collect()),
            Act::One(f) => Outcome::Moved(vec![name(f)]),
            Act::Many(fs) => Outcome::Moved(fs.iter().map(name).collect()),
            Act::Wait(_) => Outcome::Waits,
            Act::Items(n) => Outcome::WaitsForItems(*n),
            Act::ItemDone { index, left, cancelled } => Outcome::ItemDone {
                index: *index,
                left: *left,
                cancelled: *cancelled,
                next: if *left == 0 { e.next.iter().map(name).collect() } else { Vec::new() },
            },
            Act::End => Outcome::Ended,
            Act::Terminate => Outcome::Terminated,
        }
    }

    fn record_trace(&mut self, uid: Uuid, e: &ElementSpec, outcome: Outcome, run: &mut Run) {
        let program = self.program.clone();
        let spec = program.process(self.process);
        // Comparing old and new values is work too; the element is done, so
        // it is spent without failing here: the next step fails if it is over.
        let work: u64 = run
            .undo
            .changes()
            .iter()
            .map(|(slot, old)| old.size().min(self.params[*slot as usize].size()))
            .fold(0, u64::saturating_add);
        run.budget.used = run.budget.used.saturating_add(work / BYTES_PER_STEP);
        let changes = run
            .undo
            .changes()
            .iter()
            .filter(|(slot, old)| {
                let new = &self.params[*slot as usize];
                !(old.type_name() == new.type_name() && ops::equals(old, new))
            })
            .map(|(slot, old)| Change {
                code: spec.params[*slot as usize].code.clone(),
                old: old.clone(),
                new: self.params[*slot as usize].clone(),
            })
            .collect();
        run.trace.push(TraceEvent {
            depth: self.depth,
            process: spec.code.clone(),
            element: e.name.clone(),
            kind: e.kind_name(),
            uid,
            changes,
            outcome,
        });
    }

    /// A token arrives over a flow: joins count it, other elements are activated.
    fn arrive(&mut self, spec: &ProcessSpec, flow: Flow) {
        self.passed.flow(flow);
        let target = spec.element(flow.target);
        if !target.is_join() {
            self.queue.push_back(Token { uid: ids::new_uid(), element: flow.target, resumed: false });
            return;
        }
        let parallel = matches!(target.kind, ElementKind::Parallel);
        let i = match self.joins.iter().position(|j| j.element == flow.target) {
            Some(i) => i,
            None => {
                let slots = if parallel { target.incoming as usize } else { 1 };
                self.joins.push(JoinState { element: flow.target, arrived: vec![0; slots] });
                self.joins.len() - 1
            }
        };
        let join = &mut self.joins[i];
        if !parallel {
            join.arrived[0] += 1;
            return;
        }
        if let Some(c) = join.arrived.get_mut(flow.slot as usize) {
            *c += 1;
        }
        if join.arrived.iter().all(|c| *c > 0) {
            join.arrived.iter_mut().for_each(|c| *c -= 1);
            if join.arrived.iter().all(|c| *c == 0) {
                self.joins.remove(i);
            }
            self.queue.push_back(Token { uid: ids::new_uid(), element: flow.target, resumed: false });
        }
    }

    /// An inclusive join whose tokens can all have arrived: no waiting
    /// element and no token parked at another join can still reach it.
    fn fireable_inclusive_join(&self) -> Option<usize> {
        if self.joins.is_empty() || !self.queue.is_empty() {
            return None;
        }
        let spec = self.spec();
        let mut first = None;
        for (i, join) in self.joins.iter().enumerate() {
            let e = spec.element(join.element);
            if matches!(e.kind, ElementKind::Parallel) || join.arrived[0] == 0 {
                continue;
            }
            first.get_or_insert(i);
            let blocked = self.waiting.iter().any(|w| e.can_be_reached_from(w.element))
                || self
                    .joins
                    .iter()
                    .enumerate()
                    .any(|(k, o)| k != i && o.arrived.iter().any(|c| *c > 0) && e.can_be_reached_from(o.element));
            if !blocked {
                return Some(i);
            }
        }
        // Joins that wait for each other with nothing else left: the first goes.
        if self.waiting.is_empty() {
            first
        } else {
            None
        }
    }

    fn fire_inclusive_join(&mut self) -> bool {
        match self.fireable_inclusive_join() {
            Some(i) => {
                let join = self.joins.remove(i);
                self.queue.push_back(Token { uid: ids::new_uid(), element: join.element, resumed: false });
                true
            }
            None => false,
        }
    }

    /// The element failed: undo its changes, then its handler takes over or the instance fails.
    fn fail_element(&mut self, uid: Uuid, e: &ElementSpec, err: RunError, run: &mut Run) {
        run.undo.rollback(&mut self.params);
        run.element_signals.clear();
        // An exhausted budget is not a failure a handler may take, at any depth.
        let handler = e.on_error.filter(|_| err.kind != ErrorKind::Budget);
        let program = self.program.clone();
        if run.options.trace {
            let outcome = match handler {
                Some(h) => Outcome::Handled {
                    message: err.message.clone(),
                    handler: program.process(self.process).element(h.target).name.clone(),
                },
                None => Outcome::Failed { message: err.message.clone() },
            };
            self.record_trace(uid, e, outcome, run);
        }
        match handler {
            Some(flow) => {
                // `last_error()` is the message alone; the place goes to the log.
                let spec = program.process(self.process);
                let mut line = format!("element `{}` failed: {}", e.name, err.message);
                if let Some(place) = err.span.filter(|s| (s.file.0 as usize) < program.sources.len()) {
                    let p = program.sources.locate(place);
                    line.push_str(&format!(" (at {}:{}:{})", p.file, p.line, p.column));
                }
                line.push_str(&format!("; on error -> {}", spec.element(flow.target).name));
                self.log.push(line, run.budget.max_log_bytes());
                self.last_error = Some(err.own_message().into());
                self.arrive(spec, flow);
            }
            None => self.fail_with(err, e),
        }
    }

    /// The instance fails with this error; everything else stops.
    fn fail_with(&mut self, err: RunError, e: &ElementSpec) {
        let program = self.program.clone();
        let place = err
            .span
            .or(Some(e.span))
            .filter(|s| (s.file.0 as usize) < program.sources.len())
            .map(|s| program.sources.locate(s));
        self.error = Some(ErrorInfo {
            message: err.message,
            element: Some(e.name.to_string()),
            file: place.as_ref().map(|p| p.file.clone()),
            line: place.as_ref().map(|p| p.line),
            column: place.as_ref().map(|p| p.column),
            origin: err.origin,
            exhausted: err.kind == ErrorKind::Budget,
        });
        self.stop();
        self.status = Status::Failed;
    }

    fn stop(&mut self) {
        self.queue.clear();
        for w in &mut self.waiting {
            if let Wait::Call { child } = &mut w.wait {
                child.cancel();
            }
        }
        self.waiting.clear();
        self.joins.clear();
        self.multi.clear();
    }

    /// Activates a multi-instance element: evaluates its list and makes
    /// one waiting element-instance per item (a call's sub-process runs at
    /// once, and may be done at once). An empty list goes straight on.
    fn activate_items(
        &mut self,
        program: &Program,
        token: &Token,
        (deadline, reminder): (Option<Timestamp>, Option<Timestamp>),
        run: &mut Run,
    ) -> Result<Act, RunError> {
        let spec = program.process(self.process);
        let e = spec.element(token.element);
        let Some(multi) = &e.multi else { return self.act(program, e, run) };
        let items = match self.eval(spec, &multi.list, run)? {
            Value::List(list) => list.items.clone(),
            other => {
                return Err(RunError::new(format!(
                    "`for each` of `{}` needs a List, but its list gave {}",
                    e.name,
                    match other {
                        Value::Null => "null".to_string(),
                        v => format!("{} {}", article(v.type_name()), v.type_name()),
                    }
                ))
                .at(multi.list.span))
            }
        };
        if items.is_empty() {
            // One value per item, as always: none.
            if let ElementKind::Call { outputs, .. } = &e.kind {
                for (_, to) in outputs {
                    run.undo.record(*to, &self.params[*to as usize]);
                    self.params[*to as usize] = Value::list(Vec::new()).unwrap_or_default();
                }
            }
            return Ok(Act::Next);
        }
        let count = u32::try_from(items.len()).unwrap_or(u32::MAX);
        let outputs = match &e.kind {
            ElementKind::Call { outputs, .. } => vec![vec![Value::Null; items.len()]; outputs.len()],
            _ => Vec::new(),
        };
        let group = token.uid;
        self.multi.push(MultiState { group, element: token.element, count, outputs });
        let mut first = true;
        for (index, value) in items.into_iter().enumerate() {
            // Each item is an element-instance: a step of the budget, so a
            // huge list ends with the budget's error, never a runaway.
            if let Err(err) = run.budget.spend_steps(1, e.span) {
                self.drop_items(group, run.now, CancelCause::Failure, run.budget.max_log_bytes());
                return Err(err);
            }
            let item = Item { group, index: index as u32, value };
            match self.start_item(program, e, &item, run) {
                Ok(Some(wait)) => {
                    let reminder = if std::mem::take(&mut first) { reminder } else { None };
                    let uid = ids::new_uid();
                    self.waiting.push(Waiting {
                        uid,
                        element: token.element,
                        wait,
                        deadline,
                        reminder,
                        item: Some(item),
                    });
                }
                // A sub-process done at once: its item is done.
                Ok(None) => {}
                Err(err) => {
                    self.drop_items(group, run.now, CancelCause::Failure, run.budget.max_log_bytes());
                    return Err(err);
                }
            }
            if self.until_ended(group) {
                break;
            }
        }
        let waiting = self.items_waiting(group);
        if waiting == 0 {
            self.multi.retain(|m| m.group != group);
            return Ok(Act::Next);
        }
        Ok(Act::Items(waiting))
    }

    /// Starts one item: a user task's wait (with `to` evaluated for the
    /// item), or a call's sub-process, which runs until it waits; None
    /// when that sub-process is already done (its item is then done too).
    fn start_item(
        &mut self,
        program: &Program,
        e: &ElementSpec,
        item: &Item,
        run: &mut Run,
    ) -> Result<Option<Wait>, RunError> {
        let spec = program.process(self.process);
        run.locals.clear();
        run.locals.push(item.value.clone());
        match &e.kind {
            ElementKind::User { to: None, .. } => Ok(Some(Wait::User { to: None })),
            ElementKind::User { to: Some(expr), .. } => {
                let value = self.eval(spec, expr, run)?;
                let to = assignees(&value).map_err(|what| {
                    RunError::new(format!("`to` of `{}` must give user or role names, but gave {what}", e.name))
                        .at(expr.span)
                })?;
                Ok(Some(Wait::User { to: Some(to) }))
            }
            ElementKind::Call { process, inputs, .. } => {
                let mut child = self.new_child(program, e, *process, inputs, Some(item), run)?;
                // The sub-process's elements keep their own undo records:
                // the caller's, for the items done so far, must outlive them.
                let undo = std::mem::take(&mut run.undo);
                let child_program = child.program.clone();
                while child.advance(&child_program, run) {}
                child.settle();
                run.undo = undo;
                if !child.status.is_finished() {
                    return Ok(Some(Wait::Call { child: Box::new(child) }));
                }
                self.executed.extend(child.executed.iter().copied());
                self.expired.append(&mut child.expired);
                self.item_done(spec, e, item, Some(&mut child), run)?;
                Ok(None)
            }
            _ => Err(RunError::new(format!("`{}` cannot run once per item", e.kind_name())).at(e.span)),
        }
    }

    /// How many items of this activation still wait.
    fn items_waiting(&self, group: Uuid) -> u32 {
        let n = self.waiting.iter().filter(|w| w.item.as_ref().is_some_and(|i| i.group == group)).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Whether `until` ended this activation (its state is gone).
    fn until_ended(&self, group: Uuid) -> bool {
        self.multi.iter().all(|m| m.group != group)
    }

    /// One item is done: a call's outputs are collected (into each output
    /// parameter, a List in item order), then `until` is checked; when it
    /// holds, the items still waiting are cancelled. Returns how many
    /// items still wait and how many `until` cancelled.
    fn item_done(
        &mut self,
        spec: &ProcessSpec,
        e: &ElementSpec,
        item: &Item,
        child: Option<&mut Instance>,
        run: &mut Run,
    ) -> Result<(u32, u32), RunError> {
        let Some(at) = self.multi.iter().position(|m| m.group == item.group) else {
            return Ok((0, 0));
        };
        if let (Some(child), ElementKind::Call { outputs, .. }) = (child, &e.kind) {
            self.log.append(std::mem::take(&mut child.log), run.budget.max_log_bytes());
            match child.status {
                Status::Completed => {}
                Status::Failed => return Err(sub_process_failure(child).at(e.span)),
                other => {
                    return Err(RunError::new(format!("sub-process `{}` ended {other}", child.spec().code)).at(e.span))
                }
            }
            for (k, (from, to)) in outputs.iter().enumerate() {
                let param = &spec.params[*to as usize];
                let v = child.params[*from as usize].clone();
                run.budget.spend_bytes(conform_work(&v), e.span)?;
                let item_ty = match &param.ty {
                    crate::runtime::value::Type::List(t) => (**t).clone(),
                    other => other.clone(),
                };
                let v = convert::conform(v, &item_ty).map_err(|why| {
                    RunError::new(format!("output to `{}` (item {}): {why}", param.code, item.index)).at(e.span)
                })?;
                if let Some(slot) = self.multi[at].outputs.get_mut(k).and_then(|o| o.get_mut(item.index as usize)) {
                    *slot = v;
                }
                let list = Value::list(self.multi[at].outputs[k].clone())
                    .map_err(|_| RunError::new(format!("output to `{}`: nested too deeply", param.code)).at(e.span))?;
                run.undo.record(*to, &self.params[*to as usize]);
                self.params[*to as usize] = list;
            }
            if !outputs.is_empty() {
                run.budget
                    .check_memory(self.memory_held(), "with the sub-process's outputs,")
                    .map_err(|err| err.at(e.span))?;
            }
        }
        let ended = match &e.multi.as_ref().and_then(|m| m.until.as_ref()) {
            Some(until) => {
                let v = self.eval(spec, until, run)?;
                ops::truthy(&v).map_err(|m| RunError::new(m).at(until.span))?
            }
            None => false,
        };
        let cancelled = if ended {
            let removed = self.drop_items(item.group, run.now, CancelCause::Until, run.budget.max_log_bytes());
            if removed > 0 {
                let s = if removed == 1 { "" } else { "s" };
                self.log.push(
                    format!(
                        "element `{}`: `until` held after item {}; {removed} waiting item{s} cancelled",
                        e.name, item.index
                    ),
                    run.budget.max_log_bytes(),
                );
            }
            u32::try_from(removed).unwrap_or(u32::MAX)
        } else {
            0
        };
        Ok((self.items_waiting(item.group), cancelled))
    }

    /// After an item was done (or failed): the element completes when no
    /// item is left, else only this item's trace is recorded; a failure is
    /// the element's, and cancels the other items.
    fn after_item(
        &mut self,
        spec: &ProcessSpec,
        (uid, id): (&Uuid, ElementId),
        item: &Item,
        result: Result<(u32, u32), RunError>,
        run: &mut Run,
    ) {
        let e = spec.element(id);
        if matches!(result, Ok((0, _))) {
            self.multi.retain(|m| m.group != item.group);
        }
        match result {
            Ok((0, 0)) => self.complete(spec, *uid, id, Act::Next, run),
            Ok((left, cancelled)) => {
                let act = Act::ItemDone { index: item.index, left, cancelled };
                if left == 0 {
                    // `until` ended it: the trace says so, then the flow moves on.
                    if run.options.trace {
                        let outcome = self.outcome_of(e, &act);
                        self.record_trace(*uid, e, outcome, run);
                    }
                    for flow in &e.next {
                        self.arrive(spec, *flow);
                    }
                    if !run.element_signals.is_empty() {
                        run.pending_signals.append(&mut run.element_signals);
                    }
                } else {
                    self.complete(spec, *uid, id, act, run);
                }
            }
            Err(err) => {
                self.drop_items(item.group, run.now, CancelCause::Failure, run.budget.max_log_bytes());
                self.fail_element(*uid, e, err, run);
            }
        }
    }

    /// Cancels every item of this activation still waiting (with a call's
    /// sub-process) and forgets the activation. Returns how many.
    fn drop_items(&mut self, group: Uuid, at: Timestamp, cause: CancelCause, max_log: u64) -> usize {
        let n = self.cancel_items(group, at, cause, max_log).len();
        self.multi.retain(|m| m.group != group);
        n
    }

    /// Removes the waiting items of this activation, recording each as
    /// cancelled; returns the indexes they had in `waiting`.
    fn cancel_items(&mut self, group: Uuid, at: Timestamp, cause: CancelCause, max_log: u64) -> Vec<usize> {
        let spec_program = self.program.clone();
        let spec = spec_program.process(self.process);
        let mut removed = Vec::new();
        let mut i = 0;
        let mut index = 0;
        while i < self.waiting.len() {
            if self.waiting[i].item.as_ref().is_none_or(|it| it.group != group) {
                i += 1;
                index += 1;
                continue;
            }
            let mut w = self.waiting.remove(i);
            removed.push(index);
            index += 1;
            let name = spec.element(w.element).name.to_string();
            self.expired.push(Expired { uid: w.uid, element: name.clone(), at, cause });
            if let Wait::Call { child } = &mut w.wait {
                child.expire_all(&name, at, cause, &mut self.expired);
                child.cancel();
                self.log.append(std::mem::take(&mut child.log), max_log);
            }
        }
        removed
    }

    /// An item with the element's reminder is done: the reminder goes on
    /// with the next item still waiting.
    fn pass_reminder(&mut self, item: &Item, reminder: Option<Timestamp>) {
        if reminder.is_none() {
            return;
        }
        if let Some(next) = self.waiting.iter_mut().find(|w| w.item.as_ref().is_some_and(|i| i.group == item.group)) {
            next.reminder = reminder;
        }
    }

    fn exec_in_tree<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        uid: Uuid,
        fields: &[(K, V)],
        run: &mut Run,
    ) -> Result<Option<Arc<str>>, ExecError> {
        let program = self.program.clone();
        let spec = program.process(self.process);
        if let Some(i) = self.waiting.iter().position(|w| w.uid == uid) {
            let e = spec.element(self.waiting[i].element);
            let preset = match (&self.waiting[i].wait, &e.kind) {
                (Wait::User { .. }, ElementKind::User { fields: specs, .. }) => field_values(e, specs, fields)?,
                (Wait::Call { .. }, _) => return Err(ExecError::NotExecutable { element: e.name.to_string() }),
                _ => {
                    if let Some((name, _)) = fields.first() {
                        return Err(ExecError::BadField {
                            element: e.name.to_string(),
                            message: format!(
                                "a {} element has no fields, but `{}` was given",
                                e.kind_name(),
                                name.as_ref()
                            ),
                        });
                    }
                    Vec::new()
                }
            };
            let w = self.waiting.remove(i);
            self.executed.push(uid);
            if let Err(err) = run.budget.spend_steps(e.cost.into(), e.span) {
                self.fail_with(err, e);
                return Ok(Some(e.name.clone()));
            }
            run.elements_executed += 1;
            run.undo.begin(self.params.len());
            run.element_signals.clear();
            let mut preset = preset;
            if let Some(item) = &w.item {
                self.pass_reminder(item, w.reminder);
                preset.push(item.value.clone());
            }
            let result = match &e.kind {
                ElementKind::User { done: Some(script), .. } => self.run_script(spec, script, preset, run),
                _ => Ok(()),
            };
            match (result, w.item) {
                (Ok(()), None) => self.complete(spec, w.uid, w.element, Act::Next, run),
                (Err(err), None) => self.fail_element(w.uid, e, err, run),
                (result, Some(item)) => {
                    let result = result.and_then(|()| self.item_done(spec, e, &item, None, run));
                    self.after_item(spec, (&w.uid, w.element), &item, result, run);
                }
            }
            return Ok(Some(e.name.clone()));
        }
        if let Some(i) = self.queue.iter().position(|t| t.uid == uid) {
            // Field values given for an element that has not started yet are
            // never dropped: checked now, and a user task that then waits is
            // executed with them.
            let e = spec.element(self.queue[i].element);
            if let (Some((name, _)), Some(_)) = (fields.first(), &e.multi) {
                return Err(ExecError::BadField {
                    element: e.name.to_string(),
                    message: format!(
                        "it runs once per item of its list, so `{}` cannot be given before it starts; \
                         execute it without fields, then each item's UId with its own",
                        name.as_ref()
                    ),
                });
            }
            if let Some((name, _)) = fields.first() {
                match &e.kind {
                    ElementKind::User { fields: specs, .. } => drop(field_values(e, specs, fields)?),
                    _ => {
                        return Err(ExecError::BadField {
                            element: e.name.to_string(),
                            message: format!(
                                "a {} element has no fields, but `{}` was given",
                                e.kind_name(),
                                name.as_ref()
                            ),
                        })
                    }
                }
            }
            let Some(token) = self.queue.remove(i) else { return Ok(None) };
            let name = spec.element(token.element).name.clone();
            self.execute(&program, token, run);
            if !fields.is_empty() && self.waiting.iter().any(|w| w.uid == uid && matches!(w.wait, Wait::User { .. })) {
                return self.exec_in_tree(uid, fields, run);
            }
            return Ok(Some(name));
        }
        for i in 0..self.waiting.len() {
            if let Wait::Call { child } = &mut self.waiting[i].wait {
                if let Some(name) = child.exec_in_tree(uid, fields, run)? {
                    child.settle();
                    if child.status.is_finished() {
                        self.finish_call(i, run);
                    }
                    return Ok(Some(name));
                }
            }
        }
        Ok(None)
    }
}

/// `now` plus a duration, for a timer, deadline or reminder.
fn later(now: Timestamp, span: jiff::Span, e: &ElementSpec, what: &str) -> Result<Timestamp, RunError> {
    now.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .checked_add(span)
        .map(|z| z.timestamp())
        .map_err(|err| RunError::new(format!("{what} due time out of range: {err}")).at(e.span))
}

/// A DateTime (or a Date: its midnight UTC) as the instant something is due.
fn instant(value: Value, expr: &crate::check::ir::CExpr, what: &str) -> Result<Timestamp, RunError> {
    match value {
        Value::DateTime(due) => Ok(due.timestamp()),
        Value::Date(date) => jiff::tz::TimeZone::UTC
            .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
            .map_err(|err| RunError::new(err.to_string()).at(expr.span)),
        other => Err(RunError::new(format!("{what} needs a DateTime, got {}", other.type_name())).at(expr.span)),
    }
}

/// When a reminder that fired at `at` is due next: one period later, or,
/// when ticks came late, the first period boundary after `now` (the periods
/// missed are not made up one by one).
fn next_reminder(at: Timestamp, every: jiff::Span, now: Timestamp) -> Option<Timestamp> {
    let zoned = at.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let mut next = zoned.checked_add(every).ok()?.timestamp();
    let mut periods = 1i64;
    while next <= now {
        periods += 1;
        if periods > 10_000 {
            return now.to_zoned_datetime(jiff::tz::TimeZone::UTC).checked_add(every).ok().map(|z| z.timestamp());
        }
        next = zoned.checked_add(every.checked_mul(periods).ok()?).ok()?.timestamp();
    }
    Some(next)
}

/// A `to` value as user or role names, or what it was instead ("an
/// Integer", "an empty List"): a Text is one name, a List of Texts several.
fn assignees(value: &Value) -> Result<Vec<String>, String> {
    let name = |v: &Value| match v {
        Value::Text(t) if !t.trim().is_empty() => Ok(t.to_string()),
        Value::Text(_) => Err("an empty name".to_string()),
        Value::Null => Err("null".to_string()),
        other => Err(format!("{} {}", article(other.type_name()), other.type_name())),
    };
    match value {
        Value::List(list) if list.items.is_empty() => Err("an empty List".to_string()),
        Value::List(list) => {
            list.items.iter().map(|v| name(v).map_err(|what| format!("a List holding {what}"))).collect()
        }
        other => name(other).map(|n| vec![n]),
    }
}

fn article(type_name: &str) -> &'static str {
    if type_name.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

/// A failed sub-process as its call element's error: the innermost failure
/// named once, with how deep it happened, however many calls lie between;
/// an exhausted budget stays one.
fn sub_process_failure(child: &Instance) -> RunError {
    let code = &child.spec().code;
    let Some(err) = &child.error else {
        return RunError::new(format!("sub-process `{code}` failed"));
    };
    let origin = match &err.origin {
        Some(inner) => ErrorOrigin { depth: inner.depth.saturating_add(1), ..(**inner).clone() },
        None => ErrorOrigin {
            message: err.message.clone(),
            process: code.to_string(),
            element: err.element.clone(),
            file: err.file.clone(),
            line: err.line,
            column: err.column,
            depth: 1,
        },
    };
    let mut message = format!("sub-process `{code}` failed");
    if origin.depth > 1 {
        message.push_str(&format!(": its sub-process `{}`, {} levels down, failed", origin.process, origin.depth));
    }
    if let Some(element) = &origin.element {
        message.push_str(&format!(" at element `{element}`"));
    }
    if let (Some(file), Some(line), Some(column)) = (&origin.file, origin.line, origin.column) {
        message.push_str(&format!(" ({file}:{line}:{column})"));
    }
    message.push_str(": ");
    message.push_str(&origin.message);
    let kind = if err.exhausted { ErrorKind::Budget } else { ErrorKind::Failure };
    RunError { message, span: None, kind, origin: Some(Box::new(origin)) }
}

fn input_slot(spec: &crate::check::spec::ProcessSpec, code: &str) -> Result<usize, InputError> {
    let Some(slot) = spec.param_slot(code) else {
        let inputs = spec.params.iter().filter(|p| {
            matches!(p.direction, crate::syntax::ast::Direction::In | crate::syntax::ast::Direction::InOut)
        });
        let help = nearest(code, inputs.map(|p| &*p.code)).map(|s| format!("did you mean `{s}`?"));
        return Err(InputError::UnknownParameter { process: spec.code.to_string(), code: code.to_string(), help });
    };
    let param = &spec.params[slot as usize];
    match param.direction {
        crate::syntax::ast::Direction::In | crate::syntax::ast::Direction::InOut => Ok(slot as usize),
        d => Err(InputError::NotAnInput {
            process: spec.code.to_string(),
            code: code.to_string(),
            direction: d.keyword(),
        }),
    }
}

/// A user task's field values: given ones converted, defaults for the rest,
/// and every required one present.
fn field_values<K: AsRef<str>, V: AsRef<str>>(
    e: &ElementSpec,
    specs: &[crate::check::spec::FieldSpec],
    given: &[(K, V)],
) -> Result<Vec<Value>, ExecError> {
    let bad = |message: String| ExecError::BadField { element: e.name.to_string(), message };
    let mut values: Vec<Option<Value>> = vec![None; specs.len()];
    for (name, text) in given {
        let name = name.as_ref();
        let Some(i) = specs.iter().position(|f| &*f.name == name) else {
            let mut m = format!("it has no field `{name}`");
            match nearest(name, specs.iter().map(|f| &*f.name)) {
                Some(s) => m.push_str(&format!("; did you mean `{s}`?")),
                None if specs.is_empty() => m.push_str("; it takes no fields"),
                None => m.push_str(&format!(
                    "; its fields are {}",
                    specs.iter().map(|f| format!("`{}`", f.name)).collect::<Vec<_>>().join(", ")
                )),
            }
            return Err(bad(m));
        };
        let f = &specs[i];
        let v = convert::from_input(text.as_ref(), &f.ty)
            .map_err(|m| bad(format!("field `{}` ({}): {m}", f.name, f.ty)))?;
        values[i] = Some(v);
    }
    let missing: Vec<String> = specs
        .iter()
        .zip(&values)
        .filter(|(f, v)| v.is_none() && f.default.is_none())
        .map(|(f, _)| format!("`{}` ({})", f.name, f.ty))
        .collect();
    if !missing.is_empty() {
        let plural = if missing.len() == 1 { "field" } else { "fields" };
        return Err(bad(format!(
            "{plural} {} required",
            missing.join(", ") + if missing.len() == 1 { " is" } else { " are" }
        )));
    }
    Ok(specs.iter().zip(values).map(|(f, v)| v.or_else(|| f.default.clone()).unwrap_or_default()).collect())
}

/// Stack an interpreter level may take, generously (debug builds included).
const STACK_PER_LEVEL: usize = 16 * 1024;
/// Programs nested up to this deep run on whatever stack the caller has.
const SHALLOW_NESTING: u32 = 32;

/// The stack a run of this program must have left, if it is deeply nested.
/// Most programs are shallow and run on whatever stack the caller has; a
/// deep one gets a larger stack segment when the caller's is short
/// (`stacker::maybe_grow`), so the library works on any thread without a
/// check in the interpreter's hot path.
fn stack_needed(program: &crate::check::spec::Program) -> Option<usize> {
    (program.nesting > SHALLOW_NESTING).then(|| (program.nesting as usize + 8) * STACK_PER_LEVEL)
}

/// Checks result parameter names against a process before running it.
pub fn check_results(spec: &crate::check::spec::ProcessSpec, names: &[String]) -> Result<(), InputError> {
    for name in names {
        if spec.param_slot(name).is_none() {
            let help = nearest(name, spec.params.iter().map(|p| &*p.code)).map(|s| format!("did you mean `{s}`?"));
            return Err(InputError::UnknownResult { process: spec.code.to_string(), name: name.clone(), help });
        }
    }
    Ok(())
}

/// Finds a process by Code, suggesting the nearest one.
pub fn find_process(program: &crate::check::spec::Program, code: &str) -> Result<ProcessId, InputError> {
    program.find(code).ok_or_else(|| InputError::UnknownProcess {
        code: code.to_string(),
        help: nearest(code, program.codes()).map(|s| format!("did you mean `{s}`?")),
    })
}
