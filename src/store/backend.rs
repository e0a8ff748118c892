//! The store as the service sees it: one trait, so that another backend
//! (PostgreSQL, for several service nodes on one database) can follow
//! without touching the engine or the service. [`Store`] (SQLite) is the
//! first implementation.
//!
//! Every method is one unit of work that commits before it returns: a
//! caller may answer its client once a method has returned `Ok`.

use super::{
    CancelOutcome, Cursor, ElementInstanceMatch, InstanceMatch, InstanceSummary, ListFilter, SignalPage, Store,
    StoreError, StoredSession, Versioned,
};
use crate::runtime::descriptor::Descriptor;
use crate::runtime::engine::{ExecOutcome, Run, RunOptions};
use crate::runtime::instance::{Instance, Status};
use jiff::Timestamp;
use rusqlite::TransactionBehavior;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// An instance that a run moved, to save: only if nobody saved it since
/// version `expected` (when given), and with the answer kept under an
/// idempotency key (when given; refused when the key is taken).
pub struct Save {
    pub instance: Instance,
    /// The signals its run threw: queued for delivery in the same transaction.
    pub emitted: Vec<Arc<str>>,
    pub expected: Option<i64>,
    /// `(key, answer)`.
    pub key: Option<(String, String)>,
}

/// A page of a signal's delivery, run (see [`SignalPage::run`]).
pub struct Delivered {
    /// The `signal_outbox` row.
    pub outbox: i64,
    pub hops: i64,
    /// The last instance reached when more may follow; `None`: the signal
    /// has reached every waiter.
    pub cursor: Option<String>,
    /// The instances woken, each expecting the version it was loaded as.
    pub saves: Vec<Save>,
}

/// What cancelling each of several instances did.
pub type Cancelled = Vec<Result<(CancelOutcome, Descriptor), StoreError>>;

/// One write of a batch (see [`ProcessStore::write_batch`]).
pub enum Write {
    /// Save an instance that a run moved, and queue the signals it threw.
    SaveRun { instance: Box<Instance>, emitted: Vec<Arc<str>>, options: RunOptions },
    /// The same, with a version check and an idempotency key.
    Save(Box<Save>),
    /// Execute a waiting element-instance exactly once and run on.
    Exec { uid: Uuid, fields: Vec<(String, String)>, options: RunOptions },
    /// Commit a page of a signal's delivery: all its saves or none.
    Delivered(Box<Delivered>),
}

/// What a write did.
pub enum Written {
    /// Saved: the instance, handed back.
    Saved(Box<Instance>),
    /// Executed (or found already executed): the outcome, the descriptor, the elements that ran.
    Exec(ExecOutcome, Box<Descriptor>, u64),
    /// A page delivered; the signals its instances threw that were not passed on.
    Delivered(Vec<StoreError>),
}

