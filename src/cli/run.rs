//! `procdsl run FILE [--process CODE] [-p CODE=VALUE|CODE=@FILE]… [--params FILE.json] [-r CODE]… [--json] [--trace] [--now TIME] [--store PATH|URL]`
//!
//! Without a store the run uses virtual time (timers fire at once). With a
//! store it uses the real clock (pinned by `--now`), so that a timer waits
//! and is saved with its due time until `procdsl tick` fires it.

use super::inputs::InputArgs;
use super::{color_stderr, output, parse_size, report, EXIT_INVALID};
use procdsl::check::{self, spec::ProcessId};
use procdsl::runtime::engine::{self, ClockMode, Run, RunOptions, DEFAULT_MAX_STEPS};
use procdsl::runtime::instance::{Instance, Status};
use procdsl::store::{self, Location};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The .proc file.
    pub file: PathBuf,
    /// The process to run, when the file holds several.
    #[arg(long, value_name = "CODE")]
    pub process: Option<String>,
    #[command(flatten)]
    pub inputs: InputArgs,
    /// A result parameter to report (default: every `out` and `inout`).
    #[arg(short = 'r', long = "result", value_name = "CODE")]
    pub results: Vec<String>,
    /// Print the descriptor as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print each element as it runs and what it changed.
    #[arg(long)]
    pub trace: bool,
    /// Start the clock at this time (RFC 3339), instead of now. With --store it pins the real clock.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Keep the instance in this store (a SQLite file, created when missing, or a postgres:// URL), so that later commands continue it.
    #[arg(long, env = "PROCDSL_STORE", hide_env_values = true, value_name = "PATH|URL")]
    pub store: Option<Location>,
    /// Stop a run after this many steps (elements, statements, loop turns, work on big values; docs/LIMITS.md).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_STEPS)]
    pub max_steps: u64,
    /// The most an instance may hold in parameter values and log (e.g. 256MiB, 1GiB; docs/LIMITS.md).
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = parse_size)]
    pub max_memory: u64,
}

pub fn run(args: RunArgs) -> i32 {
    let (program, process) = match load_process(&args.file, args.process.as_deref()) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let spec = program.process(process);
    if let Err(e) = engine::check_results(spec, &args.results) {
        report(&e);
        return EXIT_INVALID;
    }
    let pinned = match args.now.as_deref().map(parse_time).transpose() {
        Ok(t) => t,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_INVALID;
        }
    };
    // To the millisecond: virtual times derived from it (timers) then read well.
    let clock = pinned.unwrap_or_else(|| {
        let now = jiff::Timestamp::now();
        jiff::Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now)
    });
    let mut store = match args.store.as_ref().map(|at| store::open(at, true)).transpose() {
        Ok(store) => store,
        Err(e) => {
            report(&e);
            return EXIT_INVALID;
        }
    };
    let inputs = match args.inputs.read() {
        Ok(inputs) => inputs,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_INVALID;
        }
    };
    let mut instance = Instance::new(program.clone(), process, clock);
    if let Err(e) = instance.set_inputs(inputs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        report(&e);
        return EXIT_INVALID;
    }
    let run = match store.as_mut() {
        Some(store) => {
            let options = RunOptions {
                max_steps: args.max_steps,
                max_memory: args.max_memory,
                clock: ClockMode::Real,
                trace: args.trace,
                now: pinned,
                ..RunOptions::default()
            };
            match procdsl::app::run(&mut **store, &mut instance, options) {
                Ok(run) => run,
                Err(e) => {
                    report(&e);
                    return EXIT_INVALID;
                }
            }
        }
        None => {
            let options = RunOptions {
                max_steps: args.max_steps,
                max_memory: args.max_memory,
                clock: ClockMode::Virtual,
                trace: args.trace,
                ..RunOptions::default()
            };
            let mut run = Run::new(options);
            instance.run(&mut run);
            run
        }
    };

    let results = (!args.results.is_empty()).then_some(args.results.as_slice());
    let descriptor = instance.descriptor(results);
    let single = args.results.len() == 1 && !args.json;
    if args.trace {
        let text = output::trace(&run.trace);
        if args.json || single {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    }
    if single {
        let value = descriptor.result_parameter_values.values().next().cloned().unwrap_or_default();
        println!("{value}");
        if let Some(err) = &descriptor.error {
            eprintln!("error: {err}");
        }
    } else if args.json {
        output::print_descriptor(&descriptor, true);
    } else {
        output::print_descriptor(&output::for_person(&descriptor, &instance), false);
    }
    if descriptor.status == Status::Waiting {
        // With one `-r`, stdout holds only the value: the note then lists
        // what waits, so the UIds to continue with are not lost.
        eprint!("{}", waiting_note(&descriptor, args.store.as_ref(), single));
    }
    output::exit_code(&descriptor)
}

