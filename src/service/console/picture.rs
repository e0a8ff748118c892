//! The one place the console draws a process: its picture, and, for an
//! instance, the path it took, both drawn by [`crate::graph`] (the same SVG
//! as `procdsl graph --format svg` and `graph --instance`). Each element is a
//! `g.pd-element` with `data-element` and, on an instance's page, the class
//! `passed`, `waiting`, `failed` or `untouched` (docs/CONSOLE.md, "Hooks").

use crate::check::spec::{ProcessSpec, Program};
use crate::graph::{self, InstancePath};
use crate::runtime::instance::Instance;
use maud::{Markup, PreEscaped};

// The SVG escapes every name, caption and condition it draws, so it is
// inlined as it is.

/// The picture of a process of the served program.
pub fn of_process(program: &Program, spec: &ProcessSpec) -> Markup {
    PreEscaped(graph::svg(program, spec, None))
}

/// The picture of the process `instance` runs, from the definition it
/// started with, with the path it took.
pub fn of_instance(instance: &Instance) -> Markup {
    PreEscaped(graph::svg(&instance.program, instance.spec(), Some(&InstancePath::of(instance))))
}
