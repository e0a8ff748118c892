//! The example load balancer of docs/DEPLOY.md: nginx started with
//! docs/deploy/nginx.conf itself (only its addresses and pid file
//! swapped) in front of two `procdsl serve` nodes on one throwaway
//! PostgreSQL database; a client signs in through it, then starts and
//! executes instances with its session, and both nodes serve them.
//!
//! Without nginx the test says loudly that it was skipped; with `CI` set
//! it fails instead (`.ci/run` installs nginx).
#![cfg(all(feature = "service", feature = "postgres"))]

#[path = "support/pg.rs"]
mod pg;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/deploy/nginx.conf");

const SOURCE: &str = r#"
process UsrApprove {
    out Note: Text
    start Begin -> Approve
    user Approve "Approve" {
        in Comment: Text
        done { Note = Comment }
    } -> Done
    end Done
}
"#;

/// A child process killed and reaped when the test ends, also on a panic.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The nginx binary, or None (said loudly; a failure with CI set).
fn nginx() -> Option<PathBuf> {
    let found =
        ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"].iter().map(PathBuf::from).find(|p| p.exists());
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI is set, but nginx is not installed: apt-get install nginx");
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: tests/deploy_nginx.rs did not run: it needs nginx (apt-get install nginx) ***\n"
        );
    }
    found
}

/// A `procdsl serve` node with a users file and an access log; its address.
fn node(url: &str, dir: &Path, name: &str) -> (Running, String) {
    let log = dir.join(format!("{name}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .arg("serve")
        .arg(dir.join("approve.proc"))
        .args(["--addr", "127.0.0.1:0", "--store", url, "--pg-max-connections", "2"])
        .arg("--users")
        .arg(dir.join("users.json"))
        .arg("--access-log")
        .arg(dir.join(format!("{name}.access")))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut child = Running(child);
    for _ in 0..600 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(addr) = text.lines().find_map(|l| l.strip_prefix("procdsl serve: listening on http://")) {
            return (child, addr.to_string());
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("{name} ended ({status}) before listening:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{name} did not listen:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
}

/// `text` with `from` replaced by `to`, which must occur exactly once.
fn swap(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "docs/deploy/nginx.conf should have `{from}` once");
    text.replacen(from, to, 1)
}

/// One request through nginx: status, `Set-Cookie` values, JSON body.
fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, Vec<String>, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: procdsl.example\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let cookies = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.trim().split(';').next().unwrap_or("").to_string())
        .collect();
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.into() };
    (status, cookies, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

#[test]
fn the_example_nginx_config_balances_a_signed_in_client_over_two_nodes() {
    let Some(nginx) = nginx() else { return };
    let Some((_server, url)) = pg::fresh_database() else { return };
    let pairs: std::collections::HashMap<&str, &str> =
        url.split_whitespace().filter_map(|p| p.split_once('=')).collect();
    let url =
        format!("postgres://postgres@{}:{}/{}", pairs["host"].replace('/', "%2F"), pairs["port"], pairs["dbname"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("approve.proc"), SOURCE).unwrap();
    let hash = procdsl::service::auth::hash_password("s3cret").unwrap();
    let users = json!({"users": [{"name": "alice", "password": hash, "roles": ["user"]}]});
    std::fs::write(dir.path().join("users.json"), users.to_string()).unwrap();
    let (_a, a) = node(&url, dir.path(), "a");
    let (_b, b) = node(&url, dir.path(), "b");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let front = format!("127.0.0.1:{port}");
    let config = std::fs::read_to_string(CONFIG).unwrap();
    let config = swap(&config, "server 127.0.0.1:8081 ", &format!("server {a} "));
    let config = swap(&config, "server 127.0.0.1:8082 ", &format!("server {b} "));
    let config = swap(&config, "listen 127.0.0.1:8080;", &format!("listen {front};"));
    let pid = dir.path().join("nginx.pid");
    let config = swap(&config, "pid /run/procdsl-nginx.pid;", &format!("pid {};", pid.display()));
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, config).unwrap();
    // In the foreground, one process: killing it stops it all.
    let nginx_log = dir.path().join("nginx.log");
    let balancer = Command::new(nginx)
        .arg("-c")
        .arg(&conf)
        .args(["-e", "stderr", "-g", "daemon off; master_process off;"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&nginx_log).unwrap())
        .spawn()
        .unwrap();
    let mut balancer = Running(balancer);
    let mut listening = false;
    for _ in 0..200 {
        if TcpStream::connect(&front).is_ok() {
            listening = true;
            break;
        }
        if let Ok(Some(status)) = balancer.0.try_wait() {
            panic!("nginx ended ({status}):\n{}", std::fs::read_to_string(&nginx_log).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(listening, "nginx did not listen:\n{}", std::fs::read_to_string(&nginx_log).unwrap_or_default());

    let (status, cookies, d) = request(
        &front,
        "POST",
        "/ServiceModel/AuthService.svc/Login",
        &[],
        r#"{"UserName":"alice","UserPassword":"s3cret"}"#,
    );
    assert_eq!(status, 200, "sign-in through nginx: {d}");
    let csrf = cookies.iter().find_map(|c| c.strip_prefix("BPMCSRF=")).expect("a BPMCSRF cookie").to_string();
    let cookie = cookies.join("; ");
    let session = [("Cookie", cookie.as_str()), ("BPMCSRF", csrf.as_str())];
    const CYCLES: usize = 4;
    for n in 0..CYCLES {
        let (status, _, d) = request(
            &front,
            "POST",
            "/0/ServiceModel/ProcessEngineService.svc/RunProcess",
            &session,
            r#"{"schemaName":"UsrApprove"}"#,
        );
        assert_ne!(
            status, 401,
            "RunProcess {n} through nginx reached a node that does not know the session signed in on the other: \
             round robin needs sessions kept in the store (issue 11): {d}"
        );
        assert_eq!(status, 200, "RunProcess {n} through nginx: {d}");
        let uid = d["waiting"][0]["uid"].as_str().unwrap().to_string();
        let (status, _, d) = request(
            &front,
            "POST",
            &format!("/0/ServiceModel/ProcessEngineService.svc/ExecProcElByUId/{uid}"),
            &session,
            &format!(r#"{{"Comment":"through nginx {n}"}}"#),
        );
        assert_eq!(status, 200, "ExecProcElByUId {n} through nginx: {d}");
        assert_eq!(
            (d["status"].as_str(), d["resultParameterValues"]["Note"].as_str()),
            (Some("Completed"), Some(&*format!("through nginx {n}"))),
            "{d}"
        );
    }
    // Round robin: each node answered some of the requests.
    for name in ["a", "b"] {
        let log = std::fs::read_to_string(dir.path().join(format!("{name}.access"))).unwrap_or_default();
        assert!(log.contains("ProcessEngineService.svc"), "node {name} served nothing:\n{log}");
    }
    drop(balancer.0.kill());
}
