//! The store's own thread. Every store call of the service goes through
//! it; writes that queue up while a commit is on its way to disk go into
//! the next batch together, one durable commit for all of them (group
//! commit, [`ProcessStore::write_batch`]). A caller waits for its answer,
//! so it answers its client only after its write is committed.
//!
//! Calls block the calling thread: they are made from the blocking pool.

use super::error::ApiError;
use crate::store::{ProcessStore, StoreError, Write, Written};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;

/// At most this many writes in one commit.
const MAX_BATCH: usize = 256;

type Call = Box<dyn FnOnce(&mut dyn ProcessStore) + Send>;

enum Job {
    Write(Write, mpsc::Sender<Result<Written, StoreError>>),
    Call(Call),
}

pub struct StoreHandle {
    jobs: mpsc::Sender<Job>,
}

fn stopped() -> ApiError {
    ApiError::internal("the store stopped; nothing more was committed")
}

impl StoreHandle {
    pub fn start(mut store: Box<dyn ProcessStore>) -> StoreHandle {
        let (jobs, queue) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new().name("procdsl-store".into()).spawn(move || {
            let mut pending = Vec::new();
            while let Ok(job) = queue.recv() {
                pending.push(job);
                while pending.len() < MAX_BATCH {
                    match queue.try_recv() {
                        Ok(job) => pending.push(job),
                        Err(_) => break,
                    }
                }
                let mut writes = Vec::new();
                let mut replies = Vec::new();
                for job in pending.drain(..) {
                    match job {
                        Job::Write(w, reply) => {
                            writes.push(w);
                            replies.push(reply);
                        }
                        // A call runs before the writes queued with it are
                        // committed: nobody has been told of those writes
                        // yet, so nobody can tell, and the writes stay in one
                        // commit (a flush per call would split the group).
                        Job::Call(call) => {
                            // A panic in a call loses that call's answer, not the store.
                            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| call(store.as_mut())));
                        }
                    }
                }
                flush(store.as_mut(), &mut writes, &mut replies);
            }
        });
        if let Err(e) = spawned {
            eprintln!("procdsl serve: cannot start the store thread: {e}");
        }
        StoreHandle { jobs }
    }

    /// One write, committed (with others queued at the same time) before it returns.
    pub fn write(&self, write: Write) -> Result<Written, ApiError> {
        Ok(self.try_write(write)??)
    }

    /// [`StoreHandle::write`], with the store's own error, so that a caller
    /// can tell a conflict (load again and retry) from a failure.
    pub fn try_write(&self, write: Write) -> Result<Result<Written, StoreError>, ApiError> {
        let (reply, answer) = mpsc::channel();
        self.jobs.send(Job::Write(write, reply)).map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())
    }

    /// Several writes queued at once, so that they share commits; each
    /// result in order.
    pub fn write_many(&self, writes: Vec<Write>) -> Result<Vec<Result<Written, StoreError>>, ApiError> {
        let mut answers = Vec::with_capacity(writes.len());
        for write in writes {
            let (reply, answer) = mpsc::channel();
            self.jobs.send(Job::Write(write, reply)).map_err(|_| stopped())?;
            answers.push(answer);
        }
        answers.into_iter().map(|a| a.recv().map_err(|_| stopped())).collect()
    }

    /// Any other store call (loads, lists, cancellations). It may run before
    /// writes queued at the same time are committed, never before a write
    /// whose caller was answered.
    pub fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn ProcessStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (reply, answer) = mpsc::channel();
        let call: Call = Box::new(move |store| {
            let _ = reply.send(f(store));
        });
        self.jobs.send(Job::Call(call)).map_err(|_| stopped())?;
        Ok(answer.recv().map_err(|_| stopped())??)
    }
}

fn flush(
    store: &mut dyn ProcessStore,
    writes: &mut Vec<Write>,
    replies: &mut Vec<mpsc::Sender<Result<Written, StoreError>>>,
) {
    if writes.is_empty() {
        return;
    }
    let batch = std::mem::take(writes);
    let results = std::panic::catch_unwind(AssertUnwindSafe(|| store.write_batch(batch)));
    if let Ok(results) = results {
        for (reply, result) in replies.drain(..).zip(results) {
            let _ = reply.send(result);
        }
    }
    replies.clear();
}
