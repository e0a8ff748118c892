//! Pest pairs → AST: files, processes, parameters, types, elements and
//! statements. Expressions are built in `precedence.rs`, errors in `errors.rs`.

use super::ast::*;
use super::errors;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};
use compact_str::CompactString;
use pest::Parser as _;
use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "grammar/generated.pest"]
pub(super) struct Grammar;

pub(super) type Pair<'i> = pest::iterators::Pair<'i, Rule>;
pub(super) type Pairs<'i> = pest::iterators::Pairs<'i, Rule>;
pub(super) type Result<T> = std::result::Result<T, Diagnostic>;

/// Parses one `.proc` file. Spans are byte offsets into `text`, in `file`.
///
/// A syntax error comes back as one diagnostic with the code
/// `procdsl::syntax`, e.g. "expected `->`, found `}`", labelled at the
/// offending token.
pub fn parse(file: FileId, text: &str) -> Result<File> {
    match super::split::parse(file, text) {
        Some(parsed) => Ok(parsed),
        None => parse_whole(file, text),
    }
}

/// Parses the file on this thread alone.
pub(super) fn parse_whole(file: FileId, text: &str) -> Result<File> {
    errors::check_nesting(file, text)?;
    let mut pairs = Grammar::parse(Rule::file, text).map_err(|e| errors::from_pest(file, text, e))?;
    let builder = Builder { file, offset: 0 };
    match pairs.next() {
        Some(pair) => builder.file(pair),
        None => Ok(File::default()),
    }
}

/// A process's items by kind, each list in the order of the text.
#[derive(Default)]
pub(super) struct Items {
    pub(super) captions: Vec<StrLit>,
    pub(super) uids: Vec<StrLit>,
    pub(super) params: Vec<Param>,
    pub(super) elements: Vec<Element>,
}

/// Turns pairs into AST nodes; knows only which file the spans belong to,
/// and where in it the parsed text starts (a piece reparsed on its own,
/// `super::incremental`, sits at `offset`).
pub(super) struct Builder {
    pub(super) file: FileId,
    pub(super) offset: usize,
}

/// One pair of pest's output, in a [`Tree`].
#[derive(Clone, Copy)]
pub(super) struct Node {
    rule: Rule,
    start: u32,
    end: u32,
    /// The index after its descendants: its next sibling's, when it has one.
    next: u32,
    /// The end of its span trimmed as [`Builder::trimmed_span`] trims it.
    trimmed: u32,
}

/// The pairs of one item (the item's pair first), flattened in the order of
/// the text. Walking pest's `Pair`s clones two reference counts for each
/// pair and counts a pair's children again at each `into_inner`; walking
/// this is indexing a slice. One tree is filled anew for each item of a
/// process, so that it stays small.
#[derive(Default)]
pub(super) struct Tree<'i> {
    input: &'i str,
    nodes: Vec<Node>,
    /// The open nodes while filling, each with its last child so far.
    open: Vec<(u32, u32)>,
}

/// No node: a node without children has no last child.
const NONE: u32 = u32::MAX;

impl<'i> Tree<'i> {
    pub(super) fn new(pair: Pair<'i>) -> Tree<'i> {
        let mut tree = Tree::default();
        tree.fill(pair);
        tree
    }

    /// Makes this the tree of `pair`, its root at index 0.
    pub(super) fn fill(&mut self, pair: Pair<'i>) -> &Self {
        self.input = pair.get_input();
        self.nodes.clear();
        self.open.clear();
        let tokens = pair.tokens();
        self.nodes.reserve(tokens.len() / 2);
        for token in tokens {
            match token {
                pest::Token::Start { rule, pos } => {
                    self.open.push((self.nodes.len() as u32, NONE));
                    let start = pos.pos() as u32;
                    self.nodes.push(Node { rule, start, end: start, next: 0, trimmed: start });
                }
                pest::Token::End { pos, .. } => {
                    let Some((index, last)) = self.open.pop() else { continue };
                    let end = pos.pos() as u32;
                    let trimmed = match self.nodes.get(last as usize) {
                        // A text ends with its quote, after its last part.
                        Some(last) if last.rule == Rule::text => last.end,
                        Some(last) => last.trimmed,
                        None => end,
                    };
                    let next = self.nodes.len() as u32;
                    let node = &mut self.nodes[index as usize];
                    (node.end, node.next, node.trimmed) = (end, next, trimmed);
                    if let Some(parent) = self.open.last_mut() {
                        parent.1 = index;
                    }
                }
            }
        }
        self
    }
}

/// The children of a node in a [`Tree`], as indices.
#[derive(Clone)]
pub(super) struct Children<'t> {
    nodes: &'t [Node],
    at: usize,
    end: usize,
}

