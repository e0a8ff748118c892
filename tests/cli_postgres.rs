//! The store commands and the REPL through the real binary, on both
//! backends: each test body takes the `--store` text and runs once on a
//! SQLite file and once on a throwaway PostgreSQL database (skipped loudly
//! without PostgreSQL, never in CI). Also `procdsl store migrate` from
//! SQLite into PostgreSQL and back.

#[cfg(feature = "postgres")]
#[path = "support/pg.rs"]
mod pg;

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

const PROCS: &str = r#"process UsrApproval {
    in  Amount: Decimal = 0
    out Approved: Boolean = false
    start Begin -> Approve
    user Approve "Approve the order" {
        in Decision: Boolean
        done { Approved = Decision }
    } -> Done
    end Done
}

process UsrPaid {
    out Paid: Boolean = false
    start Begin -> WaitPay
    signal WaitPay "OrderPaid" -> Mark
    script Mark { Paid = true } -> Done
    end Done
}

process UsrReminder {
    out Reminded: Boolean = false
    start Begin -> Wait
    timer Wait after "PT2H" -> Remind
    script Remind { Reminded = true } -> Done
    end Done
}
"#;

/// A folder with the processes, and the store the commands use.
struct Place {
    dir: tempfile::TempDir,
    /// What `--store` gets: a path in `dir`, or a postgres:// URL.
    store: String,
    /// The PostgreSQL server, kept running while the test needs it.
    _server: Option<Box<dyn std::any::Any>>,
}

impl Place {
    fn sqlite() -> Place {
        let dir = folder();
        let store = dir.path().join("s.db").to_str().unwrap().to_string();
        Place { dir, store, _server: None }
    }

    /// None: PostgreSQL is not installed (said loudly by `pg`).
    #[cfg(feature = "postgres")]
    fn postgres() -> Option<Place> {
        let (server, conninfo) = pg::fresh_database()?;
        Some(Place { dir: folder(), store: pg::url_of(&conninfo), _server: Some(Box::new(server)) })
    }

    /// A build without PostgreSQL has no PostgreSQL tests.
    #[cfg(not(feature = "postgres"))]
    fn postgres() -> Option<Place> {
        None
    }

    fn procdsl(&self, args: &[&str], env_store: bool) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_procdsl"));
        command.args(args).current_dir(self.dir.path()).env("NO_COLOR", "1");
        if env_store {
            command.env("PROCDSL_STORE", &self.store);
        } else {
            command.env_remove("PROCDSL_STORE");
        }
        command.output().unwrap()
    }

    /// `procdsl ARGS --store STORE`, which must exit with `code`: stdout, stderr.
    fn run(&self, args: &[&str], code: i32) -> (String, String) {
        let mut all = args.to_vec();
        all.extend(["--store", &self.store]);
        let out = self.procdsl(&all, false);
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(code), "procdsl {args:?} on {}:\n{stdout}{stderr}", self.store);
        (stdout, stderr)
    }

    /// [`Place::run`] with `--json`, exit 0: the JSON printed.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let (stdout, _) = self.run(&all, 0);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("procdsl {args:?}: {e}:\n{stdout}"))
    }

    /// `procdsl repl p.proc --store STORE` with `input` piped in: stdout.
    fn repl(&self, input: &str) -> String {
        let mut child = Command::new(env!("CARGO_BIN_EXE_procdsl"))
            .args(["repl", "p.proc", "--store", &self.store])
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env("PROCDSL_HISTORY", "")
            .env_remove("PROCDSL_STORE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(0), "repl on {}:\n{stdout}{stderr}", self.store);
        stdout
    }
}

fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.proc"), PROCS).unwrap();
    dir
}

