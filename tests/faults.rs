//! Faults under load, through the real binary on a throwaway PostgreSQL
//! (tests/support/pg.rs): two `procdsl serve --store postgres://…` nodes,
//! client threads running RunProcess + ExecProcElByUId cycles against
//! both, and then
//! - one node killed with SIGKILL: the other goes on (and a lone SQLite
//!   node killed the same way loses nothing either), and
//! - the database stopped for a few seconds: the nodes answer 503 while it
//!   is gone and 200 again once it is back, without a restart.
//!
//! Afterwards every answer 200 is checked against the database: each
//! acknowledged instance is there, each acknowledged exec is in its
//! instance's state, and no element-instance was executed twice. The
//! loops are bounded by counts; nothing asserts how long anything took.
#![cfg(all(feature = "service", feature = "postgres"))]

#[path = "support/pg.rs"]
mod pg;

use procdsl::runtime::instance::Status;
use procdsl::store::postgres::{PgOptions, PgStore};
use procdsl::store::ProcessStore;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

const SVC: &str = "/0/ServiceModel/ProcessEngineService.svc";

const SOURCE: &str = r#"
process UsrApprove {
    out Note: Text
    start Begin -> Approve
    user Approve "Approve" {
        in Comment: Text
        done { Note = Comment; log "executed {Comment}" }
    } -> Done
    end Done
}
"#;

/// The node's `--timeout`: a request is answered within it (plus the
/// client's margin), database or not.
const REQUEST_TIMEOUT_S: u64 = 10;

/// The fault tests run one at a time: each starts two nodes and a
/// server on a small machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A `procdsl serve` process on a loopback port.
struct Node {
    child: Child,
    addr: String,
}

