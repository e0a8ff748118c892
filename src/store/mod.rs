//! The embedded store: one SQLite file that keeps every instance (live and
//! finished) with its saved state and log, and the exact definition each
//! one runs on, stored by content hash. Later commands continue the
//! instances it holds: execute a waiting element-instance by UId, throw a
//! signal, fire due timers, cancel.
//!
//! Every read-modify-write runs in one `BEGIN IMMEDIATE` transaction, so
//! that separate processes on the same file serialize: an element-instance
//! is executed exactly once, and a killed process leaves the last committed
//! state. Commits are durable (`journal_mode=WAL`, `synchronous=FULL`).
//! docs/STORE.md describes the design.

mod backend;
pub mod copy;
mod error;
mod location;
mod lookup;
#[cfg(feature = "postgres")]
pub mod postgres;
mod private;
pub mod schema;
mod session;

pub use backend::{Delivered, ProcessStore, Save, Write, Written};
pub use copy::copy_all;
pub use error::StoreError;
pub use location::{open, open_rows, Location};
pub use lookup::{ElementInstanceMatch, InstanceMatch};
pub use private::private_file;
pub use session::StoredSession;

use crate::check::spec::Program;
use crate::check::{self};
use crate::runtime::descriptor::Descriptor;
use crate::runtime::engine::{self, ClockMode, ExecError, ExecOutcome, Run, RunOptions};
use crate::runtime::instance::{Action, HistoryEntry, Instance, Status, Wait};
use crate::runtime::saved::{SavedInstance, FORMAT_VERSION, OLDEST_FORMAT_VERSION};
use jiff::Timestamp;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How long a command waits for another one that holds the store's write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A signal thrown by an instance that a signal woke is one hop further
/// than that signal; past this many hops, instances keep throwing signals
/// to each other, and the signal is not passed on. A fan-out (one signal,
/// many waiters) is one hop, however many it wakes.
pub const MAX_SIGNAL_HOPS: i64 = 100;

/// When this many signals wait to be delivered, those thrown by instances
/// that a signal woke are dropped: a loop that fans out grows the queue
/// faster than hops alone would stop it.
pub const MAX_PENDING_SIGNALS: i64 = 10_000;

/// Instances per page of a signal's delivery or of a tick: each page is
/// loaded in one call, run outside the store, and committed in one
/// transaction.
pub const PAGE_SIZE: usize = 64;

type Result<T> = std::result::Result<T, StoreError>;

/// A store file, open.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Programs loaded from the store, by hash. A hash names one exact set
    /// of sources, so a cached program never goes stale.
    programs: HashMap<String, Arc<Program>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish_non_exhaustive()
    }
}

/// Which instances [`Store::list`] returns.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub status: Option<Status>,
    /// A process Code.
    pub process: Option<String>,
    pub limit: Option<usize>,
}

/// One line of [`Store::list`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceSummary {
    pub id: Uuid,
    pub process: String,
    pub status: Status,
    /// Waiting element-instances that can be executed (user tasks, timers,
    /// signals, also those of sub-processes).
    pub waiting: u32,
    /// How many times the instance was saved.
    pub version: i64,
    pub created: String,
    pub updated: String,
    /// Who started it (absent for instances saved before format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
}

/// Where a page of [`Store::list_page`] ends: the next page starts after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub created: String,
    pub id: Uuid,
}

impl Cursor {
    /// `created~id`, as it travels in a query string.
    pub fn text(&self) -> String {
        format!("{}~{}", self.created, self.id)
    }

    /// Reads [`Cursor::text`] back; `None` for anything else.
    pub fn parse(text: &str) -> Option<Cursor> {
        let (created, id) = text.split_once('~')?;
        let valid = created.len() == 24 && created.bytes().all(|b| b.is_ascii_alphanumeric() || b":-.".contains(&b));
        valid.then_some(())?;
        Some(Cursor { created: created.to_string(), id: id.parse().ok()? })
    }
}

/// An instance as loaded, with the version it was saved as: a save that
/// expects this version fails if anyone saved it since.
pub struct Versioned {
    pub instance: Instance,
    pub version: i64,
}

/// One page of a signal's delivery: the instances waiting for it, loaded.
/// [`SignalPage::run`] runs them (outside the store); the store then
/// commits the [`Delivered`] write.
pub struct SignalPage {
    /// The `signal_outbox` row.
    pub outbox: i64,
    pub signal: Arc<str>,
    pub hops: i64,
    pub instances: Vec<Versioned>,
    /// The last instance id of the page (also when it could not be loaded).
    pub last: String,
    /// Where the row's cursor was before this page.
    pub from: String,
    /// Whether more waiters may follow this page.
    pub more: bool,
    /// The waiters that could not be loaded (a damaged state): they are
    /// passed over, so that one of them does not hold the signal up.
    pub failed: Vec<StoreError>,
}

/// What running a [`SignalPage`] did.
pub struct PageRun {
    /// The waiters passed over because they could not be loaded.
    pub failed: Vec<StoreError>,
    /// The write that commits it.
    pub write: Delivered,
    /// The instances woken, as they are now.
    pub woken: Vec<Descriptor>,
    pub elements: u64,
}

