//! Scripts resolved for the interpreter: every name is a parameter slot, a
//! local slot or a standard function, found once when the process is checked.

use crate::runtime::builtins::Builtin;
use crate::runtime::value::Value;
use crate::source::Span;
use crate::syntax::ast::{BinaryOp, UnaryOp};
use std::sync::Arc;

/// A checked block of statements and the number of local slots it needs.
#[derive(Debug, Default)]
pub struct Script {
    pub body: Vec<CStmt>,
    pub locals: u32,
}

/// A checked expression and where it was written.
#[derive(Debug)]
pub struct CExpr {
    pub kind: CExprKind,
    pub span: Span,
}

/// What an expression computes; names are already slots.
#[derive(Debug)]
pub enum CExprKind {
    Const(Value),
    Param(u32),
    Local(u32),
    Text(Vec<CTextPart>),
    List(Vec<CExpr>),
    Object(Vec<(Arc<str>, CExpr)>),
    Field(Box<CExpr>, Arc<str>),
    /// The base and the index, in one allocation.
    Index(Box<[CExpr; 2]>),
    Call(Builtin, Vec<CExpr>),
    Unary(UnaryOp, Box<CExpr>),
    /// The two operands, in one allocation.
    Binary(BinaryOp, Box<[CExpr; 2]>),
    /// `if c then a else b`.
    Conditional(Box<CExpr>, Box<CExpr>, Box<CExpr>),
}

/// A piece of an interpolated text.
#[derive(Debug)]
pub enum CTextPart {
    Literal(Arc<str>),
    Expr(CExpr),
}

/// A checked statement and where it was written.
#[derive(Debug)]
pub struct CStmt {
    pub kind: CStmtKind,
    pub span: Span,
    /// The steps running it costs, known when it is checked: one, plus the
    /// [`CExpr::weight`] of the expressions it evaluates (work that grows
    /// with the values' size is charged as it happens).
    pub cost: u32,
}

impl CStmt {
    /// A statement with its cost.
    pub fn new(kind: CStmtKind, span: Span) -> CStmt {
        let weight = match &kind {
            CStmtKind::Assign { target, value } => {
                let path = target.path.iter().map(|a| match a {
                    CAccess::Field(_) => 1,
                    CAccess::Index(e) => e.weight().max(1),
                });
                value.weight().saturating_add(path.fold(0, u64::saturating_add))
            }
            CStmtKind::If { branches, .. } => {
                branches.iter().map(|(c, _)| c.weight().max(1)).fold(0, u64::saturating_add)
            }
            CStmtKind::While { condition, .. } => condition.weight(),
            CStmtKind::ForList { list, .. } => list.weight(),
            CStmtKind::ForRange { from, to, .. } => from.weight().saturating_add(to.weight()),
            CStmtKind::Break | CStmtKind::Continue | CStmtKind::Return => 0,
            CStmtKind::Fail(e) | CStmtKind::Log(e) | CStmtKind::Emit(e) | CStmtKind::Expr(e) => e.weight(),
        };
        let cost = u32::try_from(weight.saturating_add(1)).unwrap_or(u32::MAX);
        CStmt { kind, span, cost }
    }
}

impl CExpr {
    /// The steps evaluating it costs, besides work that grows with the size
    /// of the values: one per operator, call, field or index access,
    /// interpolated text, and per item of a list or object literal or
    /// argument of a call (names and constants alone cost nothing more).
    pub fn weight(&self) -> u64 {
        // Most nodes are leaves: they need no look at the stack.
        if matches!(self.kind, CExprKind::Const(_) | CExprKind::Param(_) | CExprKind::Local(_)) {
            return 0;
        }
        // Expressions nest up to 1,000 deep: grow the stack on demand, as the checker does.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
            let items =
                |items: &mut dyn Iterator<Item = &CExpr>| items.map(|e| e.weight().max(1)).fold(0, u64::saturating_add);
            let inner = match &self.kind {
                CExprKind::Const(_) | CExprKind::Param(_) | CExprKind::Local(_) => return 0,
                CExprKind::Text(parts) => items(&mut parts.iter().filter_map(|p| match p {
                    CTextPart::Literal(_) => None,
                    CTextPart::Expr(e) => Some(e),
                })),
                CExprKind::List(list) => items(&mut list.iter()),
                CExprKind::Object(attrs) => items(&mut attrs.iter().map(|(_, e)| e)),
                CExprKind::Call(_, args) => items(&mut args.iter()),
                CExprKind::Field(a, _) | CExprKind::Unary(_, a) => a.weight(),
                CExprKind::Index(pair) | CExprKind::Binary(_, pair) => {
                    pair[0].weight().saturating_add(pair[1].weight())
                }
                // Charged for the costlier branch: the budget is an upper bound.
                CExprKind::Conditional(c, a, b) => c.weight().saturating_add(a.weight().max(b.weight())),
            };
            inner.saturating_add(1)
        })
    }
}

/// What a statement does; `let` became an assignment to a local slot.
#[derive(Debug)]
pub enum CStmtKind {
    Assign { target: CPlace, value: CExpr },
    If { branches: Vec<(CExpr, Vec<CStmt>)>, otherwise: Vec<CStmt> },
    While { condition: CExpr, body: Vec<CStmt> },
    ForList { var: u32, list: CExpr, body: Vec<CStmt> },
    ForRange { var: u32, from: CExpr, to: CExpr, body: Vec<CStmt> },
    Break,
    Continue,
    Return,
    Fail(CExpr),
    Log(CExpr),
    Emit(CExpr),
    Expr(CExpr),
}

/// Where an assignment starts: a parameter slot or a local slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Root {
    Param(u32),
    Local(u32),
}

/// An assignment target: a slot and a path into it.
#[derive(Debug)]
pub struct CPlace {
    pub root: Root,
    pub path: Vec<CAccess>,
}

/// One step of an assignment path: `.Field` or `[index]`.
#[derive(Debug)]
pub enum CAccess {
    Field(Arc<str>),
    Index(CExpr),
}
