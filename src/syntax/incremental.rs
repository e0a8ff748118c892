//! Reparsing only what an edit changed: the editor's keystroke in a large
//! file costs the parse of one element, not of the whole file.
//!
//! The changed bytes are found by comparing the old text with the new (their
//! common prefix and suffix). If they lie within one element of a process —
//! from its keyword to the next item, the blanks, comments and separators
//! after it included — that piece of the new text is parsed on its own with
//! the element's rule, and must be one element followed only by blanks,
//! comments and separators; otherwise the same is tried with the whole
//! `process` or `test` around the change. The new node takes the old one's
//! place and every span after it moves by the change in length. Anything
//! else — an edit across items, a piece that does not parse alone, a
//! neighbour the piece could run into — gives `None`, and the caller parses
//! the whole file: the result is always what [`super::parse`] gives.
//!
//! Why a piece parsed alone means what it means in the file: every element
//! starts with its kind's keyword and every top-level item with `process` or
//! `test`, which nothing before them can take as its own continuation; what
//! follows the piece is the next item's keyword or the closing `}` (or the
//! end of the file), which no element or item can take either; and between
//! them lie only blanks, comments and separators, as the grammar asks.
//!
//! The nesting guard that runs before pest (`errors::check_nesting`) counts
//! brackets and `if`s across the whole text; an element's piece is judged
//! alone when that gives the whole file's verdict
//! (`errors::piece_keeps_nesting`), and the whole text is scanned otherwise.

use super::ast::*;
use super::errors;
use super::parser::{Builder, Grammar, Rule};
use crate::source::{FileId, Span};
use pest::Parser as _;

/// One node parsed anew, to take the place of the old one.
pub struct Splice {
    target: Target,
    /// Where the replaced piece began and ended in the old text.
    old_start: u32,
    old_end: u32,
    /// How much longer the new piece is (negative when shorter).
    delta: i64,
}

enum Target {
    /// The text is the same: so is the tree.
    Nothing,
    Element {
        process: usize,
        index: usize,
        element: Box<Element>,
    },
    Process {
        index: usize,
        process: Box<Process>,
    },
    Test {
        index: usize,
        test: Box<Test>,
    },
}

/// Where the element or item reparsed lies: the piece of text, and what must follow it.
struct Piece {
    start: usize,
    /// The end of the blanks after the node, in the old text.
    old_end: usize,
    /// Something other than `}` or the end of the file follows: the gap must hold a separator.
    needs_sep: bool,
}

/// Reparses `new_text`, which was `old_text` (parsed into `old`) before an
/// edit: the same result as `parse(file, new_text)`, at the cost of one
/// element or item when the edit lies within one.
pub fn reparse(file: FileId, old_text: &str, old: &File, new_text: &str) -> super::parser::Result<File> {
    match plan(file, old_text, old, new_text) {
        Some(splice) => Ok(splice.apply(old.clone())),
        None => super::parse(file, new_text),
    }
}

