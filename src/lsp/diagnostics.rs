//! `procdsl check`'s diagnostics as LSP diagnostics: the same messages,
//! codes and spans, hints appended to the message, the other labels as
//! related information.

use super::analysis::Analysis;
use super::documents::{path_to_uri, Document, LineIndex};
use super::Context;
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{FileId, Span};
use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Range};

/// The diagnostics to show on the document: its own, and those of the files
/// it imports at the import that brings them in (their own tabs show them
/// where they are).
pub fn of_document(doc: &Document, analysis: &Analysis, context: &Context) -> Vec<lsp_types::Diagnostic> {
    let main = FileId(0);
    analysis
        .diagnostics
        .iter()
        .take(MAX_DIAGNOSTICS)
        .map(|d| {
            let span = d.span().filter(|s| (s.file.0 as usize) < analysis.sources.len());
            let (range, prefix) = match span {
                Some(s) if s.file == main => (doc.range(s.range()), String::new()),
                Some(s) => {
                    let name = &analysis.sources.file(s.file).name;
                    (import_range(doc, analysis, s.file), format!("in {name}: "))
                }
                None => (Range::default(), String::new()),
            };
            let mut message = format!("{prefix}{}", clip(&d.message));
            if let Some(help) = &d.help {
                message.push_str(&format!("\nhelp: {}", clip(help)));
            }
            let related: Vec<DiagnosticRelatedInformation> = d
                .labels
                .iter()
                .enumerate()
                .filter(|(i, l)| *i > 0 || l.span.file != main)
                .filter_map(|(_, l)| {
                    let location = location(doc, analysis, context, l.span)?;
                    let message = clip(if l.text.is_empty() { &d.message } else { &l.text });
                    Some(DiagnosticRelatedInformation { location, message })
                })
                .collect();
            lsp_types::Diagnostic {
                range,
                severity: Some(severity(d)),
                code: Some(NumberOrString::String(d.code.to_string())),
                source: Some("procdsl".into()),
                message,
                related_information: (!related.is_empty()).then_some(related),
                data: d.help.as_deref().and_then(suggestion).map(serde_json::Value::String),
                ..Default::default()
            }
        })
        .collect()
}

/// At most this many diagnostics are shown on a document: the first ones,
/// errors before warnings. A file with more needs its first ones fixed.
const MAX_DIAGNOSTICS: usize = 1_000;

/// Messages are cut as the terminal renderer cuts them: a name of 100,000
/// letters in a message helps no one.
const MAX_MESSAGE: usize = 1_000;

fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn severity(d: &Diagnostic) -> DiagnosticSeverity {
    match d.severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
    }
}

/// The name a "did you mean `X`?" hint suggests.
pub fn suggestion(help: &str) -> Option<String> {
    let rest = help.split("did you mean `").nth(1)?;
    let name = rest.split('`').next()?;
    let is_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_name.then(|| name.to_string())
}

/// Where the document imports the file (directly or through another import): its first import.
fn import_range(doc: &Document, analysis: &Analysis, _file: FileId) -> Range {
    match analysis.tree(FileId(0)).and_then(|t| t.imports.first()) {
        Some(import) => doc.range(import.span.range()),
        None => Range::default(),
    }
}

/// The LSP location of a span in any of the analysis's files.
pub fn location(doc: &Document, analysis: &Analysis, context: &Context, span: Span) -> Option<Location> {
    if (span.file.0 as usize) >= analysis.sources.len() {
        return None;
    }
    if span.file == FileId(0) {
        return Some(Location { uri: doc.uri.clone(), range: doc.range(span.range()) });
    }
    let file = analysis.sources.file(span.file);
    let path = file.path.as_deref()?;
    let uri = path_to_uri(path)?;
    if let Some(open) = context.document_at(path) {
        return Some(Location { uri: open.uri.clone(), range: open.range(span.range()) });
    }
    let lines = LineIndex::new(&file.text);
    Some(Location { uri, range: lines.range(&file.text, span.range()) })
}
