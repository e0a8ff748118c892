//! The statement and expression interpreter: walks the slot-resolved IR.

use crate::check::ir::*;
use crate::check::spec::ParamSpec;
use crate::runtime::builtins::{Builtin, BuiltinContext};
use crate::runtime::engine::DEFAULT_MAX_MEMORY;
use crate::runtime::instance::{ErrorOrigin, Log};
use crate::runtime::value::ITEM_BYTES;
use crate::runtime::value::{Type, Value};
use crate::runtime::{convert, ops};
use crate::source::Span;
use crate::syntax::ast::{BinaryOp, UnaryOp};
use jiff::Timestamp;
use std::fmt::Write;
use std::sync::Arc;

/// Longest text a script may build.
pub const MAX_TEXT_BYTES: usize = 16 << 20;

/// Why a script or element stopped with an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A run-time error or `fail`: an `on error` handler may take it.
    Failure,
    /// The step budget ran out: the instance fails, handlers or not.
    Budget,
}

/// A run-time error and where it happened.
#[derive(Clone, Debug)]
pub struct RunError {
    pub message: String,
    pub span: Option<Span>,
    pub kind: ErrorKind,
    /// A failed sub-process's innermost failure (the call element fails with it).
    pub origin: Option<Box<ErrorOrigin>>,
}

impl RunError {
    /// An error without a place yet; the place is added while unwinding.
    pub fn new(message: impl Into<String>) -> RunError {
        RunError { message: message.into(), span: None, kind: ErrorKind::Failure, origin: None }
    }

    /// The failing element's own message: the innermost one for a failed
    /// sub-process, without places (what `last_error()` returns).
    pub fn own_message(&self) -> &str {
        self.origin.as_ref().map_or(&self.message, |o| &o.message)
    }

    /// Sets the place only if none is set yet: the innermost place wins.
    pub fn at(mut self, span: Span) -> RunError {
        self.span.get_or_insert(span);
        self
    }
}

/// How a block ended, when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Next,
    Break,
    Continue,
    Return,
}

/// Bytes of work that cost one step: text built, copied, scanned or
/// parsed, and list items or attributes built, copied or compared
/// ([`ITEM_BYTES`] each). Calibrated so that a step of work takes about as
/// long as a simple statement (docs/LIMITS.md).
pub const BYTES_PER_STEP: u64 = 64;

/// The budgets of one run: steps, which bound its time, and memory, which
/// bounds what each instance holds.
///
/// Every element, statement and loop turn costs a step, plus the weight
/// of the expressions it evaluates ([`CExpr::weight`]), plus one per
/// [`BYTES_PER_STEP`] of work that grows with the size of the values
/// (charged before the work is done where its size is known). So an
/// endless loop, or a loop that builds big values, ends with a clear error
/// within seconds (docs/LIMITS.md has the measured worst cases).
///
/// A run may also have a deadline (the service's request time-out): it is
/// looked at every [`DEADLINE_STRIDE`] steps, and a run past it stops the
/// same way.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub limit: u64,
    pub used: u64,
    /// The most an instance may hold, in bytes: the [`Value::size`] of its
    /// parameters plus its log.
    pub max_memory: u64,
    /// Stop the run once this moment has passed (see [`Budget::with_deadline`]).
    deadline: Option<std::time::Instant>,
    /// Set when the run was stopped by its deadline, not by the step limit.
    pub timed_out: bool,
    /// The clock is looked at again once `used` reaches this (never without a deadline).
    next_look: u64,
}

/// How many steps between two looks at the clock, so that a step usually
/// costs one more comparison, not a clock read.
pub const DEADLINE_STRIDE: u64 = 1024;

impl Budget {
    /// A budget of `limit` steps, none spent, and the default memory budget.
    pub fn new(limit: u64) -> Budget {
        Budget { limit, used: 0, max_memory: DEFAULT_MAX_MEMORY, deadline: None, timed_out: false, next_look: u64::MAX }
    }

    /// The same budget with another memory budget (bytes).
    pub fn with_memory(self, max_memory: u64) -> Budget {
        Budget { max_memory, ..self }
    }

