//! Pooled connections that keep the statements they prepared, and the
//! transaction handle the store's SQL goes through.
//!
//! A statement sent unprepared is parsed and planned by the server every
//! time (about 1 ms here for the store's statements, against 0.2 ms for a
//! prepared one); so each pooled connection prepares a statement on first
//! use and keeps it, by its SQL text, for as long as the connection lives.

use super::Result;
use postgres::types::{ToSql, Type};
use postgres::{Client, Row, Statement, Transaction};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A parameter and its type: the type is given, so a statement is
/// prepared without asking the server to infer it.
pub(super) type Param<'a> = (&'a (dyn ToSql + Sync), Type);

/// One pooled connection.
pub(super) struct Conn {
    pub(super) client: Client,
    statements: HashMap<String, Statement>,
    /// When it was last taken from the pool.
    pub(super) taken: Instant,
    /// The store's count of lost connections when it was last taken.
    pub(super) losses: u64,
    /// Found dead: the pool drops it instead of lending it again.
    pub(super) broken: bool,
}

/// Opens connections for the pool and tells it which are dead.
#[derive(Debug)]
pub(super) struct Manager {
    pub(super) config: postgres::Config,
    pub(super) statement_timeout: Duration,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> std::result::Result<Conn, postgres::Error> {
        let mut client = self.config.connect(postgres::NoTls)?;
        let ms = self.statement_timeout.as_millis().max(1);
        client.batch_execute(&format!("SET statement_timeout = {ms}"))?;
        Ok(Conn { client, statements: HashMap::new(), taken: Instant::now(), losses: 0, broken: false })
    }

    fn is_valid(&self, conn: &mut Conn) -> std::result::Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

impl Conn {
    /// Is the connection still open? Asked with an empty query (one round
    /// trip); a dead one is marked for the pool to drop.
    pub(super) fn alive(&mut self) -> bool {
        let alive = !self.client.is_closed() && self.client.simple_query("").is_ok();
        self.broken |= !alive;
        alive
    }

    /// Begins a transaction.
    pub(super) fn begin(&mut self) -> Result<Db<'_>> {
        Ok(Db { scope: Scope::Tx(self.client.transaction()?), statements: &mut self.statements })
    }

    /// No transaction: each statement commits on its own. For a unit of
    /// work of one statement (a save, a read), which is atomic by itself.
    pub(super) fn autocommit(&mut self) -> Db<'_> {
        Db { scope: Scope::Auto(&mut self.client), statements: &mut self.statements }
    }

    /// One read on its own, outside a transaction: one round trip instead
    /// of three (for a look-up made at every request, such as a session's).
    pub(super) fn query_opt(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>> {
        let statement = match self.statements.get(sql) {
            Some(statement) => statement.clone(),
            None => {
                let types: Vec<Type> = params.iter().map(|(_, t)| t.clone()).collect();
                let statement = self.client.prepare_typed(sql, &types)?;
                self.statements.insert(sql.to_string(), statement.clone());
                statement
            }
        };
        let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(v, _)| *v).collect();
        Ok(self.client.query_opt(&statement, &values)?)
    }
}

/// Where a unit of work's statements go: a transaction (or a savepoint
/// inside one), or the connection itself, each statement committed alone.
enum Scope<'a> {
    Tx(Transaction<'a>),
    /// Autocommit: for a unit of work that is one statement, which then
    /// commits without the two round trips of `BEGIN` and `COMMIT`.
    Auto(&'a mut Client),
}

/// A transaction (or a savepoint inside one, or autocommit) with its
/// connection's statements.
pub(super) struct Db<'a> {
    scope: Scope<'a>,
    statements: &'a mut HashMap<String, Statement>,
}

impl Db<'_> {
    pub(super) fn commit(self) -> Result<()> {
        match self.scope {
            Scope::Tx(tx) => Ok(tx.commit()?),
            Scope::Auto(_) => Ok(()),
        }
    }

    pub(super) fn rollback(self) -> Result<()> {
        match self.scope {
            Scope::Tx(tx) => Ok(tx.rollback()?),
            Scope::Auto(_) => Ok(()),
        }
    }

    /// A savepoint: `commit` releases it, `rollback` undoes what was done
    /// since. Only inside a transaction: in autocommit it begins one.
    pub(super) fn savepoint(&mut self, name: &str) -> Result<Db<'_>> {
        let scope = match &mut self.scope {
            Scope::Tx(tx) => Scope::Tx(tx.savepoint(name)?),
            Scope::Auto(client) => Scope::Tx(client.transaction()?),
        };
        Ok(Db { scope, statements: &mut *self.statements })
    }

    /// The connection's prepared statement for `sql`, prepared now if new.
    fn statement(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let types: Vec<Type> = params.iter().map(|(_, t)| t.clone()).collect();
        let statement = match &mut self.scope {
            Scope::Tx(tx) => tx.prepare_typed(sql, &types)?,
            Scope::Auto(client) => client.prepare_typed(sql, &types)?,
        };
        self.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    pub(super) fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>> {
        let statement = self.statement(sql, params)?;
        let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(v, _)| *v).collect();
        Ok(match &mut self.scope {
            Scope::Tx(tx) => tx.query(&statement, &values)?,
            Scope::Auto(client) => client.query(&statement, &values)?,
        })
    }

    pub(super) fn query_opt(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>> {
        let statement = self.statement(sql, params)?;
        let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(v, _)| *v).collect();
        Ok(match &mut self.scope {
            Scope::Tx(tx) => tx.query_opt(&statement, &values)?,
            Scope::Auto(client) => client.query_opt(&statement, &values)?,
        })
    }

    pub(super) fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let statement = self.statement(sql, params)?;
        let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(v, _)| *v).collect();
        Ok(match &mut self.scope {
            Scope::Tx(tx) => tx.execute(&statement, &values)?,
            Scope::Auto(client) => client.execute(&statement, &values)?,
        })
    }
}
