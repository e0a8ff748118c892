//! The checker: loads `.proc` files with their imports, reports every
//! problem at once, and turns the AST into immutable [`ProcessSpec`]s.

pub mod ir;
mod script;
mod snippet;
pub mod spec;
pub mod testing;

use crate::diagnostic::{nearest, Diagnostic};
use crate::runtime::convert;
use crate::runtime::value::Type;
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::{self, ast};
use ir::CExprKind;
use script::Scope;
use spec::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;

/// The names of the types a declaration may use (`List` takes `<T>`): the
/// checker's "did you mean" and the editor's completion and highlighting.
pub const TYPE_NAMES: [&str; 8] = ["Text", "Integer", "Decimal", "Boolean", "Date", "DateTime", "Guid", "List"];

pub use snippet::{compile_snippet, Snippet};

/// Loading failed: the files read so far and every diagnostic (errors and warnings).
#[derive(Debug)]
pub struct LoadError {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadError {
    /// Every diagnostic rendered, for a terminal or a test.
    pub fn render(&self, color: bool) -> String {
        self.diagnostics.iter().map(|d| d.render(&self.sources, color)).collect::<Vec<_>>().join("\n")
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let errors = self.diagnostics.iter().filter(|d| d.is_error()).count();
        match self.diagnostics.iter().find(|d| d.is_error()) {
            Some(first) if errors == 1 => write!(f, "{first}"),
            Some(first) => write!(f, "{first} (and {} more errors)", errors - 1),
            None => f.write_str("the process definitions could not be loaded"),
        }
    }
}

impl std::error::Error for LoadError {}

impl miette::Diagnostic for LoadError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("procdsl::load"))
    }
}

/// A checked program and the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    pub program: Program,
    pub warnings: Vec<Diagnostic>,
    /// The files' `test` blocks, checked (`crate::testing` runs them).
    pub tests: Vec<testing::TestSpec>,
}

/// Loads `.proc` files and everything they import, and checks them.
pub fn load_files<P: AsRef<Path>>(paths: &[P]) -> Result<Loaded, LoadError> {
    let mut loader = Loader::default();
    for path in paths {
        loader.load_path(path.as_ref(), path.as_ref().display().to_string(), None);
    }
    loader.finish()
}

/// Loads one in-memory source (imports are resolved against the current directory).
pub fn load_str(name: &str, text: &str) -> Result<Loaded, LoadError> {
    let mut loader = Loader::default();
    let file = loader.sources.add(name, None, text);
    loader.parse_file(file, Path::new("."));
    loader.finish()
}

/// Loads an editor's document at `path` with its imports, where `open`
/// gives the unsaved text of any file (by canonical path), the document's
/// own among them; other imports are read from disk. Returns the syntax
/// trees of the files that parsed too, for the language server's navigation.
///
/// `reuse` is offered the document's text (as the checker reads it) first:
/// the tree it gives, if any, stands for that text's parse — the language
/// server's incremental reparse (`syntax::incremental`).
pub fn load_document(
    path: &Path,
    open: HashMap<PathBuf, Arc<str>>,
    reuse: impl FnOnce(&str) -> Option<ast::File>,
) -> (Result<Loaded, LoadError>, Vec<(FileId, ast::File)>) {
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let parsed = open.get(&canonical).and_then(|text| reuse(&crate::source::normalize(text.clone())));
    let mut loader = Loader { open, parsed, ..Loader::default() };
    loader.load_path(path, path.display().to_string(), None);
    loader.finish_with_trees()
}

/// Loads stored sources (name and text), as a store keeps them.
pub fn load_sources(files: &[(String, String)]) -> Result<Loaded, LoadError> {
    let mut loader = Loader { resolve_imports: false, ..Loader::default() };
    for (name, text) in files {
        let file = loader.sources.add(name.as_str(), Some(Path::new(name)), text.as_str());
        loader.parse_file(file, Path::new("."));
    }
    loader.finish()
}

struct Loader {
    sources: SourceMap,
    /// Texts that stand for files on disk, by canonical path: an editor's unsaved documents.
    open: HashMap<PathBuf, Arc<str>>,
    files: Vec<(FileId, ast::File)>,
    diagnostics: Vec<Diagnostic>,
    /// Canonical paths of the files being loaded, to find import cycles,
    /// with the names diagnostics show for them.
    stack: Vec<(PathBuf, String)>,
    resolve_imports: bool,
    /// Check the files' `test` blocks (not when a test's mocks are loaded).
    check_tests: bool,
    /// The first file's tree, parsed already (`load_document`).
    parsed: Option<ast::File>,
}

