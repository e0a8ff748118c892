//! Syntax: the pest grammar, the typed AST and the parser between them.
pub mod ast;
