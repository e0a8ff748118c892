//! The real `procdsl repl` through a pseudo-terminal (rexpect): the line
//! editor, tab completion, multi-line input and history, asserting on what
//! the screen shows.

use rexpect::session::{spawn_with_options, Options, PtySession};
use std::process::Command;

const TIMEOUT_MS: u64 = 15_000;

fn spawn(history: &std::path::Path) -> PtySession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_procdsl"));
    command
        .args(["repl", "tests/repl/order.proc", "--now", "2026-11-28T10:00:00Z"])
        .env("PROCDSL_HISTORY", history)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let options = Options::new().timeout_ms(Some(TIMEOUT_MS)).strip_ansi_escape_codes(true);
    spawn_with_options(command, options).expect("procdsl repl starts in a pty")
}

/// Waits until the screen shows `text`. rexpect reads the terminal byte by
/// byte, one `char` per byte, so the text is compared in that form.
fn expect(p: &mut PtySession, text: &str) {
    let bytes: String = text.bytes().map(char::from).collect();
    if let Err(e) = p.exp_string(&bytes) {
        panic!("the screen did not show {text:?}: {e}");
    }
}

#[test]
fn a_debugging_session_in_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let mut p = spawn(&history);
    expect(&mut p, "loaded tests/repl/order.proc: UsrOrder");
    expect(&mut p, "procdsl> ");

    p.send_line("break Route").unwrap();
    expect(&mut p, "breakpoint before every `Route`");
    expect(&mut p, "procdsl> ");

    p.send_line("start UsrOrder Amount=1500").unwrap();
    expect(&mut p, "started UsrOrder #1");
    expect(&mut p, "next:  start Begin  uid");
    expect(&mut p, "UsrOrder#1> ");

    // Runs to the breakpoint, stopping before the gateway.
    p.send_line("continue").unwrap();
    expect(&mut p, "▶ script Check -> Route");
    expect(&mut p, "Tries: 0 → 1");
    expect(&mut p, "log: checking 1500");
    expect(&mut p, "● breakpoint before exclusive Route");
    expect(&mut p, "UsrOrder#1> ");

    // Through the gateway, element by element.
    p.send_line("step").unwrap();
    expect(&mut p, "▶ exclusive Route -> ManagerApproval");
    expect(&mut p, "UsrOrder#1> ");
    p.send_line("step").unwrap();
    expect(&mut p, "▶ user ManagerApproval waits");
    let (_, line) = p.exp_regex(r"uid [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let uid = line.trim_start_matches("uid ").to_string();
    expect(&mut p, "UsrOrder#1> ");

    // Tab completes a command.
    p.send("pend\t").unwrap();
    p.send_line("").unwrap();
    expect(&mut p, "waiting (`exec UID|NAME [Field=Value…]`):");
    expect(&mut p, &format!("uid {uid}"));
    expect(&mut p, "UsrOrder#1> ");

    // Parameters: inspect and change.
    p.send_line("params").unwrap();
    expect(&mut p, "in    Amount: Decimal   = 1500");
    expect(&mut p, "UsrOrder#1> ");
    p.send_line("set Amount = 2500").unwrap();
    expect(&mut p, "Amount: 1500 → 2500");
    expect(&mut p, "UsrOrder#1> ");

    // A multi-line statement: the open `{` continues the input.
    p.send_line("if Amount > 2000 {").unwrap();
    p.send_line("  log \"big order\"").unwrap();
    p.send_line("}").unwrap();
    expect(&mut p, "log: big order");
    expect(&mut p, "UsrOrder#1> ");

    // The user task by the UId read from the screen.
    p.send_line(&format!("exec {uid} Decision=true Comment=\"looks good\"")).unwrap();
    expect(&mut p, "▶ user ManagerApproval -> Notify");
    expect(&mut p, "Approved: false → true");
    expect(&mut p, "Reason: null → \"looks good\"");
    expect(&mut p, "UsrOrder#1> ");

    // An error does not end the session.
    p.send_line("stpe").unwrap();
    expect(&mut p, "did you mean `step`?");
    expect(&mut p, "UsrOrder#1> ");

    p.send_line("continue").unwrap();
    expect(&mut p, "▶ script Notify -> Done");
    expect(&mut p, "■ UsrOrder #1 Completed");
    expect(&mut p, "Reason = \"looks good\"");
    expect(&mut p, "UsrOrder#1> ");

    p.send_line("quit").unwrap();
    p.exp_eof().unwrap();
    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(saved.contains("start UsrOrder Amount=1500"), "history:\n{saved}");
}

#[test]
fn colours_on_a_terminal_and_ctrl_d_ends() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_procdsl"));
    command
        .args(["repl", "tests/repl/order.proc"])
        .env("PROCDSL_HISTORY", dir.path().join("history"))
        .env_remove("NO_COLOR")
        .env("TERM", "xterm");
    let options = Options::new().timeout_ms(Some(TIMEOUT_MS));
    let mut p = spawn_with_options(command, options).expect("procdsl repl starts in a pty");
    expect(&mut p, "procdsl> ");
    p.send_line("run UsrOrder Amount=10").unwrap();
    expect(&mut p, "\x1b[36m▶ script Check -> Route\x1b[0m");
    expect(&mut p, "\x1b[32m■ UsrOrder #1 Completed\x1b[0m");
    expect(&mut p, "UsrOrder#1> ");
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}
