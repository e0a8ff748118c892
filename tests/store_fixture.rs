//! Frozen saved states: a store written by each format version (1, 2; both
//! schema 1) is kept in tests/fixtures/store-vN and must still load and
//! finish. Set `PROCDSL_REGENERATE_FIXTURES=1` only when adding a new
//! version's fixture: it writes the current version's directory; never
//! rewrite an old one.

#[path = "support/fixture.rs"]
mod fixture;

use procdsl::check;
use procdsl::runtime::access::NotAssigned;
use procdsl::runtime::engine::{ExecError, RunOptions};
use procdsl::runtime::instance::{Action, Status, UNKNOWN_STARTER};
use procdsl::runtime::saved::FORMAT_VERSION;
use procdsl::store::{self, ListFilter, Store};
use std::sync::Arc;

/// The definition of the version 2 fixture: version 1's (kept in
/// tests/fixtures/store-v1/fixture.proc: a user task, a waiting
/// sub-process and a timer, in parallel, then a join), with the tasks
/// assigned by `to`.
const SOURCE_V2: &str = r#"process UsrFixture {
    in    Amount: Decimal = 0
    in    Lines: List<{ Name: Text, Qty: Integer }> = []
    in    Requester: Text = "alice"
    out   Total: Decimal
    out   Summary: Text
    var   Approved: Boolean = false

    start Begin -> Prepare
    script Prepare {
        let qty = 0
        for line in Lines { qty = qty + line.Qty }
        Total = Amount * qty
        log "prepared {len(Lines)} lines"
    } -> Fork
    parallel Fork -> Approve, Ship, Cool
    user Approve "Approve the order" to ["managers", Requester] {
        in Decision: Boolean
        in Note: Text = ""
        done { Approved = Decision; log "approved: {Decision} {Note}" }
    } -> Join
    call Ship UsrFixtureShip {
        Total = Total
        Label -> Summary
    } -> Join
    timer Cool after "PT1H" -> Join
    parallel Join -> Done
    end Done
}

process UsrFixtureShip {
    in  Total: Decimal
    out Label: Text
    start Begin -> Confirm
    user Confirm "Confirm shipping" to "shipping" {
        in Carrier: Text
        done { Label = "{Carrier}: {Total}" }
    } -> Done
    end Done
}
"#;

