//! 100,000 waiting instances, each with a deadline and a reminder: the
//! memory one costs, and the time to fire every due deadline (and run each
//! instance on to its end), in memory; then the same through the SQLite
//! store's `tick` for a smaller number. Prints figures, asserts nothing
//! about time (docs/BENCHMARKS.md, "Deadlines").
//!
//! `cargo bench --bench deadlines` (a release build); `-- N STORE_N` sets
//! the two counts (default 100000 and 10000).

use procdsl::check::{self, spec::Program};
use procdsl::runtime::engine::Run;
use procdsl::runtime::instance::{Instance, Status};
use procdsl::runtime::saved::SavedInstance;
use procdsl::store::{self, Store};
use std::sync::Arc;
use std::time::Instant;

const SOURCE: &str = r#"process UsrBenchClaim {
    in  Amount: Decimal = 120
    out Status: Text = "submitted"
    start Begin -> Approve
    user Approve "Approve the claim" {
        in Ok: Boolean
        done { Status = if Ok then "approved" else "rejected" }
    } -> Done
        deadline "P3D" -> Escalate
        every "P5D" -> Remind
    script Remind { log "reminder" } -> Reminded
    end Reminded
    script Escalate { Status = "escalated" } -> Done
    end Done
}
"#;

const T0: &str = "2026-01-01T00:00:00Z";
const DUE: &str = "2026-01-04T00:00:00Z";

fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

fn waiting_instance(program: &Arc<Program>) -> Instance {
    let process = program.find("UsrBenchClaim").expect("the bench process");
    let mut instance = Instance::new(program.clone(), process, T0.parse().unwrap());
    let mut run = Run::new(store::real_time(Some(T0.parse().unwrap())));
    store::run_on(&mut instance, &mut run);
    assert_eq!(instance.status, Status::Waiting);
    instance
}

fn main() {
    let counts: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = counts.first().copied().unwrap_or(100_000);
    let store_n = counts.get(1).copied().unwrap_or(10_000);
    let program = Arc::new(check::load_str("claim.proc", SOURCE).expect("the bench source checks").program);
    let due: jiff::Timestamp = DUE.parse().unwrap();

    // In memory: room reserved before the baseline, so the growth is the instances' own.
    let mut all: Vec<Instance> = Vec::with_capacity(n);
    let before = rss();
    let began = Instant::now();
    for _ in 0..n {
        all.push(waiting_instance(&program));
    }
    let start_seconds = began.elapsed().as_secs_f64();
    let per_instance = before.zip(rss()).map(|(b, a)| a.saturating_sub(b) as f64 / n as f64);
    let saved_bytes = serde_json::to_string(&SavedInstance::of(&all[0])).map(|s| s.len()).unwrap_or(0);

    let began = Instant::now();
    let mut fired = 0;
    for instance in &mut all {
        let mut run = Run::new(store::real_time(Some(due)));
        while instance.fire_due_timers(due) > 0 {
            fired += 1;
            instance.run(&mut run);
        }
    }
    let fire_seconds = began.elapsed().as_secs_f64();
    let escalated = all.iter().filter(|i| i.status == Status::Completed).count();
    assert_eq!(escalated, n, "every deadline fired and every instance ended");
    drop(all);

    println!("in memory, {n} waiting instances with a deadline and a reminder:");
    println!("  started (run to the wait):   {:.3} s, {:.2} µs each", start_seconds, start_seconds * 1e6 / n as f64);
    match per_instance {
        Some(bytes) => println!("  memory per waiting instance: {bytes:.0} bytes (resident set growth)"),
        None => println!("  memory per waiting instance: not measured (no /proc/self/status)"),
    }
    println!("  saved state (JSON):          {saved_bytes} bytes");
    println!(
        "  fire all due deadlines:      {:.3} s, {:.2} µs each ({fired} firings, each instance run to its end)",
        fire_seconds,
        fire_seconds * 1e6 / n as f64
    );

    // Through the SQLite store: start, then one tick at the deadline.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut store = Store::open(dir.path().join("bench.db")).expect("a store");
    let began = Instant::now();
    for _ in 0..store_n {
        store
            .start(program.clone(), "UsrBenchClaim", [("Amount", "120")], store::real_time(Some(T0.parse().unwrap())))
            .expect("start");
    }
    let save_seconds = began.elapsed().as_secs_f64();
    let began = Instant::now();
    let nothing = store.tick("2026-01-02T00:00:00Z".parse().unwrap()).expect("tick");
    let idle_seconds = began.elapsed().as_secs_f64();
    assert!(nothing.is_empty());
    let began = Instant::now();
    let moved = store.tick(due).expect("tick");
    let tick_seconds = began.elapsed().as_secs_f64();
    assert_eq!(moved.len(), store_n, "every stored deadline fired once");
    println!("SQLite store, {store_n} waiting instances with a deadline:");
    println!(
        "  started and saved:           {:.3} s, {:.1} µs each",
        save_seconds,
        save_seconds * 1e6 / store_n as f64
    );
    println!("  tick with nothing due:       {:.3} ms", idle_seconds * 1e3);
    println!(
        "  tick firing every deadline:  {:.3} s, {:.1} µs each (load, fire, run, save)",
        tick_seconds,
        tick_seconds * 1e6 / store_n as f64
    );
}
