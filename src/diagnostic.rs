//! The one kind of diagnostic every layer reports, and its one renderer
//! (terminal and JSON), shared by the CLI, the REPL and later the service.

use crate::source::{SourceMap, Span};
use std::fmt;

/// Whether a diagnostic stops a file from running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A labelled place in the source.
#[derive(Clone, Debug)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// A problem found in source text: syntax, check, input or run time.
///
/// Renders as a miette report: the message, the file with line and column,
/// an excerpt with every label underlined, and a hint.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable code, e.g. `procdsl::check::unknown_element`.
    pub code: &'static str,
    pub message: String,
    /// The first label is the primary place.
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with a stable code.
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, code, message: message.into(), labels: Vec::new(), help: None }
    }

    /// A warning: reported, but the process still runs.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
    }

    /// Adds a labelled place; the first label is the primary one.
    pub fn with_label(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, text: text.into() });
        self
    }

    /// Adds a hint: what to do about it.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Errors stop a file from running; warnings do not.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The primary place, if any.
    pub fn span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }

    /// Renders as a miette report, with colours or without.
    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        let report = Report::new(self, sources);
        let theme = if color { miette::GraphicalTheme::unicode() } else { miette::GraphicalTheme::unicode_nocolor() };
        let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
        let mut out = String::new();
        if handler.render_report(&mut out, &report).is_err() {
            out = format!("{}: {}\n", self.severity_word(), self.message);
        }
        out
    }

    fn severity_word(&self) -> &'static str {
        match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    /// The JSON form: message, code, severity, and the primary place.
    pub fn to_json(&self, sources: &SourceMap) -> serde_json::Value {
        let place = self.span().filter(|s| (s.file.0 as usize) < sources.len()).map(|s| sources.locate(s));
        serde_json::json!({
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": place.as_ref().map(|p| p.file.clone()),
            "line": place.as_ref().map(|p| p.line),
            "column": place.as_ref().map(|p| p.column),
            "help": self.help,
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A diagnostic bound to its source text so miette can draw it. Labels in
/// other files than the primary one become related reports.
struct Report {
    severity: Severity,
    code: &'static str,
    message: String,
    help: Option<String>,
    source: Option<Excerpt>,
    labels: Vec<miette::LabeledSpan>,
    related: Vec<Report>,
}

impl Report {
    fn new(d: &Diagnostic, sources: &SourceMap) -> Report {
        let known = |s: &Span| (s.file.0 as usize) < sources.len();
        let primary = d.labels.iter().map(|l| l.span).find(known);
        let in_primary: Vec<Span> =
            d.labels.iter().map(|l| l.span).filter(|s| Some(s.file) == primary.map(|p| p.file)).collect();
        let source = primary.map(|p| Excerpt::new(sources.file(p.file), &in_primary));
        let mut labels = Vec::new();
        let mut related = Vec::new();
        for (i, label) in d.labels.iter().enumerate() {
            if !known(&label.span) {
                continue;
            }
            let text = (!label.text.is_empty()).then(|| clip(&label.text, MAX_LABEL));
            if let (Some(excerpt), true) = (&source, Some(label.span.file) == primary.map(|p| p.file)) {
                let span = excerpt.span(label.span);
                labels.push(if i == 0 {
                    miette::LabeledSpan::new_primary_with_span(text, span)
                } else {
                    miette::LabeledSpan::new_with_span(text, span)
                });
            } else {
                let excerpt = Excerpt::new(sources.file(label.span.file), &[label.span]);
                let span = excerpt.span(label.span);
                related.push(Report {
                    severity: Severity::Warning,
                    code: d.code,
                    message: clip(&label.text, MAX_MESSAGE),
                    help: None,
                    source: Some(excerpt),
                    labels: vec![miette::LabeledSpan::new_with_span(None, span)],
                    related: Vec::new(),
                });
            }
        }
        Report {
            severity: d.severity,
            code: d.code,
            message: clip(&d.message, MAX_MESSAGE),
            help: d.help.as_ref().map(|h| clip(h, MAX_MESSAGE)),
            source,
            labels,
            related,
        }
    }
}

/// Lines up to this many columns are shown whole.
const MAX_LINE: usize = 100;
/// Columns shown on each side of a label's start and end on a longer line.
const WINDOW: usize = 32;
/// The columns miette gives a tab.
const TAB_WIDTH: usize = 4;

/// How many columns a character takes when drawn.
fn columns(c: char) -> usize {
    if c == '\t' {
        TAB_WIDTH
    } else {
        1
    }
}
/// Messages, hints and label texts are cut to these many characters: a name
/// of 100,000 letters in a message helps no one.
const MAX_MESSAGE: usize = 1_000;
const MAX_LABEL: usize = 200;
/// What stands for the characters left out of a line.
const ELLIPSIS: &str = "…";

/// `text`, or its beginning and end around an ellipsis when it is longer than `max` characters.
fn clip(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max / 2).collect();
    let tail: String = text.chars().skip(count - max / 2).collect();
    format!("{head}{ELLIPSIS}{tail}")
}

/// A file as the renderer shows it: every line longer than [`MAX_LINE`]
/// characters cut down to windows around the labels' ends, the gaps
/// replaced by `…`, and lines miette will not show (farther than
/// [`CONTEXT`] lines from a label) left empty, so that the excerpt of a
/// large file stays small. Line numbers stay as they are; the header's
/// column is the column in the real file, counted in characters like
/// [`SourceMap::locate`].
///
/// Why: miette draws a line whole and underlines it to the last column, so
/// a 5,000-character line gave 5,000-character underlines, and a column
/// past 65,535 made it panic (`Formatting argument out of range`).
struct Excerpt {
    name: String,
    /// The file's text, for real columns.
    original: std::sync::Arc<str>,
    /// What miette draws.
    shown: String,
    /// The pieces `shown` is made of, in order.
    pieces: Vec<Piece>,
}

/// Bytes `from..to` of the real text, shown at byte `at` of the excerpt.
#[derive(Clone, Copy)]
struct Piece {
    from: usize,
    to: usize,
    at: usize,
    shown: Shown,
}

/// How a piece of the real text is shown.
#[derive(Clone, Copy, PartialEq)]
enum Shown {
    /// As it is.
    Kept,
    /// As one `…`.
    Elided,
    /// Not at all: a line far from every label.
    Hidden,
}

impl Piece {
    fn shown_len(self) -> usize {
        match self.shown {
            Shown::Kept => self.to - self.from,
            Shown::Elided => ELLIPSIS.len(),
            Shown::Hidden => 0,
        }
    }
}

/// Lines around a label that miette may show (it shows one); others are hidden.
const CONTEXT: usize = 2;

impl Excerpt {
    fn new(file: &crate::source::SourceFile, spans: &[Span]) -> Excerpt {
        let text = &*file.text;
        let mut points: Vec<usize> = spans.iter().flat_map(|s| [s.start as usize, s.end as usize]).collect();
        points.iter_mut().for_each(|p| *p = floor_boundary(text, (*p).min(text.len())));
        points.sort_unstable();
        let mut excerpt =
            Excerpt { name: file.name.clone(), original: file.text.clone(), shown: String::new(), pieces: Vec::new() };
        // The byte ranges of the lines miette may show, in order.
        let mut near: Vec<(usize, usize)> = spans
            .iter()
            .map(|s| {
                let (start, end) = ((s.start as usize).min(text.len()), (s.end as usize).min(text.len()));
                let before = text[..start].rmatch_indices('\n').nth(CONTEXT).map_or(0, |(i, _)| i);
                let after = text[end..].match_indices('\n').nth(CONTEXT).map_or(text.len(), |(i, _)| end + i);
                (before, after)
            })
            .collect();
        near.sort_unstable();
        let mut line_start = 0;
        while line_start <= text.len() {
            let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i);
            let shown = near.iter().take_while(|r| r.0 <= line_end).any(|r| r.1 >= line_start);
            if shown {
                excerpt.add_line(text, line_start, line_end, &points);
            } else {
                excerpt.push(Piece { from: line_start, to: line_end, at: excerpt.shown.len(), shown: Shown::Hidden });
            }
            if line_end < text.len() {
                excerpt.keep(text, line_end, line_end + 1);
            }
            line_start = line_end + 1;
        }
        excerpt
    }

    /// Adds bytes `start..end` (one line without its `\n`), cut down when it is long.
    fn add_line(&mut self, text: &str, start: usize, end: usize, points: &[usize]) {
        if forward(text, end, start, MAX_LINE) == end {
            self.keep(text, start, end);
            return;
        }
        let first = points.partition_point(|&p| p < start);
        let last = points.partition_point(|&p| p <= end);
        let mut windows: Vec<(usize, usize)> = points[first..last]
            .iter()
            .map(|&p| (back(text, start, p, WINDOW), forward(text, end, p, WINDOW)))
            .collect();
        if windows.is_empty() {
            windows.push((start, forward(text, end, start, MAX_LINE - 1)));
        }
        let mut at = start;
        for (from, to) in windows {
            // Windows are in order; one that overlaps or nearly touches the last one joins it.
            if from <= at + 2 * ELLIPSIS.len() && at > start {
                self.keep(text, at, to.max(at));
            } else {
                self.elide(at, from);
                self.keep(text, from, to);
            }
            at = to.max(at);
        }
        self.elide(at, end);
    }

    fn keep(&mut self, text: &str, from: usize, to: usize) {
        self.push(Piece { from, to, at: self.shown.len(), shown: Shown::Kept });
        self.shown.push_str(&text[from..to]);
    }

    fn elide(&mut self, from: usize, to: usize) {
        if from < to {
            self.push(Piece { from, to, at: self.shown.len(), shown: Shown::Elided });
            self.shown.push_str(ELLIPSIS);
        }
    }

    /// Adds a piece, or lengthens the last one when both are kept or both hidden.
    fn push(&mut self, piece: Piece) {
        if piece.from >= piece.to {
            return;
        }
        match self.pieces.last_mut() {
            Some(last) if last.to == piece.from && last.shown == piece.shown && piece.shown != Shown::Elided => {
                last.to = piece.to;
            }
            _ => self.pieces.push(piece),
        }
    }

    /// Where a span of the real text is drawn: a start or an end inside a
    /// left-out gap moves to the `…` that stands for it.
    fn span(&self, span: Span) -> miette::SourceSpan {
        let start = self.shown_offset(span.start as usize, true);
        let end = self.shown_offset(span.end as usize, false).max(start);
        (start, end - start).into()
    }

    fn shown_offset(&self, offset: usize, is_start: bool) -> usize {
        // A start belongs to the piece it begins, an end to the piece it closes.
        let i = self.pieces.partition_point(|p| if is_start { p.to <= offset } else { p.to < offset });
        let Some(piece) = self.pieces.get(i.min(self.pieces.len().saturating_sub(1))) else {
            return 0;
        };
        let offset = offset.clamp(piece.from, piece.to);
        match (piece.shown, is_start) {
            (Shown::Kept, _) => piece.at + floor_boundary(&self.original[piece.from..piece.to], offset - piece.from),
            (Shown::Elided, false) => piece.at + ELLIPSIS.len(),
            (Shown::Elided | Shown::Hidden, _) => piece.at,
        }
    }

    /// The real text's offset drawn at `shown` offset of the excerpt.
    fn real_offset(&self, shown: usize) -> usize {
        let i = self.pieces.partition_point(|p| p.at + p.shown_len() <= shown);
        match self.pieces.get(i) {
            Some(p) if p.shown == Shown::Kept => p.from + (shown - p.at).min(p.to - p.from),
            Some(p) => p.from,
            None => self.original.len(),
        }
    }
}

/// The offset at most `width` columns before `offset`, not before `floor`.
fn back(text: &str, floor: usize, offset: usize, width: usize) -> usize {
    let mut used = 0;
    for (i, c) in text[floor..offset].char_indices().rev() {
        used += columns(c);
        if used > width {
            return floor + i + c.len_utf8();
        }
    }
    floor
}

/// The offset at most `width` columns after `offset`, not after `ceiling`.
fn forward(text: &str, ceiling: usize, offset: usize, width: usize) -> usize {
    let mut used = 0;
    for (i, c) in text[offset..ceiling].char_indices() {
        used += columns(c);
        if used > width {
            return offset + i;
        }
    }
    ceiling
}

fn floor_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.shown.as_str().read_span(span, context_lines_before, context_lines_after)?;
        // Without context, miette reads a span for the header's `file:line:column`;
        // its column counts bytes of the excerpt, so give the real one instead.
        let column = if context_lines_before == 0 && context_lines_after == 0 {
            crate::source::line_column(&self.original, self.real_offset(span.offset())).1 - 1
        } else {
            inner.column()
        };
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)))
        }
    }
}

