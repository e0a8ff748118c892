//! `procdsl repl` through the real binary, where a newcomer tripped:
//! field values given to a user task that is pending but not yet started,
//! what `run` says about pausing, and values from files as `procdsl run -p`
//! takes them.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `procdsl repl tests/repl/order.proc` with `input` on stdin: stdout and the exit code.
fn repl(input: &str) -> (String, i32) {
    repl_in(Path::new(env!("CARGO_MANIFEST_DIR")), input)
}

/// The same, in that folder.
fn repl_in(dir: &Path, input: &str) -> (String, i32) {
    let order = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/repl/order.proc");
    let mut child = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(["repl", order.to_str().unwrap(), "--now", "2026-11-28T10:00:00Z"])
        .current_dir(dir)
        .env("PROCDSL_HISTORY", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (String::from_utf8(out.stdout).unwrap(), out.status.code().unwrap_or(-1))
}

#[test]
fn exec_with_fields_on_a_pending_user_task_executes_it_with_them() {
    // `step 3` leaves ManagerApproval pending: next to run, not yet waiting.
    let (stdout, code) =
        repl("start UsrOrder Amount=1500\nstep 3\nexec ManagerApproval Decision=true Comment=fine\nparams\n");
    assert!(stdout.contains("next:  user ManagerApproval"), "{stdout}");
    assert!(
        stdout.contains("▶ user ManagerApproval waits\n▶ user ManagerApproval -> Notify\n"),
        "it arrives and is executed:\n{stdout}"
    );
    assert!(stdout.contains("  out   Approved: Boolean = true\n"), "Decision=true was used:\n{stdout}");
    assert!(stdout.contains("  out   Reason: Text      = \"fine\"\n"), "Comment was used:\n{stdout}");
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn fields_that_a_pending_element_cannot_take_are_refused_before_it_runs() {
    let (stdout, code) = repl("start UsrOrder Amount=1500\nstep 3\nexec ManagerApproval Decison=true\npending\n");
    assert!(stdout.contains("it has no field `Decison`; did you mean `Decision`?"), "{stdout}");
    // Nothing ran: the task is still pending, not waiting.
    let pending = stdout.split("UsrOrder #1 Running").last().unwrap();
    assert!(pending.contains("pending (`step` runs the first):\n  user ManagerApproval"), "{stdout}");
    assert_eq!(code, 1);

    let (stdout, code) = repl("start UsrOrder Amount=1500\nexec Begin X=1\npending\n");
    assert!(stdout.contains("a start element has no fields, but `X` was given"), "{stdout}");
    assert!(stdout.contains("pending (`step` runs the first):\n  start Begin"), "Begin did not run:\n{stdout}");
    assert_eq!(code, 1);
}

#[test]
fn run_does_not_say_it_paused() {
    let (stdout, code) = repl("run UsrOrder Amount=5\n");
    let first = stdout.lines().find(|l| l.starts_with("started ")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(first.starts_with("started UsrOrder #1 (instance ") && first.ends_with(')'), "{first}");
    assert!(!stdout.contains("paused"), "{stdout}");
    assert!(stdout.contains("■ UsrOrder #1 Completed"), "{stdout}");
    assert_eq!(code, 0);
    let (stdout, _) = repl("start UsrOrder Amount=5\n");
    assert!(stdout.contains("), paused before its first element\n"), "`start` pauses:\n{stdout}");
}

#[test]
fn values_may_come_from_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("amount.txt"), "2500\n").unwrap();
    std::fs::write(dir.path().join("comment.txt"), "from a file").unwrap();
    let input = "run UsrOrder Amount=@amount.txt\nexec ManagerApproval Decision=true Comment=@comment.txt\n\
                 continue\nReason\nstart UsrOrder Amount=@missing.txt\n";
    let (stdout, code) = repl_in(dir.path(), input);
    assert!(stdout.contains("  log: checking 2500\n"), "{stdout}");
    assert!(stdout.contains("Reason: null → \"from a file\""), "{stdout}");
    assert!(stdout.contains("error: `Amount=@missing.txt`: cannot read `missing.txt`: no such file"), "{stdout}");
    assert_eq!(code, 1);
}
