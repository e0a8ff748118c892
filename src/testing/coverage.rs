//! Coverage: per process, the elements and flows that no test passed.
//! The plain flow out of a script that fails at its top level (`fail` not
//! inside an `if` or a loop) can never be passed, so it is not counted.

use super::TestResult;
use crate::check::ir::CStmtKind;
use crate::check::spec::{ElementKind, Program};
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What the tests passed of one process.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessCoverage {
    pub process: String,
    pub elements: usize,
    pub elements_passed: usize,
    pub flows: usize,
    pub flows_passed: usize,
    /// Elements and flows passed over all of them, 0 to 1.
    pub share: f64,
    pub elements_not_passed: Vec<String>,
    /// `[from, to]` pairs.
    pub flows_not_passed: Vec<[String; 2]>,
}

/// Coverage of every process of the program by these results.
pub fn coverage(program: &Program, results: &[TestResult]) -> Vec<ProcessCoverage> {
    let elements: BTreeSet<(&str, &str)> =
        results.iter().flat_map(|r| &r.elements).map(|(p, e)| (&**p, &**e)).collect();
    let flows: BTreeSet<(&str, &str, &str)> =
        results.iter().flat_map(|r| &r.flows).map(|(p, a, b)| (&**p, &**a, &**b)).collect();
    program
        .processes
        .iter()
        .map(|spec| {
            let code = &*spec.code;
            let mut all_flows: Vec<(Arc<str>, Arc<str>)> = Vec::new();
            for e in &spec.elements {
                // A script whose body fails at its top level never passes its plain flow.
                let always_fails = matches!(&e.kind, ElementKind::Script(script)
                    if script.body.iter().any(|s| matches!(s.kind, CStmtKind::Fail(_))));
                let mut targets: Vec<_> = e.next.iter().filter(|_| !always_fails).map(|f| f.target).collect();
                targets.extend(e.on_error.iter().map(|f| f.target));
                targets.extend(e.deadline.iter().map(|d| d.flow.target));
                targets.extend(e.reminder.iter().map(|r| r.flow.target));
                if let ElementKind::Gateway { branches, otherwise, .. } = &e.kind {
                    targets.extend(branches.iter().map(|(_, f)| f.target));
                    targets.extend(otherwise.iter().map(|f| f.target));
                }
                for t in targets {
                    let flow = (e.name.clone(), spec.element(t).name.clone());
                    if !all_flows.contains(&flow) {
                        all_flows.push(flow);
                    }
                }
            }
            let elements_not_passed: Vec<String> = spec
                .elements
                .iter()
                .filter(|e| !elements.contains(&(code, &*e.name)))
                .map(|e| e.name.to_string())
                .collect();
            let flows_not_passed: Vec<[String; 2]> = all_flows
                .iter()
                .filter(|(a, b)| !flows.contains(&(code, &**a, &**b)))
                .map(|(a, b)| [a.to_string(), b.to_string()])
                .collect();
            let total = spec.elements.len() + all_flows.len();
            let missed = elements_not_passed.len() + flows_not_passed.len();
            ProcessCoverage {
                process: code.to_string(),
                elements: spec.elements.len(),
                elements_passed: spec.elements.len() - elements_not_passed.len(),
                flows: all_flows.len(),
                flows_passed: all_flows.len() - flows_not_passed.len(),
                share: if total == 0 { 1.0 } else { (total - missed) as f64 / total as f64 },
                elements_not_passed,
                flows_not_passed,
            }
        })
        .collect()
}

/// The text report: one line per process, then what was not passed.
pub fn to_text(coverage: &[ProcessCoverage]) -> String {
    let mut out = String::new();
    for c in coverage {
        out.push_str(&format!(
            "{}: {}/{} elements, {}/{} flows ({})\n",
            c.process,
            c.elements_passed,
            c.elements,
            c.flows_passed,
            c.flows,
            percent(c.share)
        ));
        if !c.elements_not_passed.is_empty() {
            out.push_str(&format!("  elements not passed: {}\n", c.elements_not_passed.join(", ")));
        }
        if !c.flows_not_passed.is_empty() {
            let flows: Vec<String> = c.flows_not_passed.iter().map(|[a, b]| format!("{a} -> {b}")).collect();
            out.push_str(&format!("  flows not passed: {}\n", flows.join(", ")));
        }
    }
    let (total, passed) = totals(coverage);
    out.push_str(&format!(
        "total: {passed}/{total} elements and flows ({})\n",
        percent(if total == 0 { 1.0 } else { passed as f64 / total as f64 })
    ));
    out
}

/// `100 %` only when nothing was missed: a share below one rounds down.
pub fn percent(share: f64) -> String {
    if share >= 1.0 {
        "100 %".to_string()
    } else {
        format!("{} %", (share * 100.0).floor() as u32)
    }
}

/// The JSON report: `{"processes": [...], "share": …}`.
pub fn to_json(coverage: &[ProcessCoverage]) -> serde_json::Value {
    let (total, passed) =
        coverage.iter().fold((0, 0), |(t, p), c| (t + c.elements + c.flows, p + c.elements_passed + c.flows_passed));
    serde_json::json!({
        "processes": coverage,
        "share": if total == 0 { 1.0 } else { passed as f64 / total as f64 },
    })
}

/// Elements and flows over every process, and how many were passed.
fn totals(coverage: &[ProcessCoverage]) -> (usize, usize) {
    coverage.iter().fold((0, 0), |(t, p), c| (t + c.elements + c.flows, p + c.elements_passed + c.flows_passed))
}
