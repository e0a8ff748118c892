//! Compiles statements and expressions to the slot-resolved IR, reporting
//! unknown names, wrong argument counts and misplaced `break`/`continue`.

use super::ir::*;
use super::Checker;
use crate::diagnostic::{nearest, Diagnostic};
use crate::runtime::builtins::{self, Builtin};
use crate::runtime::value::{Type, Value};
use crate::runtime::{convert, ops};
use crate::source::Span;
use crate::syntax::ast::{self, BinaryOp, ExprKind, StmtKind, TextPart, UnaryOp};
use indexmap::IndexMap;
use std::sync::Arc;

/// Room left on the stack below which a deep expression continues on a new segment.
const STACK_RED_ZONE: usize = 128 * 1024;
/// The size of each new stack segment.
const STACK_GROWTH: usize = 4 * 1024 * 1024;

/// What a script can see: the process's parameters and its own locals.
pub(crate) struct Scope<'p> {
    /// Parameter Codes and types by slot.
    pub params: &'p [(Arc<str>, Type)],
    /// Set when a parameter is read, for the "never read" warning.
    pub params_read: &'p mut Vec<bool>,
    /// Visible locals, innermost last.
    locals: Vec<(Arc<str>, u32)>,
    next_local: u32,
    loops: u32,
    /// False for defaults and other constant positions: no names at all.
    pub names_allowed: bool,
}

impl<'p> Scope<'p> {
    pub fn new(params: &'p [(Arc<str>, Type)], params_read: &'p mut Vec<bool>) -> Scope<'p> {
        Scope { params, params_read, locals: Vec::new(), next_local: 0, loops: 0, names_allowed: true }
    }

    /// Declares a local visible until the enclosing block ends.
    pub fn declare(&mut self, name: &str) -> u32 {
        let slot = self.next_local;
        self.next_local += 1;
        self.locals.push((name.into(), slot));
        slot
    }

    pub fn locals_needed(&self) -> u32 {
        self.next_local
    }

    fn lookup(&mut self, name: &str) -> Option<Root> {
        if let Some((_, slot)) = self.locals.iter().rev().find(|(n, _)| &**n == name) {
            return Some(Root::Local(*slot));
        }
        let slot = self.params.iter().position(|(code, _)| &**code == name)?;
        Some(Root::Param(slot as u32))
    }

    fn visible_names(&self) -> Vec<&str> {
        self.locals.iter().map(|(n, _)| &**n).chain(self.params.iter().map(|(c, _)| &**c)).collect()
    }
}

impl Checker {
    pub(crate) fn compile_script(&mut self, block: &ast::Block, scope: &mut Scope) -> Script {
        let body = self.compile_block(block, scope);
        Script { body, locals: scope.locals_needed() }
    }

