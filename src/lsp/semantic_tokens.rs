//! Semantic tokens (whole document): comments, texts, numbers and keywords
//! from a small lexer, and names by what the analysis says they name —
//! process, element, parameter, local, field or standard function.

use super::analysis::{Analysis, Symbol};
use super::Context;
use crate::source::FileId;
use lsp_types::{
    SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokens, SemanticTokensLegend,
    SemanticTokensParams, SemanticTokensResult,
};

const PROCESS: u32 = 0;
const ELEMENT: u32 = 1;
const PARAMETER: u32 = 2;
const LOCAL: u32 = 3;
const FIELD: u32 = 4;
const FUNCTION: u32 = 5;
const KEYWORD: u32 = 6;
const TEXT: u32 = 7;
const NUMBER: u32 = 8;
const COMMENT: u32 = 9;
const TYPE: u32 = 10;

/// The token types, in the order of the constants above, and the one modifier.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: vec![
            SemanticTokenType::NAMESPACE,
            SemanticTokenType::EVENT,
            SemanticTokenType::PARAMETER,
            SemanticTokenType::VARIABLE,
            SemanticTokenType::PROPERTY,
            SemanticTokenType::FUNCTION,
            SemanticTokenType::KEYWORD,
            SemanticTokenType::STRING,
            SemanticTokenType::NUMBER,
            SemanticTokenType::COMMENT,
            SemanticTokenType::TYPE,
        ],
        token_modifiers: vec![SemanticTokenModifier::DECLARATION],
    }
}

/// Every keyword of the grammar (a name that is a keyword only in some
/// places is shown as a name wherever the analysis resolved it).
const KEYWORDS: &[&str] = &[
    "import",
    "process",
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
    "when",
    "else",
    "done",
    "after",
    "at",
    "on",
    "error",
    "let",
    "if",
    "then",
    "while",
    "for",
    "break",
    "continue",
    "return",
    "fail",
    "log",
    "emit",
    "true",
    "false",
    "null",
    "and",
    "or",
    "not",
    "each",
    "until",
    "to",
    "deadline",
    "every",
    "test",
    "now",
    "exec",
    "advance",
    "mock",
    "expect",
    "status",
    "waiting",
    "passed",
    "waits",
    "contains",
];

/// `textDocument/semanticTokens/full`.
pub fn full(context: &Context, params: SemanticTokensParams) -> Result<Option<SemanticTokensResult>, String> {
    let (doc, analysis) = context.get(&params.text_document.uri)?;
    let bom = if doc.text.starts_with('\u{feff}') { 3 } else { 0 };
    let tokens = lex(&doc.text[bom..], analysis);
    let mut data = Vec::with_capacity(tokens.len());
    let (mut line, mut column) = (0u32, 0u32);
    let mut cursor = (0, lsp_types::Position::default());
    let mut position = |offset: usize| {
        let p = doc.lines.position_after(&doc.text, offset, cursor.0, cursor.1);
        cursor = (offset, p);
        p
    };
    for (start, end, kind, modifiers) in tokens {
        // One token per line: clients need not support tokens over lines.
        let mut from = start;
        while from < end {
            let to = doc.text[bom + from..bom + end].find('\n').map_or(end, |i| from + i);
            let a = position(bom + from);
            let b = position(bom + to);
            if b.character > a.character && a.line == b.line {
                let delta_line = a.line - line;
                let delta_start = if delta_line == 0 { a.character - column } else { a.character };
                data.push(SemanticToken {
                    delta_line,
                    delta_start,
                    length: b.character - a.character,
                    token_type: kind,
                    token_modifiers_bitset: modifiers,
                });
                (line, column) = (a.line, a.character);
            }
            from = to + 1;
        }
    }
    Ok(Some(SemanticTokensResult::Tokens(SemanticTokens { result_id: None, data })))
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Code, and how many braces are open within the interpolation it is part of.
    Code(usize),
    Text,
}

