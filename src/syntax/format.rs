//! `procdsl fmt`: one canonical layout of a `.proc` file, every comment kept.
//!
//! The layout is printed from the AST, but token by token in lockstep with
//! the source: a cursor follows the source past each token the printer
//! writes, so every comment is written in the gap between the same two
//! tokens it stood between. Comments are not in the parse tree (the grammar
//! skips them), so they are found by scanning the text (knowing strings
//! and their `{}` interpolations). A gap where the source had a line
//! comment allows a line break in the grammar, and the printer writes the
//! same tokens in the same order, so the comment and its line break are
//! legal where they are written. The only source tokens the printer leaves
//! out are separators (`;`), trailing commas and a second pair of
//! parentheses around the same expression; it adds only commas (in a list
//! laid out one item per line) and line breaks where the grammar allows them.
//!
//! Texts are copied byte for byte (with their interpolations), and so are
//! numbers. The layout rules are in docs/FORMAT.md.
//!
//! [`format`] checks its own result: it parses the output, and if the
//! syntax tree or the comments differ from the input's, it returns the
//! input unchanged rather than a program that means something else. The
//! tests check that this never happens for the examples, the golden cases
//! and the fuzz corpus ([`lay_out`] is the layout without the check).

use super::ast::*;
use crate::diagnostic::Diagnostic;
use crate::source::{normalize, FileId};

/// Lines longer than this have their outermost list, object, call or test
/// values laid out one item per line.
pub const WIDTH: usize = 120;
const INDENT: &str = "    ";

/// The canonical layout of a whole file. `path_name` is the name the caller
/// shows for the file; the error's spans point into `text` as
/// [`crate::source::SourceMap::add`] keeps it, as file 0.
///
/// A file that does not parse gives the parser's diagnostic. The result
/// parses to the same syntax tree and has the same comments in the same
/// order; formatting it again changes nothing.
pub fn format(path_name: &str, text: &str) -> Result<String, Diagnostic> {
    let _ = path_name; // diagnostics carry the file id; the caller's source map names it
    let text = normalize(text.into());
    let file = super::parse(FileId(0), &text)?;
    let laid_out = print(&text, &file);
    if same_meaning(&file, &text, &laid_out) {
        Ok(laid_out)
    } else {
        Ok(text.to_string())
    }
}

/// The layout of `text`, parsed as `file`, without [`format`]'s check of
/// the result (for tests that prove the check never fires). `text` must be
/// as [`normalize`] leaves it.
pub fn lay_out(text: &str, file: &File) -> String {
    print(text, file)
}

/// The text of every comment outside texts, in order (line comments
/// without trailing white space).
pub fn comments(text: &str) -> Vec<&str> {
    scan_comments(text).into_iter().map(|c| c.text(text)).collect()
}

fn same_meaning(file: &File, text: &str, laid_out: &str) -> bool {
    match super::parse(FileId(0), laid_out) {
        Ok(again) => again == *file && comments(text) == comments(laid_out),
        Err(_) => false,
    }
}

fn print(text: &str, file: &File) -> String {
    let mut p = Printer {
        src: text,
        comments: scan_comments(text),
        next: 0,
        out: String::with_capacity(text.len() + text.len() / 8),
        indent: 0,
        cursor: 0,
        pending_space: false,
        fresh: true,
        flat: false,
    };
    p.file(file);
    p.out
}

// ============================================================================
// Comments in the source
// ============================================================================

#[derive(Clone, Copy, Debug)]
struct Comment {
    start: usize,
    end: usize,
}

impl Comment {
    fn is_line(self, src: &str) -> bool {
        src.as_bytes().get(self.start + 1) == Some(&b'/')
    }

    fn text(self, src: &str) -> &str {
        let text = src.get(self.start..self.end).unwrap_or("");
        if self.is_line(src) {
            text.trim_end()
        } else {
            text
        }
    }
}

enum Frame {
    /// Code, with how many `{` are open in it.
    Code(usize),
    Text,
}

/// The comments outside texts. A comment inside an interpolation belongs to
/// its text, which is copied as written.
fn scan_comments(src: &str) -> Vec<Comment> {
    let b = src.as_bytes();
    let mut found = Vec::new();
    let mut frames = vec![Frame::Code(0)];
    let mut i = 0;
    while i < b.len() {
        let top = frames.len() == 1;
        match frames.last_mut() {
            Some(Frame::Text) => match b[i] {
                b'\\' => i += escape_len(&b[i..]),
                b'{' => {
                    frames.push(Frame::Code(0));
                    i += 1;
                }
                b'"' | b'\n' => {
                    frames.pop();
                    i += 1;
                }
                _ => i += 1,
            },
            Some(Frame::Code(depth)) => match (b[i], b.get(i + 1)) {
                (b'"', _) => {
                    frames.push(Frame::Text);
                    i += 1;
                }
                (b'/', Some(b'/' | b'*')) => {
                    let end = comment_end(b, i);
                    if top {
                        found.push(Comment { start: i, end });
                    }
                    i = end;
                }
                (b'{', _) => {
                    *depth += 1;
                    i += 1;
                }
                (b'}', _) => {
                    if *depth > 0 {
                        *depth -= 1;
                    } else if !top {
                        frames.pop();
                    }
                    i += 1;
                }
                _ => i += 1,
            },
            None => break,
        }
    }
    found
}

