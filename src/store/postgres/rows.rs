//! [`Rows`] for PostgreSQL: what `store::copy_all` reads and writes.

use super::{PgStore, Result};
use crate::store::copy::{ElementRow, InstanceRow, ProgramRow, Rows};
use postgres::types::Type;

impl Rows for PgStore {
    fn program_rows(&mut self) -> Result<Vec<ProgramRow>> {
        let mut conn = self.conn()?;
        let rows = conn.client.query_typed("SELECT hash, files FROM programs ORDER BY hash", &[])?;
        rows.iter().map(|r| Ok(ProgramRow { hash: r.try_get(0)?, files: r.try_get(1)? })).collect()
    }

    fn instance_rows(&mut self, after: &str, limit: usize) -> Result<Vec<InstanceRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut conn = self.conn()?;
        let rows = conn.client.query_typed(
            "SELECT id, program, process, status, format, state, version, created, updated
               FROM instances WHERE id > $1 ORDER BY id LIMIT $2",
            &[(&after, Type::TEXT), (&limit, Type::INT8)],
        )?;
        let mut page = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.try_get(0)?;
            let elements = conn
                .client
                .query_typed(
                    "SELECT uid, kind, live, signal, due FROM element_instances WHERE instance = $1 ORDER BY uid",
                    &[(&id, Type::TEXT)],
                )?
                .iter()
                .map(|e| {
                    Ok(ElementRow {
                        uid: e.try_get(0)?,
                        kind: e.try_get(1)?,
                        live: e.try_get(2)?,
                        signal: e.try_get(3)?,
                        due: e.try_get(4)?,
                    })
                })
                .collect::<Result<_>>()?;
            page.push(InstanceRow {
                id,
                program: r.try_get(1)?,
                process: r.try_get(2)?,
                status: r.try_get(3)?,
                format: r.try_get(4)?,
                state: r.try_get(5)?,
                version: r.try_get(6)?,
                created: r.try_get(7)?,
                updated: r.try_get(8)?,
                elements,
            });
        }
        Ok(page)
    }

    fn put_rows(&mut self, programs: &[ProgramRow], instances: &[InstanceRow]) -> Result<()> {
        self.transact(|tx, _| {
            for p in programs {
                tx.execute(
                    "INSERT INTO programs (hash, files) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING",
                    &[(&p.hash, Type::TEXT), (&p.files, Type::TEXT)],
                )?;
            }
            for i in instances {
                tx.execute(
                    "INSERT INTO instances (id, program, process, status, format, state, version, created, updated)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (id) DO UPDATE SET program = excluded.program, process = excluded.process,
                         status = excluded.status, format = excluded.format, state = excluded.state,
                         version = excluded.version, created = excluded.created, updated = excluded.updated",
                    &[
                        (&i.id, Type::TEXT),
                        (&i.program, Type::TEXT),
                        (&i.process, Type::TEXT),
                        (&i.status, Type::TEXT),
                        (&i.format, Type::INT8),
                        (&i.state, Type::TEXT),
                        (&i.version, Type::INT8),
                        (&i.created, Type::TEXT),
                        (&i.updated, Type::TEXT),
                    ],
                )?;
                tx.execute("DELETE FROM element_instances WHERE instance = $1", &[(&i.id, Type::TEXT)])?;
                for e in &i.elements {
                    tx.execute(
                        "INSERT INTO element_instances (uid, instance, kind, live, signal, due)
                         VALUES ($1, $2, $3, $4, $5, $6)
                         ON CONFLICT (uid) DO UPDATE SET instance = excluded.instance, kind = excluded.kind,
                             live = excluded.live, signal = excluded.signal, due = excluded.due",
                        &[
                            (&e.uid, Type::TEXT),
                            (&i.id, Type::TEXT),
                            (&e.kind, Type::TEXT),
                            (&e.live, Type::BOOL),
                            (&e.signal, Type::TEXT),
                            (&e.due, Type::TEXT),
                        ],
                    )?;
                }
            }
            Ok(())
        })
    }
}
