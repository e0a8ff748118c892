//! The store commands as a newcomer types them, through the real binary:
//! ids and UIds by a unique prefix, `show` with every parameter and times
//! to the millisecond, the UIds `run -r` leaves on stderr, and the nearest
//! known name for a signal or process that matches nothing.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const PROCS: &str = r#"process UsrApproval {
    in  Amount: Decimal = 0
    var Seen: DateTime
    out Approved: Boolean = false
    out DecidedAt: DateTime
    start Begin -> Look
    script Look { Seen = now() } -> Approve
    user Approve "Approve the order" {
        in Decision: Boolean
        done {
            Approved = Decision
            DecidedAt = now()
        }
    } -> Done
    end Done
}

process UsrPaid {
    out Paid: Boolean = false
    start Begin -> WaitPay
    signal WaitPay "OrderPaid" -> Mark
    script Mark { Paid = true } -> Done
    end Done
}

process UsrReminder {
    start Begin -> Wait
    timer Wait after "PT2H" -> Done
    end Done
}
"#;

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.proc"), PROCS).unwrap();
        Dir(dir)
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn procdsl(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_procdsl"))
            .args(args)
            .current_dir(self.path())
            .env_remove("PROCDSL_STORE")
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }

    /// `procdsl ARGS --store s.db`, which must exit with `code`: stdout, stderr.
    fn store(&self, args: &[&str], code: i32) -> (String, String) {
        let mut all = args.to_vec();
        all.extend(["--store", "s.db"]);
        let out = self.procdsl(&all);
        let (stdout, stderr) =
            (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
        assert_eq!(out.status.code(), Some(code), "procdsl {all:?}:\n{stdout}{stderr}");
        (stdout, stderr)
    }

    /// Starts UsrApproval in the store: its descriptor.
    fn start(&self) -> Value {
        let (stdout, _) = self.store(&["run", "p.proc", "--process", "UsrApproval", "-p", "Amount=5000", "--json"], 0);
        serde_json::from_str(&stdout).unwrap()
    }
}

/// 17 ids: two of them share their first hex digit.
fn shared_first_digit<'a>(ids: impl Iterator<Item = &'a str>) -> char {
    let mut seen = std::collections::HashSet::new();
    ids.map(|id| id.chars().next().unwrap()).find(|c| !seen.insert(*c)).expect("17 ids, 16 digits")
}

#[test]
fn show_cancel_and_exec_take_a_unique_prefix() {
    let dir = Dir::new();
    let d = dir.start();
    let id = d["processId"].as_str().unwrap();
    let uid = d["waiting"][0]["uid"].as_str().unwrap();

    let (stdout, _) = dir.store(&["show", &id[..8], "--json"], 0);
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(shown["processId"], id);

    let (stdout, _) = dir.store(&["exec", &uid[..6].to_uppercase(), "-p", "Decision=true", "--json"], 0);
    let done: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(done["status"], "Completed", "{done}");

    let other = dir.start();
    let other_id = other["processId"].as_str().unwrap();
    let (stdout, _) = dir.store(&["cancel", &other_id[..5]], 0);
    assert!(stdout.contains(&format!("UsrApproval Cancelled (instance {other_id})")), "{stdout}");
}

#[test]
fn an_ambiguous_prefix_lists_the_candidates_and_an_unknown_one_says_so() {
    let dir = Dir::new();
    let started: Vec<Value> = (0..17).map(|_| dir.start()).collect();
    let ids: Vec<&str> = started.iter().map(|d| d["processId"].as_str().unwrap()).collect();
    let uids: Vec<&str> = started.iter().map(|d| d["waiting"][0]["uid"].as_str().unwrap()).collect();

    let digit = shared_first_digit(ids.iter().copied()).to_string();
    let (_, stderr) = dir.store(&["show", &digit], 2);
    assert!(stderr.contains(&format!("instances have an id starting with `{digit}`; give more of it:")), "{stderr}");
    for id in ids.iter().filter(|id| id.starts_with(&digit)) {
        assert!(stderr.contains(&format!("  {id}  UsrApproval  Waiting")), "{id} is a candidate:\n{stderr}");
    }
    let (_, stderr) = dir.store(&["cancel", &digit], 2);
    assert!(stderr.contains("give more of it"), "{stderr}");

    let digit = shared_first_digit(uids.iter().copied()).to_string();
    let (_, stderr) = dir.store(&["exec", &digit, "-p", "Decision=true"], 2);
    assert!(stderr.contains(&format!("element-instances have a UId starting with `{digit}`")), "{stderr}");
    for uid in uids.iter().filter(|u| u.starts_with(&digit)) {
        assert!(stderr.contains(&format!("  {uid}  user waiting, instance ")), "{uid} is a candidate:\n{stderr}");
    }

    let (_, stderr) = dir.store(&["show", "nothing-like-an-id"], 2);
    assert!(stderr.contains("error: no instance id starts with `nothing-like-an-id`"), "{stderr}");
    // A UId given where an id is expected, and the other way round, says which it is.
    let (_, stderr) = dir.store(&["show", &uids[0][..20]], 2);
    assert!(stderr.contains("starts the UId of a user element-instance of instance"), "{stderr}");
    let (_, stderr) = dir.store(&["exec", &ids[0][..20]], 2);
    assert!(stderr.contains(&format!("starts the id of instance {}", ids[0])), "{stderr}");
}

