//! One analysis of an open document: its files loaded and checked as
//! `procdsl check` does, and an index of every name written in them — what
//! it names, and where — that hover, navigation, completion, symbols and
//! semantic tokens all read.

use crate::check::{self, default_element_uid, default_process_uid};
use crate::diagnostic::Diagnostic;
use crate::runtime::builtins::Builtin;
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::ast::{self, ElementKind, ExprKind, StepKind, StmtKind};
use crate::syntax::incremental;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a name written in the source stands for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Symbol {
    Process(String),
    Element {
        process: String,
        name: String,
    },
    Parameter {
        process: String,
        name: String,
    },
    /// A user task's field.
    Field {
        process: String,
        element: String,
        name: String,
    },
    /// A `let`, a `for` variable or a `for each` item, told apart by where it is declared.
    Local {
        process: String,
        name: String,
        file: FileId,
        at: u32,
    },
    Function(String),
}

impl Symbol {
    /// The name as written.
    pub fn name(&self) -> &str {
        match self {
            Symbol::Process(name) | Symbol::Function(name) => name,
            Symbol::Element { name, .. }
            | Symbol::Parameter { name, .. }
            | Symbol::Field { name, .. }
            | Symbol::Local { name, .. } => name,
        }
    }
}

/// A name written in a file.
#[derive(Clone, Debug)]
pub struct Occurrence {
    pub span: Span,
    pub symbol: Symbol,
    /// Where the name is declared, not used.
    pub declaration: bool,
}

/// A document's files, checked and indexed.
pub struct Analysis {
    pub sources: SourceMap,
    /// Every diagnostic of `procdsl check`, errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
    /// The syntax trees of the files that parsed.
    pub trees: Vec<(FileId, ast::File)>,
    /// Every name, in file and offset order.
    pub occurrences: Vec<Occurrence>,
    /// A description of each declared symbol, for hover.
    pub details: HashMap<Symbol, String>,
}

impl Analysis {
    /// Loads and checks the document at `path`, with `open` standing for
    /// the unsaved documents (by canonical path), and indexes its names.
    ///
    /// `previous` is the document's last analysis that parsed: when the edit
    /// since lies within one element or item, only that is parsed again
    /// (`syntax::incremental`), and the previous analysis is used up — its
    /// tree becomes the new one's. Otherwise it is left as it was.
    pub fn new(path: &Path, open: HashMap<PathBuf, Arc<str>>, previous: &mut Option<Arc<Analysis>>) -> Analysis {
        let main = FileId(0);
        // About as many names as last time: growing the list costs copies of it.
        let expected = previous.as_ref().map_or(0, |p| p.occurrences.len() + p.occurrences.len() / 8);
        let reuse = |text: &str| {
            let before = previous.as_ref()?;
            let splice = incremental::plan(main, &before.sources.file(main).text, before.tree(main)?, text)?;
            // Taken, not copied, when nothing else holds the previous analysis.
            let tree = match Arc::try_unwrap(previous.take()?) {
                Ok(mut before) => {
                    before.trees.iter_mut().find(|(id, _)| *id == main).map(|(_, t)| std::mem::take(t))?
                }
                Err(shared) => shared.tree(main)?.clone(),
            };
            Some(splice.apply(tree))
        };
        let (result, trees) = check::load_document(path, open, reuse);
        let (sources, diagnostics) = match result {
            Ok(loaded) => (loaded.program.sources, loaded.warnings),
            Err(failure) => (failure.sources, failure.diagnostics),
        };
        let mut indexer = Indexer {
            sources: &sources,
            out: Vec::with_capacity(expected),
            details: HashMap::new(),
            scopes: Vec::new(),
        };
        let processes: HashMap<&str, &ast::Process> =
            trees.iter().flat_map(|(_, f)| &f.processes).map(|p| (p.name.name.as_str(), p)).collect();
        for (_, tree) in &trees {
            for p in &tree.processes {
                indexer.process(p);
            }
            for t in &tree.tests {
                indexer.test(t, &processes);
            }
        }
        let occurrences = in_text_order(indexer.out);
        let details = indexer.details;
        Analysis { sources, diagnostics, trees, occurrences, details }
    }

