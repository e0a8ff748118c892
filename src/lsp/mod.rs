//! `procdsl lsp`: a Language Server over stdio.
//!
//! Built on `lsp-server` and `lsp-types` (rust-analyzer's own crates): a
//! synchronous loop over a channel of messages, with no async runtime —
//! every request is answered from the last analysis of its document, and
//! an analysis (parse and check, as `procdsl check`, with only the changed
//! element parsed again when the edit lies within one) runs on the loop's
//! thread once the messages waiting have been read, so a burst of
//! keystrokes costs one analysis (docs/EDITORS.md).

mod actions;
mod analysis;
mod completion;
mod diagnostics;
mod documents;
mod formatting;
mod functions;
mod hover;
mod navigation;
mod semantic_tokens;
mod symbols;

use crate::check::TYPE_NAMES as TYPES;
use analysis::Analysis;
use documents::Document;
use lsp_server::{Connection, ErrorCode, Message, Notification, ProtocolError, Request, Response};
use lsp_types::notification::{self as notify, Notification as _};
use lsp_types::{
    CompletionOptions, OneOf, PublishDiagnosticsParams, RenameOptions, SemanticTokensFullOptions,
    SemanticTokensOptions, ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, Uri, WorkDoneProgressOptions,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How the server ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    /// `shutdown` then `exit`, as the protocol asks.
    Clean,
    /// `exit` without `shutdown`, or the client went away.
    Abrupt,
}

/// Serves the language server protocol on stdin and stdout until `exit`.
pub fn serve_stdio() -> Result<Ending, String> {
    let (connection, io_threads) = Connection::stdio();
    let ending = serve(connection)?;
    // The reader ends at `exit`; the writer once every answer is written.
    io_threads.join().map_err(|e| e.to_string())?;
    Ok(ending)
}

/// Serves one connection: the handshake, then messages until `exit`.
pub fn serve(connection: Connection) -> Result<Ending, String> {
    let capabilities = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    let initialize = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": ServerInfo { name: "procdsl".into(), version: Some(env!("CARGO_PKG_VERSION").into()) },
    });
    // The client's capabilities change nothing: every answer is plain LSP 3.16.
    let handshake = || -> Result<(), ProtocolError> {
        let (id, _) = connection.initialize_start()?;
        connection.initialize_finish(id, initialize)
    };
    match handshake() {
        Ok(()) => {}
        // As after the handshake: the client went away, or sent what the
        // reader could not read, and `serve_stdio`'s join then says what.
        Err(e) if e.channel_is_disconnected() => return Ok(Ending::Abrupt),
        Err(e) => return Err(e.to_string()),
    }
    let mut server = Server { connection, context: Context::default() };
    server.run()
}

