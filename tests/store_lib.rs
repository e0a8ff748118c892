//! The store as a library: the operations, the format and schema version
//! checks, and damaged store files that must give clear errors, never panics.

use procdsl::check;
use procdsl::runtime::engine::ExecOutcome;
use procdsl::runtime::instance::Status;
use procdsl::store::{self, CancelOutcome, ListFilter, Store, StoreError};
use std::sync::Arc;

const SOURCE: &str = r#"process UsrOrder {
    in  Amount: Decimal = 0
    out Approved: Boolean = false
    start Begin -> Route
    exclusive Route {
        when Amount > 100 -> Approve
        else -> Auto
    }
    user Approve "Approve" {
        in Decision: Boolean
        done { Approved = Decision }
    } -> Done
    script Auto { Approved = true; emit "Approved" } -> Done
    end Done
}
process UsrWatch {
    out Seen: Boolean = false
    start Begin -> Wait
    signal Wait "Approved" -> Mark
    script Mark { Seen = true } -> Done
    end Done
}
process UsrSleep {
    start Begin -> Sleep
    timer Sleep after "PT1H" -> Done
    end Done
}
"#;

fn setup() -> (tempfile::TempDir, Store, Arc<procdsl::check::spec::Program>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store.db")).unwrap();
    let program = Arc::new(check::load_str("order.proc", SOURCE).unwrap().program);
    (dir, store, program)
}

fn at(t: &str) -> jiff::Timestamp {
    t.parse().unwrap()
}

const NONE: [(&str, &str); 0] = [];

#[test]
fn start_exec_list_cancel_signal_tick() {
    let (_dir, mut store, program) = setup();
    let options = store::real_time(Some(at("2026-01-01T00:00:00Z")));
    let big = store.start(program.clone(), "UsrOrder", [("Amount", "500")], options.clone()).unwrap();
    assert_eq!(big.status, Status::Waiting);
    let watch = store.start(program.clone(), "UsrWatch", NONE, options.clone()).unwrap();
    let sleep = store.start(program.clone(), "UsrSleep", NONE, options.clone()).unwrap();
    assert_eq!(sleep.waiting[0].due.as_deref(), Some("2026-01-01T01:00:00Z"));

    // A stored run that emits wakes the stored instance waiting for the signal.
    let small = store.start(program.clone(), "UsrOrder", [("Amount", "5")], options.clone()).unwrap();
    assert_eq!(small.status, Status::Completed);
    assert_eq!(store.show(watch.process_id).unwrap().status, Status::Completed);

    let uid = big.waiting[0].uid;
    let err = store.exec(uid, &[("Decision", "perhaps")], options.clone()).unwrap_err();
    assert!(matches!(err, StoreError::Exec(_)), "{err}");
    let (outcome, d) = store.exec(uid, &[("Decision", "false")], options.clone()).unwrap();
    assert_eq!((outcome, d.status), (ExecOutcome::Executed, Status::Completed));
    let (outcome, _) = store.exec(uid, &[("Decision", "true")], options.clone()).unwrap();
    assert_eq!(outcome, ExecOutcome::AlreadyExecuted);
    assert_eq!(store.show(big.process_id).unwrap().result_parameter_values["Approved"], false);

    let waiting = store.list(&ListFilter { status: Some(Status::Waiting), ..ListFilter::default() }).unwrap();
    assert_eq!(waiting.iter().map(|s| s.id).collect::<Vec<_>>(), vec![sleep.process_id]);
    let orders = store.list(&ListFilter { process: Some("UsrOrder".into()), ..ListFilter::default() }).unwrap();
    assert_eq!(orders.len(), 2);
    assert!(orders.iter().all(|s| s.waiting == 0));

    assert!(store.tick(at("2026-01-01T00:30:00Z")).unwrap().is_empty());
    let moved = store.tick(at("2026-01-01T01:00:00Z")).unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].status, Status::Completed);

    let watch2 = store.start(program.clone(), "UsrWatch", NONE, options.clone()).unwrap();
    let (outcome, d) = store.cancel(watch2.process_id).unwrap();
    assert_eq!((outcome, d.status), (CancelOutcome::Cancelled, Status::Cancelled));
    assert_eq!(store.cancel(watch2.process_id).unwrap().0, CancelOutcome::AlreadyCancelled);
    assert!(store.signal("Approved", options.clone()).unwrap().is_empty(), "a cancelled instance hears no signal");
    assert!(matches!(store.cancel(big.process_id), Err(StoreError::Finished { .. })));
}

