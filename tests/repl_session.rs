//! The REPL's session driven through its library API, one input at a time.

use procdsl::repl::{Output, Session, SessionOptions};
use std::path::{Path, PathBuf};

const ORDER: &str = "tests/repl/order.proc";
const WAITS: &str = "tests/repl/waits.proc";

fn session(files: &[&str]) -> Session {
    let now = "2026-11-28T10:00:00Z".parse().ok();
    let mut session = Session::new(SessionOptions { now, ..SessionOptions::default() });
    let paths: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
    let out = session.load_files(&paths);
    assert!(!out.failed, "{}", out.text);
    session
}

/// Runs an input that must succeed and returns what it printed.
fn ok(session: &mut Session, line: &str) -> String {
    let out = session.execute_line(line);
    assert!(!out.failed, "`{line}` failed:\n{}", out.text);
    out.text
}

/// Runs an input that must fail (and not end the session).
fn fails(session: &mut Session, line: &str) -> String {
    let out: Output = session.execute_line(line);
    assert!(out.failed, "`{line}` should fail:\n{}", out.text);
    assert!(!out.quit);
    out.text
}

/// The UId printed after an element's name.
fn uid_of(text: &str, element: &str) -> String {
    let line = text.lines().find(|l| l.contains(&format!(" {element} ")) && l.contains("uid ")).unwrap_or_else(|| {
        panic!("no uid for {element} in:\n{text}");
    });
    line.split("uid ").nth(1).unwrap().split_whitespace().next().unwrap().to_string()
}

#[test]
fn steps_through_a_gateway_executes_a_user_task_by_uid_and_completes() {
    let mut s = session(&[ORDER]);
    let out = ok(&mut s, "start UsrOrder Amount=1500");
    assert!(out.contains("started UsrOrder #1"), "{out}");
    assert!(out.contains("next:  start Begin  uid "), "{out}");
    assert_eq!(s.prompt(), "UsrOrder#1> ");

    let out = ok(&mut s, "step 2");
    assert!(
        out.contains("▶ start Begin -> Check\n▶ script Check -> Route\n    Tries: 0 → 1\n  log: checking 1500\n"),
        "{out}"
    );
    assert!(out.contains("next:  exclusive Route"), "{out}");

    let out = ok(&mut s, "step");
    assert!(out.starts_with("▶ exclusive Route -> ManagerApproval\n"), "{out}");
    let out = ok(&mut s, "step");
    assert!(out.contains("▶ user ManagerApproval waits"), "{out}");
    assert!(out.contains("fields Decision: Boolean, Comment: Text = \"\""), "{out}");

    let out = ok(&mut s, "pending");
    let uid = uid_of(&out, "ManagerApproval");
    let out = ok(&mut s, "step");
    assert!(out.contains("nothing is pending: the instance waits"), "{out}");

    let out = fails(&mut s, &format!("exec {uid}"));
    assert!(out.contains("field `Decision` (Boolean) is required"), "{out}");
    let out = ok(&mut s, &format!("exec {uid} Decision=true Comment=\"looks good\""));
    assert!(
        out.contains(
            "▶ user ManagerApproval -> Notify\n    Approved: false → true\n    Reason: null → \"looks good\"\n"
        ),
        "{out}"
    );
    assert!(out.contains("next:  script Notify"), "{out}");
    let out = ok(&mut s, &format!("exec {uid}"));
    assert!(out.contains("was executed before; nothing was done"), "{out}");

    let out = ok(&mut s, "continue");
    assert!(out.contains("  log: approved: true\n▶ end Done ends its path\n■ UsrOrder #1 Completed\n  Approved = true\n  Reason = \"looks good\"\n"), "{out}");
    let out = fails(&mut s, "step");
    assert!(out.contains("instance #1 is Completed"), "{out}");
    assert_eq!(ok(&mut s, "log"), "checking 1500\napproved: true\n");
    let out = ok(&mut s, "trace 2");
    assert_eq!(out, "▶ script Notify -> Done\n▶ end Done ends its path\n");
}

#[test]
fn breakpoints_stop_before_the_element() {
    let mut s = session(&[ORDER]);
    ok(&mut s, "break Route Notify");
    assert_eq!(ok(&mut s, "break"), "breakpoints: Route, Notify\n");
    let out = ok(&mut s, "run UsrOrder Amount=10");
    assert!(out.contains("▶ script Check -> Route"), "{out}");
    assert!(out.contains("● breakpoint before exclusive Route  uid "), "{out}");
    assert!(!out.contains("▶ exclusive Route"), "{out}");
    let out = ok(&mut s, "continue");
    assert!(out.starts_with("▶ exclusive Route -> AutoApprove\n▶ script AutoApprove -> Notify\n"), "{out}");
    assert!(out.contains("● breakpoint before script Notify"), "{out}");
    ok(&mut s, "unbreak Notify");
    let out = fails(&mut s, "unbreak Nothing");
    assert!(out.contains("breakpoints: Route"), "{out}");
    let out = fails(&mut s, "break Rute");
    assert!(out.contains("did you mean `Route`?"), "{out}");
    assert_eq!(ok(&mut s, "unbreak"), "removed 1 breakpoint\n");
    let out = ok(&mut s, "continue");
    assert!(out.contains("■ UsrOrder #1 Completed"), "{out}");
}

