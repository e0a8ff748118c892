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
use uuid::Uuid;

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
}
