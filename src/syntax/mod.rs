//! Syntax: the pest grammar, the typed AST and the parser between them.
pub mod ast;
mod errors;
pub mod parser;
mod precedence;

pub use parser::parse;
