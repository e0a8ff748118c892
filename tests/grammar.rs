//! The grammar the parser derives from, `grammar/generated.pest`, is written
//! by this file from the readable source, `grammar/procdsl.pest`: the same
//! rules with pest's implicit whitespace written out.
//!
//! pest runs WHITESPACE and COMMENT between any two tokens of a non-atomic
//! rule through a chain of combinators on every `~` and every repetition;
//! written out as `WHITESPACE*` (one rule for a blank or a comment) at
//! exactly those places, and every rule made compound-atomic so that pest
//! adds nothing more, the language, the pairs and their spans are the same,
//! and the parse costs less (docs/BENCHMARKS.md, "Parsing at keystroke speed").
//!
//! `cargo test --test grammar` fails when the committed file is not what the
//! source gives; `PROCDSL_BLESS_GRAMMAR=1 cargo test --test grammar` rewrites it.

use pest_meta::ast::{Expr, Rule, RuleType};
use pest_meta::optimizer::OptimizedExpr;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;

const BLESS_VAR: &str = "PROCDSL_BLESS_GRAMMAR";
/// One blank or one comment. pest writes the body of a rule with this name
/// as atomic code (no sequence around each choice, which costs a stack
/// snapshot), and it can never match nothing, so pest's own skip, were it
/// ever to run, would do what the source says.
const WS: &str = "WHITESPACE";

#[test]
fn generated_grammar_is_the_source_with_whitespace_written_out() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("grammar");
    let source = std::fs::read_to_string(dir.join("procdsl.pest")).expect("grammar/procdsl.pest");
    let generated = generate(&source);
    let path = dir.join("generated.pest");
    if std::env::var_os(BLESS_VAR).is_some() {
        std::fs::write(&path, &generated).expect("write grammar/generated.pest");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "grammar/generated.pest is not what grammar/procdsl.pest gives: rerun with {BLESS_VAR}=1 to rewrite it"
    );
}

/// The generated grammar, from the text of the readable one.
fn generate(source: &str) -> String {
    let pairs = pest_meta::parser::parse(pest_meta::parser::Rule::grammar_rules, source)
        .unwrap_or_else(|e| panic!("grammar/procdsl.pest does not parse: {e}"));
    let rules = pest_meta::parser::consume_rules(pairs)
        .unwrap_or_else(|e| panic!("grammar/procdsl.pest is not a valid grammar: {e:?}"));
    let by_name: HashMap<&str, &Rule> = rules.iter().map(|r| (r.name.as_str(), r)).collect();
    let skip = |name: &str| by_name.get(name).map(|r| &r.expr);
    let (whitespace, comment) = (skip("WHITESPACE"), skip("COMMENT"));
    assert_no_skip_under_atomic(&rules, &by_name);

    let mut out = String::from(
        "// GENERATED from grammar/procdsl.pest by tests/grammar.rs; do not edit.\n\
         // `PROCDSL_BLESS_GRAMMAR=1 cargo test --test grammar` rewrites it.\n\
         //\n\
         // The same rules with pest's implicit WHITESPACE and COMMENT written out as\n\
         // `WHITESPACE*` (one blank or comment, any number of times) where pest\n\
         // would run them: between the parts of a sequence and between the rounds\n\
         // of a repetition, in every rule that is not atomic. Every such rule is\n\
         // compound-atomic here, so pest adds nothing itself.\n\n",
    );
    let ws_body = match (whitespace, comment) {
        (Some(w), Some(c)) => Expr::Choice(Box::new(ranges(w)), Box::new(ranges(c))),
        (Some(only), None) | (None, Some(only)) => ranges(only),
        (None, None) => panic!("the source defines neither WHITESPACE nor COMMENT: nothing to write out"),
    };
    let _ = writeln!(out, "{WS} = _{{ {} }}\n", show(&ws_body, 0));
    // pest derives its parser from the optimized rules, and one optimization
    // (`(a ~ b)* ~ a` → `a ~ (b ~ a)*`) moves where the skip runs: the skip
    // is written out where pest runs it in the optimized rules.
    let optimized = pest_meta::optimizer::optimize(rules.clone());
    for (rule, optimized) in rules.iter().zip(&optimized) {
        assert_eq!(rule.name, optimized.name, "the optimizer keeps the rules in order");
        if rule.name == "WHITESPACE" || rule.name == "COMMENT" {
            continue;
        }
        let (modifier, expr) = match rule.ty {
            RuleType::Atomic => ("@", rule.expr.clone()),
            RuleType::CompoundAtomic => ("$", rule.expr.clone()),
            RuleType::Silent => ("_", explicit(&optimized.expr)),
            RuleType::Normal | RuleType::NonAtomic => ("$", explicit(&optimized.expr)),
            #[allow(unreachable_patterns)]
            _ => panic!("rule {}: a rule type the generator does not know", rule.name),
        };
        let _ = writeln!(out, "{} = {modifier}{{ {} }}", rule.name, show(&expr, 0));
    }
    out
}

