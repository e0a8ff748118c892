//! The store's own threads, and the group commit. Every store call of the
//! service goes through a `StoreHandle`; writes that queue up while a
//! commit is on its way to disk go into the next batch together, one
//! durable commit for all of them (group commit,
//! [`ProcessStore::write_batch`]). A caller waits for its answer, so it
//! answers its client only after its write is committed.
//!
//! SQLite gets one store thread that runs every call and commits every
//! batch: its writers take turns on one lock anyway. A backend whose
//! connections work at once (PostgreSQL) hands out more handles
//! ([`ProcessStore::concurrent_handles`]), and gets no thread per handle:
//! its writes are committed on the writers' own threads (`Committer`), as
//! many batches in flight as connections, each taking what queued up
//! meanwhile, and its calls (a load, a list, anything but a write) run on
//! the caller's thread with a handle it borrows; one store thread takes
//! the calls that find none free. So a load waits behind no commit, and
//! neither a load nor a leader's write costs a hand-off to a store thread
//! and back (two thread wake-ups). Exactly-once does not rest on a single
//! thread: every save the service makes is version-checked, and an exec
//! takes the instance's row lock.
//!
//! Calls block the calling thread: they are made from the blocking pool.

use super::error::ApiError;
use crate::store::{ProcessStore, StoreError, Write, Written};
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};

/// At most this many writes in one commit.
const MAX_BATCH: usize = 256;

type Call = Box<dyn FnOnce(&mut dyn ProcessStore) + Send>;

enum Job {
    Write(Write, mpsc::Sender<Result<Written, StoreError>>),
    Call(Call),
}

pub struct StoreHandle {
    jobs: mpsc::Sender<Job>,
    /// Handles a caller may borrow for a call of its own (none on SQLite).
    lent: Mutex<Vec<Box<dyn ProcessStore>>>,
    /// Group commit on the callers' own threads (none on SQLite).
    committer: Option<Committer>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Group commit without store threads, for a backend whose connections
/// work at once: a writer queues its write, and if a handle is free it
/// commits everything queued itself, on its own thread (the leader); the
/// others wait for their answers. A leader done with its batch hands the
/// handle to the first writer still queued, who commits the next batch;
/// with no one queued the handle goes back. So there are as many commits
/// in flight as handles, each taking what queued up meanwhile, as with
/// one store thread per handle, but a leader's own write costs no
/// hand-off to a store thread and back (two thread wake-ups).
struct Committer {
    queue: Mutex<Queue>,
}

struct Queue {
    waiting: VecDeque<(Write, Arc<Reply>)>,
    /// Handles no leader holds.
    free: Vec<Box<dyn ProcessStore>>,
}

/// Where a queued write's answer, or the handle to commit with, arrives.
#[derive(Default)]
struct Reply {
    slot: Mutex<Slot>,
    ready: Condvar,
}

#[derive(Default)]
struct Slot {
    /// The write's result; `Some(None)` when its batch panicked.
    done: Option<Option<Result<Written, StoreError>>>,
    /// A handle passed on: commit what is queued.
    lead: Option<Box<dyn ProcessStore>>,
}

impl Reply {
    fn answer(&self, result: Option<Result<Written, StoreError>>) {
        lock(&self.slot).done = Some(result);
        self.ready.notify_one();
    }

    fn hand(&self, store: Box<dyn ProcessStore>) {
        lock(&self.slot).lead = Some(store);
        self.ready.notify_one();
    }
}

impl Committer {
    /// Queues the writes, commits them (and what else is queued) if a
    /// handle is free, and waits for each answer, leading when handed a handle.
    fn write(&self, writes: Vec<Write>) -> Vec<Result<Result<Written, StoreError>, ApiError>> {
        let replies: Vec<Arc<Reply>> = writes.iter().map(|_| Arc::new(Reply::default())).collect();
        let free = {
            let mut queue = lock(&self.queue);
            queue.waiting.extend(writes.into_iter().zip(replies.iter().cloned()));
            queue.free.pop()
        };
        if let Some(store) = free {
            self.lead(store);
        }
        replies.iter().map(|reply| self.wait(reply)).collect()
    }

