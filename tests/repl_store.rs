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

#[test]
fn use_finds_a_stored_instance_by_a_unique_prefix_and_names_an_ambiguous_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("orders.db");
    let program = procdsl::Engine::load(&[approval()]).unwrap().program().clone();
    let mut store = Store::open(&db).unwrap();
    // Until two ids share a first letter (a digit would be read as an instance number).
    let mut ids: Vec<String> = Vec::new();
    let shared = loop {
        let d = store.start(program.clone(), "UsrApproval", [("Amount", "5000")], store::real_time(None)).unwrap();
        ids.push(d.process_id.to_string());
        let twice = ('a'..='f').find(|c| ids.iter().filter(|id| id.starts_with(*c)).count() > 1);
        if let Some(c) = twice {
            break c.to_string();
        }
        assert!(ids.len() < 500);
    };
    let mut session = session_on(&db);
    let ambiguous = session.execute_line(&format!("use {shared}"));
    assert!(ambiguous.failed && ambiguous.text.contains("instances have an id starting with"), "{}", ambiguous.text);
    let opened = session.execute_line(&format!("use {}", &ids[0][..13]));
    assert!(!opened.failed && opened.text.contains(&ids[0]), "{}", opened.text);
    let none = session.execute_line("use 0000-0000");
    assert!(none.failed && none.text.contains("no instance is numbered"), "{}", none.text);
}
