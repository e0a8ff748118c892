//! `procdsl lsp`: the language server on stdin and stdout (docs/EDITORS.md).

use super::{EXIT_FAILED, EXIT_OK};
use procdsl::lsp::{self, Ending};

pub fn lsp() -> i32 {
    match lsp::serve_stdio() {
        Ok(Ending::Clean) => EXIT_OK,
        // The protocol asks for 1 when `exit` came without `shutdown`.
        Ok(Ending::Abrupt) => EXIT_FAILED,
        Err(e) => {
            eprintln!("error: the language server stopped: {e}");
            EXIT_FAILED
        }
    }
}
