//! `procdsl test` through the binary: exit codes, filter, JUnit structure,
//! coverage of the examples, and parallel runs giving the sequential results.

use std::path::Path;
use std::process::{Command, Output};

fn procdsl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_examples_tests_pass_and_cover_every_element_and_flow() {
    let out = procdsl(root(), &["test", "examples/", "--coverage", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    let json_start = text.find("\n{").expect("the coverage JSON") + 1;
    let report: serde_json::Value = serde_json::from_str(&text[json_start..]).expect("JSON");
    let processes = report["processes"].as_array().expect("processes");
    assert!(processes.len() >= 10, "{report}");
    for p in processes {
        assert_eq!(p["share"], 1.0, "not fully covered: {p}");
        assert_eq!(p["elementsNotPassed"], serde_json::json!([]));
        assert_eq!(p["flowsNotPassed"], serde_json::json!([]));
    }
    assert_eq!(report["share"], 1.0);
    assert!(text.lines().any(|l| l.ends_with(" passed, 0 failed")), "{text}");
}

#[test]
fn coverage_names_what_no_test_passed() {
    let out = procdsl(root(), &["test", "examples/approval.proc", "--coverage", "--filter", "small"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("1 passed, 0 failed"), "{text}");
    assert!(text.contains("UsrApproval: 4/5 elements, 3/5 flows (70 %)"), "{text}");
    assert!(text.contains("  elements not passed: Approve\n"), "{text}");
    assert!(text.contains("  flows not passed: Route -> Approve, Approve -> Done\n"), "{text}");
}

#[test]
fn exit_codes_one_for_a_failure_two_for_a_file_that_does_not_check() {
    let dir = tempfile::tempdir().unwrap();
    let process = "process P {\n    out X: Integer = 1\n    start Begin -> Done\n    end Done\n}\n";
    std::fs::write(
        dir.path().join("good.proc"),
        format!("{process}test \"one\" {{\n    start P\n    expect X == 1\n}}\n"),
    )
    .unwrap();
    let good = procdsl(dir.path(), &["test"]);
    assert_eq!(good.status.code(), Some(0));
    assert_eq!(stdout(&good), "ok   good.proc: one\n1 passed, 0 failed\n");

    std::fs::write(
        dir.path().join("bad.proc"),
        format!("{process}test \"two\" {{\n    start P\n    expect X == 2\n}}\n"),
    )
    .unwrap();
    let bad = procdsl(dir.path(), &["test"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stdout(&bad).contains("FAIL bad.proc: two\n"), "{}", stdout(&bad));
    assert!(stdout(&bad).ends_with("1 passed, 1 failed\n"));

    std::fs::write(dir.path().join("broken.proc"), "test \"three\" {\n    start Nope\n}\n").unwrap();
    let broken = procdsl(dir.path(), &["test"]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("unknown process `Nope`"));
    assert_eq!(stdout(&broken), "", "no test runs when a file does not check");
}

/// The JUnit XML has the elements and attributes of the JUnit schema
/// (testsuites > testsuite > testcase > failure) that CI systems read.
#[test]
fn junit_has_the_schemas_structure() {
    let dir = tempfile::tempdir().unwrap();
    let xml_path = dir.path().join("results.xml");
    let cases = root().join("tests/cases/test");
    let out = procdsl(&cases, &["test", "steps_pass.proc", "steps_fail.proc", "--junit", xml_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let suites = doc.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    let number = |n: roxmltree::Node, a: &str| -> usize { n.attribute(a).and_then(|v| v.parse().ok()).expect(a) };
    assert_eq!(number(suites, "tests"), 19);
    assert_eq!(number(suites, "failures"), 14);
    let files: Vec<_> = suites.children().filter(|n| n.is_element()).collect();
    assert_eq!(files.len(), 2);
    for suite in &files {
        assert_eq!(suite.tag_name().name(), "testsuite");
        for attribute in ["name", "tests", "failures", "errors", "time"] {
            assert!(suite.attribute(attribute).is_some(), "testsuite lacks {attribute}");
        }
        let cases: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
        assert_eq!(cases.len(), number(*suite, "tests"));
        let mut failed = 0;
        for case in cases {
            assert_eq!(case.tag_name().name(), "testcase");
            for attribute in ["name", "classname", "time", "file", "line"] {
                assert!(case.attribute(attribute).is_some(), "testcase lacks {attribute}");
            }
            assert!(case.attribute("time").unwrap().parse::<f64>().is_ok());
            if let Some(failure) = case.children().find(|n| n.is_element()) {
                assert_eq!(failure.tag_name().name(), "failure");
                let message = failure.attribute("message").expect("a failure message");
                assert!(message.contains(".proc:"), "the message names the place: {message}");
                assert!(failure.text().unwrap_or("").contains("procdsl::test::failed"));
                failed += 1;
            }
        }
        assert_eq!(failed, number(*suite, "failures"));
    }
    let exec = files[1]
        .children()
        .find(|n| n.attribute("name") == Some("exec of an element that does not wait"))
        .expect("the testcase");
    assert_eq!(exec.attribute("line"), Some("27"));
    let failure = exec.children().find(|n| n.is_element()).unwrap();
    assert_eq!(failure.attribute("message"), Some("`First` does not wait (steps_fail.proc:29:5)"));
}

#[test]
fn in_parallel_every_test_gives_the_result_it_gives_alone() {
    let cases = root().join("tests/cases/test");
    let sorted = |out: &Output| {
        let mut lines: Vec<String> =
            stdout(out).lines().filter(|l| l.starts_with("ok ") || l.starts_with("FAIL ")).map(String::from).collect();
        lines.sort();
        lines
    };
    let one = procdsl(&cases, &["test", "-j", "1"]);
    let many = procdsl(&cases, &["test", "-j", "8"]);
    assert_eq!(sorted(&one), sorted(&many));
    assert!(sorted(&one).len() >= 25);
}
