//! `procdsl serve`: loads the processes, opens the store, binds and runs
//! the web service of `procdsl::service` until Ctrl-C or SIGTERM.

use super::{color_stderr, EXIT_INVALID, EXIT_OK};
use procdsl::check;
use procdsl::runtime::engine::DEFAULT_MAX_STEPS;
use procdsl::service::{self, auth, Config, Limits};
use procdsl::store::{Location, ProcessStore, Store};
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// .proc files, or folders whose .proc files (also in subfolders) are served.
    pub paths: Vec<PathBuf>,
    /// The address to listen on, HOST:PORT (a host name is resolved). Without --users, only loopback.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub addr: String,
    /// The store that keeps the instances: a SQLite file (created when missing) or a PostgreSQL database,
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DB (docs/DEPLOY.md).
    #[arg(long, env = "PROCDSL_STORE", hide_env_values = true, default_value = "procdsl.db", value_name = "PATH|URL")]
    pub store: String,
    /// PostgreSQL: the most connections this node opens; as many store threads use them
    /// [default: the machine's cores, 2 to 8].
    #[arg(long, value_name = "N")]
    pub pg_max_connections: Option<u32>,
    /// PostgreSQL: how long to wait for a connection (a new one, or a free one of the pool) before a request fails with 503, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub pg_connect_timeout: f64,
    /// PostgreSQL: the longest statement, row-lock waits included, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub pg_statement_timeout: f64,
    /// The users and bearer tokens (JSON; see docs/SERVICE.md). Without it, no sign-in is needed.
    #[arg(long, value_name = "FILE")]
    pub users: Option<PathBuf>,
    /// Print an argon2 hash of the password read from stdin, for a users file, and exit.
    #[arg(long)]
    pub hash_password: bool,
    /// Print the SHA-256 of the bearer token read from stdin, for a users file, and exit.
    #[arg(long)]
    pub hash_token: bool,
    /// Make a bearer token of 256 random bits; print it, then its users-file entry, and exit.
    #[arg(long)]
    pub new_token: bool,
    /// Where to write one JSON line per request: a file (appended to) or `-` for stderr.
    #[arg(long, value_name = "FILE|-")]
    pub access_log: Option<String>,
    /// Mark session cookies `Secure` (HTTPS only). On by default when --addr is not loopback.
    #[arg(long, overrides_with = "no_secure_cookies")]
    pub secure_cookies: bool,
    /// Do not mark session cookies `Secure`, even off loopback (plain HTTP on a trusted network).
    #[arg(long, overrides_with = "secure_cookies")]
    pub no_secure_cookies: bool,
    /// End a session unused for this many minutes (default: only at --session-hours).
    #[arg(long, value_name = "MINUTES")]
    pub session_idle_minutes: Option<f64>,
    /// The step budget of one run.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_STEPS)]
    pub max_steps: u64,
    /// The memory budget of each instance (e.g. 256MiB, 1GiB; docs/LIMITS.md).
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = super::parse_size)]
    pub max_memory: u64,
    /// The largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_body: usize,
    /// The longest time to answer one request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub timeout: f64,
    /// The most requests answered at once; more wait for a slot.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_concurrent: usize,
    /// The most background runs at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub workers: usize,
    /// The most background runs accepted and not finished; more are refused with 503.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_backlog: usize,
    /// How long a request's run may take on a store thread before it runs
    /// again on the blocking pool, in microseconds.
    #[arg(long, value_name = "MICROSECONDS", default_value_t = 250)]
    pub unit_budget_us: u64,
    /// How long a session lives after sign-in, in hours.
    #[arg(long, value_name = "HOURS", default_value_t = 8.0)]
    pub session_hours: f64,
    /// How often due timers are fired, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub tick_ms: u64,
    /// The most open connections; more are answered 503 and closed.
    #[arg(long, value_name = "N", default_value_t = 512)]
    pub max_connections: usize,
    /// The longest time a request's headers may take from their first byte, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub header_timeout: f64,
    /// How long a connection may stay idle between requests, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub idle_timeout: f64,
    /// How long a node's claim on a due timer or a background run lasts, in seconds; renewed every third of it.
    /// Another node takes the work over once a dead node's claim expired (docs/SERVICE.md, "Several nodes").
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub lease_seconds: f64,
}

/// The address to bind: `--addr` resolved, and whether every address it
/// names is loopback (so that `localhost:8080` counts as loopback).
fn resolve(addr: &str) -> Result<(SocketAddr, bool), String> {
    use std::net::ToSocketAddrs;
    let all: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| format!("--addr `{addr}` is not an address to listen on (HOST:PORT): {e}"))?
        .collect();
    let first = *all.first().ok_or_else(|| format!("--addr `{addr}` names no address"))?;
    Ok((first, all.iter().all(|a| a.ip().is_loopback())))
}

