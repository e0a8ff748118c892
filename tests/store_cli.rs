//! The store commands through the real binary: run --store, exec, show,
//! instances, cancel, signal, tick, their errors and exit codes.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

const APPROVAL: &str = r#"process UsrApproval {
    in  Amount: Decimal = 0
    out Approved: Boolean = false
    out Note: Text

    start Begin -> Approve
    user Approve "Approve the order" {
        in Decision: Boolean
        in Comment: Text = "none"
        done {
            Approved = Decision
            Note = Comment
            log "decided {Decision}"
        }
    } -> Done
    end Done
}
"#;

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir { dir: tempfile::tempdir().unwrap() }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store.db")
    }

    fn procdsl(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_procdsl"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("PROCDSL_STORE")
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }

    /// Runs with `--store store.db --json` and returns the descriptor.
    fn json(&self, args: &[&str], exit: i32) -> Value {
        let mut all = args.to_vec();
        all.extend(["--store", "store.db", "--json"]);
        let out = self.procdsl(&all);
        assert_eq!(out.status.code(), Some(exit), "procdsl {all:?}: {}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("procdsl {all:?}: {e}: {}", text(&out)))
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn waiting_uid(d: &Value, element: &str) -> String {
    d["waiting"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["element"] == element))
        .and_then(|w| w["uid"].as_str())
        .unwrap_or_else(|| panic!("{element} is not waiting in {d}"))
        .to_string()
}

#[test]
fn run_without_a_store_says_the_instance_was_not_kept() {
    let dir = Dir::new();
    dir.file("a.proc", APPROVAL);
    let out = dir.procdsl(&["run", "a.proc"]);
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out);
    assert!(t.contains("not kept") && t.contains("--store"), "{t}");
    assert!(!dir.store().exists());
}

