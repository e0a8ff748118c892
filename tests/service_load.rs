//! The service's core under load, through the real server over HTTP:
//! runs stop at the request's deadline; process code runs off the store's
//! thread, so a long delivery or tick does not hold other requests; large
//! fan-outs are delivered in pages and loops are cut by hops; queues and
//! lists are bounded; a retried RunProcess with an `Idempotency-Key` does
//! not start a second instance; the WAL is emptied on shutdown.
//! No assertion is about time: each is about counts, statuses, and what a
//! concurrent request saw.
#![cfg(feature = "service")]

mod service_support;

use procdsl::runtime::engine::Run;
use procdsl::store::{self, ProcessStore, Store, Write};
use procdsl::Engine;
use serde_json::{json, Value};
use service_support::{read_response, Response};
use std::io::{BufRead, BufReader, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PROCS: &str = r#"
process UsrSpin {
    out N: Integer = 0
    start Begin -> Spin
    script Spin { while true { N = N + 1 } } -> Done
    end Done
}

process UsrTaskThenSpin {
    var N: Integer = 0
    start Begin -> Approve
    user Approve "Approve" { in Ok: Boolean } -> Spin
    script Spin { while true { N = N + 1 } } -> Done
    end Done
}

process UsrApprove {
    out Note: Text
    start Begin -> Approve
    user Approve "Approve" {
        in Comment: Text = ""
        done { Note = Comment }
    } -> Done
    end Done
}

process UsrListener {
    in  Work: Integer = 0
    var Total: Integer = 0
    start Begin -> Listen
    signal Listen "Go" -> Mark
    script Mark { for i in 0..Work { Total = Total + 1 }; log "heard" } -> Done
    end Done
}

process UsrShout {
    start Begin -> Shout
    script Shout { emit "Go" } -> Done
    end Done
}

process UsrPing {
    start Begin -> Wait
    signal Wait "Ping" -> Answer
    script Answer { emit "Pong" } -> Wait
}

process UsrPong {
    start Begin -> Wait
    signal Wait "Pong" -> Answer
    script Answer { emit "Ping" } -> Wait
}

process UsrSleep {
    start Begin -> Nap
    timer Nap after "PT1S" -> Done
    end Done
}

process UsrCount {
    in  N: Integer = 0
    out Total: Integer = 0
    start Begin -> Work
    script Work { for i in 0..N { Total = Total + 1 } } -> Done
    end Done
}

process UsrTaskThenCount {
    in  N: Integer = 0
    out Total: Integer = 0
    start Begin -> Approve
    user Approve "Approve" { in Ok: Boolean } -> Work
    script Work { for i in 0..N { Total = Total + 1 } } -> Done
    end Done
}

process UsrSlowBackground {
    in  N: Integer = 100000000
    var Total: Integer = 0
    start Begin -> Work
    script Work { for i in 0..N { Total = Total + 1 } } -> Done
    end Done
}
"#;

const SVC: &str = "/0/ServiceModel/ProcessEngineService.svc";

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// These tests load the server on purpose (spinning runs, bursts, request
/// deadlines of 2 s); two at once on a 2-core machine made their deadlines
/// race each other. They run one at a time.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("procs.proc"), PROCS).unwrap();
    dir
}

fn start(dir: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .arg("serve")
        .arg(dir.join("procs.proc"))
        .args(["--addr", "127.0.0.1:0", "--store"])
        .arg(dir.join("store.db"))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    let addr = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            panic!("the server did not start:\n{seen}");
        };
        seen.push_str(&line);
        seen.push('\n');
        if let Some(a) = line.strip_prefix("procdsl serve: listening on http://") {
            break a.to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server { child, addr }
}

fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    head.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    read_response(&mut stream)
}

fn get(addr: &str, path: &str) -> Response {
    request(addr, "GET", path, &[], None)
}

fn post(addr: &str, path: &str, body: &Value) -> Response {
    request(addr, "POST", path, &[], Some(&body.to_string()))
}