/// Every .proc file under a folder, in name order.
fn proc_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            proc_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proc") {
            out.push(path);
        }
    }
    Ok(())
}

fn read_stdin_line() -> Option<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok()?;
    let line = line.trim_end_matches(['\r', '\n']).to_string();
    (!line.is_empty()).then_some(line)
}

fn seconds(value: f64, what: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{what} must be a positive number"))
}

/// The longest lease `--lease-seconds` accepts: a day (a dead node's work
/// would wait longer than anyone wants, and timers past it stay sane).
const MAX_LEASE_SECONDS: f64 = 86_400.0;

fn lease(value: f64) -> Result<Duration, String> {
    if value > MAX_LEASE_SECONDS {
        return Err(format!("--lease-seconds must be at most {MAX_LEASE_SECONDS} (a day), not {value}"));
    }
    seconds(value, "--lease-seconds")
}

pub fn serve(args: ServeArgs) -> i32 {
    if args.new_token {
        return match auth::new_token() {
            Ok(token) => {
                let entry =
                    serde_json::json!({ "name": "NAME", "sha256": auth::sha256_hex(&token), "roles": ["user"] });
                // One write, and no panic when the reader has gone (`| head -n 1`).
                match std::io::stdout().lock().write_all(format!("{token}\n{entry}\n").as_bytes()) {
                    Ok(()) => EXIT_OK,
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_OK,
                    Err(e) => {
                        eprintln!("error: cannot write the token: {e}");
                        EXIT_INVALID
                    }
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_INVALID
            }
        };
    }
    if args.hash_password || args.hash_token {
        let Some(secret) = read_stdin_line() else {
            eprintln!("error: write the password or token on stdin");
            return EXIT_INVALID;
        };
        if args.hash_token {
            if secret.chars().count() < auth::MIN_TOKEN_CHARS {
                eprintln!(
                    "error: the token is too short: at least {} characters (128 bits); `--new-token` makes one",
                    auth::MIN_TOKEN_CHARS
                );
                return EXIT_INVALID;
            }
            println!("{}", auth::sha256_hex(&secret));
            return EXIT_OK;
        }
        return match auth::hash_password(&secret) {
            Ok(hash) => {
                println!("{hash}");
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_INVALID
            }
        };
    }
    match start(args) {
        Ok(()) => EXIT_OK,
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_INVALID
        }
    }
}

fn start(args: ServeArgs) -> Result<(), String> {
    let mut files = Vec::new();
    for path in &args.paths {
        if path.is_dir() {
            proc_files(path, &mut files).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        } else {
            files.push(path.clone());
        }
    }
    let program = if files.is_empty() {
        eprintln!("procdsl serve: no .proc files given: only stored instances are served");
        None
    } else {
        match check::load_files(&files) {
            Ok(loaded) => Some(Arc::new(loaded.program)),
            Err(failure) => {
                eprint!("{}", failure.render(color_stderr()));
                return Err("the processes do not load; nothing is served".to_string());
            }
        }
    };
    let users = args.users.as_deref().map(auth::Users::load).transpose()?;
    if let Some(path) = args.users.as_deref() {
        warn_if_shared(path);
    }
    let (addr, loopback) = resolve(&args.addr)?;
    let secure_cookies = args.secure_cookies || (!loopback && !args.no_secure_cookies);
    if !loopback {
        eprintln!(
            "procdsl serve: warning: serving {addr} over plain HTTP: passwords, tokens and session cookies cross the network readable; put a TLS reverse proxy in front (docs/SERVICE.md, \"Security\")"
        );
    }
    let access_log = args.access_log.as_deref().map(service::accesslog::AccessLog::open).transpose()?;
    if users.is_none() {
        if !loopback {
            return Err(format!(
                "{} is not a loopback address: without --users anyone could call the service; give --users FILE or a 127.0.0.1 address",
                args.addr
            ));
        }
        eprintln!("procdsl serve: no --users file: no sign-in needed, so only loopback ({addr}) is served");
    }
    let (store, maintenance) = open_store(&args)?;
    let limits = Limits {
        max_body: args.max_body,
        request_timeout: seconds(args.timeout, "--timeout")?,
        max_concurrent: args.max_concurrent.max(1),
        workers: args.workers.max(1),
        max_backlog: args.max_backlog.max(1),
        max_steps: args.max_steps,
        max_memory: args.max_memory,
        session_ttl: seconds(args.session_hours * 3600.0, "--session-hours")?,
        tick_interval: Duration::from_millis(args.tick_ms.max(10)),
        max_connections: args.max_connections.max(1),
        header_timeout: seconds(args.header_timeout, "--header-timeout")?,
        idle_timeout: seconds(args.idle_timeout, "--idle-timeout")?,
        session_idle: args.session_idle_minutes.map(|m| seconds(m * 60.0, "--session-idle-minutes")).transpose()?,
        secure_cookies,
        lease: lease(args.lease_seconds)?,
        unit_budget: Duration::from_micros(args.unit_budget_us),
        ..Limits::default()
    };
    let reloadable = users.clone();
    let config = Config { program, store, users, limits, access_log, maintenance };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        reload_on_hangup(reloadable);
        eprintln!("procdsl serve: listening on http://{addr}");
        service::serve(config, listener, service::shutdown_signal()).await.map_err(|e| e.to_string())?;
        eprintln!("procdsl serve: stopped");
        Ok(())
    })
}

