//! The grammar the parser derives from, `grammar/generated.pest`, is written
//! by this file from the readable source, `grammar/procdsl.pest`: the same
//! rules with pest's implicit whitespace written out.
//!
//! pest runs WHITESPACE and COMMENT between any two tokens of a non-atomic
//! rule through a chain of combinators on every `~` and every repetition;
//! written out as one silent rule `ws` at exactly those places (and every
//! rule made compound-atomic so pest adds nothing more) the language, the
//! pairs and their spans are the same, and the parse costs less
//! (docs/BENCHMARKS.md, "Parsing at keystroke speed").
//!
//! `cargo test --test grammar` fails when the committed file is not what the
//! source gives; `PROCDSL_BLESS_GRAMMAR=1 cargo test --test grammar` rewrites it.

use pest_meta::ast::{Expr, Rule, RuleType};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;

const BLESS_VAR: &str = "PROCDSL_BLESS_GRAMMAR";
/// The rule standing for pest's implicit skip.
const WS: &str = "ws";

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
    assert!(!by_name.contains_key(WS), "the source may not name a rule `{WS}`: the generated grammar does");
    assert_no_skip_under_atomic(&rules, &by_name);

    let mut out = String::from(
        "// GENERATED from grammar/procdsl.pest by tests/grammar.rs; do not edit.\n\
         // `PROCDSL_BLESS_GRAMMAR=1 cargo test --test grammar` rewrites it.\n\
         //\n\
         // The same rules with pest's implicit WHITESPACE and COMMENT written out as\n\
         // `ws` where pest would run them: between the parts of a sequence and\n\
         // between the rounds of a repetition, in every rule that is not atomic.\n\
         // Every such rule is compound-atomic here, so pest adds nothing itself.\n\n",
    );
    let ws_body = match (whitespace, comment) {
        (Some(w), Some(c)) => Expr::Rep(Box::new(Expr::Choice(Box::new(ranges(w)), Box::new(ranges(c))))),
        (Some(only), None) | (None, Some(only)) => Expr::Rep(Box::new(ranges(only))),
        (None, None) => panic!("the source defines neither WHITESPACE nor COMMENT: nothing to write out"),
    };
    let _ = writeln!(out, "{WS} = _{{ {} }}\n", show(&ws_body, 0));
    for rule in &rules {
        if rule.name == "WHITESPACE" || rule.name == "COMMENT" {
            continue;
        }
        let (modifier, expr) = match rule.ty {
            RuleType::Atomic => ("@", rule.expr.clone()),
            RuleType::CompoundAtomic => ("$", rule.expr.clone()),
            RuleType::Silent => ("_", explicit(&rule.expr)),
            RuleType::Normal | RuleType::NonAtomic => ("$", explicit(&rule.expr)),
            #[allow(unreachable_patterns)]
            _ => panic!("rule {}: a rule type the generator does not know", rule.name),
        };
        let _ = writeln!(out, "{} = {modifier}{{ {} }}", rule.name, show(&expr, 0));
    }
    out
}

/// `expr` as pest runs it in a non-atomic rule, with the skip written out.
fn explicit(expr: &Expr) -> Expr {
    let ws = || Box::new(Expr::Ident(WS.to_string()));
    let then_ws = |e: Expr| Box::new(Expr::Seq(ws(), Box::new(e)));
    match expr {
        // One character as a range: pest matches a string with a `memcmp`
        // call, a range by looking at one char.
        Expr::Str(s) if s.chars().count() == 1 => Expr::Range(s.clone(), s.clone()),
        Expr::Str(_) | Expr::Insens(_) | Expr::Range(..) | Expr::Ident(_) => expr.clone(),
        Expr::PosPred(e) => Expr::PosPred(Box::new(explicit(e))),
        Expr::NegPred(e) => Expr::NegPred(Box::new(explicit(e))),
        Expr::Seq(a, b) => Expr::Seq(Box::new(explicit(a)), then_ws(explicit(b))),
        Expr::Choice(a, b) => Expr::Choice(Box::new(explicit(a)), Box::new(explicit(b))),
        Expr::Opt(e) => Expr::Opt(Box::new(explicit(e))),
        // pest: `e*` is `(e ~ (skip ~ e)*)?`, `e+` is `e ~ (skip ~ e)*`.
        Expr::Rep(e) => {
            let e = explicit(e);
            Expr::Opt(Box::new(Expr::Seq(Box::new(e.clone()), Box::new(Expr::Rep(then_ws(e))))))
        }
        Expr::RepOnce(e) => {
            let e = explicit(e);
            Expr::Seq(Box::new(e.clone()), Box::new(Expr::Rep(then_ws(e))))
        }
        other => panic!("the generator does not write out the skip in `{other}`"),
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
                assert!(
                    explicit(&rule.expr) == rule.expr,
                    "rule {name} skips whitespace but is reached from an atomic rule"
                );
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
