//! Formatting through `procdsl fmt`: the one adapter between the server and
//! the formatter. The formatter (`syntax::format`) is built on another
//! branch; until it is wired here, formatting leaves the text as it is.

use super::Context;
use lsp_types::{DocumentFormattingParams, Position, Range, TextEdit};

/// The formatted text of a document, or `None` when it stays as it is.
fn formatted(_name: &str, _text: &str) -> Result<Option<String>, String> {
    // Wired at merge: `crate::syntax::format::format(name, text)`.
    Ok(None)
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
