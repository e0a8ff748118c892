//! `procdsl lsp` through the real binary: a small client speaks JSON-RPC
//! over the server's stdin and stdout (Content-Length framing), as an
//! editor does, and checks each answer.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// How long to wait for a message before the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(60);

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Notifications read while waiting for something else.
    notifications: Vec<Value>,
    next_id: i64,
}

impl Client {
    /// Starts the server and completes the handshake.
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_procdsl"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                if sender.send(serde_json::from_slice(&body).expect("a JSON body")).is_err() {
                    return;
                }
            }
        });
        let mut client = Client { child, stdin, messages, notifications: Vec::new(), next_id: 0 };
        let answer = client.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
        assert_eq!(answer["result"]["capabilities"]["textDocumentSync"]["change"], 2, "incremental sync: {answer}");
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn receive(&mut self) -> Value {
        self.messages.recv_timeout(PATIENCE).expect("the server answers")
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns the whole response (`result` or `error`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive();
            if message["id"] == id {
                return message;
            }
            self.notifications.push(message);
        }
    }

    /// The result of a request that must succeed.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let answer = self.request(method, params);
        assert!(answer.get("error").is_none(), "{method} failed: {answer}");
        answer["result"].clone()
    }

    /// The next diagnostics published for a document.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let is_them = |m: &Value| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri;
        if let Some(i) = self.notifications.iter().position(is_them) {
            let m = self.notifications.remove(i);
            return m["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let m = self.receive();
            if is_them(&m) {
                return m["params"]["diagnostics"].as_array().unwrap().clone();
            }
            self.notifications.push(m);
        }
    }

    fn open(&mut self, uri: &str, text: &str) -> Vec<Value> {
        let document = json!({ "uri": uri, "languageId": "procdsl", "version": 1, "text": text });
        self.notify("textDocument/didOpen", json!({ "textDocument": document }));
        self.diagnostics(uri)
    }

    /// Replaces a range (UTF-16 positions) of a document.
    fn edit(&mut self, uri: &str, version: i32, range: Value, text: &str) -> Vec<Value> {
        let change = json!({ "range": range, "text": text });
        let document = json!({ "uri": uri, "version": version });
        self.notify("textDocument/didChange", json!({ "textDocument": document, "contentChanges": [change] }));
        self.diagnostics(uri)
    }

    /// Ends the server as an editor does; returns its exit code.
    fn stop(mut self) -> Option<i32> {
        let answer = self.request("shutdown", Value::Null);
        assert!(answer.get("error").is_none(), "{answer}");
        self.notify("exit", Value::Null);
        self.child.wait().unwrap().code()
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

fn range(a: (u32, u32), b: (u32, u32)) -> Value {
    json!({ "start": { "line": a.0, "character": a.1 }, "end": { "line": b.0, "character": b.1 } })
}

/// Line and UTF-16 column of the first occurrence of `needle` in `text`, plus `skip` characters.
fn find(text: &str, needle: &str) -> (u32, u32) {
    let offset = text.find(needle).unwrap_or_else(|| panic!("`{needle}` is in the text"));
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].encode_utf16().count() as u32)
}

const TYPO: &str = r#"process UsrT {
    in  Amount: Decimal = 0
    out Note: Text
    start Begin -> Calc
    script Calc { Note = "é😀 {Amount}"; let k = len(Note) } -> Dne
    end Done
}
"#;

