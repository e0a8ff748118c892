//! One store test suite for every backend: each test body is written once,
//! generic over [`Backend`], and `store_tests!` instantiates it for SQLite
//! and for PostgreSQL (a throwaway server, tests/support/pg.rs). A
//! "node" is a separate connection to the same store, as a second
//! `procdsl` process or service node would have.

#[cfg(feature = "postgres")]
#[path = "support/pg.rs"]
mod pg;

use jiff::{SignedDuration, Timestamp};
use procdsl::runtime::descriptor::Descriptor;
use procdsl::runtime::engine::RunOptions;
use procdsl::runtime::engine::{ExecOutcome, Run};
use procdsl::runtime::instance::Status;
use procdsl::store::{
    self, CancelOutcome, Cursor, ListFilter, ProcessStore, Save, Store, StoreError, StoredSession, Write, Written,
    PAGE_SIZE,
};
use procdsl::Engine;
use std::collections::HashSet;
use std::sync::{Arc, Barrier};
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
    timer Wait after "PT1H" -> Fired
    script Fired { log "fired" } -> Done
    end Done
}

process UsrReviewAll {
    in Reviewers: List<Text> = ["alice", "bob", "carol"]
    start Begin -> Review
    user Review "Review" for each Reviewer in Reviewers {
        in Comment: Text
        done { log "executed {Reviewer} {Comment}" }
    } -> Done
    end Done
}

process UsrListen {
    start Begin -> Hear
    signal Hear "Go" -> Heard
    script Heard { log "heard" } -> Done
    end Done
}
"#;

/// A store under test; `node()` opens another connection to it.
trait Backend: Sync {
    type Node: ProcessStore + Send + 'static;
    fn node(&self) -> Self::Node;
    /// Whether a claim of one node keeps the work from another (SQLite,
    /// one node per file, grants every claim).
    fn shares_claims(&self) -> bool {
        true
    }
}

struct Sqlite {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl Backend for Sqlite {
    type Node = Store;
    fn node(&self) -> Store {
        Store::open(&self.path).unwrap()
    }
    fn shares_claims(&self) -> bool {
        false
    }
}

fn sqlite() -> Sqlite {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    Sqlite { _dir: dir, path }
}

#[cfg(feature = "postgres")]
struct Postgres {
    _server: Arc<pg::PgServer>,
    url: String,
}

#[cfg(feature = "postgres")]
impl Backend for Postgres {
    type Node = procdsl::store::postgres::PgStore;
    fn node(&self) -> Self::Node {
        let options = procdsl::store::postgres::PgOptions { max_connections: 2, ..Default::default() };
        procdsl::store::postgres::PgStore::connect(&self.url, options).unwrap()
    }
}

#[cfg(feature = "postgres")]
fn postgres() -> Option<Postgres> {
    pg::fresh_database().map(|(server, url)| Postgres { _server: server, url })
}

/// Every test body, for SQLite and for PostgreSQL.
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(&super::sqlite()) } )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $( #[test] fn $name() { if let Some(b) = super::postgres() { super::$name(&b) } } )*
        }
    };
}

store_tests!(
    a_saved_instance_loads_on_another_node,
    racing_execs_of_one_uid_execute_it_once,
    a_due_timer_fires_once_across_two_nodes,
    a_signal_wakes_each_waiting_instance_once,
    cancel_stops_an_instance_once,
    list_filters_by_status_and_process,
    an_unknown_uid_is_refused,
    copy_all_moves_every_row_and_keeps_executed_uids,
    a_batch_undoes_a_failed_write_alone_and_executes_once,
    a_conflict_in_a_batch_of_saves_writes_nothing_and_the_others_commit,
    a_list_pages_by_cursor,
    a_stale_save_is_refused_and_an_idempotency_key_kept_once,
    a_signal_waits_in_the_outbox_and_skips_later_waits,
    sessions_are_shared_by_nodes_capped_per_user_and_expire,
    claims_of_one_node_keep_its_work_from_the_other,
    each_item_of_a_multi_instance_task_executes_once,
);

fn engine() -> Engine {
    Engine::from_source("backends.proc", SOURCE).unwrap()
}

fn t0() -> Timestamp {
    "2026-11-28T12:00:00Z".parse().unwrap()
}

/// Starts a process, runs it until it waits (clock pinned at `t0`), saves it.
fn start(store: &mut dyn ProcessStore, code: &str) -> Uuid {
    let mut instance = engine().start(code, Vec::<(String, String)>::new()).unwrap();
    let mut run = Run::new(store::real_time(Some(t0())));
    store::run_on(&mut instance, &mut run);
    store.save_run(&instance, &run).unwrap();
    instance.id
}

/// Fires the timers due at `now` as every front end does (`app::tick`):
/// pages of due instances, loaded, run here, saved expecting the version
/// loaded. Returns the instances this call moved (a save that lost a race
/// moved nothing).
fn tick(store: &mut dyn ProcessStore, now: Timestamp) -> Vec<Descriptor> {
    procdsl::app::tick(store, now).unwrap()
}

/// Every signal in the outbox, page by page, each page run here and
/// committed with version checks (`app::deliver_all`).
fn deliver(store: &mut dyn ProcessStore, options: &RunOptions) -> Result<Vec<Descriptor>, StoreError> {
    procdsl::app::deliver_all(store, options)
}

/// Throws a signal from outside and delivers it.
fn signal(store: &mut dyn ProcessStore, name: &str) -> Vec<Descriptor> {
    procdsl::app::signal(store, name, store::real_time(None)).unwrap()
}

fn cancel(store: &mut dyn ProcessStore, id: Uuid) -> Result<(CancelOutcome, Descriptor), StoreError> {
    store.cancel_many(&[id], "local").unwrap().remove(0)
}

fn waiting_uid(store: &mut dyn ProcessStore, id: Uuid) -> Uuid {
    store.load(id).unwrap().descriptor(None).waiting[0].uid
}

