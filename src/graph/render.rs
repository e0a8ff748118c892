//! The SVG drawing: BPMN-like shapes on the layout, with presentation
//! attributes only (no stylesheet, no fonts to fetch), so the picture
//! looks the same alone, in a browser, or inline in a page.

use super::layout::{layout, Placed, LABEL_CHAR, LABEL_CHARS, TIMER_RADIUS};
use super::{EdgeKind, Graph, InstancePath, Node, NodeKind};
use crate::xml::escape;
use std::fmt::Write;

const INK: &str = "#24292f";
const FAINT: &str = "#8c959f";
const PASSED: &str = "#1a7f37";
const PASSED_FILL: &str = "#dafbe1";
const WAITING: &str = "#9a6700";
const WAITING_FILL: &str = "#fff8c5";
const FAILED: &str = "#cf222e";
const FAILED_FILL: &str = "#ffebe9";
const FONT: &str = "Helvetica, Arial, sans-serif";
/// Characters per line of a task's caption.
const TASK_LINE: usize = 21;
/// Characters of a border timer's label beside it.
const TIMER_LABEL_CHARS: usize = 15;
/// Characters per line of an event's or gateway's label.
const EVENT_LINE: usize = 18;

/// A number as the SVG writes it: at most one decimal.
fn num(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// An id fragment from the process Code: ids must be unique when several
/// pictures share a page.
fn id_part(code: &str) -> String {
    code.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// Splits `text` into at most `lines` lines of about `width` characters,
/// at spaces where it can; the last line ends in `…` when text was left out.
fn wrap(text: &str, width: usize, lines: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut clipped = false;
    for word in text.split_whitespace() {
        let mut word: String = word.to_string();
        loop {
            let len = line.chars().count();
            let wlen = word.chars().count();
            if len == 0 && wlen > width {
                // A word longer than a line is cut.
                let head: String = word.chars().take(width).collect();
                word = word.chars().skip(width).collect();
                out.push(head);
            } else if len == 0 {
                line = word.clone();
                break;
            } else if len + 1 + wlen <= width {
                line.push(' ');
                line.push_str(&word);
                break;
            } else {
                out.push(std::mem::take(&mut line));
            }
            if out.len() >= lines {
                clipped = true;
                break;
            }
        }
        if out.len() >= lines {
            clipped = true;
            break;
        }
    }
    if !line.is_empty() && out.len() < lines {
        out.push(line);
    } else if !line.is_empty() {
        clipped = true;
    }
    out.truncate(lines);
    if clipped {
        if let Some(last) = out.last_mut() {
            let keep: String = last.chars().take(width.saturating_sub(1)).collect();
            *last = format!("{}…", keep.trim_end());
        }
    }
    out
}

/// A label clipped to [`LABEL_CHARS`].
fn clip(text: &str) -> String {
    clip_to(text, LABEL_CHARS)
}

/// Text clipped to `chars` characters, `…` marking the cut.
fn clip_to(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        let keep: String = text.chars().take(chars.saturating_sub(1)).collect();
        format!("{}…", keep.trim_end())
    }
}

/// How the path marks an element.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// No path drawn.
    Plain,
    /// A path is drawn and did not pass here.
    Untouched,
    Passed,
    Waiting,
    Failed,
}

impl Mark {
    fn of(path: Option<&InstancePath>, i: usize) -> Mark {
        match path {
            None => Mark::Plain,
            Some(p) if p.failure(i).is_some() => Mark::Failed,
            Some(p) if p.is_waiting(i) => Mark::Waiting,
            Some(p) if p.element_count(i) > 0 => Mark::Passed,
            Some(_) => Mark::Untouched,
        }
    }

