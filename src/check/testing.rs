//! `test` blocks checked against the program: every process, element,
//! field and parameter a step names must exist, and its expressions are
//! compiled as a script's would be. `crate::testing` runs the result.

use super::script::Scope;
use super::spec::{ElementKind, ProcessId, ProcessSpec};
use super::{Checker, Snippet};
use crate::diagnostic::{nearest, Diagnostic};
use crate::runtime::instance::Status;
use crate::runtime::value::Type;
use crate::source::{SourceMap, Span};
use crate::syntax::ast::{self, Direction, Expectation, ExprKind, Mock, StepKind, TextPart};
use std::sync::Arc;

/// Loads stored sources as [`super::load_sources`] does, leaving out their
/// tests: a test's mocks replace processes that other tests may name.
pub fn load_without_tests(files: &[(String, String)]) -> Result<super::Loaded, super::LoadError> {
    let mut loader = super::Loader { resolve_imports: false, check_tests: false, ..super::Loader::default() };
    for (name, text) in files {
        let file = loader.sources.add(name.as_str(), Some(std::path::Path::new(name)), text.as_str());
        loader.parse_file(file, std::path::Path::new("."));
    }
    loader.finish()
}

/// A checked `test` block.
#[derive(Debug)]
pub struct TestSpec {
    pub name: String,
    /// Where `test "name"` is written (JUnit and failures name it).
    pub span: Span,
    pub steps: Vec<StepSpec>,
}

/// A checked step and where it is written.
#[derive(Debug)]
pub struct StepSpec {
    pub kind: Step,
    pub span: Span,
}

/// A value a step computes before the step runs (no parameters in scope).
pub type ValueExprs = Vec<(Arc<str>, Snippet)>;

/// The steps, with names resolved.
#[derive(Debug)]
pub enum Step {
    Now(jiff::Timestamp),
    Start {
        process: ProcessId,
        inputs: ValueExprs,
    },
    Exec {
        element: Arc<str>,
        index: Option<u64>,
        fields: ValueExprs,
    },
    Signal(Arc<str>),
    Advance(jiff::Span),
    AdvanceTo(Snippet),
    /// `mock`: the called process's source is replaced by `source` (a
    /// process of the same Code and parameters that does what the mock says).
    Mock {
        process: Arc<str>,
        source: Arc<str>,
        span: Span,
    },
    Expect(Expect),
}

/// A checked `expect`.
#[derive(Debug)]
pub enum Expect {
    /// A Boolean over the newest instance's parameters; `reads` are the
    /// parameters it names, shown when it fails.
    Expr {
        snippet: Snippet,
        reads: Vec<Arc<str>>,
    },
    Status(Status),
    Waiting(Vec<Arc<str>>),
    Passed(Vec<Arc<str>>),
    NotPassed(Vec<Arc<str>>),
    LogContains(String),
    ErrorContains(String),
}

/// What the steps of a test know while checking: the process of the newest
/// `start`, and the processes mocked to wait (their task is named after them).
struct Context<'a> {
    specs: &'a [ProcessSpec],
    current: Option<ProcessId>,
    waiting_mocks: Vec<Arc<str>>,
}

impl Context<'_> {
    /// The process an element name belongs to: the current one, then any
    /// other (a sub-process's element waits in its caller's list).
    fn element_process(&self, name: &str) -> Option<&ProcessSpec> {
        let current = self.current.map(|p| &self.specs[p.0 as usize]);
        current.into_iter().chain(self.specs.iter()).find(|p| p.find_element(name).is_some())
    }

    fn knows_element(&self, name: &str) -> bool {
        self.element_process(name).is_some() || self.waiting_mocks.iter().any(|m| &**m == name)
    }
}

