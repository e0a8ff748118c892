//! `procdsl bench` through the real binary: exit codes, the JSON keys and
//! values that must hold whatever the machine's speed. No timing assertions.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

const KEYS: [&str; 8] = [
    "instances",
    "seconds",
    "instancesPerSecond",
    "elementsPerInstance",
    "microsPerElement",
    "peakRssBytes",
    "bytesPerWaitingInstance",
    "resumesPerSecond",
];

fn workload(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/workloads").join(name);
    assert!(path.exists(), "{} is missing", path.display());
    path.display().to_string()
}

fn procdsl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procdsl")).args(args).output().expect("procdsl runs")
}

fn bench_json(args: &[&str]) -> serde_json::Map<String, Value> {
    let out = procdsl(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let object = json.as_object().expect("a JSON object").clone();
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(keys, KEYS, "exactly these keys, in this order");
    object
}

fn number(o: &serde_json::Map<String, Value>, key: &str) -> f64 {
    o[key].as_f64().unwrap_or_else(|| panic!("`{key}` is a number: {:?}", o[key]))
}

fn has_proc() -> bool {
    std::path::Path::new("/proc/self/status").exists()
}

#[test]
fn w1_completes_and_reports_speed_but_no_waiting_figures() {
    let o = bench_json(&["bench", &workload("w1.proc"), "-n", "50", "--json"]);
    assert_eq!(o["instances"], 50);
    assert_eq!(number(&o, "elementsPerInstance"), 12.0, "start, ten scripts, end");
    assert!(number(&o, "seconds") > 0.0);
    assert!(number(&o, "instancesPerSecond") > 0.0);
    assert!(number(&o, "microsPerElement") > 0.0);
    assert!(o["bytesPerWaitingInstance"].is_null(), "nothing waits");
    assert!(o["resumesPerSecond"].is_null(), "nothing was resumed");
    if has_proc() {
        assert!(number(&o, "peakRssBytes") > 0.0);
    }
}

#[test]
fn w4_keeps_instances_waiting_then_resumes_them() {
    let o = bench_json(&["bench", &workload("w4.proc"), "-n", "200", "--resume", "--json"]);
    assert_eq!(o["instances"], 200);
    assert_eq!(number(&o, "elementsPerInstance"), 2.0, "start, then the user task waits");
    assert!(number(&o, "resumesPerSecond") > 0.0);
    if has_proc() {
        let peak = number(&o, "peakRssBytes");
        let per_waiting = number(&o, "bytesPerWaitingInstance");
        assert!(per_waiting >= 0.0 && per_waiting * 200.0 <= peak, "{per_waiting} B each, peak {peak} B");
    }
}

#[test]
fn w4_without_resume_measures_no_resumes() {
    let o = bench_json(&["bench", &workload("w4.proc"), "-n", "20", "--json"]);
    assert!(o["resumesPerSecond"].is_null());
}

#[test]
fn human_output_names_each_figure() {
    let out = procdsl(&["bench", &workload("w4.proc"), "-n", "20", "--resume"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for label in ["instances per second", "µs per element", "bytes per waiting instance", "resumes per second"] {
        assert!(text.contains(label), "missing `{label}` in:\n{text}");
    }
}

#[test]
fn failing_instances_are_counted_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fails.proc");
    std::fs::write(
        &file,
        "process UsrDivide {\n    in X: Integer = 0\n    out Y: Integer\n    start Begin -> Divide\n    \
         script Divide { Y = 10 / X } -> Done\n    end Done\n}\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let out = procdsl(&["bench", &file, "-n", "10"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("10 of 10 instances failed") && stderr.contains("division by zero"), "{stderr}");

    let out = procdsl(&["bench", &file, "-n", "10", "-p", "X=2", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn invalid_input_exits_2_with_run_messages() {
    let w4 = workload("w4.proc");
    let out = procdsl(&["bench", &w4, "-n", "5", "-p", "Countr=1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("process `W4Wait` has no parameter `Countr`"));

    let out = procdsl(&["bench", &w4, "--process", "W4Wat"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown process `W4Wat`") && stderr.contains("did you mean `W4Wait`?"), "{stderr}");

    let out = procdsl(&["bench", &w4, "-p", "counter=abc"]);
    assert_eq!(out.status.code(), Some(2));

    let out = procdsl(&["bench", &w4, "-n", "0"]);
    assert_eq!(out.status.code(), Some(2));
}
