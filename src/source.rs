//! Source files and spans: every AST node that can be blamed points back here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
///
/// Equality ignores the position, so two ASTs parsed from differently laid out
/// text compare equal when they mean the same thing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl PartialEq for Span {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Span {}

impl std::hash::Hash for Span {
    /// Consistent with equality: the position does not count.
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl Span {
    /// The span of bytes `start..end` of a file.
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span { file, start: start as u32, end: end as u32 }
    }

    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// Its length in bytes.
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether it covers no bytes.
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }

    /// The byte range, to slice the source text.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start as usize, span.len()).into()
    }
}

/// One loaded `.proc` file.
#[derive(Debug)]
pub struct SourceFile {
    /// The name shown in diagnostics: the path as the user gave it.
    pub name: String,
    /// Where it was read from, to resolve relative imports.
    pub path: Option<PathBuf>,
    pub text: Arc<str>,
}

impl SourceFile {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: u32) -> (usize, usize) {
        line_column(&self.text, offset as usize)
    }

    /// The file as miette draws excerpts from it.
    pub fn named_source(&self) -> miette::NamedSource<Arc<str>> {
        miette::NamedSource::new(&self.name, self.text.clone())
    }
}

/// Source text as every later stage reads it: without a leading UTF-8 byte
/// order mark (editors on Windows write one; it is not part of the program),
/// and with old Mac line endings (a lone `\r`) read as `\n`, so that the
/// parser, the line numbers and the excerpts all see the same lines. A `\r`
/// becomes a `\n` of the same length, so the text's offsets do not move.
pub fn normalize(text: Arc<str>) -> Arc<str> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let lone_cr = body.match_indices('\r').any(|(i, _)| !body[i + 1..].starts_with('\n'));
    if !lone_cr && body.len() == text.len() {
        return text;
    }
    if !lone_cr {
        return body.into();
    }
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find('\r') {
        out.push_str(&rest[..i]);
        out.push(if rest[i + 1..].starts_with('\n') { '\r' } else { '\n' });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out.into()
}

/// 1-based line and column (in characters) of a byte offset of `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..floor_char_boundary(text, offset.min(text.len()))];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Every file loaded together: the files a program was built from.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// No files yet.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file's text; returns its id. The text is kept as
    /// [`normalize`] leaves it: every later span points into that form.
    pub fn add(&mut self, name: impl Into<String>, path: Option<&Path>, text: impl Into<Arc<str>>) -> FileId {
        let id = FileId(self.files.len() as u32);
        let text = normalize(text.into());
        self.files.push(SourceFile { name: name.into(), path: path.map(Path::to_path_buf), text });
        id
    }

    /// The file with this id.
    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Every file with its id, in load order.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i as u32), f))
    }

    /// The file read from this (canonical) path, if loaded.
    pub fn find_path(&self, path: &Path) -> Option<FileId> {
        self.files.iter().position(|f| f.path.as_deref() == Some(path)).map(|i| FileId(i as u32))
    }

    /// How many files are loaded.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file is loaded.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// File name, line and column of a span's start.
    pub fn locate(&self, span: Span) -> Location {
        let file = self.file(span.file);
        let (line, column) = file.line_column(span.start);
        Location { file: file.name.clone(), line, column }
    }
}

/// A human-readable position.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_is_dropped() {
        assert_eq!(&*normalize("\u{feff}process".into()), "process");
        assert_eq!(&*normalize("process\u{feff}".into()), "process\u{feff}", "only a leading mark");
    }

    #[test]
    fn lone_carriage_returns_end_lines() {
        assert_eq!(&*normalize("a\rb\r\nc\r".into()), "a\nb\r\nc\n");
        let mut map = SourceMap::new();
        let file = map.add("cr.proc", None, "one\rtwo\rthree");
        let at = map.file(file).text.find("three").unwrap();
        assert_eq!(map.locate(Span::new(file, at, at + 5)).line, 3);
    }
}
