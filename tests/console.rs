//! The web console over HTTP, against the real `procdsl serve`: sign-in
//! and its redirect, every page for every role (and the forms each role
//! gets), start and task forms with good and bad values, a task executed
//! once (the second submit is told), CSRF, escaping, bad ids and bodies.
#![cfg(feature = "service")]

mod service_support;

use serde_json::json;
use service_support::*;
use std::path::PathBuf;

const PROCS: &str = r#"
process UsrApproval {
    caption "Approve <script>alert(1)</script> orders"
    in  Amount: Decimal = 0
    in  Note: Text = ""
    in  Due: Date
    in  Tags: List<Text>
    in  Urgent: Boolean = false
    out Approved: Boolean = false
    start Begin -> Route
    exclusive Route {
        when Amount > 1000 -> Approve
        else -> Auto
    }
    user Approve "Approve the order" to "managers" {
        in Decision: Boolean
        in Count: Integer = 1
        done { Approved = Decision }
    } -> Done
    script Auto { Approved = true } -> Done
    end Done
}

process UsrPrivate {
    start Begin -> Look
    user Look "Only for Bob" to "Bob" { done { } } -> Done
    end Done
}
"#;

const PASSWORD: &str = "s3cret";

/// Ada is a `user` in `managers`; the others are named after their role.
fn users_file(setup: &Setup) -> PathBuf {
    let hash = procdsl::service::auth::hash_password(PASSWORD).unwrap();
    let user = |name: &str, roles: &[&str]| json!({"name": name, "password": hash, "roles": roles});
    let file = json!({"users": [
        user("Ada", &["user", "managers"]),
        user("Olga", &["operator"]),
        user("Root", &["admin"]),
        user("Rita", &["reader"]),
        user("Bob", &["user"]),
    ]});
    let path = setup.path("users.json");
    std::fs::write(&path, file.to_string()).unwrap();
    path
}

fn serve(procs: &str) -> (Setup, Server) {
    let setup = Setup::new(procs);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap()]);
    (setup, server)
}

/// A signed-in browser: its cookies and the CSRF token its pages carry.
struct Browser {
    addr: String,
    cookie: String,
    csrf: String,
}

fn encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

fn post_form(addr: &str, path: &str, cookie: Option<&str>, pairs: &[(&str, &str)]) -> Response {
    let body = encode(pairs);
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(c) = cookie {
        headers.push(("Cookie", c));
    }
    request(addr, "POST", path, &headers, Some(body.as_bytes()))
}

fn sign_in(addr: &str, name: &str) -> Browser {
    let r = post_form(addr, "/signin", None, &[("UserName", name), ("UserPassword", PASSWORD), ("back", "/tasks")]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/tasks"));
    let cookies = r.cookies();
    let csrf = cookies.iter().find(|(k, _)| k == "BPMCSRF").unwrap().1.clone();
    let cookie = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    Browser { addr: addr.to_string(), cookie, csrf }
}

impl Browser {
    fn get(&self, path: &str) -> Response {
        request(&self.addr, "GET", path, &[("Cookie", &self.cookie)], None)
    }

    /// Posts a form with the page's CSRF token, as the console's forms do.
    fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut pairs = vec![("BPMCSRF", self.csrf.as_str())];
        pairs.extend_from_slice(fields);
        post_form(&self.addr, path, Some(&self.cookie), &pairs)
    }
}

/// The instance id of a redirect to an instance page.
fn instance_of(r: &Response) -> String {
    assert_eq!(r.status, 303, "{}", r.body);
    let location = r.header("location").unwrap();
    location.strip_prefix("/instances/").unwrap().split('?').next().unwrap().to_string()
}

/// The first `data-uid` of a tasklist row.
fn first_task(page: &str) -> Option<String> {
    let at = page.find("<tr class=\"task\" data-uid=\"")?;
    let rest = &page[at + "<tr class=\"task\" data-uid=\"".len()..];
    Some(rest[..36].to_string())
}

/// The text inside the element with this id (up to the next tag).
fn text_of<'a>(page: &'a str, id: &str) -> &'a str {
    let at = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in\n{page}"));
    let rest = &page[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest[start..].find('<').unwrap() + start;
    &rest[start..end]
}

