//! Reading what was typed: command arguments split into words, and whether
//! an input is complete or continues on the next line.

/// Splits arguments at spaces. Double quotes keep spaces inside one word
/// and are removed: `Comment="looks good"` is one word, `Comment=looks good`.
/// Inside quotes, `\"` and `\\` stand for `"` and `\`.
pub fn words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            '\\' if quoted => match chars.next() {
                Some(next @ ('"' | '\\')) => word.push(next),
                Some(next) => {
                    word.push('\\');
                    word.push(next);
                }
                None => word.push('\\'),
            },
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err("a quote `\"` is not closed".to_string());
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// `Code=Value` words as pairs. As `procdsl run -p` reads them, a value
/// `@FILE` is that file's whole text (a big list need not be typed) and
/// `@@TEXT` stands for `@TEXT`.
pub fn pairs(words: &[String], what: &str) -> Result<Vec<(String, String)>, String> {
    words
        .iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), value(w, v)?)),
            _ => Err(format!("expected {what}=VALUE, got `{w}`")),
        })
        .collect()
}

/// A value as typed, or the text of the file it names.
fn value(word: &str, typed: &str) -> Result<String, String> {
    let Some(path) = typed.strip_prefix('@') else {
        return Ok(typed.to_string());
    };
    if path.starts_with('@') {
        return Ok(path.to_string());
    }
    match path {
        "" => Err(format!("`{word}` names no file; write @FILE")),
        "-" => Err(format!("`{word}`: standard input is the session's own input; give a file")),
        _ => {
            let bytes = std::fs::read(path).map_err(|e| {
                let why =
                    if e.kind() == std::io::ErrorKind::NotFound { "no such file".to_string() } else { e.to_string() };
                format!("`{word}`: cannot read `{path}`: {why}")
            })?;
            let text = String::from_utf8(bytes).map_err(|_| format!("`{word}`: `{path}` is not UTF-8 text"))?;
            Ok(match text.strip_prefix('\u{feff}') {
                Some(rest) => rest.to_string(),
                None => text,
            })
        }
    }
}

/// Whether the input opens more brackets than it closes, so it continues
/// on the next line (`if X > 1 {` …). Brackets inside texts and comments
/// do not count.
pub fn is_incomplete(text: &str) -> bool {
    let mut depth: i64 = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                // A text ends at its closing quote or at the end of the line.
                while let Some(t) = chars.next() {
                    match t {
                        '\\' => {
                            chars.next();
                        }
                        '"' | '\n' => break,
                        _ => {}
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for t in chars.by_ref() {
                    if t == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut star = false;
                let mut closed = false;
                for t in chars.by_ref() {
                    if star && t == '/' {
                        closed = true;
                        break;
                    }
                    star = t == '*';
                }
                if !closed {
                    return true;
                }
            }
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            _ => {}
        }
    }
    depth > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_quoted_spaces() {
        assert_eq!(
            words(r#"exec Approve Comment="looks good" Decision=true"#).unwrap(),
            ["exec", "Approve", "Comment=looks good", "Decision=true"]
        );
        assert_eq!(words(r#"a="say \"hi\"""#).unwrap(), [r#"a=say "hi""#]);
        assert_eq!(words(r#"x="""#).unwrap(), ["x="]);
        assert!(words(r#"x="open"#).is_err());
    }

    #[test]
    fn a_value_may_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lines.json");
        std::fs::write(&file, "\u{feff}[1, 2]").unwrap();
        let words = [format!("Lines=@{}", file.display()), "Tag=@@home".to_string(), "N=1".to_string()];
        let got = pairs(&words, "CODE").unwrap();
        assert_eq!(got[0].1, "[1, 2]");
        assert_eq!(got[1].1, "@home");
        assert_eq!(got[2].1, "1");
        let missing = [format!("Lines=@{}", dir.path().join("nope").display())];
        assert!(pairs(&missing, "CODE").unwrap_err().contains("no such file"));
        assert!(pairs(&["Lines=@-".to_string()], "CODE").unwrap_err().contains("standard input"));
    }

    #[test]
    fn an_open_brace_continues_the_input() {
        assert!(is_incomplete("if X > 1 {"));
        assert!(is_incomplete("let l = [1,\n2"));
        assert!(!is_incomplete("if X > 1 { Y = 2 }"));
        assert!(!is_incomplete(r#"log "a { b""#));
        assert!(!is_incomplete("X = 1 // {"));
        assert!(!is_incomplete("}"));
    }
}
