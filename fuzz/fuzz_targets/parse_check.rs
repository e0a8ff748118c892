//! Parser and checker on arbitrary bytes (see `fuzz/harness.rs`): loading
//! any text, and rendering whatever diagnostics it produces, must not panic,
//! hang or abort.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::load_any(data));
