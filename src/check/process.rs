//! Checks one process: elements, flows, scripts and mappings.

use super::ir::{CExpr, CExprKind, Script};
use super::script::Scope;
use super::spec::*;
use super::{default_element_uid, duplicate, Checker, ProgramContext};
use crate::diagnostic::{nearest, Diagnostic};
use crate::runtime::value::{Type, Value};
use crate::source::Span;
use crate::syntax::ast::{self, Direction};
use crate::syntax::worker;
use smallvec::SmallVec;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use uuid::Uuid;

/// From this many elements on, a process's default UIds are made on the
/// kept thread (`syntax::worker`) while the checker works through the elements.
const DEFAULT_UIDS_APART: usize = 256;

impl Checker {
    pub(super) fn check_process(
        &mut self,
        p: &ast::Process,
        uid: Uuid,
        params: Vec<ParamSpec>,
        ctx: &ProgramContext,
    ) -> ProcessSpec {
        // Names first, so that flows can point forward. This map is also the
        // spec's index by name: built once, with the names the specs keep.
        let mut ids: foldhash::HashMap<Arc<str>, ElementId> =
            HashMap::with_capacity_and_hasher(p.elements.len(), foldhash::fast::RandomState::default());
        let mut elements: Vec<&ast::Element> = Vec::with_capacity(p.elements.len());
        let mut element_names: Vec<Arc<str>> = Vec::with_capacity(p.elements.len());
        for e in &p.elements {
            if let Some(first) = ids.get(e.name.name.as_str()) {
                let first_span = elements[first.0 as usize].name.span;
                self.error(duplicate(
                    "procdsl::check::duplicate_element",
                    "element",
                    &e.name.name,
                    e.name.span,
                    first_span,
                ));
                continue;
            }
            let name: Arc<str> = e.name.name.as_str().into();
            ids.insert(name.clone(), ElementId(elements.len() as u32));
            element_names.push(name);
            elements.push(e);
        }
        let names: Vec<&str> = elements.iter().map(|e| e.name.name.as_str()).collect();

        let starts: Vec<&&ast::Element> =
            elements.iter().filter(|e| matches!(e.kind, ast::ElementKind::Start)).collect();
        if starts.is_empty() {
            self.error(
                Diagnostic::error(
                    "procdsl::check::no_start",
                    format!("process `{}` has no `start` element", p.name.name),
                )
                .with_label(p.name.span, "this process has no start")
                .with_help("add `start Begin -> FirstElement`"),
            );
        }
        for extra in starts.iter().skip(1) {
            self.error(
                Diagnostic::error(
                    "procdsl::check::several_starts",
                    format!("process `{}` has more than one `start` element", p.name.name),
                )
                .with_label(extra.name.span, "another start")
                .with_label(starts[0].name.span, "first start"),
            );
        }
        let start = starts.first().and_then(|s| ids.get(s.name.name.as_str()).copied()).unwrap_or(ElementId(0));

        let mut incoming = vec![0u32; elements.len()];
        let mut flow_to = |this: &mut Checker, target: &ast::Ident| -> Option<Flow> {
            match ids.get(target.name.as_str()) {
                Some(id) => {
                    let slot = incoming[id.0 as usize];
                    incoming[id.0 as usize] += 1;
                    Some(Flow { target: *id, slot })
                }
                None => {
                    let mut d = Diagnostic::error(
                        "procdsl::check::unknown_element",
                        format!("flow to an unknown element `{}`", target.name),
                    )
                    .with_label(target.span, "no element has this name");
                    if let Some(s) = nearest(&target.name, names.iter().copied()) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    this.error(d);
                    None
                }
            }
        };

        // Each default UId takes a SHA-1: a large process's are made on the
        // kept thread while this one checks the elements.
        let defaults = if elements.len() >= DEFAULT_UIDS_APART {
            let names = element_names.clone();
            worker::run(move || names.iter().map(|name| default_element_uid(uid, name)).collect::<Vec<Uuid>>())
        } else {
            None
        };
        let param_types: Vec<(Arc<str>, Type)> = params.iter().map(|p| (p.code.clone(), p.ty.clone())).collect();
        let mut params_read = vec![false; params.len()];
        let mut specs = Vec::with_capacity(elements.len());
        for (e, name) in elements.iter().zip(element_names) {
            let kind_word = e.kind.keyword();
            let is_end = matches!(e.kind, ast::ElementKind::End | ast::ElementKind::Terminate);
            let has_branches =
                matches!(&e.kind, ast::ElementKind::Exclusive(b) | ast::ElementKind::Inclusive(b) if !b.is_empty());
            if is_end {
                if let Some(t) = e.flow.targets.first().or(e.flow.on_error.as_ref()) {
                    self.error(
                        Diagnostic::error(
                            "procdsl::check::flow_from_end",
                            format!("`{kind_word}` element `{}` cannot have an outgoing flow", e.name.name),
                        )
                        .with_label(t.span, "flow from an end")
                        .with_label(e.name.span, format!("this path ends at `{}`", e.name.name)),
                    );
                }
            } else if e.flow.targets.is_empty() && !has_branches {
                self.error(
                    Diagnostic::error(
                        "procdsl::check::no_outgoing_flow",
                        format!("element `{}` has no outgoing flow", e.name.name),
                    )
                    .with_label(e.name.span, "nothing follows this element")
                    .with_help("add `-> Next`, or end the path with an `end` element"),
                );
            }
            if has_branches {
                if let Some(t) = e.flow.targets.first() {
                    self.error(
                        Diagnostic::error(
                            "procdsl::check::flow_beside_branches",
                            format!("gateway `{}` has `when` branches and a plain flow", e.name.name),
                        )
                        .with_label(t.span, "plain flow here")
                        .with_help("write the default flow as `else -> Target` inside the braces"),
                    );
                }
            }
            if e.flow.targets.len() > 1 && !matches!(e.kind, ast::ElementKind::Parallel) {
                self.error(
                    Diagnostic::error(
                        "procdsl::check::several_targets",
                        format!(
                            "only `parallel` may have several targets, but `{kind_word}` element `{}` has {}",
                            e.name.name,
                            e.flow.targets.len()
                        ),
                    )
                    .with_label(e.flow.targets[1].span, "second target")
                    .with_help("fork with a `parallel` gateway, or choose with `exclusive`"),
                );
            }
            let next: SmallVec<[Flow; 1]> =
                if is_end { SmallVec::new() } else { e.flow.targets.iter().filter_map(|t| flow_to(self, t)).collect() };
            let on_error = if is_end { None } else { e.flow.on_error.as_ref().and_then(|t| flow_to(self, t)) };
            let (deadline, reminder) = {
                let mut scope = Scope::new(&param_types, &mut params_read);
                self.check_boundaries(e, &mut flow_to, &mut scope, &param_types)
            };

            let mut multi = e.for_each.as_ref().map(|fe| {
                let mut scope = Scope::new(&param_types, &mut params_read);
                self.check_for_each(e, fe, &mut scope, &params)
            });
            let item_var = e.for_each.as_ref().map(|fe| fe.var.name.as_str());
            let kind = match &e.kind {
                ast::ElementKind::Start => ElementKind::Start,
                ast::ElementKind::End => ElementKind::End,
                ast::ElementKind::Terminate => ElementKind::Terminate,
                ast::ElementKind::Parallel => ElementKind::Parallel,
                ast::ElementKind::Script(block) => {
                    let mut scope = Scope::new(&param_types, &mut params_read);
                    ElementKind::Script(self.compile_script(block, &mut scope))
                }
                ast::ElementKind::Exclusive(branches) | ast::ElementKind::Inclusive(branches) => {
                    let inclusive = matches!(e.kind, ast::ElementKind::Inclusive(_));
                    let mut scope = Scope::new(&param_types, &mut params_read);
                    let mut compiled = Vec::new();
                    let mut otherwise = None;
                    for (i, b) in branches.iter().enumerate() {
                        let flow = flow_to(self, &b.target);
                        match &b.condition {
                            Some(c) => {
                                let c = self.compile_expr(c, &mut scope);
                                if let Some(f) = flow {
                                    compiled.push((c, f));
                                }
                            }
                            None if i + 1 < branches.len() => {
                                self.error(
                                    Diagnostic::error(
                                        "procdsl::check::else_not_last",
                                        format!("`else` must be the last branch of `{}`", e.name.name),
                                    )
                                    .with_label(b.span, "branches after this one could never be taken"),
                                );
                            }
                            None => otherwise = flow,
                        }
                    }
                    if !branches.is_empty() && branches.iter().all(|b| b.condition.is_some()) {
                        self.diagnostics.push(
                            Diagnostic::warning(
                                "procdsl::check::no_else",
                                format!("{kind_word} gateway `{}` has no `else` branch", e.name.name),
                            )
                            .with_label(e.name.span, "when no condition holds, the instance fails here")
                            .with_help("add `else -> Target`"),
                        );
                    }
                    ElementKind::Gateway { inclusive, branches: compiled, otherwise }
                }
                ast::ElementKind::User { to, fields, done } => {
                    let to = to.as_ref().map(|expr| {
                        let mut scope = Scope::new(&param_types, &mut params_read);
                        if let Some(var) = item_var {
                            scope.declare(var);
                        }
                        let reported = self.diagnostics.len();
                        let compiled = self.compile_expr(expr, &mut scope);
                        // An expression already reported (an unknown name) compiles to null: say nothing more.
                        let clean = self.diagnostics.len() == reported;
                        if let Some(what) = not_assignees(&compiled, &param_types).filter(|_| clean) {
                            self.error(
                                Diagnostic::error(
                                    "procdsl::check::assignee_type",
                                    format!(
                                        "`to` of user task `{}` must give a Text or a List<Text>, not {what}",
                                        e.name.name
                                    ),
                                )
                                .with_label(compiled.span, format!("this is {what}"))
                                .with_help("name users or roles: `to \"managers\"`, `to [\"alice\", Requester]` or a Text parameter"),
                            );
                        }
                        compiled
                    });
                    let mut specs: Vec<FieldSpec> = Vec::new();
                    for f in fields {
                        if let Some(first) = specs.iter().find(|s| *s.name == *f.name.name) {
                            self.error(duplicate(
                                "procdsl::check::duplicate_field",
                                "field",
                                &f.name.name,
                                f.name.span,
                                first.span,
                            ));
                            continue;
                        }
                        if let Some(param) = params.iter().find(|p| *p.code == *f.name.name) {
                            self.error(
                                Diagnostic::error(
                                    "procdsl::check::field_hides_parameter",
                                    format!("field `{}` has the name of a parameter", f.name.name),
                                )
                                .with_label(f.name.span, "field")
                                .with_label(param.span, "parameter")
                                .with_help("fields are read by name in `done`; give the field another name"),
                            );
                        }
                        let (ty, typed) = self.resolve_type_once(&f.ty);
                        let default = f
                            .default
                            .as_ref()
                            .filter(|_| typed)
                            .and_then(|d| self.constant(d, &ty, &format!("field `{}`", f.name.name)));
                        specs.push(FieldSpec { name: f.name.name.as_str().into(), ty, default, span: f.name.span });
                    }
                    if let (Some(fe), Some(m)) = (&e.for_each, multi.as_mut()) {
                        m.slot = specs.len() as u32;
                        if let Some(f) = specs.iter().find(|f| *f.name == *fe.var.name) {
                            self.error(
                                Diagnostic::error(
                                    "procdsl::check::item_hides_field",
                                    format!("the item `{}` of `for each` has the name of a field", fe.var.name),
                                )
                                .with_label(fe.var.span, "item")
                                .with_label(f.span, "field")
                                .with_help("both are read by name in `done`; give the item another name"),
                            );
                        }
                    }
                    let done = done.as_ref().map(|block| {
                        let mut scope = Scope::new(&param_types, &mut params_read);
                        for f in &specs {
                            scope.declare(&f.name);
                        }
                        if let Some(var) = item_var {
                            scope.declare(var);
                        }
                        self.compile_script(block, &mut scope)
                    });
                    let done = done.or_else(|| {
                        (!specs.is_empty()).then(|| Script { body: Vec::new(), locals: specs.len() as u32 })
                    });
                    ElementKind::User { to, fields: specs, done }
                }
                ast::ElementKind::Timer(ast::TimerKind::After(lit)) => {
                    ElementKind::Timer(TimerSpec::After(self.duration(lit, false)))
                }
                ast::ElementKind::Timer(ast::TimerKind::At(expr)) => {
                    let mut scope = Scope::new(&param_types, &mut params_read);
                    ElementKind::Timer(TimerSpec::At(self.compile_expr(expr, &mut scope)))
                }
                ast::ElementKind::Signal(name) => {
                    if name.value.is_empty() {
                        self.error(
                            Diagnostic::error("procdsl::check::empty_signal", "a signal needs a name")
                                .with_label(name.span, "empty signal name"),
                        );
                    }
                    ElementKind::Signal(name.value.as_str().into())
                }
                ast::ElementKind::Call { process, inputs, outputs } => {
                    let mut scope = Scope::new(&param_types, &mut params_read);
                    if let Some(var) = item_var {
                        scope.declare(var);
                    }
                    self.check_call(process, inputs, outputs, &mut scope, &param_types, ctx, item_var.is_some())
                }
            };
            specs.push(ElementSpec {
                cost: kind.cost().saturating_add(deadline_cost(&deadline)).saturating_add(multi_cost(&multi)),
                name,
                // Filled in after the loop, with the defaults made apart.
                uid: Uuid::nil(),
                caption: e.caption.as_ref().map(|c| c.value.as_str().into()),
                span: e.name.span,
                kind,
                next,
                on_error,
                deadline: deadline.map(Box::new),
                reminder: reminder.map(Box::new),
                multi: multi.map(Box::new),
                incoming: 0,
                reached_from: None,
            });
        }
        for (spec, count) in specs.iter_mut().zip(&incoming) {
            spec.incoming = *count;
        }
        let defaults = defaults.and_then(|made| made.recv().ok());
        let mut uids: foldhash::HashMap<Uuid, Span> =
            HashMap::with_capacity_and_hasher(elements.len(), foldhash::fast::RandomState::default());
        for (i, (spec, e)) in specs.iter_mut().zip(&elements).enumerate() {
            let written = e.uid.as_ref().and_then(|lit| self.parse_uid(lit));
            spec.uid = match (written, defaults.as_ref().and_then(|made| made.get(i))) {
                (Some(written), _) => written,
                (None, Some(made)) => *made,
                (None, None) => default_element_uid(uid, &spec.name),
            };
            let uid_span = e.uid.as_ref().map_or(e.name.span, |u| u.span);
            if let Some(first) = uids.insert(spec.uid, uid_span) {
                self.error(
                    Diagnostic::error(
                        "procdsl::check::duplicate_uid",
                        format!("element UId {} is used twice", spec.uid),
                    )
                    .with_label(uid_span, "used again here")
                    .with_label(first, "first used here"),
                );
            }
        }
        if let Some(s) = specs.get(start.0 as usize) {
            if s.incoming > 0 && matches!(s.kind, ElementKind::Start) {
                self.error(
                    Diagnostic::error(
                        "procdsl::check::flow_to_start",
                        format!("`start` element `{}` cannot be the target of a flow", s.name),
                    )
                    .with_label(s.span, "flows lead here")
                    .with_help("loop back to the element after the start instead"),
                );
            }
        }
        self.warn_unreachable(&specs, start, &elements);
        add_join_reachability(&mut specs);
        for (i, param) in params.iter().enumerate() {
            if param.direction == Direction::Var && !params_read[i] {
                self.diagnostics.push(
                    Diagnostic::warning(
                        "procdsl::check::unused_var",
                        format!("`var` parameter `{}` is never read", param.code),
                    )
                    .with_label(param.span, "written, perhaps, but never read")
                    .with_help("remove it, or read it in a script or a condition"),
                );
            }
        }
        let caption = p.captions.first().map(|c| c.value.as_str().into());
        ProcessSpec::new(p.name.name.as_str().into(), uid, caption, p.name.span, params, specs, ids, start)
    }