impl Default for Loader {
    fn default() -> Self {
        Loader {
            sources: SourceMap::new(),
            open: HashMap::new(),
            files: Vec::new(),
            diagnostics: Vec::new(),
            stack: Vec::new(),
            resolve_imports: true,
            check_tests: true,
            parsed: None,
        }
    }
}

impl Loader {
    /// Loads one file; `name` is how diagnostics show it: as given on the
    /// command line, or for an import, relative to the importing file's name,
    /// so that output does not depend on where the files live.
    fn load_path(&mut self, path: &Path, name: String, imported_at: Option<Span>) {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(at) = imported_at {
            if let Some(i) = self.stack.iter().position(|(p, _)| *p == canonical) {
                let cycle: Vec<&str> = self.stack[i..].iter().map(|(_, n)| n.as_str()).chain([name.as_str()]).collect();
                self.diagnostics.push(
                    Diagnostic::error("procdsl::check::import_cycle", format!("import cycle: {}", cycle.join(" → ")))
                        .with_label(at, "this import leads back to a file that imports it"),
                );
                return;
            }
        }
        if self.sources.find_path(&canonical).is_some() {
            return;
        }
        let read = match self.open.get(&canonical) {
            Some(text) => Ok(text.to_string()),
            None => std::fs::read_to_string(path),
        };
        let text = match read {
            Ok(text) => text,
            Err(e) => {
                let mut d = Diagnostic::error("procdsl::check::unreadable", format!("cannot read `{name}`: {e}"));
                if let Some(at) = imported_at {
                    d = d.with_label(at, "imported here");
                }
                self.diagnostics.push(d);
                return;
            }
        };
        let file = self.sources.add(name.clone(), Some(&canonical), text);
        let dir = canonical.parent().map(Path::to_path_buf).unwrap_or_default();
        self.stack.push((canonical, name));
        self.parse_file(file, &dir);
        self.stack.pop();
    }

    fn parse_file(&mut self, file: FileId, dir: &Path) {
        let text = self.sources.file(file).text.clone();
        let parsed = match self.parsed.take().filter(|_| file == FileId(0)) {
            Some(tree) => Ok(tree),
            None => syntax::parse(file, &text),
        };
        match parsed {
            Ok(ast) => {
                if self.resolve_imports {
                    let shown_dir = Path::new(&self.sources.file(file).name).parent().map(Path::to_path_buf);
                    for import in &ast.imports {
                        let name = lexical_normal(&shown_dir.clone().unwrap_or_default().join(&import.value));
                        self.load_path(&dir.join(&import.value), name, Some(import.span));
                    }
                }
                self.files.push((file, ast));
            }
            Err(d) => self.diagnostics.push(d),
        }
    }

    fn finish(self) -> Result<Loaded, LoadError> {
        self.finish_with_trees().0
    }

    /// Checks the files loaded, and gives their trees back.
    fn finish_with_trees(mut self) -> (Result<Loaded, LoadError>, Vec<(FileId, ast::File)>) {
        let processes: Vec<&ast::Process> = self.files.iter().flat_map(|(_, f)| &f.processes).collect();
        let mut checker = Checker { diagnostics: std::mem::take(&mut self.diagnostics), ..Checker::default() };
        let specs = checker.check_program(&processes);
        let tests: Vec<&ast::Test> =
            self.files.iter().filter(|_| self.check_tests).flat_map(|(_, f)| &f.tests).collect();
        let tests = checker.check_tests(&tests, &specs, &processes, &self.sources);
        let nesting = checker.max_depth;
        let mut diagnostics = checker.diagnostics;
        let files = std::mem::take(&mut self.files);
        diagnostics.sort_by_key(|d| (std::cmp::Reverse(d.severity), d.span().map(|s| (s.file, s.start))));
        if diagnostics.iter().any(Diagnostic::is_error) {
            return (Err(LoadError { sources: self.sources, diagnostics }), files);
        }
        (Ok(Loaded { program: Program::new(self.sources, specs, nesting), warnings: diagnostics, tests }), files)
    }
}

/// `lib/../a.proc` → `a.proc`, without touching the file system.
fn lexical_normal(path: &Path) -> String {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.display().to_string()
}

#[derive(Default)]
pub(crate) struct Checker {
    diagnostics: Vec<Diagnostic>,
    /// How deeply the expression or block being compiled is nested.
    depth: u32,
    /// The deepest nesting seen: what the interpreter's recursion will need.
    pub(crate) max_depth: u32,
    /// How many unknown types were reported.
    unknown_types: usize,
    /// Parameters whose declared type is unknown. The unknown type was
    /// reported once; checking values against the stand-in type would only
    /// add false errors. Each is the very `Arc` every table of its process
    /// shares, compared by address, so that equal Codes in other processes
    /// are not mistaken for it.
    untyped: Vec<Arc<str>>,
}

