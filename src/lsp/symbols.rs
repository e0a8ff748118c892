//! The document's outline: processes with their parameters and elements
//! (a user task with its fields), then tests.

use super::documents::Document;
use super::Context;
use crate::source::{FileId, Span};
use crate::syntax::ast;
use lsp_types::{DocumentSymbol, DocumentSymbolParams, DocumentSymbolResponse, SymbolKind};

/// `textDocument/documentSymbol`.
pub fn outline(context: &Context, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>, String> {
    let (doc, _) = context.get(&params.text_document.uri)?;
    // The last tree that parsed: an outline that vanishes at every typo helps no one.
    let Some(tree) = context.parsed.get(doc.uri.as_str()).and_then(|a| a.tree(FileId(0))) else {
        return Ok(Some(DocumentSymbolResponse::Nested(Vec::new())));
    };
    let mut out = Vec::new();
    for p in &tree.processes {
        let mut children: Vec<DocumentSymbol> = p
            .params
            .iter()
            .map(|q| {
                let detail = format!("{} {}", q.direction.keyword(), type_text(doc, q.ty.span));
                symbol(doc, &q.name.name, Some(detail), SymbolKind::VARIABLE, q.span, q.name.span, None)
            })
            .collect();
        for e in &p.elements {
            let fields = match &e.kind {
                ast::ElementKind::User { fields, .. } => fields
                    .iter()
                    .map(|f| {
                        let detail = Some(type_text(doc, f.ty.span));
                        symbol(doc, &f.name.name, detail, SymbolKind::FIELD, f.span, f.name.span, None)
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let detail = match &e.caption {
                Some(c) => format!("{} \"{}\"", e.kind.keyword(), c.value),
                None => e.kind.keyword().to_string(),
            };
            let kind =
                if matches!(e.kind, ast::ElementKind::Call { .. }) { SymbolKind::FUNCTION } else { SymbolKind::EVENT };
            children.push(symbol(doc, &e.name.name, Some(detail), kind, e.span, e.name.span, Some(fields)));
        }
        let detail = p.captions.first().map(|c| c.value.clone());
        out.push(symbol(doc, &p.name.name, detail, SymbolKind::MODULE, p.span, p.name.span, Some(children)));
    }
    for t in &tree.tests {
        out.push(symbol(doc, &t.name.value, Some("test".into()), SymbolKind::METHOD, t.span, t.name.span, None));
    }
    Ok(Some(DocumentSymbolResponse::Nested(out)))
}

fn type_text(doc: &Document, span: Span) -> String {
    doc.slice(span.range()).to_string()
}

fn symbol(
    doc: &Document,
    name: &str,
    detail: Option<String>,
    kind: SymbolKind,
    whole: Span,
    name_span: Span,
    children: Option<Vec<DocumentSymbol>>,
) -> DocumentSymbol {
    let range = doc.range(whole.range());
    let mut selection_range = doc.range(name_span.range());
    // The selection must lie within the range (an element's span may start at its name).
    if selection_range.start < range.start || selection_range.end > range.end {
        selection_range = range;
    }
    #[allow(deprecated)]
    DocumentSymbol {
        name: if name.is_empty() { "(unnamed)".into() } else { name.to_string() },
        detail,
        kind,
        tags: None,
        deprecated: None,
        range,
        selection_range,
        children,
    }
}
