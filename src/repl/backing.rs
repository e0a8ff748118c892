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
