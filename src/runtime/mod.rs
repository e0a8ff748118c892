//! Runtime: values, the expression and statement interpreter, the element engine.
pub mod builtins;
pub mod convert;
pub mod ops;
pub mod value;
