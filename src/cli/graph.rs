//! `procdsl graph FILE [--process CODE] [--format mermaid|dot]`: draws a
//! process as a Mermaid flowchart or a Graphviz digraph.

use super::run::load_process;
use super::{EXIT_INVALID, EXIT_OK};
use procdsl::check::spec::{ElementKind, ElementSpec, Flow, ProcessSpec, Program, TimerSpec};
use std::fmt::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct GraphArgs {
    /// The .proc file.
    pub file: PathBuf,
    /// The process to draw, when the file holds several.
    #[arg(long, value_name = "CODE")]
    pub process: Option<String>,
    /// mermaid (paste into Markdown) or dot (Graphviz); for SVG, pipe dot
    /// through Graphviz: `… --format dot | dot -Tsvg`.
    #[arg(long, default_value = "mermaid")]
    pub format: String,
}

/// One arrow of the drawing.
struct Edge {
    from: usize,
    to: usize,
    label: Option<String>,
    on_error: bool,
}

pub fn graph(args: GraphArgs) -> i32 {
    let format = args.format.to_ascii_lowercase();
    if !matches!(format.as_str(), "mermaid" | "dot") {
        eprintln!("error: unknown format `{}`; use mermaid or dot", args.format);
        if format == "svg" {
            eprintln!("  help: procdsl draws no SVG itself; render the dot form with Graphviz: `procdsl graph FILE --format dot | dot -Tsvg > process.svg`");
        }
        return EXIT_INVALID;
    }
    let (program, process) = match load_process(&args.file, args.process.as_deref()) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let spec = program.process(process);
    let edges = edges(&program, spec);
    let timers = border_timers(&program, spec);
    let text =
        if format == "dot" { dot(&program, spec, &edges, &timers) } else { mermaid(&program, spec, &edges, &timers) };
    print!("{text}");
    EXIT_OK
}

/// A deadline or reminder, drawn as a timer on its element's border (as
/// BPMN draws boundary timers): solid when it interrupts, dashed when not.
struct BorderTimer {
    element: usize,
    /// `deadline P3D`, `deadline at Due`, `every P1D`.
    label: String,
    interrupting: bool,
    target: usize,
}

fn border_timers(program: &Program, spec: &ProcessSpec) -> Vec<BorderTimer> {
    let mut out = Vec::new();
    for (i, e) in spec.elements.iter().enumerate() {
        if let Some(d) = &e.deadline {
            let when = match &d.when {
                TimerSpec::After(span) => span.to_string(),
                TimerSpec::At(expr) => {
                    let file = program.sources.file(expr.span.file);
                    let text = file.text.get(expr.span.range()).unwrap_or_default();
                    format!("at {}", text.split_whitespace().collect::<Vec<_>>().join(" "))
                }
            };
            let label = format!("deadline {when}");
            out.push(BorderTimer { element: i, label, interrupting: true, target: d.flow.target.0 as usize });
        }
        if let Some(r) = &e.reminder {
            let label = format!("every {}", r.every);
            out.push(BorderTimer { element: i, label, interrupting: false, target: r.flow.target.0 as usize });
        }
    }
    out
}

