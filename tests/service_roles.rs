//! The role matrix through the real server over HTTP: each role (and a
//! caller with only a group, and no caller at all) against each route, with
//! the status it must get; and the access log, which names callers and
//! route patterns but never a secret or a parameter value.
#![cfg(feature = "service")]

mod service_support;

use serde_json::{json, Value};
use service_support::*;
use std::path::PathBuf;

const PROCS: &str = r#"
process UsrEcho {
    in  Name: Text = "world"
    out Greeting: Text
    start Begin -> Greet
    script Greet { Greeting = "Hello, {Name}!" } -> Done
    end Done
}

process UsrApprove {
    in  Amount: Decimal = 0
    out Approved: Boolean = false
    start Begin -> Ask
    user Ask "Approve the order" {
        in Decision: Boolean
        done { Approved = Decision }
    } -> Done
    end Done
}
"#;

const SVC: &str = "/0/ServiceModel/ProcessEngineService.svc";
const ROLES: [&str; 5] = ["admin", "operator", "user", "reader", "managers"];

fn token(role: &str) -> String {
    format!("{role}-token-0123456789abcdef0123456789abcdef")
}

fn users_file(setup: &Setup) -> PathBuf {
    let tokens: Vec<Value> = ROLES
        .iter()
        .map(|r| json!({"name": format!("{r}-bot"), "sha256": procdsl::service::auth::sha256_hex(&token(r)), "roles": [r]}))
        .collect();
    let hash = procdsl::service::auth::hash_password("s3cret").unwrap();
    let file = json!({"users": [{"name": "Ada", "password": hash, "roles": ["user", "managers"]}], "tokens": tokens});
    let path = setup.path("users.json");
    std::fs::write(&path, file.to_string()).unwrap();
    path
}

/// A request as `role` (`None`: no credentials).
fn call(a: &str, role: Option<&str>, method: &str, path: &str, body: Option<&Value>) -> Response {
    let bearer = role.map(|r| format!("Bearer {}", token(r)));
    let mut headers = vec![("Accept", "application/json")];
    if let Some(b) = &bearer {
        headers.push(("Authorization", b.as_str()));
    }
    let body = body.map(|b| b.to_string());
    if body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    request(a, method, path, &headers, body.as_deref().map(str::as_bytes))
}

/// A waiting UsrApprove instance started by the admin: (id, waiting uid).
fn waiting(a: &str) -> (String, String) {
    let r = call(a, Some("admin"), "POST", &format!("{SVC}/RunProcess"), Some(&json!({"schemaName": "UsrApprove"})));
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json();
    (d["processId"].as_str().unwrap().to_string(), d["waiting"][0]["uid"].as_str().unwrap().to_string())
}

