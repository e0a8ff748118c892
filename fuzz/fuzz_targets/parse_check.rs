//! Parser and checker on arbitrary bytes: loading any text, and rendering
//! whatever diagnostics it produces (plain, colored and as JSON), must not
//! panic, hang or abort.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Invalid UTF-8 is a separate, early error in the CLI; the lossy text
    // keeps those inputs useful to the parser.
    let text = String::from_utf8_lossy(data);
    // `load_sources` does not follow imports: a fuzzer must not read files.
    match procdsl::check::load_sources(&[("fuzz.proc".to_string(), text.into_owned())]) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                let _ = warning.to_string();
            }
        }
        Err(error) => {
            let _ = error.render(false);
            let _ = error.render(true);
            let _ = error.to_string();
            for d in &error.diagnostics {
                let _ = d.to_json(&error.sources);
            }
        }
    }
});
