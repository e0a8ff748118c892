//! The web service, tested for real: each test starts `procdsl serve` on a
//! free loopback port with its own store and talks HTTP/1.1 to it over a
//! TCP socket (a tiny client below, so that oversized and malformed
//! requests can be sent as they are).
#![cfg(feature = "service")]

mod service_support;

use serde_json::{json, Value};
use service_support::*;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const PROCS: &str = r#"
process UsrEcho {
    in  Name: Text = "world"
    out Greeting: Text
    start Begin -> Greet
    script Greet { Greeting = "Hello, {Name}!" } -> Done
    end Done
}

process UsrApprove {
    uid "6f1c2b1e-1111-4c1b-9c55-2f1e3a4b5c6d"
    in  Amount: Decimal = 0
    out Approved: Boolean = false
    out Note: Text
    start Begin -> Approve
    user Approve "Approve the order" {
        in Decision: Boolean
        in Comment: Text = ""
        done {
            Approved = Decision
            Note = Comment
            log "executed with {Comment}"
        }
    } -> Done
    end Done
}

process UsrBackground {
    in  N: Integer = 3
    var Total: Integer = 0
    start Begin -> Work
    script Work {
        for i in 0..N { Total = Total + i }
        log "total {Total}"
    } -> Done
    end Done
}

process UsrSlow {
    in  N: Integer = 2000000
    out Total: Integer = 0
    start Begin -> Work
    script Work { for i in 0..N { Total = Total + 1 } } -> Done
    end Done
}

process UsrTimer {
    out Fired: Boolean = false
    start Begin -> Wait
    timer Wait after "PT1S" -> Mark
    script Mark { Fired = true } -> Done
    end Done
}

process UsrListener {
    out Heard: Boolean = false
    start Begin -> Listen
    signal Listen "Go" -> Mark
    script Mark { Heard = true } -> Done
    end Done
}

process UsrShout {
    start Begin -> Shout
    script Shout { emit "Go" } -> Done
    end Done
}

process UsrFail {
    in  X: Integer = 0
    out Y: Integer
    start Begin -> Divide
    script Divide { Y = 10 / X } -> Done
    end Done
}
"#;

const XML_NS: &str = "http://schemas.microsoft.com/2003/10/Serialization/";
const SVC: &str = "/0/ServiceModel/ProcessEngineService.svc";

/// Starts UsrApprove through RunProcess; returns (instance id, waiting uid).
fn start_approval(addr: &str) -> (String, String) {
    let r = post_json(addr, &format!("{SVC}/RunProcess"), &json!({"schemaName": "UsrApprove"}));
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json();
    assert_eq!(d["status"], "Waiting");
    (d["processId"].as_str().unwrap().to_string(), d["waiting"][0]["uid"].as_str().unwrap().to_string())
}