#[test]
fn each_role_gets_what_the_matrix_says_on_each_route() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap()]);
    let a = server.addr.as_str();
    let (id, _) = waiting(a);

    // Expected statuses for admin, operator, user, reader, managers (a group
    // only), and no credentials.
    type Make<'a> = Box<dyn Fn(&str) -> (String, String, Option<Value>) + 'a>;
    let fixed =
        |m: &'static str, p: String, b: Option<Value>| -> Make { Box::new(move |_| (m.into(), p.clone(), b.clone())) };
    let fresh_uid = |m: &'static str| -> Make {
        Box::new(move |a| {
            let (_, uid) = waiting(a);
            let body = (m == "POST").then(|| json!({"Decision": true}));
            let query = if m == "GET" { "?Decision=true" } else { "" };
            (m.into(), format!("{SVC}/ExecProcElByUId/{uid}{query}"), body)
        })
    };
    let fresh_id = Box::new(|a: &str| {
        let (id, _) = waiting(a);
        ("POST".to_string(), format!("{SVC}/CancelExecution"), Some(json!([id])))
    }) as Make;
    let logins = std::cell::Cell::new(0);
    let matrix: Vec<(&str, Make, [u16; 6])> = vec![
        ("GET /api/processes", fixed("GET", "/api/processes".into(), None), [200, 200, 200, 200, 403, 401]),
        (
            "GET /api/processes/{code}",
            fixed("GET", "/api/processes/UsrEcho".into(), None),
            [200, 200, 200, 200, 403, 401],
        ),
        ("GET /api/instances", fixed("GET", "/api/instances".into(), None), [200, 200, 200, 200, 403, 401]),
        ("GET /api/instances/{id}", fixed("GET", format!("/api/instances/{id}"), None), [200, 200, 404, 200, 403, 401]),
        (
            "POST RunProcess",
            fixed("POST", format!("{SVC}/RunProcess"), Some(json!({"schemaName": "UsrEcho"}))),
            [200, 200, 200, 403, 403, 401],
        ),
        (
            "GET {code}/Execute",
            fixed("GET", format!("{SVC}/UsrEcho/Execute?ResultParameterName=Greeting"), None),
            [200, 200, 200, 403, 403, 401],
        ),
        (
            "POST {code}/Execute",
            fixed("POST", format!("{SVC}/UsrEcho/Execute?ResultParameterName=Greeting"), Some(json!({"Name": "Ada"}))),
            [200, 200, 200, 403, 403, 401],
        ),
        ("GET ExecProcElByUId/{uid}", fresh_uid("GET"), [200, 200, 200, 403, 403, 401]),
        ("POST ExecProcElByUId/{uid}", fresh_uid("POST"), [200, 200, 200, 403, 403, 401]),
        ("POST CancelExecution", fresh_id, [200, 200, 403, 403, 403, 401]),
        (
            "POST /api/signals/{name}",
            fixed("POST", "/api/signals/Nothing".into(), None),
            [200, 200, 403, 403, 403, 401],
        ),
        ("GET /metrics", fixed("GET", "/metrics".into(), None), [200, 200, 403, 200, 403, 401]),
        ("GET /api/openapi.json", fixed("GET", "/api/openapi.json".into(), None), [200, 200, 200, 200, 200, 401]),
        ("GET /health", fixed("GET", "/health".into(), None), [200, 200, 200, 200, 200, 200]),
        (
            "GET /0/odata/SysProcessLog",
            fixed("GET", "/0/odata/SysProcessLog".into(), None),
            [200, 200, 200, 200, 403, 401],
        ),
        (
            "GET /0/odata/SysProcessLog({id})",
            fixed("GET", format!("/0/odata/SysProcessLog({id})"), None),
            [200, 200, 404, 200, 403, 401],
        ),
        (
            "GET /0/odata/{set}/$count",
            fixed("GET", "/0/odata/VwProcessLib/$count".into(), None),
            [200, 200, 200, 200, 403, 401],
        ),
        ("GET /Login/NuiLogin.aspx", fixed("GET", "/Login/NuiLogin.aspx".into(), None), [200, 200, 200, 200, 200, 200]),
        // A wrong password (a new name each time, so that failures are not throttled).
        (
            "POST AuthService.svc/Login",
            Box::new(|_| {
                let n = logins.get();
                logins.set(n + 1);
                let body = json!({"UserName": format!("nobody{n}"), "UserPassword": "y"});
                ("POST".into(), "/ServiceModel/AuthService.svc/Login".into(), Some(body))
            }),
            [200, 200, 200, 200, 200, 200],
        ),
        // A token has no session to end.
        (
            "POST AuthService.svc/Logout",
            fixed("POST", "/ServiceModel/AuthService.svc/Logout".into(), None),
            [400, 400, 400, 400, 400, 401],
        ),
    ];
    let callers: Vec<Option<&str>> = ROLES.iter().map(|r| Some(*r)).chain([None]).collect();
    let mut wrong = Vec::new();
    for (name, make, expected) in &matrix {
        for (caller, want) in callers.iter().zip(expected) {
            let (method, path, body) = make(a);
            let r = call(a, *caller, &method, &path, body.as_ref());
            if r.status != *want {
                wrong.push(format!("{name} as {caller:?}: {} (expected {want}): {}", r.status, r.body));
            }
            if r.status == 403 {
                assert!(r.error_message().contains("may not"), "{name} as {caller:?}: {}", r.body);
            }
        }
    }
    assert!(wrong.is_empty(), "{} answers differ from the matrix:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn a_user_sees_no_instance_it_did_not_start_and_a_refusal_names_the_roles_needed() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap()]);
    let a = server.addr.as_str();
    let (id, _) = waiting(a);
    let all = call(a, Some("reader"), "GET", "/api/instances", None).json();
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(call(a, Some("user"), "GET", "/api/instances", None).json(), json!([]));
    let odata = call(a, Some("user"), "GET", "/0/odata/SysProcessLog?$count=true", None).json();
    assert_eq!((odata["@odata.count"].clone(), odata["value"].clone()), (json!(0), json!([])));
    let r = call(a, Some("user"), "POST", &format!("{SVC}/CancelExecution"), Some(&json!([id])));
    assert_eq!(r.status, 403);
    let m = r.error_message();
    assert!(m.contains("`user-bot` (roles: user) may not cancel instances") && m.contains("admin or operator"), "{m}");
    // The instance is still waiting.
    assert_eq!(call(a, Some("admin"), "GET", &format!("/api/instances/{id}"), None).json()["status"], "Waiting");
}

