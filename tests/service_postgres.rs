//! The service as it is today on the PostgreSQL store: two service nodes
//! in this process, each with its own `PgStore` on one throwaway database
//! (tests/support/pg.rs). The store thread and tokio's blocking pool call
//! the synchronous client; this checks that it works there, that an
//! instance started on one node continues on the other, and that racing
//! execs of one UId spread over both nodes execute it once.
#![cfg(all(feature = "service", feature = "postgres"))]

#[path = "support/pg.rs"]
mod pg;
mod service_support;

use procdsl::check;
use procdsl::service::{Config, Limits};
use procdsl::store::postgres::{PgOptions, PgStore};
use serde_json::Value;
use service_support::InProcessNode;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::Duration;

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

process UsrListen {
    start Begin -> Hear
    signal Hear "Go" -> Heard
    script Heard { log "heard" } -> Done
    end Done
}
"#;

/// A service node on a loopback port with its own `PgStore`, serving until dropped.
fn node(url: &str) -> InProcessNode {
    let program = check::load_sources(&[("approve.proc".to_string(), SOURCE.to_string())]).unwrap().program;
    let store = PgStore::connect(url, PgOptions { max_connections: 4, ..PgOptions::default() }).unwrap();
    let config = Config {
        program: Some(Arc::new(program)),
        store: Box::new(store),
        users: None,
        limits: Limits::default(),
        maintenance: None,
        access_log: None,
    };
    InProcessNode::start(config)
}

/// One HTTP/1.1 request (`Connection: close`): the status and the JSON body.
fn request(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let (status, _, body) = request_with(addr, method, path, "", body);
    (status, body)
}

/// [`request`] with extra header lines (each ending in `\r\n`); also the head.
fn request_with(addr: &str, method: &str, path: &str, headers: &str, body: Option<&str>) -> (u16, String, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let body = body.unwrap_or("");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_string() };
    (status, head.to_ascii_lowercase(), serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

#[test]
fn two_service_nodes_share_one_database_and_execute_a_uid_once() {
    let Some((_server, url)) = pg::fresh_database() else { return };
    let nodes = [node(&url), node(&url)];
    const ROUNDS: usize = 5;
    const THREADS: usize = 16;
    for round in 0..ROUNDS {
        let (status, d) = request(
            &nodes[round % 2].addr,
            "POST",
            &format!("{SVC}/RunProcess"),
            Some(r#"{"schemaName":"UsrApprove"}"#),
        );
        assert_eq!(status, 200, "{d}");
        let id = d["processId"].as_str().unwrap().to_string();
        let uid = d["waiting"][0]["uid"].as_str().unwrap().to_string();
        let (status, shown) = request(&nodes[(round + 1) % 2].addr, "GET", &format!("/api/instances/{id}"), None);
        assert_eq!((status, &shown["status"]), (200, &Value::from("Waiting")), "the other node sees it");
        let barrier = Barrier::new(THREADS);
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (addr, uid, barrier) = (&nodes[t % 2].addr, &uid, &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        request(addr, "GET", &format!("{SVC}/ExecProcElByUId/{uid}?Comment=t{t}"), None).0
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let executed = statuses.iter().filter(|s| **s == 200).count();
        assert_eq!(executed, 1, "round {round}: {statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
        let (_, shown) = request(&nodes[0].addr, "GET", &format!("/api/instances/{id}"), None);
        assert_eq!(shown["status"], "Completed");
        let log = shown["log"].as_array().unwrap();
        assert_eq!(log.iter().filter(|l| l.as_str().unwrap_or("").contains("executed t")).count(), 1, "{log:?}");
    }
}

/// An `Idempotency-Key` is kept in the database: a retry sent to the other
/// node answers what the first answered, and retries racing over both
/// nodes start one instance.
#[test]
fn an_idempotency_key_answers_once_across_two_nodes() {
    let Some((_server, url)) = pg::fresh_database() else { return };
    let nodes = [node(&url), node(&url)];
    let body = r#"{"schemaName":"UsrApprove"}"#;
    let run = |node: usize, key: &str| {
        let header = format!("Idempotency-Key: {key}\r\n");
        request_with(&nodes[node].addr, "POST", &format!("{SVC}/RunProcess"), &header, Some(body))
    };
    let (status, _, first) = run(0, "order-17");
    assert_eq!(status, 200, "{first}");
    let (status, head, again) = run(1, "order-17");
    assert_eq!((status, &again["processId"]), (200, &first["processId"]), "{again}");
    assert!(head.contains("idempotent-replayed: true"), "{head}");
    let barrier = Barrier::new(8);
    let ids: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let (run, barrier) = (&run, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let (status, _, d) = run(t % 2, "k-race");
                    assert_eq!(status, 200, "{d}");
                    d["processId"].clone()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let (_, list) = request(&nodes[0].addr, "GET", "/api/instances", None);
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
}

/// A signal thrown on both nodes at once goes through the shared outbox:
/// each listener hears it once.
#[test]
fn a_signal_thrown_on_two_nodes_wakes_each_listener_once() {
    let Some((_server, url)) = pg::fresh_database() else { return };
    let nodes = [node(&url), node(&url)];
    let ids: Vec<String> = (0..6)
        .map(|i| {
            let (status, d) = request(
                &nodes[i % 2].addr,
                "POST",
                &format!("{SVC}/RunProcess"),
                Some(r#"{"schemaName":"UsrListen"}"#),
            );
            assert_eq!(status, 200, "{d}");
            d["processId"].as_str().unwrap().to_string()
        })
        .collect();
    let barrier = Barrier::new(2);
    let woken: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = nodes
            .iter()
            .map(|node| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let (status, d) = request(&node.addr, "POST", "/api/signals/Go", None);
                    assert_eq!((status, &d["complete"]), (200, &Value::Bool(true)), "{d}");
                    d["wokenCount"].as_u64().unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(woken, 6, "each listener is counted by the one node that woke it");
    for id in &ids {
        let (_, shown) = request(&nodes[1].addr, "GET", &format!("/api/instances/{id}"), None);
        assert_eq!(shown["status"], "Completed", "{shown}");
        let log = shown["log"].as_array().unwrap();
        assert_eq!(log.iter().filter(|l| l.as_str() == Some("heard")).count(), 1, "{log:?}");
    }
}

/// The synchronous client runs its own small runtime per connection; that
/// is allowed on tokio's blocking pool (not on an async worker thread).
#[test]
fn the_synchronous_client_works_on_tokios_blocking_pool() {
    let Some((_server, url)) = pg::fresh_database() else { return };
    let store = PgStore::connect(&url, PgOptions { max_connections: 4, ..PgOptions::default() }).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let versions = runtime.block_on(async {
        let calls: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::task::spawn_blocking(move || store.schema_version())
            })
            .collect();
        let mut versions = Vec::new();
        for call in calls {
            versions.push(call.await.unwrap().unwrap());
        }
        versions
    });
    assert_eq!(versions, vec![procdsl::store::postgres::schema::SCHEMA_VERSION; 8]);
}