    /// The same budget, also stopped once `deadline` has passed.
    pub fn with_deadline(self, deadline: std::time::Instant) -> Budget {
        Budget { deadline: Some(deadline), next_look: self.used + DEADLINE_STRIDE, ..self }
    }

    /// Spends one step; fails when the budget is exhausted or the deadline passed.
    #[inline]
    pub fn spend(&mut self, span: Span) -> Result<(), RunError> {
        self.spend_steps(1, span)
    }

    /// Spends several steps at once; fails when the budget is exhausted.
    #[inline]
    pub fn spend_steps(&mut self, steps: u64, span: Span) -> Result<(), RunError> {
        self.used = self.used.saturating_add(steps);
        if self.used > self.limit {
            return Err(self.exhausted(span));
        }
        if self.used >= self.next_look {
            self.next_look = self.used + DEADLINE_STRIDE;
            if self.deadline.is_some_and(|d| std::time::Instant::now() < d) {
                return Ok(());
            }
            self.timed_out = true;
            return Err(RunError {
                message: "the run was stopped: it took longer than its time limit".to_string(),
                span: Some(span),
                kind: ErrorKind::Budget,
                origin: None,
            });
        }
        Ok(())
    }

    /// Spends what `bytes` of work cost, before doing the work.
    #[inline]
    pub fn spend_bytes(&mut self, bytes: u64, span: Span) -> Result<(), RunError> {
        if bytes < BYTES_PER_STEP {
            return Ok(());
        }
        self.spend_steps(bytes / BYTES_PER_STEP, span)
    }

    /// The most an instance's log may hold: a quarter of the memory budget,
    /// so that a chatty loop leaves room for the values.
    pub fn max_log_bytes(&self) -> u64 {
        self.max_memory / 4
    }

    #[cold]
    fn exhausted(&self, span: Span) -> RunError {
        RunError {
            message: format!(
                "step budget of {} steps exceeded (an endless loop, or too much work?); raise it with --max-steps",
                self.limit
            ),
            span: Some(span),
            kind: ErrorKind::Budget,
            origin: None,
        }
    }

    /// Fails when an instance holding `held` bytes is over the memory
    /// budget; `what` names what took it there.
    pub fn check_memory(&self, held: u64, what: &str) -> Result<(), RunError> {
        if held > self.max_memory {
            return Err(self.memory_exceeded(what, held));
        }
        Ok(())
    }

    /// The memory budget is exceeded: `what` would take the instance to `total` bytes.
    #[cold]
    fn memory_exceeded(&self, what: &str, total: u64) -> RunError {
        RunError {
            message: format!(
                "memory budget of {} exceeded: {what} the instance {} in all; raise it with --max-memory",
                show_bytes(self.max_memory),
                show_bytes(total)
            ),
            span: None,
            kind: ErrorKind::Budget,
            origin: None,
        }
    }
}

/// `256 MiB`, `1.5 GiB`, `300 bytes`: sizes in messages.
pub fn show_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

/// Records each parameter's value before an element first changes it, so
/// that a failing element can be undone without copying all state up front.
#[derive(Debug, Default)]
pub struct Undo {
    saved: Vec<(u32, Value)>,
    touched: Vec<bool>,
}

impl Undo {
    /// Starts recording for one element of an instance with `params` parameters.
    pub fn begin(&mut self, params: usize) {
        self.saved.clear();
        self.touched.clear();
        self.touched.resize(params, false);
    }

    /// Keeps a parameter's value from before the element first changed it
    /// (scripts, and a sub-process's outputs).
    #[inline]
    pub fn record(&mut self, slot: u32, old: &Value) {
        if let Some(t) = self.touched.get_mut(slot as usize) {
            if !*t {
                *t = true;
                self.saved.push((slot, old.clone()));
            }
        }
    }

    /// Puts every changed parameter back.
    pub fn rollback(&mut self, params: &mut [Value]) {
        for (slot, old) in self.saved.drain(..).rev() {
            params[slot as usize] = old;
        }
    }

