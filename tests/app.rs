//! The application layer (`procdsl::app`) on both backends: the look-ups
//! the commands make, the REPL's versioned save, and signal and timer
//! loops that go on page after page until nothing is left. Each body runs
//! on a SQLite file and on a throwaway PostgreSQL database.

#[cfg(feature = "postgres")]
#[path = "support/pg.rs"]
mod pg;

use jiff::Timestamp;
use procdsl::app::{self, LookupError};
use procdsl::runtime::engine::ExecOutcome;
use procdsl::runtime::instance::Status;
use procdsl::store::{self, Location, ProcessStore, StoreError, PAGE_SIZE};
use procdsl::Engine;
use std::sync::Arc;
use uuid::Uuid;

const SOURCE: &str = r#"
process UsrApprove {
    start Begin -> Approve
    user Approve "Approve" {
        in Comment: Text
        done { log "executed {Comment}" }
    } -> Done
    end Done
}

process UsrTimer {
    start Begin -> Wait
    timer Wait after "PT1H" -> Done
    end Done
}

process UsrRelay {
    start Begin -> Hear
    signal Hear "Go" -> Pass
    script Pass { emit "Next" } -> Done
    end Done
}

process UsrLast {
    start Begin -> Hear
    signal Hear "Next" -> Done
    end Done
}
"#;

/// A store under test, and what keeps it alive.
struct Under {
    store: Box<dyn ProcessStore>,
    _keep: Box<dyn std::any::Any>,
}

fn sqlite() -> Under {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::Sqlite(dir.path().join("s.db"));
    Under { store: store::open(&location, true).unwrap(), _keep: Box::new(dir) }
}

#[cfg(feature = "postgres")]
fn postgres() -> Option<Under> {
    let (server, conninfo) = pg::fresh_database()?;
    let pairs: Vec<(&str, &str)> = conninfo.split_whitespace().filter_map(|p| p.split_once('=')).collect();
    let value = |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v).unwrap();
    let url = format!(
        "postgresql:///{}?host={}&port={}&user={}",
        value("dbname"),
        value("host"),
        value("port"),
        value("user")
    );
    let location = Location::parse(&url).unwrap();
    assert!(matches!(location, Location::Postgres(_)));
    Some(Under { store: store::open(&location, false).unwrap(), _keep: Box::new(server) })
}

macro_rules! app_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(&mut *super::sqlite().store) } )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $( #[test] fn $name() { if let Some(mut under) = super::postgres() { super::$name(&mut *under.store) } } )*
        }
    };
}

app_tests!(
    prefixes_find_one_id_or_say_why_not,
    a_held_instance_is_saved_back_only_if_unchanged,
    a_signal_is_delivered_on_to_the_instances_it_wakes,
    a_tick_fires_every_page_of_due_timers,
    exec_by_uid_runs_once_and_cancel_stops_the_rest,
);

fn program() -> Arc<procdsl::check::spec::Program> {
    Engine::from_source("app.proc", SOURCE).unwrap().program().clone()
}

fn t0() -> Timestamp {
    "2026-11-28T12:00:00Z".parse().unwrap()
}

fn start(store: &mut dyn ProcessStore, code: &str) -> procdsl::runtime::descriptor::Descriptor {
    app::start(store, program(), code, Vec::<(String, String)>::new(), store::real_time(Some(t0()))).unwrap()
}

fn prefixes_find_one_id_or_say_why_not(store: &mut dyn ProcessStore) {
    let started: Vec<_> = (0..12).map(|_| start(store, "UsrApprove")).collect();
    let first = &started[0];
    let id = first.process_id.to_string();
    let uid = first.waiting[0].uid.to_string();

    // Case does not matter; whole ids pass as they are.
    assert_eq!(app::resolve_instance(store, &id[..18].to_uppercase()).unwrap(), first.process_id);
    assert_eq!(app::resolve_element_instance(store, &uid[..18]).unwrap(), first.waiting[0].uid);
    let unknown = Uuid::new_v4();
    assert_eq!(app::resolve_instance(store, &unknown.to_string()).unwrap(), unknown);

    // No SQL pattern, nothing that cannot start an id, reaches a query.
    for text in ["%", "_", "' OR 1=1 --", "zz", ""] {
        assert!(store.instances_starting_with(text, 50).unwrap().is_empty(), "{text:?}");
        assert!(store.element_instances_starting_with(text, 50).unwrap().is_empty(), "{text:?}");
    }
    // A limit holds; every hex digit starts an id of 12 only sometimes, so
    // ask for a digit that starts at least two.
    let digit = (0..16)
        .map(|d| format!("{d:x}"))
        .max_by_key(|d| started.iter().filter(|s| s.process_id.to_string().starts_with(d.as_str())).count())
        .unwrap();
    let many = started.iter().filter(|s| s.process_id.to_string().starts_with(&digit)).count();
    assert_eq!(store.instances_starting_with(&digit, 1).unwrap().len(), 1);
    if many > 1 {
        match app::resolve_instance(store, &digit) {
            Err(LookupError::ManyInstances { candidates, .. }) => {
                assert_eq!(candidates.len(), many.min(app::CANDIDATES + 1));
                assert!(candidates.windows(2).all(|w| w[0].id < w[1].id), "in id order");
                assert!(candidates.iter().all(|m| m.process == "UsrApprove" && m.status == Status::Waiting));
            }
            other => panic!("{digit}: {other:?}"),
        }
    }
    // The other kind of id is named.
    match app::resolve_instance(store, &uid[..20]) {
        Err(LookupError::NoInstance { element_instance: Some(m), .. }) => {
            assert_eq!((m.instance, m.kind.as_str(), m.live), (first.process_id, "user", true));
        }
        other => panic!("{other:?}"),
    }
    match app::resolve_element_instance(store, &id[..20]) {
        Err(LookupError::NoElementInstance { instance, .. }) => assert_eq!(instance, Some(first.process_id)),
        other => panic!("{other:?}"),
    }
    // An executed element-instance is still found, no longer live.
    app::exec(store, first.waiting[0].uid, &[("Comment".into(), "ok".into())], store::real_time(None)).unwrap();
    let found = store.element_instances_starting_with(&uid, 5).unwrap();
    assert_eq!(found.len(), 1);
    assert!(!found[0].live);

    start(store, "UsrRelay");
    start(store, "UsrLast");
    assert_eq!(store.process_codes().unwrap(), ["UsrApprove", "UsrLast", "UsrRelay"]);
    assert_eq!(store.waited_signals().unwrap(), ["Go", "Next"]);
    assert!(!store.display_name().is_empty());
}

