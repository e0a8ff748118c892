//! Leases: claims on work that expire, so that each due timer fires on one
//! node and each background run runs on one node, and a node that dies
//! leaves its work to the others once its leases ran out.
//!
//! A lease is a row of `leases` (`name`, `holder`, `expires`), named
//! `timer:ID` or `run:ID` after the instance. Taking one is an upsert that
//! only overwrites an expired lease or one the node holds already, so of
//! two nodes claiming at once exactly one gets it. Correctness does not
//! rest on the lease alone: the work itself runs under the instance's row
//! lock and re-reads its state, so a timer that another node fired in the
//! meantime is simply no longer due. The lease keeps nodes from doing the
//! same work twice, and decides who takes over. Expiry is compared in UTC
//! text with the `now` the caller passes: the nodes' clocks should agree
//! within a small part of the lease (NTP does that).

use super::db::Db;
use super::{load_instance, queue_signals, run_on, save_instance, PgStore, Result};
use crate::runtime::descriptor::Descriptor;
use crate::runtime::engine::Run;
use crate::store::{real_time, time_text};
use jiff::Timestamp;
use postgres::types::Type;
use std::time::Duration;
use uuid::Uuid;

/// The lease name of an instance's timers.
pub(crate) fn timer_lease(id: Uuid) -> String {
    format!("timer:{id}")
}

/// The lease name of an instance's background run.
pub(crate) fn run_lease(id: Uuid) -> String {
    format!("run:{id}")
}

fn expiry(now: Timestamp, lease: Duration) -> String {
    let lease = jiff::SignedDuration::try_from(lease).unwrap_or(jiff::SignedDuration::MAX);
    time_text(now.checked_add(lease).unwrap_or(Timestamp::MAX))
}

impl PgStore {
    /// Claims up to `limit` instances with a timer due at `now` that no
    /// other node holds a live lease on: their rows are picked `FOR UPDATE
    /// SKIP LOCKED` (so nodes claiming at once take different ones), and a
    /// `timer:ID` lease for [`PgOptions::lease`](super::PgOptions::lease)
    /// is written for each. Returns the instances this node now holds;
    /// [`PgStore::fire_claimed`] fires them.
    pub fn claim_due_timers(&self, now: Timestamp, limit: i64) -> Result<Vec<Uuid>> {
        self.claim(now, limit, self.options.lease, Claim::Timers)
    }

    /// Fires the due timers of an instance this node claimed, runs it on,
    /// saves it, queues the signals it threw in the outbox, and gives the lease back,
    /// in one transaction under the instance's row lock. Returns the
    /// descriptor of the instance if it moved (none when another node
    /// fired the timers first, or the lease passed to another node).
    pub fn fire_claimed(&self, id: Uuid, now: Timestamp) -> Result<Vec<Descriptor>> {
        let name = timer_lease(id);
        let holder = &self.options.node;
        let options = real_time(Some(now));
        self.transact(|tx, programs| {
            let (mut instance, _) = load_instance(tx, programs, &id.to_string(), true)?;
            if !give_back(tx, &name, holder)? {
                return Ok(Vec::new());
            }
            if instance.status.is_finished() || instance.fire_due_timers(now) == 0 {
                return Ok(Vec::new());
            }
            let mut run = Run::new(options.clone());
            run_on(&mut instance, &mut run);
            save_instance(tx, &instance, None)?;
            queue_signals(tx, &run.emitted, instance.id, 0)?;
            Ok(vec![instance.descriptor(None)])
        })
    }

    /// Takes the lease `name` for this node until `now` plus
    /// [`PgOptions::lease`](super::PgOptions::lease), unless another node
    /// holds it unexpired. True when this node holds it now. A node renews
    /// a lease it holds by taking it again before it expires.
    pub fn acquire_lease(&self, name: &str, now: Timestamp) -> Result<bool> {
        self.acquire_lease_for(name, now, self.options.lease)
    }

    /// [`PgStore::acquire_lease`] for `lease` instead of the store's default.
    pub fn acquire_lease_for(&self, name: &str, now: Timestamp, lease: Duration) -> Result<bool> {
        let now_text = time_text(now);
        let expires = expiry(now, lease);
        self.transact(|tx, _| take(tx, name, &self.options.node, &now_text, &expires))
    }

    /// Gives a lease this node holds back; false when it held none (it
    /// expired and another node took it).
    pub fn release_lease(&self, name: &str) -> Result<bool> {
        self.transact(|tx, _| give_back(tx, name, &self.options.node))
    }

