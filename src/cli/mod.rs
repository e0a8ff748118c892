//! The command line: argument definitions and one function per command.

mod bench;
mod check;
mod examples;
mod fmt;
mod graph;
mod inputs;
mod lsp;
mod output;
mod repl;
mod run;
#[cfg(feature = "service")]
mod serve;
mod store_commands;
mod store_migrate;
mod test;

use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;

/// The process completed or is waiting.
pub const EXIT_OK: i32 = 0;
/// The process failed.
pub const EXIT_FAILED: i32 = 1;
/// The input was invalid: usage, a file that does not parse or check, a value that does not convert.
pub const EXIT_INVALID: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "procdsl",
    version,
    about = "Runs business processes written as .proc files",
    max_term_width = 100,
    after_help = examples::PROCDSL
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a process until it waits or ends.
    #[command(after_help = examples::RUN)]
    Run(run::RunArgs),
    /// Parse and check .proc files; print every diagnostic.
    #[command(after_help = examples::CHECK)]
    Check {
        /// The files to check, together.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Execute a waiting element-instance of a stored instance by its UId (or a unique prefix), and run on.
    #[command(after_help = examples::EXEC)]
    Exec(store_commands::ExecArgs),
    /// List the stored instances.
    #[command(after_help = examples::INSTANCES)]
    Instances(store_commands::InstancesArgs),
    /// Show a stored instance's descriptor, with its log.
    #[command(after_help = examples::SHOW)]
    Show(store_commands::InstanceArgs),
    /// Cancel a stored instance.
    #[command(after_help = examples::CANCEL)]
    Cancel(store_commands::InstanceArgs),
    /// Throw a signal to every stored instance waiting for it.
    #[command(after_help = examples::SIGNAL)]
    Signal(store_commands::SignalArgs),
    /// Fire every due timer of the stored instances.
    #[command(after_help = examples::TICK)]
    Tick(store_commands::TickArgs),
    /// Work on a whole store: copy it into another one (`store migrate`).
    #[command(subcommand, after_help = examples::STORE)]
    Store(store_migrate::StoreCommand),
    /// Draw a process (SVG, Mermaid or Graphviz), or the path an instance took.
    #[command(after_help = examples::GRAPH)]
    Graph(graph::GraphArgs),
    /// An interactive session: load, start, step, inspect and change instances.
    #[command(after_help = examples::REPL)]
    Repl(repl::ReplArgs),
    /// Run the `test` blocks of .proc files: one line per test, then `N passed, M failed`.
    #[command(after_help = examples::TEST)]
    Test(test::TestArgs),
    /// A language server on stdin and stdout, for editors (docs/EDITORS.md).
    #[command(after_help = examples::LSP)]
    Lsp,
    /// Rewrite .proc files in the one canonical layout, comments kept (`--check` changes nothing).
    #[command(after_help = examples::FMT)]
    Fmt(fmt::FmtArgs),
    /// Run N instances of a process in this process: speed and memory (measure a release build).
    #[command(after_help = examples::BENCH)]
    Bench(bench::BenchArgs),
    /// Serve the processes over HTTP: Creatio's ProcessEngineService routes and a JSON API.
    #[cfg(feature = "service")]
    #[command(after_help = examples::SERVE)]
    Serve(serve::ServeArgs),
}

impl Command {
    /// Commands that print a result and end. The service and the REPL keep
    /// Rust's default: a closed pipe is an error they handle, never a kill.
    fn writes_a_result(&self) -> bool {
        match self {
            Command::Repl(_) | Command::Lsp => false,
            #[cfg(feature = "service")]
            Command::Serve(_) => false,
            _ => true,
        }
    }
}

/// Runs the command line and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_INVALID } else { EXIT_OK };
        }
    };
    if cli.command.writes_a_result() {
        // `procdsl run … | head` ends quietly, as other Unix tools do,
        // instead of panicking on the closed pipe. Committed work was
        // committed before its result is printed.
        sigpipe::reset();
    }
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check { files } => check::check(&files),
        Command::Exec(args) => store_commands::exec(args),
        Command::Instances(args) => store_commands::instances(args),
        Command::Show(args) => store_commands::show(args),
        Command::Cancel(args) => store_commands::cancel(args),
        Command::Signal(args) => store_commands::signal(args),
        Command::Tick(args) => store_commands::tick(args),
        Command::Store(command) => store_migrate::store(command),
        Command::Repl(args) => repl::repl(args),
        Command::Graph(args) => graph::graph(args),
        Command::Bench(args) => bench::bench(args),
        Command::Lsp => lsp::lsp(),
        Command::Test(args) => test::test(args),
        Command::Fmt(args) => fmt::fmt(args),
        #[cfg(feature = "service")]
        Command::Serve(args) => serve::serve(args),
    }
}

/// Colours only on a terminal, and never with `NO_COLOR`.
pub fn color_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Splits `CODE=VALUE`.
pub fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected CODE=VALUE, got `{s}`")),
    }
}

/// A size in bytes for `--max-memory`: `268435456`, `256MiB`, `512 KiB`, `1GiB`
/// (`K`, `M`, `G`, `KB`, `MB`, `GB` mean the same binary units).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("`{s}` is not a size; write e.g. 256MiB, 1GiB or a number of bytes")),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("`{s}` is not a size; write e.g. 256MiB, 1GiB or a number of bytes"))
}

/// Prints an error with its help to stderr, the same way for every command.
pub fn report(error: &dyn miette::Diagnostic) {
    let mut text = format!("error: {error}");
    if let Some(help) = error.help() {
        text.push_str(&format!("\n  help: {help}"));
    }
    eprintln!("{text}");
}
