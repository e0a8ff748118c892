//! The service's edge, tested through the real server over HTTP and raw
//! TCP: sign-in limits and Creatio's Login answer, the OData session probe,
//! instance headers, well-formed XML, connection time-outs and cap, the
//! OpenAPI document's promises, and the smaller request rules.
#![cfg(feature = "service")]

mod service_support;

use serde_json::{json, Value};
use service_support::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
    start Begin -> Check
    exclusive Check {
        when Amount > 100 -> Ask
        else -> Done
    }
    user Ask "Approve the order" {
        in Decision: Boolean
        done { Approved = Decision }
    } -> Done
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

const SVC: &str = "/0/ServiceModel/ProcessEngineService.svc";
const LOGIN: &str = "/ServiceModel/AuthService.svc/Login";

fn users_file(setup: &Setup) -> PathBuf {
    let hash = procdsl::service::auth::hash_password("s3cret").unwrap();
    let token = procdsl::service::auth::sha256_hex("tok-123-0123456789abcdef0123456789abcdef");
    let path = setup.path("users.json");
    let users = json!({"users": [{"name": "Supervisor", "password": hash, "roles": ["admin"]}, {"name": "Ada", "password": hash, "roles": ["admin"]}],
                       "tokens": [{"name": "ci", "sha256": token, "roles": ["admin"]}]});
    std::fs::write(&path, users.to_string()).unwrap();
    path
}

fn login(addr: &str, user: &str, password: &str) -> Response {
    post_json(addr, LOGIN, &json!({"UserName": user, "UserPassword": password}))
}

#[test]
fn a_failed_login_carries_creatios_exception_and_repeated_failures_slow_down() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap()]);
    let a = &server.addr;

    let r = login(a, "Supervisor", "s3cret");
    assert_eq!((r.status, r.json()["Code"].clone(), r.json()["Exception"].clone()), (200, json!(0), Value::Null));

    // Five free failures: each is Code 1 with an Exception object and its Message.
    for _ in 0..5 {
        let r = login(a, "Supervisor", "wrong");
        assert_eq!(r.status, 200, "{}", r.body);
        let body = r.json();
        assert_eq!(body["Code"], 1);
        let message = body["Exception"]["Message"].as_str().expect("an Exception with a Message");
        assert!(message.contains("user name or password"), "{message}");
        assert_eq!(body["Message"], body["Exception"]["Message"]);
        assert!(r.cookies().is_empty());
    }
    // The sixth must wait, even with the right password, and is told how long.
    let r = login(a, "Supervisor", "s3cret");
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert!(r.json()["Exception"]["Message"].as_str().unwrap().contains("too many failed sign-ins"));
    assert!(r.cookies().is_empty());
    // Another user from the same address is not held back yet.
    assert_eq!(login(a, "Ada", "s3cret").json()["Code"], 0);
}

#[test]
fn slow_login_bodies_time_out_and_do_not_hold_the_global_limit() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap(), "--max-concurrent", "1"]);
    let a = server.addr.clone();
    // Three sign-ins that promise a body and never send it.
    let mut slow = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(&a).unwrap();
        let head = format!("POST {LOGIN} HTTP/1.1\r\nHost: {a}\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{{\"UserName\"");
        s.write_all(head.as_bytes()).unwrap();
        slow.push(s);
    }
    std::thread::sleep(Duration::from_millis(300));
    // The one global slot is free: they wait in Login's own pool.
    let r = request(
        &a,
        "GET",
        "/api/instances",
        &[("Authorization", "Bearer tok-123-0123456789abcdef0123456789abcdef")],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Each is answered 408 once the Login body time-out passes.
    for mut s in slow {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw);
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    }
}