/// Writes the format 2 fixture (only with `PROCDSL_REGENERATE_FIXTURES`,
/// and only while 2 is the current format: never rewrite an old one).
fn regenerate_v2() {
    fixture::write(2, SOURCE_V2, |store, program| {
        let options =
            RunOptions { actor: "bob".into(), ..store::real_time(Some("2026-01-01T00:00:00Z".parse().unwrap())) };
        let d = store
            .start(
                program,
                "UsrFixture",
                [("Amount", "2.50"), ("Lines", r#"[{"Name":"a","Qty":2},{"Name":"b","Qty":3}]"#)],
                options,
            )
            .unwrap();
        assert_eq!(d.status, Status::Waiting);
        d.process_id
    });
}

/// A copy of a fixture's store in a temporary directory.
fn copy_store(version: u32) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    std::fs::copy(fixture::dir(version).join("store.db"), &db).expect("the fixture's store.db is committed");
    let store = Store::open_existing(&db).unwrap();
    (dir, store)
}

#[test]
fn a_store_of_format_version_1_still_loads_and_finishes() {
    let (_dir, mut store) = copy_store(1);
    // Opening migrated it to the current schema: the counts by status were filled.
    assert_eq!(store.count_by_status().unwrap(), [(Status::Waiting, 1)]);
    let list = store.list(&ListFilter::default()).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].started_by, None, "format 1 did not record who started an instance");
    let id = list[0].id;
    let d = store.show(id).unwrap();
    assert_eq!(d.status, Status::Waiting);
    assert_eq!(d.started_by.as_deref(), Some(UNKNOWN_STARTER), "migrated: nobody is credited with the start");
    assert!(d.history.is_empty());
    assert!(d.waiting.iter().all(|w| w.to.is_none()));
    let mut names: Vec<&str> = d.waiting.iter().map(|w| w.element.as_str()).collect();
    names.sort();
    assert_eq!(names, ["Approve", "Confirm", "Cool"]);
    let uid = |name: &str| d.waiting.iter().find(|w| w.element == name).unwrap().uid;

    let options = store::real_time(Some("2026-01-01T00:10:00Z".parse().unwrap()));
    store.exec(uid("Approve"), &[("Decision", "true"), ("Note", "ok")], options.clone()).unwrap();
    store.exec(uid("Confirm"), &[("Carrier", "DHL")], options).unwrap();
    assert_eq!(store.show(id).unwrap().status, Status::Waiting);
    let moved = store.tick("2026-01-01T01:00:00Z".parse().unwrap()).unwrap();
    assert_eq!(moved.len(), 1);
    let done = &moved[0];
    assert_eq!(done.status, Status::Completed, "{:?}", done.error);
    assert_eq!(done.result_parameter_values["Total"].to_string(), "12.50");
    assert_eq!(done.result_parameter_values["Summary"], "DHL: 12.50");
    assert_eq!(done.log, ["prepared 2 lines", "approved: true ok"]);
    let history = store.show(id).unwrap().history;
    let actions: Vec<_> = history.iter().map(|h| (h.action, h.element.as_deref())).collect();
    assert_eq!(actions, [(Action::Exec, Some("Approve")), (Action::Exec, Some("Confirm"))]);
    assert_eq!(store.list(&ListFilter::default()).unwrap()[0].started_by.as_deref(), Some(UNKNOWN_STARTER));
    assert_eq!(store.count_by_status().unwrap(), [(Status::Completed, 1)]);
}

/// Restores a fixture's saved JSON on its definition and finishes it in
/// virtual time; returns the `to` of each waiting user task it found.
fn restore_and_finish(version: u32) -> Vec<(String, Option<Vec<String>>)> {
    let fixture = fixture::dir(version);
    let text = std::fs::read_to_string(fixture.join("state.json")).unwrap();
    let saved =
        store::decode_state(serde_json::from_str::<serde_json::Value>(&text).unwrap()["id"].as_str().unwrap(), &text)
            .unwrap();
    let source = std::fs::read_to_string(fixture.join("fixture.proc")).unwrap();
    let program = Arc::new(check::load_sources(&[("fixture.proc".to_string(), source)]).unwrap().program);
    let mut instance = saved.restore(program).unwrap();
    let mut run = procdsl::runtime::engine::Run::new(Default::default());
    let waiting = instance.descriptor(None).waiting;
    let assigned = waiting.iter().map(|w| (w.element.clone(), w.to.clone())).collect();
    for (element, uid) in waiting.into_iter().map(|w| (w.element, w.uid)) {
        // In virtual time the timer fires by itself once nothing else can run.
        let fields = match element.as_str() {
            "Approve" => [("Decision", "false")],
            "Confirm" => [("Carrier", "UPS")],
            _ => continue,
        };
        instance.exec(uid, &fields, &mut run).unwrap();
    }
    assert_eq!(instance.status, Status::Completed, "{:?}", instance.error);
    assert_eq!(instance.descriptor(None).result_parameter_values["Summary"], "UPS: 12.50");
    assigned
}

#[test]
fn the_saved_json_of_format_version_1_still_restores_and_finishes() {
    let assigned = restore_and_finish(1);
    assert!(assigned.iter().all(|(_, to)| to.is_none()), "{assigned:?}");
}

#[test]
fn the_saved_json_of_format_version_2_still_restores_and_finishes() {
    let mut assigned = restore_and_finish(2);
    assigned.sort();
    let names = |list: &[&str]| Some(list.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        assigned,
        [
            ("Approve".to_string(), names(&["managers", "alice"])),
            ("Confirm".to_string(), names(&["shipping"])),
            ("Cool".to_string(), None)
        ]
    );
}

