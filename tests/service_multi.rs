//! The service and multi-instance elements: each item is an element-instance
//! of its own in the descriptor (`item`, `itemValue`), ExecProcElByUId
//! executes one item, and an item cancelled by `until` is refused clearly.
#![cfg(feature = "service")]

mod service_support;

use serde_json::json;
use service_support::*;

const SVC: &str = "/0/ServiceModel/ProcessEngineService.svc";

const PROCS: &str = r#"
process UsrReviewAll {
    in Reviewers: List<Text> = ["alice", "bob", "carol"]
    out Votes: List<Text> = []
    var Rejected: Boolean = false
    start Begin -> Review
    user Review "Review" for each Reviewer in Reviewers until Rejected {
        in Ok: Boolean
        done {
            Votes = push(Votes, Reviewer)
            if not Ok { Rejected = true }
        }
    } -> Done
    end Done
}
"#;

#[test]
fn exec_proc_el_by_uid_executes_one_item_and_until_cancels_the_rest() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&[]);
    let a = &server.addr;
    let r = post_json(a, &format!("{SVC}/RunProcess"), &json!({"schemaName": "UsrReviewAll"}));
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json();
    let id = d["processId"].as_str().unwrap().to_string();
    let waiting = d["waiting"].as_array().unwrap().clone();
    let items: Vec<(serde_json::Value, serde_json::Value)> =
        waiting.iter().map(|w| (w["item"].clone(), w["itemValue"].clone())).collect();
    assert_eq!(items, [(json!(0), json!("alice")), (json!(1), json!("bob")), (json!(2), json!("carol"))], "{d}");
    let uid = |i: usize| waiting[i]["uid"].as_str().unwrap().to_string();

    let r = get_json(a, &format!("{SVC}/ExecProcElByUId/{}?Ok=true", uid(1)));
    assert_eq!(r.status, 200, "{}", r.body);
    let d = get(a, &format!("/api/instances/{id}")).json();
    assert_eq!(d["status"], "Waiting", "{d}");
    let left: Vec<&serde_json::Value> = d["waiting"].as_array().unwrap().iter().map(|w| &w["item"]).collect();
    assert_eq!(left, [&json!(0), &json!(2)], "{d}");

    let r = get_json(a, &format!("{SVC}/ExecProcElByUId/{}?Ok=false", uid(2)));
    assert_eq!(r.status, 200, "{}", r.body);
    let d = get(a, &format!("/api/instances/{id}")).json();
    assert_eq!(
        (d["status"].clone(), d["resultParameterValues"]["Votes"].clone()),
        (json!("Completed"), json!(["bob", "carol"]))
    );

    let r = get_json(a, &format!("{SVC}/ExecProcElByUId/{}?Ok=true", uid(0)));
    assert_eq!(r.status, 409, "{}", r.body);
    let message = r.error_message();
    assert!(message.contains("an item of `Review`") && message.contains("`until` held"), "{message}");
}
