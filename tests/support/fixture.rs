//! The frozen stores of each saved format (`tests/fixtures/store-vN`):
//! where they are, and how the current format's is written
//! (`PROCDSL_REGENERATE_FIXTURES`; an old one is never rewritten).
#![allow(dead_code)]

use procdsl::check::{self, spec::Program};
use procdsl::runtime::saved::SavedInstance;
use procdsl::store::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;

/// The fixture of saved format `version`.
pub fn dir(version: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/store-v{version}"))
}

/// Writes the fixture of format `version` afresh: `source` as
/// `fixture.proc`, a new `store.db` holding what `make` leaves in it, and
/// the state of the instance `make` returns as `state.json`.
pub fn write(version: u32, source: &str, make: impl FnOnce(&mut Store, Arc<Program>) -> Uuid) {
    let dir = dir(version);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("store.db");
    let _ = std::fs::remove_file(&db);
    let mut store = Store::open(&db).unwrap();
    let program = Arc::new(check::load_str("fixture.proc", source).unwrap().program);
    let id = make(&mut store, program);
    let instance = store.load(id).unwrap();
    let state = serde_json::to_string_pretty(&SavedInstance::of(&instance)).unwrap();
    std::fs::write(dir.join("state.json"), state + "\n").unwrap();
    std::fs::write(dir.join("fixture.proc"), source).unwrap();
    drop(store);
    // The WAL is folded in on close; leave only the database file.
    for extra in ["store.db-wal", "store.db-shm"] {
        let _ = std::fs::remove_file(dir.join(extra));
    }
}
