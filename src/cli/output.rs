//! Human-readable output: descriptors and traces.

use procdsl::runtime::descriptor::Descriptor;
use procdsl::runtime::engine::TraceEvent;
use std::fmt::Write;

/// Prints a descriptor to stdout: as JSON, or for a person.
pub fn print_descriptor(d: &Descriptor, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(d).unwrap_or_default());
    } else {
        print!("{}", descriptor(d));
    }
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
    let mut out = String::new();
    let _ = writeln!(out, "{} {} (instance {})", d.process_name, d.status, d.process_id);
    let width = d.result_parameter_values.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    for (code, value) in &d.result_parameter_values {
        let _ = writeln!(out, "  {code:width$} = {value}");
    }
    if !d.waiting.is_empty() {
        let _ = writeln!(out, "waiting:");
        for w in &d.waiting {
            let _ = write!(out, "  {} {}", w.kind, w.element);
            if let Some(c) = &w.caption {
                let _ = write!(out, " \"{c}\"");
            }
            if let Some(p) = &w.process {
                let _ = write!(out, " in {p}");
            }
            let _ = write!(out, "  uid {}", w.uid);
            if !w.fields.is_empty() {
                let fields: Vec<String> = w.fields.iter().map(|(k, t)| format!("{k}: {t}")).collect();
                let _ = write!(out, "  fields {}", fields.join(", "));
            }
            if let Some(due) = &w.due {
                let _ = write!(out, "  due {due}");
            }
            if let Some(s) = &w.signal {
                let _ = write!(out, "  signal \"{s}\"");
            }
            if let Some(to) = &w.to {
                let _ = write!(out, "  to {}", to.join(", "));
            }
            out.push('\n');
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
            let _ = write!(out, "  {}  {}  {}", h.at, h.who, h.action.as_str());
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
