//! Parameter and field values as the commands take them: `-p CODE=VALUE`,
//! `-p CODE=@FILE` (the value is that file's text, `@-` standard input) and
//! `--params FILE.json` (a JSON object of several values). Files lift the
//! operating system's limit of 128 KiB per argument, so a list of a
//! thousand order lines can be passed as it is.

use std::io::Read;
use std::path::{Path, PathBuf};

/// `-p` and `--params`, for every command that takes values.
#[derive(clap::Args, Debug, Default)]
pub struct InputArgs {
    /// A value, as a string converted to its type: CODE=VALUE; CODE=@FILE reads it from
    /// FILE (@- from standard input); CODE=@@TEXT stands for the text @TEXT.
    #[arg(short = 'p', long = "param", value_name = "CODE=VALUE", value_parser = super::parse_pair)]
    pub params: Vec<(String, String)>,
    /// Several values at once, as a JSON object {"Code": value, …} (- reads standard input).
    /// A null leaves the value out; -p given too wins.
    #[arg(long = "params", value_name = "FILE.json")]
    pub files: Vec<PathBuf>,
}

impl InputArgs {
    /// Every value as CODE=VALUE text, `--params` files first, then `-p`
    /// in order, so that a later value of the same Code wins.
    pub fn read(&self) -> Result<Vec<(String, String)>, String> {
        read(&self.params, &self.files)
    }
}

/// [`InputArgs::read`], for a command that names its own flags (`exec` takes fields).
pub fn read(params: &[(String, String)], files: &[PathBuf]) -> Result<Vec<(String, String)>, String> {
    let mut stdin = Stdin::default();
    let mut out = Vec::new();
    for file in files {
        out.extend(object_pairs(file, &mut stdin)?);
    }
    for (code, value) in params {
        let value = match value.strip_prefix('@') {
            Some(rest) if rest.starts_with('@') => rest.to_string(),
            Some(path) => {
                let what = format!("-p {code}=@{path}");
                if path.is_empty() {
                    return Err(format!("`{what}` names no file; write -p {code}=@FILE, or @- for standard input"));
                }
                read_text(Path::new(path), &what, &mut stdin)?
            }
            None => value.clone(),
        };
        out.push((code.clone(), value));
    }
    Ok(out)
}

/// Standard input can be read once; a second `@-` would silently get nothing.
#[derive(Default)]
struct Stdin {
    taken_by: Option<String>,
}

/// A file's text (or standard input's, for `-`), without a leading byte-order mark.
fn read_text(path: &Path, what: &str, stdin: &mut Stdin) -> Result<String, String> {
    let bytes = if path == Path::new("-") {
        if let Some(first) = &stdin.taken_by {
            return Err(format!("`{what}` reads standard input, which `{first}` already read; give a file instead"));
        }
        stdin.taken_by = Some(what.to_string());
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("`{what}`: cannot read standard input: {e}"))?;
        bytes
    } else {
        std::fs::read(path).map_err(|e| format!("`{what}`: cannot read `{}`: {}", path.display(), io_reason(&e)))?
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        format!("`{what}`: `{}` is not UTF-8 text (byte {} is invalid)", path.display(), e.utf8_error().valid_up_to())
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// A `--params` file's pairs, as the service reads a JSON body: a text as
/// it is, other values as JSON text, null left out.
fn object_pairs(path: &Path, stdin: &mut Stdin) -> Result<Vec<(String, String)>, String> {
    let what = format!("--params {}", path.display());
    let text = read_text(path, &what, stdin)?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!("`{what}`: not valid JSON at line {}, column {}: {}", e.line(), e.column(), json_reason(&e))
    })?;
    let serde_json::Value::Object(map) = json else {
        return Err(format!(
            "`{what}`: expected a JSON object such as {{\"Amount\": 250}}, found {}",
            json_kind(&json)
        ));
    };
    Ok(map
        .into_iter()
        .filter_map(|(code, value)| match value {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some((code, s)),
            other => Some((code, other.to_string())),
        })
        .collect())
}

/// serde_json's message without its own " at line L column C" (said once, before).
fn json_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(params: &[(&str, &str)], files: &[&Path]) -> InputArgs {
        InputArgs {
            params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            files: files.iter().map(|f| f.to_path_buf()).collect(),
        }
    }

    #[test]
    fn files_come_first_and_a_later_value_wins() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("p.json");
        std::fs::write(&json, "\u{feff}{\"A\": 1, \"B\": \"x\", \"C\": null, \"L\": [1, 2]}").unwrap();
        let lines = dir.path().join("lines.json");
        std::fs::write(&lines, "[3]").unwrap();
        let lines_arg = format!("@{}", lines.display());
        let got = args(&[("A", "2"), ("L", &lines_arg), ("T", "@@home")], &[&json]).read().unwrap();
        let want = [("A", "1"), ("B", "x"), ("L", "[1,2]"), ("A", "2"), ("L", "[3]"), ("T", "@home")];
        let want: Vec<(String, String)> = want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn bad_files_say_which_and_why() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.json");
        let e = args(&[("L", &format!("@{}", missing.display()))], &[]).read().unwrap_err();
        assert!(e.contains("-p L=@") && e.contains("no such file"), "{e}");
        let array = dir.path().join("array.json");
        std::fs::write(&array, "[1]").unwrap();
        let e = args(&[], &[&array]).read().unwrap_err();
        assert!(e.contains("expected a JSON object") && e.contains("found an array"), "{e}");
        let broken = dir.path().join("broken.json");
        std::fs::write(&broken, "{\n  \"A\": 1,\n  oops\n}").unwrap();
        let e = args(&[], &[&broken]).read().unwrap_err();
        assert!(e.contains("line 3, column 3"), "{e}");
        let e = args(&[("L", "@")], &[]).read().unwrap_err();
        assert!(e.contains("names no file"), "{e}");
    }
}