    /// The parameters changed since `begin`, with their old values.
    pub fn changes(&self) -> &[(u32, Value)] {
        &self.saved
    }
}

/// Everything a script can touch while it runs.
pub struct Eval<'a> {
    pub params: &'a mut [Value],
    pub specs: &'a [ParamSpec],
    pub locals: &'a mut Vec<Value>,
    pub undo: &'a mut Undo,
    pub log: &'a mut Log,
    pub signals: &'a mut Vec<Arc<str>>,
    pub budget: &'a mut Budget,
    pub now: Timestamp,
    pub last_error: Option<&'a str>,
    /// What the instance holds (parameters and log), measured at the first
    /// assignment to a parameter and kept up to date from there.
    pub memory: Option<u64>,
}

impl BuiltinContext for Eval<'_> {
    fn now(&self) -> Timestamp {
        self.now
    }
    fn last_error(&self) -> Option<&str> {
        self.last_error
    }
    fn new_guid(&mut self) -> uuid::Uuid {
        crate::runtime::ids::new_uid()
    }
}

impl Eval<'_> {
    /// Runs a script's statements with fresh locals (the first ones preset,
    /// e.g. a user task's fields).
    pub fn run_script(&mut self, script: &Script, preset: Vec<Value>) -> Result<(), RunError> {
        self.locals.clear();
        // Most scripts have neither fields nor locals: skip the calls then.
        if !preset.is_empty() {
            self.locals.extend(preset);
        }
        if self.locals.len() != script.locals as usize {
            self.locals.resize(script.locals as usize, Value::Null);
        }
        self.block(&script.body).map(|_| ())
    }

    fn block(&mut self, stmts: &[CStmt]) -> Result<Control, RunError> {
        for stmt in stmts {
            let control = self.stmt(stmt)?;
            if control != Control::Next {
                return Ok(control);
            }
        }
        Ok(Control::Next)
    }

    fn stmt(&mut self, stmt: &CStmt) -> Result<Control, RunError> {
        self.budget.spend_steps(stmt.cost.into(), stmt.span)?;
        match &stmt.kind {
            CStmtKind::Assign { target, value } => {
                let value = self.expr(value)?;
                self.assign(target, value, stmt.span).map_err(|e| e.at(stmt.span))?;
            }
            CStmtKind::If { branches, otherwise } => {
                for (condition, body) in branches {
                    if self.condition(condition)? {
                        return self.block(body);
                    }
                }
                return self.block(otherwise);
            }
            CStmtKind::While { condition, body } => {
                while self.condition(condition)? {
                    self.budget.spend_steps(stmt.cost.into(), stmt.span)?;
                    match self.block(body)? {
                        Control::Break => break,
                        Control::Return => return Ok(Control::Return),
                        Control::Next | Control::Continue => {}
                    }
                }
            }
            CStmtKind::ForList { var, list, body } => {
                let list_value = self.expr(list)?;
                let items = match &list_value {
                    Value::List(l) => l.clone(),
                    Value::Null => return Ok(Control::Next),
                    other => {
                        return Err(
                            RunError::new(format!("`for … in` needs a List, got {}", other.type_name())).at(list.span)
                        )
                    }
                };
                for item in &items.items {
                    self.budget.spend(stmt.span)?;
                    self.locals[*var as usize] = item.clone();
                    match self.block(body)? {
                        Control::Break => break,
                        Control::Return => return Ok(Control::Return),
                        Control::Next | Control::Continue => {}
                    }
                }
            }
            CStmtKind::ForRange { var, from, to, body } => {
                let from_value = self.integer(from)?;
                let to_value = self.integer(to)?;
                let mut i = from_value;
                while i < to_value {
                    self.budget.spend(stmt.span)?;
                    self.locals[*var as usize] = Value::Integer(i);
                    match self.block(body)? {
                        Control::Break => break,
                        Control::Return => return Ok(Control::Return),
                        Control::Next | Control::Continue => {}
                    }
                    i += 1;
                }
            }
            CStmtKind::Break => return Ok(Control::Break),
            CStmtKind::Continue => return Ok(Control::Continue),
            CStmtKind::Return => return Ok(Control::Return),
            CStmtKind::Fail(message) => {
                let value = self.expr(message)?;
                // Bounded and charged like every text: `fail [last_error()]` in a
                // loop through its own handler doubles the message each turn.
                let text = self.display_text(&value, message.span)?;
                return Err(RunError::new(text).at(stmt.span));
            }
            CStmtKind::Log(line) => {
                let value = self.expr(line)?;
                let text = self.display_text(&value, line.span)?;
                self.log.push(text, self.budget.max_log_bytes());
                self.memory = None;
            }
            CStmtKind::Emit(name) => match self.expr(name)? {
                Value::Text(name) => self.signals.push(name),
                other => {
                    return Err(RunError::new(format!(
                        "`emit` needs the signal's name as Text, got {}",
                        other.type_name()
                    ))
                    .at(name.span))
                }
            },
            CStmtKind::Expr(e) => {
                self.expr(e)?;
            }
        }
        Ok(Control::Next)
    }

    /// A value as text (`log`, `fail`, interpolation), its work charged first.
    fn display_text(&mut self, value: &Value, span: Span) -> Result<String, RunError> {
        // A text is copied; anything else is written as JSON, character by
        // character (quotes escaped), which costs what `to_json` does.
        let work = match value {
            Value::Text(_) => value.size(),
            _ => value.size().saturating_mul(super::builtins::CHAR_WORK),
        };
        self.budget.spend_bytes(work.min(MAX_TEXT_BYTES as u64 * super::builtins::CHAR_WORK), span)?;
        convert::to_display_text(value).map_err(|m| RunError::new(m).at(span))
    }

    fn condition(&mut self, e: &CExpr) -> Result<bool, RunError> {
        let v = self.expr(e)?;
        ops::truthy(&v).map_err(|m| RunError::new(m).at(e.span))
    }

    fn integer(&mut self, e: &CExpr) -> Result<i64, RunError> {
        match self.expr(e)? {
            Value::Integer(i) => Ok(i),
            other => Err(RunError::new(format!("expected an Integer, got {}", other.type_name())).at(e.span)),
        }
    }

    fn assign(&mut self, place: &CPlace, value: Value, span: Span) -> Result<(), RunError> {
        let mut keys = Vec::with_capacity(place.path.len());
        for access in &place.path {
            keys.push(match access {
                CAccess::Field(name) => Key::Field(name.clone()),
                CAccess::Index(e) => Key::Index(self.integer(e)?, e.span),
            });
        }
        match place.root {
            Root::Local(slot) => set_path(&mut self.locals[slot as usize], &keys, value, self.budget, span),
            Root::Param(slot) => {
                let spec = &self.specs[slot as usize];
                // Conforming visits every value inside.
                self.budget.spend_bytes(conform_work(&value), span)?;
                let value = match type_at(&spec.ty, &keys) {
                    Some(ty) => convert::conform(value, ty)
                        .map_err(|why| RunError::new(format!("`{}`: {why}", describe_place(&spec.code, &keys))))?,
                    None if keys.is_empty() => value,
                    None => {
                        return Err(RunError::new(format!(
                            "`{}` has no such attribute or item",
                            describe_place(&spec.code, &keys)
                        )))
                    }
                };
                self.undo.record(slot, &self.params[slot as usize]);
                let before = self.params[slot as usize].size();
                set_path(&mut self.params[slot as usize], &keys, value, self.budget, span)?;
                let after = self.params[slot as usize].size();
                // Small values are not measured, to keep assignments cheap: a
                // value within its share of a quarter of the budget (the
                // quarter divided among the parameters) adds little. The
                // instance is measured when a bigger value arrives.
                let share = after.saturating_mul(4 * self.params.len() as u64);
                if self.memory.is_none() && share <= self.budget.max_memory {
                    return Ok(());
                }
                let total = match self.memory {
                    Some(held) => held.saturating_sub(before).saturating_add(after),
                    // Measured now, with the new value.
                    None => self.memory_held(span)?,
                };
                self.memory = Some(total);
                if total > self.budget.max_memory {
                    let what = format!("`{}` would hold {}, and", describe_place(&spec.code, &keys), show_bytes(after));
                    return self.budget.check_memory(total, &what);
                }
                Ok(())
            }
        }
    }

    /// What the instance holds now: its parameters and its log. Measured
    /// once per script (a visit of every parameter, charged), then kept.
    fn memory_held(&mut self, span: Span) -> Result<u64, RunError> {
        match self.memory {
            Some(held) => Ok(held),
            None => {
                self.budget.spend_bytes((self.params.len() as u64).saturating_mul(ITEM_BYTES), span)?;
                let held = self.params.iter().map(Value::size).fold(self.log.bytes(), u64::saturating_add);
                self.memory = Some(held);
                Ok(held)
            }
        }
    }

    /// Evaluates an expression to a value.
    pub fn expr(&mut self, e: &CExpr) -> Result<Value, RunError> {
        match &e.kind {
            CExprKind::Const(v) => Ok(v.clone()),
            CExprKind::Param(slot) => Ok(self.params[*slot as usize].clone()),
            CExprKind::Local(slot) => Ok(self.locals[*slot as usize].clone()),
            CExprKind::Binary(op, pair) => self.binary(*op, &pair[0], &pair[1]).map_err(|err| err.at(e.span)),
            CExprKind::Conditional(c, a, b) => {
                if self.condition(c)? {
                    self.expr(a)
                } else {
                    self.expr(b)
                }
            }
            CExprKind::Unary(op, a) => {
                let v = self.expr(a)?;
                match op {
                    UnaryOp::Negate => ops::neg(&v),
                    UnaryOp::Not => ops::not(&v),
                }
                .map_err(|m| RunError::new(m).at(e.span))
            }
            CExprKind::Text(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        CTextPart::Literal(s) => out.push_str(s),
                        CTextPart::Expr(x) => {
                            let v = self.expr(x)?;
                            match &v {
                                Value::Text(t) => {
                                    self.budget.spend_bytes(t.len() as u64, e.span)?;
                                    out.push_str(t)
                                }
                                other => out.push_str(&self.display_text(other, x.span)?),
                            }
                        }
                    }
                    if out.len() > MAX_TEXT_BYTES {
                        return Err(RunError::new(format!("text longer than {MAX_TEXT_BYTES} bytes")).at(e.span));
                    }
                }
                Ok(Value::text(out))
            }
            CExprKind::List(items) => {
                let values = items.iter().map(|x| self.expr(x)).collect::<Result<Vec<_>, _>>()?;
                Value::list(values).map_err(|d| RunError::new(d.to_string()).at(e.span))
            }
            CExprKind::Object(attrs) => {
                let mut map = indexmap::IndexMap::with_capacity(attrs.len());
                for (name, x) in attrs {
                    map.insert(name.clone(), self.expr(x)?);
                }
                Value::object(map).map_err(|d| RunError::new(d.to_string()).at(e.span))
            }
            CExprKind::Field(base, name) => {
                let v = self.expr(base)?;
                field(&v, name).map_err(|m| RunError::new(m).at(e.span))
            }
            CExprKind::Index(pair) => {
                let [base, index] = &**pair;
                let v = self.expr(base)?;
                let i = self.expr(index)?;
                if let Value::Text(name) = &i {
                    self.budget.spend_bytes(name.len() as u64, e.span)?;
                }
                item(&v, &i).map_err(|m| RunError::new(m).at(e.span))
            }
            CExprKind::Call(f, args) => {
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.expr(a)?);
                }
                self.budget.spend_bytes(f.work(&values), e.span)?;
                let result = f.call(&mut values, self).map_err(|m| RunError::new(m).at(e.span))?;
                if f.builds_result() {
                    self.budget.spend_bytes(Builtin::result_work(&result), e.span)?;
                }
                Ok(result)
            }
        }
    }

    fn binary(&mut self, op: BinaryOp, a: &CExpr, b: &CExpr) -> Result<Value, RunError> {
        let x = self.expr(a)?;
        match op {
            BinaryOp::Coalesce => {
                return if x.is_null() { self.expr(b) } else { Ok(x) };
            }
            BinaryOp::And | BinaryOp::Or => {
                let left = ops::truthy(&x).map_err(|m| RunError::new(format!("`{}`: {m}", op.symbol())).at(a.span))?;
                if left == (op == BinaryOp::Or) {
                    return Ok(Value::Boolean(left));
                }
                let y = self.expr(b)?;
                return ops::truthy(&y)
                    .map(Value::Boolean)
                    .map_err(|m| RunError::new(format!("`{}`: {m}", op.symbol())).at(b.span));
            }
            _ => {}
        }
        let y = self.expr(b)?;
        self.budget.spend_bytes(binary_work(op, &x, &y), a.span)?;
        let result = match op {
            BinaryOp::Add => ops::add(&x, &y),
            BinaryOp::Sub => ops::sub(&x, &y),
            BinaryOp::Mul => ops::mul(&x, &y),
            BinaryOp::Div => ops::div(&x, &y),
            BinaryOp::Rem => ops::rem(&x, &y),
            BinaryOp::Eq => Ok(Value::Boolean(ops::equals(&x, &y))),
            BinaryOp::Ne => Ok(Value::Boolean(!ops::equals(&x, &y))),
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => ops::compare(&x, &y).map(|ord| {
                Value::Boolean(match op {
                    BinaryOp::Lt => ord.is_lt(),
                    BinaryOp::Le => ord.is_le(),
                    BinaryOp::Gt => ord.is_gt(),
                    _ => ord.is_ge(),
                })
            }),
            BinaryOp::Coalesce | BinaryOp::And | BinaryOp::Or => unreachable_op(op),
        };
        result.map_err(RunError::new)
    }
}

