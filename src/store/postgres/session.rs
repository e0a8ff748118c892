//! Sign-in sessions in the database, so that a load balancer may send a
//! client's next request to any node and a restart signs no one out. The
//! service keeps them in memory today (`service::auth::Sessions`); this is
//! the table and its calls, for the service to use.

use super::{PgStore, Result};
use crate::store::time_text;
use jiff::Timestamp;
use postgres::types::Type;

/// One signed-in session, by its `.ASPXAUTH` cookie value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSession {
    pub key: String,
    pub user: String,
    /// The `BPMCSRF` value that requests changing state must send.
    pub csrf: String,
    pub expires: Timestamp,
}

impl PgStore {
    /// Keeps a new session (or replaces the one with its key).
    pub fn save_session(&self, session: &StoredSession) -> Result<()> {
        let expires = time_text(session.expires);
        let mut conn = self.conn()?;
        conn.client.execute_typed(
            "INSERT INTO sessions (key, user_name, csrf, expires) VALUES ($1, $2, $3, $4)
             ON CONFLICT (key) DO UPDATE SET user_name = excluded.user_name, csrf = excluded.csrf,
                 expires = excluded.expires",
            &[
                (&session.key, Type::TEXT),
                (&session.user, Type::TEXT),
                (&session.csrf, Type::TEXT),
                (&expires, Type::TEXT),
            ],
        )?;
        Ok(())
    }

    /// The session with this key if it is live at `now`; an expired one is
    /// deleted and not returned.
    pub fn find_session(&self, key: &str, now: Timestamp) -> Result<Option<StoredSession>> {
        let mut conn = self.conn()?;
        let row = conn
            .client
            .query_typed_opt("SELECT user_name, csrf, expires FROM sessions WHERE key = $1", &[(&key, Type::TEXT)])?;
        drop(conn);
        let Some(row) = row else { return Ok(None) };
        match row.try_get::<_, &str>(2)?.parse::<Timestamp>() {
            Ok(expires) if expires > now => {
                Ok(Some(StoredSession { key: key.to_string(), user: row.try_get(0)?, csrf: row.try_get(1)?, expires }))
            }
            _ => {
                self.delete_session(key)?;
                Ok(None)
            }
        }
    }

    /// Signs a session out; false when there was none.
    pub fn delete_session(&self, key: &str) -> Result<bool> {
        let mut conn = self.conn()?;
        Ok(conn.client.execute_typed("DELETE FROM sessions WHERE key = $1", &[(&key, Type::TEXT)])? == 1)
    }

    /// Deletes the sessions expired at `now`; returns how many.
    pub fn purge_sessions(&self, now: Timestamp) -> Result<u64> {
        let mut conn = self.conn()?;
        Ok(conn.client.execute_typed("DELETE FROM sessions WHERE expires <= $1", &[(&time_text(now), Type::TEXT)])?)
    }
}
