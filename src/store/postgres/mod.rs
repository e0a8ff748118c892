//! The PostgreSQL store: the same instances, index and semantics as the
//! SQLite [`Store`](super::Store), in one database that several service
//! nodes share.
//!
//! Every unit of work is one transaction in `READ COMMITTED`. What SQLite
//! gets from its single writer, PostgreSQL gets from row locks and
//! versioned updates: `exec` reads the instance's row `FOR UPDATE`, so of
//! two nodes racing on one element-instance the second waits, then reads
//! the state the first committed and finds the element executed; a save of
//! an instance run off the store (`Save`, a `Delivered` page, the
//! scheduler's fired timers) is `UPDATE … WHERE version = $n`, so of two
//! nodes that loaded the same version one gets `Conflict`. Signals wait in
//! the `signal_outbox` table for whichever node delivers them. A deadlock
//! or a serialization failure aborts a transaction, which is run again from
//! the start.
//!
//! Beyond the trait, the module keeps [`PgStore::save_versioned`], leases
//! ([`PgStore::claim_due_timers`], [`PgStore::acquire_lease`]) and sign-in
//! sessions. docs/STORE.md ("PostgreSQL") and docs/DEPLOY.md describe them.

mod db;
mod lease;
mod lookup;
mod rows;
pub mod schema;
mod session;

pub use crate::store::StoredSession;

use super::backend::Cancelled;
use super::{
    decode_state, entries, run_on, time_text, CancelOutcome, Cursor, Delivered, InstanceSummary, ListFilter,
    ProcessStore, Save, SignalPage, StoreError, Versioned, Write, Written, MAX_PENDING_SIGNALS, MAX_SIGNAL_HOPS,
};
use crate::check::{self, spec::Program};
use crate::runtime::descriptor::Descriptor;
use crate::runtime::engine::{ExecError, ExecOutcome, Run, RunOptions};
use crate::runtime::instance::{Instance, Status};
use crate::runtime::saved::{SavedInstance, FORMAT_VERSION};
use db::{Db, Manager};
use jiff::Timestamp;
use postgres::error::SqlState;
use postgres::types::Type;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

type Result<T> = std::result::Result<T, StoreError>;
type Pool = r2d2::Pool<Manager>;

/// A transaction aborted by a deadlock or a serialization failure is run
/// again this many times before its error is returned.
const RETRIES: u32 = 5;

/// A connection idle in the pool longer than this is checked before use
/// (with [`PgOptions::check_on_checkout`]).
pub const CHECK_IDLE: Duration = Duration::from_secs(1);

/// The advisory lock that serializes migrations of nodes starting at once.
const MIGRATION_LOCK: i64 = 0x7072_6f63_6473_6c00; // "procdsl\0"

/// How a [`PgStore`] pools its connections and leases its work. Every
/// field has a default; docs/DEPLOY.md says how to size them.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// Most connections open at once (default [`default_connections`]). A
    /// unit of work holds one.
    pub max_connections: u32,
    /// Connections kept open while idle (default 1).
    pub min_idle: u32,
    /// How long opening a connection, or waiting for a free one, may take
    /// before the operation fails as `Unavailable` (default 5 s).
    pub connect_timeout: Duration,
    /// Longest statement, row-lock waits included (default 30 s): a node
    /// never waits forever behind a stuck one.
    pub statement_timeout: Duration,
    /// An idle connection is closed after this (default 10 min).
    pub idle_timeout: Option<Duration>,
    /// A connection is replaced after this (default 30 min), so that a
    /// server fail-over or a DNS change is picked up.
    pub max_lifetime: Option<Duration>,
    /// Check a connection that sat idle in the pool for more than
    /// [`CHECK_IDLE`] with an empty query before it is used (default on):
    /// after the server restarted, the first request finds a fresh
    /// connection instead of failing on a dead one. One round trip, saved
    /// on a connection in steady use (a dead one then fails one call).
    pub check_on_checkout: bool,
    /// How long a claim on a due timer or a background run lasts; a node
    /// that dies holding one leaves the work to another once it expires
    /// (default 60 s).
    pub lease: Duration,
    /// This node's name in the leases it holds (default: the process id and
    /// a random suffix, unique per [`PgStore::connect`]).
    pub node: String,
}

impl Default for PgOptions {
    fn default() -> PgOptions {
        PgOptions {
            max_connections: default_connections(),
            min_idle: 1,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            check_on_checkout: true,
            lease: Duration::from_secs(60),
            node: format!("node-{}-{}", std::process::id(), &Uuid::new_v4().simple().to_string()[..8]),
        }
    }
}

/// The pool's size unless one is given: the machine's cores, at least 2
/// and at most 8. The service runs a store thread per connection, each
/// committing what queued up while it was busy; more committers than cores
/// split the group commits into more, smaller ones, and on two cores eight
/// connections per node cost 40 % more CPU per cycle than two
/// (docs/BENCHMARKS.md, "Several nodes on PostgreSQL").
pub fn default_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores).unwrap_or(u32::MAX).clamp(2, 8)
}

/// Programs read from the database, by hash, shared by the clones of a
/// store. A hash names one exact set of sources, so an entry never goes
/// stale; an entry also means "the database holds this program".
#[derive(Default)]
struct Programs(Mutex<HashMap<String, Arc<Program>>>);

impl Programs {
    fn get(&self, hash: &str) -> Option<Arc<Program>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(hash).cloned()
    }

    fn remember(&self, program: &Arc<Program>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(program.hash().to_string()).or_insert_with(|| program.clone());
    }
}

/// A PostgreSQL store, open: a pool of connections to one database. Clones
/// share the pool, the program cache and the node name, so threads of one
/// node can each hold a clone; two [`PgStore::connect`] calls are two nodes.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    target: Arc<str>,
    programs: Arc<Programs>,
    options: Arc<PgOptions>,
    /// Connections found dead so far (see [`PgStore::conn`]).
    losses: Arc<AtomicU64>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("target", &self.target).field("node", &self.options.node).finish()
    }
}

