//! The PostgreSQL store: the same instances, index and semantics as the
//! SQLite [`Store`](super::Store), in one database that several service
//! nodes share.
//!
//! Every unit of work is one transaction in `READ COMMITTED`. What SQLite
//! gets from its single writer, PostgreSQL gets from row locks: a command
//! that changes an instance first reads its row `FOR UPDATE`, so of two
//! nodes racing on one element-instance the second waits, then reads the
//! state the first committed and finds the element executed. A deadlock
//! between two deliveries (A wakes B while B wakes A) aborts one
//! transaction, which is run again from the start.
//!
//! Beyond the trait, the module keeps the primitives that a "load, run off
//! the store, save with a version check" service needs: [`PgStore::load_versioned`],
//! [`PgStore::save_versioned`], leases ([`PgStore::claim_due_timers`],
//! [`PgStore::acquire_lease`]) and sign-in sessions. docs/STORE.md
//! ("PostgreSQL") and docs/DEPLOY.md describe them.

mod db;
mod lease;
mod rows;
pub mod schema;
mod session;

pub use session::StoredSession;

use super::{
    decode_state, entries, run_on, time_text, CancelOutcome, InstanceSummary, ListFilter, ProcessStore, StoreError,
    Write, Written, MAX_SIGNAL_DELIVERIES,
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
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

type Result<T> = std::result::Result<T, StoreError>;
type Pool = r2d2::Pool<Manager>;

/// A transaction aborted by a deadlock or a serialization failure is run
/// again this many times before its error is returned.
const RETRIES: u32 = 5;

/// The advisory lock that serializes migrations of nodes starting at once.
const MIGRATION_LOCK: i64 = 0x7072_6f63_6473_6c00; // "procdsl\0"

/// How a [`PgStore`] pools its connections and leases its work. Every
/// field has a default; docs/DEPLOY.md says how to size them.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// Most connections open at once (default 8). A unit of work holds one.
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
    /// Check each connection with an empty query before it is used
    /// (default on): after the server restarted, the first request finds a
    /// fresh connection instead of failing on a dead one. Costs one round trip.
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
            max_connections: 8,
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
        map.entry(program.hash.clone()).or_insert_with(|| program.clone());
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
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("target", &self.target).field("node", &self.options.node).finish()
    }
}

/// Is this a PostgreSQL connection string rather than a SQLite path?
pub fn is_url(store: &str) -> bool {
    store.starts_with("postgres://") || store.starts_with("postgresql://")
}

