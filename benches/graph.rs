//! The time to draw a generated process (tests/support/big_process.rs) of
//! 100 and 1,000 elements: the layout alone and the whole SVG. Prints
//! figures, asserts nothing about time (docs/BENCHMARKS.md, "Pictures").
//!
//! `cargo bench --bench graph` (a release build).

#[path = "../tests/support/big_process.rs"]
mod big_process;

use criterion::{criterion_group, criterion_main, Criterion};
use procdsl::check;
use procdsl::graph::{self, layout, Graph};
use std::hint::black_box;
use std::time::Duration;

fn pictures(c: &mut Criterion) {
    for size in [100, 1_000] {
        let program = check::load_str("big.proc", &big_process::source(size)).unwrap().program;
        let spec = &program.processes[0];
        let model = Graph::of(&program, spec);
        let mut group = c.benchmark_group(format!("graph/{}-elements", model.nodes.len()));
        group.measurement_time(Duration::from_secs(if size > 100 { 20 } else { 5 }));
        group.sample_size(if size > 100 { 10 } else { 50 });
        group.bench_function("layout", |b| b.iter(|| layout(black_box(&model))));
        group.bench_function("svg", |b| b.iter(|| graph::svg(&program, black_box(spec), None)));
        group.finish();
    }
}

criterion_group!(benches, pictures);
criterion_main!(benches);