/// The bytes of work checking a value against a declared type does: a
/// visit of every value inside it.
#[inline]
pub fn conform_work(value: &Value) -> u64 {
    match value {
        Value::List(_) | Value::Object(_) => value.nodes().saturating_mul(ITEM_BYTES),
        _ => 0,
    }
}

/// The bytes of work an operator does beyond a step: joining texts or
/// lists, comparing texts, lists or objects. Nothing for scalars.
#[inline]
fn binary_work(op: BinaryOp, x: &Value, y: &Value) -> u64 {
    if !matches!(x, Value::Text(_) | Value::List(_) | Value::Object(_)) {
        return 0;
    }
    let compares =
        matches!(op, BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge);
    match (x, y) {
        (Value::Text(a), Value::Text(b)) if op == BinaryOp::Add => (a.len() as u64).saturating_add(b.len() as u64),
        (Value::List(a), Value::List(b)) if op == BinaryOp::Add => {
            ((a.items.len() as u64).saturating_add(b.items.len() as u64)).saturating_mul(ITEM_BYTES)
        }
        (Value::Text(_), Value::Text(_)) | (Value::List(_), Value::List(_)) | (Value::Object(_), Value::Object(_))
            if compares =>
        {
            x.size().min(y.size())
        }
        _ => 0,
    }
}

