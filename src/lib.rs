//! procdsl: a text-first interpreter for business processes.
#![forbid(unsafe_code)]

pub mod diagnostic;
pub mod source;
pub mod syntax;
pub mod runtime;
