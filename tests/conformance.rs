//! Runs the shared conformance cases (../shared/conformance) against the
//! built binary, and fails if any case fails.

use std::path::Path;
use std::process::Command;

#[test]
fn shared_conformance_cases_pass() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/run.py");
    assert!(script.exists(), "the shared conformance runner is missing: {}", script.display());
    let output = match Command::new("python3").arg(&script).arg("--procdsl").arg(env!("CARGO_BIN_EXE_procdsl")).output()
    {
        Ok(output) => output,
        Err(e) => panic!("cannot run python3 for the conformance cases ({e}); install python3"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "conformance cases failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(" passed, 0 failed"), "unexpected runner output:\n{stdout}");
}