    fn compile_block(&mut self, block: &ast::Block, scope: &mut Scope) -> Vec<CStmt> {
        let mark = scope.locals.len();
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        let out = stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || {
            // Sized for every statement: collecting from `filter_map` would start at four.
            let mut out = Vec::with_capacity(block.stmts.len());
            out.extend(block.stmts.iter().filter_map(|s| self.compile_stmt(s, scope)));
            out
        });
        self.depth -= 1;
        scope.locals.truncate(mark);
        out
    }

    fn compile_loop_body(&mut self, block: &ast::Block, scope: &mut Scope) -> Vec<CStmt> {
        scope.loops += 1;
        let body = self.compile_block(block, scope);
        scope.loops -= 1;
        body
    }

    fn compile_stmt(&mut self, stmt: &ast::Stmt, scope: &mut Scope) -> Option<CStmt> {
        let kind = match &stmt.kind {
            StmtKind::Assign { target, value } => {
                let value = self.compile_expr(value, scope);
                let target = self.compile_place(target, &value, scope)?;
                CStmtKind::Assign { target, value }
            }
            StmtKind::Let { name, value } => {
                let value = self.compile_expr(value, scope);
                if scope.params.iter().any(|(c, _)| **c == *name.name) {
                    self.error(
                        Diagnostic::error(
                            "procdsl::check::shadowed_parameter",
                            format!("`{}` is already a parameter of this process", name.name),
                        )
                        .with_label(name.span, "a local may not hide a parameter")
                        .with_help("choose another name for the local, or assign the parameter without `let`"),
                    );
                }
                let slot = scope.declare(&name.name);
                CStmtKind::Assign { target: CPlace { root: Root::Local(slot), path: Vec::new() }, value }
            }
            StmtKind::If { branches, otherwise } => {
                let branches =
                    branches.iter().map(|(c, b)| (self.compile_expr(c, scope), self.compile_block(b, scope))).collect();
                let otherwise = otherwise.as_ref().map(|b| self.compile_block(b, scope)).unwrap_or_default();
                CStmtKind::If { branches, otherwise }
            }
            StmtKind::While { condition, body } => {
                let condition = self.compile_expr(condition, scope);
                CStmtKind::While { condition, body: self.compile_loop_body(body, scope) }
            }
            StmtKind::For { var, iter, body } => {
                let kind_of = |this: &mut Self, scope: &mut Scope| match iter {
                    ast::ForIter::List(e) => (Some(this.compile_expr(e, scope)), None),
                    ast::ForIter::Range(a, b) => (Some(this.compile_expr(a, scope)), Some(this.compile_expr(b, scope))),
                };
                let (first, second) = kind_of(self, scope);
                let mark = scope.locals.len();
                let slot = scope.declare(&var.name);
                let body = self.compile_loop_body(body, scope);
                scope.locals.truncate(mark);
                let first = first?;
                match second {
                    None => CStmtKind::ForList { var: slot, list: first, body },
                    Some(to) => CStmtKind::ForRange { var: slot, from: first, to, body },
                }
            }
            StmtKind::Break | StmtKind::Continue => {
                if scope.loops == 0 {
                    let word = if matches!(stmt.kind, StmtKind::Break) { "break" } else { "continue" };
                    self.error(
                        Diagnostic::error("procdsl::check::outside_loop", format!("`{word}` outside a loop"))
                            .with_label(stmt.span, "not inside `while` or `for`"),
                    );
                    return None;
                }
                if matches!(stmt.kind, StmtKind::Break) {
                    CStmtKind::Break
                } else {
                    CStmtKind::Continue
                }
            }
            StmtKind::Return => CStmtKind::Return,
            StmtKind::Fail(e) => CStmtKind::Fail(self.compile_expr(e, scope)),
            StmtKind::Log(e) => CStmtKind::Log(self.compile_expr(e, scope)),
            StmtKind::Emit(e) => CStmtKind::Emit(self.compile_expr(e, scope)),
            StmtKind::Expr(e) => CStmtKind::Expr(self.compile_expr(e, scope)),
        };
        Some(CStmt::new(kind, stmt.span))
    }

    fn compile_place(&mut self, place: &ast::Place, value: &CExpr, scope: &mut Scope) -> Option<CPlace> {
        let Some(root) = scope.lookup(&place.root.name) else {
            self.unknown_variable(&place.root, scope);
            return None;
        };
        if let Root::Param(slot) = root {
            if place.path.is_empty() {
                self.check_literal_fits(value, &scope.params[slot as usize], place.root.span);
            } else {
                scope.params_read[slot as usize] = true;
            }
        }
        let path = place
            .path
            .iter()
            .map(|a| match a {
                ast::Accessor::Field(name) => CAccess::Field(name.name.as_str().into()),
                ast::Accessor::Index(e) => CAccess::Index(self.compile_expr(e, scope)),
            })
            .collect();
        Some(CPlace { root, path })
    }

    /// "A literal of the wrong type for a parameter" is caught before anything runs.
    pub(crate) fn check_literal_fits(&mut self, value: &CExpr, (code, ty): &(Arc<str>, Type), at: Span) {
        if !self.is_typed(code) {
            return;
        }
        // Both branches of a conditional must fit, whichever runs.
        if let CExprKind::Conditional(_, a, b) = &value.kind {
            let target = (code.clone(), ty.clone());
            self.check_literal_fits(a, &target, at);
            self.check_literal_fits(b, &target, at);
            return;
        }
        if let CExprKind::Const(v) = &value.kind {
            if let Err(why) = convert::conform(v.clone(), ty) {
                self.error(
                    Diagnostic::error(
                        "procdsl::check::wrong_type",
                        format!("`{code}` is {}; {why}", ty.with_article()),
                    )
                    .with_label(value.span, format!("not {}", ty.with_article()))
                    .with_label(at, "assigned here"),
                );
            }
        }
    }

    fn unknown_variable(&mut self, name: &ast::Ident, scope: &Scope) {
        let mut d = Diagnostic::error("procdsl::check::unknown_variable", format!("unknown variable `{}`", name.name));
        if !scope.names_allowed {
            d = Diagnostic::error(
                "procdsl::check::not_constant",
                format!("`{}`: a default must be a constant", name.name),
            )
            .with_label(name.span, "names cannot be used here");
            self.error(d);
            return;
        }
        d = d.with_label(name.span, "not a parameter or local variable here");
        if let Some(s) = nearest(&name.name, scope.visible_names()) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        self.error(d);
    }

    /// Compiles an expression. Trees may be up to 1,000 deep (the parser's
    /// limit); the stack grows on demand, so checking works on any thread.
    pub(crate) fn compile_expr(&mut self, expr: &ast::Expr, scope: &mut Scope) -> CExpr {
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        // A leaf does not recurse: it needs no look at the stack.
        let leaf = matches!(
            expr.kind,
            ExprKind::Null | ExprKind::Boolean(_) | ExprKind::Integer(_) | ExprKind::Decimal(_) | ExprKind::Var(_)
        );
        let compiled = if leaf {
            self.compile_expr_here(expr, scope)
        } else {
            stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || self.compile_expr_here(expr, scope))
        };
        self.depth -= 1;
        compiled
    }

    fn compile_expr_here(&mut self, expr: &ast::Expr, scope: &mut Scope) -> CExpr {
        let span = expr.span;
        let kind = match &expr.kind {
            ExprKind::Null => CExprKind::Const(Value::Null),
            ExprKind::Boolean(b) => CExprKind::Const(Value::Boolean(*b)),
            ExprKind::Integer(i) => CExprKind::Const(Value::Integer(*i)),
            ExprKind::Decimal(d) => CExprKind::Const(Value::Decimal(*d)),
            ExprKind::Text(parts) => {
                let parts: Vec<CTextPart> = parts
                    .iter()
                    .map(|p| match p {
                        TextPart::Literal(s) => CTextPart::Literal(s.as_str().into()),
                        TextPart::Interpolation(e) => CTextPart::Expr(self.compile_expr(e, scope)),
                    })
                    .collect();
                match parts.as_slice() {
                    [] => CExprKind::Const(Value::text("")),
                    [CTextPart::Literal(s)] => CExprKind::Const(Value::Text(s.clone())),
                    _ => CExprKind::Text(parts),
                }
            }
            ExprKind::List(items) => {
                let items: Vec<CExpr> = items.iter().map(|e| self.compile_expr(e, scope)).collect();
                if items.iter().all(|e| matches!(e.kind, CExprKind::Const(_))) {
                    let values = items
                        .into_iter()
                        .filter_map(|e| if let CExprKind::Const(v) = e.kind { Some(v) } else { None })
                        .collect();
                    match Value::list(values) {
                        Ok(v) => CExprKind::Const(v),
                        Err(e) => return self.const_error(span, e.to_string()),
                    }
                } else {
                    CExprKind::List(items)
                }
            }
            ExprKind::Object(attrs) => {
                let mut seen: Vec<&ast::Ident> = Vec::new();
                for (name, _) in attrs {
                    if let Some(first) = seen.iter().find(|n| n.name == name.name) {
                        self.error(
                            Diagnostic::error(
                                "procdsl::check::duplicate_attribute",
                                format!("attribute `{}` is written twice", name.name),
                            )
                            .with_label(name.span, "written again here")
                            .with_label(first.span, "first written here"),
                        );
                    }
                    seen.push(name);
                }
                let attrs: Vec<(Arc<str>, CExpr)> =
                    attrs.iter().map(|(n, e)| (n.name.as_str().into(), self.compile_expr(e, scope))).collect();
                if attrs.iter().all(|(_, e)| matches!(e.kind, CExprKind::Const(_))) {
                    let map: IndexMap<Arc<str>, Value> = attrs
                        .into_iter()
                        .filter_map(|(n, e)| if let CExprKind::Const(v) = e.kind { Some((n, v)) } else { None })
                        .collect();
                    match Value::object(map) {
                        Ok(v) => CExprKind::Const(v),
                        Err(e) => return self.const_error(span, e.to_string()),
                    }
                } else {
                    CExprKind::Object(attrs)
                }
            }
            ExprKind::Var(name) => {
                if !scope.names_allowed {
                    self.unknown_variable(name, scope);
                    return CExpr { kind: CExprKind::Const(Value::Null), span };
                }
                match scope.lookup(&name.name) {
                    Some(Root::Local(slot)) => CExprKind::Local(slot),
                    Some(Root::Param(slot)) => {
                        scope.params_read[slot as usize] = true;
                        CExprKind::Param(slot)
                    }
                    None => {
                        self.unknown_variable(name, scope);
                        CExprKind::Const(Value::Null)
                    }
                }
            }
            ExprKind::Field(base, name) => {
                CExprKind::Field(Box::new(self.compile_expr(base, scope)), name.name.as_str().into())
            }
            ExprKind::Index(pair) => {
                let [base, index] = &**pair;
                CExprKind::Index(Box::new([self.compile_expr(base, scope), self.compile_expr(index, scope)]))
            }
            ExprKind::Call(name, args) => {
                let args: Vec<CExpr> = args.iter().map(|a| self.compile_expr(a, scope)).collect();
                let Some(f) = Builtin::lookup(&name.name) else {
                    let mut d = Diagnostic::error(
                        "procdsl::check::unknown_function",
                        format!("unknown function `{}`", name.name),
                    )
                    .with_label(name.span, "not a standard function");
                    let suggestion = function_alias(&name.name)
                        .or_else(|| nearest(&name.name, builtins::ALL.iter().map(|b| b.name())));
                    if let Some(s) = suggestion {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    self.error(d);
                    return CExpr { kind: CExprKind::Const(Value::Null), span };
                };
                let (min, max) = f.arity();
                if args.len() < min || max.is_some_and(|m| args.len() > m) {
                    let called = |n: usize| format!("{n} argument{}", if n == 1 { "" } else { "s" });
                    self.error(
                        Diagnostic::error(
                            "procdsl::check::argument_count",
                            format!("`{}` takes {}, got {}", f.name(), f.arity_words(), args.len()),
                        )
                        .with_label(span, format!("called with {}", called(args.len()))),
                    );
                }
                if !scope.names_allowed && !f.is_pure() {
                    return self.const_error(span, format!("`{}` is not a constant", f.name()));
                }
                return self.fold(CExpr { kind: CExprKind::Call(f, args), span });
            }
            ExprKind::Unary(op, operand) => {
                let operand = self.compile_expr(operand, scope);
                return self.fold(CExpr { kind: CExprKind::Unary(*op, Box::new(operand)), span });
            }
            ExprKind::Binary(op, pair) => {
                let [a, b] = &**pair;
                let operands = [self.compile_expr(a, scope), self.compile_expr(b, scope)];
                return self.fold(CExpr { kind: CExprKind::Binary(*op, Box::new(operands)), span });
            }
            ExprKind::Conditional(c, a, b) => {
                let c = self.compile_expr(c, scope);
                if let CExprKind::Const(v) = &c.kind {
                    if let Err(why) = ops::truthy(v) {
                        self.error(
                            Diagnostic::error("procdsl::check::wrong_type", format!("`if … then … else`: the {why}"))
                                .with_label(c.span, "not a Boolean"),
                        );
                    }
                }
                let a = self.compile_expr(a, scope);
                let b = self.compile_expr(b, scope);
                return self.fold(CExpr { kind: CExprKind::Conditional(Box::new(c), Box::new(a), Box::new(b)), span });
            }
        };
        CExpr { kind, span }
    }

    fn const_error(&mut self, span: Span, message: String) -> CExpr {
        self.error(Diagnostic::error("procdsl::check::constant", message.clone()).with_label(span, message));
        CExpr { kind: CExprKind::Const(Value::Null), span }
    }

    /// Computes operators and pure functions on constants now, so that
    /// defaults like `-1` or `date("2026-01-01")` are plain values and
    /// scripts do not redo the work on every run. An error found here is
    /// left for run time, where it belongs to an element.
    fn fold(&mut self, expr: CExpr) -> CExpr {
        let span = expr.span;
        // A constant condition leaves only its branch (which may itself not be constant).
        if let CExprKind::Conditional(c, a, b) = expr.kind {
            return match c.kind {
                CExprKind::Const(Value::Boolean(true)) => *a,
                CExprKind::Const(Value::Boolean(false)) => *b,
                kind => CExpr { kind: CExprKind::Conditional(Box::new(CExpr { kind, span: c.span }), a, b), span },
            };
        }
        let is_const = |e: &CExpr| matches!(e.kind, CExprKind::Const(_));
        let folded = match &expr.kind {
            CExprKind::Unary(op, a) => match &a.kind {
                CExprKind::Const(v) => match op {
                    UnaryOp::Negate => ops::neg(v).ok(),
                    UnaryOp::Not => ops::not(v).ok(),
                },
                _ => None,
            },
            CExprKind::Binary(op, pair) => match (&pair[0].kind, &pair[1].kind) {
                (CExprKind::Const(x), CExprKind::Const(y)) => fold_binary(*op, x, y),
                _ => None,
            },

            CExprKind::Call(f, args) if f.is_pure() && args.iter().all(is_const) => {
                let mut values: Vec<Value> = args
                    .iter()
                    .filter_map(|e| if let CExprKind::Const(v) = &e.kind { Some(v.clone()) } else { None })
                    .collect();
                // Big work is left for run time, where the step budget bounds it.
                if f.work(&values) > MAX_FOLD_BYTES {
                    return expr;
                }
                f.call(&mut values, &mut NoContext).ok().filter(|v| v.size() <= MAX_FOLD_BYTES)
            }
            _ => None,
        };
        match folded {
            Some(v) => CExpr { kind: CExprKind::Const(v), span },
            None => expr,
        }
    }
}