#[test]
fn programs_are_stored_once_and_loaded_from_their_sources() {
    let (_dir, mut store, program) = setup();
    let hash = store.save_program(&program).unwrap();
    assert_eq!(store.save_program(&program).unwrap(), hash);
    let loaded = store.load_program(&hash).unwrap();
    assert_eq!(loaded.hash(), program.hash());
    assert!(Arc::ptr_eq(&loaded, &store.load_program(&hash).unwrap()), "cached by hash");
    assert!(matches!(store.load_program("nope"), Err(StoreError::MissingProgram { .. })));
}

/// Opens the store file beside the library to damage it on purpose.
fn raw(dir: &tempfile::TempDir) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.path().join("store.db")).unwrap()
}

#[test]
fn damaged_or_newer_states_give_clear_errors() {
    let (dir, mut store, program) = setup();
    let d = store.start(program.clone(), "UsrOrder", [("Amount", "500")], store::real_time(None)).unwrap();
    let id = d.process_id;
    let uid = d.waiting[0].uid;
    let db = raw(&dir);
    let state: String = db.query_row("SELECT state FROM instances", [], |r| r.get(0)).unwrap();

    let current = procdsl::runtime::saved::FORMAT_VERSION;
    let newer = state.replacen(&format!("\"v\":{current}"), &format!("\"v\":{}", current + 1), 1);
    assert_ne!(newer, state);
    db.execute("UPDATE instances SET state = ?1", [&newer]).unwrap();
    let err = store.load(id).unwrap_err();
    assert!(matches!(err, StoreError::NewerFormat { found, .. } if found == u64::from(current) + 1), "{err}");
    let says = format!("format version {}, but this procdsl reads up to version {current}", current + 1);
    assert!(err.to_string().contains(&says), "{err}");
    assert!(matches!(
        store.exec(uid, &[("Decision", "true")], store::real_time(None)),
        Err(StoreError::NewerFormat { .. })
    ));

    for (garbage, says) in [
        ("not json", "cannot be read"),
        ("{\"id\":1}", "no format version"),
        ("{\"v\":1,\"id\":\"x\"}", "cannot be read"),
        ("{\"v\":0}", "never written"),
    ] {
        db.execute("UPDATE instances SET state = ?1", [garbage]).unwrap();
        let err = store.load(id).unwrap_err();
        assert!(matches!(err, StoreError::CorruptState { .. }) && err.to_string().contains(says), "{garbage}: {err}");
    }
    let other = state.replace(&id.to_string(), "00000000-0000-0000-0000-000000000001");
    db.execute("UPDATE instances SET state = ?1", [&other]).unwrap();
    assert!(store.load(id).unwrap_err().to_string().contains("holds the state of instance"));
    let bad_param = state.replacen("\"params\":[\"500\"", "\"params\":[\"lots\"", 1).replacen(
        "\"params\":[500",
        "\"params\":[\"lots\"",
        1,
    );
    db.execute("UPDATE instances SET state = ?1", [&bad_param]).unwrap();
    let err = store.load(id).unwrap_err();
    assert!(matches!(err, StoreError::CorruptState { .. }) && err.to_string().contains("parameter `Amount`"), "{err}");

    db.execute("UPDATE instances SET state = ?1", [&state]).unwrap();
    db.execute("UPDATE programs SET files = 'garbage'", []).unwrap();
    assert!(store.load(id).is_ok(), "a program loaded once stays cached by its hash");
    let mut store = Store::open_existing(dir.path().join("store.db")).unwrap();
    assert!(matches!(store.load(id), Err(StoreError::BadProgram { .. })));
    db.execute("UPDATE programs SET files = '[[\"order.proc\", \"process X {\"]]'", []).unwrap();
    let err = store.load(id).unwrap_err();
    assert!(matches!(err, StoreError::BadProgram { .. }), "{err}");
    db.pragma_update(None, "foreign_keys", false).unwrap();
    db.execute("DELETE FROM programs", []).unwrap();
    assert!(matches!(store.load(id), Err(StoreError::MissingProgram { .. })));
}

