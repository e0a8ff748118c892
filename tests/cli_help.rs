//! Every command's `--help` through the real binary: each ends with
//! examples and says where the docs are; `bench` warns on a debug build.

use std::process::{Command, Output};

fn procdsl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procdsl")).args(args).env("NO_COLOR", "1").output().unwrap()
}

/// The commands `procdsl --help` lists.
fn commands() -> Vec<String> {
    let out = procdsl(&["--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    let listed = help.split("Commands:\n").nth(1).unwrap_or_else(|| panic!("no command list in:\n{help}"));
    listed
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_command_has_examples_and_points_at_the_docs() {
    let commands = commands();
    assert!(commands.len() >= 11, "{commands:?}");
    for command in &commands {
        let out = procdsl(&[command, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{command} --help");
        let help = String::from_utf8(out.stdout).unwrap();
        let examples =
            help.split("Examples:\n").nth(1).unwrap_or_else(|| panic!("`{command} --help` has no examples:\n{help}"));
        assert!(
            examples.lines().next().is_some_and(|l| l.starts_with(&format!("  procdsl {command} "))),
            "`{command} --help`: the first example runs `procdsl {command}`:\n{help}"
        );
        assert!(help.contains("docs/CLI.md"), "`{command} --help` does not point at the docs:\n{help}");
    }
    let out = procdsl(&["--help"]);
    assert!(String::from_utf8(out.stdout).unwrap().contains("docs/CLI.md"));
}

#[test]
fn bench_warns_that_a_debug_build_measures_little() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hello.proc");
    std::fs::write(&file, "process UsrHello {\n    start Begin -> Done\n    end Done\n}\n").unwrap();
    let out = procdsl(&["bench", file.to_str().unwrap(), "-n", "2"]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    // The tests run a debug build of procdsl.
    assert!(stderr.starts_with("warning: this procdsl is a debug build"), "{stderr}");
    assert!(stderr.contains("cargo build --release"), "{stderr}");
}