impl Iterator for Children<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.at >= self.end {
            return None;
        }
        let child = self.at;
        self.at = self.nodes[child].next as usize;
        Some(child)
    }
}

impl Children<'_> {
    pub(super) fn peek(&self) -> Option<usize> {
        (self.at < self.end).then_some(self.at)
    }

    pub(super) fn next_if(&mut self, wanted: impl FnOnce(usize) -> bool) -> Option<usize> {
        match self.peek() {
            Some(child) if wanted(child) => self.next(),
            _ => None,
        }
    }
}

/// A [`Builder`] at work on one [`Tree`]: nodes are indices into it.
pub(super) struct Walk<'t, 'i> {
    file: FileId,
    offset: usize,
    tree: &'t Tree<'i>,
}

impl Builder {
    pub(super) fn span(&self, pair: &Pair) -> Span {
        let span = pair.as_span();
        Span::new(self.file, self.offset + span.start(), self.offset + span.end())
    }

    /// The span of a pair without the whitespace or comment that pest may
    /// have skipped after its last token (a rule ending in `x*` or `x?`
    /// consumes the skip before trying `x`): it ends where its last
    /// descendant ends.
    pub(super) fn trimmed_span(&self, pair: &Pair) -> Span {
        let span = pair.as_span();
        let mut end = span.end();
        let mut last = pair.clone().into_inner().next_back();
        while let Some(pair) = last {
            end = pair.as_span().end();
            // A text ends with its quote, after its last part.
            last = if pair.as_rule() == Rule::text { None } else { pair.into_inner().next_back() };
        }
        Span::new(self.file, self.offset + span.start(), self.offset + end)
    }

    /// A name; a reserved word is refused here rather than in the grammar.
    pub(super) fn ident(&self, pair: &Pair) -> Result<Ident> {
        let name = pair.as_str();
        if errors::is_reserved(name) {
            return Err(errors::reserved_word(self.span(pair), name));
        }
        Ok(Ident { name: CompactString::new(name), span: self.span(pair) })
    }

