//! Runtime: values, the expression and statement interpreter, the element
//! engine, live instances and their descriptors.
pub mod access;
pub mod builtins;
pub mod convert;
pub mod descriptor;
pub mod engine;
pub mod eval;
pub mod ids;
pub mod instance;
pub mod ops;
pub mod saved;
pub mod snippet;
pub mod value;
