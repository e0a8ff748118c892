//! [`Rows`] for PostgreSQL: what `store::copy_all` reads and writes.
//!
//! A page of instances goes in a fixed number of statements, whatever its
//! size: the element-instance rows of the whole page in one query (a join
//! with the page's ids, which PostgreSQL hashes; `= ANY(array)` compared
//! each row with every id), and the writes as arrays expanded by `UNNEST`. One statement per row cost a
//! round trip each (three per instance), and reading an instance's
//! element-instances alone, dead ones included, scans the table (the index
//! by instance covers live rows only), which made copying out of
//! PostgreSQL quadratic in the number of instances.

use super::{PgStore, Result};
use crate::store::copy::{ElementRow, InstanceRow, ProgramRow, Rows};
use postgres::types::Type;
use std::collections::HashMap;

impl Rows for PgStore {
    fn program_rows(&mut self) -> Result<Vec<ProgramRow>> {
        let mut conn = self.conn()?;
        let rows = conn.client.query_typed("SELECT hash, files FROM programs ORDER BY hash", &[])?;
        rows.iter().map(|r| Ok(ProgramRow { hash: r.try_get(0)?, files: r.try_get(1)? })).collect()
    }

    fn instance_rows(&mut self, after: &str, limit: usize) -> Result<Vec<InstanceRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.transact(|tx, _| {
            let rows = tx.query(
                "SELECT id, program, process, status, format, state, version, created, updated
                   FROM instances WHERE id > $1 ORDER BY id LIMIT $2",
                &[(&after, Type::TEXT), (&limit, Type::INT8)],
            )?;
            let ids: Vec<String> = rows.iter().map(|r| r.try_get(0)).collect::<std::result::Result<_, _>>()?;
            let mut elements: HashMap<String, Vec<ElementRow>> = HashMap::new();
            let element_rows = tx.query(
                "SELECT e.instance, e.uid, e.kind, e.live, e.signal, e.due
                   FROM element_instances e JOIN UNNEST($1::text[]) AS page(id) ON e.instance = page.id
                  ORDER BY e.instance, e.uid",
                &[(&ids, Type::TEXT_ARRAY)],
            )?;
            for e in &element_rows {
                elements.entry(e.try_get(0)?).or_default().push(ElementRow {
                    uid: e.try_get(1)?,
                    kind: e.try_get(2)?,
                    live: e.try_get(3)?,
                    signal: e.try_get(4)?,
                    due: e.try_get(5)?,
                });
            }
            let mut page = Vec::with_capacity(rows.len());
            for r in &rows {
                let id: String = r.try_get(0)?;
                page.push(InstanceRow {
                    elements: elements.remove(&id).unwrap_or_default(),
                    id,
                    program: r.try_get(1)?,
                    process: r.try_get(2)?,
                    status: r.try_get(3)?,
                    format: r.try_get(4)?,
                    state: r.try_get(5)?,
                    version: r.try_get(6)?,
                    created: r.try_get(7)?,
                    updated: r.try_get(8)?,
                });
            }
            Ok(page)
        })
    }

    fn put_rows(&mut self, programs: &[ProgramRow], instances: &[InstanceRow]) -> Result<()> {
        let column = |f: fn(&InstanceRow) -> String| instances.iter().map(f).collect::<Vec<String>>();
        let ids = column(|i| i.id.clone());
        let program = column(|i| i.program.clone());
        let process = column(|i| i.process.clone());
        let status = column(|i| i.status.clone());
        let state = column(|i| i.state.clone());
        let created = column(|i| i.created.clone());
        let updated = column(|i| i.updated.clone());
        let format: Vec<i64> = instances.iter().map(|i| i.format).collect();
        let version: Vec<i64> = instances.iter().map(|i| i.version).collect();
        let all = || instances.iter().flat_map(|i| i.elements.iter().map(move |e| (i, e)));
        let uids: Vec<&str> = all().map(|(_, e)| e.uid.as_str()).collect();
        let owners: Vec<&str> = all().map(|(i, _)| i.id.as_str()).collect();
        let kinds: Vec<&str> = all().map(|(_, e)| e.kind.as_str()).collect();
        let lives: Vec<bool> = all().map(|(_, e)| e.live).collect();
        let signals: Vec<Option<&str>> = all().map(|(_, e)| e.signal.as_deref()).collect();
        let dues: Vec<Option<&str>> = all().map(|(_, e)| e.due.as_deref()).collect();
        self.transact(|tx, _| {
            for p in programs {
                tx.execute(
                    "INSERT INTO programs (hash, files) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING",
                    &[(&p.hash, Type::TEXT), (&p.files, Type::TEXT)],
                )?;
            }
            if instances.is_empty() {
                return Ok(());
            }
            tx.execute(
                "INSERT INTO instances (id, program, process, status, format, state, version, created, updated)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[],
                                      $7::bigint[], $8::text[], $9::text[])
                 ON CONFLICT (id) DO UPDATE SET program = excluded.program, process = excluded.process,
                     status = excluded.status, format = excluded.format, state = excluded.state,
                     version = excluded.version, created = excluded.created, updated = excluded.updated",
                &[
                    (&ids, Type::TEXT_ARRAY),
                    (&program, Type::TEXT_ARRAY),
                    (&process, Type::TEXT_ARRAY),
                    (&status, Type::TEXT_ARRAY),
                    (&format, Type::INT8_ARRAY),
                    (&state, Type::TEXT_ARRAY),
                    (&version, Type::INT8_ARRAY),
                    (&created, Type::TEXT_ARRAY),
                    (&updated, Type::TEXT_ARRAY),
                ],
            )?;
            tx.execute(
                "DELETE FROM element_instances e USING UNNEST($1::text[]) AS page(id) WHERE e.instance = page.id",
                &[(&ids, Type::TEXT_ARRAY)],
            )?;
            tx.execute(
                "INSERT INTO element_instances (uid, instance, kind, live, signal, due)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::boolean[], $5::text[], $6::text[])
                 ON CONFLICT (uid) DO UPDATE SET instance = excluded.instance, kind = excluded.kind,
                     live = excluded.live, signal = excluded.signal, due = excluded.due",
                &[
                    (&uids, Type::TEXT_ARRAY),
                    (&owners, Type::TEXT_ARRAY),
                    (&kinds, Type::TEXT_ARRAY),
                    (&lives, Type::BOOL_ARRAY),
                    (&signals, Type::TEXT_ARRAY),
                    (&dues, Type::TEXT_ARRAY),
                ],
            )?;
            Ok(())
        })
    }
}
