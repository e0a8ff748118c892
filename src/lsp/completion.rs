//! Completion: element names after `->`, process Codes after `call` (and a
//! test's `start` and `mock`), parameters, locals and a user task's fields
//! in scripts, standard functions with their signatures, types after `:`,
//! and keywords.
//!
//! A document being typed seldom parses, so the context is read from the
//! text before the cursor, and the names from the last analysis in which
//! the document parsed.

use super::{functions, Context};
use crate::syntax::ast;
use lsp_types::{CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse};

/// Item keywords of a process body.
const PROCESS_ITEMS: &[&str] = &[
    "caption",
    "uid",
    "in",
    "out",
    "inout",
    "var",
    "start",
    "end",
    "terminate",
    "script",
    "exclusive",
    "inclusive",
    "parallel",
    "user",
    "timer",
    "signal",
    "call",
];
/// Keywords of scripts and expressions.
const SCRIPT_WORDS: &[&str] = &[
    "let", "if", "then", "else", "while", "for", "in", "break", "continue", "return", "fail", "log", "emit", "true",
    "false", "null", "and", "or", "not",
];
/// Words that start a test step.
const STEP_WORDS: &[&str] = &["now", "start", "exec", "signal", "advance", "mock", "expect"];
const TOP_LEVEL: &[&str] = &["process", "test", "import"];
const ELEMENT_KINDS: &[&str] =
    &["start", "end", "terminate", "script", "exclusive", "inclusive", "parallel", "user", "timer", "signal", "call"];

/// `textDocument/completion`.
pub fn complete(context: &Context, params: CompletionParams) -> Result<Option<CompletionResponse>, String> {
    let position = &params.text_document_position;
    let (doc, _) = context.get(&position.text_document.uri)?;
    let processes: Vec<&ast::Process> =
        context.parsed.get(doc.uri.as_str()).map(|a| a.processes().collect()).unwrap_or_default();
    let offset = doc.lines.offset(&doc.text, position.position);
    let items = items(&doc.text[..offset], &processes);
    Ok(Some(CompletionResponse::Array(items)))
}

/// Where the cursor is: the block it is in and the element it is in.
struct Place<'a> {
    /// `process` or `test`, and the name after it.
    block: Option<(&'a str, &'a str)>,
    /// Brace depth inside that block.
    depth: usize,
    /// The element's keyword and name (in a process), or the last process
    /// started (in a test).
    element: Option<(&'a str, &'a str)>,
    /// The text of the current element (or test) before the cursor, for its locals.
    body: &'a str,
}

fn place(before: &str) -> Place<'_> {
    let mut place = Place { block: None, depth: 0, element: None, body: "" };
    let mut depth = 0usize;
    let mut line_start = 0;
    let mut state = Lex::Code;
    for line in before.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let mut words = trimmed.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty());
        let first = words.next().unwrap_or("");
        if state == Lex::Code {
            if depth == 0 && (first == "process" || first == "test") {
                let name = if first == "test" { "" } else { words.next().unwrap_or("") };
                place = Place { block: Some((first, name)), depth: 0, element: None, body: &before[line_start..] };
            } else if place.block.is_some_and(|(kind, _)| kind == "process")
                && depth == 1
                && ELEMENT_KINDS.contains(&first)
            {
                place.element = words.next().map(|name| (first, name));
                place.body = &before[line_start..];
            } else if place.block.is_some_and(|(kind, _)| kind == "test") && first == "start" {
                place.element = words.next().map(|name| ("start", name));
            }
        }
        depth = scan(line, depth, &mut state);
        place.depth = depth;
        line_start += line.len();
    }
    if depth == 0 {
        place.block = None;
    }
    place
}

#[derive(Clone, Copy, PartialEq)]
enum Lex {
    Code,
    Text,
    BlockComment,
}

