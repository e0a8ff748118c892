//! Syntax errors: pest's failures turned into diagnostics in the user's words,
//! the human name of every grammar rule, and the nesting guard run before pest.

use super::parser::Rule;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};
use pest::error::{ErrorVariant, InputLocation};

const CODE: &str = "procdsl::syntax";

/// Brackets (`(`, `[`, `{`, `List<`) and text interpolations nested deeper
/// than this are refused before pest runs, so that its recursion stays
/// well inside the stack.
pub(super) const MAX_BRACKETS: usize = 128;

/// Words the parser refuses as names (the LSP's rename refuses them too).
pub const RESERVED: [&str; 19] = [
    "let", "if", "then", "else", "while", "for", "in", "break", "continue", "return", "fail", "log", "emit", "true",
    "false", "null", "and", "or", "not",
];

/// Whether `name` is one of [`RESERVED`].
pub fn is_reserved(name: &str) -> bool {
    RESERVED.contains(&name)
}

pub(super) fn reserved_word(span: Span, name: &str) -> Diagnostic {
    Diagnostic::error(CODE, format!("`{name}` is a reserved word and cannot be a name"))
        .with_label(span, "reserved word")
        .with_help(format!("choose another name; the reserved words are: {}", RESERVED.join(", ")))
}

/// Refuses text whose brackets nest deeper than [`MAX_BRACKETS`].
pub(super) fn check_nesting(file: FileId, text: &str) -> Result<(), Diagnostic> {
    match scan(text, text.len(), MAX_BRACKETS).too_deep {
        Some(i) => {
            let span = Span::new(file, i, i + 1);
            Err(Diagnostic::error(CODE, "too deeply nested")
                .with_label(span, format!("more than {MAX_BRACKETS} brackets are open here"))
                .with_help("split the expression or the type into smaller parts"))
        }
        None if !super::conditionals::may_hold_if(text) => Ok(()),
        None => match super::conditionals::too_many_open(text) {
            Some(i) => Err(Diagnostic::error(CODE, "too deeply nested")
                .with_label(
                    Span::new(file, i, i + 2),
                    format!("more than {} brackets and `if`s are open here", super::conditionals::MAX_OPEN),
                )
                .with_help("compute the inner conditions first with `let`, or use an `if` statement")),
            None => Ok(()),
        },
    }
}

/// Whether the nesting guard gives a whole file the same verdict with
/// `piece` in it as it gave the file before: `piece` is one element of a
/// process (from its keyword to the next item), in a file where it replaces
/// another, and neither file holds the word `List` (whose `<` the guard
/// counts as a bracket, which a comparison such as `List < 3` leaves open).
///
/// Such a file was refused or passed by the guard before the element
/// changed (it parsed); the element starts with only its process's `{`
/// open. If the piece alone stays one below both limits and ends with
/// nothing open and nothing closed that it did not open, the guard sees
/// the same prefix, the same state after the piece, and so the same rest:
/// the file passes. Otherwise the caller runs the guard over the file.
pub(super) fn piece_keeps_nesting(piece: &str) -> bool {
    piece_keeps_nesting_without_count(piece)
        && (!super::conditionals::may_hold_if(piece) || super::conditionals::piece_balanced(piece))
}

/// The bracket scan's half of [`piece_keeps_nesting`].
pub(super) fn piece_keeps_nesting_without_count(piece: &str) -> bool {
    let s = scan(piece, piece.len(), MAX_BRACKETS - 1);
    s.too_deep.is_none() && s.open.is_empty() && !s.underflow
}

/// What is open at a point of the text.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Frame {
    /// `(`, `[` or `{`, with the byte that opened it.
    Bracket(u8),
    /// `List<`.
    Angle,
    /// `{` inside a text.
    Interpolation,
    Text,
}

/// One open frame and the offset of what opened it.
#[derive(Clone, Copy, Debug)]
struct Open {
    frame: Frame,
    at: usize,
}