fn texts(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

const START: &str = "2026-01-01T00:00:00Z";

fn started(place: &Place, code: &str) -> Value {
    place.json(&["run", "p.proc", "--process", code, "--now", START])
}

fn id_of(d: &Value) -> String {
    d["processId"].as_str().unwrap().to_string()
}

fn uid_of(d: &Value) -> String {
    d["waiting"][0]["uid"].as_str().unwrap().to_string()
}

/// Runs a test body on SQLite, and on PostgreSQL when it is installed.
macro_rules! on_both_backends {
    ($($body:ident),+ $(,)?) => {$(
        mod $body {
            #[test]
            fn sqlite() {
                super::$body(&super::Place::sqlite());
            }

            #[test]
            fn postgres() {
                if let Some(place) = super::Place::postgres() {
                    super::$body(&place);
                }
            }
        }
    )+};
}

on_both_backends!(
    every_store_command_works,
    the_repl_works_on_the_stored_instances,
    the_store_comes_from_the_environment
);

fn every_store_command_works(place: &Place) {
    // run: each waits, and says where it was kept.
    let approval = started(place, "UsrApproval");
    assert_eq!(approval["status"], "Waiting");
    let paid = started(place, "UsrPaid");
    let reminder = started(place, "UsrReminder");
    let (_, note) = place.run(&["run", "p.proc", "--process", "UsrApproval", "-r", "Approved"], 0);
    assert!(note.contains("was saved in") && note.contains("procdsl exec "), "{note}");
    assert!(note.contains(&place.store), "{note}");

    // instances: all four, filtered by status and process.
    let all = place.json(&["instances"]);
    assert_eq!(all.as_array().unwrap().len(), 4, "{all}");
    let approvals = place.json(&["instances", "--process", "UsrApproval", "--status", "Waiting"]);
    assert_eq!(approvals.as_array().unwrap().len(), 2, "{approvals}");

    // exec by a unique prefix of the UId, then again: nothing more is done.
    let uid = uid_of(&approval);
    let done = place.json(&["exec", &uid[..13], "-p", "Decision=true"]);
    assert_eq!(done["status"], "Completed", "{done}");
    assert_eq!(done["resultParameterValues"]["Approved"], true, "{done}");
    let (again, _) = place.run(&["exec", &uid, "-p", "Decision=false"], 0);
    assert!(again.contains("was already executed; nothing was done"), "{again}");

    // show by a unique prefix of the id.
    let id = id_of(&approval);
    let shown = place.json(&["show", &id[..13]]);
    assert_eq!(shown["status"], "Completed");
    assert_eq!(shown["parameters"]["Amount"], 0, "{shown}");
    let (_, unknown) = place.run(&["show", "nothing-like-an-id"], 2);
    assert!(unknown.contains("error: no instance id starts with `nothing-like-an-id`"), "{unknown}");
    let (_, swapped) = place.run(&["exec", &id[..20]], 2);
    assert!(swapped.contains(&format!("starts the id of instance {id}")), "{swapped}");

    // cancel: the instance stops, its task can no longer be executed.
    let other = started(place, "UsrApproval");
    let cancelled = place.json(&["cancel", &id_of(&other)[..13]]);
    assert_eq!(cancelled["status"], "Cancelled", "{cancelled}");
    let (_, refused) = place.run(&["exec", &uid_of(&other), "-p", "Decision=true"], 2);
    assert!(refused.contains("Cancelled"), "{refused}");

    // signal: the waiting instance moves on; a typo names the nearest signal.
    let (_, nobody) = place.run(&["signal", "OrderPayd"], 0);
    assert!(nobody.contains("did you mean `OrderPaid`?"), "{nobody}");
    let moved = place.json(&["signal", "OrderPaid"]);
    assert_eq!(moved.as_array().unwrap().len(), 1, "{moved}");
    assert_eq!(moved[0]["processId"], paid["processId"]);
    assert_eq!(place.json(&["show", &id_of(&paid)])["resultParameterValues"]["Paid"], true);

    // tick: nothing is due an hour in, the timer fires at three.
    let early = place.json(&["tick", "--now", "2026-01-01T01:00:00Z"]);
    assert_eq!(early.as_array().unwrap().len(), 0, "{early}");
    let fired = place.json(&["tick", "--now", "2026-01-01T03:00:00Z"]);
    assert_eq!(fired.as_array().unwrap().len(), 1, "{fired}");
    let reminded = place.json(&["show", &id_of(&reminder)]);
    assert_eq!(reminded["status"], "Completed");
    assert_eq!(reminded["resultParameterValues"]["Reminded"], true);

    let completed = place.json(&["instances", "--status", "Completed"]);
    assert_eq!(completed.as_array().unwrap().len(), 3, "{completed}");
}

fn the_repl_works_on_the_stored_instances(place: &Place) {
    let waiting = started(place, "UsrApproval");
    let id = id_of(&waiting);
    let out = place.repl(&format!("instances\nuse {}\nexec Approve Decision=true\ncontinue\nrun UsrPaid\n", &id[..13]));
    assert!(out.contains(&id) && out.contains("(kept; `use` opens it)"), "{out}");
    assert!(out.contains("instances are kept in the store"), "{out}");
    // The session saved what it did: the CLI sees it.
    let shown = place.json(&["show", &id]);
    assert_eq!(shown["status"], "Completed", "{out}");
    assert_eq!(shown["resultParameterValues"]["Approved"], true);
    let paid = place.json(&["instances", "--process", "UsrPaid"]);
    assert_eq!(paid.as_array().unwrap().len(), 1, "the instance started in the REPL was kept: {paid}");
    assert_eq!(paid[0]["status"], "Waiting");
    // And the CLI moves it on where the REPL left it.
    assert_eq!(place.json(&["signal", "OrderPaid"]).as_array().unwrap().len(), 1);
}

fn the_store_comes_from_the_environment(place: &Place) {
    let out = place.procdsl(&["run", "p.proc", "--process", "UsrApproval", "--json"], true);
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let out = place.procdsl(&["instances", "--json"], true);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let listed: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listed[0]["id"], d["processId"], "{listed}");
    let out = place.procdsl(&["exec", &uid_of(&d), "-p", "Decision=true", "--json"], true);
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
}

