//! The commands that work on a store: `exec`, `instances`, `show`,
//! `cancel`, `signal`, `tick`. Each takes `--store PATH|URL` or
//! `PROCDSL_STORE`, and does its work through the application layer
//! ([`procdsl::app`]): here only arguments are read and answers printed.

use super::{inputs, output, parse_pair, report, run::parse_time, EXIT_INVALID, EXIT_OK};
use procdsl::app::{self, LookupError};
use procdsl::runtime::descriptor::Descriptor;
use procdsl::runtime::engine::{ExecOutcome, LOCAL_ACTOR};
use procdsl::runtime::instance::Status;
use procdsl::store::{self, CancelOutcome, ListFilter, Location, ProcessStore, StoreError};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct StoreArg {
    /// The store that keeps the instances: a SQLite file, or a PostgreSQL database as postgres://USER@HOST[:PORT]/DB.
    #[arg(long, env = "PROCDSL_STORE", hide_env_values = true, value_name = "PATH|URL")]
    pub store: Location,
}

#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// The element-instance UId of the waiting element, or its first characters.
    pub uid: String,
    /// A field value of a user task, converted to the field's type: FIELD=VALUE;
    /// FIELD=@FILE reads it from FILE (@- from standard input); FIELD=@@TEXT stands for @TEXT.
    #[arg(short = 'p', long = "param", value_name = "FIELD=VALUE", value_parser = parse_pair)]
    pub fields: Vec<(String, String)>,
    /// Several field values at once, as a JSON object {"Field": value, …} (- reads standard input).
    #[arg(long = "params", value_name = "FILE.json")]
    pub field_files: Vec<PathBuf>,
    #[command(flatten)]
    pub store: StoreArg,
    /// Print the descriptor as JSON.
    #[arg(long)]
    pub json: bool,
    /// Execute as this user: a task with `to` is refused unless the user is
    /// named or holds a named role (or `admin`). Recorded in the history.
    #[arg(long = "as", value_name = "USER")]
    pub as_user: Option<String>,
    /// The users file of `serve --users`, for the roles of `--as USER`
    /// (without it the user has no roles, only its own name).
    #[arg(long, value_name = "FILE", requires = "as_user")]
    pub users: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct InstancesArgs {
    /// Only instances with this status (Running, Waiting, Completed, Failed, Cancelled).
    #[arg(long, value_name = "STATUS")]
    pub status: Option<Status>,
    /// Only instances of this process Code.
    #[arg(long, value_name = "CODE")]
    pub process: Option<String>,
    #[command(flatten)]
    pub store: StoreArg,
    /// Print the list as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct InstanceArgs {
    /// The instance id (processId), or its first characters.
    pub id: String,
    #[command(flatten)]
    pub store: StoreArg,
    /// Print the descriptor as JSON (`show` adds every parameter under "parameters").
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct SignalArgs {
    /// The signal's name.
    pub name: String,
    #[command(flatten)]
    pub store: StoreArg,
    /// Print the descriptors of the instances that moved, as a JSON array.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct TickArgs {
    /// Fire the timers due at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    #[command(flatten)]
    pub store: StoreArg,
    /// Print the descriptors of the instances that moved, as a JSON array.
    #[arg(long)]
    pub json: bool,
}

fn open(arg: &StoreArg) -> Result<Box<dyn ProcessStore>, i32> {
    store::open(&arg.store, false).map_err(fail)
}

pub(super) fn fail(e: StoreError) -> i32 {
    report(&e);
    EXIT_INVALID
}

/// Says why a prefix named no single id, with the help that fits.
pub(super) fn not_found(e: LookupError) -> i32 {
    match &e {
        // The candidates follow the line.
        LookupError::ManyInstances { .. } | LookupError::ManyElementInstances { .. } => eprintln!("error: {e}:"),
        _ => report(&e),
    }
    match e {
        LookupError::NoInstance { text, element_instance: Some(m) } => eprintln!(
            "  help: `{text}` starts the UId of a {} element-instance of instance {}; this command takes an instance id",
            m.kind, m.instance
        ),
        LookupError::NoInstance { .. } => eprintln!("  help: `procdsl instances` lists the instances with their ids"),
        LookupError::ManyInstances { candidates, .. } => {
            for m in candidates.iter().take(app::CANDIDATES) {
                eprintln!("  {}  {}  {}", m.id, m.process, m.status);
            }
        }
        LookupError::NoElementInstance { text, instance: Some(id) } => eprintln!(
            "  help: `{text}` starts the id of instance {id}; exec takes the UId of one of its waiting \
             element-instances, which `procdsl show {id}` lists"
        ),
        LookupError::NoElementInstance { .. } => {
            eprintln!("  help: `procdsl show ID` lists an instance's waiting element-instances with their UIds")
        }
        LookupError::ManyElementInstances { candidates, .. } => {
            for m in candidates.iter().take(app::CANDIDATES) {
                let state = if m.live { "waiting" } else { "no longer waiting" };
                eprintln!("  {}  {} {state}, instance {}", m.uid, m.kind, m.instance);
            }
        }
        LookupError::Store(_) => {}
    }
    EXIT_INVALID
}

fn print_moved(what: &str, moved: &[Descriptor], json: bool) -> i32 {
    if json {
        println!("{}", serde_json::to_string_pretty(moved).unwrap_or_default());
    } else {
        let n = moved.len();
        println!("{what}: {n} instance{} moved on", if n == 1 { "" } else { "s" });
        for d in moved {
            println!("  {} {} {}", d.process_id, d.process_name, d.status);
        }
    }
    EXIT_OK
}

/// A descriptor the store returned: for a person with the instance's typed
/// values (times to the millisecond), reading the instance once more.
fn print_descriptor(store: &mut dyn ProcessStore, d: &Descriptor, json: bool) {
    if json {
        return output::print_descriptor(d, true);
    }
    match store.load(d.process_id) {
        Ok(instance) => output::print_descriptor(&output::for_person(d, &instance), false),
        Err(_) => output::print_descriptor(d, false),
    }
}

/// At most this many names are listed when none is near.
const NAMES: usize = 10;

/// "did you mean `X`?", or the names there are when none is near (at most 10).
fn nearest_help(name: &str, known: &[String], there: &str) -> Option<String> {
    if let Some(near) = procdsl::diagnostic::nearest(name, known.iter().map(String::as_str)) {
        return Some(format!("did you mean `{near}`?"));
    }
    match known {
        [] => None,
        all => {
            let shown: Vec<String> = all.iter().take(NAMES).map(|n| format!("`{n}`")).collect();
            let more = if all.len() > NAMES { ", …" } else { "" };
            Some(format!("{there} {}{more}", shown.join(", ")))
        }
    }
}

/// `procdsl exec UID [-p FIELD=VALUE]… --store PATH|URL [--json]`
pub fn exec(args: ExecArgs) -> i32 {
    let fields = match inputs::read(&args.fields, &args.field_files) {
        Ok(fields) => fields,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_INVALID;
        }
    };
    let mut options = store::real_time(None);
    if let Some(user) = &args.as_user {
        let roles = match args.users.as_deref().map(|path| roles_of(path, user)).transpose() {
            Ok(roles) => roles.unwrap_or_default(),
            Err(message) => {
                eprintln!("error: {message}");
                return EXIT_INVALID;
            }
        };
        options.actor = user.as_str().into();
        options.roles = Some(roles);
    }
    let mut store = match open(&args.store) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let uid = match app::resolve_element_instance(&mut *store, &args.uid) {
        Ok(uid) => uid,
        Err(e) => return not_found(e),
    };
    match app::exec(&mut *store, uid, &fields, options) {
        Ok((ExecOutcome::Executed, d, _)) => {
            print_descriptor(&mut *store, &d, args.json);
            output::exit_code(&d)
        }
        Ok((ExecOutcome::AlreadyExecuted, d, _)) => {
            let note = format!("element-instance {uid} was already executed; nothing was done");
            if args.json {
                eprintln!("note: {note}");
                output::print_descriptor(&d, true);
            } else {
                println!("{note}");
            }
            EXIT_OK
        }
        Err(e) => fail(e),
    }
}

