//! The PostgreSQL store's tables and their forward migrations. The version
//! lives in the table `procdsl_schema` (one row per applied step), since
//! PostgreSQL has no `user_version`.
//!
//! The tables mirror the SQLite store's (`store::schema`) column for column,
//! so that `store::copy_all` moves rows between the two unchanged, with two
//! PostgreSQL habits: `live` is a `BOOLEAN`, and the partial indexes hold
//! only the rows the scheduler and the signal delivery look for. Keys and
//! times are `COLLATE "C"`: byte order, as in SQLite, whatever the
//! database's locale, so that fixed-width UTC text sorts as time.

/// The schema this build writes and reads.
pub const SCHEMA_VERSION: i64 = 1;

/// Migration `n` (counting from 0) brings a database from version `n` to
/// `n + 1`. A step is never edited once released; a change is a new step.
pub const MIGRATIONS: &[&str] = &[V1];

/// Version 1: the SQLite store's tables (`programs`, `instances`,
/// `element_instances`), plus
///
/// - `leases`: claims that expire. A node that fires an instance's timers or
///   runs it in the background first claims `timer:ID` or `run:ID` for a
///   while (`holder` names the node, `expires` is UTC text like `due`);
///   when the node dies, another takes the work over once `expires` passed.
/// - `sessions`: sign-in sessions by their cookie value, so that any node
///   can serve a client's next request and a restart signs no one out.
const V1: &str = r#"
CREATE TABLE programs (
    hash  TEXT COLLATE "C" PRIMARY KEY,
    files TEXT NOT NULL
);
CREATE TABLE instances (
    id      TEXT COLLATE "C" PRIMARY KEY,
    program TEXT COLLATE "C" NOT NULL REFERENCES programs(hash),
    process TEXT NOT NULL,
    status  TEXT NOT NULL,
    format  BIGINT NOT NULL,
    state   TEXT NOT NULL,
    version BIGINT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX instances_by_status ON instances(status, process);
CREATE INDEX instances_by_created ON instances(created, id);
CREATE TABLE element_instances (
    uid      TEXT COLLATE "C" PRIMARY KEY,
    instance TEXT COLLATE "C" NOT NULL,
    kind     TEXT NOT NULL,
    live     BOOLEAN NOT NULL,
    signal   TEXT,
    due      TEXT COLLATE "C"
);
CREATE INDEX element_instances_by_instance ON element_instances(instance) WHERE live;
CREATE INDEX element_instances_by_signal ON element_instances(signal) WHERE live AND kind = 'signal';
CREATE INDEX element_instances_by_due ON element_instances(due) WHERE live AND kind = 'timer';
CREATE TABLE leases (
    name    TEXT COLLATE "C" PRIMARY KEY,
    holder  TEXT NOT NULL,
    expires TEXT COLLATE "C" NOT NULL
);
CREATE TABLE sessions (
    key       TEXT COLLATE "C" PRIMARY KEY,
    user_name TEXT NOT NULL,
    csrf      TEXT NOT NULL,
    expires   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions(expires);
"#;

/// The version table itself; created before any step.
pub const VERSION_TABLE: &str = "
CREATE TABLE IF NOT EXISTS procdsl_schema (
    version BIGINT PRIMARY KEY,
    applied TEXT NOT NULL
);
";
