//! `load` and `reload`: the definitions a session runs, and what a reload
//! means for the instances already started.

use super::messages::plural;
use super::{Failure, Session};
use crate::check;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;

impl Session {
    pub(super) fn load(&mut self, paths: Vec<PathBuf>) -> Result<String, Failure> {
        let mut files = self.files.clone();
        for path in paths {
            if !files.contains(&path) {
                files.push(path);
            }
        }
        self.load_all(files, false)
    }

    pub(super) fn reload(&mut self) -> Result<String, Failure> {
        if self.files.is_empty() {
            return Err(self.failure("no file is loaded", Some("load one with `load FILE`".into())));
        }
        self.load_all(self.files.clone(), true)
    }

    fn load_all(&mut self, files: Vec<PathBuf>, reload: bool) -> Result<String, Failure> {
        let loaded = match check::load_files(&files) {
            Ok(loaded) => loaded,
            Err(failure) => {
                let mut text = failure.render(self.options.color);
                if self.program.is_some() {
                    text.push_str("the definitions loaded before stay in use\n");
                }
                return Err(text);
            }
        };
        let mut out: String =
            loaded.warnings.iter().map(|w| w.render(&loaded.program.sources, self.options.color)).collect();
        let changed = self.program.as_ref().is_none_or(|p| p.hash() != loaded.program.hash());
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let codes: Vec<&str> = loaded.program.codes().collect();
        let _ =
            writeln!(out, "{} {}: {}", if reload { "reloaded" } else { "loaded" }, names.join(", "), codes.join(", "));
        self.files = files;
        if !changed {
            if reload {
                out.push_str("no changes\n");
            }
            return Ok(out);
        }
        let program = Arc::new(loaded.program);
        self.program = Some(program.clone());
        let older = self
            .instances
            .iter()
            .filter(|e| !e.instance.status.is_finished() && !Arc::ptr_eq(&e.instance.program, &program))
            .count();
        if older > 0 {
            let _ = writeln!(
                out,
                "{older} instance{} keep{} running on the definition {} started with; new instances use the edits",
                plural(older),
                if older == 1 { "s" } else { "" },
                if older == 1 { "it" } else { "they" }
            );
        }
        Ok(out)
    }
}
