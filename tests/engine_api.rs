//! The library API and the engine's wait states: executing element-instances
//! by UId, sub-processes that wait, signals, joins, terminate.

use procdsl::runtime::engine::{ExecError, ExecOutcome, Run, RunOptions};
use procdsl::{Engine, Status};
use uuid::Uuid;

const NO_INPUTS: [(&str, &str); 0] = [];

fn engine(text: &str) -> Engine {
    Engine::from_source("test.proc", text).unwrap_or_else(|e| panic!("{}", e.render(false)))
}

fn waiting_uid(instance: &procdsl::Instance, element: &str) -> Uuid {
    instance.descriptor(None).waiting.iter().find(|w| w.element == element).map(|w| w.uid).expect("element waits")
}

const PARENT_CHILD: &str = r#"
process UsrParent {
    out Result: Integer
    out Events: List<Text> = []
    start Begin -> Fork
    parallel Fork -> CallIt, Waiter
    call CallIt UsrChild { N = 3; Square -> Result } -> Join
    signal Waiter "Go" -> AfterSignal
    script AfterSignal { Events = push(Events, "signal") } -> Join
    parallel Join -> Done
    end Done
}
process UsrChild {
    in N: Integer
    out Square: Integer
    start Begin -> Ask
    user Ask "Approve?" {
        in Ok: Boolean
        done { if Ok { Square = N * N } else { fail "rejected" } }
    } -> Emit
    script Emit { emit "Go" } -> Done
    end Done
}
"#;

#[test]
fn a_waiting_sub_process_makes_its_caller_wait_and_lists_its_elements() {
    let engine = engine(PARENT_CHILD);
    let mut instance = engine.start("UsrParent", NO_INPUTS).unwrap();
    engine.run(&mut instance);
    let d = instance.descriptor(None);
    assert_eq!(d.status, Status::Waiting);
    let ask = d.waiting.iter().find(|w| w.element == "Ask").expect("the child's user task is listed");
    assert_eq!(ask.process.as_deref(), Some("UsrChild"));
    assert_eq!(ask.fields.get("Ok").map(String::as_str), Some("Boolean"));
    assert!(d.waiting.iter().any(|w| w.element == "Waiter" && w.signal.as_deref() == Some("Go")));
}

#[test]
fn executing_the_child_task_emits_the_signal_and_completes_the_caller() {
    let engine = engine(PARENT_CHILD);
    let mut instance = engine.start("UsrParent", NO_INPUTS).unwrap();
    engine.run(&mut instance);
    let ask = waiting_uid(&instance, "Ask");
    assert_eq!(engine.exec(&mut instance, ask, &[("Ok", "true")]).unwrap(), ExecOutcome::Executed);
    let d = instance.descriptor(None);
    assert_eq!(d.status, Status::Completed, "{:?}", d.error);
    assert_eq!(d.result_parameter_values["Result"], serde_json::json!(9));
    assert_eq!(d.result_parameter_values["Events"], serde_json::json!(["signal"]));
    assert_eq!(engine.exec(&mut instance, ask, &[("Ok", "true")]).unwrap(), ExecOutcome::AlreadyExecuted);
}

#[test]
fn a_bad_or_missing_field_leaves_the_element_waiting() {
    let engine = engine(PARENT_CHILD);
    let mut instance = engine.start("UsrParent", NO_INPUTS).unwrap();
    engine.run(&mut instance);
    let ask = waiting_uid(&instance, "Ask");
    let err = engine.exec(&mut instance, ask, &[("Okk", "true")]).unwrap_err();
    assert!(err.to_string().contains("no field `Okk`") && err.to_string().contains("did you mean `Ok`"), "{err}");
    let err = engine.exec(&mut instance, ask, &NO_INPUTS).unwrap_err();
    assert!(err.to_string().contains("`Ok` (Boolean) is required"), "{err}");
    let err = engine.exec(&mut instance, ask, &[("Ok", "maybe")]).unwrap_err();
    assert!(err.to_string().contains("maybe"), "{err}");
    assert_eq!(instance.status, Status::Waiting);
    assert_eq!(waiting_uid(&instance, "Ask"), ask);
}

#[test]
fn a_failing_sub_process_fails_the_call_element_with_its_place() {
    let engine = engine(PARENT_CHILD);
    let mut instance = engine.start("UsrParent", NO_INPUTS).unwrap();
    engine.run(&mut instance);
    let ask = waiting_uid(&instance, "Ask");
    engine.exec(&mut instance, ask, &[("Ok", "false")]).unwrap();
    let d = instance.descriptor(None);
    assert_eq!(d.status, Status::Failed);
    let error = d.error.expect("an error");
    assert_eq!(error.element.as_deref(), Some("CallIt"));
    assert!(
        error.message.contains("sub-process `UsrChild` failed") && error.message.contains("rejected"),
        "{}",
        error.message
    );
    assert_eq!((error.line, error.column), (Some(7), Some(10)), "the call element `CallIt`");
    assert!(d.waiting.is_empty(), "a failed instance waits for nothing");
}

