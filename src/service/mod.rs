//! The web service (`procdsl serve`): Creatio's `ProcessEngineService.svc`
//! and `AuthService.svc` routes, the service's own JSON API, health and
//! Prometheus metrics, on axum and tokio.
//!
//! Engine and store calls never run on the async runtime: a request's
//! short unit of work (load, run, save) goes whole to a store thread, and
//! anything longer to tokio's blocking pool; the store (a
//! [`ProcessStore`] on its own threads) commits before a response is sent. A scheduler fires
//! due timers every second; background runs go to a bounded worker pool.
//! docs/SERVICE.md describes routes, auth, limits and metrics.

pub mod access;
pub mod accesslog;
pub mod auth;
pub mod caller;
mod console;
mod creatio;
pub mod error;
mod forgery;
mod limits;
mod listen;
pub mod metrics;
mod odata;
pub mod openapi;
mod rest;
mod runs;
mod signin;
mod worker;

use crate::check::spec::{ElementId, Program};
use crate::runtime::engine::{Run, RunOptions, DEFAULT_MAX_MEMORY, DEFAULT_MAX_STEPS};
use crate::runtime::instance::Instance;
use crate::store::{self, ProcessStore};
use axum::routing::{get, post};
use axum::Router;
use caller::Caller;
use error::ApiError;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore};

/// The Creatio route prefixes: both serve the same routes.
pub const PREFIXES: [&str; 2] = ["/0/ServiceModel", "/ServiceModel"];

/// Every route the service answers, `(method, path)`, for the OpenAPI
/// document and its test. Creatio routes are listed without a prefix.
pub const CREATIO_ROUTES: &[(&str, &str)] = &[
    ("post", "/AuthService.svc/Login"),
    ("post", "/AuthService.svc/Logout"),
    ("get", "/ProcessEngineService.svc/{code}/Execute"),
    ("post", "/ProcessEngineService.svc/{code}/Execute"),
    ("get", "/ProcessEngineService.svc/ExecProcElByUId/{uid}"),
    ("post", "/ProcessEngineService.svc/ExecProcElByUId/{uid}"),
    ("post", "/ProcessEngineService.svc/RunProcess"),
    ("post", "/ProcessEngineService.svc/CancelExecution"),
];

/// The service's own routes.
pub const API_ROUTES: &[(&str, &str)] = &[
    ("get", "/api/processes"),
    ("get", "/api/processes/{code}"),
    ("get", "/api/instances"),
    ("get", "/api/instances/{id}"),
    ("post", "/api/signals/{name}"),
    ("get", "/api/openapi.json"),
    ("get", "/health"),
    ("get", "/metrics"),
    ("get", "/0/odata/{entitySet}"),
    ("get", "/0/odata/{entitySet}/$count"),
    ("get", "/0/odata/SysProcessLog({id})"),
    ("get", "/Login/NuiLogin.aspx"),
];

/// The routes matched without regard to case, as Creatio matches them:
/// the Creatio routes under both prefixes, OData and the login page.
fn case_insensitive_routes() -> &'static [String] {
    static ROUTES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| {
        let mut out: Vec<String> = PREFIXES
            .iter()
            .flat_map(|prefix| CREATIO_ROUTES.iter().map(move |(_, p)| format!("{prefix}{p}")))
            .collect();
        out.extend(["/0/odata/{entitySet}/$count", "/0/odata/{entitySet}", "/Login/NuiLogin.aspx"].map(String::from));
        // More literal segments first: `ExecProcElByUId/{uid}` before `{code}/Execute`.
        out.sort_by_key(|p| std::cmp::Reverse(p.split('/').filter(|s| !s.starts_with('{')).count()));
        out.dedup();
        out
    })
}

