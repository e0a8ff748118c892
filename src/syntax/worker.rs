//! The one thread kept for the second part of a large file's parse
//! (`super::split`), and for a large process's default UIds
//! (`crate::check`), one SHA-1 each, while the checker works through its
//! elements.
//!
//! Starting a thread for each large parse cost about 0.1 ms before the
//! second part began, on a parse of about 2 ms; a thread that waits for
//! work starts it within microseconds. The thread is started on first use
//! and lives as long as the process.
//!
//! One part at a time: while the thread parses for one caller, another
//! caller's [`run`] says `None` and that caller starts its own thread (as
//! every caller did before), so that concurrent loads never queue behind
//! each other.
//!
//! Only such work is sent here. Dropping the syntax trees here after the
//! checker was tried: a load then took 1.7× as long in a loop of loads, the
//! next load's part queued behind the drop and both threads' frees and
//! allocations contending in the allocator (docs/BENCHMARKS.md).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::OnceLock;

/// The thread's stack: as deep as the nesting guard lets pest go, with
/// room (the guard's limits were set on a 2 MiB thread).
pub(super) const STACK_BYTES: usize = 16 << 20;

type Job = Box<dyn FnOnce() + Send>;

/// The way to the thread; `None` when it could not be started.
static JOBS: OnceLock<Option<Sender<Job>>> = OnceLock::new();

/// Whether a part is being parsed (or waits) on the thread.
static BUSY: AtomicBool = AtomicBool::new(false);

/// Runs `job` on the thread and gives the way to its result, or `None`
/// when the thread is busy with another caller's part or cannot be had.
pub(crate) fn run<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Option<Receiver<T>> {
    if BUSY.swap(true, Ordering::Acquire) {
        return None;
    }
    let (done, result) = mpsc::sync_channel(1);
    let sent = send(Box::new(move || {
        // A panic drops `done`, and the caller's `recv` then fails.
        let value = catch_unwind(AssertUnwindSafe(job));
        BUSY.store(false, Ordering::Release);
        if let Ok(value) = value {
            let _ = done.send(value);
        }
    }));
    if !sent {
        BUSY.store(false, Ordering::Release);
        return None;
    }
    Some(result)
}

/// Hands `job` to the thread, starting it on first use.
fn send(job: Job) -> bool {
    JOBS.get_or_init(start).as_ref().is_some_and(|jobs| jobs.send(job).is_ok())
}

fn start() -> Option<Sender<Job>> {
    let (jobs, incoming) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("procdsl-parse".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            for job in incoming {
                job();
            }
        })
        .ok()?;
    Some(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `job` on the thread, waiting up to two seconds while other
    /// tests' parts hold it.
    fn on_thread<T: Send + 'static>(job: impl Fn() -> T + Send + Clone + 'static) -> Receiver<T> {
        (0..200)
            .find_map(|_| {
                run(job.clone()).or_else(|| {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    None
                })
            })
            .expect("the thread takes work within two seconds")
    }

    #[test]
    fn a_job_runs_on_the_kept_thread_and_gives_its_result() {
        let result = on_thread(|| std::thread::current().name().map(str::to_owned));
        assert_eq!(result.recv().expect("the job ran"), Some("procdsl-parse".to_owned()));
    }

    #[test]
    fn a_panicking_job_fails_its_caller_and_leaves_the_thread_working() {
        let failed = on_thread(|| -> u8 { panic!("a job's panic") });
        assert!(failed.recv().is_err(), "the panic must reach the caller as a failed receive");
        assert_eq!(on_thread(|| 7).recv().expect("the thread survived the panic"), 7);
    }
}
