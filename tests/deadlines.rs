//! Deadlines and reminders beyond the golden cases: real time through the
//! store (`tick` fires a due deadline once), an exec racing a deadline
//! (exactly one wins, in memory and in the store), the descriptor's
//! `deadline`, and the saved form keeping all of it.

#[path = "support/fixture.rs"]
mod fixture;

use procdsl::check;
use procdsl::runtime::engine::{ClockMode, ExecError, ExecOutcome, Run, RunOptions};
use procdsl::runtime::instance::{Instance, Status};
use procdsl::runtime::saved::SavedInstance;
use procdsl::store::{self, Store, StoreError};
use std::sync::Arc;

const SOURCE: &str = r#"process UsrClaim {
    out Status: Text = "new"
    start Begin -> Approve
    user Approve "Approve the claim" {
        in Ok: Boolean
        done { Status = if Ok then "approved" else "rejected" }
    } -> Done
        deadline "P1D" -> Escalate
        every "PT8H" -> Remind
    script Remind { log "reminder at {now()}" } -> Reminded
    end Reminded
    user Escalate "Handle the late claim" -> Done
    end Done
}

process UsrCaller {
    out Answer: Text
    start Begin -> Ask
    call Ask UsrAsk { Answer -> Answer } -> Done
        deadline "PT12H" -> Late
    script Late { Answer = "late" } -> Done
    end Done
}

process UsrAsk {
    out Answer: Text
    start Begin -> Question
    user Question "Answer" { in Text1: Text; done { Answer = Text1 } } -> Done
        deadline "P2D" -> Never
    end Never
    end Done
}
"#;

fn program() -> Arc<procdsl::check::spec::Program> {
    Arc::new(check::load_str("claim.proc", SOURCE).unwrap().program)
}

fn at(t: &str) -> jiff::Timestamp {
    t.parse().unwrap()
}

const NONE: [(&str, &str); 0] = [];
const T0: &str = "2026-01-01T00:00:00Z";

/// An instance of `code` run in real time at `T0`, waiting.
fn waiting(code: &str) -> Instance {
    let program = program();
    let process = program.find(code).unwrap();
    let mut instance = Instance::new(program, process, at(T0));
    let mut run = Run::new(store::real_time(Some(at(T0))));
    store::run_on(&mut instance, &mut run);
    assert_eq!(instance.status, Status::Waiting);
    instance
}

fn real(now: &str) -> Run {
    Run::new(RunOptions { clock: ClockMode::Real, now: Some(at(now)), ..RunOptions::default() })
}

#[test]
fn a_due_deadline_fires_once_through_tick_and_its_uid_is_refused_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("store.db")).unwrap();
    let d = store.start(program(), "UsrClaim", NONE, store::real_time(Some(at(T0)))).unwrap();
    let approve = d.waiting[0].uid;
    assert_eq!(d.waiting[0].deadline.as_deref(), Some("2026-01-02T00:00:00Z"));

    // A reminder is due work for the store's due query too.
    let moved = store.tick(at("2026-01-01T08:00:00Z")).unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].log, ["reminder at 2026-01-01T08:00:00Z"]);
    assert!(store.tick(at("2026-01-01T08:00:00Z")).unwrap().is_empty(), "a reminder fires once per period");

    let moved = store.tick(at("2026-01-02T00:00:00Z")).unwrap();
    assert_eq!(moved.len(), 1);
    let names: Vec<&str> = moved[0].waiting.iter().map(|w| w.element.as_str()).collect();
    assert_eq!(names, ["Escalate"]);
    assert!(moved[0].log.last().unwrap().contains("cancelled by its deadline"), "{:?}", moved[0].log);
    assert!(store.tick(at("2026-01-02T00:00:00Z")).unwrap().is_empty(), "the deadline fired once");
    assert!(store.tick(at("2026-01-09T00:00:00Z")).unwrap().is_empty(), "its reminders stopped with it");

    let err = store.exec(approve, &[("Ok", "true")], store::real_time(Some(at("2026-01-03T00:00:00Z")))).unwrap_err();
    assert!(matches!(err, StoreError::Exec(ExecError::CancelledByDeadline { .. })), "{err}");
    assert!(err.to_string().contains("cancelled by the deadline of `Approve` (2026-01-02T00:00:00Z)"), "{err}");
    assert_eq!(store.show(d.process_id).unwrap().waiting[0].element, "Escalate");
}