/// The brace depth after a line, skipping texts and comments.
fn scan(line: &str, mut depth: usize, state: &mut Lex) -> usize {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match (*state, bytes[i]) {
            (Lex::Code, b'/') if bytes.get(i + 1) == Some(&b'/') => return depth,
            (Lex::Code, b'/') if bytes.get(i + 1) == Some(&b'*') => {
                *state = Lex::BlockComment;
                i += 1;
            }
            (Lex::Code, b'"') => *state = Lex::Text,
            (Lex::Code, b'{') => depth += 1,
            (Lex::Code, b'}') => depth = depth.saturating_sub(1),
            (Lex::Text, b'\\') => i += 1,
            (Lex::Text, b'"') => *state = Lex::Code,
            (Lex::BlockComment, b'*') if bytes.get(i + 1) == Some(&b'/') => {
                *state = Lex::Code;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    depth
}

fn items(before: &str, processes: &[&ast::Process]) -> Vec<CompletionItem> {
    let word_len = before.bytes().rev().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    let head = before[..before.len() - word_len].trim_end_matches([' ', '\t']);
    let line = head.rsplit('\n').next().unwrap_or(head).trim_start();
    let words: Vec<&str> = line.split_whitespace().collect();
    let place = place(before);
    let process = place.block.filter(|(kind, _)| *kind == "process").and_then(|(_, name)| find(processes, name));
    let started = place.element.filter(|(kind, _)| *kind == "start").and_then(|(_, name)| find(processes, name));
    let mut out = Vec::new();
    let in_test = place.block.is_some_and(|(kind, _)| kind == "test");

    if head.ends_with("->") || (head.ends_with(',') && line.contains("->")) {
        if let Some(p) = process {
            elements(&mut out, p);
        }
        return out;
    }
    if words.first() == Some(&"call") && words.len() == 2 || in_test && matches!(words.as_slice(), ["start"] | ["mock"])
    {
        for p in processes {
            let detail = p.captions.first().map(|c| c.value.clone()).unwrap_or_else(|| "process".into());
            out.push(item(&p.name.name, CompletionItemKind::MODULE, Some(detail)));
        }
        return out;
    }
    if in_test && matches!(words.as_slice(), ["exec"] | ["expect", "waiting" | "passed"] | ["expect", "not", "passed"])
    {
        if let Some(p) = started {
            elements(&mut out, p);
        }
        return out;
    }
    if head.ends_with(':') || head.ends_with('<') {
        for t in super::TYPES {
            out.push(item(t, CompletionItemKind::CLASS, None));
        }
        return out;
    }
    if head.ends_with('.') {
        return out;
    }
    match place.block {
        None => keywords(&mut out, TOP_LEVEL),
        Some(("process", _)) if place.depth <= 1 => keywords(&mut out, PROCESS_ITEMS),
        Some(("process", _)) => {
            if let Some(p) = process {
                parameters(&mut out, p);
                if let Some(("user", name)) = place.element {
                    if let Some(e) = p.elements.iter().find(|e| e.name.name == name) {
                        if let ast::ElementKind::User { fields, .. } = &e.kind {
                            for f in fields {
                                out.push(item(
                                    &f.name.name,
                                    CompletionItemKind::FIELD,
                                    Some(format!("field of {name}")),
                                ));
                            }
                        }
                    }
                }
            }
            locals(&mut out, place.body);
            standard_functions(&mut out);
            keywords(&mut out, SCRIPT_WORDS);
        }
        Some(_) => {
            if place.depth <= 1 {
                keywords(&mut out, STEP_WORDS);
            }
            if let Some(p) = started {
                parameters(&mut out, p);
            }
            standard_functions(&mut out);
            keywords(&mut out, SCRIPT_WORDS);
        }
    }
    out
}

fn find<'a>(processes: &[&'a ast::Process], name: &str) -> Option<&'a ast::Process> {
    processes.iter().find(|p| p.name.name == name).copied()
}

fn item(label: &str, kind: CompletionItemKind, detail: Option<String>) -> CompletionItem {
    CompletionItem { label: label.to_string(), kind: Some(kind), detail, ..Default::default() }
}

fn keywords(out: &mut Vec<CompletionItem>, words: &[&str]) {
    out.extend(words.iter().map(|w| item(w, CompletionItemKind::KEYWORD, None)));
}

fn elements(out: &mut Vec<CompletionItem>, p: &ast::Process) {
    for e in &p.elements {
        let detail = match &e.caption {
            Some(c) => format!("{} \"{}\"", e.kind.keyword(), c.value),
            None => e.kind.keyword().to_string(),
        };
        out.push(item(&e.name.name, CompletionItemKind::EVENT, Some(detail)));
    }
}

fn parameters(out: &mut Vec<CompletionItem>, p: &ast::Process) {
    for q in &p.params {
        out.push(item(
            &q.name.name,
            CompletionItemKind::VARIABLE,
            Some(format!("{} parameter", q.direction.keyword())),
        ));
    }
}

/// The names a script declared before the cursor: `let x`, `for x in`, `for each x in`.
fn locals(out: &mut Vec<CompletionItem>, body: &str) {
    let words: Vec<&str> =
        body.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
    let mut seen = Vec::new();
    for pair in words.windows(3) {
        let name = match pair {
            ["let", name, _] => *name,
            ["for", "each", name] => *name,
            ["for", name, "in"] => *name,
            _ => continue,
        };
        if !seen.contains(&name) && !SCRIPT_WORDS.contains(&name) {
            seen.push(name);
            out.push(item(name, CompletionItemKind::VARIABLE, Some("local".into())));
        }
    }
}

fn standard_functions(out: &mut Vec<CompletionItem>) {
    for (name, signature, documentation) in functions::FUNCTIONS {
        out.push(CompletionItem {
            documentation: Some(lsp_types::Documentation::String(documentation.to_string())),
            ..item(name, CompletionItemKind::FUNCTION, Some(signature.to_string()))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(before: &str) -> Vec<String> {
        let file = crate::syntax::parse(
            crate::source::FileId(0),
            "process P { in A: Integer\n start S -> T\n user T { in F: Text } -> E\n end E }\nprocess Q { start S -> E\n end E }",
        )
        .unwrap();
        items(before, &file.processes.iter().collect::<Vec<_>>()).into_iter().map(|i| i.label).collect()
    }

    #[test]
    fn completes_by_context() {
        assert_eq!(labels("process P {\n start S -> "), ["S", "T", "E"]);
        assert_eq!(labels("process P {\n call C "), ["P", "Q"]);
        let in_done = labels("process P {\n user T {\n in F: Text\n done { let y = 1; x = ");
        assert!(
            in_done.iter().any(|l| l == "F") && in_done.iter().any(|l| l == "A") && in_done.iter().any(|l| l == "y")
        );
        assert!(in_done.iter().any(|l| l == "len"));
        assert_eq!(labels("process P {\n in A: "), super::super::TYPES);
        assert!(labels("").contains(&"process".to_string()));
        assert!(labels("process P {\n sta").contains(&"script".to_string()));
        assert_eq!(labels("test \"t\" {\n start P {}\n exec "), ["S", "T", "E"]);
    }
}
