//! The REPL's `test [FILTER]`: runs the loaded files' tests and keeps the
//! first failing test's instances, the newest current.

use procdsl::repl::{Session, SessionOptions};

const FILE: &str = r#"
process UsrCount {
    in  Start: Integer = 0
    out Count: Integer = 0
    start Begin -> Add
    script Add { Count = Start + 1 } -> Wait
    user Wait "Wait" -> Done
    end Done
}

test "counts from zero" {
    start UsrCount
    expect Count == 1
}

test "counts from five, wrongly" {
    start UsrCount { Start = 1 }
    start UsrCount { Start = 5 }
    expect Count == 7
}
"#;

#[test]
fn test_runs_the_tests_and_keeps_the_failing_ones_instances() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("count.proc");
    std::fs::write(&path, FILE).unwrap();
    let mut session = Session::new(SessionOptions::default());
    assert!(!session.load_files(&[path]).failed);

    let out = session.execute_line("test zero");
    assert!(!out.failed, "{}", out.text);
    assert_eq!(out.text, "ok   counts from zero\n1 passed, 0 failed\n");
    assert_eq!(session.prompt(), "procdsl> ", "a passing test keeps nothing");

    let out = session.execute_line("test");
    assert!(out.failed, "{}", out.text);
    assert!(out.text.starts_with("ok   counts from zero\nFAIL counts from five, wrongly\n"), "{}", out.text);
    assert!(out.text.contains("help: found: status Waiting; waiting Wait; Count = 6"), "{}", out.text);
    assert!(out.text.contains("1 passed, 1 failed\n"), "{}", out.text);
    assert!(out.text.contains("kept as #1, #2; the newest is current"), "{}", out.text);
    assert_eq!(session.prompt(), "UsrCount#2> ");

    let params = session.execute_line("Count");
    assert_eq!(params.text.trim(), "6");
    let exec = session.execute_line("exec Wait");
    assert!(!exec.failed, "{}", exec.text);
    assert!(session.execute_line("continue").text.contains("Completed"), "the kept instance runs on");

    let none = session.execute_line("test nothing-matches");
    assert!(none.failed);
    assert!(none.text.contains("no test's name contains `nothing-matches`"), "{}", none.text);
}
