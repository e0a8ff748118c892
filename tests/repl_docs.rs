//! The REPL transcripts in docs/REPL.md and README.md, replayed: the inputs
//! after each prompt piped into `procdsl repl`, the output compared with the
//! rest (UIds masked).

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn the_transcript_in_docs_repl_md_is_what_the_repl_prints() {
    replay("docs/REPL.md");
}

#[test]
fn the_transcript_in_the_readme_is_what_the_repl_prints() {
    replay("README.md");
}

/// Replays the first ```text block that runs `procdsl repl`.
fn replay(path: &str) {
    let doc = std::fs::read_to_string(path).unwrap();
    let block = doc
        .split("```text\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.starts_with("$ procdsl repl"))
        .expect("a ```text block with a REPL session");
    let mut lines = block.lines();
    let command = lines.next().unwrap().strip_prefix("$ procdsl ").expect("the first line runs procdsl");
    let (mut inputs, mut expected) = (String::new(), String::new());
    for line in lines {
        match ["procdsl> ", "UsrOrder#1> "].iter().find_map(|p| line.strip_prefix(p)) {
            Some(input) => {
                inputs.push_str(input);
                inputs.push('\n');
            }
            None => {
                expected.push_str(line);
                expected.push('\n');
            }
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(command.split_whitespace())
        .env("PROCDSL_HISTORY", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(inputs.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(mask_uuids(&stdout), mask_uuids(&expected));
}

/// Replaces every UUID with `<uid>`.
fn mask_uuids(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let is_uuid = |w: &[char]| {
        w.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(c),
        })
    };
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if i + 36 <= chars.len() && is_uuid(&chars[i..i + 36]) {
            out.push_str("<uid>");
            i += 36;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}
