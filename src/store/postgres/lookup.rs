//! The commands' look-ups (see `store::lookup`) in PostgreSQL: ids and
//! UIds by their first characters, and the names a "did you mean" picks from.

use super::{PgStore, Result};
use crate::store::lookup::{id_prefix, sql_limit};
use crate::store::{ElementInstanceMatch, InstanceMatch, StoreError};
use postgres::types::Type;

impl PgStore {
    /// A range over the primary key (`COLLATE "C"`: byte order), as in SQLite.
    pub(super) fn instances_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<InstanceMatch>> {
        let Some(prefix) = id_prefix(prefix) else { return Ok(Vec::new()) };
        let limit = sql_limit(limit);
        self.transact(|tx, _| {
            let rows = tx.query(
                "SELECT id, process, status FROM instances WHERE id >= $1 AND id <= ($1 || 'z') ORDER BY id LIMIT $2",
                &[(&prefix, Type::TEXT), (&limit, Type::INT8)],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let id: String = row.try_get(0)?;
                let status: String = row.try_get(2)?;
                let corrupt = |message: String| StoreError::CorruptState { instance: id.clone(), message };
                out.push(InstanceMatch {
                    id: id.parse().map_err(|e| corrupt(format!("id: {e}")))?,
                    process: row.try_get(1)?,
                    status: status.parse().map_err(corrupt)?,
                });
            }
            Ok(out)
        })
    }

    pub(super) fn element_instances_with_prefix(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<ElementInstanceMatch>> {
        let Some(prefix) = id_prefix(prefix) else { return Ok(Vec::new()) };
        let limit = sql_limit(limit);
        self.transact(|tx, _| {
            let rows = tx.query(
                "SELECT uid, instance, kind, live FROM element_instances
                  WHERE uid >= $1 AND uid <= ($1 || 'z') ORDER BY uid LIMIT $2",
                &[(&prefix, Type::TEXT), (&limit, Type::INT8)],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let uid: String = row.try_get(0)?;
                let instance: String = row.try_get(1)?;
                let corrupt = |what: &str, e: uuid::Error| StoreError::CorruptState {
                    instance: instance.clone(),
                    message: format!("{what}: {e}"),
                };
                out.push(ElementInstanceMatch {
                    uid: uid.parse().map_err(|e| corrupt("element-instance UId", e))?,
                    instance: instance.parse().map_err(|e| corrupt("id", e))?,
                    kind: row.try_get(2)?,
                    live: row.try_get(3)?,
                });
            }
            Ok(out)
        })
    }

    pub(super) fn names(&self, sql: &str) -> Result<Vec<String>> {
        self.transact(|tx, _| {
            let rows = tx.query(sql, &[])?;
            Ok(rows.iter().map(|r| r.try_get(0)).collect::<std::result::Result<_, _>>()?)
        })
    }
}