fn run_process(addr: &str, name: &str) -> Value {
    let r = post(addr, &format!("{SVC}/RunProcess"), &json!({ "schemaName": name }));
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The value of one metric line (`name{labels} value`).
fn metric(addr: &str, line_start: &str) -> u64 {
    let text = get(addr, "/metrics").body;
    text.lines().find_map(|l| l.strip_prefix(line_start)?.strip_prefix(' ')?.parse().ok()).unwrap_or(0)
}

/// Stores `n` instances of `code` run until they wait, written in batches
/// (group commit) before the server starts: seeding through HTTP would
/// take the test most of its time.
fn seed(dir: &Path, code: &str, inputs: &[(&str, &str)], n: usize, options: procdsl::runtime::engine::RunOptions) {
    let engine = Engine::from_source("procs.proc", PROCS).unwrap();
    let mut store = Store::open(dir.join("store.db")).unwrap();
    let mut left = n;
    while left > 0 {
        let batch: Vec<Write> = (0..left.min(500))
            .map(|_| {
                let mut instance = engine.start(code, inputs.iter().copied()).unwrap();
                let mut run = Run::new(options.clone());
                store::run_on(&mut instance, &mut run);
                Write::SaveRun { instance: Box::new(instance), emitted: run.emitted, options: options.clone() }
            })
            .collect();
        left -= batch.len();
        for result in store.write_batch(batch) {
            result.unwrap();
        }
    }
}

#[test]
fn a_request_that_times_out_stops_its_run_commits_nothing_and_is_counted() {
    let _one_at_a_time = one_at_a_time();
    let dir = setup();
    let server = start(dir.path(), &["--timeout", "1", "--max-steps", "1000000000000"]);
    let a = &server.addr;
    let r = get(a, &format!("{SVC}/UsrSpin/Execute?ResultParameterName=N"));
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "procdsl::service::timeout");
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("nothing was committed"), "{}", r.body);
    // The run noticed its deadline and stopped (the counter moves only then).
    assert_eq!(metric(a, "procdsl_runs_stopped_total"), 1);

    // An exec whose run times out leaves the element-instance waiting: nothing committed.
    let d = run_process(a, "UsrTaskThenSpin");
    let (id, uid) = (d["processId"].as_str().unwrap(), d["waiting"][0]["uid"].as_str().unwrap());
    let r = get(a, &format!("{SVC}/ExecProcElByUId/{uid}?Ok=true"));
    assert_eq!(r.status, 503, "{}", r.body);
    let d = get(a, &format!("/api/instances/{id}")).json();
    assert_eq!((d["status"].as_str(), d["waiting"][0]["uid"].as_str()), (Some("Waiting"), Some(uid)), "{d}");
    assert_eq!(metric(a, "procdsl_runs_stopped_total"), 2);
    // The 503s are in the request counts.
    let route = "/0/ServiceModel/ProcessEngineService.svc";
    assert_eq!(
        metric(a, &format!("procdsl_http_requests_total{{route=\"{route}/{{code}}/Execute\",status=\"503\"}}")),
        1
    );
    assert_eq!(
        metric(a, &format!("procdsl_http_requests_total{{route=\"{route}/ExecProcElByUId/{{uid}}\",status=\"503\"}}")),
        1
    );
}

