//! What the fuzz targets run, shared with `tests/fuzz.rs` (which replays
//! the committed corpus through the same functions, so that what a fuzzer
//! found stays a regression test in `cargo test`). Included with
//! `#[path]` by both; it depends only on procdsl and `arbitrary`.
//!
//! - [`load_any`]: the `parse_check` target, any bytes through the parser and
//!   the checker, and every diagnostic rendered.
//! - [`generate`] and [`run_generated`]: the `interpret` target. The bytes are
//!   decoded (with `arbitrary`) into a process of up to eight elements of
//!   every kind, wired by arbitrary flows, with random scripts, conditions,
//!   call mappings, user task fields, parameter values and field values; the
//!   program is printed as `.proc` text, loaded, and run with a small step
//!   budget, and what waits is executed.

#![allow(dead_code)] // each target uses its part

use arbitrary::{Arbitrary, Unstructured};
use procdsl::runtime::builtins::{Builtin, ALL};
use procdsl::runtime::engine::RunOptions;
use procdsl::Engine;
use std::fmt::Write as _;

/// Loads any text the way `procdsl check` does and renders what it reports
/// (plain, colored and as JSON). `load_sources` does not follow imports: a
/// fuzzer must not read files.
pub fn load_any(data: &[u8]) {
    // Invalid UTF-8 is a separate, early error in the CLI; the lossy text
    // keeps those inputs useful to the parser.
    let text = String::from_utf8_lossy(data).into_owned();
    match procdsl::check::load_sources(&[("fuzz.proc".to_string(), text)]) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                let _ = warning.to_string();
            }
        }
        Err(error) => {
            let _ = error.render(false);
            let _ = error.render(true);
            let _ = error.to_string();
            for d in &error.diagnostics {
                let _ = d.to_json(&error.sources);
            }
        }
    }
}

/// A generated program and what to run it with.
#[derive(Debug)]
pub struct Generated {
    pub source: String,
    pub params: Vec<(&'static str, &'static str)>,
    pub fields: Vec<&'static str>,
}

/// Decodes fuzzer bytes into a program; `None` when they run out too early.
pub fn generate(data: &[u8]) -> Option<Generated> {
    let mut u = Unstructured::new(data);
    let mut gen = Gen { u: &mut u, out: String::new() };
    gen.program().ok()?;
    let source = gen.out;
    let params: Vec<(&str, &str)> = (0..u.int_in_range(0..=3).unwrap_or(0))
        .filter_map(|_| Some((*u.choose(PARAMS).ok()?, *u.choose(VALUES).ok()?)))
        .collect();
    let fields: Vec<&str> = (0..3).filter_map(|_| u.choose(VALUES).ok().copied()).collect();
    Some(Generated { source, params, fields })
}

/// Loads and runs a generated program; whatever it does, nothing may panic.
pub fn run_generated(g: &Generated) {
    exercise(&g.source, &g.params, &g.fields);
}

/// Deep enough for interesting programs, shallow enough to stay fast.
const MAX_DEPTH: u32 = 5;
const MAX_ELEMENTS: usize = 8;
const MAX_STEPS: u64 = 2_000;

const PARAMS: &[&str] = &["I", "D", "T", "L", "O", "B", "W", "R"];
const LOCALS: &[&str] = &["a", "b", "it"];
const SIGNALS: &[&str] = &["Go", "Stop"];
const TEXTS: &[&str] = &[
    "",
    "a",
    "{I}",
    "x{T}y",
    "\\{",
    "\\n",
    "PT1H",
    "P1D",
    "2026-01-01",
    "2026-11-28T15:00:00Z",
    "8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d",
    "[1,2]",
    "\\{\\\"A\\\":1}",
    "12.50",
    " -12 ",
    "é",
    "ß",
    "Go",
];
const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "12.50",
    "true",
    "null",
    "x",
    "[]",
    "[1,2,3]",
    "{\"Name\":\"n\",\"N\":2}",
    "2026-02-30",
    "2026-11-28T15:00:00+01:00",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999999",
    "1e5",
    "[[[[]]]]",
    "{8B4C2F3E-0D7A-4C1B-9C55-2F1E3A4B5C6D}",
];

