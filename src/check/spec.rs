//! Checked process definitions: the immutable specs the runtime executes.
//! Names are resolved to slots here, once, when a process is loaded.

use crate::check::ir::{CExpr, Script};
use crate::runtime::value::{Type, Value};
use crate::source::{SourceMap, Span};
use crate::syntax::ast::Direction;
use sha2::{Digest, Sha256};
use smallvec::SmallVec;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::OnceLock;
use uuid::Uuid;

/// Index of an element in its process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ElementId(pub u32);

/// Index of a process in its program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProcessId(pub u32);

/// Every process loaded together, with the source files they came from.
#[derive(Debug)]
pub struct Program {
    pub sources: SourceMap,
    pub processes: Vec<ProcessSpec>,
    by_code: HashMap<Arc<str>, ProcessId>,
    /// See [`Program::hash`]: made when first asked for, since checking
    /// a file (the language server on each keystroke) never needs it.
    hash: OnceLock<String>,
    /// The deepest nesting of expressions and blocks in any script: how much
    /// stack the interpreter's recursion may need.
    pub nesting: u32,
}

impl Program {
    pub(crate) fn new(sources: SourceMap, processes: Vec<ProcessSpec>, nesting: u32) -> Program {
        let by_code = processes.iter().enumerate().map(|(i, p)| (p.code.clone(), ProcessId(i as u32))).collect();
        Program { sources, processes, by_code, hash: OnceLock::new(), nesting }
    }

    /// SHA-256 of every file's name and text, in hex: the identity a stored
    /// instance keeps, so that it always runs on the definition it started with.
    pub fn hash(&self) -> &str {
        self.hash.get_or_init(|| {
            let mut hasher = Sha256::new();
            for (_, file) in self.sources.files() {
                hasher.update(file.name.as_bytes());
                hasher.update([0]);
                hasher.update(file.text.as_bytes());
                hasher.update([0]);
            }
            hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
        })
    }

    /// The process with this id.
    pub fn process(&self, id: ProcessId) -> &ProcessSpec {
        &self.processes[id.0 as usize]
    }

    /// The process with this Code.
    pub fn find(&self, code: &str) -> Option<ProcessId> {
        self.by_code.get(code).copied()
    }

    /// The process with this schema UId.
    pub fn find_by_uid(&self, uid: Uuid) -> Option<ProcessId> {
        self.processes.iter().position(|p| p.uid == uid).map(|i| ProcessId(i as u32))
    }

    /// Every process Code, in load order.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.processes.iter().map(|p| &*p.code)
    }
}

/// One checked process.
#[derive(Debug)]
pub struct ProcessSpec {
    pub code: Arc<str>,
    pub uid: Uuid,
    pub caption: Option<Arc<str>>,
    pub span: Span,
    pub params: Vec<ParamSpec>,
    pub elements: Vec<ElementSpec>,
    pub start: ElementId,
    params_by_code: foldhash::HashMap<Arc<str>, u32>,
    elements_by_name: foldhash::HashMap<Arc<str>, ElementId>,
}

impl ProcessSpec {
    /// A process from its parts; `elements_by_name` indexes `elements`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        code: Arc<str>,
        uid: Uuid,
        caption: Option<Arc<str>>,
        span: Span,
        params: Vec<ParamSpec>,
        elements: Vec<ElementSpec>,
        elements_by_name: foldhash::HashMap<Arc<str>, ElementId>,
        start: ElementId,
    ) -> ProcessSpec {
        debug_assert!(
            elements_by_name.len() == elements.len()
                && elements
                    .iter()
                    .enumerate()
                    .all(|(i, e)| elements_by_name.get(&e.name) == Some(&ElementId(i as u32)))
        );
        let params_by_code = params.iter().enumerate().map(|(i, p)| (p.code.clone(), i as u32)).collect();
        ProcessSpec { code, uid, caption, span, params, elements, start, params_by_code, elements_by_name }
    }

    /// The element with this id.
    pub fn element(&self, id: ElementId) -> &ElementSpec {
        &self.elements[id.0 as usize]
    }

    /// A parameter's slot by Code.
    pub fn param_slot(&self, code: &str) -> Option<u32> {
        self.params_by_code.get(code).copied()
    }

    /// An element by name.
    pub fn find_element(&self, name: &str) -> Option<ElementId> {
        self.elements_by_name.get(name).copied()
    }

    /// The `out` and `inout` parameters: the default result set.
    pub fn outputs(&self) -> impl Iterator<Item = &ParamSpec> {
        self.params.iter().filter(|p| matches!(p.direction, Direction::Out | Direction::InOut))
    }
}

/// A checked parameter: Code, direction, type and default.
#[derive(Debug)]
pub struct ParamSpec {
    pub code: Arc<str>,
    pub direction: Direction,
    pub ty: Type,
    /// The default, or null.
    pub default: Value,
    pub span: Span,
}

/// A flow into an element: the target and which of its incoming flows this
/// is, so a parallel join can count one token per incoming flow.
#[derive(Clone, Copy, Debug)]
pub struct Flow {
    pub target: ElementId,
    pub slot: u32,
}

