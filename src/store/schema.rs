//! The store's tables, in plain SQL that a PostgreSQL backend can share, and
//! the schema version kept in `PRAGMA user_version`.

/// The schema this build writes and reads. A store with a newer schema is
/// refused; an older one is migrated forward, step by step: a new store
/// is created as version 1 and migrated like an old one.
pub const SCHEMA_VERSION: i64 = 4;

/// Version 1.
///
/// - `programs`: every definition an instance runs on, by content hash;
///   `files` is a JSON array of `[name, text]`.
/// - `instances`: one row per instance; `state` is the [`SavedInstance`]
///   JSON, `format` its format version, `version` counts saves.
/// - `element_instances`: every element-instance UId that was ever pending
///   or waiting, with its instance, so that `exec UID` finds its instance by
///   index. `live = 1` marks those pending or waiting now, with the signal a
///   signal element waits for and the due time of a timer (UTC text of a
///   fixed width, so that text order is time order).
///
/// [`SavedInstance`]: crate::runtime::saved::SavedInstance
pub const SCHEMA_V1: &str = "
CREATE TABLE programs (
    hash  TEXT PRIMARY KEY,
    files TEXT NOT NULL
);
CREATE TABLE instances (
    id      TEXT PRIMARY KEY,
    program TEXT NOT NULL REFERENCES programs(hash),
    process TEXT NOT NULL,
    status  TEXT NOT NULL,
    format  INTEGER NOT NULL,
    state   TEXT NOT NULL,
    version INTEGER NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX instances_by_status ON instances(status, process);
CREATE TABLE element_instances (
    uid      TEXT PRIMARY KEY,
    instance TEXT NOT NULL,
    kind     TEXT NOT NULL,
    live     INTEGER NOT NULL,
    signal   TEXT,
    due      TEXT
);
CREATE INDEX element_instances_by_instance ON element_instances(instance, live);
CREATE INDEX element_instances_by_signal ON element_instances(signal, live);
CREATE INDEX element_instances_by_due ON element_instances(due, live);
";

/// Version 1 to 2: what the service needs so that its cost does not grow
/// with the work stored.
///
/// - Partial indexes over the live timers (by due time) and the live
///   signal waits (by signal and instance): the scheduler's idle tick and a
///   signal's pages read only what is due or waiting. They replace the
///   version-1 indexes over every element-instance ever saved.
/// - `instances` by `(created, id)`, `(status, created, id)` and
///   `(process, created, id)`: lists page by key instead of sorting.
/// - `status_counts`, kept by triggers: instances by status without a scan.
/// - `signal_outbox`: signals thrown and not yet delivered to every waiter.
///   `horizon` is the last `element_instances` rowid when it was thrown
///   (a wait that began later does not get it); `cursor` the last instance
///   id delivered to; `hops` how many deliveries led to it.
/// - `idempotency`: the answer of a request sent with an `Idempotency-Key`.
pub const MIGRATE_V2: &str = "
DROP INDEX IF EXISTS element_instances_by_signal;
DROP INDEX IF EXISTS element_instances_by_due;
DROP INDEX IF EXISTS instances_by_status;
CREATE INDEX element_instances_live_timers ON element_instances(due) WHERE live = 1 AND kind = 'timer';
CREATE INDEX element_instances_live_signals ON element_instances(signal, instance) WHERE live = 1 AND kind = 'signal';
CREATE INDEX instances_by_created ON instances(created, id);
CREATE INDEX instances_by_status ON instances(status, created, id);
CREATE INDEX instances_by_process ON instances(process, created, id);
CREATE TABLE status_counts (
    status TEXT PRIMARY KEY,
    n      INTEGER NOT NULL
);
INSERT INTO status_counts (status, n) SELECT status, COUNT(*) FROM instances GROUP BY status;
CREATE TRIGGER instances_count_insert AFTER INSERT ON instances BEGIN
    INSERT INTO status_counts (status, n) VALUES (new.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER instances_count_update AFTER UPDATE OF status ON instances WHEN old.status <> new.status BEGIN
    UPDATE status_counts SET n = n - 1 WHERE status = old.status;
    INSERT INTO status_counts (status, n) VALUES (new.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER instances_count_delete AFTER DELETE ON instances BEGIN
    UPDATE status_counts SET n = n - 1 WHERE status = old.status;
END;
CREATE TABLE signal_outbox (
    id      INTEGER PRIMARY KEY,
    signal  TEXT NOT NULL,
    source  TEXT NOT NULL,
    hops    INTEGER NOT NULL,
    horizon INTEGER NOT NULL,
    cursor  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX signal_outbox_by_source ON signal_outbox(source);
CREATE TABLE idempotency (
    key      TEXT PRIMARY KEY,
    instance TEXT NOT NULL,
    answer   TEXT NOT NULL,
    created  TEXT NOT NULL
);
";

/// Version 2 to 3: sign-in sessions, so that a restart of the service
/// signs no one out (and several service nodes on one PostgreSQL store
/// share them the same way; SQLite keeps the table for the same code).
///
/// - `sessions`: by the SHA-256 of the `.ASPXAUTH` cookie (`key`), with the
///   SHA-256 of its `BPMCSRF` value: the database holds no usable cookie.
///   Times are UTC text like `due`.
pub const MIGRATE_V3: &str = "
CREATE TABLE sessions (
    key       TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    csrf      TEXT NOT NULL,
    created   TEXT NOT NULL,
    last_used TEXT NOT NULL,
    expires   TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_name, created);
CREATE INDEX sessions_by_expiry ON sessions(expires);
";

/// Version 3 to 4: deadlines and reminders. A waiting user task, signal or
/// call with a deadline or reminder keeps its next due time in `due`, like
/// a timer; the due query reads every live row with a `due`, through this
/// partial index. The timer index stays for queries by kind.
pub const MIGRATE_V4: &str = "
CREATE INDEX element_instances_live_due ON element_instances(due) WHERE live = 1 AND due IS NOT NULL;
";
