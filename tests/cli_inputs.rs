//! Values from files through the real binary: `-p CODE=@FILE`, `@-` for
//! standard input and `--params FILE.json`, for `run`, `exec` and `bench`,
//! and the exit code 2 with a clear message for a file that cannot be used.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const LINES: &str = r#"process UsrLines {
    in  Lines: List<Integer>
    in  Name: Text = ""
    out Total: Integer = 0
    out Greeting: Text
    start Begin -> Sum
    script Sum {
        for l in Lines { Total = Total + l }
        Greeting = "hi " + Name
    } -> Done
    end Done
}

process UsrApproval {
    in  Amount: Decimal = 0
    out Note: Text
    start Begin -> Approve
    user Approve {
        in Comment: Text
        done { Note = Comment }
    } -> Done
    end Done
}
"#;

fn procdsl(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(args)
        .current_dir(dir)
        .env_remove("PROCDSL_STORE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lines.proc");
    std::fs::write(&file, LINES).unwrap();
    (dir, file)
}

/// The value printed by `run … -r CODE`, which must succeed.
fn result(dir: &Path, args: &[&str], stdin: &str) -> String {
    let out = procdsl(dir, args, stdin);
    assert_eq!(out.status.code(), Some(0), "procdsl {args:?}: {}", text(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn a_list_bigger_than_an_argument_may_be_is_read_from_a_file() {
    let (dir, _) = setup();
    // 40,000 numbers: about 260 KB, twice the 128 KiB an argument may hold.
    let lines: Vec<u64> = (0..40_000).collect();
    let json = serde_json::to_string(&lines).unwrap();
    assert!(json.len() > 200_000);
    std::fs::write(dir.path().join("lines.json"), &json).unwrap();
    let total: u64 = lines.iter().sum();
    let args = ["run", "lines.proc", "--process", "UsrLines", "-p", "Lines=@lines.json", "-r", "Total"];
    assert_eq!(result(dir.path(), &args, ""), total.to_string());
}

#[test]
fn at_dash_reads_standard_input_and_at_at_is_a_literal_at() {
    let (dir, _) = setup();
    let args = ["run", "lines.proc", "--process", "UsrLines", "-p", "Lines=@-", "-p", "Name=@@home", "--json"];
    let out = procdsl(dir.path(), &args, "[1, 2, 3]\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["resultParameterValues"]["Total"], 6);
    assert_eq!(d["resultParameterValues"]["Greeting"], "hi @home");
}

#[test]
fn params_file_gives_several_values_and_p_wins_over_it() {
    let (dir, _) = setup();
    std::fs::write(dir.path().join("in.json"), r#"{"Lines": [5, 6], "Name": "ann"}"#).unwrap();
    let args = ["run", "lines.proc", "--process", "UsrLines", "--params", "in.json", "-r", "Greeting"];
    assert_eq!(result(dir.path(), &args, ""), r#""hi ann""#);
    let args = ["run", "lines.proc", "--process", "UsrLines", "--params", "in.json", "-p", "Name=zed", "-r", "Total"];
    assert_eq!(result(dir.path(), &args, ""), "11");
    let args = ["run", "lines.proc", "--process", "UsrLines", "--params", "-", "-r", "Total"];
    assert_eq!(result(dir.path(), &args, r#"{"Lines": [7]}"#), "7");
}

#[test]
fn exec_takes_field_values_from_files() {
    let (dir, _) = setup();
    let run = ["run", "lines.proc", "--process", "UsrApproval", "--store", "s.db", "--json"];
    let out = procdsl(dir.path(), &run, "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let uid = d["waiting"][0]["uid"].as_str().unwrap().to_string();
    let comment = "a comment\nof two lines";
    std::fs::write(dir.path().join("comment.txt"), comment).unwrap();
    let out = procdsl(dir.path(), &["exec", &uid, "-p", "Comment=@comment.txt", "--store", "s.db", "--json"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["resultParameterValues"]["Note"], comment);

    let out = procdsl(dir.path(), &run, "");
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let uid = d["waiting"][0]["uid"].as_str().unwrap().to_string();
    let out =
        procdsl(dir.path(), &["exec", &uid, "--params", "-", "--store", "s.db", "--json"], r#"{"Comment": "ok"}"#);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["resultParameterValues"]["Note"], "ok");
}

#[test]
fn bench_takes_values_from_files() {
    let (dir, _) = setup();
    std::fs::write(dir.path().join("lines.json"), "[1, 2]").unwrap();
    let args = ["bench", "lines.proc", "--process", "UsrLines", "-n", "3", "-p", "Lines=@lines.json", "--json"];
    let out = procdsl(dir.path(), &args, "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out =
        procdsl(dir.path(), &["bench", "lines.proc", "--process", "UsrLines", "-n", "3", "-p", "Lines=@nope"], "");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn a_file_that_cannot_be_used_is_exit_2_with_what_and_why() {
    let (dir, _) = setup();
    std::fs::write(dir.path().join("array.json"), "[1]").unwrap();
    std::fs::write(dir.path().join("broken.json"), "{\n  \"Lines\": [1,\n").unwrap();
    std::fs::write(dir.path().join("latin1.json"), b"[\xe9]").unwrap();
    let cases: [(&[&str], &str, &str); 6] = [
        (&["-p", "Lines=@missing.json"], "", "`-p Lines=@missing.json`: cannot read `missing.json`: no such file"),
        (&["--params", "missing.json"], "", "`--params missing.json`: cannot read `missing.json`: no such file"),
        (&["--params", "array.json"], "", "expected a JSON object such as {\"Amount\": 250}, found an array"),
        (&["--params", "broken.json"], "", "`--params broken.json`: not valid JSON at line 3"),
        (&["-p", "Lines=@latin1.json"], "", "`latin1.json` is not UTF-8 text"),
        (
            &["-p", "Lines=@-", "-p", "Name=@-"],
            "[1]",
            "`-p Name=@-` reads standard input, which `-p Lines=@-` already read",
        ),
    ];
    for (extra, stdin, want) in cases {
        let mut args = vec!["run", "lines.proc", "--process", "UsrLines"];
        args.extend_from_slice(extra);
        let out = procdsl(dir.path(), &args, stdin);
        assert_eq!(out.status.code(), Some(2), "procdsl {args:?}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("error: ") && stderr.contains(want), "procdsl {args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "nothing ran: {}", text(&out));
    }
}