    fn wait(&self, reply: &Reply) -> Result<Result<Written, StoreError>, ApiError> {
        let mut slot = lock(&reply.slot);
        loop {
            if let Some(store) = slot.lead.take() {
                drop(slot);
                self.lead(store);
                slot = lock(&reply.slot);
                continue;
            }
            if let Some(done) = slot.done.take() {
                return done.ok_or_else(stopped);
            }
            slot = reply.ready.wait(slot).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Commits one batch of what is queued with `store`, answers its
    /// writers, then passes the handle on (or back).
    fn lead(&self, mut store: Box<dyn ProcessStore>) {
        let batch: Vec<(Write, Arc<Reply>)> = {
            let mut queue = lock(&self.queue);
            let n = queue.waiting.len().min(MAX_BATCH);
            queue.waiting.drain(..n).collect()
        };
        if !batch.is_empty() {
            let (writes, replies): (Vec<Write>, Vec<Arc<Reply>>) = batch.into_iter().unzip();
            match std::panic::catch_unwind(AssertUnwindSafe(|| store.write_batch(writes))) {
                Ok(results) => {
                    let mut results = results.into_iter();
                    for reply in &replies {
                        reply.answer(results.next());
                    }
                }
                Err(_) => replies.iter().for_each(|reply| reply.answer(None)),
            }
        }
        let mut queue = lock(&self.queue);
        match queue.waiting.front() {
            Some((_, next)) => next.hand(store),
            None => queue.free.push(store),
        }
    }
}

fn stopped() -> ApiError {
    ApiError::internal("the store stopped; nothing more was committed")
}

impl StoreHandle {
    pub fn start(store: Box<dyn ProcessStore>) -> StoreHandle {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let lent = Mutex::new(store.concurrent_handles());
        // With handles to spare, writes commit on the callers' threads, a
        // commit in flight per connection; one store thread takes the calls
        // that find no handle to borrow.
        let (stores, committer) = match store.concurrent_handles().pop() {
            Some(calls) => {
                let mut free = store.concurrent_handles();
                free.push(store);
                (vec![calls], Some(Committer { queue: Mutex::new(Queue { waiting: VecDeque::new(), free }) }))
            }
            None => (vec![store], None),
        };
        for (n, mut store) in stores.into_iter().enumerate() {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("procdsl-store-{n}"))
                .spawn(move || serve_jobs(&queue, store.as_mut()));
            if let Err(e) = spawned {
                eprintln!("procdsl serve: cannot start store thread {n}: {e}");
            }
        }
        StoreHandle { jobs, lent, committer }
    }

    /// One write, committed (with others queued at the same time) before it returns.
    pub fn write(&self, write: Write) -> Result<Written, ApiError> {
        Ok(self.try_write(write)??)
    }

    /// [`StoreHandle::write`], with the store's own error, so that a caller
    /// can tell a conflict (load again and retry) from a failure.
    pub fn try_write(&self, write: Write) -> Result<Result<Written, StoreError>, ApiError> {
        if let Some(committer) = &self.committer {
            return committer.write(vec![write]).pop().unwrap_or_else(|| Err(stopped()));
        }
        let (reply, answer) = mpsc::channel();
        self.jobs.send(Job::Write(write, reply)).map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())
    }

    /// Several writes queued at once, so that they share commits; each
    /// result in order.
    pub fn write_many(&self, writes: Vec<Write>) -> Result<Vec<Result<Written, StoreError>>, ApiError> {
        if let Some(committer) = &self.committer {
            return committer.write(writes).into_iter().collect();
        }
        let mut answers = Vec::with_capacity(writes.len());
        for write in writes {
            let (reply, answer) = mpsc::channel();
            self.jobs.send(Job::Write(write, reply)).map_err(|_| stopped())?;
            answers.push(answer);
        }
        answers.into_iter().map(|a| a.recv().map_err(|_| stopped())).collect()
    }

    /// [`StoreHandle::call`], with the store's own error kept apart from a
    /// store that stopped.
    pub fn try_call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn ProcessStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<Result<T, StoreError>, ApiError> {
        // A handle lent for reads (PostgreSQL): the call runs here, with no
        // hand-off to a store thread.
        let borrowed = self.lent.lock().unwrap_or_else(|e| e.into_inner()).pop();
        if let Some(mut store) = borrowed {
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| f(store.as_mut())));
            self.lent.lock().unwrap_or_else(|e| e.into_inner()).push(store);
            return result.map_err(|_| stopped());
        }
        let (reply, answer) = mpsc::channel();
        let call: Call = Box::new(move |store| {
            let _ = reply.send(f(store));
        });
        self.jobs.send(Job::Call(call)).map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())
    }

    /// Any other store call (loads, lists, cancellations). It may run before
    /// writes queued at the same time are committed, never before a write
    /// whose caller was answered.
    pub fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn ProcessStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        Ok(self.try_call(f)??)
    }
}

impl Drop for StoreHandle {
    /// The lent handles go to a store thread to be dropped there: the
    /// last handle of a PostgreSQL store closes its connections, blocking,
    /// which must not happen on the runtime's threads (where the service's
    /// state is dropped).
    fn drop(&mut self) {
        let mut lent = std::mem::take(&mut *self.lent.lock().unwrap_or_else(|e| e.into_inner()));
        if let Some(committer) = &self.committer {
            lent.append(&mut lock(&committer.queue).free);
        }
        if lent.is_empty() {
            return;
        }
        let job = Job::Call(Box::new(move |_| drop(lent)));
        if let Err(mpsc::SendError(job)) = self.jobs.send(job) {
            let _ = std::thread::Builder::new().name("procdsl-store-close".into()).spawn(move || drop(job));
        }
    }
}

/// One store thread: takes what is queued (waiting for the first job),
/// runs it and commits its writes together, until the queue closes.
fn serve_jobs(queue: &Mutex<mpsc::Receiver<Job>>, store: &mut dyn ProcessStore) {
    let mut pending = Vec::new();
    loop {
        {
            // Only one thread waits on the queue at a time; the others wait
            // for the lock, and take the next jobs once it is released.
            let queue = queue.lock().unwrap_or_else(|e| e.into_inner());
            match queue.recv() {
                Ok(job) => pending.push(job),
                Err(_) => return,
            }
            while pending.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => pending.push(job),
                    Err(_) => break,
                }
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
                // committed: nobody has been told of those writes yet, so
                // nobody can tell, and the writes stay in one commit (a
                // flush per call would split the group).
                Job::Call(call) => {
                    // A panic in a call loses that call's answer, not the store.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| call(&mut *store)));
                }
            }
        }
        flush(store, &mut writes, &mut replies);
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
