//! Several service nodes on one store, in this process: sign-in sessions
//! kept in the store (any node knows them, a Logout ends them everywhere,
//! a restart keeps them), due timers and background runs claimed under
//! leases (once across nodes; a dead node's work taken over after its
//! lease), and 503 with `Retry-After` while the database is gone.
//! The PostgreSQL cases run on throwaway servers (tests/support/pg.rs).
#![cfg(feature = "service")]

#[cfg(feature = "postgres")]
#[path = "support/pg.rs"]
mod pg;
mod service_support;

use procdsl::check;
use procdsl::service::{auth, Config, Limits};
use procdsl::store::{ProcessStore, Store};
use serde_json::{json, Value};
use service_support::{request, wait_for, InProcessNode, Response};
use std::sync::Arc;
use std::time::Duration;

const SVC: &str = "/0/ServiceModel/ProcessEngineService.svc";
const LOGIN: &str = "/ServiceModel/AuthService.svc/Login";
const LOGOUT: &str = "/ServiceModel/AuthService.svc/Logout";

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

process UsrTimer {
    start Begin -> Wait
    timer Wait after "PT1S" -> Fired
    script Fired { log "fired" } -> Done
    end Done
}

process UsrSlow {
    start Begin -> Work
    script Work {
        let n = 0
        for i in 0..3000000 { n = n + 1 }
        log "counted {n}"
    } -> Done
    end Done
}

process UsrWork {
    start Begin -> Work
    script Work { log "worked" } -> Done
    end Done
}
"#;

/// Opens a node's own connection to the shared store.
type Opener = Arc<dyn Fn() -> Box<dyn ProcessStore> + Send + Sync>;

fn users() -> auth::Users {
    let hash = auth::hash_password("s3cret").unwrap();
    auth::Users::parse(&json!({"users": [{"name": "Ada", "password": hash, "roles": ["admin"]}]}).to_string()).unwrap()
}

/// Quick ticks and a short lease, so that the tests wait little.
fn limits(lease: Duration) -> Limits {
    Limits { tick_interval: Duration::from_millis(100), lease, ..Limits::default() }
}

/// A service node on a loopback port with its own connection to the store, serving until dropped.
fn node(open: &Opener, users: Option<auth::Users>, limits: Limits) -> InProcessNode {
    let program = check::load_sources(&[("nodes.proc".to_string(), SOURCE.to_string())]).unwrap().program;
    let config =
        Config { program: Some(Arc::new(program)), store: open(), users, limits, maintenance: None, access_log: None };
    InProcessNode::start(config)
}

fn post(addr: &str, path: &str, headers: &[(&str, &str)], body: &Value) -> Response {
    let mut all = vec![("Content-Type", "application/json"), ("Accept", "application/json")];
    all.extend_from_slice(headers);
    request(addr, "POST", path, &all, Some(body.to_string().as_bytes()))
}

fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut all = vec![("Accept", "application/json")];
    all.extend_from_slice(headers);
    request(addr, "GET", path, &all, None)
}

/// Signs in as Ada: the `Cookie` header, the `BPMCSRF` value, the `.ASPXAUTH` value.
fn sign_in(addr: &str) -> (String, String, String) {
    let r = post(addr, LOGIN, &[], &json!({"UserName": "Ada", "UserPassword": "s3cret"}));
    assert_eq!((r.status, &r.json()["Code"]), (200, &json!(0)), "{}", r.body);
    let cookies = r.cookies();
    let value = |name: &str| cookies.iter().find(|(k, _)| k == name).unwrap().1.clone();
    let header = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    (header, value("BPMCSRF"), value(".ASPXAUTH"))
}

fn run_process(addr: &str, code: &str, headers: &[(&str, &str)]) -> Response {
    post(addr, &format!("{SVC}/RunProcess"), headers, &json!({"schemaName": code}))
}

