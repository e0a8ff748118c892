//! Process code: load (with the version saved), run, save expecting that
//! version. A short exec does it as one unit on a store thread
//! ([`exec_by_uid_unit`]); a longer one, and everything else here, runs on
//! the blocking pool while the store thread only loads and commits. A save that finds
//! the instance changed meanwhile is a conflict: load again and decide
//! again (an exec then finds its element-instance executed). Timer ticks
//! and signal deliveries go a page of instances at a time, each page
//! committed, so that no request waits behind a burst.

use super::caller::Caller;
use super::error::ApiError;
use super::worker::Step;
use super::{blocking, AppState, Deadline};
use crate::app;
use crate::runtime::descriptor::Descriptor;
use crate::runtime::engine::{ExecError, ExecOutcome, Run, RunOptions};
use crate::runtime::instance::Status;
use crate::store::{self, Save, StoreError, Versioned, Write, Written, PAGE_SIZE};
use axum::http::StatusCode;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

/// How often an exec loads again after a conflict before it gives up
/// (others keep changing the instance).
const MAX_RETRIES: usize = 16;

/// At most this many descriptors in the answer of a signal; `wokenCount`
/// says how many were woken.
pub const MAX_WOKEN_LISTED: usize = 1000;

/// The answer to a run stopped by its deadline: nothing was committed.
pub fn stopped(state: &AppState) -> ApiError {
    state.metrics.runs_stopped.fetch_add(1, Ordering::Relaxed);
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "the request took longer than {} s: its run was stopped and nothing was committed",
            state.limits.request_timeout.as_secs_f64()
        ),
    )
    .with_code("procdsl::service::timeout")
}

fn conflicted() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the instance kept changing while this request ran; try again")
}

/// What an exec decided about an instance it loaded.
enum Decided {
    /// Nothing to save: the element-instance was executed before.
    AlreadyExecuted(Box<Descriptor>),
    /// The instance ran on; its save expects `version`.
    Ran { save: Box<Save>, elements: u64, emitted: bool },
    /// The run passed `until` before it ended; nothing is kept.
    Stopped,
    /// Not run: its process runs long, and this was a unit.
    Long,
}

/// Executes `uid` in the instance loaded (at `version`) and runs it on,
/// until it waits, ends or `until` passes.
fn decide_exec(
    state: &AppState,
    loaded: Versioned,
    uid: Uuid,
    fields: &[(String, String)],
    caller: &Caller,
    until: Instant,
    unit: bool,
) -> Result<Decided, ApiError> {
    let Versioned { mut instance, version } = loaded;
    if instance.was_executed(uid) {
        return Ok(Decided::AlreadyExecuted(Box::new(instance.descriptor(None))));
    }
    // Before "finished": a UId its deadline cancelled says so, also once
    // the instance has ended.
    if let Some(refusal) = instance.deadline_refusal(uid, jiff::Timestamp::now()) {
        return Err(refusal.into());
    }
    if instance.status.is_finished() {
        return Err(ExecError::Finished { instance: instance.id, status: instance.status }.into());
    }
    let code = instance.spec().code.clone();
    let from = instance.waiting.iter().find(|w| w.uid == uid).map(|w| w.element);
    if unit && state.runs_long(&code, from) {
        return Ok(Decided::Long);
    }
    let mut run = Run::new(state.options_for(caller)).until(until);
    let began = Instant::now();
    instance.exec_only(uid, fields, &mut run)?;
    store::run_on(&mut instance, &mut run);
    state.ran(&code, from, began.elapsed());
    if run.timed_out() {
        return Ok(Decided::Stopped);
    }
    let emitted = !run.emitted.is_empty();
    let elements = run.elements_executed;
    let save = Box::new(Save { instance, emitted: run.emitted, expected: Some(version), key: None });
    Ok(Decided::Ran { save, elements, emitted })
}