/// What [`scan`] found.
struct Scan {
    /// What is still open, innermost last.
    open: Vec<Open>,
    /// Where more than the limit of brackets were open, if anywhere.
    too_deep: Option<usize>,
    /// The first `{` closed by a `}` that starts a line less indented than
    /// the `{`'s own line: most often, the `}` of an inner block is missing
    /// and this `}` was meant for an outer one.
    misaligned: Option<usize>,
    /// A closing bracket found nothing open.
    underflow: bool,
}

/// Which bytes a scan before pest must stop at; it passes over the rest.
pub(super) type Marks = [bool; 256];

/// The marks for `bytes`.
pub(super) const fn marks(bytes: &[u8]) -> Marks {
    let mut marks = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        marks[bytes[i] as usize] = true;
        i += 1;
    }
    marks
}

/// Inside a text, what ends it or opens an interpolation (or escapes either).
pub(super) const TEXT_MARKS: Marks = marks(b"\\\"\n{");

/// Where the first marked byte of `bytes` is. A table, rather than a
/// `match` on a dozen bytes, costs the same few instructions for any byte:
/// most of a text is passed over here.
pub(super) fn next_marked(bytes: &[u8], marks: &Marks) -> Option<usize> {
    bytes.iter().position(|&b| marks[usize::from(b)])
}

/// Where the comment that starts at `i` ends, if one does: a line comment
/// at its line break, a block comment after its `*/` (or the text's end).
/// Every scan that runs before pest skips comments with this.
pub(super) fn comment_end(text: &str, i: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.get(i) != Some(&b'/') {
        return None;
    }
    match bytes.get(i + 1) {
        Some(b'/') => Some(text[i..].find('\n').map_or(bytes.len(), |n| i + n)),
        Some(b'*') => Some(text[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2)),
        _ => None,
    }
}

/// Walks `text` up to offset `end` and returns what is still open there.
/// Stops early where more than `limit` brackets and interpolations are
/// open. Skips comments and escapes; a `{` inside a text opens an
/// interpolation; a text ends at the end of its line.
fn scan(text: &str, end: usize, limit: usize) -> Scan {
    let bytes = text.as_bytes();
    let end = end.min(bytes.len());
    let mut stack: Vec<Open> = Vec::new();
    let mut depth = 0usize;
    let mut misaligned = None;
    let mut underflow = false;
    let mut i = 0;
    while i < end {
        let in_text = stack.last().is_some_and(|o| o.frame == Frame::Text);
        // Bytes that change nothing are passed over in one go: the editor
        // runs this scan over the whole text on every keystroke.
        const CODE_MARKS: Marks = marks(b"/\"([{<>)]}");
        let quiet = next_marked(&bytes[i..end], if in_text { &TEXT_MARKS } else { &CODE_MARKS });
        match quiet {
            Some(0) => {}
            Some(n) => {
                i += n;
                continue;
            }
            None => break,
        }
        let byte = bytes[i];
        let mut open = |frame: Frame, depth: &mut usize| {
            stack.push(Open { frame, at: i });
            if frame != Frame::Text {
                *depth += 1;
            }
        };
        if in_text {
            match byte {
                b'\\' => i += 1,
                b'"' | b'\n' => {
                    stack.pop();
                }
                b'{' => open(Frame::Interpolation, &mut depth),
                _ => {}
            }
        } else if let Some(end) = comment_end(text, i) {
            i = end;
            continue;
        } else {
            match byte {
                b'"' => open(Frame::Text, &mut depth),
                b'(' | b'[' | b'{' => open(Frame::Bracket(byte), &mut depth),
                b'<' if text[..i].trim_end().ends_with("List") => open(Frame::Angle, &mut depth),
                b'>' if stack.last().is_some_and(|o| o.frame == Frame::Angle) => {
                    stack.pop();
                    depth -= 1;
                }
                b')' | b']' | b'}' => {
                    // Unbalanced closers are pest's to report.
                    underflow |= stack.iter().all(|o| o.frame == Frame::Text);
                    while let Some(open) = stack.pop() {
                        if open.frame != Frame::Text {
                            depth -= 1;
                            if open.frame == Frame::Bracket(b'{') && misaligned.is_none() {
                                let closer = line_indent(text, i);
                                if closer.1 && closer.0 < line_indent(text, open.at).0 {
                                    misaligned = Some(open.at);
                                }
                            }
                            break;
                        }
                    }
                }
                _ => {}
            }
        }
        if depth > limit {
            return Scan { open: stack, too_deep: Some(i), misaligned, underflow };
        }
        i += 1;
    }
    Scan { open: stack, too_deep: None, misaligned, underflow }
}

