//! Hover: what the name under the cursor is — a parameter's direction and
//! type, an element's kind, caption and UId, a field, a local, a process,
//! or a standard function's signature and documentation.

use super::analysis::Symbol;
use super::{functions, Context};
use lsp_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind};

/// `textDocument/hover`.
pub fn hover(context: &Context, params: HoverParams) -> Result<Option<Hover>, String> {
    let (doc, analysis, offset) = context.at(&params.text_document_position_params)?;
    let Some(found) = analysis.at(crate::source::FileId(0), offset) else {
        return Ok(None);
    };
    let text = match &found.symbol {
        Symbol::Function(name) => match functions::lookup(name) {
            Some((signature, documentation)) => format!("```procdsl\n{signature}\n```\n{documentation}"),
            None => return Ok(None),
        },
        symbol => match analysis.detail(symbol) {
            Some(detail) => detail,
            None => return Ok(None),
        },
    };
    Ok(Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: text }),
        range: Some(doc.range(found.span.range())),
    }))
}
