//! Loads (parses and checks) one `.proc` file N times and prints the time
//! per load: `cargo bench --bench parse_cost` does W5 100 times. It exists
//! to count instructions with callgrind, which machine load does not move:
//!
//! ```text
//! cargo bench --bench parse_cost --no-run   # prints the binary's path
//! valgrind --tool=callgrind target/release/deps/parse_cost-… benches/workloads/w5.proc 1
//! valgrind --tool=callgrind target/release/deps/parse_cost-… benches/workloads/w5.proc 11
//! ```
//!
//! The difference of the two totals over 10 is one load (`--syntax`: the
//! parse alone). docs/BENCHMARKS.md, "Parsing at keystroke speed", has the figures.

use std::hint::black_box;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let syntax_only = args.iter().any(|a| a == "--syntax");
    // `cargo bench` passes `--bench`: flags other than `--syntax` are ignored.
    let rest: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/workloads/w5.proc").to_string();
    let path = rest.first().map_or(default, |p| p.to_string());
    let n: usize = rest.get(1).and_then(|n| n.parse().ok()).unwrap_or(100);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let started = Instant::now();
    for _ in 0..n {
        if syntax_only {
            let file = procdsl::source::FileId(0);
            black_box(procdsl::syntax::parse(file, black_box(&text)).expect("the file parses"));
        } else {
            black_box(procdsl::check::load_str(&path, black_box(&text)).expect("the file checks"));
        }
    }
    let each = started.elapsed().as_secs_f64() / n.max(1) as f64;
    println!("{path}: {n} loads, {:.3} ms each, {:.1} MB/s", each * 1e3, text.len() as f64 / each / 1e6);
}