/// Executes a waiting element-instance by UId and runs its instance on,
/// off the store's thread. Exactly once: of two racing execs, both may
/// run, but only the first save matches the version loaded; the second
/// loads again and finds the element-instance executed.
pub fn exec_by_uid(
    state: &AppState,
    uid: Uuid,
    fields: &[(String, String)],
    caller: &Caller,
    deadline: Deadline,
) -> Result<(ExecOutcome, Descriptor, u64), ApiError> {
    for _ in 0..MAX_RETRIES {
        let loaded = state.store.call(move |st| st.load_by_uid(uid))?;
        let (save, elements, emitted) =
            match decide_exec(state, loaded, uid, fields, caller, deadline.run_until(), false)? {
                Decided::AlreadyExecuted(d) => return Ok((ExecOutcome::AlreadyExecuted, *d, 0)),
                Decided::Stopped | Decided::Long => return Err(stopped(state)),
                Decided::Ran { save, elements, emitted } => (save, elements, emitted),
            };
        let options = state.options_for(caller);
        match state.store.try_write(Write::Save(save))? {
            Ok(Written::Saved(instance)) => {
                if emitted {
                    deliver_thrown(state, instance.id, &options, deadline)?;
                }
                return Ok((ExecOutcome::Executed, instance.descriptor(None), elements));
            }
            Ok(_) => return Err(ApiError::internal("the store answered a save with something else")),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(conflicted())
}

/// How a unit of an exec on a store thread ended.
enum Attempt {
    Answered(Result<(ExecOutcome, Descriptor, u64), ApiError>),
    /// Saved; the signals it threw are still to be delivered.
    Thrown(Descriptor, u64),
    /// Saved over by another request meanwhile: load again.
    Conflict,
    /// Its run outgrew the unit's budget ([`super::Limits::unit_budget`]): the long way.
    TooLong,
    /// Its process runs long: the long way, without trying.
    Long,
}

/// [`exec_by_uid`] for an async handler: the load, the run and the save as
/// one unit of work on a store thread ([`super::worker::StoreHandle::unit`]); a
/// run longer than the unit's budget goes the long way, on the blocking
/// pool, as does a request that conflicted more than once.
pub async fn exec_by_uid_unit(
    state: &AppState,
    uid: Uuid,
    fields: Vec<(String, String)>,
    caller: Caller,
    deadline: Deadline,
) -> Result<(ExecOutcome, Descriptor, u64), ApiError> {
    let fields = Arc::new(fields);
    let caller = Arc::new(caller);
    for _ in 0..2 {
        let (s, f, c) = (state.clone(), fields.clone(), caller.clone());
        let attempt = state
            .store
            .unit(move |st| {
                let until = s.unit_until(deadline);
                let decided = st
                    .load_by_uid(uid)
                    .map_err(ApiError::from)
                    .and_then(|loaded| decide_exec(&s, loaded, uid, &f, &c, until, true));
                match decided {
                    Err(e) => Step::Answer(Attempt::Answered(Err(e))),
                    Ok(Decided::AlreadyExecuted(d)) => {
                        Step::Answer(Attempt::Answered(Ok((ExecOutcome::AlreadyExecuted, *d, 0))))
                    }
                    Ok(Decided::Stopped) => Step::Answer(Attempt::TooLong),
                    Ok(Decided::Long) => Step::Answer(Attempt::Long),
                    Ok(Decided::Ran { save, elements, emitted }) => Step::Commit(
                        Write::Save(save),
                        Box::new(move |written| match written {
                            Ok(Written::Saved(instance)) if emitted => {
                                Attempt::Thrown(instance.descriptor(None), elements)
                            }
                            Ok(Written::Saved(instance)) => {
                                Attempt::Answered(Ok((ExecOutcome::Executed, instance.descriptor(None), elements)))
                            }
                            Ok(_) => Attempt::Answered(Err(ApiError::internal(
                                "the store answered a save with something else",
                            ))),
                            Err(StoreError::Conflict { .. }) => Attempt::Conflict,
                            Err(e) => Attempt::Answered(Err(e.into())),
                        }),
                    ),
                }
            })
            .await?;
        match attempt {
            Attempt::Answered(answer) => return answer,
            Attempt::Thrown(d, elements) => {
                let s = state.clone();
                let options = state.options_for(&caller);
                blocking(move || deliver_thrown(&s, d.process_id, &options, deadline)).await?;
                return Ok((ExecOutcome::Executed, d, elements));
            }
            Attempt::Conflict => continue,
            Attempt::TooLong => {
                state.metrics.runs_rerun.fetch_add(1, Ordering::Relaxed);
                break;
            }
            Attempt::Long => break,
        }
    }
    let s = state.clone();
    blocking(move || exec_by_uid(&s, uid, &fields, &caller, deadline)).await
}

/// Takes the background run of a new instance for this node, before the
/// instance is committed as `Running`: from its first moment it is held,
/// so that no other node takes it for an orphan.
pub fn hold_background(state: &AppState, id: Uuid) -> Result<(), ApiError> {
    state.held.lock().unwrap_or_else(|e| e.into_inner()).insert(id);
    let lease = state.limits.lease;
    match state.store.call(move |st| st.hold_run(id, jiff::Timestamp::now(), lease)) {
        Ok(true) => Ok(()),
        Ok(false) => {
            forget_held(state, id);
            Err(ApiError::internal(format!("another node holds the background run of the new instance {id}")))
        }
        Err(e) => {
            forget_held(state, id);
            Err(e)
        }
    }
}

fn forget_held(state: &AppState, id: Uuid) {
    state.held.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
}

/// Gives a background run back: no longer held by this node, its lease returned.
pub fn release_background(state: &AppState, id: Uuid) {
    forget_held(state, id);
    if let Err(e) = state.store.call(move |st| st.release_runs(&[id])) {
        eprintln!("procdsl serve: background instance {id}: its lease was not given back: {}", e.message);
    }
}

/// Accepts a background run of a committed instance that this node holds
/// ([`hold_background`], or taken over as an orphan): the run waits for a
/// worker, loads the instance, runs it and saves it expecting the version
/// accepted (a cancellation meanwhile wins: the run's result is dropped;
/// so does another node's run, should this node have lost its lease).
/// Then the run is given back. `options` are those of the caller who
/// started it.
pub fn spawn_background(state: AppState, id: Uuid, options: RunOptions) {
    tokio::spawn(async move {
        let permit = state.workers.clone().acquire_owned().await;
        let s = state.clone();
        let result = blocking(move || {
            let _permit = permit;
            let result = run_background(&s, id, options);
            release_background(&s, id);
            result
        })
        .await;
        state.backlog.fetch_sub(1, Ordering::SeqCst);
        match result {
            Ok(Some((d, elements))) => state.metrics.outcome(&d, elements),
            Ok(None) => {}
            Err(e) => {
                if e.status != StatusCode::SERVICE_UNAVAILABLE {
                    state.given_up.lock().unwrap_or_else(|e| e.into_inner()).insert(id);
                }
                eprintln!("procdsl serve: background instance {id}: {}", e.message);
            }
        }
    });
}

fn run_background(state: &AppState, id: Uuid, options: RunOptions) -> Result<Option<(Descriptor, u64)>, ApiError> {
    let Versioned { mut instance, version } = state.store.call(move |st| st.load_versioned(id))?;
    if instance.status != Status::Running {
        return Ok(None);
    }
    let mut run = Run::new(options);
    store::run_on(&mut instance, &mut run);
    let elements = run.elements_executed;
    let emitted = !run.emitted.is_empty();
    let save = Save { instance, emitted: run.emitted, expected: Some(version), key: None };
    match state.store.try_write(Write::Save(Box::new(save)))? {
        Ok(Written::Saved(instance)) => {
            if emitted {
                state.deliverer.notify_one();
            }
            Ok(Some((instance.descriptor(None), elements)))
        }
        // Cancelled (or changed) while it ran: that stays.
        Ok(_) | Err(StoreError::Conflict { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Claims up to `limit` orphaned background runs (see
/// [`crate::store::ProcessStore::claim_orphans`]), no more than the backlog
/// has room for, and runs each here. Returns how many it took. `settled`:
/// only instances nobody saved for a lease (while the service runs:
/// another program may be working on a recent one); otherwise every
/// orphan (at start-up).
pub fn take_over(state: &AppState, limit: usize, settled: bool) -> Result<usize, ApiError> {
    let max = state.limits.max_backlog.max(1);
    let room = max.saturating_sub(state.backlog.load(Ordering::SeqCst)).min(limit);
    if room == 0 {
        return Ok(0);
    }
    let lease = state.limits.lease;
    let ids = state.store.call(move |st| {
        let now = jiff::Timestamp::now();
        let saved_before = if settled {
            now.checked_sub(jiff::SignedDuration::try_from(lease).unwrap_or(jiff::SignedDuration::MAX))
                .unwrap_or(jiff::Timestamp::MIN)
        } else {
            now
        };
        st.claim_orphans(now, saved_before, room, lease)
    })?;
    let mut taken = 0;
    for id in ids {
        if state.given_up.lock().unwrap_or_else(|e| e.into_inner()).contains(&id) {
            // Failed here before; its claim lapses, another node may try.
            continue;
        }
        if !state.held.lock().unwrap_or_else(|e| e.into_inner()).insert(id) {
            continue; // Running here already.
        }
        state.backlog.fetch_add(1, Ordering::SeqCst);
        state.metrics.runs_taken_over.fetch_add(1, Ordering::Relaxed);
        spawn_background(state.clone(), id, state.options());
        taken += 1;
    }
    Ok(taken)
}

/// Work the scheduler does every third of the lease: renew the leases of
/// the background runs this node holds (its heartbeat), take over runs
/// that other nodes left (their leases expired), purge expired sessions.
pub fn start_upkeep(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = (state.limits.lease / 3).max(std::time::Duration::from_millis(10));
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // A failure that repeats is said once.
        let mut last_error: Option<String> = None;
        loop {
            interval.tick().await;
            let s = state.clone();
            let result = blocking(move || upkeep(&s)).await;
            match result {
                Ok(()) => last_error = None,
                Err(e) => {
                    if last_error.as_ref() != Some(&e.message) {
                        eprintln!("procdsl serve: leases and sessions: {}", e.message);
                        last_error = Some(e.message);
                    }
                }
            }
        }
    })
}

fn upkeep(state: &AppState) -> Result<(), ApiError> {
    let held: Vec<Uuid> = state.held.lock().unwrap_or_else(|e| e.into_inner()).iter().copied().collect();
    if !held.is_empty() {
        let lease = state.limits.lease;
        let n = held.len();
        let renewed = state.store.call(move |st| st.renew_runs(&held, jiff::Timestamp::now(), lease))?;
        if renewed < u64::try_from(n).unwrap_or(u64::MAX) {
            // Their leases expired (the store was out of reach for longer
            // than a lease) and another node may run them too: of the two
            // saves, the versioned one that comes second is refused.
            eprintln!("procdsl serve: {} of {n} background run(s) held here lost their lease", n as u64 - renewed);
        }
    }
    if !state.stopping.load(Ordering::SeqCst) {
        take_over(state, PAGE_SIZE, true)?;
    }
    state.store.call(|st| st.purge_sessions(jiff::Timestamp::now()))?;
    Ok(())
}

/// Fires the timers, deadlines and reminders due now, a page at a time
/// (claimed for this node, loaded in one call, run here, committed
/// together), until nothing new is due: the application layer's loop
/// ([`app::fire_due`]) over the store threads. Returns how many instances
/// moved. An instance that cannot be loaded is passed over and said once
/// (`reported` keeps what was said).
pub fn tick(state: &AppState, reported: &mut HashSet<String>) -> Result<usize, ApiError> {
    let now = jiff::Timestamp::now();
    let options =
        crate::runtime::engine::RunOptions { max_steps: state.limits.max_steps, ..store::real_time(Some(now)) };
    let mut moved = 0;
    let mut calls = Threads { state, failed: None };
    let fired = app::fire_due(&mut calls, &options, state.limits.lease, &mut |page| {
        moved += page.moved.len();
        state.metrics.timers_fired.fetch_add(page.moved.len() as u64, Ordering::Relaxed);
        for d in &page.moved {
            state.metrics.outcome(d, 0);
        }
        state.metrics.elements.fetch_add(page.elements, Ordering::Relaxed);
        if page.emitted {
            state.deliverer.notify_one();
        }
    });
    let damaged = match (fired, calls.failed) {
        (Ok(damaged), _) => damaged,
        (Err(_), Some(stopped)) => return Err(stopped),
        (Err(e), None) => return Err(e.into()),
    };
    for e in damaged {
        if reported.insert(e.to_string()) {
            eprintln!("procdsl serve: a due timer cannot fire: {e}");
        }
    }
    Ok(moved)
}

/// The application layer's timer calls, made on the service's store
/// threads. A store that stopped is kept as the service's own error.
struct Threads<'a> {
    state: &'a AppState,
    failed: Option<ApiError>,
}

impl Threads<'_> {
    fn keep<T>(&mut self, result: Result<Result<T, StoreError>, ApiError>) -> Result<T, StoreError> {
        result.unwrap_or_else(|e| {
            let message = e.message.clone();
            self.failed = Some(e);
            Err(StoreError::Unavailable { target: "the service's store".to_string(), message })
        })
    }
}

impl app::PageCalls for Threads<'_> {
    fn claim_timers(
        &mut self,
        now: jiff::Timestamp,
        limit: usize,
        lease: std::time::Duration,
    ) -> Result<app::Claimed, StoreError> {
        let called = self.state.store.try_call(move |st| st.claim_timers(now, limit, lease));
        self.keep(called)
    }

    fn release_timers(&mut self, ids: Vec<Uuid>) -> Result<(), StoreError> {
        let called = self.state.store.try_call(move |st| st.release_timers(&ids));
        self.keep(called)
    }

    fn write_all(&mut self, writes: Vec<Write>) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
        let written = self.state.store.write_many(writes).map(Ok);
        self.keep(written)
    }

    fn signal_page(
        &mut self,
        only: Option<i64>,
        skip: Vec<i64>,
        limit: usize,
    ) -> Result<Option<store::SignalPage>, StoreError> {
        let called = self.state.store.try_call(move |st| st.signal_page(only, &skip, limit));
        self.keep(called)
    }
}

/// What delivering one page did.
pub struct PageDone {
    /// The signal has reached every waiter.
    pub finished: bool,
    pub woken: Vec<Descriptor>,
}

/// Delivers one page of a signal waiting in the outbox (the application
/// layer's [`app::deliver_page`] over the store threads): of row `only`, or
/// of the oldest row nobody else delivers; past `until`, the page ends
/// early. `None`: no such row waits.
pub fn deliver_page(
    state: &AppState,
    only: Option<i64>,
    options: &RunOptions,
    until: Option<std::time::Instant>,
) -> Result<Option<PageDone>, ApiError> {
    let skip: Vec<i64> = match only {
        Some(_) => Vec::new(),
        None => state.claimed.lock().unwrap_or_else(|e| e.into_inner()).iter().copied().collect(),
    };
    let mut calls = Threads { state, failed: None };
    let page = match (app::deliver_page(&mut calls, only, skip, options, until), calls.failed) {
        (Ok(page), _) => page,
        (Err(_), Some(stopped)) => return Err(stopped),
        (Err(e), None) => return Err(e.into()),
    };
    let Some(page) = page else { return Ok(None) };
    for e in &page.failed {
        eprintln!("procdsl serve: signal not delivered to an instance: {e}");
    }
    for note in &page.dropped {
        state.metrics.signals_dropped.fetch_add(1, Ordering::Relaxed);
        eprintln!("procdsl serve: {note}");
    }
    state.metrics.elements.fetch_add(page.elements, Ordering::Relaxed);
    for d in &page.woken {
        state.metrics.outcome(d, 0);
    }
    if page.emitted {
        state.deliverer.notify_one();
    }
    Ok(Some(PageDone { finished: page.finished, woken: page.woken }))
}

/// The deliverer: delivers every signal in the outbox, page by page, when
/// told that one was queued, and every tick (signals queued by another
/// process or before a restart).
pub fn start_deliverer(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // A failure that repeats every tick is said once.
        let mut last_error = None;
        loop {
            let _ = tokio::time::timeout(state.limits.tick_interval, state.deliverer.notified()).await;
            loop {
                let s = state.clone();
                match blocking(move || deliver_page(&s, None, &s.options(), None)).await {
                    Ok(Some(_)) => last_error = None,
                    Ok(None) => break,
                    Err(e) => {
                        if last_error.as_ref() != Some(&e.message) {
                            eprintln!("procdsl serve: signals: {}", e.message);
                            last_error = Some(e.message);
                        }
                        break;
                    }
                }
            }
        }
    })
}