impl Checker {
    /// Checks every test block of the program's files.
    pub(super) fn check_tests(
        &mut self,
        tests: &[&ast::Test],
        specs: &[ProcessSpec],
        processes: &[&ast::Process],
        sources: &SourceMap,
    ) -> Vec<TestSpec> {
        let mut seen: std::collections::HashMap<&str, Span> = std::collections::HashMap::new();
        let mut checked = Vec::new();
        for test in tests {
            if let Some(first) = seen.get(test.name.value.as_str()) {
                self.error(
                    Diagnostic::error(
                        "procdsl::check::duplicate_test",
                        format!("test `{}` is defined twice", test.name.value),
                    )
                    .with_label(test.name.span, "defined again here")
                    .with_label(*first, "first defined here"),
                );
                continue;
            }
            seen.insert(&test.name.value, test.name.span);
            let mut ctx = Context { specs, current: None, waiting_mocks: Vec::new() };
            let steps = test
                .steps
                .iter()
                .filter_map(|step| {
                    let kind = self.check_step(step, &mut ctx, processes, sources)?;
                    Some(StepSpec { kind, span: step.span })
                })
                .collect();
            checked.push(TestSpec { name: test.name.value.clone(), span: test.name.span, steps });
        }
        checked
    }

    fn check_step(
        &mut self,
        step: &ast::Step,
        ctx: &mut Context,
        processes: &[&ast::Process],
        sources: &SourceMap,
    ) -> Option<Step> {
        match &step.kind {
            StepKind::Now(text) => match text.value.parse::<jiff::Timestamp>() {
                Ok(t) => Some(Step::Now(t)),
                Err(_) => {
                    self.error(
                        Diagnostic::error(
                            "procdsl::check::bad_time",
                            format!("`{}` is not a date and time", text.value),
                        )
                        .with_label(text.span, "not a time")
                        .with_help("write it like 2026-03-01T09:00:00Z"),
                    );
                    None
                }
            },
            StepKind::Start { process, inputs } => {
                let id = self.test_process(ctx.specs, process)?;
                let spec = &ctx.specs[id.0 as usize];
                for (name, _) in inputs {
                    match spec.param_slot(&name.name).map(|s| &spec.params[s as usize]) {
                        Some(p) if matches!(p.direction, Direction::In | Direction::InOut) => {}
                        Some(p) => self.error(
                            Diagnostic::error(
                                "procdsl::check::not_an_input",
                                format!(
                                    "parameter `{}` of `{}` is `{}`: a test cannot start it with a value",
                                    name.name,
                                    spec.code,
                                    p.direction.keyword()
                                ),
                            )
                            .with_label(name.span, "not an `in` or `inout` parameter"),
                        ),
                        None => self.unknown_name(
                            "parameter",
                            &name.name,
                            name.span,
                            &spec.code,
                            spec.params.iter().map(|p| &*p.code),
                        ),
                    }
                }
                ctx.current = Some(id);
                let inputs = self.constant_values(inputs);
                Some(Step::Start { process: id, inputs })
            }
            StepKind::Exec { element, index, fields } => {
                self.needs_instance(ctx, step.span, "exec")?;
                if !ctx.knows_element(&element.name) {
                    let current = &ctx.specs[ctx.current?.0 as usize];
                    self.unknown_name(
                        "element",
                        &element.name,
                        element.span,
                        &current.code,
                        current.elements.iter().map(|e| &*e.name),
                    );
                    return None;
                }
                if let Some(spec) = ctx.element_process(&element.name) {
                    let e = spec.element(spec.find_element(&element.name)?);
                    if let ElementKind::User { fields: declared, .. } = &e.kind {
                        for (name, _) in fields {
                            if !declared.iter().any(|f| *f.name == name.name) {
                                self.unknown_name(
                                    "field",
                                    &name.name,
                                    name.span,
                                    &e.name,
                                    declared.iter().map(|f| &*f.name),
                                );
                            }
                        }
                    }
                }
                let fields = self.constant_values(fields);
                Some(Step::Exec { element: element.name.as_str().into(), index: index.map(|(i, _)| i), fields })
            }
            StepKind::Signal(name) => Some(Step::Signal(name.value.as_str().into())),
            // ISO 8601 only, as a timer's duration.
            StepKind::Advance(text) => Some(Step::Advance(self.duration(text, false))),
            StepKind::AdvanceTo(expr) => Some(Step::AdvanceTo(self.step_value(expr))),
            StepKind::Mock { process, mock } => {
                let id = self.test_process(ctx.specs, process)?;
                let spec = &ctx.specs[id.0 as usize];
                let ast = processes.iter().find(|p| p.name.name == process.name)?;
                let body = match mock {
                    Mock::Outputs(values) => {
                        for (name, expr) in values {
                            match spec.param_slot(&name.name).map(|s| &spec.params[s as usize]) {
                                Some(p) if matches!(p.direction, Direction::Out | Direction::InOut) => {}
                                Some(p) => self.error(
                                    Diagnostic::error(
                                        "procdsl::check::not_an_output",
                                        format!(
                                            "parameter `{}` of `{}` is `{}`: a mock sets only outputs",
                                            name.name,
                                            spec.code,
                                            p.direction.keyword()
                                        ),
                                    )
                                    .with_label(name.span, "not an `out` or `inout` parameter"),
                                ),
                                None => self.unknown_name(
                                    "parameter",
                                    &name.name,
                                    name.span,
                                    &spec.code,
                                    spec.params.iter().map(|p| &*p.code),
                                ),
                            }
                            // The value is checked here, with no parameter in scope, and
                            // again inside the generated process.
                            self.step_value(expr);
                        }
                        let sets: Vec<String> = values
                            .iter()
                            .map(|(n, e)| format!("{} = ({})", n.name, text_of(sources, e.span)))
                            .collect();
                        format!("    script MockOutputs {{\n        {}\n    }} -> MockEnd\n", sets.join("\n        "))
                    }
                    Mock::Fail(message) => {
                        format!("    script MockFails {{ fail {} }} -> MockEnd\n", text_of(sources, message.span))
                    }
                    Mock::Waits => {
                        ctx.waiting_mocks.push(spec.code.clone());
                        format!("    user {} -> MockEnd\n", spec.code)
                    }
                };
                let mut source = format!("process {} {{\n", spec.code);
                for uid in &ast.uids {
                    source.push_str(&format!("    uid {}\n", text_of(sources, uid.span)));
                }
                for p in &ast.params {
                    source.push_str(&format!("    {}\n", text_of(sources, p.span)));
                }
                let first = match mock {
                    Mock::Outputs(_) => "MockOutputs".to_string(),
                    Mock::Fail(_) => "MockFails".to_string(),
                    Mock::Waits => spec.code.to_string(),
                };
                source.push_str(&format!("    start MockBegin -> {first}\n{body}    end MockEnd\n}}\n"));
                Some(Step::Mock { process: spec.code.clone(), source: source.into(), span: ast.span })
            }
            StepKind::Expect(expectation) => {
                let current = self.needs_instance(ctx, step.span, "expect")?;
                let spec = &ctx.specs[current.0 as usize];
                let elements = |checker: &mut Checker, names: &[ast::Ident]| -> Vec<Arc<str>> {
                    for name in names {
                        if !ctx.knows_element(&name.name) {
                            checker.unknown_name(
                                "element",
                                &name.name,
                                name.span,
                                &spec.code,
                                spec.elements.iter().map(|e| &*e.name),
                            );
                        }
                    }
                    names.iter().map(|n| n.name.as_str().into()).collect()
                };
                let expect = match expectation {
                    Expectation::Expr(expr) => {
                        let visible: Vec<(Arc<str>, Type)> =
                            spec.params.iter().map(|p| (p.code.clone(), p.ty.clone())).collect();
                        let mut read = vec![false; visible.len()];
                        let mut scope = Scope::new(&visible, &mut read);
                        let compiled = self.compile_expr(expr, &mut scope);
                        let mut reads = Vec::new();
                        names_read(expr, &mut |name| {
                            if let Some(slot) = spec.param_slot(name) {
                                let code = spec.params[slot as usize].code.clone();
                                if !reads.contains(&code) {
                                    reads.push(code);
                                }
                            }
                        });
                        Expect::Expr { snippet: Snippet::Expr(compiled), reads }
                    }
                    Expectation::Status(name) => {
                        let all =
                            [Status::Running, Status::Waiting, Status::Completed, Status::Failed, Status::Cancelled];
                        match all.iter().find(|s| s.as_str() == name.name) {
                            Some(s) => Expect::Status(*s),
                            None => {
                                let mut d = Diagnostic::error(
                                    "procdsl::check::unknown_status",
                                    format!("unknown status `{}`", name.name),
                                )
                                .with_label(name.span, "not a status");
                                d = d.with_help(match nearest(&name.name, all.iter().map(|s| s.as_str())) {
                                    Some(s) => format!("did you mean `{s}`?"),
                                    None => "a status is Running, Waiting, Completed, Failed or Cancelled".into(),
                                });
                                self.error(d);
                                return None;
                            }
                        }
                    }
                    Expectation::Waiting(names) => Expect::Waiting(elements(self, names)),
                    Expectation::Passed(names) => Expect::Passed(elements(self, names)),
                    Expectation::NotPassed(names) => Expect::NotPassed(elements(self, names)),
                    Expectation::LogContains(text) => Expect::LogContains(text.value.clone()),
                    Expectation::ErrorContains(text) => Expect::ErrorContains(text.value.clone()),
                };
                Some(Step::Expect(expect))
            }
        }
    }