#[test]
fn an_exec_after_the_deadline_passed_is_refused_even_before_tick_fires_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("store.db")).unwrap();
    let d = store.start(program(), "UsrClaim", NONE, store::real_time(Some(at(T0)))).unwrap();
    let uid = d.waiting[0].uid;
    let late = store::real_time(Some(at("2026-01-02T00:00:01Z")));
    let err = store.exec(uid, &[("Ok", "true")], late).unwrap_err();
    assert!(matches!(err, StoreError::Exec(ExecError::CancelledByDeadline { .. })), "{err}");
    let still = store.show(d.process_id).unwrap();
    assert_eq!((still.status, still.waiting[0].uid), (Status::Waiting, uid), "the refusal changed nothing");
    let moved = store.tick(at("2026-01-02T00:00:01Z")).unwrap();
    assert_eq!(moved[0].waiting[0].element, "Escalate");

    // Before the deadline the exec wins, and the deadline never fires.
    let d = store.start(program(), "UsrClaim", NONE, store::real_time(Some(at(T0)))).unwrap();
    let early = store::real_time(Some(at("2026-01-01T23:59:59Z")));
    let (outcome, done) = store.exec(d.waiting[0].uid, &[("Ok", "false")], early).unwrap();
    assert_eq!((outcome, done.status), (ExecOutcome::Executed, Status::Completed));
    assert!(store.tick(at("2026-01-05T00:00:00Z")).unwrap().is_empty());
    assert_eq!(store.show(d.process_id).unwrap().result_parameter_values["Status"], "rejected");
}

#[test]
fn in_memory_exactly_one_of_an_exec_and_its_deadline_wins() {
    // The exec first: the deadline finds nothing to cancel.
    let mut first = waiting("UsrClaim");
    let uid = first.descriptor(None).waiting[0].uid;
    let mut run = real("2026-01-01T12:00:00Z");
    assert_eq!(first.exec(uid, &[("Ok", "true")], &mut run).unwrap(), ExecOutcome::Executed);
    assert_eq!(first.fire_due_timers(at("2026-01-03T00:00:00Z")), 0);
    assert_eq!(first.status, Status::Completed);
    assert!(first.log.iter().all(|l| !l.contains("deadline")), "{:?}", first.log.to_vec());

    // The deadline first: the exec is refused and nothing runs.
    let mut second = waiting("UsrClaim");
    let uid = second.descriptor(None).waiting[0].uid;
    assert!(second.fire_due_timers(at("2026-01-02T00:00:00Z")) > 0);
    second.run(&mut real("2026-01-02T00:00:00Z"));
    let mut run = real("2026-01-02T00:00:00Z");
    let err = second.exec(uid, &[("Ok", "true")], &mut run).unwrap_err();
    assert!(matches!(err, ExecError::CancelledByDeadline { .. }), "{err}");
    assert!(!second.was_executed(uid));
    assert_eq!(second.param("Status").unwrap().to_string(), "new");
    assert_eq!(run.elements_executed, 0);

    // Racing at the deadline's very moment: the deadline has passed, so it wins.
    let mut third = waiting("UsrClaim");
    let uid = third.descriptor(None).waiting[0].uid;
    let err = third.exec(uid, &[("Ok", "true")], &mut real("2026-01-02T00:00:00Z")).unwrap_err();
    assert!(matches!(err, ExecError::CancelledByDeadline { .. }), "{err}");
}

#[test]
fn a_calls_deadline_shows_on_its_sub_process_tasks_and_cancels_them() {
    let mut caller = waiting("UsrCaller");
    let d = caller.descriptor(None);
    assert_eq!(d.waiting.len(), 1);
    assert_eq!(d.waiting[0].element, "Question");
    // The call's deadline (12 hours) comes before the task's own (2 days).
    assert_eq!(d.waiting[0].deadline.as_deref(), Some("2026-01-01T12:00:00Z"));
    let question = d.waiting[0].uid;

    assert_eq!(caller.fire_due_timers(at("2026-01-01T12:00:00Z")), 1);
    caller.run(&mut real("2026-01-01T12:00:00Z"));
    assert_eq!(caller.status, Status::Completed);
    assert_eq!(caller.param("Answer").unwrap().to_string(), "late");
    let err = caller.exec(question, &[("Text1", "yes")], &mut real("2026-01-01T13:00:00Z")).unwrap_err();
    assert!(err.to_string().contains("cancelled by the deadline of `Ask`"), "{err}");
}

