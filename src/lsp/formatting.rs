//! Formatting through `procdsl fmt`: the one adapter between the server and
//! the formatter (`syntax::format`), so the editor and the command line give
//! the same layout.

use super::Context;
use lsp_types::{DocumentFormattingParams, Position, Range, TextEdit};

/// The formatted text of a document, or `None` when it stays as it is.
/// A document that does not parse is left alone rather than answered with
/// an error: its syntax error is already among the diagnostics, and an
/// editor that formats on save would otherwise show it a second time.
fn formatted(name: &str, text: &str) -> Result<Option<String>, String> {
    Ok(crate::syntax::format::format(name, text).ok())
}

/// `textDocument/formatting`: one edit replacing the whole document, or none.
pub fn format(context: &Context, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>, String> {
    let (doc, _) = context.get(&params.text_document.uri)?;
    let name = doc.path.display().to_string();
    match formatted(&name, &doc.text)? {
        Some(text) if text != doc.text => {
            let end = doc.lines.position(&doc.text, doc.text.len());
            Ok(Some(vec![TextEdit { range: Range { start: Position::default(), end }, new_text: text }]))
        }
        _ => Ok(Some(Vec::new())),
    }
}
