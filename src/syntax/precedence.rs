//! Expressions: precedence climbing over the flat pair sequence that the
//! grammar's `expr` and `expr_nl` rules produce, and the literals.
//!
//! Hand-written rather than pest's `PrattParser`, so that nesting is counted
//! and hostile input (`- - - - …`, `not not …`, `1+1+…`) ends in a syntax
//! error instead of a stack overflow.

use super::ast::*;
use super::errors;
use super::parser::{Builder, Children, Pair, Result, Rule, Tree, Walk};
use crate::source::Span;

/// How deeply prefix operators, brackets and interpolations may nest.
const MAX_NESTING: usize = 256;
/// How deep the built tree may be (a long `a + b + c …` chain is deep too);
/// beyond this, dropping or walking it would risk the stack.
const MAX_TREE_DEPTH: u32 = 1000;

/// The binding power of `not`: its operand is a comparison or anything tighter.
const NOT_OPERAND: u8 = 5;

type Items<'t> = Children<'t>;

/// An expression with the depth of its tree.
type Deep = (Expr, u32);

impl Builder {
    /// Builds an `expr` or `expr_nl` pair; `nest` counts the enclosing
    /// brackets and prefix operators.
    pub(super) fn expr(&self, pair: Pair, nest: usize) -> Result<Expr> {
        self.walk(&Tree::new(pair)).expr(0, nest)
    }

    /// A text that must be plain: a caption, a UId, an import path, a
    /// signal name, a timer duration.
    pub(super) fn str_lit(&self, pair: Pair) -> Result<StrLit> {
        self.walk(&Tree::new(pair)).str_lit(0)
    }
}

impl Walk<'_, '_> {
    fn binary_op(&self, node: usize) -> Option<(BinaryOp, u8)> {
        if self.rule(node) != Rule::infix {
            return None;
        }
        Some(match self.as_str(node) {
            "??" => (BinaryOp::Coalesce, 1),
            "or" => (BinaryOp::Or, 2),
            "and" => (BinaryOp::And, 3),
            "==" => (BinaryOp::Eq, 5),
            "!=" => (BinaryOp::Ne, 5),
            "<" => (BinaryOp::Lt, 5),
            "<=" => (BinaryOp::Le, 5),
            ">" => (BinaryOp::Gt, 5),
            ">=" => (BinaryOp::Ge, 5),
            "+" => (BinaryOp::Add, 6),
            "-" => (BinaryOp::Sub, 6),
            "*" => (BinaryOp::Mul, 7),
            "/" => (BinaryOp::Div, 7),
            "%" => (BinaryOp::Rem, 7),
            _ => return None,
        })
    }

    fn is_postfix(&self, node: usize) -> bool {
        matches!(self.rule(node), Rule::field_access | Rule::index)
    }

    /// Builds an `expr` or `expr_nl` node; `nest` counts the enclosing
    /// brackets and prefix operators.
    pub(super) fn expr(&self, node: usize, nest: usize) -> Result<Expr> {
        Ok(self.deep_expr(node, nest)?.0)
    }

    fn deep_expr(&self, node: usize, nest: usize) -> Result<Deep> {
        let span = self.span(node);
        if nest > MAX_NESTING {
            return Err(errors::too_deep(span));
        }
        let mut items = self.children(node);
        self.climb(&mut items, 0, nest, span)
    }

    /// Operands joined by infix operators binding at least `min_power`.
    fn climb(&self, items: &mut Items, min_power: u8, nest: usize, whole: Span) -> Result<Deep> {
        let (mut lhs, mut depth) = self.operand(items, nest, whole)?;
        while let Some((op, power)) = items.peek().and_then(|n| self.binary_op(n)) {
            if power < min_power {
                break;
            }
            items.next();
            let (rhs, rhs_depth) = self.climb(items, power + 1, nest, whole)?;
            depth = depth.max(rhs_depth) + 1;
            let span = lhs.span.to(rhs.span);
            if depth > MAX_TREE_DEPTH {
                return Err(errors::too_deep(span));
            }
            lhs = Expr { kind: ExprKind::Binary(op, Box::new([lhs, rhs])), span };
        }
        Ok((lhs, depth))
    }

