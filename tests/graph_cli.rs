//! `procdsl graph`: a process drawn as Mermaid or Graphviz, with gateway
//! conditions and `on error` flows on the arrows.

use std::process::{Command, Output};

fn graph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .arg("graph")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn mermaid_shows_every_element_and_the_conditions() {
    let out = graph(&["examples/approval.proc"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("flowchart LR"), "{text}");
    for node in [
        r#"e0(("start Begin"))"#,
        r#"e1{"exclusive Route"}"#,
        r#"e2(["user Approve<br/>Approve the order"])"#,
        r#"e4(("end Done"))"#,
    ] {
        assert!(text.contains(node), "missing {node} in\n{text}");
    }
    assert!(text.contains(r#"e1 -->|"Amount > 1000"| e2"#), "{text}");
    assert!(text.contains(r#"e1 -->|"else"| e3"#), "{text}");
}

#[test]
fn dot_shows_calls_and_error_flows() {
    let out = graph(&["examples/order_approval.proc", "--format", "dot"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("digraph \"UsrOrderApproval\" {"), "{text}");
    assert!(text.contains("call Ship\\n→ UsrShipOrder"), "{text}");
    assert!(text.contains("[label=\"on error\", style=dashed]"), "{text}");
    assert!(text.trim_end().ends_with('}'));
}

#[test]
fn svg_and_unknown_formats_and_processes_are_refused() {
    let out = graph(&["examples/approval.proc", "--format", "svg"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dot -Tsvg"));
    let out = graph(&["examples/approval.proc", "--process", "UsrApprovl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `UsrApproval`"));
}