fn start_big(b: &Browser) -> String {
    instance_of(&b.post("/processes/UsrApproval", &[("Amount", "5000"), ("Tags", "[\"a\"]")]))
}

#[test]
fn pages_send_a_stranger_to_sign_in_and_back() {
    let (_setup, server) = serve(PROCS);
    let a = &server.addr;
    for path in ["/", "/tasks", "/processes", "/instances?status=Waiting"] {
        let r = get(a, path);
        assert_eq!(r.status, 303, "{path}: {}", r.body);
        let location = r.header("location").unwrap();
        assert!(location.starts_with("/signin?back=%2F"), "{path} → {location}");
    }
    let r = get(a, "/signin?back=%2Finstances");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("id=\"signin\"") && r.body.contains("name=\"UserName\""));
    assert!(r.header("content-security-policy").unwrap().contains("default-src 'self'"));
    let wrong = post_form(a, "/signin", None, &[("UserName", "Ada"), ("UserPassword", "nope")]);
    assert_eq!(wrong.status, 401);
    assert!(text_of(&wrong.body, "signin-error").contains("incorrectly"), "{}", wrong.body);
    assert!(wrong.cookies().is_empty());
    // Back to where the stranger came from, never to another site.
    let r = post_form(a, "/signin", None, &[("UserName", "Ada"), ("UserPassword", PASSWORD), ("back", "/instances")]);
    assert_eq!(r.header("location"), Some("/instances"));
    let r =
        post_form(a, "/signin", None, &[("UserName", "Ada"), ("UserPassword", PASSWORD), ("back", "//evil.example")]);
    assert_eq!(r.header("location"), Some("/tasks"));
    // Signing out ends the session: its cookie no longer opens a page.
    let b = sign_in(a, "Ada");
    assert_eq!(b.get("/tasks").status, 200);
    let r = b.post("/signout", &[]);
    assert_eq!((r.status, r.header("location")), (303, Some("/signin")));
    assert_eq!(b.get("/tasks").status, 303);
}

#[test]
fn each_role_sees_its_pages_and_only_its_forms() {
    let (_setup, server) = serve(PROCS);
    let a = &server.addr;
    let ada = sign_in(a, "Ada");
    let id = start_big(&ada);
    let task = first_task(&ada.get("/tasks").body).expect("Ada sees the task assigned to managers");
    // (role's user, may start, may execute, may cancel)
    for (name, start, exec, cancel) in [
        ("Root", true, true, true),
        ("Olga", true, true, true),
        ("Ada", true, true, false),
        ("Rita", false, false, false),
    ] {
        let b = sign_in(a, name);
        for path in [
            "/processes".to_string(),
            "/processes/UsrApproval".into(),
            "/tasks".into(),
            format!("/tasks/{task}"),
            "/instances".into(),
            format!("/instances/{id}"),
        ] {
            let r = b.get(&path);
            assert_eq!(r.status, 200, "{name} {path}: {}", r.body);
            assert!(r.body.contains("id=\"nav-tasks\"") && r.body.contains(&format!(">{name}<")), "{name} {path}");
        }
        let process = b.get("/processes/UsrApproval").body;
        assert_eq!(process.contains("id=\"start\""), start, "{name}: start form");
        assert_eq!(b.get(&format!("/tasks/{task}")).body.contains(&format!("id=\"task-{task}\"")), exec, "{name}");
        let page = b.get(&format!("/instances/{id}")).body;
        assert_eq!(text_of(&page, "status"), "Waiting");
        assert_eq!(page.contains("id=\"cancel\""), cancel, "{name}: cancel form");
        assert_eq!(page.contains("id=\"signal\""), cancel, "{name}: signal form");
        assert!(b.get("/tasks").body.contains(&format!("data-uid=\"{task}\"")), "{name} sees the task");
    }
    // The matrix refuses what the page does not offer: a reader cannot start.
    let rita = sign_in(a, "Rita");
    let r = rita.post("/processes/UsrApproval", &[("Amount", "1")]);
    assert_eq!(r.status, 403);
    assert!(r.body.contains("<!DOCTYPE html>") && r.body.contains("may not start processes"), "{}", r.body);
    // A user sees neither another's instance nor a task assigned to someone else.
    let bob = sign_in(a, "Bob");
    assert_eq!(bob.get(&format!("/instances/{id}")).status, 404);
    assert!(first_task(&bob.get("/tasks").body).is_none());
    let private = instance_of(&ada.post("/processes/UsrPrivate", &[]));
    let olga = sign_in(a, "Olga");
    assert!(olga.get("/tasks").body.matches("class=\"task\"").count() == 2, "an operator sees every task");
    // A task assigned to Bob shows him the instance it is in, Ada's or not.
    assert_eq!(first_task(&bob.get("/tasks").body).map(|_| ()), Some(()), "Bob's task in Ada's instance");
    assert!(bob.get("/tasks").body.contains(&format!("data-instance=\"{private}\"")));
    assert_eq!(bob.get(&format!("/instances/{private}")).status, 200);
    assert!(!ada.get("/tasks").body.contains(&format!("data-instance=\"{private}\"")), "not Ada's task");
    // Filters: by process and by text.
    assert!(olga.get("/tasks?process=UsrPrivate").body.contains(&format!("data-instance=\"{private}\"")));
    assert!(!olga.get("/tasks?process=UsrApproval").body.contains(&format!("data-instance=\"{private}\"")));
    assert!(olga.get("/tasks?q=only+for").body.contains(&format!("data-instance=\"{private}\"")));
    assert!(!olga.get("/tasks?q=approve+the").body.contains(&format!("data-instance=\"{private}\"")));
    let list = olga.get("/instances?status=Waiting&process=UsrPrivate").body;
    assert!(list.contains(&format!("data-id=\"{private}\"")) && !list.contains(&format!("data-id=\"{id}\"")));
}

