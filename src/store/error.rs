//! The store's one error type.

use crate::runtime::engine::{ExecError, InputError};
use crate::runtime::instance::Status;
use std::path::PathBuf;
use uuid::Uuid;

/// Anything a store operation can refuse or fail with. Nothing is written
/// when one is returned: the transaction is rolled back.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StoreError {
    /// `no store at `orders.db``
    #[error("no store at `{}`", path.display())]
    #[diagnostic(
        code(procdsl::store::missing),
        help("a store is created by `procdsl run FILE --store PATH`; check the path")
    )]
    Missing { path: PathBuf },
    /// `cannot open the store `orders.db`: file is not a database`
    #[error("cannot open the store `{}`: {message}", path.display())]
    #[diagnostic(code(procdsl::store::open))]
    Open { path: PathBuf, message: String },
    /// ``data.db` is a database, but not a procdsl store`
    #[error("`{}` is a database, but not a procdsl store", path.display())]
    #[diagnostic(code(procdsl::store::foreign), help("give a new path, or the path of a store procdsl created"))]
    Foreign { path: PathBuf },
    /// `the store `orders.db` has schema version 3, but this procdsl reads up to version 1`
    #[error("the store `{}` has schema version {found}, but this procdsl reads up to version {supported}", path.display())]
    #[diagnostic(code(procdsl::store::newer_schema), help("a newer procdsl wrote this store; use that version"))]
    NewerSchema { path: PathBuf, found: i64, supported: i64 },
    /// `store: database is locked`, and other database failures.
    #[error("store: {0}")]
    #[diagnostic(code(procdsl::store::database))]
    Database(#[from] rusqlite::Error),
    /// `store: db error: ERROR: …`, and other PostgreSQL failures.
    #[cfg(feature = "postgres")]
    #[error("store: {0}")]
    #[diagnostic(code(procdsl::store::postgres))]
    Postgres(#[from] postgres::Error),
    /// `the store `postgres://app@db/procdsl` is unavailable: timed out waiting for connection`
    #[error("the store `{target}` is unavailable: {message}")]
    #[diagnostic(
        code(procdsl::store::unavailable),
        help("check that the database runs and accepts connections; docs/DEPLOY.md lists the pool's limits")
    )]
    Unavailable { target: String, message: String },
    /// `no instance … in the store`
    #[error("no instance {id} in the store")]
    #[diagnostic(code(procdsl::store::unknown_instance), help("list the instances with `procdsl instances`"))]
    UnknownInstance { id: String },
    /// `instance … was saved in format version 9, but this procdsl reads up to version 1`
    #[error(
        "instance {instance} was saved in format version {found}, but this procdsl reads up to version {supported}"
    )]
    #[diagnostic(
        code(procdsl::store::newer_format),
        help("a newer procdsl saved it; use that version to continue it")
    )]
    NewerFormat { instance: String, found: u64, supported: u32 },
    /// `the saved state of instance … cannot be read: …`
    #[error("the saved state of instance {instance} cannot be read: {message}")]
    #[diagnostic(code(procdsl::store::corrupt_state))]
    CorruptState { instance: String, message: String },
    /// `the definition … that instances run on is not in the store`
    #[error("the definition {hash} that instances run on is not in the store")]
    #[diagnostic(code(procdsl::store::missing_program))]
    MissingProgram { hash: String },
    /// `the stored definition … cannot be loaded: …`
    #[error("the stored definition {hash} cannot be loaded: {message}")]
    #[diagnostic(code(procdsl::store::bad_program))]
    BadProgram { hash: String, message: String },
    /// `instance … is Completed; it cannot be cancelled`
    #[error("instance {id} is {status}; it cannot be cancelled")]
    #[diagnostic(code(procdsl::store::finished))]
    Finished { id: Uuid, status: Status },
    /// `signal `Ping` was not passed on after 100 hops: …`
    #[error("signal `{signal}` was not passed on after {hops} hops: instances keep throwing signals to each other")]
    #[diagnostic(
        code(procdsl::store::signal_loop),
        help("what was delivered before stays committed; break the cycle of `emit`s")
    )]
    SignalLoop { signal: String, hops: i64 },
    /// `signal `Ping` was not passed on: 10000 signals wait to be delivered already`
    #[error("signal `{signal}` was not passed on: {pending} signals wait to be delivered already")]
    #[diagnostic(
        code(procdsl::store::signal_flood),
        help("instances woken by signals keep throwing more; what was delivered before stays committed")
    )]
    SignalFlood { signal: String, pending: i64 },
    /// `the idempotency key `k1` was used by another request`
    #[error("the idempotency key `{key}` was used by another request")]
    #[diagnostic(code(procdsl::store::key_used))]
    KeyUsed { key: String },
    /// `instance … was changed by another command since it was loaded; nothing was saved`
    #[error("instance {id} was changed by another command since it was loaded; nothing was saved")]
    #[diagnostic(
        code(procdsl::store::conflict),
        help("open it again (`use ID` in the REPL) to see its current state")
    )]
    Conflict { id: Uuid },
    /// A process input is wrong; nothing ran.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] InputError),
    /// Executing an element-instance by UId was refused.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Exec(#[from] ExecError),
}

impl StoreError {
    /// Whether the store could not be reached, rather than refusing or
    /// failing the operation: the database is down, restarting, or out of
    /// connections. The same operation may well succeed shortly.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable { .. } => true,
            #[cfg(feature = "postgres")]
            StoreError::Postgres(e) => connection_lost(e),
            _ => false,
        }
    }
}

/// A PostgreSQL error that says the connection failed, not the statement:
/// the connection closed or broke (an I/O error), or the server said so
/// (class 08 "connection exception", 57P01-57P03 "shutting down",
/// "crashed", "cannot connect now", 53300 "too many connections").
#[cfg(feature = "postgres")]
fn connection_lost(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            let code = code.code();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
        }
        None => std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()),
    }
}