/// Every time in the text has at most three digits after the seconds.
fn assert_times_to_the_millisecond(text: &str) {
    for (i, _) in text.match_indices('T') {
        let rest = &text[i..];
        let bytes = rest.as_bytes();
        let is_time = bytes.len() > 9 && bytes[3] == b':' && bytes[6] == b':' && bytes[9] == b'.';
        if is_time {
            let digits = rest[10..].chars().take_while(char::is_ascii_digit).count();
            assert!(digits <= 3, "a time with {digits} fraction digits: {}\nin:\n{text}", &rest[..10 + digits]);
        }
    }
}

#[test]
fn show_lists_every_parameter_with_times_to_the_millisecond() {
    let dir = Dir::new();
    let id = dir.start()["processId"].as_str().unwrap().to_string();
    let (stdout, _) = dir.store(&["show", &id], 0);
    assert!(stdout.contains("  in    Amount: Decimal     = 5000\n"), "{stdout}");
    assert!(stdout.contains("  var   Seen: DateTime      = \"20"), "{stdout}");
    assert!(stdout.contains("  out   Approved: Boolean   = false\n"), "{stdout}");
    assert!(stdout.contains("  out   DecidedAt: DateTime = null\n"), "{stdout}");
    assert_times_to_the_millisecond(&stdout);

    let (stdout, _) = dir.store(&["show", &id, "--json"], 0);
    let d: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(d["parameters"]["Amount"], 5000, "{d}");
    assert!(d["parameters"]["Seen"].is_string(), "{d}");
    assert_eq!(
        d["resultParameterValues"],
        serde_json::json!({"Approved": false, "DecidedAt": null}),
        "results stay the outputs"
    );

    // Results of `run` and `exec` for a person, too; JSON keeps the exact value.
    let uid = d["waiting"][0]["uid"].as_str().unwrap().to_string();
    let (stdout, _) = dir.store(&["exec", &uid, "-p", "Decision=true"], 0);
    assert!(stdout.contains("  DecidedAt = \"20"), "{stdout}");
    assert_times_to_the_millisecond(&stdout);
    let (stdout, _) = dir.store(&["show", &id, "--json"], 0);
    let exact: Value = serde_json::from_str(&stdout).unwrap();
    let exact = exact["parameters"]["DecidedAt"].as_str().unwrap().to_string();
    let (stdout, _) = dir.store(&["show", &id], 0);
    let shown = stdout.lines().find(|l| l.contains("DecidedAt")).unwrap().to_string();
    let whole_seconds = &exact[..19];
    assert!(shown.contains(whole_seconds), "{shown} is {exact} to the millisecond");

    // A timer's due time, on the real clock, too.
    let (stdout, _) = dir.store(&["run", "p.proc", "--process", "UsrReminder"], 0);
    assert!(stdout.contains("  due 20"), "{stdout}");
    assert_times_to_the_millisecond(&stdout);
}

#[test]
fn run_with_one_result_prints_the_waiting_uid_to_stderr() {
    let dir = Dir::new();
    let args = ["run", "p.proc", "--process", "UsrApproval", "-p", "Amount=5000", "-r", "Approved"];
    let (stdout, stderr) = dir.store(&args, 0);
    assert_eq!(stdout, "false\n");
    let uid_line = stderr.lines().find(|l| l.contains("user Approve")).unwrap_or_else(|| panic!("{stderr}"));
    let uid = uid_line.split("uid ").nth(1).unwrap().split_whitespace().next().unwrap();
    assert!(
        stderr.contains(&format!("continue it with `procdsl exec {uid} [-p FIELD=VALUE]… --store s.db`")),
        "{stderr}"
    );
    // The UId printed is the one to continue with.
    let (stdout, _) = dir.store(&["exec", uid, "-p", "Decision=true"], 0);
    assert!(stdout.contains("UsrApproval Completed"), "{stdout}");
}

#[test]
fn a_signal_nobody_waits_for_and_an_unknown_process_name_the_nearest() {
    let dir = Dir::new();
    dir.store(&["run", "p.proc", "--process", "UsrPaid"], 0);
    dir.start();
    let (stdout, stderr) = dir.store(&["signal", "OrderPiad"], 0);
    assert!(stdout.contains("0 instances moved on"), "{stdout}");
    assert!(stderr.contains("note: no instance waits for signal `OrderPiad`"), "{stderr}");
    assert!(stderr.contains("help: did you mean `OrderPaid`?"), "{stderr}");
    let (_, stderr) = dir.store(&["signal", "Shipped"], 0);
    assert!(stderr.contains("help: instances wait for `OrderPaid`"), "{stderr}");
    let (_, stderr) = dir.store(&["signal", "OrderPaid"], 0);
    assert!(stderr.is_empty(), "{stderr}");

    let (stdout, stderr) = dir.store(&["instances", "--process", "UsrAproval"], 0);
    assert_eq!(stdout, "no instances\n");
    assert!(stderr.contains("note: no stored instance runs a process `UsrAproval`"), "{stderr}");
    assert!(stderr.contains("help: did you mean `UsrApproval`?"), "{stderr}");
    let (_, stderr) = dir.store(&["instances", "--process", "Zzz", "--json"], 0);
    assert!(stderr.contains("help: the stored instances run `UsrApproval`, `UsrPaid`"), "{stderr}");
    // A process that has instances, none with this status, is no mistake.
    let (_, stderr) = dir.store(&["instances", "--process", "UsrApproval", "--status", "Failed"], 0);
    assert!(stderr.is_empty(), "{stderr}");
}