/// The path a request is routed by: without a trailing slash, and with the
/// literal segments of a case-insensitive route in their canonical case.
pub fn canonical_path(path: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = if path.len() > 1 { path.trim_end_matches('/') } else { path };
    let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
    let segments: Vec<&str> = trimmed.split('/').collect();
    for route in case_insensitive_routes() {
        let pattern: Vec<&str> = route.split('/').collect();
        if pattern.len() != segments.len() {
            continue;
        }
        let matches = pattern.iter().zip(&segments).all(|(p, s)| p.starts_with('{') || p.eq_ignore_ascii_case(s));
        if matches {
            let joined: Vec<&str> =
                pattern.iter().zip(&segments).map(|(p, s)| if p.starts_with('{') { *s } else { *p }).collect();
            return std::borrow::Cow::Owned(joined.join("/"));
        }
    }
    if trimmed.len() == path.len() {
        std::borrow::Cow::Borrowed(path)
    } else {
        std::borrow::Cow::Owned(trimmed.to_string())
    }
}

/// The web console's routes (HTML pages; not in the OpenAPI document).
pub const CONSOLE_ROUTES: &[(&str, &str)] = console::ROUTES;

/// Every `(method, path)` the router serves, prefixes expanded.
pub fn routes() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for prefix in PREFIXES {
        for (m, p) in CREATIO_ROUTES {
            out.push((m.to_string(), format!("{prefix}{p}")));
        }
    }
    out.extend(API_ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())));
    out
}

/// Limits that protect the service.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Largest sum of request header names and values, in bytes.
    pub max_header_bytes: usize,
    /// Most request headers.
    pub max_headers: usize,
    /// Longest time to answer a request.
    pub request_timeout: Duration,
    /// Most requests answered at once by the whole service; more wait.
    pub max_concurrent: usize,
    /// Most background runs at once.
    pub workers: usize,
    /// Most background runs accepted and not finished (running or waiting
    /// for a worker); more are refused with 503.
    pub max_backlog: usize,
    /// The step budget of one run.
    pub max_steps: u64,
    /// The memory budget of each instance, in bytes.
    pub max_memory: u64,
    /// How long a session lives after sign-in.
    pub session_ttl: Duration,
    /// How long a claim on work lasts (a due timer, a background run): a
    /// node renews the claims of its runs every third of it, and a node
    /// that dies leaves its work to the others once its claims expired.
    pub lease: Duration,
    /// How long a session may go unused before it ends (none: until `session_ttl`).
    pub session_idle: Option<Duration>,
    /// Whether session cookies carry `Secure` (sent only over HTTPS).
    pub secure_cookies: bool,
    /// How often the scheduler fires due timers.
    pub tick_interval: Duration,
    /// Most open connections; more are answered 503 and closed.
    pub max_connections: usize,
    /// Longest time to receive a request's headers (from the connection's
    /// start or the end of the previous answer); then the connection closes.
    pub header_timeout: Duration,
    /// Longest time a kept-alive connection may stay idle between requests.
    pub idle_timeout: Duration,
    /// Most Login requests at once (apart from `max_concurrent`).
    pub login_slots: usize,
    /// Longest time to receive a Login body.
    pub login_body_timeout: Duration,
    /// Password checks at once, each on its own thread.
    pub password_checks: usize,
    /// How long a sign-in waits for a password check before a 503.
    pub password_queue_wait: Duration,
    /// How long a request's run may take on a store thread before it stops,
    /// uncommitted, and runs again on the blocking pool (docs/SERVICE.md,
    /// "Engine and store off the runtime").
    pub unit_budget: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 1 << 20,
            max_header_bytes: 16 << 10,
            max_headers: 64,
            request_timeout: Duration::from_secs(30),
            max_concurrent: 256,
            workers: 4,
            max_backlog: 1000,
            max_steps: DEFAULT_MAX_STEPS,
            max_memory: DEFAULT_MAX_MEMORY,
            session_ttl: Duration::from_secs(8 * 3600),
            lease: Duration::from_secs(60),
            session_idle: None,
            secure_cookies: false,
            tick_interval: Duration::from_secs(1),
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            login_slots: 32,
            login_body_timeout: Duration::from_secs(5),
            password_checks: std::thread::available_parallelism().map_or(2, |n| n.get().min(4)),
            password_queue_wait: Duration::from_secs(2),
            unit_budget: worker::UNIT_BUDGET,
        }
    }
}