/// Where the comment starting at `i` (`//` or `/*`) ends.
fn comment_end(b: &[u8], i: usize) -> usize {
    let rest = &b[i..];
    if rest.get(1) == Some(&b'/') {
        i + rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len())
    } else {
        i + 2 + rest[2..].windows(2).position(|w| w == b"*/").map_or(rest.len() - 2, |n| n + 2)
    }
}

/// The length of the escape at the start of `b` (`\n`, `\u{1F600}`, …), as the grammar reads it.
fn escape_len(b: &[u8]) -> usize {
    if b.get(1..3) == Some(b"u{") {
        let hex = b[3..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if b.get(3 + hex) == Some(&b'}') {
            return 4 + hex;
        }
    }
    match b.get(1) {
        Some(b'\n') | None => 1,
        Some(_) => 2,
    }
}

/// Where the text literal starting at `i` (at its `"`) ends, after its closing quote.
fn text_end(b: &[u8], i: usize) -> usize {
    let mut frames = vec![Frame::Text];
    let mut j = i + 1;
    while j < b.len() && !frames.is_empty() {
        match frames.last_mut() {
            Some(Frame::Text) => match b[j] {
                b'\\' => j += escape_len(&b[j..]),
                b'{' => {
                    frames.push(Frame::Code(0));
                    j += 1;
                }
                _ => {
                    if matches!(b[j], b'"' | b'\n') {
                        frames.pop();
                    }
                    j += 1;
                }
            },
            Some(Frame::Code(depth)) => match (b[j], b.get(j + 1)) {
                (b'"', _) => {
                    frames.push(Frame::Text);
                    j += 1;
                }
                (b'/', Some(b'/' | b'*')) => j = comment_end(b, j),
                (b'{', _) => {
                    *depth += 1;
                    j += 1;
                }
                (b'}', _) => {
                    if *depth > 0 {
                        *depth -= 1;
                    } else {
                        frames.pop();
                    }
                    j += 1;
                }
                _ => j += 1,
            },
            None => break,
        }
    }
    j.min(b.len())
}

// ============================================================================
// The printer
// ============================================================================

struct Printer<'a> {
    src: &'a str,
    comments: Vec<Comment>,
    /// The first comment not written yet.
    next: usize,
    out: String,
    indent: usize,
    /// Source position after the last token written.
    cursor: usize,
    /// A block comment was written inline: the next token keeps a space from it.
    pending_space: bool,
    /// Nothing written yet in the body just opened (no blank line first).
    fresh: bool,
    /// Inside an attempt to lay a bracket out on one line.
    flat: bool,
}

/// What a one-line attempt may have to undo.
struct Checkpoint {
    len: usize,
    next: usize,
    cursor: usize,
    pending_space: bool,
    fresh: bool,
}