    /// The name at a byte offset of a file (touching its end counts).
    pub fn at(&self, file: FileId, offset: usize) -> Option<&Occurrence> {
        let offset = offset as u32;
        let i = self.occurrences.partition_point(|o| (o.span.file, o.span.end) < (file, offset));
        self.occurrences[i..]
            .iter()
            .take_while(|o| o.span.file == file && o.span.start <= offset)
            .find(|o| o.span.start <= offset && offset <= o.span.end)
    }

    /// Every place a symbol is written, its declarations first.
    pub fn occurrences_of<'a>(&'a self, symbol: &'a Symbol) -> impl Iterator<Item = &'a Occurrence> + 'a {
        let declared = self.occurrences.iter().filter(move |o| o.declaration && o.symbol == *symbol);
        declared.chain(self.occurrences.iter().filter(move |o| !o.declaration && o.symbol == *symbol))
    }

    /// Where a symbol is declared.
    pub fn declaration(&self, symbol: &Symbol) -> Option<&Occurrence> {
        self.occurrences.iter().find(|o| o.declaration && o.symbol == *symbol)
    }

    /// The processes of every file, by Code.
    pub fn processes(&self) -> impl Iterator<Item = &ast::Process> {
        self.trees.iter().flat_map(|(_, f)| &f.processes)
    }

    /// The tree of one file, if it parsed.
    pub fn tree(&self, file: FileId) -> Option<&ast::File> {
        self.trees.iter().find(|(id, _)| *id == file).map(|(_, tree)| tree)
    }

    /// A description of a declared symbol, for hover.
    pub fn detail(&self, symbol: &Symbol) -> Option<String> {
        let Symbol::Element { process, name } = symbol else {
            return self.details.get(symbol).cloned();
        };
        // The first of equal names, as the index declares them.
        let p = self.processes().find(|p| p.name.name == *process)?;
        let e = p.elements.iter().find(|e| e.name.name == *name)?;
        let element_uid = e
            .uid
            .as_ref()
            .and_then(|u| uuid::Uuid::parse_str(u.value.trim()).ok())
            .unwrap_or_else(|| default_element_uid(process_uid(p), &e.name.name));
        let caption = e.caption.as_ref().map(|c| format!("\n\ncaption \"{}\"", c.value)).unwrap_or_default();
        Some(format!(
            "```procdsl\n{} {}\n```\nelement of `{process}`{caption}\n\nUId `{element_uid}`",
            e.kind.keyword(),
            e.name.name
        ))
    }
}

/// A process's UId: the one written, or the default from its Code.
fn process_uid(p: &ast::Process) -> uuid::Uuid {
    p.uids
        .first()
        .and_then(|u| uuid::Uuid::parse_str(u.value.trim()).ok())
        .unwrap_or_else(|| default_process_uid(&p.name.name))
}

/// The occurrences by file and offset, equal ones in the order found. The
/// indexer finds them nearly in text order (an assignment's value before its
/// target); sorting small keys and moving each occurrence once costs less
/// than sorting the occurrences themselves.
fn in_text_order(found: Vec<Occurrence>) -> Vec<Occurrence> {
    let mut keys: Vec<(FileId, u32, u32)> =
        found.iter().enumerate().map(|(i, o)| (o.span.file, o.span.start, i as u32)).collect();
    keys.sort_unstable();
    let mut found: Vec<Option<Occurrence>> = found.into_iter().map(Some).collect();
    keys.iter().filter_map(|&(_, _, i)| found[i as usize].take()).collect()
}

