//! Go to definition, find references and rename: elements, parameters,
//! fields, locals and processes, across the files the document imports.

use super::analysis::{Analysis, Symbol};
use super::diagnostics::location;
use super::documents::Document;
use super::Context;
use lsp_types::{
    GotoDefinitionParams, GotoDefinitionResponse, Location, PrepareRenameResponse, ReferenceParams, RenameParams,
    TextDocumentPositionParams, TextEdit, Uri, WorkspaceEdit,
};
use std::collections::HashMap;

/// `textDocument/definition`.
pub fn definition(context: &Context, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>, String> {
    let (doc, analysis, offset) = context.at(&params.text_document_position_params)?;
    let Some(found) = analysis.at(crate::source::FileId(0), offset) else {
        return Ok(None);
    };
    let declared = analysis.declaration(&found.symbol);
    Ok(declared.and_then(|d| location(doc, analysis, context, d.span)).map(GotoDefinitionResponse::Scalar))
}

/// `textDocument/references`.
pub fn references(context: &Context, params: ReferenceParams) -> Result<Option<Vec<Location>>, String> {
    let (doc, analysis, offset) = context.at(&params.text_document_position)?;
    let Some(found) = analysis.at(crate::source::FileId(0), offset) else {
        return Ok(None);
    };
    let with_declaration = params.context.include_declaration;
    let places = everywhere(context, doc, analysis, &found.symbol, with_declaration);
    Ok(Some(places))
}

/// Every place a symbol is written: in the document and its imports, and
/// in the other open documents that load the same files (a document that
/// imports this one), each place once.
fn everywhere(
    context: &Context,
    doc: &Document,
    analysis: &Analysis,
    symbol: &Symbol,
    with_declaration: bool,
) -> Vec<Location> {
    let mut places: Vec<Location> = Vec::new();
    let mut add = |doc: &Document, analysis: &Analysis| {
        for o in analysis.occurrences_of(symbol).filter(|o| with_declaration || !o.declaration) {
            if let Some(place) = location(doc, analysis, context, o.span) {
                if !places.contains(&place) {
                    places.push(place);
                }
            }
        }
    };
    add(doc, analysis);
    // A local belongs to one script of one file: its name means nothing elsewhere.
    if !matches!(symbol, Symbol::Local { .. }) {
        for (other, theirs) in context.others(&doc.uri) {
            let declared_here = analysis.declaration(symbol).map(|d| analysis.sources.file(d.span.file).path.clone());
            let declared_there = theirs.declaration(symbol).map(|d| theirs.sources.file(d.span.file).path.clone());
            if declared_here.is_some() && declared_here == declared_there {
                add(other, theirs);
            }
        }
    }
    places
}

/// `textDocument/prepareRename`: the name under the cursor, if it can be renamed.
pub fn prepare_rename(
    context: &Context,
    params: TextDocumentPositionParams,
) -> Result<Option<PrepareRenameResponse>, String> {
    let (doc, analysis, offset) = context.at(&params)?;
    match renameable(analysis, offset) {
        Ok(found) => Ok(Some(PrepareRenameResponse::Range(doc.range(found.range())))),
        Err(why) => Err(why),
    }
}

fn renameable(analysis: &Analysis, offset: usize) -> Result<crate::source::Span, String> {
    let found = analysis.at(crate::source::FileId(0), offset).ok_or("there is no name here to rename")?;
    if let Symbol::Function(name) = &found.symbol {
        return Err(format!("`{name}` is a standard function and cannot be renamed"));
    }
    if analysis.declaration(&found.symbol).is_none() {
        return Err(format!("`{}` is not declared in these files", found.symbol.name()));
    }
    Ok(found.span)
}

/// `textDocument/rename`: every place the symbol is written, in every file
/// loaded with the document. Refuses a name that is not an identifier, a
/// reserved word, or a name the symbol's scope already has.
// `WorkspaceEdit` keys its changes by `Uri`, which clippy deems mutable.
#[allow(clippy::mutable_key_type)]
pub fn rename(context: &Context, params: RenameParams) -> Result<Option<WorkspaceEdit>, String> {
    let (doc, analysis, offset) = context.at(&params.text_document_position)?;
    let span = renameable(analysis, offset)?;
    let found = analysis.at(span.file, span.start as usize).ok_or("there is no name here to rename")?;
    let new_name = params.new_name.trim();
    if !is_identifier(new_name) {
        return Err(format!("`{new_name}` is not a name: a name is a letter or `_`, then letters, digits or `_`"));
    }
    if crate::syntax::is_reserved(new_name) {
        return Err(format!("`{new_name}` is a reserved word and cannot be a name"));
    }
    if new_name == found.symbol.name() {
        return Ok(None);
    }
    if let Some(clash) = clash(analysis, &found.symbol, new_name) {
        return Err(format!("cannot rename `{}` to `{new_name}`: {clash}", found.symbol.name()));
    }
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for place in everywhere(context, doc, analysis, &found.symbol, true) {
        changes.entry(place.uri).or_default().push(TextEdit { range: place.range, new_text: new_name.to_string() });
    }
    Ok(Some(WorkspaceEdit { changes: Some(changes), ..Default::default() }))
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What already has the name in the symbol's scope, if anything.
fn clash(analysis: &Analysis, symbol: &Symbol, new_name: &str) -> Option<String> {
    let declared = |s: &Symbol| analysis.declaration(s).is_some();
    match symbol {
        Symbol::Process(_) => {
            declared(&Symbol::Process(new_name.into())).then(|| format!("a process `{new_name}` exists already"))
        }
        Symbol::Element { process, .. } => {
            declared(&Symbol::Element { process: process.clone(), name: new_name.into() })
                .then(|| format!("`{process}` has an element `{new_name}` already"))
        }
        Symbol::Field { process, element, .. } => {
            declared(&Symbol::Field { process: process.clone(), element: element.clone(), name: new_name.into() })
                .then(|| format!("`{element}` has a field `{new_name}` already"))
        }
        Symbol::Parameter { process, .. } | Symbol::Local { process, .. } => {
            let parameter = declared(&Symbol::Parameter { process: process.clone(), name: new_name.into() });
            let local = analysis.occurrences.iter().any(|o| {
                o.declaration
                    && matches!(&o.symbol, Symbol::Local { process: p, name, .. } if p == process && name == new_name)
            });
            let field = analysis.occurrences.iter().any(|o| {
                o.declaration
                    && matches!(&o.symbol, Symbol::Field { process: p, name, .. } if p == process && name == new_name)
            });
            if parameter {
                Some(format!("`{process}` has a parameter `{new_name}` already"))
            } else if local || field {
                Some(format!("`{process}` has a name `{new_name}` in a script already"))
            } else {
                None
            }
        }
        Symbol::Function(_) => Some("standard functions cannot be renamed".into()),
    }
}
