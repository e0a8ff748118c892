//! What stored work costs the service when nothing happens, and what a
//! burst of due timers holds the store for (docs/SERVICE.md and
//! docs/BENCHMARKS.md record the figures). Run by scripts/tick_cost.sh.
//!
//! For 1k / 10k / 100k instances waiting at a user task it times the store
//! calls an idle service makes: the scheduler's tick (nothing due), the
//! counts of `/metrics`, a list of one, and the start-up look for
//! interrupted runs, each with this schema (version 2) and with the
//! version-1 indexes and queries on a copy of the same file. Then it fires
//! a burst of due timers as the service does now (pages: load, run off the
//! store, commit the page) and as it did before (one call for all).
//!
//! Usage: tick_cost [--sizes 1000,10000,100000] [--burst 10000]
//!        tick_cost --seed PATH N   (only store N waiting instances in PATH,
//!        for a service to be measured on; PROCS holds their processes)

use procdsl::runtime::engine::Run;
use procdsl::runtime::instance::Status;
use procdsl::store::{self, ListFilter, ProcessStore, Store, Write, PAGE_SIZE};
use procdsl::Engine;
use std::path::Path;
use std::time::{Duration, Instant};

const PROCS: &str = r#"
process UsrWait {
    in  Amount: Integer = 0
    start Begin -> Approve
    user Approve "Approve" { in Ok: Boolean } -> Done
    end Done
}

process UsrNap {
    var Fired: Boolean = false
    start Begin -> Nap
    timer Nap after "PT1S" -> Mark
    script Mark { Fired = true } -> Done
    end Done
}
"#;

/// The version-1 indexes, and the queries the version-1 service ran.
const V1_INDEXES: &str = "
DROP INDEX IF EXISTS element_instances_live_timers;
DROP INDEX IF EXISTS element_instances_live_signals;
DROP INDEX IF EXISTS instances_by_created;
DROP INDEX IF EXISTS instances_by_status;
DROP INDEX IF EXISTS instances_by_process;
CREATE INDEX instances_by_status ON instances(status, process);
CREATE INDEX element_instances_by_signal ON element_instances(signal, live);
CREATE INDEX element_instances_by_due ON element_instances(due, live);
";
const V1_TICK: &str = "SELECT DISTINCT instance FROM element_instances
    WHERE live = 1 AND kind = 'timer' AND due <= ?1 ORDER BY instance";
const V1_COUNTS: &str = "SELECT status, COUNT(*) FROM instances GROUP BY status";
const V1_LIST: &str = "SELECT i.id, i.process, i.status, i.version, i.created, i.updated,
        (SELECT COUNT(*) FROM element_instances e
          WHERE e.instance = i.id AND e.live = 1 AND e.kind IN ('user', 'timer', 'signal'))
   FROM instances i
  WHERE (?1 IS NULL OR i.status = ?1) AND (?2 IS NULL OR i.process = ?2)
  ORDER BY i.created, i.id LIMIT ?3";

fn seed(path: &Path, code: &str, n: usize, options: &procdsl::runtime::engine::RunOptions) {
    let engine = Engine::from_source("procs.proc", PROCS).expect("the processes load");
    let mut store = Store::open(path).expect("the store opens");
    let mut left = n;
    while left > 0 {
        let batch: Vec<Write> = (0..left.min(1000))
            .map(|_| {
                let mut instance = engine.start(code, Vec::<(String, String)>::new()).expect("it starts");
                let mut run = Run::new(options.clone());
                store::run_on(&mut instance, &mut run);
                Write::SaveRun { instance: Box::new(instance), emitted: run.emitted, options: options.clone() }
            })
            .collect();
        left -= batch.len();
        for result in store.write_batch(batch) {
            result.expect("the seed is saved");
        }
    }
    store.checkpoint_all().expect("checkpoint");
}

