//! Parsing a large file on two threads: the editor loads a whole document
//! when it opens it, and a process of a thousand elements is most of a
//! large file.
//!
//! A scan (no parse) finds an element's keyword at the start of a line
//! directly in a process's body, near the middle of the work, and the `}`
//! that closes that process. The elements from there to that `}` are parsed
//! on a second thread (the kept one, `super::worker`) with the rule
//! `process_items`, while this thread
//! parses the file without that part. The two trees are joined, the first
//! part's spans from the cut on moved past the second part, when both
//! parse and the joint is where the scan put it: the last
//! item before the cut ends in blanks, comments and separators that reach
//! the cut, and the process ends at the same `}`. Anything else gives
//! `None` and the caller parses the whole file on one thread, so the tree
//! and every error are always exactly [`super::parse`]'s.
//!
//! Why the parts mean what they mean in the file: an item ends before the
//! cut in the file as in the first part, since none of an item's
//! continuations across a line break (`->`, `on error`, `deadline`,
//! `every`) starts with an element's keyword; the second part starts with
//! the item the file's parse would try there, and ends where the file's
//! parse of that process ends, at its `}`, which `&item_end` sees as it
//! sees the end of the text.

use super::ast::File;
use super::errors;
use super::incremental::{gap_end, Spans};
use super::parser::{Builder, Grammar, Items, Rule};
use super::worker;
use crate::source::{FileId, Span};
use pest::Parser as _;

/// Below this many bytes one thread parses the file: starting a thread and
/// scanning cost tens of microseconds, a few percent of such a parse.
const MIN_BYTES: usize = 16 * 1024;

/// The second part's share of the text, in percent, that the cut aims at:
/// the second part waits for the cut and starts a little later, and a W5
/// load measured 46 % a little faster than half (2.23–2.44 ms against
/// 2.30–2.48 over three alternated rounds), the two parts then ending together.
const SECOND_SHARE: usize = 46;

/// Words that start an element; an item's continuation on the next line
/// never starts with one.
const ELEMENT_WORDS: [&str; 11] =
    ["start", "end", "terminate", "script", "exclusive", "inclusive", "parallel", "user", "timer", "signal", "call"];

/// Parses `text` on two threads, or says `None` when one thread must (a
/// small file, no place to cut, an error in either part, a joint that is
/// not where it should be).
pub(super) fn parse(file: FileId, text: &str) -> Option<File> {
    if text.len() < MIN_BYTES {
        return None;
    }
    split_at(file, text, &best_cut(text)?)
}

/// Parses `text` in two parts at `cut`.
fn split_at(file: FileId, text: &str, cut: &Cut) -> Option<File> {
    // `List<` opens an angle that a comparison may leave open, which the
    // part-by-part guard below cannot judge: the whole text is guarded.
    let guarded = text.contains("List");
    if guarded {
        errors::check_nesting(file, text).ok()?;
    }
    let second = &text[cut.at..cut.close];
    let at = cut.at;
    let owned = second.to_owned();
    let kept = worker::run(move || parse_items(file, &owned, at, guarded));
    let first = [&text[..cut.at], &text[cut.close..]].concat();
    let (head, tail) = match kept {
        Some(tail) => (parse_file(file, &first, guarded), tail.recv().ok()?),
        // The kept thread works for another load: this one starts its own.
        None => std::thread::scope(|scope| {
            let tail = std::thread::Builder::new()
                .stack_size(worker::STACK_BYTES)
                .spawn_scoped(scope, || parse_items(file, second, at, guarded))
                .ok()?;
            let head = parse_file(file, &first, guarded);
            Some((head, tail.join().ok()?))
        })?,
    };
    join(text, cut, head?, tail?)
}

/// The first part: the file without the second part.
fn parse_file(file: FileId, text: &str, guarded: bool) -> Option<File> {
    if !guarded {
        errors::check_nesting(file, text).ok()?;
    }
    let pair = Grammar::parse(Rule::file, text).ok()?.next()?;
    Builder { file, offset: 0 }.file(pair).ok()
}

/// The second part: items of a process, from an element's keyword on.
/// Alone, it must keep the nesting guard's verdict on the whole file.
fn parse_items(file: FileId, text: &str, offset: usize, guarded: bool) -> Option<Items> {
    if !guarded && !errors::piece_keeps_nesting(text) {
        return None;
    }
    let pair = Grammar::parse(Rule::process_items, text).ok()?.next()?;
    Builder { file, offset }.process_items(pair).ok()
}

