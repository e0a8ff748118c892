//! The store's costs for a small waiting process (benches/workloads/w4.proc):
//! saved waiting instances per second (durable commits), exec-and-continue
//! per second, and stored bytes per waiting instance (printed).
//!
//! `cargo bench --bench store -- --quick`; figures in docs/STORE.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use procdsl::check::{self, spec::Program};
use procdsl::store::{self, Store};
use procdsl::Instance;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn w4() -> Arc<Program> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/workloads/w4.proc");
    Arc::new(check::load_files(&[path]).expect("w4.proc loads").program)
}

fn waiting(store: &mut Store, program: &Arc<Program>) -> uuid::Uuid {
    let process = program.find("W4Wait").expect("W4Wait");
    let mut instance = Instance::new(program.clone(), process, jiff::Timestamp::now());
    store.run(&mut instance, store::real_time(None)).expect("saved");
    instance.waiting[0].uid
}

fn bytes_per_waiting_instance(program: &Arc<Program>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path().join("size.db")).expect("store");
    store.save_program(program).expect("program");
    let before = store.used_bytes().expect("size");
    const N: u64 = 1000;
    for _ in 0..N {
        waiting(&mut store, program);
    }
    let after = store.used_bytes().expect("size");
    println!("store/bytes per waiting instance: {} ({} instances)", (after - before) / N, N);
}

fn bench(c: &mut Criterion) {
    let program = w4();
    bytes_per_waiting_instance(&program);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path().join("bench.db")).expect("store");
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("save waiting instance (durable commit)", |b| b.iter(|| waiting(&mut store, &program)));
    group.bench_function("exec and continue (durable commit)", |b| {
        b.iter_custom(|iters| {
            let uids: Vec<_> = (0..iters).map(|_| waiting(&mut store, &program)).collect();
            let start = Instant::now();
            for uid in uids {
                let no_fields: [(&str, &str); 0] = [];
                store.exec(uid, &no_fields, store::real_time(None)).expect("exec");
            }
            start.elapsed()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