/// Why an expression of constants did not fold: the innermost operation
/// that fails, and its error (`division by zero`, `2026-02-30 is not a
/// date`). `None` when something in it is not a constant at all.
pub(crate) fn constant_failure(expr: &CExpr) -> Option<(Span, String)> {
    let constant = |e: &CExpr| if let CExprKind::Const(v) = &e.kind { Some(v.clone()) } else { None };
    let failure = match &expr.kind {
        CExprKind::Unary(op, a) => {
            if let Some(inner) = constant_failure(a) {
                return Some(inner);
            }
            let a = constant(a)?;
            match op {
                UnaryOp::Negate => ops::neg(&a).err(),
                UnaryOp::Not => ops::not(&a).err(),
            }
        }
        CExprKind::Binary(op, pair) => {
            let [a, b] = &**pair;
            if let Some(inner) = constant_failure(a).or_else(|| constant_failure(b)) {
                return Some(inner);
            }
            let (x, y) = (constant(a)?, constant(b)?);
            match op {
                BinaryOp::Add => ops::add(&x, &y).err(),
                BinaryOp::Sub => ops::sub(&x, &y).err(),
                BinaryOp::Mul => ops::mul(&x, &y).err(),
                BinaryOp::Div => ops::div(&x, &y).err(),
                BinaryOp::Rem => ops::rem(&x, &y).err(),
                BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => ops::compare(&x, &y).err(),
                BinaryOp::And | BinaryOp::Or => ops::truthy(&x).and(ops::truthy(&y)).err(),
                BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Coalesce => None,
            }
        }
        CExprKind::Call(f, args) => {
            if let Some(inner) = args.iter().find_map(constant_failure) {
                return Some(inner);
            }
            let mut values = args.iter().map(constant).collect::<Option<Vec<Value>>>()?;
            f.call(&mut values, &mut NoContext).err()
        }
        _ => None,
    };
    failure.map(|why| (expr.span, why))
}