/// "Did you mean …?": the candidate nearest to `name`, if it is near enough.
///
/// Near enough is a few edits (a swap of neighbouring letters counts as one:
/// `Amuont`), or failing that, a name that shares its beginning and most of
/// its letters (Jaro-Winkler similarity, which favours a common prefix),
/// `lenght` → `len`, `uppercase` → `upper`, `Greet` → `Greting`.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let first = lower.chars().next();
    let scored: Vec<(usize, f64, &str)> = candidates
        .into_iter()
        .map(|c| {
            let candidate = c.to_lowercase();
            (strsim::osa_distance(&lower, &candidate), strsim::jaro_winkler(&lower, &candidate), c)
        })
        .collect();
    let by_edits = scored
        .iter()
        .filter(|(d, _, c)| {
            let longest = c.chars().count().max(name.chars().count());
            // Replacing every letter is no suggestion (`E` is not a typo of `S`).
            *d < longest && *d <= (longest / 3).max(1)
        })
        // Among equally near names, one that starts like the typed name reads best.
        .min_by_key(|(d, _, c)| (*d, c.to_lowercase().chars().next() != first));
    // Sharing a beginning means at least half of the shorter name: `UsrNobody`
    // and `UsrCallsNobody` share only the customary `Usr`.
    let shares_beginning = |c: &str| {
        let common = lower.chars().zip(c.to_lowercase().chars()).take_while(|(a, b)| a == b).count();
        2 * common >= lower.chars().count().min(c.chars().count())
    };
    let by_likeness = || {
        scored
            .iter()
            .filter(|(_, similarity, c)| *similarity >= LIKENESS && shares_beginning(c))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    };
    by_edits.or_else(by_likeness).map(|(_, _, c)| *c)
}

