//! `procdsl run … | head`: the reader goes away early. The command ends
//! quietly, killed by SIGPIPE as other Unix tools are, instead of panicking
//! with "failed printing to stdout".
#![cfg(unix)]

use std::io::Read;
use std::process::{Command, Stdio};

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.proc");
    std::fs::write(
        &file,
        "process P {\n start B -> S\n script S { for i in 0..5000 { log \"line {i} of a long log, long enough to fill a pipe\" } } -> E\n end E\n}\n",
    )
    .unwrap();
    for json in [false, true] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_procdsl"));
        command.arg("run").arg(&file).stdout(Stdio::piped()).stderr(Stdio::piped());
        if json {
            command.arg("--json");
        }
        let mut child = command.spawn().unwrap();
        let mut first = [0u8; 1];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The reader is dropped here: the pipe is closed.
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "json={json}: {stderr}");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(output.status.signal(), Some(13), "json={json}: killed by SIGPIPE, not {:?}", output.status);
    }
}