    /// The next child with `rule`, skipping punctuation and keywords.
    pub(super) fn child<'i>(&self, pairs: &mut Pairs<'i>, rule: Rule, parent: Span) -> Result<Pair<'i>> {
        pairs.find(|p| p.as_rule() == rule).ok_or_else(|| errors::internal(parent, rule))
    }

    pub(super) fn walk<'t, 'i>(&self, tree: &'t Tree<'i>) -> Walk<'t, 'i> {
        Walk { file: self.file, offset: self.offset, tree }
    }

    pub(super) fn file(&self, pair: Pair) -> Result<File> {
        let mut file = File::default();
        let mut tree = Tree::default();
        for item in pair.into_inner() {
            match item.as_rule() {
                Rule::import => file.imports.push(self.walk(tree.fill(item)).str_child(0)?),
                Rule::process => file.processes.push(self.process(item)?),
                Rule::test => file.tests.push(self.test(item)?),
                _ => {}
            }
        }
        Ok(file)
    }

    /// The plain text inside `caption "…"`, `import "…"` and the like.
    pub(super) fn str_child(&self, pair: Pair) -> Result<StrLit> {
        self.walk(&Tree::new(pair)).str_child(0)
    }

    pub(super) fn process(&self, pair: Pair) -> Result<Process> {
        let span = self.span(&pair);
        let mut name = None;
        let mut items = Items::default();
        let mut tree = Tree::default();
        let inner = pair.into_inner();
        // Growing the list would copy every element built so far, each
        // time; the count of all children is a bound, a few too many.
        items.elements.reserve(inner.len());
        for item in inner {
            match item.as_rule() {
                Rule::ident => name = Some(self.ident(&item)?),
                Rule::kw_process | Rule::lbrace | Rule::rbrace => {}
                _ => self.process_item(item, &mut items, &mut tree)?,
            }
        }
        let name = name.ok_or_else(|| errors::internal(span, Rule::ident))?;
        let Items { captions, uids, params, elements } = items;
        Ok(Process { name, captions, uids, params, elements, span })
    }

    /// The items of a `process_items` pair: part of a process parsed alone.
    pub(super) fn process_items(&self, pair: Pair) -> Result<Items> {
        let mut items = Items::default();
        let mut tree = Tree::default();
        let inner = pair.into_inner();
        items.elements.reserve(inner.len());
        for item in inner.filter(|p| p.as_rule() != Rule::EOI) {
            self.process_item(item, &mut items, &mut tree)?;
        }
        Ok(items)
    }

    /// A caption, a UId, a parameter or an element, added to its list.
    fn process_item<'i>(&self, item: Pair<'i>, items: &mut Items, tree: &mut Tree<'i>) -> Result<()> {
        let rule = item.as_rule();
        let walk = self.walk(tree.fill(item));
        match rule {
            Rule::caption_item => items.captions.push(walk.str_child(0)?),
            Rule::uid_item => items.uids.push(walk.str_child(0)?),
            Rule::param => items.params.push(walk.param(0)?),
            _ => items.elements.push(walk.element(0)?),
        }
        Ok(())
    }

    pub(super) fn element(&self, pair: Pair) -> Result<Element> {
        self.walk(&Tree::new(pair)).element(0)
    }

    pub(super) fn block(&self, pair: Pair) -> Result<Block> {
        self.walk(&Tree::new(pair)).block(0)
    }
}

impl<'t, 'i> Walk<'t, 'i> {
    pub(super) fn rule(&self, node: usize) -> Rule {
        self.tree.nodes[node].rule
    }

