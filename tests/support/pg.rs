//! A throwaway PostgreSQL server for tests and benchmarks: Debian's
//! `initdb` and `pg_ctl` (the highest version under /usr/lib/postgresql,
//! or the folder in `PROCDSL_PG_BIN`; set empty, none) set up a cluster in a temporary
//! folder and serve it on a unix socket there, no TCP port at all. As root
//! they run as the `postgres` user (the server refuses root). Dropping the
//! last handle stops the server (`pg_ctl stop -m immediate`) and removes
//! the folder, also when a test panics.
//!
//! Without PostgreSQL on the machine, [`fresh_database`] prints loudly that
//! the test is skipped and returns None; with `CI` set it panics instead,
//! so CI never skips.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// One running server.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
    durable: bool,
    databases: AtomicU32,
}

/// The folder with `initdb`, `pg_ctl` and `postgres`, if there is one.
pub fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PROCDSL_PG_BIN") {
        // Empty: behave as on a machine without PostgreSQL.
        return (!dir.is_empty()).then(|| PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PgServer {
    /// Sets up a cluster and starts it. `durable`: `fsync` on, as in
    /// production (benchmarks); the tests turn it off.
    pub fn start(bin: &Path, durable: bool) -> Result<PgServer, String> {
        let dir = tempfile::Builder::new().prefix("procdsl-pg-").tempdir_in("/tmp").map_err(|e| e.to_string())?;
        let as_postgres = is_root();
        let server = PgServer { dir, bin: bin.to_path_buf(), as_postgres, durable, databases: AtomicU32::new(0) };
        if as_postgres {
            server.run(Command::new("chown").args(["postgres:postgres"]).arg(server.dir.path()), false)?;
        }
        let data = server.data();
        server.pg("initdb", |c| {
            c.arg("-D").arg(&data).args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        })?;
        server.resume()?;
        Ok(server)
    }

    /// Starts the server (again, after [`PgServer::stop`]) on its data.
    pub fn resume(&self) -> Result<(), String> {
        let options = format!(
            "-k {} -c listen_addresses='' -p 5432 -c fsync={} -c max_connections=200 -c shared_buffers=64MB",
            self.dir.path().display(),
            if self.durable { "on" } else { "off" }
        );
        let log = self.dir.path().join("server.log");
        let data = self.data();
        self.pg("pg_ctl", |c| {
            c.arg("-D").arg(&data).arg("-l").arg(&log).args(["-w", "-t", "60", "-o", &options, "start"])
        })
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one of the server's programs, as `postgres` when we are root.
    fn pg(&self, program: &str, args: impl FnOnce(&mut Command) -> &mut Command) -> Result<(), String> {
        let exe = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        args(&mut command);
        self.run(&mut command, true)
    }

    fn run(&self, command: &mut Command, show_log: bool) -> Result<(), String> {
        let out = command.output().map_err(|e| format!("{command:?}: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        let log = if show_log {
            std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
        } else {
            String::new()
        };
        Err(format!(
            "{command:?} failed ({}):\n{}{}\n{log}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }

    /// A connection string (key=value form: the host is the socket's folder).
    pub fn url(&self, database: &str) -> String {
        format!("host={} port=5432 user=postgres dbname={database}", self.dir.path().display())
    }

    /// Creates an empty database and returns its connection string.
    pub fn create_database(&self) -> String {
        let name = format!("t{}", self.databases.fetch_add(1, Ordering::Relaxed));
        let mut client = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to the test server: {e}"));
        client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap_or_else(|e| panic!("create database: {e}"));
        self.url(&name)
    }

    /// Stops the server at once, as a crash would (for fault tests).
    pub fn stop(&self) -> Result<(), String> {
        let data = self.data();
        self.pg("pg_ctl", |c| c.arg("-D").arg(&data).args(["-m", "immediate", "-w", "stop"]))
    }

    /// Stops the server as an operator would (`-m fast`): it ends every
    /// session with an error (57P01) and shuts down cleanly.
    pub fn stop_fast(&self) -> Result<(), String> {
        let data = self.data();
        self.pg("pg_ctl", |c| c.arg("-D").arg(&data).args(["-m", "fast", "-w", "stop"]))
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("stopping the test PostgreSQL server: {e}");
        }
    }
}

/// The server the tests of this binary share while any of them holds it;
/// the last one to finish stops it.
pub fn shared() -> Option<Arc<PgServer>> {
    static SHARED: Mutex<Weak<PgServer>> = Mutex::new(Weak::new());
    let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(server) = slot.upgrade() {
        return Some(server);
    }
    let Some(bin) = bin_dir() else {
        let ci = std::env::var_os("CI").is_some();
        assert!(!ci, "CI is set, but PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql");
        // Straight to stderr: the test harness hides `eprintln!` of passing tests.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: the PostgreSQL tests of this binary did not run: they need Debian's `postgresql` \
                 package (/usr/lib/postgresql/*/bin/initdb) or PROCDSL_PG_BIN ***\n"
            );
        });
        return None;
    };
    let server = Arc::new(PgServer::start(&bin, false).unwrap_or_else(|e| panic!("starting PostgreSQL: {e}")));
    *slot = Arc::downgrade(&server);
    Some(server)
}

/// A fresh database on the shared server: the server handle (keep it
/// while the test runs) and the connection string. None: skipped.
pub fn fresh_database() -> Option<(Arc<PgServer>, String)> {
    let server = shared()?;
    let url = server.create_database();
    Some((server, url))
}

/// What `--store` takes for a connection string of [`PgServer::url`]: a
/// `postgresql://` URL with the socket's folder as `host`.
pub fn url_of(conninfo: &str) -> String {
    let pairs: Vec<(&str, &str)> = conninfo.split_whitespace().filter_map(|p| p.split_once('=')).collect();
    let value = |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v).unwrap();
    format!("postgresql:///{}?host={}&port={}&user={}", value("dbname"), value("host"), value("port"), value("user"))
}
