//! `procdsl fmt`'s properties, over every program the project has: the
//! examples, the golden cases, both fuzz corpora (the `interpret` corpus
//! decoded into programs the way its fuzz target does) and generated
//! programs. For each file that parses, the layout
//! - means the same: its syntax tree equals the input's (spans aside);
//! - keeps every comment, in order;
//! - is a fixed point: formatting it again changes nothing;
//! - passes `format`'s own check (so `format` returns it, not the input).

use procdsl::source::FileId;
use procdsl::syntax::format::{comments, lay_out};
use procdsl::syntax::parse;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

#[path = "../fuzz/harness.rs"]
mod harness;

/// Runs `f` on a thread with a large stack, as the binary does: the parser
/// and the printer recurse as deep as the parser's nesting limits allow.
fn with_big_stack(f: impl FnOnce() + Send + 'static) {
    let thread = std::thread::Builder::new().stack_size(256 << 20).spawn(f).expect("a thread");
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

/// What is wrong with the layout of `text`; `Ok(parsed)` when nothing is.
fn problem(text: &str) -> Result<bool, String> {
    let text = procdsl::source::normalize(text.into());
    let Ok(tree) = parse(FileId(0), &text) else { return Ok(false) };
    let once = lay_out(&text, &tree);
    let again = match parse(FileId(0), &once) {
        Ok(again) => again,
        Err(e) => return Err(format!("the layout does not parse: {e}\n--- layout:\n{once}")),
    };
    if again != tree {
        return Err(format!("the layout means something else\n--- layout:\n{once}"));
    }
    if comments(&text) != comments(&once) {
        return Err(format!(
            "comments differ: {:?} became {:?}\n--- layout:\n{once}",
            comments(&text),
            comments(&once)
        ));
    }
    let twice = lay_out(&once, &again);
    if twice != once {
        return Err(format!("formatting again changes it\n--- once:\n{once}--- twice:\n{twice}"));
    }
    // `format` returns the layout when its check (the two above) passes.
    Ok(true)
}

fn proc_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            proc_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "proc") {
            out.push(path);
        }
    }
}

fn files_in(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root).expect(dir).flatten().map(|e| e.path()).collect();
    files.sort();
    files
}

/// Checks every text; fails with each file that breaks a property. Returns how many parsed.
fn check_all(texts: Vec<(String, String)>) -> usize {
    let mut failures = String::new();
    let mut parsed = 0;
    for (name, text) in texts {
        match problem(&text) {
            Ok(false) => {}
            Ok(true) => parsed += 1,
            Err(problem) => failures.push_str(&format!("\n=== {name}: {problem}\n--- input:\n{text}\n")),
        }
    }
    assert!(failures.is_empty(), "{failures}");
    parsed
}

#[test]
fn examples_and_golden_cases() {
    with_big_stack(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        proc_files(&root.join("examples"), &mut files);
        proc_files(&root.join("tests/cases"), &mut files);
        proc_files(&root.join("benches/workloads"), &mut files);
        let texts: Vec<_> = files
            .iter()
            .map(|f| (f.display().to_string(), std::fs::read_to_string(f).expect("a readable file")))
            .collect();
        let parsed = check_all(texts);
        assert!(parsed > 100, "only {parsed} files parsed");
    });
}

#[test]
fn the_parse_check_corpus() {
    with_big_stack(|| {
        let texts: Vec<_> = files_in("fuzz/corpus/parse_check")
            .into_iter()
            .map(|f| {
                (f.display().to_string(), String::from_utf8_lossy(&std::fs::read(&f).expect("a file")).into_owned())
            })
            .collect();
        let parsed = check_all(texts);
        assert!(parsed > 100, "only {parsed} corpus files parsed");
    });
}

#[test]
fn the_interpret_corpus() {
    with_big_stack(|| {
        let texts: Vec<_> = files_in("fuzz/corpus/interpret")
            .into_iter()
            .filter_map(|f| {
                let generated = harness::generate(&std::fs::read(&f).expect("a file"))?;
                Some((f.display().to_string(), generated.source))
            })
            .collect();
        let parsed = check_all(texts);
        assert!(parsed > 100, "only {parsed} generated programs parsed");
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Programs the `interpret` fuzz target would build from random bytes.
    #[test]
    fn generated_programs(bytes in proptest::collection::vec(any::<u8>(), 64..2048)) {
        if let Some(generated) = harness::generate(&bytes) {
            let source = generated.source;
            let found = std::thread::Builder::new()
                .stack_size(256 << 20)
                .spawn(move || problem(&source).err().map(|p| format!("{p}\n--- input:\n{source}")))
                .expect("a thread")
                .join()
                .expect("no panic");
            prop_assert!(found.is_none(), "{}", found.unwrap_or_default());
        }
    }
}