fn fields(comment: &str) -> Vec<(String, String)> {
    vec![("Comment".to_string(), comment.to_string())]
}

fn count(log: &[String], line: &str) -> usize {
    log.iter().filter(|l| l.contains(line)).count()
}

fn a_saved_instance_loads_on_another_node<B: Backend>(b: &B)
where
    B::Node: store::copy::Rows,
{
    let mut one = b.node();
    let id = start(&mut one, "UsrApprove");
    let saved = one.load(id).unwrap().descriptor(None);
    let mut two = b.node();
    let loaded = two.load(id).unwrap().descriptor(None);
    assert_eq!(saved, loaded);
    assert_eq!(loaded.status, Status::Waiting);
    let listed = two.list(&ListFilter::default(), None).unwrap();
    assert_eq!((listed.len(), listed[0].id, listed[0].version, listed[0].waiting), (1, id, 1, 1));
    let uid = loaded.waiting[0].uid;
    let live = |store: &mut B::Node| -> Vec<(String, String, bool)> {
        let rows = store::copy::Rows::instance_rows(store, "", 10).unwrap();
        rows[0].elements.iter().map(|e| (e.uid.clone(), e.kind.clone(), e.live)).collect()
    };
    assert_eq!(live(&mut two), vec![(uid.to_string(), "user".to_string(), true)]);
    let (outcome, d, _) = two.exec(uid, &fields("ok"), store::real_time(None)).unwrap();
    assert_eq!((outcome, d.status), (ExecOutcome::Executed, Status::Completed));
    assert_eq!(one.load(id).unwrap().descriptor(None), d);
    let listed = one.list(&ListFilter::default(), None).unwrap();
    assert_eq!((listed[0].version, listed[0].waiting), (2, 0));
    assert_eq!(live(&mut one), vec![(uid.to_string(), "user".to_string(), false)], "the index row is dead, kept");
}