    /// The process a `start` or `mock` names.
    fn test_process(&mut self, specs: &[ProcessSpec], name: &ast::Ident) -> Option<ProcessId> {
        match specs.iter().position(|p| *p.code == name.name) {
            Some(i) => Some(ProcessId(i as u32)),
            None => {
                let mut d =
                    Diagnostic::error("procdsl::check::unknown_process", format!("unknown process `{}`", name.name))
                        .with_label(name.span, "no process has this Code");
                if let Some(s) = nearest(&name.name, specs.iter().map(|p| &*p.code)) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                self.error(d);
                None
            }
        }
    }

    fn needs_instance(&mut self, ctx: &Context, at: Span, step: &str) -> Option<ProcessId> {
        if ctx.current.is_none() {
            self.error(
                Diagnostic::error("procdsl::check::no_instance", format!("`{step}` before any `start`"))
                    .with_label(at, "no instance has been started yet")
                    .with_help("start one first: `start Code { Input = value }`"),
            );
        }
        ctx.current
    }

    fn unknown_name<'a>(
        &mut self,
        what: &str,
        name: &str,
        at: Span,
        owner: &str,
        known: impl IntoIterator<Item = &'a str>,
    ) {
        let mut d = Diagnostic::error(
            match what {
                "element" => "procdsl::check::unknown_element",
                "field" => "procdsl::check::unknown_field",
                _ => "procdsl::check::unknown_parameter",
            },
            format!("`{owner}` has no {what} `{name}`"),
        )
        .with_label(at, format!("unknown {what}"));
        if let Some(s) = nearest(name, known) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        self.error(d);
    }

    /// An expression with no parameter in scope (inputs, fields, times).
    fn step_value(&mut self, expr: &ast::Expr) -> Snippet {
        let mut read = Vec::new();
        let mut scope = Scope::new(&[], &mut read);
        Snippet::Expr(self.compile_expr(expr, &mut scope))
    }

    fn constant_values(&mut self, values: &[(ast::Ident, ast::Expr)]) -> ValueExprs {
        values.iter().map(|(name, expr)| (Arc::from(name.name.as_str()), self.step_value(expr))).collect()
    }
}

/// The source text a span covers.
fn text_of(sources: &SourceMap, span: Span) -> &str {
    &sources.file(span.file).text[span.range()]
}

/// Calls `found` with every name an expression reads.
fn names_read(expr: &ast::Expr, found: &mut dyn FnMut(&str)) {
    match &expr.kind {
        ExprKind::Var(name) => found(&name.name),
        ExprKind::Text(parts) => {
            for part in parts {
                if let TextPart::Interpolation(e) = part {
                    names_read(e, found);
                }
            }
        }
        ExprKind::List(items) | ExprKind::Call(_, items) => items.iter().for_each(|e| names_read(e, found)),
        ExprKind::Object(entries) => entries.iter().for_each(|(_, e)| names_read(e, found)),
        ExprKind::Field(e, _) | ExprKind::Unary(_, e) => names_read(e, found),
        ExprKind::Index(pair) | ExprKind::Binary(_, pair) => pair.iter().for_each(|e| names_read(e, found)),
        ExprKind::Conditional(a, b, c) => {
            names_read(a, found);
            names_read(b, found);
            names_read(c, found);
        }
        ExprKind::Null | ExprKind::Boolean(_) | ExprKind::Integer(_) | ExprKind::Decimal(_) => {}
    }
}