/// Parses the changed element or item of `new_text` alone, if the edit from
/// `old_text` (parsed into `old`) allows it; [`Splice::apply`] then puts it
/// into the old tree. `None`: parse the whole file.
pub fn plan(file: FileId, old_text: &str, old: &File, new_text: &str) -> Option<Splice> {
    let (start, old_changed_end, new_changed_end) = changed(old_text, new_text);
    if start == old_changed_end && start == new_changed_end {
        return Some(Splice { target: Target::Nothing, old_start: 0, old_end: 0, delta: 0 });
    }
    let delta = new_changed_end as i64 - old_changed_end as i64;
    // The nesting guard reads the whole text (a bracket's depth depends on
    // what is open around it), unless an element's piece alone can tell
    // (`errors::piece_keeps_nesting`); a scan, not a parse, either way.
    let whole_guard = || errors::check_nesting(file, new_text).ok();
    let within = |piece: &Piece| piece.start <= start && old_changed_end <= piece.old_end;
    // The process or test holding the change.
    let (item, piece) = top_level_pieces(old_text, old).find(|(_, piece)| within(piece))?;
    if let TopLevel::Process(k) = item {
        let p = &old.processes[k];
        if let Some((index, piece)) = element_piece(old_text, p, start) {
            if within(&piece) {
                let alone = new_text.get(piece.start..usize::try_from(piece.old_end as i64 + delta).ok()?)?;
                let no_list = !old_text.contains("List") && !new_text.contains("List");
                if !(no_list && errors::piece_keeps_nesting(alone)) {
                    whole_guard()?;
                }
                let (element, _) = parse_piece(file, new_text, &piece, delta, |b, pair| b.element(pair))?;
                return Some(Splice {
                    target: Target::Element { process: k, index, element: Box::new(element) },
                    old_start: piece.start as u32,
                    old_end: piece.old_end as u32,
                    delta,
                });
            }
        }
    }
    whole_guard()?;
    let target = match item {
        TopLevel::Process(index) => {
            let (process, rule) = parse_piece(file, new_text, &piece, delta, |b, pair| b.process(pair))?;
            (rule == Rule::process).then_some(Target::Process { index, process: Box::new(process) })?
        }
        TopLevel::Test(index) => {
            let (test, rule) = parse_piece(file, new_text, &piece, delta, |b, pair| b.test(pair))?;
            (rule == Rule::test).then_some(Target::Test { index, test: Box::new(test) })?
        }
    };
    Some(Splice { target, old_start: piece.start as u32, old_end: piece.old_end as u32, delta })
}

impl Splice {
    /// The old tree with the new node in place and the spans after it moved.
    pub fn apply(self, mut file: File) -> File {
        if let Target::Nothing = self.target {
            return file;
        }
        let (start, end, delta) = (self.old_start, self.old_end, self.delta);
        let mut shift = |span: &mut Span| {
            if span.start >= end {
                span.start = (span.start as i64 + delta) as u32;
            }
            if span.end >= end {
                span.end = (span.end as i64 + delta) as u32;
            }
        };
        // Nodes that end before the piece keep their spans: only what follows is walked.
        let after = |span: &Span| span.end >= start;
        for import in file.imports.iter_mut().filter(|i| after(&i.span)) {
            import.spans(&mut shift);
        }
        for (k, p) in file.processes.iter_mut().enumerate().filter(|(_, p)| after(&p.span)) {
            match &self.target {
                Target::Element { process, index, .. } if *process == k => {
                    p.name.spans(&mut shift);
                    p.captions.spans(&mut shift);
                    p.uids.spans(&mut shift);
                    p.params.spans(&mut shift);
                    shift(&mut p.span);
                    p.elements[index + 1..].spans(&mut shift);
                }
                _ => p.spans(&mut shift),
            }
        }
        for t in file.tests.iter_mut().filter(|t| after(&t.span)) {
            t.spans(&mut shift);
        }
        match self.target {
            Target::Element { process, index, element } => file.processes[process].elements[index] = *element,
            Target::Process { index, process } => file.processes[index] = *process,
            Target::Test { index, test } => file.tests[index] = *test,
            Target::Nothing => {}
        }
        file
    }
}

/// The first byte that differs, and where the differing bytes end in the old and the new text.
fn changed(old: &str, new: &str) -> (usize, usize, usize) {
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let room = a.len().min(b.len()) - prefix;
    let suffix = a.iter().rev().zip(b.iter().rev()).take(room).take_while(|(x, y)| x == y).count();
    (prefix, a.len() - suffix, b.len() - suffix)
}

#[derive(Clone, Copy)]
enum TopLevel {
    Process(usize),
    Test(usize),
}

