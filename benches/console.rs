//! The web console over a SQLite store of 10,000 instances of
//! `examples/approval.proc` (nine in ten waiting for Approve, the rest
//! completed): the server time of the instance list (first and a later
//! page), the tasklist (plain and filtered) and an instance page, each
//! asked of the service's router in this process (no network), as an
//! `admin` and as a `user` who started none of them and holds no task
//! (the worst case: every list is read past instances it may not see).
//! Prints the median and the slowest of each; asserts nothing about time
//! (docs/BENCHMARKS.md, "Console").
//!
//! `cargo bench --bench console` (a release build); `-- N ROUNDS` sets the
//! instance count and the requests per page (default 10000 and 30).

use axum::body::Body;
use axum::http::Request;
use procdsl::check;
use procdsl::runtime::engine::Run;
use procdsl::runtime::instance::Instance;
use procdsl::service::auth::{sha256_hex, Users};
use procdsl::service::{Config, Limits};
use procdsl::store::{self, ProcessStore, Save, Store, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = args.first().copied().unwrap_or(10_000);
    let rounds = args.get(1).copied().unwrap_or(30);
    let source = include_str!("../examples/approval.proc");
    let program = Arc::new(check::load_str("approval.proc", source).expect("the example checks").program);
    let process = program.find("UsrApproval").expect("the example's process");

    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut st = Store::open(dir.path().join("console.db")).expect("a store");
    let began = Instant::now();
    let mut some_id = None;
    for chunk in 0..n.div_ceil(1000) {
        let writes: Vec<Write> = (chunk * 1000..((chunk + 1) * 1000).min(n))
            .map(|i| {
                let mut instance = Instance::new(program.clone(), process, jiff::Timestamp::now());
                let amount = if i % 10 == 0 { "20" } else { "5000" };
                instance.set_inputs([("Amount", amount)]).expect("an amount");
                let mut run = Run::new(store::real_time(None));
                store::run_on(&mut instance, &mut run);
                some_id.get_or_insert(instance.id);
                Write::Save(Box::new(Save { instance, emitted: Vec::new(), expected: None, key: None }))
            })
            .collect();
        for result in st.write_batch(writes) {
            result.expect("saved");
        }
    }
    println!("{n} instances stored in {:.1} s", began.elapsed().as_secs_f64());
    let id = some_id.expect("at least one instance");

    const ADMIN: &str = "admin-token-0123456789abcdef0123456789abcdef";
    const USER: &str = "user-token-0123456789abcdef0123456789abcdef";
    let users = serde_json::json!({"tokens": [
        {"name": "root", "sha256": sha256_hex(ADMIN), "roles": ["admin"]},
        {"name": "bob", "sha256": sha256_hex(USER), "roles": ["user"]},
    ]});
    let config = Config {
        program: Some(program),
        store: Box::new(st),
        users: Some(Users::parse(&users.to_string()).expect("the bench's tokens")),
        limits: Limits::default(),
        access_log: None,
        maintenance: None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async move {
        let (app, _handle) = procdsl::service::app(config);
        let get = |path: String, token: &'static str| {
            let app = app.clone();
            async move {
                let request = Request::get(&path)
                    .header("host", "localhost")
                    .header("authorization", format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap();
                let started = Instant::now();
                let response = app.oneshot(request).await.expect("an answer");
                let status = response.status();
                let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
                let took = started.elapsed();
                assert!(status.is_success(), "{path}: {status}: {}", String::from_utf8_lossy(&body));
                (took, body)
            }
        };
        // A later page of the instance list: the cursor of the first.
        let (_, first) = get("/instances".to_string(), ADMIN).await;
        let first = String::from_utf8_lossy(&first).to_string();
        let next = first
            .split("id=\"next-page\" href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(|link| link.replace("&amp;", "&"))
            .unwrap_or_else(|| "/instances".to_string());
        let pages = [
            ("instance list, first page", "/instances".to_string(), ADMIN),
            ("instance list, next page", next, ADMIN),
            ("instance list, Waiting only", "/instances?status=Waiting".to_string(), ADMIN),
            ("tasklist", "/tasks".to_string(), ADMIN),
            ("tasklist, filtered", "/tasks?process=UsrApproval&q=approve".to_string(), ADMIN),
            ("instance page", format!("/instances/{id}"), ADMIN),
            ("process page", "/processes/UsrApproval".to_string(), ADMIN),
            ("user: instance list (none)", "/instances".to_string(), USER),
            ("user: tasklist (none)", "/tasks".to_string(), USER),
        ];
        println!("{:<30} {:>10} {:>10} {:>10}", "page", "median ms", "max ms", "bytes");
        for (name, path, token) in pages {
            let mut times: Vec<Duration> = Vec::with_capacity(rounds);
            let mut bytes = 0;
            for _ in 0..rounds {
                let (took, body) = get(path.clone(), token).await;
                times.push(took);
                bytes = body.len();
            }
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "{name:<30} {:>10.2} {:>10.2} {bytes:>10}",
                ms(times[times.len() / 2]),
                ms(times[times.len() - 1])
            );
        }
    });
}