#[test]
fn diagnostics_follow_incremental_edits_in_utf16_columns() {
    let dir = tempfile::tempdir().unwrap();
    let doc = uri(&dir.path().join("typo.proc"));
    let mut client = Client::start();
    let found = client.open(&doc, TYPO);
    let error = found.iter().find(|d| d["code"] == "procdsl::check::unknown_element").expect("the unknown element");
    // `Dne` follows an emoji: two UTF-16 units, one character.
    let (line, column) = find(TYPO, "Dne");
    assert_eq!(error["range"], range((line, column), (line, column + 3)), "{error}");
    let text = TYPO.lines().nth(line as usize).unwrap();
    let characters = text[..text.find("Dne").unwrap()].chars().count();
    assert_eq!(column as usize, characters + 1, "UTF-16 units, neither bytes nor characters");
    assert_eq!(error["severity"], 1);
    assert!(error["message"].as_str().unwrap().contains("help: did you mean `Done`?"), "{error}");
    let warning = found.iter().find(|d| d["code"] == "procdsl::check::unreachable").expect("the warning");
    assert_eq!(warning["severity"], 2);

    // Fix the typo with an incremental edit: the diagnostics clear.
    let fixed = client.edit(&doc, 2, range((line, column), (line, column + 3)), "Done");
    assert_eq!(fixed, Vec::<Value>::new());

    // A syntax error is reported where it is, and clears when undone.
    let (line, column) = find(TYPO, "-> Calc");
    let broken = client.edit(&doc, 3, range((line, column), (line, column + 2)), "");
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(broken[0]["code"], "procdsl::syntax");
    assert_eq!(broken[0]["range"]["start"]["line"], line);
    let again = client.edit(&doc, 4, range((line, column), (line, column)), "->");
    assert_eq!(again, Vec::<Value>::new());
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn the_did_you_mean_fix_is_a_code_action() {
    let dir = tempfile::tempdir().unwrap();
    let doc = uri(&dir.path().join("typo.proc"));
    let mut client = Client::start();
    let found = client.open(&doc, TYPO);
    let error = found.iter().find(|d| d["code"] == "procdsl::check::unknown_element").unwrap().clone();
    let actions = client.call(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": doc }, "range": error["range"], "context": { "diagnostics": [error] } }),
    );
    let edit = &actions[0]["edit"]["changes"][&doc][0];
    assert_eq!(edit["newText"], "Done");
    assert_eq!(edit["range"], error["range"]);
    assert_eq!(actions[0]["kind"], "quickfix");
    client.stop();
}

#[test]
fn hover_describes_parameters_elements_and_functions() {
    let dir = tempfile::tempdir().unwrap();
    let doc = uri(&dir.path().join("typo.proc"));
    let mut client = Client::start();
    client.open(&doc, TYPO);
    let hover = |client: &mut Client, needle: &str| {
        let (line, column) = find(TYPO, needle);
        client.call("textDocument/hover", at(&doc, line, column + 1))["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let amount = hover(&mut client, "Amount}");
    assert!(amount.contains("in Amount: Decimal = 0"), "{amount}");
    let calc = hover(&mut client, "Calc {");
    assert!(calc.contains("script Calc") && calc.contains("UId `"), "{calc}");
    let len = hover(&mut client, "len(");
    assert!(len.contains("len(x)") && len.contains("number of characters"), "{len}");
    let local = hover(&mut client, "k =");
    assert!(local.contains("let k = len(Note)"), "{local}");
    // Nothing to say about a keyword.
    let (line, column) = find(TYPO, "script");
    assert_eq!(client.call("textDocument/hover", at(&doc, line, column + 1)), Value::Null);
    client.stop();
}

const MAIN: &str = r#"import "lib.proc"

process UsrMain {
    in  Who: Text
    out Greeting: Text
    start Begin -> Ask
    user Ask "Ask for a name" {
        in Name: Text = ""
        done { Greeting = "Hi {Name}" }
    } -> Greet
    call Greet UsrGreet { Whom = Who; Text -> Greeting } -> Done
    end Done
}
"#;

const LIB: &str = r#"process UsrGreet {
    in  Whom: Text
    out Text: Text
    start Begin -> Say
    script Say { Text = "Hello, {Whom}!" } -> Done
    end Done
}
"#;

#[test]
fn definition_references_and_rename_cross_imports() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.proc"), LIB).unwrap();
    let main = uri(&dir.path().join("main.proc"));
    let lib = uri(&dir.path().canonicalize().unwrap().join("lib.proc"));
    let mut client = Client::start();
    assert_eq!(client.open(&main, MAIN), Vec::<Value>::new());

    // An element: from its use after `->` to its declaration.
    let (line, column) = find(MAIN, "Greet\n");
    let target = client.call("textDocument/definition", at(&main, line, column));
    let (decl_line, decl_column) = find(MAIN, "Greet UsrGreet");
    assert_eq!(target, json!({ "uri": main, "range": range((decl_line, decl_column), (decl_line, decl_column + 5)) }));

    // A process in another file, and a callee's parameter.
    let (line, column) = find(MAIN, "UsrGreet {");
    let target = client.call("textDocument/definition", at(&main, line, column + 2));
    assert_eq!(target["uri"], lib.as_str());
    assert_eq!(target["range"]["start"], json!({ "line": 0, "character": 8 }));
    let (line, column) = find(MAIN, "Whom =");
    let target = client.call("textDocument/definition", at(&main, line, column));
    assert_eq!((target["uri"].as_str().unwrap(), &target["range"]["start"]["line"]), (lib.as_str(), &json!(1)));

    // References of a parameter: its declaration, the `done` script and the call's output.
    let (line, column) = find(MAIN, "Greeting: Text");
    let places = client.call(
        "textDocument/references",
        json!({ "textDocument": { "uri": main }, "position": { "line": line, "character": column },
                "context": { "includeDeclaration": true } }),
    );
    assert_eq!(places.as_array().unwrap().len(), 3, "{places}");

    // A field: declared in the user task, used in its `done`.
    let (line, column) = find(MAIN, "Name}");
    let target = client.call("textDocument/definition", at(&main, line, column));
    assert_eq!(target["range"]["start"]["line"], find(MAIN, "Name: Text").0);

    // Rename the callee across both files.
    let (line, column) = find(MAIN, "UsrGreet {");
    let rename = json!({ "textDocument": { "uri": main }, "position": { "line": line, "character": column },
                         "newName": "UsrSayHello" });
    let edit = client.call("textDocument/rename", rename);
    assert_eq!(edit["changes"][&main].as_array().unwrap().len(), 1, "{edit}");
    assert_eq!(edit["changes"][&lib][0]["newText"], "UsrSayHello", "{edit}");

    // A clash, a reserved word and a non-name are refused with a reason.
    let refused = |client: &mut Client, needle: &str, new_name: &str| {
        let (line, column) = find(MAIN, needle);
        let params = json!({ "textDocument": { "uri": main }, "position": { "line": line, "character": column },
                             "newName": new_name });
        let answer = client.request("textDocument/rename", params);
        answer["error"]["message"].as_str().map(str::to_string).unwrap_or_else(|| panic!("refused: {answer}"))
    };
    let clash = refused(&mut client, "Ask \"", "Greet");
    assert!(clash.contains("has an element `Greet` already"), "{clash}");
    let clash = refused(&mut client, "Who: Text", "Greeting");
    assert!(clash.contains("has a parameter `Greeting` already"), "{clash}");
    assert!(refused(&mut client, "Who: Text", "if").contains("reserved word"));
    assert!(refused(&mut client, "Who: Text", "2nd name").contains("is not a name"));
    client.stop();
}

