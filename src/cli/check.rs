//! `procdsl check FILE…`

use super::{color_stderr, EXIT_INVALID, EXIT_OK};
use procdsl::check;
use std::path::PathBuf;

pub fn check(files: &[PathBuf]) -> i32 {
    let color = color_stderr();
    match check::load_files(files) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("{}", w.render(&loaded.program.sources, color));
            }
            let n = loaded.program.processes.len();
            let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            let warnings = loaded.warnings.len();
            println!(
                "ok: {} ({n} process{}{})",
                names.join(", "),
                if n == 1 { "" } else { "es" },
                if warnings == 0 {
                    String::new()
                } else {
                    format!(", {warnings} warning{}", if warnings == 1 { "" } else { "s" })
                }
            );
            EXIT_OK
        }
        Err(failure) => {
            for d in &failure.diagnostics {
                eprintln!("{}", d.render(&failure.sources, color));
            }
            let errors = failure.diagnostics.iter().filter(|d| d.is_error()).count();
            let warnings = failure.diagnostics.len() - errors;
            eprintln!(
                "{errors} error{}, {warnings} warning{}",
                if errors == 1 { "" } else { "s" },
                if warnings == 1 { "" } else { "s" }
            );
            EXIT_INVALID
        }
    }
}
