//! `procdsl repl [FILE…] [--now TIME] [--max-steps N]`: the interactive
//! session of [`procdsl::repl`] behind a line editor (history, multi-line
//! input, tab completion). When stdin is not a terminal, it reads one input
//! per line and prints only what the inputs produce, so it can be scripted.

use super::run::parse_time;
use super::{EXIT_FAILED, EXIT_INVALID, EXIT_OK};
use procdsl::repl::{is_incomplete, Completions, Session, SessionOptions};
use procdsl::runtime::engine::DEFAULT_MAX_STEPS;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{CompletionType, Config, Context, Editor, Helper, Highlighter, Hinter};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ReplArgs {
    /// .proc files to load at the start.
    pub files: Vec<PathBuf>,
    /// Start new instances' virtual clock at this time (RFC 3339), instead of now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Stop a command after this many steps (elements, statements, loop turns, work on big values).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_STEPS)]
    pub max_steps: u64,
    /// The most an instance may hold in parameter values and log (e.g. 256MiB; docs/LIMITS.md).
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = super::parse_size)]
    pub max_memory: u64,
    /// Work on the instances kept in this store (a SQLite file, created when missing, or a postgres:// URL).
    #[arg(long, value_name = "PATH|URL", env = "PROCDSL_STORE", hide_env_values = true)]
    pub store: Option<procdsl::store::Location>,
}

pub fn repl(args: ReplArgs) -> i32 {
    let now = match args.now.as_deref().map(parse_time).transpose() {
        Ok(now) => now,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_INVALID;
        }
    };
    let terminal = std::io::stdin().is_terminal();
    let color = std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
    let mut session =
        Session::new(SessionOptions { color, now, max_steps: args.max_steps, max_memory: args.max_memory });
    if let Some(at) = &args.store {
        match procdsl::store::open(at, true) {
            Ok(store) => session = session.with_backing(Box::new(procdsl::repl::Stored::new(store))),
            Err(e) => {
                super::report(&e);
                return EXIT_INVALID;
            }
        }
    }
    let mut failed = false;
    if !args.files.is_empty() {
        let out = session.load_files(&args.files);
        print!("{}", out.text);
        failed |= out.failed;
    }
    if terminal {
        interactive(&mut session)
    } else {
        piped(&mut session, failed)
    }
}

/// Inputs from a pipe or a file, one per line (an open bracket continues
/// the input on the next line). Exits 1 when some input failed.
fn piped(session: &mut Session, mut failed: bool) -> i32 {
    let mut stdout = std::io::stdout();
    let mut input = String::new();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else {
            break;
        };
        if !input.is_empty() {
            input.push('\n');
        }
        input.push_str(&line);
        if is_incomplete(&input) {
            continue;
        }
        let out = session.execute_line(&std::mem::take(&mut input));
        let _ = stdout.write_all(out.text.as_bytes());
        let _ = stdout.flush();
        failed |= out.failed;
        if out.quit {
            return if failed { EXIT_FAILED } else { EXIT_OK };
        }
    }
    if !input.trim().is_empty() {
        let out = session.execute_line(&input);
        let _ = stdout.write_all(out.text.as_bytes());
        failed |= out.failed;
    }
    if failed {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

fn interactive(session: &mut Session) -> i32 {
    let config = Config::builder()
        .history_ignore_space(true)
        .history_ignore_dups(true)
        .map(|b| b.completion_type(CompletionType::List).build());
    let editor = config.and_then(Editor::<ReplHelper, DefaultHistory>::with_config);
    let mut editor = match editor {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("error: the line editor cannot start: {e}");
            return EXIT_FAILED;
        }
    };
    editor.set_helper(Some(ReplHelper { completions: session.completions(), files: FilenameCompleter::new() }));
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!("procdsl {} — `help` lists the commands; Tab completes; Ctrl-D ends", env!("CARGO_PKG_VERSION"));
    loop {
        match editor.readline(&session.prompt()) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                let out = session.execute_line(&line);
                print!("{}", out.text);
                let _ = std::io::stdout().flush();
                if out.quit {
                    break;
                }
                if let Some(helper) = editor.helper_mut() {
                    helper.completions = session.completions();
                }
            }
            // Ctrl-C abandons the line being typed, as in a shell.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    EXIT_OK
}

/// `PROCDSL_HISTORY` (empty: no history), else `~/.procdsl_history`.
fn history_path() -> Option<PathBuf> {
    match std::env::var_os("PROCDSL_HISTORY") {
        Some(path) if path.is_empty() => None,
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".procdsl_history")),
    }
}

/// Completion from the session's names (file names after `load`), and
/// multi-line input while a bracket is open.
#[derive(Helper, Hinter, Highlighter)]
struct ReplHelper {
    completions: Completions,
    files: FilenameCompleter,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        if line.trim_start().starts_with("load ") {
            return self.files.complete(line, pos, ctx);
        }
        let (start, words) = self.completions.complete(line, pos);
        Ok((start, words.into_iter().map(|w| Pair { display: w.clone(), replacement: w }).collect()))
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if is_incomplete(ctx.input()) { ValidationResult::Incomplete } else { ValidationResult::Valid(None) })
    }
}
