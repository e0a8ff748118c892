//! docs/LANGUAGE.md, the project's language reference: every ```proc block
//! in it is a complete file that parses and checks, so the reference cannot
//! drift from what the implementation accepts.

use std::path::Path;

/// The ```proc blocks of a Markdown text, with the line each starts on.
fn proc_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match current.as_mut() {
            None if line.trim_start() == "```proc" => current = Some((i + 1, String::new())),
            None => {}
            Some(_) if line.trim_start().starts_with("```") => blocks.extend(current.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    assert!(current.is_none(), "a ```proc block is not closed");
    blocks
}

#[test]
fn every_example_of_the_language_reference_checks() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/LANGUAGE.md");
    let markdown = std::fs::read_to_string(&path).expect("docs/LANGUAGE.md");
    let blocks = proc_blocks(&markdown);
    assert!(blocks.len() >= 7, "expected the reference's examples, found {} blocks", blocks.len());
    for (line, text) in blocks {
        let name = format!("docs/LANGUAGE.md:{line}");
        if let Err(e) = procdsl::check::load_sources(&[(name.clone(), text)]) {
            panic!("the example at {name} does not check:\n{}", e.render(false));
        }
    }
}

/// The reference's examples with `test` blocks: their tests pass.
#[test]
fn the_tests_in_the_reference_pass() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/LANGUAGE.md");
    let markdown = std::fs::read_to_string(&path).expect("docs/LANGUAGE.md");
    let mut ran = 0;
    for (line, text) in proc_blocks(&markdown) {
        let suite = procdsl::testing::Suite::from_source(&format!("docs/LANGUAGE.md:{line}"), &text).expect("checks");
        for result in suite.run(None, |_| {}) {
            ran += 1;
            if let Some(f) = &result.failure {
                panic!("test `{}` of docs/LANGUAGE.md:{line} fails:\n{}", result.name, f.report);
            }
        }
    }
    assert!(ran >= 2, "expected the reference's tests, ran {ran}");
}
