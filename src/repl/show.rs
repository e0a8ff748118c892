//! How the session shows things: element-instances, executed elements with
//! their changes, parameters, values.

use crate::check::spec::ElementKind;
use crate::runtime::convert;
use crate::runtime::engine::{Change, TraceEvent};
use crate::runtime::instance::{Instance, Item, Wait};
use crate::runtime::value::Value;
use std::fmt::Write;
use std::sync::Arc;
use uuid::Uuid;

/// A value as a process author writes it: texts quoted, `null`, JSON for lists and objects.
pub fn value(v: &Value) -> String {
    convert::to_json(v).to_string()
}

/// One pending or waiting element-instance.
#[derive(Clone, Debug)]
pub struct Activation {
    pub uid: Uuid,
    /// The process it belongs to, when it is a sub-process's.
    pub sub_process: Option<Arc<str>>,
    pub element: Arc<str>,
    pub kind: &'static str,
    pub caption: Option<Arc<str>>,
    /// Ready to run (`step`), or waiting (`exec`, a signal, a timer).
    pub ready: bool,
    /// A user task's fields: name, type and default.
    pub fields: Vec<(Arc<str>, String, Option<Value>)>,
    /// What a timer or signal waits for, and a deadline and next reminder.
    pub waits_for: Option<String>,
}

/// The element-instances of an instance and its sub-processes: first the
/// pending ones in the order they run, then the waiting ones.
pub fn activations(instance: &Instance) -> Vec<Activation> {
    let mut ready = Vec::new();
    let mut waiting = Vec::new();
    collect(instance, false, None, &mut ready, &mut waiting);
    ready.extend(waiting);
    ready
}

fn collect(
    instance: &Instance,
    nested: bool,
    item: Option<&Item>,
    ready: &mut Vec<Activation>,
    waiting: &mut Vec<Activation>,
) {
    let spec = instance.spec();
    let sub_process = nested.then(|| spec.code.clone());
    for token in &instance.queue {
        let e = spec.element(token.element);
        ready.push(Activation {
            uid: token.uid,
            sub_process: sub_process.clone(),
            element: e.name.clone(),
            kind: e.kind_name(),
            caption: e.caption.clone(),
            ready: true,
            fields: Vec::new(),
            waits_for: None,
        });
    }
    for w in &instance.waiting {
        let e = spec.element(w.element);
        let item = w.item.as_ref().or(item);
        let waits_for = match &w.wait {
            Wait::Call { child } => {
                collect(child, true, item, ready, waiting);
                continue;
            }
            Wait::User { to } => to.as_ref().map(|to| format!("to {}", to.join(", "))),
            Wait::Timer { due } => Some(format!("due {due}")),
            Wait::Signal { name } => Some(format!("signal \"{name}\"")),
        };
        let boundaries =
            [w.deadline.map(|at| format!("deadline {at}")), w.reminder.map(|at| format!("next reminder {at}"))];
        // One item of a multi-instance element: which, first.
        let item = item.map(|i| format!("item {}: {}", i.index, crate::runtime::convert::to_json(&i.value)));
        let waits_for = [item, waits_for].into_iter().chain(boundaries).flatten().collect::<Vec<_>>();
        let waits_for = (!waits_for.is_empty()).then(|| waits_for.join("  "));
        let fields = match &e.kind {
            ElementKind::User { fields, .. } => {
                fields.iter().map(|f| (f.name.clone(), f.ty.to_string(), f.default.clone())).collect()
            }
            _ => Vec::new(),
        };
        waiting.push(Activation {
            uid: w.uid,
            sub_process: sub_process.clone(),
            element: e.name.clone(),
            kind: e.kind_name(),
            caption: e.caption.clone(),
            ready: false,
            fields,
            waits_for,
        });
    }
}

/// `user Approve "Approve the order"  uid …  fields Decision: Boolean, Comment: Text = ""`
pub fn activation(a: &Activation) -> String {
    let mut out = format!("{} {}", a.kind, a.element);
    if let Some(c) = &a.caption {
        let _ = write!(out, " \"{c}\"");
    }
    if let Some(p) = &a.sub_process {
        let _ = write!(out, " in {p}");
    }
    let _ = write!(out, "  uid {}", a.uid);
    if !a.fields.is_empty() {
        let fields: Vec<String> = a
            .fields
            .iter()
            .map(|(name, ty, default)| match default {
                Some(d) => format!("{name}: {ty} = {}", value(d)),
                None => format!("{name}: {ty}"),
            })
            .collect();
        let _ = write!(out, "  fields {}", fields.join(", "));
    }
    if let Some(w) = &a.waits_for {
        let _ = write!(out, "  {w}");
    }
    out
}

/// `▶ script Check -> Route` and the parameters it changed.
pub fn event(e: &TraceEvent, out: &mut String) {
    let indent = "  ".repeat(e.depth as usize);
    let _ = write!(out, "{indent}▶ {} ", e.kind);
    if e.depth > 0 {
        let _ = write!(out, "{}.", e.process);
    }
    out.push_str(&e.element);
    let _ = write!(out, "{}", e.outcome);
    out.push('\n');
    changes(&e.changes, &format!("{indent}    "), out);
}

/// `    Counter: 0 → 1`
pub fn changes(changes: &[Change], indent: &str, out: &mut String) {
    for c in changes {
        let (old, new) = (value(&c.old), value(&c.new));
        if old == new {
            continue;
        }
        let _ = writeln!(out, "{indent}{}: {old} → {new}", c.code);
    }
}

/// The parameters of an instance: direction, Code, type, value.
pub fn params(instance: &Instance) -> String {
    let spec = instance.spec();
    let width = spec.params.iter().map(|p| p.code.chars().count() + p.ty.to_string().chars().count()).max();
    let width = width.unwrap_or(0) + 2;
    let mut out = String::new();
    for (p, v) in spec.params.iter().zip(&instance.params) {
        let name = format!("{}: {}", p.code, p.ty);
        let _ = writeln!(out, "  {:5} {name:width$} = {}", p.direction.keyword(), value(v));
    }
    if out.is_empty() {
        out.push_str("  (no parameters)\n");
    }
    out
}
