//! Pictures of a process: the drawing model (elements as nodes, flows as
//! edges, deadlines and reminders as timers on their element's border),
//! drawn as SVG by procdsl itself ([`svg`]), or as Mermaid or Graphviz text.
//! Each can show the path an instance took ([`InstancePath`]).
//!
//! ```
//! let loaded = procdsl::check::load_str("p.proc", r#"
//!     process UsrP {
//!         start Begin -> Done
//!         end Done
//!     }
//! "#).unwrap();
//! let program = &loaded.program;
//! let svg = procdsl::graph::svg(program, &program.processes[0], None);
//! assert!(svg.starts_with("<svg"));
//! ```

mod layout;
mod render;
mod text;

pub use layout::{layout, Layout, Placed};

use crate::check::spec::{ElementId, ElementKind, ElementSpec, Flow, ProcessSpec, Program, TimerSpec};
use crate::runtime::instance::Instance;
use crate::source::Span;
use crate::testing::TestResult;
use std::sync::Arc;

/// The process as SVG: a layered left-to-right layout, BPMN-like shapes,
/// and, given a path, the elements and flows it passed, where it waits
/// and where it failed. The same process gives the same bytes.
/// `process` must be one of `program`'s processes (conditions are shown
/// as written in its sources).
pub fn svg(program: &Program, process: &ProcessSpec, path: Option<&InstancePath>) -> String {
    let graph = Graph::of(program, process);
    render::svg(&graph, path)
}

/// The process as a Mermaid flowchart (paste into Markdown).
pub fn mermaid(program: &Program, process: &ProcessSpec, path: Option<&InstancePath>) -> String {
    text::mermaid(&Graph::of(program, process), path)
}

/// The process as a Graphviz digraph.
pub fn dot(program: &Program, process: &ProcessSpec, path: Option<&InstancePath>) -> String {
    text::dot(&Graph::of(program, process), path)
}

/// A process ready to draw.
#[derive(Debug)]
pub struct Graph {
    pub code: String,
    pub caption: Option<String>,
    /// One per element, in element order.
    pub nodes: Vec<Node>,
    /// One per flow.
    pub edges: Vec<Edge>,
    /// Deadlines and reminders.
    pub timers: Vec<BorderTimer>,
}

/// One element.
#[derive(Debug)]
pub struct Node {
    pub name: String,
    pub kind: NodeKind,
    /// The caption; for a call, the process it calls; for a signal, its name;
    /// for a timer, when it is due.
    pub detail: Option<String>,
    pub caption: Option<String>,
    /// `for each X in LIST [until …]`: the multi-instance marker.
    pub multi: Option<String>,
}

/// An element's kind, without its checked contents: what the picture needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Start,
    End,
    Terminate,
    Script,
    Exclusive,
    Inclusive,
    Parallel,
    User,
    Timer,
    Signal,
    Call,
}

impl NodeKind {
    fn of(kind: &ElementKind) -> NodeKind {
        match kind {
            ElementKind::Start => NodeKind::Start,
            ElementKind::End => NodeKind::End,
            ElementKind::Terminate => NodeKind::Terminate,
            ElementKind::Script(_) => NodeKind::Script,
            ElementKind::Gateway { inclusive: false, .. } => NodeKind::Exclusive,
            ElementKind::Gateway { inclusive: true, .. } => NodeKind::Inclusive,
            ElementKind::Parallel => NodeKind::Parallel,
            ElementKind::User { .. } => NodeKind::User,
            ElementKind::Timer(_) => NodeKind::Timer,
            ElementKind::Signal(_) => NodeKind::Signal,
            ElementKind::Call { .. } => NodeKind::Call,
        }
    }

    /// The keyword, as written in `.proc` files.
    pub fn keyword(self) -> &'static str {
        match self {
            NodeKind::Start => "start",
            NodeKind::End => "end",
            NodeKind::Terminate => "terminate",
            NodeKind::Script => "script",
            NodeKind::Exclusive => "exclusive",
            NodeKind::Inclusive => "inclusive",
            NodeKind::Parallel => "parallel",
            NodeKind::User => "user",
            NodeKind::Timer => "timer",
            NodeKind::Signal => "signal",
            NodeKind::Call => "call",
        }
    }
}

