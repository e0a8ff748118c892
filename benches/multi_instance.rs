//! A multi-instance user task over 1,000 items: the time to activate it
//! (evaluate the list and make one waiting element-instance per item) and
//! to complete it (execute every item by its UId, the last moving the flow
//! on), per item; in memory, then through the SQLite store, where every
//! exec loads and saves the instance with all its waiting items. Prints
//! figures, asserts nothing about time (docs/BENCHMARKS.md, "Multi-instance").
//!
//! `cargo bench --bench multi_instance` (a release build); `-- N STORE_N`
//! sets the item counts (default 1000 and 1000).

use procdsl::check::{self, spec::Program};
use procdsl::runtime::engine::Run;
use procdsl::runtime::instance::{Instance, Status};
use procdsl::runtime::saved::SavedInstance;
use procdsl::store::{self, Store};
use std::sync::Arc;
use std::time::Instant;

const SOURCE: &str = r#"process UsrBenchReview {
    in  Count: Integer = 1000
    out Approvals: Integer = 0
    var Reviewers: List<Integer> = []
    start Begin -> Build
    script Build { Reviewers = range(Count) } -> Review
    user Review "Review" for each Reviewer in Reviewers to "reviewer {Reviewer}" {
        in Ok: Boolean
        done { if Ok { Approvals = Approvals + 1 } }
    } -> Done
    end Done
}
"#;

const T0: &str = "2026-01-01T00:00:00Z";

fn main() {
    let counts: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = counts.first().copied().unwrap_or(1000);
    let store_n = counts.get(1).copied().unwrap_or(1000);
    let program: Arc<Program> =
        Arc::new(check::load_str("review.proc", SOURCE).expect("the bench source checks").program);
    let process = program.find("UsrBenchReview").expect("the bench process");
    let now = || store::real_time(Some(T0.parse().unwrap()));

    // In memory. The list is built first (a script), so the activation is timed alone.
    let mut instance = Instance::new(program.clone(), process, T0.parse().unwrap());
    instance.set_inputs([("Count", n.to_string())]).unwrap();
    let mut run = Run::new(now());
    instance.step(&mut run);
    instance.step(&mut run);
    let began = Instant::now();
    instance.run(&mut run);
    let activate = began.elapsed().as_secs_f64();
    assert_eq!(instance.waiting.len(), n, "{:?}", instance.error);
    let saved_bytes = serde_json::to_string(&SavedInstance::of(&instance)).map(|s| s.len()).unwrap_or(0);
    // What a store pays for the state alone on each exec: write it, read it back.
    let rounds = 20;
    let began = Instant::now();
    for _ in 0..rounds {
        let json = serde_json::to_string(&SavedInstance::of(&instance)).unwrap();
        let back: SavedInstance = serde_json::from_str(&json).unwrap();
        back.restore(program.clone()).unwrap();
    }
    let state_round_trip = began.elapsed().as_secs_f64() / rounds as f64;
    let uids: Vec<_> = instance.waiting.iter().map(|w| w.uid).collect();
    let began = Instant::now();
    for uid in &uids {
        instance.exec(*uid, &[("Ok", "true")], &mut Run::new(now())).unwrap();
    }
    let complete = began.elapsed().as_secs_f64();
    assert_eq!(instance.status, Status::Completed);
    println!("in memory, {n} items:");
    println!("  activation: {:.1} ms ({:.2} µs per item)", activate * 1e3, activate * 1e6 / n as f64);
    println!("  completion (exec every item): {:.1} ms ({:.2} µs per item)", complete * 1e3, complete * 1e6 / n as f64);
    println!("  saved state while all wait: {saved_bytes} bytes ({} per item)", saved_bytes / n.max(1));
    println!("  that state saved to JSON, read back and restored: {:.2} ms", state_round_trip * 1e3);

    // Through the SQLite store: every exec loads and saves the whole instance.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut store = Store::open(dir.path().join("bench.db")).expect("the store opens");
    let began = Instant::now();
    let d = store
        .start(program.clone(), "UsrBenchReview", [("Count", store_n.to_string())], now())
        .expect("the instance starts");
    let start = began.elapsed().as_secs_f64();
    assert_eq!(d.waiting.len(), store_n);
    let began = Instant::now();
    for w in &d.waiting {
        store.exec(w.uid, &[("Ok", "true")], now()).expect("the item executes");
    }
    let complete = began.elapsed().as_secs_f64();
    assert_eq!(store.show(d.process_id).unwrap().status, Status::Completed);
    println!("SQLite store, {store_n} items:");
    println!("  start (list built, items activated, saved): {:.1} ms", start * 1e3);
    println!(
        "  completion (one exec per item, each a load and a save): {:.1} ms ({:.0} µs per item)",
        complete * 1e3,
        complete * 1e6 / store_n as f64
    );
}
