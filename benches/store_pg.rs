//! Durable store cycles per second, PostgreSQL against SQLite, with one and
//! two connections working at once: "start" saves a new instance that
//! waits at a user task (one commit), "exec" executes that user task by
//! UId and runs the instance to its end (one commit). PostgreSQL is a
//! throwaway server with `fsync` on (tests/support/pg.rs); SQLite is WAL
//! with `synchronous=FULL`. Each connection is a thread of its own.
//!
//! Half of the execs run one per commit, the other half in batches of 16
//! per commit (`write_batch`, as the service's store thread does).
//!
//! `cargo bench --bench store_pg` (`PROCDSL_BENCH_N`: cycles per
//! figure, default 1000; `PROCDSL_BENCH_FSYNC=off`: PostgreSQL without
//! flushing commits, to see what is not the disk); figures in
//! docs/BENCHMARKS.md.

#[path = "../tests/support/pg.rs"]
mod pg;

use procdsl::runtime::engine::Run;
use procdsl::store::postgres::{PgOptions, PgStore};
use procdsl::store::{self, ProcessStore, Store, Write};
use procdsl::Engine;
use std::time::{Duration, Instant};
use uuid::Uuid;

const SOURCE: &str = r#"
process UsrBench {
    in  Amount: Decimal = 10
    out Total: Decimal
    start Begin -> Approve
    user Approve "Approve" {
        in Comment: Text
        done { log "approved: {Comment}" }
    } -> Price
    script Price { Total = Amount * 2 } -> Done
    end Done
}
"#;

/// Rate and latency percentiles of one figure.
struct Figure {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:>6.0}/s  p50 {:>5.2} ms  p99 {:>6.2} ms", self.per_second, ms(self.p50), ms(self.p99))
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs `work` over `items` split between one thread per node; times each call.
fn measure<S: ProcessStore, T: Sync>(nodes: &mut [S], items: &[T], work: impl Fn(&mut S, &T) + Sync) -> Figure {
    let started = Instant::now();
    let chunk = items.len().div_ceil(nodes.len());
    let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = nodes
            .iter_mut()
            .zip(items.chunks(chunk))
            .map(|(node, part)| {
                let work = &work;
                scope.spawn(move || {
                    part.iter()
                        .map(|item| {
                            let t = Instant::now();
                            work(node, item);
                            t.elapsed()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("bench thread")).collect()
    });
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Figure { per_second: items.len() as f64 / elapsed.as_secs_f64(), p50: at(0.5), p99: at(0.99) }
}

/// Starts and then executes `n` instances with these nodes; prints both figures.
fn run<S: ProcessStore + Send>(label: &str, nodes: &mut [S], engine: &Engine, n: usize) {
    let options = store::real_time(None);
    let slots: Vec<usize> = (0..n).collect();
    let started = std::sync::Mutex::new(Vec::with_capacity(n));
    let start = measure(nodes, &slots, |node, _| {
        let mut instance = engine.start("UsrBench", Vec::<(String, String)>::new()).expect("starts");
        let mut run = Run::new(options.clone());
        store::run_on(&mut instance, &mut run);
        node.save_run(&instance, &run).expect("saved");
        started.lock().unwrap().push(instance.waiting[0].uid);
    });
    let uids: Vec<Uuid> = started.into_inner().unwrap();
    let fields = vec![("Comment".to_string(), "ok".to_string())];
    let (singles, batched) = uids.split_at(uids.len() / 2);
    let exec = measure(nodes, singles, |node, uid| {
        node.exec(*uid, &fields, options.clone()).expect("executed");
    });
    let batches: Vec<&[Uuid]> = batched.chunks(BATCH).collect();
    let mut batch = measure(nodes, &batches, |node, uids| {
        let writes = uids.iter().map(|uid| Write::Exec { uid: *uid, fields: fields.clone(), options: options.clone() });
        for written in node.write_batch(writes.collect()) {
            written.expect("executed");
        }
    });
    batch.per_second *= BATCH as f64;
    println!(
        "{label:<36} start {start}   exec+continue {exec}   exec in batches of {BATCH} {batch} (latency per batch)"
    );
}

/// What one round trip to the server costs here (an empty query): each
/// store call makes a few, so this is the floor under every figure.
fn round_trips(url: &str, n: usize) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connects");
    let mut latencies: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            client.simple_query("").expect("answers");
            t.elapsed()
        })
        .collect();
    latencies.sort();
    let at = |q: f64| ms(latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)]);
    println!("postgres round trip (empty query)     p50 {:.3} ms  p99 {:.3} ms", at(0.5), at(0.99));
}

/// Execs per `write_batch` in the batched figure (the service's store
/// thread batches what queued up during the previous commit).
const BATCH: usize = 16;

fn main() {
    let n: usize = std::env::var("PROCDSL_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let engine = Engine::from_source("bench.proc", SOURCE).expect("bench.proc checks");
    for connections in [1, 2] {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bench.db");
        let mut nodes: Vec<Store> = (0..connections).map(|_| Store::open(&path).expect("store")).collect();
        run(&format!("sqlite, {connections} connection(s)"), &mut nodes, &engine, n);
    }
    let Some(bin) = pg::bin_dir() else {
        println!("*** SKIPPED: no PostgreSQL (Debian's `postgresql` package) on this machine ***");
        return;
    };
    // PROCDSL_BENCH_FSYNC=off: what is left when commits need not reach the disk.
    let durable = std::env::var("PROCDSL_BENCH_FSYNC").map_or(true, |v| v != "off");
    let server = pg::PgServer::start(&bin, durable).expect("PostgreSQL starts");
    let fsync = if durable { "" } else { ", fsync off" };
    round_trips(&server.create_database(), n);
    for connections in [1, 2] {
        let url = server.create_database();
        let options = PgOptions { max_connections: connections, min_idle: connections, ..PgOptions::default() };
        let store = PgStore::connect(&url, options).expect("connects");
        let mut nodes: Vec<PgStore> = (0..connections).map(|_| store.clone()).collect();
        run(&format!("postgres, {connections} connection(s){fsync}"), &mut nodes, &engine, n);
    }
}