#[test]
fn a_start_form_shows_each_bad_value_at_its_field_and_keeps_it() {
    let (_setup, server) = serve(PROCS);
    let ada = sign_in(&server.addr, "Ada");
    let form = ada.get("/processes/UsrApproval").body;
    for needle in [
        "name=\"Amount\"",
        "type=\"date\" id=\"field-Due\"",
        "type=\"checkbox\" id=\"field-Urgent\"",
        "<textarea id=\"field-Tags\"",
        "id=\"start-submit\"",
        "<label for=\"field-Amount\">",
    ] {
        assert!(form.contains(needle), "no `{needle}` in the start form");
    }
    let r = ada.post("/processes/UsrApproval", &[("Amount", "12abc"), ("Due", "2026-13-40"), ("Tags", "[1,")]);
    assert_eq!(r.status, 422);
    assert!(text_of(&r.body, "error-Amount").contains("not a Decimal"), "{}", r.body);
    assert!(!text_of(&r.body, "error-Due").is_empty());
    assert!(!text_of(&r.body, "error-Tags").is_empty());
    assert!(text_of(&r.body, "error-Note").is_empty(), "a good field has no error");
    assert!(r.body.contains("value=\"12abc\"") && r.body.contains(">[1,</textarea>"), "typed values are kept");
    let id = instance_of(&ada.post(
        "/processes/UsrApproval",
        &[("Amount", "20"), ("Due", "2026-12-24"), ("Urgent", "true"), ("Tags", "[\"x\"]")],
    ));
    let page = ada.get(&format!("/instances/{id}")).body;
    assert_eq!(text_of(&page, "status"), "Completed");
    assert!(page.contains("<td class=\"value\">2026-12-24</td>"), "{page}");
    assert!(page.contains("passed\" data-element=\"Begin\""), "the path is marked: {page}");
    assert_eq!(ada.get("/processes/UsrNope").status, 404);
}