    /// Who holds the lease `name`, and until when (UTC text).
    pub fn lease_holder(&self, name: &str) -> Result<Option<(String, String)>> {
        let mut conn = self.conn()?;
        let row = conn
            .client
            .query_typed_opt("SELECT holder, expires FROM leases WHERE name = $1", &[(&name, Type::TEXT)])?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    /// Takes the background run of an instance (lease `run:ID`): the node
    /// that gets it runs the instance and calls [`PgStore::release_run`]
    /// after saving it.
    pub fn acquire_run(&self, id: Uuid, now: Timestamp) -> Result<bool> {
        self.acquire_lease(&run_lease(id), now)
    }

    /// Gives the background run of an instance back.
    pub fn release_run(&self, id: Uuid) -> Result<bool> {
        self.release_lease(&run_lease(id))
    }

    /// Claims up to `limit` instances left `Running` whose background run
    /// no node holds (never taken, or its node died and the lease expired),
    /// as [`PgStore::claim_due_timers`] claims timers. The caller resumes
    /// each and calls [`PgStore::release_run`] after saving it.
    pub fn claim_runs(&self, now: Timestamp, limit: i64) -> Result<Vec<Uuid>> {
        self.claim(now, limit, self.options.lease, Claim::Runs)
    }

    /// Claims, for `lease`, up to `limit` instances left `Running` and not
    /// saved since `saved_before` whose background run no node holds a live
    /// lease on, this node included (a run this node holds is running here
    /// already).
    pub fn claim_orphans(
        &self,
        now: Timestamp,
        saved_before: Timestamp,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<Uuid>> {
        self.claim(now, limit, lease, Claim::Orphans(saved_before))
    }

    /// Claims, for `lease`, up to `limit` instances with a timer due at
    /// `now` (see [`PgStore::claim_due_timers`]).
    pub fn claim_due_timers_for(&self, now: Timestamp, limit: i64, lease: Duration) -> Result<Vec<Uuid>> {
        self.claim(now, limit, lease, Claim::Timers)
    }

    /// Extends the leases `names` that this node holds to `now` plus
    /// `lease` (the heartbeat of the work in progress); returns how many it
    /// still held. A lease that expired and passed to another node stays
    /// with that node.
    pub fn renew_leases(&self, names: &[String], now: Timestamp, lease: Duration) -> Result<u64> {
        if names.is_empty() {
            return Ok(0);
        }
        let expires = expiry(now, lease);
        let holder = &self.options.node;
        self.transact(|tx, _| {
            tx.execute(
                "UPDATE leases SET expires = $3 WHERE holder = $1 AND name = ANY($2::text[])",
                &[(holder, Type::TEXT), (&names, Type::TEXT_ARRAY), (&expires, Type::TEXT)],
            )
        })
    }

    /// Gives back the leases `names` that this node holds.
    pub fn release_leases(&self, names: &[String]) -> Result<u64> {
        if names.is_empty() {
            return Ok(0);
        }
        let holder = &self.options.node;
        self.transact(|tx, _| {
            tx.execute(
                "DELETE FROM leases WHERE holder = $1 AND name = ANY($2::text[])",
                &[(holder, Type::TEXT), (&names, Type::TEXT_ARRAY)],
            )
        })
    }

    /// Claims up to `limit` instances of a kind of work that no other node
    /// holds a live lease on (for [`Claim::Orphans`], no node at all), and
    /// writes this node's lease for each.
    fn claim(&self, now: Timestamp, limit: i64, lease: Duration, what: Claim) -> Result<Vec<Uuid>> {
        let now_text = time_text(now);
        let expires = expiry(now, lease);
        let holder = &self.options.node;
        let (candidates, prefix, name): (&str, &str, fn(Uuid) -> String) = match what {
            Claim::Timers => (
                // Timers, deadlines and reminders alike: every live row with a due time.
                "i.id IN (SELECT instance FROM element_instances WHERE live AND due IS NOT NULL AND due <= $1)",
                "timer:",
                timer_lease,
            ),
            Claim::Runs => ("i.status = 'Running'", "run:", run_lease),
            Claim::Orphans(_) => ("i.status = 'Running' AND i.updated COLLATE \"C\" < $4", "run:", run_lease),
        };
        let others = if matches!(what, Claim::Orphans(_)) { "" } else { "AND l.holder <> $2" };
        let saved_before = match what {
            Claim::Orphans(t) => time_text(t),
            Claim::Timers | Claim::Runs => String::new(),
        };
        let sql = format!(
            "SELECT i.id FROM instances i
              WHERE {candidates}
                AND NOT EXISTS (SELECT 1 FROM leases l
                                 WHERE l.name = '{prefix}' || i.id AND l.expires > $1 {others})
              ORDER BY i.id
              LIMIT $3
              FOR UPDATE OF i SKIP LOCKED"
        );
        self.transact(|tx, _| {
            let rows = tx.query(
                &sql,
                &[(&now_text, Type::TEXT), (holder, Type::TEXT), (&limit, Type::INT8), (&saved_before, Type::TEXT)],
            )?;
            let mut claimed = Vec::with_capacity(rows.len());
            for row in rows {
                let Ok(id) = row.try_get::<_, &str>(0)?.parse::<Uuid>() else { continue };
                if take(tx, &name(id), holder, &now_text, &expires)? {
                    claimed.push(id);
                }
            }
            Ok(claimed)
        })
    }
}

/// What [`PgStore::claim`] claims.
#[derive(Clone, Copy)]
enum Claim {
    /// Instances with a timer due.
    Timers,
    /// `Running` instances, also those whose run this node holds.
    Runs,
    /// `Running` instances whose run no node holds, not saved since the time given.
    Orphans(Timestamp),
}

/// The upsert that takes a lease: it overwrites only an expired lease or
/// one `holder` has, and the row lock of `ON CONFLICT DO UPDATE` makes one
/// of two racing nodes see the other's lease.
fn take(tx: &mut Db<'_>, name: &str, holder: &str, now: &str, expires: &str) -> Result<bool> {
    let taken = tx.execute(
        "INSERT INTO leases (name, holder, expires) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
          WHERE leases.expires <= $4 OR leases.holder = excluded.holder",
        &[(&name, Type::TEXT), (&holder, Type::TEXT), (&expires, Type::TEXT), (&now, Type::TEXT)],
    )?;
    Ok(taken == 1)
}

/// Deletes a lease `holder` has; false when it has none.
fn give_back(tx: &mut Db<'_>, name: &str, holder: &str) -> Result<bool> {
    let n = tx
        .execute("DELETE FROM leases WHERE name = $1 AND holder = $2", &[(&name, Type::TEXT), (&holder, Type::TEXT)])?;
    Ok(n == 1)
}