#[test]
fn completion_knows_its_context() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.proc"), LIB).unwrap();
    let main = uri(&dir.path().join("main.proc"));
    let mut client = Client::start();
    client.open(&main, MAIN);
    let labels = |client: &mut Client, line: u32, character: u32| -> Vec<String> {
        let items = client.call("textDocument/completion", at(&main, line, character));
        items.as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap().to_string()).collect()
    };
    // After `->`: the process's elements.
    let (line, column) = find(MAIN, "Greet\n");
    assert_eq!(labels(&mut client, line, column), ["Begin", "Ask", "Greet", "Done"]);
    // After `call Name`: the processes, imported ones too.
    let (line, column) = find(MAIN, "UsrGreet {");
    let mut processes = labels(&mut client, line, column);
    processes.sort();
    assert_eq!(processes, ["UsrGreet", "UsrMain"]);
    // In `done`: fields, parameters, functions.
    let (line, column) = find(MAIN, "Greeting = ");
    let in_done = labels(&mut client, line, column);
    for name in ["Name", "Who", "Greeting", "len", "upper", "if"] {
        assert!(in_done.iter().any(|l| l == name), "{name} in {in_done:?}");
    }
    // A process's items, while the text does not parse.
    let (line, _) = find(MAIN, "    end Done");
    let broken = client.edit(&main, 2, range((line, 0), (line, 0)), "    sc\n");
    assert!(!broken.is_empty());
    let items = labels(&mut client, line, 6);
    assert!(items.iter().any(|l| l == "script") && items.iter().any(|l| l == "user"), "{items:?}");
    // After `->` while broken: the names of the last text that parsed.
    let arrow = client.edit(&main, 3, range((line, 4), (line, 6)), "start X -> ");
    assert!(!arrow.is_empty());
    assert_eq!(labels(&mut client, line, 15), ["Begin", "Ask", "Greet", "Done"]);
    client.stop();
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "proc"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_has_an_outline_tokens_and_a_formatting_answer() {
    let mut client = Client::start();
    for path in examples() {
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = uri(&path);
        let errors: Vec<Value> = client.open(&doc, &text).into_iter().filter(|d| d["severity"] == 1).collect();
        assert_eq!(errors, Vec::<Value>::new(), "{}", path.display());

        let outline = client.call("textDocument/documentSymbol", json!({ "textDocument": { "uri": doc } }));
        let processes = outline.as_array().unwrap();
        assert!(!processes.is_empty(), "{}", path.display());
        let first = &processes[0];
        assert_eq!(first["kind"], 2, "a process is a module: {first}");
        assert!(first["children"].as_array().unwrap().iter().any(|c| c["name"] == "Begin" || c["detail"] == "start"));

        let tokens = client.call("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": doc } }));
        let data = tokens["data"].as_array().unwrap();
        assert!(!data.is_empty() && data.len().is_multiple_of(5), "{}", path.display());
        // Decoded, every token lies on a line of the file and within it.
        let lines: Vec<Vec<u16>> = text.lines().map(|l| l.encode_utf16().collect()).collect();
        let (mut line, mut column) = (0usize, 0usize);
        for t in data.chunks(5) {
            let (dl, ds, len) =
                (t[0].as_u64().unwrap() as usize, t[1].as_u64().unwrap() as usize, t[2].as_u64().unwrap() as usize);
            line += dl;
            column = if dl == 0 { column + ds } else { ds };
            assert!(column + len <= lines[line].len(), "{}: token past line {line}", path.display());
        }

        let edits = client.call(
            "textDocument/formatting",
            json!({ "textDocument": { "uri": doc }, "options": { "tabSize": 4, "insertSpaces": true } }),
        );
        // The examples are kept in `procdsl fmt`'s layout (tests/fmt_cli.rs).
        assert_eq!(edits, json!([]), "{}: already formatted", path.display());
        client.notify("textDocument/didClose", json!({ "textDocument": { "uri": doc } }));
        assert_eq!(client.diagnostics(&doc), Vec::<Value>::new(), "closing clears");
    }
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn formatting_gives_fmts_layout_as_one_edit_and_leaves_a_broken_document_alone() {
    let dir = tempfile::tempdir().unwrap();
    let doc = uri(&dir.path().join("messy.proc"));
    let messy = "process UsrMessy {\n  in   A : Integer = 1 // the input\n start Begin->  Done\n   end Done\n}\n";
    let mut client = Client::start();
    client.open(&doc, messy);
    let options = json!({ "tabSize": 4, "insertSpaces": true });
    let edits = client.call("textDocument/formatting", json!({ "textDocument": { "uri": doc }, "options": options }));
    let expected = procdsl::syntax::format::format("messy.proc", messy).unwrap();
    assert_ne!(expected, messy);
    assert_eq!(edits.as_array().map(Vec::len), Some(1), "{edits}");
    assert_eq!(edits[0]["newText"], json!(expected));
    assert_eq!(edits[0]["range"]["start"], json!({ "line": 0, "character": 0 }));
    assert_eq!(edits[0]["range"]["end"], json!({ "line": 5, "character": 0 }));

    let broken = uri(&dir.path().join("broken.proc"));
    client.open(&broken, "process UsrBroken {\n  start Begin ->\n");
    let edits =
        client.call("textDocument/formatting", json!({ "textDocument": { "uri": broken }, "options": options }));
    assert_eq!(edits, json!([]), "a document that does not parse is left as it is");
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn semantic_tokens_tell_names_apart() {
    let dir = tempfile::tempdir().unwrap();
    let doc = uri(&dir.path().join("typo.proc"));
    let mut client = Client::start();
    client.open(&doc, TYPO);
    let tokens = client.call("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": doc } }));
    let data: Vec<u64> = tokens["data"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    let (mut line, mut column) = (0u64, 0u64);
    let mut found = Vec::new();
    for t in data.chunks(5) {
        line += t[0];
        column = if t[0] == 0 { column + t[1] } else { t[1] };
        found.push((line as u32, column as u32, t[2], t[3]));
    }
    let kind = |needle: &str| {
        let (l, c) = find(TYPO, needle);
        found.iter().find(|t| t.0 == l && t.1 == c).map(|t| t.3).unwrap_or_else(|| panic!("a token at {needle}"))
    };
    // The legend's order: process, element, parameter, local, field, function, keyword, text, number, comment, type.
    assert_eq!(kind("UsrT"), 0);
    assert_eq!(kind("Calc {"), 1);
    assert_eq!(kind("Amount}"), 2);
    assert_eq!(kind("k ="), 3);
    assert_eq!(kind("len("), 5);
    assert_eq!(kind("script"), 6);
    assert_eq!(kind("\"é"), 7);
    assert_eq!(kind("Decimal"), 10);
    client.stop();
}

