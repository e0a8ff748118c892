//! The store as the service sees it: one trait, so that another backend
//! (PostgreSQL, for several service nodes on one database) can follow
//! without touching the engine or the service. [`Store`] (SQLite) is the
//! first implementation.
//!
//! Every method is one unit of work that commits before it returns: a
//! caller may answer its client once a method has returned `Ok`.

use super::{CancelOutcome, InstanceSummary, ListFilter, Store, StoreError};
use crate::runtime::descriptor::Descriptor;
use crate::runtime::engine::{ExecOutcome, Run, RunOptions};
use crate::runtime::instance::{Instance, Status};
use jiff::Timestamp;
use rusqlite::TransactionBehavior;
use std::sync::Arc;
use uuid::Uuid;

/// One write of a batch (see [`ProcessStore::write_batch`]).
pub enum Write {
    /// Save an instance that a run moved, and deliver the signals it threw.
    SaveRun { instance: Box<Instance>, emitted: Vec<Arc<str>>, options: RunOptions },
    /// Execute a waiting element-instance exactly once and run on.
    Exec { uid: Uuid, fields: Vec<(String, String)>, options: RunOptions },
}

/// What a write did.
pub enum Written {
    /// Saved: the instance, handed back.
    Saved(Box<Instance>),
    /// Executed (or found already executed): the outcome, the descriptor, the elements that ran.
    Exec(ExecOutcome, Box<Descriptor>, u64),
}

/// What a backend must do to keep live instances for the service.
pub trait ProcessStore: Send {
    /// Saves an instance that `run` moved, with its program, and delivers
    /// the signals the run threw to the stored instances waiting for them.
    fn save_run(&mut self, instance: &Instance, run: &Run) -> Result<(), StoreError>;
    /// Executes a waiting element-instance exactly once (see [`Store::exec`]);
    /// also returns how many elements ran.
    fn exec(
        &mut self,
        uid: Uuid,
        fields: &[(String, String)],
        options: RunOptions,
    ) -> Result<(ExecOutcome, Descriptor, u64), StoreError>;
    /// An instance, restored on the definition it runs on.
    fn load(&mut self, id: Uuid) -> Result<Instance, StoreError>;
    fn list(&mut self, filter: &ListFilter) -> Result<Vec<InstanceSummary>, StoreError>;
    /// How many instances there are of each status.
    fn count_by_status(&mut self) -> Result<Vec<(Status, u64)>, StoreError>;
    fn cancel(&mut self, id: Uuid) -> Result<(CancelOutcome, Descriptor), StoreError>;
    fn signal(&mut self, name: &str, options: RunOptions) -> Result<Vec<Descriptor>, StoreError>;
    /// Fires the timers due at `now`; each instance in its own transaction.
    fn tick(&mut self, now: Timestamp) -> Result<Vec<Descriptor>, StoreError>;
    /// Applies writes in order, all durable with one commit (group
    /// commit); a write that fails is undone alone. By default, one
    /// transaction per write.
    fn write_batch(&mut self, writes: Vec<Write>) -> Vec<Result<Written, StoreError>> {
        writes.into_iter().map(|w| write_one(self, w)).collect()
    }
}

/// One write in its own transaction.
fn write_one<S: ProcessStore + ?Sized>(store: &mut S, write: Write) -> Result<Written, StoreError> {
    match write {
        Write::SaveRun { instance, emitted, options } => {
            let mut run = Run::new(options);
            run.emitted = emitted;
            store.save_run(&instance, &run)?;
            Ok(Written::Saved(instance))
        }
        Write::Exec { uid, fields, options } => {
            let (outcome, d, n) = store.exec(uid, &fields, options)?;
            Ok(Written::Exec(outcome, Box::new(d), n))
        }
    }
}

impl ProcessStore for Store {
    fn save_run(&mut self, instance: &Instance, run: &Run) -> Result<(), StoreError> {
        Store::save_run(self, instance, run)
    }

    fn exec(
        &mut self,
        uid: Uuid,
        fields: &[(String, String)],
        options: RunOptions,
    ) -> Result<(ExecOutcome, Descriptor, u64), StoreError> {
        self.exec_counted(uid, fields, options)
    }

    fn load(&mut self, id: Uuid) -> Result<Instance, StoreError> {
        Store::load(self, id)
    }

    fn list(&mut self, filter: &ListFilter) -> Result<Vec<InstanceSummary>, StoreError> {
        Store::list(self, filter)
    }

    fn count_by_status(&mut self) -> Result<Vec<(Status, u64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT status, COUNT(*) FROM instances GROUP BY status")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (status, n) = row?;
            if let Ok(status) = status.parse::<Status>() {
                out.push((status, u64::try_from(n).unwrap_or(0)));
            }
        }
        Ok(out)
    }

    fn cancel(&mut self, id: Uuid) -> Result<(CancelOutcome, Descriptor), StoreError> {
        Store::cancel(self, id)
    }

    fn signal(&mut self, name: &str, options: RunOptions) -> Result<Vec<Descriptor>, StoreError> {
        Store::signal(self, name, options)
    }

    fn tick(&mut self, now: Timestamp) -> Result<Vec<Descriptor>, StoreError> {
        Store::tick(self, now)
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
            let result = match &write {
                Write::SaveRun { instance, emitted, options } => {
                    let fresh = !programs.contains_key(&instance.program.hash);
                    super::save_run_in(&tx, programs, instance, emitted, options).map(|()| {
                        if fresh {
                            saved_programs.push(instance.program.clone());
                        }
                        None
                    })
                }
                Write::Exec { uid, fields, options } => super::exec_in(&tx, programs, *uid, fields, options.clone())
                    .map(|(outcome, d, n)| Some((outcome, d, n))),
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
            self.programs.entry(program.hash.clone()).or_insert(program);
        }
        results
            .into_iter()
            .zip(kept)
            .map(|(result, write)| match (result, write) {
                (Ok(None), Write::SaveRun { instance, .. }) => Ok(Written::Saved(instance)),
                (Ok(Some((outcome, d, n))), _) => Ok(Written::Exec(outcome, Box::new(d), n)),
                (Err(e), _) => Err(e),
                (Ok(None), write) => write_one(self, write),
            })
            .collect()
    }
}
