//! What keeps sign-ins cheap at any load: password checks run on a few
//! threads of their own, each reusing one argon2 memory block, so a flood of
//! wrong passwords costs at most `threads × m` of memory (not `m` per
//! request); a sign-in that cannot get a check within `queue_wait` is
//! refused with 503; repeated failures for one user or from one client
//! address are slowed down (429 with `Retry-After`) before any argon2 work.

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, Semaphore};

/// Failures allowed for one user before each further attempt must wait.
pub const USER_FREE_FAILURES: u32 = 5;
/// Failures allowed from one client address before each further attempt must wait.
pub const ADDRESS_FREE_FAILURES: u32 = 20;
/// The longest wait after repeated failures.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Failures older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// At most this many users and addresses are tracked; beyond, the stalest go.
const MAX_TRACKED: usize = 100_000;

struct Job {
    stored: String,
    password: String,
    reply: oneshot::Sender<bool>,
}

/// A small pool of threads that check passwords, at most `threads` at once.
pub struct PasswordChecks {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    slots: Arc<Semaphore>,
    queue_wait: Duration,
}

impl PasswordChecks {
    /// Starts `threads` checker threads (at least one).
    pub fn start(threads: usize, queue_wait: Duration) -> PasswordChecks {
        let threads = threads.max(1);
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("procdsl-signin-{i}")).spawn(move || {
                // One memory block per thread, reused by every check: it grows
                // to the largest `m` of the users file and stays there.
                let mut blocks: Vec<Block> = Vec::new();
                loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(e) => e.into_inner().recv(),
                    };
                    let Ok(job) = job else { return };
                    let ok = verify_with(&job.stored, job.password.as_bytes(), &mut blocks);
                    let _ = job.reply.send(ok);
                }
            });
            if let Err(e) = spawned {
                eprintln!("procdsl serve: cannot start a password-check thread: {e}");
            }
        }
        PasswordChecks { jobs: Mutex::new(Some(tx)), slots: Arc::new(Semaphore::new(threads)), queue_wait }
    }

    /// Checks `password` against the PHC hash `stored` on one of the pool's
    /// threads; waits at most `queue_wait` for one to be free (`None`:
    /// every check stayed busy).
    pub async fn check(&self, stored: &str, password: &str) -> Option<bool> {
        let permit = match tokio::time::timeout(self.queue_wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            _ => return None,
        };
        let (reply, answer) = oneshot::channel();
        let job = Job { stored: stored.to_string(), password: password.to_string(), reply };
        let sent = match self.jobs.lock() {
            Ok(jobs) => jobs.as_ref().map(|tx| tx.send(job).is_ok()),
            Err(e) => e.into_inner().as_ref().map(|tx| tx.send(job).is_ok()),
        };
        if sent != Some(true) {
            return None;
        }
        let ok = answer.await.unwrap_or(false);
        drop(permit);
        Some(ok)
    }
}

/// Checks a password against a PHC argon2 hash, computing in `blocks`
/// (grown when the hash needs more) instead of a fresh allocation.
pub fn verify_with(stored: &str, password: &[u8], blocks: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else { return false };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&hash) else { return false };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
    let needed = params.block_count();
    if blocks.len() < needed {
        blocks.resize(needed, Block::default());
    }
    let expected = expected.as_bytes();
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params);
    if argon2.hash_password_into_with_memory(password, salt, &mut out, &mut blocks[..needed]).is_err() {
        return false;
    }
    // Constant time: every byte is compared.
    out.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Counts recent sign-in failures per user and per client address.
#[derive(Default)]
pub struct Throttle {
    users: Mutex<HashMap<String, Failures>>,
    addresses: Mutex<HashMap<IpAddr, Failures>>,
}

/// How long to wait after `count` failures, `free` of them without a wait:
/// one second after the first over, doubling, at most [`MAX_BACKOFF`].
fn backoff(count: u32, free: u32) -> Option<Duration> {
    let over = count.checked_sub(free)?;
    let secs = 1u64.checked_shl(over).unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs).min(MAX_BACKOFF))
}

fn wait_left<K: std::hash::Hash + Eq>(map: &Mutex<HashMap<K, Failures>>, key: &K, free: u32) -> Option<Duration> {
    let map = map.lock().unwrap_or_else(|e| e.into_inner());
    let f = map.get(key)?;
    let until = f.last + backoff(f.count, free)?;
    until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
}

fn note<K: std::hash::Hash + Eq>(map: &Mutex<HashMap<K, Failures>>, key: K) {
    let now = Instant::now();
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= MAX_TRACKED {
        map.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
        if map.len() >= MAX_TRACKED {
            map.clear();
        }
    }
    let f = map.entry(key).or_insert(Failures { count: 0, last: now });
    if now.duration_since(f.last) >= FORGET_AFTER {
        f.count = 0;
    }
    f.count = f.count.saturating_add(1);
    f.last = now;
}

impl Throttle {
    /// How long this user or address must still wait, if at all.
    pub fn wait(&self, user: &str, address: Option<IpAddr>) -> Option<Duration> {
        let by_user = wait_left(&self.users, &user.to_string(), USER_FREE_FAILURES);
        let by_address = address.and_then(|a| wait_left(&self.addresses, &a, ADDRESS_FREE_FAILURES));
        by_user.max(by_address)
    }

    pub fn failed(&self, user: &str, address: Option<IpAddr>) {
        note(&self.users, user.to_string());
        if let Some(a) = address {
            note(&self.addresses, a);
        }
    }

    /// A success forgets the user's failures (not the address's: one good
    /// password must not reset guessing at other users).
    pub fn succeeded(&self, user: &str) {
        self.users.lock().unwrap_or_else(|e| e.into_inner()).remove(user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifying_with_reused_memory_agrees_with_argon2() {
        let hash = super::super::auth::hash_password("s3cret").unwrap();
        let mut blocks = Vec::new();
        assert!(verify_with(&hash, b"s3cret", &mut blocks));
        assert!(!verify_with(&hash, b"s3cres", &mut blocks));
        assert!(!verify_with("not a hash", b"s3cret", &mut blocks));
        assert_eq!(blocks.len(), Params::DEFAULT_M_COST as usize);
    }

    #[test]
    fn failures_beyond_the_free_ones_must_wait_longer_each_time() {
        assert_eq!(backoff(4, 5), None);
        assert_eq!(backoff(5, 5), Some(Duration::from_secs(1)));
        assert_eq!(backoff(7, 5), Some(Duration::from_secs(4)));
        assert_eq!(backoff(200, 5), Some(MAX_BACKOFF));
        let t = Throttle::default();
        for _ in 0..USER_FREE_FAILURES {
            assert_eq!(t.wait("Ada", None), None);
            t.failed("Ada", None);
        }
        assert!(t.wait("Ada", None).is_some());
        assert_eq!(t.wait("Bob", None), None);
        t.succeeded("Ada");
        assert_eq!(t.wait("Ada", None), None);
    }
}
