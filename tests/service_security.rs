//! The service's safe defaults, each checked against the running server:
//! what a foreign web page can (not) make a loopback service do, JSON
//! content types, Logout and session cookies, Secure cookies off loopback,
//! the users file's rules and its reload on SIGHUP, sessions per user,
//! tokens, and the headers and file modes.
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
"#;

const SVC: &str = "/0/ServiceModel/ProcessEngineService.svc";
const LOGIN: &str = "/ServiceModel/AuthService.svc/Login";
const LOGOUT: &str = "/ServiceModel/AuthService.svc/Logout";
const TOKEN: &str = "ci-token-0123456789abcdef0123456789abcdef";

/// A request written exactly as given (a browser's, say: no
/// `X-Requested-With`), `Host` included.
fn raw(addr: &str, head: &str, body: &str) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let text = format!("{head}Connection: close\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    stream.write_all(text.as_bytes()).unwrap();
    read_response(&mut stream)
}

fn instances(a: &str) -> usize {
    get_json(a, "/api/instances").json().as_array().unwrap().len()
}

fn write_users(path: &Path, users: &[(&str, &[&str])]) {
    let hash = procdsl::service::auth::hash_password("s3cret").unwrap();
    let users: Vec<Value> = users.iter().map(|(n, r)| json!({"name": n, "password": hash, "roles": r})).collect();
    let token = json!({"name": "ci", "sha256": procdsl::service::auth::sha256_hex(TOKEN), "roles": ["admin"]});
    std::fs::write(path, json!({"users": users, "tokens": [token]}).to_string()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn users_file(setup: &Setup) -> PathBuf {
    let path = setup.path("users.json");
    write_users(&path, &[("Ada", &["user"]), ("Bob", &["admin"])]);
    path
}

fn login(a: &str, user: &str) -> Response {
    post_json(a, LOGIN, &json!({"UserName": user, "UserPassword": "s3cret"}))
}

/// The `Cookie` header and the CSRF value of a signed-in answer.
fn session(r: &Response) -> (String, String) {
    let cookies = r.cookies();
    let csrf = cookies.iter().find(|(k, _)| k == "BPMCSRF").expect("a BPMCSRF cookie").1.clone();
    (cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "), csrf)
}

#[test]
fn a_loopback_service_refuses_what_a_foreign_web_page_could_send() {
    let setup = Setup::new(PROCS);
    let server = setup.start(&[]);
    let a = server.addr.as_str();
    let execute = format!("{SVC}/UsrEcho/Execute?ResultParameterName=Greeting");
    let check = |r: Response, status: u16, needle: &str| {
        assert_eq!(r.status, status, "{}", r.body);
        assert!(r.error_message().contains(needle), "`{}` does not say `{needle}`", r.body);
    };
    // DNS rebinding: a foreign name that resolves to 127.0.0.1.
    check(raw(a, "GET /api/instances HTTP/1.1\r\nHost: evil.example:8080\r\n", ""), 403, "not a loopback name");
    // An <img> on another site: a GET that runs a process, no custom header.
    let img = format!("GET {execute} HTTP/1.1\r\nHost: {a}\r\nAccept: image/*\r\nSec-Fetch-Site: cross-site\r\n");
    check(raw(a, &img, ""), 403, "another site");
    let old_browser = format!("GET {execute} HTTP/1.1\r\nHost: {a}\r\nAccept: image/*\r\n");
    check(raw(a, &old_browser, ""), 403, "X-Requested-With");
    // A fetch or form from a foreign origin.
    let foreign = format!("POST {SVC}/RunProcess HTTP/1.1\r\nHost: {a}\r\nOrigin: https://evil.example\r\nContent-Type: application/json\r\n");
    check(raw(a, &foreign, r#"{"schemaName":"UsrEcho"}"#), 403, "Origin: https://evil.example");
    // A `text/plain` form POST (a simple request) with a JSON-looking body.
    let form = format!("POST {SVC}/RunProcess HTTP/1.1\r\nHost: {a}\r\nContent-Type: text/plain\r\n");
    check(raw(a, &form, r#"{"schemaName":"UsrEcho"}"#), 415, "application/json");
    // None of them ran anything.
    assert!(get(a, "/metrics").body.contains("procdsl_instances_started_total 0"), "{}", get(a, "/metrics").body);
    // What a local client sends works: localhost, a loopback Origin, the custom header or JSON.
    let local = format!(
        "GET {execute} HTTP/1.1\r\nHost: localhost\r\nOrigin: http://127.0.0.1:3000\r\nX-Requested-With: curl\r\n"
    );
    assert_eq!(raw(a, &local, "").status, 200);
    let json =
        format!("POST {SVC}/RunProcess HTTP/1.1\r\nHost: [::1]:1\r\nContent-Type: application/json; charset=utf-8\r\n");
    assert_eq!(raw(a, &json, r#"{"schemaName":"UsrEcho"}"#).status, 200);
    // Reading needs no custom header.
    assert_eq!(raw(a, &format!("GET /api/instances HTTP/1.1\r\nHost: {a}\r\n"), "").status, 200);
    assert_eq!(instances(a), 0, "runs that end in their request are not kept");
}

#[test]
fn login_and_json_routes_require_a_json_content_type() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap()]);
    let a = server.addr.as_str();
    // Login CSRF: a cross-site text/plain form that signs the victim in as the attacker.
    let form = format!("POST {LOGIN} HTTP/1.1\r\nHost: {a}\r\nContent-Type: text/plain\r\n");
    let r = raw(a, &form, r#"{"UserName":"Ada","UserPassword":"s3cret"}"#);
    assert_eq!(r.status, 415, "{}", r.body);
    assert!(r.cookies().is_empty());
    let urlencoded = format!("POST {SVC}/RunProcess HTTP/1.1\r\nHost: {a}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/x-www-form-urlencoded\r\n");
    assert_eq!(raw(a, &urlencoded, r#"{"schemaName":"UsrEcho"}"#).status, 415);
    assert_eq!(login(a, "Ada").json()["Code"], 0);
}

#[test]
fn logout_ends_the_session_and_cookies_are_session_cookies() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap()]);
    let a = server.addr.as_str();
    let r = login(a, "Ada");
    let set_cookies: Vec<&str> =
        r.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.as_str()).collect();
    assert_eq!(set_cookies.len(), 3);
    for c in &set_cookies {
        assert!(!c.to_ascii_lowercase().contains("max-age") && !c.to_ascii_lowercase().contains("expires"), "{c}");
        assert!(!c.contains("Secure"), "loopback without --secure-cookies: {c}");
    }
    let (cookie, csrf) = session(&r);
    assert_eq!(request(a, "GET", "/api/instances", &[("Cookie", &cookie)], None).status, 200);
    // Logout is CSRF-checked, like every POST.
    let r = request(a, "POST", LOGOUT, &[("Cookie", &cookie)], None);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(request(a, "GET", "/api/instances", &[("Cookie", &cookie)], None).status, 200);
    let r = request(a, "POST", LOGOUT, &[("Cookie", &cookie), ("BPMCSRF", &csrf)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("set-cookie") && v.starts_with(".ASPXAUTH=;")));
    // The server forgot the session: the old cookie is refused.
    assert_eq!(request(a, "GET", "/api/instances", &[("Cookie", &cookie)], None).status, 401);
}

#[test]
fn an_idle_session_ends_and_secure_cookies_can_be_asked_for() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server =
        setup.start(&["--users", users.to_str().unwrap(), "--session-idle-minutes", "0.04", "--secure-cookies"]);
    let a = server.addr.as_str();
    let r = login(a, "Ada");
    assert!(r
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .all(|(_, v)| v.ends_with("; Secure")));
    let (cookie, _) = session(&r);
    assert_eq!(request(a, "GET", "/api/instances", &[("Cookie", &cookie)], None).status, 200);
    std::thread::sleep(Duration::from_millis(3500));
    let r = request(a, "GET", "/api/instances", &[("Cookie", &cookie)], None);
    assert_eq!(r.status, 401, "{}", r.body);
}

#[test]
fn off_loopback_cookies_are_secure_by_default_and_plain_http_is_warned_about() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap(), "--addr", "0.0.0.0:0"]);
    let port = server.addr.rsplit(':').next().unwrap();
    let a = format!("127.0.0.1:{port}");
    let r = login(&a, "Ada");
    assert_eq!(r.json()["Code"], 0);
    assert!(r
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .all(|(_, v)| v.contains("; Secure")));
    let stderr = server.stderr.lock().unwrap().clone();
    assert!(stderr.contains("warning: serving 0.0.0.0") && stderr.contains("plain HTTP"), "{stderr}");
}

fn serve_with_users(setup: &Setup, file: &str) -> std::process::Output {
    std::fs::write(setup.path("users.json"), file).unwrap();
    Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(["serve", "--addr", "127.0.0.1:0", "--users"])
        .arg(setup.path("users.json"))
        .arg("--store")
        .arg(setup.path("store.db"))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_users_file_with_other_hashes_duplicate_or_empty_names_is_refused_at_start_up() {
    let setup = Setup::new(PROCS);
    let good = procdsl::service::auth::hash_password("pw").unwrap();
    let cases = [
        (json!({"users": [{"name": "a", "password": "$plain$pw", "roles": []}]}), "not an argon2 hash"),
        (
            json!({"users": [{"name": "a", "password": "$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA", "roles": []}]}),
            "not an argon2 hash",
        ),
        (
            json!({"users": [{"name": "a", "password": "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "roles": []}]}),
            "must be argon2id",
        ),
        (
            json!({"users": [{"name": "a", "password": "$argon2id$v=19$m=4096,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "roles": []}]}),
            "must be argon2id with the parameters",
        ),
        (
            json!({"users": [{"name": "a", "password": good, "roles": []}, {"name": "a", "password": good, "roles": []}]}),
            "given twice",
        ),
        (json!({"users": [{"name": "", "password": good, "roles": []}]}), "empty name"),
        (json!({"users": [{"name": "a", "password": good}]}), "has no \"roles\""),
    ];
    for (file, needle) in cases {
        let out = serve_with_users(&setup, &file.to_string());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert!(err.contains(needle), "{file}: `{err}` does not say `{needle}`");
    }
}

#[test]
fn sighup_reloads_the_users_file_and_keeps_serving() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let server = setup.start(&["--users", users.to_str().unwrap()]);
    let a = server.addr.as_str();
    assert!(server.stderr.lock().unwrap().contains("readable or writable by others"));
    assert_eq!(login(a, "Ada").json()["Code"], 0);
    let (cookie, _) = session(&login(a, "Ada"));
    write_users(&users, &[("Cy", &["reader"])]);
    let hup = |n: usize| {
        assert!(Command::new("kill").args(["-HUP", &server.child.id().to_string()]).status().unwrap().success());
        wait_for("the reload", Duration::from_secs(10), || {
            server.stderr.lock().unwrap().matches("SIGHUP").count() >= n
        });
    };
    hup(1);
    assert!(server.stderr.lock().unwrap().contains("users file reloaded (1 users, 1 tokens)"));
    assert_eq!(get(a, "/health").status, 200, "the server is still up");
    assert_eq!(login(a, "Cy").json()["Code"], 0);
    assert_eq!(login(a, "Ada").json()["Code"], 1);
    // Ada's session ends with her entry.
    assert_eq!(request(a, "GET", "/api/instances", &[("Cookie", &cookie)], None).status, 401);
    // A file that does not check leaves the users as they were.
    std::fs::write(&users, "{not json").unwrap();
    hup(2);
    assert!(server.stderr.lock().unwrap().contains("the old one stays"));
    assert_eq!(login(a, "Cy").json()["Code"], 0);
}

#[test]
fn a_user_past_the_session_cap_loses_only_their_own_oldest_session() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap()]);
    let a = server.addr.as_str();
    let (bob, _) = session(&login(a, "Bob"));
    let (first, _) = session(&login(a, "Ada"));
    for _ in 1..procdsl::service::auth::MAX_SESSIONS_PER_USER {
        assert_eq!(login(a, "Ada").json()["Code"], 0);
    }
    assert_eq!(request(a, "GET", "/api/instances", &[("Cookie", &first)], None).status, 200);
    assert_eq!(login(a, "Ada").json()["Code"], 0);
    assert_eq!(request(a, "GET", "/api/instances", &[("Cookie", &first)], None).status, 401);
    assert_eq!(request(a, "GET", "/api/instances", &[("Cookie", &bob)], None).status, 200);
}

#[test]
fn only_the_exact_login_paths_are_public() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap()]);
    let a = server.addr.as_str();
    for path in
        ["/api/instances/AuthService.svc/Login", "/x/ServiceModel/AuthService.svc/Login", "/AuthService.svc/Login"]
    {
        let r = post_json(a, path, &json!({"UserName": "Ada", "UserPassword": "s3cret"}));
        assert_eq!(r.status, 401, "{path}: {}", r.body);
    }
    assert_eq!(login(a, "Ada").status, 200);
}

#[test]
fn tokens_are_made_random_refused_short_or_expired() {
    let out = Command::new(env!("CARGO_BIN_EXE_procdsl")).args(["serve", "--new-token"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let token = lines.next().unwrap().to_string();
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    let entry: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(entry["sha256"], procdsl::service::auth::sha256_hex(&token));

    let setup = Setup::new(PROCS);
    let short = "abc123";
    let expired = "expired-0123456789abcdef0123456789abcdef";
    let mut file = json!({"tokens": [
        {"name": "new", "sha256": entry["sha256"], "roles": ["reader"]},
        {"name": "short", "sha256": procdsl::service::auth::sha256_hex(short), "roles": ["admin"]},
        {"name": "old", "sha256": procdsl::service::auth::sha256_hex(expired), "roles": ["admin"], "expires": "2020-01-01T00:00:00Z"},
    ]});
    file["users"] = json!([]);
    std::fs::write(setup.path("users.json"), file.to_string()).unwrap();
    let server = setup.start(&["--users", setup.path("users.json").to_str().unwrap()]);
    let a = server.addr.as_str();
    let with = |t: &str| request(a, "GET", "/api/instances", &[("Authorization", &format!("Bearer {t}"))], None);
    assert_eq!(with(&token).status, 200);
    let r = with(short);
    assert_eq!(r.status, 401);
    assert!(r.error_message().contains("too short"), "{}", r.body);
    let r = with(expired);
    assert_eq!(r.status, 401);
    assert!(r.error_message().contains("expired"), "{}", r.body);
    // `--hash-token` refuses to hash a short one.
    let mut child = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(["serve", "--hash-token"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"abc123\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("too short"));
}

#[test]
fn answers_carry_nosniff_and_no_store_and_files_are_owner_only() {
    let setup = Setup::new(PROCS);
    let users = users_file(&setup);
    let server = setup.start(&["--users", users.to_str().unwrap()]);
    let a = server.addr.as_str();
    let answers = [
        get(a, "/health"),
        get(a, "/nothing-here"),
        get(a, "/api/instances"),
        login(a, "Ada"),
        request(a, "GET", "/api/instances", &[("Authorization", &format!("Bearer {TOKEN}"))], None),
    ];
    for r in &answers {
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{r:?}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{r:?}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for name in ["store.db", "store.db-wal"] {
            let mode = std::fs::metadata(setup.path(name)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name}");
        }
    }
    assert!(!server.stderr.lock().unwrap().contains("readable or writable by others"));
}