    /// Prefix operators, a primary, postfix accessors.
    ///
    /// Each case is its own small function: nested expressions recurse
    /// through here, and a debug build gives one big function a big frame.
    fn operand(&self, items: &mut Items, nest: usize, whole: Span) -> Result<Deep> {
        let first = items.next().ok_or_else(|| errors::internal(whole, Rule::expr))?;
        match (self.rule(first), self.as_str(first)) {
            (Rule::prefix, "not") => self.not_operand(first, items, nest, whole),
            (Rule::prefix, _) => self.negated_operand(first, items, nest, whole),
            _ => {
                let (primary, depth) = self.primary(first, nest)?;
                self.postfixes(primary, depth, items, nest)
            }
        }
    }

    /// `not x`: its operand is a comparison or anything binding tighter.
    fn not_operand(&self, op: usize, items: &mut Items, nest: usize, whole: Span) -> Result<Deep> {
        let op_span = self.span(op);
        if nest >= MAX_NESTING {
            return Err(errors::too_deep(op_span));
        }
        let (operand, depth) = self.climb(items, NOT_OPERAND, nest + 1, whole)?;
        Ok(unary(UnaryOp::Not, op_span, operand, depth))
    }

    /// `-x`; `-` directly before a number literal is folded into it, so
    /// `-9223372036854775808` is an Integer and `= -1` a literal default.
    fn negated_operand(&self, op: usize, items: &mut Items, nest: usize, whole: Span) -> Result<Deep> {
        let op_span = self.span(op);
        if nest >= MAX_NESTING {
            return Err(errors::too_deep(op_span));
        }
        let (operand, depth) = match items.next_if(|n| self.rule(n) == Rule::number) {
            Some(number) if !items.peek().is_some_and(|n| self.is_postfix(n)) => {
                return Ok((self.number(number, Some(op_span.start as usize))?, 1));
            }
            Some(number) => self.postfixes(self.number(number, None)?, 1, items, nest)?,
            None => self.operand(items, nest + 1, whole)?,
        };
        Ok(unary(UnaryOp::Negate, op_span, operand, depth))
    }

    fn postfixes(&self, mut expr: Expr, mut depth: u32, items: &mut Items, nest: usize) -> Result<Deep> {
        while let Some(postfix) = items.next_if(|n| self.is_postfix(n)) {
            let span = expr.span.to(self.span(postfix));
            let kind = match self.rule(postfix) {
                Rule::field_access => {
                    let name = self.child(&mut self.children(postfix), Rule::ident, span)?;
                    depth += 1;
                    ExprKind::Field(Box::new(expr), self.ident(name)?)
                }
                _ => {
                    let index = self.child(&mut self.children(postfix), Rule::expr_nl, span)?;
                    let (index, index_depth) = self.deep_expr(index, nest + 1)?;
                    depth = depth.max(index_depth) + 1;
                    ExprKind::Index(Box::new([expr, index]))
                }
            };
            if depth > MAX_TREE_DEPTH {
                return Err(errors::too_deep(span));
            }
            expr = Expr { kind, span };
        }
        Ok((expr, depth))
    }

    fn primary(&self, node: usize, nest: usize) -> Result<Deep> {
        let span = self.span(node);
        let leaf = |kind| Ok((Expr { kind, span }, 1));
        match self.rule(node) {
            Rule::number => Ok((self.number(node, None)?, 1)),
            Rule::word_literal => match self.as_str(node) {
                "true" => leaf(ExprKind::Boolean(true)),
                "false" => leaf(ExprKind::Boolean(false)),
                _ => leaf(ExprKind::Null),
            },
            Rule::text => self.text_expr(node, span, nest),
            Rule::paren => self.paren_expr(node, span, nest),
            Rule::list => self.list_expr(node, span, nest),
            Rule::object => self.object_expr(node, span, nest),
            Rule::ident_expr => self.ident_expr(node, span, nest),
            Rule::conditional => self.conditional(node, span, nest),
            rule => Err(errors::internal(span, rule)),
        }
    }