/// Each process and test with its piece of the old text. An item followed by
/// anything but another process or test (an import, say) gets none.
fn top_level_pieces<'a>(text: &'a str, file: &'a File) -> impl Iterator<Item = (TopLevel, Piece)> + 'a {
    let mut starts: Vec<(u32, u32, Option<TopLevel>)> = Vec::new();
    starts
        .extend(file.processes.iter().enumerate().map(|(k, p)| (p.span.start, p.span.end, Some(TopLevel::Process(k)))));
    starts.extend(file.tests.iter().enumerate().map(|(k, t)| (t.span.start, t.span.end, Some(TopLevel::Test(k)))));
    // An import's span is its text's: its keyword comes before. Never a piece.
    starts.extend(file.imports.iter().map(|i| (i.span.start, i.span.end, None)));
    starts.sort_by_key(|s| s.0);
    let items: Vec<_> = starts.clone();
    starts.into_iter().enumerate().filter_map(move |(n, (start, end, item))| {
        let item = item?;
        let old_end = gap_end(text, end as usize).end;
        let next = items.get(n + 1);
        let fits = match next {
            Some((next_start, _, Some(_))) => *next_start as usize == old_end,
            Some((_, _, None)) => false,
            None => old_end == text.len(),
        };
        fits.then_some((item, Piece { start: start as usize, old_end, needs_sep: next.is_some() }))
    })
}

/// The element of `p` whose piece may hold an edit starting at `at`, and that piece.
fn element_piece(text: &str, p: &Process, at: usize) -> Option<(usize, Piece)> {
    let index = p.elements.partition_point(|e| e.span.start as usize <= at).checked_sub(1)?;
    let e = &p.elements[index];
    let old_end = gap_end(text, e.span.end as usize).end;
    let after = |start: u32| start > e.span.start;
    // What follows must be known to start exactly where the gap ends: an
    // element or a parameter (their spans start at their keywords), or the
    // process's `}` when nothing follows. A caption or UId item's span is
    // its text's, after its keyword: such a neighbour sends the edit to the process.
    let next_item = p.elements.get(index + 1).map(|n| n.span.start).into_iter();
    let next_item = next_item.chain(p.params.iter().map(|q| q.span.start).filter(|s| after(*s))).min();
    let labelled = p.captions.iter().chain(&p.uids).any(|c| after(c.span.start));
    let fits = match next_item {
        _ if labelled => false,
        Some(next) => next as usize == old_end,
        None => text.as_bytes().get(old_end) == Some(&b'}'),
    };
    fits.then_some((index, Piece { start: e.span.start as usize, old_end, needs_sep: next_item.is_some() }))
}

/// Parses the piece's new text with the rule its keyword names, and makes
/// sure nothing but blanks, comments and separators follow the node in it.
fn parse_piece<T>(
    file: FileId,
    new_text: &str,
    piece: &Piece,
    delta: i64,
    build: impl FnOnce(&Builder, super::parser::Pair) -> super::parser::Result<T>,
) -> Option<(T, Rule)> {
    let end = usize::try_from(piece.old_end as i64 + delta).ok()?;
    let text = new_text.get(piece.start..end)?;
    let word = &text[..text.bytes().take_while(u8::is_ascii_alphabetic).count()];
    let rule = match word {
        "process" => Rule::process,
        "test" => Rule::test,
        "start" => Rule::start_el,
        "end" => Rule::end_el,
        "terminate" => Rule::terminate_el,
        "script" => Rule::script_el,
        "exclusive" => Rule::exclusive_el,
        "inclusive" => Rule::inclusive_el,
        "parallel" => Rule::parallel_el,
        "user" => Rule::user_el,
        "timer" => Rule::timer_el,
        "signal" => Rule::signal_el,
        "call" => Rule::call_el,
        _ => return None,
    };
    let pair = Grammar::parse(rule, text).ok()?.next()?;
    let builder = Builder { file, offset: piece.start };
    // From the node's last token: the pair may hold blanks and comments after it.
    let last = builder.trimmed_span(&pair).end as usize - piece.start;
    let gap = gap_end(text, last);
    // A line comment cut off by the piece's end would go on into the next item in the file.
    let cut = gap.open_comment && end != new_text.len();
    if gap.end != text.len() || (piece.needs_sep && !gap.sep) || cut {
        return None;
    }
    Some((build(&builder, pair).ok()?, rule))
}

