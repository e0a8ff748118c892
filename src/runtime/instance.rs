//! A live instance: plain data that the engine moves forward and a store
//! can save. It holds its definition by `Arc`, never a copy of it.

use crate::check::spec::{ElementId, Flow, ProcessId, ProcessSpec, Program};
use crate::runtime::ids;
use crate::runtime::value::Value;
use jiff::Timestamp;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use uuid::Uuid;

/// Where an instance stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Status {
    Running,
    Waiting,
    Completed,
    Failed,
    Cancelled,
}

impl Status {
    /// Completed, failed and cancelled instances never move again.
    pub fn is_finished(self) -> bool {
        matches!(self, Status::Completed | Status::Failed | Status::Cancelled)
    }

    /// The status as the descriptor writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "Running",
            Status::Waiting => "Waiting",
            Status::Completed => "Completed",
            Status::Failed => "Failed",
            Status::Cancelled => "Cancelled",
        }
    }

    /// Creatio's `processStatus` number.
    pub fn creatio_code(self) -> u8 {
        match self {
            Status::Running | Status::Waiting => 1,
            Status::Completed => 2,
            Status::Failed => 3,
            Status::Cancelled => 4,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Status::Running, Status::Waiting, Status::Completed, Status::Failed, Status::Cancelled]
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("`{s}` is not a status (Running, Waiting, Completed, Failed, Cancelled)"))
    }
}

/// One activation of an element, ready to run.
#[derive(Clone, Debug)]
pub struct Token {
    /// The element-instance UId.
    pub uid: Uuid,
    pub element: ElementId,
    /// The activation already waited (a fired timer, a received signal):
    /// running it now only moves the flow on.
    pub resumed: bool,
}

/// An element-instance at a wait state.
#[derive(Debug)]
pub struct Waiting {
    pub uid: Uuid,
    pub element: ElementId,
    pub wait: Wait,
    /// When its `deadline` passes, if it still waits then.
    pub deadline: Option<Timestamp>,
    /// When its `every` next starts a reminder path.
    pub reminder: Option<Timestamp>,
    /// For one item of a multi-instance element: which.
    pub item: Option<Item>,
}

impl Waiting {
    /// A waiting element-instance without deadline or reminder.
    pub fn new(uid: Uuid, element: ElementId, wait: Wait) -> Waiting {
        Waiting { uid, element, wait, deadline: None, reminder: None, item: None }
    }
}

/// One item of a multi-instance element (`for each X in LIST`).
#[derive(Clone, Debug)]
pub struct Item {
    /// The activation the item belongs to: its [`MultiState`]'s `group`.
    pub group: Uuid,
    /// Its index in the list, from 0.
    pub index: u32,
    /// The item itself: X in `done`, `to` and the input mappings.
    pub value: Value,
}

/// A multi-instance element while some of its items still wait.
#[derive(Clone, Debug)]
pub struct MultiState {
    /// The UId of the activation that evaluated the list.
    pub group: Uuid,
    pub element: ElementId,
    /// How many items the list had.
    pub count: u32,
    /// For a call: per output mapping, each item's output so far (null
    /// until the item is done), in item order.
    pub outputs: Vec<Vec<Value>>,
}

/// Why an element-instance was cancelled while it waited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CancelCause {
    /// Its element's `deadline` passed (or its caller's).
    #[default]
    Deadline,
    /// Its multi-instance element's `until` held after another item was done.
    Until,
    /// Another item of its multi-instance element failed.
    Failure,
}

/// An element-instance cancelled by its deadline (or one of a sub-process
/// cancelled with its call): executing its UId says so.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Expired {
    pub uid: Uuid,
    /// The element whose deadline passed.
    pub element: String,
    /// When the deadline fired.
    pub at: Timestamp,
    /// What cancelled it (since format 4; older ones were deadlines).
    #[serde(default, skip_serializing_if = "is_deadline")]
    pub cause: CancelCause,
}

fn is_deadline(cause: &CancelCause) -> bool {
    *cause == CancelCause::Deadline
}

/// What a waiting element-instance waits for.
#[derive(Debug)]
pub enum Wait {
    /// A user task: executed by UId with field values, by one of `to`
    /// (user or role names, evaluated when it started) when it has `to`.
    User {
        to: Option<Vec<String>>,
    },
    Timer {
        due: Timestamp,
    },
    Signal {
        name: Arc<str>,
    },
    /// A sub-process that waits: its caller waits with it.
    Call {
        child: Box<Instance>,
    },
}