    /// The class a page styles or finds the element by (the web console's
    /// tests look for `.pd-element.passed[data-element='Approve']`).
    fn class(self) -> &'static str {
        match self {
            Mark::Plain => "",
            Mark::Untouched => " untouched",
            Mark::Passed => " passed",
            Mark::Waiting => " waiting",
            Mark::Failed => " failed",
        }
    }

    fn stroke(self) -> &'static str {
        match self {
            Mark::Plain => INK,
            Mark::Untouched => FAINT,
            Mark::Passed => PASSED,
            Mark::Waiting => WAITING,
            Mark::Failed => FAILED,
        }
    }

    fn fill(self) -> &'static str {
        match self {
            Mark::Plain | Mark::Untouched => "#ffffff",
            Mark::Passed => PASSED_FILL,
            Mark::Waiting => WAITING_FILL,
            Mark::Failed => FAILED_FILL,
        }
    }

    fn text(self) -> &'static str {
        if self == Mark::Untouched {
            FAINT
        } else {
            INK
        }
    }
}

pub(super) fn svg(graph: &Graph, path: Option<&InstancePath>) -> String {
    let layout = layout(graph);
    let id = id_part(&graph.code);
    let legend = if path.is_some() { 24.0 } else { 0.0 };
    let (width, height) = (layout.width.max(200.0), layout.height + legend);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
         role=\"img\" aria-labelledby=\"pd-{id}-title pd-{id}-desc\" font-family=\"{FONT}\" font-size=\"12\">",
        w = num(width),
        h = num(height),
    );
    let title = match &graph.caption {
        Some(c) => format!("{} ({c})", graph.code),
        None => graph.code.clone(),
    };
    let _ = writeln!(out, "<title id=\"pd-{id}-title\">Process {}</title>", escape(&title));
    let _ = writeln!(out, "<desc id=\"pd-{id}-desc\">{}</desc>", escape(&description(graph, path)));
    let _ = writeln!(out, "<defs>");
    for (name, colour) in [("arrow", INK), ("faint", FAINT), ("passed", PASSED)] {
        let _ = writeln!(
            out,
            "<marker id=\"pd-{id}-{name}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerUnits=\"userSpaceOnUse\" \
             markerWidth=\"9\" markerHeight=\"9\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"{colour}\"/></marker>"
        );
    }
    let _ = writeln!(out, "</defs>");
    let _ = writeln!(out, "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>");

    // Flows first, so shapes sit on top of their ends.
    for (k, edge) in graph.edges.iter().enumerate() {
        let count = path.map_or(0, |p| p.flow_count(edge.flow));
        let dashed = edge.kind == EdgeKind::Error;
        let from = &graph.nodes[edge.from].name;
        let to = &graph.nodes[edge.to].name;
        let tip = format!("{from} → {to}{}", edge.label.as_deref().map(|l| format!(": {l}")).unwrap_or_default());
        flow(&mut out, &id, &layout.edges[k], edge.label.as_deref(), &tip, count, path.is_some(), dashed);
    }
    for (k, t) in graph.timers.iter().enumerate() {
        let count = path.map_or(0, |p| p.flow_count(t.flow));
        let tip = format!("{}: {} → {}", graph.nodes[t.element].name, t.label, graph.nodes[t.target].name);
        flow(&mut out, &id, &layout.timers[k].1, None, &tip, count, path.is_some(), !t.interrupting);
    }
    for (i, node) in graph.nodes.iter().enumerate() {
        element(&mut out, node, &layout.nodes[i], Mark::of(path, i), path, i);
    }
    for (k, t) in graph.timers.iter().enumerate() {
        let (cx, cy) = layout.timers[k].0;
        let count = path.map_or(0, |p| p.flow_count(t.flow));
        let colour = match (path, count) {
            (None, _) => INK,
            (Some(_), 0) => FAINT,
            _ => PASSED,
        };
        let dash = if t.interrupting { "" } else { " stroke-dasharray=\"3 2\"" };
        let _ = writeln!(out, "<g class=\"pd-boundary\"><title>{}</title>", escape(&t.label));
        let _ = writeln!(
            out,
            "<circle cx=\"{x}\" cy=\"{y}\" r=\"{r}\" fill=\"#ffffff\" stroke=\"{colour}\"{dash}/>\
             <circle cx=\"{x}\" cy=\"{y}\" r=\"{r2}\" fill=\"none\" stroke=\"{colour}\"{dash}/>",
            x = num(cx),
            y = num(cy),
            r = num(TIMER_RADIUS),
            r2 = num(TIMER_RADIUS - 2.5),
        );
        clock(&mut out, cx, cy, TIMER_RADIUS - 4.0, colour);
        // The labels of one element's timers stack right of its last timer.
        let host = &layout.nodes[t.element];
        let mine: Vec<usize> = (0..graph.timers.len()).filter(|&o| graph.timers[o].element == t.element).collect();
        let nth = mine.iter().position(|&o| o == k).unwrap_or(0) as f64;
        let last = mine.last().map_or(cx, |&o| layout.timers[o].0 .0);
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"{colour}\">{}</text></g>",
            num(last + TIMER_RADIUS + 4.0),
            num(host.y + host.shape_height + 13.0 + nth * 12.0),
            escape(&clip_to(&t.label, TIMER_LABEL_CHARS))
        );
    }
    if path.is_some() {
        legend_row(&mut out, layout.height + 4.0);
    }
    out.push_str("</svg>\n");
    out
}

