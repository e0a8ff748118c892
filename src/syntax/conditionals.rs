//! How many `if`s are open at once, counted before pest runs.
//!
//! pest parses `if c then a else b` by recursion: every `if` whose
//! expression has not ended yet is a frame on the stack, like an open
//! bracket. Brackets are bounded by [`super::errors`]; this bounds the
//! `if`s, so that `if if if …` or `if a then if b then …` a million deep is
//! a syntax error and not a stack overflow.
//!
//! The count may only err upwards (refusing more than needed, never less):
//! an `if` is counted until the expression holding it has certainly ended —
//! at `,`, `;`, the bracket around it closing, or a line break in a block
//! where neither the line's last token nor the next line's first one can
//! continue an expression.

/// At most this many brackets and `if`s open at once. The brackets alone
/// are bounded lower (128) by [`super::errors`]. pest's stack grows with
/// both alike: a debug build on a 2 MiB thread was measured to overflow at
/// about 240 of them together. An `if` statement's `if` is no longer open
/// once its block begins, so nested `if` blocks count once each.
pub(super) const MAX_OPEN: usize = 160;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Frame {
    /// The file itself, or a `{` that holds statements or items.
    Block,
    /// `(`, `[`, an object's `{`, or an interpolation: newlines never end
    /// an expression inside.
    Expression,
    /// Inside a text (its interpolations are `Expression` frames).
    Text,
}

/// A token, as far as this count needs one.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Token<'t> {
    Word(&'t str),
    /// A run of operator characters (`=`, `==`, `->`, `??`, `+`, `.`, …).
    Operator(&'t str),
    Open(u8),
    Close,
    /// A number, a text, or the start of the file.
    Value,
}

/// Whether `text` may hold an `if` (the two letters anywhere, inside a
/// word too). Without one, [`count`] meets only brackets: the very ones
/// `super::errors::scan` follows (texts, comments and interpolations read
/// alike), which it has already bounded below [`MAX_OPEN`] and found
/// balanced or not as `count` would. Its callers then skip the count, a
/// pass over the text that costs more than the bracket scan.
pub(super) fn may_hold_if(text: &str) -> bool {
    text.contains("if")
}

/// The offset of the first `if` or bracket past [`MAX_OPEN`], if any.
pub(super) fn too_many_open(text: &str) -> Option<usize> {
    count(text, MAX_OPEN).too_many
}

/// Whether `text`, an element reparsed alone (`super::errors::piece_keeps_nesting`),
/// stays one below the limit (its process's `{` is open around it in the
/// file), and ends as it began: nothing open, no `if` counted, nothing
/// closed that it did not open.
pub(super) fn piece_balanced(text: &str) -> bool {
    let counted = count(text, MAX_OPEN - 1);
    counted.too_many.is_none() && counted.balanced
}

/// What [`count`] found.
struct Count {
    too_many: Option<usize>,
    /// At the end, only the file's frame is open, with no `if`, and no
    /// closing bracket was met with only the file's frame open.
    balanced: bool,
}

fn count(text: &str, limit: usize) -> Count {
    let bytes = text.as_bytes();
    let mut underflow = false;
    // Each frame with the `if`s it holds open.
    let mut frames: Vec<(Frame, usize)> = vec![(Frame::Block, 0)];
    let mut total = 0usize;
    let mut prev = Token::Value;
    let mut before_prev = Token::Value;
    let mut i = 0;
    while i < bytes.len() {
        let frame = frames.last().map_or(Frame::Block, |f| f.0);
        let byte = bytes[i];
        if frame == Frame::Text {
            match byte {
                b'\\' => i += 1,
                b'"' | b'\n' => {
                    frames.pop();
                    prev = Token::Value;
                }
                b'{' => frames.push((Frame::Expression, 0)),
                _ => {}
            }
            i += 1;
            continue;
        }
        if let Some(end) = super::errors::comment_end(text, i) {
            i = end;
            continue;
        }
        let (token, end) = match byte {
            b'\n' => {
                if frame == Frame::Block && !continues(prev) && !next_continues(text, i + 1) {
                    end_expression(&mut frames, &mut total);
                }
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'"' => {
                frames.push((Frame::Text, 0));
                (Token::Value, i + 1)
            }
            b'(' | b'[' => {
                frames.push((Frame::Expression, 0));
                if open(&frames, total) > limit {
                    return Count { too_many: Some(i), balanced: false };
                }
                (Token::Open(byte), i + 1)
            }
            b'{' => {
                let kind = if expects_value(prev, before_prev) {
                    Frame::Expression
                } else {
                    // A block: the expression before it (an `if` statement's
                    // condition) has ended.
                    end_expression(&mut frames, &mut total);
                    Frame::Block
                };
                frames.push((kind, 0));
                if open(&frames, total) > limit {
                    return Count { too_many: Some(i), balanced: false };
                }
                (Token::Open(byte), i + 1)
            }
            b')' | b']' | b'}' => {
                // Unbalanced closers are pest's to report.
                underflow |= frames.len() <= 1;
                if frames.len() > 1 {
                    let (_, open) = frames.pop().unwrap_or((Frame::Block, 0));
                    total -= open;
                }
                (Token::Close, i + 1)
            }
            b',' | b';' => {
                end_expression(&mut frames, &mut total);
                (Token::Operator(&text[i..i + 1]), i + 1)
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let end = word_end(bytes, i);
                let word = &text[i..end];
                if word == "if" {
                    if let Some(last) = frames.last_mut() {
                        last.1 += 1;
                    }
                    total += 1;
                    if open(&frames, total) > limit {
                        return Count { too_many: Some(i), balanced: false };
                    }
                }
                (Token::Word(word), end)
            }
            b if b.is_ascii_digit() => (Token::Value, word_end(bytes, i)),
            b if is_operator(b) => {
                let end = i + bytes[i..].iter().take_while(|b| is_operator(**b)).count();
                (Token::Operator(&text[i..end]), end)
            }
            _ => (Token::Value, i + text[i..].chars().next().map_or(1, char::len_utf8)),
        };
        before_prev = prev;
        prev = token;
        i = end;
    }
    Count { too_many: None, balanced: !underflow && frames.len() == 1 && total == 0 }
}

/// Brackets and interpolations open, plus `if`s open.
fn open(frames: &[(Frame, usize)], ifs: usize) -> usize {
    frames.iter().filter(|f| f.0 != Frame::Text).count().saturating_sub(1) + ifs
}

fn end_expression(frames: &mut [(Frame, usize)], total: &mut usize) {
    if let Some(last) = frames.last_mut() {
        *total -= last.1;
        last.1 = 0;
    }
}

fn word_end(bytes: &[u8], start: usize) -> usize {
    start + bytes[start..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count()
}

fn is_operator(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'<' | b'>' | b'+' | b'-' | b'*' | b'/' | b'%' | b'?' | b'.' | b':')
}

/// Can an expression go on after this token, on the next line?
fn continues(token: Token) -> bool {
    match token {
        Token::Operator(_) | Token::Open(_) => true,
        Token::Word(w) => matches!(w, "if" | "then" | "else" | "not" | "and" | "or"),
        Token::Close | Token::Value => false,
    }
}

/// Does the first token at or after `from` (past blanks, line breaks and
/// comments) go on with an expression?
fn next_continues(text: &str, from: usize) -> bool {
    let mut rest = &text[from..];
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |n| &after[n..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |n| &after[n + 2..]);
        } else {
            break;
        }
    }
    let Some(&first) = rest.as_bytes().first() else { return false };
    if is_operator(first) {
        return true;
    }
    let word = &rest[..word_end(rest.as_bytes(), 0)];
    matches!(word, "then" | "else" | "and" | "or")
}

