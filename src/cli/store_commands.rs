//! The commands that work on a store: `exec`, `instances`, `show`,
//! `cancel`, `signal`, `tick`. Each takes `--store PATH` or `PROCDSL_STORE`.

use super::{output, parse_pair, report, run::parse_time, EXIT_INVALID, EXIT_OK};
use procdsl::runtime::descriptor::Descriptor;
use procdsl::runtime::engine::ExecOutcome;
use procdsl::runtime::instance::Status;
use procdsl::store::{self, CancelOutcome, ListFilter, Store, StoreError};
use std::path::PathBuf;
use uuid::Uuid;

#[derive(clap::Args, Debug)]
pub struct StoreArg {
    /// The store: the SQLite file that keeps the instances.
    #[arg(long, env = "PROCDSL_STORE", value_name = "PATH")]
    pub store: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// The element-instance UId of the waiting element.
    pub uid: String,
    /// A field value of a user task, converted to the field's type.
    #[arg(short = 'p', long = "param", value_name = "FIELD=VALUE", value_parser = parse_pair)]
    pub fields: Vec<(String, String)>,
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
    /// The instance id (processId).
    pub id: String,
    #[command(flatten)]
    pub store: StoreArg,
    /// Print the descriptor as JSON.
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

fn open(arg: &StoreArg) -> Result<Store, i32> {
    Store::open_existing(&arg.store).map_err(|e| {
        report(&e);
        EXIT_INVALID
    })
}

fn fail(e: StoreError) -> i32 {
    report(&e);
    EXIT_INVALID
}

fn parse_id(text: &str, what: &str) -> Result<Uuid, i32> {
    text.trim().parse().map_err(|_| {
        eprintln!("error: `{text}` is not {what} (a UUID such as 5f0c3e2a-…)");
        EXIT_INVALID
    })
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

/// `procdsl exec UID [-p FIELD=VALUE]… --store PATH [--json]`
pub fn exec(args: ExecArgs) -> i32 {
    let uid = match parse_id(&args.uid, "an element-instance UId") {
        Ok(uid) => uid,
        Err(code) => return code,
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
    match store.exec(uid, &args.fields, options) {
        Ok((ExecOutcome::Executed, d)) => {
            output::print_descriptor(&d, args.json);
            output::exit_code(&d)
        }
        Ok((ExecOutcome::AlreadyExecuted, d)) => {
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

/// `procdsl instances [--status S] [--process CODE] --store PATH [--json]`
pub fn instances(args: InstancesArgs) -> i32 {
    let store = match open(&args.store) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let filter = ListFilter { status: args.status, process: args.process, limit: None };
    let list = match store.list(&filter) {
        Ok(list) => list,
        Err(e) => return fail(e),
    };
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

/// `procdsl show ID --store PATH [--json]`
pub fn show(args: InstanceArgs) -> i32 {
    let id = match parse_id(&args.id, "an instance id") {
        Ok(id) => id,
        Err(code) => return code,
    };
    let mut store = match open(&args.store) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match store.show(id) {
        Ok(d) => {
            output::print_descriptor(&d, args.json);
            if !args.json {
                print!("{}", output::history(&d));
            }
            EXIT_OK
        }
        Err(e) => fail(e),
    }
}

/// `procdsl cancel ID --store PATH [--json]`
pub fn cancel(args: InstanceArgs) -> i32 {
    let id = match parse_id(&args.id, "an instance id") {
        Ok(id) => id,
        Err(code) => return code,
    };
    let mut store = match open(&args.store) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match store.cancel(id) {
        Ok((outcome, d)) => {
            if outcome == CancelOutcome::AlreadyCancelled {
                eprintln!("note: instance {id} was already cancelled; nothing was done");
            }
            output::print_descriptor(&d, args.json);
            EXIT_OK
        }
        Err(e) => fail(e),
    }
}

/// `procdsl signal NAME --store PATH [--json]`
pub fn signal(args: SignalArgs) -> i32 {
    let mut store = match open(&args.store) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match store.signal(&args.name, store::real_time(None)) {
        Ok(moved) => print_moved(&format!("signal `{}`", args.name), &moved, args.json),
        Err(e) => fail(e),
    }
}

/// `procdsl tick [--now TIME] --store PATH [--json]`
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
    match store.tick(now) {
        Ok(moved) => print_moved(&format!("timers due at {now}"), &moved, args.json),
        Err(e) => fail(e),
    }
}
