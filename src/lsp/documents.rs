//! Open documents: their text as the editor has it, incremental edits, and
//! the conversion between byte offsets and LSP positions (UTF-16 columns).

use lsp_types::{Position, Range, TextDocumentContentChangeEvent, Uri};
use std::path::{Path, PathBuf};

/// Line starts of a text, to turn byte offsets into LSP positions and back.
///
/// LSP counts columns in UTF-16 code units and ends lines at `\n`, `\r\n`
/// or a lone `\r`; spans are byte offsets into UTF-8. A lone `\r` reads as
/// `\n` to the checker too ([`crate::source::normalize`]), so both agree on
/// the lines.
pub struct LineIndex {
    starts: Vec<usize>,
    /// Whether each line is ASCII: then a column is a byte count, found
    /// without walking the line (a hostile one-line file stays linear).
    ascii: Vec<bool>,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut ascii = Vec::new();
        let mut line_ascii = true;
        for (i, &b) in bytes.iter().enumerate() {
            let ends = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            line_ascii &= b.is_ascii();
            if ends {
                starts.push(i + 1);
                ascii.push(line_ascii);
                line_ascii = true;
            }
        }
        ascii.push(line_ascii);
        LineIndex { starts, ascii }
    }

    /// The LSP position of a byte offset (clamped to the text, floored to a character).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = floor_boundary(text, offset.min(text.len()));
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let character =
            if self.ascii[line] { offset - start } else { text[start..offset].chars().map(char::len_utf16).sum() };
        Position { line: line as u32, character: character as u32 }
    }

    /// The position of `offset`, walking on from an earlier position
    /// (`from`, at byte `at`) when both are on the same line: positions
    /// asked in order cost the length of the text once, not once each.
    pub fn position_after(&self, text: &str, offset: usize, at: usize, from: Position) -> Position {
        let offset = floor_boundary(text, offset.min(text.len()));
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        if line as u32 != from.line || at > offset || self.ascii[line] {
            return self.position(text, offset);
        }
        let more: usize = text[at..offset].chars().map(char::len_utf16).sum();
        Position { line: from.line, character: from.character + more as u32 }
    }

    /// The byte offset of an LSP position; a column past the line's end
    /// means its end, a line past the last means the end of the text.
    pub fn offset(&self, text: &str, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return text.len();
        };
        let end = self.starts.get(position.line as usize + 1).copied().unwrap_or(text.len());
        let line = &text[start..end];
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if self.ascii[position.line as usize] {
            return start + line.len().min(position.character as usize);
        }
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units >= position.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        start + line.len()
    }

    /// The LSP range of a byte range.
    pub fn range(&self, text: &str, bytes: std::ops::Range<usize>) -> Range {
        Range { start: self.position(text, bytes.start), end: self.position(text, bytes.end) }
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One open document.
pub struct Document {
    pub uri: Uri,
    /// Where it lives (or would live): imports resolve against its folder.
    pub path: PathBuf,
    /// Its canonical path, as the checker's loader keys files.
    pub canonical: PathBuf,
    pub version: i32,
    pub text: String,
    pub lines: LineIndex,
    /// Changed since it was last analysed.
    pub dirty: bool,
}

impl Document {
    /// A document as the editor opened it.
    pub fn new(uri: Uri, version: i32, text: String) -> Document {
        let path = uri_to_path(&uri);
        let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
        let lines = LineIndex::new(&text);
        Document { uri, path, canonical, version, text, lines, dirty: true }
    }

    /// Applies the editor's changes in order: a change with a range
    /// replaces that range (UTF-16 positions), one without replaces the whole text.
    pub fn apply(&mut self, version: i32, changes: Vec<TextDocumentContentChangeEvent>) {
        for change in changes {
            match change.range {
                Some(range) => {
                    let start = self.lines.offset(&self.text, range.start);
                    let end = self.lines.offset(&self.text, range.end).max(start);
                    self.text.replace_range(start..end, &change.text);
                }
                None => self.text = change.text,
            }
            self.lines = LineIndex::new(&self.text);
        }
        self.version = version;
        self.dirty = true;
    }

    /// The byte offset of a position, in the checker's offsets (a leading
    /// byte order mark, which the checker drops, is not counted).
    pub fn offset(&self, position: Position) -> usize {
        self.lines.offset(&self.text, position).saturating_sub(self.bom())
    }

    /// The LSP range of a checker's byte range.
    pub fn range(&self, bytes: std::ops::Range<usize>) -> Range {
        let bom = self.bom();
        self.lines.range(&self.text, bytes.start + bom..bytes.end + bom)
    }

    /// The text of a checker's byte range.
    pub fn slice(&self, bytes: std::ops::Range<usize>) -> &str {
        let bom = self.bom();
        self.text.get(bytes.start + bom..bytes.end + bom).unwrap_or("")
    }

    fn bom(&self) -> usize {
        if self.text.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            0
        }
    }
}

/// The file a `file:` URI names (percent-decoded); another scheme gives its
/// text as a relative path, so that imports resolve against the current folder.
pub fn uri_to_path(uri: &Uri) -> PathBuf {
    let text = uri.as_str();
    match text.strip_prefix("file://") {
        Some(rest) => {
            // `file:///C:/x` on Windows; `file://host/x` is not local.
            let path = rest.find('/').map_or(rest, |i| &rest[i..]);
            PathBuf::from(percent_decode(path))
        }
        None => PathBuf::from(percent_decode(text.rsplit('/').next().unwrap_or(text))),
    }
}

/// The `file:` URI of a path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let mut out = String::from("file://");
    let text = path.to_string_lossy();
    if !text.starts_with('/') {
        out.push('/');
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.parse().ok()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        let text = "a😀b\r\nç=1\rx";
        let lines = LineIndex::new(text);
        let b = text.find('b').unwrap();
        assert_eq!(lines.position(text, b), Position { line: 0, character: 3 });
        assert_eq!(lines.offset(text, Position { line: 0, character: 3 }), b);
        let eq = text.find('=').unwrap();
        assert_eq!(lines.position(text, eq), Position { line: 1, character: 1 });
        assert_eq!(lines.offset(text, Position { line: 2, character: 0 }), text.len() - 1);
        assert_eq!(lines.offset(text, Position { line: 1, character: 99 }), eq + 2);
    }

    #[test]
    fn file_uris_round_trip() {
        let path = Path::new("/tmp/a b/ç.proc");
        let uri = path_to_uri(path).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/a%20b/%C3%A7.proc");
        assert_eq!(uri_to_path(&uri), path);
    }
}