    /// An element's `deadline` and `every`: only on an element that waits,
    /// at most one of each, with an ISO 8601 duration or a DateTime.
    fn check_boundaries(
        &mut self,
        e: &ast::Element,
        flow_to: &mut dyn FnMut(&mut Checker, &ast::Ident) -> Option<Flow>,
        scope: &mut Scope,
        params: &[(Arc<str>, Type)],
    ) -> (Option<DeadlineSpec>, Option<ReminderSpec>) {
        let (mut deadline, mut reminder) = (None, None);
        let mut first: [Option<Span>; 2] = [None, None];
        let can_wait = matches!(
            e.kind,
            ast::ElementKind::User { .. } | ast::ElementKind::Signal(_) | ast::ElementKind::Call { .. }
        );
        for b in &e.flow.boundaries {
            let word = b.kind.keyword();
            if !can_wait {
                let kind = e.kind.keyword();
                let (element, help) = match e.kind {
                    ast::ElementKind::Timer(_) => (
                        "a timer waits a fixed time and cannot be cut short".to_string(),
                        "race the timer against the task instead: put the deadline on the user task, signal or call",
                    ),
                    _ => (
                        format!("`{kind}` runs and moves on at once"),
                        "deadlines and reminders go on `user`, `signal` and `call` elements",
                    ),
                };
                self.error(
                    Diagnostic::error(
                        "procdsl::check::boundary_cannot_wait",
                        format!(
                            "`{word}` on `{kind}` element `{}`: only `user`, `signal` and `call` elements take one",
                            e.name.name
                        ),
                    )
                    .with_label(b.keyword, format!("`{word}` here"))
                    .with_label(e.name.span, element)
                    .with_help(help),
                );
                continue;
            }
            let index = usize::from(matches!(b.kind, ast::BoundaryKind::Every(_)));
            if let Some(before) = first[index] {
                self.error(
                    Diagnostic::error(
                        "procdsl::check::duplicate_boundary",
                        format!("element `{}` has a second `{word}`", e.name.name),
                    )
                    .with_label(b.keyword, "defined again here")
                    .with_label(before, "first defined here")
                    .with_help(format!("an element has at most one `{word}`")),
                );
                continue;
            }
            first[index] = Some(b.keyword);
            let flow = flow_to(self, &b.target);
            match &b.kind {
                ast::BoundaryKind::Deadline(ast::TimerKind::After(lit)) => {
                    let span = self.duration(lit, false);
                    deadline = flow.map(|flow| DeadlineSpec { when: TimerSpec::After(span), flow });
                }
                ast::BoundaryKind::Deadline(ast::TimerKind::At(expr)) => {
                    let reported = self.diagnostics.len();
                    let at = self.compile_expr(expr, scope);
                    let clean = self.diagnostics.len() == reported;
                    if let Some(what) = not_a_time(&at, params).filter(|_| clean) {
                        self.error(
                            Diagnostic::error(
                                "procdsl::check::deadline_type",
                                format!("`deadline at` of `{}` must give a DateTime, not {what}", e.name.name),
                            )
                            .with_label(at.span, format!("this is {what}"))
                            .with_help("give a DateTime (or a Date, meaning its midnight UTC), e.g. `deadline at DueBy -> Late`"),
                        );
                    }
                    deadline = flow.map(|flow| DeadlineSpec { when: TimerSpec::At(at), flow });
                }
                ast::BoundaryKind::Every(lit) => {
                    let span = self.duration(lit, true);
                    reminder = flow.map(|flow| ReminderSpec { every: span, flow });
                }
            }
        }
        (deadline, reminder)
    }