#[test]
fn parameters_can_be_inspected_changed_and_evaluated() {
    let mut s = session(&[ORDER]);
    ok(&mut s, "start UsrOrder Amount=1500");
    let out = ok(&mut s, "params");
    assert!(out.contains("  in    Amount: Decimal   = 1500\n"), "{out}");
    assert!(out.contains("  out   Reason: Text      = null\n"), "{out}");
    assert_eq!(ok(&mut s, "set Amount = 20"), "Amount: 1500 → 20\n");
    assert_eq!(ok(&mut s, "Amount * 2 + 1"), "41\n");
    assert_eq!(
        ok(&mut s, "Reason = \"manual\"; log \"set by hand\""),
        "Reason: null → \"manual\"\n  log: set by hand\n"
    );
    assert_eq!(ok(&mut s, "if Amount > 10 {\n  Tries = 7\n}"), "Tries: 0 → 7\n");
    assert_eq!(ok(&mut s, "log"), "set by hand\n");

    let out = fails(&mut s, "Amount = \"many\"");
    assert!(out.contains("`Amount` is a Decimal"), "{out}");
    let out = fails(&mut s, "Amont + 1");
    assert!(out.contains("unknown variable `Amont`") && out.contains("did you mean `Amount`?"), "{out}");
    assert!(out.contains("╭─[input:1:1]"), "diagnostics render with miette:\n{out}");
    let out = fails(&mut s, "Tries = 1; Amount = Amount / 0");
    assert!(out.contains("division by zero") && out.contains("nothing was changed"), "{out}");
    assert!(ok(&mut s, "params").contains("Tries: Integer    = 7"), "a failed input is undone");
    let out = fails(&mut s, "set Amount");
    assert!(out.contains("usage: set Code = expr"), "{out}");
}

#[test]
fn errors_never_end_the_session_and_suggest_the_nearest_command() {
    let mut s = session(&[ORDER]);
    assert!(fails(&mut s, "stpe").contains("did you mean `step`?"));
    assert!(fails(&mut s, "contnue").contains("did you mean `continue`?"));
    assert!(fails(&mut s, "step").contains("there is no current instance"));
    assert!(fails(&mut s, "start UsrOrdr").contains("did you mean `UsrOrder`?"));
    assert!(fails(&mut s, "start UsrOrder Amount=abc").contains("parameter `Amount` (Decimal)"));
    assert!(fails(&mut s, "start").contains("usage: start CODE"));
    assert!(fails(&mut s, "load tests/repl/missing.proc").contains("cannot read"));
    assert!(fails(&mut s, "help stpe").contains("did you mean `step`?"));
    assert!(ok(&mut s, "help exec").starts_with("exec UID|NAME [Field=Value…]\n"));
    assert!(ok(&mut s, "help").contains("advance DURATION"));
    assert_eq!(ok(&mut s, "1 + 2"), "3\n");
    assert_eq!(ok(&mut s, "upper(\"ok\")"), "\"OK\"\n");
    assert!(s.execute_line("exit").quit);
}

#[test]
fn exec_by_name_reaches_into_a_sub_process() {
    let mut s = session(&[WAITS]);
    let out = ok(&mut s, "run UsrParent");
    assert!(out.contains("  ▶ user UsrOrder.ManagerApproval waits\n▶ call Sub waits\n"), "{out}");
    assert!(out.contains("waits: user ManagerApproval \"Approve the order\" in UsrOrder  uid "), "{out}");
    let out = fails(&mut s, "exec Approval");
    assert!(out.contains("did you mean `ManagerApproval`?"), "{out}");
    let out = ok(&mut s, "exec ManagerApproval Decision=true");
    assert!(out.contains("  ▶ user UsrOrder.ManagerApproval -> Notify\n      Approved: false → true\n"), "{out}");
    let out = ok(&mut s, "continue");
    assert!(out.contains("▶ call Sub -> Done\n    Approved: false → true\n"), "{out}");
    assert!(out.contains("■ UsrParent #1 Completed"), "{out}");
}