#[test]
fn unknown_and_finished_uids_are_errors() {
    let engine = engine(PARENT_CHILD);
    let mut instance = engine.start("UsrParent", NO_INPUTS).unwrap();
    engine.run(&mut instance);
    let stranger = Uuid::new_v4();
    assert!(matches!(engine.exec(&mut instance, stranger, &NO_INPUTS), Err(ExecError::UnknownUid { .. })));
    let waiter = waiting_uid(&instance, "Waiter");
    instance.cancel();
    assert_eq!(instance.status, Status::Cancelled);
    assert!(engine.exec(&mut instance, waiter, &NO_INPUTS).is_err());
}

#[test]
fn terminate_cancels_the_other_paths() {
    let engine = engine(
        r#"
process UsrRace {
    out Winner: Text
    start Begin -> Fork
    parallel Fork -> Slow, Fast
    user Slow "never" { } -> Done
    script Fast { Winner = "fast" } -> Stop
    terminate Stop
    end Done
}"#,
    );
    let d = engine.execute("UsrRace", NO_INPUTS).unwrap();
    assert_eq!(d.status, Status::Completed);
    assert!(d.waiting.is_empty());
    assert_eq!(d.result_parameter_values["Winner"], serde_json::json!("fast"));
}

#[test]
fn an_inclusive_join_waits_for_a_branch_that_is_still_waiting() {
    let engine = engine(
        r#"
process UsrInclusive {
    out Done: List<Text> = []
    start Begin -> Fork
    inclusive Fork {
        when true -> Quick
        when true -> Ask
        else -> Quick
    }
    script Quick { Done = push(Done, "quick") } -> Join
    user Ask "ok?" { done { Done = push(Done, "asked") } } -> Join
    inclusive Join -> After
    script After { Done = push(Done, "after") } -> End
    end End
}"#,
    );
    let mut instance = engine.start("UsrInclusive", NO_INPUTS).unwrap();
    engine.run(&mut instance);
    assert_eq!(instance.status, Status::Waiting);
    assert_eq!(instance.descriptor(None).result_parameter_values["Done"], serde_json::json!(["quick"]));
    let ask = waiting_uid(&instance, "Ask");
    engine.exec(&mut instance, ask, &NO_INPUTS).unwrap();
    let d = instance.descriptor(None);
    assert_eq!(d.status, Status::Completed);
    assert_eq!(
        d.result_parameter_values["Done"],
        serde_json::json!(["quick", "asked", "after"]),
        "the join fires once"
    );
}

#[test]
fn a_parallel_join_that_cannot_complete_fails_the_instance() {
    let engine = engine(
        r#"
process UsrStuck {
    in Go: Boolean = true
    start Begin -> Choose
    exclusive Choose {
        when Go -> A
        else -> B
    }
    script A { } -> Join
    script B { } -> Join
    parallel Join -> Done
    end Done
}"#,
    );
    let d = engine.execute("UsrStuck", NO_INPUTS).unwrap();
    assert_eq!(d.status, Status::Failed);
    assert!(d.error.unwrap().message.contains("parallel join `Join`"));
}

#[test]
fn the_step_budget_ends_an_endless_loop_even_with_a_handler() {
    let engine = engine(
        r#"
process UsrForever {
    out N: Integer = 0
    start Begin -> Spin
    script Spin { while true { N = N + 1 } } -> Done on error -> Done
    end Done
}"#,
    )
    .with_options(RunOptions { max_steps: 1_000, ..Default::default() });
    let d = engine.execute("UsrForever", NO_INPUTS).unwrap();
    assert_eq!(d.status, Status::Failed);
    let error = d.error.unwrap();
    assert!(error.message.contains("step budget of 1000 steps exceeded"), "{}", error.message);
    assert_eq!(error.element.as_deref(), Some("Spin"));
    assert_eq!(d.result_parameter_values["N"], serde_json::json!(0), "the failed element's changes are undone");
}

#[test]
fn step_runs_one_element_at_a_time() {
    let engine = engine(PARENT_CHILD);
    let mut instance = engine.start("UsrChild", [("N", "2")]).unwrap();
    let mut run = Run::new(RunOptions { trace: true, ..Default::default() });
    assert!(instance.step(&mut run));
    assert_eq!(run.trace.len(), 1);
    assert_eq!(&*run.trace[0].element, "Begin");
    assert!(instance.step(&mut run));
    assert_eq!(instance.status, Status::Waiting);
    assert!(!instance.step(&mut run), "a waiting instance does not move by itself");
}

#[test]
fn background_runs_refuse_processes_with_outputs_and_run_the_others() {
    let engine = engine(PARENT_CHILD);
    let err = engine.execute_in_background("UsrChild", [("N", "2")]).unwrap_err();
    assert!(err.to_string().contains("Square"), "{err}");
    let quiet = self::engine("process UsrQuiet { start Begin -> Done\n end Done }");
    let (id, handle) = quiet.execute_in_background("UsrQuiet", NO_INPUTS).unwrap();
    let d = handle.join().unwrap();
    assert_eq!(d.process_id, id);
    assert_eq!(d.status, Status::Completed);
}

#[test]
fn execute_result_returns_a_typed_value_or_the_failure() {
    let engine = engine(PARENT_CHILD);
    let err = engine.execute_result("UsrChild", [("N", "2")], "Nope").unwrap_err();
    assert!(err.to_string().contains("no result parameter `Nope`"), "{err}");
    let err = engine.execute("UsrChlid", NO_INPUTS).unwrap_err();
    assert!(format!("{:?}", miette::Report::new(err)).contains("UsrChild"));
}