impl SignalPage {
    /// Delivers the signal to each instance of the page and runs each on.
    /// At `until`, the run in progress stops and is dropped, and the
    /// instances not reached yet are left to the next page.
    pub fn run(self, options: &RunOptions, until: Option<std::time::Instant>) -> PageRun {
        let mut saves = Vec::new();
        let mut woken = Vec::new();
        let mut elements = 0;
        let mut more = self.more;
        let mut cursor = None;
        let mut cut = false;
        for Versioned { mut instance, version } in self.instances {
            if until.is_some_and(|t| std::time::Instant::now() >= t) {
                (more, cut) = (true, true);
                break;
            }
            let id = instance.id.to_string();
            if instance.status.is_finished() || instance.deliver_signal(&self.signal) == 0 {
                cursor = Some(id);
                continue;
            }
            let mut run = Run::new(options.clone());
            if let Some(t) = until {
                run = run.until(t);
            }
            instance.record(HistoryEntry {
                at: options.now.unwrap_or_else(Timestamp::now),
                who: options.actor.to_string(),
                action: Action::Signal,
                element: None,
                signal: Some(self.signal.to_string()),
            });
            run_on(&mut instance, &mut run);
            if run.timed_out() {
                (more, cut) = (true, true);
                break;
            }
            cursor = Some(id);
            elements += run.elements_executed;
            woken.push(instance.descriptor(None));
            saves.push(Save { instance, emitted: run.emitted, expected: Some(version), key: None });
        }
        let cursor = match (more, cut) {
            (false, _) => None,
            (true, true) => Some(cursor.unwrap_or(self.from)),
            (true, false) => Some(self.last),
        };
        let write = Delivered { outbox: self.outbox, hops: self.hops, cursor, saves };
        PageRun { write, woken, elements, failed: self.failed }
    }
}

/// What [`Store::cancel`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelOutcome {
    Cancelled,
    /// It had been cancelled before: nothing was done.
    AlreadyCancelled,
}

/// The run options of store commands: the real clock, or the clock pinned
/// at `now`, so that a timer waits (and is saved with its due time) until
/// `tick` fires it.
pub fn real_time(now: Option<Timestamp>) -> RunOptions {
    RunOptions { clock: ClockMode::Real, now, ..RunOptions::default() }
}

/// Runs an instance until it waits or ends. With the real clock, timers
/// that are already due fire at once.
pub fn run_on(instance: &mut Instance, run: &mut Run) {
    instance.run(run);
    if run.options.clock == ClockMode::Real {
        while !instance.status.is_finished() && instance.fire_due_timers(run.now) > 0 {
            instance.run(run);
        }
    }
}

