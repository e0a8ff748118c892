//! Pest pairs → AST for `test` blocks and their steps.

use super::ast::*;
use super::errors;
use super::parser::{Builder, Pair, Result, Rule};

impl Builder {
    pub(super) fn test(&self, pair: Pair) -> Result<Test> {
        let span = self.trimmed_span(&pair);
        let mut name = None;
        let mut steps = Vec::new();
        for item in pair.into_inner() {
            match item.as_rule() {
                Rule::text => name = Some(self.str_lit(item)?),
                Rule::kw_test | Rule::lbrace | Rule::rbrace => {}
                _ => steps.push(self.step(item)?),
            }
        }
        let name = name.ok_or_else(|| errors::internal(span, Rule::text))?;
        Ok(Test { name, steps, span })
    }

    fn step(&self, pair: Pair) -> Result<Step> {
        let span = self.trimmed_span(&pair);
        let rule = pair.as_rule();
        let missing = |rule| errors::internal(span, rule);
        let mut ident = None;
        let mut text = None;
        let mut expr = None;
        let mut values = Vec::new();
        let mut index = None;
        let mut mock = None;
        let mut expectation = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::ident => ident = Some(self.ident(&part)?),
                Rule::text => text = Some(self.str_lit(part)?),
                Rule::advance_to => {
                    let at = self.child(&mut part.into_inner(), Rule::expr, span)?;
                    expr = Some(self.expr(at, 0)?);
                }
                Rule::expr => expr = Some(self.expr(part, 0)?),
                Rule::step_values => values = self.values(part)?,
                Rule::step_index => {
                    let at = self.span(&part);
                    let number = self.child(&mut part.into_inner(), Rule::number, at)?;
                    let i = number.as_str().parse::<u64>().map_err(|_| errors::internal(at, Rule::number))?;
                    index = Some((i, at));
                }
                Rule::mock_fail => mock = Some(Mock::Fail(self.str_child(part)?)),
                Rule::mock_waits => mock = Some(Mock::Waits),
                Rule::expect_status => {
                    let ident = self.child(&mut part.into_inner(), Rule::ident, span)?;
                    expectation = Some(Expectation::Status(self.ident(&ident)?));
                }
                Rule::expect_waiting => expectation = Some(Expectation::Waiting(self.names(part, span)?)),
                Rule::expect_passed => expectation = Some(Expectation::Passed(self.names(part, span)?)),
                Rule::expect_not_passed => expectation = Some(Expectation::NotPassed(self.names(part, span)?)),
                Rule::expect_log => expectation = Some(Expectation::LogContains(self.str_child(part)?)),
                Rule::expect_error => expectation = Some(Expectation::ErrorContains(self.str_child(part)?)),
                _ => {}
            }
        }
        let kind = match rule {
            Rule::step_now => StepKind::Now(text.ok_or_else(|| missing(Rule::text))?),
            Rule::step_start => StepKind::Start { process: ident.ok_or_else(|| missing(Rule::ident))?, inputs: values },
            Rule::step_exec => {
                StepKind::Exec { element: ident.ok_or_else(|| missing(Rule::ident))?, index, fields: values }
            }
            Rule::step_signal => StepKind::Signal(text.ok_or_else(|| missing(Rule::text))?),
            Rule::step_advance => match (text, expr) {
                (Some(text), _) => StepKind::Advance(text),
                (None, Some(expr)) => StepKind::AdvanceTo(expr),
                (None, None) => return Err(missing(Rule::text)),
            },
            Rule::step_mock => StepKind::Mock {
                process: ident.ok_or_else(|| missing(Rule::ident))?,
                mock: mock.unwrap_or(Mock::Outputs(values)),
            },
            Rule::step_expect => match (expectation, expr) {
                (Some(e), _) => StepKind::Expect(e),
                (None, Some(expr)) => StepKind::Expect(Expectation::Expr(expr)),
                (None, None) => return Err(missing(Rule::expr)),
            },
            other => return Err(missing(other)),
        };
        Ok(Step { kind, span })
    }

    fn values(&self, pair: Pair) -> Result<Values> {
        let mut values = Vec::new();
        for value in pair.into_inner().filter(|p| p.as_rule() == Rule::step_value) {
            let span = self.span(&value);
            let mut parts = value.into_inner();
            let name = self.ident(&self.child(&mut parts, Rule::ident, span)?)?;
            let expr = self.expr(self.child(&mut parts, Rule::expr_nl, span)?, 0)?;
            values.push((name, expr));
        }
        Ok(values)
    }

    fn names(&self, pair: Pair, span: crate::source::Span) -> Result<Vec<Ident>> {
        let names = self.child(&mut pair.into_inner(), Rule::names, span)?;
        names.into_inner().filter(|p| p.as_rule() == Rule::ident).map(|p| self.ident(&p)).collect()
    }
}
