//! Syntax: the pest grammar, the typed AST and the parser between them.
pub mod ast;
mod errors;
pub mod parser;
mod precedence;
pub mod snippet;
#[cfg(test)]
mod tests;

pub use parser::parse;
pub use snippet::parse_snippet;
