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
mod error;
mod private;
pub mod schema;

pub use backend::{ProcessStore, Write, Written};
pub use error::StoreError;
pub use private::private_file;

use crate::check::spec::Program;
use crate::check::{self};
use crate::runtime::descriptor::Descriptor;
use crate::runtime::engine::{self, ClockMode, ExecError, ExecOutcome, Run, RunOptions};
use crate::runtime::instance::{Instance, Status, Wait};
use crate::runtime::saved::{SavedInstance, FORMAT_VERSION};
use jiff::Timestamp;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How long a command waits for another one that holds the store's write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// At most this many signal deliveries in one command; more means instances
/// keep waking each other up.
pub const MAX_SIGNAL_DELIVERIES: usize = 10_000;

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
        if version == 0 {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if version == 0 {
                let tables: i64 = tx.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))?;
                if tables > 0 {
                    return Err(StoreError::Foreign { path: path.to_path_buf() });
                }
                tx.execute_batch(schema::SCHEMA_V1)?;
                tx.pragma_update(None, "user_version", schema::SCHEMA_VERSION)?;
            }
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
        Ok(program.hash.clone())
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

    /// The descriptor of a stored instance, with every result parameter and its log.
    pub fn show(&mut self, id: Uuid) -> Result<Descriptor> {
        Ok(self.load(id)?.descriptor(None))
    }

    /// Runs an instance (a new one, typically) until it waits or ends, and
    /// saves it with its program; the signals it throws reach the stored
    /// instances waiting for them, in the same transaction.
    pub fn run(&mut self, instance: &mut Instance, options: RunOptions) -> Result<Run> {
        let mut run = Run::new(options);
        run_on(instance, &mut run);
        self.save_run(instance, &run)?;
        Ok(run)
    }

    /// Saves an instance that `run` moved (outside the store), with its
    /// program, and delivers the signals the run threw to the stored
    /// instances waiting for them, in one transaction.
    pub fn save_run(&mut self, instance: &Instance, run: &Run) -> Result<()> {
        let (tx, programs) = self.begin()?;
        save_run_in(&tx, programs, instance, &run.emitted, &run.options)?;
        tx.commit()?;
        self.programs.entry(instance.program.hash.clone()).or_insert_with(|| instance.program.clone());
        Ok(())
    }

    /// Starts a process by Code with string inputs, runs it until it waits
    /// or ends, keeps it, and returns its descriptor.
    pub fn start<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        program: Arc<Program>,
        code: &str,
        inputs: impl IntoIterator<Item = (K, V)>,
        options: RunOptions,
    ) -> Result<Descriptor> {
        let process = engine::find_process(&program, code)?;
        let clock = options.now.unwrap_or_else(Timestamp::now);
        let mut instance = Instance::new(program, process, clock);
        instance.set_inputs(inputs)?;
        self.run(&mut instance, options)?;
        Ok(instance.descriptor(None))
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
        let (tx, programs) = self.begin()?;
        let result = exec_in(&tx, programs, uid, fields, options)?;
        if result.0 == ExecOutcome::Executed {
            tx.commit()?;
        }
        Ok(result)
    }

    /// The stored instances, oldest first.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<InstanceSummary>> {
        let mut stmt = self.conn.prepare(
            "SELECT i.id, i.process, i.status, i.version, i.created, i.updated,
                    (SELECT COUNT(*) FROM element_instances e
                      WHERE e.instance = i.id AND e.live = 1 AND e.kind IN ('user', 'timer', 'signal'))
               FROM instances i
              WHERE (?1 IS NULL OR i.status = ?1) AND (?2 IS NULL OR i.process = ?2)
              ORDER BY i.created, i.id
              LIMIT ?3",
        )?;
        let limit = filter.limit.map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let rows = stmt.query_map(params![filter.status.map(Status::as_str), filter.process, limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, process, status, version, created, updated, waiting) = row?;
            let corrupt = |message: String| StoreError::CorruptState { instance: id.clone(), message };
            out.push(InstanceSummary {
                id: id.parse().map_err(|e| corrupt(format!("id: {e}")))?,
                process,
                status: status.parse().map_err(corrupt)?,
                waiting: u32::try_from(waiting).unwrap_or(u32::MAX),
                version,
                created,
                updated,
            });
        }
        Ok(out)
    }

    /// Cancels an instance: its waiting element-instances can no longer be
    /// executed. Cancelling a cancelled instance does nothing; a completed
    /// or failed one is refused.
    pub fn cancel(&mut self, id: Uuid) -> Result<(CancelOutcome, Descriptor)> {
        let (tx, programs) = self.begin()?;
        let mut instance = load_instance(&tx, programs, &id.to_string())?;
        match instance.status {
            Status::Cancelled => return Ok((CancelOutcome::AlreadyCancelled, instance.descriptor(None))),
            status @ (Status::Completed | Status::Failed) => return Err(StoreError::Finished { id, status }),
            Status::Running | Status::Waiting => {}
        }
        instance.cancel();
        save_instance(&tx, &instance)?;
        tx.commit()?;
        Ok((CancelOutcome::Cancelled, instance.descriptor(None)))
    }

    /// Throws a signal from outside to every stored instance waiting for
    /// it, runs each on, and returns their descriptors (also of those that
    /// the signals they throw in turn woke up).
    pub fn signal(&mut self, name: &str, options: RunOptions) -> Result<Vec<Descriptor>> {
        let (tx, programs) = self.begin()?;
        let woken = deliver(&tx, programs, &[Arc::from(name)], Uuid::nil(), &options)?;
        tx.commit()?;
        Ok(woken)
    }

    /// Fires every timer due at `now` in the stored instances and runs each
    /// instance on; returns the descriptors of the instances that moved.
    /// One transaction per instance, so a long tick never holds the store.
    pub fn tick(&mut self, now: Timestamp) -> Result<Vec<Descriptor>> {
        let candidates: Vec<String> = {
            let mut stmt = self.conn.prepare(
                "SELECT DISTINCT instance FROM element_instances
                  WHERE live = 1 AND kind = 'timer' AND due <= ?1 ORDER BY instance",
            )?;
            let rows = stmt.query_map([time_text(now)], |r| r.get(0))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let options = real_time(Some(now));
        let mut moved = Vec::new();
        for id in candidates {
            let (tx, programs) = self.begin()?;
            let mut instance = load_instance(&tx, programs, &id)?;
            if instance.status.is_finished() || instance.fire_due_timers(now) == 0 {
                continue;
            }
            let mut run = Run::new(options.clone());
            run_on(&mut instance, &mut run);
            save_instance(&tx, &instance)?;
            let woken = deliver(&tx, programs, &run.emitted, instance.id, &run.options)?;
            tx.commit()?;
            moved.push(instance.descriptor(None));
            moved.extend(woken);
        }
        Ok(moved)
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
        .map_err(|e| StoreError::BadProgram { hash: program.hash.clone(), message: e.to_string() })?;
    conn.execute(
        "INSERT INTO programs (hash, files) VALUES (?1, ?2) ON CONFLICT (hash) DO NOTHING",
        params![program.hash, files],
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
    if loaded.program.hash != hash {
        return Err(bad(format!("its sources hash to {}", loaded.program.hash)));
    }
    let program = Arc::new(loaded.program);
    cache.insert(hash.to_string(), program.clone());
    Ok(program)
}

/// Reads a saved state, checking its format version before anything else.
/// This is where a state of an older format would be migrated; version 1
/// is the first, so any other version is refused with a clear message.
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
    if version < u64::from(FORMAT_VERSION) {
        return Err(corrupt(format!("format version {version} was never written by procdsl")));
    }
    let saved: SavedInstance = serde_json::from_value(json).map_err(|e| corrupt(e.to_string()))?;
    if saved.id.to_string() != instance {
        return Err(corrupt(format!("it holds the state of instance {}", saved.id)));
    }
    Ok(saved)
}

fn load_instance(conn: &Connection, cache: &mut HashMap<String, Arc<Program>>, id: &str) -> Result<Instance> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT program, state FROM instances WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (hash, state) = row.ok_or_else(|| StoreError::UnknownInstance { id: id.to_string() })?;
    let saved = decode_state(id, &state)?;
    let program = load_program(conn, cache, &hash)?;
    saved.restore(program).map_err(|message| StoreError::CorruptState { instance: id.to_string(), message })
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
        let (kind, signal, due) = match &w.wait {
            Wait::User => ("user", None, None),
            Wait::Timer { due } => ("timer", None, Some(time_text(*due))),
            Wait::Signal { name } => ("signal", Some(name.to_string()), None),
            Wait::Call { child } => {
                entries(child, out);
                ("call", None, None)
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
        instance.program.hash,
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
/// hold it) and delivers the signals its run threw, inside `conn`'s transaction.
fn save_run_in(
    conn: &Connection,
    programs: &mut HashMap<String, Arc<Program>>,
    instance: &Instance,
    emitted: &[Arc<str>],
    options: &RunOptions,
) -> Result<()> {
    if !programs.contains_key(&instance.program.hash) {
        save_program(conn, &instance.program)?;
    }
    save_instance(conn, instance)?;
    deliver(conn, programs, emitted, instance.id, options)?;
    Ok(())
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
    if instance.status.is_finished() {
        return Err(ExecError::Finished { instance: instance.id, status: instance.status }.into());
    }
    let mut run = Run::new(options);
    instance.exec_only(uid, fields, &mut run)?;
    run_on(&mut instance, &mut run);
    save_instance(conn, &instance)?;
    deliver(conn, programs, &run.emitted, instance.id, &run.options)?;
    Ok((ExecOutcome::Executed, instance.descriptor(None), run.elements_executed))
}

/// Delivers signals thrown by `source` (nil: from outside) to every other
/// stored instance waiting for them, runs those on, and so on for the
/// signals they throw. Returns the descriptors of the instances woken.
fn deliver(
    conn: &Connection,
    programs: &mut HashMap<String, Arc<Program>>,
    signals: &[Arc<str>],
    source: Uuid,
    options: &RunOptions,
) -> Result<Vec<Descriptor>> {
    let mut queue: VecDeque<(Arc<str>, Uuid)> = signals.iter().map(|s| (s.clone(), source)).collect();
    let mut woken: Vec<Descriptor> = Vec::new();
    let mut deliveries = 0;
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT instance FROM element_instances
          WHERE signal = ?1 AND live = 1 AND kind = 'signal' ORDER BY instance",
    )?;
    while let Some((name, from)) = queue.pop_front() {
        let ids: Vec<String> = stmt.query_map([&*name], |r| r.get(0))?.collect::<std::result::Result<_, _>>()?;
        for id in ids {
            if id == from.to_string() {
                continue;
            }
            deliveries += 1;
            if deliveries > MAX_SIGNAL_DELIVERIES {
                return Err(StoreError::SignalLoop { signal: name.to_string(), limit: MAX_SIGNAL_DELIVERIES });
            }
            let mut instance = load_instance(conn, programs, &id)?;
            if instance.status.is_finished() || instance.deliver_signal(&name) == 0 {
                continue;
            }
            let mut run = Run::new(options.clone());
            run_on(&mut instance, &mut run);
            save_instance(conn, &instance)?;
            queue.extend(run.emitted.iter().map(|s| (s.clone(), instance.id)));
            let d = instance.descriptor(None);
            match woken.iter_mut().find(|w| w.process_id == d.process_id) {
                Some(w) => *w = d,
                None => woken.push(d),
            }
        }
    }
    Ok(woken)
}
