//! Files procdsl creates are readable by their owner only (mode 0600 on
//! Unix): the store holds every instance's data, the access log who did what.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Opens a file to append to, creating it owner-only when missing.
pub fn private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Creates an empty owner-only file when `path` does not exist, so that a
/// file SQLite then opens (and its `-wal` and `-shm` files, which SQLite
/// gives the database's mode) is owner-only too.
pub fn create_private(path: &Path) -> io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut options = OpenOptions::new();
    options.create_new(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}