#[test]
fn a_run_longer_than_a_store_threads_budget_runs_again_on_the_blocking_pool() {
    let _one_at_a_time = one_at_a_time();
    let dir = setup();
    let server = start(dir.path(), &["--max-steps", "1000000000", "--unit-budget-us", "20000"]);
    let a = &server.addr;
    let start = |code: &str, n: u64| {
        let body = json!({ "schemaName": code, "parameterValues": [{ "name": "N", "value": n.to_string() }] });
        let r = post(a, &format!("{SVC}/RunProcess"), &body);
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    };
    // A short run stays on the store thread.
    assert_eq!(start("UsrCount", 3)["resultParameterValues"]["Total"], 3);
    assert_eq!(metric(a, "procdsl_runs_rerun_total"), 0);
    // A million turns of a loop take far longer than the budget (20 ms here): the
    // run stops uncommitted and runs again, whole, on the blocking pool.
    let d = start("UsrCount", 1_000_000);
    assert_eq!(
        (d["status"].as_str(), d["resultParameterValues"]["Total"].as_i64()),
        (Some("Completed"), Some(1_000_000)),
        "{d}"
    );
    assert_eq!(metric(a, "procdsl_runs_rerun_total"), 1);
    // The process is known to run long now: its next start goes the long
    // way at once, without spending the budget first.
    assert_eq!(start("UsrCount", 1_000_000)["resultParameterValues"]["Total"], 1_000_000);
    assert_eq!(metric(a, "procdsl_runs_rerun_total"), 1);
    // A short run of it (the long way) makes it a unit again.
    assert_eq!(start("UsrCount", 3)["resultParameterValues"]["Total"], 3);
    assert_eq!(start("UsrCount", 1_000_000)["resultParameterValues"]["Total"], 1_000_000);
    assert_eq!(metric(a, "procdsl_runs_rerun_total"), 2);
    // An exec whose run is long: executed once, by the second attempt.
    let d = start("UsrTaskThenCount", 1_000_000);
    let (id, uid) = (d["processId"].as_str().unwrap(), d["waiting"][0]["uid"].as_str().unwrap());
    let r = get(a, &format!("{SVC}/ExecProcElByUId/{uid}?Ok=true"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["resultParameterValues"]["Total"], 1_000_000, "{}", r.body);
    assert_eq!(metric(a, "procdsl_runs_rerun_total"), 3);
    let d = get(a, &format!("/api/instances/{id}")).json();
    assert_eq!(d["status"], "Completed", "{d}");
    let history = d["history"].as_array().unwrap();
    assert_eq!(history.iter().filter(|h| h["element"] == "Approve").count(), 1, "{d}");
    // Executed once: a second exec is told so.
    assert_eq!(get(a, &format!("{SVC}/ExecProcElByUId/{uid}?Ok=true")).status, 409);
    // What runs long is remembered by where the run goes on from: the
    // next exec of that task goes the long way at once, and the start
    // (short: it runs to the task) still goes as a unit.
    let d = start("UsrTaskThenCount", 1_000_000);
    let uid = d["waiting"][0]["uid"].as_str().unwrap();
    let r = get(a, &format!("{SVC}/ExecProcElByUId/{uid}?Ok=true"));
    assert_eq!(r.json()["resultParameterValues"]["Total"], 1_000_000, "{}", r.body);
    assert_eq!(metric(a, "procdsl_runs_rerun_total"), 3);
}

#[test]
fn the_largest_unit_budget_is_accepted_and_keeps_runs_on_the_store_thread() {
    let _one_at_a_time = one_at_a_time();
    let dir = setup();
    let server = start(dir.path(), &["--unit-budget-us", &u64::MAX.to_string()]);
    let a = &server.addr;
    let body = json!({ "schemaName": "UsrCount", "parameterValues": [{ "name": "N", "value": "3" }] });
    let r = post(a, &format!("{SVC}/RunProcess"), &body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["resultParameterValues"]["Total"], 3, "{}", r.body);
    let d = run_process(a, "UsrApprove");
    let r = get(a, &format!("{SVC}/ExecProcElByUId/{}", d["waiting"][0]["uid"].as_str().unwrap()));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(metric(a, "procdsl_runs_rerun_total"), 0);
}

#[test]
fn a_long_signal_delivery_runs_off_the_store_thread_and_reaches_each_waiter_once() {
    let _one_at_a_time = one_at_a_time();
    let dir = setup();
    seed(dir.path(), "UsrListener", &[("Work", "600000")], 24, store::real_time(None));
    let server = start(dir.path(), &["--timeout", "2", "--max-steps", "1000000000000"]);
    let a = server.addr.clone();
    let thrower = {
        let a = a.clone();
        std::thread::spawn(move || post(&a, "/api/signals/Go", &json!({})))
    };
    // While the listeners run (the signal request is in flight), the store
    // answers others: this list comes back and sees listeners still waiting.
    wait_for("the delivery to start", Duration::from_secs(20), || metric(&a, "procdsl_http_requests_in_flight") == 2);
    let r = get(&a, "/api/instances?status=Waiting");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.json().as_array().unwrap().is_empty(), "the list waited for the whole delivery: {}", r.body);
    let r = thrower.join().unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    // Whatever the request did not deliver by its deadline, the deliverer does.
    wait_for("every listener", Duration::from_secs(120), || {
        metric(&a, "procdsl_instances{status=\"Completed\"}") == 24
    });
    for s in get(&a, "/api/instances").json().as_array().unwrap() {
        let d = get(&a, &format!("/api/instances/{}", s["id"].as_str().unwrap())).json();
        assert_eq!(d["log"], json!(["heard"]), "each listener heard the signal once: {d}");
        assert_eq!(s["version"], 2, "saved once waiting, once done: {s}");
    }
}