    /// `for each X in LIST [until COND]`: X must not hide a parameter, LIST
    /// must be a List where the checker can tell. X is not visible in
    /// `until`, which is checked after an item is done and reads parameters.
    fn check_for_each(
        &mut self,
        e: &ast::Element,
        fe: &ast::ForEach,
        scope: &mut Scope,
        params: &[ParamSpec],
    ) -> MultiSpec {
        if let Some(param) = params.iter().find(|p| *p.code == *fe.var.name) {
            self.error(
                Diagnostic::error(
                    "procdsl::check::item_hides_parameter",
                    format!("the item `{}` of `for each` has the name of a parameter", fe.var.name),
                )
                .with_label(fe.var.span, "item")
                .with_label(param.span, "parameter")
                .with_help("give the item a name no parameter has; it is readable only in this element"),
            );
        }
        let reported = self.diagnostics.len();
        let list = self.compile_expr(&fe.list, scope);
        let clean = self.diagnostics.len() == reported;
        if let Some(what) = not_a_list(&list, scope.params).filter(|_| clean) {
            self.error(
                Diagnostic::error(
                    "procdsl::check::for_each_not_list",
                    format!("`for each` of `{}` must go over a List, not {what}", e.name.name),
                )
                .with_label(list.span, format!("this is {what}"))
                .with_label(fe.keyword, "one element-instance per item of the list")
                .with_help("give a List parameter or expression, e.g. `for each Reviewer in Reviewers`"),
            );
        }
        let until = fe.until.as_ref().map(|c| self.compile_expr(c, scope));
        MultiSpec { var: fe.var.name.as_str().into(), list, until, slot: 0 }
    }