fn unreachable_op(op: BinaryOp) -> Result<Value, String> {
    Err(format!("operator `{}` evaluated out of order", op.symbol()))
}

enum Key {
    Field(Arc<str>),
    Index(i64, Span),
}

fn describe_place(root: &str, keys: &[Key]) -> String {
    let mut s = root.to_string();
    for k in keys {
        match k {
            Key::Field(f) => {
                let _ = write!(s, ".{f}");
            }
            Key::Index(i, _) => {
                let _ = write!(s, "[{i}]");
            }
        }
    }
    s
}

/// The declared type at a path inside a parameter's type.
fn type_at<'t>(ty: &'t Type, keys: &[Key]) -> Option<&'t Type> {
    let mut ty = ty;
    for k in keys {
        ty = match (ty, k) {
            (Type::Object(attrs), Key::Field(f)) => attrs.iter().find(|(n, _)| n == f).map(|(_, t)| t)?,
            (Type::List(item), Key::Index(..)) => item,
            _ => return None,
        };
    }
    Some(ty)
}

/// Sets the value at a path. A list or object shared with another value
/// is copied first (its items, not deeper), and that copy is charged.
fn set_path(target: &mut Value, keys: &[Key], value: Value, budget: &mut Budget, at: Span) -> Result<(), RunError> {
    let Some((first, rest)) = keys.split_first() else {
        *target = value;
        return Ok(());
    };
    let too_deep = |d: crate::runtime::value::TooDeep| RunError::new(d.to_string());
    match (target, first) {
        (Value::Object(obj), Key::Field(name)) => {
            if Arc::strong_count(obj) > 1 {
                budget.spend_bytes((obj.attrs.len() as u64).saturating_mul(ITEM_BYTES), at)?;
            }
            let obj = Arc::make_mut(obj);
            if rest.is_empty() {
                return obj.set(name.clone(), value).map_err(too_deep);
            }
            let Some(mut child) = obj.take(name) else {
                return Err(RunError::new(format!("the object has no attribute `{name}`")));
            };
            let result = set_path(&mut child, rest, value, budget, at);
            obj.set(name.clone(), child).map_err(too_deep)?;
            result
        }
        (Value::List(list), Key::Index(i, span)) => {
            let len = list.items.len();
            let index = usize::try_from(*i).ok().filter(|i| *i < len).ok_or_else(|| {
                RunError::new(format!(
                    "index {i} is out of range for a list of {len} item{}",
                    if len == 1 { "" } else { "s" }
                ))
                .at(*span)
            })?;
            if Arc::strong_count(list) > 1 {
                budget.spend_bytes((len as u64).saturating_mul(ITEM_BYTES), at)?;
            }
            let list = Arc::make_mut(list);
            if rest.is_empty() {
                return list.set(index, value).map_err(too_deep);
            }
            let mut child = list.take(index);
            let result = set_path(&mut child, rest, value, budget, at);
            list.set(index, child).map_err(too_deep)?;
            result
        }
        (Value::Null, Key::Field(name)) => Err(RunError::new(format!("cannot set attribute `{name}` of null"))),
        (Value::Null, Key::Index(i, _)) => Err(RunError::new(format!("cannot set item [{i}] of null"))),
        (other, Key::Field(name)) => {
            Err(RunError::new(format!("cannot set attribute `{name}` of a {}", other.type_name())))
        }
        (other, Key::Index(i, _)) => Err(RunError::new(format!("cannot set item [{i}] of a {}", other.type_name()))),
    }
}

