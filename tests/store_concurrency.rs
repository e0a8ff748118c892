//! Separate processes on one store: racing `exec`s execute an element once,
//! and a process killed (SIGKILL) while it writes loses nothing committed.

use procdsl::check;
use procdsl::runtime::instance::Status;
use procdsl::store::{self, ListFilter, Store};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

const ONCE: &str = r#"process UsrOnce {
    inout Counter: Integer = 0
    start Begin -> Approve
    user Approve "Approve" {
        in Who: Text
        done {
            Counter = Counter + 1
            log "approved by {Who}"
        }
    } -> Done
    end Done
}
"#;

/// Every exec adds one to Count and logs `step N`, until Count reaches 1000.
const LOOP: &str = r#"process UsrLoop {
    inout Count: Integer = 0
    start Begin -> Ask
    user Ask "Again?" {
        done {
            Count = Count + 1
            log "step {Count}"
        }
    } -> More
    exclusive More {
        when Count < 1000 -> Ask
        else -> Done
    }
    end Done
}
"#;

fn exec_child(store: &Path, uid: Uuid, who: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(["exec", &uid.to_string(), "-p", &format!("Who={who}"), "--store"])
        .arg(store)
        .env_remove("PROCDSL_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn waiting_uid(store: &mut Store, id: Uuid) -> Option<Uuid> {
    store.show(id).unwrap().waiting.first().map(|w| w.uid)
}

#[test]
fn racing_execs_of_one_element_instance_execute_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap();
    let program = Arc::new(check::load_str("once.proc", ONCE).unwrap().program);
    const PAIRS: usize = 30;
    let mut ids = Vec::new();
    for _ in 0..PAIRS {
        let d = store.start(program.clone(), "UsrOnce", [("Counter", "0")], store::real_time(None)).unwrap();
        ids.push((d.process_id, d.waiting[0].uid));
    }
    drop(store);
    for (i, (_, uid)) in ids.iter().enumerate() {
        let a = exec_child(&path, *uid, &format!("a{i}"));
        let b = exec_child(&path, *uid, &format!("b{i}"));
        let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        let mut executed = 0;
        let mut already = 0;
        for out in &outs {
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
            if text.contains("was already executed; nothing was done") {
                already += 1;
            } else if text.contains("UsrOnce Completed") {
                executed += 1;
            }
        }
        assert_eq!((executed, already), (1, 1), "pair {i}: {outs:?}");
    }
    let mut store = Store::open_existing(&path).unwrap();
    for (i, (id, _)) in ids.iter().enumerate() {
        let d = store.show(*id).unwrap();
        assert_eq!(d.status, Status::Completed);
        assert_eq!(d.result_parameter_values["Counter"], serde_json::json!(1), "pair {i}");
        assert_eq!(d.log.len(), 1, "pair {i}: {:?}", d.log);
        assert!(d.log[0] == format!("approved by a{i}") || d.log[0] == format!("approved by b{i}"));
    }
}

/// A small deterministic generator, seeded from the clock; the seed is
/// printed so that a failure can be replayed with `PROCDSL_KILL_SEED`.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// Every instance of UsrLoop must be consistent: its counter equals the
/// element-instances it executed and its log, with no step twice.
fn check_store(
    path: &Path,
    acked: &std::collections::HashMap<Uuid, i64>,
    attempts: &std::collections::HashMap<Uuid, i64>,
) {
    let mut store = Store::open_existing(path).expect("the store opens after a kill");
    assert_eq!(store.integrity_check().unwrap(), "ok");
    for summary in store.list(&ListFilter::default()).unwrap() {
        let instance = store.load(summary.id).expect("every instance loads after a kill");
        let count = instance.param("Count").map(|v| v.to_string()).unwrap_or_default();
        let count: i64 = count.parse().unwrap_or(-1);
        assert_eq!(count as usize, instance.executed.len(), "{}: counter and executed UIds differ", summary.id);
        let expected: Vec<String> = (1..=count).map(|n| format!("step {n}")).collect();
        assert_eq!(*instance.log, expected, "{}: a step ran twice or was lost", summary.id);
        let low = acked.get(&summary.id).copied().unwrap_or(0);
        let high = attempts.get(&summary.id).copied().unwrap_or(0);
        assert!(
            (low..=high).contains(&count),
            "{}: count {count} outside the committed {low} and attempted {high}",
            summary.id
        );
        if instance.status == Status::Waiting {
            assert_eq!(instance.waiting.len(), 1);
        }
    }
}

#[test]
fn killing_writers_at_random_moments_loses_nothing_committed() {
    let seed = std::env::var("PROCDSL_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1
    });
    eprintln!("kill test seed: {seed} (replay with PROCDSL_KILL_SEED={seed})");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let file = dir.path().join("loop.proc");
    std::fs::write(&file, LOOP).unwrap();
    let mut store = Store::open(&path).unwrap();
    let program = Arc::new(check::load_files(&[&file]).unwrap().program);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let no_inputs: [(&str, &str); 0] = [];
        ids.push(store.start(program.clone(), "UsrLoop", no_inputs, store::real_time(None)).unwrap().process_id);
    }
    drop(store);
    let mut acked = std::collections::HashMap::new();
    let mut attempts = std::collections::HashMap::new();
    let mut kills = 0;
    for round in 0..120 {
        let mut store = Store::open_existing(&path).unwrap();
        let id = ids[rng.next(ids.len() as u64) as usize];
        let starting_run = rng.next(4) == 0;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_procdsl"));
        cmd.env_remove("PROCDSL_STORE").stdout(Stdio::null()).stderr(Stdio::null());
        if starting_run {
            cmd.arg("run").arg(&file).arg("--store").arg(&path);
        } else {
            let Some(uid) = waiting_uid(&mut store, id) else { continue };
            cmd.args(["exec", &uid.to_string(), "--store"]).arg(&path);
            *attempts.entry(id).or_insert(0) += 1;
        }
        drop(store);
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(Duration::from_micros(rng.next(25_000)));
        let killed = child.try_wait().unwrap().is_none() && child.kill().is_ok();
        let status = child.wait().unwrap();
        if killed && status.code().is_none() {
            kills += 1;
        } else if status.success() && !starting_run {
            *acked.entry(id).or_insert(0) += 1;
        }
        if starting_run || round % 3 == 0 || killed {
            check_store(&path, &acked, &attempts);
        }
    }
    check_store(&path, &acked, &attempts);
    eprintln!("{kills} processes killed");
    assert!(kills > 0, "no process was killed; the delays are too long for this machine");
}