#[test]
fn a_task_is_executed_once_and_the_second_submit_is_told() {
    let (_setup, server) = serve(PROCS);
    let a = &server.addr;
    let ada = sign_in(a, "Ada");
    let id = start_big(&ada);
    let uid = first_task(&ada.get("/tasks").body).unwrap();
    // While it waits, its page watches its version (the live update) and offers the task's form.
    let waiting = ada.get(&format!("/instances/{id}")).body;
    assert!(waiting.contains(&format!("data-version-url=\"/instances/{id}/version\"")), "{waiting}");
    assert!(waiting.contains(&format!("id=\"task-submit-{uid}\"")));
    let before = ada.get(&format!("/instances/{id}/version")).body;
    let form = ada.get(&format!("/tasks/{uid}")).body;
    assert!(form.contains(&format!("id=\"task-{uid}\"")) && form.contains("id=\"task-submit\""));
    let bad = ada.post(&format!("/tasks/{uid}"), &[("Decision", "true"), ("Count", "two")]);
    assert_eq!(bad.status, 422);
    assert!(text_of(&bad.body, "error-Count").contains("Integer"), "{}", bad.body);
    assert!(bad.body.contains("value=\"two\"") && bad.body.contains("checked"), "typed values are kept");
    let done = ada.post(&format!("/tasks/{uid}"), &[("Decision", "true")]);
    assert_eq!(instance_of(&done), id);
    let page = ada.get(&format!("/instances/{id}?executed=1")).body;
    assert_eq!(text_of(&page, "status"), "Completed");
    assert_ne!(ada.get(&format!("/instances/{id}/version")).body, before, "the version moved");
    assert!(!page.contains("data-version-url"), "a finished instance is not watched");
    assert!(page.contains("<tr data-param=\"Approved\">") && page.contains("<td class=\"value\">true</td>"));
    assert!(page.contains("passed\" data-element=\"Approve\""));
    assert!(page.contains("<tr class=\"step\" data-action=\"exec\">"), "the history shows the execution");
    // Again, and by another person: told, nothing done, no 500.
    for who in [&ada, &sign_in(a, "Olga")] {
        let again = who.post(&format!("/tasks/{uid}"), &[("Decision", "false")]);
        assert_eq!(again.status, 409, "{}", again.body);
        assert!(text_of(&again.body, "message").contains("already executed"), "{}", again.body);
    }
    assert!(ada.get(&format!("/instances/{id}")).body.contains("<td class=\"value\">true</td>"));
    assert!(first_task(&ada.get("/tasks").body).is_none());
}

#[test]
fn a_form_without_the_sessions_token_is_refused() {
    let (_setup, server) = serve(PROCS);
    let a = &server.addr;
    let ada = sign_in(a, "Ada");
    for pairs in [vec![("Amount", "5")], vec![("BPMCSRF", "forged"), ("Amount", "5")]] {
        let r = post_form(a, "/processes/UsrApproval", Some(&ada.cookie), &pairs);
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains("BPMCSRF") && r.body.contains("<!DOCTYPE html>"), "{}", r.body);
    }
    assert!(ada.get("/instances").body.contains("id=\"no-instances\""), "nothing was started");
    // The token of another session does not do either.
    let olga = sign_in(a, "Olga");
    let mixed = post_form(a, "/processes/UsrApproval", Some(&ada.cookie), &[("BPMCSRF", &olga.csrf)]);
    assert_eq!(mixed.status, 403);
}

#[test]
fn values_are_escaped_everywhere() {
    let (_setup, server) = serve(PROCS);
    let ada = sign_in(&server.addr, "Ada");
    let evil = "<script>alert(2)</script>\"'&";
    let id = instance_of(&ada.post("/processes/UsrApproval", &[("Note", evil)]));
    for path in ["/processes".to_string(), "/processes/UsrApproval".into(), format!("/instances/{id}")] {
        let page = ada.get(&path).body;
        assert!(!page.contains("<script>alert"), "{path} has a raw script:\n{page}");
        assert!(page.contains("&lt;script&gt;alert("), "{path}");
    }
    let bad = ada.post("/processes/UsrApproval", &[("Amount", evil)]);
    assert!(!bad.body.contains("<script>alert") && bad.body.contains("&lt;script&gt;alert(2)"));
    let r = ada.get("/tasks?q=%3Cscript%3E");
    assert!(!r.body.contains("<script>") || !r.body.contains("value=\"<script>"));
    assert!(r.body.contains("value=\"&lt;script&gt;\""));
}

