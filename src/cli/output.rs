//! Human-readable output: descriptors and traces.

use procdsl::runtime::convert;
use procdsl::runtime::descriptor::{Descriptor, WaitingElement};
use procdsl::runtime::engine::TraceEvent;
use procdsl::runtime::instance::Instance;
use procdsl::runtime::value::{UtcDateTime, Value};
use std::fmt::Write;

/// Prints a descriptor to stdout: as JSON, or for a person.
pub fn print_descriptor(d: &Descriptor, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(d).unwrap_or_default());
    } else {
        print!("{}", descriptor(d));
    }
}

/// A descriptor to print for a person: its result values taken from the
/// instance's typed values, so that times read to the millisecond.
pub fn for_person(d: &Descriptor, instance: &Instance) -> Descriptor {
    let mut d = d.clone();
    for (code, shown) in d.result_parameter_values.iter_mut() {
        if let Some(v) = instance.param(code) {
            *shown = value(v);
        }
    }
    d
}

/// The exit code a descriptor stands for: 1 when the process failed, else 0.
pub fn exit_code(d: &Descriptor) -> i32 {
    if d.status == procdsl::Status::Failed {
        super::EXIT_FAILED
    } else {
        super::EXIT_OK
    }
}

/// A descriptor for a person: status, results, waiting elements, error, log.
pub fn descriptor(d: &Descriptor) -> String {
    let mut out = headline(d);
    let width = d.result_parameter_values.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    for (code, value) in &d.result_parameter_values {
        let _ = writeln!(out, "  {code:width$} = {value}");
    }
    out.push_str(&tail(d));
    out
}

fn headline(d: &Descriptor) -> String {
    format!("{} {} (instance {})\n", d.process_name, d.status, d.process_id)
}

/// What follows the parameters: waiting element-instances, error, log.
fn tail(d: &Descriptor) -> String {
    let mut out = String::new();
    if !d.waiting.is_empty() {
        let _ = writeln!(out, "waiting:");
        for w in &d.waiting {
            let _ = writeln!(out, "  {}", waiting(w));
        }
    }
    if let Some(e) = &d.error {
        let _ = writeln!(out, "error: {e}");
    }
    if !d.log.is_empty() {
        let _ = writeln!(out, "log:");
        for line in &d.log {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

/// Who started the instance and who did what since, for `show`.
pub fn history(d: &Descriptor) -> String {
    let mut out = String::new();
    if let Some(who) = &d.started_by {
        let _ = writeln!(out, "started by: {who}");
    }
    if !d.history.is_empty() {
        let _ = writeln!(out, "history:");
        for h in &d.history {
            let _ = write!(out, "  {}  {}  {}", time(h.at), h.who, h.action.as_str());
            if let Some(e) = &h.element {
                let _ = write!(out, " {e}");
            }
            if let Some(s) = &h.signal {
                let _ = write!(out, " \"{s}\"");
            }
            out.push('\n');
        }
    }
    out
}

/// One line per element executed, with the parameters it changed.
pub fn trace(events: &[TraceEvent]) -> String {
    let mut out = String::new();
    for e in events {
        let indent = "  ".repeat(e.depth as usize);
        let _ = write!(out, "{indent}{} {}.{}", e.kind, e.process, e.element);
        let _ = write!(out, "{}", e.outcome);
        out.push('\n');
        for c in &e.changes {
            let _ = writeln!(
                out,
                "{indent}    {}: {} -> {}",
                c.code,
                procdsl::runtime::convert::to_json(&c.old),
                procdsl::runtime::convert::to_json(&c.new)
            );
        }
    }
    out
}

/// `user Approve "Approve the order"  uid …  fields Decision: Boolean`
pub fn waiting(w: &WaitingElement) -> String {
    let mut out = format!("{} {}", w.kind, w.element);
    if let Some(c) = &w.caption {
        let _ = write!(out, " \"{c}\"");
    }
    if let Some(p) = &w.process {
        let _ = write!(out, " in {p}");
    }
    let _ = write!(out, "  uid {}", w.uid);
    if let Some(item) = w.item {
        let value = w.item_value.as_ref().map_or_else(|| "null".to_string(), |v| v.to_string());
        let _ = write!(out, "  item {item}: {value}");
    }
    if !w.fields.is_empty() {
        let fields: Vec<String> = w.fields.iter().map(|(k, t)| format!("{k}: {t}")).collect();
        let _ = write!(out, "  fields {}", fields.join(", "));
    }
    if let Some(due) = &w.due {
        let due = due.parse().map_or_else(|_| due.clone(), time);
        let _ = write!(out, "  due {due}");
    }
    if let Some(s) = &w.signal {
        let _ = write!(out, "  signal \"{s}\"");
    }
    if let Some(to) = &w.to {
        let _ = write!(out, "  to {}", to.join(", "));
    }
    if let Some(deadline) = &w.deadline {
        let deadline = deadline.parse().map_or_else(|_| deadline.clone(), time);
        let _ = write!(out, "  deadline {deadline}");
    }
    out
}

/// A time for a person: UTC, to the millisecond (the clock's nanoseconds
/// are noise), the fraction only when it is not zero.
pub fn time(t: jiff::Timestamp) -> String {
    let t = jiff::Timestamp::from_millisecond(t.as_millisecond()).unwrap_or(t);
    let format = if t.subsec_millisecond() == 0 { "%Y-%m-%dT%H:%M:%SZ" } else { "%Y-%m-%dT%H:%M:%S%.3fZ" };
    t.strftime(format).to_string()
}

/// A DateTime value for a person: as [`time`], over the language's whole
/// range of years (which goes past what a `Timestamp` holds).
fn datetime(t: UtcDateTime) -> String {
    let text = t.to_string();
    let Some((whole, fraction)) = text.trim_end_matches('Z').split_once('.') else {
        return text;
    };
    let millis = &fraction[..fraction.len().min(3)];
    if millis.bytes().all(|b| b == b'0') {
        format!("{whole}Z")
    } else {
        format!("{whole}.{millis:0<3}Z")
    }
}

/// A value for a person: JSON, with times to the millisecond.
pub fn value(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::DateTime(t) => J::String(datetime(*t)),
        Value::List(l) => J::Array(l.items.iter().map(value).collect()),
        Value::Object(o) => J::Object(o.attrs.iter().map(|(k, v)| (k.to_string(), value(v))).collect()),
        other => convert::to_json(other),
    }
}

/// A stored instance for a person, as `show` prints it: the descriptor
/// with every parameter (`in` and `var` too) in place of the results.
pub fn instance(instance: &Instance) -> String {
    let d = instance.descriptor(None);
    let mut out = headline(&d);
    let spec = instance.spec();
    let width = spec.params.iter().map(|p| p.code.chars().count() + p.ty.to_string().chars().count()).max();
    let width = width.unwrap_or(0) + 2;
    for (p, v) in spec.params.iter().zip(&instance.params) {
        let name = format!("{}: {}", p.code, p.ty);
        let _ = writeln!(out, "  {:5} {name:width$} = {}", p.direction.keyword(), value(v));
    }
    out.push_str(&tail(&d));
    out
}

/// Every parameter of an instance by Code, as JSON (`show --json` adds it to the descriptor).
pub fn parameters(instance: &Instance) -> serde_json::Map<String, serde_json::Value> {
    let spec = instance.spec();
    spec.params.iter().zip(&instance.params).map(|(p, v)| (p.code.to_string(), convert::to_json(v))).collect()
}
