//! The service and deadlines: its scheduler fires a deadline in real time,
//! and ExecProcElByUId on the element-instance the deadline cancelled
//! gives a clear refusal.
#![cfg(feature = "service")]

mod service_support;

use serde_json::json;
use service_support::*;
use std::time::Duration;

const SVC: &str = "/0/ServiceModel/ProcessEngineService.svc";

const PROCS: &str = r#"
process UsrQuickClaim {
    out Status: Text = "new"
    start Begin -> Approve
    user Approve "Approve the claim" { in Ok: Boolean; done { Status = "decided" } } -> Done
        deadline "PT1S" -> Escalate
    user Escalate "Handle the late claim" -> Done
    end Done
}
"#;

#[test]
fn exec_proc_el_by_uid_on_a_deadline_cancelled_uid_says_so() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&["--tick-ms", "50"]);
    let a = &server.addr;
    let r = post_json(a, &format!("{SVC}/RunProcess"), &json!({"schemaName": "UsrQuickClaim"}));
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json();
    let id = d["processId"].as_str().unwrap().to_string();
    let uid = d["waiting"][0]["uid"].as_str().unwrap().to_string();
    assert!(d["waiting"][0]["deadline"].is_string(), "{d}");

    let escalated = || get(a, &format!("/api/instances/{id}")).json()["waiting"][0]["element"] == "Escalate";
    wait_for("the deadline to fire", Duration::from_secs(20), escalated);

    let r = get_json(a, &format!("{SVC}/ExecProcElByUId/{uid}?Ok=true"));
    assert_eq!(r.status, 409, "{}", r.body);
    let message = r.error_message();
    assert!(message.contains("cancelled by the deadline of `Approve`"), "{message}");
    assert!(message.contains("can no longer be executed"), "{message}");
    let d = get(a, &format!("/api/instances/{id}")).json();
    assert_eq!((d["status"].clone(), d["resultParameterValues"]["Status"].clone()), (json!("Waiting"), json!("new")));
}
