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
    Index(Box<CExpr>, Box<CExpr>),
    Call(Builtin, Vec<CExpr>),
    Unary(UnaryOp, Box<CExpr>),
    Binary(BinaryOp, Box<CExpr>, Box<CExpr>),
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