/// Is a `{` after these tokens an object (a value) rather than a block?
fn expects_value(prev: Token, before: Token) -> bool {
    match prev {
        Token::Operator(op) => op != "->",
        Token::Open(_) => true,
        // `} else {` is a statement's; `… else {` of a conditional is an object.
        Token::Word("else") => before != Token::Close,
        Token::Word(w) => matches!(w, "then" | "return" | "log" | "emit" | "fail" | "in" | "not" | "and" | "or"),
        Token::Close | Token::Value => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_and_blocks_in_sequence_do_not_add_up() {
        let line = "X = if a then 1 else 2\n";
        assert_eq!(too_many_open(&format!("process P {{ script S {{ {} }} }}", line.repeat(1000))), None);
        let nested = format!("{}X = 1{}", "if true {\n".repeat(120), "\n}".repeat(120));
        assert_eq!(too_many_open(&nested), None);
        let list = format!("[{}]", "if a then 1 else 2, ".repeat(1000));
        assert_eq!(too_many_open(&list), None);
    }

    /// `may_hold_if`'s promise, on the texts that matter: bracket runs up to
    /// the bracket guard's limit, with texts, interpolations, comments and
    /// unbalanced ends, none holding an `if`.
    #[test]
    fn without_an_if_the_count_finds_what_the_bracket_scan_found() {
        let max = super::super::errors::MAX_BRACKETS;
        let mut passed = 0;
        let mut texts = vec![
            format!("X = {}1{}", "(".repeat(max), ")".repeat(max)),
            format!("X = {}1{}", "(".repeat(max - 2), ")".repeat(max - 2)),
            format!("X = {}1", "[".repeat(max)),
            format!("log \"{}\"", "{(".repeat(max / 2)),
            "X = 1)".to_owned(),
            "X = \"open text\nY = {".to_owned(),
            "/* ( [ { */ X = (1) // ) ] }\n".to_owned(),
            "X = \"a{b}c\\\"\" + {d: [1, 2]}".to_owned(),
        ];
        texts.extend(texts.clone().iter().map(|t| format!("script S {{ {t} }}")));
        for text in &texts {
            assert!(!may_hold_if(text), "{text}");
            assert_eq!(too_many_open(text), None, "{text}");
            // Where the bracket scan passes a piece, so does the count.
            if super::super::errors::piece_keeps_nesting_without_count(text) {
                passed += 1;
                assert!(piece_balanced(text), "{text}");
            }
        }
        assert!(passed >= 4, "the balanced texts pass the bracket scan");
    }

    #[test]
    fn ifs_open_at_once_are_counted_across_lines_and_brackets() {
        assert!(too_many_open(&"if ".repeat(300)).is_some());
        assert!(too_many_open(&"if a then ".repeat(300)).is_some());
        // Inside an object, a line break never ends the expression.
        assert!(too_many_open(&format!("X = {{a: {}}}", "if x\nthen ".repeat(300))).is_some());
        assert!(too_many_open(&format!("X = {}", "if x\n then ".repeat(300))).is_some());
        assert!(too_many_open(&format!("X = {}", "(if x then if x then ".repeat(60))).is_some());
        assert!(too_many_open(&format!("log \"{}\"", "{if x then \"".repeat(90))).is_some());
        assert_eq!(too_many_open(&format!("X = {}", "(if x then ".repeat(80))), None);
    }
}