    fn text_expr(&self, node: usize, span: Span, nest: usize) -> Result<Deep> {
        let (parts, depth) = self.text(node, nest)?;
        Ok((Expr { kind: ExprKind::Text(parts), span }, depth + 1))
    }

    /// `if c then a else b`.
    fn conditional(&self, node: usize, span: Span, nest: usize) -> Result<Deep> {
        if nest >= MAX_NESTING {
            return Err(errors::too_deep(span));
        }
        let mut parts = self.children(node).filter(|&n| matches!(self.rule(n), Rule::expr | Rule::expr_nl_cond));
        let mut next = || parts.next().ok_or_else(|| errors::internal(span, Rule::conditional));
        let (condition, a) = self.deep_expr(next()?, nest + 1)?;
        let (then, b) = self.deep_expr(next()?, nest + 1)?;
        let (otherwise, c) = self.deep_expr(next()?, nest + 1)?;
        let depth = a.max(b).max(c) + 1;
        if depth > MAX_TREE_DEPTH {
            return Err(errors::too_deep(span));
        }
        let kind = ExprKind::Conditional(Box::new(condition), Box::new(then), Box::new(otherwise));
        Ok((Expr { kind, span }, depth))
    }

    /// `(expr)`: the inner expression, spanning the parentheses.
    fn paren_expr(&self, node: usize, span: Span, nest: usize) -> Result<Deep> {
        let inner = self.child(&mut self.children(node), Rule::expr_nl, span)?;
        let (mut expr, depth) = self.deep_expr(inner, nest + 1)?;
        expr.span = span;
        Ok((expr, depth))
    }

    fn list_expr(&self, node: usize, span: Span, nest: usize) -> Result<Deep> {
        let (items, depth) = self.expr_list(node, nest)?;
        Ok((Expr { kind: ExprKind::List(items), span }, depth + 1))
    }

    fn object_expr(&self, node: usize, span: Span, nest: usize) -> Result<Deep> {
        let mut entries = Vec::new();
        let mut depth = 0;
        for entry in self.children(node).filter(|&n| self.rule(n) == Rule::obj_entry) {
            let mut parts = self.children(entry);
            let name = self.ident(self.child(&mut parts, Rule::ident, span)?)?;
            let (value, value_depth) = self.deep_expr(self.child(&mut parts, Rule::expr_nl, span)?, nest + 1)?;
            depth = depth.max(value_depth);
            entries.push((name, value));
        }
        Ok((Expr { kind: ExprKind::Object(entries), span }, depth + 1))
    }

    /// A variable, or a call when arguments follow the name.
    fn ident_expr(&self, node: usize, span: Span, nest: usize) -> Result<Deep> {
        let mut parts = self.children(node);
        let name = self.ident(self.child(&mut parts, Rule::ident, span)?)?;
        match parts.find(|&n| self.rule(n) == Rule::call_args) {
            Some(args) => {
                let span = name.span.to(self.span(args));
                let (args, depth) = self.expr_list(args, nest)?;
                Ok((Expr { kind: ExprKind::Call(name, args), span }, depth + 1))
            }
            None => Ok((Expr { span: name.span, kind: ExprKind::Var(name) }, 1)),
        }
    }