/// Every flow, with the condition of a gateway branch as its label.
fn edges(program: &Program, spec: &ProcessSpec) -> Vec<Edge> {
    let source = |span: procdsl::source::Span| -> String {
        let file = program.sources.file(span.file);
        file.text.get(span.range()).unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let mut out = Vec::new();
    for (i, e) in spec.elements.iter().enumerate() {
        let mut add = |flow: &Flow, label: Option<String>, on_error: bool| {
            out.push(Edge { from: i, to: flow.target.0 as usize, label, on_error });
        };
        if let ElementKind::Gateway { branches, otherwise, .. } = &e.kind {
            for (condition, flow) in branches {
                add(flow, Some(source(condition.span)), false);
            }
            if let Some(flow) = otherwise {
                add(flow, Some("else".to_string()), false);
            }
        }
        for flow in &e.next {
            add(flow, None, false);
        }
        if let Some(flow) = &e.on_error {
            add(flow, Some("on error".to_string()), true);
        }
    }
    out
}

/// What a node shows: kind, name, and caption, signal or called process.
fn node_text(program: &Program, e: &ElementSpec) -> String {
    let mut text = format!("{} {}", e.kind_name(), e.name);
    match &e.kind {
        ElementKind::Call { process, .. } => {
            let _ = write!(text, "\n→ {}", program.process(*process).code);
        }
        ElementKind::Signal(name) => {
            let _ = write!(text, "\n\"{name}\"");
        }
        _ => {
            if let Some(c) = &e.caption {
                let _ = write!(text, "\n{c}");
            }
        }
    }
    // BPMN marks a parallel multi-instance activity with three bars.
    if let Some(m) = &e.multi {
        let until = if m.until.is_some() { " until …" } else { "" };
        let _ = write!(text, "\n||| for each {}{until}", m.var);
    }
    text
}

fn mermaid(program: &Program, spec: &ProcessSpec, edges: &[Edge], timers: &[BorderTimer]) -> String {
    let quote = |s: &str| s.replace('"', "#quot;").replace('\n', "<br/>");
    let mut out = format!("---\ntitle: {}\n---\nflowchart LR\n", spec.code);
    for (i, e) in spec.elements.iter().enumerate() {
        let text = quote(&node_text(program, e));
        let (open, close) = match &e.kind {
            ElementKind::Start | ElementKind::End | ElementKind::Terminate => ("((", "))"),
            ElementKind::Gateway { .. } | ElementKind::Parallel => ("{", "}"),
            ElementKind::User { .. } | ElementKind::Timer(_) | ElementKind::Signal(_) => ("([", "])"),
            ElementKind::Call { .. } => ("[[", "]]"),
            ElementKind::Script(_) => ("[", "]"),
        };
        let _ = writeln!(out, "    e{i}{open}\"{text}\"{close}");
    }
    for edge in edges {
        let arrow = if edge.on_error { "-.->" } else { "-->" };
        match &edge.label {
            Some(label) => {
                let _ = writeln!(out, "    e{} {arrow}|\"{}\"| e{}", edge.from, quote(label), edge.to);
            }
            None => {
                let _ = writeln!(out, "    e{} {arrow} e{}", edge.from, edge.to);
            }
        }
    }
    for (k, t) in timers.iter().enumerate() {
        let _ = writeln!(out, "    t{k}((\"⏱ {}\"))", quote(&t.label));
        let _ = writeln!(out, "    e{} --- t{k}", t.element);
        let arrow = if t.interrupting { "-->" } else { "-.->" };
        let _ = writeln!(out, "    t{k} {arrow} e{}", t.target);
    }
    out
}

fn dot(program: &Program, spec: &ProcessSpec, edges: &[Edge], timers: &[BorderTimer]) -> String {
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    let mut out =
        format!("digraph \"{}\" {{\n    rankdir=LR;\n    node [fontname=\"Helvetica\"];\n", quote(&spec.code));
    for (i, e) in spec.elements.iter().enumerate() {
        let shape = match &e.kind {
            ElementKind::Start => "circle",
            ElementKind::End | ElementKind::Terminate => "doublecircle",
            ElementKind::Gateway { .. } | ElementKind::Parallel => "diamond",
            ElementKind::User { .. } | ElementKind::Timer(_) | ElementKind::Signal(_) => "box, style=rounded",
            ElementKind::Call { .. } => "box, peripheries=2",
            ElementKind::Script(_) => "box",
        };
        let _ = writeln!(out, "    e{i} [label=\"{}\", shape={shape}];", quote(&node_text(program, e)));
    }
    for edge in edges {
        let mut attrs = Vec::new();
        if let Some(label) = &edge.label {
            attrs.push(format!("label=\"{}\"", quote(label)));
        }
        if edge.on_error {
            attrs.push("style=dashed".to_string());
        }
        let attrs = if attrs.is_empty() { String::new() } else { format!(" [{}]", attrs.join(", ")) };
        let _ = writeln!(out, "    e{} -> e{}{attrs};", edge.from, edge.to);
    }
    // A small double circle beside its element, tied to it by a line without
    // an arrow: solid for a deadline, dashed for a reminder.
    for (k, t) in timers.iter().enumerate() {
        let style = if t.interrupting { "solid" } else { "dashed" };
        let _ = writeln!(
            out,
            "    t{k} [label=\"⏱\\n{}\", shape=doublecircle, style={style}, fontsize=10];",
            quote(&t.label)
        );
        let _ = writeln!(out, "    {{ rank=same; e{}; t{k}; }}", t.element);
        let _ = writeln!(out, "    e{} -> t{k} [dir=none, style=dotted];", t.element);
        let _ = writeln!(out, "    t{k} -> e{} [style={style}];", t.target);
    }
    out.push_str("}\n");
    out
}
