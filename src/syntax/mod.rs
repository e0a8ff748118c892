//! Syntax: the pest grammar, the typed AST and the parser between them.
pub mod ast;
mod errors;
pub mod parser;
mod precedence;
pub mod snippet;

pub use parser::parse;
pub use snippet::parse_snippet;
