//! Runs checked REPL input against an instance's parameters: an expression
//! gives its value, statements change parameters and write to the log. It
//! is atomic like an element: when it fails, its changes are undone.

use crate::check::spec::ParamSpec;
use crate::check::Snippet;
use crate::runtime::engine::Change;
use crate::runtime::eval::{Budget, Eval, RunError, Undo};
use crate::runtime::instance::{Instance, Log};
use crate::runtime::value::Value;
use jiff::Timestamp;
use std::sync::Arc;

/// What running a snippet did.
#[derive(Clone, Debug, Default)]
pub struct SnippetOutcome {
    /// The value of a lone expression.
    pub value: Option<Value>,
    /// Parameters changed, old → new.
    pub changes: Vec<Change>,
    /// Lines it wrote to the log.
    pub log: Vec<String>,
    /// Signals it threw with `emit`, for the caller to deliver.
    pub signals: Vec<Arc<str>>,
}

impl Instance {
    /// Runs a snippet checked against this instance's process, at the
    /// instance's clock, within a budget of `max_steps`.
    pub fn eval_snippet(&mut self, snippet: &Snippet, max_steps: u64) -> Result<SnippetOutcome, RunError> {
        let program = self.program.clone();
        let specs = &program.process(self.process).params;
        let context = Context { now: self.clock, last_error: self.last_error.clone(), max_steps };
        eval_in(&mut self.params, specs, &mut self.log, &context, snippet)
    }
}

/// Runs a snippet checked against no parameters (no instance yet).
pub fn eval_detached(snippet: &Snippet, now: Timestamp, max_steps: u64) -> Result<SnippetOutcome, RunError> {
    let context = Context { now, last_error: None, max_steps };
    eval_in(&mut [], &[], &mut Log::default(), &context, snippet)
}

struct Context {
    now: Timestamp,
    last_error: Option<Arc<str>>,
    max_steps: u64,
}

fn eval_in(
    params: &mut [Value],
    specs: &[ParamSpec],
    log: &mut Log,
    context: &Context,
    snippet: &Snippet,
) -> Result<SnippetOutcome, RunError> {
    let mut undo = Undo::default();
    undo.begin(params.len());
    let mut locals = Vec::new();
    let mut signals = Vec::new();
    let mut budget = Budget::new(context.max_steps);
    let log_before = log.len();
    let mut eval = Eval {
        params,
        specs,
        locals: &mut locals,
        undo: &mut undo,
        log,
        signals: &mut signals,
        budget: &mut budget,
        now: context.now,
        last_error: context.last_error.as_deref(),
        memory: None,
    };
    let result = match snippet {
        Snippet::Expr(expr) => eval.expr(expr).map(Some),
        Snippet::Script(script) => eval.run_script(script, Vec::new()).map(|()| None),
    };
    let value = match result {
        Ok(value) => value,
        Err(err) => {
            undo.rollback(params);
            return Err(err);
        }
    };
    let changes = undo
        .changes()
        .iter()
        .map(|(slot, old)| Change {
            code: specs[*slot as usize].code.clone(),
            old: old.clone(),
            new: params[*slot as usize].clone(),
        })
        .collect();
    Ok(SnippetOutcome { value, changes, log: log[log_before.min(log.len())..].to_vec(), signals })
}
