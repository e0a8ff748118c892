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
    source: Option<miette::NamedSource<std::sync::Arc<str>>>,
    labels: Vec<miette::LabeledSpan>,
    related: Vec<Report>,
}

impl Report {
    fn new(d: &Diagnostic, sources: &SourceMap) -> Report {
        let known = |s: &Span| (s.file.0 as usize) < sources.len();
        let primary = d.labels.iter().map(|l| l.span).find(known);
        let mut labels = Vec::new();
        let mut related = Vec::new();
        for (i, label) in d.labels.iter().enumerate() {
            if !known(&label.span) {
                continue;
            }
            let text = (!label.text.is_empty()).then(|| label.text.clone());
            if Some(label.span.file) == primary.map(|p| p.file) {
                let span: miette::SourceSpan = label.span.into();
                labels.push(if i == 0 {
                    miette::LabeledSpan::new_primary_with_span(text, span)
                } else {
                    miette::LabeledSpan::new_with_span(text, span)
                });
            } else {
                related.push(Report {
                    severity: Severity::Warning,
                    code: d.code,
                    message: label.text.clone(),
                    help: None,
                    source: Some(sources.file(label.span.file).named_source()),
                    labels: vec![miette::LabeledSpan::new_with_span(None, label.span)],
                    related: Vec::new(),
                });
            }
        }
        Report {
            severity: d.severity,
            code: d.code,
            message: d.message.clone(),
            help: d.help.clone(),
            source: primary.map(|p| sources.file(p.file).named_source()),
            labels,
            related,
        }
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
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let first = lower.chars().next();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| {
            let longest = c.chars().count().max(name.chars().count());
            // Replacing every letter is no suggestion (`E` is not a typo of `S`).
            *d < longest && *d <= (longest / 3).max(1)
        })
        // Among equally near names, one that starts like the typed name reads best.
        .min_by_key(|(d, c)| (*d, c.to_lowercase().chars().next() != first))
        .map(|(_, c)| c)
}

/// Edits between two names, a swap of two neighbouring letters counting as
/// one edit (the commonest typo: `Amuont`, `stpe`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: two back is needed to see a swap.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (prev[j] + 1).min(row[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_a_one_letter_typo() {
        assert_eq!(nearest("Amont", ["Amount", "Big"]), Some("Amount"));
        assert_eq!(nearest("Finnish", ["Finish", "Begin"]), Some("Finish"));
        assert_eq!(nearest("zzz", ["Amount"]), None);
        assert_eq!(nearest("E", ["S", "E2"]), Some("E2"));
        assert_eq!(nearest("E", ["S"]), None);
        assert_eq!(nearest("Amuont", ["Amount", "Big"]), Some("Amount"), "a swap is one edit");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
