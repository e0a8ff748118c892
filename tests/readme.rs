//! README's example: the file it shows is examples/approval.proc, and the
//! story it tells (run, wait, exec, exec again) works as told.

use std::path::Path;
use std::process::{Command, Output};

fn procdsl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(args)
        .current_dir(dir)
        .env_remove("PROCDSL_STORE")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_readme_story_runs_as_told() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = std::fs::read_to_string(root.join("examples/approval.proc")).unwrap();
    assert!(readme.contains(&format!("```proc\n{example}```")), "README must show examples/approval.proc as it is");

    let dir = tempfile::tempdir().unwrap();
    let file = root.join("examples/approval.proc");
    let file = file.to_str().unwrap();
    let small = procdsl(dir.path(), &["run", file, "-p", "Amount=20"]);
    assert!(stdout(&small).contains("UsrApproval Completed") && stdout(&small).contains("\"under the limit\""));

    let big = procdsl(dir.path(), &["run", file, "-p", "Amount=5000", "--store", "orders.db"]);
    assert_eq!(big.status.code(), Some(0));
    let text = stdout(&big);
    assert!(text.contains("UsrApproval Waiting") && text.contains("user Approve \"Approve the order\""), "{text}");
    let uid = text.split("uid ").nth(1).and_then(|s| s.split_whitespace().next()).unwrap().to_string();
    let note = format!("continue it with `procdsl exec {uid} [-p FIELD=VALUE]… --store orders.db`");
    assert!(String::from_utf8_lossy(&big.stderr).contains(&note), "{}", String::from_utf8_lossy(&big.stderr));

    let done = procdsl(dir.path(), &["exec", &uid, "-p", "Decision=true", "-p", "Comment=ok", "--store", "orders.db"]);
    assert_eq!(done.status.code(), Some(0));
    assert!(stdout(&done).contains("UsrApproval Completed") && stdout(&done).contains("Note     = \"ok\""));
    let again = procdsl(dir.path(), &["exec", &uid, "-p", "Decision=false", "--store", "orders.db"]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(stdout(&again).trim(), format!("element-instance {uid} was already executed; nothing was done"));
}

/// The `procdsl test` block of the README is what the binary prints for the example's tests.
#[test]
fn the_readme_test_output_is_the_binarys() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let command = "$ procdsl test examples/approval.proc\n";
    let shown = readme.split(command).nth(1).and_then(|rest| rest.split("```").next()).expect("the README shows it");
    let out = procdsl(root, &["test", "examples/approval.proc", "-j", "1"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), shown);
}
