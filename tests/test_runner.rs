//! The test runner as a library: the step words stay usable as names, odd
//! steps fail with a reason instead of panicking, and results come back in
//! the order the tests are written.

use procdsl::testing::Suite;

fn run(source: &str) -> Vec<(String, Option<String>)> {
    let suite = Suite::from_source("t.proc", source).unwrap_or_else(|e| panic!("{}", e.render(false)));
    suite.run(None, |_| {}).into_iter().map(|r| (r.name, r.failure.map(|f| f.message))).collect()
}

const WORDS: &str = r#"
process UsrWords {
    in  status: Text = "fine"
    in  waiting: Integer = 2
    out passed: Boolean = true
    start Begin -> Done
    end Done
}
"#;

#[test]
fn step_words_are_not_reserved() {
    let source = format!(
        "{WORDS}\ntest \"names\" {{\n    start UsrWords\n    expect status == \"fine\"\n    expect waiting + 1 == 3\n    \
         expect passed\n    expect not (waiting == 3)\n    expect status Completed\n    expect passed Begin\n}}\n"
    );
    assert_eq!(run(&source), vec![("names".to_string(), None)]);
}

#[test]
fn steps_that_cannot_be_done_fail_with_a_reason() {
    let source = format!(
        "{WORDS}
test \"far future\" {{
    now \"9999-12-29T00:00:00Z\"
    start UsrWords
    advance \"P5D\"
}}
test \"past the end of a list\" {{
    start UsrWords {{ status = [\"a\"][3] }}
}}
test \"a value that fails\" {{
    start UsrWords
    expect 1 / 0 == 1
}}
test \"an exec with nothing waiting\" {{
    start UsrWords
    exec Begin[7]
}}
"
    );
    let results = run(&source);
    let names: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["far future", "past the end of a list", "a value that fails", "an exec with nothing waiting"]);
    for (name, failure) in &results {
        let message = failure.as_deref().unwrap_or_else(|| panic!("`{name}` passed"));
        assert!(!message.is_empty());
    }
    assert!(results[0].1.as_deref().unwrap().starts_with("the clock cannot move by"), "{results:?}");
    assert!(results[2].1.as_deref().unwrap().contains("division by zero"), "{results:?}");
    assert_eq!(results[3].1.as_deref(), Some("`Begin` does not wait"));
}

#[test]
fn a_reminder_every_second_for_a_century_is_stopped() {
    let source = r#"
process UsrNag {
    start Begin -> Wait
    user Wait "Wait" -> Done
        every "PT1S" -> Nag
    script Nag { } -> Nagged
    end Nagged
    end Done
}
test "forever" {
    start UsrNag
    advance "P36500D"
}
"#;
    let results = run(source);
    assert!(results[0].1.as_deref().is_some_and(|m| m.contains("timers fired in one `advance`")), "{results:?}");
}

#[test]
fn a_mock_applies_to_instances_started_after_it() {
    let source = r#"
process UsrOuter {
    out Got: Text
    start Begin -> Call
    call Call UsrInner { Value -> Got } -> Done
    end Done
}
process UsrInner {
    out Value: Text = "real"
    start Begin -> Done
    end Done
}
test "before and after" {
    start UsrOuter
    expect Got == "real"
    mock UsrInner { Value = "mocked" }
    start UsrOuter
    expect Got == "mocked"
    mock UsrInner { Value = "again" }
    start UsrOuter
    expect Got == "again"
}
test "a mock of the started process mocks that instance" {
    mock UsrInner waits
    start UsrInner
    expect waiting UsrInner
    exec UsrInner
    expect status Completed
}
test "mocks do not leak into the next test" {
    start UsrOuter
    expect Got == "real"
}
"#;
    assert_eq!(
        run(source),
        vec![
            ("before and after".to_string(), None),
            ("a mock of the started process mocks that instance".to_string(), None),
            ("mocks do not leak into the next test".to_string(), None)
        ]
    );
}

#[test]
fn advance_takes_an_iso_8601_duration_as_a_timer_does() {
    let source = "process P {\n start B -> W\n timer W after \"PT1H\" -> E\n end E\n}\ntest \"t\" {\n start P { }\n advance \"2 hours\"\n}\n";
    let Err(err) = Suite::from_source("t.proc", source) else { panic!("`2 hours` was accepted") };
    let err = err.render(false);
    assert!(err.contains("`2 hours` is not a duration"), "{err}");
}
