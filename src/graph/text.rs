//! The process as Mermaid or Graphviz text, for tools that draw those.

use super::{Graph, InstancePath, Node, NodeKind};
use std::fmt::Write;

/// What a node shows: kind, name, and caption, signal or called process.
fn node_text(node: &Node) -> String {
    let mut text = format!("{} {}", node.kind.keyword(), node.name);
    match node.kind {
        NodeKind::Call | NodeKind::Signal => {
            if let Some(d) = &node.detail {
                let _ = write!(text, "\n{d}");
            }
        }
        _ => {
            if let Some(c) = &node.caption {
                let _ = write!(text, "\n{c}");
            }
        }
    }
    // BPMN marks a parallel multi-instance activity with three bars.
    if let Some(m) = &node.multi {
        let _ = write!(text, "\n||| {m}");
    }
    text
}

/// A node's mark on a path: how many times it ran, and whether it waits
/// or failed there.
fn path_note(path: &InstancePath, i: usize) -> Option<String> {
    let mut parts = Vec::new();
    let n = path.element_count(i);
    if n > 1 {
        parts.push(format!("×{n}"));
    }
    if path.is_waiting(i) {
        parts.push("waiting".to_string());
    }
    if let Some(error) = path.failure(i) {
        parts.push(format!("failed: {error}"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// A flow's label with its count when it was taken more than once.
fn counted(label: Option<&str>, count: u32) -> Option<String> {
    match (label, count > 1) {
        (Some(l), true) => Some(format!("{l} ×{count}")),
        (None, true) => Some(format!("×{count}")),
        (Some(l), false) => Some(l.to_string()),
        (None, false) => None,
    }
}

pub(super) fn mermaid(graph: &Graph, path: Option<&InstancePath>) -> String {
    let quote = |s: &str| s.replace('"', "#quot;").replace('\n', "<br/>");
    let mut out = format!("---\ntitle: {}\n---\nflowchart LR\n", graph.code);
    for (i, node) in graph.nodes.iter().enumerate() {
        let mut text = node_text(node);
        if let Some(note) = path.and_then(|p| path_note(p, i)) {
            let _ = write!(text, "\n[{note}]");
        }
        let text = quote(&text);
        let (open, close) = match node.kind {
            NodeKind::Start | NodeKind::End | NodeKind::Terminate => ("((", "))"),
            NodeKind::Exclusive | NodeKind::Inclusive | NodeKind::Parallel => ("{", "}"),
            NodeKind::User | NodeKind::Timer | NodeKind::Signal => ("([", "])"),
            NodeKind::Call => ("[[", "]]"),
            NodeKind::Script => ("[", "]"),
        };
        let _ = writeln!(out, "    e{i}{open}\"{text}\"{close}");
    }
    // Mermaid numbers links in the order they are written: linkStyle needs it.
    let mut passed_links = Vec::new();
    let mut link = 0usize;
    for edge in &graph.edges {
        let arrow = if edge.kind == super::EdgeKind::Error { "-.->" } else { "-->" };
        let count = path.map_or(0, |p| p.flow_count(edge.flow));
        if count > 0 {
            passed_links.push(link);
        }
        match counted(edge.label.as_deref(), count) {
            Some(label) => {
                let _ = writeln!(out, "    e{} {arrow}|\"{}\"| e{}", edge.from, quote(&label), edge.to);
            }
            None => {
                let _ = writeln!(out, "    e{} {arrow} e{}", edge.from, edge.to);
            }
        }
        link += 1;
    }
    for (k, t) in graph.timers.iter().enumerate() {
        let _ = writeln!(out, "    t{k}((\"⏱ {}\"))", quote(&t.label));
        let _ = writeln!(out, "    e{} --- t{k}", t.element);
        let arrow = if t.interrupting { "-->" } else { "-.->" };
        let count = path.map_or(0, |p| p.flow_count(t.flow));
        if count > 0 {
            passed_links.push(link + 1);
        }
        match counted(None, count) {
            Some(label) => {
                let _ = writeln!(out, "    t{k} {arrow}|\"{label}\"| e{}", t.target);
            }
            None => {
                let _ = writeln!(out, "    t{k} {arrow} e{}", t.target);
            }
        }
        link += 2;
    }
    if let Some(path) = path {
        out.push_str("    classDef passed fill:#dafbe1,stroke:#1a7f37,stroke-width:2px\n");
        out.push_str("    classDef waiting fill:#fff8c5,stroke:#9a6700,stroke-width:3px\n");
        out.push_str("    classDef failed fill:#ffebe9,stroke:#cf222e,stroke-width:3px\n");
        for (class, pick) in [
            (
                "passed",
                &(|i: usize| path.element_count(i) > 0 && !path.is_waiting(i) && path.failure(i).is_none())
                    as &dyn Fn(usize) -> bool,
            ),
            ("waiting", &|i: usize| path.is_waiting(i)),
            ("failed", &|i: usize| path.failure(i).is_some()),
        ] {
            let nodes: Vec<String> = (0..graph.nodes.len()).filter(|i| pick(*i)).map(|i| format!("e{i}")).collect();
            if !nodes.is_empty() {
                let _ = writeln!(out, "    class {} {class}", nodes.join(","));
            }
        }
        if !passed_links.is_empty() {
            let links: Vec<String> = passed_links.iter().map(|l| l.to_string()).collect();
            let _ = writeln!(out, "    linkStyle {} stroke:#1a7f37,stroke-width:3px", links.join(","));
        }
    }
    out
}

pub(super) fn dot(graph: &Graph, path: Option<&InstancePath>) -> String {
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    let mut out =
        format!("digraph \"{}\" {{\n    rankdir=LR;\n    node [fontname=\"Helvetica\"];\n", quote(&graph.code));
    for (i, node) in graph.nodes.iter().enumerate() {
        let shape = match node.kind {
            NodeKind::Start => "circle",
            NodeKind::End | NodeKind::Terminate => "doublecircle",
            NodeKind::Exclusive | NodeKind::Inclusive | NodeKind::Parallel => "diamond",
            NodeKind::User | NodeKind::Timer | NodeKind::Signal => "box, style=rounded",
            NodeKind::Call => "box, peripheries=2",
            NodeKind::Script => "box",
        };
        let mut text = node_text(node);
        let mut extra = String::new();
        if let Some(path) = path {
            if let Some(note) = path_note(path, i) {
                let _ = write!(text, "\n[{note}]");
            }
            let colour = if path.failure(i).is_some() {
                Some("#cf222e")
            } else if path.is_waiting(i) {
                Some("#9a6700")
            } else if path.element_count(i) > 0 {
                Some("#1a7f37")
            } else {
                None
            };
            if let Some(colour) = colour {
                let _ = write!(extra, ", color=\"{colour}\", penwidth=3");
            }
        }
        let _ = writeln!(out, "    e{i} [label=\"{}\", shape={shape}{extra}];", quote(&text));
    }
    let passed = |count: u32, attrs: &mut Vec<String>| {
        if count > 0 {
            attrs.push("color=\"#1a7f37\", penwidth=3".to_string());
        }
    };
    for edge in &graph.edges {
        let count = path.map_or(0, |p| p.flow_count(edge.flow));
        let mut attrs = Vec::new();
        if let Some(label) = counted(edge.label.as_deref(), count) {
            attrs.push(format!("label=\"{}\"", quote(&label)));
        }
        if edge.kind == super::EdgeKind::Error {
            attrs.push("style=dashed".to_string());
        }
        passed(count, &mut attrs);
        let attrs = if attrs.is_empty() { String::new() } else { format!(" [{}]", attrs.join(", ")) };
        let _ = writeln!(out, "    e{} -> e{}{attrs};", edge.from, edge.to);
    }
    // A small double circle beside its element, tied to it by a line without
    // an arrow: solid for a deadline, dashed for a reminder.
    for (k, t) in graph.timers.iter().enumerate() {
        let style = if t.interrupting { "solid" } else { "dashed" };
        let _ = writeln!(
            out,
            "    t{k} [label=\"⏱\\n{}\", shape=doublecircle, style={style}, fontsize=10];",
            quote(&t.label)
        );
        let _ = writeln!(out, "    {{ rank=same; e{}; t{k}; }}", t.element);
        let _ = writeln!(out, "    e{} -> t{k} [dir=none, style=dotted];", t.element);
        let count = path.map_or(0, |p| p.flow_count(t.flow));
        let mut attrs = vec![format!("style={style}")];
        if let Some(label) = counted(None, count) {
            attrs.push(format!("label=\"{label}\""));
        }
        passed(count, &mut attrs);
        let _ = writeln!(out, "    t{k} -> e{} [{}];", t.target, attrs.join(", "));
    }
    out.push_str("}\n");
    out
}