/// `(start, end, type, modifiers)` of every token, in order, by checker offsets.
fn lex(text: &str, analysis: &Analysis) -> Vec<(usize, usize, u32, u32)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut modes = vec![Mode::Code(0)];
    let mut i = 0;
    let mut text_start = 0;
    while i < bytes.len() {
        let mode = *modes.last().unwrap_or(&Mode::Code(0));
        let b = bytes[i];
        match mode {
            Mode::Text => match b {
                b'\\' => i += 2,
                b'"' | b'\n' => {
                    out.push((text_start, i + 1, TEXT, 0));
                    modes.pop();
                    i += 1;
                }
                b'{' => {
                    out.push((text_start, i + 1, TEXT, 0));
                    modes.push(Mode::Code(0));
                    i += 1;
                }
                _ => i += 1,
            },
            Mode::Code(open) => {
                if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
                    let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                    out.push((i, end, COMMENT, 0));
                    i = end;
                } else if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
                    let end = text[i + 2..].find("*/").map_or(text.len(), |n| i + 2 + n + 2);
                    out.push((i, end, COMMENT, 0));
                    i = end;
                } else if b == b'"' {
                    modes.push(Mode::Text);
                    text_start = i;
                    i += 1;
                } else if b == b'{' {
                    if let Some(Mode::Code(n)) = modes.last_mut() {
                        *n += 1;
                    }
                    i += 1;
                } else if b == b'}' {
                    if open == 0 && modes.len() > 1 {
                        modes.pop();
                        text_start = i;
                    } else if let Some(Mode::Code(n)) = modes.last_mut() {
                        *n = n.saturating_sub(1);
                    }
                    i += 1;
                } else if b.is_ascii_digit() {
                    let len = bytes[i..].iter().take_while(|c| c.is_ascii_digit() || **c == b'.').count();
                    out.push((i, i + len, NUMBER, 0));
                    i += len;
                } else if b.is_ascii_alphabetic() || b == b'_' {
                    let len = bytes[i..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
                    let word = &text[i..i + len];
                    let named = analysis.at(FileId(0), i).filter(|o| o.span.start as usize == i);
                    let token = match named {
                        Some(o) => Some((kind(&o.symbol), u32::from(o.declaration))),
                        None if super::TYPES.contains(&word) => Some((TYPE, 0)),
                        None if KEYWORDS.contains(&word) => Some((KEYWORD, 0)),
                        None => None,
                    };
                    if let Some((kind, modifiers)) = token {
                        out.push((i, i + len, kind, modifiers));
                    }
                    i += len;
                } else {
                    // Any other character, whole (a multi-byte one too).
                    i += text[i..].chars().next().map_or(1, char::len_utf8);
                }
            }
        }
    }
    if modes.last() == Some(&Mode::Text) {
        out.push((text_start, text.len(), TEXT, 0));
    }
    out
}

fn kind(symbol: &Symbol) -> u32 {
    match symbol {
        Symbol::Process(_) => PROCESS,
        Symbol::Element { .. } => ELEMENT,
        Symbol::Parameter { .. } => PARAMETER,
        Symbol::Local { .. } => LOCAL,
        Symbol::Field { .. } => FIELD,
        Symbol::Function(_) => FUNCTION,
    }
}

#[cfg(test)]
mod tests {
    use super::KEYWORDS;
    use std::collections::BTreeSet;

    /// The list is written out (the highlighter runs on every keystroke);
    /// this keeps it equal to the words the grammar matches, so that a
    /// keyword added to the grammar is highlighted too.
    #[test]
    fn the_keywords_are_the_grammars_words_but_the_type_names() {
        let grammar = include_str!("../../grammar/procdsl.pest");
        let mut words = BTreeSet::new();
        for line in grammar.lines() {
            let code = line.split("//").next().unwrap_or("");
            for (i, quoted) in code.split('"').enumerate() {
                let word = i % 2 == 1 && quoted.len() > 1 && quoted.bytes().all(|b| b.is_ascii_alphabetic());
                if word && !crate::check::TYPE_NAMES.contains(&quoted) {
                    words.insert(quoted);
                }
            }
        }
        let listed: BTreeSet<&str> = KEYWORDS.iter().copied().collect();
        assert_eq!(listed, words, "src/lsp/semantic_tokens.rs KEYWORDS against grammar/procdsl.pest");
    }
}