impl Node {
    fn start(url: &str, dir: &Path, name: &str) -> Node {
        let log = dir.join(format!("{name}.log"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_procdsl"))
            .arg("serve")
            .arg(dir.join("approve.proc"))
            .args(["--addr", "127.0.0.1:0", "--store", url, "--pg-max-connections", "4"])
            .args(["--pg-connect-timeout", "1", "--timeout", &REQUEST_TIMEOUT_S.to_string(), "--tick-ms", "200"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        for _ in 0..600 {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(addr) = text.lines().find_map(|l| l.strip_prefix("procdsl serve: listening on http://")) {
                if url.starts_with("postgres://") {
                    assert!(
                        text.contains("procdsl serve: store postgres://postgres@") && !text.contains("password"),
                        "the store line names the database: {text}"
                    );
                }
                return Node { child, addr: addr.to_string() };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{name} ended ({status}) before listening:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        panic!("{name} did not listen:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server of this test's own (the database-stop test stops it), or None
/// when PostgreSQL is missing: `pg::shared` then says loudly that the test
/// was skipped (and fails with CI set).
fn own_server() -> Option<pg::PgServer> {
    let Some(bin) = pg::bin_dir() else {
        assert!(pg::shared().is_none());
        return None;
    };
    Some(pg::PgServer::start(&bin, false).unwrap_or_else(|e| panic!("starting PostgreSQL: {e}")))
}

/// The test server's unix-socket connection string as a `postgres://` URL.
fn url_of(key_values: &str) -> String {
    let pairs: HashMap<&str, &str> = key_values.split_whitespace().filter_map(|p| p.split_once('=')).collect();
    format!("postgres://{}@{}:{}/{}", pairs["user"], pairs["host"].replace('/', "%2F"), pairs["port"], pairs["dbname"])
}

/// One request (`Connection: close`): the status and the JSON body; an
/// error when the node is gone or did not answer in time.
fn request(addr: &str, method: &str, path: &str, body: &str) -> std::io::Result<(u16, Value)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(REQUEST_TIMEOUT_S + 15)))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let Some((head, body)) = raw.split_once("\r\n\r\n") else {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    };
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((status, serde_json::from_str(body).unwrap_or(Value::String(body.to_string()))))
}

/// What the clients were told.
#[derive(Default)]
struct Acknowledged {
    /// Instances a RunProcess answered 200 for, with their waiting UId.
    started: Vec<(Uuid, Uuid)>,
    /// Execs answered 200: UId → the comment sent (one per UId at most).
    executed: HashMap<Uuid, String>,
    /// UIds an exec answered 200 for more than once (must stay empty).
    twice: Vec<Uuid>,
    /// Answers other than 200 and 503, and requests not answered in time.
    unexpected: Vec<String>,
}

/// A phase of the test (before the fault: 0), so that an answer can be
/// told apart by when its request was made and answered.
const FAULT: u32 = 1;
const AFTER: u32 = 2;

/// Client threads running cycles until told to stop.
struct Clients {
    stop: Arc<AtomicBool>,
    phase: Arc<AtomicU32>,
    /// Cycles completed (exec answered 200), by the node index.
    cycles: Arc<[AtomicU64; 2]>,
    /// 503s whose request was sent and answered while the fault lasted.
    unavailable: Arc<AtomicU64>,
    /// Answers 200 whose request was sent after the fault ended, by node.
    recovered: Arc<[AtomicU64; 2]>,
    acknowledged: Arc<Mutex<Acknowledged>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Clients {
    /// `per_node` threads for each node. A thread whose node stops
    /// answering moves to the other node (`failover`) and retries there the
    /// exec whose answer it lost, as a client behind a load balancer would.
    fn start(addrs: [String; 2], per_node: usize, failover: bool) -> Clients {
        let clients = Clients {
            stop: Arc::default(),
            phase: Arc::default(),
            cycles: Arc::default(),
            unavailable: Arc::default(),
            recovered: Arc::default(),
            acknowledged: Arc::default(),
            threads: Vec::new(),
        };
        let addrs = Arc::new(addrs);
        let mut threads = Vec::new();
        for n in 0..per_node * 2 {
            let (stop, phase, cycles, unavailable, recovered, acknowledged, addrs) = (
                clients.stop.clone(),
                clients.phase.clone(),
                clients.cycles.clone(),
                clients.unavailable.clone(),
                clients.recovered.clone(),
                clients.acknowledged.clone(),
                addrs.clone(),
            );
            threads.push(std::thread::spawn(move || {
                let mut node = n % 2;
                let mut seq = 0u64;
                // An exec sent whose answer was lost: retried on the other node.
                let mut retry: Option<Uuid> = None;
                // Sends one request, classifying its answer.
                let send = |node: usize, method: &str, path: &str, body: &str| -> Option<(u16, Value)> {
                    let sent = phase.load(Ordering::SeqCst);
                    let answer = request(&addrs[node], method, path, body);
                    let answered = phase.load(Ordering::SeqCst);
                    match &answer {
                        Ok((status, d)) if sent == FAULT && answered == FAULT && *status != 503 => acknowledged
                            .lock()
                            .unwrap()
                            .unexpected
                            .push(format!("{method} {path} without the database: {status} {d}")),
                        Ok((503, _)) if sent == FAULT && answered == FAULT => {
                            unavailable.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok((200, _)) if sent == AFTER => {
                            recovered[node].fetch_add(1, Ordering::Relaxed);
                        }
                        Ok((200 | 503, _)) => {}
                        // An already executed exec is expected only for a retry.
                        Ok((409, d)) if d["error"]["code"] == "procdsl::exec::already_executed" => {}
                        Ok((status, d)) => {
                            acknowledged.lock().unwrap().unexpected.push(format!("{method} {path}: {status} {d}"))
                        }
                        Err(e)
                            if e.kind() == std::io::ErrorKind::WouldBlock
                                || e.kind() == std::io::ErrorKind::TimedOut =>
                        {
                            acknowledged.lock().unwrap().unexpected.push(format!("{method} {path}: no answer in time"))
                        }
                        Err(_) => {}
                    }
                    answer.ok()
                };
                while !stop.load(Ordering::SeqCst) {
                    if let Some(uid) = retry {
                        seq += 1;
                        let comment = format!("c{n}-{seq}-retry");
                        match send(node, "GET", &format!("{SVC}/ExecProcElByUId/{uid}?Comment={comment}"), "") {
                            Some((200, _)) => {
                                let mut ack = acknowledged.lock().unwrap();
                                if ack.executed.insert(uid, comment).is_some() {
                                    ack.twice.push(uid);
                                }
                                retry = None;
                            }
                            Some((409, _)) => retry = None,
                            Some(_) => {}
                            None if failover => node = 1 - node,
                            None => {}
                        }
                        continue;
                    }
                    let Some((status, d)) =
                        send(node, "POST", &format!("{SVC}/RunProcess"), r#"{"schemaName":"UsrApprove"}"#)
                    else {
                        if failover {
                            node = 1 - node;
                        }
                        continue;
                    };
                    if status != 200 {
                        continue;
                    }
                    let id: Uuid = d["processId"].as_str().unwrap().parse().unwrap();
                    let uid: Uuid = d["waiting"][0]["uid"].as_str().unwrap().parse().unwrap();
                    acknowledged.lock().unwrap().started.push((id, uid));
                    seq += 1;
                    let comment = format!("c{n}-{seq}");
                    match send(node, "GET", &format!("{SVC}/ExecProcElByUId/{uid}?Comment={comment}"), "") {
                        Some((200, _)) => {
                            let mut ack = acknowledged.lock().unwrap();
                            if ack.executed.insert(uid, comment).is_some() {
                                ack.twice.push(uid);
                            }
                            cycles[node].fetch_add(1, Ordering::Relaxed);
                        }
                        Some(_) => {}
                        None => {
                            retry = Some(uid);
                            if failover {
                                node = 1 - node;
                            }
                        }
                    }
                }
            }));
        }
        Clients { threads, ..clients }
    }

    fn cycles(&self, node: usize) -> u64 {
        self.cycles[node].load(Ordering::Relaxed)
    }

    /// Waits (bounded) until `done` holds; false when it never did.
    fn wait_for(&self, done: impl Fn(&Clients) -> bool) -> bool {
        for _ in 0..1200 {
            if done(self) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    fn finish(mut self) -> Acknowledged {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            t.join().unwrap();
        }
        std::mem::take(&mut *self.acknowledged.lock().unwrap())
    }
}

/// Everything acknowledged is in the database, and nothing ran twice.
fn check_database(url: &str, ack: &Acknowledged) {
    let store = PgStore::connect(url, PgOptions { max_connections: 1, ..PgOptions::default() }).unwrap();
    check_store(Box::new(store), ack);
}

/// [`check_database`] on any store.
fn check_store(mut store: Box<dyn ProcessStore>, ack: &Acknowledged) {
    assert!(ack.twice.is_empty(), "execs answered 200 twice for one UId: {:?}", ack.twice);
    assert!(ack.unexpected.is_empty(), "unexpected answers: {:#?}", ack.unexpected);
    let mut seen = HashSet::new();
    for (id, uid) in &ack.started {
        let instance = store.load(*id).unwrap_or_else(|e| panic!("acknowledged instance {id} is lost: {e}"));
        seen.insert(*id);
        let executions = instance.log.to_lines().iter().filter(|l| l.contains("executed ")).count();
        assert!(executions <= 1, "instance {id} executed its task {executions} times: {:?}", instance.log.to_lines());
        if let Some(comment) = ack.executed.get(uid) {
            assert_eq!(instance.status, Status::Completed, "acknowledged exec of {uid} is lost");
            assert_eq!(executions, 1);
            assert_eq!(instance.param("Note").map(|v| v.to_string()).as_deref(), Some(comment.as_str()), "{id}");
        }
    }
    assert!(!ack.executed.is_empty() && seen.len() == ack.started.len());
}

#[test]
fn a_node_killed_under_load_loses_nothing_acknowledged_and_the_other_goes_on() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some((_server, url)) = pg::fresh_database() else { return };
    let url = url_of(&url);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("approve.proc"), SOURCE).unwrap();
    let mut nodes = vec![Node::start(&url, dir.path(), "a"), Node::start(&url, dir.path(), "b")];
    let clients = Clients::start([nodes[0].addr.clone(), nodes[1].addr.clone()], 3, true);
    assert!(clients.wait_for(|c| c.cycles(0) >= 20 && c.cycles(1) >= 20), "both nodes run cycles");
    // SIGKILL: no shutdown, no close; requests in flight lose their answer.
    let mut killed = nodes.remove(0);
    killed.child.kill().unwrap();
    killed.child.wait().unwrap();
    let on_b = clients.cycles(1);
    assert!(clients.wait_for(|c| c.cycles(1) >= on_b + 40), "the other node goes on after the kill");
    let ack = clients.finish();
    check_database(&url, &ack);
}

#[test]
fn a_sqlite_node_killed_under_load_loses_nothing_acknowledged_and_starts_again() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("approve.proc"), SOURCE).unwrap();
    let db = dir.path().join("store.db");
    let store = db.to_str().unwrap();
    let mut node = Node::start(store, dir.path(), "a");
    let clients = Clients::start([node.addr.clone(), node.addr.clone()], 2, false);
    assert!(clients.wait_for(|c| c.cycles(0) + c.cycles(1) >= 40), "the node runs cycles");
    // SIGKILL in the middle of the load: no shutdown, no checkpoint.
    node.child.kill().unwrap();
    node.child.wait().unwrap();
    let ack = clients.finish();
    check_store(Box::new(procdsl::store::Store::open_existing(&db).unwrap()), &ack);
    // A new node on the same file serves on.
    let again = Node::start(store, dir.path(), "b");
    let (status, d) = request(&again.addr, "POST", &format!("{SVC}/RunProcess"), r#"{"schemaName":"UsrApprove"}"#)
        .expect("the restarted node answers");
    assert_eq!(status, 200, "{d}");
}

#[test]
fn with_the_database_stopped_nodes_answer_503_and_recover_by_themselves() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(server) = own_server() else { return };
    let url = url_of(&server.create_database());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("approve.proc"), SOURCE).unwrap();
    let nodes = [Node::start(&url, dir.path(), "a"), Node::start(&url, dir.path(), "b")];
    let clients = Clients::start([nodes[0].addr.clone(), nodes[1].addr.clone()], 2, false);
    assert!(clients.wait_for(|c| c.cycles(0) >= 10 && c.cycles(1) >= 10), "both nodes run cycles");
    server.stop().unwrap();
    clients.phase.store(FAULT, Ordering::SeqCst);
    assert!(clients.wait_for(|c| c.unavailable.load(Ordering::Relaxed) >= 16), "the nodes answer 503 while it is gone");
    clients.phase.store(AFTER, Ordering::SeqCst);
    server.resume().unwrap();
    assert!(
        clients.wait_for(|c| c.recovered.iter().all(|n| n.load(Ordering::Relaxed) >= 10)),
        "both nodes answer 200 again once the database is back"
    );
    let (before, after) = (clients.cycles(0) + clients.cycles(1), clients.recovered[0].load(Ordering::Relaxed));
    let ack = clients.finish();
    assert!(before > 0 && after > 0);
    check_database(&url, &ack);
    for mut node in nodes {
        assert!(node.child.try_wait().unwrap().is_none(), "a node ended while the database was gone");
    }
}

#[test]
fn a_database_out_of_reach_at_start_up_is_refused_without_showing_its_password() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("approve.proc"), SOURCE).unwrap();
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let out = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .arg("serve")
        .arg(dir.path().join("approve.proc"))
        .args(["--addr", "127.0.0.1:0", "--pg-connect-timeout", "1"])
        .env("PROCDSL_STORE", "postgres://app:s3cret@127.0.0.1:1/procdsl")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the store `postgres://app@127.0.0.1:1/procdsl` is unavailable"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
    // `--help` shows where the store comes from, not its value.
    let help = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(["serve", "--help"])
        .env("PROCDSL_STORE", "postgres://app:s3cret@127.0.0.1:1/procdsl")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("PROCDSL_STORE") && help.contains("--pg-max-connections"), "{help}");
    assert!(!help.contains("s3cret"), "{help}");
}