/// Sign in on one node, work on the other (the Creatio cookie flow with
/// `BPMCSRF`), restart a node, sign out on one: refused on the other.
fn a_session_travels_between_nodes_survives_a_restart_and_ends_everywhere(open: &Opener) {
    let a = node(open, Some(users()), Limits::default());
    let b = node(open, Some(users()), Limits::default());
    let (cookie, csrf, _) = sign_in(&a.addr);
    assert_eq!(get(&b.addr, "/api/instances", &[("Cookie", &cookie)]).status, 200, "b knows a's session");
    let refused = run_process(&b.addr, "UsrApprove", &[("Cookie", &cookie)]);
    assert_eq!(refused.status, 403, "without BPMCSRF: {}", refused.body);
    let wrong = run_process(&b.addr, "UsrApprove", &[("Cookie", &cookie), ("BPMCSRF", &cookie)]);
    assert_eq!(wrong.status, 403, "a wrong BPMCSRF: {}", wrong.body);
    let started = run_process(&b.addr, "UsrApprove", &[("Cookie", &cookie), ("BPMCSRF", &csrf)]);
    assert_eq!(started.status, 200, "{}", started.body);

    drop(a);
    let a = node(open, Some(users()), Limits::default());
    assert_eq!(get(&a.addr, "/api/instances", &[("Cookie", &cookie)]).status, 200, "a restart signs no one out");

    let out = post(&b.addr, LOGOUT, &[("Cookie", &cookie), ("BPMCSRF", &csrf)], &json!({}));
    assert_eq!(out.status, 200, "{}", out.body);
    let after = get(&a.addr, "/api/instances", &[("Cookie", &cookie)]);
    assert_eq!(after.status, 401, "signed out on b, refused on a at once: {}", after.body);
}

#[test]
fn sqlite_a_session_travels_between_nodes_survives_a_restart_and_ends_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nodes.db");
    let open: Opener = Arc::new(move || Box::new(Store::open(&path).unwrap()));
    a_session_travels_between_nodes_survives_a_restart_and_ends_everywhere(&open);
}

/// The store keeps hashes only: the cookie values are nowhere in it.
#[test]
fn sqlite_sessions_are_stored_as_hashes_of_their_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nodes.db");
    let at = path.clone();
    let open: Opener = Arc::new(move || Box::new(Store::open(&at).unwrap()));
    let node = node(&open, Some(users()), Limits::default());
    let (_, csrf, key) = sign_in(&node.addr);
    drop(node);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (stored_key, stored_csrf): (String, String) =
        conn.query_row("SELECT key, csrf FROM sessions", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!((stored_key, stored_csrf), (auth::sha256_hex(&key), auth::sha256_hex(&csrf)));
    let dump: Vec<String> = conn
        .prepare("SELECT key || user_name || csrf FROM sessions")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(dump.iter().all(|row| !row.contains(&key) && !row.contains(&csrf)), "{dump:?}");
}

#[test]
fn a_lease_that_is_not_a_positive_number_of_seconds_up_to_a_day_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nodes.proc"), SOURCE).unwrap();
    for (value, says) in [("0", "a positive number"), ("nan", "a positive number"), ("1e20", "at most 86400")] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_procdsl"))
            .args(["serve", "--addr", "127.0.0.1:0", "--lease-seconds", value, "--store"])
            .arg(dir.path().join("s.db"))
            .arg(dir.path().join("nodes.proc"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{value}: {stderr}");
        assert!(stderr.contains("--lease-seconds") && stderr.contains(says), "{value}: {stderr}");
    }
}

