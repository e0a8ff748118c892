//! procdsl: a text-first interpreter for business processes.
//!
//! A `.proc` file is parsed ([`syntax`]), checked into immutable process
//! specs with every name resolved to a slot ([`check`]), and run element by
//! element by the engine ([`runtime`]). [`Engine`] is the library API.
//!
//! ```
//! let engine = procdsl::Engine::from_source("math.proc", r#"
//!     process UsrMath {
//!         in  X: Integer
//!         out Y: Integer
//!         start Begin -> Calc
//!         script Calc { Y = X * 2 + 1 } -> Done
//!         end Done
//!     }
//! "#).unwrap();
//! let d = engine.execute("UsrMath", [("X", "20")]).unwrap();
//! assert_eq!(d.result_parameter_values["Y"], serde_json::json!(41));
//! ```
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod check;
pub mod diagnostic;
pub mod graph;
pub mod lsp;
pub mod repl;
pub mod runtime;
#[cfg(feature = "service")]
pub mod service;
pub mod source;
pub mod store;
pub mod syntax;
pub mod testing;
pub mod xml;

pub use api::{Engine, Error};
pub use runtime::descriptor::Descriptor;
pub use runtime::instance::{Instance, Status};
pub use runtime::value::{Type, Value};
pub use store::{Store, StoreError};