/// A signal thrown from outside: delivered by this request until it has
/// reached every waiter or the deadline comes (the deliverer then goes
/// on). Returns the instances it woke (the first [`MAX_WOKEN_LISTED`]), how
/// many, and whether it reached every waiter.
/// The instances it wakes run on behalf of `caller`.
pub fn throw(
    state: &AppState,
    name: String,
    caller: &Caller,
    deadline: Deadline,
) -> Result<(Vec<Descriptor>, usize, bool), ApiError> {
    let Some(row) = state.store.call(move |st| st.throw(&name))? else {
        return Ok((Vec::new(), 0, true));
    };
    let mut woken = Vec::new();
    let mut count = 0;
    let complete = deliver_rows(state, &[row], &state.options_for(caller), deadline, &mut |page| {
        count += page.len();
        let room = MAX_WOKEN_LISTED.saturating_sub(woken.len());
        woken.extend(page.into_iter().take(room));
    })?;
    Ok((woken, count, complete))
}

/// The signals a request's run threw reach their waiters before it answers,
/// as far as its deadline allows (the deliverer does the rest, and the
/// signals that those waiters throw in turn). The waiters run with
/// `options`, those of the run that threw them.
pub fn deliver_thrown(
    state: &AppState,
    source: Uuid,
    options: &RunOptions,
    deadline: Deadline,
) -> Result<(), ApiError> {
    let rows = state.store.call(move |st| st.thrown_by(source))?;
    deliver_rows(state, &rows, options, deadline, &mut |_| {})?;
    Ok(())
}