pub use super::location::{is_url, redact};

impl PgStore {
    /// Connects to the database at `url` (`postgres://USER@HOST[:PORT]/DB`
    /// or `key=value` pairs), creating the tables in an empty database and
    /// migrating an older schema forward.
    pub fn connect(url: &str, options: PgOptions) -> Result<PgStore> {
        let target: Arc<str> = redact(url).into();
        let unavailable = |message: String| StoreError::Unavailable { target: target.to_string(), message };
        let mut config: postgres::Config =
            url.parse().map_err(|e| unavailable(format!("not a PostgreSQL connection string: {e}")))?;
        config.connect_timeout(options.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name("procdsl");
        }
        let max = options.max_connections.max(1);
        let pool = r2d2::Pool::builder()
            .max_size(max)
            .min_idle(Some(options.min_idle.min(max)))
            .connection_timeout(options.connect_timeout.max(Duration::from_millis(1)))
            .idle_timeout(options.idle_timeout)
            .max_lifetime(options.max_lifetime)
            // Checked in `conn`, only after an idle while.
            .test_on_check_out(false)
            .build(Manager { config, statement_timeout: options.statement_timeout })
            .map_err(|e| unavailable(e.to_string()))?;
        let store = PgStore {
            pool,
            target,
            programs: Arc::new(Programs::default()),
            options: Arc::new(options),
            losses: Arc::new(AtomicU64::new(0)),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The connection string, without its password.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &PgOptions {
        &self.options
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64> {
        let mut conn = self.conn()?;
        Ok(conn.client.query_one("SELECT COALESCE(MAX(version), 0) FROM procdsl_schema", &[])?.try_get(0)?)
    }

    /// A connection from the pool; one idle for a while is checked first,
    /// and a dead one dropped (the pool replaces it).
    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>> {
        let unavailable =
            |e: r2d2::Error| StoreError::Unavailable { target: self.target.to_string(), message: e.to_string() };
        // Each failed check closes one connection: past the pool's size,
        // every connection tried was dead and a new one is opened.
        for _ in 0..=self.options.max_connections {
            let mut conn = self.pool.get().map_err(unavailable)?;
            // Idle for a while, or another connection was lost since this
            // one was last used (the server may have restarted meanwhile).
            let losses = self.losses.load(Ordering::Relaxed);
            let suspect = conn.taken.elapsed() > CHECK_IDLE || conn.losses != losses;
            conn.taken = std::time::Instant::now();
            conn.losses = losses;
            if !(self.options.check_on_checkout && suspect) || conn.alive() {
                return Ok(conn);
            }
        }
        self.pool.get().map_err(unavailable)
    }

    /// After a call that lost its connection: the pool drops it, and every
    /// other connection is checked before its next use.
    fn lost<T>(&self, conn: &mut db::Conn, result: &Result<T>) {
        if matches!(result, Err(e) if is_lost(e)) {
            conn.broken = true;
            self.losses.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Brings the schema to [`schema::SCHEMA_VERSION`], under an advisory
    /// lock so that nodes starting together migrate once.
    fn migrate(&self) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        let versioned: bool = tx.query_one("SELECT to_regclass('procdsl_schema') IS NOT NULL", &[])?.try_get(0)?;
        let version: i64 = if versioned {
            tx.query_one("SELECT COALESCE(MAX(version), 0) FROM procdsl_schema", &[])?.try_get(0)?
        } else {
            let tables: i64 = tx
                .query_one("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()", &[])?
                .try_get(0)?;
            if tables > 0 {
                return Err(StoreError::Foreign { path: PathBuf::from(&*self.target) });
            }
            tx.batch_execute(schema::VERSION_TABLE)?;
            0
        };
        if version > schema::SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: PathBuf::from(&*self.target),
                found: version,
                supported: schema::SCHEMA_VERSION,
            });
        }
        let applied = time_text(Timestamp::now());
        for (step, sql) in (1_i64..).zip(schema::MIGRATIONS).skip(usize::try_from(version).unwrap_or(0)) {
            tx.batch_execute(sql)?;
            tx.execute("INSERT INTO procdsl_schema (version, applied) VALUES ($1, $2)", &[&step, &applied])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs `work` in one transaction and commits it; a deadlock or a
    /// serialization failure runs it again from the start (it re-reads
    /// everything), up to [`RETRIES`] times.
    fn transact<T>(&self, work: impl FnMut(&mut Db<'_>, &Programs) -> Result<T>) -> Result<T> {
        self.run_work(false, work)
    }

    /// [`PgStore::transact`] for a unit of work that is one statement (or
    /// reads that need no common snapshot): no `BEGIN` and `COMMIT`, two
    /// round trips fewer; the statement commits by itself.
    fn autocommit<T>(&self, work: impl FnMut(&mut Db<'_>, &Programs) -> Result<T>) -> Result<T> {
        self.run_work(true, work)
    }

    fn run_work<T>(&self, single: bool, mut work: impl FnMut(&mut Db<'_>, &Programs) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let mut attempt = 0;
        loop {
            let result = if single {
                work(&mut conn.autocommit(), &self.programs)
            } else {
                conn.begin().and_then(|mut db| {
                    let value = work(&mut db, &self.programs)?;
                    db.commit()?;
                    Ok(value)
                })
            };
            match result {
                Err(e) if attempt < RETRIES && is_transient(&e) => attempt += 1,
                other => {
                    self.lost(&mut conn, &other);
                    return other;
                }
            }
        }
    }

    /// Saves an instance that a run moved (outside the store) only if
    /// nobody saved it since version `expected` (None: it must be new), with
    /// its program, and queues the signals the run threw in the outbox;
    /// returns the new version. `UPDATE … WHERE version = $n`: a conflict
    /// is [`StoreError::Conflict`] and nothing is written.
    pub fn save_versioned(&self, instance: &Instance, run: &Run, expected: Option<i64>) -> Result<i64> {
        self.save_checked(instance, &run.emitted, expected)
    }

    /// [`PgStore::save_versioned`] of the signals `emitted`.
    fn save_checked(&self, instance: &Instance, emitted: &[Arc<str>], expected: Option<i64>) -> Result<i64> {
        let version = self.transact(|tx, programs| {
            if programs.get(instance.program.hash()).is_none() {
                save_program(tx, &instance.program)?;
            }
            let version = save_instance(tx, instance, Some(expected))?;
            queue_signals(tx, emitted, instance.id, 0)?;
            Ok(version)
        })?;
        self.programs.remember(&instance.program);
        Ok(version)
    }

    /// The program stored under this hash, rebuilt from its sources.
    pub fn load_program(&self, hash: &str) -> Result<Arc<Program>> {
        self.transact(|db, programs| load_program(db, programs, hash))
    }
}

/// What a write of a batch did, before its result is handed back.
enum Done {
    Saved,
    Exec(ExecOutcome, Box<Descriptor>, u64),
    Delivered(Vec<StoreError>),
}

/// One write of a batch inside `tx`.
fn apply(tx: &mut Db<'_>, programs: &Programs, write: &Write) -> Result<Done> {
    match write {
        Write::SaveRun { instance, emitted, .. } => {
            save_run_in(tx, programs, instance, emitted)?;
            Ok(Done::Saved)
        }
        Write::Save(save) => {
            save_in(tx, programs, save)?;
            Ok(Done::Saved)
        }
        Write::Exec { uid, fields, options } => {
            let (outcome, d, n) = exec_in(tx, programs, *uid, fields, options.clone())?;
            Ok(Done::Exec(outcome, Box::new(d), n))
        }
        Write::Delivered(page) => delivered_in(tx, programs, page).map(Done::Delivered),
    }
}

/// Is this write one statement, failing only as a whole? Then it needs
/// neither a transaction of its own nor a savepoint in a batch: a save
/// without signals, idempotency key or a program not yet stored, whose
/// versioned `UPDATE` reports a conflict by matching no row.
fn single_statement(write: &Write, programs: &Programs) -> bool {
    let stored = |program: &Program| programs.get(program.hash()).is_some();
    match write {
        Write::SaveRun { instance, emitted, .. } => emitted.is_empty() && stored(&instance.program),
        Write::Save(save) => save.emitted.is_empty() && save.key.is_none() && stored(&save.instance.program),
        Write::Exec { .. } | Write::Delivered(_) => false,
    }
}

/// The program a write saves, if any: remembered once its transaction committed.
fn saved_program(write: &Write) -> Option<&Arc<Program>> {
    match write {
        Write::SaveRun { instance, .. } => Some(&instance.program),
        Write::Save(save) => Some(&save.instance.program),
        Write::Exec { .. } | Write::Delivered(_) => None,
    }
}

impl PgStore {
    /// One write in a transaction of its own.
    fn write_alone(&mut self, write: Write) -> Result<Written> {
        let single = single_statement(&write, &self.programs);
        let done = self.run_work(single, |tx, programs| apply(tx, programs, &write))?;
        if let Some(program) = saved_program(&write) {
            self.programs.remember(program);
        }
        Ok(written(done, write))
    }
}

/// The result of a write that was applied and committed.
fn written(done: Done, write: Write) -> Written {
    match (done, write) {
        (Done::Exec(outcome, d, n), _) => Written::Exec(outcome, d, n),
        (Done::Delivered(notes), _) => Written::Delivered(notes),
        (Done::Saved, Write::SaveRun { instance, .. }) => Written::Saved(instance),
        (Done::Saved, Write::Save(save)) => Written::Saved(Box::new(save.instance)),
        // `apply` answers `Saved` only for the two saves.
        (Done::Saved, Write::Exec { .. } | Write::Delivered(_)) => Written::Delivered(Vec::new()),
    }
}

/// Should the whole transaction run again? PostgreSQL aborts one of two
/// transactions that deadlock, or that a stricter isolation cannot order.
fn is_transient(e: &StoreError) -> bool {
    let StoreError::Postgres(e) = e else { return false };
    matches!(e.code(), Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE)
}

/// Did this error end the connection (closed, an I/O error, the server
/// shutting down)? Then the pool drops it rather than lend it again.
fn is_lost(e: &StoreError) -> bool {
    let StoreError::Postgres(e) = e else { return false };
    e.is_closed() || e.code().is_none() || e.code().is_some_and(|c| c.code().starts_with("57P"))
}

/// A program's files as the `programs.files` JSON.
fn encode_files(program: &Program) -> Result<String> {
    let files: Vec<(&str, &str)> = program.sources.files().map(|(_, f)| (f.name.as_str(), &*f.text)).collect();
    serde_json::to_string(&files)
        .map_err(|e| StoreError::BadProgram { hash: program.hash().to_string(), message: e.to_string() })
}

/// The program that `programs.files` JSON holds, checked against its hash.
fn decode_files(hash: &str, files: &str) -> Result<Program> {
    let bad = |message: String| StoreError::BadProgram { hash: hash.to_string(), message };
    let files: Vec<(String, String)> = serde_json::from_str(files).map_err(|e| bad(e.to_string()))?;
    let loaded = check::load_sources(&files).map_err(|e| bad(e.to_string()))?;
    if loaded.program.hash() != hash {
        return Err(bad(format!("its sources hash to {}", loaded.program.hash())));
    }
    Ok(loaded.program)
}

fn save_program(db: &mut Db<'_>, program: &Program) -> Result<()> {
    let files = encode_files(program)?;
    db.execute(
        "INSERT INTO programs (hash, files) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING",
        &[(&program.hash(), Type::TEXT), (&files, Type::TEXT)],
    )?;
    Ok(())
}

fn load_program(db: &mut Db<'_>, programs: &Programs, hash: &str) -> Result<Arc<Program>> {
    if let Some(p) = programs.get(hash) {
        return Ok(p);
    }
    let row = db.query_opt("SELECT files FROM programs WHERE hash = $1", &[(&hash, Type::TEXT)])?;
    let row = row.ok_or_else(|| StoreError::MissingProgram { hash: hash.to_string() })?;
    let program = Arc::new(decode_files(hash, row.try_get(0)?)?);
    programs.remember(&program);
    Ok(program)
}

/// An instance and its version; `lock` takes its row lock until the
/// transaction ends, so that nobody else changes it meanwhile.
fn load_instance(db: &mut Db<'_>, programs: &Programs, id: &str, lock: bool) -> Result<(Instance, i64)> {
    let sql = if lock {
        "SELECT program, state, version FROM instances WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT program, state, version FROM instances WHERE id = $1"
    };
    let row = db.query_opt(sql, &[(&id, Type::TEXT)])?;
    let row = row.ok_or_else(|| StoreError::UnknownInstance { id: id.to_string() })?;
    let instance = restore(db, programs, id, row.try_get(0)?, row.try_get(1)?)?;
    Ok((instance, row.try_get(2)?))
}

/// An instance from its saved state, on the program stored under `hash`.
fn restore(db: &mut Db<'_>, programs: &Programs, id: &str, hash: &str, state: &str) -> Result<Instance> {
    let saved = decode_state(id, state)?;
    let program = load_program(db, programs, hash)?;
    saved.restore(program).map_err(|message| StoreError::CorruptState { instance: id.to_string(), message })
}

/// Saves an instance and its index rows in one statement (one round
/// trip); returns its new version. With `check = Some(expected)`, only if
/// its version is still `expected` (None: only if it is new); otherwise
/// [`StoreError::Conflict`] and nothing is written.
///
/// The index rows of element-instances no longer pending or waiting are
/// marked dead and the current ones upserted: two disjoint sets, so no row
/// is changed twice in the statement.
fn save_instance(tx: &mut Db<'_>, instance: &Instance, check: Option<Option<i64>>) -> Result<i64> {
    let id = instance.id.to_string();
    let state = serde_json::to_string(&SavedInstance::of(instance))
        .map_err(|e| StoreError::CorruptState { instance: id.clone(), message: e.to_string() })?;
    let now = time_text(Timestamp::now());
    let status = instance.status.as_str();
    let format = i64::from(FORMAT_VERSION);
    let process: &str = &instance.spec().code;
    let insert = "INSERT INTO instances (id, program, process, status, format, state, version, created, updated)
                  VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)";
    let (saved, expected) = match check {
        None => (
            format!(
                "{insert} ON CONFLICT (id) DO UPDATE SET status = excluded.status, format = excluded.format,
                     state = excluded.state, version = instances.version + 1, updated = excluded.updated
                 RETURNING version"
            ),
            None,
        ),
        Some(None) => (format!("{insert} ON CONFLICT (id) DO NOTHING RETURNING version"), None),
        Some(Some(expected)) => (
            "UPDATE instances SET status = $4, format = $5, state = $6, version = version + 1, updated = $7
              WHERE id = $1 AND version = $8 RETURNING version"
                .to_string(),
            Some(expected),
        ),
    };
    let mut list = Vec::new();
    entries(instance, &mut list);
    let uids: Vec<String> = list.iter().map(|e| e.uid.to_string()).collect();
    let kinds: Vec<&str> = list.iter().map(|e| e.kind).collect();
    let signals: Vec<Option<&str>> = list.iter().map(|e| e.signal.as_deref()).collect();
    let dues: Vec<Option<&str>> = list.iter().map(|e| e.due.as_deref()).collect();
    let sql = format!(
        "WITH saved AS ({saved}),
         dead AS (
             UPDATE element_instances SET live = FALSE, signal = NULL, due = NULL
              WHERE instance = $1 AND live AND uid <> ALL($9::text[]) AND EXISTS (SELECT 1 FROM saved)),
         current AS (
             INSERT INTO element_instances (uid, instance, kind, live, signal, due)
             SELECT u, $1, k, TRUE, s, d FROM UNNEST($9::text[], $10::text[], $11::text[], $12::text[]) AS t(u, k, s, d)
              WHERE EXISTS (SELECT 1 FROM saved)
             ON CONFLICT (uid) DO UPDATE SET instance = excluded.instance, kind = excluded.kind, live = TRUE,
                 signal = excluded.signal, due = excluded.due)
         SELECT version FROM saved"
    );
    let row = tx.query_opt(
        &sql,
        &[
            (&id, Type::TEXT),
            (&instance.program.hash(), Type::TEXT),
            (&process, Type::TEXT),
            (&status, Type::TEXT),
            (&format, Type::INT8),
            (&state, Type::TEXT),
            (&now, Type::TEXT),
            (&expected, Type::INT8),
            (&uids, Type::TEXT_ARRAY),
            (&kinds, Type::TEXT_ARRAY),
            (&signals, Type::TEXT_ARRAY),
            (&dues, Type::TEXT_ARRAY),
        ],
    )?;
    Ok(row.ok_or(StoreError::Conflict { id: instance.id })?.try_get(0)?)
}

/// [`ProcessStore::exec`] inside `tx`: the instance's row lock makes it
/// exactly once across nodes. The signals the run threw go to the outbox.
fn exec_in(
    tx: &mut Db<'_>,
    programs: &Programs,
    uid: Uuid,
    fields: &[(String, String)],
    options: RunOptions,
) -> Result<(ExecOutcome, Descriptor, u64)> {
    // The look-up and the row lock in one round trip.
    let row = tx.query_opt(
        "SELECT i.id, i.program, i.state FROM element_instances e JOIN instances i ON i.id = e.instance
          WHERE e.uid = $1 FOR UPDATE OF i",
        &[(&uid.to_string(), Type::TEXT)],
    )?;
    let Some(row) = row else {
        return Err(ExecError::UnknownUid { uid }.into());
    };
    let mut instance = restore(tx, programs, row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)?;
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
    save_instance(tx, &instance, None)?;
    queue_signals(tx, &run.emitted, instance.id, 0)?;
    Ok((ExecOutcome::Executed, instance.descriptor(None), run.elements_executed))
}

/// Saves a moved instance with its program (unless known to be stored)
/// and queues the signals its run threw, inside `tx`.
fn save_run_in(tx: &mut Db<'_>, programs: &Programs, instance: &Instance, emitted: &[Arc<str>]) -> Result<()> {
    if programs.get(instance.program.hash()).is_none() {
        save_program(tx, &instance.program)?;
    }
    save_instance(tx, instance, None)?;
    queue_signals(tx, emitted, instance.id, 0)?;
    Ok(())
}

/// A [`Save`] inside `tx`: `Conflict` when the instance was saved since
/// the version expected (the versioned `UPDATE` matched no row), `KeyUsed`
/// when its idempotency key is taken.
fn save_in(tx: &mut Db<'_>, programs: &Programs, save: &Save) -> Result<()> {
    if programs.get(save.instance.program.hash()).is_none() {
        save_program(tx, &save.instance.program)?;
    }
    save_instance(tx, &save.instance, save.expected.map(Some))?;
    queue_signals(tx, &save.emitted, save.instance.id, 0)?;
    if let Some((key, answer)) = &save.key {
        remember(tx, key, save.instance.id, answer)?;
    }
    Ok(())
}

/// Keeps an answer under an idempotency key; `KeyUsed` when it is taken.
/// Of two nodes inserting one key at once, the second waits for the
/// first's commit and then finds it taken.
fn remember(tx: &mut Db<'_>, key: &str, instance: Uuid, answer: &str) -> Result<()> {
    let inserted = tx.execute(
        "INSERT INTO idempotency (key, instance, answer, created) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO NOTHING",
        &[
            (&key, Type::TEXT),
            (&instance.to_string(), Type::TEXT),
            (&answer, Type::TEXT),
            (&time_text(Timestamp::now()), Type::TEXT),
        ],
    )?;
    if inserted == 0 {
        return Err(StoreError::KeyUsed { key: key.to_string() });
    }
    Ok(())
}

/// Puts the signals `source` threw in the outbox, `hops` deliveries after
/// the first throw, when someone else waits for them; as the SQLite
/// store's `queue_signals` (hop and flood limits included). `horizon` is
/// the last `element_instances.seq` handed out (the sequence's value: no
/// index to keep for `MAX(seq)`, schema version 5): a wait that begins
/// later does not get the signal.
fn queue_signals(tx: &mut Db<'_>, signals: &[Arc<str>], source: Uuid, hops: i64) -> Result<Option<StoreError>> {
    let source = source.to_string();
    let mut note = None;
    for signal in signals {
        let waited = tx.query_opt(
            "SELECT 1 FROM element_instances
              WHERE signal = $1 AND live AND kind = 'signal' AND instance <> $2 LIMIT 1",
            &[(&&**signal, Type::TEXT), (&source, Type::TEXT)],
        )?;
        if waited.is_none() {
            continue;
        }
        if hops > MAX_SIGNAL_HOPS {
            note.get_or_insert(StoreError::SignalLoop { signal: signal.to_string(), hops: MAX_SIGNAL_HOPS });
            continue;
        }
        if hops > 0 {
            let pending: i64 =
                tx.query_opt("SELECT COUNT(*) FROM signal_outbox", &[])?.map_or(Ok(0), |r| r.try_get(0))?;
            if pending >= MAX_PENDING_SIGNALS {
                note.get_or_insert(StoreError::SignalFlood { signal: signal.to_string(), pending });
                continue;
            }
        }
        tx.execute(
            "INSERT INTO signal_outbox (signal, source, hops, horizon)
             VALUES ($1, $2, $3, COALESCE(pg_sequence_last_value(pg_get_serial_sequence('element_instances', 'seq')), 0))",
            &[(&&**signal, Type::TEXT), (&source, Type::TEXT), (&hops, Type::INT8)],
        )?;
    }
    Ok(note)
}

/// A page of a signal's delivery inside `tx`: every save (all or none: a
/// conflict refuses the page), the signals they threw one hop further, and
/// the outbox row moved on (or removed when done). Returns the signals
/// that were not passed on.
fn delivered_in(tx: &mut Db<'_>, programs: &Programs, page: &Delivered) -> Result<Vec<StoreError>> {
    let mut notes = Vec::new();
    for save in &page.saves {
        if programs.get(save.instance.program.hash()).is_none() {
            save_program(tx, &save.instance.program)?;
        }
        save_instance(tx, &save.instance, save.expected.map(Some))?;
        if let Some(note) = queue_signals(tx, &save.emitted, save.instance.id, page.hops + 1)? {
            notes.push(note);
        }
    }
    match &page.cursor {
        Some(cursor) => {
            tx.execute(
                "UPDATE signal_outbox SET cursor = $2 WHERE id = $1",
                &[(&page.outbox, Type::INT8), (cursor, Type::TEXT)],
            )?;
        }
        None => {
            tx.execute("DELETE FROM signal_outbox WHERE id = $1", &[(&page.outbox, Type::INT8)])?;
        }
    }
    Ok(notes)
}

/// Cancels an instance inside `tx`, under its row lock.
fn cancel_in(tx: &mut Db<'_>, programs: &Programs, id: Uuid, actor: &str) -> Result<(CancelOutcome, Descriptor)> {
    let (mut instance, _) = load_instance(tx, programs, &id.to_string(), true)?;
    match instance.status {
        Status::Cancelled => return Ok((CancelOutcome::AlreadyCancelled, instance.descriptor(None))),
        status @ (Status::Completed | Status::Failed) => return Err(StoreError::Finished { id, status }),
        Status::Running | Status::Waiting => {}
    }
    instance.cancel_by(actor, Timestamp::now());
    save_instance(tx, &instance, None)?;
    Ok((CancelOutcome::Cancelled, instance.descriptor(None)))
}

/// An instance with its version, without a row lock.
fn load_versioned_in(tx: &mut Db<'_>, programs: &Programs, id: &str) -> Result<Versioned> {
    let (instance, version) = load_instance(tx, programs, id, false)?;
    Ok(Versioned { instance, version })
}

/// Does this error say the database failed (rather than one instance)?
fn is_database(e: &StoreError) -> bool {
    matches!(e, StoreError::Postgres(_) | StoreError::Unavailable { .. } | StoreError::Database(_))
}

/// One line of a list from its row.
fn summary(r: &postgres::Row) -> Result<InstanceSummary> {
    let id: String = r.try_get(0)?;
    let corrupt = |message: String| StoreError::CorruptState { instance: id.clone(), message };
    Ok(InstanceSummary {
        id: id.parse().map_err(|e| corrupt(format!("id: {e}")))?,
        process: r.try_get(1)?,
        status: r.try_get::<_, &str>(2)?.parse().map_err(corrupt)?,
        waiting: u32::try_from(r.try_get::<_, i64>(6)?).unwrap_or(u32::MAX),
        version: r.try_get(3)?,
        created: r.try_get(4)?,
        updated: r.try_get(5)?,
        started_by: r.try_get(7)?,
    })
}

/// A batch's writes in one transaction; each result, or the error that
/// aborted the transaction.
fn apply_batch(conn: &mut db::Conn, programs: &Programs, writes: &[Write]) -> Result<Vec<Result<Done>>> {
    let mut tx = conn.begin()?;
    let mut results = Vec::with_capacity(writes.len());
    for write in writes {
        if single_statement(write, programs) {
            // A conflict wrote nothing and leaves the transaction
            // usable; an error aborts it, and the batch is applied
            // again one write at a time.
            match apply(&mut tx, programs, write) {
                Err(e) if is_database(&e) => return Err(e),
                result => results.push(result),
            }
            continue;
        }
        let mut savepoint = tx.savepoint("write")?;
        let result = apply(&mut savepoint, programs, write);
        if result.is_ok() {
            savepoint.commit()?;
        } else {
            savepoint.rollback()?;
        }
        results.push(result);
    }
    tx.commit()?;
    Ok(results)
}

impl ProcessStore for PgStore {
    fn save_run(&mut self, instance: &Instance, run: &Run) -> Result<()> {
        self.transact(|tx, programs| save_run_in(tx, programs, instance, &run.emitted))?;
        self.programs.remember(&instance.program);
        Ok(())
    }

    fn exec(
        &mut self,
        uid: Uuid,
        fields: &[(String, String)],
        options: RunOptions,
    ) -> Result<(ExecOutcome, Descriptor, u64)> {
        self.transact(|tx, programs| exec_in(tx, programs, uid, fields, options.clone()))
    }

    fn load(&mut self, id: Uuid) -> Result<Instance> {
        self.load_versioned(id).map(|v| v.instance)
    }

    /// A clone per pooled connection but the first: as many store threads
    /// as connections, so that no thread waits for the pool.
    fn concurrent_handles(&self) -> Vec<Box<dyn ProcessStore>> {
        (1..self.options.max_connections.max(1)).map(|_| Box::new(self.clone()) as Box<dyn ProcessStore>).collect()
    }

    /// One statement (and one more the first time its program is read).
    fn load_versioned(&mut self, id: Uuid) -> Result<Versioned> {
        self.autocommit(|tx, programs| load_versioned_in(tx, programs, &id.to_string()))
    }

    /// The look-up and the load in one statement, outside a transaction:
    /// one round trip, on one snapshot.
    fn load_by_uid(&mut self, uid: Uuid) -> Result<Versioned> {
        self.autocommit(|tx, programs| {
            let row = tx.query_opt(
                "SELECT i.id, i.program, i.state, i.version FROM element_instances e
                   JOIN instances i ON i.id = e.instance WHERE e.uid = $1",
                &[(&uid.to_string(), Type::TEXT)],
            )?;
            let Some(row) = row else {
                return Err(ExecError::UnknownUid { uid }.into());
            };
            let instance = restore(tx, programs, row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)?;
            Ok(Versioned { instance, version: row.try_get(3)? })
        })
    }

    /// Keyset paging over `(created, id)`, as the SQLite store: an index
    /// gives the rows in order.
    fn list(&mut self, filter: &ListFilter, after: Option<&Cursor>) -> Result<Vec<InstanceSummary>> {
        let mut conn = self.conn()?;
        let status = filter.status.map(Status::as_str);
        let limit = filter.limit.map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let after_created = after.map(|c| c.created.clone());
        let after_id = after.map(|c| c.id.to_string());
        let mut sql = String::from(
            "SELECT i.id, i.process, i.status, i.version, i.created, i.updated,
                    (SELECT COUNT(*) FROM element_instances e
                      WHERE e.instance = i.id AND e.live AND e.kind IN ('user', 'timer', 'signal')),
                    CASE WHEN jsonb_typeof(i.state::jsonb -> 'startedBy') = 'string'
                         THEN i.state::jsonb ->> 'startedBy' END
               FROM instances i WHERE TRUE",
        );
        let mut params: Vec<(&(dyn postgres::types::ToSql + Sync), Type)> = Vec::new();
        if let Some(status) = &status {
            params.push((status, Type::TEXT));
            sql.push_str(&format!(" AND i.status = ${}", params.len()));
        }
        if let Some(process) = &filter.process {
            params.push((process, Type::TEXT));
            sql.push_str(&format!(" AND i.process = ${}", params.len()));
        }
        if let (Some(created), Some(id)) = (&after_created, &after_id) {
            params.push((created, Type::TEXT));
            params.push((id, Type::TEXT));
            let n = params.len();
            sql.push_str(&format!(" AND (i.created, i.id) > (${}, ${n})", n - 1));
        }
        params.push((&limit, Type::INT8));
        sql.push_str(&format!(" ORDER BY i.created, i.id LIMIT ${}", params.len()));
        let rows = conn.client.query_typed(&sql, &params)?;
        rows.iter().map(summary).collect()
    }

    /// A `GROUP BY` over the index `instances_by_status` (schema v2 says
    /// why there is no counts table).
    fn count_by_status(&mut self) -> Result<Vec<(Status, u64)>> {
        let mut conn = self.conn()?;
        let rows =
            conn.client.query_typed("SELECT status, COUNT(*) FROM instances GROUP BY status ORDER BY status", &[])?;
        let mut out = Vec::new();
        for row in rows {
            if let Ok(status) = row.try_get::<_, &str>(0)?.parse::<Status>() {
                out.push((status, u64::try_from(row.try_get::<_, i64>(1)?).unwrap_or(0)));
            }
        }
        Ok(out)
    }

    /// One transaction, a savepoint per instance: one that cannot be
    /// cancelled is reported and does not stop the others.
    fn cancel_many(&mut self, ids: &[Uuid], actor: &str) -> Result<Cancelled> {
        self.transact(|tx, programs| {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let mut savepoint = tx.savepoint("cancel")?;
                // A deadlock aborts the whole transaction: it runs again.
                match cancel_in(&mut savepoint, programs, *id, actor) {
                    Err(e) if is_transient(&e) => return Err(e),
                    Ok(done) => {
                        savepoint.commit()?;
                        out.push(Ok(done));
                    }
                    Err(e) => {
                        savepoint.rollback()?;
                        out.push(Err(e));
                    }
                }
            }
            Ok(out)
        })
    }

    /// Reads the partial index of live due rows (timers, deadlines,
    /// reminders) only. Two nodes may load the
    /// same instance: each saves it expecting the version loaded, so its
    /// timers fire once.
    fn due(&mut self, now: Timestamp, limit: usize) -> Result<(Vec<Versioned>, Vec<StoreError>)> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.transact(|tx, programs| {
            let rows = tx.query(
                "SELECT instance FROM element_instances
                  WHERE live AND due IS NOT NULL AND due <= $1 ORDER BY due LIMIT $2",
                &[(&time_text(now), Type::TEXT), (&limit, Type::INT8)],
            )?;
            let mut out = Vec::new();
            let mut failed = Vec::new();
            let mut tried = std::collections::HashSet::new();
            for row in rows {
                let id: String = row.try_get(0)?;
                if !tried.insert(id.clone()) {
                    continue;
                }
                match load_versioned_in(tx, programs, &id) {
                    Ok(v) => out.push(v),
                    Err(e) if is_database(&e) => return Err(e),
                    Err(e) => failed.push(e),
                }
            }
            Ok((out, failed))
        })
    }

    /// As the SQLite store's `signal_page`. Two nodes delivering one row
    /// never deliver twice to an instance: each save expects the version
    /// loaded, and a wait that began after the throw is past the horizon.
    fn signal_page(&mut self, only: Option<i64>, skip: &[i64], limit: usize) -> Result<Option<SignalPage>> {
        let skip: Vec<i64> = if only.is_some() { Vec::new() } else { skip.to_vec() };
        let n = i64::try_from(limit).unwrap_or(i64::MAX);
        self.transact(|tx, programs| loop {
            let row = tx.query_opt(
                "SELECT id, signal, source, hops, horizon, cursor FROM signal_outbox
                  WHERE ($1::bigint IS NULL OR id = $1) AND id <> ALL($2::bigint[])
                  ORDER BY id LIMIT 1",
                &[(&only, Type::INT8), (&skip, Type::INT8_ARRAY)],
            )?;
            let Some(row) = row else { return Ok(None) };
            let outbox: i64 = row.try_get(0)?;
            let signal: String = row.try_get(1)?;
            let source: String = row.try_get(2)?;
            let hops: i64 = row.try_get(3)?;
            let horizon: i64 = row.try_get(4)?;
            let cursor: String = row.try_get(5)?;
            let ids: Vec<String> = tx
                .query(
                    "SELECT DISTINCT instance FROM element_instances
                      WHERE signal = $1 AND live AND kind = 'signal' AND instance > $2 AND instance <> $3
                        AND seq <= $4
                      ORDER BY instance LIMIT $5",
                    &[
                        (&signal, Type::TEXT),
                        (&cursor, Type::TEXT),
                        (&source, Type::TEXT),
                        (&horizon, Type::INT8),
                        (&n, Type::INT8),
                    ],
                )?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<std::result::Result<_, _>>()?;
            if ids.is_empty() {
                tx.execute("DELETE FROM signal_outbox WHERE id = $1", &[(&outbox, Type::INT8)])?;
                if only.is_some() {
                    return Ok(None);
                }
                continue;
            }
            let more = ids.len() >= limit;
            let mut instances = Vec::with_capacity(ids.len());
            let mut failed = Vec::new();
            for id in &ids {
                match load_versioned_in(tx, programs, id) {
                    Ok(v) => instances.push(v),
                    Err(e @ StoreError::UnknownInstance { .. }) => return Err(e),
                    Err(e) if is_database(&e) => return Err(e),
                    Err(e) => failed.push(e),
                }
            }
            let last = ids.last().cloned().unwrap_or_default();
            let signal = Arc::from(signal);
            return Ok(Some(SignalPage { outbox, signal, hops, instances, last, from: cursor, more, failed }));
        })
    }

    fn throw(&mut self, name: &str) -> Result<Option<i64>> {
        let signals = [Arc::from(name)];
        self.transact(|tx, _| {
            queue_signals(tx, &signals, Uuid::nil(), 0)?;
            let row = tx.query_opt("SELECT MAX(id) FROM signal_outbox WHERE signal = $1", &[(&name, Type::TEXT)])?;
            Ok(row.map(|r| r.try_get(0)).transpose()?.flatten())
        })
    }

    fn thrown_by(&mut self, source: Uuid) -> Result<Vec<i64>> {
        self.transact(|tx, _| {
            let rows = tx.query(
                "SELECT id FROM signal_outbox WHERE source = $1 ORDER BY id",
                &[(&source.to_string(), Type::TEXT)],
            )?;
            Ok(rows.iter().map(|r| r.try_get(0)).collect::<std::result::Result<_, _>>()?)
        })
    }

    fn remembered(&mut self, key: &str) -> Result<Option<(Uuid, String)>> {
        self.transact(|tx, _| {
            let row = tx.query_opt("SELECT instance, answer FROM idempotency WHERE key = $1", &[(&key, Type::TEXT)])?;
            let Some(row) = row else { return Ok(None) };
            let id: &str = row.try_get(0)?;
            Ok(id.parse().ok().map(|id| (id, row.try_get::<_, String>(1).unwrap_or_default())))
        })
    }

    /// Group commit: one transaction for the whole batch, a savepoint per
    /// write, so that a write that fails is undone alone and the batch
    /// waits for one WAL flush. A write that hit a deadlock, and every
    /// write of a batch that cannot begin or commit, is applied again in a
    /// transaction of its own (an exec applied twice says "already
    /// executed" the second time; it never runs twice).
    fn save_session(&mut self, session: &StoredSession, per_user: usize, total: usize) -> Result<()> {
        PgStore::save_session(self, session, per_user, total)
    }

    fn find_session(&mut self, key: &str, now: Timestamp) -> Result<Option<StoredSession>> {
        PgStore::find_session(self, key, now)
    }

    fn touch_session(&mut self, key: &str, now: Timestamp) -> Result<()> {
        PgStore::touch_session(self, key, now)
    }

    fn end_session(&mut self, key: &str) -> Result<bool> {
        PgStore::delete_session(self, key)
    }

    fn purge_sessions(&mut self, now: Timestamp) -> Result<u64> {
        PgStore::purge_sessions(self, now)
    }

    /// [`PgStore::claim_due_timers`], then each claimed instance loaded.
    fn claim_timers(
        &mut self,
        now: Timestamp,
        limit: usize,
        lease: Duration,
    ) -> Result<(Vec<Versioned>, Vec<StoreError>)> {
        let ids = self.claim_due_timers_for(now, i64::try_from(limit).unwrap_or(i64::MAX), lease)?;
        if ids.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        self.transact(|tx, programs| {
            let mut out = Vec::with_capacity(ids.len());
            let mut failed = Vec::new();
            for id in &ids {
                match load_versioned_in(tx, programs, &id.to_string()) {
                    Ok(v) => out.push(v),
                    Err(e) if is_database(&e) => return Err(e),
                    Err(e) => failed.push(e),
                }
            }
            Ok((out, failed))
        })
    }

    fn release_timers(&mut self, ids: &[Uuid]) -> Result<()> {
        let names: Vec<String> = ids.iter().map(|id| lease::timer_lease(*id)).collect();
        self.release_leases(&names).map(|_| ())
    }

    fn claim_orphans(
        &mut self,
        now: Timestamp,
        saved_before: Timestamp,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Uuid>> {
        PgStore::claim_orphans(self, now, saved_before, i64::try_from(limit).unwrap_or(i64::MAX), lease)
    }

    fn hold_run(&mut self, id: Uuid, now: Timestamp, lease: Duration) -> Result<bool> {
        self.acquire_lease_for(&lease::run_lease(id), now, lease)
    }

    fn renew_runs(&mut self, ids: &[Uuid], now: Timestamp, lease: Duration) -> Result<u64> {
        let names: Vec<String> = ids.iter().map(|id| lease::run_lease(*id)).collect();
        self.renew_leases(&names, now, lease)
    }

    fn release_runs(&mut self, ids: &[Uuid]) -> Result<()> {
        let names: Vec<String> = ids.iter().map(|id| lease::run_lease(*id)).collect();
        self.release_leases(&names).map(|_| ())
    }

    fn write_batch(&mut self, writes: Vec<Write>) -> Vec<Result<Written>> {
        if writes.len() < 2 {
            return writes.into_iter().map(|w| self.write_alone(w)).collect();
        }
        let programs = &self.programs;
        let results = self.conn().and_then(|mut conn| {
            let results = apply_batch(&mut conn, programs, &writes);
            self.lost(&mut conn, &results);
            results
        });
        let results = match results {
            Ok(results) => results,
            // No connection: one by one, each would wait for the pool again.
            Err(StoreError::Unavailable { target, message }) => {
                return writes
                    .iter()
                    .map(|_| Err(StoreError::Unavailable { target: target.clone(), message: message.clone() }))
                    .collect();
            }
            Err(_) => return writes.into_iter().map(|w| self.write_alone(w)).collect(),
        };
        results
            .into_iter()
            .zip(writes)
            .map(|(result, write)| match result {
                Err(e) if is_transient(&e) => self.write_alone(write),
                Err(e) => Err(e),
                Ok(done) => {
                    if let Some(program) = saved_program(&write) {
                        self.programs.remember(program);
                    }
                    Ok(written(done, write))
                }
            })
            .collect()
    }

    fn display_name(&self) -> String {
        self.target.to_string()
    }

    fn instances_starting_with(&mut self, prefix: &str, limit: usize) -> Result<Vec<super::InstanceMatch>> {
        self.instances_with_prefix(prefix, limit)
    }

    fn element_instances_starting_with(
        &mut self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<super::ElementInstanceMatch>> {
        self.element_instances_with_prefix(prefix, limit)
    }

    fn process_codes(&mut self) -> Result<Vec<String>> {
        // Byte order, as SQLite sorts.
        self.names(r#"SELECT DISTINCT process COLLATE "C" FROM instances ORDER BY 1"#)
    }

    fn waited_signals(&mut self) -> Result<Vec<String>> {
        self.names(
            r#"SELECT DISTINCT signal COLLATE "C" FROM element_instances
                WHERE live AND kind = 'signal' AND signal IS NOT NULL ORDER BY 1"#,
        )
    }

    fn save_if_unchanged(&mut self, instance: &Instance, expected: Option<i64>) -> Result<i64> {
        self.save_checked(instance, &[], expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_defaults_to_the_cores_from_two_to_eight() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let expected = u32::try_from(cores.clamp(2, 8)).unwrap();
        assert_eq!(PgOptions::default().max_connections, expected);
    }
}