fn fold_binary(op: BinaryOp, x: &Value, y: &Value) -> Option<Value> {
    match op {
        BinaryOp::Coalesce => Some(if x.is_null() { y.clone() } else { x.clone() }),
        BinaryOp::And | BinaryOp::Or => match (x, y) {
            (Value::Boolean(a), Value::Boolean(b)) => {
                Some(Value::Boolean(if op == BinaryOp::And { *a && *b } else { *a || *b }))
            }
            _ => None,
        },
        BinaryOp::Eq => Some(Value::Boolean(ops::equals(x, y))),
        BinaryOp::Ne => Some(Value::Boolean(!ops::equals(x, y))),
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let ord = ops::compare(x, y).ok()?;
            Some(Value::Boolean(match op {
                BinaryOp::Lt => ord.is_lt(),
                BinaryOp::Le => ord.is_le(),
                BinaryOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            }))
        }
        BinaryOp::Add => ops::add(x, y).ok(),
        BinaryOp::Sub => ops::sub(x, y).ok(),
        BinaryOp::Mul => ops::mul(x, y).ok(),
        BinaryOp::Div => ops::div(x, y).ok(),
        BinaryOp::Rem => ops::rem(x, y).ok(),
    }
}

/// The most work (in bytes, as the step budget counts it) one call may do
/// when it is computed while checking, and the largest value it may give.
const MAX_FOLD_BYTES: u64 = 64 * 1024;

/// Folding never calls the clock or the last error.
struct NoContext;

impl builtins::BuiltinContext for NoContext {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::UNIX_EPOCH
    }
    fn last_error(&self) -> Option<&str> {
        None
    }
    fn new_guid(&mut self) -> uuid::Uuid {
        uuid::Uuid::nil()
    }
}

impl Builtin {
    /// Pure functions give the same result for the same arguments, so they
    /// can be computed when the process is checked.
    pub fn is_pure(self) -> bool {
        !matches!(self, Builtin::Now | Builtin::Today | Builtin::NewGuid | Builtin::LastError)
    }
}

/// The standard function meant by a name other languages use for it.
fn function_alias(name: &str) -> Option<&'static str> {
    Some(match name.to_lowercase().as_str() {
        "length" | "size" | "count" | "strlen" => "len",
        "str" | "string" | "to_string" | "tostring" => "text",
        "int" | "to_int" | "parse_int" | "parseint" => "integer",
        "float" | "number" | "to_decimal" => "decimal",
        "toupper" | "to_upper" | "upcase" => "upper",
        "tolower" | "to_lower" | "downcase" => "lower",
        "append" => "push",
        "uuid" | "newid" | "new_uuid" => "new_guid",
        _ => return None,
    })
}