    pub(super) fn as_str(&self, node: usize) -> &'i str {
        let node = &self.tree.nodes[node];
        &self.tree.input[node.start as usize..node.end as usize]
    }

    pub(super) fn children(&self, node: usize) -> Children<'t> {
        let nodes = &self.tree.nodes[..];
        Children { nodes, at: node + 1, end: nodes[node].next as usize }
    }

    pub(super) fn span(&self, node: usize) -> Span {
        let node = &self.tree.nodes[node];
        Span::new(self.file, self.offset + node.start as usize, self.offset + node.end as usize)
    }

    /// As [`Builder::trimmed_span`].
    pub(super) fn trimmed_span(&self, node: usize) -> Span {
        let node = &self.tree.nodes[node];
        Span::new(self.file, self.offset + node.start as usize, self.offset + node.trimmed as usize)
    }

    /// As [`Builder::ident`].
    pub(super) fn ident(&self, node: usize) -> Result<Ident> {
        let name = self.as_str(node);
        if errors::is_reserved(name) {
            return Err(errors::reserved_word(self.span(node), name));
        }
        Ok(Ident { name: CompactString::new(name), span: self.span(node) })
    }

    /// As [`Builder::child`].
    pub(super) fn child(&self, nodes: &mut Children, rule: Rule, parent: Span) -> Result<usize> {
        nodes.find(|&n| self.rule(n) == rule).ok_or_else(|| errors::internal(parent, rule))
    }

    fn str_child(&self, node: usize) -> Result<StrLit> {
        let span = self.span(node);
        let text = self.child(&mut self.children(node), Rule::text, span)?;
        self.str_lit(text)
    }

    fn param(&self, node: usize) -> Result<Param> {
        let span = self.trimmed_span(node);
        let mut inner = self.children(node);
        let direction = match inner.next().map(|n| self.rule(n)) {
            Some(Rule::kw_in) => Direction::In,
            Some(Rule::kw_out) => Direction::Out,
            Some(Rule::kw_inout) => Direction::InOut,
            Some(Rule::kw_var) => Direction::Var,
            _ => return Err(errors::internal(span, Rule::param)),
        };
        let (name, ty, default) = self.typed_name(inner, span)?;
        Ok(Param { direction, name, ty, default, span })
    }

    /// `Name: Type [= default]`, shared by parameters and user-task fields.
    fn typed_name(&self, mut inner: Children, span: Span) -> Result<(Ident, TypeExpr, Option<Expr>)> {
        let name = self.ident(self.child(&mut inner, Rule::ident, span)?)?;
        let ty = self.type_expr(self.child(&mut inner, Rule::type_expr, span)?)?;
        let default = match inner.find(|&n| self.rule(n) == Rule::expr) {
            Some(expr) => Some(self.expr(expr, 0)?),
            None => None,
        };
        Ok((name, ty, default))
    }

    fn type_expr(&self, node: usize) -> Result<TypeExpr> {
        let span = self.span(node);
        let inner = self.children(node).next().ok_or_else(|| errors::internal(span, Rule::type_expr))?;
        let kind = match self.rule(inner) {
            Rule::ident => TypeExprKind::Named(self.ident(inner)?),
            Rule::type_list => {
                let item = self.child(&mut self.children(inner), Rule::type_expr, span)?;
                TypeExprKind::List(Box::new(self.type_expr(item)?))
            }
            Rule::type_object => {
                let mut fields = Vec::new();
                for field in self.children(inner).filter(|&n| self.rule(n) == Rule::type_field) {
                    let mut parts = self.children(field);
                    let name = self.ident(self.child(&mut parts, Rule::ident, span)?)?;
                    let ty = self.type_expr(self.child(&mut parts, Rule::type_expr, span)?)?;
                    fields.push((name, ty));
                }
                TypeExprKind::Object(fields)
            }
            _ => return Err(errors::internal(span, Rule::type_expr)),
        };
        Ok(TypeExpr { kind, span })
    }

    fn element(&self, node: usize) -> Result<Element> {
        let span = self.trimmed_span(node);
        let rule = self.rule(node);
        let mut keyword = None;
        let mut name = None;
        let mut process = None;
        let mut uid = None;
        let mut text = None;
        let mut block = None;
        let mut branches = Vec::new();
        let mut user = (Vec::new(), None);
        let mut to = None;
        let mut for_each = None;
        let mut timer = None;
        let mut mappings = (Vec::new(), Vec::new());
        let mut flow = Flow::default();
        for part in self.children(node) {
            match self.rule(part) {
                Rule::ident if name.is_none() => name = Some(self.ident(part)?),
                Rule::ident => process = Some(self.ident(part)?),
                Rule::el_uid => uid = Some(self.str_child(part)?),
                Rule::text => text = Some(self.str_lit(part)?),
                Rule::block => block = Some(self.block(part)?),
                Rule::branches => branches = self.branches(part)?,
                Rule::user_to => {
                    let expr = self.child(&mut self.children(part), Rule::expr, span)?;
                    to = Some(self.expr(expr, 0)?);
                }
                Rule::for_each => for_each = Some(self.for_each(part)?),
                Rule::user_body => user = self.user_body(part)?,
                Rule::timer_after => timer = Some(TimerKind::After(self.str_child(part)?)),
                Rule::timer_at => {
                    let at = self.child(&mut self.children(part), Rule::expr, span)?;
                    timer = Some(TimerKind::At(self.expr(at, 0)?));
                }
                Rule::call_body => mappings = self.call_body(part)?,
                Rule::flow => {
                    flow.targets = self
                        .children(part)
                        .filter(|&n| self.rule(n) == Rule::ident)
                        .map(|n| self.ident(n))
                        .collect::<Result<_>>()?
                }
                Rule::on_error => {
                    flow.on_error =
                        self.children(part).find(|&n| self.rule(n) == Rule::ident).map(|n| self.ident(n)).transpose()?
                }
                Rule::deadline | Rule::every => flow.boundaries.push(self.boundary(part)?),
                _ if keyword.is_none() => keyword = Some(self.span(part)),
                _ => {}
            }
        }
        let missing = |rule| errors::internal(span, rule);
        let (kind, caption) = match rule {
            Rule::start_el => (ElementKind::Start, text),
            Rule::end_el => (ElementKind::End, text),
            Rule::terminate_el => (ElementKind::Terminate, text),
            Rule::script_el => (ElementKind::Script(block.ok_or_else(|| missing(Rule::block))?), text),
            Rule::exclusive_el => (ElementKind::Exclusive(branches), text),
            Rule::inclusive_el => (ElementKind::Inclusive(branches), text),
            Rule::parallel_el => (ElementKind::Parallel, text),
            Rule::user_el => (ElementKind::User { to, fields: user.0, done: user.1 }, text),
            Rule::timer_el => (ElementKind::Timer(timer.ok_or_else(|| missing(Rule::timer_el))?), text),
            Rule::signal_el => (ElementKind::Signal(text.ok_or_else(|| missing(Rule::text))?), None),
            Rule::call_el => {
                let process = process.ok_or_else(|| missing(Rule::ident))?;
                (ElementKind::Call { process, inputs: mappings.0, outputs: mappings.1 }, text)
            }
            _ => return Err(missing(rule)),
        };
        Ok(Element {
            name: name.ok_or_else(|| missing(Rule::ident))?,
            keyword: keyword.unwrap_or(span),
            uid,
            caption,
            for_each: for_each.map(Box::new),
            kind,
            flow,
            span,
        })
    }

    /// `for each X in LIST [until COND]`.
    fn for_each(&self, node: usize) -> Result<ForEach> {
        let span = self.trimmed_span(node);
        let mut keyword = None;
        let mut var = None;
        let mut list = None;
        let mut until = None;
        for part in self.children(node) {
            match self.rule(part) {
                Rule::kw_for => keyword = Some(self.span(part)),
                Rule::ident => var = Some(self.ident(part)?),
                Rule::expr => list = Some(self.expr(part, 0)?),
                Rule::for_until => {
                    let cond = self.child(&mut self.children(part), Rule::expr, span)?;
                    until = Some(self.expr(cond, 0)?);
                }
                _ => {}
            }
        }
        let missing = |rule| errors::internal(span, rule);
        Ok(ForEach {
            var: var.ok_or_else(|| missing(Rule::ident))?,
            list: list.ok_or_else(|| missing(Rule::expr))?,
            until,
            keyword: keyword.ok_or_else(|| missing(Rule::kw_for))?,
        })
    }

    /// `deadline "P3D" -> T`, `deadline at EXPR -> T` or `every "P1D" -> T`.
    fn boundary(&self, node: usize) -> Result<Boundary> {
        let span = self.trimmed_span(node);
        let rule = self.rule(node);
        let mut keyword = None;
        let mut when = None;
        let mut target = None;
        for part in self.children(node) {
            match self.rule(part) {
                Rule::kw_deadline | Rule::kw_every => keyword = Some(self.span(part)),
                Rule::text => when = Some(TimerKind::After(self.str_lit(part)?)),
                Rule::deadline_at => {
                    let at = self.child(&mut self.children(part), Rule::expr, span)?;
                    when = Some(TimerKind::At(self.expr(at, 0)?));
                }
                Rule::ident => target = Some(self.ident(part)?),
                _ => {}
            }
        }
        let missing = |rule| errors::internal(span, rule);
        let kind = match (rule, when) {
            (Rule::deadline, Some(when)) => BoundaryKind::Deadline(when),
            (Rule::every, Some(TimerKind::After(every))) => BoundaryKind::Every(every),
            _ => return Err(missing(Rule::text)),
        };
        Ok(Boundary {
            kind,
            target: target.ok_or_else(|| missing(Rule::ident))?,
            keyword: keyword.ok_or_else(|| missing(rule))?,
        })
    }

    fn branches(&self, node: usize) -> Result<Vec<Branch>> {
        let mut branches = Vec::new();
        for branch in self.children(node).filter(|&n| self.rule(n) == Rule::branch) {
            let span = self.span(branch);
            let mut condition = None;
            let mut target = None;
            for part in self.children(branch) {
                match self.rule(part) {
                    Rule::expr => condition = Some(self.expr(part, 0)?),
                    Rule::ident => target = Some(self.ident(part)?),
                    _ => {}
                }
            }
            let target = target.ok_or_else(|| errors::internal(span, Rule::ident))?;
            branches.push(Branch { condition, target, span });
        }
        Ok(branches)
    }

    fn user_body(&self, node: usize) -> Result<(Vec<Field>, Option<Block>)> {
        let mut fields = Vec::new();
        let mut done = None;
        for item in self.children(node) {
            let span = self.trimmed_span(item);
            match self.rule(item) {
                Rule::field => {
                    let (name, ty, default) = self.typed_name(self.children(item), span)?;
                    fields.push(Field { name, ty, default, span });
                }
                Rule::done => done = Some(self.block(self.child(&mut self.children(item), Rule::block, span)?)?),
                _ => {}
            }
        }
        Ok((fields, done))
    }

    #[allow(clippy::type_complexity)]
    fn call_body(&self, node: usize) -> Result<(Vec<(Ident, Expr)>, Vec<(Ident, Ident)>)> {
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        for mapping in self.children(node) {
            let span = self.span(mapping);
            match self.rule(mapping) {
                Rule::input_map => {
                    let mut parts = self.children(mapping);
                    let name = self.ident(self.child(&mut parts, Rule::ident, span)?)?;
                    let value = self.expr(self.child(&mut parts, Rule::expr, span)?, 0)?;
                    inputs.push((name, value));
                }
                Rule::output_map => {
                    let mut names = self.children(mapping).filter(|&n| self.rule(n) == Rule::ident);
                    match (names.next(), names.next()) {
                        (Some(from), Some(to)) => outputs.push((self.ident(from)?, self.ident(to)?)),
                        _ => return Err(errors::internal(span, Rule::output_map)),
                    }
                }
                _ => {}
            }
        }
        Ok((inputs, outputs))
    }

    fn block(&self, node: usize) -> Result<Block> {
        let span = self.span(node);
        let mut stmts = Vec::new();
        for stmt in self.children(node) {
            match self.rule(stmt) {
                Rule::lbrace | Rule::rbrace => {}
                _ => stmts.push(self.stmt(stmt)?),
            }
        }
        Ok(Block { stmts, span })
    }

    fn stmt(&self, node: usize) -> Result<Stmt> {
        let span = self.trimmed_span(node);
        let rule = self.rule(node);
        // One small function per statement: in a debug build one big match
        // would make a frame large enough to matter for nested blocks.
        let kind = match rule {
            Rule::assign_stmt => self.assign_stmt(node, span)?,
            Rule::let_stmt => self.let_stmt(node, span)?,
            Rule::if_stmt => self.if_stmt(node)?,
            Rule::while_stmt => self.while_stmt(node, span)?,
            Rule::for_stmt => self.for_stmt(node, span)?,
            Rule::break_stmt => StmtKind::Break,
            Rule::continue_stmt => StmtKind::Continue,
            Rule::return_stmt => StmtKind::Return,
            Rule::fail_stmt => StmtKind::Fail(self.expr_child(node, span)?),
            Rule::log_stmt => StmtKind::Log(self.expr_child(node, span)?),
            Rule::emit_stmt => StmtKind::Emit(self.expr_child(node, span)?),
            Rule::expr_stmt => StmtKind::Expr(self.expr_child(node, span)?),
            _ => return Err(errors::internal(span, rule)),
        };
        Ok(Stmt { kind, span })
    }

    /// The statement's one `expr` child.
    fn expr_child(&self, node: usize, span: Span) -> Result<Expr> {
        self.expr(self.child(&mut self.children(node), Rule::expr, span)?, 0)
    }

    fn assign_stmt(&self, node: usize, span: Span) -> Result<StmtKind> {
        let mut inner = self.children(node);
        let target = self.place(self.child(&mut inner, Rule::place, span)?)?;
        let value = self.expr(self.child(&mut inner, Rule::expr, span)?, 0)?;
        Ok(StmtKind::Assign { target, value })
    }

    fn let_stmt(&self, node: usize, span: Span) -> Result<StmtKind> {
        let mut inner = self.children(node);
        let name = self.ident(self.child(&mut inner, Rule::ident, span)?)?;
        let value = self.expr(self.child(&mut inner, Rule::expr, span)?, 0)?;
        Ok(StmtKind::Let { name, value })
    }

    /// `if c {} else if c {} else {}`: a block after a condition is its
    /// branch, a block without one is the `else`.
    fn if_stmt(&self, node: usize) -> Result<StmtKind> {
        let mut branches = Vec::new();
        let mut otherwise = None;
        let mut condition = None;
        for part in self.children(node) {
            match self.rule(part) {
                Rule::expr => condition = Some(self.expr(part, 0)?),
                Rule::block => match condition.take() {
                    Some(condition) => branches.push((condition, self.block(part)?)),
                    None => otherwise = Some(self.block(part)?),
                },
                _ => {}
            }
        }
        Ok(StmtKind::If { branches, otherwise })
    }

    fn while_stmt(&self, node: usize, span: Span) -> Result<StmtKind> {
        let mut inner = self.children(node);
        let condition = self.expr(self.child(&mut inner, Rule::expr, span)?, 0)?;
        let body = self.block(self.child(&mut inner, Rule::block, span)?)?;
        Ok(StmtKind::While { condition, body })
    }

    /// `for x in list {}` or, with a second expression, `for i in a..b {}`.
    fn for_stmt(&self, node: usize, span: Span) -> Result<StmtKind> {
        let mut inner = self.children(node);
        let var = self.ident(self.child(&mut inner, Rule::ident, span)?)?;
        let first = self.expr(self.child(&mut inner, Rule::expr, span)?, 0)?;
        let mut end = None;
        let mut body = None;
        for part in inner {
            match self.rule(part) {
                Rule::expr => end = Some(self.expr(part, 0)?),
                Rule::block => body = Some(self.block(part)?),
                _ => {}
            }
        }
        let iter = match end {
            Some(end) => ForIter::Range(first, end),
            None => ForIter::List(first),
        };
        let body = body.ok_or_else(|| errors::internal(span, Rule::block))?;
        Ok(StmtKind::For { var, iter, body })
    }

    /// `a.b[0].c`: the root name and its accessors, left to right.
    fn place(&self, node: usize) -> Result<Place> {
        let span = self.trimmed_span(node);
        let mut inner = self.children(node);
        let root = self.ident(self.child(&mut inner, Rule::ident, span)?)?;
        let mut path = Vec::new();
        for accessor in inner {
            let accessor_span = self.span(accessor);
            match self.rule(accessor) {
                Rule::field_access => {
                    let name = self.child(&mut self.children(accessor), Rule::ident, accessor_span)?;
                    path.push(Accessor::Field(self.ident(name)?));
                }
                Rule::index => {
                    let index = self.child(&mut self.children(accessor), Rule::expr_nl, accessor_span)?;
                    path.push(Accessor::Index(self.expr(index, 1)?));
                }
                _ => return Err(errors::internal(span, Rule::place)),
            }
        }
        Ok(Place { root, path, span })
    }
}
