//! Where a session's instances live beyond the session.
//!
//! The REPL keeps its instances in memory. A store (`--store PATH`) plugs in
//! here: it lists the instances it keeps, opens one into the session (`use
//! ID`), and receives every instance the session changed after each command,
//! so that `procdsl run --store` and the REPL can take turns on one instance.

use crate::runtime::instance::{Instance, Status};
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
    fn list(&self) -> Result<Vec<Kept>, String>;
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
    fn list(&self) -> Result<Vec<Kept>, String> {
        Ok(Vec::new())
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

/// A store (`procdsl repl --store PATH`): the session works on the stored
/// instances, so `procdsl run --store` and the REPL can take turns on one.
/// Saves are optimistic: an instance changed by another command since the
/// session opened it is not overwritten, and the session says so.
pub struct Stored {
    store: crate::store::Store,
    versions: std::collections::HashMap<Uuid, i64>,
}

impl Stored {
    /// Works on the instances this store keeps.
    pub fn new(store: crate::store::Store) -> Stored {
        Stored { store, versions: std::collections::HashMap::new() }
    }
}

impl Backing for Stored {
    fn list(&self) -> Result<Vec<Kept>, String> {
        let all = self.store.list(&crate::store::ListFilter::default()).map_err(|e| e.to_string())?;
        Ok(all.into_iter().map(|s| Kept { id: s.id, process: s.process, status: s.status }).collect())
    }

    fn open(&mut self, id: Uuid) -> Result<Instance, String> {
        let version = self.store.version(id).map_err(|e| e.to_string())?;
        let instance = self.store.load(id).map_err(|e| e.to_string())?;
        if let Some(v) = version {
            self.versions.insert(id, v);
        }
        Ok(instance)
    }

    fn save(&mut self, instance: &Instance) -> Result<(), String> {
        let expected = self.versions.get(&instance.id).copied();
        let version = self.store.save_if_unchanged(instance, expected).map_err(|e| e.to_string())?;
        self.versions.insert(instance.id, version);
        Ok(())
    }

    fn describe(&self) -> String {
        format!("in the store {}", self.store.path().display())
    }
}
