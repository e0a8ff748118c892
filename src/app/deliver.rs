//! Signals and timers over the store trait: a page of instances loaded in
//! one call, run here, committed in one write, until nothing is left. The
//! same primitives as the service's deliverer and scheduler
//! (`signal_page`, `SignalPage::run`, `due`, `fire_page`), run to the end
//! in the caller's thread instead of in the background.

use super::Result;
use crate::runtime::descriptor::Descriptor;
use crate::runtime::engine::RunOptions;
use crate::store::{fire_page, real_time, ProcessStore, SignalPage, StoreError, Versioned, Write, Written, PAGE_SIZE};
use jiff::Timestamp;
use std::collections::HashSet;
use std::time::Duration;
use uuid::Uuid;

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

/// What delivering one page of a signal did.
pub struct PageDelivered {
    /// The signal has reached every waiter (false also after a conflict:
    /// the page is loaded again).
    pub finished: bool,
    /// One of the page's instances changed meanwhile: nothing was written.
    pub conflict: bool,
    /// The instances woken, committed.
    pub woken: Vec<Descriptor>,
    /// Elements the page's runs executed.
    pub elements: u64,
    /// Whether a woken instance threw signals in turn.
    pub emitted: bool,
    /// Instances the signal could not be delivered to (they cannot be loaded or run).
    pub failed: Vec<StoreError>,
    /// Signals thrown by the woken instances that were not passed on (a loop).
    pub dropped: Vec<StoreError>,
}

/// Delivers one page of a signal waiting in the outbox: of row `only`, or
/// of the oldest row not in `skip`; past `until`, the page ends early. Its
/// saves are one write, all or none. `None`: no such row waits.
pub fn deliver_page<S: PageCalls + ?Sized>(
    store: &mut S,
    only: Option<i64>,
    skip: Vec<i64>,
    options: &RunOptions,
    until: Option<std::time::Instant>,
) -> Result<Option<PageDelivered>> {
    let Some(page) = store.signal_page(only, skip, PAGE_SIZE)? else {
        return Ok(None);
    };
    let run = page.run(options, until);
    let finished = run.write.cursor.is_none();
    let emitted = run.write.saves.iter().any(|s| !s.emitted.is_empty());
    let mut done = PageDelivered {
        finished,
        conflict: false,
        woken: Vec::new(),
        elements: 0,
        emitted: false,
        failed: run.failed,
        dropped: Vec::new(),
    };
    match store.write_all(vec![Write::Delivered(Box::new(run.write))])?.pop() {
        Some(Ok(Written::Delivered(notes))) => {
            done.dropped = notes;
            done.woken = run.woken;
            done.elements = run.elements;
            done.emitted = emitted;
        }
        Some(Err(StoreError::Conflict { .. })) => {
            done.finished = false;
            done.conflict = true;
        }
        Some(Err(e)) => return Err(e),
        // Not what the trait promises: stop rather than load the same page forever.
        Some(Ok(_)) | None => {
            return Err(StoreError::Unavailable {
                target: "the store".to_string(),
                message: "the store answered a page of a signal's delivery with something else".to_string(),
            })
        }
    }
    Ok(Some(done))
}