/// Store upkeep the service runs every 100 ms (see [`Config::maintenance`]).
type Maintenance = Box<dyn FnMut() + Send>;

/// The store `--store` names, opened, with its upkeep; says on stderr
/// which store it is (a connection string without its password).
fn open_store(args: &ServeArgs) -> Result<(Box<dyn ProcessStore>, Option<Maintenance>), String> {
    let path = match Location::parse(&args.store)? {
        Location::Postgres(url) => return open_postgres(args, &url),
        Location::Sqlite(path) => path,
    };
    let path = path.as_path();
    let store = Store::open(path).map_err(|e| e.to_string())?;
    // Checkpoints from a second connection keep them off the commit path.
    let checkpoints = Store::open_existing(path).map_err(|e| e.to_string())?;
    store.defer_checkpoints().map_err(|e| e.to_string())?;
    let mut failing = false;
    let maintenance: Maintenance = Box::new(move || match checkpoints.checkpoint() {
        Err(e) if !failing => {
            failing = true;
            eprintln!("procdsl serve: checkpoint: {e}");
        }
        Err(_) => {}
        Ok(()) => failing = false,
    });
    eprintln!("procdsl serve: store {}", path.display());
    Ok((Box::new(store), Some(maintenance)))
}

#[cfg(feature = "postgres")]
fn open_postgres(args: &ServeArgs, url: &str) -> Result<(Box<dyn ProcessStore>, Option<Maintenance>), String> {
    use procdsl::store::postgres::{redact, PgOptions, PgStore};
    if args.pg_max_connections == Some(0) {
        return Err("--pg-max-connections must be at least 1".to_string());
    }
    let options = PgOptions {
        max_connections: args.pg_max_connections.unwrap_or_else(procdsl::store::postgres::default_connections),
        connect_timeout: seconds(args.pg_connect_timeout, "--pg-connect-timeout")?,
        statement_timeout: seconds(args.pg_statement_timeout, "--pg-statement-timeout")?,
        ..PgOptions::default()
    };
    let connections = options.max_connections;
    let store = PgStore::connect(url, options).map_err(|e| e.to_string())?;
    eprintln!("procdsl serve: store {} (PostgreSQL, at most {connections} connections)", redact(url));
    Ok((Box::new(store), None))
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(_: &ServeArgs, _: &str) -> Result<(Box<dyn ProcessStore>, Option<Maintenance>), String> {
    Err("this procdsl was built without the `postgres` feature: --store takes a SQLite path only".to_string())
}

/// A users file others can read gets a warning (its hashes can be guessed at offline).
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            eprintln!(
                "procdsl serve: warning: the users file `{}` is readable or writable by others (mode {:o}); `chmod 600` it",
                path.display(),
                mode & 0o777
            );
        }
    }
}

/// `SIGHUP` reads the users file again (instead of ending the service, its
/// default); a file that does not check leaves the users as they were.
fn reload_on_hangup(users: Option<auth::Users>) {
    #[cfg(unix)]
    {
        let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
            eprintln!("procdsl serve: warning: cannot listen for SIGHUP");
            return;
        };
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                match &users {
                    None => eprintln!("procdsl serve: SIGHUP: no --users file to reload"),
                    Some(users) => match users.reload() {
                        Ok((u, t)) => eprintln!("procdsl serve: SIGHUP: users file reloaded ({u} users, {t} tokens)"),
                        Err(e) => {
                            eprintln!("procdsl serve: SIGHUP: the users file was not reloaded, the old one stays: {e}")
                        }
                    },
                }
            }
        });
    }
    #[cfg(not(unix))]
    let _ = users;
}
