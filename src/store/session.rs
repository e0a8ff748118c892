//! Sign-in sessions kept in the store, so that every service node on one
//! store knows them and a restart signs no one out. A session is found by
//! the SHA-256 of its `.ASPXAUTH` cookie and keeps only the SHA-256 of its
//! `BPMCSRF` value: whoever reads the database (or a backup) learns no
//! cookie that would let them act as the user.

use super::{time_text, Result, Store};
use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

/// One signed-in session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSession {
    /// The SHA-256 (hex) of the `.ASPXAUTH` cookie value.
    pub key: String,
    pub user: String,
    /// The SHA-256 (hex) of the `BPMCSRF` value that requests changing state must send.
    pub csrf: String,
    pub created: Timestamp,
    /// The last request made with it, as far as the idle time-out needs to know.
    pub last_used: Timestamp,
    pub expires: Timestamp,
}

/// Reads a stored time; a damaged one counts as long past (the session ends).
pub(super) fn parse_time(text: &str) -> Timestamp {
    text.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Store {
    /// Keeps a new session; past `per_user` sessions of its user the oldest
    /// of them ends, past `total` sessions the one that expires first.
    pub fn save_session(&mut self, session: &StoredSession, per_user: usize, total: usize) -> Result<()> {
        let (tx, _) = self.begin()?;
        tx.execute(
            "INSERT INTO sessions (key, user_name, csrf, created, last_used, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (key) DO UPDATE SET user_name = excluded.user_name, csrf = excluded.csrf,
                 created = excluded.created, last_used = excluded.last_used, expires = excluded.expires",
            params![
                session.key,
                session.user,
                session.csrf,
                time_text(session.created),
                time_text(session.last_used),
                time_text(session.expires)
            ],
        )?;
        let per_user = i64::try_from(per_user).unwrap_or(i64::MAX);
        tx.execute(
            "DELETE FROM sessions WHERE key IN (SELECT key FROM sessions WHERE user_name = ?1
                 ORDER BY created DESC, rowid DESC LIMIT -1 OFFSET ?2)",
            params![session.user, per_user],
        )?;
        let total = i64::try_from(total).unwrap_or(i64::MAX);
        tx.execute(
            "DELETE FROM sessions WHERE key IN (SELECT key FROM sessions
                 ORDER BY expires DESC, rowid DESC LIMIT -1 OFFSET ?1)",
            [total],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The session under `key` if it is live at `now`; an expired one is
    /// deleted and not returned.
    pub fn find_session(&mut self, key: &str, now: Timestamp) -> Result<Option<StoredSession>> {
        let row = self
            .conn
            .prepare_cached("SELECT user_name, csrf, created, last_used, expires FROM sessions WHERE key = ?1")?
            .query_row([key], |r| {
                Ok(StoredSession {
                    key: key.to_string(),
                    user: r.get(0)?,
                    csrf: r.get(1)?,
                    created: parse_time(&r.get::<_, String>(2)?),
                    last_used: parse_time(&r.get::<_, String>(3)?),
                    expires: parse_time(&r.get::<_, String>(4)?),
                })
            })
            .optional()?;
        match row {
            Some(session) if session.expires > now => Ok(Some(session)),
            Some(_) => {
                self.end_session(key)?;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// Notes that the session was used at `now`.
    pub fn touch_session(&mut self, key: &str, now: Timestamp) -> Result<()> {
        self.conn.execute("UPDATE sessions SET last_used = ?2 WHERE key = ?1", params![key, time_text(now)])?;
        Ok(())
    }

    /// Ends a session (Logout); false when there was none.
    pub fn end_session(&mut self, key: &str) -> Result<bool> {
        Ok(self.conn.execute("DELETE FROM sessions WHERE key = ?1", [key])? == 1)
    }

    /// Deletes the sessions expired at `now`; returns how many.
    pub fn purge_sessions(&mut self, now: Timestamp) -> Result<u64> {
        let n = self.conn.execute("DELETE FROM sessions WHERE expires <= ?1", [time_text(now)])?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