impl Store {
    /// Opens a store, creating the file and its tables when it does not exist.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::connect(path.as_ref(), true)
    }

    /// Opens a store that must exist already (commands that only continue
    /// instances never create an empty store by mistake).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Store> {
        Store::connect(path.as_ref(), false)
    }

    fn connect(path: &Path, create: bool) -> Result<Store> {
        if !create && !path.exists() {
            return Err(StoreError::Missing { path: path.to_path_buf() });
        }
        let open_error = |e: rusqlite::Error| StoreError::Open { path: path.to_path_buf(), message: e.to_string() };
        if create && path != Path::new(":memory:") {
            private::create_private(path)
                .map_err(|e| StoreError::Open { path: path.to_path_buf(), message: e.to_string() })?;
        }
        let mut flags = OpenFlags::default();
        if !create {
            flags.remove(OpenFlags::SQLITE_OPEN_CREATE);
        }
        let mut conn = Connection::open_with_flags(path, flags).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).map_err(open_error)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(open_error)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(open_error)?;
        if version > schema::SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: path.to_path_buf(),
                found: version,
                supported: schema::SCHEMA_VERSION,
            });
        }
        if version < schema::SCHEMA_VERSION {
            // Read again under the write lock: another process may have
            // created or migrated it meanwhile.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if version == 0 {
                let tables: i64 = tx.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))?;
                if tables > 0 {
                    return Err(StoreError::Foreign { path: path.to_path_buf() });
                }
                tx.execute_batch(schema::SCHEMA_V1)?;
                version = 1;
            }
            if version == 1 {
                tx.execute_batch(schema::MIGRATE_V2)?;
                version = 2;
            }
            if version == 2 {
                tx.execute_batch(schema::MIGRATE_V3)?;
                version = 3;
            }
            if version == 3 {
                tx.execute_batch(schema::MIGRATE_V4)?;
            }
            tx.pragma_update(None, "user_version", schema::SCHEMA_VERSION)?;
            tx.commit()?;
        }
        Ok(Store { conn, path: path.to_path_buf(), programs: HashMap::new() })
    }

    /// Where the store file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn begin(&mut self) -> Result<(rusqlite::Transaction<'_>, &mut HashMap<String, Arc<Program>>)> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        Ok((tx, &mut self.programs))
    }

    /// Stores a program's source files under its hash (once) and returns the hash.
    pub fn save_program(&mut self, program: &Program) -> Result<String> {
        let (tx, _) = self.begin()?;
        save_program(&tx, program)?;
        tx.commit()?;
        Ok(program.hash().to_string())
    }

    /// The program stored under this hash, rebuilt from its sources.
    pub fn load_program(&mut self, hash: &str) -> Result<Arc<Program>> {
        load_program(&self.conn, &mut self.programs, hash)
    }

    /// Saves an instance (and its program), replacing what was saved of it before.
    pub fn save(&mut self, instance: &Instance) -> Result<()> {
        let (tx, _) = self.begin()?;
        save_program(&tx, &instance.program)?;
        save_instance(&tx, instance)?;
        tx.commit()?;
        Ok(())
    }

    /// How many times the instance was saved (None: it is not in the store).
    pub fn version(&self, id: Uuid) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row("SELECT version FROM instances WHERE id = ?1", [id.to_string()], |r| r.get(0))
            .optional()?)
    }

    /// Saves an instance only if nobody saved it since version `expected`
    /// (None: it must be new), and returns the new version. A REPL that
    /// holds an instance for a while saves this way, so it never overwrites
    /// what a concurrent `exec` did.
    pub fn save_if_unchanged(&mut self, instance: &Instance, expected: Option<i64>) -> Result<i64> {
        let (tx, _) = self.begin()?;
        let current: Option<i64> = tx
            .query_row("SELECT version FROM instances WHERE id = ?1", [instance.id.to_string()], |r| r.get(0))
            .optional()?;
        if current != expected {
            return Err(StoreError::Conflict { id: instance.id });
        }
        save_program(&tx, &instance.program)?;
        save_instance(&tx, instance)?;
        tx.commit()?;
        Ok(expected.unwrap_or(0) + 1)
    }

    /// The instance with this id, restored on the definition it runs on.
    pub fn load(&mut self, id: Uuid) -> Result<Instance> {
        load_instance(&self.conn, &mut self.programs, &id.to_string())
    }

    /// The descriptor of a stored instance, with every result parameter,
    /// its log and its history.
    pub fn show(&mut self, id: Uuid) -> Result<Descriptor> {
        Ok(self.load(id)?.descriptor_with_history(None))
    }

    /// Runs an instance (a new one, typically) until it waits or ends, and
    /// saves it with its program; the signals it throws reach the stored
    /// instances waiting for them. [`crate::app::run`] on this store.
    pub fn run(&mut self, instance: &mut Instance, options: RunOptions) -> Result<Run> {
        crate::app::run(self, instance, options)
    }

    /// Saves an instance that `run` moved (outside the store), with its
    /// program, and delivers the signals the run threw to the stored
    /// instances waiting for them, in one transaction.
    pub fn save_run(&mut self, instance: &Instance, run: &Run) -> Result<()> {
        self.save_run_only(instance, &run.emitted)?;
        self.deliver_signals(&run.options)?;
        Ok(())
    }

    /// [`Store::save_run`] without delivering: the signals wait in the
    /// outbox for whoever delivers them (the service's deliverer).
    fn save_run_only(&mut self, instance: &Instance, emitted: &[Arc<str>]) -> Result<()> {
        let (tx, programs) = self.begin()?;
        save_run_in(&tx, programs, instance, emitted)?;
        tx.commit()?;
        self.programs.entry(instance.program.hash().to_string()).or_insert_with(|| instance.program.clone());
        Ok(())
    }

    /// Starts a process by Code with string inputs, runs it until it waits
    /// or ends, keeps it, and returns its descriptor: [`crate::app::start`]
    /// on this store.
    pub fn start<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        program: Arc<Program>,
        code: &str,
        inputs: impl IntoIterator<Item = (K, V)>,
        options: RunOptions,
    ) -> Result<Descriptor> {
        crate::app::start(self, program, code, inputs, options)
    }

    /// Executes a waiting element-instance by its UId with field values and
    /// runs its instance on until it waits again or ends. Exactly once: the
    /// lookup, the execution and the save are one transaction, so of two
    /// racing commands the second finds it executed and does nothing.
    pub fn exec<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        uid: Uuid,
        fields: &[(K, V)],
        options: RunOptions,
    ) -> Result<(ExecOutcome, Descriptor)> {
        self.exec_counted(uid, fields, options).map(|(outcome, descriptor, _)| (outcome, descriptor))
    }

    /// [`Store::exec`], also returning how many elements ran.
    pub fn exec_counted<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        uid: Uuid,
        fields: &[(K, V)],
        options: RunOptions,
    ) -> Result<(ExecOutcome, Descriptor, u64)> {
        let result = self.exec_only(uid, fields, options.clone())?;
        if result.0 == ExecOutcome::Executed {
            self.deliver_signals(&options)?;
        }
        Ok(result)
    }

    /// [`Store::exec_counted`] without delivering the signals it threw.
    fn exec_only<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        uid: Uuid,
        fields: &[(K, V)],
        options: RunOptions,
    ) -> Result<(ExecOutcome, Descriptor, u64)> {
        let (tx, programs) = self.begin()?;
        let result = exec_in(&tx, programs, uid, fields, options)?;
        if result.0 == ExecOutcome::Executed {
            tx.commit()?;
        }
        Ok(result)
    }

    /// The stored instances, oldest first.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<InstanceSummary>> {
        self.list_page(filter, None)
    }

    /// The stored instances after `after`, oldest first: an index gives
    /// them in order (no sort), so a page costs the same however many
    /// instances there are.
    pub fn list_page(&self, filter: &ListFilter, after: Option<&Cursor>) -> Result<Vec<InstanceSummary>> {
        let mut sql = String::from(
            "SELECT i.id, i.process, i.status, i.version, i.created, i.updated,
                    (SELECT COUNT(*) FROM element_instances e
                      WHERE e.instance = i.id AND e.live = 1 AND e.kind IN ('user', 'timer', 'signal')),
                    CASE WHEN json_valid(i.state) THEN
                        CASE WHEN json_type(i.state, '$.startedBy') = 'text'
                             THEN json_extract(i.state, '$.startedBy') END
                    END
               FROM instances i WHERE 1",
        );
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
        if let Some(status) = filter.status {
            sql.push_str(" AND i.status = ?");
            args.push(Box::new(status.as_str()));
        }
        if let Some(process) = &filter.process {
            sql.push_str(" AND i.process = ?");
            args.push(Box::new(process.clone()));
        }
        if let Some(after) = after {
            sql.push_str(" AND (i.created, i.id) > (?, ?)");
            args.push(Box::new(after.created.clone()));
            args.push(Box::new(after.id.to_string()));
        }
        sql.push_str(" ORDER BY i.created, i.id LIMIT ?");
        args.push(Box::new(filter.limit.map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX))));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, process, status, version, created, updated, waiting, started_by) = row?;
            let corrupt = |message: String| StoreError::CorruptState { instance: id.clone(), message };
            out.push(InstanceSummary {
                id: id.parse().map_err(|e| corrupt(format!("id: {e}")))?,
                process,
                status: status.parse().map_err(corrupt)?,
                waiting: u32::try_from(waiting).unwrap_or(u32::MAX),
                version,
                created,
                updated,
                started_by,
            });
        }
        Ok(out)
    }

    /// Cancels an instance: its waiting element-instances can no longer be
    /// executed. Cancelling a cancelled instance does nothing; a completed
    /// or failed one is refused. The history says "local" did it.
    pub fn cancel(&mut self, id: Uuid) -> Result<(CancelOutcome, Descriptor)> {
        self.cancel_by(id, engine::LOCAL_ACTOR)
    }

    /// [`Store::cancel`], recording `actor` (a user or token name) in the history.
    pub fn cancel_by(&mut self, id: Uuid, actor: &str) -> Result<(CancelOutcome, Descriptor)> {
        let (tx, programs) = self.begin()?;
        let result = cancel_in(&tx, programs, id, actor)?;
        tx.commit()?;
        Ok(result)
    }

    /// Cancels each instance, all in one transaction (one durable commit);
    /// one that cannot be cancelled is reported and does not stop the others.
    pub fn cancel_many(&mut self, ids: &[Uuid], actor: &str) -> Result<Vec<Result<(CancelOutcome, Descriptor)>>> {
        let (tx, programs) = self.begin()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            tx.execute_batch("SAVEPOINT cancel")?;
            let result = cancel_in(&tx, programs, *id, actor);
            if result.is_ok() {
                tx.execute_batch("RELEASE cancel")?;
            } else {
                tx.execute_batch("ROLLBACK TO cancel; RELEASE cancel")?;
            }
            out.push(result);
        }
        tx.commit()?;
        Ok(out)
    }

    /// Throws a signal from outside to every stored instance waiting for
    /// it and runs each on: [`crate::app::signal`] on this store.
    pub fn signal(&mut self, name: &str, options: RunOptions) -> Result<Vec<Descriptor>> {
        crate::app::signal(self, name, options)
    }

    /// Delivers every signal waiting in the outbox, page by page:
    /// [`crate::app::deliver_all`] on this store.
    pub fn deliver_signals(&mut self, options: &RunOptions) -> Result<Vec<Descriptor>> {
        crate::app::deliver_all(self, options)
    }

    /// Fires every timer due at `now` and runs each instance on:
    /// [`crate::app::tick`] on this store.
    pub fn tick(&mut self, now: Timestamp) -> Result<Vec<Descriptor>> {
        crate::app::tick(self, now)
    }

    /// An instance with the version it was saved as.
    pub fn load_versioned(&mut self, id: Uuid) -> Result<Versioned> {
        load_versioned(&self.conn, &mut self.programs, &id.to_string())
    }

    /// The instance that holds an element-instance, with its version
    /// (`UnknownUid` when no instance ever held it).
    pub fn load_by_uid(&mut self, uid: Uuid) -> Result<Versioned> {
        let id: Option<String> = self
            .conn
            .prepare_cached("SELECT instance FROM element_instances WHERE uid = ?1")?
            .query_row([uid.to_string()], |r| r.get(0))
            .optional()?;
        let Some(id) = id else {
            return Err(ExecError::UnknownUid { uid }.into());
        };
        load_versioned(&self.conn, &mut self.programs, &id)
    }

    /// Up to `limit` instances with a timer, deadline or reminder due at
    /// `now`, loaded. Reads only the index of live due rows: nothing due
    /// costs one index look-up. Those
    /// that cannot be loaded (a damaged state) come apart, so that they do
    /// not hold the others up.
    pub fn due(&mut self, now: Timestamp, limit: usize) -> Result<(Vec<Versioned>, Vec<StoreError>)> {
        let ids: Vec<String> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT instance FROM element_instances INDEXED BY element_instances_live_due
                  WHERE live = 1 AND due IS NOT NULL AND due <= ?1 ORDER BY due LIMIT ?2",
            )?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![time_text(now), limit], |r| r.get(0))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let mut out: Vec<Versioned> = Vec::new();
        let mut failed = Vec::new();
        let mut tried = std::collections::HashSet::new();
        for id in ids {
            if !tried.insert(id.clone()) {
                continue;
            }
            match load_versioned(&self.conn, &mut self.programs, &id) {
                Ok(v) => out.push(v),
                Err(e @ StoreError::Database(_)) => return Err(e),
                Err(e) => failed.push(e),
            }
        }
        Ok((out, failed))
    }

    /// The next page of a signal waiting in the outbox: of row `only`, or
    /// else of the oldest row not in `skip` (rows someone else delivers):
    /// up to `limit` instances waiting for it since before it was thrown,
    /// after those it already reached. `None` when no such signal waits.
    ///
    /// Two deliverers of one row never deliver twice to an instance: each
    /// save expects the version loaded, and an instance that got the signal
    /// no longer waits for it with a wait older than the signal.
    pub fn signal_page(&mut self, only: Option<i64>, skip: &[i64], limit: usize) -> Result<Option<SignalPage>> {
        loop {
            let mut sql = String::from("SELECT id, signal, source, hops, horizon, cursor FROM signal_outbox");
            match only {
                Some(id) => sql.push_str(&format!(" WHERE id = {id}")),
                None if !skip.is_empty() => {
                    let list: Vec<String> = skip.iter().map(i64::to_string).collect();
                    sql.push_str(&format!(" WHERE id NOT IN ({})", list.join(",")));
                }
                None => {}
            }
            sql.push_str(" ORDER BY id LIMIT 1");
            let row: Option<(i64, String, String, i64, i64, String)> = self
                .conn
                .prepare(&sql)?
                .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
                .optional()?;
            let Some((outbox, signal, source, hops, horizon, cursor)) = row else {
                return Ok(None);
            };
            let ids: Vec<String> = {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT DISTINCT instance FROM element_instances INDEXED BY element_instances_live_signals
                      WHERE signal = ?1 AND live = 1 AND kind = 'signal' AND instance > ?2 AND instance <> ?3
                        AND rowid <= ?4
                      ORDER BY instance LIMIT ?5",
                )?;
                let n = i64::try_from(limit).unwrap_or(i64::MAX);
                let rows = stmt.query_map(params![signal, cursor, source, horizon, n], |r| r.get(0))?;
                rows.collect::<std::result::Result<_, _>>()?
            };
            if ids.is_empty() {
                self.conn.prepare_cached("DELETE FROM signal_outbox WHERE id = ?1")?.execute([outbox])?;
                if only.is_some() {
                    return Ok(None);
                }
                continue;
            }
            let more = ids.len() >= limit;
            let mut instances = Vec::with_capacity(ids.len());
            let mut failed = Vec::new();
            for id in &ids {
                match load_versioned(&self.conn, &mut self.programs, id) {
                    Ok(v) => instances.push(v),
                    Err(e @ (StoreError::Database(_) | StoreError::UnknownInstance { .. })) => return Err(e),
                    Err(e) => failed.push(e),
                }
            }
            let last = ids.last().cloned().unwrap_or_default();
            let (signal, from) = (Arc::from(signal), cursor);
            return Ok(Some(SignalPage { outbox, signal, hops, instances, last, from, more, failed }));
        }
    }

    /// Puts a signal thrown from outside in the outbox; returns its row, or
    /// `None` when nobody waits for it.
    pub fn throw(&mut self, name: &str) -> Result<Option<i64>> {
        let (tx, _) = self.begin()?;
        queue_signals(&tx, &[Arc::from(name)], Uuid::nil(), 0)?;
        let row: Option<i64> =
            tx.query_row("SELECT MAX(id) FROM signal_outbox WHERE signal = ?1", [name], |r| r.get(0))?;
        tx.commit()?;
        Ok(row)
    }

    /// The outbox rows of the signals an instance threw, oldest first.
    pub fn thrown_by(&self, source: Uuid) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached("SELECT id FROM signal_outbox WHERE source = ?1 ORDER BY id")?;
        let rows = stmt.query_map([source.to_string()], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The instance and answer kept for an idempotency key.
    pub fn remembered(&self, key: &str) -> Result<Option<(Uuid, String)>> {
        let row: Option<(String, String)> = self
            .conn
            .prepare_cached("SELECT instance, answer FROM idempotency WHERE key = ?1")?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(row.and_then(|(id, answer)| Some((id.parse().ok()?, answer))))
    }

    /// Instances by status, from the counts the triggers keep (no scan).
    pub fn count_by_status(&self) -> Result<Vec<(Status, u64)>> {
        let mut stmt = self.conn.prepare_cached("SELECT status, n FROM status_counts WHERE n > 0 ORDER BY status")?;
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

    /// Up to `limit` instances left `Running` that nobody saved since `saved_before`, oldest first.
    pub fn running_since(&self, saved_before: Timestamp, limit: usize) -> Result<Vec<Uuid>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM instances WHERE status = 'Running' AND updated < ?1 ORDER BY created, id LIMIT ?2",
        )?;
        let ids = stmt.query_map(params![time_text(saved_before), limit], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for id in ids {
            let id = id?;
            out.push(
                id.parse()
                    .map_err(|e| StoreError::CorruptState { instance: id.clone(), message: format!("id: {e}") })?,
            );
        }
        Ok(out)
    }

    /// One [`Save`] in its own transaction.
    fn apply_save(&mut self, save: &Save) -> Result<()> {
        let (tx, programs) = self.begin()?;
        save_in(&tx, programs, save)?;
        tx.commit()?;
        Ok(())
    }

    /// One [`Delivered`] page in its own transaction; returns the signals
    /// that were not passed on.
    fn apply_delivered(&mut self, page: &Delivered) -> Result<Vec<StoreError>> {
        let (tx, programs) = self.begin()?;
        let notes = delivered_in(&tx, programs, page)?;
        tx.commit()?;
        Ok(notes)
    }

    /// Copies the whole WAL into the database file and empties it, so that
    /// the next start has nothing to recover (the service does this when it
    /// stops).
    pub fn checkpoint_all(&self) -> Result<()> {
        // A reader on another connection (the upkeep thread's checkpoint)
        // makes SQLite answer "busy" and leave the WAL as it is: try again
        // for a little while rather than leave the next start to recover it.
        for _ in 0..50 {
            let busy: i64 = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy == 0 {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Leaves most of the WAL checkpointing to another connection (see
    /// [`Store::checkpoint`]), so that a commit seldom waits for pages being
    /// copied into the database file. This connection still checkpoints
    /// when the WAL passes 16,384 pages (64 MiB with 4 KiB pages), which
    /// lets SQLite start the WAL over under a steady stream of writes; the
    /// file is then cut back to 64 MiB. The service does this; the
    /// commands keep SQLite's default (1,000 pages).
    pub fn defer_checkpoints(&self) -> Result<()> {
        self.conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
        let _limit: i64 = self.conn.query_row("PRAGMA journal_size_limit = 67108864", [], |r| r.get(0))?;
        Ok(())
    }

    /// Copies committed pages from the WAL into the database file without
    /// blocking writers (`PRAGMA wal_checkpoint(PASSIVE)`).
    pub fn checkpoint(&self) -> Result<()> {
        self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Bytes the store's pages hold (free pages excluded).
    pub fn used_bytes(&self) -> Result<u64> {
        let page_size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let free: i64 = self.conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
        Ok(u64::try_from((pages - free) * page_size).unwrap_or(0))
    }

    /// SQLite's own consistency check: `ok`, or what is wrong.
    pub fn integrity_check(&self) -> Result<String> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let lines: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<std::result::Result<_, _>>()?;
        Ok(lines.join("\n"))
    }
}

/// A time as fixed-width UTC text (`2026-11-28T15:00:00.000Z`): text order is time order.
fn time_text(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn save_program(conn: &Connection, program: &Program) -> Result<()> {
    let files: Vec<(&str, &str)> = program.sources.files().map(|(_, f)| (f.name.as_str(), &*f.text)).collect();
    let files = serde_json::to_string(&files)
        .map_err(|e| StoreError::BadProgram { hash: program.hash().to_string(), message: e.to_string() })?;
    conn.execute(
        "INSERT INTO programs (hash, files) VALUES (?1, ?2) ON CONFLICT (hash) DO NOTHING",
        params![program.hash(), files],
    )?;
    Ok(())
}

fn load_program(conn: &Connection, cache: &mut HashMap<String, Arc<Program>>, hash: &str) -> Result<Arc<Program>> {
    if let Some(p) = cache.get(hash) {
        return Ok(p.clone());
    }
    let files: Option<String> =
        conn.query_row("SELECT files FROM programs WHERE hash = ?1", [hash], |r| r.get(0)).optional()?;
    let files = files.ok_or_else(|| StoreError::MissingProgram { hash: hash.to_string() })?;
    let bad = |message: String| StoreError::BadProgram { hash: hash.to_string(), message };
    let files: Vec<(String, String)> = serde_json::from_str(&files).map_err(|e| bad(e.to_string()))?;
    let loaded = check::load_sources(&files).map_err(|e| bad(e.to_string()))?;
    if loaded.program.hash() != hash {
        return Err(bad(format!("its sources hash to {}", loaded.program.hash())));
    }
    let program = Arc::new(loaded.program);
    cache.insert(hash.to_string(), program.clone());
    Ok(program)
}

/// Reads a saved state, checking its format version before anything else.
/// Versions 1 and 2 are read (1 is migrated by `SavedInstance::restore`);
/// any other is refused with a clear message.
pub fn decode_state(instance: &str, text: &str) -> Result<SavedInstance> {
    let corrupt = |message: String| StoreError::CorruptState { instance: instance.to_string(), message };
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
    let version = json
        .get("v")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| corrupt("it has no format version".to_string()))?;
    if version > u64::from(FORMAT_VERSION) {
        return Err(StoreError::NewerFormat {
            instance: instance.to_string(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if version < u64::from(OLDEST_FORMAT_VERSION) {
        return Err(corrupt(format!("format version {version} was never written by procdsl")));
    }
    // Version 1 lacks only what version 2 added, each with a default:
    // `SavedInstance::restore` fills them in (migration 1 → 2).
    let saved: SavedInstance = serde_json::from_value(json).map_err(|e| corrupt(e.to_string()))?;
    if saved.id.to_string() != instance {
        return Err(corrupt(format!("it holds the state of instance {}", saved.id)));
    }
    Ok(saved)
}

fn load_instance(conn: &Connection, cache: &mut HashMap<String, Arc<Program>>, id: &str) -> Result<Instance> {
    Ok(load_versioned(conn, cache, id)?.instance)
}

fn load_versioned(conn: &Connection, cache: &mut HashMap<String, Arc<Program>>, id: &str) -> Result<Versioned> {
    let row: Option<(String, String, i64)> = conn
        .prepare_cached("SELECT program, state, version FROM instances WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let (hash, state, version) = row.ok_or_else(|| StoreError::UnknownInstance { id: id.to_string() })?;
    let saved = decode_state(id, &state)?;
    let program = load_program(conn, cache, &hash)?;
    let instance =
        saved.restore(program).map_err(|message| StoreError::CorruptState { instance: id.to_string(), message })?;
    Ok(Versioned { instance, version })
}

/// One pending or waiting element-instance, as the index keeps it.
struct Entry {
    uid: Uuid,
    kind: &'static str,
    signal: Option<String>,
    due: Option<String>,
}

/// The pending and waiting element-instances of an instance and of its
/// waiting sub-processes, which live inside its state.
fn entries(instance: &Instance, out: &mut Vec<Entry>) {
    for t in &instance.queue {
        out.push(Entry { uid: t.uid, kind: "pending", signal: None, due: None });
    }
    for w in &instance.waiting {
        // A deadline or reminder makes any waiting row due, so the due query finds it.
        let boundary = [w.deadline, w.reminder].into_iter().flatten().min().map(time_text);
        let (kind, signal, due) = match &w.wait {
            Wait::User { .. } => ("user", None, boundary),
            Wait::Timer { due } => ("timer", None, Some(time_text(*due))),
            Wait::Signal { name } => ("signal", Some(name.to_string()), boundary),
            Wait::Call { child } => {
                entries(child, out);
                ("call", None, boundary)
            }
        };
        out.push(Entry { uid: w.uid, kind, signal, due });
    }
}

fn save_instance(conn: &Connection, instance: &Instance) -> Result<()> {
    let id = instance.id.to_string();
    let state = serde_json::to_string(&SavedInstance::of(instance))
        .map_err(|e| StoreError::CorruptState { instance: id.clone(), message: e.to_string() })?;
    let now = time_text(Timestamp::now());
    conn.prepare_cached(
        "INSERT INTO instances (id, program, process, status, format, state, version, created, updated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, format = excluded.format,
             state = excluded.state, version = instances.version + 1, updated = excluded.updated",
    )?
    .execute(params![
        id,
        instance.program.hash(),
        &*instance.spec().code,
        instance.status.as_str(),
        FORMAT_VERSION,
        state,
        now
    ])?;
    conn.prepare_cached(
        "UPDATE element_instances SET live = 0, signal = NULL, due = NULL WHERE instance = ?1 AND live = 1",
    )?
    .execute([&id])?;
    let mut list = Vec::new();
    entries(instance, &mut list);
    if list.is_empty() {
        return Ok(());
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO element_instances (uid, instance, kind, live, signal, due) VALUES (?1, ?2, ?3, 1, ?4, ?5)
         ON CONFLICT (uid) DO UPDATE SET instance = excluded.instance, kind = excluded.kind, live = 1,
             signal = excluded.signal, due = excluded.due",
    )?;
    for e in list {
        stmt.execute(params![e.uid.to_string(), id, e.kind, e.signal, e.due])?;
    }
    Ok(())
}

/// Saves a moved instance with its program (unless the store is known to
/// hold it) and queues the signals its run threw, inside `conn`'s transaction.
fn save_run_in(
    conn: &Connection,
    programs: &mut HashMap<String, Arc<Program>>,
    instance: &Instance,
    emitted: &[Arc<str>],
) -> Result<()> {
    if !programs.contains_key(instance.program.hash()) {
        save_program(conn, &instance.program)?;
    }
    save_instance(conn, instance)?;
    queue_signals(conn, emitted, instance.id, 0)?;
    Ok(())
}

/// A [`Save`] inside `conn`'s transaction: refused with `Conflict` when the
/// instance was saved since the version expected, and with `KeyUsed` when
/// its idempotency key is taken.
fn save_in(conn: &Connection, programs: &mut HashMap<String, Arc<Program>>, save: &Save) -> Result<()> {
    check_version(conn, save.instance.id, save.expected)?;
    save_run_in(conn, programs, &save.instance, &save.emitted)?;
    if let Some((key, answer)) = &save.key {
        remember(conn, key, save.instance.id, answer)?;
    }
    Ok(())
}

fn check_version(conn: &Connection, id: Uuid, expected: Option<i64>) -> Result<()> {
    let Some(expected) = expected else { return Ok(()) };
    let current: Option<i64> = conn
        .prepare_cached("SELECT version FROM instances WHERE id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?;
    if current != Some(expected) {
        return Err(StoreError::Conflict { id });
    }
    Ok(())
}

fn remember(conn: &Connection, key: &str, instance: Uuid, answer: &str) -> Result<()> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO idempotency (key, instance, answer, created) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (key) DO NOTHING",
        )?
        .execute(params![key, instance.to_string(), answer, time_text(Timestamp::now())])?;
    if inserted == 0 {
        return Err(StoreError::KeyUsed { key: key.to_string() });
    }
    Ok(())
}

/// A page of a signal's delivery inside `conn`'s transaction: every save
/// (all or none: a conflict refuses the page), the signals they threw one
/// hop further, and the outbox row moved on (or removed when done).
/// Returns the signals that were not passed on (a loop).
fn delivered_in(
    conn: &Connection,
    programs: &mut HashMap<String, Arc<Program>>,
    page: &Delivered,
) -> Result<Vec<StoreError>> {
    let mut notes = Vec::new();
    for save in &page.saves {
        check_version(conn, save.instance.id, save.expected)?;
        if !programs.contains_key(save.instance.program.hash()) {
            save_program(conn, &save.instance.program)?;
        }
        save_instance(conn, &save.instance)?;
        if let Some(note) = queue_signals(conn, &save.emitted, save.instance.id, page.hops + 1)? {
            notes.push(note);
        }
    }
    match &page.cursor {
        Some(cursor) => {
            conn.prepare_cached("UPDATE signal_outbox SET cursor = ?2 WHERE id = ?1")?
                .execute(params![page.outbox, cursor])?;
        }
        None => {
            conn.prepare_cached("DELETE FROM signal_outbox WHERE id = ?1")?.execute([page.outbox])?;
        }
    }
    Ok(notes)
}

/// Puts the signals `source` threw in the outbox, `hops` deliveries after
/// the first throw, when someone else waits for them. Past
/// [`MAX_SIGNAL_HOPS`], or when [`MAX_PENDING_SIGNALS`] wait already and
/// this one was thrown by a woken instance, a signal is not queued: the
/// note returned says so.
fn queue_signals(conn: &Connection, signals: &[Arc<str>], source: Uuid, hops: i64) -> Result<Option<StoreError>> {
    let source = source.to_string();
    let mut note = None;
    for signal in signals {
        let waited: Option<i64> = conn
            .prepare_cached(
                "SELECT 1 FROM element_instances INDEXED BY element_instances_live_signals
                  WHERE signal = ?1 AND live = 1 AND kind = 'signal' AND instance <> ?2 LIMIT 1",
            )?
            .query_row(params![&**signal, source], |r| r.get(0))
            .optional()?;
        if waited.is_none() {
            continue;
        }
        if hops > MAX_SIGNAL_HOPS {
            note.get_or_insert(StoreError::SignalLoop { signal: signal.to_string(), hops: MAX_SIGNAL_HOPS });
            continue;
        }
        if hops > 0 {
            let pending: i64 =
                conn.prepare_cached("SELECT COUNT(*) FROM signal_outbox")?.query_row([], |r| r.get(0))?;
            if pending >= MAX_PENDING_SIGNALS {
                note.get_or_insert(StoreError::SignalFlood { signal: signal.to_string(), pending });
                continue;
            }
        }
        conn.prepare_cached(
            "INSERT INTO signal_outbox (signal, source, hops, horizon)
             VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(rowid), 0) FROM element_instances))",
        )?
        .execute(params![&**signal, source, hops])?;
    }
    Ok(note)
}

/// Fires the due timers of a page of instances and runs each on: the saves
/// (expecting the versions loaded), the descriptors, the elements executed.
pub fn fire_page(page: Vec<Versioned>, options: &RunOptions) -> (Vec<Save>, Vec<Descriptor>, u64) {
    let now = options.now.unwrap_or_else(Timestamp::now);
    let mut saves = Vec::new();
    let mut moved = Vec::new();
    let mut elements = 0;
    for Versioned { mut instance, version } in page {
        if instance.status.is_finished() || instance.fire_due_timers(now) == 0 {
            continue;
        }
        let mut run = Run::new(options.clone());
        run_on(&mut instance, &mut run);
        elements += run.elements_executed;
        moved.push(instance.descriptor(None));
        saves.push(Save { instance, emitted: run.emitted, expected: Some(version), key: None });
    }
    (saves, moved, elements)
}

fn cancel_in(
    conn: &Connection,
    programs: &mut HashMap<String, Arc<Program>>,
    id: Uuid,
    actor: &str,
) -> Result<(CancelOutcome, Descriptor)> {
    let mut instance = load_instance(conn, programs, &id.to_string())?;
    match instance.status {
        Status::Cancelled => return Ok((CancelOutcome::AlreadyCancelled, instance.descriptor(None))),
        status @ (Status::Completed | Status::Failed) => return Err(StoreError::Finished { id, status }),
        Status::Running | Status::Waiting => {}
    }
    instance.cancel_by(actor, Timestamp::now());
    save_instance(conn, &instance)?;
    Ok((CancelOutcome::Cancelled, instance.descriptor(None)))
}

/// [`Store::exec`] inside `conn`'s transaction; the caller commits when
/// the outcome is `Executed`.
fn exec_in<K: AsRef<str>, V: AsRef<str>>(
    conn: &Connection,
    programs: &mut HashMap<String, Arc<Program>>,
    uid: Uuid,
    fields: &[(K, V)],
    options: RunOptions,
) -> Result<(ExecOutcome, Descriptor, u64)> {
    let id: Option<String> = conn
        .prepare_cached("SELECT instance FROM element_instances WHERE uid = ?1")?
        .query_row([uid.to_string()], |r| r.get(0))
        .optional()?;
    let Some(id) = id else {
        return Err(ExecError::UnknownUid { uid }.into());
    };
    let mut instance = load_instance(conn, programs, &id)?;
    if instance.was_executed(uid) {
        return Ok((ExecOutcome::AlreadyExecuted, instance.descriptor(None), 0));
    }
    if let Some(refusal) = instance.deadline_refusal(uid, options.now.unwrap_or_else(Timestamp::now)) {
        return Err(refusal.into());
    }
    if instance.status.is_finished() {
        return Err(ExecError::Finished { instance: instance.id, status: instance.status }.into());
    }
    let mut run = Run::new(options);
    instance.exec_only(uid, fields, &mut run)?;
    run_on(&mut instance, &mut run);
    save_instance(conn, &instance)?;
    queue_signals(conn, &run.emitted, instance.id, 0)?;
    Ok((ExecOutcome::Executed, instance.descriptor(None), run.elements_executed))
}
