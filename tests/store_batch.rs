//! Group commit: `ProcessStore::write_batch` applies writes in order in one
//! transaction, each undone alone when it fails, and still executes an
//! element-instance exactly once when two execs of it share a batch.

use procdsl::runtime::engine::{ExecOutcome, Run};
use procdsl::store::{self, ProcessStore, Store, StoreError, Write, Written};
use procdsl::Engine;

const SOURCE: &str = r#"
process UsrWait {
    out Note: Text
    start Begin -> Approve
    user Approve "Approve" {
        in Comment: Text
        done { Note = Comment; log "executed {Comment}" }
    } -> Done
    end Done
}
"#;

#[test]
fn a_batch_commits_once_and_executes_each_element_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("s.db")).unwrap();
    let engine = Engine::from_source("w.proc", SOURCE).unwrap();
    let options = store::real_time(None);
    let saves: Vec<Write> = (0..3)
        .map(|_| {
            let mut instance = engine.start("UsrWait", Vec::<(String, String)>::new()).unwrap();
            let mut run = Run::new(options.clone());
            store::run_on(&mut instance, &mut run);
            Write::SaveRun { instance: Box::new(instance), emitted: run.emitted, options: options.clone() }
        })
        .collect();
    let saved: Vec<_> = store.write_batch(saves).into_iter().map(Result::unwrap).collect();
    let uids: Vec<_> = saved
        .iter()
        .map(|w| match w {
            Written::Saved(i) => i.descriptor(None).waiting[0].uid,
            _ => panic!("a save answered as something else"),
        })
        .collect();
    let exec = |uid, comment: &str| Write::Exec {
        uid,
        fields: vec![("Comment".to_string(), comment.to_string())],
        options: options.clone(),
    };
    let unknown = uuid::Uuid::new_v4();
    let results = store.write_batch(vec![
        exec(uids[0], "first"),
        exec(uids[0], "second"),
        exec(unknown, "x"),
        Write::Exec { uid: uids[1], fields: vec![], options: options.clone() },
        exec(uids[2], "third"),
    ]);
    let outcome = |r: &Result<Written, StoreError>| match r {
        Ok(Written::Exec(o, d, _)) => Ok((*o, d.status)),
        Ok(_) => panic!("an exec answered as something else"),
        Err(e) => Err(e.to_string()),
    };
    assert_eq!(outcome(&results[0]), Ok((ExecOutcome::Executed, procdsl::Status::Completed)));
    assert_eq!(outcome(&results[1]), Ok((ExecOutcome::AlreadyExecuted, procdsl::Status::Completed)));
    assert!(outcome(&results[2]).unwrap_err().contains("no waiting element-instance"));
    assert!(outcome(&results[3]).unwrap_err().contains("required"));
    assert_eq!(outcome(&results[4]), Ok((ExecOutcome::Executed, procdsl::Status::Completed)));
    // Reopened: what the batch committed is there, once.
    drop(store);
    let mut store = Store::open(dir.path().join("s.db")).unwrap();
    let first = ProcessStore::load(&mut store, saved_id(&saved[0])).unwrap();
    assert_eq!(*first.log, ["executed first"]);
    let second = ProcessStore::load(&mut store, saved_id(&saved[1])).unwrap();
    assert_eq!(second.status, procdsl::Status::Waiting);
}

fn saved_id(w: &Written) -> uuid::Uuid {
    match w {
        Written::Saved(i) => i.id,
        Written::Exec(_, d, _) => d.process_id,
        Written::Delivered(_) => panic!("a delivery in a batch of saves"),
    }
}