/// The indentation (in columns, a tab as 4) of the line holding byte `at`,
/// and whether only blanks come before `at` on it.
fn line_indent(text: &str, at: usize) -> (usize, bool) {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let blanks = text[start..at].bytes().take_while(|b| matches!(b, b' ' | b'\t'));
    let indent = blanks.clone().map(|b| if b == b'\t' { 4 } else { 1 }).sum();
    (indent, start + blanks.count() == at)
}

/// An expression whose tree would be deeper than the parser allows.
pub(super) fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::error(CODE, "expression nested too deeply")
        .with_label(span, "this expression nests too deeply")
        .with_help("split it into several statements with `let`")
}

pub(super) fn integer_too_large(span: Span, digits: &str, negative: bool) -> Diagnostic {
    let sign = if negative { "-" } else { "" };
    Diagnostic::error(CODE, format!("integer literal `{sign}{digits}` is too large"))
        .with_label(span, "does not fit in a 64-bit Integer")
        .with_help("Integers range from -9223372036854775808 to 9223372036854775807; write a decimal such as `1.0` for larger numbers")
}

pub(super) fn bad_decimal(span: Span, digits: &str) -> Diagnostic {
    Diagnostic::error(CODE, format!("decimal literal `{digits}` cannot be represented exactly"))
        .with_label(span, "too many digits")
        .with_help("a Decimal holds at most 28 significant digits")
}