/// Default UIds are UUID v5 values, so they are stable across runs.
pub fn default_process_uid(code: &str) -> Uuid {
    uuid_v5(&Uuid::nil(), code)
}

/// An element's default UId: UUID v5 of its name in its process UId's namespace.
pub fn default_element_uid(process_uid: Uuid, name: &str) -> Uuid {
    uuid_v5(&process_uid, name)
}

/// `Uuid::new_v5`, bit for bit, with a SHA-1 that uses the CPU's SHA
/// instructions where it has them: uuid's own is software only, and a
/// large process makes one per element.
fn uuid_v5(namespace: &Uuid, name: &str) -> Uuid {
    let name = name.as_bytes();
    let mut bytes = [0u8; 16];
    // Namespace, name, 0x80 and the 8-byte length fit one 64-byte block for
    // names up to 39 bytes, nearly all of them: compressing that block
    // directly takes about 60 % of the time the `Digest` buffer does.
    let end = 16 + name.len();
    if end + 9 <= 64 {
        let mut block = [0u8; 64];
        block[..16].copy_from_slice(namespace.as_bytes());
        block[16..end].copy_from_slice(name);
        block[end] = 0x80;
        block[56..].copy_from_slice(&(end as u64 * 8).to_be_bytes());
        let mut state = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
        sha1::compress(&mut state, &[block.into()]);
        for (out, word) in bytes.chunks_exact_mut(4).zip(state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
    } else {
        use sha1::Digest;
        let digest = sha1::Sha1::new().chain_update(namespace.as_bytes()).chain_update(name).finalize();
        bytes.copy_from_slice(&digest[..16]);
    }
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

fn duplicate(code: &'static str, what: &str, name: &str, again: Span, first: Span) -> Diagnostic {
    Diagnostic::error(code, format!("{what} `{name}` is defined twice"))
        .with_label(again, "defined again here")
        .with_label(first, "first defined here")
}

impl Checker {
    pub(crate) fn error(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn check_program(&mut self, processes: &[&ast::Process]) -> Vec<ProcessSpec> {
        let mut codes: HashMap<&str, Span> = HashMap::new();
        let mut uids: HashMap<Uuid, Span> = HashMap::new();
        let mut unique = Vec::new();
        for p in processes {
            if let Some(first) = codes.get(p.name.name.as_str()) {
                self.error(duplicate(
                    "procdsl::check::duplicate_process",
                    "process",
                    &p.name.name,
                    p.name.span,
                    *first,
                ));
                continue;
            }
            codes.insert(&p.name.name, p.name.span);
            unique.push(*p);
        }
        let process_ids: HashMap<&str, ProcessId> =
            unique.iter().enumerate().map(|(i, p)| (p.name.name.as_str(), ProcessId(i as u32))).collect();
        let mut specs = Vec::with_capacity(unique.len());
        // Parameters of every process first: a call's mappings need the callee's.
        let params: Vec<Vec<ParamSpec>> = unique.iter().map(|p| self.check_params(p)).collect();
        let mut param_info: Vec<Vec<(Arc<str>, Type, ast::Direction)>> = Vec::new();
        for ps in &params {
            param_info.push(ps.iter().map(|p| (p.code.clone(), p.ty.clone(), p.direction)).collect());
        }
        for (p, params) in unique.iter().zip(params) {
            let uid = self.process_uid(p);
            if let Some(first) = uids.get(&uid) {
                let at = p.uids.first().map_or(p.name.span, |u| u.span);
                self.error(
                    Diagnostic::error("procdsl::check::duplicate_uid", format!("process UId {uid} is used twice"))
                        .with_label(at, "used again here")
                        .with_label(*first, "first used here"),
                );
            }
            uids.insert(uid, p.uids.first().map_or(p.name.span, |u| u.span));
            let ctx = ProgramContext { process_ids: &process_ids, params: &param_info };
            specs.push(self.check_process(p, uid, params, &ctx));
        }
        specs
    }

    fn process_uid(&mut self, p: &ast::Process) -> Uuid {
        if let Some(caption) = p.captions.get(1) {
            self.error(duplicate(
                "procdsl::check::duplicate_caption",
                "caption of process",
                &p.name.name,
                caption.span,
                p.captions[0].span,
            ));
        }
        if let Some(uid) = p.uids.get(1) {
            self.error(duplicate(
                "procdsl::check::duplicate_uid",
                "uid of process",
                &p.name.name,
                uid.span,
                p.uids[0].span,
            ));
        }
        match p.uids.first() {
            Some(lit) => self.parse_uid(lit).unwrap_or_else(|| default_process_uid(&p.name.name)),
            None => default_process_uid(&p.name.name),
        }
    }

    fn parse_uid(&mut self, lit: &ast::StrLit) -> Option<Uuid> {
        match Uuid::parse_str(lit.value.trim()) {
            Ok(u) => Some(u),
            Err(_) => {
                self.error(
                    Diagnostic::error("procdsl::check::bad_uid", format!("`{}` is not a UId", lit.value))
                        .with_label(lit.span, "expected a GUID such as 8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d"),
                );
                None
            }
        }
    }

    pub(crate) fn resolve_type(&mut self, ty: &ast::TypeExpr) -> Type {
        match &ty.kind {
            ast::TypeExprKind::Named(name) => match name.name.as_str() {
                "Text" => Type::Text,
                "Integer" => Type::Integer,
                "Decimal" => Type::Decimal,
                "Boolean" => Type::Boolean,
                "Date" => Type::Date,
                "DateTime" => Type::DateTime,
                "Guid" => Type::Guid,
                other => {
                    let mut d = Diagnostic::error("procdsl::check::unknown_type", format!("unknown type `{other}`"))
                        .with_label(name.span, "not a type");
                    d = match type_alias(other).or_else(|| nearest(other, TYPE_NAMES)) {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None => d.with_help("types are Text, Integer, Decimal, Boolean, Date, DateTime, Guid, List<T> and { Attr: T, … }"),
                    };
                    self.error(d);
                    self.unknown_types += 1;
                    Type::Text
                }
            },
            ast::TypeExprKind::List(item) => Type::List(Box::new(self.resolve_type(item))),
            ast::TypeExprKind::Object(attrs) => {
                let mut out: Vec<(Arc<str>, Type)> = Vec::new();
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for (name, t) in attrs {
                    if let Some(first) = seen.get(name.name.as_str()) {
                        self.error(duplicate(
                            "procdsl::check::duplicate_attribute",
                            "attribute",
                            &name.name,
                            name.span,
                            *first,
                        ));
                        continue;
                    }
                    seen.insert(&name.name, name.span);
                    out.push((name.name.as_str().into(), self.resolve_type(t)));
                }
                Type::Object(Arc::new(out))
            }
        }
    }

    /// A type, and whether it is known: when it is not, that was reported,
    /// and nothing should be checked against the stand-in.
    pub(crate) fn resolve_type_once(&mut self, ty: &ast::TypeExpr) -> (Type, bool) {
        let before = self.unknown_types;
        let ty = self.resolve_type(ty);
        (ty, self.unknown_types == before)
    }

    /// Whether values can be checked against this parameter's type.
    pub(crate) fn is_typed(&self, code: &Arc<str>) -> bool {
        !self.untyped.iter().any(|c| Arc::ptr_eq(c, code))
    }

    /// A default: a constant expression that fits the declared type.
    fn constant(&mut self, expr: &ast::Expr, ty: &Type, what: &str) -> Option<crate::runtime::value::Value> {
        let mut no_read = Vec::new();
        let mut scope = Scope::new(&[], &mut no_read);
        scope.names_allowed = false;
        let before = self.diagnostics.len();
        let compiled = self.compile_expr(expr, &mut scope);
        if self.diagnostics.len() > before {
            return None;
        }
        match compiled.kind {
            CExprKind::Const(v) => match convert::conform(v, ty) {
                Ok(v) => Some(v),
                Err(why) => {
                    self.error(
                        Diagnostic::error(
                            "procdsl::check::wrong_type",
                            format!("the default of {what} is not {}: {why}", ty.with_article()),
                        )
                        .with_label(expr.span, format!("not {}", ty.with_article())),
                    );
                    None
                }
            },
            _ => {
                let d = match script::constant_failure(&compiled) {
                    Some((span, why)) => Diagnostic::error(
                        "procdsl::check::bad_default",
                        format!("the default of {what} cannot be computed: {why}"),
                    )
                    .with_label(span, why),
                    None => Diagnostic::error(
                        "procdsl::check::not_constant",
                        format!("the default of {what} must be a constant"),
                    )
                    .with_label(expr.span, "cannot be computed before the process runs"),
                };
                self.error(d);
                None
            }
        }
    }

    fn check_params(&mut self, p: &ast::Process) -> Vec<ParamSpec> {
        let mut out: Vec<ParamSpec> = Vec::new();
        for param in &p.params {
            if let Some(first) = out.iter().find(|q| *q.code == *param.name.name) {
                self.error(duplicate(
                    "procdsl::check::duplicate_parameter",
                    "parameter",
                    &param.name.name,
                    param.name.span,
                    first.span,
                ));
                continue;
            }
            let (ty, typed) = self.resolve_type_once(&param.ty);
            let default = match &param.default {
                Some(e) if typed => self.constant(e, &ty, &format!("`{}`", param.name.name)).unwrap_or_default(),
                _ => Default::default(),
            };
            let code: Arc<str> = param.name.name.as_str().into();
            if !typed {
                self.untyped.push(code.clone());
            }
            out.push(ParamSpec { code, direction: param.direction, ty, default, span: param.name.span });
        }
        out
    }
}

/// The type meant by a name other languages use for it.
fn type_alias(name: &str) -> Option<&'static str> {
    Some(match name.to_lowercase().as_str() {
        "string" | "str" | "char" | "varchar" => "Text",
        "int" | "long" | "int32" | "int64" | "i64" => "Integer",
        "number" | "float" | "double" | "money" | "currency" | "numeric" | "real" => "Decimal",
        "bool" => "Boolean",
        "timestamp" | "time" | "instant" => "DateTime",
        "uuid" | "id" | "uniqueidentifier" => "Guid",
        "array" | "vec" | "seq" => "List",
        _ => return None,
    })
}

/// What checking one process needs to know about the others.
struct ProgramContext<'a> {
    process_ids: &'a HashMap<&'a str, ProcessId>,
    params: &'a [Vec<(Arc<str>, Type, ast::Direction)>],
}

mod process;

#[cfg(test)]
mod tests {
    use super::*;

    /// The default UIds are stored and compared across versions: ours must be uuid's, bit for bit.
    #[test]
    fn check_uuid_v5_is_uuids_own() {
        let namespaces = [
            Uuid::nil(),
            Uuid::NAMESPACE_DNS,
            default_process_uid("W5Chain"),
            Uuid::parse_str("8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d").unwrap(),
        ];
        // Lengths from empty to past two SHA-1 blocks: the one-block path, its
        // edge (39 and 40 bytes) and the `Digest` path.
        let mut names: Vec<String> = (0..=150).map(|n| "x".repeat(n)).collect();
        names.extend((1..=2000).map(|i| format!("t{i}")));
        names.extend(["Überprüfung", "审批", "a b\tc", "\u{0}", "🦀🦀🦀"].map(String::from));
        for ns in namespaces {
            for name in &names {
                assert_eq!(uuid_v5(&ns, name), Uuid::new_v5(&ns, name.as_bytes()), "{ns} {name:?}");
            }
        }
        assert_eq!(default_process_uid("W5Chain"), Uuid::new_v5(&Uuid::nil(), b"W5Chain"));
    }

    /// A large process's default UIds are made on the kept thread: each
    /// element still gets its own, a UId written out still wins, and a
    /// UId used twice is still reported, at the element that uses it again.
    #[test]
    fn a_large_processs_uids_are_its_elements_own() {
        let written = "8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d";
        let mut text = String::from("process Big {\n    start s -> t1\n");
        for k in 1..=600 {
            let uid = if k == 7 || k == 500 { format!(" uid \"{written}\"") } else { String::new() };
            text.push_str(&format!("    script t{k}{uid} {{ }} -> t{}\n", k + 1));
        }
        text.push_str("    end t601\n}\n");
        let error = match load_str("big.proc", &text) {
            Err(e) => e,
            Ok(_) => panic!("the UId written twice must be refused"),
        };
        let codes: Vec<&str> = error.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["procdsl::check::duplicate_uid"]);
        let again = error.diagnostics[0].span().expect("a label");
        assert_eq!(&text[again.start as usize..again.end as usize], format!("\"{written}\""));
        assert!(again.start as usize > text.find("script t500 ").unwrap(), "reported at t500, not t7");

        let text = text.replacen(&format!(" uid \"{written}\""), "", 1);
        let program = load_str("big.proc", &text).expect("the process checks").program;
        let process = &program.processes[0];
        for element in &process.elements {
            let expected = match &*element.name {
                "t500" => Uuid::parse_str(written).unwrap(),
                name => default_element_uid(process.uid, name),
            };
            assert_eq!(element.uid, expected, "{}", element.name);
        }
    }
}
