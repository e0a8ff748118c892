//! `procdsl repl --store`: the REPL works on stored instances, takes turns
//! with `procdsl run --store` and `exec`, and never overwrites what another
//! command did meanwhile.

use procdsl::repl::{Session, SessionOptions, Stored};
use procdsl::runtime::engine::ExecOutcome;
use procdsl::store::{self, Store};
use std::path::Path;
use std::process::Command;

fn approval() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/approval.proc")
}

fn session_on(path: &Path) -> Session {
    let store = Store::open(path).expect("the store opens");
    Session::new(SessionOptions { max_steps: 100_000, ..SessionOptions::default() })
        .with_backing(Box::new(Stored::new(Box::new(store))))
}

fn waiting_instance(db: &Path) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(["run", approval().to_str().unwrap(), "-p", "Amount=5000", "--json", "--store", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (d["processId"].as_str().unwrap().to_string(), d["waiting"][0]["uid"].as_str().unwrap().to_string())
}

#[test]
fn an_instance_started_by_run_is_continued_in_the_repl_and_saved_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("orders.db");
    let (id, _) = waiting_instance(&db);
    let mut session = session_on(&db);
    let listed = session.execute_line("instances");
    assert!(listed.text.contains(&id) && listed.text.contains("Waiting"), "{}", listed.text);
    let opened = session.execute_line(&format!("use {}", &id[..8]));
    assert!(!opened.failed, "{}", opened.text);
    let exec = session.execute_line("exec Approve Decision=true Comment=ok");
    assert!(!exec.failed && exec.text.contains("Approved: false → true"), "{}", exec.text);
    let finish = session.execute_line("continue");
    assert!(!finish.failed, "{}", finish.text);
    drop(session);

    let mut store = Store::open_existing(&db).unwrap();
    let d = store.show(id.parse().unwrap()).unwrap();
    assert_eq!(d.status, procdsl::Status::Completed);
    assert_eq!(d.result_parameter_values["Note"], serde_json::json!("ok"));
}

#[test]
fn the_repl_does_not_overwrite_an_exec_done_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("orders.db");
    let (id, uid) = waiting_instance(&db);
    let mut session = session_on(&db);
    assert!(!session.execute_line(&format!("use {id}")).failed);

    // Another command executes the element while the REPL holds the instance.
    let mut other = Store::open_existing(&db).unwrap();
    let (outcome, _) = other.exec(uid.parse().unwrap(), &[("Decision", "false")], store::real_time(None)).unwrap();
    assert_eq!(outcome, ExecOutcome::Executed);

    let late = session.execute_line("exec Approve Decision=true");
    assert!(late.failed && late.text.contains("changed by another command"), "{}", late.text);
    let d = other.show(id.parse().unwrap()).unwrap();
    assert_eq!(d.result_parameter_values["Approved"], serde_json::json!(false), "the first execution stands");
}