pub(super) fn bad_escape(span: Span, escape: &str) -> Diagnostic {
    Diagnostic::error(CODE, format!("unknown escape `{escape}` in a text"))
        .with_label(span, "unknown escape")
        .with_help(r#"the escapes are \n \t \r \" \\ \{ \} and \u{XXXX}"#)
}

pub(super) fn interpolation_not_allowed(span: Span) -> Diagnostic {
    Diagnostic::error(CODE, "this text must be plain: `{…}` interpolation is not allowed here")
        .with_label(span, "interpolation")
        .with_help(r"captions, UIds, import paths, signal names and durations are fixed texts; write `\{` for a brace")
}

/// A pair the grammar guarantees was missing: a bug in the parser, reported
/// rather than panicking.
pub(super) fn internal(span: Span, rule: Rule) -> Diagnostic {
    Diagnostic::error(CODE, format!("internal parser error: {} missing", rule_name(rule)))
        .with_label(span, "while reading this")
}

/// Turns pest's failure into a diagnostic: what was expected at the furthest
/// position pest reached, and what was found there.
pub(super) fn from_pest(file: FileId, text: &str, error: pest::error::Error<Rule>) -> Diagnostic {
    let pos = match error.location {
        InputLocation::Pos(pos) => pos,
        InputLocation::Span((start, _)) => start,
    };
    let pos = pos.min(text.len());
    let rest = text.get(pos..).unwrap_or("");
    let token = token_at(rest);
    let span = Span::new(file, pos, pos + token.len());
    let found = describe(rest, token);

    if rest.starts_with("/*") {
        return Diagnostic::error(CODE, "unterminated comment: `/*` has no matching `*/`")
            .with_label(Span::new(file, pos, pos + 2), "comment starts here");
    }
    let (positives, negatives) = match error.variant {
        ErrorVariant::ParsingError { positives, negatives } => (positives, negatives),
        ErrorVariant::CustomError { message } => {
            return Diagnostic::error(CODE, message).with_label(span, "here");
        }
    };
    let scan = scan(text, pos, usize::MAX);
    let open = scan.open;
    if let Some(brace) = open.iter().rev().find(|o| o.frame == Frame::Interpolation) {
        // Inside `{…}` of a text: most often a brace meant as a brace.
        let message = if positives.iter().any(|r| matches!(r, Rule::text_chars | Rule::escape)) {
            format!("unterminated text: expected the closing `\"`, found {found}")
        } else {
            format!(
                "expected {} in the interpolation `{{…}}` of a text, found {found}",
                join(&expected_names(&positives))
            )
        };
        return Diagnostic::error(CODE, message)
            .with_label(span, "the interpolation needs a closing `}` before this")
            .with_label(Span::new(file, brace.at, brace.at + 1), "this `{` starts an interpolation")
            .with_help(r"for a brace in a text, write `\{` (and `\}`)");
    }
    if positives.iter().any(|r| matches!(r, Rule::text_chars | Rule::escape)) {
        return Diagnostic::error(CODE, format!("unterminated text: expected the closing `\"`, found {found}"))
            .with_label(span, "the text needs a closing `\"` before this")
            .with_help(r#"a text ends on the line where it starts; write `\n` for a line break and `\"` for a quote"#);
    }
    if positives.contains(&Rule::ident) && is_reserved(token) {
        return reserved_word(span, token);
    }

    // The only `!lbrace` of the grammar: `until` with no condition before the body.
    if positives.is_empty() && negatives == [Rule::lbrace] {
        return Diagnostic::error(CODE, format!("expected the condition of `until`, found {found}"))
            .with_label(span, "the condition goes before the body")
            .with_help("`until` takes a condition over the instance's parameters, e.g. `until Rejected`");
    }
    let mut expected = expected_names(&positives);
    let unclosed = open.iter().rev().find(|o| o.frame == Frame::Bracket(b'{'));
    let at_end_unclosed = rest.is_empty() && positives.contains(&Rule::rbrace);
    if at_end_unclosed {
        // At the end of the file, the missing `}` is what matters.
        expected = vec![rule_name(Rule::rbrace)];
    }
    let message = if !expected.is_empty() {
        format!("expected {}, found {found}", join(&expected))
    } else if !negatives.is_empty() {
        let unexpected: Vec<&str> = negatives.iter().map(|&r| rule_name(r)).collect();
        format!("unexpected {}: {found}", join(&unexpected))
    } else {
        format!("unexpected {found}")
    };
    let label =
        if expected.is_empty() { "unexpected here".to_owned() } else { format!("expected {}", join(&expected)) };
    let mut d = Diagnostic::error(CODE, message).with_label(span, label);
    match (unclosed, scan.misaligned) {
        (Some(brace), _) if at_end_unclosed => {
            d = d
                .with_label(Span::new(file, brace.at, brace.at + 1), "this `{` is never closed")
                .with_help("add the missing `}`");
        }
        (_, Some(at)) => {
            d = d
                .with_label(Span::new(file, at, at + 1), "is this `{` closed?")
                .with_help("the `}` that closes this `{` is indented less than its line: is a `}` missing?");
        }
        _ => {}
    }
    if token.starts_with('=') && !token.starts_with("==") && positives.iter().any(|&r| is_operator(r)) {
        d = d.with_help("`=` assigns a value; to compare two values, write `==`");
    } else if token.starts_with(['\'', '‘', '’']) {
        d = d.with_help(r#"texts use double quotes: "like this""#);
    } else if positives.contains(&Rule::kw_else)
        && positives.iter().any(|&r| is_operator(r))
        && !positives.iter().any(|r| matches!(r, Rule::sep | Rule::seps | Rule::item_end))
    {
        d = d.with_help("`if … then …` as a value needs `else …`; to do something only when a condition holds, write an `if` statement: `if c { … }`");
    }
    d
}

/// What pest expected, in the order a reader looks for it. Where an operand
/// may start pest lists every kind of operand; that is said "an expression".
fn expected_names(positives: &[Rule]) -> Vec<&'static str> {
    let operand = positives.iter().filter(|&&r| starts_operand(r)).count() >= 3;
    let mut expected: Vec<(u8, &str)> = Vec::new();
    // `deadline` and `every` may follow any element, but are seldom what was
    // missed there: named only when nothing else could come.
    let optional = |r: &Rule| matches!(r, Rule::kw_deadline | Rule::kw_every);
    let only_optional = positives.iter().all(optional);
    // Inside a `test` block `start` and `signal` begin steps, not elements.
    let in_test = positives.contains(&Rule::kw_expect);
    for &rule in positives {
        if optional(&rule) && !only_optional {
            continue;
        }
        let name = if operand && starts_operand(rule) {
            "an expression"
        } else if in_test
            && matches!(
                rule,
                Rule::kw_start
                    | Rule::kw_signal
                    | Rule::kw_now
                    | Rule::kw_exec
                    | Rule::kw_advance
                    | Rule::kw_mock
                    | Rule::kw_expect
            )
        {
            rule_name(Rule::test_step)
        } else {
            expected_name(rule)
        };
        let name = (rank(rule), name);
        if !expected.contains(&name) {
            expected.push(name);
        }
    }
    expected.sort_by_key(|&(rank, _)| rank);
    expected.into_iter().map(|(_, name)| name).collect()
}

/// The token starting `rest`: a word, a number, an operator or one character.
fn token_at(rest: &str) -> &str {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let is_operator = |c: char| "+-*/%=<>!?.&|".contains(c);
    let Some(first) = rest.chars().next() else {
        return "";
    };
    let end = if is_word(first) {
        rest.find(|c: char| !is_word(c)).unwrap_or(rest.len())
    } else if is_operator(first) {
        rest.char_indices()
            .take(3)
            .take_while(|&(_, c)| is_operator(c))
            .map(|(i, c)| i + c.len_utf8())
            .last()
            .unwrap_or(1)
    } else if first == '\r' && rest[1..].starts_with('\n') {
        2
    } else {
        first.len_utf8()
    };
    &rest[..end]
}

fn describe(rest: &str, token: &str) -> String {
    match token {
        "" => "the end of the file".to_owned(),
        "\n" | "\r\n" => "the end of the line".to_owned(),
        _ if rest.starts_with('"') => "a text".to_owned(),
        _ => format!("`{token}`"),
    }
}

/// `a`, `a or b`, `a, b, or c`.
fn join(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [first, second] if first.contains(" or ") || second.contains(" or ") => {
            format!("{first}, or {second}")
        }
        [first, second] => format!("{first} or {second}"),
        [init @ .., last] => format!("{}, or {last}", init.join(", ")),
    }
}

/// The name of an expected rule, with the many ways to continue an
/// expression said as "an operator" and every element kind as "an element".
fn expected_name(rule: Rule) -> &'static str {
    if is_operator(rule) {
        "an operator"
    } else if is_element_keyword(rule) {
        "an element"
    } else {
        rule_name(rule)
    }
}