struct Gen<'a, 'b> {
    u: &'a mut Unstructured<'b>,
    out: String,
}

type R<T> = arbitrary::Result<T>;

impl Gen<'_, '_> {
    fn pick<'s>(&mut self, from: &[&'s str]) -> R<&'s str> {
        Ok(from[self.u.choose_index(from.len())?])
    }

    fn int_literal(&mut self) -> R<String> {
        Ok(match self.u.int_in_range(0..=5u8)? {
            0 => i64::arbitrary(self.u)?.to_string(),
            1 => "9223372036854775807".into(),
            _ => self.u.int_in_range(-3..=12i64)?.to_string(),
        })
    }

    fn expr(&mut self, depth: u32) -> R<String> {
        let leaf = depth >= MAX_DEPTH || self.u.is_empty();
        let choice = if leaf { self.u.int_in_range(0..=7u8)? } else { self.u.int_in_range(0..=15u8)? };
        Ok(match choice {
            0 => self.int_literal()?,
            1 => format!("{}.{:02}", self.u.int_in_range(0..=999u16)?, self.u.int_in_range(0..=99u8)?),
            2 | 3 => self.pick(PARAMS)?.to_string(),
            4 => self.pick(LOCALS)?.to_string(),
            5 => format!("\"{}\"", self.pick(TEXTS)?),
            6 => self.pick(&["null", "true", "false", "O.Name", "O.N", "last_error()", "now()"])?.to_string(),
            7 => "[]".into(),
            8 | 9 => {
                let op = self.pick(&["??", "or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"])?;
                format!("({} {op} {})", self.expr(depth + 1)?, self.expr(depth + 1)?)
            }
            10 => format!("{}{}", self.pick(&["-", "not "])?, self.expr(depth + 1)?),
            11 | 12 => {
                let f: Builtin = ALL[self.u.choose_index(ALL.len())?];
                let (min, max) = f.arity();
                let max = max.unwrap_or(min + 2);
                // Sometimes a wrong number of arguments, for the checker.
                let n =
                    if self.u.ratio(1, 16)? { self.u.int_in_range(0..=4)? } else { self.u.int_in_range(min..=max)? };
                let args = (0..n).map(|_| self.expr(depth + 1)).collect::<R<Vec<_>>>()?;
                format!("{}({})", f.name(), args.join(", "))
            }
            13 => format!("{}[{}]", self.expr(depth + 1)?, self.expr(depth + 1)?),
            14 => {
                let n = self.u.int_in_range(0..=3)?;
                let items = (0..n).map(|_| self.expr(depth + 1)).collect::<R<Vec<_>>>()?;
                format!("[{}]", items.join(", "))
            }
            _ => format!("{{ Name: {}, N: {} }}", self.expr(depth + 1)?, self.expr(depth + 1)?),
        })
    }

    fn block(&mut self, depth: u32, indent: usize) -> R<()> {
        let n = self.u.int_in_range(0..=4)?;
        for _ in 0..n {
            self.stmt(depth, indent)?;
        }
        Ok(())
    }

    fn line(&mut self, indent: usize, text: &str) {
        let _ = writeln!(self.out, "{:indent$}{text}", "");
    }

    fn stmt(&mut self, depth: u32, indent: usize) -> R<()> {
        let nested = depth < 3 && !self.u.is_empty();
        let choice = if nested { self.u.int_in_range(0..=14u8)? } else { self.u.int_in_range(0..=9u8)? };
        match choice {
            0..=2 => {
                let target = self.pick(&["I", "D", "T", "L", "O", "B", "W", "R", "O.Name", "O.N", "a"])?;
                let e = self.expr(0)?;
                self.line(indent, &format!("{target} = {e}"));
            }
            3 => {
                let (i, e) = (self.expr(1)?, self.expr(0)?);
                self.line(indent, &format!("L[{i}] = {e}"));
            }
            4 => {
                let (l, e) = (self.pick(&["a", "b"])?, self.expr(0)?);
                self.line(indent, &format!("let {l} = {e}"));
            }
            5 => {
                let e = self.expr(0)?;
                self.line(indent, &format!("log {e}"));
            }
            6 => {
                let e = self.expr(0)?;
                self.line(indent, &format!("fail {e}"));
            }
            7 => {
                let s = self.pick(SIGNALS)?;
                self.line(indent, &format!("emit \"{s}\""));
            }
            8 => {
                let s = self.pick(&["break", "continue", "return"])?;
                self.line(indent, s);
            }
            9 => {
                let e = self.expr(0)?;
                self.line(indent, &e);
            }
            10 | 11 => {
                let c = self.expr(0)?;
                self.line(indent, &format!("if {c} {{"));
                self.block(depth + 1, indent + 4)?;
                if self.u.arbitrary()? {
                    self.line(indent, "} else {");
                    self.block(depth + 1, indent + 4)?;
                }
                self.line(indent, "}");
            }
            12 => {
                let e = self.expr(0)?;
                self.line(indent, &format!("for it in {e} {{"));
                self.block(depth + 1, indent + 4)?;
                self.line(indent, "}");
            }
            13 => {
                let (a, b) = (self.expr(1)?, self.expr(1)?);
                self.line(indent, &format!("for it in {a}..{b} {{"));
                self.block(depth + 1, indent + 4)?;
                self.line(indent, "}");
            }
            _ => {
                let c = self.expr(0)?;
                self.line(indent, &format!("while {c} {{"));
                self.block(depth + 1, indent + 4)?;
                self.line(indent, "}");
            }
        }
        Ok(())
    }

    /// A flow target: an element of this process or one of its two ends.
    fn target(&mut self, n: usize) -> R<String> {
        let i = self.u.choose_index(n + 2)?;
        Ok(match i {
            i if i < n => format!("E{i}"),
            i if i == n => "Done".into(),
            _ => "Stop".into(),
        })
    }

    fn on_error(&mut self, n: usize) -> R<String> {
        Ok(if self.u.arbitrary()? { format!(" on error -> {}", self.target(n)?) } else { String::new() })
    }

    fn element(&mut self, i: usize, n: usize) -> R<()> {
        match self.u.int_in_range(0..=9u8)? {
            0..=2 => {
                self.line(4, &format!("script E{i} {{"));
                self.block(0, 8)?;
                let (t, e) = (self.target(n)?, self.on_error(n)?);
                self.line(4, &format!("}} -> {t}{e}"));
            }
            3 | 4 => {
                let kind = self.pick(&["exclusive", "inclusive"])?;
                self.line(4, &format!("{kind} E{i} {{"));
                for _ in 0..self.u.int_in_range(0..=3)? {
                    let (c, t) = (self.expr(0)?, self.target(n)?);
                    self.line(8, &format!("when {c} -> {t}"));
                }
                if self.u.arbitrary()? {
                    let t = self.target(n)?;
                    self.line(8, &format!("else -> {t}"));
                }
                self.line(4, "}");
            }
            5 => {
                let targets = (0..self.u.int_in_range(1..=3)?).map(|_| self.target(n)).collect::<R<Vec<_>>>()?;
                self.line(4, &format!("parallel E{i} -> {}", targets.join(", ")));
            }
            6 => {
                self.line(4, &format!("user E{i} \"Task {i}\" {{"));
                for f in 0..self.u.int_in_range(0..=2)? {
                    let ty = self.pick(&["Integer", "Text", "Decimal", "Boolean", "Date", "List<Integer>"])?;
                    self.line(8, &format!("in F{f}: {ty}"));
                }
                self.line(8, "done {");
                self.block(1, 12)?;
                self.line(8, "}");
                let (t, e) = (self.target(n)?, self.on_error(n)?);
                self.line(4, &format!("}} -> {t}{e}"));
            }
            7 => {
                let how = if self.u.arbitrary()? {
                    format!("after \"{}\"", self.pick(&["PT5M", "P1D", "PT0S", "bad", "-PT1H", "P9999Y"])?)
                } else {
                    format!("at {}", self.expr(1)?)
                };
                let (t, e) = (self.target(n)?, self.on_error(n)?);
                self.line(4, &format!("timer E{i} {how} -> {t}{e}"));
            }
            8 => {
                let (s, t) = (self.pick(SIGNALS)?, self.target(n)?);
                self.line(4, &format!("signal E{i} \"{s}\" -> {t}"));
            }
            _ => {
                // The child, or this process itself (recursion).
                let callee = self.pick(&["UsrChild", "UsrChild", "UsrFuzz"])?;
                self.line(4, &format!("call E{i} {callee} {{"));
                let e = self.expr(1)?;
                self.line(8, &format!("I = {e}"));
                if self.u.arbitrary()? {
                    self.line(8, "R -> T");
                }
                let (t, e) = (self.target(n)?, self.on_error(n)?);
                self.line(4, &format!("}} -> {t}{e}"));
            }
        }
        Ok(())
    }

    fn program(&mut self) -> R<()> {
        let n = self.u.int_in_range(1..=MAX_ELEMENTS)?;
        for name in ["UsrFuzz", "UsrChild"] {
            let _ = writeln!(self.out, "process {name} {{");
            self.line(4, "in    I: Integer = 1");
            self.line(4, "inout D: Decimal = 2.5");
            self.line(4, "in    T: Text = \"t\"");
            self.line(4, "var   L: List<Integer> = [1, 2, 3]");
            self.line(4, "inout O: { Name: Text, N: Integer } = { Name: \"o\", N: 1 }");
            self.line(4, "var   B: Boolean = false");
            self.line(4, "var   W: DateTime = datetime(\"2026-11-28T12:00:00Z\")");
            self.line(4, "out   R: Text");
            self.line(4, "start Begin -> E0");
            let n = if name == "UsrChild" { 1 } else { n };
            for i in 0..n {
                self.element(i, n)?;
            }
            self.line(4, "end Done");
            self.line(4, "terminate Stop");
            self.out.push_str("}\n");
        }
        Ok(())
    }
}