/// The `<desc>`: what the picture shows, for screen readers.
fn description(graph: &Graph, path: Option<&InstancePath>) -> String {
    let mut text = format!(
        "Process {} with {} elements and {} flows, drawn left to right.",
        graph.code,
        graph.nodes.len(),
        graph.edges.len() + graph.timers.len()
    );
    if let Some(p) = path {
        let passed: Vec<&str> =
            (0..graph.nodes.len()).filter(|&i| p.element_count(i) > 0).map(|i| graph.nodes[i].name.as_str()).collect();
        let _ = write!(text, " {}", p.summary);
        if p.recorded {
            let _ =
                write!(text, "; passed: {}", if passed.is_empty() { "none".to_string() } else { passed.join(", ") });
        } else {
            text.push_str("; saved before paths were recorded");
        }
        let name = |e: &crate::check::spec::ElementId| graph.nodes.get(e.0 as usize).map_or("?", |n| n.name.as_str());
        let waiting: Vec<&str> = p.waiting.iter().map(name).collect();
        if !waiting.is_empty() {
            let _ = write!(text, "; waiting at: {}", waiting.join(", "));
        }
        if let Some((e, message)) = &p.failed {
            let _ = write!(text, "; failed at {}: {message}", name(e));
        }
        text.push('.');
    }
    text
}

#[allow(clippy::too_many_arguments)]
fn flow(
    out: &mut String,
    id: &str,
    route: &[(f64, f64)],
    label: Option<&str>,
    tip: &str,
    count: u32,
    with_path: bool,
    dashed: bool,
) {
    let (colour, marker, width) = match (with_path, count) {
        (false, _) => (INK, "arrow", "1.3"),
        (true, 0) => (FAINT, "faint", "1.3"),
        (true, _) => (PASSED, "passed", "2.6"),
    };
    let mut d = String::new();
    for (k, (x, y)) in route.iter().enumerate() {
        let _ = write!(d, "{}{} {}", if k == 0 { "M" } else { "L" }, num(*x), num(*y));
    }
    let dash = if dashed { " stroke-dasharray=\"6 4\"" } else { "" };
    let mut tip = tip.to_string();
    if count > 0 {
        let _ = write!(tip, " (taken {count}×)");
    }
    let _ = writeln!(out, "<g class=\"pd-flow\"><title>{}</title>", escape(&tip));
    let _ = writeln!(
        out,
        "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{width}\"{dash} \
         stroke-linejoin=\"round\" marker-end=\"url(#pd-{id}-{marker})\"/>"
    );
    let text = match (label, count > 1) {
        (Some(l), true) => Some(format!("{} ×{count}", clip(l))),
        (Some(l), false) => Some(clip(l)),
        (None, true) => Some(format!("×{count}")),
        (None, false) => None,
    };
    if let (Some(text), Some(&(x0, y0)), Some(&(x1, y1))) = (text, route.first(), route.get(1)) {
        // On the first stretch, just past where the flow leaves.
        let along = if (x1 - x0).abs() > 1.0 { 0.5 } else { 0.6 };
        let (x, y) = (x0 + (x1 - x0) * along, y0 + (y1 - y0) * along);
        let w = text.chars().count() as f64 * LABEL_CHAR + 6.0;
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"15\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.85\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{colour}\">{}</text>",
            num(x - w / 2.0),
            num(y - 11.0),
            num(w),
            num(x),
            num(y),
            escape(&text)
        );
    }
    out.push_str("</g>\n");
}