/// The mean time of `f` over enough calls to take about a second (at most 1,000).
fn mean(mut f: impl FnMut()) -> Duration {
    let started = Instant::now();
    let mut n = 0u32;
    while n < 1000 && (n < 3 || started.elapsed() < Duration::from_secs(1)) {
        f();
        n += 1;
    }
    started.elapsed() / n
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn idle(dir: &Path, n: usize) {
    let path = dir.join(format!("idle-{n}.db"));
    seed(&path, "UsrWait", n, &store::real_time(None));
    let mut store = Store::open(&path).expect("open");
    let now = jiff::Timestamp::now();
    let tick = mean(|| assert!(store.due(now, PAGE_SIZE).expect("due").0.is_empty()));
    let counts = mean(|| drop(store.count_by_status().expect("counts")));
    let one = ListFilter { limit: Some(1), ..ListFilter::default() };
    let list = mean(|| drop(ProcessStore::list(&mut store, &one, None).expect("list")));
    let running = ListFilter { status: Some(Status::Running), ..ListFilter::default() };
    let resume = mean(|| drop(ProcessStore::list(&mut store, &running, None).expect("list")));
    drop(store);

    let old = dir.join(format!("idle-{n}-v1.db"));
    std::fs::copy(&path, &old).expect("copy");
    let conn = rusqlite::Connection::open(&old).expect("open the copy");
    conn.execute_batch(V1_INDEXES).expect("v1 indexes");
    let now_text = now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let rows = |sql: &str, args: &[&dyn rusqlite::ToSql]| {
        let mut stmt = conn.prepare_cached(sql).expect("prepare");
        let mut rows = stmt.query(args).expect("query");
        let mut n = 0;
        while rows.next().expect("row").is_some() {
            n += 1;
        }
        n
    };
    let old_tick = mean(|| assert_eq!(rows(V1_TICK, &[&now_text]), 0));
    let old_counts = mean(|| {
        let _ = rows(V1_COUNTS, &[]);
    });
    let none: Option<String> = None;
    let old_list = mean(|| {
        let _ = rows(V1_LIST, &[&none, &none, &1i64]);
    });
    let running = Some("Running".to_string());
    let old_resume = mean(|| {
        let _ = rows(V1_LIST, &[&running, &none, &i64::MAX]);
    });
    println!(
        "{n} waiting: tick {} ms (v1 {}), metrics counts {} ms (v1 {}), list of one {} ms (v1 {}), start-up look {} ms (v1 {})",
        ms(tick),
        ms(old_tick),
        ms(counts),
        ms(old_counts),
        ms(list),
        ms(old_list),
        ms(resume),
        ms(old_resume)
    );
}

fn burst(dir: &Path, n: usize) {
    let past = "2026-01-01T00:00:00Z".parse().expect("a time");
    let path = dir.join("burst.db");
    seed(&path, "UsrNap", n, &store::real_time(Some(past)));
    let old = dir.join("burst-v1.db");
    std::fs::copy(&path, &old).expect("copy");
    let now = jiff::Timestamp::now();

    // Now: pages, as the service's scheduler does them.
    let mut store = Store::open(&path).expect("open");
    store.defer_checkpoints().expect("as the service");
    let options = store::real_time(Some(now));
    let started = Instant::now();
    let (mut held_max, mut held_sum, mut fired) = (Duration::ZERO, Duration::ZERO, 0);
    loop {
        let t = Instant::now();
        let (page, _) = store.due(now, PAGE_SIZE).expect("due");
        let load = t.elapsed();
        if page.is_empty() {
            break;
        }
        let (saves, moved, _) = store::fire_page(page, &options);
        let t = Instant::now();
        for result in store.write_batch(saves.into_iter().map(|s| Write::Save(Box::new(s))).collect()) {
            result.expect("saved");
        }
        let held = load + t.elapsed();
        held_max = held_max.max(held);
        held_sum += held;
        fired += moved.len();
    }
    let total = started.elapsed();
    assert_eq!(fired, n);
    drop(store);

    // Before: the whole burst in one call on the store's thread, one commit per instance.
    let mut store = Store::open(&old).expect("open");
    store.defer_checkpoints().expect("as the service");
    let started = Instant::now();
    let moved = store.tick(now).expect("tick");
    let before = started.elapsed();
    assert_eq!(moved.len(), n);
    println!(
        "burst of {n} due timers: pages of {PAGE_SIZE} took {} ms in all ({:.0} timers/s), the store thread held {} ms in all and at most {} ms at once; one call (before) held it {} ms ({:.0} timers/s)",
        ms(total),
        n as f64 / total.as_secs_f64(),
        ms(held_sum),
        ms(held_max),
        ms(before),
        n as f64 / before.as_secs_f64()
    );
}

fn main() {
    let mut sizes = vec![1000, 10_000, 100_000];
    let mut burst_size = 10_000;
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, path, n] = args.as_slice() {
        if flag == "--seed" {
            let n = n.parse().unwrap_or_else(|_| panic!("`{n}` is not a number of instances"));
            seed(Path::new(path), "UsrWait", n, &store::real_time(None));
            std::fs::write(Path::new(path).with_extension("proc"), PROCS).expect("write the processes");
            return;
        }
    }
    let mut i = 0;
    while i < args.len() {
        match (args[i].as_str(), args.get(i + 1)) {
            ("--sizes", Some(v)) => sizes = v.split(',').filter_map(|s| s.parse().ok()).collect(),
            ("--burst", Some(v)) => burst_size = v.parse().unwrap_or(burst_size),
            (other, _) => {
                eprintln!("tick_cost: unknown argument `{other}`; usage: tick_cost [--sizes 1000,10000] [--burst N]");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    for n in sizes {
        idle(dir.path(), n);
    }
    if burst_size > 0 {
        burst(dir.path(), burst_size);
    }
}