/// Loads the program, runs `UsrFuzz` (with the inputs, or without when they
/// are refused) and executes what waits, a few rounds, with the field values.
fn exercise(source: &str, params: &[(&str, &str)], fields: &[&str]) {
    let loaded = Engine::from_source("fuzz.proc", source);
    // PROCDSL_FUZZ_DEBUG=1 shows each program and whether it loaded, to
    // judge how much of what the generator makes gets past the checker.
    if std::env::var_os("PROCDSL_FUZZ_DEBUG").is_some() {
        let verdict = loaded.as_ref().map(|_| "loaded".to_string()).unwrap_or_else(|e| e.to_string());
        eprintln!("{source}=> {verdict}");
    }
    let Ok(engine) = loaded else {
        return;
    };
    let engine = engine.with_options(RunOptions { max_steps: MAX_STEPS, ..RunOptions::default() });
    let mut instance = match engine.start("UsrFuzz", params.iter().copied()) {
        Ok(i) => i,
        Err(_) => match engine.start::<&str, &str>("UsrFuzz", []) {
            Ok(i) => i,
            Err(_) => return,
        },
    };
    engine.run(&mut instance);
    let _ = serde_json::to_string(&instance.descriptor(None));
    for round in 0..4 {
        let descriptor = instance.descriptor(None);
        let Some(w) = descriptor.waiting.get(round % descriptor.waiting.len().max(1)) else {
            break;
        };
        let given: Vec<(String, String)> =
            w.fields.keys().zip(fields.iter().cycle()).map(|(k, v)| (k.clone(), v.to_string())).collect();
        let _ = engine.exec(&mut instance, w.uid, &given);
        let _ = engine.exec::<&str, &str>(&mut instance, w.uid, &[]);
        let _ = serde_json::to_string(&instance.descriptor(None));
    }
}