/// An item of a process body, in the order written.
enum ProcItem<'a> {
    Caption(&'a StrLit),
    Uid(&'a StrLit),
    Param(&'a Param),
    Element(&'a Element),
}

/// An item of a file, in the order written.
enum TopItem<'a> {
    Import(&'a StrLit),
    Process(&'a Process),
    Test(&'a Test),
}

/// An item of a user task's body.
enum UserItem<'a> {
    Field(&'a Field),
    Done(&'a Block),
}

/// A mapping of a call's body.
enum Mapping<'a> {
    Input(&'a Ident, &'a Expr),
    Output(&'a Ident, &'a Ident),
}

impl Printer<'_> {
    // ---------------------------------------------------------------- output

    fn bytes(&self) -> &[u8] {
        self.src.as_bytes()
    }

    /// The first token at or after `pos`: past white space and comments (and
    /// separators when `separators`).
    fn skip_gap(&self, mut pos: usize, separators: bool) -> usize {
        let b = self.bytes();
        while let Some(&c) = b.get(pos) {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => pos += 1,
                b';' | b',' if separators => pos += 1,
                b'/' if matches!(b.get(pos + 1), Some(b'/' | b'*')) => pos = comment_end(b, pos),
                _ => break,
            }
        }
        pos
    }

    /// Where the next token is that `is_here` accepts, past the tokens the
    /// layout leaves out (separators, trailing commas, doubled parentheses).
    fn locate(&self, is_here: impl Fn(&[u8]) -> bool) -> usize {
        let b = self.bytes();
        let mut pos = self.skip_gap(self.cursor, false);
        while pos < b.len() && !is_here(&b[pos..]) && matches!(b[pos], b';' | b',' | b'(' | b')') {
            pos = self.skip_gap(pos + 1, false);
        }
        pos
    }

    /// Whether the source's next token is `token`.
    fn peek(&self, token: &str) -> bool {
        let pos = self.skip_gap(self.cursor, false);
        self.bytes().get(pos..).is_some_and(|b| b.starts_with(token.as_bytes()))
    }

    /// Writes a token that stands at `pos` in the source, after the comments before it.
    fn write_at(&mut self, pos: usize, text: &str) {
        self.comments_before(pos);
        if self.pending_space {
            self.space();
            self.pending_space = false;
        }
        self.out.push_str(text);
        self.cursor = pos + text.len();
    }

    /// Writes a keyword or punctuation, found in the source by the cursor.
    fn tok(&mut self, token: &str) {
        let pos = self.locate(|b| b.starts_with(token.as_bytes()));
        if self.bytes().get(pos..).is_some_and(|b| b.starts_with(token.as_bytes())) {
            self.write_at(pos, token);
        } else {
            // Not in the source here (never expected): written, the cursor stays.
            self.out.push_str(token);
        }
    }

    /// A comma between items: the source's if it has one there.
    fn comma(&mut self) {
        if self.peek(",") {
            self.tok(",");
        } else {
            self.out.push(',');
        }
    }

    fn ident(&mut self, ident: &Ident) {
        self.write_at(ident.span.start as usize, &ident.name);
    }

    fn str_lit(&mut self, lit: &StrLit) {
        let src = self.src;
        self.write_at(lit.span.start as usize, src.get(lit.span.range()).unwrap_or(&lit.value));
    }

    /// A text expression, copied as written (with its interpolations).
    fn text(&mut self) {
        let pos = self.locate(|b| b[0] == b'"');
        let end = text_end(self.bytes(), pos);
        let src = self.src;
        self.write_at(pos, src.get(pos..end).unwrap_or(""));
    }

    /// A number as written, with its `-` if it has one.
    fn number(&mut self) {
        let mut pos = self.locate(|b| b[0] == b'-' || b[0].is_ascii_digit());
        if self.bytes().get(pos) == Some(&b'-') {
            self.write_at(pos, "-");
            pos = self.skip_gap(self.cursor, false);
        }
        let b = self.bytes();
        let mut end = pos + b[pos.min(b.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
        if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
            end += 1 + b[end + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        }
        let src = self.src;
        self.write_at(pos, src.get(pos..end).unwrap_or("0"));
    }

    fn space(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with([' ', '\n']) {
            self.out.push(' ');
        }
    }

    fn pad_to(&mut self, line_start: usize, width: usize) {
        let written = self.out.get(line_start..).map_or(width, |s| s.chars().count());
        for _ in written..width {
            self.out.push(' ');
        }
    }

    /// Ends the line (unless already at the start of one), with a blank line when asked.
    fn newline(&mut self, blank: bool) {
        let trimmed = self.out.trim_end_matches(' ').len();
        self.out.truncate(trimmed);
        if self.out.is_empty() {
            return;
        }
        if !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        if blank && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn push_indent(&mut self, level: usize) {
        for _ in 0..level {
            self.out.push_str(INDENT);
        }
    }

    /// A new line at `level`.
    fn line(&mut self, blank: bool, level: usize) {
        self.newline(blank);
        self.push_indent(level);
        self.pending_space = false;
    }

    // -------------------------------------------------------------- comments

    /// The comments before `pos`, inside an item: a line comment ends the
    /// line, and what follows goes on at one more indentation.
    fn comments_before(&mut self, pos: usize) {
        while let Some(&c) = self.comments.get(self.next) {
            if c.start >= pos {
                break;
            }
            self.next += 1;
            self.space();
            self.out.push_str(c.text(self.src));
            if c.is_line(self.src) {
                self.line(false, self.indent + 1);
            } else {
                self.pending_space = true;
            }
            self.fresh = false;
        }
    }

    /// Whether any comment not written yet starts in `start..end`.
    fn has_comment(&self, start: usize, end: usize) -> bool {
        let rest = &self.comments[self.next..];
        let i = rest.partition_point(|c| c.start < start);
        rest.get(i).is_some_and(|c| c.start < end)
    }

    /// Whether only spaces stand before `pos` on its line.
    fn starts_line(&self, pos: usize) -> bool {
        let b = self.bytes();
        let mut i = pos;
        while i > 0 && matches!(b[i - 1], b' ' | b'\t' | b'\r') {
            i -= 1;
        }
        i == 0 || b[i - 1] == b'\n'
    }

    /// Whether a blank line stands right before `pos`.
    fn blank_before(&self, pos: usize) -> bool {
        let b = self.bytes();
        let mut i = pos.min(b.len());
        let mut lines = 0;
        while i > 0 && matches!(b[i - 1], b' ' | b'\t' | b'\r' | b'\n') {
            lines += usize::from(b[i - 1] == b'\n');
            i -= 1;
        }
        lines >= 2 && i > 0
    }

    /// The comments before `pos` between items: one on a line of its own
    /// stays on a line of its own (after a blank line if it had one), one
    /// after code stays at the end of that line. `force_blank` puts a blank
    /// line before the first line started.
    fn comments_between(&mut self, pos: usize, mut force_blank: bool) {
        while let Some(&c) = self.comments.get(self.next) {
            if c.start >= pos {
                break;
            }
            self.next += 1;
            if self.starts_line(c.start) || self.out.is_empty() {
                let blank = !self.fresh && (force_blank || self.blank_before(c.start));
                self.line(blank, self.indent);
                force_blank = false;
            } else {
                self.space();
            }
            self.out.push_str(c.text(self.src));
            self.fresh = false;
            self.pending_space = false;
        }
        if force_blank && !self.fresh {
            self.newline(true);
        }
    }

    /// Starts the next item of a body on a line of its own; returns where it starts.
    fn item(&mut self, force_blank: bool) -> usize {
        let pos = self.skip_gap(self.cursor, true);
        self.comments_between(pos, force_blank);
        let blank = !self.fresh && self.blank_before(pos);
        self.line(blank, self.indent);
        self.fresh = false;
        self.cursor = pos;
        pos
    }

    /// Opens a body: `{` (or `[`, `(`), then items one per line.
    fn open(&mut self, token: &str) {
        self.tok(token);
        self.indent += 1;
        self.fresh = true;
    }

    /// Closes a body: the comments before the closing token, then the token
    /// on a line of its own (right after the opening one when the body is empty).
    fn close(&mut self, token: &str) {
        let pos = self.locate(|b| b.starts_with(token.as_bytes()));
        self.comments_between(pos, false);
        self.indent -= 1;
        if !self.fresh {
            self.line(false, self.indent);
        }
        self.tok(token);
        self.fresh = false;
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            len: self.out.len(),
            next: self.next,
            cursor: self.cursor,
            pending_space: self.pending_space,
            fresh: self.fresh,
        }
    }

    fn restore(&mut self, c: Checkpoint) {
        self.out.truncate(c.len);
        self.next = c.next;
        self.cursor = c.cursor;
        self.pending_space = c.pending_space;
        self.fresh = c.fresh;
    }

    /// Items between brackets: on one line when they fit and hold no
    /// comment, else one per line with a comma after each. `padded` puts
    /// spaces inside the brackets on one line (`{ a: 1 }`); `end` is where
    /// the construct ends in the source.
    fn seq<T>(
        &mut self,
        (open, close): (&str, &str),
        padded: bool,
        items: &[T],
        end: usize,
        mut each: impl FnMut(&mut Self, &T),
    ) {
        let start = self.locate(|b| b.starts_with(open.as_bytes()));
        // The comments before the bracket are not the attempt's to undo.
        self.comments_before(start);
        let broken = self.has_comment(start, end);
        if !broken {
            if self.flat {
                return self.seq_flat((open, close), padded, items, &mut each);
            }
            let before = self.checkpoint();
            let line_start = self.out.rfind('\n').map_or(0, |i| i + 1);
            self.flat = true;
            self.seq_flat((open, close), padded, items, &mut each);
            self.flat = false;
            if self.fits(before.len, line_start) {
                return;
            }
            self.restore(before);
        }
        self.open(open);
        for item in items {
            self.item(false);
            each(self, item);
            self.comma();
        }
        self.close(close);
    }

    /// Whether what was written since `since` stayed on one line, and that line within [`WIDTH`].
    fn fits(&self, since: usize, line_start: usize) -> bool {
        let (Some(added), Some(line)) = (self.out.get(since..), self.out.get(line_start..)) else { return false };
        !added.contains('\n') && line.chars().count() <= WIDTH
    }

    fn seq_flat<T>(
        &mut self,
        (open, close): (&str, &str),
        padded: bool,
        items: &[T],
        each: &mut impl FnMut(&mut Self, &T),
    ) {
        self.tok(open);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.comma();
                self.space();
            } else if padded {
                self.space();
            }
            each(self, item);
        }
        if padded && !items.is_empty() {
            self.space();
        }
        self.tok(close);
    }

    // ----------------------------------------------------------------- files

    fn file(&mut self, file: &File) {
        let mut items: Vec<(u32, TopItem)> = Vec::new();
        items.extend(file.imports.iter().map(|i| (i.span.start, TopItem::Import(i))));
        items.extend(file.processes.iter().map(|p| (p.span.start, TopItem::Process(p))));
        items.extend(file.tests.iter().map(|t| (t.span.start, TopItem::Test(t))));
        items.sort_by_key(|(start, _)| *start);
        let mut after_import = false;
        for (_, item) in &items {
            let import = matches!(item, TopItem::Import(_));
            self.item(!(import && after_import));
            after_import = import;
            match item {
                TopItem::Import(path) => {
                    self.tok("import");
                    self.space();
                    self.str_lit(path);
                }
                TopItem::Process(process) => self.process(process),
                TopItem::Test(test) => self.test(test),
            }
        }
        let end = self.src.len();
        self.comments_between(end, false);
        self.newline(false);
    }

    fn process(&mut self, process: &Process) {
        self.tok("process");
        self.space();
        self.ident(&process.name);
        self.space();
        self.open("{");
        let mut items: Vec<(u32, u32, ProcItem)> = Vec::new();
        items.extend(process.captions.iter().map(|c| (c.span.start, c.span.end, ProcItem::Caption(c))));
        items.extend(process.uids.iter().map(|c| (c.span.start, c.span.end, ProcItem::Uid(c))));
        items.extend(process.params.iter().map(|p| (p.span.start, p.span.end, ProcItem::Param(p))));
        items.extend(process.elements.iter().map(|e| (e.span.start, e.span.end, ProcItem::Element(e))));
        items.sort_by_key(|(start, _, _)| *start);
        let params: Vec<Option<(&'static str, &str)>> = items
            .iter()
            .map(|(_, _, item)| match item {
                ProcItem::Param(p) => Some((p.direction.keyword(), p.name.name.as_str())),
                _ => None,
            })
            .collect();
        let bounds: Vec<(u32, u32)> = items.iter().map(|(s, e, _)| (*s, *e)).collect();
        let widths = self.aligned(&params, &bounds);
        for ((_, _, item), width) in items.iter().zip(widths) {
            self.item(false);
            match item {
                ProcItem::Caption(text) => {
                    self.tok("caption");
                    self.space();
                    self.str_lit(text);
                }
                ProcItem::Uid(text) => {
                    self.tok("uid");
                    self.space();
                    self.str_lit(text);
                }
                ProcItem::Param(p) => self.typed(p.direction.keyword(), &p.name, &p.ty, p.default.as_ref(), width),
                ProcItem::Element(e) => self.element(e),
            }
        }
        self.close("}");
    }

    /// The column widths of each run of declarations (`in A: T`) on
    /// consecutive lines: (keyword, name with its colon). A blank line or a
    /// comment on a line of its own ends a run.
    fn aligned(&self, decls: &[Option<(&'static str, &str)>], bounds: &[(u32, u32)]) -> Vec<(usize, usize)> {
        let mut widths = vec![(0, 0); decls.len()];
        let mut i = 0;
        while i < decls.len() {
            if decls[i].is_none() {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            while j < decls.len() && decls[j].is_some() && self.adjacent(bounds[j - 1].1, bounds[j].0) {
                j += 1;
            }
            let keyword = decls[i..j].iter().flatten().map(|d| d.0.len()).max().unwrap_or(0);
            let name = decls[i..j].iter().flatten().map(|d| d.1.chars().count() + 1).max().unwrap_or(0);
            for w in &mut widths[i..j] {
                *w = (keyword, name);
            }
            i = j;
        }
        widths
    }

    /// Whether two items stand on consecutive lines, with no comment on a line of its own between them.
    fn adjacent(&self, end: u32, start: u32) -> bool {
        let (end, start) = (end as usize, start as usize);
        if self.blank_before(start) {
            return false;
        }
        let lo = self.comments.partition_point(|c| c.start < end);
        let hi = self.comments.partition_point(|c| c.start < start);
        self.comments[lo..hi].iter().all(|c| !self.starts_line(c.start))
    }

    /// `KEYWORD Name: Type [= default]`, its columns padded to `widths`.
    fn typed(&mut self, keyword: &str, name: &Ident, ty: &TypeExpr, default: Option<&Expr>, widths: (usize, usize)) {
        let line_start = self.out.len();
        self.tok(keyword);
        self.pad_to(line_start, widths.0);
        self.out.push(' ');
        let name_start = self.out.len();
        self.ident(name);
        self.tok(":");
        self.pad_to(name_start, widths.1);
        self.out.push(' ');
        self.type_expr(ty);
        if let Some(default) = default {
            self.space();
            self.tok("=");
            self.space();
            self.expr(default);
        }
    }

    fn type_expr(&mut self, ty: &TypeExpr) {
        match &ty.kind {
            TypeExprKind::Named(name) => self.ident(name),
            TypeExprKind::List(item) => {
                self.tok("List");
                self.tok("<");
                self.type_expr(item);
                self.tok(">");
            }
            TypeExprKind::Object(fields) => {
                self.seq(("{", "}"), true, fields, ty.span.end as usize, |p, (name, ty)| {
                    p.ident(name);
                    p.tok(":");
                    p.space();
                    p.type_expr(ty);
                })
            }
        }
    }

    // -------------------------------------------------------------- elements

    fn element(&mut self, el: &Element) {
        self.tok(el.kind.keyword());
        self.space();
        self.ident(&el.name);
        if let Some(uid) = &el.uid {
            self.space();
            self.tok("uid");
            self.space();
            self.str_lit(uid);
        }
        if let Some(caption) = &el.caption {
            self.space();
            self.str_lit(caption);
        }
        match &el.kind {
            ElementKind::Start | ElementKind::End | ElementKind::Terminate | ElementKind::Parallel => {}
            ElementKind::Script(block) => {
                self.space();
                self.block(block);
            }
            ElementKind::Exclusive(branches) | ElementKind::Inclusive(branches) => {
                if !branches.is_empty() || self.peek("{") {
                    self.space();
                    self.open("{");
                    for branch in branches {
                        self.item(false);
                        match &branch.condition {
                            Some(condition) => {
                                self.tok("when");
                                self.space();
                                self.expr(condition);
                            }
                            None => self.tok("else"),
                        }
                        self.arrow_to(&branch.target);
                    }
                    self.close("}");
                }
            }
            ElementKind::User { to, fields, done } => {
                self.for_each(el.for_each.as_deref());
                if let Some(to) = to {
                    self.space();
                    self.tok("to");
                    self.space();
                    self.expr(to);
                }
                if !fields.is_empty() || done.is_some() || self.peek("{") {
                    self.user_body(fields, done.as_ref());
                }
            }
            ElementKind::Timer(TimerKind::After(duration)) => {
                self.space();
                self.tok("after");
                self.space();
                self.str_lit(duration);
            }
            ElementKind::Timer(TimerKind::At(at)) => {
                self.space();
                self.tok("at");
                self.space();
                self.expr(at);
            }
            ElementKind::Signal(name) => {
                self.space();
                self.str_lit(name);
            }
            ElementKind::Call { process, inputs, outputs } => {
                self.space();
                self.ident(process);
                self.for_each(el.for_each.as_deref());
                if !inputs.is_empty() || !outputs.is_empty() || self.peek("{") {
                    self.call_body(inputs, outputs);
                }
            }
        }
        self.flow(&el.flow);
    }

    fn arrow_to(&mut self, target: &Ident) {
        self.space();
        self.tok("->");
        self.space();
        self.ident(target);
    }

    fn for_each(&mut self, for_each: Option<&ForEach>) {
        let Some(for_each) = for_each else { return };
        for word in ["for", "each"] {
            self.space();
            self.tok(word);
        }
        self.space();
        self.ident(&for_each.var);
        self.space();
        self.tok("in");
        self.space();
        self.expr(&for_each.list);
        if let Some(until) = &for_each.until {
            self.space();
            self.tok("until");
            self.space();
            self.expr(until);
        }
    }

    fn user_body(&mut self, fields: &[Field], done: Option<&Block>) {
        self.space();
        self.open("{");
        let mut items: Vec<(u32, u32, UserItem)> =
            fields.iter().map(|f| (f.span.start, f.span.end, UserItem::Field(f))).collect();
        if let Some(done) = done {
            items.push((done.span.start, done.span.end, UserItem::Done(done)));
        }
        items.sort_by_key(|(start, _, _)| *start);
        let decls: Vec<Option<(&'static str, &str)>> = items
            .iter()
            .map(|(_, _, item)| match item {
                UserItem::Field(f) => Some(("in", f.name.name.as_str())),
                UserItem::Done(_) => None,
            })
            .collect();
        let bounds: Vec<(u32, u32)> = items.iter().map(|(s, e, _)| (*s, *e)).collect();
        let widths = self.aligned(&decls, &bounds);
        for ((_, _, item), width) in items.iter().zip(widths) {
            self.item(false);
            match item {
                UserItem::Field(f) => self.typed("in", &f.name, &f.ty, f.default.as_ref(), width),
                UserItem::Done(block) => {
                    self.tok("done");
                    self.space();
                    self.block(block);
                }
            }
        }
        self.close("}");
    }

    fn call_body(&mut self, inputs: &[(Ident, Expr)], outputs: &[(Ident, Ident)]) {
        self.space();
        self.open("{");
        let mut items: Vec<(u32, Mapping)> = inputs.iter().map(|(n, e)| (n.span.start, Mapping::Input(n, e))).collect();
        items.extend(outputs.iter().map(|(from, to)| (from.span.start, Mapping::Output(from, to))));
        items.sort_by_key(|(start, _)| *start);
        for (_, mapping) in &items {
            self.item(false);
            match mapping {
                Mapping::Input(name, value) => {
                    self.ident(name);
                    self.space();
                    self.tok("=");
                    self.space();
                    self.expr(value);
                }
                Mapping::Output(from, to) => {
                    self.ident(from);
                    self.arrow_to(to);
                }
            }
        }
        self.close("}");
    }

    /// `-> A, B on error -> H`, then each deadline and reminder on a line of its own.
    fn flow(&mut self, flow: &Flow) {
        if !flow.targets.is_empty() {
            self.space();
            self.tok("->");
            for (i, target) in flow.targets.iter().enumerate() {
                if i > 0 {
                    self.tok(",");
                }
                self.space();
                self.ident(target);
            }
        }
        if let Some(handler) = &flow.on_error {
            self.space();
            self.tok("on");
            self.space();
            self.tok("error");
            self.arrow_to(handler);
        }
        for boundary in &flow.boundaries {
            let keyword = boundary.kind.keyword();
            let pos = self.locate(|b| b.starts_with(keyword.as_bytes()));
            self.indent += 1;
            self.comments_between(pos, false);
            self.line(false, self.indent);
            self.indent -= 1;
            self.tok(keyword);
            self.space();
            match &boundary.kind {
                BoundaryKind::Deadline(TimerKind::At(at)) => {
                    self.tok("at");
                    self.space();
                    self.expr(at);
                }
                BoundaryKind::Deadline(TimerKind::After(duration)) | BoundaryKind::Every(duration) => {
                    self.str_lit(duration)
                }
            }
            self.arrow_to(&boundary.target);
        }
    }

    // ------------------------------------------------------------ statements

    /// A block: one statement per line, or on one line (`{ a = 1; b = 2 }`)
    /// when it was written on one line, holds no comment and fits.
    fn block(&mut self, block: &Block) {
        let start = self.locate(|b| b[0] == b'{');
        let end = (block.span.end as usize).max(start);
        let one_line = self.src.get(start..end).is_some_and(|s| !s.contains('\n'));
        self.comments_before(start);
        if one_line && !block.stmts.is_empty() && !self.has_comment(start, end) {
            let before = self.checkpoint();
            let line_start = self.out.rfind('\n').map_or(0, |i| i + 1);
            let flat = std::mem::replace(&mut self.flat, true);
            self.tok("{");
            for (i, stmt) in block.stmts.iter().enumerate() {
                if i > 0 {
                    if self.peek(";") {
                        self.tok(";");
                    } else {
                        self.out.push(';');
                    }
                }
                self.space();
                self.stmt(stmt);
            }
            self.space();
            self.tok("}");
            self.flat = flat;
            // Inside another one-line attempt, that attempt decides.
            if flat || self.fits(before.len, line_start) {
                return;
            }
            self.restore(before);
        }
        self.open("{");
        for stmt in &block.stmts {
            self.item(false);
            self.stmt(stmt);
        }
        self.close("}");
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Assign { target, value } => {
                self.ident(&target.root);
                for accessor in &target.path {
                    match accessor {
                        Accessor::Field(name) => {
                            self.tok(".");
                            self.ident(name);
                        }
                        Accessor::Index(index) => {
                            self.tok("[");
                            self.expr(index);
                            self.tok("]");
                        }
                    }
                }
                self.space();
                self.tok("=");
                self.space();
                self.expr(value);
            }
            StmtKind::Let { name, value } => {
                self.tok("let");
                self.space();
                self.ident(name);
                self.space();
                self.tok("=");
                self.space();
                self.expr(value);
            }
            StmtKind::If { branches, otherwise } => {
                for (i, (condition, body)) in branches.iter().enumerate() {
                    if i > 0 {
                        self.space();
                        self.tok("else");
                        self.space();
                    }
                    self.tok("if");
                    self.space();
                    self.expr(condition);
                    self.space();
                    self.block(body);
                }
                if let Some(body) = otherwise {
                    self.space();
                    self.tok("else");
                    self.space();
                    self.block(body);
                }
            }
            StmtKind::While { condition, body } => {
                self.tok("while");
                self.space();
                self.expr(condition);
                self.space();
                self.block(body);
            }
            StmtKind::For { var, iter, body } => {
                self.tok("for");
                self.space();
                self.ident(var);
                self.space();
                self.tok("in");
                self.space();
                match iter {
                    ForIter::List(list) => self.expr(list),
                    ForIter::Range(from, to) => {
                        self.expr(from);
                        self.tok("..");
                        self.expr(to);
                    }
                }
                self.space();
                self.block(body);
            }
            StmtKind::Break => self.tok("break"),
            StmtKind::Continue => self.tok("continue"),
            StmtKind::Return => self.tok("return"),
            StmtKind::Fail(e) => self.keyword_expr("fail", e),
            StmtKind::Log(e) => self.keyword_expr("log", e),
            StmtKind::Emit(e) => self.keyword_expr("emit", e),
            StmtKind::Expr(e) => self.expr(e),
        }
    }

    fn keyword_expr(&mut self, keyword: &str, e: &Expr) {
        self.tok(keyword);
        self.space();
        self.expr(e);
    }

    // ----------------------------------------------------------- expressions

    /// Whether the source wraps this expression in parentheses (its span
    /// then starts at the `(`).
    fn parenthesized(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Binary(_, pair) | ExprKind::Index(pair) => e.span.start < pair[0].span.start,
            ExprKind::Field(first, _) => e.span.start < first.span.start,
            _ => self.bytes().get(e.span.start as usize) == Some(&b'('),
        }
    }

    fn expr(&mut self, e: &Expr) {
        let parenthesized = self.parenthesized(e);
        if parenthesized {
            self.tok("(");
        }
        match &e.kind {
            ExprKind::Null => self.tok("null"),
            ExprKind::Boolean(true) => self.tok("true"),
            ExprKind::Boolean(false) => self.tok("false"),
            ExprKind::Integer(_) | ExprKind::Decimal(_) => self.number(),
            ExprKind::Text(_) => self.text(),
            ExprKind::List(items) => self.seq(("[", "]"), false, items, e.span.end as usize, |p, item| p.expr(item)),
            ExprKind::Object(entries) => {
                self.seq(("{", "}"), true, entries, e.span.end as usize, |p, (name, value)| {
                    p.ident(name);
                    p.tok(":");
                    p.space();
                    p.expr(value);
                })
            }
            ExprKind::Var(name) => self.ident(name),
            ExprKind::Field(inner, name) => {
                self.expr(inner);
                self.tok(".");
                self.ident(name);
            }
            ExprKind::Index(pair) => {
                let [inner, index] = &**pair;
                self.expr(inner);
                self.tok("[");
                self.expr(index);
                self.tok("]");
            }
            ExprKind::Call(name, args) => {
                self.ident(name);
                self.seq(("(", ")"), false, args, e.span.end as usize, |p, arg| p.expr(arg));
            }
            ExprKind::Unary(UnaryOp::Not, operand) => {
                self.tok("not");
                self.space();
                self.expr(operand);
            }
            ExprKind::Unary(UnaryOp::Negate, operand) => {
                self.tok("-");
                self.expr(operand);
            }
            ExprKind::Binary(op, pair) => {
                let [lhs, rhs] = &**pair;
                self.expr(lhs);
                self.space();
                self.tok(op.symbol());
                self.space();
                self.expr(rhs);
            }
            ExprKind::Conditional(condition, then, otherwise) => {
                self.tok("if");
                self.space();
                self.expr(condition);
                self.space();
                self.tok("then");
                self.space();
                self.expr(then);
                self.space();
                self.tok("else");
                self.space();
                self.expr(otherwise);
            }
        }
        if parenthesized {
            self.tok(")");
        }
    }

    // ----------------------------------------------------------------- tests

    fn test(&mut self, test: &Test) {
        self.tok("test");
        self.space();
        self.str_lit(&test.name);
        self.space();
        self.open("{");
        for step in &test.steps {
            self.item(false);
            self.step(step);
        }
        self.close("}");
    }

    fn step(&mut self, step: &Step) {
        let end = step.span.end as usize;
        match &step.kind {
            StepKind::Now(time) => {
                self.tok("now");
                self.space();
                self.str_lit(time);
            }
            StepKind::Start { process, inputs } => {
                self.tok("start");
                self.space();
                self.ident(process);
                self.values(inputs, end, false);
            }
            StepKind::Exec { element, index, fields } => {
                self.tok("exec");
                self.space();
                self.ident(element);
                if index.is_some() {
                    self.tok("[");
                    self.number();
                    self.tok("]");
                }
                self.values(fields, end, false);
            }
            StepKind::Signal(name) => {
                self.tok("signal");
                self.space();
                self.str_lit(name);
            }
            StepKind::Advance(duration) => {
                self.tok("advance");
                self.space();
                self.str_lit(duration);
            }
            StepKind::AdvanceTo(at) => {
                self.tok("advance");
                self.space();
                self.tok("to");
                self.space();
                self.expr(at);
            }
            StepKind::Mock { process, mock } => {
                self.tok("mock");
                self.space();
                self.ident(process);
                match mock {
                    Mock::Outputs(values) => self.values(values, end, true),
                    Mock::Fail(message) => {
                        self.space();
                        self.tok("fail");
                        self.space();
                        self.str_lit(message);
                    }
                    Mock::Waits => {
                        self.space();
                        self.tok("waits");
                    }
                }
            }
            StepKind::Expect(expectation) => {
                self.tok("expect");
                self.space();
                self.expectation(expectation);
            }
        }
    }

    fn expectation(&mut self, expectation: &Expectation) {
        match expectation {
            Expectation::Expr(e) => self.expr(e),
            Expectation::Status(status) => {
                self.tok("status");
                self.space();
                self.ident(status);
            }
            Expectation::Waiting(names) => self.names(&["waiting"], names),
            Expectation::Passed(names) => self.names(&["passed"], names),
            Expectation::NotPassed(names) => self.names(&["not", "passed"], names),
            Expectation::LogContains(text) => self.contains("log", text),
            Expectation::ErrorContains(text) => self.contains("error", text),
        }
    }

    fn names(&mut self, keywords: &[&str], names: &[Ident]) {
        for keyword in keywords {
            self.tok(keyword);
            self.space();
        }
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                self.tok(",");
                self.space();
            }
            self.ident(name);
        }
    }

    fn contains(&mut self, keyword: &str, text: &StrLit) {
        self.tok(keyword);
        self.space();
        self.tok("contains");
        self.space();
        self.str_lit(text);
    }

    /// `{ Code = expr, … }` of `start`, `exec` and `mock` (written when the
    /// source has the braces, even empty; `mock` always has them).
    fn values(&mut self, values: &Values, end: usize, required: bool) {
        if values.is_empty() && !required && !self.peek("{") {
            return;
        }
        self.space();
        self.seq(("{", "}"), true, values, end, |p, (name, value)| {
            p.ident(name);
            p.space();
            p.tok("=");
            p.space();
            p.expr(value);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_in_texts_and_interpolations_are_not_comments() {
        let text = r#"x = "a // b {f("/* c */") /* d */} \u{41} \{" // e"#;
        assert_eq!(comments(text), vec!["// e"]);
        assert_eq!(text_end(text.as_bytes(), 4), text.len() - 5);
    }

    fn tidy(text: &str) -> String {
        let file = super::super::parse(FileId(0), text).expect("parses");
        lay_out(text, &file)
    }

    /// Found by the generated programs: a call's last argument in
    /// parentheses took the list's comma for its own, and the cursor then
    /// skipped the next number's first digit.
    #[test]
    fn a_comma_after_a_closing_bracket_is_not_the_arguments() {
        let long = "x".repeat(100);
        let text = format!("process P {{ script S {{\n fail [f({long}, (b > c)), 248.09]\n}} }}\n");
        let out = tidy(&text);
        assert!(out.contains("    248.09,\n"), "{out}");
    }

    #[test]
    fn parentheses_stay_and_a_doubled_pair_becomes_one() {
        let out = tidy("process P { script S {\nx = ((a)) * (b + c) + (d)\n} }\n");
        assert!(out.contains("x = (a) * (b + c) + (d)\n"), "{out}");
    }

    #[test]
    fn windows_line_ends_become_unix_ones_and_comments_lose_the_cr() {
        let text = "process P {\r\n  start S -> E // c\r\n  end E\r\n}\r\n";
        let out = format("p.proc", text).expect("formats");
        assert_eq!(out, "process P {\n    start S -> E // c\n    end E\n}\n");
    }

    #[test]
    fn a_block_comment_may_span_lines() {
        assert_eq!(comments("/* a\n b */ x // c  \r\n"), vec!["/* a\n b */", "// c"]);
    }
}