/// An orphan whose run fails for good (its saved state is damaged) is
/// tried once: the look for orphans every third of the lease passes over
/// it from then on, instead of failing (and saying so) again and again.
#[test]
fn sqlite_an_orphan_that_cannot_run_is_tried_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nodes.db");
    let engine = procdsl::Engine::from_source("nodes.proc", SOURCE).unwrap();
    let instance = engine.start("UsrWork", Vec::<(String, String)>::new()).unwrap();
    let mut store = Store::open(&path).unwrap();
    store.save(&instance).unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE instances SET state = '{\"v\": 2}'", []).unwrap();
    drop(conn);
    let at = path.clone();
    let open: Opener = Arc::new(move || Box::new(Store::open(&at).unwrap()));
    let node = node(&open, None, limits(Duration::from_millis(300)));
    let taken = || {
        let text = request(&node.addr, "GET", "/metrics", &[], None).body;
        let line = text.lines().find(|l| l.starts_with("procdsl_background_taken_over_total ")).unwrap().to_string();
        line.rsplit(' ').next().unwrap().parse::<u64>().unwrap()
    };
    wait_for("the orphan to be tried", Duration::from_secs(30), || taken() == 1);
    // Ten looks for orphans (one every 100 ms) later, still tried once.
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(taken(), 1);
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use procdsl::store::postgres::{PgOptions, PgStore};
    use procdsl::Engine;

    /// Each store it opens is a node of its own name, as each `serve` process is.
    fn opener(url: &str, options: PgOptions) -> Opener {
        let url = url.to_string();
        Arc::new(move || {
            let node = format!("node-{}", uuid::Uuid::new_v4().simple());
            Box::new(PgStore::connect(&url, PgOptions { node, ..options.clone() }).unwrap())
        })
    }

    fn small() -> PgOptions {
        PgOptions { max_connections: 4, ..PgOptions::default() }
    }

    /// A counter of a node's `/metrics`.
    fn metric(addr: &str, name: &str) -> u64 {
        let text = request(addr, "GET", "/metrics", &[], None).body;
        let line = text.lines().find(|l| l.split(' ').next() == Some(name)).unwrap();
        line.rsplit(' ').next().unwrap().parse().unwrap()
    }

    /// Elements executed by both nodes.
    fn elements(nodes: &[InProcessNode]) -> u64 {
        nodes.iter().map(|n| metric(&n.addr, "procdsl_elements_executed_total")).sum()
    }

    fn instance(addr: &str, id: &str) -> Value {
        let r = get(addr, &format!("/api/instances/{id}"), &[]);
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    }

    fn count(log: &Value, line: &str) -> usize {
        log.as_array().unwrap().iter().filter(|l| l.as_str() == Some(line)).count()
    }

    #[test]
    fn a_session_travels_between_nodes_survives_a_restart_and_ends_everywhere() {
        let Some((_server, url)) = pg::fresh_database() else { return };
        super::a_session_travels_between_nodes_survives_a_restart_and_ends_everywhere(&opener(&url, small()));
    }

    /// Timers fall due on many instances at once; both nodes tick every
    /// 100 ms. Each timer fires once: each instance has one "fired", the
    /// nodes' counts of timers fired add up to the number of instances, and
    /// no node ran a firing that the other saved (the elements executed by
    /// both are those of one start and one firing per instance: without
    /// claims, both nodes load and run the same due instances, and one save
    /// is refused).
    #[test]
    fn a_timer_due_on_many_instances_fires_once_for_each_across_two_nodes() {
        let Some((_server, url)) = pg::fresh_database() else { return };
        let open = opener(&url, small());
        let lease = Duration::from_secs(10);
        let nodes = [node(&open, None, limits(lease)), node(&open, None, limits(lease))];
        let completed = |n: usize| {
            let r = get(&nodes[0].addr, "/api/instances?status=Completed&limit=1000", &[]);
            r.status == 200 && r.json().as_array().map_or(0, Vec::len) == n
        };
        // One instance alone, to learn how many elements its start and its
        // firing execute.
        assert_eq!(run_process(&nodes[0].addr, "UsrTimer", &[]).status, 200);
        wait_for("one timer to fire", Duration::from_secs(30), || completed(1));
        wait_for("its elements to be counted", Duration::from_secs(30), || elements(&nodes) >= 3);
        let per_instance = elements(&nodes);

        const N: usize = 150;
        let ids: Vec<String> = (0..N)
            .map(|i| {
                let r = run_process(&nodes[i % 2].addr, "UsrTimer", &[]);
                assert_eq!(r.status, 200, "{}", r.body);
                r.json()["processId"].as_str().unwrap().to_string()
            })
            .collect();
        wait_for("every timer to fire", Duration::from_secs(60), || completed(N + 1));
        for id in &ids {
            let shown = instance(&nodes[1].addr, id);
            assert_eq!((shown["status"].as_str(), count(&shown["log"], "fired")), (Some("Completed"), 1), "{shown}");
        }
        let fired = nodes.each_ref().map(|n| metric(&n.addr, "procdsl_timers_fired_total"));
        assert_eq!(fired[0] + fired[1], N as u64 + 1, "each timer fired by one node: {fired:?}");
        let expected = (N as u64 + 1) * per_instance;
        wait_for("every run to be counted", Duration::from_secs(30), || elements(&nodes) >= expected);
        assert_eq!(elements(&nodes), expected, "no background run and no firing was run twice");
        eprintln!("timers fired per node: {fired:?}");
    }

    /// A node "dies" holding the lease of a background run (a store of a
    /// node that never renews it, as a killed node would not): another node
    /// leaves the run alone while the lease lives, then takes it over and
    /// finishes it once.
    #[test]
    fn a_background_run_of_a_dead_node_is_finished_by_another_after_its_lease() {
        let Some((_server, url)) = pg::fresh_database() else { return };
        let dead = PgStore::connect(&url, PgOptions { node: "dead".into(), ..small() }).unwrap();
        let engine = Engine::from_source("nodes.proc", SOURCE).unwrap();
        let instance = engine.start("UsrWork", Vec::<(String, String)>::new()).unwrap();
        let id = instance.id;
        let now = jiff::Timestamp::now();
        assert!(dead.acquire_lease_for(&format!("run:{id}"), now, Duration::from_secs(4)).unwrap());
        let run = procdsl::runtime::engine::Run::new(procdsl::store::real_time(Some(now)));
        ProcessStore::save_run(&mut dead.clone(), &instance, &run).unwrap();

        let open = opener(&url, small());
        let node = node(&open, None, limits(Duration::from_secs(1)));
        let shown = instance_of(&node.addr, id);
        assert_eq!(shown["status"], "Running", "the dead node's lease still lives: {shown}");
        wait_for("the run to be taken over", Duration::from_secs(30), || {
            instance_of(&node.addr, id)["status"] == "Completed"
        });
        let shown = instance_of(&node.addr, id);
        assert_eq!(count(&shown["log"], "worked"), 1, "{shown}");
        assert_eq!(metric(&node.addr, "procdsl_background_taken_over_total"), 1);
        assert_eq!(dead.lease_holder(&format!("run:{id}")).unwrap(), None, "given back after the run");
    }

    /// Background runs that wait for the one worker of their node longer
    /// than the lease stay that node's: the heartbeat renews their leases,
    /// so the other node does not take them for orphans (it completes none
    /// of them), and each runs once (the elements executed by both nodes are
    /// those of one run each).
    #[test]
    fn background_runs_waiting_longer_than_the_lease_stay_with_their_node() {
        let Some((_server, url)) = pg::fresh_database() else { return };
        let open = opener(&url, small());
        let one_worker = Limits { workers: 1, ..limits(Duration::from_secs(1)) };
        let nodes = [node(&open, None, one_worker.clone()), node(&open, None, limits(Duration::from_secs(1)))];
        let start = |node: &InProcessNode| {
            let r = get(&node.addr, &format!("{SVC}/UsrSlow/Execute"), &[]);
            assert_eq!(r.status, 200, "{}", r.body);
            r.json().as_str().unwrap().to_string()
        };
        let first = start(&nodes[0]);
        wait_for("one run", Duration::from_secs(60), || instance(&nodes[0].addr, &first)["status"] == "Completed");
        wait_for("its elements to be counted", Duration::from_secs(30), || elements(&nodes) > 0);
        let per_run = elements(&nodes);
        let started = std::time::Instant::now();
        let ids: Vec<String> = (0..8).map(|_| start(&nodes[0])).collect();
        for id in &ids {
            wait_for("the runs", Duration::from_secs(120), || instance(&nodes[1].addr, id)["status"] == "Completed");
        }
        let took = started.elapsed();
        wait_for("every run to be counted", Duration::from_secs(30), || elements(&nodes) >= 9 * per_run);
        assert_eq!(elements(&nodes), 9 * per_run, "no run was run twice");
        let taken_by_b = metric(&nodes[1].addr, "procdsl_background_taken_over_total");
        let completed_on_b = metric(&nodes[1].addr, "procdsl_instances_completed_total");
        assert_eq!((taken_by_b, completed_on_b), (0, 0), "node b took none of node a's runs over");
        for id in &ids {
            assert_eq!(count(&instance(&nodes[1].addr, id)["log"], "counted 3000000"), 1);
        }
        eprintln!("8 runs on one worker took {took:?} against a lease of 1 s");
    }

    /// Not a test but a measurement (no assertion on time): what the
    /// session look-up in PostgreSQL costs a signed-in request. Run with
    /// `cargo test --test service_nodes measure -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn measure_the_session_look_up_on_postgres() {
        use std::io::{BufRead, BufReader, Read, Write};
        let Some((_server, url)) = pg::fresh_database() else { return };
        const TOKEN: &str = "0123456789abcdef0123456789abcdef";
        let hash = auth::hash_password("s3cret").unwrap();
        let file = json!({"users": [{"name": "Ada", "password": hash, "roles": ["admin"]}],
                          "tokens": [{"name": "ci", "sha256": auth::sha256_hex(TOKEN), "roles": ["admin"]}]});
        let users = auth::Users::parse(&file.to_string()).unwrap();
        let node = node(&opener(&url, small()), Some(users), Limits::default());
        let (cookie, _, _) = sign_in(&node.addr);
        let stream = std::net::TcpStream::connect(&node.addr).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let mut one = |header: &str| {
            let head = format!("GET /api/instances?limit=1 HTTP/1.1\r\nHost: x\r\n{header}\r\n\r\n");
            writer.write_all(head.as_bytes()).unwrap();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
        };
        // Interleaved, so that the machine's load weighs on both alike.
        let headers = [format!("Authorization: Bearer {TOKEN}"), format!("Cookie: {cookie}")];
        let mut times = [Vec::new(), Vec::new()];
        for i in 0..6000 {
            let t = std::time::Instant::now();
            one(&headers[i % 2]);
            times[i % 2].push(t.elapsed());
        }
        for (what, mut times) in ["token", "session"].into_iter().zip(times) {
            times.sort();
            let n = times.len();
            let mean = times.iter().sum::<Duration>() / u32::try_from(n).unwrap();
            eprintln!("{what}: mean {mean:?}, p50 {:?}, p99 {:?}", times[n / 2], times[n * 99 / 100]);
        }
    }

    fn instance_of(addr: &str, id: uuid::Uuid) -> Value {
        instance(addr, &id.to_string())
    }

    /// Two nodes on a server of their own; the server stops (`pg_ctl stop
    /// -m fast`, which ends every connection with an error): requests are
    /// answered 503 with `Retry-After` (a signed-in one too, never 401 or
    /// 500); the server comes back: the same nodes answer again, and every
    /// instance acknowledged before the stop is there.
    #[test]
    fn while_the_database_is_stopped_nodes_answer_503_and_recover_by_themselves() {
        let Some(bin) = pg::bin_dir() else {
            let _ = pg::shared(); // skips loudly, or fails in CI
            return;
        };
        let server = pg::PgServer::start(&bin, false).unwrap();
        let url = server.create_database();
        let options = PgOptions { connect_timeout: Duration::from_secs(1), ..small() };
        let open = opener(&url, options);
        let nodes = [
            node(&open, Some(users()), limits(Duration::from_secs(5))),
            node(&open, Some(users()), limits(Duration::from_secs(5))),
        ];
        let (cookie, csrf, _) = sign_in(&nodes[0].addr);
        let signed = [("Cookie", cookie.as_str()), ("BPMCSRF", csrf.as_str())];
        let acknowledged: Vec<String> = (0..6)
            .map(|i| {
                let r = run_process(&nodes[i % 2].addr, "UsrApprove", &signed);
                assert_eq!(r.status, 200, "{}", r.body);
                r.json()["processId"].as_str().unwrap().to_string()
            })
            .collect();

        server.stop_fast().unwrap();
        for node in &nodes {
            for r in [
                run_process(&node.addr, "UsrApprove", &signed),
                get(&node.addr, &format!("/api/instances/{}", acknowledged[0]), &signed),
            ] {
                assert_eq!(r.status, 503, "{}", r.body);
                assert_eq!(r.json()["error"]["code"], "procdsl::store::unavailable", "{}", r.body);
                let wait: u64 = r.header("retry-after").expect("a Retry-After header").parse().unwrap();
                assert!(wait >= 1, "{wait}");
            }
        }

        server.resume().unwrap();
        for node in &nodes {
            wait_for("the node to reach the database again", Duration::from_secs(30), || {
                get(&node.addr, "/api/instances", &signed).status == 200
            });
            let r = run_process(&node.addr, "UsrApprove", &signed);
            assert_eq!(r.status, 200, "the session and the node work again: {}", r.body);
        }
        for id in &acknowledged {
            let r = get(&nodes[1].addr, &format!("/api/instances/{id}"), &signed);
            assert_eq!((r.status, &r.json()["status"]), (200, &json!("Waiting")), "{id} is kept: {}", r.body);
        }
    }
}