struct Indexer<'a> {
    sources: &'a SourceMap,
    out: Vec<Occurrence>,
    details: HashMap<Symbol, String>,
    /// Names in scope, innermost last; the bottom holds the process's context.
    scopes: Vec<Vec<(String, Symbol)>>,
}

impl Indexer<'_> {
    fn text(&self, span: Span) -> &str {
        let text = &self.sources.file(span.file).text;
        text.get(span.range()).unwrap_or("")
    }

    fn add(&mut self, span: Span, symbol: Symbol, declaration: bool) {
        self.out.push(Occurrence { span, symbol, declaration });
    }

    fn declare(&mut self, span: Span, symbol: Symbol, detail: String) {
        self.details.entry(symbol.clone()).or_insert(detail);
        self.add(span, symbol, true);
    }

    fn bind(&mut self, name: &str, symbol: Symbol) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.to_string(), symbol));
        }
    }

    fn resolve(&self, name: &str) -> Option<Symbol> {
        self.scopes.iter().rev().flat_map(|s| s.iter().rev()).find(|(n, _)| n == name).map(|(_, s)| s.clone())
    }

    fn process(&mut self, p: &ast::Process) {
        let code = p.name.name.to_string();
        let uid = process_uid(p);
        let caption = p.captions.first().map(|c| format!("\n\ncaption \"{}\"", c.value)).unwrap_or_default();
        self.declare(
            p.name.span,
            Symbol::Process(code.clone()),
            format!("```procdsl\nprocess {code}\n```{caption}\n\nUId `{uid}`"),
        );
        let mut context = Vec::new();
        for param in &p.params {
            let symbol = Symbol::Parameter { process: code.clone(), name: param.name.name.to_string() };
            let default = param.default.as_ref().map(|d| format!(" = {}", self.text(d.span))).unwrap_or_default();
            let detail = format!(
                "```procdsl\n{} {}: {}{default}\n```\nparameter of `{code}`",
                param.direction.keyword(),
                param.name.name,
                self.text(param.ty.span)
            );
            self.declare(param.name.span, symbol.clone(), detail);
            context.push((param.name.name.to_string(), symbol));
        }
        // An element's description is made when hover asks for it (`Analysis::detail`):
        // a large process has thousands, and a keystroke would pay for each.
        for e in &p.elements {
            let symbol = Symbol::Element { process: code.clone(), name: e.name.name.to_string() };
            self.add(e.name.span, symbol, true);
        }
        for e in &p.elements {
            self.scopes = vec![context.clone(), Vec::new()];
            self.element(&code, e);
        }
        self.scopes.clear();
    }

    fn element(&mut self, process: &str, e: &ast::Element) {
        let target = |name: &ast::Ident| Symbol::Element { process: process.to_string(), name: name.name.to_string() };
        if let Some(each) = &e.for_each {
            self.expr(&each.list);
            let symbol = Symbol::Local {
                process: process.to_string(),
                name: each.var.name.to_string(),
                file: each.var.span.file,
                at: each.var.span.start,
            };
            self.declare(
                each.var.span,
                symbol.clone(),
                format!("```procdsl\nfor each {}\n```\nthe item of `{}`", each.var.name, e.name.name),
            );
            self.bind(&each.var.name, symbol);
            if let Some(until) = &each.until {
                self.expr(until);
            }
        }
        match &e.kind {
            ElementKind::Script(block) => self.block(process, block),
            ElementKind::Exclusive(branches) | ElementKind::Inclusive(branches) => {
                for b in branches {
                    if let Some(c) = &b.condition {
                        self.expr(c);
                    }
                    self.add(b.target.span, target(&b.target), false);
                }
            }
            ElementKind::User { to, fields, done } => {
                if let Some(to) = to {
                    self.expr(to);
                }
                let mut names = Vec::new();
                for f in fields {
                    let symbol = Symbol::Field {
                        process: process.to_string(),
                        element: e.name.name.to_string(),
                        name: f.name.name.to_string(),
                    };
                    if let Some(d) = &f.default {
                        self.expr(d);
                    }
                    let default = f.default.as_ref().map(|d| format!(" = {}", self.text(d.span))).unwrap_or_default();
                    let detail = format!(
                        "```procdsl\nin {}: {}{default}\n```\nfield of user task `{}`",
                        f.name.name,
                        self.text(f.ty.span),
                        e.name.name
                    );
                    self.declare(f.name.span, symbol.clone(), detail);
                    names.push((f.name.name.to_string(), symbol));
                }
                if let Some(done) = done {
                    self.scopes.push(names);
                    self.block(process, done);
                    self.scopes.pop();
                }
            }
            ElementKind::Timer(ast::TimerKind::At(at)) => self.expr(at),
            ElementKind::Call { process: callee, inputs, outputs } => {
                self.add(callee.span, Symbol::Process(callee.name.to_string()), false);
                let param = |name: &ast::Ident| Symbol::Parameter {
                    process: callee.name.to_string(),
                    name: name.name.to_string(),
                };
                for (name, value) in inputs {
                    self.add(name.span, param(name), false);
                    self.expr(value);
                }
                for (from, to) in outputs {
                    self.add(from.span, param(from), false);
                    self.name(to);
                }
            }
            _ => {}
        }
        for t in &e.flow.targets {
            self.add(t.span, target(t), false);
        }
        if let Some(h) = &e.flow.on_error {
            self.add(h.span, target(h), false);
        }
        for b in &e.flow.boundaries {
            if let ast::BoundaryKind::Deadline(ast::TimerKind::At(at)) = &b.kind {
                self.expr(at);
            }
            self.add(b.target.span, target(&b.target), false);
        }
    }

    fn name(&mut self, name: &ast::Ident) {
        if let Some(symbol) = self.resolve(&name.name) {
            self.add(name.span, symbol, false);
        }
    }

    fn block(&mut self, process: &str, block: &ast::Block) {
        self.scopes.push(Vec::new());
        for stmt in &block.stmts {
            self.stmt(process, stmt);
        }
        self.scopes.pop();
    }

    fn stmt(&mut self, process: &str, stmt: &ast::Stmt) {
        match &stmt.kind {
            StmtKind::Assign { target, value } => {
                self.expr(value);
                self.name(&target.root);
                for a in &target.path {
                    if let ast::Accessor::Index(i) = a {
                        self.expr(i);
                    }
                }
            }
            StmtKind::Let { name, value } => {
                self.expr(value);
                let symbol = Symbol::Local {
                    process: process.into(),
                    name: name.name.to_string(),
                    file: name.span.file,
                    at: name.span.start,
                };
                self.declare(
                    name.span,
                    symbol.clone(),
                    format!("```procdsl\nlet {} = {}\n```", name.name, self.text(value.span)),
                );
                self.bind(&name.name, symbol);
            }
            StmtKind::If { branches, otherwise } => {
                for (c, b) in branches {
                    self.expr(c);
                    self.block(process, b);
                }
                if let Some(b) = otherwise {
                    self.block(process, b);
                }
            }
            StmtKind::While { condition, body } => {
                self.expr(condition);
                self.block(process, body);
            }
            StmtKind::For { var, iter, body } => {
                match iter {
                    ast::ForIter::List(e) => self.expr(e),
                    ast::ForIter::Range(a, b) => {
                        self.expr(a);
                        self.expr(b);
                    }
                }
                self.scopes.push(Vec::new());
                let symbol = Symbol::Local {
                    process: process.into(),
                    name: var.name.to_string(),
                    file: var.span.file,
                    at: var.span.start,
                };
                self.declare(var.span, symbol.clone(), format!("```procdsl\nfor {}\n```\na loop variable", var.name));
                self.bind(&var.name, symbol);
                self.block(process, body);
                self.scopes.pop();
            }
            StmtKind::Fail(e) | StmtKind::Log(e) | StmtKind::Emit(e) | StmtKind::Expr(e) => self.expr(e),
            StmtKind::Break | StmtKind::Continue | StmtKind::Return => {}
        }
    }

    fn expr(&mut self, expr: &ast::Expr) {
        match &expr.kind {
            ExprKind::Var(name) => self.name(name),
            ExprKind::Call(name, args) => {
                if Builtin::lookup(&name.name).is_some() {
                    self.add(name.span, Symbol::Function(name.name.to_string()), false);
                }
                for a in args {
                    self.expr(a);
                }
            }
            ExprKind::Text(parts) => {
                for part in parts {
                    if let ast::TextPart::Interpolation(e) = part {
                        self.expr(e);
                    }
                }
            }
            ExprKind::List(items) => items.iter().for_each(|e| self.expr(e)),
            ExprKind::Object(attrs) => attrs.iter().for_each(|(_, e)| self.expr(e)),
            ExprKind::Field(e, _) | ExprKind::Unary(_, e) => self.expr(e),
            ExprKind::Index(pair) | ExprKind::Binary(_, pair) => pair.iter().for_each(|e| self.expr(e)),
            ExprKind::Conditional(a, b, c) => {
                self.expr(a);
                self.expr(b);
                self.expr(c);
            }
            ExprKind::Null | ExprKind::Boolean(_) | ExprKind::Integer(_) | ExprKind::Decimal(_) => {}
        }
    }

    /// A test's steps: names refer to the process its last `start` started.
    fn test(&mut self, test: &ast::Test, processes: &HashMap<&str, &ast::Process>) {
        let mut current = String::new();
        let params_of = |code: &str| -> Vec<(String, Symbol)> {
            processes
                .get(code)
                .map(|p| {
                    p.params
                        .iter()
                        .map(|q| {
                            (
                                q.name.name.to_string(),
                                Symbol::Parameter { process: code.to_string(), name: q.name.name.to_string() },
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let param = |code: &str, name: &ast::Ident| Symbol::Parameter {
            process: code.to_string(),
            name: name.name.to_string(),
        };
        for step in &test.steps {
            let element = |current: &str, name: &ast::Ident| Symbol::Element {
                process: current.to_string(),
                name: name.name.to_string(),
            };
            match &step.kind {
                StepKind::Start { process, inputs } => {
                    current = process.name.to_string();
                    self.add(process.span, Symbol::Process(current.clone()), false);
                    self.scopes = vec![params_of(&current)];
                    for (name, value) in inputs {
                        self.add(name.span, param(&current, name), false);
                        self.expr(value);
                    }
                }
                StepKind::Exec { element: e, fields, .. } => {
                    self.add(e.span, element(&current, e), false);
                    for (name, value) in fields {
                        let field = Symbol::Field {
                            process: current.clone(),
                            element: e.name.to_string(),
                            name: name.name.to_string(),
                        };
                        self.add(name.span, field, false);
                        self.expr(value);
                    }
                }
                StepKind::Mock { process, mock } => {
                    self.add(process.span, Symbol::Process(process.name.to_string()), false);
                    if let ast::Mock::Outputs(values) = mock {
                        for (name, value) in values {
                            self.add(name.span, param(&process.name, name), false);
                            self.expr(value);
                        }
                    }
                }
                StepKind::AdvanceTo(e) => self.expr(e),
                StepKind::Expect(expectation) => match expectation {
                    ast::Expectation::Expr(e) => self.expr(e),
                    ast::Expectation::Waiting(names)
                    | ast::Expectation::Passed(names)
                    | ast::Expectation::NotPassed(names) => {
                        for n in names {
                            self.add(n.span, element(&current, n), false);
                        }
                    }
                    _ => {}
                },
                StepKind::Now(_) | StepKind::Signal(_) | StepKind::Advance(_) => {}
            }
        }
        self.scopes.clear();
    }
}