#[test]
fn the_saved_form_keeps_deadlines_reminders_and_cancelled_uids() {
    let mut instance = waiting("UsrClaim");
    let uid = instance.descriptor(None).waiting[0].uid;
    let saved = SavedInstance::of(&instance);
    assert_eq!(saved.format, procdsl::runtime::saved::FORMAT_VERSION);
    assert_eq!(saved.waiting[0].deadline, Some(at("2026-01-02T00:00:00Z")));
    assert_eq!(saved.waiting[0].reminder, Some(at("2026-01-01T08:00:00Z")));
    let json = serde_json::to_string(&saved).unwrap();
    let restored = serde_json::from_str::<SavedInstance>(&json).unwrap().restore(program()).unwrap();
    assert_eq!(SavedInstance::of(&restored), saved);

    instance.fire_due_timers(at("2026-01-02T00:00:00Z"));
    instance.fire_due_timers(at("2026-01-02T00:00:00Z"));
    let saved = SavedInstance::of(&instance);
    assert_eq!(saved.expired.len(), 1);
    let mut restored = saved.restore(program()).unwrap();
    let err = restored.exec(uid, &NONE, &mut real("2026-01-03T00:00:00Z")).unwrap_err();
    assert!(matches!(err, ExecError::CancelledByDeadline { .. }), "{err}");

    // A deadline the definition lacks is refused, never guessed at.
    let mut odd = SavedInstance::of(&waiting("UsrCaller"));
    odd.waiting[0].reminder = Some(at(T0));
    assert!(odd.restore(program()).unwrap_err().contains("deadline or reminder its definition lacks"));
}

/// Runs the binary with `args` (and `input` on stdin) from the repository root.
fn procdsl(args: &[&str], input: &str) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
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
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_repl_shows_a_deadline_in_pending_and_advance_crosses_it() {
    let input = "start UsrExpenseClaim Amount=1200 Category=travel\nstep 4\npending\nadvance P3D\npending\n";
    let out = procdsl(&["repl", "examples/expense_claim.proc", "--now", "2026-11-30T09:00:00Z"], input);
    assert!(
        out.contains("deadline 2026-12-03T09:00:00Z  next reminder 2026-12-01T09:00:00Z"),
        "pending shows the deadline and the next reminder:\n{out}"
    );
    // Three reminders, then the deadline after the one due with it.
    assert!(out.contains("4 timers fired"), "{out}");
    let after = &out[out.rfind("pending (`step` runs the first):").expect("something is pending")..];
    let order: Vec<&str> = after.lines().skip(1).take(4).map(|l| l.split_whitespace().nth(1).unwrap_or("")).collect();
    assert_eq!(order, ["Remind", "Remind", "Remind", "Escalate"], "{out}");
    assert!(!after.contains("ManagerApproval"), "the task was cancelled:\n{out}");
}

#[test]
fn graph_draws_a_deadline_and_a_reminder_as_timers_on_the_border() {
    let dot = procdsl(&["graph", "examples/expense_claim.proc", "--format", "dot"], "");
    let timer = |label: &str| dot.lines().find(|l| l.contains(label)).unwrap_or_default().to_string();
    let deadline = timer("deadline P3D");
    let reminder = timer("every P1D");
    assert!(deadline.contains("shape=doublecircle, style=solid"), "{dot}");
    assert!(reminder.contains("shape=doublecircle, style=dashed"), "{dot}");
    // Tied to the task without an arrow, and an arrow on to each target.
    assert!(
        dot.contains("e4 -> t0 [dir=none, style=dotted];") && dot.contains("e4 -> t1 [dir=none, style=dotted];"),
        "{dot}"
    );
    assert!(dot.contains("t0 -> e7 [style=solid];") && dot.contains("t1 -> e5 [style=dashed];"), "{dot}");
    let mermaid = procdsl(&["graph", "examples/expense_claim.proc"], "");
    assert!(mermaid.contains("t0((\"⏱ deadline P3D\"))") && mermaid.contains("t1 -.-> e5"), "{mermaid}");
}