    /// An ISO 8601 duration, reported when it is not one (or, for a
    /// repeating reminder, when it is zero). ISO 8601 only: jiff also reads
    /// "2 hours", which the language does not promise. After an error the
    /// value stands in only so that checking goes on.
    pub(super) fn duration(&mut self, lit: &ast::StrLit, positive: bool) -> jiff::Span {
        match iso_duration(&lit.value) {
            Some(span) if positive && span.is_zero() => {
                self.error(
                    Diagnostic::error("procdsl::check::zero_duration", format!("`{}` is no time at all", lit.value))
                        .with_label(lit.span, "a reminder must repeat after some time")
                        .with_help("give a positive duration such as PT1H or P1D"),
                );
                jiff::Span::new().days(1)
            }
            Some(span) => span,
            None => {
                self.error(
                    Diagnostic::error("procdsl::check::bad_duration", format!("`{}` is not a duration", lit.value))
                        .with_label(lit.span, "expected an ISO 8601 duration such as PT2H, P1D or PT30M"),
                );
                jiff::Span::new().days(1)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_call(
        &mut self,
        process: &ast::Ident,
        inputs: &[(ast::Ident, ast::Expr)],
        outputs: &[(ast::Ident, ast::Ident)],
        scope: &mut Scope,
        parent: &[(Arc<str>, Type)],
        ctx: &ProgramContext,
        multi: bool,
    ) -> ElementKind {
        let Some(&callee) = ctx.process_ids.get(process.name.as_str()) else {
            let mut d =
                Diagnostic::error("procdsl::check::unknown_process", format!("unknown process `{}`", process.name))
                    .with_label(process.span, "no process has this Code");
            if let Some(s) = nearest(&process.name, ctx.process_ids.keys().copied()) {
                d = d.with_help(format!("did you mean `{s}`?"));
            } else {
                d = d.with_help("define it in this file, or `import` the file that does");
            }
            self.error(d);
            return ElementKind::Call { process: ProcessId(0), inputs: Vec::new(), outputs: Vec::new() };
        };
        let child = &ctx.params[callee.0 as usize];
        let find = |this: &mut Checker, name: &ast::Ident, wanted: &[Direction], role: &str| -> Option<u32> {
            match child.iter().position(|(c, _, _)| **c == *name.name) {
                Some(i) if wanted.contains(&child[i].2) => Some(i as u32),
                Some(i) => {
                    this.error(
                        Diagnostic::error(
                            "procdsl::check::wrong_direction",
                            format!(
                                "`{}` of `{}` is `{}`, not an {role}",
                                name.name,
                                process.name,
                                child[i].2.keyword()
                            ),
                        )
                        .with_label(name.span, format!("not an {role} of the sub-process")),
                    );
                    None
                }
                None => {
                    let mut d = Diagnostic::error(
                        "procdsl::check::unknown_parameter",
                        format!("process `{}` has no parameter `{}`", process.name, name.name),
                    )
                    .with_label(name.span, "unknown parameter");
                    if let Some(s) = nearest(&name.name, child.iter().map(|(c, _, _)| &**c)) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    this.error(d);
                    None
                }
            }
        };
        let mut compiled_inputs = Vec::new();
        for (name, expr) in inputs {
            let value = self.compile_expr(expr, scope);
            if let Some(slot) = find(self, name, &[Direction::In, Direction::InOut], "input") {
                let (code, ty, _) = &child[slot as usize];
                self.check_literal_fits(&value, &(code.clone(), ty.clone()), name.span);
                if let CExprKind::Param(from) = value.kind {
                    let (from_code, from_ty) = &parent[from as usize];
                    if self.is_typed(code) && self.is_typed(from_code) && !fits(from_ty, ty) {
                        self.error(mapping_mismatch(
                            (from_code, from_ty, expr.span),
                            (code, ty, name.span),
                            &format!("input `{code}` of `{}`", process.name),
                        ));
                    }
                }
                compiled_inputs.push((slot, value));
            }
        }
        let mut compiled_outputs = Vec::new();
        for (from, to) in outputs {
            let child_slot = find(self, from, &[Direction::Out, Direction::InOut], "output");
            let parent_slot = parent.iter().position(|(c, _)| **c == *to.name);
            if parent_slot.is_none() {
                let mut d =
                    Diagnostic::error("procdsl::check::unknown_variable", format!("unknown parameter `{}`", to.name))
                        .with_label(to.span, "not a parameter of this process");
                if let Some(s) = nearest(&to.name, parent.iter().map(|(c, _)| &**c)) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                self.error(d);
            }
            if let (Some(c), Some(p)) = (child_slot, parent_slot) {
                let (from_code, from_ty, _) = &child[c as usize];
                let (to_code, to_ty) = &parent[p];
                // A multi-instance call collects each item's output into a List.
                let to_ty = match to_ty {
                    _ if !multi => to_ty,
                    Type::List(item) => &**item,
                    _ => {
                        if self.is_typed(to_code) {
                            self.error(
                                Diagnostic::error(
                                    "procdsl::check::multi_output_not_list",
                                    format!(
                                        "output `{from_code}` of multi-instance call `{}` goes to `{to_code}`, which is {}, not a List",
                                        process.name,
                                        to_ty.with_article()
                                    ),
                                )
                                .with_label(to.span, format!("`{to_code}` is {}", to_ty.with_article()))
                                .with_label(from.span, "one value per item")
                                .with_help(format!(
                                    "declare `{to_code}` as `List<{from_ty}>`: it receives the outputs in item order"
                                )),
                            );
                        }
                        continue;
                    }
                };
                if self.is_typed(from_code) && self.is_typed(to_code) && !fits(from_ty, to_ty) {
                    let target = if multi {
                        format!("each item of parameter `{to_code}`")
                    } else {
                        format!("parameter `{to_code}`")
                    };
                    self.error(mapping_mismatch((from_code, from_ty, from.span), (to_code, to_ty, to.span), &target));
                }
                compiled_outputs.push((c, p as u32));
            }
        }
        ElementKind::Call { process: callee, inputs: compiled_inputs, outputs: compiled_outputs }
    }

    fn warn_unreachable(&mut self, specs: &[ElementSpec], start: ElementId, ast: &[&ast::Element]) {
        if specs.is_empty() {
            return;
        }
        let mut seen = vec![false; specs.len()];
        // Only the set reached matters, not the order: a stack is cheaper than a queue.
        let mut stack = vec![start];
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut seen[id.0 as usize], true) {
                continue;
            }
            stack.extend(successors(&specs[id.0 as usize]));
        }
        for (i, s) in specs.iter().enumerate() {
            if !seen[i] {
                self.diagnostics.push(
                    Diagnostic::warning(
                        "procdsl::check::unreachable",
                        format!("element `{}` is unreachable from start", s.name),
                    )
                    .with_label(ast[i].name.span, "no path from `start` leads here"),
                );
            }
        }
    }
}

/// Whether every value of type `from` fits a parameter of type `to`, as
/// assignment checks it at run time: the same type, an Integer into a
/// Decimal, lists of fitting items, objects whose attributes the target
/// type all has.
fn fits(from: &Type, to: &Type) -> bool {
    match (from, to) {
        (Type::Integer, Type::Decimal) => true,
        (Type::List(a), Type::List(b)) => fits(a, b),
        (Type::Object(a), Type::Object(b)) => {
            a.iter().all(|(name, t)| b.iter().any(|(other, u)| other == name && fits(t, u)))
        }
        _ => from == to,
    }
}

/// A call mapping whose source type does not fit its target.
fn mapping_mismatch(
    (from_code, from_ty, from_span): (&str, &Type, Span),
    (to_code, to_ty, to_span): (&str, &Type, Span),
    target: &str,
) -> Diagnostic {
    Diagnostic::error(
        "procdsl::check::wrong_type",
        format!("`{from_code}` ({from_ty}) is mapped to {target}, which is {}", to_ty.with_article()),
    )
    .with_label(from_span, from_ty.with_article())
    .with_label(to_span, format!("`{to_code}` is {}", to_ty.with_article()))
    .with_help("map a parameter of the same type, or convert it in a script before or after the call")
}

/// Every element a token can move to from `e`.
pub(crate) fn successors(e: &ElementSpec) -> impl Iterator<Item = ElementId> + '_ {
    let (branches, otherwise): (&[(super::ir::CExpr, Flow)], &Option<Flow>) = match &e.kind {
        ElementKind::Gateway { branches, otherwise, .. } => (branches, otherwise),
        _ => (&[], &None),
    };
    e.next
        .iter()
        .chain(branches.iter().map(|(_, f)| f))
        .chain(otherwise.iter())
        .chain(e.on_error.iter())
        .chain(e.deadline.iter().map(|d| &d.flow))
        .chain(e.reminder.iter().map(|r| &r.flow))
        .map(|f| f.target)
}