#[test]
fn the_history_names_who_cancelled() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap()]);
    let a = server.addr.as_str();
    let (id, _) = waiting(a);
    let r = call(a, Some("operator"), "POST", &format!("{SVC}/CancelExecution"), Some(&json!([id])));
    assert_eq!(r.status, 200, "{}", r.body);
    let d = call(a, Some("admin"), "GET", &format!("/api/instances/{id}"), None).json();
    assert_eq!(d["status"], "Cancelled", "{d}");
    let cancels: Vec<&Value> = d["history"].as_array().unwrap().iter().filter(|h| h["action"] == "cancel").collect();
    assert_eq!(cancels.len(), 1, "{d}");
    assert_eq!(cancels[0]["who"], "operator-bot", "{d}");
}

#[test]
fn a_session_carries_the_roles_of_its_user() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap()]);
    let a = server.addr.as_str();
    let r = post_json(a, "/ServiceModel/AuthService.svc/Login", &json!({"UserName": "Ada", "UserPassword": "s3cret"}));
    assert_eq!(r.json()["Code"], 0, "{}", r.body);
    let cookies = r.cookies();
    let csrf = cookies.iter().find(|(k, _)| k == "BPMCSRF").unwrap().1.clone();
    let cookie = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let as_ada = |method: &str, path: &str| {
        request(a, method, path, &[("Cookie", &cookie), ("BPMCSRF", &csrf), ("Accept", "application/json")], None)
    };
    assert_eq!(as_ada("GET", &format!("{SVC}/UsrEcho/Execute?ResultParameterName=Greeting")).status, 200);
    let r = as_ada("POST", "/api/signals/Nothing");
    assert_eq!(r.status, 403);
    assert!(r.error_message().contains("`Ada` (roles: user, managers) may not throw signals"), "{}", r.body);
}