/// A connection string without its password, for messages.
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        if let Some((user_info, host)) = authority.rsplit_once('@') {
            let user = user_info.split_once(':').map_or(user_info, |(user, _)| user);
            return format!("{scheme}://{user}@{host}{path}");
        }
        return url.to_string();
    }
    url.split_whitespace()
        .map(|pair| if pair.starts_with("password=") { "password=…" } else { pair })
        .collect::<Vec<_>>()
        .join(" ")
}

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
            .test_on_check_out(options.check_on_checkout)
            .build(Manager { config, statement_timeout: options.statement_timeout })
            .map_err(|e| unavailable(e.to_string()))?;
        let store = PgStore { pool, target, programs: Arc::new(Programs::default()), options: Arc::new(options) };
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

    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.pool.get().map_err(|e| StoreError::Unavailable { target: self.target.to_string(), message: e.to_string() })
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
    fn transact<T>(&self, mut work: impl FnMut(&mut Db<'_>, &Programs) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let mut attempt = 0;
        loop {
            let result = conn.begin().and_then(|mut db| {
                let value = work(&mut db, &self.programs)?;
                db.commit()?;
                Ok(value)
            });
            match result {
                Err(e) if attempt < RETRIES && is_transient(&e) => attempt += 1,
                other => return other,
            }
        }
    }

    /// The instance with this id and its version (how many times it was
    /// saved), for a later [`PgStore::save_versioned`].
    pub fn load_versioned(&self, id: Uuid) -> Result<(Instance, i64)> {
        self.transact(|db, programs| load_instance(db, programs, &id.to_string(), false))
    }

    /// Saves an instance that a run moved (outside the store) only if
    /// nobody saved it since version `expected` (None: it must be new), with
    /// its program, and delivers the signals the run threw; returns the new
    /// version. `UPDATE … WHERE version = $n`: a conflict is
    /// [`StoreError::Conflict`] and nothing is written.
    pub fn save_versioned(&self, instance: &Instance, run: &Run, expected: Option<i64>) -> Result<i64> {
        let version = self.transact(|tx, programs| {
            if programs.get(&instance.program.hash).is_none() {
                save_program(tx, &instance.program)?;
            }
            let version = save_instance(tx, instance, Some(expected))?;
            deliver(tx, programs, &run.emitted, instance.id, &run.options)?;
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

/// One write of a batch inside `tx`: None for a save, the exec's outcome for an exec.
fn apply(tx: &mut Db<'_>, programs: &Programs, write: &Write) -> Result<Option<(ExecOutcome, Descriptor, u64)>> {
    match write {
        Write::SaveRun { instance, emitted, options } => {
            if programs.get(&instance.program.hash).is_none() {
                save_program(tx, &instance.program)?;
            }
            save_instance(tx, instance, None)?;
            deliver(tx, programs, emitted, instance.id, options)?;
            Ok(None)
        }
        Write::Exec { uid, fields, options } => exec_in(tx, programs, *uid, fields, options.clone()).map(Some),
    }
}

impl PgStore {
    /// One write in a transaction of its own.
    fn write_alone(&mut self, write: Write) -> Result<Written> {
        match write {
            Write::SaveRun { instance, emitted, options } => {
                let mut run = Run::new(options);
                run.emitted = emitted;
                ProcessStore::save_run(self, &instance, &run)?;
                Ok(Written::Saved(instance))
            }
            Write::Exec { uid, fields, options } => {
                let (outcome, d, n) = ProcessStore::exec(self, uid, &fields, options)?;
                Ok(Written::Exec(outcome, Box::new(d), n))
            }
        }
    }
}

/// Should the whole transaction run again? PostgreSQL aborts one of two
/// transactions that deadlock, or that a stricter isolation cannot order.
fn is_transient(e: &StoreError) -> bool {
    let StoreError::Postgres(e) = e else { return false };
    matches!(e.code(), Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE)
}

/// A program's files as the `programs.files` JSON.
fn encode_files(program: &Program) -> Result<String> {
    let files: Vec<(&str, &str)> = program.sources.files().map(|(_, f)| (f.name.as_str(), &*f.text)).collect();
    serde_json::to_string(&files)
        .map_err(|e| StoreError::BadProgram { hash: program.hash.clone(), message: e.to_string() })
}

/// The program that `programs.files` JSON holds, checked against its hash.
fn decode_files(hash: &str, files: &str) -> Result<Program> {
    let bad = |message: String| StoreError::BadProgram { hash: hash.to_string(), message };
    let files: Vec<(String, String)> = serde_json::from_str(files).map_err(|e| bad(e.to_string()))?;
    let loaded = check::load_sources(&files).map_err(|e| bad(e.to_string()))?;
    if loaded.program.hash != hash {
        return Err(bad(format!("its sources hash to {}", loaded.program.hash)));
    }
    Ok(loaded.program)
}

fn save_program(db: &mut Db<'_>, program: &Program) -> Result<()> {
    let files = encode_files(program)?;
    db.execute(
        "INSERT INTO programs (hash, files) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING",
        &[(&program.hash, Type::TEXT), (&files, Type::TEXT)],
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
            (&instance.program.hash, Type::TEXT),
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
/// exactly once across nodes.
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
    if instance.status.is_finished() {
        return Err(ExecError::Finished { instance: instance.id, status: instance.status }.into());
    }
    let mut run = Run::new(options);
    instance.exec_only(uid, fields, &mut run)?;
    run_on(&mut instance, &mut run);
    save_instance(tx, &instance, None)?;
    deliver(tx, programs, &run.emitted, instance.id, &run.options)?;
    Ok((ExecOutcome::Executed, instance.descriptor(None), run.elements_executed))
}

/// Delivers signals thrown by `source` (nil: from outside) to every other
/// stored instance waiting for them, as the SQLite store does. Each woken
/// instance is read under its row lock, so a signal that two nodes throw
/// at once wakes a waiting instance once: the second finds it moved on.
fn deliver(
    tx: &mut Db<'_>,
    programs: &Programs,
    signals: &[Arc<str>],
    source: Uuid,
    options: &RunOptions,
) -> Result<Vec<Descriptor>> {
    let mut queue: VecDeque<(Arc<str>, Uuid)> = signals.iter().map(|s| (s.clone(), source)).collect();
    let mut woken: Vec<Descriptor> = Vec::new();
    let mut deliveries = 0;
    while let Some((name, from)) = queue.pop_front() {
        let rows = tx.query(
            "SELECT DISTINCT instance FROM element_instances
              WHERE signal = $1 AND live AND kind = 'signal' ORDER BY instance",
            &[(&&*name, Type::TEXT)],
        )?;
        for row in rows {
            let id: &str = row.try_get(0)?;
            if id == from.to_string() {
                continue;
            }
            deliveries += 1;
            if deliveries > MAX_SIGNAL_DELIVERIES {
                return Err(StoreError::SignalLoop { signal: name.to_string(), limit: MAX_SIGNAL_DELIVERIES });
            }
            let (mut instance, _) = load_instance(tx, programs, id, true)?;
            if instance.status.is_finished() || instance.deliver_signal(&name) == 0 {
                continue;
            }
            let mut run = Run::new(options.clone());
            run_on(&mut instance, &mut run);
            save_instance(tx, &instance, None)?;
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

impl ProcessStore for PgStore {
    fn save_run(&mut self, instance: &Instance, run: &Run) -> Result<()> {
        self.transact(|tx, programs| {
            if programs.get(&instance.program.hash).is_none() {
                save_program(tx, &instance.program)?;
            }
            save_instance(tx, instance, None)?;
            deliver(tx, programs, &run.emitted, instance.id, &run.options)?;
            Ok(())
        })?;
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
        self.load_versioned(id).map(|(instance, _)| instance)
    }

    fn list(&mut self, filter: &ListFilter) -> Result<Vec<InstanceSummary>> {
        let mut conn = self.conn()?;
        let status = filter.status.map(Status::as_str);
        let limit = filter.limit.map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let rows = conn.client.query_typed(
            "SELECT i.id, i.process, i.status, i.version, i.created, i.updated,
                    (SELECT COUNT(*) FROM element_instances e
                      WHERE e.instance = i.id AND e.live AND e.kind IN ('user', 'timer', 'signal')),
                    CASE WHEN jsonb_typeof(i.state::jsonb -> 'startedBy') = 'string'
                         THEN i.state::jsonb ->> 'startedBy' END
               FROM instances i
              WHERE ($1::text IS NULL OR i.status = $1) AND ($2::text IS NULL OR i.process = $2)
              ORDER BY i.created, i.id
              LIMIT $3",
            &[(&status, Type::TEXT), (&filter.process, Type::TEXT), (&limit, Type::INT8)],
        )?;
        rows.iter()
            .map(|r| {
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
            })
            .collect()
    }

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

    fn cancel(&mut self, id: Uuid) -> Result<(CancelOutcome, Descriptor)> {
        self.transact(|tx, programs| {
            let (mut instance, _) = load_instance(tx, programs, &id.to_string(), true)?;
            match instance.status {
                Status::Cancelled => return Ok((CancelOutcome::AlreadyCancelled, instance.descriptor(None))),
                status @ (Status::Completed | Status::Failed) => return Err(StoreError::Finished { id, status }),
                Status::Running | Status::Waiting => {}
            }
            instance.cancel();
            save_instance(tx, &instance, None)?;
            Ok((CancelOutcome::Cancelled, instance.descriptor(None)))
        })
    }

    fn signal(&mut self, name: &str, options: RunOptions) -> Result<Vec<Descriptor>> {
        let signals = [Arc::from(name)];
        self.transact(|tx, programs| deliver(tx, programs, &signals, Uuid::nil(), &options))
    }

    /// Group commit: one transaction for the whole batch, a savepoint per
    /// write, so that a write that fails is undone alone and the batch
    /// waits for one WAL flush. A write that hit a deadlock, and every
    /// write of a batch that cannot begin or commit, is applied again in a
    /// transaction of its own (an exec applied twice says "already
    /// executed" the second time; it never runs twice).
    fn write_batch(&mut self, writes: Vec<Write>) -> Vec<Result<Written>> {
        if writes.len() < 2 {
            return writes.into_iter().map(|w| self.write_alone(w)).collect();
        }
        let results = self.conn().and_then(|mut conn| {
            let mut tx = conn.begin()?;
            let mut results = Vec::with_capacity(writes.len());
            for write in &writes {
                let mut savepoint = tx.savepoint("write")?;
                let result = apply(&mut savepoint, &self.programs, write);
                if result.is_ok() {
                    savepoint.commit()?;
                } else {
                    savepoint.rollback()?;
                }
                results.push(result);
            }
            tx.commit()?;
            Ok(results)
        });
        let Ok(results) = results else {
            return writes.into_iter().map(|w| self.write_alone(w)).collect();
        };
        results
            .into_iter()
            .zip(writes)
            .map(|(result, write)| match (result, write) {
                (Err(e), write) if is_transient(&e) => self.write_alone(write),
                (Err(e), _) => Err(e),
                (Ok(None), Write::SaveRun { instance, .. }) => {
                    self.programs.remember(&instance.program);
                    Ok(Written::Saved(instance))
                }
                (Ok(Some((outcome, d, n))), _) => Ok(Written::Exec(outcome, Box::new(d), n)),
                (Ok(None), write) => self.write_alone(write),
            })
            .collect()
    }

    /// Claims the instances with due timers (leases, `FOR UPDATE SKIP
    /// LOCKED`), then fires each in its own transaction; another node
    /// ticking at once takes the others.
    fn tick(&mut self, now: Timestamp) -> Result<Vec<Descriptor>> {
        let mut moved = Vec::new();
        // An instance whose index shows a due timer that does not fire is
        // claimed again by the next round; it is handled once per tick.
        let mut seen = std::collections::HashSet::new();
        loop {
            let claimed = self.claim_due_timers(now, lease::TICK_BATCH)?;
            let (fresh, again): (Vec<Uuid>, Vec<Uuid>) = claimed.into_iter().partition(|id| seen.insert(*id));
            for id in again {
                self.release_lease(&lease::timer_lease(id))?;
            }
            if fresh.is_empty() {
                return Ok(moved);
            }
            for id in fresh {
                moved.extend(self.fire_claimed(id, now)?);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{is_url, redact};

    #[test]
    fn a_connection_string_is_shown_without_its_password() {
        assert_eq!(
            redact("postgres://app:s3cr%40t@db:5433/procdsl?sslmode=disable"),
            "postgres://app@db:5433/procdsl?sslmode=disable"
        );
        assert_eq!(redact("postgresql://app@db/procdsl"), "postgresql://app@db/procdsl");
        assert_eq!(redact("postgres://db/procdsl"), "postgres://db/procdsl");
        assert_eq!(redact("host=/tmp/x user=app password=s3cret dbname=p"), "host=/tmp/x user=app password=… dbname=p");
    }

    #[test]
    fn urls_are_told_from_sqlite_paths() {
        assert!(is_url("postgres://app@db/procdsl") && is_url("postgresql://db/p"));
        assert!(!is_url("orders.db") && !is_url("./postgres/orders.db"));
    }
}