/// For every inclusive join, the set of elements from which a token can
/// still reach it without passing through it.
fn add_join_reachability(specs: &mut [ElementSpec]) {
    let is_inclusive_join =
        |e: &ElementSpec| e.is_join() && matches!(e.kind, ElementKind::Gateway { inclusive: true, .. });
    // Most processes have none: then the predecessor lists are not worth building.
    if !specs.iter().any(is_inclusive_join) {
        return;
    }
    let n = specs.len();
    let mut preds: Vec<Vec<ElementId>> = vec![Vec::new(); n];
    for (i, e) in specs.iter().enumerate() {
        for t in successors(e) {
            preds[t.0 as usize].push(ElementId(i as u32));
        }
    }
    for j in 0..n {
        if !is_inclusive_join(&specs[j]) {
            continue;
        }
        let mut bits = vec![0u64; n.div_ceil(64)];
        let mut queue: VecDeque<ElementId> = preds[j].iter().copied().collect();
        while let Some(id) = queue.pop_front() {
            let i = id.0 as usize;
            if i == j || bits[i / 64] & (1 << (i % 64)) != 0 {
                continue;
            }
            bits[i / 64] |= 1 << (i % 64);
            queue.extend(preds[i].iter().copied());
        }
        specs[j].reached_from = Some(bits);
    }
}