#[test]
fn odata_answers_session_probes_as_creatio_does() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap()]);
    let a = &server.addr;
    let bearer = [("Authorization", "Bearer tok-123-0123456789abcdef0123456789abcdef")];

    // No credentials: 401. An unknown (stale) session: a redirect to the
    // login page, which needs no sign-in.
    assert_eq!(get(a, "/0/odata/Account/$count").status, 401);
    let stale = [("Cookie", ".ASPXAUTH=0123; BPMCSRF=x")];
    let r = request(a, "GET", "/0/odata/Account/$count", &stale, None);
    assert_eq!(r.status, 302, "{}", r.body);
    let location = r.header("location").unwrap();
    assert!(location.starts_with("/Login/NuiLogin.aspx?ReturnUrl=%2F0%2Fodata%2FAccount%2F%24count"), "{location}");
    let r = get(a, location);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));

    // A live session: Account is an empty set, counted as plain text.
    let r = login(a, "Supervisor", "s3cret");
    let cookie = r.cookies().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let r = request(a, "GET", "/0/odata/Account/$count", &[("Cookie", &cookie)], None);
    assert_eq!((r.status, r.body.as_str()), (200, "0"));

    // What procdsl holds: instances and processes, with $top, $skip, $count.
    for amount in [150, 200, 300] {
        let r = request(
            a,
            "POST",
            &format!("{SVC}/RunProcess"),
            &[bearer[0], ("Content-Type", "application/json")],
            Some(json!({"schemaName": "UsrApprove", "parameterValues": {"Amount": amount}}).to_string().as_bytes()),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = request(a, "GET", "/0/odata/SysProcessLog/$count", &bearer, None);
    assert_eq!(r.body, "3");
    let r = request(a, "GET", "/0/odata/SysProcessLog?$top=1&$skip=1&$count=true", &bearer, None);
    let body = r.json();
    assert_eq!(body["@odata.count"], 3);
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
    assert_eq!(body["value"][0]["Name"], "UsrApprove");
    assert_eq!(body["value"][0]["Status"], "Waiting");
    let id = body["value"][0]["Id"].as_str().unwrap().to_string();
    let r = request(a, "GET", &format!("/0/odata/SysProcessLog({id})"), &bearer, None);
    assert_eq!((r.status, r.json()["Id"].as_str()), (200, Some(id.as_str())));
    let r = request(a, "GET", "/0/odata/VwProcessLib", &bearer, None);
    assert_eq!(r.json()["value"].as_array().unwrap().len(), 3);
    // What it does not hold, or does not understand: said, not guessed.
    let r = request(a, "GET", "/0/odata/Opportunity", &bearer, None);
    assert_eq!(r.status, 404);
    assert!(r.error_message().contains("SysProcessLog"), "{}", r.body);
    let r = request(a, "GET", "/0/odata/SysProcessLog?$filter=Name%20eq%20'x'", &bearer, None);
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("$filter"), "{}", r.body);
    assert_eq!(request(a, "GET", "/0/odata/SysProcessLog?$top=1001", &bearer, None).status, 400);
}

#[test]
fn execute_and_run_process_say_which_instance_and_where_it_stands() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&[]);
    let a = &server.addr;
    // The same body, `false`, for a completed rejection and for a run that waits.
    let done = get(a, &format!("{SVC}/UsrApprove/Execute?ResultParameterName=Approved&Amount=5"));
    let waits = get(a, &format!("{SVC}/UsrApprove/Execute?ResultParameterName=Approved&Amount=500"));
    assert_eq!(done.body, waits.body);
    assert_eq!(done.header("x-procdsl-status"), Some("Completed"));
    assert_eq!(waits.header("x-procdsl-status"), Some("Waiting"));
    let id = waits.header("x-procdsl-instance-id").unwrap();
    let r = get_json(a, &format!("/api/instances/{id}"));
    assert_eq!(r.json()["status"], "Waiting");
    // A failed run and a background start carry them too; so does RunProcess.
    let r = get(a, &format!("{SVC}/UsrFail/Execute?ResultParameterName=Y"));
    assert_eq!((r.status, r.header("x-procdsl-status")), (422, Some("Failed")));
    let r = get(a, &format!("{SVC}/UsrFail/Execute?X=2"));
    assert_eq!(r.status, 409, "a process with outputs is not run in the background: {}", r.body);
    let r = post_json(a, &format!("{SVC}/RunProcess"), &json!({"schemaName": "UsrEcho"}));
    assert_eq!(r.header("x-procdsl-status"), Some("Completed"));
    assert_eq!(r.header("x-procdsl-instance-id"), r.json()["processId"].as_str());
}

/// The text of the one `<string>` element, read by a strict XML 1.0 parser.
fn xml_text(body: &str) -> String {
    let doc = roxmltree::Document::parse(body).unwrap_or_else(|e| panic!("not well-formed XML ({e}): {body:?}"));
    doc.root_element().text().unwrap_or_default().to_string()
}

