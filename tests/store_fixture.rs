//! Frozen saved states: a store written by format version 1 (schema 1) is
//! kept in tests/fixtures/store-v1 and must still load and finish. Set
//! `PROCDSL_REGENERATE_FIXTURES=1` only when adding a new version's
//! fixture; never rewrite an old one.

use procdsl::check;
use procdsl::runtime::instance::Status;
use procdsl::runtime::saved::SavedInstance;
use procdsl::store::{self, ListFilter, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The definition the fixture's instance runs on: a user task, a waiting
/// sub-process and a timer, in parallel, then a join.
const SOURCE: &str = r#"process UsrFixture {
    in    Amount: Decimal = 0
    in    Lines: List<{ Name: Text, Qty: Integer }> = []
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
    user Approve "Approve the order" {
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
    user Confirm "Confirm shipping" {
        in Carrier: Text
        done { Label = "{Carrier}: {Total}" }
    } -> Done
    end Done
}
"#;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v1")
}

fn regenerate(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let db = dir.join("store.db");
    let _ = std::fs::remove_file(&db);
    let mut store = Store::open(&db).unwrap();
    let program = Arc::new(check::load_str("fixture.proc", SOURCE).unwrap().program);
    let d = store
        .start(
            program,
            "UsrFixture",
            [("Amount", "2.50"), ("Lines", r#"[{"Name":"a","Qty":2},{"Name":"b","Qty":3}]"#)],
            store::real_time(Some("2026-01-01T00:00:00Z".parse().unwrap())),
        )
        .unwrap();
    assert_eq!(d.status, Status::Waiting);
    let instance = store.load(d.process_id).unwrap();
    let state = serde_json::to_string_pretty(&SavedInstance::of(&instance)).unwrap();
    std::fs::write(dir.join("state.json"), state + "\n").unwrap();
    std::fs::write(dir.join("fixture.proc"), SOURCE).unwrap();
}

#[test]
fn a_store_of_format_version_1_still_loads_and_finishes() {
    let fixture = fixture_dir();
    if std::env::var_os("PROCDSL_REGENERATE_FIXTURES").is_some() {
        regenerate(&fixture);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    std::fs::copy(fixture.join("store.db"), &db).expect("tests/fixtures/store-v1/store.db is committed");
    let mut store = Store::open_existing(&db).unwrap();
    // Opening migrated it to schema 2: the counts by status were filled.
    assert_eq!(store.count_by_status().unwrap(), [(Status::Waiting, 1)]);
    let list = store.list(&ListFilter::default()).unwrap();
    assert_eq!(list.len(), 1);
    let id = list[0].id;
    let d = store.show(id).unwrap();
    assert_eq!(d.status, Status::Waiting);
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
    assert_eq!(store.count_by_status().unwrap(), [(Status::Completed, 1)]);
}

#[test]
fn the_saved_json_of_format_version_1_still_restores_and_finishes() {
    let fixture = fixture_dir();
    let text = std::fs::read_to_string(fixture.join("state.json")).unwrap();
    let saved =
        store::decode_state(serde_json::from_str::<serde_json::Value>(&text).unwrap()["id"].as_str().unwrap(), &text)
            .unwrap();
    let source = std::fs::read_to_string(fixture.join("fixture.proc")).unwrap();
    let program = Arc::new(check::load_sources(&[("fixture.proc".to_string(), source)]).unwrap().program);
    let mut instance = saved.restore(program).unwrap();
    let mut run = procdsl::runtime::engine::Run::new(Default::default());
    let waiting: Vec<_> = instance.descriptor(None).waiting.into_iter().map(|w| (w.element, w.uid)).collect();
    for (element, uid) in waiting {
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
}