/// The roles of `user` in a users file (`serve --users`): its `roles`, as
/// a user or as a token name. Only names and roles are read here; the
/// service checks the rest of the file.
fn roles_of(path: &std::path::Path, user: &str) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let file: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("`{}` is not a users file: {e}", path.display()))?;
    let mut entries = ["users", "tokens"].into_iter().filter_map(|k| file.get(k)?.as_array()).flatten();
    let entry = entries
        .find(|e| e.get("name").and_then(serde_json::Value::as_str) == Some(user))
        .ok_or_else(|| format!("`{}` names no user or token `{user}`", path.display()))?;
    match entry.get("roles") {
        None => Ok(Vec::new()),
        Some(roles) => roles
            .as_array()
            .and_then(|list| list.iter().map(|r| r.as_str().map(str::to_string)).collect::<Option<Vec<_>>>())
            .ok_or_else(|| format!("`{}`: the roles of `{user}` must be a list of texts", path.display())),
    }
}

/// `procdsl instances [--status S] [--process CODE] --store PATH|URL [--json]`
pub fn instances(args: InstancesArgs) -> i32 {
    let mut store = match open(&args.store) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let filter = ListFilter { status: args.status, process: args.process.clone(), limit: None };
    let list = match app::list(&mut *store, &filter) {
        Ok(list) => list,
        Err(e) => return fail(e),
    };
    if let Some(code) = args.process.as_deref().filter(|_| list.is_empty()) {
        let codes = match store.process_codes() {
            Ok(codes) => codes,
            Err(e) => return fail(e),
        };
        if !codes.iter().any(|c| c == code) {
            eprintln!("note: no stored instance runs a process `{code}`");
            if let Some(help) = nearest_help(code, &codes, "the stored instances run") {
                eprintln!("  help: {help}");
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&list).unwrap_or_default());
        return EXIT_OK;
    }
    if list.is_empty() {
        println!("no instances");
        return EXIT_OK;
    }
    let width = list.iter().map(|s| s.process.chars().count()).max().unwrap_or(0).max("PROCESS".len());
    let by = |s: &store::InstanceSummary| s.started_by.clone().unwrap_or_else(|| "-".to_string());
    let by_width = list.iter().map(|s| by(s).chars().count()).max().unwrap_or(0).max("STARTED BY".len());
    println!("{:36}  {:width$}  {:9}  {:7}  {:by_width$}  UPDATED", "ID", "PROCESS", "STATUS", "WAITING", "STARTED BY");
    for s in &list {
        println!(
            "{}  {:width$}  {:9}  {:7}  {:by_width$}  {}",
            s.id,
            s.process,
            s.status.as_str(),
            s.waiting,
            by(s),
            s.updated
        );
    }
    EXIT_OK
}

