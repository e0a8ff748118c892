//! `procdsl repl` with its inputs piped through stdin: one input per line,
//! nothing printed but what the inputs produce, no colours.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `procdsl repl ARGS` with `input` on stdin; returns stdout and the exit code.
fn repl(args: &[&str], input: &str) -> (String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .arg("repl")
        .args(args)
        .env_remove("NO_COLOR")
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

/// Replaces every UUID with `<uid>`, so the output compares across runs.
fn mask_uuids(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let is_uuid = |w: &[char]| {
        w.len() == 36
            && w.iter().enumerate().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => *c == '-',
                _ => c.is_ascii_hexdigit() && !c.is_ascii_uppercase(),
            })
    };
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if i + 36 <= chars.len() && is_uuid(&chars[i..i + 36]) {
            out.push_str("<uid>");
            i += 36;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

const SESSION: &str = r#"break Route
start UsrOrder Amount=1500
continue
step
step
pending
params
set Amount = 2500
if Amount > 2000 {
  log "big order"
}
exec ManagerApproval Decision=true Comment="looks good"
stpe
continue
quit
step
"#;

const EXPECTED: &str = r#"loaded tests/repl/order.proc: UsrOrder
breakpoint before every `Route`
started UsrOrder #1 (instance <uid>), paused before its first element
next:  start Begin  uid <uid>
▶ start Begin -> Check
▶ script Check -> Route
    Tries: 0 → 1
  log: checking 1500
● breakpoint before exclusive Route  uid <uid>
next:  exclusive Route  uid <uid>
▶ exclusive Route -> ManagerApproval
next:  user ManagerApproval "Approve the order"  uid <uid>
▶ user ManagerApproval waits
waits: user ManagerApproval "Approve the order"  uid <uid>  fields Decision: Boolean, Comment: Text = ""
UsrOrder #1 Waiting (instance <uid>)
waiting (`exec UID|NAME [Field=Value…]`):
  user ManagerApproval "Approve the order"  uid <uid>  fields Decision: Boolean, Comment: Text = ""
UsrOrder #1 Waiting (instance <uid>)
  in    Amount: Decimal   = 1500
  out   Approved: Boolean = false
  out   Reason: Text      = null
  var   Tries: Integer    = 1
Amount: 1500 → 2500
  log: big order
▶ user ManagerApproval -> Notify
    Approved: false → true
    Reason: null → "looks good"
next:  script Notify  uid <uid>
error: unknown command `stpe`
  help: did you mean `step`? (`help` lists the commands)
▶ script Notify -> Done
  log: approved: true
▶ end Done ends its path
■ UsrOrder #1 Completed
  Approved = true
  Reason = "looks good"
"#;

#[test]
fn the_debugging_session_piped_through_stdin() {
    let (stdout, code) = repl(&["tests/repl/order.proc"], SESSION);
    assert_eq!(mask_uuids(&stdout), EXPECTED);
    assert!(!stdout.contains('\x1b'), "no colours when stdout is not a terminal");
    assert_eq!(code, 1, "an input failed (`stpe`), so the exit code says so");
}

#[test]
fn a_clean_script_exits_0_and_input_may_end_without_quit() {
    let (stdout, code) = repl(&[], "load tests/repl/order.proc\nrun UsrOrder Amount=5\nReason\n");
    assert!(
        stdout.ends_with(
            "■ UsrOrder #1 Completed\n  Approved = true\n  Reason = \"under the limit\"\n\"under the limit\"\n"
        ),
        "{stdout}"
    );
    assert_eq!(code, 0);
}

#[test]
fn a_uid_from_another_session_is_unknown_here() {
    let (stdout, _) = repl(&["tests/repl/order.proc"], "run UsrOrder Amount=5000\n");
    let uid = stdout.lines().find(|l| l.starts_with("waits:")).and_then(|l| l.split("uid ").nth(1)).unwrap();
    let uid = &uid[..36];
    let input = format!("run UsrOrder Amount=5000\nexec {uid} Decision=true\n");
    let (stdout, code) = repl(&["tests/repl/order.proc"], &input);
    assert!(stdout.contains(&format!("error: no waiting element-instance has UId {uid}")), "{stdout}");
    assert_eq!(code, 1, "the UId of another session's instance is unknown here");
}