#[test]
fn virtual_time_advances_and_timers_fire() {
    let mut s = session(&[WAITS]);
    ok(&mut s, "start UsrReminder");
    let out = ok(&mut s, "step 2");
    assert!(out.contains("waits: timer Wait  uid ") && out.contains("due 2026-11-28T12:00:00Z"), "{out}");
    let out = ok(&mut s, "advance PT1H");
    assert!(out.starts_with("clock 2026-11-28T10:00:00Z → 2026-11-28T11:00:00Z\nwaits: timer Wait"), "{out}");
    let out = ok(&mut s, "advance PT1H");
    assert!(out.contains("1 timer fired; `step` runs it\nnext:  timer Wait"), "{out}");
    assert!(fails(&mut s, "advance soon").contains("not an ISO 8601 duration"));
    let out = ok(&mut s, "continue");
    assert!(out.contains("▶ timer Wait -> Remind") && out.contains("Reminded: false → true"), "{out}");

    // Without `advance`, a timer fires when nothing else can run.
    ok(&mut s, "start UsrReminder");
    let out = ok(&mut s, "continue");
    assert!(out.contains("⏱ clock 2026-11-28T10:00:00Z → 2026-11-28T12:00:00Z"), "{out}");
    assert!(out.contains("■ UsrReminder #2 Completed"), "{out}");
}

#[test]
fn signals_and_switching_between_instances() {
    let mut s = session(&[WAITS]);
    ok(&mut s, "run UsrPaid");
    ok(&mut s, "start UsrOrder");
    let out = ok(&mut s, "instances");
    assert!(out.contains("  #1   ") && out.contains("Waiting    UsrPaid"), "{out}");
    assert!(out.contains("* #2   "), "{out}");
    let out = ok(&mut s, "emit \"OrderPaid\"");
    assert_eq!(out, "signal \"OrderPaid\": element-instances pending in #1 (1)\n");
    let out = ok(&mut s, "use #1");
    assert!(out.starts_with("UsrPaid #1 Running") && out.contains("next:  signal WaitPay"), "{out}");
    assert_eq!(s.prompt(), "UsrPaid#1> ");
    let out = ok(&mut s, "continue");
    assert!(out.contains("Paid: false → true"), "{out}");
    let listing = ok(&mut s, "instances");
    let second = listing.lines().find(|l| l.contains("#2")).unwrap().split_whitespace().nth(1).unwrap().to_string();
    let out = ok(&mut s, &format!("use {}", &second[..8]));
    assert!(out.starts_with("UsrOrder #2"), "{out}");
    assert!(fails(&mut s, "use 7").contains("`instances` lists them"));
    assert!(fails(&mut s, "use #7").contains("`instances` lists them"));
}

#[test]
fn a_failure_shows_the_script_line() {
    let mut s = session(&[WAITS]);
    let out = ok(&mut s, "run UsrDivide");
    assert!(out.contains("▶ script Divide failed: division by zero"), "{out}");
    assert!(out.contains("■ UsrDivide #1 Failed"), "{out}");
    assert!(out.contains("element `Divide` failed: division by zero"), "{out}");
    assert!(out.contains("Y = 10 / X"), "the source excerpt:\n{out}");
}

#[test]
fn reload_keeps_running_instances_on_their_definition() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("order.proc");
    std::fs::copy(ORDER, &file).unwrap();
    let mut s = session(&[file.to_str().unwrap()]);
    ok(&mut s, "start UsrOrder Amount=2000");
    ok(&mut s, "step 2");
    assert!(ok(&mut s, "reload").contains("no changes"));

    edit(&file, "Amount > 1000", "Amount > 5000");
    let out = ok(&mut s, "reload");
    assert!(out.contains("1 instance keeps running on the definition it started with"), "{out}");
    assert!(ok(&mut s, "instances").contains("(earlier definition)"));
    let out = ok(&mut s, "continue");
    assert!(out.contains("▶ exclusive Route -> ManagerApproval"), "the old definition:\n{out}");
    ok(&mut s, "start UsrOrder Amount=2000");
    let out = ok(&mut s, "continue");
    assert!(out.contains("▶ exclusive Route -> AutoApprove"), "the new definition:\n{out}");

    edit(&file, "end Done", "end Done oops");
    let out = fails(&mut s, "reload");
    assert!(out.contains("the definitions loaded before stay in use"), "{out}");
}

fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from));
    std::fs::write(file, text.replace(from, to)).unwrap();
}

#[test]
fn completion_offers_what_fits_the_position() {
    let mut s = session(&[ORDER]);
    ok(&mut s, "run UsrOrder Amount=2000");
    let c = s.completions();
    assert_eq!(c.complete("ste", 3), (0, vec!["step".to_string()]));
    assert_eq!(c.complete("Amount + le", 11), (9, vec!["len(".to_string()]));
    assert_eq!(c.complete("start U", 7).1, vec!["UsrOrder".to_string()]);
    assert_eq!(c.complete("run UsrOrder A", 14).1, vec!["Amount=".to_string()]);
    assert_eq!(c.complete("break No", 8).1, vec!["Notify".to_string()]);
    assert_eq!(c.complete("exec Man", 8).1, vec!["ManagerApproval".to_string()]);
    assert_eq!(c.complete("exec ManagerApproval D", 22).1, vec!["Decision=".to_string()]);
    assert_eq!(c.complete("set Re", 6).1, vec!["Reason".to_string()]);
    let uid = uid_of(&ok(&mut s, "pending"), "ManagerApproval");
    assert_eq!(c.complete(&format!("exec {}", &uid[..6]), 11).1, vec![uid]);
}