/// Tokens that reached a join and wait there for the others.
#[derive(Clone, Debug)]
pub struct JoinState {
    pub element: ElementId,
    /// Parallel join: tokens per incoming flow. Inclusive join: one counter.
    pub arrived: Vec<u32>,
}

/// Why an instance failed, in the descriptor's words.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorInfo {
    pub message: String,
    pub element: Option<String>,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// For a failure inside a sub-process: the element where it began,
    /// however deep, with its own message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Box<ErrorOrigin>>,
    /// The run's step or memory budget ran out (`"exhausted": true`): no
    /// `on error` took it, and a caller's must not take it either.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exhausted: bool,
}

/// The innermost failure of a chain of sub-processes: the element that
/// failed and where, so that the message can name it once.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorOrigin {
    /// The failing element's own message, as `last_error()` returns it.
    pub message: String,
    /// The sub-process the element belongs to.
    pub process: String,
    pub element: Option<String>,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// How many sub-processes down it failed: 1 for the called one itself.
    pub depth: u32,
}

impl std::fmt::Display for ErrorInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(element) = &self.element {
            write!(f, "element `{element}`: ")?;
        }
        f.write_str(&self.message)?;
        if let (Some(file), Some(line), Some(column)) = (&self.file, self.line, self.column) {
            write!(f, " (at {file}:{line}:{column})")?;
        }
        Ok(())
    }
}

/// At most this many log lines are kept per instance; later ones are counted.
pub const MAX_LOG_LINES: usize = 10_000;

/// At most this many history entries are kept per instance; past it the
/// oldest are dropped, except the first (who started it).
pub const MAX_HISTORY: usize = 10_000;

/// Who started an instance saved before instances recorded it (format 1).
pub const UNKNOWN_STARTER: &str = "unknown";

/// What someone did to an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Start,
    Exec,
    Cancel,
    Signal,
}

impl Action {
    /// The action as the history writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Exec => "exec",
            Action::Cancel => "cancel",
            Action::Signal => "signal",
        }
    }
}

/// One line of an instance's history: who did what, when.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HistoryEntry {
    pub at: Timestamp,
    /// A user or token name; "local" for the command line and the REPL.
    pub who: String,
    pub action: Action,
    /// The element executed (`exec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    /// The signal received (`signal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
}

/// An instance's log: its lines, what they take, and how many lines were
/// dropped because the log was full ([`MAX_LOG_LINES`], or a quarter of
/// the memory budget). Reads as a slice of its kept lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    lines: Vec<String>,
    bytes: u64,
    dropped: u64,
}

impl Log {
    /// A log as it was saved.
    pub fn restore(lines: Vec<String>, dropped: u64) -> Log {
        let bytes = lines.iter().map(|l| l.len() as u64).sum();
        Log { lines, bytes, dropped }
    }

    /// Appends a line, or counts it as dropped when the log already holds
    /// [`MAX_LOG_LINES`] lines or the line would take it past `max_bytes`.
    pub fn push(&mut self, line: String, max_bytes: u64) {
        let bytes = self.bytes.saturating_add(line.len() as u64);
        if self.dropped > 0 || self.lines.len() >= MAX_LOG_LINES || bytes > max_bytes {
            self.dropped += 1;
            return;
        }
        self.bytes = bytes;
        self.lines.push(line);
    }

    /// Appends a sub-process's log, keeping this log's limits.
    pub fn append(&mut self, other: Log, max_bytes: u64) {
        for line in other.lines {
            self.push(line, max_bytes);
        }
        self.dropped = self.dropped.saturating_add(other.dropped);
    }

    /// Bytes of text the kept lines hold.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// How many lines were dropped.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The kept lines, then, if lines were dropped, a last line saying how many.
    pub fn to_lines(&self) -> Vec<String> {
        let mut lines = self.lines.clone();
        if self.dropped > 0 {
            let s = if self.dropped == 1 { "" } else { "s" };
            lines.push(format!(
                "… {} more log line{s} dropped: an instance keeps at most 10,000 log lines, in at most a quarter of its memory budget",
                self.dropped
            ));
        }
        lines
    }
}

impl std::ops::Deref for Log {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.lines
    }
}

/// The path an instance took: how many times each element was activated
/// and each flow was taken, so a picture can show it (`graph --instance`).
/// Keyed by element index and by flow (target element, incoming slot),
/// which name one flow of the definition the instance runs on. Ordered
/// maps, so that saving gives the same bytes every time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Passed {
    pub elements: BTreeMap<ElementId, u32>,
    pub flows: BTreeMap<(ElementId, u32), u32>,
}

