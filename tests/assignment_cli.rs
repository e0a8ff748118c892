//! Task assignment and who did what, through the real binary: `to` in the
//! waiting list, `exec --as USER [--users FILE]`, `startedBy` in `show` and
//! `instances`, the history of execs, cancels and signals.

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
