//! Deeply nested but valid scripts load and run through the library on an
//! ordinary 2 MiB thread (debug builds included); deeper ones are refused
//! with a message. Nothing overflows the stack.

use procdsl::{Engine, Status};

fn script(body: &str) -> String {
    format!("process P {{\n out X: Integer\n start B -> S\n script S {{ {body} }} -> E\n end E\n}}\n")
}

/// Loads and runs on a fresh 2 MiB thread; the status, or the load error.
fn outcome(body: String) -> Result<Status, String> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let engine = Engine::from_source("deep.proc", &script(&body)).map_err(|e| e.to_string())?;
            let d = engine.execute("P", Vec::<(String, String)>::new()).map_err(|e| e.to_string())?;
            Ok(d.status)
        })
        .expect("a thread")
        .join()
        .expect("no panic, no overflow")
}

#[test]
fn long_operator_chains_load_and_run() {
    assert_eq!(outcome(format!("X = {}", vec!["1"; 999].join(" + "))), Ok(Status::Completed));
    assert_eq!(outcome(format!("X = {}", vec!["1"; 999].join(" ?? "))), Ok(Status::Completed));
    assert_eq!(outcome(format!("let b = {}", vec!["true"; 999].join(" and "))), Ok(Status::Completed));
}

#[test]
fn long_prefix_and_postfix_chains_load_and_run() {
    assert_eq!(outcome(format!("X = {}1", "- ".repeat(250))), Ok(Status::Completed));
    assert_eq!(outcome(format!("let b = {}true", "not ".repeat(250))), Ok(Status::Completed));
    // `o.a.a.a…` fails at run time (an Integer has no attributes), but it runs.
    assert_eq!(outcome(format!("let o = {{a: 1}}; X = o{}", ".a".repeat(900))), Ok(Status::Failed));
}

#[test]
fn nested_blocks_and_calls_load_and_run() {
    assert_eq!(outcome(format!("{}X = 1{}", "if true { ".repeat(120), " }".repeat(120))), Ok(Status::Completed));
    assert_eq!(outcome(format!("X = {}1{}", "abs(".repeat(120), ")".repeat(120))), Ok(Status::Completed));
}

#[test]
fn conditionals_nested_to_the_limit_load_and_run() {
    // 78 brackets, each holding an open `if`, inside the process and the
    // script: 158 open, about the most the limit (160) allows.
    let body = format!("X = {}1{}", "(if true then ".repeat(78), " else 2)".repeat(78));
    assert_eq!(outcome(body), Ok(Status::Completed));
    let chain = format!("X = {}0", (0..155).map(|i| format!("if X == {i} then {i} else ")).collect::<String>());
    assert_eq!(outcome(chain), Ok(Status::Completed));
}

#[test]
fn too_many_open_conditionals_are_a_clear_error() {
    let err = outcome(format!("X = {}1", "if true then ".repeat(300))).unwrap_err();
    assert!(err.contains("too deeply nested"), "{err}");
    let err = outcome(format!("X = {}", "if ".repeat(100_000))).unwrap_err();
    assert!(err.contains("too deeply nested"), "{err}");
}

#[test]
fn too_deep_is_a_clear_error() {
    let err = outcome(format!("X = {}1{}", "(".repeat(200), ")".repeat(200))).unwrap_err();
    assert!(err.contains("too deeply nested"), "{err}");
    let err = outcome(format!("X = {}", vec!["1"; 1500].join(" + "))).unwrap_err();
    assert!(err.contains("nested too deeply"), "{err}");
    let err = outcome(format!("let l = {}1{}", "[".repeat(100), "]".repeat(100))).unwrap_err();
    assert!(err.contains("64 levels"), "{err}");
}