#[test]
fn a_url_without_a_server_fails_with_the_password_left_out() {
    let place = Place::sqlite();
    let out =
        place.procdsl(&["instances", "--store", "postgres://app:s3cret@127.0.0.1:1/none?connect_timeout=1"], false);
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("postgres://app@127.0.0.1:1/none"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "the password is never shown: {stderr}");
}

#[test]
fn help_never_shows_the_password_of_procdsl_store() {
    for command in ["run", "exec", "instances", "show", "cancel", "signal", "tick", "repl"] {
        let out = Command::new(env!("CARGO_BIN_EXE_procdsl"))
            .args([command, "--help"])
            .env("PROCDSL_STORE", "postgres://app:s3cret@db/procdsl")
            .output()
            .unwrap();
        let (stdout, _) = texts(&out);
        assert!(stdout.contains("PROCDSL_STORE") && !stdout.contains("s3cret"), "{command} --help:\n{stdout}");
    }
}

/// Every instance, and each one's `show --json`: what a copy must keep.
fn contents(place: &Place) -> Vec<Value> {
    let list = place.json(&["instances"]);
    let mut all = vec![list.clone()];
    for summary in list.as_array().unwrap() {
        all.push(place.json(&["show", summary["id"].as_str().unwrap()]));
    }
    all
}

#[test]
fn store_migrate_copies_sqlite_into_postgres_and_back() {
    let Some(postgres) = Place::postgres() else { return };
    let sqlite = Place::sqlite();
    let approval = started(&sqlite, "UsrApproval");
    started(&sqlite, "UsrPaid");
    let reminder = started(&sqlite, "UsrReminder");
    let finished = started(&sqlite, "UsrApproval");
    sqlite.json(&["exec", &uid_of(&finished), "-p", "Decision=false"]);
    let before = contents(&sqlite);

    let migrate = |from: &str, to: &str, extra: &[&str], code: i32| {
        let mut args = vec!["store", "migrate", from, to];
        args.extend(extra);
        let out = sqlite.procdsl(&args, false);
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}:\n{stdout}{stderr}");
        (stdout, stderr)
    };
    let (said, _) = migrate(&sqlite.store, &postgres.store, &[], 0);
    assert!(said.starts_with("copied 1 definition, 4 instances (4 element-instances) from "), "{said}");
    assert_eq!(contents(&postgres), before, "PostgreSQL holds what SQLite held");

    // Into a store that holds instances: refused unless --merge.
    let (_, refused) = migrate(&sqlite.store, &postgres.store, &[], 2);
    assert!(refused.contains("already holds instances") && refused.contains("--merge"), "{refused}");
    migrate(&sqlite.store, &postgres.store, &["--merge"], 0);
    assert_eq!(contents(&postgres), before, "a merge replaces each instance by its copy");

    let back = sqlite.dir.path().join("back.db");
    let back = Place { dir: folder(), store: back.to_str().unwrap().to_string(), _server: None };
    migrate(&postgres.store, &back.store, &[], 0);
    assert_eq!(contents(&back), before, "and back into SQLite, the same again");

    // The copies go on where the original stood: a task, a timer, a
    // signal, an element already executed.
    let done = back.json(&["exec", &uid_of(&approval), "-p", "Decision=true"]);
    assert_eq!(done["status"], "Completed");
    let (again, _) = postgres.run(&["exec", &uid_of(&finished), "-p", "Decision=true"], 0);
    assert!(again.contains("already executed"), "{again}");
    assert_eq!(postgres.json(&["tick", "--now", "2026-01-01T03:00:00Z"])[0]["processId"], reminder["processId"]);
    assert_eq!(postgres.json(&["signal", "OrderPaid"]).as_array().unwrap().len(), 1);
    assert_eq!(contents(&sqlite), before, "the source is only read");
}
