//! `procdsl test` speed: 1,000 tests of a 10-element process (a user task
//! to execute, a timer to cross, a gateway, expectations), run by the
//! library's runner on every core, as `procdsl test` runs them.
//!
//! `cargo bench --bench tests`; the figure is in docs/BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use procdsl::testing::Suite;
use std::fmt::Write as _;
use std::time::Duration;

const TESTS: usize = 1_000;

/// Ten elements: start, script, exclusive, two scripts, merge, user task, timer, script, end.
const PROCESS: &str = r#"
process UsrTen {
    in  Amount: Decimal = 0
    out Total:  Decimal = 0
    out Path:   Text
    start Begin -> Prepare
    script Prepare { Total = Amount * 2 } -> Route
    exclusive Route {
        when Total > 100 -> Big
        else -> Small
    }
    script Big { Path = "big" } -> Merge
    script Small { Path = "small" } -> Merge
    exclusive Merge -> Approve
    user Approve "Approve" {
        in Ok: Boolean
        done { if not Ok { Total = 0 } }
    } -> Cool
    timer Cool after "PT1H" -> Finish
    script Finish { log "done with {Total}" } -> Done
    end Done
}
"#;

/// The process and `n` tests of it, half on each path of the gateway.
fn source(n: usize) -> String {
    let mut s = PROCESS.to_string();
    for i in 0..n {
        let path = if i % 2 == 0 { "big" } else { "small" };
        let _ = write!(
            s,
            r#"
test "case {i}" {{
    start UsrTen {{ Amount = {amount} }}
    expect waiting Approve
    exec Approve {{ Ok = true }}
    expect waiting Cool
    advance "PT1H"
    expect status Completed
    expect Path == "{path}" and Total == {total}
    expect log contains "done with"
}}
"#,
            amount = if i % 2 == 0 { 100 + i } else { i % 50 },
            total = if i % 2 == 0 { 2 * (100 + i) } else { 2 * (i % 50) },
        );
    }
    s
}

fn bench(c: &mut Criterion) {
    let suite = Suite::from_source("ten.proc", &source(TESTS)).expect("the generated tests check");
    let results = suite.run(None, |_| {});
    assert_eq!(results.len(), TESTS);
    assert!(results.iter().all(|r| r.passed()), "{:?}", results.iter().find(|r| !r.passed()));
    let mut group = c.benchmark_group("test");
    group.throughput(Throughput::Elements(TESTS as u64));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("1000 tests, all cores", |b| b.iter(|| suite.run(None, |_| {})));
    group.bench_function("1000 tests, one thread", |b| b.iter(|| suite.run_with(None, 1, |_| {})));
    group.bench_function("check 1000 tests", |b| b.iter(|| Suite::from_source("ten.proc", &source(TESTS))));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