/// The definition of the format 3 fixture (tests/fixtures/store-v3): a
/// signal whose deadline already fired, a user task with a deadline and a
/// reminder that fired once, and a call with a deadline waiting on its
/// sub-process, in parallel.
const SOURCE_V3: &str = r#"process UsrFixtureDeadlines {
    out Status: Text = "new"
    out Reminders: Integer = 0
    start Begin -> Fork
    parallel Fork -> Quick, Approve, Review
    signal Quick "FixtureNever" -> QuickDone
        deadline "PT1H" -> QuickLate
    script QuickLate { log "the quick wait was cancelled" } -> QuickDone
    end QuickDone
    user Approve "Approve" {
        in Ok: Boolean
        done { Status = if Ok then "approved" else "rejected" }
    } -> Approved
        deadline "P3D" -> Escalate
        every "PT12H" -> Remind
    script Remind { Reminders = Reminders + 1 } -> Reminded
    end Reminded
    script Escalate { Status = "escalated" } -> Approved
    end Approved
    call Review UsrFixtureReview -> Reviewed
        deadline "P2D" -> ReviewLate
    script ReviewLate { log "the review was cancelled" } -> Reviewed
    end Reviewed
}

process UsrFixtureReview {
    start Begin -> Question
    user Question "Review" { in Text1: Text } -> Done
    end Done
}
"#;

/// Writes the format 3 fixture (only with `PROCDSL_REGENERATE_FIXTURES`,
/// and only while 3 is the current format: never rewrite an old one).
fn regenerate_v3() {
    fixture::write(3, SOURCE_V3, |store, program| {
        let d = store.start(program, "UsrFixtureDeadlines", NONE, store::real_time(Some(at(T0)))).unwrap();
        assert_eq!(store.tick(at("2026-01-01T13:00:00Z")).unwrap().len(), 1);
        d.process_id
    });
}

#[test]
fn a_store_of_format_version_3_with_deadlines_still_loads_and_finishes() {
    if std::env::var_os("PROCDSL_REGENERATE_FIXTURES").is_some() && procdsl::runtime::saved::FORMAT_VERSION == 3 {
        regenerate_v3();
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    std::fs::copy(fixture::dir(3).join("store.db"), &db).expect("the fixture's store.db is committed");
    let mut store = Store::open_existing(&db).unwrap();
    let id = store.list(&store::ListFilter::default()).unwrap()[0].id;
    let d = store.show(id).unwrap();
    let mut seen: Vec<(&str, Option<&str>)> =
        d.waiting.iter().map(|w| (w.element.as_str(), w.deadline.as_deref())).collect();
    seen.sort();
    assert_eq!(seen, [("Approve", Some("2026-01-04T00:00:00Z")), ("Question", Some("2026-01-03T00:00:00Z"))]);
    assert_eq!(d.result_parameter_values["Reminders"], 1);

    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture::dir(3).join("state.json")).unwrap()).unwrap();
    let quick: uuid::Uuid = state["expired"][0]["uid"].as_str().unwrap().parse().unwrap();
    let options = store::real_time(Some(at("2026-01-01T14:00:00Z")));
    let err = store.exec(quick, &NONE, options).unwrap_err();
    assert!(err.to_string().contains("cancelled by the deadline of `Quick` (2026-01-01T01:00:00Z)"), "{err}");

    let question = d.waiting.iter().find(|w| w.element == "Question").unwrap().uid;
    let moved = store.tick(at("2026-01-03T00:00:00Z")).unwrap();
    assert_eq!(moved.len(), 1);
    assert!(moved[0].log.iter().any(|l| l == "the review was cancelled"), "{:?}", moved[0].log);
    let later = store::real_time(Some(at("2026-01-03T01:00:00Z")));
    assert!(store.exec(question, &[("Text1", "ok")], later.clone()).unwrap_err().to_string().contains("`Review`"));
    let approve = d.waiting.iter().find(|w| w.element == "Approve").unwrap().uid;
    let (_, done) = store.exec(approve, &[("Ok", "true")], later).unwrap();
    assert_eq!(done.status, Status::Completed, "{:?}", done.error);
    assert_eq!(done.result_parameter_values["Status"], "approved");
    assert_eq!(done.result_parameter_values["Reminders"], 2);
}
