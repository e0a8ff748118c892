//! Code actions: the "did you mean" fixes. A diagnostic whose hint names a
//! replacement carries it in its `data`; the fix replaces the diagnostic's range.

use super::diagnostics::suggestion;
use super::Context;
use lsp_types::{CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, TextEdit, WorkspaceEdit};
use std::collections::HashMap;

/// `textDocument/codeAction`.
// `WorkspaceEdit` keys its changes by `Uri`, which clippy deems mutable.
#[allow(clippy::mutable_key_type)]
pub fn actions(context: &Context, params: CodeActionParams) -> Result<Option<Vec<CodeActionOrCommand>>, String> {
    let (doc, _) = context.get(&params.text_document.uri)?;
    let mut out = Vec::new();
    for d in &params.context.diagnostics {
        let name = match &d.data {
            Some(serde_json::Value::String(name)) => Some(name.clone()),
            _ => d.message.split("\nhelp: ").nth(1).and_then(suggestion),
        };
        let Some(name) = name else { continue };
        // Only a name is replaced by a name: a span over more is no typo.
        let written = doc.slice(doc.offset(d.range.start)..doc.offset(d.range.end));
        if written.is_empty() || !written.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let edit = TextEdit { range: d.range, new_text: name.clone() };
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("Replace `{written}` with `{name}`"),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![d.clone()]),
            edit: Some(WorkspaceEdit {
                changes: Some(HashMap::from([(doc.uri.clone(), vec![edit])])),
                ..Default::default()
            }),
            is_preferred: Some(true),
            ..Default::default()
        }));
    }
    Ok(Some(out))
}