/// What the server offers (docs/EDITORS.md lists it for authors).
fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::INCREMENTAL),
            save: Some(lsp_types::TextDocumentSyncSaveOptions::Supported(true)),
            ..Default::default()
        })),
        hover_provider: Some(lsp_types::HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        completion_provider: Some(CompletionOptions {
            // `->` asks for element names at once; other contexts as the author types a name.
            trigger_characters: Some(vec![">".into()]),
            ..Default::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        semantic_tokens_provider: Some(
            SemanticTokensOptions {
                legend: semantic_tokens::legend(),
                full: Some(SemanticTokensFullOptions::Bool(true)),
                range: None,
                work_done_progress_options: WorkDoneProgressOptions::default(),
            }
            .into(),
        ),
        code_action_provider: Some(lsp_types::CodeActionProviderCapability::Simple(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..Default::default()
    }
}

/// The open documents and their last analyses.
#[derive(Default)]
pub struct Context {
    documents: HashMap<String, Document>,
    analyses: HashMap<String, Arc<Analysis>>,
    /// The last analysis in which each document parsed: completion's names
    /// while the text being typed does not parse.
    parsed: HashMap<String, Arc<Analysis>>,
}

impl Context {
    /// An open document with its last analysis.
    fn get(&self, uri: &Uri) -> Result<(&Document, &Analysis), String> {
        let doc = self.documents.get(uri.as_str()).ok_or_else(|| format!("{} is not open", uri.as_str()))?;
        let analysis = self.analyses.get(uri.as_str()).ok_or_else(|| format!("{} was not analysed", uri.as_str()))?;
        Ok((doc, analysis))
    }

    /// A position's document, its analysis, and the position as a byte offset.
    fn at(&self, position: &lsp_types::TextDocumentPositionParams) -> Result<(&Document, &Analysis, usize), String> {
        let (doc, analysis) = self.get(&position.text_document.uri)?;
        Ok((doc, analysis, doc.offset(position.position)))
    }

    /// The other open documents with their analyses.
    fn others<'a>(&'a self, uri: &'a Uri) -> impl Iterator<Item = (&'a Document, &'a Analysis)> + 'a {
        self.documents
            .iter()
            .filter(move |(key, _)| key.as_str() != uri.as_str())
            .filter_map(|(key, doc)| Some((doc, self.analyses.get(key)?.as_ref())))
    }

    /// The open document of a file, by canonical path.
    fn document_at(&self, path: &Path) -> Option<&Document> {
        self.documents.values().find(|d| d.canonical == path)
    }
}

struct Server {
    connection: Connection,
    context: Context,
}

impl Server {
    fn run(&mut self) -> Result<Ending, String> {
        loop {
            let Ok(message) = self.connection.receiver.recv() else {
                return Ok(Ending::Abrupt);
            };
            match message {
                Message::Request(request) => {
                    if self.connection.handle_shutdown(&request).map_err(|e| e.to_string())? {
                        return Ok(Ending::Clean);
                    }
                    self.analyse_dirty();
                    self.request(request);
                }
                Message::Notification(n) if n.method == notify::Exit::METHOD => return Ok(Ending::Abrupt),
                Message::Notification(n) => self.notification(n),
                Message::Response(_) => {}
            }
            // Edits typed in a burst are applied together, then analysed once.
            if self.connection.receiver.is_empty() {
                self.analyse_dirty();
            }
        }
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            notify::DidOpenTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params) {
                    let doc = Document::new(p.text_document.uri, p.text_document.version, p.text_document.text);
                    self.context.documents.insert(doc.uri.as_str().to_string(), doc);
                }
            }
            notify::DidChangeTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params) {
                    if let Some(doc) = self.context.documents.get_mut(p.text_document.uri.as_str()) {
                        doc.apply(p.text_document.version, p.content_changes);
                    }
                }
            }
            notify::DidSaveTextDocument::METHOD => {
                // Another document may import the saved one.
                for doc in self.context.documents.values_mut() {
                    doc.dirty = true;
                }
            }
            notify::DidCloseTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params) {
                    self.context.documents.remove(p.text_document.uri.as_str());
                    self.context.analyses.remove(p.text_document.uri.as_str());
                    self.context.parsed.remove(p.text_document.uri.as_str());
                    self.publish(p.text_document.uri, Vec::new(), None);
                }
            }
            _ => {}
        }
    }

    /// Analyses every document changed since its last analysis and publishes its diagnostics.
    fn analyse_dirty(&mut self) {
        let dirty: Vec<String> =
            self.context.documents.iter().filter(|(_, d)| d.dirty).map(|(uri, _)| uri.clone()).collect();
        if dirty.is_empty() {
            return;
        }
        let open: HashMap<PathBuf, Arc<str>> =
            self.context.documents.values().map(|d| (d.canonical.clone(), Arc::from(d.text.as_str()))).collect();
        for uri in dirty {
            let Some(doc) = self.context.documents.get_mut(&uri) else { continue };
            doc.dirty = false;
            let path = doc.canonical.clone();
            let open = open.clone();
            // The last analysis that parsed, held here alone, so that the
            // new one can take its tree over instead of copying it.
            let mut previous = self.context.parsed.remove(&uri);
            let current = self.context.analyses.remove(&uri);
            let current = current.filter(|c| !previous.as_ref().is_some_and(|p| Arc::ptr_eq(p, c)));
            match catch_unwind(AssertUnwindSafe(|| Analysis::new(&path, open, &mut previous))) {
                Ok(analysis) => {
                    let doc = &self.context.documents[&uri];
                    let found = diagnostics::of_document(doc, &analysis, &self.context);
                    let (uri, version) = (doc.uri.clone(), doc.version);
                    let analysis = Arc::new(analysis);
                    if analysis.tree(crate::source::FileId(0)).is_some() {
                        self.context.parsed.insert(uri.as_str().to_string(), analysis.clone());
                    } else if let Some(previous) = previous {
                        self.context.parsed.insert(uri.as_str().to_string(), previous);
                    }
                    self.context.analyses.insert(uri.as_str().to_string(), analysis);
                    self.publish(uri, found, Some(version));
                }
                Err(_) => {
                    // Requests go on being answered from the analyses before.
                    if let Some(current) = current.or_else(|| previous.clone()) {
                        self.context.analyses.insert(uri.clone(), current);
                    }
                    if let Some(previous) = previous {
                        self.context.parsed.insert(uri.clone(), previous);
                    }
                    self.log(&format!("the analysis of {uri} failed; its diagnostics are not up to date"))
                }
            }
        }
    }

    fn publish(&self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) {
        let params = PublishDiagnosticsParams { uri, diagnostics, version };
        let n = Notification::new(notify::PublishDiagnostics::METHOD.into(), params);
        let _ = self.connection.sender.send(n.into());
    }

    fn log(&self, message: &str) {
        let params = lsp_types::LogMessageParams { typ: lsp_types::MessageType::ERROR, message: message.into() };
        let n = Notification::new(notify::LogMessage::METHOD.into(), params);
        let _ = self.connection.sender.send(n.into());
    }

    fn request(&mut self, request: Request) {
        use lsp_types::request::*;
        let response = match request.method.as_str() {
            HoverRequest::METHOD => self.answer(request, hover::hover),
            GotoDefinition::METHOD => self.answer(request, navigation::definition),
            References::METHOD => self.answer(request, navigation::references),
            PrepareRenameRequest::METHOD => self.answer(request, navigation::prepare_rename),
            Rename::METHOD => self.answer(request, navigation::rename),
            Completion::METHOD => self.answer(request, completion::complete),
            DocumentSymbolRequest::METHOD => self.answer(request, symbols::outline),
            SemanticTokensFullRequest::METHOD => self.answer(request, semantic_tokens::full),
            CodeActionRequest::METHOD => self.answer(request, actions::actions),
            Formatting::METHOD => self.answer(request, formatting::format),
            _ => Response::new_err(
                request.id,
                ErrorCode::MethodNotFound as i32,
                format!("unknown method {}", request.method),
            ),
        };
        let _ = self.connection.sender.send(response.into());
    }

    /// Runs a handler; a panic in it answers an error instead of ending the server.
    fn answer<P: DeserializeOwned, R: Serialize>(
        &self,
        request: Request,
        handler: fn(&Context, P) -> Result<R, String>,
    ) -> Response {
        let id = request.id;
        let params: P = match serde_json::from_value(request.params) {
            Ok(p) => p,
            Err(e) => return Response::new_err(id, ErrorCode::InvalidParams as i32, e.to_string()),
        };
        match catch_unwind(AssertUnwindSafe(|| handler(&self.context, params))) {
            Ok(Ok(result)) => Response::new_ok(id, result),
            Ok(Err(message)) => Response::new_err(id, ErrorCode::RequestFailed as i32, message),
            Err(_) => {
                Response::new_err(id, ErrorCode::InternalError as i32, "the server failed on this request".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handler_that_panics_answers_an_error_and_the_server_carries_on() {
        let (server_side, _client_side) = Connection::memory();
        let server = Server { connection: server_side, context: Context::default() };
        fn fails(_: &Context, _: serde_json::Value) -> Result<(), String> {
            panic!("a bug in a handler")
        }
        fn works(_: &Context, _: serde_json::Value) -> Result<u32, String> {
            Ok(7)
        }
        let request = |id: i32| Request::new(id.into(), "procdsl/test".into(), serde_json::Value::Null);
        let failed = server.answer(request(1), fails);
        assert_eq!(failed.error.map(|e| e.code), Some(ErrorCode::InternalError as i32));
        let answered = server.answer(request(2), works);
        assert_eq!(answered.result, Some(serde_json::json!(7)));
    }
}
