//! Copying a whole store into another one, whatever the backends: every
//! definition, every instance (live and finished) with its saved state and
//! version, and every element-instance index row (the dead ones too, so
//! that executing a UId again still says "already executed").
//!
//! Rows are copied as they are, not decoded and encoded again: a copy holds
//! exactly what the source held. Instances are read in pages by id and
//! each page is written in one transaction, so a big store never sits in
//! memory whole. Leases and sessions are not copied: they belong to the
//! nodes running now.

use super::{Store, StoreError};
use rusqlite::{params, Connection, TransactionBehavior};

type Result<T> = std::result::Result<T, StoreError>;

/// Instances per page of [`copy_all`].
const PAGE: usize = 500;

/// A `programs` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramRow {
    pub hash: String,
    /// The JSON array of `[name, text]`.
    pub files: String,
}

/// An `instances` row with its `element_instances` rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceRow {
    pub id: String,
    pub program: String,
    pub process: String,
    pub status: String,
    pub format: i64,
    pub state: String,
    pub version: i64,
    pub created: String,
    pub updated: String,
    pub elements: Vec<ElementRow>,
}

/// An `element_instances` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementRow {
    pub uid: String,
    pub kind: String,
    pub live: bool,
    pub signal: Option<String>,
    pub due: Option<String>,
}

/// A backend's rows as they are, for [`copy_all`].
pub trait Rows {
    /// Every program.
    fn program_rows(&mut self) -> Result<Vec<ProgramRow>>;
    /// Up to `limit` instances with an id greater than `after`, in id order.
    fn instance_rows(&mut self, after: &str, limit: usize) -> Result<Vec<InstanceRow>>;
    /// Writes rows in one transaction; an instance with the same id is
    /// replaced, index rows and all.
    fn put_rows(&mut self, programs: &[ProgramRow], instances: &[InstanceRow]) -> Result<()>;
}

/// What [`copy_all`] copied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub programs: usize,
    pub instances: usize,
    pub element_instances: usize,
}

/// Copies every definition and instance of `from` into `to` (SQLite into
/// PostgreSQL and back). Instances already in `to` with the same id are
/// replaced by the copy; others in `to` are left alone. Copy from a store
/// that no node is changing, or the copy is a mix of moments.
pub fn copy_all(from: &mut dyn Rows, to: &mut dyn Rows) -> Result<CopyReport> {
    let programs = from.program_rows()?;
    to.put_rows(&programs, &[])?;
    let mut report = CopyReport { programs: programs.len(), ..CopyReport::default() };
    let mut after = String::new();
    loop {
        let page = from.instance_rows(&after, PAGE)?;
        let Some(last) = page.last() else { return Ok(report) };
        after = last.id.clone();
        to.put_rows(&[], &page)?;
        report.instances += page.len();
        report.element_instances += page.iter().map(|i| i.elements.len()).sum::<usize>();
    }
}

impl Rows for Store {
    fn program_rows(&mut self) -> Result<Vec<ProgramRow>> {
        let mut stmt = self.conn.prepare("SELECT hash, files FROM programs ORDER BY hash")?;
        let rows = stmt.query_map([], |r| Ok(ProgramRow { hash: r.get(0)?, files: r.get(1)? }))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn instance_rows(&mut self, after: &str, limit: usize) -> Result<Vec<InstanceRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare(
            "SELECT id, program, process, status, format, state, version, created, updated
               FROM instances WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit], |r| {
            Ok(InstanceRow {
                id: r.get(0)?,
                program: r.get(1)?,
                process: r.get(2)?,
                status: r.get(3)?,
                format: r.get(4)?,
                state: r.get(5)?,
                version: r.get(6)?,
                created: r.get(7)?,
                updated: r.get(8)?,
                elements: Vec::new(),
            })
        })?;
        let mut page: Vec<InstanceRow> = rows.collect::<std::result::Result<_, _>>()?;
        let mut stmt = self
            .conn
            .prepare("SELECT uid, kind, live, signal, due FROM element_instances WHERE instance = ?1 ORDER BY uid")?;
        for instance in &mut page {
            let rows = stmt.query_map([&instance.id], |r| {
                Ok(ElementRow {
                    uid: r.get(0)?,
                    kind: r.get(1)?,
                    live: r.get::<_, i64>(2)? != 0,
                    signal: r.get(3)?,
                    due: r.get(4)?,
                })
            })?;
            instance.elements = rows.collect::<std::result::Result<_, _>>()?;
        }
        Ok(page)
    }

    fn put_rows(&mut self, programs: &[ProgramRow], instances: &[InstanceRow]) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        put_sqlite_rows(&tx, programs, instances)?;
        tx.commit()?;
        Ok(())
    }
}

fn put_sqlite_rows(conn: &Connection, programs: &[ProgramRow], instances: &[InstanceRow]) -> Result<()> {
    for p in programs {
        conn.execute(
            "INSERT INTO programs (hash, files) VALUES (?1, ?2) ON CONFLICT (hash) DO NOTHING",
            params![p.hash, p.files],
        )?;
    }
    for i in instances {
        conn.execute(
            "INSERT INTO instances (id, program, process, status, format, state, version, created, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (id) DO UPDATE SET program = excluded.program, process = excluded.process,
                 status = excluded.status, format = excluded.format, state = excluded.state,
                 version = excluded.version, created = excluded.created, updated = excluded.updated",
            params![i.id, i.program, i.process, i.status, i.format, i.state, i.version, i.created, i.updated],
        )?;
        conn.execute("DELETE FROM element_instances WHERE instance = ?1", [&i.id])?;
        for e in &i.elements {
            conn.execute(
                "INSERT INTO element_instances (uid, instance, kind, live, signal, due) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (uid) DO UPDATE SET instance = excluded.instance, kind = excluded.kind,
                     live = excluded.live, signal = excluded.signal, due = excluded.due",
                params![e.uid, i.id, e.kind, i64::from(e.live), e.signal, e.due],
            )?;
        }
    }
    Ok(())
}