/// The whole file's tree: the first part's, its spans from the cut on
/// moved past the second part, with the second part's items added to
/// their process; if the joint is where the scan put it.
fn join(text: &str, cut: &Cut, mut head: File, tail: Items) -> Option<File> {
    let (at, moved) = (u32::try_from(cut.at).ok()?, u32::try_from(cut.close - cut.at).ok()?);
    let mut shift = |span: &mut Span| {
        if span.start >= at {
            span.start += moved;
        }
        if span.end >= at {
            span.end += moved;
        }
    };
    head.imports.spans(&mut shift);
    head.tests.iter_mut().filter(|t| t.span.end >= at).for_each(|t| t.spans(&mut shift));
    let mut ours = None;
    for process in head.processes.iter_mut().filter(|p| p.span.end >= at) {
        if process.span.start as usize == cut.process {
            // Its items all end before the cut: only its end moves.
            shift(&mut process.span);
            ours = Some(process);
        } else {
            process.spans(&mut shift);
        }
    }
    let process = ours?;
    if process.span.end as usize != cut.close + 1 {
        return None;
    }
    let ends = process.captions.iter().map(|c| c.span.end).chain(process.uids.iter().map(|u| u.span.end));
    let ends = ends.chain(process.params.iter().map(|p| p.span.end)).chain(process.elements.iter().map(|e| e.span.end));
    let last = ends.max().map(|end| end as usize);
    // With no item before the cut, the gap starts after the process's `{`.
    let from = match last {
        Some(end) => end,
        None => text[cut.process..cut.at].find('{')? + cut.process + 1,
    };
    let gap = gap_end(text, from);
    if gap.end != cut.at || (last.is_some() && !gap.sep) {
        return None;
    }
    process.captions.extend(tail.captions);
    process.uids.extend(tail.uids);
    process.params.extend(tail.params);
    process.elements.extend(tail.elements);
    Some(head)
}

/// Where to cut: an element's keyword at a line's start in a process's
/// body, and the `}` closing that process.
#[derive(Debug, PartialEq)]
struct Cut {
    /// Where the process starts (its keyword).
    process: usize,
    at: usize,
    close: usize,
}

/// What is open while scanning.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    /// A process's body, from the process's keyword.
    Process(usize),
    /// Any other bracket, a test's body, an interpolation in a text.
    Bracket,
    Text,
}

/// The cut that best shares the text between the two parts: the second
/// part (to the process's `}`) as near [`SECOND_SHARE`] % of the text as any, and
/// between a quarter and three quarters of it (further from the middle,
/// two threads gain less than the second one costs).
fn best_cut(text: &str) -> Option<Cut> {
    let share = |c: &Cut| (100 * (c.close - c.at)).abs_diff(text.len() * SECOND_SHARE);
    let best = cuts(text).into_iter().min_by_key(share)?;
    let part = best.close - best.at;
    (part * 4 >= text.len() && part * 4 <= 3 * text.len()).then_some(best)
}