/// What the service is started with.
pub struct Config {
    /// The processes it serves (none: only stored instances).
    pub program: Option<Arc<Program>>,
    pub store: Box<dyn ProcessStore>,
    /// Users and tokens; `None` means no sign-in (loopback only).
    pub users: Option<auth::Users>,
    pub limits: Limits,
    /// Where one JSON line per request goes (none: no access log).
    pub access_log: Option<accesslog::AccessLog>,
    /// Store upkeep run every 100 ms on its own thread, off the commit path
    /// (SQLite: WAL checkpoints from a second connection).
    pub maintenance: Option<Box<dyn FnMut() + Send>>,
}

/// The state every handler shares.
pub(crate) struct Shared {
    program: Option<Arc<Program>>,
    store: worker::StoreHandle,
    users: Option<auth::Users>,
    access_log: Option<Arc<accesslog::AccessLog>>,
    metrics: metrics::Metrics,
    limits: Limits,
    workers: Arc<Semaphore>,
    requests: Arc<Semaphore>,
    logins: Arc<Semaphore>,
    password_checks: signin::PasswordChecks,
    throttle: signin::Throttle,
    /// Background runs accepted and not finished.
    backlog: AtomicUsize,
    /// Wakes the deliverer: a signal was queued.
    deliverer: Notify,
    /// Outbox rows a request is delivering itself; the deliverer leaves them.
    claimed: Mutex<HashSet<i64>>,
    /// Background runs this node holds (accepted or taken over, not
    /// finished): their leases are renewed, and the search for orphans
    /// passes them over.
    held: Mutex<HashSet<uuid::Uuid>>,
    /// Background runs that failed here for a reason that does not pass
    /// (a damaged state): not taken over again by this node, so that one
    /// of them is not retried (and reported) every third of a lease.
    given_up: Mutex<HashSet<uuid::Uuid>>,
    /// The service is stopping: no more orphans are taken over.
    stopping: std::sync::atomic::AtomicBool,
    /// Where runs outgrew a store thread's budget ([`Limits::unit_budget`])
    /// the last time: by process Code, the element a run went on from
    /// (`None`: its start). Such requests go the long way at once.
    long_runs: Mutex<HashMap<String, HashSet<Option<ElementId>>>>,
}

/// When a request must be answered (`--timeout` after it came in, also
/// counting the wait for a slot). The guard puts it in every request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(pub Instant);

impl Deadline {
    /// When a run of the request stops: before the deadline, so that the
    /// request still saves what it may and answers itself. A quarter of
    /// the time left, at most half a second, is kept for that: on a loaded
    /// 2-core machine a tenth (at most 100 ms) was seen not to be enough.
    pub fn run_until(self) -> Instant {
        let left = self.0.saturating_duration_since(Instant::now());
        self.0 - (left / 4).min(Duration::from_millis(500))
    }
}

pub(crate) type AppState = Arc<Shared>;

impl Shared {
    /// Saves an instance that `run` moved, committed before it returns.
    fn save_run(&self, instance: Instance, run: Run) -> Result<Instance, ApiError> {
        let write = store::Write::SaveRun { instance: Box::new(instance), emitted: run.emitted, options: run.options };
        match self.store.write(write)? {
            store::Written::Saved(instance) => Ok(*instance),
            _ => Err(ApiError::internal("the store answered a save with something else")),
        }
    }

    fn options(&self) -> RunOptions {
        RunOptions { max_steps: self.limits.max_steps, max_memory: self.limits.max_memory, ..store::real_time(None) }
    }

