//! Executing a waiting element-instance by its UId, through the library
//! (`procdsl run` without a store cannot continue an instance, so the golden
//! cases stop where an instance waits).

use procdsl::runtime::engine::{ExecError, ExecOutcome};
use procdsl::{Engine, Status};
use serde_json::json;

const SOURCE: &str = r#"
process UsrApprove {
    out Approved: Boolean = false
    out Note:     Text
    out Score:    Integer

    start Begin -> Approve
    user Approve "Approve the order" {
        in Decision: Boolean
        in Comment:  Text = "none"
        in Points:   Integer = 3
        done {
            Approved = Decision
            Note = Comment
            Score = Points * 10
        }
    } -> Done
    end Done
}

process UsrOuter {
    out Answer: Text
    start Begin -> Ask
    call Ask UsrInner { Reply -> Answer } -> Done
    end Done
}

process UsrInner {
    out Reply: Text
    start Begin -> Question
    user Question "Answer" {
        in Text1: Text
        done { Reply = upper(Text1) }
    } -> Done
    end Done
}
"#;

fn engine() -> Engine {
    Engine::from_source("exec.proc", SOURCE).expect("the source checks")
}

#[test]
fn a_user_task_runs_done_with_given_fields_and_defaults() {
    let engine = engine();
    let mut instance = engine.start::<&str, &str>("UsrApprove", []).unwrap();
    engine.run(&mut instance);
    assert_eq!(instance.status, Status::Waiting);
    let uid = instance.descriptor(None).waiting[0].uid;
    let outcome = engine.exec(&mut instance, uid, &[("Decision", "true")]).unwrap();
    assert_eq!(outcome, ExecOutcome::Executed);
    let d = instance.descriptor(None);
    assert_eq!(d.status, Status::Completed);
    assert_eq!(d.result_parameter_values["Approved"], json!(true));
    assert_eq!(d.result_parameter_values["Note"], json!("none"));
    assert_eq!(d.result_parameter_values["Score"], json!(30));
}

#[test]
fn a_missing_required_field_is_an_error_and_the_element_still_waits() {
    let engine = engine();
    let mut instance = engine.start::<&str, &str>("UsrApprove", []).unwrap();
    engine.run(&mut instance);
    let uid = instance.descriptor(None).waiting[0].uid;
    let err = engine.exec(&mut instance, uid, &[("Comment", "x")]).unwrap_err();
    assert!(matches!(err, ExecError::BadField { .. }), "{err:?}");
    assert_eq!(err.to_string(), "element `Approve`: field `Decision` (Boolean) is required");
    let err = engine.exec(&mut instance, uid, &[("Decision", "maybe")]).unwrap_err();
    assert!(err.to_string().contains("`Decision`"), "{err}");
    let err = engine.exec(&mut instance, uid, &[("Decison", "true")]).unwrap_err();
    assert!(err.to_string().contains("did you mean `Decision`?"), "{err}");
    assert_eq!(instance.status, Status::Waiting);
    assert_eq!(instance.descriptor(None).waiting[0].uid, uid);
    engine.exec(&mut instance, uid, &[("Decision", "false"), ("Points", "1")]).unwrap();
    assert_eq!(instance.status, Status::Completed);
    assert_eq!(instance.descriptor(None).result_parameter_values["Score"], json!(10));
}

#[test]
fn executing_twice_does_nothing_the_second_time() {
    let engine = engine();
    let mut instance = engine.start::<&str, &str>("UsrApprove", []).unwrap();
    engine.run(&mut instance);
    let uid = instance.descriptor(None).waiting[0].uid;
    engine.exec(&mut instance, uid, &[("Decision", "true")]).unwrap();
    let again = engine.exec(&mut instance, uid, &[("Decision", "false")]).unwrap();
    assert_eq!(again, ExecOutcome::AlreadyExecuted);
    assert_eq!(instance.descriptor(None).result_parameter_values["Approved"], json!(true));
}

#[test]
fn an_unknown_uid_is_an_error() {
    let engine = engine();
    let mut instance = engine.start::<&str, &str>("UsrApprove", []).unwrap();
    engine.run(&mut instance);
    let err = engine.exec::<&str, &str>(&mut instance, uuid::Uuid::nil(), &[]).unwrap_err();
    assert!(matches!(err, ExecError::UnknownUid { .. }), "{err:?}");
    assert_eq!(instance.status, Status::Waiting);
}

#[test]
fn a_waiting_sub_process_is_continued_through_its_caller() {
    let engine = engine();
    let mut instance = engine.start::<&str, &str>("UsrOuter", []).unwrap();
    engine.run(&mut instance);
    assert_eq!(instance.status, Status::Waiting);
    let waiting = instance.descriptor(None).waiting;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].element, "Question");
    assert_eq!(waiting[0].process.as_deref(), Some("UsrInner"));
    engine.exec(&mut instance, waiting[0].uid, &[("Text1", "yes")]).unwrap();
    let d = instance.descriptor(None);
    assert_eq!(d.status, Status::Completed);
    assert_eq!(d.result_parameter_values["Answer"], json!("YES"));
}