/// What to do with an instance that waits: where it was kept, what it
/// waits at (when `list`), and the command that continues it, with the UId
/// when one element-instance waits.
fn waiting_note(d: &procdsl::runtime::descriptor::Descriptor, store: Option<&Location>, list: bool) -> String {
    let mut out = match store {
        Some(at) => format!("note: instance {} was saved in {at}", d.process_id),
        None => "note: the instance was not kept".to_string(),
    };
    if list {
        out.push_str("; it waits at:\n");
        for w in &d.waiting {
            out.push_str(&format!("  {}\n", output::waiting(w)));
        }
        out.push_str("  ");
    } else {
        out.push_str("; ");
    }
    let fields = if d.waiting.iter().any(|w| !w.fields.is_empty()) { " [-p FIELD=VALUE]…" } else { "" };
    match (store, d.waiting.as_slice()) {
        (Some(at), [one]) => out.push_str(&format!("continue it with `procdsl exec {}{fields} --store {at}`", one.uid)),
        (Some(at), _) => {
            out.push_str(&format!("continue it with `procdsl exec UID{fields} --store {at}`, UID one of those waiting"))
        }
        (None, _) => out.push_str(&format!(
            "run with --store PATH to keep it, then continue it with `procdsl exec UID{fields} --store PATH`"
        )),
    }
    out.push('\n');
    out
}

/// Loads a file (printing its diagnostics) and picks the process to run.
pub fn load_process(
    file: &std::path::Path,
    wanted: Option<&str>,
) -> Result<(Arc<procdsl::check::spec::Program>, ProcessId), i32> {
    let loaded = check::load_files(&[file]).map_err(|failure| {
        eprint!("{}", failure.render(color_stderr()));
        EXIT_INVALID
    })?;
    let program = Arc::new(loaded.program);
    let process = choose_process(&program, wanted)?;
    Ok((program, process))
}

/// The process named by `--process`, or the only one defined in the file.
pub fn choose_process(program: &procdsl::check::spec::Program, wanted: Option<&str>) -> Result<ProcessId, i32> {
    if let Some(code) = wanted {
        return engine::find_process(program, code).map_err(|e| {
            report(&e);
            EXIT_INVALID
        });
    }
    let first_file = procdsl::source::FileId(0);
    let own: Vec<&str> = program.processes.iter().filter(|p| p.span.file == first_file).map(|p| &*p.code).collect();
    match own.as_slice() {
        [one] => program.find(one).ok_or(EXIT_INVALID),
        [] => {
            eprintln!("error: the file defines no process");
            Err(EXIT_INVALID)
        }
        many => {
            eprintln!(
                "error: the file defines {} processes; choose one with --process CODE: {}",
                many.len(),
                many.join(", ")
            );
            Err(EXIT_INVALID)
        }
    }
}

/// An RFC 3339 time such as `2026-11-28T15:00:00Z`.
pub fn parse_time(s: &str) -> Result<jiff::Timestamp, String> {
    s.trim()
        .parse::<jiff::Timestamp>()
        .map_err(|_| format!("`{s}` is not a time; write it as RFC 3339, e.g. 2026-11-28T15:00:00Z"))
}