/// `expr` as pest runs it in a non-atomic rule, with the skip written out.
fn explicit(expr: &OptimizedExpr) -> Expr {
    let ws = || Box::new(Expr::Rep(Box::new(Expr::Ident(WS.to_string()))));
    let then_ws = |e: Expr| Box::new(Expr::Seq(ws(), Box::new(e)));
    match expr {
        // One character as a range: pest matches a string with a `memcmp`
        // call, a range by looking at one char.
        OptimizedExpr::Str(s) if s.chars().count() == 1 => Expr::Range(s.clone(), s.clone()),
        OptimizedExpr::Str(s) => Expr::Str(s.clone()),
        OptimizedExpr::Insens(s) => Expr::Insens(s.clone()),
        OptimizedExpr::Range(a, b) => Expr::Range(a.clone(), b.clone()),
        OptimizedExpr::Ident(name) => Expr::Ident(name.clone()),
        OptimizedExpr::PosPred(e) => Expr::PosPred(Box::new(explicit(e))),
        OptimizedExpr::NegPred(e) => Expr::NegPred(Box::new(explicit(e))),
        OptimizedExpr::Seq(a, b) => Expr::Seq(Box::new(explicit(a)), then_ws(explicit(b))),
        OptimizedExpr::Choice(a, b) => Expr::Choice(Box::new(explicit(a)), Box::new(explicit(b))),
        OptimizedExpr::Opt(e) => Expr::Opt(Box::new(explicit(e))),
        // pest: `e*` is `(e ~ (skip ~ e)*)?`.
        OptimizedExpr::Rep(e) => {
            let e = explicit(e);
            Expr::Opt(Box::new(Expr::Seq(Box::new(e.clone()), Box::new(Expr::Rep(then_ws(e))))))
        }
        other => panic!("the generator does not write out the skip in `{other:?}`"),
    }
}

/// Whether pest would run the skip somewhere in `expr` (a non-atomic rule's).
fn skips(expr: &Expr) -> bool {
    match expr {
        Expr::Seq(..) | Expr::Rep(_) | Expr::RepOnce(_) => true,
        Expr::PosPred(e) | Expr::NegPred(e) | Expr::Opt(e) => skips(e),
        Expr::Choice(a, b) => skips(a) || skips(b),
        _ => false,
    }
}

/// `expr` (atomic: no skip inside) with its one-character strings as ranges.
fn ranges(expr: &Expr) -> Expr {
    expr.clone().map_top_down(|e| match e {
        Expr::Str(s) if s.chars().count() == 1 => Expr::Range(s.clone(), s),
        e => e,
    })
}

/// A non-atomic rule reached from an atomic one runs without skipping, so
/// writing the skip out in it would change the language: refuse such a source.
fn assert_no_skip_under_atomic(rules: &[Rule], by_name: &HashMap<&str, &Rule>) {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = rules
        .iter()
        .filter(|r| matches!(r.ty, RuleType::Atomic | RuleType::CompoundAtomic))
        .flat_map(|r| idents(&r.expr))
        .collect();
    while let Some(name) = todo.pop() {
        let Some(rule) = by_name.get(name) else { continue };
        if !seen.insert(name) {
            continue;
        }
        match rule.ty {
            // Atomic rules reach only what they reach anyway; `!` restores the skip.
            RuleType::Atomic | RuleType::CompoundAtomic | RuleType::NonAtomic => {}
            _ => {
                assert!(!skips(&rule.expr), "rule {name} skips whitespace but is reached from an atomic rule");
                todo.extend(idents(&rule.expr));
            }
        }
    }
}

fn idents(expr: &Expr) -> Vec<&str> {
    match expr {
        Expr::Ident(name) => vec![name.as_str()],
        Expr::PosPred(e) | Expr::NegPred(e) | Expr::Opt(e) | Expr::Rep(e) | Expr::RepOnce(e) => idents(e),
        Expr::Seq(a, b) | Expr::Choice(a, b) => [idents(a), idents(b)].concat(),
        _ => Vec::new(),
    }
}

