//! `procdsl fmt FILE… [--check]`: rewrites files in the canonical layout
//! (docs/FORMAT.md); `-` formats standard input to standard output.

use super::{color_stderr, EXIT_FAILED, EXIT_INVALID, EXIT_OK};
use procdsl::source::SourceMap;
use procdsl::syntax::format::format;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct FmtArgs {
    /// Files to format, or folders (every .proc file in them, recursively); `-` reads
    /// standard input and writes the result to standard output.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Change nothing: list the files whose layout differs, and exit 1 if there are any.
    #[arg(long)]
    check: bool,
}

/// What happened to one file.
enum Outcome {
    Same,
    Changed,
    Invalid,
}

pub fn fmt(args: FmtArgs) -> i32 {
    let mut files = Vec::new();
    for path in &args.files {
        if path.is_dir() {
            super::test::collect(path, &mut files);
        } else {
            files.push(path.clone());
        }
    }
    let mut changed = 0;
    let mut invalid = 0;
    for path in &files {
        let outcome = if path.as_os_str() == "-" { stdin(args.check) } else { file(path, args.check) };
        match outcome {
            Outcome::Same => {}
            Outcome::Changed => changed += 1,
            Outcome::Invalid => invalid += 1,
        }
    }
    if invalid > 0 {
        EXIT_INVALID
    } else if args.check && changed > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// Formats the text of `name`; `None` (with the diagnostic printed) when it does not parse.
fn formatted(name: &str, path: Option<&Path>, text: &str) -> Option<String> {
    match format(name, text) {
        Ok(out) => Some(out),
        Err(diagnostic) => {
            let mut sources = SourceMap::new();
            sources.add(name, path, text);
            eprintln!("{}", diagnostic.render(&sources, color_stderr()));
            None
        }
    }
}

fn stdin(check: bool) -> Outcome {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("error: cannot read standard input: {e}");
        return Outcome::Invalid;
    }
    let Some(out) = formatted("<stdin>", None, &text) else { return Outcome::Invalid };
    let differs = out != text;
    if check {
        if differs {
            println!("<stdin>");
        }
    } else {
        let mut stdout = std::io::stdout().lock();
        if stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush()).is_err() {
            return Outcome::Invalid;
        }
    }
    if differs {
        Outcome::Changed
    } else {
        Outcome::Same
    }
}

fn file(path: &Path, check: bool) -> Outcome {
    let name = path.display().to_string();
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                eprintln!("error: {name} is not UTF-8 text");
                return Outcome::Invalid;
            }
        },
        Err(e) => {
            eprintln!("error: cannot read {name}: {e}");
            return Outcome::Invalid;
        }
    };
    let Some(out) = formatted(&name, Some(path), &text) else { return Outcome::Invalid };
    if out == text {
        return Outcome::Same;
    }
    if check {
        println!("{name}");
    } else if let Err(e) = replace(path, &out) {
        eprintln!("error: cannot write {name}: {e}");
        return Outcome::Invalid;
    }
    Outcome::Changed
}

/// Writes `text` to a temporary file beside `path` and renames it over
/// `path`, so that a reader (or a crash) never sees half a file.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.fmt-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&temp, meta.permissions())?;
        }
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