/// What a backend must do to keep live instances for the service. Process
/// code never runs in these methods but in [`ProcessStore::exec`] and the
/// `Exec` write (kept for the commands and their tests): the service loads,
/// runs elsewhere, and saves with a version check.
pub trait ProcessStore: Send {
    /// Saves an instance that `run` moved, with its program, and queues
    /// the signals the run threw for delivery.
    fn save_run(&mut self, instance: &Instance, run: &Run) -> Result<(), StoreError>;
    /// Executes a waiting element-instance exactly once (see [`Store::exec`]);
    /// also returns how many elements ran.
    fn exec(
        &mut self,
        uid: Uuid,
        fields: &[(String, String)],
        options: RunOptions,
    ) -> Result<(ExecOutcome, Descriptor, u64), StoreError>;
    /// More handles on this same store, each for a store thread of its own
    /// (see `service::worker`). A backend whose connections commit at once
    /// gives them; by default none, so one thread makes every call (SQLite,
    /// whose writers take turns on one lock).
    fn concurrent_handles(&self) -> Vec<Box<dyn ProcessStore>> {
        Vec::new()
    }
    /// An instance, restored on the definition it runs on.
    fn load(&mut self, id: Uuid) -> Result<Instance, StoreError>;
    /// An instance with the version it was saved as.
    fn load_versioned(&mut self, id: Uuid) -> Result<Versioned, StoreError>;
    /// The instance holding an element-instance, with its version.
    fn load_by_uid(&mut self, uid: Uuid) -> Result<Versioned, StoreError>;
    /// A page of the stored instances, oldest first, after a cursor.
    fn list(&mut self, filter: &ListFilter, after: Option<&Cursor>) -> Result<Vec<InstanceSummary>, StoreError>;
    /// How many instances there are of each status.
    fn count_by_status(&mut self) -> Result<Vec<(Status, u64)>, StoreError>;
    /// Cancels each instance, in one transaction; `actor` (a user or token
    /// name) is recorded in each instance's history.
    fn cancel_many(&mut self, ids: &[Uuid], actor: &str) -> Result<Cancelled, StoreError>;
    /// Up to `limit` instances with a timer due at `now`, loaded.
    fn due(&mut self, now: Timestamp, limit: usize) -> Result<(Vec<Versioned>, Vec<StoreError>), StoreError>;
    /// The next page of a signal waiting to be delivered (see [`Store::signal_page`]).
    fn signal_page(&mut self, only: Option<i64>, skip: &[i64], limit: usize) -> Result<Option<SignalPage>, StoreError>;
    /// Queues a signal thrown from outside; its outbox row, or `None` when nobody waits.
    fn throw(&mut self, name: &str) -> Result<Option<i64>, StoreError>;
    /// The outbox rows of the signals an instance threw and that wait to be delivered.
    fn thrown_by(&mut self, source: Uuid) -> Result<Vec<i64>, StoreError>;
    /// The instance and answer kept under an idempotency key.
    fn remembered(&mut self, key: &str) -> Result<Option<(Uuid, String)>, StoreError>;
    /// Called once when the service stops: leave the store quick to open.
    fn close(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Applies writes in order, all durable with one commit (group
    /// commit); a write that fails is undone alone. By default, one
    /// transaction per write.
    fn write_batch(&mut self, writes: Vec<Write>) -> Vec<Result<Written, StoreError>>;

    // What the commands look up from what a person typed (the app layer,
    // `crate::app`).

    /// The store as messages name it: a path, or a URL without its password.
    fn display_name(&self) -> String;
    /// The stored instances whose id starts with `prefix`, at most `limit`,
    /// in id order. A prefix that cannot start an id finds none.
    fn instances_starting_with(&mut self, prefix: &str, limit: usize) -> Result<Vec<InstanceMatch>, StoreError>;
    /// The element-instances (live or executed) whose UId starts with
    /// `prefix`, at most `limit`, in UId order.
    fn element_instances_starting_with(
        &mut self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<ElementInstanceMatch>, StoreError>;
    /// The process Codes that stored instances run, sorted.
    fn process_codes(&mut self) -> Result<Vec<String>, StoreError>;
    /// The signals that live element-instances wait for, sorted.
    fn waited_signals(&mut self) -> Result<Vec<String>, StoreError>;
    /// Saves an instance held for a while (a REPL session) only if nobody
    /// saved it since version `expected` (`None`: it must be new); returns
    /// the new version, or `Conflict` and writes nothing.
    fn save_if_unchanged(&mut self, instance: &Instance, expected: Option<i64>) -> Result<i64, StoreError>;

    // Several service nodes on one store: sign-in sessions and leases
    // (docs/STORE.md, "Sessions" and "Leases"). A backend that one node
    // owns alone (SQLite) grants every lease: nobody else could take the work.

    /// Keeps a new sign-in session; past `per_user` sessions of its user
    /// the oldest of them ends, past `total` sessions the one that expires first.
    fn save_session(&mut self, session: &StoredSession, per_user: usize, total: usize) -> Result<(), StoreError>;
    /// The session under `key` (a hash) if it is live at `now`; an expired one is deleted.
    fn find_session(&mut self, key: &str, now: Timestamp) -> Result<Option<StoredSession>, StoreError>;
    /// Notes that a session was used at `now` (for the idle time-out).
    fn touch_session(&mut self, key: &str, now: Timestamp) -> Result<(), StoreError>;
    /// Ends a session (Logout) on every node; false when there was none.
    fn end_session(&mut self, key: &str) -> Result<bool, StoreError>;
    /// Deletes the sessions expired at `now`; returns how many.
    fn purge_sessions(&mut self, now: Timestamp) -> Result<u64, StoreError>;
    /// Claims for this node, for `lease`, up to `limit` instances with a
    /// timer due at `now` that no other node holds, and loads them (as
    /// [`ProcessStore::due`]). The caller fires them and then calls
    /// [`ProcessStore::release_timers`].
    fn claim_timers(
        &mut self,
        now: Timestamp,
        limit: usize,
        lease: Duration,
    ) -> Result<(Vec<Versioned>, Vec<StoreError>), StoreError>;
    /// Gives back the timer claims of these instances.
    fn release_timers(&mut self, ids: &[Uuid]) -> Result<(), StoreError>;
    /// Claims for this node, for `lease`, up to `limit` instances left
    /// `Running` whose background run no node holds (never taken, or its
    /// node died and the lease expired) and that nobody saved since
    /// `saved_before` (an instance another program keeps `Running` while it
    /// works on it, such as a REPL stepping it, is not an orphan while it
    /// does). The caller runs each.
    fn claim_orphans(
        &mut self,
        now: Timestamp,
        saved_before: Timestamp,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Uuid>, StoreError>;
    /// Takes the background run of an instance for `lease`; false when
    /// another node holds it.
    fn hold_run(&mut self, id: Uuid, now: Timestamp, lease: Duration) -> Result<bool, StoreError>;
    /// Extends the runs this node holds to `now` plus `lease` (the
    /// heartbeat); returns how many it still held.
    fn renew_runs(&mut self, ids: &[Uuid], now: Timestamp, lease: Duration) -> Result<u64, StoreError>;
    /// Gives back the background runs of these instances.
    fn release_runs(&mut self, ids: &[Uuid]) -> Result<(), StoreError>;
}

/// One write in its own transaction.
fn write_one(store: &mut Store, write: Write) -> Result<Written, StoreError> {
    match write {
        Write::SaveRun { instance, emitted, .. } => {
            store.save_run_only(&instance, &emitted)?;
            Ok(Written::Saved(instance))
        }
        Write::Save(save) => {
            store.apply_save(&save)?;
            Ok(Written::Saved(Box::new(save.instance)))
        }
        Write::Exec { uid, fields, options } => {
            let (outcome, d, n) = store.exec_only(uid, &fields, options)?;
            Ok(Written::Exec(outcome, Box::new(d), n))
        }
        Write::Delivered(page) => Ok(Written::Delivered(store.apply_delivered(&page)?)),
    }
}

impl ProcessStore for Store {
    fn save_run(&mut self, instance: &Instance, run: &Run) -> Result<(), StoreError> {
        self.save_run_only(instance, &run.emitted)
    }

    fn exec(
        &mut self,
        uid: Uuid,
        fields: &[(String, String)],
        options: RunOptions,
    ) -> Result<(ExecOutcome, Descriptor, u64), StoreError> {
        self.exec_only(uid, fields, options)
    }

    fn load(&mut self, id: Uuid) -> Result<Instance, StoreError> {
        Store::load(self, id)
    }

    fn load_versioned(&mut self, id: Uuid) -> Result<Versioned, StoreError> {
        Store::load_versioned(self, id)
    }

    fn load_by_uid(&mut self, uid: Uuid) -> Result<Versioned, StoreError> {
        Store::load_by_uid(self, uid)
    }

    fn list(&mut self, filter: &ListFilter, after: Option<&Cursor>) -> Result<Vec<InstanceSummary>, StoreError> {
        Store::list_page(self, filter, after)
    }

    fn count_by_status(&mut self) -> Result<Vec<(Status, u64)>, StoreError> {
        Store::count_by_status(self)
    }

    fn cancel_many(&mut self, ids: &[Uuid], actor: &str) -> Result<Cancelled, StoreError> {
        Store::cancel_many(self, ids, actor)
    }

    fn due(&mut self, now: Timestamp, limit: usize) -> Result<(Vec<Versioned>, Vec<StoreError>), StoreError> {
        Store::due(self, now, limit)
    }

    fn signal_page(&mut self, only: Option<i64>, skip: &[i64], limit: usize) -> Result<Option<SignalPage>, StoreError> {
        Store::signal_page(self, only, skip, limit)
    }

    fn throw(&mut self, name: &str) -> Result<Option<i64>, StoreError> {
        Store::throw(self, name)
    }

    fn remembered(&mut self, key: &str) -> Result<Option<(Uuid, String)>, StoreError> {
        Store::remembered(self, key)
    }

    fn thrown_by(&mut self, source: Uuid) -> Result<Vec<i64>, StoreError> {
        Store::thrown_by(self, source)
    }

    fn close(&mut self) -> Result<(), StoreError> {
        self.checkpoint_all()
    }

    fn save_session(&mut self, session: &StoredSession, per_user: usize, total: usize) -> Result<(), StoreError> {
        Store::save_session(self, session, per_user, total)
    }

    fn find_session(&mut self, key: &str, now: Timestamp) -> Result<Option<StoredSession>, StoreError> {
        Store::find_session(self, key, now)
    }

    fn touch_session(&mut self, key: &str, now: Timestamp) -> Result<(), StoreError> {
        Store::touch_session(self, key, now)
    }

    fn end_session(&mut self, key: &str) -> Result<bool, StoreError> {
        Store::end_session(self, key)
    }

    fn purge_sessions(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        Store::purge_sessions(self, now)
    }

    /// One node per file: every due timer is this node's.
    fn claim_timers(
        &mut self,
        now: Timestamp,
        limit: usize,
        _lease: Duration,
    ) -> Result<(Vec<Versioned>, Vec<StoreError>), StoreError> {
        Store::due(self, now, limit)
    }

    fn release_timers(&mut self, _ids: &[Uuid]) -> Result<(), StoreError> {
        Ok(())
    }

    /// One node per file: every instance left `Running` is an orphan of an
    /// earlier run of the service (or a run this node is doing: the
    /// service knows its own and passes them over).
    fn claim_orphans(
        &mut self,
        _now: Timestamp,
        saved_before: Timestamp,
        limit: usize,
        _lease: Duration,
    ) -> Result<Vec<Uuid>, StoreError> {
        Store::running_since(self, saved_before, limit)
    }

    fn hold_run(&mut self, _id: Uuid, _now: Timestamp, _lease: Duration) -> Result<bool, StoreError> {
        Ok(true)
    }

    fn renew_runs(&mut self, ids: &[Uuid], _now: Timestamp, _lease: Duration) -> Result<u64, StoreError> {
        Ok(u64::try_from(ids.len()).unwrap_or(u64::MAX))
    }

    fn release_runs(&mut self, _ids: &[Uuid]) -> Result<(), StoreError> {
        Ok(())
    }

    /// One `BEGIN IMMEDIATE` transaction for the whole batch, a savepoint
    /// per write. When the batch itself cannot begin or commit, nothing of
    /// it was written, and each write is applied again on its own.
    fn write_batch(&mut self, writes: Vec<Write>) -> Vec<Result<Written, StoreError>> {
        if writes.len() < 2 {
            return writes.into_iter().map(|w| write_one(self, w)).collect();
        }
        let Store { conn, programs, .. } = self;
        let Ok(tx) = conn.transaction_with_behavior(TransactionBehavior::Immediate) else {
            return writes.into_iter().map(|w| write_one(self, w)).collect();
        };
        let mut results = Vec::with_capacity(writes.len());
        let mut saved_programs = Vec::new();
        let mut broken = false;
        // Each write is kept (moved into its result) so that it can be applied again.
        let mut kept: Vec<Write> = Vec::new();
        for write in writes {
            if broken || tx.prepare_cached("SAVEPOINT write").and_then(|mut st| st.execute([])).is_err() {
                broken = true;
                kept.push(write);
                continue;
            }
            let fresh = |instance: &Instance| !programs.contains_key(instance.program.hash());
            let result = match &write {
                Write::SaveRun { instance, emitted, .. } => {
                    let fresh = fresh(instance);
                    super::save_run_in(&tx, programs, instance, emitted).map(|()| {
                        if fresh {
                            saved_programs.push(instance.program.clone());
                        }
                        Done::Saved
                    })
                }
                Write::Save(save) => {
                    let fresh = fresh(&save.instance);
                    super::save_in(&tx, programs, save).map(|()| {
                        if fresh {
                            saved_programs.push(save.instance.program.clone());
                        }
                        Done::Saved
                    })
                }
                Write::Exec { uid, fields, options } => super::exec_in(&tx, programs, *uid, fields, options.clone())
                    .map(|(outcome, d, n)| Done::Exec(outcome, Box::new(d), n)),
                Write::Delivered(page) => super::delivered_in(&tx, programs, page).map(Done::Delivered),
            };
            let ended = if result.is_ok() {
                tx.prepare_cached("RELEASE write").and_then(|mut st| st.execute([])).map(|_| ())
            } else {
                tx.execute_batch("ROLLBACK TO write; RELEASE write")
            };
            if ended.is_err() {
                broken = true;
            }
            results.push(result);
            kept.push(write);
        }
        let committed = if broken {
            drop(tx);
            false
        } else {
            tx.commit().is_ok()
        };
        if !committed {
            return kept.into_iter().map(|w| write_one(self, w)).collect();
        }
        for program in saved_programs {
            self.programs.entry(program.hash().to_string()).or_insert(program);
        }
        results
            .into_iter()
            .zip(kept)
            .map(|(result, write)| match (result, write) {
                (Ok(Done::Saved), Write::SaveRun { instance, .. }) => Ok(Written::Saved(instance)),
                (Ok(Done::Saved), Write::Save(save)) => Ok(Written::Saved(Box::new(save.instance))),
                (Ok(Done::Exec(outcome, d, n)), _) => Ok(Written::Exec(outcome, d, n)),
                (Ok(Done::Delivered(notes)), _) => Ok(Written::Delivered(notes)),
                (Err(e), _) => Err(e),
                (Ok(Done::Saved), write) => write_one(self, write),
            })
            .collect()
    }

    fn display_name(&self) -> String {
        self.path().display().to_string()
    }

    fn instances_starting_with(&mut self, prefix: &str, limit: usize) -> Result<Vec<InstanceMatch>, StoreError> {
        Store::instances_starting_with(self, prefix, limit)
    }

    fn element_instances_starting_with(
        &mut self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<ElementInstanceMatch>, StoreError> {
        Store::element_instances_starting_with(self, prefix, limit)
    }

    fn process_codes(&mut self) -> Result<Vec<String>, StoreError> {
        Store::process_codes(self)
    }

    fn waited_signals(&mut self) -> Result<Vec<String>, StoreError> {
        Store::waited_signals(self)
    }

    fn save_if_unchanged(&mut self, instance: &Instance, expected: Option<i64>) -> Result<i64, StoreError> {
        Store::save_if_unchanged(self, instance, expected)
    }
}

/// What a write of a batch did, before its result is handed back.
enum Done {
    Saved,
    Exec(ExecOutcome, Box<Descriptor>, u64),
    Delivered(Vec<StoreError>),
}
