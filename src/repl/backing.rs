//! Where a session's instances live beyond the session.
//!
//! The REPL keeps its instances in memory. A store (`--store PATH`) plugs in
//! here: it lists the instances it keeps, opens one into the session (`use
//! ID`), and receives every instance the session changed after each command,
//! so that `procdsl run --store` and the REPL can take turns on one instance.

use crate::app::{self, LookupError};
use crate::runtime::instance::{Instance, Status};
use crate::store::{ListFilter, ProcessStore, Versioned};
use uuid::Uuid;

/// An instance kept outside the session, as `instances` lists it.
#[derive(Clone, Debug)]
pub struct Kept {
    pub id: Uuid,
    pub process: String,
    pub status: Status,
}

/// The instances' home beyond the session's memory.
pub trait Backing {
    /// Instances kept there, open in the session or not.
    fn list(&mut self) -> Result<Vec<Kept>, String>;
    /// The kept instance whose id starts with `prefix`: `None` when none
    /// does, an error when several do.
    fn find(&mut self, prefix: &str) -> Result<Option<Uuid>, String>;
    /// Loads a kept instance, on the definition it was started with.
    fn open(&mut self, id: Uuid) -> Result<Instance, String>;
    /// Keeps an instance the session created or changed.
    fn save(&mut self, instance: &Instance) -> Result<(), String>;
    /// Shown by `instances`: where the instances are kept.
    fn describe(&self) -> String;
}

/// No home beyond memory: instances end with the session.
#[derive(Debug, Default)]
pub struct Memory;

impl Backing for Memory {
    fn list(&mut self) -> Result<Vec<Kept>, String> {
        Ok(Vec::new())
    }

    fn find(&mut self, _: &str) -> Result<Option<Uuid>, String> {
        Ok(None)
    }

    fn open(&mut self, id: Uuid) -> Result<Instance, String> {
        Err(format!("no instance {id} in this session"))
    }

    fn save(&mut self, _: &Instance) -> Result<(), String> {
        Ok(())
    }

    fn describe(&self) -> String {
        "in memory; they end with the session".to_string()
    }
}

/// A store (`procdsl repl --store PATH|URL`): the session works on the
/// stored instances, so `procdsl run --store` and the REPL can take turns on
/// one. Saves are optimistic: an instance changed by another command since
/// the session opened it is not overwritten, and the session says so. Every
/// call goes through the application layer, so any backend serves.
pub struct Stored {
    store: Box<dyn ProcessStore>,
    versions: std::collections::HashMap<Uuid, i64>,
}

impl Stored {
    /// Works on the instances this store keeps.
    pub fn new(store: Box<dyn ProcessStore>) -> Stored {
        Stored { store, versions: std::collections::HashMap::new() }
    }
}

impl Backing for Stored {
    fn list(&mut self) -> Result<Vec<Kept>, String> {
        let all = app::list(&mut *self.store, &ListFilter::default()).map_err(|e| e.to_string())?;
        Ok(all.into_iter().map(|s| Kept { id: s.id, process: s.process, status: s.status }).collect())
    }

    /// An index look-up (as `procdsl show PREFIX`), not a scan of every instance.
    fn find(&mut self, prefix: &str) -> Result<Option<Uuid>, String> {
        match app::resolve_instance(&mut *self.store, prefix) {
            Ok(id) => Ok(Some(id)),
            Err(LookupError::NoInstance { .. }) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn open(&mut self, id: Uuid) -> Result<Instance, String> {
        let Versioned { instance, version } = app::open(&mut *self.store, id).map_err(|e| e.to_string())?;
        self.versions.insert(id, version);
        Ok(instance)
    }

    fn save(&mut self, instance: &Instance) -> Result<(), String> {
        let expected = self.versions.get(&instance.id).copied();
        let version = app::save(&mut *self.store, instance, expected).map_err(|e| e.to_string())?;
        self.versions.insert(instance.id, version);
        Ok(())
    }

    fn describe(&self) -> String {
        format!("in the store {}", self.store.display_name())
    }
}