/// The tooltip of an element: everything the picture may have clipped.
fn tooltip(node: &Node, path: Option<&InstancePath>, i: usize) -> String {
    let mut text = format!("{} {}", node.kind.keyword(), node.name);
    for extra in [&node.caption, &node.detail].into_iter().flatten() {
        let _ = write!(text, "\n{extra}");
    }
    if let Some(m) = &node.multi {
        let _ = write!(text, "\n||| {m}");
    }
    if let Some(p) = path {
        let n = p.element_count(i);
        if n > 0 {
            let _ = write!(text, "\npassed {n}×");
        }
        if p.is_waiting(i) {
            text.push_str("\nwaiting now");
        }
        if let Some(error) = p.failure(i) {
            let _ = write!(text, "\nfailed: {error}");
        }
    }
    text
}

fn element(out: &mut String, node: &Node, at: &Placed, mark: Mark, path: Option<&InstancePath>, i: usize) {
    let (stroke, fill, ink) = (mark.stroke(), mark.fill(), mark.text());
    let (cx, cy) = at.centre();
    let heavy = if matches!(mark, Mark::Waiting | Mark::Failed) { 1.5 } else { 0.0 };
    let _ = writeln!(
        out,
        "<g class=\"pd-element pd-{}{}\" data-element=\"{}\" id=\"pd-{}-e{i}\"><title>{}</title>",
        node.kind.keyword(),
        mark.class(),
        escape(&node.name),
        id_part(&node.name),
        escape(&tooltip(node, path, i))
    );
    let below = |out: &mut String, lines: &[String], top: f64| {
        for (k, line) in lines.iter().enumerate() {
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{ink}\">{}</text>",
                num(cx),
                num(top + 12.0 + k as f64 * 14.0),
                escape(line)
            );
        }
    };
    match node.kind {
        NodeKind::Start | NodeKind::End | NodeKind::Terminate => {
            let r = at.shape_width / 2.0;
            let w = if node.kind == NodeKind::Start { 1.5 } else { 4.0 } + heavy;
            let _ = writeln!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{}\"/>",
                num(cx),
                num(cy),
                num(r - w / 2.0),
                num(w)
            );
            if node.kind == NodeKind::Terminate {
                let _ = writeln!(
                    out,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{stroke}\"/>",
                    num(cx),
                    num(cy),
                    num(r - 9.0)
                );
            }
            below(out, &wrap(&label_of(node), EVENT_LINE, 2), at.y + at.shape_height);
        }
        NodeKind::Timer | NodeKind::Signal => {
            let r = at.shape_width / 2.0;
            let _ = writeln!(
                out,
                "<circle cx=\"{x}\" cy=\"{y}\" r=\"{r}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{w}\"/>\
                 <circle cx=\"{x}\" cy=\"{y}\" r=\"{r2}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{w}\"/>",
                x = num(cx),
                y = num(cy),
                r = num(r - 1.0),
                r2 = num(r - 4.5),
                w = num(1.3 + heavy)
            );
            if node.kind == NodeKind::Timer {
                clock(out, cx, cy, r - 9.0, stroke);
            } else {
                let s = r - 9.0;
                let _ = writeln!(
                    out,
                    "<path d=\"M{} {}L{} {}L{} {}z\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"1.3\"/>",
                    num(cx),
                    num(cy - s),
                    num(cx + s * 0.9),
                    num(cy + s * 0.6),
                    num(cx - s * 0.9),
                    num(cy + s * 0.6)
                );
            }
            let mut lines = wrap(&label_of(node), EVENT_LINE, 2);
            if let Some(d) = &node.detail {
                lines.extend(wrap(d, EVENT_LINE, 1));
            }
            below(out, &lines, at.y + at.shape_height);
        }
        NodeKind::Exclusive | NodeKind::Inclusive | NodeKind::Parallel => {
            let h = at.shape_width / 2.0;
            let _ = writeln!(
                out,
                "<path d=\"M{} {}L{} {}L{} {}L{} {}z\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{}\"/>",
                num(cx),
                num(cy - h),
                num(cx + h),
                num(cy),
                num(cx),
                num(cy + h),
                num(cx - h),
                num(cy),
                num(1.5 + heavy)
            );
            let m = h * 0.4;
            let marker = match node.kind {
                NodeKind::Exclusive => format!(
                    "<path d=\"M{a} {b}L{c} {d}M{a} {d}L{c} {b}\" stroke=\"{stroke}\" stroke-width=\"3\"/>",
                    a = num(cx - m * 0.8),
                    b = num(cy - m * 0.8),
                    c = num(cx + m * 0.8),
                    d = num(cy + m * 0.8)
                ),
                NodeKind::Parallel => format!(
                    "<path d=\"M{} {}L{} {}M{} {}L{} {}\" stroke=\"{stroke}\" stroke-width=\"3\"/>",
                    num(cx),
                    num(cy - m),
                    num(cx),
                    num(cy + m),
                    num(cx - m),
                    num(cy),
                    num(cx + m),
                    num(cy)
                ),
                _ => format!(
                    "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"2.5\"/>",
                    num(cx),
                    num(cy),
                    num(m)
                ),
            };
            let _ = writeln!(out, "{marker}");
            below(out, &wrap(&label_of(node), EVENT_LINE, 2), at.y + at.shape_height);
        }
        NodeKind::Script | NodeKind::User | NodeKind::Call => {
            let (x, y, w, h) = (cx - at.shape_width / 2.0, at.y, at.shape_width, at.shape_height);
            let width = if node.kind == NodeKind::Call { 3.5 } else { 1.5 } + heavy;
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"9\" fill=\"{fill}\" stroke=\"{stroke}\" \
                 stroke-width=\"{}\"/>",
                num(x),
                num(y),
                num(w),
                num(h),
                num(width)
            );
            icon(out, node.kind, x + 6.0, y + 6.0, stroke);
            let second = match node.kind {
                NodeKind::Call => node.detail.as_deref().or(node.caption.as_deref()),
                _ => node.caption.as_deref(),
            };
            // The name beside the icon, or alone in the middle of the box.
            let (name_x, name_y, anchor, room) = match second {
                Some(_) => (x + 24.0, y + 17.0, "start", 16),
                None => (cx, y + h / 2.0 + (if node.multi.is_some() { 0.0 } else { 4.0 }), "middle", 19),
            };
            let name = wrap(&node.name, room, 1);
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" font-weight=\"bold\" fill=\"{ink}\">{}</text>",
                num(name_x),
                num(name_y),
                escape(name.first().map(String::as_str).unwrap_or_default())
            );
            if let Some(text) = second {
                below(out, &wrap(text, TASK_LINE, 2), y + 23.0);
            }
            if node.multi.is_some() {
                // BPMN's parallel multi-instance marker: three bars.
                for k in 0..3 {
                    let bx = cx - 6.0 + k as f64 * 5.0;
                    let _ = writeln!(
                        out,
                        "<rect x=\"{}\" y=\"{}\" width=\"2\" height=\"10\" fill=\"{stroke}\"/>",
                        num(bx),
                        num(y + h - 14.0)
                    );
                }
            }
        }
    }
    if let Some(p) = path {
        badge(out, at, p, i);
    }
    out.push_str("</g>\n");
}

