//! The store's own threads. Every store call of the service goes through
//! them; writes that queue up while a commit is on its way to disk go into
//! the next batch together, one durable commit for all of them (group
//! commit, [`ProcessStore::write_batch`]). A caller waits for its answer,
//! so it answers its client only after its write is committed.
//!
//! SQLite gets one thread: its writers take turns on one lock anyway. A
//! backend whose connections work at once (PostgreSQL) hands out more
//! handles ([`ProcessStore::concurrent_handles`]), and each gets a thread of
//! its own taking jobs from the same queue: loads no longer wait behind
//! commits, and commits of different instances overlap. Exactly-once does
//! not rest on the single thread: every save the service makes is
//! version-checked, and an exec takes the instance's row lock.
//!
//! Such a backend also lends handles to the callers: a call (a load, a
//! list, anything but a write) then runs on the caller's own thread, with
//! no hand-off to a store thread and back (two thread wake-ups fewer per
//! call). Writes still go through the store threads, to be committed
//! together.
//!
//! Calls block the calling thread: they are made from the blocking pool.
//!
//! A request's whole unit of work (its load, its run and its save) may also
//! go to a store thread at once ([`StoreHandle::unit`]): the request's task
//! then waits for one answer, with no trip through the blocking pool and
//! no thread waiting in between (two thread hand-offs per request instead
//! of four or five). Its run is given a short budget there
//! ([`UNIT_BUDGET`]); a longer run gives up and the request does its work
//! the long way, on the blocking pool, so that a costly process never holds
//! a store thread for long.

use super::error::ApiError;
use crate::store::{ProcessStore, StoreError, Write, Written};
use std::panic::AssertUnwindSafe;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// At most this many writes in one commit.
const MAX_BATCH: usize = 256;

/// How long a run may take on a store thread ([`StoreHandle::unit`]) before
/// it stops, uncommitted, and its request runs again on the blocking pool
/// (`serve --unit-budget-us`). The runs of most processes take tens of
/// microseconds; a longer run gains little from saving two thread
/// hand-offs, and on SQLite's one store thread it would keep other runs
/// from the other cores.
pub const UNIT_BUDGET: Duration = Duration::from_micros(250);

/// At most this many units in one store thread's batch.
const MAX_UNITS: usize = 16;

/// A batch whose units have run this long commits the writes it has.
const UNITS_BEFORE_COMMIT: Duration = Duration::from_millis(10);

type Call = Box<dyn FnOnce(&mut dyn ProcessStore) + Send>;

/// What to do with a write's result once its batch is committed.
type Then = Box<dyn FnOnce(Result<Written, StoreError>) + Send>;

/// A unit of work on a store thread; a write it wants committed comes back
/// with what to do once it is.
type Unit = Box<dyn FnOnce(&mut dyn ProcessStore) -> Option<(Write, Then)> + Send>;

enum Job {
    Write(Write, mpsc::Sender<Result<Written, StoreError>>),
    Call(Call),
    Unit(Unit),
}

/// What a unit of work ([`StoreHandle::unit`]) decided on its store thread:
/// its answer, or a write to commit with the next batch and the answer to
/// make of the write's result.
pub enum Step<T> {
    Answer(T),
    Commit(Write, Box<dyn FnOnce(Result<Written, StoreError>) -> T + Send>),
}

pub struct StoreHandle {
    jobs: mpsc::Sender<Job>,
    /// Handles a caller may borrow for a call of its own (none on SQLite).
    lent: Mutex<Vec<Box<dyn ProcessStore>>>,
}

fn stopped() -> ApiError {
    ApiError::internal("the store stopped; nothing more was committed")
}

impl StoreHandle {
    pub fn start(store: Box<dyn ProcessStore>) -> StoreHandle {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let lent = Mutex::new(store.concurrent_handles());
        let mut stores = store.concurrent_handles();
        stores.insert(0, store);
        for (n, mut store) in stores.into_iter().enumerate() {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("procdsl-store-{n}"))
                .spawn(move || serve_jobs(&queue, store.as_mut()));
            if let Err(e) = spawned {
                eprintln!("procdsl serve: cannot start store thread {n}: {e}");
            }
        }
        StoreHandle { jobs, lent }
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

    /// Runs `work` on a store thread and commits the write it asks for with
    /// that thread's next batch; the answer arrives without blocking the
    /// caller's thread (see the module's documentation).
    pub async fn unit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut dyn ProcessStore) -> Step<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let unit: Unit = Box::new(move |store| match work(store) {
            Step::Answer(value) => {
                let _ = reply.send(value);
                None
            }
            Step::Commit(write, then) => {
                let then: Then = Box::new(move |result| {
                    let _ = reply.send(then(result));
                });
                Some((write, then))
            }
        });
        self.jobs.send(Job::Unit(unit)).map_err(|_| stopped())?;
        // A unit that panicked dropped its reply: nothing of it was committed.
        answer.await.map_err(|_| ApiError::internal("the request's work stopped unexpectedly; nothing was committed"))
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
        let lent = std::mem::take(&mut *self.lent.lock().unwrap_or_else(|e| e.into_inner()));
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
            // Units load and run one after another here: past a few, the
            // next store thread takes the rest, and both run at once.
            let mut units = 0;
            while pending.len() < MAX_BATCH && units < MAX_UNITS {
                match queue.try_recv() {
                    Ok(job) => {
                        units += usize::from(matches!(job, Job::Unit(_)));
                        pending.push(job);
                    }
                    Err(_) => break,
                }
            }
        }
        let mut writes = Vec::new();
        let mut replies = Vec::new();
        let started = Instant::now();
        for job in pending.drain(..) {
            // Units that ran long (each up to its budget) commit what is
            // ready, so that no write waits behind many of them.
            if started.elapsed() > UNITS_BEFORE_COMMIT {
                flush(store, &mut writes, &mut replies);
            }
            match job {
                Job::Write(w, reply) => {
                    writes.push(w);
                    replies.push(Box::new(move |result| {
                        let _ = reply.send(result);
                    }) as Then);
                }
                // Its load and its run now; its write with the batch.
                Job::Unit(unit) => {
                    if let Ok(Some((w, then))) = std::panic::catch_unwind(AssertUnwindSafe(|| unit(&mut *store))) {
                        writes.push(w);
                        replies.push(then);
                    }
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

fn flush(store: &mut dyn ProcessStore, writes: &mut Vec<Write>, replies: &mut Vec<Then>) {
    if writes.is_empty() {
        return;
    }
    let batch = std::mem::take(writes);
    let results = std::panic::catch_unwind(AssertUnwindSafe(|| store.write_batch(batch)));
    if let Ok(results) = results {
        for (then, result) in replies.drain(..).zip(results) {
            // A panic here loses that one answer, not the store thread.
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| then(result)));
        }
    }
    replies.clear();
}