#[test]
fn run_store_wait_then_exec_completes_and_a_second_exec_does_nothing() {
    let dir = Dir::new();
    dir.file("a.proc", APPROVAL);
    let out = dir.procdsl(&["run", "a.proc", "--store", "store.db"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let human = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(human.contains("Waiting") && human.contains("uid "), "{human}");
    let human_uid = human.split("uid ").nth(1).and_then(|s| s.split_whitespace().next()).unwrap();
    let note = format!("procdsl exec {human_uid} [-p FIELD=VALUE]… --store store.db");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&note), "{}", text(&out));

    let d = dir.json(&["run", "a.proc", "-p", "Amount=12.5"], 0);
    let uid = waiting_uid(&d, "Approve");
    let id = d["processId"].as_str().unwrap().to_string();

    // A required field missing: refused, and the element still waits.
    let out = dir.procdsl(&["exec", &uid, "--store", "store.db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("`Decision` (Boolean) is required"), "{}", text(&out));
    let out = dir.procdsl(&["exec", &uid, "-p", "Decision=maybe", "--store", "store.db"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let shown = dir.json(&["show", &id], 0);
    assert_eq!(shown["status"], "Waiting");
    assert_eq!(waiting_uid(&shown, "Approve"), uid);

    let done = dir.json(&["exec", &uid, "-p", "Decision=true", "-p", "Comment=fine"], 0);
    assert_eq!(done["status"], "Completed");
    assert_eq!(done["resultParameterValues"]["Approved"], true);
    assert_eq!(done["resultParameterValues"]["Note"], "fine");

    let again = dir.procdsl(&["exec", &uid, "-p", "Decision=false", "--store", "store.db"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(text(&again).contains("was already executed; nothing was done"), "{}", text(&again));
    let shown = dir.json(&["show", &id], 0);
    assert_eq!(shown["resultParameterValues"]["Approved"], true);
    assert_eq!(shown["log"], serde_json::json!(["decided true"]));
}

#[test]
fn exec_errors_exit_2() {
    let dir = Dir::new();
    dir.file("a.proc", APPROVAL);
    dir.json(&["run", "a.proc"], 0);
    for (uid, says) in [
        ("00000000-0000-0000-0000-000000000000", "no waiting element-instance has UId"),
        ("not-a-uid", "no element-instance UId starts with `not-a-uid`"),
    ] {
        let out = dir.procdsl(&["exec", uid, "--store", "store.db"]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains(says), "{}", text(&out));
    }
    // No store: a clear usage error, and no empty store is created.
    let out = dir.procdsl(&["exec", "00000000-0000-0000-0000-000000000000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--store"), "{}", text(&out));
    let out = dir.procdsl(&["show", "00000000-0000-0000-0000-000000000000", "--store", "other.db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no store at `other.db`"), "{}", text(&out));
    assert!(!dir.dir.path().join("other.db").exists());
    let out = dir.procdsl(&["show", "00000000-0000-0000-0000-000000000000", "--store", "store.db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no instance"), "{}", text(&out));
}

#[test]
fn the_store_can_come_from_the_environment() {
    let dir = Dir::new();
    dir.file("a.proc", APPROVAL);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_procdsl"))
            .args(args)
            .current_dir(dir.dir.path())
            .env("PROCDSL_STORE", "env.db")
            .output()
            .unwrap()
    };
    let out = run(&["run", "a.proc", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let out = run(&["exec", &waiting_uid(&d, "Approve"), "-p", "Decision=false", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["status"], "Completed");
}

#[test]
fn cancel_stops_an_instance_and_its_elements_can_no_longer_be_executed() {
    let dir = Dir::new();
    dir.file("a.proc", APPROVAL);
    let d = dir.json(&["run", "a.proc"], 0);
    let uid = waiting_uid(&d, "Approve");
    let id = d["processId"].as_str().unwrap().to_string();
    let cancelled = dir.json(&["cancel", &id], 0);
    assert_eq!(cancelled["status"], "Cancelled");
    assert_eq!(cancelled["waiting"], serde_json::json!([]));
    let out = dir.procdsl(&["exec", &uid, "-p", "Decision=true", "--store", "store.db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("is Cancelled"), "{}", text(&out));
    let out = dir.procdsl(&["cancel", &id, "--store", "store.db"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains("already cancelled"), "{}", text(&out));

    let d = dir.json(&["run", "a.proc"], 0);
    dir.json(&["exec", &waiting_uid(&d, "Approve"), "-p", "Decision=true"], 0);
    let out = dir.procdsl(&["cancel", d["processId"].as_str().unwrap(), "--store", "store.db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("is Completed; it cannot be cancelled"), "{}", text(&out));
}

#[test]
fn instances_lists_and_filters() {
    let dir = Dir::new();
    dir.file("a.proc", APPROVAL);
    dir.file("b.proc", "process UsrQuick {\n out X: Integer\n start B -> S\n script S { X = 1 } -> E\n end E\n}\n");
    let waiting = dir.json(&["run", "a.proc"], 0);
    let quick = dir.json(&["run", "b.proc"], 0);
    assert_eq!(quick["status"], "Completed");
    let all: Value =
        serde_json::from_slice(&dir.procdsl(&["instances", "--store", "store.db", "--json"]).stdout).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
    let out = dir.procdsl(&["instances", "--store", "store.db", "--status", "waiting", "--json"]);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], waiting["processId"]);
    assert_eq!(list[0]["waiting"], 1);
    let out = dir.procdsl(&["instances", "--store", "store.db", "--process", "UsrQuick"]);
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(human.contains("UsrQuick") && human.contains("Completed") && !human.contains("UsrApproval"), "{human}");
    let out = dir.procdsl(&["instances", "--store", "store.db", "--status", "Sleeping"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_signal_reaches_every_stored_instance_waiting_for_it() {
    let dir = Dir::new();
    dir.file(
        "s.proc",
        r#"process UsrListen {
    out Heard: Boolean = false
    start Begin -> Hear
    signal Hear "Go" -> Mark
    script Mark { Heard = true } -> Done
    end Done
}
process UsrShout {
    start Begin -> Shout
    script Shout { emit "Go" } -> Done
    end Done
}
"#,
    );
    let a = dir.json(&["run", "s.proc", "--process", "UsrListen"], 0);
    let b = dir.json(&["run", "s.proc", "--process", "UsrListen"], 0);
    assert_eq!(a["status"], "Waiting");
    let out = dir.procdsl(&["signal", "Go", "--store", "store.db", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let moved: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(moved.as_array().unwrap().len(), 2);
    for d in [&a, &b] {
        let shown = dir.json(&["show", d["processId"].as_str().unwrap()], 0);
        assert_eq!(shown["status"], "Completed");
        assert_eq!(shown["resultParameterValues"]["Heard"], true);
    }
    // `emit` in one stored run reaches another stored instance.
    let c = dir.json(&["run", "s.proc", "--process", "UsrListen"], 0);
    dir.json(&["run", "s.proc", "--process", "UsrShout"], 0);
    let shown = dir.json(&["show", c["processId"].as_str().unwrap()], 0);
    assert_eq!(shown["status"], "Completed");
    let out = dir.procdsl(&["signal", "Nobody", "--store", "store.db"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains("0 instances moved on"), "{}", text(&out));
}

#[test]
fn tick_fires_the_timers_that_are_due() {
    let dir = Dir::new();
    dir.file(
        "t.proc",
        r#"process UsrLater {
    out Started: DateTime
    out Woke: DateTime
    start Begin -> Mark
    script Mark { Started = now() } -> Sleep
    timer Sleep after "PT2H" -> Wake
    script Wake { Woke = now() } -> Done
    end Done
}
"#,
    );
    let d = dir.json(&["run", "t.proc", "--now", "2026-01-01T00:00:00Z"], 0);
    assert_eq!(d["status"], "Waiting");
    assert_eq!(d["waiting"][0]["due"], "2026-01-01T02:00:00Z");
    let id = d["processId"].as_str().unwrap();
    let out = dir.procdsl(&["tick", "--store", "store.db", "--now", "2026-01-01T01:59:59Z"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains("0 instances moved on"), "{}", text(&out));
    assert_eq!(dir.json(&["show", id], 0)["status"], "Waiting");
    let out = dir.procdsl(&["tick", "--store", "store.db", "--now", "2026-01-01T02:00:00Z", "--json"]);
    let moved: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(moved[0]["status"], "Completed");
    assert_eq!(moved[0]["resultParameterValues"]["Woke"], "2026-01-01T02:00:00Z");
    let out = dir.procdsl(&["tick", "--store", "store.db", "--now", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_instance_continues_on_its_definition_after_the_file_is_edited_or_deleted() {
    let dir = Dir::new();
    let file = dir.file("a.proc", APPROVAL);
    let first = dir.json(&["run", "a.proc"], 0);
    let second = dir.json(&["run", "a.proc"], 0);
    std::fs::write(&file, APPROVAL.replace("Note = Comment", "Note = \"edited\"")).unwrap();
    let d = dir.json(&["exec", &waiting_uid(&first, "Approve"), "-p", "Decision=true", "-p", "Comment=orig"], 0);
    assert_eq!(d["resultParameterValues"]["Note"], "orig");
    std::fs::remove_file(&file).unwrap();
    let d = dir.json(&["exec", &waiting_uid(&second, "Approve"), "-p", "Decision=true", "-p", "Comment=kept"], 0);
    assert_eq!(d["status"], "Completed");
    assert_eq!(d["resultParameterValues"]["Note"], "kept");
}

#[test]
fn a_failing_element_after_exec_exits_1() {
    let dir = Dir::new();
    dir.file(
        "f.proc",
        r#"process UsrFail {
    start Begin -> Ask
    user Ask "go?" {
        in N: Integer
        done { let x = 10 / N }
    } -> Done
    end Done
}
"#,
    );
    let d = dir.json(&["run", "f.proc"], 0);
    let out = dir.procdsl(&["exec", &waiting_uid(&d, "Ask"), "-p", "N=0", "--store", "store.db"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("Failed"), "{}", text(&out));
}

#[test]
fn a_sub_process_element_is_executed_through_its_caller() {
    let dir = Dir::new();
    dir.file(
        "c.proc",
        r#"process UsrOuter {
    out Got: Integer
    start Begin -> Inner
    call Inner UsrInner { Value -> Got } -> Done
    end Done
}
process UsrInner {
    out Value: Integer
    start Begin -> Ask
    user Ask "value?" {
        in V: Integer
        done { Value = V }
    } -> Done
    end Done
}
"#,
    );
    let d = dir.json(&["run", "c.proc", "--process", "UsrOuter"], 0);
    assert_eq!(d["waiting"][0]["process"], "UsrInner");
    let done = dir.json(&["exec", &waiting_uid(&d, "Ask"), "-p", "V=7"], 0);
    assert_eq!(done["processId"], d["processId"]);
    assert_eq!(done["status"], "Completed");
    assert_eq!(done["resultParameterValues"]["Got"], 7);
}