#[test]
fn every_xml_answer_is_well_formed() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&[]);
    let a = &server.addr;
    let echo = |name: &str| get(a, &format!("{SVC}/UsrEcho/Execute?ResultParameterName=Greeting&Name={name}"));
    let r = echo("a%01b%00c%EF%BF%BEd%EF%BF%BF");
    assert_eq!(xml_text(&r.body), "Hello, a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}!");
    assert_eq!(r.header("x-procdsl-xml-replaced"), Some("4"));
    let r = echo("line%0D%0Anext%09tab%20%3C%26%3E");
    assert_eq!(xml_text(&r.body), "Hello, line\r\nnext\ttab <&>!");
    assert_eq!(r.header("x-procdsl-xml-replaced"), None);
    // A descriptor (JSON text inside the XML): JSON escapes the controls,
    // U+FFFE is replaced.
    let r = request(
        a,
        "POST",
        &format!("{SVC}/RunProcess"),
        &[("Content-Type", "application/json")],
        Some(
            json!({"schemaName": "UsrEcho", "parameterValues": {"Name": "x\u{1}\r\u{fffe}"},
                   "resultParameterNames": ["Greeting"]})
            .to_string()
            .as_bytes(),
        ),
    );
    let d: Value = serde_json::from_str(&xml_text(&r.body)).unwrap();
    assert_eq!(d["resultParameterValues"]["Greeting"], "Hello, x\u{1}\r\u{FFFD}!");
    assert_eq!(r.header("x-procdsl-xml-replaced"), Some("1"));
}

/// Reads until the server closes the connection; the bytes it sent.
fn read_until_closed(s: &mut TcpStream, limit: Duration) -> Option<String> {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut raw = Vec::new();
    match s.read_to_end(&mut raw) {
        Ok(_) => Some(String::from_utf8_lossy(&raw).to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Some(String::from_utf8_lossy(&raw).to_string()),
        Err(_) => None,
    }
}

#[test]
fn slow_and_idle_connections_are_closed_and_connections_are_capped() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&["--header-timeout", "1", "--idle-timeout", "1"]);
    let a = server.addr.clone();

    // Headers a byte at a time: closed once the header time-out passes,
    // though a byte keeps arriving.
    let mut slow = TcpStream::connect(&a).unwrap();
    let started = Instant::now();
    let head = format!("GET /health HTTP/1.1\r\nHost: {a}\r\nX-Slow: {}\r\n\r\n", "a".repeat(200));
    let mut closed = false;
    for b in head.bytes() {
        if slow.write_all(&[b]).is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        if started.elapsed() > Duration::from_secs(8) {
            break;
        }
    }
    if !closed {
        closed = read_until_closed(&mut slow, Duration::from_secs(5)).is_some_and(|t| !t.starts_with("HTTP/1.1 200"));
    }
    assert!(closed, "a head sent a byte at a time was still open after {:?}", started.elapsed());

    // An idle kept-alive connection: answered, then closed.
    let mut idle = TcpStream::connect(&a).unwrap();
    idle.write_all(format!("GET /health HTTP/1.1\r\nHost: {a}\r\n\r\n").as_bytes()).unwrap();
    let text = read_until_closed(&mut idle, Duration::from_secs(10)).expect("the idle connection is closed");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");

    // The cap, on a server whose time-outs do not close the held ones: four
    // connections held open, a fifth is refused with 503.
    let other = Setup::new(PROCS);
    let capped = other.start(&["--max-connections", "4"]);
    let a = capped.addr.clone();
    let held: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(&a).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(100));
    let mut fifth = TcpStream::connect(&a).unwrap();
    let _ = fifth.write_all(format!("GET /health HTTP/1.1\r\nHost: {a}\r\n\r\n").as_bytes());
    let text = read_until_closed(&mut fifth, Duration::from_secs(5)).unwrap_or_default();
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("retry-after: 1"), "{text}");
    // Once the held ones close, a connection is served again.
    drop(held);
    wait_for("a free connection slot", Duration::from_secs(10), || get(&a, "/health").status == 200);
}

