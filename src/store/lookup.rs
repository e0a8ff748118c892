//! Finding what a person typed: an instance id or an element-instance UId
//! from its first characters, and the names (process Codes, signals) that
//! a command's "did you mean" chooses from.

use super::{Store, StoreError};
use crate::runtime::instance::Status;
use uuid::Uuid;

/// One instance whose id starts with a given prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceMatch {
    pub id: Uuid,
    pub process: String,
    pub status: Status,
}

/// One element-instance whose UId starts with a given prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementInstanceMatch {
    pub uid: Uuid,
    /// The instance it belongs to.
    pub instance: Uuid,
    pub kind: String,
    /// Pending or waiting now (not executed, not cancelled).
    pub live: bool,
}

impl Store {
    /// The stored instances whose id starts with `prefix`, at most `limit`,
    /// in id order. A prefix that cannot start an id finds none.
    pub fn instances_starting_with(&self, prefix: &str, limit: usize) -> Result<Vec<InstanceMatch>, StoreError> {
        let Some(prefix) = id_prefix(prefix) else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare(
            "SELECT id, process, status FROM instances WHERE id >= ?1 AND id <= ?1 || 'z' ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(rusqlite::params![prefix, sql_limit(limit)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, process, status) = row?;
            let corrupt = |message: String| StoreError::CorruptState { instance: id.clone(), message };
            out.push(InstanceMatch {
                id: id.parse().map_err(|e| corrupt(format!("id: {e}")))?,
                process,
                status: status.parse().map_err(corrupt)?,
            });
        }
        Ok(out)
    }

    /// The element-instances (live or executed) whose UId starts with
    /// `prefix`, at most `limit`, in UId order.
    pub fn element_instances_starting_with(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<ElementInstanceMatch>, StoreError> {
        let Some(prefix) = id_prefix(prefix) else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare(
            "SELECT uid, instance, kind, live FROM element_instances
              WHERE uid >= ?1 AND uid <= ?1 || 'z' ORDER BY uid LIMIT ?2",
        )?;
        let rows = stmt.query_map(rusqlite::params![prefix, sql_limit(limit)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (uid, instance, kind, live) = row?;
            let corrupt = |what: &str, e: uuid::Error| StoreError::CorruptState {
                instance: instance.clone(),
                message: format!("{what}: {e}"),
            };
            out.push(ElementInstanceMatch {
                uid: uid.parse().map_err(|e| corrupt("element-instance UId", e))?,
                instance: instance.parse().map_err(|e| corrupt("id", e))?,
                kind,
                live: live != 0,
            });
        }
        Ok(out)
    }

    /// The process Codes that stored instances run, sorted.
    pub fn process_codes(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT DISTINCT process FROM instances ORDER BY process")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The signals that live element-instances wait for, sorted.
    pub fn waited_signals(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT signal FROM element_instances WHERE live = 1 AND signal IS NOT NULL ORDER BY signal",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The stored form of an id prefix (lowercase hex digits and hyphens), or
/// `None` when the text cannot start an id.
pub(super) fn id_prefix(text: &str) -> Option<String> {
    let lower = text.trim().to_ascii_lowercase();
    let ok = !lower.is_empty() && lower.len() <= 36 && lower.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    ok.then_some(lower)
}

pub(super) fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::id_prefix;

    #[test]
    fn only_hex_digits_and_hyphens_start_an_id() {
        assert_eq!(id_prefix(" B715-bd ").as_deref(), Some("b715-bd"));
        assert_eq!(id_prefix("%"), None, "no SQL pattern reaches the query");
        assert_eq!(id_prefix("xyz"), None);
        assert_eq!(id_prefix(""), None);
        assert_eq!(id_prefix(&"a".repeat(37)), None);
    }
}