#[test]
fn a_fan_out_past_ten_thousand_waiters_is_delivered_and_a_loop_is_cut() {
    let _one_at_a_time = one_at_a_time();
    let dir = setup();
    seed(dir.path(), "UsrListener", &[], 10_050, store::real_time(None));
    let server = start(dir.path(), &["--timeout", "600"]);
    let a = &server.addr;
    // The emitting process does not fail; its signal reaches every waiter.
    let d = run_process(a, "UsrShout");
    assert_eq!((d["status"].as_str(), d["success"].as_bool()), (Some("Completed"), Some(true)), "{d}");
    wait_for("the fan-out", Duration::from_secs(300), || {
        metric(a, "procdsl_instances{status=\"Completed\"}") == 10_051
    });
    assert_eq!(metric(a, "procdsl_signals_dropped_total"), 0);

    // Two instances that answer each other's signals forever: the signal
    // is not passed on after 100 hops, and the service goes on.
    run_process(a, "UsrPing");
    run_process(a, "UsrPong");
    let r = post(a, "/api/signals/Ping", &json!({}));
    assert_eq!((r.status, r.json()["wokenCount"].as_u64()), (200, Some(1)), "{}", r.body);
    wait_for("the loop to be cut", Duration::from_secs(120), || metric(a, "procdsl_signals_dropped_total") == 1);
    assert_eq!(get(a, "/health").status, 200);
}

#[test]
fn background_runs_beyond_the_backlog_are_refused() {
    let _one_at_a_time = one_at_a_time();
    let dir = setup();
    let server = start(dir.path(), &["--workers", "1", "--max-backlog", "2", "--max-steps", "1000000000000"]);
    let a = &server.addr;
    let statuses: Vec<u16> = (0..3).map(|_| get(a, &format!("{SVC}/UsrSlowBackground/Execute")).status).collect();
    assert_eq!(statuses, [200, 200, 503]);
    let r = get(a, &format!("{SVC}/UsrSlowBackground/Execute"));
    assert_eq!(r.json()["error"]["code"], "procdsl::service::backlog_full", "{}", r.body);
    assert_eq!(metric(a, "procdsl_background_backlog"), 2);
    // Only the accepted ones were committed.
    assert_eq!(metric(a, "procdsl_instances{status=\"Running\"}"), 2);
}