/// The Jaro-Winkler similarity from which a name is suggested although it
/// is several edits away. At 0.85, `Greet` → `Greting` (0.853) is suggested,
/// `Total` → `Tax` (0.64) is not.
const LIKENESS: f64 = 0.85;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn nearest_finds_a_one_letter_typo() {
        assert_eq!(nearest("Amont", ["Amount", "Big"]), Some("Amount"));
        assert_eq!(nearest("Finnish", ["Finish", "Begin"]), Some("Finish"));
        assert_eq!(nearest("zzz", ["Amount"]), None);
        assert_eq!(nearest("E", ["S", "E2"]), Some("E2"));
        assert_eq!(nearest("E", ["S"]), None);
        assert_eq!(nearest("Amuont", ["Amount", "Big"]), Some("Amount"), "a swap is one edit");
    }

    #[test]
    fn nearest_finds_names_cut_short_or_run_on() {
        let functions = ["len", "upper", "lower", "trim", "replace", "join", "last_error"];
        assert_eq!(nearest("lenght", functions), Some("len"));
        assert_eq!(nearest("uppercase", functions), Some("upper"));
        assert_eq!(nearest("Greet", ["Greting", "Done", "Begin"]), Some("Greting"));
        assert_eq!(nearest("Total", ["Tax", "Amount"]), None);
        assert_eq!(nearest("frobnicate", functions), None);
        assert_eq!(nearest("UsrNobody", ["UsrCallsNobody"]), None, "a shared `Usr` is not enough");
    }

    /// Renders one error with labels at `spans` of `text`.
    fn render(text: &str, spans: &[(usize, usize)]) -> String {
        let mut sources = SourceMap::new();
        let file = sources.add("long.proc", None, text);
        let mut d = Diagnostic::error("procdsl::test", "something is wrong");
        for &(start, end) in spans {
            d = d.with_label(Span::new(file, start, end), "here");
        }
        d.render(&sources, false)
    }

    fn widest_line(out: &str) -> usize {
        out.lines().map(|l| l.chars().count()).max().unwrap_or(0)
    }

    #[test]
    fn a_label_past_column_65535_renders_in_a_window() {
        let line = format!("let x = \"{}\" + Amont", "x".repeat(100_000));
        let at = line.find("Amont").unwrap();
        let text = format!("process P {{\n{line}\n}}\n");
        let at = at + "process P {\n".len();
        let out = render(&text, &[(at, at + 5)]);
        assert!(out.contains("[long.proc:2:100014]"), "the real column: {out}");
        assert!(out.contains("…xxxx"), "{out}");
        assert!(out.contains("\" + Amont"), "{out}");
        assert!(widest_line(&out) < 120, "{out}");
    }

    #[test]
    fn a_long_label_is_underlined_at_its_ends_only() {
        let text = format!("let x = 1 + \"{}\"\n", "y".repeat(5_000));
        let out = render(&text, &[(8, text.len() - 1), (8, 9)]);
        assert!(widest_line(&out) < 200, "{out}");
        assert!(out.contains("[long.proc:1:9]"), "{out}");
    }

    #[test]
    fn any_label_on_long_lines_of_any_characters_renders() {
        // Multi-byte letters, tabs and wide characters, labels everywhere,
        // also spanning lines and past the end.
        let line: String = "é\t漢a".repeat(30_000);
        let text = format!("{line}\n{line}\r\nshort\n{line}");
        let bounds: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
        let step = bounds.len() / 40;
        for (k, &start) in bounds.iter().step_by(step).enumerate() {
            let end = bounds[(k * step + k * 997) % bounds.len()].max(start);
            let out = render(&text, &[(start, end), (end, text.len() + 10)]);
            assert!(out.contains("╭─[long.proc:"), "drawn with its excerpt: {out}");
            assert!(widest_line(&out) < 400, "{start}..{end}: {out}");
        }
    }

    #[test]
    fn lines_far_from_the_labels_are_left_out_and_numbers_stay() {
        let text: String = (1..=100_000).map(|i| format!("line {i} {}\n", "z".repeat(20))).collect();
        let at = |line: usize| text.match_indices('\n').nth(line - 2).map_or(0, |(i, _)| i + 1);
        let spans = [Span::new(FileId(0), at(3), at(3) + 4), Span::new(FileId(0), at(99_990), at(99_990) + 4)];
        let mut sources = SourceMap::new();
        sources.add("big.proc", None, text.as_str());
        let excerpt = Excerpt::new(sources.file(FileId(0)), &spans);
        assert!(excerpt.shown.len() < 200_000, "{} bytes shown", excerpt.shown.len());
        let out = render(
            &text,
            &[(spans[1].start as usize, spans[1].end as usize), (spans[0].start as usize, spans[0].end as usize)],
        );
        assert!(out.contains("[long.proc:99990:1]"), "{out}");
        assert!(out.contains("99990 │ line 99990 zzzz"), "{out}");
        assert!(out.contains("3 │ line 3 zzzz"), "{out}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn any_text_and_any_labels_render(
            pieces in proptest::collection::vec(("\\PC{0,12}|[\t\r\n]|\r\n", 0usize..3000), 0..8),
            spans in proptest::collection::vec((0usize..100_000, 0usize..100_000), 1..4),
        ) {
            // Pieces repeated up to thousands of times: long lines of any
            // characters, tabs and line ends.
            let text: String = pieces.iter().map(|(p, n)| p.repeat(*n)).collect();
            let bound = |i: usize| floor_boundary(&text, i % (text.len() + 1));
            let spans: Vec<(usize, usize)> =
                spans.iter().map(|&(a, b)| (bound(a).min(bound(b)), bound(a).max(bound(b)))).collect();
            let out = render(&text, &spans);
            proptest::prop_assert!(out.contains("something is wrong"));
            proptest::prop_assert!(widest_line(&out) < 1_000, "{}", out);
        }
    }

    #[test]
    fn a_huge_message_is_cut() {
        let mut sources = SourceMap::new();
        sources.add("a.proc", None, "x");
        let d = Diagnostic::error("procdsl::test", format!("unknown variable `{}`", "a".repeat(100_000)));
        assert!(d.render(&sources, false).len() < 5_000);
    }
}
