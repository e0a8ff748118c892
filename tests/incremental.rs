//! The editor's incremental reparse (`syntax::incremental`) gives exactly the
//! tree a parse of the whole new text gives, spans included: random edits
//! typed into every example, golden case and workload, each compared with a
//! full parse. Editing goes on from the last text that parsed, as the
//! language server does (a keystroke that breaks the text and the one that
//! mends it are reparsed together).

use procdsl::source::FileId;
use procdsl::syntax::{self, ast, incremental};
use std::path::{Path, PathBuf};

/// A small deterministic generator (xorshift64*): the same edits on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// What an author types: single characters, tokens that join or split
/// items, comments that may swallow a line, whole new items.
const TYPED: &[&str] = &[
    " ",
    "\n",
    ";",
    "x",
    "1",
    "{",
    "}",
    "(",
    ")",
    "\"",
    "->",
    "-> S1",
    ",",
    ", B",
    "// note\n",
    "//",
    "/*",
    "*/",
    "=",
    "+ 1",
    "if",
    "then",
    "else",
    "script Q {}\n",
    "end E\n",
    "\n -> Done",
    "\non error -> Done",
    "process P {}\n",
    "test \"t\" {}\n",
    "in Z: Text\n",
    "caption \"c\"\n",
    "deadline \"P1D\" -> X",
    "{x}",
    "\\",
    "é",
    "😀",
    "\"ü\"",
    "\r\n",
    "\r",
];

fn sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["examples", "tests/cases", "benches/workloads"] {
        walk(&root.join(dir), &mut out);
    }
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "proc") {
            out.push(path);
        }
    }
}

