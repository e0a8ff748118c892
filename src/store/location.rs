//! Where a store lives, as a person gives it (`--store`, `PROCDSL_STORE`):
//! a SQLite file, or a PostgreSQL database by URL. Every front end opens
//! its store through [`open`], so that a backend is added here once.

use super::copy::Rows;
use super::{ProcessStore, Store, StoreError};
use std::path::PathBuf;

/// A store's place: a SQLite path, or a PostgreSQL URL
/// (`postgres://USER@HOST[:PORT]/DB` or `postgresql://…`).
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// The whole URL, password included: shown only through [`Location`]'s
    /// `Display`, which leaves the password out.
    Postgres(String),
}

impl Location {
    /// Reads `--store` text: a URL when it starts with `postgres://` or
    /// `postgresql://`, else a path. Empty text is refused (an empty
    /// `PROCDSL_STORE` would otherwise name the current folder).
    pub fn parse(text: &str) -> Result<Location, String> {
        if text.trim().is_empty() {
            return Err("the store is empty; give a SQLite path or a postgres:// URL".to_string());
        }
        if is_url(text) {
            return Ok(Location::Postgres(text.to_string()));
        }
        Ok(Location::Sqlite(PathBuf::from(text)))
    }

    /// Whether this names the same store as `other` (the same file, by its
    /// real path when it exists; the same URL).
    pub fn same_as(&self, other: &Location) -> bool {
        match (self, other) {
            (Location::Sqlite(a), Location::Sqlite(b)) => {
                a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
            }
            (Location::Postgres(a), Location::Postgres(b)) => a == b,
            _ => false,
        }
    }
}

impl std::str::FromStr for Location {
    type Err = String;

    fn from_str(text: &str) -> Result<Location, String> {
        Location::parse(text)
    }
}

/// The path, or the URL without its password: safe for messages and logs.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

/// Shows the redacted form: a `Location` in a `{:?}` never leaks a password.
impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Location::Postgres(url) => f.debug_tuple("Postgres").field(&redact(url)).finish(),
        }
    }
}

/// Opens the store at `location`. `create`: a missing SQLite file is
/// created (`run --store`); otherwise it must exist, so that a typo never
/// creates an empty store. A PostgreSQL database is connected to either
/// way (its tables are created when it has none), with the default pool
/// settings.
pub fn open(location: &Location, create: bool) -> Result<Box<dyn ProcessStore>, StoreError> {
    match location {
        Location::Sqlite(path) => Ok(Box::new(open_sqlite(path, create)?)),
        Location::Postgres(url) => postgres(url).map(|s| Box::new(s) as Box<dyn ProcessStore>),
    }
}

/// Opens the store at `location` for copying its rows as they are
/// (`procdsl store migrate`); `create` as for [`open`].
pub fn open_rows(location: &Location, create: bool) -> Result<Box<dyn Rows>, StoreError> {
    match location {
        Location::Sqlite(path) => Ok(Box::new(open_sqlite(path, create)?)),
        Location::Postgres(url) => postgres(url).map(|s| Box::new(s) as Box<dyn Rows>),
    }
}

fn open_sqlite(path: &std::path::Path, create: bool) -> Result<Store, StoreError> {
    if create {
        Store::open(path)
    } else {
        Store::open_existing(path)
    }
}

#[cfg(feature = "postgres")]
fn postgres(url: &str) -> Result<super::postgres::PgStore, StoreError> {
    super::postgres::PgStore::connect(url, super::postgres::PgOptions::default())
}

/// A build without the `postgres` feature knows the URL but cannot connect.
#[cfg(not(feature = "postgres"))]
fn postgres(url: &str) -> Result<Store, StoreError> {
    Err(StoreError::Unavailable {
        target: redact(url),
        message: "this procdsl was built without PostgreSQL (the `postgres` feature)".to_string(),
    })
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

#[cfg(test)]
mod tests {
    use super::{is_url, redact, Location};
    use std::path::PathBuf;

    #[test]
    fn a_url_is_a_postgres_store_and_anything_else_a_path() {
        assert_eq!(Location::parse("orders.db"), Ok(Location::Sqlite(PathBuf::from("orders.db"))));
        assert_eq!(
            Location::parse("./postgres/orders.db"),
            Ok(Location::Sqlite(PathBuf::from("./postgres/orders.db")))
        );
        let url = "postgresql://app:pw@db/procdsl";
        assert_eq!(Location::parse(url), Ok(Location::Postgres(url.to_string())));
        assert!(Location::parse("  ").is_err(), "an empty PROCDSL_STORE names no store");
    }

    #[test]
    fn messages_never_show_the_password() {
        let location = Location::parse("postgres://app:s3cret@db:5433/procdsl").unwrap();
        assert_eq!(location.to_string(), "postgres://app@db:5433/procdsl");
        assert!(!format!("{location:?}").contains("s3cret"));
    }

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