/// What a flow is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// A plain flow or a gateway branch.
    Normal,
    /// `on error -> X`.
    Error,
}

/// One flow.
#[derive(Debug)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    /// A branch's condition, `else` or `on error`.
    pub label: Option<String>,
    pub kind: EdgeKind,
    /// Which flow of the definition: (target, incoming slot).
    pub flow: (ElementId, u32),
}

/// A deadline or reminder, drawn as a timer on its element's border (as
/// BPMN draws boundary timers): solid when it interrupts, dashed when not.
#[derive(Debug)]
pub struct BorderTimer {
    pub element: usize,
    /// `deadline P3D`, `deadline at Due`, `every P1D`.
    pub label: String,
    pub interrupting: bool,
    pub target: usize,
    pub flow: (ElementId, u32),
}

impl Graph {
    /// The drawing model of `process`, one of `program`'s processes.
    pub fn of(program: &Program, process: &ProcessSpec) -> Graph {
        let source = |span: Span| -> String {
            if (span.file.0 as usize) >= program.sources.len() {
                return String::new();
            }
            let file = program.sources.file(span.file);
            file.text.get(span.range()).unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ")
        };
        let nodes = process.elements.iter().map(|e| node(program, e)).collect();
        let mut edges = Vec::new();
        let mut timers = Vec::new();
        for (i, e) in process.elements.iter().enumerate() {
            let mut add = |flow: &Flow, label: Option<String>, kind: EdgeKind| {
                let to = flow.target.0 as usize;
                edges.push(Edge { from: i, to, label, kind, flow: (flow.target, flow.slot) });
            };
            if let ElementKind::Gateway { branches, otherwise, .. } = &e.kind {
                for (condition, flow) in branches {
                    add(flow, Some(source(condition.span)), EdgeKind::Normal);
                }
                if let Some(flow) = otherwise {
                    add(flow, Some("else".to_string()), EdgeKind::Normal);
                }
            }
            for flow in &e.next {
                add(flow, None, EdgeKind::Normal);
            }
            if let Some(flow) = &e.on_error {
                add(flow, Some("on error".to_string()), EdgeKind::Error);
            }
            if let Some(d) = &e.deadline {
                let when = match &d.when {
                    TimerSpec::After(span) => span.to_string(),
                    TimerSpec::At(expr) => format!("at {}", source(expr.span)),
                };
                timers.push(BorderTimer {
                    element: i,
                    label: format!("deadline {when}"),
                    interrupting: true,
                    target: d.flow.target.0 as usize,
                    flow: (d.flow.target, d.flow.slot),
                });
            }
            if let Some(r) = &e.reminder {
                timers.push(BorderTimer {
                    element: i,
                    label: format!("every {}", r.every),
                    interrupting: false,
                    target: r.flow.target.0 as usize,
                    flow: (r.flow.target, r.flow.slot),
                });
            }
        }
        Graph {
            code: process.code.to_string(),
            caption: process.caption.as_ref().map(|c| c.to_string()),
            nodes,
            edges,
            timers,
        }
    }
}

fn node(program: &Program, e: &ElementSpec) -> Node {
    let detail = match &e.kind {
        ElementKind::Call { process, .. } => Some(format!("→ {}", program.process(*process).code)),
        ElementKind::Signal(name) => Some(format!("\"{name}\"")),
        ElementKind::Timer(TimerSpec::After(span)) => Some(format!("after {span}")),
        _ => None,
    };
    let multi = e.multi.as_ref().map(|m| {
        let until = if m.until.is_some() { " until …" } else { "" };
        format!("for each {}{until}", m.var)
    });
    Node {
        name: e.name.to_string(),
        kind: NodeKind::of(&e.kind),
        detail,
        caption: e.caption.as_ref().map(|c| c.to_string()),
        multi,
    }
}

