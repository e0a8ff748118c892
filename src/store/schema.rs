//! The store's tables, in plain SQL that a PostgreSQL backend can share, and
//! the schema version kept in `PRAGMA user_version`.

/// The schema this build writes and reads. A store with a newer schema is
/// refused; an older one would be migrated here, step by step.
pub const SCHEMA_VERSION: i64 = 1;

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