/// An ISO 8601 duration (`PT2H`, `P1DT12H`, `P2W`), not negative.
fn iso_duration(text: &str) -> Option<jiff::Span> {
    let text = text.trim();
    if !text.starts_with(['P', 'p']) {
        return None;
    }
    text.parse::<jiff::Span>().ok().filter(|s| !s.is_negative())
}

/// The steps evaluating a multi-instance element's list costs.
fn multi_cost(multi: &Option<MultiSpec>) -> u32 {
    multi.as_ref().map_or(0, |m| u32::try_from(m.list.weight()).unwrap_or(u32::MAX))
}

/// What a `for each` list expression gives, when the checker can tell
/// that it is not a List.
fn not_a_list(expr: &CExpr, params: &[(Arc<str>, Type)]) -> Option<String> {
    match &expr.kind {
        CExprKind::Const(Value::List(_)) | CExprKind::List(_) | CExprKind::Const(Value::Null) => None,
        CExprKind::Const(v) => Some(value_with_article(v)),
        CExprKind::Text(_) => Some("a Text".to_string()),
        CExprKind::Object(_) => Some("an object".to_string()),
        CExprKind::Param(slot) => {
            let ty = &params.get(*slot as usize)?.1;
            (!matches!(ty, Type::List(_))).then(|| ty.with_article())
        }
        _ => None,
    }
}