    /// When a run of a unit started now stops: at the unit's budget, or at
    /// the request's own deadline if that comes first (a budget too large
    /// to add to the clock has no effect).
    fn unit_until(&self, deadline: Deadline) -> Instant {
        let until = deadline.run_until();
        Instant::now().checked_add(self.limits.unit_budget).map_or(until, |budget| until.min(budget))
    }

    /// Do runs of process `code` from element `from` (`None`: its start)
    /// go the long way at once, since the last one outgrew a store
    /// thread's budget?
    fn runs_long(&self, code: &str, from: Option<ElementId>) -> bool {
        let long = self.long_runs.lock().unwrap_or_else(|e| e.into_inner());
        !long.is_empty() && long.get(code).is_some_and(|from_here| from_here.contains(&from))
    }

    /// Remembers whether a run of `code` from `from` outgrew a store
    /// thread's budget: if it did, the next requests that run from there
    /// go the long way at once, without spending the budget first; once
    /// one is short again, they go as units again. A run's length depends
    /// on where it goes on from: a start that runs to a user task is short
    /// where the exec of that task may run long.
    fn ran(&self, code: &str, from: Option<ElementId>, took: Duration) {
        let long = took > self.limits.unit_budget;
        let mut map = self.long_runs.lock().unwrap_or_else(|e| e.into_inner());
        if long {
            if !map.get(code).is_some_and(|from_here| from_here.contains(&from)) {
                map.entry(code.to_string()).or_default().insert(from);
            }
        } else if let Some(from_here) = map.get_mut(code) {
            from_here.remove(&from);
            if from_here.is_empty() {
                map.remove(code);
            }
        }
    }

    /// The options of a run on behalf of `caller` (see [`access::run_as`]).
    fn options_for(&self, caller: &Caller) -> RunOptions {
        access::run_as(self.options(), caller)
    }

    /// A run on behalf of `caller` that stops at the request's deadline.
    fn run_until(&self, caller: &Caller, deadline: Deadline) -> Run {
        Run::new(self.options_for(caller)).until(deadline.run_until())
    }

    /// Takes a place in the background backlog, or refuses with 503.
    fn enter_backlog(&self) -> Result<(), ApiError> {
        let max = self.limits.max_backlog.max(1);
        let taken = self.backlog.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < max).then_some(n + 1));
        taken.map(|_| ()).map_err(|n| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                format!("{n} background runs are waiting or running already (at most {max}); try again later"),
            )
            .with_code("procdsl::service::backlog_full")
        })
    }

    fn program(&self) -> Result<&Arc<Program>, ApiError> {
        self.program.as_ref().ok_or_else(|| ApiError::not_found("the service was started without .proc files"))
    }
}

/// Runs a closure on the blocking pool: engine and store work never blocks
/// the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::internal("the request's work stopped unexpectedly; nothing more was committed"))?
}

/// The router with every route, without the service-wide layers.
fn routes_router(state: AppState) -> Router {
    let mut router = Router::new();
    for prefix in PREFIXES {
        router = router
            .route(&format!("{prefix}/AuthService.svc/Login"), post(creatio::login))
            .route(&format!("{prefix}/AuthService.svc/Logout"), post(creatio::logout))
            .route(
                &format!("{prefix}/ProcessEngineService.svc/{{code}}/Execute"),
                get(creatio::execute).post(creatio::execute),
            )
            .route(
                &format!("{prefix}/ProcessEngineService.svc/ExecProcElByUId/{{uid}}"),
                get(creatio::exec_by_uid).post(creatio::exec_by_uid),
            )
            .route(&format!("{prefix}/ProcessEngineService.svc/RunProcess"), post(creatio::run_process))
            .route(&format!("{prefix}/ProcessEngineService.svc/CancelExecution"), post(creatio::cancel_execution));
    }
    router
        .route("/api/processes", get(rest::processes))
        .route("/api/processes/{code}", get(rest::process))
        .route("/api/instances", get(rest::instances))
        .route("/api/instances/{id}", get(rest::instance))
        .route("/api/signals/{name}", post(rest::signal))
        .route("/api/openapi.json", get(rest::openapi))
        .route("/health", get(rest::health))
        .route("/metrics", get(rest::metrics))
        .route("/0/odata/{entitySet}", get(odata::collection))
        .route("/0/odata/{entitySet}/$count", get(odata::count_of))
        .route(odata::LOGIN_PAGE, get(odata::login_page))
        .merge(console::router())
        .fallback(rest::not_found)
        .method_not_allowed_fallback(rest::method_not_allowed)
        .layer(axum::middleware::from_fn(access::enforce))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::authenticate))
        .layer(axum::middleware::from_fn_with_state(state.clone(), forgery::check))
        .layer(axum::middleware::from_fn(console::html_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), accesslog::record))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::record))
        .layer(axum::extract::DefaultBodyLimit::max(state.limits.max_body))
        .with_state(state)
}

