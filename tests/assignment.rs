//! Task assignment and who did what, through the real binary: `to` in the
//! waiting list, `exec --as USER [--users FILE]`, `startedBy` in `show` and
//! `instances`, the history of execs, cancels and signals; and `to` in the
//! REPL's `pending`.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const ORDER: &str = r#"process UsrOrder {
    in  Requester: Text = "alice"
    out Approved: Boolean = false

    start Begin -> Approve
    user Approve "Approve the order" to ["managers", Requester] {
        in Ok: Boolean
        done { Approved = Ok }
    } -> Done
    end Done
}
"#;

const LISTENER: &str = r#"process UsrListener {
    start Begin -> Hear
    signal Hear "Go" -> Done
    end Done
}
"#;

/// A users file as `serve --users` reads it, with roles.
const USERS: &str = r#"{
  "users": [
    { "name": "carol", "password": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA", "roles": ["user", "managers"] },
    { "name": "dan", "password": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA", "roles": ["user"] },
    { "name": "root", "password": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA", "roles": ["admin"] }
  ],
  "tokens": [ { "name": "ci", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "roles": ["managers"] } ]
}"#;

fn procdsl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(args)
        .current_dir(dir)
        .env_remove("PROCDSL_STORE")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Runs with `--store store.db --json`, expects `exit`, returns the JSON.
fn json(dir: &Path, args: &[&str], exit: i32) -> Value {
    let mut all = args.to_vec();
    all.extend(["--store", "store.db", "--json"]);
    let out = procdsl(dir, &all);
    assert_eq!(out.status.code(), Some(exit), "procdsl {all:?}: {}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("procdsl {all:?}: {e}: {}", text(&out)))
}

/// A store holding one UsrOrder instance waiting at Approve: (dir, id, uid).
fn waiting_order() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("order.proc"), ORDER).unwrap();
    std::fs::write(dir.path().join("users.json"), USERS).unwrap();
    let d = json(dir.path(), &["run", "order.proc"], 0);
    assert_eq!(d["waiting"][0]["to"], serde_json::json!(["managers", "alice"]), "{d}");
    assert_eq!(d["startedBy"], "local");
    let id = d["processId"].as_str().unwrap().to_string();
    let uid = d["waiting"][0]["uid"].as_str().unwrap().to_string();
    (dir, id, uid)
}

#[test]
fn the_waiting_list_shows_to_in_text_and_json() {
    let (dir, id, _) = waiting_order();
    let out = procdsl(dir.path(), &["show", &id, "--store", "store.db"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("fields Ok: Boolean  to managers, alice\n"), "{shown}");
    assert!(shown.contains("started by: local\n"), "{shown}");
    assert!(shown.contains("  local  start\n"), "{shown}");
}

#[test]
fn exec_as_someone_not_assigned_is_refused_and_names_who_may() {
    let (dir, id, uid) = waiting_order();
    let out = procdsl(dir.path(), &["exec", &uid, "-p", "Ok=true", "--store", "store.db", "--as", "dan"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`Approve` is assigned to managers, alice"), "{err}");
    assert!(err.contains("`dan` is not named"), "{err}");
    // With the users file dan is a `user`, still not a manager.
    let out = procdsl(
        dir.path(),
        &["exec", &uid, "-p", "Ok=true", "--store", "store.db", "--as", "dan", "--users", "users.json"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let d = json(dir.path(), &["show", &id], 0);
    assert_eq!(d["status"], "Waiting", "nothing was executed");
    assert_eq!(d["history"].as_array().map(Vec::len), Some(1), "{d}");
}

#[test]
fn exec_as_a_named_user_needs_no_users_file() {
    let (dir, id, uid) = waiting_order();
    let d = json(dir.path(), &["exec", &uid, "-p", "Ok=true", "--as", "alice"], 0);
    assert_eq!(d["status"], "Completed");
    let shown = json(dir.path(), &["show", &id], 0);
    let last = &shown["history"][1];
    assert_eq!(
        (&last["who"], &last["action"], &last["element"]),
        (&Value::from("alice"), &Value::from("exec"), &Value::from("Approve"))
    );
}

#[test]
fn exec_as_a_holder_of_a_named_role_or_admin_or_a_token_with_the_role() {
    for who in ["carol", "root", "ci"] {
        let (dir, id, uid) = waiting_order();
        let d = json(dir.path(), &["exec", &uid, "-p", "Ok=true", "--as", who, "--users", "users.json"], 0);
        assert_eq!(d["status"], "Completed", "{who}");
        let shown = json(dir.path(), &["show", &id], 0);
        assert_eq!(shown["history"][1]["who"], who);
    }
}

#[test]
fn exec_without_as_is_local_and_may_execute_anything() {
    let (dir, id, uid) = waiting_order();
    json(dir.path(), &["exec", &uid, "-p", "Ok=false"], 0);
    let shown = json(dir.path(), &["show", &id], 0);
    assert_eq!(shown["history"][1]["who"], "local");
}

#[test]
fn a_user_missing_from_the_users_file_is_an_error() {
    let (dir, _, uid) = waiting_order();
    let out = procdsl(
        dir.path(),
        &["exec", &uid, "-p", "Ok=true", "--store", "store.db", "--as", "eve", "--users", "users.json"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("names no user or token `eve`"), "{}", text(&out));
    let out = procdsl(dir.path(), &["exec", &uid, "--store", "store.db", "--users", "users.json"]);
    assert_eq!(out.status.code(), Some(2), "--users needs --as: {}", text(&out));
}

#[test]
fn instances_lists_who_started_each() {
    let (dir, id, _) = waiting_order();
    let list = json(dir.path(), &["instances"], 0);
    assert_eq!(list[0]["startedBy"], "local", "{list}");
    let out = procdsl(dir.path(), &["instances", "--store", "store.db"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.lines().next().unwrap_or_default().contains("STARTED BY"), "{listed}");
    let line = listed.lines().find(|l| l.starts_with(&id)).unwrap_or_default();
    assert!(line.contains("  local  "), "{listed}");
}

#[test]
fn cancels_and_signals_are_in_the_history() {
    let (dir, id, _) = waiting_order();
    json(dir.path(), &["cancel", &id], 0);
    let shown = json(dir.path(), &["show", &id], 0);
    assert_eq!(shown["history"][1]["action"], "cancel");
    assert_eq!(shown["history"][1]["who"], "local");

    std::fs::write(dir.path().join("listener.proc"), LISTENER).unwrap();
    let d = json(dir.path(), &["run", "listener.proc"], 0);
    let listener = d["processId"].as_str().unwrap().to_string();
    json(dir.path(), &["signal", "Go"], 0);
    let shown = json(dir.path(), &["show", &listener], 0);
    assert_eq!(shown["status"], "Completed");
    let signal = &shown["history"][1];
    assert_eq!(
        (&signal["action"], &signal["signal"], &signal["who"]),
        (&Value::from("signal"), &Value::from("Go"), &Value::from("local"))
    );
}

#[test]
fn the_repl_pending_list_shows_to_and_the_repl_executes_anything() {
    use procdsl::repl::{Session, SessionOptions};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("order.proc");
    std::fs::write(&path, ORDER).unwrap();
    let mut s = Session::new(SessionOptions::default());
    let out = s.load_files(&[path]);
    assert!(!out.failed, "{}", out.text);
    let out = s.execute_line("run UsrOrder Requester=zoe");
    assert!(!out.failed, "{}", out.text);
    let pending = s.execute_line("pending").text;
    let line = pending.lines().find(|l| l.contains("user Approve")).unwrap_or_else(|| panic!("{pending}"));
    assert!(line.ends_with("  to managers, zoe"), "{pending}");
    let out = s.execute_line("exec Approve Ok=true");
    assert!(!out.failed, "the REPL is local and may execute any task: {}", out.text);
}

const EVALUATED_ONCE: &str = r#"process UsrOnce {
    in Requester: Text = "alice"
    start Begin -> Fork
    parallel Fork -> Approve, Change
    user Approve "Approve" to Requester -> Join
    script Change { Requester = "mallory" } -> Join
    parallel Join -> Done
    end Done
}

process UsrOuter {
    start Begin -> Ask
    call Ask UsrInner -> Done
    end Done
}

process UsrInner {
    in Who: Text = "shipping"
    start Begin -> Confirm
    user Confirm "Confirm" to Who -> Done
    end Done
}
"#;

#[test]
fn to_is_evaluated_when_the_task_starts_and_checked_on_exec_through_the_library() {
    use procdsl::runtime::engine::{ExecError, Run, RunOptions};
    use procdsl::{Engine, Status};
    let engine = Engine::from_source("once.proc", EVALUATED_ONCE).unwrap();
    let as_user = |name: &str, roles: &[&str]| RunOptions {
        actor: name.into(),
        roles: Some(roles.iter().map(|r| r.to_string()).collect()),
        ..RunOptions::default()
    };

    let mut instance = engine.start::<&str, &str>("UsrOnce", []).unwrap();
    let mut run = Run::new(as_user("bob", &[]));
    instance.run(&mut run);
    assert_eq!(instance.started_by.as_deref(), Some("bob"), "the actor of the first run started it");
    assert_eq!(instance.param("Requester").map(ToString::to_string).as_deref(), Some("mallory"));
    let d = instance.descriptor(None);
    assert_eq!(d.waiting[0].to, Some(vec!["alice".to_string()]), "not re-evaluated after the change");
    let uid = d.waiting[0].uid;
    let err = instance.exec::<&str, &str>(uid, &[], &mut Run::new(as_user("mallory", &["user"]))).unwrap_err();
    assert!(matches!(&err, ExecError::NotAssigned(n) if n.caller == "mallory"), "{err:?}");
    assert_eq!(instance.status, Status::Waiting, "a refusal changes nothing");
    assert_eq!(instance.history.len(), 1);
    instance.exec::<&str, &str>(uid, &[], &mut Run::new(as_user("alice", &[]))).unwrap();
    assert_eq!(instance.status, Status::Completed);
    assert_eq!(instance.history[1].who, "alice");

    // A sub-process's task: checked against its own `to`, recorded in the caller's history.
    let mut outer = engine.start::<&str, &str>("UsrOuter", []).unwrap();
    engine.run(&mut outer);
    let w = &outer.descriptor(None).waiting[0];
    assert_eq!((w.element.as_str(), w.to.clone()), ("Confirm", Some(vec!["shipping".to_string()])));
    let uid = w.uid;
    let err = outer.exec::<&str, &str>(uid, &[], &mut Run::new(as_user("bob", &["user"]))).unwrap_err();
    assert_eq!(err.to_string(), "`Confirm` is assigned to shipping");
    outer.exec::<&str, &str>(uid, &[], &mut Run::new(as_user("sam", &["shipping"]))).unwrap();
    assert_eq!(outer.status, Status::Completed);
    let last = outer.history.last().unwrap();
    assert_eq!((last.who.as_str(), last.element.as_deref()), ("sam", Some("Confirm")));
    assert_eq!(outer.started_by.as_deref(), Some("local"));
}

#[test]
fn the_history_keeps_the_start_and_the_latest_entries() {
    use procdsl::runtime::instance::{Action, HistoryEntry, MAX_HISTORY};
    let engine = procdsl::Engine::from_source("order.proc", ORDER).unwrap();
    let mut instance = engine.start::<&str, &str>("UsrOrder", []).unwrap();
    engine.run(&mut instance);
    let at = instance.clock;
    for i in 0..MAX_HISTORY + 5 {
        let who = format!("user{i}");
        instance.record(HistoryEntry { at, who, action: Action::Signal, element: None, signal: Some("Go".into()) });
    }
    assert_eq!(instance.history.len(), MAX_HISTORY);
    assert_eq!(instance.history[0].action, Action::Start);
    assert_eq!(instance.history[1].who, "user6", "the oldest after the start went first");
    assert_eq!(instance.history.last().map(|h| h.who.as_str()), Some(format!("user{}", MAX_HISTORY + 4).as_str()));
}