#[test]
fn bad_requests_get_errors_and_the_server_carries_on() {
    let mut client = Client::start();
    let unknown = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": "file:///nowhere.proc" },
                                                                "position": { "line": 0, "character": 0 } }),
    );
    assert!(unknown["error"]["message"].as_str().unwrap().contains("is not open"), "{unknown}");
    let malformed = client.request("textDocument/hover", json!({ "nonsense": true }));
    assert_eq!(malformed["error"]["code"], -32602, "{malformed}");
    let method = client.request("procdsl/nothing", json!({}));
    assert_eq!(method["error"]["code"], -32601);
    // A position far past the end of a document is clamped, not a crash.
    let dir = tempfile::tempdir().unwrap();
    let doc = uri(&dir.path().join("typo.proc"));
    client.open(&doc, TYPO);
    let far = client.request("textDocument/completion", at(&doc, 9999, 9999));
    assert!(far.get("error").is_none(), "{far}");
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn exit_without_shutdown_exits_with_1() {
    let mut client = Client::start();
    client.notify("exit", Value::Null);
    assert_eq!(client.child.wait().unwrap().code(), Some(1));
}

/// What the server says when its input cannot be read as LSP, before the
/// handshake or after it: it exits 1 and its error names what was wrong.
#[test]
fn unreadable_input_ends_the_server_with_an_error_that_names_it() {
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#;
    let framed = format!("Content-Length: {}\r\n\r\n{initialize}", initialize.len());
    let initialized = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
    let initialized = format!("Content-Length: {}\r\n\r\n{initialized}", initialized.len());
    let cases = [
        ("garbage\r\n\r\n".to_string(), "malformed header"),
        ("Content-Type: x\r\n\r\n{}".to_string(), "no Content-Length"),
        ("Content-Length: 5\r\n\r\n{bad}".to_string(), "malformed LSP payload"),
        (format!("{framed}Content-Length: 5\r\n\r\n{{bad}}"), "malformed LSP payload"),
        (format!("{framed}{initialized}Content-Length: 5\r\n\r\n{{bad}}"), "malformed LSP payload"),
    ];
    for (input, named) in cases {
        let mut child = Command::new(env!("CARGO_BIN_EXE_procdsl"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{input:?}: {stderr}");
        assert!(stderr.contains(named), "{input:?} must be named as {named:?}: {stderr}");
    }
}

#[test]
fn hostile_documents_and_edits_leave_the_server_standing() {
    let dir = tempfile::tempdir().unwrap();
    let doc = uri(&dir.path().join("hostile.proc"));
    let mut client = Client::start();
    // One line of 300 KB with a character outside the BMP in it, and many names.
    let long = format!(
        "process UsrLong {{ start B -> C\n script C {{ log \"😀\"; let x = 0; {} }} -> D\n end D }}\n",
        "x = x + 1; y = z; ".repeat(10_000)
    );
    let found = client.open(&doc, &long);
    assert!(!found.is_empty(), "unknown names are reported");
    assert!(found.len() <= 1_000, "{}", found.len());
    let tokens = client.call("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": doc } }));
    assert!(tokens["data"].as_array().unwrap().len() > 10_000 * 5);
    // Brackets nested past the parser's limit: a syntax error, not a crash.
    let deep = format!(
        "process UsrDeep {{ start B -> C\n script C {{ x = {}1{} }} -> D\n end D }}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let found = client.edit(&doc, 2, range((0, 0), (9, 0)), &deep);
    assert!(found.iter().any(|d| d["code"] == "procdsl::syntax"), "{found:?}");
    // Edits past the end, backwards, and into the middle of a surrogate pair.
    client.edit(&doc, 3, range((0, 0), (999, 0)), "process P { script S { log \"😀😀\" } -> S }");
    client.edit(&doc, 4, range((0, 33), (0, 30)), "é");
    client.edit(&doc, 5, range((0, 31), (0, 32)), "x");
    client.edit(&doc, 6, range((50, 7), (90, 1)), "\u{0}\r\r\n{{{{");
    for method in ["textDocument/semanticTokens/full", "textDocument/documentSymbol"] {
        let answer = client.request(method, json!({ "textDocument": { "uri": doc } }));
        assert!(answer.get("error").is_none(), "{answer}");
    }
    for line in 0..3 {
        for character in [0, 1, 30, 31, 32, 33, 1000] {
            for method in ["textDocument/hover", "textDocument/completion", "textDocument/definition"] {
                let answer = client.request(method, at(&doc, line, character));
                assert!(answer.get("error").is_none(), "{method} at {line}:{character}: {answer}");
            }
        }
    }
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn problems_of_an_imported_file_show_at_the_import() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.proc"), LIB.replace("-> Done\n    end", "-> Dnoe\n    end")).unwrap();
    let main = uri(&dir.path().join("main.proc"));
    let mut client = Client::start();
    let found = client.open(&main, MAIN);
    let error =
        found.iter().find(|d| d["code"] == "procdsl::check::unknown_element").expect("the imported file's error");
    assert_eq!(error["range"], range((0, 7), (0, 17)), "at the import: {error}");
    assert!(error["message"].as_str().unwrap().contains("lib.proc: flow to an unknown element `Dnoe`"), "{error}");
    client.stop();
}