#[test]
fn creatio_routes_answer_in_creatio_form_and_as_json() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&[]);
    let a = &server.addr;

    // Execute with a result, under both prefixes, XML and JSON.
    for prefix in ["/0/ServiceModel", "/ServiceModel"] {
        let r = get(
            a,
            &format!(
                "{prefix}/ProcessEngineService.svc/UsrEcho/Execute?ResultParameterName=Greeting&Name=Ada%20%3C1%3E"
            ),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body, format!(r#"<string xmlns="{XML_NS}">Hello, Ada &lt;1&gt;!</string>"#));
        assert!(r.header("content-type").unwrap().starts_with("application/xml"));
    }
    let r = get_json(a, &format!("{SVC}/UsrEcho/Execute?ResultParameterName=Greeting&Name=Ada"));
    assert_eq!(r.json(), json!("Hello, Ada!"));
    // POST with inputs in a JSON body.
    let r = post_json(a, &format!("{SVC}/UsrEcho/Execute?ResultParameterName=Greeting"), &json!({"Name": "Bo"}));
    assert_eq!(r.json(), json!("Hello, Bo!"));
    // A result parameter the process lacks: null, as Creatio answers.
    let r = get_json(a, &format!("{SVC}/UsrEcho/Execute?ResultParameterName=Nope"));
    assert_eq!((r.status, r.json()), (200, Value::Null));
    let r = get(a, &format!("{SVC}/UsrEcho/Execute?ResultParameterName=Nope"));
    assert!(r.body.contains(r#"i:nil="true""#), "{}", r.body);

    // RunProcess with Creatio's array of parameter values, to a user task.
    let r = post_json(
        a,
        &format!("{SVC}/RunProcess"),
        &json!({"schemaUId": "6f1c2b1e-1111-4c1b-9c55-2f1e3a4b5c6d",
                "parameterValues": [{"name": "Amount", "value": 12.5}],
                "resultParameterNames": ["Approved", "Missing"]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json();
    assert_eq!(d["status"], "Waiting");
    assert_eq!(d["processStatus"], 1);
    assert_eq!(d["success"], true);
    assert_eq!(d["errorInfo"], Value::Null);
    assert_eq!(d["resultParameterValues"], json!({"Approved": false, "Missing": null}));
    let id = d["processId"].as_str().unwrap().to_string();
    let uid = d["waiting"][0]["uid"].as_str().unwrap().to_string();
    // The waiting instance was committed before the answer.
    let r = get(a, &format!("/api/instances/{id}"));
    assert_eq!(r.json()["status"], "Waiting");

    // ExecProcElByUId with field values in the query, in Creatio form.
    let r = get(a, &format!("{SVC}/ExecProcElByUId/{uid}?Decision=true&Comment=fine"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.starts_with(&format!(r#"<string xmlns="{XML_NS}">{{"#)), "{}", r.body);
    let r = get(a, &format!("/api/instances/{id}"));
    let d = r.json();
    assert_eq!(d["status"], "Completed");
    assert_eq!(d["resultParameterValues"], json!({"Approved": true, "Note": "fine"}));
    // Again: already executed, nothing done.
    let r = get_json(a, &format!("{SVC}/ExecProcElByUId/{uid}?Decision=false"));
    assert_eq!(r.status, 409);
    assert!(r.error_message().contains("already executed"), "{}", r.body);

    // ExecProcElByUId with a JSON body, RunProcess with an object of values.
    let r = post_json(
        a,
        &format!("{SVC}/RunProcess"),
        &json!({"schemaName": "UsrApprove", "parameterValues": {"Amount": "7"}}),
    );
    let uid = r.json()["waiting"][0]["uid"].as_str().unwrap().to_string();
    let r = post_json(a, &format!("{SVC}/ExecProcElByUId/{uid}"), &json!({"Decision": false, "Comment": "no"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["resultParameterValues"], json!({"Approved": false, "Note": "no"}));

    // CancelExecution.
    let (id, _) = start_approval(a);
    let r = post_json(a, &format!("{SVC}/CancelExecution"), &json!([id]));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()[0]["status"], "Cancelled");
    assert_eq!(get(a, &format!("/api/instances/{id}")).json()["status"], "Cancelled");
    let unknown = "00000000-0000-4000-8000-000000000000";
    let r = post_json(a, &format!("{SVC}/CancelExecution"), &json!([unknown]));
    assert!(r.json()[0]["error"]["message"].as_str().unwrap().contains("no instance"), "{}", r.body);

    // A failed run through RunProcess: success false and the error's place.
    let r = post_json(a, &format!("{SVC}/RunProcess"), &json!({"schemaName": "UsrFail"}));
    let d = r.json();
    assert_eq!((d["success"].clone(), d["processStatus"].clone()), (json!(false), json!(3)));
    assert_eq!(d["errorInfo"]["element"], "Divide");
    assert!(d["errorInfo"]["line"].is_number());
}

#[test]
fn the_json_api_health_metrics_and_openapi() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&[]);
    let a = &server.addr;
    let r = get(a, "/health");
    assert_eq!((r.status, r.json()["status"].clone()), (200, json!("ok")));

    let r = get(a, "/api/processes");
    let codes: Vec<String> =
        r.json().as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_string()).collect();
    assert!(codes.contains(&"UsrApprove".to_string()), "{codes:?}");
    let r = get(a, "/api/processes/UsrApprove");
    let p = r.json();
    assert_eq!(p["uid"], "6f1c2b1e-1111-4c1b-9c55-2f1e3a4b5c6d");
    assert_eq!(p["parameters"][0], json!({"code": "Amount", "direction": "in", "type": "Decimal", "default": 0}));
    assert!(p["elements"].as_array().unwrap().iter().any(|e| e["name"] == "Approve" && e["kind"] == "user"));

    let (id, _) = start_approval(a);
    let (other, _) = start_approval(a);
    post_json(a, &format!("{SVC}/CancelExecution"), &json!([other]));
    let r = get(a, "/api/instances?status=Waiting");
    let list = r.json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], json!(id));
    assert_eq!(list[0]["waiting"], 1);
    assert_eq!(get(a, "/api/instances").json().as_array().unwrap().len(), 2);

    // A signal wakes a waiting instance.
    let r = post_json(a, &format!("{SVC}/RunProcess"), &json!({"schemaName": "UsrListener"}));
    let listener = r.json()["processId"].as_str().unwrap().to_string();
    let r = request(a, "POST", "/api/signals/Go", &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["woken"][0]["processId"], json!(listener));
    assert_eq!(get(a, &format!("/api/instances/{listener}")).json()["resultParameterValues"]["Heard"], true);

    let r = get(a, "/metrics");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    for needle in [
        "procdsl_http_requests_total{route=\"/api/instances\",status=\"200\"}",
        "procdsl_http_request_duration_seconds_bucket{route=\"/health\",le=\"+Inf\"} 1",
        "procdsl_instances_started_total 3",
        "procdsl_instances_completed_total 1",
        "procdsl_instances{status=\"Waiting\"} 1",
        "procdsl_instances{status=\"Cancelled\"} 1",
        "procdsl_elements_executed_total",
    ] {
        assert!(r.body.contains(needle), "no `{needle}` in\n{}", r.body);
    }

    // Every route of the router is in the OpenAPI document, and every
    // path of the document is routed.
    let doc = get(a, "/api/openapi.json").json();
    assert_eq!(doc["openapi"], "3.0.3");
    let routes = procdsl::service::routes();
    for (method, path) in &routes {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} is not in the OpenAPI document");
        let concrete =
            path.replace("{code}", "UsrEcho").replace("{uid}", "x").replace("{id}", "x").replace("{name}", "x");
        let r = request(a, &method.to_uppercase(), &concrete, &[], Some(b""));
        assert!(r.status != 405 && !r.body.contains("no route"), "{method} {path}: {}", r.body);
    }
    let documented: usize = doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, routes.len());
}

#[test]
fn bad_input_gets_a_clear_4xx() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&["--max-body", "4096"]);
    let a = &server.addr;
    let check = |r: Response, status: u16, needle: &str| {
        assert_eq!(r.status, status, "{}", r.body);
        let m = r.error_message();
        assert!(m.contains(needle), "`{m}` does not say `{needle}`");
        assert!(!r.body.contains("panicked") && !r.body.contains("src/"), "{}", r.body);
    };
    let raw = |path: &str, body: &str| {
        request(a, "POST", path, &[("Content-Type", "application/json")], Some(body.as_bytes()))
    };
    check(raw(&format!("{SVC}/RunProcess"), "{\"schemaName\": "), 400, "not valid JSON");
    check(raw(&format!("{SVC}/RunProcess"), "[1]"), 400, "RunProcess body is not valid");
    check(raw(&format!("{SVC}/RunProcess"), "{}"), 400, "names no process");
    check(raw(&format!("{SVC}/RunProcess"), r#"{"schemaName":"UsrAprove"}"#), 404, "unknown process `UsrAprove`");
    let r = raw(&format!("{SVC}/RunProcess"), r#"{"schemaName":"UsrAprove"}"#);
    assert_eq!(r.json()["error"]["help"], "did you mean `UsrApprove`?");
    check(raw(&format!("{SVC}/RunProcess"), r#"{"schemaUId":"nope"}"#), 400, "not a valid schemaUId");
    check(
        raw(&format!("{SVC}/RunProcess"), r#"{"schemaName":"UsrApprove","parameterValues":{"Amount":"lots"}}"#),
        400,
        "parameter `Amount` (Decimal)",
    );
    check(
        raw(&format!("{SVC}/RunProcess"), r#"{"schemaName":"UsrApprove","parameterValues":{"Amont":"1"}}"#),
        400,
        "has no parameter `Amont`",
    );
    check(
        raw(&format!("{SVC}/RunProcess"), r#"{"schemaName":"UsrApprove","parameterValues":[{"value":1}]}"#),
        400,
        "parameterValues[0]",
    );
    check(get(a, &format!("{SVC}/UsrEcho/Execute?ResultParameterName=Greeting&Nme=x")), 400, "no parameter `Nme`");
    check(get(a, &format!("{SVC}/UsrNope/Execute?ResultParameterName=X")), 404, "unknown process");
    check(raw(&format!("{SVC}/UsrEcho/Execute?ResultParameterName=Greeting"), "[1,2]"), 400, "must be a JSON object");
    check(get(a, &format!("{SVC}/UsrFail/Execute?ResultParameterName=Y")), 422, "division by zero");
    let r = get(a, &format!("{SVC}/UsrFail/Execute?ResultParameterName=Y"));
    assert_eq!(r.json()["error"]["element"], "Divide");
    // The background refusal names the outputs.
    check(get(a, &format!("{SVC}/UsrApprove/Execute?Amount=1")), 409, "output parameters (Approved, Note)");
    // Oversized body.
    let big = format!("{{\"schemaName\":\"UsrEcho\",\"pad\":\"{}\"}}", "x".repeat(10_000));
    check(raw(&format!("{SVC}/RunProcess"), &big), 413, "too large");
    // Unknown and malformed UIds, ids.
    let unknown = "00000000-0000-4000-8000-000000000000";
    check(get(a, &format!("{SVC}/ExecProcElByUId/{unknown}")), 404, "no waiting element-instance");
    check(get(a, &format!("{SVC}/ExecProcElByUId/xyz")), 400, "not a valid element-instance UId");
    check(get(a, &format!("/api/instances/{unknown}")), 404, "no instance");
    check(get(a, "/api/instances/42"), 400, "not a valid instance id");
    check(get(a, "/api/processes/%FF"), 400, "the path is not valid");
    check(get(a, "/api/instances?status=Sleeping"), 400, "not a status");
    check(raw(&format!("{SVC}/CancelExecution"), "{}"), 400, "JSON array");
    // A bad field value leaves the element waiting.
    let (_, uid) = start_approval(a);
    check(get(a, &format!("{SVC}/ExecProcElByUId/{uid}?Decision=maybe")), 400, "Decision");
    check(get(a, &format!("{SVC}/ExecProcElByUId/{uid}")), 400, "required");
    assert_eq!(get_json(a, &format!("{SVC}/ExecProcElByUId/{uid}?Decision=true")).status, 200);
    // Routes and methods.
    check(get(a, "/nowhere"), 404, "no route");
    check(get(a, &format!("{SVC}/RunProcess")), 405, "does not take this method");
    // Too many headers.
    let many: Vec<(String, String)> = (0..80).map(|i| (format!("X-H{i}"), "v".to_string())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    check(request(a, "GET", "/health", &many, None), 431, "headers are too large");
}

fn users_file(setup: &Setup) -> PathBuf {
    let hash = procdsl::service::auth::hash_password("s3cret").unwrap();
    let token = procdsl::service::auth::sha256_hex("tok-123-0123456789abcdef0123456789abcdef");
    let path = setup.path("users.json");
    std::fs::write(
        &path,
        json!({"users": [{"name": "Supervisor", "password": hash, "roles": ["admin"]}], "tokens": [{"name": "ci", "sha256": token, "roles": ["admin"]}]})
            .to_string(),
    )
    .unwrap();
    path
}

#[test]
fn sign_in_with_cookies_and_csrf_or_a_bearer_token() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap()]);
    let a = &server.addr;
    let login = "/ServiceModel/AuthService.svc/Login";

    // No credentials: 401, except /health.
    assert_eq!(get(a, "/health").status, 200);
    let r = get(a, "/api/instances");
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.error_message().contains("sign in"));
    assert_eq!(get(a, &format!("{SVC}/UsrEcho/Execute?ResultParameterName=Greeting")).status, 401);

    // Wrong credentials: Code 1, no session.
    let r = post_json(a, login, &json!({"UserName": "Supervisor", "UserPassword": "wrong"}));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["Code"], 1);
    assert!(r.cookies().is_empty());
    let r = post_json(a, login, &json!({"UserName": "Nobody", "UserPassword": "s3cret"}));
    assert_eq!(r.json()["Code"], 1);
    let r = post_json(a, login, &json!({"Name": "x"}));
    assert_eq!(r.status, 400);

    // Right credentials: Code 0 and the three cookies.
    let r = post_json(a, login, &json!({"UserName": "Supervisor", "UserPassword": "s3cret"}));
    assert_eq!(r.json()["Code"], 0, "{}", r.body);
    let cookies = r.cookies();
    let names: Vec<&str> = cookies.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, [".ASPXAUTH", "BPMCSRF", "BPMSESSIONID"]);
    let csrf = cookies[1].1.clone();
    let cookie = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");

    // A session reads without BPMCSRF ...
    let r = request(a, "GET", "/api/instances", &[("Cookie", &cookie)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    // ... but changes state only with it, as Creatio clients send it.
    let body = br#"{"schemaName":"UsrApprove"}"#;
    let json = ("Content-Type", "application/json");
    let r = request(a, "POST", &format!("{SVC}/RunProcess"), &[("Cookie", &cookie), json], Some(body));
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.error_message().contains("BPMCSRF"));
    let r = request(
        a,
        "POST",
        &format!("{SVC}/RunProcess"),
        &[("Cookie", &cookie), ("BPMCSRF", "forged"), json],
        Some(body),
    );
    assert_eq!(r.status, 403);
    let r = request(
        a,
        "POST",
        &format!("{SVC}/RunProcess"),
        &[("Cookie", &cookie), ("BPMCSRF", &csrf), ("Accept", "application/json"), json],
        Some(body),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "Waiting");
    let r =
        request(a, "GET", &format!("{SVC}/UsrEcho/Execute?ResultParameterName=Greeting"), &[("Cookie", &cookie)], None);
    assert_eq!(r.status, 403, "a GET that runs a process needs BPMCSRF too");
    // A session that is not known.
    let r = request(a, "GET", "/api/instances", &[("Cookie", ".ASPXAUTH=made-up")], None);
    assert_eq!(r.status, 401);

    // Bearer tokens.
    let r = request(
        a,
        "POST",
        "/api/signals/Nothing",
        &[("Authorization", "Bearer tok-123-0123456789abcdef0123456789abcdef")],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r =
        request(a, "GET", "/metrics", &[("Authorization", "Bearer tok-124-0123456789abcdef0123456789abcdef")], None);
    assert_eq!(r.status, 401);
}

#[test]
fn without_users_only_loopback_is_served() {
    let setup = Setup::new(PROCS);
    let out = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .arg("serve")
        .arg(setup.path("procs.proc"))
        .args(["--addr", "0.0.0.0:0", "--store"])
        .arg(setup.path("store.db"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a loopback address"), "{err}");
    // A users file that is not one.
    std::fs::write(setup.path("bad.json"), r#"{"users":[{"name":"a","password":"plain"}]}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .arg("serve")
        .args(["--addr", "127.0.0.1:0", "--users"])
        .arg(setup.path("bad.json"))
        .arg("--store")
        .arg(setup.path("store.db"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an argon2 hash"));
    // The helpers write the entries of a users file.
    let hash = |flag: &str, secret: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_procdsl"))
            .args(["serve", flag])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{secret}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let password = hash("--hash-password", "pw");
    assert!(password.starts_with("$argon2id$"), "{password}");
    let long = "0123456789abcdef0123456789abcdef";
    let token = hash("--hash-token", long);
    let file = json!({"users": [{"name": "u", "password": password, "roles": []}],
                      "tokens": [{"name": "t", "sha256": token, "roles": ["reader"]}]});
    let users = procdsl::service::auth::Users::parse(&file.to_string()).unwrap();
    assert!(users.verify("u", "pw"));
    assert_eq!(users.token(long), Ok(("t".to_string(), vec!["reader".to_string()])));
}

#[test]
fn background_runs_can_be_followed() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&[]);
    let a = &server.addr;
    let r = get_json(a, &format!("{SVC}/UsrBackground/Execute?N=5"));
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json().as_str().unwrap().to_string();
    wait_for("the background run", Duration::from_secs(10), || {
        get(a, &format!("/api/instances/{id}")).json()["status"] == "Completed"
    });
    assert_eq!(get(a, &format!("/api/instances/{id}")).json()["log"], json!(["total 10"]));
    // In Creatio form, the id comes as text.
    let r = get(a, &format!("{SVC}/UsrBackground/Execute"));
    assert!(r.body.starts_with(&format!(r#"<string xmlns="{XML_NS}">"#)), "{}", r.body);
}

#[test]
fn timers_fire_after_a_restart_exactly_once() {
    let setup = Setup::new(PROCS);
    let mut server = setup.start(&["--tick-ms", "100"]);
    let r = post_json(&server.addr, &format!("{SVC}/RunProcess"), &json!({"schemaName": "UsrTimer"}));
    let d = r.json();
    assert_eq!(d["status"], "Waiting", "{d}");
    assert_eq!(d["waiting"][0]["kind"], "timer");
    let id = d["processId"].as_str().unwrap().to_string();
    assert!(server.stop().success());
    // The timer falls due while the service is down.
    std::thread::sleep(Duration::from_millis(1200));
    let server = setup.start(&["--tick-ms", "100"]);
    let a = &server.addr;
    wait_for("the timer", Duration::from_secs(10), || {
        get(a, &format!("/api/instances/{id}")).json()["status"] == "Completed"
    });
    let d = get(a, &format!("/api/instances/{id}")).json();
    assert_eq!(d["resultParameterValues"]["Fired"], true);
    std::thread::sleep(Duration::from_millis(300));
    let list = get(a, "/api/instances").json();
    assert_eq!(list[0]["version"], 2, "saved once waiting, once completed: {list}");
    assert!(get(a, "/metrics").body.contains("procdsl_timers_fired_total 1"));
}

#[test]
fn concurrent_execs_of_one_element_execute_it_once() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&[]);
    let a = server.addr.clone();
    for _ in 0..5 {
        let (id, uid) = start_approval(&a);
        let threads: Vec<_> = (0..6)
            .map(|i| {
                let (a, uid) = (a.clone(), uid.clone());
                std::thread::spawn(move || {
                    get_json(&a, &format!("{SVC}/ExecProcElByUId/{uid}?Decision=true&Comment=c{i}")).status
                })
            })
            .collect();
        let mut statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        statuses.sort();
        assert_eq!(statuses, [200, 409, 409, 409, 409, 409]);
        let d = get(&a, &format!("/api/instances/{id}")).json();
        assert_eq!(d["log"].as_array().unwrap().len(), 1, "{d}");
    }
}

#[test]
fn sigterm_finishes_the_requests_in_flight() {
    let setup = Setup::new(PROCS);
    let mut server = setup.start(&[]);
    let a = server.addr.clone();
    let slow = std::thread::spawn(move || get_json(&a, &format!("{SVC}/UsrSlow/Execute?ResultParameterName=Total")));
    // SIGTERM once the slow request is in flight (with this /metrics request).
    wait_for("the slow request", Duration::from_secs(10), || {
        get(&server.addr, "/metrics").body.contains("procdsl_http_requests_in_flight 2\n")
    });
    let status = server.stop();
    let r = slow.join().unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!(2000000));
    assert!(status.success(), "exit {status:?}; stderr:\n{}", server.stderr.lock().unwrap());
    assert!(server.stderr.lock().unwrap().contains("stopped"));
    // New connections are refused once it stopped.
    assert!(TcpStream::connect(&server.addr).is_err());
}

#[test]
fn the_concurrency_limit_holds_for_the_whole_service() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&["--max-concurrent", "2"]);
    let a = server.addr.clone();
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let a = a.clone();
            std::thread::spawn(move || {
                // Different routes: a per-route limit would let more through.
                if i % 2 == 0 {
                    get_json(&a, &format!("{SVC}/UsrSlow/Execute?ResultParameterName=Total&N=400000")).status
                } else {
                    post_json(
                        &a,
                        "/ServiceModel/ProcessEngineService.svc/RunProcess",
                        &json!({"schemaName": "UsrSlow", "parameterValues": {"N": 400000}}),
                    )
                    .status
                }
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 200);
    }
    let metrics = get(&a, "/metrics").body;
    assert!(metrics.contains("procdsl_http_requests_in_flight_max 2\n"), "{metrics}");
}

#[test]
fn after_sigkill_a_restart_serves_every_committed_instance() {
    let setup = Setup::new(PROCS);
    let mut server = setup.start(&[]);
    let (id, uid) = start_approval(&server.addr);
    let _ = server.child.kill();
    let _ = server.child.wait();
    let server = setup.start(&[]);
    let a = &server.addr;
    assert_eq!(get(a, &format!("/api/instances/{id}")).json()["status"], "Waiting");
    let r = get_json(a, &format!("{SVC}/ExecProcElByUId/{uid}?Decision=true"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "Completed");
}

#[test]
fn the_readme_calls_answer_as_shown() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_serving(&root.join("examples"), dir.path(), &[]);
    let a = &server.addr;
    let r = get(a, "/0/ServiceModel/ProcessEngineService.svc/UsrHello/Execute?ResultParameterName=Greeting&Name=Ada");
    assert!(readme.contains(&format!("\n{}\n", r.body)), "README does not show `{}`", r.body);
    let r = post_json(
        a,
        "/0/ServiceModel/ProcessEngineService.svc/RunProcess",
        &json!({"schemaName": "UsrApproval", "parameterValues": {"Amount": 5000}}),
    );
    let d = r.json();
    assert_eq!(
        (d["status"].clone(), d["processStatus"].clone(), d["success"].clone()),
        (json!("Waiting"), json!(1), json!(true))
    );
    assert_eq!(d["waiting"][0]["element"], "Approve");
    assert!(readme.contains(r#""processStatus":1,"success":true,"errorInfo":null}"#));
}

#[test]
fn an_emit_wakes_stored_instances_and_slow_requests_time_out() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&["--timeout", "0.3", "--max-steps", "1000000000"]);
    let a = &server.addr;
    let r = post_json(a, &format!("{SVC}/RunProcess"), &json!({"schemaName": "UsrListener"}));
    let listener = r.json()["processId"].as_str().unwrap().to_string();
    let r = get_json(a, &format!("{SVC}/UsrShout/Execute?ResultParameterName=Nothing"));
    assert_eq!((r.status, r.json()), (200, Value::Null));
    let d = get(a, &format!("/api/instances/{listener}")).json();
    assert_eq!(d["resultParameterValues"]["Heard"], true, "{d}");
    let r = get_json(a, &format!("{SVC}/UsrSlow/Execute?ResultParameterName=Total&N=9000000"));
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.error_message().contains("took longer than 0.3 s"), "{}", r.body);
}

#[test]
fn sessions_expire() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    // 0.0004 h is 1.44 s.
    let server = setup.start(&["--users", users.to_str().unwrap(), "--session-hours", "0.0004"]);
    let a = &server.addr;
    let r = post_json(
        a,
        "/0/ServiceModel/AuthService.svc/Login",
        &json!({"UserName": "Supervisor", "UserPassword": "s3cret"}),
    );
    let cookie = r.cookies().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    assert_eq!(request(a, "GET", "/api/instances", &[("Cookie", &cookie)], None).status, 200);
    std::thread::sleep(Duration::from_millis(1600));
    let r = request(a, "GET", "/api/instances", &[("Cookie", &cookie)], None);
    assert_eq!(r.status, 401);
    assert!(r.error_message().contains("expired"), "{}", r.body);
}