fn a_held_instance_is_saved_back_only_if_unchanged(store: &mut dyn ProcessStore) {
    let id = start(store, "UsrApprove").process_id;
    let held = app::open(store, id).unwrap();
    let version = app::save(store, &held.instance, Some(held.version)).unwrap();
    assert_eq!(version, held.version + 1);
    // Someone else moved it meanwhile: the stale save writes nothing.
    let stale = app::open(store, id).unwrap();
    app::cancel(store, id, "someone").unwrap();
    assert!(matches!(app::save(store, &stale.instance, Some(stale.version)), Err(StoreError::Conflict { .. })));
    assert_eq!(app::show(store, id).unwrap().status, Status::Cancelled);
    // `None`: only a new instance.
    assert!(matches!(app::save(store, &stale.instance, None), Err(StoreError::Conflict { .. })));
    let program = program();
    let process = program.find("UsrTimer").unwrap();
    let fresh = procdsl::runtime::instance::Instance::new(program.clone(), process, t0());
    assert_eq!(app::save(store, &fresh, None).unwrap(), 1);
    assert_eq!(app::open(store, fresh.id).unwrap().version, 1);
}

fn a_signal_is_delivered_on_to_the_instances_it_wakes(store: &mut dyn ProcessStore) {
    let relays: Vec<Uuid> = (0..PAGE_SIZE + 6).map(|_| start(store, "UsrRelay").process_id).collect();
    let last = start(store, "UsrLast").process_id;
    let moved = app::signal(store, "Go", store::real_time(None)).unwrap();
    // Every relay (more than a page), and the one they all woke, once each.
    assert_eq!(moved.len(), relays.len() + 1);
    assert!(moved.iter().all(|d| d.status == Status::Completed));
    assert_eq!(app::show(store, last).unwrap().status, Status::Completed);
    assert!(app::signal(store, "Go", store::real_time(None)).unwrap().is_empty(), "nobody waits any more");
}

fn a_tick_fires_every_page_of_due_timers(store: &mut dyn ProcessStore) {
    let timers: Vec<Uuid> = (0..PAGE_SIZE + 6).map(|_| start(store, "UsrTimer").process_id).collect();
    assert!(app::tick(store, "2026-11-28T12:30:00Z".parse().unwrap()).unwrap().is_empty(), "not due yet");
    let moved = app::tick(store, "2026-11-28T13:00:00Z".parse().unwrap()).unwrap();
    assert_eq!(moved.len(), timers.len());
    for id in timers {
        assert_eq!(app::show(store, id).unwrap().status, Status::Completed);
    }
    assert!(app::tick(store, "2026-11-28T14:00:00Z".parse().unwrap()).unwrap().is_empty(), "fired once");
}

fn exec_by_uid_runs_once_and_cancel_stops_the_rest(store: &mut dyn ProcessStore) {
    let d = start(store, "UsrApprove");
    let uid = d.waiting[0].uid;
    let fields = [("Comment".to_string(), "first".to_string())];
    let (outcome, done, elements) = app::exec(store, uid, &fields, store::real_time(None)).unwrap();
    assert_eq!((outcome, done.status), (ExecOutcome::Executed, Status::Completed));
    assert!(elements > 0);
    let (again, _, elements) = app::exec(store, uid, &fields, store::real_time(None)).unwrap();
    assert_eq!((again, elements), (ExecOutcome::AlreadyExecuted, 0));
    assert!(app::show(store, d.process_id).unwrap().log.iter().filter(|l| l.contains("executed first")).count() == 1);

    let other = start(store, "UsrApprove");
    let (_, cancelled) = app::cancel(store, other.process_id, "ops").unwrap();
    assert_eq!(cancelled.status, Status::Cancelled);
    assert!(app::exec(store, other.waiting[0].uid, &fields, store::real_time(None)).is_err());
    assert!(matches!(app::cancel(store, d.process_id, "ops"), Err(StoreError::Finished { .. })));
    let listed =
        app::list(store, &store::ListFilter { status: Some(Status::Cancelled), ..Default::default() }).unwrap();
    assert_eq!(listed.iter().map(|s| s.id).collect::<Vec<_>>(), [other.process_id]);
}
