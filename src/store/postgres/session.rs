//! Sign-in sessions in the database, so that a load balancer may send a
//! client's next request to any node and a restart signs no one out
//! (`store::session` describes what a row holds: hashes, never cookies).

use super::{PgStore, Result};
use crate::store::session::parse_time;
use crate::store::{time_text, StoredSession};
use jiff::Timestamp;
use postgres::types::Type;

impl PgStore {
    /// Keeps a new session (or replaces the one with its key); past
    /// `per_user` sessions of its user the oldest of them ends, past
    /// `total` sessions the one that expires first.
    pub fn save_session(&self, session: &StoredSession, per_user: usize, total: usize) -> Result<()> {
        let (created, last_used, expires) =
            (time_text(session.created), time_text(session.last_used), time_text(session.expires));
        let per_user = i64::try_from(per_user).unwrap_or(i64::MAX);
        let total = i64::try_from(total).unwrap_or(i64::MAX);
        self.transact(|tx, _| {
            tx.execute(
                "INSERT INTO sessions (key, user_name, csrf, created, last_used, expires) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (key) DO UPDATE SET user_name = excluded.user_name, csrf = excluded.csrf,
                     created = excluded.created, last_used = excluded.last_used, expires = excluded.expires",
                &[
                    (&session.key, Type::TEXT),
                    (&session.user, Type::TEXT),
                    (&session.csrf, Type::TEXT),
                    (&created, Type::TEXT),
                    (&last_used, Type::TEXT),
                    (&expires, Type::TEXT),
                ],
            )?;
            tx.execute(
                "DELETE FROM sessions WHERE key IN (SELECT key FROM sessions WHERE user_name = $1
                     ORDER BY created DESC, key DESC OFFSET $2)",
                &[(&session.user, Type::TEXT), (&per_user, Type::INT8)],
            )?;
            tx.execute(
                "DELETE FROM sessions WHERE key IN (SELECT key FROM sessions ORDER BY expires DESC, key DESC OFFSET $1)",
                &[(&total, Type::INT8)],
            )?;
            Ok(())
        })
    }

    /// The session with this key if it is live at `now`; an expired one is
    /// deleted and not returned.
    pub fn find_session(&self, key: &str, now: Timestamp) -> Result<Option<StoredSession>> {
        let row = self.conn()?.query_opt(
            "SELECT user_name, csrf, created, last_used, expires FROM sessions WHERE key = $1",
            &[(&key, Type::TEXT)],
        )?;
        let Some(row) = row else { return Ok(None) };
        let session = StoredSession {
            key: key.to_string(),
            user: row.try_get(0)?,
            csrf: row.try_get(1)?,
            created: parse_time(row.try_get(2)?),
            last_used: parse_time(row.try_get(3)?),
            expires: parse_time(row.try_get(4)?),
        };
        if session.expires > now {
            return Ok(Some(session));
        }
        self.delete_session(key)?;
        Ok(None)
    }

    /// Notes that the session was used at `now`.
    pub fn touch_session(&self, key: &str, now: Timestamp) -> Result<()> {
        let now = time_text(now);
        self.transact(|tx, _| {
            tx.execute("UPDATE sessions SET last_used = $2 WHERE key = $1", &[(&key, Type::TEXT), (&now, Type::TEXT)])
        })?;
        Ok(())
    }

    /// Signs a session out; false when there was none.
    pub fn delete_session(&self, key: &str) -> Result<bool> {
        self.transact(|tx, _| Ok(tx.execute("DELETE FROM sessions WHERE key = $1", &[(&key, Type::TEXT)])? == 1))
    }

    /// Deletes the sessions expired at `now`; returns how many.
    pub fn purge_sessions(&self, now: Timestamp) -> Result<u64> {
        let now = time_text(now);
        self.transact(|tx, _| tx.execute("DELETE FROM sessions WHERE expires <= $1", &[(&now, Type::TEXT)]))
    }
}