/// pest syntax for `expr`, with parentheses only where precedence needs them:
/// 0 choice, 1 sequence, 2 prefix, 3 postfix, 4 a single term.
fn show(expr: &Expr, min: u8) -> String {
    let (level, text) = match expr {
        Expr::Str(s) => (4, quoted(s, '"')),
        Expr::Insens(s) => (4, format!("^{}", quoted(s, '"'))),
        Expr::Range(a, b) => (4, format!("{}..{}", quoted(a, '\''), quoted(b, '\''))),
        Expr::Ident(name) => (4, name.clone()),
        Expr::PosPred(e) => (2, format!("&{}", show(e, 3))),
        Expr::NegPred(e) => (2, format!("!{}", show(e, 3))),
        // Both are associative: a nested one needs no parentheses.
        Expr::Seq(a, b) => (1, format!("{} ~ {}", show(a, 1), show(b, 1))),
        Expr::Choice(a, b) => (0, format!("{} | {}", show(a, 0), show(b, 0))),
        Expr::Opt(e) => (3, format!("{}?", show(e, 4))),
        Expr::Rep(e) => (3, format!("{}*", show(e, 4))),
        Expr::RepOnce(e) => (3, format!("{}+", show(e, 4))),
        other => panic!("the generator does not print `{other}`"),
    };
    if level < min {
        format!("({text})")
    } else {
        text
    }
}

fn quoted(s: &str, quote: char) -> String {
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '"' | '\'' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

// ---------------------------------------------------------------------------
// The generated grammar parses as the readable one: the same pairs with the
// same spans, and the same errors at the same places.
// ---------------------------------------------------------------------------

mod readable {
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar/procdsl.pest"]
    pub struct Grammar;
}

mod generated {
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar/generated.pest"]
    pub struct Grammar;
}

/// Every pair (rule, start, end) in order, or the error's place and the
/// rules it expected and refused.
fn outcome<R: pest::RuleType, P: pest::Parser<R>>(rule: R, text: &str) -> Result<Vec<(String, usize, usize)>, String> {
    match P::parse(rule, text) {
        Ok(pairs) => Ok(pairs
            .flatten()
            .map(|p| (format!("{:?}", p.as_rule()), p.as_span().start(), p.as_span().end()))
            .collect()),
        Err(e) => Err(format!("{:?} {:?}", e.location, e.variant)),
    }
}

fn same_outcome(text: &str, what: &str, as_snippet: bool) {
    let old = outcome::<_, readable::Grammar>(readable::Rule::file, text);
    let new = outcome::<_, generated::Grammar>(generated::Rule::file, text);
    assert!(old == new, "{what}: the generated grammar parses differently\nreadable:  {old:?}\ngenerated: {new:?}");
    if !as_snippet {
        return;
    }
    let old = outcome::<_, readable::Grammar>(readable::Rule::snippet, text);
    let new = outcome::<_, generated::Grammar>(generated::Rule::snippet, text);
    assert!(old == new, "{what} (as a snippet): the generated grammar parses differently");
}

fn proc_files(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            proc_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "proc") {
            out.push(path);
        }
    }
}

/// Over the examples, the golden cases and the workloads, whole (as a file
/// and as REPL input) and cut short at 20 places (to reach the errors), and
/// the fuzz corpus of the parser. Both parsers run only on text the project's own nesting limit
/// lets through to pest; a big stack keeps the debug build safe anyway.
#[test]
fn generated_grammar_parses_as_the_readable_one() {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            let mut files = Vec::new();
            for dir in ["examples", "tests/cases", "benches/workloads"] {
                proc_files(&root.join(dir), &mut files);
            }
            assert!(files.len() > 50, "the .proc files were found");
            for path in &files {
                let text = std::fs::read_to_string(path).expect("a .proc file");
                same_outcome(&text, &path.display().to_string(), true);
                let step = (text.len() / 20).max(1);
                for cut in (0..text.len()).step_by(step).filter(|&i| text.is_char_boundary(i)) {
                    same_outcome(&text[..cut], &format!("{} cut at {cut}", path.display()), false);
                }
            }
            let corpus = root.join("fuzz/corpus/parse_check");
            for entry in std::fs::read_dir(&corpus).into_iter().flatten().flatten() {
                let text = String::from_utf8_lossy(&std::fs::read(entry.path()).expect("a corpus file")).into_owned();
                if procdsl::syntax::parse(procdsl::source::FileId(0), &text)
                    .is_err_and(|d| d.to_string().contains("too deeply nested"))
                {
                    continue;
                }
                same_outcome(&text, &entry.path().display().to_string(), false);
            }
        })
        .expect("a thread")
        .join()
        .expect("the same outcomes");
}