/// Delivers every signal waiting in the outbox, page by page, each page
/// one write, and returns the descriptors of the instances woken (each
/// once, as it is last). A signal that was not passed on (a loop) is
/// reported after the rest was delivered: what was delivered stays committed.
pub fn deliver_all(store: &mut dyn ProcessStore, options: &RunOptions) -> Result<Vec<Descriptor>> {
    let mut woken: Vec<Descriptor> = Vec::new();
    let mut dropped = None;
    let mut conflicts = 0;
    while let Some(page) = deliver_page(store, None, Vec::new(), options, None)? {
        dropped = dropped.or(page.failed.into_iter().next()).or(page.dropped.into_iter().next());
        // Another command saved one of the page's instances meanwhile: the
        // page is loaded again, a bounded number of times.
        if page.conflict {
            conflicts += 1;
            if conflicts > MAX_CONFLICTS {
                return Err(StoreError::Unavailable {
                    target: store.display_name(),
                    message: format!("the instances waiting for a signal kept changing ({MAX_CONFLICTS} tries)"),
                });
            }
        }
        for d in page.woken {
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
const TICK_LEASE: Duration = Duration::from_secs(60);

/// The store calls that firing timers and delivering signals make, so
/// that one loop serves a store in hand (the commands, the REPL) and the
/// service's store threads.
pub trait PageCalls {
    /// See [`ProcessStore::claim_timers`].
    fn claim_timers(&mut self, now: Timestamp, limit: usize, lease: Duration) -> Result<Claimed>;
    /// See [`ProcessStore::release_timers`].
    fn release_timers(&mut self, ids: Vec<Uuid>) -> Result<()>;
    /// Commits writes, each with its own result (see [`ProcessStore::write_batch`]).
    fn write_all(&mut self, writes: Vec<Write>) -> Result<Vec<Result<Written>>>;
    /// See [`ProcessStore::signal_page`].
    fn signal_page(&mut self, only: Option<i64>, skip: Vec<i64>, limit: usize) -> Result<Option<SignalPage>>;
}

/// A page of claimed instances, loaded, and those that could not be.
pub type Claimed = (Vec<Versioned>, Vec<StoreError>);

impl PageCalls for dyn ProcessStore + '_ {
    fn claim_timers(&mut self, now: Timestamp, limit: usize, lease: Duration) -> Result<Claimed> {
        ProcessStore::claim_timers(self, now, limit, lease)
    }

    fn release_timers(&mut self, ids: Vec<Uuid>) -> Result<()> {
        ProcessStore::release_timers(self, &ids)
    }

    fn write_all(&mut self, writes: Vec<Write>) -> Result<Vec<Result<Written>>> {
        Ok(self.write_batch(writes))
    }

    fn signal_page(&mut self, only: Option<i64>, skip: Vec<i64>, limit: usize) -> Result<Option<SignalPage>> {
        ProcessStore::signal_page(self, only, &skip, limit)
    }
}

/// What firing one page of due instances committed.
pub struct PageFired {
    /// The descriptors of the instances saved (a conflict leaves one to the next tick).
    pub moved: Vec<Descriptor>,
    /// Elements the page's runs executed.
    pub elements: u64,
    /// Whether a saved run threw signals (queued for delivery with it).
    pub emitted: bool,
}

/// Fires the timers, deadlines and reminders due at `now`, a page of
/// claimed instances at a time: run here, committed in one write, the
/// claims given back (also after a failure: they are not left to expire).
/// Ends when a page holds only instances seen before: nothing more is due
/// now. Returns the instances that could not be loaded, after the rest fired.
pub fn fire_due<S: PageCalls + ?Sized>(
    store: &mut S,
    options: &RunOptions,
    lease: Duration,
    on_page: &mut dyn FnMut(PageFired),
) -> Result<Vec<StoreError>> {
    let now = options.now.unwrap_or_else(Timestamp::now);
    let mut seen = HashSet::new();
    let mut damaged = Vec::new();
    loop {
        let (page, failed) = store.claim_timers(now, PAGE_SIZE, lease)?;
        damaged.extend(failed);
        let claimed: Vec<Uuid> = page.iter().map(|v| v.instance.id).collect();
        let fired =
            if page.iter().any(|v| seen.insert(v.instance.id)) { commit_page(store, page, options) } else { Ok(None) };
        if !claimed.is_empty() {
            store.release_timers(claimed)?;
        }
        match fired? {
            Some(page) => on_page(page),
            None => return Ok(damaged),
        }
    }
}

fn commit_page<S: PageCalls + ?Sized>(
    store: &mut S,
    page: Vec<Versioned>,
    options: &RunOptions,
) -> Result<Option<PageFired>> {
    let (saves, descriptors, elements) = fire_page(page, options);
    let emitted = saves.iter().any(|s| !s.emitted.is_empty());
    let writes = saves.into_iter().map(|s| Write::Save(Box::new(s))).collect();
    let mut moved = Vec::new();
    for (result, d) in store.write_all(writes)?.into_iter().zip(descriptors) {
        match result {
            Ok(_) => moved.push(d),
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(PageFired { moved, elements, emitted }))
}

/// Fires every timer, deadline and reminder due at `now` in the stored
/// instances and runs each instance on; returns the descriptors of the
/// instances that moved (and of those their signals woke). Claimed as the
/// service's nodes claim them, so that a `tick` beside running nodes never
/// fires what one of them is firing. An instance that cannot be loaded
/// does not hold the others up: its error is returned after the rest fired.
pub fn tick(store: &mut dyn ProcessStore, now: Timestamp) -> Result<Vec<Descriptor>> {
    let options = real_time(Some(now));
    let mut moved = Vec::new();
    let damaged = fire_due(store, &options, TICK_LEASE, &mut |page| moved.extend(page.moved))?;
    let woken = deliver_all(store, &options)?;
    moved.extend(woken);
    match damaged.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(moved),
    }
}