/// The name under an event or gateway.
fn label_of(node: &Node) -> String {
    match &node.caption {
        Some(c) => format!("{}: {c}", node.name),
        None => node.name.clone(),
    }
}

/// A count (passed more than once), "waits" or "failed" over the shape's
/// top right corner.
fn badge(out: &mut String, at: &Placed, p: &InstancePath, i: usize) {
    let n = p.element_count(i);
    let (text, colour) = if p.failure(i).is_some() {
        ("failed".to_string(), FAILED)
    } else if p.is_waiting(i) {
        ("waits".to_string(), WAITING)
    } else if n > 1 {
        (format!("×{n}"), PASSED)
    } else {
        return;
    };
    let (cx, _) = at.centre();
    let w = text.chars().count() as f64 * 6.6 + 8.0;
    let x = cx + at.shape_width / 2.0 - w / 2.0;
    let y = at.y - 8.0;
    let _ = writeln!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"15\" rx=\"7\" fill=\"{colour}\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"#ffffff\">{}</text>",
        num(x),
        num(y),
        num(w),
        num(x + w / 2.0),
        num(y + 11.0),
        escape(&text)
    );
}

/// A clock face: a timer.
fn clock(out: &mut String, cx: f64, cy: f64, r: f64, colour: &str) {
    let _ = writeln!(
        out,
        "<circle cx=\"{x}\" cy=\"{y}\" r=\"{r}\" fill=\"none\" stroke=\"{colour}\"/>\
         <path d=\"M{x} {y}L{x} {top}M{x} {y}L{right} {y}\" stroke=\"{colour}\"/>",
        x = num(cx),
        y = num(cy),
        r = num(r),
        top = num(cy - r * 0.75),
        right = num(cx + r * 0.6)
    );
}