fn racing_execs_of_one_uid_execute_it_once<B: Backend>(b: &B) {
    const THREADS: usize = 16;
    const ROUNDS: usize = 12;
    let mut setup = b.node();
    let ids: Vec<Uuid> = (0..ROUNDS).map(|_| start(&mut setup, "UsrApprove")).collect();
    let uids: Arc<Vec<Uuid>> = Arc::new(ids.iter().map(|id| waiting_uid(&mut setup, *id)).collect());
    let barrier = Arc::new(Barrier::new(THREADS));
    let executed: Vec<Vec<ExecOutcome>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let mut node = b.node();
                let (uids, barrier) = (uids.clone(), barrier.clone());
                scope.spawn(move || {
                    uids.iter()
                        .map(|uid| {
                            barrier.wait();
                            let (outcome, _, _) =
                                node.exec(*uid, &fields(&format!("thread {t}")), store::real_time(None)).unwrap();
                            outcome
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (round, id) in ids.iter().enumerate() {
        let winners = executed.iter().filter(|per_thread| per_thread[round] == ExecOutcome::Executed).count();
        assert_eq!(winners, 1, "round {round}: {winners} threads executed the element-instance");
        let d = setup.load(*id).unwrap().descriptor(None);
        assert_eq!(d.status, Status::Completed);
        assert_eq!(count(&d.log, "executed thread"), 1, "round {round}: {:?}", d.log);
    }
}

fn a_due_timer_fires_once_across_two_nodes<B: Backend>(b: &B) {
    const INSTANCES: usize = 24;
    let mut setup = b.node();
    let ids: Vec<Uuid> = (0..INSTANCES).map(|_| start(&mut setup, "UsrTimer")).collect();
    assert_eq!(tick(&mut setup, t0() + SignedDuration::from_mins(30)).len(), 0, "nothing is due yet");
    let later = t0() + SignedDuration::from_hours(2);
    let barrier = Barrier::new(2);
    let moved: Vec<Uuid> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let mut node = b.node();
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    tick(&mut node, later).into_iter().map(|d| d.process_id).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(moved.len(), INSTANCES, "each instance moved once across both nodes");
    assert_eq!(moved.iter().collect::<HashSet<_>>().len(), INSTANCES);
    for id in ids {
        let d = setup.load(id).unwrap().descriptor(None);
        assert_eq!((d.status, count(&d.log, "fired")), (Status::Completed, 1));
    }
    assert!(tick(&mut setup, later).is_empty(), "a fired timer does not fire again");
}

fn a_signal_wakes_each_waiting_instance_once<B: Backend>(b: &B) {
    const LISTENERS: usize = 10;
    let mut setup = b.node();
    let ids: Vec<Uuid> = (0..LISTENERS).map(|_| start(&mut setup, "UsrListen")).collect();
    let approve = start(&mut setup, "UsrApprove");
    let barrier = Barrier::new(2);
    let woken: Vec<Uuid> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let mut node = b.node();
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    signal(&mut node, "Go").into_iter().map(|d| d.process_id).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(woken.len(), LISTENERS);
    assert_eq!(woken.iter().collect::<HashSet<_>>(), ids.iter().collect::<HashSet<_>>());
    for id in ids {
        let d = setup.load(id).unwrap().descriptor(None);
        assert_eq!((d.status, count(&d.log, "heard")), (Status::Completed, 1));
    }
    assert_eq!(setup.load(approve).unwrap().status, Status::Waiting, "an instance not listening is left alone");
    assert!(signal(&mut setup, "Go").is_empty());
}

fn cancel_stops_an_instance_once<B: Backend>(b: &B) {
    let mut one = b.node();
    let id = start(&mut one, "UsrApprove");
    let uid = waiting_uid(&mut one, id);
    let mut two = b.node();
    let (outcome, d) = cancel(&mut two, id).unwrap();
    assert_eq!((outcome, d.status), (CancelOutcome::Cancelled, Status::Cancelled));
    assert_eq!(cancel(&mut one, id).unwrap().0, CancelOutcome::AlreadyCancelled);
    let refused = one.exec(uid, &fields("late"), store::real_time(None)).unwrap_err();
    assert!(matches!(refused, StoreError::Exec(_)), "{refused}");
    let done = start(&mut one, "UsrApprove");
    let uid = waiting_uid(&mut one, done);
    one.exec(uid, &fields("ok"), store::real_time(None)).unwrap();
    assert!(matches!(cancel(&mut two, done), Err(StoreError::Finished { status: Status::Completed, .. })));
    let missing = cancel(&mut two, Uuid::new_v4()).unwrap_err();
    assert!(matches!(missing, StoreError::UnknownInstance { .. }), "{missing}");
    let mut counts = two.count_by_status().unwrap();
    counts.sort_by_key(|(s, _)| s.as_str());
    assert_eq!(counts, vec![(Status::Cancelled, 1), (Status::Completed, 1)]);
}

fn list_filters_by_status_and_process<B: Backend>(b: &B) {
    let mut store = b.node();
    let approvals: Vec<Uuid> = (0..3).map(|_| start(&mut store, "UsrApprove")).collect();
    let timers: Vec<Uuid> = (0..2).map(|_| start(&mut store, "UsrTimer")).collect();
    let uid = waiting_uid(&mut store, approvals[1]);
    store.exec(uid, &fields("ok"), store::real_time(None)).unwrap();
    let ids = |filter: ListFilter, store: &mut B::Node| -> Vec<Uuid> {
        store.list(&filter, None).unwrap().into_iter().map(|s| s.id).collect::<Vec<_>>()
    };
    let mut all: Vec<Uuid> = approvals.iter().chain(&timers).copied().collect();
    all.sort();
    let mut listed = ids(ListFilter::default(), &mut store);
    listed.sort();
    assert_eq!(listed, all);
    let timer_ids = ids(ListFilter { process: Some("UsrTimer".into()), ..Default::default() }, &mut store);
    assert_eq!(timer_ids.iter().collect::<HashSet<_>>(), timers.iter().collect::<HashSet<_>>());
    let completed = ids(ListFilter { status: Some(Status::Completed), ..Default::default() }, &mut store);
    assert_eq!(completed, vec![approvals[1]]);
    let waiting_approvals =
        ListFilter { status: Some(Status::Waiting), process: Some("UsrApprove".into()), limit: None };
    assert_eq!(ids(waiting_approvals, &mut store).len(), 2);
    assert_eq!(ids(ListFilter { limit: Some(4), ..Default::default() }, &mut store).len(), 4);
}

fn an_unknown_uid_is_refused<B: Backend>(b: &B) {
    let mut store = b.node();
    let e = store.exec(Uuid::new_v4(), &fields("x"), store::real_time(None)).unwrap_err();
    assert!(matches!(e, StoreError::Exec(_)), "{e}");
}

/// From this backend into a fresh SQLite store and back into this backend
/// (another database of it, for PostgreSQL: see `copy_between_sqlite_and_postgres`),
/// every row equal; the copy continues where the source stood.
fn copy_all_moves_every_row_and_keeps_executed_uids<B: Backend>(b: &B)
where
    B::Node: store::copy::Rows,
{
    let mut source = b.node();
    let waiting = start(&mut source, "UsrApprove");
    let done = start(&mut source, "UsrApprove");
    let done_uid = waiting_uid(&mut source, done);
    source.exec(done_uid, &fields("before the copy"), store::real_time(None)).unwrap();
    start(&mut source, "UsrTimer");
    let target = sqlite();
    let mut copy = target.node();
    let report = store::copy_all(&mut source, &mut copy).unwrap();
    assert_eq!((report.programs, report.instances), (1, 3));
    assert_eq!(rows(&mut source), rows(&mut copy));
    let (outcome, _, _) = ProcessStore::exec(&mut copy, done_uid, &fields("again"), store::real_time(None)).unwrap();
    assert_eq!(outcome, ExecOutcome::AlreadyExecuted);
    let uid = waiting_uid(&mut copy, waiting);
    assert_eq!(
        ProcessStore::exec(&mut copy, uid, &fields("after"), store::real_time(None)).unwrap().0,
        ExecOutcome::Executed
    );
    let again = store::copy_all(&mut copy, &mut source).unwrap();
    assert_eq!(again.instances, 3);
    assert_eq!(rows(&mut source), rows(&mut copy));
    assert_eq!(source.load(waiting).unwrap().status, Status::Completed);
}

/// A batch of versioned saves (on PostgreSQL each one statement, without a
/// savepoint of its own): the one saved by another node since it was
/// loaded is a conflict and changes nothing, its index rows included; the
/// others commit.
fn a_conflict_in_a_batch_of_saves_writes_nothing_and_the_others_commit<B: Backend>(b: &B) {
    let mut store = b.node();
    let ids: Vec<Uuid> = (0..3).map(|_| start(&mut store, "UsrApprove")).collect();
    let loaded: Vec<_> = ids.iter().map(|id| store.load_versioned(*id).unwrap()).collect();
    let expected: Vec<i64> = loaded.iter().map(|v| v.version + 1).collect();
    let mut other = b.node();
    let first = other.load_versioned(ids[1]).unwrap();
    other.save_if_unchanged(&first.instance, Some(first.version)).unwrap();
    let saves = loaded
        .into_iter()
        .map(|v| {
            let save = Save { instance: v.instance, emitted: Vec::new(), expected: Some(v.version), key: None };
            Write::Save(Box::new(save))
        })
        .collect();
    let results = store.write_batch(saves);
    assert!(matches!(results[0], Ok(Written::Saved(_))), "{:?}", results[0].as_ref().err());
    assert!(matches!(results[1], Err(StoreError::Conflict { id }) if id == ids[1]), "{:?}", results[1].as_ref().err());
    assert!(matches!(results[2], Ok(Written::Saved(_))), "{:?}", results[2].as_ref().err());
    let versions: Vec<i64> = ids.iter().map(|id| other.load_versioned(*id).unwrap().version).collect();
    assert_eq!(versions, expected, "the conflicting save wrote nothing, the others one version each");
    let uid = waiting_uid(&mut other, ids[1]);
    assert_eq!(other.load_by_uid(uid).unwrap().instance.id, ids[1], "its index rows are intact");
}

fn a_batch_undoes_a_failed_write_alone_and_executes_once<B: Backend>(b: &B) {
    let mut store = b.node();
    let options = store::real_time(None);
    let saves: Vec<Write> = (0..3)
        .map(|_| {
            let mut instance = engine().start("UsrApprove", Vec::<(String, String)>::new()).unwrap();
            let mut run = Run::new(options.clone());
            store::run_on(&mut instance, &mut run);
            Write::SaveRun { instance: Box::new(instance), emitted: run.emitted, options: options.clone() }
        })
        .collect();
    let ids: Vec<Uuid> = store
        .write_batch(saves)
        .into_iter()
        .map(|w| match w.unwrap() {
            Written::Saved(i) => i.id,
            _ => panic!("a save answered as another write"),
        })
        .collect();
    let mut other = b.node();
    let uids: Vec<Uuid> = ids.iter().map(|id| waiting_uid(&mut other, *id)).collect();
    let exec = |uid, comment: &str| Write::Exec { uid, fields: fields(comment), options: options.clone() };
    let results = store.write_batch(vec![
        exec(uids[0], "first"),
        exec(uids[0], "second"),
        exec(Uuid::new_v4(), "unknown"),
        Write::Exec { uid: uids[1], fields: vec![], options: options.clone() },
        exec(uids[2], "third"),
    ]);
    let outcomes: Vec<Result<ExecOutcome, String>> = results
        .into_iter()
        .map(|r| match r {
            Ok(Written::Exec(outcome, _, _)) => Ok(outcome),
            Ok(_) => panic!("an exec answered as another write"),
            Err(e) => Err(e.to_string()),
        })
        .collect();
    assert_eq!(outcomes[0], Ok(ExecOutcome::Executed));
    assert_eq!(outcomes[1], Ok(ExecOutcome::AlreadyExecuted));
    assert!(outcomes[2].as_ref().unwrap_err().contains("no waiting element-instance"), "{:?}", outcomes[2]);
    assert!(outcomes[3].as_ref().unwrap_err().contains("required"), "{:?}", outcomes[3]);
    assert_eq!(outcomes[4], Ok(ExecOutcome::Executed));
    assert_eq!(other.load(ids[0]).unwrap().descriptor(None).log, ["executed first"]);
    assert_eq!(other.load(ids[1]).unwrap().status, Status::Waiting, "the failed write was undone alone");
    assert_eq!(other.load(ids[2]).unwrap().status, Status::Completed);
}

fn a_list_pages_by_cursor<B: Backend>(b: &B) {
    let mut store = b.node();
    let mut started: Vec<Uuid> = (0..5).map(|_| start(&mut store, "UsrApprove")).collect();
    start(&mut store, "UsrTimer");
    let approvals = ListFilter { process: Some("UsrApprove".into()), limit: Some(2), ..Default::default() };
    let mut paged = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = store.list(&approvals, after.as_ref()).unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(Cursor { created: last.created.clone(), id: last.id });
        paged.extend(page.iter().map(|s| s.id));
    }
    let whole: Vec<Uuid> =
        store.list(&ListFilter { limit: None, ..approvals }, None).unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(paged, whole, "pages in order, none twice, none left out");
    started.sort();
    paged.sort();
    assert_eq!(paged, started);
    let counts = store.count_by_status().unwrap();
    assert_eq!(counts, vec![(Status::Waiting, 6)]);
}

fn a_stale_save_is_refused_and_an_idempotency_key_kept_once<B: Backend>(b: &B) {
    let mut one = b.node();
    let mut two = b.node();
    let id = start(&mut one, "UsrApprove");
    let loaded = one.load_versioned(id).unwrap();
    assert_eq!(loaded.version, 1);
    let uid = waiting_uid(&mut two, id);
    two.exec(uid, &fields("on two"), store::real_time(None)).unwrap();
    let stale = Save { instance: loaded.instance, emitted: vec![], expected: Some(1), key: None };
    let refused = one.write_batch(vec![Write::Save(Box::new(stale))]).remove(0);
    assert!(matches!(refused, Err(StoreError::Conflict { .. })), "a save of version 1 after version 2");
    let by_uid = one.load_by_uid(uid).unwrap();
    assert_eq!((by_uid.instance.id, by_uid.version, by_uid.instance.status), (id, 2, Status::Completed));
    let new = |key: &str| {
        let mut instance = engine().start("UsrApprove", Vec::<(String, String)>::new()).unwrap();
        let mut run = Run::new(store::real_time(None));
        store::run_on(&mut instance, &mut run);
        let save = Save { instance, emitted: run.emitted, expected: None, key: Some((key.into(), format!("{key}!"))) };
        Write::Save(Box::new(save))
    };
    let first = match one.write_batch(vec![new("k1")]).remove(0).unwrap() {
        Written::Saved(i) => i.id,
        _ => panic!("a save answered as another write"),
    };
    assert_eq!(two.remembered("k1").unwrap(), Some((first, "k1!".to_string())));
    let results = two.write_batch(vec![new("k1"), new("k2")]);
    assert!(matches!(&results[0], Err(StoreError::KeyUsed { key }) if key == "k1"));
    let second = match &results[1] {
        Ok(Written::Saved(i)) => i.id,
        _ => panic!("the other write of the batch was kept"),
    };
    assert_eq!(one.remembered("k2").unwrap(), Some((second, "k2!".to_string())));
    assert_eq!(one.remembered("k3").unwrap(), None);
    assert_eq!(one.list(&ListFilter::default(), None).unwrap().len(), 3, "the refused save wrote nothing");
}

fn a_signal_waits_in_the_outbox_and_skips_later_waits<B: Backend>(b: &B) {
    let mut store = b.node();
    let early: HashSet<Uuid> = (0..2).map(|_| start(&mut store, "UsrListen")).collect();
    assert_eq!(store.throw("Nobody").unwrap(), None, "nobody waits: nothing is queued");
    let row = store.throw("Go").unwrap().expect("queued");
    assert_eq!(store.thrown_by(Uuid::nil()).unwrap(), vec![row]);
    let late = start(&mut store, "UsrListen");
    let woken: HashSet<Uuid> =
        deliver(&mut store, &store::real_time(None)).unwrap().into_iter().map(|d| d.process_id).collect();
    assert_eq!(woken, early);
    assert_eq!(store.load(late).unwrap().status, Status::Waiting, "its wait began after the throw");
    assert!(store.thrown_by(Uuid::nil()).unwrap().is_empty(), "the row is gone once delivered");
    assert!(store.signal_page(None, &[], PAGE_SIZE).unwrap().is_none());
}

type AllRows = (Vec<store::copy::ProgramRow>, Vec<store::copy::InstanceRow>);

fn rows(store: &mut dyn store::copy::Rows) -> AllRows {
    (store.program_rows().unwrap(), store.instance_rows("", 1000).unwrap())
}

#[cfg(feature = "postgres")]
mod postgres_only {
    //! What only the PostgreSQL store has: leases, versioned saves,
    //! sessions, schema versions, copies to and from SQLite.

    use super::*;
    use procdsl::store::copy::{InstanceRow, ProgramRow};
    use procdsl::store::postgres::{schema, PgOptions, PgStore};
    use std::time::Duration;

    fn node(url: &str, name: &str) -> PgStore {
        let options = PgOptions {
            max_connections: 2,
            lease: Duration::from_secs(60),
            node: name.to_string(),
            ..PgOptions::default()
        };
        PgStore::connect(url, options).unwrap()
    }

    #[test]
    fn a_timer_lease_of_a_dead_node_is_taken_over_after_it_expires() {
        let Some((_server, url)) = pg::fresh_database() else { return };
        let (mut a, b) = (node(&url, "a"), node(&url, "b"));
        let id = start(&mut a, "UsrTimer");
        let due = t0() + SignedDuration::from_hours(2);
        assert_eq!(a.claim_due_timers(due, 10).unwrap(), vec![id]);
        // Node a "dies" here, holding the lease.
        assert_eq!(b.claim_due_timers(due, 10).unwrap(), Vec::<Uuid>::new(), "a's lease is live");
        assert_eq!(b.lease_holder(&format!("timer:{id}")).unwrap().map(|(h, _)| h).as_deref(), Some("a"));
        let expired = due + SignedDuration::from_secs(61);
        assert_eq!(b.claim_due_timers(expired, 10).unwrap(), vec![id], "taken over after expiry");
        assert!(a.fire_claimed(id, due).unwrap().is_empty(), "a lost its lease and fires nothing");
        let moved = b.fire_claimed(id, expired).unwrap();
        assert_eq!(moved.len(), 1);
        let d = b.clone().load(id).unwrap().descriptor(None);
        assert_eq!((d.status, count(&d.log, "fired")), (Status::Completed, 1));
        assert_eq!(b.lease_holder(&format!("timer:{id}")).unwrap(), None, "the lease is given back");
    }

    #[test]
    fn a_background_run_is_held_by_one_node_until_its_lease_expires() {
        let Some((_server, url)) = pg::fresh_database() else { return };
        let (mut a, b) = (node(&url, "a"), node(&url, "b"));
        let mut instance = engine().start("UsrApprove", Vec::<(String, String)>::new()).unwrap();
        let id = instance.id;
        a.save_run(&instance, &Run::new(store::real_time(Some(t0())))).unwrap();
        assert_eq!(a.load(id).unwrap().status, Status::Running);
        assert!(a.acquire_run(id, t0()).unwrap());
        assert!(!b.acquire_run(id, t0()).unwrap(), "a holds it");
        assert!(b.claim_runs(t0(), 10).unwrap().is_empty());
        assert!(a.acquire_run(id, t0() + SignedDuration::from_secs(50)).unwrap(), "a renews its lease");
        assert!(b.claim_runs(t0() + SignedDuration::from_secs(70), 10).unwrap().is_empty(), "renewed until 110 s");
        assert_eq!(b.claim_runs(t0() + SignedDuration::from_secs(111), 10).unwrap(), vec![id]);
        assert!(!a.release_run(id).unwrap(), "a lost it to b");
        let mut run = Run::new(store::real_time(Some(t0())));
        store::run_on(&mut instance, &mut run);
        b.clone().save_run(&instance, &run).unwrap();
        assert!(b.release_run(id).unwrap());
        assert!(b.claim_runs(t0() + SignedDuration::from_hours(1), 10).unwrap().is_empty(), "it waits now");
    }

    #[test]
    fn a_versioned_save_refuses_a_stale_version() {
        let Some((_server, url)) = pg::fresh_database() else { return };
        let (a, b) = (node(&url, "a"), node(&url, "b"));
        let mut instance = engine().start("UsrApprove", Vec::<(String, String)>::new()).unwrap();
        let mut run = Run::new(store::real_time(Some(t0())));
        store::run_on(&mut instance, &mut run);
        assert_eq!(a.save_versioned(&instance, &run, None).unwrap(), 1);
        assert!(matches!(b.save_versioned(&instance, &run, None), Err(StoreError::Conflict { .. })), "not new");
        let store::Versioned { instance: mut on_a, version } = a.clone().load_versioned(instance.id).unwrap();
        let on_b = b.clone().load_versioned(instance.id).unwrap().instance;
        let uid = on_a.descriptor(None).waiting[0].uid;
        let mut run = Run::new(store::real_time(None));
        on_a.exec_only(uid, &fields("a"), &mut run).unwrap();
        store::run_on(&mut on_a, &mut run);
        assert_eq!(a.save_versioned(&on_a, &run, Some(version)).unwrap(), 2);
        let stale = b.save_versioned(&on_b, &Run::new(store::real_time(None)), Some(version)).unwrap_err();
        assert!(matches!(stale, StoreError::Conflict { .. }), "{stale}");
        assert_eq!(b.clone().load(instance.id).unwrap().status, Status::Completed, "nothing of b was written");
    }

    #[test]
    fn the_schema_is_versioned_and_foreign_or_newer_databases_are_refused() {
        let Some((server, url)) = pg::fresh_database() else { return };
        let (a, b) = (node(&url, "a"), node(&url, "b"));
        assert_eq!((a.schema_version().unwrap(), b.schema_version().unwrap()), (schema::SCHEMA_VERSION, 5));
        let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
        let steps: i64 = client.query_one("SELECT COUNT(*) FROM procdsl_schema", &[]).unwrap().get(0);
        assert_eq!(steps, 5, "a second node does not migrate again");
        client.batch_execute("INSERT INTO procdsl_schema VALUES (9, 'later')").unwrap();
        let newer = PgStore::connect(&url, PgOptions::default()).unwrap_err();
        assert!(matches!(newer, StoreError::NewerSchema { found: 9, supported: 5, .. }), "{newer}");
        let other = server.create_database();
        let mut client = ::postgres::Client::connect(&other, ::postgres::NoTls).unwrap();
        client.batch_execute("CREATE TABLE customers (id INTEGER)").unwrap();
        let foreign = PgStore::connect(&other, PgOptions::default()).unwrap_err();
        assert!(matches!(foreign, StoreError::Foreign { .. }), "{foreign}");
    }

    /// A new database at schema `version`, holding these rows as that
    /// version's release wrote them.
    fn database_at(
        server: &pg::PgServer,
        version: usize,
        programs: &[ProgramRow],
        instances: &[InstanceRow],
    ) -> String {
        let url = server.create_database();
        let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
        client.batch_execute(schema::VERSION_TABLE).unwrap();
        for (step, sql) in (1_i64..).zip(&schema::MIGRATIONS[..version]) {
            client.batch_execute(sql).unwrap();
            client.execute("INSERT INTO procdsl_schema VALUES ($1, '2026-11-28T12:00:00.000Z')", &[&step]).unwrap();
        }
        for p in programs {
            client.execute("INSERT INTO programs VALUES ($1, $2)", &[&p.hash, &p.files]).unwrap();
        }
        for i in instances {
            client
                .execute(
                    "INSERT INTO instances VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        &i.id, &i.program, &i.process, &i.status, &i.format, &i.state, &i.version, &i.created,
                        &i.updated,
                    ],
                )
                .unwrap();
            for e in &i.elements {
                client
                    .execute(
                        "INSERT INTO element_instances (uid, instance, kind, live, signal, due)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                        &[&e.uid, &i.id, &e.kind, &e.live, &e.signal, &e.due],
                    )
                    .unwrap();
            }
        }
        url
    }

    /// A database written by the first PostgreSQL release (schema v1) is
    /// migrated to v2 on connect, and its waiting instances get signals
    /// through the outbox (their index rows were numbered by the migration).
    #[test]
    fn a_version_1_database_is_migrated_forward() {
        let Some((server, _)) = pg::fresh_database() else { return };
        let sqlite = sqlite();
        let mut source = sqlite.node();
        let listener = start(&mut source, "UsrListen");
        let approval = start(&mut source, "UsrApprove");
        let (programs, instances) = rows(&mut source);
        let url = database_at(&server, 1, &programs, &instances);
        let mut pg = node(&url, "a");
        assert_eq!(pg.schema_version().unwrap(), schema::SCHEMA_VERSION);
        assert_eq!(rows(&mut pg), (programs, instances), "the migration changed no row");
        let woken: Vec<Uuid> = signal(&mut pg, "Go").into_iter().map(|d| d.process_id).collect();
        assert_eq!(woken, vec![listener]);
        let page = pg.list(&ListFilter { limit: Some(1), ..Default::default() }, None).unwrap();
        let after = Cursor { created: page[0].created.clone(), id: page[0].id };
        let rest = pg.list(&ListFilter::default(), Some(&after)).unwrap();
        let mut all: Vec<Uuid> = page.iter().chain(&rest).map(|s| s.id).collect();
        all.sort();
        let mut expected = vec![listener, approval];
        expected.sort();
        assert_eq!(all, expected);
    }

    /// Version 4 to 5 drops two indexes: a signal's horizon comes from the
    /// `seq` sequence instead of `MAX(seq)`, so a signal thrown after the
    /// migration still reaches the instances that waited before it and
    /// skips a wait that begins after it; a finished UId is still found.
    #[test]
    fn a_version_4_database_is_migrated_to_5() {
        let Some((server, _)) = pg::fresh_database() else { return };
        let sqlite = sqlite();
        let mut source = sqlite.node();
        let listener = start(&mut source, "UsrListen");
        let done = start(&mut source, "UsrApprove");
        let done_uid = waiting_uid(&mut source, done);
        source.exec(done_uid, &fields("before"), store::real_time(None)).unwrap();
        let (programs, instances) = rows(&mut source);
        let url = database_at(&server, 4, &programs, &instances);
        let mut pg = node(&url, "a");
        assert_eq!(pg.schema_version().unwrap(), 5);
        let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
        let gone: i64 = client
            .query_one(
                "SELECT COUNT(*) FROM pg_indexes
                  WHERE indexname IN ('element_instances_by_seq', 'element_instances_by_due')",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(gone, 0);
        assert_eq!(rows(&mut pg), (programs, instances), "the migration changed no row");
        assert_eq!(pg.exec(done_uid, &fields("x"), store::real_time(None)).unwrap().0, ExecOutcome::AlreadyExecuted);
        let outbox = pg.throw("Go").unwrap().expect("a waiter: the signal is queued");
        let late = start(&mut pg, "UsrListen");
        let woken: Vec<Uuid> =
            deliver(&mut pg, &store::real_time(None)).unwrap().into_iter().map(|d| d.process_id).collect();
        assert_eq!(woken, vec![listener], "outbox row {outbox}");
        assert_eq!(pg.load(late).unwrap().status, Status::Waiting, "its wait began after the throw");
    }

    #[test]
    fn a_server_that_is_not_there_is_unavailable_within_the_timeout() {
        let options = PgOptions { connect_timeout: Duration::from_millis(300), ..PgOptions::default() };
        let e = PgStore::connect("postgres://app:secret@127.0.0.1:1/procdsl", options).unwrap_err();
        assert!(matches!(e, StoreError::Unavailable { .. }), "{e}");
        assert!(
            e.to_string().contains("postgres://app@127.0.0.1:1/procdsl") && !e.to_string().contains("secret"),
            "{e}"
        );
    }

    #[test]
    fn copy_between_sqlite_and_postgres_both_ways() {
        let Some((_server, url)) = pg::fresh_database() else { return };
        let sqlite = sqlite();
        let mut source = sqlite.node();
        let waiting = start(&mut source, "UsrApprove");
        let done = start(&mut source, "UsrApprove");
        let done_uid = waiting_uid(&mut source, done);
        source.exec(done_uid, &fields("in sqlite"), store::real_time(None)).unwrap();
        start(&mut source, "UsrListen");
        let mut pg = node(&url, "a");
        let report = store::copy_all(&mut source, &mut pg).unwrap();
        assert_eq!((report.programs, report.instances), (1, 3));
        assert_eq!(rows(&mut source), rows(&mut pg));
        assert_eq!(pg.exec(done_uid, &fields("x"), store::real_time(None)).unwrap().0, ExecOutcome::AlreadyExecuted);
        assert_eq!(signal(&mut pg, "Go").len(), 1, "the signal index was copied");
        let uid = waiting_uid(&mut pg, waiting);
        pg.exec(uid, &fields("in postgres"), store::real_time(None)).unwrap();
        let back = super::sqlite();
        let mut back_store = back.node();
        store::copy_all(&mut pg, &mut back_store).unwrap();
        assert_eq!(rows(&mut pg), rows(&mut back_store));
        let d = back_store.load(waiting).unwrap().descriptor(None);
        assert_eq!((d.status, count(&d.log, "executed in postgres")), (Status::Completed, 1));
    }
}

#[cfg(feature = "postgres")]
mod postgres_faults {
    //! The database going away and coming back, on a server of its own (the
    //! other tests share one).

    use super::*;
    use procdsl::store::postgres::{PgOptions, PgStore};
    use std::time::Duration;

    #[test]
    fn a_store_recovers_by_itself_after_the_server_restarts() {
        let Some(bin) = pg::bin_dir() else {
            let _ = pg::shared(); // skips loudly, or fails in CI
            return;
        };
        let server = pg::PgServer::start(&bin, false).unwrap();
        let url = server.create_database();
        let options = PgOptions { max_connections: 2, connect_timeout: Duration::from_secs(1), ..PgOptions::default() };
        let mut store = PgStore::connect(&url, options).unwrap();
        let id = start(&mut store, "UsrApprove");
        let uid = waiting_uid(&mut store, id);
        server.stop().unwrap();
        let down = store.exec(uid, &fields("while down"), store::real_time(None)).unwrap_err();
        assert!(matches!(down, StoreError::Unavailable { .. } | StoreError::Postgres(_)), "{down}");
        assert!(down.is_unavailable(), "the service answers it with 503: {down:?}");
        server.resume().unwrap();
        let (outcome, d, _) = store.exec(uid, &fields("after the restart"), store::real_time(None)).unwrap();
        assert_eq!((outcome, d.status), (ExecOutcome::Executed, Status::Completed));
        assert_eq!(count(&d.log, "executed"), 1, "the failed exec wrote nothing");
    }
}

fn session(key: &str, user: &str, created: Timestamp) -> StoredSession {
    StoredSession {
        key: key.into(),
        user: user.into(),
        csrf: format!("csrf-{key}"),
        created,
        last_used: created,
        expires: created + SignedDuration::from_hours(1),
    }
}

/// A session saved through one node is found through the other, ends on
/// both when one ends it, expires, and a user past the cap loses their own
/// oldest session only.
fn sessions_are_shared_by_nodes_capped_per_user_and_expire(backend: &impl Backend) {
    let (mut a, mut b) = (backend.node(), backend.node());
    let k1 = session("k1", "Supervisor", t0());
    a.save_session(&k1, 3, 100).unwrap();
    assert_eq!(b.find_session("k1", t0()).unwrap(), Some(k1.clone()));
    assert_eq!(b.find_session("k2", t0()).unwrap(), None);
    let later = t0() + SignedDuration::from_secs(5);
    b.touch_session("k1", later).unwrap();
    assert_eq!(a.find_session("k1", t0()).unwrap().map(|s| s.last_used), Some(later));
    assert!(b.end_session("k1").unwrap());
    assert_eq!(a.find_session("k1", t0()).unwrap(), None, "ended on every node");
    assert!(!a.end_session("k1").unwrap());

    let bob = session("bob", "Bob", t0());
    a.save_session(&bob, 3, 100).unwrap();
    for i in 0..4 {
        let at = t0() + SignedDuration::from_secs(i);
        a.save_session(&session(&format!("ada{i}"), "Ada", at), 3, 100).unwrap();
    }
    assert_eq!(b.find_session("ada0", t0()).unwrap(), None, "the oldest of Ada's four went");
    assert!(b.find_session("ada1", t0()).unwrap().is_some());
    assert!(b.find_session("ada3", t0()).unwrap().is_some());
    assert!(b.find_session("bob", t0()).unwrap().is_some(), "Bob's session is not Ada's to lose");

    let two_hours = t0() + SignedDuration::from_hours(2);
    assert_eq!(b.find_session("bob", two_hours).unwrap(), None, "expired");
    assert_eq!(a.purge_sessions(two_hours).unwrap(), 3, "Ada's three are purged");
    a.save_session(&session("x", "X", t0()), 3, 1).unwrap();
    a.save_session(&session("y", "Y", t0() + SignedDuration::from_secs(1)), 3, 1).unwrap();
    assert_eq!(b.find_session("x", t0()).unwrap(), None, "past the total, the one expiring first went");
    assert!(b.find_session("y", t0()).unwrap().is_some());
}

/// The lease calls of the trait: a due timer claimed by one node is not
/// handed to the other until it is given back (SQLite, one node per file,
/// grants every claim: both see it, and the versioned save decides).
fn claims_of_one_node_keep_its_work_from_the_other(backend: &impl Backend) {
    let (mut a, mut b) = (backend.node(), backend.node());
    let lease = std::time::Duration::from_secs(60);
    let id = start(&mut a, "UsrTimer");
    let due = t0() + SignedDuration::from_hours(2);
    let (claimed, failed) = a.claim_timers(due, 10, lease).unwrap();
    assert!(failed.is_empty());
    assert_eq!(claimed.iter().map(|v| v.instance.id).collect::<Vec<_>>(), vec![id]);
    let (on_b, _) = b.claim_timers(due, 10, lease).unwrap();
    let shared = backend.shares_claims();
    assert_eq!(on_b.is_empty(), shared, "b sees a's claim");
    a.release_timers(&[id]).unwrap();
    let (on_b, _) = b.claim_timers(due, 10, lease).unwrap();
    assert_eq!(on_b.len(), 1, "given back: b may take it");
    b.release_timers(&[id]).unwrap();

    let mut instance = engine().start("UsrApprove", Vec::<(String, String)>::new()).unwrap();
    assert!(a.hold_run(instance.id, t0(), lease).unwrap());
    a.save_run(&instance, &Run::new(store::real_time(Some(t0())))).unwrap();
    assert_eq!(b.hold_run(instance.id, t0(), lease).unwrap(), !shared, "a holds it");
    let any = Timestamp::MAX;
    let long_ago: Timestamp = "2000-01-01T00:00:00Z".parse().unwrap();
    assert_eq!(b.claim_orphans(t0(), any, 10, lease).unwrap().is_empty(), shared, "not an orphan while held");
    assert_eq!(a.claim_orphans(t0(), any, 10, lease).unwrap().is_empty(), shared, "nor for its own holder");
    let renewed_until_110 = a.renew_runs(&[instance.id], t0() + SignedDuration::from_secs(50), lease).unwrap();
    assert_eq!(renewed_until_110, 1);
    let at = |s: i64| t0() + SignedDuration::from_secs(s);
    assert_eq!(b.claim_orphans(at(100), any, 10, lease).unwrap().is_empty(), shared, "renewed");
    assert!(b.claim_orphans(at(111), long_ago, 10, lease).unwrap().is_empty(), "saved since: not yet an orphan");
    assert_eq!(b.claim_orphans(at(111), any, 10, lease).unwrap(), vec![instance.id], "expired: an orphan");
    if shared {
        assert_eq!(a.renew_runs(&[instance.id], at(112), lease).unwrap(), 0, "a lost it to b");
    }
    let mut run = Run::new(store::real_time(Some(t0())));
    store::run_on(&mut instance, &mut run);
    b.save_run(&instance, &run).unwrap();
    b.release_runs(&[instance.id]).unwrap();
    assert!(b.claim_orphans(at(200), any, 10, lease).unwrap().is_empty(), "it waits now: no run to take");
}

/// Every item of a multi-instance task has its own row and UId; racing
/// execs of all of them from two nodes execute each item exactly once, and
/// the flow goes on after the last.
fn each_item_of_a_multi_instance_task_executes_once<B: Backend>(b: &B)
where
    B::Node: store::copy::Rows,
{
    let mut setup = b.node();
    let id = start(&mut setup, "UsrReviewAll");
    let waiting = setup.load(id).unwrap().descriptor(None).waiting;
    assert_eq!(waiting.iter().map(|w| w.item).collect::<Vec<_>>(), [Some(0), Some(1), Some(2)]);
    let uids: Arc<Vec<Uuid>> = Arc::new(waiting.iter().map(|w| w.uid).collect());
    // One live index row per item, so that `exec UID` finds the instance by any of them.
    let live = |store: &mut B::Node| -> Vec<(String, bool)> {
        let rows = store::copy::Rows::instance_rows(store, "", 10).unwrap();
        let mut rows: Vec<(String, bool)> = rows[0].elements.iter().map(|e| (e.uid.clone(), e.live)).collect();
        rows.sort();
        rows
    };
    let mut expected: Vec<(String, bool)> = uids.iter().map(|u| (u.to_string(), true)).collect();
    expected.sort();
    assert_eq!(live(&mut setup), expected);
    let barrier = Arc::new(Barrier::new(2));
    let executed: Vec<Vec<ExecOutcome>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let mut node = b.node();
                let (uids, barrier) = (uids.clone(), barrier.clone());
                scope.spawn(move || {
                    barrier.wait();
                    uids.iter()
                        .map(|uid| loop {
                            match node.exec(*uid, &fields(&format!("node {t}")), store::real_time(None)) {
                                Ok((outcome, _, _)) => break outcome,
                                // A save that lost the race to the other node: try again.
                                Err(StoreError::Conflict { .. }) => continue,
                                Err(err) => panic!("{err}"),
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for i in 0..uids.len() {
        let winners = executed.iter().filter(|per_node| per_node[i] == ExecOutcome::Executed).count();
        assert_eq!(winners, 1, "item {i}: executed {winners} times");
    }
    let d = setup.load(id).unwrap().descriptor(None);
    assert_eq!(d.status, Status::Completed);
    assert!(live(&mut setup).iter().filter(|(uid, _)| uids.iter().any(|u| u.to_string() == *uid)).all(|(_, l)| !l));
    for who in ["alice", "bob", "carol"] {
        assert_eq!(count(&d.log, &format!("executed {who} ")), 1, "{:?}", d.log);
    }
}