/// A checked element: what it does and where its flows go.
#[derive(Debug)]
pub struct ElementSpec {
    pub name: Arc<str>,
    pub uid: Uuid,
    pub caption: Option<Arc<str>>,
    /// Where the element's name is written: what errors point at.
    pub span: Span,
    pub kind: ElementKind,
    /// Plain outgoing flows (`-> A, B`): nearly always one, kept in place.
    pub next: SmallVec<[Flow; 1]>,
    pub on_error: Option<Flow>,
    /// `deadline … -> Target`: only on an element that waits.
    pub deadline: Option<Box<DeadlineSpec>>,
    /// `every "DURATION" -> Target`: only on an element that waits.
    pub reminder: Option<Box<ReminderSpec>>,
    /// `for each X in LIST [until COND]`: only on a user task or a call.
    pub multi: Option<Box<MultiSpec>>,
    /// Number of incoming flows.
    pub incoming: u32,
    /// For an inclusive join: which elements can still reach it (a bitset
    /// over element indexes), so it can tell when no token can arrive.
    pub reached_from: Option<Vec<u64>>,
    /// The steps executing it costs: one, plus the nodes of the conditions
    /// or inputs it evaluates (a script's statements count their own).
    pub cost: u32,
}

impl ElementSpec {
    /// A parallel or inclusive gateway with several incoming flows waits for tokens.
    pub fn is_join(&self) -> bool {
        self.incoming > 1 && matches!(self.kind, ElementKind::Parallel | ElementKind::Gateway { inclusive: true, .. })
    }

    /// The element's keyword, as written in `.proc` files.
    pub fn kind_name(&self) -> &'static str {
        self.kind.name()
    }

    /// Whether a token at element `from` can still reach this element.
    pub fn can_be_reached_from(&self, from: ElementId) -> bool {
        let i = from.0 as usize;
        self.reached_from.as_ref().is_some_and(|bits| bits.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0))
    }
}

/// An interrupting deadline: when it passes while the element still waits,
/// the element-instance is cancelled and the flow goes to `flow` instead.
#[derive(Debug)]
pub struct DeadlineSpec {
    /// Counted from the moment the element began to wait, or a DateTime
    /// evaluated then.
    pub when: TimerSpec,
    pub flow: Flow,
}

/// A multi-instance element: one element-instance per item of `list`,
/// evaluated when the element is activated. The item is local slot
/// `slot` of the `done` script (after the fields) and local 0 of `to` and
/// the call's input mappings.
#[derive(Debug)]
pub struct MultiSpec {
    pub var: Arc<str>,
    pub list: CExpr,
    /// Checked after each item is done; true cancels the items still waiting.
    pub until: Option<CExpr>,
    pub slot: u32,
}

/// A non-interrupting reminder: each `every` while the element waits, a
/// new path starts over `flow`.
#[derive(Debug)]
pub struct ReminderSpec {
    pub every: jiff::Span,
    pub flow: Flow,
}

/// What an element does.
#[derive(Debug)]
pub enum ElementKind {
    Start,
    End,
    Terminate,
    Script(Script),
    /// Exclusive or inclusive gateway. With no branches it only merges or
    /// joins and follows its plain flow.
    Gateway {
        inclusive: bool,
        branches: Vec<(CExpr, Flow)>,
        otherwise: Option<Flow>,
    },
    Parallel,
    User {
        /// `to EXPR`: who may execute it, evaluated when the task starts.
        to: Option<CExpr>,
        fields: Vec<FieldSpec>,
        done: Option<Script>,
    },
    Timer(TimerSpec),
    Signal(Arc<str>),
    Call {
        process: ProcessId,
        inputs: Vec<(u32, CExpr)>,
        outputs: Vec<(u32, u32)>,
    },
}

impl ElementKind {
    /// The steps executing such an element costs (see [`ElementSpec::cost`]).
    pub fn cost(&self) -> u32 {
        let weight = match self {
            ElementKind::Gateway { branches, .. } => branches.iter().map(|(c, _)| c.weight().max(1)).sum(),
            ElementKind::Call { inputs, .. } => inputs.iter().map(|(_, e)| e.weight().max(1)).sum(),
            ElementKind::Timer(TimerSpec::At(e)) => e.weight(),
            _ => 0,
        };
        u32::try_from(weight.saturating_add(1)).unwrap_or(u32::MAX)
    }

    /// The keyword of this kind of element.
    pub fn name(&self) -> &'static str {
        match self {
            ElementKind::Start => "start",
            ElementKind::End => "end",
            ElementKind::Terminate => "terminate",
            ElementKind::Script(_) => "script",
            ElementKind::Gateway { inclusive: false, .. } => "exclusive",
            ElementKind::Gateway { inclusive: true, .. } => "inclusive",
            ElementKind::Parallel => "parallel",
            ElementKind::User { .. } => "user",
            ElementKind::Timer(_) => "timer",
            ElementKind::Signal(_) => "signal",
            ElementKind::Call { .. } => "call",
        }
    }

    /// Elements at which an instance waits for the outside world.
    pub fn is_wait_state(&self) -> bool {
        matches!(
            self,
            ElementKind::User { .. } | ElementKind::Timer(_) | ElementKind::Signal(_) | ElementKind::Call { .. }
        )
    }
}

/// A user task's field.
#[derive(Debug)]
pub struct FieldSpec {
    pub name: Arc<str>,
    pub ty: Type,
    /// None: the field is required.
    pub default: Option<Value>,
    pub span: Span,
}

/// When a timer is due.
#[derive(Debug)]
pub enum TimerSpec {
    /// `after "PT2H"`
    After(jiff::Span),
    /// `at expr`
    At(CExpr),
}