/// Blanks, comments and separators, as the grammar's `WHITESPACE` and `sep` read them.
pub(super) struct Gap {
    /// Where they end.
    pub(super) end: usize,
    /// A separator (`;` or a line break) was among them.
    pub(super) sep: bool,
    /// They end in a line comment that the text's end cut off.
    open_comment: bool,
}

/// The blanks, comments and separators from `from` on.
pub(super) fn gap_end(text: &str, from: usize) -> Gap {
    let bytes = text.as_bytes();
    let mut i = from;
    let mut sep = false;
    let mut open_comment = false;
    while let Some(&b) = bytes.get(i) {
        match b {
            b' ' | b'\t' | b'\r' => i += 1,
            b'\n' | b';' => {
                sep = true;
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => match bytes[i..].iter().position(|&c| c == b'\n') {
                Some(n) => i += n,
                None => {
                    open_comment = true;
                    i = bytes.len();
                }
            },
            b'/' if bytes.get(i + 1) == Some(&b'*') => match text[i + 2..].find("*/") {
                Some(n) => i += 2 + n + 2,
                None => break,
            },
            _ => break,
        }
    }
    Gap { end: i, sep, open_comment }
}

/// Every span of a node, to move them.
pub(super) trait Spans {
    /// Calls `f` on each span of the node and of what it holds.
    fn spans(&mut self, f: &mut impl FnMut(&mut Span));
}

impl Spans for Span {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        f(self)
    }
}

impl Spans for u64 {
    fn spans(&mut self, _: &mut impl FnMut(&mut Span)) {}
}

impl<T: Spans> Spans for Option<T> {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        if let Some(x) = self {
            x.spans(f)
        }
    }
}

impl<T: Spans> Spans for [T] {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        for x in self {
            x.spans(f)
        }
    }
}

impl<T: Spans> Spans for Vec<T> {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        self.as_mut_slice().spans(f)
    }
}

impl<T: Spans> Spans for Box<T> {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        (**self).spans(f)
    }
}

impl<A: Spans, B: Spans> Spans for (A, B) {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        self.0.spans(f);
        self.1.spans(f);
    }
}

macro_rules! spans_of_fields {
    ($($ty:ty { $($field:ident),* })*) => {$(
        impl Spans for $ty {
            fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
                $(self.$field.spans(f);)*
            }
        }
    )*};
}

spans_of_fields! {
    Ident { span }
    StrLit { span }
    Process { name, captions, uids, params, elements, span }
    Param { name, ty, default, span }
    TypeExpr { kind, span }
    Element { name, keyword, uid, caption, for_each, kind, flow, span }
    ForEach { var, list, until, keyword }
    Flow { targets, on_error, boundaries }
    Boundary { kind, target, keyword }
    Branch { condition, target, span }
    Field { name, ty, default, span }
    Block { stmts, span }
    Stmt { kind, span }
    Place { root, path, span }
    Expr { kind, span }
    Test { name, steps, span }
    Step { kind, span }
}

impl Spans for TypeExprKind {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        match self {
            TypeExprKind::Named(name) => name.spans(f),
            TypeExprKind::List(item) => item.spans(f),
            TypeExprKind::Object(fields) => fields.spans(f),
        }
    }
}

impl Spans for BoundaryKind {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        match self {
            BoundaryKind::Deadline(timer) => timer.spans(f),
            BoundaryKind::Every(text) => text.spans(f),
        }
    }
}

impl Spans for TimerKind {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        match self {
            TimerKind::After(text) => text.spans(f),
            TimerKind::At(at) => at.spans(f),
        }
    }
}