#[test]
fn bad_ids_and_huge_forms_get_pages_not_failures() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap(), "--max-body", "4096"]);
    let ada = sign_in(&server.addr, "Ada");
    for path in [
        "/instances/not-a-uuid".to_string(),
        format!("/instances/{}", uuid::Uuid::new_v4()),
        format!("/tasks/{}", uuid::Uuid::new_v4()),
        "/tasks/%3Cscript%3E".into(),
        "/processes/%3Cb%3E".into(),
        "/instances/x/y/z".into(),
    ] {
        let r = ada.get(&path);
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert!(r.body.contains("<!DOCTYPE html>") && r.body.contains("data-page=\"error\""), "{path}");
        assert!(!r.body.contains("<script>") && !r.body.contains("<b>"), "{path}");
    }
    assert_eq!(ada.get("/instances?status=Sleeping").status, 400);
    assert_eq!(ada.get("/instances?after=nonsense").status, 400);
    let huge = "x".repeat(10_000);
    let r = ada.post("/processes/UsrApproval", &[("Note", &huge)]);
    assert_eq!(r.status, 413, "{}", r.body);
}

#[test]
fn operators_cancel_and_signal_from_the_instance_page() {
    let (_setup, server) = serve(PROCS);
    let a = &server.addr;
    let ada = sign_in(a, "Ada");
    let id = start_big(&ada);
    assert_eq!(ada.post(&format!("/instances/{id}/cancel"), &[]).status, 403, "a user may not cancel");
    let olga = sign_in(a, "Olga");
    let r = olga.post(&format!("/instances/{id}/signal"), &[("Signal", "Nobody")]);
    assert_eq!(r.header("location"), Some(format!("/instances/{id}?woken=0").as_str()));
    let r = olga.post(&format!("/instances/{id}/cancel"), &[]);
    assert_eq!(r.status, 303, "{}", r.body);
    let page = olga.get(&format!("/instances/{id}?cancelled=1")).body;
    assert_eq!(text_of(&page, "status"), "Cancelled");
    assert!(text_of(&page, "message").contains("cancelled"));
    assert!(!page.contains("id=\"cancel\""), "a finished instance offers no cancel");
    assert!(olga.get(&format!("/instances/{id}/version")).body.trim().parse::<i64>().is_ok());
    assert_eq!(olga.get(&format!("/instances/{id}?woken=x")).status, 400);
}

#[test]
fn without_users_the_console_is_local_and_forms_need_an_origin() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&[]);
    let a = &server.addr;
    assert_eq!(get(a, "/signin").header("location"), Some("/tasks"));
    assert!(get(a, "/processes").body.contains("value=\"local\""));
    let body = encode(&[("BPMCSRF", "local"), ("Amount", "3")]);
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let r = request(a, "POST", "/processes/UsrApproval", &[form], Some(body.as_bytes()));
    assert_eq!(r.status, 403, "{}", r.body);
    let origin = format!("http://{a}");
    let r = request(a, "POST", "/processes/UsrApproval", &[form, ("Origin", &origin)], Some(body.as_bytes()));
    assert_eq!(r.status, 303, "{}", r.body);
    let r = request(a, "POST", "/processes/UsrApproval", &[form, ("Origin", "http://evil.example")], Some(b"x=1"));
    assert_eq!(r.status, 403);
}

#[test]
fn the_embedded_files_are_served_by_their_hashed_names() {
    let (_setup, server) = serve(PROCS);
    let a = &server.addr;
    let page = get(a, "/signin").body;
    let links: Vec<&str> = page.split('"').filter(|s| s.starts_with("/console/console-")).collect();
    assert_eq!(links.len(), 2, "{page}");
    for (path, kind) in links.into_iter().zip(["text/css", "text/javascript"]) {
        let r = get(a, path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.header("content-type").unwrap().starts_with(kind));
        assert!(r.header("cache-control").unwrap().contains("immutable"));
    }
    assert_eq!(get(a, "/console/console-0000.css").status, 404);
}
