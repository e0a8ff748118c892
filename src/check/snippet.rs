//! REPL input checked against one process's parameters: the same name
//! resolution, argument counts and type checks as a script in that process.

use super::ir::{CExpr, CStmtKind, Script};
use super::script::Scope;
use super::Checker;
use crate::check::spec::ParamSpec;
use crate::diagnostic::Diagnostic;
use crate::runtime::value::Type;
use crate::source::FileId;
use std::sync::Arc;

/// Checked REPL input: statements to run, or one expression whose value is wanted.
#[derive(Debug)]
pub enum Snippet {
    /// A lone expression: evaluate it and show its value.
    Expr(CExpr),
    /// Statements, run like a script's body (`Counter = 5`, `log "x"`).
    Script(Script),
}

/// Parses and checks REPL input against these parameters (a process's
/// `params`, or none). Every problem comes back, as the checker reports
/// them for a file.
pub fn compile_snippet(file: FileId, text: &str, params: &[ParamSpec]) -> Result<Snippet, Vec<Diagnostic>> {
    let block = crate::syntax::parse_snippet(file, text).map_err(|d| vec![d])?;
    let visible: Vec<(Arc<str>, Type)> = params.iter().map(|p| (p.code.clone(), p.ty.clone())).collect();
    let mut read = vec![false; visible.len()];
    let mut scope = Scope::new(&visible, &mut read);
    let mut checker = Checker::default();
    let mut script = checker.compile_script(&block, &mut scope);
    let errors: Vec<Diagnostic> = checker.diagnostics.into_iter().filter(Diagnostic::is_error).collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    if script.body.len() == 1 && block.stmts.len() == 1 && matches!(script.body[0].kind, CStmtKind::Expr(_)) {
        if let Some(CStmtKind::Expr(expr)) = script.body.pop().map(|s| s.kind) {
            return Ok(Snippet::Expr(expr));
        }
    }
    Ok(Snippet::Script(script))
}