/// Where an expected thing goes in the message: what most likely was
/// missed first, operators after, and the ends of lines and blocks last.
fn rank(rule: Rule) -> u8 {
    match rule {
        Rule::arrow | Rule::flow => 0,
        _ if is_operator(rule) => 2,
        Rule::item_end | Rule::rbrace | Rule::EOI => 3,
        _ => 1,
    }
}

fn starts_operand(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::ident
            | Rule::kw_if
            | Rule::conditional
            | Rule::ident_expr
            | Rule::number
            | Rule::text
            | Rule::word_literal
            | Rule::lbrace
            | Rule::lparen
            | Rule::lbracket
            | Rule::list
            | Rule::object
            | Rule::paren
            | Rule::prefix
    )
}

fn is_element_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_start
            | Rule::kw_end
            | Rule::kw_terminate
            | Rule::kw_script
            | Rule::kw_exclusive
            | Rule::kw_inclusive
            | Rule::kw_parallel
            | Rule::kw_user
            | Rule::kw_timer
            | Rule::kw_signal
            | Rule::kw_call
    )
}

fn is_operator(rule: Rule) -> bool {
    matches!(rule, Rule::infix | Rule::field_access | Rule::index | Rule::call_args)
}

/// What a user calls each rule. Every rule is named here, so no raw rule
/// name reaches a message.
pub(super) fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "the end of the file",
        Rule::WHITESPACE => "a space or a comment",
        Rule::NL => "a new line",
        Rule::sep | Rule::seps | Rule::item_end => "a new line or `;`",
        Rule::ident => "a name",
        Rule::kw_import => "`import`",
        Rule::kw_process => "`process`",
        Rule::kw_caption => "`caption`",
        Rule::kw_uid => "`uid`",
        Rule::kw_in => "`in`",
        Rule::kw_out => "`out`",
        Rule::kw_inout => "`inout`",
        Rule::kw_var => "`var`",
        Rule::kw_start => "`start`",
        Rule::kw_end => "`end`",
        Rule::kw_terminate => "`terminate`",
        Rule::kw_script => "`script`",
        Rule::kw_exclusive => "`exclusive`",
        Rule::kw_inclusive => "`inclusive`",
        Rule::kw_parallel => "`parallel`",
        Rule::kw_user => "`user`",
        Rule::kw_timer => "`timer`",
        Rule::kw_signal => "`signal`",
        Rule::kw_call => "`call`",
        Rule::kw_when => "`when`",
        Rule::kw_else => "`else`",
        Rule::kw_done => "`done`",
        Rule::kw_after => "`after`",
        Rule::kw_at => "`at`",
        Rule::kw_on => "`on error`",
        Rule::kw_error => "`error`",
        Rule::kw_let => "`let`",
        Rule::kw_if => "`if`",
        Rule::kw_then => "`then`",
        Rule::conditional => "`if … then … else …`",
        Rule::expr_nl_cond => "an expression",
        Rule::kw_while => "`while`",
        Rule::kw_for => "`for`",
        Rule::kw_break => "`break`",
        Rule::kw_continue => "`continue`",
        Rule::kw_return => "`return`",
        Rule::kw_fail => "`fail`",
        Rule::kw_log => "`log`",
        Rule::kw_emit => "`emit`",
        Rule::kw_list => "`List`",
        Rule::kw_to => "`to`",
        Rule::kw_deadline => "`deadline`",
        Rule::kw_every => "`every`",
        Rule::kw_each => "`each`",
        Rule::kw_until => "`until`",
        Rule::for_each => "`for each X in List`",
        Rule::for_until => "`until` and a condition",
        Rule::deadline => "`deadline \"duration\" -> Target`",
        Rule::deadline_at => "`at` and a date-time",
        Rule::every => "`every \"duration\" -> Target`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::langle => "`<`",
        Rule::rangle => "`>`",
        Rule::comma => "`,`",
        Rule::colon => "`:`",
        Rule::arrow => "`->`",
        Rule::assign_eq => "`=`",
        Rule::range_op => "`..`",
        Rule::file => "a process or an import",
        Rule::file_item => "`process` or `import`",
        Rule::import => "`import \"path\"`",
        Rule::process => "`process`",
        Rule::process_item => "a parameter, an element, `caption` or `uid`",
        Rule::process_items => "a parameter, an element, `caption` or `uid`",
        Rule::caption_item => "`caption \"…\"`",
        Rule::uid_item => "`uid \"…\"`",
        Rule::param => "a parameter",
        Rule::direction => "`in`, `out`, `inout` or `var`",
        Rule::type_expr => "a type",
        Rule::type_list => "`List<…>`",
        Rule::type_object => "an object type `{ Name: Type, … }`",
        Rule::type_field => "an attribute `Name: Type`",
        Rule::element => "an element",
        Rule::el_head => "the element's name",
        Rule::el_uid => "`uid \"…\"`",
        Rule::flow_tail | Rule::flow => "`->` and the next element",
        Rule::clause_ahead => "`on error`, `deadline` or `every`",
        Rule::on_error => "`on error -> Handler`",
        Rule::start_el => "`start`",
        Rule::end_el => "`end`",
        Rule::terminate_el => "`terminate`",
        Rule::script_el => "`script`",
        Rule::exclusive_el => "`exclusive`",
        Rule::inclusive_el => "`inclusive`",
        Rule::parallel_el => "`parallel`",
        Rule::user_el => "`user`",
        Rule::timer_el => "`timer`",
        Rule::signal_el => "`signal`",
        Rule::call_el => "`call`",
        Rule::branches => "the branches `{ when … -> … }`",
        Rule::branch => "`when condition -> Target` or `else -> Target`",
        Rule::user_body => "the fields `{ in Field: Type … }`",
        Rule::user_item => "a field `in Name: Type` or `done { … }`",
        Rule::field => "a field `in Name: Type`",
        Rule::done => "`done { … }`",
        Rule::user_to => "`to` and who may execute the task",
        Rule::timer_after => "`after \"duration\"`",
        Rule::timer_at => "`at` and a date-time",
        Rule::call_body => "the mappings `{ Input = … Output -> … }`",
        Rule::mapping => "`Input = expression` or `Output -> Parameter`",
        Rule::output_map => "`Output -> Parameter`",
        Rule::input_map => "`Input = expression`",
        Rule::block => "a block `{ … }`",
        Rule::stmt => "a statement",
        Rule::let_stmt => "`let`",
        Rule::if_stmt => "`if`",
        Rule::while_stmt => "`while`",
        Rule::for_stmt => "`for`",
        Rule::break_stmt => "`break`",
        Rule::continue_stmt => "`continue`",
        Rule::return_stmt => "`return`",
        Rule::fail_stmt => "`fail`",
        Rule::log_stmt => "`log`",
        Rule::emit_stmt => "`emit`",
        Rule::assign_stmt => "an assignment",
        Rule::place => "a name to assign to",
        Rule::expr_stmt => "a statement",
        Rule::expr | Rule::expr_nl | Rule::operand | Rule::operand_nl | Rule::primary => "an expression",
        Rule::prefix => "`not` or `-`",
        Rule::word_literal => "`true`, `false` or `null`",
        Rule::infix => "an operator",
        Rule::postfix => "`.`, `[` or `(`",
        Rule::field_access => "`.name`",
        Rule::index => "`[index]`",
        Rule::paren => "`(`",
        Rule::ident_expr => "a name",
        Rule::call_args => "`(arguments)`",
        Rule::list => "a list `[…]`",
        Rule::object => "an object `{ Name: value, … }`",
        Rule::obj_entry => "an attribute `Name: value`",
        Rule::number => "a number",
        Rule::text => "a text `\"…\"`",
        Rule::text_chars => "more text",
        Rule::escape => "an escape",
        Rule::interpolation => "an interpolation `{…}`",
        Rule::snippet | Rule::snippet_body => "a statement or an expression",
        // Tests (`test "name" { … }`).
        Rule::kw_test | Rule::test => "`test`",
        Rule::kw_now | Rule::step_now => "`now`",
        Rule::kw_exec | Rule::step_exec => "`exec`",
        Rule::kw_advance | Rule::step_advance => "`advance`",
        Rule::kw_mock | Rule::step_mock => "`mock`",
        Rule::kw_waits | Rule::mock_waits => "`waits`",
        Rule::kw_expect | Rule::step_expect => "`expect`",
        Rule::kw_status | Rule::expect_status => "`status`",
        Rule::kw_waiting | Rule::expect_waiting => "`waiting`",
        Rule::kw_passed | Rule::expect_passed => "`passed`",
        Rule::kw_not | Rule::expect_not_passed => "`not passed`",
        Rule::kw_contains => "`contains`",
        Rule::expect_log => "`log contains`",
        Rule::expect_error => "`error contains`",
        Rule::test_step => "a test step (`start`, `exec`, `signal`, `advance`, `mock`, `expect`, `now`)",
        Rule::step_start => "`start`",
        Rule::step_signal => "`signal`",
        Rule::step_index => "`[index]`",
        Rule::advance_to => "`to`",
        Rule::mock_fail => "`fail`",
        Rule::step_values | Rule::step_value => "values `{ Name = value, … }`",
        Rule::names => "element names",
    }
}