#[test]
fn cancel_execution_takes_a_bounded_list_and_lists_page_by_cursor() {
    let _one_at_a_time = one_at_a_time();
    let dir = setup();
    let server = start(dir.path(), &[]);
    let a = &server.addr;
    let ids: Vec<String> =
        (0..5).map(|_| run_process(a, "UsrApprove")["processId"].as_str().unwrap().to_string()).collect();

    // Pages of two, by cursor, give the whole list in order.
    let all: Vec<Value> = get(a, "/api/instances").json().as_array().unwrap().clone();
    let mut paged = Vec::new();
    let mut path = "/api/instances?limit=2&status=Waiting".to_string();
    loop {
        let r = get(a, &path);
        assert_eq!(r.status, 200, "{}", r.body);
        paged.extend(r.json().as_array().unwrap().iter().cloned());
        let Some(next) = r.header("next-cursor") else { break };
        assert!(r.header("link").unwrap().contains("rel=\"next\""));
        path = format!("/api/instances?limit=2&status=Waiting&after={next}");
    }
    assert_eq!(paged, all);
    assert_eq!(get(a, "/api/instances?after=nonsense").status, 400);

    let too_many: Vec<String> = (0..1001).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let r = post(a, &format!("{SVC}/CancelExecution"), &json!(too_many));
    assert_eq!(r.status, 400, "{}", r.body);
    let unknown = uuid::Uuid::new_v4().to_string();
    let r = post(a, &format!("{SVC}/CancelExecution"), &json!([ids[0], unknown, ids[1]]));
    assert_eq!(r.status, 200, "{}", r.body);
    let answer = r.json();
    assert_eq!(answer[0]["status"], "Cancelled");
    assert!(answer[1]["error"]["message"].as_str().unwrap().contains("no instance"), "{answer}");
    assert_eq!(answer[2]["status"], "Cancelled");
    assert_eq!(metric(a, "procdsl_instances{status=\"Cancelled\"}"), 2);
}

#[test]
fn a_retried_run_process_with_an_idempotency_key_starts_one_instance() {
    let _one_at_a_time = one_at_a_time();
    let dir = setup();
    let server = start(dir.path(), &[]);
    let a = server.addr.clone();
    let body = json!({ "schemaName": "UsrApprove" }).to_string();
    let send = |key: &str| request(&a, "POST", &format!("{SVC}/RunProcess"), &[("Idempotency-Key", key)], Some(&body));
    let first = send("order-17");
    assert_eq!(first.status, 200, "{}", first.body);
    let again = send("order-17");
    assert_eq!(again.json()["processId"], first.json()["processId"]);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // Racing retries of one key: one instance, one answer.
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (a, body) = (a.clone(), body.clone());
            std::thread::spawn(move || {
                request(&a, "POST", &format!("{SVC}/RunProcess"), &[("Idempotency-Key", "k-race")], Some(&body))
            })
        })
        .collect();
    let ids: Vec<Value> = threads.into_iter().map(|t| t.join().unwrap().json()["processId"].clone()).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(get(&a, "/api/instances").json().as_array().unwrap().len(), 2);
    assert_eq!(send("bad key").status, 400);
}

#[test]
fn a_burst_of_due_timers_fires_each_once_while_others_are_answered_and_shutdown_empties_the_wal() {
    let _one_at_a_time = one_at_a_time();
    let dir = setup();
    let past = "2026-01-01T00:00:00Z".parse().unwrap();
    seed(dir.path(), "UsrSleep", &[], 2000, store::real_time(Some(past)));
    let mut server = start(dir.path(), &["--tick-ms", "50", "--timeout", "2"]);
    let a = server.addr.clone();
    // Each look at the list is answered within the 2 s time-out while the
    // burst fires: the store thread only loads and commits pages of it.
    wait_for("the burst", Duration::from_secs(300), || {
        let r = get(&a, "/api/instances?limit=1");
        assert_eq!(r.status, 200, "{}", r.body);
        metric(&a, "procdsl_timers_fired_total") == 2000
    });
    assert_eq!(metric(&a, "procdsl_instances{status=\"Completed\"}"), 2000);
    let versions = get(&a, "/api/instances?limit=10000").json();
    assert!(versions.as_array().unwrap().iter().all(|s| s["version"] == 2), "each fired once");
    let _ = Command::new("kill").arg("-TERM").arg(server.child.id().to_string()).status();
    assert!(server.child.wait().unwrap().success());
    let wal = dir.path().join("store.db-wal");
    assert!(std::fs::metadata(&wal).map_or(true, |m| m.len() == 0), "the WAL was not emptied on shutdown");
}
