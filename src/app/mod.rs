//! The application layer: what every front end does with stored
//! instances, written once over [`ProcessStore`] so that a backend plugs in
//! at one place (`store::open`) and a front end only translates its own
//! input and output. The CLI's store commands and the REPL's `--store` go
//! through here; docs/STORE.md ("The application layer") says where a new
//! backend or front end plugs in.
//!
//! Each function is one command's worth of work: it runs process code
//! outside the store (or inside its exactly-once `exec`), saves, and
//! delivers the signals that the runs threw before it returns, so that a
//! command leaves nothing half done.

mod deliver;
mod lookup;

pub use deliver::{deliver_all, deliver_page, fire_due, signal, tick, Claimed, PageCalls, PageDelivered, PageFired};
pub use lookup::{resolve_element_instance, resolve_instance, LookupError, CANDIDATES};

use crate::check::spec::Program;
use crate::runtime::descriptor::Descriptor;
use crate::runtime::engine::{self, ExecOutcome, Run, RunOptions};
use crate::runtime::instance::Instance;
use crate::store::{run_on, CancelOutcome, InstanceSummary, ListFilter, ProcessStore, StoreError, Versioned};
use jiff::Timestamp;
use std::sync::Arc;
use uuid::Uuid;

type Result<T> = std::result::Result<T, StoreError>;

/// Runs an instance (a new one, typically) until it waits or ends, saves
/// it with its program, and delivers the signals it threw to the stored
/// instances waiting for them.
pub fn run(store: &mut dyn ProcessStore, instance: &mut Instance, options: RunOptions) -> Result<Run> {
    let mut run = Run::new(options);
    run_on(instance, &mut run);
    store.save_run(instance, &run)?;
    if !run.emitted.is_empty() {
        deliver_all(store, &run.options)?;
    }
    Ok(run)
}

/// Starts a process by Code with string inputs, runs it until it waits or
/// ends, keeps it, and returns its descriptor.
pub fn start<K: AsRef<str>, V: AsRef<str>>(
    store: &mut dyn ProcessStore,
    program: Arc<Program>,
    code: &str,
    inputs: impl IntoIterator<Item = (K, V)>,
    options: RunOptions,
) -> Result<Descriptor> {
    let process = engine::find_process(&program, code)?;
    let clock = options.now.unwrap_or_else(Timestamp::now);
    let mut instance = Instance::new(program, process, clock);
    instance.set_inputs(inputs)?;
    run(store, &mut instance, options)?;
    Ok(instance.descriptor(None))
}

/// Executes a waiting element-instance by its UId with field values, runs
/// its instance on, and delivers the signals it threw. Exactly once: the
/// backend's `exec` looks up, executes and saves in one transaction, so of
/// two racing commands the second finds it executed and does nothing.
/// Also returns how many elements ran.
pub fn exec(
    store: &mut dyn ProcessStore,
    uid: Uuid,
    fields: &[(String, String)],
    options: RunOptions,
) -> Result<(ExecOutcome, Descriptor, u64)> {
    let result = store.exec(uid, fields, options.clone())?;
    if result.0 == ExecOutcome::Executed {
        deliver_all(store, &options)?;
    }
    Ok(result)
}

/// Every stored instance the filter lets through, oldest first.
pub fn list(store: &mut dyn ProcessStore, filter: &ListFilter) -> Result<Vec<InstanceSummary>> {
    store.list(filter, None)
}

/// The descriptor of a stored instance, with every result parameter, its
/// log and its history.
pub fn show(store: &mut dyn ProcessStore, id: Uuid) -> Result<Descriptor> {
    Ok(store.load(id)?.descriptor_with_history(None))
}

/// Cancels an instance: its waiting element-instances can no longer be
/// executed. Cancelling a cancelled instance does nothing; a completed or
/// failed one is refused. `actor` is recorded in the history.
pub fn cancel(store: &mut dyn ProcessStore, id: Uuid, actor: &str) -> Result<(CancelOutcome, Descriptor)> {
    store
        .cancel_many(&[id], actor)?
        .into_iter()
        .next()
        .unwrap_or(Err(StoreError::UnknownInstance { id: id.to_string() }))
}

/// An instance with the version it was saved as, to save back with [`save`].
pub fn open(store: &mut dyn ProcessStore, id: Uuid) -> Result<Versioned> {
    store.load_versioned(id)
}

/// Saves an instance held for a while (a REPL session) only if nobody
/// saved it since version `expected` (`None`: it must be new), and returns
/// its new version; `Conflict` when someone did, and nothing is written.
pub fn save(store: &mut dyn ProcessStore, instance: &Instance, expected: Option<i64>) -> Result<i64> {
    store.save_if_unchanged(instance, expected)
}
