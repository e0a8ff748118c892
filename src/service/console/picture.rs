//! The one place the console draws a process: its picture, and, for an
//! instance, the path it took. Every page calls [`picture`]; the drawing
//! itself belongs to the `graph` module, and `picture` is the one call to
//! swap for it:
//!
//! ```text
//! let path = instance.map(crate::graph::InstancePath::of);
//! PreEscaped(crate::graph::svg(spec, path.as_ref()))
//! ```
//!
//! Until that lands, this draws a plain row of the elements, marked the way
//! the console's style sheet and tests expect (docs/CONSOLE.md, "Hooks"):
//! `g.element` with `data-element` and the classes `passed`, `waiting`,
//! `failed`.

use crate::check::spec::ProcessSpec;
use crate::runtime::instance::{Action, Instance, Status};
use maud::{html, Markup, PreEscaped};
use std::collections::HashSet;

/// The picture of `spec`, with the path `instance` took when given.
pub fn picture(spec: &ProcessSpec, instance: Option<&Instance>) -> Markup {
    let path = instance.map(Path::of);
    svg(spec, path.as_ref())
}

/// The elements an instance passed, waits at and failed in, by name.
#[derive(Default)]
struct Path {
    passed: HashSet<String>,
    waiting: HashSet<String>,
    failed: Option<String>,
}

impl Path {
    /// What the instance shows of its path: the tasks executed (its
    /// history), where it waits, where it failed.
    fn of(instance: &Instance) -> Path {
        let spec = instance.program.process(instance.process);
        let mut passed: HashSet<String> =
            instance.history.iter().filter(|h| h.action == Action::Exec).filter_map(|h| h.element.clone()).collect();
        if instance.history.iter().any(|h| h.action == Action::Start) || instance.status != Status::Running {
            passed.insert(spec.element(spec.start).name.to_string());
        }
        let waiting = instance.waiting.iter().map(|w| spec.element(w.element).name.to_string()).collect();
        let failed = instance.error.as_ref().and_then(|e| e.element.clone());
        if instance.status == Status::Completed {
            // Its end was reached: every end element it could have ended at is not known here.
            passed.extend(spec.elements.iter().filter(|e| e.kind_name() == "end").map(|e| e.name.to_string()));
        }
        Path { passed, waiting, failed }
    }
}

/// The placeholder picture: the elements in a row, `path` marked.
fn svg(spec: &ProcessSpec, path: Option<&Path>) -> Markup {
    const W: usize = 150;
    const H: usize = 56;
    const GAP: usize = 30;
    let n = spec.elements.len().max(1);
    let width = n * W + (n - 1) * GAP + 20;
    let empty = Path::default();
    let path = path.unwrap_or(&empty);
    let classes = |name: &str| {
        let mut c = vec!["element"];
        if path.passed.contains(name) {
            c.push("passed");
        }
        if path.waiting.contains(name) {
            c.push("waiting");
        }
        if path.failed.as_deref() == Some(name) {
            c.push("failed");
        }
        c.join(" ")
    };
    html! {
        svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox={ "0 0 " (width) " " (H + 20) }
            aria-label={ "The elements of " (spec.code) } {
            @for (i, e) in spec.elements.iter().enumerate() {
                @let x = 10 + i * (W + GAP);
                g class=(classes(&e.name)) data-element=(&*e.name) data-kind=(e.kind_name()) {
                    title { (e.kind_name()) " " (&*e.name) @if let Some(c) = &e.caption { ": " (c) } }
                    rect x=(x) y="10" width=(W) height=(H) rx="8" {}
                    text x=(x + W / 2) y="34" text-anchor="middle" font-size="13" { (&*e.name) }
                    text x=(x + W / 2) y="52" text-anchor="middle" font-size="11" fill="#57606a" { (e.kind_name()) }
                    @if i + 1 < n {
                        (PreEscaped(format!(
                            r##"<line x1="{}" y1="38" x2="{}" y2="38" stroke="#8c959f" stroke-width="2"/>"##,
                            x + W,
                            x + W + GAP
                        )))
                    }
                }
            }
        }
    }
}
