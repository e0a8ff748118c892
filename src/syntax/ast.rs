//! The typed syntax tree of a `.proc` file. Every node that can be blamed
//! carries its [`Span`]; equality ignores spans.

use crate::source::Span;
use compact_str::CompactString;
use rust_decimal::Decimal;
use smallvec::SmallVec;

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: CompactString,
    pub span: Span,
}

/// A text literal without interpolation (captions, UIds, signal names, durations).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// One parsed `.proc` file.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct File {
    pub imports: Vec<StrLit>,
    pub processes: Vec<Process>,
    /// `test "name" { … }` blocks, in the order written.
    pub tests: Vec<Test>,
}

/// `process Code { … }`: its items in the order written.
#[derive(Clone, Debug, PartialEq)]
pub struct Process {
    pub name: Ident,
    /// Every `caption` item; the checker reports more than one.
    pub captions: Vec<StrLit>,
    pub uids: Vec<StrLit>,
    pub params: Vec<Param>,
    pub elements: Vec<Element>,
    pub span: Span,
}

/// A parameter's direction: who may set and read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Direction {
    In,
    Out,
    InOut,
    Var,
}

impl Direction {
    /// The keyword as written.
    pub fn keyword(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::InOut => "inout",
            Direction::Var => "var",
        }
    }
}

/// `DIRECTION Code: Type [= default]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub direction: Direction,
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
    pub span: Span,
}

/// A type as written, resolved by the checker.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

/// The shapes a written type can take.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// `Text`, `Integer`, … (resolved by the checker).
    Named(Ident),
    List(Box<TypeExpr>),
    Object(Vec<(Ident, TypeExpr)>),
}

/// `KIND Name [uid "GUID"] ["caption"] [body] [flows]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    pub name: Ident,
    /// Span of the kind keyword.
    pub keyword: Span,
    pub uid: Option<StrLit>,
    pub caption: Option<StrLit>,
    /// `for each X in LIST [until COND]` (user tasks and calls only).
    /// Boxed: few elements have one, and each element would carry its room.
    pub for_each: Option<Box<ForEach>>,
    pub kind: ElementKind,
    pub flow: Flow,
    pub span: Span,
}

/// `for each X in LIST [until COND]`: a multi-instance element.
#[derive(Clone, Debug, PartialEq)]
pub struct ForEach {
    /// The item's name, bound in the `done` script, `to` and input mappings.
    pub var: Ident,
    pub list: Expr,
    pub until: Option<Expr>,
    /// Span of `for`: what errors about the clause point at.
    pub keyword: Span,
}

/// The flows after an element: `-> A`, `-> A, B`, `on error -> H`, then
/// its deadlines and reminders.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Flow {
    /// Nearly always one: kept in place, without an allocation of its own.
    pub targets: SmallVec<[Ident; 1]>,
    pub on_error: Option<Ident>,
    /// `deadline … -> T` and `every … -> T`, in the order written (the
    /// checker refuses a second of either kind).
    pub boundaries: Vec<Boundary>,
}

/// A timer on a waiting element's border: `deadline "P3D" -> Escalate`,
/// `deadline at Due -> Escalate` or `every "P1D" -> Remind`.
#[derive(Clone, Debug, PartialEq)]
pub struct Boundary {
    pub kind: BoundaryKind,
    pub target: Ident,
    /// Span of the keyword (`deadline`, `every`): what errors point at.
    pub keyword: Span,
}

/// An interrupting deadline or a repeating, non-interrupting reminder.
#[derive(Clone, Debug, PartialEq)]
pub enum BoundaryKind {
    /// `deadline "DURATION"` or `deadline at EXPR`.
    Deadline(TimerKind),
    /// `every "DURATION"`.
    Every(StrLit),
}

impl BoundaryKind {
    /// The keyword as written.
    pub fn keyword(&self) -> &'static str {
        match self {
            BoundaryKind::Deadline(_) => "deadline",
            BoundaryKind::Every(_) => "every",
        }
    }
}

/// What kind of element, with its body.
#[derive(Clone, Debug, PartialEq)]
pub enum ElementKind {
    Start,
    End,
    Terminate,
    Script(Block),
    /// `exclusive Name { when … }`; empty branches for the plain merge form.
    Exclusive(Vec<Branch>),
    Inclusive(Vec<Branch>),
    Parallel,
    User {
        /// `to EXPR`: who may execute the task (user or role names).
        to: Option<Expr>,
        fields: Vec<Field>,
        done: Option<Block>,
    },
    Timer(TimerKind),
    /// `signal Name "SignalName"`: the element's string is the signal's name.
    Signal(StrLit),
    Call {
        process: Ident,
        inputs: Vec<(Ident, Expr)>,
        outputs: Vec<(Ident, Ident)>,
    },
}