fn floor(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One random edit of `text`.
fn edit(text: &str, random: &mut Random) -> String {
    let at = floor(text, random.below(text.len() + 1));
    let mut out = text.to_string();
    match random.below(3) {
        0 => out.insert_str(at, TYPED[random.below(TYPED.len())]),
        1 => {
            let end = floor(text, (at + 1 + random.below(8)).min(text.len()));
            out.replace_range(at..end, "");
        }
        _ => {
            let end = floor(text, (at + 1 + random.below(4)).min(text.len()));
            out.replace_range(at..end, TYPED[random.below(TYPED.len())]);
        }
    }
    out
}

/// Edits `text` `edits` times; returns how many edits gave a text that
/// parses, and how many of those were reparsed in pieces.
fn check_edits(name: &str, text: &str, edits: usize, random: &mut Random) -> (usize, usize) {
    let file = FileId(0);
    let Ok(tree) = syntax::parse(file, text) else { return (0, 0) };
    let (mut base_text, mut base) = (text.to_string(), tree);
    let mut current = base_text.clone();
    let mut pieces = 0;
    let mut parsed = 0;
    for n in 0..edits {
        current = edit(&current, random);
        let full = syntax::parse(file, &current);
        if let Some(splice) = incremental::plan(file, &base_text, &base, &current) {
            pieces += 1;
            let spliced = splice.apply(base.clone());
            let full = full.as_ref().unwrap_or_else(|e| {
                panic!("{name}, edit {n}: the piece parsed but the whole text does not: {e}\n{current}\n---- from:\n{base_text}")
            });
            assert_eq!(format!("{spliced:#?}"), format!("{full:#?}"), "{name}, edit {n}:\n{current}");
        }
        match full {
            Ok(tree) => {
                parsed += 1;
                (base_text, base) = (current.clone(), tree)
            }
            // Mostly the author undoes a breaking edit; now and then types on.
            Err(_) if random.below(4) != 0 => current = base_text.clone(),
            Err(_) => {}
        }
    }
    (parsed, pieces)
}

#[test]
fn random_edits_of_every_example_case_and_workload_reparse_as_a_full_parse_does() {
    let mut random = Random(0x5eed_1234_abcd_0001);
    let (mut parsed, mut pieces) = (0, 0);
    for path in sources() {
        let text = std::fs::read_to_string(&path).unwrap();
        // Fewer edits in the large workloads: each costs a full parse to compare with.
        let n = if text.len() > 20_000 { 20 } else { 40 };
        let (p, q) = check_edits(&path.display().to_string(), &text, n, &mut random);
        (parsed, pieces) = (parsed + p, pieces + q);
    }
    // Not vacuous: many edits that leave a valid file are reparsed in
    // pieces (the others touch a file's leading comments, an import, or two items).
    assert!(pieces * 3 > parsed, "only {pieces} of {parsed} edits were reparsed in pieces");
}

/// A large process as the keystroke benchmark makes it (scripts/lsp_keystroke.py).
fn big_process(elements: usize) -> String {
    let mut lines =
        vec!["process UsrBig {".to_string(), "    in  X: Integer = 0".into(), "    start Begin -> S1".into()];
    for i in 1..elements - 1 {
        let after = if i < elements - 2 { format!("S{}", i + 1) } else { "Done".into() };
        lines.push(format!(
            "    script S{i} \"Step {i}\" {{ X = X + {i}; if X > 10 {{ Y = \"at {{X}}\" }} }} -> {after}"
        ));
    }
    lines.extend([
        "    end Done".to_string(),
        "}".into(),
        "test \"t\" {".into(),
        "    start UsrBig".into(),
        "}".into(),
    ]);
    lines.join("\n")
}

#[test]
fn typing_in_a_large_process_reparses_one_element() {
    let text = big_process(300);
    let mut random = Random(42);
    let (parsed, pieces) = check_edits("big", &text, 600, &mut random);
    assert!(parsed > 50 && pieces * 10 >= parsed * 9, "only {pieces} of {parsed} edits were reparsed in pieces");
}

/// Edits at the borders of items: each is either reparsed exactly or left to the full parse.
#[test]
fn edits_at_item_borders_reparse_exactly() {
    let text = "process P {\n    in X: Integer\n    start A -> B // go\n    script B { X = 1 } -> C\n    end C\n}\n\ntest \"t\" {\n    start P\n}\n";
    let file = FileId(0);
    let base = syntax::parse(file, text).unwrap();
    let cases = [
        // A flow on the next line joins the element before.
        ("    script B", "    -> C\n    script B"),
        // A comma runs the flow into the next line's keyword: the whole file does not parse.
        ("-> B // go", "-> B, // go"),
        // Joining two elements on one line.
        ("// go\n    script", "// go    script"),
        ("-> C\n    end", "-> C    end"),
        // An unterminated comment swallows what follows.
        ("-> C\n    end", "-> C /*\n    end"),
        ("end C\n}", "end C\n    end D\n}"),
        ("end C\n}", "end C -> A\n}"),
        ("{ X = 1 }", "{ X = 1 } }"),
        ("{ X = 1 }", "{ X = 1 "),
        ("start P\n}", "start P\n    expect status Completed\n}"),
        ("process P {", "process P { caption \"c\"\n"),
        ("}\n\ntest", "}\ntest"),
        ("}\n\ntest", "} test"),
        ("in X: Integer", "in X: Integer = 1\n    + 2"),
    ];
    for (from, to) in cases {
        let new = text.replacen(from, to, 1);
        assert_ne!(new, text, "{from:?}");
        let full = syntax::parse(file, &new);
        if let Some(splice) = incremental::plan(file, text, &base, &new) {
            let full = full.unwrap_or_else(|e| panic!("{to:?}: the piece parsed, the file does not: {e}"));
            let spliced: ast::File = splice.apply(base.clone());
            assert_eq!(format!("{spliced:#?}"), format!("{full:#?}"), "{to:?}");
        }
    }
    // A change inside one element is reparsed in a piece.
    let new = text.replace("X = 1", "X = 12");
    assert!(incremental::plan(file, text, &base, &new).is_some());
}

/// The checker's diagnostics after an incremental reparse are those of a full load.
#[test]
fn diagnostics_after_a_reparse_are_those_of_a_full_load() {
    use procdsl::check;
    use std::collections::HashMap;
    use std::sync::Arc;
    let path = Path::new("/nonexistent/incremental/big.proc");
    let load = |text: &str, reuse: Option<(&str, &ast::File)>| {
        let open = HashMap::from([(path.to_path_buf(), Arc::<str>::from(text))]);
        let reused = std::cell::Cell::new(false);
        let (result, trees) = check::load_document(path, open, |new| {
            let (old_text, old) = reuse?;
            let splice = incremental::plan(FileId(0), old_text, old, new)?;
            reused.set(true);
            Some(splice.apply(old.clone()))
        });
        let diagnostics = match result {
            Ok(loaded) => loaded.warnings,
            Err(failure) => failure.diagnostics,
        };
        (format!("{diagnostics:#?}"), trees, reused.get())
    };
    let mut random = Random(7);
    let mut text = big_process(200);
    let (_, mut trees, _) = load(&text, None);
    let mut reused = 0;
    for n in 0..200 {
        let new = edit(&text, &mut random);
        let Some((_, tree)) = trees.first() else { unreachable!("the base text parses") };
        let (incremental, new_trees, used) = load(&new, Some((&text, tree)));
        let (full, _, _) = load(&new, None);
        assert_eq!(incremental, full, "edit {n}:\n{new}");
        reused += used as usize;
        if new_trees.first().is_some_and(|(id, _)| *id == FileId(0)) {
            (text, trees) = (new, new_trees);
        }
    }
    assert!(reused > 20, "only {reused} of 200 loads reused the tree");
}

/// At the nesting guard's limits an element reparsed alone gets the guard's
/// verdict on the whole file: brackets and `if`s one past the limit are
/// refused, as a full parse refuses them.
#[test]
fn nesting_at_the_limits_is_judged_as_in_the_whole_file() {
    let file = FileId(0);
    let brackets = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
    let ifs = |n: usize| format!("{}1{}", "if a then ".repeat(n), " else 2".repeat(n));
    for list in ["", "    in L: List<Integer>\n"] {
        let text = |value: &str| {
            format!("process P {{\n{list}    start A -> S\n    script S {{ X = {value} }} -> E\n    end E\n}}\n")
        };
        type Shape<'a> = &'a dyn Fn(usize) -> String;
        let shapes: [(Shape, std::ops::RangeInclusive<usize>); 2] = [(&brackets, 120..=130), (&ifs, 150..=165)];
        for (shape, range) in shapes {
            let (mut reparsed, mut refused) = (0, 0);
            for n in range {
                let (before, after) = (text(&shape(n - 1)), text(&shape(n)));
                let Ok(base) = syntax::parse(file, &before) else { continue };
                let full = syntax::parse(file, &after);
                match incremental::plan(file, &before, &base, &after) {
                    Some(splice) => {
                        let full = full.unwrap_or_else(|e| panic!("{n}: the piece passed, the file is refused: {e}"));
                        assert_eq!(format!("{:#?}", splice.apply(base)), format!("{full:#?}"), "{n}");
                        reparsed += 1;
                    }
                    None => {
                        assert!(full.is_err() || !list.is_empty(), "{n}: a valid edit was not reparsed alone");
                        refused += full.is_err() as usize;
                    }
                }
            }
            // Both sides of the limit were met.
            assert!(reparsed > 0 && refused > 0, "{reparsed} reparsed, {refused} refused");
        }
    }
}
