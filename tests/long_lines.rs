//! Diagnostics on very long lines, through the real binary: the error is
//! reported with its real line and column and a short excerpt, and the
//! renderer never panics (miette alone panicked past column 65,535).

use std::process::Command;

/// `procdsl check` on a file with this text: exit code and stderr.
fn check(text: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("long.proc");
    std::fs::write(&path, text).expect("written");
    let out = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .arg("check")
        .arg("long.proc")
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("procdsl runs");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn widest_line(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

fn process(script_line: &str) -> String {
    format!("process UsrLong {{\n    out Y: Text\n    start Begin -> S\n{script_line}\n    end Done\n}}\n")
}

#[test]
fn an_unknown_name_at_the_end_of_a_line_of_100000_letters() {
    for letter in ["x", "é", "漢"] {
        let line = format!("    script S {{ Y = \"{}\" + Amont }} -> Done", letter.repeat(100_000));
        let column = line.chars().position(|c| c == 'A').unwrap() + 1;
        let (code, stderr) = check(&process(&line));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.contains(&format!("[long.proc:4:{column}]")), "{letter}: {stderr}");
        assert!(stderr.contains("+ Amont }"), "{stderr}");
        assert!(stderr.contains("did you mean `Y`?") || stderr.contains("unknown variable `Amont`"), "{stderr}");
        assert!(widest_line(&stderr) < 120, "{letter}: {stderr}");
    }
}

#[test]
fn a_syntax_error_at_the_end_of_a_line_of_100000_characters() {
    let line = format!("    script S {{ Y = \"{}", "a".repeat(100_000));
    let (code, stderr) = check(&process(&line));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("unterminated text"), "{stderr}");
    let column = line.chars().count() + 1;
    assert!(stderr.contains(&format!("[long.proc:4:{column}]")), "{stderr}");
    assert!(widest_line(&stderr) < 120, "{stderr}");
}

#[test]
fn a_label_over_a_whole_long_line_is_underlined_at_its_ends() {
    let line = format!("    script S {{ Y = \"{}\" }} -> Done", "b".repeat(5_000));
    let (code, stderr) = check(&process(&line).replace("out Y: Text", "out Y: Integer"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not an Integer"), "{stderr}");
    assert!(widest_line(&stderr) < 160, "{stderr}");
}
