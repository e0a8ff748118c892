//! Signals and timers over the store trait: a page of instances loaded in
//! one call, run here, committed in one write, until nothing is left. The
//! same primitives as the service's deliverer and scheduler
//! (`signal_page`, `SignalPage::run`, `due`, `fire_page`), run to the end
//! in the caller's thread instead of in the background.

use super::Result;
use crate::runtime::descriptor::Descriptor;
use crate::runtime::engine::RunOptions;
use crate::store::{fire_page, real_time, ProcessStore, StoreError, Write, Written, PAGE_SIZE};
use jiff::Timestamp;
use std::collections::HashSet;

/// A page refused because one of its instances changed meanwhile is loaded
/// again, at most this many times in one delivery (others keep changing them).
const MAX_CONFLICTS: usize = 100;

/// Throws a signal from outside to every stored instance waiting for it,
/// runs each on, and returns their descriptors (also of those that the
/// signals they throw in turn woke up).
pub fn signal(store: &mut dyn ProcessStore, name: &str, options: RunOptions) -> Result<Vec<Descriptor>> {
    store.throw(name)?;
    deliver_all(store, &options)
}

/// Delivers every signal waiting in the outbox, page by page, each page
/// one write, and returns the descriptors of the instances woken (each
/// once, as it is last). A signal that was not passed on (a loop) is
/// reported after the rest was delivered: what was delivered stays committed.
pub fn deliver_all(store: &mut dyn ProcessStore, options: &RunOptions) -> Result<Vec<Descriptor>> {
    let mut woken: Vec<Descriptor> = Vec::new();
    let mut dropped = None;
    let mut conflicts = 0;
    while let Some(page) = store.signal_page(None, &[], PAGE_SIZE)? {
        let run = page.run(options, None);
        dropped = dropped.or(run.failed.into_iter().next());
        match store.write_batch(vec![Write::Delivered(Box::new(run.write))]).pop() {
            Some(Ok(Written::Delivered(notes))) => dropped = dropped.or(notes.into_iter().next()),
            // Another command saved one of the page's instances meanwhile:
            // load the page again.
            Some(Err(StoreError::Conflict { .. })) if conflicts < MAX_CONFLICTS => {
                conflicts += 1;
                continue;
            }
            Some(Err(e)) => return Err(e),
            // Not what the trait promises: stop rather than load the same page forever.
            Some(Ok(_)) | None => {
                return Err(StoreError::Unavailable {
                    target: store.display_name(),
                    message: "the store answered a page of a signal's delivery with something else".to_string(),
                })
            }
        }
        for d in run.woken {
            match woken.iter_mut().find(|w| w.process_id == d.process_id) {
                Some(w) => *w = d,
                None => woken.push(d),
            }
        }
    }
    match dropped {
        Some(e) => Err(e),
        None => Ok(woken),
    }
}

/// How long a `tick` holds the timers it claims, at most: it gives them
/// back as soon as a page is committed.
const TICK_LEASE: std::time::Duration = std::time::Duration::from_secs(60);

/// Fires a page of claimed instances and commits it; false when the page
/// held only instances seen before: nothing more is due (or their timers
/// are not due to the millisecond yet).
fn fire_claimed(
    store: &mut dyn ProcessStore,
    page: Vec<crate::store::Versioned>,
    options: &crate::runtime::engine::RunOptions,
    seen: &mut HashSet<uuid::Uuid>,
    moved: &mut Vec<Descriptor>,
) -> Result<bool> {
    if !page.iter().any(|v| seen.insert(v.instance.id)) {
        return Ok(false);
    }
    let (saves, descriptors, _) = fire_page(page, options);
    let writes = saves.into_iter().map(|s| Write::Save(Box::new(s))).collect();
    for (result, d) in store.write_batch(writes).into_iter().zip(descriptors) {
        match result {
            Ok(_) => moved.push(d),
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Fires every timer due at `now` in the stored instances and runs each
/// instance on; returns the descriptors of the instances that moved (and
/// of those their signals woke). A page of instances at a time, each page
/// one write; an instance changed meanwhile by another command is left to
/// the next tick. An instance that cannot be loaded does not hold the
/// others up: its error is returned after the rest fired.
pub fn tick(store: &mut dyn ProcessStore, now: Timestamp) -> Result<Vec<Descriptor>> {
    let options = real_time(Some(now));
    let mut moved = Vec::new();
    let mut seen = HashSet::new();
    let mut failed = None;
    loop {
        // Claimed as the service's nodes claim them, so that a `tick` beside
        // running nodes never fires what one of them is firing.
        let (page, damaged) = store.claim_timers(now, PAGE_SIZE, TICK_LEASE)?;
        failed = failed.or(damaged.into_iter().next());
        let claimed: Vec<uuid::Uuid> = page.iter().map(|v| v.instance.id).collect();
        let fired = fire_claimed(store, page, &options, &mut seen, &mut moved);
        // Given back also after a failure: the claims are not left to expire.
        if !claimed.is_empty() {
            store.release_timers(&claimed)?;
        }
        if !fired? {
            break;
        }
    }
    let woken = deliver_all(store, &options)?;
    moved.extend(woken);
    match failed {
        Some(e) => Err(e),
        None => Ok(moved),
    }
}
