//! REPL input: the statements (or the one expression) typed at the prompt,
//! parsed with the same statement rules as a script's body.

use super::ast::Block;
use super::errors;
use super::parser::{Builder, Grammar, Rule};
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};
use pest::Parser as _;

/// Parses REPL input as a list of statements. A lone expression is an
/// expression statement, whose value the REPL prints.
pub fn parse_snippet(file: FileId, text: &str) -> Result<Block, Diagnostic> {
    errors::check_nesting(file, text)?;
    let pairs = Grammar::parse(Rule::snippet, text).map_err(|e| errors::from_pest(file, text, e))?;
    let whole = Span::new(file, 0, text.len());
    let builder = Builder { file, offset: 0 };
    let body = pairs
        .flat_map(|snippet| snippet.into_inner())
        .find(|p| p.as_rule() == Rule::snippet_body)
        .ok_or_else(|| errors::internal(whole, Rule::snippet_body))?;
    builder.block(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::StmtKind;

    #[test]
    fn parses_statements_and_a_lone_expression() {
        let block = parse_snippet(FileId(0), "Counter = 5; log \"x\"").unwrap();
        assert_eq!(block.stmts.len(), 2);
        let block = parse_snippet(FileId(0), "len(Lines) + 1").unwrap();
        assert!(matches!(block.stmts[0].kind, StmtKind::Expr(_)));
        let block = parse_snippet(FileId(0), "if X > 1 {\n  Y = 2\n}").unwrap();
        assert!(matches!(block.stmts[0].kind, StmtKind::If { .. }));
    }

    #[test]
    fn a_syntax_error_is_a_diagnostic() {
        let err = parse_snippet(FileId(0), "X = ").unwrap_err();
        assert_eq!(err.code, "procdsl::syntax");
    }
}