#[test]
fn a_newer_schema_a_foreign_database_and_a_non_database_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.db");
    drop(Store::open(&newer).unwrap());
    rusqlite::Connection::open(&newer).unwrap().pragma_update(None, "user_version", 7).unwrap();
    let err = Store::open(&newer).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 7, supported: procdsl::store::schema::SCHEMA_VERSION, .. }),
        "{err}"
    );

    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
    assert!(matches!(Store::open(&foreign), Err(StoreError::Foreign { .. })));

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are not the pages of a database, just some words in a file ".repeat(100)).unwrap();
    let err = Store::open_existing(&text).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err}");

    assert!(matches!(Store::open_existing(dir.path().join("none.db")), Err(StoreError::Missing { .. })));
    assert!(!dir.path().join("none.db").exists());
}

#[test]
fn a_waiting_instance_of_a_small_process_takes_under_2_kb() {
    let (_dir, mut store, _) = setup();
    let program = Arc::new(
        check::load_files(&[concat!(env!("CARGO_MANIFEST_DIR"), "/benches/workloads/w4.proc")]).unwrap().program,
    );
    store.save_program(&program).unwrap();
    let before = store.used_bytes().unwrap();
    const N: u64 = 200;
    for _ in 0..N {
        let mut instance =
            procdsl::Instance::new(program.clone(), program.find("W4Wait").unwrap(), jiff::Timestamp::now());
        store.run(&mut instance, store::real_time(None)).unwrap();
    }
    let per = (store.used_bytes().unwrap() - before) / N;
    assert!(per < 2048, "{per} bytes per waiting instance");
}

#[test]
fn a_waiter_whose_state_is_damaged_does_not_hold_a_signal_up() {
    let (dir, mut store, program) = setup();
    let options = store::real_time(None);
    let watchers: Vec<_> =
        (0..3).map(|_| store.start(program.clone(), "UsrWatch", NONE, options.clone()).unwrap().process_id).collect();
    let mut sorted = watchers.clone();
    sorted.sort();
    raw(&dir).execute("UPDATE instances SET state = 'not json' WHERE id = ?1", [sorted[1].to_string()]).unwrap();
    let err = store.signal("Approved", options).unwrap_err();
    assert!(matches!(err, StoreError::CorruptState { .. }), "{err}");
    for id in [sorted[0], sorted[2]] {
        assert_eq!(store.show(id).unwrap().status, Status::Completed, "the others got the signal");
    }
    // Nothing is left waiting in the outbox.
    let left: i64 = raw(&dir).query_row("SELECT COUNT(*) FROM signal_outbox", [], |r| r.get(0)).unwrap();
    assert_eq!(left, 0);
}

#[test]
fn a_due_timer_whose_instance_is_damaged_does_not_hold_the_others_up() {
    let (dir, mut store, program) = setup();
    let options = store::real_time(Some(at("2026-01-01T00:00:00Z")));
    let sleepers: Vec<_> =
        (0..3).map(|_| store.start(program.clone(), "UsrSleep", NONE, options.clone()).unwrap().process_id).collect();
    raw(&dir).execute("UPDATE instances SET state = 'not json' WHERE id = ?1", [sleepers[1].to_string()]).unwrap();
    let err = store.tick(at("2026-01-01T01:00:00Z")).unwrap_err();
    assert!(matches!(err, StoreError::CorruptState { .. }), "{err}");
    for id in [sleepers[0], sleepers[2]] {
        assert_eq!(store.show(id).unwrap().status, Status::Completed, "the other timers fired");
    }
}