impl Passed {
    /// Counts one activation of `element`.
    pub fn element(&mut self, element: ElementId) {
        let n = self.elements.entry(element).or_default();
        *n = n.saturating_add(1);
    }

    /// Counts one token over `flow`.
    pub fn flow(&mut self, flow: Flow) {
        let n = self.flows.entry((flow.target, flow.slot)).or_default();
        *n = n.saturating_add(1);
    }
}

/// A live execution of one process.
#[derive(Debug)]
pub struct Instance {
    pub id: Uuid,
    pub program: Arc<Program>,
    pub process: ProcessId,
    pub status: Status,
    /// Parameter values by slot.
    pub params: Vec<Value>,
    /// Activations ready to run, first in, first out.
    pub queue: VecDeque<Token>,
    pub waiting: Vec<Waiting>,
    pub joins: Vec<JoinState>,
    /// Element-instances already executed by UId, so a second execution is
    /// recognised and refused without running anything.
    pub executed: Vec<Uuid>,
    /// Element-instances cancelled by their deadline, kept so that
    /// executing one is refused with that reason.
    pub expired: Vec<Expired>,
    /// Multi-instance elements whose items still wait, in activation order.
    pub multi: Vec<MultiState>,
    pub log: Log,
    pub error: Option<ErrorInfo>,
    /// The message of the failure that sent the flow to an `on error` handler.
    pub last_error: Option<Arc<str>>,
    /// The instance's clock (virtual time advances it to due timers).
    pub clock: Timestamp,
    /// How many sub-processes deep this instance runs.
    pub depth: u32,
    /// Who started it: the actor of its first run. None until then, and
    /// for a sub-process (its caller's instance records it).
    pub started_by: Option<Arc<str>>,
    /// Who started, executed, cancelled or signalled it, in order.
    pub history: Vec<HistoryEntry>,
    /// The elements activated and flows taken so far (recorded since
    /// saved format 5; empty for instances saved before).
    pub passed: Passed,
}

impl Instance {
    /// A new instance, paused before its first element, with every
    /// parameter at its default.
    pub fn new(program: Arc<Program>, process: ProcessId, clock: Timestamp) -> Instance {
        let spec = program.process(process);
        let params = spec.params.iter().map(|p| p.default.clone()).collect();
        let start = Token { uid: ids::new_uid(), element: spec.start, resumed: false };
        Instance {
            id: ids::new_uid(),
            process,
            status: Status::Running,
            params,
            queue: VecDeque::from([start]),
            waiting: Vec::new(),
            joins: Vec::new(),
            executed: Vec::new(),
            expired: Vec::new(),
            multi: Vec::new(),
            log: Log::default(),
            error: None,
            last_error: None,
            clock,
            depth: 0,
            started_by: None,
            history: Vec::new(),
            passed: Passed::default(),
            program,
        }
    }

    /// Adds a line to the history, keeping at most [`MAX_HISTORY`].
    pub fn record(&mut self, entry: HistoryEntry) {
        if self.history.len() >= MAX_HISTORY {
            self.history.remove(1.min(self.history.len() - 1));
        }
        self.history.push(entry);
    }

    /// Records who started a top-level instance, once: its `startedBy` and
    /// the history's `start` line. A run does it when it begins; a front end
    /// that commits an instance before its first run (a background start)
    /// does it then, so the instance is its starter's from the outset.
    pub fn mark_started(&mut self, actor: Arc<str>, at: Timestamp) {
        if self.started_by.is_some() || self.depth != 0 {
            return;
        }
        self.record(HistoryEntry { at, who: actor.to_string(), action: Action::Start, element: None, signal: None });
        self.started_by = Some(actor);
    }

    /// The definition this instance runs on.
    pub fn spec(&self) -> &ProcessSpec {
        self.program.process(self.process)
    }

    /// What the instance holds, in bytes: the [`Value::size`] of its
    /// parameters plus its log, as the memory budget counts it.
    pub fn memory_held(&self) -> u64 {
        self.params.iter().map(Value::size).fold(self.log.bytes(), u64::saturating_add)
    }

    /// A parameter's value by Code.
    pub fn param(&self, code: &str) -> Option<&Value> {
        self.spec().param_slot(code).and_then(|slot| self.params.get(slot as usize))
    }
}