    /// The `expr_nl` children of a list literal or of call arguments.
    fn expr_list(&self, node: usize, nest: usize) -> Result<(Vec<Expr>, u32)> {
        let mut exprs = Vec::new();
        let mut depth = 0;
        for item in self.children(node).filter(|&n| self.rule(n) == Rule::expr_nl) {
            let (expr, item_depth) = self.deep_expr(item, nest + 1)?;
            depth = depth.max(item_depth);
            exprs.push(expr);
        }
        Ok((exprs, depth))
    }

    /// An integer or decimal literal; `negative_from` is the offset of a `-`
    /// folded into it.
    fn number(&self, node: usize, negative_from: Option<usize>) -> Result<Expr> {
        let digits = self.as_str(node);
        let mut span = self.span(node);
        let negative = negative_from.is_some();
        if let Some(start) = negative_from {
            span.start = start as u32;
        }
        let kind = if digits.contains('.') {
            match super::exact_decimal(digits) {
                Some(value) => ExprKind::Decimal(if negative && !value.is_zero() { -value } else { value }),
                None => return Err(errors::bad_decimal(span, digits)),
            }
        } else {
            // Parsed as magnitude so that `-9223372036854775808` fits.
            let magnitude: Option<u64> = digits.parse().ok();
            let value =
                magnitude.and_then(|m| if negative { 0i64.checked_sub_unsigned(m) } else { i64::try_from(m).ok() });
            match value {
                Some(value) => ExprKind::Integer(value),
                None => return Err(errors::integer_too_large(span, digits, negative)),
            }
        };
        Ok(Expr { kind, span })
    }

    /// The parts of a text literal, and the depth of its deepest interpolation.
    fn text(&self, node: usize, nest: usize) -> Result<(Vec<TextPart>, u32)> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut depth = 0;
        for part in self.children(node) {
            match self.rule(part) {
                Rule::text_chars => literal.push_str(self.as_str(part)),
                Rule::escape => literal.push(self.escape(part)?),
                Rule::interpolation => {
                    if !literal.is_empty() {
                        parts.push(TextPart::Literal(std::mem::take(&mut literal)));
                    }
                    let span = self.span(part);
                    let inner = self.child(&mut self.children(part), Rule::expr_nl, span)?;
                    let (expr, expr_depth) = self.deep_expr(inner, nest + 1)?;
                    depth = depth.max(expr_depth);
                    parts.push(TextPart::Interpolation(expr));
                }
                _ => {}
            }
        }
        if !literal.is_empty() {
            parts.push(TextPart::Literal(literal));
        }
        Ok((parts, depth))
    }

    /// As [`Builder::str_lit`].
    pub(super) fn str_lit(&self, node: usize) -> Result<StrLit> {
        let span = self.span(node);
        let mut value = String::new();
        for part in self.children(node) {
            match self.rule(part) {
                Rule::text_chars => value.push_str(self.as_str(part)),
                Rule::escape => value.push(self.escape(part)?),
                Rule::interpolation => return Err(errors::interpolation_not_allowed(self.span(part))),
                _ => {}
            }
        }
        Ok(StrLit { value, span })
    }

    fn escape(&self, node: usize) -> Result<char> {
        let escape = self.as_str(node);
        let decoded = match escape.strip_prefix('\\') {
            Some("n") => Some('\n'),
            Some("t") => Some('\t'),
            Some("r") => Some('\r'),
            Some("\"") => Some('"'),
            Some("\\") => Some('\\'),
            Some("{") => Some('{'),
            Some("}") => Some('}'),
            Some(rest) => rest
                .strip_prefix("u{")
                .and_then(|hex| hex.strip_suffix('}'))
                .filter(|hex| (1..=6).contains(&hex.len()))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .and_then(char::from_u32),
            None => None,
        };
        decoded.ok_or_else(|| errors::bad_escape(self.span(node), escape))
    }
}

fn unary(op: UnaryOp, op_span: Span, operand: Expr, depth: u32) -> Deep {
    let span = op_span.to(operand.span);
    (Expr { kind: ExprKind::Unary(op, Box::new(operand)), span }, depth + 1)
}