#[test]
fn the_openapi_document_declares_uuids_and_required_names_and_limit_is_enforced() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&[]);
    let a = &server.addr;
    let doc = get(a, "/api/openapi.json").json();
    let paths = &doc["paths"];
    let uid = &paths[&format!("{SVC}/ExecProcElByUId/{{uid}}")]["post"]["parameters"][0]["schema"];
    assert_eq!(uid["format"], "uuid");
    assert_eq!(paths["/api/instances/{id}"]["get"]["parameters"][0]["schema"]["format"], "uuid");
    let run = &paths[&format!("{SVC}/RunProcess")]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(run["anyOf"], json!([{"required": ["schemaName"]}, {"required": ["schemaUId"]}]));
    let limit = &paths["/api/instances"]["get"]["parameters"][2]["schema"];
    assert_eq!((limit["minimum"].clone(), limit["maximum"].clone()), (json!(1), json!(10000)));
    let list = &paths["/api/instances"]["get"];
    assert_eq!(list["parameters"][3]["name"], "after");
    assert!(list["responses"]["200"]["headers"]["Next-Cursor"].is_object());
    let run_process = &paths[&format!("{SVC}/RunProcess")]["post"];
    assert_eq!(run_process["parameters"][0]["name"], "Idempotency-Key");
    assert_eq!(run_process["parameters"][0]["in"], "header");
    assert!(run_process["responses"]["503"]["headers"]["Retry-After"].is_object());
    // What the document promises, the routes keep.
    assert_eq!(get(a, "/api/instances?limit=0").status, 400);
    let r = get(a, "/api/instances?limit=10001");
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("from 1 to 10000"), "{}", r.body);
    assert_eq!(get(a, "/api/instances?limit=10000").status, 200);
    assert_eq!(post_json(a, &format!("{SVC}/RunProcess"), &json!({})).status, 400);
}

#[test]
fn head_expect_percent_ff_and_absolute_paths() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&["--max-body", "1000"]);
    let a = &server.addr;

    // HEAD does not run a process.
    let r = request(a, "HEAD", &format!("{SVC}/UsrApprove/Execute?ResultParameterName=Approved&Amount=500"), &[], None);
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, POST")));
    assert_eq!(get_json(a, "/api/instances").json(), json!([]));

    // An oversized body with `Expect: 100-continue`: 413 at once, no `100 Continue`.
    let mut s = TcpStream::connect(a).unwrap();
    let head = format!(
        "POST {SVC}/RunProcess HTTP/1.1\r\nHost: {a}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let text = read_until_closed(&mut s, Duration::from_secs(10)).unwrap();
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");

    // %FF is refused the same in a query as in a path.
    let r = get(a, &format!("{SVC}/UsrEcho/Execute?ResultParameterName=Greeting&Name=%FF"));
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.error_message().contains("UTF-8"), "{}", r.body);
    assert_eq!(get(a, &format!("{SVC}/Usr%FF/Execute")).status, 400);

    // A failed run names its file without the server's absolute path.
    let r = get(a, &format!("{SVC}/UsrFail/Execute?ResultParameterName=Y"));
    assert_eq!(r.status, 422);
    let dir = setup.dir.path().to_str().unwrap().to_string();
    assert!(!r.body.contains(&dir), "{}", r.body);
    assert_eq!(r.json()["error"]["file"], "procs.proc");
    let r = post_json(a, &format!("{SVC}/RunProcess"), &json!({"schemaName": "UsrFail"}));
    assert!(!r.body.contains(&dir), "{}", r.body);
    assert_eq!(r.json()["errorInfo"]["file"], "procs.proc");
}

#[test]
fn creatio_routes_ignore_case_and_a_trailing_slash() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&["--addr", "localhost:0"]);
    let a = &server.addr;
    for path in [
        "/0/servicemodel/processengineservice.svc/UsrEcho/execute?ResultParameterName=Greeting",
        "/SERVICEMODEL/ProcessEngineService.SVC/UsrEcho/Execute/?ResultParameterName=Greeting",
    ] {
        let r = get_json(a, path);
        assert_eq!((r.status, r.json()), (200, json!("Hello, world!")), "{path}");
    }
    let r = post_json(a, "/0/ServiceModel/processengineservice.svc/runprocess/", &json!({"schemaName": "UsrEcho"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(get(a, "/api/processes/").status, 200);
    assert_eq!(get(a, "/health/").status, 200);
    // A process Code keeps its case: it is a value, not part of the route.
    assert_eq!(get(a, &format!("{SVC}/usrecho/Execute?ResultParameterName=Greeting")).status, 404);
}