/// The whole service: the routes wrapped, as one service, in the layers
/// that must see every request (a per-route layer would bound each route
/// separately): panics to 500, the concurrency limit, header limits and
/// the request timeout.
pub fn app(config: Config) -> (Router, ServiceHandle) {
    let limits = config.limits.clone();
    if let Some(mut upkeep) = config.maintenance {
        let spawned = std::thread::Builder::new().name("procdsl-upkeep".into()).spawn(move || loop {
            std::thread::sleep(Duration::from_millis(100));
            upkeep();
        });
        if let Err(e) = spawned {
            eprintln!("procdsl serve: cannot start the store upkeep thread: {e}");
        }
    }
    let state = Arc::new(Shared {
        program: config.program,
        store: worker::StoreHandle::start(config.store),
        users: config.users,
        access_log: config.access_log.map(Arc::new),
        metrics: metrics::Metrics::default(),
        workers: Arc::new(Semaphore::new(limits.workers.max(1))),
        requests: Arc::new(Semaphore::new(limits.max_concurrent.max(1))),
        logins: Arc::new(Semaphore::new(limits.login_slots.max(1))),
        password_checks: signin::PasswordChecks::start(limits.password_checks, limits.password_queue_wait),
        throttle: signin::Throttle::default(),
        limits,
        backlog: AtomicUsize::new(0),
        deliverer: Notify::new(),
        claimed: Mutex::new(HashSet::new()),
        held: Mutex::new(HashSet::new()),
        given_up: Mutex::new(HashSet::new()),
        stopping: std::sync::atomic::AtomicBool::new(false),
        long_runs: Mutex::new(HashMap::new()),
    });
    let inner = routes_router(state.clone());
    let outer = Router::new()
        .fallback_service(inner)
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::guard))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(limits::panic_response))
        .layer(axum::middleware::from_fn(forgery::headers));
    (outer, ServiceHandle { state })
}

/// Background work of a running service: the timer scheduler, resuming
/// interrupted background runs, and waiting for them at shutdown.
pub struct ServiceHandle {
    state: AppState,
}

impl ServiceHandle {
    /// Resumes the instances left `Running` whose run no node holds: a
    /// background run that a stopped service had accepted but not finished,
    /// or that a node which died was running (its lease expired). Each is
    /// claimed for this node first, so that of several nodes one resumes
    /// it; each waits for a worker and is loaded only then.
    pub async fn resume_interrupted(&self) -> Result<usize, ApiError> {
        let state = self.state.clone();
        blocking(move || runs::take_over(&state, usize::MAX, false)).await
    }