#[test]
fn references_reach_open_documents_that_import_this_one() {
    let dir = tempfile::tempdir().unwrap();
    let lib_path = dir.path().canonicalize().unwrap().join("lib.proc");
    std::fs::write(&lib_path, LIB).unwrap();
    let main = uri(&dir.path().canonicalize().unwrap().join("main.proc"));
    let lib = uri(&lib_path);
    let mut client = Client::start();
    client.open(&main, MAIN);
    client.open(&lib, LIB);
    // From the callee's own file: the caller's `call` and its mapping are found.
    let (line, column) = find(LIB, "UsrGreet");
    let places = client.call(
        "textDocument/references",
        json!({ "textDocument": { "uri": lib }, "position": { "line": line, "character": column },
                "context": { "includeDeclaration": false } }),
    );
    let (call_line, call_column) = find(MAIN, "UsrGreet {");
    assert_eq!(
        places,
        json!([{ "uri": main, "range": range((call_line, call_column), (call_line, call_column + 8)) }])
    );
    let (line, column) = find(LIB, "Whom: Text");
    let rename = json!({ "textDocument": { "uri": lib }, "position": { "line": line, "character": column },
                         "newName": "Person" });
    let edit = client.call("textDocument/rename", rename);
    assert_eq!(edit["changes"][&lib].as_array().unwrap().len(), 2, "declaration and use: {edit}");
    assert_eq!(edit["changes"][&main].as_array().unwrap().len(), 1, "the call's input: {edit}");
    client.stop();
}

