//! The interpreter on small generated programs (see `fuzz/harness.rs`):
//! nothing may panic, hang or abort, and what loads must run to a
//! descriptor that serialises.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(generated) = harness::generate(data) {
        harness::run_generated(&generated);
    }
});