/// A task's kind icon in its top left corner.
fn icon(out: &mut String, kind: NodeKind, x: f64, y: f64, colour: &str) {
    let p = |dx: f64, dy: f64| format!("{} {}", num(x + dx), num(y + dy));
    let d = match kind {
        // A sheet with lines: a script.
        NodeKind::Script => format!(
            "M{}L{}L{}L{}zM{}L{}M{}L{}M{}L{}",
            p(2.0, 0.0),
            p(13.0, 0.0),
            p(11.0, 14.0),
            p(0.0, 14.0),
            p(3.5, 4.0),
            p(10.0, 4.0),
            p(3.0, 7.0),
            p(9.5, 7.0),
            p(2.5, 10.0),
            p(9.0, 10.0)
        ),
        // Head and shoulders: a person.
        NodeKind::User => {
            let _ = writeln!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"none\" stroke=\"{colour}\"/>",
                num(x + 7.0),
                num(y + 4.0)
            );
            format!("M{}C{} {} {}", p(0.5, 15.0), p(0.5, 7.0), p(13.5, 7.0), p(13.5, 15.0))
        }
        // A boxed plus: BPMN's collapsed sub-process.
        _ => format!(
            "M{}L{}L{}L{}zM{}L{}M{}L{}",
            p(0.0, 0.0),
            p(14.0, 0.0),
            p(14.0, 14.0),
            p(0.0, 14.0),
            p(7.0, 3.0),
            p(7.0, 11.0),
            p(3.0, 7.0),
            p(11.0, 7.0)
        ),
    };
    let _ = writeln!(out, "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.2\"/>");
}

/// What the colours mean, under a picture with a path.
fn legend_row(out: &mut String, y: f64) {
    let mut x = 20.0;
    let _ = writeln!(out, "<g class=\"pd-legend\" font-size=\"11\">");
    for (label, stroke, fill) in
        [("passed", PASSED, PASSED_FILL), ("waiting", WAITING, WAITING_FILL), ("failed", FAILED, FAILED_FILL)]
    {
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"12\" rx=\"3\" fill=\"{fill}\" stroke=\"{stroke}\" \
             stroke-width=\"2\"/><text x=\"{}\" y=\"{}\" fill=\"{INK}\">{label}</text>",
            num(x),
            num(y),
            num(x + 19.0),
            num(y + 10.0)
        );
        x += 80.0;
    }
    out.push_str("</g>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_marks_what_it_cut() {
        assert_eq!(wrap("Approve the order", 10, 2), vec!["Approve", "the order"]);
        assert_eq!(wrap("one two three four five", 8, 2), vec!["one two", "three…"]);
        assert_eq!(wrap("Supercalifragilistic", 8, 3), vec!["Supercal", "ifragili", "stic"]);
    }

    #[test]
    fn escape_leaves_no_markup() {
        assert_eq!(escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;\u{FFFD}");
    }
}