#[test]
fn a_store_of_format_version_2_still_loads_and_finishes() {
    if std::env::var_os("PROCDSL_REGENERATE_FIXTURES").is_some() && FORMAT_VERSION == 2 {
        regenerate_v2();
    }
    let (_dir, mut store) = copy_store(2);
    let list = store.list(&ListFilter::default()).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].started_by.as_deref(), Some("bob"));
    let id = list[0].id;
    let d = store.show(id).unwrap();
    assert_eq!(d.status, Status::Waiting);
    assert_eq!(d.started_by.as_deref(), Some("bob"));
    assert_eq!(d.history.len(), 1);
    assert_eq!((d.history[0].action, d.history[0].who.as_str()), (Action::Start, "bob"));
    let to = |name: &str| d.waiting.iter().find(|w| w.element == name).unwrap().to.clone();
    assert_eq!(to("Approve"), Some(vec!["managers".to_string(), "alice".to_string()]));
    assert_eq!(to("Confirm"), Some(vec!["shipping".to_string()]));
    assert_eq!(to("Cool"), None);
    let uid = |name: &str| d.waiting.iter().find(|w| w.element == name).unwrap().uid;

    let now = store::real_time(Some("2026-01-01T00:10:00Z".parse().unwrap()));
    let as_user = |name: &str, roles: &[&str]| RunOptions {
        actor: name.into(),
        roles: Some(roles.iter().map(|r| r.to_string()).collect()),
        ..now.clone()
    };
    // The saved `to` still decides: carol is neither alice nor a manager.
    let refused = store.exec(uid("Approve"), &[("Decision", "true")], as_user("carol", &["user"])).unwrap_err();
    let expected = NotAssigned {
        element: "Approve".to_string(),
        assignees: vec!["managers".to_string(), "alice".to_string()],
        caller: "carol".to_string(),
    };
    assert!(matches!(&refused, store::StoreError::Exec(ExecError::NotAssigned(n)) if *n == expected), "{refused:?}");
    store.exec(uid("Approve"), &[("Decision", "true"), ("Note", "ok")], as_user("alice", &[])).unwrap();
    store.exec(uid("Confirm"), &[("Carrier", "DHL")], as_user("dora", &["shipping"])).unwrap();
    let moved = store.tick("2026-01-01T01:00:00Z".parse().unwrap()).unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].status, Status::Completed, "{:?}", moved[0].error);
    assert_eq!(moved[0].result_parameter_values["Summary"], "DHL: 12.50");
    let history = store.show(id).unwrap().history;
    let who: Vec<_> = history.iter().map(|h| (h.who.as_str(), h.action, h.element.as_deref())).collect();
    assert_eq!(
        who,
        [
            ("bob", Action::Start, None),
            ("alice", Action::Exec, Some("Approve")),
            ("dora", Action::Exec, Some("Confirm"))
        ]
    );
}

/// Opening a store of an older schema migrates it to the current one,
/// sessions included (schema 3): a session saved there is found again.
#[test]
fn the_stores_of_schema_1_and_2_migrate_to_the_current_schema_with_sessions() {
    for version in [1, 2] {
        let (dir, mut store) = copy_store(version);
        let at: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let session = store::StoredSession {
            key: "k".into(),
            user: "bob".into(),
            csrf: "c".into(),
            created: at,
            last_used: at,
            expires: at + jiff::SignedDuration::from_hours(1),
        };
        store.save_session(&session, 64, 1000).unwrap();
        drop(store);
        let mut again = Store::open_existing(dir.path().join("store.db")).unwrap();
        assert_eq!(again.find_session("k", at).unwrap(), Some(session), "schema {version}");
        let conn = rusqlite::Connection::open(dir.path().join("store.db")).unwrap();
        let schema: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(schema, store::schema::SCHEMA_VERSION);
    }
}