#[test]
fn names_in_tests_resolve_against_the_started_process() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/approval.proc");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = uri(&path);
    let mut client = Client::start();
    client.open(&doc, &text);
    // `exec Approve { Decision = … }`: the element, then its field.
    let (line, column) = find(&text, "exec Approve");
    let target = client.call("textDocument/definition", at(&doc, line, column + 6));
    assert_eq!(target["range"]["start"]["line"], find(&text, "user Approve").0);
    let (line, column) = find(&text, "Decision = false");
    let target = client.call("textDocument/definition", at(&doc, line, column));
    assert_eq!(target["range"]["start"]["line"], find(&text, "in Decision").0);
    // A parameter in `expect`, and the hover of a field.
    let (line, column) = find(&text, "Approved and Note");
    let target = client.call("textDocument/definition", at(&doc, line, column));
    assert_eq!(target["range"]["start"]["line"], find(&text, "out Approved").0);
    let (line, column) = find(&text, "in Comment");
    let hover = client.call("textDocument/hover", at(&doc, line, column + 4));
    assert!(hover["contents"]["value"].as_str().unwrap().contains("field of user task `Approve`"), "{hover}");
    // Completion after a test's `start`: the processes.
    let (line, column) = find(&text, "start UsrApproval { Amount = 20 }");
    let items = client.call("textDocument/completion", at(&doc, line, column + 6));
    assert_eq!(items[0]["label"], "UsrApproval");
    // prepareRename gives the name's range; a keyword cannot be renamed.
    let (line, column) = find(&text, "Route {");
    let range_of = client.call("textDocument/prepareRename", at(&doc, line, column + 1));
    assert_eq!(range_of, range((line, column), (line, column + 5)));
    let (line, column) = find(&text, "exclusive Route");
    assert!(client.request("textDocument/prepareRename", at(&doc, line, column + 1)).get("error").is_some());
    client.stop();
}
