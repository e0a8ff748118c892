//! `procdsl fmt` speed on W5 (50 KB, 1,000 scripts): the parse alone, the
//! layout alone (from a parsed file), and `format` whole (parse, layout,
//! and its check: the layout parsed again and compared).
//!
//! `cargo bench --bench fmt`; the figures are in docs/BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use procdsl::source::FileId;
use procdsl::syntax::format::{format, lay_out};
use procdsl::syntax::parse;

fn w5(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/workloads/w5.proc");
    let text = std::fs::read_to_string(path).expect("benches/workloads/w5.proc");
    let file = parse(FileId(0), &text).expect("W5 parses");
    let mut group = c.benchmark_group("fmt_w5");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse", |b| b.iter(|| parse(FileId(0), &text).expect("parses")));
    group.bench_function("lay_out", |b| b.iter(|| lay_out(&text, &file)));
    group.bench_function("format", |b| b.iter(|| format("w5.proc", &text).expect("formats")));
    group.finish();
}

criterion_group!(benches, w5);
criterion_main!(benches);