    /// Fires due timers every `tick_interval`, forever (also those that fell
    /// due while the service was down: they are due now), and delivers the
    /// signals queued in the store.
    pub fn start_scheduler(&self) -> tokio::task::JoinHandle<()> {
        let state = self.state.clone();
        let deliverer = runs::start_deliverer(state.clone());
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(state.limits.tick_interval);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let _deliverer = AbortOnDrop(deliverer);
            let mut reported = Some(HashSet::new());
            loop {
                interval.tick().await;
                let s = state.clone();
                let mut said = reported.take().unwrap_or_default();
                let result = blocking(move || {
                    let moved = runs::tick(&s, &mut said);
                    Ok((moved, said))
                })
                .await;
                match result {
                    Ok((Ok(_), said)) => reported = Some(said),
                    Ok((Err(e), said)) => {
                        if !said.contains(&e.message) {
                            eprintln!("procdsl serve: timers: {}", e.message);
                        }
                        let mut said = said;
                        said.insert(e.message);
                        reported = Some(said);
                    }
                    Err(e) => eprintln!("procdsl serve: timers: {}", e.message),
                }
            }
        })
    }

    /// Every third of the lease: renews the leases of the background runs
    /// this node holds (its heartbeat), takes over orphaned runs and purges
    /// expired sessions (see [`runs::start_upkeep`]). Runs until aborted;
    /// [`serve`] keeps it through the drain at shutdown, so that the runs
    /// still finishing stay held.
    pub fn start_upkeep(&self) -> tokio::task::JoinHandle<()> {
        runs::start_upkeep(self.state.clone())
    }

    /// Waits until the background runs in progress have finished (at most `limit`).
    pub async fn drain(&self, limit: Duration) {
        let n = u32::try_from(self.state.limits.workers.max(1)).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(limit, self.state.workers.acquire_many(n)).await;
    }

    /// Leaves the store quick to open next time (SQLite: the WAL copied
    /// into the database file and emptied).
    pub async fn close_store(&self) -> Result<(), ApiError> {
        let state = self.state.clone();
        blocking(move || state.store.call(|st| st.close())).await
    }
}

/// Stops a task when the task that owns it stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves on `listener` until `shutdown` resolves; then stops accepting,
/// finishes the requests in flight and the background runs in progress.
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (app, handle) = app(config);
    match handle.resume_interrupted().await {
        Ok(0) => {}
        Ok(n) => eprintln!("procdsl serve: resuming {n} interrupted background instance(s)"),
        Err(e) => eprintln!("procdsl serve: cannot resume interrupted instances: {}", e.message),
    }
    let upkeep = AbortOnDrop(handle.start_upkeep());
    let scheduler = handle.start_scheduler();
    let result = listen::accept_loop(app, listener, &handle.state.limits, shutdown).await;
    handle.state.stopping.store(true, Ordering::SeqCst);
    scheduler.abort();
    handle.drain(Duration::from_secs(30)).await;
    drop(upkeep);
    if let Err(e) = handle.close_store().await {
        eprintln!("procdsl serve: closing the store: {}", e.message);
    }
    result
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::canonical_path;

    #[test]
    fn creatio_routes_are_matched_without_case_and_trailing_slashes() {
        let svc = "/0/ServiceModel/ProcessEngineService.svc";
        assert_eq!(canonical_path("/0/servicemodel/PROCESSENGINESERVICE.SVC/runprocess/"), format!("{svc}/RunProcess"));
        assert_eq!(
            canonical_path("/servicemodel/processengineservice.svc/UsrX/execute"),
            "/ServiceModel/ProcessEngineService.svc/UsrX/Execute"
        );
        // The literal route wins over `{code}/Execute`; values keep their case.
        assert_eq!(canonical_path(&format!("{svc}/execprocelbyuid/AbC")), format!("{svc}/ExecProcElByUId/AbC"));
        assert_eq!(canonical_path("/0/ODATA/account/$COUNT"), "/0/odata/account/$count");
        assert_eq!(canonical_path("/api/Processes/"), "/api/Processes");
        assert_eq!(canonical_path("/"), "/");
        assert_eq!(canonical_path("//"), "/");
    }
}