fn field(v: &Value, name: &str) -> Result<Value, String> {
    match v {
        Value::Object(o) => o.attrs.get(name).cloned().ok_or_else(|| {
            let mut m = format!("the object has no attribute `{name}`");
            if let Some(s) = crate::diagnostic::nearest(name, o.attrs.keys().map(|k| &**k)) {
                let _ = write!(m, "; did you mean `{s}`?");
            }
            m
        }),
        Value::Null => Err(format!("cannot read attribute `{name}` of null")),
        other => Err(format!("cannot read attribute `{name}` of a {}", other.type_name())),
    }
}

fn item(v: &Value, index: &Value) -> Result<Value, String> {
    match (v, index) {
        (Value::List(l), Value::Integer(i)) => {
            let len = l.items.len();
            usize::try_from(*i).ok().and_then(|i| l.items.get(i)).cloned().ok_or_else(|| {
                format!("index {i} is out of range for a list of {len} item{}", if len == 1 { "" } else { "s" })
            })
        }
        (Value::Object(_), Value::Text(name)) => field(v, name),
        (Value::Null, _) => Err("cannot index null".to_string()),
        (Value::List(_), other) => Err(format!("a list index must be an Integer, got {}", other.type_name())),
        (other, _) => Err(format!("cannot index a {}", other.type_name())),
    }
}