/// Delivers outbox rows page by page until done (true) or the deadline.
/// The deliverer leaves them alone meanwhile.
fn deliver_rows(
    state: &AppState,
    rows: &[i64],
    options: &RunOptions,
    deadline: Deadline,
    woken: &mut dyn FnMut(Vec<Descriptor>),
) -> Result<bool, ApiError> {
    state.claimed.lock().unwrap_or_else(|e| e.into_inner()).extend(rows);
    let _release = Release { state: state.clone(), rows: rows.to_vec() };
    let until = deadline.run_until();
    for &row in rows {
        loop {
            if std::time::Instant::now() >= until {
                return Ok(false);
            }
            match deliver_page(state, Some(row), options, Some(until))? {
                None => break,
                Some(page) => {
                    let finished = page.finished;
                    woken(page.woken);
                    if finished {
                        break;
                    }
                }
            }
        }
    }
    Ok(true)
}

/// Hands a row back to the deliverer, also when the request stops early.
struct Release {
    state: AppState,
    rows: Vec<i64>,
}

impl Drop for Release {
    fn drop(&mut self) {
        let mut claimed = self.state.claimed.lock().unwrap_or_else(|e| e.into_inner());
        for row in &self.rows {
            claimed.remove(row);
        }
        drop(claimed);
        self.state.deliverer.notify_one();
    }
}