/// The steps evaluating a `deadline at` costs.
fn deadline_cost(deadline: &Option<DeadlineSpec>) -> u32 {
    match deadline {
        Some(DeadlineSpec { when: TimerSpec::At(e), .. }) => u32::try_from(e.weight()).unwrap_or(u32::MAX),
        _ => 0,
    }
}

/// What a `deadline at` expression gives, when the checker can tell that
/// it is not a DateTime or a Date.
fn not_a_time(expr: &CExpr, params: &[(Arc<str>, Type)]) -> Option<String> {
    match &expr.kind {
        CExprKind::Const(Value::DateTime(_) | Value::Date(_)) => None,
        CExprKind::Const(v) => Some(value_with_article(v)),
        CExprKind::Text(_) | CExprKind::List(_) | CExprKind::Object(_) => Some(
            match &expr.kind {
                CExprKind::Text(_) => "a Text",
                CExprKind::List(_) => "a List",
                _ => "an object",
            }
            .to_string(),
        ),
        CExprKind::Param(slot) => {
            let ty = &params.get(*slot as usize)?.1;
            (!matches!(ty, Type::DateTime | Type::Date)).then(|| ty.with_article())
        }
        _ => None,
    }
}

/// What a `to` expression gives, when the checker can tell that it is not
/// a Text or a List<Text>: "an Integer", "a List<Integer>". Expressions
/// whose type only running tells (function calls, attributes) are left to
/// run time, which refuses them with the same words.
fn not_assignees(expr: &CExpr, params: &[(Arc<str>, Type)]) -> Option<String> {
    let is_names = |ty: &Type| matches!(ty, Type::Text) || matches!(ty, Type::List(item) if **item == Type::Text);
    match &expr.kind {
        CExprKind::Const(Value::Text(_)) | CExprKind::Text(_) => None,
        CExprKind::Const(Value::List(list)) => list
            .items
            .iter()
            .find(|v| !matches!(v, Value::Text(_)))
            .map(|v| format!("a List holding {}", value_with_article(v))),
        CExprKind::Const(v) => Some(value_with_article(v)),
        CExprKind::Param(slot) => {
            let ty = &params.get(*slot as usize)?.1;
            (!is_names(ty)).then(|| ty.with_article())
        }
        CExprKind::List(items) => items.iter().find_map(|item| match &item.kind {
            CExprKind::Const(Value::Text(_)) | CExprKind::Text(_) => None,
            CExprKind::Const(v) => Some(format!("a List holding {}", value_with_article(v))),
            CExprKind::Param(slot) => {
                let ty = &params.get(*slot as usize)?.1;
                (*ty != Type::Text).then(|| format!("a List holding {}", ty.with_article()))
            }
            _ => None,
        }),
        _ => None,
    }
}

/// "an Integer", "null": a constant's type for a message.
fn value_with_article(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        _ => {
            let name = v.type_name();
            let article = if name.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
            format!("{article} {name}")
        }
    }
}