/// `procdsl show ID --store PATH|URL [--json]`
pub fn show(args: InstanceArgs) -> i32 {
    let mut store = match open(&args.store) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let id = match app::resolve_instance(&mut *store, &args.id) {
        Ok(id) => id,
        Err(e) => return not_found(e),
    };
    let instance = match store.load(id) {
        Ok(instance) => instance,
        Err(e) => return fail(e),
    };
    if args.json {
        // The descriptor, and every parameter (`in` and `var` too) under "parameters".
        let mut json = serde_json::to_value(instance.descriptor_with_history(None)).unwrap_or_default();
        if let Some(object) = json.as_object_mut() {
            object.insert("parameters".to_string(), serde_json::Value::Object(output::parameters(&instance)));
        }
        println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    } else {
        print!("{}", output::instance(&instance));
        print!("{}", output::history(&instance.descriptor_with_history(None)));
    }
    EXIT_OK
}

/// `procdsl cancel ID --store PATH|URL [--json]`
pub fn cancel(args: InstanceArgs) -> i32 {
    let mut store = match open(&args.store) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let id = match app::resolve_instance(&mut *store, &args.id) {
        Ok(id) => id,
        Err(e) => return not_found(e),
    };
    match app::cancel(&mut *store, id, LOCAL_ACTOR) {
        Ok((outcome, d)) => {
            if outcome == CancelOutcome::AlreadyCancelled {
                eprintln!("note: instance {id} was already cancelled; nothing was done");
            }
            print_descriptor(&mut *store, &d, args.json);
            EXIT_OK
        }
        Err(e) => fail(e),
    }
}

/// `procdsl signal NAME --store PATH|URL [--json]`
pub fn signal(args: SignalArgs) -> i32 {
    let mut store = match open(&args.store) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // Known before the signal is thrown: afterwards nobody may wait for it any more.
    let waited = match store.waited_signals() {
        Ok(names) => names,
        Err(e) => return fail(e),
    };
    match app::signal(&mut *store, &args.name, store::real_time(None)) {
        Ok(moved) => {
            if moved.is_empty() {
                // Not an error (a signal may well reach nobody), but a typo should not pass unnoticed.
                eprintln!("note: no instance waits for signal `{}`", args.name);
                if let Some(help) = nearest_help(&args.name, &waited, "instances wait for") {
                    eprintln!("  help: {help}");
                }
            }
            print_moved(&format!("signal `{}`", args.name), &moved, args.json)
        }
        Err(e) => fail(e),
    }
}

/// `procdsl tick [--now TIME] --store PATH|URL [--json]`
pub fn tick(args: TickArgs) -> i32 {
    let now = match args.now.as_deref().map(parse_time).transpose() {
        Ok(t) => t.unwrap_or_else(jiff::Timestamp::now),
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_INVALID;
        }
    };
    let mut store = match open(&args.store) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match app::tick(&mut *store, now) {
        Ok(moved) => print_moved(&format!("timers due at {now}"), &moved, args.json),
        Err(e) => fail(e),
    }
}
