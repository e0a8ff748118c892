//! Multi-instance elements (`for each X in LIST [until COND]`) beyond the
//! golden cases, which cannot execute user tasks: items executed in any
//! order, `until` cancelling the rest, one item's failure, a call's
//! outputs collected in item order, and the saved form (format 4) keeping
//! all of it between every two executions.

#[path = "support/fixture.rs"]
mod fixture;

use procdsl::check;
use procdsl::runtime::engine::{ExecError, ExecOutcome, Run, RunOptions};
use procdsl::runtime::instance::{Instance, Status};
use procdsl::runtime::saved::{self, SavedInstance};
use procdsl::runtime::value::Value;
use std::sync::Arc;
use uuid::Uuid;

const SOURCE: &str = r#"process UsrReview {
    in Reviewers: List<Text> = ["alice", "bob", "carol"]
    out Votes: List<Text> = []
    out Status: Text = "new"
    var Rejected: Boolean = false

    start Begin -> Review
    user Review "Review the contract" for each Reviewer in Reviewers until Rejected to Reviewer {
        in Ok: Boolean
        done {
            if Reviewer == "boom" { fail "cannot review" }
            Votes = push(Votes, Reviewer + (if Ok then " yes" else " no"))
            if not Ok { Rejected = true }
        }
    } -> Tally on error -> Broken
    script Tally { Status = if Rejected then "rejected" else "approved" } -> Done
    script Broken { Status = "broken: " + last_error() } -> Done
    end Done
}

process UsrShipAll {
    in Lines: List<Text> = ["a", "b", "c"]
    out Trackings: List<Text>
    start Begin -> Ship
    call Ship UsrShipLine for each Line in Lines { Item = Line; Tracking -> Trackings } -> Done
    end Done
}

process UsrShipLine {
    in Item: Text
    out Tracking: Text
    start Begin -> Confirm
    user Confirm "Confirm the line" {
        in Code: Text
        done {
            if Code == "fail" { fail "line {Item} cannot ship" }
            Tracking = Item + "-" + Code
        }
    } -> Done
    end Done
}
"#;

const NONE: [(&str, &str); 0] = [];

fn started(code: &str, reviewers: Option<&str>) -> Instance {
    let program = Arc::new(check::load_str("multi.proc", SOURCE).unwrap().program);
    let process = program.find(code).unwrap();
    let mut instance = Instance::new(program, process, "2026-01-01T00:00:00Z".parse().unwrap());
    if let Some(list) = reviewers {
        instance.set_inputs([("Reviewers", list)]).unwrap();
    }
    instance.run(&mut Run::new(RunOptions::default()));
    instance
}

/// The waiting element-instances' UIds, in the waiting list's order.
fn uids(instance: &Instance) -> Vec<Uuid> {
    instance.descriptor(None).waiting.iter().map(|w| w.uid).collect()
}

fn exec(instance: &mut Instance, uid: Uuid, ok: &str) -> Result<ExecOutcome, ExecError> {
    instance.exec(uid, &[("Ok", ok)], &mut Run::new(RunOptions::default()))
}

/// Through the saved JSON and back, as a store does between two requests.
fn reloaded(instance: &Instance) -> Instance {
    let json = serde_json::to_string(&SavedInstance::of(instance)).unwrap();
    let back: SavedInstance = serde_json::from_str(&json).unwrap();
    assert_eq!(back.format, saved::FORMAT_VERSION);
    back.restore(instance.program.clone()).unwrap()
}

fn text(instance: &Instance, code: &str) -> String {
    procdsl::runtime::convert::to_json(instance.param(code).unwrap()).to_string()
}

