//! The `procdsl` command: parses arguments, dispatches, maps errors to exit codes.
#![forbid(unsafe_code)]

mod cli;

/// mimalloc instead of the system allocator: under load `serve` spent
/// about a tenth of its CPU in glibc's malloc (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Deeply nested but valid input is bounded by the parser and checker; a
/// large stack keeps those bounds generous.
const STACK_BYTES: usize = 256 << 20;

fn main() {
    let code = std::thread::Builder::new()
        .name("procdsl".into())
        .stack_size(STACK_BYTES)
        .spawn(cli::main)
        .ok()
        .and_then(|t| t.join().ok())
        .unwrap_or(cli::EXIT_INVALID);
    std::process::exit(code);
}
