//! Element-instance UIds. Every activation gets a fresh random UUID v4; they
//! are capabilities (whoever knows one can execute the element), so they
//! come from the operating system's CSPRNG. Drawing 4 KiB at a time makes
//! one cost a copy instead of a generator call per element.

use std::cell::RefCell;
use uuid::Uuid;

const POOL_BYTES: usize = 4096;

struct Pool {
    bytes: Box<[u8; POOL_BYTES]>,
    used: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool { bytes: Box::new([0; POOL_BYTES]), used: POOL_BYTES });
}

/// A fresh random UUID v4.
pub fn new_uid() -> Uuid {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.used + 16 > POOL_BYTES {
            if getrandom::fill(&mut pool.bytes[..]).is_err() {
                return Uuid::new_v4();
            }
            pool.used = 0;
        }
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&pool.bytes[pool.used..pool.used + 16]);
        pool.used += 16;
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_version_4_and_distinct_across_refills() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..(POOL_BYTES / 16) * 3 {
            let uid = new_uid();
            assert_eq!(uid.get_version_num(), 4);
            assert!(seen.insert(uid), "a UId repeated");
        }
    }
}