#[test]
fn the_access_log_names_callers_and_routes_but_never_secrets_or_values() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let log = setup.path("access.log");
    let server = setup.start(&["--users", users.to_str().unwrap(), "--access-log", log.to_str().unwrap()]);
    let a = server.addr.as_str();
    let login =
        post_json(a, "/ServiceModel/AuthService.svc/Login", &json!({"UserName": "Ada", "UserPassword": "s3cret"}));
    let cookies = login.cookies();
    assert_eq!(cookies.len(), 3);
    let cookie = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let r = request(a, "GET", "/api/instances", &[("Cookie", &cookie)], None);
    assert_eq!(r.status, 200);
    let r = call(
        a,
        Some("admin"),
        "GET",
        &format!("{SVC}/UsrEcho/Execute?ResultParameterName=Greeting&Name=TopSecretValue"),
        None,
    );
    assert_eq!(r.status, 200);
    let started = r.header("x-procdsl-instance-id").unwrap().to_string();
    let (id, uid) = waiting(a);
    assert_eq!(call(a, Some("admin"), "GET", &format!("/api/instances/{id}"), None).status, 200);
    let r = call(
        a,
        Some("user"),
        "POST",
        &format!("{SVC}/ExecProcElByUId/{uid}"),
        Some(&json!({"Decision": "SecretDecision"})),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let r = call(a, Some("operator"), "GET", &format!("{SVC}/ExecProcElByUId/{uid}?Decision=true"), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(call(a, None, "GET", "/api/processes", None).status, 401);
    let r = request(
        a,
        "GET",
        "/api/processes",
        &[("Authorization", "Bearer wrong-token-0123456789abcdef0123456789")],
        None,
    );
    assert_eq!(r.status, 401);

    let mut text = String::new();
    wait_for("the access log", std::time::Duration::from_secs(10), || {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        text.lines().count() >= 9
    });
    let secrets = ["s3cret", "TopSecretValue", "SecretDecision", "wrong-token", "-token-0123456789abcdef"]
        .into_iter()
        .map(String::from)
        .chain(cookies.iter().map(|(_, v)| v.clone()))
        .chain([uid.clone()]);
    for secret in secrets {
        assert!(!text.contains(&secret), "the access log contains `{secret}`:\n{text}");
    }
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    for l in &lines {
        for key in ["time", "caller", "method", "route", "status", "ms", "instance"] {
            assert!(l.get(key).is_some(), "no `{key}` in {l}");
        }
    }
    let find = |route: &str, status: u64| lines.iter().find(|l| l["route"] == route && l["status"] == status);
    let login_line = find("/ServiceModel/AuthService.svc/Login", 200).expect("the Login line");
    assert_eq!((login_line["method"].clone(), login_line["caller"].clone()), (json!("POST"), json!("Ada")));
    assert_eq!(find("/api/instances", 200).expect("the session's line")["caller"], "Ada");
    let execute = find(&format!("{SVC}/{{code}}/Execute"), 200).expect("the Execute line");
    assert_eq!((execute["caller"].clone(), execute["instance"].clone()), (json!("admin-bot"), json!(started)));
    assert_eq!(find("/api/instances/{id}", 200).expect("the instance line")["instance"], json!(id));
    assert_eq!(find(&format!("{SVC}/ExecProcElByUId/{{uid}}"), 400).expect("the exec line")["caller"], "user-bot");
    let exec = find(&format!("{SVC}/ExecProcElByUId/{{uid}}"), 200).expect("the exec line");
    assert_eq!((exec["caller"].clone(), exec["instance"].clone()), (json!("operator-bot"), json!(id)));
    assert!(lines.iter().filter(|l| l["status"] == 401).all(|l| l["caller"].is_null()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&log).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

const ASSIGNED: &str = r#"
process UsrAssigned {
    out Approved: Boolean = false
    start Begin -> Ask
    user Ask "Approve the order" to "managers" {
        in Decision: Boolean
        done { Approved = Decision }
    } -> Done
    end Done
}
"#;

#[test]
fn a_user_sees_what_it_started_or_holds_a_task_in_and_executes_only_its_tasks() {
    let setup = Setup::new(ASSIGNED);
    let tokens: Vec<Value> = [("clerk", vec!["user"]), ("boss", vec!["user", "managers"]), ("ops", vec!["operator"])]
        .iter()
        .map(|(n, r)| json!({"name": n, "sha256": procdsl::service::auth::sha256_hex(&token(n)), "roles": r}))
        .collect();
    std::fs::write(setup.path("users.json"), json!({"tokens": tokens}).to_string()).unwrap();
    let server = setup.start(&["--users", setup.path("users.json").to_str().unwrap()]);
    let a = server.addr.as_str();
    let start = |who: &str| {
        let r = call(a, Some(who), "POST", &format!("{SVC}/RunProcess"), Some(&json!({"schemaName": "UsrAssigned"})));
        assert_eq!(r.status, 200, "{}", r.body);
        let d = r.json();
        (d["processId"].as_str().unwrap().to_string(), d["waiting"][0]["uid"].as_str().unwrap().to_string())
    };
    let (id, uid) = start("clerk");
    let listed = |who: &str| call(a, Some(who), "GET", "/api/instances", None).json().as_array().unwrap().len();
    assert_eq!((listed("clerk"), listed("boss"), listed("ops")), (1, 0, 1));
    assert_eq!(call(a, Some("boss"), "GET", &format!("/api/instances/{id}"), None).status, 200, "boss holds its task");
    let d = call(a, Some("ops"), "GET", &format!("/api/instances/{id}"), None).json();
    assert_eq!(d["startedBy"], "clerk", "{d}");
    // The clerk started it but the task is the managers'.
    let r = call(a, Some("clerk"), "GET", &format!("{SVC}/ExecProcElByUId/{uid}?Decision=true"), None);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("managers"), "{}", r.body);
    let r = call(a, Some("boss"), "GET", &format!("{SVC}/ExecProcElByUId/{uid}?Decision=true"), None);
    assert_eq!(r.status, 200, "{}", r.body);
    // An operator executes anyone's task.
    let (_, uid) = start("boss");
    assert_eq!(call(a, Some("ops"), "GET", &format!("{SVC}/ExecProcElByUId/{uid}?Decision=true"), None).status, 200);

    // A user's page is full of its own instances, however many others
    // started before them: the store's pages are read on until it is.
    for _ in 0..3 {
        start("ops");
    }
    let (second, _) = start("clerk");
    let page = call(a, Some("clerk"), "GET", "/api/instances?limit=2", None);
    let listed = page.json();
    let ids: Vec<String> = listed.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, [id.clone(), second], "{}", page.body);
}

const BACKGROUND: &str = r#"
process UsrBackground {
    start Begin -> Look
    user Look "Look at it" to "managers" { done { } } -> Done
    end Done
}
"#;

#[test]
fn a_background_execute_is_its_starters_from_the_accept_on() {
    let setup = Setup::new(BACKGROUND);
    let tokens: Vec<Value> = [("clerk", vec!["user"]), ("ops", vec!["operator"])]
        .iter()
        .map(|(n, r)| json!({"name": n, "sha256": procdsl::service::auth::sha256_hex(&token(n)), "roles": r}))
        .collect();
    std::fs::write(setup.path("users.json"), json!({"tokens": tokens}).to_string()).unwrap();
    let server = setup.start(&["--users", setup.path("users.json").to_str().unwrap()]);
    let a = server.addr.as_str();
    let r = call(a, Some("clerk"), "GET", &format!("{SVC}/UsrBackground/Execute"), None);
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json().as_str().unwrap().to_string();
    // Visible to its starter at once, before the worker has run it.
    assert_eq!(call(a, Some("clerk"), "GET", &format!("/api/instances/{id}"), None).status, 200);
    let mut d = Value::Null;
    wait_for("the background run to wait", std::time::Duration::from_secs(20), || {
        d = call(a, Some("ops"), "GET", &format!("/api/instances/{id}"), None).json();
        d["status"] == "Waiting"
    });
    assert_eq!(d["startedBy"], "clerk", "{d}");
    let starts: Vec<&Value> = d["history"].as_array().unwrap().iter().filter(|e| e["action"] == "start").collect();
    assert_eq!(starts.len(), 1, "{d}");
    assert_eq!(starts[0]["who"], "clerk", "{d}");
}