impl ElementKind {
    /// The keyword as written.
    pub fn keyword(&self) -> &'static str {
        match self {
            ElementKind::Start => "start",
            ElementKind::End => "end",
            ElementKind::Terminate => "terminate",
            ElementKind::Script(_) => "script",
            ElementKind::Exclusive(_) => "exclusive",
            ElementKind::Inclusive(_) => "inclusive",
            ElementKind::Parallel => "parallel",
            ElementKind::User { .. } => "user",
            ElementKind::Timer(_) => "timer",
            ElementKind::Signal(_) => "signal",
            ElementKind::Call { .. } => "call",
        }
    }
}

/// `when cond -> Target`, or `else -> Target` when `condition` is `None`.
#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    pub condition: Option<Expr>,
    pub target: Ident,
    pub span: Span,
}

/// When a timer fires.
#[derive(Clone, Debug, PartialEq)]
pub enum TimerKind {
    /// `after "PT2H"`: an ISO 8601 duration.
    After(StrLit),
    /// `at expr`: a DateTime.
    At(Expr),
}

/// A user task's field: `in Field: Type [= default]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
    pub span: Span,
}

/// `{ statements }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

/// A statement and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

/// The statements of the script language.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `Code = expr`, `x.Field = expr`, `x[i] = expr`.
    Assign {
        target: Place,
        value: Expr,
    },
    Let {
        name: Ident,
        value: Expr,
    },
    /// `if c {} else if c {} else {}`: each `(condition, block)` in order.
    If {
        branches: Vec<(Expr, Block)>,
        otherwise: Option<Block>,
    },
    While {
        condition: Expr,
        body: Block,
    },
    For {
        var: Ident,
        iter: ForIter,
        body: Block,
    },
    Break,
    Continue,
    Return,
    Fail(Expr),
    Log(Expr),
    Emit(Expr),
    Expr(Expr),
}

/// What a `for` loop walks over.
#[derive(Clone, Debug, PartialEq)]
pub enum ForIter {
    /// `for x in list`
    List(Expr),
    /// `for i in a..b` (b excluded)
    Range(Expr, Expr),
}

/// The left side of an assignment: a name and a path of accessors.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub root: Ident,
    pub path: Vec<Accessor>,
    pub span: Span,
}

/// One step of an assignment path.
#[derive(Clone, Debug, PartialEq)]
pub enum Accessor {
    Field(Ident),
    Index(Expr),
}

/// An expression and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// The expressions of the script language.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Null,
    Boolean(bool),
    Integer(i64),
    Decimal(Decimal),
    /// A text literal: literal pieces and `{expr}` interpolations.
    Text(Vec<TextPart>),
    List(Vec<Expr>),
    Object(Vec<(Ident, Expr)>),
    Var(Ident),
    Field(Box<Expr>, Ident),
    /// The base and the index, in one allocation.
    Index(Box<[Expr; 2]>),
    Call(Ident, Vec<Expr>),
    Unary(UnaryOp, Box<Expr>),
    /// The two operands, in one allocation: a large file has thousands.
    Binary(BinaryOp, Box<[Expr; 2]>),
    /// `if c then a else b`: only the chosen branch is evaluated.
    Conditional(Box<Expr>, Box<Expr>, Box<Expr>),
}

/// A piece of a text literal.
#[derive(Clone, Debug, PartialEq)]
pub enum TextPart {
    Literal(String),
    Interpolation(Expr),
}

/// `not` and unary `-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Negate,
}

/// The binary operators, loosest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Coalesce,
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Coalesce => "??",
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }
}

/// `test "name" { steps }`: a scenario that `procdsl test` runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    pub name: StrLit,
    pub steps: Vec<Step>,
    pub span: Span,
}

/// One step of a test, and where it was written (what a failure points at).
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub kind: StepKind,
    pub span: Span,
}

/// `Code = expr` pairs of `start`, `exec` and `mock`.
pub type Values = Vec<(Ident, Expr)>;

/// The steps of a test.
#[derive(Clone, Debug, PartialEq)]
pub enum StepKind {
    /// `now "2026-03-01T09:00:00Z"`: the virtual clock's start.
    Now(StrLit),
    Start {
        process: Ident,
        inputs: Values,
    },
    /// `exec Element[i] { Field = expr }`; the index picks one of several.
    Exec {
        element: Ident,
        index: Option<(u64, Span)>,
        fields: Values,
    },
    Signal(StrLit),
    /// `advance "P1D"`.
    Advance(StrLit),
    /// `advance to EXPR`.
    AdvanceTo(Expr),
    Mock {
        process: Ident,
        mock: Mock,
    },
    Expect(Expectation),
}

/// What a mocked process does when called.
#[derive(Clone, Debug, PartialEq)]
pub enum Mock {
    Outputs(Values),
    Fail(StrLit),
    Waits,
}

/// The forms of `expect`.
#[derive(Clone, Debug, PartialEq)]
pub enum Expectation {
    Expr(Expr),
    Status(Ident),
    Waiting(Vec<Ident>),
    Passed(Vec<Ident>),
    NotPassed(Vec<Ident>),
    LogContains(StrLit),
    ErrorContains(StrLit),
}