#[test]
fn every_item_waits_with_its_own_uid_and_the_flow_goes_on_after_the_last() {
    let mut instance = started("UsrReview", None);
    let d = instance.descriptor(None);
    assert_eq!(d.waiting.len(), 3);
    let items: Vec<(Option<u32>, String)> =
        d.waiting.iter().map(|w| (w.item, w.item_value.clone().unwrap().to_string())).collect();
    assert_eq!(items, [(Some(0), "\"alice\"".into()), (Some(1), "\"bob\"".into()), (Some(2), "\"carol\"".into())]);
    assert_eq!(d.waiting[1].to.as_deref(), Some(&["bob".to_string()][..]), "`to` is evaluated per item");
    let all = uids(&instance);
    // Executed in reverse order, saved and restored between each.
    for (n, uid) in all.iter().rev().enumerate() {
        assert_eq!(instance.status, Status::Waiting, "after {n} items");
        assert_eq!(exec(&mut instance, *uid, "true").unwrap(), ExecOutcome::Executed);
        instance = reloaded(&instance);
    }
    assert_eq!(instance.status, Status::Completed);
    assert_eq!(text(&instance, "Votes"), r#"["carol yes","bob yes","alice yes"]"#);
    assert_eq!(text(&instance, "Status"), r#""approved""#);
    assert_eq!(exec(&mut instance, all[0], "true").unwrap(), ExecOutcome::AlreadyExecuted);
}

#[test]
fn until_cancels_the_items_still_waiting_and_their_uids_say_so() {
    let mut instance = started("UsrReview", None);
    let all = uids(&instance);
    exec(&mut instance, all[0], "true").unwrap();
    let mut instance = reloaded(&instance);
    exec(&mut instance, all[1], "false").unwrap();
    assert_eq!(instance.status, Status::Completed);
    assert_eq!(text(&instance, "Status"), r#""rejected""#);
    let instance_again = reloaded(&instance);
    for mut i in [instance, instance_again] {
        let err = exec(&mut i, all[2], "true").unwrap_err();
        assert!(matches!(err, ExecError::ItemCancelled { .. }), "{err}");
        assert!(err.to_string().contains("`until` held"), "{err}");
    }
}

#[test]
fn a_failing_item_is_the_elements_failure_and_cancels_the_others() {
    let mut instance = started("UsrReview", Some(r#"["alice","boom","carol"]"#));
    let all = uids(&instance);
    exec(&mut instance, all[0], "true").unwrap();
    exec(&mut instance, all[1], "true").unwrap();
    assert_eq!(instance.status, Status::Completed);
    assert_eq!(text(&instance, "Status"), r#""broken: cannot review""#);
    // The failing item's own changes are undone, the earlier item's stay.
    assert_eq!(text(&instance, "Votes"), r#"["alice yes"]"#);
    let err = exec(&mut instance, all[2], "true").unwrap_err();
    assert!(err.to_string().contains("another item failed"), "{err}");
}

#[test]
fn an_empty_list_goes_straight_on() {
    let instance = started("UsrReview", Some("[]"));
    assert_eq!(instance.status, Status::Completed);
    assert_eq!(text(&instance, "Status"), r#""approved""#);
}

#[test]
fn a_calls_outputs_are_collected_in_item_order_whatever_order_items_finish() {
    let mut instance = started("UsrShipAll", None);
    let d = instance.descriptor(None);
    assert_eq!(d.waiting.iter().map(|w| w.item).collect::<Vec<_>>(), [Some(0), Some(1), Some(2)]);
    assert!(d.waiting.iter().all(|w| w.process.as_deref() == Some("UsrShipLine")));
    let all = uids(&instance);
    let run = || Run::new(RunOptions::default());
    instance.exec(all[2], &[("Code", "z")], &mut run()).unwrap();
    let mut instance = reloaded(&instance);
    assert_eq!(text(&instance, "Trackings"), r#"[null,null,"c-z"]"#);
    instance.exec(all[0], &[("Code", "x")], &mut run()).unwrap();
    let mut instance = reloaded(&instance);
    instance.exec(all[1], &[("Code", "y")], &mut run()).unwrap();
    assert_eq!(instance.status, Status::Completed);
    assert_eq!(text(&instance, "Trackings"), r#"["a-x","b-y","c-z"]"#);
}

#[test]
fn item_values_keep_their_type_through_the_saved_form() {
    let date =
        procdsl::runtime::convert::from_json(&serde_json::json!("2026-03-01"), &procdsl::runtime::value::Type::Date)
            .unwrap();
    let mut attrs = indexmap::IndexMap::new();
    attrs.insert(Arc::<str>::from("When"), date.clone());
    attrs.insert("Sum".into(), Value::decimal("1.50".parse().unwrap()));
    let value = Value::list(vec![Value::object(attrs).unwrap(), date, Value::Integer(3), Value::Null]).unwrap();
    let json = saved::tagged(&value);
    assert_eq!(
        json.to_string(),
        r#"[{"object":{"When":{"date":"2026-03-01"},"Sum":{"decimal":1.50}}},{"date":"2026-03-01"},3,null]"#
    );
    let back = saved::untagged(&json).unwrap();
    assert_eq!(saved::tagged(&back), json);
    assert_eq!(back.type_name(), "List");
}

#[test]
fn a_state_of_format_3_still_restores() {
    let instance = started("UsrReview", None);
    let mut json = serde_json::to_value(SavedInstance::of(&instance)).unwrap();
    // A format-3 state of a definition without `for each`: nothing waits.
    let plain = started("UsrReview", Some("[]"));
    let mut old = serde_json::to_value(SavedInstance::of(&plain)).unwrap();
    old["v"] = 3.into();
    let back: SavedInstance = serde_json::from_value(old).unwrap();
    assert_eq!(back.restore(plain.program.clone()).unwrap().status, Status::Completed);
    // An item on an element without `for each` is refused, never guessed at.
    json["waiting"][0]["element"] = 2.into();
    let bad: SavedInstance = serde_json::from_value(json).unwrap();
    let err = bad.restore(instance.program.clone()).unwrap_err();
    assert!(err.contains("waits as an item"), "{err}");
}

/// The definition of the format 4 fixture: a user task per reviewer (one
/// already done when it was saved) and a sub-process per line.
const SOURCE_V4: &str = r#"process UsrFixtureMulti {
    in Reviewers: List<Text> = ["alice", "bob"]
    in Lines: List<Date> = [date("2026-02-01"), date("2026-03-01")]
    out Votes: List<Text> = []
    out Shipped: List<Text>
    start Begin -> Fork
    parallel Fork -> Review, Ship
    user Review "Review" for each Reviewer in Reviewers to Reviewer {
        in Ok: Boolean
        done { Votes = push(Votes, Reviewer) }
    } -> Join
    call Ship UsrFixtureLine for each Line in Lines { On = Line; Note -> Shipped } -> Join
    parallel Join -> Done
    end Done
}

process UsrFixtureLine {
    in On: Date
    out Note: Text
    start Begin -> Confirm
    user Confirm "Confirm" { in By: Text; done { Note = "{On} by {By}" } } -> Done
    end Done
}
"#;

/// Writes the format 4 fixture (only with `PROCDSL_REGENERATE_FIXTURES`,
/// and only while 4 is the current format: never rewrite an old one).
fn regenerate_v4() {
    use procdsl::store;
    fixture::write(4, SOURCE_V4, |store, program| {
        let t0 = "2026-01-01T00:00:00Z".parse().unwrap();
        let d = store.start(program, "UsrFixtureMulti", NONE, store::real_time(Some(t0))).unwrap();
        let alice = d.waiting.iter().find(|w| w.element == "Review" && w.item == Some(0)).unwrap().uid;
        store.exec(alice, &[("Ok", "true")], store::real_time(Some(t0))).unwrap();
        let line = d.waiting.iter().find(|w| w.element == "Confirm" && w.item == Some(1)).unwrap().uid;
        store.exec(line, &[("By", "ann")], store::real_time(Some(t0))).unwrap();
        d.process_id
    });
}

#[test]
fn a_store_of_format_version_4_with_items_still_loads_and_finishes() {
    use procdsl::store::{self, Store};
    if std::env::var_os("PROCDSL_REGENERATE_FIXTURES").is_some() && saved::FORMAT_VERSION == 4 {
        regenerate_v4();
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    std::fs::copy(fixture::dir(4).join("store.db"), &db).expect("the fixture's store.db is committed");
    let mut store = Store::open_existing(&db).unwrap();
    let id = store.list(&store::ListFilter::default()).unwrap()[0].id;
    let d = store.show(id).unwrap();
    let mut seen: Vec<(&str, Option<u32>, String)> =
        d.waiting.iter().map(|w| (w.element.as_str(), w.item, w.item_value.as_ref().unwrap().to_string())).collect();
    seen.sort();
    assert_eq!(seen, [("Confirm", Some(0), r#""2026-02-01""#.into()), ("Review", Some(1), r#""bob""#.into())]);
    assert_eq!(d.result_parameter_values["Shipped"], serde_json::json!([null, "2026-03-01 by ann"]));
    let now = store::real_time(Some("2026-01-02T00:00:00Z".parse().unwrap()));
    for w in &d.waiting {
        let fields: Vec<(&str, &str)> = if w.element == "Review" { vec![("Ok", "true")] } else { vec![("By", "bo")] };
        store.exec(w.uid, &fields, now.clone()).unwrap();
    }
    let done = store.show(id).unwrap();
    assert_eq!(done.status, Status::Completed, "{:?}", done.error);
    assert_eq!(done.result_parameter_values["Votes"], serde_json::json!(["alice", "bob"]));
    assert_eq!(done.result_parameter_values["Shipped"], serde_json::json!(["2026-02-01 by bo", "2026-03-01 by ann"]));
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
    String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap()
}

#[test]
fn the_repl_lists_items_in_pending_and_exec_picks_one_by_index() {
    let input = "start UsrContractReview\ncontinue\npending\nexec Review Ok=true\nexec Review[1] Ok=true\n\
                 exec Review[7] Ok=true\npending\n";
    let out = procdsl(&["repl", "tests/cases/run/multi_user_waits.proc"], input);
    assert!(out.contains(r#"item 2: "carol"  to carol"#), "pending shows each item:\n{out}");
    assert!(out.contains("3 element-instances match `Review`"), "a bare name is ambiguous:\n{out}");
    assert!(out.contains("user Review item 1 done, 2 still wait"), "`Review[1]` executes bob's:\n{out}");
    assert!(out.contains("`Review[7]`: `Review` has 2 element-instances"), "{out}");
    let last = &out[out.rfind("waiting (`exec").unwrap()..];
    assert!(last.contains(r#"item 0: "alice""#) && last.contains(r#"item 2: "carol""#) && !last.contains("\"bob\""));
}

#[test]
fn graph_marks_a_multi_instance_element() {
    let args = ["graph", "tests/cases/check/multi_ok.proc", "--process", "UsrMultiOk"];
    let mermaid = procdsl(&args, "");
    assert!(
        mermaid.contains(r#"e1(["user Review<br/>Review the contract<br/>||| for each Reviewer until …"])"#),
        "{mermaid}"
    );
    assert!(mermaid.contains(r#"e2[["call Ship<br/>→ UsrShipLine<br/>||| for each Line"]]"#), "{mermaid}");
    let dot = procdsl(&[&args[..], &["--format", "dot"]].concat(), "");
    assert!(dot.contains(r#"label="call Ship\n→ UsrShipLine\n||| for each Line", shape=box, peripheries=2"#), "{dot}");
}

#[test]
fn a_call_over_an_empty_list_collects_an_empty_list() {
    let program = Arc::new(check::load_str("multi.proc", SOURCE).unwrap().program);
    let process = program.find("UsrShipAll").unwrap();
    let mut instance = Instance::new(program, process, "2026-01-01T00:00:00Z".parse().unwrap());
    instance.set_inputs([("Lines", "[]")]).unwrap();
    instance.run(&mut Run::new(RunOptions::default()));
    assert_eq!(instance.status, Status::Completed);
    assert_eq!(text(&instance, "Trackings"), "[]");
}

#[test]
fn a_failing_sub_process_fails_the_call_and_cancels_the_other_items_sub_processes() {
    let mut instance = started("UsrShipAll", None);
    let all = uids(&instance);
    let run = || Run::new(RunOptions::default());
    instance.exec(all[0], &[("Code", "x")], &mut run()).unwrap();
    instance.exec(all[1], &[("Code", "fail")], &mut run()).unwrap();
    assert_eq!(instance.status, Status::Failed);
    let error = instance.error.clone().unwrap();
    assert!(error.message.contains("line b cannot ship"), "{error}");
    // The third line's task went with its sub-process, and says why.
    let mut instance = reloaded(&instance);
    let err = instance.exec(all[2], &[("Code", "z")], &mut run()).unwrap_err();
    assert!(err.to_string().contains("another item failed"), "{err}");
}

#[test]
fn each_item_is_assigned_to_its_own_reviewer() {
    let mut instance = started("UsrReview", None);
    let all = uids(&instance);
    let as_user =
        |who: &str| Run::new(RunOptions { actor: who.into(), roles: Some(Vec::new()), ..RunOptions::default() });
    let err = instance.exec(all[0], &[("Ok", "true")], &mut as_user("bob")).unwrap_err();
    assert!(matches!(err, ExecError::NotAssigned(_)), "{err}");
    assert!(err.to_string().contains("alice"), "{err}");
    assert_eq!(instance.exec(all[1], &[("Ok", "true")], &mut as_user("bob")).unwrap(), ExecOutcome::Executed);
    assert_eq!(instance.descriptor(None).waiting.len(), 2);
}

#[test]
fn tick_fires_a_multi_instance_deadline_once_for_all_items() {
    use procdsl::store::{self, Store};
    const LATE: &str = r#"process UsrLateReview {
        in Reviewers: List<Text> = ["alice", "bob"]
        out Status: Text = "new"
        start Begin -> Review
        user Review "Review" for each R in Reviewers { in Ok: Boolean } -> Done
            deadline "P1D" -> Late
        script Late { Status = Status + " late" } -> Done
        end Done
    }"#;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("s.db")).unwrap();
    let program = Arc::new(check::load_str("late.proc", LATE).unwrap().program);
    let t0: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let d = store.start(program, "UsrLateReview", NONE, store::real_time(Some(t0))).unwrap();
    assert!(d.waiting.iter().all(|w| w.deadline.as_deref() == Some("2026-01-02T00:00:00Z")));
    store.exec(d.waiting[0].uid, &[("Ok", "true")], store::real_time(Some(t0))).unwrap();
    let moved = store.tick("2026-01-02T00:00:00Z".parse().unwrap()).unwrap();
    assert_eq!(moved.len(), 1);
    let done = store.show(d.process_id).unwrap();
    assert_eq!(done.status, Status::Completed);
    assert_eq!(done.result_parameter_values["Status"], "new late", "the deadline's path ran once");
    let later = store::real_time(Some("2026-01-03T00:00:00Z".parse().unwrap()));
    let err = store.exec(d.waiting[1].uid, &[("Ok", "true")], later).unwrap_err();
    assert!(err.to_string().contains("cancelled by the deadline of `Review`"), "{err}");
}