/// Every place to cut: each element keyword at the start of a line directly
/// in a process's body. The scan skips comments and texts; its mistakes cost
/// only the two threads (the joint is checked).
fn cuts(text: &str) -> Vec<Cut> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    // Element starts in the open process's body, waiting for its `}`.
    let mut starts: Vec<usize> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let in_text = stack.last() == Some(&Open::Text);
        // Bytes that change nothing are passed over in one go.
        const CODE: errors::Marks = errors::marks(b"/\"([{)]}\n");
        let quiet = errors::next_marked(&bytes[i..], if in_text { &errors::TEXT_MARKS } else { &CODE });
        match quiet {
            Some(n) => i += n,
            None => break,
        }
        let byte = bytes[i];
        if in_text {
            match byte {
                b'\\' => i += 1,
                // A text ends at the end of its line: the line break counts below.
                b'"' | b'\n' => {
                    stack.pop();
                    if byte == b'\n' {
                        continue;
                    }
                }
                _ => stack.push(Open::Bracket),
            }
            i += 1;
            continue;
        }
        if let Some(end) = errors::comment_end(text, i) {
            i = end;
            continue;
        }
        match byte {
            b'"' => stack.push(Open::Text),
            b'{' if stack.is_empty() => {
                let line = text[..i].rfind('\n').map_or(0, |n| n + 1);
                let item = line + text[line..i].len() - text[line..i].trim_start().len();
                stack.push(if word_at(text, item) == Some("process") { Open::Process(item) } else { Open::Bracket });
                starts.clear();
            }
            b'(' | b'[' | b'{' => stack.push(Open::Bracket),
            b')' | b']' | b'}' => {
                if let Some(Open::Process(process)) = stack.pop() {
                    found.extend(starts.drain(..).map(|at| Cut { process, at, close: i }));
                }
            }
            b'\n' => {
                if let [Open::Process(_)] = stack.as_slice() {
                    let at = i + 1 + bytes[i + 1..].iter().take_while(|&&b| b == b' ' || b == b'\t').count();
                    if word_at(text, at).is_some_and(|w| ELEMENT_WORDS.contains(&w)) {
                        starts.push(at);
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// The word (letters, digits, `_`) at `at`, if one starts there.
fn word_at(text: &str, at: usize) -> Option<&str> {
    let rest = text.get(at..)?;
    let len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    (len > 0).then(|| &rest[..len])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parser::parse_whole;
    use std::path::{Path, PathBuf};

    fn chain(n: usize) -> String {
        let mut text = String::from("process Chain {\n    inout counter: Integer = 0\n\n    start s -> t1\n");
        for k in 1..=n {
            text.push_str(&format!("    script t{k} {{ counter = counter + 1 }} -> t{}\n", k + 1));
        }
        text.push_str(&format!("    end t{}\n}}\n", n + 1));
        text
    }

    #[test]
    fn a_large_process_is_cut_near_its_aimed_share_and_joined_into_the_whole_parse() {
        let text = chain(1000);
        assert!(text.len() > MIN_BYTES);
        let cut = best_cut(&text).expect("a cut");
        assert!(text[cut.at..].starts_with("script t"), "{:?}", &text[cut.at..cut.at + 20]);
        assert_eq!(&text[cut.close..], "}\n");
        // Within one element (about 50 bytes) of the share aimed at.
        assert!((100 * (cut.close - cut.at)).abs_diff(SECOND_SHARE * text.len()) < 100 * 60);
        let file = FileId(0);
        assert_eq!(parse(file, &text), Some(parse_whole(file, &text).unwrap()));
    }

    #[test]
    fn the_scan_passes_over_texts_comments_tests_and_nested_blocks() {
        let text = r#"import "a.proc"
test "t" {
    start P
}
process P {
    in x: Text = "a {"}"} b"
// end e
    /* script s {
 */
    script a {
        end = 1
    } -> b
	end b
}
process Q { start s -> e
  end e }"#;
        let at: Vec<&str> = cuts(text).iter().map(|c| &text[c.at..c.at + 5]).collect();
        assert_eq!(at, ["scrip", "end b", "end e"]);
        let file = FileId(0);
        let whole = parse_whole(file, text).expect("the text parses");
        for cut in cuts(text) {
            assert_eq!(split_at(file, text, &cut).as_ref(), Some(&whole), "cut at {}", cut.at);
        }
    }

    #[test]
    fn an_error_on_either_side_of_the_cut_is_left_to_the_whole_parse() {
        let file = FileId(0);
        let good = chain(3);
        for (bad, what) in [("counter = counter +\n", "an operator at the end of a line before the cut")] {
            let text = good.replacen("counter = counter + 1 }", &format!("{bad}}}"), 1);
            for cut in cuts(&text) {
                assert_eq!(split_at(file, &text, &cut), None, "{what}, cut at {}", cut.at);
            }
        }
        let text = good.replacen("-> t3", "-> t3 t4", 1);
        assert!(cuts(&text).iter().all(|cut| split_at(file, &text, cut).is_none()));
    }

    #[test]
    fn too_deep_a_nesting_on_either_side_is_left_to_the_whole_parse() {
        let file = FileId(0);
        let deep = format!("counter = {}1{} }}", "(".repeat(200), ")".repeat(200));
        for k in [1, 3] {
            for list in ["", "    var l: List<Integer> = []\n"] {
                let text = chain(3).replacen(
                    &format!("counter = counter + 1 }} -> t{}", k + 1),
                    &format!("{deep} -> t{}", k + 1),
                    1,
                );
                let text = text.replacen("\n\n", &format!("\n{list}\n"), 1);
                assert!(parse_whole(file, &text).is_err_and(|d| d.to_string().contains("too deeply nested")));
                assert!(!cuts(&text).is_empty());
                assert!(cuts(&text).iter().all(|cut| split_at(file, &text, cut).is_none()), "{text}");
            }
        }
    }

    /// Random edits (brackets, quotes, comments, keywords, separators,
    /// deletions) of a large file built from the examples and W5: the
    /// public parse gives what one thread gives, and so does every cut
    /// tried that joins. `PROCDSL_SPLIT_ROUNDS=N` runs N rounds instead of 25.
    #[test]
    fn random_edits_of_a_large_file_parse_as_one_thread_does() {
        let test = std::thread::Builder::new().stack_size(256 << 20).spawn(random_edits).expect("a thread");
        test.join().expect("the same results");
    }

    fn random_edits() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        proc_files(&root.join("examples"), &mut files);
        files.sort();
        let mut base = std::fs::read_to_string(root.join("benches/workloads/w5.proc")).expect("W5");
        for path in files.iter().take(12) {
            base.push('\n');
            base.push_str(&std::fs::read_to_string(path).expect("an example"));
        }
        assert!(base.len() > MIN_BYTES);
        const EDITS: [&str; 16] = [
            "\n",
            "}",
            "{",
            "\"",
            "/*",
            "*/",
            "//",
            ";",
            "(",
            ")",
            "List<",
            "if ",
            " -> t9",
            "\n    end e\n",
            "\n    script x { y = 1 } -> z\n",
            "\n    on error -> t3",
        ];
        let rounds = std::env::var("PROCDSL_SPLIT_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(25);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let file = FileId(0);
        let (mut joined, mut whole_ok) = (0, 0);
        for round in 0..rounds {
            let mut text = base.clone();
            for _ in 0..1 + next(3) {
                let at = (0..).map(|_| next(text.len())).find(|&i| text.is_char_boundary(i)).unwrap_or(0);
                if next(3) == 0 {
                    let end = (at + 1 + next(20)).min(text.len());
                    if text.is_char_boundary(end) {
                        text.replace_range(at..end, "");
                    }
                } else {
                    text.insert_str(at, EDITS[next(EDITS.len())]);
                }
            }
            let whole = parse_whole(file, &text).map_err(|d| format!("{d:?}"));
            whole_ok += usize::from(whole.is_ok());
            let public = crate::syntax::parse(file, &text).map_err(|d| format!("{d:?}"));
            assert_eq!(public, whole, "round {round}");
            let all = cuts(&text);
            for _ in 0..3.min(all.len()) {
                let cut = &all[next(all.len())];
                if let Some(parts) = split_at(file, &text, cut) {
                    joined += 1;
                    assert_eq!(Ok(&parts), whole.as_ref(), "round {round}, cut at {}", cut.at);
                }
            }
        }
        eprintln!("{rounds} rounds: {whole_ok} edited files parsed, {joined} cuts joined");
        assert!(joined > 0 && whole_ok > 0, "{joined} cuts joined, {whole_ok} edited files parsed");
    }

    fn proc_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                proc_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "proc") {
                out.push(path);
            }
        }
    }

    /// The examples, golden cases and workloads, whole and cut short at 20
    /// places, and the parser's fuzz corpus, cut at every element they
    /// allow (at most 40 each): whenever both parts parse, the tree is the
    /// whole parse's; and a file that parses gives a tree at every cut.
    #[test]
    fn two_parts_give_the_whole_parse_on_every_file_and_cut() {
        // The fuzz corpus nests as deep as the guard allows: a debug build needs the room.
        let test = std::thread::Builder::new().stack_size(256 << 20).spawn(every_file_and_cut).expect("a thread");
        test.join().expect("the same trees");
    }

    fn every_file_and_cut() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut texts = Vec::new();
        let mut files = Vec::new();
        for dir in ["examples", "tests/cases", "benches/workloads"] {
            proc_files(&root.join(dir), &mut files);
        }
        assert!(files.len() > 50, "the .proc files were found");
        for path in &files {
            let text = std::fs::read_to_string(path).expect("a .proc file");
            let step = (text.len() / 20).max(1);
            for end in (step..text.len()).step_by(step).filter(|&i| text.is_char_boundary(i)) {
                texts.push(text[..end].to_string());
            }
            texts.push(text);
        }
        for entry in std::fs::read_dir(root.join("fuzz/corpus/parse_check")).into_iter().flatten().flatten() {
            texts.push(String::from_utf8_lossy(&std::fs::read(entry.path()).expect("a corpus file")).into_owned());
        }
        let file = FileId(0);
        let (mut joined, mut whole_ok) = (0, 0);
        for text in &texts {
            let whole = parse_whole(file, text).ok();
            let all = cuts(text);
            let step = (all.len() / 40).max(1);
            for cut in all.iter().step_by(step) {
                let parts = split_at(file, text, cut);
                if whole.is_some() {
                    whole_ok += 1;
                    assert!(parts.is_some(), "cut at {} refused in a file that parses:\n{text}", cut.at);
                }
                if let Some(parts) = parts {
                    joined += 1;
                    assert_eq!(Some(&parts), whole.as_ref(), "cut at {}:\n{text}", cut.at);
                }
            }
        }
        assert!(joined > 500 && whole_ok > 500, "{joined} cuts joined, {whole_ok} in files that parse");
    }
}