/// The path one instance took through its process (or what a program's
/// tests passed in it): what [`svg`], [`mermaid`] and [`dot`] highlight.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstancePath {
    /// Per element (by index): how many times it was activated.
    pub elements: Vec<u32>,
    /// Per flow (target, incoming slot): how many times it was taken.
    pub flows: Vec<((ElementId, u32), u32)>,
    /// The elements waiting now, in element order, without repeats.
    pub waiting: Vec<ElementId>,
    /// The element the instance failed at, with the error.
    pub failed: Option<(ElementId, String)>,
    /// What the path is, for the picture's description: `Instance
    /// Completed`, `Tests`.
    pub summary: String,
    /// False for an instance saved before paths were recorded (saved
    /// formats before 5): only where it waits or failed is known.
    pub recorded: bool,
}

impl InstancePath {
    /// The path `instance` took so far.
    pub fn of(instance: &Instance) -> InstancePath {
        let spec = instance.spec();
        let mut elements = vec![0u32; spec.elements.len()];
        for (e, n) in &instance.passed.elements {
            if let Some(slot) = elements.get_mut(e.0 as usize) {
                *slot = *n;
            }
        }
        let flows = instance.passed.flows.iter().map(|(k, n)| (*k, *n)).collect();
        let mut waiting: Vec<ElementId> = instance.waiting.iter().map(|w| w.element).collect();
        // Tokens ready to run wait too (a background start not yet run).
        waiting.extend(instance.queue.iter().map(|t| t.element));
        waiting.sort();
        waiting.dedup();
        let failed = instance.error.as_ref().and_then(|err| {
            let element = spec.find_element(err.element.as_deref()?)?;
            Some((element, err.message.clone()))
        });
        // A run always activates its start; an instance that ran but has no
        // path was saved before paths were recorded.
        let ran = !instance.waiting.is_empty() || instance.status.is_finished();
        let recorded = !instance.passed.elements.is_empty() || !ran;
        InstancePath { elements, flows, waiting, failed, summary: format!("Instance {}", instance.status), recorded }
    }

    /// What tests passed in `process` (`test --coverage --svg`): each
    /// element and flow counted once per test that passed it.
    pub fn tested(program: &Program, process: &ProcessSpec, results: &[TestResult]) -> InstancePath {
        let code: Arc<str> = process.code.clone();
        let elements = process
            .elements
            .iter()
            .map(|e| {
                let key = (code.clone(), e.name.clone());
                results.iter().filter(|r| r.elements.contains(&key)).count() as u32
            })
            .collect();
        let graph = Graph::of(program, process);
        let name = |i: usize| process.elements[i].name.clone();
        let mut flows: Vec<((ElementId, u32), u32)> = graph
            .edges
            .iter()
            .map(|e| (e.from, e.to, e.flow))
            .chain(graph.timers.iter().map(|t| (t.element, t.target, t.flow)))
            .map(|(from, to, flow)| {
                let key = (code.clone(), name(from), name(to));
                (flow, results.iter().filter(|r| r.flows.contains(&key)).count() as u32)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        flows.sort();
        InstancePath {
            elements,
            flows,
            waiting: Vec::new(),
            failed: None,
            summary: format!("Tests ({})", results.len()),
            recorded: true,
        }
    }

    /// How many times the element was activated.
    pub fn element_count(&self, element: usize) -> u32 {
        self.elements.get(element).copied().unwrap_or(0)
    }

    /// How many times the flow was taken.
    pub fn flow_count(&self, flow: (ElementId, u32)) -> u32 {
        self.flows.binary_search_by(|(k, _)| k.cmp(&flow)).map(|i| self.flows[i].1).unwrap_or(0)
    }

    /// Whether the element waits now.
    pub fn is_waiting(&self, element: usize) -> bool {
        self.waiting.binary_search(&ElementId(element as u32)).is_ok()
    }

    /// The error, when the instance failed at this element.
    pub fn failure(&self, element: usize) -> Option<&str> {
        self.failed.as_ref().filter(|(e, _)| e.0 as usize == element).map(|(_, m)| m.as_str())
    }
}
