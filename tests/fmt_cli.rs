//! `procdsl fmt` through the binary: files rewritten in place, folders,
//! `--check`, standard input, a file that does not parse; and the
//! project's own `.proc` texts (the examples, the ```proc blocks of the
//! docs) already in the canonical layout.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const MESSY: &str = "process  UsrA{\n  start S->E // to the end\n  end E\n}\n";
const TIDY: &str = "process UsrA {\n    start S -> E // to the end\n    end E\n}\n";

fn procdsl(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the procdsl binary runs");
    let mut input = child.stdin.take().expect("a stdin");
    input.write_all(stdin.unwrap_or("").as_bytes()).expect("stdin written");
    drop(input);
    child.wait_with_output().expect("procdsl ends")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn rewrites_files_in_place_and_leaves_tidy_ones_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.proc"), MESSY).unwrap();
    std::fs::write(dir.path().join("b.proc"), TIDY).unwrap();
    let out = procdsl(dir.path(), &["fmt", "a.proc", "b.proc"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("a.proc")).unwrap(), TIDY);
    assert_eq!(std::fs::read_to_string(dir.path().join("b.proc")).unwrap(), TIDY);
    // No temporary file is left beside them.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn check_lists_the_files_that_differ_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/a.proc"), MESSY).unwrap();
    std::fs::write(dir.path().join("sub/b.proc"), TIDY).unwrap();
    std::fs::write(dir.path().join("sub/notes.txt"), "not a process").unwrap();
    let out = procdsl(dir.path(), &["fmt", "--check", "sub"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), format!("{}\n", Path::new("sub").join("a.proc").display()));
    assert_eq!(std::fs::read_to_string(dir.path().join("sub/a.proc")).unwrap(), MESSY);

    // A folder is every .proc file in it: formatting it makes the check pass.
    let out = procdsl(dir.path(), &["fmt", "sub"], None);
    assert_eq!(out.status.code(), Some(0));
    let out = procdsl(dir.path(), &["fmt", "--check", "sub"], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn a_dash_formats_standard_input_to_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = procdsl(dir.path(), &["fmt", "-"], Some(MESSY));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), TIDY);
    let out = procdsl(dir.path(), &["fmt", "--check", "-"], Some(MESSY));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "<stdin>\n");
}

#[test]
fn a_file_that_does_not_parse_is_reported_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let broken = "process UsrA {\n    start S ->\n}\n";
    std::fs::write(dir.path().join("broken.proc"), broken).unwrap();
    std::fs::write(dir.path().join("a.proc"), MESSY).unwrap();
    let out = procdsl(dir.path(), &["fmt", "broken.proc", "a.proc"], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("procdsl::syntax") && stderr.contains("broken.proc:3:1"), "{stderr}");
    assert_eq!(std::fs::read_to_string(dir.path().join("broken.proc")).unwrap(), broken);
    // The other files are formatted all the same.
    assert_eq!(std::fs::read_to_string(dir.path().join("a.proc")).unwrap(), TIDY);
}

#[test]
fn the_examples_are_formatted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = procdsl(root, &["fmt", "--check", "examples"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "run `procdsl fmt examples/`; these differ:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Every ```proc block of the docs that is a whole file (it parses) is in
/// the canonical layout. Fragments (a statement, an element) and blocks
/// indented in a list (illustrations of a detail, such as where a line may
/// break) are left alone.
#[test]
fn the_proc_blocks_of_the_docs_are_formatted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut differ = String::new();
    let mut checked = 0;
    for doc in ["docs/LANGUAGE.md", "README.md"] {
        let markdown = std::fs::read_to_string(root.join(doc)).expect(doc);
        let mut block: Option<(usize, String)> = None;
        for (n, line) in markdown.lines().enumerate() {
            match &mut block {
                None if line == "```proc" => block = Some((n + 1, String::new())),
                None => {}
                Some((start, text)) if line == "```" => {
                    if let Ok(tidy) = procdsl::syntax::format::format(doc, text) {
                        checked += 1;
                        if tidy != *text {
                            differ.push_str(&format!("\n=== {doc}, the block after line {start}:\n{tidy}"));
                        }
                    }
                    block = None;
                }
                Some((_, text)) => {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    assert!(checked > 5, "only {checked} ```proc blocks parse");
    assert!(differ.is_empty(), "these ```proc blocks are not in the canonical layout; the layout:{differ}");
}