impl Spans for ElementKind {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        match self {
            ElementKind::Start | ElementKind::End | ElementKind::Terminate | ElementKind::Parallel => {}
            ElementKind::Script(block) => block.spans(f),
            ElementKind::Exclusive(branches) | ElementKind::Inclusive(branches) => branches.spans(f),
            ElementKind::User { to, fields, done } => {
                to.spans(f);
                fields.spans(f);
                done.spans(f);
            }
            ElementKind::Timer(timer) => timer.spans(f),
            ElementKind::Signal(name) => name.spans(f),
            ElementKind::Call { process, inputs, outputs } => {
                process.spans(f);
                inputs.spans(f);
                outputs.spans(f);
            }
        }
    }
}

impl Spans for StmtKind {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        match self {
            StmtKind::Assign { target, value } => {
                target.spans(f);
                value.spans(f);
            }
            StmtKind::Let { name, value } => {
                name.spans(f);
                value.spans(f);
            }
            StmtKind::If { branches, otherwise } => {
                branches.spans(f);
                otherwise.spans(f);
            }
            StmtKind::While { condition, body } => {
                condition.spans(f);
                body.spans(f);
            }
            StmtKind::For { var, iter, body } => {
                var.spans(f);
                match iter {
                    ForIter::List(list) => list.spans(f),
                    ForIter::Range(from, to) => {
                        from.spans(f);
                        to.spans(f);
                    }
                }
                body.spans(f);
            }
            StmtKind::Break | StmtKind::Continue | StmtKind::Return => {}
            StmtKind::Fail(e) | StmtKind::Log(e) | StmtKind::Emit(e) | StmtKind::Expr(e) => e.spans(f),
        }
    }
}

impl Spans for Accessor {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        match self {
            Accessor::Field(name) => name.spans(f),
            Accessor::Index(index) => index.spans(f),
        }
    }
}

impl Spans for ExprKind {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        match self {
            ExprKind::Null | ExprKind::Boolean(_) | ExprKind::Integer(_) | ExprKind::Decimal(_) => {}
            ExprKind::Text(parts) => parts.spans(f),
            ExprKind::List(items) => items.spans(f),
            ExprKind::Object(attrs) => attrs.spans(f),
            ExprKind::Var(name) => name.spans(f),
            ExprKind::Field(e, name) => {
                e.spans(f);
                name.spans(f);
            }
            ExprKind::Index(pair) | ExprKind::Binary(_, pair) => pair.iter_mut().for_each(|e| e.spans(f)),
            ExprKind::Call(name, args) => {
                name.spans(f);
                args.spans(f);
            }
            ExprKind::Unary(_, e) => e.spans(f),
            ExprKind::Conditional(a, b, c) => {
                a.spans(f);
                b.spans(f);
                c.spans(f);
            }
        }
    }
}

impl Spans for TextPart {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        if let TextPart::Interpolation(e) = self {
            e.spans(f)
        }
    }
}

impl Spans for StepKind {
    fn spans(&mut self, f: &mut impl FnMut(&mut Span)) {
        match self {
            StepKind::Now(text) | StepKind::Signal(text) | StepKind::Advance(text) => text.spans(f),
            StepKind::Start { process, inputs } => {
                process.spans(f);
                inputs.spans(f);
            }
            StepKind::Exec { element, index, fields } => {
                element.spans(f);
                index.spans(f);
                fields.spans(f);
            }
            StepKind::AdvanceTo(at) => at.spans(f),
            StepKind::Mock { process, mock } => {
                process.spans(f);
                match mock {
                    Mock::Outputs(values) => values.spans(f),
                    Mock::Fail(text) => text.spans(f),
                    Mock::Waits => {}
                }
            }
            StepKind::Expect(expectation) => match expectation {
                Expectation::Expr(e) => e.spans(f),
                Expectation::Status(name) => name.spans(f),
                Expectation::Waiting(names) | Expectation::Passed(names) | Expectation::NotPassed(names) => {
                    names.spans(f)
                }
                Expectation::LogContains(text) | Expectation::ErrorContains(text) => text.spans(f),
            },
        }
    }
}
